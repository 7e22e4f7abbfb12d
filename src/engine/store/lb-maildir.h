/* lb-maildir.h: Maildir storage for local folders
 *
 * Every function here blocks on the file system (fsync included): call
 * them from the store's worker thread, never from the main thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define LB_TYPE_MAILDIR (lb_maildir_get_type ())

G_DECLARE_FINAL_TYPE (LbMaildir, lb_maildir, LB, MAILDIR, GObject)

/**
 * LbMaildirBatch:
 *
 * Messages being delivered together: written to tmp/ one by one, made
 * durable with as few syncs as possible, then moved into new/ or cur/.
 * A batch belongs to the thread that made it.
 */
typedef struct _LbMaildirBatch LbMaildirBatch;

/**
 * LbMaildirBatchProgressFunc:
 * @batch: the batch being committed
 * @done: how many of its messages have been moved into new/ or cur/
 * @total: how many messages the batch holds
 * @user_data: the data given to lb_maildir_batch_set_progress_func()
 *
 * Called by lb_maildir_batch_commit() after each message is moved into
 * place, on the committing thread.
 */
typedef void (*LbMaildirBatchProgressFunc) (LbMaildirBatch *batch,
                                            guint           done,
                                            guint           total,
                                            gpointer        user_data);

/**
 * LbMaildirEntry:
 * @unique: the message's unique name (the file name without the info)
 * @path: the full path of its file
 * @flags: #LbMessageFlags from the info, 0 when there is none
 * @is_new: whether the file is in new/ (not yet seen by any reader)
 *
 * One message found by lb_maildir_list().
 */
typedef struct
{
  char     *unique;
  char     *path;
  guint     flags;
  gboolean  is_new;
} LbMaildirEntry;

LbMaildir      *lb_maildir_new                     (const char                  *path);
const char     *lb_maildir_get_path                (LbMaildir                   *self);
gboolean        lb_maildir_ensure                  (LbMaildir                   *self,
                                                    GError                     **error);

LbMaildirBatch *lb_maildir_batch_new               (LbMaildir                   *maildir);
char           *lb_maildir_batch_add               (LbMaildirBatch              *batch,
                                                    const void                  *data,
                                                    gsize                        length,
                                                    guint                        flags,
                                                    GError                     **error);
const char     *lb_maildir_batch_begin             (LbMaildirBatch              *batch,
                                                    guint                        flags,
                                                    GError                     **error);
gboolean        lb_maildir_batch_write             (LbMaildirBatch              *batch,
                                                    const void                  *data,
                                                    gsize                        length,
                                                    GError                     **error);
gboolean        lb_maildir_batch_end               (LbMaildirBatch              *batch,
                                                    GError                     **error);
void            lb_maildir_batch_abort             (LbMaildirBatch              *batch);
const char     *lb_maildir_batch_get_path          (LbMaildirBatch              *batch,
                                                    guint                        index);
void            lb_maildir_batch_set_progress_func (LbMaildirBatch              *batch,
                                                    LbMaildirBatchProgressFunc   func,
                                                    gpointer                     user_data);
gboolean        lb_maildir_batch_commit            (LbMaildirBatch              *batch,
                                                    GError                     **error);
guint           lb_maildir_batch_get_length        (LbMaildirBatch              *batch);
void            lb_maildir_batch_free              (LbMaildirBatch              *batch);

char           *lb_maildir_deliver                 (LbMaildir                   *self,
                                                    const void                  *data,
                                                    gsize                        length,
                                                    guint                        flags,
                                                    GError                     **error);

char           *lb_maildir_find                    (LbMaildir                   *self,
                                                    const char                  *unique,
                                                    guint                        flags_hint,
                                                    GError                     **error);
gboolean        lb_maildir_set_flags               (LbMaildir                   *self,
                                                    const char                  *unique,
                                                    guint                        flags_hint,
                                                    guint                        flags,
                                                    GError                     **error);
gboolean        lb_maildir_remove                  (LbMaildir                   *self,
                                                    const char                  *unique,
                                                    guint                        flags_hint,
                                                    GError                     **error);
char           *lb_maildir_link_from               (LbMaildir                   *self,
                                                    LbMaildir                   *source,
                                                    const char                  *unique,
                                                    guint                        flags_hint,
                                                    GError                     **error);
gboolean        lb_maildir_sync                    (LbMaildir                   *self,
                                                    GError                     **error);
GBytes         *lb_maildir_read                    (LbMaildir                   *self,
                                                    const char                  *unique,
                                                    guint                        flags_hint,
                                                    GError                     **error);

GPtrArray      *lb_maildir_list                    (LbMaildir                   *self,
                                                    GError                     **error);
void            lb_maildir_entry_free              (LbMaildirEntry              *entry);
guint           lb_maildir_flags_from_info         (const char                  *info);
guint           lb_maildir_clean_tmp               (LbMaildir                   *self,
                                                    GError                     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbMaildirBatch, lb_maildir_batch_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbMaildirEntry, lb_maildir_entry_free)

G_END_DECLS
