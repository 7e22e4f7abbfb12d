/* lb-mime-summary.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-mime"

#include "config.h"

#include <errno.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <gmime/gmime.h>

#include "lb-mime-private.h"
#include "lb-mime-summary.h"

/* lb_mime_summary_parse() turns the raw bytes of one message into what the
 * message list shows: decoded headers, the date, whether there are
 * attachments, a preview line, and the readable text for the full-text
 * index.
 *
 * It runs on the store's worker threads, once for every imported message,
 * so each call has GMime objects of its own (GMime itself only shares its
 * locked charset and iconv caches), parses once, and reads the message
 * where it already lies: the GBytes is lent to a GMimeStreamMem without a
 * copy, and the parts' contents stay substreams of it. Text parts are read
 * only as far as the summary needs.
 *
 * Nothing in the input is trusted: whatever the bytes, the result is a
 * summary with valid UTF-8 strings, found in time linear in the input (the
 * MIME tree is walked to a bounded depth, the HTML reader never looks back
 * further than it has to). Only empty input, or input of nothing but
 * whitespace, is refused. Encrypted parts are never decrypted: the summary
 * holds only what can be read without a key. */

/* how deep in the MIME tree we look for text and attachments */
#define MAX_DEPTH            64
/* decoded bytes read from a text/plain part, before conversion */
#define PLAIN_READ_MAX       (2 * LB_MIME_SUMMARY_MAX_BODY_TEXT)
/* decoded bytes read from an HTML part: markup is much longer than text */
#define HTML_READ_MAX        (1024 * 1024)
/* a Date later than this after the arrival time is not believed */
#define DATE_FUTURE_SLACK    (24 * 60 * 60)
#define MAX_QUOTE_DEPTH      32

typedef struct
{
  GMimeParserOptions *options;            /* for undeclared 8-bit text; see walk_options() */
  gboolean            options_have_hint;
  char               *charset_hint;       /* the first legacy charset declared in the message */

  gboolean            has_attachments;
  guint               n_texts;            /* text parts with something in them */
  GString            *body;               /* NULL when the caller does not want the text */
  char               *plain;              /* text of the first text/plain part */
  char               *html;               /* text of the first HTML part */
  GString            *capture;            /* HTML under the current multipart/related root */
} Walk;

static void
walk_clear (Walk *w)
{
  g_clear_pointer (&w->options, g_mime_parser_options_free);
  g_clear_pointer (&w->charset_hint, g_free);
  g_clear_pointer (&w->plain, g_free);
  g_clear_pointer (&w->html, g_free);
  if (w->body != NULL)
    g_string_free (w->body, TRUE);
  w->body = NULL;
}

/* Charsets whose bytes can't stand for an ASCII-compatible 8-bit charset
 * when we have to guess what undeclared 8-bit text is in. */
static gboolean
is_unicode_or_ascii (const char *charset)
{
  return g_ascii_strncasecmp (charset, "utf", 3) == 0 ||
         g_ascii_strncasecmp (charset, "ucs", 3) == 0 ||
         g_ascii_strncasecmp (charset, "iso-2022", 8) == 0 ||
         g_ascii_strcasecmp (charset, "us-ascii") == 0 ||
         g_ascii_strcasecmp (charset, "ascii") == 0 ||
         g_ascii_strncasecmp (charset, "unknown", 7) == 0 ||
         g_ascii_strncasecmp (charset, "x-unknown", 9) == 0;
}

static gboolean
is_utf8_name (const char *charset)
{
  return g_ascii_strcasecmp (charset, "utf-8") == 0 ||
         g_ascii_strcasecmp (charset, "utf8") == 0;
}

static gboolean
is_ascii_name (const char *charset)
{
  return g_ascii_strcasecmp (charset, "us-ascii") == 0 ||
         g_ascii_strcasecmp (charset, "ascii") == 0 ||
         g_ascii_strcasecmp (charset, "ansi_x3.4-1968") == 0;
}

static void
remember_charset (Walk        *w,
                  GMimeObject *object)
{
  const char *charset;

  if (w->charset_hint != NULL)
    return;

  charset = g_mime_object_get_content_type_parameter (object, "charset");
  if (charset != NULL && *charset != '\0' && !is_unicode_or_ascii (charset))
    w->charset_hint = g_strdup (charset);
}

/* Raw 8-bit bytes with no charset declared (in headers, or in text parts
 * without a charset parameter) are tried as UTF-8, then as the legacy
 * charset the message declares elsewhere, then as windows-1252, the usual
 * charset of mislabelled Western mail. GMime picks the first that converts
 * cleanly. */
static GMimeParserOptions *
walk_options (Walk *w)
{
  const char *charsets[4] = { "UTF-8", NULL, NULL, NULL };
  guint n = 1;

  if (w->options != NULL && (w->options_have_hint || w->charset_hint == NULL))
    return w->options;

  if (w->charset_hint != NULL)
    charsets[n++] = w->charset_hint;
  charsets[n] = "windows-1252";

  g_clear_pointer (&w->options, g_mime_parser_options_free);
  w->options = g_mime_parser_options_new ();
  g_mime_parser_options_set_fallback_charsets (w->options, charsets);
  w->options_have_hint = w->charset_hint != NULL;

  return w->options;
}

/* ---- text helpers ---------------------------------------------------- */

/* Takes @text, returns it as valid UTF-8. */
static char *
take_valid_utf8 (char *text)
{
  char *valid;

  if (g_utf8_validate (text, -1, NULL))
    return text;

  valid = g_utf8_make_valid (text, -1);
  g_free (text);

  return valid;
}

/* Turns runs of ASCII whitespace and control characters into single
 * spaces and trims both ends, in place. Only ASCII bytes are dropped, so
 * valid UTF-8 stays valid. */
static void
fold_whitespace (char *text)
{
  const char *in;
  char *out = text;
  gboolean space = FALSE;

  for (in = text; *in != '\0'; in++)
    {
      guchar c = (guchar) *in;

      if (c <= 0x20 || c == 0x7f)
        {
          space = out != text;
          continue;
        }

      if (space)
        *out++ = ' ';
      space = FALSE;
      *out++ = (char) c;
    }

  *out = '\0';
}

/* Takes @text; returns it valid, folded, or NULL when nothing is left. */
static char *
take_header_text (char *text)
{
  if (text == NULL)
    return NULL;

  text = take_valid_utf8 (text);
  fold_whitespace (text);

  if (*text == '\0')
    {
      g_free (text);
      return NULL;
    }

  return text;
}

/* In place: CRLF and CR become LF, NULs and other control characters but
 * tab become spaces. Returns the new length. */
static gsize
normalize_text (char  *text,
                gsize  len)
{
  gsize i, o = 0;

  for (i = 0; i < len; i++)
    {
      guchar c = (guchar) text[i];

      if (c == '\r')
        {
          text[o++] = '\n';
          if (i + 1 < len && text[i + 1] == '\n')
            i++;
        }
      else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
        {
          text[o++] = ' ';
        }
      else
        {
          text[o++] = (char) c;
        }
    }

  text[o] = '\0';

  return o;
}

/* The longest prefix of @text, at most @max bytes, that ends at a
 * character boundary. @text is valid UTF-8. */
static gsize
utf8_prefix_length (const char *text,
                    gsize       len,
                    gsize       max)
{
  if (len <= max)
    return len;

  while (max > 0 && ((guchar) text[max] & 0xc0) == 0x80)
    max--;

  return max;
}

/* Converts with @cd, which must be to UTF-8: bytes the charset does not
 * define become U+FFFD; a sequence cut off at the end is dropped (as when
 * only part of a long text was read), or also becomes U+FFFD with
 * @cut_off_is_error. @errors (nullable) counts the U+FFFD put in. NULs
 * become spaces: a NUL in the text would end it early. */
char *
lb_mime_iconv_to_utf8 (iconv_t     cd,
                       const char *data,
                       gsize       len,
                       gboolean    cut_off_is_error,
                       guint      *errors)
{
  GString *out = g_string_sized_new (len + len / 2 + 16);
  char *inbuf = (char *) data;
  gsize inleft = len;
  char buf[4096];
  char *outbuf;
  gsize outleft;
  guint n_errors = 0;

  iconv (cd, NULL, NULL, NULL, NULL);

  while (inleft > 0)
    {
      gsize r;

      outbuf = buf;
      outleft = sizeof buf;
      r = iconv (cd, &inbuf, &inleft, &outbuf, &outleft);
      g_string_append_len (out, buf, outbuf - buf);

      if (r != (gsize) -1 || errno == E2BIG)
        continue;

      if (errno != EILSEQ && !cut_off_is_error)
        break;  /* EINVAL: cut off */

      g_string_append (out, "\xef\xbf\xbd");
      n_errors++;
      inbuf++;
      inleft--;
    }

  /* the end of a stateful encoding such as ISO-2022-JP */
  outbuf = buf;
  outleft = sizeof buf;
  if (iconv (cd, NULL, NULL, &outbuf, &outleft) != (gsize) -1)
    g_string_append_len (out, buf, outbuf - buf);

  for (gsize i = 0; i < out->len; i++)
    if (out->str[i] == '\0')
      out->str[i] = ' ';

  if (errors != NULL)
    *errors = n_errors;
  return g_string_free (out, FALSE);
}

/* Converts @len bytes in @charset (NULL when undeclared) to valid UTF-8
 * with control characters normalized. An unknown charset counts as
 * undeclared. */
static char *
convert_to_utf8 (Walk       *w,
                 const char *data,
                 gsize       len,
                 const char *charset)
{
  iconv_t cd = (iconv_t) -1;
  char *text;

  if (charset != NULL && *charset == '\0')
    charset = NULL;

  if (charset != NULL && !is_utf8_name (charset) && !is_ascii_name (charset))
    cd = g_mime_iconv_open ("UTF-8", charset);

  if (cd != (iconv_t) -1)
    {
      text = take_valid_utf8 (lb_mime_iconv_to_utf8 (cd, data, len, FALSE, NULL));
      g_mime_iconv_close (cd);
    }
  else
    {
      /* UTF-8, ASCII, undeclared or unknown; what follows a NUL counts too */
      text = g_malloc (len + 1);
      memcpy (text, data, len);
      text[len] = '\0';
      for (gsize i = 0; i < len; i++)
        if (text[i] == '\0')
          text[i] = ' ';

      if (!g_utf8_validate (text, len, NULL))
        {
          char *decoded;

          if (charset != NULL && is_utf8_name (charset))
            decoded = g_utf8_make_valid (text, len);
          else
            decoded = g_mime_utils_decode_8bit (walk_options (w), text, len);

          g_free (text);
          text = take_valid_utf8 (decoded);
        }
    }

  normalize_text (text, strlen (text));

  return text;
}

