/* main.c: the letterbox program
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>
#include <malloc.h>
#include <glib/gi18n.h>
#include <gmime/gmime.h>

#include "lb-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(LbApplication) app = NULL;

  /* Buffers of 128 KiB and more (downloaded message data on its way
   * to the disk, parsed bodies) come from mmap and go back to the system
   * when freed. glibc raises this threshold as large blocks are freed,
   * after which they stay in the heap: a POP3 download of 200 MB then
   * peaked at 110 MB instead of 65. */
  mallopt (M_MMAP_THRESHOLD, 128 * 1024);
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_application_name (_("Letterbox"));
  /* the engine parses mail with GMime, from worker threads too */
  g_mime_init ();

  app = lb_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
