/* test-message-view.c: the message view on a real X server (the harness's
 * Xvfb): text with quoted text collapsed, attachments listed and saved,
 * broken parts, and HTML that must not reach the network (a loopback HTTP
 * listener counts every request) nor run scripts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>
#if HAVE_WEBKIT
#include <webkit/webkit.h>
#endif

#include "lb-html-module.h"
#include "lb-message-view.h"

/* ---- a loopback HTTP server that counts requests ----------------------- */

typedef struct
{
  GSocketService *service;
  guint16         port;
  int             hits;
  GMutex          lock;
  GPtrArray      *paths;
  GBytes         *png;
} HttpCounter;

static gboolean
http_run (GThreadedSocketService *service,
          GSocketConnection      *connection,
          GObject                *source_object,
          gpointer                user_data)
{
  HttpCounter *counter = user_data;
  g_autoptr(GDataInputStream) in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_autofree char *request = NULL;
  g_autofree char *header = NULL;
  g_auto(GStrv) words = NULL;
  const char *type = "text/plain";
  gconstpointer body = "nothing";
  gsize body_len = 7;

  g_atomic_int_inc (&counter->hits);
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (in), FALSE);
  request = g_data_input_stream_read_line (in, NULL, NULL, NULL);
  if (request == NULL)
    return TRUE;
  words = g_strsplit (request, " ", 3);
  g_mutex_lock (&counter->lock);
  g_ptr_array_add (counter->paths, g_strdup (words[1] != NULL ? words[1] : ""));
  g_mutex_unlock (&counter->lock);

  while (TRUE)
    {
      g_autofree char *line = g_data_input_stream_read_line (in, NULL, NULL, NULL);

      if (line == NULL || line[0] == '\0' || g_str_equal (line, "\r"))
        break;
    }

  if (words[1] != NULL && g_str_has_suffix (words[1], ".png"))
    {
      type = "image/png";
      body = g_bytes_get_data (counter->png, &body_len);
    }
  else if (words[1] != NULL && g_str_has_suffix (words[1], ".css"))
    {
      type = "text/css";
      body = "body { color: #802020; }";
      body_len = strlen (body);
    }

  header = g_strdup_printf ("HTTP/1.0 200 OK\r\nContent-Type: %s\r\nContent-Length: %" G_GSIZE_FORMAT
                            "\r\nConnection: close\r\n\r\n", type, body_len);
  g_output_stream_write_all (out, header, strlen (header), NULL, NULL, NULL);
  g_output_stream_write_all (out, body, body_len, NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);

  return TRUE;
}

static GBytes *
red_png (void)
{
  g_autofree guint32 *pixels = g_new (guint32, 40 * 40);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  for (guint i = 0; i < 40 * 40; i++)
    pixels[i] = 0xffff0000; /* B8G8R8A8 premultiplied on little endian: opaque red */
  bytes = g_bytes_new (pixels, 40 * 40 * 4);
  texture = gdk_memory_texture_new (40, 40, GDK_MEMORY_DEFAULT, bytes, 40 * 4);

  return gdk_texture_save_to_png_bytes (texture);
}

static HttpCounter *
http_counter_new (void)
{
  HttpCounter *counter = g_new0 (HttpCounter, 1);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  g_mutex_init (&counter->lock);
  counter->paths = g_ptr_array_new_with_free_func (g_free);
  counter->png = red_png ();
  counter->service = g_threaded_socket_service_new (4);
  g_socket_listener_add_address (G_SOCKET_LISTENER (counter->service), address,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &effective, &error);
  g_assert_no_error (error);
  counter->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (counter->service, "run", G_CALLBACK (http_run), counter);
  g_socket_service_start (counter->service);

  return counter;
}

static void
http_counter_free (HttpCounter *counter)
{
  g_socket_service_stop (counter->service);
  g_socket_listener_close (G_SOCKET_LISTENER (counter->service));
  g_object_unref (counter->service);
  g_ptr_array_unref (counter->paths);
  g_bytes_unref (counter->png);
  g_mutex_clear (&counter->lock);
  g_free (counter);
}

G_GNUC_UNUSED static gboolean
http_counter_saw (HttpCounter *counter,
                  const char  *path)
{
  gboolean seen = FALSE;

  g_mutex_lock (&counter->lock);
  for (guint i = 0; i < counter->paths->len; i++)
    seen = seen || g_str_equal (g_ptr_array_index (counter->paths, i), path);
  g_mutex_unlock (&counter->lock);

  return seen;
}

/* ---- the view in a window ---------------------------------------------- */

