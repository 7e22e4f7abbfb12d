/* test-store.c: the local store: schema migrations, summaries, flags,
 * threads, full-text search, Maildir folders and the offline queue
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <sqlite3.h>

#include "lb-store-private.h"
#include "lb-test-session.h"

typedef struct
{
  char    *dir;
  LbStore *store;
} Fixture;

/* ------------------------------------------------------------------ helpers */

static LbStore *
open_store_at (const char  *dir,
               guint        version,
               GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_store_open_at_version_async (dir, version, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_store_open_finish (result, error);
}

static LbStore *
open_store (const char *dir)
{
  g_autoptr(GError) error = NULL;
  LbStore *store = open_store_at (dir, LB_STORE_SCHEMA_VERSION, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return store;
}

/* Lets the store's threads hand back their last references, then checks
 * that it is gone. */


static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("lb-store-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->store = open_store (fixture->dir);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  if (fixture->store != NULL)
    lb_test_finalize_store (g_steal_pointer (&fixture->store));
  lb_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
}

static LbFolderInfo *
ensure_folder (LbStore      *store,
               const char   *path,
               LbFolderRole  role,
               gboolean      local)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbFolderInfo *info;

  lb_store_ensure_folder_async (store, path, "/", role, local, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  info = lb_store_ensure_folder_finish (store, result, &error);
  g_assert_no_error (error);
  return info;
}

static LbFolderInfo *
get_folder (LbStore *store,
            gint64   id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbFolderInfo *info;

  lb_store_get_folder_async (store, id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  info = lb_store_get_folder_finish (store, result, &error);
  g_assert_no_error (error);
  return info;
}

static LbMessageSummary *
make_summary (guint32     uid,
              gint64      date,
              const char *subject,
              const char *message_id,
              const char *references)
{
  LbMessageSummary *summary = lb_message_summary_new ();

  summary->uid = uid;
  summary->date = date;
  summary->subject = g_strdup (subject);
  summary->from = g_strdup ("Alice Example <alice@example.test>");
  summary->to = g_strdup ("bob@example.test");
  summary->message_id = g_strdup (message_id);
  summary->references = g_strdup (references);
  summary->size = 1234;
  return summary;
}

static GPtrArray *
add_summaries (LbStore   *store,
               gint64     folder_id,
               GPtrArray *summaries,
               LbStoreWriteFlags flags)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *added;

  lb_store_add_summaries_async (store, folder_id, summaries, NULL, flags, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  added = lb_store_add_summaries_finish (store, result, &error);
  g_assert_no_error (error);
  return added;
}

static GPtrArray *
list_messages (LbStore *store,
               gint64   folder_id,
               guint    offset,
               guint    limit)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *rows;

  lb_store_list_messages_async (store, folder_id, offset, limit, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  rows = lb_store_list_messages_finish (store, result, &error);
  g_assert_no_error (error);
  return rows;
}

static GPtrArray *
search (LbStore    *store,
        const char *text,
        gint64      folder_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *rows;

  lb_store_search_async (store, text, folder_id, 100, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  rows = lb_store_search_finish (store, result, &error);
  g_assert_no_error (error);
  return rows;
}

static LbMessageSummary *
get_message (LbStore *store,
             gint64   key)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbMessageSummary *summary;

  lb_store_get_message_async (store, key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  summary = lb_store_get_message_finish (store, result, &error);
  g_assert_no_error (error);
  return summary;
}

static void
set_flags (LbStore           *store,
           gint64             key,
           guint              add,
           guint              remove,
           LbStoreWriteFlags  flags)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_array_append_val (keys, key);
  lb_store_set_flags_async (store, keys, add, remove, flags, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  lb_store_set_flags_finish (store, result, &error);
  g_assert_no_error (error);
}

static GPtrArray *
list_ops (LbStore *store)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *ops;

  lb_store_list_ops_async (store, 1000000, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  ops = lb_store_list_ops_finish (store, result, &error);
  g_assert_no_error (error);
  return ops;
}

static GPtrArray *
deliver (LbStore *store,
         gint64   folder_id,
         GPtrArray *deliveries)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *stored;

  lb_store_deliver_async (store, folder_id, deliveries, LB_STORE_WRITE_DURABLE, NULL,
                          lb_test_store_result, &result);
  lb_test_wait (&result);
  stored = lb_store_deliver_finish (store, result, &error);
  g_assert_no_error (error);
  return stored;
}

static GPtrArray *
deliveries_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) lb_store_delivery_free);
}

static void
add_delivery (GPtrArray  *deliveries,
              const char *text,
              guint       flags,
              const char *uidl)
{
  g_autoptr(GBytes) raw = g_bytes_new (text, strlen (text));

  g_ptr_array_add (deliveries, lb_store_delivery_new (raw, flags, uidl, 1700000000));
}

static void
add_delivery_file (GPtrArray  *deliveries,
                   const char *relative)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GBytes) raw = NULL;
  gsize length;

  path = g_test_build_filename (G_TEST_DIST, "data", "third-party", relative, NULL);
  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  raw = g_bytes_new_take (g_steal_pointer (&contents), length);
  g_ptr_array_add (deliveries, lb_store_delivery_new (raw, LB_MESSAGE_SEEN, NULL, 1700000000));
}

static gint64
query_int (const char *dir,
           const char *sql)
{
  g_autofree char *path = g_build_filename (dir, "store.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static void
exec_sql (const char *dir,
          const char *sql)
{
  g_autofree char *path = g_build_filename (dir, "store.db", NULL);
  sqlite3 *db = NULL;
  char *message = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
  sqlite3_close (db);
}

/* ------------------------------------------------------------------ schema */

static void
test_store_open_creates (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autofree char *db = g_build_filename (fixture->dir, "store.db", NULL);

  g_assert_true (g_file_test (db, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (query_int (fixture->dir, "PRAGMA user_version"), ==, LB_STORE_SCHEMA_VERSION);
  g_assert_cmpint (query_int (fixture->dir, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), ==, 1);
}

static void
test_store_migrate_from_v1 (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lb-store-XXXXXX", &error);
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(LbFolderInfo) inbox = NULL;
  LbStore *store;

  g_assert_no_error (error);

  /* a store as the first schema left it, with mail in it */
  store = open_store_at (dir, 1, &error);
  g_assert_no_error (error);
  lb_test_finalize_store (store);
  g_assert_cmpint (query_int (dir, "PRAGMA user_version"), ==, 1);
  exec_sql (dir,
            "INSERT INTO folders (path, name, role) VALUES ('INBOX', 'INBOX', 1);"
            "INSERT INTO messages (folder_id, uid, subject, sender, date, flags, preview, thread_id)"
            " VALUES (1, 7, 'Quarterly figures', 'Carol <carol@example.test>', 1600000000, 0,"
            "         'Revenue is up', 1);");
  g_assert_cmpint (query_int (dir, "SELECT count(*) FROM sqlite_master WHERE name = 'messages_fts'"), ==, 0);

  /* upgraded when opened */
  store = open_store (dir);
  g_assert_cmpint (query_int (dir, "PRAGMA user_version"), ==, LB_STORE_SCHEMA_VERSION);

  inbox = get_folder (store, 1);
  g_assert_cmpuint (inbox->total, ==, 1);
  g_assert_cmpuint (inbox->unread, ==, 1);

  /* what was there is indexed for search ... */
  found = search (store, "quarterly", 0);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpstr (((LbMessageSummary *) found->pdata[0])->subject, ==, "Quarterly figures");
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (store, "carol", 0);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = search (store, "revenue", 0);
  g_assert_cmpuint (found->len, ==, 1);

  /* ... and the queue of the newest schema works on it */
  set_flags (store, ((LbMessageSummary *) found->pdata[0])->key, LB_MESSAGE_SEEN, 0, LB_STORE_WRITE_QUEUE);
  ops = list_ops (store);
  g_assert_cmpuint (ops->len, ==, 1);
  g_assert_cmpint (((LbStoreOp *) ops->pdata[0])->kind, ==, LB_STORE_OP_SET_FLAGS);
  g_assert_cmpuint (((LbStoreOp *) ops->pdata[0])->uid, ==, 7);

  lb_test_finalize_store (store);
  lb_test_remove_tree (dir);
}

/* The app and letterbox-cli may open a new account's store at the same
 * moment: both must come up, with the schema made once. */
static void
test_store_concurrent_open (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lb-store-XXXXXX", &error);
  GAsyncResult *results[4] = { NULL, };
  LbStore *stores[4];

  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    lb_store_open_async (dir, NULL, lb_test_store_result, &results[i]);
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      lb_test_wait (&results[i]);
      stores[i] = lb_store_open_finish (results[i], &error);
      g_assert_no_error (error);
    }
  g_assert_cmpint (query_int (dir, "PRAGMA user_version"), ==, LB_STORE_SCHEMA_VERSION);
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_clear_object (&results[i]);
      lb_test_finalize_store (stores[i]);
    }
  lb_test_remove_tree (dir);
}

static void
test_store_refuses_foreign (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lb-store-XXXXXX", &error);
  g_autofree char *db = g_build_filename (dir, "store.db", NULL);
  LbStore *store;

  /* from a newer Letterbox */
  store = open_store (dir);
  lb_test_finalize_store (store);
  exec_sql (dir, "PRAGMA user_version = 99");
  store = open_store_at (dir, LB_STORE_SCHEMA_VERSION, &error);
  g_assert_null (store);
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_TOO_NEW);
  g_assert_nonnull (strstr (error->message, "newer version"));
  g_clear_error (&error);
  /* and left alone */
  g_assert_cmpint (query_int (dir, "PRAGMA user_version"), ==, 99);

  /* somebody else's database */
  g_remove (db);
  exec_sql (dir, "CREATE TABLE t (x); PRAGMA user_version = 2;");
  store = open_store_at (dir, LB_STORE_SCHEMA_VERSION, &error);
  g_assert_null (store);
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_CORRUPT);
  g_clear_error (&error);

  /* somebody else's database that never set a version */
  g_remove (db);
  exec_sql (dir, "CREATE TABLE t (x);");
  store = open_store_at (dir, LB_STORE_SCHEMA_VERSION, &error);
  g_assert_null (store);
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_cmpint (query_int (dir, "SELECT count(*) FROM sqlite_master"), ==, 1);

  /* not a database at all */
  g_remove (db);
  g_file_set_contents (db, "From: not a database\n\nhello\n", -1, &error);
  g_assert_no_error (error);
  store = open_store_at (dir, LB_STORE_SCHEMA_VERSION, &error);
  g_assert_null (store);
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "damaged"));
  g_clear_error (&error);

  lb_test_remove_tree (dir);
}

/* ------------------------------------------------------------------ folders and summaries */

static void
test_store_folders (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(LbFolderInfo) work = ensure_folder (fixture->store, "Projects/Work", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(LbFolderInfo) sent = ensure_folder (fixture->store, "Sent", LB_FOLDER_ROLE_SENT, FALSE);
  g_autoptr(LbFolderInfo) again = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) folders = NULL;

  g_assert_cmpstr (work->name, ==, "Work");
  /* asking for a folder without saying its role leaves its role alone */
  {
    g_autoptr(LbFolderInfo) same = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_NONE, FALSE);

    g_assert_cmpint (same->role, ==, LB_FOLDER_ROLE_INBOX);
  }
  g_assert_cmpstr (work->delimiter, ==, "/");
  g_assert_cmpint (again->id, ==, inbox->id);

  lb_store_list_folders_async (fixture->store, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  folders = lb_store_list_folders_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (folders->len, ==, 3);
  /* the special folders first, Inbox at the top */
  g_assert_cmpstr (((LbFolderInfo *) folders->pdata[0])->path, ==, "INBOX");
  g_assert_cmpstr (((LbFolderInfo *) folders->pdata[1])->path, ==, "Sent");
  g_assert_cmpstr (((LbFolderInfo *) folders->pdata[2])->path, ==, "Projects/Work");
  g_clear_object (&result);

  lb_store_set_folder_state_async (fixture->store, inbox->id, 1234, 57, 99999, NULL,
                                   lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_set_folder_state_finish (fixture->store, result, &error));
  g_assert_no_error (error);
  {
    g_autoptr(LbFolderInfo) now = get_folder (fixture->store, inbox->id);

    g_assert_cmpuint (now->uidvalidity, ==, 1234);
    g_assert_cmpuint (now->uidnext, ==, 57);
    g_assert_cmpuint (now->highestmodseq, ==, 99999);
  }
}

static int
compare_date_key_desc (gconstpointer a,
                       gconstpointer b)
{
  const LbMessageSummary *x = *(LbMessageSummary **) a;
  const LbMessageSummary *y = *(LbMessageSummary **) b;

  if (x->date != y->date)
    return x->date > y->date ? -1 : 1;
  return x->key > y->key ? -1 : (x->key < y->key ? 1 : 0);
}

static void
test_store_summaries (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) expected = NULL;
  g_autoptr(GPtrArray) again = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  g_autoptr(LbFolderInfo) info = NULL;
  guint n = 1000, seen = 0;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *subject = g_strdup_printf ("Message %u", i);
      /* many share a date, so the key decides their order */
      LbMessageSummary *summary = make_summary (i + 1, 1600000000 + g_rand_int_range (rand, 0, 300),
                                                subject, NULL, NULL);

      if (g_rand_boolean (rand))
        {
          summary->flags = LB_MESSAGE_SEEN;
          seen++;
        }
      g_ptr_array_add (summaries, summary);
    }
  added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);
  g_assert_cmpuint (added->len, ==, n);

  info = get_folder (fixture->store, inbox->id);
  g_assert_cmpuint (info->total, ==, n);
  g_assert_cmpuint (info->unread, ==, n - seen);

  expected = g_ptr_array_copy (added, (GCopyFunc) lb_message_summary_ref, NULL);
  g_ptr_array_set_free_func (expected, (GDestroyNotify) lb_message_summary_unref);
  g_ptr_array_sort (expected, compare_date_key_desc);

  /* offset pages and keyset pages give the same rows, in order */
  for (guint offset = 0; offset < n; offset += 137)
    {
      g_autoptr(GPtrArray) page = list_messages (fixture->store, inbox->id, offset, 137);
      LbMessageSummary *last;
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) next = NULL;
      g_autoptr(GArray) positions = g_array_new (FALSE, FALSE, sizeof (LbStorePosition));
      g_autoptr(GArray) counts = NULL;
      LbStorePosition position;

      g_assert_cmpuint (page->len, ==, MIN (137, n - offset));
      for (guint i = 0; i < page->len; i++)
        {
          LbMessageSummary *row = page->pdata[i];
          LbMessageSummary *want = expected->pdata[offset + i];

          g_assert_cmpint (row->key, ==, want->key);
          g_assert_cmpstr (row->subject, ==, want->subject);
          g_assert_cmpuint (row->uid, ==, want->uid);
          g_assert_cmpuint (row->flags, ==, want->flags);
          g_assert_cmpstr (row->from, ==, "Alice Example <alice@example.test>");
        }

      last = page->pdata[page->len - 1];
      lb_store_list_messages_before_async (fixture->store, inbox->id, last->date, last->key, 10,
                                           NULL, lb_test_store_result, &result);
      lb_test_wait (&result);
      next = lb_store_list_messages_finish (fixture->store, result, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < next->len; i++)
        g_assert_cmpint (((LbMessageSummary *) next->pdata[i])->key, ==,
                         ((LbMessageSummary *) expected->pdata[offset + page->len + i])->key);
      g_clear_object (&result);

      /* and a row's index in the list can be asked for */
      position.date = last->date;
      position.key = last->key;
      g_array_append_val (positions, position);
      lb_store_count_before_async (fixture->store, inbox->id, positions, NULL, lb_test_store_result, &result);
      lb_test_wait (&result);
      counts = lb_store_count_before_finish (fixture->store, result, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_array_index (counts, guint, 0), ==, offset + page->len - 1);
    }

  /* adding the same UIDs again (a sync resumed) adds nothing */
  again = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);
  g_clear_pointer (&info, lb_folder_info_free);
  info = get_folder (fixture->store, inbox->id);
  g_assert_cmpuint (info->total, ==, n);
  g_assert_cmpint (((LbMessageSummary *) again->pdata[5])->key, ==,
                   ((LbMessageSummary *) added->pdata[5])->key);
}

typedef struct
{
  GPtrArray *changes;
  GPtrArray *folders;
} Recorder;

static void
on_changed (LbStore   *store,
            GPtrArray *changes,
            Recorder  *recorder)
{
  for (guint i = 0; i < changes->len; i++)
    g_ptr_array_add (recorder->changes, g_memdup2 (changes->pdata[i], sizeof (LbStoreChange)));
}

