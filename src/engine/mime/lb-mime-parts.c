/* lb-mime-parts.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-mime"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gmime/gmime.h>

#include "lb-mime-parts.h"
#include "lb-mime-private.h"
#include "lb-mime-summary.h"

/* lb_mime_message_parse() reads a whole message into the flat list of
 * parts the message view shows, in this order:
 *
 * - the body parts in the order they come in the message: text, HTML,
 *   inline images (an image/... part with Content-Disposition: inline, or
 *   one the HTML root of its multipart/related refers to by cid: or by
 *   Content-Location), broken parts where they were found, and nested
 *   messages (message/rfc822), each a MESSAGE entry followed by its own
 *   parts (body parts, then attachments) at one more depth;
 * - then the attachments: parts with Content-Disposition: attachment, and
 *   every other leaf that is not text to read. A nested message that is
 *   itself an attachment comes here, with its parts after it.
 *
 * The alternatives of a multipart/alternative that can be read (plain
 * text, HTML, other text) all come in the list, with one number in
 * @alternative so a view shows only one; an alternative that is not text
 * (an invitation, say) is an attachment. Signatures (PGP, S/MIME) and the
 * control part of PGP/MIME encryption are left out: they are the message
 * itself, not something to read or save.
 *
 * Nothing in the input is trusted: the tree is walked to a bounded depth,
 * every string is valid UTF-8, file names are made safe to save as, and a
 * part that cannot be decoded (broken base64 or quoted-printable, a
 * multipart whose boundary never comes, a part cut off by the end of the
 * message) is reported as such while the rest of the message is read. */

#define MAX_DEPTH       64
#define MAX_QUOTE_LEVEL 32
#define MAX_NAME_BYTES  200

typedef struct
{
  GMimeParserOptions *options;
  const guint8       *raw;
  gsize               raw_len;
  char               *hint;             /* a legacy charset declared in the message */
  gboolean            hint_done;
  gboolean            truncated;        /* GMime found the end of the input too early */
  gboolean            no_boundary;      /* a multipart without a boundary parameter */
  guint               n_alternatives;
  guint               alternative;      /* the multipart/alternative being read, or 0 */
  LbMimePart         *last_leaf;        /* the last leaf read: the one a truncation cuts */
  gboolean            any_multipart_parts;
} Ctx;

typedef struct
{
  GPtrArray *body;
  GPtrArray *attachments;
  guint      depth;                     /* display depth */
} Level;

static void walk_object (Ctx         *ctx,
                         Level       *lv,
                         GMimeObject *object,
                         guint        nesting);

/* ---- small helpers --------------------------------------------------- */

static LbMimePart *
part_new (LbMimePartKind kind,
          guint          depth)
{
  LbMimePart *part = g_new0 (LbMimePart, 1);

  part->kind = kind;
  part->depth = depth;
  return part;
}

static gboolean
is_blank_len (const char *text,
              gsize       len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isspace (text[i]))
      return FALSE;
  return TRUE;
}

/* Runs of whitespace and control characters become one space, both ends
 * trimmed; NULL when nothing is left. Takes @text. */
static char *
take_folded (char *text)
{
  char *valid;
  char *out;
  gboolean space = FALSE;

  if (text == NULL)
    return NULL;

  valid = g_utf8_make_valid (text, -1);
  g_free (text);

  out = valid;
  for (const char *in = valid; *in != '\0'; in++)
    {
      guchar c = (guchar) *in;

      if (c <= 0x20 || c == 0x7f)
        {
          space = out != valid;
          continue;
        }
      if (space)
        *out++ = ' ';
      space = FALSE;
      *out++ = (char) c;
    }
  *out = '\0';

  if (*valid == '\0')
    {
      g_free (valid);
      return NULL;
    }
  return valid;
}

static char *
lower_mime_type (GMimeContentType *type)
{
  g_autofree char *mime_type = NULL;
  char *lower;

  if (type == NULL)
    return g_strdup ("application/octet-stream");
  mime_type = g_mime_content_type_get_mime_type (type);
  lower = g_ascii_strdown (mime_type != NULL ? mime_type : "application/octet-stream", -1);
  return take_folded (lower);
}

/* ---- character sets -------------------------------------------------- */

static gboolean
is_utf8_name (const char *charset)
{
  return g_ascii_strcasecmp (charset, "utf-8") == 0 || g_ascii_strcasecmp (charset, "utf8") == 0;
}

static gboolean
is_ascii_name (const char *charset)
{
  return g_ascii_strcasecmp (charset, "us-ascii") == 0 || g_ascii_strcasecmp (charset, "ascii") == 0 ||
         g_ascii_strcasecmp (charset, "ansi_x3.4-1968") == 0;
}

/* Charsets that tell nothing about what undeclared 8-bit text is in. */
static gboolean
is_useless_hint (const char *charset)
{
  return g_ascii_strncasecmp (charset, "utf", 3) == 0 || g_ascii_strncasecmp (charset, "ucs", 3) == 0 ||
         g_ascii_strncasecmp (charset, "iso-2022", 8) == 0 || is_ascii_name (charset) ||
         g_ascii_strncasecmp (charset, "unknown", 7) == 0 ||
         g_ascii_strncasecmp (charset, "x-unknown", 9) == 0;
}

/* Labels mail programs put on windows-1252 text: its superset is what
 * they mean (as browsers read them). */
static gboolean
is_latin1_name (const char *charset)
{
  return g_ascii_strcasecmp (charset, "iso-8859-1") == 0 ||
         g_ascii_strcasecmp (charset, "iso8859-1") == 0 ||
         g_ascii_strcasecmp (charset, "latin1") == 0 || g_ascii_strcasecmp (charset, "l1") == 0;
}

/* The first charset= value in the raw message that names a legacy
 * charset iconv knows: what undeclared 8-bit bytes in the same message
 * are most likely in. One pass over the bytes, once per message. */
static const char *
charset_hint (Ctx *ctx)
{
  const guint8 *p = ctx->raw;
  const guint8 *end = ctx->raw + ctx->raw_len;

  if (ctx->hint_done)
    return ctx->hint;
  ctx->hint_done = TRUE;

  while (p < end && (p = memchr (p, '=', (gsize) (end - p))) != NULL)
    {
      const guint8 *v = p + 1;
      const guint8 *stop;
      g_autofree char *name = NULL;
      iconv_t cd;

      if (p - ctx->raw < 7 || g_ascii_strncasecmp ((const char *) p - 7, "charset", 7) != 0)
        {
          p++;
          continue;
        }
      p++;
      if (v < end && *v == '"')
        v++;
      for (stop = v; stop < end && stop - v < 40 && (g_ascii_isalnum (*stop) || strchr ("-_.:", *stop) != NULL);
           stop++)
        ;
      if (stop == v)
        continue;
      name = g_strndup ((const char *) v, (gsize) (stop - v));
      if (is_useless_hint (name) || is_latin1_name (name))
        continue;
      cd = g_mime_iconv_open ("UTF-8", name);
      if (cd == (iconv_t) -1)
        continue;
      g_mime_iconv_close (cd);
      ctx->hint = g_steal_pointer (&name);
      break;
    }

  return ctx->hint;
}

/* @data in @charset, or NULL (with @errors unset) when iconv does not
 * know @charset. */
static char *
convert_from (const char *charset,
              const char *data,
              gsize       len,
              guint      *errors)
{
  iconv_t cd = g_mime_iconv_open ("UTF-8", charset);
  char *text;

  if (cd == (iconv_t) -1)
    return NULL;
  text = lb_mime_iconv_to_utf8 (cd, data, len, TRUE, errors);
  g_mime_iconv_close (cd);

  if (!g_utf8_validate (text, -1, NULL))
    {
      char *valid = g_utf8_make_valid (text, -1);

      g_free (text);
      text = valid;
    }
  return text;
}

static char *
copy_utf8 (const char *data,
           gsize       len)
{
  char *text = g_utf8_make_valid (data, (gssize) len);

  /* g_utf8_make_valid() stops at nothing, but a NUL would end the text */
  for (char *p = text; p < text + strlen (text); p++)
    if (*p == '\0')
      *p = ' ';
  return text;
}

/* 8-bit text whose charset we do not know: the message's other charset
 * if it reads cleanly, else windows-1252 (which reads anything). Sets
 * @used to the charset's name. */
