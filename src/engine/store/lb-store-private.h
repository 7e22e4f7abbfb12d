/* lb-store-private.h: LbStore internals for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lb-store.h"

G_BEGIN_DECLS

/* Opens the store, migrating it no further than @max_version: lets a test
 * make a database of an older schema and then upgrade it. */
void lb_store_open_at_version_async (const char          *directory,
                                     guint                max_version,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data);

/* How many commits ran with synchronous=FULL (durable writes). */
guint lb_store_get_durable_commits (LbStore *self);

G_END_DECLS
