/* lb-imap-sync.h: bringing the store up to date with an IMAP mailbox
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-imap-client.h"
#include "lb-message-summary.h"
#include "lb-store.h"

G_BEGIN_DECLS

/* what the message list needs, as one UID FETCH item list */
#define LB_IMAP_SYNC_HEADER_ITEMS \
  "UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE " \
  "BODY.PEEK[HEADER.FIELDS (REFERENCES IN-REPLY-TO LIST-ID)]"

/**
 * LbImapSyncStats:
 * @added: messages new to the store
 * @updated: messages whose flags changed
 * @removed: messages gone from the server
 * @full: whether the whole folder was walked (first sync, an interrupted
 *   one resumed, a UIDVALIDITY change, or a server without CONDSTORE)
 * @uidvalidity_changed: the server renumbered the folder
 */
typedef struct
{
  guint    added;
  guint    updated;
  guint    removed;
  gboolean full;
  gboolean uidvalidity_changed;
} LbImapSyncStats;

#define LB_TYPE_IMAP_SYNC (lb_imap_sync_get_type ())

G_DECLARE_FINAL_TYPE (LbImapSync, lb_imap_sync, LB, IMAP_SYNC, GObject)

LbImapSync       *lb_imap_sync_new                (LbImapClient        *client,
                                                   LbStore             *store);

void              lb_imap_sync_folder_async       (LbImapSync          *self,
                                                   gint64               folder_id,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean          lb_imap_sync_folder_finish      (LbImapSync          *self,
                                                   GAsyncResult        *result,
                                                   LbImapSyncStats     *stats,
                                                   GError             **error);

void              lb_imap_sync_fetch_bodies_async (LbImapSync          *self,
                                                   gint64               folder_id,
                                                   GPtrArray           *summaries,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
guint             lb_imap_sync_fetch_bodies_finish (LbImapSync         *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

void              lb_imap_sync_fetch_part_async   (LbImapSync          *self,
                                                   gint64               folder_id,
                                                   guint32              uid,
                                                   const char          *section,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
GBytes           *lb_imap_sync_fetch_part_finish  (LbImapSync          *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* makes sure @path is the selected mailbox (read-write), up to date */
void              lb_imap_sync_select_async       (LbImapSync          *self,
                                                   const char          *path,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean          lb_imap_sync_select_finish      (LbImapSync          *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* pure helpers, for the provider and tests */
LbMessageSummary *lb_imap_summary_from_fetch      (const LbImapFetch   *fetch);
guint             lb_imap_flags_to_message_flags  (char * const        *flags,
                                                   char               **keywords);
char            **lb_imap_flags_from_message_flags (guint               flags);
char             *lb_imap_body_to_structure       (const LbImapBody    *body);
gboolean          lb_imap_body_has_attachments    (const LbImapBody    *body);

G_END_DECLS
