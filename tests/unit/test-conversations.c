/* test-conversations.c: the store's conversations (messages grouped by
 * thread, per folder)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sqlite3.h>

#include "lb-store-private.h"
#include "lb-test-session.h"

typedef struct
{
  char      *dir;
  LbStore   *store;
  gint64     inbox;
  gint64     archive;
  GPtrArray *changes;   /* LbStoreChange copies, from ::conversations-changed */
} Fixture;

static void
on_conversations_changed (LbStore   *store,
                          GPtrArray *changes,
                          Fixture   *fixture)
{
  for (guint i = 0; i < changes->len; i++)
    g_ptr_array_add (fixture->changes, g_memdup2 (changes->pdata[i], sizeof (LbStoreChange)));
}

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

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("lb-conversations-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->store = open_store_at (fixture->dir, LB_STORE_SCHEMA_VERSION, &error);
  g_assert_no_error (error);
  fixture->inbox = make_folder (fixture->store, "INBOX");
  fixture->archive = make_folder (fixture->store, "Archive");
  fixture->changes = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (fixture->store, "conversations-changed", G_CALLBACK (on_conversations_changed), fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  lb_test_finalize_store (g_steal_pointer (&fixture->store));
  lb_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_ptr_array_unref (fixture->changes);
}

/* Lets the store's signals of the writes done so far arrive. */
static void
drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static LbMessageSummary *
make_summary (guint32     uid,
              gint64      date,
              const char *message_id,
              const char *in_reply_to,
              const char *references)
{
  LbMessageSummary *summary = lb_message_summary_new ();

  summary->uid = uid;
  summary->date = date;
  summary->message_id = g_strdup (message_id);
  summary->in_reply_to = g_strdup (in_reply_to);
  summary->references = g_strdup (references);
  summary->subject = g_strdup_printf ("Message %u", uid);
  summary->from = g_strdup ("Ann <ann@example.test>");
  return summary;
}

/* Adds one message; returns its key. */
static gint64
add (Fixture     *fixture,
     gint64       folder_id,
     guint32      uid,
     gint64       date,
     const char  *message_id,
     const char  *in_reply_to,
     const char  *references,
     guint        flags)
{
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) added = NULL;
  LbMessageSummary *summary = make_summary (uid, date, message_id, in_reply_to, references);

  summary->flags = flags;
  g_ptr_array_add (summaries, summary);
  lb_store_add_summaries_async (fixture->store, folder_id, summaries, NULL, LB_STORE_WRITE_NONE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  added = lb_store_add_summaries_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (((LbMessageSummary *) added->pdata[0])->key, >, 0);
  return ((LbMessageSummary *) added->pdata[0])->key;
}

static GPtrArray *
list_conversations (LbStore *store,
                    gint64   folder_id,
                    guint    offset,
                    guint    limit)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *rows;

  lb_store_list_conversations_async (store, folder_id, offset, limit, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  rows = lb_store_list_conversations_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rows);
  return rows;
}

static guint
count_conversations (LbStore *store,
                     gint64   folder_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint count = G_MAXUINT;

  lb_store_count_conversations_async (store, folder_id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_count_conversations_finish (store, result, &count, &error));
  g_assert_no_error (error);
  return count;
}

static LbStoreConversation *
get_conversation (LbStore *store,
                  gint64   key)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbStoreConversation *conversation;

  lb_store_get_conversation_async (store, key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  conversation = lb_store_get_conversation_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (conversation);
  return conversation;
}

