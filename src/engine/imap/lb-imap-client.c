/* lb-imap-client.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-imap"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lb-imap-client.h"
#include "lb-imap-client-private.h"
#include "lb-imap-command-private.h"
#include "lb-imap-deflater.h"
#include "lb-imap-parser.h"
#include "lb-net-stream.h"

/* LbImapClient speaks IMAP over a GIOStream someone else opened.
 *
 * Commands are "ops": an op is queued, sent when the pipeline allows it
 * (an exclusive op waits for all earlier ones and holds back all later
 * ones), and finished by its tagged response, by the connection ending,
 * or, before it was sent, by its cancellable. The typed commands are ops
 * with handlers for their untagged data, the server's "+" continuations
 * and their tagged answer; the handlers run synchronously while the
 * response is dispatched, so the client's state (capabilities, selected
 * mailbox) is right before the next queued op is looked at.
 *
 * Reading: one g_input_stream_read_async() at a time into a large buffer
 * of our own, then every complete response in it is framed
 * (lb_imap_framer_next(), with the default limits: a response beyond
 * LB_IMAP_MAX_FRAME_DEFAULT ends the session rather than the buffer growing
 * without end) and parsed in place before the next read. The
 * client reads only while an op waits for the server, so an idle client
 * holds no reference to itself and goes away with its last user.
 *
 * Writing: commands go into a buffer; what is queued while a write is in
 * flight goes out with the next write, so pipelined commands leave in one
 * batch. With COMPRESS=DEFLATE each batch is deflated and sync-flushed as a
 * whole (LbImapDeflater), and what the server sends is inflated into the
 * read buffer (GZlibDecompressor), so bytes that came with the tagged OK
 * of COMPRESS are not lost.
 *
 * The connection's own socket timeout is switched off (IDLE waits for many
 * minutes); instead the client declares the server dead when it does not
 * answer within lb_imap_client_set_timeout() seconds while an op waits.
 * While idling nothing is waited for, so a link that died silently (a
 * suspended laptop, a NAT mapping dropped) would go unnoticed: TCP
 * keepalive probes it after two minutes of silence, and IDLE is renewed
 * (DONE, then IDLE again) every IDLE_RENEW_SECONDS, the answer to DONE
 * being under the timeout again. */

#define TRACE_DOMAIN "lb-imap-protocol"

#define DEFAULT_TIMEOUT_SECONDS 60
#define READ_BUFFER_SIZE        (256 * 1024)
#define MIN_READ_SPACE          (64 * 1024)
#define ZBUF_SIZE               (64 * 1024)
#define MAX_TRACE_LENGTH        2000
/* RFC 2177 asks clients to renew IDLE at least every 29 minutes, as
 * servers may drop an idle client after 30. Renewing every 9 minutes
 * instead also proves the link alive: a dead one is noticed within 9
 * minutes plus the timeout even where keepalive cannot be set, for a round
 * trip of a few bytes; and it stays under the 10-15 minutes after which
 * many NAT gateways and firewalls forget a silent connection. */
#define IDLE_RENEW_SECONDS      (9 * 60)
/* listed names sent back as listed (see note_raw_mailbox()), at most */
#define MAX_RAW_MAILBOXES          10000
/* the most UIDs one search may name, all its responses together: 64 MB */
#define MAX_SEARCH_RESULTS      (16 * 1000 * 1000)

#define STATE_BIT(s)  (1u << (s))
#define ANY_OPEN      (STATE_BIT (LB_IMAP_STATE_NOT_AUTHENTICATED) | \
                       STATE_BIT (LB_IMAP_STATE_AUTHENTICATED) |     \
                       STATE_BIT (LB_IMAP_STATE_SELECTED))
#define AUTHENTICATED (STATE_BIT (LB_IMAP_STATE_AUTHENTICATED) | STATE_BIT (LB_IMAP_STATE_SELECTED))
#define SELECTED      STATE_BIT (LB_IMAP_STATE_SELECTED)
#define NOT_AUTH      STATE_BIT (LB_IMAP_STATE_NOT_AUTHENTICATED)

G_DEFINE_QUARK (lb-imap-error-quark, lb_imap_error)

typedef struct _Op Op;
typedef struct _IdleData IdleData;

/* claims an untagged response; TRUE when consumed */
typedef gboolean (*OpUntaggedFunc)     (LbImapClient   *self,
                                        Op             *op,
                                        LbImapResponse *response);
/* the server sent "+" and no literal of this op was waiting for it */
typedef void     (*OpContinuationFunc) (LbImapClient   *self,
                                        Op             *op,
                                        LbImapResponse *response);
typedef void     (*OpHookFunc)         (LbImapClient   *self,
                                        Op             *op);
/* called exactly once: with the tagged @response, or with @error when the
 * op failed before it (not sent and cancelled, wrong state, connection
 * lost). Returns op->task when it is still set. */
typedef void     (*OpDoneFunc)         (LbImapClient   *self,
                                        Op             *op,
                                        LbImapResponse *response,
                                        const GError   *error);

struct _Op
{
  LbImapClient       *client;         /* unowned: set when submitted */
  LbImapCommand      *command;        /* NULL for the greeting */
  guint               states;         /* STATE_BITs it may be sent in */
  gboolean            exclusive;
  GTask              *task;           /* NULL once returned */
  gpointer            data;
  GDestroyNotify      data_destroy;
  OpUntaggedFunc      untagged;
  gboolean            claims;         /* a cancelled op still swallows its data */
  OpContinuationFunc  continuation;
  OpHookFunc          sent;
  OpHookFunc          cancel;         /* cancelled after it was sent */
  OpDoneFunc          done;

  char                tag[16];
  GPtrArray          *parts;          /* what is left to send after a "+" */
  guint               next_part;
  gboolean            cancelled;
  GSource            *cancel_source;
};

struct _IdleData
{
  LbImapUntaggedFunc  func;
  gpointer            func_data;
  Op                 *op;             /* the IDLE being sent or running */
  gboolean            queued;         /* op is in the queue, not sent */
  gboolean            idling;         /* the server said "+" */
  gboolean            done_requested;
  gboolean            renewing;
  GSource            *renew_source;
};

struct _LbImapClient
{
  GObject             parent_instance;

  GMainContext       *context;
  GIOStream          *stream;
  GInputStream       *input;
  GOutputStream      *output;
  GCancellable       *io_cancellable;

  LbImapState         state;
  gboolean            greeted;
  gboolean            closed;
  gboolean            logging_out;
  gboolean            bye_received;
  char               *bye_text;

  GHashTable         *capabilities;   /* upper-cased names */
  gboolean            capabilities_known;
  guint               capabilities_serial;
  GHashTable         *enabled;        /* upper-cased names */
  gboolean            utf8_accept;    /* UTF8=ACCEPT is enabled */
  /* listed names that do not survive decoding and encoding again: the
   * UTF-8 name the caller knows -> the name as the server sent it */
  GHashTable         *raw_mailboxes;
  LbImapMailboxInfo  *selected;
  LbImapMailboxInfo  *selecting;      /* filled while SELECT runs */
  char                delimiter;

  LbImapTraceFunc     trace_func;
  gpointer            trace_data;
  GDestroyNotify      trace_destroy;
  gboolean            trace_enabled;

  guint               timeout;
  gint64              last_activity;
  gboolean            timer_armed;
  GSource            *deadline;

  guint               tag_serial;
  GQueue              queue;          /* of Op, not sent yet */
  GQueue              in_flight;      /* of Op, sent, oldest first */
  Op                 *greet_op;
  Op                 *blocked_op;     /* waits for "+" to send its next literal */
  gboolean            pumping;
  IdleData           *idle;
  guint               idle_renew_seconds;
  guint               max_search_results;

  /* reading */
  guint8             *buf;
  gsize               buf_size;
  gsize               buf_start;      /* unparsed bytes are buf[start, end) */
  gsize               buf_end;
  LbImapFramer        framer;
  gboolean            reading;
  gboolean            processing;

  /* COMPRESS=DEFLATE */
  LbImapDeflater     *deflater;
  GConverter         *inflater;
  guint8             *zbuf;           /* compressed input: zbuf[zstart, zend) */
  gsize               zstart;
  gsize               zend;

  /* writing */
  GByteArray         *wbuf;           /* queued for the next write */
  GByteArray         *writing_buf;    /* being written */
  gsize               write_pos;
  gboolean            writing;
  gboolean            stream_closing;

  /* STARTTLS */
  gboolean            switching;      /* between STARTTLS's OK and the handshake's end */
  gboolean            handshaking;
  GTask              *tls_task;
  GSource            *tls_cancel_source;
  LbConnector        *tls_connector;
  char               *tls_host;
  guint16             tls_port;
};

G_DEFINE_FINAL_TYPE (LbImapClient, lb_imap_client, G_TYPE_OBJECT)

enum {
  SIGNAL_UNTAGGED,
  SIGNAL_CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void pump            (LbImapClient *self);
static void reader_run      (LbImapClient *self);
static void flush_writes    (LbImapClient *self);
static void update_timer    (LbImapClient *self);
static void shutdown_client (LbImapClient *self,
                             GError       *error);
static void maybe_start_handshake (LbImapClient *self);
static void clear_tls_cancel_source (LbImapClient *self);
static void idle_send_done  (LbImapClient *self,
                             IdleData     *idle);

/* Mailbox info */

void
lb_imap_mailbox_info_free (LbImapMailboxInfo *info)
{
  if (info == NULL)
    return;

  g_free (info->mailbox);
  g_strfreev (info->flags);
  g_strfreev (info->permanent_flags);
  g_free (info);
}

static LbImapMailboxInfo *
mailbox_info_copy (const LbImapMailboxInfo *info)
{
  LbImapMailboxInfo *copy = g_memdup2 (info, sizeof *info);

  copy->mailbox = g_strdup (info->mailbox);
  copy->flags = g_strdupv (info->flags);
  copy->permanent_flags = g_strdupv (info->permanent_flags);

  return copy;
}

/* GTask returns that also drop the reference the caller held */
static void
take_return_error (GTask  *task,
                   GError *error)
{
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
take_return_pointer (GTask          *task,
                     gpointer        result,
                     GDestroyNotify  result_destroy)
{
  g_task_return_pointer (task, result, result_destroy);
  g_object_unref (task);
}

static void
take_return_boolean (GTask    *task,
                     gboolean  result)
{
  g_task_return_boolean (task, result);
  g_object_unref (task);
}

/* Errors */

static GError *
bye_error (LbImapClient *self)
{
  if (self->bye_text != NULL && *self->bye_text != '\0')
    return g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_BYE,
                        _("The server closed the connection: %s"), self->bye_text);

  return g_error_new_literal (LB_IMAP_ERROR, LB_IMAP_ERROR_BYE,
                              _("The server closed the connection"));
}

/* a tagged NO or BAD as an error: @what says what failed, in the user's
 * words; the server's own text follows */
static GError *
response_error (LbImapResponse *response,
                const char     *what)
{
  LbImapError code = LB_IMAP_ERROR_NO;
  const char *text = response->text != NULL ? response->text : "";

  if (response->status == LB_IMAP_STATUS_BAD)
    code = LB_IMAP_ERROR_BAD;
  else if (response->code == LB_IMAP_CODE_TRYCREATE)
    code = LB_IMAP_ERROR_TRYCREATE;
  else if (response->code == LB_IMAP_CODE_NONEXISTENT)
    code = LB_IMAP_ERROR_NONEXISTENT;

  if (*text == '\0')
    return g_error_new_literal (LB_IMAP_ERROR, code, what);

  return g_error_new (LB_IMAP_ERROR, code, "%s: %s", what, text);
}

/* Ops */

static Op *
op_new (LbImapCommand *command,
        guint          states,
        GTask         *task)
{
  Op *op = g_new0 (Op, 1);

  op->command = command;
  op->states = states;
  op->task = task;
  op->exclusive = command != NULL && lb_imap_command_get_exclusive (command);

  return op;
}

static void
op_free (Op *op)
{
  if (op->cancel_source != NULL)
    {
      g_source_destroy (op->cancel_source);
      g_source_unref (op->cancel_source);
    }
  if (op->data_destroy != NULL && op->data != NULL)
    op->data_destroy (op->data);
  g_clear_pointer (&op->parts, g_ptr_array_unref);
  g_clear_pointer (&op->command, lb_imap_command_unref);
  g_clear_object (&op->task);
  g_free (op);
}

static void
op_return_error (Op           *op,
                 const GError *error)
{
  if (op->task != NULL)
    take_return_error (g_steal_pointer (&op->task), g_error_copy (error));
}

static void
op_return_boolean (Op *op)
{
  if (op->task != NULL)
    take_return_boolean (g_steal_pointer (&op->task), TRUE);
}

static void
op_finish (LbImapClient   *self,
           Op             *op,
           LbImapResponse *response,
           const GError   *error)
{
  op->done (self, op, response, error);
  op_free (op);
}

static gboolean
op_cancelled_cb (GCancellable *cancellable,
                 gpointer      user_data)
{
  Op *op = user_data;
  LbImapClient *self = op->client;
  g_autoptr(GError) error = NULL;
  GList *link;

  g_object_ref (self);
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The operation was cancelled"));

  link = g_queue_find (&self->queue, op);
  if (link != NULL)
    {
      /* not sent: it simply never happens */
      g_queue_delete_link (&self->queue, link);
      op_finish (self, op, NULL, error);
      pump (self);
    }
  else if (!op->cancelled)
    {
      /* sent: the answer is still to come and will be thrown away */
      g_clear_pointer (&op->cancel_source, g_source_unref);
      op->cancelled = TRUE;
      op_return_error (op, error);
      if (op->cancel != NULL)
        op->cancel (self, op);
      g_object_unref (self);
      return G_SOURCE_REMOVE;
    }

  g_object_unref (self);
  /* op is gone, and with it this source */
  return G_SOURCE_REMOVE;
}

/* Tracing */

static gboolean
trace_wanted (LbImapClient *self)
{
  return self->trace_func != NULL ||
         !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, TRACE_DOMAIN);
}

static void
trace (LbImapClient *self,
       gboolean      sent,
       const char   *line)
{
  if (self->trace_func != NULL)
    self->trace_func (self, sent, line, self->trace_data);
  else
    g_log (TRACE_DOMAIN, G_LOG_LEVEL_DEBUG, "%s %s", sent ? "C:" : "S:", line);
}

/* A response for the log: each literal becomes "{N bytes}" (message
 * contents are nobody's business), and a very long line is cut. */
static void
trace_received (LbImapClient *self,
                const guint8 *data,
                gsize         len)
{
  g_autoptr(GString) line = g_string_sized_new (MIN (len, MAX_TRACE_LENGTH) + 32);
  const guint8 *p = data;
  const guint8 *end = data + len;

  while (p < end)
    {
      const guint8 *nl = memchr (p, '\n', end - p);
      const guint8 *line_end = nl != NULL ? nl : end;
      const guint8 *text_end = line_end;
      const guint8 *brace;
      guint64 literal = 0;
      gboolean has_literal = FALSE;

      if (text_end > p && text_end[-1] == '\r')
        text_end--;

      /* "... {123}" at the end of a line announces a literal */
      if (text_end > p && text_end[-1] == '}')
        {
          brace = text_end - 2;
          while (brace >= p && g_ascii_isdigit (*brace))
            brace--;
          if (brace >= p && *brace == '{' && brace + 1 < text_end - 1)
            {
              has_literal = TRUE;
              for (const guint8 *d = brace + 1; d < text_end - 1 && literal < G_MAXUINT32; d++)
                literal = literal * 10 + (*d - '0');
              text_end = brace;
            }
        }

      g_string_append_len (line, (const char *) p, text_end - p);
      p = nl != NULL ? nl + 1 : end;

      if (has_literal)
        {
          g_string_append_printf (line, "{%" G_GUINT64_FORMAT " bytes}", literal);
          p += MIN (literal, (guint64) (end - p));
        }
    }

  if (line->len > MAX_TRACE_LENGTH)
    {
      gsize cut = line->len;

      g_string_truncate (line, MAX_TRACE_LENGTH);
      g_string_append_printf (line, "… (%" G_GSIZE_FORMAT " more bytes)", cut - MAX_TRACE_LENGTH);
    }

  trace (self, FALSE, line->str);
}

/* Capabilities and state */

static void
set_capabilities (LbImapClient *self,
                  char * const *names)
{
  g_hash_table_remove_all (self->capabilities);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      char *name = g_ascii_strup (names[i], -1);

      g_hash_table_add (self->capabilities, name);
    }
  self->capabilities_known = TRUE;
  self->capabilities_serial++;
}

static void
forget_capabilities (LbImapClient *self)
{
  g_hash_table_remove_all (self->capabilities);
  self->capabilities_known = FALSE;
  self->capabilities_serial++;
}

static gboolean
has_capability (LbImapClient *self,
                const char   *name)
{
  g_autofree char *upper = g_ascii_strup (name, -1);

  return g_hash_table_contains (self->capabilities, upper);
}

