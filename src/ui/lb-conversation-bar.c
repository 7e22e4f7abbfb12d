/* lb-conversation-bar.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <glib/gi18n.h>

#include "lb-conversation-bar.h"
#include "lb-message-row-state.h"

/* Above the message view, while a conversation of more than one message
 * is open: a line for each of its messages in the folder, oldest first
 * (the sender, bold while unread, the first words of its text, the date),
 * the one shown selected and scrolled into view. Selecting a line (click,
 * arrow keys) opens that message. The bar reads the messages from the
 * store when the conversation is set, and again when its counts change (a
 * reply arrived, a message was read), so it never shows a message that is
 * gone; the line that had the keyboard focus keeps it. */

struct _LbConversationBar
{
  GtkWidget     parent_instance;

  LbMessage    *conversation;
  guint         counts[2];      /* the conversation's when read: messages, unread */
  GListStore   *messages;       /* LbMessage, oldest first */
  GCancellable *cancellable;
  gint64        shown_key;
  gboolean      selecting;      /* the bar selects the shown line itself */
  guint         scroll_id;      /* tick: the shown line into view once laid out */

  /* template children */
  GtkLabel     *heading;
  GtkScrolledWindow *scroller;
  GtkListBox   *list_box;
};


G_DEFINE_FINAL_TYPE (LbConversationBar, lb_conversation_bar, GTK_TYPE_WIDGET)

enum {
  SIGNAL_LOADED,
  SIGNAL_MESSAGE_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GtkWidget *
create_row (gpointer item,
            gpointer user_data)
{
  LbMessage *message = item;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(LbMessageRowState) state = lb_message_row_state_new (message, now);
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *dot = gtk_image_new_from_icon_name ("media-record-symbolic");
  GtkWidget *sender = gtk_label_new (state->sender);
  GtkWidget *snippet = gtk_label_new (state->snippet);
  GtkWidget *date = gtk_label_new (state->date);

  gtk_widget_add_css_class (row, "lb-conversation-message");
  if (state->unread)
    gtk_widget_add_css_class (row, "unread");
  gtk_widget_add_css_class (dot, "lb-unread-dot");
  gtk_widget_set_opacity (dot, state->unread ? 1 : 0);
  gtk_image_set_pixel_size (GTK_IMAGE (dot), 8);
  gtk_widget_add_css_class (sender, "lb-sender");
  gtk_label_set_ellipsize (GTK_LABEL (sender), PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars (GTK_LABEL (sender), 24);
  gtk_label_set_xalign (GTK_LABEL (sender), 0);
  gtk_widget_add_css_class (snippet, "dim-label");
  gtk_label_set_ellipsize (GTK_LABEL (snippet), PANGO_ELLIPSIZE_END);
  gtk_label_set_single_line_mode (GTK_LABEL (snippet), TRUE);
  gtk_label_set_xalign (GTK_LABEL (snippet), 0);
  gtk_widget_set_hexpand (snippet, TRUE);
  gtk_widget_add_css_class (date, "dim-label");
  gtk_widget_add_css_class (date, "caption");
  gtk_widget_add_css_class (date, "numeric");

  gtk_box_append (GTK_BOX (box), dot);
  gtk_box_append (GTK_BOX (box), sender);
  gtk_box_append (GTK_BOX (box), snippet);
  gtk_box_append (GTK_BOX (box), date);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  {
    /* the subject is the conversation's: the sender, the date and the
     * first words tell its messages apart */
    g_autofree char *label = NULL;

    if (state->unread)
      /* Translators: a message of a conversation, for a screen reader:
       * sender, date, the start of its text */
      label = g_strdup_printf (_("Unread, from %s, %s: %s"), state->sender, state->date, state->snippet);
    else
      /* Translators: a message of a conversation, for a screen reader:
       * sender, date, the start of its text */
      label = g_strdup_printf (_("From %s, %s: %s"), state->sender, state->date, state->snippet);
    gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  }
  return row;
}

static int
index_of_key (LbConversationBar *self,
              gint64             key)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbMessage) message = g_list_model_get_item (G_LIST_MODEL (self->messages), i);

