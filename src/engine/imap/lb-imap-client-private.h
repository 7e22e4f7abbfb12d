/* lb-imap-client-private.h: knobs for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lb-imap-client.h"

G_BEGIN_DECLS

/* how long an IDLE runs before DONE + IDLE renews it (default 9 minutes:
 * see IDLE_RENEW_SECONDS); takes effect at the next IDLE */
void lb_imap_client_set_idle_renew_interval (LbImapClient *self,
                                             guint         seconds);

/* the most UIDs one UID SEARCH may collect, all its responses together,
 * before it fails (default 16 million) */
void lb_imap_client_set_max_search_results (LbImapClient *self,
                                            guint         max);

G_END_DECLS