static GPtrArray *
conversation_messages (LbStore *store,
                       gint64   folder_id,
                       gint64   thread_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *rows;

  lb_store_list_conversation_messages_async (store, folder_id, thread_id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  rows = lb_store_list_conversation_messages_finish (store, result, &error);
  g_assert_no_error (error);
  return rows;
}

static void
set_flags (LbStore *store,
           gint64   key,
           guint    add_flags,
           guint    remove_flags)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_array_append_val (keys, key);
  lb_store_set_flags_async (store, keys, add_flags, remove_flags, LB_STORE_WRITE_NONE, NULL,
                            lb_test_store_result, &result);
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

static void
move_message (LbStore *store,
              gint64   key,
              gint64   folder_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_array_append_val (keys, key);
  lb_store_move_messages_async (store, keys, folder_id, LB_STORE_WRITE_NONE, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_store_move_messages_finish (store, result, &error));
  g_assert_no_error (error);
}

static LbStoreConversation *
row (GPtrArray *rows,
     guint      i)
{
  return rows->pdata[i];
}

static guint
count_changes (Fixture           *fixture,
               LbStoreChangeKind  kind,
               gint64             key)
{
  guint n = 0;

  for (guint i = 0; i < fixture->changes->len; i++)
    {
      LbStoreChange *change = fixture->changes->pdata[i];

      if (change->kind == kind && change->key == key)
        n++;
    }
  return n;
}

/* Two threads: a root with a reply by In-Reply-To and a reply to that by
 * References only; a second root with one reply; and a lone message. */
typedef struct
{
  gint64 a, b, c, d, e, lone;
} Threads;

static Threads
add_threads (Fixture *fixture)
{
  Threads t;

  t.a = add (fixture, fixture->inbox, 1, 1000, "a@example.test", NULL, NULL, LB_MESSAGE_SEEN);
  t.d = add (fixture, fixture->inbox, 2, 2000, "d@example.test", NULL, NULL, LB_MESSAGE_SEEN);
  t.b = add (fixture, fixture->inbox, 3, 3000, "b@example.test", "a@example.test", NULL, 0);
  t.lone = add (fixture, fixture->inbox, 4, 3500, "lone@example.test", NULL, NULL, LB_MESSAGE_SEEN);
  t.e = add (fixture, fixture->inbox, 5, 4000, "e@example.test", "d@example.test", "d@example.test",
             LB_MESSAGE_SEEN);
  t.c = add (fixture, fixture->inbox, 6, 5000, "c@example.test", NULL, "a@example.test b@example.test", 0);
  return t;
}

static void
test_grouping (Fixture       *fixture,
               gconstpointer  data)
{
  Threads t = add_threads (fixture);
  g_autoptr(GPtrArray) rows = list_conversations (fixture->store, fixture->inbox, 0, 100);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(LbStoreConversation) of_a = NULL;

  /* newest first: the thread of a (newest c, 5000), of d (e, 4000), lone */
  g_assert_cmpuint (rows->len, ==, 3);
  g_assert_cmpuint (count_conversations (fixture->store, fixture->inbox), ==, 3);
  g_assert_cmpint (row (rows, 0)->newest->key, ==, t.c);
  g_assert_cmpuint (row (rows, 0)->n_messages, ==, 3);
  g_assert_cmpuint (row (rows, 0)->n_unread, ==, 2);
  g_assert_cmpint (row (rows, 1)->newest->key, ==, t.e);
  g_assert_cmpuint (row (rows, 1)->n_messages, ==, 2);
  g_assert_cmpuint (row (rows, 1)->n_unread, ==, 0);
  g_assert_cmpint (row (rows, 2)->newest->key, ==, t.lone);
  g_assert_cmpuint (row (rows, 2)->n_messages, ==, 1);
  g_assert_cmpstr (row (rows, 0)->newest->subject, ==, "Message 6");

  /* the other folder has none */
  g_assert_cmpuint (count_conversations (fixture->store, fixture->archive), ==, 0);

  /* any message leads to its conversation; its messages oldest first */
  of_a = get_conversation (fixture->store, t.a);
  g_assert_cmpint (of_a->newest->key, ==, t.c);
  g_assert_cmpuint (of_a->n_messages, ==, 3);
  messages = conversation_messages (fixture->store, fixture->inbox, of_a->newest->thread_id);
  g_assert_cmpuint (messages->len, ==, 3);
  g_assert_cmpint (((LbMessageSummary *) messages->pdata[0])->key, ==, t.a);
  g_assert_cmpint (((LbMessageSummary *) messages->pdata[1])->key, ==, t.b);
  g_assert_cmpint (((LbMessageSummary *) messages->pdata[2])->key, ==, t.c);
}

static void
test_new_reply_moves_to_top (Fixture       *fixture,
                             gconstpointer  data)
{
  Threads t = add_threads (fixture);
  g_autoptr(GPtrArray) rows = NULL;
  gint64 f;

  drain ();
  g_ptr_array_set_size (fixture->changes, 0);

  /* a reply to d's thread, newer than everything */
  f = add (fixture, fixture->inbox, 7, 6000, "f@example.test", "e@example.test",
           "d@example.test e@example.test", 0);
  drain ();
  /* the conversation left its place and came back at the top */
  g_assert_cmpuint (count_changes (fixture, LB_STORE_CHANGE_REMOVED, t.e), ==, 1);
  g_assert_cmpuint (count_changes (fixture, LB_STORE_CHANGE_ADDED, f), ==, 1);
  g_assert_cmpuint (fixture->changes->len, ==, 2);

  rows = list_conversations (fixture->store, fixture->inbox, 0, 100);
  g_assert_cmpuint (rows->len, ==, 3);
  g_assert_cmpint (row (rows, 0)->newest->key, ==, f);
  g_assert_cmpuint (row (rows, 0)->n_messages, ==, 3);
  g_assert_cmpuint (row (rows, 0)->n_unread, ==, 1);
  g_assert_cmpint (row (rows, 1)->newest->key, ==, t.c);
  g_assert_cmpint (row (rows, 2)->newest->key, ==, t.lone);

  /* an old message of a thread (a late copy, dated before its newest)
   * changes the counts, not the place */
  g_ptr_array_set_size (fixture->changes, 0);
  add (fixture, fixture->inbox, 8, 1500, "late@example.test", "a@example.test", NULL, 0);
  drain ();
  g_assert_cmpuint (fixture->changes->len, ==, 1);
  g_assert_cmpuint (count_changes (fixture, LB_STORE_CHANGE_UPDATED, t.c), ==, 1);
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = list_conversations (fixture->store, fixture->inbox, 0, 100);
  g_assert_cmpint (row (rows, 1)->newest->key, ==, t.c);
  g_assert_cmpuint (row (rows, 1)->n_messages, ==, 4);
  g_assert_cmpuint (row (rows, 1)->n_unread, ==, 3);
}

static void
test_delete_and_move (Fixture       *fixture,
                      gconstpointer  data)
{
  Threads t = add_threads (fixture);
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GPtrArray) archived = NULL;

  drain ();
  g_ptr_array_set_size (fixture->changes, 0);

  /* deleting the newest message: the conversation moves down to b's place */
  delete_message (fixture->store, t.c);
  drain ();
  g_assert_cmpuint (count_changes (fixture, LB_STORE_CHANGE_REMOVED, t.c), ==, 1);
  g_assert_cmpuint (count_changes (fixture, LB_STORE_CHANGE_ADDED, t.b), ==, 1);
  rows = list_conversations (fixture->store, fixture->inbox, 0, 100);
  g_assert_cmpuint (rows->len, ==, 3);
  g_assert_cmpint (row (rows, 0)->newest->key, ==, t.e);
  g_assert_cmpint (row (rows, 1)->newest->key, ==, t.lone);
  g_assert_cmpint (row (rows, 2)->newest->key, ==, t.b);
  g_assert_cmpuint (row (rows, 2)->n_messages, ==, 2);
  g_assert_cmpuint (row (rows, 2)->n_unread, ==, 1);

  /* moving b out: a stays alone in the inbox, b starts a conversation
   * in the archive */
  g_ptr_array_set_size (fixture->changes, 0);
  move_message (fixture->store, t.b, fixture->archive);
  drain ();
  g_assert_cmpuint (count_changes (fixture, LB_STORE_CHANGE_REMOVED, t.b), ==, 1);
  g_assert_cmpuint (count_changes (fixture, LB_STORE_CHANGE_ADDED, t.a), ==, 1);
  g_assert_cmpuint (count_changes (fixture, LB_STORE_CHANGE_ADDED, t.b), ==, 1);
  g_clear_pointer (&rows, g_ptr_array_unref);
  rows = list_conversations (fixture->store, fixture->inbox, 0, 100);
  g_assert_cmpuint (rows->len, ==, 3);
  g_assert_cmpint (row (rows, 2)->newest->key, ==, t.a);
  g_assert_cmpuint (row (rows, 2)->n_messages, ==, 1);
  g_assert_cmpuint (row (rows, 2)->n_unread, ==, 0);
  archived = list_conversations (fixture->store, fixture->archive, 0, 100);
  g_assert_cmpuint (archived->len, ==, 1);
  g_assert_cmpint (row (archived, 0)->newest->key, ==, t.b);
  g_assert_cmpuint (count_conversations (fixture->store, fixture->archive), ==, 1);

  /* deleting the last message of a conversation removes it */
  g_ptr_array_set_size (fixture->changes, 0);
  delete_message (fixture->store, t.lone);
  drain ();
  g_assert_cmpuint (fixture->changes->len, ==, 1);
  g_assert_cmpuint (count_changes (fixture, LB_STORE_CHANGE_REMOVED, t.lone), ==, 1);
  g_assert_cmpuint (count_conversations (fixture->store, fixture->inbox), ==, 2);
}