static void
on_folder_changed (LbStore      *store,
                   LbFolderInfo *info,
                   Recorder     *recorder)
{
  g_ptr_array_add (recorder->folders, lb_folder_info_copy (info));
}

static void
test_store_flags_and_queue (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(LbFolderInfo) archive = ensure_folder (fixture->store, "Archive", LB_FOLDER_ROLE_ARCHIVE, FALSE);
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  Recorder recorder = {
    g_ptr_array_new_with_free_func (g_free),
    g_ptr_array_new_with_free_func ((GDestroyNotify) lb_folder_info_free),
  };
  LbMessageSummary *a, *b;
  LbStoreOp *op;
  gulong id1, id2;

  g_ptr_array_add (summaries, make_summary (10, 1600000000, "First", "a@example.test", NULL));
  g_ptr_array_add (summaries, make_summary (11, 1600000100, "Second", "b@example.test", NULL));
  added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);
  a = added->pdata[0];
  b = added->pdata[1];

  id1 = g_signal_connect (fixture->store, "changed", G_CALLBACK (on_changed), &recorder);
  id2 = g_signal_connect (fixture->store, "folder-changed", G_CALLBACK (on_folder_changed), &recorder);

  /* read and flagged, queued for the server; setting what is set already
   * changes nothing and queues nothing */
  set_flags (fixture->store, a->key, LB_MESSAGE_SEEN | LB_MESSAGE_FLAGGED, 0, LB_STORE_WRITE_QUEUE);
  set_flags (fixture->store, a->key, LB_MESSAGE_SEEN, 0, LB_STORE_WRITE_QUEUE);
  {
    g_autoptr(LbMessageSummary) now = get_message (fixture->store, a->key);

    g_assert_cmpuint (now->flags, ==, LB_MESSAGE_SEEN | LB_MESSAGE_FLAGGED);
  }
  g_assert_cmpuint (recorder.changes->len, ==, 1);
  g_assert_cmpint (((LbStoreChange *) recorder.changes->pdata[0])->kind, ==, LB_STORE_CHANGE_UPDATED);
  g_assert_cmpint (((LbStoreChange *) recorder.changes->pdata[0])->key, ==, a->key);
  /* the folder's unread count followed, and was announced */
  g_assert_cmpuint (recorder.folders->len, >=, 1);
  g_assert_cmpuint (((LbFolderInfo *) recorder.folders->pdata[0])->unread, ==, 1);

  /* moved to Archive and b deleted, while offline */
  g_array_append_val (keys, a->key);
  lb_store_move_messages_async (fixture->store, keys, archive->id, LB_STORE_WRITE_QUEUE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_move_messages_finish (fixture->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_array_index (keys, gint64, 0) = b->key;
  lb_store_delete_messages_async (fixture->store, keys, LB_STORE_WRITE_QUEUE, NULL,
                                  lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_delete_messages_finish (fixture->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  {
    g_autoptr(LbFolderInfo) in = get_folder (fixture->store, inbox->id);
    g_autoptr(LbFolderInfo) ar = get_folder (fixture->store, archive->id);
    g_autoptr(LbMessageSummary) moved = get_message (fixture->store, a->key);

    g_assert_cmpuint (in->total, ==, 0);
    g_assert_cmpuint (in->unread, ==, 0);
    g_assert_cmpuint (ar->total, ==, 1);
    g_assert_cmpint (moved->folder_id, ==, archive->id);
    g_assert_cmpuint (moved->uid, ==, 0);
  }

  /* the queue holds exactly what the server must learn, in order */
  ops = list_ops (fixture->store);
  g_assert_cmpuint (ops->len, ==, 3);
  op = ops->pdata[0];
  g_assert_cmpint (op->kind, ==, LB_STORE_OP_SET_FLAGS);
  g_assert_cmpstr (op->folder_path, ==, "INBOX");
  g_assert_cmpuint (op->uid, ==, 10);
  g_assert_cmpuint (op->flags_add, ==, LB_MESSAGE_SEEN | LB_MESSAGE_FLAGGED);
  g_assert_cmpuint (op->flags_remove, ==, 0);
  op = ops->pdata[1];
  g_assert_cmpint (op->kind, ==, LB_STORE_OP_MOVE);
  g_assert_cmpuint (op->uid, ==, 10);
  g_assert_cmpstr (op->target_path, ==, "Archive");
  g_assert_cmpstr (op->message_id, ==, "a@example.test");
  op = ops->pdata[2];
  g_assert_cmpint (op->kind, ==, LB_STORE_OP_DELETE);
  g_assert_cmpuint (op->uid, ==, 11);
  g_assert_cmpint (op->message_key, ==, b->key);

  /* a failed replay stays queued with its reason; a done one leaves */
  lb_store_finish_op_async (fixture->store, ((LbStoreOp *) ops->pdata[0])->id, "Server said NO",
                            NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_finish_op_finish (fixture->store, result, &error));
  g_clear_object (&result);
  lb_store_finish_op_async (fixture->store, ((LbStoreOp *) ops->pdata[1])->id, NULL,
                            NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_finish_op_finish (fixture->store, result, &error));
  g_clear_pointer (&ops, g_ptr_array_unref);
  ops = list_ops (fixture->store);
  g_assert_cmpuint (ops->len, ==, 2);
  g_assert_cmpuint (((LbStoreOp *) ops->pdata[0])->attempts, ==, 1);
  g_assert_cmpstr (((LbStoreOp *) ops->pdata[0])->last_error, ==, "Server said NO");
  g_assert_cmpint (((LbStoreOp *) ops->pdata[1])->kind, ==, LB_STORE_OP_DELETE);

  g_signal_handler_disconnect (fixture->store, id1);
  g_signal_handler_disconnect (fixture->store, id2);
  g_ptr_array_unref (recorder.changes);
  g_ptr_array_unref (recorder.folders);
}

typedef struct
{
  GThread *thread;
  guint    count;
} SignalSeen;

static void
note_signal (LbStore    *store,
             gpointer    arg,
             SignalSeen *seen)
{
  seen->thread = g_thread_self ();
  seen->count++;
}

/* Signals come on the main context, while it iterates, never from the
 * store's thread: not even when the main thread is busy elsewhere. */
static void
test_store_signals_on_main_context (Fixture       *fixture,
                                    gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GError) error = NULL;
  SignalSeen changed = { NULL, 0 }, folder = { NULL, 0 };

  g_signal_connect (fixture->store, "changed", G_CALLBACK (note_signal), &changed);
  g_signal_connect (fixture->store, "folder-changed", G_CALLBACK (note_signal), &folder);

  g_ptr_array_add (summaries, make_summary (1, 1600000000, "one", NULL, NULL));
  lb_store_add_summaries_async (fixture->store, inbox->id, summaries, NULL, LB_STORE_WRITE_NONE,
                                NULL, lb_test_store_result, &result);
  /* the write is long done after this, and nothing iterated */
  g_usleep (300 * 1000);
  g_assert_cmpuint (changed.count, ==, 0);
  g_assert_cmpuint (folder.count, ==, 0);

  lb_test_wait (&result);
  added = lb_store_add_summaries_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (changed.count, ==, 1);
  g_assert_cmpuint (folder.count, ==, 1);
  g_assert_true (changed.thread == g_thread_self ());
  g_assert_true (folder.thread == g_thread_self ());

  g_signal_handlers_disconnect_by_data (fixture->store, &changed);
  g_signal_handlers_disconnect_by_data (fixture->store, &folder);
}

/* ------------------------------------------------------------------ local folders */

static guint
count_files (const char *maildir,
             const char *sub,
             const char *containing)
{
  g_autofree char *path = g_build_filename (maildir, sub, NULL);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  guint n = 0;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      if (containing == NULL || strstr (name, containing) != NULL)
        n++;
  return n;
}

static void
test_store_local_folder (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "Inbox", LB_FOLDER_ROLE_INBOX, TRUE);
  g_autoptr(LbFolderInfo) keep = ensure_folder (fixture->store, "Keep/Важное", LB_FOLDER_ROLE_NONE, TRUE);
  g_autoptr(GPtrArray) deliveries = deliveries_new ();
  g_autoptr(GPtrArray) stored = NULL;
  g_autoptr(GPtrArray) again = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *inbox_dir = g_build_filename (fixture->dir, "mail", "Inbox", NULL);
  g_autofree char *keep_dir = NULL;
  const char *first =
    "From: Dmitry <dmitry@example.test>\r\n"
    "To: alice@example.test\r\n"
    "Subject: =?UTF-8?B?0J/RgNC40LLQtdGC?=\r\n"
    "Date: Tue, 14 Nov 2023 10:00:00 +0300\r\n"
    "Message-ID: <first@example.test>\r\n"
    "\r\n"
    "Как дела? The elephant report is attached.\r\n";
  LbMessageSummary *summary;

  add_delivery (deliveries, first, 0, "uidl-1");
  add_delivery (deliveries, "From: x@example.test\nSubject: second\n\nbody\n", LB_MESSAGE_SEEN, "uidl-2");
  /* the same message twice in one download is stored once */
  add_delivery (deliveries, "From: x@example.test\nSubject: second\n\nbody\n", LB_MESSAGE_SEEN, "uidl-2");
  g_assert_cmpuint (lb_store_get_durable_commits (fixture->store), ==, 0);
  stored = deliver (fixture->store, inbox->id, deliveries);
  g_assert_cmpuint (stored->len, ==, 2);
  /* a durable delivery is synced to disk when it returns */
  g_assert_cmpuint (lb_store_get_durable_commits (fixture->store), ==, 1);
  summary = stored->pdata[0];
  g_assert_cmpstr (summary->subject, ==, "Привет");
  g_assert_cmpstr (summary->message_id, ==, "first@example.test");
  g_assert_cmpint (summary->date, ==, 1699945200);

  /* Maildir files any tool can read: new/ without flags, cur/ with */
  g_assert_cmpuint (count_files (inbox_dir, "new", NULL), ==, 1);
  g_assert_cmpuint (count_files (inbox_dir, "cur", ":2,S"), ==, 1);
  g_assert_cmpuint (count_files (inbox_dir, "tmp", NULL), ==, 0);

  /* byte for byte */
  lb_store_read_message_async (fixture->store, summary->key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  bytes = lb_store_read_message_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), first, strlen (first));
  g_clear_object (&result);

  /* a download resumed after a drop: the same UIDLs are not stored twice */
  again = deliver (fixture->store, inbox->id, deliveries);
  g_assert_cmpuint (again->len, ==, 2);
  {
    g_autoptr(LbFolderInfo) now = get_folder (fixture->store, inbox->id);

    g_assert_cmpuint (now->total, ==, 2);
    g_assert_cmpuint (now->unread, ==, 1);
  }
  g_assert_cmpuint (count_files (inbox_dir, "new", NULL) + count_files (inbox_dir, "cur", NULL), ==, 2);

  /* flags go into the file name; an ordinary write is not synced */
  set_flags (fixture->store, summary->key, LB_MESSAGE_SEEN | LB_MESSAGE_ANSWERED, 0, LB_STORE_WRITE_QUEUE);
  g_assert_cmpuint (lb_store_get_durable_commits (fixture->store), ==, 2);
  g_assert_cmpuint (count_files (inbox_dir, "cur", ":2,RS"), ==, 1);
  /* local folders have no server to tell */
  {
    g_autoptr(GPtrArray) ops = list_ops (fixture->store);

    g_assert_cmpuint (ops->len, ==, 0);
  }

  /* searchable by body text, in Russian too */
  {
    g_autoptr(GPtrArray) found = search (fixture->store, "elephant", 0);
    g_autoptr(GPtrArray) found_ru = search (fixture->store, "дела", inbox->id);

    g_assert_cmpuint (found->len, ==, 1);
    g_assert_cmpuint (found_ru->len, ==, 1);
  }

  /* moved to another local folder: the file moves along */
  g_array_append_val (keys, summary->key);
  lb_store_move_messages_async (fixture->store, keys, keep->id, LB_STORE_WRITE_NONE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_move_messages_finish (fixture->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  keep_dir = g_build_filename (fixture->dir, "mail", "Keep%2F%D0%92%D0%B0%D0%B6%D0%BD%D0%BE%D0%B5", NULL);
  if (!g_file_test (keep_dir, G_FILE_TEST_IS_DIR))
    {
      g_free (keep_dir);
      keep_dir = g_build_filename (fixture->dir, "mail", "Keep%2FВажное", NULL);
    }
  g_assert_true (g_file_test (keep_dir, G_FILE_TEST_IS_DIR));
  g_assert_cmpuint (count_files (keep_dir, "cur", ":2,RS"), ==, 1);
  g_assert_cmpuint (count_files (inbox_dir, "cur", ":2,RS"), ==, 0);
  g_clear_pointer (&bytes, g_bytes_unref);
  lb_store_read_message_async (fixture->store, summary->key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  bytes = lb_store_read_message_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, strlen (first));
  g_clear_object (&result);

  /* deleted: row, index entry and file */
  lb_store_delete_messages_async (fixture->store, keys, LB_STORE_WRITE_NONE, NULL,
                                  lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_delete_messages_finish (fixture->store, result, &error));
  g_clear_object (&result);
  g_assert_cmpuint (count_files (keep_dir, "cur", NULL), ==, 0);
  {
    g_autoptr(GPtrArray) found = search (fixture->store, "elephant", 0);

    g_assert_cmpuint (found->len, ==, 0);
  }
  lb_store_read_message_async (fixture->store, summary->key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_null (lb_store_read_message_finish (fixture->store, result, &error));
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND);
}

/* A download for offline reading hands the store bodies in batches: one
 * transaction, messages deleted meanwhile skipped; a cache file that a
 * power failure left empty reads as not downloaded. */
static void
test_store_cache_bodies (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) gone = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) raws = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *empty = NULL;

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *id = g_strdup_printf ("body%u@example.test", i);

      g_ptr_array_add (summaries, make_summary (i + 1, 1600000000 + i, "Body", id, NULL));
    }
  added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);
  for (guint i = 0; i < 3; i++)
    {
      LbMessageSummary *s = added->pdata[i];

      g_array_append_val (keys, s->key);
      g_ptr_array_add (raws, g_bytes_new_take (g_strdup_printf ("Subject: %u\r\n\r\nbody %u\r\n", i, i),
                                               strlen ("Subject: 0\r\n\r\nbody 0\r\n")));
    }

  /* the second one is deleted before its body arrives */
  g_array_append_val (gone, g_array_index (keys, gint64, 1));
  lb_store_delete_messages_async (fixture->store, gone, LB_STORE_WRITE_NONE, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_delete_messages_finish (fixture->store, result, &error));
  g_clear_object (&result);

  lb_store_cache_bodies_async (fixture->store, keys, raws, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_cache_bodies_finish (fixture->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  lb_store_read_message_async (fixture->store, g_array_index (keys, gint64, 2), NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  bytes = lb_store_read_message_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "Subject: 2\r\n\r\nbody 2\r\n", 22);
  g_clear_object (&result);
  {
    g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT ".eml", g_array_index (keys, gint64, 1));
    g_autofree char *path = g_build_filename (fixture->dir, "bodies", name, NULL);

    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }

  /* cut short by a power failure */
  {
    g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT ".eml", g_array_index (keys, gint64, 0));

    empty = g_build_filename (fixture->dir, "bodies", name, NULL);
  }
  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  lb_store_read_message_async (fixture->store, g_array_index (keys, gint64, 0), NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_null (lb_store_read_message_finish (fixture->store, result, &error));
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FETCHED);
}

