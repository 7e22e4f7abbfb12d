/* lb-message-summary.h: what the message list knows of a message
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * LbMessageFlags:
 * @LB_MESSAGE_SEEN: read (IMAP \Seen, Maildir S)
 * @LB_MESSAGE_ANSWERED: replied to (IMAP \Answered, Maildir R)
 * @LB_MESSAGE_FLAGGED: starred (IMAP \Flagged, Maildir F)
 * @LB_MESSAGE_DELETED: marked for deletion (IMAP \Deleted, Maildir T)
 * @LB_MESSAGE_DRAFT: a draft (IMAP \Draft, Maildir D)
 * @LB_MESSAGE_FORWARDED: forwarded (IMAP $Forwarded, Maildir P)
 *
 * The system flags a message can carry; any other IMAP keyword is kept
 * as text in #LbMessageSummary.keywords.
 */
typedef enum /*< flags >*/
{
  LB_MESSAGE_SEEN      = 1 << 0,
  LB_MESSAGE_ANSWERED  = 1 << 1,
  LB_MESSAGE_FLAGGED   = 1 << 2,
  LB_MESSAGE_DELETED   = 1 << 3,
  LB_MESSAGE_DRAFT     = 1 << 4,
  LB_MESSAGE_FORWARDED = 1 << 5,
} LbMessageFlags;

#define LB_MESSAGE_FLAGS_ALL (LB_MESSAGE_SEEN | LB_MESSAGE_ANSWERED | LB_MESSAGE_FLAGGED | \
                              LB_MESSAGE_DELETED | LB_MESSAGE_DRAFT | LB_MESSAGE_FORWARDED)

#define LB_TYPE_MESSAGE_SUMMARY (lb_message_summary_get_type ())

typedef struct _LbMessageSummary LbMessageSummary;

/**
 * LbMessageSummary:
 * @key: the store's own stable key for the message (0 until stored)
 * @folder_id: the store's id of the folder holding it (0 until stored)
 * @uid: the IMAP UID in that folder, 0 when unknown or not IMAP
 * @uidl: (nullable): the POP3 UIDL, %NULL when not POP3
 * @message_id: (nullable): Message-ID without the angle brackets
 * @in_reply_to: (nullable): the first id of In-Reply-To, without brackets
 * @references: (nullable): the ids of References, oldest first, without
 *   brackets, separated by single spaces
 * @subject: (nullable): decoded subject, UTF-8
 * @from: (nullable): decoded From, UTF-8, as "Name <addr>" list
 * @to: (nullable): decoded To, UTF-8
 * @cc: (nullable): decoded Cc, UTF-8
 * @date: the Date header (or the arrival time when missing or broken),
 *   seconds since the epoch, UTC
 * @size: size of the raw message in bytes
 * @flags: #LbMessageFlags
 * @keywords: (nullable): other IMAP keywords, separated by single spaces
 * @has_attachments: whether the message has attachments
 * @preview: (nullable): the first line or so of the body text
 * @thread_id: the store's id of the thread (0 until stored)
 * @location: (nullable): where the raw message lives here: the Maildir
 *   file's unique name for local folders, the body cache's name for IMAP,
 *   %NULL when not fetched
 * @list_id: (nullable): the List-Id of a mailing list's message, without
 *   the angle brackets
 * @structure: (nullable): for IMAP, the message's body structure in the
 *   canonical text form the IMAP sync writes (opaque to the store), to
 *   fetch single parts with
 * @modseq: the IMAP MODSEQ of the message's last change, 0 when unknown
 *
 * All strings are UTF-8 and owned by the summary.
 */
struct _LbMessageSummary
{
  gint64  key;
  gint64  folder_id;
  guint32 uid;
  char   *uidl;
  char   *message_id;
  char   *in_reply_to;
  char   *references;
  char   *subject;
  char   *from;
  char   *to;
  char   *cc;
  gint64  date;
  gint64  size;
  guint   flags;
  char   *keywords;
  gboolean has_attachments;
  char   *preview;
  gint64  thread_id;
  char   *location;
  char   *list_id;
  char   *structure;
  guint64 modseq;

  /*< private >*/
  gatomicrefcount ref_count;
};

GType             lb_message_summary_get_type (void) G_GNUC_CONST;
LbMessageSummary *lb_message_summary_new      (void);
LbMessageSummary *lb_message_summary_ref      (LbMessageSummary *self);
void              lb_message_summary_unref    (LbMessageSummary *self);
LbMessageSummary *lb_message_summary_copy     (const LbMessageSummary *self);

char             *lb_message_flags_to_string  (guint flags);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbMessageSummary, lb_message_summary_unref)

G_END_DECLS
