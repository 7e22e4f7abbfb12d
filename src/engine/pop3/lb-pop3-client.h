/* lb-pop3-client.h: a POP3 client on a GIOStream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RFC 1939 with RFC 2449 (CAPA, PIPELINING, response codes), RFC 2595
 * (STLS) and RFC 5034 (AUTH). The client runs on the thread-default main
 * context it was made on; every operation is an _async/_finish pair that
 * honours its GCancellable. A cancelled or failed operation leaves the
 * connection closed (LB_POP3_CLIENT_STATE_CLOSED): a POP3 session cannot
 * be resynchronised half way through a reply, and a session that ends
 * without QUIT deletes nothing on the server.
 *
 * Operations may not overlap: start the next one from the previous one's
 * callback (G_IO_ERROR_PENDING otherwise).
 */

#pragma once

#include <gio/gio.h>

#include "lb-connector.h"
#include "lb-pop3-error.h"
#include "lb-pop3-reply.h"

G_BEGIN_DECLS

typedef enum
{
  LB_POP3_CLIENT_STATE_GREETING,       /* made, the greeting not yet read */
  LB_POP3_CLIENT_STATE_AUTHORIZATION,  /* greeted, not logged in */
  LB_POP3_CLIENT_STATE_TRANSACTION,    /* logged in */
  LB_POP3_CLIENT_STATE_CLOSED,         /* QUIT, a failure, or the connection dropped */
} LbPop3ClientState;

/**
 * LbPop3AuthMethod:
 * @LB_POP3_AUTH_AUTO: the best the server offers: SASL PLAIN, then
 *   LOGIN, then USER/PASS, then APOP (a server offering none of the
 *   others)
 * @LB_POP3_AUTH_USER: USER and PASS
 * @LB_POP3_AUTH_APOP: APOP (needs a timestamp in the greeting)
 * @LB_POP3_AUTH_PLAIN: AUTH PLAIN (with an initial response)
 * @LB_POP3_AUTH_LOGIN: AUTH LOGIN
 * @LB_POP3_AUTH_XOAUTH2: AUTH XOAUTH2; the secret is the bearer token
 */
typedef enum
{
  LB_POP3_AUTH_AUTO,
  LB_POP3_AUTH_USER,
  LB_POP3_AUTH_APOP,
  LB_POP3_AUTH_PLAIN,
  LB_POP3_AUTH_LOGIN,
  LB_POP3_AUTH_XOAUTH2,
} LbPop3AuthMethod;

/**
 * LbPop3Entry:
 * @msg: the message number in this session, from 1
 * @size: its size in octets as the server counts it (LIST)
 * @uid: (nullable): its unique id (UIDL, or "~top:" and a hash of its
 *   headers when the server has no UIDL), %NULL before the scan asked
 *
 * One message of the maildrop, from lb_pop3_client_scan_async().
 */
typedef struct
{
  guint    msg;
  guint64  size;
  char    *uid;
} LbPop3Entry;

/* makes the array lb_pop3_client_scan_finish() returns: element
 * LbPop3Entry, its uid freed with it */
GArray *lb_pop3_entry_array_new (guint reserved);

typedef enum /*< flags >*/
{
  LB_POP3_SCAN_SIZES = 1 << 0,  /* LIST */
  LB_POP3_SCAN_UIDS  = 1 << 1,  /* UIDL, or the TOP fallback */
} LbPop3ScanFlags;

/**
 * LbPop3RetrieveFuncs:
 * @begin: a message's "+OK" arrived, its data follows; @index is its place
 *   in the array given to lb_pop3_client_retrieve_async()
 * @data: the next chunk of the message: dot-unstuffed, lines ending in
 *   CRLF, cut anywhere, at most 64 KiB
 * @end: the message is complete
 * @refused: the server answered -ERR for this message (deleted by another
 *   session, say); no other function is called for it, the retrieval
 *   goes on with the next
 *
 * Called on the client's main context, in order. A function that returns
 * %FALSE with an error stops the retrieval, closes the connection and
 * fails the operation with that error. @data may keep no pointer to
 * @bytes after it returns.
 */
