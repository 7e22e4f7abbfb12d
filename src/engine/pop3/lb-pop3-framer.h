/* lb-pop3-framer.h: splits what a POP3 server sends into replies (pure, no I/O)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "lb-pop3-error.h"
#include "lb-pop3-reply.h"

G_BEGIN_DECLS

/* What the reply to a command looks like. Only the command tells: the
 * client queues one expectation per command it sends (several when
 * pipelining), and a SINGLE one for the greeting, with
 * lb_pop3_framer_expect(), and the framer matches the replies to them in
 * order. Multi-line data follows "+OK" only, never
 * "-ERR". */
typedef enum
{
  LB_POP3_EXPECT_SINGLE,  /* a status line: the greeting, USER, STAT, "LIST n", DELE, AUTH... */
  LB_POP3_EXPECT_LINES,   /* +OK and a listing, one line per data event: CAPA, LIST, UIDL */
  LB_POP3_EXPECT_DATA,    /* +OK and a message, in chunks: RETR, TOP */
} LbPop3Expect;

/* the expectation for a command line as sent ("RETR 3", "uidl", "LIST 2"),
 * without its CRLF; unknown commands are SINGLE */
LbPop3Expect lb_pop3_expect_for_command (const char *command);

typedef enum
{
  LB_POP3_EVENT_NONE,    /* every byte fed is used: feed more */
  LB_POP3_EVENT_STATUS,  /* a status line: reply, data_follows */
  LB_POP3_EVENT_DATA,    /* data: data, len */
  LB_POP3_EVENT_END,     /* the "." that ends a multi-line reply */
} LbPop3EventKind;

typedef struct
{
  LbPop3EventKind    kind;
  /* STATUS: owned by the framer (lb_pop3_reply_copy() keeps it) */
  const LbPop3Reply *reply;
  /* STATUS: a +OK to a multi-line command: DATA events and an END follow */
  gboolean           data_follows;
  /* DATA: owned by the framer. For LB_POP3_EXPECT_DATA a chunk of the
   * dot-unstuffed message, lines ending in CRLF (a lone LF from the server
   * becomes CRLF), cut anywhere; for LB_POP3_EXPECT_LINES one whole
   * unstuffed line without its line end, NUL-terminated after len bytes
   * (the line itself may hold NULs). */
  const guint8      *data;
  gsize              len;
} LbPop3Event;

typedef struct _LbPop3Framer LbPop3Framer;

/* The limits keep a hostile server from making the client buffer without
 * end: a status line of 8 KiB, a listing line of 8 KiB; message data is
 * passed on in chunks of at most 64 KiB whatever the length of its lines. */
#define LB_POP3_MAX_STATUS_DEFAULT (8 * 1024)
#define LB_POP3_MAX_LINE_DEFAULT   (8 * 1024)
#define LB_POP3_MAX_CHUNK_DEFAULT  (64 * 1024)

/* 0 for the defaults */
LbPop3Framer *lb_pop3_framer_new        (gsize               max_status,
                                         gsize               max_line,
                                         gsize               max_chunk);
void          lb_pop3_framer_free       (LbPop3Framer       *framer);
/* queues the expectation for the next command sent */
void          lb_pop3_framer_expect     (LbPop3Framer       *framer,
                                         LbPop3Expect        expect);
/* commands sent whose reply has not ended */
guint         lb_pop3_framer_get_pending (const LbPop3Framer *framer);

/* Hands the framer the next bytes the server sent. They are borrowed, not
 * copied: keep them unchanged until lb_pop3_framer_next() returns
 * LB_POP3_EVENT_NONE. Feed only then. */
void          lb_pop3_framer_feed       (LbPop3Framer       *framer,
                                         const guint8       *data,
                                         gsize               len);
/* The next event. An event's pointers stay valid until the next call to
 * lb_pop3_framer_next() or lb_pop3_framer_feed(). A "+ " continuation is a
 * STATUS that leaves its command waiting (the client answers it, and the
 * command ends with +OK or -ERR). Returns FALSE with an LB_POP3_ERROR on a
 * malformed reply, a line over the limits, or a reply nothing was expected
 * for; the framer then stays failed, the connection is unusable. */
gboolean      lb_pop3_framer_next       (LbPop3Framer       *framer,
                                         LbPop3Event        *event,
                                         GError            **error);
/* At the end of the stream: FALSE with LB_POP3_ERROR_CUT when a reply was
 * begun or a command is still waiting for one. Call it after
 * lb_pop3_framer_next() returned LB_POP3_EVENT_NONE. */
gboolean      lb_pop3_framer_finish     (LbPop3Framer       *framer,
                                         GError            **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbPop3Framer, lb_pop3_framer_free)

G_END_DECLS
