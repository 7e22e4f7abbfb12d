/* main.c: letterbox-cli, the headless front end over the account model
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <glib/gi18n.h>

/* Exit codes scripts can rely on. */
enum {
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2,
};

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "version", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, &version,
      N_("Show the program version and exit"), NULL },
    G_OPTION_ENTRY_NULL
  };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_prgname ("letterbox-cli");

  /* Translators: the placeholder of the command line's argument list */
  context = g_option_context_new (_("COMMAND [ARGUMENT…]"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
                                _("Reads and sends the mail of your Letterbox accounts "
                                  "without a window: for scripts and terminals. It uses "
                                  "the same accounts, keyring and local mail as Letterbox."));
  g_option_context_set_description (context,
                                    _("No commands are available yet."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("letterbox-cli: %s\n", error->message);
      g_printerr (_("Try “letterbox-cli --help” for more information.\n"));
      return EXIT_USAGE;
    }

  if (version)
    {
      g_print ("letterbox-cli %s\n", PACKAGE_VERSION);
      return EXIT_OK;
    }

  if (argc < 2)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      g_printerr ("%s", help);
      return EXIT_USAGE;
    }

  g_printerr (_("letterbox-cli: unknown command “%s”\n"), argv[1]);
  g_printerr (_("Try “letterbox-cli --help” for more information.\n"));

  return EXIT_USAGE;
}
