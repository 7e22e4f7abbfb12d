/* lb-message.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-message"

#include "config.h"

#include "lb-message.h"

/* LbMessage is what a message list hands out for a row. A list of 100,000
 * messages keeps only a window of them, and hands out a row before its
 * summary is read from the store: such a message is not "loaded" yet, and
 * fills in (with notify signals) when the page arrives. Rows are built
 * once and only filled in, as GTK list views like it.
 *
 * In a threaded list a row stands for a conversation: the summary is that
 * of its newest message, and the conversation's counts say how many
 * messages it has (LbMessage:n-messages, 0 for a plain message row) and
 * how many are unread; the row is unread when any of them is, flagged
 * when any is, and has attachments when any has. */

struct _LbMessage
{
  GObject parent_instance;

  LbMessageSummary *summary;
  LbStore *store;

  /* a conversation row's counts; all 0 for a message row */
  guint n_messages;
  guint n_unread;
  guint n_flagged;
  guint n_attachments;
};

G_DEFINE_FINAL_TYPE (LbMessage, lb_message, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_LOADED,
  PROP_KEY,
  PROP_FOLDER_ID,
  PROP_SUBJECT,
  PROP_FROM,
  PROP_PREVIEW,
  PROP_DATE,
  PROP_FLAGS,
  PROP_UNREAD,
  PROP_FLAGGED,
  PROP_HAS_ATTACHMENTS,
  PROP_THREAD_ID,
  PROP_N_MESSAGES,
  PROP_N_UNREAD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
lb_message_finalize (GObject *object)
{
  LbMessage *self = LB_MESSAGE (object);

  g_clear_pointer (&self->summary, lb_message_summary_unref);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (lb_message_parent_class)->finalize (object);
}

static void
lb_message_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  LbMessage *self = LB_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_LOADED:
      g_value_set_boolean (value, lb_message_get_loaded (self));
      break;
    case PROP_KEY:
      g_value_set_int64 (value, lb_message_get_key (self));
      break;
    case PROP_FOLDER_ID:
      g_value_set_int64 (value, lb_message_get_folder_id (self));
      break;
    case PROP_SUBJECT:
      g_value_set_string (value, lb_message_get_subject (self));
      break;
    case PROP_FROM:
      g_value_set_string (value, lb_message_get_from (self));
      break;
    case PROP_PREVIEW:
      g_value_set_string (value, lb_message_get_preview (self));
      break;
    case PROP_DATE:
      g_value_set_int64 (value, lb_message_get_date (self));
      break;
    case PROP_FLAGS:
      g_value_set_uint (value, lb_message_get_flags (self));
      break;
    case PROP_UNREAD:
      g_value_set_boolean (value, lb_message_get_unread (self));
      break;
    case PROP_FLAGGED:
      g_value_set_boolean (value, lb_message_get_flagged (self));
      break;
    case PROP_HAS_ATTACHMENTS:
      g_value_set_boolean (value, lb_message_get_has_attachments (self));
      break;
    case PROP_THREAD_ID:
      g_value_set_int64 (value, lb_message_get_thread_id (self));
      break;
    case PROP_N_MESSAGES:
      g_value_set_uint (value, lb_message_get_n_messages (self));
      break;
    case PROP_N_UNREAD:
      g_value_set_uint (value, lb_message_get_n_unread (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_message_class_init (LbMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = lb_message_finalize;
  object_class->get_property = lb_message_get_property;

  properties[PROP_LOADED] = g_param_spec_boolean ("loaded", NULL, NULL, FALSE, flags);
  properties[PROP_KEY] = g_param_spec_int64 ("key", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_FOLDER_ID] = g_param_spec_int64 ("folder-id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_SUBJECT] = g_param_spec_string ("subject", NULL, NULL, NULL, flags);
  properties[PROP_FROM] = g_param_spec_string ("from", NULL, NULL, NULL, flags);
  properties[PROP_PREVIEW] = g_param_spec_string ("preview", NULL, NULL, NULL, flags);
  properties[PROP_DATE] = g_param_spec_int64 ("date", NULL, NULL, G_MININT64, G_MAXINT64, 0, flags);
  properties[PROP_FLAGS] = g_param_spec_uint ("flags", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_UNREAD] = g_param_spec_boolean ("unread", NULL, NULL, FALSE, flags);
  properties[PROP_FLAGGED] = g_param_spec_boolean ("flagged", NULL, NULL, FALSE, flags);
  properties[PROP_HAS_ATTACHMENTS] = g_param_spec_boolean ("has-attachments", NULL, NULL, FALSE, flags);
  properties[PROP_THREAD_ID] = g_param_spec_int64 ("thread-id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  /**
   * LbMessage:n-messages:
   *
   * For a conversation row, the conversation's messages in the folder;
   * 0 for a message row.
   */
  properties[PROP_N_MESSAGES] = g_param_spec_uint ("n-messages", NULL, NULL, 0, G_MAXUINT, 0, flags);
  /**
   * LbMessage:n-unread:
   *
   * For a conversation row, how many of its messages are unread; for a
   * message row, 1 when it is unread.
   */
  properties[PROP_N_UNREAD] = g_param_spec_uint ("n-unread", NULL, NULL, 0, G_MAXUINT, 0, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lb_message_init (LbMessage *self)
{
}

/**
 * lb_message_new:
 *
 * Returns: (transfer full): a row whose summary is still to come
 */
LbMessage *
lb_message_new (void)
{
  return g_object_new (LB_TYPE_MESSAGE, NULL);
}

/**
 * lb_message_new_for_summary:
 *
 * Returns: (transfer full): a loaded row
 */
LbMessage *
lb_message_new_for_summary (LbMessageSummary *summary)
{
  LbMessage *self = lb_message_new ();

  self->summary = lb_message_summary_ref (summary);
  return self;
}

gboolean
lb_message_get_loaded (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), FALSE);

  return self->summary != NULL;
}

/**
 * lb_message_get_store:
 *
 * Returns: (transfer none) (nullable): the store (so the account) the
 *   message is in, %NULL until loaded
 */
LbStore *
lb_message_get_store (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), NULL);

  return self->store;
}

/**
 * lb_message_set_store:
 *
 * Says which store the row's summary comes from; keys are only unique
 * within a store, and a unified list holds rows of several.
 */
void
lb_message_set_store (LbMessage *self,
                      LbStore   *store)
{
  g_return_if_fail (LB_IS_MESSAGE (self));
  g_return_if_fail (store == NULL || LB_IS_STORE (store));

  g_set_object (&self->store, store);
}

/**
 * lb_message_get_summary:
 *
 * Returns: (transfer none) (nullable): the summary, %NULL until loaded
 */
LbMessageSummary *
lb_message_get_summary (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), NULL);

  return self->summary;
}

static gboolean
strings_differ (const char *a,
                const char *b)
{
  return g_strcmp0 (a, b) != 0;
}

/**
 * lb_message_set_summary:
 * @self: the row
 * @summary: what the store has now
 *
 * Fills in (or refreshes) the row, notifying each property that changed.
 */
void
lb_message_set_summary (LbMessage        *self,
                        LbMessageSummary *summary)
{
  LbMessageSummary *old;
  LbMessageSummary empty = { 0 };
  const LbMessageSummary *o;

  g_return_if_fail (LB_IS_MESSAGE (self));
  g_return_if_fail (summary != NULL);

  if (self->summary == summary)
    return;

  old = g_steal_pointer (&self->summary);
  self->summary = lb_message_summary_ref (summary);
  o = old ? old : &empty;

  g_object_freeze_notify (G_OBJECT (self));
  if (old == NULL)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADED]);
  if (o->key != summary->key)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEY]);
  if (o->folder_id != summary->folder_id)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLDER_ID]);
  if (strings_differ (o->subject, summary->subject))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUBJECT]);
  if (strings_differ (o->from, summary->from))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FROM]);
  if (strings_differ (o->preview, summary->preview))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PREVIEW]);
  if (o->date != summary->date)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DATE]);
  if (old == NULL || o->flags != summary->flags)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FLAGS]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNREAD]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FLAGGED]);
      if (self->n_messages == 0)
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_UNREAD]);
    }
  if (o->has_attachments != summary->has_attachments)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_ATTACHMENTS]);
  if (o->thread_id != summary->thread_id)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THREAD_ID]);
  g_object_thaw_notify (G_OBJECT (self));

  g_clear_pointer (&old, lb_message_summary_unref);
}

