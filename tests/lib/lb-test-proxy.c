/* lb-test-proxy.c
 *
 * One thread runs a GMainContext of its own. The listening socket and every
 * proxied connection are non-blocking GSockets polled by sources on that
 * context; a connection's source watches its two file descriptors for just
 * what it can use at the moment (read when its buffer is empty, write when
 * it is not), so a slow reader slows the writer down as TCP would.
 *
 * A cut after N bytes reads no more than N bytes from the server, closes
 * the server side at once, delivers what it read to the client, then sends
 * the client a FIN and discards whatever the client still sends until the
 * client closes. Closing a socket with unread input would reset it and
 * could throw away bytes still queued for the client; this way the client
 * reliably receives exactly N bytes and then end of stream.
 *
 * The test's thread reaches the proxy's thread through high-priority idle
 * sources and waits for them, so when a setter returns its effect is in
 * place (set_down (TRUE) has already cut every connection).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-test"

#include "config.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "lb-test-proxy.h"

#define BUFFER_SIZE (64 * 1024)

typedef struct _Connection Connection;

struct _LbTestProxy
{
  GSocketAddress *target;
  GSocket        *listener;
  guint16         port;
  GMainContext   *context;
  GMainLoop      *loop;
  GThread        *thread;
  GSource        *accept_source;
  GList          *connections;  /* of Connection; the proxy's thread only */

  GMutex          mutex;        /* guards what follows */
  GCond           cond;
  guint64         cut_after;
  gboolean        down;
  gboolean        held;
  gboolean        hold_open;    /* lb_test_proxy_hold_open() */
  guint64         bytes_to_client;
  guint           n_connections;
  guint           n_cuts;
  guint           n_open;
};

typedef struct
{
  guint8 data[BUFFER_SIZE];
  gsize  length;
  gsize  offset;
} Buffer;

struct _Connection
{
  LbTestProxy *proxy;
  GSource     *source;
  GSocket     *client;
  GSocket     *server;
  gpointer     client_tag;
  gpointer     server_tag;
  Buffer       to_client;
  Buffer       to_server;
  guint64      from_server;  /* bytes read from the server on this connection */
  gboolean     held;         /* lb_test_proxy_hold_open() */
  gboolean     client_eof;
  gboolean     server_eof;
  gboolean     client_shut;  /* FIN sent to the client */
  gboolean     server_shut;
  gboolean     cutting;      /* server gone: flush, FIN, drain the client */
};

typedef struct
{
  GSource     source;
  Connection *connection;
} ConnectionSource;

static gboolean
buffer_pending (const Buffer *buffer)
{
  return buffer->offset < buffer->length;
}

static void
connection_free (Connection *c)
{
  LbTestProxy *proxy = c->proxy;

  proxy->connections = g_list_remove (proxy->connections, c);
  g_source_destroy (c->source);
  g_source_unref (c->source);
  if (c->client != NULL)
    g_socket_close (c->client, NULL);
  if (c->server != NULL)
    g_socket_close (c->server, NULL);
  g_clear_object (&c->client);
  g_clear_object (&c->server);
  g_free (c);

  g_mutex_lock (&proxy->mutex);
  proxy->n_open--;
  g_mutex_unlock (&proxy->mutex);
}

static void
watch (Connection  *c,
       GSocket     *socket,
       gpointer    *tag,
       GIOCondition events)
{
  if (socket == NULL || events == 0)
    {
      /* not polled at all: a hung-up descriptor would wake us in a loop */
      if (*tag != NULL)
        g_source_remove_unix_fd (c->source, *tag);
      *tag = NULL;
    }
  else if (*tag == NULL)
    *tag = g_source_add_unix_fd (c->source, g_socket_get_fd (socket), events);
  else
    g_source_modify_unix_fd (c->source, *tag, events);
}

static gboolean
get_held (Connection *c)
{
  gboolean held;

  g_mutex_lock (&c->proxy->mutex);
  held = c->proxy->held;
  g_mutex_unlock (&c->proxy->mutex);

  return held || c->held;
}

