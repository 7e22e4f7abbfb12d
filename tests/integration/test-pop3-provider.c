/* test-pop3-provider.c: LbPop3Provider against the harness's real Dovecot:
 * the keep-on-server rules (the server's mailbox checked through IMAP),
 * plain, STLS and implicit TLS, headers-only large messages, connections
 * cut at random points, and letterbox-cli killed during a download
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include <gmime/gmime.h>
#include <sqlite3.h>

#include "lb-pop3-error.h"
#include "lb-pop3-provider.h"
#include "lb-test-proxy.h"
#include "lb-test-script-server.h"
#include "lb-test-session.h"

#define ALICE "alice@example.test"
#define ALICE_PASSWORD "alicepass"
#define BOB "bob@example.test"
#define BOB_PASSWORD "bobpass"

/* ------------------------------------------------------------------ the server side */

static char *
make_message (const char *message_id,
              const char *subject,
              gsize       body_size)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "From: Carol Example <carol@example.test>\r\n"
                               "To: Alice <alice@example.test>\r\n"
                               "Subject: %s\r\n"
                               "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
                               "Message-ID: <%s>\r\n"
                               "MIME-Version: 1.0\r\n"
                               "Content-Type: text/plain; charset=utf-8\r\n"
                               "\r\n"
                               "First line.\r\n"
                               ".A line that starts with a dot.\r\n"
                               ".\r\n"
                               "..Two dots.\r\n",
                          subject, message_id);
  /* lines of 76 characters up to the size wanted */
  while (out->len < body_size)
    g_string_append (out, "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123\r\n");
  g_string_append (out, "Last line.\r\n");
  return g_string_free (out, FALSE);
}

static char *
unique_id (const char *what)
{
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strdup_printf ("%s-%s@letterbox.test", what, uuid);
}

/* Delivers the messages to @rcpt the way a mail server does: LMTP, one
 * transaction each, in one session. */
static void
deliver (const char *rcpt,
         GPtrArray  *messages)
{
  g_autoptr(LbTestSession) lmtp = lb_test_session_open_greeted ("LB_TEST_LMTP_PORT", LB_NET_SECURITY_NONE, "220");

  lb_test_session_send (lmtp, "LHLO letterbox.test");
  g_free (lb_test_session_read_until (lmtp, "250 "));
  for (guint m = 0; m < messages->len; m++)
    {
      g_auto(GStrv) lines = g_strsplit (messages->pdata[m], "\r\n", -1);
      g_autoptr(GString) data = g_string_new (NULL);

      lb_test_session_send (lmtp, "MAIL FROM:<carol@example.test>");
      lb_test_session_expect (lmtp, "250");
      lb_test_session_send (lmtp, "RCPT TO:<%s>", rcpt);
      lb_test_session_expect (lmtp, "250");
      lb_test_session_send (lmtp, "DATA");
      lb_test_session_expect (lmtp, "354");
      /* dot-stuffing (RFC 5321 4.5.2), in one write */
      for (guint i = 0; lines[i] != NULL; i++)
        {
          if (lines[i + 1] == NULL && *lines[i] == '\0')
            break;
          g_string_append_printf (data, "%s%s\r\n", lines[i][0] == '.' ? "." : "", lines[i]);
        }
      g_string_append (data, ".\r\n");
      lb_test_session_write (lmtp, data->str, data->len);
      lb_test_session_expect (lmtp, "250");
    }
  lb_test_session_send (lmtp, "QUIT");
}

static LbTestSession *
imap_open (const char *user,
           const char *password)
{
  g_autoptr(LbTestSession) imap = lb_test_session_open_greeted ("LB_TEST_IMAPS_PORT", LB_NET_SECURITY_TLS, "* OK");

  lb_test_session_send (imap, "a LOGIN %s %s", user, password);
  lb_test_session_expect_tagged_ok (imap, "a");
  lb_test_session_send (imap, "b SELECT INBOX");
  lb_test_session_expect_tagged_ok (imap, "b");
  return g_steal_pointer (&imap);
}

/* The Message-IDs in the user's INBOX, read through IMAP: what POP3 left
 * on the server. */
static GHashTable *
server_ids (const char *user,
            const char *password)
{
  g_autoptr(LbTestSession) imap = imap_open (user, password);
  GHashTable *ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  lb_test_session_send (imap, "c UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])");
  for (;;)
    {
      g_autofree char *line = lb_test_session_read_line (imap);

      if (g_str_has_prefix (line, "c "))
        {
          g_assert_true (g_str_has_prefix (line, "c OK"));
          break;
        }
      if (g_ascii_strncasecmp (line, "Message-ID: <", 13) == 0)
        {
          char *end = strchr (line + 13, '>');

          g_assert_nonnull (end);
          g_hash_table_add (ids, g_strndup (line + 13, end - (line + 13)));
        }
    }
  lb_test_session_send (imap, "z LOGOUT");
  return ids;
}