static void
test_flags (Fixture       *fixture,
            gconstpointer  data)
{
  Threads t = add_threads (fixture);
  g_autoptr(LbStoreConversation) before = get_conversation (fixture->store, t.a);
  g_autoptr(LbStoreConversation) after = NULL;
  g_autoptr(LbStoreConversation) read = NULL;

  g_assert_cmpuint (before->n_flagged, ==, 0);
  g_assert_cmpuint (before->n_unread, ==, 2);

  drain ();
  g_ptr_array_set_size (fixture->changes, 0);
  /* flagging an old message: the conversation is flagged, in place */
  set_flags (fixture->store, t.a, LB_MESSAGE_FLAGGED, 0);
  drain ();
  g_assert_cmpuint (fixture->changes->len, ==, 1);
  g_assert_cmpuint (count_changes (fixture, LB_STORE_CHANGE_UPDATED, t.c), ==, 1);
  after = get_conversation (fixture->store, t.c);
  g_assert_cmpuint (after->n_flagged, ==, 1);
  g_assert_cmpuint (after->n_unread, ==, 2);

  /* reading them all */
  set_flags (fixture->store, t.b, LB_MESSAGE_SEEN, 0);
  set_flags (fixture->store, t.c, LB_MESSAGE_SEEN, 0);
  read = get_conversation (fixture->store, t.b);
  g_assert_cmpuint (read->n_unread, ==, 0);
  g_assert_cmpuint (read->n_flagged, ==, 1);
  g_assert_cmpuint (read->n_messages, ==, 3);

  /* the same flags again change nothing */
  drain ();
  g_ptr_array_set_size (fixture->changes, 0);
  set_flags (fixture->store, t.b, LB_MESSAGE_SEEN, 0);
  drain ();
  g_assert_cmpuint (fixture->changes->len, ==, 0);
}

