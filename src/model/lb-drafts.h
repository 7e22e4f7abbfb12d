/* lb-drafts.h: saving the message being written
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-account.h"
#include "lb-outgoing-message.h"

G_BEGIN_DECLS

/* Saves @message (its LB_OUTGOING_FORM_DRAFT bytes, flagged \Draft and
 * \Seen) in @account's Drafts folder: the server's for IMAP (offline it
 * waits in the store's queue like any change), the local one for POP3.
 * @replaces: the key of the previous version, 0 for none; it is deleted for
 * good once the new one is stored. Returns the new version's key. */
void        lb_drafts_save_async     (LbAccount            *account,
                                      LbOutgoingMessage    *message,
                                      gint64                replaces,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data);
gint64      lb_drafts_save_finish    (GAsyncResult         *result,
                                      GError              **error);

/* Deletes a draft for good (discarded, or sent) */
void        lb_drafts_discard_async  (LbAccount            *account,
                                      gint64                key,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data);
gboolean    lb_drafts_discard_finish (GAsyncResult         *result,
                                      GError              **error);

/* Reads a draft back (reopening it continues it) */
void        lb_drafts_open_async     (LbAccount            *account,
                                      gint64                key,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data);
LbOutgoingMessage *lb_drafts_open_finish (GAsyncResult     *result,
                                      GError              **error);

G_END_DECLS