static gboolean
is_enabled (LbImapClient *self,
            const char   *name)
{
  g_autofree char *upper = g_ascii_strup (name, -1);

  return g_hash_table_contains (self->enabled, upper);
}

static void
mark_enabled (LbImapClient *self,
              const char   *name)
{
  char *upper = g_ascii_strup (name, -1);

  /* RFC 7162: enabling QRESYNC enables CONDSTORE as well */
  if (strcmp (upper, "QRESYNC") == 0)
    g_hash_table_add (self->enabled, g_strdup ("CONDSTORE"));
  if (strcmp (upper, "UTF8=ACCEPT") == 0)
    {
      /* names are sent and listed as UTF-8 from now on */
      self->utf8_accept = TRUE;
      g_hash_table_remove_all (self->raw_mailboxes);
    }
  g_hash_table_add (self->enabled, upper);
}

static void
set_state (LbImapClient *self,
           LbImapState   state)
{
  self->state = state;
  if (state != LB_IMAP_STATE_SELECTED)
    g_clear_pointer (&self->selected, lb_imap_mailbox_info_free);
}

static LbImapMailboxInfo *
current_info (LbImapClient *self)
{
  return self->selecting != NULL ? self->selecting : self->selected;
}

static guint64
set_size (GArray *set)
{
  guint64 size = 0;

  for (guint i = 0; set != NULL && i < set->len; i++)
    {
      const LbImapRange *range = &g_array_index (set, LbImapRange, i);

      size += (guint64) MAX (range->first, range->last) - MIN (range->first, range->last) + 1;
    }

  return size;
}

/* what the response codes of any status response tell */
static void
track_code (LbImapClient   *self,
            LbImapResponse *response)
{
  LbImapMailboxInfo *info = current_info (self);

  switch (response->code)
    {
    case LB_IMAP_CODE_CAPABILITY:
      set_capabilities (self, response->code_strv);
      break;

    case LB_IMAP_CODE_UIDVALIDITY:
      if (info != NULL)
        info->uidvalidity = (guint32) response->code_number;
      break;

    case LB_IMAP_CODE_UIDNEXT:
      if (info != NULL)
        info->uidnext = (guint32) response->code_number;
      break;

    case LB_IMAP_CODE_HIGHESTMODSEQ:
      if (info != NULL)
        {
          info->highestmodseq = response->code_number;
          info->nomodseq = FALSE;
        }
      break;

    case LB_IMAP_CODE_NOMODSEQ:
      if (info != NULL)
        {
          info->highestmodseq = 0;
          info->nomodseq = TRUE;
        }
      break;

    case LB_IMAP_CODE_PERMANENTFLAGS:
      if (info != NULL)
        {
          g_strfreev (info->permanent_flags);
          info->permanent_flags = g_strdupv (response->code_strv);
          if (info->permanent_flags == NULL)
            info->permanent_flags = g_new0 (char *, 1);
        }
      break;

    case LB_IMAP_CODE_READ_ONLY:
      if (info != NULL)
        info->read_only = TRUE;
      break;

    case LB_IMAP_CODE_READ_WRITE:
      if (info != NULL)
        info->read_only = FALSE;
      break;

    case LB_IMAP_CODE_CLOSED:
      /* QRESYNC: what came before was about the mailbox closed now */
      if (self->selecting != NULL)
        {
          LbImapMailboxInfo *fresh = g_new0 (LbImapMailboxInfo, 1);

          fresh->mailbox = g_steal_pointer (&self->selecting->mailbox);
          fresh->read_only = self->selecting->read_only;
          lb_imap_mailbox_info_free (self->selecting);
          self->selecting = fresh;
        }
      break;

    case LB_IMAP_CODE_NONE:
    case LB_IMAP_CODE_OTHER:
    case LB_IMAP_CODE_ALERT:
    case LB_IMAP_CODE_ALREADYEXISTS:
    case LB_IMAP_CODE_APPENDUID:
    case LB_IMAP_CODE_AUTHENTICATIONFAILED:
    case LB_IMAP_CODE_AUTHORIZATIONFAILED:
    case LB_IMAP_CODE_BADCHARSET:
    case LB_IMAP_CODE_CANNOT:
    case LB_IMAP_CODE_CLIENTBUG:
    case LB_IMAP_CODE_CONTACTADMIN:
    case LB_IMAP_CODE_COPYUID:
    case LB_IMAP_CODE_CORRUPTION:
    case LB_IMAP_CODE_EXPIRED:
    case LB_IMAP_CODE_EXPUNGEISSUED:
    case LB_IMAP_CODE_HASCHILDREN:
    case LB_IMAP_CODE_INUSE:
    case LB_IMAP_CODE_LIMIT:
    case LB_IMAP_CODE_MODIFIED:
    case LB_IMAP_CODE_NONEXISTENT:
    case LB_IMAP_CODE_NOPERM:
    case LB_IMAP_CODE_OVERQUOTA:
    case LB_IMAP_CODE_PARSE:
    case LB_IMAP_CODE_PRIVACYREQUIRED:
    case LB_IMAP_CODE_SERVERBUG:
    case LB_IMAP_CODE_TRYCREATE:
    case LB_IMAP_CODE_UIDNOTSTICKY:
    case LB_IMAP_CODE_UNAVAILABLE:
    case LB_IMAP_CODE_UNKNOWN_CTE:
    case LB_IMAP_CODE_UNSEEN:
    case LB_IMAP_CODE_COMPRESSIONACTIVE:
    case LB_IMAP_CODE_NOTSAVED:
    case LB_IMAP_CODE_REFERRAL:
    default:
      break;
    }
}

/* A listed name the parser could not decode (not valid modified UTF-7,
 * or not UTF-8 under UTF8=ACCEPT) came through as sent, or made valid;
 * a command naming it must send it back as sent, not encoded again. */
static void
note_raw_mailbox (LbImapClient *self,
                  LbImapList   *list)
{
  g_autofree char *encoded = NULL;

  if (list == NULL || list->mailbox == NULL || list->raw_mailbox == NULL ||
      g_ascii_strcasecmp (list->raw_mailbox, "INBOX") == 0)
    return;

  if (!self->utf8_accept)
    encoded = lb_imap_utf7_encode (list->mailbox);
  if (strcmp (encoded != NULL ? encoded : list->mailbox, list->raw_mailbox) == 0)
    {
      g_hash_table_remove (self->raw_mailboxes, list->mailbox);
      return;
    }

  /* a server listing endless broken names gets no endless memory */
  if (g_hash_table_size (self->raw_mailboxes) >= MAX_RAW_MAILBOXES &&
      !g_hash_table_contains (self->raw_mailboxes, list->mailbox))
    return;
  g_hash_table_replace (self->raw_mailboxes, g_strdup (list->mailbox), g_strdup (list->raw_mailbox));
}

/* what untagged data tell about the session and the selected mailbox */
static void
track_data (LbImapClient   *self,
            LbImapResponse *response)
{
  LbImapMailboxInfo *info = current_info (self);

  switch (response->data)
    {
    case LB_IMAP_DATA_CAPABILITY:
      set_capabilities (self, response->strv);
      break;

    case LB_IMAP_DATA_ENABLED:
      for (guint i = 0; response->strv != NULL && response->strv[i] != NULL; i++)
        mark_enabled (self, response->strv[i]);
      break;

    case LB_IMAP_DATA_FLAGS:
      if (info != NULL)
        {
          g_strfreev (info->flags);
          info->flags = g_strdupv (response->strv);
          if (info->flags == NULL)
            info->flags = g_new0 (char *, 1);
        }
      break;

    case LB_IMAP_DATA_EXISTS:
      if (info != NULL)
        info->exists = response->number;
      break;

    case LB_IMAP_DATA_EXPUNGE:
      if (info != NULL && info->exists > 0)
        info->exists--;
      break;

    case LB_IMAP_DATA_VANISHED:
      /* VANISHED (EARLIER) reports what went before: not a change now */
      if (info != NULL && !response->vanished_earlier)
        {
          guint64 gone = set_size (response->set);

          info->exists = gone >= info->exists ? 0 : info->exists - (guint32) gone;
        }
      break;

    case LB_IMAP_DATA_LIST:
    case LB_IMAP_DATA_LSUB:
      note_raw_mailbox (self, response->list);
      break;

    case LB_IMAP_DATA_NONE:
    case LB_IMAP_DATA_STATUS:
    case LB_IMAP_DATA_RECENT:
    case LB_IMAP_DATA_FETCH:
    case LB_IMAP_DATA_SEARCH:
    case LB_IMAP_DATA_SORT:
    case LB_IMAP_DATA_ESEARCH:
    case LB_IMAP_DATA_NAMESPACE:
    case LB_IMAP_DATA_ID:
    case LB_IMAP_DATA_QUOTA:
    case LB_IMAP_DATA_QUOTAROOT:
    case LB_IMAP_DATA_OTHER:
    default:
      break;
    }
}

/* the responses a cancelled op still swallows: its own results */
static gboolean
op_discards (Op             *op,
             LbImapResponse *response)
{
  if (!op->claims)
    return FALSE;

  switch (response->data)
    {
    case LB_IMAP_DATA_FETCH:
    case LB_IMAP_DATA_LIST:
    case LB_IMAP_DATA_LSUB:
    case LB_IMAP_DATA_STATUS:
    case LB_IMAP_DATA_SEARCH:
    case LB_IMAP_DATA_SORT:
    case LB_IMAP_DATA_ESEARCH:
    case LB_IMAP_DATA_NAMESPACE:
    case LB_IMAP_DATA_ID:
    case LB_IMAP_DATA_QUOTA:
    case LB_IMAP_DATA_QUOTAROOT:
    case LB_IMAP_DATA_OTHER:
      return TRUE;

    case LB_IMAP_DATA_VANISHED:
      return response->vanished_earlier;

    case LB_IMAP_DATA_NONE:
    case LB_IMAP_DATA_CAPABILITY:
    case LB_IMAP_DATA_ENABLED:
    case LB_IMAP_DATA_FLAGS:
    case LB_IMAP_DATA_EXISTS:
    case LB_IMAP_DATA_RECENT:
    case LB_IMAP_DATA_EXPUNGE:
    default:
      return FALSE;
    }
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
  LbImapClient *self = user_data;

  shutdown_client (self, g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_BYE,
                                      ngettext ("The server did not answer for %u second; the connection was closed",
                                                "The server did not answer for %u seconds; the connection was closed",
                                                self->timeout),
                                      self->timeout));

  return G_SOURCE_CONTINUE;
}

static void
update_timer (LbImapClient *self)
{
  gboolean armed;

  armed = !self->closed && self->timeout > 0 &&
          (self->idle == NULL || !self->idle->idling) &&
          (!g_queue_is_empty (&self->in_flight) || self->switching || self->writing);

  if (!armed)
    {
      self->timer_armed = FALSE;
      g_source_set_ready_time (self->deadline, -1);
      return;
    }

  if (!self->timer_armed)
    {
      self->timer_armed = TRUE;
      self->last_activity = g_get_monotonic_time ();
    }
  g_source_set_ready_time (self->deadline,
                           self->last_activity + (gint64) self->timeout * G_USEC_PER_SEC);
}

static void
note_activity (LbImapClient *self)
{
  self->last_activity = g_get_monotonic_time ();
  update_timer (self);
}

/* Writing */

static void write_next (LbImapClient *self);

static void
maybe_close_stream_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_io_stream_close_finish (G_IO_STREAM (object), result, NULL);
}

/* once closed and no read or write is pending on the stream */
static void
maybe_close_stream (LbImapClient *self)
{
  if (!self->closed || self->stream_closing || self->reading || self->writing || self->handshaking)
    return;

  self->stream_closing = TRUE;
  g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, maybe_close_stream_cb, NULL);
}

static void
write_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(LbImapClient) self = user_data;
  g_autoptr(GError) error = NULL;
  gssize written;

  written = g_output_stream_write_finish (G_OUTPUT_STREAM (object), result, &error);
  if (written < 0)
    {
      self->writing = FALSE;
      if (!self->closed)
        shutdown_client (self, g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_BYE,
                                             _("The connection to the server was lost: %s"),
                                             error->message));
      maybe_close_stream (self);
      return;
    }

  self->write_pos += written;
  note_activity (self);
  if (self->write_pos < self->writing_buf->len && !self->closed)
    {
      write_next (self);
      return;
    }

  self->writing = FALSE;
  g_byte_array_set_size (self->writing_buf, 0);
  if (self->closed)
    {
      maybe_close_stream (self);
      return;
    }

  flush_writes (self);
  maybe_start_handshake (self);
  update_timer (self);
}

static void
write_next (LbImapClient *self)
{
  g_output_stream_write_async (self->output,
                               self->writing_buf->data + self->write_pos,
                               self->writing_buf->len - self->write_pos,
                               G_PRIORITY_DEFAULT,
                               self->io_cancellable,
                               write_cb,
                               g_object_ref (self));
}

static gboolean
compress_batch (LbImapClient  *self,
                GByteArray    *plain,
                GByteArray    *out,
                GError       **error)
{
  gsize done = 0;

  g_byte_array_set_size (out, 0);
  while (done < plain->len)
    {
      gsize bound = lb_imap_deflater_bound (self->deflater, plain->len - done);
      gsize old_len = out->len;
      gsize bytes_read = 0, bytes_written = 0;

      g_byte_array_set_size (out, old_len + bound);
      if (g_converter_convert (G_CONVERTER (self->deflater),
                               plain->data + done, plain->len - done,
                               out->data + old_len, bound,
                               G_CONVERTER_NO_FLAGS,
                               &bytes_read, &bytes_written, error) == G_CONVERTER_ERROR)
        return FALSE;
      done += bytes_read;
      g_byte_array_set_size (out, old_len + bytes_written);
    }

  return TRUE;
}

static void
flush_writes (LbImapClient *self)
{
  GByteArray *batch;

  if (self->closed || self->writing || self->wbuf->len == 0)
    return;

  batch = self->wbuf;
  self->wbuf = self->writing_buf;
  self->writing_buf = batch;

  if (self->deflater != NULL)
    {
      g_autoptr(GByteArray) compressed = g_byte_array_sized_new (batch->len + 64);
      g_autoptr(GError) error = NULL;

      if (!compress_batch (self, batch, compressed, &error))
        {
          g_byte_array_set_size (batch, 0);
          shutdown_client (self, g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL,
                                              "%s", error->message));
          return;
        }
      g_byte_array_set_size (batch, 0);
      g_byte_array_append (batch, compressed->data, compressed->len);
    }

  self->writing = TRUE;
  self->write_pos = 0;
  write_next (self);
  update_timer (self);
}

static void
queue_bytes (LbImapClient *self,
             const void   *data,
             gsize         len)
{
  g_byte_array_append (self->wbuf, data, len);
}

/* a line of our own after a "+": a SASL response, DONE */
static void
send_line (LbImapClient *self,
           const char   *line,
           const char   *trace_line)
{
  if (self->closed)
    return;

  if (self->trace_enabled)
    trace (self, TRUE, trace_line);
  queue_bytes (self, line, strlen (line));
  queue_bytes (self, "\r\n", 2);
  flush_writes (self);
}

/* Sending ops */

static void
send_op (LbImapClient *self,
         Op           *op)
{
  LbImapRenderOptions options;
  g_autofree char *trace_line = NULL;
  GBytes *first;

  options.literal_plus = has_capability (self, "LITERAL+");
  options.literal_minus = has_capability (self, "LITERAL-") || has_capability (self, "IMAP4rev2");
  options.utf8_accept = self->utf8_accept;
  options.raw_mailboxes = self->raw_mailboxes;

  g_snprintf (op->tag, sizeof op->tag, "A%u", ++self->tag_serial);
  op->parts = lb_imap_command_render (op->command, op->tag, &options,
                                      self->trace_enabled ? &trace_line : NULL);
  if (trace_line != NULL)
    trace (self, TRUE, trace_line);

  first = op->parts->pdata[0];
  queue_bytes (self, g_bytes_get_data (first, NULL), g_bytes_get_size (first));
  op->next_part = 1;

  g_queue_push_tail (&self->in_flight, op);
  if (op->next_part < op->parts->len)
    self->blocked_op = op;

  if (op->sent != NULL)
    op->sent (self, op);
}

