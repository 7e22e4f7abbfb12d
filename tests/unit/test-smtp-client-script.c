/* test-smtp-client-script.c: LbSmtpClient against scripted servers, for
 * what a real MTA will not do on demand: no PIPELINING, refused
 * recipients, a small SIZE, no STARTTLS, bytes after the 220 to STARTTLS,
 * a connection dropped before or after the data, refused logins, a
 * silent server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "lb-smtp-client.h"
#include "lb-test-script-server.h"
#include "lb-test-session.h"

#define GREETING "S: 220 script.example.test ESMTP\n"
/* no PIPELINING, no DSN */
#define EHLO_PLAIN \
  "C: EHLO [127.0.0.1]\n" \
  "S: 250-script.example.test\n" \
  "S: 250-SIZE 1000\n" \
  "S: 250-8BITMIME\n" \
  "S: 250-AUTH PLAIN LOGIN\n" \
  "S: 250 ENHANCEDSTATUSCODES\n"
#define EHLO_PIPELINING \
  "C: EHLO [127.0.0.1]\n" \
  "S: 250-script.example.test\n" \
  "S: 250-PIPELINING\n" \
  "S: 250-SIZE\n" \
  "S: 250-DSN\n" \
  "S: 250-STARTTLS\n" \
  "S: 250 ENHANCEDSTATUSCODES\n"
#define QUIT \
  "C: QUIT\n" \
  "S: 221 2.0.0 Bye\n"

/* "\0alice\0secret" */
#define PLAIN_ALICE "AGFsaWNlAHNlY3JldA=="

typedef struct
{
  LbTestScriptServer *server;
  LbSmtpClient       *client;
  GPtrArray          *trace;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->server = lb_test_script_server_new (&error);
  g_assert_no_error (error);
  f->trace = g_ptr_array_new_with_free_func (g_free);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (f->client != NULL)
    lb_smtp_client_close (f->client);
  g_clear_object (&f->client);
  lb_test_script_server_wait_played (f->server);
  lb_test_script_server_free (f->server);
  g_ptr_array_unref (f->trace);
}

static void
start (Fixture    *f,
       const char *script)
{
  g_autoptr(GIOStream) connection = NULL;

  lb_test_script_server_add_script (f->server, script);
  connection = lb_test_script_server_connect (f->server);
  f->client = lb_smtp_client_new (connection);
  lb_smtp_client_set_trace_func (f->client, lb_test_collect_trace, g_ptr_array_ref (f->trace),
                                 (GDestroyNotify) g_ptr_array_unref);
}

