/* lb-test-session.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <sys/stat.h>

#include <glib/gstdio.h>

#include "lb-test-session.h"

/**
 * lb_test_getenv:
 *
 * Returns a variable the test harness (tests/harness/lb-test-env) sets;
 * a test run without the harness fails here with a clear message.
 */
const char *
lb_test_getenv (const char *name)
{
  const char *value = g_getenv (name);

  if (value == NULL || *value == '\0')
    g_error ("%s is not set: run this test through tests/harness/lb-test-env "
             "(meson test does)", name);

  return value;
}

guint16
lb_test_port (const char *name)
{
  guint64 port = 0;
  g_autoptr(GError) error = NULL;

  if (!g_ascii_string_to_unsigned (lb_test_getenv (name), 10, 1, G_MAXUINT16, &port, &error))
    g_error ("%s: %s", name, error->message);

  return (guint16) port;
}

/**
 * lb_test_connector_new:
 *
 * A connector that trusts the harness's throwaway certificate authority,
 * and only it.
 */
LbConnector *
lb_test_connector_new (void)
{
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GError) error = NULL;

  database = g_tls_file_database_new (lb_test_getenv ("LB_TEST_CA_FILE"), &error);
  g_assert_no_error (error);
  lb_connector_set_tls_database (connector, database);
  lb_connector_set_timeout (connector, 20);

  return g_steal_pointer (&connector);
}

/**
 * lb_test_wait:
 * @result: where an async callback stores its result
 *
 * Iterates the thread-default main context until *@result is set.
 */
