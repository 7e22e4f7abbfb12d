/* test-test-script-server.c: LbTestScriptServer against a blocking client
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "lb-test-script-server.h"

typedef struct
{
  GIOStream        *connection;
  GDataInputStream *in;
} Client;

static Client *
client_connect (LbTestScriptServer *server)
{
  Client *client = g_new0 (Client, 1);

  client->connection = lb_test_script_server_connect (server);
  client->in = g_data_input_stream_new (g_io_stream_get_input_stream (client->connection));
  g_data_input_stream_set_newline_type (client->in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);

  return client;
}

static void
client_free (Client *client)
{
  g_object_unref (client->in);
  g_object_unref (client->connection);
  g_free (client);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Client, client_free)

static void
client_send (Client     *client,
             const char *text)
{
  g_autoptr(GError) error = NULL;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (client->connection));

  g_output_stream_write_all (out, text, strlen (text), NULL, NULL, &error);
  g_assert_no_error (error);
}

/* A line without its CRLF; NULL at the end of the stream. */
static char *
client_read_line (Client *client)
{
  g_autoptr(GError) error = NULL;
  char *line = g_data_input_stream_read_line (client->in, NULL, NULL, &error);

  g_assert_no_error (error);
  return line;
}

static void
client_close (Client *client)
{
  g_autoptr(GError) error = NULL;

  g_io_stream_close (G_IO_STREAM (client->connection), NULL, &error);
  g_assert_no_error (error);
}

static LbTestScriptServer *
server_new (void)
{
  g_autoptr(GError) error = NULL;
  LbTestScriptServer *server = lb_test_script_server_new (&error);

  g_assert_no_error (error);
  g_assert_nonnull (server);
  g_assert_cmpuint (lb_test_script_server_get_port (server), !=, 0);

  return server;
}

static void
test_dialogue (void)
{
  g_autoptr(LbTestScriptServer) server = server_new ();
  g_autoptr(Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) received = NULL;
  g_autofree char *greeting = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *ok = NULL;
  g_autofree char *bye = NULL;

  lb_test_script_server_add_script (server,
                                    "# a server that does not offer STARTTLS\n"
                                    "S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\n"
                                    "\n"
                                    "C: a1 CAPABILITY\n"
                                    "S: * CAPABILITY IMAP4rev1 AUTH=PLAIN\n"
                                    "S: a1 OK done\n"
                                    "C~ ^a2 (LOGOUT|logout)$\n"
                                    "S: * BYE\n"
                                    "S: a2 OK bye\n");
  g_assert_false (lb_test_script_server_is_done (server));

  client = client_connect (server);
  greeting = client_read_line (client);
  g_assert_cmpstr (greeting, ==, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready");
  client_send (client, "a1 CAPABILITY\r\n");
  reply = client_read_line (client);
  g_assert_cmpstr (reply, ==, "* CAPABILITY IMAP4rev1 AUTH=PLAIN");
  ok = client_read_line (client);
  g_assert_cmpstr (ok, ==, "a1 OK done");
  client_send (client, "a2 LOGOUT\r\n");
  bye = client_read_line (client);
  g_assert_cmpstr (bye, ==, "* BYE");
  g_free (client_read_line (client));

  /* after the script, the server takes what comes until the client closes */
  client_send (client, "a3 NOOP\n");
  g_assert_false (lb_test_script_server_is_done (server));
  client_close (client);

  lb_test_script_server_wait (server, &error);
  g_assert_no_error (error);
  g_assert_true (lb_test_script_server_is_done (server));
  received = lb_test_script_server_get_received (server, 0);
  g_assert_cmpstrv (received, ((const char *[]) { "a1 CAPABILITY", "a2 LOGOUT", "a3 NOOP", NULL }));
}

static void
test_mismatch (void)
{
  g_autoptr(LbTestScriptServer) server = server_new ();
  g_autoptr(Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) received = NULL;
  g_autofree char *greeting = NULL;
  g_autofree char *after = NULL;

  lb_test_script_server_add_script (server,
                                    "S: * OK ready\n"
                                    "C: a1 STARTTLS\n"
                                    "S: a1 OK go ahead\n");
  client = client_connect (server);
  greeting = client_read_line (client);
  g_assert_cmpstr (greeting, ==, "* OK ready");
  client_send (client, "a1 LOGIN alice secret\r\n");

  /* the server stops at the line that did not match */
  after = client_read_line (client);
  g_assert_null (after);
  lb_test_script_server_wait (server, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "line 2"));
  g_assert_nonnull (strstr (error->message, "a1 LOGIN alice secret"));
  received = lb_test_script_server_get_received (server, 0);
  g_assert_cmpstrv (received, ((const char *[]) { "a1 LOGIN alice secret", NULL }));
}

