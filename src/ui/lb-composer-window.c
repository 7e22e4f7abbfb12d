/* lb-composer-window.c: a window to write a message in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The fields are the widgets'; an LbOutgoingMessage (kept for the whole
 * life of the window, so its Message-ID, In-Reply-To and References stay)
 * gets them before each save and the send. The draft is saved a few
 * seconds after the last edit, one save at a time, and when the window
 * closes with something new written; each save replaces the version
 * before it (its key is kept). Send checks the addresses, asks when the
 * text mentions an attachment that is not there, and puts the message in
 * the Outbox; the main window offers Undo.
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <glib/gi18n.h>

#include "lb-composer-window.h"
#include "lb-drafts.h"

#define AUTOSAVE_MS      3000
#define COMPLETION_LIMIT 8
#define SIGNATURE_SEP    "\n\n-- \n"

typedef struct
{
  LbAccount  *account;
  LbIdentity *identity;
} Sender;

typedef struct _Completion Completion;

struct _LbComposerWindow
{
  AdwApplicationWindow parent_instance;

  LbAccountManager    *manager;
  LbOutbox            *outbox;
  LbOutgoingMessage   *message;
  GPtrArray           *senders;         /* Sender */
  Sender              *sender;          /* the one chosen, in @senders */
  char                *signature;       /* the signature block added, or NULL */

  char                *saved_state;     /* the fields when last saved (or opened) */
  gint64               draft_key;       /* of the last version saved */
  LbAccount           *draft_account;   /* where that version is */
  gboolean             saving;
  gboolean             save_again;      /* an edit came during the save */
  guint                autosave_id;
  guint                autosave_ms;
  gboolean             closing;         /* hidden, saving before it goes */
  gboolean             held;            /* the application held while closing */
  gboolean             sending;
  gboolean             send_after_save;
  gboolean             done;            /* sent or discarded: close without saving */
  gboolean             discarded;
  guint                n_loading;       /* files being read */
  GCancellable        *cancellable;     /* file reads */
  gboolean             updating;        /* fields set by the code */

  Completion          *completions[3];

  /* template children */
  GtkWidget           *content_box;
  AdwWindowTitle      *window_title;
  GtkSpinner          *save_spinner;
  GtkRevealer         *error_revealer;
  GtkLabel            *error_label;
  GtkDropDown         *from_dropdown;
  GtkEntry            *to_entry;
  GtkEntry            *cc_entry;
  GtkEntry            *bcc_entry;
  GtkToggleButton     *cc_button;
  GtkToggleButton     *bcc_button;
  GtkEntry            *subject_entry;
  GtkTextView         *body_view;
  GtkRevealer         *attachments_revealer;
  GtkListBox          *attachment_list;
};

G_DEFINE_FINAL_TYPE (LbComposerWindow, lb_composer_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  SIGNAL_QUEUED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void start_save       (LbComposerWindow *self);
static void queue_message    (LbComposerWindow *self);
static void completion_free  (Completion       *completion);
static Completion *completion_new (LbComposerWindow *self,
                                   GtkEntry         *entry);

/* ------------------------------------------------------------------ fields */

static char *
get_body (LbComposerWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->body_view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static const char *
entry_text (GtkEntry *entry)
{
  return gtk_editable_get_text (GTK_EDITABLE (entry));
}

/* What the user wrote, as one string to compare: the recipients, the
 * subject, the text and the attachments. */
static char *
fields_state (LbComposerWindow *self)
{
  g_autofree char *body = get_body (self);
  GString *state = g_string_new (NULL);
  guint n = lb_outgoing_message_get_n_attachments (self->message);

  g_string_append_printf (state, "%s\x1f%s\x1f%s\x1f%s\x1f%s", entry_text (self->to_entry),
                          entry_text (self->cc_entry), entry_text (self->bcc_entry),
                          entry_text (self->subject_entry), body);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (state, "\x1f%s:%p", lb_outgoing_message_get_attachment_name (self->message, i),
                            (gpointer) lb_outgoing_message_get_attachment_data (self->message, i));
  return g_string_free (state, FALSE);
}

static gboolean
changed_since_save (LbComposerWindow *self)
{
  g_autofree char *state = fields_state (self);

  return g_strcmp0 (state, self->saved_state) != 0;
}

/* The message gets the fields. */
static void
sync_message (LbComposerWindow *self)
{
  g_autofree char *body = get_body (self);

  if (self->sender != NULL)
    {
      const char *reply_to = lb_identity_get_reply_to (self->sender->identity);

      lb_outgoing_message_set_from (self->message, lb_identity_get_name (self->sender->identity),
                                    lb_identity_get_address (self->sender->identity));
      if (reply_to != NULL && *reply_to != '\0')
        lb_outgoing_message_set_reply_to (self->message, reply_to);
    }
  lb_outgoing_message_set_to (self->message, entry_text (self->to_entry));
  lb_outgoing_message_set_cc (self->message, entry_text (self->cc_entry));
  lb_outgoing_message_set_bcc (self->message, entry_text (self->bcc_entry));
  lb_outgoing_message_set_subject (self->message, entry_text (self->subject_entry));
  lb_outgoing_message_set_body (self->message, body);
}

static void
show_error (LbComposerWindow *self,
            const char       *text)
{
  gtk_label_set_text (self->error_label, text);
  gtk_revealer_set_reveal_child (self->error_revealer, TRUE);
}

static void
dismiss_error_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  LbComposerWindow *self = LB_COMPOSER_WINDOW (widget);

  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
}

static void
update_title (LbComposerWindow *self)
{
  const char *subject = entry_text (self->subject_entry);

  adw_window_title_set_title (self->window_title, *subject != '\0' ? subject : _("New Message"));
  gtk_window_set_title (GTK_WINDOW (self), *subject != '\0' ? subject : _("New Message"));
}

/* ------------------------------------------------------------------ saving the draft */

static void
finish_closing (LbComposerWindow *self)
{
  if (self->held)
    {
      GApplication *app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self)));

      self->held = FALSE;
      if (app != NULL)
        g_application_release (app);
    }
  self->done = TRUE;
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
schedule_save (LbComposerWindow *self)
{
  g_clear_handle_id (&self->autosave_id, g_source_remove);
  if (self->done || self->sending || self->closing || !changed_since_save (self))
    return;
  if (self->saving)
    {
      self->save_again = TRUE;
      return;
    }
  self->autosave_id = g_timeout_add_once (self->autosave_ms, (GSourceOnceFunc) start_save, self);
}

