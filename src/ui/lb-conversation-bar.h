/* lb-conversation-bar.h: the messages of the conversation being read
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "lb-message.h"

G_BEGIN_DECLS

#define LB_TYPE_CONVERSATION_BAR (lb_conversation_bar_get_type ())

G_DECLARE_FINAL_TYPE (LbConversationBar, lb_conversation_bar, LB, CONVERSATION_BAR, GtkWidget)

GtkWidget  *lb_conversation_bar_new              (void);

/* Reads the messages of @conversation (a threaded list's row: its thread
 * in its folder) from its store and lists them, oldest first; emits
 * ::loaded when they are listed. NULL empties the bar. Setting the same
 * row again reads its messages again (its counts changed). */
void        lb_conversation_bar_set_conversation (LbConversationBar *self,
                                                  LbMessage         *conversation);
LbMessage  *lb_conversation_bar_get_conversation (LbConversationBar *self);

/* The messages listed (LbMessage), oldest first. */
GListModel *lb_conversation_bar_get_messages     (LbConversationBar *self);
/* The message to open first: the oldest unread one, else the newest;
 * NULL while nothing is listed. */
LbMessage  *lb_conversation_bar_get_first_to_read (LbConversationBar *self);
/* The listed message with @key, or NULL. */
LbMessage  *lb_conversation_bar_lookup           (LbConversationBar *self,
                                                  gint64             key);
/* Marks the row of the message with @key as the one shown (0: none). */
void        lb_conversation_bar_set_shown        (LbConversationBar *self,
                                                  gint64             key);

/* Signals:
 *   ::loaded ()                           the messages are listed
 *   ::message-activated (LbMessage *)     the user picked a message */

G_END_DECLS
