/* lb-pop3-client.c: a POP3 client on a GIOStream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-pop3"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lb-pop3-client.h"
#include "lb-pop3-framer.h"
#include "lb-net-stream.h"

/* LbPop3Client speaks POP3 over a GIOStream someone else opened.
 *
 * POP3 is strictly request and response, so the client runs one
 * operation at a time: the operation's commands go into a write buffer
 * (with the framer's expectation and a tag saying what each was for, in
 * the same order), the buffer goes out in one write, and the replies are
 * read while any command waits for one. With PIPELINING an operation keeps
 * several commands in flight (the scan's LIST and UIDL, a window of RETR,
 * TOP or DELE refilled as replies end); without it, one.
 *
 * Reading: one g_input_stream_read_async() at a time into a buffer of
 * READ_BUFFER_SIZE (topped up with what else the stream has ready without
 * a trip through the main loop), all of which is fed to the framer, whose
 * events go to the running operation's handler one by one. The framer
 * borrows the buffer: the next read is issued only once it used every
 * byte, and not while the caller paused the retrieval.
 *
 * Failing: a cancelled operation, a timeout, a broken connection, a reply
 * that does not parse and every -ERR except DELE's close the connection
 * (shutdown_client()); the session cannot be trusted to be in step after
 * any of them, and POP3 deletes nothing without QUIT. */

#define TRACE_DOMAIN "lb-pop3-protocol"

#define DEFAULT_TIMEOUT_SECONDS 60
#define READ_BUFFER_SIZE        (256 * 1024)
/* commands in flight with PIPELINING: RETR and TOP, DELE */
#define RETRIEVE_WINDOW         32
#define DELE_WINDOW             512
/* RFC 5034 4: an AUTH command with its initial response of at most 255
 * octets; a longer response goes after an empty challenge */
#define MAX_AUTH_LINE           255
/* a scan listing of more entries than this is pre-sized no further */
#define MAX_RESERVE             (1024 * 1024)

/* the greeting's tag */
#define TAG_NONE 0

/* handles one event of the reply to the command tagged @tag; returns
 * FALSE with @error to fail the operation and close the connection */
typedef gboolean (*OpEventFunc) (LbPop3Client       *self,
                                 guint               tag,
                                 const LbPop3Event  *event,
                                 GError            **error);

struct _LbPop3Client
{
  GObject            parent_instance;

  GMainContext      *context;
  GIOStream         *stream;
  GInputStream      *input;
  GOutputStream     *output;
  GCancellable      *io_cancellable;

  LbPop3ClientState  state;
  gboolean           closed;
  gboolean           stream_closing;
  gboolean           reading;
  gboolean           writing;
  gboolean           processing;
  gboolean           paused;
  gboolean           switching;     /* between STLS's +OK and the handshake */
  gboolean           handshaking;

  char              *greeting;
  char              *apop_timestamp;
  GHashTable        *capabilities;  /* upper-case keywords */
  GStrv              sasl;
  gboolean           capa_asked;
  gboolean           capa_answered;
  guint              stat_count;    /* from STAT, to pre-size a scan */
  gboolean           stat_known;

  LbPop3TraceFunc    trace_func;
  gpointer           trace_data;
  GDestroyNotify     trace_destroy;
  gboolean           trace_enabled;

  guint              timeout;
  GSource           *deadline;

  /* the running operation */
  GTask             *task;
  OpEventFunc        on_event;
  GSource           *cancel_source;
  GSource           *resume_source;

  /* the commands waiting for a reply (Pending), oldest at tags_head */
  GArray            *tags;
  guint              tags_head;
  guint64            trace_bytes;   /* of the message being read, for the trace */

  LbPop3Framer      *framer;
  guint8            *buf;
  gboolean           fed;           /* the framer has not used all of buf yet */
  gboolean           eof;

  GByteArray        *wbuf;          /* queued, not yet written */
  GByteArray        *writing_buf;   /* being written */

  /* STLS */
  LbConnector       *tls_connector;
  char              *tls_host;
  guint16            tls_port;
};

typedef struct
{
  guint        tag;
  LbPop3Expect expect;
} Pending;

G_DEFINE_FINAL_TYPE (LbPop3Client, lb_pop3_client, G_TYPE_OBJECT)

static void run             (LbPop3Client *self);
static void shutdown_client (LbPop3Client *self,
                             GError       *error);
static void update_timer    (LbPop3Client *self);
static void maybe_start_handshake (LbPop3Client *self);

/* Entries */

static void
entry_clear (gpointer data)
{
  LbPop3Entry *entry = data;

  g_clear_pointer (&entry->uid, g_free);
}

GArray *
lb_pop3_entry_array_new (guint reserved)
{
  GArray *array = g_array_sized_new (FALSE, TRUE, sizeof (LbPop3Entry), reserved);

  g_array_set_clear_func (array, entry_clear);
  return array;
}

/* Tracing */

static gboolean
trace_wanted (LbPop3Client *self)
{
  return self->trace_func != NULL ||
         !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, TRACE_DOMAIN);
}

static void
trace (LbPop3Client *self,
       gboolean      sent,
       const char   *line)
{
  if (self->trace_func != NULL)
    self->trace_func (sent, line, self->trace_data);
  else
    g_log (TRACE_DOMAIN, G_LOG_LEVEL_DEBUG, "%s %s", sent ? "C:" : "S:", line);
}

static void
trace_reply (LbPop3Client      *self,
             const LbPop3Reply *reply)
{
  g_autoptr(GString) line = g_string_new (NULL);

  switch (reply->kind)
    {
    case LB_POP3_REPLY_OK:
      g_string_append (line, "+OK");
      break;
    case LB_POP3_REPLY_ERR:
      g_string_append (line, "-ERR");
      break;
    case LB_POP3_REPLY_CONTINUATION:
      g_string_append (line, "+");
      break;
    default:
      g_assert_not_reached ();
    }
  if (reply->code_text != NULL)
    g_string_append_printf (line, " [%s]", reply->code_text);
  if (reply->text[0] != '\0')
    g_string_append_printf (line, " %s", reply->text);
  trace (self, FALSE, line->str);
}

/* a line of the protocol log for @event; message data is counted and
 * summarised at its end */
static void
trace_event (LbPop3Client      *self,
             const LbPop3Event *event,
             LbPop3Expect       expect)
{
  switch (event->kind)
    {
    case LB_POP3_EVENT_STATUS:
      trace_reply (self, event->reply);
      self->trace_bytes = 0;
      break;
    case LB_POP3_EVENT_DATA:
      if (expect == LB_POP3_EXPECT_DATA)
        self->trace_bytes += event->len;
      else
        {
          g_autofree char *text = lb_pop3_escape (event->data, event->len);

          trace (self, FALSE, text);
        }
      break;
    case LB_POP3_EVENT_END:
      if (expect == LB_POP3_EXPECT_DATA)
        {
          g_autofree char *text = g_strdup_printf ("[%" G_GUINT64_FORMAT " bytes]", self->trace_bytes);

          trace (self, FALSE, text);
        }
      trace (self, FALSE, ".");
      break;
    case LB_POP3_EVENT_NONE:
    default:
      break;
    }
}

/* Errors */

/* "what failed: the server's text" */
static GError *
refused_error (const char        *what,
               const LbPop3Reply *reply)
{
  if (reply == NULL || reply->text[0] == '\0')
    return g_error_new_literal (LB_POP3_ERROR, LB_POP3_ERROR_REFUSED, what);
  /* TRANSLATORS: the first %s says what failed, the second is the mail server's explanation */
  return g_error_new (LB_POP3_ERROR, LB_POP3_ERROR_REFUSED, _("%s: %s"), what, reply->text);
}

/* the -ERR of a login */
static GError *
login_error (const LbPop3Reply *reply)
{
  switch (reply->code)
    {
    case LB_POP3_CODE_IN_USE:
      return g_error_new (LB_POP3_ERROR, LB_POP3_ERROR_IN_USE,
                          _("The mailbox is in use by another mail program; try again later (%s)"),
                          reply->text);
    case LB_POP3_CODE_SYS_TEMP:
    case LB_POP3_CODE_LOGIN_DELAY:
      return refused_error (_("The mail server cannot log you in right now; try again later"), reply);
    case LB_POP3_CODE_NONE:
    case LB_POP3_CODE_AUTH:
    case LB_POP3_CODE_SYS_PERM:
    case LB_POP3_CODE_UTF8:
    case LB_POP3_CODE_OTHER:
    default:
      if (reply->text[0] == '\0')
        return g_error_new_literal (LB_POP3_ERROR, LB_POP3_ERROR_AUTHENTICATION,
                                    _("The mail server refused the user name or password"));
      return g_error_new (LB_POP3_ERROR, LB_POP3_ERROR_AUTHENTICATION,
                          _("The mail server refused the user name or password: %s"),
                          reply->text);
    }
}

static GError *
cancelled_error (void)
{
  return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The operation was cancelled"));
}

static GError *
lost_error (const GError *error)
{
  return g_error_new (LB_POP3_ERROR, LB_POP3_ERROR_CUT,
                      _("The connection to the mail server was lost: %s"), error->message);
}

/* Commands */

static void
push_tag (LbPop3Client *self,
          guint         tag,
          LbPop3Expect  expect)
{
  Pending pending = { tag, expect };

  g_array_append_val (self->tags, pending);
}

static guint
pending_tags (LbPop3Client *self)
{
  return self->tags->len - self->tags_head;
}

static Pending
peek_tag (LbPop3Client *self)
{
  g_assert (pending_tags (self) > 0);
  return g_array_index (self->tags, Pending, self->tags_head);
}