static void
draft_discarded (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(LbComposerWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_drafts_discard_finish (result, &error))
    g_warning ("The draft could not be deleted: %s", error->message);
}

static void
discard_version (LbComposerWindow *self,
                 LbAccount        *account,
                 gint64            key)
{
  if (account == NULL || key == 0)
    return;
  lb_drafts_discard_async (account, key, NULL, draft_discarded, g_object_ref (self));
}

typedef struct
{
  LbComposerWindow *window;
  LbAccount        *account;
  char             *state;
} SaveData;

static void
save_data_free (SaveData *data)
{
  g_object_unref (data->window);
  g_object_unref (data->account);
  g_free (data->state);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SaveData, save_data_free)

static void
draft_saved (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(SaveData) data = user_data;
  LbComposerWindow *self = data->window;
  g_autoptr(GError) error = NULL;
  gint64 key = lb_drafts_save_finish (result, &error);

  self->saving = FALSE;
  if (self->content_box == NULL)
    {
      /* the window is gone (discarded): only its draft is looked after */
      if (key != 0 && self->discarded)
        discard_version (self, data->account, key);
      return;
    }
  gtk_spinner_set_spinning (self->save_spinner, FALSE);
  if (key == 0 && error != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The draft could not be saved: %s"), error->message);

      show_error (self, text);
      if (self->closing)
        {
          /* the window comes back rather than losing what was written */
          self->closing = FALSE;
          gtk_widget_set_visible (GTK_WIDGET (self), TRUE);
          if (self->held)
            {
              self->held = FALSE;
              g_application_release (G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))));
            }
        }
      if (self->send_after_save)
        {
          /* the message is still sent: the draft stays as it was */
          self->send_after_save = FALSE;
          queue_message (self);
        }
      return;
    }

  /* the version in another account (the From changed) goes */
  if (self->draft_account != NULL && self->draft_account != data->account)
    discard_version (self, self->draft_account, self->draft_key);
  self->draft_key = key;
  g_set_object (&self->draft_account, data->account);
  g_free (self->saved_state);
  self->saved_state = g_steal_pointer (&data->state);
  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);

  if (self->discarded)
    {
      discard_version (self, self->draft_account, self->draft_key);
      self->draft_key = 0;
      return;
    }
  if (self->send_after_save)
    {
      self->send_after_save = FALSE;
      queue_message (self);
      return;
    }
  if (self->save_again || (self->closing && changed_since_save (self)))
    {
      self->save_again = FALSE;
      start_save (self);
      return;
    }
  if (self->closing)
    finish_closing (self);
}

static void
start_save (LbComposerWindow *self)
{
  SaveData *data;
  gint64 replaces;

  self->autosave_id = 0;
  if (self->saving || self->sender == NULL)
    return;
  sync_message (self);
  data = g_new0 (SaveData, 1);
  data->window = g_object_ref (self);
  data->account = g_object_ref (self->sender->account);
  data->state = fields_state (self);
  replaces = self->draft_account == self->sender->account ? self->draft_key : 0;
  self->saving = TRUE;
  self->save_again = FALSE;
  gtk_spinner_set_spinning (self->save_spinner, TRUE);
  lb_drafts_save_async (self->sender->account, self->message, replaces, NULL, draft_saved, data);
}

static void
save_draft_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  LbComposerWindow *self = LB_COMPOSER_WINDOW (widget);

  g_clear_handle_id (&self->autosave_id, g_source_remove);
  if (self->saving)
    self->save_again = TRUE;
  else
    start_save (self);
}

static void
fields_changed (LbComposerWindow *self)
{
  if (self->updating)
    return;
  schedule_save (self);
}

/* ------------------------------------------------------------------ discarding */

static void
discard_response (AdwMessageDialog *dialog,
                  const char       *response,
                  gpointer          user_data)
{
  LbComposerWindow *self = user_data;

  if (g_strcmp0 (response, "discard") != 0)
    return;
  g_clear_handle_id (&self->autosave_id, g_source_remove);
  self->discarded = TRUE;
  self->send_after_save = FALSE;
  /* a save under way discards its version when it ends */
  if (!self->saving)
    {
      discard_version (self, self->draft_account, self->draft_key);
      self->draft_key = 0;
    }
  finish_closing (self);
}