typedef struct
{
  GSettings     *settings;
  GtkWindow     *window;
  LbMessageView *view;
  LbMessage     *message;
  HttpCounter   *http;
} Fixture;

static gboolean
wake_up (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
iterate_until (gboolean   *flag,
               const char *what)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  guint wake = g_timeout_add (50, wake_up, NULL);

  while (!*flag)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for %s", what);
      g_main_context_iteration (NULL, TRUE);
    }

  g_source_remove (wake);
}

static void
set_true (gboolean *flag)
{
  *flag = TRUE;
}

static void
iterate_for (guint ms)
{
  gboolean done = FALSE;
  guint id = g_timeout_add_once (ms, (GSourceOnceFunc) set_true, &done);

  iterate_until (&done, "a pause");
  (void) id;
}

static void
wait_for_frame (GtkWidget *widget)
{
  GdkFrameClock *clock;
  gboolean painted = FALSE;
  gulong handler;

  clock = gtk_widget_get_frame_clock (widget);
  handler = g_signal_connect_swapped (clock, "after-paint", G_CALLBACK (set_true), &painted);
  gtk_widget_queue_draw (widget);
  iterate_until (&painted, "a frame to be painted");
  g_signal_handler_disconnect (clock, handler);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  gboolean mapped = FALSE;

  fixture->settings = g_settings_new (APP_ID);
  g_settings_reset (fixture->settings, "prefer-plain-text");
  g_settings_reset (fixture->settings, "remote-content-senders");
  fixture->http = http_counter_new ();
  fixture->message = lb_message_new ();
  fixture->view = LB_MESSAGE_VIEW (lb_message_view_new (fixture->settings));
  fixture->window = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (fixture->window, 800, 700);
  gtk_window_set_child (fixture->window, GTK_WIDGET (fixture->view));
  g_signal_connect_swapped (fixture->window, "map", G_CALLBACK (set_true), &mapped);
  gtk_window_present (fixture->window);
  iterate_until (&mapped, "the window to be mapped");
  wait_for_frame (GTK_WIDGET (fixture->window));
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  gtk_window_destroy (fixture->window);
  iterate_for (50);
  g_clear_object (&fixture->message);
  http_counter_free (fixture->http);
  g_clear_object (&fixture->settings);
}

static void
show_raw (Fixture    *fixture,
          const char *raw)
{
  g_autoptr(GBytes) bytes = g_bytes_new (raw, strlen (raw));
  gboolean rendered = FALSE;
  gulong handler = g_signal_connect_swapped (fixture->view, "rendered", G_CALLBACK (set_true), &rendered);

  lb_message_view_show_message (fixture->view, fixture->message, bytes);
  g_assert_false (lb_message_view_get_rendered (fixture->view));
  iterate_until (&rendered, "the message to be rendered");
  g_signal_handler_disconnect (fixture->view, handler);
  g_assert_true (lb_message_view_get_rendered (fixture->view));
  g_assert_true (lb_message_view_get_message (fixture->view) == fixture->message);
}

static void
screenshot (Fixture    *fixture,
            const char *name)
{
  GtkWidget *widget = GTK_WIDGET (fixture->window);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *file = g_strdup_printf ("screenshot-message-view-%s.png", name);
  g_autofree char *path = g_test_build_filename (G_TEST_BUILT, file, NULL);
  int width = 0, height = 0;

  /* a widget waiting for a new size has nothing to show yet */
  for (guint i = 0; node == NULL && i < 50; i++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();

      wait_for_frame (widget);
      width = gtk_widget_get_width (widget);
      height = gtk_widget_get_height (widget);
      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
      node = gtk_snapshot_free_to_node (snapshot);
      if (node == NULL)
        g_test_message ("no node after frame %u", i);
    }
  g_assert_cmpint (width, >, 0);
  g_assert_cmpint (height, >, 0);
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)),
                                         node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
}

/* The first descendant of @widget of @type for which @match says yes. */
static GtkWidget *
find_widget (GtkWidget *widget,
             GType      type,
             gboolean (*match) (GtkWidget *, gconstpointer),
             gconstpointer data)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type) && (match == NULL || match (widget, data)))
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, type, match, data);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static gboolean
label_contains (GtkWidget     *label,
                gconstpointer  text)
{
  return strstr (gtk_label_get_text (GTK_LABEL (label)), text) != NULL;
}

static gboolean
label_is (GtkWidget     *label,
          gconstpointer  text)
{
  return g_str_equal (gtk_label_get_text (GTK_LABEL (label)), text);
}

