/* lb-message-list.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-message-list"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lb-message.h"
#include "lb-message-list.h"

/* LbMessageList is a GListModel of the messages of one folder (or of
 * several, merged by date: the unified inbox), newest first, that holds
 * only a window of at most LB_MESSAGE_LIST_MAX_RESIDENT rows in memory.
 *
 * get_item() never waits for the disk: a row not read yet is handed out
 * empty (LbMessage:loaded is FALSE) and its page is read from the store;
 * when the page arrives, the rows fill in with notify signals. The window
 * is contiguous and follows the positions asked for.
 *
 * When the store changes, the list emits the smallest items-changed it
 * can: the store says which messages came and went, with their dates; the
 * store counts the rows before each (on its writer, so the counts are of
 * exactly the state announced), and the list removes and inserts those
 * rows one by one. While it works out a change, it reads no pages, and a
 * page read before a change is dropped (the generation counter), so the
 * window never shows a row at the wrong place. A very large change (an
 * import) resets the list instead.
 *
 * Threaded (LbMessageList:threaded), each row is a conversation of a
 * folder: the newest message of a thread there, with the thread's counts
 * (lb_message_set_conversation()). The store keeps the conversations in
 * a table of their own, with their places (date and key of the newest
 * message) in an index, and says after each write which conversations
 * left a place, took one, or changed in place (::conversations-changed:
 * a new reply moves its conversation to the top as one removal and one
 * insertion). So the threaded list pages, counts and follows changes
 * exactly as the flat one does, with the store's conversation calls in
 * place of its message calls: no reload of ranges, and no row is ever
 * shown at a wrong place. A conversation that moves is removed and
 * inserted, so a selection on it does not follow it (a selection
 * elsewhere keeps to its rows). */

#define BULK_CHANGE 200

typedef struct
{
  LbStore *store;
  gint64 folder_id;
  gulong handler;
  guint total;
} Source;

typedef struct
{
  LbStore *store;    /* the store that announced it */
  GArray *adds;      /* LbStorePosition */
  GArray *removes;   /* LbStorePosition */
  GArray *updates;   /* gint64 keys */
} Batch;

typedef struct
{
  guint position;
  guint end;
  GTask *task;
} Waiter;

struct _LbMessageList
{
  GObject parent_instance;

  GPtrArray *sources;       /* Source */
  guint n_items;
  gboolean loaded;
  gboolean threaded;

  guint win_start;
  GPtrArray *window;        /* LbMessage */

  guint generation;
  GHashTable *pending;      /* pages being read, or queued to be */
  GQueue queued;            /* pages waiting for the read in flight */
  gboolean reading;         /* a page read is in flight */
  GHashTable *wanted;       /* pages asked for while busy */
  GQueue batches;           /* Batch */
  gboolean busy;
  guint updating;           /* rows being read again */
  GList *waiters;           /* Waiter */

  GCancellable *cancellable;
};

enum {
  PROP_0,
  PROP_THREADED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LbMessageList, lb_message_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static void process_batches (LbMessageList *self);
static void request_page (LbMessageList *self, guint page);
static void check_waiters (LbMessageList *self, GError *error);

static void
batch_free (Batch *batch)
{
  g_object_unref (batch->store);
  g_array_unref (batch->adds);
  g_array_unref (batch->removes);
  g_array_unref (batch->updates);
  g_free (batch);
}

/* ------------------------------------------------------------------ the window */

static guint
win_end (LbMessageList *self)
{
  return self->win_start + self->window->len;
}

static void
clear_window (LbMessageList *self)
{
  g_ptr_array_set_size (self->window, 0);
  self->win_start = 0;
}

/* Makes the window cover [from, to), keeping what it can. */
static void
ensure_window (LbMessageList *self,
               guint          from,
               guint          to)
{
  to = MIN (to, self->n_items);
  if (from >= to)
    return;

  if (self->window->len == 0 || to + LB_MESSAGE_LIST_PAGE_SIZE < self->win_start ||
      from > win_end (self) + LB_MESSAGE_LIST_PAGE_SIZE)
    {
      clear_window (self);
      self->win_start = from;
    }

  while (from < self->win_start)
    {
      g_ptr_array_insert (self->window, 0, lb_message_new ());
      self->win_start--;
    }
  while (win_end (self) < to)
    g_ptr_array_add (self->window, lb_message_new ());

  /* drop rows far from where the reader is */
  while (self->window->len > LB_MESSAGE_LIST_MAX_RESIDENT)
    {
      if (from - self->win_start > win_end (self) - to)
        {
          g_ptr_array_remove_index (self->window, 0);
          self->win_start++;
        }
      else
        g_ptr_array_remove_index (self->window, self->window->len - 1);
    }
}

static LbMessage *
window_get (LbMessageList *self,
            guint          position)
{
  if (position < self->win_start || position >= win_end (self))
    return NULL;
  return self->window->pdata[position - self->win_start];
}

/* ------------------------------------------------------------------ GListModel */

static GType
lb_message_list_get_item_type (GListModel *model)
{
  return LB_TYPE_MESSAGE;
}

static guint
lb_message_list_get_n_items (GListModel *model)
{
  return LB_MESSAGE_LIST (model)->n_items;
}

static gpointer
lb_message_list_get_item (GListModel *model,
                          guint       position)
{
  LbMessageList *self = LB_MESSAGE_LIST (model);
  LbMessage *message;

  if (position >= self->n_items)
    return NULL;

  ensure_window (self, position, position + 1);
  message = window_get (self, position);
  if (!lb_message_get_loaded (message))
    request_page (self, position / LB_MESSAGE_LIST_PAGE_SIZE);

  return g_object_ref (message);
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = lb_message_list_get_item_type;
  iface->get_n_items = lb_message_list_get_n_items;
  iface->get_item = lb_message_list_get_item;
}

/* ------------------------------------------------------------------ reading rows */

/* a row read, and the store it came from */
typedef struct
{
  LbStore          *store;
  guint             source;   /* index in the list's sources: breaks ties */
  LbMessageSummary *summary;
  LbStoreConversation *conversation;   /* threaded: the conversation (its
                                        * newest is @summary) */
} RowRef;

static void
row_ref_free (RowRef *row)
{
  if (row == NULL)
    return;   /* taken for a page */
  g_object_unref (row->store);
  lb_message_summary_unref (row->summary);
  lb_store_conversation_free (row->conversation);
  g_free (row);
}

static int
compare_rows (gconstpointer a,
              gconstpointer b)
{
  const RowRef *rx = *(RowRef **) a;
  const RowRef *ry = *(RowRef **) b;
  const LbMessageSummary *x = rx->summary;
  const LbMessageSummary *y = ry->summary;

  if (x->date != y->date)
    return x->date > y->date ? -1 : 1;
  if (x->key != y->key)
    return x->key > y->key ? -1 : 1;
  return (rx->source > ry->source) - (rx->source < ry->source);
}

typedef struct
{
  guint offset;
  guint limit;
  guint outstanding;
  gboolean merge;
  GPtrArray *rows;        /* RowRef */
  GArray **positions;     /* per source: its first places (deep merged pages) */
  guint *skip;            /* per source: its rows before the page */
  guint n_sources;
  GError *error;
} ReadRows;

typedef struct
{
  GTask *task;
  guint source;
} SourceCall;

static void
read_rows_free (ReadRows *data)
{
  g_clear_pointer (&data->rows, g_ptr_array_unref);
  for (guint i = 0; data->positions != NULL && i < data->n_sources; i++)
    g_clear_pointer (&data->positions[i], g_array_unref);
  g_free (data->positions);
  g_free (data->skip);
  g_clear_error (&data->error);
  g_free (data);
}

static void
keep_error (ReadRows *data,
            GError   *error)
{
  if (data->error == NULL)
    data->error = error;
  else
    g_error_free (error);
}

static void
read_rows_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autofree SourceCall *call = user_data;
  g_autoptr(GTask) task = call->task;
  LbMessageList *self = g_task_get_source_object (task);
  ReadRows *data = g_task_get_task_data (task);
  g_autoptr(GPtrArray) rows = NULL;
  GError *error = NULL;

