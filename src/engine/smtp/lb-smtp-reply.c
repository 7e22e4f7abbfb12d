/* lb-smtp-reply.c: SMTP replies and EHLO keywords, parsed without I/O
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-smtp"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lb-smtp-reply.h"

/* The framer keeps what was fed in one buffer and the lines of the reply
 * being read; a reply is handed out once its last line ("NNN " or "NNN")
 * is in. A line that is not "NNN", "NNN " or "NNN-" followed by text, a
 * continuation with another code, a line over LB_SMTP_MAX_LINE or a reply
 * over LB_SMTP_MAX_LINES puts the framer in error for good: the stream
 * cannot be trusted to be in step after it. */

struct _LbSmtpReplyParser
{
  GByteArray *buffer;   /* fed, not yet consumed */
  gsize       scanned;  /* bytes of buffer known to hold no LF */
  gsize       consumed; /* bytes of buffer already turned into lines */
  GPtrArray  *lines;    /* of the reply being read, raw without line end */
  guint       code;
  GError     *error;
};

LbSmtpReply *
lb_smtp_reply_copy (const LbSmtpReply *reply)
{
  LbSmtpReply *copy = g_new0 (LbSmtpReply, 1);

  copy->code = reply->code;
  memcpy (copy->enhanced, reply->enhanced, sizeof copy->enhanced);
  copy->lines = g_strdupv (reply->lines);
  return copy;
}

void
lb_smtp_reply_free (LbSmtpReply *reply)
{
  if (reply == NULL)
    return;
  g_strfreev (reply->lines);
  g_free (reply);
}

guint
lb_smtp_reply_get_class (const LbSmtpReply *reply)
{
  return reply->code / 100;
}

gboolean
lb_smtp_reply_has_enhanced (const LbSmtpReply *reply)
{
  return reply->enhanced[0] != 0;
}

char *
lb_smtp_reply_to_string (const LbSmtpReply *reply)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, "%03u", reply->code);
  if (lb_smtp_reply_has_enhanced (reply))
    g_string_append_printf (s, " %u.%u.%u", reply->enhanced[0], reply->enhanced[1], reply->enhanced[2]);
  for (guint i = 0; reply->lines[i] != NULL; i++)
    if (reply->lines[i][0] != '\0')
      g_string_append_printf (s, " %s", reply->lines[i]);
  return g_string_free (s, FALSE);
}

/* @data as UTF-8, bytes that are not and control characters (but TAB)
 * replaced by U+FFFD */
static char *
make_text (const char *data,
           gsize       len)
{
  GString *s = g_string_sized_new (len);
  const char *p = data;
  const char *end = data + len;

  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_unichar (s, 0xFFFD);
          p++;
          continue;
        }
      if ((c < 0x20 && c != '\t') || c == 0x7F || (c >= 0x80 && c < 0xA0))
        g_string_append_unichar (s, 0xFFFD);
      else
        g_string_append_len (s, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }
  return g_string_free (s, FALSE);
}

/* "c.sss.ddd" and a blank or the end at the start of @text: RFC 3463
 * allows 1-3 digits for subject and detail, class 2, 4 or 5 */
static gsize
parse_enhanced (const char *text,
                guint       out[3])
{
  const char *p = text;

  for (guint part = 0; part < 3; part++)
    {
      guint value = 0;
      guint digits = 0;

      while (g_ascii_isdigit (*p) && digits < 4)
        {
          value = value * 10 + (guint) (*p - '0');
          digits++;
          p++;
        }
      if (digits == 0 || digits > (part == 0 ? 1u : 3u))
        return 0;
      out[part] = value;
      if (part < 2)
        {
          if (*p != '.')
            return 0;
          p++;
        }
    }
  if (*p != '\0' && *p != ' ')
    return 0;
  return (gsize) (p - text) + (*p == ' ' ? 1 : 0);
}

static gboolean
fail (GError    **error,
      LbSmtpError code,
      const char *message)
{
  g_set_error_literal (error, LB_SMTP_ERROR, code, message);
  return FALSE;
}

/* checks one raw line (without line end) and returns its code and
 * whether it is the last of its reply */
