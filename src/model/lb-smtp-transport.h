/* lb-smtp-transport.h: an account's SMTP submission
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-account.h"
#include "lb-connector.h"
#include "lb-secrets.h"
#include "lb-transport.h"

G_BEGIN_DECLS

#define LB_TYPE_SMTP_TRANSPORT (lb_smtp_transport_get_type ())

G_DECLARE_FINAL_TYPE (LbSmtpTransport, lb_smtp_transport, LB, SMTP_TRANSPORT, GObject)

/* An LbTransport that sends each message on a connection of its own to
 * the account's outgoing server (read at each send: host, port, security,
 * user or else the default identity's address, pinned certificates):
 * connect, EHLO, STARTTLS and EHLO again, AUTH when the server offers it
 * (the "smtp" password from @secrets, else the incoming server's), the
 * message, QUIT. The transport keeps a weak reference on @account. */
LbSmtpTransport *lb_smtp_transport_new         (LbAccount       *account,
                                                LbSecrets       *secrets,
                                                LbConnector     *connector);
/* seconds without progress before a send fails; default 120 */
void             lb_smtp_transport_set_timeout (LbSmtpTransport *self,
                                                guint            seconds);

G_END_DECLS