static void
pump (LbImapClient *self)
{
  if (self->pumping)
    return;

  self->pumping = TRUE;
  g_object_ref (self);

  while (!self->closed && !self->switching && self->blocked_op == NULL &&
         !g_queue_is_empty (&self->queue))
    {
      Op *op = g_queue_peek_head (&self->queue);
      Op *last = g_queue_peek_tail (&self->in_flight);

      if (last != NULL && (last->exclusive || op->exclusive))
        break;

      g_queue_pop_head (&self->queue);

      if ((op->states & STATE_BIT (self->state)) == 0)
        {
          g_autoptr(GError) error = NULL;

          error = g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_STATE,
                               self->state == LB_IMAP_STATE_NOT_AUTHENTICATED
                               ? _("Could not run “%s”: not logged in")
                               : self->state == LB_IMAP_STATE_SELECTED || self->state == LB_IMAP_STATE_AUTHENTICATED
                               ? ((op->states & NOT_AUTH) != 0
                                  ? _("Could not run “%s”: already logged in")
                                  : _("Could not run “%s”: no folder is open"))
                               : _("Could not run “%s”: the connection is closed"),
                               lb_imap_command_get_name (op->command));
          op_finish (self, op, NULL, error);
          continue;
        }

      send_op (self, op);
    }

  self->pumping = FALSE;

  flush_writes (self);
  update_timer (self);
  reader_run (self);

  g_object_unref (self);
}

/* queues @op without sending anything yet; FALSE when it failed at once */
static gboolean
enqueue (LbImapClient *self,
         Op           *op,
         gboolean      front)
{
  GCancellable *cancellable = op->task != NULL ? g_task_get_cancellable (op->task) : NULL;

  op->client = self;
  if (self->closed)
    {
      g_autoptr(GError) error = NULL;

      error = self->bye_received ? bye_error (self)
              : g_error_new_literal (LB_IMAP_ERROR, LB_IMAP_ERROR_BYE,
                                     _("The connection to the server is closed"));
      op_finish (self, op, NULL, error);
      return FALSE;
    }

  if (cancellable != NULL)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_autoptr(GError) error = NULL;

          error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                       _("The operation was cancelled"));
          op_finish (self, op, NULL, error);
          return FALSE;
        }

      op->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (op->cancel_source, G_SOURCE_FUNC (op_cancelled_cb), op, NULL);
      g_source_attach (op->cancel_source, self->context);
    }

  if (front)
    g_queue_push_head (&self->queue, op);
  else
    g_queue_push_tail (&self->queue, op);

  return TRUE;
}

static void
submit_full (LbImapClient *self,
             Op           *op,
             gboolean      front)
{
  if (enqueue (self, op, front))
    pump (self);
}

static void
submit (LbImapClient *self,
        Op           *op)
{
  submit_full (self, op, FALSE);
}

/* Shutting down */

static void
shutdown_client (LbImapClient *self,
                 GError       *error)
{
  g_autoptr(GError) owned = error;
  Op *op;

  if (self->closed)
    return;

  g_object_ref (self);

  self->closed = TRUE;
  set_state (self, LB_IMAP_STATE_LOGOUT);
  g_clear_pointer (&self->selecting, lb_imap_mailbox_info_free);
  g_cancellable_cancel (self->io_cancellable);
  update_timer (self);
  if (self->idle != NULL && self->idle->renew_source != NULL)
    {
      g_source_destroy (self->idle->renew_source);
      g_clear_pointer (&self->idle->renew_source, g_source_unref);
    }

  /* ops fail with why the session ended; after a LOGOUT, with BYE */
  {
    g_autoptr(GError) op_error = error != NULL ? g_error_copy (error)
                                 : g_error_new_literal (LB_IMAP_ERROR, LB_IMAP_ERROR_BYE,
                                                        _("The session was logged out"));

    self->blocked_op = NULL;
    self->greet_op = NULL;
    while ((op = g_queue_pop_head (&self->in_flight)) != NULL)
      op_finish (self, op, NULL, op_error);
    while ((op = g_queue_pop_head (&self->queue)) != NULL)
      op_finish (self, op, NULL, op_error);
  }

  clear_tls_cancel_source (self);
  if (self->tls_task != NULL)
    {
      if (error != NULL)
        take_return_error (g_steal_pointer (&self->tls_task), g_error_copy (error));
      else
        take_return_error (g_steal_pointer (&self->tls_task), g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_BYE,
                                 _("The server closed the connection")));
    }
  self->switching = FALSE;

  maybe_close_stream (self);

  g_signal_emit (self, signals[SIGNAL_CLOSED], 0, error);

  g_object_unref (self);
}

/* Dispatching responses */

static void
handle_continuation (LbImapClient   *self,
                     LbImapResponse *response)
{
  Op *op = self->blocked_op;

  if (op != NULL)
    {
      GBytes *part = op->parts->pdata[op->next_part++];

      queue_bytes (self, g_bytes_get_data (part, NULL), g_bytes_get_size (part));
      if (op->next_part >= op->parts->len)
        self->blocked_op = NULL;
      flush_writes (self);
      pump (self);
      return;
    }

  /* AUTHENTICATE and IDLE: the newest op that takes continuations */
  for (GList *l = self->in_flight.tail; l != NULL; l = l->prev)
    {
      op = l->data;
      if (op->continuation != NULL)
        {
          op->continuation (self, op, response);
          return;
        }
    }

  g_debug ("Ignoring a continuation request no command asked for");
}

static void
handle_tagged (LbImapClient   *self,
               LbImapResponse *response)
{
  Op *op = NULL;
  GList *link;

  for (link = self->in_flight.head; link != NULL; link = link->next)
    {
      Op *candidate = link->data;

      if (g_strcmp0 (candidate->tag, response->tag) == 0)
        {
          op = candidate;
          break;
        }
    }

  if (op == NULL)
    {
      g_debug ("Ignoring a tagged response for the unknown tag “%s”", response->tag);
      return;
    }

  g_queue_delete_link (&self->in_flight, link);
  if (self->blocked_op == op)
    self->blocked_op = NULL;

  op_finish (self, op, response, NULL);
  pump (self);
}

static void
handle_greeting (LbImapClient   *self,
                 LbImapResponse *response)
{
  Op *op = self->greet_op;
  g_autoptr(GError) error = NULL;

  self->greet_op = NULL;
  g_queue_remove (&self->in_flight, op);
  self->greeted = TRUE;

  switch (response->kind == LB_IMAP_RESPONSE_UNTAGGED ? response->status : LB_IMAP_STATUS_NONE)
    {
    case LB_IMAP_STATUS_OK:
      set_state (self, LB_IMAP_STATE_NOT_AUTHENTICATED);
      break;

    case LB_IMAP_STATUS_PREAUTH:
      set_state (self, LB_IMAP_STATE_AUTHENTICATED);
      break;

    case LB_IMAP_STATUS_BYE:
      error = bye_error (self);
      break;

    case LB_IMAP_STATUS_NONE:
    case LB_IMAP_STATUS_NO:
    case LB_IMAP_STATUS_BAD:
    default:
      error = g_error_new_literal (LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL,
                                   _("The server did not greet like an IMAP server"));
      break;
    }

  op_finish (self, op, NULL, error);
  if (error != NULL && !self->closed)
    shutdown_client (self, g_steal_pointer (&error));
  else
    pump (self);
}

static void
handle_untagged (LbImapClient   *self,
                 LbImapResponse *response)
{
  gboolean consumed = FALSE;

  if (response->status == LB_IMAP_STATUS_BYE)
    {
      self->bye_received = TRUE;
      g_free (self->bye_text);
      self->bye_text = g_strdup (response->text);
    }

  if (self->greet_op != NULL)
    {
      handle_greeting (self, response);
      return;
    }

  track_data (self, response);

  if (response->status == LB_IMAP_STATUS_BYE)
    {
      /* expected after LOGOUT; otherwise the end of the session */
      if (!self->logging_out)
        shutdown_client (self, bye_error (self));
      return;
    }

  for (GList *l = self->in_flight.head; l != NULL && !consumed && !self->closed; l = l->next)
    {
      Op *op = l->data;

      if (op->cancelled)
        consumed = op_discards (op, response);
      else if (op->untagged != NULL)
        consumed = op->untagged (self, op, response);
    }

  if (!consumed && !self->closed)
    g_signal_emit (self, signals[SIGNAL_UNTAGGED], 0, response);
}

static void
dispatch (LbImapClient   *self,
          LbImapResponse *response)
{
  if (response->status != LB_IMAP_STATUS_NONE)
    track_code (self, response);

  /* a greeting is untagged: a "+OK" (POP3) or a tagged line where it was
   * due is no IMAP server's */
  if (self->greet_op != NULL && response->kind != LB_IMAP_RESPONSE_UNTAGGED)
    {
      handle_greeting (self, response);
      return;
    }

  switch (response->kind)
    {
    case LB_IMAP_RESPONSE_CONTINUATION:
      handle_continuation (self, response);
      break;

    case LB_IMAP_RESPONSE_TAGGED:
      handle_tagged (self, response);
      break;

    case LB_IMAP_RESPONSE_UNTAGGED:
      handle_untagged (self, response);
      break;

    default:
      g_assert_not_reached ();
    }
}

/* Reading */

static void
process_frames (LbImapClient *self)
{
  LbImapParseFlags flags = LB_IMAP_PARSE_NONE;

  while (!self->closed && !self->switching && self->buf_start < self->buf_end)
    {
      g_autoptr(LbImapResponse) response = NULL;
      g_autoptr(GError) error = NULL;
      const guint8 *frame = self->buf + self->buf_start;
      gsize frame_len = 0;

      if (!lb_imap_framer_next (&self->framer, frame, self->buf_end - self->buf_start,
                                &frame_len, &error))
        {
          if (error != NULL)
            shutdown_client (self, g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL,
                                                _("The server sent something that is not IMAP: %s"),
                                                error->message));
          return;
        }

      self->buf_start += frame_len;

      if (self->trace_enabled)
        trace_received (self, frame, frame_len);

      if (self->utf8_accept)
        flags |= LB_IMAP_PARSE_UTF8_MAILBOXES;
      response = lb_imap_parse_response (frame, frame_len, flags, &error);
      if (response == NULL)
        {
          shutdown_client (self, g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL,
                                              _("The server sent something that is not IMAP: %s"),
                                              error->message));
          return;
        }

      dispatch (self, response);
    }
}

/* room for at least MIN_READ_SPACE more bytes, or for the rest of a literal */
static void
ensure_read_space (LbImapClient *self)
{
  gsize pending = self->buf_end - self->buf_start;
  guint64 wanted = lb_imap_framer_wanted (&self->framer);
  gsize need;

  if (pending == 0)
    {
      self->buf_start = self->buf_end = 0;
      /* give back what a huge literal took */
      if (self->buf_size > READ_BUFFER_SIZE)
        {
          g_free (self->buf);
          self->buf = g_malloc (READ_BUFFER_SIZE);
          self->buf_size = READ_BUFFER_SIZE;
        }
    }

  if (self->buf_size - self->buf_end >= MIN_READ_SPACE &&
      self->buf_size - self->buf_end >= MIN (wanted, (guint64) READ_BUFFER_SIZE))
    return;

  /* the unparsed rest (one partial response) goes to the front, once */
  if (self->buf_start > 0)
    {
      memmove (self->buf, self->buf + self->buf_start, pending);
      self->buf_start = 0;
      self->buf_end = pending;
    }

  need = pending + MAX ((gsize) MIN (wanted, (guint64) G_MAXSIZE / 2), (gsize) MIN_READ_SPACE);
  if (need > self->buf_size)
    {
      gsize size = self->buf_size;

      while (size < need)
        size *= 2;
      self->buf = g_realloc (self->buf, size);
      self->buf_size = size;
    }
}

/* Takes what else the stream has ready without a trip through the main
 * loop: TLS hands out one record (16 KiB) per read, so a large FETCH
 * would otherwise cost a main loop iteration per record. An error is
 * left for the next read to find. */
static void
drain_available (LbImapClient *self)
{
  GPollableInputStream *pollable;

  if (!G_IS_POLLABLE_INPUT_STREAM (self->input))
    return;
  pollable = G_POLLABLE_INPUT_STREAM (self->input);
  if (!g_pollable_input_stream_can_poll (pollable))
    return;

  while (self->buf_size - self->buf_end >= MIN_READ_SPACE / 4)
    {
      gssize n = g_pollable_input_stream_read_nonblocking (pollable, self->buf + self->buf_end,
                                                           self->buf_size - self->buf_end,
                                                           NULL, NULL);

      if (n <= 0)
        break;
      self->buf_end += n;
    }
}

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(LbImapClient) self = user_data;
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
      shutdown_client (self, g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_BYE,
                                          _("The connection to the server was lost: %s"),
                                          error->message));
      return;
    }

  if (n == 0)
    {
      /* after LOGOUT's BYE the server may hang up before its tagged OK */
      if (self->logging_out && self->bye_received)
        shutdown_client (self, NULL);
      else
        shutdown_client (self, bye_error (self));
      return;
    }

  if (self->inflater != NULL)
    self->zend += n;
  else
    {
      self->buf_end += n;
      drain_available (self);
    }

  note_activity (self);
  reader_run (self);
}

static gboolean
inflate_some (LbImapClient *self)
{
  g_autoptr(GError) error = NULL;
  gsize bytes_read = 0, bytes_written = 0;

  ensure_read_space (self);
  if (g_converter_convert (self->inflater,
                           self->zbuf + self->zstart, self->zend - self->zstart,
                           self->buf + self->buf_end, self->buf_size - self->buf_end,
                           G_CONVERTER_NO_FLAGS, &bytes_read, &bytes_written,
                           &error) == G_CONVERTER_ERROR)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT))
        {
          self->zstart = self->zend = 0;
          return TRUE;
        }
      shutdown_client (self, g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL,
                                          _("Could not decompress what the server sent: %s"),
                                          error->message));
      return FALSE;
    }

  self->zstart += bytes_read;
  self->buf_end += bytes_written;
  if (self->zstart == self->zend)
    self->zstart = self->zend = 0;

  return TRUE;
}

static gboolean
want_read (LbImapClient *self)
{
  return !self->closed && !self->switching && !g_queue_is_empty (&self->in_flight);
}

static void
reader_run (LbImapClient *self)
{
  if (self->processing)
    return;

  self->processing = TRUE;
  g_object_ref (self);

  for (;;)
    {
      process_frames (self);
      if (self->closed || self->switching)
        break;

      if (self->inflater != NULL && self->zstart < self->zend)
        {
          if (!inflate_some (self))
            break;
          continue;
        }

      if (self->reading || !want_read (self))
        break;

      ensure_read_space (self);
      self->reading = TRUE;
      if (self->inflater != NULL)
        g_input_stream_read_async (self->input, self->zbuf, ZBUF_SIZE,
                                   G_PRIORITY_DEFAULT, self->io_cancellable,
                                   read_cb, g_object_ref (self));
      else
        g_input_stream_read_async (self->input, self->buf + self->buf_end,
                                   self->buf_size - self->buf_end,
                                   G_PRIORITY_DEFAULT, self->io_cancellable,
                                   read_cb, g_object_ref (self));
      break;
    }

  self->processing = FALSE;
  g_object_unref (self);
}

/* GObject */

static void
lb_imap_client_dispose (GObject *object)
{
  LbImapClient *self = LB_IMAP_CLIENT (object);

  /* nothing is pending here: every op and every read or write holds a
   * reference; only the stream is left to close */
  if (!self->closed)
    {
      self->closed = TRUE;
      self->state = LB_IMAP_STATE_LOGOUT;
      maybe_close_stream (self);
    }

  if (self->deadline != NULL)
    {
      g_source_destroy (self->deadline);
      g_clear_pointer (&self->deadline, g_source_unref);
    }

  G_OBJECT_CLASS (lb_imap_client_parent_class)->dispose (object);
}

static void
lb_imap_client_finalize (GObject *object)
{
  LbImapClient *self = LB_IMAP_CLIENT (object);

  if (self->trace_destroy != NULL)
    self->trace_destroy (self->trace_data);

  g_clear_object (&self->stream);
  g_clear_object (&self->io_cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->bye_text);
  g_hash_table_unref (self->capabilities);
  g_hash_table_unref (self->enabled);
  g_hash_table_unref (self->raw_mailboxes);
  lb_imap_mailbox_info_free (self->selected);
  lb_imap_mailbox_info_free (self->selecting);
  g_free (self->buf);
  g_free (self->zbuf);
  g_clear_object (&self->deflater);
  g_clear_object (&self->inflater);
  g_byte_array_unref (self->wbuf);
  g_byte_array_unref (self->writing_buf);
  g_clear_object (&self->tls_connector);
  g_free (self->tls_host);
  g_free (self->idle);

  G_OBJECT_CLASS (lb_imap_client_parent_class)->finalize (object);
}