static void
update_watches (Connection *c)
{
  GIOCondition client_events = 0, server_events = 0;
  gboolean held = get_held (c);

  if (!c->client_eof && (c->cutting || !buffer_pending (&c->to_server)))
    client_events |= G_IO_IN;
  if (buffer_pending (&c->to_client))
    client_events |= G_IO_OUT;
  if (c->server != NULL && !c->server_eof && !held && !buffer_pending (&c->to_client))
    server_events |= G_IO_IN;
  if (c->server != NULL && buffer_pending (&c->to_server))
    server_events |= G_IO_OUT;

  watch (c, c->client, &c->client_tag, client_events);
  watch (c, c->server, &c->server_tag, server_events);
}

static void
start_cut (Connection *c)
{
  if (c->cutting)
    return;
  c->cutting = TRUE;
  watch (c, c->server, &c->server_tag, 0);
  if (c->server != NULL)
    g_socket_close (c->server, NULL);
  g_clear_object (&c->server);
  c->to_server.length = c->to_server.offset = 0;

  g_mutex_lock (&c->proxy->mutex);
  c->proxy->n_cuts++;
  g_mutex_unlock (&c->proxy->mutex);
}

static guint64
get_cut_after (LbTestProxy *proxy)
{
  guint64 cut_after;

  g_mutex_lock (&proxy->mutex);
  cut_after = proxy->cut_after;
  g_mutex_unlock (&proxy->mutex);

  return cut_after;
}

/* Each returns FALSE when the connection failed and must go. */

static gboolean
read_server (Connection *c)
{
  g_autoptr(GError) error = NULL;
  guint64 cut_after = get_cut_after (c->proxy);
  gsize limit = BUFFER_SIZE;
  gssize n;

  if (cut_after > 0 && c->from_server >= cut_after)
    {
      start_cut (c);
      return TRUE;
    }
  if (cut_after > 0)
    limit = (gsize) MIN ((guint64) limit, cut_after - c->from_server);

  n = g_socket_receive_with_blocking (c->server, (char *) c->to_client.data, limit, FALSE, NULL,
                                      &error);
  if (n < 0)
    return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  if (n == 0)
    {
      c->server_eof = TRUE;
      return TRUE;
    }
  c->to_client.length = (gsize) n;
  c->to_client.offset = 0;
  c->from_server += (guint64) n;
  if (cut_after > 0 && c->from_server >= cut_after)
    start_cut (c);

  return TRUE;
}

static gboolean
write_client (Connection *c)
{
  g_autoptr(GError) error = NULL;
  Buffer *b = &c->to_client;
  gssize n;

  n = g_socket_send_with_blocking (c->client, (const char *) b->data + b->offset,
                                   b->length - b->offset, FALSE, NULL, &error);
  if (n < 0)
    return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  b->offset += (gsize) n;
  if (b->offset == b->length)
    b->offset = b->length = 0;

  g_mutex_lock (&c->proxy->mutex);
  c->proxy->bytes_to_client += (guint64) n;
  g_mutex_unlock (&c->proxy->mutex);

  return TRUE;
}

static gboolean
read_client (Connection *c)
{
  g_autoptr(GError) error = NULL;
  Buffer *b = &c->to_server;
  gssize n;

  n = g_socket_receive_with_blocking (c->client, (char *) b->data, BUFFER_SIZE, FALSE, NULL,
                                      &error);
  if (n < 0)
    return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  if (n == 0)
    {
      c->client_eof = TRUE;
      return TRUE;
    }
  if (c->cutting)
    return TRUE;  /* the server is gone: discard */
  b->length = (gsize) n;
  b->offset = 0;

  return TRUE;
}

static gboolean
write_server (Connection *c)
{
  g_autoptr(GError) error = NULL;
  Buffer *b = &c->to_server;
  gssize n;

  n = g_socket_send_with_blocking (c->server, (const char *) b->data + b->offset,
                                   b->length - b->offset, FALSE, NULL, &error);
  if (n < 0)
    return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
  b->offset += (gsize) n;
  if (b->offset == b->length)
    b->offset = b->length = 0;

  return TRUE;
}

static gboolean
ready (Connection   *c,
       gpointer      tag,
       GIOCondition  wanted)
{
  if (tag == NULL)
    return FALSE;

  return (g_source_query_unix_fd (c->source, tag) & (wanted | G_IO_HUP | G_IO_ERR)) != 0;
}

