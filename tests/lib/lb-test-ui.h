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
/* Renders @widget as on screen, saves it as @name (a PNG) in the build
 * directory, and returns how many colours it has (a blank one has 1-2). */
guint       lb_test_ui_screenshot     (GtkWidget    *widget,
                                       const char   *name);

G_END_DECLS