/* A message naming two threads joins them into one conversation. */
static void
test_merge (Fixture       *fixture,
            gconstpointer  data)
{
  Threads t = add_threads (fixture);
  g_autoptr(GPtrArray) rows = NULL;
  gint64 join;

  join = add (fixture, fixture->inbox, 9, 4500, "join@example.test", "e@example.test",
              "a@example.test e@example.test", LB_MESSAGE_SEEN);
  rows = list_conversations (fixture->store, fixture->inbox, 0, 100);
  g_assert_cmpuint (rows->len, ==, 2);
  g_assert_cmpint (row (rows, 0)->newest->key, ==, t.c);
  g_assert_cmpuint (row (rows, 0)->n_messages, ==, 6);
  g_assert_cmpint (row (rows, 1)->newest->key, ==, t.lone);
  g_assert_cmpuint (count_conversations (fixture->store, fixture->inbox), ==, 2);
  g_assert_cmpint (join, >, 0);
}

typedef struct
{
  gint64 date;
  gint64 key;
} Place;

/* 250 conversations of two messages (one of each in each half of the
 * keys), some with equal dates: the pages join up without a gap or a
 * repeat, and the positions agree with them. */
static void
test_paging (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GArray) all = g_array_new (FALSE, FALSE, sizeof (Place));
  g_autoptr(GArray) positions = NULL;
  g_autoptr(GArray) counts = NULL;
  g_autoptr(GArray) probe = g_array_new (FALSE, FALSE, sizeof (LbStorePosition));
  const guint n = 250;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("root-%u@example.test", i);

      g_ptr_array_add (summaries, make_summary (i + 1, 100000 + (i / 3) * 10, id, NULL, NULL));
    }
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("reply-%u@example.test", i);
      g_autofree char *parent = g_strdup_printf ("root-%u@example.test", (i * 7) % n);

      /* replies dated in another order than their roots */
      g_ptr_array_add (summaries, make_summary (n + i + 1, 100000 + ((i * 7) % n / 3) * 10 + 5 - (i % 2) * 5,
                                                id, parent, parent));
    }
  lb_store_add_summaries_async (fixture->store, fixture->inbox, summaries, NULL, LB_STORE_WRITE_NONE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  added = lb_store_add_summaries_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_conversations (fixture->store, fixture->inbox), ==, n);

  for (guint offset = 0; offset < n + 100; offset += 100)
    {
      g_autoptr(GPtrArray) rows = list_conversations (fixture->store, fixture->inbox, offset, 100);

      g_assert_cmpuint (rows->len, ==, MIN (100, n - MIN (n, offset)));
      for (guint i = 0; i < rows->len; i++)
        {
          Place place = { row (rows, i)->newest->date, row (rows, i)->newest->key };

          g_assert_cmpuint (row (rows, i)->n_messages, ==, 2);
          g_array_append_val (all, place);
        }
    }
  g_assert_cmpuint (all->len, ==, n);
  for (guint i = 1; i < n; i++)
    {
      Place *p = &g_array_index (all, Place, i - 1), *q = &g_array_index (all, Place, i);

      /* strictly in list order: no repeat, newest first */
      g_assert_true (p->date > q->date || (p->date == q->date && p->key > q->key));
    }

  /* the positions and the counts before places match the pages */
  g_clear_object (&result);
  lb_store_list_conversation_positions_async (fixture->store, fixture->inbox, 180, NULL,
                                              lb_test_store_result, &result);
  lb_test_wait (&result);
  positions = lb_store_list_conversation_positions_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (positions->len, ==, 180);
  for (guint i = 0; i < positions->len; i++)
    {
      g_assert_cmpint (g_array_index (positions, LbStorePosition, i).date, ==, g_array_index (all, Place, i).date);
      g_assert_cmpint (g_array_index (positions, LbStorePosition, i).key, ==, g_array_index (all, Place, i).key);
    }
  for (guint i = 0; i < n; i += 37)
    {
      LbStorePosition position = { g_array_index (all, Place, i).date, g_array_index (all, Place, i).key };

      g_array_append_val (probe, position);
    }
  g_clear_object (&result);
  lb_store_count_conversations_before_async (fixture->store, fixture->inbox, probe, NULL,
                                             lb_test_store_result, &result);
  lb_test_wait (&result);
  counts = lb_store_count_conversations_before_finish (fixture->store, result, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < probe->len; i++)
    g_assert_cmpuint (g_array_index (counts, guint, i), ==, i * 37);
}

