/* lb-smtp-transport.c: an account's SMTP submission
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-model"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "lb-smtp-client.h"
#include "lb-smtp-transport.h"

/* One send is one connection: the steps run in order from send_async()
 * (password, connect, greet, EHLO, STARTTLS, AUTH, the message, QUIT) on
 * a SendOp that is the GTask's data. Every failure goes through
 * send_fail(), which turns the engine's LB_SMTP_ERROR into the
 * LbTransportError the outbox acts on and closes the connection. */

#define DEFAULT_TIMEOUT_SECONDS 120

struct _LbSmtpTransport
{
  GObject      parent_instance;

  GWeakRef     account;
  LbSecrets   *secrets;
  LbConnector *connector;
  guint        timeout;
};

static void lb_smtp_transport_iface_init (LbTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LbSmtpTransport, lb_smtp_transport, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (LB_TYPE_TRANSPORT, lb_smtp_transport_iface_init))

typedef enum
{
  PHASE_PASSWORD,
  PHASE_CONNECT,
  PHASE_GREET,
  PHASE_STARTTLS,
  PHASE_LOGIN,
  PHASE_SEND,
} Phase;

typedef struct
{
  Phase         phase;
  char         *account_id;
  char         *incoming_protocol;
  char         *host;
  guint16       port;
  LbNetSecurity security;
  char         *user;
  char         *password;
  GError       *password_error;  /* reported only if the server wants a login */
  gboolean      tried_incoming;
  GBytes       *message;
  char         *from;
  GStrv         recipients;
  LbSmtpClient *client;
} SendOp;

static void
send_op_free (gpointer data)
{
  SendOp *op = data;

  g_free (op->account_id);
  g_free (op->incoming_protocol);
  g_free (op->host);
  g_free (op->user);
  g_clear_pointer (&op->password, lb_secrets_password_free);
  g_clear_error (&op->password_error);
  g_clear_pointer (&op->message, g_bytes_unref);
  g_free (op->from);
  g_strfreev (op->recipients);
  if (op->client != NULL && !lb_smtp_client_is_closed (op->client))
    lb_smtp_client_close (op->client);
  g_clear_object (&op->client);
  g_free (op);
}

/* the engine's error (taken) as an LbTransportError */
static GError *
map_error (SendOp *op,
           GError *error)
{
  LbTransportError code;
  GError *mapped;

  if (error->domain != LB_SMTP_ERROR)
    return error;

  switch ((LbSmtpError) error->code)
    {
    case LB_SMTP_ERROR_MALFORMED:
    case LB_SMTP_ERROR_TOO_LONG:
    case LB_SMTP_ERROR_CUT:
    case LB_SMTP_ERROR_UNEXPECTED:
    case LB_SMTP_ERROR_TEMPORARY:
    case LB_SMTP_ERROR_RECIPIENTS_TEMPORARY:
      code = LB_TRANSPORT_ERROR_TEMPORARY;
      break;
    case LB_SMTP_ERROR_PERMANENT:
    case LB_SMTP_ERROR_INVALID_ADDRESS:
      code = LB_TRANSPORT_ERROR_PERMANENT;
      break;
    case LB_SMTP_ERROR_AUTHENTICATION:
      mapped = g_error_new (LB_TRANSPORT_ERROR, LB_TRANSPORT_ERROR_AUTH,
                            _("The server refused the password for %s"), op->user);
      g_debug ("%s", error->message);
      g_error_free (error);
      return mapped;
    case LB_SMTP_ERROR_NO_STARTTLS:
      code = LB_TRANSPORT_ERROR_INSECURE;
      break;
    case LB_SMTP_ERROR_NOT_SUPPORTED:
      code = op->phase == PHASE_LOGIN ? LB_TRANSPORT_ERROR_AUTH : LB_TRANSPORT_ERROR_UNSUPPORTED;
      break;
    case LB_SMTP_ERROR_RECIPIENTS:
      code = LB_TRANSPORT_ERROR_RECIPIENTS;
      break;
    case LB_SMTP_ERROR_TOO_LARGE:
      code = LB_TRANSPORT_ERROR_TOO_LARGE;
      break;
    case LB_SMTP_ERROR_UNCERTAIN:
      code = LB_TRANSPORT_ERROR_UNCERTAIN;
      break;
    default:
      code = LB_TRANSPORT_ERROR_TEMPORARY;
      break;
    }

  mapped = g_error_new_literal (LB_TRANSPORT_ERROR, code, error->message);
  g_error_free (error);
  return mapped;
}

