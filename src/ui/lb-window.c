/* lb-window.c: the main window: folders, messages, the message read
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Three panes in an AdwLeaflet, which folds into one pane at a time on a
 * narrow window: the sidebar (LbSidebar), the message list (a GtkListView
 * over the lazy LbMessageList, or over search results) and the message
 * (LbMessageView). The actions on the selected messages are the window's
 * ("win.mark-read" and so on); which are enabled comes from
 * lb_selection_actions_compute(). Changes go to the account's provider,
 * which applies them to the store at once and to the server when it can
 * (offline they are queued on disk), so the list follows by itself.
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <glib/gi18n.h>

#include "lb-account-assistant.h"
#include "lb-certificate-dialog.h"
#include "lb-folder-picker.h"
#include "lb-imap-provider.h"
#include "lb-message-list.h"
#include "lb-message-row.h"
#include "lb-message-view.h"
#include "lb-selection-state.h"
#include "lb-sidebar.h"
#include "lb-window.h"

#define SEARCH_LIMIT   500
#define UNDO_SECONDS   5

struct _LbWindow
{
  AdwApplicationWindow  parent_instance;

  GSettings            *settings;
  LbAccountManager     *manager;
  LbSyncScheduler      *scheduler;
  LbDiscovery          *discovery;
  LbSecrets            *secrets;

  GtkWidget            *sidebar;
  GtkWidget            *message_view;

  /* what the list shows */
  LbAccount            *account;        /* NULL in All Inboxes and in search of all */
  LbFolder             *folder;
  GListModel           *messages;       /* LbMessageList or GListStore of search results */
  GtkMultiSelection    *selection;
  GCancellable         *list_cancellable;
  GCancellable         *search_cancellable;
  guint                 search_serial;

  /* the message shown */
  LbMessage            *shown;
  GCancellable         *body_cancellable;
  guint                 mark_read_id;

  GHashTable           *reported_errors; /* LbAccount -> message text toasted */
  char                 *unified_inboxes;  /* which inboxes All Inboxes was made of */
  gboolean              restoring;        /* the last folder is still to be shown */

  gulong                manager_changed_id;
  gulong                scheduler_changed_id;
  gulong                offline_id;

  /* template children */
  AdwToastOverlay      *toast_overlay;
  GtkStack             *main_stack;
  AdwStatusPage        *empty_page;
  AdwLeaflet           *leaflet;
  GtkWidget            *sidebar_pane;
  GtkScrolledWindow    *sidebar_scroller;
  GtkWidget            *list_pane;
  AdwWindowTitle       *list_title;
  GtkStack             *sync_stack;
  GtkSpinner           *sync_spinner;
  GtkSearchBar         *search_bar;
  GtkSearchEntry       *search_entry;
  GtkToggleButton      *search_all_button;
  GtkRevealer          *offline_revealer;
  GtkStack             *list_stack;
  AdwStatusPage        *list_empty_page;
  GtkListView          *message_list_view;
  GtkWidget            *view_pane;
  GtkStack             *view_stack;
  AdwStatusPage        *view_status_page;
  GtkButton            *flag_button;
  GtkButton            *read_button;
};

G_DEFINE_FINAL_TYPE (LbWindow, lb_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_SETTINGS,
  PROP_MANAGER,
  PROP_SCHEDULER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void update_actions      (LbWindow *self);
static void show_selected       (LbWindow *self);
static void reload_list         (LbWindow *self);

/* ------------------------------------------------------------------ helpers */

static LbAccount *
account_for_store (LbWindow *self,
                   LbStore  *store)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->manager));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbAccount) account = g_list_model_get_item (G_LIST_MODEL (self->manager), i);

      if (store != NULL && lb_account_get_store (account) == store)
        return account;
    }
  return NULL;
}

static LbAccount *
account_for_message (LbWindow  *self,
                     LbMessage *message)
{
  return account_for_store (self, lb_message_get_store (message));
}

static LbFolder *
folder_with_role (LbAccount    *account,
                  LbFolderRole  role)
{
  GListModel *folders = lb_account_get_folders (account);
  guint n = folders != NULL ? g_list_model_get_n_items (folders) : 0;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbFolder) folder = g_list_model_get_item (folders, i);

      if (lb_folder_get_role (folder) == role)
        return folder;
    }
  return NULL;
}

static void
toast (LbWindow   *self,
       const char *text)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

/* The selected messages that are loaded, in list order. */
static GPtrArray *
selected_messages (LbWindow *self)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GtkBitset) bitset = NULL;
  GtkBitsetIter iter;
  guint position;

  if (self->selection == NULL)
    return g_steal_pointer (&messages);

  bitset = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  for (gboolean ok = gtk_bitset_iter_init_first (&iter, bitset, &position);
       ok;
       ok = gtk_bitset_iter_next (&iter, &position))
    {
      g_autoptr(LbMessage) message = g_list_model_get_item (G_LIST_MODEL (self->selection), position);

      if (message != NULL && lb_message_get_loaded (message))
        g_ptr_array_add (messages, g_steal_pointer (&message));
    }
  return g_steal_pointer (&messages);
}

/* One account's share of a selection. */
typedef struct
{
  LbAccount *account;
  GArray    *keys;        /* gint64 */
  GArray    *folders;     /* gint64: each key's folder */
} Batch;

static void
batch_free (gpointer data)
{
  Batch *batch = data;

  /* a batch taken out of its array leaves NULL behind */
  if (batch == NULL)
    return;
  g_clear_object (&batch->account);
  g_clear_pointer (&batch->keys, g_array_unref);
  g_clear_pointer (&batch->folders, g_array_unref);
  g_free (batch);
}

/* The selection, per account (messages whose account is gone are left
 * out). */
static GPtrArray *
selection_batches (LbWindow  *self,
                   GPtrArray *messages)
{
  GPtrArray *batches = g_ptr_array_new_with_free_func (batch_free);

  for (guint i = 0; i < messages->len; i++)
    {
      LbMessage *message = messages->pdata[i];
      LbAccount *account = account_for_message (self, message);
      Batch *batch = NULL;
      gint64 key = lb_message_get_key (message);
      gint64 folder_id = lb_message_get_folder_id (message);

      if (account == NULL || lb_account_get_provider (account) == NULL)
        continue;
      for (guint j = 0; j < batches->len && batch == NULL; j++)
        if (((Batch *) batches->pdata[j])->account == account)
          batch = batches->pdata[j];
      if (batch == NULL)
        {
          batch = g_new0 (Batch, 1);
          batch->account = g_object_ref (account);
          batch->keys = g_array_new (FALSE, FALSE, sizeof (gint64));
          batch->folders = g_array_new (FALSE, FALSE, sizeof (gint64));
          g_ptr_array_add (batches, batch);
        }
      g_array_append_val (batch->keys, key);
      g_array_append_val (batch->folders, folder_id);
    }
  return batches;
}

/* ------------------------------------------------------------------ changes */

typedef gboolean (*FinishFunc) (gpointer      source,
                               GAsyncResult *result,
                               GError      **error);

typedef struct
{
  LbWindow   *window;      /* weak */
  FinishFunc  finish;
  char       *failure;     /* what to say when it fails */
} ChangeData;

static void
change_data_free (ChangeData *data)
{
  g_clear_weak_pointer (&data->window);
  g_free (data->failure);
  g_free (data);
}

