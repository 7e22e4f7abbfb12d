/* lb-test-script-server.c
 *
 * The server's thread uses blocking sockets with a timeout and a
 * GCancellable that lb_test_script_server_free() cancels: scripts are
 * played one step after the other, which blocking code says most plainly.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-test"

#include "config.h"

#include <string.h>

#include "lb-test-script-server.h"

/* how long the server waits for a client's line, and wait() for the scripts */
#define TIMEOUT_SECONDS 30

typedef enum
{
  STEP_SEND,
  STEP_WRITE,
  STEP_EXPECT_PREFIX,
  STEP_EXPECT_REGEX,
  STEP_SLEEP,
  STEP_CLOSE,
} StepKind;

typedef struct
{
  StepKind kind;
  guint    line;      /* in the script, from 1 */
  char    *text;      /* what to send, the prefix, or the pattern */
  gsize    length;    /* of text */
  GRegex  *regex;
  guint    ms;
} Step;

typedef struct
{
  GArray *steps;  /* of Step */
} Script;

struct _LbTestScriptServer
{
  GSocket      *listener;
  guint16       port;
  GCancellable *cancellable;
  GThread      *thread;

  GMutex        mutex;     /* guards what follows */
  GCond         cond;
  GPtrArray    *scripts;   /* of Script */
  guint         next;      /* the script the next connection plays */
  guint         finished;  /* scripts played */
  GPtrArray    *received;  /* per connection, a GPtrArray of lines */
  GError       *error;     /* the first thing that went wrong */
  gboolean      quit;
};

static void
step_clear (gpointer data)
{
  Step *step = data;

  g_free (step->text);
  g_clear_pointer (&step->regex, g_regex_unref);
}

static void
script_free (gpointer data)
{
  Script *script = data;

  g_array_unref (script->steps);
  g_free (script);
}

static Script *
script_parse (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  Script *script = g_new0 (Script, 1);

  script->steps = g_array_new (FALSE, TRUE, sizeof (Step));
  g_array_set_clear_func (script->steps, step_clear);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      Step step = { 0 };

      step.line = i + 1;
      if (*line == '\0' || *line == '#')
        continue;

      if (g_str_has_prefix (line, "S: ") || strcmp (line, "S:") == 0)
        {
          step.kind = STEP_SEND;
          step.text = g_strconcat (line[2] ? line + 3 : "", "\r\n", NULL);
          step.length = strlen (step.text);
        }
      else if (g_str_has_prefix (line, "W: "))
        {
          step.kind = STEP_WRITE;
          step.text = g_strcompress (line + 3);
          step.length = strlen (step.text);
        }
      else if (g_str_has_prefix (line, "C: ") || strcmp (line, "C:") == 0)
        {
          step.kind = STEP_EXPECT_PREFIX;
          step.text = g_strdup (line[2] ? line + 3 : "");
        }
      else if (g_str_has_prefix (line, "C~ "))
        {
          g_autoptr(GError) error = NULL;

          step.kind = STEP_EXPECT_REGEX;
          step.text = g_strdup (line + 3);
          step.regex = g_regex_new (step.text, G_REGEX_OPTIMIZE, 0, &error);
          if (step.regex == NULL)
            g_error ("script line %u: %s", step.line, error->message);
        }
      else if (g_str_has_prefix (line, "SLEEP "))
        {
          guint64 ms = 0;
          g_autoptr(GError) error = NULL;

          step.kind = STEP_SLEEP;
          if (!g_ascii_string_to_unsigned (line + 6, 10, 0, 60000, &ms, &error))
            g_error ("script line %u: %s", step.line, error->message);
          step.ms = (guint) ms;
        }
      else if (strcmp (line, "CLOSE") == 0)
        step.kind = STEP_CLOSE;
      else
        g_error ("script line %u: not a step: “%s”", step.line, line);

      g_array_append_val (script->steps, step);
    }

  return script;
}

static void
record (LbTestScriptServer *self,
        GPtrArray          *lines,
        const char         *line)
{
  g_mutex_lock (&self->mutex);
  g_ptr_array_add (lines, g_strdup (line));
  g_mutex_unlock (&self->mutex);
}

/* Reads a line; NULL with @error set at the end of the stream too. */
static char *
read_line (LbTestScriptServer  *self,
           GDataInputStream    *in,
           GError             **error)
{
  g_autoptr(GError) local_error = NULL;
  gsize length = 0;
  char *line;

  line = g_data_input_stream_read_line (in, &length, self->cancellable, &local_error);
  if (line == NULL)
    {
      if (local_error != NULL)
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "reading from the client: ");
      else
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                             "the client closed the connection");
      return NULL;
    }
  if (length > 0 && line[length - 1] == '\r')
    line[length - 1] = '\0';

  return line;
}

