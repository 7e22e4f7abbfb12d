/* test-imap-command.c: building IMAP commands, and the client against
 * scripted servers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "lb-imap-client.h"
#include "lb-imap-client-private.h"
#include "lb-imap-command-private.h"
#include "lb-imap-deflater.h"
#include "lb-test-session.h"

/* Commands */

static char *
render_joined (LbImapCommand             *command,
               const LbImapRenderOptions *options,
               guint                     *n_parts)
{
  g_autoptr(GPtrArray) parts = lb_imap_command_render (command, "A1", options, NULL);
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < parts->len; i++)
    {
      gsize len = 0;
      const char *data = g_bytes_get_data (parts->pdata[i], &len);

      if (i > 0)
        g_string_append (text, "|");   /* where the client waits for "+" */
      g_string_append_len (text, data, len);
    }
  if (n_parts != NULL)
    *n_parts = parts->len;

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
test_command_spacing (void)
{
  g_autoptr(LbImapCommand) command = lb_imap_command_new ("UID FETCH");
  const LbImapRange ranges[] = { { 1, 5 }, { 9, G_MAXUINT32 } };
  const char * const flags[] = { "\\Seen", "$Forwarded", NULL };
  g_autofree char *text = NULL;

  lb_imap_command_add_set (command, ranges, G_N_ELEMENTS (ranges));
  lb_imap_command_add_atom (command, "(");
  lb_imap_command_add_atom (command, "UID");
  lb_imap_command_add_atom (command, "BODY.PEEK[HEADER.FIELDS");
  lb_imap_command_add_atom (command, "(REFERENCES");
  lb_imap_command_add_atom (command, "LIST-ID");
  lb_imap_command_add_atom (command, ")]");
  lb_imap_command_add_atom (command, ")");
  lb_imap_command_add_number (command, G_GUINT64_CONSTANT (18446744073709551615));
  lb_imap_command_add_nstring (command, NULL);
  lb_imap_command_add_flags (command, flags);
  lb_imap_command_add_printf (command, "<%u.%u>", 0, 1024);

  text = lb_imap_command_to_string (command, FALSE);
  g_assert_cmpstr (text, ==,
                   "UID FETCH 1:5,9:* (UID BODY.PEEK[HEADER.FIELDS (REFERENCES LIST-ID)]) "
                   "18446744073709551615 NIL (\\Seen $Forwarded) <0.1024>");
  g_assert_false (lb_imap_command_get_exclusive (command));
  lb_imap_command_set_exclusive (command, TRUE);
  g_assert_true (lb_imap_command_get_exclusive (command));
}

static void
test_command_quoting (void)
{
  g_autoptr(LbImapCommand) command = lb_imap_command_new ("LOGIN");
  g_autofree char *text = NULL;
  g_autofree char *wire = NULL;
  guint n_parts = 0;

  lb_imap_command_add_string (command, "al\"ice\\");
  lb_imap_command_add_string (command, "");
  lb_imap_command_add_string (command, "a b (c) {5}");
  text = lb_imap_command_to_string (command, FALSE);
  /* never a bare atom: quoted, with escapes */
  g_assert_cmpstr (text, ==, "LOGIN \"al\\\"ice\\\\\" \"\" \"a b (c) {5}\"");

  wire = render_joined (command, NULL, &n_parts);
  g_assert_cmpstr (wire, ==, "A1 LOGIN \"al\\\"ice\\\\\" \"\" \"a b (c) {5}\"\r\n");
  g_assert_cmpuint (n_parts, ==, 1);
}

static void
test_command_literals (void)
{
  g_autoptr(LbImapCommand) command = lb_imap_command_new ("X");
  g_autoptr(LbImapCommand) big = lb_imap_command_new ("APPEND");
  g_autoptr(GBytes) message = NULL;
  g_autofree char *big_text = g_strnfill (5000, 'x');
  const LbImapRenderOptions plus = { TRUE, FALSE, FALSE };
  const LbImapRenderOptions minus = { FALSE, TRUE, FALSE };
  const LbImapRenderOptions utf8 = { FALSE, FALSE, TRUE };
  g_autofree char *text = NULL;
  guint n_parts = 0;

  lb_imap_command_add_string (command, "two\r\nlines");
  lb_imap_command_add_string (command, "Grüße");
  lb_imap_command_add_string (command, "plain");

  /* CR/LF and 8-bit bytes need literals; without LITERAL+ the client waits
   * for "+" after each announcement */
  text = render_joined (command, NULL, &n_parts);
  g_assert_cmpstr (text, ==, "A1 X {10}\r\n|two\r\nlines {7}\r\n|Grüße \"plain\"\r\n");
  g_assert_cmpuint (n_parts, ==, 3);
  g_clear_pointer (&text, g_free);

  text = render_joined (command, &plus, &n_parts);
  g_assert_cmpstr (text, ==, "A1 X {10+}\r\ntwo\r\nlines {7+}\r\nGrüße \"plain\"\r\n");
  g_assert_cmpuint (n_parts, ==, 1);
  g_clear_pointer (&text, g_free);

  /* UTF8=ACCEPT: UTF-8 may be quoted, CR/LF still may not */
  text = render_joined (command, &utf8, &n_parts);
  g_assert_cmpstr (text, ==, "A1 X {10}\r\n|two\r\nlines \"Grüße\" \"plain\"\r\n");
  g_assert_cmpuint (n_parts, ==, 2);
  g_clear_pointer (&text, g_free);

  /* LITERAL-: non-synchronizing up to 4096 bytes only */
  message = g_bytes_new (big_text, 5000);
  lb_imap_command_add_mailbox (big, "INBOX");
  lb_imap_command_add_literal (big, message);
  lb_imap_command_add_string (big, "short\n");
  text = render_joined (big, &minus, &n_parts);
  g_assert_true (g_str_has_prefix (text, "A1 APPEND \"INBOX\" {5000}\r\n|xxx"));
  g_assert_true (g_str_has_suffix (text, "xxx {6+}\r\nshort\n\r\n"));
  g_assert_cmpuint (n_parts, ==, 2);
  g_clear_pointer (&text, g_free);

  /* a long string goes as a literal too */
  lb_imap_command_add_string (command, big_text);
  text = render_joined (command, &plus, &n_parts);
  g_assert_nonnull (strstr (text, "\"plain\" {5000+}\r\nxxxxx"));
  g_assert_true (g_str_has_suffix (text, "xxxxx\r\n"));
}

static void
test_command_mailbox (void)
{
  g_autoptr(LbImapCommand) command = lb_imap_command_new ("SELECT");
  const LbImapRenderOptions utf8 = { FALSE, FALSE, TRUE };
  g_autofree char *text = NULL;
  g_autofree char *wire = NULL;

  lb_imap_command_add_mailbox (command, "Entwürfe & \"Co\"");
  text = lb_imap_command_to_string (command, FALSE);
  g_assert_cmpstr (text, ==, "SELECT \"Entw&APw-rfe &- \\\"Co\\\"\"");

  wire = render_joined (command, &utf8, NULL);
  g_assert_cmpstr (wire, ==, "A1 SELECT \"Entwürfe & \\\"Co\\\"\"\r\n");
}

static void
test_command_raw_mailbox (void)
{
  g_autoptr(LbImapCommand) command = lb_imap_command_new ("RENAME");
  g_autoptr(GHashTable) raw = g_hash_table_new (g_str_hash, g_str_equal);
  LbImapRenderOptions options = { FALSE, FALSE, FALSE, NULL };
  g_autofree char *wire = NULL;

  /* a name listed in a form that is not modified UTF-7 goes back as listed */
  g_hash_table_insert (raw, (gpointer) "Tom & Jerry", (gpointer) "Tom & Jerry");
  options.raw_mailboxes = raw;
  lb_imap_command_add_mailbox (command, "Tom & Jerry");
  lb_imap_command_add_mailbox (command, "Tom & Jerry 2");
  wire = render_joined (command, &options, NULL);
  g_assert_cmpstr (wire, ==, "A1 RENAME \"Tom & Jerry\" \"Tom &- Jerry 2\"\r\n");
  g_clear_pointer (&wire, g_free);

  /* as under UTF8=ACCEPT */
  options.utf8_accept = TRUE;
  wire = render_joined (command, &options, NULL);
  g_assert_cmpstr (wire, ==, "A1 RENAME \"Tom & Jerry\" \"Tom & Jerry 2\"\r\n");
}

