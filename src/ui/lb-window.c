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
#include "lb-composer-window.h"
#include "lb-drafts.h"
#include "lb-folder-picker.h"
#include "lb-imap-provider.h"
#include "lb-message-list.h"
#include "lb-message-row.h"
#include "lb-message-view.h"
#include "lb-selection-state.h"
#include "lb-sidebar.h"
#include "lb-window.h"
#include "lb-conversation-bar.h"

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
  LbOutbox             *outbox;           /* NULL until set: no sending */
  gulong                outbox_state_id;
  gulong                outbox_sent_id;

  GtkWidget            *sidebar;
  GtkWidget            *message_view;
  GtkWidget            *message_page;     /* the conversation bar over the message view */
  GtkWidget            *conversation_bar;

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
  gint64                open_key;         /* of the conversation opened, the message to show first */
  LbStore              *open_store;       /* unowned, compared only: @open_key's store */
  guint                 reveal_serial;    /* the latest reveal of the message shown */
  GCancellable         *body_cancellable;
  guint                 mark_read_id;

  GHashTable           *reported_errors; /* LbAccount -> message text toasted */
  GPtrArray            *undo_batches;     /* what the last undo puts back */
  AdwToast             *undo_toast;       /* weak: its toast */
  guint                 reselect;         /* where the selection was, G_MAXUINT */
  GPtrArray            *watched;          /* selected LbMessage being watched */
  GPtrArray            *result_stores;    /* LbStore whose ::changed the results follow */
  GHashTable           *result_scope;     /* LbStore -> folder id searched (0: all) */
  guint                 refresh_id;
  GtkWidget            *context_menu;
  GMenuModel           *message_menu;     /* template object */
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
  GtkRevealer          *outbox_revealer;
  GtkLabel             *outbox_label;
  GtkWidget            *outbox_retry_button;
  GtkWidget            *edit_draft_button;
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
static void update_write_actions (LbWindow *self);
static void edit_draft_action   (GtkWidget  *widget,
                                 const char *action_name,
                                 GVariant   *parameter);
static void reveal_message_full (LbWindow *self,
                                 LbStore  *store,
                                 gint64    key,
                                 gboolean  then_show);
static void hide_conversation   (LbWindow *self);
static void show_selected       (LbWindow *self);
static void reload_list         (LbWindow *self);
static void reveal_message      (LbWindow *self,
                                 LbStore  *store,
                                 gint64    key);

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

/* A toast showing @text as it is: libadwaita 1.2 reads a toast's title
 * as Pango markup, and folder names and server errors have "&" and "<". */
static AdwToast *
new_toast (const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text, -1);

  return adw_toast_new (escaped);
}

static void
toast (LbWindow   *self,
       const char *text)
{
  adw_toast_overlay_add_toast (self->toast_overlay, new_toast (text));
}

/* The selected messages that are loaded, in list order. Rows of a large
 * selection that are not in memory are not read for this (select all in
 * a folder of 100,000 would read them all): *@n_missing counts them. */
static GPtrArray *
selected_messages_full (LbWindow *self,
                        guint    *n_missing)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GtkBitset) bitset = NULL;
  GtkBitsetIter iter;
  guint position;
  guint missing = 0;

  if (self->selection != NULL)
    {
      bitset = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
      for (gboolean ok = gtk_bitset_iter_init_first (&iter, bitset, &position);
           ok;
           ok = gtk_bitset_iter_next (&iter, &position))
        {
          g_autoptr(LbMessage) message = NULL;

          if (LB_IS_MESSAGE_LIST (self->messages))
            {
              LbMessage *resident = lb_message_list_peek (LB_MESSAGE_LIST (self->messages), position);

              message = resident != NULL ? g_object_ref (resident) : NULL;
            }
          else
            message = g_list_model_get_item (self->messages, position);

          if (message != NULL && lb_message_get_loaded (message))
            g_ptr_array_add (messages, g_steal_pointer (&message));
          else
            missing++;
        }
    }
  if (n_missing != NULL)
    *n_missing = missing;
  return g_steal_pointer (&messages);
}

static GPtrArray *
selected_messages (LbWindow *self)
{
  return selected_messages_full (self, NULL);
}

/* The selection to act on, or NULL (with a toast) when part of it is not
 * in memory: an action never applies to part of what the user selected. */
static GPtrArray *
selection_to_act_on (LbWindow *self)
{
  guint missing = 0;
  g_autoptr(GPtrArray) messages = selected_messages_full (self, &missing);

  if (missing > 0)
    {
      g_autofree char *text = g_strdup_printf (ngettext ("Select at most %u message at a time",
                                                         "Select at most %u messages at a time",
                                                         LB_MESSAGE_LIST_MAX_RESIDENT),
                                               LB_MESSAGE_LIST_MAX_RESIDENT);

      toast (self, text);
      return NULL;
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
 * out). With @keys (a GArray of gint64 for each message, or NULL), each
 * message stands for those keys (a conversation's row for its
 * messages). */
static GPtrArray *
selection_batches_full (LbWindow  *self,
                        GPtrArray *messages,
                        GPtrArray *keys)
{
  GPtrArray *batches = g_ptr_array_new_with_free_func (batch_free);

  for (guint i = 0; i < messages->len; i++)
    {
      LbMessage *message = messages->pdata[i];
      LbAccount *account = account_for_message (self, message);
      Batch *batch = NULL;
      GArray *message_keys = keys != NULL ? keys->pdata[i] : NULL;
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
      if (message_keys == NULL)
        {
          g_array_append_val (batch->keys, key);
          g_array_append_val (batch->folders, folder_id);
          continue;
        }
      /* a conversation is in its row's folder */
      for (guint j = 0; j < message_keys->len; j++)
        {
          g_array_append_val (batch->keys, g_array_index (message_keys, gint64, j));
          g_array_append_val (batch->folders, folder_id);
        }
    }
  return batches;
}

static GPtrArray *
selection_batches (LbWindow  *self,
                   GPtrArray *messages)
{
  return selection_batches_full (self, messages, NULL);
}

/* --- a conversation's row stands for its messages */

typedef void (*BatchesFunc) (LbWindow  *self,
                             GPtrArray *batches,
                             gpointer   data);

typedef struct
{
  LbWindow       *window;      /* weak */
  GPtrArray      *messages;    /* the selection when the action was taken */
  GPtrArray      *keys;        /* for each message: GArray of its keys, or NULL */
  guint           pending;
  char           *error;       /* the first error, or NULL */
  BatchesFunc     func;
  gpointer        data;
  GDestroyNotify  destroy;
} Expansion;

typedef struct
{
  Expansion *expansion;
  guint      index;
} ExpansionPart;

static void
keys_free (gpointer keys)
{
  if (keys != NULL)
    g_array_unref (keys);
}

static void
expansion_finish (Expansion *expansion)
{
  LbWindow *self = expansion->window;

  if (self != NULL && expansion->error != NULL)
    toast (self, expansion->error);
  else if (self != NULL)
    {
      g_autoptr(GPtrArray) batches = selection_batches_full (self, expansion->messages, expansion->keys);

      expansion->func (self, batches, expansion->data);
    }
  if (expansion->destroy != NULL)
    expansion->destroy (expansion->data);
  g_clear_weak_pointer (&expansion->window);
  g_ptr_array_unref (expansion->messages);
  g_ptr_array_unref (expansion->keys);
  g_free (expansion->error);
  g_free (expansion);
}

static void
conversation_keys_read (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  ExpansionPart *part = user_data;
  Expansion *expansion = part->expansion;
  g_autoptr(GError) error = NULL;
  GArray *keys = lb_message_list_dup_conversation_keys_finish (LB_MESSAGE_LIST (object), result, &error);

  if (keys != NULL)
    expansion->keys->pdata[part->index] = keys;
  else if (expansion->error == NULL)
    expansion->error = g_strdup_printf (_("Could not read the messages of the conversation: %s"), error->message);
  g_free (part);
  if (--expansion->pending == 0)
    expansion_finish (expansion);
}

/* Whether the keyboard is in the list of the conversation's messages:
 * then an action is on the message shown, not on the whole conversation. */
static gboolean
focus_in_conversation (LbWindow *self)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

  return focus != NULL && self->shown != NULL && gtk_widget_get_visible (self->conversation_bar) &&
         gtk_widget_is_ancestor (focus, self->conversation_bar);
}

/* The messages an action is on: the selected rows, or the message shown
 * when the keyboard is in its conversation's list. */
static GPtrArray *
messages_to_act_on (LbWindow *self)
{
  GPtrArray *messages;

  if (!focus_in_conversation (self))
    return selection_to_act_on (self);
  messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (messages, g_object_ref (self->shown));
  return messages;
}

/* Calls @func with the selection to act on (messages_to_act_on()), per
 * account: a conversation's row stands for all its messages in its
 * folder, as the store has them when the action is taken (read first).
 * Calls @destroy on @data after, or when there is nothing to act on. */
static void
with_selection (LbWindow       *self,
                BatchesFunc     func,
                gpointer        data,
                GDestroyNotify  destroy)
{
  g_autoptr(GPtrArray) messages = messages_to_act_on (self);
  gboolean one_message = focus_in_conversation (self);
  Expansion *expansion;

  if (messages == NULL || messages->len == 0)
    {
      if (destroy != NULL)
        destroy (data);
      return;
    }

  expansion = g_new0 (Expansion, 1);
  g_set_weak_pointer (&expansion->window, self);
  expansion->messages = g_steal_pointer (&messages);
  expansion->keys = g_ptr_array_new_full (expansion->messages->len, keys_free);
  g_ptr_array_set_size (expansion->keys, expansion->messages->len);
  expansion->func = func;
  expansion->data = data;
  expansion->destroy = destroy;
  /* one for the loop: the action runs after the last read, or now */
  expansion->pending = 1;
  for (guint i = 0; i < expansion->messages->len; i++)
    {
      LbMessage *message = expansion->messages->pdata[i];
      ExpansionPart *part;

      if (one_message || lb_message_get_n_messages (message) <= 1 ||
          !LB_IS_MESSAGE_LIST (self->messages) || !lb_message_list_get_threaded (LB_MESSAGE_LIST (self->messages)))
        {
          /* the key as it is now */
          GArray *keys = g_array_new (FALSE, FALSE, sizeof (gint64));
          gint64 key = lb_message_get_key (message);

          g_array_append_val (keys, key);
          expansion->keys->pdata[i] = keys;
          continue;
        }
      part = g_new0 (ExpansionPart, 1);
      part->expansion = expansion;
      part->index = i;
      expansion->pending++;
      lb_message_list_dup_conversation_keys_async (LB_MESSAGE_LIST (self->messages), message, NULL,
                                                   conversation_keys_read, part);
    }
  if (--expansion->pending == 0)
    expansion_finish (expansion);
}

