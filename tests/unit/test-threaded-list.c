/* test-threaded-list.c: LbMessageList in threaded mode, a row per
 * conversation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "lb-message.h"
#include "lb-message-list.h"
#include "lb-test-session.h"

#define N_THREADS 300
#define BASE_DATE 1600000000

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
  gint64         roots[N_THREADS];
  gint64         replies[N_THREADS];   /* 0: none */
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

  lb_store_ensure_folder_async (store, path, "/", LB_FOLDER_ROLE_NONE, FALSE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  info = lb_store_ensure_folder_finish (store, result, &error);
  g_assert_no_error (error);
  return info->id;
}

static LbMessageSummary *
make_summary (guint32     uid,
              gint64      date,
              const char *message_id,
              const char *parent,
              guint       flags)
{
  LbMessageSummary *summary = lb_message_summary_new ();

  summary->uid = uid;
  summary->date = date;
  summary->message_id = g_strdup (message_id);
  summary->in_reply_to = g_strdup (parent);
  summary->references = g_strdup (parent);
  summary->subject = g_strdup_printf ("Message %u", uid);
  summary->from = g_strdup ("Bo <bo@example.test>");
  summary->flags = flags;
  return summary;
}

static GPtrArray *
add_summaries (LbStore   *store,
               gint64     folder_id,
               GPtrArray *summaries)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *added;

  lb_store_add_summaries_async (store, folder_id, summaries, NULL, LB_STORE_WRITE_NONE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  added = lb_store_add_summaries_finish (store, result, &error);
  g_assert_no_error (error);
  return added;
}

static gint64
add_one (LbStore    *store,
         gint64      folder_id,
         guint32     uid,
         gint64      date,
         const char *message_id,
         const char *parent,
         guint       flags)
{
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) added = NULL;

  g_ptr_array_add (summaries, make_summary (uid, date, message_id, parent, flags));
  added = add_summaries (store, folder_id, summaries);
  return ((LbMessageSummary *) added->pdata[0])->key;
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
settle (LbMessageList *list)
{
  while (lb_message_list_is_busy (list))
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
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

static LbMessage *
item (LbMessageList *list,
      guint          position)
{
  LbMessage *message = g_list_model_get_item (G_LIST_MODEL (list), position);

  g_assert_nonnull (message);
  g_assert_true (lb_message_get_loaded (message));
  return message;
}

/* Every row of the list is the store's conversation at that place, with
 * its counts. */
static void
assert_matches_store (LbMessageList *list,
                      LbStore       *store,
                      gint64         folder_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (list));

  lb_store_list_conversations_async (store, folder_id, 0, 10000, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  rows = lb_store_list_conversations_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, n);

  for (guint start = 0; start < n; start += 500)
    {
      fetch (list, start, 500);
      for (guint i = start; i < MIN (n, start + 500); i++)
        {
          g_autoptr(LbMessage) message = item (list, i);
          LbStoreConversation *conversation = rows->pdata[i];

          g_assert_cmpint (lb_message_get_key (message), ==, conversation->newest->key);
          g_assert_cmpuint (lb_message_get_n_messages (message), ==, conversation->n_messages);
          g_assert_cmpuint (lb_message_get_n_unread (message), ==, conversation->n_unread);
          g_assert_true (lb_message_get_unread (message) == (conversation->n_unread > 0));
          g_assert_true (lb_message_get_flagged (message) == (conversation->n_flagged > 0));
        }
    }
}

/* N_THREADS threads, thread i dated BASE_DATE + i * 100 (the newest
 * last); every third has an unread reply 50 s after its read root. */