typedef struct
{
  gboolean (*begin)   (guint              index,
                       gpointer           user_data,
                       GError           **error);
  gboolean (*data)    (guint              index,
                       const guint8      *bytes,
                       gsize              len,
                       gpointer           user_data,
                       GError           **error);
  gboolean (*end)     (guint              index,
                       gpointer           user_data,
                       GError           **error);
  void     (*refused) (guint              index,
                       const LbPop3Reply *reply,
                       gpointer           user_data);
} LbPop3RetrieveFuncs;

/* the protocol log: one call per line sent or received, credentials
 * replaced ("PASS ***", "AUTH PLAIN ***") and message data summarised
 * ("[2048 bytes]") */
typedef void (*LbPop3TraceFunc) (gboolean    sent,
                                 const char *line,
                                 gpointer    user_data);

#define LB_TYPE_POP3_CLIENT (lb_pop3_client_get_type ())

G_DECLARE_FINAL_TYPE (LbPop3Client, lb_pop3_client, LB, POP3_CLIENT, GObject)

/* @stream: connected (plain, or TLS for implicit TLS); the greeting is read
 * by lb_pop3_client_greet_async(). The socket's own timeout is switched off
 * and lb_pop3_client_set_timeout() applies instead. */
LbPop3Client     *lb_pop3_client_new                (GIOStream            *stream);

GIOStream        *lb_pop3_client_get_stream         (LbPop3Client         *self);
LbPop3ClientState lb_pop3_client_get_state          (LbPop3Client         *self);
/* seconds without a byte from the server while waiting for a reply before
 * the connection is declared dead; 0 = none; default 60 */
void              lb_pop3_client_set_timeout        (LbPop3Client         *self,
                                                     guint                 seconds);
void              lb_pop3_client_set_trace_func     (LbPop3Client         *self,
                                                     LbPop3TraceFunc       func,
                                                     gpointer              user_data,
                                                     GDestroyNotify        destroy);

/* What CAPA said (after lb_pop3_client_capa_async(); a server without CAPA
 * has none). @name is a keyword in upper case: "PIPELINING", "UIDL",
 * "TOP", "STLS", "SASL", "USER", "RESP-CODES"... */
gboolean          lb_pop3_client_has_capability     (LbPop3Client         *self,
                                                     const char           *name);
/* the keywords CAPA listed, upper case, sorted, NULL-terminated, never NULL */
char            **lb_pop3_client_dup_capabilities   (LbPop3Client         *self);
/* the SASL mechanisms CAPA listed, upper case, NULL-terminated, never NULL */
const char * const *lb_pop3_client_get_sasl_mechanisms (LbPop3Client      *self);
/* the greeting's text, NULL before it was read */
const char       *lb_pop3_client_get_greeting       (LbPop3Client         *self);
/* the greeting's APOP timestamp with its brackets, or NULL */
const char       *lb_pop3_client_get_apop_timestamp (LbPop3Client         *self);
/* CAPA was asked and answered +OK (since the last STLS) */
gboolean          lb_pop3_client_get_capa_answered  (LbPop3Client         *self);

/* APOP's digest: the lower-case hex MD5 of @timestamp (with its brackets)
 * followed by @secret (RFC 1939 7) */
char             *lb_pop3_apop_digest               (const char           *timestamp,
                                                     const char           *secret);