static ChangeData *
change_data_new (LbWindow   *self,
                 gpointer    finish,
                 const char *failure)
{
  ChangeData *data = g_new0 (ChangeData, 1);

  g_set_weak_pointer (&data->window, self);
  data->finish = (FinishFunc) finish;
  data->failure = g_strdup (failure);
  return data;
}

/* A change the provider could not make at all. One that only waits for
 * a connection is not an error: it is kept on disk and sent later. */
static void
change_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  ChangeData *data = user_data;
  g_autoptr(GError) error = NULL;

  if (!data->finish (object, result, &error) && data->window != NULL &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *text = g_strdup_printf ("%s %s", data->failure, error->message);

      toast (data->window, text);
    }
  change_data_free (data);
}

static void
set_flags (LbWindow *self,
           guint     add,
           guint     remove,
           const char *failure)
{
  g_autoptr(GPtrArray) messages = selected_messages (self);
  g_autoptr(GPtrArray) batches = selection_batches (self, messages);

  for (guint i = 0; i < batches->len; i++)
    {
      Batch *batch = batches->pdata[i];

      lb_provider_set_flags_async (lb_account_get_provider (batch->account), batch->keys, add, remove,
                                   NULL, change_done, change_data_new (self, lb_provider_set_flags_finish, failure));
    }
}

static void
mark_read_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  set_flags (LB_WINDOW (widget), LB_MESSAGE_SEEN, 0, _("Could not mark the messages read:"));
}

static void
mark_unread_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);

  /* reading it again must not mark it read at once */
  g_clear_handle_id (&self->mark_read_id, g_source_remove);
  set_flags (self, 0, LB_MESSAGE_SEEN, _("Could not mark the messages unread:"));
}

static void
flag_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  set_flags (LB_WINDOW (widget), LB_MESSAGE_FLAGGED, 0, _("Could not flag the messages:"));
}

static void
unflag_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  set_flags (LB_WINDOW (widget), 0, LB_MESSAGE_FLAGGED, _("Could not unflag the messages:"));
}

static void
toggle_flag_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);
  g_autoptr(GPtrArray) messages = selected_messages (self);
  gboolean all_flagged = messages->len > 0;

  for (guint i = 0; i < messages->len; i++)
    all_flagged &= lb_message_get_flagged (messages->pdata[i]);
  if (all_flagged)
    unflag_action (widget, action_name, parameter);
  else
    flag_action (widget, action_name, parameter);
}

static void
toggle_read_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);
  g_autoptr(GPtrArray) messages = selected_messages (self);
  gboolean any_unread = FALSE;

  for (guint i = 0; i < messages->len; i++)
    any_unread |= lb_message_get_unread (messages->pdata[i]);
  if (any_unread)
    mark_read_action (widget, action_name, parameter);
  else
    mark_unread_action (widget, action_name, parameter);
}

/* --- moves, with an undo */

typedef struct
{
  LbWindow  *window;     /* weak */
  GPtrArray *batches;    /* Batch: where each message was */
} Undo;

static void
undo_free (Undo *undo)
{
  g_clear_weak_pointer (&undo->window);
  g_clear_pointer (&undo->batches, g_ptr_array_unref);
  g_free (undo);
}

static void
undo_clicked (AdwToast *toast_,
              gpointer  user_data)
{
  Undo *undo = user_data;

  for (guint i = 0; i < undo->batches->len; i++)
    {
      Batch *batch = undo->batches->pdata[i];
      LbProvider *provider = lb_account_get_provider (batch->account);

      if (provider == NULL)
        continue;
      /* back to each message's own folder */
      for (guint j = 0; j < batch->keys->len; )
        {
          gint64 folder_id = g_array_index (batch->folders, gint64, j);
          g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
          guint k;

          for (k = j; k < batch->keys->len && g_array_index (batch->folders, gint64, k) == folder_id; k++)
            g_array_append_val (keys, g_array_index (batch->keys, gint64, k));
          lb_provider_move_async (provider, keys, folder_id, NULL, change_done,
                                  change_data_new (undo->window, lb_provider_move_finish, _("Could not undo:")));
          j = k;
        }
    }
}

static void
offer_undo (LbWindow   *self,
            const char *title,
            GPtrArray  *batches)
{
  AdwToast *undo_toast = adw_toast_new (title);
  Undo *undo = g_new0 (Undo, 1);

  g_set_weak_pointer (&undo->window, self);
  undo->batches = g_ptr_array_ref (batches);
  adw_toast_set_button_label (undo_toast, _("_Undo"));
  adw_toast_set_timeout (undo_toast, UNDO_SECONDS);
  adw_toast_set_priority (undo_toast, ADW_TOAST_PRIORITY_HIGH);
  g_signal_connect_data (undo_toast, "button-clicked", G_CALLBACK (undo_clicked), undo,
                         (GClosureNotify) (void (*) (void)) undo_free, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, undo_toast);
}

/* Moves the selection to the folder with @role of each account (or to
 * @target in one account). Returns the batches moved, for an undo. */
static GPtrArray *
move_selection (LbWindow     *self,
                LbFolderRole  role,
                LbFolder     *target,
                const char   *failure)
{
  g_autoptr(GPtrArray) messages = selected_messages (self);
  g_autoptr(GPtrArray) batches = selection_batches (self, messages);
  g_autoptr(GPtrArray) moved = g_ptr_array_new_with_free_func (batch_free);

  for (guint i = 0; i < batches->len; i++)
    {
      Batch *batch = batches->pdata[i];
      LbFolder *folder = target != NULL ? target : folder_with_role (batch->account, role);

      if (folder == NULL)
        continue;
      lb_provider_move_async (lb_account_get_provider (batch->account), batch->keys,
                              lb_folder_get_id (folder), NULL, change_done,
                              change_data_new (self, lb_provider_move_finish, failure));
      g_ptr_array_add (moved, g_steal_pointer (&batches->pdata[i]));
    }
  return g_steal_pointer (&moved);
}

static guint
count_keys (GPtrArray *batches)
{
  guint n = 0;

  for (guint i = 0; i < batches->len; i++)
    n += ((Batch *) batches->pdata[i])->keys->len;
  return n;
}

static void
delete_for_good (LbWindow *self)
{
  g_autoptr(GPtrArray) messages = selected_messages (self);
  g_autoptr(GPtrArray) batches = selection_batches (self, messages);

  for (guint i = 0; i < batches->len; i++)
    {
      Batch *batch = batches->pdata[i];

      lb_provider_delete_async (lb_account_get_provider (batch->account), batch->keys, NULL,
                                change_done, change_data_new (self, lb_provider_delete_finish, _("Could not delete the messages:")));
    }
}

