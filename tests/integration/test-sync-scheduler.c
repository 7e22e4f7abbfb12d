/* test-sync-scheduler.c: LbSyncScheduler against the harness's Dovecot:
 * an IMAP account opened, synced and kept up to date over IDLE with new
 * mail reported once; a POP3 account checked; a wrong password and an
 * untrusted certificate reported and retried; offline from the network
 * monitor and from unreachable servers; accounts removed, closed and
 * reopened, and the scheduler stopped in the middle of its work.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "lb-account-manager.h"
#include "lb-imap-client.h"
#include "lb-imap-provider.h"
#include "lb-secrets.h"
#include "lb-sync-scheduler.h"
#include "lb-test-monitor.h"
#include "lb-test-proxy.h"
#include "lb-test-session.h"

#define ALICE          "alice@example.test"
#define ALICE_PASSWORD "alicepass"
#define BOB            "bob@example.test"
#define BOB_PASSWORD   "bobpass"

/* ------------------------------------------------------------------ waiting */

/* Runs the main context until @cond holds, failing after @seconds. */
#define WAIT_UNTIL(cond, seconds, what)                                         \
  G_STMT_START {                                                                \
    gint64 wait_deadline_ = g_get_monotonic_time () + (seconds) * G_USEC_PER_SEC; \
    while (!(cond))                                                             \
      {                                                                         \
        if (g_get_monotonic_time () > wait_deadline_)                           \
          g_error ("Timed out waiting for %s", what);                           \
        lb_test_spin (20);                                                              \
      }                                                                         \
  } G_STMT_END

/* ------------------------------------------------------------------ the server, seen by another client */

static char *
make_message (const char *to,
              const char *subject)
{
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strdup_printf ("From: Carol Example <carol@example.test>\r\nTo: %s\r\nSubject: %s\r\n"
                          "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
                          "Message-ID: <%s@letterbox.test>\r\nMIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                          "The text of %s.\r\n",
                          to, subject, uuid, subject);
}

/* Another client puts a message into @user's INBOX, with @flags
 * (an IMAP flag list, or NULL). */
static void
server_append (const char *user,
               const char *password,
               const char *subject,
               const char *flags)
{
  g_autoptr(LbTestSession) session = lb_test_session_imap_login (user, password);
  g_autofree char *message = make_message (user, subject);

  lb_test_session_send (session, "A APPEND INBOX %s%s{%zu}", flags != NULL ? flags : "", flags != NULL ? " " : "",
                        strlen (message));
  lb_test_session_expect (session, "+");
  lb_test_session_write (session, message, strlen (message));
  lb_test_session_write (session, "\r\n", 2);
  lb_test_session_expect_tagged_ok (session, "A");
  lb_test_session_imap_ok (session, "LOGOUT");
}

static void
server_empty (const char *user,
              const char *password)
{
  g_autoptr(LbTestSession) session = lb_test_session_imap_login (user, password);

  lb_test_session_imap_ok (session, "SELECT INBOX");
  /* an empty mailbox has nothing to store to: the answer may be NO */
  lb_test_session_send (session, "X STORE 1:* +FLAGS.SILENT (\\Deleted)");
  g_free (lb_test_session_read_until (session, "X "));
  lb_test_session_imap_ok (session, "EXPUNGE");
  lb_test_session_imap_ok (session, "LOGOUT");
}

/* The fingerprint of the harness's certificate, which the system does
 * not trust: the user pins it. */
static char *
server_fingerprint (void)
{
  g_autoptr(GTlsCertificate) certificate = lb_test_untrusted_certificate ("LB_TEST_IMAPS_PORT");

  return lb_account_certificate_fingerprint (certificate);
}

/* A port on 127.0.0.1 nothing listens on. */
static guint16
closed_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);
  return port;
}

/* ------------------------------------------------------------------ the client side */

typedef struct
{
  guint    changed;        /* account-changed signals */
  gboolean was_busy;       /* get_busy() was TRUE in one */
  gboolean idle_after;     /* and FALSE in a later one */
  gboolean had_error;      /* get_error() was set in one */
} Record;

typedef struct
{
  char             *dir;
  LbAccountManager *manager;
  LbTestMonitor      *monitor;
  LbSyncScheduler  *scheduler;
  GHashTable       *records;    /* account id -> Record */
  GPtrArray        *new_mail;   /* "id: subject" */
  guint             offline_notifies;
  char             *fingerprint;
} Fixture;

static Record *
record_for (Fixture   *fixture,
            LbAccount *account)
{
  Record *record = g_hash_table_lookup (fixture->records, lb_account_get_id (account));

  if (record == NULL)
    {
      record = g_new0 (Record, 1);
      g_hash_table_insert (fixture->records, g_strdup (lb_account_get_id (account)), record);
    }
  return record;
}

