/* lb-pop3-reply.h: a POP3 status line, and the argument lines a client reads
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure functions, no I/O: RFC 1939 (status indicators, STAT, scan and
 * unique-id listings, the APOP timestamp), RFC 2449 (CAPA, extended
 * response codes), RFC 3206 (SYS and AUTH codes), RFC 5034 (the "+ "
 * SASL continuation). Every failure is an LB_POP3_ERROR.
 */

#pragma once

#include <glib.h>

#include "lb-pop3-error.h"

G_BEGIN_DECLS

typedef enum
{
  LB_POP3_REPLY_OK,            /* "+OK" */
  LB_POP3_REPLY_ERR,           /* "-ERR" */
  LB_POP3_REPLY_CONTINUATION,  /* "+ " during AUTH: text is the base64 challenge */
} LbPop3ReplyKind;

/* RFC 2449 8, RFC 3206, RFC 6856: the response code at the start of the
 * text, in brackets. Codes are hierarchical ("SYS/TEMP/DISK" is a
 * SYS/TEMP); a code the engine does not know is LB_POP3_CODE_OTHER and kept
 * in code_text. */
typedef enum
{
  LB_POP3_CODE_NONE,
  LB_POP3_CODE_IN_USE,       /* the maildrop is locked by another session */
  LB_POP3_CODE_LOGIN_DELAY,  /* logged in too recently */
  LB_POP3_CODE_SYS_TEMP,     /* a temporary problem on the server */
  LB_POP3_CODE_SYS_PERM,     /* a lasting problem on the server */
  LB_POP3_CODE_AUTH,         /* the credentials were refused */
  LB_POP3_CODE_UTF8,         /* RFC 6856 */
  LB_POP3_CODE_OTHER,
} LbPop3Code;

typedef struct
{
  LbPop3ReplyKind kind;
  LbPop3Code      code;
  char           *code_text;  /* the code as sent without brackets, or NULL */
  char           *text;       /* the rest, valid UTF-8 (other bytes and controls
                               * replaced by U+FFFD), without leading blanks,
                               * never NULL */
} LbPop3Reply;

/* Parses one status line, without its CRLF (a lone CR or LF at the end is
 * dropped too). "+OK", "-ERR" (either in any case), "+ " and a lone "+"
 * (an empty challenge) are status lines; anything else is
 * LB_POP3_ERROR_MALFORMED. A bracket that does not make a well-formed code
 * is left in the text. */
LbPop3Reply *lb_pop3_reply_parse     (const char        *line,
                                      gsize              len,
                                      GError           **error);
LbPop3Reply *lb_pop3_reply_copy      (const LbPop3Reply *reply);
void         lb_pop3_reply_free      (LbPop3Reply       *reply);
/* '+OK "text"', '-ERR [SYS/TEMP] "text"', '+ "challenge"': one line,
 * without a newline, the text escaped as in lb_pop3_escape() */
char        *lb_pop3_reply_to_string (const LbPop3Reply *reply);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbPop3Reply, lb_pop3_reply_free)

/* the longest unique-id accepted: RFC 1939 allows 70 characters, some
 * servers send more */
#define LB_POP3_MAX_UID 512

/* In the helpers below @len may be -1 for a NUL-terminated string; the
 * text is a reply's text or one line of a listing without its CRLF.
 * Message numbers start at 1. Blanks (SP, HTAB) between the fields may be
 * repeated and trailing blanks are ignored. */

/* STAT: "count size" (and anything after a blank, RFC 1939 5) */
gboolean lb_pop3_parse_stat      (const char  *text,
                                  gssize       len,
                                  guint       *count,
                                  guint64     *size,
                                  GError     **error);
/* a scan listing, from LIST or "+OK" to "LIST n": "msg size" (and anything
 * after a blank) */
gboolean lb_pop3_parse_list_line (const char  *text,
                                  gssize       len,
                                  guint       *msg,
                                  guint64     *size,
                                  GError     **error);
/* a unique-id listing, from UIDL or "+OK" to "UIDL n": "msg uid", the uid
 * 1 to LB_POP3_MAX_UID characters 0x21-0x7E and nothing after it */
gboolean lb_pop3_parse_uidl_line (const char  *text,
                                  gssize       len,
                                  guint       *msg,
                                  char       **uid,
                                  GError     **error);
/* one line of a CAPA reply: the keyword in upper case ("SASL", "TOP")
 * and its arguments as sent ("PLAIN", "LOGIN"), split at blanks;
 * @args is an empty vector when there are none. Only printable ASCII
 * (RFC 2449 9): a client skips the lines it refuses, they name
 * capabilities it cannot use anyway. */
gboolean lb_pop3_parse_capa_line (const char  *text,
                                  gssize       len,
                                  char       **keyword,
                                  GStrv       *args,
                                  GError     **error);
/* The APOP timestamp of a greeting's text: the first "<...>" holding an
 * "@" and only characters 0x21-0x7E, with its brackets (what the digest
 * is computed over), or NULL when there is none. */
char    *lb_pop3_greeting_apop_timestamp (const char *text);

/* @data with the bytes that are not printable ASCII as \xHH, and '"' and
 * '\' escaped: for the canonical text forms */
char    *lb_pop3_escape (const guint8 *data,
                         gsize         len);

G_END_DECLS
