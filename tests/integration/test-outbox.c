/* test-outbox.c: LbOutbox and LbDrafts against the harness's Dovecot and
 * SMTP server: messages delivered once and filed in Sent (byte for byte
 * what the recipient got), replies and forwards flagging their originals,
 * non-ASCII names, Bcc, a server down and back, refusals, the crash
 * between sending and noting it (never sent again on its own), undo, a
 * POP3 account's local Sent, and drafts saved, replaced, reopened and
 * sent.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "lb-account-manager.h"
#include "lb-drafts.h"
#include "lb-imap-provider.h"
#include "lb-outbox.h"
#include "lb-secrets.h"
#include "lb-test-monitor.h"
#include "lb-test-proxy.h"
#include "lb-test-session.h"

#define ALICE          "alice@example.test"
#define ALICE_PASSWORD "alicepass"
#define BOB            "bob@example.test"
#define BOB_PASSWORD   "bobpass"

#define WAIT_UNTIL(cond, seconds, what)                                           \
  G_STMT_START {                                                                  \
    gint64 wait_deadline_ = g_get_monotonic_time () + (seconds) * G_USEC_PER_SEC; \
    while (!(cond))                                                               \
      {                                                                           \
        if (g_get_monotonic_time () > wait_deadline_)                             \
          g_error ("Timed out waiting for %s", what);                             \
        lb_test_spin (20);                                                        \
      }                                                                           \
  } G_STMT_END

/* ------------------------------------------------------------------ the server, seen by another client */

typedef struct
{
  char   *flags;
  GBytes *raw;
} ServerMessage;

static void
server_message_free (ServerMessage *message)
{
  g_free (message->flags);
  g_bytes_unref (message->raw);
  g_free (message);
}

/* The messages of @mailbox with @message_id (no brackets), as the server
 * has them. */
static GPtrArray *
server_find (const char *user,
             const char *password,
             const char *mailbox,
             const char *message_id)
{
  g_autoptr(LbTestSession) session = lb_test_session_imap_login (user, password);
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func ((GDestroyNotify) server_message_free);
  g_autoptr(GArray) uids = g_array_new (FALSE, FALSE, sizeof (guint));

  lb_test_session_send (session, "S SELECT \"%s\"", mailbox);
  lb_test_session_expect_tagged_ok (session, "S");
  lb_test_session_send (session, "F UID SEARCH HEADER Message-ID \"<%s>\"", message_id);
  for (;;)
    {
      g_autofree char *line = lb_test_session_read_line (session);

      if (g_str_has_prefix (line, "* SEARCH"))
        {
          g_auto(GStrv) words = g_strsplit (line + strlen ("* SEARCH"), " ", -1);

          for (guint i = 0; words[i] != NULL; i++)
            if (*words[i] != '\0')
              {
                guint uid = (guint) g_ascii_strtoull (words[i], NULL, 10);

                g_array_append_val (uids, uid);
              }
        }
      else if (g_str_has_prefix (line, "F "))
        {
          g_assert_true (g_str_has_prefix (line, "F OK"));
          break;
        }
    }

  for (guint i = 0; i < uids->len; i++)
    {
      ServerMessage *message = g_new0 (ServerMessage, 1);
      g_autofree char *line = NULL;
      const char *flags, *end, *literal;

      lb_test_session_send (session, "G UID FETCH %u (FLAGS BODY.PEEK[])", g_array_index (uids, guint, i));
      line = lb_test_session_read_until (session, "* ");
      flags = strstr (line, "FLAGS (");
      g_assert_nonnull (flags);
      flags += strlen ("FLAGS (");
      end = strchr (flags, ')');
      g_assert_nonnull (end);
      message->flags = g_strndup (flags, end - flags);
      literal = strrchr (line, '{');
      g_assert_nonnull (literal);
      message->raw = lb_test_session_read_bytes (session, g_ascii_strtoull (literal + 1, NULL, 10));
      lb_test_session_expect_tagged_ok (session, "G");
      g_ptr_array_add (messages, message);
    }
  lb_test_session_send (session, "Z LOGOUT");
  g_free (lb_test_session_read_until (session, "Z "));
  return g_steal_pointer (&messages);
}

static guint
server_count (const char *user,
              const char *password,
              const char *mailbox,
              const char *message_id)
{
  g_autoptr(GPtrArray) found = server_find (user, password, mailbox, message_id);

  return found->len;
}

/* Puts a message from Carol into @user's INBOX; returns its Message-ID. */
static char *
server_append (const char *user,
               const char *password,
               const char *subject)
{
  g_autoptr(LbTestSession) session = lb_test_session_imap_login (user, password);
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *id = g_strdup_printf ("%s@carol.test", uuid);
  g_autofree char *message = g_strdup_printf ("From: Carol Example <carol@example.test>\r\nTo: %s\r\n"
                                              "Subject: %s\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
                                              "Message-ID: <%s>\r\nMIME-Version: 1.0\r\n"
                                              "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                                              "The text of %s.\r\n",
                                              user, subject, id, subject);

  lb_test_session_send (session, "A APPEND INBOX {%zu}", strlen (message));
  lb_test_session_expect (session, "+");
  lb_test_session_write (session, message, strlen (message));
  lb_test_session_write (session, "\r\n", 2);
  lb_test_session_expect_tagged_ok (session, "A");
  lb_test_session_send (session, "Z LOGOUT");
  g_free (lb_test_session_read_until (session, "Z "));
  return g_steal_pointer (&id);
}

/* The message without the trace headers the server put on top. */
static GBytes *
strip_trace (GBytes *raw)
{
  gsize size;
  const char *data = g_bytes_get_data (raw, &size);
  const char *p = data;
  const char *end = data + size;

  for (;;)
    {
      if (g_ascii_strncasecmp (p, "Return-Path:", 12) != 0 && g_ascii_strncasecmp (p, "Received:", 9) != 0 &&
          g_ascii_strncasecmp (p, "Delivered-To:", 13) != 0 && g_ascii_strncasecmp (p, "X-Original-To:", 14) != 0)
        break;
      /* the header and its continuation lines */
      do
        {
          const char *eol = memchr (p, '\n', end - p);

          g_assert_nonnull (eol);
          p = eol + 1;
        }
      while (p < end && (*p == ' ' || *p == '\t'));
    }
  return g_bytes_new (p, end - p);
}