/* Moves what it can; FALSE when the connection is over. */
static gboolean
pump (Connection *c)
{
  if (c->server != NULL && !c->server_eof && !get_held (c) && !buffer_pending (&c->to_client) &&
      ready (c, c->server_tag, G_IO_IN) && !read_server (c))
    return FALSE;
  if (buffer_pending (&c->to_client) && !write_client (c))
    return FALSE;
  if (!buffer_pending (&c->to_client) && (c->server_eof || c->cutting) && !c->client_shut)
    {
      g_socket_shutdown (c->client, FALSE, TRUE, NULL);
      c->client_shut = TRUE;
    }

  if (!c->client_eof && (c->cutting || !buffer_pending (&c->to_server)) &&
      ready (c, c->client_tag, G_IO_IN) && !read_client (c))
    return FALSE;
  if (c->server != NULL && buffer_pending (&c->to_server) && !write_server (c))
    return FALSE;
  if (c->server != NULL && !buffer_pending (&c->to_server) && c->client_eof && !c->server_shut)
    {
      g_socket_shutdown (c->server, FALSE, TRUE, NULL);
      c->server_shut = TRUE;
    }

  /* over when the client closed and has had everything it will get */
  if (c->client_eof && c->client_shut)
    return FALSE;

  update_watches (c);
  return TRUE;
}

static gboolean
connection_dispatch (GSource     *source,
                     GSourceFunc  callback,
                     gpointer     user_data)
{
  Connection *c = ((ConnectionSource *) source)->connection;

  if (!pump (c))
    connection_free (c);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs connection_source_funcs = {
  NULL, NULL, connection_dispatch, NULL, NULL, NULL,
};

static void
set_nodelay (GSocket *socket)
{
  /* small IMAP lines should not wait for Nagle */
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

static void
start_connection (LbTestProxy *self,
                  GSocket     *client)
{
  g_autoptr(GSocket) server = NULL;
  g_autoptr(GError) error = NULL;
  Connection *c;

  server = g_socket_new (g_socket_address_get_family (self->target), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  if (server != NULL)
    {
      /* a blocking connect: the target is a loopback server */
      g_socket_set_timeout (server, 5);
      if (!g_socket_connect (server, self->target, NULL, &error))
        g_clear_object (&server);
    }
  if (server == NULL)
    {
      g_debug ("proxy: cannot reach the target: %s", error->message);
      g_socket_close (client, NULL);
      return;
    }
  g_socket_set_timeout (server, 0);
  g_socket_set_blocking (server, FALSE);
  g_socket_set_blocking (client, FALSE);
  set_nodelay (server);
  set_nodelay (client);

  c = g_new0 (Connection, 1);
  c->proxy = self;
  c->client = g_object_ref (client);
  c->server = g_steal_pointer (&server);
  c->source = g_source_new (&connection_source_funcs, sizeof (ConnectionSource));
  ((ConnectionSource *) c->source)->connection = c;
  g_source_set_name (c->source, "LbTestProxy connection");
  update_watches (c);
  g_source_attach (c->source, self->context);
  self->connections = g_list_prepend (self->connections, c);

  g_mutex_lock (&self->mutex);
  self->n_open++;
  g_mutex_unlock (&self->mutex);
}

static gboolean
accept_ready (GSocket      *listener,
              GIOCondition  condition,
              gpointer      user_data)
{
  LbTestProxy *self = user_data;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) client = g_socket_accept (listener, NULL, &error);
      gboolean down;

      if (client == NULL)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            g_debug ("proxy: accept failed: %s", error->message);
          break;
        }

      g_mutex_lock (&self->mutex);
      down = self->down;
      if (!down)
        self->n_connections++;
      g_mutex_unlock (&self->mutex);

      if (down)
        g_socket_close (client, NULL);
      else
        start_connection (self, client);
    }

  return G_SOURCE_CONTINUE;
}

static gpointer
proxy_thread (gpointer data)
{
  LbTestProxy *self = data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);

  while (self->connections != NULL)
    connection_free (self->connections->data);
  g_source_destroy (self->accept_source);
  g_main_context_pop_thread_default (self->context);

  return NULL;
}

