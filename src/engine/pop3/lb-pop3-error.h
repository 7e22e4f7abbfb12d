/* lb-pop3-error.h: the error domain of the POP3 engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LB_POP3_ERROR (lb_pop3_error_quark ())

typedef enum
{
  LB_POP3_ERROR_MALFORMED,   /* not a POP3 reply, or an argument line that does not parse */
  LB_POP3_ERROR_TOO_LONG,    /* a status line or a listing line beyond the limits */
  LB_POP3_ERROR_CUT,         /* the connection closed in the middle of a reply */
  LB_POP3_ERROR_UNEXPECTED,  /* a reply when no command was waiting for one */
  /* the client's (LbPop3Client): */
  LB_POP3_ERROR_REFUSED,         /* the server answered -ERR; the message says what
                                  * failed and quotes the server */
  LB_POP3_ERROR_AUTHENTICATION,  /* the user name or the secret was refused */
  LB_POP3_ERROR_IN_USE,          /* the maildrop is locked by another session ([IN-USE]) */
  LB_POP3_ERROR_NO_STLS,         /* STLS was wanted but not offered or refused */
  LB_POP3_ERROR_NOT_SUPPORTED,   /* the server lacks what the operation needs (a login method) */
} LbPop3Error;

GQuark lb_pop3_error_quark (void);

G_END_DECLS