static char *
guess_legacy (Ctx         *ctx,
              const char  *data,
              gsize        len,
              const char **used)
{
  const char *hint = charset_hint (ctx);
  guint errors = 0;
  char *text;

  if (hint != NULL)
    {
      text = convert_from (hint, data, len, &errors);
      if (text != NULL && errors == 0)
        {
          *used = hint;
          return text;
        }
      g_free (text);
    }

  *used = "windows-1252";
  text = convert_from ("windows-1252", data, len, &errors);
  if (text == NULL)
    {
      *used = "ISO-8859-1";
      text = convert_from ("ISO-8859-1", data, len, &errors);
    }
  if (text == NULL)
    {
      *used = "UTF-8";
      text = copy_utf8 (data, len);
    }
  return text;
}

/* @len bytes of text in @charset (NULL when undeclared) as valid UTF-8.
 * When the charset is unknown, missing for 8-bit text, or not what the
 * text is in, the text is read the most likely way and @problem says so. */
static char *
decode_charset (Ctx         *ctx,
                const char  *data,
                gsize        len,
                const char  *charset,
                char       **problem)
{
  const char *used = NULL;
  guint errors = 0;
  char *text;

  if (charset != NULL && *charset == '\0')
    charset = NULL;

  if (charset == NULL || is_utf8_name (charset) || is_ascii_name (charset))
    {
      if (g_utf8_validate (data, (gssize) len, NULL) && memchr (data, '\0', len) == NULL)
        return g_strndup (data, len);

      text = guess_legacy (ctx, data, len, &used);
      if (charset == NULL)
        *problem = g_strdup_printf (_("The text does not say which character set it is in; "
                                      "it was read as %s."),
                                    used);
      else
        *problem = g_strdup_printf (_("The text is not in the character set it names (%s); "
                                      "it was read as %s."),
                                    charset, used);
      return text;
    }

  text = convert_from (is_latin1_name (charset) ? "windows-1252" : charset, data, len, &errors);
  if (text == NULL)
    {
      g_autofree char *shown = take_folded (g_strdup (charset));

      if (g_utf8_validate (data, (gssize) len, NULL))
        {
          used = "UTF-8";
          text = copy_utf8 (data, len);
        }
      else
        text = guess_legacy (ctx, data, len, &used);
      *problem = g_strdup_printf (_("The character set “%s” is unknown; the text was read as %s."),
                                  shown != NULL ? shown : "", used);
      return text;
    }

  if (errors > 0)
    {
      if (g_utf8_validate (data, (gssize) len, NULL))
        {
          g_free (text);
          *problem = g_strdup_printf (_("The text is not in the character set it names (%s); "
                                        "it was read as %s."),
                                      charset, "UTF-8");
          return copy_utf8 (data, len);
        }
      *problem = g_strdup_printf (_("Some characters could not be read in the character set %s."),
                                  charset);
    }

  return text;
}

/* In place: CRLF and CR become LF, control characters but tab become
 * spaces (U+FFFD and other characters stay). */
static void
normalize_lines (char *text)
{
  char *o = text;

  for (const char *i = text; *i != '\0'; i++)
    {
      guchar c = (guchar) *i;

      if (c == '\r')
        {
          *o++ = '\n';
          if (i[1] == '\n')
            i++;
        }
      else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
        *o++ = ' ';
      else
        *o++ = (char) c;
    }
  *o = '\0';
}

/* ---- text: format=flowed, quotes, signature --------------------------- */

typedef struct
{
  guint    level;
  gboolean signature;
  gboolean blank;
  GString *text;
} Line;

static void
line_free (gpointer data)
{
  Line *line = data;

  g_string_free (line->text, TRUE);
  g_free (line);
}

/* Counts the quote markers at the start of @p (">", "> >", ">>"), and
 * returns where the text starts (one space after the markers dropped). */
static const char *
quote_markers (const char *p,
               const char *end,
               guint      *level)
{
  const char *text = p;

  *level = 0;
  while (p < end && *p == '>')
    {
      (*level)++;
      p++;
      text = p;
      /* "> > x": a space between markers */
      if (p + 1 < end && *p == ' ' && p[1] == '>')
        p++;
    }
  if (*level > 0 && text < end && *text == ' ')
    text++;
  if (*level > MAX_QUOTE_LEVEL)
    *level = MAX_QUOTE_LEVEL;
  return text;
}

/* Splits @text (LF line ends) into lines with their quote level, joining
 * the lines of a format=flowed paragraph (RFC 3676). */
static GPtrArray *
read_lines (const char *text,
            gboolean    flowed,
            gboolean    delsp)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (line_free);
  const char *p = text;
  Line *open = NULL;           /* a flowed line waiting for its continuation */
  gboolean in_signature = FALSE;

  while (*p != '\0')
    {
      const char *eol = strchr (p, '\n');
      const char *end = eol != NULL ? eol : p + strlen (p);
      const char *start;
      gsize len;
      guint level;
      gboolean soft = FALSE;
      gboolean is_sig_sep;

      start = quote_markers (p, end, &level);
      if (flowed && level == 0 && start < end && *start == ' ')
        start++;   /* space-stuffing */
      len = (gsize) (end - start);
      p = eol != NULL ? eol + 1 : end;

      is_sig_sep = level == 0 && ((len == 3 && memcmp (start, "-- ", 3) == 0) ||
                                  (len == 2 && memcmp (start, "--", 2) == 0));

      if (flowed && !is_sig_sep && len > 0 && start[len - 1] == ' ')
        {
          soft = TRUE;
          if (delsp)
            len--;
        }

      if (open != NULL && open->level == level && !is_sig_sep)
        {
          g_string_append_len (open->text, start, len);
          open->blank = open->blank && is_blank_len (start, len);
        }
      else
        {
          if (is_sig_sep)
            in_signature = TRUE;
          else if (level > 0)
            in_signature = FALSE;

          open = g_new0 (Line, 1);
          open->level = level;
          open->signature = in_signature && level == 0;
          open->text = g_string_new_len (start, (gssize) len);
          open->blank = is_blank_len (start, len);
          g_ptr_array_add (lines, open);
        }

      if (!soft)
        open = NULL;
    }

  /* trailing spaces are not text */
  for (guint i = 0; i < lines->len; i++)
    {
      Line *line = g_ptr_array_index (lines, i);

      if (line->signature && line->text->len == 3 && memcmp (line->text->str, "-- ", 3) == 0)
        continue;
      while (line->text->len > 0 && (line->text->str[line->text->len - 1] == ' ' ||
                                     line->text->str[line->text->len - 1] == '\t'))
        g_string_truncate (line->text, line->text->len - 1);
    }

  return lines;
}

/* "On <date>, X wrote:" followed by quoted text belongs to that quote:
 * it moves into the quote's level so a view folds them together. */
static void
attach_attributions (GPtrArray *lines)
{
  for (guint i = 0; i < lines->len; i++)
    {
      Line *line = g_ptr_array_index (lines, i);
      Line *next = NULL;
      guint j;

      if (line->blank || line->signature || line->level >= MAX_QUOTE_LEVEL ||
          !lb_mime_is_attribution (line->text->str, line->text->len))
        continue;

      for (j = i + 1; j < lines->len; j++)
        {
          next = g_ptr_array_index (lines, j);
          if (!next->blank)
            break;
        }
      if (j >= lines->len || next == NULL || next->level <= line->level)
        continue;

      for (guint k = i; k < j; k++)
        ((Line *) g_ptr_array_index (lines, k))->level = next->level;
    }
}

/* Runs of lines of one quote level (and signature or not) as blocks;
 * blank lines between two blocks belong to neither. */
static GPtrArray *
make_blocks (GPtrArray *lines)
{
  GPtrArray *blocks = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_mime_text_block_free);
  GString *current = NULL;
  LbMimeTextBlock *block = NULL;
  guint pending = 0;   /* blank lines seen since the last line of text */

  for (guint i = 0; i < lines->len; i++)
    {
      Line *line = g_ptr_array_index (lines, i);

      if (line->blank)
        {
          pending++;
          continue;
        }

      if (block != NULL && block->quote_level == line->level && block->signature == line->signature)
        {
          for (guint k = 0; k < pending; k++)
            g_string_append_c (current, '\n');
          g_string_append_c (current, '\n');
          g_string_append_len (current, line->text->str, line->text->len);
        }
      else
        {
          if (block != NULL)
            block->text = g_string_free (current, FALSE);
          block = g_new0 (LbMimeTextBlock, 1);
          block->quote_level = line->level;
          block->signature = line->signature;
          current = g_string_new_len (line->text->str, line->text->len);
          g_ptr_array_add (blocks, block);
        }
      pending = 0;
    }

  if (block != NULL)
    block->text = g_string_free (current, FALSE);

  return blocks;
}

static GBytes *
join_blocks (GPtrArray *blocks)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < blocks->len; i++)
    {
      LbMimeTextBlock *block = g_ptr_array_index (blocks, i);

      if (i > 0)
        g_string_append (out, "\n\n");
      g_string_append (out, block->text);
    }

  return g_string_free_to_bytes (out);
}

