/* lb-preferences-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <glib/gi18n.h>

#include "lb-account-preferences-page.h"
#include "lb-preferences-window.h"

/* LbPreferencesWindow: the general page, bound to the application's
 * GSettings (a change applies at once), then one LbAccountPreferencesPage
 * per account of the manager, following the manager's list. Account
 * pages save their own changes; closing the window commits what is typed
 * in a field that was not left yet. */

struct _LbPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;
  LbAccountManager     *manager;
  LbSecrets            *secrets;

  /* the account pages, in the manager's order when it was last changed */
  GPtrArray            *account_pages;

  /* template children */
  AdwComboRow          *mark_read_row;
  AdwActionRow         *mark_read_delay_row;
  GtkSpinButton        *mark_read_delay_spin;
  GtkSwitch            *conversations_switch;
  GtkSpinButton        *undo_send_spin;
  GtkSwitch            *plain_text_switch;
  GtkSwitch            *notify_switch;
  GtkSwitch            *background_switch;
};

G_DEFINE_FINAL_TYPE (LbPreferencesWindow, lb_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

enum {
  PROP_0,
  PROP_SETTINGS,
  PROP_MANAGER,
  PROP_SECRETS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* the choices of mark_read_row; mark-read-delay is 0, N seconds or -1 */
enum {
  MARK_READ_AT_ONCE,
  MARK_READ_AFTER_DELAY,
  MARK_READ_NEVER,
};

/* ------------------------------------------------------------------ general page */

static gboolean
mark_read_get_mapping (GValue   *value,
                       GVariant *variant,
                       gpointer  user_data)
{
  int delay = g_variant_get_int32 (variant);

  if (delay < 0)
    g_value_set_uint (value, MARK_READ_NEVER);
  else if (delay == 0)
    g_value_set_uint (value, MARK_READ_AT_ONCE);
  else
    g_value_set_uint (value, MARK_READ_AFTER_DELAY);
  return TRUE;
}

static GVariant *
mark_read_set_mapping (const GValue       *value,
                       const GVariantType *expected_type,
                       gpointer            user_data)
{
  LbPreferencesWindow *self = user_data;

  switch (g_value_get_uint (value))
    {
    case MARK_READ_AT_ONCE:
      return g_variant_new_int32 (0);
    case MARK_READ_AFTER_DELAY:
      return g_variant_new_int32 (gtk_spin_button_get_value_as_int (self->mark_read_delay_spin));
    case MARK_READ_NEVER:
      return g_variant_new_int32 (-1);
    default:
      return NULL;
    }
}

static void
mark_read_delay_changed_cb (LbPreferencesWindow *self)
{
  int delay = g_settings_get_int (self->settings, "mark-read-delay");

  if (delay > 0)
    gtk_spin_button_set_value (self->mark_read_delay_spin, delay);
  gtk_widget_set_visible (GTK_WIDGET (self->mark_read_delay_row), delay > 0);
}

static void
mark_read_delay_spin_changed_cb (LbPreferencesWindow *self)
{
  int delay = gtk_spin_button_get_value_as_int (self->mark_read_delay_spin);

  if (adw_combo_row_get_selected (self->mark_read_row) == MARK_READ_AFTER_DELAY &&
      g_settings_get_int (self->settings, "mark-read-delay") != delay)
    g_settings_set_int (self->settings, "mark-read-delay", delay);
}

static void
bind_settings (LbPreferencesWindow *self)
{
  g_signal_connect_object (self->settings, "changed::mark-read-delay",
                           G_CALLBACK (mark_read_delay_changed_cb), self, G_CONNECT_SWAPPED);
  mark_read_delay_changed_cb (self);
  g_signal_connect_swapped (self->mark_read_delay_spin, "value-changed",
                            G_CALLBACK (mark_read_delay_spin_changed_cb), self);
  g_settings_bind_with_mapping (self->settings, "mark-read-delay",
                                self->mark_read_row, "selected", G_SETTINGS_BIND_DEFAULT,
                                mark_read_get_mapping, mark_read_set_mapping, self, NULL);

  g_settings_bind (self->settings, "group-conversations",
                   self->conversations_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "undo-send-delay",
                   self->undo_send_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "prefer-plain-text",
                   self->plain_text_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "notify-new-mail",
                   self->notify_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "run-in-background",
                   self->background_switch, "active", G_SETTINGS_BIND_DEFAULT);
}

/* ------------------------------------------------------------------ account pages */

static void
manager_items_changed_cb (GListModel          *model,
                          guint                position,
                          guint                removed,
                          guint                added,
                          LbPreferencesWindow *self)
{
  for (guint i = 0; i < removed; i++)
    {
      AdwPreferencesPage *page = self->account_pages->pdata[position];

      adw_preferences_window_remove (ADW_PREFERENCES_WINDOW (self), page);
      g_ptr_array_remove_index (self->account_pages, position);
    }

  /* AdwPreferencesWindow only appends: a new page goes last */
  for (guint i = 0; i < added; i++)
    {
      g_autoptr(LbAccount) account = g_list_model_get_item (model, position + i);
      LbAccountPreferencesPage *page = lb_account_preferences_page_new (self->manager, self->secrets, account);

      adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), ADW_PREFERENCES_PAGE (page));
      g_ptr_array_insert (self->account_pages, position + i, page);
    }
}