static void
account_changed_cb (LbSyncScheduler *scheduler,
                    LbAccount       *account,
                    Fixture         *fixture)
{
  Record *record = record_for (fixture, account);

  record->changed++;
  if (lb_sync_scheduler_get_busy (scheduler, account))
    record->was_busy = TRUE;
  else if (record->was_busy)
    record->idle_after = TRUE;
  if (lb_sync_scheduler_get_error (scheduler, account) != NULL)
    record->had_error = TRUE;
}

static void
new_mail_cb (LbSyncScheduler *scheduler,
             LbAccount       *account,
             GPtrArray       *summaries,
             Fixture         *fixture)
{
  g_assert_cmpuint (summaries->len, >, 0);
  for (guint i = 0; i < summaries->len; i++)
    {
      LbMessageSummary *summary = summaries->pdata[i];

      g_assert_cmpuint (summary->flags & LB_MESSAGE_SEEN, ==, 0);
      g_ptr_array_add (fixture->new_mail, g_strdup_printf ("%s: %s", lb_account_get_id (account), summary->subject));
    }
}

static void
offline_cb (GObject    *object,
            GParamSpec *pspec,
            Fixture    *fixture)
{
  fixture->offline_notifies++;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;
  g_autofree char *local = NULL;

  fixture->dir = g_dir_make_tmp ("lb-sync-scheduler-XXXXXX", &error);
  g_assert_no_error (error);
  config = g_build_filename (fixture->dir, "config", NULL);
  local = g_build_filename (fixture->dir, "data", NULL);
  fixture->manager = lb_account_manager_new (config, local);
  fixture->monitor = lb_test_monitor_new ();
  fixture->scheduler = lb_sync_scheduler_new (fixture->manager, G_NETWORK_MONITOR (fixture->monitor));
  fixture->records = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  fixture->new_mail = g_ptr_array_new_with_free_func (g_free);
  fixture->fingerprint = server_fingerprint ();
  g_signal_connect (fixture->scheduler, "account-changed", G_CALLBACK (account_changed_cb), fixture);
  g_signal_connect (fixture->scheduler, "new-mail", G_CALLBACK (new_mail_cb), fixture);
  g_signal_connect (fixture->scheduler, "notify::offline", G_CALLBACK (offline_cb), fixture);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  GListModel *accounts = G_LIST_MODEL (fixture->manager);
  g_autoptr(GPtrArray) weak = g_ptr_array_new_with_free_func (g_free);

  if (fixture->scheduler != NULL)
    {
      lb_sync_scheduler_stop (fixture->scheduler);
      /* a new-mail lookup still on its way holds it for a moment */
      lb_test_spin (200);
      g_assert_finalize_object (g_steal_pointer (&fixture->scheduler));
    }

  /* each account closes, its store goes: nothing the scheduler started
   * still holds it */
  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(LbAccount) account = g_list_model_get_item (accounts, i);
      gpointer *pointer = g_new0 (gpointer, 1);

      *pointer = account;
      g_object_add_weak_pointer (G_OBJECT (account), pointer);
      g_ptr_array_add (weak, pointer);
      if (lb_account_get_opened (account))
        {
          g_autoptr(LbStore) store = g_object_ref (lb_account_get_store (account));

          lb_account_close (account);
          lb_test_finalize_store (g_steal_pointer (&store));
        }
    }
  g_assert_finalize_object (g_steal_pointer (&fixture->manager));
  lb_test_spin (100);
  for (guint i = 0; i < weak->len; i++)
    g_assert_null (*(gpointer *) weak->pdata[i]);

  g_assert_finalize_object (g_steal_pointer (&fixture->monitor));
  g_clear_pointer (&fixture->records, g_hash_table_unref);
  g_clear_pointer (&fixture->new_mail, g_ptr_array_unref);
  g_clear_pointer (&fixture->fingerprint, g_free);
  lb_test_remove_tree (fixture->dir);
  g_clear_pointer (&fixture->dir, g_free);
}

static void
store_password (LbAccount  *account,
                const char *password)
{
  g_autoptr(LbSecrets) secrets = lb_secrets_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbSecretKey key = {
    lb_account_get_id (account),
    lb_incoming_protocol_to_string (lb_account_get_incoming_protocol (account)),
    lb_account_get_incoming_host (account), lb_account_get_incoming_user (account)
  };

  lb_secrets_store_async (secrets, &key, "Letterbox test", password, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_secrets_store_finish (secrets, result, &error));
  g_assert_no_error (error);
}

/* An account of the manager, its password in the keyring; @fingerprint
 * NULL leaves the server's certificate untrusted. Returns (transfer none). */
static LbAccount *
add_account (Fixture            *fixture,
             const char         *id,
             const char         *user,
             const char         *password,
             LbIncomingProtocol  protocol,
             guint16             port,
             const char         *fingerprint)
{
  g_autoptr(LbAccount) account = lb_account_new (id);
  g_autoptr(LbIdentity) identity = lb_identity_new ("Test", user);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *host = lb_test_getenv ("LB_TEST_HOST");

  lb_account_set_display_name (account, user);
  lb_account_add_identity (account, identity);
  lb_account_set_incoming_protocol (account, protocol);
  lb_account_set_incoming_host (account, host);
  lb_account_set_incoming_port (account, port);
  lb_account_set_incoming_security (account, LB_NET_SECURITY_TLS);
  lb_account_set_incoming_user (account, user);
  if (fingerprint != NULL)
    lb_account_pin_certificate (account, host, port, fingerprint);
  store_password (account, password);

  lb_account_manager_add_async (fixture->manager, account, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_account_manager_add_finish (fixture->manager, result, &error));
  g_assert_no_error (error);
  return lb_account_manager_lookup (fixture->manager, id);
}