static gboolean
has_name (GtkWidget     *widget,
          gconstpointer  name)
{
  return g_str_equal (gtk_widget_get_name (widget), name);
}

static gboolean
has_class (GtkWidget     *widget,
           gconstpointer  name)
{
  return gtk_widget_has_css_class (widget, name);
}

static GtkWidget *
find_label (Fixture    *fixture,
            const char *text)
{
  return find_widget (GTK_WIDGET (fixture->view), GTK_TYPE_LABEL, label_contains, text);
}

static gboolean
banner_shown (Fixture *fixture)
{
  GtkWidget *banner = find_widget (GTK_WIDGET (fixture->view), GTK_TYPE_REVEALER, has_name,
                                   "remote-content-banner");

  g_assert_nonnull (banner);
  return gtk_revealer_get_reveal_child (GTK_REVEALER (banner));
}

/* ---- plain text --------------------------------------------------------- */

static const char plain_message[] =
  "From: Alice Example <alice@example.test>\r\n"
  "To: Bob <bob@example.test>, carol@example.test\r\n"
  "Cc: Dave <dave@example.test>\r\n"
  "Subject: Lunch on Friday\r\n"
  "Date: Thu, 26 Nov 2026 12:00:00 +0000\r\n"
  "Message-ID: <plain@example.test>\r\n"
  "MIME-Version: 1.0\r\n"
  "Content-Type: text/plain; charset=utf-8\r\n"
  "\r\n"
  "Hello Bob, Friday at noon works for me.\r\n"
  "See https://example.test/menu for the menu.\r\n"
  "\r\n"
  "On Wednesday, Bob wrote:\r\n"
  "> Shall we have lunch on Friday?\r\n"
  "> > An older quoted line\r\n"
  "\r\n"
  "-- \r\n"
  "Alice\r\n";

static void
clipboard_read (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  char **text = user_data;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, NULL);
  if (*text == NULL)
    *text = g_strdup ("");
}

static void
test_plain (Fixture       *fixture,
            gconstpointer  user_data)
{
  GtkWidget *body;
  GtkWidget *expander;
  GtkWidget *quoted;
  GtkWidget *address;
  g_autofree char *copied = NULL;

  show_raw (fixture, plain_message);
  wait_for_frame (GTK_WIDGET (fixture->window));

  g_assert_nonnull (find_widget (GTK_WIDGET (fixture->view), GTK_TYPE_LABEL, label_is, "Lunch on Friday"));
  body = find_label (fixture, "Friday at noon works for me");
  g_assert_nonnull (body);
  g_assert_true (gtk_widget_get_mapped (body));
  /* the URL is a link */
  g_assert_nonnull (strstr (gtk_label_get_label (GTK_LABEL (body)), "<a href=\"https://example.test/menu\">"));

  /* the quoted text is there, collapsed */
  expander = find_widget (GTK_WIDGET (fixture->view), GTK_TYPE_EXPANDER, NULL, NULL);
  g_assert_nonnull (expander);
  g_assert_false (gtk_expander_get_expanded (GTK_EXPANDER (expander)));
  /* a collapsed expander keeps its child out of the widget tree */
  quoted = find_widget (gtk_expander_get_child (GTK_EXPANDER (expander)), GTK_TYPE_LABEL,
                        label_contains, "Shall we have lunch");
  g_assert_nonnull (quoted);
  g_assert_false (gtk_widget_get_mapped (quoted));
  g_assert_null (find_widget (body, GTK_TYPE_LABEL, label_contains, "Shall we have lunch"));
  g_assert_nonnull (find_widget (gtk_expander_get_child (GTK_EXPANDER (expander)), GTK_TYPE_LABEL,
                                 label_contains, "An older quoted line"));
  screenshot (fixture, "plain");

  gtk_expander_set_expanded (GTK_EXPANDER (expander), TRUE);
  wait_for_frame (GTK_WIDGET (fixture->window));
  g_assert_true (gtk_widget_get_mapped (quoted));
  g_assert_nonnull (find_label (fixture, "Alice"));

  /* the headers: each address a button whose menu copies it */
  g_assert_nonnull (find_widget (GTK_WIDGET (fixture->view), GTK_TYPE_LABEL, label_is, "Alice Example"));
  g_assert_nonnull (find_widget (GTK_WIDGET (fixture->view), GTK_TYPE_LABEL, label_is, "carol@example.test"));
  g_assert_nonnull (find_widget (GTK_WIDGET (fixture->view), GTK_TYPE_LABEL, label_is, "Dave"));
  address = find_widget (GTK_WIDGET (fixture->view), GTK_TYPE_MENU_BUTTON, NULL, NULL);
  g_assert_nonnull (address);
  g_assert_cmpstr (gtk_widget_get_tooltip_text (address), ==, "Alice Example <alice@example.test>");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->view), "message-view.copy-address",
                                             "s", "alice@example.test"));
  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (GTK_WIDGET (fixture->view)), NULL,
                                 clipboard_read, &copied);
  while (copied == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (copied, ==, "alice@example.test");
  g_assert_false (lb_message_view_get_remote_content_blocked (fixture->view));
  g_assert_cmpuint (lb_message_view_get_n_attachments (fixture->view), ==, 0);

  lb_message_view_clear (fixture->view);
  g_assert_null (lb_message_view_get_message (fixture->view));
  g_assert_null (find_label (fixture, "Friday at noon"));
}

