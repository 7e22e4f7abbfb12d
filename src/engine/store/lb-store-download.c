/* lb-store-download.c: streaming POP3 messages into a local folder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-store"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "lb-maildir.h"
#include "lb-mime-summary.h"
#include "lb-store-download.h"
#include "lb-store-private.h"

/* Three threads take part. The caller's (main) thread queues commands;
 * the download's writer thread writes the files, commits them to the
 * Maildir in batches and parses them; the store's writer thread adds the
 * rows (lb_store_record_downloads()), in order with the store's other
 * writes, while the download's writer goes on with the next batch. What
 * the writers report (bytes written, messages recorded, an error) is
 * kept in a Shared block and brought to the main context by an idle
 * source, which completes waits and flushes and emits ::recorded. */

/* a commit of the Maildir and of the rows, at the latest after */
#define COMMIT_MESSAGES 256
#define COMMIT_BYTES (8 * 1024 * 1024)

/* bytes gathered on the main thread before they go to the writer */
#define CHUNK_BYTES (128 * 1024)

/* batches handed to the store's writer and not yet committed there */
#define MAX_IN_FLIGHT 2

typedef enum
{
  CMD_BEGIN,
  CMD_DATA,
  CMD_END,
  CMD_ABORT,
  CMD_FLUSH,
  CMD_CLOSE,
} CommandKind;

typedef struct
{
  CommandKind  kind;
  char        *uidl;       /* BEGIN */
  gint64       received;   /* BEGIN */
  guint        flags;      /* BEGIN */
  gboolean     partial;    /* BEGIN */
  GByteArray  *data;       /* DATA */
  guint64      seq;        /* FLUSH */
} Command;

typedef struct
{
  GMutex        lock;
  GCond         cond;
  GMainContext *context;
  GWeakRef      download;

  gsize         backlog;    /* atomic: bytes queued, not yet in a file */
  int           failed;     /* atomic: error is set */
  int           waiting;    /* atomic: the main thread waits for the backlog */

  /* under lock */
  GError       *error;
  guint         n_recorded;
  GPtrArray    *recorded;   /* char *: UIDLs since the last flush_finish */
  guint64       flushed_seq;
  guint         in_flight;
  gboolean      dispatch_queued;
} Shared;

/* the download's writer thread's own state */
typedef struct
{
  LbStore        *store;
  gint64          folder_id;
  Shared         *shared;
  GAsyncQueue    *commands;

  LbMaildir      *maildir;
  LbMaildirBatch *batch;
  GPtrArray      *items;         /* Item: the batch's ended messages */
  gsize           bytes;
  GThreadPool    *parser;        /* one thread: parses committed batches */

  gboolean        open;          /* a message is being written */
  gsize           written;       /* its bytes so far */
  const char     *unique;        /* its name, owned by the batch */
  char           *uidl;
  gint64          received;
  guint           flags;
  gboolean        is_partial;
  guint64         flush_after;   /* a flush asked for while it was open */
} Writer;

typedef struct
{
  GTask   *task;
  guint64  max_backlog;   /* waits */
  guint64  seq;           /* flushes */
  gulong   cancelled_id;
} Pending;

struct _LbStoreDownload
{
  GObject       parent_instance;

  LbStore      *store;
  gint64        folder_id;
  GMainContext *context;
  Shared       *shared;
  GAsyncQueue  *commands;
  GThread      *thread;

  /* main thread only */
  GByteArray   *pending;      /* written, not yet queued */
  gboolean      in_message;
  GQueue        waits;        /* Pending */
  GQueue        flushes;      /* Pending */
  guint64       flush_seq;
  guint         emitted;      /* the count ::recorded last told */
  gboolean      closed;
};

G_DEFINE_FINAL_TYPE (LbStoreDownload, lb_store_download, G_TYPE_OBJECT)