static void
discard_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  LbComposerWindow *self = LB_COMPOSER_WINDOW (widget);
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), _("Discard Draft?"),
                                                       _("The message and its saved draft are deleted.")));
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "discard", _("_Discard"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "discard", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (discard_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ------------------------------------------------------------------ sending */

static void
set_busy (LbComposerWindow *self,
          gboolean          busy)
{
  gtk_widget_set_sensitive (self->content_box, !busy);
}

static void
queued (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(LbComposerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  gint64 key = lb_outbox_queue_finish (LB_OUTBOX (object), result, &error);

  if (key == 0 && error != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The message could not be sent: %s"), error->message);

      self->sending = FALSE;
      set_busy (self, FALSE);
      show_error (self, text);
      return;
    }
  /* the draft went with it (the outbox deletes it once the message is
   * safe); one left in another account goes now */
  if (self->draft_account != NULL && self->draft_account != self->sender->account)
    discard_version (self, self->draft_account, self->draft_key);
  self->draft_key = 0;
  g_signal_emit (self, signals[SIGNAL_QUEUED], 0, self->sender->account, key);
  finish_closing (self);
}

static void
queue_message (LbComposerWindow *self)
{
  gint64 draft_key = self->draft_account == self->sender->account ? self->draft_key : 0;

  sync_message (self);
  lb_outbox_queue_async (self->outbox, self->sender->account, self->message, draft_key, NULL,
                         queued, g_object_ref (self));
}

static void
really_send (LbComposerWindow *self)
{
  self->sending = TRUE;
  set_busy (self, TRUE);
  g_clear_handle_id (&self->autosave_id, g_source_remove);
  if (self->saving)
    {
      /* the save's key is the draft the outbox removes */
      self->send_after_save = TRUE;
      return;
    }
  queue_message (self);
}

static void attach_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter);

static void
attachment_response (AdwMessageDialog *dialog,
                     const char       *response,
                     gpointer          user_data)
{
  LbComposerWindow *self = user_data;

  if (g_strcmp0 (response, "send") == 0)
    really_send (self);
  else if (g_strcmp0 (response, "attach") == 0)
    attach_action (GTK_WIDGET (self), "composer.attach", NULL);
}

static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  LbComposerWindow *self = LB_COMPOSER_WINDOW (widget);
  g_autoptr(GError) error = NULL;

  if (self->sending || self->done)
    return;
  if (self->sender == NULL)
    {
      show_error (self, _("There is no account to send from. Add an account first."));
      return;
    }
  if (self->outbox == NULL)
    {
      show_error (self, _("Sending is not available."));
      return;
    }
  if (self->n_loading > 0)
    {
      show_error (self, _("Some files are still being attached. Send again when they are."));
      return;
    }
  sync_message (self);
  if (!lb_outgoing_message_check (self->message, &error))
    {
      show_error (self, error->message);
      return;
    }
  gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
  if (lb_outgoing_message_lacks_attachment (self->message))
    {
      AdwMessageDialog *dialog;

      dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self),
                                                           _("You mentioned an attachment, but none is attached"),
                                                           _("Attach the file, or send the message as it is.")));
      adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "attach", _("_Attach File…"),
                                        "send", _("_Send Anyway"), NULL);
      adw_message_dialog_set_response_appearance (dialog, "attach", ADW_RESPONSE_SUGGESTED);
      adw_message_dialog_set_default_response (dialog, "attach");
      adw_message_dialog_set_close_response (dialog, "cancel");
      g_signal_connect_object (dialog, "response", G_CALLBACK (attachment_response), self, 0);
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }
  really_send (self);
}

/* ------------------------------------------------------------------ attachments */

static void rebuild_attachments (LbComposerWindow *self);

static void
remove_attachment_clicked (GtkButton        *button,
                           LbComposerWindow *self)
{
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "lb-index"));

  if (index >= lb_outgoing_message_get_n_attachments (self->message))
    return;
  lb_outgoing_message_remove_attachment (self->message, index);
  rebuild_attachments (self);
  fields_changed (self);
}

static void
rebuild_attachments (LbComposerWindow *self)
{
  guint n = lb_outgoing_message_get_n_attachments (self->message);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->attachment_list))) != NULL)
    gtk_list_box_remove (self->attachment_list, child);

  for (guint i = 0; i < n; i++)
    {
      GBytes *data = lb_outgoing_message_get_attachment_data (self->message, i);
      const char *name = lb_outgoing_message_get_attachment_name (self->message, i);
      const char *type = lb_outgoing_message_get_attachment_type (self->message, i);
      g_autofree char *size = g_format_size (data != NULL ? g_bytes_get_size (data) : 0);
      g_autofree char *remove_label = g_strdup_printf (_("Remove “%s”"), name != NULL ? name : "");
      g_autoptr(GIcon) icon = type != NULL ? g_content_type_get_symbolic_icon (type) : NULL;
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name != NULL ? name : _("Attachment"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), size);
      if (icon != NULL)
        adw_action_row_add_prefix (ADW_ACTION_ROW (row), gtk_image_new_from_gicon (icon));
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_tooltip_text (remove, remove_label);
      gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL, remove_label, -1);
      g_object_set_data (G_OBJECT (remove), "lb-index", GUINT_TO_POINTER (i));
      g_signal_connect (remove, "clicked", G_CALLBACK (remove_attachment_clicked), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      gtk_list_box_append (self->attachment_list, row);
    }
  gtk_revealer_set_reveal_child (self->attachments_revealer, n > 0);
}

typedef struct
{
  LbComposerWindow *window;
  char             *name;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_object_unref (data->window);
  g_free (data->name);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LoadData, load_data_free)

static void
file_loaded (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(LoadData) data = user_data;
  LbComposerWindow *self = data->window;
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;
  g_autoptr(GBytes) bytes = NULL;

  self->n_loading--;
  if (!g_file_load_contents_finish (G_FILE (object), result, &contents, &length, NULL, &error))
    {
      g_autofree char *text = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      text = g_strdup_printf (_("“%s” could not be attached: %s"), data->name, error->message);
      show_error (self, text);
      return;
    }
  bytes = g_bytes_new_take (contents, length);
  lb_outgoing_message_add_attachment (self->message, data->name, NULL, bytes);
  rebuild_attachments (self);
  fields_changed (self);
}

