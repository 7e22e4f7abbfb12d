/* main.c: letterbox-cli, the headless front end over the account model
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gio/gunixinputstream.h>
#include <gmime/gmime.h>

#include "lb-account-manager.h"
#include "lb-identity.h"
#include "lb-imap-provider.h"
#include "lb-maildir-import.h"
#include "lb-message.h"
#include "lb-message-list.h"
#include "lb-mime-text.h"
#include "lb-outbox.h"
#include "lb-outgoing-message.h"
#include "lb-pop3-provider.h"
#include "lb-secrets.h"
#include "lb-store.h"

/* Exit codes scripts can rely on. */
enum {
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2,
};

/* ------------------------------------------------------------------ helpers */

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* Text from mail or from a server, made safe for a terminal: hostile
 * mail must not send escape sequences (set the title, write the
 * clipboard with OSC 52...). Control characters (C0 but the line breaks
 * and tabs kept, DEL, C1) and invalid UTF-8 become U+FFFD; CR LF becomes
 * LF. With @one_line, tabs and line breaks become spaces: one record per
 * line, tab-separated. */
static char *
terminal_safe (const char *text,
               gboolean    one_line)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);
  GString *out = g_string_sized_new (strlen (valid));

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '\r' && p[1] == '\n' && !one_line)
        continue;
      if (c == '\t' || c == '\n' || c == '\r')
        {
          if (one_line)
            g_string_append_c (out, ' ');
          else if (c == '\r')
            g_string_append_unichar (out, 0xFFFD);
          else
            g_string_append_c (out, (char) c);
        }
      else if (c < 0x20 || (c >= 0x7F && c <= 0x9F))
        g_string_append_unichar (out, 0xFFFD);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
    }
  return g_string_free (out, FALSE);
}

static int
fail (const char *message)
{
  g_autofree char *clean = terminal_safe (message, FALSE);

  g_printerr ("letterbox-cli: %s\n", clean);
  return EXIT_FAILED;
}

static int
usage_error (const char *message)
{
  g_printerr ("letterbox-cli: %s\n", message);
  g_printerr (_("Try “letterbox-cli --help” for more information.\n"));
  return EXIT_USAGE;
}

/* Parses a command's options; --help shows @parameters and @summary. */
static gboolean
parse_options (int                 *argc,
               char              ***argv,
               const char          *parameters,
               const char          *summary,
               const GOptionEntry  *entries,
               GError             **error)
{
  g_autoptr(GOptionContext) context = g_option_context_new (parameters);

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  return g_option_context_parse (context, argc, argv, error);
}

/* One line per record, tab-separated: no tab, line break or control
 * character may come from the data. */
static char *
field (const char *text)
{
  return terminal_safe (text, TRUE);
}

static LbAccountManager *
load_accounts (GError **error)
{
  g_autoptr(LbAccountManager) manager = lb_account_manager_new (NULL, NULL);
  g_autoptr(GAsyncResult) result = NULL;
  GPtrArray *errors;

  lb_account_manager_load_async (manager, NULL, store_result, &result);
  wait_for (&result);
  if (!lb_account_manager_load_finish (manager, result, error))
    return NULL;

  /* a broken account file must not pass unnoticed */
  errors = lb_account_manager_get_load_errors (manager);
  for (guint i = 0; errors != NULL && i < errors->len; i++)
    g_printerr ("letterbox-cli: %s\n", ((GError *) errors->pdata[i])->message);

  return g_steal_pointer (&manager);
}

static LbAccount *
find_account (LbAccountManager  *manager,
              const char        *id,
              GError           **error)
{
  LbAccount *account = lb_account_manager_lookup (manager, id);

  if (account == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _("There is no account “%s” (see “letterbox-cli account list”)"), id);
  return account;
}

/* Opens the account as the app does (its store, and the local folders
 * every account has), and returns its store. */
static LbStore *
open_store (LbAccount  *account,
            GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_account_open_async (account, NULL, store_result, &result);
  wait_for (&result);
  if (!lb_account_open_finish (account, result, error))
    return NULL;
  return g_object_ref (lb_account_get_store (account));
}

/* Closes the account and lets the store's threads hand back their
 * references before exit (the caller drops its own results and lists
 * first), so the store closes its database properly. */
static void
close_store (LbAccount *account,
             LbStore   *store)
{
  lb_account_close (account);
  while (G_OBJECT (store)->ref_count > 1)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
  g_object_unref (store);
}

static LbFolderInfo *
find_folder (LbStore     *store,
             const char  *path,
             GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) folders = NULL;

  lb_store_list_folders_async (store, NULL, store_result, &result);
  wait_for (&result);
  folders = lb_store_list_folders_finish (store, result, error);
  if (folders == NULL)
    return NULL;
  for (guint i = 0; i < folders->len; i++)
    {
      LbFolderInfo *info = folders->pdata[i];

      if (g_strcmp0 (info->path, path) == 0)
        return lb_folder_info_copy (info);
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               _("The account has no folder “%s” (see “letterbox-cli folders”)"), path);
  return NULL;
}

static const char *
protocol_of (LbAccount *account)
{
  return lb_incoming_protocol_to_string (lb_account_get_incoming_protocol (account));
}

/* ------------------------------------------------------------------ account add */

/* The password from standard input, to free with lb_secrets_password_free(). */
static char *
read_password (GError **error)
{
  GString *line = g_string_new (NULL);
  int c;

  /* one line; the line break is not part of it */
  while ((c = getchar ()) != EOF && c != '\n')
    g_string_append_c (line, (char) c);
  if (line->len > 0 && line->str[line->len - 1] == '\r')
    g_string_truncate (line, line->len - 1);

  if (line->len == 0)
    {
      g_string_free (line, TRUE);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("No password on standard input"));
      return NULL;
    }
  if (!g_utf8_validate (line->str, line->len, NULL))
    {
      memset (line->str, 0, line->len);
      g_string_free (line, TRUE);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The password on standard input is not valid UTF-8"));
      return NULL;
    }
  return g_string_free (line, FALSE);
}

static gboolean
store_password (LbAccount   *account,
                const char  *protocol,
                const char  *host,
                const char  *user,
                const char  *password,
                GError     **error)
{
  g_autoptr(LbSecrets) secrets = lb_secrets_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *label = NULL;
  LbSecretKey key = { lb_account_get_id (account), protocol, host, user };

  /* Translators: the name the keyring shows for a saved password:
   * “Letterbox: imap password for alice@example.org” */
  label = g_strdup_printf (_("Letterbox: %s password for %s"), protocol, user ? user : host);
  lb_secrets_store_async (secrets, &key, label, password, NULL, store_result, &result);
  wait_for (&result);
  return lb_secrets_store_finish (secrets, result, error);
}