/* takes @task and @error */
static void
send_fail (GTask  *task,
           GError *error)
{
  SendOp *op = g_task_get_task_data (task);

  error = map_error (op, error);
  g_debug ("sending through %s failed: %s", op->host, error->message);
  if (op->client != NULL && !lb_smtp_client_is_closed (op->client))
    lb_smtp_client_close (op->client);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
quit_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(LbSmtpClient) client = user_data;
  g_autoptr(GError) error = NULL;

  /* sent is sent: a failed QUIT changes nothing */
  if (!lb_smtp_client_quit_finish (client, result, &error))
    g_debug ("QUIT failed: %s", error->message);
}

static void
message_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  SendOp *op = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lb_smtp_client_send_finish (LB_SMTP_CLIENT (object), result, &error))
    {
      send_fail (task, error);
      return;
    }
  /* the message is out: the caller hears at once, QUIT only says goodbye
   * (and is not cancellable) */
  {
    LbSmtpClient *client = g_steal_pointer (&op->client);

    lb_smtp_client_quit_async (client, NULL, quit_cb, client);
  }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
send_message (GTask *task)
{
  SendOp *op = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  op->phase = PHASE_SEND;
  lb_smtp_client_send_async (op->client, op->from, (const char * const *) op->recipients, op->message,
                             cancellable, message_cb, task);
}

static void
login_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  SendOp *op = g_task_get_task_data (task);
  GError *error = NULL;

  g_clear_pointer (&op->password, lb_secrets_password_free);
  if (!lb_smtp_client_login_finish (LB_SMTP_CLIENT (object), result, &error))
    {
      send_fail (task, error);
      return;
    }
  send_message (task);
}

static void
login_or_send (GTask *task)
{
  SendOp *op = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  const LbSmtpExtensions *ext = lb_smtp_client_get_extensions (op->client);

  if (ext == NULL || (ext->flags & LB_SMTP_EXTENSION_AUTH) == 0)
    {
      /* a server that wants no login (a relay for its own network) */
      send_message (task);
      return;
    }
  if (op->password == NULL && op->password_error != NULL)
    {
      send_fail (task, g_steal_pointer (&op->password_error));
      return;
    }
  if (op->password == NULL)
    {
      send_fail (task, g_error_new (LB_TRANSPORT_ERROR, LB_TRANSPORT_ERROR_AUTH,
                                    _("Could not send through %s: no password for %s is saved in the keyring"),
                                    op->host, op->user));
      return;
    }
  op->phase = PHASE_LOGIN;
  lb_smtp_client_login_async (op->client, LB_SMTP_AUTH_AUTO, op->user, op->password, cancellable,
                              login_cb, task);
}

static void
starttls_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!lb_smtp_client_starttls_finish (LB_SMTP_CLIENT (object), result, &error))
    {
      send_fail (task, error);
      return;
    }
  login_or_send (task);
}

static void
ehlo_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  SendOp *op = g_task_get_task_data (task);
  LbSmtpTransport *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!lb_smtp_client_ehlo_finish (LB_SMTP_CLIENT (object), result, &error))
    {
      send_fail (task, error);
      return;
    }
  if (op->security == LB_NET_SECURITY_STARTTLS)
    {
      op->phase = PHASE_STARTTLS;
      lb_smtp_client_starttls_async (op->client, self->connector, op->host, op->port,
                                     g_task_get_cancellable (task), starttls_cb, task);
      return;
    }
  login_or_send (task);
}

