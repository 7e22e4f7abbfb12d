/* test-message-list.c: LbMessageList, the lazy list of a folder's messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <gmime/gmime.h>
#include <glib/gstdio.h>

#include "lb-message.h"
#include "lb-message-list.h"
#include "lb-test-session.h"

typedef struct
{
  guint position;
  guint removed;
  guint added;
} Signal;

typedef struct
{
  char          *dir;
  LbStore       *store;
  gint64         folder_id;
  LbMessageList *list;
  GArray        *signals;
} Fixture;


static LbStore *
open_store (const char *dir)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbStore *store;

  lb_store_open_async (dir, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  store = lb_store_open_finish (result, &error);
  g_assert_no_error (error);
  return store;
}


static gint64
make_folder (LbStore    *store,
             const char *path)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbFolderInfo) info = NULL;

  lb_store_ensure_folder_async (store, path, "/", LB_FOLDER_ROLE_INBOX, FALSE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  info = lb_store_ensure_folder_finish (store, result, &error);
  g_assert_no_error (error);
  return info->id;
}

/* messages uid first..first+n-1, the date growing with the uid */
static GPtrArray *
add_messages (LbStore *store,
              gint64   folder_id,
              guint    first,
              guint    n,
              gint64   base_date)
{
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *added;

  for (guint i = first; i < first + n; i++)
    {
      LbMessageSummary *summary = lb_message_summary_new ();

      summary->uid = i;
      summary->date = base_date + (gint64) i * 60;
      summary->subject = g_strdup_printf ("Message %u", i);
      summary->from = g_strdup ("sender@example.test");
      g_ptr_array_add (summaries, summary);
    }
  lb_store_add_summaries_async (store, folder_id, summaries, NULL, LB_STORE_WRITE_NONE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  added = lb_store_add_summaries_finish (store, result, &error);
  g_assert_no_error (error);
  return added;
}

static void
on_items_changed (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Fixture    *fixture)
{
  Signal signal = { position, removed, added };

  g_array_append_val (fixture->signals, signal);
}

static void
fetch (LbMessageList *list,
       guint          position,
       guint          n)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_message_list_fetch_async (list, position, n, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_message_list_fetch_finish (list, result, &error));
  g_assert_no_error (error);
}

/* Lets the list catch up with the store. */
static void
settle (LbMessageList *list)
{
  while (lb_message_list_is_busy (list))
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
load (LbMessageList *list)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_message_list_load_async (list, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_message_list_load_finish (list, result, &error));
  g_assert_no_error (error);
}

static const char *
subject_at (GListModel *model,
            guint       position)
{
  g_autoptr(LbMessage) message = g_list_model_get_item (model, position);
  const char *subject;

  g_assert_nonnull (message);
  g_assert_true (lb_message_get_loaded (message));
  subject = lb_message_get_subject (message);
  /* the list holds the row, so the string outlives our reference */
  return subject;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) added = NULL;

  fixture->dir = g_dir_make_tmp ("lb-list-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->store = open_store (fixture->dir);
  fixture->folder_id = make_folder (fixture->store, "INBOX");
  added = add_messages (fixture->store, fixture->folder_id, 1, 5000, 1600000000);

  fixture->signals = g_array_new (FALSE, FALSE, sizeof (Signal));
  fixture->list = lb_message_list_new ();
  lb_message_list_add_folder (fixture->list, fixture->store, fixture->folder_id);
  g_signal_connect (fixture->list, "items-changed", G_CALLBACK (on_items_changed), fixture);
  load (fixture->list);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  settle (fixture->list);
  g_assert_finalize_object (fixture->list);
  lb_test_finalize_store (fixture->store);
  lb_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_array_unref (fixture->signals);
}

static void
assert_signal (Fixture *fixture,
               guint    index,
               guint    position,
               guint    removed,
               guint    added)
{
  Signal *signal;

  g_assert_cmpuint (fixture->signals->len, >, index);
  signal = &g_array_index (fixture->signals, Signal, index);
  g_assert_cmpuint (signal->position, ==, position);
  g_assert_cmpuint (signal->removed, ==, removed);
  g_assert_cmpuint (signal->added, ==, added);
}

