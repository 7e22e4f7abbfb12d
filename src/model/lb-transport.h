/* lb-transport.h: how an account sends mail
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

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
