/* lb-transport.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-model"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "lb-transport.h"

/* LbTransport is how an account sends mail (SMTP submission). As with
 * LbProvider, a transport that leaves send out fails with
 * G_IO_ERROR_NOT_SUPPORTED on a task tagged with the wrapper. */

G_DEFINE_INTERFACE (LbTransport, lb_transport, G_TYPE_OBJECT)

G_DEFINE_QUARK (lb-transport-error-quark, lb_transport_error)

/**
 * lb_transport_error_is_temporary:
 * @error: (nullable): an error of lb_transport_send_finish()
 *
 * Returns: %TRUE when the same send may succeed later, for the outbox's
 *   retries: %LB_TRANSPORT_ERROR_TEMPORARY, and the network's errors
 *   (%G_IO_ERROR and %G_RESOLVER_ERROR but a cancellation)
 */
gboolean
lb_transport_error_is_temporary (const GError *error)
{
  if (error == NULL)
    return FALSE;
  if (error->domain == LB_TRANSPORT_ERROR)
    return error->code == LB_TRANSPORT_ERROR_TEMPORARY;
  if (error->domain == G_IO_ERROR)
    return error->code != G_IO_ERROR_CANCELLED;
  return error->domain == G_RESOLVER_ERROR;
}

static void
lb_transport_default_init (LbTransportInterface *iface)
{
}

/**
 * lb_transport_get_protocol_name:
 * @self: a transport
 *
 * Returns: what the transport speaks ("smtp")
 */
const char *
lb_transport_get_protocol_name (LbTransport *self)
{
  g_return_val_if_fail (LB_IS_TRANSPORT (self), NULL);
  g_return_val_if_fail (LB_TRANSPORT_GET_IFACE (self)->get_protocol_name != NULL, NULL);

  return LB_TRANSPORT_GET_IFACE (self)->get_protocol_name (self);
}

/**
 * lb_transport_send_async:
 * @self: a transport
 * @message: the whole message (RFC 5322), as it is to be delivered
 * @from: the envelope sender (the SMTP reverse path); "" for none
 * @recipients: (array zero-terminated=1): the envelope recipients, at
 *   least one
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the server took the message, or failed to
 * @user_data: data for @callback
 *
 * Sends @message to @recipients. The envelope is given apart from the
 * message: Bcc recipients are in @recipients, not in its headers.
 */
void
lb_transport_send_async (LbTransport          *self,
                         GBytes               *message,
                         const char           *from,
                         const char * const   *recipients,
                         GCancellable         *cancellable,
                         GAsyncReadyCallback   callback,
                         gpointer              user_data)
{
  LbTransportInterface *iface;

  g_return_if_fail (LB_IS_TRANSPORT (self));
  g_return_if_fail (message != NULL);
  g_return_if_fail (from != NULL);
  g_return_if_fail (recipients != NULL && recipients[0] != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = LB_TRANSPORT_GET_IFACE (self);
  if (iface->send_async == NULL)
    {
      g_task_report_new_error (self, callback, user_data, lb_transport_send_async,
                               G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "%s",
                               _("Sending is not supported for this account"));
      return;
    }
  iface->send_async (self, message, from, recipients, cancellable, callback, user_data);
}

/**
 * lb_transport_send_finish:
 * @self: a transport
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: %TRUE when the server accepted the message
 */
gboolean
lb_transport_send_finish (LbTransport   *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (LB_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), FALSE);

  if (g_async_result_is_tagged (result, lb_transport_send_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  return LB_TRANSPORT_GET_IFACE (self)->send_finish (self, result, error);
}
