/* test-secrets.c: LbSecrets against a real Secret Service (the harness's
 * gnome-keyring on a private session bus)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

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

  /* storing again replaces, it does not add a second item */
  store (secrets, "account-1", LB_SECRET_INCOMING, "new password");
  replaced = lookup (secrets, "account-1", LB_SECRET_INCOMING);
  g_assert_cmpstr (replaced, ==, "new password");

  clear (secrets, "account-1", LB_SECRET_INCOMING);
  cleared = lookup (secrets, "account-1", LB_SECRET_INCOMING);
  g_assert_null (cleared);
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

  lb_test_getenv ("DBUS_SESSION_BUS_ADDRESS");

  g_test_add_func ("/secrets/roundtrip", test_secrets_roundtrip);

  return g_test_run ();
}