void
lb_composer_window_attach_file (LbComposerWindow *self,
                                GFile            *file)
{
  LoadData *data;
  g_autofree char *basename = NULL;

  g_return_if_fail (LB_IS_COMPOSER_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  basename = g_file_get_basename (file);
  data = g_new0 (LoadData, 1);
  data->window = g_object_ref (self);
  data->name = basename != NULL ? g_filename_display_name (basename) : g_strdup (_("Attachment"));
  self->n_loading++;
  g_file_load_contents_async (file, self->cancellable, file_loaded, data);
}

static void
chooser_response (GtkNativeDialog *chooser,
                  int              response,
                  gpointer         user_data)
{
  g_autoptr(LbComposerWindow) self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (chooser));
      guint n = g_list_model_get_n_items (files);

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(GFile) file = g_list_model_get_item (files, i);

          lb_composer_window_attach_file (self, file);
        }
    }
  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
}

static void
attach_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  LbComposerWindow *self = LB_COMPOSER_WINDOW (widget);
  GtkFileChooserNative *chooser;

  chooser = gtk_file_chooser_native_new (_("Attach Files"), GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                         _("_Attach"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static gboolean
drop_cb (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         gpointer       user_data)
{
  LbComposerWindow *self = user_data;
  GSList *files;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  files = g_value_get_boxed (value);
  for (GSList *l = files; l != NULL; l = l->next)
    lb_composer_window_attach_file (self, l->data);
  return files != NULL;
}

/* ------------------------------------------------------------------ From and the signature */

static char *
signature_block (LbIdentity *identity)
{
  const char *signature = identity != NULL ? lb_identity_get_signature (identity) : NULL;

  if (signature == NULL || *signature == '\0')
    return NULL;
  return g_strconcat (SIGNATURE_SEP, signature, NULL);
}

static void
append_signature (LbComposerWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->body_view);
  GtkTextIter end;

  g_clear_pointer (&self->signature, g_free);
  self->signature = signature_block (self->sender != NULL ? self->sender->identity : NULL);
  if (self->signature == NULL)
    return;
  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_insert (buffer, &end, self->signature, -1);
}

/* The identity changed: its signature replaces the one before, when the
 * text still ends with that one as it was added. */
static void
swap_signature (LbComposerWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->body_view);
  g_autofree char *body = get_body (self);
  g_autofree char *block = signature_block (self->sender->identity);

  if (self->signature != NULL)
    {
      GtkTextIter start, end;
      glong chars;

      if (!g_str_has_suffix (body, self->signature))
        return;   /* edited: the user's now */
      chars = g_utf8_strlen (self->signature, -1);
      gtk_text_buffer_get_end_iter (buffer, &end);
      start = end;
      gtk_text_iter_backward_chars (&start, (int) chars);
      gtk_text_buffer_delete (buffer, &start, &end);
    }
  g_clear_pointer (&self->signature, g_free);
  if (block != NULL)
    {
      GtkTextIter end;

      gtk_text_buffer_get_end_iter (buffer, &end);
      gtk_text_buffer_insert (buffer, &end, block, -1);
      self->signature = g_steal_pointer (&block);
    }
}

static void
sender_changed_cb (LbComposerWindow *self)
{
  guint selected = gtk_drop_down_get_selected (self->from_dropdown);

  if (self->updating || selected >= self->senders->len)
    return;
  self->sender = self->senders->pdata[selected];
  swap_signature (self);
}

static void
sender_free (Sender *sender)
{
  g_object_unref (sender->account);
  g_object_unref (sender->identity);
  g_free (sender);
}

static char *
sender_label (LbIdentity *identity)
{
  const char *name = lb_identity_get_name (identity);
  const char *address = lb_identity_get_address (identity);

  if (name == NULL || *name == '\0')
    return g_strdup (address != NULL ? address : "");
  return g_strdup_printf ("%s <%s>", name, address != NULL ? address : "");
}

/* Every identity of every account; the one of @account (and @identity,
 * or the one with @address, or the account's default) chosen. */
static void
fill_senders (LbComposerWindow *self,
              LbAccount        *account,
              LbIdentity       *identity,
              const char       *address)
{
  GtkStringList *labels = gtk_string_list_new (NULL);
  guint n_accounts = g_list_model_get_n_items (G_LIST_MODEL (self->manager));
  guint chosen = G_MAXUINT, fallback = G_MAXUINT, any_address = G_MAXUINT;

  for (guint i = 0; i < n_accounts; i++)
    {
      g_autoptr(LbAccount) candidate = g_list_model_get_item (G_LIST_MODEL (self->manager), i);
      GListModel *identities = lb_account_get_identities (candidate);
      guint n = identities != NULL ? g_list_model_get_n_items (identities) : 0;
      LbIdentity *default_identity = lb_account_get_default_identity (candidate);

      for (guint j = 0; j < n; j++)
        {
          Sender *sender = g_new0 (Sender, 1);
          g_autofree char *label = NULL;
          const char *sender_address;

          sender->account = g_object_ref (candidate);
          sender->identity = g_list_model_get_item (identities, j);
          sender_address = lb_identity_get_address (sender->identity);
          label = sender_label (sender->identity);
          gtk_string_list_append (labels, label);
          g_ptr_array_add (self->senders, sender);
          if (candidate != account)
            {
              if (address != NULL && any_address == G_MAXUINT && g_ascii_strcasecmp (address, sender_address) == 0)
                any_address = self->senders->len - 1;
              continue;
            }
          if (identity != NULL && sender->identity == identity)
            chosen = self->senders->len - 1;
          else if (identity == NULL && chosen == G_MAXUINT && address != NULL &&
                   sender_address != NULL && g_ascii_strcasecmp (address, sender_address) == 0)
            chosen = self->senders->len - 1;
          if (sender->identity == default_identity || fallback == G_MAXUINT)
            fallback = self->senders->len - 1;
        }
    }
  if (chosen == G_MAXUINT)
    chosen = account == NULL && any_address != G_MAXUINT ? any_address : fallback;
  if (chosen == G_MAXUINT && self->senders->len > 0)
    chosen = 0;

  self->updating = TRUE;
  gtk_drop_down_set_model (self->from_dropdown, G_LIST_MODEL (labels));
  if (chosen != G_MAXUINT)
    {
      gtk_drop_down_set_selected (self->from_dropdown, chosen);
      self->sender = self->senders->pdata[chosen];
    }
  self->updating = FALSE;
  g_object_unref (labels);
}