static Pending
pop_tag (LbPop3Client *self)
{
  Pending tag = peek_tag (self);

  self->tags_head++;
  if (self->tags_head == self->tags->len)
    {
      g_array_set_size (self->tags, 0);
      self->tags_head = 0;
    }
  return tag;
}

/* Queues @line (without CRLF) for the next write; @shown is what the trace
 * says instead (credentials), NULL for the line itself. */
static void
send_line (LbPop3Client *self,
           const char   *line,
           const char   *shown,
           LbPop3Expect  expect,
           guint         tag)
{
  if (self->trace_enabled)
    trace (self, TRUE, shown != NULL ? shown : line);
  g_byte_array_append (self->wbuf, (const guint8 *) line, (guint) strlen (line));
  g_byte_array_append (self->wbuf, (const guint8 *) "\r\n", 2);
  lb_pop3_framer_expect (self->framer, expect);
  push_tag (self, tag, expect);
}

/* an answer to a "+ " challenge: a line, no command of its own */
static void
send_answer (LbPop3Client *self,
             const char   *line,
             const char   *shown)
{
  if (self->trace_enabled)
    trace (self, TRUE, shown != NULL ? shown : line);
  g_byte_array_append (self->wbuf, (const guint8 *) line, (guint) strlen (line));
  g_byte_array_append (self->wbuf, (const guint8 *) "\r\n", 2);
}

/* Writing */

static void
close_stream_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_io_stream_close_finish (G_IO_STREAM (object), result, NULL);
}

/* once closed and no read, write or handshake is pending on the stream */
static void
maybe_close_stream (LbPop3Client *self)
{
  if (!self->closed || self->stream_closing || self->reading || self->writing ||
      self->handshaking || self->stream == NULL)
    return;

  self->stream_closing = TRUE;
  g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, close_stream_cb, NULL);
}

static void flush_writes (LbPop3Client *self);

static void
write_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(LbPop3Client) self = user_data;
  g_autoptr(GError) error = NULL;

  self->writing = FALSE;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      if (!self->closed)
        shutdown_client (self, lost_error (error));
      maybe_close_stream (self);
      return;
    }
  g_byte_array_set_size (self->writing_buf, 0);
  if (self->closed)
    {
      maybe_close_stream (self);
      return;
    }
  flush_writes (self);
  maybe_start_handshake (self);
}

static void
flush_writes (LbPop3Client *self)
{
  GByteArray *swap;

  if (self->closed || self->writing || self->wbuf->len == 0)
    return;

  swap = self->writing_buf;
  self->writing_buf = self->wbuf;
  self->wbuf = swap;
  self->writing = TRUE;
  g_output_stream_write_all_async (self->output, self->writing_buf->data, self->writing_buf->len,
                                   G_PRIORITY_DEFAULT, self->io_cancellable,
                                   write_cb, g_object_ref (self));
}

/* Timeout */

static gboolean
deadline_dispatch (GSource     *source,
                   GSourceFunc  callback,
                   gpointer     user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

static GSourceFuncs deadline_funcs = {
  NULL, NULL, deadline_dispatch, NULL, NULL, NULL,
};

static gboolean
deadline_cb (gpointer user_data)
{
  LbPop3Client *self = user_data;

  shutdown_client (self, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                      ngettext ("The mail server did not answer for %u second; the connection was closed",
                                                "The mail server did not answer for %u seconds; the connection was closed",
                                                self->timeout),
                                      self->timeout));
  return G_SOURCE_CONTINUE;
}

/* armed (again, from now) while a reply is awaited and not paused */
static void
update_timer (LbPop3Client *self)
{
  if (self->closed || self->timeout == 0 || self->paused ||
      (pending_tags (self) == 0 && !self->switching))
    {
      g_source_set_ready_time (self->deadline, -1);
      return;
    }
  g_source_set_ready_time (self->deadline,
                           g_get_monotonic_time () + (gint64) self->timeout * G_USEC_PER_SEC);
}

/* The operation */

static void
clear_op (LbPop3Client *self)
{
  self->on_event = NULL;
  if (self->cancel_source != NULL)
    {
      g_source_destroy (self->cancel_source);
      g_clear_pointer (&self->cancel_source, g_source_unref);
    }
}

static void
op_return_boolean (LbPop3Client *self)
{
  GTask *task = g_steal_pointer (&self->task);

  clear_op (self);
  update_timer (self);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
op_return_pointer (LbPop3Client   *self,
                   gpointer        result,
                   GDestroyNotify  destroy)
{
  GTask *task = g_steal_pointer (&self->task);

  clear_op (self);
  update_timer (self);
  g_task_return_pointer (task, result, destroy);
  g_object_unref (task);
}

/* fails the operation; the connection stays open (only for DELE) */
static void
op_return_error (LbPop3Client *self,
                 GError       *error)
{
  GTask *task = g_steal_pointer (&self->task);

  clear_op (self);
  update_timer (self);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
shutdown_client (LbPop3Client *self,
                 GError       *error)
{
  g_autoptr(GError) owned = error;

  if (self->closed)
    return;

  g_object_ref (self);
  self->closed = TRUE;
  self->state = LB_POP3_CLIENT_STATE_CLOSED;
  self->paused = FALSE;
  self->switching = FALSE;
  g_cancellable_cancel (self->io_cancellable);
  g_array_set_size (self->tags, 0);
  self->tags_head = 0;
  self->fed = FALSE;
  update_timer (self);
  if (self->resume_source != NULL)
    {
      g_source_destroy (self->resume_source);
      g_clear_pointer (&self->resume_source, g_source_unref);
    }
  if (self->task != NULL)
    op_return_error (self, owned != NULL ? g_steal_pointer (&owned)
                     : g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                            _("The connection to the mail server was closed")));
  maybe_close_stream (self);
  g_object_unref (self);
}

/* fails the operation with @error and closes the connection */
static gboolean
fail (GError **error,
      GError  *failure)
{
  g_propagate_error (error, failure);
  return FALSE;
}

static gboolean
op_cancelled_cb (GCancellable *cancellable,
                 gpointer      user_data)
{
  LbPop3Client *self = user_data;

  g_clear_pointer (&self->cancel_source, g_source_unref);
  shutdown_client (self, cancelled_error ());
  return G_SOURCE_REMOVE;
}

/* Starts an operation: FALSE (and the task returned) when it cannot run
 * in this state. */
static gboolean
op_begin (LbPop3Client *self,
          GTask        *task,
          guint         states,
          OpEventFunc   on_event)
{
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (self->task != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _("Another operation is running on this connection"));
      return FALSE;
    }
  if (self->closed)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CLOSED,
                               _("The connection to the mail server is closed"));
      return FALSE;
    }
  if ((states & (1u << self->state)) == 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED,
                               _("The operation is not possible in this state of the session"));
      return FALSE;
    }
  if (g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_error (task, cancelled_error ());
      shutdown_client (self, NULL);
      return FALSE;
    }

  self->task = g_object_ref (task);
  self->on_event = on_event;
  if (cancellable != NULL)
    {
      self->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (self->cancel_source, G_SOURCE_FUNC (op_cancelled_cb), self, NULL);
      g_source_attach (self->cancel_source, self->context);
    }
  return TRUE;
}

#define STATE_BIT(s) (1u << (s))
#define AUTHORIZATION STATE_BIT (LB_POP3_CLIENT_STATE_AUTHORIZATION)
#define TRANSACTION   STATE_BIT (LB_POP3_CLIENT_STATE_TRANSACTION)

static GTask *
new_task (LbPop3Client        *self,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data,
          gpointer             source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  /* an operation cancelled late still reports what happened */
  g_task_set_check_cancellable (task, FALSE);
  return task;
}

static gboolean
finish_boolean (LbPop3Client  *self,
                GAsyncResult  *result,
                gpointer       source_tag,
                GError       **error)
{
  g_return_val_if_fail (LB_IS_POP3_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Reading */

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data);

static void
dispatch (LbPop3Client      *self,
          const LbPop3Event *event)
{
  g_autoptr(GError) error = NULL;
  gboolean ends = FALSE;
  Pending pending;

  if (event->kind == LB_POP3_EVENT_END)
    ends = TRUE;
  else if (event->kind == LB_POP3_EVENT_STATUS)
    ends = event->reply->kind == LB_POP3_REPLY_ERR ||
           (event->reply->kind == LB_POP3_REPLY_OK && !event->data_follows);
  pending = ends ? pop_tag (self) : peek_tag (self);
  if (self->trace_enabled)
    trace_event (self, event, pending.expect);

  if (self->on_event == NULL)
    {
      /* the framer expects nothing an operation did not send */
      shutdown_client (self, g_error_new_literal (LB_POP3_ERROR, LB_POP3_ERROR_UNEXPECTED,
                                                  _("The mail server sent a reply to a command that was not sent")));
      return;
    }
  if (!self->on_event (self, pending.tag, event, &error))
    {
      if (error == NULL)
        error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, _("The operation failed"));
      shutdown_client (self, g_steal_pointer (&error));
    }
}

/* The server's +OK to STLS is the last thing it may send in plaintext:
 * anything after it in what was read is an attacker's injection (the
 * kind of CVE-2011-0411). */
static gboolean
check_nothing_after_stls (LbPop3Client *self)
{
  LbPop3Event event;

  if (lb_pop3_framer_next (self->framer, &event, NULL) && event.kind == LB_POP3_EVENT_NONE &&
      lb_pop3_framer_finish (self->framer, NULL))
    return TRUE;

  shutdown_client (self, g_error_new_literal (LB_POP3_ERROR, LB_POP3_ERROR_UNEXPECTED,
                                              _("The mail server sent unexpected data before securing the connection; "
                                                "the connection was closed to protect it")));
  return FALSE;
}