enum {
  SIGNAL_RECORDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ------------------------------------------------------------------ shared state */

static void
shared_clear (gpointer data)
{
  Shared *shared = data;

  g_mutex_clear (&shared->lock);
  g_cond_clear (&shared->cond);
  g_main_context_unref (shared->context);
  g_weak_ref_clear (&shared->download);
  g_clear_error (&shared->error);
  g_ptr_array_unref (shared->recorded);
}

static void
shared_release (Shared *shared)
{
  g_atomic_rc_box_release_full (shared, shared_clear);
}

static void dispatch (LbStoreDownload *self);

static gboolean
dispatch_cb (gpointer data)
{
  Shared *shared = data;
  g_autoptr(LbStoreDownload) self = g_weak_ref_get (&shared->download);

  g_mutex_lock (&shared->lock);
  shared->dispatch_queued = FALSE;
  g_mutex_unlock (&shared->lock);

  if (self != NULL)
    dispatch (self);
  return G_SOURCE_REMOVE;
}

/* any thread: has the main context look at what changed */
static void
notify_main (Shared *shared)
{
  g_autoptr(GSource) source = NULL;

  g_mutex_lock (&shared->lock);
  if (shared->dispatch_queued)
    {
      g_mutex_unlock (&shared->lock);
      return;
    }
  shared->dispatch_queued = TRUE;
  g_mutex_unlock (&shared->lock);

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, dispatch_cb, g_atomic_rc_box_acquire (shared),
                         (GDestroyNotify) shared_release);
  g_source_set_static_name (source, "[letterbox] store download");
  g_source_attach (source, shared->context);
}

/* any thread: the download failed; the first error is the one kept */
static void
shared_fail (Shared *shared,
             GError *error)
{
  g_mutex_lock (&shared->lock);
  if (shared->error == NULL)
    shared->error = error;
  else
    g_error_free (error);
  g_atomic_int_set (&shared->failed, TRUE);
  g_cond_broadcast (&shared->cond);
  g_mutex_unlock (&shared->lock);
  notify_main (shared);
}

/* ------------------------------------------------------------------ the writer thread */

static void
command_free (Command *command)
{
  g_free (command->uidl);
  if (command->data != NULL)
    g_byte_array_unref (command->data);
  g_free (command);
}

/* A message written and closed, waiting for its batch's commit. */
typedef struct
{
  char     *unique;
  char     *path;       /* once committed: in new/ or cur/ */
  char     *uidl;
  gint64    received;
  guint     flags;
  gboolean  partial;
} Item;

static void
item_free (Item *item)
{
  g_free (item->unique);
  g_free (item->path);
  g_free (item->uidl);
  g_free (item);
}

static void
writer_reset_batch (Writer *w)
{
  g_clear_pointer (&w->batch, lb_maildir_batch_free);
  g_clear_pointer (&w->items, g_ptr_array_unref);
  w->bytes = 0;
  w->open = FALSE;
  w->unique = NULL;
  g_clear_pointer (&w->uidl, g_free);
}

/* Drops what is not committed (the batch's files go with it). */
static void
writer_fail (Writer *w,
             GError *error)
{
  writer_reset_batch (w);
  shared_fail (w->shared, error);
}

typedef struct
{
  Shared  *shared;
  guint64  seq;
} RecordContext;

/* the store's writer thread */
static void
record_done (GPtrArray    *recorded,
             const GError *error,
             gpointer      user_data)
{
  RecordContext *context = user_data;
  Shared *shared = context->shared;

  g_mutex_lock (&shared->lock);
  shared->in_flight--;
  if (error != NULL)
    {
      if (shared->error == NULL)
        shared->error = g_error_copy (error);
      g_atomic_int_set (&shared->failed, TRUE);
    }
  else if (recorded != NULL)
    {
      for (guint i = 0; i < recorded->len; i++)
        g_ptr_array_add (shared->recorded, g_strdup (recorded->pdata[i]));
      shared->n_recorded += recorded->len;
      if (context->seq > shared->flushed_seq)
        shared->flushed_seq = context->seq;
    }
  g_cond_broadcast (&shared->cond);
  g_mutex_unlock (&shared->lock);

  notify_main (shared);
  shared_release (shared);
  g_free (context);
}