static void
delete_confirmed (AdwMessageDialog *dialog,
                  const char       *response,
                  gpointer          user_data)
{
  LbWindow *self = user_data;

  if (g_strcmp0 (response, "delete") == 0)
    delete_for_good (self);
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);
  g_autoptr(GPtrArray) messages = selected_messages (self);
  g_autoptr(GPtrArray) to_trash = NULL;
  gboolean in_trash = self->folder != NULL && lb_folder_get_role (self->folder) == LB_FOLDER_ROLE_TRASH;
  gboolean have_trash = TRUE;
  g_autoptr(GPtrArray) batches = selection_batches (self, messages);

  if (messages->len == 0)
    return;
  for (guint i = 0; i < batches->len; i++)
    have_trash &= folder_with_role (((Batch *) batches->pdata[i])->account, LB_FOLDER_ROLE_TRASH) != NULL;

  if (in_trash || !have_trash)
    {
      /* nothing to undo from: ask first */
      AdwMessageDialog *dialog;

      dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), NULL, NULL));
      adw_message_dialog_format_heading (dialog,
                                         ngettext ("Delete %u Message for Good?",
                                                   "Delete %u Messages for Good?", messages->len),
                                         messages->len);
      adw_message_dialog_set_body (dialog, in_trash
                                   ? _("They are in the Trash already. Deleted from here, they cannot be brought back.")
                                   : _("This account has no Trash folder. Deleted messages cannot be brought back."));
      adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "delete", _("_Delete"), NULL);
      adw_message_dialog_set_response_appearance (dialog, "delete", ADW_RESPONSE_DESTRUCTIVE);
      adw_message_dialog_set_default_response (dialog, "cancel");
      adw_message_dialog_set_close_response (dialog, "cancel");
      g_signal_connect (dialog, "response", G_CALLBACK (delete_confirmed), self);
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }

  to_trash = move_selection (self, LB_FOLDER_ROLE_TRASH, NULL, _("Could not delete the messages:"));
  if (to_trash->len > 0)
    {
      g_autofree char *title = NULL;
      guint n = count_keys (to_trash);

      title = g_strdup_printf (ngettext ("%u message deleted", "%u messages deleted", n), n);
      offer_undo (self, title, to_trash);
    }
}

static void
archive_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);
  g_autoptr(GPtrArray) moved = move_selection (self, LB_FOLDER_ROLE_ARCHIVE, NULL,
                                               _("Could not archive the messages:"));
  guint n = count_keys (moved);

  if (n > 0)
    {
      g_autofree char *title = g_strdup_printf (ngettext ("%u message archived", "%u messages archived", n), n);

      offer_undo (self, title, moved);
    }
}

static void
set_junk (LbWindow *self,
          gboolean  junk)
{
  g_autoptr(GPtrArray) messages = selected_messages (self);
  g_autoptr(GPtrArray) batches = selection_batches (self, messages);
  g_autoptr(GPtrArray) moved = g_ptr_array_new_with_free_func (batch_free);
  const char *failure = junk ? _("Could not mark the messages as junk:") : _("Could not mark the messages as not junk:");
  guint n;

  for (guint i = 0; i < batches->len; i++)
    {
      Batch *batch = batches->pdata[i];
      LbProvider *provider = lb_account_get_provider (batch->account);
      LbFolder *target = folder_with_role (batch->account, junk ? LB_FOLDER_ROLE_JUNK : LB_FOLDER_ROLE_INBOX);

      if (LB_IS_IMAP_PROVIDER (provider))
        lb_imap_provider_set_junk_async (LB_IMAP_PROVIDER (provider), batch->keys, junk, NULL,
                                         change_done, change_data_new (self, lb_imap_provider_set_junk_finish, failure));
      else if (target != NULL)
        lb_provider_move_async (provider, batch->keys, lb_folder_get_id (target), NULL,
                                change_done, change_data_new (self, lb_provider_move_finish, failure));
      else
        continue;
      g_ptr_array_add (moved, g_steal_pointer (&batches->pdata[i]));
    }

  n = count_keys (moved);
  if (n > 0 && junk)
    {
      g_autofree char *title = g_strdup_printf (ngettext ("%u message marked as junk",
                                                          "%u messages marked as junk", n), n);

      toast (self, title);
    }
}

static void
junk_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  set_junk (LB_WINDOW (widget), TRUE);
}

static void
not_junk_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  set_junk (LB_WINDOW (widget), FALSE);
}

static void
folder_picked (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(LbWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbFolder) folder = lb_folder_picker_run_finish (result, &error);
  g_autoptr(GPtrArray) moved = NULL;
  guint n;

  if (folder == NULL)
    return;
  moved = move_selection (self, LB_FOLDER_ROLE_NONE, folder, _("Could not move the messages:"));
  n = count_keys (moved);
  if (n > 0)
    {
      /* Translators: a count, then a folder's name */
      g_autofree char *title = g_strdup_printf (ngettext ("%u message moved to “%s”",
                                                          "%u messages moved to “%s”", n),
                                                n, lb_folder_get_display_name (folder));

      offer_undo (self, title, moved);
    }
}

static void
move_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);
  g_autoptr(GPtrArray) messages = selected_messages (self);
  LbAccount *account;

  if (messages->len == 0 || (account = account_for_message (self, messages->pdata[0])) == NULL)
    return;
  lb_folder_picker_run_async (GTK_WINDOW (self), account,
                              lb_message_get_folder_id (messages->pdata[0]),
                              NULL, folder_picked, g_object_ref (self));
}

/* --- the rest */

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);

  lb_sync_scheduler_sync_now (self->scheduler, self->account);
  if (self->account != NULL && self->folder != NULL)
    lb_sync_scheduler_set_shown_folder (self->scheduler, self->account, self->folder);
}

static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);

  gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
show_folders_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);

  adw_leaflet_set_visible_child (self->leaflet, self->sidebar_pane);
}

static void
show_list_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);

  adw_leaflet_set_visible_child (self->leaflet, self->list_pane);
}

static void
account_added_cb (LbAccountAssistant *assistant,
                  LbAccount          *account,
                  gpointer            user_data)
{
  LbWindow *self = user_data;
  g_autofree char *text = g_strdup_printf (_("“%s” was added"), lb_account_get_display_name (account));

  toast (self, text);
}

static void
add_account_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);
  LbAccountAssistant *assistant;

  if (self->discovery == NULL)
    self->discovery = lb_discovery_new (NULL, NULL);
  assistant = lb_account_assistant_new (GTK_WINDOW (self), self->manager, self->discovery, self->secrets);
  g_signal_connect_object (assistant, "account-added", G_CALLBACK (account_added_cb), self, 0);
  gtk_window_present (GTK_WINDOW (assistant));
}

/* ------------------------------------------------------------------ the message shown */

static void
update_view_buttons (LbWindow *self)
{
  g_autoptr(GPtrArray) messages = selected_messages (self);
  gboolean any_unread = FALSE, all_flagged = messages->len > 0;

  for (guint i = 0; i < messages->len; i++)
    {
      any_unread |= lb_message_get_unread (messages->pdata[i]);
      all_flagged &= lb_message_get_flagged (messages->pdata[i]);
    }
  gtk_button_set_icon_name (self->read_button, any_unread ? "mail-read-symbolic" : "mail-unread-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->read_button),
                               any_unread ? _("Mark as Read") : _("Mark as Unread"));
  gtk_button_set_icon_name (self->flag_button, all_flagged ? "starred-symbolic" : "non-starred-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->flag_button), all_flagged ? _("Unflag") : _("Flag"));
}

static gboolean
mark_read_cb (gpointer user_data)
{
  LbWindow *self = user_data;
  LbAccount *account;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 key;

  self->mark_read_id = 0;
  if (self->shown == NULL || !lb_message_get_unread (self->shown) ||
      (account = account_for_message (self, self->shown)) == NULL ||
      lb_account_get_provider (account) == NULL)
    return G_SOURCE_REMOVE;

  key = lb_message_get_key (self->shown);
  g_array_append_val (keys, key);
  lb_provider_set_flags_async (lb_account_get_provider (account), keys, LB_MESSAGE_SEEN, 0, NULL,
                               change_done, change_data_new (self, lb_provider_set_flags_finish, _("Could not mark the message read:")));
  return G_SOURCE_REMOVE;
}

static void
schedule_mark_read (LbWindow *self)
{
  int delay = g_settings_get_int (self->settings, "mark-read-delay");

  g_clear_handle_id (&self->mark_read_id, g_source_remove);
  if (delay < 0 || self->shown == NULL || !lb_message_get_unread (self->shown))
    return;
  if (delay == 0)
    mark_read_cb (self);
  else
    self->mark_read_id = g_timeout_add_seconds (delay, mark_read_cb, self);
}

static const char *
body_error_text (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    return _("This message is no longer on the server.");
  return error->message;
}

static void
body_fetched (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(LbWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) raw = lb_provider_fetch_body_finish (LB_PROVIDER (object), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->shown == NULL)
    return;
  if (raw == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The message could not be downloaded: %s"),
                                               body_error_text (error));

      lb_message_view_show_error (LB_MESSAGE_VIEW (self->message_view), self->shown, text);
      return;
    }
  lb_message_view_show_message (LB_MESSAGE_VIEW (self->message_view), self->shown, raw);
  schedule_mark_read (self);
}

