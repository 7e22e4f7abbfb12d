/* lb-test-composer.c: finding and typing into the composer, for UI tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "lb-test-composer.h"
#include "lb-test-ui.h"

static gboolean
composer_open (gpointer data)
{
  return lb_test_ui_find_toplevel (LB_TYPE_COMPOSER_WINDOW, NULL) != NULL;
}

LbComposerWindow *
lb_test_composer_wait (const char *what)
{
  LbComposerWindow *composer;

  lb_test_ui_wait_until (composer_open, NULL, 30, what);
  composer = LB_COMPOSER_WINDOW (lb_test_ui_find_toplevel (LB_TYPE_COMPOSER_WINDOW, NULL));
  lb_test_ui_wait_for_frame (GTK_WIDGET (composer));
  return composer;
}

void
lb_test_composer_type_into (LbComposerWindow *composer,
                            const char       *id,
                            const char       *text)
{
  GtkWidget *entry = lb_test_ui_get_by_id (GTK_WIDGET (composer), id);

  gtk_widget_grab_focus (entry);
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
}

void
lb_test_composer_type_body (LbComposerWindow *composer,
                            const char       *text)
{
  GtkTextView *view = lb_test_ui_get_by_id (GTK_WIDGET (composer), "body_view");
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  GtkTextIter start;

  gtk_widget_grab_focus (GTK_WIDGET (view));
  gtk_text_buffer_get_start_iter (buffer, &start);
  gtk_text_buffer_insert (buffer, &start, text, -1);
}

char *
lb_test_composer_dup_body (LbComposerWindow *composer)
{
  GtkTextView *view = lb_test_ui_get_by_id (GTK_WIDGET (composer), "body_view");
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}
