/* lb-mime-private.h: helpers the files of src/engine/mime share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Not for use outside src/engine/mime.
 */

#pragma once

#include <glib.h>
#include <iconv.h>

G_BEGIN_DECLS

/* @p points after an '&' in HTML, @end is the end of the input. Returns
 * how many bytes the character reference takes (';' included) and the
 * character in @c, or 0 when it is not a reference we know. */
gsize    lb_mime_html_entity     (const char *p,
                                  const char *end,
                                  gunichar   *c);

/* Whether the @len bytes of @line end the way a reply's attribution line
 * does ("On <date>, X wrote:", and the same in a few languages). */
gboolean lb_mime_is_attribution  (const char *line,
                                  gsize       len);

/* The crude HTML reader of the message list's preview and the full-text
 * index (what lb_mime_html_to_text() was before the message view needed
 * more); lb-mime-text.c reads HTML with it. */
char    *lb_mime_html_to_plain_text (const char *html,
                                     gssize      length);

/* @len bytes converted with @cd (to UTF-8; see lb-mime-summary.c) */
char    *lb_mime_iconv_to_utf8   (iconv_t     cd,
                                  const char *data,
                                  gsize       len,
                                  gboolean    cut_off_is_error,
                                  guint      *errors);

G_END_DECLS