/* reads the greeting; a -ERR greeting fails with LB_POP3_ERROR_REFUSED */
void              lb_pop3_client_greet_async        (LbPop3Client         *self,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean          lb_pop3_client_greet_finish       (LbPop3Client         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* CAPA; a server that answers -ERR has no capabilities, which is no error */
void              lb_pop3_client_capa_async         (LbPop3Client         *self,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean          lb_pop3_client_capa_finish        (LbPop3Client         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* STLS, the TLS handshake through @connector (certificate checks and pins
 * as for IMAP), then CAPA again. Fails with LB_POP3_ERROR_NO_STLS when the
 * server does not offer STLS or refuses it: nothing else is sent in
 * plaintext, the connection is closed. */
void              lb_pop3_client_stls_async         (LbPop3Client         *self,
                                                     LbConnector          *connector,
                                                     const char           *host,
                                                     guint16               port,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean          lb_pop3_client_stls_finish        (LbPop3Client         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* Logs in. Refused credentials fail with LB_POP3_ERROR_AUTHENTICATION
 * (a [IN-USE] maildrop with LB_POP3_ERROR_IN_USE, a method the server
 * lacks with LB_POP3_ERROR_NOT_SUPPORTED, a [SYS/TEMP] or [LOGIN-DELAY]
 * refusal with LB_POP3_ERROR_REFUSED: try again later). */
void              lb_pop3_client_login_async        (LbPop3Client         *self,
                                                     LbPop3AuthMethod      method,
                                                     const char           *user,
                                                     const char           *secret,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean          lb_pop3_client_login_finish       (LbPop3Client         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* STAT */
void              lb_pop3_client_stat_async         (LbPop3Client         *self,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean          lb_pop3_client_stat_finish        (LbPop3Client         *self,
                                                     GAsyncResult         *result,
                                                     guint                *count,
                                                     guint64              *size,
                                                     GError              **error);

/* LIST and/or UIDL (both pipelined when the server offers PIPELINING),
 * merged by message number, in message number order. A server without
 * UIDL (no UIDL capability when CAPA was answered, or -ERR to UIDL) gets
 * "TOP n 0" for each message instead and the uid is "~top:" and the hex
 * SHA-256 of the header block (pipelined too when it can be), without the
 * Status, X-Status, X-UIDL and X-Keywords fields that mailbox software
 * rewrites, so that it stays the same from one session to the next. */
void              lb_pop3_client_scan_async         (LbPop3Client         *self,
                                                     LbPop3ScanFlags       flags,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
GArray           *lb_pop3_client_scan_finish        (LbPop3Client         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* RETR (top_lines < 0) or "TOP msg top_lines" for each of @msgs, pipelined
 * with a bounded number of commands in flight when the server offers
 * PIPELINING, one at a time otherwise; the data goes to @funcs as it
 * arrives. lb_pop3_client_pause() inside a function stops reading from the
 * socket until lb_pop3_client_resume(). */
void              lb_pop3_client_retrieve_async     (LbPop3Client              *self,
                                                     const guint               *msgs,
                                                     guint                      n_msgs,
                                                     gint                       top_lines,
                                                     const LbPop3RetrieveFuncs *funcs,
                                                     gpointer                   user_data,
                                                     GCancellable              *cancellable,
                                                     GAsyncReadyCallback        callback,
                                                     gpointer                   user_data_cb);
gboolean          lb_pop3_client_retrieve_finish    (LbPop3Client         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);
void              lb_pop3_client_pause              (LbPop3Client         *self);
void              lb_pop3_client_resume             (LbPop3Client         *self);

/* DELE each of @msgs (pipelined when it can be). Fails with
 * LB_POP3_ERROR_REFUSED after all replies were read when any was -ERR;
 * the others stay marked until QUIT or RSET. */
void              lb_pop3_client_dele_async         (LbPop3Client         *self,
                                                     const guint          *msgs,
                                                     guint                 n_msgs,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean          lb_pop3_client_dele_finish        (LbPop3Client         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* RSET, NOOP */
void              lb_pop3_client_rset_async         (LbPop3Client         *self,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean          lb_pop3_client_rset_finish        (LbPop3Client         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);
void              lb_pop3_client_noop_async         (LbPop3Client         *self,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean          lb_pop3_client_noop_finish        (LbPop3Client         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* QUIT, then closes the connection. Success means the server answered
 * +OK: the messages marked with DELE are gone. A QUIT that was sent but
 * not answered (the connection dropped) fails with LB_POP3_ERROR_CUT:
 * they may or may not be gone, the next session's scan tells. */
void              lb_pop3_client_quit_async         (LbPop3Client         *self,
                                                     GCancellable         *cancellable,
                                                     GAsyncReadyCallback   callback,
                                                     gpointer              user_data);
gboolean          lb_pop3_client_quit_finish        (LbPop3Client         *self,
                                                     GAsyncResult         *result,
                                                     GError              **error);

/* closes the connection without QUIT (nothing marked is deleted); an
 * operation still running fails with G_IO_ERROR_CLOSED */
void              lb_pop3_client_close              (LbPop3Client         *self);

G_END_DECLS