void
lb_test_wait (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

/**
 * lb_test_parse_message:
 * @raw: a whole message
 *
 * Returns: (transfer full): @raw parsed by GMime, which must succeed
 */
GMimeMessage *
lb_test_parse_message (GBytes *raw)
{
  gsize len = 0;
  const char *data = g_bytes_get_data (raw, &len);
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer (data, len);
  GMimeParser *parser = g_mime_parser_new_with_stream (stream);
  GMimeMessage *message = g_mime_parser_construct_message (parser, NULL);

  g_object_unref (parser);
  g_object_unref (stream);
  g_assert_nonnull (message);
  return message;
}

/**
 * lb_test_collect_trace:
 * @lines: (element-type utf8): a #GPtrArray freeing its strings
 *
 * A POP3 or SMTP client's trace function: adds "C: line" for each line
 * sent, "S: line" for each line received.
 */
void
lb_test_collect_trace (gboolean    sent,
                       const char *line,
                       gpointer    lines)
{
  g_ptr_array_add (lines, g_strdup_printf ("%s %s", sent ? "C:" : "S:", line));
}

static gboolean
tick_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/**
 * lb_test_untrusted_certificate:
 * @port_variable: the environment variable with the port of a harness
 *   server that speaks TLS at once
 *
 * The certificate of that server, which the system does not trust (a user
 * would pin it): a connection trusting only the system's authorities is
 * refused with it.
 *
 * Returns: (transfer full): the certificate
 */
GTlsCertificate *
lb_test_untrusted_certificate (const char *port_variable)
{
  g_autoptr(LbConnector) connector = lb_connector_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(GError) error = NULL;
  GTlsCertificate *certificate;
  const char *host = lb_test_getenv ("LB_TEST_HOST");
  guint16 port = lb_test_port (port_variable);

  lb_connector_connect_async (connector, host, port, LB_NET_SECURITY_TLS, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  stream = lb_connector_connect_finish (connector, result, &error);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  certificate = lb_connector_dup_rejected_certificate (connector, host, port, NULL);
  g_assert_nonnull (certificate);
  return certificate;
}

/**
 * lb_test_spin:
 * @ms: how long
 *
 * Iterates the default main context for about @ms milliseconds.
 */
void
lb_test_spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, tick_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/**
 * lb_test_message_id:
 *
 * Returns: a new, unique Message-ID with its angle brackets
 */
char *
lb_test_message_id (void)
{
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strdup_printf ("<%s@letterbox.test>", uuid);
}

/**
 * lb_test_remove_tree:
 * @path: a file or directory a test made
 *
 * Removes it, with everything in it.
 */
void
lb_test_remove_tree (const char *path)
{
  GStatBuf st;
  g_autoptr(GDir) dir = NULL;
  const char *name;

  /* a symbolic link goes, never what it points to */
  if (g_lstat (path, &st) != 0)
    return;
  if (!S_ISDIR (st.st_mode))
    {
      g_unlink (path);
      return;
    }

  /* a test may have taken the read permission away */
  g_chmod (path, 0700);
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        lb_test_remove_tree (child);
      }
  g_rmdir (path);
}

/**
 * lb_test_finalize_store:
 * @store: (transfer full): an LbStore
 *
 * Drops the test's reference to a store and asserts it is finalized, once
 * its threads have handed their own references back (each finished job
 * returns one to the main context; a GTask worker may drop one without
 * waking it, so this polls rather than blocks, for 10 s at most).
 */
void
lb_test_finalize_store (gpointer store)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (g_atomic_int_get (&G_OBJECT (store)->ref_count) > 1 &&
         g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
  g_assert_finalize_object (store);
}

/**
 * lb_test_store_result:
 * @user_data: a `GAsyncResult **`, initially %NULL
 *
 * An async callback that keeps the result for lb_test_wait().
 */
void
lb_test_store_result (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
set_stream (LbTestSession *self,
            GIOStream     *stream)
{
  g_clear_object (&self->in);
  g_set_object (&self->stream, stream);

  self->in = g_data_input_stream_new (g_io_stream_get_input_stream (stream));
  /* the data stream reads from the connection; it must not close it */
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (self->in), FALSE);
  g_data_input_stream_set_newline_type (self->in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
}

LbTestSession *
lb_test_session_open (LbConnector    *connector,
                      const char     *port_variable,
                      LbNetSecurity   security,
                      GError        **error)
{
  g_autoptr(LbTestSession) self = g_new0 (LbTestSession, 1);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GIOStream) stream = NULL;

  self->connector = g_object_ref (connector);
  self->host = g_strdup (lb_test_getenv ("LB_TEST_HOST"));
  self->port = lb_test_port (port_variable);

  lb_connector_connect_async (connector, self->host, self->port, security,
                              NULL, lb_test_store_result, &result);
  lb_test_wait (&result);

  stream = lb_connector_connect_finish (connector, result, error);
  if (stream == NULL)
    return NULL;

  set_stream (self, stream);

  return g_steal_pointer (&self);
}

/**
 * lb_test_session_open_greeted:
 * @port_variable: the harness variable with the port
 * @security: how to connect
 * @greeting: how the server's first line must start ("* OK", "+OK", "220")
 *
 * Connects with lb_test_connector_new() and reads the greeting; the test
 * fails if either goes wrong.
 */
LbTestSession *
lb_test_session_open_greeted (const char    *port_variable,
                              LbNetSecurity  security,
                              const char    *greeting)
{
  g_autoptr(LbConnector) connector = lb_test_connector_new ();
  g_autoptr(LbTestSession) self = NULL;
  g_autoptr(GError) error = NULL;

  self = lb_test_session_open (connector, port_variable, security, &error);
  g_assert_no_error (error);
  lb_test_session_expect (self, greeting);

  return g_steal_pointer (&self);
}

/**
 * lb_test_session_start_tls:
 *
 * Upgrades the session after the server agreed to STARTTLS/STLS.
 */
gboolean
lb_test_session_start_tls (LbTestSession  *self,
                           GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GIOStream) tls = NULL;

  /* Anything buffered now would be plaintext injected before the
   * handshake (the STARTTLS command-injection attack). */
  g_assert_cmpuint (g_buffered_input_stream_get_available (G_BUFFERED_INPUT_STREAM (self->in)), ==, 0);

  lb_connector_start_tls_async (self->connector, self->stream, self->host, self->port,
                                NULL, lb_test_store_result, &result);
  lb_test_wait (&result);

  tls = lb_connector_start_tls_finish (self->connector, result, error);
  if (tls == NULL)
    return FALSE;

  g_assert_true (G_IS_TLS_CONNECTION (tls));
  set_stream (self, tls);

  return TRUE;
}

void
lb_test_session_write (LbTestSession *self,
                       const void    *data,
                       gsize          length)
{
  g_autoptr(GError) error = NULL;
  GOutputStream *out = g_io_stream_get_output_stream (self->stream);

  g_output_stream_write_all (out, data, length, NULL, NULL, &error);
  g_assert_no_error (error);
}

/**
 * lb_test_session_send:
 *
 * Sends one command line; CRLF is appended.
 */
void
lb_test_session_send (LbTestSession *self,
                      const char    *format,
                      ...)
{
  g_autofree char *line = NULL;
  g_autofree char *wire = NULL;
  va_list args;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);

  wire = g_strconcat (line, "\r\n", NULL);
  lb_test_session_write (self, wire, strlen (wire));
}

/**
 * lb_test_session_read_line:
 *
 * Returns: one line without its CRLF; the test fails on EOF or error.
 */
char *
lb_test_session_read_line (LbTestSession *self)
{
  g_autoptr(GError) error = NULL;
  char *line;

  line = g_data_input_stream_read_line (self->in, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL)
    g_error ("%s:%u closed the connection", self->host, self->port);

  return line;
}

/**
 * lb_test_session_read_bytes:
 *
 * Reads exactly @length bytes (an IMAP literal, say).
 */