static gboolean
has_header (GBytes     *raw,
            const char *name)
{
  gsize size;
  const char *data = g_bytes_get_data (raw, &size);
  g_autofree char *text = g_strndup (data, size);
  char *body = strstr (text, "\r\n\r\n");
  g_autofree char *needle = g_strdup_printf ("\n%s:", name);
  g_autofree char *lower_needle = NULL;
  g_autofree char *lower_text = NULL;

  if (body != NULL)
    *body = '\0';
  lower_needle = g_ascii_strdown (needle, -1);
  lower_text = g_ascii_strdown (text, -1);
  return strncmp (lower_text, lower_needle + 1, strlen (lower_needle + 1)) == 0 ||
         strstr (lower_text, lower_needle) != NULL;
}

/* ------------------------------------------------------------------ fixture */

typedef struct
{
  char             *dir;
  LbAccountManager *manager;
  LbTestMonitor    *monitor;
  LbOutbox         *outbox;
  GHashTable       *filed;    /* gint64 keys */
  GHashTable       *sent;     /* gint64 keys */
  char             *fingerprint;
  LbTestProxy      *proxy;
} Fixture;

static void
filed_cb (LbOutbox  *outbox,
          LbAccount *account,
          gint64     key,
          Fixture   *fixture)
{
  g_hash_table_add (fixture->filed, g_memdup2 (&key, sizeof key));
}

static void
sent_cb (LbOutbox   *outbox,
         LbAccount  *account,
         gint64      key,
         const char *message_id,
         Fixture    *fixture)
{
  g_assert_nonnull (message_id);
  g_hash_table_add (fixture->sent, g_memdup2 (&key, sizeof key));
}

static void
outbox_new (Fixture *fixture)
{
  fixture->outbox = lb_outbox_new (fixture->manager, G_NETWORK_MONITOR (fixture->monitor));
  g_signal_connect (fixture->outbox, "filed", G_CALLBACK (filed_cb), fixture);
  g_signal_connect (fixture->outbox, "sent", G_CALLBACK (sent_cb), fixture);
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) certificate = lb_test_untrusted_certificate ("LB_TEST_IMAPS_PORT");
  g_autofree char *config = NULL;
  g_autofree char *local = NULL;

  fixture->dir = g_dir_make_tmp ("lb-outbox-XXXXXX", &error);
  g_assert_no_error (error);
  /* where letterbox-cli finds them with XDG_CONFIG_HOME and XDG_DATA_HOME */
  config = g_build_filename (fixture->dir, "config", "letterbox", NULL);
  local = g_build_filename (fixture->dir, "data", "letterbox", NULL);
  fixture->manager = lb_account_manager_new (config, local);
  fixture->monitor = lb_test_monitor_new ();
  fixture->filed = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  fixture->sent = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  fixture->fingerprint = lb_account_certificate_fingerprint (certificate);
  fixture->proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"), lb_test_port ("LB_TEST_SUBMISSION_PORT"),
                                      &error);
  g_assert_no_error (error);
  outbox_new (fixture);
}

static void
drop_outbox (Fixture *fixture)
{
  g_signal_handlers_disconnect_by_data (fixture->outbox, fixture);
  g_assert_finalize_object (g_steal_pointer (&fixture->outbox));
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  GListModel *accounts = G_LIST_MODEL (fixture->manager);

  if (fixture->outbox != NULL)
    drop_outbox (fixture);
  /* what the outbox started finishes (its store writes) */
  lb_test_spin (200);
  for (guint i = 0; i < g_list_model_get_n_items (accounts); i++)
    {
      g_autoptr(LbAccount) account = g_list_model_get_item (accounts, i);

      if (lb_account_get_opened (account))
        {
          g_autoptr(LbStore) store = g_object_ref (lb_account_get_store (account));

          lb_account_close (account);
          lb_test_finalize_store (g_steal_pointer (&store));
        }
    }
  g_assert_finalize_object (g_steal_pointer (&fixture->manager));
  g_assert_finalize_object (g_steal_pointer (&fixture->monitor));
  g_clear_pointer (&fixture->proxy, lb_test_proxy_free);
  g_clear_pointer (&fixture->filed, g_hash_table_unref);
  g_clear_pointer (&fixture->sent, g_hash_table_unref);
  g_clear_pointer (&fixture->fingerprint, g_free);
  lb_test_remove_tree (fixture->dir);
  g_clear_pointer (&fixture->dir, g_free);
}

static void
store_password (LbAccount  *account,
                const char *protocol,
                const char *host,
                const char *password)
{
  g_autoptr(LbSecrets) secrets = lb_secrets_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbSecretKey key = { lb_account_get_id (account), protocol, host, lb_account_get_incoming_user (account) };

  lb_secrets_store_async (secrets, &key, "Letterbox test", password, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_secrets_store_finish (secrets, result, &error));
  g_assert_no_error (error);
}

static void
open_ok (LbAccount *account)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_account_open_async (account, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_account_open_finish (account, result, &error));
  g_assert_no_error (error);
}

