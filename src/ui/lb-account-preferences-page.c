/* lb-account-preferences-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "lb-account-preferences-page.h"

/* LbAccountPreferencesPage edits one account, GNOME style: there is no
 * Save button. A switch, a choice or a number is applied as soon as it
 * changes; a text field when the user presses Enter in it or leaves it,
 * and when the window closes (lb_account_preferences_page_commit()).
 *
 * Each change is set on the LbAccount (or LbIdentity), then the whole
 * account is checked with lb_account_validate(). A change that does not
 * pass is undone on the model at once, so the account never holds an
 * invalid setting; the field keeps what the user typed, marked as an
 * error, and the reason is shown at the top of the page (and as a toast,
 * as the top may be scrolled away). A change that passes is saved with
 * lb_account_manager_save_async(); saves do not overlap: changes made
 * while one is running are written by one more save after it.
 *
 * The providers read the server settings each time they connect, but a
 * connection that is up stays with the old server and user. So once a
 * change of the incoming server, port, security or user name is saved,
 * an open account is closed and opened again (lb_account_close(), then
 * lb_account_open_async()): its folders empty and come back, and anyone
 * showing them follows #LbAccount:opened as for any close. Everything
 * else (SMTP, POP3 rules, the offline window, the check interval,
 * identities, pins) is read when it is next needed and takes effect
 * without reopening. The protocol (IMAP or POP3) cannot be changed:
 * that is a different account. */

typedef enum
{
  FIELD_STRING,   /* trimmed, empty is NULL */
  FIELD_TEXT,     /* multi-line, kept as typed, empty is NULL */
  FIELD_PORT,     /* empty is 0, the standard port */
} FieldKind;

/* What a text field edits: set on the widget as "lb-field" */
typedef struct
{
  GObject    *target;     /* the account or one of its identities */
  const char *property;   /* static */
  FieldKind   kind;
  gboolean    server;     /* a change reopens an open account */
} Field;

struct _LbAccountPreferencesPage
{
  AdwPreferencesPage  parent_instance;

  LbAccountManager   *manager;
  LbSecrets          *secrets;
  LbAccount          *account;

  /* a widget (or the page, for saving) -> what is wrong with it */
  GHashTable         *errors;
  /* the text fields, owned: committed when the window closes */
  GPtrArray          *editors;
  /* the rows this page added to the identity and certificate groups */
  GPtrArray          *identity_rows;
  GPtrArray          *certificate_rows;

  gboolean            saving;
  gboolean            save_again;
  gboolean            reopen;
  gboolean            updating;
  gboolean            removing;
  gboolean            disposed;
  /* weak: where to tell of a removal's last steps, after the page left it */
  GtkWidget          *window;

  /* template children */
  AdwPreferencesGroup *error_group;
  GtkLabel            *error_label;
  AdwEntryRow         *display_name_row;
  AdwPreferencesGroup *incoming_group;
  AdwEntryRow         *incoming_host_row;
  AdwEntryRow         *incoming_port_row;
  AdwComboRow         *incoming_security_row;
  AdwActionRow        *allow_plaintext_row;
  GtkSwitch           *allow_plaintext_switch;
  AdwActionRow        *save_sent_row;
  GtkSwitch           *save_sent_switch;
  AdwEntryRow         *incoming_user_row;
  AdwActionRow        *poll_row;
  GtkSpinButton       *poll_spin;
  AdwPreferencesGroup *offline_group;
  AdwExpanderRow      *offline_row;
  GtkSpinButton       *offline_spin;
  AdwPreferencesGroup *pop3_group;
  AdwComboRow         *keep_row;
  AdwActionRow        *keep_days_row;
  GtkSpinButton       *keep_days_spin;
  AdwActionRow        *delete_here_row;
  GtkSwitch           *delete_here_switch;
  AdwExpanderRow      *size_limit_row;
  GtkSpinButton       *size_limit_spin;
  AdwEntryRow         *smtp_host_row;
  AdwEntryRow         *smtp_port_row;
  AdwComboRow         *smtp_security_row;
  AdwEntryRow         *smtp_user_row;
  AdwPreferencesGroup *identities_group;
  AdwPreferencesGroup *certificates_group;
};

G_DEFINE_FINAL_TYPE (LbAccountPreferencesPage, lb_account_preferences_page, ADW_TYPE_PREFERENCES_PAGE)

enum {
  PROP_0,
  PROP_MANAGER,
  PROP_SECRETS,
  PROP_ACCOUNT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* the choices of keep_row */
enum {
  KEEP_DELETE,
  KEEP_COPY,
  KEEP_DAYS,
};

static void queue_save (LbAccountPreferencesPage *self);

static const char *
account_title (LbAccount *account)
{
  LbIdentity *identity = lb_account_get_default_identity (account);
  const char *name = lb_account_get_display_name (account);

  if (name != NULL && *name != '\0')
    return name;
  if (identity != NULL)
    return lb_identity_get_address (identity);
  return lb_account_get_id (account);
}

/* ------------------------------------------------------------------ errors */

static void
update_errors (LbAccountPreferencesPage *self)
{
  g_autoptr(GString) text = g_string_new (NULL);
  GHashTableIter iter;
  gpointer message;

  /* an answer from the keyring or the disk after the window went */
  if (self->disposed)
    return;

  g_hash_table_iter_init (&iter, self->errors);
  while (g_hash_table_iter_next (&iter, NULL, &message))
    {
      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append (text, message);
    }

  gtk_label_set_text (self->error_label, text->str);
  gtk_widget_set_visible (GTK_WIDGET (self->error_group), text->len > 0);
}

static void
show_toast (LbAccountPreferencesPage *self,
            const char               *message)
{
  GtkWidget *window = self->removing ? self->window : GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (self)));

  if (ADW_IS_PREFERENCES_WINDOW (window) && gtk_widget_get_visible (window))
    {
      AdwToast *toast = adw_toast_new (message);

      adw_toast_set_timeout (toast, 5);
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (window), toast);
    }
}

/* whether @key is a row or text view, to mark as wrong */
static gboolean
is_field (gpointer key)
{
  return ADW_IS_PREFERENCES_ROW (key) || GTK_IS_TEXT_VIEW (key);
}

/* @key is the widget that has the problem, or the page for a problem of
 * the whole account */
