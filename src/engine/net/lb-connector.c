/* lb-connector.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-net"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lb-connector.h"
#include "lb-net-certificate.h"

/* LbConnector opens the byte stream a protocol client talks over. Protocol
 * clients never open sockets themselves: they are handed a GIOStream, which
 * lets tests give them a real server, a scripted one or memory streams.
 *
 * Plaintext and STARTTLS connections are returned as the GSocketConnection;
 * the protocol client asks for STARTTLS/STLS itself and then calls
 * lb_connector_start_tls_async() on that stream. Implicit TLS connections
 * come back already handshaken. Certificates are always verified, against
 * the system trust store unless a database is set.
 *
 * A certificate that fails verification is accepted only when the user
 * pinned exactly it (its SHA-256 fingerprint) for that host and port; a
 * pin accepts that one certificate whatever else is wrong with it (its
 * authority, its dates, its name): the user chose to trust those bytes.
 * A rejected certificate is kept per host and port, and the error says
 * why it was rejected and shows its fingerprint, for the user to judge. */

#define DEFAULT_TIMEOUT_SECONDS 30

struct _LbConnector
{
  GObject       parent_instance;

  GTlsDatabase *tls_database;
  guint         timeout;

  /* "host:port" (host in lower case) -> normalized fingerprint; and ->
   * Rejected. Both guarded by the mutex: handshakes may verify on other
   * threads, the model may ask from its own. */
  GMutex        lock;
  GHashTable   *pins;
  GHashTable   *rejected;
};

typedef struct
{
  GTlsCertificate      *certificate;
  GTlsCertificateFlags  errors;
} Rejected;

static void
rejected_free (gpointer data)
{
  Rejected *rejected = data;

  g_clear_object (&rejected->certificate);
  g_free (rejected);
}

static char *
server_key (const char *host,
            guint16     port)
{
  g_autofree char *lower = g_utf8_strdown (host, -1);

  return g_strdup_printf ("%s:%u", lower, port);
}

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

  /* the handshake's verdict on a certificate that failed verification */
  char                 *pin;          /* pinned for host:port when it began */
  GTlsCertificate      *rejected;
  GTlsCertificateFlags  rejected_errors;
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
  g_free (cd->pin);
  g_clear_object (&cd->rejected);
  g_free (cd);
}

static void
lb_connector_finalize (GObject *object)
{
  LbConnector *self = (LbConnector *) object;

  g_clear_object (&self->tls_database);
  g_clear_pointer (&self->pins, g_hash_table_unref);
  g_clear_pointer (&self->rejected, g_hash_table_unref);
  g_mutex_clear (&self->lock);

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
  g_mutex_init (&self->lock);
  self->pins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->rejected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, rejected_free);
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

/* Parses "host:port=FINGERPRINT" or "host:port FINGERPRINT" (as
 * LbAccount stores pins). */
static gboolean
parse_pin (const char  *entry,
           char       **key,
           char       **fingerprint)
{
  const char *separator = strrchr (entry, '=');
  const char *colon;
  g_autofree char *host = NULL;
  g_autofree char *port_text = NULL;
  guint64 port;

  if (separator == NULL)
    separator = strrchr (entry, ' ');
  if (separator == NULL)
    return FALSE;
  colon = g_strrstr_len (entry, separator - entry, ":");
  if (colon == NULL || colon == entry)
    return FALSE;

  host = g_strndup (entry, colon - entry);
  port_text = g_strndup (colon + 1, separator - colon - 1);
  if (!g_ascii_string_to_unsigned (port_text, 10, 1, G_MAXUINT16, &port, NULL))
    return FALSE;
  *fingerprint = lb_net_normalize_fingerprint (separator + 1);
  if (*fingerprint == NULL)
    return FALSE;
  *key = server_key (host, (guint16) port);
  return TRUE;
}

/**
 * lb_connector_set_pinned_fingerprints:
 * @self: a connector
 * @pins: (nullable) (array zero-terminated=1): entries
 *   "host:port=FINGERPRINT" or "host:port FINGERPRINT" (the form
 *   lb_account_get_pinned_certificates() gives), the fingerprint a
 *   certificate's SHA-256 in hex, with or without colons, in either case
 *
 * Sets the certificates the user accepted after seeing their fingerprint.
 * A server whose certificate fails verification is accepted when, and
 * only when, its certificate's fingerprint is exactly the one pinned for
 * the host and port connected to (the host as given to connect, in any
 * case). A pin accepts that certificate whatever is wrong with it
 * (unknown authority, expired, another name): the user trusted those very
 * bytes. A certificate that passes verification needs no pin. Malformed
 * entries are ignored. Applies to connections started afterwards.
 */
