/* test-pop3-client-script.c: LbPop3Client against scripted servers, for
 * what a real Dovecot will not do on demand: no PIPELINING, no UIDL, a
 * refused RETR, a cut connection, APOP, AUTH LOGIN and XOAUTH2, a refused
 * STLS, a silent server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "lb-pop3-client.h"
#include "lb-test-script-server.h"
#include "lb-test-session.h"

#define GREETING "S: +OK POP3 ready\n"
#define CAPA_PIPELINING \
  "C: CAPA\n" \
  "S: +OK\n" \
  "S: USER\n" \
  "S: UIDL\n" \
  "S: TOP\n" \
  "S: PIPELINING\n" \
  "S: .\n"
#define CAPA_PLAIN \
  "C: CAPA\n" \
  "S: +OK\n" \
  "S: USER\n" \
  "S: UIDL\n" \
  "S: TOP\n" \
  "S: .\n"
#define LOGIN_USER \
  "C: USER alice\n" \
  "S: +OK\n" \
  "C: PASS secret\n" \
  "S: +OK logged in\n"

typedef struct
{
  LbTestScriptServer *server;
  LbPop3Client       *client;
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
    lb_pop3_client_close (f->client);
  g_clear_object (&f->client);
  /* the closes reach the server */
  lb_test_script_server_wait_played (f->server);
  lb_test_script_server_free (f->server);
  g_ptr_array_unref (f->trace);
}

static LbPop3Client *
connect_client (Fixture *f)
{
  g_autoptr(GIOStream) connection = lb_test_script_server_connect (f->server);
  LbPop3Client *client;

  client = lb_pop3_client_new (connection);
  lb_pop3_client_set_trace_func (client, lb_test_collect_trace, g_ptr_array_ref (f->trace),
                                 (GDestroyNotify) g_ptr_array_unref);
  return client;
}

/* the client of a new connection playing @script */
static void
start (Fixture    *f,
       const char *script)
{
  lb_test_script_server_add_script (f->server, script);
  if (f->client != NULL)
    lb_pop3_client_close (f->client);
  g_clear_object (&f->client);
  g_ptr_array_set_size (f->trace, 0);
  f->client = connect_client (f);
}

#define WAIT_BOOLEAN(f, op, ...) \
  G_STMT_START { \
    g_autoptr(GAsyncResult) result_ = NULL; \
    lb_pop3_client_##op##_async ((f)->client, ##__VA_ARGS__, NULL, lb_test_store_result, &result_); \
    lb_test_wait (&result_); \
    ok_ = lb_pop3_client_##op##_finish ((f)->client, result_, &error_); \
  } G_STMT_END