static void
set_error (LbAccountPreferencesPage *self,
           gpointer                  key,
           const char               *message)
{
  const char *known = g_hash_table_lookup (self->errors, key);

  if (is_field (key))
    {
      gtk_widget_add_css_class (GTK_WIDGET (key), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (key), message);
    }
  if (g_strcmp0 (known, message) != 0)
    show_toast (self, message);
  g_hash_table_replace (self->errors, key, g_strdup (message));
  update_errors (self);
}

static void
clear_error (LbAccountPreferencesPage *self,
             gpointer                  key)
{
  if (!g_hash_table_remove (self->errors, key))
    return;

  if (is_field (key))
    {
      gtk_widget_remove_css_class (GTK_WIDGET (key), "error");
      gtk_widget_set_tooltip_text (GTK_WIDGET (key), NULL);
    }
  update_errors (self);
}

/* ------------------------------------------------------------------ saving */

static void
reopen_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(LbAccountPreferencesPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_account_open_finish (LB_ACCOUNT (object), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    set_error (self, self, error->message);
}

static void
save_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(LbAccountPreferencesPage) self = user_data;
  g_autoptr(GError) error = NULL;

  self->saving = FALSE;
  if (!lb_account_manager_save_finish (LB_ACCOUNT_MANAGER (object), result, &error))
    {
      g_autofree char *message = g_strdup_printf (_("The changes could not be saved: %s"), error->message);

      g_warning ("Saving account %s: %s", lb_account_get_id (self->account), error->message);
      set_error (self, self, message);
    }
  else
    {
      clear_error (self, self);
    }

  if (self->save_again)
    {
      queue_save (self);
      return;
    }

  /* the new server settings take effect on a new connection */
  if (self->reopen && error == NULL && !self->removing)
    {
      self->reopen = FALSE;
      if (lb_account_get_opened (self->account))
        {
          g_debug ("Reopening account %s for its new server settings", lb_account_get_id (self->account));
          lb_account_close (self->account);
          lb_account_open_async (self->account, NULL, reopen_cb, g_object_ref (self));
        }
    }
}

static void
queue_save (LbAccountPreferencesPage *self)
{
  if (self->removing)
    return;

  if (self->saving)
    {
      self->save_again = TRUE;
      return;
    }

  self->saving = TRUE;
  self->save_again = FALSE;
  lb_account_manager_save_async (self->manager, self->account, NULL, save_cb, g_object_ref (self));
}

/* Sets @property of @target (the account or an identity) to @value,
 * keeps it and saves if the account is still valid, undoes it and shows
 * why otherwise. @key is the widget the value comes from. */
static gboolean
commit_value (LbAccountPreferencesPage *self,
              gpointer                  key,
              GObject                  *target,
              const char               *property,
              const GValue             *value,
              gboolean                  server)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (target), property);
  g_auto(GValue) old = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (pspec != NULL, FALSE);

  g_value_init (&old, pspec->value_type);
  g_object_get_property (target, property, &old);
  if (g_param_values_cmp (pspec, &old, value) == 0)
    {
      clear_error (self, key);
      return TRUE;
    }

  g_object_set_property (target, property, value);
  if (!lb_account_validate (self->account, &error))
    {
      g_object_set_property (target, property, &old);
      set_error (self, key, error->message);
      return FALSE;
    }

  clear_error (self, key);
  if (server)
    self->reopen = TRUE;
  queue_save (self);
  return TRUE;
}

static void
commit_uint (LbAccountPreferencesPage *self,
             gpointer                  key,
             const char               *property,
             guint                     number)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_UINT);
  g_value_set_uint (&value, number);
  commit_value (self, key, G_OBJECT (self->account), property, &value, FALSE);
}

static void
commit_boolean (LbAccountPreferencesPage *self,
                gpointer                  key,
                const char               *property,
                gboolean                  on,
                gboolean                  server)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_BOOLEAN);
  g_value_set_boolean (&value, on);
  commit_value (self, key, G_OBJECT (self->account), property, &value, server);
}

static void
commit_security (LbAccountPreferencesPage *self,
                 gpointer                  key,
                 const char               *property,
                 guint                     selected)
{
  g_auto(GValue) value = G_VALUE_INIT;
  LbNetSecurity security;

  switch (selected)
    {
    case 0:
      security = LB_NET_SECURITY_TLS;
      break;
    case 1:
      security = LB_NET_SECURITY_STARTTLS;
      break;
    case 2:
      security = LB_NET_SECURITY_NONE;
      break;
    default:
      return;
    }

  g_value_init (&value, LB_TYPE_NET_SECURITY);
  g_value_set_enum (&value, security);
  commit_value (self, key, G_OBJECT (self->account), property, &value, TRUE);
}

/* ------------------------------------------------------------------ text fields */

static void
field_free (Field *field)
{
  g_object_unref (field->target);
  g_free (field);
}

static char *
editor_get_text (GtkWidget *editor)
{
  if (GTK_IS_TEXT_VIEW (editor))
    {
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (editor));
      GtkTextIter start, end;

      gtk_text_buffer_get_bounds (buffer, &start, &end);
      return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
    }

  return g_strdup (gtk_editable_get_text (GTK_EDITABLE (editor)));
}

static void
editor_set_text (GtkWidget  *editor,
                 const char *text)
{
  if (GTK_IS_TEXT_VIEW (editor))
    gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (editor)), text, -1);
  else
    gtk_editable_set_text (GTK_EDITABLE (editor), text);
}

/* Shows the model's value in @editor */
static void
fill_editor (GtkWidget *editor)
{
  Field *field = g_object_get_data (G_OBJECT (editor), "lb-field");

  if (field->kind == FIELD_PORT)
    {
      guint port = 0;
      g_autofree char *text = NULL;

      g_object_get (field->target, field->property, &port, NULL);
      text = port != 0 ? g_strdup_printf ("%u", port) : g_strdup ("");
      editor_set_text (editor, text);
    }
  else
    {
      g_autofree char *text = NULL;

      g_object_get (field->target, field->property, &text, NULL);
      editor_set_text (editor, text != NULL ? text : "");
    }
}