static void
test_command_redaction (void)
{
  g_autoptr(LbImapCommand) command = lb_imap_command_new ("LOGIN");
  g_autoptr(LbImapCommand) append = lb_imap_command_new ("APPEND");
  g_autoptr(GBytes) message = g_bytes_new_static ("Subject: secret plans\r\n\r\nhi\r\n", 30);
  g_autofree char *clear = NULL;
  g_autofree char *redacted = NULL;
  g_autofree char *trace = NULL;
  g_autoptr(GPtrArray) parts = NULL;

  lb_imap_command_add_string (command, "alice");
  lb_imap_command_begin_secret (command);
  lb_imap_command_add_string (command, "pässwörd\r\n");
  lb_imap_command_add_string (command, "hunter2");
  lb_imap_command_end_secret (command);
  lb_imap_command_add_atom (command, "X");

  clear = lb_imap_command_to_string (command, FALSE);
  g_assert_cmpstr (clear, ==, "LOGIN \"alice\" {12}\r\npässwörd\r\n \"hunter2\" X");
  redacted = lb_imap_command_to_string (command, TRUE);
  g_assert_cmpstr (redacted, ==, "LOGIN \"alice\" *** *** X");

  /* message contents never reach the log either */
  lb_imap_command_add_mailbox (append, "Sent");
  lb_imap_command_add_literal (append, message);
  parts = lb_imap_command_render (append, "A7", NULL, &trace);
  g_assert_cmpstr (trace, ==, "A7 APPEND \"Sent\" {30 bytes}");
  g_assert_cmpuint (parts->len, ==, 2);
}

static void
test_command_fragment (void)
{
  g_autoptr(LbImapCommand) criteria = lb_imap_command_new (NULL);
  g_autoptr(LbImapCommand) command = lb_imap_command_new ("UID SEARCH");
  g_autofree char *text = NULL;

  lb_imap_command_add_atom (criteria, "UNSEEN");
  lb_imap_command_add_atom (criteria, "SUBJECT");
  lb_imap_command_add_string (criteria, "Grüße");
  g_assert_true (lb_imap_command_has_8bit (criteria));

  lb_imap_command_add_atom (command, "RETURN (ALL)");
  lb_imap_command_add_fragment (command, criteria);
  text = lb_imap_command_to_string (command, FALSE);
  g_assert_cmpstr (text, ==, "UID SEARCH RETURN (ALL) UNSEEN SUBJECT {7}\r\nGrüße");
}

static void
test_command_bad_flag (void)
{
  g_autoptr(LbImapCommand) command = lb_imap_command_new ("STORE");
  const char * const flags[] = { "\\Seen", "bad flag", "(x", NULL };
  g_autofree char *text = NULL;

  g_test_expect_message ("lb-imap", G_LOG_LEVEL_CRITICAL, "*bad flag*");
  g_test_expect_message ("lb-imap", G_LOG_LEVEL_CRITICAL, "*(x*");
  lb_imap_command_add_flags (command, flags);
  g_test_assert_expected_messages ();

  text = lb_imap_command_to_string (command, FALSE);
  g_assert_cmpstr (text, ==, "STORE (\\Seen)");
}

static void
test_deflater (void)
{
  g_autoptr(LbImapDeflater) deflater = lb_imap_deflater_new ();
  g_autoptr(GZlibDecompressor) inflater = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);
  const char *batches[] = { "A1 NOOP\r\n", "A2 UID FETCH 1:* (FLAGS)\r\nA3 NOOP\r\n", "A4 LOGOUT\r\n" };

  /* each batch decompresses completely from its own output: nothing stays
   * behind in zlib until the next write */
  for (guint i = 0; i < G_N_ELEMENTS (batches); i++)
    {
      gsize len = strlen (batches[i]);
      gsize bound = lb_imap_deflater_bound (deflater, len);
      g_autofree guint8 *out = g_malloc (bound);
      char plain[256];
      gsize bytes_read = 0, bytes_written = 0;
      gsize plain_read = 0, plain_written = 0;
      g_autoptr(GError) error = NULL;
      GConverterResult result;

      result = g_converter_convert (G_CONVERTER (deflater), batches[i], len, out, bound,
                                    G_CONVERTER_NO_FLAGS, &bytes_read, &bytes_written, &error);
      g_assert_no_error (error);
      g_assert_cmpint (result, ==, G_CONVERTER_CONVERTED);
      g_assert_cmpuint (bytes_read, ==, len);
      g_assert_cmpuint (bytes_written, >, 0);

      result = g_converter_convert (G_CONVERTER (inflater), out, bytes_written, plain, sizeof plain,
                                    G_CONVERTER_NO_FLAGS, &plain_read, &plain_written, &error);
      g_assert_no_error (error);
      g_assert_cmpint (result, ==, G_CONVERTER_CONVERTED);
      g_assert_cmpuint (plain_read, ==, bytes_written);
      g_assert_cmpmem (plain, plain_written, batches[i], len);
    }

  /* too little room is refused, not half done */
  {
    guint8 small[4];
    gsize bytes_read = 0, bytes_written = 0;
    g_autoptr(GError) error = NULL;

    g_assert_cmpint (g_converter_convert (G_CONVERTER (deflater), "A5 NOOP\r\n", 9, small, sizeof small,
                                          G_CONVERTER_NO_FLAGS, &bytes_read, &bytes_written, &error),
                     ==, G_CONVERTER_ERROR);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
    g_assert_cmpuint (bytes_read, ==, 0);
  }
}

/* A scripted server on the other end of a socketpair(2), in a thread.
 *
 *   S: text     send text and CRLF
 *   W: text     send text with C escapes, nothing appended
 *   C: text     read a line (CRLF dropped); it must be exactly text
 *   C* prefix   read a line; it must start with prefix
 *   B: text     read exactly these bytes (C escapes)
 *   QUIET ms    the client must send nothing for that long
 *   SLEEP ms    wait
 *   EOF         the client must close the connection, sending nothing more
 *   CLOSE       close the connection
 */

typedef struct
{
  GSocket    *socket;
  char      **steps;
  GThread    *thread;
  GByteArray *in;
  GString    *received;   /* everything the client sent */
  GString    *errors;
} Server;

static gboolean
server_fill (Server  *s,
             GError **error)
{
  char buf[4096];
  gssize n = g_socket_receive (s->socket, buf, sizeof buf, NULL, error);

  if (n < 0)
    return FALSE;
  if (n == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "the client closed the connection");
      return FALSE;
    }
  g_byte_array_append (s->in, (const guint8 *) buf, n);
  g_string_append_len (s->received, buf, n);

  return TRUE;
}

static char *
server_read_line (Server  *s,
                  GError **error)
{
  for (;;)
    {
      guint8 *nl = s->in->len > 0 ? memchr (s->in->data, '\n', s->in->len) : NULL;

      if (nl != NULL)
        {
          gsize len = nl - s->in->data + 1;
          gsize text = len - 1;
          char *line;

          if (text > 0 && s->in->data[text - 1] == '\r')
            text--;
          line = g_strndup ((const char *) s->in->data, text);
          g_byte_array_remove_range (s->in, 0, len);
          return line;
        }
      if (!server_fill (s, error))
        return NULL;
    }
}

static gboolean
server_send (Server      *s,
             const char  *data,
             gsize        len,
             GError     **error)
{
  while (len > 0)
    {
      gssize n = g_socket_send (s->socket, data, len, NULL, error);

      if (n < 0)
        return FALSE;
      data += n;
      len -= n;
    }

  return TRUE;
}

static gboolean
server_step (Server      *s,
             const char  *step,
             GError     **error)
{
  if (g_str_has_prefix (step, "S: "))
    {
      g_autofree char *line = g_strconcat (step + 3, "\r\n", NULL);

      return server_send (s, line, strlen (line), error);
    }
  if (g_str_has_prefix (step, "W: "))
    {
      g_autofree char *data = g_strcompress (step + 3);

      return server_send (s, data, strlen (data), error);
    }
  if (g_str_has_prefix (step, "C: ") || g_str_has_prefix (step, "C* "))
    {
      g_autofree char *line = server_read_line (s, error);

      if (line == NULL)
        return FALSE;
      if (step[1] == ':' ? strcmp (line, step + 3) != 0 : !g_str_has_prefix (line, step + 3))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "expected “%s”, got “%s”", step + 3, line);
          return FALSE;
        }
      return TRUE;
    }
  if (g_str_has_prefix (step, "B: "))
    {
      g_autofree char *want = g_strcompress (step + 3);
      gsize len = strlen (want);

      while (s->in->len < len)
        if (!server_fill (s, error))
          return FALSE;
      if (memcmp (s->in->data, want, len) != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "expected the bytes “%s”, got “%.*s”",
                       step + 3, (int) len, s->in->data);
          return FALSE;
        }
      g_byte_array_remove_range (s->in, 0, len);
      return TRUE;
    }
  if (g_str_has_prefix (step, "QUIET ") || g_str_has_prefix (step, "SLEEP "))
    {
      guint ms = atoi (step + 6);

      if (step[0] == 'S')
        {
          g_usleep (ms * 1000);
          return TRUE;
        }
      if (s->in->len == 0 &&
          !g_socket_condition_timed_wait (s->socket, G_IO_IN, ms * 1000, NULL, NULL))
        return TRUE;
      if (s->in->len == 0)
        server_fill (s, NULL);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the client sent “%.*s” too early",
                   (int) s->in->len, s->in->data);
      return FALSE;
    }
  if (strcmp (step, "EOF") == 0)
    {
      g_autoptr(GError) local_error = NULL;

      while (server_fill (s, &local_error))
        ;
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CLOSED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      if (s->in->len > 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the client sent “%.*s” before closing",
                       (int) s->in->len, s->in->data);
          return FALSE;
        }
      return TRUE;
    }
  if (strcmp (step, "CLOSE") == 0)
    {
      g_socket_close (s->socket, NULL);
      return TRUE;
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "bad script step “%s”", step);
  return FALSE;
}