static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) roots = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) replies = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) added_roots = NULL;
  g_autoptr(GPtrArray) added_replies = NULL;

  fixture->dir = g_dir_make_tmp ("lb-threaded-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->store = open_store (fixture->dir);
  fixture->folder_id = make_folder (fixture->store, "INBOX");

  for (guint i = 0; i < N_THREADS; i++)
    {
      g_autofree char *id = g_strdup_printf ("root-%u@example.test", i);

      g_ptr_array_add (roots, make_summary (i + 1, BASE_DATE + i * 100, id, NULL, LB_MESSAGE_SEEN));
      if (i % 3 == 0)
        {
          g_autofree char *reply = g_strdup_printf ("reply-%u@example.test", i);

          g_ptr_array_add (replies, make_summary (1000 + i, BASE_DATE + i * 100 + 50, reply, id, 0));
        }
    }
  added_roots = add_summaries (fixture->store, fixture->folder_id, roots);
  added_replies = add_summaries (fixture->store, fixture->folder_id, replies);
  for (guint i = 0; i < N_THREADS; i++)
    {
      fixture->roots[i] = ((LbMessageSummary *) added_roots->pdata[i])->key;
      fixture->replies[i] = i % 3 == 0 ? ((LbMessageSummary *) added_replies->pdata[i / 3])->key : 0;
    }

  fixture->signals = g_array_new (FALSE, FALSE, sizeof (Signal));
  fixture->list = lb_message_list_new_threaded ();
  g_assert_true (lb_message_list_get_threaded (fixture->list));
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

/* the place of thread i in the list as set up: newest first */
static guint
place_of (guint i)
{
  return N_THREADS - 1 - i;
}

static void
test_rows (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(LbMessage) top = NULL;
  g_autoptr(LbMessage) second = NULL;
  g_autoptr(LbMessage) third = NULL;

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->list)), ==, N_THREADS);
  g_assert_cmpuint (fixture->signals->len, ==, 1);
  assert_signal (fixture, 0, 0, 0, N_THREADS);

  fetch (fixture->list, 0, 3);
  /* thread 299: a root alone, read */
  top = item (fixture->list, 0);
  g_assert_cmpint (lb_message_get_key (top), ==, fixture->roots[299]);
  g_assert_cmpuint (lb_message_get_n_messages (top), ==, 1);
  g_assert_false (lb_message_get_unread (top));
  /* thread 297: the unread reply is the newest, the row is unread */
  third = item (fixture->list, 2);
  g_assert_cmpint (lb_message_get_key (third), ==, fixture->replies[297]);
  g_assert_cmpuint (lb_message_get_n_messages (third), ==, 2);
  g_assert_cmpuint (lb_message_get_n_unread (third), ==, 1);
  g_assert_true (lb_message_get_unread (third));
  second = item (fixture->list, 1);
  g_assert_cmpint (lb_message_get_key (second), ==, fixture->roots[298]);

  /* across the page boundaries, the whole list */
  assert_matches_store (fixture->list, fixture->store, fixture->folder_id);
  g_assert_cmpuint (lb_message_list_get_n_resident (fixture->list), <=, LB_MESSAGE_LIST_MAX_RESIDENT);
  g_assert_cmpuint (fixture->signals->len, ==, 1);
}

static void
test_reply_moves_to_top (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(LbMessage) top = NULL;
  g_autoptr(LbMessage) row5 = NULL;
  g_autoptr(LbMessage) row5_after = NULL;
  gint64 reply;

  fetch (fixture->list, 0, 400);
  row5 = item (fixture->list, 5);
  g_array_set_size (fixture->signals, 0);

  /* a reply to thread 10 (at 289), newer than everything */
  reply = add_one (fixture->store, fixture->folder_id, 5000, BASE_DATE + 1000000, "late@example.test",
                   "root-10@example.test", 0);
  settle (fixture->list);

  /* one removal at its old place, one insertion at the top */
  g_assert_cmpuint (fixture->signals->len, ==, 2);
  assert_signal (fixture, 0, place_of (10), 1, 0);
  assert_signal (fixture, 1, 0, 0, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->list)), ==, N_THREADS);

  fetch (fixture->list, 0, 10);
  top = item (fixture->list, 0);
  g_assert_cmpint (lb_message_get_key (top), ==, reply);
  g_assert_cmpuint (lb_message_get_n_messages (top), ==, 2);
  g_assert_true (lb_message_get_unread (top));
  /* the rows between moved down by one, and are the same rows */
  row5_after = item (fixture->list, 6);
  g_assert_true (row5_after == row5);

  assert_matches_store (fixture->list, fixture->store, fixture->folder_id);
}

