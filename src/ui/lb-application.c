/* lb-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <glib/gi18n.h>

#include "lb-application.h"
#include "lb-mailto.h"
#include "lb-outbox.h"
#include "lb-preferences-window.h"
#include "lb-window.h"

/* More new messages than this at once make one notification. */
#define MAX_SINGLE_NOTIFICATIONS 3
/* The first list is shown before the network is used. */
#define FIRST_SYNC_DELAY_MS 1000
/* How long a clicked notification waits for its account to open. */
#define PENDING_SHOW_SECONDS 30

struct _LbApplication
{
  AdwApplication    parent_instance;

  GSettings        *settings;
  LbAccountManager *manager;
  LbSyncScheduler  *scheduler;
  LbOutbox         *outbox;
  GPtrArray        *pending_mailto; /* mailto: URIs opened before the accounts were read */
  gboolean          loaded;
  gboolean          held;       /* running in the background */
  GVariant         *pending_show; /* a clicked notification's message, waiting for its account */
  guint             pending_show_id; /* when it stops waiting */
};

G_DEFINE_FINAL_TYPE (LbApplication, lb_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_LOADED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GtkWindow *
main_window (LbApplication *self)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

  for (GList *l = windows; l != NULL; l = l->next)
    if (LB_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

/* The main window closed: keep checking for mail with no window, when the
 * user wants that. The hold is taken before GtkApplication drops the
 * window's own, so the application never reaches a use count of 0. */
static void
lb_application_window_removed (GtkApplication *app,
                               GtkWindow      *window)
{
  LbApplication *self = LB_APPLICATION (app);

  if (LB_IS_WINDOW (window) && main_window (self) == window &&
      g_settings_get_boolean (self->settings, "run-in-background") && !self->held)
    {
      self->held = TRUE;
      g_application_hold (G_APPLICATION (self));
    }

  GTK_APPLICATION_CLASS (lb_application_parent_class)->window_removed (app, window);
}

static void
lb_application_activate (GApplication *app)
{
  LbApplication *self = LB_APPLICATION (app);
  GtkWindow *window = main_window (self);

  if (window == NULL)
    {
      window = GTK_WINDOW (lb_window_new (self, self->settings, self->manager, self->scheduler));
      lb_window_set_outbox (LB_WINDOW (window), self->outbox);
    }
  if (self->held)
    {
      self->held = FALSE;
      g_application_release (app);
    }

  gtk_window_present (window);
}

/* A mailto: link opened: a composer with its fields, on the default
 * account's identity. */
static void
compose_mailto (LbApplication *self,
                const char    *uri)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbMailto) mailto = lb_mailto_parse (uri, &error);
  g_autoptr(LbOutgoingMessage) message = NULL;
  GtkWindow *window = main_window (self);

  if (mailto == NULL)
    {
      g_warning ("%s", error->message);
      return;
    }
  if (window == NULL)
    return;
  message = lb_outgoing_message_new ();
  lb_outgoing_message_set_to (message, mailto->to);
  lb_outgoing_message_set_cc (message, mailto->cc);
  lb_outgoing_message_set_bcc (message, mailto->bcc);
  lb_outgoing_message_set_subject (message, mailto->subject);
  lb_outgoing_message_set_body (message, mailto->body);
  if (mailto->in_reply_to != NULL)
    {
      lb_outgoing_message_set_in_reply_to (message, mailto->in_reply_to);
      lb_outgoing_message_set_references (message, mailto->in_reply_to);
    }
  lb_window_compose (LB_WINDOW (window), message);
}

static void
open_pending_mailto (LbApplication *self)
{
  g_autoptr(GPtrArray) uris = g_steal_pointer (&self->pending_mailto);

  for (guint i = 0; uris != NULL && i < uris->len; i++)
    compose_mailto (self, uris->pdata[i]);
}