/* The account's server folders, and the INBOX in step */
static void
list_and_sync (LbAccount *account)
{
  LbProvider *provider = lb_account_get_provider (account);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) synced = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GError) error = NULL;

  lb_provider_list_folders_async (provider, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  folders = lb_provider_list_folders_finish (provider, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (lb_account_get_inbox (account));
  lb_provider_sync_folder_async (provider, lb_folder_get_id (lb_account_get_inbox (account)), NULL,
                                 lb_test_store_result, &synced);
  lb_test_wait (&synced);
  g_assert_true (lb_provider_sync_folder_finish (provider, synced, &error));
  g_assert_no_error (error);
}

static void
replay (LbAccount *account)
{
  LbProvider *provider = lb_account_get_provider (account);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_provider_replay_queue_async (provider, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_replay_queue_finish (provider, result, &error));
  g_assert_no_error (error);
}

/* Alice's account (IMAP, or POP3), sending through the proxy, open. */
static LbAccount *
add_alice (Fixture            *fixture,
           LbIncomingProtocol  protocol,
           const char         *smtp_password)
{
  const char *id = protocol == LB_INCOMING_IMAP ? "alice-imap" : "alice-pop3";
  g_autoptr(LbAccount) account = lb_account_new (id);
  g_autoptr(LbIdentity) identity = lb_identity_new ("Алиса Смирнова", ALICE);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *host = lb_test_getenv ("LB_TEST_HOST");
  guint16 port = lb_test_port (protocol == LB_INCOMING_IMAP ? "LB_TEST_IMAPS_PORT" : "LB_TEST_POP3S_PORT");
  guint16 smtp_port = lb_test_proxy_get_port (fixture->proxy);
  LbAccount *added;

  lb_account_set_display_name (account, ALICE);
  lb_account_add_identity (account, identity);
  lb_account_set_incoming_protocol (account, protocol);
  lb_account_set_incoming_host (account, host);
  lb_account_set_incoming_port (account, port);
  lb_account_set_incoming_security (account, LB_NET_SECURITY_TLS);
  lb_account_set_incoming_user (account, ALICE);
  lb_account_set_smtp_host (account, host);
  lb_account_set_smtp_port (account, smtp_port);
  lb_account_set_smtp_security (account, LB_NET_SECURITY_STARTTLS);
  lb_account_set_smtp_user (account, ALICE);
  lb_account_pin_certificate (account, host, port, fixture->fingerprint);
  lb_account_pin_certificate (account, host, smtp_port, fixture->fingerprint);
  store_password (account, protocol == LB_INCOMING_IMAP ? "imap" : "pop3", host, ALICE_PASSWORD);
  store_password (account, "smtp", host, smtp_password);

  lb_account_manager_add_async (fixture->manager, account, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_account_manager_add_finish (fixture->manager, result, &error));
  g_assert_no_error (error);
  added = lb_account_manager_lookup (fixture->manager, id);
  open_ok (added);
  if (protocol == LB_INCOMING_IMAP)
    list_and_sync (added);
  return added;
}

static LbOutgoingMessage *
new_message (const char *to,
             const char *subject)
{
  LbOutgoingMessage *message = lb_outgoing_message_new ();

  lb_outgoing_message_set_from (message, "Алиса Смирнова", ALICE);
  lb_outgoing_message_set_to (message, to);
  lb_outgoing_message_set_subject (message, subject);
  lb_outgoing_message_set_body (message, "Hello Bob,\n\nthe text of the message.\n\n-- \nAlice\n");
  return message;
}

static gint64
queue_ok (Fixture           *fixture,
          LbAccount         *account,
          LbOutgoingMessage *message,
          gint64             draft_key)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 key;

  lb_outbox_queue_async (fixture->outbox, account, message, draft_key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  key = lb_outbox_queue_finish (fixture->outbox, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (key, >, 0);
  return key;
}

static void
wait_filed (Fixture *fixture,
            gint64   key)
{
  WAIT_UNTIL (g_hash_table_contains (fixture->filed, &key), 30, "the message to be sent and filed");
  g_assert_true (g_hash_table_contains (fixture->sent, &key));
}

static LbOutboxState
wait_state (Fixture       *fixture,
            LbAccount     *account,
            gint64         key,
            LbOutboxState  want,
            char         **error_message)
{
  LbOutboxState state = LB_OUTBOX_STATE_SENT;
  g_autofree char *message = NULL;
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  for (;;)
    {
      g_clear_pointer (&message, g_free);
      if (lb_outbox_get_state (fixture->outbox, account, key, &state, &message) && state == want &&
          (want != LB_OUTBOX_STATE_WAITING || message != NULL))
        break;
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out waiting for state %d (it is %d: %s)", want, state, message);
      lb_test_spin (20);
    }
  if (error_message != NULL)
    *error_message = g_steal_pointer (&message);
  return state;
}

static guint
folder_total (LbAccount    *account,
              LbFolderRole  role,
              gboolean      local)
{
  GListModel *folders = lb_account_get_folders (account);

  for (guint i = 0; i < g_list_model_get_n_items (folders); i++)
    {
      g_autoptr(LbFolder) folder = g_list_model_get_item (folders, i);

      if (lb_folder_get_role (folder) == role && lb_folder_get_local (folder) == local)
        return lb_folder_get_total_count (folder);
    }
  g_error ("no folder of role %d", role);
  return 0;
}

/* ------------------------------------------------------------------ tests */

/* Delivered once; the copy in Sent is what Bob got; non-ASCII names,
 * subject and file name intact; Bob in Bcc, and no Bcc header anywhere. */
static void
test_send (Fixture       *fixture,
           gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, ALICE_PASSWORD);
  g_autoptr(LbOutgoingMessage) message = new_message ("Кэрол <carol@elsewhere.test>", "Отчёт за ноябрь");
  g_autoptr(GBytes) attachment = g_bytes_new_static ("1;2;3\n", 6);
  g_autoptr(GPtrArray) inbox = NULL;
  g_autoptr(GPtrArray) sent = NULL;
  g_autoptr(GBytes) received = NULL;
  GMimeMessage *parsed;
  GMimePartIter *iter;
  InternetAddressList *from;
  const char *id;
  gboolean found_attachment = FALSE;
  gint64 key;

  lb_outgoing_message_set_bcc (message, "Боб Иванов <" BOB ">");
  lb_outgoing_message_add_attachment (message, "отчёт.csv", "text/csv", attachment);
  key = queue_ok (fixture, alice, message, 0);
  id = lb_outgoing_message_get_message_id (message);
  g_assert_nonnull (id);
  wait_filed (fixture, key);
  g_assert_false (lb_outbox_get_state (fixture->outbox, alice, key, NULL, NULL));
  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_OUTBOX, TRUE), ==, 0);
  replay (alice);

  inbox = server_find (BOB, BOB_PASSWORD, "INBOX", id);
  sent = server_find (ALICE, ALICE_PASSWORD, "Sent", id);
  g_assert_cmpuint (inbox->len, ==, 1);
  g_assert_cmpuint (sent->len, ==, 1);
  g_assert_nonnull (strstr (((ServerMessage *) sent->pdata[0])->flags, "\\Seen"));
  received = strip_trace (((ServerMessage *) inbox->pdata[0])->raw);
  g_assert_cmpmem (g_bytes_get_data (received, NULL), g_bytes_get_size (received),
                   g_bytes_get_data (((ServerMessage *) sent->pdata[0])->raw, NULL),
                   g_bytes_get_size (((ServerMessage *) sent->pdata[0])->raw));
  g_assert_false (has_header (received, "Bcc"));

  parsed = lb_test_parse_message (received);
  g_assert_cmpstr (g_mime_message_get_subject (parsed), ==, "Отчёт за ноябрь");
  from = g_mime_message_get_from (parsed);
  g_assert_cmpint (internet_address_list_length (from), ==, 1);
  g_assert_cmpstr (internet_address_get_name (internet_address_list_get_address (from, 0)), ==, "Алиса Смирнова");
  g_assert_cmpstr (internet_address_get_name (internet_address_list_get_address (g_mime_message_get_addresses (parsed, GMIME_ADDRESS_TYPE_TO), 0)),
                   ==, "Кэрол");
  iter = g_mime_part_iter_new (g_mime_message_get_mime_part (parsed));
  do
    {
      GMimeObject *part = g_mime_part_iter_get_current (iter);

      if (GMIME_IS_PART (part) && g_strcmp0 (g_mime_part_get_filename (GMIME_PART (part)), "отчёт.csv") == 0)
        found_attachment = TRUE;
    }
  while (g_mime_part_iter_next (iter));
  g_assert_true (found_attachment);
  g_mime_part_iter_free (iter);
  g_object_unref (parsed);
}

