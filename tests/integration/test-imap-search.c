/* test-imap-search.c: lb_imap_provider_search_async() against the harness's Dovecot
 *
 * The server half of a search: words only in the text of messages whose
 * bodies were never downloaded, which the store's full-text index cannot
 * know, found by the server and handed back as the store's keys. The
 * provider, its store, the keyring and the server are real; a loopback
 * proxy makes the server unreachable.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <gmime/gmime.h>

#include "lb-account.h"
#include "lb-imap-client.h"
#include "lb-imap-provider.h"
#include "lb-secrets.h"
#include "lb-store.h"
#include "lb-test-imap.h"
#include "lb-test-proxy.h"
#include "lb-test-session.h"

#define ALICE "alice@example.test"

/* ------------------------------------------------------------------ messages on the server */

static char *
unique_id (const char *what)
{
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strdup_printf ("%s-%s@letterbox.test", what, uuid);
}

static char *
make_message (const char *message_id,
              const char *subject,
              gint64      date,
              const char *body)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc (date);
  g_autofree char *date_text = g_date_time_format (when, "%d %b %Y %H:%M:%S +0000");

  return g_strdup_printf ("From: Carol Example <carol@example.test>\r\n"
                          "To: Alice <alice@example.test>\r\n"
                          "Subject: %s\r\n"
                          "Date: %s\r\n"
                          "Message-ID: <%s>\r\n"
                          "MIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n"
                          "Content-Transfer-Encoding: 8bit\r\n"
                          "\r\n"
                          "%s\r\n",
                          subject, date_text, message_id, body);
}

static gboolean
raw_mailbox (LbImapClient    *client,
             LbImapMailboxOp  op,
             const char      *mailbox)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_imap_client_mailbox_async (client, op, mailbox, NULL, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_imap_client_mailbox_finish (client, result, &error);
}

static void
raw_fresh_mailbox (LbImapClient *client,
                   const char   *mailbox)
{
  raw_mailbox (client, LB_IMAP_MAILBOX_DELETE, mailbox);
  g_assert_true (raw_mailbox (client, LB_IMAP_MAILBOX_CREATE, mailbox));
}