typedef struct
{
  LbTestProxy *proxy;
  void       (*func) (LbTestProxy *proxy);
  gboolean     done;
} Call;

static gboolean
call_in_thread (gpointer data)
{
  Call *call = data;

  call->func (call->proxy);

  g_mutex_lock (&call->proxy->mutex);
  call->done = TRUE;
  g_cond_broadcast (&call->proxy->cond);
  g_mutex_unlock (&call->proxy->mutex);

  return G_SOURCE_REMOVE;
}

/* Runs @func in the proxy's thread and waits until it ran. */
static void
run_in_thread (LbTestProxy *self,
               void       (*func) (LbTestProxy *proxy))
{
  Call call = { self, func, FALSE };
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, call_in_thread, &call, NULL);
  g_source_attach (source, self->context);
  g_source_unref (source);

  g_mutex_lock (&self->mutex);
  while (!call.done)
    g_cond_wait (&self->cond, &self->mutex);
  g_mutex_unlock (&self->mutex);
}

/**
 * lb_test_proxy_new:
 * @host: the server's address (an IP address, or a name to resolve)
 * @target_port: the server's port
 *
 * Starts a proxy listening on a free port of 127.0.0.1 that forwards each
 * connection to @host:@target_port.
 */
LbTestProxy *
lb_test_proxy_new (const char  *host,
                   guint16      target_port,
                   GError     **error)
{
  g_autoptr(GInetAddress) target_address = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) bind_address = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GSocket) listener = NULL;
  LbTestProxy *self;

  g_return_val_if_fail (host != NULL, NULL);

  target_address = g_inet_address_new_from_string (host);
  if (target_address == NULL)
    {
      g_autolist(GInetAddress) addresses =
        g_resolver_lookup_by_name (g_resolver_get_default (), host, NULL, error);

      if (addresses == NULL)
        return NULL;
      target_address = g_object_ref (addresses->data);
    }

  listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                           error);
  if (listener == NULL)
    return NULL;
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  bind_address = g_inet_socket_address_new (loopback, 0);
  if (!g_socket_bind (listener, bind_address, FALSE, error) ||
      !g_socket_listen (listener, error))
    return NULL;
  local = g_socket_get_local_address (listener, error);
  if (local == NULL)
    return NULL;
  g_socket_set_blocking (listener, FALSE);

  self = g_new0 (LbTestProxy, 1);
  self->target = g_inet_socket_address_new (target_address, target_port);
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  self->listener = g_steal_pointer (&listener);
  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->accept_source = g_socket_create_source (self->listener, G_IO_IN, NULL);
  g_source_set_callback (self->accept_source, G_SOURCE_FUNC (accept_ready), self, NULL);
  g_source_attach (self->accept_source, self->context);
  self->thread = g_thread_new ("lb-test-proxy", proxy_thread, self);

  return self;
}

guint16
lb_test_proxy_get_port (LbTestProxy *self)
{
  return self->port;
}

static void
apply_cut_after (LbTestProxy *self)
{
  guint64 cut_after = get_cut_after (self);
  GList *l, *next;

  for (l = self->connections; l != NULL; l = next)
    {
      Connection *c = l->data;

      next = l->next;
      if (cut_after == 0 || c->from_server < cut_after)
        continue;
      start_cut (c);
      if (!pump (c))
        connection_free (c);
    }
}

/**
 * lb_test_proxy_set_cut_after:
 * @server_to_client_bytes: 0 for never
 *
 * From now on, each connection is cut once @server_to_client_bytes bytes
 * went from the server to the client on it: the client gets exactly that
 * many bytes and then end of stream; the server sees its connection closed.
 * A connection that already passed that many is cut at once. New
 * connections are cut the same way until this is set back to 0.
 */
void
lb_test_proxy_set_cut_after (LbTestProxy *self,
                             guint64      server_to_client_bytes)
{
  g_mutex_lock (&self->mutex);
  self->cut_after = server_to_client_bytes;
  g_mutex_unlock (&self->mutex);

  run_in_thread (self, apply_cut_after);
}

static void
cut_all (LbTestProxy *self)
{
  while (self->connections != NULL)
    connection_free (self->connections->data);
}

