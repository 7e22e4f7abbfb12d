/* lb-pop3-reply.c: a POP3 status line, and the argument lines a client reads
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-pop3"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "lb-pop3-reply.h"

/* how much of a bad line an error message quotes */
#define QUOTE_MAX 60

static inline gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

static inline gboolean
is_digit (char c)
{
  return c >= '0' && c <= '9';
}

static inline gboolean
is_graph (char c)
{
  return (guchar) c >= 0x21 && (guchar) c <= 0x7e;
}

static const char *
skip_blanks (const char *p,
             const char *end)
{
  while (p < end && is_blank (*p))
    p++;
  return p;
}

char *
lb_pop3_escape (const guint8 *data,
                gsize         len)
{
  GString *out = g_string_sized_new (len + 2);

  for (gsize i = 0; i < len; i++)
    {
      guint8 c = data[i];

      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c >= 0x20 && c < 0x7f)
        g_string_append_c (out, (char) c);
      else
        g_string_append_printf (out, "\\x%02x", c);
    }
  return g_string_free (out, FALSE);
}

/* the start of a bad line, escaped, for an error message */
static char *
quote (const char *text,
       gsize       len)
{
  g_autofree char *escaped = lb_pop3_escape ((const guint8 *) text, MIN (len, QUOTE_MAX));

  if (len > QUOTE_MAX)
    return g_strconcat (escaped, "…", NULL);
  return g_steal_pointer (&escaped);
}

/* valid UTF-8 without control characters (HTAB kept) */
static char *
clean_text (const char *p,
            const char *end)
{
  GString *out = g_string_sized_new ((gsize) (end - p));

  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_unichar (out, 0xfffd);
          p++;
          continue;
        }
      if ((c < 0x20 && c != '\t') || c == 0x7f || (c >= 0x80 && c < 0xa0))
        g_string_append_unichar (out, 0xfffd);
      else
        g_string_append_unichar (out, c);
      p = g_utf8_next_char (p);
    }
  return g_string_free (out, FALSE);
}

static LbPop3Code
classify_code (const char *code)
{
  g_auto(GStrv) levels = g_strsplit (code, "/", 3);

  if (g_ascii_strcasecmp (levels[0], "IN-USE") == 0)
    return LB_POP3_CODE_IN_USE;
  if (g_ascii_strcasecmp (levels[0], "LOGIN-DELAY") == 0)
    return LB_POP3_CODE_LOGIN_DELAY;
  if (g_ascii_strcasecmp (levels[0], "AUTH") == 0)
    return LB_POP3_CODE_AUTH;
  if (g_ascii_strcasecmp (levels[0], "UTF8") == 0)
    return LB_POP3_CODE_UTF8;
  if (g_ascii_strcasecmp (levels[0], "SYS") == 0 && levels[1] != NULL)
    {
      if (g_ascii_strcasecmp (levels[1], "TEMP") == 0)
        return LB_POP3_CODE_SYS_TEMP;
      if (g_ascii_strcasecmp (levels[1], "PERM") == 0)
        return LB_POP3_CODE_SYS_PERM;
    }
  return LB_POP3_CODE_OTHER;
}

static gboolean
malformed_reply (const char  *line,
                 gsize        len,
                 GError     **error)
{
  g_autofree char *quoted = quote (line, len);

  g_set_error (error, LB_POP3_ERROR, LB_POP3_ERROR_MALFORMED,
               _("The mail server sent a malformed reply: “%s”"), quoted);
  return FALSE;
}

LbPop3Reply *
lb_pop3_reply_parse (const char  *line,
                     gsize        len,
                     GError     **error)
{
  g_autoptr(LbPop3Reply) reply = g_new0 (LbPop3Reply, 1);
  const char *p, *end;

  g_return_val_if_fail (line != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len > 0 && line[len - 1] == '\n')
    len--;
  if (len > 0 && line[len - 1] == '\r')
    len--;
  end = line + len;

  if (len >= 3 && g_ascii_strncasecmp (line, "+OK", 3) == 0)
    {
      reply->kind = LB_POP3_REPLY_OK;
      p = line + 3;
    }
  else if (len >= 4 && g_ascii_strncasecmp (line, "-ERR", 4) == 0)
    {
      reply->kind = LB_POP3_REPLY_ERR;
      p = line + 4;
    }
  else if (len >= 1 && line[0] == '+' && (len == 1 || is_blank (line[1])))
    {
      reply->kind = LB_POP3_REPLY_CONTINUATION;
      p = line + 1;
    }
  else
    {
      malformed_reply (line, len, error);
      return NULL;
    }

  /* "+OKAY" is no status; "+OK." and "-ERR:" are seen now and then */
  if (p < end && g_ascii_isalnum (*p))
    {
      malformed_reply (line, len, error);
      return NULL;
    }
  if (p < end && !is_blank (*p) && *p != '[' && reply->kind != LB_POP3_REPLY_CONTINUATION)
    p++;
  p = skip_blanks (p, end);

  if (reply->kind != LB_POP3_REPLY_CONTINUATION && p < end && *p == '[')
    {
      const char *q = p + 1;

      while (q < end && *q != ']' && *q != '[' && is_graph (*q))
        q++;
      if (q < end && *q == ']' && q > p + 1)
        {
          reply->code_text = g_strndup (p + 1, (gsize) (q - p - 1));
          reply->code = classify_code (reply->code_text);
          p = skip_blanks (q + 1, end);
        }
    }

  reply->text = clean_text (p, end);
  return g_steal_pointer (&reply);
}

