/* lb-connector.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-net"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "lb-connector.h"

/* LbConnector opens the byte stream a protocol client talks over. Protocol
 * clients never open sockets themselves: they are handed a GIOStream, which
 * lets tests give them a real server, a scripted one or memory streams.
 *
 * Plaintext and STARTTLS connections are returned as the GSocketConnection;
 * the protocol client asks for STARTTLS/STLS itself and then calls
 * lb_connector_start_tls_async() on that stream. Implicit TLS connections
 * come back already handshaken. Certificates are always verified, against
 * the system trust store unless a database is set. */

#define DEFAULT_TIMEOUT_SECONDS 30

struct _LbConnector
{
  GObject       parent_instance;

  GTlsDatabase *tls_database;
  guint         timeout;
};

G_DEFINE_FINAL_TYPE (LbConnector, lb_connector, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_TLS_DATABASE,
  PROP_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  /* host and port exactly as given: a host name never carries a port */
  GSocketConnectable *address;
  char               *host;
  guint16             port;
  LbNetSecurity       security;
} ConnectData;

static ConnectData *
connect_data_new (const char    *host,
                  guint16        port,
                  LbNetSecurity  security)
{
  ConnectData *cd = g_new0 (ConnectData, 1);

  cd->address = g_network_address_new (host, port);
  cd->host = g_strdup (host);
  cd->port = port;
  cd->security = security;

  return cd;
}

static void
connect_data_free (gpointer data)
{
  ConnectData *cd = data;

  g_clear_object (&cd->address);
  g_free (cd->host);
  g_free (cd);
}

static void
lb_connector_finalize (GObject *object)
{
  LbConnector *self = (LbConnector *) object;

  g_clear_object (&self->tls_database);

  G_OBJECT_CLASS (lb_connector_parent_class)->finalize (object);
}