static gboolean
greet (Fixture  *f,
       GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_pop3_client_greet_async (f->client, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_pop3_client_greet_finish (f->client, result, error);
}

static gboolean
capa (Fixture  *f,
      GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_pop3_client_capa_async (f->client, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_pop3_client_capa_finish (f->client, result, error);
}

static gboolean
login (Fixture           *f,
       LbPop3AuthMethod   method,
       const char        *user,
       const char        *secret,
       GError           **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_pop3_client_login_async (f->client, method, user, secret, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_pop3_client_login_finish (f->client, result, error);
}

static GArray *
scan (Fixture          *f,
      LbPop3ScanFlags   flags,
      GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_pop3_client_scan_async (f->client, flags, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_pop3_client_scan_finish (f->client, result, error);
}

static gboolean
quit (Fixture  *f,
      GError  **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_pop3_client_quit_async (f->client, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_pop3_client_quit_finish (f->client, result, error);
}

/* greeted, CAPA asked, logged in with USER/PASS */
static void
start_session (Fixture    *f,
               const char *script)
{
  g_autoptr(GError) error = NULL;

  start (f, script);
  g_assert_true (greet (f, &error));
  g_assert_no_error (error);
  g_assert_true (capa (f, &error));
  g_assert_no_error (error);
  g_assert_true (login (f, LB_POP3_AUTH_USER, "alice", "secret", &error));
  g_assert_no_error (error);
  g_assert_cmpint (lb_pop3_client_get_state (f->client), ==, LB_POP3_CLIENT_STATE_TRANSACTION);
}

/* Retrieval into strings */

typedef struct
{
  Fixture    *f;
  GPtrArray  *messages;  /* GString per index, NULL until begun */
  GPtrArray  *events;    /* "begin 0", "end 0", "refused 1 text" */
  gboolean    pause_at_begin;
  gboolean    paused;
  gboolean    fail_at_end;
} Retrieval;

static gboolean
r_begin (guint     index,
         gpointer  user_data,
         GError  **error)
{
  Retrieval *r = user_data;

  g_assert_false (r->paused);
  while (r->messages->len <= index)
    g_ptr_array_add (r->messages, NULL);
  g_assert_null (r->messages->pdata[index]);
  r->messages->pdata[index] = g_string_new (NULL);
  g_ptr_array_add (r->events, g_strdup_printf ("begin %u", index));
  if (r->pause_at_begin)
    {
      r->paused = TRUE;
      lb_pop3_client_pause (r->f->client);
    }
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

  g_assert_false (r->paused);
  g_string_append_len (r->messages->pdata[index], (const char *) bytes, (gssize) len);
  return TRUE;
}

static gboolean
r_end (guint     index,
       gpointer  user_data,
       GError  **error)
{
  Retrieval *r = user_data;

  g_assert_false (r->paused);
  g_ptr_array_add (r->events, g_strdup_printf ("end %u", index));
  if (r->fail_at_end)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "disk full");
      return FALSE;
    }
  return TRUE;
}

static void
r_refused (guint              index,
           const LbPop3Reply *reply,
           gpointer           user_data)
{
  Retrieval *r = user_data;

  g_ptr_array_add (r->events, g_strdup_printf ("refused %u %s", index, reply->text));
}

static const LbPop3RetrieveFuncs retrieval_funcs = { r_begin, r_data, r_end, r_refused };

static void
string_free (gpointer data)
{
  if (data != NULL)
    g_string_free (data, TRUE);
}

static void
retrieval_init (Retrieval *r,
                Fixture   *f)
{
  memset (r, 0, sizeof *r);
  r->f = f;
  r->messages = g_ptr_array_new_with_free_func (string_free);
  r->events = g_ptr_array_new_with_free_func (g_free);
}

static void
retrieval_clear (Retrieval *r)
{
  g_ptr_array_unref (r->messages);
  g_ptr_array_unref (r->events);
}

static const char *
message (Retrieval *r,
         guint      index)
{
  g_assert_cmpuint (index, <, r->messages->len);
  g_assert_nonnull (r->messages->pdata[index]);
  return ((GString *) r->messages->pdata[index])->str;
}

static gboolean
retrieve (Fixture     *f,
          Retrieval   *r,
          const guint *msgs,
          guint        n,
          gint         top_lines,
          GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_pop3_client_retrieve_async (f->client, msgs, n, top_lines, &retrieval_funcs, r, NULL,
                                 lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_pop3_client_retrieve_finish (f->client, result, error);
}

static guint
trace_index (Fixture    *f,
             const char *line)
{
  for (guint i = 0; i < f->trace->len; i++)
    if (g_str_equal (f->trace->pdata[i], line))
      return i;
  g_error ("“%s” is not in the trace", line);
  return 0;
}

static gboolean
trace_has_substring (Fixture    *f,
                     const char *text)
{
  for (guint i = 0; i < f->trace->len; i++)
    if (strstr (f->trace->pdata[i], text) != NULL)
      return TRUE;
  return FALSE;
}

/* Tests */

static void
test_no_pipelining (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) entries = NULL;
  const guint msgs[] = { 1, 2, 3 };
  Retrieval r;

  start_session (f, GREETING CAPA_PLAIN LOGIN_USER
                 "C: LIST\n"
                 "S: +OK 3 messages\n"
                 "S: 1 10\n"
                 "S: 2 20\n"
                 "S: 3 30\n"
                 "S: .\n"
                 "C: UIDL\n"
                 "S: +OK\n"
                 "S: 1 aaa\n"
                 "S: 2 bbb\n"
                 "S: 3 ccc\n"
                 "S: .\n"
                 "C: RETR 1\n"
                 "S: +OK\n"
                 "S: one\n"
                 "S: .\n"
                 "C: RETR 2\n"
                 "S: +OK\n"
                 "S: ..two\n"
                 "S: .\n"
                 "C: RETR 3\n"
                 "S: +OK\n"
                 "S: three\n"
                 "S: .\n"
                 "C: QUIT\n"
                 "S: +OK bye\n");

  entries = scan (f, LB_POP3_SCAN_SIZES | LB_POP3_SCAN_UIDS, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      LbPop3Entry *entry = &g_array_index (entries, LbPop3Entry, i);
      const char *uids[] = { "aaa", "bbb", "ccc" };

      g_assert_cmpuint (entry->msg, ==, i + 1);
      g_assert_cmpuint (entry->size, ==, 10 * (i + 1));
      g_assert_cmpstr (entry->uid, ==, uids[i]);
    }
  /* UIDL only after LIST's reply */
  g_assert_cmpuint (trace_index (f, "C: UIDL"), >, trace_index (f, "S: 3 30"));

  retrieval_init (&r, f);
  g_assert_true (retrieve (f, &r, msgs, 3, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (message (&r, 0), ==, "one\r\n");
  g_assert_cmpstr (message (&r, 1), ==, ".two\r\n");
  g_assert_cmpstr (message (&r, 2), ==, "three\r\n");
  retrieval_clear (&r);

  /* one command at a time: each after the previous reply's end */
  {
    guint retr2 = trace_index (f, "C: RETR 2");
    guint retr3 = trace_index (f, "C: RETR 3");

    g_assert_cmpuint (retr2, >, trace_index (f, "C: RETR 1"));
    g_assert_cmpstr (f->trace->pdata[retr2 - 1], ==, "S: .");
    g_assert_cmpstr (f->trace->pdata[retr3 - 1], ==, "S: .");
    g_assert_cmpstr (f->trace->pdata[retr2 - 2], ==, "S: [5 bytes]");
  }

  g_assert_true (quit (f, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lb_pop3_client_get_state (f->client), ==, LB_POP3_CLIENT_STATE_CLOSED);
}

static void
test_pipelined_refused (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const guint msgs[] = { 1, 2, 3 };
  Retrieval r;

  start_session (f, GREETING CAPA_PIPELINING LOGIN_USER
                 /* all three arrive before the first answer */
                 "C: RETR 1\n"
                 "C: RETR 2\n"
                 "C: RETR 3\n"
                 "S: +OK\n"
                 "S: one\n"
                 "S: .\n"
                 "S: -ERR [SYS/PERM] no such message\n"
                 "S: +OK\n"
                 "S: ..\n"
                 "S: three\n"
                 "S: .\n");

  retrieval_init (&r, f);
  g_assert_true (retrieve (f, &r, msgs, 3, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (message (&r, 0), ==, "one\r\n");
  g_assert_cmpuint (r.messages->len, ==, 3);
  g_assert_null (r.messages->pdata[1]);
  g_assert_cmpstr (message (&r, 2), ==, ".\r\nthree\r\n");
  g_assert_cmpuint (r.events->len, ==, 5);
  g_assert_cmpstr (r.events->pdata[2], ==, "refused 1 no such message");
  g_assert_cmpstr (r.events->pdata[4], ==, "end 2");
  g_assert_cmpint (lb_pop3_client_get_state (f->client), ==, LB_POP3_CLIENT_STATE_TRANSACTION);
  retrieval_clear (&r);
}

static void
test_pipelined_scan (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) entries = NULL;

  start_session (f, GREETING CAPA_PIPELINING LOGIN_USER
                 "C: STAT\n"
                 "S: +OK 2 300\n"
                 "C: LIST\n"
                 "C: UIDL\n"
                 "S: +OK\n"
                 "S: 1 100\n"
                 "S: 2 200\n"
                 "S: .\n"
                 /* out of order and one unknown to LIST */
                 "S: +OK\n"
                 "S: 2 second\n"
                 "S: 1 first\n"
                 "S: 9 ghost\n"
                 "S: .\n");

  /* STAT pre-sizes the scan; then LIST and UIDL go together */
  {
    g_autoptr(GAsyncResult) result = NULL;
    guint count = 0;
    guint64 size = 0;

    lb_pop3_client_stat_async (f->client, NULL, lb_test_store_result, &result);
    lb_test_wait (&result);
    g_assert_true (lb_pop3_client_stat_finish (f->client, result, &count, &size, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (count, ==, 2);
    g_assert_cmpuint (size, ==, 300);
  }
  entries = scan (f, LB_POP3_SCAN_SIZES | LB_POP3_SCAN_UIDS, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 2);
  g_assert_cmpstr (g_array_index (entries, LbPop3Entry, 0).uid, ==, "first");
  g_assert_cmpuint (g_array_index (entries, LbPop3Entry, 0).size, ==, 100);
  g_assert_cmpstr (g_array_index (entries, LbPop3Entry, 1).uid, ==, "second");
  /* LIST and UIDL were sent before either reply */
  g_assert_cmpuint (trace_index (f, "C: UIDL"), <, trace_index (f, "S: 1 100"));
}

/* a server without UIDL: the hash of the headers, stable */
static void
test_no_uidl (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) first = NULL;
  g_autoptr(GArray) second = NULL;
  g_autoptr(GArray) third = NULL;

  /* CAPA without UIDL: TOP at once */
  start_session (f, GREETING
                 "C: CAPA\n"
                 "S: +OK\n"
                 "S: USER\n"
                 "S: TOP\n"
                 "S: PIPELINING\n"
                 "S: .\n"
                 LOGIN_USER
                 "C: LIST\n"
                 "S: +OK\n"
                 "S: 1 100\n"
                 "S: 2 200\n"
                 "S: .\n"
                 "C: TOP 1 0\n"
                 "C: TOP 2 0\n"
                 "S: +OK\n"
                 "S: Subject: one\n"
                 "S: Status: RO\n"
                 "S: Message-ID: <1@x>\n"
                 "S: \n"
                 "S: .\n"
                 "S: +OK\n"
                 "S: Subject: two\n"
                 "S: Message-ID: <2@x>\n"
                 "S: \n"
                 "S: .\n");
  first = scan (f, LB_POP3_SCAN_SIZES | LB_POP3_SCAN_UIDS, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (first->len, ==, 2);
  g_assert_true (g_str_has_prefix (g_array_index (first, LbPop3Entry, 0).uid, "~top:"));
  g_assert_cmpuint (strlen (g_array_index (first, LbPop3Entry, 0).uid), ==, 5 + 64);
  g_assert_cmpstr (g_array_index (first, LbPop3Entry, 0).uid, !=, g_array_index (first, LbPop3Entry, 1).uid);

  /* CAPA refused, UIDL refused: LIST then TOP one at a time; the Status
   * and X-UIDL fields changed, a continuation of X-Keywords is new */
  start_session (f, GREETING
                 "C: CAPA\n"
                 "S: -ERR what?\n"
                 LOGIN_USER
                 "C: UIDL\n"
                 "S: -ERR no UIDL here\n"
                 "C: LIST\n"
                 "S: +OK\n"
                 "S: 1 100\n"
                 "S: 2 200\n"
                 "S: .\n"
                 "C: TOP 1 0\n"
                 "S: +OK\n"
                 "S: Subject: one\n"
                 "S: status: RO\n"
                 "S: X-UIDL: 12345\n"
                 "S: Message-ID: <1@x>\n"
                 "S: \n"
                 "S: .\n"
                 "C: TOP 2 0\n"
                 "S: +OK\n"
                 "S: Subject: two\n"
                 "S: X-Keywords: a\n"
                 "S:  b\n"
                 "S: Message-ID: <2@x>\n"
                 "S: \n"
                 "S: .\n");
  second = scan (f, LB_POP3_SCAN_UIDS, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (second->len, ==, 2);
  g_assert_cmpstr (g_array_index (second, LbPop3Entry, 0).uid, ==, g_array_index (first, LbPop3Entry, 0).uid);
  g_assert_cmpstr (g_array_index (second, LbPop3Entry, 1).uid, ==, g_array_index (first, LbPop3Entry, 1).uid);
  g_assert_cmpuint (trace_index (f, "C: TOP 2 0"), >, trace_index (f, "C: TOP 1 0") + 2);

  /* another header: another uid */
  start_session (f, GREETING CAPA_PIPELINING LOGIN_USER
                 "C: LIST\n"
                 "C: UIDL\n"
                 "S: +OK\n"
                 "S: 1 100\n"
                 "S: .\n"
                 "S: -ERR\n"
                 "C: TOP 1 0\n"
                 "S: +OK\n"
                 "S: Subject: one\n"
                 "S: Message-ID: <1@x>\n"
                 "S: X-Spam: yes\n"
                 "S: \n"
                 "S: .\n");
  third = scan (f, LB_POP3_SCAN_SIZES | LB_POP3_SCAN_UIDS, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (third->len, ==, 1);
  g_assert_cmpstr (g_array_index (third, LbPop3Entry, 0).uid, !=, g_array_index (first, LbPop3Entry, 0).uid);
}

/* a function that fails stops the retrieval with its error */
static void
test_callback_fails (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const guint msgs[] = { 1, 2 };
  Retrieval r;

  start_session (f, GREETING CAPA_PIPELINING LOGIN_USER
                 "C: RETR 1\n"
                 "C: RETR 2\n"
                 "S: +OK\n"
                 "S: one\n"
                 "S: .\n"
                 "S: +OK\n"
                 "S: two\n"
                 "S: .\n");
  retrieval_init (&r, f);
  r.fail_at_end = TRUE;
  g_assert_false (retrieve (f, &r, msgs, 2, -1, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_assert_cmpuint (r.events->len, ==, 2);
  g_assert_cmpint (lb_pop3_client_get_state (f->client), ==, LB_POP3_CLIENT_STATE_CLOSED);
  retrieval_clear (&r);
}

static void
test_cut_in_retr (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const guint msgs[] = { 1 };
  Retrieval r;

  start_session (f, GREETING CAPA_PLAIN LOGIN_USER
                 "C: RETR 1\n"
                 "S: +OK\n"
                 "S: half a mess\n"
                 "CLOSE\n");
  retrieval_init (&r, f);
  g_assert_false (retrieve (f, &r, msgs, 1, -1, &error));
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_CUT);
  g_assert_cmpint (lb_pop3_client_get_state (f->client), ==, LB_POP3_CLIENT_STATE_CLOSED);
  g_assert_cmpuint (r.events->len, ==, 1);
  retrieval_clear (&r);

  /* a closed client refuses what comes next */
  g_clear_error (&error);
  g_assert_false (capa (f, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
}

static void
test_peer_closes (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  start_session (f, GREETING CAPA_PLAIN LOGIN_USER "CLOSE\n");
  g_assert_false (quit (f, &error));
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_CUT);
  g_assert_cmpint (lb_pop3_client_get_state (f->client), ==, LB_POP3_CLIENT_STATE_CLOSED);
}

static void
test_err_greeting (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  start (f, "S: -ERR [SYS/TEMP] too many connections\n");
  g_assert_false (greet (f, &error));
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "too many connections"));
  g_assert_cmpint (lb_pop3_client_get_state (f->client), ==, LB_POP3_CLIENT_STATE_CLOSED);
}

static void
test_apop (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *digest = lb_pop3_apop_digest ("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf");

  /* RFC 1939's example */
  g_assert_cmpstr (digest, ==, "c4c9334bac560ecc979e58001b3e22fb");

  /* AUTO on a server that lists no USER but has a timestamp */
  start (f, "S: +OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\n"
         "C: CAPA\n"
         "S: +OK\n"
         "S: TOP\n"
         "S: .\n"
         "C: APOP mrose c4c9334bac560ecc979e58001b3e22fb\n"
         "S: +OK maildrop has 1 message (369 octets)\n");
  g_assert_true (greet (f, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (lb_pop3_client_get_apop_timestamp (f->client), ==, "<1896.697170952@dbc.mtview.ca.us>");
  g_assert_true (capa (f, &error));
  g_assert_no_error (error);
  g_assert_true (login (f, LB_POP3_AUTH_AUTO, "mrose", "tanstaaf", &error));
  g_assert_no_error (error);
  g_assert_true (trace_has_substring (f, "C: APOP mrose ***"));
  g_assert_false (trace_has_substring (f, "c4c9334bac560ecc979e58001b3e22fb"));

  /* APOP refused: AUTHENTICATION, closed */
  start (f, "S: +OK POP3 server ready <1.2@host>\n"
         "C: APOP mrose \n"
         "S: -ERR [AUTH] permission denied\n");
  g_assert_true (greet (f, &error));
  g_assert_false (login (f, LB_POP3_AUTH_APOP, "mrose", "wrong", &error));
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_AUTHENTICATION);
  g_assert_cmpint (lb_pop3_client_get_state (f->client), ==, LB_POP3_CLIENT_STATE_CLOSED);

  /* no timestamp: not supported, nothing sent */
  g_clear_error (&error);
  start (f, GREETING);
  g_assert_true (greet (f, &error));
  g_assert_false (login (f, LB_POP3_AUTH_APOP, "mrose", "tanstaaf", &error));
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_NOT_SUPPORTED);
}

static void
test_auth_login (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *user64 = g_base64_encode ((const guchar *) "alice", 5);
  g_autofree char *pass64 = g_base64_encode ((const guchar *) "s3cret", 6);
  g_autofree char *script = g_strdup_printf (GREETING
                                             "C: CAPA\n"
                                             "S: +OK\n"
                                             "S: SASL LOGIN XOAUTH2\n"
                                             "S: USER\n"
                                             "S: .\n"
                                             "C: AUTH LOGIN\n"
                                             "S: + VXNlcm5hbWU6\n"
                                             "C~ ^%s$\n"
                                             "S: + UGFzc3dvcmQ6\n"
                                             "C~ ^%s$\n"
                                             "S: +OK welcome\n",
                                             user64, pass64);

  start (f, script);
  g_assert_true (greet (f, &error));
  g_assert_true (capa (f, &error));
  g_assert_no_error (error);
  g_assert_cmpstrv (lb_pop3_client_get_sasl_mechanisms (f->client), ((const char *[]) { "LOGIN", "XOAUTH2", NULL }));
  g_assert_true (login (f, LB_POP3_AUTH_AUTO, "alice", "s3cret", &error));
  g_assert_no_error (error);
  g_assert_false (trace_has_substring (f, user64));
  g_assert_false (trace_has_substring (f, pass64));
  g_assert_cmpuint (trace_index (f, "C: ***"), >, trace_index (f, "C: AUTH LOGIN"));
}

static void
test_auth_plain (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *plain = g_base64_encode ((const guchar *) "\0alice\0s3cret", 13);
  g_autofree char *script = g_strdup_printf (GREETING
                                             "C: CAPA\n"
                                             "S: +OK\n"
                                             "S: SASL PLAIN LOGIN\n"
                                             "S: .\n"
                                             "C~ ^AUTH PLAIN %s$\n"
                                             "S: -ERR [IN-USE] locked by another session\n",
                                             plain);

  start (f, script);
  g_assert_true (greet (f, &error));
  g_assert_true (capa (f, &error));
  g_assert_false (login (f, LB_POP3_AUTH_AUTO, "alice", "s3cret", &error));
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_IN_USE);
  g_assert_true (trace_has_substring (f, "C: AUTH PLAIN ***"));
  g_assert_false (trace_has_substring (f, plain));
  g_clear_error (&error);

  /* a temporary failure says so */
  start (f, GREETING
         "C: USER alice\n"
         "S: +OK\n"
         "C: PASS s3cret\n"
         "S: -ERR [SYS/TEMP] try later\n");
  g_assert_true (greet (f, &error));
  g_assert_false (login (f, LB_POP3_AUTH_AUTO, "alice", "s3cret", &error));
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "try later"));
  g_assert_true (trace_has_substring (f, "C: PASS ***"));
  g_assert_false (trace_has_substring (f, "s3cret"));
  g_clear_error (&error);

  /* a mechanism the server does not list */
  start (f, GREETING
         "C: CAPA\n"
         "S: +OK\n"
         "S: SASL PLAIN\n"
         "S: .\n");
  g_assert_true (greet (f, &error));
  g_assert_true (capa (f, &error));
  g_assert_false (login (f, LB_POP3_AUTH_XOAUTH2, "alice", "token", &error));
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_NOT_SUPPORTED);
}

static void
test_xoauth2 (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *raw = "user=alice@example.test\001auth=Bearer tok123\001\001";
  g_autofree char *response = g_base64_encode ((const guchar *) raw, strlen (raw));
  const char *json = "{\"status\":\"401\",\"schemes\":\"bearer\"}";
  g_autofree char *challenge = g_base64_encode ((const guchar *) json, strlen (json));
  g_autofree char *long_token = g_strnfill (400, 'x');
  g_autofree char *long_raw = g_strdup_printf ("user=alice@example.test\001auth=Bearer %s\001\001", long_token);
  g_autofree char *long_response = g_base64_encode ((const guchar *) long_raw, strlen (long_raw));
  g_autofree char *script = g_strdup_printf (GREETING
                                             "C: CAPA\n"
                                             "S: +OK\n"
                                             "S: SASL XOAUTH2\n"
                                             "S: .\n"
                                             "C~ ^AUTH XOAUTH2 %s$\n"
                                             "S: + %s\n"
                                             "C~ ^$\n"
                                             "S: -ERR [AUTH] invalid token\n",
                                             response, challenge);
  g_autofree char *long_script = g_strdup_printf (GREETING
                                                  "C: CAPA\n"
                                                  "S: +OK\n"
                                                  "S: SASL XOAUTH2\n"
                                                  "S: .\n"
                                                  "C~ ^AUTH XOAUTH2$\n"
                                                  "S: +\n"
                                                  "C~ ^%s$\n"
                                                  "S: +OK\n",
                                                  long_response);

  start (f, script);
  g_assert_true (greet (f, &error));
  g_assert_true (capa (f, &error));
  g_assert_false (login (f, LB_POP3_AUTH_XOAUTH2, "alice@example.test", "tok123", &error));
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_AUTHENTICATION);
  g_assert_nonnull (strstr (error->message, "\"status\":\"401\""));
  g_assert_false (trace_has_substring (f, response));
  g_clear_error (&error);

  /* a token too long for the command line goes after an empty challenge */
  start (f, long_script);
  g_assert_true (greet (f, &error));
  g_assert_true (capa (f, &error));
  g_assert_true (login (f, LB_POP3_AUTH_XOAUTH2, "alice@example.test", long_token, &error));
  g_assert_no_error (error);
  g_assert_false (trace_has_substring (f, long_token));
  g_assert_false (trace_has_substring (f, long_response));
}

static void
test_stls_refused (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbConnector) connector = lb_connector_new ();
  gboolean ok;

  /* offered, then refused */
  start (f, GREETING
         "C: CAPA\n"
         "S: +OK\n"
         "S: STLS\n"
         "S: USER\n"
         "S: .\n"
         "C: STLS\n"
         "S: -ERR not now\n");
  g_assert_true (greet (f, &error));
  {
    g_autoptr(GAsyncResult) result = NULL;

    lb_pop3_client_stls_async (f->client, connector, "127.0.0.1", 110, NULL, lb_test_store_result, &result);
    lb_test_wait (&result);
    ok = lb_pop3_client_stls_finish (f->client, result, &error);
  }
  g_assert_false (ok);
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_NO_STLS);
  g_assert_cmpint (lb_pop3_client_get_state (f->client), ==, LB_POP3_CLIENT_STATE_CLOSED);
  g_clear_error (&error);

  /* not offered: nothing after CAPA */
  start (f, GREETING CAPA_PLAIN);
  g_assert_true (greet (f, &error));
  g_assert_true (capa (f, &error));
  {
    g_autoptr(GAsyncResult) result = NULL;

    lb_pop3_client_stls_async (f->client, connector, "127.0.0.1", 110, NULL, lb_test_store_result, &result);
    lb_test_wait (&result);
    ok = lb_pop3_client_stls_finish (f->client, result, &error);
  }
  g_assert_false (ok);
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_NO_STLS);
  g_clear_error (&error);

  /* data after the +OK, before the handshake: an injection */
  start (f, GREETING
         "C: CAPA\n"
         "S: +OK\n"
         "S: STLS\n"
         "S: .\n"
         "C: STLS\n"
         "W: +OK begin TLS\\r\\n+OK injected\\r\\n\n");
  g_assert_true (greet (f, &error));
  g_assert_true (capa (f, &error));
  {
    g_autoptr(GAsyncResult) result = NULL;

    lb_pop3_client_stls_async (f->client, connector, "127.0.0.1", 110, NULL, lb_test_store_result, &result);
    lb_test_wait (&result);
    ok = lb_pop3_client_stls_finish (f->client, result, &error);
  }
  g_assert_false (ok);
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_UNEXPECTED);
  g_assert_cmpint (lb_pop3_client_get_state (f->client), ==, LB_POP3_CLIENT_STATE_CLOSED);
}

static void
test_timeout (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 start_time;

  start (f, "SLEEP 3000\n");
  lb_pop3_client_set_timeout (f->client, 1);
  start_time = g_get_monotonic_time ();
  g_assert_false (greet (f, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start_time, <, 2500 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (lb_pop3_client_get_state (f->client), ==, LB_POP3_CLIENT_STATE_CLOSED);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;

  start_session (f, GREETING CAPA_PLAIN LOGIN_USER
                 "C: STAT\n"
                 "SLEEP 2000\n");
  lb_pop3_client_stat_async (f->client, cancellable, lb_test_store_result, &result);
  g_timeout_add (100, cancel_cb, cancellable);
  lb_test_wait (&result);
  g_assert_false (lb_pop3_client_stat_finish (f->client, result, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (lb_pop3_client_get_state (f->client), ==, LB_POP3_CLIENT_STATE_CLOSED);
}

static gboolean
set_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_pause_resume (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  const guint msgs[] = { 1, 2 };
  gboolean waited = FALSE;
  Retrieval r;

  start_session (f, GREETING CAPA_PIPELINING LOGIN_USER
                 "C: TOP 1 1\n"
                 "C: TOP 2 1\n"
                 "S: +OK\n"
                 "S: Subject: one\n"
                 "S: \n"
                 "S: body\n"
                 "S: .\n"
                 "S: +OK\n"
                 "S: Subject: two\n"
                 "S: \n"
                 "S: body\n"
                 "S: .\n");

  retrieval_init (&r, f);
  r.pause_at_begin = TRUE;
  lb_pop3_client_retrieve_async (f->client, msgs, 2, 1, &retrieval_funcs, &r, NULL,
                                 lb_test_store_result, &result);
  while (!r.paused)
    g_main_context_iteration (NULL, TRUE);

  /* paused: nothing more arrives, however long */
  g_timeout_add (300, set_flag, &waited);
  while (!waited)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (result);
  g_assert_cmpuint (r.events->len, ==, 1);

  /* once more for the second message */
  r.paused = FALSE;
  lb_pop3_client_resume (f->client);
  while (r.events->len < 3)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (r.paused);
  g_assert_cmpstr (r.events->pdata[2], ==, "begin 1");
  g_assert_null (result);

  r.paused = FALSE;
  r.pause_at_begin = FALSE;
  lb_pop3_client_resume (f->client);
  lb_test_wait (&result);
  g_assert_true (lb_pop3_client_retrieve_finish (f->client, result, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (message (&r, 0), ==, "Subject: one\r\n\r\nbody\r\n");
  g_assert_cmpstr (message (&r, 1), ==, "Subject: two\r\n\r\nbody\r\n");
  retrieval_clear (&r);
}

static void
test_dele_refused (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const guint msgs[] = { 1, 2, 3 };
  gboolean ok_;
  GError *error_ = NULL;

  start_session (f, GREETING CAPA_PIPELINING LOGIN_USER
                 "C: DELE 1\n"
                 "C: DELE 2\n"
                 "C: DELE 3\n"
                 "S: +OK\n"
                 "S: -ERR message 2 already deleted\n"
                 "S: +OK\n"
                 "C: RSET\n"
                 "S: +OK\n"
                 "C: NOOP\n"
                 "S: +OK\n"
                 "C: QUIT\n"
                 "S: +OK\n");

  WAIT_BOOLEAN (f, dele, msgs, 3);
  g_assert_false (ok_);
  g_assert_error (error_, LB_POP3_ERROR, LB_POP3_ERROR_REFUSED);
  g_assert_nonnull (strstr (error_->message, "already deleted"));
  g_clear_error (&error_);
  /* still in step */
  g_assert_cmpint (lb_pop3_client_get_state (f->client), ==, LB_POP3_CLIENT_STATE_TRANSACTION);
  WAIT_BOOLEAN (f, rset);
  g_assert_no_error (error_);
  g_assert_true (ok_);
  WAIT_BOOLEAN (f, noop);
  g_assert_no_error (error_);
  g_assert_true (ok_);
  g_assert_true (quit (f, &error));
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/pop3-client-script/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("no-pipelining", test_no_pipelining);
  ADD ("pipelined-refused", test_pipelined_refused);
  ADD ("pipelined-scan", test_pipelined_scan);
  ADD ("no-uidl", test_no_uidl);
  ADD ("callback-fails", test_callback_fails);
  ADD ("cut-in-retr", test_cut_in_retr);
  ADD ("peer-closes", test_peer_closes);
  ADD ("err-greeting", test_err_greeting);
  ADD ("apop", test_apop);
  ADD ("auth-login", test_auth_login);
  ADD ("auth-plain", test_auth_plain);
  ADD ("xoauth2", test_xoauth2);
  ADD ("stls-refused", test_stls_refused);
  ADD ("timeout", test_timeout);
  ADD ("cancel", test_cancel);
  ADD ("pause-resume", test_pause_resume);
  ADD ("dele-refused", test_dele_refused);

  return g_test_run ();
}
