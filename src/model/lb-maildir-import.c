/* lb-maildir-import.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-maildir-import"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "lb-maildir.h"
#include "lb-maildir-import.h"

/* Imports every message of a Maildir (another program's, a backup) into
 * a local folder of an account. Files are read off the main thread in
 * batches; while the store writes one batch (Maildir files made durable,
 * then the rows in one transaction) the next is read. Each imported
 * message remembers the unique name it had in the source as
 * "import:<name>" in its UIDL, so an import that was interrupted can be
 * run again: it adds only what is missing. The source is never changed. */

/* a batch is this many messages, or this many bytes, whichever comes
 * first: two batches are in memory at a time */
#define BATCH_SIZE 500
#define BATCH_BYTES (32 * 1024 * 1024)

struct _LbMaildirImport
{
  GObject parent_instance;

  LbStore *store;
  gint64 folder_id;
  char *path;

  GPtrArray *entries;   /* LbMaildirEntry */
  guint next;           /* first entry not read yet */
  guint done;
  guint imported;
  GPtrArray *ready;     /* a batch read, waiting for the store */
  gboolean writing;
  gboolean reading;
  GError *failure;      /* the first error: nothing new starts after it */
  gboolean returned;
};

G_DEFINE_FINAL_TYPE (LbMaildirImport, lb_maildir_import, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_TOTAL,
  PROP_DONE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
lb_maildir_import_finalize (GObject *object)
{
  LbMaildirImport *self = LB_MAILDIR_IMPORT (object);

  g_clear_object (&self->store);
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_pointer (&self->ready, g_ptr_array_unref);
  g_clear_error (&self->failure);

  G_OBJECT_CLASS (lb_maildir_import_parent_class)->finalize (object);
}

static void
lb_maildir_import_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  LbMaildirImport *self = LB_MAILDIR_IMPORT (object);

  switch (prop_id)
    {
    case PROP_TOTAL:
      g_value_set_uint (value, lb_maildir_import_get_total (self));
      break;
    case PROP_DONE:
      g_value_set_uint (value, self->done);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_maildir_import_class_init (LbMaildirImportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lb_maildir_import_finalize;
  object_class->get_property = lb_maildir_import_get_property;

  properties[PROP_TOTAL] =
    g_param_spec_uint ("total", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DONE] =
    g_param_spec_uint ("done", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lb_maildir_import_init (LbMaildirImport *self)
{
}

/**
 * lb_maildir_import_new:
 * @store: the account's store
 * @folder_id: a local folder of it
 * @path: the Maildir to import (with tmp/, new/ and cur/)
 *
 * Returns: (transfer full): an import, to run
 */
LbMaildirImport *
lb_maildir_import_new (LbStore    *store,
                       gint64      folder_id,
                       const char *path)
{
  LbMaildirImport *self;

  g_return_val_if_fail (LB_IS_STORE (store), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (LB_TYPE_MAILDIR_IMPORT, NULL);
  self->store = g_object_ref (store);
  self->folder_id = folder_id;
  self->path = g_strdup (path);
  return self;
}

guint
lb_maildir_import_get_total (LbMaildirImport *self)
{
  g_return_val_if_fail (LB_IS_MAILDIR_IMPORT (self), 0);

  return self->entries ? self->entries->len : 0;
}

guint
lb_maildir_import_get_done (LbMaildirImport *self)
{
  g_return_val_if_fail (LB_IS_MAILDIR_IMPORT (self), 0);

  return self->done;
}

static void
list_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LbMaildirImport *self = source_object;
  g_autoptr(LbMaildir) source = lb_maildir_new (self->path);
  g_autofree char *cur = g_build_filename (self->path, "cur", NULL);
  g_autofree char *new = g_build_filename (self->path, "new", NULL);
  GPtrArray *entries;
  GError *error = NULL;

  if (!g_file_test (cur, G_FILE_TEST_IS_DIR) || !g_file_test (new, G_FILE_TEST_IS_DIR))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               _("“%s” is not a Maildir: it has no “cur” and “new” folders"),
                               self->path);
      return;
    }

  entries = lb_maildir_list (source, &error);
  if (entries == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, entries, (GDestroyNotify) g_ptr_array_unref);
}

typedef struct
{
  GPtrArray *entries;   /* LbMaildirEntry, borrowed from the import */
  guint first;
  guint count;
} ReadBatch;

static void
read_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  ReadBatch *batch = task_data;
  g_autoptr(GPtrArray) deliveries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_store_delivery_free);
  gsize bytes = 0;

  for (guint i = batch->first; i < batch->first + batch->count && bytes < BATCH_BYTES; i++)
    {
      LbMaildirEntry *entry = batch->entries->pdata[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(GMappedFile) file = NULL;
      g_autoptr(GBytes) raw = NULL;
      g_autofree char *uidl = NULL;
      GStatBuf st;
      gint64 received = g_get_real_time () / G_USEC_PER_SEC;

      if (g_task_return_error_if_cancelled (task))
        return;

      file = g_mapped_file_new (entry->path, FALSE, &error);
      if (file == NULL)
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                                   _("Could not read “%s”: %s"), entry->path, error->message);
          return;
        }
      /* a copy: the store keeps the bytes until they are written, and
       * the source may be changed meanwhile by its own program */
      raw = g_bytes_new (g_mapped_file_get_contents (file), g_mapped_file_get_length (file));
      bytes += g_bytes_get_size (raw);
      if (g_stat (entry->path, &st) == 0)
        received = st.st_mtime;
      uidl = g_strconcat ("import:", entry->unique, NULL);
      g_ptr_array_add (deliveries, lb_store_delivery_new (raw, entry->flags, uidl, received));
    }

  g_task_return_pointer (task, g_steal_pointer (&deliveries), (GDestroyNotify) g_ptr_array_unref);
}