static int
account_add (int    argc,
             char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbAccountManager) manager = NULL;
  g_autoptr(LbAccount) account = NULL;
  g_autoptr(LbIdentity) identity = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *id = NULL, *address = NULL, *name = NULL, *display_name = NULL;
  g_autofree char *protocol = NULL, *host = NULL, *security = NULL, *user = NULL;
  g_autofree char *smtp_host = NULL, *smtp_security = NULL, *smtp_user = NULL;
  g_autofree char *keep = NULL;
  g_autoptr(LbSecretsPassword) password = NULL;
  int port = 0, smtp_port = 0, delete_after = 0, offline_days = 0, poll_minutes = 5, size_limit = 0;
  gboolean delete_here = FALSE;
  gboolean password_stdin = FALSE;
  gboolean allow_plaintext = FALSE;
  LbIncomingProtocol incoming;
  LbNetSecurity net_security = LB_NET_SECURITY_TLS;
  LbNetSecurity net_smtp_security = LB_NET_SECURITY_TLS;
  const GOptionEntry entries[] = {
    { "id", 0, 0, G_OPTION_ARG_STRING, &id, N_("The account’s id (made from the address if not given)"), N_("ID") },
    { "address", 0, 0, G_OPTION_ARG_STRING, &address, N_("Your email address"), N_("ADDRESS") },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, N_("Your name, as recipients see it"), N_("NAME") },
    { "display-name", 0, 0, G_OPTION_ARG_STRING, &display_name, N_("The account’s name in Letterbox"), N_("NAME") },
    { "protocol", 0, 0, G_OPTION_ARG_STRING, &protocol, N_("How mail is read: imap or pop3"), N_("PROTOCOL") },
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, N_("The incoming mail server"), N_("HOST") },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, N_("Its port (default: the protocol’s)"), N_("PORT") },
    { "security", 0, 0, G_OPTION_ARG_STRING, &security, N_("tls, starttls or none (default: tls)"), N_("SECURITY") },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, N_("The user name (default: the address)"), N_("USER") },
    { "keep-on-server", 0, 0, G_OPTION_ARG_STRING, &keep, N_("POP3: yes to keep a copy of the mail on the server, no to delete it once it is stored here (default)"), N_("yes|no") },
    { "delete-after-days", 0, 0, G_OPTION_ARG_INT, &delete_after, N_("POP3, keeping a copy: delete it from the server this many days after downloading it (0: never)"), N_("DAYS") },
    { "delete-when-deleted-here", 0, 0, G_OPTION_ARG_NONE, &delete_here, N_("POP3, keeping a copy: delete it from the server once it is deleted here for good"), NULL },
    { "size-limit", 0, 0, G_OPTION_ARG_INT, &size_limit, N_("POP3: of a message larger than KIB kibibytes download only the headers, and the rest when asked (0: no limit, the default)"), N_("KIB") },
    { "allow-plaintext-password", 0, 0, G_OPTION_ARG_NONE, &allow_plaintext, N_("Allow sending the password over a connection without encryption (--security none), where others can read it"), NULL },
    { "offline-days", 0, 0, G_OPTION_ARG_INT, &offline_days, N_("IMAP: keep the messages of the last DAYS downloaded for reading offline (default 0: download a message when it is read)"), N_("DAYS") },
    { "poll-minutes", 0, 0, G_OPTION_ARG_INT, &poll_minutes, N_("IMAP: look for new mail in the folders not watched continuously every MINUTES (default 5; 0: never)"), N_("MINUTES") },
    { "smtp-host", 0, 0, G_OPTION_ARG_STRING, &smtp_host, N_("The outgoing (SMTP) server"), N_("HOST") },
    { "smtp-port", 0, 0, G_OPTION_ARG_INT, &smtp_port, N_("Its port (default: 465 for tls, 587 otherwise)"), N_("PORT") },
    { "smtp-security", 0, 0, G_OPTION_ARG_STRING, &smtp_security, N_("tls, starttls or none (default: tls)"), N_("SECURITY") },
    { "smtp-user", 0, 0, G_OPTION_ARG_STRING, &smtp_user, N_("The SMTP user name (default: the incoming one)"), N_("USER") },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &password_stdin, N_("Read the password from the first line of standard input and save it in the keyring"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!parse_options (&argc, &argv, NULL,
                      _("Adds an account. The password goes to the system keyring, never to a file."),
                      entries, &error))
    return usage_error (error->message);
  if (argc > 1)
    return usage_error (_("account add takes no arguments besides its options"));
  if (address == NULL || protocol == NULL || host == NULL)
    return usage_error (_("account add needs --address, --protocol and --host"));
  if (!lb_incoming_protocol_from_string (protocol, &incoming))
    return usage_error (_("--protocol must be imap or pop3"));
  if ((security && !lb_net_security_from_string (security, &net_security)) ||
      (smtp_security && !lb_net_security_from_string (smtp_security, &net_smtp_security)))
    return usage_error (_("--security and --smtp-security must be tls, starttls or none"));
  if (port < 0 || port > 65535 || smtp_port < 0 || smtp_port > 65535)
    return usage_error (_("A port must be between 1 and 65535"));
  if (keep && g_strcmp0 (keep, "yes") != 0 && g_strcmp0 (keep, "no") != 0)
    return usage_error (_("--keep-on-server must be yes or no"));
  if (delete_after < 0 || size_limit < 0)
    return usage_error (_("--delete-after-days and --size-limit cannot be negative"));
  if (offline_days < 0 || poll_minutes < 0)
    return usage_error (_("--offline-days and --poll-minutes cannot be negative"));

  /* the password first: nothing is saved if it cannot be read */
  if (password_stdin && (password = read_password (&error)) == NULL)
    return fail (error->message);

  manager = load_accounts (&error);
  if (manager == NULL)
    return fail (error->message);

  if (id == NULL)
    id = lb_account_manager_make_id (manager, address);
  account = lb_account_new (id);
  identity = lb_identity_new (name, address);
  lb_account_add_identity (account, identity);
  lb_account_set_display_name (account, display_name ? display_name : address);
  lb_account_set_incoming_protocol (account, incoming);
  lb_account_set_incoming_host (account, host);
  lb_account_set_incoming_port (account, (guint16) port);
  lb_account_set_incoming_security (account, net_security);
  lb_account_set_incoming_user (account, user ? user : address);
  if (keep != NULL)
    lb_account_set_pop3_keep_on_server (account, g_strcmp0 (keep, "yes") == 0);
  lb_account_set_pop3_delete_after_days (account, (guint) delete_after);
  lb_account_set_pop3_delete_when_deleted_here (account, delete_here);
  lb_account_set_pop3_size_limit (account, (guint) size_limit);
  lb_account_set_allow_plaintext_password (account, allow_plaintext);
  lb_account_set_offline_days (account, (guint) offline_days);
  lb_account_set_poll_minutes (account, (guint) poll_minutes);
  if (smtp_host != NULL)
    {
      lb_account_set_smtp_host (account, smtp_host);
      lb_account_set_smtp_port (account, (guint16) smtp_port);
      lb_account_set_smtp_security (account, net_smtp_security);
      lb_account_set_smtp_user (account, smtp_user ? smtp_user : lb_account_get_incoming_user (account));
    }

  lb_account_manager_add_async (manager, account, NULL, store_result, &result);
  wait_for (&result);
  if (!lb_account_manager_add_finish (manager, result, &error))
    return fail (error->message);

  if (password != NULL)
    {
      gboolean ok = store_password (account, protocol, host, lb_account_get_incoming_user (account),
                                    password, &error);

      if (ok && smtp_host != NULL)
        ok = store_password (account, "smtp", smtp_host, lb_account_get_smtp_user (account),
                             password, &error);
      if (!ok)
        {
          g_autofree char *message = g_strdup_printf (_("The account “%s” was added, but its password "
                                                        "could not be saved: %s"), id, error->message);

          return fail (message);
        }
    }

  g_print ("%s\n", id);
  return EXIT_OK;
}

/* ------------------------------------------------------------------ account list, show, remove */

static int
account_list (int    argc,
              char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbAccountManager) manager = NULL;
  guint n;

  if (argc > 1)
    return usage_error (_("account list takes no arguments"));
  manager = load_accounts (&error);
  if (manager == NULL)
    return fail (error->message);

  n = g_list_model_get_n_items (G_LIST_MODEL (manager));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbAccount) account = g_list_model_get_item (G_LIST_MODEL (manager), i);
      LbIdentity *identity = lb_account_get_default_identity (account);
      g_autofree char *address = field (identity ? lb_identity_get_address (identity) : NULL);
      g_autofree char *name = field (lb_account_get_display_name (account));

      g_print ("%s\t%s\t%s\t%s\t%s\n", lb_account_get_id (account), address, protocol_of (account),
               lb_account_get_incoming_host (account), name);
    }
  return EXIT_OK;
}

static gboolean
has_password (LbAccount   *account,
              const char  *protocol,
              GError     **error)
{
  g_autoptr(LbSecrets) secrets = lb_secrets_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LbSecretsPassword) password = NULL;
  LbSecretKey key = { lb_account_get_id (account), protocol, NULL, NULL };

  lb_secrets_lookup_async (secrets, &key, NULL, store_result, &result);
  wait_for (&result);
  password = lb_secrets_lookup_finish (secrets, result, error);
  return password != NULL;
}

