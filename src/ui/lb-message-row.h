/* lb-message-row.h: a row of the message list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "lb-message.h"

G_BEGIN_DECLS

#define LB_TYPE_MESSAGE_ROW (lb_message_row_get_type ())

G_DECLARE_FINAL_TYPE (LbMessageRow, lb_message_row, LB, MESSAGE_ROW, GtkWidget)

/* Built once in a factory's setup; filled in bind; follows the message's
 * notifications (flags change, the summary loads) while bound. */
GtkWidget  *lb_message_row_new    (void);
void        lb_message_row_bind   (LbMessageRow *self,
                                   LbMessage    *message);
void        lb_message_row_unbind (LbMessageRow *self);
LbMessage  *lb_message_row_get_message (LbMessageRow *self);

G_END_DECLS
