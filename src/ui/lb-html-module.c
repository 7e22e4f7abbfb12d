/* lb-html-module.c: finds and loads the HTML view's module
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <gmodule.h>

#include "lb-html-module.h"

#if HAVE_WEBKIT
static const LbHtmlModule *
load_module (void)
{
  const char *dir = g_getenv ("LB_MODULE_DIR");
  g_autofree char *path = NULL;
  GModule *module;
  LbHtmlModuleEntry entry = NULL;
  const LbHtmlModule *table;

  if (dir == NULL || *dir == '\0')
    dir = LB_MODULEDIR;
  path = g_build_filename (dir, LB_HTML_MODULE_NAME "." G_MODULE_SUFFIX, NULL);
  /* local: its symbols are reached through the table only */
  module = g_module_open (path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  if (module == NULL)
    {
      g_message ("HTML mail is shown as text: %s", g_module_error ());
      return NULL;
    }
  if (!g_module_symbol (module, LB_HTML_MODULE_ENTRY, (gpointer *) &entry) || entry == NULL)
    {
      g_message ("HTML mail is shown as text: %s is not Letterbox’s HTML view", path);
      g_module_close (module);
      return NULL;
    }
  table = entry ();
  if (table == NULL || table->abi != LB_HTML_MODULE_ABI || g_strcmp0 (table->version, PACKAGE_VERSION) != 0)
    {
      g_message ("HTML mail is shown as text: %s is from another version of Letterbox (%s)", path,
                 table != NULL && table->version != NULL ? table->version : "?");
      g_module_close (module);
      return NULL;
    }
  /* its types are registered for good: never unloaded */
  g_module_make_resident (module);

  return table;
}
#endif

const LbHtmlModule *
lb_html_module_get (void)
{
#if HAVE_WEBKIT
  static gboolean tried;
  static const LbHtmlModule *table;

  if (!tried)
    {
      tried = TRUE;
      table = load_module ();
    }

  return table;
#else
  return NULL;
#endif
}
