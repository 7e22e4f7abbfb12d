/* lb-maildir.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* syncfs(2) and renameat2(2) are GNU extensions; this must come before any
 * system header. */
#define _GNU_SOURCE

#define G_LOG_DOMAIN "lb-store"

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "lb-maildir.h"
#include "lb-message-summary.h"

/* LbMaildir keeps the messages of a local folder (and the POP3 inbox) as a
 * Maildir, in the form mutt, Dovecot and Python's mailbox read: a message
 * is written to tmp/ under a unique name, made durable, and only then
 * renamed into new/ (no flags) or cur/<unique>:2,<flags>. A reader never
 * sees a partial message, and a crash leaves at worst a file in tmp/, which
 * lb_maildir_clean_tmp() removes once it is 36 hours old.
 *
 * Every call here is synchronous file system work, fsync(2) included: the
 * store calls it from its own worker thread, never from the main thread.
 * One LbMaildir may be used from several threads at once; an
 * LbMaildirBatch belongs to the one thread that made it.
 *
 * The store remembers a message by its unique name, the file name without
 * the ":2,..." info. The info changes with the flags, and other programs
 * add their own lowercase keyword letters to it, so the file is found by
 * trying the names the flags the store knows would give, and only then by
 * reading the directory. */

/* From this many files on, one syncfs(2) is cheaper than an fsync(2) each. */
#define SYNCFS_MIN_FILES 8

/* The Maildir rule: a file left in tmp/ this long is garbage. */
#define TMP_MAX_AGE_SECONDS (36 * 60 * 60)

/* Tries at a name, or at a rename racing with another program. */
#define MAX_ATTEMPTS 100
#define MAX_RENAME_ATTEMPTS 3

/* The info letters this code owns, in ASCII order. */
#define STANDARD_FLAG_LETTERS "DFPRST"

struct _LbMaildir
{
  GObject     parent_instance;

  char       *path;
  char       *tmp_dir;
  char       *new_dir;
  char       *cur_dir;

  /* unique name -> full path, for the files only a directory scan found
   * (their info holds letters the flags do not give) */
  GMutex      located_lock;
  GHashTable *located;
};

G_DEFINE_FINAL_TYPE (LbMaildir, lb_maildir, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PATH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  char  *unique;
  char  *tmp_path;
  /* where commit moved it; NULL while it is in tmp/ */
  char  *final_path;
  guint  flags;
} BatchItem;

struct _LbMaildirBatch
{
  LbMaildir                  *maildir;
  GPtrArray                  *items;
  LbMaildirBatchProgressFunc  progress_func;
  gpointer                    progress_data;
  gboolean                    committed;
  /* the message being written by lb_maildir_batch_begin() and _write() */
  BatchItem                  *open_item;
  int                         open_fd;
};

static int unique_counter;

/* Sets a GIO error for a failed system call on a file: @format is a
 * translated string taking the file's name and the reason. A macro, so
 * that the format stays a literal the compiler checks. */
#define set_file_error(error, saved_errno, format, path)                       \
  G_STMT_START                                                                 \
  {                                                                            \
    int file_errno_ = (saved_errno);                                           \
    char *file_display_ = g_filename_display_name (path);                      \
                                                                               \
    g_set_error ((error), G_IO_ERROR, g_io_error_from_errno (file_errno_),     \
                 (format), file_display_, g_strerror (file_errno_));           \
    g_free (file_display_);                                                    \
  }                                                                            \
  G_STMT_END

#define MSG_CREATE _("Could not create “%s”: %s")
#define MSG_WRITE  _("Could not write “%s”: %s")
#define MSG_SYNC   _("Could not save “%s” to disk: %s")
#define MSG_MOVE   _("Could not move “%s” into place: %s")
#define MSG_RENAME _("Could not rename “%s”: %s")
#define MSG_REMOVE _("Could not remove “%s”: %s")
#define MSG_READ   _("Could not read “%s”: %s")
#define MSG_OPEN   _("Could not open the folder “%s”: %s")

static void
item_free (gpointer data)
{
  BatchItem *item = data;

  g_free (item->unique);
  g_free (item->tmp_path);
  g_free (item->final_path);
  g_free (item);
}

static void
lb_maildir_finalize (GObject *object)
{
  LbMaildir *self = (LbMaildir *) object;

  g_free (self->path);
  g_free (self->tmp_dir);
  g_free (self->new_dir);
  g_free (self->cur_dir);
  g_hash_table_unref (self->located);
  g_mutex_clear (&self->located_lock);

  G_OBJECT_CLASS (lb_maildir_parent_class)->finalize (object);
}