static void
lb_imap_client_class_init (LbImapClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lb_imap_client_dispose;
  object_class->finalize = lb_imap_client_finalize;

  /**
   * LbImapClient::untagged:
   * @response: an untagged response no running command claimed
   */
  signals[SIGNAL_UNTAGGED] =
    g_signal_new ("untagged",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1,
                  LB_TYPE_IMAP_RESPONSE | G_SIGNAL_TYPE_STATIC_SCOPE);

  /**
   * LbImapClient::closed:
   * @error: (nullable): why the session ended; %NULL after LOGOUT
   */
  signals[SIGNAL_CLOSED] =
    g_signal_new ("closed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
lb_imap_client_init (LbImapClient *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->io_cancellable = g_cancellable_new ();
  self->state = LB_IMAP_STATE_NOT_AUTHENTICATED;
  self->capabilities = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->enabled = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->raw_mailboxes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->timeout = DEFAULT_TIMEOUT_SECONDS;
  self->idle_renew_seconds = IDLE_RENEW_SECONDS;
  self->max_search_results = MAX_SEARCH_RESULTS;
  self->buf_size = READ_BUFFER_SIZE;
  self->buf = g_malloc (self->buf_size);
  lb_imap_framer_init (&self->framer, 0, 0);
  self->wbuf = g_byte_array_sized_new (4096);
  self->writing_buf = g_byte_array_sized_new (4096);
  self->trace_enabled = trace_wanted (self);

  self->deadline = g_source_new (&deadline_funcs, sizeof (GSource));
  g_source_set_name (self->deadline, "[letterbox] IMAP timeout");
  g_source_set_callback (self->deadline, deadline_cb, self, NULL);
  g_source_set_ready_time (self->deadline, -1);
  g_source_attach (self->deadline, self->context);
}

static void
set_stream (LbImapClient *self,
            GIOStream    *stream)
{
  g_set_object (&self->stream, stream);
  self->input = g_io_stream_get_input_stream (stream);
  self->output = g_io_stream_get_output_stream (stream);

  /* our own timeout replaces the socket's: IDLE waits far longer; TCP
   * keepalive notices a dead link while nothing is waited for (where it
   * cannot be tuned, IDLE's renewal still finds it) */
  lb_net_stream_set_up_socket (stream, TRUE);
}

/**
 * lb_imap_client_new:
 * @stream: a connected stream (plain or TLS)
 *
 * The client uses the thread-default main context of the caller for all
 * its work. It switches the socket's own timeout off and applies
 * lb_imap_client_set_timeout() instead.
 *
 * Returns: (transfer full): a client; read the greeting with
 *   lb_imap_client_greet_async() first
 */
LbImapClient *
lb_imap_client_new (GIOStream *stream)
{
  LbImapClient *self;

  g_return_val_if_fail (G_IS_IO_STREAM (stream), NULL);

  self = g_object_new (LB_TYPE_IMAP_CLIENT, NULL);
  set_stream (self, stream);

  return self;
}

GIOStream *
lb_imap_client_get_stream (LbImapClient *self)
{
  g_return_val_if_fail (LB_IS_IMAP_CLIENT (self), NULL);

  return self->stream;
}

LbImapState
lb_imap_client_get_state (LbImapClient *self)
{
  g_return_val_if_fail (LB_IS_IMAP_CLIENT (self), LB_IMAP_STATE_LOGOUT);

  return self->state;
}

gboolean
lb_imap_client_has_capability (LbImapClient *self,
                               const char   *name)
{
  g_return_val_if_fail (LB_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return has_capability (self, name);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/**
 * lb_imap_client_dup_capabilities:
 *
 * Returns: (transfer full): the capabilities the server announced last,
 *   upper-cased and sorted
 */
char **
lb_imap_client_dup_capabilities (LbImapClient *self)
{
  GPtrArray *names;
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (LB_IS_IMAP_CLIENT (self), NULL);

  names = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, self->capabilities);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, g_strdup (key));
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);

  return (char **) g_ptr_array_free (names, FALSE);
}

gboolean
lb_imap_client_is_enabled (LbImapClient *self,
                           const char   *name)
{
  g_return_val_if_fail (LB_IS_IMAP_CLIENT (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return is_enabled (self, name);
}

const LbImapMailboxInfo *
lb_imap_client_get_selected (LbImapClient *self)
{
  g_return_val_if_fail (LB_IS_IMAP_CLIENT (self), NULL);

  return self->state == LB_IMAP_STATE_SELECTED ? self->selected : NULL;
}

char
lb_imap_client_get_delimiter (LbImapClient *self)
{
  g_return_val_if_fail (LB_IS_IMAP_CLIENT (self), '\0');

  return self->delimiter;
}

/**
 * lb_imap_client_set_trace_func:
 * @func: (nullable): called for each line sent and received, already
 *   redacted; %NULL restores the default, g_debug() in the log domain
 *   "lb-imap-protocol"
 */
void
lb_imap_client_set_trace_func (LbImapClient    *self,
                               LbImapTraceFunc  func,
                               gpointer         user_data,
                               GDestroyNotify   destroy)
{
  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  if (self->trace_destroy != NULL)
    self->trace_destroy (self->trace_data);

  self->trace_func = func;
  self->trace_data = user_data;
  self->trace_destroy = destroy;
  self->trace_enabled = trace_wanted (self);
}

void
lb_imap_client_set_idle_renew_interval (LbImapClient *self,
                                        guint         seconds)
{
  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (seconds > 0);

  self->idle_renew_seconds = seconds;
}

void
lb_imap_client_set_max_search_results (LbImapClient *self,
                                       guint         max)
{
  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (max > 0);

  self->max_search_results = max;
}

void
lb_imap_client_set_timeout (LbImapClient *self,
                            guint         seconds)
{
  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  self->timeout = seconds;
  update_timer (self);
}

/* The generic runner */

static gboolean
run_untagged (LbImapClient   *self,
              Op             *op,
              LbImapResponse *response)
{
  gpointer data = NULL;
  LbImapCommandUntaggedFunc func = lb_imap_command_get_untagged_func (op->command, &data);

  return func != NULL && func (response, data);
}

static void
run_done (LbImapClient   *self,
          Op             *op,
          LbImapResponse *response,
          const GError   *error)
{
  if (op->task == NULL)
    return;

  if (error != NULL)
    op_return_error (op, error);
  else if (response->status == LB_IMAP_STATUS_OK)
    take_return_pointer (g_steal_pointer (&op->task), lb_imap_response_ref (response),
                           (GDestroyNotify) lb_imap_response_unref);
  else
    {
      g_autofree char *what = g_strdup_printf (_("The server refused the command “%s”"),
                                               lb_imap_command_get_name (op->command));

      take_return_error (g_steal_pointer (&op->task), response_error (response, what));
    }
}

/**
 * lb_imap_client_run_async:
 * @command: a command; its untagged func (if any) sees the untagged
 *   responses while it runs
 *
 * Runs any command in any open state. Commands that change the state
 * (SELECT, LOGIN, LOGOUT, STARTTLS, COMPRESS...) must go through their
 * typed function, which keeps the client's view of the session right.
 */
void
lb_imap_client_run_async (LbImapClient        *self,
                          LbImapCommand       *command,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (command != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_imap_client_run_async);

  op = op_new (lb_imap_command_ref (command), ANY_OPEN, task);
  op->untagged = run_untagged;
  op->claims = lb_imap_command_get_untagged_func (command, NULL) != NULL;
  op->done = run_done;
  submit (self, op);
}

LbImapResponse *
lb_imap_client_run_finish (LbImapClient  *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_client_run_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
finish_boolean (LbImapClient  *self,
                GAsyncResult  *result,
                gpointer       source_tag,
                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* A command whose answer is just OK: @what (translated) says what failed. */
static void
simple_done (LbImapClient   *self,
             Op             *op,
             LbImapResponse *response,
             const GError   *error)
{
  if (op->task == NULL)
    return;

  if (error != NULL)
    op_return_error (op, error);
  else if (response->status == LB_IMAP_STATUS_OK)
    op_return_boolean (op);
  else
    take_return_error (g_steal_pointer (&op->task), response_error (response, op->data));
}

static Op *
simple_op (LbImapCommand *command,
           guint          states,
           GTask         *task,
           char          *what)
{
  Op *op = op_new (command, states, task);

  op->data = what;
  op->data_destroy = g_free;
  op->done = simple_done;

  return op;
}

static GTask *
new_task (LbImapClient        *self,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data,
          gpointer             source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);

  return task;
}

/* Greeting */

static void
greet_done (LbImapClient   *self,
            Op             *op,
            LbImapResponse *response,
            const GError   *error)
{
  if (error != NULL)
    op_return_error (op, error);
  else
    op_return_boolean (op);
}

void
lb_imap_client_greet_async (LbImapClient        *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  GTask *task;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_greet_async);

  if (self->greeted || self->greet_op != NULL)
    {
      g_task_return_new_error (task, LB_IMAP_ERROR, LB_IMAP_ERROR_STATE,
                               _("The server’s greeting was already read"));
      g_object_unref (task);
      return;
    }

  op = op_new (NULL, ANY_OPEN, task);
  op->done = greet_done;

  if (self->closed)
    {
      submit (self, op);
      return;
    }

  op->client = self;
  if (cancellable != NULL)
    {
      op->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (op->cancel_source, G_SOURCE_FUNC (op_cancelled_cb), op, NULL);
      g_source_attach (op->cancel_source, self->context);
    }

  /* the greeting is an answer nobody asked for: the op waits as if sent */
  self->greet_op = op;
  g_queue_push_tail (&self->in_flight, op);
  update_timer (self);
  reader_run (self);
}

gboolean
lb_imap_client_greet_finish (LbImapClient  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return finish_boolean (self, result, lb_imap_client_greet_async, error);
}

/* CAPABILITY */

typedef void (*StepFunc) (LbImapClient *self,
                          GTask        *task);

static void
capability_then_done (LbImapClient   *self,
                      Op             *op,
                      LbImapResponse *response,
                      const GError   *error)
{
  StepFunc then = (StepFunc) op->data;

  if (op->task == NULL)
    return;

  if (error != NULL)
    op_return_error (op, error);
  else if (response->status != LB_IMAP_STATUS_OK)
    take_return_error (g_steal_pointer (&op->task),
                         response_error (response, _("Could not ask the server what it supports")));
  else
    {
      self->capabilities_known = TRUE;
      then (self, g_steal_pointer (&op->task));
    }
}

static void
capabilities_then (LbImapClient *self,
                   GTask        *task,
                   StepFunc      then,
                   gboolean      front)
{
  Op *op;

  op = op_new (lb_imap_command_new ("CAPABILITY"), ANY_OPEN, task);
  op->data = (gpointer) then;
  op->done = capability_then_done;
  submit_full (self, op, front);
}

/* runs @then once the capabilities are known */
static void
with_capabilities (LbImapClient *self,
                   GTask        *task,
                   StepFunc      then)
{
  if (self->capabilities_known)
    then (self, task);
  else
    capabilities_then (self, task, then, FALSE);
}

static void
return_true_step (LbImapClient *self,
                  GTask        *task)
{
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

void
lb_imap_client_capability_async (LbImapClient        *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  capabilities_then (self,
                     new_task (self, cancellable, callback, user_data, lb_imap_client_capability_async),
                     return_true_step, FALSE);
}

gboolean
lb_imap_client_capability_finish (LbImapClient  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return finish_boolean (self, result, lb_imap_client_capability_async, error);
}

/* STARTTLS */

typedef struct
{
  LbConnector *connector;
  char        *host;
  guint16      port;
} StarttlsData;

static void
starttls_data_free (gpointer data)
{
  StarttlsData *sd = data;

  g_clear_object (&sd->connector);
  g_free (sd->host);
  g_free (sd);
}

static void
clear_tls_cancel_source (LbImapClient *self)
{
  if (self->tls_cancel_source != NULL)
    {
      g_source_destroy (self->tls_cancel_source);
      g_clear_pointer (&self->tls_cancel_source, g_source_unref);
    }
}

/* cancelled mid-handshake: the connection is neither plain nor secure */
static gboolean
tls_cancelled_cb (GCancellable *cancellable,
                  gpointer      user_data)
{
  LbImapClient *self = user_data;

  g_clear_pointer (&self->tls_cancel_source, g_source_unref);
  shutdown_client (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                              _("The operation was cancelled")));

  return G_SOURCE_REMOVE;
}

static void
handshake_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(LbImapClient) self = user_data;
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GError) error = NULL;
  GTask *task;

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
  clear_tls_cancel_source (self);
  task = g_steal_pointer (&self->tls_task);
  forget_capabilities (self);

  if (task == NULL)
    {
      /* cancelled meanwhile: the connection is secure but nobody waits */
      pump (self);
      return;
    }

  /* what the server offers may change once the connection is secure: ask
   * again before anything else queued meanwhile */
  capabilities_then (self, task, return_true_step, TRUE);
}

static void
maybe_start_handshake (LbImapClient *self)
{
  if (!self->switching || self->handshaking || self->writing || self->closed ||
      self->tls_connector == NULL)
    return;

  self->handshaking = TRUE;
  lb_connector_start_tls_async (self->tls_connector, self->stream,
                                self->tls_host, self->tls_port,
                                self->io_cancellable, handshake_cb, g_object_ref (self));
  g_clear_object (&self->tls_connector);
}

/* A PREAUTH greeting on a connection that was to be secured: the server,
 * or someone between it and us, logged in in plaintext (a pattern of a
 * man in the middle suppressing STARTTLS). Nothing more may be sent. */
static gboolean
starttls_refuse_preauth (LbImapClient *self,
                         Op           *op,
                         GTask        *task)
{
  GError *failure;

  if (self->state != LB_IMAP_STATE_AUTHENTICATED && self->state != LB_IMAP_STATE_SELECTED)
    return FALSE;

  failure = g_error_new_literal (LB_IMAP_ERROR, LB_IMAP_ERROR_NO_STARTTLS,
                                 _("The server logged in before the connection was secured, "
                                   "so the connection was closed to protect it"));
  if (op != NULL)
    op_return_error (op, failure);
  else
    take_return_error (task, g_error_copy (failure));
  shutdown_client (self, failure);

  return TRUE;
}

static void
starttls_done (LbImapClient   *self,
               Op             *op,
               LbImapResponse *response,
               const GError   *error)
{
  StarttlsData *sd = op->data;
  g_autoptr(GError) failure = NULL;

  if (error != NULL)
    {
      /* logged in while STARTTLS waited to be sent */
      if (g_error_matches (error, LB_IMAP_ERROR, LB_IMAP_ERROR_STATE) &&
          starttls_refuse_preauth (self, op, NULL))
        return;
      op_return_error (op, error);
      return;
    }

  if (response->status != LB_IMAP_STATUS_OK)
    {
      /* no downgrade: this connection is not to be used */
      failure = response_error (response, _("The server refused to secure the connection"));
      op_return_error (op, failure);
      shutdown_client (self, g_steal_pointer (&failure));
      return;
    }

  /* Anything after the OK was sent in plaintext before the handshake: an
   * attacker's injected responses (CVE-2011-0411 and its kin). */
  if (self->buf_end > self->buf_start)
    {
      failure = g_error_new_literal (LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL,
                                     _("The server sent unexpected data before securing the connection; "
                                       "the connection was closed to protect it"));
      op_return_error (op, failure);
      shutdown_client (self, g_steal_pointer (&failure));
      return;
    }

  if (op->task == NULL)
    {
      /* cancelled after the server agreed: the connection is mid-switch */
      shutdown_client (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                  _("The operation was cancelled")));
      return;
    }

  self->switching = TRUE;
  self->tls_task = g_steal_pointer (&op->task);
  if (g_task_get_cancellable (self->tls_task) != NULL)
    {
      self->tls_cancel_source = g_cancellable_source_new (g_task_get_cancellable (self->tls_task));
      g_source_set_callback (self->tls_cancel_source, G_SOURCE_FUNC (tls_cancelled_cb), self, NULL);
      g_source_attach (self->tls_cancel_source, self->context);
    }
  self->tls_connector = g_object_ref (sd->connector);
  g_free (self->tls_host);
  self->tls_host = g_strdup (sd->host);
  self->tls_port = sd->port;
  lb_imap_framer_init (&self->framer, 0, 0);
  self->buf_start = self->buf_end = 0;
  maybe_start_handshake (self);
  update_timer (self);
}

static void
starttls_step (LbImapClient *self,
               GTask        *task)
{
  StarttlsData *sd = g_task_get_task_data (task);
  LbImapCommand *command;
  Op *op;

  if (starttls_refuse_preauth (self, NULL, task))
    return;

  if (!has_capability (self, "STARTTLS"))
    {
      g_task_return_new_error (task, LB_IMAP_ERROR, LB_IMAP_ERROR_NO_STARTTLS,
                               _("The server does not offer a secure connection (STARTTLS), "
                                 "so nothing was sent; check the security setting"));
      g_object_unref (task);
      return;
    }

  command = lb_imap_command_new ("STARTTLS");
  lb_imap_command_set_exclusive (command, TRUE);
  op = op_new (command, NOT_AUTH, task);
  op->data = g_new0 (StarttlsData, 1);
  op->data_destroy = starttls_data_free;
  ((StarttlsData *) op->data)->connector = g_object_ref (sd->connector);
  ((StarttlsData *) op->data)->host = g_strdup (sd->host);
  ((StarttlsData *) op->data)->port = sd->port;
  op->done = starttls_done;
  submit (self, op);
}