  if (self->threaded)
    rows = lb_store_list_conversations_finish (LB_STORE (object), result, &error);
  else
    rows = lb_store_list_messages_finish (LB_STORE (object), result, &error);
  if (rows == NULL)
    keep_error (data, error);
  else
    for (guint i = 0; i < rows->len; i++)
      {
        RowRef *row = g_new0 (RowRef, 1);

        row->store = g_object_ref (LB_STORE (object));
        row->source = call->source;
        if (self->threaded)
          {
            row->conversation = g_steal_pointer (&rows->pdata[i]);
            row->summary = lb_message_summary_ref (row->conversation->newest);
          }
        else
          row->summary = lb_message_summary_ref (rows->pdata[i]);
        g_ptr_array_add (data->rows, row);
      }

  if (--data->outstanding > 0)
    return;

  if (data->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&data->error));
      return;
    }

  /* several folders: merge their rows after the skipped ones, then take
   * the page */
  if (data->merge)
    {
      g_autoptr(GPtrArray) page = g_ptr_array_new_with_free_func ((GDestroyNotify) row_ref_free);

      g_ptr_array_sort (data->rows, compare_rows);
      for (guint i = 0; i < data->rows->len && i < data->limit; i++)
        g_ptr_array_add (page, g_steal_pointer (&data->rows->pdata[i]));
      g_task_return_pointer (task, g_steal_pointer (&page), (GDestroyNotify) g_ptr_array_unref);
      return;
    }

  g_task_return_pointer (task, g_steal_pointer (&data->rows), (GDestroyNotify) g_ptr_array_unref);
}

static void
read_source_rows (GTask *task)
{
  LbMessageList *self = g_task_get_source_object (task);
  ReadRows *data = g_task_get_task_data (task);

  data->outstanding = self->sources->len;
  for (guint i = 0; i < self->sources->len; i++)
    {
      Source *source = self->sources->pdata[i];
      SourceCall *call = g_new0 (SourceCall, 1);

      guint offset = data->merge ? data->skip[i] : data->offset;

      call->task = g_object_ref (task);
      call->source = i;
      if (self->threaded)
        lb_store_list_conversations_async (source->store, source->folder_id, offset, data->limit,
                                           self->cancellable, read_rows_cb, call);
      else
        lb_store_list_messages_async (source->store, source->folder_id, offset, data->limit,
                                      self->cancellable, read_rows_cb, call);
    }
}

/* The list's order: newest first, then the highest key, then the first
 * source (a unified list can hold equal places from two stores). */
static gboolean
position_before (const LbStorePosition *a,
                 guint                  source_a,
                 const LbStorePosition *b,
                 guint                  source_b)
{
  if (a->date != b->date)
    return a->date > b->date;
  if (a->key != b->key)
    return a->key > b->key;
  return source_a < source_b;
}