static void
greet_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  SendOp *op = g_task_get_task_data (task);
  GError *error = NULL;
  gboolean helo_fallback;

  if (!lb_smtp_client_greet_finish (LB_SMTP_CLIENT (object), result, &error))
    {
      send_fail (task, error);
      return;
    }
  /* HELO only where no extension is needed: no STARTTLS, no password */
  helo_fallback = op->security != LB_NET_SECURITY_STARTTLS && op->password == NULL &&
                  op->password_error == NULL;
  lb_smtp_client_ehlo_async (op->client, helo_fallback, g_task_get_cancellable (task), ehlo_cb, task);
}

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  SendOp *op = g_task_get_task_data (task);
  LbSmtpTransport *self = g_task_get_source_object (task);
  g_autoptr(GIOStream) stream = NULL;
  GError *error = NULL;

  stream = lb_connector_connect_finish (LB_CONNECTOR (object), result, &error);
  if (stream == NULL)
    {
      send_fail (task, error);
      return;
    }
  op->client = lb_smtp_client_new (stream);
  lb_smtp_client_set_timeout (op->client, self->timeout);
  op->phase = PHASE_GREET;
  lb_smtp_client_greet_async (op->client, g_task_get_cancellable (task), greet_cb, task);
}

static void
start_connect (GTask *task)
{
  SendOp *op = g_task_get_task_data (task);
  LbSmtpTransport *self = g_task_get_source_object (task);

  op->phase = PHASE_CONNECT;
  g_debug ("sending through %s port %u", op->host, op->port);
  lb_connector_connect_async (self->connector, op->host, op->port, op->security,
                              g_task_get_cancellable (task), connect_cb, task);
}

static void lookup_password (GTask      *task,
                             const char *protocol);

static void
password_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  GTask *task = user_data;
  SendOp *op = g_task_get_task_data (task);
  GError *error = NULL;

  op->password = lb_secrets_lookup_finish (LB_SECRETS (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      send_fail (task, error);
      return;
    }
  if (error != NULL)
    {
      /* no keyring: fine for a server that wants no login */
      g_clear_error (&op->password_error);
      op->password_error = error;
      start_connect (task);
      return;
    }
  /* many setups share the incoming server's password */
  if (op->password == NULL && !op->tried_incoming && op->incoming_protocol != NULL)
    {
      op->tried_incoming = TRUE;
      lookup_password (task, op->incoming_protocol);
      return;
    }
  start_connect (task);
}

static void
lookup_password (GTask      *task,
                 const char *protocol)
{
  SendOp *op = g_task_get_task_data (task);
  LbSmtpTransport *self = g_task_get_source_object (task);
  LbSecretKey key = { 0 };

  key.account_id = op->account_id;
  key.protocol = protocol;
  key.host = op->host;
  key.user = op->user;
  lb_secrets_lookup_async (self->secrets, &key, g_task_get_cancellable (task), password_cb, task);
}

