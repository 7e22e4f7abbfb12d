/* lb-fuzz-replay.c: a fuzz target's main when it is built plainly
 *
 * Replays each file named on the command line through the target's
 * LLVMFuzzerTestOneInput(), and each file under each directory named, in
 * name order: what a fuzzer found, or a corpus run as a unit test. A file
 * that cannot be read makes it exit 1, after the others; an input the
 * target fails on aborts it. Built with -Dfuzzing=true, libFuzzer has the
 * main instead and this file is not built.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const unsigned char *data,
                            size_t               size);

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static int
replay (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;
      int status = 0;

      if (dir == NULL)
        {
          g_printerr ("%s: %s\n", path, error->message);
          return 1;
        }
      while ((name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (names, g_build_filename (path, name, NULL));
      g_ptr_array_sort (names, compare_names);
      for (guint i = 0; i < names->len; i++)
        status |= replay (names->pdata[i]);
      return status;
    }

  if (!g_file_get_contents (path, &contents, &len, &error))
    {
      g_printerr ("%s: %s\n", path, error->message);
      return 1;
    }
  LLVMFuzzerTestOneInput ((const unsigned char *) contents, len);
  g_print ("%s: ok\n", path);
  return 0;
}

int
main (int   argc,
      char *argv[])
{
  int status = 0;

  for (int i = 1; i < argc; i++)
    status |= replay (argv[i]);
  return status;
}