static void
show_message (LbWindow  *self,
              LbMessage *message)
{
  LbAccount *account;

  if (message == self->shown)
    return;

  g_cancellable_cancel (self->body_cancellable);
  g_clear_object (&self->body_cancellable);
  g_clear_handle_id (&self->mark_read_id, g_source_remove);
  g_set_object (&self->shown, message);

  if (message == NULL)
    {
      lb_message_view_clear (LB_MESSAGE_VIEW (self->message_view));
      gtk_stack_set_visible_child_name (self->view_stack, "none");
      return;
    }

  gtk_stack_set_visible_child (self->view_stack, self->message_view);
  /* a window made narrow while reading keeps the message in view (folded,
   * activating the row shows it) */
  if (!adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_set_visible_child (self->leaflet, self->view_pane);
  account = account_for_message (self, message);
  if (account == NULL || lb_account_get_provider (account) == NULL)
    {
      lb_message_view_show_error (LB_MESSAGE_VIEW (self->message_view), message,
                                  _("The account of this message is closed."));
      return;
    }
  lb_message_view_show_message (LB_MESSAGE_VIEW (self->message_view), message, NULL);
  self->body_cancellable = g_cancellable_new ();
  lb_provider_fetch_body_async (lb_account_get_provider (account), lb_message_get_key (message),
                                self->body_cancellable, body_fetched, g_object_ref (self));
}

/* What the view shows follows the selection: one message, or a count. */
static void
show_selected (LbWindow *self)
{
  g_autoptr(GtkBitset) bitset = NULL;
  guint64 n;

  if (self->selection == NULL)
    {
      show_message (self, NULL);
      return;
    }
  bitset = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  n = gtk_bitset_get_size (bitset);
  if (n == 1)
    {
      g_autoptr(LbMessage) message = g_list_model_get_item (G_LIST_MODEL (self->selection),
                                                            gtk_bitset_get_nth (bitset, 0));

      if (message != NULL && lb_message_get_loaded (message))
        {
          show_message (self, message);
          return;
        }
    }

  show_message (self, NULL);
  if (n > 1)
    {
      g_autofree char *title = g_strdup_printf (ngettext ("%u Message Selected", "%u Messages Selected", (guint) n),
                                                (guint) n);

      adw_status_page_set_title (self->view_status_page, title);
    }
  else
    adw_status_page_set_title (self->view_status_page, _("No Message Selected"));
}

/* ------------------------------------------------------------------ actions' state */

static void
update_actions (LbWindow *self)
{
  g_autoptr(GPtrArray) messages = selected_messages (self);
  g_autoptr(GPtrArray) batches = selection_batches (self, messages);
  LbSelectionFacts facts = { 0, };
  LbSelectionActions actions;

  facts.n_selected = messages->len;
  for (guint i = 0; i < messages->len; i++)
    {
      facts.n_unread += lb_message_get_unread (messages->pdata[i]) ? 1 : 0;
      facts.n_flagged += lb_message_get_flagged (messages->pdata[i]) ? 1 : 0;
    }
  facts.folder_role = self->folder != NULL ? lb_folder_get_role (self->folder) : LB_FOLDER_ROLE_NONE;
  facts.unified = batches->len > 1 || self->folder == NULL;
  facts.has_archive = batches->len > 0;
  facts.has_junk = batches->len > 0;
  for (guint i = 0; i < batches->len; i++)
    {
      LbAccount *account = ((Batch *) batches->pdata[i])->account;

      facts.has_archive &= folder_with_role (account, LB_FOLDER_ROLE_ARCHIVE) != NULL;
      facts.has_junk &= (folder_with_role (account, LB_FOLDER_ROLE_JUNK) != NULL ||
                         LB_IS_IMAP_PROVIDER (lb_account_get_provider (account)));
    }
  actions = lb_selection_actions_compute (&facts);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.mark-read", actions.mark_read);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.mark-unread", actions.mark_unread);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.toggle-read", actions.mark_read || actions.mark_unread);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.flag", actions.flag);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.unflag", actions.unflag);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.toggle-flag", actions.flag || actions.unflag);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.delete", actions.delete_);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.archive", actions.archive);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.move", actions.move);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.junk", actions.junk);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.not-junk", actions.not_junk);
  update_view_buttons (self);
}

static void
selection_changed_cb (GtkSelectionModel *model,
                      guint              position,
                      guint              n_items,
                      gpointer           user_data)
{
  LbWindow *self = user_data;

  update_actions (self);
  show_selected (self);
}

/* A row activated (click, Enter): on a folded window, show the message. */
static void
row_activated_cb (GtkListView *view,
                  guint        position,
                  gpointer     user_data)
{
  LbWindow *self = user_data;

  if (adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_set_visible_child (self->leaflet, self->view_pane);
}

/* ------------------------------------------------------------------ the list */

static void
update_list_page (LbWindow *self)
{
  gboolean empty = self->messages == NULL || g_list_model_get_n_items (self->messages) == 0;
  const char *search = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  if (empty)
    adw_status_page_set_title (self->list_empty_page,
                               search != NULL && *search != '\0' ? _("No Messages Found") : _("No Messages"));
  gtk_stack_set_visible_child_name (self->list_stack, empty ? "empty" : "list");
}

static void
messages_changed_cb (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     gpointer    user_data)
{
  LbWindow *self = user_data;

  update_list_page (self);
  /* the message shown may have left the list (moved, deleted) */
  if (removed > 0)
    {
      update_actions (self);
      show_selected (self);
    }
}

static void
set_messages (LbWindow   *self,
              GListModel *messages)
{
  if (self->messages != NULL)
    g_signal_handlers_disconnect_by_func (self->messages, messages_changed_cb, self);
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_func (self->selection, selection_changed_cb, self);

  g_set_object (&self->messages, messages);
  g_clear_object (&self->selection);
  if (messages != NULL)
    {
      self->selection = gtk_multi_selection_new (g_object_ref (messages));
      g_signal_connect (self->selection, "selection-changed", G_CALLBACK (selection_changed_cb), self);
      g_signal_connect (messages, "items-changed", G_CALLBACK (messages_changed_cb), self);
    }
  gtk_list_view_set_model (self->message_list_view, GTK_SELECTION_MODEL (self->selection));
  update_list_page (self);
  update_actions (self);
  show_selected (self);
}

static void
list_loaded (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(LbWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_message_list_load_finish (LB_MESSAGE_LIST (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (self, error->message);
      return;
    }
  if (G_LIST_MODEL (object) == self->messages)
    update_list_page (self);
}

static void
update_title (LbWindow *self)
{
  if (self->folder == NULL)
    {
      adw_window_title_set_title (self->list_title, _("All Inboxes"));
      adw_window_title_set_subtitle (self->list_title, NULL);
      return;
    }
  adw_window_title_set_title (self->list_title, lb_folder_get_display_name (self->folder));
  adw_window_title_set_subtitle (self->list_title,
                                 self->account != NULL ? lb_account_get_display_name (self->account) : NULL);
}

/* Which inboxes All Inboxes would be made of now. */
static char *
unified_signature (LbWindow *self)
{
  GString *signature = g_string_new (NULL);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->manager));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbAccount) account = g_list_model_get_item (G_LIST_MODEL (self->manager), i);
      LbFolder *inbox = lb_account_get_opened (account) ? lb_account_get_inbox (account) : NULL;

      if (inbox != NULL)
        g_string_append_printf (signature, "%p:%" G_GINT64_FORMAT ";", (void *) account, lb_folder_get_id (inbox));
    }
  return g_string_free (signature, FALSE);
}

