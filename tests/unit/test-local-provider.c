/* test-local-provider.c: local folders through the LbProvider interface,
 * and LbFolder following the store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <gmime/gmime.h>

#include "lb-folder.h"
#include "lb-local-provider.h"
#include "lb-provider.h"
#include "lb-test-session.h"
#include "lb-transport.h"

typedef struct
{
  char            *dir;
  LbStore         *store;
  LbLocalProvider *local;
  LbProvider      *provider;   /* the same object, as the interface */
} Fixture;

/* Three messages as a user might keep them: CRLF line ends and an encoded
 * subject; bare LF and 8-bit UTF-8 in the body; no newline at the end. */
static const char message_crlf[] =
  "From: Alice Example <alice@example.test>\r\n"
  "To: Bob <bob@example.test>\r\n"
  "Subject: =?UTF-8?B?0J/RgNC40LLQtdGC?=\r\n"
  "Date: Tue, 14 Nov 2023 10:00:00 +0000\r\n"
  "Message-ID: <crlf@example.test>\r\n"
  "MIME-Version: 1.0\r\n"
  "Content-Type: text/plain; charset=utf-8\r\n"
  "\r\n"
  "Hello Bob,  \r\n"
  "From here on, trailing spaces and a From line.\r\n";

static const char message_lf[] =
  "From: Carol <carol@example.test>\n"
  "To: bob@example.test\n"
  "Subject: Quarterly figures\n"
  "Date: Wed, 15 Nov 2023 09:30:00 +0100\n"
  "Message-ID: <lf@example.test>\n"
  "MIME-Version: 1.0\n"
  "Content-Type: text/plain; charset=utf-8\n"
  "Content-Transfer-Encoding: 8bit\n"
  "\n"
  "Выручка выросла — revenue is up.\n";

static const char message_no_eol[] =
  "From: Dave <dave@example.test>\n"
  "Subject: No newline at the end\n"
  "Date: Thu, 16 Nov 2023 08:00:00 +0000\n"
  "Message-ID: <noeol@example.test>\n"
  "\n"
  "The last line has no end";

/* ------------------------------------------------------------------ helpers */

static void
iterate_main_context (void)
{
  for (guint i = 0; i < 10; i++)
    while (g_main_context_iteration (NULL, FALSE))
      ;
}


static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("lb-local-provider-XXXXXX", &error);
  g_assert_no_error (error);

  lb_store_open_async (fixture->dir, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  fixture->store = lb_store_open_finish (result, &error);
  g_assert_no_error (error);

  fixture->local = lb_local_provider_new (fixture->store);
  fixture->provider = LB_PROVIDER (fixture->local);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  iterate_main_context ();
  fixture->provider = NULL;
  g_assert_finalize_object (g_steal_pointer (&fixture->local));
  lb_test_finalize_store (g_steal_pointer (&fixture->store));
  lb_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
}

