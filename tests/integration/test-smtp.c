/* test-smtp.c: mail submitted to the harness's real SMTP server (STARTTLS
 * and implicit TLS, AUTH) through the engine's connector, seen arriving in
 * the recipient's IMAP INBOX
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "lb-test-session.h"

#define ALICE "alice@example.test"
#define ALICE_PASSWORD "alicepass"
#define BOB "bob@example.test"
#define BOB_PASSWORD "bobpass"

static LbTestSession *
open_smtp (const char    *port_variable,
           LbNetSecurity  security)
{
  return lb_test_session_open_greeted (port_variable, security, "220");
}

/* EHLO; returns the extension lines ("250-STARTTLS", "250 SIZE ..."). */
static char *
ehlo (LbTestSession *session)
{
  g_autoptr(GString) extensions = g_string_new (NULL);

  lb_test_session_send (session, "EHLO client.letterbox.test");
  for (;;)
    {
      g_autofree char *line = lb_test_session_read_line (session);

      g_assert_true (g_str_has_prefix (line, "250"));
      g_string_append_printf (extensions, "%s\n", line + 4);
      if (line[3] == ' ')
        break;
    }

  return g_string_free (g_steal_pointer (&extensions), FALSE);
}

static void
auth_plain (LbTestSession *session,
            const char    *user,
            const char    *password,
            const char    *expected)
{
  g_autofree char *raw = g_strdup_printf ("%c%s%c%s", 0, user, 0, password);
  g_autofree char *encoded = g_base64_encode ((const guchar *) raw,
                                              2 + strlen (user) + strlen (password));

  lb_test_session_send (session, "AUTH PLAIN %s", encoded);
  lb_test_session_expect (session, expected);
}

static void
submit (LbTestSession *session,
        const char    *message_id,
        const char    *subject)
{
  lb_test_session_send (session, "MAIL FROM:<" ALICE ">");
  lb_test_session_expect (session, "250");
  lb_test_session_send (session, "RCPT TO:<" BOB ">");
  lb_test_session_expect (session, "250");
  lb_test_session_send (session, "DATA");
  lb_test_session_expect (session, "354");
  lb_test_session_send (session,
                        "From: Alice <" ALICE ">\r\n"
                        "To: Bob <" BOB ">\r\n"
                        "Subject: %s\r\n"
                        "Message-ID: %s\r\n"
                        "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
                        "\r\n"
                        "Sent through the submission server.\r\n"
                        "..a dot-stuffed line.\r\n"
                        ".",
                        subject, message_id);
  lb_test_session_expect (session, "250");
  lb_test_session_send (session, "QUIT");
  lb_test_session_expect (session, "221");
}

/* Polls Bob's INBOX over IMAP until the message is there (the server
 * delivers in the background) and checks what arrived. */
static void
assert_arrives (const char *message_id,
                const char *subject)
{
  g_autoptr(LbTestSession) imap = NULL;
  g_autofree char *header = NULL;
  g_autofree char *expected = NULL;
  guint64 uid = 0;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  imap = lb_test_session_open_greeted ("LB_TEST_IMAPS_PORT", LB_NET_SECURITY_TLS, "* OK");
  lb_test_session_send (imap, "L LOGIN \"" BOB "\" \"" BOB_PASSWORD "\"");
  lb_test_session_expect_tagged_ok (imap, "L");

  while (uid == 0)
    {
      g_autofree char *search = NULL;

      g_assert_cmpint (g_get_monotonic_time (), <, deadline);

      /* SELECT again each round so the search sees new deliveries */
      lb_test_session_send (imap, "S EXAMINE INBOX");
      lb_test_session_expect_tagged_ok (imap, "S");
      lb_test_session_send (imap, "F UID SEARCH HEADER Message-ID \"%s\"", message_id);
      search = lb_test_session_read_until (imap, "* SEARCH");
      lb_test_session_expect_tagged_ok (imap, "F");
      uid = g_ascii_strtoull (search + strlen ("* SEARCH"), NULL, 10);
      if (uid == 0)
        g_usleep (G_USEC_PER_SEC / 10);
    }

  lb_test_session_send (imap, "H UID FETCH %" G_GUINT64_FORMAT " (BODY.PEEK[HEADER.FIELDS (SUBJECT)])", uid);
  for (;;)
    {
      g_autofree char *line = lb_test_session_read_until (imap, "* ");

      if (strstr (line, " FETCH (") != NULL)
        break;
    }
  header = lb_test_session_read_line (imap);
  expected = g_strdup_printf ("Subject: %s", subject);
  g_assert_cmpstr (header, ==, expected);
}