static void
test_store_body_cache (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) raw = g_bytes_new_static ("Subject: hi\r\n\r\nbody\r\n", 21);
  g_autoptr(GBytes) back = NULL;
  gint64 key;

  g_ptr_array_add (summaries, make_summary (3, 1600000000, "hi", NULL, NULL));
  added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);
  key = ((LbMessageSummary *) added->pdata[0])->key;

  /* not fetched yet: a clear error, not an empty message */
  lb_store_read_message_async (fixture->store, key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_null (lb_store_read_message_finish (fixture->store, result, &error));
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FETCHED);
  g_clear_error (&error);
  g_clear_object (&result);

  lb_store_cache_body_async (fixture->store, key, raw, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_cache_body_finish (fixture->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  lb_store_read_message_async (fixture->store, key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  back = lb_store_read_message_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (back, raw));
}

/* ------------------------------------------------------------------ threads */

static gint64
thread_of (GPtrArray *stored,
           guint      index)
{
  return ((LbMessageSummary *) stored->pdata[index])->thread_id;
}

static void
test_store_threads (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "Inbox", LB_FOLDER_ROLE_INBOX, TRUE);
  g_autoptr(LbFolderInfo) sent = ensure_folder (fixture->store, "Sent", LB_FOLDER_ROLE_SENT, TRUE);
  g_autoptr(GPtrArray) batch1 = deliveries_new ();
  g_autoptr(GPtrArray) batch2 = deliveries_new ();
  g_autoptr(GPtrArray) batch3 = deliveries_new ();
  g_autoptr(GPtrArray) stored1 = NULL;
  g_autoptr(GPtrArray) stored2 = NULL;
  g_autoptr(GPtrArray) stored3 = NULL;
  g_autoptr(GPtrArray) thread = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  Recorder recorder = {
    g_ptr_array_new_with_free_func (g_free),
    g_ptr_array_new_with_free_func ((GDestroyNotify) lb_folder_info_free),
  };
  gulong id;

  /* real messages with real References and In-Reply-To headers:
   * 0: a Usenet follow-up naming four ancestors (MimeKit's epilogue.txt),
   * 1: an Exchange reply with folded References (issue358.txt),
   * 2: Geary's reply to <1234@local.machine.example> */
  add_delivery_file (batch1, "mimekit/UnitTests/TestData/messages/epilogue.txt");
  add_delivery_file (batch1, "mimekit/UnitTests/TestData/messages/issue358.txt");
  add_delivery_file (batch1, "geary/test/data/basic-text-plain.eml");
  stored1 = deliver (fixture->store, inbox->id, batch1);
  g_assert_cmpuint (stored1->len, ==, 3);
  g_assert_cmpint (thread_of (stored1, 0), !=, thread_of (stored1, 1));
  g_assert_cmpint (thread_of (stored1, 1), !=, thread_of (stored1, 2));
  g_assert_cmpstr (((LbMessageSummary *) stored1->pdata[0])->references, ==,
                   "3ohapq$h3b@gandalf.rutgers.edu 3notqh$b52@ns2.ny.ubs.com "
                   "3npoh0$2oo@news.blkbox.com 3nqp09$r7t@ns2.ny.ubs.com");

  /* the ancestor the Usenet post names second arrives later, in Sent:
   * it joins the thread across folders */
  add_delivery (batch2,
                "From: me@example.test\r\nSubject: Re: question\r\n"
                "Message-ID: <3notqh$b52@ns2.ny.ubs.com>\r\n"
                "References: <3ohapq$h3b@gandalf.rutgers.edu>\r\n\r\nanswer\r\n", LB_MESSAGE_SEEN, NULL);
  stored2 = deliver (fixture->store, sent->id, batch2);
  g_assert_cmpint (thread_of (stored2, 0), ==, thread_of (stored1, 0));

  /* Geary's parent, whose ID only the reply named, arrives: one thread;
   * then a message replying to both the Exchange one and Geary's parent
   * proves those two threads one conversation: they merge */
  add_delivery (batch3,
                "From: a@example.test\r\nSubject: parent\r\n"
                "Message-ID: <1234@local.machine.example>\r\n\r\nroot\r\n", 0, NULL);
  add_delivery (batch3,
                "From: b@example.test\r\nSubject: Re: both\r\n"
                "Message-ID: <join@example.test>\r\n"
                "In-Reply-To: <AM4PR01MB1444B3F21AE7DA9C8128C28FF7290@AM4PR01MB1444.eurprd01.prod.exchangelabs.com>\r\n"
                "References: <1234@local.machine.example>\r\n\r\njoin\r\n", 0, NULL);
  add_delivery (batch3,
                "From: c@example.test\r\nSubject: unrelated\r\nMessage-ID: <alone@example.test>\r\n\r\nx\r\n",
                0, NULL);
  add_delivery (batch3, "From: d@example.test\r\nSubject: no id at all\r\n\r\nx\r\n", 0, NULL);
  id = g_signal_connect (fixture->store, "changed", G_CALLBACK (on_changed), &recorder);
  stored3 = deliver (fixture->store, inbox->id, batch3);
  g_signal_handler_disconnect (fixture->store, id);
  g_assert_cmpint (thread_of (stored3, 0), ==, thread_of (stored1, 2));
  g_assert_cmpint (thread_of (stored3, 1), ==, MIN (thread_of (stored1, 1), thread_of (stored1, 2)));
  g_assert_cmpint (thread_of (stored3, 2), !=, thread_of (stored3, 1));
  g_assert_cmpint (thread_of (stored3, 3), !=, thread_of (stored3, 2));
  g_assert_cmpint (thread_of (stored3, 3), !=, thread_of (stored1, 0));

  /* the merged thread, as the store now has it: four messages, the
   * Exchange reply among them, oldest first */
  lb_store_get_thread_async (fixture->store, thread_of (stored3, 1), NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  thread = lb_store_get_thread_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (thread->len, ==, 4);
  for (guint i = 1; i < thread->len; i++)
    g_assert_cmpint (((LbMessageSummary *) thread->pdata[i - 1])->date, <=,
                     ((LbMessageSummary *) thread->pdata[i])->date);
  {
    g_autoptr(LbMessageSummary) exchange = get_message (fixture->store, ((LbMessageSummary *) stored1->pdata[1])->key);
    g_autoptr(LbMessageSummary) geary = get_message (fixture->store, ((LbMessageSummary *) stored1->pdata[2])->key);
    gint64 moved = exchange->thread_id == thread_of (stored1, 1) ? geary->key : exchange->key;
    gboolean announced = FALSE;

    g_assert_cmpint (exchange->thread_id, ==, thread_of (stored3, 1));
    g_assert_cmpint (geary->thread_id, ==, thread_of (stored3, 1));
    /* the message whose thread id changed in the merge was announced */
    for (guint i = 0; i < recorder.changes->len; i++)
      {
        LbStoreChange *change = recorder.changes->pdata[i];

        if (change->kind == LB_STORE_CHANGE_UPDATED && change->key == moved)
          announced = TRUE;
      }
    g_assert_true (announced);
  }
  g_ptr_array_unref (recorder.changes);
  g_ptr_array_unref (recorder.folders);
}

/* ------------------------------------------------------------------ search */

static void
test_store_search (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(LbFolderInfo) other = ensure_folder (fixture->store, "Other", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) more = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) added2 = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  struct { const char *text; guint n; } cases[] = {
    { "budget", 2 },           /* subject of one, body of another */
    { "BUDGET", 2 },           /* case does not matter */
    { "budget quarterly", 1 }, /* every word */
    { "budg", 2 },             /* search as you type */
    { "zoe@example.test", 1 }, /* addresses */
    { "Zoë", 2 },              /* diacritics do not matter: Zoë and Zoe */
    { "отчёт", 1 },            /* Cyrillic */
    { "\"unbalanced", 0 },     /* FTS syntax is not ours to parse */
    { "NEAR(a b) OR *", 0 },
    { "   ", 0 },
  };

  g_ptr_array_add (summaries, make_summary (1, 1600000000, "Budget for next year", NULL, NULL));
  g_ptr_array_add (texts, g_strdup ("Please see the attached numbers."));
  g_ptr_array_add (summaries, make_summary (2, 1600000100, "Lunch", NULL, NULL));
  g_ptr_array_add (texts, g_strdup ("The quarterly budget meeting moved to Friday."));
  g_ptr_array_add (summaries, make_summary (3, 1600000200, "Годовой отчёт", NULL, NULL));
  g_ptr_array_add (texts, NULL);
  g_free (((LbMessageSummary *) summaries->pdata[2])->from);
  ((LbMessageSummary *) summaries->pdata[2])->from = g_strdup ("Zoe Z <zoe@example.test>");
  g_ptr_array_add (summaries, make_summary (4, 1600000300, "Café with Zoe", NULL, NULL));
  g_ptr_array_add (texts, NULL);
  g_free (((LbMessageSummary *) summaries->pdata[3])->subject);
  ((LbMessageSummary *) summaries->pdata[3])->subject = g_strdup ("Coffee with Zoë");

  lb_store_add_summaries_async (fixture->store, inbox->id, summaries, texts, LB_STORE_WRITE_NONE,
                                NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  added = lb_store_add_summaries_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) found = search (fixture->store, cases[i].text, 0);

      g_test_message ("search “%s”", cases[i].text);
      g_assert_cmpuint (found->len, ==, cases[i].n);
    }

  /* newest first, and limited to a folder when asked */
  g_ptr_array_add (more, make_summary (1, 1700000000, "Budget, the sequel", NULL, NULL));
  added2 = add_summaries (fixture->store, other->id, more, LB_STORE_WRITE_NONE);
  {
    g_autoptr(GPtrArray) all = search (fixture->store, "budget", 0);
    g_autoptr(GPtrArray) in_inbox = search (fixture->store, "budget", inbox->id);

    g_assert_cmpuint (all->len, ==, 3);
    g_assert_cmpstr (((LbMessageSummary *) all->pdata[0])->subject, ==, "Budget, the sequel");
    g_assert_cmpstr (((LbMessageSummary *) all->pdata[1])->subject, ==, "Lunch");
    g_assert_cmpuint (in_inbox->len, ==, 2);
  }
}

/* ------------------------------------------------------------------ server folders in step (IMAP sync) */

typedef struct
{
  GPtrArray *changes;   /* LbStoreChange */
  GPtrArray *folders;   /* LbFolderInfo */
  GArray    *removed;   /* gint64 folder ids */
  LbStore   *store;
} SyncRecorder;

static void
sync_on_changed (LbStore      *store,
                 GPtrArray    *changes,
                 SyncRecorder *recorder)
{
  for (guint i = 0; i < changes->len; i++)
    g_ptr_array_add (recorder->changes, g_memdup2 (changes->pdata[i], sizeof (LbStoreChange)));
}

static void
sync_on_folder_changed (LbStore      *store,
                        LbFolderInfo *info,
                        SyncRecorder *recorder)
{
  g_ptr_array_add (recorder->folders, lb_folder_info_copy (info));
}

static void
sync_on_folder_removed (LbStore      *store,
                        gint64        folder_id,
                        SyncRecorder *recorder)
{
  g_array_append_val (recorder->removed, folder_id);
}

static SyncRecorder *
sync_recorder_new (LbStore *store)
{
  SyncRecorder *recorder = g_new0 (SyncRecorder, 1);

  recorder->changes = g_ptr_array_new_with_free_func (g_free);
  recorder->folders = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_folder_info_free);
  recorder->removed = g_array_new (FALSE, FALSE, sizeof (gint64));
  recorder->store = store;
  g_signal_connect (store, "changed", G_CALLBACK (sync_on_changed), recorder);
  g_signal_connect (store, "folder-changed", G_CALLBACK (sync_on_folder_changed), recorder);
  g_signal_connect (store, "folder-removed", G_CALLBACK (sync_on_folder_removed), recorder);
  return recorder;
}

static void
sync_recorder_reset (SyncRecorder *recorder)
{
  g_ptr_array_set_size (recorder->changes, 0);
  g_ptr_array_set_size (recorder->folders, 0);
  g_array_set_size (recorder->removed, 0);
}

static void
sync_recorder_free (SyncRecorder *recorder)
{
  g_signal_handlers_disconnect_by_data (recorder->store, recorder);
  g_ptr_array_unref (recorder->changes);
  g_ptr_array_unref (recorder->folders);
  g_array_unref (recorder->removed);
  g_free (recorder);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyncRecorder, sync_recorder_free)

/* How many changes of @kind for @key were announced (any key for 0). */
static guint
count_changes (SyncRecorder      *recorder,
               LbStoreChangeKind  kind,
               gint64             key)
{
  guint n = 0;

  for (guint i = 0; i < recorder->changes->len; i++)
    {
      LbStoreChange *change = recorder->changes->pdata[i];

      if (change->kind == kind && (key == 0 || change->key == key))
        n++;
    }
  return n;
}

static LbMessageSummary *
summary_at (GPtrArray *summaries,
            guint      index)
{
  return summaries->pdata[index];
}

static GArray *
list_uids (LbStore *store,
           gint64   folder_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GArray *states;

  lb_store_list_uids_async (store, folder_id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  states = lb_store_list_uids_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (states);
  return states;
}

static void
add_uid_state (GArray     *states,
               guint32     uid,
               guint       flags,
               const char *keywords)
{
  LbStoreUidState state = { uid, flags, 0, g_strdup (keywords) };

  g_array_append_val (states, state);
}

static void
sync_flags (LbStore *store,
            gint64   folder_id,
            GArray  *states)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_store_sync_flags_async (store, folder_id, states, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_sync_flags_finish (store, result, &error));
  g_assert_no_error (error);
}

static void
remove_uids (LbStore *store,
             gint64   folder_id,
             GArray  *uids)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_store_remove_uids_async (store, folder_id, uids, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_remove_uids_finish (store, result, &error));
  g_assert_no_error (error);
}

static void
reset_folder (LbStore *store,
              gint64   folder_id,
              guint32  uidvalidity)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_store_reset_folder_async (store, folder_id, uidvalidity, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_reset_folder_finish (store, result, &error));
  g_assert_no_error (error);
}

static guint
remove_orphans (LbStore *store,
                gint64   folder_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint count;

  lb_store_remove_orphans_async (store, folder_id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  count = lb_store_remove_orphans_finish (store, result, &error);
  g_assert_no_error (error);
  return count;
}

static void
set_uid (LbStore *store,
         gint64   key,
         gint64   folder_id,
         guint32  uid)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_store_set_uid_async (store, key, folder_id, uid, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_set_uid_finish (store, result, &error));
  g_assert_no_error (error);
}

static void
cache_body (LbStore    *store,
            gint64      key,
            const char *text)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) raw = g_bytes_new (text, strlen (text));

  lb_store_cache_body_async (store, key, raw, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_cache_body_finish (store, result, &error));
  g_assert_no_error (error);
}

/* The cached body of @key, or NULL with @error set. */
static GBytes *
read_body (LbStore  *store,
           gint64    key,
           GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_store_read_message_async (store, key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_store_read_message_finish (store, result, error);
}

static void
assert_body (LbStore    *store,
             gint64      key,
             const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = read_body (store, key, &error);

  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), text, strlen (text));
}

static gboolean
body_file_exists (const char *dir,
                  gint64      key)
{
  g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT ".eml", key);
  g_autofree char *path = g_build_filename (dir, "bodies", name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* The message @key is gone from the store. */
static void
assert_gone (LbStore *store,
             gint64   key)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_store_get_message_async (store, key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_null (lb_store_get_message_finish (store, result, &error));
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND);
}

static GPtrArray *
summaries_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
}

/* A message starting a thread is keyed by its own key, however the keys
 * before it went: also after the newest message was removed (the key
 * sequence ahead of the largest key) and when a batch holds a message
 * that is there already. */
static void
test_store_thread_keys (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(GPtrArray) first = summaries_new ();
  g_autoptr(GPtrArray) second = summaries_new ();
  g_autoptr(GPtrArray) stored1 = NULL;
  g_autoptr(GPtrArray) stored2 = NULL;
  g_autoptr(GArray) gone = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint32 uid = 3;

  g_ptr_array_add (first, make_summary (1, 1000, "one", "one@example.test", NULL));
  g_ptr_array_add (first, make_summary (2, 2000, "Re: one", "two@example.test", "one@example.test"));
  g_ptr_array_add (first, make_summary (3, 3000, "three", "three@example.test", NULL));
  stored1 = add_summaries (fixture->store, inbox->id, first, LB_STORE_WRITE_NONE);
  g_assert_cmpint (summary_at (stored1, 0)->thread_id, ==, summary_at (stored1, 0)->key);
  g_assert_cmpint (summary_at (stored1, 1)->thread_id, ==, summary_at (stored1, 0)->key);
  g_assert_cmpint (summary_at (stored1, 2)->thread_id, ==, summary_at (stored1, 2)->key);

  /* the newest row goes: its key is not given again */
  g_array_append_val (gone, uid);
  remove_uids (fixture->store, inbox->id, gone);

  g_ptr_array_add (second, make_summary (2, 2000, "Re: one", "two@example.test", "one@example.test"));
  g_ptr_array_add (second, make_summary (4, 4000, "four", "four@example.test", NULL));
  g_ptr_array_add (second, make_summary (5, 5000, "Re: four", "five@example.test", "four@example.test"));
  g_ptr_array_add (second, make_summary (6, 6000, "six", NULL, NULL));
  stored2 = add_summaries (fixture->store, inbox->id, second, LB_STORE_WRITE_NONE);
  g_assert_cmpint (summary_at (stored2, 0)->key, ==, summary_at (stored1, 1)->key);
  g_assert_cmpint (summary_at (stored2, 1)->key, >, summary_at (stored1, 2)->key);
  g_assert_cmpint (summary_at (stored2, 1)->thread_id, ==, summary_at (stored2, 1)->key);
  g_assert_cmpint (summary_at (stored2, 2)->thread_id, ==, summary_at (stored2, 1)->key);
  g_assert_cmpint (summary_at (stored2, 3)->thread_id, ==, summary_at (stored2, 3)->key);

  /* and the rows say the same */
  for (guint i = 0; i < stored2->len; i++)
    {
      g_autoptr(LbMessageSummary) row = get_message (fixture->store, summary_at (stored2, i)->key);

      g_assert_cmpint (row->thread_id, ==, summary_at (stored2, i)->thread_id);
    }
}