static GArray *
keys_new (gint64 first,
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

static LbFolderInfo *
create_folder (Fixture       *fixture,
               const char    *name,
               LbFolderRole   role,
               GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_local_provider_create_folder_async (fixture->local, name, role, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_local_provider_create_folder_finish (fixture->local, result, error);
}

static LbFolderInfo *
create_folder_ok (Fixture      *fixture,
                  const char   *name,
                  LbFolderRole  role)
{
  g_autoptr(GError) error = NULL;
  LbFolderInfo *info = create_folder (fixture, name, role, &error);

  g_assert_no_error (error);
  g_assert_nonnull (info);
  return info;
}

static LbFolderInfo *
ensure_server_folder (LbStore    *store,
                      const char *path)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbFolderInfo *info;

  lb_store_ensure_folder_async (store, path, "/", LB_FOLDER_ROLE_NONE, FALSE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  info = lb_store_ensure_folder_finish (store, result, &error);
  g_assert_no_error (error);
  return info;
}

static gint64
append (LbProvider  *provider,
        gint64       folder_id,
        const char  *text,
        guint        flags,
        GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) raw = g_bytes_new_static (text, strlen (text));

  lb_provider_append_async (provider, folder_id, raw, flags, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_provider_append_finish (provider, result, error);
}

static gint64
append_ok (LbProvider *provider,
           gint64      folder_id,
           const char *text,
           guint       flags)
{
  g_autoptr(GError) error = NULL;
  gint64 key = append (provider, folder_id, text, flags, &error);

  g_assert_no_error (error);
  g_assert_cmpint (key, >, 0);
  return key;
}

static GBytes *
fetch_body (LbProvider  *provider,
            gint64       key,
            GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_provider_fetch_body_async (provider, key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_provider_fetch_body_finish (provider, result, error);
}

static void
assert_body (LbProvider *provider,
             gint64      key,
             const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = fetch_body (provider, key, &error);
  g_autoptr(GBytes) want = g_bytes_new_static (expected, strlen (expected));

  g_assert_no_error (error);
  g_assert_nonnull (body);
  g_assert_cmpmem (g_bytes_get_data (body, NULL), g_bytes_get_size (body),
                   g_bytes_get_data (want, NULL), g_bytes_get_size (want));
}

static GPtrArray *
list_folders (LbProvider *provider)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *folders;

  lb_provider_list_folders_async (provider, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  folders = lb_provider_list_folders_finish (provider, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (folders);
  return folders;
}

static const LbFolderInfo *
find_folder (GPtrArray *folders,
             gint64     id)
{
  for (guint i = 0; i < folders->len; i++)
    if (((LbFolderInfo *) folders->pdata[i])->id == id)
      return folders->pdata[i];
  return NULL;
}

/* the folder, which must be there (g_error() tells the compiler so) */
static const LbFolderInfo *
get_folder (GPtrArray *folders,
            gint64     id)
{
  const LbFolderInfo *info = find_folder (folders, id);

  if (info == NULL)
    g_error ("folder %" G_GINT64_FORMAT " is not listed", id);
  return info;
}

static LbFolderInfo *
current_info (LbProvider *provider,
              gint64      id)
{
  g_autoptr(GPtrArray) folders = list_folders (provider);

  return lb_folder_info_copy (get_folder (folders, id));
}

static void
set_flags (LbProvider *provider,
           GArray     *keys,
           guint       add,
           guint       remove)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_provider_set_flags_async (provider, keys, add, remove, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_set_flags_finish (provider, result, &error));
  g_assert_no_error (error);
}

static gboolean
move (LbProvider  *provider,
      GArray      *keys,
      gint64       target,
      GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_provider_move_async (provider, keys, target, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_provider_move_finish (provider, result, error);
}

static void
delete (LbProvider *provider,
        GArray     *keys)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_provider_delete_async (provider, keys, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_delete_finish (provider, result, &error));
  g_assert_no_error (error);
}

static gboolean
expunge (LbProvider  *provider,
         gint64       folder_id,
         GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_provider_expunge_async (provider, folder_id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_provider_expunge_finish (provider, result, error);
}

static GPtrArray *
store_list_messages (LbStore *store,
                     gint64   folder_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *rows;

  lb_store_list_messages_async (store, folder_id, 0, G_MAXUINT, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  rows = lb_store_list_messages_finish (store, result, &error);
  g_assert_no_error (error);
  return rows;
}

static GPtrArray *
store_list_ops (LbStore *store)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *ops;

  lb_store_list_ops_async (store, 1000, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  ops = lb_store_list_ops_finish (store, result, &error);
  g_assert_no_error (error);
  return ops;
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* ------------------------------------------------------------------ tests */

static void
test_provider_basics (Fixture       *fixture,
                      gconstpointer  data)
{
  LbProvider *provider = fixture->provider;
  g_autoptr(LbStore) store = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbFolderInfo) inbox = NULL;

  g_assert_cmpstr (lb_provider_get_protocol_name (provider), ==, "local");
  g_assert_true (lb_provider_get_store (provider) == fixture->store);
  g_object_get (provider, "store", &store, NULL);
  g_assert_true (store == fixture->store);

  lb_provider_connect_async (provider, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_connect_finish (provider, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  inbox = create_folder_ok (fixture, "Inbox", LB_FOLDER_ROLE_INBOX);
  lb_provider_sync_folder_async (provider, inbox->id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_sync_folder_finish (provider, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  lb_provider_disconnect_async (provider, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_disconnect_finish (provider, result, &error));
  g_assert_no_error (error);
}

static void
test_provider_append_fetch (Fixture       *fixture,
                            gconstpointer  data)
{
  LbProvider *provider = fixture->provider;
  g_autoptr(LbFolderInfo) archive = NULL;
  g_autoptr(LbFolderInfo) nested = NULL;
  g_autoptr(LbFolderInfo) server = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GError) error = NULL;
  const LbFolderInfo *info;
  gint64 k1, k2, k3;

  archive = create_folder_ok (fixture, "Archive", LB_FOLDER_ROLE_ARCHIVE);
  nested = create_folder_ok (fixture, "Projects/Letterbox", LB_FOLDER_ROLE_NONE);
  g_assert_true (archive->local);
  g_assert_cmpstr (nested->path, ==, "Projects/Letterbox");
  g_assert_cmpstr (nested->name, ==, "Letterbox");
  g_assert_cmpstr (nested->delimiter, ==, "/");

  /* a server folder of the same store is not the local provider's */
  server = ensure_server_folder (fixture->store, "INBOX");

  k1 = append_ok (provider, archive->id, message_crlf, LB_MESSAGE_SEEN);
  k2 = append_ok (provider, archive->id, message_lf, 0);
  k3 = append_ok (provider, nested->id, message_no_eol, LB_MESSAGE_FLAGGED);
  g_assert_cmpint (k1, !=, k2);
  g_assert_cmpint (k2, !=, k3);

  /* byte for byte what was appended */
  assert_body (provider, k1, message_crlf);
  assert_body (provider, k2, message_lf);
  assert_body (provider, k3, message_no_eol);

  folders = list_folders (provider);
  g_assert_cmpuint (folders->len, ==, 2);
  g_assert_null (find_folder (folders, server->id));
  info = get_folder (folders, archive->id);
  g_assert_cmpstr (info->name, ==, "Archive");
  g_assert_cmpint (info->role, ==, LB_FOLDER_ROLE_ARCHIVE);
  g_assert_cmpuint (info->total, ==, 2);
  g_assert_cmpuint (info->unread, ==, 1);
  info = get_folder (folders, nested->id);
  g_assert_cmpuint (info->total, ==, 1);
  g_assert_cmpuint (info->unread, ==, 1);

  /* the server folder takes no local mail, and says why */
  g_assert_cmpint (append (provider, server->id, message_lf, 0, &error), ==, 0);
  g_assert_nonnull (error);
  g_assert_true (g_str_has_prefix (error->message, "Could not store the message: "));
  g_clear_error (&error);

  /* nor does a message that is not there */
  g_assert_null (fetch_body (provider, k3 + 1000, &error));
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message, "Could not read the message: "));
}

static void
test_provider_flags_notify (Fixture       *fixture,
                            gconstpointer  data)
{
  LbProvider *provider = fixture->provider;
  g_autoptr(LbFolderInfo) created = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GArray) one = NULL;
  g_autoptr(GArray) two = NULL;
  LbFolder *folder;
  guint unread_notifies = 0;
  guint total_notifies = 0;
  gint64 k1, k2, k3;

  created = create_folder_ok (fixture, "Inbox", LB_FOLDER_ROLE_INBOX);
  k1 = append_ok (provider, created->id, message_crlf, 0);
  k2 = append_ok (provider, created->id, message_lf, 0);
  k3 = append_ok (provider, created->id, message_no_eol, 0);

  folders = list_folders (provider);
  folder = lb_folder_new (fixture->store, get_folder (folders, created->id));
  g_assert_cmpuint (lb_folder_get_unread_count (folder), ==, 3);
  g_assert_cmpuint (lb_folder_get_total_count (folder), ==, 3);
  g_signal_connect (folder, "notify::unread-count", G_CALLBACK (count_notify_cb), &unread_notifies);
  g_signal_connect (folder, "notify::total-count", G_CALLBACK (count_notify_cb), &total_notifies);

  one = keys_new (k1, (gint64) 0);
  set_flags (provider, one, LB_MESSAGE_SEEN, 0);
  g_assert_cmpuint (lb_folder_get_unread_count (folder), ==, 2);
  g_assert_cmpuint (unread_notifies, ==, 1);

  /* read already: nothing changes, nothing is notified */
  set_flags (provider, one, LB_MESSAGE_SEEN, 0);
  g_assert_cmpuint (lb_folder_get_unread_count (folder), ==, 2);
  g_assert_cmpuint (unread_notifies, ==, 1);

  /* two at once: one change */
  two = keys_new (k2, k3, (gint64) 0);
  set_flags (provider, two, LB_MESSAGE_SEEN, 0);
  g_assert_cmpuint (lb_folder_get_unread_count (folder), ==, 0);
  g_assert_cmpuint (unread_notifies, ==, 2);

  set_flags (provider, one, 0, LB_MESSAGE_SEEN);
  g_assert_cmpuint (lb_folder_get_unread_count (folder), ==, 1);
  g_assert_cmpuint (unread_notifies, ==, 3);

  /* a flag that is not about being read leaves the count alone */
  set_flags (provider, two, LB_MESSAGE_FLAGGED, 0);
  g_assert_cmpuint (lb_folder_get_unread_count (folder), ==, 1);
  g_assert_cmpuint (unread_notifies, ==, 3);
  g_assert_cmpuint (total_notifies, ==, 0);
  g_assert_cmpuint (lb_folder_get_total_count (folder), ==, 3);

  /* the files were renamed for their flags and still read back whole */
  assert_body (provider, k1, message_crlf);
  assert_body (provider, k2, message_lf);
  assert_body (provider, k3, message_no_eol);

  g_assert_finalize_object (folder);
}

static void
test_provider_move (Fixture       *fixture,
                    gconstpointer  data)
{
  LbProvider *provider = fixture->provider;
  g_autoptr(LbFolderInfo) inbox_info = NULL;
  g_autoptr(LbFolderInfo) archive_info = NULL;
  g_autoptr(LbFolderInfo) server = NULL;
  g_autoptr(LbFolderInfo) now = NULL;
  g_autoptr(GArray) keys = NULL;
  g_autoptr(GError) error = NULL;
  LbFolder *inbox, *archive;
  guint inbox_notifies = 0;
  guint archive_notifies = 0;
  gint64 read_key, unread_key;

  inbox_info = create_folder_ok (fixture, "Inbox", LB_FOLDER_ROLE_INBOX);
  archive_info = create_folder_ok (fixture, "Archive", LB_FOLDER_ROLE_ARCHIVE);
  read_key = append_ok (provider, inbox_info->id, message_crlf, LB_MESSAGE_SEEN);
  unread_key = append_ok (provider, inbox_info->id, message_lf, 0);

  now = current_info (provider, inbox_info->id);
  inbox = lb_folder_new (fixture->store, now);
  g_clear_pointer (&now, lb_folder_info_free);
  now = current_info (provider, archive_info->id);
  archive = lb_folder_new (fixture->store, now);
  g_clear_pointer (&now, lb_folder_info_free);
  g_assert_cmpint (lb_folder_get_role (inbox), ==, LB_FOLDER_ROLE_INBOX);
  g_assert_cmpint (lb_folder_get_role (archive), ==, LB_FOLDER_ROLE_ARCHIVE);
  g_assert_cmpuint (lb_folder_get_total_count (inbox), ==, 2);
  g_assert_cmpuint (lb_folder_get_unread_count (inbox), ==, 1);
  g_assert_cmpuint (lb_folder_get_total_count (archive), ==, 0);
  g_signal_connect (inbox, "notify::unread-count", G_CALLBACK (count_notify_cb), &inbox_notifies);
  g_signal_connect (archive, "notify::unread-count", G_CALLBACK (count_notify_cb), &archive_notifies);

  keys = keys_new (unread_key, (gint64) 0);
  g_assert_true (move (provider, keys, lb_folder_get_id (archive), &error));
  g_assert_no_error (error);

  g_assert_cmpuint (lb_folder_get_total_count (inbox), ==, 1);
  g_assert_cmpuint (lb_folder_get_unread_count (inbox), ==, 0);
  g_assert_cmpuint (lb_folder_get_total_count (archive), ==, 1);
  g_assert_cmpuint (lb_folder_get_unread_count (archive), ==, 1);
  g_assert_cmpuint (inbox_notifies, ==, 1);
  g_assert_cmpuint (archive_notifies, ==, 1);

  /* the message went with its file */
  assert_body (provider, unread_key, message_lf);
  assert_body (provider, read_key, message_crlf);

  /* not to a server folder: an error, and nothing moves */
  server = ensure_server_folder (fixture->store, "INBOX");
  g_array_set_size (keys, 0);
  g_array_append_val (keys, read_key);
  g_assert_false (move (provider, keys, server->id, &error));
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Could not move the messages: "));
  now = current_info (provider, lb_folder_get_id (inbox));
  g_assert_cmpuint (now->total, ==, 1);
  g_assert_cmpuint (lb_folder_get_total_count (inbox), ==, 1);

  g_assert_finalize_object (inbox);
  g_assert_finalize_object (archive);
}

static void
test_provider_delete (Fixture       *fixture,
                      gconstpointer  data)
{
  LbProvider *provider = fixture->provider;
  g_autoptr(LbFolderInfo) info = NULL;
  g_autoptr(LbFolderInfo) now = NULL;
  g_autoptr(GArray) keys = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = NULL;
  LbFolder *folder;
  guint total_notifies = 0;
  gint64 keep, gone;

  info = create_folder_ok (fixture, "Saved", LB_FOLDER_ROLE_NONE);
  keep = append_ok (provider, info->id, message_crlf, 0);
  gone = append_ok (provider, info->id, message_lf, 0);
  now = current_info (provider, info->id);

  folder = lb_folder_new (fixture->store, now);
  g_assert_cmpuint (lb_folder_get_total_count (folder), ==, 2);
  g_signal_connect (folder, "notify::total-count", G_CALLBACK (count_notify_cb), &total_notifies);

  keys = keys_new (gone, (gint64) 0);
  delete (provider, keys);
  g_assert_cmpuint (lb_folder_get_total_count (folder), ==, 1);
  g_assert_cmpuint (lb_folder_get_unread_count (folder), ==, 1);
  g_assert_cmpuint (total_notifies, ==, 1);

  body = fetch_body (provider, gone, &error);
  g_assert_null (body);
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND);
  assert_body (provider, keep, message_crlf);

  /* the store agrees */
  g_clear_pointer (&now, lb_folder_info_free);
  now = current_info (provider, lb_folder_get_id (folder));
  g_assert_cmpuint (now->total, ==, 1);

  g_assert_finalize_object (folder);
}

static void
test_provider_expunge (Fixture       *fixture,
                       gconstpointer  data)
{
  /* more than two pages of 500, with many dates alike, so the paging
   * must not skip or repeat rows */
  const guint n_messages = 1203;
  LbProvider *provider = fixture->provider;
  g_autoptr(LbFolderInfo) info = NULL;
  g_autoptr(LbFolderInfo) other = NULL;
  g_autoptr(LbFolderInfo) now = NULL;
  g_autoptr(GPtrArray) deliveries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_store_delivery_free);
  g_autoptr(GPtrArray) stored = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) doomed = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GHashTable) expected = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  LbFolder *folder;
  guint total_notifies = 0;
  gint64 other_key;

  info = create_folder_ok (fixture, "Big", LB_FOLDER_ROLE_NONE);
  other = create_folder_ok (fixture, "Other", LB_FOLDER_ROLE_NONE);

  /* many messages at once are set up through the store */
  for (guint i = 0; i < n_messages; i++)
    {
      g_autofree char *text = g_strdup_printf ("From: sender%u@example.test\r\n"
                                               "Subject: Message %u\r\n"
                                               "Date: Tue, 14 Nov 2023 10:0%u:00 +0000\r\n"
                                               "\r\n"
                                               "Body %u\r\n",
                                               i, i, i % 3, i);
      g_autoptr(GBytes) raw = g_bytes_new (text, strlen (text));

      g_ptr_array_add (deliveries, lb_store_delivery_new (raw, 0, NULL, 1700000000));
    }
  lb_store_deliver_async (fixture->store, info->id, deliveries, LB_STORE_WRITE_NONE, NULL,
                          lb_test_store_result, &result);
  lb_test_wait (&result);
  stored = lb_store_deliver_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, n_messages);

  for (guint i = 0; i < stored->len; i++)
    {
      gint64 key = ((LbMessageSummary *) stored->pdata[i])->key;

      if (i % 7 == 3)
        g_array_append_val (doomed, key);
      else
        g_hash_table_add (expected, g_memdup2 (&key, sizeof key));
    }
  set_flags (provider, doomed, LB_MESSAGE_DELETED, 0);

  /* in another folder, flagged deleted too: not this expunge's business */
  other_key = append_ok (provider, other->id, message_lf, LB_MESSAGE_DELETED);

  now = current_info (provider, info->id);
  folder = lb_folder_new (fixture->store, now);
  g_assert_cmpuint (lb_folder_get_total_count (folder), ==, n_messages);
  g_signal_connect (folder, "notify::total-count", G_CALLBACK (count_notify_cb), &total_notifies);

  g_assert_true (expunge (provider, info->id, &error));
  g_assert_no_error (error);

  /* exactly the flagged ones are gone */
  g_assert_cmpuint (lb_folder_get_total_count (folder), ==, n_messages - doomed->len);
  g_assert_cmpuint (total_notifies, ==, 1);
  rows = store_list_messages (fixture->store, info->id);
  g_assert_cmpuint (rows->len, ==, g_hash_table_size (expected));
  for (guint i = 0; i < rows->len; i++)
    {
      LbMessageSummary *summary = rows->pdata[i];

      g_assert_true (g_hash_table_contains (expected, &summary->key));
      g_assert_false (summary->flags & LB_MESSAGE_DELETED);
    }
  g_clear_pointer (&rows, g_ptr_array_unref);

  rows = store_list_messages (fixture->store, other->id);
  g_assert_cmpuint (rows->len, ==, 1);
  g_assert_cmpint (((LbMessageSummary *) rows->pdata[0])->key, ==, other_key);

  /* again: nothing left to remove, nothing changes */
  g_assert_true (expunge (provider, info->id, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (total_notifies, ==, 1);

  /* then the other folder */
  g_assert_true (expunge (provider, other->id, &error));
  g_assert_no_error (error);
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = store_list_messages (fixture->store, other->id);
  g_assert_cmpuint (rows->len, ==, 0);

  /* a folder that does not exist */
  g_assert_false (expunge (provider, other->id + 1000, &error));
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message, "Could not remove the deleted messages: "));

  g_assert_finalize_object (folder);
}