/* ---- HTML to text ---------------------------------------------------- */

/* A crude HTML reader for previews and the search index, not for display:
 * it drops tags, comments and the contents of <head>, <style> and
 * <script>, breaks lines at block elements, marks text inside
 * <blockquote> as quoted ("> "), decodes character references, and folds
 * whitespace. It never goes back over what it has read, except to find
 * the end of a <style>, <script>, <head> or <title>, and then only once. */

typedef struct
{
  GString  *out;
  guint     quote_depth;
  gboolean  line_start;
  gboolean  pending_space;
  gboolean  no_end[4];    /* the closing tag of a skipped element is known missing */
} HtmlText;

static const char *const skipped_elements[] = { "style", "script", "head", "title" };

static const char *const block_elements[] = {
  "address", "article", "aside", "blockquote", "br", "caption", "center", "dd", "div", "dl",
  "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
  "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
};

/* HTML 4's names for U+00A0 to U+00FF, in order */
static const char *const latin1_entities[] = {
  "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect",
  "uml", "copy", "ordf", "laquo", "not", "shy", "reg", "macr",
  "deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot",
  "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
  "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil",
  "Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml",
  "ETH", "Ntilde", "Ograve", "Oacute", "Ocirc", "Otilde", "Ouml", "times",
  "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute", "THORN", "szlig",
  "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
  "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml",
  "eth", "ntilde", "ograve", "oacute", "ocirc", "otilde", "ouml", "divide",
  "oslash", "ugrave", "uacute", "ucirc", "uuml", "yacute", "thorn", "yuml",
};

static const struct
{
  const char *name;
  gunichar    c;
} other_entities[] = {
  { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' }, { "apos", '\'' },
  { "ndash", 0x2013 }, { "mdash", 0x2014 }, { "lsquo", 0x2018 }, { "rsquo", 0x2019 },
  { "sbquo", 0x201a }, { "ldquo", 0x201c }, { "rdquo", 0x201d }, { "bdquo", 0x201e },
  { "bull", 0x2022 }, { "hellip", 0x2026 }, { "euro", 0x20ac }, { "trade", 0x2122 },
  { "ensp", ' ' }, { "emsp", ' ' }, { "thinsp", ' ' },
  { "zwnj", 0x200c }, { "zwj", 0x200d }, { "lrm", 0x200e }, { "rlm", 0x200f },
};

/* @p points after '&'. Returns how many bytes the reference takes, ';'
 * included, and the character in @c; 0 when it is not one we know. */
gsize
lb_mime_html_entity (const char *p,
                     const char *end,
                     gunichar   *c)
{
  const char *q = p;
  char name[16];
  gsize n = 0;

  if (q < end && *q == '#')
    {
      guint64 value = 0;
      gboolean hex = FALSE;
      guint digits = 0;

      q++;
      if (q < end && (*q == 'x' || *q == 'X'))
        {
          hex = TRUE;
          q++;
        }

      for (; q < end && digits < 10; q++, digits++)
        {
          int d = hex ? g_ascii_xdigit_value (*q) : g_ascii_digit_value (*q);

          if (d < 0)
            break;
          value = value * (hex ? 16 : 10) + (guint64) d;
        }

      if (digits == 0 || q >= end || *q != ';')
        return 0;

      if (value == 0 || value > 0x10ffff || !g_unichar_validate ((gunichar) value))
        value = 0xfffd;

      *c = (gunichar) value;
      return (gsize) (q + 1 - p);
    }

  while (q < end && g_ascii_isalnum (*q) && n < sizeof name - 1)
    name[n++] = *q++;
  name[n] = '\0';

  if (n == 0 || q >= end || *q != ';')
    return 0;

  for (guint i = 0; i < G_N_ELEMENTS (other_entities); i++)
    if (strcmp (name, other_entities[i].name) == 0)
      {
        *c = other_entities[i].c;
        return n + 1;
      }

  for (guint i = 0; i < G_N_ELEMENTS (latin1_entities); i++)
    if (strcmp (name, latin1_entities[i]) == 0)
      {
        *c = 0xa0 + i;
        return n + 1;
      }

  return 0;
}

static void
html_newline (HtmlText *h)
{
  h->pending_space = FALSE;

  if (h->line_start)
    return;

  g_string_append_c (h->out, '\n');
  h->line_start = TRUE;
}

static void
html_space (HtmlText *h)
{
  if (!h->line_start)
    h->pending_space = TRUE;
}

static void
html_text (HtmlText   *h,
           const char *text,
           gsize       len)
{
  if (h->line_start)
    {
      if (h->quote_depth > 0)
        g_string_append (h->out, "> ");
      h->line_start = FALSE;
    }
  else if (h->pending_space)
    {
      g_string_append_c (h->out, ' ');
    }

  h->pending_space = FALSE;
  g_string_append_len (h->out, text, len);
}

/* Finds "</@name" from @p on, case-insensitively. */
static const char *
find_end_tag (const char *p,
              const char *end,
              const char *name)
{
  gsize n = strlen (name);

  while (p < end && (p = memchr (p, '<', (gsize) (end - p))) != NULL)
    {
      if ((gsize) (end - p) >= n + 2 && p[1] == '/' &&
          g_ascii_strncasecmp (p + 2, name, n) == 0)
        return p;
      p++;
    }

  return NULL;
}

/* @p points after the tag name; returns the '>' ending the tag, skipping
 * quoted attribute values, or NULL. */
static const char *
find_tag_end (const char *p,
              const char *end)
{
  while (p < end)
    {
      if (*p == '>')
        return p;

      if (*p == '=')
        {
          const char *v = p + 1;

          while (v < end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
            v++;

          if (v < end && (*v == '"' || *v == '\''))
            {
              const char *close = memchr (v + 1, *v, (gsize) (end - v - 1));

              if (close == NULL)
                return NULL;
              p = close + 1;
              continue;
            }
        }

      p++;
    }

  return NULL;
}

static gboolean
in_list (const char        *name,
         const char *const *list,
         gsize              n)
{
  for (gsize i = 0; i < n; i++)
    if (strcmp (name, list[i]) == 0)
      return TRUE;

  return FALSE;
}

/* Handles the tag at @p ('<' followed by a letter or '/'); returns where
 * to go on reading. */
static const char *
html_tag (HtmlText   *h,
          const char *p,
          const char *end)
{
  const char *q = p + 1;
  const char *gt;
  gboolean closing = FALSE;
  gboolean self_closing;
  char name[16];
  gsize n = 0;

  if (*q == '/')
    {
      closing = TRUE;
      q++;
    }

  while (q < end && g_ascii_isalnum (*q))
    {
      if (n < sizeof name - 1)
        name[n++] = g_ascii_tolower (*q);
      q++;
    }
  name[n] = '\0';

  gt = find_tag_end (q, end);
  if (gt == NULL)
    return end;

  self_closing = gt > q && gt[-1] == '/';
  p = gt + 1;

  if (strcmp (name, "td") == 0 || strcmp (name, "th") == 0)
    {
      html_space (h);
      return p;
    }

  if (strcmp (name, "blockquote") == 0 && !self_closing)
    {
      if (!closing && h->quote_depth < MAX_QUOTE_DEPTH)
        h->quote_depth++;
      else if (closing && h->quote_depth > 0)
        h->quote_depth--;
    }

  if (in_list (name, block_elements, G_N_ELEMENTS (block_elements)))
    {
      html_newline (h);
      return p;
    }

  if (closing || self_closing)
    return p;

  for (guint i = 0; i < G_N_ELEMENTS (skipped_elements); i++)
    {
      const char *close;

      if (strcmp (name, skipped_elements[i]) != 0)
        continue;

      close = h->no_end[i] ? NULL : find_end_tag (p, end, name);
      if (close != NULL)
        return close;

      h->no_end[i] = TRUE;
      /* an unclosed <style> or <script> runs to the end; an unclosed
       * <head> or <title> is more likely a mistake than hidden text */
      return i < 2 ? end : p;
    }

  return p;
}

/* Appends the text of @html (valid UTF-8) to @out, stopping near @limit
 * bytes. */
static void
html_to_text (const char *html,
              gsize       len,
              GString    *out,
              gsize       limit)
{
  HtmlText h = { out, 0, TRUE, FALSE, { FALSE, } };
  const char *p = html;
  const char *end = html + len;

  while (p < end && out->len < limit)
    {
      guchar c = (guchar) *p;

      if (c == '<')
        {
          const char *q = p + 1;

          if (q < end && (g_ascii_isalpha (*q) || (*q == '/' && q + 1 < end && g_ascii_isalpha (q[1]))))
            {
              p = html_tag (&h, p, end);
            }
          else if (q < end && *q == '!' && end - q >= 3 && q[1] == '-' && q[2] == '-')
            {
              const char *close = g_strstr_len (q + 3, end - q - 3, "-->");

              p = close != NULL ? close + 3 : end;
            }
          else if (q < end && (*q == '!' || *q == '?' || *q == '/'))
            {
              const char *gt = memchr (q, '>', (gsize) (end - q));

              p = gt != NULL ? gt + 1 : end;
            }
          else
            {
              html_text (&h, "<", 1);
              p++;
            }
        }
      else if (c == '&')
        {
          gunichar ch = 0;
          gsize n = lb_mime_html_entity (p + 1, end, &ch);

          if (n == 0)
            {
              html_text (&h, "&", 1);
              p++;
            }
          else
            {
              p += n + 1;
              if (ch == ' ' || ch == 0xa0 || ch < 0x20)
                {
                  html_space (&h);
                }
              else
                {
                  char buf[6];

                  html_text (&h, buf, g_unichar_to_utf8 (ch, buf));
                }
            }
        }
      else if (c <= 0x20 || c == 0x7f)
        {
          html_space (&h);
          p++;
        }
      else
        {
          const char *run = p;

          while (p < end && (guchar) *p > 0x20 && *p != '<' && *p != '&' && *p != 0x7f)
            p++;
          html_text (&h, run, (gsize) (p - run));
        }
    }

  /* no trailing line breaks */
  while (out->len > 0 && out->str[out->len - 1] == '\n')
    g_string_truncate (out, out->len - 1);
}

/**
 * lb_mime_html_to_plain_text:
 * @html: HTML, valid UTF-8
 * @length: its length in bytes, or -1 when it ends with a NUL
 *
 * The readable text of @html, as the message list's preview and the
 * full-text index see it: markup, styles and scripts dropped, entities
 * decoded, blocks on lines of their own, quotes marked with "> ".
 * lb_mime_html_to_text() is the richer rendering for display.
 *
 * Returns: (transfer full): the text, valid UTF-8
 */
char *
lb_mime_html_to_plain_text (const char *html,
                            gssize      length)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (html != NULL, NULL);

  html_to_text (html, length < 0 ? strlen (html) : (gsize) length, out, G_MAXSIZE);
  return g_string_free (out, FALSE);
}