/* Takes what else the stream has ready without a trip through the main
 * loop (TLS hands out one record per read). */
static gsize
drain_available (LbPop3Client *self,
                 gsize         have)
{
  GPollableInputStream *pollable;

  if (!G_IS_POLLABLE_INPUT_STREAM (self->input))
    return have;
  pollable = G_POLLABLE_INPUT_STREAM (self->input);
  if (!g_pollable_input_stream_can_poll (pollable))
    return have;

  while (READ_BUFFER_SIZE - have >= 4096)
    {
      gssize n = g_pollable_input_stream_read_nonblocking (pollable, self->buf + have,
                                                           READ_BUFFER_SIZE - have, NULL, NULL);

      if (n <= 0)
        break;
      have += n;
    }
  return have;
}

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(LbPop3Client) self = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;

  self->reading = FALSE;
  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  if (self->closed)
    {
      maybe_close_stream (self);
      return;
    }
  if (n < 0)
    {
      shutdown_client (self, lost_error (error));
      return;
    }
  if (n == 0)
    self->eof = TRUE;
  else
    {
      gsize have = drain_available (self, (gsize) n);

      lb_pop3_framer_feed (self->framer, self->buf, have);
      self->fed = TRUE;
    }
  update_timer (self);
  run (self);
}

static gboolean
want_read (LbPop3Client *self)
{
  return !self->closed && !self->paused && !self->switching && !self->handshaking &&
         pending_tags (self) > 0;
}

/* hands the framer's events to the operation, writes what it queued and
 * reads more when a reply is awaited */
static void
run (LbPop3Client *self)
{
  if (self->processing)
    return;

  self->processing = TRUE;
  g_object_ref (self);

  while (!self->closed && !self->paused && self->fed && !self->switching)
    {
      LbPop3Event event;
      GError *error = NULL;

      if (!lb_pop3_framer_next (self->framer, &event, &error))
        {
          shutdown_client (self, error);
          break;
        }
      if (event.kind == LB_POP3_EVENT_NONE)
        {
          self->fed = FALSE;
          break;
        }
      dispatch (self, &event);
    }

  if (!self->closed && self->switching && self->fed)
    {
      if (check_nothing_after_stls (self))
        self->fed = FALSE;
    }

  if (!self->closed && !self->fed && self->eof)
    {
      GError *error = NULL;

      if (!lb_pop3_framer_finish (self->framer, &error))
        shutdown_client (self, error);
      else
        shutdown_client (self, g_error_new_literal (LB_POP3_ERROR, LB_POP3_ERROR_CUT,
                                                    _("The mail server closed the connection")));
    }

  flush_writes (self);
  maybe_start_handshake (self);

  if (!self->fed && !self->reading && want_read (self))
    {
      self->reading = TRUE;
      g_input_stream_read_async (self->input, self->buf, READ_BUFFER_SIZE,
                                 G_PRIORITY_DEFAULT, self->io_cancellable,
                                 read_cb, g_object_ref (self));
    }

  self->processing = FALSE;
  g_object_unref (self);
}

/* GObject */

static void
lb_pop3_client_dispose (GObject *object)
{
  LbPop3Client *self = LB_POP3_CLIENT (object);

  /* nothing is pending here: every read, write and operation holds a
   * reference; only the stream is left to close */
  if (!self->closed)
    {
      self->closed = TRUE;
      self->state = LB_POP3_CLIENT_STATE_CLOSED;
      maybe_close_stream (self);
    }
  if (self->deadline != NULL)
    {
      g_source_destroy (self->deadline);
      g_clear_pointer (&self->deadline, g_source_unref);
    }
  G_OBJECT_CLASS (lb_pop3_client_parent_class)->dispose (object);
}

static void
lb_pop3_client_finalize (GObject *object)
{
  LbPop3Client *self = LB_POP3_CLIENT (object);

  if (self->trace_destroy != NULL)
    self->trace_destroy (self->trace_data);
  g_clear_object (&self->stream);
  g_clear_object (&self->io_cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->greeting);
  g_free (self->apop_timestamp);
  g_hash_table_unref (self->capabilities);
  g_strfreev (self->sasl);
  g_array_unref (self->tags);
  lb_pop3_framer_free (self->framer);
  g_free (self->buf);
  g_byte_array_unref (self->wbuf);
  g_byte_array_unref (self->writing_buf);
  g_clear_object (&self->tls_connector);
  g_free (self->tls_host);
  G_OBJECT_CLASS (lb_pop3_client_parent_class)->finalize (object);
}

static void
lb_pop3_client_class_init (LbPop3ClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lb_pop3_client_dispose;
  object_class->finalize = lb_pop3_client_finalize;
}

static void
lb_pop3_client_init (LbPop3Client *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->io_cancellable = g_cancellable_new ();
  self->state = LB_POP3_CLIENT_STATE_GREETING;
  self->capabilities = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->sasl = g_new0 (char *, 1);
  self->timeout = DEFAULT_TIMEOUT_SECONDS;
  self->tags = g_array_new (FALSE, FALSE, sizeof (Pending));
  self->framer = lb_pop3_framer_new (0, 0, 0);
  self->buf = g_malloc (READ_BUFFER_SIZE);
  self->wbuf = g_byte_array_sized_new (4096);
  self->writing_buf = g_byte_array_sized_new (4096);
  self->trace_enabled = trace_wanted (self);

  self->deadline = g_source_new (&deadline_funcs, sizeof (GSource));
  g_source_set_name (self->deadline, "[letterbox] POP3 timeout");
  g_source_set_callback (self->deadline, deadline_cb, self, NULL);
  g_source_set_ready_time (self->deadline, -1);
  g_source_attach (self->deadline, self->context);
}

static void
set_stream (LbPop3Client *self,
            GIOStream    *stream)
{
  g_set_object (&self->stream, stream);
  self->input = g_io_stream_get_input_stream (stream);
  self->output = g_io_stream_get_output_stream (stream);

  /* our own timeout replaces the socket's */
  lb_net_stream_set_up_socket (stream, TRUE);
}

LbPop3Client *
lb_pop3_client_new (GIOStream *stream)
{
  LbPop3Client *self;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);

  self = g_object_new (LB_TYPE_POP3_CLIENT, NULL);
  set_stream (self, stream);
  return self;
}

GIOStream *
lb_pop3_client_get_stream (LbPop3Client *self)
{
  g_return_val_if_fail (LB_IS_POP3_CLIENT (self), NULL);

  return self->stream;
}

LbPop3ClientState
lb_pop3_client_get_state (LbPop3Client *self)
{
  g_return_val_if_fail (LB_IS_POP3_CLIENT (self), LB_POP3_CLIENT_STATE_CLOSED);

  return self->state;
}

void
lb_pop3_client_set_timeout (LbPop3Client *self,
                            guint         seconds)
{
  g_return_if_fail (LB_IS_POP3_CLIENT (self));

  self->timeout = seconds;
  update_timer (self);
}

void
lb_pop3_client_set_trace_func (LbPop3Client    *self,
                               LbPop3TraceFunc  func,
                               gpointer         user_data,
                               GDestroyNotify   destroy)
{
  g_return_if_fail (LB_IS_POP3_CLIENT (self));

  if (self->trace_destroy != NULL)
    self->trace_destroy (self->trace_data);
  self->trace_func = func;
  self->trace_data = user_data;
  self->trace_destroy = destroy;
  self->trace_enabled = trace_wanted (self);
}

gboolean
lb_pop3_client_has_capability (LbPop3Client *self,
                               const char   *name)
{
  g_autofree char *upper = NULL;

  g_return_val_if_fail (LB_IS_POP3_CLIENT (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  upper = g_ascii_strup (name, -1);
  return g_hash_table_contains (self->capabilities, upper);
}

static int
compare_keywords (gconstpointer a,
                  gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/**
 * lb_pop3_client_dup_capabilities:
 *
 * Returns: (transfer full): the keywords CAPA listed (since the last
 *   STLS), upper case and sorted; empty, never %NULL
 */
char **
lb_pop3_client_dup_capabilities (LbPop3Client *self)
{
  GPtrArray *names;
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (LB_IS_POP3_CLIENT (self), NULL);

  names = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, self->capabilities);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, g_strdup (key));
  g_ptr_array_sort (names, compare_keywords);
  g_ptr_array_add (names, NULL);

  return (char **) g_ptr_array_free (names, FALSE);
}

const char * const *
lb_pop3_client_get_sasl_mechanisms (LbPop3Client *self)
{
  g_return_val_if_fail (LB_IS_POP3_CLIENT (self), NULL);

  return (const char * const *) self->sasl;
}

const char *
lb_pop3_client_get_greeting (LbPop3Client *self)
{
  g_return_val_if_fail (LB_IS_POP3_CLIENT (self), NULL);

  return self->greeting;
}

const char *
lb_pop3_client_get_apop_timestamp (LbPop3Client *self)
{
  g_return_val_if_fail (LB_IS_POP3_CLIENT (self), NULL);

  return self->apop_timestamp;
}

gboolean
lb_pop3_client_get_capa_answered (LbPop3Client *self)
{
  g_return_val_if_fail (LB_IS_POP3_CLIENT (self), FALSE);

  return self->capa_answered;
}

static gboolean
pipelining (LbPop3Client *self)
{
  return g_hash_table_contains (self->capabilities, "PIPELINING");
}

static gboolean
has_sasl (LbPop3Client *self,
          const char   *mechanism)
{
  return g_strv_contains ((const char * const *) self->sasl, mechanism);
}

/* Greeting */

static gboolean
greet_event (LbPop3Client       *self,
             guint               tag,
             const LbPop3Event  *event,
             GError            **error)
{
  const LbPop3Reply *reply = event->reply;

  g_assert (event->kind == LB_POP3_EVENT_STATUS);
  if (reply->kind != LB_POP3_REPLY_OK)
    return fail (error, refused_error (_("The mail server refused the connection"), reply));

  g_free (self->greeting);
  self->greeting = g_strdup (reply->text);
  g_free (self->apop_timestamp);
  self->apop_timestamp = lb_pop3_greeting_apop_timestamp (reply->text);
  self->state = LB_POP3_CLIENT_STATE_AUTHORIZATION;
  op_return_boolean (self);
  return TRUE;
}

void
lb_pop3_client_greet_async (LbPop3Client        *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LB_IS_POP3_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_pop3_client_greet_async);
  if (!op_begin (self, task, STATE_BIT (LB_POP3_CLIENT_STATE_GREETING), greet_event))
    return;
  /* no command: the server speaks first */
  lb_pop3_framer_expect (self->framer, LB_POP3_EXPECT_SINGLE);
  push_tag (self, TAG_NONE, LB_POP3_EXPECT_SINGLE);
  update_timer (self);
  run (self);
}

