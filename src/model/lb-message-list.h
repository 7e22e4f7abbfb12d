/* lb-message-list.h: a lazy, paged list of the messages of folders
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-message.h"
#include "lb-store.h"

G_BEGIN_DECLS

#define LB_TYPE_MESSAGE_LIST (lb_message_list_get_type ())

G_DECLARE_FINAL_TYPE (LbMessageList, lb_message_list, LB, MESSAGE_LIST, GObject)

#define LB_MESSAGE_LIST_PAGE_SIZE 100
#define LB_MESSAGE_LIST_MAX_RESIDENT 1000

LbMessageList *lb_message_list_new            (void);
LbMessageList *lb_message_list_new_threaded   (void);
gboolean       lb_message_list_get_threaded   (LbMessageList        *self);
void           lb_message_list_add_folder     (LbMessageList        *self,
                                               LbStore              *store,
                                               gint64                folder_id);

void           lb_message_list_load_async     (LbMessageList        *self,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean       lb_message_list_load_finish    (LbMessageList        *self,
                                               GAsyncResult         *result,
                                               GError              **error);

void           lb_message_list_fetch_async    (LbMessageList        *self,
                                               guint                 position,
                                               guint                 n_items,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean       lb_message_list_fetch_finish   (LbMessageList        *self,
                                               GAsyncResult         *result,
                                               GError              **error);

LbMessage     *lb_message_list_peek           (LbMessageList        *self,
                                               guint                 position);

void           lb_message_list_dup_conversation_keys_async  (LbMessageList       *self,
                                                             LbMessage           *message,
                                                             GCancellable        *cancellable,
                                                             GAsyncReadyCallback  callback,
                                                             gpointer             user_data);
GArray        *lb_message_list_dup_conversation_keys_finish (LbMessageList       *self,
                                                             GAsyncResult        *result,
                                                             GError             **error);

guint          lb_message_list_get_n_resident (LbMessageList        *self);
gboolean       lb_message_list_is_busy        (LbMessageList        *self);

G_END_DECLS
