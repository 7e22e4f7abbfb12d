/* lb-test-ui.h: driving GTK widgets in tests on the harness's Xvfb
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Iterates the main loop until @done (@data) returns TRUE; fails the test
 * after @seconds, naming @what. */
void        lb_test_ui_wait_until     (gboolean   (*done) (gpointer data),
                                       gpointer      data,
                                       guint         seconds,
                                       const char   *what);
/* Iterates the main loop until @count messages of @mailbox match the IMAP
 * SEARCH @criteria, as @user sees them in a session of their own; fails
 * the test after @seconds, naming @what. */
void        lb_test_ui_wait_for_imap_count (const char *user,
                                            const char *password,
                                            const char *mailbox,
                                            const char *criteria,
                                            guint       count,
                                            guint       seconds,
                                            const char *what);
/* Iterates the main loop for @ms milliseconds. */
void        lb_test_ui_spin           (guint         ms);
/* Waits until @widget is mapped and one frame of it has been painted. */
void        lb_test_ui_wait_for_frame (GtkWidget    *widget);
/* The first descendant of @widget (itself included) of @type, depth first;
 * with @label, the first whose label (a GtkButton's or GtkLabel's) is
 * @label. */
GtkWidget  *lb_test_ui_find           (GtkWidget    *widget,
                                       GType         type,
                                       const char   *label);
/* The first toplevel of @type that is not @except. */
GtkWindow  *lb_test_ui_find_toplevel  (GType         type,
                                       GtkWindow    *except);
/* Every descendant of @widget (itself included) of @type, depth first. */
GPtrArray  *lb_test_ui_find_all       (GtkWidget    *widget,
                                       GType         type);
/* The first descendant of @widget (itself included) whose widget name
 * (gtk_widget_set_name(), "name" in a .ui) is @name. */
GtkWidget  *lb_test_ui_find_named     (GtkWidget    *widget,
                                       const char   *name);
/* The first descendant of @widget (itself included) that its template
 * names @id; fails the test if there is none. */
gpointer    lb_test_ui_get_by_id      (GtkWidget    *widget,
                                       const char   *id);
/* Iterates the main loop until *@result is set (by lb_test_store_result()
 * for one) and returns it; fails the test after @seconds, naming @what. */
GAsyncResult *lb_test_ui_wait_for_result (GAsyncResult **result,
                                          guint          seconds,
                                          const char    *what);
/* Renders @widget as on screen once a frame of it is painted, saves it as
 * @name (a PNG) in the build directory, and returns the picture. */
GdkTexture *lb_test_ui_render         (GtkWidget    *widget,
                                       const char   *name);
/* How many different colours @texture has (a blank window has 1-2). */
guint       lb_test_ui_count_colours  (GdkTexture   *texture);
/* lb_test_ui_render(), returning how many colours the picture has. */
guint       lb_test_ui_screenshot     (GtkWidget    *widget,
                                       const char   *name);

G_END_DECLS