static void
lb_application_open (GApplication  *app,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  LbApplication *self = LB_APPLICATION (app);

  /* the main window first; the composers once the accounts are read */
  g_application_activate (app);
  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *uri = g_file_get_uri (files[i]);

      if (!g_file_has_uri_scheme (files[i], "mailto"))
        {
          g_warning ("Letterbox opens email links (mailto:) only, not “%s”", uri);
          continue;
        }
      if (self->pending_mailto == NULL)
        self->pending_mailto = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (self->pending_mailto, g_steal_pointer (&uri));
    }
  if (self->loaded)
    open_pending_mailto (self);
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  LbApplication *self = user_data;
  const char *developers[] = {
    _("The Letterbox developers"),
    NULL,
  };
  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (GTK_APPLICATION (self)),
                        "application-name", _("Letterbox"),
                        "application-icon", APP_ID,
                        "developer-name", _("The Letterbox developers"),
                        "developers", developers,
                        "version", PACKAGE_VERSION,
                        "website", PACKAGE_WEBSITE,
                        "issue-url", PACKAGE_WEBSITE "/issues",
                        "copyright", _("© 2026 The Letterbox developers"),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        /* Translators: your names, one per line */
                        "translator-credits", _("translator-credits"),
                        NULL);

  gtk_window_present (GTK_WINDOW (about));
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  GApplication *app = user_data;
  GList *windows;

  /* Close the windows as their close buttons would, so each saves its
   * state, then leave. */
  windows = g_list_copy_deep (gtk_application_get_windows (GTK_APPLICATION (app)),
                              (GCopyFunc) g_object_ref, NULL);
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (l->data);
  g_list_free_full (windows, g_object_unref);

  g_application_quit (app);
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  LbApplication *self = user_data;
  g_autoptr(LbSecrets) secrets = lb_secrets_new ();
  LbPreferencesWindow *preferences;

  preferences = lb_preferences_window_new (gtk_application_get_active_window (GTK_APPLICATION (self)),
                                           self->settings, self->manager, secrets);
  gtk_window_present (GTK_WINDOW (preferences));
}

/* Shows the message a notification was about once its account is open:
 * a click may start the app, which reads its accounts first. */
static void
try_pending_show (LbApplication *self)
{
  const char *id;
  gint64 folder_id, key;
  LbAccount *account;
  GtkWindow *window = main_window (self);

  if (self->pending_show == NULL || !self->loaded || window == NULL)
    return;
  g_variant_get (self->pending_show, "(&sxx)", &id, &folder_id, &key);
  account = lb_account_manager_lookup (self->manager, id);
  if (account == NULL)
    {
      /* the account is gone: nothing to show */
      g_clear_pointer (&self->pending_show, g_variant_unref);
      g_clear_handle_id (&self->pending_show_id, g_source_remove);
      return;
    }
  if (!lb_account_get_opened (account) || lb_account_lookup_folder (account, folder_id) == NULL)
    return;
  lb_window_show_message (LB_WINDOW (window), account, folder_id, key);
  g_clear_pointer (&self->pending_show, g_variant_unref);
  g_clear_handle_id (&self->pending_show_id, g_source_remove);
}

static gboolean
pending_show_expired (gpointer user_data)
{
  LbApplication *self = user_data;

  /* an account that does not open in that time: the window is not moved
   * under the user's hands later */
  self->pending_show_id = 0;
  g_clear_pointer (&self->pending_show, g_variant_unref);
  return G_SOURCE_REMOVE;
}

/* A notification was clicked: ("account id", folder id, key) */
static void
show_message_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  LbApplication *self = user_data;

  g_clear_pointer (&self->pending_show, g_variant_unref);
  self->pending_show = g_variant_ref (parameter);
  g_clear_handle_id (&self->pending_show_id, g_source_remove);
  self->pending_show_id = g_timeout_add_seconds (PENDING_SHOW_SECONDS, pending_show_expired, self);
  g_application_activate (G_APPLICATION (self));
  try_pending_show (self);
}