/* ---- preview --------------------------------------------------------- */

static const char *const attribution_endings[] = {
  "wrote:", "writes:", "schrieb:", "a \303\251crit :", "a \303\251crit:", "escribi\303\263:",
  "scrisse:", "\320\275\320\260\320\277\320\270\321\201\320\260\320\273:",
  "\320\275\320\260\320\277\320\270\321\201\320\260\320\273\320\260:",
  "\320\275\320\260\320\277\320\270\321\201\320\260\320\273(\320\260):",
  "\320\277\320\270\321\210\320\265\321\202:",
};

static gboolean
has_suffix_len (const char *text,
                gsize       len,
                const char *suffix)
{
  gsize n = strlen (suffix);

  return len >= n && memcmp (text + len - n, suffix, n) == 0;
}

gboolean
lb_mime_is_attribution (const char *line,
                        gsize       len)
{
  for (guint i = 0; i < G_N_ELEMENTS (attribution_endings); i++)
    if (has_suffix_len (line, len, attribution_endings[i]))
      return TRUE;

  return FALSE;
}

/* Whether the first line after @p that is not blank is quoted, or there
 * is none. */
static gboolean
quote_follows (const char *p)
{
  for (;;)
    {
      while (*p == ' ' || *p == '\t')
        p++;

      if (*p == '\0')
        return TRUE;
      if (*p != '\n')
        return *p == '>';
      p++;
    }
}

static gboolean
is_invisible (gunichar c)
{
  return c == 0x00ad || c == 0x034f || (c >= 0x200b && c <= 0x200f) ||
         c == 0x2060 || c == 0xfeff;
}

/* Appends @len bytes of @line to @out with whitespace folded, counting
 * characters in @chars up to the preview's length. */
static void
preview_append (GString    *out,
                guint      *chars,
                const char *line,
                gsize       len)
{
  const char *p = line;
  const char *end = line + len;
  gboolean space = out->len > 0;

  while (p < end && *chars < LB_MIME_SUMMARY_PREVIEW_CHARS)
    {
      gunichar c = g_utf8_get_char (p);
      const char *next = g_utf8_next_char (p);

      if (g_unichar_isspace (c) || c < 0x20 || c == 0x7f)
        {
          space = out->len > 0;
        }
      else if (!is_invisible (c))
        {
          if (space)
            {
              /* never a space as the last character */
              if (*chars + 1 >= LB_MIME_SUMMARY_PREVIEW_CHARS)
                break;
              g_string_append_c (out, ' ');
              (*chars)++;
              space = FALSE;
            }
          g_string_append_len (out, p, next - p);
          (*chars)++;
        }

      p = next;
    }
}

static gboolean
is_rule_of (const char *line,
            gsize       len,
            char        c)
{
  if (len < 10)
    return FALSE;

  for (gsize i = 0; i < len; i++)
    if (line[i] != c)
      return FALSE;

  return TRUE;
}

/* The first LB_MIME_SUMMARY_PREVIEW_CHARS characters of @text with
 * whitespace folded, leaving out quoted lines and the attribution line
 * before them, PGP armour, and stopping at a signature or a forwarded
 * or quoted original; with @filter FALSE, every line. */
static char *
make_preview (const char *text,
              gboolean    filter)
{
  GString *out = g_string_new (NULL);
  const char *p = text;
  gboolean armor_headers = FALSE;
  gboolean prev_kept = FALSE;
  gboolean prev_on = FALSE;
  gsize prev_len = 0;
  guint prev_chars = 0;
  guint chars = 0;

  while (*p != '\0' && chars < LB_MIME_SUMMARY_PREVIEW_CHARS)
    {
      const char *eol = strchr (p, '\n');
      const char *next = eol != NULL ? eol + 1 : p + strlen (p);
      const char *line = p;
      gsize len = (gsize) ((eol != NULL ? eol : next) - p);

      p = next;

      while (len > 0 && (*line == ' ' || *line == '\t'))
        {
          line++;
          len--;
        }
      while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
        len--;

      if (len == 0)
        {
          armor_headers = FALSE;
          prev_kept = FALSE;
          continue;
        }

      if (!filter)
        {
          preview_append (out, &chars, line, len);
          continue;
        }

      if (armor_headers)
        continue;

      if (*line == '>')
        {
          prev_kept = FALSE;
          continue;
        }

      if ((len == 2 && memcmp (line, "--", 2) == 0) ||
          g_str_has_prefix (line, "-----Original Message-----") ||
          g_str_has_prefix (line, "-----BEGIN PGP SIGNATURE-----") ||
          is_rule_of (line, len, '_'))
        break;

      if (len == 34 && memcmp (line, "-----BEGIN PGP SIGNED MESSAGE-----", 34) == 0)
        {
          armor_headers = TRUE;
          continue;
        }

      if (lb_mime_is_attribution (line, len) && quote_follows (next))
        {
          gboolean on = len >= 3 && memcmp (line, "On ", 3) == 0;

          /* "On <date>, <name>\n<address> wrote:" */
          if (prev_kept && prev_on && !on)
            {
              g_string_truncate (out, prev_len);
              chars = prev_chars;
            }
          prev_kept = FALSE;
          continue;
        }

      prev_len = out->len;
      prev_chars = chars;
      prev_on = len >= 3 && memcmp (line, "On ", 3) == 0;
      prev_kept = TRUE;
      preview_append (out, &chars, line, len);
    }

  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }

  return g_string_free (out, FALSE);
}

/* ---- the MIME tree --------------------------------------------------- */

/* Reads at most @max bytes of the part's content with its transfer
 * encoding undone. */
static GByteArray *
read_content (GMimePart *part,
              gsize      max)
{
  GMimeDataWrapper *content = g_mime_part_get_content (part);
  GMimeStream *source;
  GMimeStream *filtered;
  GByteArray *bytes;
  GMimeContentEncoding encoding;

  if (content == NULL || (source = g_mime_data_wrapper_get_stream (content)) == NULL)
    return NULL;

  filtered = g_mime_stream_filter_new (source);
  encoding = g_mime_data_wrapper_get_encoding (content);
  if (encoding == GMIME_CONTENT_ENCODING_BASE64 ||
      encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
      encoding == GMIME_CONTENT_ENCODING_UUENCODE)
    {
      GMimeFilter *decoder = g_mime_filter_basic_new (encoding, FALSE);

      g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), decoder);
      g_object_unref (decoder);
    }

  g_mime_stream_reset (filtered);

  bytes = g_byte_array_new ();
  while (bytes->len < max)
    {
      guint old = bytes->len;
      gsize want = MIN (16384, max - old);
      gssize n;

      g_byte_array_set_size (bytes, old + want);
      n = g_mime_stream_read (filtered, (char *) bytes->data + old, want);
      g_byte_array_set_size (bytes, old + MAX (n, 0));

      /* a filter may have nothing to give for a whole block */
      if (n < 0 || (n == 0 && g_mime_stream_eos (filtered)))
        break;
    }

  g_object_unref (filtered);

  return bytes;
}

static void
body_append (GString    *body,
             const char *text)
{
  gsize len = strlen (text);

  if (body->len > 0 && body->len < LB_MIME_SUMMARY_MAX_BODY_TEXT)
    g_string_append_c (body, '\n');

  if (body->len >= LB_MIME_SUMMARY_MAX_BODY_TEXT)
    return;

  len = utf8_prefix_length (text, len, LB_MIME_SUMMARY_MAX_BODY_TEXT - body->len);
  g_string_append_len (body, text, len);
}

static gboolean
is_blank (const char *text)
{
  for (; *text != '\0'; text++)
    if (!g_ascii_isspace (*text))
      return FALSE;

  return TRUE;
}

/* Takes @text, one readable text part of the message. */
static void
add_text (Walk     *w,
          char     *text,
          gboolean  is_html)
{
  if (is_blank (text))
    {
      g_free (text);
      return;
    }

  w->n_texts++;

  if (w->body != NULL)
    body_append (w->body, text);

  if (!is_html && w->plain == NULL)
    w->plain = g_steal_pointer (&text);
  else if (is_html && w->html == NULL)
    w->html = g_steal_pointer (&text);

  g_free (text);
}

static gboolean
wants_text (Walk *w)
{
  return (w->body != NULL && w->body->len < LB_MIME_SUMMARY_MAX_BODY_TEXT) ||
         (w->plain == NULL && w->html == NULL);
}

static gboolean
is_signature (GMimeContentType *type)
{
  return g_mime_content_type_is_type (type, "application", "pgp-signature") ||
         g_mime_content_type_is_type (type, "application", "pkcs7-signature") ||
         g_mime_content_type_is_type (type, "application", "x-pkcs7-signature");
}

