/* test-secrets.c: LbSecrets against a real Secret Service (the harness's
 * gnome-keyring on a private session bus)
 *
 * The last cases lock the keyring, which nothing here can unlock again
 * (that would need a prompt): they are registered last.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <libsecret/secret.h>

#include "lb-secrets.h"
#include "lb-test-session.h"

/* the schema as other keyring tools see it, for asking the Secret Service
 * directly rather than through LbSecrets */
static const SecretSchema schema = {
  "io.github.letterbox.Letterbox.Password", SECRET_SCHEMA_NONE,
  { { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "protocol", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
    { NULL, 0 } },
};

static LbSecretKey
key (const char *account_id,
     const char *protocol,
     const char *host,
     const char *user)
{
  LbSecretKey k = { account_id, protocol, host, user };

  return k;
}

static GError *
try_store (LbSecrets         *secrets,
           const LbSecretKey *k,
           const char        *password)
{
  g_autoptr(GAsyncResult) result = NULL;
  GError *error = NULL;

  lb_secrets_store_async (secrets, k, "Letterbox test account", password,
                          NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_cmpint (lb_secrets_store_finish (secrets, result, &error), ==, error == NULL);

  return error;
}

static void
store (LbSecrets         *secrets,
       const LbSecretKey *k,
       const char        *password)
{
  g_autoptr(GError) error = try_store (secrets, k, password);

  g_assert_no_error (error);
}

static char *
try_lookup (LbSecrets          *secrets,
            const LbSecretKey  *k,
            GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LbSecretsPassword) password = NULL;

  lb_secrets_lookup_async (secrets, k, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  password = lb_secrets_lookup_finish (secrets, result, error);

  /* a plain copy, so the test can compare and free it with g_free() */
  return g_strdup (password);
}

static char *
lookup (LbSecrets         *secrets,
        const LbSecretKey *k)
{
  g_autoptr(GError) error = NULL;
  char *password = try_lookup (secrets, k, &error);

  g_assert_no_error (error);

  return password;
}

static GError *
try_clear (LbSecrets         *secrets,
           const LbSecretKey *k)
{
  g_autoptr(GAsyncResult) result = NULL;
  GError *error = NULL;

  lb_secrets_clear_async (secrets, k, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_cmpint (lb_secrets_clear_finish (secrets, result, &error), ==, error == NULL);

  return error;
}

static void
clear (LbSecrets         *secrets,
       const LbSecretKey *k)
{
  g_autoptr(GError) error = try_clear (secrets, k);

  g_assert_no_error (error);
}

/* The items of our schema with these attributes (NULL: any), asked of the
 * Secret Service directly. */
static GList *
find_items (const char *account_id,
            const char *protocol,
            const char *host)
{
  g_autoptr(GHashTable) attributes = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GList *items;

  g_hash_table_insert (attributes, (gpointer) "account", (gpointer) account_id);
  if (protocol != NULL)
    g_hash_table_insert (attributes, (gpointer) "protocol", (gpointer) protocol);
  if (host != NULL)
    g_hash_table_insert (attributes, (gpointer) "host", (gpointer) host);
  secret_password_searchv (&schema, attributes, SECRET_SEARCH_ALL, NULL,
                           lb_test_store_result, &result);
  lb_test_wait (&result);
  items = secret_password_search_finish (result, &error);
  g_assert_no_error (error);

  return items;
}

static guint
count_items (const char *account_id,
             const char *protocol,
             const char *host)
{
  GList *items = find_items (account_id, protocol, host);
  guint count = g_list_length (items);

  g_list_free_full (items, g_object_unref);

  return count;
}

static void
test_secrets_roundtrip (void)
{
  LbSecrets *secrets = lb_secrets_new ();
  LbSecretKey imap = key ("account-1", "imap", "imap.example.test", "alice");
  LbSecretKey smtp = key ("account-1", "smtp", "smtp.example.test", "alice");
  LbSecretKey pop3 = key ("account-1", "pop3", NULL, NULL);
  LbSecretKey other_account = key ("account-2", "imap", "imap.example.test", "alice");
  g_autofree char *incoming = NULL;
  g_autofree char *outgoing = NULL;
  g_autofree char *other_protocol = NULL;
  g_autofree char *other = NULL;
  g_autofree char *replaced = NULL;
  g_autofree char *cleared = NULL;
  g_autofree char *kept = NULL;

  store (secrets, &imap, "пароль-imap");
  store (secrets, &smtp, "smtp secret");

  incoming = lookup (secrets, &imap);
  g_assert_cmpstr (incoming, ==, "пароль-imap");
  outgoing = lookup (secrets, &smtp);
  g_assert_cmpstr (outgoing, ==, "smtp secret");
  other_protocol = lookup (secrets, &pop3);
  g_assert_null (other_protocol);
  other = lookup (secrets, &other_account);
  g_assert_null (other);

  g_assert_cmpuint (count_items ("account-1", "imap", NULL), ==, 1);

  /* storing again replaces, it does not add a second item */
  store (secrets, &imap, "new password");
  replaced = lookup (secrets, &imap);
  g_assert_cmpstr (replaced, ==, "new password");
  g_assert_cmpuint (count_items ("account-1", "imap", NULL), ==, 1);

  clear (secrets, &imap);
  cleared = lookup (secrets, &imap);
  g_assert_null (cleared);
  g_assert_cmpuint (count_items ("account-1", "imap", NULL), ==, 0);
  kept = lookup (secrets, &smtp);
  g_assert_cmpstr (kept, ==, "smtp secret");

  /* clearing what is not there is not an error */
  clear (secrets, &other_account);

  g_assert_finalize_object (secrets);
}

/* What Seahorse shows: the label and the four attributes. */
static void
assert_item (const char *account_id,
             const char *protocol,
             const char *host,
             const char *user)
{
  GList *items = find_items (account_id, protocol, NULL);
  g_autoptr(GHashTable) attributes = NULL;
  g_autofree char *label = NULL;

  g_assert_cmpuint (g_list_length (items), ==, 1);
  attributes = secret_retrievable_get_attributes (items->data);
  label = secret_retrievable_get_label (items->data);
  g_assert_cmpstr (label, ==, "Letterbox test account");
  g_assert_cmpstr (g_hash_table_lookup (attributes, "account"), ==, account_id);
  g_assert_cmpstr (g_hash_table_lookup (attributes, "protocol"), ==, protocol);
  g_assert_cmpstr (g_hash_table_lookup (attributes, "host"), ==, host);
  g_assert_cmpstr (g_hash_table_lookup (attributes, "user"), ==, user);

  g_list_free_full (items, g_object_unref);
}

static void
test_secrets_host_changed (void)
{
  LbSecrets *secrets = lb_secrets_new ();
  LbSecretKey old_host = key ("account-host", "imap", "imap.old.test", "alice");
  LbSecretKey new_host = key ("account-host", "imap", "imap.new.test", "alice@new.test");
  LbSecretKey no_host = key ("account-host", "imap", NULL, "");
  LbSecretKey smtp = key ("account-host", "smtp", "imap.old.test", "alice");
  char *found = NULL;
  char *found_new = NULL;
  g_autofree char *found_none = NULL;

  store (secrets, &old_host, "old password");
  store (secrets, &smtp, "smtp password");
  assert_item ("account-host", "imap", "imap.old.test", "alice");

  /* the account now points at another server: the old server's password
   * is not handed out for it (Letterbox asks again) */
  found = lookup (secrets, &new_host);
  g_assert_null (found);
  found = lookup (secrets, &no_host);
  g_assert_cmpstr (found, ==, "old password");

  /* storing under the new host and user replaces the old item */
  store (secrets, &new_host, "new password");
  g_assert_cmpuint (count_items ("account-host", "imap", NULL), ==, 1);
  g_assert_cmpuint (count_items ("account-host", "imap", "imap.old.test"), ==, 0);
  assert_item ("account-host", "imap", "imap.new.test", "alice@new.test");
  found_new = lookup (secrets, &old_host);
  g_assert_null (found_new);
  found_new = lookup (secrets, &new_host);
  g_assert_cmpstr (found_new, ==, "new password");

  /* no host, and an empty user: the item has neither attribute */
  store (secrets, &no_host, "no host");
  g_assert_cmpuint (count_items ("account-host", "imap", NULL), ==, 1);
  assert_item ("account-host", "imap", NULL, NULL);
  found_none = lookup (secrets, &no_host);
  g_assert_cmpstr (found_none, ==, "no host");

  /* the other protocol's item was left alone throughout */
  assert_item ("account-host", "smtp", "imap.old.test", "alice");

  g_free (found);
  g_free (found_new);
  g_assert_finalize_object (secrets);
}

static void
test_secrets_clear_account (void)
{
  LbSecrets *secrets = lb_secrets_new ();
  LbSecretKey imap = key ("account-gone", "imap", "mail.example.test", "bob");
  LbSecretKey pop3 = key ("account-gone", "pop3", "mail.example.test", "bob");
  LbSecretKey smtp = key ("account-gone", "smtp", "mail.example.test", "bob");
  LbSecretKey whole_account = key ("account-gone", NULL, NULL, NULL);
  LbSecretKey neighbour = key ("account-gone-2", "imap", "mail.example.test", "bob");
  g_autofree char *kept = NULL;

  store (secrets, &imap, "imap");
  store (secrets, &pop3, "pop3");
  store (secrets, &smtp, "smtp");
  store (secrets, &neighbour, "neighbour");
  g_assert_cmpuint (count_items ("account-gone", NULL, NULL), ==, 3);

  clear (secrets, &whole_account);
  g_assert_cmpuint (count_items ("account-gone", NULL, NULL), ==, 0);
  g_assert_cmpuint (count_items ("account-gone-2", NULL, NULL), ==, 1);
  kept = lookup (secrets, &neighbour);
  g_assert_cmpstr (kept, ==, "neighbour");

  /* again, with nothing left */
  clear (secrets, &whole_account);

  g_assert_finalize_object (secrets);
}

static gboolean
file_contains (const char *path,
               const char *needle)
{
  g_autofree char *contents = NULL;
  gsize length;
  gsize needle_length = strlen (needle);

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return FALSE;
  for (gsize i = 0; i + needle_length <= length; i++)
    if (memcmp (contents + i, needle, needle_length) == 0)
      return TRUE;

  return FALSE;
}

/* Every regular file under @dir that contains @needle, into @found. */
static void
scan_files (const char *dir,
            const char *needle,
            GPtrArray  *found)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        continue;
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        scan_files (path, needle, found);
      else if (g_file_test (path, G_FILE_TEST_IS_REGULAR) && file_contains (path, needle))
        g_ptr_array_add (found, g_steal_pointer (&path));
    }
}

static void
test_secrets_not_in_files (void)
{
  LbSecrets *secrets = lb_secrets_new ();
  LbSecretKey imap = key ("account-files", "imap", "imap.example.test", "carol");
  g_autofree char *password = g_strdup_printf ("never-in-a-file-%08x", g_random_int ());
  g_autofree char *keyring = g_build_filename (g_get_user_data_dir (), "keyrings",
                                               "login.keyring", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gsize before_length;
  gsize after_length;
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);

  g_assert_true (g_file_get_contents (keyring, &before, &before_length, NULL));
  store (secrets, &imap, password);
  g_assert_finalize_object (secrets);

  /* the password went to disk, into the keyring's encrypted file... */
  g_assert_true (g_file_get_contents (keyring, &after, &after_length, NULL));
  g_assert_false (before_length == after_length && memcmp (before, after, after_length) == 0);

  /* ...and in clear into no file at all: not the keyring's, not its log,
   * nothing in the home or runtime directories */
  scan_files (lb_test_getenv ("LB_TEST_DIR"), password, found);
  for (guint i = 0; i < found->len; i++)
    g_test_message ("the password is in %s", (const char *) found->pdata[i]);
  g_assert_cmpuint (found->len, ==, 0);
}

/* ---------------------------------------------------------------- locked */

#define LOCKED_ACCOUNT "account-locked"
#define LOCKED_PASSWORD "locked away"

/* Stores a password for LOCKED_ACCOUNT (unless the keyring is locked
 * already, by an earlier case, which stored it) and locks the keyring. */
static void
lock_keyring (void)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SecretService) service = NULL;
  g_autoptr(SecretCollection) collection = NULL;
  g_autolist(GDBusProxy) locked = NULL;
  GList *objects;

  secret_service_get (SECRET_SERVICE_NONE, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  service = secret_service_get_finish (result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  secret_collection_for_alias (service, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE,
                               NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  collection = secret_collection_for_alias_finish (result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (collection);
  g_clear_object (&result);

  if (!secret_collection_get_locked (collection))
    {
      LbSecrets *secrets = lb_secrets_new ();
      LbSecretKey imap = key (LOCKED_ACCOUNT, "imap", "imap.example.test", "dave");

      store (secrets, &imap, LOCKED_PASSWORD);
      g_assert_finalize_object (secrets);
    }
  g_assert_cmpuint (count_items (LOCKED_ACCOUNT, "imap", NULL), ==, 1);

  objects = g_list_append (NULL, collection);
  secret_service_lock (service, objects, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_list_free (objects);
  g_assert_cmpint (secret_service_lock_finish (service, result, &locked, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_true (secret_collection_get_locked (collection));
}

/* gnome-keyring asks the user to unlock through a prompter on the session
 * bus. The harness's bus cannot start one, so gnome-keyring logs
 * "couldn't create system prompt" and completes the prompt as dismissed,
 * at once: the user-visible outcome is LB_SECRETS_ERROR_LOCKED, quickly. */
static void
test_secrets_locked (void)
{
  LbSecrets *secrets = lb_secrets_new ();
  LbSecretKey imap = key (LOCKED_ACCOUNT, "imap", "imap.example.test", "dave");
  LbSecretKey unknown = key ("account-not-there", "imap", NULL, NULL);
  LbSecretKey whole_account = key (LOCKED_ACCOUNT, NULL, NULL, NULL);
  g_autoptr(GError) store_error = NULL;
  g_autoptr(GError) lookup_error = NULL;
  g_autoptr(GError) clear_error = NULL;
  g_autoptr(GError) unknown_error = NULL;
  g_autofree char *password = NULL;
  g_autofree char *none = NULL;
  gint64 start;

  lock_keyring ();

  /* well within the timeout: the answer comes from gnome-keyring */
  start = g_get_monotonic_time ();
  password = try_lookup (secrets, &imap, &lookup_error);
  g_assert_error (lookup_error, LB_SECRETS_ERROR, LB_SECRETS_ERROR_LOCKED);
  g_assert_null (password);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_test_message ("lookup: %s", lookup_error->message);

  store_error = try_store (secrets, &imap, "new password");
  g_assert_error (store_error, LB_SECRETS_ERROR, LB_SECRETS_ERROR_LOCKED);

  /* not "nothing to remove": the password is still there */
  clear_error = try_clear (secrets, &whole_account);
  g_assert_error (clear_error, LB_SECRETS_ERROR, LB_SECRETS_ERROR_LOCKED);
  g_assert_cmpuint (count_items (LOCKED_ACCOUNT, NULL, NULL), ==, 1);

  /* an account without a password is not reported as locked */
  none = try_lookup (secrets, &unknown, &unknown_error);
  g_assert_no_error (unknown_error);
  g_assert_null (none);

  g_assert_finalize_object (secrets);
}

/* A session-bus name that never answers a method call. */
static GDBusMessage *
drop_method_calls (GDBusConnection *connection,
                   GDBusMessage    *message,
                   gboolean         incoming,
                   gpointer         user_data)
{
  if (incoming && g_dbus_message_get_message_type (message) == G_DBUS_MESSAGE_TYPE_METHOD_CALL)
    {
      g_object_unref (message);
      return NULL;
    }

  return message;
}

static GDBusConnection *
own_silent_name (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint32 status;

  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  connection = g_dbus_connection_new_for_address_sync (address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_add_filter (connection, drop_method_calls, NULL, NULL);

  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", name, 4 /* DO_NOT_QUEUE */),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &status);
  g_assert_cmpuint (status, ==, 1 /* PRIMARY_OWNER */);

  return g_steal_pointer (&connection);
}

static void
close_silent_name (GDBusConnection *connection)
{
  g_autoptr(GError) error = NULL;

  g_dbus_connection_close_sync (connection, NULL, &error);
  g_assert_no_error (error);
  g_object_unref (connection);
}

static void
weak_notify_cb (gpointer  user_data,
                GObject  *where_the_object_was)
{
  gboolean *finalized = user_data;

  *finalized = TRUE;
}

/* Drops the last reference to @secrets and waits (up to 5 s) until it is
 * finalized, that is until libsecret let go of the operation it had under
 * way: it was cancelled, not left to D-Bus's own 25 s timeout. */
static void
assert_released (LbSecrets *secrets)
{
  gboolean finalized = FALSE;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  g_object_weak_ref (G_OBJECT (secrets), weak_notify_cb, &finalized);
  g_object_unref (secrets);
  while (!finalized && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (finalized);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);

  return G_SOURCE_REMOVE;
}

/* A prompter that takes the request and never shows anything: as for a
 * user who leaves the unlock dialog alone, gnome-keyring waits for it, and
 * libsecret waits for gnome-keyring. The timeout and the caller's
 * cancellation end the operation; the prompt is left alone, because
 * dismissing it while the prompter is up makes gnome-keyring 42 abort. */
static void
test_secrets_prompt_never_answers (void)
{
  LbSecrets *secrets = lb_secrets_new ();
  LbSecrets *after = lb_secrets_new ();
  LbSecretKey imap = key (LOCKED_ACCOUNT, "imap", NULL, NULL);
  g_autoptr(GDBusConnection) prompter = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) cancel_error = NULL;
  g_autoptr(GError) after_error = NULL;
  g_autofree char *password = NULL;
  g_autofree char *still_locked = NULL;
  gint64 start;
  gint64 elapsed;

  lock_keyring ();
  prompter = own_silent_name ("org.gnome.keyring.SystemPrompter");
  lb_secrets_set_timeout (secrets, 1);

  start = g_get_monotonic_time ();
  password = try_lookup (secrets, &imap, &error);
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, LB_SECRETS_ERROR, LB_SECRETS_ERROR_TIMEOUT);
  g_assert_null (password);
  g_assert_cmpint (elapsed, >=, G_USEC_PER_SEC - G_USEC_PER_SEC / 10);
  g_assert_cmpint (elapsed, <, 5 * G_USEC_PER_SEC);
  g_test_message ("lookup: %s", error->message);

  /* the caller gives up before the timeout: cancelled, not timed out */
  lb_secrets_set_timeout (secrets, 30);
  g_timeout_add (200, cancel_cb, cancellable);
  start = g_get_monotonic_time ();
  lb_secrets_lookup_async (secrets, &imap, cancellable, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_null (lb_secrets_lookup_finish (secrets, result, &cancel_error));
  g_assert_error (cancel_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_clear_object (&result);

  /* The prompter goes away: gnome-keyring completes both prompts as
   * dismissed, and the unlocks libsecret still had under way end. */
  close_silent_name (g_steal_pointer (&prompter));
  assert_released (secrets);

  /* gnome-keyring is still there, and still locked */
  still_locked = try_lookup (after, &imap, &after_error);
  g_assert_error (after_error, LB_SECRETS_ERROR, LB_SECRETS_ERROR_LOCKED);
  g_assert_null (still_locked);
  g_assert_finalize_object (after);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/secrets/roundtrip", test_secrets_roundtrip);
  g_test_add_func ("/secrets/host-changed", test_secrets_host_changed);
  g_test_add_func ("/secrets/clear-account", test_secrets_clear_account);
  g_test_add_func ("/secrets/not-in-files", test_secrets_not_in_files);
  /* these leave the keyring locked */
  g_test_add_func ("/secrets/locked", test_secrets_locked);
  g_test_add_func ("/secrets/prompt-never-answers", test_secrets_prompt_never_answers);

  return g_test_run ();
}
