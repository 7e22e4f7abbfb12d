/* lb-mailto.h: reading a mailto: URI (RFC 6068)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * LbMailto:
 * @to: the addresses of the path and of every "to" field, separated by ", "
 *   (NULL when none)
 * @cc: the "cc" fields (NULL when none)
 * @bcc: the "bcc" fields (NULL when none)
 * @subject: the subject (NULL when none)
 * @body: the text, lines separated by "\n" (NULL when none)
 * @in_reply_to: the Message-ID the link answers, without angle brackets
 *   (NULL when none)
 *
 * The fields of a mailto: URI, percent-decoded and made valid UTF-8.
 * Other header fields are ignored (a link must not set From, say).
 */
typedef struct
{
  char *to;
  char *cc;
  char *bcc;
  char *subject;
  char *body;
  char *in_reply_to;
} LbMailto;

LbMailto *lb_mailto_parse (const char  *uri,
                           GError     **error);
void      lb_mailto_free  (LbMailto    *mailto);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbMailto, lb_mailto_free)

G_END_DECLS
