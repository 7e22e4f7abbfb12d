/* test-test-proxy.c: LbTestProxy between a blocking client and a greeting
 * echo server of the test's own
 *
 * The server sends a greeting of GREETING_SIZE patterned bytes on each
 * connection, then echoes what it reads until the client closes. The
 * client uses blocking sockets in the test's thread: the proxy and the
 * server run in threads of their own.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "lb-test-proxy.h"

#define GREETING_SIZE 300000

/* ------------------------------------------------------------ the server */

typedef struct
{
  GSocket      *listener;
  guint16       port;
  GCancellable *cancellable;
  GThread      *thread;
  GMutex        mutex;
  GPtrArray    *handlers;  /* of GThread */
} EchoServer;

static guint8
pattern (gsize i)
{
  return (guint8) ((i * 7 + i / 251) & 0xff);
}

static gboolean
is_greeting (const guint8 *data,
             gsize         length)
{
  for (gsize i = 0; i < length; i++)
    if (data[i] != pattern (i))
      return FALSE;
  return TRUE;
}

static gpointer
echo_handler (gpointer data)
{
  g_autoptr(GSocket) socket = data;
  g_autofree guint8 *greeting = g_malloc (GREETING_SIZE);
  guint8 buffer[16384];

  for (gsize i = 0; i < GREETING_SIZE; i++)
    greeting[i] = pattern (i);
  for (gsize sent = 0; sent < GREETING_SIZE;)
    {
      gssize n = g_socket_send (socket, (const char *) greeting + sent, GREETING_SIZE - sent, NULL,
                                NULL);
      if (n <= 0)
        return NULL;
      sent += (gsize) n;
    }
  for (;;)
    {
      gssize n = g_socket_receive (socket, (char *) buffer, sizeof buffer, NULL, NULL);

      if (n <= 0)
        break;
      for (gssize sent = 0; sent < n;)
        {
          gssize m = g_socket_send (socket, (const char *) buffer + sent, (gsize) (n - sent), NULL,
                                    NULL);
          if (m <= 0)
            return NULL;
          sent += m;
        }
    }
  g_socket_close (socket, NULL);

  return NULL;
}

static gpointer
echo_server_thread (gpointer data)
{
  EchoServer *server = data;

  for (;;)
    {
      GSocket *socket = g_socket_accept (server->listener, server->cancellable, NULL);

      if (socket == NULL)
        break;
      g_socket_set_timeout (socket, 20);
      g_mutex_lock (&server->mutex);
      g_ptr_array_add (server->handlers, g_thread_new ("echo", echo_handler, socket));
      g_mutex_unlock (&server->mutex);
    }

  return NULL;
}

static GSocket *
listen_on_loopback (guint16 *port)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GError) error = NULL;
  GSocket *socket;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  g_socket_listen (socket, &error);
  g_assert_no_error (error);
  local = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));

  return socket;
}

static EchoServer *
echo_server_new (void)
{
  EchoServer *server = g_new0 (EchoServer, 1);

  server->listener = listen_on_loopback (&server->port);
  server->cancellable = g_cancellable_new ();
  g_mutex_init (&server->mutex);
  server->handlers = g_ptr_array_new ();
  server->thread = g_thread_new ("echo-server", echo_server_thread, server);

  return server;
}

static void
echo_server_free (EchoServer *server)
{
  g_cancellable_cancel (server->cancellable);
  g_thread_join (server->thread);
  /* the handlers end when their clients are gone (the proxy is freed first) */
  for (guint i = 0; i < server->handlers->len; i++)
    g_thread_join (g_ptr_array_index (server->handlers, i));
  g_ptr_array_unref (server->handlers);
  g_socket_close (server->listener, NULL);
  g_object_unref (server->listener);
  g_object_unref (server->cancellable);
  g_mutex_clear (&server->mutex);
  g_free (server);
}

/* ------------------------------------------------------------ the client */

