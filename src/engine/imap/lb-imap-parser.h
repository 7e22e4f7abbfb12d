/* lb-imap-parser.h: IMAP response framing and parsing (pure, no I/O)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "lb-imap-response.h"

G_BEGIN_DECLS

#define LB_IMAP_PARSE_ERROR (lb_imap_parse_error_quark ())

typedef enum
{
  LB_IMAP_PARSE_ERROR_SYNTAX,     /* not IMAP: the message names what and where */
  LB_IMAP_PARSE_ERROR_TOO_LARGE,  /* a line or literal beyond the limits */
} LbImapParseError;

GQuark lb_imap_parse_error_quark (void);

/* Framing: splits the bytes a server sends into whole responses. A
 * response is one line, plus the literals it announces ("{n}\r\n" and
 * "~{n}\r\n") and the lines that follow each literal, up to the final
 * CRLF. The framer keeps its place, so feeding it a growing buffer costs
 * O(bytes), not O(bytes^2), even for a literal of many megabytes. */
typedef struct
{
  /*< private >*/
  gsize   scanned;          /* bytes of the current response already looked at */
  guint64 literal_left;     /* bytes of a literal still to skip */
  gsize   max_line;
  guint64 max_literal;
  gsize   line_start;       /* where the line being scanned starts */
  guint64 max_frame;
} LbImapFramer;

/* The limits keep a hostile server from making the client buffer without
 * end: a line may hold 1 MiB, one literal 256 MiB (a very large message),
 * and a whole response, lines and literals together, 256 MiB plus room
 * for a few lines around the largest literal. */
#define LB_IMAP_MAX_LINE_DEFAULT     (1024 * 1024)
#define LB_IMAP_MAX_LITERAL_DEFAULT  (G_GUINT64_CONSTANT (256) * 1024 * 1024)
#define LB_IMAP_MAX_FRAME_DEFAULT    (LB_IMAP_MAX_LITERAL_DEFAULT + 4 * LB_IMAP_MAX_LINE_DEFAULT)

/* sets the default total limit: see lb_imap_framer_set_max_frame() */
void     lb_imap_framer_init  (LbImapFramer  *framer,
                               gsize          max_line,      /* 0: default */
                               guint64        max_literal);  /* 0: default */
/* the most bytes one response may take, lines and literals together
 * (0: default); a response that announces or sends more is an error */
void     lb_imap_framer_set_max_frame (LbImapFramer *framer,
                                       guint64       max_frame);
/* @data points at the start of the current response; @len is how many bytes
 * of it are buffered. Returns TRUE and sets @frame_len (which includes the
 * final CRLF) when the response is complete, after which the framer is
 * reset for the next response. Returns FALSE with no error when more bytes
 * are needed (the caller keeps @data..@len and calls again with more), or
 * FALSE with an error when a line, a literal or the whole response exceeds
 * the limits (a literal is refused when announced). A lone LF
 * ends a line too (some servers send one). */
gboolean lb_imap_framer_next  (LbImapFramer  *framer,
                               const guint8  *data,
                               gsize          len,
                               gsize         *frame_len,
                               GError       **error);
/* how many more bytes the framer knows it needs at least (the rest of a
 * literal), for sizing reads; 0 when unknown */
guint64  lb_imap_framer_wanted (const LbImapFramer *framer);

typedef enum /*< flags >*/
{
  LB_IMAP_PARSE_NONE = 0,
  /* mailbox names are UTF-8 (UTF8=ACCEPT enabled): do not decode mUTF-7 */
  LB_IMAP_PARSE_UTF8_MAILBOXES = 1 << 0,
} LbImapParseFlags;

/* Parses one whole response as returned by the framer (with its CRLF).
 * Tolerates the documented quirks of real servers, never a broken grammar
 * in general. */
LbImapResponse *lb_imap_parse_response  (const guint8     *data,
                                         gsize             len,
                                         LbImapParseFlags  flags,
                                         GError          **error);

/* A canonical, stable, one-response-per-line (plus indented lines for
 * nested structures) text form: for the imap-parse tool, corpus tests and
 * fuzz triage. */
char           *lb_imap_response_to_string (LbImapResponse *response);

/* modified UTF-7 (RFC 3501 5.1.3) */
char           *lb_imap_utf7_decode     (const char  *text,
                                         GError     **error);
char           *lb_imap_utf7_encode     (const char  *utf8);

/* INTERNALDATE "17-Jul-1996 02:44:25 -0700" to seconds since the epoch */
gboolean        lb_imap_parse_internaldate (const char *text,
                                            gint64     *out);

G_END_DECLS