gint64
lb_message_get_key (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), 0);
  return self->summary ? self->summary->key : 0;
}

gint64
lb_message_get_folder_id (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), 0);
  return self->summary ? self->summary->folder_id : 0;
}

const char *
lb_message_get_subject (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), NULL);
  return self->summary ? self->summary->subject : NULL;
}

const char *
lb_message_get_from (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), NULL);
  return self->summary ? self->summary->from : NULL;
}

const char *
lb_message_get_preview (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), NULL);
  return self->summary ? self->summary->preview : NULL;
}

gint64
lb_message_get_date (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), 0);
  return self->summary ? self->summary->date : 0;
}

guint
lb_message_get_flags (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), 0);
  return self->summary ? self->summary->flags : 0;
}

/**
 * lb_message_get_unread:
 *
 * Returns: whether the message is unread; for a conversation row,
 *   whether any of its messages is
 */
gboolean
lb_message_get_unread (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), FALSE);
  if (self->n_messages > 0)
    return self->n_unread > 0;
  return self->summary != NULL && !(self->summary->flags & LB_MESSAGE_SEEN);
}

/**
 * lb_message_get_flagged:
 *
 * Returns: whether the message is flagged; for a conversation row,
 *   whether any of its messages is
 */
gboolean
lb_message_get_flagged (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), FALSE);
  if (self->n_messages > 0)
    return self->n_flagged > 0;
  return self->summary != NULL && (self->summary->flags & LB_MESSAGE_FLAGGED);
}