static int
account_show (int    argc,
              char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) keyring_error = NULL;
  g_autoptr(LbAccountManager) manager = NULL;
  LbAccount *account;
  LbIdentity *identity;
  const char * const *pinned;
  gboolean stored;

  if (argc != 2)
    return usage_error (_("account show needs an account id"));
  manager = load_accounts (&error);
  if (manager == NULL || (account = find_account (manager, argv[1], &error)) == NULL)
    return fail (error->message);

  identity = lb_account_get_default_identity (account);
  g_print ("id\t%s\n", lb_account_get_id (account));
  g_print ("display-name\t%s\n", lb_account_get_display_name (account));
  if (identity != NULL)
    {
      g_autofree char *name = field (lb_identity_get_name (identity));

      g_print ("address\t%s\n", lb_identity_get_address (identity));
      g_print ("name\t%s\n", name);
    }
  g_print ("incoming-protocol\t%s\n", protocol_of (account));
  g_print ("incoming-host\t%s\n", lb_account_get_incoming_host (account));
  g_print ("incoming-port\t%u\n", lb_account_get_effective_incoming_port (account));
  g_print ("incoming-security\t%s\n", lb_net_security_to_string (lb_account_get_incoming_security (account)));
  g_print ("incoming-user\t%s\n", lb_account_get_incoming_user (account));
  g_print ("allow-plaintext-password\t%s\n", lb_account_get_allow_plaintext_password (account) ? "yes" : "no");
  if (lb_account_get_incoming_protocol (account) == LB_INCOMING_IMAP)
    {
      g_print ("offline-days\t%u\n", lb_account_get_offline_days (account));
      g_print ("poll-minutes\t%u\n", lb_account_get_poll_minutes (account));
    }
  if (lb_account_get_incoming_protocol (account) == LB_INCOMING_POP3)
    {
      g_print ("pop3-keep-on-server\t%s\n", lb_account_get_pop3_keep_on_server (account) ? "yes" : "no");
      g_print ("pop3-delete-after-days\t%u\n", lb_account_get_pop3_delete_after_days (account));
      g_print ("pop3-delete-when-deleted-here\t%s\n",
               lb_account_get_pop3_delete_when_deleted_here (account) ? "yes" : "no");
      g_print ("pop3-size-limit\t%u\n", lb_account_get_pop3_size_limit (account));
    }
  if (lb_account_get_smtp_host (account) != NULL)
    {
      g_print ("smtp-host\t%s\n", lb_account_get_smtp_host (account));
      g_print ("smtp-port\t%u\n", lb_account_get_effective_smtp_port (account));
      g_print ("smtp-security\t%s\n", lb_net_security_to_string (lb_account_get_smtp_security (account)));
      g_print ("smtp-user\t%s\n", lb_account_get_smtp_user (account));
    }
  pinned = lb_account_get_pinned_certificates (account);
  for (guint i = 0; pinned != NULL && pinned[i] != NULL; i++)
    g_print ("pinned-certificate\t%s\n", pinned[i]);
  g_print ("data-dir\t%s\n", lb_account_get_data_dir (account));

  /* whether the keyring has the password, never the password */
  stored = has_password (account, protocol_of (account), &keyring_error);
  if (keyring_error != NULL)
    {
      g_print ("incoming-password\tunknown\n");
      g_printerr ("letterbox-cli: %s\n", keyring_error->message);
    }
  else
    g_print ("incoming-password\t%s\n", stored ? "stored" : "missing");

  return EXIT_OK;
}

static gboolean
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        remove_tree (child);
      }
  return g_remove (path) == 0;
}

static int
account_remove (int    argc,
                char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbAccountManager) manager = NULL;
  g_autoptr(LbAccount) account = NULL;
  g_autoptr(LbSecrets) secrets = lb_secrets_new ();
  g_autoptr(GAsyncResult) result = NULL;
  gboolean delete_mail = FALSE;
  const GOptionEntry entries[] = {
    { "delete-mail", 0, 0, G_OPTION_ARG_NONE, &delete_mail,
      N_("Also delete the mail stored on this computer (for POP3 accounts it may be the only copy)"), NULL },
    G_OPTION_ENTRY_NULL
  };
  LbSecretKey key = { NULL, NULL, NULL, NULL };

  if (!parse_options (&argc, &argv, _("ID"), NULL, entries, &error))
    return usage_error (error->message);
  if (argc != 2)
    return usage_error (_("account remove needs an account id"));

  manager = load_accounts (&error);
  if (manager == NULL)
    return fail (error->message);
  account = find_account (manager, argv[1], &error);
  if (account == NULL)
    return fail (error->message);
  g_object_ref (account);

  lb_account_manager_remove_async (manager, account, NULL, store_result, &result);
  wait_for (&result);
  if (!lb_account_manager_remove_finish (manager, result, &error))
    return fail (error->message);
  g_clear_object (&result);

  /* every password of the account */
  key.account_id = lb_account_get_id (account);
  lb_secrets_clear_async (secrets, &key, NULL, store_result, &result);
  wait_for (&result);
  if (!lb_secrets_clear_finish (secrets, result, &error))
    g_printerr (_("letterbox-cli: the account was removed, but not its passwords: %s\n"), error->message);

  if (delete_mail && !remove_tree (lb_account_get_data_dir (account)))
    g_printerr (_("letterbox-cli: could not delete all of “%s”\n"), lb_account_get_data_dir (account));
  else if (!delete_mail && g_file_test (lb_account_get_data_dir (account), G_FILE_TEST_IS_DIR))
    g_printerr (_("letterbox-cli: the account’s mail stays in “%s”\n"), lb_account_get_data_dir (account));

  return EXIT_OK;
}

/* ------------------------------------------------------------------ folders, list, import */

static int
folders (int    argc,
         char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbAccountManager) manager = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) list = NULL;
  LbAccount *account;
  LbStore *store;

  if (argc != 2)
    return usage_error (_("folders needs an account id"));
  manager = load_accounts (&error);
  if (manager == NULL || (account = find_account (manager, argv[1], &error)) == NULL)
    return fail (error->message);
  store = open_store (account, &error);
  if (store == NULL)
    return fail (error->message);

  lb_store_list_folders_async (store, NULL, store_result, &result);
  wait_for (&result);
  list = lb_store_list_folders_finish (store, result, &error);
  g_clear_object (&result);
  close_store (account, store);
  if (list == NULL)
    return fail (error->message);

  for (guint i = 0; i < list->len; i++)
    {
      LbFolderInfo *info = list->pdata[i];
      g_autofree char *path = field (info->path);

      g_print ("%s\t%s\t%u\t%u\t%s\n", path, lb_folder_role_to_string (info->role),
               info->total, info->unread, info->local ? "local" : "server");
    }
  return EXIT_OK;
}

