/* test-imap-sync.c: LbImapProvider and letterbox-cli against the harness's Dovecot
 *
 * The provider, its store and the server are real; so are the keyring
 * (the harness's gnome-keyring) and, where a connection must fail, a
 * loopback proxy that cuts it or a scripted server. The server is checked
 * with a second, raw LbImapClient of its own.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>

#include "lb-account.h"
#include "lb-imap-client.h"
#include "lb-imap-provider.h"
#include "lb-imap-sync.h"
#include "lb-secrets.h"
#include "lb-store.h"
#include "lb-test-monitor.h"
#include "lb-test-proxy.h"
#include "lb-test-script-server.h"
#include "lb-test-session.h"

#define ALICE "alice@example.test"
#define BOB   "bob@example.test"

/* ------------------------------------------------------------------ messages */

static char *
make_message (const char *message_id,
              const char *subject,
              const char *references,
              gint64      date,
              const char *body)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_utc (date);
  g_autofree char *date_text = g_date_time_format (when, "%d %b %Y %H:%M:%S +0000");
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "From: Carol Example <carol@example.test>\r\n"
                               "To: Alice <alice@example.test>\r\n"
                               "Subject: %s\r\n"
                               "Date: %s\r\n"
                               "Message-ID: <%s>\r\n",
                          subject, date_text, message_id);
  if (references != NULL)
    g_string_append_printf (out, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", references, references);
  g_string_append_printf (out, "MIME-Version: 1.0\r\n"
                               "Content-Type: text/plain; charset=utf-8\r\n"
                               "\r\n"
                               "%s\r\n", body != NULL ? body : "Hello.");
  return g_string_free (out, FALSE);
}

static char *
unique_id (const char *what)
{
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strdup_printf ("%s-%s@letterbox.test", what, uuid);
}

/* ------------------------------------------------------------------ the raw client */

static guint16
imap_port (void)
{
  return lb_test_port ("LB_TEST_IMAP_PORT");
}

static LbImapClient *
raw_connect (const char *user,
             const char *password)
{
  g_autoptr(LbConnector) connector = lb_test_connector_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbImapClient) client = NULL;

  lb_connector_connect_async (connector, lb_test_getenv ("LB_TEST_HOST"), lb_test_port ("LB_TEST_IMAPS_PORT"),
                              LB_NET_SECURITY_TLS, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  stream = lb_connector_connect_finish (connector, result, &error);
  g_assert_no_error (error);
  client = lb_imap_client_new (stream);
  g_clear_object (&result);

  lb_imap_client_greet_async (client, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_imap_client_greet_finish (client, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  lb_imap_client_login_async (client, user, password, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  lb_imap_client_login_finish (client, result, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&client);
}

static void
raw_logout (LbImapClient *client)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_imap_client_logout_async (client, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  lb_imap_client_logout_finish (client, result, NULL);
  g_object_unref (client);
}

static gboolean
raw_mailbox (LbImapClient    *client,
             LbImapMailboxOp  op,
             const char      *mailbox,
             const char      *new_name)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  lb_imap_client_mailbox_async (client, op, mailbox, new_name, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  ok = lb_imap_client_mailbox_finish (client, result, &error);
  if (!ok)
    g_test_message ("mailbox op on %s: %s", mailbox, error->message);
  return ok;
}

/* A new, empty mailbox of that name. */
static void
raw_fresh_mailbox (LbImapClient *client,
                   const char   *mailbox)
{
  raw_mailbox (client, LB_IMAP_MAILBOX_DELETE, mailbox, NULL);
  g_assert_true (raw_mailbox (client, LB_IMAP_MAILBOX_CREATE, mailbox, NULL));
}

static guint32
raw_append (LbImapClient       *client,
            const char         *mailbox,
            const char         *text,
            const char * const *flags)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
  guint32 uidvalidity = 0;
  guint32 uid;

  lb_imap_client_append_async (client, mailbox, flags, 0, bytes, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  uid = lb_imap_client_append_finish (client, result, &uidvalidity, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uid, >, 0);
  return uid;
}

static void
raw_select (LbImapClient *client,
            const char   *mailbox)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbImapMailboxInfo) info = NULL;

  lb_imap_client_select_async (client, mailbox, FALSE, NULL, NULL, NULL, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  info = lb_imap_client_select_finish (client, result, &error);
  g_assert_no_error (error);
}

/* The UIDs of the selected mailbox's messages with that Message-ID. */
static GArray *
raw_search_mid (LbImapClient *client,
                const char   *message_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbImapCommand) criteria = lb_imap_command_new (NULL);
  g_autofree char *bracketed = g_strdup_printf ("<%s>", message_id);
  GArray *uids;

  lb_imap_command_add_atom (criteria, "HEADER");
  lb_imap_command_add_atom (criteria, "MESSAGE-ID");
  lb_imap_command_add_string (criteria, bracketed);
  lb_imap_client_uid_search_async (client, criteria, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  uids = lb_imap_client_uid_search_finish (client, result, &error);
  g_assert_no_error (error);
  return uids;
}

/* How many messages with @message_id @mailbox has. */
static guint
raw_count_mid (LbImapClient *client,
               const char   *mailbox,
               const char   *message_id)
{
  g_autoptr(GArray) uids = NULL;

  raw_select (client, mailbox);
  uids = raw_search_mid (client, message_id);
  return uids->len;
}

static gboolean
collect_flags (LbImapClient   *client,
               LbImapResponse *response,
               gpointer        user_data)
{
  char ***flags = user_data;

  if (response->data != LB_IMAP_DATA_FETCH || response->fetch == NULL ||
      !(response->fetch->items & LB_IMAP_FETCH_FLAGS))
    return FALSE;
  g_strfreev (*flags);
  *flags = g_strdupv (response->fetch->flags);
  return TRUE;
}

/* The flags of the message with @message_id in @mailbox (NULL if none). */
static char **
raw_flags_of (LbImapClient *client,
              const char   *mailbox,
              const char   *message_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) uids = NULL;
  g_autofree char *set = NULL;
  char **flags = NULL;

  raw_select (client, mailbox);
  uids = raw_search_mid (client, message_id);
  if (uids->len == 0)
    return NULL;
  set = g_strdup_printf ("%u", g_array_index (uids, guint32, 0));
  lb_imap_client_uid_fetch_async (client, set, "(UID FLAGS)", 0, FALSE, collect_flags, &flags, NULL,
                                  NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  lb_imap_client_uid_fetch_finish (client, result, &error);
  g_assert_no_error (error);
  return flags;
}

static void
raw_store (LbImapClient *client,
           const char   *mailbox,
           const char   *message_id,
           gboolean      add,
           const char   *flag)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) uids = NULL;
  g_autofree char *set = NULL;
  const char *flags[] = { flag, NULL };

  raw_select (client, mailbox);
  uids = raw_search_mid (client, message_id);
  g_assert_cmpuint (uids->len, ==, 1);
  set = g_strdup_printf ("%u", g_array_index (uids, guint32, 0));
  lb_imap_client_uid_store_async (client, set, add, flags, 0, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  lb_imap_client_uid_store_finish (client, result, NULL, &error);
  g_assert_no_error (error);
}

static void
raw_expunge_mid (LbImapClient *client,
                 const char   *mailbox,
                 const char   *message_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) uids = NULL;
  g_autofree char *set = NULL;

  raw_store (client, mailbox, message_id, TRUE, "\\Deleted");
  uids = raw_search_mid (client, message_id);
  set = g_strdup_printf ("%u", g_array_index (uids, guint32, 0));
  lb_imap_client_expunge_async (client, set, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  lb_imap_client_expunge_finish (client, result, &error);
  g_assert_no_error (error);
}

/* ------------------------------------------------------------------ the account, store and provider */

typedef struct
{
  char            *dir;        /* the store's */
  LbAccount       *account;
  LbStore         *store;
  LbSecrets       *secrets;
  LbConnector     *connector;
  LbImapProvider  *provider;
} Side;

static void
set_password (LbSecrets  *secrets,
              LbAccount  *account,
              const char *password)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbSecretKey key = {
    lb_account_get_id (account), "imap",
    lb_account_get_incoming_host (account), lb_account_get_incoming_user (account)
  };

  lb_secrets_store_async (secrets, &key, "Letterbox test", password, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_secrets_store_finish (secrets, result, &error));
  g_assert_no_error (error);
}

static LbAccount *
make_account (const char    *id,
              const char    *user,
              guint16        port,
              LbNetSecurity  security)
{
  LbAccount *account = lb_account_new (id);
  g_autoptr(LbIdentity) identity = lb_identity_new ("Test", user);

  lb_account_add_identity (account, identity);
  lb_account_set_incoming_protocol (account, LB_INCOMING_IMAP);
  lb_account_set_incoming_host (account, lb_test_getenv ("LB_TEST_HOST"));
  lb_account_set_incoming_port (account, port);
  lb_account_set_incoming_security (account, security);
  lb_account_set_incoming_user (account, user);
  return account;
}

/* A store and a provider for @account, which the side takes. */
static void
side_open (Side            *side,
           LbAccount       *account,
           const char      *password,
           GNetworkMonitor *monitor)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  side->dir = g_dir_make_tmp ("lb-imap-sync-XXXXXX", &error);
  g_assert_no_error (error);
  side->account = account;
  side->secrets = lb_secrets_new ();
  side->connector = lb_test_connector_new ();
  if (password != NULL)
    set_password (side->secrets, account, password);

  lb_store_open_async (side->dir, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  side->store = lb_store_open_finish (result, &error);
  g_assert_no_error (error);

  side->provider = lb_imap_provider_new (account, side->store, side->secrets, side->connector, monitor);
  /* on only where a test wants IDLE */
  lb_imap_provider_set_background (side->provider, FALSE);
}

static void
side_close (Side *side)
{
  if (side->provider != NULL)
    {
      lb_imap_provider_close (side->provider);
      /* its jobs hand back their references as they fail */
      for (guint i = 0; i < 100 && G_OBJECT (side->provider)->ref_count > 1; i++)
        lb_test_spin (10);
      g_assert_finalize_object (g_steal_pointer (&side->provider));
    }
  g_clear_object (&side->connector);
  g_clear_object (&side->secrets);
  if (side->store != NULL)
    lb_test_finalize_store (g_steal_pointer (&side->store));
  g_clear_object (&side->account);
  if (side->dir != NULL)
    lb_test_remove_tree (side->dir);
  g_clear_pointer (&side->dir, g_free);
}

/* ---- the provider, waited for ---- */

