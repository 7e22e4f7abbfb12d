/* test-cli-keyring.c: a password saved by letterbox-cli is found by the
 * account model through the real Secret Service (the harness's
 * gnome-keyring), and leaves with the account
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "lb-account-manager.h"
#include "lb-secrets.h"
#include "lb-test-session.h"

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

/* The harness points XDG_CONFIG_HOME, XDG_DATA_HOME and the session bus at
 * its own directory and keyring; the CLI inherits them. */
static void
run_cli (CliRun      *run,
         const char  *input,
         const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, (gpointer) lb_test_getenv ("LB_CLI"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
}

static char *
lookup (const char *account_id,
        const char *protocol)
{
  g_autoptr(LbSecrets) secrets = lb_secrets_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbSecretsPassword) password = NULL;
  LbSecretKey key = { account_id, protocol, NULL, NULL };

  lb_secrets_lookup_async (secrets, &key, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  password = lb_secrets_lookup_finish (secrets, result, &error);
  g_assert_no_error (error);
  return g_strdup (password);
}

static gboolean
file_contains (const char *directory,
               const char *needle)
{
  g_autoptr(GDir) dir = g_dir_open (directory, 0, NULL);
  const char *name;

  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (directory, name, NULL);
      g_autofree char *contents = NULL;

      if (g_file_test (path, G_FILE_TEST_IS_DIR) ? file_contains (path, needle)
          : (g_file_get_contents (path, &contents, NULL, NULL) && strstr (contents, needle) != NULL))
        return TRUE;
    }
  return FALSE;
}

static void
test_cli_password_reaches_model (void)
{
  const char *add[] = { "account", "add", "--address", "alice@example.test",
                        "--protocol", "imap", "--host", "127.0.0.1",
                        "--smtp-host", "127.0.0.1", "--password-stdin", NULL };
  const char *show[] = { "account", "show", "alice-at-example.test", NULL };
  const char *remove[] = { "account", "remove", "alice-at-example.test", NULL };
  const char *secret = "correct horse — батарея staple";
  g_autofree char *input = g_strconcat (secret, "\n", NULL);
  g_auto(CliRun) added = { 0 };
  g_auto(CliRun) shown = { 0 };
  g_auto(CliRun) removed = { 0 };
  g_autofree char *incoming = NULL;
  g_autofree char *outgoing = NULL;
  g_autofree char *after = NULL;
  g_autoptr(LbAccountManager) manager = lb_account_manager_new (NULL, NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  run_cli (&added, input, add);
  g_assert_cmpstr (added.err, ==, "");
  g_assert_cmpint (added.status, ==, 0);
  g_assert_cmpstr (added.out, ==, "alice-at-example.test\n");

  /* the model sees the account the CLI wrote ... */
  lb_account_manager_load_async (manager, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_account_manager_load_finish (manager, result, &error));
  g_assert_nonnull (lb_account_manager_lookup (manager, "alice-at-example.test"));

  /* ... and, through the keyring, its passwords, whole */
  incoming = lookup ("alice-at-example.test", "imap");
  outgoing = lookup ("alice-at-example.test", "smtp");
  g_assert_cmpstr (incoming, ==, secret);
  g_assert_cmpstr (outgoing, ==, secret);

  /* never in a file */
  g_assert_false (file_contains (g_get_user_config_dir (), "horse"));
  g_assert_false (file_contains (g_get_user_data_dir (), "horse"));

  run_cli (&shown, NULL, show);
  g_assert_cmpint (shown.status, ==, 0);
  g_assert_nonnull (strstr (shown.out, "incoming-password\tstored\n"));
  g_assert_null (strstr (shown.out, "horse"));

  /* the passwords go with the account */
  run_cli (&removed, NULL, remove);
  g_assert_cmpint (removed.status, ==, 0);
  after = lookup ("alice-at-example.test", "imap");
  g_assert_null (after);
  g_clear_pointer (&after, g_free);
  after = lookup ("alice-at-example.test", "smtp");
  g_assert_null (after);
}

static void
test_cli_empty_password (void)
{
  const char *add[] = { "account", "add", "--address", "bob@example.test",
                        "--protocol", "pop3", "--host", "127.0.0.1", "--password-stdin", NULL };
  const char *list[] = { "account", "list", NULL };
  g_auto(CliRun) added = { 0 };
  g_auto(CliRun) listed = { 0 };

  /* nothing on stdin: a clear error, and no half-made account */
  run_cli (&added, "", add);
  g_assert_cmpint (added.status, ==, 1);
  g_assert_cmpstr (added.out, ==, "");
  g_assert_nonnull (strstr (added.err, "No password on standard input"));
  run_cli (&listed, NULL, list);
  g_assert_null (strstr (listed.out, "bob"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli-keyring/password-reaches-model", test_cli_password_reaches_model);
  g_test_add_func ("/cli-keyring/empty-password", test_cli_empty_password);

  return g_test_run ();
}