      if (lb_message_get_key (message) == key)
        return (int) i;
    }
  return -1;
}

/* Once the shown line is laid out, the list scrolls to show it whole. */
static gboolean
scroll_to_shown (GtkWidget     *widget,
                 GdkFrameClock *clock,
                 gpointer       user_data)
{
  LbConversationBar *self = LB_CONVERSATION_BAR (widget);
  GtkListBoxRow *row = gtk_list_box_get_selected_row (self->list_box);
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->scroller);
  graphene_rect_t bounds;
  double value, page;

  if (row == NULL || !gtk_widget_compute_bounds (GTK_WIDGET (row), GTK_WIDGET (self->list_box), &bounds))
    {
      self->scroll_id = 0;
      return G_SOURCE_REMOVE;
    }
  if (gtk_widget_get_height (GTK_WIDGET (row)) == 0)
    return G_SOURCE_CONTINUE;   /* not laid out yet */

  value = gtk_adjustment_get_value (adjustment);
  page = gtk_adjustment_get_page_size (adjustment);
  if (bounds.origin.y < value)
    gtk_adjustment_set_value (adjustment, bounds.origin.y);
  else if (bounds.origin.y + bounds.size.height > value + page)
    gtk_adjustment_set_value (adjustment, bounds.origin.y + bounds.size.height - page);
  self->scroll_id = 0;
  return G_SOURCE_REMOVE;
}

static void
select_shown (LbConversationBar *self)
{
  int index = index_of_key (self, self->shown_key);

  self->selecting = TRUE;
  if (index >= 0)
    gtk_list_box_select_row (self->list_box, gtk_list_box_get_row_at_index (self->list_box, index));
  else
    gtk_list_box_unselect_all (self->list_box);
  self->selecting = FALSE;
  if (index >= 0 && self->scroll_id == 0)
    self->scroll_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), scroll_to_shown, NULL, NULL);
}

/* a read of the conversation's messages: both references taken */
typedef struct
{
  LbConversationBar *bar;
  GCancellable      *cancellable;
} Reading;

static void
messages_listed (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Reading *reading = user_data;
  g_autoptr(LbConversationBar) self = reading->bar;
  g_autoptr(GCancellable) cancellable = reading->cancellable;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) summaries = lb_store_list_conversation_messages_finish (LB_STORE (object), result, &error);
  g_autoptr(GPtrArray) messages = NULL;
  g_autofree char *heading = NULL;
  GtkWidget *focus;
  gint64 focus_key = 0;

  g_free (reading);
  /* a read another conversation (or a newer read) replaced: the store
   * finishes what it started, cancelled or not */
  if (g_cancellable_is_cancelled (cancellable))
    return;
  g_clear_object (&self->cancellable);

  messages = g_ptr_array_new_with_free_func (g_object_unref);
  if (summaries == NULL)
    g_warning ("Could not read the messages of a conversation: %s", error->message);
  for (guint i = 0; summaries != NULL && i < summaries->len; i++)
    {
      LbMessage *message = lb_message_new_for_summary (summaries->pdata[i]);

      lb_message_set_store (message, LB_STORE (object));
      g_ptr_array_add (messages, message);
    }

  /* the line with the keyboard focus keeps it */
  focus = gtk_widget_get_root (GTK_WIDGET (self)) != NULL
          ? gtk_root_get_focus (gtk_widget_get_root (GTK_WIDGET (self))) : NULL;
  if (focus != NULL && gtk_widget_is_ancestor (focus, GTK_WIDGET (self->list_box)))
    {
      GtkWidget *row = GTK_IS_LIST_BOX_ROW (focus) ? focus : gtk_widget_get_ancestor (focus, GTK_TYPE_LIST_BOX_ROW);

      if (row != NULL && gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (row)) >= 0)
        {
          g_autoptr(LbMessage) focused = g_list_model_get_item (G_LIST_MODEL (self->messages),
                                                                (guint) gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (row)));

          focus_key = focused != NULL ? lb_message_get_key (focused) : 0;
        }
    }

  self->selecting = TRUE;
  g_list_store_splice (self->messages, 0, g_list_model_get_n_items (G_LIST_MODEL (self->messages)),
                       messages->pdata, messages->len);
  self->selecting = FALSE;

  heading = g_strdup_printf (ngettext ("%u message in this conversation",
                                       "%u messages in this conversation", messages->len),
                             messages->len);
  gtk_label_set_text (self->heading, heading);
  select_shown (self);
  if (focus_key != 0 && index_of_key (self, focus_key) >= 0)
    gtk_widget_grab_focus (GTK_WIDGET (gtk_list_box_get_row_at_index (self->list_box,
                                                                       index_of_key (self, focus_key))));
  /* none: the window shows the conversation's row itself */
  g_signal_emit (self, signals[SIGNAL_LOADED], 0);
}

