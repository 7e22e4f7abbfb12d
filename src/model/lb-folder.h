/* lb-folder.h: a folder, as the views show it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-store.h"

G_BEGIN_DECLS

#define LB_TYPE_FOLDER (lb_folder_get_type ())

G_DECLARE_FINAL_TYPE (LbFolder, lb_folder, LB, FOLDER, GObject)

LbFolder     *lb_folder_new                 (LbStore            *store,
                                             const LbFolderInfo *info);
void          lb_folder_update              (LbFolder           *self,
                                             const LbFolderInfo *info);

LbStore      *lb_folder_get_store           (LbFolder           *self);
gint64        lb_folder_get_id              (LbFolder           *self);
const char   *lb_folder_get_path            (LbFolder           *self);
const char   *lb_folder_get_name            (LbFolder           *self);
const char   *lb_folder_get_display_name    (LbFolder           *self);
LbFolderRole  lb_folder_get_role            (LbFolder           *self);
gboolean      lb_folder_get_local           (LbFolder           *self);
guint         lb_folder_get_unread_count    (LbFolder           *self);
guint         lb_folder_get_total_count     (LbFolder           *self);
const char   *lb_folder_get_delimiter       (LbFolder           *self);

G_END_DECLS