static gpointer
server_thread (gpointer user_data)
{
  Server *s = user_data;

  for (guint i = 0; s->steps[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;

      if (!server_step (s, s->steps[i], &error))
        {
          g_string_append_printf (s->errors, "step %u (%s): %s", i + 1, s->steps[i], error->message);
          g_socket_close (s->socket, NULL);
          break;
        }
    }

  return NULL;
}

static Server *
server_start (int                 fd,
              const char * const *script)
{
  Server *s = g_new0 (Server, 1);
  g_autoptr(GError) error = NULL;

  s->socket = g_socket_new_from_fd (fd, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (s->socket, TRUE);
  g_socket_set_timeout (s->socket, 10);
  s->steps = g_strdupv ((char **) script);
  s->in = g_byte_array_new ();
  s->received = g_string_new (NULL);
  s->errors = g_string_new (NULL);
  s->thread = g_thread_new ("script-server", server_thread, s);

  return s;
}

/* waits for the script to end; the test fails on what went wrong */
static void
server_finish (Server *s)
{
  g_thread_join (s->thread);
  if (s->errors->len > 0)
    g_error ("scripted server: %s", s->errors->str);

  g_socket_close (s->socket, NULL);
  g_object_unref (s->socket);
  g_strfreev (s->steps);
  g_byte_array_unref (s->in);
  g_string_free (s->received, TRUE);
  g_string_free (s->errors, TRUE);
  g_free (s);
}

typedef struct
{
  Server       *server;
  LbImapClient *client;
  GPtrArray    *trace;      /* "C: ..." and "S: ..." lines */
  GPtrArray    *untagged;   /* of LbImapResponse, from the signal */
  GPtrArray    *closed;     /* of GError copies (or NULL) */
  GPtrArray    *results;    /* async results: they hold the client */
} Fixture;

static void
trace_cb (LbImapClient *client,
          gboolean      sent,
          const char   *line,
          gpointer      user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->trace, g_strdup_printf ("%s %s", sent ? "C:" : "S:", line));
}

static void
untagged_cb (LbImapClient   *client,
             LbImapResponse *response,
             gpointer        user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->untagged, lb_imap_response_ref (response));
}

static void
closed_cb (LbImapClient *client,
           const GError *error,
           gpointer      user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->closed, error != NULL ? g_error_copy (error) : NULL);
}

static void
free_error (gpointer data)
{
  if (data != NULL)
    g_error_free (data);
}

static void
fixture_start (Fixture            *f,
               const char * const *script)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  int fds[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), ==, 0);
  socket = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  connection = g_socket_connection_factory_create_connection (socket);

  f->server = server_start (fds[1], script);
  f->client = lb_imap_client_new (G_IO_STREAM (connection));
  f->trace = g_ptr_array_new_with_free_func (g_free);
  f->untagged = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_imap_response_unref);
  f->closed = g_ptr_array_new_with_free_func (free_error);
  f->results = g_ptr_array_new_with_free_func (g_object_unref);
  lb_imap_client_set_trace_func (f->client, trace_cb, f, NULL);
  g_signal_connect (f->client, "untagged", G_CALLBACK (untagged_cb), f);
  g_signal_connect (f->client, "closed", G_CALLBACK (closed_cb), f);
}

static void
fixture_finish (Fixture *f)
{
  g_signal_handlers_disconnect_by_data (f->client, f);
  lb_imap_client_set_trace_func (f->client, NULL, NULL, NULL);
  g_ptr_array_unref (f->results);
  /* a write may still be completing: it holds the client */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (f->client);
  server_finish (f->server);
  g_ptr_array_unref (f->trace);
  g_ptr_array_unref (f->untagged);
  g_ptr_array_unref (f->closed);
}

static gboolean
trace_has (Fixture    *f,
           const char *line)
{
  for (guint i = 0; i < f->trace->len; i++)
    if (strcmp (f->trace->pdata[i], line) == 0)
      return TRUE;

  return FALSE;
}

/* waits for an async call; the fixture keeps the result until the end
 * (a result holds the client), *@slot stays set */
static void
wait_keep (Fixture       *f,
           GAsyncResult **slot)
{
  lb_test_wait (slot);
  g_ptr_array_add (f->results, *slot);
}

/* the same, and *@slot is free for the next call */
static GAsyncResult *
wait_result (Fixture       *f,
             GAsyncResult **slot)
{
  GAsyncResult *result;

  lb_test_wait (slot);
  result = g_steal_pointer (slot);
  g_ptr_array_add (f->results, result);

  return result;
}

static void
greet (Fixture *f)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  lb_imap_client_greet_async (f->client, NULL, lb_test_store_result, &result);
  g_assert_true (lb_imap_client_greet_finish (f->client, wait_result (f, &result), &error));
  g_assert_no_error (error);
}

static gboolean
noop (Fixture  *f,
      GError  **error)
{
  GAsyncResult *result = NULL;

  lb_imap_client_noop_async (f->client, NULL, lb_test_store_result, &result);

  return lb_imap_client_noop_finish (f->client, wait_result (f, &result), error);
}

static void
select_inbox (Fixture *f)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbImapMailboxInfo) info = NULL;

  lb_imap_client_select_async (f->client, "INBOX", FALSE, NULL, NULL, NULL, NULL,
                               lb_test_store_result, &result);
  info = lb_imap_client_select_finish (f->client, wait_result (f, &result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (info);
}

#define GREETING "S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR ID] ready"
#define GREETING_AUTHED "S: * PREAUTH [CAPABILITY IMAP4rev1 UIDPLUS IDLE] welcome"

static void
test_client_greeting (void)
{
  const char *script[] = {
    "S: * OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] Dovecot ready.",
    "C: A1 NOOP",
    "S: * 3 EXISTS",
    "S: A1 OK NOOP done",
    "EOF",
    NULL
  };
  Fixture f = { 0, };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) caps = NULL;

  fixture_start (&f, script);
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_NOT_AUTHENTICATED);
  greet (&f);

  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_NOT_AUTHENTICATED);
  g_assert_true (lb_imap_client_has_capability (f.client, "starttls"));
  g_assert_true (lb_imap_client_has_capability (f.client, "LOGINDISABLED"));
  g_assert_false (lb_imap_client_has_capability (f.client, "IDLE"));
  caps = lb_imap_client_dup_capabilities (f.client);
  g_assert_cmpuint (g_strv_length (caps), ==, 3);
  g_assert_cmpstr (caps[0], ==, "IMAP4REV1");

  /* an unsolicited response goes to the signal */
  g_assert_true (noop (&f, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f.untagged->len, ==, 1);
  g_assert_cmpint (((LbImapResponse *) f.untagged->pdata[0])->data, ==, LB_IMAP_DATA_EXISTS);
  g_assert_true (trace_has (&f, "C: A1 NOOP"));
  g_assert_true (trace_has (&f, "S: A1 OK NOOP done"));
  g_assert_cmpuint (f.closed->len, ==, 0);

  fixture_finish (&f);
}