/* ------------------------------------------------------------------ changes */

typedef gboolean (*FinishFunc) (gpointer      source,
                               GAsyncResult *result,
                               GError      **error);

typedef struct
{
  LbWindow   *window;      /* weak */
  FinishFunc  finish;
} ChangeData;

static void
change_data_free (ChangeData *data)
{
  g_clear_weak_pointer (&data->window);
  g_free (data);
}

static ChangeData *
change_data_new (LbWindow *self,
                 gpointer  finish)
{
  ChangeData *data = g_new0 (ChangeData, 1);

  g_set_weak_pointer (&data->window, self);
  data->finish = (FinishFunc) finish;
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

  /* the provider's message says what failed, in words */
  if (!data->finish (object, result, &error) && data->window != NULL &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    toast (data->window, error->message);
  change_data_free (data);
}

typedef struct
{
  guint add;
  guint remove;
} FlagChange;

static void
set_flags_of (LbWindow  *self,
              GPtrArray *batches,
              gpointer   data)
{
  FlagChange *change = data;

  for (guint i = 0; i < batches->len; i++)
    {
      Batch *batch = batches->pdata[i];

      lb_provider_set_flags_async (lb_account_get_provider (batch->account), batch->keys,
                                   change->add, change->remove, NULL, change_done,
                                   change_data_new (self, lb_provider_set_flags_finish));
    }
}

static void
set_flags (LbWindow *self,
           guint     add,
           guint     remove)
{
  FlagChange *change = g_new0 (FlagChange, 1);

  change->add = add;
  change->remove = remove;
  with_selection (self, set_flags_of, change, g_free);
}

static void
mark_read_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  set_flags (LB_WINDOW (widget), LB_MESSAGE_SEEN, 0);
}

static void
mark_unread_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);

  /* reading it again must not mark it read at once */
  g_clear_handle_id (&self->mark_read_id, g_source_remove);
  set_flags (self, 0, LB_MESSAGE_SEEN);
}

static void
flag_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  set_flags (LB_WINDOW (widget), LB_MESSAGE_FLAGGED, 0);
}

static void
unflag_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  set_flags (LB_WINDOW (widget), 0, LB_MESSAGE_FLAGGED);
}

static void
toggle_flag_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);
  g_autoptr(GPtrArray) messages = focus_in_conversation (self) ? messages_to_act_on (self) : selected_messages (self);
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
  g_autoptr(GPtrArray) messages = focus_in_conversation (self) ? messages_to_act_on (self) : selected_messages (self);
  gboolean any_unread = FALSE;

  for (guint i = 0; i < messages->len; i++)
    any_unread |= lb_message_get_unread (messages->pdata[i]);
  if (any_unread)
    mark_read_action (widget, action_name, parameter);
  else
    mark_unread_action (widget, action_name, parameter);
}

/* --- moves, with an undo */

/* Moves @batches back to the folders each message came from. */
static void
undo_batches (LbWindow  *self,
              GPtrArray *batches)
{
  for (guint i = 0; i < batches->len; i++)
    {
      Batch *batch = batches->pdata[i];
      LbProvider *provider = lb_account_get_provider (batch->account);

      if (provider == NULL)
        continue;
      for (guint j = 0; j < batch->keys->len; )
        {
          gint64 folder_id = g_array_index (batch->folders, gint64, j);
          g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
          guint k;

          for (k = j; k < batch->keys->len && g_array_index (batch->folders, gint64, k) == folder_id; k++)
            g_array_append_val (keys, g_array_index (batch->keys, gint64, k));
          lb_provider_move_async (provider, keys, folder_id, NULL, change_done,
                                  change_data_new (self, lb_provider_move_finish));
          j = k;
        }
    }
}

static void
undo_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);
  g_autoptr(GPtrArray) batches = g_steal_pointer (&self->undo_batches);

  if (self->undo_toast != NULL)
    {
      adw_toast_set_button_label (self->undo_toast, NULL);
      adw_toast_set_title (self->undo_toast, _("Undone"));
      g_clear_weak_pointer (&self->undo_toast);
    }
  gtk_widget_action_set_enabled (widget, "win.undo", FALSE);
  if (batches != NULL)
    undo_batches (self, batches);
}

/* A toast dismissed (timed out, closed, its button clicked) must not be
 * dismissed again. */
static void
undo_toast_dismissed (AdwToast *undo_toast,
                      gpointer  user_data)
{
  LbWindow *self = user_data;

  /* gone from the screen: nothing left to undo, with Ctrl+Z either */
  if (undo_toast == self->undo_toast)
    {
      g_clear_weak_pointer (&self->undo_toast);
      g_clear_pointer (&self->undo_batches, g_ptr_array_unref);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo", FALSE);
  update_write_actions (self);
    }
}

static void
undo_clicked (AdwToast *undo_toast,
              gpointer  user_data)
{
  LbWindow *self = user_data;

  /* only the last change can be undone: its toast is the one shown; the
   * overlay dismisses a toast whose button was clicked by itself */
  if (undo_toast == self->undo_toast)
    {
      g_clear_weak_pointer (&self->undo_toast);
      undo_action (GTK_WIDGET (self), "win.undo", NULL);
    }
}

static void
offer_undo (LbWindow   *self,
            const char *title,
            GPtrArray  *batches)
{
  AdwToast *undo_toast;
  g_autofree char *escaped = g_markup_escape_text (title, -1);

  /* Only the last change can be undone. A toast still shown says so
   * (libadwaita 1.2 queues a new toast behind it, Undo and all). */
  g_clear_pointer (&self->undo_batches, g_ptr_array_unref);
  self->undo_batches = g_ptr_array_ref (batches);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo", TRUE);
  if (self->undo_toast != NULL)
    {
      adw_toast_set_title (self->undo_toast, escaped);
      return;
    }

  undo_toast = adw_toast_new (escaped);
  g_set_weak_pointer (&self->undo_toast, undo_toast);
  adw_toast_set_button_label (undo_toast, _("_Undo"));
  adw_toast_set_timeout (undo_toast, UNDO_SECONDS);
  g_signal_connect_object (undo_toast, "button-clicked", G_CALLBACK (undo_clicked), self, 0);
  g_signal_connect_object (undo_toast, "dismissed", G_CALLBACK (undo_toast_dismissed), self, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, undo_toast);
}

/* The list keeps a place for the keyboard: after the selection leaves the
 * list (deleted, moved), the row that takes its place is selected. */
static void
remember_place (LbWindow *self)
{
  g_autoptr(GtkBitset) bitset = NULL;

  if (self->selection == NULL)
    return;
  bitset = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  self->reselect = gtk_bitset_is_empty (bitset) ? G_MAXUINT : gtk_bitset_get_minimum (bitset);
}

/* Moves each batch to @target (messages of its account only) or to the
 * folder with @role of its account. Returns the batches moved, for an
 * undo. */
static GPtrArray *
move_batches (LbWindow     *self,
              GPtrArray    *batches,
              LbFolderRole  role,
              LbFolder     *target)
{
  g_autoptr(GPtrArray) moved = g_ptr_array_new_with_free_func (batch_free);

  remember_place (self);
  for (guint i = 0; i < batches->len; i++)
    {
      Batch *batch = batches->pdata[i];
      LbFolder *folder;

      if (batch == NULL)
        continue;
      folder = target != NULL ? target : folder_with_role (batch->account, role);
      if (folder == NULL ||
          lb_folder_get_store (folder) != lb_account_get_store (batch->account))
        continue;
      lb_provider_move_async (lb_account_get_provider (batch->account), batch->keys,
                              lb_folder_get_id (folder), NULL, change_done,
                              change_data_new (self, lb_provider_move_finish));
      g_ptr_array_add (moved, g_steal_pointer (&batches->pdata[i]));
    }
  return g_steal_pointer (&moved);
}

static guint
count_keys (GPtrArray *batches)
{
  guint n = 0;

  for (guint i = 0; i < batches->len; i++)
    if (batches->pdata[i] != NULL)
      n += ((Batch *) batches->pdata[i])->keys->len;
  return n;
}

/* --- delete */

typedef struct
{
  LbWindow  *window;     /* weak */
  GPtrArray *batches;    /* what was selected when the question was asked */
} Pending;

static void
pending_free (Pending *pending)
{
  g_clear_weak_pointer (&pending->window);
  g_clear_pointer (&pending->batches, g_ptr_array_unref);
  g_free (pending);
}

static Pending *
pending_new (LbWindow  *self,
             GPtrArray *batches)
{
  Pending *pending = g_new0 (Pending, 1);

  g_set_weak_pointer (&pending->window, self);
  pending->batches = g_ptr_array_ref (batches);
  return pending;
}

static void
delete_confirmed (AdwMessageDialog *dialog,
                  const char       *response,
                  gpointer          user_data)
{
  Pending *pending = user_data;

  if (pending->window != NULL && g_strcmp0 (response, "delete") == 0)
    {
      remember_place (pending->window);
      for (guint i = 0; i < pending->batches->len; i++)
        {
          Batch *batch = pending->batches->pdata[i];
          LbProvider *provider = lb_account_get_provider (batch->account);

          if (provider != NULL)
            lb_provider_delete_async (provider, batch->keys, NULL, change_done,
                                      change_data_new (pending->window, lb_provider_delete_finish));
        }
    }
}

/* Splits @batch into the messages that go to the Trash (returned) and
 * those that are deleted for good (left in @batch): those in the Trash
 * already, or all of them when the account has no Trash. */
