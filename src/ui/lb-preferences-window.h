/* lb-preferences-window.h: the application's and the accounts' settings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lb-account-manager.h"
#include "lb-secrets.h"

G_BEGIN_DECLS

#define LB_TYPE_PREFERENCES_WINDOW (lb_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (LbPreferencesWindow, lb_preferences_window, LB, PREFERENCES_WINDOW, AdwPreferencesWindow)

/* The general page edits @settings (reading, notifications, background
 * checks); one page per account of @manager edits that account (name,
 * servers and security, IMAP offline window, POP3 keep-on-server rules
 * and size limit, SMTP, identities and signatures) and saves it with
 * lb_account_manager_save_async(); passwords are changed in @secrets. */
LbPreferencesWindow *lb_preferences_window_new          (GtkWindow        *parent,
                                                         GSettings        *settings,
                                                         LbAccountManager *manager,
                                                         LbSecrets        *secrets);
/* Shows @account's page. */
void                 lb_preferences_window_show_account (LbPreferencesWindow *self,
                                                         LbAccount           *account);

G_END_DECLS
