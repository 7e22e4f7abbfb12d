/* test-window.c: the application shell on a real X server (the harness's
 * Xvfb): the main window and its empty state, the window size kept in
 * GSettings, About, the shortcuts window, Quit, and a screenshot
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>

#include "lb-application.h"
#include "lb-test-ui.h"
#include "lb-window.h"

typedef struct
{
  LbApplication *app;
} Fixture;

static LbWindow *
activate (Fixture *fixture)
{
  GtkWindow *window;

  g_application_activate (G_APPLICATION (fixture->app));
  window = gtk_application_get_active_window (GTK_APPLICATION (fixture->app));
  g_assert_true (LB_IS_WINDOW (window));

  return LB_WINDOW (window);
}

/* A GApplication exports itself on the session bus once per connection,
 * so the tests share one registered application; each starts with no
 * window and the settings at their defaults. */
static LbApplication *shared_app;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  GSettings *settings;

  if (shared_app == NULL)
    {
      g_autoptr(GError) error = NULL;

      shared_app = lb_application_new ();
      g_application_register (G_APPLICATION (shared_app), NULL, &error);
      g_assert_no_error (error);
    }

  fixture->app = shared_app;
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (fixture->app)));

  settings = lb_application_get_settings (fixture->app);
  g_settings_reset (settings, "window-width");
  g_settings_reset (settings, "window-height");
  g_settings_reset (settings, "window-maximized");
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  GList *windows;

  while ((windows = gtk_application_get_windows (GTK_APPLICATION (fixture->app))) != NULL)
    gtk_window_destroy (windows->data);
}

static void
test_window_empty_state (Fixture       *fixture,
                         gconstpointer  user_data)
{
  LbWindow *window = activate (fixture);
  AdwStatusPage *status;
  GtkWidget *button;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_BUILT, "screenshot-main-window.png", NULL);

  lb_test_ui_wait_for_frame (GTK_WIDGET (window));
  /* the accounts are read first (there are none) */
  while (g_strcmp0 (lb_window_get_page (window), "loading") == 0)
    g_main_context_iteration (NULL, TRUE);
  lb_test_ui_wait_for_frame (GTK_WIDGET (window));

  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (window)), ==, "Letterbox");
  g_assert_cmpstr (lb_window_get_page (window), ==, "empty");

  status = ADW_STATUS_PAGE (lb_test_ui_find (GTK_WIDGET (window), ADW_TYPE_STATUS_PAGE, NULL));
  g_assert_nonnull (status);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (status)));
  g_assert_cmpstr (adw_status_page_get_title (status), ==, "No Mail Accounts");

  button = lb_test_ui_find (GTK_WIDGET (status), GTK_TYPE_BUTTON, NULL);
  g_assert_nonnull (button);
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (button)), ==, "_Add Account…");
  g_assert_cmpstr (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), ==, "win.add-account");

  texture = lb_test_ui_render (GTK_WIDGET (window), "screenshot-main-window.png");
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (gdk_texture_get_width (texture), ==, gtk_widget_get_width (GTK_WIDGET (window)));
  g_assert_cmpint (gdk_texture_get_height (texture), ==, gtk_widget_get_height (GTK_WIDGET (window)));
  /* header bar, page, icon, text and button: many colours */
  g_assert_cmpuint (lb_test_ui_count_colours (texture), >, 16);
}

static void
test_window_size_persists (Fixture       *fixture,
                           gconstpointer  user_data)
{
  GSettings *settings = lb_application_get_settings (fixture->app);
  LbWindow *window;
  int width = 0, height = 0;

  g_settings_set_int (settings, "window-width", 900);
  g_settings_set_int (settings, "window-height", 600);
  g_settings_set_boolean (settings, "window-maximized", FALSE);

  window = activate (fixture);
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 900);
  g_assert_cmpint (height, ==, 600);
  lb_test_ui_wait_for_frame (GTK_WIDGET (window));
  /* the X window really has that size (client-side decorations included) */
  g_assert_cmpint (gdk_surface_get_width (gtk_native_get_surface (GTK_NATIVE (window))), ==, 900);
  g_assert_cmpint (gdk_surface_get_height (gtk_native_get_surface (GTK_NATIVE (window))), ==, 600);

  /* the user makes it smaller and closes it */
  gtk_window_set_default_size (GTK_WINDOW (window), 700, 500);
  lb_test_ui_wait_for_frame (GTK_WIDGET (window));
  gtk_window_close (GTK_WINDOW (window));

  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 700);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 500);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));
  g_assert_null (gtk_application_get_active_window (GTK_APPLICATION (fixture->app)));

  /* the next window opens at that size */
  window = activate (fixture);
  gtk_window_get_default_size (GTK_WINDOW (window), &width, &height);
  g_assert_cmpint (width, ==, 700);
  g_assert_cmpint (height, ==, 500);
}