static void
test_provider_replay_queue (Fixture       *fixture,
                            gconstpointer  data)
{
  LbProvider *provider = fixture->provider;
  g_autoptr(LbFolderInfo) inbox = NULL;
  g_autoptr(LbFolderInfo) archive = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(GArray) first = NULL;
  g_autoptr(GArray) second = NULL;
  gint64 k1, k2;

  inbox = create_folder_ok (fixture, "Inbox", LB_FOLDER_ROLE_INBOX);
  archive = create_folder_ok (fixture, "Archive", LB_FOLDER_ROLE_ARCHIVE);
  k1 = append_ok (provider, inbox->id, message_crlf, 0);
  k2 = append_ok (provider, inbox->id, message_lf, 0);

  /* every kind of change, none of which has a server to go to */
  first = keys_new (k1, (gint64) 0);
  second = keys_new (k2, (gint64) 0);
  set_flags (provider, first, LB_MESSAGE_SEEN | LB_MESSAGE_DELETED, 0);
  g_assert_true (move (provider, second, archive->id, &error));
  g_assert_no_error (error);
  g_assert_true (expunge (provider, inbox->id, &error));
  g_assert_no_error (error);
  delete (provider, second);

  ops = store_list_ops (fixture->store);
  g_assert_cmpuint (ops->len, ==, 0);
  g_clear_pointer (&ops, g_ptr_array_unref);

  lb_provider_replay_queue_async (provider, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_provider_replay_queue_finish (provider, result, &error));
  g_assert_no_error (error);

  ops = store_list_ops (fixture->store);
  g_assert_cmpuint (ops->len, ==, 0);
}