/* ------------------------------------------------------------------ address completion */

struct _Completion
{
  LbComposerWindow *window;     /* unowned: it owns the completion */
  GtkEntry         *entry;
  GtkWidget        *popover;
  GtkListBox       *list;
  GtkEventController *keys;     /* on the entry */
  GtkEventController *focus;    /* on the entry */
  GCancellable     *cancellable;
  GPtrArray        *results;    /* "Name <addr>" of every store */
  guint             pending;
  gboolean          inserting;
};

static void
completion_hide (Completion *completion)
{
  gtk_popover_popdown (GTK_POPOVER (completion->popover));
}

/* The text after the last comma, trimmed, and where it starts. */
static char *
current_part (GtkEntry *entry,
              int      *start)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  const char *comma = strrchr (text, ',');
  const char *part = comma != NULL ? comma + 1 : text;

  *start = (int) g_utf8_pointer_to_offset (text, part);
  while (*part == ' ' || *part == '\t')
    part++;
  return g_strstrip (g_strdup (part));
}

static void
completion_accept (Completion    *completion,
                   GtkListBoxRow *row)
{
  GtkEditable *editable = GTK_EDITABLE (completion->entry);
  const char *value = g_object_get_data (G_OBJECT (row), "lb-address");
  g_autofree char *part = NULL;
  g_autofree char *insert = NULL;
  int start, position;

  if (value == NULL)
    return;
  part = current_part (completion->entry, &start);
  insert = g_strdup_printf ("%s%s, ", start > 0 ? " " : "", value);
  completion->inserting = TRUE;
  gtk_editable_delete_text (editable, start, -1);
  position = start;
  gtk_editable_insert_text (editable, insert, -1, &position);
  gtk_editable_set_position (editable, -1);
  completion->inserting = FALSE;
  completion_hide (completion);
}

static void
completion_row_activated (GtkListBox    *list,
                          GtkListBoxRow *row,
                          Completion    *completion)
{
  completion_accept (completion, row);
  gtk_widget_grab_focus (GTK_WIDGET (completion->entry));
}

static gboolean
address_seen (GPtrArray  *addresses,
              const char *text)
{
  const char *at = strrchr (text, '<');
  g_autofree char *key = g_utf8_casefold (at != NULL ? at : text, -1);

  for (guint i = 0; i < addresses->len; i++)
    {
      const char *other_at = strrchr (addresses->pdata[i], '<');
      g_autofree char *other = g_utf8_casefold (other_at != NULL ? other_at : addresses->pdata[i], -1);

      if (g_strcmp0 (key, other) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
completion_show (Completion *completion)
{
  g_autoptr(GPtrArray) shown = g_ptr_array_new ();
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (completion->list))) != NULL)
    gtk_list_box_remove (completion->list, child);
  for (guint i = 0; i < completion->results->len && shown->len < COMPLETION_LIMIT; i++)
    {
      const char *text = completion->results->pdata[i];
      GtkWidget *row, *label;

      if (address_seen (shown, text))
        continue;
      g_ptr_array_add (shown, (gpointer) text);
      label = gtk_label_new (text);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_widget_set_margin_start (label, 6);
      gtk_widget_set_margin_end (label, 6);
      gtk_widget_set_margin_top (label, 3);
      gtk_widget_set_margin_bottom (label, 3);
      row = gtk_list_box_row_new ();
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);
      g_object_set_data_full (G_OBJECT (row), "lb-address", g_strdup (text), g_free);
      gtk_list_box_append (completion->list, row);
    }
  if (shown->len == 0)
    {
      completion_hide (completion);
      return;
    }
  gtk_list_box_select_row (completion->list, NULL);
  gtk_widget_set_size_request (completion->popover, gtk_widget_get_width (GTK_WIDGET (completion->entry)), -1);
  gtk_popover_popup (GTK_POPOVER (completion->popover));
}

typedef struct
{
  Completion   *completion;
  GCancellable *cancellable;
} CompletionQuery;

static void
addresses_completed (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  CompletionQuery *query = user_data;
  g_autoptr(GCancellable) cancellable = query->cancellable;
  Completion *completion = query->completion;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) addresses = lb_store_complete_addresses_finish (LB_STORE (object), result, &error);

  g_free (query);
  if (g_cancellable_is_cancelled (cancellable))
    return;   /* the completion may be gone, or asks again */
  if (addresses != NULL)
    for (guint i = 0; i < addresses->len; i++)
      g_ptr_array_add (completion->results, g_strdup (addresses->pdata[i]));
  else
    g_debug ("Address completion failed: %s", error->message);
  if (--completion->pending == 0)
    completion_show (completion);
}

