/* lb-message-summary.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-store"

#include "config.h"

#include "lb-message-summary.h"

G_DEFINE_BOXED_TYPE (LbMessageSummary, lb_message_summary,
                     lb_message_summary_ref, lb_message_summary_unref)

/**
 * lb_message_summary_new:
 *
 * Returns: (transfer full): an empty summary, to fill in
 */
LbMessageSummary *
lb_message_summary_new (void)
{
  LbMessageSummary *self = g_new0 (LbMessageSummary, 1);

  g_atomic_ref_count_init (&self->ref_count);

  return self;
}

LbMessageSummary *
lb_message_summary_ref (LbMessageSummary *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);

  return self;
}

void
lb_message_summary_unref (LbMessageSummary *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_free (self->uidl);
  g_free (self->message_id);
  g_free (self->in_reply_to);
  g_free (self->references);
  g_free (self->subject);
  g_free (self->from);
  g_free (self->to);
  g_free (self->cc);
  g_free (self->keywords);
  g_free (self->preview);
  g_free (self->location);
  g_free (self->list_id);
  g_free (self->structure);
  g_free (self);
}

/**
 * lb_message_summary_copy:
 *
 * Returns: (transfer full): a deep copy, with a reference count of its own
 */
LbMessageSummary *
lb_message_summary_copy (const LbMessageSummary *self)
{
  LbMessageSummary *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = lb_message_summary_new ();
  copy->key = self->key;
  copy->folder_id = self->folder_id;
  copy->uid = self->uid;
  copy->uidl = g_strdup (self->uidl);
  copy->message_id = g_strdup (self->message_id);
  copy->in_reply_to = g_strdup (self->in_reply_to);
  copy->references = g_strdup (self->references);
  copy->subject = g_strdup (self->subject);
  copy->from = g_strdup (self->from);
  copy->to = g_strdup (self->to);
  copy->cc = g_strdup (self->cc);
  copy->date = self->date;
  copy->size = self->size;
  copy->flags = self->flags;
  copy->keywords = g_strdup (self->keywords);
  copy->has_attachments = self->has_attachments;
  copy->preview = g_strdup (self->preview);
  copy->thread_id = self->thread_id;
  copy->location = g_strdup (self->location);
  copy->list_id = g_strdup (self->list_id);
  copy->structure = g_strdup (self->structure);
  copy->modseq = self->modseq;

  return copy;
}

/**
 * lb_message_flags_to_string:
 * @flags: #LbMessageFlags
 *
 * Returns: (transfer full): the flags as the letters Maildir uses, in
 *   its ASCII order ("FPRST" style, "D" for drafts), "" for none
 */
char *
lb_message_flags_to_string (guint flags)
{
  GString *s = g_string_new (NULL);

  /* Maildir's info letters, which must appear in ASCII order. */
  if (flags & LB_MESSAGE_DRAFT)
    g_string_append_c (s, 'D');
  if (flags & LB_MESSAGE_FLAGGED)
    g_string_append_c (s, 'F');
  if (flags & LB_MESSAGE_FORWARDED)
    g_string_append_c (s, 'P');
  if (flags & LB_MESSAGE_ANSWERED)
    g_string_append_c (s, 'R');
  if (flags & LB_MESSAGE_SEEN)
    g_string_append_c (s, 'S');
  if (flags & LB_MESSAGE_DELETED)
    g_string_append_c (s, 'T');

  return g_string_free (s, FALSE);
}