static void
commit_editor (LbAccountPreferencesPage *self,
               GtkWidget                *editor)
{
  Field *field = g_object_get_data (G_OBJECT (editor), "lb-field");
  g_autofree char *text = editor_get_text (editor);
  g_auto(GValue) value = G_VALUE_INIT;

  /* a field losing the focus as the window goes: the window's
   * close-request committed it already */
  if (self->updating || self->removing || self->disposed)
    return;

  switch (field->kind)
    {
    case FIELD_PORT:
      {
        guint64 port = 0;

        g_strstrip (text);
        if (*text != '\0' &&
            !g_ascii_string_to_unsigned (text, 10, 1, G_MAXUINT16, &port, NULL))
          {
            g_autofree char *message =
              g_strdup_printf (_("“%s” is not a port number: give a number from 1 to 65535, "
                                 "or leave the port empty to use the standard one"), text);

            set_error (self, editor, message);
            return;
          }
        g_value_init (&value, G_TYPE_UINT);
        g_value_set_uint (&value, (guint) port);
      }
      break;

    case FIELD_STRING:
      g_strstrip (text);
      g_value_init (&value, G_TYPE_STRING);
      g_value_set_string (&value, *text != '\0' ? text : NULL);
      break;

    case FIELD_TEXT:
      g_value_init (&value, G_TYPE_STRING);
      g_value_set_string (&value, *text != '\0' ? text : NULL);
      break;

    default:
      g_return_if_reached ();
    }

  commit_value (self, editor, field->target, field->property, &value, field->server);
}

static void
editor_activated_cb (GtkWidget                *editor,
                     LbAccountPreferencesPage *self)
{
  commit_editor (self, editor);
}

static void
editor_left_cb (GtkEventControllerFocus  *controller,
                LbAccountPreferencesPage *self)
{
  commit_editor (self, gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (controller)));
}

/* Makes @editor (an AdwEntryRow or a GtkTextView) edit @property of
 * @target: filled now, committed when left, on Enter (not in a text
 * view) and when the window closes. */
static void
add_editor (LbAccountPreferencesPage *self,
            GtkWidget                *editor,
            GObject                  *target,
            const char               *property,
            FieldKind                 kind,
            gboolean                  server)
{
  Field *field = g_new0 (Field, 1);
  GtkEventController *focus = gtk_event_controller_focus_new ();

  field->target = g_object_ref (target);
  field->property = property;
  field->kind = kind;
  field->server = server;
  g_object_set_data_full (G_OBJECT (editor), "lb-field", field, (GDestroyNotify) field_free);

  self->updating = TRUE;
  fill_editor (editor);
  self->updating = FALSE;

  g_signal_connect (focus, "leave", G_CALLBACK (editor_left_cb), self);
  gtk_widget_add_controller (editor, focus);
  if (ADW_IS_ENTRY_ROW (editor))
    g_signal_connect (editor, "entry-activated", G_CALLBACK (editor_activated_cb), self);

  g_ptr_array_add (self->editors, g_object_ref (editor));
}

/* ------------------------------------------------------------------ identities */

static void rebuild_identities (LbAccountPreferencesPage *self);

static void
forget_identity_editors (LbAccountPreferencesPage *self)
{
  for (guint i = self->editors->len; i > 0; i--)
    {
      GtkWidget *editor = self->editors->pdata[i - 1];
      Field *field = g_object_get_data (G_OBJECT (editor), "lb-field");

      if (LB_IS_IDENTITY (field->target))
        {
          clear_error (self, editor);
          g_ptr_array_remove_index (self->editors, i - 1);
        }
    }
}

static void
make_default_clicked_cb (GtkButton                *button,
                         LbAccountPreferencesPage *self)
{
  LbIdentity *identity = g_object_get_data (G_OBJECT (button), "lb-identity");

  lb_account_set_default_identity (self->account, identity);
  queue_save (self);
}

static void
remove_identity_clicked_cb (GtkButton                *button,
                            LbAccountPreferencesPage *self)
{
  g_autoptr(LbIdentity) identity = g_object_ref (g_object_get_data (G_OBJECT (button), "lb-identity"));
  g_autoptr(GError) error = NULL;

  if (!lb_account_remove_identity (self->account, identity))
    return;

  if (!lb_account_validate (self->account, &error))
    {
      /* the last one: the button is off then, but never save that */
      lb_account_add_identity (self->account, identity);
      set_error (self, self, error->message);
      return;
    }
  queue_save (self);
}

/* "Name <address>", or the address alone */
static void
update_identity_title (LbIdentity     *identity,
                       GParamSpec     *pspec,
                       AdwExpanderRow *row)
{
  const char *name = lb_identity_get_name (identity);
  const char *address = lb_identity_get_address (identity);

  if (name != NULL && *name != '\0')
    {
      g_autofree char *title = g_strdup_printf ("%s <%s>", name, address);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
    }
  else
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), address);
    }
}

static GtkWidget *
make_identity_row (LbAccountPreferencesPage *self,
                   LbIdentity               *identity,
                   gboolean                  is_default,
                   gboolean                  is_only)
{
  AdwExpanderRow *row = ADW_EXPANDER_ROW (adw_expander_row_new ());
  GtkWidget *entry;
  GtkWidget *signature_row, *box, *label, *frame, *view;
  GtkWidget *buttons_row, *buttons, *button;

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  update_identity_title (identity, NULL, row);
  g_signal_connect_object (identity, "notify::name", G_CALLBACK (update_identity_title), row, 0);
  g_signal_connect_object (identity, "notify::address", G_CALLBACK (update_identity_title), row, 0);
  if (is_default)
    adw_expander_row_set_subtitle (row, _("Default"));

  entry = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (entry), _("Name"));
  add_editor (self, entry, G_OBJECT (identity), "name", FIELD_STRING, FALSE);
  adw_expander_row_add_row (row, entry);

  entry = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (entry), _("Email Address"));
  adw_entry_row_set_input_purpose (ADW_ENTRY_ROW (entry), GTK_INPUT_PURPOSE_EMAIL);
  add_editor (self, entry, G_OBJECT (identity), "address", FIELD_STRING, FALSE);
  adw_expander_row_add_row (row, entry);

  entry = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (entry), _("Reply-To Address (optional)"));
  adw_entry_row_set_input_purpose (ADW_ENTRY_ROW (entry), GTK_INPUT_PURPOSE_EMAIL);
  add_editor (self, entry, G_OBJECT (identity), "reply-to", FIELD_STRING, FALSE);
  adw_expander_row_add_row (row, entry);

  /* the signature: several lines */
  signature_row = gtk_list_box_row_new ();
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (signature_row), FALSE);
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 8);
  gtk_widget_set_margin_bottom (box, 12);
  label = gtk_label_new (_("Signature"));
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (box), label);
  view = gtk_text_view_new ();
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_accepts_tab (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (view), 6);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (view), 6);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (view), 6);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (view), 6);
  gtk_widget_set_size_request (view, -1, 80);
  gtk_accessible_update_property (GTK_ACCESSIBLE (view),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Signature"),
                                  -1);
  add_editor (self, view, G_OBJECT (identity), "signature", FIELD_TEXT, FALSE);
  frame = gtk_frame_new (NULL);
  gtk_frame_set_child (GTK_FRAME (frame), view);
  gtk_box_append (GTK_BOX (box), frame);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (signature_row), box);
  adw_expander_row_add_row (row, signature_row);

  /* make default, remove */
  buttons_row = gtk_list_box_row_new ();
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (buttons_row), FALSE);
  buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_halign (buttons, GTK_ALIGN_END);
  gtk_widget_set_margin_start (buttons, 12);
  gtk_widget_set_margin_end (buttons, 12);
  gtk_widget_set_margin_top (buttons, 8);
  gtk_widget_set_margin_bottom (buttons, 8);

  button = gtk_button_new_with_mnemonic (_("Make _Default"));
  gtk_widget_set_sensitive (button, !is_default);
  g_object_set_data_full (G_OBJECT (button), "lb-identity", g_object_ref (identity), g_object_unref);
  g_signal_connect (button, "clicked", G_CALLBACK (make_default_clicked_cb), self);
  gtk_box_append (GTK_BOX (buttons), button);

  button = gtk_button_new_with_mnemonic (_("_Remove Identity"));
  gtk_widget_add_css_class (button, "destructive-action");
  gtk_widget_set_sensitive (button, !is_only);
  if (is_only)
    gtk_widget_set_tooltip_text (button, _("An account needs at least one address"));
  g_object_set_data_full (G_OBJECT (button), "lb-identity", g_object_ref (identity), g_object_unref);
  g_signal_connect (button, "clicked", G_CALLBACK (remove_identity_clicked_cb), self);
  gtk_box_append (GTK_BOX (buttons), button);

  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (buttons_row), buttons);
  adw_expander_row_add_row (row, buttons_row);

  g_object_set_data_full (G_OBJECT (row), "lb-identity", g_object_ref (identity), g_object_unref);
  return GTK_WIDGET (row);
}