static void
completion_changed (GtkEditable *editable,
                    Completion  *completion)
{
  LbAccountManager *manager = completion->window->manager;
  g_autofree char *part = NULL;
  GtkRoot *root;
  GtkWidget *focus;
  guint n;
  int start;

  if (completion->inserting || completion->window->updating)
    return;
  g_cancellable_cancel (completion->cancellable);
  g_clear_object (&completion->cancellable);
  part = current_part (completion->entry, &start);
  root = gtk_widget_get_root (GTK_WIDGET (completion->entry));
  focus = root != NULL ? gtk_root_get_focus (root) : NULL;
  if (g_utf8_strlen (part, -1) < 1 || focus == NULL ||
      (focus != GTK_WIDGET (completion->entry) && !gtk_widget_is_ancestor (focus, GTK_WIDGET (completion->entry))))
    {
      completion_hide (completion);
      return;
    }
  completion->cancellable = g_cancellable_new ();
  g_ptr_array_set_size (completion->results, 0);
  completion->pending = 0;
  n = g_list_model_get_n_items (G_LIST_MODEL (manager));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbAccount) account = g_list_model_get_item (G_LIST_MODEL (manager), i);
      LbStore *store = lb_account_get_store (account);
      CompletionQuery *query;

      if (store == NULL)
        continue;
      query = g_new0 (CompletionQuery, 1);
      query->completion = completion;
      query->cancellable = g_object_ref (completion->cancellable);
      completion->pending++;
      lb_store_complete_addresses_async (store, part, COMPLETION_LIMIT, completion->cancellable,
                                         addresses_completed, query);
    }
  if (completion->pending == 0)
    completion_hide (completion);
}

static gboolean
completion_key_pressed (GtkEventControllerKey *controller,
                        guint                  keyval,
                        guint                  keycode,
                        GdkModifierType        state,
                        Completion            *completion)
{
  GtkListBoxRow *selected, *row;
  int index;

  if (!gtk_widget_get_visible (completion->popover) ||
      (state & (GDK_CONTROL_MASK | GDK_ALT_MASK)) != 0)
    return FALSE;
  selected = gtk_list_box_get_selected_row (completion->list);
  index = selected != NULL ? gtk_list_box_row_get_index (selected) : -1;
  switch (keyval)
    {
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      row = gtk_list_box_get_row_at_index (completion->list, index + 1);
      if (row != NULL)
        gtk_list_box_select_row (completion->list, row);
      return TRUE;

    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      row = index > 0 ? gtk_list_box_get_row_at_index (completion->list, index - 1) : NULL;
      gtk_list_box_select_row (completion->list, row);
      return TRUE;

    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
    case GDK_KEY_Tab:
      row = selected != NULL ? selected : gtk_list_box_get_row_at_index (completion->list, 0);
      if (row == NULL)
        return FALSE;
      completion_accept (completion, row);
      return TRUE;

    case GDK_KEY_Escape:
      completion_hide (completion);
      return TRUE;

    default:
      return FALSE;
    }
}

static void
completion_focus_left (GtkEventControllerFocus *controller,
                       Completion              *completion)
{
  completion_hide (completion);
}

static Completion *
completion_new (LbComposerWindow *self,
                GtkEntry         *entry)
{
  Completion *completion = g_new0 (Completion, 1);
  GtkEventController *controller;
  GtkWidget *scroller;

  completion->window = self;
  completion->entry = entry;
  completion->results = g_ptr_array_new_with_free_func (g_free);
  completion->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (completion->list, GTK_SELECTION_SINGLE);
  gtk_list_box_set_activate_on_single_click (completion->list, TRUE);
  g_signal_connect (completion->list, "row-activated", G_CALLBACK (completion_row_activated), completion);
  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scroller), 300);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), GTK_WIDGET (completion->list));
  completion->popover = gtk_popover_new ();
  gtk_popover_set_child (GTK_POPOVER (completion->popover), scroller);
  gtk_popover_set_autohide (GTK_POPOVER (completion->popover), FALSE);
  gtk_popover_set_has_arrow (GTK_POPOVER (completion->popover), FALSE);
  gtk_popover_set_position (GTK_POPOVER (completion->popover), GTK_POS_BOTTOM);
  gtk_widget_set_can_focus (completion->popover, FALSE);
  gtk_widget_set_halign (completion->popover, GTK_ALIGN_START);
  gtk_widget_add_css_class (completion->popover, "menu");
  gtk_widget_set_parent (completion->popover, GTK_WIDGET (entry));

  g_signal_connect (entry, "changed", G_CALLBACK (completion_changed), completion);
  controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect (controller, "key-pressed", G_CALLBACK (completion_key_pressed), completion);
  gtk_widget_add_controller (GTK_WIDGET (entry), controller);
  completion->keys = controller;
  controller = gtk_event_controller_focus_new ();
  g_signal_connect (controller, "leave", G_CALLBACK (completion_focus_left), completion);
  gtk_widget_add_controller (GTK_WIDGET (entry), controller);
  completion->focus = controller;
  return completion;
}

static void
completion_free (Completion *completion)
{
  if (completion == NULL)
    return;
  g_cancellable_cancel (completion->cancellable);
  g_clear_object (&completion->cancellable);
  g_signal_handlers_disconnect_by_data (completion->entry, completion);
  /* the entry outlives the completion a little (the window's dispose):
   * its focus leaving then must not reach it */
  gtk_widget_remove_controller (GTK_WIDGET (completion->entry), completion->keys);
  gtk_widget_remove_controller (GTK_WIDGET (completion->entry), completion->focus);
  gtk_widget_unparent (completion->popover);
  g_ptr_array_unref (completion->results);
  g_free (completion);
}