static void
count_notify (guint *count)
{
  (*count)++;
}

static void
set_flags (LbStore *store,
           gint64   key,
           guint    add,
           guint    remove)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_array_append_val (keys, key);
  lb_store_set_flags_async (store, keys, add, remove, LB_STORE_WRITE_NONE, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_set_flags_finish (store, result, &error));
  g_assert_no_error (error);
}

static void
delete_message (LbStore *store,
                gint64   key)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_array_append_val (keys, key);
  lb_store_delete_messages_async (store, keys, LB_STORE_WRITE_NONE, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_delete_messages_finish (store, result, &error));
  g_assert_no_error (error);
}

/* Flags of a message that is not the newest change the row in place. */
static void
test_flags_in_place (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(LbMessage) row = NULL;
  guint flagged_notified = 0, unread_notified = 0;

  fetch (fixture->list, 0, 100);
  row = item (fixture->list, place_of (294));
  g_assert_cmpint (lb_message_get_key (row), ==, fixture->replies[294]);
  g_assert_false (lb_message_get_flagged (row));
  g_assert_true (lb_message_get_unread (row));
  g_signal_connect_swapped (row, "notify::flagged", G_CALLBACK (count_notify), &flagged_notified);
  g_signal_connect_swapped (row, "notify::unread", G_CALLBACK (count_notify), &unread_notified);
  g_array_set_size (fixture->signals, 0);

  set_flags (fixture->store, fixture->roots[294], LB_MESSAGE_FLAGGED, 0);
  settle (fixture->list);
  g_assert_cmpuint (fixture->signals->len, ==, 0);
  g_assert_true (lb_message_get_flagged (row));
  g_assert_cmpuint (flagged_notified, ==, 1);
  g_assert_cmpuint (unread_notified, ==, 0);

  /* reading the reply: the conversation is read */
  set_flags (fixture->store, fixture->replies[294], LB_MESSAGE_SEEN, 0);
  settle (fixture->list);
  g_assert_cmpuint (fixture->signals->len, ==, 0);
  g_assert_false (lb_message_get_unread (row));
  g_assert_cmpuint (lb_message_get_n_unread (row), ==, 0);
  g_assert_cmpuint (unread_notified, ==, 1);
  assert_matches_store (fixture->list, fixture->store, fixture->folder_id);
}

static void
test_delete_from_conversation (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autoptr(LbMessage) row = NULL;

  fetch (fixture->list, 0, 100);
  g_array_set_size (fixture->signals, 0);

  /* the newest of thread 297 goes: the row is that of its root now, at
   * the same place */
  delete_message (fixture->store, fixture->replies[297]);
  settle (fixture->list);
  g_assert_cmpuint (fixture->signals->len, ==, 2);
  assert_signal (fixture, 0, place_of (297), 1, 0);
  assert_signal (fixture, 1, place_of (297), 0, 1);
  fetch (fixture->list, 0, 100);
  row = item (fixture->list, place_of (297));
  g_assert_cmpint (lb_message_get_key (row), ==, fixture->roots[297]);
  g_assert_cmpuint (lb_message_get_n_messages (row), ==, 1);
  g_assert_false (lb_message_get_unread (row));

  /* and its last message: the conversation is gone */
  g_array_set_size (fixture->signals, 0);
  delete_message (fixture->store, fixture->roots[297]);
  settle (fixture->list);
  g_assert_cmpuint (fixture->signals->len, ==, 1);
  assert_signal (fixture, 0, place_of (297), 1, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->list)), ==, N_THREADS - 1);
  assert_matches_store (fixture->list, fixture->store, fixture->folder_id);
}