static void
test_client_leaves_early (void)
{
  g_autoptr(LbTestScriptServer) server = server_new ();
  g_autoptr(Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *greeting = NULL;

  lb_test_script_server_add_script (server,
                                    "S: * OK ready\n"
                                    "C: a1 LOGIN\n");
  client = client_connect (server);
  greeting = client_read_line (client);
  client_close (client);

  lb_test_script_server_wait (server, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_assert_nonnull (strstr (error->message, "a1 LOGIN"));
}

static void
test_close_and_raw (void)
{
  g_autoptr(LbTestScriptServer) server = server_new ();
  g_autoptr(Client) first = NULL;
  g_autoptr(Client) second = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) received = NULL;
  g_autofree char *line = NULL;
  g_autofree char *eof = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *raw_eof = NULL;
  gsize length = 0;

  /* two scripts for two connections, in order */
  lb_test_script_server_add_script (server,
                                    "S: * OK first\n"
                                    "C: a1 \n"
                                    "CLOSE\n"
                                    "S: never sent\n");
  lb_test_script_server_add_script (server,
                                    "SLEEP 10\n"
                                    "W: * OK bare\\nline\\r\\n* 1 EXISTS\n"
                                    "CLOSE\n");

  first = client_connect (server);
  line = client_read_line (first);
  g_assert_cmpstr (line, ==, "* OK first");
  client_send (first, "a1 LOGOUT\r\n");
  eof = client_read_line (first);
  g_assert_null (eof);

  /* W: sends the bytes as they are: a bare LF, no CRLF at the end */
  second = client_connect (server);
  g_data_input_stream_set_newline_type (second->in, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  client_close (first);
  raw = g_data_input_stream_read_upto (second->in, "", 0, &length, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (raw, ==, "* OK bare\nline\r\n* 1 EXISTS");
  raw_eof = client_read_line (second);
  g_assert_null (raw_eof);
  client_close (second);

  lb_test_script_server_wait (server, &error);
  g_assert_no_error (error);
  received = lb_test_script_server_get_received (server, 0);
  g_assert_cmpstrv (received, ((const char *[]) { "a1 LOGOUT", NULL }));
  g_strfreev (received);
  received = lb_test_script_server_get_received (server, 1);
  g_assert_cmpstrv (received, ((const char *[]) { NULL }));
  g_strfreev (received);
  received = lb_test_script_server_get_received (server, 2);
  g_assert_cmpstrv (received, ((const char *[]) { NULL }));
}

static void
test_free_ends_script (void)
{
  g_autoptr(LbTestScriptServer) server = server_new ();
  g_autoptr(Client) client = NULL;
  g_autofree char *greeting = NULL;

  /* a client that stays connected: freeing the server ends the script */
  lb_test_script_server_add_script (server, "S: * OK ready\n");
  client = client_connect (server);
  greeting = client_read_line (client);
  g_assert_cmpstr (greeting, ==, "* OK ready");
  g_assert_false (lb_test_script_server_is_done (server));
  g_clear_pointer (&server, lb_test_script_server_free);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/test-script-server/dialogue", test_dialogue);
  g_test_add_func ("/test-script-server/mismatch", test_mismatch);
  g_test_add_func ("/test-script-server/client-leaves-early", test_client_leaves_early);
  g_test_add_func ("/test-script-server/close-and-raw", test_close_and_raw);
  g_test_add_func ("/test-script-server/free-ends-script", test_free_ends_script);

  return g_test_run ();
}