static void
positions_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autofree SourceCall *call = user_data;
  g_autoptr(GTask) task = call->task;
  LbMessageList *self = g_task_get_source_object (task);
  ReadRows *data = g_task_get_task_data (task);
  g_autofree guint *next = NULL;
  GError *error = NULL;

  if (self->threaded)
    data->positions[call->source] = lb_store_list_conversation_positions_finish (LB_STORE (object), result,
                                                                                 &error);
  else
    data->positions[call->source] = lb_store_list_positions_finish (LB_STORE (object), result, &error);
  if (data->positions[call->source] == NULL)
    keep_error (data, error);

  if (--data->outstanding > 0)
    return;

  if (data->error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&data->error));
      return;
    }

  /* merge the places down to the page: how many rows each folder has
   * above it */
  next = g_new0 (guint, data->n_sources);
  for (guint n = 0; n < data->offset; n++)
    {
      guint best = G_MAXUINT;

      for (guint s = 0; s < data->n_sources; s++)
        {
          GArray *positions = data->positions[s];

          if (next[s] >= positions->len)
            continue;
          if (best == G_MAXUINT ||
              position_before (&g_array_index (positions, LbStorePosition, next[s]), s,
                               &g_array_index (data->positions[best], LbStorePosition, next[best]), best))
            best = s;
        }
      if (best == G_MAXUINT)
        break;
      next[best]++;
    }
  memcpy (data->skip, next, data->n_sources * sizeof (guint));
  for (guint s = 0; s < data->n_sources; s++)
    g_clear_pointer (&data->positions[s], g_array_unref);

  read_source_rows (task);
}

/* Reads rows [offset, offset + limit) of the list as the store has it.
 * One folder: that page of it. Several (a unified inbox): for a page below
 * the top, first the places (date, key) of each folder's rows down to the
 * page, from the date index alone, merged to find how many rows of each
 * lie above it; then each folder's next rows, merged into the page. */
static void
read_rows_async (LbMessageList       *self,
                 guint                offset,
                 guint                limit,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  GTask *task = g_task_new (self, self->cancellable, callback, user_data);
  ReadRows *data = g_new0 (ReadRows, 1);

  data->offset = offset;
  data->limit = limit;
  data->merge = self->sources->len > 1;
  data->n_sources = self->sources->len;
  data->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) row_ref_free);
  data->positions = g_new0 (GArray *, MAX (1, data->n_sources));
  data->skip = g_new0 (guint, MAX (1, data->n_sources));
  g_task_set_task_data (task, data, (GDestroyNotify) read_rows_free);
  g_task_set_source_tag (task, read_rows_async);

  if (self->sources->len == 0)
    {
      g_task_return_pointer (task, g_steal_pointer (&data->rows), (GDestroyNotify) g_ptr_array_unref);
      g_object_unref (task);
      return;
    }

  if (!data->merge || offset == 0)
    {
      read_source_rows (task);
      g_object_unref (task);
      return;
    }

  data->outstanding = self->sources->len;
  for (guint i = 0; i < self->sources->len; i++)
    {
      Source *source = self->sources->pdata[i];
      SourceCall *call = g_new0 (SourceCall, 1);

      call->task = g_object_ref (task);
      call->source = i;
      if (self->threaded)
        lb_store_list_conversation_positions_async (source->store, source->folder_id, offset,
                                                    self->cancellable, positions_cb, call);
      else
        lb_store_list_positions_async (source->store, source->folder_id, offset, self->cancellable,
                                       positions_cb, call);
    }
  g_object_unref (task);
}

static GPtrArray *
read_rows_finish (LbMessageList  *self,
                  GAsyncResult   *result,
                  GError        **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
fill_rows (LbMessageList *self,
           guint          offset,
           GPtrArray     *rows)
{
  for (guint i = 0; i < rows->len; i++)
    {
      LbMessage *message = window_get (self, offset + i);
      RowRef *row = rows->pdata[i];

      if (message != NULL)
        {
          lb_message_set_store (message, row->store);
          if (row->conversation != NULL)
            lb_message_set_conversation (message, row->conversation);
          else
            lb_message_set_summary (message, row->summary);
        }
    }
}

static void start_reload (LbMessageList *self);

typedef struct
{
  guint page;
  guint generation;
} PageRead;

static void start_next_page (LbMessageList *self);

static void
page_read (LbMessageList *self,
           PageRead      *read,
           GPtrArray     *rows,
           GError        *error)
{
  if (rows == NULL)
    {
      g_warning ("Could not read messages: %s", error->message);
      check_waiters (self, error);
      return;
    }

  if (read->generation != self->generation)
    {
      /* the list changed under the read: read the page again */
      guint first = read->page * LB_MESSAGE_LIST_PAGE_SIZE;

      if (first < win_end (self) && first + LB_MESSAGE_LIST_PAGE_SIZE > self->win_start)
        request_page (self, read->page);
      return;
    }

  fill_rows (self, read->page * LB_MESSAGE_LIST_PAGE_SIZE, rows);

  /* fewer rows than the list has there: the store changed in a way this
   * list was not told of (another program wrote to it); start again from
   * the store's counts rather than wait for rows that will not come */
  if (!self->busy &&
      read->page * LB_MESSAGE_LIST_PAGE_SIZE + rows->len <
      MIN ((read->page + 1) * LB_MESSAGE_LIST_PAGE_SIZE, self->n_items))
    {
      start_reload (self);
      return;
    }
  check_waiters (self, NULL);
}

static void
page_read_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  LbMessageList *self = LB_MESSAGE_LIST (object);
  g_autofree PageRead *read = user_data;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GError) error = NULL;

  rows = read_rows_finish (self, result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self->reading = FALSE;
  g_hash_table_remove (self->pending, GUINT_TO_POINTER (read->page));
  page_read (self, read, rows, error);
  start_next_page (self);
}

static void
start_page_read (LbMessageList *self,
                 guint          page)
{
  PageRead *read = g_new0 (PageRead, 1);

  self->reading = TRUE;
  read->page = page;
  read->generation = self->generation;
  read_rows_async (self, page * LB_MESSAGE_LIST_PAGE_SIZE, LB_MESSAGE_LIST_PAGE_SIZE,
                   page_read_cb, read);
}