static void
test_client_greeting_bye (void)
{
  const char *script[] = {
    "S: * BYE Too many connections from your IP",
    "EOF",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  fixture_start (&f, script);
  lb_imap_client_greet_async (f.client, NULL, lb_test_store_result, &result);
  wait_keep (&f, &result);
  g_assert_false (lb_imap_client_greet_finish (f.client, result, &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_BYE);
  g_assert_nonnull (strstr (error->message, "Too many connections"));
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_LOGOUT);
  g_assert_cmpuint (f.closed->len, ==, 1);
  g_clear_error (&error);

  /* nothing is sent on a closed connection */
  g_assert_false (noop (&f, &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_BYE);

  fixture_finish (&f);
}

static void
test_client_pipelining (void)
{
  /* the server answers only once it has both commands */
  const char *script[] = {
    GREETING_AUTHED,
    "C: A1 NOOP",
    "C: A2 STATUS \"INBOX\" (MESSAGES UNSEEN UIDNEXT UIDVALIDITY)",
    "S: * STATUS INBOX (MESSAGES 3 UNSEEN 1 UIDNEXT 9 UIDVALIDITY 77)",
    "S: A1 OK done",
    "S: A2 OK done",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *r1 = NULL;
  GAsyncResult *r2 = NULL;
  g_autoptr(GError) error = NULL;
  LbImapStatusData *status;

  fixture_start (&f, script);
  greet (&f);
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_AUTHENTICATED);

  lb_imap_client_noop_async (f.client, NULL, lb_test_store_result, &r1);
  lb_imap_client_status_async (f.client, "INBOX", NULL, lb_test_store_result, &r2);
  wait_keep (&f, &r1);
  wait_keep (&f, &r2);

  g_assert_true (lb_imap_client_noop_finish (f.client, r1, &error));
  g_assert_no_error (error);
  status = lb_imap_client_status_finish (f.client, r2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (status->messages, ==, 3);
  g_assert_cmpuint (status->uidvalidity, ==, 77);
  lb_imap_status_data_free (status);
  /* the STATUS response was the command's, not the signal's */
  g_assert_cmpuint (f.untagged->len, ==, 0);

  fixture_finish (&f);
}

static void
test_client_sync_literal (void)
{
  const char *script[] = {
    GREETING_AUTHED,
    "C: A1 APPEND \"Sent\" (\\Seen) \" 7-Feb-2024 10:20:30 +0000\" {5}",
    /* the client must wait for the continuation */
    "QUIET 300",
    "S: + go ahead",
    "B: hello\\r\\n",
    "S: A1 OK [APPENDUID 7 42] APPEND done",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = g_bytes_new_static ("hello", 5);
  const char * const flags[] = { "\\Seen", NULL };
  guint32 uidvalidity = 0;

  fixture_start (&f, script);
  greet (&f);

  lb_imap_client_append_async (f.client, "Sent", flags, 1707301230, message, NULL,
                               lb_test_store_result, &result);
  wait_keep (&f, &result);
  g_assert_cmpuint (lb_imap_client_append_finish (f.client, result, &uidvalidity, &error), ==, 42);
  g_assert_no_error (error);
  g_assert_cmpuint (uidvalidity, ==, 7);
  g_assert_true (trace_has (&f, "C: A1 APPEND \"Sent\" (\\Seen) \" 7-Feb-2024 10:20:30 +0000\" {5 bytes}"));

  fixture_finish (&f);
}

static void
test_client_literal_plus (void)
{
  const char *script[] = {
    "S: * PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] hi",
    "C: A1 APPEND \"INBOX\" {5+}",
    "B: hello\\r\\n",
    "C: A2 NOOP",
    "S: A1 OK [APPENDUID 7 43] APPEND done",
    "S: A2 OK done",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *r1 = NULL;
  GAsyncResult *r2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = g_bytes_new_static ("hello", 5);

  fixture_start (&f, script);
  greet (&f);

  lb_imap_client_append_async (f.client, "INBOX", NULL, 0, message, NULL, lb_test_store_result, &r1);
  lb_imap_client_noop_async (f.client, NULL, lb_test_store_result, &r2);
  wait_keep (&f, &r1);
  wait_keep (&f, &r2);
  g_assert_cmpuint (lb_imap_client_append_finish (f.client, r1, NULL, &error), ==, 43);
  g_assert_no_error (error);
  g_assert_true (lb_imap_client_noop_finish (f.client, r2, &error));

  fixture_finish (&f);
}

static void
test_client_literal_refused (void)
{
  const char *script[] = {
    GREETING_AUTHED,
    "C: A1 APPEND \"INBOX\" {5}",
    "S: A1 NO [OVERQUOTA] Mailbox is full",
    "C: A2 NOOP",
    "S: A2 OK done",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *r1 = NULL;
  GAsyncResult *r2 = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = g_bytes_new_static ("hello", 5);

  fixture_start (&f, script);
  greet (&f);

  /* the NOOP waits until the APPEND is over: its literal was never sent */
  lb_imap_client_append_async (f.client, "INBOX", NULL, 0, message, NULL, lb_test_store_result, &r1);
  lb_imap_client_noop_async (f.client, NULL, lb_test_store_result, &r2);
  wait_keep (&f, &r1);
  g_assert_cmpuint (lb_imap_client_append_finish (f.client, r1, NULL, &error), ==, 0);
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NO);
  g_assert_cmpstr (error->message, ==, "Could not save the message in “INBOX”: Mailbox is full");
  g_clear_error (&error);

  wait_keep (&f, &r2);
  g_assert_true (lb_imap_client_noop_finish (f.client, r2, &error));
  g_assert_no_error (error);

  fixture_finish (&f);
}

static void
test_client_no_bad (void)
{
  const char *script[] = {
    GREETING_AUTHED,
    "C: A1 SELECT \"Nope\"",
    "S: A1 NO [NONEXISTENT] Mailbox doesn't exist: Nope",
    "C: A2 CREATE \"Sent\"",
    "S: A2 NO [ALREADYEXISTS] Mailbox already exists",
    "C: A3 NOOP",
    "S: A3 BAD Error in IMAP command NOOP: Unknown",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  fixture_start (&f, script);
  greet (&f);

  lb_imap_client_select_async (f.client, "Nope", FALSE, NULL, NULL, NULL, NULL,
                               lb_test_store_result, &result);
  g_assert_null (lb_imap_client_select_finish (f.client, wait_result (&f, &result), &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NONEXISTENT);
  g_assert_cmpstr (error->message, ==, "Could not open the folder “Nope”: Mailbox doesn't exist: Nope");
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_AUTHENTICATED);
  g_assert_null (lb_imap_client_get_selected (f.client));
  g_clear_error (&error);
  g_clear_object (&result);

  lb_imap_client_mailbox_async (f.client, LB_IMAP_MAILBOX_CREATE, "Sent", NULL, NULL,
                                lb_test_store_result, &result);
  g_assert_false (lb_imap_client_mailbox_finish (f.client, wait_result (&f, &result), &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NO);
  g_assert_cmpstr (error->message, ==, "Could not create the folder “Sent”: Mailbox already exists");
  g_clear_error (&error);
  g_clear_object (&result);

  g_assert_false (noop (&f, &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_BAD);
  g_assert_nonnull (strstr (error->message, "Unknown"));

  fixture_finish (&f);
}

static void
test_client_state (void)
{
  const char *script[] = {
    GREETING,
    "EOF",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbImapCommand) criteria = lb_imap_command_new (NULL);

  fixture_start (&f, script);
  greet (&f);

  /* not logged in: refused without sending anything */
  lb_imap_command_add_atom (criteria, "ALL");
  lb_imap_client_uid_search_async (f.client, criteria, NULL, lb_test_store_result, &result);
  g_assert_null (lb_imap_client_uid_search_finish (f.client, wait_result (&f, &result), &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_STATE);
  g_clear_error (&error);
  g_clear_object (&result);

  lb_imap_client_list_async (f.client, NULL, FALSE, FALSE, NULL, lb_test_store_result, &result);
  g_assert_null (lb_imap_client_list_finish (f.client, wait_result (&f, &result), &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_STATE);
  g_assert_cmpuint (f.trace->len, ==, 1);   /* the greeting */

  lb_imap_client_close (f.client);
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_LOGOUT);
  g_assert_cmpuint (f.closed->len, ==, 1);

  fixture_finish (&f);
}

static void
test_client_bye (void)
{
  const char *script[] = {
    GREETING_AUTHED,
    "C: A1 NOOP",
    "C: A2 NOOP",
    "S: * BYE Server shutting down",
    "CLOSE",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *r1 = NULL;
  GAsyncResult *r2 = NULL;
  g_autoptr(GError) error = NULL;

  fixture_start (&f, script);
  greet (&f);

  lb_imap_client_noop_async (f.client, NULL, lb_test_store_result, &r1);
  lb_imap_client_noop_async (f.client, NULL, lb_test_store_result, &r2);
  wait_keep (&f, &r1);
  wait_keep (&f, &r2);

  g_assert_false (lb_imap_client_noop_finish (f.client, r1, &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_BYE);
  g_assert_cmpstr (error->message, ==, "The server closed the connection: Server shutting down");
  g_clear_error (&error);
  g_assert_false (lb_imap_client_noop_finish (f.client, r2, &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_BYE);
  g_clear_error (&error);

  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_LOGOUT);
  g_assert_cmpuint (f.closed->len, ==, 1);
  g_assert_error ((GError *) f.closed->pdata[0], LB_IMAP_ERROR, LB_IMAP_ERROR_BYE);
  /* BYE ends the session: no "untagged" for it */
  g_assert_cmpuint (f.untagged->len, ==, 0);

  g_assert_false (noop (&f, &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_BYE);

  fixture_finish (&f);
}

static void
test_client_dropped (void)
{
  const char *script[] = {
    GREETING_AUTHED,
    "C: A1 NOOP",
    "S: * 2 EXISTS",
    "CLOSE",
    NULL
  };
  Fixture f = { 0, };
  g_autoptr(GError) error = NULL;

  fixture_start (&f, script);
  greet (&f);

  g_assert_false (noop (&f, &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_BYE);
  g_assert_cmpstr (error->message, ==, "The server closed the connection");
  g_assert_cmpuint (f.closed->len, ==, 1);
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_LOGOUT);

  fixture_finish (&f);
}

static void
test_client_starttls_not_offered (void)
{
  /* capabilities unknown: the client asks, and sends nothing else */
  const char *script[] = {
    "S: * OK ready",
    "C: A1 CAPABILITY",
    "S: * CAPABILITY IMAP4rev1 AUTH=PLAIN",
    "S: A1 OK done",
    "EOF",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbConnector) connector = lb_connector_new ();

  fixture_start (&f, script);
  greet (&f);

  lb_imap_client_starttls_async (f.client, connector, "localhost", 143, NULL,
                                 lb_test_store_result, &result);
  g_assert_false (lb_imap_client_starttls_finish (f.client, wait_result (&f, &result), &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NO_STARTTLS);

  fixture_finish (&f);
}

static void
test_client_starttls_injection (void)
{
  /* a man in the middle appends a response to the server's OK */
  const char *script[] = {
    "S: * OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready",
    "C: A1 STARTTLS",
    "W: A1 OK Begin TLS negotiation now\\r\\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\\r\\n",
    /* no handshake, no plaintext: the client hangs up */
    "EOF",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbConnector) connector = lb_connector_new ();

  fixture_start (&f, script);
  greet (&f);

  lb_imap_client_starttls_async (f.client, connector, "localhost", 143, NULL,
                                 lb_test_store_result, &result);
  g_assert_false (lb_imap_client_starttls_finish (f.client, wait_result (&f, &result), &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL);
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_LOGOUT);
  g_assert_false (lb_imap_client_has_capability (f.client, "AUTH=PLAIN"));

  fixture_finish (&f);
}

static void
test_client_starttls_preauth (void)
{
  /* logged in in plaintext although the connection was to be secured */
  const char *script[] = {
    "S: * PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome",
    "EOF",
    NULL
  };
  const char *early_script[] = {
    "S: * PREAUTH welcome",
    "C: A1 CAPABILITY",
    "S: * CAPABILITY IMAP4rev1 STARTTLS",
    "S: A1 OK done",
    "EOF",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  GAsyncResult *greeted = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbConnector) connector = lb_connector_new ();

  fixture_start (&f, script);
  greet (&f);
  lb_imap_client_starttls_async (f.client, connector, "localhost", 143, NULL,
                                 lb_test_store_result, &result);
  g_assert_false (lb_imap_client_starttls_finish (f.client, wait_result (&f, &result), &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NO_STARTTLS);
  g_assert_cmpstr (error->message, ==,
                   "The server logged in before the connection was secured, "
                   "so the connection was closed to protect it");
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_LOGOUT);
  g_assert_cmpuint (f.closed->len, ==, 1);
  g_assert_error ((GError *) f.closed->pdata[0], LB_IMAP_ERROR, LB_IMAP_ERROR_NO_STARTTLS);
  fixture_finish (&f);
  g_clear_error (&error);

  /* STARTTLS asked for before the greeting came */
  memset (&f, 0, sizeof f);
  fixture_start (&f, early_script);
  lb_imap_client_greet_async (f.client, NULL, lb_test_store_result, &greeted);
  lb_imap_client_starttls_async (f.client, connector, "localhost", 143, NULL,
                                 lb_test_store_result, &result);
  g_assert_false (lb_imap_client_starttls_finish (f.client, wait_result (&f, &result), &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NO_STARTTLS);
  g_assert_nonnull (strstr (error->message, "logged in before the connection was secured"));
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_LOGOUT);
  wait_keep (&f, &greeted);
  g_assert_false (trace_has (&f, "C: A2 STARTTLS"));
  fixture_finish (&f);
}

static void
test_client_starttls_refused (void)
{
  const char *script[] = {
    "S: * OK [CAPABILITY IMAP4rev1 STARTTLS] ready",
    "C: A1 STARTTLS",
    "S: A1 NO TLS is not configured",
    "EOF",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbConnector) connector = lb_connector_new ();

  fixture_start (&f, script);
  greet (&f);

  lb_imap_client_starttls_async (f.client, connector, "localhost", 143, NULL,
                                 lb_test_store_result, &result);
  g_assert_false (lb_imap_client_starttls_finish (f.client, wait_result (&f, &result), &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NO);
  g_assert_nonnull (strstr (error->message, "TLS is not configured"));
  /* never on in plaintext */
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_LOGOUT);

  fixture_finish (&f);
}

static void
test_client_login (void)
{
  const char *script[] = {
    GREETING,
    /* "\0alice\0wrong" */
    "C: A1 AUTHENTICATE PLAIN AGFsaWNlAHdyb25n",
    "S: A1 NO [AUTHENTICATIONFAILED] Authentication failed.",
    "C: A2 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==",
    "S: A2 OK Logged in",
    /* no capabilities in the OK: asked again */
    "C: A3 CAPABILITY",
    "S: * CAPABILITY IMAP4rev1 IDLE MOVE",
    "S: A3 OK done",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  fixture_start (&f, script);
  greet (&f);

  lb_imap_client_login_async (f.client, "alice", "wrong", NULL, lb_test_store_result, &result);
  g_assert_false (lb_imap_client_login_finish (f.client, wait_result (&f, &result), &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_AUTHENTICATION);
  g_assert_cmpstr (error->message, ==, "The server refused the user name or password: Authentication failed.");
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_NOT_AUTHENTICATED);
  g_clear_error (&error);
  g_clear_object (&result);

  lb_imap_client_login_async (f.client, "alice", "secret", NULL, lb_test_store_result, &result);
  g_assert_true (lb_imap_client_login_finish (f.client, wait_result (&f, &result), &error));
  g_assert_no_error (error);
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_AUTHENTICATED);
  g_assert_true (lb_imap_client_has_capability (f.client, "MOVE"));
  g_assert_false (lb_imap_client_has_capability (f.client, "SASL-IR"));

  /* the log never sees the credentials */
  g_assert_true (trace_has (&f, "C: A2 AUTHENTICATE PLAIN ***"));
  for (guint i = 0; i < f.trace->len; i++)
    {
      g_assert_null (strstr (f.trace->pdata[i], "AGFsaWNl"));
      g_assert_null (strstr (f.trace->pdata[i], "secret"));
    }

  fixture_finish (&f);
}

static void
test_client_login_fallbacks (void)
{
  const char *script[] = {
    /* AUTH=PLAIN without SASL-IR: the response after "+" */
    "S: * OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready",
    "C: A1 AUTHENTICATE PLAIN",
    "S: + ",
    "C: AGFsaWNlAHNlY3JldA==",
    "S: A1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in",
    "C: A2 NOOP",
    "S: A2 OK done",
    NULL
  };
  const char *login_script[] = {
    "S: * OK [CAPABILITY IMAP4rev1] ready",
    "C: A1 LOGIN \"al\\\"ice\" {5}",
    "S: + ok",
    "B: pä\\\"s\\r\\n",
    "S: A1 OK [CAPABILITY IMAP4rev1] Logged in",
    NULL
  };
  const char *disabled_script[] = {
    "S: * OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready",
    "EOF",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  fixture_start (&f, script);
  greet (&f);
  lb_imap_client_login_async (f.client, "alice", "secret", NULL, lb_test_store_result, &result);
  g_assert_true (lb_imap_client_login_finish (f.client, wait_result (&f, &result), &error));
  g_assert_no_error (error);
  g_assert_true (lb_imap_client_has_capability (f.client, "IDLE"));
  g_assert_true (trace_has (&f, "C: ***"));
  g_assert_true (noop (&f, &error));
  fixture_finish (&f);
  g_clear_object (&result);

  memset (&f, 0, sizeof f);
  fixture_start (&f, login_script);
  greet (&f);
  lb_imap_client_login_async (f.client, "al\"ice", "pä\"s", NULL, lb_test_store_result, &result);
  g_assert_true (lb_imap_client_login_finish (f.client, wait_result (&f, &result), &error));
  g_assert_no_error (error);
  g_assert_true (trace_has (&f, "C: A1 LOGIN *** ***"));
  fixture_finish (&f);
  g_clear_object (&result);

  memset (&f, 0, sizeof f);
  fixture_start (&f, disabled_script);
  greet (&f);
  lb_imap_client_login_async (f.client, "alice", "secret", NULL, lb_test_store_result, &result);
  g_assert_false (lb_imap_client_login_finish (f.client, wait_result (&f, &result), &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NOT_SUPPORTED);
  fixture_finish (&f);
}

static void
test_client_xoauth2 (void)
{
  const char *script[] = {
    "S: * OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR] ready",
    "C* A1 AUTHENTICATE XOAUTH2 dXNlcj1hbGljZQFhdXRoPUJlYXJlciB0b2tlbgEB",
    "S: + eyJzdGF0dXMiOiI0MDEifQ==",
    /* an empty line answers the error challenge */
    "C: ",
    "S: A1 NO [AUTHENTICATIONFAILED] Invalid credentials",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  fixture_start (&f, script);
  greet (&f);
  lb_imap_client_xoauth2_async (f.client, "alice", "token", NULL, lb_test_store_result, &result);
  g_assert_false (lb_imap_client_xoauth2_finish (f.client, wait_result (&f, &result), &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_AUTHENTICATION);
  g_assert_nonnull (strstr (error->message, "Invalid credentials"));
  g_assert_true (trace_has (&f, "C: A1 AUTHENTICATE XOAUTH2 ***"));

  fixture_finish (&f);
}

typedef struct
{
  GPtrArray *responses;
} Collector;

static gboolean
collect_cb (LbImapClient   *client,
            LbImapResponse *response,
            gpointer        user_data)
{
  GPtrArray *responses = user_data;

  g_ptr_array_add (responses, lb_imap_response_ref (response));

  return TRUE;
}

static void
test_client_cancel (void)
{
  const char *script[] = {
    GREETING_AUTHED,
    "C: A1 SELECT \"INBOX\"",
    "S: * 3 EXISTS",
    "S: A1 OK [READ-WRITE] done",
    "C: A2 UID FETCH 1:* (FLAGS)",
    /* the answer comes after the caller gave up */
    "SLEEP 300",
    "S: * 1 FETCH (UID 1 FLAGS (\\Seen))",
    "S: A2 OK done",
    "C: A3 NOOP",
    "S: A3 OK done",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  GAsyncResult *queued = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) queued_cancellable = g_cancellable_new ();
  g_autoptr(GPtrArray) fetched = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_imap_response_unref);
  gint64 start;

  fixture_start (&f, script);
  greet (&f);
  select_inbox (&f);

  lb_imap_client_uid_fetch_async (f.client, "1:*", "(FLAGS)", 0, FALSE, collect_cb, fetched, NULL,
                                  cancellable, lb_test_store_result, &result);
  /* an IDLE queued behind it and cancelled is never sent */
  lb_imap_client_idle_async (f.client, NULL, NULL, queued_cancellable, lb_test_store_result, &queued);
  g_cancellable_cancel (queued_cancellable);
  wait_keep (&f, &queued);
  g_assert_false (lb_imap_client_idle_finish (f.client, queued, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* let the command go out, then cancel it */
  while (!trace_has (&f, "C: A2 UID FETCH 1:* (FLAGS)"))
    g_main_context_iteration (NULL, TRUE);
  start = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  wait_keep (&f, &result);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 250 * 1000);
  g_assert_false (lb_imap_client_uid_fetch_finish (f.client, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* the session goes on; the late FETCH went nowhere */
  g_assert_true (noop (&f, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fetched->len, ==, 0);
  g_assert_cmpuint (f.untagged->len, ==, 0);
  g_assert_true (trace_has (&f, "S: A2 OK done"));

  fixture_finish (&f);
}

static void
test_client_select_queued_cancel (void)
{
  /* SELECT "B" is queued behind SELECT "A", then given up: "A" must still
   * end up selected */
  const char *script[] = {
    GREETING_AUTHED,
    "C: A1 SELECT \"A\"",
    "SLEEP 300",
    "S: * 5 EXISTS",
    "S: * OK [UIDVALIDITY 42] ok",
    "S: A1 OK [READ-WRITE] done",
    "C: A2 NOOP",
    "S: A2 OK done",
    "EOF",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result_a = NULL;
  GAsyncResult *result_b = NULL;
  GAsyncResult *result_c = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(LbImapMailboxInfo) info = NULL;
  const LbImapMailboxInfo *selected;

  fixture_start (&f, script);
  greet (&f);

  lb_imap_client_select_async (f.client, "A", FALSE, NULL, NULL, NULL, NULL,
                               lb_test_store_result, &result_a);
  lb_imap_client_select_async (f.client, "B", FALSE, NULL, NULL, NULL, cancellable,
                               lb_test_store_result, &result_b);
  while (!trace_has (&f, "C: A1 SELECT \"A\""))
    g_main_context_iteration (NULL, TRUE);

  /* cancelled while queued */
  g_cancellable_cancel (cancellable);
  wait_keep (&f, &result_b);
  g_assert_null (lb_imap_client_select_finish (f.client, result_b, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* cancelled before it was even queued */
  g_cancellable_cancel (cancelled);
  lb_imap_client_select_async (f.client, "C", TRUE, NULL, NULL, NULL, cancelled,
                               lb_test_store_result, &result_c);
  wait_keep (&f, &result_c);
  g_assert_null (lb_imap_client_select_finish (f.client, result_c, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  wait_keep (&f, &result_a);
  info = lb_imap_client_select_finish (f.client, result_a, &error);
  g_assert_no_error (error);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->mailbox, ==, "A");
  g_assert_cmpuint (info->exists, ==, 5);
  g_assert_cmpuint (info->uidvalidity, ==, 42);
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_SELECTED);
  selected = lb_imap_client_get_selected (f.client);
  g_assert_nonnull (selected);
  g_assert_cmpstr (selected->mailbox, ==, "A");

  /* neither "B" nor "C" went out */
  g_assert_true (noop (&f, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_SELECTED);
  lb_imap_client_close (f.client);

  fixture_finish (&f);
}

static GArray *
search_all (Fixture  *f,
            GError  **error)
{
  g_autoptr(LbImapCommand) criteria = lb_imap_command_new (NULL);
  GAsyncResult *result = NULL;

  lb_imap_command_add_atom (criteria, "ALL");
  lb_imap_client_uid_search_async (f->client, criteria, NULL, lb_test_store_result, &result);

  return lb_imap_client_uid_search_finish (f->client, wait_result (f, &result), error);
}

static void
test_client_search_limits (void)
{
  const char *script[] = {
    GREETING_AUTHED,
    "C: A1 SELECT \"INBOX\"",
    "S: A1 OK [READ-WRITE] done",
    /* plain SEARCH lines add up */
    "C: A2 UID SEARCH ALL",
    "S: * SEARCH 1 2 3 4 5 6",
    "S: * SEARCH 7 8 9 10 11",
    "S: * SEARCH 12",
    "S: A2 OK done",
    /* so do ESEARCH results */
    "C: A3 UID SEARCH ALL",
    "S: * ESEARCH (TAG \"A3\") UID ALL 1:4",
    "S: * ESEARCH (TAG \"A3\") UID ALL 5:12",
    "S: A3 OK done",
    /* one range too large for the limit alone */
    "C: A4 UID SEARCH ALL",
    "S: * ESEARCH (TAG \"A4\") UID ALL 1:4294967295",
    "S: A4 OK done",
    /* up to the limit is fine, and the session goes on */
    "C: A5 UID SEARCH ALL",
    "S: * ESEARCH (TAG \"A5\") UID ALL 3:6,1",
    "S: * SEARCH 8 9 10 11 12 20",
    "S: A5 OK done",
    "EOF",
    NULL
  };
  Fixture f = { 0, };
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) uids = NULL;

  fixture_start (&f, script);
  greet (&f);
  select_inbox (&f);
  lb_imap_client_set_max_search_results (f.client, 11);

  /* never a partial result: a sync would take the rest for deleted */
  uids = search_all (&f, &error);
  g_assert_null (uids);
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "Could not search the folder: the server named more than 11 messages");
  g_clear_error (&error);

  uids = search_all (&f, &error);
  g_assert_null (uids);
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL);
  g_clear_error (&error);

  uids = search_all (&f, &error);
  g_assert_null (uids);
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL);
  g_clear_error (&error);

  uids = search_all (&f, &error);
  g_assert_no_error (error);
  g_assert_nonnull (uids);
  g_assert_cmpuint (uids->len, ==, 11);
  g_assert_cmpuint (g_array_index (uids, guint32, 0), ==, 1);
  g_assert_cmpuint (g_array_index (uids, guint32, 1), ==, 3);
  g_assert_cmpuint (g_array_index (uids, guint32, 10), ==, 20);
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_SELECTED);
  lb_imap_client_close (f.client);

  fixture_finish (&f);
}

static void
test_client_raw_mailbox (void)
{
  /* names that are not modified UTF-7 are sent back as the server listed
   * them, not encoded again */
  const char *script[] = {
    "S: * PREAUTH [CAPABILITY IMAP4rev1 LITERAL+] hi",
    "C: A1 LIST \"\" \"*\"",
    "S: * LIST () \"/\" \"Tom & Jerry\"",
    "S: * LIST () \"/\" \"Entw&APw-rfe\"",
    "S: * LIST () \"/\" \"Caf\xc3\xa9\"",
    "S: * LIST () \"/\" \"Tom &- Jerry &AOk-\"",
    "S: * LIST () \"/\" inbox",
    "S: A1 OK done",
    "C: A2 SELECT \"Tom & Jerry\"",
    "S: A2 OK [READ-WRITE] done",
    "C: A3 SELECT \"Entw&APw-rfe\"",
    "S: A3 OK [READ-WRITE] done",
    "C: A4 SELECT {5+}",
    "B: Caf\xc3\xa9\r\n",
    "S: A4 OK [READ-WRITE] done",
    "C: A5 SELECT \"Tom &- Jerry &AOk-\"",
    "S: A5 OK [READ-WRITE] done",
    "C: A6 SELECT \"INBOX\"",
    "S: A6 OK [READ-WRITE] done",
    "EOF",
    NULL
  };
  const char * const names[] = { "Tom & Jerry", "Entwürfe", "Café", "Tom & Jerry é", "INBOX" };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbImapCommand) list = lb_imap_command_new ("LIST");
  g_autoptr(LbImapResponse) done = NULL;

  fixture_start (&f, script);
  greet (&f);

  lb_imap_command_add_string (list, "");
  lb_imap_command_add_string (list, "*");
  lb_imap_client_run_async (f.client, list, NULL, lb_test_store_result, &result);
  done = lb_imap_client_run_finish (f.client, wait_result (&f, &result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (done);
  g_assert_cmpuint (f.untagged->len, ==, 5);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_cmpstr (((LbImapResponse *) f.untagged->pdata[i])->list->mailbox, ==, names[i]);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr(LbImapMailboxInfo) info = NULL;

      lb_imap_client_select_async (f.client, names[i], FALSE, NULL, NULL, NULL, NULL,
                                   lb_test_store_result, &result);
      info = lb_imap_client_select_finish (f.client, wait_result (&f, &result), &error);
      g_assert_no_error (error);
      g_assert_nonnull (info);
      g_assert_cmpstr (info->mailbox, ==, names[i]);
    }
  lb_imap_client_close (f.client);

  fixture_finish (&f);
}

static void
test_client_untagged (void)
{
  const char *script[] = {
    "S: * PREAUTH [CAPABILITY IMAP4rev1 CONDSTORE QRESYNC ENABLE ESEARCH] hi",
    "C: A1 ENABLE QRESYNC",
    "S: * ENABLED QRESYNC",
    "S: A1 OK Enabled",
    "C: A2 SELECT \"INBOX\" (QRESYNC (67890007 20050715194045000 41,43:211,214:541))",
    "S: * 314 EXISTS",
    "S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Junk)",
    "S: * OK [PERMANENTFLAGS (\\Seen \\Deleted \\*)] Limited",
    "S: * OK [UIDVALIDITY 67890007] UIDs valid",
    "S: * OK [UIDNEXT 567] Predicted next UID",
    "S: * OK [HIGHESTMODSEQ 20060128194045000] Highest",
    "S: * VANISHED (EARLIER) 41,43:116",
    "S: * 49 FETCH (UID 117 FLAGS (\\Seen) MODSEQ (20050715194045001))",
    "S: A2 OK [READ-WRITE] mailbox selected",
    "C: A3 UID SEARCH RETURN (ALL) UNSEEN",
    "C: A4 NOOP",
    "S: * ESEARCH (TAG \"A3\") UID ALL 4,10:12",
    "S: A3 OK done",
    "S: * 2 EXPUNGE",
    "S: * VANISHED 300:302",
    "S: * OK [HIGHESTMODSEQ 20060128194045007] changed",
    "S: * 5 FETCH (UID 20 FLAGS ())",
    "S: A4 OK done",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) resync = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_imap_response_unref);
  const char * const extensions[] = { "QRESYNC", "UTF8=ACCEPT", NULL };
  const LbImapQresync qresync = { 67890007, G_GUINT64_CONSTANT (20050715194045000), "41,43:211,214:541" };
  g_auto(GStrv) enabled = NULL;
  g_autoptr(LbImapMailboxInfo) info = NULL;
  g_autoptr(LbImapCommand) criteria = lb_imap_command_new (NULL);
  g_autoptr(GArray) uids = NULL;
  GAsyncResult *search = NULL;
  const LbImapMailboxInfo *now;

  fixture_start (&f, script);
  greet (&f);

  lb_imap_client_enable_async (f.client, extensions, NULL, lb_test_store_result, &result);
  enabled = lb_imap_client_enable_finish (f.client, wait_result (&f, &result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (enabled), ==, 1);
  g_assert_cmpstr (enabled[0], ==, "QRESYNC");
  g_assert_true (lb_imap_client_is_enabled (f.client, "QRESYNC"));
  g_assert_true (lb_imap_client_is_enabled (f.client, "CONDSTORE"));
  g_clear_object (&result);

  lb_imap_client_select_async (f.client, "INBOX", FALSE, &qresync, collect_cb, resync, NULL,
                               lb_test_store_result, &result);
  info = lb_imap_client_select_finish (f.client, wait_result (&f, &result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->exists, ==, 314);
  g_assert_cmpuint (info->uidvalidity, ==, 67890007);
  g_assert_cmpuint (info->uidnext, ==, 567);
  g_assert_cmpuint (info->highestmodseq, ==, G_GUINT64_CONSTANT (20060128194045000));
  g_assert_false (info->read_only);
  g_assert_cmpuint (g_strv_length (info->flags), ==, 6);
  g_assert_cmpuint (g_strv_length (info->permanent_flags), ==, 3);
  g_assert_cmpuint (resync->len, ==, 2);
  g_assert_cmpint (((LbImapResponse *) resync->pdata[0])->data, ==, LB_IMAP_DATA_VANISHED);
  g_assert_cmpint (((LbImapResponse *) resync->pdata[1])->data, ==, LB_IMAP_DATA_FETCH);
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_SELECTED);

  /* ESEARCH, pipelined with a NOOP that brings news */
  lb_imap_command_add_atom (criteria, "UNSEEN");
  lb_imap_client_uid_search_async (f.client, criteria, NULL, lb_test_store_result, &search);
  g_assert_true (noop (&f, &error));
  uids = lb_imap_client_uid_search_finish (f.client, wait_result (&f, &search), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uids->len, ==, 4);
  g_assert_cmpuint (g_array_index (uids, guint32, 0), ==, 4);
  g_assert_cmpuint (g_array_index (uids, guint32, 3), ==, 12);

  now = lb_imap_client_get_selected (f.client);
  g_assert_cmpuint (now->exists, ==, 314 - 1 - 3);
  g_assert_cmpuint (now->highestmodseq, ==, G_GUINT64_CONSTANT (20060128194045007));
  /* EXPUNGE, VANISHED, the OK and the FETCH nobody claimed */
  g_assert_cmpuint (f.untagged->len, ==, 4);
  g_assert_cmpint (((LbImapResponse *) f.untagged->pdata[3])->data, ==, LB_IMAP_DATA_FETCH);

  fixture_finish (&f);
}

static gboolean
idle_cb (LbImapClient   *client,
         LbImapResponse *response,
         gpointer        user_data)
{
  GPtrArray *responses = user_data;

  g_ptr_array_add (responses, lb_imap_response_ref (response));
  /* done at the first news */
  lb_imap_client_idle_done (client);

  return TRUE;
}

static void
test_client_idle (void)
{
  const char *script[] = {
    GREETING_AUTHED,
    "C: A1 IDLE",
    "S: + idling",
    /* longer than the timeout: it does not apply while idling */
    "SLEEP 1500",
    "S: * 4 EXISTS",
    "C: DONE",
    "S: A1 OK Idle completed",
    "C: A2 IDLE",
    "S: + idling",
    "C: DONE",
    "S: A2 OK Idle completed",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) news = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_imap_response_unref);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();

  fixture_start (&f, script);
  greet (&f);

  /* no read timeout while idling */
  lb_imap_client_set_timeout (f.client, 1);

  lb_imap_client_idle_async (f.client, idle_cb, news, NULL, lb_test_store_result, &result);
  g_assert_true (lb_imap_client_idle_finish (f.client, wait_result (&f, &result), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (news->len, ==, 1);
  g_assert_cmpint (((LbImapResponse *) news->pdata[0])->data, ==, LB_IMAP_DATA_EXISTS);

  /* cancelling ends IDLE with DONE too */
  lb_imap_client_idle_async (f.client, idle_cb, news, cancellable, lb_test_store_result, &result);
  while (!trace_has (&f, "S: + idling") || f.trace->len < 8)
    g_main_context_iteration (NULL, TRUE);
  g_cancellable_cancel (cancellable);
  g_assert_false (lb_imap_client_idle_finish (f.client, wait_result (&f, &result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  while (!trace_has (&f, "S: A2 OK Idle completed"))
    g_main_context_iteration (NULL, TRUE);

  fixture_finish (&f);
}

static void
test_client_idle_renew (void)
{
  const char *script[] = {
    GREETING_AUTHED,
    "C: A1 IDLE",
    "S: + idling",
    /* renewed after a second, before the server's limit */
    "C: DONE",
    "S: A1 OK Idle completed",
    "C: A2 IDLE",
    "S: + idling",
    "S: * 7 EXISTS",
    "C: DONE",
    "S: A2 OK Idle completed",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) news = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_imap_response_unref);
  gint64 start;

  fixture_start (&f, script);
  greet (&f);
  lb_imap_client_set_idle_renew_interval (f.client, 1);

  start = g_get_monotonic_time ();
  lb_imap_client_idle_async (f.client, idle_cb, news, NULL, lb_test_store_result, &result);
  g_assert_true (lb_imap_client_idle_finish (f.client, wait_result (&f, &result), &error));
  g_assert_no_error (error);
  /* a timeout in seconds may fire up to a quarter second early */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 750 * 1000);
  /* one task over both IDLEs; the news came in the second */
  g_assert_cmpuint (news->len, ==, 1);
  g_assert_cmpuint (((LbImapResponse *) news->pdata[0])->number, ==, 7);

  fixture_finish (&f);
}

static void
test_client_idle_renew_dead (void)
{
  /* the link died while idling: the renewal's DONE gets no answer */
  const char *script[] = {
    GREETING_AUTHED,
    "C: A1 IDLE",
    "S: + idling",
    "C: DONE",
    "SLEEP 3000",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  fixture_start (&f, script);
  greet (&f);
  lb_imap_client_set_timeout (f.client, 1);
  lb_imap_client_set_idle_renew_interval (f.client, 1);

  start = g_get_monotonic_time ();
  lb_imap_client_idle_async (f.client, NULL, NULL, NULL, lb_test_store_result, &result);
  g_assert_false (lb_imap_client_idle_finish (f.client, wait_result (&f, &result), &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_BYE);
  /* renewed after a second (a timeout in seconds may fire up to a quarter
   * second early), declared dead a second later */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 1700 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2900 * 1000);
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_LOGOUT);
  g_assert_cmpuint (f.closed->len, ==, 1);

  fixture_finish (&f);
}

static void
test_client_keepalive (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GSocketClient) connector = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSocketConnection) accepted = NULL;
  g_autoptr(LbImapClient) client = NULL;
  g_autoptr(GError) error = NULL;
  GSocket *socket;

  g_assert_true (g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, &effective, &error));
  g_assert_no_error (error);
  connection = g_socket_client_connect (connector, G_SOCKET_CONNECTABLE (effective), NULL, &error);
  g_assert_no_error (error);
  accepted = g_socket_listener_accept (listener, NULL, NULL, &error);
  g_assert_no_error (error);

  socket = g_socket_connection_get_socket (connection);
  g_assert_false (g_socket_get_keepalive (socket));

  /* on TCP, a dead link is noticed while nothing is waited for too */
  client = lb_imap_client_new (G_IO_STREAM (connection));
  g_assert_true (g_socket_get_keepalive (socket));
  g_assert_cmpuint (g_socket_get_timeout (socket), ==, 0);
  lb_imap_client_close (client);
}

static void
test_client_move_fallback (void)
{
  const char *script[] = {
    "S: * PREAUTH [CAPABILITY IMAP4rev1 UIDPLUS] hi",
    "C: A1 SELECT \"INBOX\"",
    "S: A1 OK [READ-WRITE] done",
    "C: A2 UID COPY 1:3 \"Trash\"",
    /* nothing more until the copy is known to be done */
    "QUIET 200",
    "S: A2 OK [COPYUID 9 1:3 10:12] Copied",
    "C: A3 UID STORE 1:3 +FLAGS.SILENT (\\Deleted)",
    "C: A4 UID EXPUNGE 1:3",
    "S: A3 OK done",
    "S: * 1 EXPUNGE",
    "S: * 1 EXPUNGE",
    "S: * 1 EXPUNGE",
    "S: A4 OK done",
    NULL
  };
  const char *no_uidplus_script[] = {
    "S: * PREAUTH [CAPABILITY IMAP4rev1] hi",
    "C: A1 SELECT \"INBOX\"",
    "S: A1 OK [READ-WRITE] done",
    "EOF",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) source = NULL;
  g_autoptr(GArray) target = NULL;
  guint32 uidvalidity = 0;

  fixture_start (&f, script);
  greet (&f);
  select_inbox (&f);

  lb_imap_client_uid_copy_async (f.client, "1:3", "Trash", TRUE, NULL, lb_test_store_result, &result);
  g_assert_true (lb_imap_client_uid_copy_finish (f.client, wait_result (&f, &result), &uidvalidity,
                                                 &source, &target, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (uidvalidity, ==, 9);
  g_assert_cmpuint (source->len, ==, 1);
  g_assert_cmpuint (g_array_index (target, LbImapRange, 0).first, ==, 10);
  g_assert_cmpuint (g_array_index (target, LbImapRange, 0).last, ==, 12);
  g_assert_cmpuint (f.untagged->len, ==, 3);
  fixture_finish (&f);

  /* without UIDPLUS an EXPUNGE could take other messages along: refused */
  memset (&f, 0, sizeof f);
  fixture_start (&f, no_uidplus_script);
  greet (&f);
  select_inbox (&f);
  lb_imap_client_uid_copy_async (f.client, "1:3", "Trash", TRUE, NULL, lb_test_store_result, &result);
  g_assert_false (lb_imap_client_uid_copy_finish (f.client, wait_result (&f, &result), NULL, NULL, NULL, &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NOT_SUPPORTED);
  fixture_finish (&f);
}

static void
test_client_timeout (void)
{
  const char *script[] = {
    GREETING_AUTHED,
    "C: A1 NOOP",
    "SLEEP 2000",
    NULL
  };
  Fixture f = { 0, };
  g_autoptr(GError) error = NULL;
  gint64 start;

  fixture_start (&f, script);
  greet (&f);
  lb_imap_client_set_timeout (f.client, 1);

  start = g_get_monotonic_time ();
  g_assert_false (noop (&f, &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_BYE);
  g_assert_cmpstr (error->message, ==, "The server did not answer for 1 second; the connection was closed");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 900 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 1900 * 1000);
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_LOGOUT);

  fixture_finish (&f);
}

static gboolean
claim_search (LbImapResponse *response,
              gpointer        user_data)
{
  guint *count = user_data;

  if (response->data != LB_IMAP_DATA_SEARCH)
    return FALSE;
  (*count)++;

  return TRUE;
}

static void
test_client_run_and_logout (void)
{
  const char *script[] = {
    GREETING_AUTHED,
    "C: A1 SEARCH UNSEEN",
    "S: * SEARCH 2 3",
    "S: A1 OK done",
    "C: A2 LOGOUT",
    "S: * BYE Logging out",
    "S: A2 OK Logout completed.",
    "EOF",
    NULL
  };
  Fixture f = { 0, };
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbImapCommand) command = lb_imap_command_new ("SEARCH");
  g_autoptr(LbImapResponse) response = NULL;
  guint count = 0;

  fixture_start (&f, script);
  greet (&f);

  lb_imap_command_add_atom (command, "UNSEEN");
  lb_imap_command_set_untagged_func (command, claim_search, &count, NULL);
  lb_imap_client_run_async (f.client, command, NULL, lb_test_store_result, &result);
  response = lb_imap_client_run_finish (f.client, wait_result (&f, &result), &error);
  g_assert_no_error (error);
  g_assert_cmpint (response->status, ==, LB_IMAP_STATUS_OK);
  g_assert_cmpuint (count, ==, 1);

  lb_imap_client_logout_async (f.client, NULL, lb_test_store_result, &result);
  g_assert_true (lb_imap_client_logout_finish (f.client, wait_result (&f, &result), &error));
  g_assert_no_error (error);
  g_assert_cmpint (lb_imap_client_get_state (f.client), ==, LB_IMAP_STATE_LOGOUT);
  g_assert_cmpuint (f.closed->len, ==, 1);
  g_assert_null (f.closed->pdata[0]);

  fixture_finish (&f);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/imap/command/spacing", test_command_spacing);
  g_test_add_func ("/imap/command/quoting", test_command_quoting);
  g_test_add_func ("/imap/command/literals", test_command_literals);
  g_test_add_func ("/imap/command/mailbox", test_command_mailbox);
  g_test_add_func ("/imap/command/raw-mailbox", test_command_raw_mailbox);
  g_test_add_func ("/imap/command/redaction", test_command_redaction);
  g_test_add_func ("/imap/command/fragment", test_command_fragment);
  g_test_add_func ("/imap/command/bad-flag", test_command_bad_flag);
  g_test_add_func ("/imap/command/deflater", test_deflater);
  g_test_add_func ("/imap/client/greeting", test_client_greeting);
  g_test_add_func ("/imap/client/greeting-bye", test_client_greeting_bye);
  g_test_add_func ("/imap/client/pipelining", test_client_pipelining);
  g_test_add_func ("/imap/client/sync-literal", test_client_sync_literal);
  g_test_add_func ("/imap/client/literal-plus", test_client_literal_plus);
  g_test_add_func ("/imap/client/literal-refused", test_client_literal_refused);
  g_test_add_func ("/imap/client/no-bad", test_client_no_bad);
  g_test_add_func ("/imap/client/state", test_client_state);
  g_test_add_func ("/imap/client/bye", test_client_bye);
  g_test_add_func ("/imap/client/dropped", test_client_dropped);
  g_test_add_func ("/imap/client/starttls-not-offered", test_client_starttls_not_offered);
  g_test_add_func ("/imap/client/starttls-injection", test_client_starttls_injection);
  g_test_add_func ("/imap/client/starttls-refused", test_client_starttls_refused);
  g_test_add_func ("/imap/client/starttls-preauth", test_client_starttls_preauth);
  g_test_add_func ("/imap/client/login", test_client_login);
  g_test_add_func ("/imap/client/login-fallbacks", test_client_login_fallbacks);
  g_test_add_func ("/imap/client/xoauth2", test_client_xoauth2);
  g_test_add_func ("/imap/client/cancel", test_client_cancel);
  g_test_add_func ("/imap/client/raw-mailbox", test_client_raw_mailbox);
  g_test_add_func ("/imap/client/search-limits", test_client_search_limits);
  g_test_add_func ("/imap/client/select-queued-cancel", test_client_select_queued_cancel);
  g_test_add_func ("/imap/client/untagged", test_client_untagged);
  g_test_add_func ("/imap/client/idle", test_client_idle);
  g_test_add_func ("/imap/client/idle-renew", test_client_idle_renew);
  g_test_add_func ("/imap/client/idle-renew-dead", test_client_idle_renew_dead);
  g_test_add_func ("/imap/client/keepalive", test_client_keepalive);
  g_test_add_func ("/imap/client/move-fallback", test_client_move_fallback);
  g_test_add_func ("/imap/client/timeout", test_client_timeout);
  g_test_add_func ("/imap/client/run-and-logout", test_client_run_and_logout);

  return g_test_run ();
}