/* ---- file names ------------------------------------------------------ */

static gboolean
is_unsafe_char (gunichar c)
{
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
         /* bidirectional overrides make "gpj.exe" look like "exe.jpg" */
         (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x200e ||
         c == 0x200f || c == 0x061c || c == 0xfeff;
}

/* A name that is safe to show and to save as, or NULL when nothing of
 * @name is left: valid UTF-8, no directories, no control or
 * direction-changing characters, no leading dots, at most
 * MAX_NAME_BYTES bytes (the extension kept). */
static char *
safe_filename (const char *name)
{
  g_autofree char *valid = NULL;
  const char *base;
  GString *out;
  gboolean space = FALSE;
  const char *dot;

  if (name == NULL)
    return NULL;

  valid = g_utf8_make_valid (name, -1);
  base = valid;
  for (const char *p = valid; *p != '\0'; p++)
    if (*p == '/' || *p == '\\')
      base = p + 1;

  out = g_string_new (NULL);
  for (const char *p = base; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (is_unsafe_char (c))
        continue;
      if (g_unichar_isspace (c))
        {
          space = out->len > 0;
          continue;
        }
      /* no hidden files, no "." or ".." */
      if (c == '.' && out->len == 0)
        continue;
      if (space)
        g_string_append_c (out, ' ');
      space = FALSE;
      g_string_append_unichar (out, c);
    }

  /* Windows drops trailing dots and spaces: "a.exe." */
  while (out->len > 0 && (out->str[out->len - 1] == '.' || out->str[out->len - 1] == ' '))
    g_string_truncate (out, out->len - 1);

  if (out->len > MAX_NAME_BYTES)
    {
      g_autofree char *ext = NULL;
      gsize keep;

      dot = strrchr (out->str, '.');
      if (dot != NULL && strlen (dot) <= 16)
        ext = g_strdup (dot);
      keep = MAX_NAME_BYTES - (ext != NULL ? strlen (ext) : 0);
      while (keep > 0 && ((guchar) out->str[keep] & 0xc0) == 0x80)
        keep--;
      g_string_truncate (out, keep);
      if (ext != NULL)
        g_string_append (out, ext);
    }

  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

static const struct
{
  const char *type;
  const char *ext;
} extensions[] = {
  { "application/pdf", "pdf" }, { "application/zip", "zip" }, { "application/gzip", "gz" },
  { "application/x-gzip", "gz" }, { "application/x-tar", "tar" }, { "application/json", "json" },
  { "application/xml", "xml" }, { "application/msword", "doc" }, { "application/rtf", "rtf" },
  { "application/vnd.ms-excel", "xls" }, { "application/vnd.ms-powerpoint", "ppt" },
  { "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx" },
  { "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx" },
  { "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx" },
  { "application/vnd.oasis.opendocument.text", "odt" },
  { "application/vnd.oasis.opendocument.spreadsheet", "ods" },
  { "application/pgp-encrypted", "asc" }, { "application/pgp-keys", "asc" },
  { "application/pkcs7-mime", "p7m" }, { "application/x-pkcs7-mime", "p7m" },
  { "application/ics", "ics" }, { "image/jpeg", "jpg" }, { "image/pjpeg", "jpg" },
  { "image/png", "png" }, { "image/gif", "gif" }, { "image/webp", "webp" },
  { "image/svg+xml", "svg" }, { "image/bmp", "bmp" }, { "image/tiff", "tiff" },
  { "audio/mpeg", "mp3" }, { "audio/ogg", "ogg" }, { "video/mp4", "mp4" },
  { "text/plain", "txt" }, { "text/html", "html" }, { "text/calendar", "ics" },
  { "text/vcard", "vcf" }, { "text/x-vcard", "vcf" }, { "text/csv", "csv" },
  { "message/rfc822", "eml" }, { "message/global", "eml" },
};

/* "attachment.pdf", "image.png": a name for a part that has none */
static char *
name_from_type (const char *mime_type)
{
  const char *slash = strchr (mime_type, '/');
  const char *base = g_str_has_prefix (mime_type, "image/") ? "image" :
                     g_str_has_prefix (mime_type, "message/") ? "message" : "attachment";
  const char *sub = slash != NULL ? slash + 1 : "";
  gboolean simple = *sub != '\0' && strlen (sub) <= 8;

  for (guint i = 0; i < G_N_ELEMENTS (extensions); i++)
    if (strcmp (mime_type, extensions[i].type) == 0)
      return g_strdup_printf ("%s.%s", base, extensions[i].ext);

  for (const char *p = sub; *p != '\0' && simple; p++)
    simple = g_ascii_isalnum (*p);
  return g_strdup_printf ("%s.%s", base, simple ? sub : "bin");
}

/* ---- reading a part's content ---------------------------------------- */

static GByteArray *
read_stream (GMimeStream *stream)
{
  GByteArray *bytes = g_byte_array_new ();
  char buf[16384];

  g_mime_stream_reset (stream);
  for (;;)
    {
      gssize n = g_mime_stream_read (stream, buf, sizeof buf);

      if (n <= 0)
        break;
      g_byte_array_append (bytes, (const guint8 *) buf, (guint) n);
    }
  return bytes;
}

/* Whether @data is base64 that can be decoded; sets @len to the length
 * to decode: what follows the padding ("==") is not part of it. */
static gboolean
base64_ok (const guint8 *data,
           gsize        *len)
{
  gsize n = 0;

  for (gsize i = 0; i < *len; i++)
    {
      guchar c = data[i];

      if (g_ascii_isalnum (c) || c == '+' || c == '/')
        n++;
      else if (c == '=')
        {
          while (i < *len && (data[i] == '=' || g_ascii_isspace (data[i])))
            i++;
          *len = i;
          break;
        }
      else if (!g_ascii_isspace (c))
        return FALSE;
    }
  /* one character of a group alone cannot be decoded: cut off */
  return n % 4 != 1;
}

static gboolean
quoted_printable_ok (const guint8 *data,
                     gsize         len)
{
  for (gsize i = 0; i < len; i++)
    {
      gsize j;

      if (data[i] != '=')
        continue;
      if (i + 2 < len && g_ascii_isxdigit (data[i + 1]) && g_ascii_isxdigit (data[i + 2]))
        continue;
      /* a soft line break, maybe with spaces before it */
      for (j = i + 1; j < len && (data[j] == ' ' || data[j] == '\t'); j++)
        ;
      if (j >= len || data[j] == '\r' || data[j] == '\n')
        continue;
      return FALSE;
    }
  return TRUE;
}

/* The part's content with its transfer encoding undone, or NULL with
 * @problem set when that encoding is broken. @problem may also be set
 * with content returned, for quoted-printable that is only a little off
 * (kept as it is) in a text part. */
static GBytes *
decoded_content (GMimePart  *part,
                 gboolean    is_text,
                 char      **problem)
{
  GMimeDataWrapper *wrapper = g_mime_part_get_content (part);
  GMimeContentEncoding encoding;
  GMimeStream *stream;
  GByteArray *raw;
  GMimeEncoding state;
  char *out;
  gsize length;
  gsize n;

  if (wrapper == NULL || (stream = g_mime_data_wrapper_get_stream (wrapper)) == NULL)
    return g_bytes_new (NULL, 0);

  raw = read_stream (stream);
  length = raw->len;
  encoding = g_mime_data_wrapper_get_encoding (wrapper);

  switch (encoding)
    {
    case GMIME_CONTENT_ENCODING_BASE64:
      if (!base64_ok (raw->data, &length))
        {
          *problem = g_strdup (_("The part’s base64 encoding is broken, so its content cannot be read."));
          g_byte_array_unref (raw);
          return NULL;
        }
      break;
    case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
      if (!quoted_printable_ok (raw->data, raw->len))
        {
          if (!is_text)
            {
              *problem = g_strdup (_("The part’s quoted-printable encoding is broken, so its content "
                                     "cannot be read."));
              g_byte_array_unref (raw);
              return NULL;
            }
          *problem = g_strdup (_("The part’s quoted-printable encoding is broken; "
                                 "some characters may be shown wrong."));
        }
      break;
    case GMIME_CONTENT_ENCODING_UUENCODE:
      break;
    case GMIME_CONTENT_ENCODING_DEFAULT:
    case GMIME_CONTENT_ENCODING_7BIT:
    case GMIME_CONTENT_ENCODING_8BIT:
    case GMIME_CONTENT_ENCODING_BINARY:
    default:
      return g_byte_array_free_to_bytes (raw);
    }

  g_mime_encoding_init_decode (&state, encoding);
  out = g_malloc (g_mime_encoding_outlen (&state, length) + 16);
  n = g_mime_encoding_step (&state, (const char *) raw->data, length, out);
  g_byte_array_unref (raw);

  return g_bytes_new_take (out, n);
}

/* ---- headers --------------------------------------------------------- */

static const char *
raw_header (GMimeObject *object,
            const char  *name)
{
  GMimeHeader *header = g_mime_header_list_get_header (g_mime_object_get_header_list (object), name);

  return header != NULL ? g_mime_header_get_raw_value (header) : NULL;
}

static char *
decode_subject (Ctx          *ctx,
                GMimeMessage *message)
{
  const char *raw = raw_header (GMIME_OBJECT (message), "Subject");
  g_autofree char *unfolded = NULL;

  if (raw == NULL)
    return NULL;
  if (g_utf8_validate (raw, -1, NULL))
    return lb_mime_decode_header_text (raw);

  /* raw 8-bit: with the charsets this message suggests */
  unfolded = g_mime_utils_header_unfold (raw);
  return take_folded (g_mime_utils_header_decode_text (ctx->options, unfolded));
}

static LbMimeAddress *
address_new (const char *name,
             const char *address)
{
  LbMimeAddress *a = g_new0 (LbMimeAddress, 1);

  a->name = take_folded (g_strdup (name));
  a->address = take_folded (g_strdup (address));
  if (a->address == NULL)
    a->address = g_strdup ("");
  return a;
}

static void
add_addresses (GPtrArray           *out,
               InternetAddressList *list,
               guint                nesting)
{
  int count = list != NULL ? internet_address_list_length (list) : 0;

  for (int i = 0; i < count && nesting < 8; i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_GROUP (address))
        add_addresses (out, internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address)),
                       nesting + 1);
      else if (INTERNET_ADDRESS_IS_MAILBOX (address))
        {
          const char *addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address));
          const char *name = internet_address_get_name (address);

          if ((addr == NULL || *addr == '\0') && (name == NULL || *name == '\0'))
            continue;
          g_ptr_array_add (out, address_new (name, addr));
        }
    }
}

