/* test-accounts.c: LbAccount, LbIdentity and LbAccountManager on real files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "lb-account.h"
#include "lb-account-manager.h"
#include "lb-identity.h"
#include "lb-test-session.h"

/* A self-signed certificate made for this test, and its SHA-256
 * fingerprint as `openssl x509 -noout -fingerprint -sha256` prints it. */
static const char test_certificate_pem[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBkDCCATWgAwIBAgIUTrpyELETMVQZU8ZdaKvL3AvNvcUwCgYIKoZIzj0EAwIw\n"
  "HDEaMBgGA1UEAwwRaW1hcC5leGFtcGxlLnRlc3QwIBcNMjYxMTI2MDU1MzAyWhgP\n"
  "MjEyNjExMDIwNTUzMDJaMBwxGjAYBgNVBAMMEWltYXAuZXhhbXBsZS50ZXN0MFkw\n"
  "EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1eP6cwD5V0sq5jHHHDYx9LUdKjwVzAwk\n"
  "hsacOet7nHoQDFEnBMQH4y8CuuOpamGGLtDGtHnns4z2EzdW2HXMAKNTMFEwHQYD\n"
  "VR0OBBYEFH1DMXlKO/8d1JE8teNYqUrKJhpTMB8GA1UdIwQYMBaAFH1DMXlKO/8d\n"
  "1JE8teNYqUrKJhpTMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIh\n"
  "ANncWr9y9q5oBjTDAdK8SJhc9FHNigfPNtiTmMBUnf0FAiEAy9qI26uyjigaIK7w\n"
  "1jagW6/1tbVXClA9AYoDo9X4UZc=\n"
  "-----END CERTIFICATE-----\n";
static const char test_certificate_sha256[] =
  "1B:93:41:6C:CA:88:0C:49:FD:BD:4B:FB:D1:13:F5:B8:9B:0A:63:22:D2:75:EF:F4:C1:FC:28:9A:7B:A2:2A:F1";

#define FINGERPRINT_A "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"
#define FINGERPRINT_B "FF:EE:DD:CC:BB:AA:99:88:77:66:55:44:33:22:11:00:FF:EE:DD:CC:BB:AA:99:88:77:66:55:44:33:22:11:00"

/* A small valid account file, to be varied by the tests. */
#define MINIMAL_FILE \
  "[Identity 0]\n" \
  "Address=carol@example.org\n" \
  "[Incoming]\n" \
  "Protocol=imap\n" \
  "Host=imap.example.org\n"

typedef struct
{
  char *tmp;
  char *config_dir;
  char *data_dir;
  char *accounts_dir;
} Fixture;


static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->tmp = g_dir_make_tmp ("letterbox-accounts-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->config_dir = g_build_filename (fixture->tmp, "config", NULL);
  fixture->data_dir = g_build_filename (fixture->tmp, "data", NULL);
  fixture->accounts_dir = g_build_filename (fixture->config_dir, "accounts", NULL);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  lb_test_remove_tree (fixture->tmp);
  g_assert_false (g_file_test (fixture->tmp, G_FILE_TEST_EXISTS));

  g_free (fixture->tmp);
  g_free (fixture->config_dir);
  g_free (fixture->data_dir);
  g_free (fixture->accounts_dir);
}

static LbAccountManager *
fixture_new_manager (Fixture *fixture)
{
  return lb_account_manager_new (fixture->config_dir, fixture->data_dir);
}

static char *
account_path (Fixture    *fixture,
              const char *id)
{
  g_autofree char *name = g_strconcat (id, ".ini", NULL);

  return g_build_filename (fixture->accounts_dir, name, NULL);
}

static char *
write_account_file (Fixture    *fixture,
                    const char *file_name,
                    const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (fixture->accounts_dir, file_name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (fixture->accounts_dir, 0700), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);

  return path;
}

static GKeyFile *
read_account_file (Fixture    *fixture,
                   const char *id)
{
  g_autofree char *path = account_path (fixture, id);
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(GError) error = NULL;

  g_key_file_load_from_file (key_file, path,
                             G_KEY_FILE_KEEP_COMMENTS | G_KEY_FILE_KEEP_TRANSLATIONS,
                             &error);
  g_assert_no_error (error);

  return g_steal_pointer (&key_file);
}

/* Waiting for asynchronous calls */

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (*out);
  *out = g_object_ref (result);
}

static void
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
load_accounts (LbAccountManager  *manager,
               GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_account_manager_load_async (manager, NULL, store_result, &result);
  wait_for (&result);

  return lb_account_manager_load_finish (manager, result, error);
}

static gboolean
add_account (LbAccountManager  *manager,
             LbAccount         *account,
             GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_account_manager_add_async (manager, account, NULL, store_result, &result);
  wait_for (&result);

  return lb_account_manager_add_finish (manager, result, error);
}

static gboolean
save_account (LbAccountManager  *manager,
              LbAccount         *account,
              GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_account_manager_save_async (manager, account, NULL, store_result, &result);
  wait_for (&result);

  return lb_account_manager_save_finish (manager, result, error);
}

static gboolean
remove_account (LbAccountManager  *manager,
                LbAccount         *account,
                GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_account_manager_remove_async (manager, account, NULL, store_result, &result);
  wait_for (&result);

  return lb_account_manager_remove_finish (manager, result, error);
}

/* Recording items-changed */

typedef struct
{
  guint position;
  guint removed;
  guint added;
} Change;

static void
record_change (GListModel *model,
               guint       position,
               guint       removed,
               guint       added,
               gpointer    user_data)
{
  GArray *changes = user_data;
  Change change = { position, removed, added };

  g_array_append_val (changes, change);
}

static void
assert_change (GArray *changes,
               guint   index,
               guint   position,
               guint   removed,
               guint   added)
{
  Change *change;

  g_assert_cmpuint (index, <, changes->len);
  change = &g_array_index (changes, Change, index);
  g_assert_cmpuint (change->position, ==, position);
  g_assert_cmpuint (change->removed, ==, removed);
  g_assert_cmpuint (change->added, ==, added);
}

/* Accounts */

static LbAccount *
new_simple_account (const char *id,
                    const char *address)
{
  LbAccount *account = lb_account_new (id);
  g_autoptr(LbIdentity) identity = lb_identity_new (NULL, address);

  lb_account_add_identity (account, identity);
  lb_account_set_incoming_host (account, "imap.example.org");

  return account;
}

/* Every setting away from its default. */
static LbAccount *
new_full_account (const char *id)
{
  LbAccount *account = lb_account_new (id);
  g_autoptr(LbIdentity) work = lb_identity_new ("Алиса Лидделл", "alice@example.org");
  g_autoptr(LbIdentity) lists = lb_identity_new ("Alice (lists)", "alice+lists@example.org");

  lb_identity_set_signature (work, "-- \n  Alice; \"Wonderland\"\n\tTel. 123 = #1");
  lb_identity_set_reply_to (work, "replies@example.org");
  lb_account_add_identity (account, work);
  lb_account_add_identity (account, lists);

  lb_account_set_display_name (account, "Работа [work]");
  lb_account_set_incoming_protocol (account, LB_INCOMING_POP3);
  lb_account_set_incoming_host (account, "pop.example.org");
  lb_account_set_incoming_port (account, 1995);
  lb_account_set_incoming_security (account, LB_NET_SECURITY_STARTTLS);
  lb_account_set_incoming_user (account, "alice@example.org");
  lb_account_set_pop3_keep_on_server (account, FALSE);
  lb_account_set_pop3_delete_after_days (account, 14);
  lb_account_set_pop3_delete_when_deleted_here (account, TRUE);
  lb_account_set_pop3_size_limit (account, 2048);
  lb_account_set_smtp_host (account, "smtp.example.org");
  lb_account_set_smtp_port (account, 2525);
  lb_account_set_smtp_security (account, LB_NET_SECURITY_NONE);
  lb_account_set_smtp_user (account, "alice-smtp");
  lb_account_set_save_sent_copy (account, FALSE);
  lb_account_pin_certificate (account, "pop.example.org", 1995, FINGERPRINT_A);
  lb_account_pin_certificate (account, "smtp.example.org", 2525, FINGERPRINT_B);

  return account;
}

static void
assert_identities_equal (LbIdentity *a,
                         LbIdentity *b)
{
  g_assert_cmpstr (lb_identity_get_name (a), ==, lb_identity_get_name (b));
  g_assert_cmpstr (lb_identity_get_address (a), ==, lb_identity_get_address (b));
  g_assert_cmpstr (lb_identity_get_signature (a), ==, lb_identity_get_signature (b));
  g_assert_cmpstr (lb_identity_get_reply_to (a), ==, lb_identity_get_reply_to (b));
}

