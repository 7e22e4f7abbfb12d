/* test-cli.c: letterbox-cli as scripts see it: output and exit codes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

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

/* Each run gets these as its config and data directories, and no
 * session bus: a unit test must not touch the user's files or keyring. */
static char *test_home;

static void
run_cli_full (CliRun      *run,
              const char  *input,
              const char  *first_arg,
              va_list      args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("LB_CLI");
  g_autofree char *config = g_build_filename (test_home, "config", NULL);
  g_autofree char *data = g_build_filename (test_home, "data", NULL);

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (gpointer) cli);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE |
                                        (input ? G_SUBPROCESS_FLAGS_STDIN_PIPE : 0));
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data, TRUE);
  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus", TRUE);
  /* untranslated, whatever the machine's language */
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "LANGUAGE");

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
}

static void
run_cli (CliRun     *run,
         const char *first_arg,
         ...)
{
  va_list args;

  va_start (args, first_arg);
  run_cli_full (run, NULL, first_arg, args);
  va_end (args);
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

static void
write_message (const char *path,
               const char *subject,
               const char *date)
{
  g_autofree char *text = g_strdup_printf ("From: Carol <carol@example.test>\n"
                                           "Subject: %s\n"
                                           "Date: %s\n\nHello\n", subject, date);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

/* What a script does: add an account, import mail, list it, remove it. */
static void
test_cli_accounts_and_mail (void)
{
  g_auto(CliRun) add = { 0 };
  g_auto(CliRun) again = { 0 };
  g_auto(CliRun) accounts = { 0 };
  g_auto(CliRun) show = { 0 };
  g_auto(CliRun) import = { 0 };
  g_auto(CliRun) reimport = { 0 };
  g_auto(CliRun) folders = { 0 };
  g_auto(CliRun) listing = { 0 };
  g_auto(CliRun) limited = { 0 };
  g_auto(CliRun) no_account = { 0 };
  g_auto(CliRun) no_folder = { 0 };
  g_auto(CliRun) bad_protocol = { 0 };
  g_auto(CliRun) removed = { 0 };
  g_auto(CliRun) after = { 0 };
  g_autofree char *maildir = g_build_filename (test_home, "old-mail", NULL);
  g_autofree char *cur = g_build_filename (maildir, "cur", NULL);
  g_autofree char *new = g_build_filename (maildir, "new", NULL);
  g_autofree char *tmp = g_build_filename (maildir, "tmp", NULL);
  g_autofree char *m1 = g_build_filename (cur, "1.M1.host:2,S", NULL);
  g_autofree char *m2 = g_build_filename (new, "2.M2.host", NULL);
  g_autofree char *m3 = g_build_filename (cur, "3.M3.host:2,FRS", NULL);
  g_autofree char *ini = g_build_filename (test_home, "config", "letterbox", "accounts",
                                           "alice-at-example.test.ini", NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) fields = NULL;

  run_cli (&add, "account", "add", "--address", "alice@example.test", "--name", "Alice",
           "--protocol", "pop3", "--host", "pop.example.test", "--security", "starttls",
           "--keep-on-server", "no", "--smtp-host", "smtp.example.test", NULL);
  g_assert_cmpstr (add.err, ==, "");
  g_assert_cmpint (add.status, ==, 0);
  g_assert_cmpstr (add.out, ==, "alice-at-example.test\n");
  g_assert_true (g_file_get_contents (ini, &contents, NULL, NULL));
  g_assert_null (strstr (contents, "assword"));

  run_cli (&again, "account", "add", "--id", "alice-at-example.test", "--address", "alice@example.test",
           "--protocol", "imap", "--host", "imap.example.test", NULL);
  g_assert_cmpint (again.status, ==, 1);
  g_assert_cmpstr (again.out, ==, "");
  g_assert_nonnull (strstr (again.err, "exists already"));

  run_cli (&bad_protocol, "account", "add", "--address", "b@example.test", "--protocol", "nntp",
           "--host", "x.example.test", NULL);
  g_assert_cmpint (bad_protocol.status, ==, 2);
  g_assert_nonnull (strstr (bad_protocol.err, "imap or pop3"));

  run_cli (&accounts, "account", "list", NULL);
  g_assert_cmpint (accounts.status, ==, 0);
  g_assert_cmpstr (accounts.out, ==, "alice-at-example.test\talice@example.test\tpop3\tpop.example.test\talice@example.test\n");

  run_cli (&show, "account", "show", "alice-at-example.test", NULL);
  g_assert_cmpint (show.status, ==, 0);
  g_assert_nonnull (strstr (show.out, "incoming-port\t110\n"));
  g_assert_nonnull (strstr (show.out, "incoming-security\tstarttls\n"));
  g_assert_nonnull (strstr (show.out, "pop3-keep-on-server\tno\n"));
  g_assert_nonnull (strstr (show.out, "smtp-port\t465\n"));
  /* no keyring here: said plainly, not guessed */
  g_assert_nonnull (strstr (show.out, "incoming-password\tunknown\n"));
  g_assert_cmpstr (show.err, !=, "");

  g_assert_cmpint (g_mkdir_with_parents (cur, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (new, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (tmp, 0700), ==, 0);
  write_message (m1, "Oldest", "Mon, 1 Jan 2024 10:00:00 +0000");
  write_message (m2, "Newest\ttabbed", "Wed, 3 Jan 2024 10:00:00 +0100");
  write_message (m3, "Middle", "Tue, 2 Jan 2024 10:00:00 +0000");

  run_cli (&import, "import-maildir", "alice-at-example.test", "Archive", maildir, NULL);
  g_assert_cmpstr (import.err, ==, "");
  g_assert_cmpint (import.status, ==, 0);
  g_assert_cmpstr (import.out, ==, "3\n");
  /* an import run twice adds nothing the second time */
  run_cli (&reimport, "import-maildir", "alice-at-example.test", "Archive", maildir, NULL);
  g_assert_cmpint (reimport.status, ==, 0);
  g_assert_cmpstr (reimport.out, ==, "0\n");

  run_cli (&folders, "folders", "alice-at-example.test", NULL);
  g_assert_cmpint (folders.status, ==, 0);
  /* a POP3 account's mail lives here: its Inbox, Sent and Drafts, beside
   * the Outbox */
  g_assert_cmpstr (folders.out, ==,
                   "Inbox\tinbox\t0\t0\tlocal\n"
                   "Sent\tsent\t0\t0\tlocal\n"
                   "Drafts\tdrafts\t0\t0\tlocal\n"
                   "Outbox\toutbox\t0\t0\tlocal\n"
                   "Archive\tnone\t3\t1\tlocal\n");

  run_cli (&listing, "list", "alice-at-example.test", "Archive", NULL);
  g_assert_cmpint (listing.status, ==, 0);
  lines = g_strsplit (listing.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  g_assert_cmpstr (lines[3], ==, "");
  fields = g_strsplit (lines[0], "\t", -1);
  g_assert_cmpuint (g_strv_length (fields), ==, 5);
  g_assert_cmpstr (fields[1], ==, "2024-01-03T09:00:00Z");
  g_assert_cmpstr (fields[2], ==, "");
  g_assert_cmpstr (fields[3], ==, "Carol <carol@example.test>");
  g_assert_cmpstr (fields[4], ==, "Newest tabbed");
  g_assert_true (g_str_has_suffix (lines[1], "\t2024-01-02T10:00:00Z\tFRS\tCarol <carol@example.test>\tMiddle"));
  g_assert_true (g_str_has_suffix (lines[2], "\tS\tCarol <carol@example.test>\tOldest"));

  run_cli (&limited, "list", "--limit", "1", "alice-at-example.test", "Archive", NULL);
  g_assert_cmpint (limited.status, ==, 0);
  g_assert_true (g_str_has_suffix (limited.out, "\tNewest tabbed\n"));
  g_assert_true (strchr (limited.out, '\n') == limited.out + strlen (limited.out) - 1);

  run_cli (&no_account, "list", "bob", "INBOX", NULL);
  g_assert_cmpint (no_account.status, ==, 1);
  g_assert_cmpstr (no_account.out, ==, "");
  g_assert_cmpstr (no_account.err, ==, "letterbox-cli: There is no account “bob” (see “letterbox-cli account list”)\n");

  run_cli (&no_folder, "list", "alice-at-example.test", "Nope", NULL);
  g_assert_cmpint (no_folder.status, ==, 1);
  g_assert_nonnull (strstr (no_folder.err, "no folder “Nope”"));

  /* removing keeps the mail unless told otherwise, and says where it is */
  run_cli (&removed, "account", "remove", "alice-at-example.test", NULL);
  g_assert_cmpint (removed.status, ==, 0);
  g_assert_nonnull (strstr (removed.err, "mail stays in"));
  g_assert_false (g_file_test (ini, G_FILE_TEST_EXISTS));
  run_cli (&after, "account", "list", NULL);
  g_assert_cmpstr (after.out, ==, "");

  /* the same address again: a new, empty account, not the removed one's
   * mail (its Outbox could send) */
  {
    g_auto(CliRun) readd = { 0 };
    g_auto(CliRun) forced = { 0 };
    g_auto(CliRun) new_folders = { 0 };

    run_cli (&readd, "account", "add", "--address", "alice@example.test", "--protocol", "pop3",
             "--host", "pop.example.test", NULL);
    g_assert_cmpint (readd.status, ==, 0);
    g_assert_cmpstr (readd.out, ==, "alice-at-example.test-2\n");
    run_cli (&new_folders, "folders", "alice-at-example.test-2", NULL);
    g_assert_null (strstr (new_folders.out, "Archive"));

    run_cli (&forced, "account", "add", "--id", "alice-at-example.test", "--address", "alice@example.test",
             "--protocol", "pop3", "--host", "pop.example.test", NULL);
    g_assert_cmpint (forced.status, ==, 1);
    g_assert_nonnull (strstr (forced.err, "mail of a removed account"));
  }
}

/* The IMAP settings of account add, shown back and kept in the file. */
static void
test_cli_imap_settings (void)
{
  g_auto(CliRun) add = { 0 };
  g_auto(CliRun) show = { 0 };
  g_auto(CliRun) defaults = { 0 };
  g_auto(CliRun) defaults_show = { 0 };
  g_auto(CliRun) negative = { 0 };
  g_autofree char *ini = g_build_filename (test_home, "config", "letterbox", "accounts", "imap-settings.ini", NULL);
  g_autofree char *contents = NULL;

  run_cli (&add, "account", "add", "--id", "imap-settings", "--address", "dave@example.test",
           "--protocol", "imap", "--host", "imap.example.test", "--security", "none",
           "--allow-plaintext-password", "--offline-days", "7", "--poll-minutes", "3", NULL);
  g_assert_cmpstr (add.err, ==, "");
  g_assert_cmpint (add.status, ==, 0);

  run_cli (&show, "account", "show", "imap-settings", NULL);
  g_assert_cmpint (show.status, ==, 0);
  g_assert_nonnull (strstr (show.out, "incoming-security\tnone\n"));
  g_assert_nonnull (strstr (show.out, "allow-plaintext-password\tyes\n"));
  g_assert_nonnull (strstr (show.out, "offline-days\t7\n"));
  g_assert_nonnull (strstr (show.out, "poll-minutes\t3\n"));
  g_assert_true (g_file_get_contents (ini, &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, "AllowPlaintextLogin=true\n"));
  g_assert_nonnull (strstr (contents, "OfflineDays=7\n"));
  g_assert_nonnull (strstr (contents, "PollMinutes=3\n"));

  /* unless asked, no password goes out unencrypted; poll every 5 minutes */
  run_cli (&defaults, "account", "add", "--id", "imap-defaults", "--address", "erin@example.test",
           "--protocol", "imap", "--host", "imap.example.test", NULL);
  g_assert_cmpint (defaults.status, ==, 0);
  run_cli (&defaults_show, "account", "show", "imap-defaults", NULL);
  g_assert_nonnull (strstr (defaults_show.out, "allow-plaintext-password\tno\n"));
  g_assert_nonnull (strstr (defaults_show.out, "offline-days\t0\n"));
  g_assert_nonnull (strstr (defaults_show.out, "poll-minutes\t5\n"));

  run_cli (&negative, "account", "add", "--address", "f@example.test", "--protocol", "imap",
           "--host", "imap.example.test", "--offline-days", "-1", NULL);
  g_assert_cmpint (negative.status, ==, 2);
  g_assert_cmpstr (negative.out, ==, "");
}

/* sync, show, flag, move and delete on the command line: mistakes are
 * usage errors, and local folders work without a server. */
static void
test_cli_mail_commands (void)
{
  g_autofree char *maildir = g_build_filename (test_home, "mail-commands", NULL);
  g_autofree char *cur = g_build_filename (maildir, "cur", NULL);
  g_autofree char *new = g_build_filename (maildir, "new", NULL);
  g_autofree char *tmp = g_build_filename (maildir, "tmp", NULL);
  g_autofree char *m1 = g_build_filename (cur, "1.M1.host:2,S", NULL);
  g_autofree char *m2 = g_build_filename (cur, "2.M2.host:2,", NULL);
  g_auto(CliRun) add = { 0 };
  g_auto(CliRun) import = { 0 };
  g_auto(CliRun) listing = { 0 };
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) first = NULL;
  g_auto(GStrv) second = NULL;
  const char *usage[][8] = {
    { "sync", NULL },
    { "show", "acct", "Inbox", NULL },
    { "show", "acct", "Inbox", "twelve", NULL },
    { "flag", "acct", "Inbox", "1", NULL },
    { "flag", "acct", "Inbox", "1", "--read", "--unread", NULL },
    { "flag", "acct", "Inbox", "x1", "--read", NULL },
    { "move", "acct", "Inbox", "Archive", NULL },
    { "delete", "acct", "Inbox", NULL },
    { "send", "--to", "bob@example.test", "--subject", "Hi", NULL },
    { "send", "acct", "--subject", "Hi", NULL },
    { "send", "acct", "--to", "bob@example.test", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (usage); i++)
    {
      g_auto(CliRun) run = { 0 };

      run_cli (&run, usage[i][0], usage[i][1], usage[i][2], usage[i][3], usage[i][4], usage[i][5], NULL);
      g_assert_cmpint (run.status, ==, 2);
      g_assert_cmpstr (run.out, ==, "");
      g_assert_true (g_str_has_prefix (run.err, "letterbox-cli: "));
    }

  run_cli (&add, "account", "add", "--id", "local-mail", "--address", "gina@example.test",
           "--protocol", "pop3", "--host", "pop.example.test", NULL);
  g_assert_cmpint (add.status, ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (cur, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (new, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (tmp, 0700), ==, 0);
  write_message (m1, "=?UTF-8?Q?Caf=C3=A9?= plans", "Mon, 1 Jan 2024 10:00:00 +0000");
  write_message (m2, "Other", "Tue, 2 Jan 2024 10:00:00 +0000");
  run_cli (&import, "import-maildir", "local-mail", "Kept", maildir, NULL);
  g_assert_cmpint (import.status, ==, 0);

  run_cli (&listing, "list", "local-mail", "Kept", NULL);
  lines = g_strsplit (listing.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  second = g_strsplit (lines[0], "\t", -1);   /* newest first */
  first = g_strsplit (lines[1], "\t", -1);
  g_assert_cmpstr (first[4], ==, "Café plans");

  {
    g_auto(CliRun) show = { 0 };
    g_auto(CliRun) wrong_folder = { 0 };
    g_auto(CliRun) flag = { 0 };
    g_auto(CliRun) flagged = { 0 };
    g_auto(CliRun) move = { 0 };
    g_auto(CliRun) moved = { 0 };
    g_auto(CliRun) no_trash = { 0 };
    g_auto(CliRun) kept = { 0 };
    g_auto(CliRun) delete = { 0 };
    g_auto(CliRun) deleted = { 0 };

    run_cli (&show, "show", "local-mail", "Kept", first[0], NULL);
    g_assert_cmpint (show.status, ==, 0);
    g_assert_cmpstr (show.out, ==, "From: Carol <carol@example.test>\n"
                                   "Subject: Café plans\n"
                                   "Date: 2024-01-01T10:00:00Z\n"
                                   "\n"
                                   "Hello\n");

    /* a key of another folder is refused, not acted on */
    run_cli (&wrong_folder, "flag", "local-mail", "Inbox", first[0], "--flag", NULL);
    g_assert_cmpint (wrong_folder.status, ==, 1);
    g_assert_nonnull (strstr (wrong_folder.err, "There is no message"));

    run_cli (&flag, "flag", "local-mail", "Kept", first[0], second[0], "--flag", "--unread", NULL);
    g_assert_cmpstr (flag.err, ==, "");
    g_assert_cmpint (flag.status, ==, 0);
    run_cli (&flagged, "list", "local-mail", "Kept", NULL);
    g_assert_nonnull (strstr (flagged.out, "\tF\tCarol <carol@example.test>\tCafé plans\n"));
    g_assert_nonnull (strstr (flagged.out, "\tF\tCarol <carol@example.test>\tOther\n"));

    run_cli (&move, "move", "local-mail", "Kept", second[0], "Inbox", NULL);
    g_assert_cmpint (move.status, ==, 0);
    run_cli (&moved, "list", "local-mail", "Inbox", NULL);
    g_assert_true (g_str_has_suffix (moved.out, "\tOther\n"));

    /* no Trash folder here: nothing is deleted for good unasked */
    run_cli (&no_trash, "delete", "local-mail", "Inbox", second[0], NULL);
    g_assert_cmpint (no_trash.status, ==, 1);
    g_assert_nonnull (strstr (no_trash.err, "no Trash folder"));
    g_assert_nonnull (strstr (no_trash.err, "--permanent"));
    run_cli (&kept, "list", "local-mail", "Inbox", NULL);
    g_assert_true (g_str_has_suffix (kept.out, "\tOther\n"));
    run_cli (&delete, "delete", "--permanent", "local-mail", "Inbox", second[0], NULL);
    g_assert_cmpint (delete.status, ==, 0);
    run_cli (&deleted, "list", "local-mail", "Inbox", NULL);
    g_assert_cmpstr (deleted.out, ==, "");
  }
}

/* Mail that tries to drive the terminal (set the title, write the
 * clipboard with OSC 52, a C1 CSI): what show and list print has no
 * control character left but line breaks and tabs. */
static void
assert_terminal_safe (const char *out)
{
  for (const char *p = out; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '\n' || c == '\t')
        continue;
      g_assert_false (c < 0x20 || (c >= 0x7f && c <= 0x9f));
    }
}

static void
test_cli_hostile_text (void)
{
  g_autofree char *maildir = g_build_filename (test_home, "hostile", NULL);
  g_autofree char *cur = g_build_filename (maildir, "cur", NULL);
  g_autofree char *new = g_build_filename (maildir, "new", NULL);
  g_autofree char *tmp = g_build_filename (maildir, "tmp", NULL);
  g_autofree char *m1 = g_build_filename (cur, "1.M1.host:2,S", NULL);
  g_autoptr(GError) error = NULL;
  g_auto(CliRun) add = { 0 };
  g_auto(CliRun) import = { 0 };
  g_auto(CliRun) listing = { 0 };
  g_auto(CliRun) show = { 0 };
  g_auto(CliRun) folders = { 0 };
  g_auto(GStrv) fields = NULL;
  const char *text = "From: Mallory <mallory@example.test>\n"
                     "Subject: =?UTF-8?Q?Hi=1B]0;owned=07_there?=\n"
                     "Date: Mon, 1 Jan 2024 10:00:00 +0000\n"
                     "MIME-Version: 1.0\n"
                     "Content-Type: text/plain; charset=utf-8\n"
                     "\n"
                     "Copy this: \x1b]52;c;cm0gLXJmIH4K\x07 done\n"
                     "C1: \xc2\x9b" "31m red, bell \x07, delete \x7f.\n"
                     "\tindented line\n";

  run_cli (&add, "account", "add", "--id", "hostile", "--address", "gina@example.test",
           "--protocol", "pop3", "--host", "pop.example.test", NULL);
  g_assert_cmpint (add.status, ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (cur, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (new, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (tmp, 0700), ==, 0);
  g_file_set_contents (m1, text, -1, &error);
  g_assert_no_error (error);
  run_cli (&import, "import-maildir", "hostile", "Odd\x1b[2Jname", maildir, NULL);
  g_assert_cmpint (import.status, ==, 0);

  run_cli (&listing, "list", "hostile", "Odd\x1b[2Jname", NULL);
  g_assert_cmpint (listing.status, ==, 0);
  assert_terminal_safe (listing.out);
  fields = g_strsplit (listing.out, "\t", -1);
  g_assert_cmpuint (g_strv_length (fields), ==, 5);
  g_assert_nonnull (strstr (fields[4], "]0;owned"));

  run_cli (&show, "show", "hostile", "Odd\x1b[2Jname", fields[0], NULL);
  g_assert_cmpint (show.status, ==, 0);
  assert_terminal_safe (show.out);
  g_assert_nonnull (strstr (show.out, "]0;owned"));
  g_assert_nonnull (strstr (show.out, "Copy this: \xef\xbf\xbd]52;c;cm0gLXJmIH4K\xef\xbf\xbd done\n"
                                      "C1: \xef\xbf\xbd" "31m red, bell \xef\xbf\xbd, delete \xef\xbf\xbd.\n"
                                      "\tindented line\n"));

  run_cli (&folders, "folders", "hostile", NULL);
  g_assert_cmpint (folders.status, ==, 0);
  assert_terminal_safe (folders.out);
  g_assert_nonnull (strstr (folders.out, "Odd\xef\xbf\xbd[2Jname\t"));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  test_home = g_dir_make_tmp ("lb-cli-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/cli/version", test_cli_version);
  g_test_add_func ("/cli/help", test_cli_help);
  g_test_add_func ("/cli/usage-errors", test_cli_usage_errors);
  g_test_add_func ("/cli/accounts-and-mail", test_cli_accounts_and_mail);
  g_test_add_func ("/cli/imap-settings", test_cli_imap_settings);
  g_test_add_func ("/cli/mail-commands", test_cli_mail_commands);
  g_test_add_func ("/cli/hostile-text", test_cli_hostile_text);

  status = g_test_run ();
  lb_test_remove_tree (test_home);
  g_free (test_home);
  return status;
}