static gboolean
check_line (const char  *line,
            gsize        len,
            guint       *code,
            gboolean    *last,
            GError     **error)
{
  if (len < 3 || line[0] < '2' || line[0] > '5' || !g_ascii_isdigit (line[1]) ||
      !g_ascii_isdigit (line[2]))
    return fail (error, LB_SMTP_ERROR_MALFORMED,
                 _("The mail server sent something that is not an SMTP reply"));
  if (len > 3 && line[3] != ' ' && line[3] != '-')
    return fail (error, LB_SMTP_ERROR_MALFORMED,
                 _("The mail server sent something that is not an SMTP reply"));
  *code = (guint) ((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
  *last = len == 3 || line[3] == ' ';
  return TRUE;
}

static LbSmtpReply *
build_reply (guint      code,
             GPtrArray *raw)
{
  LbSmtpReply *reply = g_new0 (LbSmtpReply, 1);
  GPtrArray *lines = g_ptr_array_new ();
  const char *first = raw->pdata[0];

  reply->code = code;
  if (strlen (first) > 4)
    {
      guint enhanced[3];

      if (parse_enhanced (first + 4, enhanced) > 0 && enhanced[0] == code / 100)
        memcpy (reply->enhanced, enhanced, sizeof enhanced);
    }

  for (guint i = 0; i < raw->len; i++)
    {
      const char *line = raw->pdata[i];
      const char *text = strlen (line) > 4 ? line + 4 : "";

      if (lb_smtp_reply_has_enhanced (reply))
        {
          guint enhanced[3];
          gsize skip = parse_enhanced (text, enhanced);

          if (skip > 0 && memcmp (enhanced, reply->enhanced, sizeof enhanced) == 0)
            text += skip;
        }
      g_ptr_array_add (lines, make_text (text, strlen (text)));
    }
  g_ptr_array_add (lines, NULL);
  reply->lines = (char **) g_ptr_array_free (lines, FALSE);
  return reply;
}

LbSmtpReplyParser *
lb_smtp_reply_parser_new (void)
{
  LbSmtpReplyParser *self = g_new0 (LbSmtpReplyParser, 1);

  self->buffer = g_byte_array_new ();
  self->lines = g_ptr_array_new_with_free_func (g_free);
  return self;
}

void
lb_smtp_reply_parser_free (LbSmtpReplyParser *self)
{
  if (self == NULL)
    return;
  g_byte_array_unref (self->buffer);
  g_ptr_array_unref (self->lines);
  g_clear_error (&self->error);
  g_free (self);
}

void
lb_smtp_reply_parser_feed (LbSmtpReplyParser *self,
                           const guint8      *data,
                           gsize              len)
{
  /* drop what was consumed before growing the buffer */
  if (self->consumed > 0)
    {
      g_byte_array_remove_range (self->buffer, 0, (guint) self->consumed);
      self->scanned -= self->consumed;
      self->consumed = 0;
    }
  g_byte_array_append (self->buffer, data, (guint) len);
}

gsize
lb_smtp_reply_parser_get_pending (LbSmtpReplyParser *self)
{
  gsize pending = self->buffer->len - self->consumed;

  for (guint i = 0; i < self->lines->len; i++)
    pending += strlen (self->lines->pdata[i]) + 1;
  return pending;
}

static LbSmtpReply *
parser_fail (LbSmtpReplyParser *self,
             GError            *error,
             GError           **out)
{
  self->error = error;
  g_propagate_error (out, g_error_copy (error));
  return NULL;
}

LbSmtpReply *
lb_smtp_reply_parser_next (LbSmtpReplyParser *self,
                           GError           **error)
{
  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return NULL;
    }

  for (;;)
    {
      const char *start = (const char *) self->buffer->data + self->consumed;
      gsize avail = self->buffer->len - self->consumed;
      gsize from = self->scanned > self->consumed ? self->scanned - self->consumed : 0;
      const char *lf = from < avail ? memchr (start + from, '\n', avail - from) : NULL;
      gsize len;
      guint code;
      gboolean last;
      GError *local = NULL;

      if (lf == NULL)
        {
          self->scanned = self->buffer->len;
          /* its line end would take it over */
          if (avail >= LB_SMTP_MAX_LINE)
            return parser_fail (self, g_error_new_literal (LB_SMTP_ERROR, LB_SMTP_ERROR_TOO_LONG,
                                                           _("The mail server sent a reply line that is too long")),
                                error);
          return NULL;
        }

      len = (gsize) (lf - start) + 1;
      if (len > LB_SMTP_MAX_LINE)
        return parser_fail (self, g_error_new_literal (LB_SMTP_ERROR, LB_SMTP_ERROR_TOO_LONG,
                                                       _("The mail server sent a reply line that is too long")),
                            error);
      self->consumed += len;
      self->scanned = self->consumed;
      len--;
      if (len > 0 && start[len - 1] == '\r')
        len--;

      if (!check_line (start, len, &code, &last, &local))
        return parser_fail (self, local, error);
      if (self->lines->len > 0 && code != self->code)
        return parser_fail (self, g_error_new_literal (LB_SMTP_ERROR, LB_SMTP_ERROR_MALFORMED,
                                                       _("The mail server sent a reply whose lines have different codes")),
                            error);
      if (self->lines->len >= LB_SMTP_MAX_LINES)
        return parser_fail (self, g_error_new_literal (LB_SMTP_ERROR, LB_SMTP_ERROR_TOO_LONG,
                                                       _("The mail server sent a reply with too many lines")),
                            error);
      self->code = code;
      /* a NUL in the line is text like any control character */
      {
        char *copy = g_malloc (len + 1);

        for (gsize i = 0; i < len; i++)
          copy[i] = start[i] == '\0' ? '\x01' : start[i];
        copy[len] = '\0';
        g_ptr_array_add (self->lines, copy);
      }

      if (last)
        {
          LbSmtpReply *reply = build_reply (code, self->lines);

          g_ptr_array_set_size (self->lines, 0);
          return reply;
        }
    }
}

gboolean
lb_smtp_reply_parser_finish (LbSmtpReplyParser *self,
                             GError           **error)
{
  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;
    }
  if (lb_smtp_reply_parser_get_pending (self) > 0)
    return fail (error, LB_SMTP_ERROR_CUT,
                 _("The connection to the mail server closed in the middle of a reply"));
  return TRUE;
}