/**
 * lb_test_proxy_set_down:
 * @down: whether the server is unreachable
 *
 * While down, the proxy closes each new connection as soon as it accepted
 * it. Going down also closes every open connection at once, both sides,
 * without delivering what was in flight; it has happened when this returns.
 */
void
lb_test_proxy_set_down (LbTestProxy *self,
                        gboolean     down)
{
  g_mutex_lock (&self->mutex);
  self->down = !!down;
  g_mutex_unlock (&self->mutex);

  if (down)
    run_in_thread (self, cut_all);
}

static void
apply_held (LbTestProxy *self)
{
  GList *l, *next;

  for (l = self->connections; l != NULL; l = next)
    {
      Connection *c = l->data;

      next = l->next;
      update_watches (c);
    }
}

/**
 * lb_test_proxy_set_held:
 * @held: whether the server's answers wait
 *
 * While held, the proxy reads nothing more from the server, so the client
 * gets no answer (bytes read before are still delivered) while its
 * commands still reach the server. Released, everything the server sent
 * meanwhile goes through.
 */
void
lb_test_proxy_set_held (LbTestProxy *self,
                        gboolean     held)
{
  g_mutex_lock (&self->mutex);
  self->held = !!held;
  g_mutex_unlock (&self->mutex);

  run_in_thread (self, apply_held);
}

static void
apply_hold_open (LbTestProxy *self)
{
  gboolean hold;

  g_mutex_lock (&self->mutex);
  hold = self->hold_open;
  g_mutex_unlock (&self->mutex);

  for (GList *l = self->connections; l != NULL; l = l->next)
    {
      Connection *c = l->data;

      c->held = hold;
      update_watches (c);
    }
}

/**
 * lb_test_proxy_hold_open:
 * @held: whether the connections open now wait
 *
 * Like lb_test_proxy_set_held(), for the connections open now only:
 * connections made later go through. FALSE releases them.
 */
void
lb_test_proxy_hold_open (LbTestProxy *self,
                         gboolean     held)
{
  g_mutex_lock (&self->mutex);
  self->hold_open = !!held;
  g_mutex_unlock (&self->mutex);

  run_in_thread (self, apply_hold_open);
}

/**
 * lb_test_proxy_get_bytes_to_client:
 *
 * Bytes delivered from the server to clients, all connections together.
 */
guint64
lb_test_proxy_get_bytes_to_client (LbTestProxy *self)
{
  guint64 n;

  g_mutex_lock (&self->mutex);
  n = self->bytes_to_client;
  g_mutex_unlock (&self->mutex);

  return n;
}

/**
 * lb_test_proxy_get_n_connections:
 *
 * Connections accepted and forwarded so far (not those refused while down).
 */
guint
lb_test_proxy_get_n_connections (LbTestProxy *self)
{
  guint n;

  g_mutex_lock (&self->mutex);
  n = self->n_connections;
  g_mutex_unlock (&self->mutex);

  return n;
}

/**
 * lb_test_proxy_get_n_cuts:
 *
 * Connections cut because of lb_test_proxy_set_cut_after() so far.
 */
guint
lb_test_proxy_get_n_cuts (LbTestProxy *self)
{
  guint n;

  g_mutex_lock (&self->mutex);
  n = self->n_cuts;
  g_mutex_unlock (&self->mutex);

  return n;
}

/**
 * lb_test_proxy_get_n_open:
 *
 * Connections open now (a cut one stays open until its client closes).
 */
guint
lb_test_proxy_get_n_open (LbTestProxy *self)
{
  guint n;

  g_mutex_lock (&self->mutex);
  n = self->n_open;
  g_mutex_unlock (&self->mutex);

  return n;
}

static void
quit (LbTestProxy *self)
{
  g_main_loop_quit (self->loop);
}

/**
 * lb_test_proxy_free:
 *
 * Closes every connection and the listening socket and stops the thread.
 */
void
lb_test_proxy_free (LbTestProxy *self)
{
  if (self == NULL)
    return;

  run_in_thread (self, quit);
  g_thread_join (self->thread);

  g_source_unref (self->accept_source);
  g_socket_close (self->listener, NULL);
  g_object_unref (self->listener);
  g_main_loop_unref (self->loop);
  g_main_context_unref (self->context);
  g_object_unref (self->target);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);
  g_free (self);
}