/* Pages are read one at a time, in the order asked for: the first page
 * a new list asks for fills in (and can be painted) before the next one
 * is read, rather than all the rows a list view binds at once; a page
 * the window has left since it was asked for is not read. */
static void
start_next_page (LbMessageList *self)
{
  while (!self->reading && !g_queue_is_empty (&self->queued))
    {
      guint page = GPOINTER_TO_UINT (g_queue_pop_head (&self->queued));
      guint first = page * LB_MESSAGE_LIST_PAGE_SIZE;

      if (first < win_end (self) && first + LB_MESSAGE_LIST_PAGE_SIZE > self->win_start)
        start_page_read (self, page);
      else
        g_hash_table_remove (self->pending, GUINT_TO_POINTER (page));
    }
}

static void
request_page (LbMessageList *self,
              guint          page)
{
  if (g_hash_table_contains (self->pending, GUINT_TO_POINTER (page)))
    return;
  if (self->busy)
    {
      g_hash_table_add (self->wanted, GUINT_TO_POINTER (page));
      return;
    }

  g_hash_table_add (self->pending, GUINT_TO_POINTER (page));
  g_queue_push_tail (&self->queued, GUINT_TO_POINTER (page));
  start_next_page (self);
}

/* Asks again for every page of the window that has an empty row. */
static void
request_missing_pages (LbMessageList *self)
{
  guint last_page = G_MAXUINT;

  for (guint i = 0; i < self->window->len; i++)
    {
      guint page = (self->win_start + i) / LB_MESSAGE_LIST_PAGE_SIZE;

      if (page != last_page && !lb_message_get_loaded (self->window->pdata[i]))
        {
          request_page (self, page);
          last_page = page;
        }
    }
}

/* ------------------------------------------------------------------ waiting for rows */

static gboolean
range_loaded (LbMessageList *self,
              guint          from,
              guint          to)
{
  to = MIN (to, self->n_items);
  for (guint p = from; p < to; p++)
    {
      LbMessage *message = window_get (self, p);

      if (message == NULL || !lb_message_get_loaded (message))
        return FALSE;
    }
  return TRUE;
}

/* Puts rows [from, to) in the window and asks for their pages. */
static void
request_range (LbMessageList *self,
               guint          from,
               guint          to)
{
  ensure_window (self, from, to);
  for (guint page = from / LB_MESSAGE_LIST_PAGE_SIZE;
       page * LB_MESSAGE_LIST_PAGE_SIZE < MIN (to, self->n_items); page++)
    request_page (self, page);
}

static void
check_waiters (LbMessageList *self,
               GError        *error)
{
  GList *l = self->waiters;

  while (l != NULL)
    {
      Waiter *waiter = l->data;
      GList *next = l->next;

      if (error != NULL || range_loaded (self, waiter->position, waiter->end))
        {
          self->waiters = g_list_delete_link (self->waiters, l);
          if (error != NULL)
            g_task_return_error (waiter->task, g_error_copy (error));
          else
            g_task_return_boolean (waiter->task, TRUE);
          g_object_unref (waiter->task);
          g_free (waiter);
        }
      else if (waiter->position < self->n_items &&
               (window_get (self, waiter->position) == NULL ||
                window_get (self, MIN (waiter->end, self->n_items) - 1) == NULL))
        {
          /* the window moved away: bring it back */
          request_range (self, waiter->position, waiter->end);
        }
      l = next;
    }
}

/**
 * lb_message_list_fetch_async:
 * @self: the list
 * @position: the first row wanted
 * @n_items: how many rows (at most %LB_MESSAGE_LIST_MAX_RESIDENT)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when those rows are loaded
 * @user_data: data for @callback
 *
 * Makes sure rows are read, for those (a command line, a test) that want
 * to wait for them rather than watch them fill in. Rows past the end of
 * the list are not waited for.
 */
void
lb_message_list_fetch_async (LbMessageList       *self,
                             guint                position,
                             guint                n_items,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  Waiter *waiter;

  g_return_if_fail (LB_IS_MESSAGE_LIST (self));

  n_items = MIN (n_items, LB_MESSAGE_LIST_MAX_RESIDENT);

  waiter = g_new0 (Waiter, 1);
  waiter->position = position;
  waiter->end = position + n_items;
  waiter->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (waiter->task, lb_message_list_fetch_async);
  self->waiters = g_list_append (self->waiters, waiter);

  if (position < self->n_items)
    request_range (self, position, position + n_items);
  check_waiters (self, NULL);
}

gboolean
lb_message_list_fetch_finish (LbMessageList  *self,
                              GAsyncResult   *result,
                              GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------ loading */

typedef struct
{
  guint outstanding;
  GError *error;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_clear_error (&data->error);
  g_free (data);
}

static guint
sum_totals (LbMessageList *self)
{
  guint n = 0;

  for (guint i = 0; i < self->sources->len; i++)
    n += ((Source *) self->sources->pdata[i])->total;
  return n;
}

typedef struct
{
  GTask *task;
  gint64 folder_id;
} LoadCall;

static void
load_counted (LbMessageList *self,
              GTask         *task,
              LbStore       *store,
              gint64         folder_id,
              guint          total,
              GError        *error);

static void
load_folder_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LbMessageList *self = g_task_get_source_object (task);
  g_autoptr(LbFolderInfo) info = NULL;
  GError *error = NULL;

  info = lb_store_get_folder_finish (LB_STORE (object), result, &error);
  load_counted (self, task, LB_STORE (object), info ? info->id : 0, info ? info->total : 0, error);
}