static gboolean
is_html_like (GMimeContentType *type)
{
  return g_mime_content_type_is_type (type, "text", "html") ||
         g_mime_content_type_is_type (type, "text", "enriched") ||
         g_mime_content_type_is_type (type, "text", "richtext");
}

/* What counts as an attachment (the paperclip in the message list):
 *
 * - a part with Content-Disposition: attachment;
 * - a message/rfc822 (or other message/...) part: a forwarded message;
 * - text/calendar: an invitation;
 * - a text part other than plain, HTML or enriched text that has a file
 *   name (a .csv, a .vcf);
 * - any other leaf that is not text: images, documents, archives...
 *
 * but not:
 * - a signature (application/pgp-signature, application/pkcs7-signature)
 *   nor the encrypted body of PGP/MIME or S/MIME: they are the message
 *   itself, not something attached to it;
 * - a part of a multipart/related whose Content-ID (or Content-Location)
 *   the HTML of that multipart/related refers to: an image shown in the
 *   body. This holds even if the part says "attachment", since the reader
 *   sees it in the text, not as a file;
 * - the machine-readable parts of a delivery or read report.
 */
static void
walk_leaf (Walk      *w,
           GMimePart *part,
           gboolean   collect)
{
  GMimeObject *object = GMIME_OBJECT (part);
  GMimeContentType *type = g_mime_object_get_content_type (object);
  const char *charset;
  gboolean is_html;
  gboolean want_text;
  gboolean want_capture;
  GByteArray *bytes;
  char *text;

  if (type == NULL || is_signature (type) || GMIME_IS_APPLICATION_PKCS7_MIME (part) ||
      g_mime_content_type_is_type (type, "application", "pgp-encrypted"))
    return;

  if (g_mime_part_is_attachment (part) ||
      g_mime_content_type_is_type (type, "text", "calendar") ||
      g_mime_content_type_is_type (type, "message", "rfc822") ||
      g_mime_content_type_is_type (type, "message", "global"))
    {
      w->has_attachments = TRUE;
      return;
    }

  if (g_mime_content_type_is_type (type, "message", "delivery-status") ||
      g_mime_content_type_is_type (type, "message", "global-delivery-status") ||
      g_mime_content_type_is_type (type, "message", "disposition-notification") ||
      g_mime_content_type_is_type (type, "message", "feedback-report") ||
      g_mime_content_type_is_type (type, "text", "rfc822-headers"))
    return;

  if (!g_mime_content_type_is_type (type, "text", "*"))
    {
      w->has_attachments = TRUE;
      return;
    }

  is_html = is_html_like (type);
  if (!is_html && !g_mime_content_type_is_type (type, "text", "plain") &&
      g_mime_part_get_filename (part) != NULL)
    {
      w->has_attachments = TRUE;
      return;
    }

  want_text = collect && wants_text (w);
  want_capture = is_html && w->capture != NULL;
  if (!want_text && !want_capture)
    return;

  bytes = read_content (part, is_html ? HTML_READ_MAX : PLAIN_READ_MAX);
  if (bytes == NULL)
    return;

  charset = g_mime_object_get_content_type_parameter (object, "charset");
  text = convert_to_utf8 (w, (const char *) bytes->data, bytes->len, charset);
  g_byte_array_unref (bytes);

  if (want_capture)
    g_string_append (w->capture, text);

  if (!want_text)
    {
      g_free (text);
      return;
    }

  if (is_html)
    {
      GString *plain = g_string_new (NULL);

      html_to_text (text, strlen (text), plain, LB_MIME_SUMMARY_MAX_BODY_TEXT);
      g_free (text);
      text = g_string_free (plain, FALSE);
    }

  add_text (w, text, is_html);
}

static void walk_object (Walk        *w,
                         GMimeObject *object,
                         gboolean     collect,
                         guint        depth);

/* The part a multipart would show first. */
static GMimeObject *
first_leaf (GMimeObject *object)
{
  for (guint depth = 0; depth < MAX_DEPTH && GMIME_IS_MULTIPART (object); depth++)
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);

      if (GMIME_IS_MULTIPART_ENCRYPTED (object) || g_mime_multipart_get_count (multipart) <= 0)
        return NULL;
      object = g_mime_multipart_get_part (multipart, 0);
    }

  return GMIME_IS_MULTIPART (object) ? NULL : object;
}

/* Text comes from one alternative: the plain text if there is one with
 * something in it (the preview prefers it, and it needs no stripping),
 * (or one whose first part is plain text), else the richest. The others are still looked at for attachments and
 * for the HTML a multipart/related refers to. */
static void
walk_alternative (Walk           *w,
                  GMimeMultipart *multipart,
                  gboolean        collect,
                  guint           depth)
{
  int count = g_mime_multipart_get_count (multipart);
  int plain = -1;
  int rich = -1;
  int first;
  int second = -1;
  guint before = w->n_texts;

  if (count <= 0)
    return;

  for (int i = 0; i < count; i++)
    {
      GMimeObject *child = g_mime_multipart_get_part (multipart, i);
      GMimeObject *leaf = first_leaf (child);
      GMimeContentType *type = leaf != NULL ? g_mime_object_get_content_type (leaf) : NULL;

      if (type == NULL)
        continue;

      if (plain < 0 && GMIME_IS_TEXT_PART (leaf) &&
          g_mime_content_type_is_type (type, "text", "plain") &&
          !g_mime_part_is_attachment (GMIME_PART (leaf)))
        plain = i;
      else if (g_mime_content_type_is_type (type, "text", "html") || GMIME_IS_MULTIPART (child))
        rich = i;
    }

  first = plain >= 0 ? plain : (rich >= 0 ? rich : count - 1);
  walk_object (w, g_mime_multipart_get_part (multipart, first), collect, depth + 1);

  if (collect && w->n_texts == before && first == plain && rich >= 0)
    {
      second = rich;
      walk_object (w, g_mime_multipart_get_part (multipart, second), collect, depth + 1);
    }

  for (int i = 0; i < count; i++)
    if (i != first && i != second)
      walk_object (w, g_mime_multipart_get_part (multipart, i), FALSE, depth + 1);
}

/* The Content-IDs the HTML refers to with cid: URLs. */
static GHashTable *
html_cids (const char *html)
{
  GHashTable *cids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *p = html;

  while ((p = strchr (p, ':')) != NULL)
    {
      const char *start = ++p;
      char *unescaped;
      char *cid;

      if (start - html < 4 || g_ascii_strncasecmp (start - 4, "cid:", 4) != 0)
        continue;

      while (*p != '\0' && strchr ("\"'()<> \t\r\n;", *p) == NULL)
        p++;
      if (p == start)
        continue;

      cid = g_strndup (start, (gsize) (p - start));
      unescaped = g_uri_unescape_string (cid, NULL);
      if (unescaped != NULL)
        g_hash_table_add (cids, unescaped);
      g_hash_table_add (cids, cid);
    }

  return cids;
}

static gboolean
is_referenced (GMimeObject *object,
               GHashTable  *cids,
               const char  *html,
               guint       *location_checks)
{
  const char *cid = g_mime_object_get_content_id (object);
  const char *location;

  if (cid != NULL && g_hash_table_contains (cids, cid))
    return TRUE;

  /* a search of the whole HTML each: only for a few parts */
  location = g_mime_part_get_content_location (GMIME_PART (object));
  if (location == NULL || *location == '\0' || ++*location_checks > 16)
    return FALSE;

  return strstr (html, location) != NULL;
}

static void
walk_related (Walk           *w,
              GMimeMultipart *multipart,
              gboolean        collect,
              guint           depth)
{
  int count = g_mime_multipart_get_count (multipart);
  const char *start = g_mime_object_get_content_type_parameter (GMIME_OBJECT (multipart), "start");
  GString *outer = w->capture;
  GString *html;
  GHashTable *cids;
  guint location_checks = 0;
  int root = 0;

  if (count <= 0)
    return;

  if (start != NULL)
    {
      char *id = g_strdup (start);

      g_strstrip (id);
      if (*id == '<')
        memmove (id, id + 1, strlen (id));
      if (*id != '\0' && id[strlen (id) - 1] == '>')
        id[strlen (id) - 1] = '\0';

      for (int i = 0; i < count; i++)
        {
          const char *cid = g_mime_object_get_content_id (g_mime_multipart_get_part (multipart, i));

          if (cid != NULL && strcmp (cid, id) == 0)
            {
              root = i;
              break;
            }
        }

      g_free (id);
    }

  html = g_string_new (NULL);
  w->capture = html;
  walk_object (w, g_mime_multipart_get_part (multipart, root), collect, depth + 1);
  w->capture = outer;
  if (outer != NULL)
    g_string_append_len (outer, html->str, html->len);

  cids = html_cids (html->str);
  for (int i = 0; i < count; i++)
    {
      GMimeObject *child = g_mime_multipart_get_part (multipart, i);

      if (i == root || (GMIME_IS_PART (child) && is_referenced (child, cids, html->str, &location_checks)))
        continue;

      walk_object (w, child, collect, depth + 1);
    }

  g_hash_table_unref (cids);
  g_string_free (html, TRUE);
}

static void
walk_object (Walk        *w,
             GMimeObject *object,
             gboolean     collect,
             guint        depth)
{
  if (object == NULL || depth > MAX_DEPTH)
    return;

  remember_charset (w, object);

  if (GMIME_IS_MESSAGE_PART (object))
    {
      /* a forwarded or bounced message: its text is not this one's */
      w->has_attachments = TRUE;
    }
  else if (GMIME_IS_MULTIPART_ENCRYPTED (object))
    {
      /* nothing to read without the key, and nothing attached we know of */
    }
  else if (GMIME_IS_MULTIPART_SIGNED (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);

      if (g_mime_multipart_get_count (multipart) > GMIME_MULTIPART_SIGNED_CONTENT)
        walk_object (w, g_mime_multipart_get_part (multipart, GMIME_MULTIPART_SIGNED_CONTENT),
                     collect, depth + 1);
    }
  else if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);
      GMimeContentType *type = g_mime_object_get_content_type (object);

      if (type != NULL && g_mime_content_type_is_type (type, "multipart", "alternative"))
        {
          walk_alternative (w, multipart, collect, depth);
        }
      else if (type != NULL && g_mime_content_type_is_type (type, "multipart", "related"))
        {
          walk_related (w, multipart, collect, depth);
        }
      else
        {
          int count = g_mime_multipart_get_count (multipart);

          for (int i = 0; i < count; i++)
            walk_object (w, g_mime_multipart_get_part (multipart, i), collect, depth + 1);
        }

      /* No parts at all (a boundary that is missing or never comes): what
       * a reader sees then is the text before the first boundary. */
      if (g_mime_multipart_get_count (multipart) == 0 && collect && wants_text (w))
        {
          const char *prologue = g_mime_multipart_get_prologue (multipart);

          if (prologue != NULL)
            add_text (w, convert_to_utf8 (w, prologue, strlen (prologue), NULL), FALSE);
        }
    }
  else if (GMIME_IS_PART (object))
    {
      walk_leaf (w, GMIME_PART (object), collect);
    }
}

