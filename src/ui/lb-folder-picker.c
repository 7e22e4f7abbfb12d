/* lb-folder-picker.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "lb-folder-picker.h"
#include "lb-sidebar-row.h"

/* A small modal window: a search entry over the account's folders. Typing
 * filters (on the folder's name and path, ignoring case); the first match
 * is selected, the arrows move among the matches without leaving the
 * entry, Enter or a click picks, Escape or Cancel gives up. */

struct _LbFolderPicker
{
  AdwWindow       parent_instance;

  GTask          *task;
  gulong          cancelled_id;

  /* template children */
  GtkSearchEntry *search_entry;
  GtkListBox     *list_box;
};

G_DEFINE_FINAL_TYPE (LbFolderPicker, lb_folder_picker, ADW_TYPE_WINDOW)

#define FOLDER_KEY   "lb-folder"
#define HAYSTACK_KEY "lb-haystack"

static char *
normalize (const char *text)
{
  g_autofree char *normalized = g_utf8_normalize (text != NULL ? text : "", -1, G_NORMALIZE_ALL);

  return g_utf8_casefold (normalized != NULL ? normalized : "", -1);
}

/* Gives the result (once) and closes the window. */
static void
lb_folder_picker_finish (LbFolderPicker *self,
                         LbFolder       *folder)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);

  if (task == NULL)
    return;

  g_cancellable_disconnect (g_task_get_cancellable (task), self->cancelled_id);
  self->cancelled_id = 0;

  if (folder == NULL && g_task_return_error_if_cancelled (task))
    ;
  else
    g_task_return_pointer (task, folder != NULL ? g_object_ref (folder) : NULL, g_object_unref);

  gtk_window_destroy (GTK_WINDOW (self));
}

static GtkListBoxRow *
first_visible_row (LbFolderPicker *self)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->list_box));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_LIST_BOX_ROW (child) && gtk_widget_get_child_visible (child))
        return GTK_LIST_BOX_ROW (child);
    }

  return NULL;
}

/* the next (@forward) or previous visible row from @row */
static GtkListBoxRow *
step_visible_row (GtkListBoxRow *row,
                  gboolean       forward)
{
  GtkWidget *child = GTK_WIDGET (row);

  do
    child = forward ? gtk_widget_get_next_sibling (child) : gtk_widget_get_prev_sibling (child);
  while (child != NULL && !(GTK_IS_LIST_BOX_ROW (child) && gtk_widget_get_child_visible (child)));

  return child != NULL ? GTK_LIST_BOX_ROW (child) : NULL;
}

static gboolean
filter_func (GtkListBoxRow *row,
             gpointer       user_data)
{
  LbFolderPicker *self = user_data;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  g_autofree char *needle = NULL;
  const char *haystack;

  if (text == NULL || *text == '\0')
    return TRUE;

  needle = normalize (text);
  haystack = g_object_get_data (G_OBJECT (row), HAYSTACK_KEY);
  return haystack != NULL && strstr (haystack, needle) != NULL;
}

static LbFolder *row_folder (GtkListBoxRow *row);

/* as the sidebar: the roles in its order, then the others by path */
static int
sort_func (GtkListBoxRow *a,
           GtkListBoxRow *b,
           gpointer       user_data)
{
  LbFolder *fa = row_folder (a);
  LbFolder *fb = row_folder (b);
  guint ra = lb_sidebar_folder_role_rank (lb_folder_get_role (fa));
  guint rb = lb_sidebar_folder_role_rank (lb_folder_get_role (fb));

  if (ra != rb)
    return ra < rb ? -1 : 1;
  return g_utf8_collate (lb_folder_get_path (fa), lb_folder_get_path (fb));
}

static void
search_changed_cb (LbFolderPicker *self)
{
  GtkListBoxRow *first;

  gtk_list_box_invalidate_filter (self->list_box);
  first = first_visible_row (self);
  gtk_list_box_select_row (self->list_box, first);
}

static LbFolder *
row_folder (GtkListBoxRow *row)
{
  return row != NULL ? g_object_get_data (G_OBJECT (row), FOLDER_KEY) : NULL;
}