static void
lb_connector_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  LbConnector *self = LB_CONNECTOR (object);

  switch (prop_id)
    {
    case PROP_TLS_DATABASE:
      g_value_set_object (value, self->tls_database);
      break;

    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_connector_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  LbConnector *self = LB_CONNECTOR (object);

  switch (prop_id)
    {
    case PROP_TLS_DATABASE:
      lb_connector_set_tls_database (self, g_value_get_object (value));
      break;

    case PROP_TIMEOUT:
      lb_connector_set_timeout (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_connector_class_init (LbConnectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lb_connector_finalize;
  object_class->get_property = lb_connector_get_property;
  object_class->set_property = lb_connector_set_property;

  /**
   * LbConnector:tls-database:
   *
   * The certificate authorities to verify servers against; %NULL means
   * the system trust store.
   */
  properties[PROP_TLS_DATABASE] =
    g_param_spec_object ("tls-database", NULL, NULL,
                         G_TYPE_TLS_DATABASE,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * LbConnector:timeout:
   *
   * Seconds a TCP connection attempt, the TLS handshake, and later any
   * single read or write on the connection may take before it fails; 0
   * means no timeout. Looking the host name up is not covered: that is
   * the system resolver's business.
   */
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL,
                       0, G_MAXUINT, DEFAULT_TIMEOUT_SECONDS,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lb_connector_init (LbConnector *self)
{
  self->timeout = DEFAULT_TIMEOUT_SECONDS;
}

LbConnector *
lb_connector_new (void)
{
  return g_object_new (LB_TYPE_CONNECTOR, NULL);
}

GTlsDatabase *
lb_connector_get_tls_database (LbConnector *self)
{
  g_return_val_if_fail (LB_IS_CONNECTOR (self), NULL);

  return self->tls_database;
}

void
lb_connector_set_tls_database (LbConnector  *self,
                               GTlsDatabase *database)
{
  g_return_if_fail (LB_IS_CONNECTOR (self));
  g_return_if_fail (database == NULL || G_IS_TLS_DATABASE (database));

  if (g_set_object (&self->tls_database, database))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_DATABASE]);
}

guint
lb_connector_get_timeout (LbConnector *self)
{
  g_return_val_if_fail (LB_IS_CONNECTOR (self), 0);

  return self->timeout;
}

void
lb_connector_set_timeout (LbConnector *self,
                          guint        seconds)
{
  g_return_if_fail (LB_IS_CONNECTOR (self));

  if (self->timeout == seconds)
    return;

  self->timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

static void
handshake_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTlsConnection *tls = G_TLS_CONNECTION (object);
  g_autoptr(GTask) task = user_data;
  ConnectData *cd = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!g_tls_connection_handshake_finish (tls, result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, _("Could not set up a secure connection to %s: "), cd->host);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_pointer (task, g_object_ref (tls), g_object_unref);
}

/* Wraps @plain in TLS and shakes hands; @task returns the TLS stream. */
static void
start_tls (LbConnector *self,
           GIOStream   *plain,
           GTask       *task)
{
  ConnectData *cd = g_task_get_task_data (task);
  g_autoptr(GIOStream) tls = NULL;
  GError *error = NULL;

  /* the certificate must be valid for the host the user configured */
  tls = g_tls_client_connection_new (plain, cd->address, &error);
  if (tls == NULL)
    {
      g_prefix_error (&error, _("Could not set up a secure connection to %s: "), cd->host);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  if (self->tls_database != NULL)
    g_tls_connection_set_database (G_TLS_CONNECTION (tls), self->tls_database);

  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls),
                                    g_task_get_priority (task),
                                    g_task_get_cancellable (task),
                                    handshake_cb,
                                    task);
}

static void
socket_connect_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GSocketClient *client = G_SOCKET_CLIENT (object);
  g_autoptr(GTask) task = user_data;
  LbConnector *self = g_task_get_source_object (task);
  ConnectData *cd = g_task_get_task_data (task);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = g_socket_client_connect_finish (client, result, &error);
  if (connection == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, _("Could not connect to %s port %u: "), cd->host, cd->port);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (cd->security == LB_NET_SECURITY_TLS)
    start_tls (self, G_IO_STREAM (connection), g_steal_pointer (&task));
  else
    g_task_return_pointer (task, g_steal_pointer (&connection), g_object_unref);
}

/**
 * lb_connector_connect_async:
 * @self: a connector
 * @host: a host name or address
 * @port: the TCP port
 * @security: %LB_NET_SECURITY_TLS to shake hands at once; for
 *   %LB_NET_SECURITY_STARTTLS and %LB_NET_SECURITY_NONE the plaintext
 *   stream is returned and the protocol client decides what happens next
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the stream is ready or the attempt failed
 * @user_data: data for @callback
 *
 * Connects to a mail server. The stream honours #LbConnector:timeout.
 */
void
lb_connector_connect_async (LbConnector         *self,
                            const char          *host,
                            guint16              port,
                            LbNetSecurity        security,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSocketClient) client = NULL;
  ConnectData *cd;

  g_return_if_fail (LB_IS_CONNECTOR (self));
  g_return_if_fail (host != NULL && *host != '\0');
  g_return_if_fail (port != 0);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_connector_connect_async);

  cd = connect_data_new (host, port, security);
  g_task_set_task_data (task, cd, connect_data_free);

  client = g_socket_client_new ();
  g_socket_client_set_timeout (client, self->timeout);
  g_socket_client_connect_async (client, cd->address, cancellable,
                                 socket_connect_cb,
                                 g_steal_pointer (&task));
}

/**
 * lb_connector_connect_finish:
 *
 * Returns: (transfer full): the stream, a #GTlsConnection for implicit TLS
 */
GIOStream *
lb_connector_connect_finish (LbConnector   *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (LB_IS_CONNECTOR (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_connector_connect_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lb_connector_start_tls_async:
 * @self: a connector
 * @plain: the plaintext stream, after the server agreed to STARTTLS/STLS;
 *   nothing may have been read ahead of the server's answer
 * @host: the host name the certificate must be valid for
 * @port: the port, for the server identity
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the handshake is done or failed
 * @user_data: data for @callback
 *
 * Upgrades a plaintext connection to TLS. On failure the caller must drop
 * the connection: STARTTLS never falls back to plaintext.
 */
void
lb_connector_start_tls_async (LbConnector         *self,
                              GIOStream           *plain,
                              const char          *host,
                              guint16              port,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task;
  ConnectData *cd;

  g_return_if_fail (LB_IS_CONNECTOR (self));
  g_return_if_fail (G_IS_IO_STREAM (plain));
  g_return_if_fail (host != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_connector_start_tls_async);

  cd = connect_data_new (host, port, LB_NET_SECURITY_STARTTLS);
  g_task_set_task_data (task, cd, connect_data_free);

  start_tls (self, plain, task);
}

/**
 * lb_connector_start_tls_finish:
 *
 * Returns: (transfer full): the #GTlsConnection over the plaintext stream
 */
GIOStream *
lb_connector_start_tls_finish (LbConnector   *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (LB_IS_CONNECTOR (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_connector_start_tls_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