/* ---- headers --------------------------------------------------------- */

static GMimeHeaderList *
message_headers (GMimeMessage *message)
{
  return g_mime_object_get_header_list (GMIME_OBJECT (message));
}

static const char *
raw_header (GMimeMessage *message,
            const char   *name)
{
  GMimeHeader *header = g_mime_header_list_get_header (message_headers (message), name);

  return header != NULL ? g_mime_header_get_raw_value (header) : NULL;
}

/* Whether the headers we show have raw bytes that are not UTF-8: then
 * they are decoded from their raw values with our fallback charsets
 * rather than read from GMime's, decoded with its defaults. One pass,
 * since this is rare. */
static gboolean
has_legacy_headers (GMimeMessage *message)
{
  static const char *const shown[] = { "Subject", "From", "To", "Cc" };
  GMimeHeaderList *headers = message_headers (message);
  int count = g_mime_header_list_get_count (headers);

  for (int i = 0; i < count; i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);
      const char *name = g_mime_header_get_name (header);
      const char *raw = g_mime_header_get_raw_value (header);

      if (raw == NULL || g_utf8_validate (raw, -1, NULL))
        continue;

      for (guint j = 0; j < G_N_ELEMENTS (shown); j++)
        if (g_ascii_strcasecmp (name, shown[j]) == 0)
          return TRUE;
    }

  return FALSE;
}

/* GMime 3.2 joins adjacent encoded words of one charset before decoding
 * them (so that a character split between two words survives), but it
 * joins base64 words as text: after a word that ends in '=' padding the
 * decoder stops, and the rest of the header is lost ("=?UTF-8?B?0L8=?=
 * =?UTF-8?B?0LkgKHgp?=" comes out as "п"). Mail programs fold long
 * subjects into such words all the time. This joins such runs into one
 * word, decoding and encoding the base64 itself, so GMime sees no padding
 * in the middle. Returns NULL when @raw needs no repair. */
typedef struct
{
  const char *start;     /* "=?" */
  const char *end;       /* after "?=" */
  const char *charset;
  gsize charset_len;
  const char *payload;
  gsize payload_len;
  gboolean base64;
} EncodedWord;

static gboolean
scan_encoded_word (const char  *p,
                   EncodedWord *word)
{
  const char *q, *e;

  if (p[0] != '=' || p[1] != '?')
    return FALSE;
  q = strchr (p + 2, '?');
  if (q == NULL || q == p + 2 || q[1] == '\0' || q[2] != '?')
    return FALSE;
  e = strstr (q + 3, "?=");
  if (e == NULL)
    return FALSE;
  for (const char *c = p + 2; c < e; c++)
    if (g_ascii_isspace (*c))
      return FALSE;

  word->start = p;
  word->end = e + 2;
  word->charset = p + 2;
  word->charset_len = q - (p + 2);
  word->base64 = q[1] == 'B' || q[1] == 'b';
  word->payload = q + 3;
  word->payload_len = e - (q + 3);
  return TRUE;
}

/* Skips the whitespace between two encoded words, and reads the second
 * if it is a base64 word of @charset. */
static gboolean
scan_next_word (const char        *p,
                const EncodedWord *first,
                EncodedWord       *word)
{
  while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
    p++;
  return (scan_encoded_word (p, word) && word->base64 &&
          word->charset_len == first->charset_len &&
          g_ascii_strncasecmp (word->charset, first->charset, first->charset_len) == 0);
}

static char *
repair_encoded_words (const char *raw)
{
  GString *out = NULL;      /* made only when something is repaired */
  const char *copied;       /* raw is copied to out up to here */
  const char *p;

  if (raw == NULL || strstr (raw, "=?") == NULL)
    return NULL;

  copied = p = raw;
  while (*p != '\0')
    {
      EncodedWord first, word;
      const char *next;
      gboolean padded = FALSE;
      g_autoptr(GByteArray) bytes = NULL;
      g_autofree char *encoded = NULL;

      if (!scan_encoded_word (p, &first) || !first.base64)
        {
          p++;
          continue;
        }

      /* the run of base64 words of the same charset: padding in any but
       * the last is what GMime cannot decode */
      word = first;
      next = first.end;
      while (scan_next_word (next, &first, &word))
        {
          /* the word before this one ended "…=?=" */
          padded |= next[-3] == '=';
          next = word.end;
        }
      if (!padded)
        {
          p = next;
          continue;
        }

      /* one word of the run's bytes */
      bytes = g_byte_array_new ();
      word = first;
      do
        {
          g_autofree char *b64 = g_strndup (word.payload, word.payload_len);
          g_autofree guchar *data = NULL;
          gsize len = 0;

          data = g_base64_decode (b64, &len);
          g_byte_array_append (bytes, data, len);
        }
      while (word.end != next && scan_next_word (word.end, &first, &word));
      encoded = g_base64_encode (bytes->data, bytes->len);

      if (out == NULL)
        out = g_string_new (NULL);
      g_string_append_len (out, copied, first.start - copied);
      g_string_append (out, "=?");
      g_string_append_len (out, first.charset, first.charset_len);
      g_string_append (out, "?B?");
      g_string_append (out, encoded);
      g_string_append (out, "?=");
      copied = p = next;
    }

  if (out == NULL)
    return NULL;
  g_string_append (out, copied);
  return g_string_free (out, FALSE);
}

static gboolean
header_needs_repair (GMimeMessage *message,
                     const char   *name)
{
  GMimeHeaderList *headers = message_headers (message);
  int count = g_mime_header_list_get_count (headers);

  for (int i = 0; i < count; i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);
      g_autofree char *repaired = NULL;

      if (g_ascii_strcasecmp (g_mime_header_get_name (header), name) != 0)
        continue;
      repaired = repair_encoded_words (g_mime_header_get_raw_value (header));
      if (repaired != NULL)
        return TRUE;
    }
  return FALSE;
}

static char *
decode_text_header (Walk       *w,
                    const char *raw)
{
  char *unfolded;
  char *decoded;

  if (raw == NULL)
    return NULL;

  unfolded = g_mime_utils_header_unfold (raw);
  {
    char *repaired = repair_encoded_words (unfolded);

    if (repaired != NULL)
      {
        g_free (unfolded);
        unfolded = repaired;
      }
  }
  decoded = g_mime_utils_header_decode_text (g_utf8_validate (raw, -1, NULL) ? NULL : walk_options (w),
                                             unfolded);
  g_free (unfolded);

  return take_header_text (decoded);
}

static char *
subject_of (Walk         *w,
            GMimeMessage *message,
            gboolean      legacy)
{
  if (legacy || header_needs_repair (message, "Subject"))
    return decode_text_header (w, raw_header (message, "Subject"));

  return take_header_text (g_strdup (g_mime_message_get_subject (message)));
}

static void
append_mailbox (GString         *out,
                InternetAddress *address)
{
  const char *name = internet_address_get_name (address);
  const char *addr = INTERNET_ADDRESS_IS_MAILBOX (address) ?
    internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address)) : NULL;

  if (name != NULL && *name != '\0')
    {
      char *quoted = g_mime_utils_quote_string (name);

      g_string_append (out, quoted);
      g_free (quoted);
      if (addr != NULL && *addr != '\0')
        g_string_append_printf (out, " <%s>", addr);
    }
  else if (addr != NULL)
    {
      g_string_append (out, addr);
    }
}

/* "Name <addr>, addr, Group: a, b;" with the domains as they are written
 * to people (internet_address_list_to_string() turns them into
 * punycode, and costs most of a header's time doing so). */
static char *
format_addresses (InternetAddressList *list)
{
  GString *out = g_string_new (NULL);
  int count = internet_address_list_length (list);

  for (int i = 0; i < count; i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (out->len > 0)
        g_string_append (out, ", ");

      if (INTERNET_ADDRESS_IS_GROUP (address))
        {
          InternetAddressList *members =
            internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address));
          int n = members != NULL ? internet_address_list_length (members) : 0;
          char *quoted = g_mime_utils_quote_string (internet_address_get_name (address) != NULL ?
                                                    internet_address_get_name (address) : "");

          g_string_append_printf (out, "%s:", quoted);
          g_free (quoted);
          for (int j = 0; j < n; j++)
            {
              g_string_append (out, j == 0 ? " " : ", ");
              append_mailbox (out, internet_address_list_get_address (members, j));
            }
          g_string_append_c (out, ';');
        }
      else
        {
          append_mailbox (out, address);
        }
    }

  return g_string_free (out, FALSE);
}

static char *
addresses_of (Walk             *w,
              GMimeMessage     *message,
              gboolean          legacy,
              GMimeAddressType  type,
              const char       *name)
{
  InternetAddressList *list;
  char *text;

  if (!legacy && !header_needs_repair (message, name))
    {
      list = g_object_ref (g_mime_message_get_addresses (message, type));
    }
  else
    {
      GMimeHeaderList *headers = message_headers (message);
      int count = g_mime_header_list_get_count (headers);

      list = internet_address_list_new ();
      for (int i = 0; i < count; i++)
        {
          GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);
          const char *raw = g_mime_header_get_raw_value (header);
          g_autofree char *repaired = NULL;
          InternetAddressList *parsed;

          if (raw == NULL || g_ascii_strcasecmp (g_mime_header_get_name (header), name) != 0)
            continue;

          repaired = repair_encoded_words (raw);
          parsed = internet_address_list_parse (walk_options (w), repaired ? repaired : raw);
          if (parsed != NULL)
            {
              internet_address_list_append (list, parsed);
              g_object_unref (parsed);
            }
        }
    }

  text = take_header_text (format_addresses (list));
  g_object_unref (list);

  /* a header with no address GMime can make out: show what it says */
  if (text == NULL)
    text = decode_text_header (w, raw_header (message, name));

  return text;
}

