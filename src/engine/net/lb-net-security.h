/* lb-net-security.h: how a connection to a mail server is protected
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/**
 * LbNetSecurity:
 * @LB_NET_SECURITY_TLS: TLS from the first byte (IMAPS 993, POP3S 995, submissions 465)
 * @LB_NET_SECURITY_STARTTLS: a plaintext greeting, then an upgrade to TLS that must succeed
 * @LB_NET_SECURITY_NONE: no encryption; only with the user's explicit consent
 */
typedef enum
{
  LB_NET_SECURITY_TLS,
  LB_NET_SECURITY_STARTTLS,
  LB_NET_SECURITY_NONE,
} LbNetSecurity;

#define LB_TYPE_NET_SECURITY (lb_net_security_get_type ())

GType       lb_net_security_get_type    (void) G_GNUC_CONST;
const char *lb_net_security_to_string   (LbNetSecurity  security);
gboolean    lb_net_security_from_string (const char    *str,
                                         LbNetSecurity *out_security);

G_END_DECLS
