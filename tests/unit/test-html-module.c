/* test-html-module.c: the program does not link WebKit; the HTML view's
 * module brings it in when it is loaded, and a missing module means no
 * HTML view (HTML shown as text), not a failure
 *
 * Links exactly what the letterbox program links (ui_dep). Needs no
 * display: loading the module creates no widget.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>

#include "lb-html-module.h"

static gboolean
webkit_mapped (void)
{
  g_autofree char *maps = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents ("/proc/self/maps", &maps, NULL, &error);
  g_assert_no_error (error);
  /* the UI's own libraries are there: the test looks at the right file */
  g_assert_nonnull (g_strstr_len (maps, -1, "libgtk-4"));

  return g_strstr_len (maps, -1, "libwebkitgtk") != NULL ||
         g_strstr_len (maps, -1, "libjavascriptcoregtk") != NULL;
}

static void
test_html_module_load (void)
{
  const LbHtmlModule *module;
  GType type;

  g_assert_false (webkit_mapped ());
  g_assert_cmpuint (g_type_from_name ("LbHtmlView"), ==, G_TYPE_INVALID);

  module = lb_html_module_get ();
#if HAVE_WEBKIT
  g_assert_nonnull (module);
  g_assert_cmpuint (module->abi, ==, LB_HTML_MODULE_ABI);
  g_assert_cmpstr (module->version, ==, PACKAGE_VERSION);
  g_assert_true (webkit_mapped ());
  type = module->get_type ();
  g_assert_cmpuint (type, ==, g_type_from_name ("LbHtmlView"));
  g_assert_true (g_type_is_a (type, GTK_TYPE_WIDGET));
  /* loaded once */
  g_assert_true (lb_html_module_get () == module);
#else
  (void) type;
  g_assert_null (module);
  g_assert_false (webkit_mapped ());
#endif
}

static void
test_html_module_missing (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = g_dir_make_tmp ("lb-no-module-XXXXXX", NULL);

      g_assert_nonnull (dir);
      g_setenv ("LB_MODULE_DIR", dir, TRUE);
      g_assert_null (lb_html_module_get ());
      g_assert_null (lb_html_module_get ());
      g_assert_false (webkit_mapped ());
      g_assert_cmpint (g_rmdir (dir), ==, 0);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
#if HAVE_WEBKIT
  /* said once, with what failed */
  g_test_trap_assert_stderr ("*HTML mail is shown as text: *letterbox-html*");
#endif
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/html-module/load", test_html_module_load);
  g_test_add_func ("/html-module/missing", test_html_module_missing);

  return g_test_run ();
}