/* A committed batch on its way to the parser, then to the store. */
typedef struct
{
  GPtrArray *items;    /* Item, nullable */
  LbStore   *store;
  gint64     folder_id;
  Shared    *shared;
  guint64    seq;
} ParseJob;

/* The summary of a message's file, parsed from a mapping of it. */
static LbMessageSummary *
parse_file (const char  *path,
            gint64       received,
            char       **body_text,
            GError     **error)
{
  g_autoptr(GMappedFile) mapped = g_mapped_file_new (path, FALSE, error);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) parse_error = NULL;
  LbMessageSummary *summary;

  if (mapped == NULL)
    {
      g_prefix_error (error, _("Could not read a downloaded message: "));
      return NULL;
    }
  bytes = g_mapped_file_get_bytes (mapped);
  summary = lb_mime_summary_parse (bytes, received, body_text, &parse_error);
  if (summary == NULL)
    {
      /* an empty or broken message is still mail: keep it, with the
       * little that is known of it */
      g_debug ("%s: %s", path, parse_error->message);
      summary = lb_message_summary_new ();
      summary->date = received;
    }
  summary->size = (gint64) g_bytes_get_size (bytes);
  return summary;
}

/* The parser thread: the summaries of a committed batch, then its rows
 * to the store's writer. */
static void
parse_job (gpointer data,
           gpointer user_data)
{
  ParseJob *job = data;
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) body_texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) partial = g_array_new (FALSE, FALSE, sizeof (gboolean));
  RecordContext *context;
  GError *error = NULL;

  for (guint i = 0; job->items != NULL && i < job->items->len && error == NULL; i++)
    {
      Item *item = job->items->pdata[i];
      char *body_text = NULL;
      LbMessageSummary *summary = parse_file (item->path, item->received, &body_text, &error);

      if (summary == NULL)
        break;
      summary->flags = item->flags;
      summary->uidl = g_steal_pointer (&item->uidl);
      summary->location = g_steal_pointer (&item->unique);
      g_ptr_array_add (summaries, summary);
      g_ptr_array_add (body_texts, body_text);
      g_array_append_val (partial, item->partial);
    }

  context = g_new0 (RecordContext, 1);
  context->shared = job->shared;   /* the job's reference */
  context->seq = job->seq;
  if (error != NULL)
    {
      /* not recorded: none of the batch's files stays */
      for (guint i = 0; i < job->items->len; i++)
        g_unlink (((Item *) job->items->pdata[i])->path);
      record_done (NULL, error, context);
      g_error_free (error);
    }
  else
    lb_store_record_downloads (job->store, job->folder_id, summaries, body_texts, partial,
                               record_done, context);

  g_clear_pointer (&job->items, g_ptr_array_unref);
  g_free (job);
}

/* Makes the batch durable and visible in the Maildir and hands it to the
 * parser, which hands its rows to the store; with @seq, a flush: the
 * store reports it done once these rows (and all before) are committed. */
static void
writer_commit (Writer  *w,
               guint64  seq)
{
  GError *error = NULL;
  ParseJob *job;

  if (g_atomic_int_get (&w->shared->failed))
    {
      /* a flush fails with the error */
      if (seq != 0)
        notify_main (w->shared);
      return;
    }
  if (w->batch != NULL && lb_maildir_batch_get_length (w->batch) > 0 &&
      !lb_maildir_batch_commit (w->batch, &error))
    {
      writer_fail (w, error);
      return;
    }
  if ((w->items == NULL || w->items->len == 0) && seq == 0)
    return;

  /* the parser or the store's writer is behind: wait rather than pile up
   * batches */
  g_mutex_lock (&w->shared->lock);
  while (w->shared->in_flight >= MAX_IN_FLIGHT)
    g_cond_wait (&w->shared->cond, &w->shared->lock);
  w->shared->in_flight++;
  g_mutex_unlock (&w->shared->lock);

  for (guint i = 0; w->items != NULL && i < w->items->len; i++)
    {
      Item *item = w->items->pdata[i];

      item->path = g_strdup (lb_maildir_batch_get_path (w->batch, i));
    }

  job = g_new0 (ParseJob, 1);
  job->items = g_steal_pointer (&w->items);
  job->store = w->store;
  job->folder_id = w->folder_id;
  job->shared = g_atomic_rc_box_acquire (w->shared);
  job->seq = seq;
  g_thread_pool_push (w->parser, job, NULL);

  /* committed: the batch's files stay */
  writer_reset_batch (w);
}