static void
exec_sql (const char *dir,
          const char *sql)
{
  g_autofree char *path = g_build_filename (dir, "store.db", NULL);
  sqlite3 *db = NULL;
  char *message = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, &message), ==, SQLITE_OK);
  sqlite3_free (message);
  sqlite3_close (db);
}

/* A store of schema 7 gets its conversations when upgraded. */
static void
test_migrate (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lb-conversations-XXXXXX", &error);
  g_autoptr(GPtrArray) rows = NULL;
  LbStore *store;

  g_assert_no_error (error);
  store = open_store_at (dir, 7, &error);
  g_assert_no_error (error);
  lb_test_finalize_store (store);
  exec_sql (dir,
            "INSERT INTO folders (path, name, role) VALUES ('INBOX', 'INBOX', 1);"
            "INSERT INTO messages (folder_id, uid, subject, date, flags, has_attachments, thread_id)"
            " VALUES (1, 1, 'Plans', 1600000000, 1, 0, 1),"
            "        (1, 2, 'Re: Plans', 1600000100, 4, 1, 1),"
            "        (1, 3, 'Other', 1600000050, 0, 0, 3),"
            "        (1, 4, 'Re: Plans (same second)', 1600000100, 1, 0, 1);");

  store = open_store_at (dir, LB_STORE_SCHEMA_VERSION, &error);
  g_assert_no_error (error);
  rows = list_conversations (store, 1, 0, 10);
  g_assert_cmpuint (rows->len, ==, 2);
  /* the highest key of the newest date */
  g_assert_cmpint (row (rows, 0)->newest->key, ==, 4);
  g_assert_cmpuint (row (rows, 0)->n_messages, ==, 3);
  g_assert_cmpuint (row (rows, 0)->n_unread, ==, 1);
  g_assert_cmpuint (row (rows, 0)->n_flagged, ==, 1);
  g_assert_cmpuint (row (rows, 0)->n_attachments, ==, 1);
  g_assert_cmpint (row (rows, 1)->newest->key, ==, 3);
  g_assert_cmpuint (count_conversations (store, 1), ==, 2);

  lb_test_finalize_store (store);
  lb_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/conversations/grouping", Fixture, NULL, fixture_set_up, test_grouping, fixture_tear_down);
  g_test_add ("/conversations/new-reply-moves-to-top", Fixture, NULL, fixture_set_up,
              test_new_reply_moves_to_top, fixture_tear_down);
  g_test_add ("/conversations/delete-and-move", Fixture, NULL, fixture_set_up, test_delete_and_move,
              fixture_tear_down);
  g_test_add ("/conversations/flags", Fixture, NULL, fixture_set_up, test_flags, fixture_tear_down);
  g_test_add ("/conversations/merge", Fixture, NULL, fixture_set_up, test_merge, fixture_tear_down);
  g_test_add ("/conversations/paging", Fixture, NULL, fixture_set_up, test_paging, fixture_tear_down);
  g_test_add_func ("/conversations/migrate", test_migrate);

  return g_test_run ();
}