static void
test_provider_create_folder_names (Fixture       *fixture,
                                   gconstpointer  data)
{
  static const char * const bad_parts[] = {
    "/", "/Archive", "Archive/", "Archive//2024", ".", "..", "./Archive",
    "Archive/.", "Archive/../..", "../Outside",
  };
  g_autoptr(LbFolderInfo) server = NULL;
  g_autoptr(LbFolderInfo) good = NULL;
  g_autoptr(LbFolderInfo) nested = NULL;
  g_autoptr(LbFolderInfo) after = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_null (create_folder (fixture, "", LB_FOLDER_ROLE_NONE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "A folder needs a name");
  g_clear_error (&error);

  for (guint i = 0; i < G_N_ELEMENTS (bad_parts); i++)
    {
      g_test_message ("folder name “%s”", bad_parts[i]);
      g_assert_null (create_folder (fixture, bad_parts[i], LB_FOLDER_ROLE_NONE, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      /* the message names the name and what is wrong with it */
      g_assert_nonnull (strstr (error->message, bad_parts[i]));
      g_assert_nonnull (strstr (error->message, "between slashes"));
      g_clear_error (&error);
    }

  g_assert_null (create_folder (fixture, "Line\nbreak", LB_FOLDER_ROLE_NONE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "control characters"));
  g_clear_error (&error);

  g_assert_null (create_folder (fixture, "Bad \xff text", LB_FOLDER_ROLE_NONE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* none of them made a folder */
  folders = list_folders (fixture->provider);
  g_assert_cmpuint (folders->len, ==, 0);
  g_clear_pointer (&folders, g_ptr_array_unref);

  /* names with dots inside, spaces and other scripts are fine */
  good = create_folder_ok (fixture, "Reçus 2024", LB_FOLDER_ROLE_NONE);
  nested = create_folder_ok (fixture, "Projects/v1.2/..hidden./Входящие", LB_FOLDER_ROLE_NONE);
  g_assert_cmpstr (nested->name, ==, "Входящие");

  /* a name taken, by a local or a server folder */
  g_assert_null (create_folder (fixture, "Reçus 2024", LB_FOLDER_ROLE_ARCHIVE, &error));
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "Reçus 2024"));
  g_clear_error (&error);

  server = ensure_server_folder (fixture->store, "INBOX");
  g_assert_null (create_folder (fixture, "INBOX", LB_FOLDER_ROLE_INBOX, &error));
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_EXISTS);
  g_clear_error (&error);

  /* and those keep what they were */
  after = current_info (fixture->provider, good->id);
  g_assert_cmpint (after->role, ==, LB_FOLDER_ROLE_NONE);
  g_clear_pointer (&after, lb_folder_info_free);
  after = ensure_server_folder (fixture->store, "INBOX");
  g_assert_false (after->local);

  folders = list_folders (fixture->provider);
  g_assert_cmpuint (folders->len, ==, 2);
}

static void
test_folder_properties (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(LbFolderInfo) info = NULL;
  g_autoptr(GEnumClass) roles = g_type_class_ref (LB_TYPE_FOLDER_ROLE);
  g_autofree char *path = NULL;
  g_autofree char *display_name = NULL;
  LbFolderRole role;
  gboolean local;
  guint unread, total;
  gint64 id;
  LbFolder *folder;
  guint notifies = 0;
  guint name_notifies = 0;
  guint display_notifies = 0;

  /* the enum's nicks are the store's names for the roles */
  for (LbFolderRole r = LB_FOLDER_ROLE_NONE; r <= LB_FOLDER_ROLE_OUTBOX; r++)
    {
      GEnumValue *value = g_enum_get_value (roles, r);

      g_assert_nonnull (value);
      g_assert_cmpstr (value->value_nick, ==, lb_folder_role_to_string (r));
    }

  info = create_folder_ok (fixture, "Local Outbox", LB_FOLDER_ROLE_OUTBOX);
  folder = lb_folder_new (fixture->store, info);
  g_object_get (folder,
                "id", &id,
                "path", &path,
                "display-name", &display_name,
                "role", &role,
                "local", &local,
                "unread-count", &unread,
                "total-count", &total,
                NULL);
  g_assert_cmpint (id, ==, info->id);
  g_assert_cmpstr (path, ==, "Local Outbox");
  g_assert_cmpstr (lb_folder_get_name (folder), ==, "Local Outbox");
  g_assert_cmpstr (display_name, ==, "Outbox");
  g_assert_cmpint (role, ==, LB_FOLDER_ROLE_OUTBOX);
  g_assert_true (local);
  g_assert_cmpuint (unread, ==, 0);
  g_assert_cmpuint (total, ==, 0);
  g_assert_true (lb_folder_get_store (folder) == fixture->store);

  g_signal_connect (folder, "notify", G_CALLBACK (count_notify_cb), &notifies);
  g_signal_connect (folder, "notify::name", G_CALLBACK (count_notify_cb), &name_notifies);
  g_signal_connect (folder, "notify::display-name", G_CALLBACK (count_notify_cb), &display_notifies);

  /* the same again: nothing to notify */
  lb_folder_update (folder, info);
  g_assert_cmpuint (notifies, ==, 0);

  /* a role's folder shows the role's name, whatever its own */
  g_free (info->name);
  info->name = g_strdup ("Postausgang");
  lb_folder_update (folder, info);
  g_assert_cmpstr (lb_folder_get_name (folder), ==, "Postausgang");
  g_assert_cmpstr (lb_folder_get_display_name (folder), ==, "Outbox");
  g_assert_cmpuint (name_notifies, ==, 1);
  g_assert_cmpuint (display_notifies, ==, 0);
  g_assert_cmpuint (notifies, ==, 1);

  /* without a role, its own name */
  info->role = LB_FOLDER_ROLE_NONE;
  lb_folder_update (folder, info);
  g_assert_cmpstr (lb_folder_get_display_name (folder), ==, "Postausgang");
  g_assert_cmpuint (display_notifies, ==, 1);
  g_assert_cmpuint (notifies, ==, 3);   /* role and display-name */

  g_assert_finalize_object (folder);
}

/* ------------------------------------------------------------------ an empty provider */

#define TEST_TYPE_BARE (test_bare_get_type ())
G_DECLARE_FINAL_TYPE (TestBare, test_bare, TEST, BARE, GObject)

struct _TestBare
{
  GObject  parent_instance;
  LbStore *store;
};

static LbStore *
test_bare_get_store (LbProvider *provider)
{
  return TEST_BARE (provider)->store;
}

static const char *
test_bare_get_protocol_name (LbProvider *provider)
{
  return "bare";
}

static void
test_bare_provider_init (LbProviderInterface *iface)
{
  iface->get_store = test_bare_get_store;
  iface->get_protocol_name = test_bare_get_protocol_name;
}

static void
test_bare_transport_init (LbTransportInterface *iface)
{
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestBare, test_bare, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (LB_TYPE_PROVIDER, test_bare_provider_init)
                               G_IMPLEMENT_INTERFACE (LB_TYPE_TRANSPORT, test_bare_transport_init))

static void
test_bare_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  g_value_set_object (value, TEST_BARE (object)->store);
}

static void
test_bare_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  TEST_BARE (object)->store = g_value_dup_object (value);
}

