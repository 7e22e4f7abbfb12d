/* lb-net-security.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-net"

#include "config.h"

#include "lb-net-security.h"

/* The names are the ones stored in account files: never change them. */
static const char *const security_names[] = {
  [LB_NET_SECURITY_TLS] = "tls",
  [LB_NET_SECURITY_STARTTLS] = "starttls",
  [LB_NET_SECURITY_NONE] = "none",
};

const char *
lb_net_security_to_string (LbNetSecurity security)
{
  g_return_val_if_fail ((guint) security < G_N_ELEMENTS (security_names), NULL);

  return security_names[security];
}

gboolean
lb_net_security_from_string (const char    *str,
                             LbNetSecurity *out_security)
{
  g_return_val_if_fail (out_security != NULL, FALSE);

  if (str == NULL)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (security_names); i++)
    {
      if (g_str_equal (str, security_names[i]))
        {
          *out_security = (LbNetSecurity) i;
          return TRUE;
        }
    }

  return FALSE;
}
