/* lb-message.h: one row of a message list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "lb-message-summary.h"
#include "lb-store.h"

G_BEGIN_DECLS

#define LB_TYPE_MESSAGE (lb_message_get_type ())

G_DECLARE_FINAL_TYPE (LbMessage, lb_message, LB, MESSAGE, GObject)

LbMessage              *lb_message_new             (void);
LbMessage              *lb_message_new_for_summary (LbMessageSummary *summary);

gboolean                lb_message_get_loaded      (LbMessage        *self);
LbStore                *lb_message_get_store       (LbMessage        *self);
void                    lb_message_set_store       (LbMessage        *self,
                                                    LbStore          *store);
LbMessageSummary       *lb_message_get_summary     (LbMessage        *self);
void                    lb_message_set_summary     (LbMessage        *self,
                                                    LbMessageSummary *summary);

gint64                  lb_message_get_key         (LbMessage        *self);
gint64                  lb_message_get_folder_id   (LbMessage        *self);
const char             *lb_message_get_subject     (LbMessage        *self);
const char             *lb_message_get_from        (LbMessage        *self);
const char             *lb_message_get_preview     (LbMessage        *self);
gint64                  lb_message_get_date        (LbMessage        *self);
guint                   lb_message_get_flags       (LbMessage        *self);
gboolean                lb_message_get_unread      (LbMessage        *self);
gboolean                lb_message_get_flagged     (LbMessage        *self);
gboolean                lb_message_get_has_attachments (LbMessage    *self);
gint64                  lb_message_get_thread_id   (LbMessage        *self);

void                    lb_message_set_conversation (LbMessage       *self,
                                                     const LbStoreConversation *conversation);
guint                   lb_message_get_n_messages  (LbMessage        *self);
guint                   lb_message_get_n_unread    (LbMessage        *self);

G_END_DECLS