static void
test_bare_dispose (GObject *object)
{
  g_clear_object (&TEST_BARE (object)->store);
  G_OBJECT_CLASS (test_bare_parent_class)->dispose (object);
}

static void
test_bare_class_init (TestBareClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_bare_get_property;
  object_class->set_property = test_bare_set_property;
  object_class->dispose = test_bare_dispose;
  g_object_class_override_property (object_class, 1, "store");
}

static void
test_bare_init (TestBare *self)
{
}

/* What an implementation leaves out fails with a clear error rather than
 * crashing or never calling back. */
static void
test_provider_not_supported (Fixture       *fixture,
                             gconstpointer  data)
{
  TestBare *bare = g_object_new (TEST_TYPE_BARE, "store", fixture->store, NULL);
  LbProvider *provider = LB_PROVIDER (bare);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = keys_new (1, (gint64) 0);
  g_autoptr(GBytes) message = g_bytes_new_static (message_lf, strlen (message_lf));
  const char * const recipients[] = { "bob@example.test", NULL };

  g_assert_cmpstr (lb_provider_get_protocol_name (provider), ==, "bare");
  g_assert_true (lb_provider_get_store (provider) == fixture->store);

  lb_provider_move_async (provider, keys, 1, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_false (lb_provider_move_finish (provider, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==, "Moving messages is not supported for this account");
  g_clear_error (&error);
  g_clear_object (&result);

  g_assert_cmpint (append (provider, 1, message_lf, 0, &error), ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  lb_provider_replay_queue_async (provider, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_false (lb_provider_replay_queue_finish (provider, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_clear_object (&result);

  lb_transport_send_async (LB_TRANSPORT (bare), message, "alice@example.test", recipients,
                           NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_false (lb_transport_send_finish (LB_TRANSPORT (bare), result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==, "Sending is not supported for this account");
  g_clear_object (&result);

  iterate_main_context ();
  g_assert_finalize_object (bare);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/local-provider/basics", test_provider_basics);
  ADD ("/local-provider/append-fetch", test_provider_append_fetch);
  ADD ("/local-provider/flags-notify", test_provider_flags_notify);
  ADD ("/local-provider/move", test_provider_move);
  ADD ("/local-provider/delete", test_provider_delete);
  ADD ("/local-provider/expunge", test_provider_expunge);
  ADD ("/local-provider/replay-queue", test_provider_replay_queue);
  ADD ("/local-provider/create-folder-names", test_provider_create_folder_names);
  ADD ("/local-provider/not-supported", test_provider_not_supported);
  ADD ("/folder/properties", test_folder_properties);

#undef ADD

  return g_test_run ();
}