gboolean
lb_pop3_client_greet_finish (LbPop3Client  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return finish_boolean (self, result, lb_pop3_client_greet_async, error);
}

/* CAPA */

static void
forget_capabilities (LbPop3Client *self)
{
  g_hash_table_remove_all (self->capabilities);
  g_strfreev (self->sasl);
  self->sasl = g_new0 (char *, 1);
  self->capa_answered = FALSE;
  self->capa_asked = FALSE;
}

static void
capa_line (LbPop3Client *self,
           const guint8 *data,
           gsize         len)
{
  g_autofree char *keyword = NULL;
  g_auto(GStrv) args = NULL;

  /* a line that does not parse names nothing the client could use */
  if (!lb_pop3_parse_capa_line ((const char *) data, (gssize) len, &keyword, &args, NULL))
    return;
  if (g_str_equal (keyword, "SASL"))
    {
      GPtrArray *mechs = g_ptr_array_new ();

      for (guint i = 0; self->sasl[i] != NULL; i++)
        g_ptr_array_add (mechs, g_steal_pointer (&self->sasl[i]));
      for (guint i = 0; args[i] != NULL; i++)
        g_ptr_array_add (mechs, g_ascii_strup (args[i], -1));
      g_ptr_array_add (mechs, NULL);
      g_free (self->sasl);
      self->sasl = (GStrv) g_ptr_array_free (mechs, FALSE);
    }
  g_hash_table_add (self->capabilities, g_steal_pointer (&keyword));
}

/* the CAPA step of an operation: TRUE when the event was CAPA's (and
 * handled), with *@done set once its reply is over */
static gboolean
capa_step (LbPop3Client      *self,
           const LbPop3Event *event,
           gboolean          *done)
{
  *done = FALSE;
  switch (event->kind)
    {
    case LB_POP3_EVENT_STATUS:
      if (event->reply->kind == LB_POP3_REPLY_ERR)
        {
          /* no CAPA: no capabilities, which is no error */
          self->capa_answered = FALSE;
          *done = TRUE;
        }
      else if (event->reply->kind == LB_POP3_REPLY_OK && !event->data_follows)
        *done = TRUE;
      break;
    case LB_POP3_EVENT_DATA:
      capa_line (self, event->data, event->len);
      break;
    case LB_POP3_EVENT_END:
      self->capa_answered = TRUE;
      *done = TRUE;
      break;
    case LB_POP3_EVENT_NONE:
    default:
      g_assert_not_reached ();
    }
  return TRUE;
}

static void
send_capa (LbPop3Client *self,
           guint         tag)
{
  forget_capabilities (self);
  self->capa_asked = TRUE;
  send_line (self, "CAPA", NULL, LB_POP3_EXPECT_LINES, tag);
}

static gboolean
capa_event (LbPop3Client       *self,
            guint               tag,
            const LbPop3Event  *event,
            GError            **error)
{
  gboolean done;

  if (event->kind == LB_POP3_EVENT_STATUS && event->reply->kind == LB_POP3_REPLY_CONTINUATION)
    return fail (error, g_error_new_literal (LB_POP3_ERROR, LB_POP3_ERROR_MALFORMED,
                                             _("The mail server sent a challenge nobody asked for")));
  capa_step (self, event, &done);
  if (done)
    op_return_boolean (self);
  return TRUE;
}

void
lb_pop3_client_capa_async (LbPop3Client        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LB_IS_POP3_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_pop3_client_capa_async);
  if (!op_begin (self, task, AUTHORIZATION | TRANSACTION, capa_event))
    return;
  send_capa (self, TAG_NONE);
  update_timer (self);
  run (self);
}

gboolean
lb_pop3_client_capa_finish (LbPop3Client  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return finish_boolean (self, result, lb_pop3_client_capa_async, error);
}

/* A command with a single-line answer whose -ERR fails the operation */

static gboolean
unexpected_continuation (const LbPop3Event  *event,
                         GError            **error)
{
  if (event->kind == LB_POP3_EVENT_STATUS && event->reply->kind == LB_POP3_REPLY_CONTINUATION)
    return fail (error, g_error_new_literal (LB_POP3_ERROR, LB_POP3_ERROR_MALFORMED,
                                             _("The mail server sent a challenge nobody asked for")));
  return TRUE;
}

/* STLS */

enum
{
  STLS_TAG_CAPA = 1,
  STLS_TAG_STLS,
  STLS_TAG_CAPA_AFTER,
};

static gboolean
stls_fail (GError **error)
{
  return fail (error, g_error_new_literal (LB_POP3_ERROR, LB_POP3_ERROR_NO_STLS,
                                           _("The mail server does not offer a secure connection (STLS), "
                                             "so the connection was closed to protect your password")));
}

static void
send_stls (LbPop3Client *self)
{
  send_line (self, "STLS", NULL, LB_POP3_EXPECT_SINGLE, STLS_TAG_STLS);
}

static gboolean
stls_event (LbPop3Client       *self,
            guint               tag,
            const LbPop3Event  *event,
            GError            **error)
{
  gboolean done;

  if (!unexpected_continuation (event, error))
    return FALSE;

  switch (tag)
    {
    case STLS_TAG_CAPA:
      capa_step (self, event, &done);
      if (done)
        {
          if (self->capa_answered && !g_hash_table_contains (self->capabilities, "STLS"))
            return stls_fail (error);
          send_stls (self);
        }
      return TRUE;

    case STLS_TAG_STLS:
      if (event->reply->kind != LB_POP3_REPLY_OK)
        {
          g_autoptr(GError) refused = NULL;

          refused = refused_error (_("The mail server refused to secure the connection"), event->reply);
          return fail (error, g_error_new_literal (LB_POP3_ERROR, LB_POP3_ERROR_NO_STLS,
                                                   refused->message));
        }
      /* what the server said before is not to be trusted (RFC 2595 4) */
      forget_capabilities (self);
      self->switching = TRUE;
      return TRUE;

    case STLS_TAG_CAPA_AFTER:
      capa_step (self, event, &done);
      if (done)
        op_return_boolean (self);
      return TRUE;

    default:
      g_assert_not_reached ();
    }
}

static void
handshake_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(LbPop3Client) self = user_data;
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GError) error = NULL;

  self->handshaking = FALSE;
  tls = lb_connector_start_tls_finish (LB_CONNECTOR (object), result, &error);
  if (self->closed)
    {
      maybe_close_stream (self);
      return;
    }
  if (tls == NULL)
    {
      /* never go on in plaintext */
      shutdown_client (self, g_steal_pointer (&error));
      return;
    }

  set_stream (self, tls);
  self->switching = FALSE;
  lb_pop3_framer_free (self->framer);
  self->framer = lb_pop3_framer_new (0, 0, 0);
  send_capa (self, STLS_TAG_CAPA_AFTER);
  update_timer (self);
  run (self);
}

/* once STLS's +OK was read and the command written */
static void
maybe_start_handshake (LbPop3Client *self)
{
  if (!self->switching || self->handshaking || self->writing || self->closed ||
      self->fed || self->tls_connector == NULL)
    return;

  self->handshaking = TRUE;
  lb_connector_start_tls_async (self->tls_connector, self->stream, self->tls_host, self->tls_port,
                                self->io_cancellable, handshake_cb, g_object_ref (self));
  g_clear_object (&self->tls_connector);
}

void
lb_pop3_client_stls_async (LbPop3Client        *self,
                           LbConnector         *connector,
                           const char          *host,
                           guint16              port,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LB_IS_POP3_CLIENT (self));
  g_return_if_fail (LB_IS_CONNECTOR (connector));
  g_return_if_fail (host != NULL);

  task = new_task (self, cancellable, callback, user_data, lb_pop3_client_stls_async);
  if (!op_begin (self, task, AUTHORIZATION, stls_event))
    return;

  g_set_object (&self->tls_connector, connector);
  g_free (self->tls_host);
  self->tls_host = g_strdup (host);
  self->tls_port = port;

  if (!self->capa_asked)
    send_capa (self, STLS_TAG_CAPA);
  else if (self->capa_answered && !g_hash_table_contains (self->capabilities, "STLS"))
    {
      g_autoptr(GError) error = NULL;

      stls_fail (&error);
      shutdown_client (self, g_steal_pointer (&error));
      return;
    }
  else
    send_stls (self);
  update_timer (self);
  run (self);
}