static void
test_store_imap_fields (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(GPtrArray) summaries = summaries_new ();
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) page = NULL;
  g_autoptr(LbMessageSummary) copy = NULL;
  LbMessageSummary *summary = make_summary (5, 1600000000, "List mail", "l@example.test", NULL);

  summary->list_id = g_strdup ("dev.lists.example.test");
  summary->structure = g_strdup ("(\"text\" \"plain\" NIL NIL NIL \"7bit\" 12 1)");
  summary->modseq = G_GUINT64_CONSTANT (9007199254740993);   /* beyond a double's precision */
  summary->keywords = g_strdup ("$Label1 work");
  g_ptr_array_add (summaries, summary);
  added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);

  /* every read that fills a summary has them */
  page = list_messages (fixture->store, inbox->id, 0, 10);
  g_assert_cmpuint (page->len, ==, 1);
  g_assert_cmpstr (summary_at (page, 0)->list_id, ==, "dev.lists.example.test");
  g_assert_cmpstr (summary_at (page, 0)->structure, ==, "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 12 1)");
  g_assert_cmpuint (summary_at (page, 0)->modseq, ==, G_GUINT64_CONSTANT (9007199254740993));
  g_assert_cmpstr (summary_at (page, 0)->keywords, ==, "$Label1 work");
  {
    g_autoptr(LbMessageSummary) one = get_message (fixture->store, summary->key);
    g_autoptr(GPtrArray) found = search (fixture->store, "list", 0);

    g_assert_cmpstr (one->list_id, ==, "dev.lists.example.test");
    g_assert_cmpuint (one->modseq, ==, G_GUINT64_CONSTANT (9007199254740993));
    g_assert_cmpuint (found->len, ==, 1);
    g_assert_cmpstr (summary_at (found, 0)->structure, ==, summary->structure);
  }

  /* a copy owns copies of them */
  copy = lb_message_summary_copy (summary);
  g_assert_true (copy->list_id != summary->list_id);
  g_assert_cmpstr (copy->list_id, ==, summary->list_id);
  g_assert_cmpstr (copy->structure, ==, summary->structure);
  g_assert_cmpuint (copy->modseq, ==, summary->modseq);
}

static void
test_store_migrate_from_v3 (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lb-store-XXXXXX", &error);
  g_autoptr(GPtrArray) again = summaries_new ();
  g_autoptr(GPtrArray) adopted = NULL;
  g_autoptr(GArray) states = NULL;
  g_autoptr(GPtrArray) ops = NULL;
  LbStore *store;

  g_assert_no_error (error);

  /* a store of schema 3 with a synced server folder, a queued change */
  store = open_store_at (dir, 3, &error);
  g_assert_no_error (error);
  lb_test_finalize_store (store);
  g_assert_cmpint (query_int (dir, "PRAGMA user_version"), ==, 3);
  exec_sql (dir,
            "INSERT INTO folders (path, name, delimiter, role, uidvalidity, uidnext)"
            " VALUES ('INBOX', 'INBOX', '/', 1, 100, 3);"
            "INSERT INTO messages (folder_id, uid, message_id, subject, date, flags, keywords, thread_id)"
            " VALUES (1, 1, 'one@example.test', 'One', 1600000000, 1, NULL, 1),"
            "        (1, 2, 'two@example.test', 'Two', 1600000100, 0, 'work', 2);"
            "INSERT INTO pending_ops (kind, folder_path, uid, message_key, flags_add, created)"
            " VALUES (1, 'INBOX', 2, 2, 4, 1600000200);");
  g_assert_cmpint (query_int (dir, "SELECT count(*) FROM pragma_table_info ('messages')"
                                   " WHERE name IN ('list_id', 'structure', 'modseq')"), ==, 0);

  store = open_store (dir);
  g_assert_cmpint (query_int (dir, "PRAGMA user_version"), ==, LB_STORE_SCHEMA_VERSION);
  g_assert_cmpint (query_int (dir, "SELECT count(*) FROM pragma_table_info ('messages')"
                                   " WHERE name IN ('list_id', 'structure', 'modseq')"), ==, 3);
  g_assert_cmpint (query_int (dir, "SELECT count(*) FROM sqlite_master"
                                   " WHERE name = 'messages_by_message_id'"), ==, 1);

  /* the old rows read with the new fields empty */
  {
    g_autoptr(LbMessageSummary) two = get_message (store, 2);
    g_autoptr(LbFolderInfo) inbox = get_folder (store, 1);

    g_assert_cmpstr (two->subject, ==, "Two");
    g_assert_cmpstr (two->keywords, ==, "work");
    g_assert_null (two->list_id);
    g_assert_null (two->structure);
    g_assert_cmpuint (two->modseq, ==, 0);
    g_assert_cmpuint (inbox->total, ==, 2);
    g_assert_cmpuint (inbox->unread, ==, 1);
  }
  states = list_uids (store, 1);
  g_assert_cmpuint (states->len, ==, 2);
  g_assert_cmpuint (g_array_index (states, LbStoreUidState, 1).uid, ==, 2);
  g_assert_cmpstr (g_array_index (states, LbStoreUidState, 1).keywords, ==, "work");

  /* and the IMAP sync's operations work on them: UIDVALIDITY changes,
   * the messages come back under new UIDs and keep their keys */
  reset_folder (store, 1, 200);
  g_ptr_array_add (again, make_summary (7, 1600000000, "One", "one@example.test", NULL));
  g_ptr_array_add (again, make_summary (8, 1600000100, "Two", "two@example.test", NULL));
  summary_at (again, 1)->flags = LB_MESSAGE_SEEN;
  adopted = add_summaries (store, 1, again, LB_STORE_WRITE_NONE);
  g_assert_cmpint (summary_at (adopted, 0)->key, ==, 1);
  g_assert_cmpint (summary_at (adopted, 1)->key, ==, 2);
  {
    g_autoptr(LbMessageSummary) two = get_message (store, 2);

    g_assert_cmpuint (two->uid, ==, 8);
    /* its queued flag change is still on its way: the local flags stay */
    g_assert_cmpuint (two->flags, ==, 0);
  }
  ops = list_ops (store);
  g_assert_cmpuint (ops->len, ==, 1);
  g_assert_cmpuint (((LbStoreOp *) ops->pdata[0])->uid, ==, 0);
  g_assert_cmpuint (remove_orphans (store, 1), ==, 0);

  lb_test_finalize_store (store);
  lb_test_remove_tree (dir);
}

/* Schema 6 keys thread links by a hash of the Message-ID and counts
 * added messages per batch: a store of schema 5 keeps its threads (a new
 * reply to a message stored before joins its thread) and its counts. */
static void
test_store_migrate_from_v5 (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lb-store-XXXXXX", &error);
  g_autoptr(GPtrArray) replies = summaries_new ();
  g_autoptr(GPtrArray) added = NULL;
  LbStore *store;

  g_assert_no_error (error);

  store = open_store_at (dir, 5, &error);
  g_assert_no_error (error);
  lb_test_finalize_store (store);
  /* a thread of two as schema 5 stored it, and an id only a reply named */
  exec_sql (dir,
            "INSERT INTO folders (path, name, delimiter, role) VALUES ('INBOX', 'INBOX', '/', 1);"
            "INSERT INTO messages (folder_id, uid, message_id, refs, subject, date, flags, thread_id)"
            " VALUES (1, 1, 'root@example.test', NULL, 'Plans', 1600000000, 1, 1),"
            "        (1, 2, 'reply@example.test', 'gone@example.test root@example.test',"
            "         'Re: Plans', 1600000100, 0, 1);"
            "INSERT INTO thread_links (message_id, thread_id)"
            " VALUES ('root@example.test', 1), ('reply@example.test', 1), ('gone@example.test', 1);"
            /* stored by a header sync, not searchable yet */
            "INSERT INTO fts_pending (key) VALUES (1), (2);");
  g_assert_cmpint (query_int (dir, "SELECT total FROM folders WHERE id = 1"), ==, 2);

  store = open_store (dir);
  g_assert_cmpint (query_int (dir, "PRAGMA user_version"), ==, LB_STORE_SCHEMA_VERSION);
  g_assert_cmpint (query_int (dir, "SELECT count(*) FROM sqlite_master WHERE name = 'thread_links'"), ==, 0);
  g_assert_cmpint (query_int (dir, "SELECT count(*) FROM thread_ids"), ==, 3);
  /* consecutive keys: one range */
  g_assert_cmpint (query_int (dir, "SELECT count(*) FROM fts_pending_ranges"), ==, 1);

  /* what waited to be indexed still does */
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GPtrArray) found = NULL;

    lb_store_index_pending_async (store, NULL, lb_test_store_result, &result);
    lb_test_wait (&result);
    g_assert_true (lb_store_index_pending_finish (store, result, &error));
    g_assert_no_error (error);
    found = search (store, "plans", 0);
    g_assert_cmpuint (found->len, ==, 2);
  }

  /* a reply naming only the id no message had, one naming the reply,
   * and a message of its own */
  g_ptr_array_add (replies, make_summary (3, 1600000200, "Re: Plans", "late@example.test", "gone@example.test"));
  g_ptr_array_add (replies, make_summary (4, 1600000300, "Re: Re: Plans", "later@example.test", NULL));
  summary_at (replies, 1)->in_reply_to = g_strdup ("reply@example.test");
  g_ptr_array_add (replies, make_summary (5, 1600000400, "Lunch", "lunch@example.test", NULL));
  summary_at (replies, 2)->flags = LB_MESSAGE_SEEN;
  added = add_summaries (store, 1, replies, LB_STORE_WRITE_NONE);
  g_assert_cmpint (summary_at (added, 0)->thread_id, ==, 1);
  g_assert_cmpint (summary_at (added, 1)->thread_id, ==, 1);
  g_assert_cmpint (summary_at (added, 2)->thread_id, !=, 1);

  {
    g_autoptr(LbFolderInfo) inbox = get_folder (store, 1);

    g_assert_cmpuint (inbox->total, ==, 5);
    g_assert_cmpuint (inbox->unread, ==, 3);
  }

  lb_test_finalize_store (store);
  lb_test_remove_tree (dir);
}

/* A large sync's writes reach the database file while the store stays
 * open: the WAL is copied back by the store's own thread, not left to
 * grow until the store closes. */
static void
test_store_checkpoints (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autofree char *path = g_build_filename (fixture->dir, "store.db", NULL);
  g_autofree char *filler = g_strnfill (2000, 'x');
  gint64 deadline;
  GStatBuf st;

  /* about 50 MB of rows, in batches as a header sync writes them */
  for (guint batch = 0; batch < 5; batch++)
    {
      g_autoptr(GPtrArray) summaries = summaries_new ();
      g_autoptr(GPtrArray) added = NULL;

      for (guint i = 0; i < 4000; i++)
        {
          guint uid = batch * 4000 + i + 1;
          g_autofree char *id = g_strdup_printf ("%u@example.test", uid);
          LbMessageSummary *summary = make_summary (uid, 1600000000 + uid, "Filler", id, NULL);

          summary->preview = g_strdup (filler);
          summary->structure = g_strdup (filler);
          g_ptr_array_add (summaries, summary);
        }
      added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_DEFER_INDEX);
      g_assert_cmpuint (added->len, ==, 4000);
    }

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  do
    {
      g_usleep (20 * 1000);
      g_assert_cmpint (g_stat (path, &st), ==, 0);
    }
  while (st.st_size < 32 * 1024 * 1024 && g_get_monotonic_time () < deadline);
  g_assert_cmpint (st.st_size, >=, 32 * 1024 * 1024);
}

/* A batch of hundreds of summaries (a header sync) threads them like
 * small ones do (which find ids in SQL, not in the writer's memory):
 * replies before their parents, threads merged inside the batch, and
 * links another process wrote meanwhile. */
static GPtrArray *
bulk_batch (guint        first_uid,
            const char **ids,
            const char **refs,
            guint        n)
{
  GPtrArray *batch = summaries_new ();

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (batch, make_summary (first_uid + i, 1600000000 + first_uid + i, "Thread", ids[i], refs[i]));
  /* enough others to be a large batch */
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *id = g_strdup_printf ("filler%u@example.test", first_uid + 1000 + i);

      g_ptr_array_add (batch, make_summary (first_uid + 1000 + i, 1500000000 + i, "Alone", id, NULL));
    }
  return batch;
}

/* the thread a message is in now (merges since it was added included) */
static gint64
thread_now (LbStore   *store,
            GPtrArray *added,
            guint      index)
{
  g_autoptr(LbMessageSummary) summary = get_message (store, summary_at (added, index)->key);

  return summary->thread_id;
}

static void
test_store_threads_bulk (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  const char *ids1[] = { "c@x.test", "a@x.test", "d@x.test", "e@x.test", "f@x.test", "m@x.test" };
  const char *refs1[] = { "a@x.test b@x.test", NULL, "p1@x.test", "p2@x.test", "p1@x.test p2@x.test",
                          "p2@x.test" };
  const char *ids3[] = { "i@x.test" };
  const char *refs3[] = { "zzz@x.test" };
  g_autoptr(GPtrArray) batch1 = bulk_batch (1, ids1, refs1, G_N_ELEMENTS (ids1));
  g_autoptr(GPtrArray) batch3 = bulk_batch (3000, ids3, refs3, G_N_ELEMENTS (ids3));
  g_autoptr(GPtrArray) small = summaries_new ();
  g_autoptr(GPtrArray) elsewhere = summaries_new ();
  g_autoptr(GPtrArray) added1 = NULL;
  g_autoptr(GPtrArray) added2 = NULL;
  g_autoptr(GPtrArray) added3 = NULL;
  g_autoptr(GPtrArray) added4 = NULL;
  LbStore *other;

  added1 = add_summaries (fixture->store, inbox->id, batch1, LB_STORE_WRITE_NONE);
  g_assert_cmpint (thread_now (fixture->store, added1, 0), ==, thread_now (fixture->store, added1, 1));
  g_assert_cmpint (thread_now (fixture->store, added1, 2), ==, thread_now (fixture->store, added1, 4));
  g_assert_cmpint (thread_now (fixture->store, added1, 3), ==, thread_now (fixture->store, added1, 4));
  g_assert_cmpint (thread_now (fixture->store, added1, 0), !=, thread_now (fixture->store, added1, 2));
  /* after the merge, an id of the merged thread leads to the one left */
  g_assert_cmpint (thread_now (fixture->store, added1, 5), ==, thread_now (fixture->store, added1, 4));
  g_assert_cmpint (thread_now (fixture->store, added1, 6), !=, thread_now (fixture->store, added1, 7));

  /* the same store opened again (letterbox-cli beside the app) links an
   * id nothing here has seen */
  other = open_store (fixture->dir);
  g_ptr_array_add (elsewhere, make_summary (2000, 1600002000, "Elsewhere", "h@x.test", "zzz@x.test"));
  added2 = add_summaries (other, inbox->id, elsewhere, LB_STORE_WRITE_NONE);
  lb_test_finalize_store (other);

  /* ... which the first store knows when its next large batch names it */
  added3 = add_summaries (fixture->store, inbox->id, batch3, LB_STORE_WRITE_NONE);
  g_assert_cmpint (thread_now (fixture->store, added3, 0), ==, thread_now (fixture->store, added2, 0));

  /* and a small batch finds what the large ones linked and merged */
  g_ptr_array_add (small, make_summary (9000, 1600009000, "Re: Thread", "j@x.test", "p2@x.test"));
  g_ptr_array_add (small, make_summary (9001, 1600009001, "Re: Thread", "k@x.test", "b@x.test"));
  added4 = add_summaries (fixture->store, inbox->id, small, LB_STORE_WRITE_NONE);
  g_assert_cmpint (thread_now (fixture->store, added4, 0), ==, thread_now (fixture->store, added1, 2));
  g_assert_cmpint (thread_now (fixture->store, added4, 1), ==, thread_now (fixture->store, added1, 1));
}