/* ---- attachments -------------------------------------------------------- */

static const char attachments_message[] =
  "From: Alice <alice@example.test>\r\n"
  "To: bob@example.test\r\n"
  "Subject: The files\r\n"
  "MIME-Version: 1.0\r\n"
  "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
  "\r\n"
  "--b1\r\n"
  "Content-Type: text/plain; charset=us-ascii\r\n"
  "\r\n"
  "Here are the files.\r\n"
  "--b1\r\n"
  "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
  "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
  "Content-Transfer-Encoding: base64\r\n"
  "\r\n"
  "%s\r\n"
  "--b1\r\n"
  "Content-Type: text/plain; charset=utf-8; name=\"notes.txt\"\r\n"
  "Content-Disposition: attachment; filename=\"notes.txt\"\r\n"
  "\r\n"
  "first line\r\n"
  "second line\r\n"
  "--b1\r\n"
  "Content-Type: text/plain; name=\"notes.txt\"\r\n"
  "Content-Disposition: attachment; filename=\"notes.txt\"\r\n"
  "Content-Transfer-Encoding: base64\r\n"
  "\r\n"
  "b3RoZXIgbm90ZXM=\r\n"
  "--b1--\r\n";

static void
saved (LbMessageView *view,
       GFile         *directory,
       guint          n,
       gpointer       user_data)
{
  *(guint *) user_data = n;
}

static void
assert_file (const char *dir,
             const char *name,
             gconstpointer expected,
             gsize       expected_len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (contents, len, expected, expected_len);
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_remove (path);
    }
  g_rmdir (dir);
}

static void
test_attachments (Fixture       *fixture,
                  gconstpointer  user_data)
{
  guchar binary[1000];
  g_autofree char *encoded = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *size = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *list;
  guint n_saved = 0;

  for (guint i = 0; i < sizeof binary; i++)
    binary[i] = (guchar) (i * 7 + 3);
  encoded = g_base64_encode (binary, sizeof binary);
  raw = g_strdup_printf (attachments_message, encoded);

  show_raw (fixture, raw);
  g_assert_cmpuint (lb_message_view_get_n_attachments (fixture->view), ==, 3);
  g_assert_nonnull (find_label (fixture, "Here are the files."));

  list = find_widget (GTK_WIDGET (fixture->view), GTK_TYPE_BOX, has_name, "attachments");
  g_assert_nonnull (list);
  g_assert_true (gtk_widget_get_visible (list));
  g_assert_nonnull (find_widget (list, GTK_TYPE_LABEL, label_is, "data.bin"));
  g_assert_nonnull (find_widget (list, GTK_TYPE_LABEL, label_is, "notes.txt"));
  size = g_format_size (sizeof binary);
  g_assert_nonnull (find_widget (list, GTK_TYPE_LABEL, label_contains, size));
  g_assert_nonnull (find_widget (list, GTK_TYPE_LABEL, label_contains, "3 Attachments"));
  /* the text attachment is not shown as the body */
  g_assert_null (find_widget (GTK_WIDGET (fixture->view), GTK_TYPE_LABEL, label_contains, "second line"));
  screenshot (fixture, "attachments");

  dir = g_dir_make_tmp ("test-message-view-XXXXXX", &error);
  g_assert_no_error (error);
  g_signal_connect (fixture->view, "attachments-saved", G_CALLBACK (saved), &n_saved);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->view), "message-view.save-all-to", "s", dir));
  while (n_saved == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (n_saved, ==, 3);

  assert_file (dir, "data.bin", binary, sizeof binary);
  assert_file (dir, "notes.txt", "first line\r\nsecond line", 23);
  assert_file (dir, "notes (2).txt", "other notes", 11);

  /* again: nothing is overwritten */
  n_saved = 0;
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->view), "message-view.save-all-to", "s", dir));
  while (n_saved == 0)
    g_main_context_iteration (NULL, TRUE);
  assert_file (dir, "data (2).bin", binary, sizeof binary);
  assert_file (dir, "notes.txt", "first line\r\nsecond line", 23);
  assert_file (dir, "notes (4).txt", "other notes", 11);

  remove_dir (dir);
}