static void
rebuild_identities (LbAccountPreferencesPage *self)
{
  GListModel *identities = lb_account_get_identities (self->account);
  guint n = g_list_model_get_n_items (identities);
  g_autoptr(GHashTable) expanded = g_hash_table_new (NULL, NULL);

  /* what the user typed in an identity's fields and did not leave yet */
  for (guint i = 0; i < self->editors->len; i++)
    {
      GtkWidget *editor = self->editors->pdata[i];
      Field *field = g_object_get_data (G_OBJECT (editor), "lb-field");

      if (LB_IS_IDENTITY (field->target))
        commit_editor (self, editor);
    }
  forget_identity_editors (self);

  for (guint i = 0; i < self->identity_rows->len; i++)
    {
      GtkWidget *row = self->identity_rows->pdata[i];

      if (adw_expander_row_get_expanded (ADW_EXPANDER_ROW (row)))
        g_hash_table_add (expanded, g_object_get_data (G_OBJECT (row), "lb-identity"));
      adw_preferences_group_remove (self->identities_group, row);
    }
  g_ptr_array_set_size (self->identity_rows, 0);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbIdentity) identity = g_list_model_get_item (identities, i);
      GtkWidget *row = make_identity_row (self, identity, i == 0, n == 1);

      adw_expander_row_set_expanded (ADW_EXPANDER_ROW (row),
                                     g_hash_table_contains (expanded, identity));
      adw_preferences_group_add (self->identities_group, row);
      g_ptr_array_add (self->identity_rows, row);
    }
}

static void
identities_changed_cb (GListModel               *identities,
                       guint                     position,
                       guint                     removed,
                       guint                     added,
                       LbAccountPreferencesPage *self)
{
  rebuild_identities (self);
}

static void
add_identity_response_cb (AdwMessageDialog         *dialog,
                          const char               *response,
                          LbAccountPreferencesPage *self)
{
  GtkEditable *name_entry = g_object_get_data (G_OBJECT (dialog), "lb-name");
  GtkEditable *address_entry = g_object_get_data (G_OBJECT (dialog), "lb-address");
  g_autofree char *name = NULL;
  g_autofree char *address = NULL;
  g_autoptr(LbIdentity) identity = NULL;
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (response, "add") != 0)
    return;

  name = g_strstrip (g_strdup (gtk_editable_get_text (name_entry)));
  address = g_strstrip (g_strdup (gtk_editable_get_text (address_entry)));
  identity = lb_identity_new (*name != '\0' ? name : NULL, address);

  lb_account_add_identity (self->account, identity);
  if (!lb_account_validate (self->account, &error))
    {
      lb_account_remove_identity (self->account, identity);
      set_error (self, self->identities_group, error->message);
      return;
    }
  clear_error (self, self->identities_group);
  queue_save (self);
}

static void
add_identity_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  LbAccountPreferencesPage *self = LB_ACCOUNT_PREFERENCES_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkWidget *dialog;
  GtkWidget *box, *name_entry, *address_entry;

  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   _("Add Identity"),
                                   _("Another name and address to send mail as from this account. "
                                     "The server must accept mail from that address."));
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  name_entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (name_entry), _("Your Name"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (name_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Name"), -1);
  address_entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (address_entry), _("you@example.org"));
  gtk_entry_set_input_purpose (GTK_ENTRY (address_entry), GTK_INPUT_PURPOSE_EMAIL);
  gtk_entry_set_activates_default (GTK_ENTRY (address_entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (address_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Email Address"), -1);
  gtk_box_append (GTK_BOX (box), name_entry);
  gtk_box_append (GTK_BOX (box), address_entry);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  g_object_set_data (G_OBJECT (dialog), "lb-name", name_entry);
  g_object_set_data (G_OBJECT (dialog), "lb-address", address_entry);

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "add", _("_Add"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "add",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "add");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (add_identity_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ------------------------------------------------------------------ pinned certificates */

static void
unpin_clicked_cb (GtkButton                *button,
                  LbAccountPreferencesPage *self)
{
  const char *host = g_object_get_data (G_OBJECT (button), "lb-host");
  guint port = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "lb-port"));

  if (lb_account_unpin_certificate (self->account, host, (guint16) port))
    queue_save (self);
}

static void
rebuild_certificates (LbAccountPreferencesPage *self)
{
  const char * const *pins = lb_account_get_pinned_certificates (self->account);
  guint shown = 0;

  for (guint i = 0; i < self->certificate_rows->len; i++)
    adw_preferences_group_remove (self->certificates_group, self->certificate_rows->pdata[i]);
  g_ptr_array_set_size (self->certificate_rows, 0);

  for (guint i = 0; pins != NULL && pins[i] != NULL; i++)
    {
      /* "host:port FINGERPRINT" */
      const char *space = strchr (pins[i], ' ');
      g_autofree char *server = NULL;
      const char *colon;
      guint64 port;
      GtkWidget *row, *button;

      if (space == NULL)
        continue;
      server = g_strndup (pins[i], space - pins[i]);
      colon = strrchr (server, ':');
      if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 1, G_MAXUINT16, &port, NULL))
        continue;

      row = adw_action_row_new ();
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), server);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), space + 1);
      adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
      gtk_widget_add_css_class (row, "property");

      button = gtk_button_new_from_icon_name ("user-trash-symbolic");
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_tooltip_text (button, _("Stop Trusting This Certificate"));
      g_object_set_data_full (G_OBJECT (button), "lb-host",
                              g_strndup (server, colon - server), g_free);
      g_object_set_data (G_OBJECT (button), "lb-port", GUINT_TO_POINTER ((guint) port));
      g_signal_connect (button, "clicked", G_CALLBACK (unpin_clicked_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

      adw_preferences_group_add (self->certificates_group, row);
      g_ptr_array_add (self->certificate_rows, row);
      shown++;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->certificates_group), shown > 0);
}

