/* test-imap.c: the harness's real Dovecot, spoken to over IMAP through the
 * engine's connector (plain, STARTTLS and implicit TLS)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lb-test-session.h"

#define ALICE "alice@example.test"
#define ALICE_PASSWORD "alicepass"

static LbTestSession *
open_session (const char    *port_variable,
              LbNetSecurity  security)
{
  return lb_test_session_open_greeted (port_variable, security, "* OK");
}

static void
login (LbTestSession *session,
       const char    *user,
       const char    *password)
{
  lb_test_session_send (session, "L1 LOGIN \"%s\" \"%s\"", user, password);
  lb_test_session_expect_tagged_ok (session, "L1");
}

static char *
capabilities (LbTestSession *session)
{
  char *line;

  lb_test_session_send (session, "C1 CAPABILITY");
  line = lb_test_session_read_until (session, "* CAPABILITY ");
  lb_test_session_expect_tagged_ok (session, "C1");

  return line;
}

static void
test_imap_plain_login (void)
{
  g_autoptr(LbTestSession) session = open_session ("LB_TEST_IMAP_PORT", LB_NET_SECURITY_NONE);
  g_autofree char *caps = capabilities (session);
  g_autofree char *bye = NULL;

  g_assert_nonnull (strstr (caps, " STARTTLS"));
  g_assert_false (G_IS_TLS_CONNECTION (session->stream));
  login (session, ALICE, ALICE_PASSWORD);

  lb_test_session_send (session, "Z LOGOUT");
  bye = lb_test_session_read_until (session, "* BYE");
  g_assert_nonnull (bye);
}

static void
test_imap_starttls (void)
{
  g_autoptr(LbTestSession) session = open_session ("LB_TEST_IMAP_PORT", LB_NET_SECURITY_STARTTLS);
  g_autoptr(GError) error = NULL;
  g_autofree char *caps = NULL;

  lb_test_session_send (session, "S1 STARTTLS");
  lb_test_session_expect_tagged_ok (session, "S1");

  lb_test_session_start_tls (session, &error);
  g_assert_no_error (error);
  g_assert_true (G_IS_TLS_CONNECTION (session->stream));

  /* after the upgrade the server must not offer STARTTLS again */
  caps = capabilities (session);
  g_assert_null (strstr (caps, " STARTTLS"));
  login (session, ALICE, ALICE_PASSWORD);
}

static void
test_imap_wrong_password (void)
{
  g_autoptr(LbTestSession) session = open_session ("LB_TEST_IMAPS_PORT", LB_NET_SECURITY_TLS);
  g_autofree char *answer = NULL;

  lb_test_session_send (session, "L1 LOGIN \"%s\" \"not-the-password\"", ALICE);
  answer = lb_test_session_read_until (session, "L1 ");
  g_assert_true (g_str_has_prefix (answer, "L1 NO"));
  g_assert_nonnull (strstr (answer, "AUTHENTICATIONFAILED"));
}

/* The system trust store does not know the harness's throwaway
 * certificate: a connector without the test CA must refuse it. */
static void
test_imap_untrusted_certificate (void)
{
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LbTestSession) session = NULL;

  lb_connector_set_timeout (connector, 20);
  session = lb_test_session_open (connector, "LB_TEST_IMAPS_PORT", LB_NET_SECURITY_TLS, &error);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_null (session);
}

/* A certificate valid for another name is refused, here on the STARTTLS
 * path: the harness's certificate is for localhost and 127.0.0.1 only. */
static void
test_imap_starttls_wrong_host (void)
{
  g_autoptr(LbTestSession) session = open_session ("LB_TEST_IMAP_PORT", LB_NET_SECURITY_STARTTLS);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GError) error = NULL;

  lb_test_session_send (session, "S1 STARTTLS");
  lb_test_session_expect_tagged_ok (session, "S1");

  lb_connector_start_tls_async (session->connector, session->stream,
                                "imap.example.test", session->port,
                                NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  tls = lb_connector_start_tls_finish (session->connector, result, &error);
  g_assert_null (tls);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, "imap.example.test"));
}