static void
load_conversations_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autofree LoadCall *call = user_data;
  g_autoptr(GTask) task = call->task;
  LbMessageList *self = g_task_get_source_object (task);
  GError *error = NULL;
  guint total = 0;

  lb_store_count_conversations_finish (LB_STORE (object), result, &total, &error);
  load_counted (self, task, LB_STORE (object), call->folder_id, total, error);
}

/* A folder's count (of messages, or conversations) arrived, or @error. */
static void
load_counted (LbMessageList *self,
              GTask         *task,
              LbStore       *store,
              gint64         folder_id,
              guint          total,
              GError        *error)
{
  LoadData *data = g_task_get_task_data (task);
  guint old;

  if (error != NULL)
    {
      if (data->error == NULL)
        data->error = error;
      else
        g_error_free (error);
    }
  else
    {
      for (guint i = 0; i < self->sources->len; i++)
        {
          Source *source = self->sources->pdata[i];

          if (source->store == store && source->folder_id == folder_id)
            source->total = total;
        }

      /* The count was read on the store's writer: it includes every change
       * the store announced before it, which are queued here now. */
      for (GList *l = self->batches.head; l != NULL;)
        {
          GList *next = l->next;
          Batch *batch = l->data;

          if (batch->store == store)
            {
              batch_free (batch);
              g_queue_delete_link (&self->batches, l);
            }
          l = next;
        }
    }

  if (--data->outstanding > 0)
    return;

  if (data->error != NULL)
    {
      self->busy = FALSE;
      g_task_return_error (task, g_steal_pointer (&data->error));
      return;
    }

  old = self->n_items;
  self->n_items = sum_totals (self);
  self->loaded = TRUE;
  self->generation++;
  clear_window (self);
  self->busy = FALSE;
  if (old != 0 || self->n_items != 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old, self->n_items);

  g_hash_table_remove_all (self->wanted);
  check_waiters (self, NULL);
  g_task_return_boolean (task, TRUE);
  process_batches (self);
}

/* Reads the folders' counts and (re)starts the list from them. */
static void
reload (LbMessageList *self,
        GTask         *task)
{
  LoadData *data = g_new0 (LoadData, 1);

  data->outstanding = self->sources->len;
  g_task_set_task_data (task, data, (GDestroyNotify) load_data_free);
  self->busy = TRUE;
  /* pages on their way are of the old list */
  self->generation++;

  if (self->sources->len == 0)
    {
      self->busy = FALSE;
      self->loaded = TRUE;
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  for (guint i = 0; i < self->sources->len; i++)
    {
      Source *source = self->sources->pdata[i];

      if (self->threaded)
        {
          LoadCall *call = g_new0 (LoadCall, 1);

          call->task = g_object_ref (task);
          call->folder_id = source->folder_id;
          lb_store_count_conversations_async (source->store, source->folder_id, self->cancellable,
                                              load_conversations_cb, call);
        }
      else
        lb_store_get_folder_async (source->store, source->folder_id, self->cancellable,
                                   load_folder_cb, g_object_ref (task));
    }
  g_object_unref (task);
}

/**
 * lb_message_list_load_async:
 * @self: the list
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the list knows its length
 * @user_data: data for @callback
 *
 * Reads how many messages the folders hold; the list then has that many
 * rows (items-changed), which fill in as they are asked for.
 */
void
lb_message_list_load_async (LbMessageList       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (LB_IS_MESSAGE_LIST (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_message_list_load_async);
  reload (self, task);
}

gboolean
lb_message_list_load_finish (LbMessageList  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
reload_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_warning ("Could not reload a message list: %s", error->message);
}

/* ------------------------------------------------------------------ changes */

static Source *
find_source (LbMessageList *self,
             LbStore       *store,
             gint64         folder_id)
{
  for (guint i = 0; i < self->sources->len; i++)
    {
      Source *source = self->sources->pdata[i];

      if (source->store == store && source->folder_id == folder_id)
        return source;
    }
  return NULL;
}

static void
on_store_changed (LbStore       *store,
                  GPtrArray     *changes,
                  LbMessageList *self)
{
  Batch *batch = NULL;

  for (guint i = 0; i < changes->len; i++)
    {
      LbStoreChange *change = changes->pdata[i];
      LbStorePosition position = { change->date, change->key };

      if (find_source (self, store, change->folder_id) == NULL)
        continue;
      if (batch == NULL)
        {
          batch = g_new0 (Batch, 1);
          batch->store = g_object_ref (store);
          batch->adds = g_array_new (FALSE, FALSE, sizeof (LbStorePosition));
          batch->removes = g_array_new (FALSE, FALSE, sizeof (LbStorePosition));
          batch->updates = g_array_new (FALSE, FALSE, sizeof (gint64));
        }
      switch (change->kind)
        {
        case LB_STORE_CHANGE_ADDED:
          g_array_append_val (batch->adds, position);
          break;
        case LB_STORE_CHANGE_REMOVED:
          g_array_append_val (batch->removes, position);
          break;
        case LB_STORE_CHANGE_UPDATED:
        default:
          g_array_append_val (batch->updates, change->key);
          break;
        }
    }

  if (batch == NULL)
    return;

  /* before the first load, the load counts it */
  if (!self->loaded && !self->busy)
    {
      batch_free (batch);
      return;
    }

  /* A page read now would be of a state the list has not caught up with,
   * or (for flags) older than the update about to be read: either way its
   * rows must not land. (With several folders a page waits for every
   * folder's rows, so one folder's may be older than a change.) */
  self->generation++;
  g_queue_push_tail (&self->batches, batch);
  process_batches (self);
}

static void
update_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(LbMessageList) self = user_data;
  g_autoptr(LbMessageSummary) summary = NULL;
  g_autoptr(GError) error = NULL;

  summary = lb_store_get_message_finish (LB_STORE (object), result, &error);
  self->updating--;
  if (summary == NULL)
    return;   /* gone meanwhile: its removal is on its way */

  for (guint i = 0; i < self->window->len; i++)
    {
      LbMessage *message = self->window->pdata[i];

      if (lb_message_get_store (message) == LB_STORE (object) &&
          lb_message_get_key (message) == summary->key)
        lb_message_set_summary (message, summary);
    }
}

static void
update_conversation_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(LbMessageList) self = user_data;
  g_autoptr(LbStoreConversation) conversation = NULL;
  g_autoptr(GError) error = NULL;

  conversation = lb_store_get_conversation_finish (LB_STORE (object), result, &error);
  self->updating--;
  if (conversation == NULL)
    return;   /* gone meanwhile: its removal is on its way */

  /* the conversation in place: same newest message (a new newest one
   * comes as a removal and an insertion) */
  for (guint i = 0; i < self->window->len; i++)
    {
      LbMessage *message = self->window->pdata[i];

      if (lb_message_get_store (message) == LB_STORE (object) &&
          lb_message_get_key (message) == conversation->newest->key)
        lb_message_set_conversation (message, conversation);
    }
}