static void
test_window_about (Fixture       *fixture,
                   gconstpointer  user_data)
{
  LbWindow *window = activate (fixture);
  AdwAboutWindow *about;

  lb_test_ui_wait_for_frame (GTK_WIDGET (window));
  g_assert_null (lb_test_ui_find_toplevel (ADW_TYPE_ABOUT_WINDOW, NULL));

  g_action_group_activate_action (G_ACTION_GROUP (fixture->app), "about", NULL);
  about = ADW_ABOUT_WINDOW (lb_test_ui_find_toplevel (ADW_TYPE_ABOUT_WINDOW, NULL));
  g_assert_nonnull (about);
  g_assert_cmpstr (adw_about_window_get_application_name (about), ==, "Letterbox");
  g_assert_cmpstr (adw_about_window_get_version (about), ==, PACKAGE_VERSION);
  g_assert_cmpstr (adw_about_window_get_application_icon (about), ==, APP_ID);
  g_assert_cmpint (adw_about_window_get_license_type (about), ==, GTK_LICENSE_GPL_3_0);
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (about)) == GTK_WINDOW (window));

  lb_test_ui_wait_for_frame (GTK_WIDGET (about));
  gtk_window_destroy (GTK_WINDOW (about));
}

static void
test_window_shortcuts (Fixture       *fixture,
                       gconstpointer  user_data)
{
  LbWindow *window = activate (fixture);
  GtkShortcutsWindow *overlay;
  g_auto(GStrv) quit = NULL;
  g_auto(GStrv) close = NULL;
  g_auto(GStrv) help = NULL;

  quit = gtk_application_get_accels_for_action (GTK_APPLICATION (fixture->app), "app.quit");
  g_assert_cmpstrv (quit, ((const char *[]) { "<Control>q", NULL }));
  close = gtk_application_get_accels_for_action (GTK_APPLICATION (fixture->app), "window.close");
  g_assert_cmpstrv (close, ((const char *[]) { "<Control>w", NULL }));
  help = gtk_application_get_accels_for_action (GTK_APPLICATION (fixture->app), "win.show-help-overlay");
  g_assert_cmpstrv (help, ((const char *[]) { "<Control>question", NULL }));

  overlay = gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (window));
  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (overlay));

  lb_test_ui_wait_for_frame (GTK_WIDGET (window));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-help-overlay", NULL);
  lb_test_ui_wait_for_frame (GTK_WIDGET (overlay));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (overlay)));
}

/* What gtk_window_close() does, for a window that was never shown (which
 * gtk_window_close() ignores). */
static void
close_unshown (LbWindow *window)
{
  gboolean handled = TRUE;

  g_signal_emit_by_name (window, "close-request", &handled);
  g_assert_false (handled);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Xvfb has no window manager to maximize a shown window, but GTK keeps the
 * state of a window that is not shown yet, which is enough to check that
 * the window restores the state and saves it. */
static void
test_window_maximized_persists (Fixture       *fixture,
                                gconstpointer  user_data)
{
  GSettings *settings = lb_application_get_settings (fixture->app);
  LbWindow *window;

  g_settings_set_int (settings, "window-width", 800);
  g_settings_set_int (settings, "window-height", 600);
  g_settings_set_boolean (settings, "window-maximized", TRUE);

  window = lb_window_new (fixture->app, settings, lb_application_get_manager (fixture->app),
                          lb_application_get_scheduler (fixture->app));
  g_assert_true (gtk_window_is_maximized (GTK_WINDOW (window)));

  /* closed while maximized: that is kept, and so is the size to go back to */
  close_unshown (window);
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (fixture->app)));
  g_assert_true (g_settings_get_boolean (settings, "window-maximized"));
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 800);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 600);

  /* unmaximized and closed: the next window opens unmaximized */
  window = lb_window_new (fixture->app, settings, lb_application_get_manager (fixture->app),
                          lb_application_get_scheduler (fixture->app));
  g_assert_true (gtk_window_is_maximized (GTK_WINDOW (window)));
  gtk_window_unmaximize (GTK_WINDOW (window));
  close_unshown (window);
  g_assert_false (g_settings_get_boolean (settings, "window-maximized"));

  window = lb_window_new (fixture->app, settings, lb_application_get_manager (fixture->app),
                          lb_application_get_scheduler (fixture->app));
  g_assert_false (gtk_window_is_maximized (GTK_WINDOW (window)));
}