static GSocket *
connect_to (guint16 port)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autoptr(GError) error = NULL;
  GSocket *socket;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  /* a proxy that fails to cut makes the test fail, not hang */
  g_socket_set_timeout (socket, 10);
  g_socket_connect (socket, address, NULL, &error);
  g_assert_no_error (error);

  return socket;
}

/* Reads exactly @length bytes. */
static GBytes *
read_exactly (GSocket *socket,
              gsize    length)
{
  g_autofree guint8 *data = g_malloc (length);
  gsize got = 0;

  while (got < length)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive (socket, (char *) data + got, length - got, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (n, >, 0);
      got += (gsize) n;
    }

  return g_bytes_new_take (g_steal_pointer (&data), length);
}

/* Reads until end of stream or a connection reset (what a cut looks like;
 * a timeout fails the test) and returns what came. */
static GBytes *
read_to_end (GSocket *socket)
{
  GByteArray *data = g_byte_array_new ();
  guint8 buffer[16384];

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive (socket, (char *) buffer, sizeof buffer, NULL, &error);

      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        break;
      g_assert_no_error (error);
      if (n == 0)
        break;
      g_byte_array_append (data, buffer, (guint) n);
    }

  return g_byte_array_free_to_bytes (data);
}

static void
send_all (GSocket    *socket,
          const char *data,
          gsize       length)
{
  g_autoptr(GError) error = NULL;

  for (gsize sent = 0; sent < length;)
    {
      gssize n = g_socket_send (socket, data + sent, length - sent, NULL, &error);

      g_assert_no_error (error);
      sent += (gsize) n;
    }
}

static void
assert_greeting (GBytes *bytes,
                 gsize   length)
{
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (bytes, &size);

  g_assert_cmpuint (size, ==, length);
  g_assert_true (is_greeting (data, size));
}

/* The proxy lets a connection go in its own time after the client closed. */
static void
wait_for_no_open (LbTestProxy *proxy)
{
  gint64 end = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;

  while (lb_test_proxy_get_n_open (proxy) > 0 && g_get_monotonic_time () < end)
    g_usleep (1000);
  g_assert_cmpuint (lb_test_proxy_get_n_open (proxy), ==, 0);
}

typedef struct
{
  EchoServer  *server;
  LbTestProxy *proxy;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->server = echo_server_new ();
  fixture->proxy = lb_test_proxy_new ("127.0.0.1", fixture->server->port, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->proxy);
  g_assert_cmpuint (lb_test_proxy_get_port (fixture->proxy), !=, 0);
  g_assert_cmpuint (lb_test_proxy_get_port (fixture->proxy), !=, fixture->server->port);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_pointer (&fixture->proxy, lb_test_proxy_free);
  echo_server_free (fixture->server);
}

/* ------------------------------------------------------------ tests */

static void
test_passes_bytes (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GSocket) client = connect_to (lb_test_proxy_get_port (fixture->proxy));
  g_autoptr(GBytes) greeting = read_exactly (client, GREETING_SIZE);
  g_autoptr(GBytes) echo = NULL;
  g_autoptr(GBytes) rest = NULL;
  g_autofree char *message = g_malloc (100000);
  g_autoptr(GError) error = NULL;

  assert_greeting (greeting, GREETING_SIZE);

  /* more than one buffer's worth each way */
  for (gsize i = 0; i < 100000; i++)
    message[i] = (char) ('a' + i % 26);
  send_all (client, message, 100000);
  echo = read_exactly (client, 100000);
  g_assert_cmpmem (g_bytes_get_data (echo, NULL), 100000, message, 100000);

  /* the client's end of stream reaches the server, whose close comes back */
  g_socket_shutdown (client, FALSE, TRUE, &error);
  g_assert_no_error (error);
  rest = read_to_end (client);
  g_assert_cmpuint (g_bytes_get_size (rest), ==, 0);

  g_assert_cmpuint (lb_test_proxy_get_bytes_to_client (fixture->proxy), ==, GREETING_SIZE + 100000);
  g_assert_cmpuint (lb_test_proxy_get_n_connections (fixture->proxy), ==, 1);
  g_assert_cmpuint (lb_test_proxy_get_n_cuts (fixture->proxy), ==, 0);
  wait_for_no_open (fixture->proxy);
}

