/* lb-smtp-error.h: the error domain of the SMTP engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LB_SMTP_ERROR (lb_smtp_error_quark ())

/**
 * LbSmtpError:
 * @LB_SMTP_ERROR_MALFORMED: not an SMTP reply
 * @LB_SMTP_ERROR_TOO_LONG: a reply line over 4 KiB or a reply of more
 *   than 1000 lines
 * @LB_SMTP_ERROR_CUT: the connection closed in the middle of a reply or
 *   before one
 * @LB_SMTP_ERROR_UNEXPECTED: the server sent bytes it should not have
 *   (after its 220 to STARTTLS, before the TLS handshake)
 * @LB_SMTP_ERROR_TEMPORARY: the server refused with a 4xx reply
 * @LB_SMTP_ERROR_PERMANENT: the server refused with a 5xx reply
 * @LB_SMTP_ERROR_AUTHENTICATION: the user name or secret was refused
 * @LB_SMTP_ERROR_NO_STARTTLS: STARTTLS was wanted but is not offered or
 *   was refused; nothing else was sent in plaintext
 * @LB_SMTP_ERROR_NOT_SUPPORTED: the server lacks what the operation needs
 *   (a login method, 8BITMIME for 8-bit data, SMTPUTF8 for a non-ASCII
 *   address)
 * @LB_SMTP_ERROR_RECIPIENTS: one or more recipients were refused, at least
 *   one with a 5xx reply; nothing was sent; the message lists each
 * @LB_SMTP_ERROR_RECIPIENTS_TEMPORARY: as above, every refusal a 4xx
 * @LB_SMTP_ERROR_TOO_LARGE: the message is larger than the server's SIZE
 * @LB_SMTP_ERROR_UNCERTAIN: the whole message and its final dot were
 *   written, but no reply came (connection lost, timeout, cancelled): the
 *   message may have been sent
 * @LB_SMTP_ERROR_INVALID_ADDRESS: an envelope address SMTP cannot carry
 *   (control characters, blanks, angle brackets)
 *
 * Messages are translated and meant for the user; those of a refusal
 * quote the server's reply.
 */
typedef enum
{
  LB_SMTP_ERROR_MALFORMED,
  LB_SMTP_ERROR_TOO_LONG,
  LB_SMTP_ERROR_CUT,
  LB_SMTP_ERROR_UNEXPECTED,
  LB_SMTP_ERROR_TEMPORARY,
  LB_SMTP_ERROR_PERMANENT,
  LB_SMTP_ERROR_AUTHENTICATION,
  LB_SMTP_ERROR_NO_STARTTLS,
  LB_SMTP_ERROR_NOT_SUPPORTED,
  LB_SMTP_ERROR_RECIPIENTS,
  LB_SMTP_ERROR_RECIPIENTS_TEMPORARY,
  LB_SMTP_ERROR_TOO_LARGE,
  LB_SMTP_ERROR_UNCERTAIN,
  LB_SMTP_ERROR_INVALID_ADDRESS,
} LbSmtpError;

GQuark lb_smtp_error_quark (void);

G_END_DECLS