static void
search_activate_cb (LbFolderPicker *self)
{
  GtkListBoxRow *row = gtk_list_box_get_selected_row (self->list_box);

  if (row == NULL || !gtk_widget_get_child_visible (GTK_WIDGET (row)))
    row = first_visible_row (self);
  if (row != NULL)
    lb_folder_picker_finish (self, row_folder (row));
}

static void
row_activated_cb (LbFolderPicker *self,
                  GtkListBoxRow  *row)
{
  lb_folder_picker_finish (self, row_folder (row));
}

static void
stop_search_cb (LbFolderPicker *self)
{
  lb_folder_picker_finish (self, NULL);
}

/* Up and Down in the entry move the selection among the matches. */
static gboolean
entry_key_pressed_cb (GtkEventControllerKey *controller,
                      guint                  keyval,
                      guint                  keycode,
                      GdkModifierType        state,
                      LbFolderPicker        *self)
{
  GtkListBoxRow *row;
  GtkListBoxRow *next;
  gboolean forward;

  if (keyval == GDK_KEY_Down || keyval == GDK_KEY_KP_Down)
    forward = TRUE;
  else if (keyval == GDK_KEY_Up || keyval == GDK_KEY_KP_Up)
    forward = FALSE;
  else
    return GDK_EVENT_PROPAGATE;

  row = gtk_list_box_get_selected_row (self->list_box);
  if (row == NULL || !gtk_widget_get_child_visible (GTK_WIDGET (row)))
    next = first_visible_row (self);
  else
    next = step_visible_row (row, forward);

  if (next != NULL)
    {
      gtk_list_box_select_row (self->list_box, next);
      /* keep it in view */
      gtk_widget_grab_focus (GTK_WIDGET (next));
      gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
    }

  return GDK_EVENT_STOP;
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  lb_folder_picker_finish (LB_FOLDER_PICKER (widget), NULL);
}

static gboolean
lb_folder_picker_close_request (GtkWindow *window)
{
  LbFolderPicker *self = LB_FOLDER_PICKER (window);

  if (self->task != NULL)
    {
      lb_folder_picker_finish (self, NULL);
      return TRUE;  /* finish destroyed it */
    }

  return GTK_WINDOW_CLASS (lb_folder_picker_parent_class)->close_request (window);
}

static gboolean
close_idle_cb (gpointer user_data)
{
  gtk_window_close (GTK_WINDOW (user_data));

  return G_SOURCE_REMOVE;
}

static void
cancelled_cb (GCancellable   *cancellable,
              LbFolderPicker *self)
{
  /* from any thread: close on the main context */
  g_idle_add_full (G_PRIORITY_DEFAULT, close_idle_cb, g_object_ref (self), g_object_unref);
}

static void
lb_folder_picker_dispose (GObject *object)
{
  LbFolderPicker *self = LB_FOLDER_PICKER (object);

  /* destroyed from elsewhere (its parent went): that is a cancel */
  if (self->task != NULL)
    {
      g_autoptr(GTask) task = g_steal_pointer (&self->task);

      g_cancellable_disconnect (g_task_get_cancellable (task), self->cancelled_id);
      self->cancelled_id = 0;
      if (!g_task_return_error_if_cancelled (task))
        g_task_return_pointer (task, NULL, NULL);
    }

  gtk_widget_dispose_template (GTK_WIDGET (self), LB_TYPE_FOLDER_PICKER);

  G_OBJECT_CLASS (lb_folder_picker_parent_class)->dispose (object);
}

static void
lb_folder_picker_class_init (LbFolderPickerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = lb_folder_picker_dispose;
  window_class->close_request = lb_folder_picker_close_request;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/letterbox/Letterbox/lb-folder-picker.ui");
  gtk_widget_class_bind_template_child (widget_class, LbFolderPicker, search_entry);
  gtk_widget_class_bind_template_child (widget_class, LbFolderPicker, list_box);

  gtk_widget_class_install_action (widget_class, "picker.cancel", NULL, cancel_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "picker.cancel", NULL);
}

