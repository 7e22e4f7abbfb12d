/* lb-smtp-client.c: an SMTP submission client on a GIOStream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-smtp"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lb-smtp-client.h"
#include "lb-net-stream.h"

/* One operation runs at a time. It is a chain of steps: a step writes a
 * command (write_then()) and names the function that gets the next reply
 * (read_reply()). Any I/O failure, a timeout or a cancellation ends in
 * io_failed(), which closes the connection and fails the operation (with
 * LB_SMTP_ERROR_UNCERTAIN once the data's final dot was written).
 *
 * Reading: one g_input_stream_read_async() at a time, all of it fed to the
 * reply framer. Writing: in pieces of WRITE_CHUNK, so the timeout measures
 * progress and not the whole message. The timer runs while any read or
 * write is pending and cancels the operation's own GCancellable (which the
 * caller's also cancels) when it fires. */

#define DEFAULT_TIMEOUT_SECONDS 120
#define READ_BUFFER_SIZE 8192
#define WRITE_CHUNK (64 * 1024)

typedef void (*ReplyFunc)   (LbSmtpClient *self,
                             LbSmtpReply  *reply);
typedef void (*WrittenFunc) (LbSmtpClient *self);

typedef struct
{
  /* login */
  LbSmtpAuthMethod method;
  char            *user;
  char            *secret;
  /* starttls */
  LbConnector     *connector;
  char            *host;
  guint16          port;
  /* ehlo */
  gboolean         helo_fallback;
  /* send */
  GPtrArray       *recipients;
  GBytes          *data;
  GPtrArray       *replies;      /* of MAIL and each RCPT */
  guint            expected;     /* replies still to come (pipelined) */
  guint            next_rcpt;    /* without pipelining */
  gboolean         data_written; /* the final dot went out */
  gboolean         dot_pending;  /* the write carrying it is under way */
  GError          *saved_error;  /* failed; RSET is under way */
} Op;

struct _LbSmtpClient
{
  GObject            parent_instance;

  GMainContext      *context;
  GIOStream         *stream;
  GInputStream      *input;
  GOutputStream     *output;
  LbSmtpReplyParser *parser;
  guint8            *buffer;
  guint              timeout;
  char              *helo_name;
  char              *greeting;
  LbSmtpExtensions  *extensions;
  gboolean           closed;
  gboolean           close_pending;

  LbSmtpTraceFunc    trace_func;
  gpointer           trace_data;
  GDestroyNotify     trace_destroy;

  /* the running operation */
  GTask             *task;
  Op                *op;
  GCancellable      *io_cancellable;
  GCancellable      *user_cancellable;
  gulong             cancelled_id;
  GSource           *timer;
  gboolean           timed_out;
  ReplyFunc          on_reply;
  WrittenFunc        on_written;
  GBytes            *out;
  gsize              out_offset;
};

G_DEFINE_FINAL_TYPE (LbSmtpClient, lb_smtp_client, G_TYPE_OBJECT)

static void
op_free (Op *op)
{
  if (op == NULL)
    return;
  g_free (op->user);
  if (op->secret != NULL)
    {
      memset (op->secret, 0, strlen (op->secret));
      g_free (op->secret);
    }
  g_clear_object (&op->connector);
  g_free (op->host);
  g_clear_pointer (&op->recipients, g_ptr_array_unref);
  g_clear_pointer (&op->data, g_bytes_unref);
  g_clear_pointer (&op->replies, g_ptr_array_unref);
  g_clear_error (&op->saved_error);
  g_free (op);
}

/* ---- the trace ---- */

static void
trace (LbSmtpClient *self,
       gboolean      sent,
       const char   *line)
{
  g_debug ("%s %s", sent ? "C:" : "S:", line);
  if (self->trace_func != NULL)
    self->trace_func (sent, line, self->trace_data);
}

static void
trace_reply (LbSmtpClient      *self,
             const LbSmtpReply *reply)
{
  for (guint i = 0; reply->lines[i] != NULL; i++)
    {
      g_autofree char *line = NULL;

      if (i == 0 && lb_smtp_reply_has_enhanced (reply))
        line = g_strdup_printf ("%03u%c%u.%u.%u %s", reply->code, reply->lines[i + 1] != NULL ? '-' : ' ',
                                reply->enhanced[0], reply->enhanced[1], reply->enhanced[2], reply->lines[i]);
      else
        line = g_strdup_printf ("%03u%c%s", reply->code, reply->lines[i + 1] != NULL ? '-' : ' ',
                                reply->lines[i]);
      trace (self, FALSE, line);
    }
}

/* ---- errors ---- */

static GError *
refusal (const LbSmtpReply *reply,
         const char        *what)
{
  g_autofree char *text = lb_smtp_reply_to_string (reply);

  return g_error_new (LB_SMTP_ERROR,
                      lb_smtp_reply_get_class (reply) == 4 ? LB_SMTP_ERROR_TEMPORARY : LB_SMTP_ERROR_PERMANENT,
                      /* Translators: the first %s says what failed, the second is the server's reply */
                      _("%s: %s"), what, text);
}

/* ---- timer, streams, closing ---- */