static gboolean
connect_provider (Side    *side,
                  GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_provider_connect_async (LB_PROVIDER (side->provider), NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_provider_connect_finish (LB_PROVIDER (side->provider), result, error);
}

static GPtrArray *
list_folders (Side *side)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *folders;

  lb_provider_list_folders_async (LB_PROVIDER (side->provider), NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  folders = lb_provider_list_folders_finish (LB_PROVIDER (side->provider), result, &error);
  g_assert_no_error (error);
  return folders;
}

static const LbFolderInfo *
folder_in (GPtrArray  *folders,
           const char *path)
{
  for (guint i = 0; i < folders->len; i++)
    if (g_strcmp0 (((LbFolderInfo *) folders->pdata[i])->path, path) == 0)
      return folders->pdata[i];
  return NULL;
}

static const LbFolderInfo *
must_folder (GPtrArray  *folders,
             const char *path)
{
  const LbFolderInfo *info = folder_in (folders, path);

  if (info == NULL)
    g_error ("The store has no folder %s", path);
  return info;
}

static gint64
folder_id (Side       *side,
           const char *path)
{
  g_autoptr(GPtrArray) folders = list_folders (side);
  return must_folder (folders, path)->id;
}

static gboolean
sync_folder (Side             *side,
             gint64            id,
             LbImapSyncStats  *stats,
             GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_imap_provider_sync_folder_async (side->provider, id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_imap_provider_sync_folder_finish (side->provider, result, stats, error);
}

static void
sync_ok (Side            *side,
         gint64           id,
         LbImapSyncStats *stats)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (sync_folder (side, id, stats, &error));
  g_assert_no_error (error);
}

static gboolean
replay (Side    *side,
        GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_provider_replay_queue_async (LB_PROVIDER (side->provider), NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_provider_replay_queue_finish (LB_PROVIDER (side->provider), result, error);
}

static void
replay_ok (Side *side)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (replay (side, &error));
  g_assert_no_error (error);
}

static GPtrArray *
store_messages (LbStore *store,
                gint64   id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *messages;

  lb_store_list_messages_async (store, id, 0, 100000, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  messages = lb_store_list_messages_finish (store, result, &error);
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

static guint
queue_length (LbStore *store)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ops = NULL;

  lb_store_list_ops_async (store, 1000, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  ops = lb_store_list_ops_finish (store, result, &error);
  g_assert_no_error (error);
  return ops->len;
}

static GArray *
keys_of (gint64 first,
         ...)
{
  GArray *keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  va_list args;

  va_start (args, first);
  for (gint64 key = first; key != 0; key = va_arg (args, gint64))
    g_array_append_val (keys, key);
  va_end (args);
  return keys;
}

/* ------------------------------------------------------------------ folder list and first sync */

static void
test_folders_and_sync (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *root_id = unique_id ("root");
  g_autofree char *reply_id = unique_id ("reply");
  g_autofree char *reply2_id = unique_id ("reply2");
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  const char *seen[] = { "\\Seen", NULL };
  const char *flagged[] = { "\\Flagged", "$Forwarded", NULL };
  const LbFolderInfo *info;
  LbMessageSummary *summary;
  LbImapSyncStats stats;
  Side side = { NULL, };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 id;

  raw_fresh_mailbox (raw, "Sync");
  for (guint i = 0; i < 25; i++)
    {
      char *mid = unique_id ("plain");
      g_autofree char *subject = g_strdup_printf ("Message %u", i);
      g_autofree char *text = make_message (mid, subject, NULL, now - 86400 * (30 - i), NULL);

      raw_append (raw, "Sync", text, i % 5 == 0 ? seen : NULL);
      g_ptr_array_add (ids, mid);
    }
  {
    g_autofree char *root = make_message (root_id, "=?UTF-8?B?0J/RgNC40LLQtdGC?=, thread", NULL, now - 3600, NULL);
    g_autofree char *reply = make_message (reply_id, "Re: thread", root_id, now - 1800, NULL);
    g_autofree char *reply2 = make_message (reply2_id, "Re: Re: thread", reply_id, now - 600, NULL);

    raw_append (raw, "Sync", root, seen);
    raw_append (raw, "Sync", reply, flagged);
    raw_append (raw, "Sync", reply2, NULL);
  }

  side_open (&side, make_account ("alice-sync", ALICE, lb_test_port ("LB_TEST_IMAPS_PORT"), LB_NET_SECURITY_TLS),
             "alicepass", NULL);
  g_assert_true (connect_provider (&side, &error));
  g_assert_no_error (error);
  g_assert_true (lb_imap_provider_get_connected (side.provider));

  /* roles from SPECIAL-USE, INBOX by name; the Outbox is not the server's */
  folders = list_folders (&side);
  info = must_folder (folders, "INBOX");
  g_assert_cmpint (info->role, ==, LB_FOLDER_ROLE_INBOX);
  info = must_folder (folders, "Sent");
  g_assert_cmpint (info->role, ==, LB_FOLDER_ROLE_SENT);
  g_assert_cmpint (must_folder (folders, "Drafts")->role, ==, LB_FOLDER_ROLE_DRAFTS);
  g_assert_cmpint (must_folder (folders, "Trash")->role, ==, LB_FOLDER_ROLE_TRASH);
  g_assert_cmpint (must_folder (folders, "Junk")->role, ==, LB_FOLDER_ROLE_JUNK);
  g_assert_cmpint (must_folder (folders, "Archive")->role, ==, LB_FOLDER_ROLE_ARCHIVE);
  info = must_folder (folders, "Sync");
  g_assert_cmpint (info->role, ==, LB_FOLDER_ROLE_NONE);
  g_assert_false (info->local);
  id = info->id;

  sync_ok (&side, id, &stats);
  g_assert_cmpuint (stats.added, ==, 28);
  g_assert_cmpuint (stats.removed, ==, 0);

  messages = store_messages (side.store, id);
  g_assert_cmpuint (messages->len, ==, 28);
  summary = must_mid (messages, root_id);
  g_assert_cmpstr (summary->subject, ==, "Привет, thread");
  g_assert_cmpstr (summary->from, ==, "Carol Example <carol@example.test>");
  g_assert_cmpuint (summary->flags, ==, LB_MESSAGE_SEEN);
  g_assert_cmpuint (summary->uid, >, 0);
  g_assert_cmpuint (must_mid (messages, reply_id)->flags, ==, LB_MESSAGE_FLAGGED | LB_MESSAGE_FORWARDED);
  g_assert_cmpuint (must_mid (messages, reply2_id)->flags, ==, 0);
  g_assert_cmpuint (must_mid (messages, ids->pdata[0])->flags, ==, LB_MESSAGE_SEEN);
  g_assert_cmpuint (must_mid (messages, ids->pdata[1])->flags, ==, 0);
  /* one conversation */
  g_assert_cmpint (must_mid (messages, reply_id)->thread_id, ==, summary->thread_id);
  g_assert_cmpint (must_mid (messages, reply2_id)->thread_id, ==, summary->thread_id);
  g_assert_cmpint (must_mid (messages, ids->pdata[0])->thread_id, !=, summary->thread_id);
  g_clear_pointer (&messages, g_ptr_array_unref);

  /* nothing changed: nothing to do */
  sync_ok (&side, id, &stats);
  g_assert_cmpuint (stats.added + stats.updated + stats.removed, ==, 0);

  /* another client reads, flags, expunges and delivers */
  raw_store (raw, "Sync", ids->pdata[1], TRUE, "\\Seen");
  raw_store (raw, "Sync", root_id, FALSE, "\\Seen");
  raw_expunge_mid (raw, "Sync", ids->pdata[2]);
  raw_expunge_mid (raw, "Sync", ids->pdata[3]);
  {
    g_autofree char *mid = unique_id ("late");
    g_autofree char *text = make_message (mid, "Late arrival", NULL, now, NULL);

    raw_append (raw, "Sync", text, NULL);
    g_ptr_array_add (ids, g_steal_pointer (&mid));
  }

  sync_ok (&side, id, &stats);
  g_assert_cmpuint (stats.added, ==, 1);
  g_assert_cmpuint (stats.removed, ==, 2);
  g_assert_cmpuint (stats.updated, >=, 2);
  messages = store_messages (side.store, id);
  g_assert_cmpuint (messages->len, ==, 27);
  g_assert_cmpuint (must_mid (messages, ids->pdata[1])->flags, ==, LB_MESSAGE_SEEN);
  g_assert_cmpuint (must_mid (messages, root_id)->flags, ==, 0);
  g_assert_null (by_mid (messages, ids->pdata[2]));
  g_assert_null (by_mid (messages, ids->pdata[3]));
  g_assert_nonnull (by_mid (messages, ids->pdata[ids->len - 1]));
  g_clear_pointer (&messages, g_ptr_array_unref);

  /* a folder deleted on the server goes here too */
  raw_mailbox (raw, LB_IMAP_MAILBOX_DELETE, "Sync", NULL);
  g_clear_pointer (&folders, g_ptr_array_unref);
  folders = list_folders (&side);
  g_assert_null (folder_in (folders, "Sync"));
  g_assert_nonnull (folder_in (folders, "INBOX"));

  /* logged out; the next use connects again */
  {
    g_autoptr(GAsyncResult) result = NULL;

    lb_provider_disconnect_async (LB_PROVIDER (side.provider), NULL, lb_test_store_result, &result);
    lb_test_wait (&result);
    g_assert_true (lb_provider_disconnect_finish (LB_PROVIDER (side.provider), result, &error));
    g_assert_no_error (error);
    g_assert_false (lb_imap_provider_get_connected (side.provider));
    g_clear_pointer (&folders, g_ptr_array_unref);
    folders = list_folders (&side);
    g_assert_nonnull (folder_in (folders, "INBOX"));
    g_assert_true (lb_imap_provider_get_connected (side.provider));
  }

  raw_logout (g_steal_pointer (&raw));
  side_close (&side);
}

/* ------------------------------------------------------------------ our changes reach the server */

static void
test_changes_reach_server (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) keys = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) flags = NULL;
  g_autofree char *draft_id = unique_id ("draft");
  g_autofree char *draft2_id = unique_id ("draft2");
  LbMessageSummary *summary;
  Side side = { NULL, };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 id, archive, trash, drafts;
  gint64 draft_key, draft2_key;

  raw_fresh_mailbox (raw, "Changes");
  for (guint i = 0; i < 8; i++)
    {
      char *mid = unique_id ("change");
      g_autofree char *text = make_message (mid, "Change me", NULL, now - 100 * (10 - i), NULL);

      raw_append (raw, "Changes", text, NULL);
      g_ptr_array_add (ids, mid);
    }

  side_open (&side, make_account ("alice-changes", ALICE, lb_test_port ("LB_TEST_IMAPS_PORT"), LB_NET_SECURITY_TLS),
             "alicepass", NULL);
  id = folder_id (&side, "Changes");
  archive = folder_id (&side, "Archive");
  trash = folder_id (&side, "Trash");
  drafts = folder_id (&side, "Drafts");
  sync_ok (&side, id, NULL);
  messages = store_messages (side.store, id);

  /* read and flagged, two at once */
  keys = keys_of (must_mid (messages, ids->pdata[0])->key, must_mid (messages, ids->pdata[1])->key, (gint64) 0);
  lb_provider_set_flags_async (LB_PROVIDER (side.provider), keys, LB_MESSAGE_SEEN | LB_MESSAGE_FLAGGED, 0,
                               NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_set_flags_finish (LB_PROVIDER (side.provider), result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_clear_pointer (&keys, g_array_unref);

  /* moved to Archive */
  keys = keys_of (must_mid (messages, ids->pdata[2])->key, (gint64) 0);
  lb_provider_move_async (LB_PROVIDER (side.provider), keys, archive, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_move_finish (LB_PROVIDER (side.provider), result, &error));
  g_clear_object (&result);
  g_clear_pointer (&keys, g_array_unref);

  /* the Delete key: to Trash */
  keys = keys_of (must_mid (messages, ids->pdata[3])->key, (gint64) 0);
  lb_imap_provider_trash_async (side.provider, keys, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_imap_provider_trash_finish (side.provider, result, &error));
  g_clear_object (&result);
  g_clear_pointer (&keys, g_array_unref);

  /* deleted for good */
  keys = keys_of (must_mid (messages, ids->pdata[4])->key, (gint64) 0);
  lb_provider_delete_async (LB_PROVIDER (side.provider), keys, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_delete_finish (LB_PROVIDER (side.provider), result, &error));
  g_clear_object (&result);
  g_clear_pointer (&keys, g_array_unref);

  /* a draft, then its replacement */
  {
    g_autofree char *text = make_message (draft_id, "Draft one", NULL, now, "first words");
    g_autofree char *text2 = make_message (draft2_id, "Draft two", NULL, now, "better words");
    g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
    g_autoptr(GBytes) bytes2 = g_bytes_new (text2, strlen (text2));

    lb_imap_provider_save_draft_async (side.provider, drafts, bytes, 0, NULL, lb_test_store_result, &result);
    lb_test_wait (&result);
    draft_key = lb_imap_provider_save_draft_finish (side.provider, result, &error);
    g_assert_no_error (error);
    g_assert_cmpint (draft_key, >, 0);
    g_clear_object (&result);
    replay_ok (&side);
    g_assert_cmpuint (raw_count_mid (raw, "Drafts", draft_id), ==, 1);

    lb_imap_provider_save_draft_async (side.provider, drafts, bytes2, draft_key, NULL,
                                       lb_test_store_result, &result);
    lb_test_wait (&result);
    draft2_key = lb_imap_provider_save_draft_finish (side.provider, result, &error);
    g_assert_no_error (error);
    g_clear_object (&result);
  }

  /* all of it shows here at once */
  g_clear_pointer (&messages, g_ptr_array_unref);
  messages = store_messages (side.store, id);
  g_assert_cmpuint (messages->len, ==, 5);
  g_assert_cmpuint (must_mid (messages, ids->pdata[0])->flags, ==, LB_MESSAGE_SEEN | LB_MESSAGE_FLAGGED);
  g_assert_cmpuint (queue_length (side.store), >, 0);

  replay_ok (&side);
  g_assert_cmpuint (queue_length (side.store), ==, 0);

  flags = raw_flags_of (raw, "Changes", ids->pdata[0]);
  g_assert_true (g_strv_contains ((const char * const *) flags, "\\Seen"));
  g_assert_true (g_strv_contains ((const char * const *) flags, "\\Flagged"));
  g_clear_pointer (&flags, g_strfreev);
  flags = raw_flags_of (raw, "Changes", ids->pdata[1]);
  g_assert_true (g_strv_contains ((const char * const *) flags, "\\Seen"));
  g_assert_cmpuint (raw_count_mid (raw, "Changes", ids->pdata[2]), ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "Archive", ids->pdata[2]), ==, 1);
  g_assert_cmpuint (raw_count_mid (raw, "Changes", ids->pdata[3]), ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "Trash", ids->pdata[3]), ==, 1);
  g_assert_cmpuint (raw_count_mid (raw, "Changes", ids->pdata[4]), ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "Trash", ids->pdata[4]), ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "Changes", ids->pdata[5]), ==, 1);
  g_assert_cmpuint (raw_count_mid (raw, "Drafts", draft_id), ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "Drafts", draft2_id), ==, 1);

  /* junk or not: keywords for the server's filter, through the queue */
  keys = keys_of (must_mid (messages, ids->pdata[6])->key, (gint64) 0);
  lb_imap_provider_set_junk_async (side.provider, keys, TRUE, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_imap_provider_set_junk_finish (side.provider, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  replay_ok (&side);
  g_clear_pointer (&flags, g_strfreev);
  flags = raw_flags_of (raw, "Changes", ids->pdata[6]);
  g_assert_true (g_strv_contains ((const char * const *) flags, "$Junk"));
  g_assert_false (g_strv_contains ((const char * const *) flags, "$NotJunk"));
  lb_imap_provider_set_junk_async (side.provider, keys, FALSE, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_imap_provider_set_junk_finish (side.provider, result, &error));
  g_clear_object (&result);
  replay_ok (&side);
  g_clear_pointer (&keys, g_array_unref);
  g_clear_pointer (&flags, g_strfreev);
  flags = raw_flags_of (raw, "Changes", ids->pdata[6]);
  g_assert_false (g_strv_contains ((const char * const *) flags, "$Junk"));
  g_assert_true (g_strv_contains ((const char * const *) flags, "$NotJunk"));

  /* flagged deleted, then expunged: only that one goes */
  keys = keys_of (must_mid (messages, ids->pdata[7])->key, (gint64) 0);
  lb_provider_set_flags_async (LB_PROVIDER (side.provider), keys, LB_MESSAGE_DELETED, 0, NULL,
                               lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_set_flags_finish (LB_PROVIDER (side.provider), result, &error));
  g_clear_object (&result);
  g_clear_pointer (&keys, g_array_unref);
  lb_provider_expunge_async (LB_PROVIDER (side.provider), id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_expunge_finish (LB_PROVIDER (side.provider), result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  replay_ok (&side);
  g_assert_cmpuint (raw_count_mid (raw, "Changes", ids->pdata[7]), ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "Changes", ids->pdata[6]), ==, 1);

  /* the moved message knows its new UID: a sync of Archive finds it, not a copy */
  sync_ok (&side, archive, NULL);
  sync_ok (&side, trash, NULL);
  sync_ok (&side, drafts, NULL);
  g_clear_pointer (&messages, g_ptr_array_unref);
  messages = store_messages (side.store, archive);
  summary = must_mid (messages, ids->pdata[2]);
  g_assert_cmpuint (summary->uid, >, 0);
  g_clear_pointer (&messages, g_ptr_array_unref);
  messages = store_messages (side.store, trash);
  g_assert_nonnull (by_mid (messages, ids->pdata[3]));
  /* in the Trash, the Delete key deletes for good */
  keys = keys_of (must_mid (messages, ids->pdata[3])->key, (gint64) 0);
  lb_imap_provider_trash_async (side.provider, keys, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_imap_provider_trash_finish (side.provider, result, &error));
  g_clear_object (&result);
  replay_ok (&side);
  g_assert_cmpuint (raw_count_mid (raw, "Trash", ids->pdata[3]), ==, 0);

  g_clear_pointer (&messages, g_ptr_array_unref);
  messages = store_messages (side.store, drafts);
  g_assert_null (by_mid (messages, draft_id));
  summary = must_mid (messages, draft2_id);
  g_assert_cmpint (summary->key, ==, draft2_key);
  g_assert_cmpuint (summary->uid, >, 0);
  g_assert_true (summary->flags & LB_MESSAGE_DRAFT);

  raw_logout (g_steal_pointer (&raw));
  side_close (&side);
}

/* ------------------------------------------------------------------ bodies */

static void
test_bodies (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) again = NULL;
  g_autoptr(GBytes) part = NULL;
  g_autofree char *mid = unique_id ("body");
  g_autofree char *old_mid = unique_id ("old");
  g_autofree char *text = make_message (mid, "With a body", NULL, g_get_real_time () / G_USEC_PER_SEC,
                                        "The body text.");
  g_autofree char *old = make_message (old_mid, "Old one", NULL, 1000000000, "Long ago.");
  LbMessageSummary *summary;
  Side side = { NULL, };
  gint64 id;
  guint n;

  raw_fresh_mailbox (raw, "Bodies");
  raw_append (raw, "Bodies", text, NULL);
  raw_append (raw, "Bodies", old, NULL);

  side_open (&side, make_account ("alice-bodies", ALICE, lb_test_port ("LB_TEST_IMAPS_PORT"), LB_NET_SECURITY_TLS),
             "alicepass", NULL);
  /* the last week kept for offline reading */
  lb_account_set_offline_days (side.account, 7);
  id = folder_id (&side, "Bodies");
  sync_ok (&side, id, NULL);

  messages = store_messages (side.store, id);
  summary = must_mid (messages, mid);
  g_assert_nonnull (summary->location);            /* downloaded with the sync */
  g_assert_null (must_mid (messages, old_mid)->location);  /* too old */

  lb_provider_fetch_body_async (LB_PROVIDER (side.provider), must_mid (messages, old_mid)->key, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  body = lb_provider_fetch_body_finish (LB_PROVIDER (side.provider), result, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body), old, strlen (old));
  g_clear_object (&result);

  /* one part, by its section */
  lb_imap_provider_fetch_part_async (side.provider, summary->key, "1", NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  part = lb_imap_provider_fetch_part_finish (side.provider, result, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (part, NULL), g_bytes_get_size (part), "The body text.\r\n", 16);
  g_clear_object (&result);

  /* kept: read again without the server */
  lb_imap_provider_close (side.provider);
  lb_provider_fetch_body_async (LB_PROVIDER (side.provider), must_mid (messages, old_mid)->key, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  again = lb_provider_fetch_body_finish (LB_PROVIDER (side.provider), result, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (body, again));
  g_clear_object (&result);
  g_clear_pointer (&messages, g_ptr_array_unref);
  side_close (&side);

  /* all of a folder, as letterbox-cli sync --bodies does */
  side_open (&side, make_account ("alice-bodies-2", ALICE, lb_test_port ("LB_TEST_IMAPS_PORT"), LB_NET_SECURITY_TLS),
             "alicepass", NULL);
  id = folder_id (&side, "Bodies");
  sync_ok (&side, id, NULL);
  lb_imap_provider_fetch_bodies_async (side.provider, id, 0, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  n = lb_imap_provider_fetch_bodies_finish (side.provider, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 2);
  g_clear_object (&result);
  messages = store_messages (side.store, id);
  g_assert_nonnull (must_mid (messages, mid)->location);
  g_assert_nonnull (must_mid (messages, old_mid)->location);

  raw_logout (g_steal_pointer (&raw));
  side_close (&side);
}

/* ------------------------------------------------------------------ a selection left unused */

static void
engine_sync_folder (LbImapSync *sync,
                    gint64      id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_imap_sync_folder_async (sync, id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_imap_sync_folder_finish (sync, result, NULL, &error));
  g_assert_no_error (error);
}

static guint
engine_fetch_body (LbImapSync       *sync,
                   gint64            id,
                   LbMessageSummary *summary)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) summaries = g_ptr_array_new ();
  guint n;

  g_ptr_array_add (summaries, summary);
  lb_imap_sync_fetch_bodies_async (sync, id, summaries, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  n = lb_imap_sync_fetch_bodies_finish (sync, result, &error);
  g_assert_no_error (error);
  return n;
}

/* Appends a message from another session, and has @other (a session of
 * its own) sync it into the store: the store knows it, @stale's session
 * was not told. */
static LbMessageSummary *
arrives_elsewhere (LbImapClient *raw,
                   LbImapSync   *other,
                   LbStore      *store,
                   gint64        id,
                   const char   *what)
{
  g_autoptr(GPtrArray) messages = NULL;
  g_autofree char *mid = unique_id (what);
  g_autofree char *text = make_message (mid, what, NULL, g_get_real_time () / G_USEC_PER_SEC, what);
  LbMessageSummary *summary;

  raw_append (raw, "Stale", text, NULL);
  engine_sync_folder (other, id);
  messages = store_messages (store, id);
  summary = must_mid (messages, mid);
  g_assert_cmpuint (summary->uid, >, 0);
  g_assert_null (summary->location);
  return lb_message_summary_ref (summary);
}

/* A connection keeps its mailbox selected between jobs; what came in since
 * its last command must still be fetched (and changed) through it. */
static void
test_stale_selection (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(LbImapClient) first = raw_connect (ALICE, "alicepass");
  g_autoptr(LbImapClient) second = raw_connect (ALICE, "alicepass");
  g_autoptr(LbImapSync) stale = NULL;
  g_autoptr(LbImapSync) other = NULL;
  g_autoptr(LbMessageSummary) old = NULL;
  g_autoptr(LbMessageSummary) fresh = NULL;
  g_autoptr(LbMessageSummary) part_of = NULL;
  g_autoptr(LbMessageSummary) flagged = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) part = NULL;
  g_autoptr(GBytes) body = NULL;
  g_auto(GStrv) flags = NULL;
  g_autofree char *mid = unique_id ("before");
  g_autofree char *text = make_message (mid, "Before", NULL, g_get_real_time () / G_USEC_PER_SEC, "Before.");
  g_autofree char *set = NULL;
  const char *seen[] = { "\\Seen", NULL };
  Side side = { NULL, };
  gint64 id;

  raw_fresh_mailbox (raw, "Stale");
  raw_append (raw, "Stale", text, NULL);
  side_open (&side, make_account ("alice-stale", ALICE, lb_test_port ("LB_TEST_IMAPS_PORT"), LB_NET_SECURITY_TLS),
             "alicepass", NULL);
  id = folder_id (&side, "Stale");

  /* the first session selects the folder and reads a message in it */
  stale = lb_imap_sync_new (first, side.store);
  other = lb_imap_sync_new (second, side.store);
  engine_sync_folder (stale, id);
  messages = store_messages (side.store, id);
  old = lb_message_summary_ref (must_mid (messages, mid));
  g_assert_cmpuint (engine_fetch_body (stale, id, old), ==, 1);

  /* a whole message that came in since */
  fresh = arrives_elsewhere (raw, other, side.store, id, "fresh");
  g_assert_cmpuint (engine_fetch_body (stale, id, fresh), ==, 1);
  lb_store_read_message_async (side.store, fresh->key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  body = lb_store_read_message_finish (side.store, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (body);
  g_clear_object (&result);

  /* one part of one */
  part_of = arrives_elsewhere (raw, other, side.store, id, "part");
  lb_imap_sync_fetch_part_async (stale, id, part_of->uid, "1", NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  part = lb_imap_sync_fetch_part_finish (stale, result, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (part, NULL), g_bytes_get_size (part), "part\r\n", 6);
  g_clear_object (&result);

  /* a change of flags, as a replayed one is sent after the selection */
  flagged = arrives_elsewhere (raw, other, side.store, id, "flagged");
  lb_imap_sync_select_async (stale, "Stale", NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_imap_sync_select_finish (stale, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  set = g_strdup_printf ("%u", flagged->uid);
  lb_imap_client_uid_store_async (first, set, TRUE, seen, 0, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  lb_imap_client_uid_store_finish (first, result, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  flags = raw_flags_of (raw, "Stale", flagged->message_id);
  g_assert_nonnull (flags);
  g_assert_true (g_strv_contains ((const char * const *) flags, "\\Seen"));

  g_clear_object (&stale);
  g_clear_object (&other);
  raw_logout (g_steal_pointer (&first));
  raw_logout (g_steal_pointer (&second));
  raw_logout (g_steal_pointer (&raw));
  g_clear_pointer (&messages, g_ptr_array_unref);
  side_close (&side);
}

/* ------------------------------------------------------------------ two clients, IDLE */

/* Waits until the store has @message_id in @id with @flags (or, with
 * @gone, no longer has it); returns how long it took, in ms, or -1. */
static gint64
wait_for_state (LbStore    *store,
                gint64      id,
                const char *message_id,
                gboolean    gone,
                guint       flags)
{
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + 3 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(GPtrArray) messages = store_messages (store, id);
      LbMessageSummary *summary = by_mid (messages, message_id);

      if (gone ? summary == NULL : (summary != NULL && summary->flags == flags))
        return (g_get_monotonic_time () - start) / 1000;
      lb_test_spin (20);
    }
  return -1;
}

static gint64
change_and_wait (Side        *a,
                 Side        *b,
                 gint64       b_inbox,
                 const char  *message_id,
                 gboolean     gone,
                 guint        flags)
{
  gint64 ms;

  replay_ok (a);
  ms = wait_for_state (b->store, b_inbox, message_id, gone, flags);
  g_test_message ("seen by the other client after %" G_GINT64_FORMAT " ms", ms);
  g_assert_cmpint (ms, >=, 0);
  return ms;
}

static void
test_idle_two_clients (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (BOB, "bobpass");
  g_autoptr(GPtrArray) a_messages = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) keys = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *late = unique_id ("late");
  Side a = { NULL, };
  Side b = { NULL, };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 a_inbox, b_inbox, a_archive, b_archive;

  for (guint i = 0; i < 4; i++)
    {
      char *mid = unique_id ("idle");
      g_autofree char *text = make_message (mid, "Watched", NULL, now - 10 * (5 - i), NULL);

      raw_append (raw, "INBOX", text, NULL);
      g_ptr_array_add (ids, mid);
    }

  side_open (&a, make_account ("bob-a", BOB, lb_test_port ("LB_TEST_IMAPS_PORT"), LB_NET_SECURITY_TLS),
             "bobpass", NULL);
  side_open (&b, make_account ("bob-b", BOB, lb_test_port ("LB_TEST_IMAPS_PORT"), LB_NET_SECURITY_TLS),
             "bobpass", NULL);
  a_inbox = folder_id (&a, "INBOX");
  a_archive = folder_id (&a, "Archive");
  b_inbox = folder_id (&b, "INBOX");
  b_archive = folder_id (&b, "Archive");
  sync_ok (&a, a_inbox, NULL);
  sync_ok (&b, b_inbox, NULL);
  sync_ok (&b, b_archive, NULL);

  /* B watches INBOX with IDLE, and the Archive it has open */
  lb_imap_provider_set_watched_folder (b.provider, b_archive);
  lb_imap_provider_set_background (b.provider, TRUE);
  lb_test_spin (500);   /* IDLE running */

  a_messages = store_messages (a.store, a_inbox);

  /* read */
  keys = keys_of (must_mid (a_messages, ids->pdata[0])->key, (gint64) 0);
  lb_provider_set_flags_async (LB_PROVIDER (a.provider), keys, LB_MESSAGE_SEEN, 0, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_set_flags_finish (LB_PROVIDER (a.provider), result, &error));
  g_clear_object (&result);
  g_clear_pointer (&keys, g_array_unref);
  change_and_wait (&a, &b, b_inbox, ids->pdata[0], FALSE, LB_MESSAGE_SEEN);

  /* flagged */
  keys = keys_of (must_mid (a_messages, ids->pdata[1])->key, (gint64) 0);
  lb_provider_set_flags_async (LB_PROVIDER (a.provider), keys, LB_MESSAGE_FLAGGED, 0, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_set_flags_finish (LB_PROVIDER (a.provider), result, &error));
  g_clear_object (&result);
  g_clear_pointer (&keys, g_array_unref);
  change_and_wait (&a, &b, b_inbox, ids->pdata[1], FALSE, LB_MESSAGE_FLAGGED);

  /* deleted */
  keys = keys_of (must_mid (a_messages, ids->pdata[2])->key, (gint64) 0);
  lb_provider_delete_async (LB_PROVIDER (a.provider), keys, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_delete_finish (LB_PROVIDER (a.provider), result, &error));
  g_clear_object (&result);
  g_clear_pointer (&keys, g_array_unref);
  change_and_wait (&a, &b, b_inbox, ids->pdata[2], TRUE, 0);

  /* moved: gone from INBOX, and in the Archive B watches */
  keys = keys_of (must_mid (a_messages, ids->pdata[3])->key, (gint64) 0);
  lb_provider_move_async (LB_PROVIDER (a.provider), keys, a_archive, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_move_finish (LB_PROVIDER (a.provider), result, &error));
  g_clear_object (&result);
  g_clear_pointer (&keys, g_array_unref);
  change_and_wait (&a, &b, b_inbox, ids->pdata[3], TRUE, 0);
  g_assert_cmpint (wait_for_state (b.store, b_archive, ids->pdata[3], FALSE, 0), >=, 0);

  /* new mail: Dovecot tells IDLE about half a second after delivery */
  {
    g_autofree char *text = make_message (late, "Just in", NULL, now, NULL);
    gint64 ms;

    raw_append (raw, "INBOX", text, NULL);
    ms = wait_for_state (b.store, b_inbox, late, FALSE, 0);
    g_test_message ("new mail seen after %" G_GINT64_FORMAT " ms", ms);
    g_assert_cmpint (ms, >=, 0);
  }

  g_clear_pointer (&a_messages, g_ptr_array_unref);
  raw_logout (g_steal_pointer (&raw));
  side_close (&a);
  side_close (&b);
}

/* ------------------------------------------------------------------ a connection cut mid-sync */

/* Appends all of @texts, pipelined: all in flight at once. */
static void
append_pipelined (LbImapClient *raw,
                  const char   *mailbox,
                  GPtrArray    *texts)
{
  g_autofree GAsyncResult **results = g_new0 (GAsyncResult *, texts->len);

  for (guint i = 0; i < texts->len; i++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (texts->pdata[i], strlen (texts->pdata[i]));

      lb_imap_client_append_async (raw, mailbox, NULL, 0, bytes, NULL, lb_test_store_result, &results[i]);
    }
  for (guint i = 0; i < texts->len; i++)
    {
      g_autoptr(GError) error = NULL;

      lb_test_wait (&results[i]);
      g_assert_cmpuint (lb_imap_client_append_finish (raw, results[i], NULL, &error), >, 0);
      g_assert_no_error (error);
      g_object_unref (results[i]);
    }
}

static void
test_resume_after_cut (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(LbTestProxy) proxy = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GHashTable) uids = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) mids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  LbAccount *account;
  LbImapSyncStats stats;
  Side side = { NULL, };
  const guint total = 3000;
  guint partial;
  gint64 id;

  raw_fresh_mailbox (raw, "Big");
  for (guint i = 0; i < total; i += 500)
    {
      g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);

      for (guint j = 0; j < 500; j++)
        {
          char *mid = unique_id ("big");
          g_autofree char *subject = g_strdup_printf ("Bulk message %u with a subject long enough to matter", i + j);

          g_ptr_array_add (texts, make_message (mid, subject, NULL, 1700000000 + i + j, "Bulk body."));
          g_ptr_array_add (ids, mid);
        }
      append_pipelined (raw, "Big", texts);
    }

  proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"), imap_port (), &error);
  g_assert_no_error (error);
  account = make_account ("alice-cut", ALICE, lb_test_proxy_get_port (proxy), LB_NET_SECURITY_NONE);
  lb_account_set_allow_plaintext_password (account, TRUE);
  side_open (&side, account, "alicepass", NULL);
  /* bytes on the wire as the server sends them */
  lb_imap_provider_set_compress (side.provider, FALSE);
  id = folder_id (&side, "Big");

  /* cut in the middle of the headers */
  lb_test_proxy_set_cut_after (proxy, 400 * 1024);
  g_assert_false (sync_folder (&side, id, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("the cut sync failed with: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (lb_test_proxy_get_n_cuts (proxy), >=, 1);
  messages = store_messages (side.store, id);
  partial = messages->len;
  g_test_message ("%u of %u stored before the cut", partial, total);
  g_assert_cmpuint (partial, <, total);
  g_clear_pointer (&messages, g_ptr_array_unref);

  /* the connection is back: the sync goes on from there; a message opened
   * meanwhile comes on a second connection, without waiting for it */
  lb_test_proxy_set_cut_after (proxy, 0);
  {
    g_autoptr(GAsyncResult) sync_result = NULL;
    g_autoptr(GAsyncResult) body_result = NULL;
    g_autoptr(GBytes) body = NULL;
    g_autoptr(GPtrArray) stored = store_messages (side.store, id);
    LbMessageSummary *opened = stored->pdata[0];

    guint64 before = lb_test_proxy_get_bytes_to_client (proxy);

    lb_imap_provider_sync_folder_async (side.provider, id, NULL, lb_test_store_result, &sync_result);
    /* the sync under way, then kept from going on: however fast this
     * machine is, the message can only come on another connection */
    while (lb_test_proxy_get_bytes_to_client (proxy) < before + 64 * 1024 && sync_result == NULL)
      g_main_context_iteration (NULL, TRUE);
    g_assert_null (sync_result);
    lb_test_proxy_hold_open (proxy, TRUE);
    lb_provider_fetch_body_async (LB_PROVIDER (side.provider), opened->key, NULL,
                                  lb_test_store_result, &body_result);
    lb_test_wait (&body_result);
    g_assert_null (sync_result);
    body = lb_provider_fetch_body_finish (LB_PROVIDER (side.provider), body_result, &error);
    g_assert_no_error (error);
    g_assert_nonnull (g_strstr_len (g_bytes_get_data (body, NULL), g_bytes_get_size (body), opened->message_id));

    lb_test_proxy_hold_open (proxy, FALSE);
    lb_test_wait (&sync_result);
    g_assert_true (lb_imap_provider_sync_folder_finish (side.provider, sync_result, &stats, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpuint (stats.added, ==, total - partial);

  messages = store_messages (side.store, id);
  g_assert_cmpuint (messages->len, ==, total);
  for (guint i = 0; i < messages->len; i++)
    {
      LbMessageSummary *summary = messages->pdata[i];

      g_assert_cmpuint (summary->uid, >, 0);
      g_assert_false (g_hash_table_contains (uids, GUINT_TO_POINTER (summary->uid)));
      g_hash_table_add (uids, GUINT_TO_POINTER (summary->uid));
      g_assert_nonnull (summary->message_id);
      g_hash_table_add (mids, summary->message_id);
    }
  for (guint i = 0; i < ids->len; i++)
    g_assert_true (g_hash_table_contains (mids, ids->pdata[i]));

  g_hash_table_remove_all (mids);
  g_clear_pointer (&messages, g_ptr_array_unref);
  raw_mailbox (raw, LB_IMAP_MAILBOX_DELETE, "Big", NULL);
  raw_logout (g_steal_pointer (&raw));
  side_close (&side);
}

/* ------------------------------------------------------------------ offline changes */

static void
make_offline_changes (Side       *side,
                      gint64      id,
                      gint64      archive,
                      GPtrArray  *ids,
                      const char *new_id)
{
  g_autoptr(GPtrArray) messages = store_messages (side->store, id);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) flag_keys = keys_of (must_mid (messages, ids->pdata[0])->key, (gint64) 0);
  g_autoptr(GArray) move_keys = keys_of (must_mid (messages, ids->pdata[1])->key, (gint64) 0);
  g_autoptr(GArray) delete_keys = keys_of (must_mid (messages, ids->pdata[2])->key, (gint64) 0);
  g_autofree char *text = make_message (new_id, "Written offline", NULL, g_get_real_time () / G_USEC_PER_SEC, NULL);
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
  gint64 key;

  /* each is in the store at once, whether the server is there or not */
  lb_provider_set_flags_async (LB_PROVIDER (side->provider), flag_keys, LB_MESSAGE_FLAGGED, 0, NULL,
                               lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_set_flags_finish (LB_PROVIDER (side->provider), result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  lb_provider_move_async (LB_PROVIDER (side->provider), move_keys, archive, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_move_finish (LB_PROVIDER (side->provider), result, &error));
  g_clear_object (&result);
  lb_provider_delete_async (LB_PROVIDER (side->provider), delete_keys, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_delete_finish (LB_PROVIDER (side->provider), result, &error));
  g_clear_object (&result);
  lb_provider_append_async (LB_PROVIDER (side->provider), id, bytes, LB_MESSAGE_SEEN, NULL,
                            lb_test_store_result, &result);
  lb_test_wait (&result);
  key = lb_provider_append_finish (LB_PROVIDER (side->provider), result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (key, >, 0);

  g_clear_pointer (&messages, g_ptr_array_unref);
  messages = store_messages (side->store, id);
  g_assert_cmpuint (must_mid (messages, ids->pdata[0])->flags, ==, LB_MESSAGE_FLAGGED);
  g_assert_null (by_mid (messages, ids->pdata[1]));
  g_assert_null (by_mid (messages, ids->pdata[2]));
  g_assert_nonnull (by_mid (messages, new_id));
}

static void
assert_server_has_changes (LbImapClient *raw,
                           const char   *mailbox,
                           GPtrArray    *ids,
                           const char   *new_id)
{
  g_auto(GStrv) flags = raw_flags_of (raw, mailbox, ids->pdata[0]);
  g_auto(GStrv) new_flags = NULL;

  g_assert_true (g_strv_contains ((const char * const *) flags, "\\Flagged"));
  g_assert_cmpuint (raw_count_mid (raw, mailbox, ids->pdata[1]), ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "Archive", ids->pdata[1]), ==, 1);
  g_assert_cmpuint (raw_count_mid (raw, mailbox, ids->pdata[2]), ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, mailbox, ids->pdata[3]), ==, 1);
  g_assert_cmpuint (raw_count_mid (raw, mailbox, new_id), ==, 1);
  new_flags = raw_flags_of (raw, mailbox, new_id);
  g_assert_true (g_strv_contains ((const char * const *) new_flags, "\\Seen"));
}

static void
offline_setup (LbImapClient  *raw,
               const char    *mailbox,
               GPtrArray     *ids)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  raw_fresh_mailbox (raw, mailbox);
  for (guint i = 0; i < 4; i++)
    {
      char *mid = unique_id ("offline");
      g_autofree char *text = make_message (mid, "Offline", NULL, now - 100 * (5 - i), NULL);

      raw_append (raw, mailbox, text, NULL);
      g_ptr_array_add (ids, mid);
    }
}

static void
test_offline_replay (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(LbTestProxy) proxy = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *new_id = unique_id ("new");
  LbAccount *account;
  Side side = { NULL, };
  gint64 id, archive;

  offline_setup (raw, "Offline", ids);

  proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"), imap_port (), &error);
  g_assert_no_error (error);
  account = make_account ("alice-offline", ALICE, lb_test_proxy_get_port (proxy), LB_NET_SECURITY_STARTTLS);
  side_open (&side, account, "alicepass", NULL);
  id = folder_id (&side, "Offline");
  archive = folder_id (&side, "Archive");
  sync_ok (&side, id, NULL);

  lb_test_proxy_set_down (proxy, TRUE);
  make_offline_changes (&side, id, archive, ids, new_id);
  g_assert_cmpuint (queue_length (side.store), ==, 4);

  /* the server cannot be reached: the queue waits, whole */
  g_assert_false (replay (&side, &error));
  g_assert_nonnull (error);
  g_test_message ("while down: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (queue_length (side.store), ==, 4);

  lb_test_proxy_set_down (proxy, FALSE);
  g_assert_true (connect_provider (&side, &error));
  g_assert_no_error (error);
  replay_ok (&side);
  g_assert_cmpuint (queue_length (side.store), ==, 0);
  assert_server_has_changes (raw, "Offline", ids, new_id);

  raw_logout (g_steal_pointer (&raw));
  side_close (&side);
}

/* Online in the background: the network comes back, the provider
 * reconnects by itself and the queue goes out. */
static void
test_offline_replay_automatic (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(LbTestProxy) proxy = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(LbTestMonitor) monitor = lb_test_monitor_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *new_id = unique_id ("new");
  LbAccount *account;
  Side side = { NULL, };
  gint64 id, archive;
  gint64 deadline;

  offline_setup (raw, "Offline2", ids);

  proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"), imap_port (), &error);
  g_assert_no_error (error);
  account = make_account ("alice-offline2", ALICE, lb_test_proxy_get_port (proxy), LB_NET_SECURITY_STARTTLS);
  side_open (&side, account, "alicepass", G_NETWORK_MONITOR (monitor));
  id = folder_id (&side, "Offline2");
  archive = folder_id (&side, "Archive");
  sync_ok (&side, id, NULL);
  lb_imap_provider_set_background (side.provider, TRUE);
  lb_test_spin (300);

  lb_test_proxy_set_down (proxy, TRUE);
  lb_test_monitor_set_available (monitor, FALSE);
  make_offline_changes (&side, id, archive, ids, new_id);
  lb_test_spin (300);
  g_assert_cmpuint (queue_length (side.store), ==, 4);

  lb_test_proxy_set_down (proxy, FALSE);
  lb_test_monitor_set_available (monitor, TRUE);

  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (queue_length (side.store) > 0 && g_get_monotonic_time () < deadline)
    lb_test_spin (50);
  g_assert_cmpuint (queue_length (side.store), ==, 0);
  assert_server_has_changes (raw, "Offline2", ids, new_id);

  raw_logout (g_steal_pointer (&raw));
  side_close (&side);
}

/* ------------------------------------------------------------------ refusals */

static GError *
connect_error (Side *side)
{
  GError *error = NULL;

  g_assert_false (connect_provider (side, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_false (lb_imap_provider_get_connected (side->provider));
  return error;
}

static void
move_key (Side   *side,
          gint64  key,
          gint64  target)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = keys_of (key, (gint64) 0);

  lb_provider_move_async (LB_PROVIDER (side->provider), keys, target, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_move_finish (LB_PROVIDER (side->provider), result, &error));
  g_assert_no_error (error);
}

/* A move undone offline: when the two moves are replayed, the UID the
 * first one got in the target folder must not land on the message back
 * in the source folder (where it is another message's UID). */
static void
test_undo_move (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(LbTestProxy) proxy = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  LbAccount *account;
  Side side = { NULL, };
  gint64 src, dst, key;

  raw_fresh_mailbox (raw, "UndoFrom");
  raw_fresh_mailbox (raw, "UndoTo");
  for (guint i = 0; i < 6; i++)
    {
      char *mid = unique_id ("undo");
      g_autofree char *text = make_message (mid, "Undone", NULL, now - 100 * (10 - i), NULL);

      raw_append (raw, "UndoFrom", text, NULL);
      g_ptr_array_add (ids, mid);
    }

  proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"), imap_port (), &error);
  g_assert_no_error (error);
  account = make_account ("alice-undo", ALICE, lb_test_proxy_get_port (proxy), LB_NET_SECURITY_STARTTLS);
  side_open (&side, account, "alicepass", NULL);
  src = folder_id (&side, "UndoFrom");
  dst = folder_id (&side, "UndoTo");
  sync_ok (&side, src, NULL);
  sync_ok (&side, dst, NULL);
  messages = store_messages (side.store, src);
  g_assert_cmpuint (messages->len, ==, 6);
  key = must_mid (messages, ids->pdata[5])->key;
  g_clear_pointer (&messages, g_ptr_array_unref);

  /* moved to UndoTo (UID 1 there, as the first in UndoFrom) and back */
  lb_test_proxy_set_down (proxy, TRUE);
  move_key (&side, key, dst);
  move_key (&side, key, src);
  lb_test_proxy_set_down (proxy, FALSE);
  g_assert_true (connect_provider (&side, &error));
  g_assert_no_error (error);
  replay_ok (&side);
  g_assert_cmpuint (queue_length (side.store), ==, 0);

  /* no row of UndoFrom was taken for a duplicate: all six are there,
   * before and after a sync */
  messages = store_messages (side.store, src);
  g_assert_cmpuint (messages->len, ==, 6);
  for (guint i = 0; i < ids->len; i++)
    g_assert_nonnull (by_mid (messages, ids->pdata[i]));
  g_clear_pointer (&messages, g_ptr_array_unref);
  sync_ok (&side, src, NULL);
  messages = store_messages (side.store, src);
  g_assert_cmpuint (messages->len, ==, 6);
  for (guint i = 0; i < ids->len; i++)
    g_assert_nonnull (by_mid (messages, ids->pdata[i]));
  g_assert_cmpuint (raw_count_mid (raw, "UndoFrom", ids->pdata[5]), ==, 1);

  g_clear_pointer (&messages, g_ptr_array_unref);
  raw_logout (g_steal_pointer (&raw));
  side_close (&side);
}

/* ---- a move undone at once ---- */

typedef enum
{
  UNDO_MOVE,      /* moved to another folder, moved back */
  UNDO_TRASH,     /* deleted (to Trash), moved back */
  UNDO_NO_ID,     /* moved and back, a message without a Message-ID */
  UNDO_OFFLINE,   /* moved and back while the server was unreachable */
} UndoMode;

/* The store's rows of @folder with @subject; *key and *flags are the
 * last one's. */
static guint
store_count_subject (Side       *side,
                     gint64      folder,
                     const char *subject,
                     gint64     *key,
                     guint      *flags)
{
  g_autoptr(GPtrArray) messages = store_messages (side->store, folder);
  guint n = 0;

  for (guint i = 0; i < messages->len; i++)
    {
      LbMessageSummary *summary = messages->pdata[i];

      if (g_strcmp0 (summary->subject, subject) != 0)
        continue;
      n++;
      if (key != NULL)
        *key = summary->key;
      if (flags != NULL)
        *flags = summary->flags;
    }
  return n;
}

/* The UIDs of @mailbox's messages with @subject. */
static GArray *
raw_search_subject (LbImapClient *client,
                    const char   *mailbox,
                    const char   *subject)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbImapCommand) criteria = lb_imap_command_new (NULL);
  GArray *uids;

  raw_select (client, mailbox);
  lb_imap_command_add_atom (criteria, "HEADER");
  lb_imap_command_add_atom (criteria, "SUBJECT");
  lb_imap_command_add_string (criteria, subject);
  lb_imap_client_uid_search_async (client, criteria, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  uids = lb_imap_client_uid_search_finish (client, result, &error);
  g_assert_no_error (error);
  return uids;
}

static guint
raw_count_subject (LbImapClient *client,
                   const char   *mailbox,
                   const char   *subject)
{
  g_autoptr(GArray) uids = raw_search_subject (client, mailbox, subject);

  return uids->len;
}

static void
trash_key (Side   *side,
           gint64  key)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = keys_of (key, (gint64) 0);

  lb_imap_provider_trash_async (side->provider, keys, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_imap_provider_trash_finish (side->provider, result, &error));
  g_assert_no_error (error);
}

/* Waits (a few seconds at most) until the offline queue is empty. */
static void
wait_queue_empty (Side *side)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (queue_length (side->store) > 0 && g_get_monotonic_time () < deadline)
    lb_test_spin (50);
  g_assert_cmpuint (queue_length (side->store), ==, 0);
}

/* The user moves a message out of INBOX and presses Undo at once: the
 * move back is queued before the server answered the first one, and a
 * sync of the other folder runs between the two (or both wait for the
 * server). Afterwards the message is in INBOX once, on the server and in
 * the store, under the key the window holds, with its flags; the other
 * folder has nothing, not even for a moment. */
static void
check_undo_race (UndoMode mode)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(LbTestProxy) proxy = NULL;
  g_autoptr(GAsyncResult) sync_result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *mid = unique_id ("race");
  g_autofree char *subject = unique_id ("Moved and back");
  g_autofree char *other_subject = unique_id ("Stays");
  g_autofree char *other_mid = unique_id ("race-other");
  g_autofree char *text = make_message (mid, subject, NULL, g_get_real_time () / G_USEC_PER_SEC, NULL);
  g_autofree char *other = make_message (other_mid, other_subject, NULL, g_get_real_time () / G_USEC_PER_SEC, NULL);
  g_autoptr(GArray) uids = NULL;
  g_auto(GStrv) flags = NULL;
  static const char * const seen_flagged[] = { "\\Seen", "\\Flagged", NULL };
  const char *target = mode == UNDO_TRASH ? "Trash" : "RaceTo";
  g_autofree char *account_id = g_strdup_printf ("alice-race-%d", mode);
  LbAccount *account;
  Side side = { NULL, };
  gint64 inbox, dst, key = 0, now_key = 0;
  guint now_flags = 0;

  if (mode == UNDO_NO_ID)
    {
      /* the replay cannot look for it by Message-ID */
      g_free (text);
      text = g_strdup_printf ("From: Carol Example <carol@example.test>\r\n"
                              "To: Alice <alice@example.test>\r\n"
                              "Subject: %s\r\n"
                              "Date: Mon, 2 Jun 2025 10:00:00 +0000\r\n"
                              "\r\n"
                              "No Message-ID.\r\n", subject);
    }
  if (mode != UNDO_TRASH)
    raw_fresh_mailbox (raw, target);
  raw_append (raw, "INBOX", other, NULL);
  raw_append (raw, "INBOX", text, seen_flagged);

  proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"), imap_port (), &error);
  g_assert_no_error (error);
  account = make_account (account_id, ALICE, lb_test_proxy_get_port (proxy), LB_NET_SECURITY_STARTTLS);
  side_open (&side, account, "alicepass", NULL);
  inbox = folder_id (&side, "INBOX");
  dst = folder_id (&side, target);
  sync_ok (&side, inbox, NULL);
  sync_ok (&side, dst, NULL);
  g_assert_cmpuint (store_count_subject (&side, inbox, subject, &key, NULL), ==, 1);
  g_assert_cmpuint (store_count_subject (&side, dst, subject, NULL, NULL), ==, 0);

  if (mode == UNDO_OFFLINE)
    lb_test_proxy_set_down (proxy, TRUE);
  else
    {
      /* the first move goes out; the server's answers wait */
      g_assert_true (connect_provider (&side, &error));
      g_assert_no_error (error);
      lb_test_proxy_set_held (proxy, TRUE);
    }

  if (mode == UNDO_TRASH)
    trash_key (&side, key);
  else
    move_key (&side, key, dst);
  g_assert_cmpuint (store_count_subject (&side, inbox, subject, NULL, NULL), ==, 0);
  g_assert_cmpuint (store_count_subject (&side, dst, subject, NULL, NULL), ==, 1);
  if (mode != UNDO_OFFLINE)
    {
      /* the replay has read the queue and sent its commands by now; the
       * sync waits behind it, the move back behind the sync */
      lb_test_spin (300);
      lb_imap_provider_sync_folder_async (side.provider, dst, NULL, lb_test_store_result, &sync_result);
    }
  move_key (&side, key, inbox);
  g_assert_cmpuint (store_count_subject (&side, inbox, subject, &now_key, NULL), ==, 1);
  g_assert_cmpint (now_key, ==, key);

  if (mode == UNDO_OFFLINE)
    {
      /* the server cannot be reached: the queue waits, whole */
      g_assert_false (replay (&side, &error));
      g_assert_nonnull (error);
      g_clear_error (&error);
      g_assert_cmpuint (queue_length (side.store), ==, 2);
      lb_test_proxy_set_down (proxy, FALSE);
      g_assert_true (connect_provider (&side, &error));
      g_assert_no_error (error);
    }
  else
    {
      lb_test_proxy_set_held (proxy, FALSE);
      lb_test_wait (&sync_result);
      g_assert_true (lb_imap_provider_sync_folder_finish (side.provider, sync_result, NULL, &error));
      g_assert_no_error (error);
      /* the server had it there, on its way back: no row for it */
      g_assert_cmpuint (store_count_subject (&side, dst, subject, NULL, NULL), ==, 0);
    }
  replay_ok (&side);
  wait_queue_empty (&side);

  /* twice each: a sync after the first must change nothing */
  for (guint round = 0; round < 2; round++)
    {
      sync_ok (&side, dst, NULL);
      sync_ok (&side, inbox, NULL);

      g_assert_cmpuint (store_count_subject (&side, inbox, subject, &now_key, &now_flags), ==, 1);
      g_assert_cmpint (now_key, ==, key);
      g_assert_cmpuint (now_flags & (LB_MESSAGE_SEEN | LB_MESSAGE_FLAGGED), ==,
                        LB_MESSAGE_SEEN | LB_MESSAGE_FLAGGED);
      g_assert_cmpuint (store_count_subject (&side, dst, subject, NULL, NULL), ==, 0);
      g_assert_cmpuint (store_count_subject (&side, inbox, other_subject, NULL, NULL), ==, 1);
    }

  g_assert_cmpuint (raw_count_subject (raw, "INBOX", subject), ==, 1);
  g_assert_cmpuint (raw_count_subject (raw, target, subject), ==, 0);
  g_assert_cmpuint (raw_count_subject (raw, "INBOX", other_subject), ==, 1);
  flags = raw_flags_of (raw, "INBOX", other_mid);
  g_assert_false (g_strv_contains ((const char * const *) flags, "\\Flagged"));
  g_clear_pointer (&flags, g_strfreev);
  uids = raw_search_subject (raw, "INBOX", subject);
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autofree char *set = g_strdup_printf ("%u", g_array_index (uids, guint32, 0));

    lb_imap_client_uid_fetch_async (raw, set, "(UID FLAGS)", 0, FALSE, collect_flags, &flags, NULL,
                                    NULL, lb_test_store_result, &result);
    lb_test_wait (&result);
    lb_imap_client_uid_fetch_finish (raw, result, &error);
    g_assert_no_error (error);
  }
  g_assert_nonnull (flags);
  g_assert_true (g_strv_contains ((const char * const *) flags, "\\Seen"));
  g_assert_true (g_strv_contains ((const char * const *) flags, "\\Flagged"));
  g_assert_false (g_strv_contains ((const char * const *) flags, "\\Deleted"));

  g_clear_object (&sync_result);
  raw_logout (g_steal_pointer (&raw));
  side_close (&side);
}

static void
test_undo_move_race (void)
{
  check_undo_race (UNDO_MOVE);
}

static void
test_undo_trash_race (void)
{
  check_undo_race (UNDO_TRASH);
}

static void
test_undo_move_no_message_id (void)
{
  check_undo_race (UNDO_NO_ID);
}

static void
test_undo_move_offline_inbox (void)
{
  check_undo_race (UNDO_OFFLINE);
}

/* ---- junk ---- */

/* Whether @mailbox's message with @subject has @keyword (UID SEARCH KEYWORD). */
static gboolean
raw_has_keyword (LbImapClient *client,
                 const char   *mailbox,
                 const char   *subject,
                 const char   *keyword)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbImapCommand) criteria = lb_imap_command_new (NULL);
  g_autoptr(GArray) uids = raw_search_subject (client, mailbox, subject);
  g_autoptr(GArray) with = NULL;

  g_assert_cmpuint (uids->len, ==, 1);
  lb_imap_command_add_atom (criteria, "KEYWORD");
  lb_imap_command_add_atom (criteria, keyword);
  lb_imap_client_uid_search_async (client, criteria, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  with = lb_imap_client_uid_search_finish (client, result, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < with->len; i++)
    if (g_array_index (with, guint32, i) == g_array_index (uids, guint32, 0))
      return TRUE;
  return FALSE;
}

/* What the window does for Junk and Not Junk: the keyword, then the move,
 * both asked at once; waits for both. */
static void
junk_and_move (Side    *side,
               gint64   key,
               gboolean junk,
               gint64   target)
{
  g_autoptr(GAsyncResult) junk_result = NULL;
  g_autoptr(GAsyncResult) move_result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = keys_of (key, (gint64) 0);

  lb_imap_provider_set_junk_async (side->provider, keys, junk, NULL, lb_test_store_result, &junk_result);
  lb_provider_move_async (LB_PROVIDER (side->provider), keys, target, NULL, lb_test_store_result, &move_result);
  lb_test_wait (&junk_result);
  lb_test_wait (&move_result);
  g_assert_true (lb_imap_provider_set_junk_finish (side->provider, junk_result, &error));
  g_assert_no_error (error);
  g_assert_true (lb_provider_move_finish (LB_PROVIDER (side->provider), move_result, &error));
  g_assert_no_error (error);
}

static void
assert_junk_on_server (LbImapClient *raw,
                       const char   *subject,
                       gboolean      junk)
{
  const char *there = junk ? "Junk" : "INBOX";

  g_assert_cmpuint (raw_count_subject (raw, junk ? "INBOX" : "Junk", subject), ==, 0);
  g_assert_cmpuint (raw_count_subject (raw, there, subject), ==, 1);
  g_assert_true (raw_has_keyword (raw, there, subject, junk ? "$Junk" : "$NotJunk"));
  g_assert_false (raw_has_keyword (raw, there, subject, junk ? "$NotJunk" : "$Junk"));
}

/* Junk moves the message to Junk and sets $Junk there; its undo (Not
 * Junk) moves it back with $NotJunk and without $Junk: also when both
 * are asked before the server heard of the first, and offline. */
static void
test_junk_keyword (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(LbTestProxy) proxy = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *subject = unique_id ("Junk or not");
  g_autofree char *mid = unique_id ("junk");
  g_autofree char *text = make_message (mid, subject, NULL, g_get_real_time () / G_USEC_PER_SEC, NULL);
  LbAccount *account;
  Side side = { NULL, };
  gint64 inbox, junk, key = 0, now_key = 0;

  raw_append (raw, "INBOX", text, NULL);
  proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"), imap_port (), &error);
  g_assert_no_error (error);
  account = make_account ("alice-junk", ALICE, lb_test_proxy_get_port (proxy), LB_NET_SECURITY_STARTTLS);
  side_open (&side, account, "alicepass", NULL);
  inbox = folder_id (&side, "INBOX");
  junk = folder_id (&side, "Junk");
  sync_ok (&side, inbox, NULL);
  sync_ok (&side, junk, NULL);
  g_assert_cmpuint (store_count_subject (&side, inbox, subject, &key, NULL), ==, 1);
  g_assert_true (connect_provider (&side, &error));
  g_assert_no_error (error);

  /* junk, replayed before the undo */
  junk_and_move (&side, key, TRUE, junk);
  replay_ok (&side);
  wait_queue_empty (&side);
  assert_junk_on_server (raw, subject, TRUE);

  /* the undo */
  junk_and_move (&side, key, FALSE, inbox);
  replay_ok (&side);
  wait_queue_empty (&side);
  assert_junk_on_server (raw, subject, FALSE);

  /* junk and its undo before the server answered the first */
  lb_test_proxy_set_held (proxy, TRUE);
  junk_and_move (&side, key, TRUE, junk);
  lb_test_spin (300);
  junk_and_move (&side, key, FALSE, inbox);
  lb_test_proxy_set_held (proxy, FALSE);
  replay_ok (&side);
  wait_queue_empty (&side);
  assert_junk_on_server (raw, subject, FALSE);

  /* offline: junk, undo, junk again */
  lb_test_proxy_set_down (proxy, TRUE);
  junk_and_move (&side, key, TRUE, junk);
  junk_and_move (&side, key, FALSE, inbox);
  junk_and_move (&side, key, TRUE, junk);
  g_assert_false (replay (&side, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpuint (queue_length (side.store), ==, 6);
  lb_test_proxy_set_down (proxy, FALSE);
  g_assert_true (connect_provider (&side, &error));
  g_assert_no_error (error);
  replay_ok (&side);
  wait_queue_empty (&side);
  assert_junk_on_server (raw, subject, TRUE);

  /* the store: one row, the key the window holds, in Junk */
  sync_ok (&side, inbox, NULL);
  sync_ok (&side, junk, NULL);
  g_assert_cmpuint (store_count_subject (&side, inbox, subject, NULL, NULL), ==, 0);
  g_assert_cmpuint (store_count_subject (&side, junk, subject, &now_key, NULL), ==, 1);
  g_assert_cmpint (now_key, ==, key);

  raw_logout (g_steal_pointer (&raw));
  side_close (&side);
}

static gint64
save_draft (Side       *side,
            gint64      drafts,
            const char *text,
            gint64      replaces)
{
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 key;

  lb_imap_provider_save_draft_async (side->provider, drafts, bytes, replaces, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  key = lb_imap_provider_save_draft_finish (side->provider, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (key, >, 0);
  return key;
}

static void
assert_one_draft (Side         *side,
                  LbImapClient *raw,
                  gint64        drafts,
                  const char   *message_id,
                  const char   *subject)
{
  g_autoptr(GPtrArray) messages = NULL;

  g_assert_cmpuint (queue_length (side->store), ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "Drafts", message_id), ==, 1);
  sync_ok (side, drafts, NULL);
  messages = store_messages (side->store, drafts);
  g_assert_cmpstr (must_mid (messages, message_id)->subject, ==, subject);
  g_assert_cmpuint (must_mid (messages, message_id)->uid, !=, 0);
}

/* A composer that keeps one Message-ID for the drafts of one message:
 * replacing a draft must upload the new one and remove the old one, not
 * take the old one for the new one already uploaded (online), nor find
 * the new one when deleting the old one never uploaded (offline). A
 * message on the server with the same Message-ID is taken for an upload
 * whose answer was lost only when it has the same bytes. */
static void
test_draft_same_message_id (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(LbTestProxy) proxy = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *mid = unique_id ("samedraft");
  g_autofree char *mid2 = unique_id ("samedraft-offline");
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *one = make_message (mid, "Draft one", NULL, now, "first words");
  g_autofree char *two = make_message (mid, "Draft two", NULL, now + 60, "better words");
  g_autofree char *three = make_message (mid2, "Draft three", NULL, now, "offline words");
  g_autofree char *four = make_message (mid2, "Draft four", NULL, now + 60, "final offline words");
  g_autofree char *mid3 = unique_id ("samedraft-lost");
  g_autofree char *mid4 = unique_id ("samedraft-other");
  g_autofree char *five = make_message (mid3, "Draft five", NULL, now, "words the answer lost");
  g_autofree char *six_old = make_message (mid4, "Draft six, before", NULL, now, "older words");
  g_autofree char *six = make_message (mid4, "Draft six", NULL, now + 60, "newer words");
  g_autoptr(GPtrArray) messages = NULL;
  LbAccount *account;
  Side side = { NULL, };
  gint64 drafts, key;
  guint32 uid;

  proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"), imap_port (), &error);
  g_assert_no_error (error);
  account = make_account ("alice-samedraft", ALICE, lb_test_proxy_get_port (proxy), LB_NET_SECURITY_STARTTLS);
  side_open (&side, account, "alicepass", NULL);
  drafts = folder_id (&side, "Drafts");
  sync_ok (&side, drafts, NULL);

  /* online: the first is on the server when the second replaces it */
  key = save_draft (&side, drafts, one, 0);
  replay_ok (&side);
  g_assert_cmpuint (raw_count_mid (raw, "Drafts", mid), ==, 1);
  save_draft (&side, drafts, two, key);
  replay_ok (&side);
  assert_one_draft (&side, raw, drafts, mid, "Draft two");

  /* offline: both wait in the queue */
  lb_test_proxy_set_down (proxy, TRUE);
  key = save_draft (&side, drafts, three, 0);
  save_draft (&side, drafts, four, key);
  lb_test_proxy_set_down (proxy, FALSE);
  g_assert_true (connect_provider (&side, &error));
  g_assert_no_error (error);
  replay_ok (&side);
  assert_one_draft (&side, raw, drafts, mid2, "Draft four");

  /* uploaded before, and the answer was lost: not uploaded twice */
  lb_test_proxy_set_down (proxy, TRUE);
  key = save_draft (&side, drafts, five, 0);
  uid = raw_append (raw, "Drafts", five, NULL);
  lb_test_proxy_set_down (proxy, FALSE);
  g_assert_true (connect_provider (&side, &error));
  g_assert_no_error (error);
  replay_ok (&side);
  g_assert_cmpuint (raw_count_mid (raw, "Drafts", mid3), ==, 1);
  messages = store_messages (side.store, drafts);
  g_assert_cmpint (must_mid (messages, mid3)->key, ==, key);
  g_assert_cmpuint (must_mid (messages, mid3)->uid, ==, uid);
  g_clear_pointer (&messages, g_ptr_array_unref);

  /* another version on the server with the Message-ID, not known here
   * (left by an interrupted replacement, say): not taken for this one,
   * which is uploaded */
  lb_test_proxy_set_down (proxy, TRUE);
  uid = raw_append (raw, "Drafts", six_old, NULL);
  key = save_draft (&side, drafts, six, 0);
  lb_test_proxy_set_down (proxy, FALSE);
  g_assert_true (connect_provider (&side, &error));
  g_assert_no_error (error);
  replay_ok (&side);
  g_assert_cmpuint (queue_length (side.store), ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "Drafts", mid4), ==, 2);
  messages = store_messages (side.store, drafts);
  {
    LbMessageSummary *mine = NULL;

    for (guint i = 0; i < messages->len; i++)
      if (((LbMessageSummary *) messages->pdata[i])->key == key)
        mine = messages->pdata[i];
    g_assert_nonnull (mine);
    g_assert_cmpstr (mine->subject, ==, "Draft six");
    g_assert_cmpuint (mine->uid, !=, 0);
    g_assert_cmpuint (mine->uid, !=, uid);
  }

  raw_logout (g_steal_pointer (&raw));
  side_close (&side);
}

/* The Delete key on an account without a Trash folder: nothing is
 * deleted for good unasked; in a local store's view of a server whose
 * Trash is not known as one (its role taken here by hand). */
static void
test_trash_without_trash (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbFolderInfo) info = NULL;
  g_autoptr(GArray) keys = NULL;
  Side side = { NULL, };
  gint64 id;

  offline_setup (raw, "NoTrash", ids);
  side_open (&side, make_account ("alice-notrash", ALICE, lb_test_port ("LB_TEST_IMAPS_PORT"), LB_NET_SECURITY_TLS),
             "alicepass", NULL);
  id = folder_id (&side, "NoTrash");
  sync_ok (&side, id, NULL);
  lb_store_ensure_folder_async (side.store, "Trash", "/", LB_FOLDER_ROLE_ARCHIVE, FALSE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  info = lb_store_ensure_folder_finish (side.store, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  messages = store_messages (side.store, id);
  keys = keys_of (must_mid (messages, ids->pdata[0])->key, (gint64) 0);
  lb_imap_provider_trash_async (side.provider, keys, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_false (lb_imap_provider_trash_finish (side.provider, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_test_message ("%s", error->message);
  g_clear_object (&result);

  /* nothing changed, here or there */
  g_assert_cmpuint (queue_length (side.store), ==, 0);
  g_clear_pointer (&messages, g_ptr_array_unref);
  messages = store_messages (side.store, id);
  g_assert_cmpuint (messages->len, ==, 4);
  replay_ok (&side);
  g_assert_cmpuint (raw_count_mid (raw, "NoTrash", ids->pdata[0]), ==, 1);

  raw_logout (g_steal_pointer (&raw));
  side_close (&side);
}

/* Implicit TLS: the server goes away and comes back, with no word from
 * the network monitor; the handshakes that failed meanwhile are the
 * network's, and the background connection comes back by itself. */
static void
test_tls_reconnect (void)
{
  g_autoptr(LbTestProxy) proxy = NULL;
  g_autoptr(LbTestMonitor) monitor = lb_test_monitor_new ();
  g_autoptr(GError) error = NULL;
  LbAccount *account;
  Side side = { NULL, };
  gint64 deadline;
  guint before;

  proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"), lb_test_port ("LB_TEST_IMAPS_PORT"), &error);
  g_assert_no_error (error);
  account = make_account ("alice-tlsback", ALICE, lb_test_proxy_get_port (proxy), LB_NET_SECURITY_TLS);
  side_open (&side, account, "alicepass", G_NETWORK_MONITOR (monitor));
  g_assert_true (connect_provider (&side, &error));
  g_assert_no_error (error);
  lb_imap_provider_set_background (side.provider, TRUE);
  lb_test_spin (300);
  g_assert_true (lb_imap_provider_get_connected (side.provider));

  /* the handshakes tried meanwhile fail */
  lb_test_proxy_set_down (proxy, TRUE);
  lb_test_spin (2500);
  before = lb_test_proxy_get_n_connections (proxy);
  lb_test_proxy_set_down (proxy, FALSE);

  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while ((lb_test_proxy_get_n_connections (proxy) == before ||
          !lb_imap_provider_get_connected (side.provider)) && g_get_monotonic_time () < deadline)
    lb_test_spin (100);
  g_assert_cmpuint (lb_test_proxy_get_n_connections (proxy), >, before);
  g_assert_true (lb_imap_provider_get_connected (side.provider));
  side_close (&side);
}

/* A link that drops every session right after the login: the backoff
 * is not reset by a login alone, so reconnections thin out instead of
 * coming every second. */
static void
test_reconnect_storm (void)
{
  g_autoptr(LbTestProxy) proxy = NULL;
  g_autoptr(LbTestMonitor) monitor = lb_test_monitor_new ();
  g_autoptr(GError) error = NULL;
  LbAccount *account;
  Side side = { NULL, };
  guint64 bytes;
  guint before, made;

  proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"), imap_port (), &error);
  g_assert_no_error (error);
  account = make_account ("alice-storm", ALICE, lb_test_proxy_get_port (proxy), LB_NET_SECURITY_NONE);
  lb_account_set_allow_plaintext_password (account, TRUE);
  side_open (&side, account, "alicepass", G_NETWORK_MONITOR (monitor));
  lb_imap_provider_set_compress (side.provider, FALSE);
  g_assert_true (connect_provider (&side, &error));
  g_assert_no_error (error);
  bytes = lb_test_proxy_get_bytes_to_client (proxy);
  g_ptr_array_unref (list_folders (&side));
  lb_test_proxy_set_cut_after (proxy, bytes + 30);
  before = lb_test_proxy_get_n_connections (proxy);
  lb_imap_provider_set_background (side.provider, TRUE);
  lb_test_spin (10000);
  made = lb_test_proxy_get_n_connections (proxy) - before;
  g_test_message ("connections in 10 s: %u", made);
  /* retried after 1, 2, 4 s: some 4; every second would be 10 */
  g_assert_cmpuint (made, >, 0);
  g_assert_cmpuint (made, <=, 6);
  lb_test_proxy_set_cut_after (proxy, 0);
  side_close (&side);
}

/* Online in the background while the server cannot be reached: the first
 * folder list fails; when a reconnection logs in, the list is tried again
 * and the IDLE connections start. */
static void
test_idle_after_failed_list (void)
{
  g_autoptr(LbTestProxy) proxy = NULL;
  g_autoptr(LbTestMonitor) monitor = lb_test_monitor_new ();
  g_autoptr(GError) error = NULL;
  LbAccount *account;
  Side side = { NULL, };
  gint64 deadline;

  proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"), lb_test_port ("LB_TEST_IMAPS_PORT"), &error);
  g_assert_no_error (error);
  account = make_account ("alice-idlelate", ALICE, lb_test_proxy_get_port (proxy), LB_NET_SECURITY_TLS);
  side_open (&side, account, "alicepass", G_NETWORK_MONITOR (monitor));
  lb_imap_provider_set_background (side.provider, TRUE);
  lb_test_proxy_set_down (proxy, TRUE);
  g_assert_false (connect_provider (&side, &error));
  g_clear_error (&error);
  lb_test_spin (200);
  lb_test_proxy_set_down (proxy, FALSE);

  /* the command connection and the one that watches INBOX */
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (lb_test_proxy_get_n_open (proxy) < 2 && g_get_monotonic_time () < deadline)
    lb_test_spin (100);
  g_assert_true (lb_imap_provider_get_connected (side.provider));
  g_assert_cmpuint (lb_test_proxy_get_n_open (proxy), >=, 2);
  side_close (&side);
}

static void
test_starttls_downgrade (void)
{
  g_autoptr(LbTestScriptServer) server = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) received = NULL;
  Side side = { NULL, };

  server = lb_test_script_server_new (&error);
  g_assert_no_error (error);
  /* a server (or someone in the middle) that offers no STARTTLS */
  lb_test_script_server_add_script (server,
                                    "S: * OK IMAP4rev1 ready\n"
                                    "C~ ^A1 CAPABILITY$\n"
                                    "S: * CAPABILITY IMAP4rev1 AUTH=PLAIN LOGIN\n"
                                    "S: A1 OK done\n");

  side_open (&side, make_account ("alice-downgrade", ALICE, lb_test_script_server_get_port (server),
                                  LB_NET_SECURITY_STARTTLS),
             "alicepass", NULL);
  error = connect_error (&side);
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NO_STARTTLS);
  g_assert_nonnull (strstr (error->message, "STARTTLS"));

  side_close (&side);
  g_assert_true (lb_test_script_server_wait (server, NULL));
  /* not a word more, least of all the password */
  received = lb_test_script_server_get_received (server, 0);
  for (guint i = 0; received != NULL && received[i] != NULL; i++)
    {
      g_test_message ("after the script: %s", received[i]);
      g_assert_null (strstr (received[i], "alicepass"));
      g_assert_null (strstr (received[i], "LOGIN"));
      g_assert_null (strstr (received[i], "AUTHENTICATE"));
    }
}

static void
test_wrong_password (void)
{
  g_autoptr(GError) error = NULL;
  Side side = { NULL, };

  side_open (&side, make_account ("alice-wrong", ALICE, lb_test_port ("LB_TEST_IMAPS_PORT"), LB_NET_SECURITY_TLS),
             "not-her-password", NULL);
  error = connect_error (&side);
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_AUTHENTICATION);
  g_assert_nonnull (strstr (error->message, "log in"));
  g_assert_nonnull (strstr (error->message, ALICE));
  side_close (&side);

  /* changes made after that wait for the user: they do not try the
   * password again each */
  g_clear_error (&error);
  {
    g_autoptr(LbTestProxy) proxy = lb_test_proxy_new (lb_test_getenv ("LB_TEST_HOST"),
                                                      lb_test_port ("LB_TEST_IMAPS_PORT"), &error);
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(LbFolderInfo) drafts = NULL;
    gint64 now = g_get_real_time () / G_USEC_PER_SEC;
    guint before;

    g_assert_no_error (error);
    side_open (&side, make_account ("alice-wrong2", ALICE, lb_test_proxy_get_port (proxy), LB_NET_SECURITY_TLS),
               "not-her-password", NULL);
    lb_store_ensure_folder_async (side.store, "Drafts", "/", LB_FOLDER_ROLE_DRAFTS, FALSE, NULL,
                                  lb_test_store_result, &result);
    lb_test_wait (&result);
    drafts = lb_store_ensure_folder_finish (side.store, result, &error);
    g_assert_no_error (error);
    g_clear_object (&result);
    lb_imap_provider_set_background (side.provider, TRUE);
    error = connect_error (&side);
    g_clear_error (&error);
    before = lb_test_proxy_get_n_connections (proxy);
    for (guint i = 0; i < 3; i++)
      {
        g_autofree char *mid = unique_id ("waiting");
        g_autofree char *text = make_message (mid, "Waiting", NULL, now, NULL);

        save_draft (&side, drafts->id, text, 0);
        lb_test_spin (100);
      }
    lb_test_spin (300);
    g_assert_cmpuint (lb_test_proxy_get_n_connections (proxy), ==, before);
    g_assert_cmpuint (queue_length (side.store), ==, 3);
    side_close (&side);
  }

  /* no password saved at all */
  g_clear_error (&error);
  side_open (&side, make_account ("alice-none", ALICE, lb_test_port ("LB_TEST_IMAPS_PORT"), LB_NET_SECURITY_TLS),
             NULL, NULL);
  error = connect_error (&side);
  g_assert_error (error, LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_NO_PASSWORD);
  side_close (&side);
}

static void
test_plaintext_refused (void)
{
  g_autoptr(GError) error = NULL;
  Side side = { NULL, };

  side_open (&side, make_account ("alice-plain", ALICE, imap_port (), LB_NET_SECURITY_NONE),
             "alicepass", NULL);
  error = connect_error (&side);
  g_assert_error (error, LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_PLAINTEXT_REFUSED);
  g_assert_nonnull (strstr (error->message, "not be encrypted"));

  /* with the user's consent */
  g_clear_error (&error);
  lb_account_set_allow_plaintext_password (side.account, TRUE);
  g_assert_true (connect_provider (&side, &error));
  g_assert_no_error (error);
  side_close (&side);
}

static void
test_untrusted_certificate (void)
{
  g_autoptr(GError) error = NULL;
  Side side = { NULL, };
  const char *fingerprint;

  side_open (&side, make_account ("alice-cert", ALICE, lb_test_port ("LB_TEST_IMAPS_PORT"), LB_NET_SECURITY_TLS),
             "alicepass", NULL);
  /* the system's trust store, which does not know the harness's certificate */
  g_clear_object (&side.connector);
  side.connector = lb_connector_new ();
  g_clear_object (&side.provider);
  side.provider = lb_imap_provider_new (side.account, side.store, side.secrets, side.connector, NULL);
  lb_imap_provider_set_background (side.provider, FALSE);

  error = connect_error (&side);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  fingerprint = lb_imap_provider_get_rejected_fingerprint (side.provider);
  g_assert_nonnull (fingerprint);
  g_assert_nonnull (strstr (error->message, fingerprint));

  /* the user checked it and trusts it */
  g_clear_error (&error);
  lb_account_pin_certificate (side.account, lb_test_getenv ("LB_TEST_HOST"), lb_test_port ("LB_TEST_IMAPS_PORT"),
                              fingerprint);
  g_assert_true (connect_provider (&side, &error));
  g_assert_no_error (error);
  side_close (&side);
}

/* ------------------------------------------------------------------ UIDVALIDITY */

static void
test_uidvalidity_change (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autofree char *extra_id = unique_id ("extra");
  LbImapSyncStats stats;
  Side side = { NULL, };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 id;

  raw_fresh_mailbox (raw, "Renumbered");
  for (guint i = 0; i < 5; i++)
    {
      char *mid = unique_id ("renumber");
      char *text = make_message (mid, "Renumbered", NULL, now - 100 * (6 - i), NULL);

      raw_append (raw, "Renumbered", text, NULL);
      g_ptr_array_add (ids, mid);
      g_ptr_array_add (texts, text);
    }

  side_open (&side, make_account ("alice-renumber", ALICE, lb_test_port ("LB_TEST_IMAPS_PORT"), LB_NET_SECURITY_TLS),
             "alicepass", NULL);
  id = folder_id (&side, "Renumbered");
  sync_ok (&side, id, NULL);
  before = store_messages (side.store, id);
  g_assert_cmpuint (before->len, ==, 5);

  /* the same mailbox made again: a new UIDVALIDITY, the same messages */
  raw_select (raw, "INBOX");
  raw_fresh_mailbox (raw, "Renumbered");
  for (guint i = 0; i < texts->len; i++)
    raw_append (raw, "Renumbered", texts->pdata[i], NULL);
  {
    g_autofree char *text = make_message (extra_id, "Extra", NULL, now, NULL);

    raw_append (raw, "Renumbered", text, NULL);
  }

  sync_ok (&side, id, &stats);
  g_assert_true (stats.uidvalidity_changed);
  after = store_messages (side.store, id);
  g_assert_cmpuint (after->len, ==, 6);
  for (guint i = 0; i < ids->len; i++)
    {
      LbMessageSummary *old = must_mid (before, ids->pdata[i]);
      LbMessageSummary *new = must_mid (after, ids->pdata[i]);

      g_assert_cmpint (new->key, ==, old->key);
      g_assert_cmpuint (new->uid, >, 0);
    }
  g_assert_nonnull (by_mid (after, extra_id));

  raw_mailbox (raw, LB_IMAP_MAILBOX_DELETE, "Renumbered", NULL);
  raw_logout (g_steal_pointer (&raw));
  side_close (&side);
}

/* ------------------------------------------------------------------ folder changes */

static gboolean
raw_has_mailbox (LbImapClient *client,
                 const char   *mailbox)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) responses = NULL;

  lb_imap_client_list_async (client, "*", FALSE, FALSE, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  responses = lb_imap_client_list_finish (client, result, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < responses->len; i++)
    {
      LbImapResponse *response = responses->pdata[i];

      if (response->list != NULL && g_strcmp0 (response->list->mailbox, mailbox) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
test_folder_changes (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(LbFolderInfo) created = NULL;
  g_autoptr(LbFolderInfo) child = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  Side side = { NULL, };
  gint64 inbox;

  raw_mailbox (raw, LB_IMAP_MAILBOX_DELETE, "Projects/Летний план", NULL);
  raw_mailbox (raw, LB_IMAP_MAILBOX_DELETE, "Projects", NULL);
  raw_mailbox (raw, LB_IMAP_MAILBOX_DELETE, "Renamed/Летний план", NULL);
  raw_mailbox (raw, LB_IMAP_MAILBOX_DELETE, "Renamed", NULL);

  side_open (&side, make_account ("alice-folders", ALICE, lb_test_port ("LB_TEST_IMAPS_PORT"), LB_NET_SECURITY_TLS),
             "alicepass", NULL);
  inbox = folder_id (&side, "INBOX");

  lb_imap_provider_create_folder_async (side.provider, 0, "Projects", NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  created = lb_imap_provider_create_folder_finish (side.provider, result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (created->path, ==, "Projects");
  g_assert_false (created->local);
  g_clear_object (&result);

  /* a name in UTF-8, sent in modified UTF-7 */
  lb_imap_provider_create_folder_async (side.provider, created->id, "Летний план", NULL,
                                        lb_test_store_result, &result);
  lb_test_wait (&result);
  child = lb_imap_provider_create_folder_finish (side.provider, result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (child->path, ==, "Projects/Летний план");
  g_clear_object (&result);
  g_assert_true (raw_has_mailbox (raw, "Projects/Летний план"));

  /* a name with the delimiter in it is refused */
  lb_imap_provider_create_folder_async (side.provider, 0, "a/b", NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_null (lb_imap_provider_create_folder_finish (side.provider, result, &error));
  g_assert_error (error, LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_INVALID_NAME);
  g_clear_error (&error);
  g_clear_object (&result);

  lb_imap_provider_rename_folder_async (side.provider, created->id, "Renamed", NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_imap_provider_rename_folder_finish (side.provider, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_true (raw_has_mailbox (raw, "Renamed/Летний план"));
  g_assert_false (raw_has_mailbox (raw, "Projects"));
  folders = list_folders (&side);
  g_assert_nonnull (folder_in (folders, "Renamed/Летний план"));
  g_assert_cmpint (must_folder (folders, "Renamed")->id, ==, created->id);
  g_assert_null (folder_in (folders, "Projects"));

  lb_imap_provider_subscribe_folder_async (side.provider, child->id, FALSE, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_imap_provider_subscribe_folder_finish (side.provider, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  lb_imap_provider_delete_folder_async (side.provider, child->id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_imap_provider_delete_folder_finish (side.provider, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_false (raw_has_mailbox (raw, "Renamed/Летний план"));

  /* INBOX stays */
  lb_imap_provider_delete_folder_async (side.provider, inbox, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_false (lb_imap_provider_delete_folder_finish (side.provider, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_clear_object (&result);

  raw_mailbox (raw, LB_IMAP_MAILBOX_DELETE, "Renamed", NULL);
  raw_logout (g_steal_pointer (&raw));
  side_close (&side);
}

static void
test_roles_by_name (void)
{
  g_assert_cmpint (lb_imap_provider_role_for_name ("inbox"), ==, LB_FOLDER_ROLE_INBOX);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Sent Items"), ==, LB_FOLDER_ROLE_SENT);
  g_assert_cmpint (lb_imap_provider_role_for_name ("sent messages"), ==, LB_FOLDER_ROLE_SENT);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Deleted Items"), ==, LB_FOLDER_ROLE_TRASH);
  g_assert_cmpint (lb_imap_provider_role_for_name ("SPAM"), ==, LB_FOLDER_ROLE_JUNK);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Отправленные"), ==, LB_FOLDER_ROLE_SENT);
  g_assert_cmpint (lb_imap_provider_role_for_name ("черновики"), ==, LB_FOLDER_ROLE_DRAFTS);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Корзина"), ==, LB_FOLDER_ROLE_TRASH);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Спам"), ==, LB_FOLDER_ROLE_JUNK);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Архив"), ==, LB_FOLDER_ROLE_ARCHIVE);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Projects"), ==, LB_FOLDER_ROLE_NONE);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Papierkorb"), ==, LB_FOLDER_ROLE_TRASH);
  g_assert_cmpint (lb_imap_provider_role_for_name ("GELÖSCHTE ELEMENTE"), ==, LB_FOLDER_ROLE_TRASH);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Corbeille"), ==, LB_FOLDER_ROLE_TRASH);
  g_assert_cmpint (lb_imap_provider_role_for_name ("E\xcc\x81le\xcc\x81ments supprime\xcc\x81s"), ==,
                   LB_FOLDER_ROLE_TRASH);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Papelera"), ==, LB_FOLDER_ROLE_TRASH);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Cestino"), ==, LB_FOLDER_ROLE_TRASH);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Itens Excluídos"), ==, LB_FOLDER_ROLE_TRASH);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Kosz"), ==, LB_FOLDER_ROLE_TRASH);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Кошик"), ==, LB_FOLDER_ROLE_TRASH);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Gesendete Elemente"), ==, LB_FOLDER_ROLE_SENT);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Éléments envoyés"), ==, LB_FOLDER_ROLE_SENT);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Wysłane"), ==, LB_FOLDER_ROLE_SENT);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Entwürfe"), ==, LB_FOLDER_ROLE_DRAFTS);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Borradores"), ==, LB_FOLDER_ROLE_DRAFTS);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Чернетки"), ==, LB_FOLDER_ROLE_DRAFTS);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Correo no deseado"), ==, LB_FOLDER_ROLE_JUNK);
  g_assert_cmpint (lb_imap_provider_role_for_name ("Posta indesiderata"), ==, LB_FOLDER_ROLE_JUNK);
  {
    const char *sent[] = { "\\HasNoChildren", "\\Sent", NULL };
    const char *none[] = { "\\HasChildren", NULL };

    g_assert_cmpint (lb_imap_provider_role_for_attributes ((char * const *) sent), ==, LB_FOLDER_ROLE_SENT);
    g_assert_cmpint (lb_imap_provider_role_for_attributes ((char * const *) none), ==, LB_FOLDER_ROLE_NONE);
  }
}

/* ------------------------------------------------------------------ letterbox-cli */

typedef struct
{
  int   status;
  char *out;
  char *err;
} CliRun;

static void
cli_run_clear (CliRun *run)
{
  g_free (run->out);
  g_free (run->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliRun, cli_run_clear)

static char *cli_home;

static void
run_cli (CliRun     *run,
         const char *input,
         const char *first_arg,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *config = g_build_filename (cli_home, "config", NULL);
  g_autofree char *data = g_build_filename (cli_home, "data", NULL);
  va_list args;

  g_ptr_array_add (argv, (gpointer) lb_test_getenv ("LB_CLI"));
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                        (input != NULL ? G_SUBPROCESS_FLAGS_STDIN_PIPE : 0));
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "LANGUAGE");
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
  g_test_message ("letterbox-cli %s… → %d\n%s%s", first_arg, run->status, run->out, run->err);
}

/* The key letterbox-cli list gives the message with @subject. */
static char *
cli_key (const char *account,
         const char *folder,
         const char *subject)
{
  g_auto(CliRun) listing = { 0 };
  g_auto(GStrv) lines = NULL;

  run_cli (&listing, NULL, "list", account, folder, NULL);
  g_assert_cmpint (listing.status, ==, 0);
  lines = g_strsplit (listing.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_suffix (lines[i], subject))
      {
        g_auto(GStrv) fields = g_strsplit (lines[i], "\t", -1);

        return g_strdup (fields[0]);
      }
  g_assert_not_reached ();
  return NULL;
}

static void
test_cli (void)
{
  g_autoptr(LbImapClient) raw = raw_connect (ALICE, "alicepass");
  g_autoptr(GError) error = NULL;
  g_autofree char *port = g_strdup_printf ("%u", imap_port ());
  g_autofree char *one = unique_id ("cli1");
  g_autofree char *two = unique_id ("cli2");
  g_autofree char *three = unique_id ("cli3");
  g_autofree char *four = unique_id ("cli4");
  g_autofree char *key = NULL;
  g_auto(GStrv) flags = NULL;
  g_auto(CliRun) refused_add = { 0 };
  g_auto(CliRun) refused = { 0 };
  g_auto(CliRun) add = { 0 };
  g_auto(CliRun) sync_all = { 0 };
  g_auto(CliRun) sync_one = { 0 };
  g_auto(CliRun) show = { 0 };
  g_auto(CliRun) flag = { 0 };
  g_auto(CliRun) move = { 0 };
  g_auto(CliRun) trash = { 0 };
  g_auto(CliRun) permanent = { 0 };
  g_auto(CliRun) bodies = { 0 };
  g_auto(CliRun) resync = { 0 };
  g_auto(CliRun) move_refused = { 0 };
  g_auto(CliRun) brief = { 0 };
  g_auto(CliRun) gone = { 0 };
  g_auto(CliRun) gone_listed = { 0 };
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  cli_home = g_dir_make_tmp ("lb-imap-cli-XXXXXX", &error);
  g_assert_no_error (error);

  raw_fresh_mailbox (raw, "CliTest");
  {
    g_autofree char *m1 = make_message (one, "First", NULL, now - 300, "Words of the first.");
    g_autofree char *m2 = make_message (two, "=?UTF-8?Q?Second_=E2=80=94_dash?=", NULL, now - 200, "Second text.");
    g_autofree char *m3 = make_message (three, "Third", NULL, now - 100, "Third text.");
    g_autofree char *m4 = make_message (four, "Fourth", NULL, now - 50, "Fourth text.");

    raw_append (raw, "CliTest", m1, NULL);
    raw_append (raw, "CliTest", m2, NULL);
    raw_append (raw, "CliTest", m3, NULL);
    raw_append (raw, "CliTest", m4, NULL);
  }

  raw_fresh_mailbox (raw, "CliGone");

  /* no encryption and no consent: no password goes out */
  run_cli (&refused_add, "alicepass\n", "account", "add", "--id", "plain", "--address", ALICE,
           "--protocol", "imap", "--host", lb_test_getenv ("LB_TEST_HOST"), "--port", port,
           "--security", "none", "--password-stdin", NULL);
  g_assert_cmpint (refused_add.status, ==, 0);
  run_cli (&refused, NULL, "sync", "plain", NULL);
  g_assert_cmpint (refused.status, ==, 1);
  g_assert_cmpstr (refused.out, ==, "");
  g_assert_true (g_str_has_prefix (refused.err, "letterbox-cli: "));
  g_assert_nonnull (strstr (refused.err, "not be encrypted"));

  run_cli (&add, "alicepass\n", "account", "add", "--id", "alice", "--address", ALICE,
           "--protocol", "imap", "--host", lb_test_getenv ("LB_TEST_HOST"), "--port", port,
           "--security", "none", "--allow-plaintext-password", "--password-stdin", NULL);
  g_assert_cmpint (add.status, ==, 0);

  run_cli (&sync_all, NULL, "sync", "alice", NULL);
  g_assert_cmpint (sync_all.status, ==, 0);
  g_assert_nonnull (strstr (sync_all.out, "\nCliTest\t4\t0\t0\n"));
  g_assert_true (g_str_has_prefix (sync_all.out, "INBOX\t"));
  g_assert_null (strstr (sync_all.out, "Outbox"));

  run_cli (&sync_one, NULL, "sync", "alice", "CliTest", NULL);
  g_assert_cmpint (sync_one.status, ==, 0);
  g_assert_cmpstr (sync_one.out, ==, "CliTest\t0\t0\t0\n");

  key = cli_key ("alice", "CliTest", "Second — dash");
  run_cli (&show, NULL, "show", "alice", "CliTest", key, NULL);
  g_assert_cmpint (show.status, ==, 0);
  g_assert_true (g_str_has_prefix (show.out, "From: Carol Example <carol@example.test>\n"
                                             "To: Alice <alice@example.test>\n"
                                             "Subject: Second — dash\n"
                                             "Date: "));
  g_assert_true (g_str_has_suffix (show.out, "\n\nSecond text.\n"));
  g_clear_pointer (&key, g_free);

  key = cli_key ("alice", "CliTest", "First");
  run_cli (&flag, NULL, "flag", "alice", "CliTest", key, "--read", "--flag", NULL);
  g_assert_cmpint (flag.status, ==, 0);
  flags = raw_flags_of (raw, "CliTest", one);
  g_assert_true (g_strv_contains ((const char * const *) flags, "\\Seen"));
  g_assert_true (g_strv_contains ((const char * const *) flags, "\\Flagged"));
  g_clear_pointer (&key, g_free);

  key = cli_key ("alice", "CliTest", "Third");
  run_cli (&move, NULL, "move", "alice", "CliTest", key, "Archive", NULL);
  g_assert_cmpint (move.status, ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "CliTest", three), ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "Archive", three), ==, 1);
  g_clear_pointer (&key, g_free);

  key = cli_key ("alice", "CliTest", "Fourth");
  run_cli (&trash, NULL, "delete", "alice", "CliTest", key, NULL);
  g_assert_cmpint (trash.status, ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "CliTest", four), ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "Trash", four), ==, 1);
  g_clear_pointer (&key, g_free);

  key = cli_key ("alice", "CliTest", "First");
  run_cli (&permanent, NULL, "delete", "alice", "CliTest", key, "--permanent", NULL);
  g_assert_cmpint (permanent.status, ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "CliTest", one), ==, 0);
  g_assert_cmpuint (raw_count_mid (raw, "Trash", one), ==, 0);

  run_cli (&bodies, NULL, "sync", "--bodies", "alice", "CliTest", NULL);
  g_assert_cmpint (bodies.status, ==, 0);
  /* (what QRESYNC reports vanished, our own moves among them, counts as removed) */
  g_assert_true (g_str_has_prefix (bodies.out, "CliTest\t0\t0\t"));
  g_assert_nonnull (strstr (bodies.err, "CliTest: 0 messages downloaded"));  /* show cached the one left */

  /* changes made elsewhere come back with the next sync */
  raw_store (raw, "CliTest", two, TRUE, "\\Flagged");
  run_cli (&resync, NULL, "sync", "alice", "CliTest", NULL);
  g_assert_cmpint (resync.status, ==, 0);
  g_assert_cmpstr (resync.out, ==, "CliTest\t0\t1\t0\n");

  /* a folder synced by name is synced without a folder list first; gone
   * from the server since, it is said to be, and forgotten */
  raw_mailbox (raw, LB_IMAP_MAILBOX_CREATE, "CliBrief", NULL);
  run_cli (&brief, NULL, "sync", "alice", NULL);
  g_assert_cmpint (brief.status, ==, 0);
  g_assert_nonnull (strstr (brief.out, "\nCliBrief\t0\t0\t0\n"));
  raw_mailbox (raw, LB_IMAP_MAILBOX_DELETE, "CliBrief", NULL);
  run_cli (&gone, NULL, "sync", "alice", "CliBrief", NULL);
  g_assert_cmpint (gone.status, ==, 1);
  g_assert_nonnull (strstr (gone.err, "The account has no folder “CliBrief”"));
  run_cli (&gone_listed, NULL, "folders", "alice", NULL);
  g_assert_cmpint (gone_listed.status, ==, 0);
  g_assert_null (strstr (gone_listed.out, "CliBrief"));

  /* a change the server refuses: said, and the exit status says it */
  raw_mailbox (raw, LB_IMAP_MAILBOX_DELETE, "CliGone", NULL);
  g_clear_pointer (&key, g_free);
  key = cli_key ("alice", "CliTest", "Second — dash");
  run_cli (&move_refused, NULL, "move", "alice", "CliTest", key, "CliGone", NULL);
  g_assert_cmpint (move_refused.status, ==, 1);
  g_assert_nonnull (strstr (move_refused.err, "The server refused to move messages from “CliTest” to “CliGone”"));
  g_assert_cmpuint (raw_count_mid (raw, "CliTest", two), ==, 1);
  g_clear_pointer (&key, g_free);

  raw_mailbox (raw, LB_IMAP_MAILBOX_DELETE, "CliTest", NULL);
  raw_logout (g_steal_pointer (&raw));
  lb_test_remove_tree (cli_home);
  g_clear_pointer (&cli_home, g_free);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_func ("/imap-sync/roles-by-name", test_roles_by_name);
  g_test_add_func ("/imap-sync/folders-and-sync", test_folders_and_sync);
  g_test_add_func ("/imap-sync/changes-reach-server", test_changes_reach_server);
  g_test_add_func ("/imap-sync/bodies", test_bodies);
  g_test_add_func ("/imap-sync/stale-selection", test_stale_selection);
  g_test_add_func ("/imap-sync/idle-two-clients", test_idle_two_clients);
  g_test_add_func ("/imap-sync/resume-after-cut", test_resume_after_cut);
  g_test_add_func ("/imap-sync/offline-replay", test_offline_replay);
  g_test_add_func ("/imap-sync/offline-replay-automatic", test_offline_replay_automatic);
  g_test_add_func ("/imap-sync/undo-move", test_undo_move);
  g_test_add_func ("/imap-sync/undo-move-race", test_undo_move_race);
  g_test_add_func ("/imap-sync/undo-trash-race", test_undo_trash_race);
  g_test_add_func ("/imap-sync/undo-move-no-message-id", test_undo_move_no_message_id);
  g_test_add_func ("/imap-sync/undo-move-offline-inbox", test_undo_move_offline_inbox);
  g_test_add_func ("/imap-sync/junk-keyword", test_junk_keyword);
  g_test_add_func ("/imap-sync/draft-same-message-id", test_draft_same_message_id);
  g_test_add_func ("/imap-sync/trash-without-trash", test_trash_without_trash);
  g_test_add_func ("/imap-sync/tls-reconnect", test_tls_reconnect);
  g_test_add_func ("/imap-sync/reconnect-storm", test_reconnect_storm);
  g_test_add_func ("/imap-sync/idle-after-failed-list", test_idle_after_failed_list);
  g_test_add_func ("/imap-sync/starttls-downgrade", test_starttls_downgrade);
  g_test_add_func ("/imap-sync/wrong-password", test_wrong_password);
  g_test_add_func ("/imap-sync/plaintext-refused", test_plaintext_refused);
  g_test_add_func ("/imap-sync/untrusted-certificate", test_untrusted_certificate);
  g_test_add_func ("/imap-sync/uidvalidity-change", test_uidvalidity_change);
  g_test_add_func ("/imap-sync/folder-changes", test_folder_changes);
  g_test_add_func ("/imap-sync/cli", test_cli);

  return g_test_run ();
}
