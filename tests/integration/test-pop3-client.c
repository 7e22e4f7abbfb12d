/* test-pop3-client.c: LbPop3Client against the harness's real Dovecot POP3
 * (plain, STLS and implicit TLS), with messages delivered over LMTP
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "lb-pop3-client.h"
#include "lb-test-session.h"

#define ALICE "alice@example.test"
#define ALICE_PASSWORD "alicepass"
#define BOB "bob@example.test"
#define BOB_PASSWORD "bobpass"

/* Delivers @message (CRLF line ends) to @rcpt over LMTP, dot-stuffed. */
static void
deliver (const char *rcpt,
         const char *message)
{
  g_autoptr(LbTestSession) lmtp = NULL;
  g_auto(GStrv) lines = NULL;

  lmtp = lb_test_session_open_greeted ("LB_TEST_LMTP_PORT", LB_NET_SECURITY_NONE, "220");
  lb_test_session_send (lmtp, "LHLO letterbox.test");
  g_free (lb_test_session_read_until (lmtp, "250 "));
  lb_test_session_send (lmtp, "MAIL FROM:<sender@example.test>");
  lb_test_session_expect (lmtp, "250");
  lb_test_session_send (lmtp, "RCPT TO:<%s>", rcpt);
  lb_test_session_expect (lmtp, "250");
  lb_test_session_send (lmtp, "DATA");
  lb_test_session_expect (lmtp, "354");
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

static char *
make_message (const char *subject,
              gsize       body_size)
{
  g_autofree char *message_id = lb_test_message_id ();
  GString *text = g_string_new (NULL);

  g_string_append_printf (text,
                          "From: Sender <sender@example.test>\r\n"
                          "To: <" BOB ">\r\n"
                          "Subject: %s\r\n"
                          "Message-ID: %s\r\n"
                          "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
                          "\r\n"
                          "First line.\r\n"
                          ".A line that starts with a dot.\r\n"
                          "..Two dots.\r\n"
                          ".\r\n"
                          "The line above is a lone dot.\r\n",
                          subject, message_id);
  while (text->len < body_size)
    g_string_append_printf (text, "Line %u of %s, some text to fill the message up.\r\n",
                            (guint) text->len, subject);
  g_string_append (text, "Last line.\r\n");
  return g_string_free (text, FALSE);
}

/* Connecting and the operations, each run to its end */

typedef struct
{
  LbConnector  *connector;
  LbPop3Client *client;
  GPtrArray    *trace;
} Session;

static void
session_free (Session *s)
{
  if (s->client != NULL)
    lb_pop3_client_close (s->client);
  g_clear_object (&s->client);
  g_clear_object (&s->connector);
  g_ptr_array_unref (s->trace);
  g_free (s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Session, session_free)

static gboolean
greet (Session  *s,
       GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_pop3_client_greet_async (s->client, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_pop3_client_greet_finish (s->client, result, error);
}

static gboolean
capa (Session  *s,
      GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_pop3_client_capa_async (s->client, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_pop3_client_capa_finish (s->client, result, error);
}

static gboolean
stls (Session  *s,
      guint16   port,
      GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_pop3_client_stls_async (s->client, s->connector, lb_test_getenv ("LB_TEST_HOST"), port, NULL,
                             lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_pop3_client_stls_finish (s->client, result, error);
}

static gboolean
login (Session           *s,
       LbPop3AuthMethod   method,
       const char        *user,
       const char        *secret,
       GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_pop3_client_login_async (s->client, method, user, secret, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_pop3_client_login_finish (s->client, result, error);
}

static GArray *
scan (Session          *s,
      LbPop3ScanFlags   flags)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  GArray *entries;

  lb_pop3_client_scan_async (s->client, flags, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  entries = lb_pop3_client_scan_finish (s->client, result, &error);
  g_assert_no_error (error);
  return entries;
}

static void
dele (Session     *s,
      const guint *msgs,
      guint        n)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_pop3_client_dele_async (s->client, msgs, n, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_pop3_client_dele_finish (s->client, result, &error));
  g_assert_no_error (error);
}

static void
quit (Session *s)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_pop3_client_quit_async (s->client, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_pop3_client_quit_finish (s->client, result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lb_pop3_client_get_state (s->client), ==, LB_POP3_CLIENT_STATE_CLOSED);
}

/* connected and greeted */
static Session *
open_session (const char    *port_variable,
              LbNetSecurity  security)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;
  Session *s = g_new0 (Session, 1);

  s->connector = lb_test_connector_new ();
  s->trace = g_ptr_array_new_with_free_func (g_free);
  lb_connector_connect_async (s->connector, lb_test_getenv ("LB_TEST_HOST"), lb_test_port (port_variable),
                              security, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  stream = lb_connector_connect_finish (s->connector, result, &error);
  g_assert_no_error (error);
  s->client = lb_pop3_client_new (stream);
  lb_pop3_client_set_trace_func (s->client, lb_test_collect_trace, g_ptr_array_ref (s->trace),
                                 (GDestroyNotify) g_ptr_array_unref);
  g_assert_cmpint (lb_pop3_client_get_state (s->client), ==, LB_POP3_CLIENT_STATE_GREETING);
  g_assert_true (greet (s, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lb_pop3_client_get_state (s->client), ==, LB_POP3_CLIENT_STATE_AUTHORIZATION);
  g_assert_nonnull (strstr (lb_pop3_client_get_greeting (s->client), "ready"));
  return s;
}

/* logged in as @user over implicit TLS */
static Session *
open_logged_in (const char *user,
                const char *password)
{
  g_autoptr(GError) error = NULL;
  Session *s = open_session ("LB_TEST_POP3S_PORT", LB_NET_SECURITY_TLS);

  g_assert_true (capa (s, &error));
  g_assert_no_error (error);
  g_assert_true (login (s, LB_POP3_AUTH_AUTO, user, password, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lb_pop3_client_get_state (s->client), ==, LB_POP3_CLIENT_STATE_TRANSACTION);
  return s;
}

static gboolean
trace_has (Session    *s,
           const char *text)
{
  for (guint i = 0; i < s->trace->len; i++)
    if (strstr (s->trace->pdata[i], text) != NULL)
      return TRUE;
  return FALSE;
}

/* deletes everything in @user's maildrop */
static void
empty_maildrop (const char *user,
                const char *password)
{
  g_autoptr(Session) s = open_logged_in (user, password);
  g_autoptr(GArray) entries = scan (s, LB_POP3_SCAN_SIZES);
  g_autoptr(GArray) msgs = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; i < entries->len; i++)
    g_array_append_val (msgs, g_array_index (entries, LbPop3Entry, i).msg);
  dele (s, (const guint *) msgs->data, msgs->len);
  quit (s);
}

/* Retrieval into strings */

typedef struct
{
  GPtrArray *messages;   /* GString per index */
  GPtrArray *refused;
} Retrieval;

static gboolean
r_begin (guint     index,
         gpointer  user_data,
         GError  **error)
{
  Retrieval *r = user_data;

  g_assert_null (r->messages->pdata[index]);
  r->messages->pdata[index] = g_string_new (NULL);
  return TRUE;
}

static gboolean
r_data (guint         index,
        const guint8 *bytes,
        gsize         len,
        gpointer      user_data,
        GError      **error)
{
  Retrieval *r = user_data;

  g_assert_cmpuint (len, <=, 64 * 1024);
  g_string_append_len (r->messages->pdata[index], (const char *) bytes, (gssize) len);
  return TRUE;
}

static gboolean
r_end (guint     index,
       gpointer  user_data,
       GError  **error)
{
  return TRUE;
}

static void
r_refused (guint              index,
           const LbPop3Reply *reply,
           gpointer           user_data)
{
  Retrieval *r = user_data;

  g_ptr_array_add (r->refused, g_strdup (reply->text));
}

static const LbPop3RetrieveFuncs retrieval_funcs = { r_begin, r_data, r_end, r_refused };

static void
string_free (gpointer data)
{
  if (data != NULL)
    g_string_free (data, TRUE);
}

/* the messages @msgs as strings, in their order */
static GPtrArray *
retrieve (Session     *s,
          const guint *msgs,
          guint        n,
          gint         top_lines)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  Retrieval r;

  r.messages = g_ptr_array_new_with_free_func (string_free);
  g_ptr_array_set_size (r.messages, n);
  r.refused = g_ptr_array_new_with_free_func (g_free);
  lb_pop3_client_retrieve_async (s->client, msgs, n, top_lines, &retrieval_funcs, &r, NULL,
                                 lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_pop3_client_retrieve_finish (s->client, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (r.refused->len, ==, 0);
  g_ptr_array_unref (r.refused);
  for (guint i = 0; i < n; i++)
    g_assert_nonnull (r.messages->pdata[i]);
  return r.messages;
}

/* Tests */

static void
test_login_methods (void)
{
  const struct
  {
    LbPop3AuthMethod method;
    const char      *sent;
  } methods[] = {
    { LB_POP3_AUTH_USER, "C: PASS ***" },
    { LB_POP3_AUTH_PLAIN, "C: AUTH PLAIN ***" },
    { LB_POP3_AUTH_LOGIN, "C: AUTH LOGIN" },
    { LB_POP3_AUTH_AUTO, "C: AUTH PLAIN ***" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autoptr(Session) s = open_session ("LB_TEST_POP3_PORT", LB_NET_SECURITY_NONE);
      g_autoptr(GError) error = NULL;
      g_autoptr(GAsyncResult) result = NULL;
      guint count = G_MAXUINT;
      guint64 size = G_MAXUINT64;

      g_assert_true (capa (s, &error));
      g_assert_no_error (error);
      g_assert_true (lb_pop3_client_get_capa_answered (s->client));
      g_assert_true (lb_pop3_client_has_capability (s->client, "UIDL"));
      g_assert_true (lb_pop3_client_has_capability (s->client, "pipelining"));
      g_assert_true (lb_pop3_client_has_capability (s->client, "STLS"));
      g_assert_true (g_strv_contains (lb_pop3_client_get_sasl_mechanisms (s->client), "PLAIN"));
      g_assert_true (g_strv_contains (lb_pop3_client_get_sasl_mechanisms (s->client), "LOGIN"));

      g_assert_true (login (s, methods[i].method, ALICE, ALICE_PASSWORD, &error));
      g_assert_no_error (error);
      g_assert_true (trace_has (s, methods[i].sent));
      g_assert_false (trace_has (s, ALICE_PASSWORD));

      lb_pop3_client_stat_async (s->client, NULL, lb_test_store_result, &result);
      lb_test_wait (&result);
      g_assert_true (lb_pop3_client_stat_finish (s->client, result, &count, &size, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (count, <, G_MAXUINT);
      g_assert_cmpuint (size, <, G_MAXUINT64);
      quit (s);
    }
}

static void
test_wrong_password (void)
{
  const LbPop3AuthMethod methods[] = { LB_POP3_AUTH_USER, LB_POP3_AUTH_PLAIN, LB_POP3_AUTH_LOGIN };

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autoptr(Session) s = open_session ("LB_TEST_POP3S_PORT", LB_NET_SECURITY_TLS);
      g_autoptr(GError) error = NULL;

      g_assert_true (capa (s, &error));
      g_assert_false (login (s, methods[i], ALICE, "wrong", &error));
      g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_AUTHENTICATION);
      g_assert_cmpint (lb_pop3_client_get_state (s->client), ==, LB_POP3_CLIENT_STATE_CLOSED);
    }
}

static void
test_stls (void)
{
  g_autoptr(Session) s = open_session ("LB_TEST_POP3_PORT", LB_NET_SECURITY_STARTTLS);
  g_autoptr(GError) error = NULL;

  g_assert_false (G_IS_TLS_CONNECTION (lb_pop3_client_get_stream (s->client)));
  g_assert_true (stls (s, lb_test_port ("LB_TEST_POP3_PORT"), &error));
  g_assert_no_error (error);
  g_assert_true (G_IS_TLS_CONNECTION (lb_pop3_client_get_stream (s->client)));
  /* asked again over TLS: STLS is not offered twice */
  g_assert_true (lb_pop3_client_get_capa_answered (s->client));
  g_assert_true (lb_pop3_client_has_capability (s->client, "UIDL"));
  g_assert_false (lb_pop3_client_has_capability (s->client, "STLS"));
  g_assert_true (login (s, LB_POP3_AUTH_AUTO, ALICE, ALICE_PASSWORD, &error));
  g_assert_no_error (error);
  quit (s);
}

/* finds @messages (by their Message-ID) among what was retrieved */
static void
check_retrieved (Session    *s,
                 GArray     *entries,
                 GPtrArray  *delivered)
{
  g_autoptr(GArray) msgs = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GPtrArray) tops = NULL;
  guint found = 0;

  for (guint i = 0; i < entries->len; i++)
    g_array_append_val (msgs, g_array_index (entries, LbPop3Entry, i).msg);
  messages = retrieve (s, (const guint *) msgs->data, msgs->len, -1);
  tops = retrieve (s, (const guint *) msgs->data, msgs->len, 0);

  for (guint i = 0; i < entries->len; i++)
    {
      GString *message = messages->pdata[i];
      GString *top = tops->pdata[i];
      const char *blank = strstr (message->str, "\r\n\r\n");

      /* LIST counts what RETR sends, unstuffed */
      g_assert_cmpuint (g_array_index (entries, LbPop3Entry, i).size, ==, message->len);
      /* TOP n 0: the header and the empty line */
      g_assert_nonnull (blank);
      g_assert_cmpuint (top->len, ==, (gsize) (blank - message->str) + 4);
      g_assert_true (memcmp (top->str, message->str, top->len) == 0);

      /* the delivery, byte for byte, after the server's trace fields */
      for (guint j = 0; j < delivered->len; j++)
        if (g_str_has_suffix (message->str, delivered->pdata[j]))
          found++;
    }
  g_assert_cmpuint (found, ==, delivered->len);
}

static void
test_retrieve (void)
{
  g_autoptr(GPtrArray) delivered = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(Session) s = NULL;
  g_autoptr(GArray) entries = NULL;
  g_autoptr(GArray) uids_only = NULL;

  empty_maildrop (BOB, BOB_PASSWORD);
  g_ptr_array_add (delivered, make_message ("small", 0));
  g_ptr_array_add (delivered, make_message ("large", 300 * 1024));
  g_ptr_array_add (delivered, make_message ("medium", 70 * 1024));
  for (guint i = 0; i < delivered->len; i++)
    deliver (BOB, delivered->pdata[i]);

  /* plain, STLS and implicit TLS */
  for (guint k = 0; k < 3; k++)
    {
      g_autoptr(GError) error = NULL;

      if (k == 0)
        s = open_session ("LB_TEST_POP3_PORT", LB_NET_SECURITY_NONE);
      else if (k == 1)
        {
          s = open_session ("LB_TEST_POP3_PORT", LB_NET_SECURITY_STARTTLS);
          g_assert_true (stls (s, lb_test_port ("LB_TEST_POP3_PORT"), &error));
          g_assert_no_error (error);
        }
      else
        s = open_session ("LB_TEST_POP3S_PORT", LB_NET_SECURITY_TLS);
      g_assert_true (capa (s, &error));
      g_assert_true (login (s, LB_POP3_AUTH_USER, BOB, BOB_PASSWORD, &error));
      g_assert_no_error (error);

      entries = scan (s, LB_POP3_SCAN_SIZES | LB_POP3_SCAN_UIDS);
      g_assert_cmpuint (entries->len, ==, 3);
      for (guint i = 0; i < entries->len; i++)
        {
          g_assert_cmpuint (g_array_index (entries, LbPop3Entry, i).msg, ==, i + 1);
          g_assert_nonnull (g_array_index (entries, LbPop3Entry, i).uid);
        }
      uids_only = scan (s, LB_POP3_SCAN_UIDS);
      g_assert_cmpuint (uids_only->len, ==, 3);
      for (guint i = 0; i < entries->len; i++)
        g_assert_cmpstr (g_array_index (uids_only, LbPop3Entry, i).uid, ==,
                         g_array_index (entries, LbPop3Entry, i).uid);

      check_retrieved (s, entries, delivered);
      quit (s);
      g_clear_pointer (&s, session_free);
      g_clear_pointer (&entries, g_array_unref);
      g_clear_pointer (&uids_only, g_array_unref);
    }
}

/* many messages through the pipelined window */
static void
test_retrieve_many (void)
{
  g_autoptr(GPtrArray) delivered = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(Session) s = NULL;
  g_autoptr(GArray) entries = NULL;

  empty_maildrop (BOB, BOB_PASSWORD);
  for (guint i = 0; i < 80; i++)
    {
      g_autofree char *subject = g_strdup_printf ("many %u", i);

      g_ptr_array_add (delivered, make_message (subject, (i % 7) * 3000));
      deliver (BOB, delivered->pdata[i]);
    }
  s = open_logged_in (BOB, BOB_PASSWORD);
  entries = scan (s, LB_POP3_SCAN_SIZES | LB_POP3_SCAN_UIDS);
  g_assert_cmpuint (entries->len, ==, 80);
  check_retrieved (s, entries, delivered);
  quit (s);
}

static GPtrArray *
uids_of (GArray *entries)
{
  GPtrArray *uids = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < entries->len; i++)
    g_ptr_array_add (uids, g_strdup (g_array_index (entries, LbPop3Entry, i).uid));
  return uids;
}

static void
test_dele (void)
{
  g_autoptr(Session) s = NULL;
  g_autoptr(GArray) entries = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GError) error = NULL;
  const guint first[] = { 1 };
  const guint two[] = { 2, 3 };

  empty_maildrop (BOB, BOB_PASSWORD);
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *subject = g_strdup_printf ("dele %u", i);
      g_autofree char *message = make_message (subject, 0);

      deliver (BOB, message);
    }
  s = open_logged_in (BOB, BOB_PASSWORD);
  entries = scan (s, LB_POP3_SCAN_UIDS);
  g_assert_cmpuint (entries->len, ==, 4);
  before = uids_of (entries);

  /* DELE, then the connection dropped: nothing goes */
  dele (s, two, 2);
  lb_pop3_client_close (s->client);
  g_assert_cmpint (lb_pop3_client_get_state (s->client), ==, LB_POP3_CLIENT_STATE_CLOSED);
  g_clear_pointer (&s, session_free);
  g_clear_pointer (&entries, g_array_unref);

  s = open_logged_in (BOB, BOB_PASSWORD);
  entries = scan (s, LB_POP3_SCAN_UIDS);
  g_assert_cmpuint (entries->len, ==, 4);

  /* DELE, RSET, NOOP, QUIT: nothing goes either */
  dele (s, two, 2);
  {
    g_autoptr(GAsyncResult) result = NULL;

    lb_pop3_client_rset_async (s->client, NULL, lb_test_store_result, &result);
    lb_test_wait (&result);
    g_assert_true (lb_pop3_client_rset_finish (s->client, result, &error));
    g_assert_no_error (error);
  }
  {
    g_autoptr(GAsyncResult) result = NULL;

    lb_pop3_client_noop_async (s->client, NULL, lb_test_store_result, &result);
    lb_test_wait (&result);
    g_assert_true (lb_pop3_client_noop_finish (s->client, result, &error));
    g_assert_no_error (error);
  }
  quit (s);
  g_clear_pointer (&s, session_free);
  g_clear_pointer (&entries, g_array_unref);

  s = open_logged_in (BOB, BOB_PASSWORD);
  entries = scan (s, LB_POP3_SCAN_UIDS);
  g_assert_cmpuint (entries->len, ==, 4);

  /* DELE, QUIT: gone */
  dele (s, two, 2);
  dele (s, first, 1);
  quit (s);
  g_clear_pointer (&s, session_free);
  g_clear_pointer (&entries, g_array_unref);

  s = open_logged_in (BOB, BOB_PASSWORD);
  entries = scan (s, LB_POP3_SCAN_SIZES | LB_POP3_SCAN_UIDS);
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_cmpstr (g_array_index (entries, LbPop3Entry, 0).uid, ==, before->pdata[3]);
  quit (s);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pop3-client/login-methods", test_login_methods);
  g_test_add_func ("/pop3-client/wrong-password", test_wrong_password);
  g_test_add_func ("/pop3-client/stls", test_stls);
  g_test_add_func ("/pop3-client/retrieve", test_retrieve);
  g_test_add_func ("/pop3-client/retrieve-many", test_retrieve_many);
  g_test_add_func ("/pop3-client/dele", test_dele);

  return g_test_run ();
}