static int
list (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbAccountManager) manager = NULL;
  g_autoptr(LbFolderInfo) folder = NULL;
  g_autoptr(LbMessageList) messages = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  LbAccount *account;
  LbStore *store;
  int limit = 50;
  guint n;
  const GOptionEntry entries[] = {
    { "limit", 0, 0, G_OPTION_ARG_INT, &limit, N_("Show at most this many messages, newest first (default 50; 0: all)"), N_("N") },
    G_OPTION_ENTRY_NULL
  };

  if (!parse_options (&argc, &argv, _("ACCOUNT FOLDER"),
                      _("Lists messages, one per line: key, date, flags, from, subject, separated by tabs."),
                      entries, &error))
    return usage_error (error->message);
  if (argc != 3)
    return usage_error (_("list needs an account id and a folder"));
  if (limit < 0)
    return usage_error (_("--limit cannot be negative"));

  manager = load_accounts (&error);
  if (manager == NULL || (account = find_account (manager, argv[1], &error)) == NULL)
    return fail (error->message);
  store = open_store (account, &error);
  if (store == NULL)
    return fail (error->message);
  folder = find_folder (store, argv[2], &error);
  if (folder == NULL)
    {
      close_store (account, store);
      return fail (error->message);
    }

  messages = lb_message_list_new ();
  lb_message_list_add_folder (messages, store, folder->id);
  lb_message_list_load_async (messages, NULL, store_result, &result);
  wait_for (&result);
  if (!lb_message_list_load_finish (messages, result, &error))
    {
      g_clear_object (&result);
      g_clear_object (&messages);
      close_store (account, store);
      return fail (error->message);
    }

  n = g_list_model_get_n_items (G_LIST_MODEL (messages));
  if (limit > 0)
    n = MIN (n, (guint) limit);

  for (guint page = 0; page < n && error == NULL; page += LB_MESSAGE_LIST_PAGE_SIZE)
    {
      g_clear_object (&result);
      lb_message_list_fetch_async (messages, page, LB_MESSAGE_LIST_PAGE_SIZE, NULL, store_result, &result);
      wait_for (&result);
      if (!lb_message_list_fetch_finish (messages, result, &error))
        break;

      for (guint i = page; i < MIN (n, page + LB_MESSAGE_LIST_PAGE_SIZE); i++)
        {
          g_autoptr(LbMessage) message = g_list_model_get_item (G_LIST_MODEL (messages), i);
          g_autoptr(GDateTime) date = NULL;
          g_autofree char *iso = NULL;
          g_autofree char *flags = NULL;
          g_autofree char *from = NULL;
          g_autofree char *subject = NULL;

          if (message == NULL)
            break;
          date = g_date_time_new_from_unix_utc (lb_message_get_date (message));
          iso = date ? g_date_time_format_iso8601 (date) : g_strdup ("");
          flags = lb_message_flags_to_string (lb_message_get_flags (message));
          from = field (lb_message_get_from (message));
          subject = field (lb_message_get_subject (message));
          g_print ("%" G_GINT64_FORMAT "\t%s\t%s\t%s\t%s\n",
                   lb_message_get_key (message), iso, flags, from, subject);
        }
    }

  g_clear_object (&result);
  g_clear_object (&messages);
  close_store (account, store);
  if (error != NULL)
    return fail (error->message);
  return EXIT_OK;
}

static int
import_maildir (int    argc,
                char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbAccountManager) manager = NULL;
  g_autoptr(LbFolderInfo) folder = NULL;
  g_autoptr(LbMaildirImport) import = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  LbAccount *account;
  LbStore *store;
  guint imported = 0;
  gboolean ok;

  if (argc != 4)
    return usage_error (_("import-maildir needs an account id, a folder and the Maildir’s path"));
  manager = load_accounts (&error);
  if (manager == NULL || (account = find_account (manager, argv[1], &error)) == NULL)
    return fail (error->message);
  store = open_store (account, &error);
  if (store == NULL)
    return fail (error->message);

  /* into a local folder, made if needed */
  lb_store_ensure_folder_async (store, argv[2], "/", LB_FOLDER_ROLE_NONE, TRUE, NULL, store_result, &result);
  wait_for (&result);
  folder = lb_store_ensure_folder_finish (store, result, &error);
  g_clear_object (&result);
  if (folder != NULL && !folder->local)
    {
      g_clear_pointer (&folder, lb_folder_info_free);
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is a folder on the server: import into a local folder"), argv[2]);
    }
  if (folder == NULL)
    {
      close_store (account, store);
      return fail (error->message);
    }

  import = lb_maildir_import_new (store, folder->id, argv[3]);
  lb_maildir_import_run_async (import, NULL, store_result, &result);
  wait_for (&result);
  ok = lb_maildir_import_run_finish (import, result, &imported, &error);
  g_clear_object (&result);
  g_clear_object (&import);
  close_store (account, store);
  if (!ok)
    return fail (error->message);

  g_print ("%u\n", imported);
  return EXIT_OK;
}

/* ------------------------------------------------------------------ sync, show, flag, move, delete */

/* Opens the account and its provider for one command: a command line
 * wants no connection beyond the one it works on (no IDLE, no poll). */
static LbProvider *
open_provider (LbAccount  *account,
               LbStore   **store,
               GError    **error)
{
  LbProvider *provider;

  *store = open_store (account, error);
  if (*store == NULL)
    return NULL;
  provider = lb_account_get_provider (account);
  if (LB_IS_IMAP_PROVIDER (provider))
    lb_imap_provider_set_background (LB_IMAP_PROVIDER (provider), FALSE);
  return provider;
}

/* Logs out (politely, after what is under way), then closes. */
static void
close_provider (LbAccount  *account,
                LbProvider *provider,
                LbStore    *store)
{
  g_autoptr(GAsyncResult) result = NULL;

  if (LB_IS_IMAP_PROVIDER (provider) && lb_imap_provider_get_connected (LB_IMAP_PROVIDER (provider)))
    {
      lb_provider_disconnect_async (provider, NULL, store_result, &result);
      wait_for (&result);
      lb_provider_disconnect_finish (provider, result, NULL);
      /* the result holds the provider, which holds the store */
      g_clear_object (&result);
    }
  close_store (account, store);
}

/* KEY arguments: the store's message keys, as “list” prints them. */
static GArray *
parse_keys (char  **args,
            int     n,
            char  **bad)
{
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (int i = 0; i < n; i++)
    {
      gint64 key;

      if (!g_ascii_string_to_signed (args[i], 10, 1, G_MAXINT64, &key, NULL))
        {
          *bad = args[i];
          return NULL;
        }
      g_array_append_val (keys, key);
    }
  return g_steal_pointer (&keys);
}

/* Every key must be a message of @folder: a script must not touch another
 * folder's message by a typing mistake. */
static gboolean
check_keys (LbStore             *store,
            const LbFolderInfo  *folder,
            GArray              *keys,
            GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GHashTable) here = g_hash_table_new (g_int64_hash, g_int64_equal);

  lb_store_get_messages_async (store, keys, NULL, store_result, &result);
  wait_for (&result);
  found = lb_store_get_messages_finish (store, result, error);
  if (found == NULL)
    return FALSE;
  for (guint i = 0; i < found->len; i++)
    {
      LbMessageSummary *summary = found->pdata[i];

      if (summary->folder_id == folder->id)
        g_hash_table_add (here, &summary->key);
    }
  for (guint i = 0; i < keys->len; i++)
    if (!g_hash_table_contains (here, &g_array_index (keys, gint64, i)))
      {
        g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT, g_array_index (keys, gint64, i));

        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     _("There is no message %s in “%s” (see “letterbox-cli list”)"),
                     key, folder->path);
        return FALSE;
      }
  return TRUE;
}

/* After a change made here: the server gets it now, or the next time. */
static gboolean
replay_changes (LbProvider  *provider,
                GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_provider_replay_queue_async (provider, NULL, store_result, &result);
  wait_for (&result);
  if (lb_provider_replay_queue_finish (provider, result, error))
    return TRUE;
  /* the server said no: that is the answer, not a server out of reach */
  if (g_error_matches (*error, LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_REFUSED))
    return FALSE;
  g_prefix_error (error, _("The change is saved here and will reach the server the next time it can be "
                           "reached (“letterbox-cli sync”): "));
  return FALSE;
}

typedef struct
{
  GHashTable *paths;   /* folder id -> path */
  gint64      last;    /* when progress was last printed */
} Progress;

static void
sync_progress_cb (LbProvider     *provider,
                  gint64          folder_id,
                  guint           done,
                  guint           total,
                  gpointer        user_data)
{
  Progress *progress = user_data;
  gint64 now = g_get_monotonic_time ();
  g_autofree char *path = NULL;

  /* a line every half second, and the last one */
  if (done < total && now - progress->last < G_USEC_PER_SEC / 2)
    return;
  progress->last = now;
  path = field (g_hash_table_lookup (progress->paths, &folder_id));
  g_printerr ("%s: %u/%u\n", path, done, total);
}