static void
test_cut_after (Fixture       *fixture,
                gconstpointer  data)
{
  guint16 port = lb_test_proxy_get_port (fixture->proxy);

  lb_test_proxy_set_cut_after (fixture->proxy, 12345);

  /* each connection is cut after the same count of its own */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GSocket) client = connect_to (port);
      g_autoptr(GBytes) got = read_to_end (client);

      assert_greeting (got, 12345);
      g_assert_cmpuint (lb_test_proxy_get_n_cuts (fixture->proxy), ==, i + 1);
    }
  g_assert_cmpuint (lb_test_proxy_get_bytes_to_client (fixture->proxy), ==, 2 * 12345);
  g_assert_cmpuint (lb_test_proxy_get_n_connections (fixture->proxy), ==, 2);
  wait_for_no_open (fixture->proxy);
}

static void
test_cut_in_reply (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GSocket) client = NULL;
  g_autoptr(GBytes) greeting = NULL;
  g_autoptr(GBytes) rest = NULL;
  g_autoptr(GError) error = NULL;
  const char *command = "a1 NOOP\r\n";

  /* cut ten bytes into the echo of what the client sends, while the client
   * keeps sending: what it sent after the cut must not turn into a reset
   * that loses the ten bytes */
  lb_test_proxy_set_cut_after (fixture->proxy, GREETING_SIZE + 10);
  client = connect_to (lb_test_proxy_get_port (fixture->proxy));
  greeting = read_exactly (client, GREETING_SIZE);
  assert_greeting (greeting, GREETING_SIZE);
  for (guint i = 0; i < 20; i++)
    send_all (client, command, strlen (command));

  rest = read_to_end (client);
  g_assert_cmpmem (g_bytes_get_data (rest, NULL), g_bytes_get_size (rest), "a1 NOOP\r\na", 10);

  /* the client may still write into its closed connection without hanging */
  g_socket_send (client, command, strlen (command), NULL, &error);
  g_clear_error (&error);
  g_socket_close (client, NULL);
  wait_for_no_open (fixture->proxy);
  g_assert_cmpuint (lb_test_proxy_get_n_cuts (fixture->proxy), ==, 1);
}

static void
test_cut_open_connection (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GSocket) client = connect_to (lb_test_proxy_get_port (fixture->proxy));
  g_autoptr(GBytes) greeting = read_exactly (client, GREETING_SIZE);
  g_autoptr(GBytes) rest = NULL;
  g_autoptr(GSocket) again = NULL;
  g_autoptr(GBytes) full = NULL;

  /* already past the mark: cut at once */
  lb_test_proxy_set_cut_after (fixture->proxy, 1000);
  g_assert_cmpuint (lb_test_proxy_get_n_cuts (fixture->proxy), ==, 1);
  rest = read_to_end (client);
  g_assert_cmpuint (g_bytes_get_size (rest), ==, 0);

  /* 0: never again */
  lb_test_proxy_set_cut_after (fixture->proxy, 0);
  again = connect_to (lb_test_proxy_get_port (fixture->proxy));
  full = read_exactly (again, GREETING_SIZE);
  assert_greeting (full, GREETING_SIZE);
  g_assert_cmpuint (lb_test_proxy_get_n_cuts (fixture->proxy), ==, 1);
}

