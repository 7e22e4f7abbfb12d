/* lb-smtp-client.h: an SMTP submission client on a GIOStream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * RFC 5321 with RFC 6409 (submission), RFC 3207 (STARTTLS), RFC 4954
 * (AUTH PLAIN, LOGIN, and XOAUTH2 with a token from the caller), RFC 2920
 * (PIPELINING), RFC 1870 (SIZE), RFC 6152 (8BITMIME), RFC 6531 (SMTPUTF8)
 * and RFC 3461 (DSN). The client runs on the thread-default main context it
 * was made on; every operation is an _async/_finish pair on a GTask that
 * honours its GCancellable. Operations may not overlap (G_IO_ERROR_PENDING).
 *
 * A session: lb_smtp_client_new() on a connected stream (plain, or TLS for
 * implicit TLS), greet, ehlo, starttls (which says EHLO again), login,
 * send (once or more), quit. A refusal the session survives (a 4xx or 5xx
 * reply to MAIL, RCPT, DATA or to the data) leaves the connection open and
 * the envelope reset; an I/O failure, a timeout, a cancellation, a reply
 * that does not parse, a refused greeting, STARTTLS or login close it.
 *
 * Errors are LB_SMTP_ERROR (see lb-smtp-error.h), G_IO_ERROR or
 * G_TLS_ERROR; their messages are translated and quote the server.
 *
 * The protocol trace goes to g_debug() (domain "lb-smtp") and to the trace
 * function if one is set: credentials are never shown ("AUTH PLAIN ***")
 * and message data only counted ("[1234 bytes of message data]").
 */

#pragma once

#include <gio/gio.h>

#include "lb-connector.h"
#include "lb-smtp-error.h"
#include "lb-smtp-reply.h"

G_BEGIN_DECLS

/**
 * LbSmtpAuthMethod:
 * @LB_SMTP_AUTH_AUTO: PLAIN if offered, else LOGIN
 * @LB_SMTP_AUTH_PLAIN: AUTH PLAIN with an initial response
 * @LB_SMTP_AUTH_LOGIN: AUTH LOGIN
 * @LB_SMTP_AUTH_XOAUTH2: AUTH XOAUTH2; the secret is the bearer token
 */
typedef enum
{
  LB_SMTP_AUTH_AUTO,
  LB_SMTP_AUTH_PLAIN,
  LB_SMTP_AUTH_LOGIN,
  LB_SMTP_AUTH_XOAUTH2,
} LbSmtpAuthMethod;

typedef void (*LbSmtpTraceFunc) (gboolean    sent,
                                 const char *line,
                                 gpointer    user_data);

#define LB_TYPE_SMTP_CLIENT (lb_smtp_client_get_type ())

G_DECLARE_FINAL_TYPE (LbSmtpClient, lb_smtp_client, LB, SMTP_CLIENT, GObject)

/* The socket's own timeout is switched off; lb_smtp_client_set_timeout()
 * applies instead. The EHLO argument is the address literal of the local
 * end of the connection ("[127.0.0.1]"), not the host's name. */
LbSmtpClient     *lb_smtp_client_new              (GIOStream            *stream);
GIOStream        *lb_smtp_client_get_stream       (LbSmtpClient         *self);
/* seconds without progress while waiting for the server (a reply, a
 * write) before the connection is declared dead; 0 = none; default 120 */
void              lb_smtp_client_set_timeout      (LbSmtpClient         *self,
                                                   guint                 seconds);
void              lb_smtp_client_set_trace_func   (LbSmtpClient         *self,
                                                   LbSmtpTraceFunc       func,
                                                   gpointer              user_data,
                                                   GDestroyNotify        destroy);
/* the greeting's text, NULL before it was read */
const char       *lb_smtp_client_get_greeting     (LbSmtpClient         *self);
/* what the last EHLO offered; NULL before EHLO (and after STARTTLS until
 * the new EHLO); after a HELO fallback, no extension */
const LbSmtpExtensions *lb_smtp_client_get_extensions (LbSmtpClient     *self);
gboolean          lb_smtp_client_is_closed        (LbSmtpClient         *self);

/* reads the 220 greeting; another reply fails with LB_SMTP_ERROR_TEMPORARY
 * (421) or LB_SMTP_ERROR_PERMANENT (554) */