static void
assert_accounts_equal (LbAccount *a,
                       LbAccount *b)
{
  GListModel *ia = lb_account_get_identities (a);
  GListModel *ib = lb_account_get_identities (b);

  g_assert_cmpstr (lb_account_get_id (a), ==, lb_account_get_id (b));
  g_assert_cmpstr (lb_account_get_display_name (a), ==, lb_account_get_display_name (b));
  g_assert_cmpuint (lb_account_get_position (a), ==, lb_account_get_position (b));
  g_assert_cmpstr (lb_account_get_data_dir (a), ==, lb_account_get_data_dir (b));

  g_assert_cmpuint (g_list_model_get_n_items (ia), ==, g_list_model_get_n_items (ib));
  for (guint i = 0; i < g_list_model_get_n_items (ia); i++)
    {
      g_autoptr(LbIdentity) identity_a = g_list_model_get_item (ia, i);
      g_autoptr(LbIdentity) identity_b = g_list_model_get_item (ib, i);

      assert_identities_equal (identity_a, identity_b);
    }

  g_assert_cmpint (lb_account_get_incoming_protocol (a), ==, lb_account_get_incoming_protocol (b));
  g_assert_cmpstr (lb_account_get_incoming_host (a), ==, lb_account_get_incoming_host (b));
  g_assert_cmpuint (lb_account_get_incoming_port (a), ==, lb_account_get_incoming_port (b));
  g_assert_cmpint (lb_account_get_incoming_security (a), ==, lb_account_get_incoming_security (b));
  g_assert_cmpstr (lb_account_get_incoming_user (a), ==, lb_account_get_incoming_user (b));
  g_assert_cmpint (lb_account_get_pop3_keep_on_server (a), ==, lb_account_get_pop3_keep_on_server (b));
  g_assert_cmpuint (lb_account_get_pop3_size_limit (a), ==, lb_account_get_pop3_size_limit (b));
  g_assert_cmpuint (lb_account_get_pop3_delete_after_days (a), ==,
                    lb_account_get_pop3_delete_after_days (b));
  g_assert_cmpint (lb_account_get_pop3_delete_when_deleted_here (a), ==,
                   lb_account_get_pop3_delete_when_deleted_here (b));
  g_assert_cmpstr (lb_account_get_smtp_host (a), ==, lb_account_get_smtp_host (b));
  g_assert_cmpuint (lb_account_get_smtp_port (a), ==, lb_account_get_smtp_port (b));
  g_assert_cmpint (lb_account_get_smtp_security (a), ==, lb_account_get_smtp_security (b));
  g_assert_cmpstr (lb_account_get_smtp_user (a), ==, lb_account_get_smtp_user (b));
  g_assert_cmpint (lb_account_get_save_sent_copy (a), ==, lb_account_get_save_sent_copy (b));
  g_assert_cmpstrv (lb_account_get_pinned_certificates (a), lb_account_get_pinned_certificates (b));
}

/* Tests */