static void
test_store_list_uids (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(LbFolderInfo) other = ensure_folder (fixture->store, "Other", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(GPtrArray) summaries = summaries_new ();
  g_autoptr(GPtrArray) elsewhere = summaries_new ();
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) added2 = NULL;
  g_autoptr(GArray) states = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  /* added in no particular order; one awaiting its UID; one elsewhere */
  g_ptr_array_add (summaries, make_summary (30, 1600000000, "c", NULL, NULL));
  g_ptr_array_add (summaries, make_summary (4, 1600000100, "a", NULL, NULL));
  g_ptr_array_add (summaries, make_summary (0, 1600000200, "no uid", NULL, NULL));
  g_ptr_array_add (summaries, make_summary (17, 1600000300, "b", NULL, NULL));
  summary_at (summaries, 0)->flags = LB_MESSAGE_SEEN | LB_MESSAGE_FLAGGED;
  summary_at (summaries, 0)->keywords = g_strdup ("$Forwarded work");
  summary_at (summaries, 3)->keywords = g_strdup ("");
  added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);
  g_ptr_array_add (elsewhere, make_summary (5, 1600000000, "d", NULL, NULL));
  added2 = add_summaries (fixture->store, other->id, elsewhere, LB_STORE_WRITE_NONE);

  states = list_uids (fixture->store, inbox->id);
  g_assert_cmpuint (states->len, ==, 3);
  g_assert_cmpuint (g_array_index (states, LbStoreUidState, 0).uid, ==, 4);
  g_assert_cmpint (g_array_index (states, LbStoreUidState, 0).key, ==, summary_at (added, 1)->key);
  g_assert_null (g_array_index (states, LbStoreUidState, 0).keywords);
  g_assert_cmpuint (g_array_index (states, LbStoreUidState, 1).uid, ==, 17);
  g_assert_null (g_array_index (states, LbStoreUidState, 1).keywords);
  g_assert_cmpuint (g_array_index (states, LbStoreUidState, 2).uid, ==, 30);
  g_assert_cmpuint (g_array_index (states, LbStoreUidState, 2).flags, ==, LB_MESSAGE_SEEN | LB_MESSAGE_FLAGGED);
  g_assert_cmpstr (g_array_index (states, LbStoreUidState, 2).keywords, ==, "$Forwarded work");
  g_assert_cmpint (g_array_index (states, LbStoreUidState, 2).key, ==, summary_at (added, 0)->key);

  /* a folder that is gone */
  lb_store_list_uids_async (fixture->store, 9999, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_null (lb_store_list_uids_finish (fixture->store, result, &error));
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND);
}

#define MANY_UIDS 100000

/* A folder of 100,000 synced messages: its UID list is read in one pass
 * (the timing is printed; the assertions are on what comes back). */
static void
test_store_list_uids_many (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lb-store-XXXXXX", &error);
  g_autoptr(GArray) states = NULL;
  g_autoptr(GArray) gone = g_array_new (FALSE, FALSE, sizeof (guint32));
  LbStore *store;
  gint64 start;

  g_assert_no_error (error);
  store = open_store (dir);
  lb_test_finalize_store (store);
  /* rows made in SQL: the test is about reading them */
  exec_sql (dir,
            "INSERT INTO folders (path, name, role) VALUES ('INBOX', 'INBOX', 1);"
            "WITH RECURSIVE n (x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000)"
            " INSERT INTO messages (folder_id, uid, subject, date, flags, keywords)"
            " SELECT 1, x * 2, 'Message ' || x, 1600000000 + x, x % 4,"
            "        CASE WHEN x % 10 = 0 THEN '$Label' || (x % 3) END FROM n;"
            /* the store counts the rows it adds itself */
            "UPDATE folders SET total = (SELECT count(*) FROM messages),"
            "  unread = (SELECT count(*) FROM messages WHERE flags & 1 = 0);");
  store = open_store (dir);

  start = g_get_monotonic_time ();
  states = list_uids (store, 1);
  g_test_message ("list_uids of %u rows: %.1f ms", states->len,
                  (g_get_monotonic_time () - start) / 1000.0);

  {
    g_autoptr(GArray) again = NULL;

    start = g_get_monotonic_time ();
    again = list_uids (store, 1);
    g_test_message ("list_uids again: %.1f ms", (g_get_monotonic_time () - start) / 1000.0);
  }
  g_assert_cmpuint (states->len, ==, MANY_UIDS);
  for (guint i = 0; i < states->len; i++)
    {
      LbStoreUidState *state = &g_array_index (states, LbStoreUidState, i);
      guint x = i + 1;

      g_assert_cmpuint (state->uid, ==, x * 2);
      g_assert_cmpuint (state->flags, ==, x % 4);
      if (x % 10 == 0)
        {
          char want[16];

          g_snprintf (want, sizeof want, "$Label%u", x % 3);
          g_assert_cmpstr (state->keywords, ==, want);
        }
      else
        g_assert_null (state->keywords);
    }

  /* half of them expunged on the server in one call */
  for (guint i = 0; i < MANY_UIDS; i += 2)
    g_array_append_val (gone, g_array_index (states, LbStoreUidState, i).uid);
  start = g_get_monotonic_time ();
  remove_uids (store, 1, gone);
  g_test_message ("remove_uids of %u rows: %.1f ms", gone->len,
                  (g_get_monotonic_time () - start) / 1000.0);
  {
    g_autoptr(LbFolderInfo) inbox = get_folder (store, 1);
    g_autoptr(GArray) left = list_uids (store, 1);

    g_assert_cmpuint (inbox->total, ==, MANY_UIDS / 2);
    g_assert_cmpuint (left->len, ==, MANY_UIDS / 2);
    g_assert_cmpuint (g_array_index (left, LbStoreUidState, 0).uid, ==, 4);
  }

  lb_test_finalize_store (store);
  lb_test_remove_tree (dir);
}

static void
test_store_sync_flags (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(GPtrArray) summaries = summaries_new ();
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GArray) states = lb_store_uid_state_array_new (0);
  g_autoptr(GArray) now = NULL;
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(SyncRecorder) recorder = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbFolderInfo) info = NULL;

  for (guint i = 1; i <= 5; i++)
    g_ptr_array_add (summaries, make_summary (i, 1600000000 + i, "m", NULL, NULL));
  summary_at (summaries, 2)->keywords = g_strdup ("work urgent");
  added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);

  /* read here, while offline: queued for the server */
  set_flags (fixture->store, summary_at (added, 3)->key, LB_MESSAGE_SEEN, 0, LB_STORE_WRITE_QUEUE);

  recorder = sync_recorder_new (fixture->store);
  add_uid_state (states, 1, LB_MESSAGE_SEEN, NULL);               /* read elsewhere */
  add_uid_state (states, 2, 0, "");                               /* as it was */
  add_uid_state (states, 3, 0, "urgent work");                    /* the same set */
  add_uid_state (states, 4, 0, NULL);                             /* queued here: stays read */
  add_uid_state (states, 5, LB_MESSAGE_FLAGGED, "$Label1");       /* flagged and labelled */
  add_uid_state (states, 99, LB_MESSAGE_SEEN, NULL);              /* not here */
  sync_flags (fixture->store, inbox->id, states);

  g_assert_cmpuint (recorder->changes->len, ==, 2);
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_UPDATED, summary_at (added, 0)->key), ==, 1);
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_UPDATED, summary_at (added, 4)->key), ==, 1);
  /* the counts followed, and were announced */
  g_assert_cmpuint (recorder->folders->len, ==, 1);
  g_assert_cmpuint (((LbFolderInfo *) recorder->folders->pdata[0])->unread, ==, 3);

  now = list_uids (fixture->store, inbox->id);
  g_assert_cmpuint (g_array_index (now, LbStoreUidState, 0).flags, ==, LB_MESSAGE_SEEN);
  g_assert_cmpuint (g_array_index (now, LbStoreUidState, 1).flags, ==, 0);
  g_assert_cmpstr (g_array_index (now, LbStoreUidState, 2).keywords, ==, "work urgent");
  g_assert_cmpuint (g_array_index (now, LbStoreUidState, 3).flags, ==, LB_MESSAGE_SEEN);
  g_assert_cmpuint (g_array_index (now, LbStoreUidState, 4).flags, ==, LB_MESSAGE_FLAGGED);
  g_assert_cmpstr (g_array_index (now, LbStoreUidState, 4).keywords, ==, "$Label1");
  g_clear_pointer (&now, g_array_unref);

  /* nothing changed: nothing announced */
  sync_recorder_reset (recorder);
  sync_flags (fixture->store, inbox->id, states);
  g_assert_cmpuint (recorder->changes->len, ==, 0);
  g_assert_cmpuint (recorder->folders->len, ==, 0);

  /* once the queued change reached the server, the server's word counts
   * (here someone marked it unread again since) */
  ops = list_ops (fixture->store);
  g_assert_cmpuint (ops->len, ==, 1);
  lb_store_finish_op_async (fixture->store, ((LbStoreOp *) ops->pdata[0])->id, NULL, NULL,
                            lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_finish_op_finish (fixture->store, result, &error));
  g_assert_no_error (error);
  sync_flags (fixture->store, inbox->id, states);
  g_assert_cmpuint (recorder->changes->len, ==, 1);
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_UPDATED, summary_at (added, 3)->key), ==, 1);
  now = list_uids (fixture->store, inbox->id);
  g_assert_cmpuint (g_array_index (now, LbStoreUidState, 3).flags, ==, 0);

  info = get_folder (fixture->store, inbox->id);
  g_assert_cmpuint (info->total, ==, 5);
  g_assert_cmpuint (info->unread, ==, 4);
}

static void
test_store_remove_uids (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(LbFolderInfo) other = ensure_folder (fixture->store, "Other", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(GPtrArray) summaries = summaries_new ();
  g_autoptr(GPtrArray) elsewhere = summaries_new ();
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) added2 = NULL;
  g_autoptr(GArray) uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(SyncRecorder) recorder = NULL;
  g_autoptr(LbFolderInfo) info = NULL;
  guint32 uid;

  for (guint i = 1; i <= 4; i++)
    g_ptr_array_add (summaries, make_summary (i, 1600000000 + i, "m", NULL, NULL));
  added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);
  g_ptr_array_add (elsewhere, make_summary (2, 1600000000, "same uid, other folder", NULL, NULL));
  added2 = add_summaries (fixture->store, other->id, elsewhere, LB_STORE_WRITE_NONE);
  cache_body (fixture->store, summary_at (added, 1)->key, "Subject: two\r\n\r\nbody\r\n");
  g_assert_true (body_file_exists (fixture->dir, summary_at (added, 1)->key));

  recorder = sync_recorder_new (fixture->store);
  uid = 2;
  g_array_append_val (uids, uid);
  uid = 3;
  g_array_append_val (uids, uid);
  uid = 77;   /* not here */
  g_array_append_val (uids, uid);
  remove_uids (fixture->store, inbox->id, uids);

  g_assert_cmpuint (recorder->changes->len, ==, 2);
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_REMOVED, summary_at (added, 1)->key), ==, 1);
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_REMOVED, summary_at (added, 2)->key), ==, 1);
  g_assert_cmpint (((LbStoreChange *) recorder->changes->pdata[0])->date, ==, 1600000002);
  assert_gone (fixture->store, summary_at (added, 1)->key);
  g_assert_false (body_file_exists (fixture->dir, summary_at (added, 1)->key));
  info = get_folder (fixture->store, inbox->id);
  g_assert_cmpuint (info->total, ==, 2);
  g_assert_cmpuint (info->unread, ==, 2);
  /* the same UID in another folder is another message */
  {
    g_autoptr(LbMessageSummary) kept = get_message (fixture->store, summary_at (added2, 0)->key);

    g_assert_cmpuint (kept->uid, ==, 2);
  }
}

static GArray *
keys_for_uids (LbStore       *store,
               gint64         folder_id,
               const guint32 *uids,
               guint          n_uids,
               guint          limit)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) array = g_array_new (FALSE, FALSE, sizeof (guint32));
  GArray *keys;

  g_array_append_vals (array, uids, n_uids);
  lb_store_keys_for_uids_async (store, folder_id, array, limit, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  keys = lb_store_keys_for_uids_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (keys);
  return keys;
}