gboolean
lb_pop3_client_stls_finish (LbPop3Client  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return finish_boolean (self, result, lb_pop3_client_stls_async, error);
}

/* Login */

typedef enum
{
  LOGIN_TAG_USER = 1,
  LOGIN_TAG_PASS,
  LOGIN_TAG_APOP,
  LOGIN_TAG_AUTH,
} LoginTag;

typedef struct
{
  LbPop3AuthMethod  method;
  char             *user;
  char             *secret;
  char             *response;    /* base64, for a SASL mechanism with one */
  guint             answers;     /* challenges answered */
  char             *oauth_error; /* XOAUTH2's error challenge, decoded */
} LoginData;

static void
login_data_free (gpointer data)
{
  LoginData *ld = data;

  g_free (ld->user);
  if (ld->secret != NULL)
    explicit_bzero (ld->secret, strlen (ld->secret));
  g_free (ld->secret);
  if (ld->response != NULL)
    explicit_bzero (ld->response, strlen (ld->response));
  g_free (ld->response);
  g_free (ld->oauth_error);
  g_free (ld);
}

static char *
base64_string (const char *text,
               gsize       len)
{
  return g_base64_encode ((const guchar *) text, len);
}

/* APOP: the hex MD5 of the greeting's timestamp and the secret (RFC 1939 7) */
char *
lb_pop3_apop_digest (const char *timestamp,
                     const char *secret)
{
  g_autoptr(GChecksum) md5 = g_checksum_new (G_CHECKSUM_MD5);

  g_return_val_if_fail (timestamp != NULL, NULL);
  g_return_val_if_fail (secret != NULL, NULL);

  g_checksum_update (md5, (const guchar *) timestamp, strlen (timestamp));
  g_checksum_update (md5, (const guchar *) secret, strlen (secret));
  return g_strdup (g_checksum_get_string (md5));
}

static gboolean
logged_in (LbPop3Client *self)
{
  self->state = LB_POP3_CLIENT_STATE_TRANSACTION;
  /* the maildrop is locked now: what STAT said before no longer counts */
  self->stat_known = FALSE;
  op_return_boolean (self);
  return TRUE;
}

static gboolean
login_event (LbPop3Client       *self,
             guint               tag,
             const LbPop3Event  *event,
             GError            **error)
{
  LoginData *ld = g_task_get_task_data (self->task);
  const LbPop3Reply *reply = event->reply;

  g_assert (event->kind == LB_POP3_EVENT_STATUS);

  if (reply->kind == LB_POP3_REPLY_CONTINUATION)
    {
      if (tag != LOGIN_TAG_AUTH)
        return unexpected_continuation (event, error);
      ld->answers++;
      switch (ld->method)
        {
        case LB_POP3_AUTH_PLAIN:
          /* an empty challenge asks for the response not sent with the command */
          if (ld->answers == 1 && ld->response != NULL)
            send_answer (self, ld->response, "***");
          else
            send_answer (self, "*", NULL);
          break;
        case LB_POP3_AUTH_LOGIN:
          if (ld->answers == 1)
            {
              g_autofree char *answer = base64_string (ld->user, strlen (ld->user));

              send_answer (self, answer, "***");
            }
          else if (ld->answers == 2)
            {
              g_autofree char *answer = base64_string (ld->secret, strlen (ld->secret));

              send_answer (self, answer, "***");
              explicit_bzero (answer, strlen (answer));
            }
          else
            send_answer (self, "*", NULL);
          break;
        case LB_POP3_AUTH_XOAUTH2:
          if (ld->answers == 1 && ld->response != NULL)
            send_answer (self, ld->response, "***");
          else
            {
              /* an error challenge (JSON): an empty answer, then -ERR */
              gsize len = 0;
              g_autofree guchar *decoded = g_base64_decode (reply->text, &len);
              g_autofree char *text = g_strndup ((const char *) decoded, len);

              g_free (ld->oauth_error);
              ld->oauth_error = g_utf8_make_valid (text, -1);
              send_answer (self, "", NULL);
            }
          break;
        case LB_POP3_AUTH_AUTO:
        case LB_POP3_AUTH_USER:
        case LB_POP3_AUTH_APOP:
        default:
          send_answer (self, "*", NULL);
          break;
        }
      return TRUE;
    }

  if (reply->kind == LB_POP3_REPLY_ERR)
    {
      if (ld->oauth_error != NULL)
        return fail (error, g_error_new (LB_POP3_ERROR, LB_POP3_ERROR_AUTHENTICATION,
                                         _("The mail server refused the access token: %s"),
                                         ld->oauth_error));
      return fail (error, login_error (reply));
    }

  switch ((LoginTag) tag)
    {
    case LOGIN_TAG_USER:
      {
        g_autofree char *line = g_strconcat ("PASS ", ld->secret, NULL);

        send_line (self, line, "PASS ***", LB_POP3_EXPECT_SINGLE, LOGIN_TAG_PASS);
        explicit_bzero (line, strlen (line));
      }
      return TRUE;
    case LOGIN_TAG_PASS:
    case LOGIN_TAG_APOP:
    case LOGIN_TAG_AUTH:
      return logged_in (self);
    default:
      g_assert_not_reached ();
    }
}

/* the method AUTO stands for, or AUTO when there is none */
static LbPop3AuthMethod
choose_method (LbPop3Client *self)
{
  if (has_sasl (self, "PLAIN"))
    return LB_POP3_AUTH_PLAIN;
  if (has_sasl (self, "LOGIN"))
    return LB_POP3_AUTH_LOGIN;
  if (!self->capa_answered || g_hash_table_contains (self->capabilities, "USER"))
    return LB_POP3_AUTH_USER;
  if (self->apop_timestamp != NULL)
    return LB_POP3_AUTH_APOP;
  return LB_POP3_AUTH_AUTO;
}

/* "AUTH MECH response", or "AUTH MECH" with the response kept for the
 * server's empty challenge when the line would be too long */
static void
send_auth (LbPop3Client *self,
           LoginData    *ld,
           const char   *mechanism,
           char         *response)
{
  g_autofree char *line = g_strdup_printf ("AUTH %s %s", mechanism, response);
  g_autofree char *shown = g_strdup_printf ("AUTH %s ***", mechanism);

  if (strlen (line) <= MAX_AUTH_LINE)
    {
      send_line (self, line, shown, LB_POP3_EXPECT_SINGLE, LOGIN_TAG_AUTH);
      /* the response is sent: a challenge now means an error */
      ld->answers = 1;
      explicit_bzero (response, strlen (response));
      g_free (response);
    }
  else
    {
      g_autofree char *bare = g_strdup_printf ("AUTH %s", mechanism);

      send_line (self, bare, NULL, LB_POP3_EXPECT_SINGLE, LOGIN_TAG_AUTH);
      ld->response = response;
    }
  explicit_bzero (line, strlen (line));
}

void
lb_pop3_client_login_async (LbPop3Client        *self,
                            LbPop3AuthMethod     method,
                            const char          *user,
                            const char          *secret,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  LoginData *ld;
  const char *mechanism = NULL;

  g_return_if_fail (LB_IS_POP3_CLIENT (self));
  g_return_if_fail (user != NULL);
  g_return_if_fail (secret != NULL);

  task = new_task (self, cancellable, callback, user_data, lb_pop3_client_login_async);
  ld = g_new0 (LoginData, 1);
  ld->user = g_strdup (user);
  ld->secret = g_strdup (secret);
  g_task_set_task_data (task, ld, login_data_free);
  if (!op_begin (self, task, AUTHORIZATION, login_event))
    return;

  if (method == LB_POP3_AUTH_AUTO)
    method = choose_method (self);
  ld->method = method;

  switch (method)
    {
    case LB_POP3_AUTH_PLAIN:
      mechanism = "PLAIN";
      break;
    case LB_POP3_AUTH_LOGIN:
      mechanism = "LOGIN";
      break;
    case LB_POP3_AUTH_XOAUTH2:
      mechanism = "XOAUTH2";
      break;
    case LB_POP3_AUTH_APOP:
      if (self->apop_timestamp == NULL)
        {
          shutdown_client (self, g_error_new_literal (LB_POP3_ERROR, LB_POP3_ERROR_NOT_SUPPORTED,
                                                      _("The mail server does not offer APOP logins")));
          return;
        }
      break;
    case LB_POP3_AUTH_AUTO:
      shutdown_client (self, g_error_new_literal (LB_POP3_ERROR, LB_POP3_ERROR_NOT_SUPPORTED,
                                                  _("The mail server offers no login method Letterbox knows")));
      return;
    case LB_POP3_AUTH_USER:
    default:
      break;
    }

  /* a server that listed its mechanisms does not have the others */
  if (mechanism != NULL && self->capa_answered && !has_sasl (self, mechanism))
    {
      shutdown_client (self, g_error_new (LB_POP3_ERROR, LB_POP3_ERROR_NOT_SUPPORTED,
                                          _("The mail server does not offer the login method %s"),
                                          mechanism));
      return;
    }

  switch (method)
    {
    case LB_POP3_AUTH_USER:
      {
        g_autofree char *line = g_strconcat ("USER ", user, NULL);

        send_line (self, line, NULL, LB_POP3_EXPECT_SINGLE, LOGIN_TAG_USER);
      }
      break;
    case LB_POP3_AUTH_APOP:
      {
        g_autofree char *digest = lb_pop3_apop_digest (self->apop_timestamp, secret);
        g_autofree char *line = g_strdup_printf ("APOP %s %s", user, digest);
        g_autofree char *shown = g_strdup_printf ("APOP %s ***", user);

        send_line (self, line, shown, LB_POP3_EXPECT_SINGLE, LOGIN_TAG_APOP);
      }
      break;
    case LB_POP3_AUTH_PLAIN:
      {
        /* authzid (empty) NUL authcid NUL password (RFC 4616) */
        gsize ulen = strlen (user), slen = strlen (secret);
        g_autofree char *raw = g_malloc (ulen + slen + 2);

        raw[0] = '\0';
        memcpy (raw + 1, user, ulen);
        raw[1 + ulen] = '\0';
        memcpy (raw + 2 + ulen, secret, slen);
        send_auth (self, ld, mechanism, base64_string (raw, ulen + slen + 2));
        explicit_bzero (raw, ulen + slen + 2);
      }
      break;
    case LB_POP3_AUTH_XOAUTH2:
      {
        g_autofree char *raw = g_strdup_printf ("user=%s\001auth=Bearer %s\001\001", user, secret);

        send_auth (self, ld, mechanism, base64_string (raw, strlen (raw)));
        explicit_bzero (raw, strlen (raw));
      }
      break;
    case LB_POP3_AUTH_LOGIN:
      send_line (self, "AUTH LOGIN", NULL, LB_POP3_EXPECT_SINGLE, LOGIN_TAG_AUTH);
      break;
    case LB_POP3_AUTH_AUTO:
    default:
      g_assert_not_reached ();
    }
  update_timer (self);
  run (self);
}