static void
test_round_trip (Fixture       *fixture,
                 gconstpointer  data)
{
  LbAccountManager *first = fixture_new_manager (fixture);
  LbAccountManager *second = NULL;
  LbAccountManager *third = NULL;
  LbAccount *full = new_full_account ("alice-at-example.org");
  LbAccount *simple = new_simple_account ("bob-at-example.org", "bob@example.org");
  LbAccount *loaded_full;
  LbAccount *loaded_simple;
  g_autoptr(LbIdentity) lists = NULL;
  g_autofree char *full_data_dir = g_build_filename (fixture->data_dir, "alice-at-example.org", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (load_accounts (first, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (first)), ==, 0);

  g_assert_true (add_account (first, full, &error));
  g_assert_no_error (error);
  g_assert_true (add_account (first, simple, &error));
  g_assert_no_error (error);

  /* the manager gives positions in the order of adding and data dirs */
  g_assert_cmpuint (lb_account_get_position (full), ==, 0);
  g_assert_cmpuint (lb_account_get_position (simple), ==, 1);
  g_assert_cmpstr (lb_account_get_data_dir (full), ==, full_data_dir);

  /* a new manager on the same directories reads back every setting */
  second = fixture_new_manager (fixture);
  g_assert_true (load_accounts (second, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (lb_account_manager_get_load_errors (second)->len, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (second)), ==, 2);

  loaded_full = lb_account_manager_lookup (second, "alice-at-example.org");
  loaded_simple = lb_account_manager_lookup (second, "bob-at-example.org");
  g_assert_nonnull (loaded_full);
  g_assert_nonnull (loaded_simple);
  g_assert_true (loaded_full != full);
  assert_accounts_equal (full, loaded_full);
  assert_accounts_equal (simple, loaded_simple);
  g_assert_cmpuint (lb_account_get_effective_incoming_port (loaded_full), ==, 1995);
  g_assert_cmpuint (lb_account_get_effective_smtp_port (loaded_full), ==, 2525);
  g_assert_true (lb_account_is_certificate_pinned (loaded_full, "pop.example.org", 1995, FINGERPRINT_A));

  /* defaults survive too: nothing invented on the way */
  g_assert_null (lb_account_get_smtp_host (loaded_simple));
  g_assert_false (lb_account_get_save_sent_copy (loaded_full));
  g_assert_true (lb_account_get_save_sent_copy (loaded_simple));
  g_assert_cmpint (lb_account_get_incoming_protocol (loaded_simple), ==, LB_INCOMING_IMAP);
  g_assert_false (lb_account_get_pop3_keep_on_server (loaded_simple));
  g_assert_cmpuint (lb_account_get_pop3_size_limit (loaded_simple), ==, 0);

  /* changed settings are saved: values cleared, an identity removed */
  lists = g_list_model_get_item (lb_account_get_identities (loaded_full), 1);
  g_assert_true (lb_account_remove_identity (loaded_full, lists));
  lb_identity_set_reply_to (lb_account_get_default_identity (loaded_full), NULL);
  lb_account_set_display_name (loaded_full, NULL);
  lb_account_set_incoming_user (loaded_full, NULL);
  lb_account_set_incoming_port (loaded_full, 0);
  lb_account_set_smtp_host (loaded_full, NULL);
  lb_account_unpin_certificate (loaded_full, "smtp.example.org", 2525);
  lb_account_set_pop3_keep_on_server (loaded_full, TRUE);
  g_assert_true (save_account (second, loaded_full, &error));
  g_assert_no_error (error);

  third = fixture_new_manager (fixture);
  g_assert_true (load_accounts (third, &error));
  g_assert_no_error (error);
  assert_accounts_equal (loaded_full, lb_account_manager_lookup (third, "alice-at-example.org"));
  assert_accounts_equal (loaded_simple, lb_account_manager_lookup (third, "bob-at-example.org"));
  g_assert_cmpuint (lb_account_get_effective_incoming_port (loaded_full), ==, 110);

  g_assert_finalize_object (third);
  g_assert_finalize_object (second);
  g_assert_finalize_object (first);
  g_assert_finalize_object (full);
  g_assert_finalize_object (simple);
  g_assert_finalize_object (g_steal_pointer (&lists));
}

static gboolean
key_looks_secret (const char *key)
{
  g_autofree char *lower = g_ascii_strdown (key, -1);

  return strstr (lower, "pass") != NULL || strstr (lower, "secret") != NULL;
}

static void
assert_no_password_keys (Fixture    *fixture,
                         const char *id)
{
  g_autoptr(GKeyFile) key_file = read_account_file (fixture, id);
  g_auto(GStrv) groups = g_key_file_get_groups (key_file, NULL);
  g_autofree char *path = account_path (fixture, id);
  g_autofree char *contents = NULL;
  g_autofree char *lower = NULL;

  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_auto(GStrv) keys = g_key_file_get_keys (key_file, groups[i], NULL, NULL);

      g_assert_false (key_looks_secret (groups[i]));
      for (guint j = 0; keys[j] != NULL; j++)
        g_assert_false (key_looks_secret (keys[j]));
    }

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  lower = g_ascii_strdown (contents, -1);
  g_assert_null (strstr (lower, "password"));
  g_assert_null (strstr (lower, "hunter2"));
}

static guint
file_mode (const char *path)
{
  GStatBuf buf;

  g_assert_cmpint (g_stat (path, &buf), ==, 0);
  return buf.st_mode & 07777;
}

static void
test_file_safety (Fixture       *fixture,
                  gconstpointer  data)
{
  LbAccountManager *manager = fixture_new_manager (fixture);
  LbAccount *account = new_full_account ("alice-at-example.org");
  g_autofree char *path = account_path (fixture, "alice-at-example.org");
  g_autoptr(GError) error = NULL;

  g_assert_true (load_accounts (manager, &error));
  g_assert_no_error (error);
  g_assert_true (add_account (manager, account, &error));
  g_assert_no_error (error);

  /* only the user can read the file, and it has no password in it */
  g_assert_cmpuint (file_mode (path), ==, 0600);
  assert_no_password_keys (fixture, "alice-at-example.org");

  /* a save puts the mode back even when someone loosened it */
  g_assert_cmpint (g_chmod (path, 0644), ==, 0);
  lb_account_set_incoming_host (account, "pop2.example.org");
  g_assert_true (save_account (manager, account, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (file_mode (path), ==, 0600);
  assert_no_password_keys (fixture, "alice-at-example.org");

  g_assert_finalize_object (manager);
  g_assert_finalize_object (account);
}

static void
test_unknown_preserved (Fixture       *fixture,
                        gconstpointer  data)
{
  LbAccountManager *manager = fixture_new_manager (fixture);
  LbAccountManager *again = NULL;
  LbAccount *account;
  g_autoptr(LbIdentity) second = NULL;
  g_autoptr(GKeyFile) written = NULL;
  g_autofree char *path = NULL;
  g_autofree char *value = NULL;
  g_autofree char *comment = NULL;
  g_autofree char *first_save = NULL;
  g_autofree char *second_save = NULL;
  g_autoptr(GError) error = NULL;

  path = write_account_file (fixture, "carol.ini",
                             "# Carol's account, edited by hand\n"
                             "\n"
                             "[Account]\n"
                             "DisplayName=Carol\n"
                             "FutureSetting=42\n"
                             "\n"
                             "[Identity 1]\n"
                             "Address=carol@lists.example.org\n"
                             "[Identity 0]\n"
                             "Name=Carol\n"
                             "Name[ru]=Кэрол\n"
                             "Address=carol@example.org\n"
                             "# chosen in a newer version\n"
                             "Color=blue\n"
                             "[Incoming]\n"
                             "Protocol=imap\n"
                             "Host=imap.example.org\n"
                             "Compression=deflate\n"
                             "Password=hunter2\n"
                             "[Outgoing]\n"
                             "Host=smtp.example.org\n"
                             "RequestDsn=true\n"
                             "[Future Group]\n"
                             "List=a\\;b;c;\n"
                             "Text=line\\nbreak\n"
                             "[Passwords]\n"
                             "imap=hunter2\n");

  g_assert_true (load_accounts (manager, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (lb_account_manager_get_load_errors (manager)->len, ==, 0);
  account = lb_account_manager_lookup (manager, "carol");
  g_assert_nonnull (account);

  /* identities come in the order of their numbers, not of the groups */
  g_assert_cmpstr (lb_identity_get_address (lb_account_get_default_identity (account)), ==,
                   "carol@example.org");

  /* make the second identity the default and change a known key */
  second = g_list_model_get_item (lb_account_get_identities (account), 1);
  lb_account_set_default_identity (account, second);
  lb_account_set_incoming_host (account, "imap2.example.org");
  g_assert_true (save_account (manager, account, &error));
  g_assert_no_error (error);

  written = read_account_file (fixture, "carol");

  g_assert_cmpstr ((value = g_key_file_get_string (written, "Incoming", "Host", NULL)), ==, "imap2.example.org");
  g_clear_pointer (&value, g_free);
  g_assert_cmpstr ((value = g_key_file_get_value (written, "Account", "FutureSetting", NULL)), ==, "42");
  g_clear_pointer (&value, g_free);
  g_assert_cmpstr ((value = g_key_file_get_value (written, "Incoming", "Compression", NULL)), ==, "deflate");
  g_clear_pointer (&value, g_free);
  g_assert_cmpstr ((value = g_key_file_get_value (written, "Outgoing", "RequestDsn", NULL)), ==, "true");
  g_clear_pointer (&value, g_free);
  g_assert_cmpstr ((value = g_key_file_get_value (written, "Future Group", "List", NULL)), ==, "a\\;b;c;");
  g_clear_pointer (&value, g_free);
  g_assert_cmpstr ((value = g_key_file_get_value (written, "Future Group", "Text", NULL)), ==, "line\\nbreak");
  g_clear_pointer (&value, g_free);

  /* the unknown key of the old default followed it to its new place */
  g_assert_cmpstr ((value = g_key_file_get_string (written, "Identity 1", "Address", NULL)), ==, "carol@example.org");
  g_clear_pointer (&value, g_free);
  g_assert_cmpstr ((value = g_key_file_get_value (written, "Identity 1", "Color", NULL)), ==, "blue");
  g_clear_pointer (&value, g_free);
  g_assert_cmpstr ((value = g_key_file_get_value (written, "Identity 1", "Name[ru]", NULL)), ==, "Кэрол");
  g_clear_pointer (&value, g_free);
  g_assert_false (g_key_file_has_key (written, "Identity 0", "Color", NULL));
  comment = g_key_file_get_comment (written, "Identity 1", "Color", NULL);
  g_assert_nonnull (strstr (comment, "chosen in a newer version"));

  /* a password written into the file by hand is not written back */
  g_assert_false (g_key_file_has_key (written, "Incoming", "Password", NULL));
  g_assert_false (g_key_file_has_group (written, "Passwords"));
  assert_no_password_keys (fixture, "carol");

  /* the hand-written comment stays */
  g_clear_pointer (&comment, g_free);
  comment = g_key_file_get_comment (written, "Account", NULL, NULL);
  g_assert_nonnull (strstr (comment, "edited by hand"));

  /* the file still loads, and loading and saving it again changes
   * nothing: it does not grow with every save */
  g_assert_true (g_file_get_contents (path, &first_save, NULL, NULL));
  again = fixture_new_manager (fixture);
  g_assert_true (load_accounts (again, &error));
  g_assert_no_error (error);
  assert_accounts_equal (account, lb_account_manager_lookup (again, "carol"));
  g_assert_true (save_account (again, lb_account_manager_lookup (again, "carol"), &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &second_save, NULL, NULL));
  g_assert_cmpstr (first_save, ==, second_save);

  g_assert_finalize_object (again);
  g_assert_finalize_object (manager);
  g_assert_finalize_object (g_steal_pointer (&second));
}

static const GError *
find_error_for (GPtrArray  *errors,
                const char *path)
{
  const GError *found = NULL;

  for (guint i = 0; i < errors->len; i++)
    {
      const GError *error = g_ptr_array_index (errors, i);

      if (strstr (error->message, path) != NULL)
        {
          g_assert_null (found);
          found = error;
        }
    }

  g_assert_nonnull (found);
  return found;
}

static void
test_broken_files (Fixture       *fixture,
                   gconstpointer  data)
{
  LbAccountManager *manager = fixture_new_manager (fixture);
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autofree char *not_key_file = NULL;
  g_autofree char *no_host = NULL;
  g_autofree char *bad_protocol = NULL;
  g_autofree char *no_identity = NULL;
  g_autofree char *bad_port = NULL;
  g_autofree char *bad_address = NULL;
  g_autofree char *bad_name = NULL;
  g_autofree char *hidden = NULL;
  g_autofree char *broken_contents = NULL;
  g_autofree char *broken_contents_after = NULL;
  g_autofree char *id = NULL;
  GPtrArray *errors;
  const GError *error_for;
  LbAccount *account;
  g_autoptr(LbAccount) clash = NULL;
  g_autoptr(GError) error = NULL;

  g_free (write_account_file (fixture, "a.ini", MINIMAL_FILE "Port=143\n"));
  g_free (write_account_file (fixture, "z.ini", MINIMAL_FILE));
  g_free (write_account_file (fixture, "notes.txt", "not an account"));
  not_key_file = write_account_file (fixture, "b.ini", "this is [not a key file\n");
  no_host = write_account_file (fixture, "c.ini",
                                "[Identity 0]\nAddress=c@example.org\n[Incoming]\nProtocol=imap\n");
  bad_protocol = write_account_file (fixture, "d.ini",
                                     "[Identity 0]\nAddress=d@example.org\n"
                                     "[Incoming]\nProtocol=smtp\nHost=imap.example.org\n");
  no_identity = write_account_file (fixture, "e.ini",
                                    "[Incoming]\nProtocol=imap\nHost=imap.example.org\n");
  bad_port = write_account_file (fixture, "f.ini", MINIMAL_FILE "Port=70000\n");
  bad_address = write_account_file (fixture, "g.ini",
                                    "[Identity 0]\nAddress=not an address\n"
                                    "[Incoming]\nProtocol=pop3\nHost=pop.example.org\n");
  bad_name = write_account_file (fixture, "Bad Name.ini", MINIMAL_FILE);
  hidden = write_account_file (fixture, ".hidden.ini", MINIMAL_FILE);

  g_signal_connect (manager, "items-changed", G_CALLBACK (record_change), changes);

  /* the broken files do not stop the good ones */
  g_assert_true (load_accounts (manager, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (manager)), ==, 2);
  g_assert_nonnull (lb_account_manager_lookup (manager, "a"));
  g_assert_nonnull (lb_account_manager_lookup (manager, "z"));
  g_assert_cmpuint (changes->len, ==, 1);
  assert_change (changes, 0, 0, 0, 2);

  /* and each is reported with its name and what is wrong */
  errors = lb_account_manager_get_load_errors (manager);
  g_assert_cmpuint (errors->len, ==, 8);

  error_for = find_error_for (errors, not_key_file);
  g_assert_error (error_for, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE);

  error_for = find_error_for (errors, no_host);
  g_assert_error (error_for, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND);
  g_assert_nonnull (strstr (error_for->message, "Host"));
  g_assert_nonnull (strstr (error_for->message, "Incoming"));

  error_for = find_error_for (errors, bad_protocol);
  g_assert_error (error_for, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error_for->message, "Protocol"));
  g_assert_nonnull (strstr (error_for->message, "smtp"));

  error_for = find_error_for (errors, no_identity);
  g_assert_error (error_for, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND);
  g_assert_nonnull (strstr (error_for->message, "Identity 0"));
  g_assert_nonnull (strstr (error_for->message, "Address"));

  error_for = find_error_for (errors, bad_port);
  g_assert_error (error_for, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error_for->message, "70000"));
  g_assert_nonnull (strstr (error_for->message, "Port"));

  error_for = find_error_for (errors, bad_address);
  g_assert_error (error_for, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error_for->message, "Address"));

  error_for = find_error_for (errors, bad_name);
  g_assert_error (error_for, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID_ID);
  error_for = find_error_for (errors, hidden);
  g_assert_error (error_for, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID_ID);

  /* the id of a broken file is not handed out again, and adding an
   * account with it does not overwrite the file the user must fix */
  g_assert_true (g_file_get_contents (no_host, &broken_contents, NULL, NULL));
  id = lb_account_manager_make_id (manager, "C");
  g_assert_cmpstr (id, ==, "c-2");

  clash = new_simple_account ("c", "c@example.org");
  g_assert_false (add_account (manager, clash, &error));
  g_assert_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, no_host));
  g_assert_true (g_file_get_contents (no_host, &broken_contents_after, NULL, NULL));
  g_assert_cmpstr (broken_contents, ==, broken_contents_after);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (manager)), ==, 2);
  g_assert_cmpuint (changes->len, ==, 1);

  account = lb_account_manager_lookup (manager, "a");
  g_assert_cmpuint (lb_account_get_incoming_port (account), ==, 143);

  g_signal_handlers_disconnect_by_func (manager, record_change, changes);
  g_assert_finalize_object (manager);
  g_assert_finalize_object (g_steal_pointer (&clash));
}

