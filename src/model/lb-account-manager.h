/* lb-account-manager.h: the user's accounts and their files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-account.h"
#include "lb-message-list.h"

G_BEGIN_DECLS

#define LB_TYPE_ACCOUNT_MANAGER (lb_account_manager_get_type ())

G_DECLARE_FINAL_TYPE (LbAccountManager, lb_account_manager, LB, ACCOUNT_MANAGER, GObject)

LbAccountManager *lb_account_manager_new             (const char           *config_dir,
                                                      const char           *data_dir);

const char       *lb_account_manager_get_config_dir  (LbAccountManager     *self);
const char       *lb_account_manager_get_data_dir    (LbAccountManager     *self);

void              lb_account_manager_load_async      (LbAccountManager     *self,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
gboolean          lb_account_manager_load_finish     (LbAccountManager     *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);
GPtrArray        *lb_account_manager_get_load_errors (LbAccountManager     *self);

void              lb_account_manager_add_async       (LbAccountManager     *self,
                                                      LbAccount            *account,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
gboolean          lb_account_manager_add_finish      (LbAccountManager     *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

void              lb_account_manager_save_async      (LbAccountManager     *self,
                                                      LbAccount            *account,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
gboolean          lb_account_manager_save_finish     (LbAccountManager     *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

void              lb_account_manager_remove_async    (LbAccountManager     *self,
                                                      LbAccount            *account,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
gboolean          lb_account_manager_remove_finish   (LbAccountManager     *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

LbAccount        *lb_account_manager_lookup          (LbAccountManager     *self,
                                                      const char           *id);
char             *lb_account_manager_make_id         (LbAccountManager     *self,
                                                      const char           *address);

LbMessageList    *lb_account_manager_create_unified_inbox (LbAccountManager *self);
LbMessageList    *lb_account_manager_create_unified_inbox_full (LbAccountManager *self,
                                                               gboolean          threaded);

G_END_DECLS