static Batch *
split_for_trash (Batch *batch)
{
  LbFolder *trash = folder_with_role (batch->account, LB_FOLDER_ROLE_TRASH);
  Batch *to_trash = g_new0 (Batch, 1);
  g_autoptr(GArray) keep_keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GArray) keep_folders = g_array_new (FALSE, FALSE, sizeof (gint64));

  to_trash->account = g_object_ref (batch->account);
  to_trash->keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  to_trash->folders = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; i < batch->keys->len; i++)
    {
      gint64 key = g_array_index (batch->keys, gint64, i);
      gint64 folder_id = g_array_index (batch->folders, gint64, i);
      gboolean for_good = trash == NULL || folder_id == lb_folder_get_id (trash);

      g_array_append_val (for_good ? keep_keys : to_trash->keys, key);
      g_array_append_val (for_good ? keep_folders : to_trash->folders, folder_id);
    }
  g_array_unref (batch->keys);
  g_array_unref (batch->folders);
  batch->keys = g_steal_pointer (&keep_keys);
  batch->folders = g_steal_pointer (&keep_folders);
  return to_trash;
}

static void
delete_batches (LbWindow  *self,
                GPtrArray *batches,
                gpointer   data)
{
  g_autoptr(GPtrArray) to_trash = g_ptr_array_new_with_free_func (batch_free);
  g_autoptr(GPtrArray) for_good = g_ptr_array_new_with_free_func (batch_free);
  g_autoptr(GPtrArray) moved = NULL;
  guint n_for_good;

  for (guint i = 0; i < batches->len; i++)
    {
      Batch *batch = g_steal_pointer (&batches->pdata[i]);
      Batch *trash = split_for_trash (batch);

      if (trash->keys->len > 0)
        g_ptr_array_add (to_trash, trash);
      else
        batch_free (trash);
      if (batch->keys->len > 0)
        g_ptr_array_add (for_good, batch);
      else
        batch_free (batch);
    }

  moved = move_batches (self, to_trash, LB_FOLDER_ROLE_TRASH, NULL);
  if (moved->len > 0)
    {
      guint n = count_keys (moved);
      g_autofree char *title = g_strdup_printf (ngettext ("%u message deleted", "%u messages deleted", n), n);

      offer_undo (self, title, moved);
    }

  n_for_good = count_keys (for_good);
  if (n_for_good > 0)
    {
      /* nothing to undo from: ask first */
      AdwMessageDialog *dialog;
      gboolean any_trash = FALSE;

      for (guint i = 0; i < for_good->len; i++)
        any_trash |= folder_with_role (((Batch *) for_good->pdata[i])->account, LB_FOLDER_ROLE_TRASH) != NULL;
      dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), NULL, NULL));
      adw_message_dialog_format_heading (dialog,
                                         ngettext ("Delete %u Message for Good?",
                                                   "Delete %u Messages for Good?", n_for_good),
                                         n_for_good);
      adw_message_dialog_set_body (dialog, any_trash
                                   ? _("They are in the Trash already. Deleted from here, they cannot be brought back.")
                                   : _("This account has no Trash folder. Deleted messages cannot be brought back."));
      adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "delete", _("_Delete"), NULL);
      adw_message_dialog_set_response_appearance (dialog, "delete", ADW_RESPONSE_DESTRUCTIVE);
      adw_message_dialog_set_default_response (dialog, "cancel");
      adw_message_dialog_set_close_response (dialog, "cancel");
      g_signal_connect_data (dialog, "response", G_CALLBACK (delete_confirmed), pending_new (self, for_good),
                             (GClosureNotify) (void (*) (void)) pending_free, 0);
      gtk_window_present (GTK_WINDOW (dialog));
    }
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  with_selection (LB_WINDOW (widget), delete_batches, NULL, NULL);
}

/* The Delete key deletes messages only where messages are: not from the
 * folder list (which is all a narrow window shows then). */
static void
delete_key_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));

  if (focus != NULL && gtk_widget_is_ancestor (focus, self->sidebar_pane))
    return;
  delete_action (widget, "win.delete", NULL);
}

/* --- archive, junk, move */

static void
archive_batches (LbWindow  *self,
                 GPtrArray *batches,
                 gpointer   data)
{
  g_autoptr(GPtrArray) moved = NULL;
  guint n;

  moved = move_batches (self, batches, LB_FOLDER_ROLE_ARCHIVE, NULL);
  n = count_keys (moved);
  if (n > 0)
    {
      g_autofree char *title = g_strdup_printf (ngettext ("%u message archived", "%u messages archived", n), n);

      offer_undo (self, title, moved);
    }
}

static void
archive_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  with_selection (LB_WINDOW (widget), archive_batches, NULL, NULL);
}

static void
junk_keyword_done (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* the move is what the user sees; the keyword only teaches the server's
   * filter, and waits for no connection */
  if (!lb_imap_provider_set_junk_finish (LB_IMAP_PROVIDER (object), result, &error))
    g_debug ("$Junk/$NotJunk not set: %s", error->message);
}

/* Junk moves the messages to the Junk folder, "not junk" back to the
 * Inbox; an IMAP server is also told ($Junk, $NotJunk) so its filter
 * learns. */
static void
set_junk_of (LbWindow  *self,
             GPtrArray *batches,
             gpointer   data)
{
  gboolean junk = GPOINTER_TO_INT (data);
  g_autoptr(GPtrArray) moved = NULL;
  guint n;

  for (guint i = 0; i < batches->len; i++)
    {
      Batch *batch = batches->pdata[i];
      LbProvider *provider = lb_account_get_provider (batch->account);

      if (LB_IS_IMAP_PROVIDER (provider))
        lb_imap_provider_set_junk_async (LB_IMAP_PROVIDER (provider), batch->keys, junk, NULL,
                                         junk_keyword_done, NULL);
    }
  moved = move_batches (self, batches, junk ? LB_FOLDER_ROLE_JUNK : LB_FOLDER_ROLE_INBOX, NULL);
  n = count_keys (moved);
  if (n > 0)
    {
      g_autofree char *title = NULL;

      if (junk)
        title = g_strdup_printf (ngettext ("%u message moved to Junk", "%u messages moved to Junk", n), n);
      else
        title = g_strdup_printf (ngettext ("%u message moved to the Inbox", "%u messages moved to the Inbox", n), n);
      offer_undo (self, title, moved);
    }
}

static void
set_junk (LbWindow *self,
          gboolean  junk)
{
  with_selection (self, set_junk_of, GINT_TO_POINTER (junk), NULL);
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
  Pending *pending = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbFolder) folder = lb_folder_picker_run_finish (result, &error);
  g_autoptr(GPtrArray) moved = NULL;
  guint n;

  if (folder == NULL || pending->window == NULL)
    {
      pending_free (pending);
      return;
    }
  moved = move_batches (pending->window, pending->batches, LB_FOLDER_ROLE_NONE, folder);
  n = count_keys (moved);
  if (n > 0)
    {
      /* Translators: a count, then a folder's name */
      g_autofree char *title = g_strdup_printf (ngettext ("%u message moved to “%s”",
                                                          "%u messages moved to “%s”", n),
                                                n, lb_folder_get_display_name (folder));

      offer_undo (pending->window, title, moved);
    }
  pending_free (pending);
}

static void
pick_folder_for (LbWindow  *self,
                 GPtrArray *batches,
                 gpointer   data)
{
  Batch *batch;

  /* the picker offers one account's folders: the selection's */
  if (batches->len != 1)
    return;
  batch = batches->pdata[0];
  lb_folder_picker_run_async (GTK_WINDOW (self), batch->account,
                              batch->folders->len > 0 ? g_array_index (batch->folders, gint64, 0) : 0,
                              NULL, folder_picked, pending_new (self, batches));
}

static void
move_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  with_selection (LB_WINDOW (widget), pick_folder_for, NULL, NULL);
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

/* The read and flag buttons say what a click does to the selection. */
static void
update_view_buttons (LbWindow               *self,
                     const LbSelectionFacts *facts)
{
  gboolean any_unread = facts->n_unread > 0;
  gboolean all_flagged = facts->n_selected > 0 && facts->n_flagged == facts->n_selected;
  const char *read_label, *flag_label;

  read_label = any_unread ? _("Mark as Read") : _("Mark as Unread");
  flag_label = all_flagged ? _("Unflag") : _("Flag");

  gtk_button_set_icon_name (self->read_button, any_unread ? "mail-read-symbolic" : "mail-unread-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->read_button), read_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->read_button), GTK_ACCESSIBLE_PROPERTY_LABEL, read_label, -1);
  gtk_button_set_icon_name (self->flag_button, all_flagged ? "starred-symbolic" : "non-starred-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->flag_button), flag_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->flag_button), GTK_ACCESSIBLE_PROPERTY_LABEL, flag_label, -1);
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
                               change_done, change_data_new (self, lb_provider_set_flags_finish));
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
      /* the provider's message says what failed (not on the server any
       * more, no connection), in words */
      lb_message_view_show_error (LB_MESSAGE_VIEW (self->message_view), self->shown, error->message);
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
  update_write_actions (self);

  if (message == NULL)
    {
      lb_message_view_clear (LB_MESSAGE_VIEW (self->message_view));
      gtk_stack_set_visible_child_name (self->view_stack, "none");
      return;
    }

  gtk_stack_set_visible_child (self->view_stack, self->message_page);
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

/* ------------------------------------------------------------------ conversations */

static void
hide_conversation (LbWindow *self)
{
  self->open_key = 0;
  self->open_store = NULL;
  lb_conversation_bar_set_conversation (LB_CONVERSATION_BAR (self->conversation_bar), NULL);
  gtk_widget_set_visible (self->conversation_bar, FALSE);
}

/* Whether the message shown is @message (the same key of the same store:
 * the bar makes new objects for a conversation's messages at each read). */
static gboolean
shows (LbWindow  *self,
       LbMessage *message)
{
  return self->shown != NULL && lb_message_get_store (self->shown) == lb_message_get_store (message) &&
         lb_message_get_key (self->shown) == lb_message_get_key (message);
}

/* The conversation's messages are read: the message shown stays when it is
 * still one of them; else the one asked for (a notification's), or the
 * first to read. */
static void
conversation_loaded_cb (LbConversationBar *bar,
                        LbWindow          *self)
{
  LbMessage *conversation = lb_conversation_bar_get_conversation (bar);
  LbMessage *message = NULL;
  gboolean shown_here;

  if (conversation == NULL)
    return;
  gtk_widget_set_visible (self->conversation_bar, TRUE);
  shown_here = self->shown != NULL && lb_message_get_store (self->shown) == lb_message_get_store (conversation);
  if (self->open_key != 0 && self->open_store == lb_message_get_store (conversation))
    message = lb_conversation_bar_lookup (bar, self->open_key);
  self->open_key = 0;
  self->open_store = NULL;
  if (message == NULL && shown_here)
    message = lb_conversation_bar_lookup (bar, lb_message_get_key (self->shown));
  if (message == NULL)
    message = lb_conversation_bar_get_first_to_read (bar);
  if (message == NULL)
    {
      /* its messages could not be read: the row's own message, at least */
      gtk_widget_set_visible (self->conversation_bar, FALSE);
      show_message (self, conversation);
      return;
    }
  lb_conversation_bar_set_shown (bar, lb_message_get_key (message));
  if (!shows (self, message))
    show_message (self, message);
}

static void
conversation_message_cb (LbConversationBar *bar,
                         LbMessage         *message,
                         LbWindow          *self)
{
  if (shows (self, message))
    return;
  lb_conversation_bar_set_shown (bar, lb_message_get_key (message));
  show_message (self, message);
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
          if (lb_message_get_n_messages (message) > 1)
            {
              /* a conversation: its messages are read, then one is shown
               * (or the one shown stays, when it is the same row); the
               * message left is not marked read meanwhile */
              if (message != lb_conversation_bar_get_conversation (LB_CONVERSATION_BAR (self->conversation_bar)))
                g_clear_handle_id (&self->mark_read_id, g_source_remove);
              lb_conversation_bar_set_conversation (LB_CONVERSATION_BAR (self->conversation_bar), message);
              return;
            }
          hide_conversation (self);
          show_message (self, message);
          return;
        }
    }

  hide_conversation (self);
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
  /* the role of the folder the selected messages are in (search results
   * come from any folder), NONE when they are in several */
  facts.folder_role = LB_FOLDER_ROLE_NONE;
  for (guint i = 0; i < messages->len; i++)
    {
      LbAccount *account = account_for_message (self, messages->pdata[i]);
      LbFolder *folder = account != NULL ? lb_account_lookup_folder (account, lb_message_get_folder_id (messages->pdata[i])) : NULL;
      LbFolderRole role = folder != NULL ? lb_folder_get_role (folder) : LB_FOLDER_ROLE_NONE;

      if (i == 0)
        facts.folder_role = role;
      else if (role != facts.folder_role)
        facts.folder_role = LB_FOLDER_ROLE_NONE;
    }
  facts.unified = batches->len > 1;
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
  update_view_buttons (self, &facts);
}

