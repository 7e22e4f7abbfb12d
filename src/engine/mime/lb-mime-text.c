/* lb-mime-text.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-mime"

#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "lb-message-summary.h"
#include "lb-mime-private.h"
#include "lb-mime-summary.h"
#include "lb-mime-text.h"

/* lb_mime_text_parse() reads a message the way a plain-text reader would:
 * the headers a person looks at, decoded as the message list decodes them
 * (lb_mime_summary_parse()), and the whole text of the body. Of each
 * multipart/alternative it takes the plain text when there is some, else
 * the HTML with its markup stripped; the text parts of a multipart/mixed
 * follow one another; attachments, forwarded messages, signatures and
 * encrypted parts are counted, not shown. Nothing in the input is trusted:
 * the tree is walked to a bounded depth and every string is made valid
 * UTF-8. */

#define MAX_DEPTH 64

static gboolean
is_html_like (GMimeContentType *type)
{
  return g_mime_content_type_is_type (type, "text", "html") ||
         g_mime_content_type_is_type (type, "text", "enriched") ||
         g_mime_content_type_is_type (type, "text", "richtext");
}

static gboolean
is_blank (const char *text)
{
  for (; *text != '\0'; text++)
    if (!g_ascii_isspace (*text))
      return FALSE;
  return TRUE;
}

/* the part's text, UTF-8 with LF line ends, or NULL when it has none */
static char *
part_text (GMimePart *part)
{
  GMimeContentType *type = g_mime_object_get_content_type (GMIME_OBJECT (part));
  g_autofree char *raw = NULL;
  g_autofree char *valid = NULL;
  GString *out;

  if (!GMIME_IS_TEXT_PART (part))
    return NULL;

  raw = g_mime_text_part_get_text (GMIME_TEXT_PART (part));
  if (raw == NULL)
    return NULL;
  valid = g_utf8_make_valid (raw, -1);

  if (is_html_like (type))
    {
      char *stripped = lb_mime_html_to_plain_text (valid, -1);

      g_free (valid);
      valid = stripped;
    }

  out = g_string_sized_new (strlen (valid));
  for (const char *p = valid; *p != '\0'; p++)
    if (*p != '\r' || p[1] != '\n')
      g_string_append_c (out, *p);

  /* no trailing blank lines */
  while (out->len > 0 && (out->str[out->len - 1] == '\n' || out->str[out->len - 1] == ' '))
    g_string_truncate (out, out->len - 1);

  return g_string_free (out, FALSE);
}

typedef struct
{
  GString *text;
  guint    n_attachments;
} Walk;

static void
add_text (Walk *w,
          char *text)
{
  if (text == NULL)
    return;
  if (!is_blank (text))
    {
      if (w->text->len > 0)
        g_string_append (w->text, "\n\n");
      g_string_append (w->text, text);
    }
  g_free (text);
}

static void walk (Walk        *w,
                  GMimeObject *object,
                  guint        depth);

/* The first leaf of @object, following first parts. */
static GMimeObject *
first_leaf (GMimeObject *object)
{
  for (guint depth = 0; depth < MAX_DEPTH && GMIME_IS_MULTIPART (object); depth++)
    {
      if (g_mime_multipart_get_count (GMIME_MULTIPART (object)) <= 0)
        return NULL;
      object = g_mime_multipart_get_part (GMIME_MULTIPART (object), 0);
    }
  return GMIME_IS_PART (object) ? object : NULL;
}