static void
writer_end (Writer *w)
{
  GError *error = NULL;
  Item *item;

  if (!w->open)
    return;
  w->open = FALSE;
  if (!lb_maildir_batch_end (w->batch, &error))
    {
      writer_fail (w, error);
      return;
    }

  item = g_new0 (Item, 1);
  item->unique = g_strdup (w->unique);
  item->uidl = g_steal_pointer (&w->uidl);
  item->received = w->received;
  item->flags = w->flags;
  item->partial = w->is_partial;
  w->unique = NULL;
  if (w->items == NULL)
    w->items = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
  g_ptr_array_add (w->items, item);
  w->bytes += w->written;

  if (w->items->len >= COMMIT_MESSAGES || w->bytes >= COMMIT_BYTES)
    writer_commit (w, 0);
}

static void
writer_abort (Writer *w)
{
  if (w->open && w->batch != NULL)
    lb_maildir_batch_abort (w->batch);
  w->open = FALSE;
  w->unique = NULL;
  g_clear_pointer (&w->uidl, g_free);
}

static void
writer_begin (Writer  *w,
              Command *command)
{
  GError *error = NULL;

  writer_abort (w);
  if (w->maildir == NULL)
    {
      w->maildir = lb_store_get_folder_maildir (w->store, w->folder_id, &error);
      if (w->maildir == NULL)
        {
          writer_fail (w, error);
          return;
        }
    }
  if (w->batch == NULL)
    w->batch = lb_maildir_batch_new (w->maildir);

  w->unique = lb_maildir_batch_begin (w->batch, command->flags, &error);
  if (w->unique == NULL)
    {
      writer_fail (w, error);
      return;
    }
  w->open = TRUE;
  w->written = 0;
  w->uidl = g_steal_pointer (&command->uidl);
  w->received = command->received;
  w->flags = command->flags;
  w->is_partial = command->partial;
}

static void
writer_data (Writer     *w,
             GByteArray *data)
{
  GError *error = NULL;

  if (w->open && !g_atomic_int_get (&w->shared->failed) &&
      !lb_maildir_batch_write (w->batch, data->data, data->len, &error))
    {
      w->open = FALSE;
      w->unique = NULL;
      writer_fail (w, error);
    }
  w->written += data->len;
  g_atomic_pointer_add (&w->shared->backlog, -(gssize) data->len);
  if (g_atomic_int_get (&w->shared->waiting))
    notify_main (w->shared);
}

static gpointer
writer_thread (gpointer data)
{
  Writer *w = data;
  gboolean done = FALSE;

  while (!done)
    {
      Command *command = g_async_queue_pop (w->commands);
      gboolean failed = g_atomic_int_get (&w->shared->failed);

      switch (command->kind)
        {
        case CMD_BEGIN:
          if (!failed)
            writer_begin (w, command);
          break;

        case CMD_DATA:
          writer_data (w, command->data);
          break;

        case CMD_END:
          if (!failed)
            writer_end (w);
          break;

        case CMD_ABORT:
          writer_abort (w);
          break;

        case CMD_FLUSH:
          if (w->open)
            w->flush_after = command->seq;
          else
            writer_commit (w, command->seq);
          break;

        case CMD_CLOSE:
          done = TRUE;
          break;

        default:
          g_assert_not_reached ();
        }

      /* a flush asked for in the middle of a message waits for its end */
      if (w->flush_after != 0 && !w->open && command->kind != CMD_FLUSH)
        {
          writer_commit (w, w->flush_after);
          w->flush_after = 0;
        }
      command_free (command);
    }

  /* what is not committed is dropped, its files removed; what is, goes
   * on to the store */
  writer_reset_batch (w);
  g_thread_pool_free (w->parser, FALSE, TRUE);
  g_clear_object (&w->maildir);
  g_async_queue_unref (w->commands);
  shared_release (w->shared);
  g_free (w);
  return NULL;
}