static gboolean
refresh_selection_idle (gpointer user_data)
{
  LbWindow *self = user_data;

  self->refresh_id = 0;
  update_actions (self);
  show_selected (self);
  return G_SOURCE_REMOVE;
}

/* A selected row loaded, or its flags changed (marked read on opening):
 * the actions and the view follow, once per main loop turn. */
static void
selected_message_notify_cb (GObject    *object,
                            GParamSpec *pspec,
                            gpointer    user_data)
{
  LbWindow *self = user_data;

  if (self->refresh_id == 0)
    self->refresh_id = g_idle_add (refresh_selection_idle, self);
}

static void
unwatch_selection (LbWindow *self)
{
  for (guint i = 0; self->watched != NULL && i < self->watched->len; i++)
    g_signal_handlers_disconnect_by_func (self->watched->pdata[i], selected_message_notify_cb, self);
  g_clear_pointer (&self->watched, g_ptr_array_unref);
}

/* Watches the selected rows that are in memory (not a whole select-all). */
static void
watch_selection (LbWindow *self)
{
  g_autoptr(GtkBitset) bitset = NULL;
  GtkBitsetIter iter;
  guint position;

  unwatch_selection (self);
  self->watched = g_ptr_array_new_with_free_func (g_object_unref);
  if (self->selection == NULL)
    return;
  bitset = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  for (gboolean ok = gtk_bitset_iter_init_first (&iter, bitset, &position);
       ok && self->watched->len < LB_MESSAGE_LIST_PAGE_SIZE;
       ok = gtk_bitset_iter_next (&iter, &position))
    {
      LbMessage *message;
      g_autoptr(LbMessage) item = NULL;

      if (LB_IS_MESSAGE_LIST (self->messages))
        message = lb_message_list_peek (LB_MESSAGE_LIST (self->messages), position);
      else
        message = item = g_list_model_get_item (self->messages, position);
      if (message == NULL)
        continue;
      g_signal_connect (message, "notify::loaded", G_CALLBACK (selected_message_notify_cb), self);
      g_signal_connect (message, "notify::flags", G_CALLBACK (selected_message_notify_cb), self);
      /* a conversation's: a reply arrived, a message of it was read */
      g_signal_connect (message, "notify::n-messages", G_CALLBACK (selected_message_notify_cb), self);
      g_signal_connect (message, "notify::n-unread", G_CALLBACK (selected_message_notify_cb), self);
      g_ptr_array_add (self->watched, g_object_ref (message));
    }
}

static void
selection_changed_cb (GtkSelectionModel *model,
                      guint              position,
                      guint              n_items,
                      gpointer           user_data)
{
  LbWindow *self = user_data;

  watch_selection (self);
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
  g_autoptr(LbMessage) message = self->selection != NULL ? g_list_model_get_item (G_LIST_MODEL (self->selection), position) : NULL;

  /* a draft opens in the composer */
  if (message != NULL && lb_message_get_loaded (message) && lb_message_get_n_messages (message) <= 1 &&
      self->shown != NULL && lb_message_get_key (self->shown) == lb_message_get_key (message) &&
      lb_message_get_store (self->shown) == lb_message_get_store (message))
    {
      LbAccount *account = account_for_message (self, message);
      LbFolder *folder = account != NULL ? lb_account_lookup_folder (account, lb_message_get_folder_id (message)) : NULL;

      if (folder != NULL && lb_folder_get_role (folder) == LB_FOLDER_ROLE_DRAFTS)
        {
          edit_draft_action (GTK_WIDGET (self), "win.edit-draft", NULL);
          return;
        }
    }
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
  /* the message shown may have left the list (moved, deleted): the row
   * that took its place is selected, so the keyboard keeps its place */
  if (removed > 0)
    {
      g_autoptr(GtkBitset) bitset = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
      guint n = g_list_model_get_n_items (model);

      if (gtk_bitset_is_empty (bitset) && self->reselect != G_MAXUINT && n > 0)
        {
          guint place = MIN (self->reselect, n - 1);

          self->reselect = G_MAXUINT;
          gtk_selection_model_select_item (GTK_SELECTION_MODEL (self->selection), place, TRUE);
          return;
        }
      update_actions (self);
      if (gtk_bitset_is_empty (bitset) && self->shown != NULL && lb_message_get_store (self->shown) != NULL &&
          LB_IS_MESSAGE_LIST (self->messages) && lb_message_list_get_threaded (LB_MESSAGE_LIST (self->messages)))
        {
          /* a reply moved the conversation being read (or the message read,
           * now a conversation) to the top: its row left, a new one came;
           * selected there again, the message read still shown */
          reveal_message_full (self, lb_message_get_store (self->shown), lb_message_get_key (self->shown), TRUE);
          return;
        }
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
  unwatch_selection (self);
  self->reselect = G_MAXUINT;
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
    {
      gint64 shown = self->shown != NULL ? lb_message_get_key (self->shown) : 0;
      LbStore *store = self->shown != NULL ? lb_message_get_store (self->shown) : NULL;

      reload_list (self);
      /* the message read stays selected in the new list */
      if (shown != 0)
        reveal_message (self, store, shown);
    }
}

typedef struct
{
  LbWindow *window;   /* weak */
  GListModel *messages;  /* unowned: the list it looks in, compared only */
  LbStore  *store;       /* unowned, compared only: keys are per store */
  gint64    key;
  gint64    folder_id;   /* the message's folder and thread, when read: */
  gint64    thread_id;   /* its conversation's row stands for it */
  guint     tries;
  gboolean  then_show;   /* not found: the view follows the selection */
  guint     serial;      /* with then_show: only the latest one acts */
} Reveal;

/* Selects the message @key once the list has it (its first page is read
 * asynchronously). */
static gboolean
reveal_cb (gpointer user_data)
{
  Reveal *reveal = user_data;
  LbWindow *self = reveal->window;
  guint n;

  if (self == NULL || self->selection == NULL || reveal->tries++ > 50 ||
      reveal->messages != self->messages)
    goto not_found;
  if (reveal->then_show)
    {
      g_autoptr(GtkBitset) selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));

      /* the user chose meanwhile, or a newer reveal took over */
      if (!gtk_bitset_is_empty (selected) || reveal->serial != self->reveal_serial)
        goto done;
    }
  /* the rows in memory: the first pages once the list has loaded them */
  n = MIN (g_list_model_get_n_items (G_LIST_MODEL (self->selection)), LB_MESSAGE_LIST_MAX_RESIDENT);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbMessage) message = NULL;

      if (!LB_IS_MESSAGE_LIST (self->messages))
        message = g_list_model_get_item (self->messages, i);
      else if (lb_message_list_peek (LB_MESSAGE_LIST (self->messages), i) != NULL)
        message = g_object_ref (lb_message_list_peek (LB_MESSAGE_LIST (self->messages), i));
      else if (i == 0)
        /* nothing read yet: the first page, please */
        message = g_list_model_get_item (self->messages, 0);
      if (message == NULL)
        break;
      if (lb_message_get_loaded (message) && lb_message_get_store (message) == reveal->store &&
          (lb_message_get_key (message) == reveal->key ||
           (reveal->thread_id != 0 && lb_message_get_n_messages (message) > 1 &&
            lb_message_get_thread_id (message) == reveal->thread_id &&
            lb_message_get_folder_id (message) == reveal->folder_id)))
        {
          LbConversationBar *bar = LB_CONVERSATION_BAR (self->conversation_bar);

          /* a conversation opens at this message; open already, it shows it */
          if (lb_message_get_n_messages (message) > 1 && lb_conversation_bar_get_conversation (bar) == message &&
              gtk_selection_model_is_selected (GTK_SELECTION_MODEL (self->selection), i))
            {
              LbMessage *member = lb_conversation_bar_lookup (bar, reveal->key);

              if (member != NULL)
                {
                  lb_conversation_bar_set_shown (bar, reveal->key);
                  show_message (self, member);
                }
              goto done;
            }
          self->open_key = lb_message_get_n_messages (message) > 1 ? reveal->key : 0;
          self->open_store = self->open_key != 0 ? reveal->store : NULL;
          gtk_selection_model_select_item (GTK_SELECTION_MODEL (self->selection), i, TRUE);
          gtk_widget_activate_action (GTK_WIDGET (self->message_list_view), "list.scroll-to-item", "u", i);
          goto done;
        }
    }
  return G_SOURCE_CONTINUE;

