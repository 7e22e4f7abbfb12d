/* lb-net-stream.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-net"

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "lb-net-stream.h"

/* the system's defaults wait two hours before the first probe */
#define KEEPALIVE_IDLE_SECONDS     120
#define KEEPALIVE_INTERVAL_SECONDS 30
#define KEEPALIVE_PROBES           4

/**
 * lb_net_stream_get_socket:
 * @stream: a socket connection, or a TLS connection over one
 *
 * Returns: (transfer none) (nullable): the socket under @stream, %NULL
 *   for a stream of another kind (a test's pipe, say)
 */
GSocket *
lb_net_stream_get_socket (GIOStream *stream)
{
  if (G_IS_SOCKET_CONNECTION (stream))
    return g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream));
  if (G_IS_TLS_CONNECTION (stream))
    {
      g_autoptr(GIOStream) base = NULL;

      g_object_get (stream, "base-io-stream", &base, NULL);
      if (base != NULL)
        return lb_net_stream_get_socket (base);
    }
  return NULL;
}

/**
 * lb_net_stream_set_up_socket:
 * @stream: a client's stream
 * @keepalive: whether to probe a silent TCP connection
 *
 * Switches the socket's own timeout off, for a client that keeps its own
 * (the socket's would also end a wait that is meant to be long, such as
 * IDLE). With @keepalive, a TCP connection silent for 2 minutes is
 * probed, so a dead link is noticed in some 4 minutes rather than hours
 * (where the system lacks the options, only keepalive itself is set).
 * Nothing happens when @stream has no socket.
 */
void
lb_net_stream_set_up_socket (GIOStream *stream,
                             gboolean   keepalive)
{
  GSocket *socket = lb_net_stream_get_socket (stream);
  GSocketFamily family;

  if (socket == NULL)
    return;
  g_socket_set_timeout (socket, 0);

  family = g_socket_get_family (socket);
  if (!keepalive || (family != G_SOCKET_FAMILY_IPV4 && family != G_SOCKET_FAMILY_IPV6) ||
      g_socket_get_socket_type (socket) != G_SOCKET_TYPE_STREAM)
    return;
  g_socket_set_keepalive (socket, TRUE);
#if defined(TCP_KEEPIDLE) && defined(TCP_KEEPINTVL) && defined(TCP_KEEPCNT)
  g_socket_set_option (socket, IPPROTO_TCP, TCP_KEEPIDLE, KEEPALIVE_IDLE_SECONDS, NULL);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_KEEPINTVL, KEEPALIVE_INTERVAL_SECONDS, NULL);
  g_socket_set_option (socket, IPPROTO_TCP, TCP_KEEPCNT, KEEPALIVE_PROBES, NULL);
#endif
}

/**
 * lb_net_stream_address_literal:
 * @stream: a connected stream
 *
 * The local end's address as an SMTP address literal (RFC 5321 4.1.3:
 * "[192.0.2.1]", "[IPv6:2001:db8::1]"), the name for EHLO that tells the
 * server no more than the connection does.
 *
 * Returns: (transfer full) (nullable): the literal, %NULL when @stream
 *   has no IP socket
 */
char *
lb_net_stream_address_literal (GIOStream *stream)
{
  GSocket *socket = lb_net_stream_get_socket (stream);
  g_autoptr(GSocketAddress) address = NULL;
  g_autofree char *text = NULL;
  GInetAddress *inet;

  if (socket != NULL)
    address = g_socket_get_local_address (socket, NULL);
  if (address == NULL || !G_IS_INET_SOCKET_ADDRESS (address))
    return NULL;

  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  text = g_inet_address_to_string (inet);
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[IPv6:%s]", text);
  return g_strdup_printf ("[%s]", text);
}
