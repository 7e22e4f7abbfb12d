/* test-smtp-client.c: LbSmtpTransport (and so LbSmtpClient) against the
 * harness's real submission server, over STARTTLS and implicit TLS, with
 * the password in the keyring; what was sent is read back from the
 * recipients' INBOX over IMAP
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "lb-account.h"
#include "lb-secrets.h"
#include "lb-smtp-transport.h"
#include "lb-test-session.h"

#define ALICE "alice@example.test"
#define ALICE_PASSWORD "alicepass"
#define BOB "bob@example.test"
#define BOB_PASSWORD "bobpass"

typedef struct
{
  LbAccount       *account;
  LbSecrets       *secrets;
  LbConnector     *connector;
  LbSmtpTransport *transport;
} Side;

static void
store_password (Side       *side,
                const char *protocol,
                const char *password)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbSecretKey key = { lb_account_get_id (side->account), protocol, lb_test_getenv ("LB_TEST_HOST"), ALICE };

  lb_secrets_store_async (side->secrets, &key, "Letterbox test", password, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_secrets_store_finish (side->secrets, result, &error));
  g_assert_no_error (error);
}

/* alice's account sending through @port_variable; @protocol's password
 * in the keyring */
static void
side_open (Side          *side,
           const char    *id,
           const char    *port_variable,
           LbNetSecurity  security,
           const char    *protocol,
           const char    *password)
{
  g_autoptr(LbIdentity) identity = lb_identity_new ("Alice", ALICE);

  side->account = lb_account_new (id);
  lb_account_add_identity (side->account, identity);
  lb_account_set_incoming_host (side->account, lb_test_getenv ("LB_TEST_HOST"));
  lb_account_set_incoming_port (side->account, lb_test_port ("LB_TEST_IMAPS_PORT"));
  lb_account_set_smtp_host (side->account, lb_test_getenv ("LB_TEST_HOST"));
  lb_account_set_smtp_port (side->account, lb_test_port (port_variable));
  lb_account_set_smtp_security (side->account, security);
  side->secrets = lb_secrets_new ();
  side->connector = lb_test_connector_new ();
  store_password (side, protocol, password);
  side->transport = lb_smtp_transport_new (side->account, side->secrets, side->connector);
}

static void
side_close (Side *side)
{
  g_assert_finalize_object (side->transport);
  g_clear_object (&side->connector);
  g_clear_object (&side->secrets);
  g_assert_finalize_object (side->account);
}