not_found:
  if (self != NULL && reveal->then_show && reveal->serial == self->reveal_serial)
    show_selected (self);
done:
  g_clear_weak_pointer (&reveal->window);
  g_free (reveal);
  return G_SOURCE_REMOVE;
}

static void
reveal_thread_read (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Reveal *reveal = user_data;
  g_autoptr(GPtrArray) summaries = lb_store_get_messages_finish (LB_STORE (object), result, NULL);

  if (summaries != NULL && summaries->len > 0)
    {
      LbMessageSummary *summary = summaries->pdata[0];

      reveal->folder_id = summary->folder_id;
      reveal->thread_id = summary->thread_id;
    }
  else if (reveal->then_show && reveal->window != NULL)
    {
      /* gone from the store: nothing to find */
      show_selected (reveal->window);
      g_clear_weak_pointer (&reveal->window);
      g_free (reveal);
      return;
    }
  g_timeout_add (100, reveal_cb, reveal);
}

/* Selects the message @key in the list shown now, once it has read it.
 * With @then_show, the view follows the selection if it never does. */
static void
reveal_message_full (LbWindow *self,
                     LbStore  *store,
                     gint64    key,
                     gboolean  then_show)
{
  Reveal *reveal = g_new0 (Reveal, 1);
  g_autoptr(GArray) keys = NULL;

  g_set_weak_pointer (&reveal->window, self);
  reveal->store = store;
  reveal->key = key;
  reveal->messages = self->messages;
  reveal->then_show = then_show;
  if (then_show)
    reveal->serial = ++self->reveal_serial;
  if (!LB_IS_MESSAGE_LIST (self->messages) || !lb_message_list_get_threaded (LB_MESSAGE_LIST (self->messages)))
    {
      g_timeout_add (100, reveal_cb, reveal);
      return;
    }
  /* in a list of conversations, the row of the message's thread */
  keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_array_append_val (keys, key);
  lb_store_get_messages_async (store, keys, NULL, reveal_thread_read, reveal);
}

static void
reveal_message (LbWindow *self,
                LbStore  *store,
                gint64    key)
{
  reveal_message_full (self, store, key, FALSE);
}

/* Shows the folder (or All Inboxes) the sidebar has selected. */
static void
reload_list (LbWindow *self)
{
  g_autoptr(LbMessageList) list = NULL;
  gboolean threaded = g_settings_get_boolean (self->settings, "group-conversations");

  g_cancellable_cancel (self->list_cancellable);
  g_clear_object (&self->list_cancellable);
  self->list_cancellable = g_cancellable_new ();

  if (self->folder != NULL)
    {
      LbStore *store = lb_folder_get_store (self->folder);

      list = threaded ? lb_message_list_new_threaded () : lb_message_list_new ();
      lb_message_list_add_folder (list, store, lb_folder_get_id (self->folder));
    }
  else
    {
      list = lb_account_manager_create_unified_inbox_full (self->manager, threaded);
      g_free (self->unified_inboxes);
      self->unified_inboxes = unified_signature (self);
    }

  update_title (self);
  set_messages (self, G_LIST_MODEL (list));
  lb_message_list_load_async (list, self->list_cancellable, list_loaded, g_object_ref (self));
}

/* Conversations turned on or off in the preferences: the list shown is
 * made again (search results, a row per message, stay as they are). */
static void
group_conversations_changed_cb (LbWindow *self)
{
  g_autoptr(LbMessage) shown = self->shown != NULL ? g_object_ref (self->shown) : NULL;

  if (*gtk_editable_get_text (GTK_EDITABLE (self->search_entry)) != '\0')
    return;
  reload_list (self);
  /* the message read stays selected (its conversation's row, or its own) */
  if (shown != NULL && lb_message_get_store (shown) != NULL)
    reveal_message (self, lb_message_get_store (shown), lb_message_get_key (shown));
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

  /* the folder shown went away (deleted, its account reopened): All
   * Inboxes, selected, rather than nothing */
  if (account == NULL && !lb_sidebar_get_unified_selected (sidebar))
    {
      lb_sidebar_select_unified (sidebar);
      return;
    }
  /* the same folder again (the sidebar selects its first row when the
   * window gets the focus): the list shown stays */
  if (self->messages != NULL && account == self->account && folder == self->folder &&
      !gtk_search_bar_get_search_mode (self->search_bar))
    return;

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
  GHashTable *found;    /* "store:key" of the rows listed */
  guint       pending;
} Search;

/* One account's share of a search: its store first, then (IMAP) its
 * server for what the store cannot find (bodies not downloaded). */
typedef struct
{
  Search    *search;
  LbAccount *account;
  LbStore   *store;
  gint64     folder_id;
  char      *text;
} SearchPart;

#define SERVER_SEARCH_MIN_CHARS 3

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
search_free (Search *search)
{
  g_clear_weak_pointer (&search->window);
  g_clear_object (&search->results);
  g_clear_pointer (&search->found, g_hash_table_unref);
  g_free (search);
}

static void
search_part_free (SearchPart *part)
{
  if (--part->search->pending == 0)
    search_free (part->search);
  g_clear_object (&part->account);
  g_clear_object (&part->store);
  g_free (part->text);
  g_free (part);
}

static gboolean
search_current (Search *search)
{
  return search->window != NULL && search->serial == search->window->search_serial;
}

/* Adds @rows (LbMessageSummary of @store) not listed yet, by date. */
static void
search_add_rows (Search    *search,
                 LbStore   *store,
                 GPtrArray *rows)
{
  for (guint i = 0; i < rows->len; i++)
    {
      LbMessageSummary *summary = rows->pdata[i];
      g_autofree char *id = g_strdup_printf ("%p:%" G_GINT64_FORMAT, (void *) store, summary->key);
      g_autoptr(LbMessage) message = NULL;

      if (g_hash_table_contains (search->found, id))
        continue;
      g_hash_table_add (search->found, g_steal_pointer (&id));
      message = lb_message_new_for_summary (summary);
      lb_message_set_store (message, store);
      g_list_store_insert_sorted (search->results, message, compare_date_desc, NULL);
    }
  update_list_page (search->window);
}

static void
server_rows_got (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SearchPart *part = user_data;
  g_autoptr(GPtrArray) rows = lb_store_get_messages_finish (LB_STORE (object), result, NULL);

  if (rows != NULL && search_current (part->search))
    search_add_rows (part->search, part->store, rows);
  search_part_free (part);
}

static void
server_searched (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SearchPart *part = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = lb_imap_provider_search_finish (LB_IMAP_PROVIDER (object), result, &error);

  /* offline, the server has nothing to add: the store's results stand */
  if (keys == NULL || keys->len == 0 || !search_current (part->search))
    {
      if (keys == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("server search: %s", error->message);
      search_part_free (part);
      return;
    }
  lb_store_get_messages_async (part->store, keys, part->search->window->search_cancellable,
                               server_rows_got, part);
}


static void
search_done (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  SearchPart *part = user_data;
  Search *search = part->search;
  LbStore *store = LB_STORE (object);
  LbProvider *provider = lb_account_get_provider (part->account);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = lb_store_search_finish (store, result, &error);

  if (rows == NULL)
    {
      if (search->window != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (search->window, error->message);
      search_part_free (part);
      return;
    }
  if (!search_current (search))
    {
      search_part_free (part);
      return;
    }
  search_add_rows (search, store, rows);

  /* then the server, for messages whose text is not here */
  if (LB_IS_IMAP_PROVIDER (provider) && g_utf8_strlen (part->text, -1) >= SERVER_SEARCH_MIN_CHARS)
    {
      lb_imap_provider_search_async (LB_IMAP_PROVIDER (provider), part->folder_id, part->text, SEARCH_LIMIT,
                                     search->window->search_cancellable, server_searched, part);
      return;
    }
  search_part_free (part);
}

/* --- search results follow the store, as a folder's list does */

typedef struct
{
  LbWindow   *window;   /* weak */
  LbStore    *store;
  GHashTable *keys;     /* the keys this read is for */
} ResultsRefresh;

static void
results_refreshed (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  ResultsRefresh *refresh = user_data;
  LbWindow *self = refresh->window;
  g_autoptr(GPtrArray) rows = lb_store_get_messages_finish (LB_STORE (object), result, NULL);
  g_autoptr(GHashTable) now = g_hash_table_new (g_int64_hash, g_int64_equal);
  gpointer scope;
  gint64 scope_folder = 0;

  if (self == NULL || rows == NULL || G_IS_LIST_STORE (self->messages) == FALSE)
    goto done;
  if (g_hash_table_lookup_extended (self->result_scope, refresh->store, NULL, &scope))
    scope_folder = *(gint64 *) scope;
  for (guint i = 0; i < rows->len; i++)
    {
      LbMessageSummary *summary = rows->pdata[i];

      g_hash_table_insert (now, &summary->key, summary);
    }

  /* rows of this store that changed: refreshed, or gone when they left
   * the store or the folder searched */
  for (guint i = g_list_model_get_n_items (self->messages); i > 0; i--)
    {
      g_autoptr(LbMessage) message = g_list_model_get_item (self->messages, i - 1);
      gint64 key = lb_message_get_key (message);
      LbMessageSummary *summary;

      if (lb_message_get_store (message) != refresh->store || !g_hash_table_contains (refresh->keys, &key))
        continue;
      summary = g_hash_table_lookup (now, &key);
      if (summary == NULL || (scope_folder != 0 && summary->folder_id != scope_folder))
        g_list_store_remove (G_LIST_STORE (self->messages), i - 1);
      else
        lb_message_set_summary (message, summary);
    }
  update_list_page (self);

done:
  g_clear_weak_pointer (&refresh->window);
  g_clear_object (&refresh->store);
  g_clear_pointer (&refresh->keys, g_hash_table_unref);
  g_free (refresh);
}

static void
results_store_changed_cb (LbStore   *store,
                          GPtrArray *changes,
                          gpointer   user_data)
{
  LbWindow *self = user_data;
  g_autoptr(GHashTable) touched = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  ResultsRefresh *refresh;
  guint n;

  if (!G_IS_LIST_STORE (self->messages))
    return;
  for (guint i = 0; i < changes->len; i++)
    g_hash_table_add (touched, &((LbStoreChange *) changes->pdata[i])->key);

  n = g_list_model_get_n_items (self->messages);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbMessage) message = g_list_model_get_item (self->messages, i);
      gint64 key = lb_message_get_key (message);

      if (lb_message_get_store (message) == store && g_hash_table_contains (touched, &key))
        g_array_append_val (keys, key);
    }
  if (keys->len == 0)
    return;
  refresh = g_new0 (ResultsRefresh, 1);
  g_set_weak_pointer (&refresh->window, self);
  refresh->store = g_object_ref (store);
  refresh->keys = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  for (guint i = 0; i < keys->len; i++)
    g_hash_table_add (refresh->keys, g_memdup2 (&g_array_index (keys, gint64, i), sizeof (gint64)));
  lb_store_get_messages_async (store, keys, NULL, results_refreshed, refresh);
}