/* A reply flags its original \Answered, a forward $Forwarded. */
static void
test_reply_forward (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autofree char *original = server_append (ALICE, ALICE_PASSWORD, "Question");
  g_autofree char *forwarded = server_append (ALICE, ALICE_PASSWORD, "News");
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, ALICE_PASSWORD);
  g_autoptr(LbOutgoingMessage) reply = new_message (BOB, "Re: Question");
  g_autoptr(LbOutgoingMessage) forward = new_message (BOB, "Fwd: News");
  g_autoptr(GPtrArray) received = NULL;
  g_autoptr(GPtrArray) answered = NULL;
  g_autoptr(GPtrArray) was_forwarded = NULL;
  GMimeMessage *parsed;
  GMimeReferences *references;
  gint64 reply_key, forward_key;

  lb_outgoing_message_set_in_reply_to (reply, original);
  lb_outgoing_message_set_references (reply, original);
  lb_outgoing_message_set_forwarded_id (forward, forwarded);
  reply_key = queue_ok (fixture, alice, reply, 0);
  forward_key = queue_ok (fixture, alice, forward, 0);
  wait_filed (fixture, reply_key);
  wait_filed (fixture, forward_key);
  replay (alice);

  received = server_find (BOB, BOB_PASSWORD, "INBOX", lb_outgoing_message_get_message_id (reply));
  g_assert_cmpuint (received->len, ==, 1);
  parsed = lb_test_parse_message (((ServerMessage *) received->pdata[0])->raw);
  references = g_mime_references_parse (NULL, g_mime_object_get_header (GMIME_OBJECT (parsed), "In-Reply-To"));
  g_assert_cmpint (g_mime_references_length (references), ==, 1);
  g_assert_cmpstr (g_mime_references_get_message_id (references, 0), ==, original);
  g_mime_references_free (references);
  references = g_mime_references_parse (NULL, g_mime_object_get_header (GMIME_OBJECT (parsed), "References"));
  g_assert_cmpint (g_mime_references_length (references), >=, 1);
  g_assert_cmpstr (g_mime_references_get_message_id (references, 0), ==, original);
  g_mime_references_free (references);
  g_object_unref (parsed);

  answered = server_find (ALICE, ALICE_PASSWORD, "INBOX", original);
  g_assert_cmpuint (answered->len, ==, 1);
  g_assert_nonnull (strstr (((ServerMessage *) answered->pdata[0])->flags, "\\Answered"));
  was_forwarded = server_find (ALICE, ALICE_PASSWORD, "INBOX", forwarded);
  g_assert_cmpuint (was_forwarded->len, ==, 1);
  g_assert_nonnull (strstr (((ServerMessage *) was_forwarded->pdata[0])->flags, "$Forwarded"));
  g_assert_null (strstr (((ServerMessage *) was_forwarded->pdata[0])->flags, "\\Answered"));
}

/* The server down: the message waits with the error, then goes once. */
static void
test_server_down (Fixture       *fixture,
                  gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, ALICE_PASSWORD);
  g_autoptr(LbOutgoingMessage) message = new_message (BOB, "While down");
  g_autofree char *error_message = NULL;
  gint64 key;

  lb_test_proxy_set_down (fixture->proxy, TRUE);
  key = queue_ok (fixture, alice, message, 0);
  wait_state (fixture, alice, key, LB_OUTBOX_STATE_WAITING, &error_message);
  g_assert_nonnull (error_message);
  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_OUTBOX, TRUE), ==, 1);
  /* the backoff holds it */
  lb_test_spin (1500);
  g_assert_false (g_hash_table_contains (fixture->sent, &key));

  lb_test_proxy_set_down (fixture->proxy, FALSE);
  lb_outbox_flush (fixture->outbox);
  wait_filed (fixture, key);
  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_OUTBOX, TRUE), ==, 0);
  lb_test_spin (500);
  g_assert_cmpuint (server_count (BOB, BOB_PASSWORD, "INBOX", lb_outgoing_message_get_message_id (message)), ==, 1);
}