static gboolean
timer_cb (gpointer user_data)
{
  LbSmtpClient *self = user_data;

  self->timed_out = TRUE;
  g_clear_pointer (&self->timer, g_source_unref);
  if (self->io_cancellable != NULL)
    g_cancellable_cancel (self->io_cancellable);
  return G_SOURCE_REMOVE;
}

static void
timer_stop (LbSmtpClient *self)
{
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
}

static void
timer_start (LbSmtpClient *self)
{
  timer_stop (self);
  if (self->timeout == 0)
    return;
  self->timer = g_timeout_source_new_seconds (self->timeout);
  g_source_set_name (self->timer, "[letterbox] SMTP timeout");
  g_source_set_callback (self->timer, timer_cb, self, NULL);
  g_source_attach (self->timer, self->context);
}

static void
set_stream (LbSmtpClient *self,
            GIOStream    *stream)
{
  g_set_object (&self->stream, stream);
  self->input = g_io_stream_get_input_stream (stream);
  self->output = g_io_stream_get_output_stream (stream);
  /* our own timeout replaces the socket's */
  lb_net_stream_set_up_socket (stream, FALSE);
}

static void
close_stream (LbSmtpClient *self)
{
  self->closed = TRUE;
  if (self->task != NULL)
    {
      /* after the running operation's pending I/O returns */
      self->close_pending = TRUE;
      return;
    }
  self->close_pending = FALSE;
  if (self->stream != NULL && !g_io_stream_is_closed (self->stream))
    g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
}

/* ---- operations ---- */

static void
op_cancelled_cb (GCancellable *cancellable,
                 gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

static GTask *
op_new_task (LbSmtpClient        *self,
             gpointer             source_tag,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  return task;
}

/* takes @task; FALSE when it was already failed */
static gboolean
op_begin (LbSmtpClient *self,
          GTask        *task,
          Op           *op)
{
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (self->task != NULL)
    {
      op_free (op);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING, "%s",
                               _("Another operation is running on this connection"));
      g_object_unref (task);
      return FALSE;
    }
  if (self->closed)
    {
      op_free (op);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CLOSED, "%s",
                               _("The connection to the mail server is closed"));
      g_object_unref (task);
      return FALSE;
    }
  if (g_cancellable_is_cancelled (cancellable))
    {
      op_free (op);
      g_task_return_error_if_cancelled (task);
      g_object_unref (task);
      return FALSE;
    }

  self->task = task;
  self->op = op;
  self->timed_out = FALSE;
  self->io_cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      self->user_cancellable = g_object_ref (cancellable);
      self->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (op_cancelled_cb),
                                                  g_object_ref (self->io_cancellable), g_object_unref);
    }
  return TRUE;
}

static GTask *
op_end (LbSmtpClient *self)
{
  GTask *task = g_steal_pointer (&self->task);

  timer_stop (self);
  if (self->user_cancellable != NULL)
    {
      g_cancellable_disconnect (self->user_cancellable, self->cancelled_id);
      self->cancelled_id = 0;
      g_clear_object (&self->user_cancellable);
    }
  g_clear_object (&self->io_cancellable);
  g_clear_pointer (&self->op, op_free);
  g_clear_pointer (&self->out, g_bytes_unref);
  self->on_reply = NULL;
  self->on_written = NULL;
  if (self->close_pending)
    close_stream (self);
  return task;
}

static void
op_return_ok (LbSmtpClient *self)
{
  GTask *task = op_end (self);

  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* takes @error; @close: the session cannot go on */
static void
op_return_error (LbSmtpClient *self,
                 GError       *error,
                 gboolean      close)
{
  GTask *task;

  g_debug ("failed: %s", error->message);
  if (close)
    close_stream (self);
  task = op_end (self);
  g_task_return_error (task, error);
  g_object_unref (task);
}

/* a failed read or write (takes @error) */
static void
io_failed (LbSmtpClient *self,
           GError       *error)
{
  Op *op = self->op;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (self->timed_out)
        {
          g_clear_error (&error);
          error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               g_dngettext (GETTEXT_PACKAGE,
                                            "The mail server did not answer within %u second",
                                            "The mail server did not answer within %u seconds",
                                            self->timeout),
                               self->timeout);
        }
      else if (self->closed)
        {
          g_clear_error (&error);
          error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                       _("The connection to the mail server was closed"));
        }
    }

  if (op != NULL && op->data_written)
    {
      GError *uncertain = g_error_new (LB_SMTP_ERROR, LB_SMTP_ERROR_UNCERTAIN,
                                       _("The whole message was handed to the mail server, but the "
                                         "connection failed before the server confirmed it (%s): "
                                         "it may have been sent"),
                                       error->message);

      g_error_free (error);
      error = uncertain;
    }
  else if (op != NULL && op->saved_error != NULL)
    {
      /* RSET failed: the refusal is what matters */
      g_error_free (error);
      error = g_steal_pointer (&op->saved_error);
    }

  op_return_error (self, error, TRUE);
}

static void read_more (LbSmtpClient *self);