/* ------------------------------------------------------------------ choices and numbers */

static void
update_pop3_rows (LbAccountPreferencesPage *self)
{
  guint keep = adw_combo_row_get_selected (self->keep_row);

  gtk_widget_set_visible (GTK_WIDGET (self->keep_days_row), keep == KEEP_DAYS);
  gtk_widget_set_visible (GTK_WIDGET (self->delete_here_row), keep != KEEP_DELETE);

  switch (keep)
    {
    case KEEP_DELETE:
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->keep_row),
                                   _("A message is deleted from the server once it is safely stored here. "
                                     "Other devices will not get it."));
      break;
    case KEEP_COPY:
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->keep_row),
                                   _("A copy stays on the server, where other devices can download it too."));
      break;
    case KEEP_DAYS:
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->keep_row),
                                   _("A copy stays on the server for the days below after it was downloaded, "
                                     "then it is deleted there."));
      break;
    default:
      break;
    }
}

static void
update_security_rows (LbAccountPreferencesPage *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->allow_plaintext_row),
                          lb_account_get_incoming_security (self->account) == LB_NET_SECURITY_NONE);
}

static void
incoming_security_changed_cb (LbAccountPreferencesPage *self)
{
  if (self->updating)
    return;
  commit_security (self, self->incoming_security_row, "incoming-security",
                   adw_combo_row_get_selected (self->incoming_security_row));
  update_security_rows (self);
}

static void
smtp_security_changed_cb (LbAccountPreferencesPage *self)
{
  if (self->updating)
    return;
  commit_security (self, self->smtp_security_row, "smtp-security",
                   adw_combo_row_get_selected (self->smtp_security_row));
}

static void
allow_plaintext_changed_cb (LbAccountPreferencesPage *self)
{
  if (self->updating)
    return;
  commit_boolean (self, self->allow_plaintext_row, "allow-plaintext-password",
                  gtk_switch_get_active (self->allow_plaintext_switch), TRUE);
}

static void
save_sent_changed_cb (LbAccountPreferencesPage *self)
{
  if (self->updating)
    return;
  commit_boolean (self, self->save_sent_row, "save-sent-copy",
                  gtk_switch_get_active (self->save_sent_switch), FALSE);
}

static void
poll_changed_cb (LbAccountPreferencesPage *self)
{
  if (self->updating)
    return;
  commit_uint (self, self->poll_row, "poll-minutes",
               (guint) gtk_spin_button_get_value_as_int (self->poll_spin));
}

static void
offline_changed_cb (LbAccountPreferencesPage *self)
{
  gboolean on = adw_expander_row_get_enable_expansion (self->offline_row);

  if (self->updating)
    return;
  commit_uint (self, self->offline_row, "offline-days",
               on ? (guint) gtk_spin_button_get_value_as_int (self->offline_spin) : 0);
}

static void
keep_changed_cb (LbAccountPreferencesPage *self)
{
  guint keep = adw_combo_row_get_selected (self->keep_row);
  guint days = (guint) gtk_spin_button_get_value_as_int (self->keep_days_spin);
  gboolean changed;

  update_pop3_rows (self);
  if (self->updating)
    return;

  changed = lb_account_get_pop3_keep_on_server (self->account) != (keep != KEEP_DELETE);
  if (keep != KEEP_DELETE)
    changed |= lb_account_get_pop3_delete_after_days (self->account) != (keep == KEEP_DAYS ? days : 0);
  if (!changed)
    return;

  /* both rules at once: nothing to check, a number of days is valid */
  lb_account_set_pop3_keep_on_server (self->account, keep != KEEP_DELETE);
  if (keep != KEEP_DELETE)
    lb_account_set_pop3_delete_after_days (self->account, keep == KEEP_DAYS ? days : 0);
  queue_save (self);
}

static void
delete_here_changed_cb (LbAccountPreferencesPage *self)
{
  if (self->updating)
    return;
  commit_boolean (self, self->delete_here_row, "pop3-delete-when-deleted-here",
                  gtk_switch_get_active (self->delete_here_switch), FALSE);
}

static void
size_limit_changed_cb (LbAccountPreferencesPage *self)
{
  gboolean on = adw_expander_row_get_enable_expansion (self->size_limit_row);

  if (self->updating)
    return;
  commit_uint (self, self->size_limit_row, "pop3-size-limit",
               on ? (guint) gtk_spin_button_get_value_as_int (self->size_limit_spin) : 0);
}

static guint
security_index (LbNetSecurity security)
{
  switch (security)
    {
    case LB_NET_SECURITY_TLS:
      return 0;
    case LB_NET_SECURITY_STARTTLS:
      return 1;
    case LB_NET_SECURITY_NONE:
      return 2;
    default:
      return 0;
    }
}

/* Shows the account's choices and numbers (the text fields fill
 * themselves in add_editor()). */