/* All Inboxes is a snapshot of the accounts open when it was made: make
 * it again when an account opened or its Inbox appeared. */
static void
refresh_unified (LbWindow *self)
{
  g_autofree char *signature = NULL;

  if (self->folder != NULL || self->messages == NULL ||
      *gtk_editable_get_text (GTK_EDITABLE (self->search_entry)) != '\0')
    return;
  signature = unified_signature (self);
  if (g_strcmp0 (signature, self->unified_inboxes) != 0)
    reload_list (self);
}

/* Shows the folder (or All Inboxes) the sidebar has selected. */
static void
reload_list (LbWindow *self)
{
  g_autoptr(LbMessageList) list = NULL;

  g_cancellable_cancel (self->list_cancellable);
  g_clear_object (&self->list_cancellable);
  self->list_cancellable = g_cancellable_new ();

  if (self->folder != NULL)
    {
      LbStore *store = lb_folder_get_store (self->folder);

      list = lb_message_list_new ();
      lb_message_list_add_folder (list, store, lb_folder_get_id (self->folder));
    }
  else
    {
      list = lb_account_manager_create_unified_inbox (self->manager);
      g_free (self->unified_inboxes);
      self->unified_inboxes = unified_signature (self);
    }

  update_title (self);
  set_messages (self, G_LIST_MODEL (list));
  lb_message_list_load_async (list, self->list_cancellable, list_loaded, g_object_ref (self));
}

/* The folder shown last time, once its account is open and has it. */
static void
restore_last_folder (LbWindow *self)
{
  g_autofree char *id = NULL;
  g_autofree char *path = NULL;
  LbAccount *account;
  GListModel *folders;
  guint n;

  if (!self->restoring)
    return;
  g_settings_get (self->settings, "last-folder", "(ss)", &id, &path);
  if (*id == '\0' || (account = lb_account_manager_lookup (self->manager, id)) == NULL)
    {
      /* no account of that name (any more): All Inboxes it is */
      if (*id == '\0' || g_list_model_get_n_items (G_LIST_MODEL (self->manager)) > 0)
        self->restoring = FALSE;
      return;
    }
  folders = lb_account_get_folders (account);
  n = folders != NULL ? g_list_model_get_n_items (folders) : 0;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbFolder) folder = g_list_model_get_item (folders, i);

      if (g_strcmp0 (lb_folder_get_path (folder), path) == 0)
        {
          self->restoring = FALSE;
          lb_sidebar_select_folder (LB_SIDEBAR (self->sidebar), account, folder);
          return;
        }
    }
}

static void
sidebar_selection_changed_cb (LbSidebar *sidebar,
                              gpointer   user_data)
{
  LbWindow *self = user_data;
  LbAccount *account = lb_sidebar_get_selected_account (sidebar);
  LbFolder *folder = lb_sidebar_get_selected_folder (sidebar);

  /* the user chose: nothing to restore any more */
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    self->restoring = FALSE;
  if (!self->restoring)
    g_settings_set (self->settings, "last-folder", "(ss)",
                    account != NULL ? lb_account_get_id (account) : "",
                    folder != NULL ? lb_folder_get_path (folder) : "");

  g_set_object (&self->account, account);
  g_set_object (&self->folder, folder);
  if (gtk_search_bar_get_search_mode (self->search_bar))
    gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  reload_list (self);
  lb_sync_scheduler_set_shown_folder (self->scheduler, self->account, self->folder);
  /* folded, this shows the list; unfolded, the list is what a narrower
   * window will show */
  adw_leaflet_set_visible_child (self->leaflet, self->list_pane);
}

/* ------------------------------------------------------------------ search */

typedef struct
{
  LbWindow   *window;   /* weak */
  guint       serial;
  GListStore *results;
  GArray     *seen;     /* gint64 keys, per store there is no overlap */
  guint       pending;
} Search;

static void
search_free (Search *search)
{
  g_clear_weak_pointer (&search->window);
  g_clear_object (&search->results);
  g_free (search);
}

static int
compare_date_desc (gconstpointer a,
                   gconstpointer b,
                   gpointer      user_data)
{
  gint64 da = lb_message_get_date ((LbMessage *) a);
  gint64 db = lb_message_get_date ((LbMessage *) b);

  return da < db ? 1 : da > db ? -1 : 0;
}

static void
search_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Search *search = user_data;
  LbStore *store = LB_STORE (object);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = lb_store_search_finish (store, result, &error);

  if (rows != NULL && search->window != NULL && search->serial == search->window->search_serial)
    {
      for (guint i = 0; i < rows->len; i++)
        {
          g_autoptr(LbMessage) message = lb_message_new_for_summary (rows->pdata[i]);

          lb_message_set_store (message, store);
          g_list_store_insert_sorted (search->results, message, compare_date_desc, NULL);
        }
      update_list_page (search->window);
    }
  else if (rows == NULL && search->window != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    toast (search->window, error->message);

  if (--search->pending == 0)
    search_free (search);
}

static void
search_changed_cb (GtkSearchEntry *entry,
                   gpointer        user_data)
{
  LbWindow *self = user_data;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  gboolean all = gtk_toggle_button_get_active (self->search_all_button);
  g_autoptr(GListStore) results = NULL;
  Search *search;
  guint n;

  g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);
  self->search_serial++;

  if (text == NULL || *text == '\0')
    {
      reload_list (self);
      return;
    }

  results = g_list_store_new (LB_TYPE_MESSAGE);
  set_messages (self, G_LIST_MODEL (results));
  self->search_cancellable = g_cancellable_new ();

  search = g_new0 (Search, 1);
  g_set_weak_pointer (&search->window, self);
  search->serial = self->search_serial;
  search->results = g_object_ref (results);
  /* one pending count for this function, dropped at the end */
  search->pending = 1;

  n = g_list_model_get_n_items (G_LIST_MODEL (self->manager));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbAccount) account = g_list_model_get_item (G_LIST_MODEL (self->manager), i);
      LbStore *store = lb_account_get_store (account);
      gint64 folder_id = 0;

      if (store == NULL)
        continue;
      if (!all)
        {
          /* this folder only, or the Inboxes in All Inboxes */
          LbFolder *folder = self->folder;

          if (self->account != NULL && account != self->account)
            continue;
          if (folder == NULL)
            folder = lb_account_get_inbox (account);
          if (folder == NULL)
            continue;
          folder_id = lb_folder_get_id (folder);
        }
      search->pending++;
      lb_store_search_async (store, text, folder_id, SEARCH_LIMIT, self->search_cancellable,
                             search_done, search);
    }
  if (--search->pending == 0)
    search_free (search);
  update_title (self);
}

