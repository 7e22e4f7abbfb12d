/* lb-net-security.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-net"

#include "config.h"

#include "lb-net-security.h"

/* The nicks are the names stored in account files: never change them. */
static const GEnumValue security_values[] = {
  { LB_NET_SECURITY_TLS, "LB_NET_SECURITY_TLS", "tls" },
  { LB_NET_SECURITY_STARTTLS, "LB_NET_SECURITY_STARTTLS", "starttls" },
  { LB_NET_SECURITY_NONE, "LB_NET_SECURITY_NONE", "none" },
  { 0, NULL, NULL },
};

GType
lb_net_security_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    g_once_init_leave (&type_id, g_enum_register_static (g_intern_static_string ("LbNetSecurity"),
                                                         security_values));

  return type_id;
}

const char *
lb_net_security_to_string (LbNetSecurity security)
{
  g_return_val_if_fail ((guint) security < G_N_ELEMENTS (security_values) - 1, NULL);

  return security_values[security].value_nick;
}

gboolean
lb_net_security_from_string (const char    *str,
                             LbNetSecurity *out_security)
{
  g_return_val_if_fail (out_security != NULL, FALSE);

  if (str == NULL)
    return FALSE;

  for (guint i = 0; security_values[i].value_nick != NULL; i++)
    {
      if (g_str_equal (str, security_values[i].value_nick))
        {
          *out_security = security_values[i].value;
          return TRUE;
        }
    }

  return FALSE;
}