static void
fill (LbAccountPreferencesPage *self)
{
  LbAccount *account = self->account;
  gboolean pop3 = lb_account_get_incoming_protocol (account) == LB_INCOMING_POP3;
  guint offline = lb_account_get_offline_days (account);
  guint limit = lb_account_get_pop3_size_limit (account);
  guint keep_days = lb_account_get_pop3_delete_after_days (account);

  self->updating = TRUE;

  adw_preferences_group_set_title (self->incoming_group,
                                   pop3 ? _("Incoming Mail (POP3)") : _("Incoming Mail (IMAP)"));
  adw_combo_row_set_selected (self->incoming_security_row,
                              security_index (lb_account_get_incoming_security (account)));
  gtk_switch_set_active (self->allow_plaintext_switch, lb_account_get_allow_plaintext_password (account));
  gtk_switch_set_active (self->save_sent_switch, lb_account_get_save_sent_copy (account));
  update_security_rows (self);
  adw_combo_row_set_selected (self->smtp_security_row,
                              security_index (lb_account_get_smtp_security (account)));

  gtk_spin_button_set_value (self->poll_spin, lb_account_get_poll_minutes (account));
  adw_action_row_set_subtitle (self->poll_row,
                               pop3 ? _("0 checks only when you ask")
                                    : _("The Inbox and the open folder learn of new mail at once; "
                                        "the other folders are checked this often. 0 never checks them."));

  gtk_widget_set_visible (GTK_WIDGET (self->offline_group), !pop3);
  if (offline > 0)
    gtk_spin_button_set_value (self->offline_spin, offline);
  adw_expander_row_set_enable_expansion (self->offline_row, offline > 0);
  adw_expander_row_set_expanded (self->offline_row, offline > 0);

  gtk_widget_set_visible (GTK_WIDGET (self->pop3_group), pop3);
  if (keep_days > 0)
    gtk_spin_button_set_value (self->keep_days_spin, keep_days);
  if (!lb_account_get_pop3_keep_on_server (account))
    adw_combo_row_set_selected (self->keep_row, KEEP_DELETE);
  else
    adw_combo_row_set_selected (self->keep_row, keep_days > 0 ? KEEP_DAYS : KEEP_COPY);
  gtk_switch_set_active (self->delete_here_switch, lb_account_get_pop3_delete_when_deleted_here (account));
  update_pop3_rows (self);
  if (limit > 0)
    gtk_spin_button_set_value (self->size_limit_spin, limit);
  adw_expander_row_set_enable_expansion (self->size_limit_row, limit > 0);
  adw_expander_row_set_expanded (self->size_limit_row, limit > 0);

  self->updating = FALSE;
}

static void
title_changed_cb (LbAccountPreferencesPage *self)
{
  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (self), account_title (self->account));
}

/* ------------------------------------------------------------------ passwords */

static void
store_password_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(LbAccountPreferencesPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_secrets_store_finish (LB_SECRETS (object), result, &error))
    {
      g_autofree char *message = g_strdup_printf (_("The password was not changed: %s"), error->message);

      set_error (self, self->secrets, message);
      return;
    }

  clear_error (self, self->secrets);
  show_toast (self, _("Password changed"));
}

static void
change_password_response_cb (AdwMessageDialog         *dialog,
                             const char               *response,
                             LbAccountPreferencesPage *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "lb-password");
  gboolean smtp = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "lb-smtp"));
  LbSecretKey key = { NULL, NULL, NULL, NULL };
  g_autofree char *label = NULL;
  const char *password;

  if (g_strcmp0 (response, "change") != 0)
    return;

  key.account_id = lb_account_get_id (self->account);
  if (smtp)
    {
      key.protocol = "smtp";
      key.host = lb_account_get_smtp_host (self->account);
      key.user = lb_account_get_smtp_user (self->account);
    }
  else
    {
      key.protocol = lb_incoming_protocol_to_string (lb_account_get_incoming_protocol (self->account));
      key.host = lb_account_get_incoming_host (self->account);
      key.user = lb_account_get_incoming_user (self->account);
    }

  /* Translators: the name the keyring shows for a saved password:
   * “Letterbox: imap password for alice@example.org” */
  label = g_strdup_printf (_("Letterbox: %s password for %s"), key.protocol,
                           key.user != NULL ? key.user : key.host);
  password = gtk_editable_get_text (entry);
  lb_secrets_store_async (self->secrets, &key, label, password, NULL,
                          store_password_cb, g_object_ref (self));
  /* no copy of the password stays in the entry */
  gtk_editable_set_text (entry, "");
}

static void
change_password_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  LbAccountPreferencesPage *self = LB_ACCOUNT_PREFERENCES_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  gboolean smtp = g_strcmp0 (g_variant_get_string (parameter, NULL), "smtp") == 0;
  const char *host = smtp ? lb_account_get_smtp_host (self->account)
                          : lb_account_get_incoming_host (self->account);
  const char *user = smtp ? lb_account_get_smtp_user (self->account)
                          : lb_account_get_incoming_user (self->account);
  g_autofree char *body = NULL;
  GtkWidget *dialog, *list, *entry;

  if (host == NULL)
    {
      set_error (self, self->secrets, _("Give the outgoing mail server first"));
      return;
    }

  /* Translators: the user name, then the server's host name */
  body = g_strdup_printf (_("The password of “%s” on %s. It is kept in the system keyring."),
                          user != NULL ? user : "", host);
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   smtp ? _("Change Outgoing Mail Password") : _("Change Incoming Mail Password"),
                                   body);
  /* an AdwPasswordEntryRow: GTK 4.8's GtkPasswordEntry outlives a
   * destroyed dialog in a signal handler */
  list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  entry = adw_password_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (entry), _("New Password"));
  gtk_list_box_append (GTK_LIST_BOX (list), entry);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), list);
  g_object_set_data (G_OBJECT (dialog), "lb-password", entry);
  g_object_set_data (G_OBJECT (dialog), "lb-smtp", GINT_TO_POINTER (smtp));

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "change", _("C_hange"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "change",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "change");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (change_password_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ------------------------------------------------------------------ removing the account */

/* Deletes @file and everything under it, never following a symbolic
 * link out of it. */
static gboolean
delete_tree (GFile         *file,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GFileEnumerator) children = NULL;
  g_autoptr(GError) local_error = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, cancellable, &local_error);
  if (children != NULL)
    {
      for (;;)
        {
          GFileInfo *info;
          GFile *child;

          if (!g_file_enumerator_iterate (children, &info, &child, cancellable, error))
            return FALSE;
          if (info == NULL)
            break;
          if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
            {
              if (!delete_tree (child, cancellable, error))
                return FALSE;
            }
          else if (!g_file_delete (child, cancellable, error))
            {
              return FALSE;
            }
        }
    }
  else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    {
      return TRUE;
    }
  else if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  return g_file_delete (file, cancellable, error);
}