LbPop3Reply *
lb_pop3_reply_copy (const LbPop3Reply *reply)
{
  LbPop3Reply *copy;

  g_return_val_if_fail (reply != NULL, NULL);

  copy = g_new0 (LbPop3Reply, 1);
  copy->kind = reply->kind;
  copy->code = reply->code;
  copy->code_text = g_strdup (reply->code_text);
  copy->text = g_strdup (reply->text);
  return copy;
}

void
lb_pop3_reply_free (LbPop3Reply *reply)
{
  if (reply == NULL)
    return;
  g_free (reply->code_text);
  g_free (reply->text);
  g_free (reply);
}

char *
lb_pop3_reply_to_string (const LbPop3Reply *reply)
{
  GString *out = g_string_new (NULL);
  g_autofree char *text = NULL;

  g_return_val_if_fail (reply != NULL, NULL);

  switch (reply->kind)
    {
    case LB_POP3_REPLY_OK:
      g_string_append (out, "+OK");
      break;
    case LB_POP3_REPLY_ERR:
      g_string_append (out, "-ERR");
      break;
    case LB_POP3_REPLY_CONTINUATION:
      g_string_append (out, "+");
      break;
    default:
      g_assert_not_reached ();
    }
  if (reply->code_text != NULL)
    {
      /* the code is 0x21-0x7E without brackets: printed as is */
      g_string_append_printf (out, " [%s]", reply->code_text);
    }
  text = lb_pop3_escape ((const guint8 *) reply->text, strlen (reply->text));
  g_string_append_printf (out, " \"%s\"", text);
  return g_string_free (out, FALSE);
}

/* a decimal number of at most @max; the cursor moves past it */
static gboolean
parse_number (const char **pp,
              const char  *end,
              guint64      max,
              guint64     *out)
{
  const char *p = *pp;
  guint64 value = 0;

  if (p >= end || !is_digit (*p))
    return FALSE;
  while (p < end && is_digit (*p))
    {
      guint digit = (guint) (*p - '0');

      if (value > (max - digit) / 10)
        return FALSE;
      value = value * 10 + digit;
      p++;
    }
  *pp = p;
  *out = value;
  return TRUE;
}

static gsize
text_length (const char *text,
             gssize      len)
{
  return len < 0 ? strlen (text) : (gsize) len;
}

/* "number number", each followed by a blank or the end; what follows the
 * second after a blank is ignored */
static gboolean
parse_two_numbers (const char *text,
                   gsize       len,
                   guint64     min_first,
                   guint64    *first,
                   guint64    *second)
{
  const char *p = text, *end = text + len;

  p = skip_blanks (p, end);
  if (!parse_number (&p, end, G_MAXUINT, first) || *first < min_first)
    return FALSE;
  if (p >= end || !is_blank (*p))
    return FALSE;
  p = skip_blanks (p, end);
  if (!parse_number (&p, end, G_MAXUINT64, second))
    return FALSE;
  return p == end || is_blank (*p);
}

gboolean
lb_pop3_parse_stat (const char  *text,
                    gssize       len,
                    guint       *count,
                    guint64     *size,
                    GError     **error)
{
  guint64 first, second;

  g_return_val_if_fail (text != NULL, FALSE);

  if (!parse_two_numbers (text, text_length (text, len), 0, &first, &second))
    {
      g_autofree char *quoted = quote (text, text_length (text, len));

      g_set_error (error, LB_POP3_ERROR, LB_POP3_ERROR_MALFORMED,
                   _("The mail server sent a malformed mailbox summary: “%s”"), quoted);
      return FALSE;
    }
  if (count != NULL)
    *count = (guint) first;
  if (size != NULL)
    *size = second;
  return TRUE;
}