LbSmtpReply *
lb_smtp_reply_parse (const char *data,
                     gsize       len,
                     GError    **error)
{
  g_autoptr(LbSmtpReplyParser) parser = lb_smtp_reply_parser_new ();
  g_autoptr(LbSmtpReply) reply = NULL;
  GError *local = NULL;

  lb_smtp_reply_parser_feed (parser, (const guint8 *) data, len);
  if (len == 0 || data[len - 1] != '\n')
    lb_smtp_reply_parser_feed (parser, (const guint8 *) "\r\n", 2);
  reply = lb_smtp_reply_parser_next (parser, &local);
  if (reply == NULL)
    {
      if (local == NULL)
        local = g_error_new_literal (LB_SMTP_ERROR, LB_SMTP_ERROR_CUT,
                                     _("The mail server’s reply ended too early"));
      g_propagate_error (error, local);
      return NULL;
    }
  if (lb_smtp_reply_parser_get_pending (parser) > 0)
    {
      fail (error, LB_SMTP_ERROR_UNEXPECTED, _("The mail server sent more than one reply"));
      return NULL;
    }
  return g_steal_pointer (&reply);
}

/* EHLO keywords: RFC 5321 4.1.1.1, ehlo-keyword = (ALPHA / DIGIT)
 * *(ALPHA / DIGIT / "-"); parameters after blanks */