static LbOutgoingMessage *
take_back_ok (Fixture   *fixture,
              LbAccount *account,
              gint64     key)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbOutgoingMessage *back;

  lb_outbox_take_back_async (fixture->outbox, account, key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  back = lb_outbox_take_back_finish (fixture->outbox, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  g_assert_false (lb_outbox_get_state (fixture->outbox, account, key, NULL, NULL));
  return back;
}

/* A wrong password fails for good, with a message saying so. */
static void
test_wrong_password (Fixture       *fixture,
                     gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, "not the password");
  g_autoptr(LbOutgoingMessage) message = new_message (BOB, "Wrong password");
  g_autoptr(LbOutgoingMessage) back = NULL;
  g_autofree char *error_message = NULL;
  gint64 key;

  key = queue_ok (fixture, alice, message, 0);
  wait_state (fixture, alice, key, LB_OUTBOX_STATE_FAILED, &error_message);
  g_assert_nonnull (error_message);
  g_test_message ("wrong password: %s", error_message);
  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_OUTBOX, TRUE), ==, 1);

  back = take_back_ok (fixture, alice, key);
  g_assert_cmpstr (lb_outgoing_message_get_subject (back), ==, "Wrong password");
  lb_test_spin (200);
  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_OUTBOX, TRUE), ==, 0);
}

/* An unknown recipient fails for good, naming it; nobody gets it; taken
 * back, the message has its Bcc. */
static void
test_unknown_recipient (Fixture       *fixture,
                        gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, ALICE_PASSWORD);
  g_autoptr(LbOutgoingMessage) message = new_message ("nobody@example.test", "To nobody");
  g_autoptr(LbOutgoingMessage) back = NULL;
  g_autofree char *error_message = NULL;
  gint64 key;

  lb_outgoing_message_set_bcc (message, BOB);
  key = queue_ok (fixture, alice, message, 0);
  wait_state (fixture, alice, key, LB_OUTBOX_STATE_FAILED, &error_message);
  g_assert_nonnull (strstr (error_message, "nobody@example.test"));
  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_OUTBOX, TRUE), ==, 1);
  g_assert_cmpuint (server_count (BOB, BOB_PASSWORD, "INBOX", lb_outgoing_message_get_message_id (message)), ==, 0);

  back = take_back_ok (fixture, alice, key);
  g_assert_cmpstr (lb_outgoing_message_get_to (back), ==, "nobody@example.test");
  g_assert_cmpstr (lb_outgoing_message_get_bcc (back), ==, BOB);
}

/* Letterbox stopped between writing SENDING and hearing from the server:
 * the next start never sends it on its own; Send Again does, once. */
static void
test_uncertain (Fixture       *fixture,
                gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, ALICE_PASSWORD);
  g_autoptr(LbOutgoingMessage) message = new_message (BOB, "Maybe sent");
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) retried = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *error_message = NULL;
  LbOutboxState state = LB_OUTBOX_STATE_WAITING;
  gint64 key;

  /* held back by the undo delay while the crash is staged */
  lb_outbox_set_undo_delay (fixture->outbox, 3600);
  key = queue_ok (fixture, alice, message, 0);
  lb_store_outbox_set_state_async (lb_account_get_store (alice), key, LB_OUTBOX_STATE_SENDING, 0, 0, NULL,
                                   LB_STORE_WRITE_DURABLE, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_outbox_set_state_finish (lb_account_get_store (alice), result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  /* the crash: the outbox and the store go, then a new start */
  drop_outbox (fixture);
  {
    g_autoptr(LbStore) store = g_object_ref (lb_account_get_store (alice));

    lb_account_close (alice);
    lb_test_finalize_store (g_steal_pointer (&store));
  }
  outbox_new (fixture);
  open_ok (alice);
  wait_state (fixture, alice, key, LB_OUTBOX_STATE_UNCERTAIN, NULL);
  g_assert_true (lb_outbox_get_state (fixture->outbox, alice, key, &state, &error_message));
  g_assert_nonnull (error_message);
  lb_outbox_flush (fixture->outbox);
  lb_test_spin (2000);
  g_assert_false (g_hash_table_contains (fixture->sent, &key));
  g_assert_true (lb_outbox_get_state (fixture->outbox, alice, key, &state, NULL));
  g_assert_cmpint (state, ==, LB_OUTBOX_STATE_UNCERTAIN);
  g_assert_cmpuint (server_count (BOB, BOB_PASSWORD, "INBOX", lb_outgoing_message_get_message_id (message)), ==, 0);

  /* the user says Send Again */
  lb_outbox_retry_async (fixture->outbox, alice, key, NULL, lb_test_store_result, &retried);
  lb_test_wait (&retried);
  g_assert_true (lb_outbox_retry_finish (fixture->outbox, retried, &error));
  g_assert_no_error (error);
  wait_filed (fixture, key);
  g_assert_cmpuint (server_count (BOB, BOB_PASSWORD, "INBOX", lb_outgoing_message_get_message_id (message)), ==, 1);
}

/* Letterbox stops as it would between putting a message in the Outbox and
 * writing its record, and starts again. */
static void
restart (Fixture   *fixture,
         LbAccount *account)
{
  drop_outbox (fixture);
  {
    g_autoptr(LbStore) store = g_object_ref (lb_account_get_store (account));

    lb_account_close (account);
    lb_test_finalize_store (g_steal_pointer (&store));
  }
  outbox_new (fixture);
  open_ok (account);
}

/* A message in the Outbox without its record (Letterbox stopped between
 * the two): at the next start it is FAILED, saying to edit and send it
 * again; Send Again refuses (its Bcc is unknown); it is never sent; Edit
 * gives it back. */
static void
test_no_record (Fixture       *fixture,
                gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, ALICE_PASSWORD);
  g_autoptr(LbOutgoingMessage) message = new_message (BOB, "Without a record");
  g_autoptr(GBytes) raw = lb_outgoing_message_to_bytes (message, LB_OUTGOING_FORM_SEND);
  g_autoptr(LbOutgoingMessage) back = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) retried = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *error_message = NULL;
  LbProvider *provider = lb_account_get_provider (alice);
  LbFolder *outbox_folder = lb_account_get_folder_by_role (alice, LB_FOLDER_ROLE_OUTBOX);
  guint before = lb_test_proxy_get_n_connections (fixture->proxy);
  LbOutboxState state = LB_OUTBOX_STATE_WAITING;
  gint64 key;

  g_assert_nonnull (outbox_folder);
  lb_provider_append_async (provider, lb_folder_get_id (outbox_folder), raw, LB_MESSAGE_SEEN, NULL,
                            lb_test_store_result, &result);
  lb_test_wait (&result);
  key = lb_provider_append_finish (provider, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (key, >, 0);
  g_clear_object (&result);   /* it holds the provider, which holds the store */
  g_assert_false (lb_outbox_get_state (fixture->outbox, alice, key, NULL, NULL));

  restart (fixture, alice);
  wait_state (fixture, alice, key, LB_OUTBOX_STATE_FAILED, &error_message);
  g_assert_nonnull (error_message);
  g_assert_nonnull (strstr (error_message, "Edit"));

  lb_outbox_retry_async (fixture->outbox, alice, key, NULL, lb_test_store_result, &retried);
  lb_test_wait (&retried);
  g_assert_false (lb_outbox_retry_finish (fixture->outbox, retried, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_clear_object (&retried);   /* it holds the outbox */
  lb_outbox_flush (fixture->outbox);
  lb_test_spin (1000);
  g_assert_true (lb_outbox_get_state (fixture->outbox, alice, key, &state, NULL));
  g_assert_cmpint (state, ==, LB_OUTBOX_STATE_FAILED);

  /* and again at the next start: still failed, not sent */
  restart (fixture, alice);
  wait_state (fixture, alice, key, LB_OUTBOX_STATE_FAILED, NULL);
  lb_test_spin (1000);
  g_assert_false (g_hash_table_contains (fixture->sent, &key));
  g_assert_cmpuint (lb_test_proxy_get_n_connections (fixture->proxy), ==, before);

  back = take_back_ok (fixture, alice, key);
  g_assert_cmpstr (lb_outgoing_message_get_subject (back), ==, "Without a record");
  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_OUTBOX, TRUE), ==, 0);
  g_assert_cmpuint (server_count (BOB, BOB_PASSWORD, "INBOX", lb_outgoing_message_get_message_id (message)), ==, 0);
}

