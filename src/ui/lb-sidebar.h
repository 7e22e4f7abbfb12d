/* lb-sidebar.h: the accounts and their folders, with All Inboxes on top
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lb-account-manager.h"

G_BEGIN_DECLS

#define LB_TYPE_SIDEBAR (lb_sidebar_get_type ())

G_DECLARE_FINAL_TYPE (LbSidebar, lb_sidebar, LB, SIDEBAR, AdwBin)

/* Lists "All Inboxes" first, then each account of @manager (in its
 * order) with its folders: the roles first (Inbox, Drafts, Sent, Archive,
 * Junk, Trash) with their icons, then the others by name, nested by path;
 * each with its unread count. Follows the manager's and the accounts'
 * folder models as they change. Keyboard: arrows move, Enter or a click
 * selects. Emits ::selection-changed. */
GtkWidget  *lb_sidebar_new                  (LbAccountManager *manager);

/* NULL when "All Inboxes" is selected */
LbAccount  *lb_sidebar_get_selected_account (LbSidebar        *self);
LbFolder   *lb_sidebar_get_selected_folder  (LbSidebar        *self);
gboolean    lb_sidebar_get_unified_selected (LbSidebar        *self);

void        lb_sidebar_select_unified       (LbSidebar        *self);
void        lb_sidebar_select_folder        (LbSidebar        *self,
                                             LbAccount        *account,
                                             LbFolder         *folder);

/* Quiet per-account status next to its name: a spinner while it syncs,
 * a warning icon with @error as its tooltip (NULL clears it). */
void        lb_sidebar_set_account_busy     (LbSidebar        *self,
                                             LbAccount        *account,
                                             gboolean          busy);
void        lb_sidebar_set_account_error    (LbSidebar        *self,
                                             LbAccount        *account,
                                             const char       *error);

/* its rows are LbSidebarRow (lb-sidebar-row.h), in the order shown */
GtkListBox *lb_sidebar_get_list_box         (LbSidebar        *self);

G_END_DECLS