void
lb_conversation_bar_set_conversation (LbConversationBar *self,
                                      LbMessage         *conversation)
{
  Reading *reading;
  guint counts[2] = { 0, 0 };

  g_return_if_fail (LB_IS_CONVERSATION_BAR (self));
  g_return_if_fail (conversation == NULL || LB_IS_MESSAGE (conversation));

  if (conversation != NULL)
    {
      counts[0] = lb_message_get_n_messages (conversation);
      counts[1] = lb_message_get_n_unread (conversation);
    }
  /* the same row, the same counts: what is listed is still true */
  if (conversation != NULL && conversation == self->conversation &&
      counts[0] == self->counts[0] && counts[1] == self->counts[1])
    return;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->counts[0] = counts[0];
  self->counts[1] = counts[1];
  if (conversation != self->conversation)
    {
      g_set_object (&self->conversation, conversation);
      self->shown_key = 0;
      /* another conversation's lines stay until this one's replace them:
       * the message view below does not jump, the keyboard focus stays */
    }
  if (conversation == NULL)
    {
      self->selecting = TRUE;
      g_list_store_remove_all (self->messages);
      self->selecting = FALSE;
      return;
    }

  self->cancellable = g_cancellable_new ();
  reading = g_new0 (Reading, 1);
  reading->bar = g_object_ref (self);
  reading->cancellable = g_object_ref (self->cancellable);
  lb_store_list_conversation_messages_async (lb_message_get_store (conversation),
                                             lb_message_get_folder_id (conversation),
                                             lb_message_get_thread_id (conversation),
                                             self->cancellable, messages_listed, reading);
}

LbMessage *
lb_conversation_bar_get_conversation (LbConversationBar *self)
{
  g_return_val_if_fail (LB_IS_CONVERSATION_BAR (self), NULL);

  return self->conversation;
}

GListModel *
lb_conversation_bar_get_messages (LbConversationBar *self)
{
  g_return_val_if_fail (LB_IS_CONVERSATION_BAR (self), NULL);

  return G_LIST_MODEL (self->messages);
}

LbMessage *
lb_conversation_bar_get_first_to_read (LbConversationBar *self)
{
  guint n;
  LbMessage *message;

  g_return_val_if_fail (LB_IS_CONVERSATION_BAR (self), NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));
  for (guint i = 0; i < n; i++)
    {
      message = g_list_model_get_item (G_LIST_MODEL (self->messages), i);
      g_object_unref (message);   /* the store holds it */
      if (lb_message_get_unread (message))
        return message;
    }
  if (n == 0)
    return NULL;
  message = g_list_model_get_item (G_LIST_MODEL (self->messages), n - 1);
  g_object_unref (message);
  return message;
}

