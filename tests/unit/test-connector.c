/* test-connector.c: LbConnector against loopback sockets of the test's own
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "lb-connector.h"
#include "lb-net-certificate.h"
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

/* Throwaway certificates made for this test (never used elsewhere), all
 * with the one key below: a CA; a server certificate it signed for
 * 127.0.0.1, valid 2020-2120; the same expired (2000-2001); one for the
 * name mail.example.test. The fingerprints are what
 * `openssl x509 -noout -fingerprint -sha256` prints. */
static const char ca_pem[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBdzCCAR2gAwIBAgIUeYF9GPSlzp7aG/dBta3eDFZt2BowCgYIKoZIzj0EAwIw\n"
  "KDEmMCQGA1UEAwwdTGV0dGVyYm94IFRlc3QgQ0EgKHRocm93YXdheSkwIBcNMjAw\n"
  "MTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMCgxJjAkBgNVBAMMHUxldHRlcmJv\n"
  "eCBUZXN0IENBICh0aHJvd2F3YXkpMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
  "TSOiqTkpngoR1DKxseuEMR+l16vhIF87BtlgOTErdP8cV01zbpm2+M9mCOdPfMET\n"
  "C/z8b3ogQK0Ii/D/s2zyAqMjMCEwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8E\n"
  "BAMCAYYwCgYIKoZIzj0EAwIDSAAwRQIgB/GB6DAy9GLKTtNfM3w8WdZSkoN+Qu0m\n"
  "gJmUK7BhOTwCIQCEt79b+7sqIT3K0xAdKSofeFA18qDfQlgWqV6gGz8U3A==\n"
  "-----END CERTIFICATE-----\n";

static const char good_pem[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBdjCCARygAwIBAgIUEX2wTIRGE4xVRaVjVz+uJ0cj/JswCgYIKoZIzj0EAwIw\n"
  "KDEmMCQGA1UEAwwdTGV0dGVyYm94IFRlc3QgQ0EgKHRocm93YXdheSkwIBcNMjAw\n"
  "MTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMMCTEyNy4wLjAu\n"
  "MTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLNhaS/yfUf8aBRkF/6/EH9zQcib\n"
  "Bq/6ZlZkrZTc7VzEDZcepxYQT8pmj9RqyoJMSJMi1ysl4yWi1aVWJSWEzkejNjA0\n"
  "MA8GA1UdEQQIMAaHBH8AAAEwDAYDVR0TAQH/BAIwADATBgNVHSUEDDAKBggrBgEF\n"
  "BQcDATAKBggqhkjOPQQDAgNIADBFAiEAxTAMQLYelSHT4+AnBS6rxFQohOnvzSHt\n"
  "yKlRYj4dkwgCIBnfw/LCQkIRmvJyBKLBjLqRFu7mRCFJiIGie/Qdo2es\n"
  "-----END CERTIFICATE-----\n";

#define GOOD_SHA256 "E2:57:77:C1:B8:F0:AA:5D:A4:8B:A5:5D:DB:1B:5E:71:51:1B:31:22:12:05:C7:B6:77:1D:6A:EE:F5:9D:2D:59"

static const char expired_pem[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBczCCARqgAwIBAgIUSK9dhiPSC1zMyn5TpNlSkxrBlW4wCgYIKoZIzj0EAwIw\n"
  "KDEmMCQGA1UEAwwdTGV0dGVyYm94IFRlc3QgQ0EgKHRocm93YXdheSkwHhcNMDAw\n"
  "MTAxMDAwMDAwWhcNMDEwMTAxMDAwMDAwWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEw\n"
  "WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASzYWkv8n1H/GgUZBf+vxB/c0HImwav\n"
  "+mZWZK2U3O1cxA2XHqcWEE/KZo/UasqCTEiTItcrJeMlotWlViUlhM5HozYwNDAP\n"
  "BgNVHREECDAGhwR/AAABMAwGA1UdEwEB/wQCMAAwEwYDVR0lBAwwCgYIKwYBBQUH\n"
  "AwEwCgYIKoZIzj0EAwIDRwAwRAIgIsUOn61nfv/Ix21pFZdFXN/0VWKsV0BwJ9cA\n"
  "b7RFaTcCIEpMmFL2GlpnaLFqm3azhc7+IZfRpcyZPW9tDw6Wr0mD\n"
  "-----END CERTIFICATE-----\n";

#define EXPIRED_SHA256 "74:5E:B0:25:6A:CF:47:AD:EA:36:57:39:81:8B:77:D4:29:1F:FC:73:0F:2E:03:BC:98:ED:9C:BD:E2:21:2C:05"

static const char other_name_pem[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBjDCCATGgAwIBAgIUQLbHEc5mtQhtx5hnarmND+WvIiMwCgYIKoZIzj0EAwIw\n"
  "KDEmMCQGA1UEAwwdTGV0dGVyYm94IFRlc3QgQ0EgKHRocm93YXdheSkwIBcNMjAw\n"
  "MTAxMDAwMDAwWhgPMjEyMDAxMDEwMDAwMDBaMBwxGjAYBgNVBAMMEW1haWwuZXhh\n"
  "bXBsZS50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEs2FpL/J9R/xoFGQX\n"
  "/r8Qf3NByJsGr/pmVmStlNztXMQNlx6nFhBPymaP1GrKgkxIkyLXKyXjJaLVpVYl\n"
  "JYTOR6NDMEEwHAYDVR0RBBUwE4IRbWFpbC5leGFtcGxlLnRlc3QwDAYDVR0TAQH/\n"
  "BAIwADATBgNVHSUEDDAKBggrBgEFBQcDATAKBggqhkjOPQQDAgNJADBGAiEAuE5m\n"
  "cKl4Qx+gd7b4k+kZHvyrbtln37OelFDMk2bi93wCIQDAbHQ9K90UmI/qSe4echcr\n"
  "UhJ0UpoYHaBM77KTIeIkdA==\n"
  "-----END CERTIFICATE-----\n";

static const char leaf_key_pem[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgRNb0J+Fhow1wvUSm\n"
  "h4ln5rvnWayKaRwZXTwTvCXSbSehRANCAASzYWkv8n1H/GgUZBf+vxB/c0HImwav\n"
  "+mZWZK2U3O1cxA2XHqcWEE/KZo/UasqCTEiTItcrJeMlotWlViUlhM5H\n"
  "-----END PRIVATE KEY-----\n";

/* ------------------------------------------------------------------ TLS servers */

/* A loopback TLS server presenting one certificate: it shakes hands
 * (in its own thread) and greets. */
typedef struct
{
  GSocketService  *service;
  GTlsCertificate *certificate;
  guint16          port;
  gint             handled;   /* connections done with, atomic */
} TestServer;

static gboolean
tls_greet_cb (GThreadedSocketService *service,
              GSocketConnection      *connection,
              GObject                *source_object,
              gpointer                user_data)
{
  TestServer *server = user_data;
  g_autoptr(GIOStream) tls = g_tls_server_connection_new (G_IO_STREAM (connection),
                                                          server->certificate, NULL);

  /* the client may refuse the certificate: then the handshake fails */
  if (tls != NULL && g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, NULL))
    {
      g_output_stream_write_all (g_io_stream_get_output_stream (tls), "* OK hello\r\n", 12,
                                 NULL, NULL, NULL);
      g_io_stream_close (tls, NULL, NULL);
    }
  g_atomic_int_inc (&server->handled);

  return TRUE;
}

static TestServer *
test_server_new (const char *certificate_pem)
{
  TestServer *server = g_new0 (TestServer, 1);
  g_autofree char *pem = g_strconcat (certificate_pem, leaf_key_pem, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GError) error = NULL;

  server->certificate = g_tls_certificate_new_from_pem (pem, -1, &error);
  g_assert_no_error (error);
  server->service = g_threaded_socket_service_new (2);
  g_socket_listener_add_address (G_SOCKET_LISTENER (server->service), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error);
  g_assert_no_error (error);
  server->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect (server->service, "run", G_CALLBACK (tls_greet_cb), server);

  return server;
}

/* Waits for the server's threads to be done with the @connections the
 * test made, then stops it. */
static void
test_server_free (TestServer *server,
                  gint        connections)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (g_atomic_int_get (&server->handled) < connections && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  g_assert_cmpint (g_atomic_int_get (&server->handled), ==, connections);
  g_socket_service_stop (server->service);
  g_socket_listener_close (G_SOCKET_LISTENER (server->service));
  g_object_unref (server->service);
  g_object_unref (server->certificate);
  g_free (server);
}

static gboolean
have_tls (void)
{
  if (g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    return TRUE;
  g_test_skip ("no TLS backend");
  return FALSE;
}

/* Reads the greeting the server sends once the handshake succeeded. */
static void
assert_greeted (GIOStream *stream)
{
  g_autoptr(GError) error = NULL;
  char greeting[12] = { 0 };
  gsize n_read = 0;

  g_assert_true (G_IS_TLS_CONNECTION (stream));
  g_input_stream_read_all (g_io_stream_get_input_stream (stream), greeting, sizeof greeting,
                           &n_read, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (greeting, n_read, "* OK hello\r\n", 12);
}

static void
set_pins (LbConnector *connector,
          const char  *first,
          ...)
{
  g_autoptr(GPtrArray) pins = g_ptr_array_new_with_free_func (g_free);
  va_list args;

  va_start (args, first);
  for (const char *pin = first; pin != NULL; pin = va_arg (args, const char *))
    g_ptr_array_add (pins, g_strdup (pin));
  va_end (args);
  g_ptr_array_add (pins, NULL);
  lb_connector_set_pinned_fingerprints (connector, (const char * const *) pins->pdata);
}

/* An untrusted certificate is refused; the error says why and shows its
 * fingerprint, and the connector keeps it for the user to look at. */
static void
test_connector_untrusted (void)
{
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GTlsCertificate) rejected = NULL;
  g_autoptr(GTlsCertificate) none = NULL;
  g_autofree char *fingerprint = NULL;
  GTlsCertificateFlags errors = 0;
  TestServer *server;

  if (!have_tls ())
    return;
  server = test_server_new (good_pem);

  stream = connect_and_wait (connector, server->port, LB_NET_SECURITY_TLS, NULL, &error);
  g_assert_null (stream);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
  g_assert_nonnull (strstr (error->message, GOOD_SHA256));
  g_assert_nonnull (strstr (error->message, "not signed by an authority this computer trusts"));

  rejected = lb_connector_dup_rejected_certificate (connector, "127.0.0.1", server->port, &errors);
  g_assert_nonnull (rejected);
  g_assert_true (g_tls_certificate_is_same (rejected, server->certificate));
  g_assert_cmpint (errors & G_TLS_CERTIFICATE_UNKNOWN_CA, !=, 0);
  fingerprint = lb_net_certificate_fingerprint (rejected);
  g_assert_cmpstr (fingerprint, ==, GOOD_SHA256);
  /* kept per server */
  none = lb_connector_dup_rejected_certificate (connector, "127.0.0.1", server->port + 1, &errors);
  g_assert_null (none);
  g_assert_cmpint (errors, ==, 0);

  test_server_free (server, 1);
}

/* Pinned, it is accepted: in the account's form and in the other. */
static void
test_connector_pinned (void)
{
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *bare = NULL;
  TestServer *server;

  if (!have_tls ())
    return;
  server = test_server_new (good_pem);

  pin = g_strdup_printf ("127.0.0.1:%u " GOOD_SHA256, server->port);
  set_pins (connector, "not a pin", pin, NULL);
  stream = connect_and_wait (connector, server->port, LB_NET_SECURITY_TLS, NULL, &error);
  g_assert_no_error (error);
  assert_greeted (stream);
  g_clear_object (&stream);

  /* "host:port=fingerprint", lower case, no colons */
  {
    g_autofree char *hex = g_ascii_strdown (GOOD_SHA256, -1);
    g_auto(GStrv) pairs = g_strsplit (hex, ":", -1);
    g_autofree char *joined = g_strjoinv ("", pairs);

    bare = g_strdup_printf ("127.0.0.1:%u=%s", server->port, joined);
  }
  set_pins (connector, bare, NULL);
  stream = connect_and_wait (connector, server->port, LB_NET_SECURITY_TLS, NULL, &error);
  g_assert_no_error (error);
  assert_greeted (stream);
  g_clear_object (&stream);

  /* pins dropped: refused again */
  lb_connector_set_pinned_fingerprints (connector, NULL);
  stream = connect_and_wait (connector, server->port, LB_NET_SECURITY_TLS, NULL, &error);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);

  test_server_free (server, 3);
}

/* A pin is for one host and port; and for one certificate. */
static void
test_connector_pin_elsewhere (void)
{
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autofree char *other_port = NULL;
  g_autofree char *other_host = NULL;
  g_autofree char *wrong = NULL;
  TestServer *server;

  if (!have_tls ())
    return;
  server = test_server_new (good_pem);

  other_port = g_strdup_printf ("127.0.0.1:%u " GOOD_SHA256, server->port + 1);
  other_host = g_strdup_printf ("127.0.0.2:%u " GOOD_SHA256, server->port);
  set_pins (connector, other_port, other_host, NULL);
  stream = connect_and_wait (connector, server->port, LB_NET_SECURITY_TLS, NULL, &error);
  g_assert_null (stream);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_clear_error (&error);

  /* another certificate was pinned for this server: this one is not it */
  wrong = g_strdup_printf ("127.0.0.1:%u " EXPIRED_SHA256, server->port);
  set_pins (connector, wrong, NULL);
  stream = connect_and_wait (connector, server->port, LB_NET_SECURITY_TLS, NULL, &error);
  g_assert_null (stream);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "not the one you accepted"));
  g_assert_nonnull (strstr (error->message, GOOD_SHA256));

  test_server_free (server, 2);
}

/* A pin accepts exactly that certificate, whatever else is wrong with it:
 * expired here (and signed by a CA the system does not know). */
static void
test_connector_pinned_expired (void)
{
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GTlsCertificate) rejected = NULL;
  g_autofree char *pin = NULL;
  GTlsCertificateFlags errors = 0;
  TestServer *server;

  if (!have_tls ())
    return;
  server = test_server_new (expired_pem);

  stream = connect_and_wait (connector, server->port, LB_NET_SECURITY_TLS, NULL, &error);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, "it has expired"));
  g_assert_nonnull (strstr (error->message, EXPIRED_SHA256));
  rejected = lb_connector_dup_rejected_certificate (connector, "127.0.0.1", server->port, &errors);
  g_assert_nonnull (rejected);
  g_assert_cmpint (errors & G_TLS_CERTIFICATE_EXPIRED, !=, 0);
  g_clear_error (&error);

  pin = g_strdup_printf ("127.0.0.1:%u " EXPIRED_SHA256, server->port);
  set_pins (connector, pin, NULL);
  stream = connect_and_wait (connector, server->port, LB_NET_SECURITY_TLS, NULL, &error);
  g_assert_no_error (error);
  assert_greeted (stream);

  test_server_free (server, 2);
}