static GPtrArray *
addresses_of (GMimeMessage     *message,
              GMimeAddressType  type)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_mime_address_free);

  add_addresses (out, g_mime_message_get_addresses (message, type), 0);
  return out;
}

static char *
join_addresses (GPtrArray *addresses)
{
  GString *out;

  if (addresses->len == 0)
    return NULL;
  out = g_string_new (NULL);
  for (guint i = 0; i < addresses->len; i++)
    {
      g_autofree char *one = lb_mime_address_to_string (g_ptr_array_index (addresses, i));

      if (out->len > 0)
        g_string_append (out, ", ");
      g_string_append (out, one);
    }
  return g_string_free (out, FALSE);
}

static gint64
date_of (GMimeMessage *message)
{
  return lb_mime_parse_date (raw_header (GMIME_OBJECT (message), "Date"), 0);
}

/* ---- the MIME tree --------------------------------------------------- */

static gboolean
is_skipped_type (GMimeContentType *type)
{
  return g_mime_content_type_is_type (type, "application", "pgp-signature") ||
         g_mime_content_type_is_type (type, "application", "pkcs7-signature") ||
         g_mime_content_type_is_type (type, "application", "x-pkcs7-signature") ||
         g_mime_content_type_is_type (type, "application", "pgp-encrypted");
}

/* text that is read in place, not saved: plain text, reports */
static gboolean
is_readable_text (GMimeContentType *type,
                  gboolean          has_name)
{
  if (g_mime_content_type_is_type (type, "text", "plain"))
    return TRUE;
  if (g_mime_content_type_is_type (type, "message", "delivery-status") ||
      g_mime_content_type_is_type (type, "message", "global-delivery-status") ||
      g_mime_content_type_is_type (type, "message", "disposition-notification") ||
      g_mime_content_type_is_type (type, "message", "feedback-report"))
    return TRUE;
  if (!g_mime_content_type_is_type (type, "text", "*") || has_name)
    return FALSE;
  return !g_mime_content_type_is_type (type, "text", "calendar") &&
         !g_mime_content_type_is_type (type, "text", "vcard") &&
         !g_mime_content_type_is_type (type, "text", "x-vcard") &&
         !g_mime_content_type_is_type (type, "text", "html");
}

static gboolean
is_inline (GMimeObject *object)
{
  GMimeContentDisposition *disposition = g_mime_object_get_content_disposition (object);
  const char *value = disposition != NULL ? g_mime_content_disposition_get_disposition (disposition) : NULL;

  return value != NULL && g_ascii_strcasecmp (value, "inline") == 0;
}

/* The charset an HTML document declares in a <meta> near its start. */
static char *
html_meta_charset (const char *data,
                   gsize       len)
{
  gsize n = MIN (len, 2048);

  for (gsize i = 0; i + 8 < n; i++)
    {
      const char *v;
      gsize k = 0;

      if (g_ascii_strncasecmp (data + i, "charset=", 8) != 0)
        continue;
      v = data + i + 8;
      while (v < data + n && (*v == '"' || *v == '\''))
        v++;
      while (v + k < data + n && k < 40 && (g_ascii_isalnum (v[k]) || strchr ("-_.:", v[k]) != NULL))
        k++;
      if (k > 0)
        return g_strndup (v, k);
    }
  return NULL;
}

static void
add_part (Level      *lv,
          LbMimePart *part,
          gboolean    attachment)
{
  g_ptr_array_add (attachment ? lv->attachments : lv->body, part);
}

static void
walk_leaf (Ctx       *ctx,
           Level     *lv,
           GMimePart *part,
           gboolean   referenced)
{
  GMimeObject *object = GMIME_OBJECT (part);
  GMimeContentType *type = g_mime_object_get_content_type (object);
  g_autofree char *problem = NULL;
  g_autofree char *filename = NULL;
  g_autoptr(GBytes) content = NULL;
  LbMimePartKind kind;
  LbMimePart *out;
  gboolean attachment;
  gboolean has_name;

  if (type != NULL && is_skipped_type (type))
    return;

  filename = safe_filename (g_mime_part_get_filename (part));
  has_name = g_mime_part_get_filename (part) != NULL;

  if (type == NULL)
    kind = LB_MIME_PART_ATTACHMENT;
  else if (referenced && g_mime_content_type_is_type (type, "image", "*"))
    kind = LB_MIME_PART_IMAGE;
  else if (g_mime_part_is_attachment (part))
    kind = LB_MIME_PART_ATTACHMENT;
  else if (g_mime_content_type_is_type (type, "text", "html"))
    kind = LB_MIME_PART_HTML;
  else if (is_readable_text (type, has_name && !is_inline (object)))
    kind = LB_MIME_PART_TEXT;
  else if (g_mime_content_type_is_type (type, "image", "*") && is_inline (object))
    kind = LB_MIME_PART_IMAGE;
  else
    kind = LB_MIME_PART_ATTACHMENT;

  attachment = kind == LB_MIME_PART_ATTACHMENT;
  content = decoded_content (part, kind == LB_MIME_PART_TEXT || kind == LB_MIME_PART_HTML, &problem);

  out = part_new (kind, lv->depth);
  out->content_type = lower_mime_type (type);
  out->content_id = take_folded (g_strdup (g_mime_object_get_content_id (object)));

  if (content == NULL)
    {
      out->kind = LB_MIME_PART_BROKEN;
      out->problem = g_steal_pointer (&problem);
      out->filename = filename != NULL || kind == LB_MIME_PART_TEXT || kind == LB_MIME_PART_HTML ?
        g_steal_pointer (&filename) : name_from_type (out->content_type);
      add_part (lv, out, attachment);
      ctx->last_leaf = out;
      return;
    }

  switch (kind)
    {
    case LB_MIME_PART_TEXT:
    case LB_MIME_PART_HTML:
      {
        gsize len = 0;
        const char *data = g_bytes_get_data (content, &len);
        g_autofree char *charset = g_strdup (g_mime_object_get_content_type_parameter (object, "charset"));
        g_autofree char *charset_problem = NULL;
        char *text;

        if (kind == LB_MIME_PART_HTML && (charset == NULL || *charset == '\0'))
          {
            g_free (charset);
            charset = html_meta_charset (data, len);
          }
        text = decode_charset (ctx, data != NULL ? data : "", len, charset, &charset_problem);
        if (problem == NULL)
          problem = g_steal_pointer (&charset_problem);
        normalize_lines (text);

        if (is_blank_len (text, strlen (text)))
          {
            g_free (text);
            lb_mime_part_free (out);
            return;
          }

        if (kind == LB_MIME_PART_TEXT)
          {
            const char *format = g_mime_object_get_content_type_parameter (object, "format");
            const char *delsp = g_mime_object_get_content_type_parameter (object, "delsp");
            gboolean flowed = format != NULL && g_ascii_strcasecmp (format, "flowed") == 0;
            GPtrArray *lines = read_lines (text, flowed, delsp != NULL && g_ascii_strcasecmp (delsp, "yes") == 0);

            attach_attributions (lines);
            out->blocks = make_blocks (lines);
            g_ptr_array_unref (lines);
            g_free (text);
            out->data = join_blocks (out->blocks);
          }
        else
          out->data = g_bytes_new_take (text, strlen (text));

        out->alternative = ctx->alternative;
        out->filename = g_steal_pointer (&filename);
      }
      break;
    case LB_MIME_PART_IMAGE:
    case LB_MIME_PART_ATTACHMENT:
      out->data = g_bytes_ref (content);
      out->filename = filename != NULL ? g_steal_pointer (&filename) : name_from_type (out->content_type);
      break;
    case LB_MIME_PART_MESSAGE:
    case LB_MIME_PART_BROKEN:
    default:
      g_assert_not_reached ();
    }

  out->size = g_bytes_get_size (out->data);
  out->problem = g_steal_pointer (&problem);
  add_part (lv, out, attachment);
  ctx->last_leaf = out;
}

