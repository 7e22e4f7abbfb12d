/* lb-sidebar-row.h: a row of the sidebar (internal to LbSidebar)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "lb-account.h"

G_BEGIN_DECLS

typedef enum
{
  LB_SIDEBAR_ROW_UNIFIED,
  LB_SIDEBAR_ROW_ACCOUNT,
  LB_SIDEBAR_ROW_FOLDER,
} LbSidebarRowKind;

#define LB_TYPE_SIDEBAR_ROW (lb_sidebar_row_get_type ())

G_DECLARE_FINAL_TYPE (LbSidebarRow, lb_sidebar_row, LB, SIDEBAR_ROW, GtkListBoxRow)

LbSidebarRow     *lb_sidebar_row_new_unified       (void);
LbSidebarRow     *lb_sidebar_row_new_account       (LbAccount    *account);
LbSidebarRow     *lb_sidebar_row_new_folder        (LbAccount    *account,
                                                    LbFolder     *folder);

LbSidebarRowKind  lb_sidebar_row_get_kind          (LbSidebarRow *self);
LbAccount        *lb_sidebar_row_get_account       (LbSidebarRow *self);
LbFolder         *lb_sidebar_row_get_folder        (LbSidebarRow *self);
const char       *lb_sidebar_row_get_title         (LbSidebarRow *self);
guint             lb_sidebar_row_get_unread_count  (LbSidebarRow *self);
const char       *lb_sidebar_row_get_icon_name     (LbSidebarRow *self);

/* the unified row's count, which no single folder has */
void              lb_sidebar_row_set_unread_count  (LbSidebarRow *self,
                                                    guint         count);
guint             lb_sidebar_row_get_depth         (LbSidebarRow *self);
void              lb_sidebar_row_set_depth         (LbSidebarRow *self,
                                                    guint         depth);
/* where the row sorts: its account's place, then its place in the account */
void              lb_sidebar_row_set_position      (LbSidebarRow *self,
                                                    guint         account_index,
                                                    guint         order);
int               lb_sidebar_row_compare           (LbSidebarRow *a,
                                                    LbSidebarRow *b);

gboolean          lb_sidebar_row_get_busy          (LbSidebarRow *self);
void              lb_sidebar_row_set_busy          (LbSidebarRow *self,
                                                    gboolean      busy);
const char       *lb_sidebar_row_get_error         (LbSidebarRow *self);
void              lb_sidebar_row_set_error         (LbSidebarRow *self,
                                                    const char   *error);

const char       *lb_sidebar_folder_role_icon_name (LbFolderRole  role);
guint             lb_sidebar_folder_role_rank      (LbFolderRole  role);

G_END_DECLS