static void
remove_account (Fixture   *fixture,
                LbAccount *account)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_account_manager_remove_async (fixture->manager, account, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_account_manager_remove_finish (fixture->manager, result, &error));
  g_assert_no_error (error);
}

static guint
inbox_total (LbAccount *account)
{
  LbFolder *inbox = lb_account_get_inbox (account);

  return inbox != NULL ? lb_folder_get_total_count (inbox) : 0;
}

static LbFolder *
find_folder (LbAccount  *account,
             const char *path)
{
  GListModel *folders = lb_account_get_folders (account);

  for (guint i = 0; i < g_list_model_get_n_items (folders); i++)
    {
      g_autoptr(LbFolder) folder = g_list_model_get_item (folders, i);

      if (g_strcmp0 (lb_folder_get_path (folder), path) == 0)
        return folder;
    }
  return NULL;
}

/* The account synced: its Inbox has @total messages, and nothing runs. */
#define WAIT_SYNCED(fixture, account, total)                                   \
  WAIT_UNTIL (inbox_total (account) == (total) &&                              \
              !lb_sync_scheduler_get_busy ((fixture)->scheduler, (account)) && \
              record_for ((fixture), (account))->idle_after,                   \
              30, "the account to be synced")

/* ------------------------------------------------------------------ (1) IMAP */

static void
test_imap (Fixture       *fixture,
           gconstpointer  data)
{
  LbAccount *account;
  Record *record;

  server_empty (ALICE, ALICE_PASSWORD);
  server_append (ALICE, ALICE_PASSWORD, "Old one", NULL);
  server_append (ALICE, ALICE_PASSWORD, "Old two", NULL);

  account = add_account (fixture, "imap", ALICE, ALICE_PASSWORD, LB_INCOMING_IMAP,
                         lb_test_port ("LB_TEST_IMAPS_PORT"), fixture->fingerprint);
  /* nothing before start */
  lb_test_spin (200);
  g_assert_false (lb_account_get_opened (account));
  g_assert_false (lb_sync_scheduler_get_busy (fixture->scheduler, account));

  lb_sync_scheduler_start (fixture->scheduler);
  g_assert_true (lb_sync_scheduler_get_busy (fixture->scheduler, account));
  WAIT_SYNCED (fixture, account, 2);
  record = record_for (fixture, account);
  g_assert_true (record->was_busy);
  g_assert_cmpuint (record->changed, >=, 2);
  g_assert_false (record->had_error);
  g_assert_null (lb_sync_scheduler_get_error (fixture->scheduler, account));
  g_assert_false (lb_sync_scheduler_get_offline (fixture->scheduler));
  g_assert_null (lb_sync_scheduler_dup_rejected_certificate (fixture->scheduler, account, NULL, NULL, NULL));
  /* the first sync is not new mail */
  lb_test_spin (300);
  g_assert_cmpuint (fixture->new_mail->len, ==, 0);

  /* another client delivers: IDLE brings it, reported once */
  server_append (ALICE, ALICE_PASSWORD, "Fresh news", NULL);
  WAIT_UNTIL (fixture->new_mail->len > 0, 30, "new mail over IDLE");
  g_assert_cmpstr (fixture->new_mail->pdata[0], ==, "imap: Fresh news");
  g_assert_cmpuint (inbox_total (account), ==, 3);
  lb_test_spin (1500);
  g_assert_cmpuint (fixture->new_mail->len, ==, 1);

  /* read elsewhere before it came: not news */
  server_append (ALICE, ALICE_PASSWORD, "Already read", "(\\Seen)");
  WAIT_UNTIL (inbox_total (account) == 4, 30, "the read message over IDLE");
  lb_test_spin (500);
  g_assert_cmpuint (fixture->new_mail->len, ==, 1);

  /* a sync on demand finds nothing new */
  lb_sync_scheduler_sync_now (fixture->scheduler, account);
  g_assert_true (lb_sync_scheduler_get_busy (fixture->scheduler, account));
  WAIT_UNTIL (!lb_sync_scheduler_get_busy (fixture->scheduler, account), 30, "the sync on demand");
  g_assert_cmpuint (fixture->new_mail->len, ==, 1);
  g_assert_null (lb_sync_scheduler_get_error (fixture->scheduler, account));
}

/* a message moved out of the Inbox and back is not new; the folder shown
 * is watched with IDLE */