/* ---- broken parts -------------------------------------------------------- */

static const char broken_message[] =
  "From: Alice <alice@example.test>\r\n"
  "To: bob@example.test\r\n"
  "Subject: Partly broken\r\n"
  "MIME-Version: 1.0\r\n"
  "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
  "\r\n"
  "--b1\r\n"
  "Content-Type: text/plain\r\n"
  "\r\n"
  "Text before the broken part.\r\n"
  "--b1\r\n"
  "Content-Type: message/rfc822\r\n"
  "\r\n"
  "\r\n"
  "--b1\r\n"
  "Content-Type: text/plain\r\n"
  "\r\n"
  "Text after the broken part.\r\n"
  "--b1\r\n"
  "Content-Type: application/pdf; name=\"cut.pdf\"\r\n"
  "Content-Disposition: attachment; filename=\"cut.pdf\"\r\n"
  "Content-Transfer-Encoding: base64\r\n"
  "\r\n"
  "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29k\r\n";

static void
test_broken (Fixture       *fixture,
             gconstpointer  user_data)
{
  GtkWidget *problem;

  show_raw (fixture, broken_message);
  g_assert_nonnull (find_label (fixture, "Text before the broken part."));
  g_assert_nonnull (find_label (fixture, "Text after the broken part."));
  problem = find_widget (GTK_WIDGET (fixture->view), GTK_TYPE_BOX, has_class, "lb-part-problem");
  g_assert_nonnull (problem);
  g_assert_true (gtk_widget_get_mapped (problem));
  g_assert_nonnull (find_widget (problem, GTK_TYPE_LABEL, label_contains, "could not be shown"));
  screenshot (fixture, "broken");
}

/* ---- HTML ---------------------------------------------------------------- */

static char *
html_message (Fixture *fixture)
{
  return g_strdup_printf (
    "From: Shop <news@shop.example.test>\r\n"
    "To: bob@example.test\r\n"
    "Subject: Offers\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<!DOCTYPE html><html><head><title>Original</title>"
    "<link rel=\"stylesheet\" href=\"http://127.0.0.1:%u/style.css\">"
    "<script>fetch('http://127.0.0.1:%u/script'); document.title = 'Scripted';</script>"
    "</head><body>"
    "<h1>This week's offers</h1>"
    "<p>A remote image: <img src=\"http://127.0.0.1:%u/image.png\" width=\"40\" height=\"40\"></p>"
    "<iframe src=\"http://127.0.0.1:%u/frame\"></iframe>"
    "<p onmouseover=\"fetch('http://127.0.0.1:%u/handler')\">The end.</p>"
    "</body></html>\r\n",
    fixture->http->port, fixture->http->port, fixture->http->port, fixture->http->port,
    fixture->http->port);
}

static void
test_html_as_text (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autofree char *raw = html_message (fixture);

  /* without WebKit HTML is always shown as text */
#if HAVE_WEBKIT
  g_settings_set_boolean (fixture->settings, "prefer-plain-text", TRUE);
#endif
  show_raw (fixture, raw);
  iterate_for (500);

  g_assert_nonnull (find_label (fixture, "This week's offers"));
  g_assert_nonnull (find_label (fixture, "The end."));
  g_assert_null (find_label (fixture, "<h1>"));
#if HAVE_WEBKIT
  g_assert_null (find_widget (GTK_WIDGET (fixture->view), WEBKIT_TYPE_WEB_VIEW, NULL, NULL));
#endif
  g_assert_false (banner_shown (fixture));
  g_assert_cmpint (g_atomic_int_get (&fixture->http->hits), ==, 0);
  screenshot (fixture, "html-as-text");
}

/* WebKitGTK not installed (the HTML view's module does not load): HTML is
 * shown as text, whatever the preference. Run with LB_MODULE_DIR naming a
 * directory without the module (the meson test message-view-no-module). */
