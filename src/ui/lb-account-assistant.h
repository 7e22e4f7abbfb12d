/* lb-account-assistant.h: adds an account: who you are, which servers,
 * IMAP or POP3
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lb-account-manager.h"
#include "lb-discovery.h"
#include "lb-secrets.h"

G_BEGIN_DECLS

#define LB_TYPE_ACCOUNT_ASSISTANT (lb_account_assistant_get_type ())

G_DECLARE_FINAL_TYPE (LbAccountAssistant, lb_account_assistant, LB, ACCOUNT_ASSISTANT, AdwWindow)

/* A modal window over @parent. It asks for a name, an address and a
 * password, discovers and probes the servers with @discovery (manual
 * settings always reachable), explains IMAP and POP3 and recommends one,
 * stores the password with @secrets, and adds the account to @manager.
 * Emits ::account-added (LbAccount) and closes itself when done. */
LbAccountAssistant *lb_account_assistant_new (GtkWindow        *parent,
                                              LbAccountManager *manager,
                                              LbDiscovery      *discovery,
                                              LbSecrets        *secrets);

G_END_DECLS