static gboolean
play_step (LbTestScriptServer  *self,
           const Step          *step,
           GIOStream           *stream,
           GDataInputStream    *in,
           GPtrArray           *lines,
           GError             **error)
{
  g_autofree char *line = NULL;
  gboolean matches;

  switch (step->kind)
    {
    case STEP_SEND:
    case STEP_WRITE:
      return g_output_stream_write_all (g_io_stream_get_output_stream (stream), step->text,
                                        step->length, NULL, self->cancellable, error);

    case STEP_SLEEP:
      g_usleep (step->ms * G_TIME_SPAN_MILLISECOND);
      return TRUE;

    case STEP_EXPECT_PREFIX:
    case STEP_EXPECT_REGEX:
      line = read_line (self, in, error);
      if (line == NULL)
        {
          g_prefix_error (error, "expected “%s”, but ", step->text);
          return FALSE;
        }
      record (self, lines, line);
      if (step->kind == STEP_EXPECT_PREFIX)
        matches = g_str_has_prefix (line, step->text);
      else
        matches = g_regex_match (step->regex, line, 0, NULL);
      if (!matches)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "expected “%s”, the client sent “%s”", step->text, line);
          return FALSE;
        }
      return TRUE;

    case STEP_CLOSE:
      return TRUE;

    default:
      g_assert_not_reached ();
    }
}

/* Plays @script on @socket; FALSE when something did not go by it. */
static gboolean
play (LbTestScriptServer  *self,
      Script              *script,
      GSocket             *socket,
      GPtrArray           *lines,
      GError             **error)
{
  g_autoptr(GSocketConnection) connection = g_socket_connection_factory_create_connection (socket);
  g_autoptr(GDataInputStream) in = NULL;
  GIOStream *stream = G_IO_STREAM (connection);

  in = g_data_input_stream_new (g_io_stream_get_input_stream (stream));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_LF);

  for (guint i = 0; i < script->steps->len; i++)
    {
      const Step *step = &g_array_index (script->steps, Step, i);

      if (step->kind == STEP_CLOSE)
        return TRUE;
      if (!play_step (self, step, stream, in, lines, error))
        {
          g_prefix_error (error, "line %u: ", step->line);
          return FALSE;
        }
    }

  /* the script is over: take what else comes until the client closes */
  for (;;)
    {
      g_autofree char *line = read_line (self, in, NULL);

      if (line == NULL)
        break;
      record (self, lines, line);
    }

  return TRUE;
}

static gpointer
server_thread (gpointer data)
{
  LbTestScriptServer *self = data;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) socket = NULL;
      GPtrArray *lines;
      Script *script;
      guint index;

      g_mutex_lock (&self->mutex);
      while (self->next >= self->scripts->len && !self->quit)
        g_cond_wait (&self->cond, &self->mutex);
      if (self->quit)
        {
          g_mutex_unlock (&self->mutex);
          break;
        }
      index = self->next++;
      script = g_ptr_array_index (self->scripts, index);
      g_mutex_unlock (&self->mutex);

      socket = g_socket_accept (self->listener, self->cancellable, &error);
      if (socket == NULL)
        {
          if (g_cancellable_is_cancelled (self->cancellable))
            break;
          g_prefix_error (&error, "accepting the connection: ");
        }
      else
        {
          g_socket_set_timeout (socket, TIMEOUT_SECONDS);
          lines = g_ptr_array_new_with_free_func (g_free);
          g_mutex_lock (&self->mutex);
          g_ptr_array_add (self->received, lines);
          g_mutex_unlock (&self->mutex);

          play (self, script, socket, lines, &error);
          g_socket_close (socket, NULL);
        }

      g_mutex_lock (&self->mutex);
      if (error != NULL && self->error == NULL)
        self->error = g_error_new (error->domain, error->code, "script %u, %s", index + 1,
                                   error->message);
      self->finished++;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->mutex);
    }

  return NULL;
}

/**
 * lb_test_script_server_new:
 *
 * Starts a server on a free port of 127.0.0.1. It accepts a connection
 * only when a script is waiting for one.
 */