static void
test_missing_directory (Fixture       *fixture,
                        gconstpointer  data)
{
  LbAccountManager *manager = fixture_new_manager (fixture);
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(GError) error = NULL;

  /* a first start: no directory is no account, not an error */
  g_signal_connect (manager, "items-changed", G_CALLBACK (record_change), changes);
  g_assert_true (load_accounts (manager, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (manager)), ==, 0);
  g_assert_cmpuint (lb_account_manager_get_load_errors (manager)->len, ==, 0);
  g_assert_cmpuint (changes->len, ==, 0);
  g_assert_false (g_file_test (fixture->config_dir, G_FILE_TEST_EXISTS));

  g_signal_handlers_disconnect_by_func (manager, record_change, changes);
  g_assert_finalize_object (manager);
}

static void
test_invalid_ids (Fixture       *fixture,
                  gconstpointer  data)
{
  const char *valid[] = { "a", "0", "alice-at-example.org", "a_b", "_x", "x.y-2", "a..b" };
  const char *invalid[] = {
    "", ".", "..", "../evil", "a/b", "a\\b", ".hidden", "-x", "Alice", "a b", "ä", "a:b", "a\nb",
  };
  g_autofree char *too_long = g_strnfill (101, 'a');
  g_autofree char *longest = g_strnfill (100, 'a');
  g_autofree char *escaped = g_build_filename (fixture->config_dir, "evil.ini", NULL);
  LbAccountManager *manager = fixture_new_manager (fixture);
  LbAccount *evil = new_simple_account ("../evil", "evil@example.org");
  g_autoptr(GKeyFile) key_file = g_key_file_new ();
  g_autoptr(LbAccount) from_file = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (valid); i++)
    g_assert_true (lb_account_id_is_valid (valid[i]));
  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    g_assert_false (lb_account_id_is_valid (invalid[i]));
  g_assert_false (lb_account_id_is_valid (NULL));
  g_assert_true (lb_account_id_is_valid (longest));
  g_assert_false (lb_account_id_is_valid (too_long));

  /* an account whose id would leave the directory is never written */
  g_assert_false (add_account (manager, evil, &error));
  g_assert_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID_ID);
  g_assert_nonnull (strstr (error->message, "../evil"));
  g_clear_error (&error);
  g_assert_false (g_file_test (escaped, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (fixture->config_dir, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (manager)), ==, 0);

  /* nor read */
  g_assert_true (g_key_file_load_from_data (key_file, MINIMAL_FILE, -1, G_KEY_FILE_NONE, NULL));
  from_file = lb_account_new_from_key_file (key_file, "../evil", &error);
  g_assert_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID_ID);
  g_assert_null (from_file);
  g_clear_error (&error);

  from_file = lb_account_new_from_key_file (key_file, "carol", &error);
  g_assert_no_error (error);
  g_assert_nonnull (from_file);

  g_assert_finalize_object (manager);
  g_assert_finalize_object (evil);
  g_assert_finalize_object (g_steal_pointer (&from_file));
}

static void
test_make_id (Fixture       *fixture,
              gconstpointer  data)
{
  static const struct {
    const char *address;
    const char *id;
  } cases[] = {
    { "alice@example.org", "alice-at-example.org" },
    { "Alice@Example.COM", "alice-at-example.com" },
    { "bob+lists@example.org", "bob-lists-at-example.org" },
    { "Иван.Петров@пример.рф", "ivan.petrov-at-primer.rf" },
    { "Jörg@Straße.de", "jorg-at-strasse.de" },
    { "日本@example.jp", "u65e5u672c-at-example.jp" },
    { "../../etc/passwd", "etc-passwd" },
    { ".hidden@example.org", "hidden-at-example.org" },
    { "user name @ example.org", "user-name-at-example.org" },
    { "", "account" },
    { "@", "at" },
    { "...", "account" },
  };
  LbAccountManager *manager = fixture_new_manager (fixture);
  g_autofree char *long_address = NULL;
  g_autofree char *long_id = NULL;
  g_autoptr(GString) many = g_string_new (NULL);
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *pending_id = NULL;
  g_autofree char *after_pending = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *id = lb_account_manager_make_id (manager, cases[i].address);

      g_assert_cmpstr (id, ==, cases[i].id);
      g_assert_true (lb_account_id_is_valid (id));
    }

  for (guint i = 0; i < 200; i++)
    g_string_append (many, "ю+");
  long_address = g_strconcat (many->str, "@example.org", NULL);
  long_id = lb_account_manager_make_id (manager, long_address);
  g_assert_true (lb_account_id_is_valid (long_id));

  /* unique among the accounts added: -2, -3 */
  for (guint i = 0; i < 3; i++)
    {
      char *id = lb_account_manager_make_id (manager, "Dave@Example.org");
      g_autoptr(LbAccount) account = new_simple_account (id, "dave@example.org");

      g_ptr_array_add (ids, id);
      g_assert_true (add_account (manager, account, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpstr (g_ptr_array_index (ids, 0), ==, "dave-at-example.org");
  g_assert_cmpstr (g_ptr_array_index (ids, 1), ==, "dave-at-example.org-2");
  g_assert_cmpstr (g_ptr_array_index (ids, 2), ==, "dave-at-example.org-3");

  /* and among those still being added */
  pending_id = lb_account_manager_make_id (manager, "erin@example.org");
  {
    g_autoptr(LbAccount) account = new_simple_account (pending_id, "erin@example.org");

    lb_account_manager_add_async (manager, account, NULL, store_result, &result);
  }
  after_pending = lb_account_manager_make_id (manager, "erin@example.org");
  g_assert_cmpstr (pending_id, ==, "erin-at-example.org");
  g_assert_cmpstr (after_pending, ==, "erin-at-example.org-2");
  wait_for (&result);
  g_assert_true (lb_account_manager_add_finish (manager, result, &error));
  g_assert_no_error (error);

  /* a result holds its manager */
  g_clear_object (&result);
  g_assert_finalize_object (manager);
}

static void
test_duplicate (Fixture       *fixture,
                gconstpointer  data)
{
  LbAccountManager *manager = fixture_new_manager (fixture);
  LbAccount *first = new_simple_account ("frank", "frank@example.org");
  LbAccount *second = new_simple_account ("frank", "frank@other.example.org");
  LbAccount *third = new_simple_account ("frank", "frank@third.example.org");
  g_autoptr(GKeyFile) written = NULL;
  g_autofree char *address = NULL;
  g_autoptr(GAsyncResult) result_a = NULL;
  g_autoptr(GAsyncResult) result_b = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (add_account (manager, first, &error));
  g_assert_no_error (error);

  g_assert_false (add_account (manager, second, &error));
  g_assert_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (manager)), ==, 1);
  g_assert_true (lb_account_manager_lookup (manager, "frank") == first);

  /* the file is the first account's */
  written = read_account_file (fixture, "frank");
  address = g_key_file_get_string (written, "Identity 0", "Address", NULL);
  g_assert_cmpstr (address, ==, "frank@example.org");

  /* two adds of one id at once: exactly one wins */
  g_assert_true (remove_account (manager, first, &error));
  g_assert_no_error (error);
  lb_account_manager_add_async (manager, second, NULL, store_result, &result_a);
  lb_account_manager_add_async (manager, third, NULL, store_result, &result_b);
  wait_for (&result_a);
  wait_for (&result_b);
  g_assert_true (lb_account_manager_add_finish (manager, result_a, &error));
  g_assert_no_error (error);
  g_assert_false (lb_account_manager_add_finish (manager, result_b, &error));
  g_assert_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_EXISTS);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (manager)), ==, 1);
  g_assert_true (lb_account_manager_lookup (manager, "frank") == second);

  g_clear_object (&result_a);
  g_clear_object (&result_b);
  g_assert_finalize_object (manager);
  g_assert_finalize_object (first);
  g_assert_finalize_object (second);
  g_assert_finalize_object (third);
}