static void
empty_mailbox (const char *user,
               const char *password)
{
  g_autoptr(LbTestSession) imap = imap_open (user, password);

  lb_test_session_send (imap, "c UID STORE 1:* +FLAGS.SILENT (\\Deleted)");
  lb_test_session_expect_tagged_ok (imap, "c");
  lb_test_session_send (imap, "d EXPUNGE");
  lb_test_session_expect_tagged_ok (imap, "d");
  lb_test_session_send (imap, "z LOGOUT");
}

/* ------------------------------------------------------------------ the client side */

typedef struct
{
  char           *dir;
  LbAccount      *account;
  LbSecrets      *secrets;
  LbConnector    *connector;
  LbStore        *store;
  LbPop3Provider *provider;
  gint64          inbox;
  gint64          archive;
} Side;

static LbAccount *
make_account (const char    *id,
              const char    *user,
              guint16        port,
              LbNetSecurity  security)
{
  LbAccount *account = lb_account_new (id);
  g_autoptr(LbIdentity) identity = lb_identity_new ("Test", user);

  lb_account_add_identity (account, identity);
  lb_account_set_incoming_protocol (account, LB_INCOMING_POP3);
  lb_account_set_incoming_host (account, lb_test_getenv ("LB_TEST_HOST"));
  lb_account_set_incoming_port (account, port);
  lb_account_set_incoming_security (account, security);
  lb_account_set_incoming_user (account, user);
  return account;
}

static gint64
ensure_folder (LbStore      *store,
               const char   *path,
               LbFolderRole  role)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbFolderInfo) info = NULL;

  lb_store_ensure_folder_async (store, path, "/", role, TRUE, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  info = lb_store_ensure_folder_finish (store, result, &error);
  g_assert_no_error (error);
  return info->id;
}

static void
side_open (Side       *side,
           LbAccount  *account,
           const char *password)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbSecretKey key = {
    lb_account_get_id (account), "pop3",
    lb_account_get_incoming_host (account), lb_account_get_incoming_user (account)
  };

  side->dir = g_dir_make_tmp ("lb-pop3-provider-XXXXXX", &error);
  g_assert_no_error (error);
  side->account = account;
  side->secrets = lb_secrets_new ();
  side->connector = lb_test_connector_new ();

  lb_secrets_store_async (side->secrets, &key, "Letterbox test", password, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_secrets_store_finish (side->secrets, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  lb_store_open_async (side->dir, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  side->store = lb_store_open_finish (result, &error);
  g_assert_no_error (error);

  side->inbox = ensure_folder (side->store, "Inbox", LB_FOLDER_ROLE_INBOX);
  side->archive = ensure_folder (side->store, "Kept", LB_FOLDER_ROLE_NONE);
  side->provider = lb_pop3_provider_new (account, side->store, side->secrets, side->connector);
}

/* the same store, a new provider: what a restart of the app does */
static void
side_new_provider (Side *side)
{
  g_assert_finalize_object (g_steal_pointer (&side->provider));
  side->provider = lb_pop3_provider_new (side->account, side->store, side->secrets, side->connector);
}

static void
side_close (Side *side)
{
  g_assert_finalize_object (g_steal_pointer (&side->provider));
  g_clear_object (&side->connector);
  g_clear_object (&side->secrets);
  lb_test_finalize_store (g_steal_pointer (&side->store));
  g_clear_object (&side->account);
  lb_test_remove_tree (side->dir);
  g_clear_pointer (&side->dir, g_free);
}

static gboolean
check (Side        *side,
       LbPop3Stats *stats,
       GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_pop3_provider_check_async (side->provider, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_pop3_provider_check_finish (side->provider, result, stats, error);
}

static LbPop3Stats
check_ok (Side *side)
{
  g_autoptr(GError) error = NULL;
  LbPop3Stats stats = { 0, };

  g_assert_true (check (side, &stats, &error));
  g_assert_no_error (error);
  return stats;
}

static GPtrArray *
store_messages (Side   *side,
                gint64  folder)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *messages;

  lb_store_list_messages_async (side->store, folder, 0, 100000, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  messages = lb_store_list_messages_finish (side->store, result, &error);
  g_assert_no_error (error);
  return messages;
}

static LbMessageSummary *
by_mid (GPtrArray  *messages,
        const char *message_id)
{
  for (guint i = 0; i < messages->len; i++)
    if (g_strcmp0 (((LbMessageSummary *) messages->pdata[i])->message_id, message_id) == 0)
      return messages->pdata[i];
  return NULL;
}

static LbMessageSummary *
must_mid (GPtrArray  *messages,
          const char *message_id)
{
  LbMessageSummary *summary = by_mid (messages, message_id);

  if (summary == NULL)
    g_error ("The store has no message %s", message_id);
  return summary;
}

static GBytes *
read_raw (Side   *side,
          gint64  key)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GBytes *raw;

  lb_provider_fetch_body_async (LB_PROVIDER (side->provider), key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  raw = lb_provider_fetch_body_finish (LB_PROVIDER (side->provider), result, &error);
  g_assert_no_error (error);
  return raw;
}

/* the message as stored here ends with the message as delivered (the
 * server added its trace headers on top) */
static void
assert_stored_whole (Side       *side,
                     gint64      key,
                     const char *message)
{
  g_autoptr(GBytes) raw = read_raw (side, key);
  gsize len;
  const char *data = g_bytes_get_data (raw, &len);
  gsize want = strlen (message);

  g_assert_cmpuint (len, >=, want);
  g_assert_true (memcmp (data + len - want, message, want) == 0);
}

static gboolean
is_partial (Side   *side,
            gint64  key)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean partial = FALSE;

  lb_pop3_provider_is_partial_async (side->provider, key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_pop3_provider_is_partial_finish (side->provider, result, &partial, &error));
  g_assert_no_error (error);
  return partial;
}

/* n messages for alice, their ids in @ids and texts in @texts */
static void
deliver_new (guint       n,
             gsize       size,
             GPtrArray  *ids,
             GPtrArray  *texts)
{
  g_autoptr(GPtrArray) batch = g_ptr_array_new ();

  for (guint i = 0; i < n; i++)
    {
      char *mid = unique_id ("pop3");
      g_autofree char *subject = g_strdup_printf ("POP3 message %u", ids->len);

      g_ptr_array_add (ids, mid);
      g_ptr_array_add (texts, make_message (mid, subject, size));
      g_ptr_array_add (batch, texts->pdata[texts->len - 1]);
    }
  deliver (ALICE, batch);
}

/* ------------------------------------------------------------------ the rules */

/* the default: downloaded, then deleted from the server; the next check
 * finds nothing */
static void
test_delete_after_download (void)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GHashTable) left = NULL;
  Side side = { NULL, };
  LbPop3Stats stats;

  empty_mailbox (ALICE, ALICE_PASSWORD);
  deliver_new (3, 2000, ids, texts);

  side_open (&side, make_account ("alice-delete", ALICE, lb_test_port ("LB_TEST_POP3S_PORT"), LB_NET_SECURITY_TLS),
             ALICE_PASSWORD);
  g_assert_false (lb_account_get_pop3_keep_on_server (side.account));

  stats = check_ok (&side);
  g_assert_cmpuint (stats.on_server, ==, 3);
  g_assert_cmpuint (stats.downloaded, ==, 3);
  g_assert_cmpuint (stats.deleted, ==, 3);

  messages = store_messages (&side, side.inbox);
  g_assert_cmpuint (messages->len, ==, 3);
  for (guint i = 0; i < ids->len; i++)
    {
      LbMessageSummary *summary = must_mid (messages, ids->pdata[i]);

      g_assert_nonnull (summary->uidl);
      assert_stored_whole (&side, summary->key, texts->pdata[i]);
    }

  left = server_ids (ALICE, ALICE_PASSWORD);
  g_assert_cmpuint (g_hash_table_size (left), ==, 0);

  stats = check_ok (&side);
  g_assert_cmpuint (stats.on_server, ==, 0);
  g_assert_cmpuint (stats.downloaded, ==, 0);
  g_clear_pointer (&messages, g_ptr_array_unref);
  messages = store_messages (&side, side.inbox);
  g_assert_cmpuint (messages->len, ==, 3);

  side_close (&side);
}