static void
test_keys (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(LbMessage) row = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = NULL;

  fetch (fixture->list, 0, 100);
  row = item (fixture->list, place_of (297));
  lb_message_list_dup_conversation_keys_async (fixture->list, row, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  keys = lb_message_list_dup_conversation_keys_finish (fixture->list, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (keys->len, ==, 2);
  g_assert_cmpint (g_array_index (keys, gint64, 0), ==, fixture->roots[297]);
  g_assert_cmpint (g_array_index (keys, gint64, 1), ==, fixture->replies[297]);
}

/* Many changes at once, then a second burst while the list works: it
 * ends up as the store is. */
static void
test_bursts (Fixture       *fixture,
             gconstpointer  data)
{
  fetch (fixture->list, 0, 300);
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *id = g_strdup_printf ("burst-%u@example.test", i);
      g_autofree char *parent = g_strdup_printf ("root-%u@example.test", (i * 37) % N_THREADS);

      add_one (fixture->store, fixture->folder_id, 6000 + i, BASE_DATE + (gint64) ((i * 53) % N_THREADS) * 100 + 70,
               id, parent, i % 2 ? LB_MESSAGE_SEEN : 0);
      if (i % 5 == 0)
        delete_message (fixture->store, fixture->roots[(i * 11) % N_THREADS]);
    }
  settle (fixture->list);
  assert_matches_store (fixture->list, fixture->store, fixture->folder_id);
}

/* Two folders' conversations, merged by date (a unified inbox). */
static void
test_unified (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lb-threaded-XXXXXX", &error);
  g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) b = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) added_a = NULL;
  g_autoptr(GPtrArray) added_b = NULL;
  LbMessageList *list;
  LbStore *store;
  gint64 one, two;
  gint64 last_date = G_MAXINT64;

  g_assert_no_error (error);
  store = open_store (dir);
  one = make_folder (store, "One");
  two = make_folder (store, "Two");
  for (guint i = 0; i < 150; i++)
    {
      g_autofree char *id = g_strdup_printf ("a-%u@example.test", i);
      g_autofree char *reply = g_strdup_printf ("a-reply-%u@example.test", i);
      g_autofree char *bid = g_strdup_printf ("b-%u@example.test", i);

      g_ptr_array_add (a, make_summary (i + 1, BASE_DATE + i * 20, id, NULL, 0));
      g_ptr_array_add (a, make_summary (i + 1001, BASE_DATE + i * 20 + 3, reply, id, 0));
      g_ptr_array_add (b, make_summary (i + 1, BASE_DATE + i * 20 + 10, bid, NULL, 0));
    }
  added_a = add_summaries (store, one, a);
  added_b = add_summaries (store, two, b);

  list = lb_message_list_new_threaded ();
  lb_message_list_add_folder (list, store, one);
  lb_message_list_add_folder (list, store, two);
  load (list);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 300);
  /* deep pages merge the two folders' places */
  fetch (list, 150, 150);
  fetch (list, 0, 150);
  for (guint i = 0; i < 300; i++)
    {
      g_autoptr(LbMessage) message = item (list, i);

      g_assert_cmpint (lb_message_get_date (message), <, last_date);
      last_date = lb_message_get_date (message);
      g_assert_cmpuint (lb_message_get_n_messages (message), ==,
                        lb_message_get_folder_id (message) == one ? 2 : 1);
    }

  settle (list);
  g_assert_finalize_object (list);
  lb_test_finalize_store (store);
  lb_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/threaded-list/rows", Fixture, NULL, fixture_set_up, test_rows, fixture_tear_down);
  g_test_add ("/threaded-list/reply-moves-to-top", Fixture, NULL, fixture_set_up, test_reply_moves_to_top,
              fixture_tear_down);
  g_test_add ("/threaded-list/flags-in-place", Fixture, NULL, fixture_set_up, test_flags_in_place,
              fixture_tear_down);
  g_test_add ("/threaded-list/delete-from-conversation", Fixture, NULL, fixture_set_up,
              test_delete_from_conversation, fixture_tear_down);
  g_test_add ("/threaded-list/keys", Fixture, NULL, fixture_set_up, test_keys, fixture_tear_down);
  g_test_add ("/threaded-list/bursts", Fixture, NULL, fixture_set_up, test_bursts, fixture_tear_down);
  g_test_add_func ("/threaded-list/unified", test_unified);

  return g_test_run ();
}