static gboolean
side_send (Side                *side,
           GBytes              *message,
           const char * const  *recipients,
           GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_assert_cmpstr (lb_transport_get_protocol_name (LB_TRANSPORT (side->transport)), ==, "smtp");
  lb_transport_send_async (LB_TRANSPORT (side->transport), message, ALICE, recipients, NULL,
                           lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_transport_send_finish (LB_TRANSPORT (side->transport), result, error);
}

static GBytes *
make_message (const char *message_id,
              const char *subject)
{
  g_autofree char *text = g_strdup_printf ("From: Alice <" ALICE ">\r\n"
                                           "To: Bob <" BOB ">\r\n"
                                           "Subject: %s\r\n"
                                           "Message-ID: %s\r\n"
                                           "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
                                           "MIME-Version: 1.0\r\n"
                                           "Content-Type: text/plain; charset=us-ascii\r\n"
                                           "\r\n"
                                           "Sent through LbSmtpTransport.\r\n"
                                           ".a line starting with a dot\r\n"
                                           "..and one with two\r\n"
                                           ".\r\n"
                                           "From the start of a line\r\n"
                                           "\r\n"
                                           "The end.\r\n",
                                           subject, message_id);

  gsize len = strlen (text);

  return g_bytes_new_take (g_steal_pointer (&text), len);
}

/* @user's INBOX copy of @message_id, waiting up to @seconds for it; NULL
 * when it did not come */
static GBytes *
fetch_arrived (const char *user,
               const char *password,
               const char *message_id,
               guint       seconds)
{
  g_autoptr(LbTestSession) imap = NULL;
  gint64 deadline = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  guint64 uid = 0;
  g_autofree char *fetch = NULL;
  const char *brace;
  GBytes *bytes;

  imap = lb_test_session_open_greeted ("LB_TEST_IMAPS_PORT", LB_NET_SECURITY_TLS, "* OK");
  lb_test_session_send (imap, "L LOGIN \"%s\" \"%s\"", user, password);
  lb_test_session_expect_tagged_ok (imap, "L");

  for (;;)
    {
      g_autofree char *search = NULL;

      lb_test_session_send (imap, "S EXAMINE INBOX");
      lb_test_session_expect_tagged_ok (imap, "S");
      lb_test_session_send (imap, "F UID SEARCH HEADER Message-ID \"%s\"", message_id);
      search = lb_test_session_read_until (imap, "* SEARCH");
      lb_test_session_expect_tagged_ok (imap, "F");
      uid = g_ascii_strtoull (search + strlen ("* SEARCH"), NULL, 10);
      if (uid != 0 || g_get_monotonic_time () > deadline)
        break;
      g_usleep (G_USEC_PER_SEC / 10);
    }
  if (uid == 0)
    return NULL;

  lb_test_session_send (imap, "B UID FETCH %" G_GUINT64_FORMAT " (BODY.PEEK[])", uid);
  fetch = lb_test_session_read_until (imap, "* ");
  brace = strrchr (fetch, '{');
  g_assert_nonnull (brace);
  bytes = lb_test_session_read_bytes (imap, g_ascii_strtoull (brace + 1, NULL, 10));
  g_free (lb_test_session_read_line (imap));
  lb_test_session_expect_tagged_ok (imap, "B");
  return bytes;
}

/* what arrived is what was sent, after the headers the servers put on top
 * (Return-Path, Received, Delivered-To) */
static void
assert_arrived (const char *user,
                const char *password,
                const char *message_id,
                GBytes     *sent)
{
  g_autoptr(GBytes) got = fetch_arrived (user, password, message_id, 20);
  gsize got_len, sent_len;
  const char *got_data;
  const char *sent_data = g_bytes_get_data (sent, &sent_len);

  g_assert_nonnull (got);
  got_data = g_bytes_get_data (got, &got_len);
  g_assert_cmpuint (got_len, >=, sent_len);
  g_assert_cmpmem (got_data + got_len - sent_len, sent_len, sent_data, sent_len);
  /* a header the server added comes first */
  g_assert_cmpuint (got_len, >, sent_len);
}

static void
send_and_check (const char    *id,
                const char    *port_variable,
                LbNetSecurity  security)
{
  Side side = { 0 };
  g_autofree char *message_id = lb_test_message_id ();
  g_autoptr(GBytes) message = make_message (message_id, id);
  /* alice is a Bcc: in the envelope only */
  const char *recipients[] = { BOB, ALICE, NULL };
  g_autoptr(GError) error = NULL;

  side_open (&side, id, port_variable, security, "smtp", ALICE_PASSWORD);
  g_assert_true (side_send (&side, message, recipients, &error));
  g_assert_no_error (error);
  side_close (&side);

  assert_arrived (BOB, BOB_PASSWORD, message_id, message);
  assert_arrived (ALICE, ALICE_PASSWORD, message_id, message);
}

static void
test_starttls (void)
{
  send_and_check ("alice-starttls", "LB_TEST_SUBMISSION_PORT", LB_NET_SECURITY_STARTTLS);
}

static void
test_implicit_tls (void)
{
  send_and_check ("alice-tls", "LB_TEST_SUBMISSIONS_PORT", LB_NET_SECURITY_TLS);
}

/* no "smtp" password: the incoming server's is tried */
static void
test_incoming_password (void)
{
  Side side = { 0 };
  g_autofree char *message_id = lb_test_message_id ();
  g_autoptr(GBytes) message = make_message (message_id, "incoming password");
  const char *recipients[] = { BOB, NULL };
  g_autoptr(GError) error = NULL;

  side_open (&side, "alice-shared", "LB_TEST_SUBMISSIONS_PORT", LB_NET_SECURITY_TLS, "imap", ALICE_PASSWORD);
  g_assert_true (side_send (&side, message, recipients, &error));
  g_assert_no_error (error);
  side_close (&side);
  assert_arrived (BOB, BOB_PASSWORD, message_id, message);
}

static void
test_wrong_password (void)
{
  Side side = { 0 };
  g_autofree char *message_id = lb_test_message_id ();
  g_autoptr(GBytes) message = make_message (message_id, "wrong password");
  const char *recipients[] = { BOB, NULL };
  g_autoptr(GError) error = NULL;

  side_open (&side, "alice-wrong", "LB_TEST_SUBMISSION_PORT", LB_NET_SECURITY_STARTTLS, "smtp", "wrong");
  g_assert_false (side_send (&side, message, recipients, &error));
  g_assert_error (error, LB_TRANSPORT_ERROR, LB_TRANSPORT_ERROR_AUTH);
  g_assert_nonnull (strstr (error->message, ALICE));
  g_assert_false (lb_transport_error_is_temporary (error));
  side_close (&side);
}

/* an unknown recipient: nothing goes to anyone */
static void
test_unknown_recipient (void)
{
  Side side = { 0 };
  g_autofree char *message_id = lb_test_message_id ();
  g_autoptr(GBytes) message = make_message (message_id, "unknown recipient");
  g_autoptr(GBytes) arrived = NULL;
  const char *recipients[] = { BOB, "nobody@example.test", NULL };
  g_autoptr(GError) error = NULL;

  side_open (&side, "alice-unknown", "LB_TEST_SUBMISSIONS_PORT", LB_NET_SECURITY_TLS, "smtp", ALICE_PASSWORD);
  g_assert_false (side_send (&side, message, recipients, &error));
  g_assert_error (error, LB_TRANSPORT_ERROR, LB_TRANSPORT_ERROR_RECIPIENTS);
  g_assert_nonnull (strstr (error->message, "nobody@example.test"));
  g_assert_null (strstr (error->message, BOB));
  g_assert_false (lb_transport_error_is_temporary (error));
  side_close (&side);

  arrived = fetch_arrived (BOB, BOB_PASSWORD, message_id, 2);
  g_assert_null (arrived);
}

/* the account's own transport, made when it opens */
static void
test_account_transport (void)
{
  g_autoptr(LbAccount) account = lb_account_new ("alice-open");
  g_autoptr(LbIdentity) identity = lb_identity_new ("Alice", ALICE);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lb-smtp-account-XXXXXX", &error);

  g_assert_no_error (error);
  lb_account_add_identity (account, identity);
  lb_account_set_data_dir (account, dir);
  lb_account_set_incoming_host (account, lb_test_getenv ("LB_TEST_HOST"));
  g_assert_null (lb_account_get_transport (account));
  lb_account_open_async (account, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_account_open_finish (account, result, &error));
  g_assert_no_error (error);
  g_assert_true (LB_IS_SMTP_TRANSPORT (lb_account_get_transport (account)));
  lb_account_close (account);
  g_assert_null (lb_account_get_transport (account));
  lb_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_message ("SMTP server: %s", lb_test_getenv ("LB_TEST_SMTP_IMPL"));

  g_test_add_func ("/smtp-client/starttls", test_starttls);
  g_test_add_func ("/smtp-client/implicit-tls", test_implicit_tls);
  g_test_add_func ("/smtp-client/incoming-password", test_incoming_password);
  g_test_add_func ("/smtp-client/wrong-password", test_wrong_password);
  g_test_add_func ("/smtp-client/unknown-recipient", test_unknown_recipient);
  g_test_add_func ("/smtp-client/account-transport", test_account_transport);

  return g_test_run ();
}