void
lb_imap_client_starttls_async (LbImapClient        *self,
                               LbConnector         *connector,
                               const char          *host,
                               guint16              port,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;
  StarttlsData *sd;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (LB_IS_CONNECTOR (connector));
  g_return_if_fail (host != NULL);

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_starttls_async);
  sd = g_new0 (StarttlsData, 1);
  sd->connector = g_object_ref (connector);
  sd->host = g_strdup (host);
  sd->port = port;
  g_task_set_task_data (task, sd, starttls_data_free);

  if (G_IS_TLS_CONNECTION (self->stream))
    {
      g_task_return_new_error (task, LB_IMAP_ERROR, LB_IMAP_ERROR_STATE,
                               _("The connection is already secure"));
      g_object_unref (task);
      return;
    }

  if (starttls_refuse_preauth (self, NULL, task))
    return;

  with_capabilities (self, task, starttls_step);
}

gboolean
lb_imap_client_starttls_finish (LbImapClient  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return finish_boolean (self, result, lb_imap_client_starttls_async, error);
}

/* Logging in */

typedef struct
{
  char     *initial;        /* the SASL response, base64; NULL after LOGIN */
  gboolean  initial_sent;
  gboolean  xoauth2;
  guint     capabilities_serial;
} LoginData;

static void
wipe_string (char *s)
{
  if (s != NULL)
    {
      memset (s, 0, strlen (s));
      g_free (s);
    }
}

static void
login_data_free (gpointer data)
{
  LoginData *ld = data;

  wipe_string (ld->initial);
  g_free (ld);
}

static void
login_sent (LbImapClient *self,
            Op           *op)
{
  LoginData *ld = op->data;

  ld->capabilities_serial = self->capabilities_serial;
}

static void
sasl_continuation (LbImapClient   *self,
                   Op             *op,
                   LbImapResponse *response)
{
  LoginData *ld = op->data;

  if (op->cancelled)
    {
      /* RFC 3501: "*" ends the exchange, the server answers BAD */
      send_line (self, "*", "*");
      return;
    }

  if (!ld->initial_sent && ld->initial != NULL)
    {
      ld->initial_sent = TRUE;
      send_line (self, ld->initial, "***");
      return;
    }

  /* a challenge after our response: for XOAUTH2 the server's error
   * details, answered by an empty line; PLAIN has none, so give up */
  if (ld->xoauth2)
    send_line (self, "", "");
  else
    send_line (self, "*", "*");
}

static void
login_done (LbImapClient   *self,
            Op             *op,
            LbImapResponse *response,
            const GError   *error)
{
  LoginData *ld = op->data;

  if (error != NULL)
    {
      op_return_error (op, error);
      return;
    }

  if (response->status == LB_IMAP_STATUS_OK)
    {
      gboolean ask = ld->capabilities_serial == self->capabilities_serial;

      set_state (self, LB_IMAP_STATE_AUTHENTICATED);
      /* what the server offers changes after login; it often says so in
       * the OK, else ask before anything else */
      if (ask)
        forget_capabilities (self);
      if (op->task == NULL)
        return;
      if (ask)
        capabilities_then (self, g_steal_pointer (&op->task), return_true_step, TRUE);
      else
        op_return_boolean (op);
      return;
    }

  if (op->task == NULL)
    return;

  if (response->status == LB_IMAP_STATUS_BAD)
    take_return_error (g_steal_pointer (&op->task),
                         response_error (response, _("The server did not understand the login")));
  else if (response->code == LB_IMAP_CODE_UNAVAILABLE)
    take_return_error (g_steal_pointer (&op->task),
                         response_error (response, _("The server cannot log you in right now; try again later")));
  else if (response->code == LB_IMAP_CODE_PRIVACYREQUIRED)
    take_return_error (g_steal_pointer (&op->task),
                         g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_NOT_SUPPORTED,
                                      _("The server requires a secure connection to log in: %s"),
                                      response->text != NULL ? response->text : ""));
  else if (response->text != NULL && *response->text != '\0')
    take_return_error (g_steal_pointer (&op->task), g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_AUTHENTICATION,
                             _("The server refused the user name or password: %s"), response->text));
  else
    take_return_error (g_steal_pointer (&op->task), g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_AUTHENTICATION,
                             _("The server refused the user name or password")));
}

typedef struct
{
  char     *user;
  char     *secret;
  gboolean  xoauth2;
} Credentials;

static void
credentials_free (gpointer data)
{
  Credentials *c = data;

  g_free (c->user);
  wipe_string (c->secret);
  g_free (c);
}

static char *
sasl_base64 (const char *data,
             gsize       len)
{
  return g_base64_encode ((const guchar *) data, len);
}

static void
login_step (LbImapClient *self,
            GTask        *task)
{
  Credentials *c = g_task_get_task_data (task);
  g_autoptr(LbImapCommand) command = NULL;
  LoginData *ld;
  gboolean sasl_ir = has_capability (self, "SASL-IR");
  Op *op;

  ld = g_new0 (LoginData, 1);
  ld->xoauth2 = c->xoauth2;

  if (c->xoauth2)
    {
      g_autofree char *message = NULL;

      if (!has_capability (self, "AUTH=XOAUTH2"))
        {
          login_data_free (ld);
          g_task_return_new_error (task, LB_IMAP_ERROR, LB_IMAP_ERROR_NOT_SUPPORTED,
                                   _("The server does not accept OAuth 2.0 logins (XOAUTH2)"));
          g_object_unref (task);
          return;
        }
      message = g_strdup_printf ("user=%s\001auth=Bearer %s\001\001", c->user, c->secret);
      ld->initial = sasl_base64 (message, strlen (message));
      memset (message, 0, strlen (message));
      command = lb_imap_command_new ("AUTHENTICATE");
      lb_imap_command_add_atom (command, "XOAUTH2");
    }
  else if (has_capability (self, "AUTH=PLAIN"))
    {
      gsize user_len = strlen (c->user), secret_len = strlen (c->secret);
      gsize len = 1 + user_len + 1 + secret_len;
      g_autofree char *message = g_malloc (len);

      /* authzid (empty) NUL authcid NUL password */
      message[0] = '\0';
      memcpy (message + 1, c->user, user_len);
      message[1 + user_len] = '\0';
      memcpy (message + 2 + user_len, c->secret, secret_len);
      ld->initial = sasl_base64 (message, len);
      memset (message, 0, len);
      command = lb_imap_command_new ("AUTHENTICATE");
      lb_imap_command_add_atom (command, "PLAIN");
    }
  else if (has_capability (self, "LOGINDISABLED"))
    {
      login_data_free (ld);
      g_task_return_new_error (task, LB_IMAP_ERROR, LB_IMAP_ERROR_NOT_SUPPORTED,
                               _("The server does not accept a password on this connection; "
                                 "use a secure connection (TLS or STARTTLS)"));
      g_object_unref (task);
      return;
    }
  else
    {
      command = lb_imap_command_new ("LOGIN");
      lb_imap_command_begin_secret (command);
      lb_imap_command_add_string (command, c->user);
      lb_imap_command_add_string (command, c->secret);
      lb_imap_command_end_secret (command);
    }

  if (ld->initial != NULL && sasl_ir)
    {
      lb_imap_command_begin_secret (command);
      lb_imap_command_add_atom (command, ld->initial);
      lb_imap_command_end_secret (command);
      ld->initial_sent = TRUE;
    }

  lb_imap_command_set_exclusive (command, TRUE);
  op = op_new (g_steal_pointer (&command), NOT_AUTH, task);
  op->data = ld;
  op->data_destroy = login_data_free;
  op->sent = login_sent;
  op->continuation = sasl_continuation;
  op->done = login_done;
  submit (self, op);
}

static void
login_start (LbImapClient        *self,
             const char          *user,
             const char          *secret,
             gboolean             xoauth2,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data,
             gpointer             source_tag)
{
  GTask *task;
  Credentials *c;

  task = new_task (self, cancellable, callback, user_data, source_tag);
  c = g_new0 (Credentials, 1);
  c->user = g_strdup (user);
  c->secret = g_strdup (secret);
  c->xoauth2 = xoauth2;
  g_task_set_task_data (task, c, credentials_free);

  if (self->state != LB_IMAP_STATE_NOT_AUTHENTICATED && !self->closed)
    {
      g_task_return_new_error (task, LB_IMAP_ERROR, LB_IMAP_ERROR_STATE,
                               _("Could not log in: already logged in"));
      g_object_unref (task);
      return;
    }

  with_capabilities (self, task, login_step);
}

void
lb_imap_client_login_async (LbImapClient        *self,
                            const char          *user,
                            const char          *password,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (user != NULL);
  g_return_if_fail (password != NULL);

  login_start (self, user, password, FALSE, cancellable, callback, user_data,
               lb_imap_client_login_async);
}

gboolean
lb_imap_client_login_finish (LbImapClient  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return finish_boolean (self, result, lb_imap_client_login_async, error);
}

void
lb_imap_client_xoauth2_async (LbImapClient        *self,
                              const char          *user,
                              const char          *token,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (user != NULL);
  g_return_if_fail (token != NULL);

  login_start (self, user, token, TRUE, cancellable, callback, user_data,
               lb_imap_client_xoauth2_async);
}

gboolean
lb_imap_client_xoauth2_finish (LbImapClient  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return finish_boolean (self, result, lb_imap_client_xoauth2_async, error);
}

/* ID */

static gboolean
id_untagged (LbImapClient   *self,
             Op             *op,
             LbImapResponse *response)
{
  if (response->data != LB_IMAP_DATA_ID)
    return FALSE;

  g_strfreev (op->data);
  op->data = g_strdupv (response->strv);
  if (op->data == NULL)
    op->data = g_new0 (char *, 1);

  return TRUE;
}

static void
id_done (LbImapClient   *self,
         Op             *op,
         LbImapResponse *response,
         const GError   *error)
{
  if (op->task == NULL)
    return;

  if (error != NULL)
    op_return_error (op, error);
  else if (response->status != LB_IMAP_STATUS_OK)
    take_return_error (g_steal_pointer (&op->task),
                         response_error (response, _("The server refused to identify itself")));
  else
    {
      char **result = g_steal_pointer (&op->data);

      if (result == NULL)
        result = g_new0 (char *, 1);
      take_return_pointer (g_steal_pointer (&op->task), result, (GDestroyNotify) g_strfreev);
    }
}

/**
 * lb_imap_client_id_async:
 *
 * Fails with %LB_IMAP_ERROR_NOT_SUPPORTED when the server does not offer
 * ID. The result is the server's key, value, ... list; empty for "ID NIL".
 */
void
lb_imap_client_id_async (LbImapClient        *self,
                         const char * const  *params,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  GTask *task;
  LbImapCommand *command;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_id_async);

  if (!has_capability (self, "ID"))
    {
      g_task_return_new_error (task, LB_IMAP_ERROR, LB_IMAP_ERROR_NOT_SUPPORTED,
                               _("The server does not support identifying programs (ID)"));
      g_object_unref (task);
      return;
    }

  command = lb_imap_command_new ("ID");
  if (params == NULL || params[0] == NULL)
    lb_imap_command_add_atom (command, "NIL");
  else
    {
      lb_imap_command_add_atom (command, "(");
      for (guint i = 0; params[i] != NULL; i++)
        lb_imap_command_add_string (command, params[i]);
      lb_imap_command_add_atom (command, ")");
    }

  op = op_new (command, ANY_OPEN, task);
  op->data_destroy = (GDestroyNotify) g_strfreev;
  op->untagged = id_untagged;
  op->claims = TRUE;
  op->done = id_done;
  submit (self, op);
}

char **
lb_imap_client_id_finish (LbImapClient  *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_client_id_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ENABLE */

static gboolean
enable_untagged (LbImapClient   *self,
                 Op             *op,
                 LbImapResponse *response)
{
  if (response->data != LB_IMAP_DATA_ENABLED)
    return FALSE;

  for (guint i = 0; response->strv != NULL && response->strv[i] != NULL; i++)
    g_ptr_array_add (op->data, g_ascii_strup (response->strv[i], -1));

  return TRUE;
}

static char **
strv_from_array (GPtrArray *array)
{
  g_ptr_array_add (array, NULL);

  return (char **) g_ptr_array_free (array, FALSE);
}

static void
enable_done (LbImapClient   *self,
             Op             *op,
             LbImapResponse *response,
             const GError   *error)
{
  if (op->task == NULL)
    return;

  if (error != NULL)
    op_return_error (op, error);
  else if (response->status != LB_IMAP_STATUS_OK)
    take_return_error (g_steal_pointer (&op->task),
                         response_error (response, _("Could not enable extensions of the server")));
  else
    take_return_pointer (g_steal_pointer (&op->task),
                           strv_from_array (g_steal_pointer (&op->data)),
                           (GDestroyNotify) g_strfreev);
}

static gboolean
is_atom (const char *text)
{
  if (*text == '\0')
    return FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c <= 0x20 || c >= 0x7f || strchr ("(){%*\"\\]", c) != NULL)
        return FALSE;
    }

  return TRUE;
}

void
lb_imap_client_enable_async (LbImapClient        *self,
                             const char * const  *extensions,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;
  g_autoptr(LbImapCommand) command = NULL;
  gboolean any = FALSE;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_enable_async);

  command = lb_imap_command_new ("ENABLE");
  for (guint i = 0; extensions != NULL && extensions[i] != NULL; i++)
    {
      g_return_if_fail (is_atom (extensions[i]));
      if (has_capability (self, extensions[i]))
        {
          lb_imap_command_add_atom (command, extensions[i]);
          any = TRUE;
        }
    }

  /* nothing the server offers: nothing to enable */
  if (!any || !(has_capability (self, "ENABLE") || has_capability (self, "IMAP4rev2")))
    {
      g_task_return_pointer (task, g_new0 (char *, 1), (GDestroyNotify) g_strfreev);
      g_object_unref (task);
      return;
    }

  op = op_new (g_steal_pointer (&command), STATE_BIT (LB_IMAP_STATE_AUTHENTICATED), task);
  op->data = g_ptr_array_new_with_free_func (g_free);
  op->data_destroy = (GDestroyNotify) g_ptr_array_unref;
  op->untagged = enable_untagged;
  op->done = enable_done;
  submit (self, op);
}

char **
lb_imap_client_enable_finish (LbImapClient  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_client_enable_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* COMPRESS */

static void
compress_done (LbImapClient   *self,
               Op             *op,
               LbImapResponse *response,
               const GError   *error)
{
  if (error != NULL)
    {
      op_return_error (op, error);
      return;
    }

  if (response->status != LB_IMAP_STATUS_OK)
    {
      if (op->task != NULL)
        take_return_error (g_steal_pointer (&op->task),
                             response_error (response, _("The server refused to compress the connection")));
      return;
    }

  /* from here on both directions are compressed, whether or not anybody
   * still waits for the answer; what came after the OK already is */
  self->deflater = lb_imap_deflater_new ();
  self->inflater = G_CONVERTER (g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW));
  self->zbuf = g_malloc (ZBUF_SIZE);
  self->zstart = 0;
  self->zend = self->buf_end - self->buf_start;
  if (self->zend > ZBUF_SIZE)
    self->zbuf = g_realloc (self->zbuf, self->zend);
  memcpy (self->zbuf, self->buf + self->buf_start, self->zend);
  self->buf_end = self->buf_start;

  op_return_boolean (op);
}

/**
 * lb_imap_client_compress_async:
 *
 * Switches the connection to COMPRESS=DEFLATE. Finishes with %FALSE and no
 * error when the server does not offer it (or it is on already).
 */
void
lb_imap_client_compress_async (LbImapClient        *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;
  LbImapCommand *command;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_compress_async);

  if (!has_capability (self, "COMPRESS=DEFLATE") || self->deflater != NULL)
    {
      g_task_return_boolean (task, FALSE);
      g_object_unref (task);
      return;
    }

  command = lb_imap_command_new ("COMPRESS");
  lb_imap_command_add_atom (command, "DEFLATE");
  lb_imap_command_set_exclusive (command, TRUE);
  op = op_new (command, AUTHENTICATED, task);
  op->done = compress_done;
  submit (self, op);
}

gboolean
lb_imap_client_compress_finish (LbImapClient  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return finish_boolean (self, result, lb_imap_client_compress_async, error);
}

/* NAMESPACE */

static gboolean
namespace_untagged (LbImapClient   *self,
                    Op             *op,
                    LbImapResponse *response)
{
  if (response->data != LB_IMAP_DATA_NAMESPACE)
    return FALSE;

  g_clear_pointer (&op->data, lb_imap_response_unref);
  op->data = lb_imap_response_ref (response);

  return TRUE;
}