static void
lb_maildir_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  LbMaildir *self = LB_MAILDIR (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_maildir_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  LbMaildir *self = LB_MAILDIR (object);

  switch (prop_id)
    {
    case PROP_PATH:
      g_free (self->path);
      self->path = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_maildir_constructed (GObject *object)
{
  LbMaildir *self = (LbMaildir *) object;

  G_OBJECT_CLASS (lb_maildir_parent_class)->constructed (object);

  if (self->path == NULL)
    {
      g_critical ("LbMaildir needs a path");
      self->path = g_strdup (".");
    }

  self->tmp_dir = g_build_filename (self->path, "tmp", NULL);
  self->new_dir = g_build_filename (self->path, "new", NULL);
  self->cur_dir = g_build_filename (self->path, "cur", NULL);
}

static void
lb_maildir_class_init (LbMaildirClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lb_maildir_finalize;
  object_class->get_property = lb_maildir_get_property;
  object_class->set_property = lb_maildir_set_property;
  object_class->constructed = lb_maildir_constructed;

  /**
   * LbMaildir:path:
   *
   * The Maildir's directory, the one holding tmp/, new/ and cur/.
   */
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lb_maildir_init (LbMaildir *self)
{
  g_mutex_init (&self->located_lock);
  self->located = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/**
 * lb_maildir_new:
 * @path: the Maildir's directory
 *
 * Creates nothing on disk; see lb_maildir_ensure().
 *
 * Returns: (transfer full): a new #LbMaildir
 */
LbMaildir *
lb_maildir_new (const char *path)
{
  g_return_val_if_fail (path != NULL, NULL);

  return g_object_new (LB_TYPE_MAILDIR, "path", path, NULL);
}

const char *
lb_maildir_get_path (LbMaildir *self)
{
  g_return_val_if_fail (LB_IS_MAILDIR (self), NULL);

  return self->path;
}

static int
open_cloexec (const char *path,
              int         flags,
              mode_t      mode)
{
  int fd;

  do
    fd = open (path, flags | O_CLOEXEC, mode);
  while (fd < 0 && errno == EINTR);

  return fd;
}

static int
fsync_path (const char *path,
            int         flags)
{
  int fd = open_cloexec (path, flags, 0);
  int result;
  int saved_errno;

  if (fd < 0)
    return -1;

  do
    result = fsync (fd);
  while (result < 0 && errno == EINTR);

  saved_errno = errno;
  close (fd);
  errno = saved_errno;

  return result;
}

static gboolean
sync_dir (const char  *path,
          GError     **error)
{
  if (fsync_path (path, O_RDONLY | O_DIRECTORY) < 0)
    {
      set_file_error (error, errno, MSG_SYNC, path);
      return FALSE;
    }

  return TRUE;
}

/* Returns 1 when it made the directory, 0 when it was there, -1 on error. */
static int
make_dir (const char  *path,
          GError     **error)
{
  struct stat st;
  int saved_errno;

  if (mkdir (path, 0700) == 0)
    return 1;

  saved_errno = errno;
  if (saved_errno == EEXIST)
    {
      if (stat (path, &st) == 0 && S_ISDIR (st.st_mode))
        return 0;
      saved_errno = ENOTDIR;
    }

  set_file_error (error, saved_errno, MSG_CREATE, path);

  return -1;
}

/**
 * lb_maildir_ensure:
 * @self: a #LbMaildir
 * @error: return location for a #GError
 *
 * Creates the Maildir's directory and its tmp/, new/ and cur/ where they
 * are missing, only readable by the user, and makes the new directories
 * durable. Does nothing to a Maildir that is complete.
 *
 * Returns: whether the Maildir is there
 */
gboolean
lb_maildir_ensure (LbMaildir  *self,
                   GError    **error)
{
  const char *subdirs[3];
  gboolean created_top = FALSE;
  gboolean created_sub = FALSE;
  struct stat st;

  g_return_val_if_fail (LB_IS_MAILDIR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  subdirs[0] = self->tmp_dir;
  subdirs[1] = self->new_dir;
  subdirs[2] = self->cur_dir;

  if (stat (self->path, &st) < 0)
    {
      if (errno != ENOENT)
        {
          set_file_error (error, errno, MSG_CREATE, self->path);
          return FALSE;
        }

      if (g_mkdir_with_parents (self->path, 0700) < 0)
        {
          set_file_error (error, errno, MSG_CREATE, self->path);
          return FALSE;
        }

      created_top = TRUE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      int made = make_dir (subdirs[i], error);

      if (made < 0)
        return FALSE;
      if (made > 0)
        created_sub = TRUE;
    }

  if (created_sub && !sync_dir (self->path, error))
    return FALSE;

  if (created_top)
    {
      g_autofree char *parent = g_path_get_dirname (self->path);

      if (!sync_dir (parent, error))
        return FALSE;
    }

  return TRUE;
}

static const char *
get_host_part (void)
{
  static char *host_part;

  if (g_once_init_enter (&host_part))
    {
      const char *host = g_get_host_name ();
      GString *s = g_string_new (NULL);

      /* the spec's escapes for the two characters a file name of this
       * form cannot hold */
      for (const char *p = host; *p != '\0'; p++)
        {
          if (*p == '/')
            g_string_append (s, "\\057");
          else if (*p == ':')
            g_string_append (s, "\\072");
          else
            g_string_append_c (s, *p);
        }

      if (s->len == 0)
        g_string_append (s, "localhost");

      g_once_init_leave (&host_part, g_string_free (s, FALSE));
    }

  return host_part;
}

static char *
make_unique_name (void)
{
  gint64 now = g_get_real_time ();
  guint counter = (guint) g_atomic_int_add (&unique_counter, 1);

  /* <seconds>.M<microseconds>P<pid>Q<deliveries>R<random>.<host>: the pid
   * and the counter keep two deliveries of this machine apart, the random
   * part what two machines on one shared directory might do */
  return g_strdup_printf ("%" G_GINT64_FORMAT ".M%06dP%ldQ%uR%08x%08x.%s",
                          now / G_USEC_PER_SEC,
                          (int) (now % G_USEC_PER_SEC),
                          (long) getpid (),
                          counter,
                          g_random_int (),
                          g_random_int (),
                          get_host_part ());
}

static gboolean
check_unique (const char  *unique,
              GError     **error)
{
  if (unique[0] == '\0' || unique[0] == '.' ||
      strchr (unique, '/') != NULL || strchr (unique, ':') != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not the name of a message in a Maildir"), unique);
      return FALSE;
    }

  return TRUE;
}

static char *
build_cur_path (LbMaildir  *self,
                const char *unique,
                const char *info_letters)
{
  g_autofree char *name = g_strconcat (unique, ":2,", info_letters, NULL);

  return g_build_filename (self->cur_dir, name, NULL);
}

static char *
build_final_path (LbMaildir  *self,
                  const char *unique,
                  guint       flags)
{
  g_autofree char *letters = NULL;

  if (flags == 0)
    return g_build_filename (self->new_dir, unique, NULL);

  letters = lb_message_flags_to_string (flags);

  return build_cur_path (self, unique, letters);
}

static gboolean
write_all (int          fd,
           const void  *data,
           gsize        length)
{
  const char *p = data;

  while (length > 0)
    {
      ssize_t written = write (fd, p, MIN (length, (gsize) G_MAXSSIZE));

      if (written < 0)
        {
          if (errno == EINTR)
            continue;
          return FALSE;
        }

      p += written;
      length -= (gsize) written;
    }

  return TRUE;
}

/**
 * lb_maildir_batch_new:
 * @maildir: a #LbMaildir, whose directories exist
 *
 * Returns: (transfer full): an empty batch, to free with
 *   lb_maildir_batch_free()
 */
LbMaildirBatch *
lb_maildir_batch_new (LbMaildir *maildir)
{
  LbMaildirBatch *batch;

  g_return_val_if_fail (LB_IS_MAILDIR (maildir), NULL);

  batch = g_new0 (LbMaildirBatch, 1);
  batch->maildir = g_object_ref (maildir);
  batch->items = g_ptr_array_new_with_free_func (item_free);
  batch->open_fd = -1;

  return batch;
}

/* Makes a new file in tmp/ under a unique name; returns its descriptor. */
static int
create_tmp_file (LbMaildir  *self,
                 char      **unique_out,
                 char      **tmp_path_out,
                 GError    **error)
{
  g_autofree char *unique = NULL;
  g_autofree char *tmp_path = NULL;
  int fd = -1;

  for (guint attempt = 0; fd < 0; attempt++)
    {
      g_clear_pointer (&unique, g_free);
      g_clear_pointer (&tmp_path, g_free);
      unique = make_unique_name ();
      tmp_path = g_build_filename (self->tmp_dir, unique, NULL);

      fd = open_cloexec (tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
      if (fd < 0 && (errno != EEXIST || attempt + 1 >= MAX_ATTEMPTS))
        {
          set_file_error (error, errno, MSG_CREATE, tmp_path);
          return -1;
        }
    }

  *unique_out = g_steal_pointer (&unique);
  *tmp_path_out = g_steal_pointer (&tmp_path);
  return fd;
}

/**
 * lb_maildir_batch_begin:
 * @batch: a batch not committed yet, with no message begun
 * @flags: #LbMessageFlags the message will carry; 0 delivers it to new/
 * @error: return location for a #GError
 *
 * Starts a message of the batch whose bytes arrive in pieces: a new file
 * in tmp/, which lb_maildir_batch_write() fills and
 * lb_maildir_batch_end() closes (it then is in the batch as if added with
 * lb_maildir_batch_add()), or lb_maildir_batch_abort() removes. Only the
 * file's own memory is used, never the whole message's.
 *
 * Returns: (transfer none) (nullable): the message's unique name, valid
 *   as long as the batch; %NULL on error
 */
const char *
lb_maildir_batch_begin (LbMaildirBatch  *batch,
                        guint            flags,
                        GError         **error)
{
  BatchItem *item;
  char *unique = NULL;
  char *tmp_path = NULL;
  int fd;

  g_return_val_if_fail (batch != NULL, NULL);
  g_return_val_if_fail (!batch->committed, NULL);
  g_return_val_if_fail (batch->open_item == NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  fd = create_tmp_file (batch->maildir, &unique, &tmp_path, error);
  if (fd < 0)
    return NULL;

  item = g_new0 (BatchItem, 1);
  item->unique = unique;
  item->tmp_path = tmp_path;
  item->flags = flags & LB_MESSAGE_FLAGS_ALL;
  batch->open_item = item;
  batch->open_fd = fd;

  return item->unique;
}

/**
 * lb_maildir_batch_write:
 * @batch: a batch with a message begun
 * @data: (array length=length): the next bytes of the message
 * @length: how many
 * @error: return location for a #GError
 *
 * Appends to the message begun. On failure (a full disk, say) the
 * message's file is removed and no message is begun any more.
 *
 * Returns: whether the bytes were written
 */
gboolean
lb_maildir_batch_write (LbMaildirBatch  *batch,
                        const void      *data,
                        gsize            length,
                        GError         **error)
{
  g_return_val_if_fail (batch != NULL, FALSE);
  g_return_val_if_fail (batch->open_item != NULL, FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  if (!write_all (batch->open_fd, data, length))
    {
      int saved_errno = errno;

      set_file_error (error, saved_errno, MSG_WRITE, batch->open_item->tmp_path);
      lb_maildir_batch_abort (batch);
      return FALSE;
    }

  return TRUE;
}

/**
 * lb_maildir_batch_end:
 * @batch: a batch with a message begun
 * @error: return location for a #GError
 *
 * Closes the message begun, which joins the batch. On failure its file
 * is removed.
 *
 * Returns: whether the message was written
 */
gboolean
lb_maildir_batch_end (LbMaildirBatch  *batch,
                      GError         **error)
{
  BatchItem *item;
  int fd;

  g_return_val_if_fail (batch != NULL, FALSE);
  g_return_val_if_fail (batch->open_item != NULL, FALSE);

  item = g_steal_pointer (&batch->open_item);
  fd = batch->open_fd;
  batch->open_fd = -1;

  /* close(2) can report a failed write on some file systems */
  if (close (fd) < 0 && errno != EINTR)
    {
      int saved_errno = errno;

      unlink (item->tmp_path);
      set_file_error (error, saved_errno, MSG_WRITE, item->tmp_path);
      item_free (item);
      return FALSE;
    }

  g_ptr_array_add (batch->items, item);
  return TRUE;
}

/**
 * lb_maildir_batch_abort:
 * @batch: a batch
 *
 * Drops the message begun, if any: its file is removed.
 */
void
lb_maildir_batch_abort (LbMaildirBatch *batch)
{
  g_return_if_fail (batch != NULL);

  if (batch->open_item == NULL)
    return;

  close (batch->open_fd);
  batch->open_fd = -1;
  if (unlink (batch->open_item->tmp_path) < 0 && errno != ENOENT)
    g_debug ("Could not remove %s: %s", batch->open_item->tmp_path, g_strerror (errno));
  g_clear_pointer (&batch->open_item, item_free);
}

/**
 * lb_maildir_batch_get_path:
 * @batch: a batch
 * @index: a message of it, in the order added
 *
 * Returns: (transfer none): the message's file: in tmp/ until the batch is
 *   committed, then in new/ or cur/
 */
const char *
lb_maildir_batch_get_path (LbMaildirBatch *batch,
                           guint           index)
{
  BatchItem *item;

  g_return_val_if_fail (batch != NULL, NULL);
  g_return_val_if_fail (index < batch->items->len, NULL);

  item = g_ptr_array_index (batch->items, index);
  return item->final_path != NULL ? item->final_path : item->tmp_path;
}

/**
 * lb_maildir_batch_add:
 * @batch: a batch not committed yet
 * @data: (array length=length): the raw message
 * @length: its length in bytes
 * @flags: #LbMessageFlags it will carry; 0 delivers it to new/
 * @error: return location for a #GError
 *
 * Writes the message to a new file in tmp/. It becomes visible only when
 * the batch is committed.
 *
 * Returns: (transfer full) (nullable): the message's unique name, by
 *   which the store knows it from now on; %NULL on error
 */
char *
lb_maildir_batch_add (LbMaildirBatch  *batch,
                      const void      *data,
                      gsize            length,
                      guint            flags,
                      GError         **error)
{
  LbMaildir *self;
  g_autofree char *unique = NULL;
  g_autofree char *tmp_path = NULL;
  BatchItem *item;
  int fd;

  g_return_val_if_fail (batch != NULL, NULL);
  g_return_val_if_fail (!batch->committed, NULL);
  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = batch->maildir;
  fd = create_tmp_file (self, &unique, &tmp_path, error);
  if (fd < 0)
    return NULL;

  if (!write_all (fd, data, length))
    {
      int saved_errno = errno;

      close (fd);
      unlink (tmp_path);
      set_file_error (error, saved_errno, MSG_WRITE, tmp_path);
      return NULL;
    }

  /* close(2) can report a failed write on some file systems; EINTR leaves
   * the descriptor closed on Linux, so it is not retried */
  if (close (fd) < 0 && errno != EINTR)
    {
      int saved_errno = errno;

      unlink (tmp_path);
      set_file_error (error, saved_errno, MSG_WRITE, tmp_path);
      return NULL;
    }

  item = g_new0 (BatchItem, 1);
  item->unique = g_strdup (unique);
  item->tmp_path = g_steal_pointer (&tmp_path);
  item->flags = flags & LB_MESSAGE_FLAGS_ALL;
  g_ptr_array_add (batch->items, item);

  return g_steal_pointer (&unique);
}

/**
 * lb_maildir_batch_set_progress_func:
 * @batch: a batch
 * @func: (nullable): called after each message is moved into place
 * @user_data: passed to @func
 *
 * Lets a long import report how far lb_maildir_batch_commit() got.
 */
void
lb_maildir_batch_set_progress_func (LbMaildirBatch             *batch,
                                    LbMaildirBatchProgressFunc  func,
                                    gpointer                    user_data)
{
  g_return_if_fail (batch != NULL);

  batch->progress_func = func;
  batch->progress_data = user_data;
}

guint
lb_maildir_batch_get_length (LbMaildirBatch *batch)
{
  g_return_val_if_fail (batch != NULL, 0);

  return batch->items->len;
}

static gboolean
sync_items (LbMaildirBatch  *batch,
            GError         **error)
{
#ifdef __linux__
  if (batch->items->len >= SYNCFS_MIN_FILES)
    {
      /* one flush of the whole file system instead of a journal commit per
       * file; since Linux 5.8 it reports write-back errors too */
      int fd = open_cloexec (batch->maildir->tmp_dir, O_RDONLY | O_DIRECTORY, 0);

      if (fd >= 0)
        {
          int result = syncfs (fd);
          int saved_errno = errno;

          close (fd);
          if (result == 0)
            return TRUE;

          g_debug ("syncfs() on %s failed (%s), syncing each file",
                   batch->maildir->tmp_dir, g_strerror (saved_errno));
        }
    }
#endif

  for (guint i = 0; i < batch->items->len; i++)
    {
      BatchItem *item = g_ptr_array_index (batch->items, i);

      if (fsync_path (item->tmp_path, O_RDONLY) < 0)
        {
          set_file_error (error, errno, MSG_SYNC, item->tmp_path);
          return FALSE;
        }
    }

  return TRUE;
}

/* rename(2) that never replaces a file already there. */
static int
move_no_replace (const char *from,
                 const char *to)
{
  int saved_errno;

#if defined(__linux__) && defined(RENAME_NOREPLACE)
  if (renameat2 (AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    return -1;
#endif

  /* the classic Maildir way: link(2) fails when the name is taken */
  if (link (from, to) == 0)
    {
      unlink (from);
      return 0;
    }
  if (errno == EEXIST || errno == ENOENT)
    return -1;

  /* a file system without hard links; the unique name must do */
  saved_errno = errno;
  if (access (to, F_OK) == 0)
    {
      errno = EEXIST;
      return -1;
    }
  errno = saved_errno;

  return rename (from, to);
}

/* Puts the messages commit already moved back into tmp/, where
 * lb_maildir_batch_free() removes them, so that a failed commit leaves
 * none of the batch visible. */
static void
roll_back (LbMaildirBatch *batch)
{
  for (guint i = 0; i < batch->items->len; i++)
    {
      BatchItem *item = g_ptr_array_index (batch->items, i);

      if (item->final_path == NULL)
        continue;

      if (rename (item->final_path, item->tmp_path) == 0)
        g_clear_pointer (&item->final_path, g_free);
      else
        g_debug ("Could not move %s back to tmp/: %s",
                 item->final_path, g_strerror (errno));
    }
}

/**
 * lb_maildir_batch_commit:
 * @batch: a batch not committed yet
 * @error: return location for a #GError
 *
 * Makes every message of the batch durable (one syncfs(2) of the file
 * system for a large batch, an fsync(2) per file for a small one or when
 * syncfs fails), moves each into new/ (no flags) or cur/ (with its info),
 * then syncs those directories.
 *
 * When it returns %TRUE every message is durable and visible to any
 * Maildir reader. On failure the messages moved so far are moved back, so
 * normally none of the batch is visible; a crash in the middle leaves
 * each message complete either in tmp/ or in new/ or cur/.
 *
 * Returns: whether the batch was delivered
 */
gboolean
lb_maildir_batch_commit (LbMaildirBatch  *batch,
                         GError         **error)
{
  LbMaildir *self;
  gboolean to_new = FALSE;
  gboolean to_cur = FALSE;

  g_return_val_if_fail (batch != NULL, FALSE);
  g_return_val_if_fail (!batch->committed, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  self = batch->maildir;

  if (batch->items->len == 0)
    {
      batch->committed = TRUE;
      return TRUE;
    }

  if (!sync_items (batch, error))
    return FALSE;

  for (guint i = 0; i < batch->items->len; i++)
    {
      BatchItem *item = g_ptr_array_index (batch->items, i);
      g_autofree char *final_path = build_final_path (self, item->unique, item->flags);

      if (move_no_replace (item->tmp_path, final_path) < 0)
        {
          set_file_error (error, errno, MSG_MOVE, item->tmp_path);
          roll_back (batch);
          return FALSE;
        }

      item->final_path = g_steal_pointer (&final_path);
      if (item->flags == 0)
        to_new = TRUE;
      else
        to_cur = TRUE;

      if (batch->progress_func != NULL)
        batch->progress_func (batch, i + 1, batch->items->len, batch->progress_data);
    }

  if ((to_new && !sync_dir (self->new_dir, error)) ||
      (to_cur && !sync_dir (self->cur_dir, error)))
    {
      roll_back (batch);
      return FALSE;
    }

  batch->committed = TRUE;

  return TRUE;
}

/**
 * lb_maildir_batch_free:
 * @batch: (transfer full): a batch
 *
 * Frees the batch. When it was not committed, its files are removed from
 * tmp/ and none of its messages is delivered.
 */
void
lb_maildir_batch_free (LbMaildirBatch *batch)
{
  if (batch == NULL)
    return;

  lb_maildir_batch_abort (batch);
  for (guint i = 0; i < batch->items->len; i++)
    {
      BatchItem *item = g_ptr_array_index (batch->items, i);

      if (item->final_path == NULL && unlink (item->tmp_path) < 0 && errno != ENOENT)
        g_debug ("Could not remove %s: %s", item->tmp_path, g_strerror (errno));
    }

  g_ptr_array_unref (batch->items);
  g_object_unref (batch->maildir);
  g_free (batch);
}

/**
 * lb_maildir_deliver:
 * @self: a #LbMaildir
 * @data: (array length=length): the raw message
 * @length: its length in bytes
 * @flags: #LbMessageFlags; 0 delivers to new/
 * @error: return location for a #GError
 *
 * Delivers one message, durably: a batch of one.
 *
 * Returns: (transfer full) (nullable): the message's unique name, %NULL
 *   on error
 */
char *
lb_maildir_deliver (LbMaildir   *self,
                    const void  *data,
                    gsize        length,
                    guint        flags,
                    GError     **error)
{
  g_autoptr(LbMaildirBatch) batch = NULL;
  g_autofree char *unique = NULL;

  g_return_val_if_fail (LB_IS_MAILDIR (self), NULL);

  batch = lb_maildir_batch_new (self);
  unique = lb_maildir_batch_add (batch, data, length, flags, error);
  if (unique == NULL || !lb_maildir_batch_commit (batch, error))
    return NULL;

  return g_steal_pointer (&unique);
}

static gboolean
path_exists (const char *path)
{
  struct stat st;

  return stat (path, &st) == 0;
}

static void
remember_location (LbMaildir  *self,
                   const char *unique,
                   const char *path)
{
  g_mutex_lock (&self->located_lock);
  if (path != NULL)
    g_hash_table_insert (self->located, g_strdup (unique), g_strdup (path));
  else
    g_hash_table_remove (self->located, unique);
  g_mutex_unlock (&self->located_lock);
}

static char *
lookup_location (LbMaildir  *self,
                 const char *unique)
{
  char *path;

  g_mutex_lock (&self->located_lock);
  path = g_strdup (g_hash_table_lookup (self->located, unique));
  g_mutex_unlock (&self->located_lock);

  return path;
}

/* Reads a directory for the file of a unique name: the name itself or the
 * name followed by an info. Returns the full path, NULL when there is none
 * (errno 0) or on error (errno set). */
static char *
scan_dir (const char *dir_path,
          const char *unique)
{
  gsize unique_len = strlen (unique);
  DIR *dir = opendir (dir_path);
  struct dirent *entry;
  char *found = NULL;
  int saved_errno;

  if (dir == NULL)
    return NULL;

  for (errno = 0; (entry = readdir (dir)) != NULL; errno = 0)
    {
      if (strncmp (entry->d_name, unique, unique_len) == 0 &&
          (entry->d_name[unique_len] == '\0' || entry->d_name[unique_len] == ':'))
        {
          found = g_build_filename (dir_path, entry->d_name, NULL);
          break;
        }
    }

  saved_errno = found != NULL ? 0 : errno;
  closedir (dir);
  errno = saved_errno;

  return found;
}

/**
 * lb_maildir_find:
 * @self: a #LbMaildir
 * @unique: a message's unique name
 * @flags_hint: the #LbMessageFlags the caller believes it has
 * @error: return location for a #GError
 *
 * Finds the file of a message: new/<unique>, cur/<unique>:2,<letters> with
 * whatever letters, or cur/<unique> without info. The names @flags_hint
 * gives are tried first, so with the right hint this costs one stat(2);
 * reading cur/ is the last resort.
 *
 * Returns: (transfer full) (nullable): the file's full path, %NULL with
 *   %G_IO_ERROR_NOT_FOUND when the message is gone
 */
char *
lb_maildir_find (LbMaildir   *self,
                 const char  *unique,
                 guint        flags_hint,
                 GError     **error)
{
  g_autofree char *hinted = NULL;
  g_autofree char *cached = NULL;
  g_autofree char *in_new = NULL;
  g_autofree char *no_letters = NULL;
  g_autofree char *no_info = NULL;
  const char *dirs[2];
  char *found;

  g_return_val_if_fail (LB_IS_MAILDIR (self), NULL);
  g_return_val_if_fail (unique != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_unique (unique, error))
    return NULL;

  flags_hint &= LB_MESSAGE_FLAGS_ALL;

  hinted = build_final_path (self, unique, flags_hint);
  if (path_exists (hinted))
    return g_steal_pointer (&hinted);

  cached = lookup_location (self, unique);
  if (cached != NULL)
    {
      if (path_exists (cached))
        return g_steal_pointer (&cached);
      remember_location (self, unique, NULL);
    }

  in_new = g_build_filename (self->new_dir, unique, NULL);
  if (flags_hint != 0 && path_exists (in_new))
    return g_steal_pointer (&in_new);

  /* seen by a reader that set no flags, or all flags taken away */
  no_letters = build_cur_path (self, unique, "");
  if (path_exists (no_letters))
    return g_steal_pointer (&no_letters);

  no_info = g_build_filename (self->cur_dir, unique, NULL);
  if (path_exists (no_info))
    return g_steal_pointer (&no_info);

  /* other letters than the hint gives: another program's keywords or
   * flags changed behind the store's back */
  dirs[0] = self->cur_dir;
  dirs[1] = self->new_dir;
  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      found = scan_dir (dirs[i], unique);
      if (found != NULL)
        {
          remember_location (self, unique, found);
          return found;
        }

      if (errno != 0 && errno != ENOENT)
        {
          set_file_error (error, errno, MSG_OPEN, dirs[i]);
          return NULL;
        }
    }

  {
    g_autofree char *display = g_filename_display_name (self->path);

    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _("The message “%s” is no longer in “%s”"), unique, display);
  }

  return NULL;
}

static int
compare_chars (gconstpointer a,
               gconstpointer b)
{
  return (int) *(const guchar *) a - (int) *(const guchar *) b;
}

/* The info letters for @flags plus every other letter of the old info
 * (other programs' keywords), in ASCII order, each once. */
static char *
merge_info_letters (const char *old_path,
                    guint       flags)
{
  g_autofree char *base = g_path_get_basename (old_path);
  const char *old_info = strchr (base, ':');
  g_autofree char *letters = lb_message_flags_to_string (flags);
  GString *merged = g_string_new (letters);
  gsize n = 0;

  if (old_info != NULL && g_str_has_prefix (old_info, ":2,"))
    {
      for (const char *p = old_info + 3; *p != '\0'; p++)
        {
          if (strchr (STANDARD_FLAG_LETTERS, *p) == NULL)
            g_string_append_c (merged, *p);
        }
    }

  qsort (merged->str, merged->len, 1, compare_chars);
  for (gsize i = 0; i < merged->len; i++)
    {
      if (n == 0 || merged->str[n - 1] != merged->str[i])
        merged->str[n++] = merged->str[i];
    }
  g_string_truncate (merged, n);

  return g_string_free (merged, FALSE);
}

/**
 * lb_maildir_set_flags:
 * @self: a #LbMaildir
 * @unique: a message's unique name
 * @flags_hint: the #LbMessageFlags the caller believes it has now
 * @flags: the #LbMessageFlags it is to have
 * @error: return location for a #GError
 *
 * Renames the message's file to cur/<unique>:2,<letters>, keeping the
 * letters of other programs (lowercase keywords) in its info. Does nothing
 * when the name is already that. The rename is not synced: a crash may
 * lose a flag change, never the message.
 *
 * Returns: whether the message now carries @flags
 */
gboolean
lb_maildir_set_flags (LbMaildir   *self,
                      const char  *unique,
                      guint        flags_hint,
                      guint        flags,
                      GError     **error)
{
  int saved_errno = ENOENT;
  g_autofree char *current = NULL;

  g_return_val_if_fail (LB_IS_MAILDIR (self), FALSE);
  g_return_val_if_fail (unique != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  flags &= LB_MESSAGE_FLAGS_ALL;

  for (guint attempt = 0; attempt < MAX_RENAME_ATTEMPTS; attempt++)
    {
      g_autofree char *letters = NULL;
      g_autofree char *own_letters = NULL;
      g_autofree char *target = NULL;

      g_clear_pointer (&current, g_free);
      current = lb_maildir_find (self, unique, flags_hint, error);
      if (current == NULL)
        return FALSE;

      letters = merge_info_letters (current, flags);
      target = build_cur_path (self, unique, letters);
      if (g_strcmp0 (current, target) == 0)
        return TRUE;

      if (rename (current, target) == 0)
        {
          /* only names the flags alone do not give need remembering */
          own_letters = lb_message_flags_to_string (flags);
          remember_location (self, unique,
                             strcmp (letters, own_letters) != 0 ? target : NULL);

          return TRUE;
        }

      saved_errno = errno;
      if (saved_errno != ENOENT)
        break;

      /* another program moved it meanwhile: look again */
      remember_location (self, unique, NULL);
    }

  set_file_error (error, saved_errno, MSG_RENAME, current);

  return FALSE;
}

/**
 * lb_maildir_remove:
 * @self: a #LbMaildir
 * @unique: a message's unique name
 * @flags_hint: the #LbMessageFlags the caller believes it has
 * @error: return location for a #GError
 *
 * Deletes the message's file.
 *
 * Returns: whether it was removed; %FALSE with %G_IO_ERROR_NOT_FOUND when
 *   it was already gone
 */
gboolean
lb_maildir_remove (LbMaildir   *self,
                   const char  *unique,
                   guint        flags_hint,
                   GError     **error)
{
  int saved_errno = ENOENT;
  g_autofree char *current = NULL;

  g_return_val_if_fail (LB_IS_MAILDIR (self), FALSE);
  g_return_val_if_fail (unique != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint attempt = 0; attempt < MAX_RENAME_ATTEMPTS; attempt++)
    {
      g_clear_pointer (&current, g_free);
      current = lb_maildir_find (self, unique, flags_hint, error);
      if (current == NULL)
        return FALSE;

      remember_location (self, unique, NULL);
      if (unlink (current) == 0)
        return TRUE;

      saved_errno = errno;
      if (saved_errno != ENOENT)
        break;
    }

  set_file_error (error, saved_errno, MSG_REMOVE, current);

  return FALSE;
}

/**
 * lb_maildir_link_from:
 * @self: the Maildir to give the message to
 * @source: the Maildir it is in (on the same file system)
 * @unique: its unique name in @source
 * @flags_hint: the flags it is believed to have
 * @error: where to put an error
 *
 * Gives a message of another Maildir a name in this one's cur/ too (a hard
 * link, keeping its file name), never replacing a file. The new name is
 * durable only after lb_maildir_sync(); remove the old one after that.
 * Moving a message this way, a crash at any point leaves it readable.
 *
 * Returns: (transfer full) (nullable): the new name's full path
 */
char *
lb_maildir_link_from (LbMaildir   *self,
                      LbMaildir   *source,
                      const char  *unique,
                      guint        flags_hint,
                      GError     **error)
{
  g_autofree char *old_path = NULL;
  g_autofree char *base = NULL;
  char *new_path;

  g_return_val_if_fail (LB_IS_MAILDIR (self), NULL);
  g_return_val_if_fail (LB_IS_MAILDIR (source), NULL);
  g_return_val_if_fail (unique != NULL, NULL);

  old_path = lb_maildir_find (source, unique, flags_hint, error);
  if (old_path == NULL)
    return NULL;

  base = g_path_get_basename (old_path);
  new_path = g_build_filename (self->cur_dir, base, NULL);
  if (link (old_path, new_path) != 0)
    {
      set_file_error (error, errno, MSG_MOVE, new_path);
      g_free (new_path);
      return NULL;
    }

  return new_path;
}

/**
 * lb_maildir_sync:
 * @self: the Maildir
 * @error: where to put an error
 *
 * Makes the names in new/ and cur/ durable (after lb_maildir_link_from()).
 */
gboolean
lb_maildir_sync (LbMaildir  *self,
                 GError    **error)
{
  g_return_val_if_fail (LB_IS_MAILDIR (self), FALSE);

  return sync_dir (self->new_dir, error) && sync_dir (self->cur_dir, error);
}

static GBytes *
read_file (const char *path,
           int        *saved_errno)
{
  g_autoptr(GByteArray) buffer = NULL;
  struct stat st;
  int fd;

  fd = open_cloexec (path, O_RDONLY, 0);
  if (fd < 0)
    {
      *saved_errno = errno;
      return NULL;
    }

  if (fstat (fd, &st) < 0)
    {
      *saved_errno = errno;
      close (fd);
      return NULL;
    }

  buffer = g_byte_array_sized_new ((guint) CLAMP (st.st_size, 0, G_MAXINT));

  for (;;)
    {
      guint8 chunk[65536];
      ssize_t n = read (fd, chunk, sizeof chunk);

      if (n < 0 && errno == EINTR)
        continue;

      if (n < 0)
        {
          *saved_errno = errno;
          close (fd);
          return NULL;
        }

      if (n == 0)
        break;

      g_byte_array_append (buffer, chunk, (guint) n);
    }

  close (fd);

  return g_byte_array_free_to_bytes (g_steal_pointer (&buffer));
}

/**
 * lb_maildir_read:
 * @self: a #LbMaildir
 * @unique: a message's unique name
 * @flags_hint: the #LbMessageFlags the caller believes it has
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the raw message, %NULL with
 *   %G_IO_ERROR_NOT_FOUND when it is gone
 */
GBytes *
lb_maildir_read (LbMaildir   *self,
                 const char  *unique,
                 guint        flags_hint,
                 GError     **error)
{
  int saved_errno = ENOENT;
  g_autofree char *current = NULL;

  g_return_val_if_fail (LB_IS_MAILDIR (self), NULL);
  g_return_val_if_fail (unique != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (guint attempt = 0; attempt < MAX_RENAME_ATTEMPTS; attempt++)
    {
      GBytes *bytes;

      g_clear_pointer (&current, g_free);
      current = lb_maildir_find (self, unique, flags_hint, error);
      if (current == NULL)
        return NULL;

      bytes = read_file (current, &saved_errno);
      if (bytes != NULL)
        return bytes;

      if (saved_errno != ENOENT)
        break;

      /* renamed by another program between finding and opening */
      remember_location (self, unique, NULL);
    }

  set_file_error (error, saved_errno, MSG_READ, current);

  return NULL;
}

/**
 * lb_maildir_flags_from_info:
 * @info: (nullable): a Maildir info, "2,FRS" (a leading ':' is allowed)
 *
 * Reads the flags of a version 2 info. Letters other than D, F, P, R, S
 * and T (other programs' keywords) are ignored, and so is any other
 * version of info.
 *
 * Returns: #LbMessageFlags
 */
guint
lb_maildir_flags_from_info (const char *info)
{
  guint flags = 0;

  if (info == NULL)
    return 0;

  if (info[0] == ':')
    info++;

  if (!g_str_has_prefix (info, "2,"))
    return 0;

  for (const char *p = info + 2; *p != '\0'; p++)
    {
      switch (*p)
        {
        case 'D':
          flags |= LB_MESSAGE_DRAFT;
          break;
        case 'F':
          flags |= LB_MESSAGE_FLAGGED;
          break;
        case 'P':
          flags |= LB_MESSAGE_FORWARDED;
          break;
        case 'R':
          flags |= LB_MESSAGE_ANSWERED;
          break;
        case 'S':
          flags |= LB_MESSAGE_SEEN;
          break;
        case 'T':
          flags |= LB_MESSAGE_DELETED;
          break;
        default:
          break;
        }
    }

  return flags;
}

/**
 * lb_maildir_entry_free:
 * @entry: (transfer full) (nullable): an entry of lb_maildir_list()
 */
void
lb_maildir_entry_free (LbMaildirEntry *entry)
{
  if (entry == NULL)
    return;

  g_free (entry->unique);
  g_free (entry->path);
  g_free (entry);
}

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const LbMaildirEntry *ea = *(LbMaildirEntry * const *) a;
  const LbMaildirEntry *eb = *(LbMaildirEntry * const *) b;
  int result = strcmp (ea->unique, eb->unique);

  if (result != 0)
    return result;

  return (int) eb->is_new - (int) ea->is_new;
}

static gboolean
is_directory (DIR           *dir,
              struct dirent *d)
{
  struct stat st;

#ifdef DT_DIR
  if (d->d_type != DT_UNKNOWN)
    return d->d_type == DT_DIR;
#endif

  /* only file systems that do not fill in d_type cost a stat */
  return fstatat (dirfd (dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode);
}

static gboolean
list_dir (const char  *dir_path,
          gboolean     is_new,
          GPtrArray   *entries,
          GError     **error)
{
  DIR *dir = opendir (dir_path);
  struct dirent *d;
  int saved_errno;

  if (dir == NULL)
    {
      set_file_error (error, errno, MSG_OPEN, dir_path);
      return FALSE;
    }

  for (errno = 0; (d = readdir (dir)) != NULL; errno = 0)
    {
      LbMaildirEntry *entry;
      const char *colon;

      /* dot files are other programs' (Dovecot's indexes, say); a name
       * that starts with the info has no unique name to address it by */
      if (d->d_name[0] == '.' || d->d_name[0] == ':')
        continue;
      if (is_directory (dir, d))
        continue;

      colon = strchr (d->d_name, ':');
      entry = g_new0 (LbMaildirEntry, 1);
      entry->unique = colon != NULL ? g_strndup (d->d_name, (gsize) (colon - d->d_name))
                                    : g_strdup (d->d_name);
      entry->path = g_build_filename (dir_path, d->d_name, NULL);
      entry->flags = lb_maildir_flags_from_info (colon);
      entry->is_new = is_new;
      g_ptr_array_add (entries, entry);
    }

  saved_errno = errno;
  closedir (dir);

  if (saved_errno != 0)
    {
      set_file_error (error, saved_errno, MSG_OPEN, dir_path);
      return FALSE;
    }

  return TRUE;
}

/**
 * lb_maildir_list:
 * @self: a #LbMaildir
 * @error: return location for a #GError
 *
 * Lists the messages in new/ and cur/, for importing a Maildir another
 * program wrote. Dot files, directories and tmp/ are left out.
 *
 * Returns: (transfer container) (element-type LbMaildirEntry) (nullable):
 *   the entries sorted by unique name, each freed with the array
 */
GPtrArray *
lb_maildir_list (LbMaildir  *self,
                 GError    **error)
{
  g_autoptr(GPtrArray) entries = NULL;

  g_return_val_if_fail (LB_IS_MAILDIR (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_maildir_entry_free);

  if (!list_dir (self->new_dir, TRUE, entries, error) ||
      !list_dir (self->cur_dir, FALSE, entries, error))
    return NULL;

  g_ptr_array_sort (entries, compare_entries);

  return g_steal_pointer (&entries);
}

/**
 * lb_maildir_clean_tmp:
 * @self: a #LbMaildir
 * @error: return location for a #GError
 *
 * Removes the files in tmp/ that nobody has touched for 36 hours, such as
 * a crash leaves behind. A file being written now is never that old.
 *
 * Returns: how many files were removed; on error (tmp/ unreadable, a file
 *   that would not go) @error is set and the count says what was done
 */
guint
lb_maildir_clean_tmp (LbMaildir  *self,
                      GError    **error)
{
  DIR *dir;
  struct dirent *d;
  gint64 now;
  guint removed = 0;
  int saved_errno;

  g_return_val_if_fail (LB_IS_MAILDIR (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  dir = opendir (self->tmp_dir);
  if (dir == NULL)
    {
      set_file_error (error, errno, MSG_OPEN, self->tmp_dir);
      return 0;
    }

  now = g_get_real_time () / G_USEC_PER_SEC;

  for (errno = 0; (d = readdir (dir)) != NULL; errno = 0)
    {
      struct stat st;
      gint64 touched;

      if (strcmp (d->d_name, ".") == 0 || strcmp (d->d_name, "..") == 0)
        continue;

      if (fstatat (dirfd (dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
          S_ISDIR (st.st_mode))
        continue;

      /* the later of the two, as file systems mounted noatime never
       * update the access time */
      touched = MAX ((gint64) st.st_atime, (gint64) st.st_mtime);
      if (now - touched < TMP_MAX_AGE_SECONDS)
        continue;

      if (unlinkat (dirfd (dir), d->d_name, 0) == 0)
        {
          removed++;
        }
      else if (errno != ENOENT && (error == NULL || *error == NULL))
        {
          g_autofree char *path = g_build_filename (self->tmp_dir, d->d_name, NULL);

          set_file_error (error, errno, MSG_REMOVE, path);
        }
    }

  saved_errno = errno;
  closedir (dir);

  if (saved_errno != 0 && (error == NULL || *error == NULL))
    set_file_error (error, saved_errno, MSG_OPEN, self->tmp_dir);

  return removed;
}