LbMessage *
lb_conversation_bar_lookup (LbConversationBar *self,
                            gint64             key)
{
  guint n;

  g_return_val_if_fail (LB_IS_CONVERSATION_BAR (self), NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->messages));
  for (guint i = 0; i < n; i++)
    {
      LbMessage *message = g_list_model_get_item (G_LIST_MODEL (self->messages), i);

      g_object_unref (message);   /* the store holds it */
      if (lb_message_get_key (message) == key)
        return message;
    }
  return NULL;
}

void
lb_conversation_bar_set_shown (LbConversationBar *self,
                               gint64             key)
{
  g_return_if_fail (LB_IS_CONVERSATION_BAR (self));

  self->shown_key = key;
  select_shown (self);
}

/* A line selected by the user (click, arrow keys) opens its message. */
static void
row_selected_cb (GtkListBox        *list_box,
                 GtkListBoxRow     *row,
                 LbConversationBar *self)
{
  g_autoptr(LbMessage) message = NULL;

  if (self->selecting || row == NULL)
    return;
  message = g_list_model_get_item (G_LIST_MODEL (self->messages), (guint) gtk_list_box_row_get_index (row));
  if (message != NULL)
    g_signal_emit (self, signals[SIGNAL_MESSAGE_ACTIVATED], 0, message);
}

static void
row_activated_cb (GtkListBox        *list_box,
                  GtkListBoxRow     *row,
                  LbConversationBar *self)
{
  g_autoptr(LbMessage) message = g_list_model_get_item (G_LIST_MODEL (self->messages),
                                                        (guint) gtk_list_box_row_get_index (row));

  if (message != NULL)
    g_signal_emit (self, signals[SIGNAL_MESSAGE_ACTIVATED], 0, message);
}

static void
lb_conversation_bar_dispose (GObject *object)
{
  LbConversationBar *self = LB_CONVERSATION_BAR (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->scroll_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->scroll_id);
      self->scroll_id = 0;
    }
  {
    GtkWidget *child;

    while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
      gtk_widget_unparent (child);
  }
  self->heading = NULL;
  self->scroller = NULL;
  self->list_box = NULL;
  g_clear_object (&self->conversation);

  G_OBJECT_CLASS (lb_conversation_bar_parent_class)->dispose (object);
}

static void
lb_conversation_bar_finalize (GObject *object)
{
  LbConversationBar *self = LB_CONVERSATION_BAR (object);

  g_clear_object (&self->messages);

  G_OBJECT_CLASS (lb_conversation_bar_parent_class)->finalize (object);
}

static void
lb_conversation_bar_class_init (LbConversationBarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lb_conversation_bar_dispose;
  object_class->finalize = lb_conversation_bar_finalize;

  signals[SIGNAL_LOADED] =
    g_signal_new ("loaded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
  signals[SIGNAL_MESSAGE_ACTIVATED] =
    g_signal_new ("message-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, LB_TYPE_MESSAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/letterbox/Letterbox/lb-conversation-bar.ui");
  gtk_widget_class_bind_template_child (widget_class, LbConversationBar, heading);
  gtk_widget_class_bind_template_child (widget_class, LbConversationBar, scroller);
  gtk_widget_class_bind_template_child (widget_class, LbConversationBar, list_box);
  gtk_widget_class_bind_template_callback (widget_class, row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, row_activated_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "lb-conversation-bar");
}

static void
lb_conversation_bar_init (LbConversationBar *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (GTK_WIDGET (self))),
                                  GTK_ORIENTATION_VERTICAL);

  self->messages = g_list_store_new (LB_TYPE_MESSAGE);
  gtk_list_box_bind_model (self->list_box, G_LIST_MODEL (self->messages), create_row, NULL, NULL);
}

GtkWidget *
lb_conversation_bar_new (void)
{
  return g_object_new (LB_TYPE_CONVERSATION_BAR, NULL);
}