typedef struct
{
  LbApplication *app;
  guint          stage;
  gint64         closed_at;
  gboolean       ran_without_window;
} Background;

/* The window opens; closed with "run in the background" on, the
 * application keeps running with no window; activated again, the window
 * comes back; then Quit, with something holding the application. */
static gboolean
close_then_quit (gpointer user_data)
{
  Background *background = user_data;
  GApplication *app = G_APPLICATION (background->app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  switch (background->stage)
    {
    case 0:
      if (window == NULL || !gtk_widget_get_mapped (GTK_WIDGET (window)))
        return G_SOURCE_CONTINUE;
      g_settings_set_boolean (lb_application_get_settings (background->app), "run-in-background", TRUE);
      gtk_window_close (window);
      background->closed_at = g_get_monotonic_time ();
      background->stage = 1;
      return G_SOURCE_CONTINUE;

    case 1:
      /* still running a second after: the main loop runs this */
      if (g_get_monotonic_time () - background->closed_at < G_USEC_PER_SEC)
        return G_SOURCE_CONTINUE;
      background->ran_without_window = gtk_application_get_windows (GTK_APPLICATION (app)) == NULL;
      g_application_activate (app);
      background->stage = 2;
      return G_SOURCE_CONTINUE;

    case 2:
      if (window == NULL || !gtk_widget_get_mapped (GTK_WIDGET (window)))
        return G_SOURCE_CONTINUE;
      gtk_window_set_default_size (window, 640, 480);
      g_application_hold (app);
      g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
      background->stage = 3;
      return G_SOURCE_REMOVE;

    default:
      g_assert_not_reached ();
    }
}

static gboolean
quit_timed_out (gpointer user_data)
{
  g_error ("app.quit did not end the application");

  return G_SOURCE_REMOVE;
}

/* Closing the window with "run in the background" on leaves the
 * application running (checking mail); Quit ends it even while something
 * holds it (as a background sync will), after each window saved its size.
 * Run last: the application has shut down afterwards. */
static void
test_window_quit (Fixture       *fixture,
                  gconstpointer  user_data)
{
  GSettings *settings = lb_application_get_settings (fixture->app);
  Background background = { fixture->app, 0, 0, FALSE };
  guint poll, guard;
  int status;

  poll = g_timeout_add (20, close_then_quit, &background);
  guard = g_timeout_add_seconds (20, quit_timed_out, NULL);

  /* activates: the window opens, then close_then_quit() closes it, opens
   * it again and quits */
  status = g_application_run (G_APPLICATION (fixture->app), 0, NULL);

  g_source_remove (guard);
  /* without the preference, closing the window had ended the run */
  g_assert_cmpuint (background.stage, ==, 3);
  g_assert_true (background.ran_without_window);
  g_assert_false (g_main_context_find_source_by_id (NULL, poll) != NULL);
  g_application_release (G_APPLICATION (fixture->app));
  g_settings_reset (settings, "run-in-background");

  g_assert_cmpint (status, ==, 0);
  g_assert_null (gtk_application_get_windows (GTK_APPLICATION (fixture->app)));
  g_assert_cmpint (g_settings_get_int (settings, "window-width"), ==, 640);
  g_assert_cmpint (g_settings_get_int (settings, "window-height"), ==, 480);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add ("/ui/window/empty-state", Fixture, NULL,
              fixture_set_up, test_window_empty_state, fixture_tear_down);
  g_test_add ("/ui/window/size-persists", Fixture, NULL,
              fixture_set_up, test_window_size_persists, fixture_tear_down);
  g_test_add ("/ui/window/about", Fixture, NULL,
              fixture_set_up, test_window_about, fixture_tear_down);
  g_test_add ("/ui/window/shortcuts", Fixture, NULL,
              fixture_set_up, test_window_shortcuts, fixture_tear_down);
  g_test_add ("/ui/window/maximized-persists", Fixture, NULL,
              fixture_set_up, test_window_maximized_persists, fixture_tear_down);
  g_test_add ("/ui/window/quit", Fixture, NULL,
              fixture_set_up, test_window_quit, fixture_tear_down);

  status = g_test_run ();
  g_clear_object (&shared_app);

  return status;
}