static void
test_list_pages (Fixture       *fixture,
                 gconstpointer  data)
{
  GListModel *model = G_LIST_MODEL (fixture->list);
  g_autoptr(LbMessage) first = NULL;

  /* loading says how long the list is, once */
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 5000);
  g_assert_cmpuint (fixture->signals->len, ==, 1);
  assert_signal (fixture, 0, 0, 0, 5000);
  g_assert_true (g_list_model_get_item_type (model) == LB_TYPE_MESSAGE);
  g_assert_null (g_list_model_get_item (model, 5000));

  /* a row is handed out at once, and fills in */
  first = g_list_model_get_item (model, 0);
  g_assert_false (lb_message_get_loaded (first));
  settle (fixture->list);
  g_assert_true (lb_message_get_loaded (first));
  g_assert_cmpstr (lb_message_get_subject (first), ==, "Message 5000");

  /* newest first, deep in the list too */
  fetch (fixture->list, 2500, 100);
  g_assert_cmpstr (subject_at (model, 2500), ==, "Message 2500");
  g_assert_cmpstr (subject_at (model, 2599), ==, "Message 2401");
  fetch (fixture->list, 4900, 100);
  g_assert_cmpstr (subject_at (model, 4999), ==, "Message 1");

  /* only a window is kept in memory */
  g_assert_cmpuint (lb_message_list_get_n_resident (fixture->list), <=, LB_MESSAGE_LIST_MAX_RESIDENT);
  for (guint p = 0; p < 5000; p += 37)
    {
      g_autoptr(LbMessage) message = g_list_model_get_item (model, p);
    }
  settle (fixture->list);
  g_assert_cmpuint (lb_message_list_get_n_resident (fixture->list), <=, LB_MESSAGE_LIST_MAX_RESIDENT);
  /* and nothing there made the list change */
  g_assert_cmpuint (fixture->signals->len, ==, 1);
}

typedef struct
{
  LbMessage    *later;          /* a row of a page asked for after the first */
  gboolean      first_loaded;
  gboolean      painted;        /* a "frame" ran after the first page filled */
  gboolean      later_loaded_then;
  LbStore      *store;
  gint64        other_folder;
  GPtrArray    *burden;         /* summaries for another folder */
  GAsyncResult *written;
} FirstPage;

/* what a toolkit's frame would see: it runs below the default priority of
 * the pages' replies (GDK paints at G_PRIORITY_HIGH_IDLE + 20) */
static gboolean
frame_cb (gpointer data)
{
  FirstPage *check = data;

  check->painted = TRUE;
  check->later_loaded_then = lb_message_get_loaded (check->later);
  return G_SOURCE_REMOVE;
}

static void
first_loaded_cb (LbMessage  *first,
                 GParamSpec *pspec,
                 FirstPage  *check)
{
  if (check->first_loaded || !lb_message_get_loaded (first))
    return;
  check->first_loaded = TRUE;
  g_idle_add_full (G_PRIORITY_HIGH_IDLE + 20, frame_cb, check, NULL);
  /* the store's writer is busy for a while from now (another folder's
   * mail): a page read asked for after this waits for it, a page read
   * asked for before has answered already */
  lb_store_add_summaries_async (check->store, check->other_folder, check->burden, NULL, LB_STORE_WRITE_NONE,
                                NULL, lb_test_store_result, &check->written);
}

/* The rows a list view binds at once span several pages: the first one
 * asked for fills in alone, and a frame can show it before the pages
 * below it are read and filled in (all at once, they would all be laid
 * out before that first frame). */