static void
search_all_toggled_cb (GtkToggleButton *button,
                       gpointer         user_data)
{
  LbWindow *self = user_data;

  search_changed_cb (self->search_entry, self);
}

static void
search_mode_cb (GObject    *object,
                GParamSpec *pspec,
                gpointer    user_data)
{
  LbWindow *self = user_data;

  /* closing the search bar shows the folder again */
  if (!gtk_search_bar_get_search_mode (self->search_bar) &&
      *gtk_editable_get_text (GTK_EDITABLE (self->search_entry)) != '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
}

/* ------------------------------------------------------------------ accounts and sync state */

static void
certificate_decided (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(LbAccount) account = user_data;
  LbWindow *self = g_object_get_data (G_OBJECT (account), "lb-window-certificate");
  g_autoptr(GError) error = NULL;
  LbCertificateDecision decision = lb_certificate_dialog_run_finish (result, &error);
  g_autofree char *fingerprint = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autofree char *host = NULL;
  guint16 port = 0;

  g_object_set_data (G_OBJECT (account), "lb-window-certificate", NULL);
  if (self == NULL || decision == LB_CERTIFICATE_REJECT)
    return;
  certificate = lb_sync_scheduler_dup_rejected_certificate (self->scheduler, account, &host, &port, NULL);
  if (certificate == NULL)
    return;
  fingerprint = lb_account_certificate_fingerprint (certificate);
  if (decision == LB_CERTIFICATE_PIN)
    {
      lb_account_pin_certificate (account, host, port, fingerprint);
      lb_account_manager_save_async (self->manager, account, NULL, NULL, NULL);
    }
  else
    /* for this run only: the account does not keep it */
    lb_account_trust_certificate_once (account, host, port, fingerprint);
  lb_sync_scheduler_retry (self->scheduler, account);
}

static void
review_certificate (LbWindow  *self,
                    LbAccount *account)
{
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autofree char *host = NULL;
  guint16 port = 0;
  GTlsCertificateFlags errors = 0;

  certificate = lb_sync_scheduler_dup_rejected_certificate (self->scheduler, account, &host, &port, &errors);
  if (certificate == NULL || g_object_get_data (G_OBJECT (account), "lb-window-certificate") != NULL)
    return;
  g_object_set_data (G_OBJECT (account), "lb-window-certificate", self);
  lb_certificate_dialog_run_async (GTK_WINDOW (self), host, port, certificate, errors, NULL,
                                   certificate_decided, g_object_ref (account));
}

typedef struct
{
  LbWindow  *window;   /* weak */
  LbAccount *account;
  char      *details;
} ErrorToast;

static void
error_toast_free (ErrorToast *data)
{
  g_clear_weak_pointer (&data->window);
  g_clear_object (&data->account);
  g_free (data->details);
  g_free (data);
}

static void
error_details_clicked (AdwToast *toast_,
                       gpointer  user_data)
{
  ErrorToast *data = user_data;
  g_autoptr(GTlsCertificate) certificate = NULL;
  AdwMessageDialog *dialog;

  if (data->window == NULL)
    return;
  certificate = lb_sync_scheduler_dup_rejected_certificate (data->window->scheduler, data->account,
                                                            NULL, NULL, NULL);
  if (certificate != NULL)
    {
      review_certificate (data->window, data->account);
      return;
    }
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (data->window), NULL, NULL));
  adw_message_dialog_format_heading (dialog, _("“%s” Cannot Get Mail"),
                                     lb_account_get_display_name (data->account));
  adw_message_dialog_set_body (dialog, data->details);
  adw_message_dialog_add_responses (dialog, "close", _("_Close"), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
account_changed_cb (LbSyncScheduler *scheduler,
                    LbAccount       *account,
                    gpointer         user_data)
{
  LbWindow *self = user_data;
  const GError *error = lb_sync_scheduler_get_error (scheduler, account);
  const char *reported = g_hash_table_lookup (self->reported_errors, account);
  gboolean any_busy = FALSE;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->manager));

  if (self->sidebar != NULL)
    {
      lb_sidebar_set_account_busy (LB_SIDEBAR (self->sidebar), account,
                                   lb_sync_scheduler_get_busy (scheduler, account));
      lb_sidebar_set_account_error (LB_SIDEBAR (self->sidebar), account,
                                    error != NULL ? error->message : NULL);
    }

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbAccount) item = g_list_model_get_item (G_LIST_MODEL (self->manager), i);

      any_busy |= lb_sync_scheduler_get_busy (scheduler, item);
    }
  gtk_stack_set_visible_child_name (self->sync_stack, any_busy ? "busy" : "idle");
  gtk_spinner_set_spinning (self->sync_spinner, any_busy);
  restore_last_folder (self);
  refresh_unified (self);

  /* One toast per new error, none for the network being down (the
   * banner says that), none again for the same error. */
  if (error == NULL)
    {
      g_hash_table_remove (self->reported_errors, account);
      return;
    }
  if (g_strcmp0 (reported, error->message) == 0 || lb_sync_scheduler_get_offline (scheduler))
    return;
  g_hash_table_insert (self->reported_errors, account, g_strdup (error->message));

  {
    AdwToast *error_toast;
    ErrorToast *data = g_new0 (ErrorToast, 1);
    gboolean certificate = g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
    g_autofree char *title = NULL;

    /* Translators: an account's name */
    title = g_strdup_printf (certificate ? _("“%s”: the server’s certificate is not trusted")
                                         : _("“%s” cannot get mail"),
                             lb_account_get_display_name (account));
    error_toast = adw_toast_new (title);
    adw_toast_set_button_label (error_toast, certificate ? _("_Review") : _("_Details"));
    adw_toast_set_timeout (error_toast, 10);
    g_set_weak_pointer (&data->window, self);
    data->account = g_object_ref (account);
    data->details = g_strdup (error->message);
    g_signal_connect_data (error_toast, "button-clicked", G_CALLBACK (error_details_clicked), data,
                           (GClosureNotify) (void (*) (void)) error_toast_free, 0);
    adw_toast_overlay_add_toast (self->toast_overlay, error_toast);
  }
}

static void
offline_changed_cb (GObject    *object,
                    GParamSpec *pspec,
                    gpointer    user_data)
{
  LbWindow *self = user_data;

  gtk_revealer_set_reveal_child (self->offline_revealer, lb_sync_scheduler_get_offline (self->scheduler));
}

static void
accounts_changed_cb (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     gpointer    user_data)
{
  LbWindow *self = user_data;
  gboolean any = g_list_model_get_n_items (model) > 0;

  gtk_stack_set_visible_child_name (self->main_stack, any ? "mail" : "empty");
  restore_last_folder (self);
  if (removed > 0)
    {
      /* the account shown may be gone */
      gboolean present = self->account == NULL;
      guint n = g_list_model_get_n_items (model);

      for (guint i = 0; i < n && !present; i++)
        {
          g_autoptr(LbAccount) account = g_list_model_get_item (model, i);

          present = account == self->account;
        }
      if (!present)
        lb_sidebar_select_unified (LB_SIDEBAR (self->sidebar));
    }
}

/* ------------------------------------------------------------------ list rows */

static void
row_setup_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              gpointer                  user_data)
{
  gtk_list_item_set_child (item, lb_message_row_new ());
}