static GTlsDatabase *
test_ca_database (char **path)
{
  g_autoptr(GError) error = NULL;
  GTlsDatabase *database;
  int fd = g_file_open_tmp ("lb-test-ca-XXXXXX.pem", path, &error);

  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (*path, ca_pem, -1, &error);
  g_assert_no_error (error);
  database = g_tls_file_database_new (*path, &error);
  g_assert_no_error (error);
  return database;
}

/* With the CA trusted: a valid certificate needs no pin; one for another
 * name or out of date is refused, saying exactly that, and its pin still
 * accepts it. Over STARTTLS as over implicit TLS. */
static void
test_connector_trusted_ca (void)
{
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GIOStream) plain = NULL;
  g_autoptr(GTlsCertificate) rejected = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *ca_path = NULL;
  g_autofree char *pin = NULL;
  GTlsCertificateFlags errors = 0;
  TestServer *good, *other, *expired;

  if (!have_tls ())
    return;
  database = test_ca_database (&ca_path);
  lb_connector_set_tls_database (connector, database);
  good = test_server_new (good_pem);
  other = test_server_new (other_name_pem);
  expired = test_server_new (expired_pem);

  stream = connect_and_wait (connector, good->port, LB_NET_SECURITY_TLS, NULL, &error);
  g_assert_no_error (error);
  assert_greeted (stream);
  g_clear_object (&stream);
  g_assert_null (lb_connector_dup_rejected_certificate (connector, "127.0.0.1", good->port, NULL));

  stream = connect_and_wait (connector, other->port, LB_NET_SECURITY_TLS, NULL, &error);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, "issued for another server name"));
  g_assert_null (strstr (error->message, "authority"));
  rejected = lb_connector_dup_rejected_certificate (connector, "127.0.0.1", other->port, &errors);
  g_assert_cmpint (errors, ==, G_TLS_CERTIFICATE_BAD_IDENTITY);
  g_clear_object (&rejected);
  g_clear_error (&error);

  /* STARTTLS: the plaintext connection first, then the upgrade */
  plain = connect_and_wait (connector, expired->port, LB_NET_SECURITY_STARTTLS, NULL, &error);
  g_assert_no_error (error);
  lb_connector_start_tls_async (connector, plain, "127.0.0.1", expired->port, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  stream = lb_connector_start_tls_finish (connector, result, &error);
  g_assert_null (stream);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, "it has expired"));
  g_assert_nonnull (strstr (error->message, EXPIRED_SHA256));
  rejected = lb_connector_dup_rejected_certificate (connector, "127.0.0.1", expired->port, &errors);
  g_assert_cmpint (errors, ==, G_TLS_CERTIFICATE_EXPIRED);
  g_clear_error (&error);
  g_clear_object (&result);
  g_clear_object (&plain);

  pin = g_strdup_printf ("127.0.0.1:%u " EXPIRED_SHA256, expired->port);
  set_pins (connector, pin, NULL);
  plain = connect_and_wait (connector, expired->port, LB_NET_SECURITY_STARTTLS, NULL, &error);
  g_assert_no_error (error);
  lb_connector_start_tls_async (connector, plain, "127.0.0.1", expired->port, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  stream = lb_connector_start_tls_finish (connector, result, &error);
  g_assert_no_error (error);
  assert_greeted (stream);

  test_server_free (good, 1);
  test_server_free (other, 1);
  test_server_free (expired, 2);
  g_remove (ca_path);
}