static gboolean
sync_one (LbProvider         *provider,
          const LbFolderInfo *folder,
          gboolean            bodies,
          GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *path = field (folder->path);
  LbImapSyncStats stats = { 0, };

  if (LB_IS_POP3_PROVIDER (provider))
    {
      LbPop3Stats pop3 = { 0, };

      lb_pop3_provider_check_async (LB_POP3_PROVIDER (provider), NULL, store_result, &result);
      wait_for (&result);
      if (!lb_pop3_provider_check_finish (LB_POP3_PROVIDER (provider), result, &pop3, error))
        return FALSE;
      /* the same line as for IMAP: removed counts what left the server */
      g_print ("%s\t%u\t%u\t%u\n", path, pop3.downloaded + pop3.headers_only, 0, pop3.deleted);
      if (pop3.headers_only > 0)
        g_printerr (ngettext ("%s: %u message is larger than the size limit: only its headers were downloaded\n",
                              "%s: %u messages are larger than the size limit: only their headers were downloaded\n",
                              pop3.headers_only),
                    path, pop3.headers_only);
      return TRUE;
    }
  if (LB_IS_IMAP_PROVIDER (provider))
    {
      lb_imap_provider_sync_folder_async (LB_IMAP_PROVIDER (provider), folder->id, NULL, store_result, &result);
      wait_for (&result);
      if (!lb_imap_provider_sync_folder_finish (LB_IMAP_PROVIDER (provider), result, &stats, error))
        return FALSE;
    }
  else
    {
      lb_provider_sync_folder_async (provider, folder->id, NULL, store_result, &result);
      wait_for (&result);
      if (!lb_provider_sync_folder_finish (provider, result, error))
        return FALSE;
    }
  g_print ("%s\t%u\t%u\t%u\n", path, stats.added, stats.updated, stats.removed);

  if (bodies && !folder->local && LB_IS_IMAP_PROVIDER (provider))
    {
      guint n;

      g_clear_object (&result);
      lb_imap_provider_fetch_bodies_async (LB_IMAP_PROVIDER (provider), folder->id, 0, NULL,
                                           store_result, &result);
      wait_for (&result);
      n = lb_imap_provider_fetch_bodies_finish (LB_IMAP_PROVIDER (provider), result, error);
      if (n == G_MAXUINT)
        return FALSE;
      /* Translators: a folder's name, then a count */
      g_printerr (ngettext ("%s: %u message downloaded\n", "%s: %u messages downloaded\n", n), path, n);
    }
  return TRUE;
}

/* Whether the server lists a folder at @path (TRUE when it cannot tell) */
static gboolean
on_server (LbProvider *provider,
           const char *path)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) folders = NULL;

  lb_provider_list_folders_async (provider, NULL, store_result, &result);
  wait_for (&result);
  folders = lb_provider_list_folders_finish (provider, result, NULL);
  for (guint i = 0; folders != NULL && i < folders->len; i++)
    if (g_strcmp0 (((LbFolderInfo *) folders->pdata[i])->path, path) == 0)
      return TRUE;
  return folders == NULL;
}