static void
test_store_keys_for_uids (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(LbFolderInfo) other = ensure_folder (fixture->store, "Other", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(GPtrArray) summaries = summaries_new ();
  g_autoptr(GPtrArray) elsewhere = summaries_new ();
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) added2 = NULL;
  g_autoptr(GArray) keys = NULL;
  g_autoptr(GArray) many = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  /* newest first, as a search hands them over; 9 and 77 are not here */
  static const guint32 wanted[] = { 40, 77, 30, 9, 10 };
  static const guint32 same[] = { 10 };

  g_ptr_array_add (summaries, make_summary (10, 1600000000, "ten", NULL, NULL));
  g_ptr_array_add (summaries, make_summary (30, 1600000100, "thirty", NULL, NULL));
  g_ptr_array_add (summaries, make_summary (40, 1600000200, "forty", NULL, NULL));
  g_ptr_array_add (summaries, make_summary (0, 1600000300, "no uid yet", NULL, NULL));
  added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);
  g_ptr_array_add (elsewhere, make_summary (10, 1600000000, "same uid, other folder", NULL, NULL));
  g_ptr_array_add (elsewhere, make_summary (9, 1600000000, "nine, other folder", NULL, NULL));
  added2 = add_summaries (fixture->store, other->id, elsewhere, LB_STORE_WRITE_NONE);

  /* in the order asked, without what the folder lacks */
  keys = keys_for_uids (fixture->store, inbox->id, wanted, G_N_ELEMENTS (wanted), 0);
  g_assert_cmpuint (keys->len, ==, 3);
  g_assert_cmpint (g_array_index (keys, gint64, 0), ==, summary_at (added, 2)->key);
  g_assert_cmpint (g_array_index (keys, gint64, 1), ==, summary_at (added, 1)->key);
  g_assert_cmpint (g_array_index (keys, gint64, 2), ==, summary_at (added, 0)->key);
  g_clear_pointer (&keys, g_array_unref);

  /* the limit counts keys found, not UIDs asked */
  keys = keys_for_uids (fixture->store, inbox->id, wanted, G_N_ELEMENTS (wanted), 2);
  g_assert_cmpuint (keys->len, ==, 2);
  g_assert_cmpint (g_array_index (keys, gint64, 0), ==, summary_at (added, 2)->key);
  g_assert_cmpint (g_array_index (keys, gint64, 1), ==, summary_at (added, 1)->key);
  g_clear_pointer (&keys, g_array_unref);

  /* a UID is the folder's own */
  keys = keys_for_uids (fixture->store, other->id, same, G_N_ELEMENTS (same), 0);
  g_assert_cmpuint (keys->len, ==, 1);
  g_assert_cmpint (g_array_index (keys, gint64, 0), ==, summary_at (added2, 0)->key);
  g_clear_pointer (&keys, g_array_unref);

  /* nothing asked, nothing found; a folder that is not there */
  keys = keys_for_uids (fixture->store, inbox->id, wanted, 0, 0);
  g_assert_cmpuint (keys->len, ==, 0);
  g_clear_pointer (&keys, g_array_unref);
  keys = keys_for_uids (fixture->store, 9999, wanted, G_N_ELEMENTS (wanted), 0);
  g_assert_cmpuint (keys->len, ==, 0);
  g_clear_pointer (&keys, g_array_unref);

  /* cancelled before it ran */
  for (guint32 uid = 100000; uid > 0; uid--)
    g_array_append_val (many, uid);
  g_cancellable_cancel (cancellable);
  lb_store_keys_for_uids_async (fixture->store, inbox->id, many, 0, cancellable, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_null (lb_store_keys_for_uids_finish (fixture->store, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_store_reset_and_adopt (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(GPtrArray) summaries = summaries_new ();
  g_autoptr(GPtrArray) again = summaries_new ();
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) adopted = NULL;
  g_autoptr(GPtrArray) twice = NULL;
  g_autoptr(GArray) states = NULL;
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(SyncRecorder) recorder = NULL;
  g_autoptr(LbFolderInfo) info = NULL;
  gint64 key_a, key_b, key_c, key_d1, key_d2;

  lb_store_set_folder_state_async (fixture->store, inbox->id, 100, 6, 500, NULL, NULL, NULL);
  g_ptr_array_add (summaries, make_summary (1, 1600000001, "A", "a@example.test", NULL));
  g_ptr_array_add (summaries, make_summary (2, 1600000002, "B", "b@example.test", "a@example.test"));
  g_ptr_array_add (summaries, make_summary (3, 1600000003, "C", "c@example.test", NULL));
  /* the same message twice (a server may hold copies) */
  g_ptr_array_add (summaries, make_summary (4, 1600000004, "D", "d@example.test", NULL));
  g_ptr_array_add (summaries, make_summary (5, 1600000004, "D", "d@example.test", NULL));
  summary_at (summaries, 0)->flags = LB_MESSAGE_SEEN;
  added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);
  key_a = summary_at (added, 0)->key;
  key_b = summary_at (added, 1)->key;
  key_c = summary_at (added, 2)->key;
  key_d1 = summary_at (added, 3)->key;
  key_d2 = summary_at (added, 4)->key;
  cache_body (fixture->store, key_a, "Subject: A\r\n\r\nkept\r\n");
  set_flags (fixture->store, key_b, LB_MESSAGE_FLAGGED, 0, LB_STORE_WRITE_QUEUE);

  /* UIDVALIDITY changed */
  recorder = sync_recorder_new (fixture->store);
  reset_folder (fixture->store, inbox->id, 200);
  g_assert_cmpuint (recorder->folders->len, ==, 1);
  g_assert_cmpuint (((LbFolderInfo *) recorder->folders->pdata[0])->uidvalidity, ==, 200);
  info = get_folder (fixture->store, inbox->id);
  g_assert_cmpuint (info->uidvalidity, ==, 200);
  g_assert_cmpuint (info->uidnext, ==, 0);
  g_assert_cmpuint (info->highestmodseq, ==, 0);
  g_assert_cmpuint (info->total, ==, 5);
  states = list_uids (fixture->store, inbox->id);
  g_assert_cmpuint (states->len, ==, 0);
  {
    g_autoptr(LbMessageSummary) a = get_message (fixture->store, key_a);

    g_assert_cmpuint (a->uid, ==, 0);
  }
  /* the queued change no longer names a UID of the old numbering */
  ops = list_ops (fixture->store);
  g_assert_cmpuint (ops->len, ==, 1);
  g_assert_cmpuint (((LbStoreOp *) ops->pdata[0])->uid, ==, 0);
  g_assert_cmpint (((LbStoreOp *) ops->pdata[0])->message_key, ==, key_b);

  /* the sync finds A, B and one D under new UIDs, and a new message E;
   * C is gone from the server */
  g_ptr_array_add (again, make_summary (11, 1600000001, "A", "a@example.test", NULL));
  g_ptr_array_add (again, make_summary (12, 1600000002, "B", "b@example.test", "a@example.test"));
  g_ptr_array_add (again, make_summary (14, 1600000004, "D", "d@example.test", NULL));
  g_ptr_array_add (again, make_summary (15, 1600000005, "E", "e@example.test", NULL));
  summary_at (again, 0)->flags = 0;                      /* unread elsewhere meanwhile */
  summary_at (again, 0)->structure = g_strdup ("(\"text\" \"plain\")");
  summary_at (again, 0)->modseq = 42;
  summary_at (again, 1)->flags = LB_MESSAGE_SEEN;
  sync_recorder_reset (recorder);
  adopted = add_summaries (fixture->store, inbox->id, again, LB_STORE_WRITE_NONE);

  g_assert_cmpint (summary_at (adopted, 0)->key, ==, key_a);
  g_assert_cmpint (summary_at (adopted, 1)->key, ==, key_b);
  g_assert_cmpint (summary_at (adopted, 2)->key, ==, key_d1);   /* the oldest of the two */
  g_assert_cmpint (summary_at (adopted, 3)->key, >, key_d2);
  g_assert_cmpint (summary_at (adopted, 1)->thread_id, ==, summary_at (added, 1)->thread_id);
  g_assert_cmpstr (summary_at (adopted, 0)->location, ==, "cache");
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_UPDATED, key_a), ==, 1);
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_UPDATED, key_b), ==, 1);
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_UPDATED, key_d1), ==, 1);
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_ADDED, 0), ==, 1);
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_ADDED, summary_at (adopted, 3)->key), ==, 1);
  {
    g_autoptr(LbMessageSummary) a = get_message (fixture->store, key_a);
    g_autoptr(LbMessageSummary) b = get_message (fixture->store, key_b);
    g_autoptr(LbMessageSummary) d2 = get_message (fixture->store, key_d2);

    /* the server's flags and what the sync learnt; the cached body kept */
    g_assert_cmpuint (a->uid, ==, 11);
    g_assert_cmpuint (a->flags, ==, 0);
    g_assert_cmpstr (a->structure, ==, "(\"text\" \"plain\")");
    g_assert_cmpuint (a->modseq, ==, 42);
    assert_body (fixture->store, key_a, "Subject: A\r\n\r\nkept\r\n");
    /* a change still queued keeps the flags made here */
    g_assert_cmpuint (b->uid, ==, 12);
    g_assert_cmpuint (b->flags, ==, LB_MESSAGE_FLAGGED);
    g_assert_cmpuint (d2->uid, ==, 0);
  }

  /* idempotent still: the same batch again changes nothing */
  sync_recorder_reset (recorder);
  twice = add_summaries (fixture->store, inbox->id, again, LB_STORE_WRITE_NONE);
  g_assert_cmpuint (recorder->changes->len, ==, 0);
  g_assert_cmpint (summary_at (twice, 0)->key, ==, key_a);

  /* the rest awaits a UID the server will never give: C and the second D */
  sync_recorder_reset (recorder);
  g_assert_cmpuint (remove_orphans (fixture->store, inbox->id), ==, 2);
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_REMOVED, key_c), ==, 1);
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_REMOVED, key_d2), ==, 1);
  assert_gone (fixture->store, key_c);
  g_clear_pointer (&info, lb_folder_info_free);
  info = get_folder (fixture->store, inbox->id);
  g_assert_cmpuint (info->total, ==, 4);
  /* A (read here, unread on the server now), B, D and E */
  g_assert_cmpuint (info->unread, ==, 4);
}

/* Moved or deleted here while offline: until the queue is replayed the
 * server still lists the message in its folder; a sync must not bring it
 * back there. */
static void
test_store_add_skips_leaving (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(LbFolderInfo) archive = ensure_folder (fixture->store, "Archive", LB_FOLDER_ROLE_ARCHIVE, FALSE);
  g_autoptr(GPtrArray) summaries = summaries_new ();
  g_autoptr(GPtrArray) server = summaries_new ();
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) synced = NULL;
  g_autoptr(GPtrArray) resynced = NULL;
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbFolderInfo) info = NULL;

  g_ptr_array_add (summaries, make_summary (1, 1600000001, "moved", "m@example.test", NULL));
  g_ptr_array_add (summaries, make_summary (2, 1600000002, "deleted", "d@example.test", NULL));
  added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);
  g_array_append_val (keys, summary_at (added, 0)->key);
  lb_store_move_messages_async (fixture->store, keys, archive->id, LB_STORE_WRITE_QUEUE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_move_messages_finish (fixture->store, result, &error));
  g_clear_object (&result);
  g_array_index (keys, gint64, 0) = summary_at (added, 1)->key;
  lb_store_delete_messages_async (fixture->store, keys, LB_STORE_WRITE_QUEUE, NULL,
                                  lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_delete_messages_finish (fixture->store, result, &error));
  g_clear_object (&result);

  /* the server's INBOX, as a sync finds it before the replay */
  g_ptr_array_add (server, make_summary (1, 1600000001, "moved", "m@example.test", NULL));
  g_ptr_array_add (server, make_summary (2, 1600000002, "deleted", "d@example.test", NULL));
  g_ptr_array_add (server, make_summary (3, 1600000003, "new", "n@example.test", NULL));
  synced = add_summaries (fixture->store, inbox->id, server, LB_STORE_WRITE_NONE);
  g_assert_cmpint (summary_at (synced, 0)->key, ==, 0);
  g_assert_cmpint (summary_at (synced, 1)->key, ==, 0);
  g_assert_cmpint (summary_at (synced, 2)->key, >, 0);
  info = get_folder (fixture->store, inbox->id);
  g_assert_cmpuint (info->total, ==, 1);

  /* replayed: the queue no longer holds them back */
  ops = list_ops (fixture->store);
  g_assert_cmpuint (ops->len, ==, 2);
  for (guint i = 0; i < ops->len; i++)
    {
      lb_store_finish_op_async (fixture->store, ((LbStoreOp *) ops->pdata[i])->id, NULL, NULL,
                                lb_test_store_result, &result);
      lb_test_wait (&result);
      g_assert_true (lb_store_finish_op_finish (fixture->store, result, &error));
      g_clear_object (&result);
    }
  for (guint i = 0; i < server->len; i++)
    summary_at (server, i)->key = 0;
  resynced = add_summaries (fixture->store, inbox->id, server, LB_STORE_WRITE_NONE);
  g_assert_cmpint (summary_at (resynced, 0)->key, >, 0);
  g_clear_pointer (&info, lb_folder_info_free);
  info = get_folder (fixture->store, inbox->id);
  g_assert_cmpuint (info->total, ==, 3);
}

static void
test_store_remove_orphans (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(LbFolderInfo) archive = ensure_folder (fixture->store, "Archive", LB_FOLDER_ROLE_ARCHIVE, FALSE);
  g_autoptr(LbFolderInfo) local = ensure_folder (fixture->store, "Local", LB_FOLDER_ROLE_NONE, TRUE);
  g_autoptr(GPtrArray) summaries = summaries_new ();
  g_autoptr(GPtrArray) drafts = summaries_new ();
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) appended = NULL;
  g_autoptr(GPtrArray) deliveries = deliveries_new ();
  g_autoptr(GPtrArray) stored = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbFolderInfo) info = NULL;

  g_ptr_array_add (summaries, make_summary (1, 1600000001, "moved", "m@example.test", NULL));
  g_ptr_array_add (summaries, make_summary (2, 1600000002, "stays", "s@example.test", NULL));
  g_ptr_array_add (summaries, make_summary (3, 1600000003, "moved, done", "d@example.test", NULL));
  added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);

  /* moved to Archive while offline: no UID there until the move is
   * replayed; another moved without the queue (its move went through) */
  g_array_append_val (keys, summary_at (added, 0)->key);
  lb_store_move_messages_async (fixture->store, keys, archive->id, LB_STORE_WRITE_QUEUE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_move_messages_finish (fixture->store, result, &error));
  g_clear_object (&result);
  g_array_index (keys, gint64, 0) = summary_at (added, 2)->key;
  lb_store_move_messages_async (fixture->store, keys, archive->id, LB_STORE_WRITE_NONE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_move_messages_finish (fixture->store, result, &error));
  g_clear_object (&result);
  /* a draft saved offline, its upload queued */
  g_ptr_array_add (drafts, make_summary (0, 1600000004, "draft", "draft@example.test", NULL));
  appended = add_summaries (fixture->store, archive->id, drafts, LB_STORE_WRITE_QUEUE);

  /* a full sync of Archive found none of them */
  g_assert_cmpuint (remove_orphans (fixture->store, archive->id), ==, 1);
  assert_gone (fixture->store, summary_at (added, 2)->key);
  {
    g_autoptr(LbMessageSummary) moved = get_message (fixture->store, summary_at (added, 0)->key);
    g_autoptr(LbMessageSummary) draft = get_message (fixture->store, summary_at (appended, 0)->key);

    g_assert_cmpint (moved->folder_id, ==, archive->id);
    g_assert_cmpint (draft->folder_id, ==, archive->id);
  }
  info = get_folder (fixture->store, archive->id);
  g_assert_cmpuint (info->total, ==, 2);

  /* rows with UIDs are not orphans; local folders have none */
  g_assert_cmpuint (remove_orphans (fixture->store, inbox->id), ==, 0);
  add_delivery (deliveries, "From: x@example.test\r\nSubject: local\r\n\r\nx\r\n", 0, NULL);
  stored = deliver (fixture->store, local->id, deliveries);
  g_assert_cmpuint (remove_orphans (fixture->store, local->id), ==, 0);
  {
    g_autoptr(LbMessageSummary) kept = get_message (fixture->store, summary_at (stored, 0)->key);

    g_assert_cmpuint (kept->uid, ==, 0);
  }
}

static void
test_store_set_uid (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(LbFolderInfo) sent = ensure_folder (fixture->store, "Sent", LB_FOLDER_ROLE_SENT, FALSE);
  g_autoptr(GPtrArray) mine = summaries_new ();
  g_autoptr(GPtrArray) synced = summaries_new ();
  g_autoptr(GPtrArray) appended = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(SyncRecorder) recorder = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbFolderInfo) info = NULL;
  gint64 plain, raced, both, dup1, dup2;

  /* three messages appended here, awaiting their UIDs */
  g_ptr_array_add (mine, make_summary (0, 1600000001, "plain", "p@example.test", NULL));
  g_ptr_array_add (mine, make_summary (0, 1600000002, "raced", "r@example.test", NULL));
  g_ptr_array_add (mine, make_summary (0, 1600000003, "both cached", "b@example.test", NULL));
  summary_at (mine, 1)->flags = LB_MESSAGE_SEEN | LB_MESSAGE_ANSWERED;
  appended = add_summaries (fixture->store, sent->id, mine, LB_STORE_WRITE_NONE);
  plain = summary_at (appended, 0)->key;
  raced = summary_at (appended, 1)->key;
  both = summary_at (appended, 2)->key;
  cache_body (fixture->store, both, "Subject: mine\r\n\r\nmine\r\n");

  /* APPENDUID said 7: recorded */
  recorder = sync_recorder_new (fixture->store);
  set_uid (fixture->store, plain, sent->id, 7);
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_UPDATED, plain), ==, 1);
  {
    g_autoptr(LbMessageSummary) row = get_message (fixture->store, plain);

    g_assert_cmpuint (row->uid, ==, 7);
  }

  /* a sync stored two of them under their UIDs first (without Message-ID,
   * as a server may send, so they were not adopted), with bodies */
  g_ptr_array_add (synced, make_summary (8, 1600000002, "raced", NULL, NULL));
  g_ptr_array_add (synced, make_summary (9, 1600000003, "both cached", NULL, NULL));
  summary_at (synced, 0)->structure = g_strdup ("(\"text\" \"plain\")");
  summary_at (synced, 0)->list_id = g_strdup ("list.example.test");
  found = add_summaries (fixture->store, sent->id, synced, LB_STORE_WRITE_NONE);
  dup1 = summary_at (found, 0)->key;
  dup2 = summary_at (found, 1)->key;
  g_assert_cmpint (dup1, !=, raced);
  cache_body (fixture->store, dup1, "Subject: raced\r\n\r\nfrom the server\r\n");
  cache_body (fixture->store, dup2, "Subject: theirs\r\n\r\ntheirs\r\n");

  /* then the APPENDUIDs came: the rows the sync made are the duplicates */
  sync_recorder_reset (recorder);
  set_uid (fixture->store, raced, sent->id, 8);
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_REMOVED, dup1), ==, 1);
  g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_UPDATED, raced), ==, 1);
  assert_gone (fixture->store, dup1);
  {
    g_autoptr(LbMessageSummary) row = get_message (fixture->store, raced);

    g_assert_cmpuint (row->uid, ==, 8);
    g_assert_cmpuint (row->flags, ==, LB_MESSAGE_SEEN | LB_MESSAGE_ANSWERED);
    g_assert_cmpstr (row->structure, ==, "(\"text\" \"plain\")");
    g_assert_cmpstr (row->list_id, ==, "list.example.test");
  }
  /* it had no body: it takes the duplicate's */
  assert_body (fixture->store, raced, "Subject: raced\r\n\r\nfrom the server\r\n");
  g_assert_false (body_file_exists (fixture->dir, dup1));

  set_uid (fixture->store, both, sent->id, 9);
  assert_gone (fixture->store, dup2);
  assert_body (fixture->store, both, "Subject: mine\r\n\r\nmine\r\n");
  g_assert_false (body_file_exists (fixture->dir, dup2));

  info = get_folder (fixture->store, sent->id);
  g_assert_cmpuint (info->total, ==, 3);

  /* a UID of Sent for a message that went back to INBOX meanwhile (a
   * move undone before the replay): INBOX's own row with that UID is not
   * a duplicate, and the message keeps its INBOX UID */
  {
    g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
    g_autoptr(GPtrArray) here = summaries_new ();
    g_autoptr(GPtrArray) stored = NULL;
    g_autoptr(LbMessageSummary) moved = NULL;
    g_autoptr(LbMessageSummary) other = NULL;
    gint64 moved_key, other_key;

    g_ptr_array_add (here, make_summary (3, 1600000004, "moved back", "m@example.test", NULL));
    g_ptr_array_add (here, make_summary (4, 1600000005, "INBOX's own", "o@example.test", NULL));
    stored = add_summaries (fixture->store, inbox->id, here, LB_STORE_WRITE_NONE);
    moved_key = summary_at (stored, 0)->key;
    other_key = summary_at (stored, 1)->key;
    sync_recorder_reset (recorder);
    set_uid (fixture->store, moved_key, sent->id, 4);
    g_assert_cmpuint (count_changes (recorder, LB_STORE_CHANGE_REMOVED, other_key), ==, 0);
    moved = get_message (fixture->store, moved_key);
    other = get_message (fixture->store, other_key);
    g_assert_cmpuint (moved->uid, ==, 3);
    g_assert_cmpint (moved->folder_id, ==, inbox->id);
    g_assert_cmpuint (other->uid, ==, 4);
  }

  /* a message that is gone */
  lb_store_set_uid_async (fixture->store, dup2, sent->id, 10, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_false (lb_store_set_uid_finish (fixture->store, result, &error));
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND);
}

