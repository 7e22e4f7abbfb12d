/* test-layers.c: the engine and model libraries build and link without GTK
 *
 * This program gets exactly the dependency model_dep declares (which
 * carries the engine's). If a GTK, GDK, libadwaita or WebKit header became
 * visible through it, or a GTK library got linked in, the layering the
 * build promises would be broken.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "lb-connector.h"
#include "lb-secrets.h"

#if defined(__has_include)
# if __has_include(<gtk/gtk.h>) || __has_include(<gdk/gdk.h>) || __has_include(<adwaita.h>) || __has_include(<webkit/webkit.h>)
#  define UI_HEADERS_VISIBLE TRUE
# else
#  define UI_HEADERS_VISIBLE FALSE
# endif
#else
# error "the compiler must support __has_include"
#endif

static void
test_layers_no_ui_headers (void)
{
  g_assert_false (UI_HEADERS_VISIBLE);
}

static void
test_layers_no_ui_libraries (void)
{
  g_autofree char *maps = NULL;
  g_autoptr(GError) error = NULL;
  const char *forbidden[] = { "libgtk-4", "libgdk", "libadwaita", "libwebkit" };

  /* use both libraries, so they are really linked in */
  g_assert_finalize_object (lb_connector_new ());
  g_assert_finalize_object (lb_secrets_new ());

  g_file_get_contents ("/proc/self/maps", &maps, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (g_strstr_len (maps, -1, "libgio-2.0"));
  g_assert_nonnull (g_strstr_len (maps, -1, "libsecret-1"));

  for (guint i = 0; i < G_N_ELEMENTS (forbidden); i++)
    {
      if (g_strstr_len (maps, -1, forbidden[i]) != NULL)
        g_error ("%s is loaded into a program built on the model alone", forbidden[i]);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/layers/no-ui-headers", test_layers_no_ui_headers);
  g_test_add_func ("/layers/no-ui-libraries", test_layers_no_ui_libraries);

  return g_test_run ();
}
