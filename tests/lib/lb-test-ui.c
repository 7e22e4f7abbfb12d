/* lb-test-ui.c: driving GTK widgets in tests on the harness's Xvfb
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-test"

#include "config.h"

#include "lb-test-session.h"
#include "lb-test-ui.h"

static gboolean
wake_up (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

void
lb_test_ui_wait_until (gboolean   (*done) (gpointer data),
                       gpointer      data,
                       guint         seconds,
                       const char   *what)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  guint wake = g_timeout_add (20, wake_up, NULL);

  while (!done (data))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for %s", what);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (wake);
}

static gboolean
time_is_up (gpointer data)
{
  return g_get_monotonic_time () >= *(gint64 *) data;
}

void
lb_test_ui_spin (guint ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;

  lb_test_ui_wait_until (time_is_up, &until, ms / 1000 + 5, "time to pass");
}

static void
set_true (gboolean *flag)
{
  *flag = TRUE;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *) data;
}

void
lb_test_ui_wait_for_frame (GtkWidget *widget)
{
  GdkFrameClock *clock;
  gboolean mapped = gtk_widget_get_mapped (widget);
  gboolean painted = FALSE;
  gulong handler;

  if (!mapped)
    {
      handler = g_signal_connect_swapped (widget, "map", G_CALLBACK (set_true), &mapped);
      lb_test_ui_wait_until (flag_set, &mapped, 20, "a widget to be mapped");
      g_signal_handler_disconnect (widget, handler);
    }

  clock = gtk_widget_get_frame_clock (widget);
  handler = g_signal_connect_swapped (clock, "after-paint", G_CALLBACK (set_true), &painted);
  gtk_widget_queue_draw (widget);
  lb_test_ui_wait_until (flag_set, &painted, 20, "a frame to be painted");
  g_signal_handler_disconnect (clock, handler);
}

static const char *
label_of (GtkWidget *widget)
{
  if (GTK_IS_BUTTON (widget))
    return gtk_button_get_label (GTK_BUTTON (widget));
  if (GTK_IS_LABEL (widget))
    return gtk_label_get_label (GTK_LABEL (widget));
  return NULL;
}

GtkWidget *
lb_test_ui_find (GtkWidget  *widget,
                 GType       type,
                 const char *label)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type) &&
      (label == NULL || g_strcmp0 (label_of (widget), label) == 0))
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = lb_test_ui_find (child, type, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}

GtkWindow *
lb_test_ui_find_toplevel (GType      type,
                          GtkWindow *except)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

      /* the list of toplevels keeps it alive: return it borrowed; a
       * window closed but not finalized yet is not shown */
      if (G_TYPE_CHECK_INSTANCE_TYPE (window, type) && window != except &&
          gtk_widget_get_visible (GTK_WIDGET (window)))
        return window;
    }
  return NULL;
}

static void
collect (GtkWidget *widget,
         GType      type,
         GPtrArray *out)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    g_ptr_array_add (out, widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, type, out);
}

GPtrArray *
lb_test_ui_find_all (GtkWidget *widget,
                     GType      type)
{
  GPtrArray *found = g_ptr_array_new ();

  collect (widget, type, found);
  return found;
}

GtkWidget *
lb_test_ui_find_named (GtkWidget  *widget,
                       const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0)
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = lb_test_ui_find_named (child, name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWidget *
find_by_id (GtkWidget  *widget,
            const char *id)
{
  if (g_strcmp0 (gtk_buildable_get_buildable_id (GTK_BUILDABLE (widget)), id) == 0)
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_by_id (child, id);

      if (found != NULL)
        return found;
    }
  return NULL;
}

gpointer
lb_test_ui_get_by_id (GtkWidget  *widget,
                      const char *id)
{
  GtkWidget *found = find_by_id (widget, id);

  if (found == NULL)
    g_error ("no widget “%s”", id);
  return found;
}

static gboolean
result_is_set (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

GAsyncResult *
lb_test_ui_wait_for_result (GAsyncResult **result,
                            guint          seconds,
                            const char    *what)
{
  lb_test_ui_wait_until (result_is_set, result, seconds, what);
  return *result;
}

GdkTexture *
lb_test_ui_render (GtkWidget  *widget,
                   const char *name)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GskRenderNode) node = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_BUILT, name, NULL);
  GdkTexture *texture;
  int width = 0, height = 0;

  /* What is on screen now: the paintable gives the widget's last drawn
   * frame, and none while a redraw is pending, so wait for one drawn. */
  for (guint tries = 0; node == NULL && tries < 50; tries++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();

      lb_test_ui_wait_for_frame (widget);
      width = gtk_widget_get_width (widget);
      height = gtk_widget_get_height (widget);
      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
      node = gtk_snapshot_free_to_node (snapshot);
    }
  if (node == NULL)
    g_error ("nothing to take a screenshot of (%s, mapped %d, %dx%d)", G_OBJECT_TYPE_NAME (widget), gtk_widget_get_mapped (widget), width, height);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)),
                                         node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    g_error ("could not save %s", path);
  g_test_message ("screenshot: %s", path);
  return texture;
}

guint
lb_test_ui_count_colours (GdkTexture *texture)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  g_autofree guint32 *pixels = g_new (guint32, (gsize) width * height);
  g_autoptr(GHashTable) colours = g_hash_table_new (NULL, NULL);

  gdk_texture_download (texture, (guchar *) pixels, (gsize) width * 4);
  for (gsize i = 0; i < (gsize) width * height; i++)
    g_hash_table_add (colours, GUINT_TO_POINTER (pixels[i]));
  return g_hash_table_size (colours);
}

guint
lb_test_ui_screenshot (GtkWidget  *widget,
                       const char *name)
{
  g_autoptr(GdkTexture) texture = lb_test_ui_render (widget, name);

  return lb_test_ui_count_colours (texture);
}

typedef struct
{
  const char *user;
  const char *password;
  const char *mailbox;
  const char *criteria;
  guint       count;
} ImapCount;

static gboolean
imap_count_reached (gpointer data)
{
  ImapCount *wait = data;
  g_autoptr(LbTestSession) session = lb_test_session_imap_login (wait->user, wait->password);
  guint n = lb_test_session_imap_count (session, wait->mailbox, wait->criteria);

  lb_test_session_imap_ok (session, "LOGOUT");
  /* the app's turn before the next look */
  if (n != wait->count)
    lb_test_ui_spin (200);
  return n == wait->count;
}

void
lb_test_ui_wait_for_imap_count (const char *user,
                                const char *password,
                                const char *mailbox,
                                const char *criteria,
                                guint       count,
                                guint       seconds,
                                const char *what)
{
  ImapCount wait = { user, password, mailbox, criteria, count };

  lb_test_ui_wait_until (imap_count_reached, &wait, seconds, what);
}
