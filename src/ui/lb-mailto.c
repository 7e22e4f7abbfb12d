/* lb-mailto.c: reading a mailto: URI (RFC 6068)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "lb-mailto.h"

/* Percent-decodes @text (@len bytes). "+" stays a "+" (RFC 6068 section
 * 5: it is not a space in mailto:); a bad escape is kept as it is. The
 * result is made valid UTF-8. */
static char *
decode (const char *text,
        gsize       len)
{
  GString *out = g_string_sized_new (len);
  char *valid;

  for (gsize i = 0; i < len; i++)
    {
      if (text[i] == '%' && i + 2 < len &&
          g_ascii_isxdigit (text[i + 1]) && g_ascii_isxdigit (text[i + 2]))
        {
          g_string_append_c (out, (char) (g_ascii_xdigit_value (text[i + 1]) * 16 +
                                          g_ascii_xdigit_value (text[i + 2])));
          i += 2;
        }
      else
        g_string_append_c (out, text[i]);
    }
  valid = g_utf8_make_valid (out->str, (gssize) out->len);
  g_string_free (out, TRUE);
  return valid;
}

/* "\r\n" and "\r" to "\n" */
static char *
unix_lines (char *text)
{
  GString *out = g_string_sized_new (strlen (text));

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\r')
        {
          g_string_append_c (out, '\n');
          if (p[1] == '\n')
            p++;
        }
      else
        g_string_append_c (out, *p);
    }
  g_free (text);
  return g_string_free (out, FALSE);
}

/* Addresses: their line breaks and NULs are not kept (a header injection
 * otherwise) and the separators made ", ". */
static void
append_addresses (char      **field,
                  const char *addresses)
{
  g_auto(GStrv) parts = g_strsplit (addresses, ",", -1);
  GString *out = g_string_new (*field);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *part = g_strstrip (g_strdelimit (parts[i], "\r\n\t", ' '));

      if (*part == '\0')
        continue;
      if (out->len > 0)
        g_string_append (out, ", ");
      g_string_append (out, part);
    }
  g_free (*field);
  *field = out->len > 0 ? g_string_free (out, FALSE) : (g_string_free (out, TRUE), NULL);
}

static void
set_text (char       **field,
          char        *value)
{
  g_free (*field);
  *field = value;
}

/**
 * lb_mailto_parse:
 * @uri: a "mailto:" URI
 * @error: where a URI that is not mailto: is reported
 *
 * Returns: (transfer full): its fields
 */
LbMailto *
lb_mailto_parse (const char  *uri,
                 GError     **error)
{
  g_autoptr(LbMailto) mailto = NULL;
  const char *rest, *query, *fragment;
  g_autofree char *path = NULL;
  gsize path_len;

  g_return_val_if_fail (uri != NULL, NULL);

  if (g_ascii_strncasecmp (uri, "mailto:", 7) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an email link (mailto:)."), uri);
      return NULL;
    }
  mailto = g_new0 (LbMailto, 1);
  rest = uri + 7;
  fragment = strchr (rest, '#');
  query = strchr (rest, '?');
  if (fragment != NULL && query != NULL && query > fragment)
    query = NULL;
  path_len = query != NULL ? (gsize) (query - rest) : fragment != NULL ? (gsize) (fragment - rest) : strlen (rest);
  /* a link like "mailto://a@b" is not standard but seen */
  while (path_len > 0 && *rest == '/')
    {
      rest++;
      path_len--;
    }
  path = decode (rest, path_len);
  append_addresses (&mailto->to, path);

  if (query != NULL)
    {
      const char *end = fragment != NULL ? fragment : query + strlen (query);
      g_autofree char *fields = g_strndup (query + 1, (gsize) (end - query - 1));
      g_auto(GStrv) pairs = g_strsplit (fields, "&", -1);

      for (guint i = 0; pairs[i] != NULL; i++)
        {
          const char *eq = strchr (pairs[i], '=');
          g_autofree char *name = NULL;
          char *value;

          if (eq == NULL)
            continue;
          name = decode (pairs[i], (gsize) (eq - pairs[i]));
          value = decode (eq + 1, strlen (eq + 1));
          if (g_ascii_strcasecmp (name, "to") == 0)
            append_addresses (&mailto->to, value);
          else if (g_ascii_strcasecmp (name, "cc") == 0)
            append_addresses (&mailto->cc, value);
          else if (g_ascii_strcasecmp (name, "bcc") == 0)
            append_addresses (&mailto->bcc, value);
          else if (g_ascii_strcasecmp (name, "subject") == 0)
            {
              set_text (&mailto->subject, g_strdelimit (value, "\r\n", ' '));
              value = NULL;
            }
          else if (g_ascii_strcasecmp (name, "body") == 0)
            {
              set_text (&mailto->body, unix_lines (value));
              value = NULL;
            }
          else if (g_ascii_strcasecmp (name, "in-reply-to") == 0)
            {
              char *id = g_strstrip (g_strdelimit (value, "\r\n<>", ' '));

              set_text (&mailto->in_reply_to, *id != '\0' ? g_strdup (id) : NULL);
            }
          g_free (value);
        }
    }

  return g_steal_pointer (&mailto);
}

void
lb_mailto_free (LbMailto *mailto)
{
  if (mailto == NULL)
    return;
  g_free (mailto->to);
  g_free (mailto->cc);
  g_free (mailto->bcc);
  g_free (mailto->subject);
  g_free (mailto->body);
  g_free (mailto->in_reply_to);
  g_free (mailto);
}