void
lb_connector_set_pinned_fingerprints (LbConnector        *self,
                                      const char * const *pins)
{
  g_return_if_fail (LB_IS_CONNECTOR (self));

  g_mutex_lock (&self->lock);
  g_hash_table_remove_all (self->pins);
  for (guint i = 0; pins != NULL && pins[i] != NULL; i++)
    {
      char *key = NULL;
      char *fingerprint = NULL;

      if (parse_pin (pins[i], &key, &fingerprint))
        g_hash_table_replace (self->pins, key, fingerprint);
      else
        g_debug ("Ignoring a malformed certificate pin “%s”", pins[i]);
    }
  g_mutex_unlock (&self->lock);
}

/**
 * lb_connector_dup_rejected_certificate:
 * @self: a connector
 * @host: the host as given to connect
 * @port: the port
 * @errors: (out) (optional): why it failed verification
 *
 * After a handshake failed with %G_TLS_ERROR_BAD_CERTIFICATE: the
 * certificate the server presented, for the user to judge (its
 * fingerprint: lb_net_certificate_fingerprint()) and perhaps pin.
 *
 * Returns: (transfer full) (nullable): the certificate last rejected for
 *   @host and @port, %NULL if none was
 */
GTlsCertificate *
lb_connector_dup_rejected_certificate (LbConnector          *self,
                                       const char           *host,
                                       guint16               port,
                                       GTlsCertificateFlags *errors)
{
  g_autofree char *key = NULL;
  GTlsCertificate *certificate = NULL;
  Rejected *rejected;

  g_return_val_if_fail (LB_IS_CONNECTOR (self), NULL);
  g_return_val_if_fail (host != NULL, NULL);

  key = server_key (host, port);
  g_mutex_lock (&self->lock);
  rejected = g_hash_table_lookup (self->rejected, key);
  if (rejected != NULL)
    {
      certificate = g_object_ref (rejected->certificate);
      if (errors != NULL)
        *errors = rejected->errors;
    }
  else if (errors != NULL)
    *errors = 0;
  g_mutex_unlock (&self->lock);

  return certificate;
}

/* Emitted when the certificate failed verification (maybe on a thread of
 * the TLS backend): accepted only if pinned for this server. */
static gboolean
accept_certificate_cb (GTlsConnection       *tls,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  ConnectData *cd = user_data;
  g_autofree char *fingerprint = lb_net_certificate_fingerprint (certificate);

  if (cd->pin != NULL && fingerprint != NULL && strcmp (cd->pin, fingerprint) == 0)
    {
      g_debug ("%s:%u: accepting the pinned certificate %s (failed verification: 0x%x)",
               cd->host, cd->port, fingerprint, errors);
      return TRUE;
    }

  g_set_object (&cd->rejected, certificate);
  cd->rejected_errors = errors;
  return FALSE;
}

/* The handshake failed on a certificate we rejected: keep it for the
 * user to see, and say in the error what is wrong and what it is. */
static void
note_rejected (LbConnector  *self,
               ConnectData  *cd,
               GError      **error)
{
  Rejected *rejected = g_new0 (Rejected, 1);
  g_autofree char *fingerprint = lb_net_certificate_fingerprint (cd->rejected);
  g_autofree char *reasons = lb_net_certificate_describe_errors (cd->rejected_errors);

  rejected->certificate = g_object_ref (cd->rejected);
  rejected->errors = cd->rejected_errors;
  g_mutex_lock (&self->lock);
  g_hash_table_replace (self->rejected, server_key (cd->host, cd->port), rejected);
  g_mutex_unlock (&self->lock);

  g_clear_error (error);
  if (cd->pin != NULL)
    g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                 /* Translators: the second %s are reasons like "it has expired" */
                 _("Could not set up a secure connection to %s port %u: its certificate is not "
                   "the one you accepted before, and it is not trusted: %s. "
                   "Its SHA-256 fingerprint is %s."),
                 cd->host, cd->port, reasons, fingerprint);
  else
    g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
                 /* Translators: the second %s are reasons like "it has expired" */
                 _("Could not set up a secure connection to %s port %u: its certificate is not "
                   "trusted: %s. Its SHA-256 fingerprint is %s."),
                 cd->host, cd->port, reasons, fingerprint);
}

static void
handshake_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTlsConnection *tls = G_TLS_CONNECTION (object);
  g_autoptr(GTask) task = user_data;
  LbConnector *self = g_task_get_source_object (task);
  ConnectData *cd = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_tls_connection_handshake_finish (tls, result, &error);

  /* the stream outlives the task data the handler points at */
  g_signal_handlers_disconnect_by_func (tls, accept_certificate_cb, cd);

  if (!ok)
    {
      if (cd->rejected != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        note_rejected (self, cd, &error);
      else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
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

  /* the pin as it is now: settings changed meanwhile apply to the next
   * connection */
  {
    g_autofree char *key = server_key (cd->host, cd->port);

    g_mutex_lock (&self->lock);
    cd->pin = g_strdup (g_hash_table_lookup (self->pins, key));
    g_mutex_unlock (&self->lock);
  }
  g_signal_connect (tls, "accept-certificate", G_CALLBACK (accept_certificate_cb), cd);

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