static void
lb_smtp_transport_send_async (LbTransport         *transport,
                              GBytes              *message,
                              const char          *from,
                              const char * const  *recipients,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  LbSmtpTransport *self = LB_SMTP_TRANSPORT (transport);
  g_autoptr(LbAccount) account = g_weak_ref_get (&self->account);
  GTask *task;
  SendOp *op;
  const char *user;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_smtp_transport_send_async);
  /* the client's UNCERTAIN stands even when the caller cancelled */
  g_task_set_check_cancellable (task, FALSE);

  if (account == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s", _("The account was removed"));
      g_object_unref (task);
      return;
    }

  op = g_new0 (SendOp, 1);
  g_task_set_task_data (task, op, send_op_free);
  op->phase = PHASE_PASSWORD;
  op->account_id = g_strdup (lb_account_get_id (account));
  op->incoming_protocol = g_strdup (lb_account_get_incoming_protocol (account) == LB_INCOMING_POP3 ? "pop3"
                                                                                                     : "imap");
  op->host = g_strdup (lb_account_get_smtp_host (account));
  op->port = lb_account_get_effective_smtp_port (account);
  op->security = lb_account_get_smtp_security (account);
  user = lb_account_get_smtp_user (account);
  if (user == NULL || user[0] == '\0')
    {
      LbIdentity *identity = lb_account_get_default_identity (account);

      user = identity != NULL ? lb_identity_get_address (identity) : "";
    }
  op->user = g_strdup (user);
  op->message = g_bytes_ref (message);
  op->from = g_strdup (from);
  op->recipients = g_strdupv ((char **) recipients);

  if (op->host == NULL || op->host[0] == '\0')
    {
      send_fail (task, g_error_new (LB_TRANSPORT_ERROR, LB_TRANSPORT_ERROR_PERMANENT,
                                    _("The account “%s” has no outgoing mail server"),
                                    lb_account_get_display_name (account)));
      return;
    }
  /* the password never travels in clear text without the user's word */
  if (op->security == LB_NET_SECURITY_NONE && !lb_account_get_allow_plaintext_password (account))
    {
      send_fail (task, g_error_new (LB_TRANSPORT_ERROR, LB_TRANSPORT_ERROR_INSECURE,
                                    _("Letterbox did not send through %s: the connection would not be "
                                      "encrypted, and anyone on the network could read the password. "
                                      "Choose TLS or STARTTLS, or allow sending the password "
                                      "unencrypted in the account’s settings."),
                                    op->host));
      return;
    }
  {
    g_auto(GStrv) trusted = lb_account_dup_trusted_certificates (account);

    lb_connector_set_pinned_fingerprints (self->connector, (const char * const *) trusted);
  }

  lookup_password (task, "smtp");
}

static gboolean
lb_smtp_transport_send_finish (LbTransport   *transport,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, transport), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_smtp_transport_send_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static const char *
lb_smtp_transport_get_protocol_name (LbTransport *transport)
{
  return "smtp";
}

static void
lb_smtp_transport_iface_init (LbTransportInterface *iface)
{
  iface->get_protocol_name = lb_smtp_transport_get_protocol_name;
  iface->send_async = lb_smtp_transport_send_async;
  iface->send_finish = lb_smtp_transport_send_finish;
}

static void
lb_smtp_transport_finalize (GObject *object)
{
  LbSmtpTransport *self = LB_SMTP_TRANSPORT (object);

  g_weak_ref_clear (&self->account);
  g_clear_object (&self->secrets);
  g_clear_object (&self->connector);
  G_OBJECT_CLASS (lb_smtp_transport_parent_class)->finalize (object);
}

static void
lb_smtp_transport_class_init (LbSmtpTransportClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = lb_smtp_transport_finalize;
}

static void
lb_smtp_transport_init (LbSmtpTransport *self)
{
  g_weak_ref_init (&self->account, NULL);
  self->timeout = DEFAULT_TIMEOUT_SECONDS;
}

LbSmtpTransport *
lb_smtp_transport_new (LbAccount   *account,
                       LbSecrets   *secrets,
                       LbConnector *connector)
{
  LbSmtpTransport *self;

  g_return_val_if_fail (LB_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (LB_IS_SECRETS (secrets), NULL);
  g_return_val_if_fail (LB_IS_CONNECTOR (connector), NULL);

  self = g_object_new (LB_TYPE_SMTP_TRANSPORT, NULL);
  g_weak_ref_set (&self->account, account);
  self->secrets = g_object_ref (secrets);
  self->connector = g_object_ref (connector);
  return self;
}

void
lb_smtp_transport_set_timeout (LbSmtpTransport *self,
                               guint            seconds)
{
  g_return_if_fail (LB_IS_SMTP_TRANSPORT (self));
  self->timeout = seconds;
}
