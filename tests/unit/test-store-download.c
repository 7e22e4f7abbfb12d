/* test-store-download.c: POP3 messages streamed into a local folder
 * (LbStoreDownload) and the account's record of them (pop3_uidls)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <sqlite3.h>

#include "lb-store-download.h"
#include "lb-store-private.h"
#include "lb-test-session.h"

typedef struct
{
  char         *dir;
  LbStore      *store;
  LbFolderInfo *inbox;
  LbFolderInfo *keep;
  char         *inbox_dir;
  char         *keep_dir;
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

static LbFolderInfo *
ensure_folder (LbStore    *store,
               const char *path)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbFolderInfo *info;

  lb_store_ensure_folder_async (store, path, "/", LB_FOLDER_ROLE_NONE, TRUE, NULL,
                                lb_test_store_result, &result);
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

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("lb-download-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->store = open_store_at (fixture->dir, LB_STORE_SCHEMA_VERSION, &error);
  g_assert_no_error (error);
  fixture->inbox = ensure_folder (fixture->store, "Inbox");
  fixture->keep = ensure_folder (fixture->store, "Keep");
  fixture->inbox_dir = g_build_filename (fixture->dir, "mail", "Inbox", NULL);
  fixture->keep_dir = g_build_filename (fixture->dir, "mail", "Keep", NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_pointer (&fixture->inbox, lb_folder_info_free);
  g_clear_pointer (&fixture->keep, lb_folder_info_free);
  if (fixture->store != NULL)
    lb_test_finalize_store (g_steal_pointer (&fixture->store));
  lb_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->inbox_dir);
  g_free (fixture->keep_dir);
}

static guint
count_files (const char *maildir,
             const char *sub)
{
  g_autofree char *path = g_build_filename (maildir, sub, NULL);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  if (dir != NULL)
    while (g_dir_read_name (dir) != NULL)
      n++;
  return n;
}

static guint
count_all_files (const char *maildir)
{
  return count_files (maildir, "tmp") + count_files (maildir, "new") + count_files (maildir, "cur");
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

static GHashTable *
list_uidls (LbStore *store)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GHashTable *uidls;

  lb_store_list_pop3_uidls_async (store, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  uidls = lb_store_list_pop3_uidls_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (uidls);
  return uidls;
}

/* the record of one message, by its key; NULL when it has none */
static LbStorePop3Uidl *
get_uidl (LbStore *store,
          gint64   key)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbStorePop3Uidl *uidl;

  lb_store_get_pop3_uidl_async (store, key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  uidl = lb_store_get_pop3_uidl_finish (store, result, &error);
  if (uidl == NULL)
    g_assert_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND);
  else
    g_assert_no_error (error);
  return uidl;
}

static LbStorePop3Uidl *
lookup_uidl (GHashTable *uidls,
             const char *uidl)
{
  LbStorePop3Uidl *found = g_hash_table_lookup (uidls, uidl);

  g_assert_nonnull (found);
  g_assert_cmpstr (found->uidl, ==, uidl);
  return found;
}

static GBytes *
read_message (LbStore *store,
              gint64   key)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GBytes *bytes;

  lb_store_read_message_async (store, key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  bytes = lb_store_read_message_finish (store, result, &error);
  g_assert_no_error (error);
  return bytes;
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

static GPtrArray *
search (LbStore    *store,
        const char *text)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *rows;

  lb_store_search_async (store, text, 0, 100, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  rows = lb_store_search_finish (store, result, &error);
  g_assert_no_error (error);
  return rows;
}

static void
change_keys (LbStore *store,
             gint64   key,
             gint64   move_to)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_array_append_val (keys, key);
  if (move_to != 0)
    {
      lb_store_move_messages_async (store, keys, move_to, LB_STORE_WRITE_NONE, NULL,
                                    lb_test_store_result, &result);
      lb_test_wait (&result);
      g_assert_true (lb_store_move_messages_finish (store, result, &error));
    }
  else
    {
      lb_store_delete_messages_async (store, keys, LB_STORE_WRITE_NONE, NULL,
                                      lb_test_store_result, &result);
      lb_test_wait (&result);
      g_assert_true (lb_store_delete_messages_finish (store, result, &error));
    }
  g_assert_no_error (error);
}