/* A message id as we keep it: valid UTF-8 without whitespace, which
 * would break the space-separated references, nor angle brackets. */
static char *
clean_id (const char *id)
{
  char *valid = g_utf8_make_valid (id, -1);
  char *in;
  char *out = valid;

  for (in = valid; *in != '\0'; in++)
    if ((guchar) *in > 0x20 && *in != 0x7f && *in != '<' && *in != '>')
      *out++ = *in;
  *out = '\0';

  return valid;
}

static void
add_id (GPtrArray *ids,
        char      *id)
{
  if (*id == '\0')
    {
      g_free (id);
      return;
    }

  for (guint i = 0; i < ids->len; i++)
    if (strcmp (g_ptr_array_index (ids, i), id) == 0)
      {
        g_free (id);
        return;
      }

  g_ptr_array_add (ids, id);
}

/* The <ids> in @raw, in order, without duplicates. GMime's parser skips
 * comments, phrases and other junk between them, but stops at a comma,
 * which some mailers put between ids: those become spaces first. With
 * @bare, when there is no <id> at all, words with an '@' count as ids. */
static GPtrArray *
parse_ids (const char *raw,
           gboolean    bare)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  GMimeReferences *refs;
  char *text;
  gboolean in_id = FALSE;

  if (raw == NULL)
    return ids;

  text = g_strdup (raw);
  for (char *p = text; *p != '\0'; p++)
    {
      if (*p == '<')
        in_id = TRUE;
      else if (*p == '>')
        in_id = FALSE;
      else if (*p == ',' && !in_id)
        *p = ' ';
    }

  refs = g_mime_references_parse (NULL, text);
  if (refs != NULL)
    {
      int count = g_mime_references_length (refs);

      for (int i = 0; i < count; i++)
        add_id (ids, clean_id (g_mime_references_get_message_id (refs, i)));
      g_mime_references_free (refs);
    }

  if (ids->len == 0 && bare)
    {
      char **words = g_strsplit_set (text, " \t\r\n", -1);

      for (guint i = 0; words[i] != NULL; i++)
        {
          char *word = words[i];

          if (strchr (word, '@') == NULL || strchr (word, '<') != NULL || strchr (word, '>') != NULL)
            continue;

          g_strdelimit (word, "\"'();", ' ');
          add_id (ids, clean_id (word));
        }

      g_strfreev (words);
    }

  g_free (text);

  return ids;
}

static char *
join_ids (GPtrArray *ids)
{
  if (ids->len == 0)
    return NULL;

  g_ptr_array_add (ids, NULL);
  return g_strjoinv (" ", (char **) ids->pdata);
}

static void
fill_ids (LbMessageSummary *summary,
          GMimeMessage     *message)
{
  const char *raw;
  GPtrArray *ids;

  raw = raw_header (message, "Message-ID");
  ids = parse_ids (raw, FALSE);
  if (ids->len > 0)
    summary->message_id = g_strdup (g_ptr_array_index (ids, 0));
  else if (raw != NULL)
    summary->message_id = take_header_text (g_strdelimit (g_strdup (raw), "<>", ' '));
  g_ptr_array_unref (ids);

  ids = parse_ids (raw_header (message, "In-Reply-To"), TRUE);
  if (ids->len > 0)
    summary->in_reply_to = g_strdup (g_ptr_array_index (ids, 0));
  g_ptr_array_unref (ids);

  ids = parse_ids (raw_header (message, "References"), TRUE);
  summary->references = join_ids (ids);
  g_ptr_array_unref (ids);

  if (summary->references == NULL)
    summary->references = g_strdup (summary->in_reply_to);
}

/* The Date header as seconds since the epoch, if it is believable: after
 * 1970 and no more than a day after the message arrived (or, if the
 * arrival time is unknown, after now). Otherwise the arrival time. */
static gint64
date_of (GMimeMessage *message,
         gint64        fallback_date)
{
  GDateTime *date = g_mime_message_get_date (message);
  gint64 latest;
  gint64 seconds;

  if (date == NULL)
    return fallback_date;

  seconds = g_date_time_to_unix (date);
  latest = fallback_date > 0 ? fallback_date : g_get_real_time () / G_USEC_PER_SEC;

  if (seconds <= 0 || seconds > latest + DATE_FUTURE_SLACK)
    return fallback_date;

  return seconds;
}

/* ---- entry point ----------------------------------------------------- */

static gboolean
is_all_whitespace (const guint8 *data,
                   gsize         len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isspace (data[i]))
      return FALSE;

  return TRUE;
}

/* The stream reads @array in place: it does not own it, and everything
 * made from it (the parser, the message, the parts' substreams, which
 * point at @array itself) must be gone before @array is. GMimeStreamMem
 * only writes to its array when written to, which nothing here does. */
static GMimeMessage *
parse_message (GByteArray *array)
{
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *message;

  stream = g_mime_stream_mem_new_with_byte_array (array);
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (stream), FALSE);

  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);

  g_object_unref (parser);
  g_object_unref (stream);

  return message;
}

/**
 * lb_mime_summary_parse:
 * @raw: the message as received (RFC 5322)
 * @fallback_date: the arrival time, seconds since the epoch: the date
 *   when the Date header is missing or not believable
 * @body_text: (out) (optional) (nullable): the readable text of the
 *   message for the full-text index: its plain-text parts and the text of
 *   its HTML parts, UTF-8, at most %LB_MIME_SUMMARY_MAX_BODY_TEXT bytes;
 *   %NULL when there is none
 * @error: return location for an error
 *
 * Reads what the message list needs from a raw message: Message-ID,
 * In-Reply-To and References (without angle brackets), the decoded
 * subject and addresses, the date, the size, whether it has attachments,
 * and a preview of its text. The other fields of the summary are left for
 * the caller. Any bytes give a summary, however broken; only input that
 * is empty or blank is refused.
 *
 * Safe to call from several threads at once (g_mime_init() must have
 * been called).
 *
 * Returns: (transfer full) (nullable): the summary, or %NULL with @error
 *   set if @raw holds no message at all
 */
LbMessageSummary *
lb_mime_summary_parse (GBytes  *raw,
                       gint64   fallback_date,
                       char   **body_text,
                       GError **error)
{
  Walk w = { NULL, };
  GByteArray array = { NULL, 0 };
  LbMessageSummary *summary;
  GMimeMessage *message;
  const guint8 *data;
  gsize len = 0;

  g_return_val_if_fail (raw != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (body_text != NULL)
    *body_text = NULL;

  data = g_bytes_get_data (raw, &len);
  if (len == 0 || is_all_whitespace (data, len))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The message is empty"));
      return NULL;
    }

  if (body_text != NULL)
    w.body = g_string_new (NULL);

  summary = lb_message_summary_new ();
  summary->size = (gint64) len;
  summary->date = fallback_date;

  /* the caller's bytes, lent to GMime for this call only */
  array.data = (guint8 *) data;
  array.len = (guint) MIN (len, G_MAXUINT);
  message = parse_message (&array);
  if (message == NULL)
    {
      /* Not even a header GMime can make out: keep what text there is. */
      add_text (&w, convert_to_utf8 (&w, (const char *) data, MIN (len, PLAIN_READ_MAX), NULL),
                FALSE);
    }
  else
    {
      gboolean legacy = has_legacy_headers (message);

      walk_object (&w, g_mime_message_get_mime_part (message), TRUE, 0);

      summary->subject = subject_of (&w, message, legacy);
      summary->from = addresses_of (&w, message, legacy, GMIME_ADDRESS_TYPE_FROM, "From");
      summary->to = addresses_of (&w, message, legacy, GMIME_ADDRESS_TYPE_TO, "To");
      summary->cc = addresses_of (&w, message, legacy, GMIME_ADDRESS_TYPE_CC, "Cc");
      summary->date = date_of (message, fallback_date);
      fill_ids (summary, message);

      g_object_unref (message);
    }

  summary->has_attachments = w.has_attachments;

  /* The first text/plain part, else the first HTML part; if all there is
   * is quoted text or a signature, that rather than nothing. */
  for (guint i = 0; i < 4 && summary->preview == NULL; i++)
    {
      const char *text = i % 2 == 0 ? w.plain : w.html;

      if (text != NULL)
        summary->preview = make_preview (text, i < 2);
    }

  if (body_text != NULL && w.body->len > 0)
    {
      *body_text = g_string_free (w.body, FALSE);
      w.body = NULL;
    }

  walk_clear (&w);

  return summary;
}

/* ---- headers from elsewhere ------------------------------------------ */

/* An IMAP server hands over the headers a list needs already split out
 * (ENVELOPE, HEADER.FIELDS), so the sync does not parse whole messages;
 * these read those pieces the way lb_mime_summary_parse() reads a whole
 * message, so a message looks the same however it arrived. */

static GMimeParserOptions *
fallback_options (void)
{
  static gsize options;

  if (g_once_init_enter (&options))
    {
      const char *charsets[] = { "UTF-8", "windows-1252", NULL };
      GMimeParserOptions *made = g_mime_parser_options_new ();

      g_mime_parser_options_set_fallback_charsets (made, charsets);
      g_once_init_leave (&options, (gsize) made);
    }

  return (GMimeParserOptions *) options;
}

