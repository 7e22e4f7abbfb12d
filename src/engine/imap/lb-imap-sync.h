/* lb-imap-sync.h: bringing the store up to date with an IMAP mailbox
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

G_END_DECLS