static void
unfollow_results (LbWindow *self)
{
  for (guint i = 0; self->result_stores != NULL && i < self->result_stores->len; i++)
    g_signal_handlers_disconnect_by_func (self->result_stores->pdata[i], results_store_changed_cb, self);
  g_clear_pointer (&self->result_stores, g_ptr_array_unref);
  g_hash_table_remove_all (self->result_scope);
}

static void
follow_results (LbWindow *self,
                LbStore  *store,
                gint64    folder_id)
{
  if (self->result_stores == NULL)
    self->result_stores = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (self->result_stores, g_object_ref (store));
  g_hash_table_insert (self->result_scope, store, g_memdup2 (&folder_id, sizeof folder_id));
  g_signal_connect (store, "changed", G_CALLBACK (results_store_changed_cb), self);
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
  unfollow_results (self);

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
  search->found = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
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
      {
        SearchPart *part = g_new0 (SearchPart, 1);

        search->pending++;
        part->search = search;
        part->account = g_object_ref (account);
        part->store = g_object_ref (store);
        part->folder_id = folder_id;
        part->text = g_strdup (text);
        follow_results (self, store, folder_id);
        lb_store_search_async (store, text, folder_id, SEARCH_LIMIT, self->search_cancellable,
                               search_done, part);
      }
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
    error_toast = new_toast (title);
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
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  gboolean loaded = !LB_IS_APPLICATION (app) || lb_application_get_loaded (LB_APPLICATION (app));

  /* no "No Mail Accounts" while the accounts are still being read */
  gtk_stack_set_visible_child_name (self->main_stack, any ? "mail" : loaded ? "empty" : "loading");
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

static void
app_loaded_cb (LbWindow *self)
{
  accounts_changed_cb (G_LIST_MODEL (self->manager), 0, 0, 0, self);
}

/* ------------------------------------------------------------------ list rows */

static void
row_setup_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              gpointer                  user_data)
{
  GtkWidget *row = lb_message_row_new ();

  /* the context menu asks the row whether it is selected */
  g_object_set_data (G_OBJECT (row), "lb-list-item", item);
  gtk_list_item_set_child (item, row);
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

/* The message menu at @x, @y of the list (NULL: at the focused row). */
static void
popup_context_menu (LbWindow *self,
                    double    x,
                    double    y)
{
  GdkRectangle rect = { (int) x, (int) y, 1, 1 };

  gtk_popover_set_pointing_to (GTK_POPOVER (self->context_menu), &rect);
  gtk_popover_popup (GTK_POPOVER (self->context_menu));
}

/* A right click or a long press on a row: that row is selected unless it
 * is part of the selection already, then the message menu opens there. */
static void
context_at (LbWindow *self,
            double    x,
            double    y)
{
  GtkWidget *picked = gtk_widget_pick (GTK_WIDGET (self->message_list_view), x, y, GTK_PICK_DEFAULT);
  GtkListItem *item;

  while (picked != NULL && !LB_IS_MESSAGE_ROW (picked))
    picked = gtk_widget_get_parent (picked);
  if (picked == NULL)
    return;
  item = g_object_get_data (G_OBJECT (picked), "lb-list-item");
  if (item != NULL && !gtk_list_item_get_selected (item))
    gtk_widget_activate_action (picked, "listitem.select", "(bb)", FALSE, FALSE);
  popup_context_menu (self, x, y);
}

static void
list_context_cb (GtkGestureClick *gesture,
                 int              n_press,
                 double           x,
                 double           y,
                 gpointer         user_data)
{
  context_at (user_data, x, y);
}

static void
list_long_press_cb (GtkGestureLongPress *gesture,
                    double               x,
                    double               y,
                    gpointer             user_data)
{
  context_at (user_data, x, y);
}

/* Shift+F10 or the Menu key: the menu at the focused row. */
static void
context_menu_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self));
  graphene_point_t point = GRAPHENE_POINT_INIT (0, 0);
  graphene_point_t in_list;

  if (focus == NULL || !gtk_widget_is_ancestor (focus, GTK_WIDGET (self->message_list_view)) ||
      !gtk_widget_compute_point (focus, GTK_WIDGET (self->message_list_view), &point, &in_list))
    return;
  popup_context_menu (self, in_list.x + gtk_widget_get_width (focus) / 2.0,
                      in_list.y + gtk_widget_get_height (focus) / 2.0);
}

/* On a folded window a tap on a row shows its message (a wide window
 * shows it beside the list already). */
static void
list_released_cb (GtkGestureClick *gesture,
                  int              n_press,
                  double           x,
                  double           y,
                  gpointer         user_data)
{
  LbWindow *self = user_data;

  if (adw_leaflet_get_folded (self->leaflet) && self->shown != NULL)
    adw_leaflet_set_visible_child (self->leaflet, self->view_pane);
}


/* ------------------------------------------------------------------ writing */

static void update_outbox_banner (LbWindow *self);

/* The role of the folder @message is in. */
static LbFolderRole
role_of (LbWindow  *self,
         LbMessage *message)
{
  LbAccount *account = message != NULL ? account_for_message (self, message) : NULL;
  LbFolder *folder = account != NULL ? lb_account_lookup_folder (account, lb_message_get_folder_id (message)) : NULL;

  return folder != NULL ? lb_folder_get_role (folder) : LB_FOLDER_ROLE_NONE;
}

/* The account new messages are written from: the one shown, else the
 * first. */
static LbAccount *
compose_account (LbWindow *self)
{
  if (self->account != NULL)
    return self->account;
  if (self->shown != NULL && account_for_message (self, self->shown) != NULL)
    return account_for_message (self, self->shown);
  if (g_list_model_get_n_items (G_LIST_MODEL (self->manager)) > 0)
    {
      g_autoptr(LbAccount) first = g_list_model_get_item (G_LIST_MODEL (self->manager), 0);

      return first;   /* the manager keeps it */
    }
  return NULL;
}

static void open_composer (LbWindow         *self,
                           LbComposerWindow *composer);

typedef struct
{
  LbWindow  *window;
  LbAccount *account;
  gint64     key;
} Sending;

static void
sending_free (Sending *sending)
{
  g_object_unref (sending->window);
  g_object_unref (sending->account);
  g_free (sending);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Sending, sending_free)

static void
taken_back (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(Sending) sending = user_data;
  LbWindow *self = sending->window;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbOutgoingMessage) message = lb_outbox_take_back_finish (LB_OUTBOX (object), result, &error);

  if (message == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY))
        toast (self, _("Too late: the message is being sent or was sent already."));
      else
        toast (self, error->message);
      return;
    }
  open_composer (self, lb_composer_window_new_from_message (gtk_window_get_application (GTK_WINDOW (self)),
                                                            self->manager, self->outbox, sending->account,
                                                            message, 0, FALSE));
}

static void
take_back (LbWindow  *self,
           LbAccount *account,
           gint64     key)
{
  Sending *sending;

  if (self->outbox == NULL)
    return;
  sending = g_new0 (Sending, 1);
  sending->window = g_object_ref (self);
  sending->account = g_object_ref (account);
  sending->key = key;
  lb_outbox_take_back_async (self->outbox, account, key, NULL, taken_back, sending);
}

static void
undo_send_clicked (AdwToast *undo_toast,
                   gpointer  user_data)
{
  Sending *sending = user_data;

  take_back (sending->window, sending->account, sending->key);
}

/* The composer put a message in the Outbox: Undo while it waits. */
static void
composer_queued_cb (LbComposerWindow *composer,
                    LbAccount        *account,
                    gint64            key,
                    LbWindow         *self)
{
  guint delay = self->outbox != NULL ? lb_outbox_get_undo_delay (self->outbox) : 0;
  AdwToast *sending_toast = new_toast (_("Sending message…"));

  if (delay > 0)
    {
      Sending *sending = g_new0 (Sending, 1);

      sending->window = g_object_ref (self);
      sending->account = g_object_ref (account);
      sending->key = key;
      adw_toast_set_button_label (sending_toast, _("_Undo"));
      adw_toast_set_timeout (sending_toast, delay);
      g_signal_connect_data (sending_toast, "button-clicked", G_CALLBACK (undo_send_clicked), sending,
                             (GClosureNotify) (void (*) (void)) sending_free, 0);
    }
  adw_toast_set_priority (sending_toast, ADW_TOAST_PRIORITY_HIGH);
  adw_toast_overlay_add_toast (self->toast_overlay, sending_toast);
}

static void
open_composer (LbWindow         *self,
               LbComposerWindow *composer)
{
  g_signal_connect_object (composer, "queued", G_CALLBACK (composer_queued_cb), self, 0);
  gtk_window_present (GTK_WINDOW (composer));
}

static void
compose_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);
  LbAccount *account = compose_account (self);

  if (account == NULL)
    {
      toast (self, _("Add an account to write messages."));
      return;
    }
  open_composer (self, lb_composer_window_new (gtk_window_get_application (GTK_WINDOW (self)), self->manager,
                                               self->outbox, account, NULL));
}