static void
dispatch (LbSmtpClient *self)
{
  GError *error = NULL;
  LbSmtpReply *reply = lb_smtp_reply_parser_next (self->parser, &error);
  ReplyFunc func;

  if (error != NULL)
    {
      io_failed (self, error);
      return;
    }
  if (reply == NULL)
    {
      read_more (self);
      return;
    }

  trace_reply (self, reply);
  func = self->on_reply;
  self->on_reply = NULL;
  func (self, reply);
  lb_smtp_reply_free (reply);
}

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(LbSmtpClient) self = user_data;
  GError *error = NULL;
  gssize n;

  timer_stop (self);
  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  if (n < 0)
    {
      io_failed (self, error);
      return;
    }
  if (n == 0)
    {
      if (lb_smtp_reply_parser_finish (self->parser, &error))
        error = g_error_new_literal (LB_SMTP_ERROR, LB_SMTP_ERROR_CUT,
                                     _("The mail server closed the connection"));
      io_failed (self, error);
      return;
    }
  lb_smtp_reply_parser_feed (self->parser, self->buffer, (gsize) n);
  dispatch (self);
}

static void
read_more (LbSmtpClient *self)
{
  timer_start (self);
  g_input_stream_read_async (self->input, self->buffer, READ_BUFFER_SIZE, G_PRIORITY_DEFAULT,
                             self->io_cancellable, read_cb, g_object_ref (self));
}

/* @func gets the next reply (borrowed) */
static void
read_reply (LbSmtpClient *self,
            ReplyFunc     func)
{
  self->on_reply = func;
  dispatch (self);
}

static void write_more (LbSmtpClient *self);
static void data_written (LbSmtpClient *self);

static void
write_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(LbSmtpClient) self = user_data;
  GError *error = NULL;
  gssize n;

  timer_stop (self);
  n = g_output_stream_write_finish (G_OUTPUT_STREAM (object), result, &error);
  if (n < 0)
    {
      /* cancelled (or timed out) as the final dot went: it may be out */
      if (self->op->dot_pending && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        self->op->data_written = TRUE;
      io_failed (self, error);
      return;
    }
  self->out_offset += (gsize) n;
  write_more (self);
}

static void
write_more (LbSmtpClient *self)
{
  gsize size = g_bytes_get_size (self->out);

  if (self->out_offset >= size)
    {
      WrittenFunc func = self->on_written;

      g_clear_pointer (&self->out, g_bytes_unref);
      self->on_written = NULL;
      func (self);
      return;
    }

  /* the write that carries the final dot may be done and still report a
   * cancellation (checked as it returns): see write_cb() */
  self->op->dot_pending = self->on_written == data_written && size - self->out_offset <= (gsize) WRITE_CHUNK;
  timer_start (self);
  g_output_stream_write_async (self->output,
                               (const guint8 *) g_bytes_get_data (self->out, NULL) + self->out_offset,
                               MIN (size - self->out_offset, (gsize) WRITE_CHUNK), G_PRIORITY_DEFAULT,
                               self->io_cancellable, write_cb, g_object_ref (self));
}

/* writes @bytes, then calls @func */
static void
write_bytes (LbSmtpClient *self,
             GBytes       *bytes,
             WrittenFunc   func)
{
  g_clear_pointer (&self->out, g_bytes_unref);
  self->out = g_bytes_ref (bytes);
  self->out_offset = 0;
  self->on_written = func;
  write_more (self);
}

/* the reply function was set before the write */
static void
after_write_read (LbSmtpClient *self)
{
  dispatch (self);
}

/* writes the lines of @commands (each without CRLF), traced as @shown
 * (NULL: as they are), then reads a reply with @func */
static void
send_lines (LbSmtpClient       *self,
            const char * const *commands,
            const char         *shown,
            ReplyFunc           func)
{
  GString *out = g_string_new (NULL);
  GBytes *bytes;

  for (guint i = 0; commands[i] != NULL; i++)
    {
      trace (self, TRUE, shown != NULL ? shown : commands[i]);
      g_string_append (out, commands[i]);
      g_string_append (out, "\r\n");
    }
  bytes = g_string_free_to_bytes (out);
  self->on_reply = func;
  write_bytes (self, bytes, after_write_read);
  g_bytes_unref (bytes);
}

static void
send_line (LbSmtpClient *self,
           const char   *command,
           const char   *shown,
           ReplyFunc     func)
{
  const char *commands[] = { command, NULL };

  send_lines (self, commands, shown, func);
}

/* ---- object ---- */

static void
lb_smtp_client_dispose (GObject *object)
{
  LbSmtpClient *self = LB_SMTP_CLIENT (object);

  /* every pending operation holds a reference: none is running here */
  if (!self->closed)
    close_stream (self);
  G_OBJECT_CLASS (lb_smtp_client_parent_class)->dispose (object);
}

static void
lb_smtp_client_finalize (GObject *object)
{
  LbSmtpClient *self = LB_SMTP_CLIENT (object);

  if (self->trace_destroy != NULL)
    self->trace_destroy (self->trace_data);
  g_clear_object (&self->stream);
  g_clear_pointer (&self->parser, lb_smtp_reply_parser_free);
  g_free (self->buffer);
  g_free (self->helo_name);
  g_free (self->greeting);
  g_clear_pointer (&self->extensions, lb_smtp_extensions_free);
  g_main_context_unref (self->context);
  G_OBJECT_CLASS (lb_smtp_client_parent_class)->finalize (object);
}

static void
lb_smtp_client_class_init (LbSmtpClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lb_smtp_client_dispose;
  object_class->finalize = lb_smtp_client_finalize;
}

