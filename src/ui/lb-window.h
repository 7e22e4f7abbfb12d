/* lb-window.h: the main window: folders, messages, the message read
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lb-account-manager.h"
#include "lb-application.h"
#include "lb-discovery.h"
#include "lb-outbox.h"
#include "lb-sync-scheduler.h"

G_BEGIN_DECLS

#define LB_TYPE_WINDOW (lb_window_get_type ())

G_DECLARE_FINAL_TYPE (LbWindow, lb_window, LB, WINDOW, AdwApplicationWindow)

LbWindow      *lb_window_new               (LbApplication    *application,
                                            GSettings        *settings,
                                            LbAccountManager *manager,
                                            LbSyncScheduler  *scheduler);

/* "empty" while there is no account, "mail" otherwise */
const char    *lb_window_get_page          (LbWindow         *self);

/* The discovery the account assistant uses (a test passes one with its
 * own resolver); by default one on the system's resolver. */
void           lb_window_set_discovery     (LbWindow         *self,
                                            LbDiscovery      *discovery);

/* Shows the message @key of @account (a notification was clicked):
 * selects its folder and the message. */
void           lb_window_show_message      (LbWindow         *self,
                                            LbAccount        *account,
                                            gint64            folder_id,
                                            gint64            key);

/* The outbox the window's composers send with (the application's). */
void           lb_window_set_outbox        (LbWindow         *self,
                                            LbOutbox         *outbox);
LbOutbox      *lb_window_get_outbox        (LbWindow         *self);

/* Opens a composer on the default account, with @message (NULL: a new
 * one): a mailto: link opened. */
GtkWindow     *lb_window_compose           (LbWindow         *self,
                                            LbOutgoingMessage *message);

/* For tests and benchmarks: the widgets a user works with. */
GtkListView   *lb_window_get_message_list_view (LbWindow     *self);
GtkWidget     *lb_window_get_sidebar       (LbWindow         *self);
GtkWidget     *lb_window_get_message_view  (LbWindow         *self);
GListModel    *lb_window_get_messages      (LbWindow         *self);

G_END_DECLS
