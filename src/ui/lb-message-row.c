/* lb-message-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <string.h>

#include "lb-message-row.h"
#include "lb-message-row-state.h"

/* A row of the message list: the sender (bold while unread) and the date
 * on the first line, with the marks; the subject; a dim line of the text.
 * The row is built once (a list view's factory setup) and filled again
 * for each message it shows. Every line is one line of text whatever the
 * message holds, and marks take no line of their own, so all rows have
 * the same height, loaded or not: a list view of 100,000 rows scrolls
 * without jumps when placeholders fill in. A conversation row (a threaded
 * list's) shows its newest message, and how many messages it has in a
 * small badge after the subject, on the subject's line. */

struct _LbMessageRow
{
  GtkWidget         parent_instance;

  LbMessage        *message;
  gulong            notify_id;
  /* what the row shows now: filled again only when it changes */
  LbMessageSummary *shown_summary;
  guint             shown_counts[2];   /* a conversation's: messages, unread */
  gboolean          shown_marks[2];    /* flagged, attachment */
  gboolean          shown;

  /* template children */
  GtkWidget        *top_box;
  GtkWidget        *unread_dot;
  GtkLabel         *sender_label;
  GtkWidget        *attachment_icon;
  GtkWidget        *flag_icon;
  GtkLabel         *date_label;
  GtkWidget        *subject_box;
  GtkLabel         *subject_label;
  GtkLabel         *count_label;
  GtkLabel         *snippet_label;
};

G_DEFINE_FINAL_TYPE (LbMessageRow, lb_message_row, GTK_TYPE_WIDGET)

static void
set_css_class (GtkWidget  *widget,
               const char *css_class,
               gboolean    set)
{
  if (set)
    gtk_widget_add_css_class (widget, css_class);
  else
    gtk_widget_remove_css_class (widget, css_class);
}

static void
lb_message_row_fill (LbMessageRow *self)
{
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(LbMessageRowState) state = NULL;
  LbMessageSummary *summary;

  guint counts[2] = { 0, 0 };
  gboolean marks[2] = { FALSE, FALSE };

  summary = self->message != NULL ? lb_message_get_summary (self->message) : NULL;
  if (self->message != NULL)
    {
      /* a conversation's counts change without its newest message */
      counts[0] = lb_message_get_n_messages (self->message);
      counts[1] = lb_message_get_n_unread (self->message);
      marks[0] = lb_message_get_flagged (self->message);
      marks[1] = lb_message_get_has_attachments (self->message);
    }
  if (self->shown && summary == self->shown_summary &&
      memcmp (counts, self->shown_counts, sizeof counts) == 0 &&
      memcmp (marks, self->shown_marks, sizeof marks) == 0)
    return;

  g_clear_pointer (&self->shown_summary, lb_message_summary_unref);
  if (summary != NULL)
    self->shown_summary = lb_message_summary_ref (summary);
  memcpy (self->shown_counts, counts, sizeof counts);
  memcpy (self->shown_marks, marks, sizeof marks);
  self->shown = TRUE;

  if (self->message == NULL)
    {
      gtk_label_set_text (self->sender_label, "");
      gtk_label_set_text (self->date_label, "");
      gtk_label_set_text (self->subject_label, "");
      gtk_label_set_text (self->snippet_label, "");
      gtk_label_set_text (self->count_label, "");
      gtk_widget_set_visible (GTK_WIDGET (self->count_label), FALSE);
      gtk_widget_set_opacity (self->unread_dot, 0);
      gtk_widget_set_visible (self->flag_icon, FALSE);
      gtk_widget_set_visible (self->attachment_icon, FALSE);
      set_css_class (GTK_WIDGET (self), "unread", FALSE);
      return;
    }

  now = g_date_time_new_now_local ();
  state = lb_message_row_state_new (self->message, now);

  gtk_label_set_text (self->sender_label, state->sender);
  gtk_label_set_text (self->date_label, state->date);
  gtk_label_set_text (self->subject_label, state->subject);
  gtk_label_set_text (self->snippet_label, state->snippet);
  gtk_label_set_text (self->count_label, state->count_text);
  gtk_widget_set_visible (GTK_WIDGET (self->count_label), state->count > 0);
  gtk_widget_set_opacity (self->unread_dot, state->unread ? 1 : 0);
  gtk_widget_set_visible (self->flag_icon, state->flagged);
  gtk_widget_set_visible (self->attachment_icon, state->attachment);
  set_css_class (GTK_WIDGET (self), "unread", state->unread);
  set_css_class (GTK_WIDGET (self), "loading", !state->loaded);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, state->accessible_label,
                                  -1);
}