static gboolean
is_keyword (const char *word)
{
  if (!g_ascii_isalnum (word[0]))
    return FALSE;
  for (const char *p = word; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-')
      return FALSE;
  return TRUE;
}

static void
add_mechanisms (GPtrArray  *mechanisms,
                char      **words,
                guint       from)
{
  for (guint i = from; words[i] != NULL; i++)
    {
      g_autofree char *upper = g_ascii_strup (words[i], -1);
      gboolean known = FALSE;

      if (upper[0] == '\0' || !is_keyword (upper))
        continue;
      for (guint j = 0; j < mechanisms->len && !known; j++)
        known = strcmp (mechanisms->pdata[j], upper) == 0;
      if (!known)
        g_ptr_array_add (mechanisms, g_steal_pointer (&upper));
    }
}

LbSmtpExtensions *
lb_smtp_extensions_parse (const LbSmtpReply *ehlo)
{
  LbSmtpExtensions *extensions = g_new0 (LbSmtpExtensions, 1);
  g_autoptr(GPtrArray) mechanisms = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 1; ehlo->lines[0] != NULL && ehlo->lines[i] != NULL; i++)
    {
      g_auto(GStrv) words = g_strsplit_set (ehlo->lines[i], " \t", -1);
      g_autofree char *keyword = NULL;
      g_autoptr(GPtrArray) args = g_ptr_array_new ();

      /* blanks repeated or at the end make empty words */
      for (guint j = 0; words[j] != NULL; j++)
        if (words[j][0] != '\0')
          g_ptr_array_add (args, words[j]);
      g_ptr_array_add (args, NULL);
      if (args->len < 2)
        continue;

      keyword = g_ascii_strup (args->pdata[0], -1);
      if (g_str_has_prefix (keyword, "AUTH="))
        {
          /* the pre-RFC 4954 form some servers still send:
           * "AUTH=LOGIN PLAIN" */
          char **rest = (char **) args->pdata;
          g_autofree char *first = g_strdup (keyword + strlen ("AUTH="));
          char *one[] = { first, NULL };

          extensions->flags |= LB_SMTP_EXTENSION_AUTH;
          add_mechanisms (mechanisms, one, 0);
          add_mechanisms (mechanisms, rest, 1);
          continue;
        }
      if (!is_keyword (keyword))
        continue;

      if (strcmp (keyword, "PIPELINING") == 0)
        extensions->flags |= LB_SMTP_EXTENSION_PIPELINING;
      else if (strcmp (keyword, "8BITMIME") == 0)
        extensions->flags |= LB_SMTP_EXTENSION_8BITMIME;
      else if (strcmp (keyword, "SMTPUTF8") == 0)
        extensions->flags |= LB_SMTP_EXTENSION_SMTPUTF8;
      else if (strcmp (keyword, "DSN") == 0)
        extensions->flags |= LB_SMTP_EXTENSION_DSN;
      else if (strcmp (keyword, "STARTTLS") == 0)
        extensions->flags |= LB_SMTP_EXTENSION_STARTTLS;
      else if (strcmp (keyword, "ENHANCEDSTATUSCODES") == 0)
        extensions->flags |= LB_SMTP_EXTENSION_ENHANCEDSTATUSCODES;
      else if (strcmp (keyword, "AUTH") == 0)
        {
          extensions->flags |= LB_SMTP_EXTENSION_AUTH;
          add_mechanisms (mechanisms, (char **) args->pdata, 1);
        }
      else if (strcmp (keyword, "SIZE") == 0)
        {
          const char *arg = args->len > 2 ? args->pdata[1] : NULL;
          guint64 size = 0;

          extensions->flags |= LB_SMTP_EXTENSION_SIZE;
          if (arg != NULL && g_ascii_string_to_unsigned (arg, 10, 0, G_MAXUINT64, &size, NULL))
            extensions->size_limit = size;
        }
      /* CHUNKING (BDAT), BINARYMIME and the rest: not used */
    }

  g_ptr_array_add (mechanisms, NULL);
  extensions->auth_mechanisms = (char **) g_ptr_array_steal (mechanisms, NULL);
  return extensions;
}

void
lb_smtp_extensions_free (LbSmtpExtensions *extensions)
{
  if (extensions == NULL)
    return;
  g_strfreev (extensions->auth_mechanisms);
  g_free (extensions);
}

gboolean
lb_smtp_extensions_has_auth (const LbSmtpExtensions *extensions,
                             const char             *mechanism)
{
  return (extensions->flags & LB_SMTP_EXTENSION_AUTH) != 0 &&
         g_strv_contains ((const char * const *) extensions->auth_mechanisms, mechanism);
}
