/* lb-test-account.c: accounts on the harness's servers, for UI tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "lb-secrets.h"
#include "lb-test-account.h"
#include "lb-test-session.h"

static char *
server_fingerprint (void)
{
  g_autoptr(GTlsCertificate) certificate = lb_test_untrusted_certificate ("LB_TEST_IMAPS_PORT");

  return lb_account_certificate_fingerprint (certificate);
}

void
lb_test_account_store_password (LbAccount  *account,
                                const char *protocol,
                                const char *password)
{
  g_autoptr(LbSecrets) secrets = lb_secrets_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbSecretKey key = {
    lb_account_get_id (account), protocol,
    g_str_equal (protocol, "smtp") ? lb_account_get_smtp_host (account) : lb_account_get_incoming_host (account),
    g_str_equal (protocol, "smtp") ? lb_account_get_smtp_user (account) : lb_account_get_incoming_user (account),
  };

  lb_secrets_store_async (secrets, &key, "Letterbox test", password, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_secrets_store_finish (secrets, result, &error));
  g_assert_no_error (error);
}

LbAccount *
lb_test_account_new_alice (void)
{
  g_autofree char *fingerprint = server_fingerprint ();
  LbAccount *account = lb_account_new ("alice");
  g_autoptr(LbIdentity) identity = lb_identity_new ("Alice Example", "alice@example.test");
  g_autoptr(LbIdentity) work = lb_identity_new ("Alice at Work", "alice.work@example.test");
  const char *host = lb_test_getenv ("LB_TEST_HOST");

  lb_identity_set_signature (identity, "Alice, testing");
  lb_identity_set_signature (work, "Alice\nWork Department");
  lb_account_set_display_name (account, "alice@example.test");
  lb_account_add_identity (account, identity);
  lb_account_add_identity (account, work);
  lb_account_set_incoming_protocol (account, LB_INCOMING_IMAP);
  lb_account_set_incoming_host (account, host);
  lb_account_set_incoming_port (account, lb_test_port ("LB_TEST_IMAPS_PORT"));
  lb_account_set_incoming_security (account, LB_NET_SECURITY_TLS);
  lb_account_set_incoming_user (account, "alice@example.test");
  lb_account_pin_certificate (account, host, lb_test_port ("LB_TEST_IMAPS_PORT"), fingerprint);
  lb_account_set_smtp_host (account, host);
  lb_account_set_smtp_port (account, lb_test_port ("LB_TEST_SUBMISSIONS_PORT"));
  lb_account_set_smtp_security (account, LB_NET_SECURITY_TLS);
  lb_account_set_smtp_user (account, "alice@example.test");
  lb_account_pin_certificate (account, host, lb_test_port ("LB_TEST_SUBMISSIONS_PORT"), fingerprint);
  return account;
}

void
lb_test_account_add (LbAccountManager *manager,
                     LbAccount        *account)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_account_manager_add_async (manager, account, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_account_manager_add_finish (manager, result, &error));
  g_assert_no_error (error);
}

void
lb_test_account_reset_mailboxes (void)
{
  g_autoptr(LbTestSession) alice = lb_test_session_imap_login ("alice@example.test", "alicepass");
  g_autoptr(LbTestSession) bob = lb_test_session_imap_login ("bob@example.test", "bobpass");
  const char *letter =
    "From: Carol Example <carol@example.test>\r\nTo: Alice <alice@example.test>\r\n"
    "Cc: Dave <dave@example.test>\r\nSubject: Lunch plans\r\n"
    "Date: Mon, 02 Nov 2026 10:00:00 +0000\r\nMessage-ID: <lunch-1@letterbox.test>\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "Shall we meet at noon?\r\n";

  lb_test_session_imap_empty (alice, "INBOX");
  lb_test_session_imap_append (alice, "INBOX", letter);
  lb_test_session_imap_empty (alice, "Drafts");
  lb_test_session_imap_ok (alice, "LOGOUT");
  lb_test_session_imap_empty (bob, "INBOX");
  lb_test_session_imap_ok (bob, "LOGOUT");
}
