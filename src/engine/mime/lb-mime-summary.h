/* lb-mime-summary.h: what the message list needs to know of a raw message
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "lb-message-summary.h"

G_BEGIN_DECLS

/**
 * LB_MIME_SUMMARY_MAX_BODY_TEXT:
 *
 * The most bytes of body text lb_mime_summary_parse() hands back for the
 * full-text index.
 */
#define LB_MIME_SUMMARY_MAX_BODY_TEXT (64 * 1024)

/**
 * LB_MIME_SUMMARY_PREVIEW_CHARS:
 *
 * The most characters (not bytes) in #LbMessageSummary.preview.
 */
#define LB_MIME_SUMMARY_PREVIEW_CHARS 200

LbMessageSummary *lb_mime_summary_parse (GBytes   *raw,
                                         gint64    fallback_date,
                                         char    **body_text,
                                         GError  **error);

/* for headers that arrive split out (IMAP ENVELOPE, HEADER.FIELDS) */
char             *lb_mime_decode_header_text (const char *raw);
void              lb_mime_append_address     (GString    *out,
                                              const char *name,
                                              const char *addr);
char             *lb_mime_parse_ids          (const char *raw,
                                              gboolean    all);
gint64            lb_mime_parse_date         (const char *raw,
                                              gint64      fallback_date);

/* lb_mime_html_to_text() is declared in lb-mime-parts.h */

G_END_DECLS