static void
row_bind_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *item,
             gpointer                  user_data)
{
  lb_message_row_bind (LB_MESSAGE_ROW (gtk_list_item_get_child (item)),
                       gtk_list_item_get_item (item));
}

static void
row_unbind_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               gpointer                  user_data)
{
  lb_message_row_unbind (LB_MESSAGE_ROW (gtk_list_item_get_child (item)));
}

/* Right click (or long press) on a row: select it unless it is selected,
 * then the message menu there. */
static void
list_context_cb (GtkGestureClick *gesture,
                 int              n_press,
                 double           x,
                 double           y,
                 gpointer         user_data)
{
  LbWindow *self = user_data;
  GtkBuilder *builder;
  GMenuModel *menu;
  GtkWidget *popover;
  GtkWidget *picked;
  GdkRectangle rect = { (int) x, (int) y, 1, 1 };

  picked = gtk_widget_pick (GTK_WIDGET (self->message_list_view), x, y, GTK_PICK_DEFAULT);
  while (picked != NULL && !LB_IS_MESSAGE_ROW (picked))
    picked = gtk_widget_get_parent (picked);
  if (picked == NULL)
    return;
  /* the row's list item widget is its parent: activate selection there */
  gtk_widget_activate_action (picked, "listitem.select", "(bb)", FALSE, FALSE);

  builder = gtk_builder_new_from_resource ("/io/github/letterbox/Letterbox/lb-window.ui");
  menu = G_MENU_MODEL (gtk_builder_get_object (builder, "message_menu"));
  popover = gtk_popover_menu_new_from_model (menu);
  gtk_widget_set_parent (popover, GTK_WIDGET (self->message_list_view));
  gtk_popover_set_pointing_to (GTK_POPOVER (popover), &rect);
  gtk_popover_set_has_arrow (GTK_POPOVER (popover), FALSE);
  g_signal_connect (popover, "closed", G_CALLBACK (gtk_widget_unparent), NULL);
  gtk_popover_popup (GTK_POPOVER (popover));
  g_object_unref (builder);
}

/* ------------------------------------------------------------------ GObject */

static void
lb_window_load_state (LbWindow *self)
{
  int width = g_settings_get_int (self->settings, "window-width");
  int height = g_settings_get_int (self->settings, "window-height");

  gtk_window_set_default_size (GTK_WINDOW (self), width, height);
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static void
lb_window_save_state (LbWindow *self)
{
  gboolean maximized = gtk_window_is_maximized (GTK_WINDOW (self));

  /* The default size is the unmaximized size: keep the last one a
   * maximized window had, so unmaximizing next time restores it. */
  if (!maximized)
    {
      int width, height;

      gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
      if (width > 0 && height > 0)
        {
          g_settings_set_int (self->settings, "window-width", width);
          g_settings_set_int (self->settings, "window-height", height);
        }
    }
  g_settings_set_boolean (self->settings, "window-maximized", maximized);
}

static gboolean
lb_window_close_request (GtkWindow *window)
{
  lb_window_save_state (LB_WINDOW (window));

  return GTK_WINDOW_CLASS (lb_window_parent_class)->close_request (window);
}

static void
lb_window_constructed (GObject *object)
{
  LbWindow *self = LB_WINDOW (object);
  GtkListItemFactory *factory;
  GtkGesture *gesture;

  G_OBJECT_CLASS (lb_window_parent_class)->constructed (object);

  g_assert (G_IS_SETTINGS (self->settings));
  g_assert (LB_IS_ACCOUNT_MANAGER (self->manager));
  g_assert (LB_IS_SYNC_SCHEDULER (self->scheduler));

  self->secrets = lb_secrets_new ();
  lb_window_load_state (self);

  self->sidebar = lb_sidebar_new (self->manager);
  gtk_scrolled_window_set_child (self->sidebar_scroller, self->sidebar);
  g_signal_connect (self->sidebar, "selection-changed", G_CALLBACK (sidebar_selection_changed_cb), self);

  self->message_view = lb_message_view_new (self->settings);
  gtk_stack_add_named (self->view_stack, self->message_view, "message");

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (row_setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (row_bind_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (row_unbind_cb), self);
  gtk_list_view_set_factory (self->message_list_view, factory);
  g_object_unref (factory);
  g_signal_connect (self->message_list_view, "activate", G_CALLBACK (row_activated_cb), self);

  gesture = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_SECONDARY);
  g_signal_connect (gesture, "pressed", G_CALLBACK (list_context_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->message_list_view), GTK_EVENT_CONTROLLER (gesture));

  g_signal_connect (self->search_entry, "search-changed", G_CALLBACK (search_changed_cb), self);
  g_signal_connect (self->search_all_button, "toggled", G_CALLBACK (search_all_toggled_cb), self);
  g_signal_connect (self->search_bar, "notify::search-mode-enabled", G_CALLBACK (search_mode_cb), self);
  gtk_search_bar_connect_entry (self->search_bar, GTK_EDITABLE (self->search_entry));

  self->manager_changed_id = g_signal_connect (self->manager, "items-changed",
                                               G_CALLBACK (accounts_changed_cb), self);
  self->scheduler_changed_id = g_signal_connect (self->scheduler, "account-changed",
                                                 G_CALLBACK (account_changed_cb), self);
  self->offline_id = g_signal_connect (self->scheduler, "notify::offline",
                                       G_CALLBACK (offline_changed_cb), self);
  accounts_changed_cb (G_LIST_MODEL (self->manager), 0, 0, 0, self);
  offline_changed_cb (NULL, NULL, self);
  {
    guint n = g_list_model_get_n_items (G_LIST_MODEL (self->manager));

    for (guint i = 0; i < n; i++)
      {
        g_autoptr(LbAccount) account = g_list_model_get_item (G_LIST_MODEL (self->manager), i);

        account_changed_cb (self->scheduler, account, self);
      }
  }

  self->restoring = TRUE;
  lb_sidebar_select_unified (LB_SIDEBAR (self->sidebar));
  if (self->messages == NULL)
    reload_list (self);
  restore_last_folder (self);
}

static void
lb_window_dispose (GObject *object)
{
  LbWindow *self = LB_WINDOW (object);

  g_cancellable_cancel (self->list_cancellable);
  g_cancellable_cancel (self->search_cancellable);
  g_cancellable_cancel (self->body_cancellable);
  g_clear_handle_id (&self->mark_read_id, g_source_remove);
  if (self->manager != NULL)
    g_clear_signal_handler (&self->manager_changed_id, self->manager);
  if (self->scheduler != NULL)
    {
      g_clear_signal_handler (&self->scheduler_changed_id, self->scheduler);
      g_clear_signal_handler (&self->offline_id, self->scheduler);
    }
  if (self->messages != NULL)
    set_messages (self, NULL);

  gtk_widget_dispose_template (GTK_WIDGET (self), LB_TYPE_WINDOW);

  G_OBJECT_CLASS (lb_window_parent_class)->dispose (object);
}

static void
lb_window_finalize (GObject *object)
{
  LbWindow *self = LB_WINDOW (object);

  g_clear_object (&self->settings);
  g_clear_object (&self->manager);
  g_clear_object (&self->scheduler);
  g_clear_object (&self->discovery);
  g_clear_object (&self->secrets);
  g_clear_object (&self->account);
  g_clear_object (&self->folder);
  g_clear_object (&self->shown);
  g_clear_object (&self->list_cancellable);
  g_clear_object (&self->search_cancellable);
  g_clear_object (&self->body_cancellable);
  g_clear_pointer (&self->reported_errors, g_hash_table_unref);
  g_clear_pointer (&self->unified_inboxes, g_free);

  G_OBJECT_CLASS (lb_window_parent_class)->finalize (object);
}

static void
lb_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  LbWindow *self = LB_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;

    case PROP_MANAGER:
      g_value_set_object (value, self->manager);
      break;

    case PROP_SCHEDULER:
      g_value_set_object (value, self->scheduler);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  LbWindow *self = LB_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;

    case PROP_MANAGER:
      self->manager = g_value_dup_object (value);
      break;

    case PROP_SCHEDULER:
      self->scheduler = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_window_class_init (LbWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = lb_window_constructed;
  object_class->dispose = lb_window_dispose;
  object_class->finalize = lb_window_finalize;
  object_class->get_property = lb_window_get_property;
  object_class->set_property = lb_window_set_property;

  window_class->close_request = lb_window_close_request;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
  properties[PROP_MANAGER] =
    g_param_spec_object ("manager", NULL, NULL, LB_TYPE_ACCOUNT_MANAGER,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
  properties[PROP_SCHEDULER] =
    g_param_spec_object ("scheduler", NULL, NULL, LB_TYPE_SYNC_SCHEDULER,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/letterbox/Letterbox/lb-window.ui");
  gtk_widget_class_bind_template_child (widget_class, LbWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, sidebar_pane);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, sidebar_scroller);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, list_pane);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, list_title);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, sync_stack);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, sync_spinner);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, search_bar);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, search_all_button);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, offline_revealer);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, list_stack);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, list_empty_page);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, message_list_view);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, view_pane);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, view_status_page);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, flag_button);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, read_button);

  gtk_widget_class_install_action (widget_class, "win.mark-read", NULL, mark_read_action);
  gtk_widget_class_install_action (widget_class, "win.mark-unread", NULL, mark_unread_action);
  gtk_widget_class_install_action (widget_class, "win.toggle-read", NULL, toggle_read_action);
  gtk_widget_class_install_action (widget_class, "win.flag", NULL, flag_action);
  gtk_widget_class_install_action (widget_class, "win.unflag", NULL, unflag_action);
  gtk_widget_class_install_action (widget_class, "win.toggle-flag", NULL, toggle_flag_action);
  gtk_widget_class_install_action (widget_class, "win.delete", NULL, delete_action);
  gtk_widget_class_install_action (widget_class, "win.archive", NULL, archive_action);
  gtk_widget_class_install_action (widget_class, "win.move", NULL, move_action);
  gtk_widget_class_install_action (widget_class, "win.junk", NULL, junk_action);
  gtk_widget_class_install_action (widget_class, "win.not-junk", NULL, not_junk_action);
  gtk_widget_class_install_action (widget_class, "win.refresh", NULL, refresh_action);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "win.show-folders", NULL, show_folders_action);
  gtk_widget_class_install_action (widget_class, "win.show-list", NULL, show_list_action);
  gtk_widget_class_install_action (widget_class, "win.add-account", NULL, add_account_action);

  /* The shortcuts; the shortcuts window lists them (gtk/help-overlay.ui). */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_k, GDK_CONTROL_MASK, "win.mark-read", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_k, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.mark-unread", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_g, GDK_CONTROL_MASK, "win.toggle-flag", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "win.delete", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "win.archive", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_m, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.move", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_j, GDK_CONTROL_MASK, "win.junk", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_j, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.not-junk", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "win.refresh", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "win.refresh", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "win.search", NULL);
}