static void
namespace_done (LbImapClient   *self,
                Op             *op,
                LbImapResponse *response,
                const GError   *error)
{
  LbImapResponse *ns = op->data;

  if (error == NULL && response->status == LB_IMAP_STATUS_OK && ns != NULL)
    {
      GPtrArray *personal = ns->namespaces[0];

      if (personal != NULL && personal->len > 0)
        self->delimiter = ((LbImapNamespaceEntry *) personal->pdata[0])->delimiter;
    }

  if (op->task == NULL)
    return;

  if (error != NULL)
    op_return_error (op, error);
  else if (response->status != LB_IMAP_STATUS_OK)
    take_return_error (g_steal_pointer (&op->task),
                         response_error (response, _("Could not list the server’s namespaces")));
  else
    take_return_pointer (g_steal_pointer (&op->task), g_steal_pointer (&op->data),
                           (GDestroyNotify) lb_imap_response_unref);
}

/**
 * lb_imap_client_namespace_async:
 *
 * Finishes with the NAMESPACE response, or %NULL and no error when the
 * server does not offer NAMESPACE. Remembers the delimiter of the
 * personal namespace (lb_imap_client_get_delimiter()).
 */
void
lb_imap_client_namespace_async (LbImapClient        *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_namespace_async);

  if (!has_capability (self, "NAMESPACE") && !has_capability (self, "IMAP4rev2"))
    {
      g_task_return_pointer (task, NULL, NULL);
      g_object_unref (task);
      return;
    }

  op = op_new (lb_imap_command_new ("NAMESPACE"), AUTHENTICATED, task);
  op->data_destroy = (GDestroyNotify) lb_imap_response_unref;
  op->untagged = namespace_untagged;
  op->claims = TRUE;
  op->done = namespace_done;
  submit (self, op);
}

LbImapResponse *
lb_imap_client_namespace_finish (LbImapClient  *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_client_namespace_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* LIST */

static gboolean
list_untagged (LbImapClient   *self,
               Op             *op,
               LbImapResponse *response)
{
  if (response->data != LB_IMAP_DATA_LIST &&
      response->data != LB_IMAP_DATA_LSUB &&
      response->data != LB_IMAP_DATA_STATUS)
    return FALSE;

  g_ptr_array_add (op->data, lb_imap_response_ref (response));

  return TRUE;
}

static void
list_done (LbImapClient   *self,
           Op             *op,
           LbImapResponse *response,
           const GError   *error)
{
  if (op->task == NULL)
    return;

  if (error != NULL)
    op_return_error (op, error);
  else if (response->status != LB_IMAP_STATUS_OK)
    take_return_error (g_steal_pointer (&op->task),
                         response_error (response, _("Could not list the folders")));
  else
    take_return_pointer (g_steal_pointer (&op->task), g_steal_pointer (&op->data),
                           (GDestroyNotify) g_ptr_array_unref);
}

static void
add_status_items (LbImapClient  *self,
                  LbImapCommand *command)
{
  lb_imap_command_add_atom (command, "(");
  lb_imap_command_add_atom (command, "MESSAGES UNSEEN UIDNEXT UIDVALIDITY");
  if (has_capability (self, "CONDSTORE") || has_capability (self, "IMAP4rev2"))
    lb_imap_command_add_atom (command, "HIGHESTMODSEQ");
  lb_imap_command_add_atom (command, ")");
}

/**
 * lb_imap_client_list_async:
 * @pattern: (nullable): a LIST pattern in UTF-8 ("*" when %NULL)
 * @subscribed_only: only subscribed mailboxes: LIST (SUBSCRIBED) with
 *   LIST-EXTENDED, else LSUB (whose responses are LSUB ones)
 * @with_status: with LIST-STATUS, also STATUS (MESSAGES UNSEEN UIDNEXT
 *   UIDVALIDITY [HIGHESTMODSEQ]) of each mailbox
 *
 * Asks for SPECIAL-USE attributes where offered.
 */
void
lb_imap_client_list_async (LbImapClient        *self,
                           const char          *pattern,
                           gboolean             subscribed_only,
                           gboolean             with_status,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task;
  LbImapCommand *command;
  gboolean extended, special_use, status;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_list_async);

  extended = has_capability (self, "LIST-EXTENDED") || has_capability (self, "IMAP4rev2");
  special_use = has_capability (self, "SPECIAL-USE");
  status = with_status && (has_capability (self, "LIST-STATUS") || has_capability (self, "IMAP4rev2"));

  if (subscribed_only && !extended)
    command = lb_imap_command_new ("LSUB");
  else
    command = lb_imap_command_new ("LIST");

  if (subscribed_only && extended)
    lb_imap_command_add_atom (command, "(SUBSCRIBED)");
  lb_imap_command_add_string (command, "");
  lb_imap_command_add_mailbox (command, pattern != NULL ? pattern : "*");

  if (extended && (special_use || status))
    {
      lb_imap_command_add_atom (command, "RETURN (");
      if (special_use)
        lb_imap_command_add_atom (command, "SPECIAL-USE");
      if (status)
        {
          lb_imap_command_add_atom (command, "STATUS");
          add_status_items (self, command);
        }
      lb_imap_command_add_atom (command, ")");
    }

  op = op_new (command, AUTHENTICATED, task);
  op->data = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_imap_response_unref);
  op->data_destroy = (GDestroyNotify) g_ptr_array_unref;
  op->untagged = list_untagged;
  op->claims = TRUE;
  op->done = list_done;
  submit (self, op);
}

GPtrArray *
lb_imap_client_list_finish (LbImapClient  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_client_list_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* STATUS */

typedef struct
{
  char             *mailbox;
  LbImapStatusData *status;
} StatusData;

static void
status_data_free (gpointer data)
{
  StatusData *sd = data;

  g_free (sd->mailbox);
  lb_imap_status_data_free (sd->status);
  g_free (sd);
}

static gboolean
same_mailbox (const char *a,
              const char *b)
{
  if (a == NULL || b == NULL)
    return FALSE;
  /* INBOX is case-insensitive, nothing else is */
  if (g_ascii_strcasecmp (a, "INBOX") == 0)
    return g_ascii_strcasecmp (b, "INBOX") == 0;

  return strcmp (a, b) == 0;
}

static LbImapStatusData *
status_data_copy (const LbImapStatusData *status)
{
  LbImapStatusData *copy = g_memdup2 (status, sizeof *status);

  copy->mailbox = g_strdup (status->mailbox);
  copy->raw_mailbox = g_strdup (status->raw_mailbox);

  return copy;
}

static gboolean
status_untagged (LbImapClient   *self,
                 Op             *op,
                 LbImapResponse *response)
{
  StatusData *sd = op->data;

  if (response->data != LB_IMAP_DATA_STATUS || response->status_data == NULL ||
      !same_mailbox (response->status_data->mailbox, sd->mailbox))
    return FALSE;

  lb_imap_status_data_free (sd->status);
  sd->status = status_data_copy (response->status_data);

  return TRUE;
}

static void
status_done (LbImapClient   *self,
             Op             *op,
             LbImapResponse *response,
             const GError   *error)
{
  StatusData *sd = op->data;

  if (op->task == NULL)
    return;

  if (error != NULL)
    op_return_error (op, error);
  else if (response->status != LB_IMAP_STATUS_OK)
    {
      g_autofree char *what = g_strdup_printf (_("Could not count the messages in “%s”"), sd->mailbox);

      take_return_error (g_steal_pointer (&op->task), response_error (response, what));
    }
  else if (sd->status == NULL)
    take_return_error (g_steal_pointer (&op->task), g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL,
                             _("The server did not say how many messages “%s” has"), sd->mailbox));
  else
    take_return_pointer (g_steal_pointer (&op->task), g_steal_pointer (&sd->status),
                           (GDestroyNotify) lb_imap_status_data_free);
}

/**
 * lb_imap_client_status_async:
 *
 * STATUS (MESSAGES UNSEEN UIDNEXT UIDVALIDITY [HIGHESTMODSEQ]); free the
 * result with lb_imap_status_data_free().
 */
void
lb_imap_client_status_async (LbImapClient        *self,
                             const char          *mailbox,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;
  LbImapCommand *command;
  StatusData *sd;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (mailbox != NULL);

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_status_async);

  command = lb_imap_command_new ("STATUS");
  lb_imap_command_add_mailbox (command, mailbox);
  add_status_items (self, command);

  sd = g_new0 (StatusData, 1);
  sd->mailbox = g_strdup (mailbox);
  op = op_new (command, AUTHENTICATED, task);
  op->data = sd;
  op->data_destroy = status_data_free;
  op->untagged = status_untagged;
  op->claims = TRUE;
  op->done = status_done;
  submit (self, op);
}

LbImapStatusData *
lb_imap_client_status_finish (LbImapClient  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_client_status_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE */

void
lb_imap_client_mailbox_async (LbImapClient        *self,
                              LbImapMailboxOp      mailbox_op,
                              const char          *mailbox,
                              const char          *new_name,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task;
  LbImapCommand *command;
  char *what;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (mailbox != NULL);
  g_return_if_fail (mailbox_op != LB_IMAP_MAILBOX_RENAME || new_name != NULL);

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_mailbox_async);

  switch (mailbox_op)
    {
    case LB_IMAP_MAILBOX_CREATE:
      command = lb_imap_command_new ("CREATE");
      what = g_strdup_printf (_("Could not create the folder “%s”"), mailbox);
      break;

    case LB_IMAP_MAILBOX_DELETE:
      command = lb_imap_command_new ("DELETE");
      what = g_strdup_printf (_("Could not delete the folder “%s”"), mailbox);
      break;

    case LB_IMAP_MAILBOX_RENAME:
      command = lb_imap_command_new ("RENAME");
      what = g_strdup_printf (_("Could not rename the folder “%s” to “%s”"), mailbox, new_name);
      break;

    case LB_IMAP_MAILBOX_SUBSCRIBE:
      command = lb_imap_command_new ("SUBSCRIBE");
      what = g_strdup_printf (_("Could not subscribe to the folder “%s”"), mailbox);
      break;

    case LB_IMAP_MAILBOX_UNSUBSCRIBE:
      command = lb_imap_command_new ("UNSUBSCRIBE");
      what = g_strdup_printf (_("Could not unsubscribe from the folder “%s”"), mailbox);
      break;

    default:
      g_return_if_reached ();
    }

  lb_imap_command_add_mailbox (command, mailbox);
  if (mailbox_op == LB_IMAP_MAILBOX_RENAME)
    lb_imap_command_add_mailbox (command, new_name);

  submit (self, simple_op (command, AUTHENTICATED, task, what));
}

gboolean
lb_imap_client_mailbox_finish (LbImapClient  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return finish_boolean (self, result, lb_imap_client_mailbox_async, error);
}

/* SELECT / EXAMINE */

typedef struct
{
  char               *mailbox;
  gboolean            read_only;
  gboolean            condstore;
  gboolean            sent;       /* self->selecting is this op's */
  LbImapUntaggedFunc  func;
  gpointer            func_data;
} SelectData;

static void
select_data_free (gpointer data)
{
  SelectData *sd = data;

  g_free (sd->mailbox);
  g_free (sd);
}

static void
select_sent (LbImapClient *self,
             Op           *op)
{
  SelectData *sd = op->data;

  sd->sent = TRUE;
  /* SELECT closes the mailbox selected before, even when it fails */
  set_state (self, LB_IMAP_STATE_AUTHENTICATED);
  lb_imap_mailbox_info_free (self->selecting);
  self->selecting = g_new0 (LbImapMailboxInfo, 1);
  self->selecting->mailbox = g_strdup (sd->mailbox);
  self->selecting->read_only = sd->read_only;
  if (sd->condstore)
    mark_enabled (self, "CONDSTORE");
}

/* the data that make up the answer to SELECT, tracked in the info */
static gboolean
is_select_data (LbImapResponse *response)
{
  if (response->data == LB_IMAP_DATA_FLAGS ||
      response->data == LB_IMAP_DATA_EXISTS ||
      response->data == LB_IMAP_DATA_RECENT)
    return TRUE;

  if (response->data != LB_IMAP_DATA_NONE || response->status != LB_IMAP_STATUS_OK)
    return FALSE;

  return response->code == LB_IMAP_CODE_UIDVALIDITY ||
         response->code == LB_IMAP_CODE_UIDNEXT ||
         response->code == LB_IMAP_CODE_HIGHESTMODSEQ ||
         response->code == LB_IMAP_CODE_NOMODSEQ ||
         response->code == LB_IMAP_CODE_PERMANENTFLAGS ||
         response->code == LB_IMAP_CODE_UNSEEN ||
         response->code == LB_IMAP_CODE_CLOSED ||
         response->code == LB_IMAP_CODE_READ_ONLY ||
         response->code == LB_IMAP_CODE_READ_WRITE;
}

static gboolean
select_untagged (LbImapClient   *self,
                 Op             *op,
                 LbImapResponse *response)
{
  SelectData *sd = op->data;

  if (is_select_data (response))
    return TRUE;

  if (sd->func == NULL ||
      (response->data != LB_IMAP_DATA_FETCH &&
       !(response->data == LB_IMAP_DATA_VANISHED && response->vanished_earlier)))
    return FALSE;

  return sd->func (self, response, sd->func_data);
}

static void
select_done (LbImapClient   *self,
             Op             *op,
             LbImapResponse *response,
             const GError   *error)
{
  SelectData *sd = op->data;
  LbImapMailboxInfo *info = NULL;

  /* an op that never went out (cancelled or refused while queued) leaves
   * alone the state and the SELECT that may be running ahead of it */
  if (!sd->sent)
    {
      if (error != NULL)
        op_return_error (op, error);
      return;
    }

  info = g_steal_pointer (&self->selecting);
  if (error == NULL && response->status == LB_IMAP_STATUS_OK && info != NULL)
    {
      if (info->flags == NULL)
        info->flags = g_new0 (char *, 1);
      self->selected = info;
      self->state = LB_IMAP_STATE_SELECTED;
      if (op->task != NULL)
        take_return_pointer (g_steal_pointer (&op->task), mailbox_info_copy (info),
                               (GDestroyNotify) lb_imap_mailbox_info_free);
      return;
    }

  lb_imap_mailbox_info_free (info);
  if (self->state == LB_IMAP_STATE_SELECTED)
    set_state (self, LB_IMAP_STATE_AUTHENTICATED);

  if (op->task == NULL)
    return;

  if (error != NULL)
    op_return_error (op, error);
  else
    {
      g_autofree char *what = g_strdup_printf (_("Could not open the folder “%s”"), sd->mailbox);

      take_return_error (g_steal_pointer (&op->task), response_error (response, what));
    }
}

static gboolean
is_set_text (const char *text)
{
  if (text == NULL || *text == '\0')
    return FALSE;

  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p) && *p != ':' && *p != ',' && *p != '*')
      return FALSE;

  return TRUE;
}

/**
 * lb_imap_client_select_async:
 *
 * The result and lb_imap_client_get_selected() describe the mailbox;
 * later EXISTS, EXPUNGE, VANISHED and HIGHESTMODSEQ keep the latter up to
 * date. On failure no mailbox is selected.
 */
void
lb_imap_client_select_async (LbImapClient        *self,
                             const char          *mailbox,
                             gboolean             read_only,
                             const LbImapQresync *qresync,
                             LbImapUntaggedFunc   func,
                             gpointer             func_data,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;
  LbImapCommand *command;
  SelectData *sd;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (mailbox != NULL);

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_select_async);

  sd = g_new0 (SelectData, 1);
  sd->mailbox = g_strdup (mailbox);
  sd->read_only = read_only;
  sd->func = func;
  sd->func_data = func_data;

  command = lb_imap_command_new (read_only ? "EXAMINE" : "SELECT");
  lb_imap_command_add_mailbox (command, mailbox);
  if (qresync != NULL && is_enabled (self, "QRESYNC") && qresync->uidvalidity != 0)
    {
      lb_imap_command_add_atom (command, "(QRESYNC (");
      lb_imap_command_add_number (command, qresync->uidvalidity);
      lb_imap_command_add_number (command, qresync->modseq);
      if (qresync->known_uids != NULL)
        {
          if (is_set_text (qresync->known_uids))
            lb_imap_command_add_atom (command, qresync->known_uids);
          else
            g_critical ("%s: “%s” is not a UID set", G_STRFUNC, qresync->known_uids);
        }
      lb_imap_command_add_atom (command, "))");
    }
  else if (is_enabled (self, "CONDSTORE") || has_capability (self, "CONDSTORE"))
    {
      lb_imap_command_add_atom (command, "(CONDSTORE)");
      sd->condstore = TRUE;
    }
  lb_imap_command_set_exclusive (command, TRUE);

  op = op_new (command, AUTHENTICATED, task);
  op->data = sd;
  op->data_destroy = select_data_free;
  op->sent = select_sent;
  op->untagged = select_untagged;
  op->claims = func != NULL;
  op->done = select_done;
  submit (self, op);
}