gboolean
lb_pop3_client_login_finish (LbPop3Client  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return finish_boolean (self, result, lb_pop3_client_login_async, error);
}

/* STAT */

typedef struct
{
  guint   count;
  guint64 size;
} StatData;

static gboolean
stat_event (LbPop3Client       *self,
            guint               tag,
            const LbPop3Event  *event,
            GError            **error)
{
  StatData *sd = g_task_get_task_data (self->task);

  if (!unexpected_continuation (event, error))
    return FALSE;
  if (event->reply->kind != LB_POP3_REPLY_OK)
    return fail (error, refused_error (_("The mail server could not count the messages"), event->reply));
  if (!lb_pop3_parse_stat (event->reply->text, -1, &sd->count, &sd->size, error))
    return FALSE;
  self->stat_count = sd->count;
  self->stat_known = TRUE;
  op_return_boolean (self);
  return TRUE;
}

void
lb_pop3_client_stat_async (LbPop3Client        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LB_IS_POP3_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_pop3_client_stat_async);
  g_task_set_task_data (task, g_new0 (StatData, 1), g_free);
  if (!op_begin (self, task, TRANSACTION, stat_event))
    return;
  send_line (self, "STAT", NULL, LB_POP3_EXPECT_SINGLE, TAG_NONE);
  update_timer (self);
  run (self);
}

gboolean
lb_pop3_client_stat_finish (LbPop3Client  *self,
                            GAsyncResult  *result,
                            guint         *count,
                            guint64       *size,
                            GError       **error)
{
  StatData *sd;

  if (!finish_boolean (self, result, lb_pop3_client_stat_async, error))
    return FALSE;
  sd = g_task_get_task_data (G_TASK (result));
  if (count != NULL)
    *count = sd->count;
  if (size != NULL)
    *size = sd->size;
  return TRUE;
}

/* Scan */

/* The uid of a message on a server without UIDL: "~top:" and the hex
 * SHA-256 of its header lines as "TOP n 0" returns them (CRLF line ends),
 * up to the empty line, without the fields mailbox software rewrites while
 * a message sits in the maildrop (Status, X-Status, X-UIDL, X-Keywords)
 * and their continuation lines. Stable while the message is there, and
 * different for different messages as long as their headers differ (a
 * Message-ID or Received fields do that for real mail). */

#define TOP_PREFIX_MAX 16

typedef struct
{
  GChecksum *checksum;
  gboolean   at_start;     /* at the start of a line */
  gboolean   decided;      /* the current line is included or not */
  gboolean   include;      /* ... this */
  gboolean   field_include;/* the last field's decision, for its continuations */
  gboolean   over;         /* past the header block */
  guint8     prefix[TOP_PREFIX_MAX];
  gsize      prefix_len;
} TopHash;

static void
top_hash_reset (TopHash *th)
{
  if (th->checksum == NULL)
    th->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  else
    g_checksum_reset (th->checksum);
  th->at_start = TRUE;
  th->decided = FALSE;
  th->include = TRUE;
  th->field_include = TRUE;
  th->over = FALSE;
  th->prefix_len = 0;
}

static gboolean
excluded_field (const guint8 *prefix,
                gsize         len)
{
  static const char *const names[] = { "status", "x-status", "x-uidl", "x-keywords" };
  const guint8 *colon = memchr (prefix, ':', len);
  gsize n;

  if (colon == NULL)
    return FALSE;
  n = (gsize) (colon - prefix);
  while (n > 0 && (prefix[n - 1] == ' ' || prefix[n - 1] == '\t'))
    n--;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strlen (names[i]) == n && g_ascii_strncasecmp ((const char *) prefix, names[i], n) == 0)
      return TRUE;
  return FALSE;
}

/* decides the current line from its first bytes (all of them when
 * @line_end) */
static void
top_hash_decide (TopHash  *th,
                 gboolean  line_end)
{
  if (th->prefix_len >= 1 && (th->prefix[0] == ' ' || th->prefix[0] == '\t'))
    th->include = th->field_include;
  else if (line_end && (th->prefix_len == 0 || (th->prefix_len <= 2 && th->prefix[0] == '\r')))
    {
      /* the empty line: the header block is over */
      th->over = TRUE;
      th->include = FALSE;
    }
  else
    th->field_include = th->include = !excluded_field (th->prefix, th->prefix_len);
  th->decided = TRUE;
  if (th->include)
    g_checksum_update (th->checksum, th->prefix, th->prefix_len);
}

static void
top_hash_update (TopHash      *th,
                 const guint8 *data,
                 gsize         len)
{
  while (len > 0 && !th->over)
    {
      const guint8 *nl = memchr (data, '\n', len);
      gsize line_len = nl != NULL ? (gsize) (nl - data) + 1 : len;

      if (!th->decided)
        {
          gsize take = MIN (line_len, TOP_PREFIX_MAX - th->prefix_len);

          memcpy (th->prefix + th->prefix_len, data, take);
          th->prefix_len += take;
          data += take;
          len -= take;
          line_len -= take;
          if (th->prefix_len < TOP_PREFIX_MAX && !(nl != NULL && line_len == 0))
            continue;
          top_hash_decide (th, nl != NULL && line_len == 0);
          if (th->over)
            break;
        }
      if (th->include)
        g_checksum_update (th->checksum, data, line_len);
      data += line_len;
      len -= line_len;
      if (nl != NULL)
        {
          th->decided = FALSE;
          th->prefix_len = 0;
        }
    }
}

static char *
top_hash_finish (TopHash *th)
{
  /* a header block without its empty line: the last line counts as it is */
  if (!th->decided && th->prefix_len > 0 && !th->over)
    top_hash_decide (th, TRUE);
  return g_strconcat ("~top:", g_checksum_get_string (th->checksum), NULL);
}

enum
{
  SCAN_TAG_LIST = 1,
  SCAN_TAG_UIDL,
  SCAN_TAG_TOP,  /* and up: SCAN_TAG_TOP + the entry's index */
};

typedef struct
{
  LbPop3ScanFlags  flags;
  GArray          *entries;
  gboolean         sorted;
  guint            cursor;
  gboolean         listed;       /* LIST's reply is over */
  gboolean         list_sent;
  gboolean         uidl_sent;
  gboolean         uidl_wanted;  /* and not yet sent */
  gboolean         uidl_from_list; /* UIDL merges into LIST's entries */
  gboolean         need_top;
  guint            top_next;     /* the next entry to send TOP for */
  guint            top_in_flight;
  TopHash          top;
} ScanData;

static void
scan_data_free (gpointer data)
{
  ScanData *sd = data;

  g_clear_pointer (&sd->entries, g_array_unref);
  g_clear_pointer (&sd->top.checksum, g_checksum_free);
  g_free (sd);
}

static gint
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const LbPop3Entry *ea = a, *eb = b;

  return ea->msg < eb->msg ? -1 : ea->msg > eb->msg;
}

static LbPop3Entry *
find_entry (ScanData *sd,
            guint     msg)
{
  guint lo = 0, hi = sd->entries->len;

  if (sd->cursor < sd->entries->len &&
      g_array_index (sd->entries, LbPop3Entry, sd->cursor).msg == msg)
    return &g_array_index (sd->entries, LbPop3Entry, sd->cursor++);

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      LbPop3Entry *entry = &g_array_index (sd->entries, LbPop3Entry, mid);

      if (entry->msg == msg)
        {
          sd->cursor = mid + 1;
          return entry;
        }
      if (entry->msg < msg)
        lo = mid + 1;
      else
        hi = mid;
    }
  return NULL;
}

static void
append_entry (ScanData *sd,
              guint     msg,
              guint64   size,
              char     *uid)
{
  LbPop3Entry entry = { msg, size, uid };

  if (sd->entries->len > 0 &&
      g_array_index (sd->entries, LbPop3Entry, sd->entries->len - 1).msg >= msg)
    sd->sorted = FALSE;
  g_array_append_val (sd->entries, entry);
}

static void
sort_entries (ScanData *sd)
{
  if (!sd->sorted)
    {
      g_array_sort (sd->entries, compare_entries);
      sd->sorted = TRUE;
    }
  sd->cursor = 0;
}