static gboolean
needs_decoding (const char *raw)
{
  for (const char *p = raw; *p != '\0'; p++)
    if ((guchar) *p >= 0x80 || (p[0] == '=' && p[1] == '?') || (guchar) *p < 0x20)
      return TRUE;
  return FALSE;
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

static gboolean
is_utf8_charset (const char *charset,
                 gsize       len)
{
  /* RFC 2231 language suffix: "utf-8*ru" */
  const char *star = memchr (charset, '*', len);

  if (star != NULL)
    len = star - charset;
  return ((len == 5 && g_ascii_strncasecmp (charset, "utf-8", 5) == 0) ||
          (len == 4 && g_ascii_strncasecmp (charset, "utf8", 4) == 0) ||
          (len == 8 && g_ascii_strncasecmp (charset, "us-ascii", 8) == 0));
}

/* The common case, fast: ASCII text with RFC 2047 words in UTF-8 (the
 * charset of nearly all mail written today), decoded without iconv.
 * Returns NULL for anything else (other charsets, raw 8-bit, bytes that
 * do not make UTF-8), which GMime then decodes. */
static char *
decode_utf8_words (const char *raw)
{
  GString *out = g_string_sized_new (strlen (raw));
  const char *p = raw;
  const char *after_word = NULL;   /* the end of the last encoded word */

  while (*p != '\0')
    {
      EncodedWord word;

      if ((guchar) *p >= 0x80)
        goto fail;

      if (p[0] == '=' && p[1] == '?' && scan_encoded_word (p, &word))
        {
          if (!is_utf8_charset (word.charset, word.charset_len))
            goto fail;

          /* whitespace between two encoded words is not text */
          if (after_word != NULL)
            {
              const char *q = after_word;

              while (q < p && (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n'))
                q++;
              if (q == p)
                g_string_truncate (out, out->len - (p - after_word));
            }

          if (word.base64)
            {
              gsize len = out->len;
              int state = 0;
              guint save = 0;

              g_string_set_size (out, len + word.payload_len * 3 / 4 + 3);
              len += g_base64_decode_step (word.payload, word.payload_len,
                                           (guchar *) out->str + len, &state, &save);
              g_string_set_size (out, len);
            }
          else
            {
              const char *c = word.payload;
              const char *end = word.payload + word.payload_len;
              const char *q_marker = word.charset + word.charset_len + 1;

              if (*q_marker != 'Q' && *q_marker != 'q')
                goto fail;
              for (; c < end; c++)
                {
                  if (*c == '_')
                    g_string_append_c (out, ' ');
                  else if (*c == '=' && c + 2 < end && hex_value (c[1]) >= 0 && hex_value (c[2]) >= 0)
                    {
                      g_string_append_c (out, (char) (hex_value (c[1]) * 16 + hex_value (c[2])));
                      c += 2;
                    }
                  else
                    g_string_append_c (out, *c);
                }
            }

          p = after_word = word.end;
          continue;
        }

      g_string_append_c (out, *p);
      p++;
      if (after_word != NULL && p[-1] != ' ' && p[-1] != '\t' && p[-1] != '\r' && p[-1] != '\n')
        after_word = NULL;
    }

  if (!g_utf8_validate (out->str, out->len, NULL) || memchr (out->str, '\0', out->len) != NULL)
    goto fail;
  return g_string_free (out, FALSE);

fail:
  g_string_free (out, TRUE);
  return NULL;
}

/* glibc unloads a charset's conversion module (munmap, which stops every
 * thread of the process for a TLB flush) a little after its last
 * converter closes, and GMime opens and closes a converter for each
 * header it decodes: a sync of thousands of headers in windows-1251 or
 * KOI8-R loaded and unloaded the module thousands of times. One converter
 * kept open per charset seen keeps its module loaded; decoding itself is
 * left to GMime, unchanged. */
#define MAX_KEPT_CHARSETS 64

static void
keep_charset_loaded (const char *charset,
                     gsize       len)
{
  static GMutex lock;
  static GHashTable *kept;   /* lowercase name -> iconv_t, (iconv_t) -1 when unknown */
  g_autofree char *name = NULL;
  const char *star = memchr (charset, '*', len);

  /* RFC 2231 language suffix: "koi8-r*ru" */
  if (star != NULL)
    len = star - charset;
  if (len == 0 || len > 64 || is_utf8_charset (charset, len))
    return;
  name = g_ascii_strdown (charset, len);

  g_mutex_lock (&lock);
  if (kept == NULL)
    kept = g_hash_table_new (g_str_hash, g_str_equal);
  if (g_hash_table_size (kept) < MAX_KEPT_CHARSETS && !g_hash_table_contains (kept, name))
    {
      /* never closed: lives as long as the process, as the module would */
      iconv_t cd = g_mime_iconv_open ("UTF-8", name);

      g_hash_table_insert (kept, g_steal_pointer (&name), cd);
    }
  g_mutex_unlock (&lock);
}

/* Keeps the modules loaded that GMime will use to decode @raw: the
 * charsets of its encoded words, and for raw 8-bit text the fallbacks. */
static void
keep_charsets_loaded (const char *raw)
{
  gboolean eight_bit = FALSE;

  for (const char *p = raw; *p != '\0'; p++)
    {
      EncodedWord word;

      if ((guchar) *p >= 0x80)
        eight_bit = TRUE;
      else if (p[0] == '=' && p[1] == '?' && scan_encoded_word (p, &word))
        {
          keep_charset_loaded (word.charset, word.charset_len);
          p = word.end - 1;
        }
    }

  if (eight_bit)
    {
      const char *locale = g_mime_locale_charset ();

      keep_charset_loaded ("windows-1252", strlen ("windows-1252"));
      keep_charset_loaded ("iso-8859-1", strlen ("iso-8859-1"));
      if (locale != NULL)
        keep_charset_loaded (locale, strlen (locale));
    }
}

/**
 * lb_mime_decode_header_text:
 * @raw: (nullable): a header value as sent: folded, with RFC 2047 words or
 *   raw 8-bit bytes
 *
 * Returns: (transfer full) (nullable): the text as UTF-8 on one line, or
 *   %NULL when nothing is left
 */
char *
lb_mime_decode_header_text (const char *raw)
{
  char *unfolded;
  char *repaired;
  char *decoded;

  if (raw == NULL)
    return NULL;
  if (!needs_decoding (raw))
    return take_header_text (g_strdup (raw));
  decoded = decode_utf8_words (raw);
  if (decoded != NULL)
    return take_header_text (decoded);

  unfolded = g_mime_utils_header_unfold (raw);
  repaired = repair_encoded_words (unfolded);
  if (repaired != NULL)
    {
      g_free (unfolded);
      unfolded = repaired;
    }
  keep_charsets_loaded (unfolded);
  decoded = g_mime_utils_header_decode_text (g_utf8_validate (raw, -1, NULL) ? NULL : fallback_options (),
                                             unfolded);
  g_free (unfolded);

  return take_header_text (decoded);
}

/**
 * lb_mime_append_address:
 * @out: where the address list is being written
 * @name: (nullable): the display name as sent (RFC 2047 words allowed)
 * @addr: (nullable): the address, "user@domain"
 *
 * Appends one mailbox to @out as #LbMessageSummary.from and the other
 * address fields write it ("Name <addr>" or "addr"), with ", " before it
 * unless @out is empty.
 */
/* ASCII with no control characters, no RFC 2047 word, nothing
 * g_mime_utils_quote_string() would quote or escape: decoding gives the
 * same text with its whitespace folded, quoting leaves it alone. */
static gboolean
is_plain_name (const char *name)
{
  for (const char *p = name; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (!g_ascii_isalnum (c) && c != ' ' && c != '-' && c != '_' && c != '\'' &&
          c != '!' && c != '#' && c != '$' && c != '%' && c != '&' && c != '*' &&
          c != '+' && c != '^' && c != '`' && c != '{' && c != '|' && c != '}' && c != '~')
        return FALSE;
    }
  return TRUE;
}

/* appends @text (spaces only, no other whitespace) like fold_whitespace() */
static void
append_folded (GString    *out,
               const char *text)
{
  gboolean space = FALSE;
  gboolean any = FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == ' ')
        {
          space = any;
          continue;
        }
      if (space)
        g_string_append_c (out, ' ');
      space = FALSE;
      any = TRUE;
      g_string_append_c (out, *p);
    }
}

/* whether g_mime_utils_quote_string() would change @text: an RFC 2045
 * tspecial or a dot outside quotes, or a backslash anywhere */
static gboolean
needs_quoting (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if (strchr ("()<>@,;:\\\"/[]?=.", *p) != NULL)
      return TRUE;
  return FALSE;
}

/* @name decoded and quoted as an address list shows it, NULL when
 * nothing is left of it */
static char *
render_name (const char *name)
{
  char *decoded = lb_mime_decode_header_text (name);
  char *quoted;

  if (decoded == NULL || !needs_quoting (decoded))
    return decoded;
  quoted = g_mime_utils_quote_string (decoded);
  g_free (decoded);
  return quoted;
}

/* A mailbox's names come again and again (the same senders, the same
 * lists), and decoding RFC 2047 words, above all in legacy charsets,
 * costs: the names rendered are kept, for the life of the process, up to
 * NAME_CACHE_MAX of them (then the cache starts over), short names only.
 * Rendering depends on nothing but the name. */
#define NAME_CACHE_MAX      2048
#define NAME_CACHE_MAX_LEN  128

static GHashTable *name_cache;   /* raw name -> rendered name, "" for none */
static GMutex name_cache_lock;

/* Appends @name as lb_mime_append_address() does, with ", " before it
 * when @out is not empty: the rendered name and " <@addr>", or @addr
 * alone when nothing is left of the name, or nothing at all when @addr
 * is empty too. */
static void
append_rendered_name (GString    *out,
                      const char *name,
                      const char *addr)
{
  gboolean has_addr = addr != NULL && *addr != '\0';
  g_autofree char *rendered = NULL;
  const char *text;

  if (strlen (name) <= NAME_CACHE_MAX_LEN)
    {
      g_mutex_lock (&name_cache_lock);
      text = name_cache != NULL ? g_hash_table_lookup (name_cache, name) : NULL;
      if (text != NULL)
        {
          if (*text != '\0' || has_addr)
            {
              if (out->len > 0)
                g_string_append (out, ", ");
              if (*text != '\0')
                g_string_append (out, text);
            }
          g_mutex_unlock (&name_cache_lock);
          goto addr;
        }
      g_mutex_unlock (&name_cache_lock);

      rendered = render_name (name);

      g_mutex_lock (&name_cache_lock);
      if (name_cache == NULL || g_hash_table_size (name_cache) >= NAME_CACHE_MAX)
        {
          g_clear_pointer (&name_cache, g_hash_table_unref);
          name_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
        }
      g_hash_table_replace (name_cache, g_strdup (name), g_strdup (rendered != NULL ? rendered : ""));
      g_mutex_unlock (&name_cache_lock);
    }
  else
    rendered = render_name (name);

  text = rendered != NULL ? rendered : "";
  if (*text == '\0' && !has_addr)
    return;
  if (out->len > 0)
    g_string_append (out, ", ");
  g_string_append (out, text);

addr:
  if (!has_addr)
    return;
  if (*text != '\0')
    {
      g_string_append (out, " <");
      g_string_append (out, addr);
      g_string_append_c (out, '>');
    }
  else
    g_string_append (out, addr);
}

void
lb_mime_append_address (GString    *out,
                        const char *name,
                        const char *addr)
{
  g_autofree char *made_valid = NULL;
  const char *valid_addr = addr;

  /* nearly always valid already: no copy then */
  if (addr != NULL && !g_utf8_validate (addr, -1, NULL))
    valid_addr = made_valid = g_utf8_make_valid (addr, -1);

  if (name != NULL && !is_plain_name (name))
    {
      append_rendered_name (out, name, valid_addr);
      return;
    }

  /* a plain name (ASCII, nothing to decode or quote) goes in as it is,
   * its whitespace folded: what decoding and quoting would give */
  if (name == NULL || is_blank (name))
    {
      if (valid_addr == NULL || *valid_addr == '\0')
        return;
      if (out->len > 0)
        g_string_append (out, ", ");
      g_string_append (out, valid_addr);
      return;
    }

  if (out->len > 0)
    g_string_append (out, ", ");
  append_folded (out, name);
  if (valid_addr != NULL && *valid_addr != '\0')
    {
      g_string_append (out, " <");
      g_string_append (out, valid_addr);
      g_string_append_c (out, '>');
    }
}

/* RFC 5322 atext */
static const gboolean atext[256] = {
  ['0' ... '9'] = TRUE, ['A' ... 'Z'] = TRUE, ['a' ... 'z'] = TRUE,
  ['!'] = TRUE, ['#'] = TRUE, ['$'] = TRUE, ['%'] = TRUE, ['&'] = TRUE, ['\''] = TRUE,
  ['*'] = TRUE, ['+'] = TRUE, ['-'] = TRUE, ['/'] = TRUE, ['='] = TRUE, ['?'] = TRUE,
  ['^'] = TRUE, ['_'] = TRUE, ['`'] = TRUE, ['{'] = TRUE, ['|'] = TRUE, ['}'] = TRUE,
  ['~'] = TRUE,
};

static inline gboolean
is_id_char (char c)
{
  return atext[(guchar) c];
}

/* Whether @id (up to @end) is a dot-atom, '@', a dot-atom: what GMime's
 * parser gives back as it is. */
static gboolean
is_simple_id (const char *id,
              const char *end)
{
  guint ats = 0;
  char prev = '@';   /* neither part starts with a dot */

  for (const char *p = id; p < end; p++)
    {
      if (*p == '@')
        {
          if (prev == '@' || prev == '.' || ++ats > 1)
            return FALSE;
        }
      else if (*p == '.')
        {
          if (prev == '@' || prev == '.')
            return FALSE;
        }
      else if (!is_id_char (*p))
        return FALSE;
      prev = *p;
    }
  return ats == 1 && prev != '@' && prev != '.';
}

/* whether @id (@len bytes) is among the space-separated ids in @out */
static gboolean
has_id (GString    *out,
        const char *id,
        gsize       len)
{
  const char *p = out->str;
  const char *end = out->str + out->len;

  while (p < end)
    {
      const char *space = memchr (p, ' ', end - p);
      const char *stop = space != NULL ? space : end;

      if ((gsize) (stop - p) == len && memcmp (p, id, len) == 0)
        return TRUE;
      p = stop + 1;
    }
  return FALSE;
}

/* The common case, without GMime: ids of the simplest form in angle
 * brackets with whitespace between them (what mail programs write),
 * which parse_ids() would return as they are: the first, or with @all
 * all of them without duplicates, joined as lb_mime_parse_ids() returns
 * them. NULL for anything else, and when there is no id. */
static char *
parse_simple_ids (const char *raw,
                  gboolean    all)
{
  GString *out = NULL;
  const char *first = NULL;
  gsize first_len = 0;
  const char *p = raw;

  for (;;)
    {
      const char *end;

      while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
      if (*p == '\0')
        break;
      if (*p != '<')
        goto fail;
      end = strchr (p + 1, '>');
      if (end == NULL || !is_simple_id (p + 1, end))
        goto fail;
      if (first == NULL)
        {
          first = p + 1;
          first_len = end - first;
        }
      if (all)
        {
          if (out == NULL)
            out = g_string_sized_new (strlen (p));
          if (!has_id (out, p + 1, end - (p + 1)))
            {
              if (out->len > 0)
                g_string_append_c (out, ' ');
              g_string_append_len (out, p + 1, end - (p + 1));
            }
        }
      p = end + 1;
    }

  if (first == NULL)
    goto fail;
  if (all)
    return g_string_free (out, FALSE);
  return g_strndup (first, first_len);

fail:
  if (out != NULL)
    g_string_free (out, TRUE);
  return NULL;
}

/**
 * lb_mime_parse_ids:
 * @raw: (nullable): a Message-ID, In-Reply-To or References value as sent
 * @all: whether to return all ids (References) or only the first
 *
 * Returns: (transfer full) (nullable): the ids without angle brackets,
 *   separated by single spaces, as #LbMessageSummary keeps them; %NULL
 *   when there is none
 */
char *
lb_mime_parse_ids (const char *raw,
                   gboolean    all)
{
  GPtrArray *ids;
  char *result = NULL;

  if (raw == NULL)
    return NULL;

  result = parse_simple_ids (raw, all);
  if (result != NULL)
    return result;

  ids = parse_ids (raw, TRUE);
  if (ids->len > 0)
    result = all ? join_ids (ids) : g_strdup (g_ptr_array_index (ids, 0));
  g_ptr_array_unref (ids);

  return result;
}

/* Reads @n digits at @p. */
static gboolean
fixed_digits (const char *p,
              guint       n,
              int        *out)
{
  int v = 0;

  for (guint i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (p[i]))
        return FALSE;
      v = v * 10 + (p[i] - '0');
    }
  *out = v;
  return TRUE;
}