/* APPEND a message over implicit TLS, then FETCH it back byte for byte. */
static void
test_imap_append_fetch_roundtrip (void)
{
  g_autoptr(LbTestSession) session = open_session ("LB_TEST_IMAPS_PORT", LB_NET_SECURITY_TLS);
  g_autofree char *message_id = lb_test_message_id ();
  g_autofree char *message = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *fetch = NULL;
  g_autofree char *expected_fetch = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GBytes) sent = NULL;
  guint64 uidvalidity = 0, uid = 0;

  login (session, ALICE, ALICE_PASSWORD);

  message = g_strdup_printf ("From: Alice <" ALICE ">\r\n"
                             "To: Bob <bob@example.test>\r\n"
                             "Subject: =?UTF-8?B?0J/RgNC40LLQtdGCLCDQnNC40YAh?=\r\n"
                             "Message-ID: %s\r\n"
                             "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
                             "MIME-Version: 1.0\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n"
                             "Content-Transfer-Encoding: 8bit\r\n"
                             "\r\n"
                             "Привет! A line of UTF-8 text.\r\n"
                             ".A line that starts with a dot.\r\n",
                             message_id);
  sent = g_bytes_new (message, strlen (message));

  lb_test_session_send (session, "A1 APPEND INBOX (\\Seen) {%zu}", strlen (message));
  answer = lb_test_session_read_line (session);
  g_assert_true (g_str_has_prefix (answer, "+"));
  lb_test_session_write (session, message, strlen (message));
  lb_test_session_send (session, "%s", "");
  g_clear_pointer (&answer, g_free);
  answer = lb_test_session_read_until (session, "A1 ");
  g_assert_true (g_str_has_prefix (answer, "A1 OK [APPENDUID "));
  g_assert_cmpint (sscanf (answer, "A1 OK [APPENDUID %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "]",
                           &uidvalidity, &uid), ==, 2);
  g_assert_cmpuint (uid, >, 0);

  lb_test_session_send (session, "A2 SELECT INBOX");
  g_clear_pointer (&answer, g_free);
  answer = lb_test_session_read_until (session, "A2 ");
  g_assert_true (g_str_has_prefix (answer, "A2 OK [READ-WRITE]"));

  lb_test_session_send (session, "A3 UID FETCH %" G_GUINT64_FORMAT " (FLAGS BODY.PEEK[])", uid);
  fetch = lb_test_session_read_until (session, "* ");
  /* * 1 FETCH (UID 1 FLAGS (\Seen) BODY[] {n} */
  expected_fetch = g_strdup_printf (" BODY[] {%zu}", strlen (message));
  g_assert_true (g_str_has_suffix (fetch, expected_fetch));
  g_assert_nonnull (strstr (fetch, "\\Seen"));
  body = lb_test_session_read_bytes (session, strlen (message));
  g_assert_true (g_bytes_equal (body, sent));

  lb_test_session_expect_tagged_ok (session, "A3");

  /* the server finds it by its Message-ID too */
  lb_test_session_send (session, "A4 UID SEARCH HEADER Message-ID \"%s\"", message_id);
  g_clear_pointer (&answer, g_free);
  answer = lb_test_session_read_until (session, "* SEARCH");
  g_assert_cmpuint (g_ascii_strtoull (answer + strlen ("* SEARCH"), NULL, 10), ==, uid);
}

/* The harness's Dovecot creates the SPECIAL-USE folders later work relies on. */
static void
test_imap_special_use_folders (void)
{
  g_autoptr(LbTestSession) session = open_session ("LB_TEST_IMAPS_PORT", LB_NET_SECURITY_TLS);
  const char *roles[] = { "\\Sent", "\\Drafts", "\\Trash", "\\Junk", "\\Archive" };
  g_autoptr(GString) listing = g_string_new (NULL);

  login (session, "bob@example.test", "bobpass");

  lb_test_session_send (session, "L2 LIST \"\" \"*\" RETURN (SPECIAL-USE)");
  for (;;)
    {
      g_autofree char *line = lb_test_session_read_line (session);

      if (g_str_has_prefix (line, "L2 "))
        {
          g_assert_true (g_str_has_prefix (line, "L2 OK"));
          break;
        }
      g_string_append_printf (listing, "%s\n", line);
    }

  for (guint i = 0; i < G_N_ELEMENTS (roles); i++)
    {
      if (strstr (listing->str, roles[i]) == NULL)
        g_error ("no %s folder in:\n%s", roles[i], listing->str);
    }
}

static void
test_imap_quota (void)
{
  g_autoptr(LbTestSession) session = open_session ("LB_TEST_IMAPS_PORT", LB_NET_SECURITY_TLS);
  g_autofree char *caps = NULL;
  g_autofree char *quota = NULL;

  login (session, ALICE, ALICE_PASSWORD);
  caps = capabilities (session);
  g_assert_nonnull (strstr (caps, " QUOTA"));

  lb_test_session_send (session, "Q1 GETQUOTAROOT INBOX");
  quota = lb_test_session_read_until (session, "* QUOTA ");
  g_assert_nonnull (strstr (quota, "STORAGE"));
  lb_test_session_expect_tagged_ok (session, "Q1");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/imap/plain-login", test_imap_plain_login);
  g_test_add_func ("/imap/starttls", test_imap_starttls);
  g_test_add_func ("/imap/starttls-wrong-host", test_imap_starttls_wrong_host);
  g_test_add_func ("/imap/wrong-password", test_imap_wrong_password);
  g_test_add_func ("/imap/untrusted-certificate", test_imap_untrusted_certificate);
  g_test_add_func ("/imap/append-fetch-roundtrip", test_imap_append_fetch_roundtrip);
  g_test_add_func ("/imap/special-use-folders", test_imap_special_use_folders);
  g_test_add_func ("/imap/quota", test_imap_quota);

  return g_test_run ();
}
