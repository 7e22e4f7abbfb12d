/* lb-store-download.h: streaming POP3 messages into a local folder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-store.h"

G_BEGIN_DECLS

/**
 * LbStoreDownload:
 *
 * Stores messages that arrive in pieces (POP3 RETR or TOP) in a local
 * folder, without ever holding a whole message in memory. The calls are
 * made on one main context and never block: they queue the bytes for the
 * download's own writer thread, which writes each message to a file in
 * the folder's Maildir tmp/ as its pieces arrive.
 *
 * Every 256 messages or 16 MiB, and on lb_store_download_flush_async(),
 * the writer commits what it has: the files are made durable (one
 * syncfs(2) for a batch, or an fsync(2) per file for a few), moved into
 * new/ (or cur/, when the flags say seen) and their directories synced;
 * each file is parsed (mapped, not read into the heap) and the rows go to
 * the store's writer, which adds them to messages and pop3_uidls in one
 * transaction with synchronous=FULL, while the download's writer goes on
 * with the next messages. A message whose UIDL is in the folder already,
 * or that pop3_uidls names as here, is not stored twice; a whole message
 * whose headers only were here replaces them in place (same key, folder,
 * flags and thread; see lb_store_record_downloads()).
 *
 * Crash safety: the rows are committed only after their files are durable
 * in new/ or cur/, and the commit itself is durable. A crash (or power
 * cut) at any moment leaves each message either with no row (it will be
 * downloaded again; at most an orphan file is left, in tmp/ or new/ or
 * cur/) or with a complete row and its durable file, never a row without
 * its file and never two rows of one UIDL. The UIDLs that
 * lb_store_download_flush_finish() returns are safe to delete from the
 * server.
 *
 * A failure (a full disk, say) fails the whole download: the message
 * being written and those not committed yet are dropped with their files,
 * later waits and flushes return the error, and what was committed before
 * stays.
 */
#define LB_TYPE_STORE_DOWNLOAD (lb_store_download_get_type ())

G_DECLARE_FINAL_TYPE (LbStoreDownload, lb_store_download, LB, STORE_DOWNLOAD, GObject)

LbStoreDownload *lb_store_download_new            (LbStore              *store,
                                                   gint64                folder_id);

void             lb_store_download_begin          (LbStoreDownload      *self,
                                                   const char           *uidl,
                                                   gint64                received,
                                                   guint                 flags,
                                                   gboolean              partial);
void             lb_store_download_write          (LbStoreDownload      *self,
                                                   const guint8         *data,
                                                   gsize                 len);
void             lb_store_download_end            (LbStoreDownload      *self);
void             lb_store_download_abort          (LbStoreDownload      *self);

guint64          lb_store_download_get_backlog    (LbStoreDownload      *self);
guint            lb_store_download_get_n_recorded (LbStoreDownload      *self);

void             lb_store_download_wait_async     (LbStoreDownload      *self,
                                                   guint64               max_backlog,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean         lb_store_download_wait_finish    (LbStoreDownload      *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);
void             lb_store_download_flush_async    (LbStoreDownload      *self,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
GPtrArray       *lb_store_download_flush_finish   (LbStoreDownload      *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

void             lb_store_download_close          (LbStoreDownload      *self);

G_END_DECLS