static void
test_html_without_module (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autofree char *raw = NULL;

  if (lb_html_module_get () != NULL)
    {
      g_test_skip ("the HTML view's module is loaded");
      return;
    }
  raw = html_message (fixture);
  g_settings_set_boolean (fixture->settings, "prefer-plain-text", FALSE);
  show_raw (fixture, raw);
  iterate_for (500);

  g_assert_nonnull (find_label (fixture, "This week's offers"));
  g_assert_nonnull (find_label (fixture, "The end."));
  g_assert_null (find_label (fixture, "<h1>"));
  g_assert_cmpuint (g_type_from_name ("LbHtmlView"), ==, G_TYPE_INVALID);
  g_assert_false (banner_shown (fixture));
  g_assert_cmpint (g_atomic_int_get (&fixture->http->hits), ==, 0);
  screenshot (fixture, "html-without-module");
}

#if HAVE_WEBKIT
static void
test_html_blocked (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autofree char *raw = html_message (fixture);
  WebKitWebView *web_view;
  gboolean rendered = FALSE;
  g_auto(GStrv) senders = NULL;

  show_raw (fixture, raw);
  web_view = WEBKIT_WEB_VIEW (find_widget (GTK_WIDGET (fixture->view), WEBKIT_TYPE_WEB_VIEW, NULL, NULL));
  g_assert_nonnull (web_view);
  /* the view is as tall as the document */
  wait_for_frame (GTK_WIDGET (fixture->window));
  g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (web_view)), >, 100);

  /* a while more: nothing is loaded late either */
  iterate_for (1500);
  g_assert_cmpint (g_atomic_int_get (&fixture->http->hits), ==, 0);
  g_assert_cmpstr (webkit_web_view_get_title (web_view), ==, "Original");
  g_assert_true (banner_shown (fixture));
  g_assert_true (lb_message_view_get_remote_content_blocked (fixture->view));
  g_assert_nonnull (find_label (fixture, "Always Show From news@shop.example.test"));
  screenshot (fixture, "html-blocked");

  /* Show Once: the image and the style sheet load, the script still does not
   * run and the frame stays empty */
  g_signal_connect_swapped (fixture->view, "rendered", G_CALLBACK (set_true), &rendered);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->view), "message-view.show-remote-once", NULL));
  iterate_until (&rendered, "the message with remote content");
  iterate_for (1000);
  g_assert_cmpint (g_atomic_int_get (&fixture->http->hits), >, 0);
  g_assert_true (http_counter_saw (fixture->http, "/image.png"));
  g_assert_false (http_counter_saw (fixture->http, "/script"));
  g_assert_false (http_counter_saw (fixture->http, "/frame"));
  g_assert_false (http_counter_saw (fixture->http, "/handler"));
  g_assert_cmpstr (webkit_web_view_get_title (web_view), ==, "Original");
  g_assert_false (banner_shown (fixture));
  g_assert_false (lb_message_view_get_remote_content_blocked (fixture->view));
  /* once only: the sender is not remembered */
  senders = g_settings_get_strv (fixture->settings, "remote-content-senders");
  g_assert_cmpuint (g_strv_length (senders), ==, 0);
  screenshot (fixture, "html-remote-once");

  /* another message: the web view is no longer shown (the message view
   * keeps it for the next HTML message) */
  show_raw (fixture, plain_message);
  iterate_for (200);
  g_assert_null (find_widget (GTK_WIDGET (fixture->view), WEBKIT_TYPE_WEB_VIEW, NULL, NULL));
  g_assert_false (gtk_widget_get_mapped (GTK_WIDGET (web_view)));
}

static void
test_html_always (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autofree char *raw = html_message (fixture);
  g_auto(GStrv) senders = NULL;
  gboolean rendered = FALSE;
  int hits;

  show_raw (fixture, raw);
  g_assert_true (banner_shown (fixture));
  g_signal_connect_swapped (fixture->view, "rendered", G_CALLBACK (set_true), &rendered);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->view), "message-view.always-show-remote", NULL));
  iterate_until (&rendered, "the message with remote content");
  senders = g_settings_get_strv (fixture->settings, "remote-content-senders");
  g_assert_cmpstrv (senders, ((const char *[]) { "news@shop.example.test", NULL }));

  /* the next message from that sender loads at once, without the banner */
  lb_message_view_clear (fixture->view);
  iterate_for (300);
  hits = g_atomic_int_get (&fixture->http->hits);
  show_raw (fixture, raw);
  iterate_for (500);
  g_assert_false (banner_shown (fixture));
  g_assert_cmpint (g_atomic_int_get (&fixture->http->hits), >, hits);
  g_assert_false (http_counter_saw (fixture->http, "/script"));
}