/* A message of @size bytes or a little more, CRLF lines. */
static char *
make_message (guint i,
              gsize size)
{
  GString *s = g_string_new (NULL);
  guint line = 0;

  g_string_append_printf (s,
                          "From: Sender %u <sender%u@example.test>\r\n"
                          "To: alice@example.test\r\n"
                          "Subject: Message number %u\r\n"
                          "Date: Tue, 14 Nov 2023 10:%02u:00 +0000\r\n"
                          "Message-ID: <m%u@example.test>\r\n"
                          "\r\n"
                          "Hello, this is message %u, about zebras.\r\n",
                          i, i, i, i % 60, i, i);
  while (s->len < size)
    g_string_append_printf (s, "Line %u of message %u: the quick brown fox jumps.\r\n", line++, i);
  return g_string_free (s, FALSE);
}

static void
write_in_pieces (LbStoreDownload *download,
                 GRand           *rand,
                 const char      *text,
                 gsize            length)
{
  gsize done = 0;

  while (done < length)
    {
      /* not in MIN (), which would draw twice */
      gsize piece = (gsize) g_rand_int_range (rand, 1, 9000);

      piece = MIN (piece, length - done);
      lb_store_download_write (download, (const guint8 *) text + done, piece);
      done += piece;
    }
}

static void
deliver_one (LbStoreDownload *download,
             const char      *uidl,
             const char      *text,
             guint            flags,
             gboolean         partial)
{
  lb_store_download_begin (download, uidl, 1700000000, flags, partial);
  lb_store_download_write (download, (const guint8 *) text, strlen (text));
  lb_store_download_end (download);
}

static GPtrArray *
flush (LbStoreDownload  *download,
       GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_store_download_flush_async (download, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_store_download_flush_finish (download, result, error);
}

static GPtrArray *
flush_ok (LbStoreDownload *download)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *uidls = flush (download, &error);

  g_assert_no_error (error);
  g_assert_nonnull (uidls);
  return uidls;
}

static gboolean
contains (GPtrArray  *strings,
          const char *s)
{
  for (guint i = 0; i < strings->len; i++)
    if (g_strcmp0 (strings->pdata[i], s) == 0)
      return TRUE;
  return FALSE;
}

static void
recorded_cb (LbStoreDownload *download,
             guint            n_total,
             gpointer         user_data)
{
  guint *last = user_data;

  g_assert_cmpuint (n_total, >, *last);
  *last = n_total;
}

/* ------------------------------------------------------------------ tests */

/* Schema 7: messages delivered by POP3 before are recorded, first seen
 * now; a message deleted here keeps its UIDL with key 0. */
static void
test_download_migrate_from_v6 (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lb-download-XXXXXX", &error);
  g_autoptr(GHashTable) uidls = NULL;
  gint64 before = g_get_real_time () / G_USEC_PER_SEC;
  LbStorePop3Uidl *one;
  LbStore *store;

  g_assert_no_error (error);
  store = open_store_at (dir, 6, &error);
  g_assert_no_error (error);
  lb_test_finalize_store (store);
  exec_sql (dir,
            "INSERT INTO folders (path, name, local, maildir) VALUES ('Inbox', 'Inbox', 1, 'mail/Inbox');"
            "INSERT INTO messages (folder_id, uidl, subject, date, location)"
            " VALUES (1, 'uidl-a', 'A', 1600000000, 'a'), (1, NULL, 'local', 1600000001, 'b'),"
            "        (1, 'uidl-c', 'C', 1600000002, 'c');");

  store = open_store_at (dir, LB_STORE_SCHEMA_VERSION, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (dir, "PRAGMA user_version"), ==, LB_STORE_SCHEMA_VERSION);
  uidls = list_uidls (store);
  g_assert_cmpuint (g_hash_table_size (uidls), ==, 2);
  one = lookup_uidl (uidls, "uidl-a");
  g_assert_cmpint (one->key, ==, 1);
  g_assert_cmpint (one->first_seen, >=, before);
  g_assert_false (one->partial);
  g_assert_cmpint (one->deleted_here, ==, 0);
  g_assert_cmpint (lookup_uidl (uidls, "uidl-c")->key, ==, 3);

  /* the trigger: deleted here, remembered */
  exec_sql (dir, "DELETE FROM messages WHERE id = 3");
  g_clear_pointer (&uidls, g_hash_table_unref);
  uidls = list_uidls (store);
  one = lookup_uidl (uidls, "uidl-c");
  g_assert_cmpint (one->key, ==, 0);
  g_assert_cmpint (one->deleted_here, >=, before);
  g_assert_cmpint (lookup_uidl (uidls, "uidl-a")->key, ==, 1);

  lb_test_finalize_store (store);
  lb_test_remove_tree (dir);
}