static gint64
days_from_civil (gint64 y,
                 int    m,
                 int    d)
{
  gint64 era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* The common case, without GMime: "Fri, 8 Sep 2023 10:00:25 +0100" as
 * mail programs write it (the day of the week optional, anything after
 * the zone ignored, as GMime does), every field in range. Returns FALSE
 * for anything else, which GMime then reads. */
static gboolean
parse_simple_date (const char *raw,
                   gint64     *out)
{
  static const char days[7][4] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  static const int month_days[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  const char *p = raw;
  int day, month = -1, year, hour, minute, second, tz_hours, tz_minutes, offset;
  gboolean leap;

  while (*p == ' ')
    p++;
  if (g_ascii_isalpha (p[0]))
    {
      guint i;

      for (i = 0; i < G_N_ELEMENTS (days); i++)
        if (g_ascii_strncasecmp (p, days[i], 3) == 0)
          break;
      if (i == G_N_ELEMENTS (days) || p[3] != ',' || p[4] != ' ')
        return FALSE;
      p += 5;
    }

  if (fixed_digits (p, 2, &day))
    p += 2;
  else if (fixed_digits (p, 1, &day))
    p += 1;
  else
    return FALSE;
  if (*p++ != ' ')
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (months); i++)
    if (g_ascii_strncasecmp (p, months[i], 3) == 0)
      {
        month = (int) i;
        break;
      }
  if (month < 0 || p[3] != ' ')
    return FALSE;
  p += 4;

  if (!fixed_digits (p, 4, &year) || p[4] != ' ' ||
      !fixed_digits (p + 5, 2, &hour) || p[7] != ':' ||
      !fixed_digits (p + 8, 2, &minute) || p[10] != ':' ||
      !fixed_digits (p + 11, 2, &second) || p[13] != ' ' ||
      (p[14] != '+' && p[14] != '-') ||
      !fixed_digits (p + 15, 2, &tz_hours) || !fixed_digits (p + 17, 2, &tz_minutes) ||
      (p[19] != '\0' && p[19] != ' '))
    return FALSE;

  leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < 1970 || day < 1 || day > month_days[month] || (month == 1 && day == 29 && !leap) ||
      hour > 23 || minute > 59 || second > 59 || tz_hours > 23 || tz_minutes > 59)
    return FALSE;

  offset = (tz_hours * 60 + tz_minutes) * 60;
  if (p[14] == '-')
    offset = -offset;
  *out = days_from_civil (year, month + 1, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  return TRUE;
}

/**
 * lb_mime_parse_date:
 * @raw: (nullable): a Date header value
 * @fallback_date: the arrival time, seconds since the epoch
 *
 * Returns: the date, seconds since the epoch, by the rules of
 *   lb_mime_summary_parse(): @fallback_date when @raw is missing or not
 *   believable
 */
gint64
lb_mime_parse_date (const char *raw,
                    gint64      fallback_date)
{
  g_autoptr(GDateTime) date = NULL;
  gint64 latest;
  gint64 seconds;

  if (raw == NULL)
    return fallback_date;

  if (!parse_simple_date (raw, &seconds))
    {
      date = g_mime_utils_header_decode_date (raw);
      if (date == NULL)
        return fallback_date;
      seconds = g_date_time_to_unix (date);
    }

  latest = fallback_date > 0 ? fallback_date : g_get_real_time () / G_USEC_PER_SEC;
  if (seconds <= 0 || seconds > latest + DATE_FUTURE_SLACK)
    return fallback_date;

  return seconds;
}