static void
apply_updates (LbMessageList *self,
               LbStore       *store,
               GArray        *keys)
{
  for (guint k = 0; k < keys->len; k++)
    {
      gint64 key = g_array_index (keys, gint64, k);

      for (guint i = 0; i < self->window->len; i++)
        if (lb_message_get_store (self->window->pdata[i]) == store &&
            lb_message_get_key (self->window->pdata[i]) == key)
          {
            self->updating++;
            if (self->threaded)
              lb_store_get_conversation_async (store, key, self->cancellable, update_conversation_cb,
                                               g_object_ref (self));
            else
              lb_store_get_message_async (store, key, self->cancellable, update_cb, g_object_ref (self));
            break;
          }
    }
}

typedef struct
{
  Batch *batch;
  GArray *positions;   /* removes then adds */
  GArray *counts;      /* summed over the sources */
  guint outstanding;
  gboolean failed;
} Counting;

static void
counting_free (Counting *counting)
{
  batch_free (counting->batch);
  g_array_unref (counting->positions);
  g_array_unref (counting->counts);
  g_free (counting);
}

static void
finish_batch (LbMessageList *self)
{
  GHashTableIter iter;
  gpointer page;
  g_autoptr(GList) pages = NULL;

  self->busy = FALSE;
  g_hash_table_iter_init (&iter, self->wanted);
  while (g_hash_table_iter_next (&iter, &page, NULL))
    pages = g_list_prepend (pages, page);
  g_hash_table_remove_all (self->wanted);
  for (GList *l = pages; l; l = l->next)
    request_page (self, GPOINTER_TO_UINT (l->data));
  request_missing_pages (self);
  check_waiters (self, NULL);
  process_batches (self);
}

static gboolean
more_moves_queued (LbMessageList *self)
{
  for (GList *l = self->batches.head; l; l = l->next)
    {
      Batch *batch = l->data;

      if (batch->adds->len > 0 || batch->removes->len > 0)
        return TRUE;
    }
  return FALSE;
}

static void
start_reload (LbMessageList *self)
{
  GTask *task = g_task_new (self, self->cancellable, reload_done_cb, NULL);

  g_task_set_source_tag (task, lb_message_list_load_async);
  reload (self, task);
}

static void process_counts (LbMessageList *self, Counting *counting);

static int
compare_uint (gconstpointer a,
              gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return (x > y) - (x < y);
}

typedef struct
{
  LbMessageList *self;
  Counting *counting;
} CountCall;

static void
count_call_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autofree CountCall *call = user_data;
  g_autoptr(LbMessageList) self = call->self;
  Counting *counting = call->counting;
  g_autoptr(GArray) counts = NULL;
  g_autoptr(GError) error = NULL;

  if (self->threaded)
    counts = lb_store_count_conversations_before_finish (LB_STORE (object), result, &error);
  else
    counts = lb_store_count_before_finish (LB_STORE (object), result, &error);
  if (counts == NULL)
    counting->failed = TRUE;
  else
    for (guint i = 0; i < counts->len; i++)
      g_array_index (counting->counts, guint, i) += g_array_index (counts, guint, i);

  if (--counting->outstanding > 0)
    return;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      counting_free (counting);
      return;
    }
  process_counts (self, counting);
}

