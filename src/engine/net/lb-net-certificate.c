/* lb-net-certificate.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-net"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "lb-net-certificate.h"

/* A certificate the system does not trust can still be the user's own
 * server's (a small provider, a self-hosted server): the user compares
 * its SHA-256 fingerprint with the one the provider publishes and pins
 * it (LbConnector accepts a pinned certificate). These are the words and
 * numbers shown to them. */

/**
 * lb_net_normalize_fingerprint:
 * @fingerprint: (nullable): a SHA-256 fingerprint in hex: 32 pairs of
 *   digits in either case, with or without colons between the pairs
 *
 * Returns: (transfer full) (nullable): the fingerprint as 32 upper-case
 *   hex pairs joined by colons (as `openssl x509 -fingerprint -sha256`
 *   prints it), or %NULL if @fingerprint is not one
 */
char *
lb_net_normalize_fingerprint (const char *fingerprint)
{
  GString *out;
  guint digits = 0;

  if (fingerprint == NULL)
    return NULL;

  out = g_string_sized_new (95);
  for (const char *p = fingerprint; *p != '\0'; p++)
    {
      /* a colon only between pairs */
      if (*p == ':' && digits % 2 == 0 && digits > 0 && p[1] != '\0' && p[1] != ':')
        continue;

      if (!g_ascii_isxdigit (*p) || digits == 64)
        {
          g_string_free (out, TRUE);
          return NULL;
        }

      if (digits > 0 && digits % 2 == 0)
        g_string_append_c (out, ':');
      g_string_append_c (out, g_ascii_toupper (*p));
      digits++;
    }

  if (digits != 64)
    {
      g_string_free (out, TRUE);
      return NULL;
    }

  return g_string_free (out, FALSE);
}

/**
 * lb_net_certificate_fingerprint:
 * @certificate: a certificate
 *
 * Returns: (transfer full): the SHA-256 fingerprint of @certificate's DER
 *   encoding, as 32 upper-case hex pairs joined by colons
 */
char *
lb_net_certificate_fingerprint (GTlsCertificate *certificate)
{
  g_autoptr(GByteArray) der = NULL;
  g_autofree char *hex = NULL;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  g_object_get (certificate, "certificate", &der, NULL);
  g_return_val_if_fail (der != NULL, NULL);

  hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
  return lb_net_normalize_fingerprint (hex);
}

/**
 * lb_net_certificate_describe_errors:
 * @errors: why a certificate failed verification
 *
 * Returns: (transfer full): the reasons, in words for the user, joined by
 *   commas ("it is not signed by an authority this computer trusts, it
 *   has expired")
 */
char *
lb_net_certificate_describe_errors (GTlsCertificateFlags errors)
{
  static const struct
  {
    GTlsCertificateFlags flag;
    const char *reason;
  } reasons[] = {
    { G_TLS_CERTIFICATE_UNKNOWN_CA, N_("it is not signed by an authority this computer trusts") },
    { G_TLS_CERTIFICATE_BAD_IDENTITY, N_("it was issued for another server name") },
    { G_TLS_CERTIFICATE_NOT_ACTIVATED, N_("it is not valid yet") },
    { G_TLS_CERTIFICATE_EXPIRED, N_("it has expired") },
    { G_TLS_CERTIFICATE_REVOKED, N_("it has been revoked") },
    { G_TLS_CERTIFICATE_INSECURE, N_("it uses insecure cryptography") },
  };
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (reasons); i++)
    {
      if (!(errors & reasons[i].flag))
        continue;
      if (text->len > 0)
        g_string_append (text, ", ");
      g_string_append (text, _(reasons[i].reason));
    }
  /* G_TLS_CERTIFICATE_GENERIC_ERROR, or nothing GLib told us of */
  if (text->len == 0)
    g_string_append (text, _("it could not be verified"));

  return g_string_free (text, FALSE);
}