static void
test_net_fingerprint_text (void)
{
  g_autofree char *same = lb_net_normalize_fingerprint (GOOD_SHA256);
  g_autofree char *lower = lb_net_normalize_fingerprint ("e25777c1b8f0aa5da48ba55ddb1b5e71511b31221205c7b6771d6aeef59d2d59");
  g_autofree char *short_one = lb_net_normalize_fingerprint ("E2:57");
  g_autofree char *bad = lb_net_normalize_fingerprint ("E2::57:77:C1:B8:F0:AA:5D:A4:8B:A5:5D:DB:1B:5E:71:51:1B:31:22:12:05:C7:B6:77:1D:6A:EE:F5:9D:2D:59");
  g_autofree char *reasons = lb_net_certificate_describe_errors (G_TLS_CERTIFICATE_UNKNOWN_CA |
                                                                 G_TLS_CERTIFICATE_EXPIRED);
  g_autofree char *unknown = lb_net_certificate_describe_errors (G_TLS_CERTIFICATE_GENERIC_ERROR);

  g_assert_cmpstr (same, ==, GOOD_SHA256);
  g_assert_cmpstr (lower, ==, GOOD_SHA256);
  g_assert_null (short_one);
  g_assert_null (bad);
  g_assert_cmpstr (reasons, ==, "it is not signed by an authority this computer trusts, it has expired");
  g_assert_cmpstr (unknown, ==, "it could not be verified");

  if (have_tls ())
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GTlsCertificate) certificate = g_tls_certificate_new_from_pem (expired_pem, -1, &error);
      g_autofree char *fingerprint = NULL;

      g_assert_no_error (error);
      fingerprint = lb_net_certificate_fingerprint (certificate);
      g_assert_cmpstr (fingerprint, ==, EXPIRED_SHA256);
    }
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
  g_test_add_func ("/net/connector/untrusted", test_connector_untrusted);
  g_test_add_func ("/net/connector/pinned", test_connector_pinned);
  g_test_add_func ("/net/connector/pin-elsewhere", test_connector_pin_elsewhere);
  g_test_add_func ("/net/connector/pinned-expired", test_connector_pinned_expired);
  g_test_add_func ("/net/connector/trusted-ca", test_connector_trusted_ca);
  g_test_add_func ("/net/fingerprint-text", test_net_fingerprint_text);

  return g_test_run ();
}