/* Two HTML messages one after the other in the same view: the second
 * (another sender) is blocked again after "Show Once" on the first, is
 * shown by the same web view, and a late load or measurement of a message
 * replaced before it rendered does not apply to the next one. */
static char *
other_html_message (Fixture    *fixture,
                    const char *title,
                    int         height)
{
  return g_strdup_printf (
    "From: Other <someone@other.example.test>\r\n"
    "To: bob@example.test\r\n"
    "Subject: %s\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<!DOCTYPE html><html><head><title>%s</title></head><body>"
    "<div style=\"height: %dpx\">%s</div>"
    "<p><img src=\"http://127.0.0.1:%u/%s.png\" width=\"40\" height=\"40\"></p>"
    "</body></html>\r\n",
    title, title, height, title, fixture->http->port, title);
}

static void
test_html_two_messages (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autofree char *first = html_message (fixture);
  g_autofree char *second = other_html_message (fixture, "second", 200);
  g_autofree char *tall = other_html_message (fixture, "tall", 5000);
  g_autofree char *short_one = other_html_message (fixture, "short", 150);
  g_autoptr(GBytes) tall_bytes = g_bytes_new (tall, strlen (tall));
  WebKitWebView *web_view;
  WebKitWebView *again;
  gboolean rendered = FALSE;
  gulong handler;

  show_raw (fixture, first);
  web_view = WEBKIT_WEB_VIEW (find_widget (GTK_WIDGET (fixture->view), WEBKIT_TYPE_WEB_VIEW, NULL, NULL));
  g_assert_nonnull (web_view);
  g_assert_true (banner_shown (fixture));
  handler = g_signal_connect_swapped (fixture->view, "rendered", G_CALLBACK (set_true), &rendered);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->view), "message-view.show-remote-once", NULL));
  iterate_until (&rendered, "the message with remote content");
  g_signal_handler_disconnect (fixture->view, handler);
  iterate_for (500);
  g_assert_true (http_counter_saw (fixture->http, "/image.png"));

  /* the next message, from someone else: blocked again, in the same web
   * view */
  show_raw (fixture, second);
  again = WEBKIT_WEB_VIEW (find_widget (GTK_WIDGET (fixture->view), WEBKIT_TYPE_WEB_VIEW, NULL, NULL));
  g_assert_true (again == web_view);
  iterate_for (1000);
  g_assert_cmpstr (webkit_web_view_get_title (web_view), ==, "second");
  g_assert_true (banner_shown (fixture));
  g_assert_true (lb_message_view_get_remote_content_blocked (fixture->view));
  g_assert_false (http_counter_saw (fixture->http, "/second.png"));
  screenshot (fixture, "html-second-blocked");

  /* a tall message replaced while it loads by a short one: the tall one's
   * load and measurement, whenever they come, leave the short one alone */
  lb_message_view_show_message (fixture->view, fixture->message, tall_bytes);
  /* parsed and loading: its web view is back in the message view */
  while (find_widget (GTK_WIDGET (fixture->view), WEBKIT_TYPE_WEB_VIEW, NULL, NULL) == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (lb_message_view_get_rendered (fixture->view));
  show_raw (fixture, short_one);
  handler = g_signal_connect_swapped (fixture->view, "rendered", G_CALLBACK (set_true), &rendered);
  rendered = FALSE;
  iterate_for (1500);
  g_signal_handler_disconnect (fixture->view, handler);
  g_assert_false (rendered);
  g_assert_cmpstr (webkit_web_view_get_title (web_view), ==, "short");
  wait_for_frame (GTK_WIDGET (fixture->window));
  g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (web_view)), >, 100);
  g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (web_view)), <, 1000);
  g_assert_true (banner_shown (fixture));
  g_assert_false (http_counter_saw (fixture->http, "/tall.png"));
  g_assert_false (http_counter_saw (fixture->http, "/short.png"));
}

static void
image_pixel_red (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  int *red = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JSCValue) value = webkit_web_view_evaluate_javascript_finish (WEBKIT_WEB_VIEW (source), result, &error);

  g_assert_no_error (error);
  *red = jsc_value_to_int32 (value);
}