GBytes *
lb_test_session_read_bytes (LbTestSession *self,
                            gsize          length)
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *data = g_malloc (length + 1);
  gsize n_read = 0;

  g_input_stream_read_all (G_INPUT_STREAM (self->in), data, length, &n_read, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_read, ==, length);

  return g_bytes_new_take (g_steal_pointer (&data), length);
}

/**
 * lb_test_session_read_until:
 *
 * Reads lines until one starts with @prefix (a command's tagged answer,
 * say) and returns that line.
 */
char *
lb_test_session_read_until (LbTestSession *self,
                            const char    *prefix)
{
  for (;;)
    {
      char *line = lb_test_session_read_line (self);

      if (g_str_has_prefix (line, prefix))
        return line;
      g_free (line);
    }
}

/**
 * lb_test_session_expect:
 *
 * Reads one line; the test fails unless it starts with @prefix.
 */
void
lb_test_session_expect (LbTestSession *self,
                        const char    *prefix)
{
  g_autofree char *line = lb_test_session_read_line (self);

  if (!g_str_has_prefix (line, prefix))
    g_error ("expected “%s…” from %s:%u, it said “%s”", prefix, self->host, self->port, line);
}

/**
 * lb_test_session_expect_tagged_ok:
 *
 * IMAP: reads up to the tagged answer of @tag, which must be OK.
 */
void
lb_test_session_expect_tagged_ok (LbTestSession *self,
                                  const char    *tag)
{
  g_autofree char *prefix = g_strconcat (tag, " ", NULL);
  g_autofree char *answer = lb_test_session_read_until (self, prefix);

  if (!g_str_has_prefix (answer + strlen (prefix), "OK"))
    g_error ("IMAP said: %s", answer);
}

/**
 * lb_test_session_imap_login:
 *
 * A session on the harness's IMAPS port, logged in as @user.
 */
LbTestSession *
lb_test_session_imap_login (const char *user,
                            const char *password)
{
  g_autoptr(LbTestSession) session = lb_test_session_open_greeted ("LB_TEST_IMAPS_PORT", LB_NET_SECURITY_TLS,
                                                                   "* OK");

  lb_test_session_send (session, "L LOGIN %s %s", user, password);
  lb_test_session_expect_tagged_ok (session, "L");
  return g_steal_pointer (&session);
}

/**
 * lb_test_session_imap_ok:
 *
 * IMAP: sends @command, whose tagged answer must be OK; the untagged ones
 * are read and dropped.
 */
void
lb_test_session_imap_ok (LbTestSession *self,
                         const char    *command)
{
  lb_test_session_send (self, "T %s", command);
  lb_test_session_expect_tagged_ok (self, "T");
}

/**
 * lb_test_session_imap_count:
 *
 * IMAP: how many messages of @mailbox (examined) match @criteria.
 */
guint
lb_test_session_imap_count (LbTestSession *self,
                            const char    *mailbox,
                            const char    *criteria)
{
  g_autofree char *line = NULL;
  g_auto(GStrv) words = NULL;

  lb_test_session_send (self, "S EXAMINE %s", mailbox);
  lb_test_session_expect_tagged_ok (self, "S");
  lb_test_session_send (self, "C SEARCH %s", criteria);
  line = lb_test_session_read_until (self, "* SEARCH");
  lb_test_session_expect_tagged_ok (self, "C");
  words = g_strsplit (g_strstrip (line), " ", -1);
  return g_strv_length (words) - 2;
}

/**
 * lb_test_session_imap_append:
 *
 * IMAP: appends @message (CRLF line ends) to @mailbox.
 */
void
lb_test_session_imap_append (LbTestSession *self,
                             const char    *mailbox,
                             const char    *message)
{
  lb_test_session_send (self, "A APPEND %s {%zu}", mailbox, strlen (message));
  lb_test_session_expect (self, "+");
  lb_test_session_write (self, message, strlen (message));
  lb_test_session_write (self, "\r\n", 2);
  lb_test_session_expect_tagged_ok (self, "A");
}

/**
 * lb_test_session_imap_empty:
 *
 * IMAP: deletes every message of @mailbox for good, and leaves it selected.
 */
void
lb_test_session_imap_empty (LbTestSession *self,
                            const char    *mailbox)
{
  lb_test_session_send (self, "E SELECT %s", mailbox);
  lb_test_session_expect_tagged_ok (self, "E");
  /* an empty mailbox has nothing to store to: the answer may be NO/BAD */
  lb_test_session_send (self, "E STORE 1:* +FLAGS (\\Deleted)");
  g_free (lb_test_session_read_until (self, "E "));
  lb_test_session_imap_ok (self, "EXPUNGE");
}

void
lb_test_session_free (LbTestSession *self)
{
  if (self == NULL)
    return;

  g_clear_object (&self->in);
  if (self->stream != NULL)
    g_io_stream_close (self->stream, NULL, NULL);
  g_clear_object (&self->stream);
  g_clear_object (&self->connector);
  g_free (self->host);
  g_free (self);
}
