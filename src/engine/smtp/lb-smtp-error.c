/* lb-smtp-error.c: the error domain of the SMTP engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-smtp"

#include "config.h"

#include "lb-smtp-error.h"

G_DEFINE_QUARK (lb-smtp-error-quark, lb_smtp_error)