static void
lb_smtp_client_init (LbSmtpClient *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->parser = lb_smtp_reply_parser_new ();
  self->buffer = g_malloc (READ_BUFFER_SIZE);
  self->timeout = DEFAULT_TIMEOUT_SECONDS;
}

LbSmtpClient *
lb_smtp_client_new (GIOStream *stream)
{
  LbSmtpClient *self;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);

  self = g_object_new (LB_TYPE_SMTP_CLIENT, NULL);
  set_stream (self, stream);
  self->helo_name = lb_net_stream_address_literal (stream);
  if (self->helo_name == NULL)
    self->helo_name = g_strdup ("localhost");
  return self;
}

GIOStream *
lb_smtp_client_get_stream (LbSmtpClient *self)
{
  g_return_val_if_fail (LB_IS_SMTP_CLIENT (self), NULL);
  return self->stream;
}

void
lb_smtp_client_set_timeout (LbSmtpClient *self,
                            guint         seconds)
{
  g_return_if_fail (LB_IS_SMTP_CLIENT (self));
  self->timeout = seconds;
}

void
lb_smtp_client_set_trace_func (LbSmtpClient    *self,
                               LbSmtpTraceFunc  func,
                               gpointer         user_data,
                               GDestroyNotify   destroy)
{
  g_return_if_fail (LB_IS_SMTP_CLIENT (self));

  if (self->trace_destroy != NULL)
    self->trace_destroy (self->trace_data);
  self->trace_func = func;
  self->trace_data = user_data;
  self->trace_destroy = destroy;
}

const char *
lb_smtp_client_get_greeting (LbSmtpClient *self)
{
  g_return_val_if_fail (LB_IS_SMTP_CLIENT (self), NULL);
  return self->greeting;
}

const LbSmtpExtensions *
lb_smtp_client_get_extensions (LbSmtpClient *self)
{
  g_return_val_if_fail (LB_IS_SMTP_CLIENT (self), NULL);
  return self->extensions;
}

gboolean
lb_smtp_client_is_closed (LbSmtpClient *self)
{
  g_return_val_if_fail (LB_IS_SMTP_CLIENT (self), TRUE);
  return self->closed;
}

void
lb_smtp_client_close (LbSmtpClient *self)
{
  g_return_if_fail (LB_IS_SMTP_CLIENT (self));

  if (self->closed)
    return;
  close_stream (self);
  if (self->io_cancellable != NULL)
    g_cancellable_cancel (self->io_cancellable);
}

static gboolean
finish_boolean (LbSmtpClient  *self,
                GAsyncResult  *result,
                gpointer       tag,
                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- greeting ---- */

static void
greeting_reply (LbSmtpClient *self,
                LbSmtpReply  *reply)
{
  if (reply->code != 220)
    {
      op_return_error (self, refusal (reply, _("The mail server refused the connection")), TRUE);
      return;
    }
  g_free (self->greeting);
  self->greeting = g_strjoinv (" ", reply->lines);
  op_return_ok (self);
}

void
lb_smtp_client_greet_async (LbSmtpClient        *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (LB_IS_SMTP_CLIENT (self));

  task = op_new_task (self, lb_smtp_client_greet_async, cancellable, callback, user_data);
  if (!op_begin (self, task, g_new0 (Op, 1)))
    return;
  read_reply (self, greeting_reply);
}

gboolean
lb_smtp_client_greet_finish (LbSmtpClient  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return finish_boolean (self, result, lb_smtp_client_greet_async, error);
}

/* ---- EHLO ---- */

static void
helo_reply (LbSmtpClient *self,
            LbSmtpReply  *reply)
{
  LbSmtpReply empty = { 250, { 0, 0, 0 }, (char *[]) { (char *) "", NULL } };

  if (lb_smtp_reply_get_class (reply) != 2)
    {
      op_return_error (self, refusal (reply, _("The mail server refused the greeting HELO")), TRUE);
      return;
    }
  g_clear_pointer (&self->extensions, lb_smtp_extensions_free);
  self->extensions = lb_smtp_extensions_parse (&empty);
  op_return_ok (self);
}

static void
ehlo_reply (LbSmtpClient *self,
            LbSmtpReply  *reply)
{
  if (lb_smtp_reply_get_class (reply) == 2)
    {
      g_clear_pointer (&self->extensions, lb_smtp_extensions_free);
      self->extensions = lb_smtp_extensions_parse (reply);
      op_return_ok (self);
      return;
    }
  if (lb_smtp_reply_get_class (reply) == 5 && self->op->helo_fallback)
    {
      g_autofree char *helo = g_strdup_printf ("HELO %s", self->helo_name);

      send_line (self, helo, NULL, helo_reply);
      return;
    }
  op_return_error (self, refusal (reply, _("The mail server refused the greeting EHLO")), TRUE);
}

static void
send_ehlo (LbSmtpClient *self)
{
  g_autofree char *ehlo = g_strdup_printf ("EHLO %s", self->helo_name);

  send_line (self, ehlo, NULL, ehlo_reply);
}

void
lb_smtp_client_ehlo_async (LbSmtpClient        *self,
                           gboolean             helo_fallback,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task;
  Op *op;

  g_return_if_fail (LB_IS_SMTP_CLIENT (self));

  task = op_new_task (self, lb_smtp_client_ehlo_async, cancellable, callback, user_data);
  op = g_new0 (Op, 1);
  op->helo_fallback = helo_fallback;
  if (!op_begin (self, task, op))
    return;
  send_ehlo (self);
}

gboolean
lb_smtp_client_ehlo_finish (LbSmtpClient  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return finish_boolean (self, result, lb_smtp_client_ehlo_async, error);
}

/* ---- STARTTLS ---- */

static void
handshake_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(LbSmtpClient) self = user_data;
  g_autoptr(GIOStream) tls = NULL;
  GError *error = NULL;

  timer_stop (self);
  tls = lb_connector_start_tls_finish (LB_CONNECTOR (object), result, &error);
  if (tls == NULL)
    {
      io_failed (self, error);
      return;
    }
  set_stream (self, tls);
  trace (self, FALSE, "[TLS handshake done]");
  /* what the server said before is forgotten (RFC 3207 4.2) */
  g_clear_pointer (&self->extensions, lb_smtp_extensions_free);
  self->op->helo_fallback = FALSE;
  send_ehlo (self);
}