static void
test_imap_move_back_and_shown_folder (Fixture       *fixture,
                                      gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(LbTestSession) session = NULL;
  LbAccount *account;
  LbFolder *archive;
  LbProvider *provider;
  gint64 key;

  server_empty (ALICE, ALICE_PASSWORD);
  session = lb_test_session_imap_login (ALICE, ALICE_PASSWORD);
  lb_test_session_send (session, "D DELETE Archive");
  g_free (lb_test_session_read_until (session, "D "));
  lb_test_session_imap_ok (session, "CREATE Archive");
  lb_test_session_imap_ok (session, "LOGOUT");
  g_clear_pointer (&session, lb_test_session_free);

  account = add_account (fixture, "moves", ALICE, ALICE_PASSWORD, LB_INCOMING_IMAP,
                         lb_test_port ("LB_TEST_IMAPS_PORT"), fixture->fingerprint);
  lb_sync_scheduler_start (fixture->scheduler);
  WAIT_SYNCED (fixture, account, 0);
  server_append (ALICE, ALICE_PASSWORD, "Move me", NULL);
  WAIT_UNTIL (fixture->new_mail->len == 1, 30, "new mail over IDLE");
  g_assert_cmpstr (fixture->new_mail->pdata[0], ==, "moves: Move me");

  /* out to Archive and back, as an undo does */
  archive = find_folder (account, "Archive");
  g_assert_nonnull (archive);
  provider = lb_account_get_provider (account);
  {
    g_autoptr(GAsyncResult) listed = NULL;
    g_autoptr(GPtrArray) messages = NULL;
    LbStore *store = lb_account_get_store (account);

    lb_store_list_messages_async (store, lb_folder_get_id (lb_account_get_inbox (account)), 0, 10, NULL,
                                  lb_test_store_result, &listed);
    lb_test_wait (&listed);
    messages = lb_store_list_messages_finish (store, listed, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (messages->len, ==, 1);
    key = ((LbMessageSummary *) messages->pdata[0])->key;
  }
  g_array_append_val (keys, key);
  lb_provider_move_async (provider, keys, lb_folder_get_id (archive), NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_move_finish (provider, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  WAIT_UNTIL (inbox_total (account) == 0, 10, "the message to leave the Inbox");
  lb_provider_move_async (provider, keys, lb_folder_get_id (lb_account_get_inbox (account)), NULL,
                          lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_move_finish (provider, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  WAIT_UNTIL (inbox_total (account) == 1, 10, "the message to come back");
  lb_test_spin (1500);
  g_assert_cmpuint (fixture->new_mail->len, ==, 1);

  /* the folder shown: another client's message there arrives by itself,
   * and mail outside an Inbox is not news */
  lb_sync_scheduler_set_shown_folder (fixture->scheduler, account, archive);
  lb_test_spin (1000);
  session = lb_test_session_imap_login (ALICE, ALICE_PASSWORD);
  {
    g_autofree char *message = make_message (ALICE, "Filed elsewhere");

    lb_test_session_send (session, "A APPEND Archive {%zu}", strlen (message));
    lb_test_session_expect (session, "+");
    lb_test_session_write (session, message, strlen (message));
    lb_test_session_write (session, "\r\n", 2);
    lb_test_session_expect_tagged_ok (session, "A");
  }
  lb_test_session_imap_ok (session, "LOGOUT");
  WAIT_UNTIL (lb_folder_get_total_count (archive) == 1, 30, "the shown folder to follow the server");
  lb_test_spin (300);
  g_assert_cmpuint (fixture->new_mail->len, ==, 1);
}

/* ------------------------------------------------------------------ (2) POP3 */

static void
test_pop3 (Fixture       *fixture,
           gconstpointer  data)
{
  LbAccount *account;

  server_empty (BOB, BOB_PASSWORD);
  server_append (BOB, BOB_PASSWORD, "Waiting already", NULL);

  account = add_account (fixture, "pop3", BOB, BOB_PASSWORD, LB_INCOMING_POP3,
                         lb_test_port ("LB_TEST_POP3S_PORT"), fixture->fingerprint);
  lb_account_set_poll_minutes (account, 0);
  lb_sync_scheduler_start (fixture->scheduler);
  WAIT_SYNCED (fixture, account, 1);
  g_assert_null (lb_sync_scheduler_get_error (fixture->scheduler, account));
  g_assert_cmpuint (fixture->new_mail->len, ==, 0);

  /* poll-minutes 0: no check by itself (a timer of 0 s would check at once) */
  server_append (BOB, BOB_PASSWORD, "Second letter", NULL);
  lb_test_spin (3000);
  g_assert_cmpuint (inbox_total (account), ==, 1);
  g_assert_false (lb_sync_scheduler_get_busy (fixture->scheduler, account));
  g_assert_cmpuint (fixture->new_mail->len, ==, 0);

  lb_sync_scheduler_sync_now (fixture->scheduler, NULL);
  g_assert_true (lb_sync_scheduler_get_busy (fixture->scheduler, account));
  WAIT_UNTIL (fixture->new_mail->len > 0, 30, "the second check");
  g_assert_cmpuint (fixture->new_mail->len, ==, 1);
  g_assert_cmpstr (fixture->new_mail->pdata[0], ==, "pop3: Second letter");
  WAIT_UNTIL (!lb_sync_scheduler_get_busy (fixture->scheduler, account), 30, "the check to end");
  g_assert_cmpuint (inbox_total (account), ==, 2);
}

/* ------------------------------------------------------------------ (3) wrong password */

static void
test_wrong_password (Fixture       *fixture,
                     gconstpointer  data)
{
  LbAccount *account;
  const GError *error;
  Record *record;

  server_empty (ALICE, ALICE_PASSWORD);
  server_append (ALICE, ALICE_PASSWORD, "Behind a password", NULL);

  account = add_account (fixture, "wrong", ALICE, "not-the-password", LB_INCOMING_IMAP,
                         lb_test_port ("LB_TEST_IMAPS_PORT"), fixture->fingerprint);
  lb_sync_scheduler_start (fixture->scheduler);
  WAIT_UNTIL (lb_sync_scheduler_get_error (fixture->scheduler, account) != NULL &&
              !lb_sync_scheduler_get_busy (fixture->scheduler, account), 30, "the login to fail");
  record = record_for (fixture, account);
  g_assert_true (record->had_error);
  error = lb_sync_scheduler_get_error (fixture->scheduler, account);
  g_test_message ("wrong password: %s", error->message);
  g_assert_error ((GError *) error, LB_IMAP_ERROR, LB_IMAP_ERROR_AUTHENTICATION);
  g_assert_nonnull (strstr (error->message, "log in"));
  g_assert_nonnull (strstr (error->message, ALICE));
  g_assert_nonnull (strstr (error->message, "password"));
  /* it is the account's fault, not the network's */
  g_assert_false (lb_sync_scheduler_get_offline (fixture->scheduler));
  g_assert_null (lb_sync_scheduler_dup_rejected_certificate (fixture->scheduler, account, NULL, NULL, NULL));
  g_assert_cmpuint (inbox_total (account), ==, 0);

  /* the user types the right one */
  store_password (account, ALICE_PASSWORD);
  record->changed = 0;
  lb_sync_scheduler_retry (fixture->scheduler, account);
  g_assert_null (lb_sync_scheduler_get_error (fixture->scheduler, account));
  g_assert_cmpuint (record->changed, >, 0);
  record->idle_after = FALSE;
  WAIT_SYNCED (fixture, account, 1);
  g_assert_null (lb_sync_scheduler_get_error (fixture->scheduler, account));
  /* the first sync that worked is not news either */
  lb_test_spin (300);
  g_assert_cmpuint (fixture->new_mail->len, ==, 0);
}

/* a POP3 account's first check that works, after a wrong password, is
 * not news either */
static void
test_pop3_wrong_password (Fixture       *fixture,
                          gconstpointer  data)
{
  LbAccount *account;

  server_empty (BOB, BOB_PASSWORD);
  server_append (BOB, BOB_PASSWORD, "Old POP3 mail", NULL);

  account = add_account (fixture, "pop3-wrong", BOB, "wrong", LB_INCOMING_POP3,
                         lb_test_port ("LB_TEST_POP3S_PORT"), fixture->fingerprint);
  lb_account_set_poll_minutes (account, 0);
  lb_sync_scheduler_start (fixture->scheduler);
  WAIT_UNTIL (lb_sync_scheduler_get_error (fixture->scheduler, account) != NULL &&
              !lb_sync_scheduler_get_busy (fixture->scheduler, account), 30, "the login to fail");
  g_test_message ("wrong POP3 password: %s", lb_sync_scheduler_get_error (fixture->scheduler, account)->message);
  g_assert_nonnull (strstr (lb_sync_scheduler_get_error (fixture->scheduler, account)->message, "password"));

  store_password (account, BOB_PASSWORD);
  lb_sync_scheduler_retry (fixture->scheduler, account);
  WAIT_UNTIL (inbox_total (account) == 1 && !lb_sync_scheduler_get_busy (fixture->scheduler, account), 30,
              "the check after the retry");
  g_assert_null (lb_sync_scheduler_get_error (fixture->scheduler, account));
  lb_test_spin (300);
  g_assert_cmpuint (fixture->new_mail->len, ==, 0);
}

/* ------------------------------------------------------------------ (4) untrusted certificate */

static void
test_untrusted_certificate (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autofree char *host = NULL;
  g_autofree char *fingerprint = NULL;
  GTlsCertificateFlags errors = 0;
  guint16 port = 0;
  LbAccount *account;

  server_empty (ALICE, ALICE_PASSWORD);
  server_append (ALICE, ALICE_PASSWORD, "Behind a certificate", NULL);

  account = add_account (fixture, "untrusted", ALICE, ALICE_PASSWORD, LB_INCOMING_IMAP,
                         lb_test_port ("LB_TEST_IMAPS_PORT"), NULL);
  lb_sync_scheduler_start (fixture->scheduler);
  WAIT_UNTIL (lb_sync_scheduler_get_error (fixture->scheduler, account) != NULL &&
              !lb_sync_scheduler_get_busy (fixture->scheduler, account), 30, "the certificate to be refused");
  g_assert_error ((GError *) lb_sync_scheduler_get_error (fixture->scheduler, account),
                  G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_false (lb_sync_scheduler_get_offline (fixture->scheduler));

  certificate = lb_sync_scheduler_dup_rejected_certificate (fixture->scheduler, account, &host, &port, &errors);
  g_assert_nonnull (certificate);
  g_assert_cmpstr (host, ==, lb_test_getenv ("LB_TEST_HOST"));
  g_assert_cmpuint (port, ==, lb_test_port ("LB_TEST_IMAPS_PORT"));
  g_assert_cmpuint (errors, !=, 0);
  fingerprint = lb_account_certificate_fingerprint (certificate);
  g_assert_cmpstr (fingerprint, ==, fixture->fingerprint);

  /* the user checked it and pins it */
  lb_account_pin_certificate (account, host, port, fingerprint);
  lb_sync_scheduler_retry (fixture->scheduler, account);
  WAIT_SYNCED (fixture, account, 1);
  g_assert_null (lb_sync_scheduler_get_error (fixture->scheduler, account));
  g_assert_null (lb_sync_scheduler_dup_rejected_certificate (fixture->scheduler, account, NULL, NULL, NULL));
}

/* ------------------------------------------------------------------ (5) offline */

static void
test_offline_network (Fixture       *fixture,
                      gconstpointer  data)
{
  LbAccount *account;

  server_empty (BOB, BOB_PASSWORD);
  account = add_account (fixture, "net", BOB, BOB_PASSWORD, LB_INCOMING_POP3,
                         lb_test_port ("LB_TEST_POP3S_PORT"), fixture->fingerprint);
  lb_account_set_poll_minutes (account, 0);
  lb_sync_scheduler_start (fixture->scheduler);
  WAIT_SYNCED (fixture, account, 0);
  g_assert_false (lb_sync_scheduler_get_offline (fixture->scheduler));
  g_assert_cmpuint (fixture->offline_notifies, ==, 0);

  lb_test_monitor_set_available (fixture->monitor, FALSE);
  g_assert_true (lb_sync_scheduler_get_offline (fixture->scheduler));
  g_assert_cmpuint (fixture->offline_notifies, ==, 1);
  /* said once */
  lb_test_monitor_set_available (fixture->monitor, FALSE);
  g_assert_cmpuint (fixture->offline_notifies, ==, 1);

  lb_test_monitor_set_available (fixture->monitor, TRUE);
  g_assert_false (lb_sync_scheduler_get_offline (fixture->scheduler));
  g_assert_cmpuint (fixture->offline_notifies, ==, 2);
}

static void
test_offline_unreachable (Fixture       *fixture,
                          gconstpointer  data)
{
  LbAccount *lost, *pop3, *good;
  const GError *error;

  /* the only account cannot reach its server */
  lost = add_account (fixture, "lost", ALICE, ALICE_PASSWORD, LB_INCOMING_IMAP, closed_port (),
                      fixture->fingerprint);
  pop3 = add_account (fixture, "lost-pop3", BOB, BOB_PASSWORD, LB_INCOMING_POP3, closed_port (),
                      fixture->fingerprint);
  lb_account_set_poll_minutes (pop3, 0);
  lb_sync_scheduler_start (fixture->scheduler);
  WAIT_UNTIL (lb_sync_scheduler_get_offline (fixture->scheduler), 30, "offline");
  g_assert_cmpuint (fixture->offline_notifies, ==, 1);
  WAIT_UNTIL (lb_sync_scheduler_get_error (fixture->scheduler, pop3) != NULL, 30, "the POP3 account to fail");
  /* offline as soon as the first to try failed: the other may come later */
  WAIT_UNTIL (lb_sync_scheduler_get_error (fixture->scheduler, lost) != NULL, 30, "the IMAP account to fail");
  error = lb_sync_scheduler_get_error (fixture->scheduler, lost);
  g_assert_nonnull (error);
  g_test_message ("unreachable: %s", error->message);
  g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED));

  /* the network comes back: they try again (and fail again) */
  record_for (fixture, pop3)->was_busy = FALSE;
  lb_test_monitor_set_available (fixture->monitor, FALSE);
  lb_test_monitor_set_available (fixture->monitor, TRUE);
  WAIT_UNTIL (record_for (fixture, pop3)->was_busy, 10, "the POP3 account to try again");
  WAIT_UNTIL (!lb_sync_scheduler_get_busy (fixture->scheduler, pop3), 30, "the POP3 check to end");
  g_assert_true (lb_sync_scheduler_get_offline (fixture->scheduler));

  /* one account that reaches its server: not offline */
  server_empty (BOB, BOB_PASSWORD);
  good = add_account (fixture, "good", BOB, BOB_PASSWORD, LB_INCOMING_POP3,
                      lb_test_port ("LB_TEST_POP3S_PORT"), fixture->fingerprint);
  lb_account_set_poll_minutes (good, 0);
  WAIT_SYNCED (fixture, good, 0);
  g_assert_false (lb_sync_scheduler_get_offline (fixture->scheduler));

  /* the unreachable ones go: offline is about those left */
  remove_account (fixture, lost);
  remove_account (fixture, pop3);
  g_assert_false (lb_sync_scheduler_get_offline (fixture->scheduler));
}

/* the server out of reach at the start, back later: the provider
 * reconnects by itself, and the account makes its first sync then */
static void
test_server_back (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbTestProxy) proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"),
                                                    lb_test_port ("LB_TEST_IMAPS_PORT"), &error);
  LbAccount *account;
  const GError *failure;

  g_assert_no_error (error);
  server_empty (ALICE, ALICE_PASSWORD);
  server_append (ALICE, ALICE_PASSWORD, "Waited for the server", NULL);
  lb_test_proxy_set_down (proxy, TRUE);
  account = add_account (fixture, "back", ALICE, ALICE_PASSWORD, LB_INCOMING_IMAP,
                         lb_test_proxy_get_port (proxy), fixture->fingerprint);
  lb_sync_scheduler_start (fixture->scheduler);
  WAIT_UNTIL (lb_sync_scheduler_get_error (fixture->scheduler, account) != NULL &&
              !lb_sync_scheduler_get_busy (fixture->scheduler, account), 30, "the connection to fail");
  failure = lb_sync_scheduler_get_error (fixture->scheduler, account);
  g_test_message ("server down: %s %s %d", failure->message, g_quark_to_string (failure->domain), failure->code);
  g_assert_cmpuint (inbox_total (account), ==, 0);

  lb_test_proxy_set_down (proxy, FALSE);
  WAIT_UNTIL (inbox_total (account) == 1 && lb_sync_scheduler_get_error (fixture->scheduler, account) == NULL &&
              !lb_sync_scheduler_get_busy (fixture->scheduler, account), 30,
              "the account to reconnect and sync by itself");
  g_assert_false (lb_sync_scheduler_get_offline (fixture->scheduler));
  lb_test_spin (500);
  g_assert_cmpuint (fixture->new_mail->len, ==, 0);
  server_append (ALICE, ALICE_PASSWORD, "After the outage", NULL);
  WAIT_UNTIL (fixture->new_mail->len == 1, 30, "new mail after the outage");
  g_assert_cmpstr (fixture->new_mail->pdata[0], ==, "back: After the outage");

  /* let go of the account before the proxy goes */
  {
    g_autoptr(LbStore) store = g_object_ref (lb_account_get_store (account));

    lb_sync_scheduler_stop (fixture->scheduler);
    lb_account_close (account);
    lb_test_finalize_store (g_steal_pointer (&store));
  }
}

/* ------------------------------------------------------------------ (6) removed, closed, stopped */

static void
test_removed (Fixture       *fixture,
              gconstpointer  data)
{
  LbAccount *account, *opening;
  Record *record;
  guint changed;

  server_empty (ALICE, ALICE_PASSWORD);
  account = add_account (fixture, "removed", ALICE, ALICE_PASSWORD, LB_INCOMING_IMAP,
                         lb_test_port ("LB_TEST_IMAPS_PORT"), fixture->fingerprint);
  lb_sync_scheduler_start (fixture->scheduler);
  WAIT_SYNCED (fixture, account, 0);
  record = record_for (fixture, account);

  /* removed while open, and not closed: it still gets mail over IDLE,
   * but the scheduler says nothing of it any more */
  g_object_ref (account);
  remove_account (fixture, account);
  g_assert_false (lb_sync_scheduler_get_busy (fixture->scheduler, account));
  g_assert_null (lb_sync_scheduler_get_error (fixture->scheduler, account));
  changed = record->changed;
  lb_sync_scheduler_sync_now (fixture->scheduler, account);
  lb_sync_scheduler_retry (fixture->scheduler, account);
  lb_sync_scheduler_set_shown_folder (fixture->scheduler, account, lb_account_get_inbox (account));
  server_append (ALICE, ALICE_PASSWORD, "After the removal", NULL);
  WAIT_UNTIL (inbox_total (account) == 1, 30, "the removed account to get the mail");
  lb_test_spin (1000);
  g_assert_cmpuint (record->changed, ==, changed);
  g_assert_cmpuint (fixture->new_mail->len, ==, 0);
  {
    g_autoptr(LbStore) store = g_object_ref (lb_account_get_store (account));

    lb_account_close (account);
    lb_test_finalize_store (g_steal_pointer (&store));
  }
  g_assert_finalize_object (account);

  /* removed while it opens */
  opening = add_account (fixture, "removed-opening", ALICE, ALICE_PASSWORD, LB_INCOMING_IMAP,
                         lb_test_port ("LB_TEST_IMAPS_PORT"), fixture->fingerprint);
  g_assert_true (lb_sync_scheduler_get_busy (fixture->scheduler, opening));
  g_object_ref (opening);
  remove_account (fixture, opening);
  record = record_for (fixture, opening);
  changed = record->changed;
  lb_test_spin (2000);
  g_assert_cmpuint (record->changed, ==, changed);
  g_assert_false (lb_sync_scheduler_get_busy (fixture->scheduler, opening));
  if (lb_account_get_opened (opening))
    {
      g_autoptr(LbStore) store = g_object_ref (lb_account_get_store (opening));

      lb_account_close (opening);
      lb_test_finalize_store (g_steal_pointer (&store));
    }
  g_assert_finalize_object (opening);
}

/* closed and removed, as the preferences do it; closed and opened again
 * for new server settings */
static void
test_closed_and_reopened (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbAccount *account;
  LbStore *store;

  server_empty (ALICE, ALICE_PASSWORD);
  account = add_account (fixture, "reopened", ALICE, ALICE_PASSWORD, LB_INCOMING_IMAP,
                         lb_test_port ("LB_TEST_IMAPS_PORT"), fixture->fingerprint);
  lb_sync_scheduler_start (fixture->scheduler);
  WAIT_SYNCED (fixture, account, 0);

  /* closed: the scheduler lets go of its store at once */
  store = g_object_ref (lb_account_get_store (account));
  lb_account_close (account);
  g_assert_false (lb_sync_scheduler_get_busy (fixture->scheduler, account));
  lb_test_finalize_store (store);

  /* opened again by someone else: synced and watched again */
  lb_account_open_async (account, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_account_open_finish (account, result, &error));
  g_assert_no_error (error);
  WAIT_UNTIL (inbox_total (account) == 0 && lb_account_get_inbox (account) != NULL &&
              !lb_sync_scheduler_get_busy (fixture->scheduler, account) &&
              lb_imap_provider_get_connected (LB_IMAP_PROVIDER (lb_account_get_provider (account))),
              30, "the reopened account to sync");
  lb_test_spin (500);
  server_append (ALICE, ALICE_PASSWORD, "After the reopening", NULL);
  WAIT_UNTIL (fixture->new_mail->len == 1, 30, "new mail in the reopened account");
  g_assert_cmpstr (fixture->new_mail->pdata[0], ==, "reopened: After the reopening");

  /* closed and removed */
  store = g_object_ref (lb_account_get_store (account));
  lb_account_close (account);
  lb_test_finalize_store (store);
  remove_account (fixture, account);
}

static void
test_stop (Fixture       *fixture,
           gconstpointer  data)
{
  LbAccount *account;
  Record *record;
  guint changed;

  server_empty (ALICE, ALICE_PASSWORD);
  server_append (ALICE, ALICE_PASSWORD, "Stopped", NULL);
  account = add_account (fixture, "stopped", ALICE, ALICE_PASSWORD, LB_INCOMING_IMAP,
                         lb_test_port ("LB_TEST_IMAPS_PORT"), fixture->fingerprint);

  /* while it opens */
  lb_sync_scheduler_start (fixture->scheduler);
  g_assert_true (lb_sync_scheduler_get_busy (fixture->scheduler, account));
  lb_sync_scheduler_stop (fixture->scheduler);
  g_assert_false (lb_sync_scheduler_get_busy (fixture->scheduler, account));
  record = record_for (fixture, account);
  changed = record->changed;
  lb_test_spin (2000);
  g_assert_cmpuint (record->changed, ==, changed);

  /* while it syncs */
  lb_sync_scheduler_start (fixture->scheduler);
  WAIT_UNTIL (lb_account_get_opened (account) && lb_sync_scheduler_get_busy (fixture->scheduler, account),
              30, "the sync to start");
  lb_sync_scheduler_stop (fixture->scheduler);
  g_assert_false (lb_sync_scheduler_get_busy (fixture->scheduler, account));
  changed = record->changed;
  /* gone before the work it started ends: nothing may call back into it */
  g_assert_finalize_object (g_steal_pointer (&fixture->scheduler));
  lb_test_spin (2000);
  g_assert_cmpuint (record->changed, ==, changed);
  g_assert_cmpuint (fixture->new_mail->len, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/sync-scheduler/imap", test_imap);
  ADD ("/sync-scheduler/imap/move-back-and-shown-folder", test_imap_move_back_and_shown_folder);
  ADD ("/sync-scheduler/pop3", test_pop3);
  ADD ("/sync-scheduler/wrong-password", test_wrong_password);
  ADD ("/sync-scheduler/pop3-wrong-password", test_pop3_wrong_password);
  ADD ("/sync-scheduler/untrusted-certificate", test_untrusted_certificate);
  ADD ("/sync-scheduler/offline/network", test_offline_network);
  ADD ("/sync-scheduler/offline/unreachable", test_offline_unreachable);
  ADD ("/sync-scheduler/offline/server-back", test_server_back);
  ADD ("/sync-scheduler/removed", test_removed);
  ADD ("/sync-scheduler/closed-and-reopened", test_closed_and_reopened);
  ADD ("/sync-scheduler/stop", test_stop);
#undef ADD

  return g_test_run ();
}