/* ------------------------------------------------------------------ main thread */

static void
push_command (LbStoreDownload *self,
              Command         *command)
{
  g_async_queue_push (self->commands, command);
}

static void
push_pending (LbStoreDownload *self)
{
  Command *command;

  if (self->pending == NULL || self->pending->len == 0)
    return;
  command = g_new0 (Command, 1);
  command->kind = CMD_DATA;
  command->data = g_steal_pointer (&self->pending);
  push_command (self, command);
}

static void
pending_free (Pending *pending)
{
  GCancellable *cancellable = g_task_get_cancellable (pending->task);

  if (pending->cancelled_id != 0)
    g_cancellable_disconnect (cancellable, pending->cancelled_id);
  g_object_unref (pending->task);
  g_free (pending);
}

static void
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  notify_main (user_data);
}

static Pending *
pending_new (LbStoreDownload *self,
             GTask           *task)
{
  Pending *pending = g_new0 (Pending, 1);
  GCancellable *cancellable = g_task_get_cancellable (task);

  pending->task = task;
  if (cancellable != NULL)
    pending->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_cb),
                                                   g_atomic_rc_box_acquire (self->shared),
                                                   (GDestroyNotify) shared_release);
  return pending;
}

/* Completes what can be completed: waits, flushes, ::recorded. */
static void
dispatch (LbStoreDownload *self)
{
  g_autoptr(GError) error = NULL;
  guint64 backlog = (guint64) g_atomic_pointer_get (&self->shared->backlog);
  guint64 flushed_seq;
  guint n_recorded;
  GList *link;

  g_mutex_lock (&self->shared->lock);
  if (self->shared->error != NULL)
    error = g_error_copy (self->shared->error);
  flushed_seq = self->shared->flushed_seq;
  n_recorded = self->shared->n_recorded;
  g_mutex_unlock (&self->shared->lock);

  g_object_ref (self);

  /* the progress first: a flush that completes finds it told */
  if (n_recorded != self->emitted)
    {
      self->emitted = n_recorded;
      g_signal_emit (self, signals[SIGNAL_RECORDED], 0, n_recorded);
    }

  /* A task returned may call back at once, and its callback may call
   * into the download again (close it, flush again): each pending is out
   * of its queue before it completes, and the queue is walked afresh
   * after each. */
  for (;;)
    {
      Pending *pending = NULL;

      for (link = self->waits.head; link != NULL; link = link->next)
        {
          GCancellable *cancellable = g_task_get_cancellable (((Pending *) link->data)->task);

          if (error != NULL || backlog <= ((Pending *) link->data)->max_backlog ||
              (cancellable != NULL && g_cancellable_is_cancelled (cancellable)))
            break;
        }
      if (link == NULL)
        break;
      pending = link->data;
      g_queue_delete_link (&self->waits, link);
      g_atomic_int_set (&self->shared->waiting, self->waits.length > 0);
      if (error != NULL)
        g_task_return_error (pending->task, g_error_copy (error));
      else if (backlog <= pending->max_backlog)
        g_task_return_boolean (pending->task, TRUE);
      else
        g_task_return_error_if_cancelled (pending->task);
      pending_free (pending);
    }
  g_atomic_int_set (&self->shared->waiting, self->waits.length > 0);

  for (;;)
    {
      Pending *pending = NULL;

      for (link = self->flushes.head; link != NULL; link = link->next)
        {
          GCancellable *cancellable = g_task_get_cancellable (((Pending *) link->data)->task);

          if (((Pending *) link->data)->seq <= flushed_seq || error != NULL ||
              (cancellable != NULL && g_cancellable_is_cancelled (cancellable)))
            break;
        }
      if (link == NULL)
        break;
      pending = link->data;
      g_queue_delete_link (&self->flushes, link);
      if (pending->seq <= flushed_seq)
        {
          GPtrArray *recorded;

          g_mutex_lock (&self->shared->lock);
          recorded = g_steal_pointer (&self->shared->recorded);
          self->shared->recorded = g_ptr_array_new_with_free_func (g_free);
          g_mutex_unlock (&self->shared->lock);
          g_task_return_pointer (pending->task, recorded, (GDestroyNotify) g_ptr_array_unref);
        }
      else if (error != NULL)
        g_task_return_error (pending->task, g_error_copy (error));
      else
        g_task_return_error_if_cancelled (pending->task);
      pending_free (pending);
    }

  g_object_unref (self);
}