static void
process_counts (LbMessageList *self,
                Counting      *counting)
{
  Batch *batch = counting->batch;
  guint n_removes = batch->removes->len;
  g_autoptr(GArray) old_positions = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GArray) order = NULL;

  /* later writes already counted in: work it all out from scratch */
  if (counting->failed || more_moves_queued (self))
    {
      counting_free (counting);
      while (!g_queue_is_empty (&self->batches))
        batch_free (g_queue_pop_head (&self->batches));
      start_reload (self);
      return;
    }

  /* where each removed row was: rows before it now, less the added
   * ones before it, plus the other removed ones before it */
  for (guint i = 0; i < n_removes; i++)
    {
      LbStorePosition *r = &g_array_index (batch->removes, LbStorePosition, i);
      guint pos = g_array_index (counting->counts, guint, i);

      for (guint j = 0; j < batch->adds->len; j++)
        if (position_before (&g_array_index (batch->adds, LbStorePosition, j), 0, r, 0))
          pos--;
      for (guint j = 0; j < n_removes; j++)
        if (j != i && position_before (&g_array_index (batch->removes, LbStorePosition, j), 0, r, 0))
          pos++;
      g_array_append_val (old_positions, pos);
    }

  /* remove from the bottom up, so each position holds as we go */
  g_array_sort (old_positions, compare_uint);
  for (guint k = n_removes; k-- > 0;)
    {
      guint best = g_array_index (old_positions, guint, k);

      if (best >= self->n_items)
        continue;

      if (best < self->win_start)
        self->win_start--;
      else if (best < win_end (self))
        g_ptr_array_remove_index (self->window, best - self->win_start);
      self->n_items--;
      g_list_model_items_changed (G_LIST_MODEL (self), best, 1, 0);
    }

  /* then insert from the top down */
  order = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint j = 0; j < batch->adds->len; j++)
    {
      guint pos = g_array_index (counting->counts, guint, n_removes + j);

      g_array_append_val (order, pos);
    }
  g_array_sort (order, compare_uint);
  for (guint j = 0; j < order->len; j++)
    {
      guint pos = MIN (g_array_index (order, guint, j), self->n_items);

      if (self->window->len > 0 && pos >= self->win_start && pos <= win_end (self))
        g_ptr_array_insert (self->window, pos - self->win_start, lb_message_new ());
      else if (self->window->len > 0 && pos < self->win_start)
        self->win_start++;
      self->n_items++;
      g_list_model_items_changed (G_LIST_MODEL (self), pos, 0, 1);
    }

  while (self->window->len > LB_MESSAGE_LIST_MAX_RESIDENT)
    g_ptr_array_remove_index (self->window, self->window->len - 1);

  apply_updates (self, batch->store, batch->updates);
  counting_free (counting);
  finish_batch (self);
}

static void
process_batches (LbMessageList *self)
{
  Batch *batch;
  Counting *counting;

  if (self->busy || !self->loaded || g_queue_is_empty (&self->batches))
    return;

  batch = g_queue_pop_head (&self->batches);

  if (batch->adds->len == 0 && batch->removes->len == 0)
    {
      apply_updates (self, batch->store, batch->updates);
      batch_free (batch);
      process_batches (self);
      return;
    }

  if (batch->adds->len + batch->removes->len > BULK_CHANGE)
    {
      /* an import: one reset says it best */
      batch_free (batch);
      while (!g_queue_is_empty (&self->batches))
        batch_free (g_queue_pop_head (&self->batches));
      start_reload (self);
      return;
    }

  self->busy = TRUE;
  counting = g_new0 (Counting, 1);
  counting->batch = batch;
  counting->positions = g_array_new (FALSE, FALSE, sizeof (LbStorePosition));
  g_array_append_vals (counting->positions, batch->removes->data, batch->removes->len);
  g_array_append_vals (counting->positions, batch->adds->data, batch->adds->len);
  counting->counts = g_array_new (FALSE, TRUE, sizeof (guint));
  g_array_set_size (counting->counts, counting->positions->len);
  counting->outstanding = self->sources->len;

  for (guint i = 0; i < self->sources->len; i++)
    {
      Source *source = self->sources->pdata[i];
      CountCall *call = g_new0 (CountCall, 1);

      call->self = g_object_ref (self);
      call->counting = counting;
      if (self->threaded)
        lb_store_count_conversations_before_async (source->store, source->folder_id, counting->positions,
                                                   self->cancellable, count_call_cb, call);
      else
        lb_store_count_before_async (source->store, source->folder_id, counting->positions,
                                     self->cancellable, count_call_cb, call);
    }
}

/* ------------------------------------------------------------------ object */

static void
source_free (Source *source)
{
  g_clear_signal_handler (&source->handler, source->store);
  g_object_unref (source->store);
  g_free (source);
}

static void
lb_message_list_dispose (GObject *object)
{
  LbMessageList *self = LB_MESSAGE_LIST (object);

  g_cancellable_cancel (self->cancellable);
  g_ptr_array_set_size (self->sources, 0);
  g_ptr_array_set_size (self->window, 0);
  while (!g_queue_is_empty (&self->batches))
    batch_free (g_queue_pop_head (&self->batches));

  G_OBJECT_CLASS (lb_message_list_parent_class)->dispose (object);
}

static void
lb_message_list_finalize (GObject *object)
{
  LbMessageList *self = LB_MESSAGE_LIST (object);

  g_ptr_array_unref (self->sources);
  g_ptr_array_unref (self->window);
  g_hash_table_unref (self->pending);
  g_queue_clear (&self->queued);
  g_hash_table_unref (self->wanted);
  g_object_unref (self->cancellable);

  G_OBJECT_CLASS (lb_message_list_parent_class)->finalize (object);
}