static void
scan_send_tops (LbPop3Client *self,
                ScanData     *sd)
{
  guint window = pipelining (self) ? RETRIEVE_WINDOW : 1;

  while (sd->top_next < sd->entries->len && sd->top_in_flight < window)
    {
      char line[64];

      g_snprintf (line, sizeof line, "TOP %u 0",
                  g_array_index (sd->entries, LbPop3Entry, sd->top_next).msg);
      send_line (self, line, NULL, LB_POP3_EXPECT_DATA, SCAN_TAG_TOP + sd->top_next);
      sd->top_next++;
      sd->top_in_flight++;
    }
}

/* what follows when no reply is awaited */
static void
scan_next (LbPop3Client *self,
           ScanData     *sd)
{
  if (pending_tags (self) > 0)
    return;
  if (sd->uidl_wanted)
    {
      sd->uidl_wanted = FALSE;
      sd->uidl_sent = TRUE;
      send_line (self, "UIDL", NULL, LB_POP3_EXPECT_LINES, SCAN_TAG_UIDL);
      return;
    }
  if (sd->need_top && !sd->list_sent)
    {
      sd->list_sent = TRUE;
      send_line (self, "LIST", NULL, LB_POP3_EXPECT_LINES, SCAN_TAG_LIST);
      return;
    }
  if (sd->need_top && sd->top_next < sd->entries->len)
    {
      scan_send_tops (self, sd);
      return;
    }
  sort_entries (sd);
  op_return_pointer (self, g_steal_pointer (&sd->entries), (GDestroyNotify) g_array_unref);
}

static gboolean
scan_event (LbPop3Client       *self,
            guint               tag,
            const LbPop3Event  *event,
            GError            **error)
{
  ScanData *sd = g_task_get_task_data (self->task);

  if (!unexpected_continuation (event, error))
    return FALSE;

  if (tag == SCAN_TAG_LIST)
    {
      switch (event->kind)
        {
        case LB_POP3_EVENT_STATUS:
          if (event->reply->kind != LB_POP3_REPLY_OK)
            return fail (error, refused_error (_("The mail server could not list the messages"), event->reply));
          return TRUE;
        case LB_POP3_EVENT_DATA:
          {
            guint msg;
            guint64 size;

            if (!lb_pop3_parse_list_line ((const char *) event->data, (gssize) event->len, &msg, &size, error))
              return FALSE;
            append_entry (sd, msg, size, NULL);
          }
          return TRUE;
        case LB_POP3_EVENT_END:
          sd->listed = TRUE;
          sort_entries (sd);
          scan_next (self, sd);
          return TRUE;
        case LB_POP3_EVENT_NONE:
        default:
          g_assert_not_reached ();
        }
    }

  if (tag == SCAN_TAG_UIDL)
    {
      switch (event->kind)
        {
        case LB_POP3_EVENT_STATUS:
          if (event->reply->kind != LB_POP3_REPLY_OK)
            {
              /* no UIDL after all: the headers' hashes */
              sd->need_top = TRUE;
              scan_next (self, sd);
            }
          return TRUE;
        case LB_POP3_EVENT_DATA:
          {
            guint msg;
            char *uid = NULL;

            if (!lb_pop3_parse_uidl_line ((const char *) event->data, (gssize) event->len, &msg, &uid, error))
              return FALSE;
            if (sd->uidl_from_list)
              {
                LbPop3Entry *entry = find_entry (sd, msg);

                /* a message UIDL has and LIST has not is left out */
                if (entry != NULL)
                  {
                    g_free (entry->uid);
                    entry->uid = uid;
                  }
                else
                  g_free (uid);
              }
            else
              append_entry (sd, msg, 0, uid);
          }
          return TRUE;
        case LB_POP3_EVENT_END:
          scan_next (self, sd);
          return TRUE;
        case LB_POP3_EVENT_NONE:
        default:
          g_assert_not_reached ();
        }
    }

  /* TOP n 0 */
  {
    guint index = tag - SCAN_TAG_TOP;
    LbPop3Entry *entry;

    g_assert (tag >= SCAN_TAG_TOP && index < sd->entries->len);
    entry = &g_array_index (sd->entries, LbPop3Entry, index);
    switch (event->kind)
      {
      case LB_POP3_EVENT_STATUS:
        if (event->reply->kind != LB_POP3_REPLY_OK)
          return fail (error, refused_error (_("The mail server could not send a message’s headers"),
                                             event->reply));
        top_hash_reset (&sd->top);
        return TRUE;
      case LB_POP3_EVENT_DATA:
        top_hash_update (&sd->top, event->data, event->len);
        return TRUE;
      case LB_POP3_EVENT_END:
        g_free (entry->uid);
        entry->uid = top_hash_finish (&sd->top);
        sd->top_in_flight--;
        if (sd->top_next < sd->entries->len)
          scan_send_tops (self, sd);
        else
          scan_next (self, sd);
        return TRUE;
      case LB_POP3_EVENT_NONE:
      default:
        g_assert_not_reached ();
      }
  }
}

void
lb_pop3_client_scan_async (LbPop3Client        *self,
                           LbPop3ScanFlags      flags,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ScanData *sd;
  gboolean want_list, want_uids, uidl_possible;

  g_return_if_fail (LB_IS_POP3_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_pop3_client_scan_async);
  sd = g_new0 (ScanData, 1);
  sd->flags = flags;
  sd->sorted = TRUE;
  sd->entries = lb_pop3_entry_array_new (self->stat_known ? MIN (self->stat_count, MAX_RESERVE) : 0);
  g_task_set_task_data (task, sd, scan_data_free);
  if (!op_begin (self, task, TRANSACTION, scan_event))
    return;

  want_list = (flags & LB_POP3_SCAN_SIZES) != 0;
  want_uids = (flags & LB_POP3_SCAN_UIDS) != 0;
  uidl_possible = !self->capa_answered || g_hash_table_contains (self->capabilities, "UIDL");

  if (want_uids && !uidl_possible)
    {
      sd->need_top = TRUE;
      want_list = TRUE;
    }
  if (want_list)
    {
      sd->list_sent = TRUE;
      send_line (self, "LIST", NULL, LB_POP3_EXPECT_LINES, SCAN_TAG_LIST);
    }
  if (want_uids && uidl_possible)
    {
      sd->uidl_from_list = want_list;
      if (!want_list || pipelining (self))
        {
          sd->uidl_sent = TRUE;
          send_line (self, "UIDL", NULL, LB_POP3_EXPECT_LINES, SCAN_TAG_UIDL);
        }
      else
        sd->uidl_wanted = TRUE;
    }
  if (!want_list && !want_uids)
    {
      /* nothing asked: an empty answer */
      scan_next (self, sd);
      return;
    }
  update_timer (self);
  run (self);
}