/* A page arrived or the flags changed: the message notifies each property
 * that changed, the row fills once per new summary. */
static void
message_notify_cb (LbMessage    *message,
                   GParamSpec   *pspec,
                   LbMessageRow *self)
{
  lb_message_row_fill (self);
}

static void
lb_message_row_dispose (GObject *object)
{
  LbMessageRow *self = LB_MESSAGE_ROW (object);

  lb_message_row_unbind (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), LB_TYPE_MESSAGE_ROW);

  G_OBJECT_CLASS (lb_message_row_parent_class)->dispose (object);
}

static void
lb_message_row_class_init (LbMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lb_message_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/letterbox/Letterbox/lb-message-row.ui");
  gtk_widget_class_bind_template_child (widget_class, LbMessageRow, top_box);
  gtk_widget_class_bind_template_child (widget_class, LbMessageRow, unread_dot);
  gtk_widget_class_bind_template_child (widget_class, LbMessageRow, sender_label);
  gtk_widget_class_bind_template_child (widget_class, LbMessageRow, attachment_icon);
  gtk_widget_class_bind_template_child (widget_class, LbMessageRow, flag_icon);
  gtk_widget_class_bind_template_child (widget_class, LbMessageRow, date_label);
  gtk_widget_class_bind_template_child (widget_class, LbMessageRow, subject_box);
  gtk_widget_class_bind_template_child (widget_class, LbMessageRow, subject_label);
  gtk_widget_class_bind_template_child (widget_class, LbMessageRow, count_label);
  gtk_widget_class_bind_template_child (widget_class, LbMessageRow, snippet_label);

  gtk_widget_class_set_css_name (widget_class, "lb-message-row");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
lb_message_row_init (LbMessageRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * lb_message_row_new:
 *
 * Returns: (transfer floating): an empty row, to bind to messages
 */
GtkWidget *
lb_message_row_new (void)
{
  return g_object_new (LB_TYPE_MESSAGE_ROW, NULL);
}

/**
 * lb_message_row_bind:
 * @self: a row
 * @message: the message to show
 *
 * Shows @message, and follows its changes until unbound: a message not
 * loaded yet shows blank lines of the same height until its page
 * arrives.
 */
void
lb_message_row_bind (LbMessageRow *self,
                     LbMessage    *message)
{
  g_return_if_fail (LB_IS_MESSAGE_ROW (self));
  g_return_if_fail (LB_IS_MESSAGE (message));

  if (self->message != message)
    {
      lb_message_row_unbind (self);
      self->message = g_object_ref (message);
      self->notify_id = g_signal_connect (message, "notify", G_CALLBACK (message_notify_cb), self);
    }

  lb_message_row_fill (self);
}

/**
 * lb_message_row_unbind:
 * @self: a row
 *
 * Stops following the message; the row keeps showing it until bound
 * again (a list view unbinds a row only to bind it again).
 */
void
lb_message_row_unbind (LbMessageRow *self)
{
  g_return_if_fail (LB_IS_MESSAGE_ROW (self));

  if (self->message == NULL)
    return;

  g_clear_signal_handler (&self->notify_id, self->message);
  g_clear_object (&self->message);
  /* the next bind fills the row whatever it shows now */
  g_clear_pointer (&self->shown_summary, lb_message_summary_unref);
  self->shown = FALSE;
}

/**
 * lb_message_row_get_message:
 * @self: a row
 *
 * Returns: (transfer none) (nullable): the message bound, if any
 */
LbMessage *
lb_message_row_get_message (LbMessageRow *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE_ROW (self), NULL);

  return self->message;
}