static void
lb_message_list_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  LbMessageList *self = LB_MESSAGE_LIST (object);

  switch (prop_id)
    {
    case PROP_THREADED:
      g_value_set_boolean (value, self->threaded);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_message_list_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  LbMessageList *self = LB_MESSAGE_LIST (object);

  switch (prop_id)
    {
    case PROP_THREADED:
      self->threaded = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_message_list_class_init (LbMessageListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lb_message_list_dispose;
  object_class->finalize = lb_message_list_finalize;
  object_class->get_property = lb_message_list_get_property;
  object_class->set_property = lb_message_list_set_property;

  /**
   * LbMessageList:threaded:
   *
   * Whether each row is a conversation (the newest message of a thread
   * in a folder, with the thread's counts there) rather than a message.
   * Set when the list is made (lb_message_list_new_threaded()).
   */
  properties[PROP_THREADED] =
    g_param_spec_boolean ("threaded", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lb_message_list_init (LbMessageList *self)
{
  self->sources = g_ptr_array_new_with_free_func ((GDestroyNotify) source_free);
  self->window = g_ptr_array_new_with_free_func (g_object_unref);
  self->pending = g_hash_table_new (NULL, NULL);
  self->wanted = g_hash_table_new (NULL, NULL);
  self->cancellable = g_cancellable_new ();
  g_queue_init (&self->batches);
  g_queue_init (&self->queued);
}

/**
 * lb_message_list_new:
 *
 * Returns: (transfer full): an empty list; add folders, then load it
 */
LbMessageList *
lb_message_list_new (void)
{
  return g_object_new (LB_TYPE_MESSAGE_LIST, NULL);
}

/**
 * lb_message_list_new_threaded:
 *
 * Returns: (transfer full): an empty list of conversations: each row the
 *   newest message of a thread in one of the list's folders, with the
 *   thread's counts there (lb_message_get_n_messages()...); add folders,
 *   then load it
 */
LbMessageList *
lb_message_list_new_threaded (void)
{
  return g_object_new (LB_TYPE_MESSAGE_LIST, "threaded", TRUE, NULL);
}

/**
 * lb_message_list_get_threaded:
 *
 * Returns: whether the rows are conversations
 */
gboolean
lb_message_list_get_threaded (LbMessageList *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE_LIST (self), FALSE);

  return self->threaded;
}

static void
conversation_keys_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GPtrArray) rows = NULL;
  GError *error = NULL;
  GArray *keys;

  rows = lb_store_list_conversation_messages_finish (LB_STORE (object), result, &error);
  if (rows == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  keys = g_array_sized_new (FALSE, FALSE, sizeof (gint64), rows->len);
  for (guint i = 0; i < rows->len; i++)
    g_array_append_val (keys, ((LbMessageSummary *) rows->pdata[i])->key);
  g_task_return_pointer (task, keys, (GDestroyNotify) g_array_unref);
}

/**
 * lb_message_list_dup_conversation_keys_async:
 * @self: the list
 * @message: a loaded row of the list
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the keys
 * @user_data: data for @callback
 *
 * Finds the messages a row stands for, which is what an action on the
 * row (mark read, flag, move, delete) applies to: for a conversation row,
 * every message of its thread in the row's folder, as the store has them
 * now (oldest first); for a message row, the message. The keys are of
 * the row's store (lb_message_get_store()).
 */
void
lb_message_list_dup_conversation_keys_async (LbMessageList       *self,
                                             LbMessage           *message,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LB_IS_MESSAGE_LIST (self));
  g_return_if_fail (LB_IS_MESSAGE (message));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_message_list_dup_conversation_keys_async);

  if (!lb_message_get_loaded (message) || lb_message_get_store (message) == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                               _("The message is not loaded yet"));
      return;
    }
  if (!self->threaded || lb_message_get_n_messages (message) == 0)
    {
      GArray *keys = g_array_new (FALSE, FALSE, sizeof (gint64));
      gint64 key = lb_message_get_key (message);

      g_array_append_val (keys, key);
      g_task_return_pointer (task, keys, (GDestroyNotify) g_array_unref);
      return;
    }
  lb_store_list_conversation_messages_async (lb_message_get_store (message),
                                             lb_message_get_folder_id (message),
                                             lb_message_get_thread_id (message),
                                             cancellable, conversation_keys_cb, g_steal_pointer (&task));
}

/**
 * lb_message_list_dup_conversation_keys_finish:
 *
 * Returns: (transfer full) (element-type gint64): the keys
 */
GArray *
lb_message_list_dup_conversation_keys_finish (LbMessageList  *self,
                                              GAsyncResult   *result,
                                              GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_message_list_dup_conversation_keys_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lb_message_list_add_folder:
 * @self: the list
 * @store: an account's store
 * @folder_id: one of its folders
 *
 * Adds a folder's messages to the list (one folder for a folder's list,
 * each account's inbox for the unified inbox). Call before loading.
 */
void
lb_message_list_add_folder (LbMessageList *self,
                            LbStore       *store,
                            gint64         folder_id)
{
  Source *source;
  gboolean watched = FALSE;

  g_return_if_fail (LB_IS_MESSAGE_LIST (self));
  g_return_if_fail (LB_IS_STORE (store));
  g_return_if_fail (!self->loaded);

  for (guint i = 0; i < self->sources->len; i++)
    watched |= ((Source *) self->sources->pdata[i])->store == store;

  source = g_new0 (Source, 1);
  source->store = g_object_ref (store);
  source->folder_id = folder_id;
  if (!watched)
    source->handler = g_signal_connect (store, self->threaded ? "conversations-changed" : "changed",
                                        G_CALLBACK (on_store_changed), self);
  g_ptr_array_add (self->sources, source);
}

/**
 * lb_message_list_peek:
 * @self: a list
 * @position: a position
 *
 * The row at @position if it is in memory, without reading anything or
 * moving the window of resident rows (as g_list_model_get_item() does):
 * for looking at a large selection.
 *
 * Returns: (transfer none) (nullable): the row, loaded or not, or %NULL
 *   when it is not resident
 */
LbMessage *
lb_message_list_peek (LbMessageList *self,
                      guint          position)
{
  g_return_val_if_fail (LB_IS_MESSAGE_LIST (self), NULL);

  if (position >= self->n_items)
    return NULL;
  return window_get (self, position);
}

/**
 * lb_message_list_get_n_resident:
 *
 * Returns: how many rows the list holds in memory now
 */
guint
lb_message_list_get_n_resident (LbMessageList *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE_LIST (self), 0);

  return self->window->len;
}

/**
 * lb_message_list_is_busy:
 *
 * Returns: whether the list is catching up with a change of the store
 */
gboolean
lb_message_list_is_busy (LbMessageList *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE_LIST (self), FALSE);

  return self->busy || self->updating > 0 || !g_queue_is_empty (&self->batches) ||
         g_hash_table_size (self->pending) > 0;
}
