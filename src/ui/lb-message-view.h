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

/* Whether ::rendered was emitted for the message shown now (and not
 * undone by a reload with remote content). */
gboolean    lb_message_view_get_rendered (LbMessageView *self);
/* How many attachments the attachment list shows. */
guint       lb_message_view_get_n_attachments (LbMessageView *self);

/* Whether @html refers to remote images, style sheets, fonts or media: a
 * heuristic for the "remote content blocked" banner only; the HTML view
 * blocks remote loads whatever it says. */
gboolean    lb_message_view_html_has_remote_content (const char *html);

/* Signals:
 *   ::rendered ()                       the content is laid out
 *   ::attachments-saved (GFile *directory, guint n_saved)
 *                                       "save-all" or "save-all-to" ended
 * Actions (group "message-view"), what the buttons and menus use and the
 * way tests drive the view:
 *   copy-address (s)      the address to the clipboard
 *   show-remote-once      load this message's remote content
 *   always-show-remote    the same, and always for its sender
 *                         (GSettings remote-content-senders)
 *   open-attachment (u)   the n-th attachment with its default application
 *   save-attachment (u)   the n-th attachment, asking where
 *   save-all              every attachment, asking for a folder
 *   save-all-to (s)       every attachment into the folder at the path or
 *                         URI given, without asking: names that exist get
 *                         " (2)", " (3)"... so nothing is overwritten. Ends
 *                         with ::attachments-saved, or a toast saying what
 *                         failed. */

G_END_DECLS