/* keep a copy: nothing deleted, and the next check downloads only what is
 * new */
static void
test_keep (void)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GHashTable) left = NULL;
  Side side = { NULL, };
  LbPop3Stats stats;

  empty_mailbox (ALICE, ALICE_PASSWORD);
  deliver_new (3, 500, ids, texts);

  side_open (&side, make_account ("alice-keep", ALICE, lb_test_port ("LB_TEST_POP3_PORT"), LB_NET_SECURITY_STARTTLS),
             ALICE_PASSWORD);
  lb_account_set_pop3_keep_on_server (side.account, TRUE);

  stats = check_ok (&side);
  g_assert_cmpuint (stats.downloaded, ==, 3);
  g_assert_cmpuint (stats.deleted, ==, 0);

  stats = check_ok (&side);
  g_assert_cmpuint (stats.on_server, ==, 3);
  g_assert_cmpuint (stats.downloaded, ==, 0);

  deliver_new (1, 500, ids, texts);
  stats = check_ok (&side);
  g_assert_cmpuint (stats.on_server, ==, 4);
  g_assert_cmpuint (stats.downloaded, ==, 1);

  messages = store_messages (&side, side.inbox);
  g_assert_cmpuint (messages->len, ==, 4);
  left = server_ids (ALICE, ALICE_PASSWORD);
  g_assert_cmpuint (g_hash_table_size (left), ==, 4);
  for (guint i = 0; i < ids->len; i++)
    {
      g_assert_nonnull (by_mid (messages, ids->pdata[i]));
      g_assert_true (g_hash_table_contains (left, ids->pdata[i]));
    }

  /* moved to another local folder, it is still known: not downloaded again */
  {
    g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GError) error = NULL;
    gint64 key = must_mid (messages, ids->pdata[0])->key;

    g_array_append_val (keys, key);
    lb_provider_move_async (LB_PROVIDER (side.provider), keys, side.archive, NULL, lb_test_store_result, &result);
    lb_test_wait (&result);
    g_assert_true (lb_provider_move_finish (LB_PROVIDER (side.provider), result, &error));
    g_assert_no_error (error);
  }
  side_new_provider (&side);
  stats = check_ok (&side);
  g_assert_cmpuint (stats.downloaded, ==, 0);

  side_close (&side);
}