static gboolean
lb_preferences_window_close_request (GtkWindow *window)
{
  LbPreferencesWindow *self = LB_PREFERENCES_WINDOW (window);

  for (guint i = 0; i < self->account_pages->len; i++)
    lb_account_preferences_page_commit (self->account_pages->pdata[i]);

  return GTK_WINDOW_CLASS (lb_preferences_window_parent_class)->close_request (window);
}

/* ------------------------------------------------------------------ the object */

static void
lb_preferences_window_constructed (GObject *object)
{
  LbPreferencesWindow *self = LB_PREFERENCES_WINDOW (object);
  GListModel *accounts = G_LIST_MODEL (self->manager);

  G_OBJECT_CLASS (lb_preferences_window_parent_class)->constructed (object);

  g_return_if_fail (self->settings != NULL && self->manager != NULL && self->secrets != NULL);

  bind_settings (self);

  manager_items_changed_cb (accounts, 0, 0, g_list_model_get_n_items (accounts), self);
  g_signal_connect_object (accounts, "items-changed", G_CALLBACK (manager_items_changed_cb), self, 0);
}

static void
lb_preferences_window_dispose (GObject *object)
{
  LbPreferencesWindow *self = LB_PREFERENCES_WINDOW (object);

  if (self->account_pages != NULL)
    g_ptr_array_set_size (self->account_pages, 0);

  gtk_widget_dispose_template (GTK_WIDGET (self), LB_TYPE_PREFERENCES_WINDOW);

  G_OBJECT_CLASS (lb_preferences_window_parent_class)->dispose (object);
}

static void
lb_preferences_window_finalize (GObject *object)
{
  LbPreferencesWindow *self = LB_PREFERENCES_WINDOW (object);

  g_clear_pointer (&self->account_pages, g_ptr_array_unref);
  g_clear_object (&self->settings);
  g_clear_object (&self->manager);
  g_clear_object (&self->secrets);

  G_OBJECT_CLASS (lb_preferences_window_parent_class)->finalize (object);
}

static void
lb_preferences_window_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  LbPreferencesWindow *self = LB_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    case PROP_MANAGER:
      g_value_set_object (value, self->manager);
      break;
    case PROP_SECRETS:
      g_value_set_object (value, self->secrets);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_preferences_window_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  LbPreferencesWindow *self = LB_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    case PROP_MANAGER:
      self->manager = g_value_dup_object (value);
      break;
    case PROP_SECRETS:
      self->secrets = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_preferences_window_class_init (LbPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = lb_preferences_window_constructed;
  object_class->dispose = lb_preferences_window_dispose;
  object_class->finalize = lb_preferences_window_finalize;
  object_class->get_property = lb_preferences_window_get_property;
  object_class->set_property = lb_preferences_window_set_property;
  window_class->close_request = lb_preferences_window_close_request;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MANAGER] =
    g_param_spec_object ("manager", NULL, NULL, LB_TYPE_ACCOUNT_MANAGER,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SECRETS] =
    g_param_spec_object ("secrets", NULL, NULL, LB_TYPE_SECRETS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/letterbox/Letterbox/lb-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, LbPreferencesWindow, mark_read_row);
  gtk_widget_class_bind_template_child (widget_class, LbPreferencesWindow, mark_read_delay_row);
  gtk_widget_class_bind_template_child (widget_class, LbPreferencesWindow, mark_read_delay_spin);
  gtk_widget_class_bind_template_child (widget_class, LbPreferencesWindow, conversations_switch);
  gtk_widget_class_bind_template_child (widget_class, LbPreferencesWindow, undo_send_spin);
  gtk_widget_class_bind_template_child (widget_class, LbPreferencesWindow, plain_text_switch);
  gtk_widget_class_bind_template_child (widget_class, LbPreferencesWindow, notify_switch);
  gtk_widget_class_bind_template_child (widget_class, LbPreferencesWindow, background_switch);

  g_type_ensure (LB_TYPE_ACCOUNT_PREFERENCES_PAGE);
}

static void
lb_preferences_window_init (LbPreferencesWindow *self)
{
  self->account_pages = g_ptr_array_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
}

LbPreferencesWindow *
lb_preferences_window_new (GtkWindow        *parent,
                           GSettings        *settings,
                           LbAccountManager *manager,
                           LbSecrets        *secrets)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (manager), NULL);
  g_return_val_if_fail (LB_IS_SECRETS (secrets), NULL);

  return g_object_new (LB_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "settings", settings,
                       "manager", manager,
                       "secrets", secrets,
                       NULL);
}

void
lb_preferences_window_show_account (LbPreferencesWindow *self,
                                    LbAccount           *account)
{
  g_return_if_fail (LB_IS_PREFERENCES_WINDOW (self));
  g_return_if_fail (LB_IS_ACCOUNT (account));

  for (guint i = 0; i < self->account_pages->len; i++)
    {
      LbAccountPreferencesPage *page = self->account_pages->pdata[i];

      if (lb_account_preferences_page_get_account (page) == account)
        {
          adw_preferences_window_set_visible_page (ADW_PREFERENCES_WINDOW (self),
                                                   ADW_PREFERENCES_PAGE (page));
          return;
        }
    }

  g_warning ("No preferences page for account %s", lb_account_get_id (account));
}