/* Many messages in pieces of random sizes: the files are the bytes
 * written, the rows are right, commits happen on the way and durably. */
static void
test_download_stream (Fixture       *fixture,
                      gconstpointer  data)
{
  const guint n = 600;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autoptr(LbStoreDownload) download = lb_store_download_new (fixture->store, fixture->inbox->id);
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) flushed = NULL;
  g_autoptr(GHashTable) uidls = NULL;
  g_autoptr(LbFolderInfo) inbox = NULL;
  guint durable_before = lb_store_get_durable_commits (fixture->store);
  guint last_signalled = 0;
  guint seen = 0;

  g_signal_connect (download, "recorded", G_CALLBACK (recorded_cb), &last_signalled);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *uidl = g_strdup_printf ("UID%04u", i);
      /* mostly small, a few over a megabyte */
      gsize size = i % 97 == 0 ? 1200000 : (gsize) g_rand_int_range (rand, 200, 40000);
      char *text = make_message (i, size);
      guint flags = i % 3 == 0 ? LB_MESSAGE_SEEN : 0;

      seen += flags != 0;
      g_ptr_array_add (texts, text);
      lb_store_download_begin (download, uidl, 1700000000, flags, FALSE);
      write_in_pieces (download, rand, text, strlen (text));
      lb_store_download_end (download);
      g_assert_cmpuint (lb_store_download_get_backlog (download), <=, 1200000 * (guint64) n);
    }

  flushed = flush_ok (download);
  g_assert_cmpuint (flushed->len, ==, n);
  g_assert_cmpuint (lb_store_download_get_n_recorded (download), ==, n);
  g_assert_cmpuint (last_signalled, ==, n);
  g_assert_cmpuint (lb_store_download_get_backlog (download), ==, 0);
  /* 256 at a time, and the rest on flush; each commit synced */
  g_assert_cmpuint (lb_store_get_durable_commits (fixture->store) - durable_before, >=, 3);

  inbox = get_folder (fixture->store, fixture->inbox->id);
  g_assert_cmpuint (inbox->total, ==, n);
  g_assert_cmpuint (inbox->unread, ==, n - seen);
  g_assert_cmpuint (count_files (fixture->inbox_dir, "tmp"), ==, 0);
  g_assert_cmpuint (count_files (fixture->inbox_dir, "new"), ==, n - seen);
  g_assert_cmpuint (count_files (fixture->inbox_dir, "cur"), ==, seen);

  uidls = list_uidls (fixture->store);
  g_assert_cmpuint (g_hash_table_size (uidls), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *uidl = g_strdup_printf ("UID%04u", i);
      g_autofree char *subject = g_strdup_printf ("Message number %u", i);
      LbStorePop3Uidl *row = lookup_uidl (uidls, uidl);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(LbMessageSummary) summary = NULL;
      const char *text = texts->pdata[i];

      g_assert_true (contains (flushed, uidl));
      g_assert_false (row->partial);
      g_assert_cmpint (row->key, >, 0);
      bytes = read_message (fixture->store, row->key);
      g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), text, strlen (text));
      if (i % 50 == 0)
        {
          summary = get_message (fixture->store, row->key);
          g_assert_cmpstr (summary->subject, ==, subject);
          g_assert_cmpstr (summary->uidl, ==, uidl);
          g_assert_cmpint (summary->size, ==, (gint64) strlen (text));
          g_assert_cmpuint (summary->flags, ==, i % 3 == 0 ? LB_MESSAGE_SEEN : 0);
        }
    }
  {
    g_autoptr(GPtrArray) found = search (fixture->store, "zebras");

    g_assert_cmpuint (found->len, ==, 100);   /* the search's limit */
  }

  /* nothing new: an empty flush */
  {
    g_autoptr(GPtrArray) again = flush_ok (download);

    g_assert_cmpuint (again->len, ==, 0);
  }
  lb_store_download_close (download);
}

/* A UIDL delivered twice, in one batch or two downloads, is stored once
 * (and its spare file removed); both times it counts as recorded. */