/**
 * lb_message_get_has_attachments:
 *
 * Returns: whether the message has attachments; for a conversation row,
 *   whether any of its messages has
 */
gboolean
lb_message_get_has_attachments (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), FALSE);
  if (self->n_messages > 0)
    return self->n_attachments > 0;
  return self->summary != NULL && self->summary->has_attachments;
}

/**
 * lb_message_get_n_messages:
 *
 * Returns: a conversation row's messages (in its folder); 0 for a message
 *   row
 */
guint
lb_message_get_n_messages (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), 0);
  return self->n_messages;
}

/**
 * lb_message_get_n_unread:
 *
 * Returns: how many of a conversation row's messages are unread; for a
 *   message row, 1 if it is unread, else 0
 */
guint
lb_message_get_n_unread (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), 0);
  if (self->n_messages > 0)
    return self->n_unread;
  return lb_message_get_unread (self) ? 1 : 0;
}

/**
 * lb_message_set_conversation:
 * @self: the row
 * @conversation: the conversation as the store has it now
 *
 * Fills in (or refreshes) a conversation row: its newest message's
 * summary and the conversation's counts, notifying what changed.
 */
void
lb_message_set_conversation (LbMessage                 *self,
                             const LbStoreConversation *conversation)
{
  gboolean unread, flagged, attachments;
  guint n_messages, n_unread;

  g_return_if_fail (LB_IS_MESSAGE (self));
  g_return_if_fail (conversation != NULL && conversation->newest != NULL);

  unread = lb_message_get_unread (self);
  flagged = lb_message_get_flagged (self);
  attachments = lb_message_get_has_attachments (self);
  n_messages = self->n_messages;
  n_unread = lb_message_get_n_unread (self);

  g_object_freeze_notify (G_OBJECT (self));
  /* a conversation has a message at least */
  self->n_messages = MAX (1, conversation->n_messages);
  self->n_unread = conversation->n_unread;
  self->n_flagged = conversation->n_flagged;
  self->n_attachments = conversation->n_attachments;
  lb_message_set_summary (self, conversation->newest);

  if (unread != lb_message_get_unread (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNREAD]);
  if (flagged != lb_message_get_flagged (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FLAGGED]);
  if (attachments != lb_message_get_has_attachments (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_ATTACHMENTS]);
  if (n_messages != self->n_messages)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_MESSAGES]);
  if (n_unread != self->n_unread)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_UNREAD]);
  g_object_thaw_notify (G_OBJECT (self));
}

gint64
lb_message_get_thread_id (LbMessage *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE (self), 0);
  return self->summary ? self->summary->thread_id : 0;
}
