/* lb-pop3-error.c: the error domain of the POP3 engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-pop3"

#include "config.h"

#include "lb-pop3-error.h"

G_DEFINE_QUARK (lb-pop3-error-quark, lb_pop3_error)