static void
test_download_twice (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *text = make_message (1, 500);
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(LbFolderInfo) inbox = NULL;
  LbStoreDownload *download = lb_store_download_new (fixture->store, fixture->inbox->id);

  deliver_one (download, "twice", text, 0, FALSE);
  deliver_one (download, "twice", text, 0, FALSE);
  first = flush_ok (download);
  g_assert_cmpuint (first->len, ==, 1);
  g_assert_cmpstr (first->pdata[0], ==, "twice");
  g_assert_finalize_object (download);

  download = lb_store_download_new (fixture->store, fixture->inbox->id);
  deliver_one (download, "twice", text, LB_MESSAGE_SEEN, FALSE);
  second = flush_ok (download);
  g_assert_cmpuint (second->len, ==, 1);
  lb_store_download_close (download);
  g_assert_finalize_object (download);

  inbox = get_folder (fixture->store, fixture->inbox->id);
  g_assert_cmpuint (inbox->total, ==, 1);
  g_assert_cmpuint (count_all_files (fixture->inbox_dir), ==, 1);
  g_assert_cmpint (query_int (fixture->dir, "SELECT count(*) FROM pop3_uidls"), ==, 1);
}

/* Moved to another local folder, the message keeps its record; deleted
 * there, the record stays with key 0 and the time; forgotten, it goes
 * without touching messages. */
static void
test_download_move_delete (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autofree char *text = make_message (2, 500);
  g_autoptr(LbStoreDownload) download = lb_store_download_new (fixture->store, fixture->inbox->id);
  g_autoptr(GPtrArray) flushed = NULL;
  g_autoptr(GHashTable) uidls = NULL;
  g_autoptr(GPtrArray) forget = g_ptr_array_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 before = g_get_real_time () / G_USEC_PER_SEC;
  LbStorePop3Uidl *row;
  gint64 key;

  deliver_one (download, "moving", text, 0, FALSE);
  deliver_one (download, "staying", text, 0, FALSE);
  flushed = flush_ok (download);
  g_assert_cmpuint (flushed->len, ==, 2);
  uidls = list_uidls (fixture->store);
  row = lookup_uidl (uidls, "moving");
  key = row->key;
  g_assert_cmpint (row->first_seen, >=, before);

  change_keys (fixture->store, key, fixture->keep->id);
  g_clear_pointer (&uidls, g_hash_table_unref);
  uidls = list_uidls (fixture->store);
  g_assert_cmpint (lookup_uidl (uidls, "moving")->key, ==, key);
  g_assert_cmpint (lookup_uidl (uidls, "moving")->deleted_here, ==, 0);

  change_keys (fixture->store, key, 0);
  g_clear_pointer (&uidls, g_hash_table_unref);
  uidls = list_uidls (fixture->store);
  row = lookup_uidl (uidls, "moving");
  g_assert_cmpint (row->key, ==, 0);
  g_assert_cmpint (row->deleted_here, >=, before);
  g_assert_cmpint (row->deleted_here, <=, g_get_real_time () / G_USEC_PER_SEC + 1);
  g_assert_cmpint (lookup_uidl (uidls, "staying")->key, >, 0);

  /* gone from the server: forgotten; the message here stays */
  g_ptr_array_add (forget, (gpointer) "moving");
  g_ptr_array_add (forget, (gpointer) "staying");
  lb_store_forget_pop3_uidls_async (fixture->store, forget, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_forget_pop3_uidls_finish (fixture->store, result, &error));
  g_assert_no_error (error);
  g_clear_pointer (&uidls, g_hash_table_unref);
  uidls = list_uidls (fixture->store);
  g_assert_cmpuint (g_hash_table_size (uidls), ==, 0);
  {
    g_autoptr(LbFolderInfo) inbox = get_folder (fixture->store, fixture->inbox->id);

    g_assert_cmpuint (inbox->total, ==, 1);
  }
  lb_store_download_close (download);
}

/* Headers only, then the whole message: it takes the place of the
 * headers-only one where that was moved to, with its flags and key. */