static void
add_broken (Level      *lv,
            const char *content_type,
            char       *problem)
{
  LbMimePart *part = part_new (LB_MIME_PART_BROKEN, lv->depth);

  part->content_type = g_strdup (content_type);
  part->problem = problem;
  g_ptr_array_add (lv->body, part);
}

/* The cid: URLs in @html, as Content-IDs (unescaped too). */
static void
collect_cids (GHashTable *cids,
              const char *html)
{
  const char *p = html;

  while ((p = strchr (p, ':')) != NULL)
    {
      const char *start = ++p;
      char *cid;
      char *unescaped;

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
}

static void
walk_related (Ctx            *ctx,
              Level          *lv,
              GMimeMultipart *multipart,
              guint           nesting)
{
  int count = g_mime_multipart_get_count (multipart);
  const char *start = g_mime_object_get_content_type_parameter (GMIME_OBJECT (multipart), "start");
  g_autoptr(GHashTable) cids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GString *html = g_string_new (NULL);
  guint before = lv->body->len;
  guint location_checks = 0;
  int root = 0;

  if (start != NULL)
    {
      g_autofree char *id = g_strdup (start);

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
    }

  walk_object (ctx, lv, g_mime_multipart_get_part (multipart, root), nesting + 1);

  for (guint i = before; i < lv->body->len; i++)
    {
      LbMimePart *part = g_ptr_array_index (lv->body, i);

      if (part->kind == LB_MIME_PART_HTML)
        g_string_append_len (html, g_bytes_get_data (part->data, NULL), g_bytes_get_size (part->data));
    }
  collect_cids (cids, html->str);

  for (int i = 0; i < count; i++)
    {
      GMimeObject *child = g_mime_multipart_get_part (multipart, i);
      gboolean referenced = FALSE;

      if (i == root)
        continue;
      if (GMIME_IS_PART (child))
        {
          const char *cid = g_mime_object_get_content_id (child);
          const char *location = g_mime_part_get_content_location (GMIME_PART (child));

          referenced = (cid != NULL && g_hash_table_contains (cids, cid)) ||
                       (location != NULL && *location != '\0' && ++location_checks <= 16 &&
                        strstr (html->str, location) != NULL);
        }
      if (referenced)
        walk_leaf (ctx, lv, GMIME_PART (child), TRUE);
      else
        walk_object (ctx, lv, child, nesting + 1);
    }

  g_string_free (html, TRUE);
}

static void
walk_alternative (Ctx            *ctx,
                  Level          *lv,
                  GMimeMultipart *multipart,
                  guint           nesting)
{
  guint outer = ctx->alternative;
  guint number = ++ctx->n_alternatives;
  guint before = lv->body->len;
  guint shown = 0;

  ctx->alternative = number;
  for (int i = 0; i < g_mime_multipart_get_count (multipart); i++)
    walk_object (ctx, lv, g_mime_multipart_get_part (multipart, i), nesting + 1);
  ctx->alternative = outer;

  /* one version alone is not an alternative to choose from */
  for (guint i = before; i < lv->body->len; i++)
    if (((LbMimePart *) g_ptr_array_index (lv->body, i))->alternative == number)
      shown++;
  if (shown < 2)
    for (guint i = before; i < lv->body->len; i++)
      {
        LbMimePart *part = g_ptr_array_index (lv->body, i);

        if (part->alternative == number)
          part->alternative = outer;
      }
}

static void walk_message (Ctx          *ctx,
                          Level        *lv,
                          GMimeMessage *message,
                          guint         nesting);

static void
walk_message_part (Ctx              *ctx,
                   Level            *lv,
                   GMimeMessagePart *message_part,
                   guint             nesting)
{
  GMimeObject *object = GMIME_OBJECT (message_part);
  GMimeMessage *message = g_mime_message_part_get_message (message_part);
  gboolean attachment = g_mime_object_get_content_disposition (object) != NULL &&
                        g_mime_content_disposition_is_attachment (g_mime_object_get_content_disposition (object));
  GPtrArray *target = attachment ? lv->attachments : lv->body;
  g_autoptr(GPtrArray) from = NULL;
  g_autoptr(GPtrArray) to = NULL;
  g_autoptr(GPtrArray) cc = NULL;
  GMimeStream *stream;
  GByteArray *bytes;
  LbMimePart *part;
  Level inner;
  guint outer_alternative = ctx->alternative;

  if (message == NULL)
    {
      part = part_new (LB_MIME_PART_BROKEN, lv->depth);
      part->content_type = lower_mime_type (g_mime_object_get_content_type (object));
      part->problem = g_strdup (_("The attached message is empty."));
      g_ptr_array_add (target, part);
      return;
    }

  part = part_new (LB_MIME_PART_MESSAGE, lv->depth);
  part->content_type = lower_mime_type (g_mime_object_get_content_type (object));
  part->content_id = take_folded (g_strdup (g_mime_object_get_content_id (object)));
  from = addresses_of (message, GMIME_ADDRESS_TYPE_FROM);
  to = addresses_of (message, GMIME_ADDRESS_TYPE_TO);
  cc = addresses_of (message, GMIME_ADDRESS_TYPE_CC);
  part->from = join_addresses (from);
  part->to = join_addresses (to);
  part->cc = join_addresses (cc);
  part->subject = decode_subject (ctx, message);
  part->date = date_of (message);

  part->filename = safe_filename (g_mime_object_get_content_disposition_parameter (object, "filename"));
  if (part->filename == NULL && part->subject != NULL)
    {
      g_autofree char *named = g_strdup_printf ("%s.eml", part->subject);

      part->filename = safe_filename (named);
    }
  if (part->filename == NULL)
    part->filename = g_strdup ("message.eml");

  stream = g_mime_stream_mem_new ();
  g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, stream);
  bytes = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
  part->data = g_bytes_new (bytes->data, bytes->len);
  part->size = bytes->len;
  g_object_unref (stream);

  g_ptr_array_add (target, part);

  /* its own parts, in its own order, after it */
  inner.body = g_ptr_array_new ();
  inner.attachments = g_ptr_array_new ();
  inner.depth = lv->depth + 1;
  ctx->alternative = 0;
  walk_message (ctx, &inner, message, nesting + 1);
  ctx->alternative = outer_alternative;
  g_ptr_array_extend_and_steal (target, inner.body);
  g_ptr_array_extend_and_steal (target, inner.attachments);
}