/* ------------------------------------------------------------------ the fields, filled */

static void
set_entry (GtkEntry   *entry,
           const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (entry), text != NULL ? text : "");
}

static void
fill_fields (LbComposerWindow *self,
             gboolean          add_signature)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->body_view);
  const char *body = lb_outgoing_message_get_body (self->message);
  const char *cc = lb_outgoing_message_get_cc (self->message);
  const char *bcc = lb_outgoing_message_get_bcc (self->message);
  GtkTextIter start;

  self->updating = TRUE;
  set_entry (self->to_entry, lb_outgoing_message_get_to (self->message));
  set_entry (self->cc_entry, cc);
  set_entry (self->bcc_entry, bcc);
  set_entry (self->subject_entry, lb_outgoing_message_get_subject (self->message));
  gtk_toggle_button_set_active (self->cc_button, cc != NULL && *cc != '\0');
  gtk_toggle_button_set_active (self->bcc_button, bcc != NULL && *bcc != '\0');
  gtk_text_buffer_set_text (buffer, body != NULL ? body : "", -1);
  if (add_signature)
    append_signature (self);
  gtk_text_buffer_get_start_iter (buffer, &start);
  gtk_text_buffer_place_cursor (buffer, &start);
  self->updating = FALSE;
  rebuild_attachments (self);
  update_title (self);

  g_free (self->saved_state);
  self->saved_state = fields_state (self);
  if (*entry_text (self->to_entry) == '\0')
    gtk_widget_grab_focus (GTK_WIDGET (self->to_entry));
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->body_view));
}

static void
setup (LbComposerWindow  *self,
       LbAccountManager  *manager,
       LbOutbox          *outbox,
       LbAccount         *account,
       LbIdentity        *identity,
       LbOutgoingMessage *message,
       gint64             draft_key,
       gboolean           add_signature)
{
  self->manager = g_object_ref (manager);
  self->outbox = outbox != NULL ? g_object_ref (outbox) : NULL;
  self->message = message != NULL ? g_object_ref (message) : lb_outgoing_message_new ();
  self->draft_key = draft_key;
  if (draft_key != 0 && account != NULL)
    self->draft_account = g_object_ref (account);
  fill_senders (self, account, identity, lb_outgoing_message_get_from_address (self->message));
  fill_fields (self, add_signature);

  self->completions[0] = completion_new (self, self->to_entry);
  self->completions[1] = completion_new (self, self->cc_entry);
  self->completions[2] = completion_new (self, self->bcc_entry);
}

/* ------------------------------------------------------------------ GObject */

static gboolean
lb_composer_window_close_request (GtkWindow *window)
{
  LbComposerWindow *self = LB_COMPOSER_WINDOW (window);
  GApplication *app;

  if (self->done)
    return GTK_WINDOW_CLASS (lb_composer_window_parent_class)->close_request (window);
  if (self->closing)
    return TRUE;
  if (self->sending)
    return TRUE;   /* it closes once in the Outbox */
  if (!self->saving && !changed_since_save (self))
    return GTK_WINDOW_CLASS (lb_composer_window_parent_class)->close_request (window);

  /* a save first: the window goes, the application stays until then */
  g_clear_handle_id (&self->autosave_id, g_source_remove);
  self->closing = TRUE;
  app = G_APPLICATION (gtk_window_get_application (window));
  if (app != NULL && !self->held)
    {
      self->held = TRUE;
      g_application_hold (app);
    }
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
  if (!self->saving)
    start_save (self);
  return TRUE;
}

static void
show_cc_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  LbComposerWindow *self = LB_COMPOSER_WINDOW (widget);

  gtk_toggle_button_set_active (self->cc_button, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->cc_entry));
}

static void
show_bcc_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  LbComposerWindow *self = LB_COMPOSER_WINDOW (widget);

  gtk_toggle_button_set_active (self->bcc_button, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->bcc_entry));
}

/* A field filled stays shown: its button cannot hide it. */
static void
cc_toggled_cb (GtkToggleButton  *button,
               LbComposerWindow *self)
{
  GtkEntry *entry = button == self->cc_button ? self->cc_entry : self->bcc_entry;

  if (!gtk_toggle_button_get_active (button) && *entry_text (entry) != '\0')
    gtk_toggle_button_set_active (button, TRUE);
  else if (gtk_toggle_button_get_active (button) && !self->updating)
    gtk_widget_grab_focus (GTK_WIDGET (entry));
}

static void
lb_composer_window_dispose (GObject *object)
{
  LbComposerWindow *self = LB_COMPOSER_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->autosave_id, g_source_remove);
  for (guint i = 0; i < G_N_ELEMENTS (self->completions); i++)
    g_clear_pointer (&self->completions[i], completion_free);

  gtk_widget_dispose_template (GTK_WIDGET (self), LB_TYPE_COMPOSER_WINDOW);

  G_OBJECT_CLASS (lb_composer_window_parent_class)->dispose (object);
}

static void
lb_composer_window_finalize (GObject *object)
{
  LbComposerWindow *self = LB_COMPOSER_WINDOW (object);

  g_clear_object (&self->manager);
  g_clear_object (&self->outbox);
  g_clear_object (&self->message);
  g_clear_object (&self->draft_account);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->senders, g_ptr_array_unref);
  g_clear_pointer (&self->signature, g_free);
  g_clear_pointer (&self->saved_state, g_free);

  G_OBJECT_CLASS (lb_composer_window_parent_class)->finalize (object);
}