LbTestScriptServer *
lb_test_script_server_new (GError **error)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) bind_address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GSocket) listener = NULL;
  LbTestScriptServer *self;

  listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                           error);
  if (listener == NULL)
    return NULL;
  if (!g_socket_bind (listener, bind_address, FALSE, error) ||
      !g_socket_listen (listener, error))
    return NULL;
  local = g_socket_get_local_address (listener, error);
  if (local == NULL)
    return NULL;

  self = g_new0 (LbTestScriptServer, 1);
  self->listener = g_steal_pointer (&listener);
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  self->cancellable = g_cancellable_new ();
  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  self->scripts = g_ptr_array_new_with_free_func (script_free);
  self->received = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  self->thread = g_thread_new ("lb-test-script-server", server_thread, self);

  return self;
}

guint16
lb_test_script_server_get_port (LbTestScriptServer *self)
{
  return self->port;
}

/**
 * lb_test_script_server_add_script:
 * @script: the steps, one per line (see lb-test-script-server.h)
 *
 * Queues a script for the next connection that has none. A malformed
 * script aborts the test.
 */
void
lb_test_script_server_add_script (LbTestScriptServer *self,
                                  const char         *script)
{
  Script *parsed = script_parse (script);

  g_mutex_lock (&self->mutex);
  g_ptr_array_add (self->scripts, parsed);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);
}

/**
 * lb_test_script_server_is_done:
 *
 * Whether every script added so far has been played (without waiting).
 */
gboolean
lb_test_script_server_is_done (LbTestScriptServer *self)
{
  gboolean done;

  g_mutex_lock (&self->mutex);
  done = self->finished == self->scripts->len;
  g_mutex_unlock (&self->mutex);

  return done;
}

/**
 * lb_test_script_server_wait_played:
 *
 * Iterates the thread-default main context (where a client's writes and
 * closes run) until every script added was played, then fails the test
 * if one did not go as written.
 */
void
lb_test_script_server_wait_played (LbTestScriptServer *self)
{
  g_autoptr(GError) error = NULL;

  while (!lb_test_script_server_is_done (self))
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
  lb_test_script_server_wait (self, &error);
  g_assert_no_error (error);
}

/**
 * lb_test_script_server_connect:
 *
 * Returns: (transfer full): a new connection to the server, which
 *   plays the next script on it; a failure to connect fails the test
 */
GIOStream *
lb_test_script_server_connect (LbTestScriptServer *self)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;

  /* a server that fails to play makes the test fail, not hang */
  g_socket_client_set_timeout (socket_client, 10);
  connection = g_socket_client_connect_to_host (socket_client, "127.0.0.1", self->port, NULL, &error);
  g_assert_no_error (error);
  return G_IO_STREAM (connection);
}

/**
 * lb_test_script_server_wait:
 *
 * Waits until every script added so far has been played, at most 30
 * seconds. Returns FALSE with the first step that went wrong (or the
 * timeout) in @error.
 */
gboolean
lb_test_script_server_wait (LbTestScriptServer  *self,
                            GError             **error)
{
  gint64 end = g_get_monotonic_time () + TIMEOUT_SECONDS * G_TIME_SPAN_SECOND;
  gboolean ok = TRUE;

  g_mutex_lock (&self->mutex);
  while (self->finished < self->scripts->len)
    {
      if (!g_cond_wait_until (&self->cond, &self->mutex, end))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "%u of %u scripts played after %d s", self->finished, self->scripts->len,
                       TIMEOUT_SECONDS);
          ok = FALSE;
          break;
        }
    }
  if (ok && self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      ok = FALSE;
    }
  g_mutex_unlock (&self->mutex);

  return ok;
}

/**
 * lb_test_script_server_get_received:
 * @connection: 0 for the first connection accepted
 *
 * Returns: (transfer full): the lines the client sent on that connection so
 * far, without their line ends; empty if there was no such connection yet
 */
char **
lb_test_script_server_get_received (LbTestScriptServer *self,
                                    guint               connection)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_mutex_lock (&self->mutex);
  if (connection < self->received->len)
    {
      GPtrArray *lines = g_ptr_array_index (self->received, connection);

      for (guint i = 0; i < lines->len; i++)
        g_strv_builder_add (builder, g_ptr_array_index (lines, i));
    }
  g_mutex_unlock (&self->mutex);

  return g_strv_builder_end (builder);
}

/**
 * lb_test_script_server_free:
 *
 * Stops the server, ending a script being played.
 */
void
lb_test_script_server_free (LbTestScriptServer *self)
{
  if (self == NULL)
    return;

  g_mutex_lock (&self->mutex);
  self->quit = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);
  g_cancellable_cancel (self->cancellable);
  g_thread_join (self->thread);

  g_socket_close (self->listener, NULL);
  g_object_unref (self->listener);
  g_object_unref (self->cancellable);
  g_ptr_array_unref (self->scripts);
  g_ptr_array_unref (self->received);
  g_clear_error (&self->error);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);
  g_free (self);
}