/**
 * lb_store_download_new:
 * @store: the account's store
 * @folder_id: a local folder (the POP3 inbox)
 *
 * Makes a download into @folder_id, and its writer thread. Its calls are
 * made, and its signals and results come, on the thread-default main
 * context of the caller.
 *
 * Returns: (transfer full): the download; lb_store_download_close() it
 */
LbStoreDownload *
lb_store_download_new (LbStore *store,
                       gint64   folder_id)
{
  LbStoreDownload *self;
  Writer *w;

  g_return_val_if_fail (LB_IS_STORE (store), NULL);

  self = g_object_new (LB_TYPE_STORE_DOWNLOAD, NULL);
  self->store = g_object_ref (store);
  self->folder_id = folder_id;
  self->context = g_main_context_ref_thread_default ();
  self->commands = g_async_queue_new_full ((GDestroyNotify) command_free);

  self->shared = g_atomic_rc_box_new0 (Shared);
  g_mutex_init (&self->shared->lock);
  g_cond_init (&self->shared->cond);
  self->shared->context = g_main_context_ref (self->context);
  g_weak_ref_init (&self->shared->download, self);
  self->shared->recorded = g_ptr_array_new_with_free_func (g_free);

  w = g_new0 (Writer, 1);
  w->store = store;   /* the download holds it until the thread is joined */
  w->folder_id = folder_id;
  w->shared = g_atomic_rc_box_acquire (self->shared);
  w->commands = g_async_queue_ref (self->commands);
  w->parser = g_thread_pool_new (parse_job, NULL, 1, FALSE, NULL);
  self->thread = g_thread_new ("lb-store-download", writer_thread, w);

  return self;
}

/**
 * lb_store_download_begin:
 * @self: the download
 * @uidl: (nullable): the message's POP3 UIDL
 * @received: when it arrived (its date if it has no usable Date)
 * @flags: its #LbMessageFlags (seen ones go to cur/, others to new/)
 * @partial: whether only its headers will be written (TOP n 0)
 *
 * Starts a message; its bytes follow with lb_store_download_write(). A
 * message begun while another is open drops that one.
 */
void
lb_store_download_begin (LbStoreDownload *self,
                         const char      *uidl,
                         gint64           received,
                         guint            flags,
                         gboolean         partial)
{
  Command *command;

  g_return_if_fail (LB_IS_STORE_DOWNLOAD (self));
  g_return_if_fail (!self->closed);

  if (self->in_message)
    lb_store_download_abort (self);

  command = g_new0 (Command, 1);
  command->kind = CMD_BEGIN;
  command->uidl = g_strdup (uidl);
  command->received = received;
  command->flags = flags & LB_MESSAGE_FLAGS_ALL;
  command->partial = partial;
  push_command (self, command);
  self->in_message = TRUE;
}

/**
 * lb_store_download_write:
 * @self: the download
 * @data: (array length=len): the next bytes of the message begun: whole
 *   CRLF lines, dot-unstuffed, as the file should hold them
 * @len: how many
 *
 * Copies the bytes and queues them for the writer; never blocks. Keep
 * lb_store_download_get_backlog() in bounds with
 * lb_store_download_wait_async().
 */
