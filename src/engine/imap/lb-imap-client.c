/* lb-imap-client.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"
#include "lb-imap-client.h"
