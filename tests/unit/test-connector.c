/* test-connector.c: LbConnector against loopback sockets of the test's own
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "lb-connector.h"
#include "lb-net-security.h"
#include "lb-test-session.h"

static GIOStream *
connect_and_wait (LbConnector    *connector,
                  guint16         port,
                  LbNetSecurity   security,
                  GCancellable   *cancellable,
                  GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_connector_connect_async (connector, "127.0.0.1", port, security,
                              cancellable, lb_test_store_result, &result);
  lb_test_wait (&result);

  return lb_connector_connect_finish (connector, result, error);
}

static void
test_security_names (void)
{
  const LbNetSecurity all[] = { LB_NET_SECURITY_TLS, LB_NET_SECURITY_STARTTLS, LB_NET_SECURITY_NONE };
  LbNetSecurity parsed = LB_NET_SECURITY_NONE;

  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    {
      const char *name = lb_net_security_to_string (all[i]);

      g_assert_nonnull (name);
      g_assert_true (lb_net_security_from_string (name, &parsed));
      g_assert_cmpint (parsed, ==, all[i]);
    }

  /* the names are stored in account files */
  g_assert_cmpstr (lb_net_security_to_string (LB_NET_SECURITY_TLS), ==, "tls");
  g_assert_cmpstr (lb_net_security_to_string (LB_NET_SECURITY_STARTTLS), ==, "starttls");
  g_assert_cmpstr (lb_net_security_to_string (LB_NET_SECURITY_NONE), ==, "none");

  parsed = LB_NET_SECURITY_TLS;
  g_assert_false (lb_net_security_from_string ("ssl", &parsed));
  g_assert_false (lb_net_security_from_string ("", &parsed));
  g_assert_false (lb_net_security_from_string (NULL, &parsed));
  g_assert_cmpint (parsed, ==, LB_NET_SECURITY_TLS);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  guint *count = user_data;

  (*count)++;
}

static void
test_connector_properties (void)
{
  LbConnector *connector = lb_connector_new ();
  g_autoptr(GTlsDatabase) database = NULL;
  guint notifications = 0;

  g_signal_connect (connector, "notify::timeout", G_CALLBACK (count_notify), &notifications);

  g_assert_cmpuint (lb_connector_get_timeout (connector), ==, 30);
  g_assert_null (lb_connector_get_tls_database (connector));

  lb_connector_set_timeout (connector, 5);
  lb_connector_set_timeout (connector, 5);
  g_assert_cmpuint (lb_connector_get_timeout (connector), ==, 5);
  g_assert_cmpuint (notifications, ==, 1);

  database = g_tls_backend_get_default_database (g_tls_backend_get_default ());
  lb_connector_set_tls_database (connector, database);
  g_assert_true (lb_connector_get_tls_database (connector) == database);

  g_assert_finalize_object (connector);
}

/* runs in the service's own thread */
static gboolean
greet_cb (GThreadedSocketService *service,
          GSocketConnection      *connection,
          GObject                *source_object,
          gpointer                user_data)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  g_output_stream_write_all (out, "* OK hello\r\n", 12, NULL, NULL, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);

  return TRUE;
}

/* A plaintext connection reaches the server and reads its greeting. */
static void
test_connector_plain (void)
{
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GSocketService) service = g_threaded_socket_service_new (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;
  char greeting[12] = { 0 };
  gsize n_read = 0;
  guint16 port;

  port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "run", G_CALLBACK (greet_cb), NULL);

  stream = connect_and_wait (connector, port, LB_NET_SECURITY_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (G_IS_SOCKET_CONNECTION (stream));
  g_assert_false (G_IS_TLS_CONNECTION (stream));

  g_input_stream_read_all (g_io_stream_get_input_stream (stream), greeting, sizeof greeting,
                           &n_read, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (greeting, n_read, "* OK hello\r\n", 12);

  g_socket_service_stop (service);
}

/* A loopback port where the kernel accepts TCP connections (from the
 * listen backlog) and nobody ever says anything. */
static GSocketListener *
silent_listener_new (guint16 *port)
{
  GSocketListener *listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;

  *port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);

  return listener;
}

/* Nothing listens: the error names the server, so the user can see what
 * failed. */
static void
test_connector_refused (void)
{
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GSocketListener) listener = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autofree char *where = NULL;
  guint16 port;

  /* take a free port, then let it go */
  listener = silent_listener_new (&port);
  g_socket_listener_close (listener);

  stream = connect_and_wait (connector, port, LB_NET_SECURITY_TLS, NULL, &error);
  g_assert_null (stream);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  where = g_strdup_printf ("127.0.0.1 port %u", port);
  g_assert_nonnull (strstr (error->message, where));
}

static void
test_connector_cancelled (void)
{
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;
  guint16 port;
  g_autoptr(GSocketListener) listener = silent_listener_new (&port);

  g_cancellable_cancel (cancellable);
  stream = connect_and_wait (connector, port, LB_NET_SECURITY_TLS, cancellable, &error);
  g_assert_null (stream);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* A server that never speaks TLS: the handshake must fail within the
 * timeout, not hang. */
static void
test_connector_tls_timeout (void)
{
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;
  gint64 start;
  guint16 port;
  g_autoptr(GSocketListener) listener = silent_listener_new (&port);

  lb_connector_set_timeout (connector, 1);

  start = g_get_monotonic_time ();
  /* the kernel completes the TCP handshake from the backlog; nobody
   * ever answers the TLS ClientHello */
  stream = connect_and_wait (connector, port, LB_NET_SECURITY_TLS, NULL, &error);
  g_assert_null (stream);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);

  return G_SOURCE_REMOVE;
}

/* Cancelling while the TLS handshake waits for the server ends the attempt
 * at once with G_IO_ERROR_CANCELLED, not with the timeout. */
static void
test_connector_cancelled_during_handshake (void)
{
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;
  gint64 start;
  guint16 port;
  g_autoptr(GSocketListener) listener = silent_listener_new (&port);

  lb_connector_set_timeout (connector, 30);

  g_timeout_add (200, cancel_cb, cancellable);
  start = g_get_monotonic_time ();
  stream = connect_and_wait (connector, port, LB_NET_SECURITY_TLS, cancellable, &error);
  g_assert_null (stream);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/net/security-names", test_security_names);
  g_test_add_func ("/net/connector/properties", test_connector_properties);
  g_test_add_func ("/net/connector/plain", test_connector_plain);
  g_test_add_func ("/net/connector/refused", test_connector_refused);
  g_test_add_func ("/net/connector/cancelled", test_connector_cancelled);
  g_test_add_func ("/net/connector/tls-timeout", test_connector_tls_timeout);
  g_test_add_func ("/net/connector/cancelled-during-handshake", test_connector_cancelled_during_handshake);

  return g_test_run ();
}