void
lb_store_download_write (LbStoreDownload *self,
                         const guint8    *data,
                         gsize            len)
{
  g_return_if_fail (LB_IS_STORE_DOWNLOAD (self));
  g_return_if_fail (data != NULL || len == 0);
  g_return_if_fail (self->in_message);

  /* failed: nothing more is written */
  if (len == 0 || g_atomic_int_get (&self->shared->failed))
    return;

  if (self->pending == NULL)
    self->pending = g_byte_array_sized_new (MAX (CHUNK_BYTES, len));
  g_byte_array_append (self->pending, data, (guint) len);
  g_atomic_pointer_add (&self->shared->backlog, (gssize) len);
  if (self->pending->len >= CHUNK_BYTES)
    push_pending (self);
}

static void
push_simple (LbStoreDownload *self,
             CommandKind      kind)
{
  Command *command = g_new0 (Command, 1);

  command->kind = kind;
  push_command (self, command);
}

/**
 * lb_store_download_end:
 * @self: the download
 *
 * The message begun is complete: it is recorded with the next commit.
 */
void
lb_store_download_end (LbStoreDownload *self)
{
  g_return_if_fail (LB_IS_STORE_DOWNLOAD (self));
  g_return_if_fail (self->in_message);

  push_pending (self);
  push_simple (self, CMD_END);
  self->in_message = FALSE;
}

/**
 * lb_store_download_abort:
 * @self: the download
 *
 * Drops the message begun (a connection lost in the middle of it, say):
 * its file is removed.
 */
void
lb_store_download_abort (LbStoreDownload *self)
{
  g_return_if_fail (LB_IS_STORE_DOWNLOAD (self));

  if (!self->in_message)
    return;
  push_pending (self);
  push_simple (self, CMD_ABORT);
  self->in_message = FALSE;
}

/**
 * lb_store_download_get_backlog:
 * @self: the download
 *
 * Returns: the bytes given to lb_store_download_write() that are not in a
 *   file yet
 */
guint64
lb_store_download_get_backlog (LbStoreDownload *self)
{
  g_return_val_if_fail (LB_IS_STORE_DOWNLOAD (self), 0);

  return (guint64) g_atomic_pointer_get (&self->shared->backlog);
}

/**
 * lb_store_download_get_n_recorded:
 * @self: the download
 *
 * Returns: how many messages were recorded (committed, or found stored
 *   already) so far
 */
guint
lb_store_download_get_n_recorded (LbStoreDownload *self)
{
  guint n;

  g_return_val_if_fail (LB_IS_STORE_DOWNLOAD (self), 0);

  g_mutex_lock (&self->shared->lock);
  n = self->shared->n_recorded;
  g_mutex_unlock (&self->shared->lock);
  return n;
}

static GTask *
new_task (LbStoreDownload     *self,
          gpointer             source_tag,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  return task;
}

static GError *
closed_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED,
                              _("The download was stopped before the messages were saved"));
}

/**
 * lb_store_download_wait_async:
 * @self: the download
 * @max_backlog: the most bytes that may still wait for the writer
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the backlog is down to @max_backlog
 * @user_data: data for @callback
 *
 * Waits until the writer has caught up to @max_backlog bytes, or the
 * download failed (then the wait fails with its error).
 */
void
lb_store_download_wait_async (LbStoreDownload     *self,
                              guint64              max_backlog,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task;
  Pending *pending;

  g_return_if_fail (LB_IS_STORE_DOWNLOAD (self));

  task = new_task (self, lb_store_download_wait_async, cancellable, callback, user_data);
  if (self->closed)
    {
      g_task_return_error (task, closed_error ());
      g_object_unref (task);
      return;
    }

  /* what waits here must reach the writer to drain */
  push_pending (self);
  pending = pending_new (self, task);
  pending->max_backlog = max_backlog;
  g_queue_push_tail (&self->waits, pending);
  g_atomic_int_set (&self->shared->waiting, TRUE);
  notify_main (self->shared);
}