static void
test_remove (Fixture       *fixture,
             gconstpointer  data)
{
  LbAccountManager *manager = fixture_new_manager (fixture);
  LbAccountManager *again = NULL;
  LbAccount *grace = new_simple_account ("grace", "grace@example.org");
  LbAccount *heidi = new_simple_account ("heidi", "heidi@example.org");
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autofree char *path = account_path (fixture, "grace");
  g_autofree char *mail = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (add_account (manager, grace, &error));
  g_assert_no_error (error);
  g_assert_true (add_account (manager, heidi, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  /* some local mail, which removing the account must not touch */
  g_assert_cmpint (g_mkdir_with_parents (lb_account_get_data_dir (grace), 0700), ==, 0);
  mail = g_build_filename (lb_account_get_data_dir (grace), "message.eml", NULL);
  g_assert_true (g_file_set_contents (mail, "Subject: kept\r\n\r\n", -1, NULL));

  g_signal_connect (manager, "items-changed", G_CALLBACK (record_change), changes);
  g_assert_true (remove_account (manager, grace, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (mail, G_FILE_TEST_EXISTS));
  g_assert_null (lb_account_manager_lookup (manager, "grace"));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (manager)), ==, 1);
  g_assert_cmpuint (changes->len, ==, 1);
  assert_change (changes, 0, 0, 1, 0);

  /* a removed account is neither removed again nor saved back */
  g_assert_false (remove_account (manager, grace, &error));
  g_assert_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (save_account (manager, grace, &error));
  g_assert_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (changes->len, ==, 1);

  again = fixture_new_manager (fixture);
  g_assert_true (load_accounts (again, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (again)), ==, 1);
  g_assert_nonnull (lb_account_manager_lookup (again, "heidi"));

  g_signal_handlers_disconnect_by_func (manager, record_change, changes);
  g_assert_finalize_object (again);
  g_assert_finalize_object (manager);
  g_assert_finalize_object (grace);
  g_assert_finalize_object (heidi);
}

typedef struct
{
  LbAccountManager *manager;
  GAsyncResult     *result;
  guint             n_items;
} CallbackState;

static void
add_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  CallbackState *state = user_data;

  /* the list has changed by the time the caller hears back */
  state->n_items = g_list_model_get_n_items (G_LIST_MODEL (state->manager));
  state->result = g_object_ref (result);
}