/* Messages found SENT at the start (stopped before they were filed): all
 * of them filed, none sent again. */
static void
test_refile (Fixture       *fixture,
             gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, ALICE_PASSWORD);
  g_autoptr(LbOutgoingMessage) first = new_message (BOB, "Sent, not filed 1");
  g_autoptr(LbOutgoingMessage) second = new_message (BOB, "Sent, not filed 2");
  guint before = lb_test_proxy_get_n_connections (fixture->proxy);
  gint64 keys[2];

  lb_outbox_set_undo_delay (fixture->outbox, 3600);
  keys[0] = queue_ok (fixture, alice, first, 0);
  keys[1] = queue_ok (fixture, alice, second, 0);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;

      lb_store_outbox_set_state_async (lb_account_get_store (alice), keys[i], LB_OUTBOX_STATE_SENT, 0, 0, NULL,
                                       LB_STORE_WRITE_DURABLE, NULL, lb_test_store_result, &result);
      lb_test_wait (&result);
      g_assert_true (lb_store_outbox_set_state_finish (lb_account_get_store (alice), result, &error));
      g_assert_no_error (error);
    }

  restart (fixture, alice);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    WAIT_UNTIL (g_hash_table_contains (fixture->filed, &keys[i]), 30, "a sent message to be filed");
  g_assert_false (g_hash_table_contains (fixture->sent, &keys[0]));
  g_assert_false (g_hash_table_contains (fixture->sent, &keys[1]));
  g_assert_cmpuint (lb_test_proxy_get_n_connections (fixture->proxy), ==, before);
  lb_test_spin (200);
  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_OUTBOX, TRUE), ==, 0);
}

static void
count_filed_cb (LbOutbox  *outbox,
                LbAccount *account,
                gint64     key,
                guint     *n_filed)
{
  (*n_filed)++;
}

/* A second outbox on the same account (letterbox-cli send while the app
 * runs) sends what it queued, and leaves alone what the first one waits
 * to send: sent once, not twice. */
static void
test_two_processes (Fixture       *fixture,
                    gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, ALICE_PASSWORD);
  g_autoptr(LbOutgoingMessage) first = new_message (BOB, "Queued by the app");
  g_autoptr(LbOutgoingMessage) second = new_message (BOB, "Queued by the other");
  g_autoptr(LbOutbox) other = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint other_filed = 0;
  gint64 key, other_key;

  lb_outbox_set_undo_delay (fixture->outbox, 3);
  key = queue_ok (fixture, alice, first, 0);

  other = lb_outbox_new (fixture->manager, G_NETWORK_MONITOR (fixture->monitor));
  g_signal_connect (other, "filed", G_CALLBACK (count_filed_cb), &other_filed);
  lb_outbox_queue_async (other, alice, second, 0, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  other_key = lb_outbox_queue_finish (other, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (other_key, >, 0);
  g_clear_object (&result);
  WAIT_UNTIL (other_filed == 1, 30, "the other outbox to send its message");

  wait_filed (fixture, key);
  lb_test_spin (3000);
  g_assert_cmpuint (other_filed, ==, 1);
  g_assert_false (g_hash_table_contains (fixture->filed, &other_key));
  g_assert_cmpuint (server_count (BOB, BOB_PASSWORD, "INBOX", lb_outgoing_message_get_message_id (first)), ==, 1);
  g_assert_cmpuint (server_count (BOB, BOB_PASSWORD, "INBOX", lb_outgoing_message_get_message_id (second)), ==, 1);
  g_signal_handlers_disconnect_by_data (other, &other_filed);
  g_assert_finalize_object (g_steal_pointer (&other));
}

static void
close_on_sent_cb (LbOutbox   *outbox,
                  LbAccount  *account,
                  gint64      key,
                  const char *message_id,
                  gpointer    user_data)
{
  lb_account_close (account);
}

/* The account closes between the server's 250 and the filing: the next
 * open files it, its copy in Sent included, and does not send it again. */
static void
test_closed_before_filing (Fixture       *fixture,
                           gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, ALICE_PASSWORD);
  g_autoptr(LbOutgoingMessage) message = new_message (BOB, "Closed before filing");
  const char *id;
  gint64 key;

  g_signal_connect (fixture->outbox, "sent", G_CALLBACK (close_on_sent_cb), NULL);
  key = queue_ok (fixture, alice, message, 0);
  id = lb_outgoing_message_get_message_id (message);
  WAIT_UNTIL (g_hash_table_contains (fixture->sent, &key), 30, "the message to be sent");
  g_signal_handlers_disconnect_by_func (fixture->outbox, close_on_sent_cb, NULL);
  g_assert_false (lb_account_get_opened (alice));
  lb_test_spin (500);

  g_hash_table_remove_all (fixture->sent);
  open_ok (alice);
  WAIT_UNTIL (g_hash_table_contains (fixture->filed, &key), 30, "the sent message to be filed");
  g_assert_false (g_hash_table_contains (fixture->sent, &key));
  replay (alice);
  g_assert_cmpuint (server_count (ALICE, ALICE_PASSWORD, "Sent", id), ==, 1);
  g_assert_cmpuint (server_count (BOB, BOB_PASSWORD, "INBOX", id), ==, 1);
  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_OUTBOX, TRUE), ==, 0);
}