static void
walk_object (Ctx         *ctx,
             Level       *lv,
             GMimeObject *object,
             guint        nesting)
{
  if (object == NULL)
    return;

  if (nesting > MAX_DEPTH)
    {
      add_broken (lv, "multipart/mixed",
                  g_strdup (_("The message nests its parts too deeply; the innermost ones are not shown.")));
      return;
    }

  if (GMIME_IS_MESSAGE_PART (object))
    {
      walk_message_part (ctx, lv, GMIME_MESSAGE_PART (object), nesting);
    }
  else if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);
      GMimeContentType *type = g_mime_object_get_content_type (object);
      int count = g_mime_multipart_get_count (multipart);

      if (count == 0)
        {
          const char *prologue = g_mime_multipart_get_prologue (multipart);
          g_autofree char *mime_type = lower_mime_type (type);

          add_broken (lv, mime_type,
                      g_strdup (_("The message’s parts could not be told apart (their boundary is "
                                  "missing); what could be read is shown as text.")));
          if (prologue != NULL && !is_blank_len (prologue, strlen (prologue)))
            {
              LbMimePart *text = part_new (LB_MIME_PART_TEXT, lv->depth);
              g_autofree char *problem = NULL;
              char *decoded = decode_charset (ctx, prologue, strlen (prologue), NULL, &problem);
              GPtrArray *lines;

              normalize_lines (decoded);
              lines = read_lines (decoded, FALSE, FALSE);
              g_free (decoded);
              text->content_type = g_strdup ("text/plain");
              text->blocks = make_blocks (lines);
              g_ptr_array_unref (lines);
              text->data = join_blocks (text->blocks);
              text->size = g_bytes_get_size (text->data);
              text->problem = g_steal_pointer (&problem);
              g_ptr_array_add (lv->body, text);
            }
          return;
        }

      ctx->any_multipart_parts = TRUE;
      if (type != NULL && g_mime_content_type_is_type (type, "multipart", "alternative"))
        walk_alternative (ctx, lv, multipart, nesting);
      else if (type != NULL && g_mime_content_type_is_type (type, "multipart", "related"))
        walk_related (ctx, lv, multipart, nesting);
      else
        for (int i = 0; i < count; i++)
          walk_object (ctx, lv, g_mime_multipart_get_part (multipart, i), nesting + 1);
    }
  else if (GMIME_IS_PART (object))
    {
      walk_leaf (ctx, lv, GMIME_PART (object), FALSE);
    }
}

static void
walk_message (Ctx          *ctx,
              Level        *lv,
              GMimeMessage *message,
              guint         nesting)
{
  walk_object (ctx, lv, g_mime_message_get_mime_part (message), nesting);
}

/* ---- entry points ---------------------------------------------------- */

static void
parser_warning (gint64              offset,
                GMimeParserWarning  errcode,
                const char         *item,
                gpointer            user_data)
{
  Ctx *ctx = user_data;

  switch (errcode)
    {
    case GMIME_WARN_TRUNCATED_MESSAGE:
      ctx->truncated = TRUE;
      break;
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
      ctx->no_boundary = TRUE;
      break;
    case GMIME_WARN_DUPLICATED_HEADER:
    case GMIME_WARN_DUPLICATED_PARAMETER:
    case GMIME_WARN_UNENCODED_8BIT_HEADER:
    case GMIME_WARN_INVALID_CONTENT_TYPE:
    case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE:
    case GMIME_WARN_MALFORMED_MULTIPART:
    case GMIME_WARN_MALFORMED_MESSAGE:
    case GMIME_CRIT_INVALID_HEADER_NAME:
    case GMIME_CRIT_CONFLICTING_HEADER:
    case GMIME_CRIT_CONFLICTING_PARAMETER:
    case GMIME_WARN_INVALID_PARAMETER:
    case GMIME_WARN_INVALID_ADDRESS_LIST:
    case GMIME_CRIT_NESTING_OVERFLOW:
    case GMIME_WARN_PART_WITHOUT_CONTENT:
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
    default:
      break;
    }
}

static gboolean
is_all_whitespace (const guint8 *data,
                   gsize         len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isspace (data[i]))
      return FALSE;
  return TRUE;
}

/* The message ended inside a multipart: the last part read is cut off. */
static void
mark_truncated (Ctx *ctx)
{
  LbMimePart *part = ctx->last_leaf;

  if (!ctx->truncated || !ctx->any_multipart_parts || part == NULL || part->kind == LB_MIME_PART_BROKEN)
    return;

  g_clear_pointer (&part->problem, g_free);
  if (part->kind == LB_MIME_PART_TEXT || part->kind == LB_MIME_PART_HTML)
    {
      part->problem = g_strdup (_("The message ends early: the end of this text is missing."));
      return;
    }

  /* a file cut off is no use, and may be harmful to open */
  part->kind = LB_MIME_PART_BROKEN;
  part->problem = g_strdup (_("The message ends early: this part is incomplete, so it is not offered."));
  g_clear_pointer (&part->data, g_bytes_unref);
  part->size = 0;
}

/**
 * lb_mime_message_parse:
 * @raw: a whole message (RFC 5322)
 * @error: return location for an error
 *
 * Reads @raw into the parts a message view shows (see #LbMimeMessage for
 * their order). A broken part becomes an %LB_MIME_PART_BROKEN entry; the
 * call fails only when @raw is not a message at all. g_mime_init() must
 * have been called; safe to call from several threads at once.
 *
 * Returns: (transfer full) (nullable): the message, or %NULL with @error
 *   set
 */
LbMimeMessage *
lb_mime_message_parse (GBytes  *raw,
                       GError **error)
{
  Ctx ctx = { NULL, };
  Level lv;
  GByteArray array = { NULL, 0 };
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *message;
  LbMimeMessage *result;
  const char *charsets[4] = { "UTF-8", NULL, NULL, NULL };
  const guint8 *data;
  gsize len = 0;
  guint n = 1;

  g_return_val_if_fail (raw != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = g_bytes_get_data (raw, &len);
  if (len == 0 || is_all_whitespace (data, len))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The message is empty."));
      return NULL;
    }

  ctx.raw = data;
  ctx.raw_len = len;
  ctx.options = g_mime_parser_options_new ();
  if (charset_hint (&ctx) != NULL)
    charsets[n++] = ctx.hint;
  charsets[n] = "windows-1252";
  g_mime_parser_options_set_fallback_charsets (ctx.options, charsets);
  g_mime_parser_options_set_warning_callback (ctx.options, parser_warning, &ctx);

  /* the caller's bytes, lent to GMime for this call only; nothing writes */
  array.data = (guint8 *) data;
  array.len = (guint) MIN (len, G_MAXUINT);
  stream = g_mime_stream_mem_new_with_byte_array (&array);
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (stream), FALSE);
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, ctx.options);
  g_object_unref (parser);
  g_object_unref (stream);

  if (message == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("This is not an email message: it has no headers."));
      g_mime_parser_options_free (ctx.options);
      g_free (ctx.hint);
      return NULL;
    }

  result = g_new0 (LbMimeMessage, 1);
  result->from = addresses_of (message, GMIME_ADDRESS_TYPE_FROM);
  result->to = addresses_of (message, GMIME_ADDRESS_TYPE_TO);
  result->cc = addresses_of (message, GMIME_ADDRESS_TYPE_CC);
  result->reply_to = addresses_of (message, GMIME_ADDRESS_TYPE_REPLY_TO);
  result->subject = decode_subject (&ctx, message);
  result->date = date_of (message);
  result->message_id = lb_mime_parse_ids (raw_header (GMIME_OBJECT (message), "Message-ID"), FALSE);

  lv.body = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_mime_part_free);
  lv.attachments = g_ptr_array_new ();
  lv.depth = 0;
  walk_message (&ctx, &lv, message, 0);
  mark_truncated (&ctx);
  g_ptr_array_extend_and_steal (lv.body, lv.attachments);
  result->parts = lv.body;

  g_object_unref (message);
  g_mime_parser_options_free (ctx.options);
  g_free (ctx.hint);

  return result;
}

static void
parse_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  GError *error = NULL;
  LbMimeMessage *message;

  if (g_task_return_error_if_cancelled (task))
    return;

  message = lb_mime_message_parse (task_data, &error);
  if (message == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, message, (GDestroyNotify) lb_mime_message_free);
}

/**
 * lb_mime_message_parse_async:
 * @raw: a whole message (RFC 5322)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called in the thread-default main context of the caller
 * @user_data: for @callback
 *
 * Runs lb_mime_message_parse() in a worker thread.
 */