static void
test_items_changed (Fixture       *fixture,
                    gconstpointer  data)
{
  LbAccountManager *manager = fixture_new_manager (fixture);
  LbAccount *ivan = new_simple_account ("ivan", "ivan@example.org");
  LbAccount *middle;
  g_autoptr(LbAccount) first_item = NULL;
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  CallbackState state = { manager, NULL, 0 };
  g_autoptr(GError) error = NULL;

  /* stored positions decide the order, then ids */
  g_free (write_account_file (fixture, "one.ini", "[Account]\nPosition=2\n" MINIMAL_FILE));
  g_free (write_account_file (fixture, "two.ini", "[Account]\nPosition=1\n" MINIMAL_FILE));
  g_free (write_account_file (fixture, "three.ini", "[Account]\nPosition=1\n" MINIMAL_FILE));

  g_signal_connect (manager, "items-changed", G_CALLBACK (record_change), changes);

  g_assert_true (load_accounts (manager, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (changes->len, ==, 1);
  assert_change (changes, 0, 0, 0, 3);
  first_item = g_list_model_get_item (G_LIST_MODEL (manager), 0);
  g_assert_cmpstr (lb_account_get_id (first_item), ==, "three");
  middle = g_list_model_get_item (G_LIST_MODEL (manager), 1);
  g_assert_cmpstr (lb_account_get_id (middle), ==, "two");
  g_object_unref (middle);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (manager), 3));
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (manager)) == LB_TYPE_ACCOUNT);

  /* added at the end, after the highest position */
  lb_account_manager_add_async (manager, ivan, NULL, add_cb, &state);
  wait_for (&state.result);
  g_assert_true (lb_account_manager_add_finish (manager, state.result, &error));
  g_assert_no_error (error);
  g_clear_object (&state.result);
  g_assert_cmpuint (state.n_items, ==, 4);
  g_assert_cmpuint (lb_account_get_position (ivan), ==, 3);
  g_assert_cmpuint (changes->len, ==, 2);
  assert_change (changes, 1, 3, 0, 1);

  g_assert_true (remove_account (manager, lb_account_manager_lookup (manager, "two"), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (changes->len, ==, 3);
  assert_change (changes, 2, 1, 1, 0);

  /* a reload replaces the list in one go */
  g_assert_true (load_accounts (manager, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (changes->len, ==, 4);
  assert_change (changes, 3, 0, 3, 3);
  middle = g_list_model_get_item (G_LIST_MODEL (manager), 2);
  g_assert_cmpstr (lb_account_get_id (middle), ==, "ivan");
  g_object_unref (middle);

  g_signal_handlers_disconnect_by_func (manager, record_change, changes);
  g_assert_finalize_object (manager);
  g_assert_finalize_object (ivan);
  g_assert_finalize_object (g_steal_pointer (&first_item));
}

static void
test_add_during_load (Fixture       *fixture,
                      gconstpointer  data)
{
  LbAccountManager *manager = fixture_new_manager (fixture);
  LbAccount *paul = new_simple_account ("a-paul", "paul@example.org");
  g_autoptr(LbAccount) last = NULL;
  g_autoptr(GAsyncResult) load_result = NULL;
  g_autoptr(GAsyncResult) add_result = NULL;
  g_autoptr(GError) error = NULL;

  g_free (write_account_file (fixture, "zoe.ini", "[Account]\nPosition=5\n" MINIMAL_FILE));

  /* an account added while the list is still loading goes after the
   * loaded ones, not before them */
  lb_account_manager_load_async (manager, NULL, store_result, &load_result);
  lb_account_manager_add_async (manager, paul, NULL, store_result, &add_result);
  wait_for (&load_result);
  wait_for (&add_result);
  g_assert_true (lb_account_manager_load_finish (manager, load_result, &error));
  g_assert_no_error (error);
  g_assert_true (lb_account_manager_add_finish (manager, add_result, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (manager)), ==, 2);
  last = g_list_model_get_item (G_LIST_MODEL (manager), 1);
  g_assert_true (last == paul);
  g_assert_cmpuint (lb_account_get_position (paul), ==, 6);

  g_clear_object (&load_result);
  g_clear_object (&add_result);
  g_clear_object (&last);
  g_assert_finalize_object (manager);
  g_assert_finalize_object (paul);
}

static void
test_save_order (Fixture       *fixture,
                 gconstpointer  data)
{
  LbAccountManager *manager = fixture_new_manager (fixture);
  LbAccountManager *again = NULL;
  LbAccount *judy = new_simple_account ("judy", "judy@example.org");
  g_autoptr(GAsyncResult) add_result = NULL;
  g_autoptr(GAsyncResult) save_result = NULL;
  g_autoptr(GAsyncResult) save_result2 = NULL;
  g_autoptr(GError) error = NULL;

  /* asked for at once: add, then two saves; the last settings win, and
   * a save waits for the add it follows */
  lb_account_set_incoming_host (judy, "one.example.org");
  lb_account_manager_add_async (manager, judy, NULL, store_result, &add_result);
  lb_account_set_incoming_host (judy, "two.example.org");
  lb_account_manager_save_async (manager, judy, NULL, store_result, &save_result);
  lb_account_set_incoming_host (judy, "three.example.org");
  lb_account_manager_save_async (manager, judy, NULL, store_result, &save_result2);
  wait_for (&add_result);
  wait_for (&save_result);
  wait_for (&save_result2);
  g_assert_true (lb_account_manager_add_finish (manager, add_result, &error));
  g_assert_no_error (error);
  g_assert_true (lb_account_manager_save_finish (manager, save_result, &error));
  g_assert_no_error (error);
  g_assert_true (lb_account_manager_save_finish (manager, save_result2, &error));
  g_assert_no_error (error);
  g_clear_object (&add_result);
  g_clear_object (&save_result);
  g_clear_object (&save_result2);

  again = fixture_new_manager (fixture);
  g_assert_true (load_accounts (again, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (lb_account_get_incoming_host (lb_account_manager_lookup (again, "judy")), ==,
                   "three.example.org");

  /* an invalid account is not saved: the file keeps the last good one */
  lb_account_set_incoming_host (judy, "bad host");
  g_assert_false (save_account (manager, judy, &error));
  g_assert_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (load_accounts (again, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (lb_account_get_incoming_host (lb_account_manager_lookup (again, "judy")), ==,
                   "three.example.org");

  g_assert_finalize_object (again);
  g_assert_finalize_object (manager);
  g_assert_finalize_object (judy);
}

static void
test_cancelled (Fixture       *fixture,
                gconstpointer  data)
{
  LbAccountManager *manager = fixture_new_manager (fixture);
  LbAccount *kim = new_simple_account ("kim", "kim@example.org");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *path = account_path (fixture, "kim");
  g_autofree char *id = NULL;
  g_autoptr(GError) error = NULL;

  g_cancellable_cancel (cancellable);
  lb_account_manager_add_async (manager, kim, cancellable, store_result, &result);
  wait_for (&result);
  g_assert_false (lb_account_manager_add_finish (manager, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (manager)), ==, 0);

  /* the id is free again */
  id = lb_account_manager_make_id (manager, "kim");
  g_assert_cmpstr (id, ==, "kim");

  g_clear_object (&result);
  g_assert_finalize_object (manager);
  g_assert_finalize_object (kim);
}

static void
assert_invalid (LbAccount  *account,
                const char *expected_fragment)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (lb_account_validate (account, &error));
  g_assert_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID);
  if (expected_fragment != NULL)
    g_assert_nonnull (strstr (error->message, expected_fragment));
}

static void
assert_valid (LbAccount *account)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (lb_account_validate (account, &error));
  g_assert_no_error (error);
}

static void
test_validate (void)
{
  LbAccount *account = lb_account_new ("leo");
  g_autoptr(LbIdentity) identity = lb_identity_new ("Leo", NULL);
  g_autoptr(LbIdentity) extra = lb_identity_new (NULL, "leo2@example.org");

  /* defaults: TLS, ports from the protocol; POP3 deletes what it stored
   * here from the server (the usual POP3 way), and downloads every
   * message whole */
  g_assert_cmpint (lb_account_get_incoming_protocol (account), ==, LB_INCOMING_IMAP);
  g_assert_cmpint (lb_account_get_incoming_security (account), ==, LB_NET_SECURITY_TLS);
  g_assert_cmpint (lb_account_get_smtp_security (account), ==, LB_NET_SECURITY_TLS);
  g_assert_false (lb_account_get_pop3_keep_on_server (account));
  g_assert_cmpuint (lb_account_get_pop3_size_limit (account), ==, 0);
  g_assert_cmpuint (lb_account_get_pop3_delete_after_days (account), ==, 0);
  g_assert_false (lb_account_get_pop3_delete_when_deleted_here (account));
  g_assert_cmpuint (lb_account_get_effective_incoming_port (account), ==, 993);
  g_assert_cmpuint (lb_account_get_effective_smtp_port (account), ==, 465);
  lb_account_set_incoming_security (account, LB_NET_SECURITY_STARTTLS);
  g_assert_cmpuint (lb_account_get_effective_incoming_port (account), ==, 143);
  lb_account_set_incoming_protocol (account, LB_INCOMING_POP3);
  g_assert_cmpuint (lb_account_get_effective_incoming_port (account), ==, 110);
  lb_account_set_incoming_security (account, LB_NET_SECURITY_TLS);
  g_assert_cmpuint (lb_account_get_effective_incoming_port (account), ==, 995);
  lb_account_set_incoming_security (account, LB_NET_SECURITY_NONE);
  g_assert_cmpuint (lb_account_get_effective_incoming_port (account), ==, 110);
  lb_account_set_smtp_security (account, LB_NET_SECURITY_STARTTLS);
  g_assert_cmpuint (lb_account_get_effective_smtp_port (account), ==, 587);
  lb_account_set_smtp_security (account, LB_NET_SECURITY_NONE);
  g_assert_cmpuint (lb_account_get_effective_smtp_port (account), ==, 587);

  assert_invalid (account, NULL);
  lb_account_add_identity (account, identity);
  assert_invalid (account, NULL);
  lb_identity_set_address (identity, "leo");
  assert_invalid (account, "leo");
  lb_identity_set_address (identity, "leo@example@org");
  assert_invalid (account, NULL);
  lb_identity_set_address (identity, "leo @example.org");
  assert_invalid (account, NULL);
  lb_identity_set_address (identity, "leo@exa mple.org");
  assert_invalid (account, NULL);
  lb_identity_set_address (identity, "leo@example.org");

  /* the incoming server is required */
  assert_invalid (account, NULL);
  lb_account_set_incoming_host (account, "");
  assert_invalid (account, NULL);
  lb_account_set_incoming_host (account, "imap.example.org:993");
  assert_invalid (account, "imap.example.org:993");
  lb_account_set_incoming_host (account, "imap example.org");
  assert_invalid (account, NULL);
  lb_account_set_incoming_host (account, "imaps://imap.example.org/");
  assert_invalid (account, NULL);
  lb_account_set_incoming_host (account, ".example.org");
  assert_invalid (account, NULL);
  lb_account_set_incoming_host (account, "imap..example.org");
  assert_invalid (account, NULL);

  /* names, IP addresses and Unicode domain names are fine */
  lb_account_set_incoming_host (account, "192.0.2.1");
  assert_valid (account);
  lb_account_set_incoming_host (account, "::1");
  assert_valid (account);
  lb_account_set_incoming_host (account, "почта.пример.рф");
  assert_valid (account);
  lb_account_set_incoming_host (account, "imap.example.org");
  assert_valid (account);

  /* what a protocol or a header would carry: no line breaks */
  lb_account_set_incoming_user (account, "leo\r\nA1 LOGOUT");
  assert_invalid (account, NULL);
  lb_account_set_incoming_user (account, "leo@example.org");
  assert_valid (account);
  lb_identity_set_name (identity, "Leo\nBcc: everyone@example.org");
  assert_invalid (account, NULL);
  lb_identity_set_name (identity, "Leo Tolstoy");
  lb_identity_set_signature (identity, "--\nLeo\n\tYasnaya Polyana");
  assert_valid (account);
  lb_identity_set_reply_to (identity, "nowhere");
  assert_invalid (account, "nowhere");
  lb_identity_set_reply_to (identity, "replies@example.org");
  assert_valid (account);

  /* every identity is checked, not only the default */
  lb_account_add_identity (account, extra);
  assert_valid (account);
  lb_identity_set_address (extra, "leo2");
  assert_invalid (account, "leo2");
  lb_identity_set_address (extra, "leo2@example.org");

  /* the outgoing server is optional, but must be a name when set */
  lb_account_set_smtp_host (account, "smtp.example.org 587");
  assert_invalid (account, NULL);
  lb_account_set_smtp_host (account, "smtp.example.org");
  lb_account_set_smtp_user (account, "leo\nx");
  assert_invalid (account, NULL);
  lb_account_set_smtp_user (account, NULL);
  assert_valid (account);

  lb_account_set_display_name (account, "Leo\r\n");
  assert_invalid (account, NULL);
  lb_account_set_display_name (account, "Лев");
  assert_valid (account);

  g_assert_finalize_object (account);
  g_assert_finalize_object (g_steal_pointer (&identity));
  g_assert_finalize_object (g_steal_pointer (&extra));
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  guint *count = user_data;

  (*count)++;
}

static void
test_notify (void)
{
  LbAccount *account = lb_account_new ("mia");
  LbIdentity *identity = lb_identity_new (NULL, NULL);
  guint notifications = 0;
  guint identity_notifications = 0;
  LbIncomingProtocol protocol = LB_INCOMING_IMAP;
  LbNetSecurity security = LB_NET_SECURITY_TLS;

  g_signal_connect (account, "notify", G_CALLBACK (count_notify), &notifications);
  g_signal_connect (identity, "notify", G_CALLBACK (count_notify), &identity_notifications);

  /* each change notifies once; setting the same value again does not */
  lb_account_set_display_name (account, "Mia");
  lb_account_set_display_name (account, "Mia");
  g_assert_cmpuint (notifications, ==, 1);
  g_object_set (account, "incoming-host", "imap.example.org", "incoming-port", 143, NULL);
  g_object_set (account, "incoming-host", "imap.example.org", "incoming-port", 143, NULL);
  g_assert_cmpuint (notifications, ==, 3);
  lb_account_set_pop3_keep_on_server (account, FALSE);
  g_assert_cmpuint (notifications, ==, 3);
  lb_account_set_pop3_keep_on_server (account, TRUE);
  lb_account_set_pop3_keep_on_server (account, TRUE);
  g_assert_cmpuint (notifications, ==, 4);
  lb_account_set_smtp_security (account, LB_NET_SECURITY_TLS);
  g_assert_cmpuint (notifications, ==, 4);
  g_object_set (account, "smtp-security", LB_NET_SECURITY_STARTTLS, NULL);
  g_assert_cmpuint (notifications, ==, 5);
  lb_account_set_incoming_protocol (account, LB_INCOMING_POP3);
  lb_account_set_incoming_protocol (account, LB_INCOMING_POP3);
  g_assert_cmpuint (notifications, ==, 6);
  lb_account_set_display_name (account, NULL);
  lb_account_set_display_name (account, "");
  g_assert_cmpuint (notifications, ==, 7);

  g_object_get (account, "incoming-protocol", &protocol, "smtp-security", &security, NULL);
  g_assert_cmpint (protocol, ==, LB_INCOMING_POP3);
  g_assert_cmpint (security, ==, LB_NET_SECURITY_STARTTLS);

  /* the enum types carry the names used in the files */
  {
    g_autoptr(GEnumClass) protocols = g_type_class_ref (LB_TYPE_INCOMING_PROTOCOL);
    g_autoptr(GEnumClass) securities = g_type_class_ref (LB_TYPE_NET_SECURITY);

    g_assert_cmpstr (g_enum_get_value (protocols, LB_INCOMING_POP3)->value_nick, ==, "pop3");
    g_assert_cmpstr (g_enum_get_value (securities, LB_NET_SECURITY_STARTTLS)->value_nick, ==,
                     lb_net_security_to_string (LB_NET_SECURITY_STARTTLS));
    g_assert_true (lb_incoming_protocol_from_string ("imap", &protocol));
    g_assert_cmpint (protocol, ==, LB_INCOMING_IMAP);
    g_assert_false (lb_incoming_protocol_from_string ("IMAP", &protocol));
    g_assert_cmpstr (lb_incoming_protocol_to_string (LB_INCOMING_POP3), ==, "pop3");
  }

  lb_identity_set_address (identity, "mia@example.org");
  lb_identity_set_address (identity, "mia@example.org");
  lb_identity_set_reply_to (identity, NULL);
  g_assert_cmpuint (identity_notifications, ==, 1);

  g_signal_handlers_disconnect_by_func (account, count_notify, &notifications);
  g_signal_handlers_disconnect_by_func (identity, count_notify, &identity_notifications);
  g_assert_finalize_object (account);
  g_assert_finalize_object (identity);
}

static void
test_identities (void)
{
  LbAccount *account = lb_account_new ("nina");
  LbIdentity *home = lb_identity_new ("Nina", "nina@example.org");
  LbIdentity *work = lb_identity_new ("Nina", "nina@work.example.org");
  LbIdentity *stranger = lb_identity_new (NULL, "x@example.org");
  GListModel *identities = lb_account_get_identities (account);
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));

  g_assert_true (g_list_model_get_item_type (identities) == LB_TYPE_IDENTITY);
  g_assert_null (lb_account_get_default_identity (account));

  g_signal_connect (identities, "items-changed", G_CALLBACK (record_change), changes);
  lb_account_add_identity (account, home);
  lb_account_add_identity (account, work);
  g_assert_true (lb_account_get_default_identity (account) == home);

  lb_account_set_default_identity (account, work);
  g_assert_true (lb_account_get_default_identity (account) == work);
  g_assert_cmpuint (g_list_model_get_n_items (identities), ==, 2);

  g_assert_false (lb_account_remove_identity (account, stranger));
  g_assert_true (lb_account_remove_identity (account, work));
  g_assert_true (lb_account_get_default_identity (account) == home);
  assert_change (changes, 0, 0, 0, 1);
  assert_change (changes, 1, 1, 0, 1);

  g_signal_handlers_disconnect_by_func (identities, record_change, changes);
  g_assert_finalize_object (account);
  g_assert_finalize_object (home);
  g_assert_finalize_object (work);
  g_assert_finalize_object (stranger);
}

static void
test_pins (void)
{
  LbAccount *account = new_simple_account ("olga", "olga@example.org");
  g_autofree char *lower_bare = g_ascii_strdown (FINGERPRINT_A, -1);
  g_autoptr(GString) bare = g_string_new (NULL);
  g_autoptr(GKeyFile) key_file = NULL;
  g_autoptr(LbAccount) from_file = NULL;
  g_autoptr(GError) error = NULL;
  guint notifications = 0;
  const char * const *pins;

  for (const char *p = lower_bare; *p != '\0'; p++)
    if (*p != ':')
      g_string_append_c (bare, *p);

  g_signal_connect (account, "notify::pinned-certificates", G_CALLBACK (count_notify), &notifications);

  /* the user accepted a certificate: stored as colon-separated hex */
  g_assert_false (lb_account_is_certificate_pinned (account, "imap.example.org", 993, FINGERPRINT_A));
  lb_account_pin_certificate (account, "IMAP.example.org", 993, bare->str);
  pins = lb_account_get_pinned_certificates (account);
  g_assert_cmpuint (g_strv_length ((char **) pins), ==, 1);
  g_assert_cmpstr (pins[0], ==, "imap.example.org:993 " FINGERPRINT_A);
  g_assert_cmpuint (notifications, ==, 1);

  /* matched whatever the spelling, but only for that server and port */
  g_assert_true (lb_account_is_certificate_pinned (account, "imap.example.org", 993, FINGERPRINT_A));
  g_assert_true (lb_account_is_certificate_pinned (account, "Imap.Example.Org", 993, lower_bare));
  g_assert_true (lb_account_is_certificate_pinned (account, "imap.example.org", 993, bare->str));
  g_assert_false (lb_account_is_certificate_pinned (account, "imap.example.org", 143, FINGERPRINT_A));
  g_assert_false (lb_account_is_certificate_pinned (account, "imap.example.net", 993, FINGERPRINT_A));
  g_assert_false (lb_account_is_certificate_pinned (account, "imap.example.org", 993, FINGERPRINT_B));
  g_assert_false (lb_account_is_certificate_pinned (account, "imap.example.org", 993, "00:11"));
  g_assert_false (lb_account_is_certificate_pinned (account, "imap.example.org", 993, NULL));

  /* pinning the same again changes nothing; a new certificate replaces
   * the old one for that server */
  lb_account_pin_certificate (account, "imap.example.org", 993, FINGERPRINT_A);
  g_assert_cmpuint (notifications, ==, 1);
  lb_account_pin_certificate (account, "imap.example.org", 993, FINGERPRINT_B);
  g_assert_cmpuint (notifications, ==, 2);
  g_assert_false (lb_account_is_certificate_pinned (account, "imap.example.org", 993, FINGERPRINT_A));
  g_assert_true (lb_account_is_certificate_pinned (account, "imap.example.org", 993, FINGERPRINT_B));
  lb_account_pin_certificate (account, "smtp.example.org", 465, FINGERPRINT_A);
  g_assert_cmpuint (g_strv_length ((char **) lb_account_get_pinned_certificates (account)), ==, 2);

  g_assert_true (lb_account_unpin_certificate (account, "IMAP.EXAMPLE.ORG", 993));
  g_assert_false (lb_account_unpin_certificate (account, "imap.example.org", 993));
  g_assert_false (lb_account_is_certificate_pinned (account, "imap.example.org", 993, FINGERPRINT_B));
  g_assert_true (lb_account_is_certificate_pinned (account, "smtp.example.org", 465, FINGERPRINT_A));
  g_assert_cmpuint (notifications, ==, 4);

  /* an entry in the file that does not parse is refused, not ignored */
  key_file = g_key_file_new ();
  g_assert_true (g_key_file_load_from_data (key_file,
                                            MINIMAL_FILE
                                            "[Certificates]\n"
                                            "Pinned=imap.example.org:993 00:11:22;\n",
                                            -1, G_KEY_FILE_NONE, NULL));
  from_file = lb_account_new_from_key_file (key_file, "olga", &error);
  g_assert_null (from_file);
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "Pinned"));
  g_clear_error (&error);

  /* a hand-written one in another spelling is read and normalized */
  g_clear_pointer (&key_file, g_key_file_unref);
  key_file = g_key_file_new ();
  {
    g_autofree char *contents = g_strdup_printf (MINIMAL_FILE
                                                 "[Certificates]\n"
                                                 "Pinned=[::1]:993 %s;IMAP.example.org:993 %s;\n",
                                                 bare->str, lower_bare);

    g_assert_true (g_key_file_load_from_data (key_file, contents, -1, G_KEY_FILE_NONE, NULL));
  }
  from_file = lb_account_new_from_key_file (key_file, "olga", &error);
  g_assert_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE);
  g_assert_null (from_file);
  g_clear_error (&error);

  g_clear_pointer (&key_file, g_key_file_unref);
  key_file = g_key_file_new ();
  {
    g_autofree char *contents = g_strdup_printf (MINIMAL_FILE
                                                 "[Certificates]\n"
                                                 "Pinned=::1:993 %s;IMAP.example.org:993 %s;\n",
                                                 bare->str, lower_bare);

    g_assert_true (g_key_file_load_from_data (key_file, contents, -1, G_KEY_FILE_NONE, NULL));
  }
  from_file = lb_account_new_from_key_file (key_file, "olga", &error);
  g_assert_no_error (error);
  g_assert_true (lb_account_is_certificate_pinned (from_file, "::1", 993, FINGERPRINT_A));
  g_assert_true (lb_account_is_certificate_pinned (from_file, "imap.example.org", 993, FINGERPRINT_A));

  g_signal_handlers_disconnect_by_func (account, count_notify, &notifications);
  g_assert_finalize_object (account);
  g_assert_finalize_object (g_steal_pointer (&from_file));
}