static void
starttls_reply (LbSmtpClient *self,
                LbSmtpReply  *reply)
{
  Op *op = self->op;

  if (reply->code != 220)
    {
      g_autofree char *text = lb_smtp_reply_to_string (reply);

      op_return_error (self, g_error_new (LB_SMTP_ERROR, LB_SMTP_ERROR_NO_STARTTLS,
                                          _("The mail server refused to encrypt the connection (STARTTLS): %s"),
                                          text),
                       TRUE);
      return;
    }
  if (lb_smtp_reply_parser_get_pending (self->parser) > 0)
    {
      op_return_error (self, g_error_new_literal (LB_SMTP_ERROR, LB_SMTP_ERROR_UNEXPECTED,
                                                  _("The mail server sent data before encrypting the "
                                                    "connection; someone may be tampering with it")),
                       TRUE);
      return;
    }

  timer_start (self);
  lb_connector_start_tls_async (op->connector, self->stream, op->host, op->port, self->io_cancellable,
                                handshake_cb, g_object_ref (self));
}

void
lb_smtp_client_starttls_async (LbSmtpClient        *self,
                               LbConnector         *connector,
                               const char          *host,
                               guint16              port,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;
  Op *op;

  g_return_if_fail (LB_IS_SMTP_CLIENT (self));
  g_return_if_fail (LB_IS_CONNECTOR (connector));
  g_return_if_fail (host != NULL);

  task = op_new_task (self, lb_smtp_client_starttls_async, cancellable, callback, user_data);
  op = g_new0 (Op, 1);
  op->connector = g_object_ref (connector);
  op->host = g_strdup (host);
  op->port = port;
  if (!op_begin (self, task, op))
    return;

  if (self->extensions == NULL || (self->extensions->flags & LB_SMTP_EXTENSION_STARTTLS) == 0)
    {
      op_return_error (self, g_error_new (LB_SMTP_ERROR, LB_SMTP_ERROR_NO_STARTTLS,
                                          _("The mail server %s does not offer to encrypt the connection "
                                            "(STARTTLS); nothing was sent"),
                                          host),
                       TRUE);
      return;
    }
  send_line (self, "STARTTLS", NULL, starttls_reply);
}

gboolean
lb_smtp_client_starttls_finish (LbSmtpClient  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return finish_boolean (self, result, lb_smtp_client_starttls_async, error);
}

/* ---- AUTH ---- */

static char *
base64_text (const char *text,
             gsize       len)
{
  return g_base64_encode ((const guchar *) text, len);
}

static void
login_refused (LbSmtpClient *self,
               LbSmtpReply  *reply)
{
  g_autofree char *text = lb_smtp_reply_to_string (reply);
  GError *error;

  if (lb_smtp_reply_get_class (reply) == 4)
    error = g_error_new (LB_SMTP_ERROR, LB_SMTP_ERROR_TEMPORARY,
                         _("The mail server cannot log you in right now; try again later (%s)"), text);
  else if (reply->code == 504)
    error = g_error_new (LB_SMTP_ERROR, LB_SMTP_ERROR_NOT_SUPPORTED,
                         _("The mail server does not support this way of logging in (%s)"), text);
  else
    error = g_error_new (LB_SMTP_ERROR, LB_SMTP_ERROR_AUTHENTICATION,
                         _("The mail server refused the user name or password (%s)"), text);
  op_return_error (self, error, TRUE);
}

static void
auth_final_reply (LbSmtpClient *self,
                  LbSmtpReply  *reply)
{
  if (reply->code == 235 || lb_smtp_reply_get_class (reply) == 2)
    {
      op_return_ok (self);
      return;
    }
  if (reply->code == 334)
    {
      /* XOAUTH2 sends its error as a challenge, to be answered empty;
       * anything else has no more to say: cancel the exchange */
      send_line (self, self->op->method == LB_SMTP_AUTH_XOAUTH2 ? "" : "*", NULL, auth_final_reply);
      return;
    }
  login_refused (self, reply);
}

static void
login_password_reply (LbSmtpClient *self,
                      LbSmtpReply  *reply)
{
  g_autofree char *encoded = NULL;

  if (reply->code != 334)
    {
      auth_final_reply (self, reply);
      return;
    }
  encoded = base64_text (self->op->secret, strlen (self->op->secret));
  send_line (self, encoded, "***", auth_final_reply);
}