static void
test_html_cid (Fixture       *fixture,
               gconstpointer  user_data)
{
  g_autoptr(GBytes) png = red_png ();
  g_autofree char *encoded = g_base64_encode (g_bytes_get_data (png, NULL), g_bytes_get_size (png));
  g_autofree char *raw = g_strdup_printf (
    "From: Alice <alice@example.test>\r\n"
    "To: bob@example.test\r\n"
    "Subject: A picture\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/related; boundary=\"r1\"\r\n"
    "\r\n"
    "--r1\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<html><body><p>The picture:</p><img id=\"pic\" src=\"cid:pic1@example.test\"></body></html>\r\n"
    "--r1\r\n"
    "Content-Type: image/png\r\n"
    "Content-ID: <pic1@example.test>\r\n"
    "Content-Disposition: inline; filename=\"red.png\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "%s\r\n"
    "--r1--\r\n", encoded);
  WebKitWebView *web_view;
  int width = -1;

  show_raw (fixture, raw);
  web_view = WEBKIT_WEB_VIEW (find_widget (GTK_WIDGET (fixture->view), WEBKIT_TYPE_WEB_VIEW, NULL, NULL));
  g_assert_nonnull (web_view);
  iterate_for (500);

  /* the picture is loaded from the part: it has its size (asked the way
   * the view measures the document: JavaScript on for that moment) */
  webkit_settings_set_enable_javascript (webkit_web_view_get_settings (web_view), TRUE);
  webkit_web_view_evaluate_javascript (web_view, "document.getElementById('pic').naturalWidth", -1,
                                       "letterbox-test", NULL, NULL, image_pixel_red, &width);
  while (width < 0)
    g_main_context_iteration (NULL, TRUE);
  webkit_settings_set_enable_javascript (webkit_web_view_get_settings (web_view), FALSE);
  g_assert_cmpint (width, ==, 40);
  g_assert_cmpint (g_atomic_int_get (&fixture->http->hits), ==, 0);
  g_assert_false (banner_shown (fixture));
  /* shown by the HTML, not again below it */
  g_assert_null (find_widget (GTK_WIDGET (fixture->view), GTK_TYPE_PICTURE, NULL, NULL));
  screenshot (fixture, "html-cid");
}
#endif

static void
test_remote_heuristic (void)
{
  g_assert_true (lb_message_view_html_has_remote_content ("<img src=\"https://t.example/p.gif\">"));
  g_assert_true (lb_message_view_html_has_remote_content ("<IMG SRC = 'HTTP://t.example/p.gif'>"));
  g_assert_true (lb_message_view_html_has_remote_content ("<div style=\"background: url(http://x/y)\">"));
  g_assert_true (lb_message_view_html_has_remote_content ("<link rel=stylesheet href=\"https://x/s.css\">"));
  g_assert_true (lb_message_view_html_has_remote_content ("<style>@import \"https://x/s.css\";</style>"));
  g_assert_true (lb_message_view_html_has_remote_content ("<td background=\"http://x/bg.png\">"));
  g_assert_false (lb_message_view_html_has_remote_content ("<a href=\"https://example.test/\">a link</a>"));
  g_assert_false (lb_message_view_html_has_remote_content ("<p>see https://example.test/ now</p>"));
  g_assert_false (lb_message_view_html_has_remote_content ("<img src=\"cid:x@y\">"));
  g_assert_false (lb_message_view_html_has_remote_content (""));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_mime_init ();

  g_test_add_func ("/ui/message-view/remote-heuristic", test_remote_heuristic);
  g_test_add ("/ui/message-view/plain", Fixture, NULL, fixture_set_up, test_plain, fixture_tear_down);
  g_test_add ("/ui/message-view/attachments", Fixture, NULL, fixture_set_up, test_attachments, fixture_tear_down);
  g_test_add ("/ui/message-view/broken", Fixture, NULL, fixture_set_up, test_broken, fixture_tear_down);
  g_test_add ("/ui/message-view/html-as-text", Fixture, NULL, fixture_set_up, test_html_as_text, fixture_tear_down);
  g_test_add ("/ui/message-view/html-without-module", Fixture, NULL, fixture_set_up, test_html_without_module,
              fixture_tear_down);
#if HAVE_WEBKIT
  g_test_add ("/ui/message-view/html-blocked", Fixture, NULL, fixture_set_up, test_html_blocked, fixture_tear_down);
  g_test_add ("/ui/message-view/html-always", Fixture, NULL, fixture_set_up, test_html_always, fixture_tear_down);
  g_test_add ("/ui/message-view/html-cid", Fixture, NULL, fixture_set_up, test_html_cid, fixture_tear_down);
  g_test_add ("/ui/message-view/html-two-messages", Fixture, NULL, fixture_set_up, test_html_two_messages,
              fixture_tear_down);
#endif

  return g_test_run ();
}