static void
test_certificate_fingerprint (void)
{
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fingerprint = NULL;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip ("no TLS backend");
      return;
    }

  certificate = g_tls_certificate_new_from_pem (test_certificate_pem, -1, &error);
  g_assert_no_error (error);

  /* the fingerprint the user compares with what their provider publishes */
  fingerprint = lb_account_certificate_fingerprint (certificate);
  g_assert_cmpstr (fingerprint, ==, test_certificate_sha256);
}

static void
test_default_directories (void)
{
  LbAccountManager *manager = lb_account_manager_new (NULL, NULL);
  g_autofree char *config_dir = g_build_filename (g_get_user_config_dir (), "letterbox", NULL);
  g_autofree char *data_dir = g_build_filename (g_get_user_data_dir (), "letterbox", NULL);
  g_autofree char *property = NULL;

  g_assert_cmpstr (lb_account_manager_get_config_dir (manager), ==, config_dir);
  g_assert_cmpstr (lb_account_manager_get_data_dir (manager), ==, data_dir);
  g_object_get (manager, "data-dir", &property, NULL);
  g_assert_cmpstr (property, ==, data_dir);

  g_assert_finalize_object (manager);
}

/* Accepted once: trusted for the connector, never pinned or saved */
static void
test_trust_once (void)
{
  g_autoptr(LbAccount) account = lb_account_new ("once");
  g_autoptr(GKeyFile) key_file = NULL;
  g_autofree char *data = NULL;
  g_auto(GStrv) trusted = NULL;

  lb_account_pin_certificate (account, "imap.example.org", 993, FINGERPRINT_A);
  lb_account_trust_certificate_once (account, "IMAP.example.org", 995, "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100");
  /* a second one for the same server replaces the first */
  lb_account_trust_certificate_once (account, "smtp.example.org", 465, FINGERPRINT_A);
  lb_account_trust_certificate_once (account, "smtp.example.org", 465, FINGERPRINT_B);

  trusted = lb_account_dup_trusted_certificates (account);
  g_assert_cmpstrv (trusted, ((const char *[]) {
    "imap.example.org:993 " FINGERPRINT_A,
    "imap.example.org:995 " FINGERPRINT_B,
    "smtp.example.org:465 " FINGERPRINT_B,
    NULL }));
  g_assert_cmpstrv (lb_account_get_pinned_certificates (account),
                    ((const char *[]) { "imap.example.org:993 " FINGERPRINT_A, NULL }));
  g_assert_false (lb_account_is_certificate_pinned (account, "smtp.example.org", 465, FINGERPRINT_B));

  key_file = lb_account_to_key_file (account);
  data = g_key_file_to_data (key_file, NULL, NULL);
  g_assert_nonnull (strstr (data, FINGERPRINT_A));
  g_assert_null (strstr (data, FINGERPRINT_B));
}

