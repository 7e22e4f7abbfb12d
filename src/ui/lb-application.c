/* lb-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <glib/gi18n.h>

#include "lb-application.h"
#include "lb-window.h"

struct _LbApplication
{
  AdwApplication  parent_instance;

  GSettings      *settings;
};

G_DEFINE_FINAL_TYPE (LbApplication, lb_application, ADW_TYPE_APPLICATION)

static void
lb_application_activate (GApplication *app)
{
  LbApplication *self = LB_APPLICATION (app);
  GtkWindow *window;

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (window == NULL)
    window = GTK_WINDOW (lb_window_new (self, self->settings));

  gtk_window_present (window);
}

static void
lb_application_open (GApplication  *app,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  /* mailto: URIs open the composer once there is one; until then opening
   * one brings up the main window. */
  g_application_activate (app);
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

static const GActionEntry app_actions[] = {
  { .name = "about", .activate = about_action },
  { .name = "quit", .activate = quit_action },
};

static void
lb_application_startup (GApplication *app)
{
  LbApplication *self = LB_APPLICATION (app);

  G_APPLICATION_CLASS (lb_application_parent_class)->startup (app);

  self->settings = g_settings_new (APP_ID);

  g_action_map_add_action_entries (G_ACTION_MAP (self),
                                   app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit",
                                         (const char *[]) { "<Control>q", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "window.close",
                                         (const char *[]) { "<Control>w", NULL });
}

static void
lb_application_dispose (GObject *object)
{
  LbApplication *self = LB_APPLICATION (object);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (lb_application_parent_class)->dispose (object);
}

static void
lb_application_class_init (LbApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = lb_application_dispose;

  app_class->activate = lb_application_activate;
  app_class->open = lb_application_open;
  app_class->startup = lb_application_startup;
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