static void
cancel_on_waiting_cb (LbOutbox      *outbox,
                      LbAccount     *account,
                      gint64         key,
                      LbOutboxState  state,
                      GCancellable  *cancellable)
{
  if (state == LB_OUTBOX_STATE_WAITING)
    g_cancellable_cancel (cancellable);
}

/* A queue cancelled once the message is in the Outbox says it is queued
 * (it is then sent), never "cancelled" for a message that goes out. */
static void
test_queue_cancelled (Fixture       *fixture,
                      gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, ALICE_PASSWORD);
  g_autoptr(LbOutgoingMessage) message = new_message (BOB, "Cancelled late");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 key;

  g_signal_connect (fixture->outbox, "state-changed", G_CALLBACK (cancel_on_waiting_cb), cancellable);
  lb_outbox_queue_async (fixture->outbox, alice, message, 0, cancellable, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_signal_handlers_disconnect_by_func (fixture->outbox, cancel_on_waiting_cb, cancellable);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  key = lb_outbox_queue_finish (fixture->outbox, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (key, >, 0);
  g_clear_object (&result);
  wait_filed (fixture, key);
  g_assert_cmpuint (server_count (BOB, BOB_PASSWORD, "INBOX", lb_outgoing_message_get_message_id (message)), ==, 1);

  /* cancelled before: nothing queued */
  g_clear_object (&message);
  message = new_message (BOB, "Cancelled early");
  lb_outbox_queue_async (fixture->outbox, alice, message, 0, cancellable, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_cmpint (lb_outbox_queue_finish (fixture->outbox, result, &error), <=, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  lb_test_spin (200);
  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_OUTBOX, TRUE), ==, 0);
}

static void
cancel_on_total_cb (LbFolder     *folder,
                    GParamSpec   *pspec,
                    GCancellable *cancellable)
{
  g_cancellable_cancel (cancellable);
}

/* A take-back cancelled once the message left the Outbox still gives it
 * back: it is nowhere else. */
static void
test_take_back_cancelled (Fixture       *fixture,
                          gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, ALICE_PASSWORD);
  g_autoptr(LbOutgoingMessage) message = new_message (BOB, "Taken back, cancelled");
  g_autoptr(LbOutgoingMessage) back = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbFolder *outbox_folder = lb_account_get_folder_by_role (alice, LB_FOLDER_ROLE_OUTBOX);
  gulong id;
  gint64 key;

  lb_outbox_set_undo_delay (fixture->outbox, 3600);
  key = queue_ok (fixture, alice, message, 0);
  WAIT_UNTIL (lb_folder_get_total_count (outbox_folder) == 1, 10, "the Outbox to count the message");
  id = g_signal_connect (outbox_folder, "notify::total-count", G_CALLBACK (cancel_on_total_cb), cancellable);
  lb_outbox_take_back_async (fixture->outbox, alice, key, cancellable, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_signal_handler_disconnect (outbox_folder, id);
  back = lb_outbox_take_back_finish (fixture->outbox, result, &error);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_assert_no_error (error);
  g_assert_nonnull (back);
  g_assert_cmpstr (lb_outgoing_message_get_subject (back), ==, "Taken back, cancelled");
  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_OUTBOX, TRUE), ==, 0);
}

/* Undo within the delay: nothing is sent. */
static void
test_undo (Fixture       *fixture,
           gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, ALICE_PASSWORD);
  g_autoptr(LbOutgoingMessage) message = new_message (BOB, "Undone");
  g_autoptr(LbOutgoingMessage) back = NULL;
  guint before = lb_test_proxy_get_n_connections (fixture->proxy);
  gint64 key;

  lb_outbox_set_undo_delay (fixture->outbox, 2);
  g_assert_cmpuint (lb_outbox_get_undo_delay (fixture->outbox), ==, 2);
  key = queue_ok (fixture, alice, message, 0);
  back = take_back_ok (fixture, alice, key);
  g_assert_cmpstr (lb_outgoing_message_get_subject (back), ==, "Undone");
  lb_test_spin (4000);
  g_assert_false (g_hash_table_contains (fixture->sent, &key));
  g_assert_cmpuint (lb_test_proxy_get_n_connections (fixture->proxy), ==, before);
  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_OUTBOX, TRUE), ==, 0);
  g_assert_cmpuint (server_count (BOB, BOB_PASSWORD, "INBOX", lb_outgoing_message_get_message_id (message)), ==, 0);
}

/* A POP3 account files its sent mail in its local Sent. */
static void
test_pop3 (Fixture       *fixture,
           gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_POP3, ALICE_PASSWORD);
  g_autoptr(LbOutgoingMessage) message = new_message (BOB, "From POP3");
  gint64 key;

  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_SENT, TRUE), ==, 0);
  key = queue_ok (fixture, alice, message, 0);
  wait_filed (fixture, key);
  lb_test_spin (200);
  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_SENT, TRUE), ==, 1);
  g_assert_cmpuint (folder_total (alice, LB_FOLDER_ROLE_OUTBOX, TRUE), ==, 0);
  g_assert_cmpuint (server_count (BOB, BOB_PASSWORD, "INBOX", lb_outgoing_message_get_message_id (message)), ==, 1);
}

