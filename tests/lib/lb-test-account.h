/* lb-test-account.h: accounts on the harness's servers, for UI tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lb-account-manager.h"

G_BEGIN_DECLS

/* alice@example.test on the harness: IMAP over TLS and SMTP submissions,
 * the throwaway certificate pinned for both, two identities with
 * signatures ("Alice Example" and "Alice at Work") */
LbAccount *lb_test_account_new_alice      (void);
/* stores @password for @protocol ("imap", "smtp") in the keyring */
void       lb_test_account_store_password (LbAccount        *account,
                                           const char       *protocol,
                                           const char       *password);
/* adds @account to @manager, which must succeed */
void       lb_test_account_add            (LbAccountManager *manager,
                                           LbAccount        *account);
/* on the server: alice's INBOX with one message from carol ("Lunch
 * plans", Message-ID lunch-1@letterbox.test), her Drafts and bob's INBOX
 * empty */
void       lb_test_account_reset_mailboxes (void);

G_END_DECLS
