/* lb-outgoing-message-private.h: the text codec of lb-outgoing-message.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Not for use outside src/engine/mime and its tests.
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @text (lines separated by "\n") as format=flowed text (RFC 3676,
 * DelSp=no): lines wrapped at 78 characters with a trailing space where
 * a line goes on, space-stuffed, quotes kept at their depth, "-- " never
 * flowed, a line typed with trailing spaces closed by an empty line.
 * Lines end with "\n". */
char    *lb_flowed_encode          (const char *text);
/* @text (format=flowed, "\n" or "\r\n" line ends) as the lines a person
 * typed: the paragraphs joined, stuffing removed, quotes given back as
 * "> " prefixes */
char    *lb_flowed_decode          (const char *text,
                                    gboolean    delsp);

/* whether @line (@len bytes) mentions an attachment: English or Russian
 * words */
gboolean lb_outgoing_mentions_attachment (const char *line,
                                          gssize      len);

G_END_DECLS
