/* test-secrets.c: LbSecrets against a real Secret Service (the harness's
 * gnome-keyring on a private session bus)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <libsecret/secret.h>

#include "lb-secrets.h"
#include "lb-test-session.h"

static void
store (LbSecrets    *secrets,
       const char   *account_id,
       LbSecretKind  kind,
       const char   *password)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_secrets_store_async (secrets, account_id, kind, "Letterbox test account",
                          password, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  lb_secrets_store_finish (secrets, result, &error);
  g_assert_no_error (error);
}

static char *
lookup (LbSecrets    *secrets,
        const char   *account_id,
        LbSecretKind  kind)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbSecretsPassword) password = NULL;

  lb_secrets_lookup_async (secrets, account_id, kind, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  password = lb_secrets_lookup_finish (secrets, result, &error);
  g_assert_no_error (error);

  /* a plain copy, so the test can compare and free it with g_free() */
  return g_strdup (password);
}

static void
clear (LbSecrets    *secrets,
       const char   *account_id,
       LbSecretKind  kind)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_secrets_clear_async (secrets, account_id, kind, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  lb_secrets_clear_finish (secrets, result, &error);
  g_assert_no_error (error);
}

/* How many items the keyring holds for this account and kind, asked of
 * the Secret Service directly rather than through LbSecrets. */
static guint
count_items (const char *account_id,
             const char *kind)
{
  const SecretSchema schema = {
    "io.github.letterbox.Letterbox.Password", SECRET_SCHEMA_NONE,
    { { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 } },
  };
  g_autoptr(GHashTable) attributes = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GList *items;
  guint count;

  g_hash_table_insert (attributes, (gpointer) "account", (gpointer) account_id);
  g_hash_table_insert (attributes, (gpointer) "kind", (gpointer) kind);
  secret_password_searchv (&schema, attributes, SECRET_SEARCH_ALL, NULL,
                           lb_test_store_result, &result);
  lb_test_wait (&result);
  items = secret_password_search_finish (result, &error);
  g_assert_no_error (error);
  count = g_list_length (items);
  g_list_free_full (items, g_object_unref);

  return count;
}

static void
test_secrets_roundtrip (void)
{
  LbSecrets *secrets = lb_secrets_new ();
  g_autofree char *incoming = NULL;
  g_autofree char *outgoing = NULL;
  g_autofree char *other_account = NULL;
  g_autofree char *replaced = NULL;
  g_autofree char *cleared = NULL;
  g_autofree char *kept = NULL;

  store (secrets, "account-1", LB_SECRET_INCOMING, "пароль-imap");
  store (secrets, "account-1", LB_SECRET_OUTGOING, "smtp secret");

  incoming = lookup (secrets, "account-1", LB_SECRET_INCOMING);
  g_assert_cmpstr (incoming, ==, "пароль-imap");
  outgoing = lookup (secrets, "account-1", LB_SECRET_OUTGOING);
  g_assert_cmpstr (outgoing, ==, "smtp secret");
  other_account = lookup (secrets, "account-2", LB_SECRET_INCOMING);
  g_assert_null (other_account);

  g_assert_cmpuint (count_items ("account-1", "incoming"), ==, 1);

  /* storing again replaces, it does not add a second item */
  store (secrets, "account-1", LB_SECRET_INCOMING, "new password");
  replaced = lookup (secrets, "account-1", LB_SECRET_INCOMING);
  g_assert_cmpstr (replaced, ==, "new password");
  g_assert_cmpuint (count_items ("account-1", "incoming"), ==, 1);

  clear (secrets, "account-1", LB_SECRET_INCOMING);
  cleared = lookup (secrets, "account-1", LB_SECRET_INCOMING);
  g_assert_null (cleared);
  g_assert_cmpuint (count_items ("account-1", "incoming"), ==, 0);
  kept = lookup (secrets, "account-1", LB_SECRET_OUTGOING);
  g_assert_cmpstr (kept, ==, "smtp secret");

  /* clearing what is not there is not an error */
  clear (secrets, "account-3", LB_SECRET_INCOMING);

  g_assert_finalize_object (secrets);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/secrets/roundtrip", test_secrets_roundtrip);

  return g_test_run ();
}