typedef enum
{
  WRITE_REPLY,
  WRITE_REPLY_ALL,
  WRITE_FORWARD,
  WRITE_FORWARD_ATTACHMENT,
} WriteKind;

typedef struct
{
  LbWindow  *window;
  LbAccount *account;
  LbMessage *message;
  WriteKind  kind;
} WriteData;

static void
write_data_free (WriteData *data)
{
  g_object_unref (data->window);
  g_object_unref (data->account);
  g_object_unref (data->message);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WriteData, write_data_free)

/* Whether @list (addresses as text) has @address. */
static gboolean
addresses_have (const char *list,
                const char *address)
{
  g_autofree char *folded_list = NULL;
  g_autofree char *folded = NULL;
  const char *at;
  gsize len;

  if (list == NULL || address == NULL || *address == '\0')
    return FALSE;
  folded_list = g_utf8_casefold (list, -1);
  folded = g_utf8_casefold (address, -1);
  len = strlen (folded);
  for (at = strstr (folded_list, folded); at != NULL; at = strstr (at + 1, folded))
    {
      char before = at > folded_list ? at[-1] : ' ';
      char after = at[len];

      if ((before == ' ' || before == '<' || before == ',') &&
          (after == '\0' || after == '>' || after == ',' || after == ' '))
        return TRUE;
    }
  return FALSE;
}

/* The identity the original was sent to, else the account's default. */
static LbIdentity *
identity_for (LbAccount *account,
              LbMessage *original)
{
  LbMessageSummary *summary = lb_message_get_summary (original);
  GListModel *identities = lb_account_get_identities (account);
  guint n = identities != NULL ? g_list_model_get_n_items (identities) : 0;

  for (guint i = 0; summary != NULL && i < n; i++)
    {
      g_autoptr(LbIdentity) identity = g_list_model_get_item (identities, i);
      const char *address = lb_identity_get_address (identity);

      if (addresses_have (summary->to, address) || addresses_have (summary->cc, address))
        return identity;   /* the account keeps it */
    }
  return lb_account_get_default_identity (account);
}

static void
original_fetched (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(WriteData) data = user_data;
  LbWindow *self = data->window;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) raw = lb_provider_fetch_body_finish (LB_PROVIDER (object), result, &error);
  g_autoptr(LbOutgoingMessage) message = NULL;
  g_autoptr(GPtrArray) own = g_ptr_array_new ();
  GListModel *identities = lb_account_get_identities (data->account);
  guint n = identities != NULL ? g_list_model_get_n_items (identities) : 0;
  LbIdentity *identity;

  if (raw == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The message could not be read: %s"), error->message);

      toast (self, text);
      return;
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbIdentity) own_identity = g_list_model_get_item (identities, i);

      g_ptr_array_add (own, (gpointer) lb_identity_get_address (own_identity));
    }
  g_ptr_array_add (own, NULL);

  switch (data->kind)
    {
    case WRITE_REPLY:
    case WRITE_REPLY_ALL:
      message = lb_outgoing_message_new_reply (raw, data->kind == WRITE_REPLY ? LB_REPLY_SENDER : LB_REPLY_ALL,
                                               (const char * const *) own->pdata, &error);
      break;

    case WRITE_FORWARD:
    case WRITE_FORWARD_ATTACHMENT:
      message = lb_outgoing_message_new_forward (raw, data->kind == WRITE_FORWARD ? LB_FORWARD_INLINE
                                                                                  : LB_FORWARD_ATTACHMENT,
                                                 &error);
      break;

    default:
      g_assert_not_reached ();
    }
  if (message == NULL)
    {
      toast (self, error->message);
      return;
    }
  identity = identity_for (data->account, data->message);
  if (identity != NULL)
    lb_outgoing_message_set_from (message, lb_identity_get_name (identity), lb_identity_get_address (identity));
  open_composer (self, lb_composer_window_new_from_message (gtk_window_get_application (GTK_WINDOW (self)),
                                                            self->manager, self->outbox, data->account,
                                                            message, 0, TRUE));
}

static void
write_about_shown (LbWindow  *self,
                   WriteKind  kind)
{
  LbAccount *account = self->shown != NULL ? account_for_message (self, self->shown) : NULL;
  WriteData *data;

  if (account == NULL || lb_account_get_provider (account) == NULL)
    return;
  data = g_new0 (WriteData, 1);
  data->window = g_object_ref (self);
  data->account = g_object_ref (account);
  data->message = g_object_ref (self->shown);
  data->kind = kind;
  lb_provider_fetch_body_async (lb_account_get_provider (account), lb_message_get_key (self->shown), NULL,
                                original_fetched, data);
}

static void
reply_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  write_about_shown (LB_WINDOW (widget), WRITE_REPLY);
}

static void
reply_all_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  write_about_shown (LB_WINDOW (widget), WRITE_REPLY_ALL);
}

static void
forward_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  write_about_shown (LB_WINDOW (widget), WRITE_FORWARD);
}

static void
forward_attachment_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  write_about_shown (LB_WINDOW (widget), WRITE_FORWARD_ATTACHMENT);
}

static void
draft_opened (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(Sending) data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbOutgoingMessage) message = lb_drafts_open_finish (result, &error);

  if (message == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The draft could not be opened: %s"), error->message);

      toast (data->window, text);
      return;
    }
  open_composer (data->window,
                 lb_composer_window_new_from_message (gtk_window_get_application (GTK_WINDOW (data->window)),
                                                      data->window->manager, data->window->outbox,
                                                      data->account, message, data->key, FALSE));
}

static void
edit_draft_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);
  LbAccount *account = self->shown != NULL ? account_for_message (self, self->shown) : NULL;
  Sending *data;

  if (account == NULL || role_of (self, self->shown) != LB_FOLDER_ROLE_DRAFTS)
    return;
  data = g_new0 (Sending, 1);
  data->window = g_object_ref (self);
  data->account = g_object_ref (account);
  data->key = lb_message_get_key (self->shown);
  lb_drafts_open_async (account, data->key, NULL, draft_opened, data);
}

static void
outbox_edit_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);
  LbAccount *account = self->shown != NULL ? account_for_message (self, self->shown) : NULL;

  if (account == NULL || role_of (self, self->shown) != LB_FOLDER_ROLE_OUTBOX)
    return;
  take_back (self, account, lb_message_get_key (self->shown));
}

static void
retried (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(LbWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_outbox_retry_finish (LB_OUTBOX (object), result, &error))
    toast (self, error->message);
}

static void
outbox_retry_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  LbWindow *self = LB_WINDOW (widget);
  LbAccount *account = self->shown != NULL ? account_for_message (self, self->shown) : NULL;

  if (account == NULL || self->outbox == NULL || role_of (self, self->shown) != LB_FOLDER_ROLE_OUTBOX)
    return;
  lb_outbox_retry_async (self->outbox, account, lb_message_get_key (self->shown), NULL, retried,
                         g_object_ref (self));
}

/* The message shown is in the Outbox: its state, and what can be done. */
static void
update_outbox_banner (LbWindow *self)
{
  LbAccount *account = self->shown != NULL ? account_for_message (self, self->shown) : NULL;
  LbFolderRole role = role_of (self, self->shown);
  LbOutboxState state = LB_OUTBOX_STATE_WAITING;
  g_autofree char *error_message = NULL;
  g_autofree char *text = NULL;
  gboolean in_outbox = FALSE, stuck = FALSE;

  gtk_widget_set_visible (self->edit_draft_button, role == LB_FOLDER_ROLE_DRAFTS);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.edit-draft", role == LB_FOLDER_ROLE_DRAFTS);
  if (account != NULL && role == LB_FOLDER_ROLE_OUTBOX && self->outbox != NULL)
    in_outbox = lb_outbox_get_state (self->outbox, account, lb_message_get_key (self->shown), &state,
                                     &error_message);
  if (in_outbox)
    {
      switch (state)
        {
        case LB_OUTBOX_STATE_WAITING:
          text = g_strdup (_("Waiting to be sent."));
          break;

        case LB_OUTBOX_STATE_SENDING:
          text = g_strdup (_("Being sent now."));
          break;

        case LB_OUTBOX_STATE_FAILED:
          stuck = TRUE;
          text = error_message != NULL ? g_strdup_printf (_("Not sent: %s"), error_message)
                                       : g_strdup (_("Not sent."));
          break;

        case LB_OUTBOX_STATE_UNCERTAIN:
          stuck = TRUE;
          text = g_strdup (_("Sending was cut off: the message may have been sent. Check Sent or with "
                             "the recipients before sending it again."));
          break;

        case LB_OUTBOX_STATE_SENT:
          text = g_strdup (_("Sent."));
          break;

        default:
          g_assert_not_reached ();
        }
      gtk_label_set_text (self->outbox_label, text);
    }
  gtk_widget_set_visible (self->outbox_retry_button, stuck);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.outbox-retry", stuck);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.outbox-edit",
                                 in_outbox && state != LB_OUTBOX_STATE_SENDING && state != LB_OUTBOX_STATE_SENT);
  gtk_revealer_set_reveal_child (self->outbox_revealer, in_outbox);
}

static void
show_outbox_clicked (AdwToast *toast_,
                     gpointer  user_data)
{
  Sending *data = user_data;
  LbFolder *outbox = lb_account_get_folder_by_role (data->account, LB_FOLDER_ROLE_OUTBOX);

  if (outbox != NULL)
    lb_window_show_message (data->window, data->account, lb_folder_get_id (outbox), data->key);
}

static void
outbox_state_changed_cb (LbOutbox      *outbox,
                         LbAccount     *account,
                         gint64         key,
                         LbOutboxState  state,
                         LbWindow      *self)
{
  if (self->shown != NULL && account_for_message (self, self->shown) == account &&
      lb_message_get_key (self->shown) == key)
    update_outbox_banner (self);

  if (state == LB_OUTBOX_STATE_FAILED || state == LB_OUTBOX_STATE_UNCERTAIN)
    {
      AdwToast *failed_toast = new_toast (state == LB_OUTBOX_STATE_FAILED ? _("A message could not be sent")
                                                                          : _("A message may not have been sent"));
      Sending *data = g_new0 (Sending, 1);

      data->window = g_object_ref (self);
      data->account = g_object_ref (account);
      data->key = key;
      adw_toast_set_button_label (failed_toast, _("_Show"));
      adw_toast_set_timeout (failed_toast, 10);
      /* after the "Sending…" toast, not over it: a high-priority toast
       * would push that one back to show again later, stale */
      g_signal_connect_data (failed_toast, "button-clicked", G_CALLBACK (show_outbox_clicked), data,
                             (GClosureNotify) (void (*) (void)) sending_free, 0);
      adw_toast_overlay_add_toast (self->toast_overlay, failed_toast);
    }
}

