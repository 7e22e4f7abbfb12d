/* lb-store-private.h: LbStore internals for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lb-store.h"
#include "lb-maildir.h"

G_BEGIN_DECLS

/* Opens the store, migrating it no further than @max_version: lets a test
 * make a database of an older schema and then upgrade it. */
void lb_store_open_at_version_async (const char          *directory,
                                     guint                max_version,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);

/* How many commits ran with synchronous=FULL (durable writes). */
guint lb_store_get_durable_commits (LbStore *self);

/* For LbStoreDownload. */

/**
 * LbStoreRecordFunc:
 * @recorded: (element-type utf8): the UIDLs of the messages given that are
 *   now in the store: added, replacing their headers-only row, or found
 *   there already (their files were removed); empty on error
 * @error: (nullable): why nothing was recorded
 * @user_data: the data given
 *
 * Called once by lb_store_record_downloads(), on the store's writer
 * thread, after the job committed (and its signals were queued) or failed.
 */
typedef void (*LbStoreRecordFunc) (GPtrArray    *recorded,
                                   const GError *error,
                                   gpointer      user_data);

/* The local folder's Maildir, looked up on the store's writer: blocks
 * until the writer gets to it. Never call it from the writer. */
LbMaildir *lb_store_get_folder_maildir (LbStore  *self,
                                        gint64    folder_id,
                                        GError  **error);

void lb_store_record_downloads (LbStore           *self,
                                gint64             folder_id,
                                GPtrArray         *summaries,
                                GPtrArray         *body_texts,
                                GArray            *partial,
                                LbStoreRecordFunc  func,
                                gpointer           user_data);

G_END_DECLS