static void step (GTask *task);

static void
fail (LbMaildirImport *self,
      GError          *error)
{
  if (self->failure == NULL)
    self->failure = error;
  else
    g_error_free (error);
}

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  LbMaildirImport *self = LB_MAILDIR_IMPORT (object);
  GError *error = NULL;
  GPtrArray *deliveries;

  self->reading = FALSE;
  deliveries = g_task_propagate_pointer (G_TASK (result), &error);
  if (deliveries == NULL)
    fail (self, error);
  else
    {
      /* the batch may have stopped early, at its size in bytes */
      self->next += deliveries->len;
      self->ready = deliveries;
    }
  step (task);
}

static void
deliver_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  LbMaildirImport *self = g_task_get_source_object (task);
  g_autoptr(GPtrArray) stored = NULL;
  GError *error = NULL;

  self->writing = FALSE;
  stored = lb_store_deliver_finish (LB_STORE (object), result, &error);
  if (stored == NULL)
    fail (self, error);
  else
    {
      for (guint i = 0; i < stored->len; i++)
        if (((LbMessageSummary *) stored->pdata[i])->date != 0)
          self->imported++;
      self->done += stored->len;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DONE]);
    }
  step (task);
}

/* Keeps one batch being read and one being written; after an error it
 * starts nothing new, and returns once both are over. Every callback hands
 * its reference to the task back here. */
static void
step (GTask *task)
{
  LbMaildirImport *self = g_task_get_source_object (task);

  /* cancelled: what was stored stays stored, nothing more starts */
  if (self->failure == NULL)
    g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &self->failure);

  if (self->failure == NULL && !self->writing && self->ready != NULL)
    {
      g_autoptr(GPtrArray) deliveries = g_steal_pointer (&self->ready);

      self->writing = TRUE;
      lb_store_deliver_async (self->store, self->folder_id, deliveries, LB_STORE_WRITE_NONE,
                              NULL, deliver_cb, g_object_ref (task));
    }

  if (self->failure == NULL && !self->reading && self->ready == NULL &&
      self->next < self->entries->len)
    {
      g_autoptr(GTask) read = g_task_new (self, NULL, read_cb, g_object_ref (task));
      ReadBatch *batch = g_new0 (ReadBatch, 1);

      batch->entries = self->entries;
      batch->first = self->next;
      batch->count = MIN (BATCH_SIZE, self->entries->len - self->next);
      self->reading = TRUE;
      g_task_set_task_data (read, batch, g_free);
      g_task_run_in_thread (read, read_thread);
    }

  if (!self->returned && !self->reading && !self->writing &&
      (self->failure != NULL || (self->ready == NULL && self->next >= self->entries->len)))
    {
      self->returned = TRUE;
      if (self->failure != NULL)
        g_task_return_error (task, g_steal_pointer (&self->failure));
      else
        g_task_return_boolean (task, TRUE);
    }

  g_object_unref (task);
}

static void
list_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LbMaildirImport *self = LB_MAILDIR_IMPORT (object);
  GError *error = NULL;

  self->entries = g_task_propagate_pointer (G_TASK (result), &error);
  if (self->entries == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL]);
  step (g_steal_pointer (&task));
}

/**
 * lb_maildir_import_run_async:
 * @self: the import
 * @cancellable: (nullable): a #GCancellable; what was stored stays stored
 * @callback: called when every message is in the folder
 * @user_data: data for @callback
 *
 * Runs the import. Progress shows in #LbMaildirImport:done.
 */
void
lb_maildir_import_run_async (LbMaildirImport     *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) list = NULL;

  g_return_if_fail (LB_IS_MAILDIR_IMPORT (self));
  g_return_if_fail (self->entries == NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_maildir_import_run_async);

  list = g_task_new (self, cancellable, list_cb, g_steal_pointer (&task));
  g_task_run_in_thread (list, list_thread);
}

/**
 * lb_maildir_import_run_finish:
 * @self: the import
 * @result: the result
 * @n_imported: (out) (optional): how many messages were added (those
 *   imported by an earlier, interrupted run are not counted again)
 * @error: where to put an error
 */
gboolean
lb_maildir_import_run_finish (LbMaildirImport  *self,
                              GAsyncResult     *result,
                              guint            *n_imported,
                              GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (n_imported != NULL)
    *n_imported = self->imported;
  return g_task_propagate_boolean (G_TASK (result), error);
}