static void
notify_count_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* Gmail files sent mail itself: no copy by default there, whichever of
 * its servers the account names; the user's choice wins and is saved */
static void
test_save_sent_copy (void)
{
  g_autoptr(LbAccount) account = lb_account_new ("sent");
  g_autoptr(LbIdentity) identity = lb_identity_new ("Sam", "sam@example.org");
  g_autoptr(LbAccount) loaded = NULL;
  g_autoptr(GKeyFile) key_file = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *value = NULL;
  guint notified = 0;

  lb_account_add_identity (account, identity);
  g_signal_connect (account, "notify::save-sent-copy", G_CALLBACK (notify_count_cb), &notified);
  g_assert_true (lb_account_get_save_sent_copy (account));

  lb_account_set_incoming_host (account, "imap.gmail.com");
  g_assert_false (lb_account_get_save_sent_copy (account));
  g_assert_cmpuint (notified, ==, 1);
  lb_account_set_incoming_host (account, "imap.example.org");
  g_assert_true (lb_account_get_save_sent_copy (account));
  g_assert_cmpuint (notified, ==, 2);
  lb_account_set_smtp_host (account, "SMTP.GoogleMail.COM.");
  g_assert_false (lb_account_get_save_sent_copy (account));
  g_assert_cmpuint (notified, ==, 3);
  lb_account_set_smtp_host (account, "gmail.com");
  g_assert_false (lb_account_get_save_sent_copy (account));
  g_assert_cmpuint (notified, ==, 3);
  /* not a subdomain */
  lb_account_set_smtp_host (account, "notgmail.com");
  g_assert_true (lb_account_get_save_sent_copy (account));
  g_assert_cmpuint (notified, ==, 4);

  /* the default is not written; a choice is */
  key_file = lb_account_to_key_file (account);
  g_assert_false (g_key_file_has_key (key_file, "Outgoing", "SaveSentCopy", NULL));
  g_clear_pointer (&key_file, g_key_file_unref);

  lb_account_set_smtp_host (account, "smtp.gmail.com");
  g_assert_cmpuint (notified, ==, 5);
  lb_account_set_save_sent_copy (account, TRUE);
  g_assert_cmpuint (notified, ==, 6);
  g_assert_true (lb_account_get_save_sent_copy (account));
  lb_account_set_save_sent_copy (account, TRUE);
  g_assert_cmpuint (notified, ==, 6);
  g_object_set (account, "save-sent-copy", FALSE, NULL);
  g_assert_cmpuint (notified, ==, 7);
  lb_account_set_save_sent_copy (account, TRUE);

  key_file = lb_account_to_key_file (account);
  value = g_key_file_get_value (key_file, "Outgoing", "SaveSentCopy", NULL);
  g_assert_cmpstr (value, ==, "true");
  loaded = lb_account_new_from_key_file (key_file, "sent", &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  g_assert_true (lb_account_get_save_sent_copy (loaded));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD_FIXTURE_TEST(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD_FIXTURE_TEST ("/accounts/round-trip", test_round_trip);
  ADD_FIXTURE_TEST ("/accounts/file-safety", test_file_safety);
  ADD_FIXTURE_TEST ("/accounts/unknown-preserved", test_unknown_preserved);
  ADD_FIXTURE_TEST ("/accounts/broken-files", test_broken_files);
  ADD_FIXTURE_TEST ("/accounts/missing-directory", test_missing_directory);
  ADD_FIXTURE_TEST ("/accounts/invalid-ids", test_invalid_ids);
  ADD_FIXTURE_TEST ("/accounts/make-id", test_make_id);
  ADD_FIXTURE_TEST ("/accounts/duplicate", test_duplicate);
  ADD_FIXTURE_TEST ("/accounts/remove", test_remove);
  ADD_FIXTURE_TEST ("/accounts/items-changed", test_items_changed);
  ADD_FIXTURE_TEST ("/accounts/add-during-load", test_add_during_load);
  ADD_FIXTURE_TEST ("/accounts/save-order", test_save_order);
  ADD_FIXTURE_TEST ("/accounts/cancelled", test_cancelled);
  g_test_add_func ("/accounts/validate", test_validate);
  g_test_add_func ("/accounts/save-sent-copy", test_save_sent_copy);
  g_test_add_func ("/accounts/notify", test_notify);
  g_test_add_func ("/accounts/identities", test_identities);
  g_test_add_func ("/accounts/pins", test_pins);
  g_test_add_func ("/accounts/trust-once", test_trust_once);
  g_test_add_func ("/accounts/certificate-fingerprint", test_certificate_fingerprint);
  g_test_add_func ("/accounts/default-directories", test_default_directories);

  return g_test_run ();
}
