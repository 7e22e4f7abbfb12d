/* lb-message-view.h: one message, read: headers, body parts, attachments
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lb-message.h"

G_BEGIN_DECLS

#define LB_TYPE_MESSAGE_VIEW (lb_message_view_get_type ())

G_DECLARE_FINAL_TYPE (LbMessageView, lb_message_view, LB, MESSAGE_VIEW, AdwBin)

/* @settings: the application's settings (prefer-plain-text,
 * remote-content-senders) */
GtkWidget  *lb_message_view_new          (GSettings     *settings);

/* Shows @message, whose raw bytes are @raw: parses it off the main
 * thread and builds the widgets. Emits ::rendered once the content is laid
 * out. With @raw NULL, shows @message's headers from its summary and a
 * spinner until the next call. */
void        lb_message_view_show_message (LbMessageView *self,
                                          LbMessage     *message,
                                          GBytes        *raw);
/* Shows @message's summary headers and a clear, translated @error where
 * the body would be (the body could not be fetched: offline, server
 * error). */
void        lb_message_view_show_error   (LbMessageView *self,
                                          LbMessage     *message,
                                          const char    *error);
/* Shows nothing ("No message selected"). */
void        lb_message_view_clear        (LbMessageView *self);

LbMessage  *lb_message_view_get_message  (LbMessageView *self);
/* Whether remote content was blocked in the message shown now. */
gboolean    lb_message_view_get_remote_content_blocked (LbMessageView *self);

G_END_DECLS