static void
test_download_partial_then_full (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autofree char *full = make_message (3, 30000);
  g_autofree char *headers = NULL;
  g_autoptr(LbStoreDownload) download = lb_store_download_new (fixture->store, fixture->inbox->id);
  g_autoptr(GPtrArray) flushed = NULL;
  g_autoptr(GHashTable) uidls = NULL;
  g_autoptr(LbMessageSummary) summary = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *body = strstr (full, "\r\n\r\n");
  LbStorePop3Uidl *row;
  gint64 key;

  headers = g_strndup (full, (gsize) (body - full) + 4);
  deliver_one (download, "big", headers, 0, TRUE);
  flushed = flush_ok (download);
  g_assert_cmpuint (flushed->len, ==, 1);
  uidls = list_uidls (fixture->store);
  row = lookup_uidl (uidls, "big");
  g_assert_true (row->partial);
  key = row->key;
  {
    g_autoptr(LbStorePop3Uidl) by_key = get_uidl (fixture->store, key);

    g_assert_nonnull (by_key);
    g_assert_cmpstr (by_key->uidl, ==, "big");
    g_assert_true (by_key->partial);
    g_assert_null (get_uidl (fixture->store, key + 1000));
  }
  summary = get_message (fixture->store, key);
  g_assert_cmpstr (summary->subject, ==, "Message number 3");
  g_assert_cmpint (summary->size, ==, (gint64) strlen (headers));
  g_clear_pointer (&summary, lb_message_summary_unref);
  {
    g_autoptr(GPtrArray) found = search (fixture->store, "zebras");

    g_assert_cmpuint (found->len, ==, 0);
  }

  /* read, starred and moved meanwhile */
  g_array_append_val (keys, key);
  lb_store_set_flags_async (fixture->store, keys, LB_MESSAGE_SEEN | LB_MESSAGE_FLAGGED, 0,
                            LB_STORE_WRITE_NONE, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_set_flags_finish (fixture->store, result, &error));
  g_assert_no_error (error);
  change_keys (fixture->store, key, fixture->keep->id);
  g_assert_cmpuint (count_all_files (fixture->keep_dir), ==, 1);

  g_clear_pointer (&flushed, g_ptr_array_unref);
  lb_store_download_begin (download, "big", 1700000000, 0, FALSE);
  lb_store_download_write (download, (const guint8 *) full, strlen (full));
  lb_store_download_end (download);
  flushed = flush_ok (download);
  g_assert_cmpuint (flushed->len, ==, 1);

  g_clear_pointer (&uidls, g_hash_table_unref);
  uidls = list_uidls (fixture->store);
  row = lookup_uidl (uidls, "big");
  g_assert_false (row->partial);
  g_assert_cmpint (row->key, ==, key);
  {
    g_autoptr(LbStorePop3Uidl) by_key = get_uidl (fixture->store, key);

    g_assert_nonnull (by_key);
    g_assert_false (by_key->partial);
  }
  summary = get_message (fixture->store, key);
  g_assert_cmpint (summary->folder_id, ==, fixture->keep->id);
  g_assert_cmpuint (summary->flags, ==, LB_MESSAGE_SEEN | LB_MESSAGE_FLAGGED);
  g_assert_cmpint (summary->size, ==, (gint64) strlen (full));
  bytes = read_message (fixture->store, key);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), full, strlen (full));
  /* one file, in the folder it is in, named by its flags; none left in
   * the inbox */
  g_assert_cmpuint (count_all_files (fixture->keep_dir), ==, 1);
  g_assert_cmpuint (count_files (fixture->keep_dir, "cur"), ==, 1);
  g_assert_cmpuint (count_all_files (fixture->inbox_dir), ==, 0);
  {
    g_autoptr(GPtrArray) found = search (fixture->store, "zebras");
    g_autoptr(LbFolderInfo) keep = get_folder (fixture->store, fixture->keep->id);
    g_autoptr(LbFolderInfo) inbox = get_folder (fixture->store, fixture->inbox->id);

    g_assert_cmpuint (found->len, ==, 1);
    g_assert_cmpuint (keep->total, ==, 1);
    g_assert_cmpuint (keep->unread, ==, 0);
    g_assert_cmpuint (inbox->total, ==, 0);
  }

  /* and again: there already, whole */
  g_clear_pointer (&flushed, g_ptr_array_unref);
  deliver_one (download, "big", full, 0, FALSE);
  flushed = flush_ok (download);
  g_assert_cmpuint (flushed->len, ==, 1);
  g_assert_cmpuint (count_all_files (fixture->inbox_dir), ==, 0);
  g_assert_cmpuint (count_all_files (fixture->keep_dir), ==, 1);
  lb_store_download_close (download);
}