void
lb_mime_message_parse_async (GBytes              *raw,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (raw != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_mime_message_parse_async);
  g_task_set_task_data (task, g_bytes_ref (raw), (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (task, parse_thread);
}

/**
 * lb_mime_message_parse_finish:
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Returns: (transfer full) (nullable): the message, or %NULL with @error
 *   set (%G_IO_ERROR_CANCELLED when cancelled)
 */
LbMimeMessage *
lb_mime_message_parse_finish (GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_mime_message_parse_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
lb_mime_message_free (LbMimeMessage *message)
{
  if (message == NULL)
    return;

  g_clear_pointer (&message->from, g_ptr_array_unref);
  g_clear_pointer (&message->to, g_ptr_array_unref);
  g_clear_pointer (&message->cc, g_ptr_array_unref);
  g_clear_pointer (&message->reply_to, g_ptr_array_unref);
  g_clear_pointer (&message->parts, g_ptr_array_unref);
  g_free (message->subject);
  g_free (message->message_id);
  g_free (message);
}

/**
 * lb_mime_message_find_cid:
 * @message: a parsed message
 * @content_id: a Content-ID, without angle brackets, as in a cid: URL
 *   (percent-escapes allowed)
 *
 * Returns: (transfer none) (nullable): the part with that Content-ID
 *   that has content (not a broken one), or %NULL
 */
const LbMimePart *
lb_mime_message_find_cid (LbMimeMessage *message,
                          const char    *content_id)
{
  g_autofree char *unescaped = NULL;

  g_return_val_if_fail (message != NULL, NULL);

  if (content_id == NULL || *content_id == '\0')
    return NULL;
  if (strchr (content_id, '%') != NULL)
    unescaped = g_uri_unescape_string (content_id, NULL);

  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < message->parts->len; i++)
      {
        const LbMimePart *part = g_ptr_array_index (message->parts, i);

        if (part->content_id == NULL || part->data == NULL)
          continue;
        if (pass == 0 && (strcmp (part->content_id, content_id) == 0 ||
                          (unescaped != NULL && strcmp (part->content_id, unescaped) == 0)))
          return part;
        /* mail programs change the case of ids they copy */
        if (pass == 1 && (g_ascii_strcasecmp (part->content_id, content_id) == 0 ||
                          (unescaped != NULL && g_ascii_strcasecmp (part->content_id, unescaped) == 0)))
          return part;
      }

  return NULL;
}

void
lb_mime_part_free (LbMimePart *part)
{
  if (part == NULL)
    return;

  g_free (part->content_type);
  g_free (part->content_id);
  g_free (part->filename);
  g_clear_pointer (&part->data, g_bytes_unref);
  g_clear_pointer (&part->blocks, g_ptr_array_unref);
  g_free (part->from);
  g_free (part->to);
  g_free (part->cc);
  g_free (part->subject);
  g_free (part->problem);
  g_free (part);
}

void
lb_mime_text_block_free (LbMimeTextBlock *block)
{
  if (block == NULL)
    return;

  g_free (block->text);
  g_free (block);
}

void
lb_mime_address_free (LbMimeAddress *address)
{
  if (address == NULL)
    return;

  g_free (address->name);
  g_free (address->address);
  g_free (address);
}

/**
 * lb_mime_address_to_string:
 * @address: an address
 *
 * Returns: (transfer full): "Name <address>", the name in quotes when it
 *   holds a comma or other character that would make it read as more
 *   than one address; the address alone when there is no name, the name
 *   alone when there is no address
 */
char *
lb_mime_address_to_string (const LbMimeAddress *address)
{
  gboolean has_name;
  gboolean has_address;

  g_return_val_if_fail (address != NULL, NULL);

  has_name = address->name != NULL && *address->name != '\0';
  has_address = address->address != NULL && *address->address != '\0';

  if (has_name && has_address)
    {
      if (strpbrk (address->name, ",;<>\"@") != NULL)
        {
          g_autofree char *quoted = g_mime_utils_quote_string (address->name);

          return g_strdup_printf ("%s <%s>", quoted, address->address);
        }
      return g_strdup_printf ("%s <%s>", address->name, address->address);
    }
  if (has_name)
    return g_strdup (address->name);
  return g_strdup (has_address ? address->address : "");
}

/* ---- HTML to text ---------------------------------------------------- */

/* A reader for display as plain text (a view without HTML, a reply's
 * quote): it drops tags, comments, and the content of <script>, <style>,
 * <title> and <template>; breaks lines at block elements (a blank line
 * around paragraphs, headings, lists, tables and quotes), marks
 * <blockquote> text with "> " per level, lists items with "• " (or their
 * number in an <ol>) indented by nesting, writes a link as "text <url>"
 * when its text is not the URL, keeps the spacing of <pre>, decodes
 * character references, and folds other whitespace. It reads the input
 * once, front to back: the search for the end of a skipped element either
 * skips it or ends the input. */

#define MAX_LIST_DEPTH 16

typedef struct
{
  GString  *out;
  guint     newlines;      /* line breaks owed before the next text (at most 2) */
  gboolean  space;         /* a space owed before the next text */
  gboolean  line_start;
  guint     quote;
  guint     pre;
  guint     lists;
  int       counters[MAX_LIST_DEPTH];  /* 0 in a <ul>, the next number in an <ol> */
  char     *href;          /* the open link's URL */
  gsize     link_start;    /* where its text starts in out */
} Html;

static void
html_break (Html  *h,
            guint  n)
{
  if (h->out->len == 0)
    return;
  h->newlines = MAX (h->newlines, n);
  h->space = FALSE;
}

static void
html_emit (Html       *h,
           const char *text,
           gsize       len)
{
  if (len == 0)
    return;

  if (h->newlines > 0 && h->out->len > 0)
    {
      for (guint i = 0; i < h->newlines; i++)
        g_string_append_c (h->out, '\n');
      h->line_start = TRUE;
    }
  h->newlines = 0;

  if (h->line_start)
    {
      for (guint i = 0; i < h->quote; i++)
        g_string_append (h->out, "> ");
      h->line_start = FALSE;
    }
  else if (h->space)
    g_string_append_c (h->out, ' ');
  h->space = FALSE;

  g_string_append_len (h->out, text, len);
}

static void
html_space (Html *h)
{
  if (!h->line_start && h->out->len > 0)
    h->space = TRUE;
}

/* @p is after the tag name; the '>' that ends the tag (quoted values
 * skipped), or NULL */
static const char *
tag_end (const char *p,
         const char *end)
{
  while (p < end)
    {
      if (*p == '>')
        return p;
      if (*p == '=')
        {
          const char *v = p + 1;

          while (v < end && g_ascii_isspace (*v))
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

static char *
decode_entities (const char *p,
                 const char *end)
{
  GString *out = g_string_sized_new ((gsize) (end - p));

  while (p < end)
    {
      gunichar c = 0;
      gsize n;

      if (*p == '&' && (n = lb_mime_html_entity (p + 1, end, &c)) > 0)
        {
          g_string_append_unichar (out, c);
          p += n + 1;
        }
      else
        g_string_append_c (out, *p++);
    }
  return g_string_free (out, FALSE);
}

/* The value of attribute @name in the tag's attributes (@p to @end), its
 * character references decoded, or NULL. */
static char *
tag_attribute (const char *p,
               const char *end,
               const char *name)
{
  gsize name_len = strlen (name);

  while (p < end)
    {
      const char *attr;
      const char *value = NULL;
      const char *value_end = NULL;
      gsize attr_len;

      while (p < end && (g_ascii_isspace (*p) || *p == '/'))
        p++;
      attr = p;
      while (p < end && !g_ascii_isspace (*p) && *p != '=' && *p != '>' && *p != '/')
        p++;
      attr_len = (gsize) (p - attr);
      if (attr_len == 0)
        {
          if (p < end)
            p++;
          continue;
        }
      while (p < end && g_ascii_isspace (*p))
        p++;
      if (p < end && *p == '=')
        {
          p++;
          while (p < end && g_ascii_isspace (*p))
            p++;
          if (p < end && (*p == '"' || *p == '\''))
            {
              const char *close = memchr (p + 1, *p, (gsize) (end - p - 1));

              value = p + 1;
              value_end = close != NULL ? close : end;
              p = close != NULL ? close + 1 : end;
            }
          else
            {
              value = p;
              while (p < end && !g_ascii_isspace (*p) && *p != '>')
                p++;
              value_end = p;
            }
        }
      if (attr_len == name_len && g_ascii_strncasecmp (attr, name, name_len) == 0)
        return value != NULL ? decode_entities (value, value_end) : g_strdup ("");
    }
  return NULL;
}

static gboolean
is_tag (const char *name,
        const char *const *list)
{
  for (guint i = 0; list[i] != NULL; i++)
    if (strcmp (name, list[i]) == 0)
      return TRUE;
  return FALSE;
}

static const char *const paragraph_tags[] = {
  "p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr", "dl", "figure", "address", NULL,
};
static const char *const line_tags[] = {
  "div", "tr", "dd", "dt", "section", "article", "header", "footer", "nav", "aside", "main",
  "center", "form", "fieldset", "caption", "figcaption", "body", "html", "tbody", "thead", "tfoot",
  "details", "summary", "legend", "option", NULL,
};
static const char *const skipped_tags[] = { "script", "style", "title", "template", "xml", NULL };

/* a URL that would only be noise in text */
static gboolean
is_shown_url (const char *url)
{
  return g_str_has_prefix (url, "http:") || g_str_has_prefix (url, "https:") ||
         g_str_has_prefix (url, "mailto:") || g_str_has_prefix (url, "ftp:") ||
         g_str_has_prefix (url, "HTTP:") || g_str_has_prefix (url, "HTTPS:");
}

static gboolean
same_as_url (const char *text,
             const char *url)
{
  const char *bare = url;

  if (g_str_has_prefix (bare, "mailto:"))
    bare = bare + 7;
  else if (g_str_has_prefix (bare, "http://"))
    bare = bare + 7;
  else if (g_str_has_prefix (bare, "https://"))
    bare = bare + 8;

  if (strcmp (text, url) == 0 || strcmp (text, bare) == 0)
    return TRUE;
  /* "example.com" for "https://example.com/" */
  return strlen (bare) == strlen (text) + 1 && bare[strlen (text)] == '/' &&
         strncmp (text, bare, strlen (text)) == 0;
}

static void
close_link (Html *h)
{
  g_autofree char *url = g_steal_pointer (&h->href);
  g_autofree char *text = NULL;

  if (url == NULL)
    return;
  g_strstrip (url);
  if (!is_shown_url (url) || h->link_start > h->out->len)
    return;

  text = g_strstrip (g_strdup (h->out->str + h->link_start));
  if (*text == '\0' || same_as_url (text, url))
    return;

  h->space = TRUE;
  html_emit (h, "<", 1);
  html_emit (h, url, strlen (url));
  html_emit (h, ">", 1);
}

/* Handles the tag at @p ('<', then a letter or "/" and a letter);
 * returns where reading goes on. */
static const char *
html_tag (Html       *h,
          const char *p,
          const char *end)
{
  const char *q = p + 1;
  const char *gt;
  const char *attrs;
  gboolean closing = FALSE;
  char name[16];
  gsize n = 0;

  if (*q == '/')
    {
      closing = TRUE;
      q++;
    }
  while (q < end && (g_ascii_isalnum (*q) || *q == ':' || *q == '-'))
    {
      if (n < sizeof name - 1)
        name[n++] = g_ascii_tolower (*q);
      q++;
    }
  name[n] = '\0';
  attrs = q;

  gt = tag_end (q, end);
  if (gt == NULL)
    return end;
  p = gt + 1;

  if (is_tag (name, skipped_tags))
    {
      if (closing)
        return p;
      /* to the end tag; without one, to the end, as a browser does */
      for (const char *s = p; s < end && (s = memchr (s, '<', (gsize) (end - s))) != NULL; s++)
        if ((gsize) (end - s) >= n + 2 && s[1] == '/' && g_ascii_strncasecmp (s + 2, name, n) == 0)
          {
            const char *close = memchr (s, '>', (gsize) (end - s));

            return close != NULL ? close + 1 : end;
          }
      return end;
    }

  if (strcmp (name, "br") == 0)
    {
      if (h->out->len > 0)
        h->newlines = MIN (h->newlines + 1, 2);
      h->space = FALSE;
    }
  else if (strcmp (name, "td") == 0 || strcmp (name, "th") == 0)
    html_space (h);
  else if (strcmp (name, "a") == 0)
    {
      close_link (h);
      if (!closing)
        {
          h->href = tag_attribute (attrs, gt, "href");
          h->link_start = h->out->len;
        }
    }
  else if (strcmp (name, "blockquote") == 0)
    {
      html_break (h, 2);
      if (!closing && h->quote < MAX_QUOTE_LEVEL)
        h->quote++;
      else if (closing && h->quote > 0)
        h->quote--;
    }
  else if (strcmp (name, "pre") == 0)
    {
      html_break (h, 2);
      if (!closing)
        h->pre++;
      else if (h->pre > 0)
        h->pre--;
    }
  else if (strcmp (name, "ul") == 0 || strcmp (name, "ol") == 0 || strcmp (name, "menu") == 0)
    {
      html_break (h, h->lists == 0 ? 2 : 1);
      if (!closing && h->lists < MAX_LIST_DEPTH)
        {
          int start = 1;

          if (name[0] == 'o')
            {
              g_autofree char *value = tag_attribute (attrs, gt, "start");

              if (value != NULL)
                start = (int) CLAMP (g_ascii_strtoll (value, NULL, 10), -1000000, 1000000);
            }
          h->counters[h->lists++] = name[0] == 'o' ? start : G_MININT;
        }
      else if (closing && h->lists > 0)
        h->lists--;
      if (h->lists == 0 && closing)
        html_break (h, 2);
    }
  else if (strcmp (name, "li") == 0)
    {
      html_break (h, 1);
      if (!closing)
        {
          char number[32];

          for (guint i = 1; i < h->lists; i++)
            html_emit (h, "  ", 2);
          if (h->lists > 0 && h->counters[h->lists - 1] != G_MININT)
            {
              g_snprintf (number, sizeof number, "%d.", h->counters[h->lists - 1]++);
              html_emit (h, number, strlen (number));
            }
          else
            html_emit (h, "•", strlen ("•"));
          /* one space after the marker, whatever whitespace follows */
          h->space = TRUE;
        }
    }
  else if (is_tag (name, paragraph_tags))
    html_break (h, 2);
  else if (is_tag (name, line_tags))
    html_break (h, 1);

  return p;
}

static void
html_text_run (Html       *h,
               const char *p,
               const char *run_end)
{
  while (p < run_end)
    {
      guchar c = (guchar) *p;

      if (c == '\n' && h->pre > 0)
        {
          if (h->out->len > 0)
            g_string_append_c (h->out, '\n');
          h->line_start = TRUE;
          h->newlines = 0;
          h->space = FALSE;
          p++;
        }
      else if (c <= 0x20 || c == 0x7f)
        {
          if (h->pre > 0 && (c == ' ' || c == '\t'))
            html_emit (h, c == '\t' ? "\t" : " ", 1);
          else
            html_space (h);
          p++;
        }
      else
        {
          const char *start = p;

          while (p < run_end && (guchar) *p > 0x20 && *p != 0x7f)
            p++;
          html_emit (h, start, (gsize) (p - start));
        }
    }
}

/**
 * lb_mime_html_to_text:
 * @html: HTML, UTF-8 (bytes that are not are replaced)
 * @length: its length in bytes, or -1 when it ends with a NUL
 *
 * A readable plain-text rendering of @html for a view without HTML: no
 * markup, no script, style or title content, character references
 * decoded, paragraphs apart, list items on lines of their own ("• ", or
 * "1. " in a numbered list), quotes marked "> ", links as "text <url>"
 * when the text is not the URL, whitespace folded.
 *
 * Returns: (transfer full): the text, valid UTF-8, no trailing newline
 */
char *
lb_mime_html_to_text (const char *html,
                      gssize      length)
{
  Html h = { NULL, };
  const char *p;
  const char *end;
  g_autofree char *valid = NULL;
  gsize len;

  g_return_val_if_fail (html != NULL, NULL);

  len = length < 0 ? strlen (html) : (gsize) length;
  if (!g_utf8_validate (html, (gssize) len, NULL))
    {
      valid = g_utf8_make_valid (html, (gssize) len);
      html = valid;
      len = strlen (valid);
    }

  h.out = g_string_sized_new (len / 4 + 16);
  h.line_start = TRUE;
  p = html;
  end = html + len;

  while (p < end)
    {
      if (*p == '<')
        {
          const char *q = p + 1;

          if (q < end && (g_ascii_isalpha (*q) || (*q == '/' && q + 1 < end && g_ascii_isalpha (q[1]))))
            p = html_tag (&h, p, end);
          else if (end - q >= 3 && q[0] == '!' && q[1] == '-' && q[2] == '-')
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
              html_emit (&h, "<", 1);
              p++;
            }
        }
      else if (*p == '&')
        {
          gunichar c = 0;
          gsize n = lb_mime_html_entity (p + 1, end, &c);

          if (n == 0)
            {
              html_emit (&h, "&", 1);
              p++;
              continue;
            }
          p += n + 1;
          if (c == 0xa0 || c == ' ' || c < 0x20 || c == 0x7f)
            {
              if (h.pre > 0)
                html_emit (&h, " ", 1);
              else
                html_space (&h);
            }
          else
            {
              char buf[6];

              html_emit (&h, buf, (gsize) g_unichar_to_utf8 (c, buf));
            }
        }
      else
        {
          const char *run = p;

          while (p < end && *p != '<' && *p != '&')
            p++;
          html_text_run (&h, run, p);
        }
    }

  close_link (&h);

  /* no trailing whitespace, no NULs */
  while (h.out->len > 0 && g_ascii_isspace (h.out->str[h.out->len - 1]))
    g_string_truncate (h.out, h.out->len - 1);
  for (gsize i = 0; i < h.out->len; i++)
    if (h.out->str[i] == '\0')
      h.out->str[i] = ' ';

  return g_string_free (h.out, FALSE);
}