static void
outbox_sent_cb (LbOutbox   *outbox,
                LbAccount  *account,
                gint64      key,
                const char *message_id,
                LbWindow   *self)
{
  toast (self, _("Message sent"));
}


static void
update_write_actions (LbWindow *self)
{
  gboolean shown = self->shown != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.reply", shown);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.reply-all", shown);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.forward", shown);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.forward-attachment", shown);
  update_outbox_banner (self);
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
  gtk_widget_set_vexpand (self->message_view, TRUE);
  self->conversation_bar = lb_conversation_bar_new ();
  gtk_widget_set_visible (self->conversation_bar, FALSE);
  g_signal_connect_object (self->conversation_bar, "loaded", G_CALLBACK (conversation_loaded_cb), self, 0);
  g_signal_connect_object (self->conversation_bar, "message-activated", G_CALLBACK (conversation_message_cb),
                           self, 0);
  self->message_page = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (self->message_page), self->conversation_bar);
  gtk_box_append (GTK_BOX (self->message_page), self->message_view);
  gtk_stack_add_named (self->view_stack, self->message_page, "message");

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
  gesture = gtk_gesture_long_press_new ();
  gtk_gesture_single_set_touch_only (GTK_GESTURE_SINGLE (gesture), TRUE);
  g_signal_connect (gesture, "pressed", G_CALLBACK (list_long_press_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->message_list_view), GTK_EVENT_CONTROLLER (gesture));
  gesture = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_PRIMARY);
  g_signal_connect_after (gesture, "released", G_CALLBACK (list_released_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->message_list_view), GTK_EVENT_CONTROLLER (gesture));

  self->context_menu = gtk_popover_menu_new_from_model (self->message_menu);
  gtk_popover_set_has_arrow (GTK_POPOVER (self->context_menu), FALSE);
  gtk_widget_set_halign (self->context_menu, GTK_ALIGN_START);
  gtk_widget_set_parent (self->context_menu, GTK_WIDGET (self->message_list_view));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo", FALSE);

  g_signal_connect (self->search_entry, "search-changed", G_CALLBACK (search_changed_cb), self);
  g_signal_connect_object (self->settings, "changed::group-conversations",
                           G_CALLBACK (group_conversations_changed_cb), self, G_CONNECT_SWAPPED);
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
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  unwatch_selection (self);
  unfollow_results (self);
  g_clear_pointer (&self->context_menu, gtk_widget_unparent);
  if (self->manager != NULL)
    g_clear_signal_handler (&self->manager_changed_id, self->manager);
  if (self->scheduler != NULL)
    {
      g_clear_signal_handler (&self->scheduler_changed_id, self->scheduler);
      g_clear_signal_handler (&self->offline_id, self->scheduler);
    }
  if (self->messages != NULL)
    set_messages (self, NULL);
  if (self->outbox != NULL)
    {
      g_clear_signal_handler (&self->outbox_state_id, self->outbox);
      g_clear_signal_handler (&self->outbox_sent_id, self->outbox);
    }

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
  g_clear_object (&self->outbox);
  g_clear_object (&self->account);
  g_clear_object (&self->folder);
  g_clear_object (&self->shown);
  g_clear_object (&self->list_cancellable);
  g_clear_object (&self->search_cancellable);
  g_clear_object (&self->body_cancellable);
  g_clear_pointer (&self->reported_errors, g_hash_table_unref);
  g_clear_pointer (&self->unified_inboxes, g_free);
  g_clear_pointer (&self->undo_batches, g_ptr_array_unref);
  g_clear_weak_pointer (&self->undo_toast);
  g_clear_pointer (&self->result_scope, g_hash_table_unref);

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
  gtk_widget_class_bind_template_child (widget_class, LbWindow, message_menu);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, outbox_revealer);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, outbox_label);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, outbox_retry_button);
  gtk_widget_class_bind_template_child (widget_class, LbWindow, edit_draft_button);

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
  gtk_widget_class_install_action (widget_class, "win.undo", NULL, undo_action);
  gtk_widget_class_install_action (widget_class, "win.delete-key", NULL, delete_key_action);
  gtk_widget_class_install_action (widget_class, "win.context-menu", NULL, context_menu_action);
  gtk_widget_class_install_action (widget_class, "win.compose", NULL, compose_action);
  gtk_widget_class_install_action (widget_class, "win.reply", NULL, reply_action);
  gtk_widget_class_install_action (widget_class, "win.reply-all", NULL, reply_all_action);
  gtk_widget_class_install_action (widget_class, "win.forward", NULL, forward_action);
  gtk_widget_class_install_action (widget_class, "win.forward-attachment", NULL, forward_attachment_action);
  gtk_widget_class_install_action (widget_class, "win.edit-draft", NULL, edit_draft_action);
  gtk_widget_class_install_action (widget_class, "win.outbox-edit", NULL, outbox_edit_action);
  gtk_widget_class_install_action (widget_class, "win.outbox-retry", NULL, outbox_retry_action);

  /* The shortcuts; the shortcuts window lists them (gtk/help-overlay.ui). */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_k, GDK_CONTROL_MASK, "win.mark-read", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_k, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.mark-unread", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_g, GDK_CONTROL_MASK, "win.toggle-flag", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "win.delete-key", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "win.archive", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_m, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.move", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_j, GDK_CONTROL_MASK, "win.junk", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_j, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.not-junk", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "win.refresh", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "win.compose", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "win.reply", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.reply-all", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_R, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "win.reply-all", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, GDK_CONTROL_MASK, "win.forward", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "win.search", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_z, GDK_CONTROL_MASK, "win.undo", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F10, GDK_SHIFT_MASK, "win.context-menu", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Menu, 0, "win.context-menu", NULL);
}

static void
lb_window_init (LbWindow *self)
{
  self->reported_errors = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->reselect = G_MAXUINT;
  self->result_scope = g_hash_table_new_full (NULL, NULL, NULL, g_free);
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
  LbWindow *self;

  g_return_val_if_fail (LB_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (manager), NULL);
  g_return_val_if_fail (LB_IS_SYNC_SCHEDULER (scheduler), NULL);

  self = g_object_new (LB_TYPE_WINDOW,
                       "application", application,
                       "settings", settings,
                       "manager", manager,
                       "scheduler", scheduler,
                       NULL);
  /* the application is set after construction: until it has read the
   * accounts, a loading page rather than "No Mail Accounts" */
  g_signal_connect_object (application, "notify::loaded", G_CALLBACK (app_loaded_cb), self, G_CONNECT_SWAPPED);
  app_loaded_cb (self);
  return self;
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

void
lb_window_show_message (LbWindow  *self,
                        LbAccount *account,
                        gint64     folder_id,
                        gint64     key)
{
  LbFolder *folder;

  g_return_if_fail (LB_IS_WINDOW (self));

  folder = lb_account_lookup_folder (account, folder_id);
  if (folder == NULL)
    return;
  /* the folder, not search results */
  gtk_search_bar_set_search_mode (self->search_bar, FALSE);
  lb_sidebar_select_folder (LB_SIDEBAR (self->sidebar), account, folder);
  reveal_message (self, lb_account_get_store (account), key);
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

/**
 * lb_window_set_outbox:
 * @outbox: (nullable): the application's outbox
 *
 * Where the messages written from this window go; its sends and failures
 * are shown as toasts. Without one the composer cannot send.
 */
void
lb_window_set_outbox (LbWindow *self,
                      LbOutbox *outbox)
{
  g_return_if_fail (LB_IS_WINDOW (self));
  g_return_if_fail (outbox == NULL || LB_IS_OUTBOX (outbox));

  if (self->outbox == outbox)
    return;
  if (self->outbox != NULL)
    {
      g_clear_signal_handler (&self->outbox_state_id, self->outbox);
      g_clear_signal_handler (&self->outbox_sent_id, self->outbox);
    }
  g_set_object (&self->outbox, outbox);
  if (outbox != NULL)
    {
      self->outbox_state_id = g_signal_connect (outbox, "state-changed", G_CALLBACK (outbox_state_changed_cb), self);
      self->outbox_sent_id = g_signal_connect (outbox, "sent", G_CALLBACK (outbox_sent_cb), self);
    }
  update_outbox_banner (self);
}

LbOutbox *
lb_window_get_outbox (LbWindow *self)
{
  g_return_val_if_fail (LB_IS_WINDOW (self), NULL);

  return self->outbox;
}

/**
 * lb_window_compose:
 * @message: (nullable): what to start from (a mailto: link's fields), or
 *   NULL for an empty message
 *
 * Opens a composer on the default account (the one shown, else the
 * first), as "New Message" does.
 *
 * Returns: (transfer none) (nullable): the composer, NULL without an account
 */
GtkWindow *
lb_window_compose (LbWindow          *self,
                   LbOutgoingMessage *message)
{
  LbAccount *account;
  LbComposerWindow *composer;

  g_return_val_if_fail (LB_IS_WINDOW (self), NULL);

  account = compose_account (self);
  if (account == NULL)
    {
      toast (self, _("Add an account to write messages."));
      return NULL;
    }
  if (message != NULL)
    {
      LbIdentity *identity = lb_account_get_default_identity (account);

      if (identity != NULL && lb_outgoing_message_get_from_address (message) == NULL)
        lb_outgoing_message_set_from (message, lb_identity_get_name (identity), lb_identity_get_address (identity));
      composer = lb_composer_window_new_from_message (gtk_window_get_application (GTK_WINDOW (self)), self->manager,
                                                      self->outbox, account, message, 0, TRUE);
    }
  else
    composer = lb_composer_window_new (gtk_window_get_application (GTK_WINDOW (self)), self->manager,
                                       self->outbox, account, NULL);
  open_composer (self, composer);
  return GTK_WINDOW (composer);
}