static void
test_smtp_submission_starttls (void)
{
  g_autoptr(LbTestSession) session = open_smtp ("LB_TEST_SUBMISSION_PORT", LB_NET_SECURITY_STARTTLS);
  g_autofree char *message_id = lb_test_message_id ();
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(GError) error = NULL;

  before = ehlo (session);
  g_assert_nonnull (strstr (before, "STARTTLS\n"));
  lb_test_session_send (session, "STARTTLS");
  lb_test_session_expect (session, "220");
  lb_test_session_start_tls (session, &error);
  g_assert_no_error (error);

  after = ehlo (session);
  g_assert_null (strstr (after, "STARTTLS\n"));
  g_assert_nonnull (strstr (after, "AUTH"));
  g_assert_nonnull (strstr (after, "PLAIN"));
  g_assert_nonnull (strstr (after, "LOGIN"));

  auth_plain (session, ALICE, ALICE_PASSWORD, "235");
  submit (session, message_id, "Submitted over STARTTLS");
  assert_arrives (message_id, "Submitted over STARTTLS");
}

static void
test_smtp_submissions_implicit_tls (void)
{
  g_autoptr(LbTestSession) session = open_smtp ("LB_TEST_SUBMISSIONS_PORT", LB_NET_SECURITY_TLS);
  g_autofree char *message_id = lb_test_message_id ();
  g_autofree char *user64 = g_base64_encode ((const guchar *) ALICE, strlen (ALICE));
  g_autofree char *password64 = g_base64_encode ((const guchar *) ALICE_PASSWORD, strlen (ALICE_PASSWORD));

  g_assert_true (G_IS_TLS_CONNECTION (session->stream));
  g_free (ehlo (session));

  /* AUTH LOGIN this time */
  lb_test_session_send (session, "AUTH LOGIN");
  lb_test_session_expect (session, "334");
  lb_test_session_send (session, "%s", user64);
  lb_test_session_expect (session, "334");
  lb_test_session_send (session, "%s", password64);
  lb_test_session_expect (session, "235");

  submit (session, message_id, "Submitted over implicit TLS");
  assert_arrives (message_id, "Submitted over implicit TLS");
}

static void
test_smtp_requires_auth (void)
{
  g_autoptr(LbTestSession) session = open_smtp ("LB_TEST_SUBMISSIONS_PORT", LB_NET_SECURITY_TLS);

  g_free (ehlo (session));
  lb_test_session_send (session, "MAIL FROM:<" ALICE ">");
  lb_test_session_send (session, "RCPT TO:<" BOB ">");
  /* refused at MAIL or at RCPT, depending on the server; never accepted */
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *reply = lb_test_session_read_line (session);

      if (g_str_has_prefix (reply, "5"))
        return;
      g_assert_true (g_str_has_prefix (reply, "250"));
    }
  g_assert_not_reached ();
}

static void
test_smtp_wrong_password (void)
{
  g_autoptr(LbTestSession) session = open_smtp ("LB_TEST_SUBMISSIONS_PORT", LB_NET_SECURITY_TLS);

  g_free (ehlo (session));
  auth_plain (session, ALICE, "wrong", "535");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_message ("SMTP server: %s", lb_test_getenv ("LB_TEST_SMTP_IMPL"));

  g_test_add_func ("/smtp/submission-starttls", test_smtp_submission_starttls);
  g_test_add_func ("/smtp/submissions-implicit-tls", test_smtp_submissions_implicit_tls);
  g_test_add_func ("/smtp/requires-auth", test_smtp_requires_auth);
  g_test_add_func ("/smtp/wrong-password", test_smtp_wrong_password);

  return g_test_run ();
}