/* An aborted message leaves nothing; a close without flush drops what
 * was not committed, files included. */
static void
test_download_abort_and_close (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autofree char *text = make_message (4, 5000);
  g_autoptr(LbStoreDownload) download = lb_store_download_new (fixture->store, fixture->inbox->id);
  g_autoptr(GPtrArray) flushed = NULL;
  g_autoptr(LbFolderInfo) inbox = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_store_download_begin (download, "dropped", 1700000000, 0, FALSE);
  lb_store_download_write (download, (const guint8 *) text, 1000);
  lb_store_download_abort (download);
  deliver_one (download, "kept", text, 0, FALSE);
  flushed = flush_ok (download);
  g_assert_cmpuint (flushed->len, ==, 1);
  g_assert_cmpstr (flushed->pdata[0], ==, "kept");
  g_assert_cmpuint (count_all_files (fixture->inbox_dir), ==, 1);

  /* three complete messages and one begun, never flushed */
  deliver_one (download, "lost1", text, 0, FALSE);
  deliver_one (download, "lost2", text, LB_MESSAGE_SEEN, FALSE);
  deliver_one (download, "lost3", text, 0, FALSE);
  lb_store_download_begin (download, "lost4", 1700000000, 0, FALSE);
  lb_store_download_write (download, (const guint8 *) text, 100);
  /* wait till they are in their files, so that close has some to remove */
  lb_store_download_wait_async (download, 0, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_download_wait_finish (download, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (fixture->inbox_dir, "tmp"), ==, 4);
  lb_store_download_close (download);

  inbox = get_folder (fixture->store, fixture->inbox->id);
  g_assert_cmpuint (inbox->total, ==, 1);
  g_assert_cmpuint (count_all_files (fixture->inbox_dir), ==, 1);
  g_assert_cmpint (query_int (fixture->dir, "SELECT count(*) FROM pop3_uidls"), ==, 1);

  /* closed: a flush fails */
  g_clear_pointer (&flushed, g_ptr_array_unref);
  flushed = flush (download, &error);
  g_assert_null (flushed);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
}

/* The caller can keep the bytes waiting for the writer in bounds. */
static void
test_download_backpressure (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(LbStoreDownload) download = lb_store_download_new (fixture->store, fixture->inbox->id);
  g_autoptr(GPtrArray) flushed = NULL;
  g_autofree char *line = g_strnfill (998, 'x');
  guint64 max_seen = 0;
  guint waits = 0;

  lb_store_download_begin (download, "huge", 1700000000, 0, FALSE);
  lb_store_download_write (download, (const guint8 *) "Subject: huge\r\n\r\n", 17);
  for (guint i = 0; i < 64 * 1024; i++)   /* 64 MiB */
    {
      lb_store_download_write (download, (const guint8 *) line, 998);
      lb_store_download_write (download, (const guint8 *) "\r\n", 2);
      max_seen = MAX (max_seen, lb_store_download_get_backlog (download));
      if (lb_store_download_get_backlog (download) > 4 * 1024 * 1024)
        {
          g_autoptr(GAsyncResult) result = NULL;
          g_autoptr(GError) error = NULL;

          lb_store_download_wait_async (download, 1024 * 1024, NULL, lb_test_store_result, &result);
          lb_test_wait (&result);
          g_assert_true (lb_store_download_wait_finish (download, result, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (lb_store_download_get_backlog (download), <=, 1024 * 1024);
          waits++;
        }
    }
  lb_store_download_end (download);
  g_test_message ("backlog at most %" G_GUINT64_FORMAT " bytes, %u waits", max_seen, waits);
  g_assert_cmpuint (max_seen, <=, 4 * 1024 * 1024 + 1000);
  flushed = flush_ok (download);
  g_assert_cmpuint (flushed->len, ==, 1);
  g_assert_cmpuint (lb_store_download_get_backlog (download), ==, 0);
  {
    g_autoptr(GHashTable) uidls = list_uidls (fixture->store);
    g_autoptr(LbMessageSummary) summary = get_message (fixture->store, lookup_uidl (uidls, "huge")->key);

    g_assert_cmpint (summary->size, ==, 17 + 64 * 1024 * 1000);
  }
  lb_store_download_close (download);
}

/* A write that fails (the file may not grow: as a full disk would) fails
 * the download: what was flushed stays, the message that failed and
 * those after leave neither rows nor files, later calls report it. */
static void
test_download_write_error (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autofree char *small = make_message (5, 1000);
  g_autofree char *large = make_message (6, 3 * 1024 * 1024);
  g_autoptr(LbStoreDownload) download = lb_store_download_new (fixture->store, fixture->inbox->id);
  g_autoptr(GPtrArray) flushed = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbFolderInfo) inbox = NULL;
  struct rlimit old_limit, limit;
  void (*old_handler) (int);

  deliver_one (download, "before", small, 0, FALSE);
  flushed = flush_ok (download);
  g_assert_cmpuint (flushed->len, ==, 1);
  g_clear_pointer (&flushed, g_ptr_array_unref);

  /* files may not grow past 2 MiB (EFBIG, not SIGXFSZ); the database
   * stays far smaller */
  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
  limit = old_limit;
  limit.rlim_cur = 2 * 1024 * 1024;
  old_handler = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);

  deliver_one (download, "fits", small, 0, FALSE);
  deliver_one (download, "too-large", large, 0, FALSE);
  deliver_one (download, "after", small, 0, FALSE);
  lb_store_download_wait_async (download, 0, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_false (lb_store_download_wait_finish (download, result, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_clear_object (&result);

  flushed = flush (download, &error);
  g_assert_null (flushed);
  g_assert_nonnull (error);
  g_clear_error (&error);

  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &old_limit), ==, 0);
  signal (SIGXFSZ, old_handler);

  inbox = get_folder (fixture->store, fixture->inbox->id);
  g_assert_cmpuint (inbox->total, ==, 1);
  g_assert_cmpuint (count_all_files (fixture->inbox_dir), ==, 1);
  lb_store_download_close (download);
  g_assert_cmpuint (count_all_files (fixture->inbox_dir), ==, 1);
  g_assert_cmpint (query_int (fixture->dir, "SELECT count(*) FROM pop3_uidls"), ==, 1);
}

/* Listing the UIDLs of a large mailbox left on the server is quick: it
 * runs on every check for new mail. */
static void
test_download_list_many (Fixture       *fixture,
                         gconstpointer  data)
{
  const guint n = 100000;
  g_autoptr(GHashTable) uidls = NULL;
  gint64 start, elapsed;

  exec_sql (fixture->dir,
            "WITH RECURSIVE k (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 100000)"
            " INSERT INTO pop3_uidls (uidl, key, first_seen)"
            "  SELECT printf ('%08X%08X', i, i * 7919), i, 1700000000 FROM k;");

  for (guint round = 0; round < 3; round++)
    {
      g_clear_pointer (&uidls, g_hash_table_unref);
      start = g_get_monotonic_time ();
      uidls = list_uidls (fixture->store);
      elapsed = g_get_monotonic_time () - start;
      g_test_message ("listed %u POP3 UIDLs in %.1f ms", g_hash_table_size (uidls), elapsed / 1000.0);
    }
  g_assert_cmpuint (g_hash_table_size (uidls), ==, n);
  g_assert_cmpint (lookup_uidl (uidls, "0000000100001EEF")->key, ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_func ("/store-download/migrate-from-v6", test_download_migrate_from_v6);
  g_test_add ("/store-download/stream", Fixture, NULL, fixture_set_up, test_download_stream, fixture_tear_down);
  g_test_add ("/store-download/twice", Fixture, NULL, fixture_set_up, test_download_twice, fixture_tear_down);
  g_test_add ("/store-download/move-delete", Fixture, NULL, fixture_set_up, test_download_move_delete, fixture_tear_down);
  g_test_add ("/store-download/partial-then-full", Fixture, NULL, fixture_set_up, test_download_partial_then_full, fixture_tear_down);
  g_test_add ("/store-download/abort-and-close", Fixture, NULL, fixture_set_up, test_download_abort_and_close, fixture_tear_down);
  g_test_add ("/store-download/backpressure", Fixture, NULL, fixture_set_up, test_download_backpressure, fixture_tear_down);
  g_test_add ("/store-download/write-error", Fixture, NULL, fixture_set_up, test_download_write_error, fixture_tear_down);
  g_test_add ("/store-download/list-many", Fixture, NULL, fixture_set_up, test_download_list_many, fixture_tear_down);

  return g_test_run ();
}