static void
account_changed_cb (LbSyncScheduler *scheduler,
                    LbAccount       *account,
                    gpointer         user_data)
{
  try_pending_show (user_data);
}

static const GActionEntry app_actions[] = {
  { .name = "about", .activate = about_action },
  { .name = "quit", .activate = quit_action },
  { .name = "preferences", .activate = preferences_action },
  { .name = "show-message", .activate = show_message_action, .parameter_type = "(sxx)" },
};

/* ------------------------------------------------------------------ new mail */

static void
new_mail_cb (LbSyncScheduler *scheduler,
             LbAccount       *account,
             GPtrArray       *summaries,
             gpointer         user_data)
{
  LbApplication *self = user_data;
  g_autoptr(GNotification) notification = NULL;
  g_autofree char *id = NULL;

  if (!g_settings_get_boolean (self->settings, "notify-new-mail") || summaries->len == 0)
    return;

  if (summaries->len > MAX_SINGLE_NOTIFICATIONS)
    {
      LbFolder *inbox = lb_account_get_inbox (account);
      g_autofree char *title = g_strdup_printf (ngettext ("%u new message", "%u new messages", summaries->len),
                                                summaries->len);
      LbMessageSummary *newest = summaries->pdata[summaries->len - 1];

      notification = g_notification_new (title);
      g_notification_set_body (notification, lb_account_get_display_name (account));
      g_notification_set_default_action_and_target (notification, "app.show-message", "(sxx)",
                                                    lb_account_get_id (account),
                                                    inbox != NULL ? lb_folder_get_id (inbox) : (gint64) 0,
                                                    newest->key);
      id = g_strdup_printf ("new-mail-%s", lb_account_get_id (account));
      g_application_send_notification (G_APPLICATION (self), id, notification);
      return;
    }

  for (guint i = 0; i < summaries->len; i++)
    {
      LbMessageSummary *summary = summaries->pdata[i];
      const char *from = summary->from != NULL && *summary->from != '\0' ? summary->from : _("Unknown sender");
      const char *subject = summary->subject != NULL && *summary->subject != '\0' ? summary->subject : _("(No Subject)");

      g_clear_object (&notification);
      g_clear_pointer (&id, g_free);
      notification = g_notification_new (from);
      g_notification_set_body (notification, subject);
      g_notification_set_default_action_and_target (notification, "app.show-message", "(sxx)",
                                                    lb_account_get_id (account),
                                                    summary->folder_id, summary->key);
      id = g_strdup_printf ("message-%s-%" G_GINT64_FORMAT, lb_account_get_id (account), summary->key);
      g_application_send_notification (G_APPLICATION (self), id, notification);
    }
}

static void
accounts_loaded (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(LbApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_account_manager_load_finish (LB_ACCOUNT_MANAGER (object), result, &error))
    g_warning ("%s", error->message);
  self->loaded = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADED]);
  lb_sync_scheduler_start (self->scheduler);
  try_pending_show (self);
  open_pending_mailto (self);
}

static void
undo_delay_changed_cb (LbApplication *self)
{
  lb_outbox_set_undo_delay (self->outbox, g_settings_get_uint (self->settings, "undo-send-delay"));
}