static void
delete_data_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  GFile *dir = task_data;
  g_autoptr(GError) error = NULL;

  if (!delete_tree (dir, cancellable, &error))
    {
      g_autofree char *path = g_file_get_parse_name (dir);

      g_task_return_new_error (task, error->domain, error->code,
                               _("The mail stored in “%s” could not all be deleted: %s"),
                               path, error->message);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
delete_data_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LbAccountPreferencesPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_warning ("%s", error->message);
      show_toast (self, error->message);
    }
}

static void
clear_passwords_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(LbAccountPreferencesPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_secrets_clear_finish (LB_SECRETS (object), result, &error))
    {
      g_autofree char *message =
        g_strdup_printf (_("The account was removed, but its passwords stay in the keyring: %s"),
                         error->message);

      g_warning ("%s", message);
      show_toast (self, message);
    }
}

static void
remove_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(LbAccountPreferencesPage) self = user_data;
  g_autoptr(GError) error = NULL;
  LbSecretKey key = { NULL, NULL, NULL, NULL };
  const char *data_dir;

  if (!lb_account_manager_remove_finish (LB_ACCOUNT_MANAGER (object), result, &error))
    {
      g_autofree char *message = g_strdup_printf (_("The account could not be removed: %s"), error->message);

      self->removing = FALSE;
      g_clear_weak_pointer (&self->window);
      set_error (self, self, message);
      return;
    }

  /* every password of the account */
  key.account_id = lb_account_get_id (self->account);
  lb_secrets_clear_async (self->secrets, &key, NULL, clear_passwords_cb, g_object_ref (self));

  data_dir = lb_account_get_data_dir (self->account);
  if (data_dir != NULL)
    {
      g_autoptr(GTask) task = g_task_new (NULL, NULL, delete_data_cb, g_object_ref (self));

      g_task_set_source_tag (task, remove_cb);
      g_task_set_task_data (task, g_file_new_for_path (data_dir), g_object_unref);
      g_task_run_in_thread (task, delete_data_thread);
    }
}

static void
remove_response_cb (AdwMessageDialog         *dialog,
                    const char               *response,
                    LbAccountPreferencesPage *self)
{
  if (g_strcmp0 (response, "remove") != 0 || self->removing)
    return;

  self->removing = TRUE;
  g_set_weak_pointer (&self->window, GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (self))));
  /* its store must be closed before its files go */
  lb_account_close (self->account);
  lb_account_manager_remove_async (self->manager, self->account, NULL, remove_cb, g_object_ref (self));
}

