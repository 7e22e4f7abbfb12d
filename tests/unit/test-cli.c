/* test-cli.c: letterbox-cli as scripts see it: output and exit codes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>

typedef struct
{
  int   status;
  char *out;
  char *err;
} CliRun;

static void
cli_run_clear (CliRun *run)
{
  g_free (run->out);
  g_free (run->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliRun, cli_run_clear)

static void
run_cli (CliRun     *run,
         const char *first_arg,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("LB_CLI");
  va_list args;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (gpointer) cli);
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  /* untranslated, whatever the machine's language */
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "LANGUAGE");

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
}

static void
test_cli_version (void)
{
  g_auto(CliRun) run = { 0 };

  run_cli (&run, "--version", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.out, ==, "letterbox-cli " PACKAGE_VERSION "\n");
  g_assert_cmpstr (run.err, ==, "");
}

static void
test_cli_help (void)
{
  g_auto(CliRun) run = { 0 };

  run_cli (&run, "--help", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (g_str_has_prefix (run.out, "Usage:\n  letterbox-cli [OPTION…] COMMAND [ARGUMENT…]"));
  g_assert_nonnull (strstr (run.out, "--version"));
  g_assert_nonnull (strstr (run.out, "same accounts, keyring and local mail as Letterbox"));
  g_assert_cmpstr (run.err, ==, "");
}

/* Mistakes exit with 2 and say what went wrong on stderr, nothing on
 * stdout that a script could mistake for output. */
static void
test_cli_usage_errors (void)
{
  g_auto(CliRun) no_command = { 0 };
  g_auto(CliRun) unknown_command = { 0 };
  g_auto(CliRun) unknown_option = { 0 };

  run_cli (&no_command, NULL);
  g_assert_cmpint (no_command.status, ==, 2);
  g_assert_cmpstr (no_command.out, ==, "");
  g_assert_true (g_str_has_prefix (no_command.err, "Usage:"));

  run_cli (&unknown_command, "frobnicate", NULL);
  g_assert_cmpint (unknown_command.status, ==, 2);
  g_assert_cmpstr (unknown_command.out, ==, "");
  g_assert_nonnull (strstr (unknown_command.err, "unknown command “frobnicate”"));

  run_cli (&unknown_option, "--frobnicate", NULL);
  g_assert_cmpint (unknown_option.status, ==, 2);
  g_assert_cmpstr (unknown_option.out, ==, "");
  g_assert_nonnull (strstr (unknown_option.err, "--frobnicate"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/version", test_cli_version);
  g_test_add_func ("/cli/help", test_cli_help);
  g_test_add_func ("/cli/usage-errors", test_cli_usage_errors);

  return g_test_run ();
}
