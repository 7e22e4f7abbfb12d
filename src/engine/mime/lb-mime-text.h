/* lb-mime-text.h: a raw message as text to read
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * LbMimeText:
 * @from: (nullable): decoded From, "Name <addr>" list
 * @to: (nullable): decoded To
 * @cc: (nullable): decoded Cc
 * @subject: (nullable): decoded Subject
 * @date: the Date header, seconds since the epoch (UTC), 0 when missing
 *   or broken
 * @text: the readable text of the body, never %NULL (maybe empty)
 * @n_attachments: how many parts are attachments (files, forwarded
 *   messages) and not shown in @text
 *
 * What a terminal (or a plain-text view) shows of a message. All strings
 * are valid UTF-8.
 */
typedef struct
{
  char   *from;
  char   *to;
  char   *cc;
  char   *subject;
  gint64  date;
  char   *text;
  guint   n_attachments;
} LbMimeText;

LbMimeText *lb_mime_text_parse (GBytes      *raw,
                                GError     **error);
void        lb_mime_text_free  (LbMimeText  *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbMimeText, lb_mime_text_free)

G_END_DECLS