/* A message to upload: its bytes are kept, its row and its APPEND
 * queued, all before the call returns. */
static void
test_store_add_upload (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(LbFolderInfo) drafts = ensure_folder (fixture->store, "Drafts", LB_FOLDER_ROLE_DRAFTS, FALSE);
  g_autoptr(LbMessageSummary) summary = make_summary (0, 1600000001, "a draft", "d@example.test", NULL);
  const char *text = "Subject: a draft\r\nMessage-ID: <d@example.test>\r\n\r\nwords\r\n";
  g_autoptr(GBytes) raw = g_bytes_new_static (text, strlen (text));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(LbMessageSummary) row = NULL;
  gint64 key;

  lb_store_add_upload_async (fixture->store, drafts->id, summary, "words", raw, 0, NULL, lb_test_store_result,
                             &result);
  lb_test_wait (&result);
  key = lb_store_add_upload_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (key, >, 0);
  g_assert_true (body_file_exists (fixture->dir, key));
  assert_body (fixture->store, key, text);
  row = get_message (fixture->store, key);
  g_assert_cmpint (row->folder_id, ==, drafts->id);
  g_assert_cmpuint (row->uid, ==, 0);

  ops = list_ops (fixture->store);
  g_assert_cmpuint (ops->len, ==, 1);
  g_assert_cmpint (((LbStoreOp *) ops->pdata[0])->kind, ==, LB_STORE_OP_APPEND);
  g_assert_cmpint (((LbStoreOp *) ops->pdata[0])->message_key, ==, key);
  g_assert_cmpstr (((LbStoreOp *) ops->pdata[0])->folder_path, ==, "Drafts");
}

/* The #LbStore::changed emissions, and the last one's changes. */
typedef struct
{
  guint  emissions;
  gint64 added;
  gint64 removed;
} ReplaceSeen;

static void
replace_on_changed (LbStore     *store,
                    GPtrArray   *changes,
                    ReplaceSeen *seen)
{
  seen->emissions++;
  seen->added = seen->removed = 0;
  for (guint i = 0; i < changes->len; i++)
    {
      LbStoreChange *change = changes->pdata[i];

      if (change->kind == LB_STORE_CHANGE_ADDED)
        seen->added = change->key;
      else if (change->kind == LB_STORE_CHANGE_REMOVED)
        seen->removed = change->key;
    }
}

/* A draft's new version replaces the one on the server in the same
 * transaction: no replay ever finds the new one queued without the
 * deletion of the old one, which has the same Message-ID and would pass
 * for the new one uploaded already (the new version was then never
 * uploaded, and the old one deleted: the draft lost on the server). */
static void
test_store_add_upload_replacing (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autoptr(LbFolderInfo) drafts = ensure_folder (fixture->store, "Drafts", LB_FOLDER_ROLE_DRAFTS, FALSE);
  g_autoptr(GPtrArray) summaries = summaries_new ();
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(LbMessageSummary) summary = make_summary (0, 1600000002, "a draft, again", "d@example.test", NULL);
  const char *text = "Subject: a draft, again\r\nMessage-ID: <d@example.test>\r\n\r\nmore words\r\n";
  g_autoptr(GBytes) raw = g_bytes_new_static (text, strlen (text));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(LbMessageSummary) row = NULL;
  ReplaceSeen seen = { 0 };
  LbStoreOp *op;
  gulong id;
  gint64 old_key, key;

  /* the first version, on the server as UID 7 */
  g_ptr_array_add (summaries, make_summary (7, 1600000001, "a draft", "d@example.test", NULL));
  added = add_summaries (fixture->store, drafts->id, summaries, LB_STORE_WRITE_NONE);
  old_key = summary_at (added, 0)->key;

  id = g_signal_connect (fixture->store, "changed", G_CALLBACK (replace_on_changed), &seen);
  lb_store_add_upload_async (fixture->store, drafts->id, summary, "more words", raw, old_key, NULL,
                             lb_test_store_result, &result);
  lb_test_wait (&result);
  key = lb_store_add_upload_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (key, >, 0);
  g_clear_object (&result);
  g_signal_handler_disconnect (fixture->store, id);

  /* one change: the list never shows both versions, nor neither */
  g_assert_cmpuint (seen.emissions, ==, 1);
  g_assert_cmpint (seen.added, ==, key);
  g_assert_cmpint (seen.removed, ==, old_key);

  row = get_message (fixture->store, key);
  g_assert_cmpstr (row->subject, ==, "a draft, again");
  lb_store_get_message_async (fixture->store, old_key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_null (lb_store_get_message_finish (fixture->store, result, &error));
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND);

  /* the upload first, then the deletion of UID 7: the server never lacks both */
  ops = list_ops (fixture->store);
  g_assert_cmpuint (ops->len, ==, 2);
  op = ops->pdata[0];
  g_assert_cmpint (op->kind, ==, LB_STORE_OP_APPEND);
  g_assert_cmpint (op->message_key, ==, key);
  op = ops->pdata[1];
  g_assert_cmpint (op->kind, ==, LB_STORE_OP_DELETE);
  g_assert_cmpint (op->message_key, ==, old_key);
  g_assert_cmpuint (op->uid, ==, 7);
  g_assert_cmpstr (op->folder_path, ==, "Drafts");
  g_assert_cmpstr (op->message_id, ==, "d@example.test");
}

static void
test_store_get_messages (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(GPtrArray) summaries = summaries_new ();
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) none = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 missing = 999999;
  guint n = 1203;   /* more than one chunk */

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *subject = g_strdup_printf ("Message %u", i);

      g_ptr_array_add (summaries, make_summary (i + 1, 1600000000 + i, subject, NULL, NULL));
    }
  added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);

  /* newest key first, a key that does not exist in the middle */
  for (guint i = n; i > 0; i--)
    {
      g_array_append_val (keys, summary_at (added, i - 1)->key);
      if (i == 600)
        g_array_append_val (keys, missing);
    }
  lb_store_get_messages_async (fixture->store, keys, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  rows = lb_store_get_messages_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *subject = g_strdup_printf ("Message %u", n - 1 - i);

      g_assert_cmpint (summary_at (rows, i)->key, ==, summary_at (added, n - 1 - i)->key);
      g_assert_cmpstr (summary_at (rows, i)->subject, ==, subject);
      g_assert_cmpuint (summary_at (rows, i)->uid, ==, n - i);
    }
  g_clear_object (&result);
  g_clear_pointer (&rows, g_ptr_array_unref);

  lb_store_get_messages_async (fixture->store, none, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  rows = lb_store_get_messages_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 0);
}

static GPtrArray *
list_uncached (LbStore *store,
               gint64   folder_id,
               gint64   since,
               guint    limit)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *rows;

  lb_store_list_uncached_async (store, folder_id, since, limit, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  rows = lb_store_list_uncached_finish (store, result, &error);
  g_assert_no_error (error);
  return rows;
}

static void
test_store_list_uncached (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(GPtrArray) summaries = summaries_new ();
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) recent = NULL;
  g_autoptr(GPtrArray) two = NULL;

  g_ptr_array_add (summaries, make_summary (1, 1000, "old", NULL, NULL));
  g_ptr_array_add (summaries, make_summary (2, 2000, "cached", NULL, NULL));
  g_ptr_array_add (summaries, make_summary (3, 3000, "newer", NULL, NULL));
  g_ptr_array_add (summaries, make_summary (0, 4000, "no uid yet", NULL, NULL));
  g_ptr_array_add (summaries, make_summary (5, 5000, "newest", NULL, NULL));
  g_ptr_array_add (summaries, make_summary (6, 3000, "as new", NULL, NULL));
  added = add_summaries (fixture->store, inbox->id, summaries, LB_STORE_WRITE_NONE);
  cache_body (fixture->store, summary_at (added, 1)->key, "Subject: cached\r\n\r\n.\r\n");

  all = list_uncached (fixture->store, inbox->id, 0, 0);
  g_assert_cmpuint (all->len, ==, 4);
  g_assert_cmpstr (summary_at (all, 0)->subject, ==, "newest");
  g_assert_cmpstr (summary_at (all, 1)->subject, ==, "as new");   /* same date: higher key first */
  g_assert_cmpstr (summary_at (all, 2)->subject, ==, "newer");
  g_assert_cmpstr (summary_at (all, 3)->subject, ==, "old");

  recent = list_uncached (fixture->store, inbox->id, 3000, 0);
  g_assert_cmpuint (recent->len, ==, 3);
  two = list_uncached (fixture->store, inbox->id, 0, 2);
  g_assert_cmpuint (two->len, ==, 2);
  g_assert_cmpstr (summary_at (two, 1)->subject, ==, "as new");
}

static gboolean
folder_in (GPtrArray  *folders,
           gint64      id,
           const char *path,
           const char *name)
{
  for (guint i = 0; i < folders->len; i++)
    {
      LbFolderInfo *info = folders->pdata[i];

      if (info->id == id)
        return g_strcmp0 (info->path, path) == 0 && g_strcmp0 (info->name, name) == 0;
    }
  return FALSE;
}