static gboolean
greet (Fixture  *f,
       GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_smtp_client_greet_async (f->client, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_smtp_client_greet_finish (f->client, result, error);
}

static gboolean
ehlo (Fixture  *f,
      gboolean  helo_fallback,
      GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_smtp_client_ehlo_async (f->client, helo_fallback, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_smtp_client_ehlo_finish (f->client, result, error);
}

static gboolean
login (Fixture          *f,
       LbSmtpAuthMethod  method,
       GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_smtp_client_login_async (f->client, method, "alice", "secret", NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_smtp_client_login_finish (f->client, result, error);
}

static gboolean
send_message (Fixture            *f,
              const char         *from,
              const char * const *recipients,
              const char         *message,
              GError            **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new (message, strlen (message));

  lb_smtp_client_send_async (f->client, from, recipients, bytes, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_smtp_client_send_finish (f->client, result, error);
}

static gboolean
quit (Fixture  *f,
      GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_smtp_client_quit_async (f->client, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_smtp_client_quit_finish (f->client, result, error);
}

static void
session_start (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (greet (f, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (lb_smtp_client_get_greeting (f->client), ==, "script.example.test ESMTP");
  g_assert_true (ehlo (f, FALSE, &error));
  g_assert_no_error (error);
}

static void
assert_quit (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (quit (f, &error));
  g_assert_no_error (error);
  g_assert_true (lb_smtp_client_is_closed (f->client));
}

static char *
trace_text (Fixture *f)
{
  g_ptr_array_add (f->trace, NULL);
  {
    char *text = g_strjoinv ("\n", (char **) f->trace->pdata);

    g_ptr_array_remove_index (f->trace, f->trace->len - 1);
    return text;
  }
}

static gboolean
received_has (Fixture    *f,
              const char *prefix)
{
  g_auto(GStrv) received = lb_test_script_server_get_received (f->server, 0);

  for (guint i = 0; received[i] != NULL; i++)
    if (g_str_has_prefix (received[i], prefix))
      return TRUE;
  return FALSE;
}

/* One command at a time without PIPELINING; AUTH PLAIN; the data
 * dot-stuffed with CRLF line ends; the trace shows no secret and no data */
static void
test_no_pipelining (Fixture       *f,
                    gconstpointer  data)
{
  const char *recipients[] = { "bob@example.test", "carol@example.test", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *trace = NULL;
  const char *message = "Subject: hi\n\n.dot line\r\n..two\rbody\n.";

  start (f, GREETING EHLO_PLAIN
            "C: AUTH PLAIN " PLAIN_ALICE "\n"
            "S: 235 2.7.0 Authentication successful\n"
            "C~ ^MAIL FROM:<alice@example.test> SIZE=45$\n"
            "S: 250 2.1.0 Ok\n"
            "C: RCPT TO:<bob@example.test>\n"
            "S: 250 2.1.5 Ok\n"
            "C: RCPT TO:<carol@example.test>\n"
            "S: 250 2.1.5 Ok\n"
            "C~ ^DATA$\n"
            "S: 354 End data with <CR><LF>.<CR><LF>\n"
            "C~ ^Subject: hi$\n"
            "C~ ^$\n"
            "C~ ^\\.\\.dot line$\n"
            "C~ ^\\.\\.\\.two$\n"
            "C~ ^body$\n"
            "C~ ^\\.\\.$\n"
            "C~ ^\\.$\n"
            "S: 250 2.0.0 Ok: queued as ABC\n"
            QUIT);
  session_start (f);
  g_assert_true (login (f, LB_SMTP_AUTH_AUTO, &error));
  g_assert_no_error (error);
  g_assert_true (send_message (f, "alice@example.test", recipients, message, &error));
  g_assert_no_error (error);
  assert_quit (f);

  trace = trace_text (f);
  /* each command waited for its reply */
  g_assert_nonnull (strstr (trace,
                            "S: 250 2.1.0 Ok\n"
                            "C: RCPT TO:<bob@example.test>\n"
                            "S: 250 2.1.5 Ok\n"
                            "C: RCPT TO:<carol@example.test>\n"
                            "S: 250 2.1.5 Ok\n"
                            "C: DATA\n"));
  /* redacted: no credentials, no message text */
  g_assert_nonnull (strstr (trace, "C: AUTH PLAIN ***\n"));
  g_assert_null (strstr (trace, PLAIN_ALICE));
  g_assert_null (strstr (trace, "secret"));
  g_assert_null (strstr (trace, "dot line"));
  g_assert_nonnull (strstr (trace, "C: [48 bytes of message data]\n"));
}

/* With PIPELINING the envelope goes out in one write; DSN parameters */
static void
test_pipelining (Fixture       *f,
                 gconstpointer  data)
{
  const char *recipients[] = { "bob@example.test", "carol@example.test", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *trace = NULL;

  start (f, GREETING EHLO_PIPELINING
            "C~ ^MAIL FROM:<> SIZE=11 RET=HDRS ENVID=[0-9a-f-]+$\n"
            "C: RCPT TO:<bob@example.test> NOTIFY=FAILURE,DELAY\n"
            "C: RCPT TO:<carol@example.test> NOTIFY=FAILURE,DELAY\n"
            "S: 250 2.1.0 Ok\n"
            "S: 250 2.1.5 Ok\n"
            "S: 250 2.1.5 Ok\n"
            "C: DATA\n"
            "S: 354 go\n"
            "C: a: b\n"
            "C: \n"
            "C: x\n"
            "C~ ^\\.$\n"
            "S: 250 2.0.0 Ok\n"
            QUIT);
  session_start (f);
  g_assert_true ((lb_smtp_client_get_extensions (f->client)->flags & LB_SMTP_EXTENSION_PIPELINING) != 0);
  g_assert_true (send_message (f, "", recipients, "a: b\n\nx\n", &error));
  g_assert_no_error (error);
  assert_quit (f);

  trace = trace_text (f);
  g_assert_nonnull (strstr (trace,
                            " NOTIFY=FAILURE,DELAY\n"
                            "C: RCPT TO:<carol@example.test> NOTIFY=FAILURE,DELAY\n"
                            "S: 250 2.1.0 Ok\n"));
}

/* One refused recipient: RSET, no DATA, every refusal named */
static void
test_refused_recipient (Fixture       *f,
                        gconstpointer  data)
{
  const char *recipients[] = { "bob@example.test", "nobody@nowhere.test", "carol@example.test",
                               "later@example.test", NULL };
  g_autoptr(GError) error = NULL;

  start (f, GREETING EHLO_PIPELINING
            "C: MAIL FROM:<alice@example.test>\n"
            "C: RCPT TO:<bob@example.test>\n"
            "C: RCPT TO:<nobody@nowhere.test>\n"
            "C: RCPT TO:<carol@example.test>\n"
            "C: RCPT TO:<later@example.test>\n"
            "S: 250 2.1.0 Ok\n"
            "S: 250 2.1.5 Ok\n"
            "S: 550 5.1.1 <nobody@nowhere.test>: Recipient address rejected: User unknown\n"
            "S: 250 2.1.5 Ok\n"
            "S: 451 4.3.0 Try again\n"
            "C: RSET\n"
            "S: 250 2.0.0 Ok\n"
            QUIT);
  session_start (f);
  g_assert_false (send_message (f, "alice@example.test", recipients, "x\n", &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_RECIPIENTS);
  g_assert_nonnull (strstr (error->message,
                            "nobody@nowhere.test: 550 5.1.1 <nobody@nowhere.test>: Recipient address "
                            "rejected: User unknown"));
  g_assert_nonnull (strstr (error->message, "later@example.test: 451 4.3.0 Try again"));
  g_assert_null (strstr (error->message, "bob@"));
  /* the session goes on */
  g_assert_false (lb_smtp_client_is_closed (f->client));
  assert_quit (f);
  g_assert_false (received_has (f, "DATA"));
}

/* Every refusal a 4xx: temporary; without PIPELINING, one by one */
static void
test_recipients_temporary (Fixture       *f,
                           gconstpointer  data)
{
  const char *recipients[] = { "bob@example.test", "carol@example.test", NULL };
  g_autoptr(GError) error = NULL;

  start (f, GREETING EHLO_PLAIN
            "C: MAIL FROM:<alice@example.test> SIZE=3\n"
            "S: 250 2.1.0 Ok\n"
            "C: RCPT TO:<bob@example.test>\n"
            "S: 450 4.2.0 Greylisted\n"
            "C: RCPT TO:<carol@example.test>\n"
            "S: 452 4.2.2 Mailbox full\n"
            "C: RSET\n"
            "S: 250 Ok\n"
            QUIT);
  session_start (f);
  g_assert_false (send_message (f, "alice@example.test", recipients, "x\n", &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_RECIPIENTS_TEMPORARY);
  g_assert_nonnull (strstr (error->message, "bob@example.test: 450 4.2.0 Greylisted"));
  g_assert_nonnull (strstr (error->message, "carol@example.test: 452 4.2.2 Mailbox full"));
  assert_quit (f);
  g_assert_false (received_has (f, "DATA"));
}

/* A refused sender: no recipient asked about without PIPELINING */
static void
test_refused_sender (Fixture       *f,
                     gconstpointer  data)
{
  const char *recipients[] = { "bob@example.test", NULL };
  g_autoptr(GError) error = NULL;

  start (f, GREETING EHLO_PLAIN
            "C: MAIL FROM:<alice@example.test> SIZE=3\n"
            "S: 553 5.7.1 Sender address rejected: not owned by user\n"
            "C: RSET\n"
            "S: 250 Ok\n"
            QUIT);
  session_start (f);
  g_assert_false (send_message (f, "alice@example.test", recipients, "x\n", &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_PERMANENT);
  g_assert_nonnull (strstr (error->message, "alice@example.test"));
  g_assert_nonnull (strstr (error->message, "553 5.7.1 Sender address rejected"));
  assert_quit (f);
  g_assert_false (received_has (f, "RCPT"));
}

/* Over the advertised SIZE: refused before MAIL */
static void
test_size (Fixture       *f,
           gconstpointer  data)
{
  const char *recipients[] = { "bob@example.test", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *big = g_strnfill (2000, 'x');

  start (f, GREETING EHLO_PLAIN QUIT);
  session_start (f);
  g_assert_cmpuint (lb_smtp_client_get_extensions (f->client)->size_limit, ==, 1000);
  g_assert_false (send_message (f, "alice@example.test", recipients, big, &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "larger than"));
  assert_quit (f);
  g_assert_false (received_has (f, "MAIL"));
}

/* 8-bit data: BODY=8BITMIME where offered, refused where not; a non-ASCII
 * address needs SMTPUTF8 */
static void
test_eight_bit (Fixture       *f,
                gconstpointer  data)
{
  const char *recipients[] = { "bob@example.test", NULL };
  const char *utf8_recipients[] = { "jos\xc3\xa9@example.test", NULL };
  g_autoptr(GError) error = NULL;

  start (f, GREETING EHLO_PLAIN
            "C: MAIL FROM:<alice@example.test> SIZE=7 BODY=8BITMIME\n"
            "S: 250 Ok\n"
            "C: RCPT TO:<bob@example.test>\n"
            "S: 250 Ok\n"
            "C: DATA\n"
            "S: 354 go\n"
            "C: caf\n"
            "C~ ^\\.$\n"
            "S: 250 Ok\n"
            QUIT);
  session_start (f);
  g_assert_true (send_message (f, "alice@example.test", recipients, "caf\xc3\xa9\n", &error));
  g_assert_no_error (error);
  g_assert_false (send_message (f, "alice@example.test", utf8_recipients, "x\n", &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_false (send_message (f, "alice@example.test", (const char *[]) { "a b@example.test", NULL },
                                "x\n", &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_INVALID_ADDRESS);
  assert_quit (f);
}

/* STARTTLS wanted but not offered: refused, nothing more sent */
static void
test_no_starttls (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) received = NULL;

  start (f, GREETING EHLO_PLAIN);
  session_start (f);
  lb_smtp_client_starttls_async (f->client, connector, "127.0.0.1", 25, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_false (lb_smtp_client_starttls_finish (f->client, result, &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_NO_STARTTLS);
  g_assert_true (lb_smtp_client_is_closed (f->client));

  lb_test_script_server_wait_played (f->server);
  received = lb_test_script_server_get_received (f->server, 0);
  g_assert_cmpuint (g_strv_length (received), ==, 1);
}

/* Bytes after the 220 to STARTTLS would pass as protected: refused */
static void
test_starttls_injection (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GError) error = NULL;

  start (f, GREETING EHLO_PIPELINING
            "C: STARTTLS\n"
            "W: 220 2.0.0 Ready to start TLS\\r\\n250 2.0.0 injected\\r\\n\n");
  session_start (f);
  lb_smtp_client_starttls_async (f->client, connector, "127.0.0.1", 25, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_false (lb_smtp_client_starttls_finish (f->client, result, &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_UNEXPECTED);
  g_assert_true (lb_smtp_client_is_closed (f->client));
}

/* The server refuses STARTTLS */
static void
test_starttls_refused (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GError) error = NULL;

  start (f, GREETING EHLO_PIPELINING
            "C: STARTTLS\n"
            "S: 454 4.7.0 TLS not available due to local problem\n");
  session_start (f);
  lb_smtp_client_starttls_async (f->client, connector, "127.0.0.1", 25, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_false (lb_smtp_client_starttls_finish (f->client, result, &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_NO_STARTTLS);
  g_assert_nonnull (strstr (error->message, "TLS not available"));
}

/* The connection drops after the final dot: it may have been sent */
static void
test_dropped_after_dot (Fixture       *f,
                        gconstpointer  data)
{
  const char *recipients[] = { "bob@example.test", NULL };
  g_autoptr(GError) error = NULL;

  start (f, GREETING EHLO_PIPELINING
            "C: MAIL FROM:<alice@example.test>\n"
            "C: RCPT TO:<bob@example.test>\n"
            "S: 250 Ok\n"
            "S: 250 Ok\n"
            "C: DATA\n"
            "S: 354 go\n"
            "C: hello\n"
            "C~ ^\\.$\n"
            "CLOSE\n");
  session_start (f);
  g_assert_false (send_message (f, "alice@example.test", recipients, "hello\n", &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_UNCERTAIN);
  g_assert_nonnull (strstr (error->message, "may have been sent"));
  g_assert_true (lb_smtp_client_is_closed (f->client));
}

/* The connection drops before DATA: nothing sent, a plain failure */
static void
test_dropped_before_data (Fixture       *f,
                          gconstpointer  data)
{
  const char *recipients[] = { "bob@example.test", NULL };
  g_autoptr(GError) error = NULL;

  start (f, GREETING EHLO_PIPELINING
            "C: MAIL FROM:<alice@example.test>\n"
            "C: RCPT TO:<bob@example.test>\n"
            "S: 250 Ok\n"
            "CLOSE\n");
  session_start (f);
  g_assert_false (send_message (f, "alice@example.test", recipients, "hello\n", &error));
  g_assert_nonnull (error);
  g_assert_false (g_error_matches (error, LB_SMTP_ERROR, LB_SMTP_ERROR_UNCERTAIN));
  g_assert_true (g_error_matches (error, LB_SMTP_ERROR, LB_SMTP_ERROR_CUT) || error->domain == G_IO_ERROR);
  g_assert_true (lb_smtp_client_is_closed (f->client));
}

/* The data refused after the dot: the session survives */
static void
test_data_refused (Fixture       *f,
                   gconstpointer  data)
{
  const char *recipients[] = { "bob@example.test", NULL };
  g_autoptr(GError) error = NULL;

  start (f, GREETING EHLO_PIPELINING
            "C: MAIL FROM:<alice@example.test>\n"
            "C: RCPT TO:<bob@example.test>\n"
            "S: 250 Ok\n"
            "S: 250 Ok\n"
            "C: DATA\n"
            "S: 354 go\n"
            "C: hello\n"
            "C~ ^\\.$\n"
            "S: 554 5.7.1 Spam detected\n"
            "C: RSET\n"
            "S: 250 Ok\n"
            QUIT);
  session_start (f);
  g_assert_false (send_message (f, "alice@example.test", recipients, "hello\n", &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_PERMANENT);
  g_assert_nonnull (strstr (error->message, "554 5.7.1 Spam detected"));
  assert_quit (f);
}

/* Refused credentials; AUTH LOGIN's exchange redacted */
static void
test_auth_failure (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *trace = NULL;

  start (f, GREETING EHLO_PLAIN
            "C: AUTH PLAIN " PLAIN_ALICE "\n"
            "S: 535 5.7.8 Error: authentication failed\n");
  session_start (f);
  g_assert_false (login (f, LB_SMTP_AUTH_PLAIN, &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_AUTHENTICATION);
  g_assert_nonnull (strstr (error->message, "authentication failed"));
  g_assert_true (lb_smtp_client_is_closed (f->client));
  g_clear_object (&f->client);
  g_clear_error (&error);

  start (f, GREETING EHLO_PLAIN
            "C: AUTH LOGIN\n"
            "S: 334 VXNlcm5hbWU6\n"
            "C: YWxpY2U=\n"
            "S: 334 UGFzc3dvcmQ6\n"
            "C: c2VjcmV0\n"
            "S: 235 2.7.0 Authentication successful\n"
            QUIT);
  session_start (f);
  g_assert_true (login (f, LB_SMTP_AUTH_LOGIN, &error));
  g_assert_no_error (error);
  assert_quit (f);
  trace = trace_text (f);
  g_assert_null (strstr (trace, "c2VjcmV0"));
  g_assert_null (strstr (trace, "YWxpY2U="));
  g_assert_nonnull (strstr (trace, "C: ***\n"));
  g_clear_object (&f->client);

  /* a server without XOAUTH2 */
  start (f, GREETING EHLO_PLAIN);
  session_start (f);
  g_assert_false (login (f, LB_SMTP_AUTH_XOAUTH2, &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_NOT_SUPPORTED);
}

/* EHLO refused: HELO only when allowed */
static void
test_helo (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  start (f, GREETING
            "C: EHLO [127.0.0.1]\n"
            "S: 502 5.5.2 Error: command not recognized\n"
            "C: HELO [127.0.0.1]\n"
            "S: 250 old.example.test\n"
            QUIT);
  g_assert_true (greet (f, &error));
  g_assert_true (ehlo (f, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (lb_smtp_client_get_extensions (f->client)->flags, ==, 0);
  assert_quit (f);
  g_clear_object (&f->client);

  start (f, GREETING
            "C: EHLO [127.0.0.1]\n"
            "S: 502 5.5.2 Error: command not recognized\n");
  g_assert_true (greet (f, &error));
  g_assert_false (ehlo (f, FALSE, &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_PERMANENT);
}

/* A refused greeting; a silent server times out */
static void
test_greeting_and_timeout (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  start (f, "S: 421 4.3.2 Service not available\n");
  g_assert_false (greet (f, &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_TEMPORARY);
  g_clear_object (&f->client);
  g_clear_error (&error);

  start (f, GREETING "C: EHLO\nSLEEP 3000\n");
  lb_smtp_client_set_timeout (f->client, 1);
  g_assert_true (greet (f, &error));
  g_assert_false (ehlo (f, FALSE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_true (lb_smtp_client_is_closed (f->client));
}

/* Cancelled while waiting for the reply to the data: uncertain */
static void
cancel_soon (gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

static void
test_cancel_after_dot (Fixture       *f,
                       gconstpointer  data)
{
  const char *recipients[] = { "bob@example.test", NULL };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new_static ("hello\n", 6);
  g_autoptr(GError) error = NULL;

  start (f, GREETING EHLO_PIPELINING
            "C: MAIL FROM:<alice@example.test>\n"
            "C: RCPT TO:<bob@example.test>\n"
            "S: 250 Ok\n"
            "S: 250 Ok\n"
            "C: DATA\n"
            "S: 354 go\n"
            "C: hello\n"
            "C~ ^\\.$\n"
            "SLEEP 2000\n");
  session_start (f);
  lb_smtp_client_send_async (f->client, "alice@example.test", recipients, bytes, cancellable,
                             lb_test_store_result, &result);
  g_timeout_add_once (500, cancel_soon, cancellable);
  lb_test_wait (&result);
  g_assert_false (lb_smtp_client_send_finish (f->client, result, &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_UNCERTAIN);
}

static gboolean
cancel_now (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

/* as the data goes out: cancelled before its write reports back */
static void
cancel_on_data (gboolean    sent,
                const char *line,
                gpointer    user_data)
{
  if (sent && g_str_has_suffix (line, "bytes of message data]"))
    g_idle_add_full (G_PRIORITY_HIGH, cancel_now, g_object_ref (user_data), g_object_unref);
}

/* Cancelled while the write of the final dot is returning: the server has
 * the whole message, so the send may have happened (not CANCELLED, which
 * would let the caller send it again) */
static void
test_cancel_during_dot (Fixture       *f,
                        gconstpointer  data)
{
  const char *recipients[] = { "bob@example.test", NULL };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new_static ("hello\n", 6);
  g_autoptr(GError) error = NULL;

  start (f, GREETING EHLO_PIPELINING
            "C: MAIL FROM:<alice@example.test>\n"
            "C: RCPT TO:<bob@example.test>\n"
            "S: 250 Ok\n"
            "S: 250 Ok\n"
            "C: DATA\n"
            "S: 354 go\n"
            "C: hello\n"
            "C~ ^\\.$\n"
            "CLOSE\n");
  session_start (f);
  lb_smtp_client_set_trace_func (f->client, cancel_on_data, g_object_ref (cancellable), g_object_unref);
  lb_smtp_client_send_async (f->client, "alice@example.test", recipients, bytes, cancellable,
                             lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  g_assert_false (lb_smtp_client_send_finish (f->client, result, &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_UNCERTAIN);
}

/* XOAUTH2: the token never in the trace; its error challenge answered
 * empty, then the refusal, then a 421 after the dot is a temporary
 * refusal (not UNCERTAIN: the server said it did not take it) */
static void
test_xoauth2_and_421 (Fixture       *f,
                      gconstpointer  data)
{
  const char *recipients[] = { "bob@example.test", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *trace = NULL;

  start (f, GREETING
            "C: EHLO [127.0.0.1]\n"
            "S: 250-script.example.test\n"
            "S: 250 AUTH XOAUTH2\n"
            "C: AUTH XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciBzZWNyZXQBAQ==\n"
            "S: 334 eyJzdGF0dXMiOiI0MDEifQ==\n"
            "C: \n"
            "S: 535 5.7.8 Username and Password not accepted\n");
  session_start (f);
  g_assert_false (login (f, LB_SMTP_AUTH_XOAUTH2, &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_AUTHENTICATION);
  trace = trace_text (f);
  g_assert_null (strstr (trace, "dXNlcj1hbGljZQFhdXRoPUJlYXJlciBzZWNyZXQBAQ=="));
  g_assert_null (strstr (trace, "secret"));
  g_assert_nonnull (strstr (trace, "C: AUTH XOAUTH2 ***\n"));
  g_clear_object (&f->client);
  g_clear_error (&error);

  start (f, GREETING EHLO_PIPELINING
            "C: MAIL FROM:<alice@example.test>\n"
            "C: RCPT TO:<bob@example.test>\n"
            "S: 250 Ok\n"
            "S: 250 Ok\n"
            "C: DATA\n"
            "S: 354 go\n"
            "C: hello\n"
            "C~ ^\\.$\n"
            "S: 421 4.3.0 Shutting down,\n"
            "CLOSE\n");
  session_start (f);
  g_assert_false (send_message (f, "alice@example.test", recipients, "hello\n", &error));
  g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_TEMPORARY);
  g_assert_nonnull (strstr (error->message, "Shutting down"));
}

static void
test_dot_stuff (void)
{
  static const struct
  {
    const char *in;
    const char *out;
    gboolean    eight_bit;
  } cases[] = {
    { "", ".\r\n", FALSE },
    { "a", "a\r\n.\r\n", FALSE },
    { "a\r\n", "a\r\n.\r\n", FALSE },
    { ".", "..\r\n.\r\n", FALSE },
    { "a\n.\n", "a\r\n..\r\n.\r\n", FALSE },
    { "a\r.b\r\n", "a\r\n..b\r\n.\r\n", FALSE },
    { "a.b\n", "a.b\r\n.\r\n", FALSE },
    { "\n\n", "\r\n\r\n.\r\n", FALSE },
    { "\xc3\xa9\n", "\xc3\xa9\r\n.\r\n", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) in = g_bytes_new_static (cases[i].in, strlen (cases[i].in));
      gboolean eight_bit = !cases[i].eight_bit;
      g_autoptr(GBytes) out = lb_smtp_dot_stuff (in, &eight_bit);
      g_autofree char *text = g_strndup (g_bytes_get_data (out, NULL), g_bytes_get_size (out));

      g_assert_cmpstr (text, ==, cases[i].out);
      g_assert_cmpint (eight_bit, ==, cases[i].eight_bit);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/smtp-client/no-pipelining", test_no_pipelining);
  ADD ("/smtp-client/pipelining", test_pipelining);
  ADD ("/smtp-client/refused-recipient", test_refused_recipient);
  ADD ("/smtp-client/recipients-temporary", test_recipients_temporary);
  ADD ("/smtp-client/refused-sender", test_refused_sender);
  ADD ("/smtp-client/size", test_size);
  ADD ("/smtp-client/eight-bit", test_eight_bit);
  ADD ("/smtp-client/no-starttls", test_no_starttls);
  ADD ("/smtp-client/starttls-injection", test_starttls_injection);
  ADD ("/smtp-client/starttls-refused", test_starttls_refused);
  ADD ("/smtp-client/dropped-after-dot", test_dropped_after_dot);
  ADD ("/smtp-client/dropped-before-data", test_dropped_before_data);
  ADD ("/smtp-client/data-refused", test_data_refused);
  ADD ("/smtp-client/auth-failure", test_auth_failure);
  ADD ("/smtp-client/helo", test_helo);
  ADD ("/smtp-client/greeting-and-timeout", test_greeting_and_timeout);
  ADD ("/smtp-client/cancel-after-dot", test_cancel_after_dot);
  ADD ("/smtp-client/cancel-during-dot", test_cancel_during_dot);
  ADD ("/smtp-client/xoauth2-and-421", test_xoauth2_and_421);
#undef ADD
  g_test_add_func ("/smtp-client/dot-stuff", test_dot_stuff);

  return g_test_run ();
}
