/* test-pop3.c: a message delivered into the harness's Dovecot over LMTP,
 * then retrieved over POP3 (plain, STLS and implicit TLS) through the
 * engine's connector
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lb-test-session.h"

#define ALICE "alice@example.test"
#define ALICE_PASSWORD "alicepass"

static char *
make_message (const char *message_id)
{
  return g_strdup_printf ("From: Bob <bob@example.test>\r\n"
                          "To: Alice <" ALICE ">\r\n"
                          "Subject: POP3 retrieval\r\n"
                          "Message-ID: %s\r\n"
                          "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
                          "\r\n"
                          "First line.\r\n"
                          ".A line that starts with a dot.\r\n"
                          "..Two dots.\r\n"
                          "Last line.\r\n",
                          message_id);
}

/* Delivers @message to @rcpt the way a mail server does: LMTP. */
static void
deliver_over_lmtp (const char *rcpt,
                   const char *message)
{
  g_autoptr(LbTestSession) lmtp = NULL;
  g_auto(GStrv) lines = NULL;

  lmtp = lb_test_session_open_greeted ("LB_TEST_LMTP_PORT", LB_NET_SECURITY_NONE, "220");

  lb_test_session_send (lmtp, "LHLO letterbox.test");
  g_free (lb_test_session_read_until (lmtp, "250 "));
  lb_test_session_send (lmtp, "MAIL FROM:<bob@example.test>");
  lb_test_session_expect (lmtp, "250");
  lb_test_session_send (lmtp, "RCPT TO:<%s>", rcpt);
  lb_test_session_expect (lmtp, "250");
  lb_test_session_send (lmtp, "DATA");
  lb_test_session_expect (lmtp, "354");

  /* dot-stuffing (RFC 5321 4.5.2) */
  lines = g_strsplit (message, "\r\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (lines[i + 1] == NULL && *lines[i] == '\0')
        break;
      lb_test_session_send (lmtp, "%s%s", lines[i][0] == '.' ? "." : "", lines[i]);
    }
  lb_test_session_send (lmtp, ".");
  lb_test_session_expect (lmtp, "250");
  lb_test_session_send (lmtp, "QUIT");
}

static LbTestSession *
open_pop3 (const char    *port_variable,
           LbNetSecurity  security)
{
  return lb_test_session_open_greeted (port_variable, security, "+OK");
}

static void
pop3_login (LbTestSession *session)
{
  lb_test_session_send (session, "USER " ALICE);
  lb_test_session_expect (session, "+OK");
  lb_test_session_send (session, "PASS " ALICE_PASSWORD);
  lb_test_session_expect (session, "+OK");
}

/* Reads a multi-line answer after its +OK line, undoing dot-stuffing
 * (RFC 1939 3), and returns it with CRLF line ends. */
static char *
read_multiline (LbTestSession *session)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (;;)
    {
      g_autofree char *line = lb_test_session_read_line (session);

      if (g_str_equal (line, "."))
        break;
      g_string_append_printf (text, "%s\r\n", line[0] == '.' ? line + 1 : line);
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* Finds @message_id in the maildrop and RETRs it: it must come back with
 * the body intact (the server adds trace headers at the top). */
static void
retrieve (LbTestSession *session,
          const char    *message_id,
          const char    *message)
{
  g_autofree char *stat = NULL;
  guint count = 0, size = 0;
  gboolean found = FALSE;

  lb_test_session_send (session, "STAT");
  stat = lb_test_session_read_line (session);
  g_assert_cmpint (sscanf (stat, "+OK %u %u", &count, &size), ==, 2);
  g_assert_cmpuint (count, >=, 1);

  for (guint i = 1; i <= count && !found; i++)
    {
      g_autofree char *retrieved = NULL;

      lb_test_session_send (session, "RETR %u", i);
      lb_test_session_expect (session, "+OK");
      retrieved = read_multiline (session);
      if (strstr (retrieved, message_id) == NULL)
        continue;

      found = TRUE;
      g_assert_true (g_str_has_suffix (retrieved, strstr (message, "\r\n\r\n")));
      g_assert_nonnull (strstr (retrieved, "Subject: POP3 retrieval\r\n"));
    }

  g_assert_true (found);
}

static void
test_pop3_plain_retr (void)
{
  g_autofree char *message_id = lb_test_message_id ();
  g_autofree char *message = make_message (message_id);
  g_autoptr(LbTestSession) session = NULL;
  g_autofree char *uidl = NULL;

  deliver_over_lmtp (ALICE, message);

  session = open_pop3 ("LB_TEST_POP3_PORT", LB_NET_SECURITY_NONE);
  pop3_login (session);
  retrieve (session, message_id, message);

  lb_test_session_send (session, "UIDL 1");
  uidl = lb_test_session_read_line (session);
  g_assert_true (g_str_has_prefix (uidl, "+OK 1 "));
  g_assert_cmpuint (strlen (uidl), >, strlen ("+OK 1 "));

  lb_test_session_send (session, "QUIT");
  lb_test_session_expect (session, "+OK");
}

static void
test_pop3_stls_retr (void)
{
  g_autofree char *message_id = lb_test_message_id ();
  g_autofree char *message = make_message (message_id);
  g_autoptr(LbTestSession) session = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *capa = NULL;

  deliver_over_lmtp (ALICE, message);

  session = open_pop3 ("LB_TEST_POP3_PORT", LB_NET_SECURITY_STARTTLS);
  lb_test_session_send (session, "CAPA");
  lb_test_session_expect (session, "+OK");
  capa = read_multiline (session);
  g_assert_nonnull (strstr (capa, "STLS\r\n"));

  lb_test_session_send (session, "STLS");
  lb_test_session_expect (session, "+OK");
  lb_test_session_start_tls (session, &error);
  g_assert_no_error (error);
  g_assert_true (G_IS_TLS_CONNECTION (session->stream));

  pop3_login (session);
  retrieve (session, message_id, message);
}

static void
test_pop3_implicit_tls_retr (void)
{
  g_autofree char *message_id = lb_test_message_id ();
  g_autofree char *message = make_message (message_id);
  g_autoptr(LbTestSession) session = NULL;

  deliver_over_lmtp (ALICE, message);

  session = open_pop3 ("LB_TEST_POP3S_PORT", LB_NET_SECURITY_TLS);
  g_assert_true (G_IS_TLS_CONNECTION (session->stream));
  pop3_login (session);
  retrieve (session, message_id, message);
}

static void
test_pop3_wrong_password (void)
{
  g_autoptr(LbTestSession) session = open_pop3 ("LB_TEST_POP3S_PORT", LB_NET_SECURITY_TLS);

  lb_test_session_send (session, "USER " ALICE);
  lb_test_session_expect (session, "+OK");
  lb_test_session_send (session, "PASS wrong");
  lb_test_session_expect (session, "-ERR");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pop3/plain-retr", test_pop3_plain_retr);
  g_test_add_func ("/pop3/stls-retr", test_pop3_stls_retr);
  g_test_add_func ("/pop3/implicit-tls-retr", test_pop3_implicit_tls_retr);
  g_test_add_func ("/pop3/wrong-password", test_pop3_wrong_password);

  return g_test_run ();
}