gboolean
lb_pop3_parse_list_line (const char  *text,
                         gssize       len,
                         guint       *msg,
                         guint64     *size,
                         GError     **error)
{
  guint64 first, second;

  g_return_val_if_fail (text != NULL, FALSE);

  if (!parse_two_numbers (text, text_length (text, len), 1, &first, &second))
    {
      g_autofree char *quoted = quote (text, text_length (text, len));

      g_set_error (error, LB_POP3_ERROR, LB_POP3_ERROR_MALFORMED,
                   _("The mail server sent a malformed message size: “%s”"), quoted);
      return FALSE;
    }
  if (msg != NULL)
    *msg = (guint) first;
  if (size != NULL)
    *size = second;
  return TRUE;
}

gboolean
lb_pop3_parse_uidl_line (const char  *text,
                         gssize       len,
                         guint       *msg,
                         char       **uid,
                         GError     **error)
{
  gsize n = 0;
  const char *p, *end, *start;
  guint64 number;

  g_return_val_if_fail (text != NULL, FALSE);

  n = text_length (text, len);
  p = skip_blanks (text, text + n);
  end = text + n;
  while (end > p && is_blank (end[-1]))
    end--;

  if (!parse_number (&p, end, G_MAXUINT, &number) || number == 0 ||
      p >= end || !is_blank (*p))
    goto malformed;
  p = skip_blanks (p, end);
  start = p;
  while (p < end && is_graph (*p))
    p++;
  if (p != end || start == end)
    goto malformed;
  if ((gsize) (end - start) > LB_POP3_MAX_UID)
    {
      g_set_error (error, LB_POP3_ERROR, LB_POP3_ERROR_TOO_LONG,
                   _("The mail server sent a message identifier longer than %d characters"),
                   LB_POP3_MAX_UID);
      return FALSE;
    }

  if (msg != NULL)
    *msg = (guint) number;
  if (uid != NULL)
    *uid = g_strndup (start, (gsize) (end - start));
  return TRUE;

malformed:
  {
    g_autofree char *quoted = quote (text, n);

    g_set_error (error, LB_POP3_ERROR, LB_POP3_ERROR_MALFORMED,
                 _("The mail server sent a malformed message identifier: “%s”"), quoted);
    return FALSE;
  }
}

gboolean
lb_pop3_parse_capa_line (const char  *text,
                         gssize       len,
                         char       **keyword,
                         GStrv       *args,
                         GError     **error)
{
  gsize n;
  const char *p, *end;
  g_autoptr(GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *first = NULL;

  g_return_val_if_fail (text != NULL, FALSE);

  n = text_length (text, len);
  p = text;
  end = text + n;
  for (;;)
    {
      const char *start;

      p = skip_blanks (p, end);
      if (p == end)
        break;
      start = p;
      while (p < end && !is_blank (*p))
        {
          /* a keyword and its arguments are printable ASCII (RFC 2449 9) */
          if (!is_graph (*p))
            goto malformed;
          p++;
        }
      if (first == NULL)
        first = g_ascii_strup (start, p - start);
      else
        g_ptr_array_add (words, g_strndup (start, (gsize) (p - start)));
    }
  if (first == NULL)
    goto malformed;

  g_ptr_array_add (words, NULL);
  if (keyword != NULL)
    *keyword = g_steal_pointer (&first);
  if (args != NULL)
    *args = (GStrv) g_ptr_array_free (g_steal_pointer (&words), FALSE);
  return TRUE;

malformed:
  {
    g_autofree char *quoted = quote (text, n);

    g_set_error (error, LB_POP3_ERROR, LB_POP3_ERROR_MALFORMED,
                 _("The mail server sent a malformed capability: “%s”"), quoted);
    return FALSE;
  }
}

char *
lb_pop3_greeting_apop_timestamp (const char *text)
{
  const char *p;

  g_return_val_if_fail (text != NULL, NULL);

  for (p = strchr (text, '<'); p != NULL; p = strchr (p + 1, '<'))
    {
      const char *q = p + 1;
      gboolean at = FALSE;

      while (is_graph (*q) && *q != '<' && *q != '>')
        {
          if (*q == '@')
            at = TRUE;
          q++;
        }
      if (*q == '>' && at)
        return g_strndup (p, (gsize) (q - p + 1));
    }
  return NULL;
}