/* Makes the store believe a message was downloaded @days days ago,
 * through a connection of the test's own (SQLite allows that). */
static void
age_download (Side       *side,
              const char *uidl,
              guint       days)
{
  g_autofree char *path = g_build_filename (side->dir, "store.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "UPDATE pop3_uidls SET first_seen = first_seen - ?1 WHERE uidl = ?2",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, (sqlite3_int64) days * 24 * 60 * 60);
  sqlite3_bind_text (stmt, 2, uidl, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

/* keep for N days: only what was downloaded more than N days ago goes */
static void
test_keep_days (void)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GHashTable) left = NULL;
  Side side = { NULL, };
  LbPop3Stats stats;

  empty_mailbox (ALICE, ALICE_PASSWORD);
  deliver_new (2, 500, ids, texts);

  side_open (&side, make_account ("alice-days", ALICE, lb_test_port ("LB_TEST_POP3S_PORT"), LB_NET_SECURITY_TLS),
             ALICE_PASSWORD);
  lb_account_set_pop3_keep_on_server (side.account, TRUE);
  lb_account_set_pop3_delete_after_days (side.account, 7);

  stats = check_ok (&side);
  g_assert_cmpuint (stats.downloaded, ==, 2);
  g_assert_cmpuint (stats.deleted, ==, 0);

  /* six days on, nothing goes; eight days on, the first goes */
  messages = store_messages (&side, side.inbox);
  age_download (&side, must_mid (messages, ids->pdata[0])->uidl, 6);
  stats = check_ok (&side);
  g_assert_cmpuint (stats.deleted, ==, 0);
  age_download (&side, must_mid (messages, ids->pdata[0])->uidl, 2);
  stats = check_ok (&side);
  g_assert_cmpuint (stats.downloaded, ==, 0);
  g_assert_cmpuint (stats.deleted, ==, 1);

  left = server_ids (ALICE, ALICE_PASSWORD);
  g_assert_cmpuint (g_hash_table_size (left), ==, 1);
  g_assert_true (g_hash_table_contains (left, ids->pdata[1]));
  /* still here */
  g_clear_pointer (&messages, g_ptr_array_unref);
  messages = store_messages (&side, side.inbox);
  g_assert_cmpuint (messages->len, ==, 2);

  side_close (&side);
}

/* delete from the server when deleted here for good */
static void
test_delete_when_deleted_here (void)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GHashTable) left = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  Side side = { NULL, };
  LbPop3Stats stats;
  gint64 key;

  empty_mailbox (ALICE, ALICE_PASSWORD);
  deliver_new (3, 500, ids, texts);

  side_open (&side, make_account ("alice-here", ALICE, lb_test_port ("LB_TEST_POP3S_PORT"), LB_NET_SECURITY_TLS),
             ALICE_PASSWORD);
  lb_account_set_pop3_keep_on_server (side.account, TRUE);
  lb_account_set_pop3_delete_when_deleted_here (side.account, TRUE);

  stats = check_ok (&side);
  g_assert_cmpuint (stats.downloaded, ==, 3);
  g_assert_cmpuint (stats.deleted, ==, 0);

  /* one moved to another local folder and deleted there, one only moved */
  messages = store_messages (&side, side.inbox);
  key = must_mid (messages, ids->pdata[1])->key;
  g_array_append_val (keys, key);
  key = must_mid (messages, ids->pdata[2])->key;
  g_array_append_val (keys, key);
  lb_provider_move_async (LB_PROVIDER (side.provider), keys, side.archive, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_move_finish (LB_PROVIDER (side.provider), result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_array_set_size (keys, 1);
  lb_provider_delete_async (LB_PROVIDER (side.provider), keys, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_delete_finish (LB_PROVIDER (side.provider), result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  stats = check_ok (&side);
  g_assert_cmpuint (stats.downloaded, ==, 0);
  g_assert_cmpuint (stats.deleted, ==, 1);

  left = server_ids (ALICE, ALICE_PASSWORD);
  g_assert_cmpuint (g_hash_table_size (left), ==, 2);
  g_assert_true (g_hash_table_contains (left, ids->pdata[0]));
  g_assert_false (g_hash_table_contains (left, ids->pdata[1]));
  g_assert_true (g_hash_table_contains (left, ids->pdata[2]));

  /* and the next check neither downloads nor deletes anything */
  stats = check_ok (&side);
  g_assert_cmpuint (stats.downloaded, ==, 0);
  g_assert_cmpuint (stats.deleted, ==, 0);

  side_close (&side);
}

/* ------------------------------------------------------------------ connections */

static void
test_plain_needs_consent (void)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  Side side = { NULL, };
  LbPop3Stats stats;

  empty_mailbox (ALICE, ALICE_PASSWORD);
  deliver_new (1, 500, ids, texts);
  side_open (&side, make_account ("alice-plain", ALICE, lb_test_port ("LB_TEST_POP3_PORT"), LB_NET_SECURITY_NONE),
             ALICE_PASSWORD);

  g_assert_false (check (&side, &stats, &error));
  g_assert_error (error, LB_POP3_PROVIDER_ERROR, LB_POP3_PROVIDER_ERROR_PLAINTEXT_REFUSED);
  g_clear_error (&error);

  lb_account_set_allow_plaintext_password (side.account, TRUE);
  stats = check_ok (&side);
  g_assert_cmpuint (stats.downloaded, ==, 1);
  side_close (&side);
}

static void
test_wrong_password (void)
{
  g_autoptr(GError) error = NULL;
  Side side = { NULL, };
  LbPop3Stats stats;

  side_open (&side, make_account ("alice-wrong", ALICE, lb_test_port ("LB_TEST_POP3S_PORT"), LB_NET_SECURITY_TLS),
             "not the password");
  g_assert_false (check (&side, &stats, &error));
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_AUTHENTICATION);
  g_test_message ("%s", error->message);
  side_close (&side);
}

/* ------------------------------------------------------------------ scripted servers */

/* A check asked for from the callback of the one before runs after it,
 * once. */
typedef struct
{
  Side         *side;
  GAsyncResult *second;
} Again;

static void
again_second_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  ((Again *) user_data)->second = g_object_ref (result);
}