void              lb_smtp_client_greet_async      (LbSmtpClient         *self,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean          lb_smtp_client_greet_finish     (LbSmtpClient         *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* EHLO; when the server refuses it with a 5xx and @helo_fallback is TRUE,
 * HELO (a session without any extension: pass TRUE only when neither
 * STARTTLS nor AUTH is needed) */
void              lb_smtp_client_ehlo_async       (LbSmtpClient         *self,
                                                   gboolean              helo_fallback,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean          lb_smtp_client_ehlo_finish      (LbSmtpClient         *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* STARTTLS, the TLS handshake through @connector (certificate checks and
 * pins), then EHLO again. Fails with LB_SMTP_ERROR_NO_STARTTLS when EHLO
 * did not offer STARTTLS or the server refuses it, and with
 * LB_SMTP_ERROR_UNEXPECTED when the server sent anything after its 220
 * before the handshake (RFC 3207 6: it would be taken as protected). */
void              lb_smtp_client_starttls_async   (LbSmtpClient         *self,
                                                   LbConnector          *connector,
                                                   const char           *host,
                                                   guint16               port,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean          lb_smtp_client_starttls_finish  (LbSmtpClient         *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* AUTH. Refused credentials (535, other 5xx) fail with
 * LB_SMTP_ERROR_AUTHENTICATION, a 4xx with LB_SMTP_ERROR_TEMPORARY, a
 * server without AUTH or without the method with
 * LB_SMTP_ERROR_NOT_SUPPORTED. */
void              lb_smtp_client_login_async      (LbSmtpClient         *self,
                                                   LbSmtpAuthMethod      method,
                                                   const char           *user,
                                                   const char           *secret,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean          lb_smtp_client_login_finish     (LbSmtpClient         *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* Sends @message (RFC 5322 bytes; line ends are made CRLF and lines
 * starting with "." stuffed here) from @from ("" for the null reverse
 * path) to @recipients (at least one):
 *
 * - before MAIL: a message over the advertised SIZE fails with
 *   LB_SMTP_ERROR_TOO_LARGE, 8-bit data without 8BITMIME or a non-ASCII
 *   address without SMTPUTF8 with LB_SMTP_ERROR_NOT_SUPPORTED, an address
 *   SMTP cannot carry with LB_SMTP_ERROR_INVALID_ADDRESS;
 * - MAIL FROM with SIZE=, BODY=8BITMIME, SMTPUTF8 and (DSN) RET=HDRS
 *   ENVID= as they apply, then RCPT TO (DSN: NOTIFY=FAILURE,DELAY) for
 *   each recipient, all in one write with PIPELINING, one by one without;
 * - a refused sender fails with LB_SMTP_ERROR_TEMPORARY or _PERMANENT; a
 *   refused recipient (any of them) with LB_SMTP_ERROR_RECIPIENTS (or
 *   _RECIPIENTS_TEMPORARY when every refusal was a 4xx), its message
 *   listing each refused address with the server's reply: then RSET is
 *   sent and no data;
 * - DATA (never pipelined), the data and ".": a refusal of the data fails
 *   with LB_SMTP_ERROR_TEMPORARY or _PERMANENT (and RSET).
 *
 * Any failure before the final "." was written means nothing was sent.
 * Once it was written, a failure to read the reply (connection lost,
 * timeout, and cancellation too) is LB_SMTP_ERROR_UNCERTAIN: the message
 * may have been sent. */
void              lb_smtp_client_send_async       (LbSmtpClient         *self,
                                                   const char           *from,
                                                   const char * const   *recipients,
                                                   GBytes               *message,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean          lb_smtp_client_send_finish      (LbSmtpClient         *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* QUIT, then closes the connection (whatever the reply) */
void              lb_smtp_client_quit_async       (LbSmtpClient         *self,
                                                   GCancellable         *cancellable,
                                                   GAsyncReadyCallback   callback,
                                                   gpointer              user_data);
gboolean          lb_smtp_client_quit_finish      (LbSmtpClient         *self,
                                                   GAsyncResult         *result,
                                                   GError              **error);

/* closes the connection without QUIT; a running operation fails with
 * G_IO_ERROR_CLOSED (or LB_SMTP_ERROR_UNCERTAIN after the data) */
void              lb_smtp_client_close            (LbSmtpClient         *self);

/* helpers, public for the tests: @message with CRLF line ends, lines
 * starting with "." doubled and the final ".\r\n" appended; @eight_bit
 * set when a byte is over 0x7F */
GBytes           *lb_smtp_dot_stuff               (GBytes               *message,
                                                   gboolean             *eight_bit);

G_END_DECLS