/* Appends a message with @body and returns its Message-ID. */
static char *
raw_append (LbImapClient *client,
            const char   *mailbox,
            const char   *subject,
            const char   *body)
{
  static gint64 date = 1700000000;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  char *message_id = unique_id ("search");
  g_autofree char *text = make_message (message_id, subject, date++, body);
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
  guint32 uid;

  lb_imap_client_append_async (client, mailbox, NULL, 0, bytes, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  uid = lb_imap_client_append_finish (client, result, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uid, >, 0);
  return message_id;
}

/* ------------------------------------------------------------------ the account, store and provider */

typedef struct
{
  char           *dir;
  LbAccount      *account;
  LbStore        *store;
  LbSecrets      *secrets;
  LbConnector    *connector;
  LbImapProvider *provider;
  LbTestProxy    *proxy;
} Side;

static void
side_open (Side       *side,
           const char *account_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbIdentity) identity = lb_identity_new ("Test", ALICE);
  LbSecretKey key = { NULL, };

  side->proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"), lb_test_port ("LB_TEST_IMAP_PORT"), &error);
  g_assert_no_error (error);

  side->account = lb_account_new (account_id);
  lb_account_add_identity (side->account, identity);
  lb_account_set_incoming_protocol (side->account, LB_INCOMING_IMAP);
  lb_account_set_incoming_host (side->account, lb_test_getenv ("LB_TEST_HOST"));
  lb_account_set_incoming_port (side->account, lb_test_proxy_get_port (side->proxy));
  lb_account_set_incoming_security (side->account, LB_NET_SECURITY_STARTTLS);
  lb_account_set_incoming_user (side->account, ALICE);

  side->secrets = lb_secrets_new ();
  side->connector = lb_test_connector_new ();
  key.account_id = lb_account_get_id (side->account);
  key.protocol = "imap";
  key.host = lb_account_get_incoming_host (side->account);
  key.user = ALICE;
  lb_secrets_store_async (side->secrets, &key, "Letterbox test", lb_test_imap_password (ALICE), NULL,
                          lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_secrets_store_finish (side->secrets, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  side->dir = g_dir_make_tmp ("lb-imap-search-XXXXXX", &error);
  g_assert_no_error (error);
  lb_store_open_async (side->dir, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  side->store = lb_store_open_finish (result, &error);
  g_assert_no_error (error);

  side->provider = lb_imap_provider_new (side->account, side->store, side->secrets, side->connector, NULL);
  lb_imap_provider_set_background (side->provider, FALSE);
}

static void
side_close (Side *side)
{
  lb_imap_provider_close (side->provider);
  /* its jobs hand back their references as they fail */
  for (guint i = 0; i < 500 && G_OBJECT (side->provider)->ref_count > 1; i++)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (10000);
  g_assert_finalize_object (g_steal_pointer (&side->provider));
  g_clear_object (&side->connector);
  g_clear_object (&side->secrets);
  lb_test_finalize_store (g_steal_pointer (&side->store));
  g_clear_object (&side->account);
  lb_test_remove_tree (side->dir);
  g_clear_pointer (&side->dir, g_free);
  g_clear_pointer (&side->proxy, lb_test_proxy_free);
}

static gint64
folder_id (Side       *side,
           const char *path)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) folders = NULL;

  lb_provider_list_folders_async (LB_PROVIDER (side->provider), NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  folders = lb_provider_list_folders_finish (LB_PROVIDER (side->provider), result, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < folders->len; i++)
    if (g_strcmp0 (((LbFolderInfo *) folders->pdata[i])->path, path) == 0)
      return ((LbFolderInfo *) folders->pdata[i])->id;
  g_error ("The store has no folder %s", path);
  return 0;
}

static void
sync_ok (Side   *side,
         gint64  id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_imap_provider_sync_folder_async (side->provider, id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_imap_provider_sync_folder_finish (side->provider, result, NULL, &error));
  g_assert_no_error (error);
}

/* The key of the stored message with @message_id, 0 if none. */
static gint64
key_of (Side       *side,
        gint64      id,
        const char *message_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) messages = NULL;

  lb_store_list_messages_async (side->store, id, 0, 100000, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  messages = lb_store_list_messages_finish (side->store, result, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < messages->len; i++)
    {
      LbMessageSummary *summary = messages->pdata[i];

      if (g_strcmp0 (summary->message_id, message_id) == 0)
        return summary->key;
    }
  return 0;
}

static guint
local_search (Side       *side,
              const char *text)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) found = NULL;

  lb_store_index_pending_async (side->store, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_index_pending_finish (side->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  lb_store_search_async (side->store, text, 0, 100, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  found = lb_store_search_finish (side->store, result, &error);
  g_assert_no_error (error);
  return found->len;
}

static GArray *
server_search (Side        *side,
               gint64       id,
               const char  *text,
               guint        limit,
               GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_imap_provider_search_async (side->provider, id, text, limit, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_imap_provider_search_finish (side->provider, result, error);
}

static GArray *
search_ok (Side       *side,
           gint64      id,
           const char *text,
           guint       limit)
{
  g_autoptr(GError) error = NULL;
  GArray *keys = server_search (side, id, text, limit, &error);

  g_assert_no_error (error);
  g_assert_nonnull (keys);
  return keys;
}

/* Asserts @keys is exactly the 0-terminated list of keys that follows. */
static void
assert_keys (GArray *keys,
             ...)
{
  va_list args;
  guint n = 0;

  va_start (args, keys);
  for (gint64 key = va_arg (args, gint64); key != 0; key = va_arg (args, gint64), n++)
    {
      g_assert_cmpuint (n, <, keys->len);
      g_assert_cmpint (g_array_index (keys, gint64, n), ==, key);
    }
  va_end (args);
  g_assert_cmpuint (keys->len, ==, n);
}

/* ------------------------------------------------------------------ the tests */

static void
test_body_words (void)
{
  g_autoptr(LbImapClient) raw = lb_test_imap_open (ALICE);
  g_autofree char *quokka = NULL, *both = NULL, *wombat = NULL, *bear = NULL, *late = NULL;
  g_autoptr(GArray) keys = NULL;
  gint64 id, k_quokka, k_both, k_wombat, k_bear;
  Side side = { NULL, };

  raw_fresh_mailbox (raw, "Words");
  quokka = raw_append (raw, "Words", "Note one", "A quokka sleeps in the shade.");
  both = raw_append (raw, "Words", "Note two", "The quokka met a wombat.");
  wombat = raw_append (raw, "Words", "Note three", "Only a wombat here.");
  bear = raw_append (raw, "Words", "Note four", "Привет! Здесь живёт медведь.");

  side_open (&side, "alice-search-words");
  id = folder_id (&side, "Words");
  sync_ok (&side, id);
  k_quokka = key_of (&side, id, quokka);
  k_both = key_of (&side, id, both);
  k_wombat = key_of (&side, id, wombat);
  k_bear = key_of (&side, id, bear);
  g_assert_cmpint (k_quokka, >, 0);
  g_assert_cmpint (k_bear, >, 0);

  /* the headers are here, the bodies are not: the store cannot know */
  g_assert_cmpuint (local_search (&side, "quokka"), ==, 0);
  g_assert_cmpuint (local_search (&side, "медведь"), ==, 0);
  g_assert_cmpuint (local_search (&side, "Note"), ==, 4);

  /* the server can: newest first */
  keys = search_ok (&side, id, "quokka", 50);
  assert_keys (keys, k_both, k_quokka, (gint64) 0);
  g_clear_pointer (&keys, g_array_unref);

  /* every word, ANDed, wherever it is; extra spaces are no words */
  keys = search_ok (&side, id, "  wombat\tquokka ", 50);
  assert_keys (keys, k_both, (gint64) 0);
  g_clear_pointer (&keys, g_array_unref);
  keys = search_ok (&side, id, "wombat", 50);
  assert_keys (keys, k_wombat, k_both, (gint64) 0);
  g_clear_pointer (&keys, g_array_unref);
  keys = search_ok (&side, id, "wombat three", 50);
  assert_keys (keys, k_wombat, (gint64) 0);
  g_clear_pointer (&keys, g_array_unref);

  /* not ASCII: sent with CHARSET UTF-8; and a word with a quote */
  keys = search_ok (&side, id, "медведь", 50);
  assert_keys (keys, k_bear, (gint64) 0);
  g_clear_pointer (&keys, g_array_unref);
  keys = search_ok (&side, id, "Привет медведь", 50);
  assert_keys (keys, k_bear, (gint64) 0);
  g_clear_pointer (&keys, g_array_unref);
  keys = search_ok (&side, id, "медведь quokka", 50);
  assert_keys (keys, (gint64) 0);
  g_clear_pointer (&keys, g_array_unref);
  keys = search_ok (&side, id, "quo\"kka", 50);
  assert_keys (keys, (gint64) 0);
  g_clear_pointer (&keys, g_array_unref);

  /* nothing to find */
  keys = search_ok (&side, id, "platypus", 50);
  assert_keys (keys, (gint64) 0);
  g_clear_pointer (&keys, g_array_unref);
  keys = search_ok (&side, id, "   ", 50);
  assert_keys (keys, (gint64) 0);
  g_clear_pointer (&keys, g_array_unref);

  /* the limit holds, the newest kept */
  keys = search_ok (&side, id, "quokka", 1);
  assert_keys (keys, k_both, (gint64) 0);
  g_clear_pointer (&keys, g_array_unref);

  /* what the store does not have yet is left out */
  late = raw_append (raw, "Words", "Note five", "Another quokka, not synced yet.");
  keys = search_ok (&side, id, "quokka", 50);
  assert_keys (keys, k_both, k_quokka, (gint64) 0);
  g_clear_pointer (&keys, g_array_unref);
  sync_ok (&side, id);
  keys = search_ok (&side, id, "quokka", 50);
  assert_keys (keys, key_of (&side, id, late), k_both, k_quokka, (gint64) 0);
  g_clear_pointer (&keys, g_array_unref);

  lb_test_imap_close (g_steal_pointer (&raw));
  side_close (&side);
}

static void
test_all_folders (void)
{
  g_autoptr(LbImapClient) raw = lb_test_imap_open (ALICE);
  g_autofree char *in_a = NULL, *in_b = NULL, *in_inbox = NULL, *in_unsynced = NULL, *other = NULL;
  g_autoptr(GArray) keys = NULL;
  gint64 inbox, a, b, k_a, k_b, k_inbox;
  Side side = { NULL, };

  raw_fresh_mailbox (raw, "Many A");
  raw_fresh_mailbox (raw, "Many B");
  raw_fresh_mailbox (raw, "Many C");
  /* the newest in the folders, the oldest in the Inbox */
  in_inbox = raw_append (raw, "INBOX", "Hello", "The aardvark digs.");
  in_a = raw_append (raw, "Many A", "Hello", "An aardvark, folder A.");
  other = raw_append (raw, "Many A", "Hello", "No such animal.");
  in_b = raw_append (raw, "Many B", "Hello", "An aardvark, folder B.");
  in_unsynced = raw_append (raw, "Many C", "Hello", "An aardvark nobody synced.");

  side_open (&side, "alice-search-all");
  inbox = folder_id (&side, "INBOX");
  a = folder_id (&side, "Many A");
  b = folder_id (&side, "Many B");
  sync_ok (&side, b);
  sync_ok (&side, a);
  sync_ok (&side, inbox);
  k_inbox = key_of (&side, inbox, in_inbox);
  k_a = key_of (&side, a, in_a);
  k_b = key_of (&side, b, in_b);
  g_assert_cmpint (k_inbox, >, 0);
  g_assert_cmpint (k_a, >, 0);
  g_assert_cmpint (k_b, >, 0);

  /* every synced folder, the Inbox first */
  keys = search_ok (&side, 0, "aardvark", 50);
  g_assert_cmpuint (keys->len, ==, 3);
  g_assert_cmpint (g_array_index (keys, gint64, 0), ==, k_inbox);
  g_assert_true ((g_array_index (keys, gint64, 1) == k_a && g_array_index (keys, gint64, 2) == k_b) ||
                 (g_array_index (keys, gint64, 1) == k_b && g_array_index (keys, gint64, 2) == k_a));
  g_clear_pointer (&keys, g_array_unref);

  /* the limit holds across folders */
  keys = search_ok (&side, 0, "aardvark", 2);
  g_assert_cmpuint (keys->len, ==, 2);
  g_assert_cmpint (g_array_index (keys, gint64, 0), ==, k_inbox);
  g_assert_true (g_array_index (keys, gint64, 1) == k_a || g_array_index (keys, gint64, 1) == k_b);
  g_clear_pointer (&keys, g_array_unref);

  /* one folder is one folder */
  keys = search_ok (&side, b, "aardvark", 50);
  assert_keys (keys, k_b, (gint64) 0);
  g_clear_pointer (&keys, g_array_unref);

  /* a folder gone from the store */
  {
    g_autoptr(GError) error = NULL;

    g_assert_null (server_search (&side, 987654, "aardvark", 50, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  }

  lb_test_imap_close (g_steal_pointer (&raw));
  side_close (&side);
}

static void
test_cancel (void)
{
  g_autoptr(LbImapClient) raw = lb_test_imap_open (ALICE);
  g_autofree char *mid = NULL;
  g_autoptr(GArray) keys = NULL;
  g_autoptr(GError) error = NULL;
  gint64 id;
  Side side = { NULL, };

  raw_fresh_mailbox (raw, "Cancel");
  mid = raw_append (raw, "Cancel", "Hello", "A lonely echidna.");
  side_open (&side, "alice-search-cancel");
  id = folder_id (&side, "Cancel");
  sync_ok (&side, id);

  /* cancelled before it starts, as it starts, and while it connects
   * again after its connection dropped: the answer comes at once */
  for (guint when = 0; when < 3; when++)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) cancel_error = NULL;
      gint64 start;

      guint connections = lb_test_proxy_get_n_connections (side.proxy);

      if (when == 2)
        {
          /* cut: the provider learns it only when it tries */
          lb_test_proxy_set_down (side.proxy, TRUE);
          lb_test_proxy_set_down (side.proxy, FALSE);
        }
      if (when == 0)
        g_cancellable_cancel (cancellable);
      lb_imap_provider_search_async (side.provider, id, "echidna", 50, cancellable, lb_test_store_result, &result);
      if (when == 1)
        g_main_context_iteration (NULL, FALSE);
      if (when == 2)
        {
          /* until the new connection is accepted: it is logging in */
          while (lb_test_proxy_get_n_connections (side.proxy) == connections)
            g_main_context_iteration (NULL, TRUE);
        }
      start = g_get_monotonic_time ();
      g_cancellable_cancel (cancellable);
      lb_test_wait (&result);
      g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
      g_assert_null (lb_imap_provider_search_finish (side.provider, result, &cancel_error));
      g_assert_error (cancel_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    }

  /* the provider is none the worse for it */
  keys = server_search (&side, id, "echidna", 50, &error);
  g_assert_no_error (error);
  assert_keys (keys, key_of (&side, id, mid), (gint64) 0);

  lb_test_imap_close (g_steal_pointer (&raw));
  side_close (&side);
}

static void
test_offline (void)
{
  g_autoptr(LbImapClient) raw = lb_test_imap_open (ALICE);
  g_autofree char *mid = NULL;
  g_autoptr(GArray) keys = NULL;
  gint64 id, start;
  Side side = { NULL, };

  raw_fresh_mailbox (raw, "Offline");
  mid = raw_append (raw, "Offline", "Hello", "A numbat at night.");
  side_open (&side, "alice-search-offline");
  id = folder_id (&side, "Offline");
  sync_ok (&side, id);

  /* down after the sync: the connection the provider holds is dead
   * without its knowing, and no new one can be had */
  lb_test_proxy_set_down (side.proxy, TRUE);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GError) error = NULL;

      start = g_get_monotonic_time ();
      g_assert_null (server_search (&side, i == 0 ? id : 0, "numbat", 50, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE);
      g_test_message ("offline: %s (%.0f ms)", error->message, (g_get_monotonic_time () - start) / 1000.0);
      g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
    }

  /* and back */
  lb_test_proxy_set_down (side.proxy, FALSE);
  keys = search_ok (&side, id, "numbat", 50);
  assert_keys (keys, key_of (&side, id, mid), (gint64) 0);

  lb_test_imap_close (g_steal_pointer (&raw));
  side_close (&side);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_func ("/imap-search/body-words", test_body_words);
  g_test_add_func ("/imap-search/all-folders", test_all_folders);
  g_test_add_func ("/imap-search/cancel", test_cancel);
  g_test_add_func ("/imap-search/offline", test_offline);

  return g_test_run ();
}