static void
again_first_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Again *again = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (lb_pop3_provider_check_finish (LB_POP3_PROVIDER (object), result, NULL, &error));
  g_assert_no_error (error);
  lb_pop3_provider_check_async (again->side->provider, NULL, again_second_cb, again);
}

static void
test_check_from_callback (void)
{
  Side side = { NULL, };
  Again again = { &side, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) messages = NULL;
  LbPop3Stats stats = { 0, };

  empty_mailbox (ALICE, ALICE_PASSWORD);
  deliver_new (2, 500, ids, texts);
  side_open (&side, make_account ("alice-again", ALICE, lb_test_port ("LB_TEST_POP3S_PORT"), LB_NET_SECURITY_TLS),
             ALICE_PASSWORD);
  lb_pop3_provider_check_async (side.provider, NULL, again_first_cb, &again);
  lb_test_wait (&again.second);
  g_assert_true (lb_pop3_provider_check_finish (side.provider, again.second, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.downloaded, ==, 0);
  g_clear_object (&again.second);
  messages = store_messages (&side, side.inbox);
  g_assert_cmpuint (messages->len, ==, 2);
  side_close (&side);
}

#define SCRIPT_LOGIN \
  "S: +OK POP3 ready\n" \
  "C: CAPA\n" "S: +OK\n" "S: USER\n" "S: UIDL\n" "S: TOP\n" "S: .\n" \
  "C: USER alice@example.test\n" "S: +OK\n" "C: PASS alicepass\n" "S: +OK\n"

/* Two messages with one UIDL (a broken server, or the TOP fallback's
 * hash of two identical header blocks): one is stored, neither deleted,
 * whatever the rule says. */
static void
test_duplicate_uidl (void)
{
  g_autoptr(LbTestScriptServer) server = lb_test_script_server_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  Side side = { NULL, };
  LbPop3Stats stats = { 0, };

  lb_test_script_server_add_script (server,
    SCRIPT_LOGIN
    "C: UIDL\n" "S: +OK\n" "S: 1 dup\n" "S: 2 dup\n" "S: .\n"
    "C: RETR 1\n" "S: +OK\n" "S: Subject: one\n" "S: \n" "S: body one\n" "S: .\n"
    "C: QUIT\n" "S: +OK\n");
  side_open (&side, make_account ("alice-dup", ALICE, lb_test_script_server_get_port (server), LB_NET_SECURITY_NONE),
             ALICE_PASSWORD);
  lb_account_set_allow_plaintext_password (side.account, TRUE);
  g_assert_false (lb_account_get_pop3_keep_on_server (side.account));

  g_assert_true (check (&side, &stats, &error));
  g_assert_no_error (error);
  /* the script played to its end: no DELE */
  g_assert_true (lb_test_script_server_wait (server, &error));
  g_assert_no_error (error);
  messages = store_messages (&side, side.inbox);
  g_assert_cmpuint (messages->len, ==, 1);
  g_assert_cmpuint (stats.downloaded, ==, 1);
  g_assert_cmpuint (stats.deleted, ==, 0);
  side_close (&side);
}

/* The rest of a headers-only message, refused by the server: an error,
 * and the message stays headers-only here and on the server. */
static void
test_rest_refused (void)
{
  g_autoptr(LbTestScriptServer) server = lb_test_script_server_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  Side side = { NULL, };
  LbPop3Stats stats = { 0, };
  gint64 key;

#define SCRIPT_LISTING \
  SCRIPT_LOGIN \
  "C: UIDL\n" "S: +OK\n" "S: 1 big\n" "S: .\n" \
  "C: LIST\n" "S: +OK\n" "S: 1 5000\n" "S: .\n"
  lb_test_script_server_add_script (server, SCRIPT_LISTING
    "C: TOP 1 0\n" "S: +OK\n" "S: Subject: big\n" "S: Message-ID: <big@example.test>\n" "S: \n" "S: .\n"
    "C: QUIT\n" "S: +OK\n");
  lb_test_script_server_add_script (server, SCRIPT_LISTING
    "C: RETR 1\n" "S: -ERR no such message\n");
  side_open (&side, make_account ("alice-rest", ALICE, lb_test_script_server_get_port (server), LB_NET_SECURITY_NONE),
             ALICE_PASSWORD);
  lb_account_set_allow_plaintext_password (side.account, TRUE);
  lb_account_set_pop3_size_limit (side.account, 1);

  g_assert_true (check (&side, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.headers_only, ==, 1);
  g_assert_cmpuint (stats.deleted, ==, 0);
  messages = store_messages (&side, side.inbox);
  g_assert_cmpuint (messages->len, ==, 1);
  key = ((LbMessageSummary *) messages->pdata[0])->key;
  g_assert_true (is_partial (&side, key));

  lb_pop3_provider_download_rest_async (side.provider, key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_false (lb_pop3_provider_download_rest_finish (side.provider, result, &error));
  g_assert_error (error, LB_POP3_PROVIDER_ERROR, LB_POP3_PROVIDER_ERROR_NOT_ON_SERVER);
  g_clear_error (&error);
  g_clear_object (&result);
  g_assert_true (is_partial (&side, key));
  g_assert_true (lb_test_script_server_wait (server, &error));
  g_assert_no_error (error);
  side_close (&side);
}

/* ------------------------------------------------------------------ large messages */

static void
test_headers_only (void)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GHashTable) left = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) raw = NULL;
  Side side = { NULL, };
  LbPop3Stats stats;
  LbMessageSummary *big;
  gint64 key;

  empty_mailbox (ALICE, ALICE_PASSWORD);
  deliver_new (1, 500, ids, texts);
  deliver_new (1, 64 * 1024, ids, texts);

  side_open (&side, make_account ("alice-big", ALICE, lb_test_port ("LB_TEST_POP3S_PORT"), LB_NET_SECURITY_TLS),
             ALICE_PASSWORD);
  lb_account_set_pop3_size_limit (side.account, 16);

  stats = check_ok (&side);
  g_assert_cmpuint (stats.downloaded, ==, 1);
  g_assert_cmpuint (stats.headers_only, ==, 1);
  /* the small one is gone from the server, the large one stays until its
   * rest is here, whatever the rule */
  g_assert_cmpuint (stats.deleted, ==, 1);
  left = server_ids (ALICE, ALICE_PASSWORD);
  g_assert_cmpuint (g_hash_table_size (left), ==, 1);
  g_assert_true (g_hash_table_contains (left, ids->pdata[1]));
  g_clear_pointer (&left, g_hash_table_unref);

  messages = store_messages (&side, side.inbox);
  g_assert_cmpuint (messages->len, ==, 2);
  big = must_mid (messages, ids->pdata[1]);
  g_assert_cmpstr (big->subject, ==, "POP3 message 1");
  key = big->key;
  g_assert_true (is_partial (&side, key));
  g_assert_false (is_partial (&side, must_mid (messages, ids->pdata[0])->key));
  raw = read_raw (&side, key);
  g_assert_cmpuint (g_bytes_get_size (raw), <, 4096);

  /* checked again: not downloaded again, still not deleted */
  stats = check_ok (&side);
  g_assert_cmpuint (stats.headers_only, ==, 0);
  g_assert_cmpuint (stats.deleted, ==, 0);

  /* filed into another folder, flagged, then the rest downloaded */
  g_array_append_val (keys, key);
  lb_provider_move_async (LB_PROVIDER (side.provider), keys, side.archive, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_move_finish (LB_PROVIDER (side.provider), result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  lb_provider_set_flags_async (LB_PROVIDER (side.provider), keys, LB_MESSAGE_FLAGGED, 0, NULL,
                               lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_set_flags_finish (LB_PROVIDER (side.provider), result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  lb_pop3_provider_download_rest_async (side.provider, key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_pop3_provider_download_rest_finish (side.provider, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  g_assert_false (is_partial (&side, key));
  assert_stored_whole (&side, key, texts->pdata[1]);
  g_clear_pointer (&messages, g_ptr_array_unref);
  messages = store_messages (&side, side.archive);
  g_assert_cmpuint (messages->len, ==, 1);
  g_assert_cmpint (((LbMessageSummary *) messages->pdata[0])->key, ==, key);
  g_assert_true (((LbMessageSummary *) messages->pdata[0])->flags & LB_MESSAGE_FLAGGED);

  /* whole now: the rule deletes it from the server (at the latest at the
   * next check) */
  check_ok (&side);
  left = server_ids (ALICE, ALICE_PASSWORD);
  g_assert_cmpuint (g_hash_table_size (left), ==, 0);

  side_close (&side);
}

/* ------------------------------------------------------------------ cuts */

/* Each message delivered is here exactly once or still on the server (or
 * both); nothing is here twice. */
static void
assert_nothing_lost (Side      *side,
                     GPtrArray *ids,
                     gboolean   all_here)
{
  g_autoptr(GPtrArray) messages = store_messages (side, side->inbox);
  g_autoptr(GHashTable) here = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) left = server_ids (ALICE, ALICE_PASSWORD);

  for (guint i = 0; i < messages->len; i++)
    {
      LbMessageSummary *summary = messages->pdata[i];

      if (!g_hash_table_add (here, summary->message_id))
        g_error ("%s is here twice", summary->message_id);
    }
  for (guint i = 0; i < ids->len; i++)
    {
      gboolean is_here = g_hash_table_contains (here, ids->pdata[i]);

      if (!is_here && !g_hash_table_contains (left, ids->pdata[i]))
        g_error ("%s was deleted from the server and is not here", (char *) ids->pdata[i]);
      if (all_here && !is_here)
        g_error ("%s was not downloaded", (char *) ids->pdata[i]);
    }
  g_assert_cmpuint (messages->len, <=, ids->len);
}

/* Checks cut by the proxy at a random byte of the session: in the
 * greeting, the listings, a message, the DELEs or the QUIT. New mail
 * arrives whenever the server's mailbox is empty, so that every session
 * has something to download; every third check is made by a new provider
 * (a restart). After each: nothing lost, nothing twice. */
static void
test_cuts (void)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(LbTestProxy) proxy = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = NULL;
  Side side = { NULL, };
  guint cuts = 0;
  guint attempt;
  guint32 seed = g_test_rand_int ();
  const gsize size = 3000;

  g_test_message ("seed %u", seed);
  rand = g_rand_new_with_seed (seed);
  empty_mailbox (ALICE, ALICE_PASSWORD);
  proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"), lb_test_port ("LB_TEST_POP3_PORT"), &error);
  g_assert_no_error (error);
  side_open (&side, make_account ("alice-cuts", ALICE, lb_test_proxy_get_port (proxy), LB_NET_SECURITY_NONE),
             ALICE_PASSWORD);
  lb_account_set_allow_plaintext_password (side.account, TRUE);

  for (attempt = 0; cuts < 50 && attempt < 200; attempt++)
    {
      g_autoptr(GHashTable) left = server_ids (ALICE, ALICE_PASSWORD);
      guint on_server = g_hash_table_size (left);
      guint64 session;
      LbPop3Stats stats;

      if (on_server == 0)
        {
          deliver_new (8, size, ids, texts);
          on_server = 8;
        }
      /* about the bytes the server sends in a whole session: greeting,
       * CAPA and login; the listings; the messages with the trace
       * headers Dovecot adds; the DELE and QUIT replies */
      session = 300 + on_server * (size + 600);
      lb_test_proxy_set_cut_after (proxy, (guint64) g_rand_int_range (rand, 1, (gint32) session));
      if (!check (&side, &stats, &error))
        {
          cuts++;
          g_assert_nonnull (error);
          g_clear_error (&error);
        }
      if (attempt % 3 == 2)
        side_new_provider (&side);
      assert_nothing_lost (&side, ids, FALSE);
    }
  g_test_message ("%u of %u checks cut, %u messages", cuts, attempt, ids->len);
  g_assert_cmpuint (cuts, >=, 50);
  g_assert_cmpuint (lb_test_proxy_get_n_cuts (proxy), >=, 50);

  /* then a check that is not cut: everything here, nothing on the server */
  lb_test_proxy_set_cut_after (proxy, 0);
  check_ok (&side);
  assert_nothing_lost (&side, ids, TRUE);
  {
    g_autoptr(GHashTable) left = server_ids (ALICE, ALICE_PASSWORD);

    g_assert_cmpuint (g_hash_table_size (left), ==, 0);
  }
  side_close (&side);
}

/* ------------------------------------------------------------------ SIGKILL */

typedef struct
{
  char *out;
  char *err;
  int   status;
} CliRun;

static void
cli_run_clear (CliRun *run)
{
  g_free (run->out);
  g_free (run->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliRun, cli_run_clear)

static GSubprocess *
spawn_cli (const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  GSubprocess *process;

  g_ptr_array_add (argv, (gpointer) lb_test_getenv ("LB_CLI"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  return process;
}

static void
run_cli (CliRun             *run,
         const char         *input,
         const char * const *args)
{
  g_autoptr(GSubprocess) process = spawn_cli (args);
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8 (process, input, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
}

/* the subjects of the messages here, as letterbox-cli lists them */
static GHashTable *
cli_subjects (void)
{
  const char *list[] = { "list", "bob-at-example.test", "Inbox", "--limit", "0", NULL };
  g_auto(CliRun) run = { 0 };
  GHashTable *ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) lines = NULL;

  run_cli (&run, NULL, list);
  g_assert_cmpint (run.status, ==, 0);
  lines = g_strsplit (run.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], "\t", -1);

      if (*lines[i] == '\0')
        continue;
      g_assert_cmpuint (g_strv_length (fields), ==, 5);
      if (!g_hash_table_add (ids, g_strdup (fields[4])))
        g_error ("“%s” is here twice", fields[4]);
    }
  return ids;
}

/* the messages recorded in a store, read through a connection of the
 * test's own while letterbox-cli writes (0 before the store exists) */
static guint
count_rows (const char *store_dir)
{
  g_autofree char *path = g_build_filename (store_dir, "store.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  guint n = 0;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return 0;
  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
      sqlite3_busy_timeout (db, 1000) == SQLITE_OK &&
      sqlite3_prepare_v2 (db, "SELECT count(*) FROM messages", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    n = (guint) sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}

/* Waits until the store holds @n messages, at most 10 s. */
static void
wait_for_rows (const char *store_dir,
               guint       n)
{
  for (guint i = 0; i < 5000 && count_rows (store_dir) < n; i++)
    g_usleep (2000);
}

/* letterbox-cli sync killed (SIGKILL) at random points of a download,
 * then run to the end: nothing lost, nothing twice. Every other kill
 * comes after a random delay (in the session, mostly mid-stream), the
 * others once a random number of messages is recorded (after a commit,
 * before or during the deletions). */
static void
test_sigkill (void)
{
  const char *add[] = { "account", "add", "--address", BOB, "--protocol", "pop3",
                        "--host", lb_test_getenv ("LB_TEST_HOST"), "--port", lb_test_getenv ("LB_TEST_POP3_PORT"),
                        "--security", "none", "--allow-plaintext-password", "--password-stdin", NULL };
  const char *sync[] = { "sync", "bob-at-example.test", NULL };
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) subjects = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
  g_autofree char *store_dir = g_build_filename (g_get_user_data_dir (), "letterbox", "bob-at-example.test", NULL);
  g_auto(CliRun) added = { 0 };
  guint kills = 0;

  empty_mailbox (BOB, BOB_PASSWORD);
  run_cli (&added, BOB_PASSWORD "\n", add);
  g_assert_cmpint (added.status, ==, 0);

  for (guint batch = 0; batch < 3; batch++)
    {
      g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
      guint before = count_rows (store_dir);

      for (guint i = 0; i < 400; i++)
        {
          char *mid = unique_id ("kill");
          char *subject = g_strdup_printf ("Killed download %u", ids->len);

          g_ptr_array_add (ids, mid);
          g_ptr_array_add (subjects, subject);
          g_ptr_array_add (texts, make_message (mid, subject, 40000));
        }
      deliver (BOB, texts);

      for (guint round = 0; round < 2; round++)
        {
          g_autoptr(GSubprocess) process = spawn_cli (sync);
          g_autoptr(GHashTable) here = NULL;
          g_autoptr(GHashTable) left = NULL;

          if (round == 0)
            g_usleep (g_rand_int_range (rand, 5, 300) * 1000);
          else
            wait_for_rows (store_dir, before + g_rand_int_range (rand, 1, 400));
          /* (nothing, when it has exited already) */
          g_subprocess_send_signal (process, SIGKILL);
          g_subprocess_wait (process, NULL, NULL);
          if (g_subprocess_get_if_signaled (process) && g_subprocess_get_term_sig (process) == SIGKILL)
            kills++;

          here = cli_subjects ();
          left = server_ids (BOB, BOB_PASSWORD);
          for (guint i = 0; i < ids->len; i++)
            if (!g_hash_table_contains (here, subjects->pdata[i]) && !g_hash_table_contains (left, ids->pdata[i]))
              g_error ("%s was deleted from the server and is not here", (char *) ids->pdata[i]);
          g_test_message ("batch %u, round %u: %u here, %u on the server", batch, round,
                          g_hash_table_size (here), g_hash_table_size (left));
        }

      /* and a run to the end */
      {
        g_auto(CliRun) run = { 0 };
        g_autoptr(GHashTable) here = NULL;
        g_autoptr(GHashTable) left = NULL;

        run_cli (&run, NULL, sync);
        g_assert_cmpint (run.status, ==, 0);
        here = cli_subjects ();
        left = server_ids (BOB, BOB_PASSWORD);
        g_assert_cmpuint (g_hash_table_size (here), ==, ids->len);
        for (guint i = 0; i < ids->len; i++)
          g_assert_true (g_hash_table_contains (here, subjects->pdata[i]));
        g_assert_cmpuint (g_hash_table_size (left), ==, 0);
      }
    }
  g_test_message ("%u runs killed", kills);
  g_assert_cmpuint (kills, >=, 3);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_func ("/pop3-provider/delete-after-download", test_delete_after_download);
  g_test_add_func ("/pop3-provider/keep", test_keep);
  g_test_add_func ("/pop3-provider/keep-days", test_keep_days);
  g_test_add_func ("/pop3-provider/delete-when-deleted-here", test_delete_when_deleted_here);
  g_test_add_func ("/pop3-provider/plain-needs-consent", test_plain_needs_consent);
  g_test_add_func ("/pop3-provider/wrong-password", test_wrong_password);
  g_test_add_func ("/pop3-provider/headers-only", test_headers_only);
  g_test_add_func ("/pop3-provider/check-from-callback", test_check_from_callback);
  g_test_add_func ("/pop3-provider/duplicate-uidl", test_duplicate_uidl);
  g_test_add_func ("/pop3-provider/rest-refused", test_rest_refused);
  g_test_add_func ("/pop3-provider/cuts", test_cuts);
  g_test_add_func ("/pop3-provider/sigkill", test_sigkill);

  return g_test_run ();
}