static void
lb_window_init (LbWindow *self)
{
  self->reported_errors = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  gtk_widget_init_template (GTK_WIDGET (self));
}

/**
 * lb_window_new:
 * @application: the application
 * @settings: its settings, where the window keeps its size
 * @manager: the accounts
 * @scheduler: what keeps them up to date
 *
 * Returns: (transfer full): a new main window
 */
LbWindow *
lb_window_new (LbApplication    *application,
               GSettings        *settings,
               LbAccountManager *manager,
               LbSyncScheduler  *scheduler)
{
  g_return_val_if_fail (LB_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (manager), NULL);
  g_return_val_if_fail (LB_IS_SYNC_SCHEDULER (scheduler), NULL);

  return g_object_new (LB_TYPE_WINDOW,
                       "application", application,
                       "settings", settings,
                       "manager", manager,
                       "scheduler", scheduler,
                       NULL);
}

/**
 * lb_window_get_page:
 *
 * Returns: the name of the page the window shows: "empty" while there
 *   is no account, "mail" otherwise
 */
const char *
lb_window_get_page (LbWindow *self)
{
  g_return_val_if_fail (LB_IS_WINDOW (self), NULL);

  return gtk_stack_get_visible_child_name (self->main_stack);
}

void
lb_window_set_discovery (LbWindow    *self,
                         LbDiscovery *discovery)
{
  g_return_if_fail (LB_IS_WINDOW (self));

  g_set_object (&self->discovery, discovery);
}

typedef struct
{
  LbWindow *window;   /* weak */
  gint64    key;
  guint     tries;
} Reveal;

/* Selects the message @key once the list has it (its first page is read
 * asynchronously). */
static gboolean
reveal_cb (gpointer user_data)
{
  Reveal *reveal = user_data;
  LbWindow *self = reveal->window;
  guint n;

  if (self == NULL || self->selection == NULL || reveal->tries++ > 50)
    goto done;
  n = MIN (g_list_model_get_n_items (G_LIST_MODEL (self->selection)), LB_MESSAGE_LIST_PAGE_SIZE);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbMessage) message = g_list_model_get_item (G_LIST_MODEL (self->selection), i);

      if (lb_message_get_loaded (message) && lb_message_get_key (message) == reveal->key)
        {
          gtk_selection_model_select_item (GTK_SELECTION_MODEL (self->selection), i, TRUE);
          gtk_widget_activate_action (GTK_WIDGET (self->message_list_view), "list.scroll-to-item", "u", i);
          goto done;
        }
    }
  return G_SOURCE_CONTINUE;

done:
  g_clear_weak_pointer (&reveal->window);
  g_free (reveal);
  return G_SOURCE_REMOVE;
}

void
lb_window_show_message (LbWindow  *self,
                        LbAccount *account,
                        gint64     folder_id,
                        gint64     key)
{
  LbFolder *folder;
  Reveal *reveal;

  g_return_if_fail (LB_IS_WINDOW (self));

  folder = lb_account_lookup_folder (account, folder_id);
  if (folder == NULL)
    return;
  lb_sidebar_select_folder (LB_SIDEBAR (self->sidebar), account, folder);
  reveal = g_new0 (Reveal, 1);
  g_set_weak_pointer (&reveal->window, self);
  reveal->key = key;
  g_timeout_add (100, reveal_cb, reveal);
}

GtkListView *
lb_window_get_message_list_view (LbWindow *self)
{
  g_return_val_if_fail (LB_IS_WINDOW (self), NULL);

  return self->message_list_view;
}

GtkWidget *
lb_window_get_sidebar (LbWindow *self)
{
  g_return_val_if_fail (LB_IS_WINDOW (self), NULL);

  return self->sidebar;
}

GtkWidget *
lb_window_get_message_view (LbWindow *self)
{
  g_return_val_if_fail (LB_IS_WINDOW (self), NULL);

  return self->message_view;
}

GListModel *
lb_window_get_messages (LbWindow *self)
{
  g_return_val_if_fail (LB_IS_WINDOW (self), NULL);

  return self->selection != NULL ? G_LIST_MODEL (self->selection) : NULL;
}
