/* lb-smtp-reply.h: SMTP replies and EHLO keywords, parsed without I/O
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RFC 5321 4.2 (replies, multi-line framing), RFC 3463 / RFC 2034
 * (enhanced status codes) and the EHLO keywords a submission client uses
 * (RFC 2920 PIPELINING, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8, RFC 1870
 * SIZE, RFC 3461 DSN, RFC 3207 STARTTLS, RFC 4954 AUTH and the older
 * "AUTH=" form, RFC 2034 ENHANCEDSTATUSCODES). Every failure is an
 * LB_SMTP_ERROR.
 */

#pragma once

#include <glib.h>

#include "lb-smtp-error.h"

G_BEGIN_DECLS

/* a reply line may be at most this long, its line end included (RFC 5321
 * 4.5.3.1.5 says 512; servers send more) */
#define LB_SMTP_MAX_LINE 4096
/* and a reply at most this many lines */
#define LB_SMTP_MAX_LINES 1000

/**
 * LbSmtpReply:
 * @code: the three-digit reply code, 200 to 599
 * @enhanced: the RFC 3463 enhanced status code (class, subject, detail)
 *   when the first line starts with one whose class is the code's first
 *   digit; all 0 otherwise
 * @lines: (array zero-terminated=1): the text of each line after the code
 *   and its separator, without its line end, valid UTF-8 (other bytes and
 *   control characters replaced by U+FFFD), the enhanced code and the
 *   blank after it removed from the lines that start with it; never %NULL,
 *   at least one (maybe empty) line
 */
typedef struct
{
  guint   code;
  guint   enhanced[3];
  char  **lines;
} LbSmtpReply;

LbSmtpReply *lb_smtp_reply_copy       (const LbSmtpReply *reply);
void         lb_smtp_reply_free       (LbSmtpReply       *reply);
/* 2 for 2xx ... 5 for 5xx */
guint        lb_smtp_reply_get_class  (const LbSmtpReply *reply);
gboolean     lb_smtp_reply_has_enhanced (const LbSmtpReply *reply);
/* "550 5.1.1 User unknown": the code, the enhanced code if any and the
 * lines joined by a blank; for error messages */
char        *lb_smtp_reply_to_string  (const LbSmtpReply *reply);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbSmtpReply, lb_smtp_reply_free)

/* The framer: bytes from the server in, whole replies out. Lines end in
 * CRLF or a lone LF. Every line of a reply must carry the same code, "-"
 * after it on all lines but the last, which has a blank or nothing. */
typedef struct _LbSmtpReplyParser LbSmtpReplyParser;

LbSmtpReplyParser *lb_smtp_reply_parser_new     (void);
void               lb_smtp_reply_parser_free    (LbSmtpReplyParser  *self);
/* appends @len bytes of what the server sent */
void               lb_smtp_reply_parser_feed    (LbSmtpReplyParser  *self,
                                                 const guint8       *data,
                                                 gsize               len);
/* The next whole reply, or %NULL: without @error when more bytes are
 * needed, with it when what was fed is not SMTP or breaks the limits (the
 * parser is then in error for good: every later call fails the same way). */
LbSmtpReply       *lb_smtp_reply_parser_next    (LbSmtpReplyParser  *self,
                                                 GError            **error);
/* bytes fed and not yet part of a reply returned */
gsize              lb_smtp_reply_parser_get_pending (LbSmtpReplyParser *self);
/* the end of the stream: fails with LB_SMTP_ERROR_CUT when bytes of an
 * unfinished reply are pending */
gboolean           lb_smtp_reply_parser_finish  (LbSmtpReplyParser  *self,
                                                 GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbSmtpReplyParser, lb_smtp_reply_parser_free)

/* Parses one whole reply given as bytes (its lines, each ending in CRLF or
 * LF; the last line end may be missing). Anything after the reply fails. */
LbSmtpReply       *lb_smtp_reply_parse          (const char         *data,
                                                 gsize               len,
                                                 GError            **error);

typedef enum /*< flags >*/
{
  LB_SMTP_EXTENSION_PIPELINING          = 1 << 0,
  LB_SMTP_EXTENSION_8BITMIME            = 1 << 1,
  LB_SMTP_EXTENSION_SMTPUTF8            = 1 << 2,
  LB_SMTP_EXTENSION_SIZE                = 1 << 3,
  LB_SMTP_EXTENSION_DSN                 = 1 << 4,
  LB_SMTP_EXTENSION_STARTTLS            = 1 << 5,
  LB_SMTP_EXTENSION_AUTH                = 1 << 6,
  LB_SMTP_EXTENSION_ENHANCEDSTATUSCODES = 1 << 7,
} LbSmtpExtensionFlags;

/**
 * LbSmtpExtensions:
 * @flags: the keywords understood (others, CHUNKING among them, are
 *   ignored)
 * @size_limit: SIZE's argument in octets, 0 when SIZE came without one
 *   (or with 0: no fixed limit)
 * @auth_mechanisms: (array zero-terminated=1): the SASL mechanisms of the
 *   AUTH lines (and "AUTH=" lines), upper case, each once, in the order
 *   offered; never %NULL
 *
 * What a 250 reply to EHLO offers.
 */
typedef struct
{
  LbSmtpExtensionFlags   flags;
  guint64                size_limit;
  char                 **auth_mechanisms;
} LbSmtpExtensions;

/* the extensions in a reply to EHLO (its first line is the server's name
 * and greeting, not a keyword); lines that are not keywords are skipped */
LbSmtpExtensions *lb_smtp_extensions_parse      (const LbSmtpReply      *ehlo);
void              lb_smtp_extensions_free       (LbSmtpExtensions       *extensions);
gboolean          lb_smtp_extensions_has_auth   (const LbSmtpExtensions *extensions,
                                                 const char             *mechanism);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbSmtpExtensions, lb_smtp_extensions_free)

G_END_DECLS