static void
walk_alternative (Walk           *w,
                  GMimeMultipart *multipart,
                  guint           depth)
{
  int count = g_mime_multipart_get_count (multipart);
  int plain = -1;
  int rich = -1;
  gsize before = w->text->len;

  for (int i = 0; i < count; i++)
    {
      GMimeObject *leaf = first_leaf (g_mime_multipart_get_part (multipart, i));
      GMimeContentType *type = leaf != NULL ? g_mime_object_get_content_type (leaf) : NULL;

      if (type == NULL || g_mime_part_is_attachment (GMIME_PART (leaf)))
        continue;
      if (plain < 0 && g_mime_content_type_is_type (type, "text", "plain"))
        plain = i;
      else if (is_html_like (type))
        rich = i;
    }

  if (plain >= 0)
    walk (w, g_mime_multipart_get_part (multipart, plain), depth + 1);
  /* an empty plain alternative: the HTML has the text */
  if (w->text->len == before && rich >= 0)
    walk (w, g_mime_multipart_get_part (multipart, rich), depth + 1);
  if (w->text->len == before && plain < 0 && rich < 0 && count > 0)
    walk (w, g_mime_multipart_get_part (multipart, count - 1), depth + 1);
}

static void
walk (Walk        *w,
      GMimeObject *object,
      guint        depth)
{
  GMimeContentType *type;

  if (object == NULL || depth > MAX_DEPTH)
    return;

  type = g_mime_object_get_content_type (object);

  if (GMIME_IS_MULTIPART_ENCRYPTED (object) || GMIME_IS_APPLICATION_PKCS7_MIME (object))
    {
      w->n_attachments++;
      return;
    }

  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);

      if (type != NULL && g_mime_content_type_is_type (type, "multipart", "alternative"))
        {
          walk_alternative (w, multipart, depth);
          return;
        }

      /* multipart/signed: the signed part only */
      if (GMIME_IS_MULTIPART_SIGNED (object))
        {
          if (g_mime_multipart_get_count (multipart) > 0)
            walk (w, g_mime_multipart_get_part (multipart, 0), depth + 1);
          return;
        }

      for (int i = 0; i < g_mime_multipart_get_count (multipart); i++)
        walk (w, g_mime_multipart_get_part (multipart, i), depth + 1);
      return;
    }

  if (GMIME_IS_MESSAGE_PART (object))
    {
      w->n_attachments++;
      return;
    }

  if (!GMIME_IS_PART (object) || type == NULL)
    return;

  if (g_mime_part_is_attachment (GMIME_PART (object)) ||
      !g_mime_content_type_is_type (type, "text", "*") ||
      (!g_mime_content_type_is_type (type, "text", "plain") && !is_html_like (type)))
    {
      w->n_attachments++;
      return;
    }

  add_text (w, part_text (GMIME_PART (object)));
}

/**
 * lb_mime_text_parse:
 * @raw: a whole message (RFC 5322)
 * @error: return location for an error
 *
 * Returns: (transfer full): the message as text, or %NULL with @error set
 *   when @raw is not a message at all (empty, say)
 */
LbMimeText *
lb_mime_text_parse (GBytes  *raw,
                    GError **error)
{
  g_autoptr(LbMessageSummary) summary = NULL;
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *message;
  LbMimeText *text;
  Walk w = { NULL, 0 };
  gsize length;
  const guint8 *data;

  g_return_val_if_fail (raw != NULL, NULL);

  summary = lb_mime_summary_parse (raw, 0, NULL, error);
  if (summary == NULL)
    return NULL;

  text = g_new0 (LbMimeText, 1);
  text->from = g_strdup (summary->from);
  text->to = g_strdup (summary->to);
  text->cc = g_strdup (summary->cc);
  text->subject = g_strdup (summary->subject);
  text->date = summary->date;

  data = g_bytes_get_data (raw, &length);
  stream = g_mime_stream_mem_new_with_buffer ((const char *) data, length);
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);

  g_object_unref (stream);
  g_object_unref (parser);

  w.text = g_string_new (NULL);
  if (message != NULL)
    {
      walk (&w, g_mime_message_get_mime_part (message), 0);
      g_object_unref (message);
    }
  text->text = g_string_free (w.text, FALSE);
  text->n_attachments = w.n_attachments;

  return text;
}

void
lb_mime_text_free (LbMimeText *text)
{
  if (text == NULL)
    return;

  g_free (text->from);
  g_free (text->to);
  g_free (text->cc);
  g_free (text->subject);
  g_free (text->text);
  g_free (text);
}