static void
test_list_first_page_first (Fixture       *fixture,
                            gconstpointer  data)
{
  GListModel *model = G_LIST_MODEL (fixture->list);
  g_autoptr(LbMessage) first = NULL;
  g_autoptr(LbMessage) second = NULL;
  g_autoptr(LbMessage) third = NULL;
  g_autoptr(GPtrArray) burden = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GError) error = NULL;
  FirstPage check = { NULL, FALSE, FALSE, FALSE, fixture->store, 0, burden, NULL };

  check.other_folder = make_folder (fixture->store, "Other");
  for (guint i = 1; i <= 5000; i++)
    {
      LbMessageSummary *summary = lb_message_summary_new ();

      summary->uid = i;
      summary->date = 1700000000 + (gint64) i;
      summary->subject = g_strdup_printf ("Other %u", i);
      g_ptr_array_add (burden, summary);
    }
  /* rows of three pages, asked for at once as a list view does */
  first = g_list_model_get_item (model, 0);
  second = g_list_model_get_item (model, LB_MESSAGE_LIST_PAGE_SIZE + 1);
  third = g_list_model_get_item (model, 2 * LB_MESSAGE_LIST_PAGE_SIZE + 1);
  check.later = third;
  g_assert_false (lb_message_get_loaded (first));
  g_signal_connect (first, "notify::loaded", G_CALLBACK (first_loaded_cb), &check);
  /* time for the store to answer every read already asked for */
  g_usleep (300 * 1000);
  settle (fixture->list);
  while (!check.painted)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (check.first_loaded);
  g_assert_false (check.later_loaded_then);
  /* and the others follow */
  g_assert_true (lb_message_get_loaded (second));
  g_assert_true (lb_message_get_loaded (third));
  g_assert_cmpstr (lb_message_get_subject (third), ==, "Message 4799");
  g_signal_handlers_disconnect_by_func (first, first_loaded_cb, &check);
  lb_test_wait (&check.written);
  added = lb_store_add_summaries_finish (fixture->store, check.written, &error);
  g_assert_no_error (error);
  g_clear_object (&check.written);
}

static void
count_notify (guint *count)
{
  (*count)++;
}

static void
test_list_follows_store (Fixture       *fixture,
                         gconstpointer  data)
{
  GListModel *model = G_LIST_MODEL (fixture->list);
  g_autoptr(GPtrArray) newest = NULL;
  g_autoptr(GPtrArray) older = NULL;
  g_autoptr(GPtrArray) many = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(LbMessage) row = NULL;
  g_autoptr(LbMessageSummary) summary = NULL;
  guint notified = 0;

  fetch (fixture->list, 0, 200);
  g_array_set_size (fixture->signals, 0);

  /* new mail arrives on top: one row inserted at 0 */
  newest = add_messages (fixture->store, fixture->folder_id, 9001, 1, 1600000000);
  settle (fixture->list);
  g_assert_cmpuint (fixture->signals->len, ==, 1);
  assert_signal (fixture, 0, 0, 0, 1);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 5001);
  fetch (fixture->list, 0, 3);
  g_assert_cmpstr (subject_at (model, 0), ==, "Message 9001");
  g_assert_cmpstr (subject_at (model, 1), ==, "Message 5000");

  /* an old message turns up: it goes where its date puts it */
  older = add_messages (fixture->store, fixture->folder_id, 0, 1, 1600000000 - 7 * 86400);
  settle (fixture->list);
  g_assert_cmpuint (fixture->signals->len, ==, 2);
  assert_signal (fixture, 1, 5001, 0, 1);

  /* one deleted from the middle: that row goes */
  g_array_append_val (keys, ((LbMessageSummary *) newest->pdata[0])->key);
  {
    /* Message 4990 sits at 11 now */
    g_autoptr(GPtrArray) rows = NULL;

    lb_store_list_messages_async (fixture->store, fixture->folder_id, 11, 1, NULL, lb_test_store_result, &result);
    lb_test_wait (&result);
    rows = lb_store_list_messages_finish (fixture->store, result, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (((LbMessageSummary *) rows->pdata[0])->subject, ==, "Message 4990");
    g_array_index (keys, gint64, 0) = ((LbMessageSummary *) rows->pdata[0])->key;
    g_clear_object (&result);
  }
  lb_store_delete_messages_async (fixture->store, keys, LB_STORE_WRITE_NONE, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_delete_messages_finish (fixture->store, result, &error));
  g_clear_object (&result);
  settle (fixture->list);
  g_assert_cmpuint (fixture->signals->len, ==, 3);
  assert_signal (fixture, 2, 11, 1, 0);
  g_assert_cmpstr (subject_at (model, 10), ==, "Message 4991");
  g_assert_cmpstr (subject_at (model, 11), ==, "Message 4989");

  /* a flag changes: no row moves, the row tells its watchers */
  row = g_list_model_get_item (model, 3);
  g_assert_true (lb_message_get_unread (row));
  g_signal_connect_swapped (row, "notify::unread", G_CALLBACK (count_notify), &notified);
  g_array_index (keys, gint64, 0) = lb_message_get_key (row);
  lb_store_set_flags_async (fixture->store, keys, LB_MESSAGE_SEEN, 0, LB_STORE_WRITE_NONE, NULL,
                            lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_set_flags_finish (fixture->store, result, &error));
  g_clear_object (&result);
  settle (fixture->list);
  g_assert_cmpuint (fixture->signals->len, ==, 3);
  g_assert_false (lb_message_get_unread (row));
  g_assert_cmpuint (notified, ==, 1);

  /* an import: one reset rather than hundreds of signals */
  many = add_messages (fixture->store, fixture->folder_id, 10000, 500, 1600000000);
  settle (fixture->list);
  g_assert_cmpuint (fixture->signals->len, ==, 4);
  assert_signal (fixture, 3, 0, 5001, 5501);
  fetch (fixture->list, 0, 1);
  g_assert_cmpstr (subject_at (model, 0), ==, "Message 10499");
}