static void
login_user_reply (LbSmtpClient *self,
                  LbSmtpReply  *reply)
{
  g_autofree char *encoded = NULL;

  if (reply->code != 334)
    {
      auth_final_reply (self, reply);
      return;
    }
  encoded = base64_text (self->op->user, strlen (self->op->user));
  send_line (self, encoded, "***", login_password_reply);
}

void
lb_smtp_client_login_async (LbSmtpClient        *self,
                            LbSmtpAuthMethod     method,
                            const char          *user,
                            const char          *secret,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;
  Op *op;
  const LbSmtpExtensions *ext;

  g_return_if_fail (LB_IS_SMTP_CLIENT (self));
  g_return_if_fail (user != NULL && secret != NULL);

  task = op_new_task (self, lb_smtp_client_login_async, cancellable, callback, user_data);
  op = g_new0 (Op, 1);
  op->user = g_strdup (user);
  op->secret = g_strdup (secret);
  if (!op_begin (self, task, op))
    return;

  ext = self->extensions;
  if (method == LB_SMTP_AUTH_AUTO && ext != NULL)
    {
      if (lb_smtp_extensions_has_auth (ext, "PLAIN"))
        method = LB_SMTP_AUTH_PLAIN;
      else if (lb_smtp_extensions_has_auth (ext, "LOGIN"))
        method = LB_SMTP_AUTH_LOGIN;
    }
  op->method = method;

  switch (method)
    {
    case LB_SMTP_AUTH_PLAIN:
      if (ext != NULL && lb_smtp_extensions_has_auth (ext, "PLAIN"))
        {
          g_autofree char *raw = g_strdup_printf ("%c%s%c%s", 0, user, 0, secret);
          g_autofree char *encoded = base64_text (raw, 2 + strlen (user) + strlen (secret));
          g_autofree char *line = g_strconcat ("AUTH PLAIN ", encoded, NULL);

          memset (raw, 0, 2 + strlen (user) + strlen (secret));
          send_line (self, line, "AUTH PLAIN ***", auth_final_reply);
          memset (line, 0, strlen (line));
          return;
        }
      break;
    case LB_SMTP_AUTH_LOGIN:
      if (ext != NULL && lb_smtp_extensions_has_auth (ext, "LOGIN"))
        {
          send_line (self, "AUTH LOGIN", NULL, login_user_reply);
          return;
        }
      break;
    case LB_SMTP_AUTH_XOAUTH2:
      if (ext != NULL && lb_smtp_extensions_has_auth (ext, "XOAUTH2"))
        {
          g_autofree char *raw = g_strdup_printf ("user=%s\001auth=Bearer %s\001\001", user, secret);
          g_autofree char *encoded = base64_text (raw, strlen (raw));
          g_autofree char *line = g_strconcat ("AUTH XOAUTH2 ", encoded, NULL);

          memset (raw, 0, strlen (raw));
          send_line (self, line, "AUTH XOAUTH2 ***", auth_final_reply);
          memset (line, 0, strlen (line));
          return;
        }
      break;
    case LB_SMTP_AUTH_AUTO:
      break;
    default:
      g_assert_not_reached ();
    }

  op_return_error (self, g_error_new_literal (LB_SMTP_ERROR, LB_SMTP_ERROR_NOT_SUPPORTED,
                                              _("The mail server offers no way of logging in that "
                                                "Letterbox supports")),
                   TRUE);
}

gboolean
lb_smtp_client_login_finish (LbSmtpClient  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return finish_boolean (self, result, lb_smtp_client_login_async, error);
}

/* ---- sending ---- */

GBytes *
lb_smtp_dot_stuff (GBytes   *message,
                   gboolean *eight_bit)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);
  GByteArray *out = g_byte_array_sized_new ((guint) (len + len / 64 + 8));
  gboolean line_start = TRUE;
  gboolean high = FALSE;

  for (gsize i = 0; i < len; i++)
    {
      guint8 c = data[i];

      if (c >= 0x80)
        high = TRUE;
      if (line_start && c == '.')
        g_byte_array_append (out, (const guint8 *) ".", 1);
      if (c == '\r' || c == '\n')
        {
          /* CRLF, a lone LF and a lone CR all end a line */
          if (c == '\r' && i + 1 < len && data[i + 1] == '\n')
            i++;
          g_byte_array_append (out, (const guint8 *) "\r\n", 2);
          line_start = TRUE;
          continue;
        }
      g_byte_array_append (out, &c, 1);
      line_start = FALSE;
    }
  if (!line_start)
    g_byte_array_append (out, (const guint8 *) "\r\n", 2);
  g_byte_array_append (out, (const guint8 *) ".\r\n", 3);

  if (eight_bit != NULL)
    *eight_bit = high;
  return g_byte_array_free_to_bytes (out);
}

static gboolean
is_ascii (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p >= 0x80)
      return FALSE;
  return TRUE;
}

/* what SMTP's Mailbox cannot hold in any form and a command line must
 * not carry */
static gboolean
address_ok (const char *address,
            gboolean    empty_ok)
{
  if (address[0] == '\0')
    return empty_ok;
  if (!g_utf8_validate (address, -1, NULL) || strlen (address) > 320)
    return FALSE;
  for (const char *p = address; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c <= 0x20 || c == 0x7F || c == '<' || c == '>')
        return FALSE;
    }
  return TRUE;
}