static void
lb_folder_picker_init (LbFolderPicker *self)
{
  GtkEventController *keys;
  GtkWidget *placeholder;

  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_list_box_set_filter_func (self->list_box, filter_func, self, NULL);
  gtk_list_box_set_sort_func (self->list_box, sort_func, NULL, NULL);
  placeholder = gtk_label_new (_("No Matching Folders"));
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 24);
  gtk_list_box_set_placeholder (self->list_box, placeholder);

  g_signal_connect_swapped (self->search_entry, "changed", G_CALLBACK (search_changed_cb), self);
  g_signal_connect_swapped (self->search_entry, "activate", G_CALLBACK (search_activate_cb), self);
  g_signal_connect_swapped (self->search_entry, "stop-search", G_CALLBACK (stop_search_cb), self);
  g_signal_connect_swapped (self->list_box, "row-activated", G_CALLBACK (row_activated_cb), self);

  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (entry_key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->search_entry), keys);
}

static GtkWidget *
make_row (LbFolder *folder)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *name = gtk_label_new (lb_folder_get_display_name (folder));
  GtkWidget *icon = gtk_image_new_from_icon_name (lb_sidebar_folder_role_icon_name (lb_folder_get_role (folder)));
  const char *path = lb_folder_get_path (folder);
  g_autofree char *haystack = NULL;
  g_autofree char *joined = NULL;

  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (labels), name);

  /* a nested folder says where it is */
  if (path != NULL && g_strcmp0 (path, lb_folder_get_name (folder)) != 0 &&
      lb_folder_get_role (folder) == LB_FOLDER_ROLE_NONE)
    {
      GtkWidget *where = gtk_label_new (path);

      gtk_label_set_xalign (GTK_LABEL (where), 0);
      gtk_label_set_ellipsize (GTK_LABEL (where), PANGO_ELLIPSIZE_START);
      gtk_widget_add_css_class (where, "dim-label");
      gtk_widget_add_css_class (where, "caption");
      gtk_box_append (GTK_BOX (labels), where);
    }

  gtk_box_append (GTK_BOX (box), icon);
  gtk_widget_set_hexpand (labels, TRUE);
  gtk_box_append (GTK_BOX (box), labels);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);

  joined = g_strconcat (lb_folder_get_display_name (folder), "\n", path != NULL ? path : "", NULL);
  haystack = normalize (joined);
  g_object_set_data_full (G_OBJECT (row), HAYSTACK_KEY, g_steal_pointer (&haystack), g_free);
  g_object_set_data_full (G_OBJECT (row), FOLDER_KEY, g_object_ref (folder), g_object_unref);

  return row;
}

/**
 * lb_folder_picker_run_async:
 * @parent: the window the picker is modal to
 * @account: whose folders to offer
 * @exclude_folder_id: a folder not to offer (the one the messages are
 *   in), or 0
 * @cancellable: (nullable): closes the picker when cancelled
 * @callback: called with the choice
 * @user_data: for @callback
 *
 * Shows the picker. It offers the account's folders but @exclude_folder_id
 * and the Outbox (mail moved there would be sent), in the account's order.
 */
void
lb_folder_picker_run_async (GtkWindow           *parent,
                            LbAccount           *account,
                            gint64               exclude_folder_id,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  LbFolderPicker *self;
  GListModel *folders;
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (parent == NULL || GTK_IS_WINDOW (parent));
  g_return_if_fail (LB_IS_ACCOUNT (account));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  self = g_object_new (LB_TYPE_FOLDER_PICKER,
                       "transient-for", parent,
                       NULL);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_folder_picker_run_async);

  folders = lb_account_get_folders (account);
  for (guint i = 0; i < g_list_model_get_n_items (folders); i++)
    {
      g_autoptr(LbFolder) folder = g_list_model_get_item (folders, i);

      if (lb_folder_get_id (folder) == exclude_folder_id ||
          lb_folder_get_role (folder) == LB_FOLDER_ROLE_OUTBOX)
        continue;
      gtk_list_box_append (self->list_box, make_row (folder));
    }
  gtk_list_box_select_row (self->list_box, first_visible_row (self));

  if (g_task_return_error_if_cancelled (task))
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }

  if (cancellable != NULL)
    self->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_cb), self, NULL);
  self->task = g_steal_pointer (&task);

  gtk_window_present (GTK_WINDOW (self));
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

/**
 * lb_folder_picker_run_finish:
 * @result: the result given to the callback
 * @error: the error, if any (cancelled through the cancellable)
 *
 * Returns: (transfer full) (nullable): the folder chosen, or %NULL without
 *   an error when the user cancelled
 */
LbFolder *
lb_folder_picker_run_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_folder_picker_run_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