static int
sync_command (int    argc,
              char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbAccountManager) manager = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GHashTable) paths = g_hash_table_new (g_int64_hash, g_int64_equal);
  LbAccount *account;
  LbProvider *provider;
  LbStore *store = NULL;
  Progress progress = { NULL, 0 };
  gboolean bodies = FALSE;
  gboolean failed = FALSE;
  gboolean from_store = FALSE;
  guint synced = 0;
  gulong progress_id = 0;
  const GOptionEntry entries[] = {
    { "bodies", 0, 0, G_OPTION_ARG_NONE, &bodies, N_("Also download every whole message of the folders, for reading offline"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!parse_options (&argc, &argv, _("ACCOUNT [FOLDER]"),
                      _("Brings the account’s folders (or one) up to date with the server, "
                        "after sending the changes made here. Prints a line per folder: "
                        "folder, messages added, updated and removed, separated by tabs; "
                        "progress goes to standard error."),
                      entries, &error))
    return usage_error (error->message);
  if (argc != 2 && argc != 3)
    return usage_error (_("sync needs an account id, and may take a folder"));

  manager = load_accounts (&error);
  if (manager == NULL || (account = find_account (manager, argv[1], &error)) == NULL)
    return fail (error->message);
  provider = open_provider (account, &store, &error);
  if (provider == NULL)
    return fail (error->message);

  /* One folder the store knows: synced at once. A LIST before it would
   * cost a server the size of the folder (Dovecot: 30 ms more for 100,000
   * messages, nearly all of a sync with nothing new). */
  if (argc == 3 && store != NULL)
    {
      gboolean known = FALSE;

      from_store = TRUE;
      lb_store_list_folders_async (store, NULL, store_result, &result);
      wait_for (&result);
      folders = lb_store_list_folders_finish (store, result, NULL);
      g_clear_object (&result);
      for (guint i = 0; folders != NULL && i < folders->len && !known; i++)
        {
          const LbFolderInfo *info = folders->pdata[i];

          known = g_strcmp0 (info->path, argv[2]) == 0 && !info->local;
        }
      if (!known)
        {
          g_clear_pointer (&folders, g_ptr_array_unref);
          from_store = FALSE;
        }
    }

  /* else the folder list first: a new account has none yet */
  if (folders == NULL)
    {
      lb_provider_list_folders_async (provider, NULL, store_result, &result);
      wait_for (&result);
      folders = lb_provider_list_folders_finish (provider, result, &error);
      g_clear_object (&result);
    }
  if (folders == NULL)
    {
      close_provider (account, provider, store);
      return fail (error->message);
    }

  for (guint i = 0; i < folders->len; i++)
    {
      LbFolderInfo *info = folders->pdata[i];

      g_hash_table_insert (paths, &info->id, info->path);
    }
  progress.paths = paths;
  if (LB_IS_IMAP_PROVIDER (provider))
    progress_id = g_signal_connect (provider, "sync-progress", G_CALLBACK (sync_progress_cb), &progress);
  else if (LB_IS_POP3_PROVIDER (provider))
    progress_id = g_signal_connect (provider, "download-progress", G_CALLBACK (sync_progress_cb), &progress);

  for (guint i = 0; i < folders->len; i++)
    {
      const LbFolderInfo *info = folders->pdata[i];

      /* POP3: the server's mail goes to the local Inbox, the one folder
       * synced */
      if (argc == 3 ? g_strcmp0 (info->path, argv[2]) != 0
                    : (LB_IS_POP3_PROVIDER (provider) ? info->role != LB_FOLDER_ROLE_INBOX : info->local))
        continue;
      synced++;
      if (!sync_one (provider, info, bodies, &error))
        {
          /* taken from the store, and gone from the server since: a
           * folder list now says so (and the store forgets it) */
          if (from_store && !on_server (provider, info->path))
            {
              g_clear_error (&error);
              synced = 0;
              break;
            }
          /* the next folder may fare better */
          fail (error->message);
          g_clear_error (&error);
          failed = TRUE;
        }
    }

  if (progress_id != 0)
    g_signal_handler_disconnect (provider, progress_id);
  g_clear_pointer (&folders, g_ptr_array_unref);

  /* what a header sync left to index for search is not waited for: the
   * store indexes it in the background during later syncs, and from a
   * few seconds after it opens (the app) */
  g_clear_object (&result);   /* it holds the store */
  close_provider (account, provider, store);

  if (argc == 3 && synced == 0)
    {
      g_autofree char *message = g_strdup_printf (_("The account has no folder “%s” (see “letterbox-cli folders”)"),
                                                  argv[2]);

      return fail (message);
    }
  return failed ? EXIT_FAILED : EXIT_OK;
}

static void
print_header (const char *name,
              const char *value)
{
  g_autofree char *clean = NULL;

  if (value == NULL)
    return;
  clean = field (value);
  g_print ("%s: %s\n", name, clean);
}

static int
show (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbAccountManager) manager = NULL;
  g_autoptr(LbFolderInfo) folder = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GArray) keys = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(LbMimeText) text = NULL;
  g_autoptr(GDateTime) date = NULL;
  LbAccount *account;
  LbProvider *provider;
  LbStore *store = NULL;
  char *bad = NULL;
  gboolean rest = FALSE;
  gboolean partial = FALSE;
  const GOptionEntry entries[] = {
    { "download-rest", 0, 0, G_OPTION_ARG_NONE, &rest, N_("POP3: first download the whole of a message of which only the headers were downloaded (larger than the size limit)"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!parse_options (&argc, &argv, _("ACCOUNT FOLDER KEY"),
                      _("Shows a message: its headers and its text."), entries, &error))
    return usage_error (error->message);
  if (argc != 4)
    return usage_error (_("show needs an account id, a folder and a message key"));
  keys = parse_keys (argv + 3, 1, &bad);
  if (keys == NULL)
    return usage_error (_("A message key is a number, as “letterbox-cli list” shows"));

  manager = load_accounts (&error);
  if (manager == NULL || (account = find_account (manager, argv[1], &error)) == NULL)
    return fail (error->message);
  provider = open_provider (account, &store, &error);
  if (provider == NULL)
    return fail (error->message);

  folder = find_folder (store, argv[2], &error);
  if (folder != NULL && check_keys (store, folder, keys, &error) && LB_IS_POP3_PROVIDER (provider))
    {
      LbPop3Provider *pop3 = LB_POP3_PROVIDER (provider);

      if (rest)
        {
          lb_pop3_provider_download_rest_async (pop3, g_array_index (keys, gint64, 0), NULL, store_result, &result);
          wait_for (&result);
          if (!lb_pop3_provider_download_rest_finish (pop3, result, &error))
            g_clear_pointer (&folder, lb_folder_info_free);
          g_clear_object (&result);
        }
      else
        {
          lb_pop3_provider_is_partial_async (pop3, g_array_index (keys, gint64, 0), NULL, store_result, &result);
          wait_for (&result);
          if (!lb_pop3_provider_is_partial_finish (pop3, result, &partial, NULL))
            partial = FALSE;
          g_clear_object (&result);
        }
    }
  if (folder != NULL && error == NULL)
    {
      /* from the store, or downloaded (and kept) */
      lb_provider_fetch_body_async (provider, g_array_index (keys, gint64, 0), NULL, store_result, &result);
      wait_for (&result);
      raw = lb_provider_fetch_body_finish (provider, result, &error);
      g_clear_object (&result);
    }
  close_provider (account, provider, store);
  if (raw == NULL || (text = lb_mime_text_parse (raw, &error)) == NULL)
    return fail (error->message);

  print_header ("From", text->from);
  print_header ("To", text->to);
  print_header ("Cc", text->cc);
  print_header ("Subject", text->subject);
  if (text->date != 0 && (date = g_date_time_new_from_unix_utc (text->date)) != NULL)
    {
      g_autofree char *iso = g_date_time_format_iso8601 (date);

      print_header ("Date", iso);
    }
  {
    g_autofree char *body = terminal_safe (text->text, FALSE);

    g_print ("\n%s\n", body);
  }
  if (partial)
    g_printerr (_("letterbox-cli: only the headers of this message were downloaded, as it is larger "
                  "than the account’s size limit; “letterbox-cli show --download-rest” downloads "
                  "the rest\n"));
  if (text->n_attachments > 0)
    g_printerr (ngettext ("letterbox-cli: %u attachment is not shown\n",
                          "letterbox-cli: %u attachments are not shown\n", text->n_attachments),
                text->n_attachments);
  return EXIT_OK;
}

/* The common part of flag, move and delete: the account, the folder and
 * the keys, checked. */
typedef struct
{
  LbAccountManager *manager;
  LbAccount        *account;
  LbProvider       *provider;
  LbStore          *store;
  LbFolderInfo     *folder;
  GArray           *keys;
} Change;

static void
change_clear (Change *change)
{
  if (change->provider != NULL)
    close_provider (change->account, change->provider, change->store);
  g_clear_pointer (&change->folder, lb_folder_info_free);
  g_clear_pointer (&change->keys, g_array_unref);
  g_clear_object (&change->manager);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Change, change_clear)

/* Usage: every KEY argument a number. */
static gboolean
keys_valid (char **args,
            int    n)
{
  char *bad = NULL;
  g_autoptr(GArray) keys = parse_keys (args, n, &bad);

  return keys != NULL;
}

static gboolean
change_open (Change      *change,
             const char  *account_id,
             const char  *folder_path,
             char       **key_args,
             int          n_keys,
             GError     **error)
{
  char *bad = NULL;

  change->keys = parse_keys (key_args, n_keys, &bad);
  if (change->keys == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a message key: a key is a number, as “letterbox-cli list” shows"), bad);
      return FALSE;
    }
  change->manager = load_accounts (error);
  if (change->manager == NULL ||
      (change->account = find_account (change->manager, account_id, error)) == NULL)
    return FALSE;
  change->provider = open_provider (change->account, &change->store, error);
  if (change->provider == NULL)
    return FALSE;
  change->folder = find_folder (change->store, folder_path, error);
  return change->folder != NULL && check_keys (change->store, change->folder, change->keys, error);
}

static int
flag (int    argc,
      char **argv)
{
  /* cleaned up last: the results below hold its provider */
  g_auto(Change) change = { NULL, };
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  gboolean read = FALSE, unread = FALSE, flagged = FALSE, unflagged = FALSE;
  gboolean answered = FALSE, forwarded = FALSE, junk = FALSE, not_junk = FALSE;
  guint add = 0, remove = 0;
  const GOptionEntry entries[] = {
    { "read", 0, 0, G_OPTION_ARG_NONE, &read, N_("Mark as read"), NULL },
    { "unread", 0, 0, G_OPTION_ARG_NONE, &unread, N_("Mark as unread"), NULL },
    { "flag", 0, 0, G_OPTION_ARG_NONE, &flagged, N_("Flag (star)"), NULL },
    { "unflag", 0, 0, G_OPTION_ARG_NONE, &unflagged, N_("Remove the flag"), NULL },
    { "answered", 0, 0, G_OPTION_ARG_NONE, &answered, N_("Mark as answered"), NULL },
    { "forwarded", 0, 0, G_OPTION_ARG_NONE, &forwarded, N_("Mark as forwarded"), NULL },
    { "junk", 0, 0, G_OPTION_ARG_NONE, &junk, N_("Mark as junk (IMAP, needs the server)"), NULL },
    { "not-junk", 0, 0, G_OPTION_ARG_NONE, &not_junk, N_("Mark as not junk (IMAP, needs the server)"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!parse_options (&argc, &argv, _("ACCOUNT FOLDER KEY…"),
                      _("Changes the flags of messages, here and on the server."),
                      entries, &error))
    return usage_error (error->message);
  if (argc < 4)
    return usage_error (_("flag needs an account id, a folder and message keys"));
  if (!keys_valid (argv + 3, argc - 3))
    return usage_error (_("A message key is a number, as “letterbox-cli list” shows"));
  if ((read && unread) || (flagged && unflagged) || (junk && not_junk))
    return usage_error (_("A flag cannot be both set and removed"));
  if (!(read || unread || flagged || unflagged || answered || forwarded || junk || not_junk))
    return usage_error (_("flag needs what to change: --read, --unread, --flag, --unflag, --answered, "
                          "--forwarded, --junk or --not-junk"));

  add = (read ? LB_MESSAGE_SEEN : 0) | (flagged ? LB_MESSAGE_FLAGGED : 0) |
        (answered ? LB_MESSAGE_ANSWERED : 0) | (forwarded ? LB_MESSAGE_FORWARDED : 0);
  remove = (unread ? LB_MESSAGE_SEEN : 0) | (unflagged ? LB_MESSAGE_FLAGGED : 0);

  if (!change_open (&change, argv[1], argv[2], argv + 3, argc - 3, &error))
    return fail (error->message);
  if ((junk || not_junk) && !LB_IS_IMAP_PROVIDER (change.provider))
    return fail (_("Only IMAP accounts can mark messages as junk"));

  if (add != 0 || remove != 0)
    {
      lb_provider_set_flags_async (change.provider, change.keys, add, remove, NULL, store_result, &result);
      wait_for (&result);
      if (!lb_provider_set_flags_finish (change.provider, result, &error))
        return fail (error->message);
      g_clear_object (&result);
    }
  if (junk || not_junk)
    {
      lb_imap_provider_set_junk_async (LB_IMAP_PROVIDER (change.provider), change.keys, junk, NULL,
                                       store_result, &result);
      wait_for (&result);
      if (!lb_imap_provider_set_junk_finish (LB_IMAP_PROVIDER (change.provider), result, &error))
        return fail (error->message);
    }
  if (!replay_changes (change.provider, &error))
    return fail (error->message);
  return EXIT_OK;
}

static int
move (int    argc,
      char **argv)
{
  /* cleaned up last: the results below hold its provider */
  g_auto(Change) change = { NULL, };
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LbFolderInfo) target = NULL;

  if (argc < 5)
    return usage_error (_("move needs an account id, a folder, message keys and the folder to move them to"));
  if (!keys_valid (argv + 3, argc - 4))
    return usage_error (_("A message key is a number, as “letterbox-cli list” shows"));

  if (!change_open (&change, argv[1], argv[2], argv + 3, argc - 4, &error) ||
      (target = find_folder (change.store, argv[argc - 1], &error)) == NULL)
    return fail (error->message);

  lb_provider_move_async (change.provider, change.keys, target->id, NULL, store_result, &result);
  wait_for (&result);
  if (!lb_provider_move_finish (change.provider, result, &error))
    return fail (error->message);
  if (!replay_changes (change.provider, &error))
    return fail (error->message);
  return EXIT_OK;
}

/* Moves to the account's Trash, or deletes for good in it; fails with
 * G_IO_ERROR_NOT_FOUND without one — for a provider without a trash of
 * its own. */
static gboolean
trash_generic (Change  *change,
               GError **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  const LbFolderInfo *trash = NULL;

  lb_store_list_folders_async (change->store, NULL, store_result, &result);
  wait_for (&result);
  folders = lb_store_list_folders_finish (change->store, result, error);
  if (folders == NULL)
    return FALSE;
  g_clear_object (&result);
  for (guint i = 0; i < folders->len && trash == NULL; i++)
    if (((LbFolderInfo *) folders->pdata[i])->role == LB_FOLDER_ROLE_TRASH)
      trash = folders->pdata[i];

  if (trash != NULL && trash->id != change->folder->id)
    {
      lb_provider_move_async (change->provider, change->keys, trash->id, NULL, store_result, &result);
      wait_for (&result);
      return lb_provider_move_finish (change->provider, result, error);
    }
  if (trash == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "");
      return FALSE;
    }
  lb_provider_delete_async (change->provider, change->keys, NULL, store_result, &result);
  wait_for (&result);
  return lb_provider_delete_finish (change->provider, result, error);
}

static int
delete (int    argc,
        char **argv)
{
  /* cleaned up last: the results below hold its provider */
  g_auto(Change) change = { NULL, };
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  gboolean permanent = FALSE;
  gboolean ok;
  const GOptionEntry entries[] = {
    { "permanent", 0, 0, G_OPTION_ARG_NONE, &permanent, N_("Delete for good instead of moving to the Trash"), NULL },
    G_OPTION_ENTRY_NULL
  };

  if (!parse_options (&argc, &argv, _("ACCOUNT FOLDER KEY…"),
                      _("Moves messages to the Trash; those in the Trash (or all, "
                        "with --permanent) are deleted for good, here and on the server."),
                      entries, &error))
    return usage_error (error->message);
  if (argc < 4)
    return usage_error (_("delete needs an account id, a folder and message keys"));
  if (!keys_valid (argv + 3, argc - 3))
    return usage_error (_("A message key is a number, as “letterbox-cli list” shows"));

  if (!change_open (&change, argv[1], argv[2], argv + 3, argc - 3, &error))
    return fail (error->message);

  if (permanent)
    {
      lb_provider_delete_async (change.provider, change.keys, NULL, store_result, &result);
      wait_for (&result);
      ok = lb_provider_delete_finish (change.provider, result, &error);
    }
  else if (LB_IS_IMAP_PROVIDER (change.provider))
    {
      lb_imap_provider_trash_async (LB_IMAP_PROVIDER (change.provider), change.keys, NULL,
                                    store_result, &result);
      wait_for (&result);
      ok = lb_imap_provider_trash_finish (LB_IMAP_PROVIDER (change.provider), result, &error);
    }
  else
    ok = trash_generic (&change, &error);

  if (!ok && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    return fail (_("This account has no Trash folder: the messages were not deleted. "
                   "Use --permanent to delete them for good."));
  if (!ok || !replay_changes (change.provider, &error))
    return fail (error->message);
  return EXIT_OK;
}

/* ------------------------------------------------------------------ send */

typedef struct
{
  GHashTable *filed;    /* keys filed after sending */
} SendWatch;

static void
send_filed_cb (LbOutbox  *outbox,
               LbAccount *account,
               gint64     key,
               SendWatch *watch)
{
  g_hash_table_add (watch->filed, g_memdup2 (&key, sizeof key));
}

/* The text of standard input, UTF-8 with "\n" line ends. */
static char *
read_body (GError **error)
{
  g_autoptr(GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *text = NULL;
  GString *body;

  if (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, error) < 0)
    return NULL;
  bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
  text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (strlen (text) != g_bytes_get_size (bytes) || !g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The text of the message (standard input) is not UTF-8"));
      return NULL;
    }
  body = g_string_new (text);
  g_string_replace (body, "\r\n", "\n", 0);
  return g_string_free (body, FALSE);
}

static int
send_command (int    argc,
              char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbAccountManager) manager = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LbOutgoingMessage) message = NULL;
  g_autoptr(LbOutbox) outbox = NULL;
  g_auto(GStrv) to = NULL, cc = NULL, bcc = NULL, attach = NULL;
  g_autofree char *subject = NULL, *from = NULL, *body = NULL;
  g_autofree char *to_text = NULL, *cc_text = NULL, *bcc_text = NULL;
  g_autofree char *message_id = NULL;
  SendWatch watch = { NULL, };
  LbAccount *account;
  LbIdentity *identity;
  LbProvider *provider;
  LbStore *store = NULL;
  LbOutboxState state = LB_OUTBOX_STATE_WAITING;
  g_autofree char *state_error = NULL;
  gint64 key;
  const GOptionEntry entries[] = {
    { "to", 0, 0, G_OPTION_ARG_STRING_ARRAY, &to, N_("A recipient (repeat for more)"), N_("ADDRESS") },
    { "cc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cc, N_("A copy recipient"), N_("ADDRESS") },
    { "bcc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &bcc, N_("A hidden copy recipient"), N_("ADDRESS") },
    { "subject", 0, 0, G_OPTION_ARG_STRING, &subject, N_("The subject"), N_("TEXT") },
    { "attach", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &attach, N_("A file to attach (repeat for more)"), N_("FILE") },
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, N_("The sender address (default: the account’s)"), N_("ADDRESS") },
    G_OPTION_ENTRY_NULL
  };

  if (!parse_options (&argc, &argv, _("ACCOUNT"),
                      _("Sends a message, its text read from standard input (UTF-8), and files it in "
                        "Sent. Prints its Message-ID once the server took it."),
                      entries, &error))
    return usage_error (error->message);
  if (argc != 2)
    return usage_error (_("send needs an account id"));
  if (to == NULL && cc == NULL && bcc == NULL)
    return usage_error (_("send needs a recipient: --to, --cc or --bcc"));
  if (subject == NULL)
    return usage_error (_("send needs --subject"));

  body = read_body (&error);
  if (body == NULL)
    return fail (error->message);

  message = lb_outgoing_message_new ();
  to_text = to != NULL ? g_strjoinv (", ", to) : NULL;
  cc_text = cc != NULL ? g_strjoinv (", ", cc) : NULL;
  bcc_text = bcc != NULL ? g_strjoinv (", ", bcc) : NULL;
  lb_outgoing_message_set_to (message, to_text);
  lb_outgoing_message_set_cc (message, cc_text);
  lb_outgoing_message_set_bcc (message, bcc_text);
  lb_outgoing_message_set_subject (message, subject);
  lb_outgoing_message_set_body (message, body);
  for (guint i = 0; attach != NULL && attach[i] != NULL; i++)
    {
      g_autofree char *contents = NULL;
      g_autofree char *name = NULL;
      g_autofree char *display = NULL;
      g_autoptr(GBytes) data = NULL;
      gsize length;

      if (!g_file_get_contents (attach[i], &contents, &length, &error))
        return fail (error->message);
      name = g_path_get_basename (attach[i]);
      display = g_filename_display_name (name);
      data = g_bytes_new_take (g_steal_pointer (&contents), length);
      lb_outgoing_message_add_attachment (message, display, NULL, data);
    }

  manager = load_accounts (&error);
  if (manager == NULL || (account = find_account (manager, argv[1], &error)) == NULL)
    return fail (error->message);
  identity = lb_account_get_default_identity (account);
  if (from != NULL)
    lb_outgoing_message_set_from (message,
                                  identity != NULL && g_ascii_strcasecmp (from, lb_identity_get_address (identity)) == 0
                                    ? lb_identity_get_name (identity) : NULL,
                                  from);
  else if (identity != NULL)
    lb_outgoing_message_set_from (message, lb_identity_get_name (identity), lb_identity_get_address (identity));
  if (!lb_outgoing_message_check (message, &error))
    return usage_error (error->message);

  provider = open_provider (account, &store, &error);
  if (provider == NULL)
    return fail (error->message);
  if (LB_IS_IMAP_PROVIDER (provider))
    {
      g_autoptr(GPtrArray) folders = NULL;

      /* the server's Sent folder, to file the message in */
      lb_provider_list_folders_async (provider, NULL, store_result, &result);
      wait_for (&result);
      folders = lb_provider_list_folders_finish (provider, result, &error);
      g_clear_object (&result);
      if (folders == NULL)
        {
          g_printerr ("letterbox-cli: %s\n", error->message);
          g_clear_error (&error);
        }
    }

  watch.filed = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  outbox = lb_outbox_new (manager, NULL);
  lb_outbox_set_undo_delay (outbox, 0);
  g_signal_connect (outbox, "filed", G_CALLBACK (send_filed_cb), &watch);

  lb_outbox_queue_async (outbox, account, message, 0, NULL, store_result, &result);
  wait_for (&result);
  key = lb_outbox_queue_finish (outbox, result, &error);
  g_clear_object (&result);
  message_id = g_strdup (lb_outgoing_message_get_message_id (message));

  while (key > 0 && !g_hash_table_contains (watch.filed, &key))
    {
      g_clear_pointer (&state_error, g_free);
      if (lb_outbox_get_state (outbox, account, key, &state, &state_error) &&
          (state == LB_OUTBOX_STATE_FAILED || state == LB_OUTBOX_STATE_UNCERTAIN ||
           (state == LB_OUTBOX_STATE_WAITING && state_error != NULL)))
        break;
      g_main_context_iteration (NULL, TRUE);
    }

  g_signal_handlers_disconnect_by_data (outbox, &watch);
  g_clear_object (&outbox);
  g_clear_pointer (&watch.filed, g_hash_table_unref);

  if (key == 0)
    {
      close_provider (account, provider, store);
      return fail (error->message);
    }
  if (state_error != NULL)
    {
      g_autofree char *text = NULL;

      close_provider (account, provider, store);
      if (state == LB_OUTBOX_STATE_WAITING)
        text = g_strdup_printf (_("The message was not sent; it waits in the Outbox and is sent "
                                  "when Letterbox runs: %s"), state_error);
      else if (state == LB_OUTBOX_STATE_UNCERTAIN)
        text = g_strdup_printf (_("The message may or may not have been sent; it is kept in the "
                                  "Outbox: %s"), state_error);
      else
        text = g_strdup_printf (_("The message was not sent; it is kept in the Outbox: %s"), state_error);
      return fail (text);
    }

  /* the copy in Sent reaches the server now, or at the next sync */
  if (LB_IS_IMAP_PROVIDER (provider) && !replay_changes (provider, &error))
    {
      g_printerr ("letterbox-cli: %s\n", error->message);
      g_clear_error (&error);
    }
  close_provider (account, provider, store);
  g_print ("%s\n", message_id);
  return EXIT_OK;
}

/* ------------------------------------------------------------------ main */

typedef struct
{
  const char *group;
  const char *name;
  int (*run) (int argc, char **argv);
} Command;

static const Command commands[] = {
  { "account", "add", account_add },
  { "account", "list", account_list },
  { "account", "show", account_show },
  { "account", "remove", account_remove },
  { NULL, "folders", folders },
  { NULL, "list", list },
  { NULL, "import-maildir", import_maildir },
  { NULL, "sync", sync_command },
  { NULL, "show", show },
  { NULL, "flag", flag },
  { NULL, "move", move },
  { NULL, "delete", delete },
  { NULL, "send", send_command },
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

  g_set_prgname ("letterbox-cli");
  g_mime_init ();

  /* Translators: the placeholder of the command line's argument list */
  context = g_option_context_new (_("COMMAND [ARGUMENT…]"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
                                _("Reads and sends the mail of your Letterbox accounts "
                                  "without a window: for scripts and terminals. It uses "
                                  "the same accounts, keyring and local mail as Letterbox."));
  g_option_context_set_description (context,
                                    _("Commands:\n"
                                      "  account add --address ADDRESS --protocol imap|pop3 --host HOST [OPTION…]\n"
                                      "  account list\n"
                                      "  account show ID\n"
                                      "  account remove ID [--delete-mail]\n"
                                      "  folders ACCOUNT\n"
                                      "  list ACCOUNT FOLDER [--limit N]\n"
                                      "  import-maildir ACCOUNT FOLDER PATH\n"
                                      "  sync ACCOUNT [FOLDER] [--bodies]\n"
                                      "  show ACCOUNT FOLDER KEY\n"
                                      "  flag ACCOUNT FOLDER KEY… --read|--unread|--flag|--unflag|--answered|--forwarded|--junk|--not-junk\n"
                                      "  move ACCOUNT FOLDER KEY… TARGET\n"
                                      "  delete ACCOUNT FOLDER KEY… [--permanent]\n"
                                      "  send ACCOUNT --to ADDRESS… [--cc ADDRESS…] [--bcc ADDRESS…] --subject TEXT [--attach FILE…] [--from ADDRESS] < TEXT\n"
                                      "\n"
                                      "“letterbox-cli COMMAND --help” describes a command’s options. Output is "
                                      "one record per line, fields separated by tabs; errors go to standard "
                                      "error, with exit status 1 (2 for a wrong command line)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  /* the commands parse their own options */
  g_option_context_set_strict_posix (context, TRUE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);

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

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      const Command *command = &commands[i];

      if (command->group == NULL && g_strcmp0 (argv[1], command->name) == 0)
        {
          /* a command's --help says "Usage: letterbox-cli list …" */
          g_autofree char *name = g_strdup_printf ("letterbox-cli %s", command->name);

          g_set_prgname (name);
          return command->run (argc - 1, argv + 1);
        }
      if (command->group != NULL && g_strcmp0 (argv[1], command->group) == 0 &&
          argc > 2 && g_strcmp0 (argv[2], command->name) == 0)
        {
          g_autofree char *name = g_strdup_printf ("letterbox-cli %s %s", command->group, command->name);

          /* "account add …" runs as "add …" with its own options */
          g_set_prgname (name);
          return command->run (argc - 2, argv + 2);
        }
    }

  if (g_strcmp0 (argv[1], "account") == 0)
    {
      if (argc < 3)
        return usage_error (_("account needs a command: add, list, show or remove"));
      g_printerr (_("letterbox-cli: unknown command “account %s”\n"), argv[2]);
      g_printerr (_("Try “letterbox-cli --help” for more information.\n"));
      return EXIT_USAGE;
    }

  g_printerr (_("letterbox-cli: unknown command “%s”\n"), argv[1]);
  g_printerr (_("Try “letterbox-cli --help” for more information.\n"));

  return EXIT_USAGE;
}