GArray *
lb_pop3_client_scan_finish (LbPop3Client  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (LB_IS_POP3_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_pop3_client_scan_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Retrieve */

typedef struct
{
  guint                *msgs;
  guint                 n_msgs;
  gint                  top_lines;
  LbPop3RetrieveFuncs   funcs;
  gpointer              user_data;
  guint                 next_send;
  guint                 in_flight;
} RetrieveData;

static void
retrieve_data_free (gpointer data)
{
  RetrieveData *rd = data;

  g_free (rd->msgs);
  g_free (rd);
}

static void
retrieve_send (LbPop3Client *self,
               RetrieveData *rd)
{
  guint window = pipelining (self) ? RETRIEVE_WINDOW : 1;

  while (rd->next_send < rd->n_msgs && rd->in_flight < window)
    {
      char line[64];

      if (rd->top_lines < 0)
        g_snprintf (line, sizeof line, "RETR %u", rd->msgs[rd->next_send]);
      else
        g_snprintf (line, sizeof line, "TOP %u %d", rd->msgs[rd->next_send], rd->top_lines);
      send_line (self, line, NULL, LB_POP3_EXPECT_DATA, rd->next_send);
      rd->next_send++;
      rd->in_flight++;
    }
}

/* a reply ended: the next command, or the end */
static void
retrieve_next (LbPop3Client *self,
               RetrieveData *rd)
{
  rd->in_flight--;
  if (rd->next_send < rd->n_msgs)
    retrieve_send (self, rd);
  else if (rd->in_flight == 0)
    op_return_boolean (self);
}

static gboolean
callback_failed (GError **error,
                 GError  *failure)
{
  if (failure == NULL)
    failure = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, _("Could not store a downloaded message"));
  return fail (error, failure);
}

static gboolean
retrieve_event (LbPop3Client       *self,
                guint               tag,
                const LbPop3Event  *event,
                GError            **error)
{
  RetrieveData *rd = g_task_get_task_data (self->task);
  GError *failure = NULL;

  if (!unexpected_continuation (event, error))
    return FALSE;
  g_assert (tag < rd->n_msgs);

  switch (event->kind)
    {
    case LB_POP3_EVENT_STATUS:
      if (event->reply->kind != LB_POP3_REPLY_OK)
        {
          if (rd->funcs.refused != NULL)
            rd->funcs.refused (tag, event->reply, rd->user_data);
          if (self->task != NULL && !self->closed)
            retrieve_next (self, rd);
          return TRUE;
        }
      if (rd->funcs.begin != NULL && !rd->funcs.begin (tag, rd->user_data, &failure))
        return callback_failed (error, failure);
      return TRUE;
    case LB_POP3_EVENT_DATA:
      if (rd->funcs.data != NULL && !rd->funcs.data (tag, event->data, event->len, rd->user_data, &failure))
        return callback_failed (error, failure);
      return TRUE;
    case LB_POP3_EVENT_END:
      if (rd->funcs.end != NULL && !rd->funcs.end (tag, rd->user_data, &failure))
        return callback_failed (error, failure);
      if (self->task != NULL && !self->closed)
        retrieve_next (self, rd);
      return TRUE;
    case LB_POP3_EVENT_NONE:
    default:
      g_assert_not_reached ();
    }
}

void
lb_pop3_client_retrieve_async (LbPop3Client              *self,
                               const guint               *msgs,
                               guint                      n_msgs,
                               gint                       top_lines,
                               const LbPop3RetrieveFuncs *funcs,
                               gpointer                   user_data,
                               GCancellable              *cancellable,
                               GAsyncReadyCallback        callback,
                               gpointer                   user_data_cb)
{
  g_autoptr(GTask) task = NULL;
  RetrieveData *rd;

  g_return_if_fail (LB_IS_POP3_CLIENT (self));
  g_return_if_fail (msgs != NULL || n_msgs == 0);
  g_return_if_fail (funcs != NULL);

  task = new_task (self, cancellable, callback, user_data_cb, lb_pop3_client_retrieve_async);
  rd = g_new0 (RetrieveData, 1);
  rd->msgs = g_memdup2 (msgs, sizeof (guint) * n_msgs);
  rd->n_msgs = n_msgs;
  rd->top_lines = top_lines;
  rd->funcs = *funcs;
  rd->user_data = user_data;
  g_task_set_task_data (task, rd, retrieve_data_free);
  if (!op_begin (self, task, TRANSACTION, retrieve_event))
    return;
  if (n_msgs == 0)
    {
      op_return_boolean (self);
      return;
    }
  retrieve_send (self, rd);
  update_timer (self);
  run (self);
}

gboolean
lb_pop3_client_retrieve_finish (LbPop3Client  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return finish_boolean (self, result, lb_pop3_client_retrieve_async, error);
}

static gboolean
resume_cb (gpointer user_data)
{
  LbPop3Client *self = user_data;

  g_clear_pointer (&self->resume_source, g_source_unref);
  run (self);
  return G_SOURCE_REMOVE;
}

void
lb_pop3_client_pause (LbPop3Client *self)
{
  g_return_if_fail (LB_IS_POP3_CLIENT (self));

  if (self->closed)
    return;
  self->paused = TRUE;
  if (self->resume_source != NULL)
    {
      g_source_destroy (self->resume_source);
      g_clear_pointer (&self->resume_source, g_source_unref);
    }
  update_timer (self);
}

void
lb_pop3_client_resume (LbPop3Client *self)
{
  g_return_if_fail (LB_IS_POP3_CLIENT (self));

  if (!self->paused || self->closed)
    return;
  self->paused = FALSE;
  update_timer (self);
  /* inside a callback the running loop goes on by itself; otherwise the
   * buffered events are delivered from the main loop, not from here */
  if (!self->processing && self->resume_source == NULL)
    {
      self->resume_source = g_idle_source_new ();
      g_source_set_name (self->resume_source, "[letterbox] POP3 resume");
      g_source_set_callback (self->resume_source, resume_cb, g_object_ref (self), g_object_unref);
      g_source_attach (self->resume_source, self->context);
    }
}

/* DELE */

typedef struct
{
  guint       *msgs;
  guint        n_msgs;
  guint        next_send;
  guint        in_flight;
  guint        refused;
  LbPop3Reply *first_refusal;
} DeleData;

static void
dele_data_free (gpointer data)
{
  DeleData *dd = data;

  g_free (dd->msgs);
  g_clear_pointer (&dd->first_refusal, lb_pop3_reply_free);
  g_free (dd);
}

static void
dele_send (LbPop3Client *self,
           DeleData     *dd)
{
  guint window = pipelining (self) ? DELE_WINDOW : 1;

  while (dd->next_send < dd->n_msgs && dd->in_flight < window)
    {
      char line[64];

      g_snprintf (line, sizeof line, "DELE %u", dd->msgs[dd->next_send]);
      send_line (self, line, NULL, LB_POP3_EXPECT_SINGLE, dd->next_send);
      dd->next_send++;
      dd->in_flight++;
    }
}

static gboolean
dele_event (LbPop3Client       *self,
            guint               tag,
            const LbPop3Event  *event,
            GError            **error)
{
  DeleData *dd = g_task_get_task_data (self->task);

  if (!unexpected_continuation (event, error))
    return FALSE;
  if (event->reply->kind != LB_POP3_REPLY_OK)
    {
      if (dd->refused++ == 0)
        dd->first_refusal = lb_pop3_reply_copy (event->reply);
    }
  dd->in_flight--;
  /* refill at half the window: fewer, larger writes */
  if (dd->next_send < dd->n_msgs && dd->in_flight <= (pipelining (self) ? DELE_WINDOW / 2 : 0))
    dele_send (self, dd);
  else if (dd->in_flight == 0 && dd->next_send == dd->n_msgs)
    {
      if (dd->refused > 0)
        {
          /* the session is still in step: the connection stays */
          g_autofree char *count = g_strdup_printf ("%u", dd->refused);
          g_autofree char *what = g_strdup_printf (ngettext ("The mail server refused to delete %s message",
                                                             "The mail server refused to delete %s messages",
                                                             dd->refused),
                                                   count);

          op_return_error (self, refused_error (what, dd->first_refusal));
        }
      else
        op_return_boolean (self);
    }
  return TRUE;
}

void
lb_pop3_client_dele_async (LbPop3Client        *self,
                           const guint         *msgs,
                           guint                n_msgs,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  DeleData *dd;

  g_return_if_fail (LB_IS_POP3_CLIENT (self));
  g_return_if_fail (msgs != NULL || n_msgs == 0);

  task = new_task (self, cancellable, callback, user_data, lb_pop3_client_dele_async);
  dd = g_new0 (DeleData, 1);
  dd->msgs = g_memdup2 (msgs, sizeof (guint) * n_msgs);
  dd->n_msgs = n_msgs;
  g_task_set_task_data (task, dd, dele_data_free);
  if (!op_begin (self, task, TRANSACTION, dele_event))
    return;
  if (n_msgs == 0)
    {
      op_return_boolean (self);
      return;
    }
  dele_send (self, dd);
  update_timer (self);
  run (self);
}

gboolean
lb_pop3_client_dele_finish (LbPop3Client  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return finish_boolean (self, result, lb_pop3_client_dele_async, error);
}

/* RSET, NOOP, QUIT */

static gboolean
simple_event (LbPop3Client       *self,
              guint               tag,
              const LbPop3Event  *event,
              GError            **error)
{
  if (!unexpected_continuation (event, error))
    return FALSE;
  if (event->reply->kind != LB_POP3_REPLY_OK)
    {
      const char *what = g_task_get_task_data (self->task);

      return fail (error, refused_error (what, event->reply));
    }
  op_return_boolean (self);
  return TRUE;
}

static void
simple_command (LbPop3Client        *self,
                const char          *command,
                const char          *what,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data,
                gpointer             source_tag)
{
  g_autoptr(GTask) task = NULL;

  task = new_task (self, cancellable, callback, user_data, source_tag);
  g_task_set_task_data (task, g_strdup (what), g_free);
  if (!op_begin (self, task, TRANSACTION, simple_event))
    return;
  send_line (self, command, NULL, LB_POP3_EXPECT_SINGLE, TAG_NONE);
  update_timer (self);
  run (self);
}

void
lb_pop3_client_rset_async (LbPop3Client        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (LB_IS_POP3_CLIENT (self));

  simple_command (self, "RSET", _("The mail server could not undo the deletions"),
                  cancellable, callback, user_data, lb_pop3_client_rset_async);
}

gboolean
lb_pop3_client_rset_finish (LbPop3Client  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return finish_boolean (self, result, lb_pop3_client_rset_async, error);
}

void
lb_pop3_client_noop_async (LbPop3Client        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (LB_IS_POP3_CLIENT (self));

  simple_command (self, "NOOP", _("The mail server did not answer a check that it is there"),
                  cancellable, callback, user_data, lb_pop3_client_noop_async);
}

gboolean
lb_pop3_client_noop_finish (LbPop3Client  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return finish_boolean (self, result, lb_pop3_client_noop_async, error);
}

static gboolean
quit_event (LbPop3Client       *self,
            guint               tag,
            const LbPop3Event  *event,
            GError            **error)
{
  if (!unexpected_continuation (event, error))
    return FALSE;
  if (event->reply->kind != LB_POP3_REPLY_OK)
    return fail (error, refused_error (_("The mail server could not delete the messages at the end of the session"),
                                       event->reply));
  {
    /* closed before the caller hears of it */
    GTask *task = g_steal_pointer (&self->task);

    clear_op (self);
    shutdown_client (self, NULL);
    g_task_return_boolean (task, TRUE);
    g_object_unref (task);
  }
  return TRUE;
}

void
lb_pop3_client_quit_async (LbPop3Client        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LB_IS_POP3_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_pop3_client_quit_async);
  if (!op_begin (self, task, AUTHORIZATION | TRANSACTION, quit_event))
    return;
  send_line (self, "QUIT", NULL, LB_POP3_EXPECT_SINGLE, TAG_NONE);
  update_timer (self);
  run (self);
}

gboolean
lb_pop3_client_quit_finish (LbPop3Client  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return finish_boolean (self, result, lb_pop3_client_quit_async, error);
}

void
lb_pop3_client_close (LbPop3Client *self)
{
  g_return_if_fail (LB_IS_POP3_CLIENT (self));

  shutdown_client (self, NULL);
}
