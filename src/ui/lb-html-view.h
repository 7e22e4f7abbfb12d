/* lb-html-view.h: one HTML body part, shown by WebKitGTK and locked down
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Only built with WebKitGTK (HAVE_WEBKIT), into the module letterbox-html
 * with nothing else: the program reaches it through lb-html-module.h,
 * never through this header. The document runs without
 * JavaScript, plugins, WebGL or media autoplay; it can load nothing from
 * the network unless remote content is allowed for it, and even then only
 * images, style sheets, fonts and media (never scripts, frames or
 * connections). cid: URLs are answered from the resources added with
 * lb_html_view_add_resource(). A click on a link navigates nowhere: the
 * view emits ::link-activated with the real target instead. The widget is
 * as tall as its content, so the message view scrolls as one.
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define LB_TYPE_HTML_VIEW (lb_html_view_get_type ())

G_DECLARE_FINAL_TYPE (LbHtmlView, lb_html_view, LB, HTML_VIEW, AdwBin)

GtkWidget  *lb_html_view_new             (void);

/* What a cid:@content_id URL in the document loads. Call before
 * lb_html_view_load(). */
void        lb_html_view_add_resource    (LbHtmlView  *self,
                                          const char  *content_id,
                                          const char  *content_type,
                                          GBytes      *data);

/* Shows @html. With @allow_remote, remote images, style sheets, fonts and
 * media load; scripts never run either way. Emits ::rendered when the
 * document and what it may load are laid out and the widget has its
 * height. Calling it again (to allow remote content) reloads. */
void        lb_html_view_load            (LbHtmlView  *self,
                                          const char  *html,
                                          gboolean     allow_remote);

/* Forgets the document, its resources and whether remote content was
 * allowed, so that the view can show another message: nothing still under
 * way for the old document (its load, its measurement) applies to the next
 * one, and what remote content left in the view's session (cookies,
 * caches) is wiped before the next load. Keeps the web view and its
 * processes, which is what makes the next message quick to show. */
void        lb_html_view_clear           (LbHtmlView  *self);

gboolean    lb_html_view_get_allow_remote (LbHtmlView *self);
/* Whether ::rendered was emitted for the last load. */
gboolean    lb_html_view_get_rendered    (LbHtmlView  *self);

/* The Content-Security-Policy put at the top of every document. */
const char *lb_html_view_get_policy      (gboolean     allow_remote);

G_END_DECLS