static void
test_list_unified (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir_a = g_dir_make_tmp ("lb-list-a-XXXXXX", &error);
  g_autofree char *dir_b = g_dir_make_tmp ("lb-list-b-XXXXXX", &error);
  LbStore *a = open_store (dir_a);
  LbStore *b = open_store (dir_b);
  gint64 inbox_a = make_folder (a, "INBOX");
  gint64 inbox_b = make_folder (b, "INBOX");
  g_autoptr(GPtrArray) added_a = add_messages (a, inbox_a, 1, 300, 1600000000);
  g_autoptr(GPtrArray) added_b = add_messages (b, inbox_b, 1, 300, 1600000030);
  g_autoptr(GPtrArray) more = NULL;
  LbMessageList *list = lb_message_list_new ();
  GListModel *model = G_LIST_MODEL (list);
  gint64 last = G_MAXINT64;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  lb_message_list_add_folder (list, a, inbox_a);
  lb_message_list_add_folder (list, b, inbox_b);
  load (list);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 600);

  /* both accounts, interleaved by date */
  for (guint p = 0; p < 600; p += 100)
    fetch (list, p, 100);
  for (guint p = 0; p < 600; p++)
    {
      g_autoptr(LbMessage) message = g_list_model_get_item (model, p);
      g_autofree char *id = NULL;

      g_assert_true (lb_message_get_loaded (message));
      g_assert_cmpint (lb_message_get_date (message), <=, last);
      last = lb_message_get_date (message);
      /* every message of both accounts exactly once */
      id = g_strdup_printf ("%p/%" G_GINT64_FORMAT, lb_message_get_store (message),
                            lb_message_get_key (message));
      g_assert_true (g_hash_table_add (seen, g_steal_pointer (&id)));
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, 600);
  fetch (list, 0, 2);
  {
    g_autoptr(LbMessage) m0 = g_list_model_get_item (model, 0);
    g_autoptr(LbMessage) m1 = g_list_model_get_item (model, 1);

    g_assert_cmpint (lb_message_get_date (m0), ==, 1600000030 + 300 * 60);
    g_assert_cmpint (lb_message_get_date (m1), ==, 1600000000 + 300 * 60);
  }

  /* a flag changes in one account: only that account's row changes,
   * though the other has a message with the same key */
  {
    gint64 key = ((LbMessageSummary *) added_a->pdata[299])->key;
    g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(LbMessage) row_b = NULL;
    g_autoptr(LbMessage) row_a = NULL;

    g_assert_cmpint (key, ==, ((LbMessageSummary *) added_b->pdata[299])->key);
    row_b = g_list_model_get_item (model, 0);
    row_a = g_list_model_get_item (model, 1);
    g_assert_true (lb_message_get_store (row_a) == a);
    g_assert_true (lb_message_get_store (row_b) == b);
    g_array_append_val (keys, key);
    lb_store_set_flags_async (a, keys, LB_MESSAGE_SEEN, 0, LB_STORE_WRITE_NONE, NULL,
                              lb_test_store_result, &result);
    lb_test_wait (&result);
    g_assert_true (lb_store_set_flags_finish (a, result, &error));
    settle (list);
    g_assert_false (lb_message_get_unread (row_a));
    g_assert_true (lb_message_get_unread (row_b));
    g_assert_true (lb_message_get_store (row_b) == b);
  }

  /* new mail in either account shows up in place */
  more = add_messages (a, inbox_a, 301, 1, 1600000000);
  settle (list);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 601);
  fetch (list, 0, 1);
  g_assert_cmpstr (subject_at (model, 0), ==, "Message 301");

  settle (list);
  g_assert_finalize_object (list);
  lb_test_finalize_store (a);
  lb_test_finalize_store (b);
  lb_test_remove_tree (dir_a);
  lb_test_remove_tree (dir_b);
}

