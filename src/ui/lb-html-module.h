/* lb-html-module.h: the HTML view, loaded when the first HTML part is shown
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * LbHtmlView (lb-html-view.c) is built as a module of its own
 * (letterbox-html.so, installed under LB_MODULEDIR) so that the program
 * does not link WebKitGTK: the dynamic linking of WebKit and its
 * libraries would otherwise be paid at every launch, and their memory
 * kept, by users who never open an HTML message. The program reaches the
 * view only through the table below; lb_html_module_get() loads the
 * module on first use.
 *
 * The directory the module is looked for in is $LB_MODULE_DIR when set
 * (the build tree: set by the tests, `meson devenv`, build-aux/run and
 * bench/run-ui), else LB_MODULEDIR. A module missing (WebKitGTK not
 * installed), not loadable or from another build of Letterbox means no
 * HTML view: the message view shows HTML as text.
 */

#pragma once

#include <gmodule.h>
#include <gtk/gtk.h>

G_BEGIN_DECLS

/* changes whenever the table changes */
#define LB_HTML_MODULE_ABI 1
/* the function the module exports, returning its table */
#define LB_HTML_MODULE_ENTRY "lb_html_module_entry"
#define LB_HTML_MODULE_NAME "letterbox-html"

/* The view's API (see lb-html-view.h for what each does); @view is an
 * LbHtmlView. The signals ("rendered", "link-activated") are connected
 * by name. */
typedef struct
{
  guint        abi;      /* LB_HTML_MODULE_ABI */
  const char  *version;  /* PACKAGE_VERSION of the module's build */

  GType        (*get_type)         (void);
  GtkWidget   *(*view_new)         (void);
  void         (*add_resource)     (GtkWidget  *view,
                                    const char *content_id,
                                    const char *content_type,
                                    GBytes     *data);
  void         (*load)             (GtkWidget  *view,
                                    const char *html,
                                    gboolean    allow_remote);
  void         (*clear)            (GtkWidget  *view);
  gboolean     (*get_allow_remote) (GtkWidget  *view);
  gboolean     (*get_rendered)     (GtkWidget  *view);
} LbHtmlModule;

typedef const LbHtmlModule *(*LbHtmlModuleEntry) (void);

/* Exported by the module only (found with g_module_symbol()): its table. */
G_MODULE_EXPORT const LbHtmlModule *lb_html_module_entry (void);

/* The module's table, the module loaded on the first call (in the main
 * thread). %NULL when there is no HTML view (built without WebKitGTK, or
 * the module could not be loaded: said once with g_message()). */
const LbHtmlModule *lb_html_module_get (void);

G_END_DECLS
