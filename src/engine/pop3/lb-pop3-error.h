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
} LbPop3Error;

GQuark lb_pop3_error_quark (void);

G_END_DECLS