static void
remove_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  LbAccountPreferencesPage *self = LB_ACCOUNT_PREFERENCES_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  heading = g_strdup_printf (_("Remove “%s”?"), account_title (self->account));
  if (lb_account_get_incoming_protocol (self->account) == LB_INCOMING_POP3)
    body = g_strdup (_("All the mail downloaded from this account is deleted from this computer: "
                       "for messages no longer on the server, that is the only copy. "
                       "Its settings and passwords are removed too. "
                       "Mail still on the server stays there."));
  else
    /* Translators: %s is the server's host name */
    body = g_strdup_printf (_("The account’s settings and passwords are removed from this computer, "
                              "and so are the copies of its mail kept here and its unsent mail. "
                              "The mail on the server %s stays there."),
                            lb_account_get_incoming_host (self->account));

  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, heading, body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "remove",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (remove_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ------------------------------------------------------------------ the object */

static void
lb_account_preferences_page_constructed (GObject *object)
{
  LbAccountPreferencesPage *self = LB_ACCOUNT_PREFERENCES_PAGE (object);
  GObject *account = G_OBJECT (self->account);

  G_OBJECT_CLASS (lb_account_preferences_page_parent_class)->constructed (object);

  g_return_if_fail (self->manager != NULL && self->secrets != NULL && self->account != NULL);

  title_changed_cb (self);
  g_signal_connect_object (account, "notify::display-name", G_CALLBACK (title_changed_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (lb_account_get_identities (self->account), "items-changed",
                           G_CALLBACK (title_changed_cb), self, G_CONNECT_SWAPPED);

  add_editor (self, GTK_WIDGET (self->display_name_row), account, "display-name", FIELD_STRING, FALSE);
  add_editor (self, GTK_WIDGET (self->incoming_host_row), account, "incoming-host", FIELD_STRING, TRUE);
  add_editor (self, GTK_WIDGET (self->incoming_port_row), account, "incoming-port", FIELD_PORT, TRUE);
  add_editor (self, GTK_WIDGET (self->incoming_user_row), account, "incoming-user", FIELD_STRING, TRUE);
  add_editor (self, GTK_WIDGET (self->smtp_host_row), account, "smtp-host", FIELD_STRING, FALSE);
  add_editor (self, GTK_WIDGET (self->smtp_port_row), account, "smtp-port", FIELD_PORT, FALSE);
  add_editor (self, GTK_WIDGET (self->smtp_user_row), account, "smtp-user", FIELD_STRING, FALSE);

  fill (self);
  g_signal_connect_swapped (self->incoming_security_row, "notify::selected",
                            G_CALLBACK (incoming_security_changed_cb), self);
  g_signal_connect_swapped (self->smtp_security_row, "notify::selected",
                            G_CALLBACK (smtp_security_changed_cb), self);
  g_signal_connect_swapped (self->allow_plaintext_switch, "notify::active",
                            G_CALLBACK (allow_plaintext_changed_cb), self);
  g_signal_connect_swapped (self->save_sent_switch, "notify::active",
                            G_CALLBACK (save_sent_changed_cb), self);
  g_signal_connect_swapped (self->poll_spin, "value-changed", G_CALLBACK (poll_changed_cb), self);
  g_signal_connect_swapped (self->offline_row, "notify::enable-expansion",
                            G_CALLBACK (offline_changed_cb), self);
  g_signal_connect_swapped (self->offline_spin, "value-changed", G_CALLBACK (offline_changed_cb), self);
  g_signal_connect_swapped (self->keep_row, "notify::selected", G_CALLBACK (keep_changed_cb), self);
  g_signal_connect_swapped (self->keep_days_spin, "value-changed", G_CALLBACK (keep_changed_cb), self);
  g_signal_connect_swapped (self->delete_here_switch, "notify::active",
                            G_CALLBACK (delete_here_changed_cb), self);
  g_signal_connect_swapped (self->size_limit_row, "notify::enable-expansion",
                            G_CALLBACK (size_limit_changed_cb), self);
  g_signal_connect_swapped (self->size_limit_spin, "value-changed",
                            G_CALLBACK (size_limit_changed_cb), self);

  rebuild_identities (self);
  g_signal_connect_object (lb_account_get_identities (self->account), "items-changed",
                           G_CALLBACK (identities_changed_cb), self, 0);

  rebuild_certificates (self);
  g_signal_connect_object (account, "notify::pinned-certificates", G_CALLBACK (rebuild_certificates),
                           self, G_CONNECT_SWAPPED);
}

static void
lb_account_preferences_page_dispose (GObject *object)
{
  LbAccountPreferencesPage *self = LB_ACCOUNT_PREFERENCES_PAGE (object);

  self->disposed = TRUE;
  g_clear_weak_pointer (&self->window);
  if (self->editors != NULL)
    g_ptr_array_set_size (self->editors, 0);

  gtk_widget_dispose_template (GTK_WIDGET (self), LB_TYPE_ACCOUNT_PREFERENCES_PAGE);

  G_OBJECT_CLASS (lb_account_preferences_page_parent_class)->dispose (object);
}

static void
lb_account_preferences_page_finalize (GObject *object)
{
  LbAccountPreferencesPage *self = LB_ACCOUNT_PREFERENCES_PAGE (object);

  g_clear_pointer (&self->errors, g_hash_table_unref);
  g_clear_pointer (&self->editors, g_ptr_array_unref);
  g_clear_pointer (&self->identity_rows, g_ptr_array_unref);
  g_clear_pointer (&self->certificate_rows, g_ptr_array_unref);
  g_clear_object (&self->manager);
  g_clear_object (&self->secrets);
  g_clear_object (&self->account);

  G_OBJECT_CLASS (lb_account_preferences_page_parent_class)->finalize (object);
}

static void
lb_account_preferences_page_get_property (GObject    *object,
                                          guint       prop_id,
                                          GValue     *value,
                                          GParamSpec *pspec)
{
  LbAccountPreferencesPage *self = LB_ACCOUNT_PREFERENCES_PAGE (object);

  switch (prop_id)
    {
    case PROP_MANAGER:
      g_value_set_object (value, self->manager);
      break;
    case PROP_SECRETS:
      g_value_set_object (value, self->secrets);
      break;
    case PROP_ACCOUNT:
      g_value_set_object (value, self->account);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_account_preferences_page_set_property (GObject      *object,
                                          guint         prop_id,
                                          const GValue *value,
                                          GParamSpec   *pspec)
{
  LbAccountPreferencesPage *self = LB_ACCOUNT_PREFERENCES_PAGE (object);

  switch (prop_id)
    {
    case PROP_MANAGER:
      self->manager = g_value_dup_object (value);
      break;
    case PROP_SECRETS:
      self->secrets = g_value_dup_object (value);
      break;
    case PROP_ACCOUNT:
      self->account = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_account_preferences_page_class_init (LbAccountPreferencesPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = lb_account_preferences_page_constructed;
  object_class->dispose = lb_account_preferences_page_dispose;
  object_class->finalize = lb_account_preferences_page_finalize;
  object_class->get_property = lb_account_preferences_page_get_property;
  object_class->set_property = lb_account_preferences_page_set_property;

  properties[PROP_MANAGER] =
    g_param_spec_object ("manager", NULL, NULL, LB_TYPE_ACCOUNT_MANAGER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SECRETS] =
    g_param_spec_object ("secrets", NULL, NULL, LB_TYPE_SECRETS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ACCOUNT] =
    g_param_spec_object ("account", NULL, NULL, LB_TYPE_ACCOUNT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/letterbox/Letterbox/lb-account-preferences-page.ui");
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, error_group);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, display_name_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, incoming_group);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, incoming_host_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, incoming_port_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, incoming_security_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, allow_plaintext_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, allow_plaintext_switch);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, save_sent_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, save_sent_switch);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, incoming_user_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, poll_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, poll_spin);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, offline_group);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, offline_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, offline_spin);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, pop3_group);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, keep_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, keep_days_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, keep_days_spin);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, delete_here_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, delete_here_switch);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, size_limit_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, size_limit_spin);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, smtp_host_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, smtp_port_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, smtp_security_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, smtp_user_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, identities_group);
  gtk_widget_class_bind_template_child (widget_class, LbAccountPreferencesPage, certificates_group);

  gtk_widget_class_install_action (widget_class, "account.change-password", "s", change_password_action);
  gtk_widget_class_install_action (widget_class, "account.add-identity", NULL, add_identity_action);
  gtk_widget_class_install_action (widget_class, "account.remove", NULL, remove_action);
}

static void
lb_account_preferences_page_init (LbAccountPreferencesPage *self)
{
  self->errors = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->editors = g_ptr_array_new_with_free_func (g_object_unref);
  self->identity_rows = g_ptr_array_new ();
  self->certificate_rows = g_ptr_array_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
}

LbAccountPreferencesPage *
lb_account_preferences_page_new (LbAccountManager *manager,
                                 LbSecrets        *secrets,
                                 LbAccount        *account)
{
  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (manager), NULL);
  g_return_val_if_fail (LB_IS_SECRETS (secrets), NULL);
  g_return_val_if_fail (LB_IS_ACCOUNT (account), NULL);

  return g_object_new (LB_TYPE_ACCOUNT_PREFERENCES_PAGE,
                       "manager", manager,
                       "secrets", secrets,
                       "account", account,
                       NULL);
}

LbAccount *
lb_account_preferences_page_get_account (LbAccountPreferencesPage *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT_PREFERENCES_PAGE (self), NULL);

  return self->account;
}

void
lb_account_preferences_page_commit (LbAccountPreferencesPage *self)
{
  g_autoptr(GPtrArray) editors = NULL;

  g_return_if_fail (LB_IS_ACCOUNT_PREFERENCES_PAGE (self));

  if (self->removing)
    return;

  /* a number typed into a spin button and not confirmed yet */
  gtk_spin_button_update (self->poll_spin);
  gtk_spin_button_update (self->offline_spin);
  gtk_spin_button_update (self->keep_days_spin);
  gtk_spin_button_update (self->size_limit_spin);

  /* a commit may rebuild the identities, and with them the list */
  editors = g_ptr_array_new_full (self->editors->len, g_object_unref);
  for (guint i = 0; i < self->editors->len; i++)
    g_ptr_array_add (editors, g_object_ref (self->editors->pdata[i]));
  for (guint i = 0; i < editors->len; i++)
    commit_editor (self, editors->pdata[i]);
}