static void rset_then_fail (LbSmtpClient *self,
                            GError       *error);

static void
data_final_reply (LbSmtpClient *self,
                  LbSmtpReply  *reply)
{
  self->op->data_written = FALSE;
  if (lb_smtp_reply_get_class (reply) == 2)
    {
      op_return_ok (self);
      return;
    }
  rset_then_fail (self, refusal (reply, _("The mail server did not accept the message")));
}

static void
data_written (LbSmtpClient *self)
{
  self->op->data_written = TRUE;
  read_reply (self, data_final_reply);
}

static void
data_reply (LbSmtpClient *self,
            LbSmtpReply  *reply)
{
  g_autofree char *shown = NULL;

  if (reply->code != 354)
    {
      rset_then_fail (self, refusal (reply, _("The mail server did not accept the message")));
      return;
    }
  shown = g_strdup_printf ("[%" G_GSIZE_FORMAT " bytes of message data]", g_bytes_get_size (self->op->data));
  trace (self, TRUE, shown);
  write_bytes (self, self->op->data, data_written);
}

static void
rset_reply (LbSmtpClient *self,
            LbSmtpReply  *reply)
{
  /* the session goes on whatever RSET got */
  op_return_error (self, g_steal_pointer (&self->op->saved_error), FALSE);
}

/* takes @error */
static void
rset_then_fail (LbSmtpClient *self,
                GError       *error)
{
  g_clear_error (&self->op->saved_error);
  self->op->saved_error = error;
  send_line (self, "RSET", NULL, rset_reply);
}

/* every reply of the envelope is in */
static void
envelope_done (LbSmtpClient *self)
{
  Op *op = self->op;
  LbSmtpReply *mail = op->replies->pdata[0];
  g_autoptr(GString) refused = NULL;
  gboolean all_temporary = TRUE;

  if (lb_smtp_reply_get_class (mail) != 2)
    {
      g_autofree char *what = g_strdup_printf (_("The mail server refused the sender %s"),
                                               (const char *) op->recipients->pdata[0]);

      rset_then_fail (self, refusal (mail, what));
      return;
    }

  for (guint i = 1; i < op->replies->len; i++)
    {
      LbSmtpReply *rcpt = op->replies->pdata[i];
      g_autofree char *text = NULL;

      if (lb_smtp_reply_get_class (rcpt) == 2)
        continue;
      if (lb_smtp_reply_get_class (rcpt) != 4)
        all_temporary = FALSE;
      text = lb_smtp_reply_to_string (rcpt);
      if (refused == NULL)
        refused = g_string_new (NULL);
      else
        g_string_append (refused, "; ");
      g_string_append_printf (refused, "%s: %s", (const char *) op->recipients->pdata[i], text);
    }
  if (refused != NULL)
    {
      rset_then_fail (self, g_error_new (LB_SMTP_ERROR,
                                         all_temporary ? LB_SMTP_ERROR_RECIPIENTS_TEMPORARY
                                                       : LB_SMTP_ERROR_RECIPIENTS,
                                         _("The mail server refused these recipients: %s"),
                                         refused->str));
      return;
    }

  send_line (self, "DATA", NULL, data_reply);
}

static void
pipelined_reply (LbSmtpClient *self,
                 LbSmtpReply  *reply)
{
  Op *op = self->op;

  g_ptr_array_add (op->replies, lb_smtp_reply_copy (reply));
  if (--op->expected > 0)
    {
      read_reply (self, pipelined_reply);
      return;
    }
  envelope_done (self);
}

static char *
rcpt_line (LbSmtpClient *self,
           const char   *address)
{
  if ((self->extensions->flags & LB_SMTP_EXTENSION_DSN) != 0)
    return g_strdup_printf ("RCPT TO:<%s> NOTIFY=FAILURE,DELAY", address);
  return g_strdup_printf ("RCPT TO:<%s>", address);
}

static void
step_reply (LbSmtpClient *self,
            LbSmtpReply  *reply)
{
  Op *op = self->op;
  g_autofree char *line = NULL;

  g_ptr_array_add (op->replies, lb_smtp_reply_copy (reply));
  /* a refused sender: no point in asking about recipients */
  if (op->replies->len == 1 && lb_smtp_reply_get_class (reply) != 2)
    {
      envelope_done (self);
      return;
    }
  if (op->next_rcpt >= op->recipients->len)
    {
      envelope_done (self);
      return;
    }
  line = rcpt_line (self, op->recipients->pdata[op->next_rcpt++]);
  send_line (self, line, NULL, step_reply);
}