static void
lb_composer_window_class_init (LbComposerWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = lb_composer_window_dispose;
  object_class->finalize = lb_composer_window_finalize;
  window_class->close_request = lb_composer_window_close_request;

  /**
   * LbComposerWindow::queued:
   * @account: the account it is sent from
   * @key: its key in the account's Outbox
   *
   * The message is in the Outbox; the window closes next.
   */
  signals[SIGNAL_QUEUED] =
    g_signal_new ("queued", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, LB_TYPE_ACCOUNT, G_TYPE_INT64);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/letterbox/Letterbox/lb-composer-window.ui");
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, content_box);
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, save_spinner);
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, error_revealer);
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, error_label);
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, from_dropdown);
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, to_entry);
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, cc_entry);
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, bcc_entry);
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, cc_button);
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, bcc_button);
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, subject_entry);
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, body_view);
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, attachments_revealer);
  gtk_widget_class_bind_template_child (widget_class, LbComposerWindow, attachment_list);

  gtk_widget_class_install_action (widget_class, "composer.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "composer.attach", NULL, attach_action);
  gtk_widget_class_install_action (widget_class, "composer.discard", NULL, discard_action);
  gtk_widget_class_install_action (widget_class, "composer.save-draft", NULL, save_draft_action);
  gtk_widget_class_install_action (widget_class, "composer.show-cc", NULL, show_cc_action);
  gtk_widget_class_install_action (widget_class, "composer.show-bcc", NULL, show_bcc_action);
  gtk_widget_class_install_action (widget_class, "composer.dismiss-error", NULL, dismiss_error_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "composer.send", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, GDK_CONTROL_MASK, "composer.send", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK, "composer.save-draft", NULL);
}

static void
lb_composer_window_init (LbComposerWindow *self)
{
  GtkDropTarget *target;

  self->senders = g_ptr_array_new_with_free_func ((GDestroyNotify) sender_free);
  self->cancellable = g_cancellable_new ();
  self->autosave_ms = AUTOSAVE_MS;
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect_swapped (self->to_entry, "changed", G_CALLBACK (fields_changed), self);
  g_signal_connect_swapped (self->cc_entry, "changed", G_CALLBACK (fields_changed), self);
  g_signal_connect_swapped (self->bcc_entry, "changed", G_CALLBACK (fields_changed), self);
  g_signal_connect_swapped (self->subject_entry, "changed", G_CALLBACK (fields_changed), self);
  g_signal_connect_swapped (self->subject_entry, "changed", G_CALLBACK (update_title), self);
  g_signal_connect_swapped (gtk_text_view_get_buffer (self->body_view), "changed",
                            G_CALLBACK (fields_changed), self);
  g_signal_connect_swapped (self->from_dropdown, "notify::selected", G_CALLBACK (sender_changed_cb), self);
  g_signal_connect (self->cc_button, "toggled", G_CALLBACK (cc_toggled_cb), self);
  g_signal_connect (self->bcc_button, "toggled", G_CALLBACK (cc_toggled_cb), self);

  target = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (target, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (target));
}

/**
 * lb_composer_window_new:
 *
 * Returns: (transfer full): a window with a new message
 */
LbComposerWindow *
lb_composer_window_new (GtkApplication   *application,
                        LbAccountManager *manager,
                        LbOutbox         *outbox,
                        LbAccount        *account,
                        LbIdentity       *identity)
{
  LbComposerWindow *self;

  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (manager), NULL);
  g_return_val_if_fail (outbox == NULL || LB_IS_OUTBOX (outbox), NULL);
  g_return_val_if_fail (account == NULL || LB_IS_ACCOUNT (account), NULL);

  self = g_object_new (LB_TYPE_COMPOSER_WINDOW, "application", application, NULL);
  setup (self, manager, outbox, account, identity, NULL, 0, TRUE);
  return self;
}

/**
 * lb_composer_window_new_from_message:
 *
 * Returns: (transfer full): a window with @message
 */
LbComposerWindow *
lb_composer_window_new_from_message (GtkApplication    *application,
                                     LbAccountManager  *manager,
                                     LbOutbox          *outbox,
                                     LbAccount         *account,
                                     LbOutgoingMessage *message,
                                     gint64             draft_key,
                                     gboolean           add_signature)
{
  LbComposerWindow *self;

  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (manager), NULL);
  g_return_val_if_fail (outbox == NULL || LB_IS_OUTBOX (outbox), NULL);
  g_return_val_if_fail (account == NULL || LB_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (LB_IS_OUTGOING_MESSAGE (message), NULL);

  self = g_object_new (LB_TYPE_COMPOSER_WINDOW, "application", application, NULL);
  setup (self, manager, outbox, account, NULL, message, draft_key, add_signature);
  return self;
}

LbAccount *
lb_composer_window_get_account (LbComposerWindow *self)
{
  g_return_val_if_fail (LB_IS_COMPOSER_WINDOW (self), NULL);

  return self->sender != NULL ? self->sender->account : NULL;
}

LbOutgoingMessage *
lb_composer_window_get_message (LbComposerWindow *self)
{
  g_return_val_if_fail (LB_IS_COMPOSER_WINDOW (self), NULL);

  sync_message (self);
  return self->message;
}

gint64
lb_composer_window_get_draft_key (LbComposerWindow *self)
{
  g_return_val_if_fail (LB_IS_COMPOSER_WINDOW (self), 0);

  return self->draft_key;
}

gboolean
lb_composer_window_get_saving (LbComposerWindow *self)
{
  g_return_val_if_fail (LB_IS_COMPOSER_WINDOW (self), FALSE);

  return self->saving;
}

void
lb_composer_window_set_autosave_delay (LbComposerWindow *self,
                                       guint             ms)
{
  g_return_if_fail (LB_IS_COMPOSER_WINDOW (self));

  self->autosave_ms = ms;
}