static guint
store_total (LbStore *store,
             gint64   folder_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbFolderInfo) info = NULL;

  lb_store_get_folder_async (store, folder_id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  info = lb_store_get_folder_finish (store, result, &error);
  g_assert_no_error (error);
  return info->total;
}

/* Mail that arrives while the list is being set up or loaded is counted
 * once, never twice: every row the list has is one the store has. */
static void
test_list_changes_while_loading (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lb-list-XXXXXX", &error);
  LbStore *store = open_store (dir);
  gint64 inbox = make_folder (store, "INBOX");
  g_autoptr(GPtrArray) first = add_messages (store, inbox, 1, 10, 1600000000);

  for (guint round = 0; round < 20; round++)
    {
      g_autoptr(LbMessageList) list = lb_message_list_new ();
      g_autoptr(GPtrArray) before = NULL;
      g_autoptr(GPtrArray) more = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
      g_autoptr(GAsyncResult) added = NULL;
      g_autoptr(GAsyncResult) loaded = NULL;
      g_autoptr(GPtrArray) rows = NULL;
      guint n;

      lb_message_list_add_folder (list, store, inbox);
      /* announced before the load starts */
      before = add_messages (store, inbox, 1000 + round * 10, 1, 1600000000);

      /* and one racing the load */
      for (guint i = 0; i < 3; i++)
        {
          LbMessageSummary *summary = lb_message_summary_new ();

          summary->uid = 5000 + round * 10 + i;
          summary->date = 1700000000 + i;
          summary->subject = g_strdup ("racing");
          g_ptr_array_add (more, summary);
        }
      lb_store_add_summaries_async (store, inbox, more, NULL, LB_STORE_WRITE_NONE, NULL,
                                    lb_test_store_result, &added);
      lb_message_list_load_async (list, NULL, lb_test_store_result, &loaded);
      lb_test_wait (&added);
      lb_test_wait (&loaded);
      g_assert_true (lb_message_list_load_finish (list, loaded, &error));
      rows = lb_store_add_summaries_finish (store, added, &error);
      g_assert_no_error (error);
      settle (list);

      n = g_list_model_get_n_items (G_LIST_MODEL (list));
      g_assert_cmpuint (n, ==, store_total (store, inbox));
      fetch (list, 0, n);
      for (guint p = 0; p < n; p++)
        {
          g_autoptr(LbMessage) message = g_list_model_get_item (G_LIST_MODEL (list), p);

          g_assert_true (lb_message_get_loaded (message));
        }
      settle (list);
    }

  lb_test_finalize_store (store);
  lb_test_remove_tree (dir);
}

/* Another program (letterbox-cli beside the app) deletes mail through its
 * own store: this list is not told, but it must not wait for rows that
 * are gone. */
static void
test_list_store_changed_elsewhere (Fixture       *fixture,
                                   gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  LbStore *other = open_store (fixture->dir);

  lb_store_list_messages_async (other, fixture->folder_id, 0, 150, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  rows = lb_store_list_messages_finish (other, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  for (guint i = 0; i < rows->len; i++)
    g_array_append_val (keys, ((LbMessageSummary *) rows->pdata[i])->key);
  lb_store_delete_messages_async (other, keys, LB_STORE_WRITE_NONE, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_delete_messages_finish (other, result, &error));
  g_clear_object (&result);

  /* the list still thinks it has 5000; the last page is short */
  fetch (fixture->list, 4900, 100);
  settle (fixture->list);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->list)), ==, 4850);

  lb_test_finalize_store (other);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add ("/message-list/pages", Fixture, NULL, fixture_set_up, test_list_pages, fixture_tear_down);
  g_test_add ("/message-list/follows-store", Fixture, NULL, fixture_set_up, test_list_follows_store, fixture_tear_down);
  g_test_add ("/message-list/first-page-first", Fixture, NULL, fixture_set_up, test_list_first_page_first,
              fixture_tear_down);
  g_test_add_func ("/message-list/unified", test_list_unified);
  g_test_add_func ("/message-list/changes-while-loading", test_list_changes_while_loading);
  g_test_add ("/message-list/store-changed-elsewhere", Fixture, NULL, fixture_set_up,
              test_list_store_changed_elsewhere, fixture_tear_down);

  return g_test_run ();
}