static void
lb_application_startup (GApplication *app)
{
  LbApplication *self = LB_APPLICATION (app);

  G_APPLICATION_CLASS (lb_application_parent_class)->startup (app);

  self->settings = g_settings_new (APP_ID);
  self->manager = lb_account_manager_new (NULL, NULL);
  self->scheduler = lb_sync_scheduler_new (self->manager, NULL);
  lb_sync_scheduler_set_first_sync_delay (self->scheduler, FIRST_SYNC_DELAY_MS);
  g_signal_connect (self->scheduler, "new-mail", G_CALLBACK (new_mail_cb), self);
  g_signal_connect (self->scheduler, "account-changed", G_CALLBACK (account_changed_cb), self);
  self->outbox = lb_outbox_new (self->manager, NULL);
  undo_delay_changed_cb (self);
  g_signal_connect_object (self->settings, "changed::undo-send-delay", G_CALLBACK (undo_delay_changed_cb),
                           self, G_CONNECT_SWAPPED);
  lb_account_manager_load_async (self->manager, NULL, accounts_loaded, g_object_ref (self));

  g_action_map_add_action_entries (G_ACTION_MAP (self),
                                   app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit",
                                         (const char *[]) { "<Control>q", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "window.close",
                                         (const char *[]) { "<Control>w", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences",
                                         (const char *[]) { "<Control>comma", NULL });
}

static void
lb_application_shutdown (GApplication *app)
{
  LbApplication *self = LB_APPLICATION (app);

  if (self->scheduler != NULL)
    lb_sync_scheduler_stop (self->scheduler);

  G_APPLICATION_CLASS (lb_application_parent_class)->shutdown (app);
}

static void
lb_application_dispose (GObject *object)
{
  LbApplication *self = LB_APPLICATION (object);

  g_clear_pointer (&self->pending_show, g_variant_unref);
  g_clear_handle_id (&self->pending_show_id, g_source_remove);
  g_clear_pointer (&self->pending_mailto, g_ptr_array_unref);
  g_clear_object (&self->outbox);
  g_clear_object (&self->scheduler);
  g_clear_object (&self->manager);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (lb_application_parent_class)->dispose (object);
}

static void
lb_application_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  LbApplication *self = LB_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_LOADED:
      g_value_set_boolean (value, self->loaded);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_application_class_init (LbApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);
  GtkApplicationClass *gtk_app_class = GTK_APPLICATION_CLASS (klass);

  object_class->dispose = lb_application_dispose;
  object_class->get_property = lb_application_get_property;

  /**
   * LbApplication:loaded:
   *
   * Whether the accounts have been read (after startup).
   */
  properties[PROP_LOADED] =
    g_param_spec_boolean ("loaded", NULL, NULL, FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  app_class->activate = lb_application_activate;
  app_class->open = lb_application_open;
  app_class->startup = lb_application_startup;
  app_class->shutdown = lb_application_shutdown;
  gtk_app_class->window_removed = lb_application_window_removed;
}

static void
lb_application_init (LbApplication *self)
{
}

LbApplication *
lb_application_new (void)
{
  return g_object_new (LB_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/io/github/letterbox/Letterbox",
                       NULL);
}

/**
 * lb_application_get_settings:
 *
 * Returns: (transfer none) (nullable): the application's settings, from
 *   startup on
 */
GSettings *
lb_application_get_settings (LbApplication *self)
{
  g_return_val_if_fail (LB_IS_APPLICATION (self), NULL);

  return self->settings;
}

/**
 * lb_application_get_manager:
 *
 * Returns: (transfer none) (nullable): the accounts, from startup on
 */
LbAccountManager *
lb_application_get_manager (LbApplication *self)
{
  g_return_val_if_fail (LB_IS_APPLICATION (self), NULL);

  return self->manager;
}

/**
 * lb_application_get_scheduler:
 *
 * Returns: (transfer none) (nullable): what keeps the accounts up to date,
 *   from startup on
 */
LbSyncScheduler *
lb_application_get_scheduler (LbApplication *self)
{
  g_return_val_if_fail (LB_IS_APPLICATION (self), NULL);

  return self->scheduler;
}

gboolean
lb_application_get_loaded (LbApplication *self)
{
  g_return_val_if_fail (LB_IS_APPLICATION (self), FALSE);

  return self->loaded;
}

/**
 * lb_application_get_outbox:
 *
 * Returns: (transfer none) (nullable): the messages being sent, from
 *   startup on
 */
LbOutbox *
lb_application_get_outbox (LbApplication *self)
{
  g_return_val_if_fail (LB_IS_APPLICATION (self), NULL);

  return self->outbox;
}