static void
test_store_rename_folder (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(LbFolderInfo) projects = ensure_folder (fixture->store, "Projects", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(LbFolderInfo) work = ensure_folder (fixture->store, "Projects/Work", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(LbFolderInfo) old = ensure_folder (fixture->store, "Projects/Work/Old", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(LbFolderInfo) lookalike = ensure_folder (fixture->store, "ProjectsX", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(LbFolderInfo) taken = ensure_folder (fixture->store, "Taken", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(GPtrArray) summaries = summaries_new ();
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(SyncRecorder) recorder = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (summaries, make_summary (1, 1600000000, "in work", NULL, NULL));
  g_ptr_array_add (summaries, make_summary (2, 1600000001, "to move", NULL, NULL));
  added = add_summaries (fixture->store, work->id, summaries, LB_STORE_WRITE_NONE);
  /* queued changes that name the folders by path */
  set_flags (fixture->store, summary_at (added, 0)->key, LB_MESSAGE_SEEN, 0, LB_STORE_WRITE_QUEUE);
  g_array_append_val (keys, summary_at (added, 1)->key);
  lb_store_move_messages_async (fixture->store, keys, old->id, LB_STORE_WRITE_QUEUE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_move_messages_finish (fixture->store, result, &error));
  g_clear_object (&result);

  recorder = sync_recorder_new (fixture->store);
  lb_store_rename_folder_async (fixture->store, projects->id, "Clients", NULL, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_rename_folder_finish (fixture->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  /* the folder and those below it, announced; ids and messages kept */
  g_assert_cmpuint (recorder->folders->len, ==, 3);
  g_assert_true (folder_in (recorder->folders, projects->id, "Clients", "Clients"));
  g_assert_true (folder_in (recorder->folders, work->id, "Clients/Work", "Work"));
  g_assert_true (folder_in (recorder->folders, old->id, "Clients/Work/Old", "Old"));
  lb_store_list_folders_async (fixture->store, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  folders = lb_store_list_folders_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_true (folder_in (folders, lookalike->id, "ProjectsX", "ProjectsX"));
  g_assert_true (folder_in (folders, work->id, "Clients/Work", "Work"));
  rows = list_messages (fixture->store, work->id, 0, 10);
  g_assert_cmpuint (rows->len, ==, 1);
  ops = list_ops (fixture->store);
  g_assert_cmpuint (ops->len, ==, 2);
  g_assert_cmpstr (((LbStoreOp *) ops->pdata[0])->folder_path, ==, "Clients/Work");
  g_assert_cmpstr (((LbStoreOp *) ops->pdata[1])->folder_path, ==, "Clients/Work");
  g_assert_cmpstr (((LbStoreOp *) ops->pdata[1])->target_path, ==, "Clients/Work/Old");

  /* a leaf, with a name of its own */
  lb_store_rename_folder_async (fixture->store, old->id, "Clients/Work/2023", "Year 2023", NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_rename_folder_finish (fixture->store, result, &error));
  g_clear_object (&result);
  {
    g_autoptr(LbFolderInfo) now = get_folder (fixture->store, old->id);

    g_assert_cmpstr (now->path, ==, "Clients/Work/2023");
    g_assert_cmpstr (now->name, ==, "Year 2023");
    g_assert_cmpuint (now->total, ==, 1);
  }

  /* onto a folder that exists: refused, nothing changed */
  lb_store_rename_folder_async (fixture->store, work->id, "Taken", NULL, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_false (lb_store_rename_folder_finish (fixture->store, result, &error));
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_EXISTS);
  g_clear_error (&error);
  g_clear_object (&result);
  {
    g_autoptr(LbFolderInfo) now = get_folder (fixture->store, work->id);
    g_autoptr(LbFolderInfo) still = get_folder (fixture->store, taken->id);

    g_assert_cmpstr (now->path, ==, "Clients/Work");
    g_assert_cmpstr (still->path, ==, "Taken");
  }

  lb_store_rename_folder_async (fixture->store, 9999, "Nowhere", NULL, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_false (lb_store_rename_folder_finish (fixture->store, result, &error));
  g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND);
}

static void
test_store_prune_folders (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(LbFolderInfo) inbox = ensure_folder (fixture->store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(LbFolderInfo) gone = ensure_folder (fixture->store, "Gone", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(LbFolderInfo) gone_too = ensure_folder (fixture->store, "Gone/Child", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(LbFolderInfo) doomed = ensure_folder (fixture->store, "Doomed", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(LbFolderInfo) local = ensure_folder (fixture->store, "Local", LB_FOLDER_ROLE_NONE, TRUE);
  g_autoptr(LbFolderInfo) pending = ensure_folder (fixture->store, "Pending", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(LbFolderInfo) target = ensure_folder (fixture->store, "Target", LB_FOLDER_ROLE_NONE, FALSE);
  g_autoptr(GPtrArray) queued = summaries_new ();
  g_autoptr(GPtrArray) queued_rows = NULL;
  g_autoptr(GPtrArray) summaries = summaries_new ();
  g_autoptr(GPtrArray) doomed_rows = summaries_new ();
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) added2 = NULL;
  g_autoptr(GPtrArray) keep = g_ptr_array_new ();
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(SyncRecorder) recorder = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 key;

  g_ptr_array_add (summaries, make_summary (1, 1600000000, "in a folder deleted elsewhere", NULL, NULL));
  added = add_summaries (fixture->store, gone->id, summaries, LB_STORE_WRITE_NONE);
  key = summary_at (added, 0)->key;
  cache_body (fixture->store, key, "Subject: x\r\n\r\nx\r\n");
  g_assert_true (body_file_exists (fixture->dir, key));

  /* two more gone from the server, but named by queued changes: a flag
   * change there, a move from INBOX to there */
  g_ptr_array_add (queued, make_summary (2, 1600000000, "flagged offline", NULL, NULL));
  g_ptr_array_add (queued, make_summary (3, 1600000000, "moved offline", NULL, NULL));
  queued_rows = add_summaries (fixture->store, pending->id, queued, LB_STORE_WRITE_NONE);
  set_flags (fixture->store, summary_at (queued_rows, 0)->key, LB_MESSAGE_SEEN, 0, LB_STORE_WRITE_QUEUE);
  {
    g_autoptr(GPtrArray) in_inbox = summaries_new ();
    g_autoptr(GPtrArray) inbox_rows = NULL;
    g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));

    g_ptr_array_add (in_inbox, make_summary (4, 1600000000, "to a target", NULL, NULL));
    inbox_rows = add_summaries (fixture->store, inbox->id, in_inbox, LB_STORE_WRITE_NONE);
    g_array_append_val (keys, summary_at (inbox_rows, 0)->key);
    lb_store_move_messages_async (fixture->store, keys, target->id, LB_STORE_WRITE_QUEUE, NULL,
                                  lb_test_store_result, &result);
    lb_test_wait (&result);
    g_assert_true (lb_store_move_messages_finish (fixture->store, result, &error));
    g_assert_no_error (error);
    g_clear_object (&result);
  }

  /* the server's list has INBOX and Doomed */
  recorder = sync_recorder_new (fixture->store);
  g_ptr_array_add (keep, (gpointer) "INBOX");
  g_ptr_array_add (keep, (gpointer) "Doomed");
  lb_store_prune_folders_async (fixture->store, keep, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_prune_folders_finish (fixture->store, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  g_assert_cmpuint (recorder->removed->len, ==, 2);
  g_assert_true (g_array_index (recorder->removed, gint64, 0) == gone->id ||
                 g_array_index (recorder->removed, gint64, 1) == gone->id);
  g_assert_true (g_array_index (recorder->removed, gint64, 0) == gone_too->id ||
                 g_array_index (recorder->removed, gint64, 1) == gone_too->id);
  assert_gone (fixture->store, key);
  g_assert_false (body_file_exists (fixture->dir, key));
  lb_store_list_folders_async (fixture->store, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  folders = lb_store_list_folders_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  /* local folders are not the server's to delete, nor those the queue
   * names */
  g_assert_cmpuint (folders->len, ==, 5);
  g_assert_true (folder_in (folders, inbox->id, "INBOX", "INBOX"));
  g_assert_true (folder_in (folders, local->id, "Local", "Local"));
  g_assert_true (folder_in (folders, pending->id, "Pending", "Pending"));
  g_assert_true (folder_in (folders, target->id, "Target", "Target"));
  {
    g_autoptr(LbMessageSummary) row = get_message (fixture->store, summary_at (queued_rows, 1)->key);

    g_assert_cmpint (row->folder_id, ==, pending->id);
  }

  /* deleting a server folder takes its cached bodies along too */
  g_ptr_array_add (doomed_rows, make_summary (1, 1600000000, "doomed", NULL, NULL));
  added2 = add_summaries (fixture->store, doomed->id, doomed_rows, LB_STORE_WRITE_NONE);
  key = summary_at (added2, 0)->key;
  cache_body (fixture->store, key, "Subject: y\r\n\r\ny\r\n");
  lb_store_delete_folder_async (fixture->store, doomed->id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_delete_folder_finish (fixture->store, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (recorder->removed->len, ==, 3);
  g_assert_cmpint (g_array_index (recorder->removed, gint64, 2), ==, doomed->id);
  assert_gone (fixture->store, key);
  g_assert_false (body_file_exists (fixture->dir, key));
}

/* ------------------------------------------------------------------ crash */

#define CRASH_MESSAGES 50

/* Run in a child process that is killed without warning while it writes:
 * it toggles the seen flag of messages (queued for a server) and delivers
 * new messages to a local folder, as fast as it can. */
static void
crash_writer (const char *dir)
{
  g_autoptr(LbStore) store = open_store (dir);
  g_autoptr(LbFolderInfo) inbox = ensure_folder (store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_autoptr(LbFolderInfo) local = ensure_folder (store, "Local", LB_FOLDER_ROLE_NONE, TRUE);
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) added = NULL;
  g_autofree char *ready = g_build_filename (dir, "ready", NULL);

  for (guint i = 0; i < CRASH_MESSAGES; i++)
    g_ptr_array_add (summaries, make_summary (i + 1, 1600000000 + i, "crash", NULL, NULL));
  added = add_summaries (store, inbox->id, summaries, LB_STORE_WRITE_NONE);
  g_file_set_contents (ready, "", 0, NULL);

  for (guint i = 0;; i++)
    {
      gint64 key = ((LbMessageSummary *) added->pdata[i % CRASH_MESSAGES])->key;
      g_autoptr(LbMessageSummary) now = get_message (store, key);
      g_autoptr(GPtrArray) deliveries = deliveries_new ();
      g_autoptr(GPtrArray) stored = NULL;
      g_autofree char *text = g_strdup_printf ("Message-ID: <crash-%u@example.test>\r\n"
                                               "Subject: delivery %u\r\n\r\n%s\r\n",
                                               i, i, "0123456789abcdef0123456789abcdef");

      if (now->flags & LB_MESSAGE_SEEN)
        set_flags (store, key, 0, LB_MESSAGE_SEEN, LB_STORE_WRITE_QUEUE);
      else
        set_flags (store, key, LB_MESSAGE_SEEN, 0, LB_STORE_WRITE_QUEUE);

      add_delivery (deliveries, text, 0, NULL);
      stored = deliver (store, local->id, deliveries);
    }
}

static void
test_store_crash_consistent (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(LbStore) store = NULL;
  g_autoptr(GPtrArray) ops = NULL;
  g_autoptr(GHashTable) op_count = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(LbFolderInfo) inbox = NULL;
  g_autoptr(LbFolderInfo) local = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) delivered = NULL;
  guint unread = 0;

  if (g_test_subprocess ())
    {
      crash_writer (g_getenv ("LB_TEST_CRASH_DIR"));
      return;
    }

  dir = g_dir_make_tmp ("lb-store-crash-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("LB_TEST_CRASH_DIR", dir, TRUE);

  /* killed (SIGALRM, not caught) at a moment nobody chose */
  g_test_trap_subprocess (NULL, 3 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_assert_false (g_test_trap_has_passed ());
  {
    g_autofree char *ready = g_build_filename (dir, "ready", NULL);

    if (!g_file_test (ready, G_FILE_TEST_EXISTS))
      {
        g_test_skip ("the writer did not get going before it was killed");
        lb_test_remove_tree (dir);
        return;
      }
  }

  /* the database is whole */
  {
    g_autofree char *path = g_build_filename (dir, "store.db", NULL);
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;

    g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
    sqlite3_finalize (stmt);
    sqlite3_close (db);
  }

  store = open_store (dir);
  inbox = ensure_folder (store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  local = ensure_folder (store, "Local", LB_FOLDER_ROLE_NONE, TRUE);

  /* every flag change is in the queue, and only those that happened: a
   * message is read exactly when an odd number of toggles was queued */
  ops = list_ops (store);
  g_test_message ("%u flag changes were committed before the kill", ops->len);
  g_assert_cmpuint (ops->len, >, 0);
  for (guint i = 0; i < ops->len; i++)
    {
      LbStoreOp *op = ops->pdata[i];
      gint64 key = op->message_key;
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (op_count, &key));

      g_assert_cmpint (op->kind, ==, LB_STORE_OP_SET_FLAGS);
      g_hash_table_insert (op_count, g_memdup2 (&key, sizeof key), GUINT_TO_POINTER (n + 1));
    }
  rows = list_messages (store, inbox->id, 0, 1000);
  g_assert_cmpuint (rows->len, ==, CRASH_MESSAGES);
  for (guint i = 0; i < rows->len; i++)
    {
      LbMessageSummary *row = rows->pdata[i];
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (op_count, &row->key));

      g_assert_cmpint (!!(row->flags & LB_MESSAGE_SEEN), ==, n % 2);
      if (!(row->flags & LB_MESSAGE_SEEN))
        unread++;
    }
  /* the counts the triggers keep agree */
  g_assert_cmpuint (inbox->total, ==, CRASH_MESSAGES);
  g_assert_cmpuint (inbox->unread, ==, unread);

  /* every delivered message that has a row has its whole file */
  delivered = list_messages (store, local->id, 0, 1000000);
  g_assert_cmpuint (local->total, ==, delivered->len);
  for (guint i = 0; i < delivered->len; i++)
    {
      LbMessageSummary *row = delivered->pdata[i];
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GBytes) bytes = NULL;
      g_autofree char *want = NULL;
      guint n;

      g_assert_cmpint (sscanf (row->subject, "delivery %u", &n), ==, 1);
      want = g_strdup_printf ("Message-ID: <crash-%u@example.test>\r\n"
                              "Subject: delivery %u\r\n\r\n%s\r\n",
                              n, n, "0123456789abcdef0123456789abcdef");
      lb_store_read_message_async (store, row->key, NULL, lb_test_store_result, &result);
      lb_test_wait (&result);
      bytes = lb_store_read_message_finish (store, result, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), want, strlen (want));
    }

  lb_test_finalize_store (g_steal_pointer (&store));
  lb_test_remove_tree (dir);
}

static void
test_store_fts_query (void)
{
  g_autofree char *a = lb_store_make_fts_query ("hello world");
  g_autofree char *b = lb_store_make_fts_query ("say \"hi\"");
  g_autofree char *c = lb_store_make_fts_query (" \t ");

  g_assert_cmpstr (a, ==, "\"hello\" \"world\"*");
  g_assert_cmpstr (b, ==, "\"say\" \"\"\"hi\"\"\"*");
  g_assert_null (c);
}

static void
wait_indexed (const char *dir)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (query_int (dir, "SELECT count(*) FROM fts_pending_ranges") > 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (10000);
    }
}

/* A header sync stores rows and leaves their indexing for later: they are
 * listed at once and found by search once the writer has time. */
static void
test_store_deferred_index (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lb-store-XXXXXX", &error);
  g_autoptr(LbFolderInfo) inbox = NULL;
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  LbStore *store;

  g_assert_no_error (error);
  store = open_store (dir);
  inbox = ensure_folder (store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  for (guint i = 1; i <= 1200; i++)
    {
      g_autofree char *subject = g_strdup_printf ("Zanzibar report unique%u", i);
      g_autofree char *id = g_strdup_printf ("m%u@example.test", i);

      g_ptr_array_add (summaries, make_summary (i, 1600000000 + i, subject, id, NULL));
    }
  added = add_summaries (store, inbox->id, summaries, LB_STORE_WRITE_DEFER_INDEX);
  g_assert_cmpuint (added->len, ==, 1200);

  rows = list_messages (store, inbox->id, 0, 10);
  g_assert_cmpuint (rows->len, ==, 10);
  g_clear_pointer (&rows, g_ptr_array_unref);

  /* more than one indexing batch */
  wait_indexed (dir);
  rows = search (store, "unique1200", inbox->id);
  g_assert_cmpuint (rows->len, ==, 1);
  g_assert_cmpstr (((LbMessageSummary *) rows->pdata[0])->subject, ==, "Zanzibar report unique1200");
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = search (store, "alice", inbox->id);
  g_assert_cmpuint (rows->len, ==, 100);
  g_clear_pointer (&rows, g_ptr_array_unref);
  lb_test_finalize_store (store);

  /* quit before the indexing was done: it goes on a little after the
   * store opens again */
  exec_sql (dir, "DELETE FROM messages_fts;"
                 "INSERT INTO fts_pending_ranges SELECT min (id), max (id) FROM messages;");
  store = open_store (dir);
  rows = search (store, "unique1007", inbox->id);
  g_assert_cmpuint (rows->len, ==, 0);
  g_clear_pointer (&rows, g_ptr_array_unref);
  wait_indexed (dir);
  rows = search (store, "unique1007", inbox->id);
  g_assert_cmpuint (rows->len, ==, 1);
  g_clear_pointer (&rows, g_ptr_array_unref);
  lb_test_finalize_store (store);

  exec_sql (dir, "DELETE FROM messages_fts;"
                 "INSERT INTO fts_pending_ranges SELECT min (id), max (id) FROM messages;");
  store = open_store (dir);
  {
    g_autoptr(GAsyncResult) result = NULL;

    /* or at once, when asked */
    lb_store_index_pending_async (store, NULL, lb_test_store_result, &result);
    lb_test_wait (&result);
    g_assert_true (lb_store_index_pending_finish (store, result, &error));
    g_assert_no_error (error);
    g_assert_cmpint (query_int (dir, "SELECT count(*) FROM fts_pending_ranges"), ==, 0);
  }
  rows = search (store, "unique1007", inbox->id);
  g_assert_cmpuint (rows->len, ==, 1);
  lb_test_finalize_store (store);

  lb_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add ("/store/open-creates", Fixture, NULL, fixture_set_up, test_store_open_creates, fixture_tear_down);
  g_test_add_func ("/store/migrate-from-v1", test_store_migrate_from_v1);
  g_test_add_func ("/store/refuses-foreign", test_store_refuses_foreign);
  g_test_add_func ("/store/concurrent-open", test_store_concurrent_open);
  g_test_add ("/store/folders", Fixture, NULL, fixture_set_up, test_store_folders, fixture_tear_down);
  g_test_add ("/store/summaries", Fixture, NULL, fixture_set_up, test_store_summaries, fixture_tear_down);
  g_test_add ("/store/cache-bodies", Fixture, NULL, fixture_set_up, test_store_cache_bodies, fixture_tear_down);
  g_test_add ("/store/signals-on-main-context", Fixture, NULL, fixture_set_up, test_store_signals_on_main_context, fixture_tear_down);
  g_test_add ("/store/flags-and-queue", Fixture, NULL, fixture_set_up, test_store_flags_and_queue, fixture_tear_down);
  g_test_add ("/store/local-folder", Fixture, NULL, fixture_set_up, test_store_local_folder, fixture_tear_down);
  g_test_add ("/store/body-cache", Fixture, NULL, fixture_set_up, test_store_body_cache, fixture_tear_down);
  g_test_add ("/store/threads", Fixture, NULL, fixture_set_up, test_store_threads, fixture_tear_down);
  g_test_add ("/store/threads-bulk", Fixture, NULL, fixture_set_up, test_store_threads_bulk, fixture_tear_down);
  g_test_add ("/store/thread-keys", Fixture, NULL, fixture_set_up, test_store_thread_keys, fixture_tear_down);
  g_test_add ("/store/search", Fixture, NULL, fixture_set_up, test_store_search, fixture_tear_down);
  g_test_add_func ("/store/fts-query", test_store_fts_query);
  g_test_add_func ("/store/crash-consistent", test_store_crash_consistent);
  g_test_add ("/store/imap-fields", Fixture, NULL, fixture_set_up, test_store_imap_fields, fixture_tear_down);
  g_test_add_func ("/store/migrate-from-v3", test_store_migrate_from_v3);
  g_test_add_func ("/store/migrate-from-v5", test_store_migrate_from_v5);
  g_test_add ("/store/list-uids", Fixture, NULL, fixture_set_up, test_store_list_uids, fixture_tear_down);
  g_test_add ("/store/checkpoints", Fixture, NULL, fixture_set_up, test_store_checkpoints, fixture_tear_down);
  g_test_add_func ("/store/list-uids-many", test_store_list_uids_many);
  g_test_add_func ("/store/deferred-index", test_store_deferred_index);
  g_test_add ("/store/sync-flags", Fixture, NULL, fixture_set_up, test_store_sync_flags, fixture_tear_down);
  g_test_add ("/store/remove-uids", Fixture, NULL, fixture_set_up, test_store_remove_uids, fixture_tear_down);
  g_test_add ("/store/keys-for-uids", Fixture, NULL, fixture_set_up, test_store_keys_for_uids, fixture_tear_down);
  g_test_add ("/store/reset-and-adopt", Fixture, NULL, fixture_set_up, test_store_reset_and_adopt, fixture_tear_down);
  g_test_add ("/store/add-skips-leaving", Fixture, NULL, fixture_set_up, test_store_add_skips_leaving, fixture_tear_down);
  g_test_add ("/store/remove-orphans", Fixture, NULL, fixture_set_up, test_store_remove_orphans, fixture_tear_down);
  g_test_add ("/store/set-uid", Fixture, NULL, fixture_set_up, test_store_set_uid, fixture_tear_down);
  g_test_add ("/store/add-upload", Fixture, NULL, fixture_set_up, test_store_add_upload, fixture_tear_down);
  g_test_add ("/store/add-upload-replacing", Fixture, NULL, fixture_set_up, test_store_add_upload_replacing,
              fixture_tear_down);
  g_test_add ("/store/get-messages", Fixture, NULL, fixture_set_up, test_store_get_messages, fixture_tear_down);
  g_test_add ("/store/list-uncached", Fixture, NULL, fixture_set_up, test_store_list_uncached, fixture_tear_down);
  g_test_add ("/store/rename-folder", Fixture, NULL, fixture_set_up, test_store_rename_folder, fixture_tear_down);
  g_test_add ("/store/prune-folders", Fixture, NULL, fixture_set_up, test_store_prune_folders, fixture_tear_down);

  return g_test_run ();
}