LbImapMailboxInfo *
lb_imap_client_select_finish (LbImapClient  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_client_select_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* UNSELECT / CLOSE */

static void
unselect_done (LbImapClient   *self,
               Op             *op,
               LbImapResponse *response,
               const GError   *error)
{
  if (error == NULL && response->status == LB_IMAP_STATUS_OK)
    set_state (self, LB_IMAP_STATE_AUTHENTICATED);

  simple_done (self, op, response, error);
}

void
lb_imap_client_unselect_async (LbImapClient        *self,
                               gboolean             allow_close,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;
  LbImapCommand *command;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_unselect_async);

  if (has_capability (self, "UNSELECT") || has_capability (self, "IMAP4rev2"))
    command = lb_imap_command_new ("UNSELECT");
  else if (allow_close)
    command = lb_imap_command_new ("CLOSE");
  else
    {
      g_task_return_new_error (task, LB_IMAP_ERROR, LB_IMAP_ERROR_NOT_SUPPORTED,
                               _("The server cannot close a folder without erasing its deleted messages"));
      g_object_unref (task);
      return;
    }
  lb_imap_command_set_exclusive (command, TRUE);

  op = simple_op (command, SELECTED, task, g_strdup (_("Could not close the folder")));
  op->done = unselect_done;
  submit (self, op);
}

gboolean
lb_imap_client_unselect_finish (LbImapClient  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  return finish_boolean (self, result, lb_imap_client_unselect_async, error);
}

/* UID FETCH */

typedef struct
{
  LbImapUntaggedFunc  func;
  gpointer            func_data;
  GDestroyNotify      func_data_destroy;
} FuncData;

static void
func_data_free (gpointer data)
{
  FuncData *fd = data;

  if (fd->func_data_destroy != NULL)
    fd->func_data_destroy (fd->func_data);
  g_free (fd);
}

static gboolean
fetch_untagged (LbImapClient   *self,
                Op             *op,
                LbImapResponse *response)
{
  FuncData *fd = op->data;

  if (fd->func == NULL ||
      (response->data != LB_IMAP_DATA_FETCH && response->data != LB_IMAP_DATA_VANISHED))
    return FALSE;

  return fd->func (self, response, fd->func_data);
}

static void
fetch_done (LbImapClient   *self,
            Op             *op,
            LbImapResponse *response,
            const GError   *error)
{
  if (op->task == NULL)
    return;

  if (error != NULL)
    op_return_error (op, error);
  else if (response->status == LB_IMAP_STATUS_OK)
    op_return_boolean (op);
  else
    take_return_error (g_steal_pointer (&op->task),
                         response_error (response, _("Could not fetch messages")));
}

static gboolean
return_unsupported_if (GTask      *task,
                       gboolean    condition,
                       const char *message)
{
  if (!condition)
    return FALSE;

  g_task_return_new_error (task, LB_IMAP_ERROR, LB_IMAP_ERROR_NOT_SUPPORTED, "%s", message);
  g_object_unref (task);

  return TRUE;
}

/**
 * lb_imap_client_uid_fetch_async:
 * @uid_set: a UID set ("1:*", "4,7:9")
 * @items: the fetch items as sent ("(UID FLAGS)")
 *
 * @func sees every FETCH and VANISHED while the command runs (the
 * server's unsolicited ones too). @func_data_destroy runs when the command
 * is over, or as soon as it is cancelled.
 */
void
lb_imap_client_uid_fetch_async (LbImapClient        *self,
                                const char          *uid_set,
                                const char          *items,
                                guint64              changedsince,
                                gboolean             vanished,
                                LbImapUntaggedFunc   func,
                                gpointer             func_data,
                                GDestroyNotify       func_data_destroy,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task;
  LbImapCommand *command;
  FuncData *fd;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (is_set_text (uid_set));
  g_return_if_fail (items != NULL && *items != '\0');

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_uid_fetch_async);
  fd = g_new0 (FuncData, 1);
  fd->func = func;
  fd->func_data = func_data;
  fd->func_data_destroy = func_data_destroy;

  if (return_unsupported_if (task, changedsince > 0 && !has_capability (self, "CONDSTORE") &&
                             !is_enabled (self, "CONDSTORE"),
                             _("The server cannot tell which messages changed (CONDSTORE)")) ||
      return_unsupported_if (task, vanished && !is_enabled (self, "QRESYNC"),
                             _("The server cannot tell which messages were removed (QRESYNC)")))
    {
      func_data_free (fd);
      return;
    }

  command = lb_imap_command_new ("UID FETCH");
  lb_imap_command_add_atom (command, uid_set);
  lb_imap_command_add_atom (command, items);
  if (changedsince > 0)
    {
      lb_imap_command_add_atom (command, "(CHANGEDSINCE");
      lb_imap_command_add_number (command, changedsince);
      if (vanished)
        lb_imap_command_add_atom (command, "VANISHED");
      lb_imap_command_add_atom (command, ")");
    }

  op = op_new (command, SELECTED, task);
  op->data = fd;
  op->data_destroy = func_data_free;
  op->untagged = fetch_untagged;
  op->claims = TRUE;
  op->done = fetch_done;
  submit (self, op);
}

gboolean
lb_imap_client_uid_fetch_finish (LbImapClient  *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return finish_boolean (self, result, lb_imap_client_uid_fetch_async, error);
}

/* UID STORE */

static GArray *
copy_set (GArray *set)
{
  GArray *copy;

  if (set == NULL)
    return NULL;

  copy = g_array_sized_new (FALSE, FALSE, sizeof (LbImapRange), set->len);
  g_array_append_vals (copy, set->data, set->len);

  return copy;
}

static void
store_done (LbImapClient   *self,
            Op             *op,
            LbImapResponse *response,
            const GError   *error)
{
  if (op->task == NULL)
    return;

  if (error != NULL)
    op_return_error (op, error);
  else if (response->status != LB_IMAP_STATUS_OK)
    take_return_error (g_steal_pointer (&op->task),
                         response_error (response, _("Could not change the flags of messages")));
  else if (response->code == LB_IMAP_CODE_MODIFIED && response->code_set != NULL)
    take_return_pointer (g_steal_pointer (&op->task), copy_set (response->code_set),
                           (GDestroyNotify) g_array_unref);
  else
    take_return_pointer (g_steal_pointer (&op->task), NULL, NULL);
}

static LbImapCommand *
store_command (const char         *uid_set,
               gboolean            add,
               const char * const *flags,
               guint64             unchangedsince)
{
  LbImapCommand *command = lb_imap_command_new ("UID STORE");

  lb_imap_command_add_atom (command, uid_set);
  if (unchangedsince > 0)
    {
      lb_imap_command_add_atom (command, "(UNCHANGEDSINCE");
      lb_imap_command_add_number (command, unchangedsince);
      lb_imap_command_add_atom (command, ")");
    }
  lb_imap_command_add_atom (command, add ? "+FLAGS.SILENT" : "-FLAGS.SILENT");
  lb_imap_command_add_flags (command, flags);

  return command;
}

/**
 * lb_imap_client_uid_store_async:
 *
 * The MODIFIED set (the UIDs whose flags were not changed because they
 * changed since @unchangedsince) comes back as a GArray of LbImapRange.
 * FETCH responses the server sends anyway (with MODSEQ under CONDSTORE)
 * go to the "untagged" signal.
 */
void
lb_imap_client_uid_store_async (LbImapClient        *self,
                                const char          *uid_set,
                                gboolean             add,
                                const char * const  *flags,
                                guint64              unchangedsince,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  GTask *task;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (is_set_text (uid_set));

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_uid_store_async);

  if (return_unsupported_if (task, unchangedsince > 0 && !has_capability (self, "CONDSTORE") &&
                             !is_enabled (self, "CONDSTORE"),
                             _("The server cannot change flags conditionally (CONDSTORE)")))
    return;

  op = op_new (store_command (uid_set, add, flags, unchangedsince), SELECTED, task);
  op->done = store_done;
  submit (self, op);
}

gboolean
lb_imap_client_uid_store_finish (LbImapClient  *self,
                                 GAsyncResult  *result,
                                 GArray       **modified,
                                 GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  GArray *set;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_client_uid_store_async, FALSE);

  set = g_task_propagate_pointer (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      if (modified != NULL)
        *modified = NULL;
      return FALSE;
    }

  if (modified != NULL)
    *modified = set;
  else if (set != NULL)
    g_array_unref (set);

  return TRUE;
}

/* UID COPY / UID MOVE */

typedef struct
{
  char    *uid_set;
  char    *target;
  gboolean move;
  guint    steps_left;     /* of the fallback: STORE and EXPUNGE */
  GError  *error;          /* of the fallback's first failed step */
  guint32  uidvalidity;
  GArray  *source;
  GArray  *destination;
} CopyData;

typedef struct
{
  guint32  uidvalidity;
  GArray  *source;
  GArray  *destination;
} CopyResult;

static void
copy_result_free (gpointer data)
{
  CopyResult *cr = data;

  g_clear_pointer (&cr->source, g_array_unref);
  g_clear_pointer (&cr->destination, g_array_unref);
  g_free (cr);
}

static void
copy_data_free (gpointer data)
{
  CopyData *cd = data;

  g_free (cd->uid_set);
  g_free (cd->target);
  g_clear_error (&cd->error);
  g_clear_pointer (&cd->source, g_array_unref);
  g_clear_pointer (&cd->destination, g_array_unref);
  g_free (cd);
}

static void
copy_take_copyuid (CopyData       *cd,
                   LbImapResponse *response)
{
  cd->uidvalidity = response->code_uidvalidity;
  g_clear_pointer (&cd->source, g_array_unref);
  g_clear_pointer (&cd->destination, g_array_unref);
  cd->source = copy_set (response->code_source_set);
  cd->destination = copy_set (response->code_set);
}

static void
copy_return (GTask    *task,
             CopyData *cd)
{
  CopyResult *cr = g_new0 (CopyResult, 1);

  cr->uidvalidity = cd->uidvalidity;
  cr->source = g_steal_pointer (&cd->source);
  cr->destination = g_steal_pointer (&cd->destination);
  take_return_pointer (task, cr, copy_result_free);
}

static gboolean
copy_untagged (LbImapClient   *self,
               Op             *op,
               LbImapResponse *response)
{
  /* MOVE sends COPYUID in an untagged OK, before the EXPUNGEs */
  if (response->status == LB_IMAP_STATUS_OK && response->code == LB_IMAP_CODE_COPYUID)
    {
      copy_take_copyuid (op->data, response);
      return TRUE;
    }

  return FALSE;
}

/* what the two ops of the MOVE fallback share */
typedef struct
{
  CopyData     *cd;
  GTask        *task;         /* the caller's; NULL once returned */
  guint         steps_left;
  GError       *error;        /* of the first step that failed */
  GSource      *cancel_source;
} Fallback;

static void
fallback_free (Fallback *fb)
{
  if (fb->cancel_source != NULL)
    {
      g_source_destroy (fb->cancel_source);
      g_source_unref (fb->cancel_source);
    }
  copy_data_free (fb->cd);
  g_clear_object (&fb->task);
  g_clear_error (&fb->error);
  g_free (fb);
}

static gboolean
fallback_cancelled_cb (GCancellable *cancellable,
                       gpointer      user_data)
{
  Fallback *fb = user_data;

  /* the steps go on (else the messages would be in both folders), but
   * the caller hears at once */
  g_clear_pointer (&fb->cancel_source, g_source_unref);
  if (fb->task != NULL)
    take_return_error (g_steal_pointer (&fb->task), g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             _("The operation was cancelled")));

  return G_SOURCE_REMOVE;
}

static void
fallback_step_done (LbImapClient   *self,
                    Op             *op,
                    LbImapResponse *response,
                    const GError   *error)
{
  Fallback *fb = op->data;

  if (fb->error == NULL)
    {
      if (error != NULL)
        fb->error = g_error_copy (error);
      else if (response->status != LB_IMAP_STATUS_OK)
        {
          g_autofree char *what = NULL;

          what = g_strdup_printf (_("The messages were copied to “%s” but could not be removed from this folder"),
                                  fb->cd->target);
          fb->error = response_error (response, what);
        }
    }

  if (--fb->steps_left > 0)
    return;

  if (fb->task != NULL)
    {
      if (fb->error != NULL)
        take_return_error (g_steal_pointer (&fb->task), g_steal_pointer (&fb->error));
      else
        copy_return (g_steal_pointer (&fb->task), fb->cd);
    }
  fallback_free (fb);
}

static void
copy_done (LbImapClient   *self,
           Op             *op,
           LbImapResponse *response,
           const GError   *error)
{
  CopyData *cd = op->data;
  const char * const deleted[] = { "\\Deleted", NULL };
  LbImapCommand *command;
  GCancellable *cancellable;
  Fallback *fb;
  Op *store, *expunge;

  if (error != NULL)
    {
      op_return_error (op, error);
      return;
    }

  if (response->status != LB_IMAP_STATUS_OK)
    {
      if (op->task != NULL)
        {
          g_autofree char *what = NULL;

          what = g_strdup_printf (cd->move ? _("Could not move the messages to “%s”")
                                           : _("Could not copy the messages to “%s”"),
                                  cd->target);
          take_return_error (g_steal_pointer (&op->task), response_error (response, what));
        }
      return;
    }

  if (response->code == LB_IMAP_CODE_COPYUID)
    copy_take_copyuid (cd, response);

  if (!cd->move || has_capability (self, "MOVE") || has_capability (self, "IMAP4rev2"))
    {
      if (op->task != NULL)
        copy_return (g_steal_pointer (&op->task), cd);
      return;
    }

  /* The fallback: the copy is done, so the originals go, even when the
   * caller cancels meanwhile (else the messages would be in both
   * places). UID EXPUNGE removes only these UIDs, never another message
   * someone flagged \Deleted. Both steps go at once: expunging messages
   * the STORE did not flag does nothing. */
  fb = g_new0 (Fallback, 1);
  fb->cd = g_steal_pointer (&op->data);
  fb->task = g_steal_pointer (&op->task);
  fb->steps_left = 2;
  cancellable = fb->task != NULL ? g_task_get_cancellable (fb->task) : NULL;
  if (cancellable != NULL)
    {
      fb->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (fb->cancel_source, G_SOURCE_FUNC (fallback_cancelled_cb), fb, NULL);
      g_source_attach (fb->cancel_source, self->context);
    }

  store = op_new (store_command (fb->cd->uid_set, TRUE, deleted, 0), SELECTED, NULL);
  store->data = fb;
  store->done = fallback_step_done;
  command = lb_imap_command_new ("UID EXPUNGE");
  lb_imap_command_add_atom (command, fb->cd->uid_set);
  expunge = op_new (command, SELECTED, NULL);
  expunge->data = fb;
  expunge->done = fallback_step_done;

  enqueue (self, expunge, TRUE);
  enqueue (self, store, TRUE);
  pump (self);
}

/**
 * lb_imap_client_uid_copy_async:
 *
 * The COPYUID sets come back as GArrays of LbImapRange, in the order the
 * server gave them. Without MOVE the fallback needs UIDPLUS (UID
 * EXPUNGE); without it the move fails with %LB_IMAP_ERROR_NOT_SUPPORTED
 * and nothing is sent.
 */
void
lb_imap_client_uid_copy_async (LbImapClient        *self,
                               const char          *uid_set,
                               const char          *target,
                               gboolean             move,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;
  LbImapCommand *command;
  CopyData *cd;
  gboolean native_move;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (is_set_text (uid_set));
  g_return_if_fail (target != NULL);

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_uid_copy_async);

  native_move = move && (has_capability (self, "MOVE") || has_capability (self, "IMAP4rev2"));
  if (return_unsupported_if (task, move && !native_move && !has_capability (self, "UIDPLUS"),
                             _("The server can neither move messages nor remove only the copied ones "
                               "(MOVE or UIDPLUS are needed)")))
    return;

  command = lb_imap_command_new (native_move ? "UID MOVE" : "UID COPY");
  lb_imap_command_add_atom (command, uid_set);
  lb_imap_command_add_mailbox (command, target);

  cd = g_new0 (CopyData, 1);
  cd->uid_set = g_strdup (uid_set);
  cd->target = g_strdup (target);
  cd->move = move;

  op = op_new (command, SELECTED, task);
  op->data = cd;
  op->data_destroy = copy_data_free;
  op->untagged = copy_untagged;
  op->done = copy_done;
  submit (self, op);
}

gboolean
lb_imap_client_uid_copy_finish (LbImapClient  *self,
                                GAsyncResult  *result,
                                guint32       *uidvalidity,
                                GArray       **source_uids,
                                GArray       **target_uids,
                                GError       **error)
{
  CopyResult *cr;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_client_uid_copy_async, FALSE);

  if (uidvalidity != NULL)
    *uidvalidity = 0;
  if (source_uids != NULL)
    *source_uids = NULL;
  if (target_uids != NULL)
    *target_uids = NULL;

  cr = g_task_propagate_pointer (G_TASK (result), error);
  if (cr == NULL)
    return FALSE;

  if (uidvalidity != NULL)
    *uidvalidity = cr->uidvalidity;
  if (source_uids != NULL)
    *source_uids = g_steal_pointer (&cr->source);
  if (target_uids != NULL)
    *target_uids = g_steal_pointer (&cr->destination);
  copy_result_free (cr);

  return TRUE;
}

