/* lb-transport.h: how an account sends mail
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * LbTransportError:
 * @LB_TRANSPORT_ERROR_TEMPORARY: the server or the network failed for now
 *   (a 4xx reply, a refused or dropped connection before the message was
 *   handed over, offline): the same send may be tried again later
 * @LB_TRANSPORT_ERROR_PERMANENT: the server refused the message or the
 *   sender for good (a 5xx reply): sending it again unchanged will fail
 * @LB_TRANSPORT_ERROR_RECIPIENTS: the server refused one or more
 *   recipients; nothing was sent to anyone (the transport sends DATA only
 *   when every recipient was accepted). The message lists each refused
 *   address with the server's reason. When every refusal was temporary
 *   (4xx), the error is %LB_TRANSPORT_ERROR_TEMPORARY with the same kind
 *   of message instead
 * @LB_TRANSPORT_ERROR_AUTH: the user name or password was refused, or no
 *   password is stored
 * @LB_TRANSPORT_ERROR_TOO_LARGE: the message is larger than the server's
 *   SIZE limit; refused before anything was sent
 * @LB_TRANSPORT_ERROR_INSECURE: the connection could not be encrypted
 *   (STARTTLS missing or failed) or would send the password in clear text
 *   without the user's consent; nothing was sent
 * @LB_TRANSPORT_ERROR_UNCERTAIN: the whole message was handed over but the
 *   connection failed before the server answered: it may have been sent.
 *   Never retried without the user's word
 * @LB_TRANSPORT_ERROR_UNSUPPORTED: the message needs an extension the
 *   server lacks (8BITMIME for 8-bit content, SMTPUTF8 for a non-ASCII
 *   address)
 *
 * Errors of lb_transport_send_finish(); messages are translated and meant
 * for the user. Errors of the connector (%G_IO_ERROR, %G_TLS_ERROR) are
 * passed through as they are: they are temporary except for certificate
 * errors. A caller's cancellation is %G_IO_ERROR_CANCELLED.
 */
typedef enum
{
  LB_TRANSPORT_ERROR_TEMPORARY,
  LB_TRANSPORT_ERROR_PERMANENT,
  LB_TRANSPORT_ERROR_RECIPIENTS,
  LB_TRANSPORT_ERROR_AUTH,
  LB_TRANSPORT_ERROR_TOO_LARGE,
  LB_TRANSPORT_ERROR_INSECURE,
  LB_TRANSPORT_ERROR_UNCERTAIN,
  LB_TRANSPORT_ERROR_UNSUPPORTED,
} LbTransportError;

#define LB_TRANSPORT_ERROR (lb_transport_error_quark ())

GQuark      lb_transport_error_quark       (void);

/* TRUE when trying the same send later may succeed (for the outbox's
 * retries): LB_TRANSPORT_ERROR_TEMPORARY and errors of G_IO_ERROR and
 * G_RESOLVER_ERROR other than CANCELLED (network, timeout, refused) */
gboolean    lb_transport_error_is_temporary (const GError *error);

#define LB_TYPE_TRANSPORT (lb_transport_get_type ())

G_DECLARE_INTERFACE (LbTransport, lb_transport, LB, TRANSPORT, GObject)

/**
 * LbTransportInterface:
 * @get_protocol_name: returns what the transport speaks ("smtp")
 * @send_async: hands a message to the server for delivery
 * @send_finish: finishes @send_async
 *
 * Sending is asynchronous and honours its #GCancellable. A message is sent
 * once the server accepted it for every recipient it can deliver to; the
 * error of a failed send is translated and says what the server refused
 * (the sender, a recipient, the message) so the user can fix it.
 */
struct _LbTransportInterface
{
  GTypeInterface parent_iface;

  const char *(*get_protocol_name) (LbTransport          *self);

  void        (*send_async)        (LbTransport          *self,
                                    GBytes               *message,
                                    const char           *from,
                                    const char * const   *recipients,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data);
  gboolean    (*send_finish)       (LbTransport          *self,
                                    GAsyncResult         *result,
                                    GError              **error);
};

const char *lb_transport_get_protocol_name (LbTransport          *self);

void        lb_transport_send_async        (LbTransport          *self,
                                            GBytes               *message,
                                            const char           *from,
                                            const char * const   *recipients,
                                            GCancellable         *cancellable,
                                            GAsyncReadyCallback   callback,
                                            gpointer              user_data);
gboolean    lb_transport_send_finish       (LbTransport          *self,
                                            GAsyncResult         *result,
                                            GError              **error);

G_END_DECLS