static void
test_down_and_up (Fixture       *fixture,
                  gconstpointer  data)
{
  guint16 port = lb_test_proxy_get_port (fixture->proxy);
  g_autoptr(GSocket) client = connect_to (port);
  g_autoptr(GBytes) greeting = read_exactly (client, GREETING_SIZE);
  g_autoptr(GBytes) rest = NULL;
  g_autoptr(GSocket) refused = NULL;
  g_autoptr(GBytes) nothing = NULL;
  g_autoptr(GSocket) back = NULL;
  g_autoptr(GBytes) again = NULL;

  assert_greeting (greeting, GREETING_SIZE);

  /* down: the open connection is gone when set_down returns */
  lb_test_proxy_set_down (fixture->proxy, TRUE);
  g_assert_cmpuint (lb_test_proxy_get_n_open (fixture->proxy), ==, 0);
  rest = read_to_end (client);
  g_assert_cmpuint (g_bytes_get_size (rest), ==, 0);

  /* a new connection is closed before the server hears of it */
  refused = connect_to (port);
  nothing = read_to_end (refused);
  g_assert_cmpuint (g_bytes_get_size (nothing), ==, 0);
  g_assert_cmpuint (lb_test_proxy_get_n_connections (fixture->proxy), ==, 1);

  /* up again */
  lb_test_proxy_set_down (fixture->proxy, FALSE);
  back = connect_to (port);
  again = read_exactly (back, GREETING_SIZE);
  assert_greeting (again, GREETING_SIZE);
  g_assert_cmpuint (lb_test_proxy_get_n_connections (fixture->proxy), ==, 2);
  g_assert_cmpuint (lb_test_proxy_get_bytes_to_client (fixture->proxy), ==, 2 * GREETING_SIZE);
}

static void
test_client_closes_early (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(GSocket) client = connect_to (lb_test_proxy_get_port (fixture->proxy));
  g_autoptr(GBytes) some = read_exactly (client, 10);

  assert_greeting (some, 10);
  g_socket_close (client, NULL);
  /* the proxy notices (the rest of the greeting it still had to deliver
   * fails) and lets both sides go */
  wait_for_no_open (fixture->proxy);
  g_assert_cmpuint (lb_test_proxy_get_n_connections (fixture->proxy), ==, 1);
}

static void
test_free_with_open_connection (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(GSocket) client = connect_to (lb_test_proxy_get_port (fixture->proxy));
  g_autoptr(GBytes) greeting = read_exactly (client, GREETING_SIZE);
  g_autoptr(GBytes) rest = NULL;

  g_assert_cmpuint (lb_test_proxy_get_n_open (fixture->proxy), ==, 1);
  g_clear_pointer (&fixture->proxy, lb_test_proxy_free);
  rest = read_to_end (client);
  g_assert_cmpuint (g_bytes_get_size (rest), ==, 0);
}

static void
test_target_unreachable (void)
{
  g_autoptr(LbTestProxy) proxy = NULL;
  g_autoptr(GSocket) client = NULL;
  g_autoptr(GBytes) nothing = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port = 0;
  GSocket *gone = listen_on_loopback (&port);

  /* a port that was just free and has nobody listening on it now */
  g_socket_close (gone, NULL);
  g_object_unref (gone);

  proxy = lb_test_proxy_new ("127.0.0.1", port, &error);
  g_assert_no_error (error);
  client = connect_to (lb_test_proxy_get_port (proxy));
  nothing = read_to_end (client);
  g_assert_cmpuint (g_bytes_get_size (nothing), ==, 0);
  g_assert_cmpuint (lb_test_proxy_get_n_open (proxy), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/test-proxy/passes-bytes", test_passes_bytes);
  ADD ("/test-proxy/cut-after", test_cut_after);
  ADD ("/test-proxy/cut-in-reply", test_cut_in_reply);
  ADD ("/test-proxy/cut-open-connection", test_cut_open_connection);
  ADD ("/test-proxy/down-and-up", test_down_and_up);
  ADD ("/test-proxy/client-closes-early", test_client_closes_early);
  ADD ("/test-proxy/free-with-open-connection", test_free_with_open_connection);
#undef ADD
  g_test_add_func ("/test-proxy/target-unreachable", test_target_unreachable);

  return g_test_run ();
}