static gint64
save_draft_ok (LbAccount         *account,
               LbOutgoingMessage *message,
               gint64             replaces)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 key;

  lb_drafts_save_async (account, message, replaces, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  key = lb_drafts_save_finish (result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (key, >, 0);
  return key;
}

/* A draft saved, saved again (one version on the server), reopened with
 * every field, sent, and gone from Drafts. */
static void
test_drafts (Fixture       *fixture,
             gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, ALICE_PASSWORD);
  g_autoptr(LbOutgoingMessage) message = new_message (BOB, "Черновик");
  g_autoptr(LbOutgoingMessage) opened = NULL;
  g_autoptr(GPtrArray) drafts = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *id;
  gint64 first, second, key;

  lb_outgoing_message_set_cc (message, "Кэрол <carol@elsewhere.test>");
  lb_outgoing_message_set_bcc (message, "dave@elsewhere.test");
  first = save_draft_ok (alice, message, 0);
  id = lb_outgoing_message_get_message_id (message);
  replay (alice);
  g_assert_cmpuint (server_count (ALICE, ALICE_PASSWORD, "Drafts", id), ==, 1);

  lb_outgoing_message_set_body (message, "The second version.\n");
  second = save_draft_ok (alice, message, first);
  g_assert_cmpint (second, !=, first);
  replay (alice);
  drafts = server_find (ALICE, ALICE_PASSWORD, "Drafts", id);
  g_assert_cmpuint (drafts->len, ==, 1);
  g_assert_nonnull (strstr (((ServerMessage *) drafts->pdata[0])->flags, "\\Draft"));
  g_assert_nonnull (strstr (((ServerMessage *) drafts->pdata[0])->flags, "\\Seen"));

  lb_drafts_open_async (alice, second, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  opened = lb_drafts_open_finish (result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (opened);
  g_assert_cmpstr (lb_outgoing_message_get_subject (opened), ==, "Черновик");
  g_assert_cmpstr (lb_outgoing_message_get_to (opened), ==, lb_outgoing_message_get_to (message));
  g_assert_cmpstr (lb_outgoing_message_get_cc (opened), ==, lb_outgoing_message_get_cc (message));
  g_assert_cmpstr (lb_outgoing_message_get_bcc (opened), ==, "dave@elsewhere.test");
  g_assert_cmpstr (lb_outgoing_message_get_body (opened), ==, "The second version.\n");
  g_assert_cmpstr (lb_outgoing_message_get_message_id (opened), ==, id);
  g_assert_cmpstr (lb_outgoing_message_get_from_address (opened), ==, ALICE);

  key = queue_ok (fixture, alice, opened, second);
  wait_filed (fixture, key);
  replay (alice);
  g_assert_cmpuint (server_count (ALICE, ALICE_PASSWORD, "Drafts", id), ==, 0);
  g_assert_cmpuint (server_count (BOB, BOB_PASSWORD, "INBOX", id), ==, 1);
  g_assert_cmpuint (server_count (ALICE, ALICE_PASSWORD, "Sent", id), ==, 1);
}

/* letterbox-cli send: the message goes, is filed in Sent on the server,
 * and its Message-ID is printed; usage errors exit with 2. */
static void
test_cli_send (Fixture       *fixture,
               gconstpointer  data)
{
  LbAccount *alice = add_alice (fixture, LB_INCOMING_IMAP, ALICE_PASSWORD);
  g_autofree char *config = g_build_filename (fixture->dir, "config", NULL);
  g_autofree char *local = g_build_filename (fixture->dir, "data", NULL);
  g_autofree char *attachment = g_build_filename (fixture->dir, "заметка.txt", NULL);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) received = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *id = NULL;
  GMimeMessage *parsed;

  g_assert_true (g_file_set_contents (attachment, "a note\n", -1, &error));
  g_assert_no_error (error);
  drop_outbox (fixture);
  {
    g_autoptr(LbStore) store = g_object_ref (lb_account_get_store (alice));

    lb_account_close (alice);
    lb_test_finalize_store (g_steal_pointer (&store));
  }

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", local, TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, lb_test_getenv ("LB_CLI"), "send", "alice-imap",
                                         "--to", "Боб <" BOB ">", "--subject", "Из командной строки",
                                         "--attach", attachment, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, "Привет, Боб!\nСтрока два.\n", NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("letterbox-cli send → %d\n%s%s", g_subprocess_get_exit_status (process), out, err);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_assert_true (g_str_has_suffix (out, "\n"));
  id = g_strndup (out, strlen (out) - 1);
  g_assert_nonnull (strchr (id, '@'));

  received = server_find (BOB, BOB_PASSWORD, "INBOX", id);
  g_assert_cmpuint (received->len, ==, 1);
  parsed = lb_test_parse_message (((ServerMessage *) received->pdata[0])->raw);
  g_assert_cmpstr (g_mime_message_get_subject (parsed), ==, "Из командной строки");
  g_object_unref (parsed);
  g_assert_cmpuint (server_count (ALICE, ALICE_PASSWORD, "Sent", id), ==, 1);

  /* no recipient: a usage error, nothing read or sent */
  g_clear_object (&process);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  process = g_subprocess_launcher_spawn (launcher, &error, lb_test_getenv ("LB_CLI"), "send", "alice-imap",
                                         "--subject", "Nobody", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, "text\n", NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 2);
  g_assert_cmpstr (out, ==, "");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/outbox/send", test_send);
  ADD ("/outbox/reply-forward", test_reply_forward);
  ADD ("/outbox/server-down", test_server_down);
  ADD ("/outbox/wrong-password", test_wrong_password);
  ADD ("/outbox/unknown-recipient", test_unknown_recipient);
  ADD ("/outbox/uncertain", test_uncertain);
  ADD ("/outbox/undo", test_undo);
  ADD ("/outbox/pop3", test_pop3);
  ADD ("/outbox/drafts", test_drafts);
  ADD ("/outbox/cli-send", test_cli_send);
  ADD ("/outbox/no-record", test_no_record);
  ADD ("/outbox/refile", test_refile);
  ADD ("/outbox/two-processes", test_two_processes);
  ADD ("/outbox/closed-before-filing", test_closed_before_filing);
  ADD ("/outbox/queue-cancelled", test_queue_cancelled);
  ADD ("/outbox/take-back-cancelled", test_take_back_cancelled);
#undef ADD

  return g_test_run ();
}
