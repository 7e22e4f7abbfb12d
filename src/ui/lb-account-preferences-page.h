/* lb-account-preferences-page.h: the settings of one account, a page of
 * the preferences window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lb-account-manager.h"
#include "lb-secrets.h"

G_BEGIN_DECLS

#define LB_TYPE_ACCOUNT_PREFERENCES_PAGE (lb_account_preferences_page_get_type ())

G_DECLARE_FINAL_TYPE (LbAccountPreferencesPage, lb_account_preferences_page, LB, ACCOUNT_PREFERENCES_PAGE, AdwPreferencesPage)

LbAccountPreferencesPage *lb_account_preferences_page_new         (LbAccountManager         *manager,
                                                                    LbSecrets                *secrets,
                                                                    LbAccount                *account);
LbAccount                *lb_account_preferences_page_get_account (LbAccountPreferencesPage *self);
/* Applies and saves what is typed in a field not yet left, as leaving it
 * would; the window calls it when it closes. */
void                      lb_account_preferences_page_commit      (LbAccountPreferencesPage *self);

G_END_DECLS