void
lb_smtp_client_send_async (LbSmtpClient        *self,
                           const char          *from,
                           const char * const  *recipients,
                           GBytes              *message,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task;
  Op *op;
  const LbSmtpExtensions *ext;
  gboolean eight_bit = FALSE;
  gboolean utf8 = !is_ascii (from);
  gsize size;
  g_autoptr(GString) mail = NULL;

  g_return_if_fail (LB_IS_SMTP_CLIENT (self));
  g_return_if_fail (from != NULL);
  g_return_if_fail (recipients != NULL && recipients[0] != NULL);
  g_return_if_fail (message != NULL);

  task = op_new_task (self, lb_smtp_client_send_async, cancellable, callback, user_data);
  /* a cancellation after the data is UNCERTAIN, not CANCELLED */
  g_task_set_check_cancellable (task, FALSE);
  op = g_new0 (Op, 1);
  /* recipients[0] is the sender, for the messages; then the recipients */
  op->recipients = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (op->recipients, g_strdup (from[0] != '\0' ? from : "<>"));
  op->replies = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_smtp_reply_free);
  if (!op_begin (self, task, op))
    return;

  ext = self->extensions;
  if (ext == NULL)
    {
      op_return_error (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED,
                                                  _("Letterbox did not greet the mail server before sending")),
                       TRUE);
      return;
    }

  if (!address_ok (from, TRUE))
    {
      op_return_error (self, g_error_new (LB_SMTP_ERROR, LB_SMTP_ERROR_INVALID_ADDRESS,
                                          _("“%s” cannot be used as the sender’s address"), from),
                       FALSE);
      return;
    }
  for (guint i = 0; recipients[i] != NULL; i++)
    {
      if (!address_ok (recipients[i], FALSE))
        {
          op_return_error (self, g_error_new (LB_SMTP_ERROR, LB_SMTP_ERROR_INVALID_ADDRESS,
                                              _("“%s” is not an address mail can be sent to"), recipients[i]),
                           FALSE);
          return;
        }
      if (!is_ascii (recipients[i]))
        utf8 = TRUE;
      g_ptr_array_add (op->recipients, g_strdup (recipients[i]));
    }

  op->data = lb_smtp_dot_stuff (message, &eight_bit);
  /* what the server counts: the message without the final dot */
  size = g_bytes_get_size (op->data) - 3;

  if ((ext->flags & LB_SMTP_EXTENSION_SIZE) != 0 && ext->size_limit > 0 && size > ext->size_limit)
    {
      g_autofree char *have = g_format_size (size);
      g_autofree char *limit = g_format_size (ext->size_limit);

      op_return_error (self, g_error_new (LB_SMTP_ERROR, LB_SMTP_ERROR_TOO_LARGE,
                                          _("The message is %s, larger than the %s the mail server takes"),
                                          have, limit),
                       FALSE);
      return;
    }
  if (utf8 && (ext->flags & LB_SMTP_EXTENSION_SMTPUTF8) == 0)
    {
      op_return_error (self, g_error_new_literal (LB_SMTP_ERROR, LB_SMTP_ERROR_NOT_SUPPORTED,
                                                  _("An address has non-ASCII characters, and the mail server "
                                                    "cannot take those (no SMTPUTF8)")),
                       FALSE);
      return;
    }
  if (eight_bit && (ext->flags & LB_SMTP_EXTENSION_8BITMIME) == 0)
    {
      op_return_error (self, g_error_new_literal (LB_SMTP_ERROR, LB_SMTP_ERROR_NOT_SUPPORTED,
                                                  _("The message has 8-bit text, and the mail server cannot "
                                                    "take it (no 8BITMIME)")),
                       FALSE);
      return;
    }

  mail = g_string_new (NULL);
  g_string_append_printf (mail, "MAIL FROM:<%s>", from);
  if ((ext->flags & LB_SMTP_EXTENSION_SIZE) != 0)
    g_string_append_printf (mail, " SIZE=%" G_GSIZE_FORMAT, size);
  if (eight_bit)
    g_string_append (mail, " BODY=8BITMIME");
  if (utf8)
    g_string_append (mail, " SMTPUTF8");
  if ((ext->flags & LB_SMTP_EXTENSION_DSN) != 0)
    {
      g_autofree char *envid = g_uuid_string_random ();

      g_string_append_printf (mail, " RET=HDRS ENVID=%s", envid);
    }

  if ((ext->flags & LB_SMTP_EXTENSION_PIPELINING) != 0)
    {
      g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

      g_ptr_array_add (lines, g_strdup (mail->str));
      for (guint i = 1; i < op->recipients->len; i++)
        g_ptr_array_add (lines, rcpt_line (self, op->recipients->pdata[i]));
      g_ptr_array_add (lines, NULL);
      op->expected = op->recipients->len;
      send_lines (self, (const char * const *) lines->pdata, NULL, pipelined_reply);
      return;
    }

  op->next_rcpt = 1;
  send_line (self, mail->str, NULL, step_reply);
}

gboolean
lb_smtp_client_send_finish (LbSmtpClient  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return finish_boolean (self, result, lb_smtp_client_send_async, error);
}

/* ---- QUIT ---- */

static void
quit_reply (LbSmtpClient *self,
            LbSmtpReply  *reply)
{
  close_stream (self);
  op_return_ok (self);
}

void
lb_smtp_client_quit_async (LbSmtpClient        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (LB_IS_SMTP_CLIENT (self));

  task = op_new_task (self, lb_smtp_client_quit_async, cancellable, callback, user_data);
  if (!op_begin (self, task, g_new0 (Op, 1)))
    return;
  send_line (self, "QUIT", NULL, quit_reply);
}

gboolean
lb_smtp_client_quit_finish (LbSmtpClient  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return finish_boolean (self, result, lb_smtp_client_quit_async, error);
}