gboolean
lb_store_download_wait_finish (LbStoreDownload  *self,
                               GAsyncResult     *result,
                               GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_download_wait_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * lb_store_download_flush_async:
 * @self: the download
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when every message ended so far is recorded
 * @user_data: data for @callback
 *
 * Commits every message ended so far: durable files in new/ or cur/,
 * their rows durably committed. A message still being written when it is
 * called is included once it ends.
 */
void
lb_store_download_flush_async (LbStoreDownload     *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;
  Pending *pending;
  Command *command;

  g_return_if_fail (LB_IS_STORE_DOWNLOAD (self));

  task = new_task (self, lb_store_download_flush_async, cancellable, callback, user_data);
  if (self->closed)
    {
      g_task_return_error (task, closed_error ());
      g_object_unref (task);
      return;
    }

  push_pending (self);
  command = g_new0 (Command, 1);
  command->kind = CMD_FLUSH;
  command->seq = ++self->flush_seq;
  /* the writer frees the command */
  push_command (self, command);

  pending = pending_new (self, task);
  pending->seq = self->flush_seq;
  g_queue_push_tail (&self->flushes, pending);
}

/**
 * lb_store_download_flush_finish:
 *
 * Returns: (transfer full) (element-type utf8): the UIDLs of every message
 *   recorded since the last flush that finished (those committed on the
 *   way included): each is durably stored and may be deleted from the
 *   server; %NULL with @error set when the download failed
 */
GPtrArray *
lb_store_download_flush_finish (LbStoreDownload  *self,
                                GAsyncResult     *result,
                                GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_download_flush_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lb_store_download_close:
 * @self: the download
 *
 * Stops the writer thread, after the batches it handed to the store are
 * committed. Messages not flushed (nor committed on the way) are dropped
 * and their files removed; waits and flushes still pending fail.
 */
void
lb_store_download_close (LbStoreDownload *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (LB_IS_STORE_DOWNLOAD (self));

  if (self->closed)
    return;
  self->closed = TRUE;
  self->in_message = FALSE;
  g_clear_pointer (&self->pending, g_byte_array_unref);

  push_simple (self, CMD_CLOSE);
  g_thread_join (g_steal_pointer (&self->thread));

  g_mutex_lock (&self->shared->lock);
  while (self->shared->in_flight > 0)
    g_cond_wait (&self->shared->cond, &self->shared->lock);
  g_mutex_unlock (&self->shared->lock);

  g_object_ref (self);
  dispatch (self);
  error = closed_error ();
  while (self->waits.length > 0)
    {
      Pending *pending = g_queue_pop_head (&self->waits);

      g_task_return_error (pending->task, g_error_copy (error));
      pending_free (pending);
    }
  while (self->flushes.length > 0)
    {
      Pending *pending = g_queue_pop_head (&self->flushes);

      g_task_return_error (pending->task, g_error_copy (error));
      pending_free (pending);
    }
  g_object_unref (self);
}

static void
lb_store_download_dispose (GObject *object)
{
  LbStoreDownload *self = LB_STORE_DOWNLOAD (object);

  if (!self->closed)
    lb_store_download_close (self);

  G_OBJECT_CLASS (lb_store_download_parent_class)->dispose (object);
}

static void
lb_store_download_finalize (GObject *object)
{
  LbStoreDownload *self = LB_STORE_DOWNLOAD (object);

  g_clear_pointer (&self->commands, g_async_queue_unref);
  g_clear_pointer (&self->shared, shared_release);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (lb_store_download_parent_class)->finalize (object);
}

static void
lb_store_download_class_init (LbStoreDownloadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lb_store_download_dispose;
  object_class->finalize = lb_store_download_finalize;

  /**
   * LbStoreDownload::recorded:
   * @download: the download
   * @n_total_recorded: how many messages it recorded so far
   *
   * Emitted on the download's main context after a commit recorded more.
   */
  signals[SIGNAL_RECORDED] =
    g_signal_new ("recorded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void
lb_store_download_init (LbStoreDownload *self)
{
  g_queue_init (&self->waits);
  g_queue_init (&self->flushes);
}