/* EXPUNGE */

void
lb_imap_client_expunge_async (LbImapClient        *self,
                              const char          *uid_set,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task;
  LbImapCommand *command;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (uid_set == NULL || is_set_text (uid_set));

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_expunge_async);

  if (uid_set != NULL)
    {
      if (return_unsupported_if (task, !has_capability (self, "UIDPLUS") && !has_capability (self, "IMAP4rev2"),
                                 _("The server cannot erase single messages (UIDPLUS)")))
        return;
      command = lb_imap_command_new ("UID EXPUNGE");
      lb_imap_command_add_atom (command, uid_set);
    }
  else
    command = lb_imap_command_new ("EXPUNGE");

  submit (self, simple_op (command, SELECTED, task, g_strdup (_("Could not erase deleted messages"))));
}

gboolean
lb_imap_client_expunge_finish (LbImapClient  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  return finish_boolean (self, result, lb_imap_client_expunge_async, error);
}

/* APPEND */

typedef struct
{
  guint32 uid;
  guint32 uidvalidity;
} AppendResult;

static void
append_done (LbImapClient   *self,
             Op             *op,
             LbImapResponse *response,
             const GError   *error)
{
  AppendResult *ar;

  if (op->task == NULL)
    return;

  if (error != NULL)
    {
      op_return_error (op, error);
      return;
    }

  if (response->status != LB_IMAP_STATUS_OK)
    {
      g_autofree char *what = g_strdup_printf (_("Could not save the message in “%s”"),
                                               (const char *) op->data);

      take_return_error (g_steal_pointer (&op->task), response_error (response, what));
      return;
    }

  ar = g_new0 (AppendResult, 1);
  if (response->code == LB_IMAP_CODE_APPENDUID && response->code_set != NULL &&
      response->code_set->len > 0)
    {
      const LbImapRange *range = &g_array_index (response->code_set, LbImapRange, 0);

      ar->uid = MIN (range->first, range->last);
      ar->uidvalidity = response->code_uidvalidity;
    }
  take_return_pointer (g_steal_pointer (&op->task), ar, g_free);
}

static char *
format_internaldate (gint64 date)
{
  static const char months[12][4] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
  };
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (date);

  if (dt == NULL)
    return NULL;

  /* date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE */
  return g_strdup_printf ("\"%2d-%s-%04d %02d:%02d:%02d +0000\"",
                          g_date_time_get_day_of_month (dt),
                          months[g_date_time_get_month (dt) - 1],
                          g_date_time_get_year (dt),
                          g_date_time_get_hour (dt),
                          g_date_time_get_minute (dt),
                          g_date_time_get_second (dt));
}

/**
 * lb_imap_client_append_async:
 * @flags: (nullable): flags to set
 * @internaldate: seconds since the epoch, or 0 (or less) for the server's
 *   time of arrival
 */
void
lb_imap_client_append_async (LbImapClient        *self,
                             const char          *mailbox,
                             const char * const  *flags,
                             gint64               internaldate,
                             GBytes              *message,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;
  LbImapCommand *command;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (mailbox != NULL);
  g_return_if_fail (message != NULL);

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_append_async);

  command = lb_imap_command_new ("APPEND");
  lb_imap_command_add_mailbox (command, mailbox);
  if (flags != NULL && flags[0] != NULL)
    lb_imap_command_add_flags (command, flags);
  if (internaldate > 0)
    {
      g_autofree char *date = format_internaldate (internaldate);

      if (date != NULL)
        lb_imap_command_add_atom (command, date);
    }
  lb_imap_command_add_literal (command, message);

  op = op_new (command, AUTHENTICATED, task);
  op->data = g_strdup (mailbox);
  op->data_destroy = g_free;
  op->done = append_done;
  submit (self, op);
}

guint32
lb_imap_client_append_finish (LbImapClient  *self,
                              GAsyncResult  *result,
                              guint32       *uidvalidity,
                              GError       **error)
{
  AppendResult *ar;
  guint32 uid;

  g_return_val_if_fail (g_task_is_valid (result, self), 0);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_client_append_async, 0);

  if (uidvalidity != NULL)
    *uidvalidity = 0;

  ar = g_task_propagate_pointer (G_TASK (result), error);
  if (ar == NULL)
    return 0;

  uid = ar->uid;
  if (uidvalidity != NULL)
    *uidvalidity = ar->uidvalidity;
  g_free (ar);

  return uid;
}

/* UID SEARCH */

typedef struct
{
  GArray *uids;
  GError *error;       /* a result the search cannot use: it fails */
} SearchData;

static void
search_data_free (gpointer data)
{
  SearchData *sd = data;

  g_clear_pointer (&sd->uids, g_array_unref);
  g_clear_error (&sd->error);
  g_free (sd);
}

static void
search_fail_too_many (LbImapClient *self,
                      SearchData   *sd)
{
  g_clear_pointer (&sd->uids, g_array_unref);
  sd->uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  sd->error = g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL,
                           _("Could not search the folder: the server named more than %u messages"),
                           self->max_search_results);
}

/* A partial result must never pass for the whole one (a sync would take
 * every message missing from it for deleted): what cannot be used, or
 * would name more messages than allowed (all responses together), fails
 * the search. */
static gboolean
search_untagged (LbImapClient   *self,
                 Op             *op,
                 LbImapResponse *response)
{
  SearchData *sd = op->data;

  if (response->data == LB_IMAP_DATA_SEARCH)
    {
      if (sd->error != NULL || response->search == NULL)
        return TRUE;
      if (response->search->len > self->max_search_results - sd->uids->len)
        search_fail_too_many (self, sd);
      else
        g_array_append_vals (sd->uids, response->search->data, response->search->len);
      return TRUE;
    }

  if (response->data == LB_IMAP_DATA_ESEARCH && response->esearch != NULL &&
      (response->esearch->tag == NULL || strcmp (response->esearch->tag, op->tag) == 0))
    {
      if (sd->error == NULL && response->esearch->all != NULL)
        {
          g_autoptr(GArray) all = NULL;
          g_autoptr(GError) error = NULL;

          all = lb_imap_set_expand (response->esearch->all,
                                    self->max_search_results - sd->uids->len, &error);
          if (all != NULL)
            g_array_append_vals (sd->uids, all->data, all->len);
          else if (g_error_matches (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_TOO_LARGE))
            search_fail_too_many (self, sd);
          else
            sd->error = g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL,
                                     _("Could not search the folder: the server’s answer could not be used: %s"),
                                     error->message);
        }
      return TRUE;
    }

  return FALSE;
}

static int
compare_uint32 (gconstpointer a,
                gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

static void
search_done (LbImapClient   *self,
             Op             *op,
             LbImapResponse *response,
             const GError   *error)
{
  SearchData *sd = op->data;
  GArray *uids = sd->uids;
  guint out = 0;

  if (op->task == NULL)
    return;

  if (error != NULL)
    {
      op_return_error (op, error);
      return;
    }

  if (response->status != LB_IMAP_STATUS_OK)
    {
      take_return_error (g_steal_pointer (&op->task),
                           response_error (response, _("Could not search the folder")));
      return;
    }

  if (sd->error != NULL)
    {
      take_return_error (g_steal_pointer (&op->task), g_steal_pointer (&sd->error));
      return;
    }

  g_array_sort (uids, compare_uint32);
  for (guint i = 0; i < uids->len; i++)
    if (out == 0 || g_array_index (uids, guint32, i) != g_array_index (uids, guint32, out - 1))
      g_array_index (uids, guint32, out++) = g_array_index (uids, guint32, i);
  g_array_set_size (uids, out);

  take_return_pointer (g_steal_pointer (&op->task), g_steal_pointer (&sd->uids),
                       (GDestroyNotify) g_array_unref);
}

/**
 * lb_imap_client_uid_search_async:
 * @criteria: a fragment (lb_imap_command_new (NULL)) with the search keys
 *
 * Adds CHARSET UTF-8 when a string in @criteria needs it.
 */
void
lb_imap_client_uid_search_async (LbImapClient        *self,
                                 LbImapCommand       *criteria,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task;
  LbImapCommand *command;
  SearchData *sd;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));
  g_return_if_fail (criteria != NULL);

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_uid_search_async);

  command = lb_imap_command_new ("UID SEARCH");
  if (has_capability (self, "ESEARCH") || has_capability (self, "IMAP4rev2"))
    lb_imap_command_add_atom (command, "RETURN (ALL)");
  if (lb_imap_command_has_8bit (criteria) && !is_enabled (self, "UTF8=ACCEPT"))
    lb_imap_command_add_atom (command, "CHARSET UTF-8");
  lb_imap_command_add_fragment (command, criteria);

  sd = g_new0 (SearchData, 1);
  sd->uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  op = op_new (command, SELECTED, task);
  op->data = sd;
  op->data_destroy = search_data_free;
  op->untagged = search_untagged;
  op->claims = TRUE;
  op->done = search_done;
  submit (self, op);
}

GArray *
lb_imap_client_uid_search_finish (LbImapClient  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_client_uid_search_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* IDLE */

static void idle_submit (LbImapClient *self,
                         GTask        *task);

static void
idle_clear_renew (IdleData *idle)
{
  if (idle->renew_source != NULL)
    {
      g_source_destroy (idle->renew_source);
      g_clear_pointer (&idle->renew_source, g_source_unref);
    }
}

static void
idle_send_done (LbImapClient *self,
                IdleData     *idle)
{
  idle_clear_renew (idle);
  if (!idle->idling)
    return;

  idle->idling = FALSE;
  send_line (self, "DONE", "DONE");
  update_timer (self);
}

static gboolean
idle_renew_cb (gpointer user_data)
{
  LbImapClient *self = user_data;
  IdleData *idle = self->idle;

  g_clear_pointer (&idle->renew_source, g_source_unref);
  idle->renewing = TRUE;
  idle_send_done (self, idle);

  return G_SOURCE_REMOVE;
}

static void
idle_continuation (LbImapClient   *self,
                   Op             *op,
                   LbImapResponse *response)
{
  IdleData *idle = op->data;

  if (idle->idling)
    return;   /* some servers repeat "+" while idling */

  idle->idling = TRUE;
  update_timer (self);

  if (idle->done_requested || op->cancelled)
    {
      idle_send_done (self, idle);
      return;
    }

  idle->renew_source = g_timeout_source_new_seconds (self->idle_renew_seconds);
  g_source_set_callback (idle->renew_source, idle_renew_cb, self, NULL);
  g_source_attach (idle->renew_source, self->context);
}

static gboolean
idle_untagged (LbImapClient   *self,
               Op             *op,
               LbImapResponse *response)
{
  IdleData *idle = op->data;

  return idle->func != NULL && idle->func (self, response, idle->func_data);
}

static void
idle_cancel (LbImapClient *self,
             Op           *op)
{
  IdleData *idle = op->data;

  idle->done_requested = TRUE;
  idle_send_done (self, idle);
}

static void
idle_end (LbImapClient *self)
{
  IdleData *idle = g_steal_pointer (&self->idle);

  if (idle != NULL)
    {
      idle_clear_renew (idle);
      g_free (idle);
    }
  update_timer (self);
}

static void
idle_done (LbImapClient   *self,
           Op             *op,
           LbImapResponse *response,
           const GError   *error)
{
  IdleData *idle = op->data;

  idle->op = NULL;
  idle->idling = FALSE;
  idle_clear_renew (idle);

  if (error != NULL)
    {
      /* IDLE taken back before it was sent is a success */
      if (idle->done_requested && idle->queued && op->task != NULL &&
          !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        op_return_boolean (op);
      else
        op_return_error (op, error);
      idle_end (self);
      return;
    }

  if (response->status != LB_IMAP_STATUS_OK)
    {
      if (op->task != NULL)
        take_return_error (g_steal_pointer (&op->task),
                             response_error (response, _("Could not wait for changes on the server")));
      idle_end (self);
      return;
    }

  if (idle->renewing && !idle->done_requested && op->task != NULL)
    {
      idle->renewing = FALSE;
      idle_submit (self, g_steal_pointer (&op->task));
      return;
    }

  op_return_boolean (op);
  idle_end (self);
}

static void
idle_sent (LbImapClient *self,
           Op           *op)
{
  IdleData *idle = op->data;

  idle->queued = FALSE;
}

static void
idle_submit (LbImapClient *self,
             GTask        *task)
{
  LbImapCommand *command = lb_imap_command_new ("IDLE");
  Op *op;

  lb_imap_command_set_exclusive (command, TRUE);
  op = op_new (command, AUTHENTICATED, task);
  op->data = self->idle;
  op->untagged = idle_untagged;
  op->continuation = idle_continuation;
  op->sent = idle_sent;
  op->cancel = idle_cancel;
  op->done = idle_done;
  self->idle->op = op;
  self->idle->queued = TRUE;
  submit (self, op);
}

/**
 * lb_imap_client_idle_async:
 *
 * Only one IDLE at a time; commands queued meanwhile wait for its end.
 * Finishes with %TRUE after lb_imap_client_idle_done().
 */
void
lb_imap_client_idle_async (LbImapClient        *self,
                           LbImapUntaggedFunc   func,
                           gpointer             func_data,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_idle_async);

  if (!self->closed &&
      return_unsupported_if (task, !has_capability (self, "IDLE") && !has_capability (self, "IMAP4rev2"),
                             _("The server cannot report changes as they happen (IDLE)")))
    return;

  if (self->idle != NULL)
    {
      g_task_return_new_error (task, LB_IMAP_ERROR, LB_IMAP_ERROR_STATE,
                               _("Already waiting for changes on this connection"));
      g_object_unref (task);
      return;
    }

  self->idle = g_new0 (IdleData, 1);
  self->idle->func = func;
  self->idle->func_data = func_data;
  idle_submit (self, task);
}

gboolean
lb_imap_client_idle_finish (LbImapClient  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return finish_boolean (self, result, lb_imap_client_idle_async, error);
}

/**
 * lb_imap_client_idle_done:
 *
 * Ends the running IDLE (sends DONE); its task finishes when the server
 * confirms. Does nothing when not idling.
 */
void
lb_imap_client_idle_done (LbImapClient *self)
{
  IdleData *idle;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  idle = self->idle;
  if (idle == NULL || idle->done_requested)
    return;

  idle->done_requested = TRUE;

  if (idle->queued && idle->op != NULL)
    {
      Op *op = idle->op;
      g_autoptr(GError) error = NULL;

      /* not sent yet: take it back; idle_done() returns TRUE for it, so
       * this message reaches no one (only a task already gone would have
       * had it, and that one returns nothing) */
      g_queue_remove (&self->queue, op);
      error = g_error_new_literal (LB_IMAP_ERROR, LB_IMAP_ERROR_STATE, "IDLE taken back before it was sent");
      op_finish (self, op, NULL, error);
      pump (self);
      return;
    }

  idle_send_done (self, idle);
}

/* NOOP */

void
lb_imap_client_noop_async (LbImapClient        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_noop_async);
  submit (self, simple_op (lb_imap_command_new ("NOOP"), ANY_OPEN, task,
                           g_strdup (_("The server did not answer a check for news"))));
}

gboolean
lb_imap_client_noop_finish (LbImapClient  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  return finish_boolean (self, result, lb_imap_client_noop_async, error);
}

/* LOGOUT */

static void
logout_sent (LbImapClient *self,
             Op           *op)
{
  self->logging_out = TRUE;
}

static void
logout_done (LbImapClient   *self,
             Op             *op,
             LbImapResponse *response,
             const GError   *error)
{
  /* the server hung up (after its BYE, or before we got to say
   * LOGOUT): the session is over all the same */
  if (error != NULL && !g_error_matches (error, LB_IMAP_ERROR, LB_IMAP_ERROR_BYE))
    {
      op_return_error (op, error);
      return;
    }

  op_return_boolean (op);
  if (response != NULL)
    shutdown_client (self, NULL);
}

void
lb_imap_client_logout_async (LbImapClient        *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;
  LbImapCommand *command;
  Op *op;

  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  task = new_task (self, cancellable, callback, user_data, lb_imap_client_logout_async);

  if (self->closed)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  command = lb_imap_command_new ("LOGOUT");
  lb_imap_command_set_exclusive (command, TRUE);
  op = op_new (command, ANY_OPEN, task);
  op->sent = logout_sent;
  op->done = logout_done;
  submit (self, op);
}

gboolean
lb_imap_client_logout_finish (LbImapClient  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  return finish_boolean (self, result, lb_imap_client_logout_async, error);
}

void
lb_imap_client_close (LbImapClient *self)
{
  g_return_if_fail (LB_IS_IMAP_CLIENT (self));

  shutdown_client (self, g_error_new_literal (LB_IMAP_ERROR, LB_IMAP_ERROR_BYE,
                                              _("The connection to the server was closed")));
}
