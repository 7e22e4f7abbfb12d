/* lb-local-provider.h: folders that live only on this computer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-provider.h"

G_BEGIN_DECLS

#define LB_TYPE_LOCAL_PROVIDER (lb_local_provider_get_type ())

G_DECLARE_FINAL_TYPE (LbLocalProvider, lb_local_provider, LB, LOCAL_PROVIDER, GObject)

LbLocalProvider *lb_local_provider_new                  (LbStore              *store);

gboolean         lb_local_provider_check_folder_name    (const char           *name,
                                                         GError              **error);

void             lb_local_provider_create_folder_async  (LbLocalProvider      *self,
                                                         const char           *name,
                                                         LbFolderRole          role,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
LbFolderInfo    *lb_local_provider_create_folder_finish (LbLocalProvider      *self,
                                                         GAsyncResult         *result,
                                                         GError              **error);

G_END_DECLS
