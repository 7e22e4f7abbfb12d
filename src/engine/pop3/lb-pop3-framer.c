/* lb-pop3-framer.c: splits what a POP3 server sends into replies (pure, no I/O)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-pop3"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "lb-pop3-framer.h"

/* A state machine over the bytes fed, which it reads in place: only a
 * status line or a listing line (both bounded) is gathered in `line`, and
 * message data is copied once, unstuffed, into `out` (bounded by
 * max_chunk) and handed on from there. The states inside a multi-line reply
 * remember just enough of a line's start ("." and ".\r") for the
 * terminator and the unstuffing to work whatever the chunking. */

typedef enum
{
  STATE_STATUS,      /* reading a status line */
  STATE_LINE_START,  /* multi-line: at the start of a line */
  STATE_DOT,         /* after a "." at the start of a line */
  STATE_DOT_CR,      /* after ".\r" at the start of a line */
  STATE_IN_LINE,     /* inside a line of data */
  STATE_END,         /* after the terminator: the END event is due */
  STATE_FAILED,
} State;

struct _LbPop3Framer
{
  gsize         max_status;
  gsize         max_line;
  gsize         max_chunk;

  const guint8 *in;          /* borrowed: what is left of the bytes fed */
  gsize         in_len;

  GQueue        expects;     /* LbPop3Expect of the commands waiting, oldest first */
  LbPop3Expect  current;     /* the multi-line reply being read */
  State         state;

  GByteArray   *line;        /* a status or listing line being gathered */
  GByteArray   *out;         /* message data not yet handed on */
  gboolean      out_cr;      /* the last data byte of this line was a CR */
  gboolean      line_handed; /* `line` was handed on: empty it first */
  gboolean      out_handed;  /* `out` was handed on: empty it first */
  LbPop3Reply  *reply;       /* of the last STATUS event */
  GError       *failure;
};

LbPop3Expect
lb_pop3_expect_for_command (const char *command)
{
  g_auto(GStrv) words = NULL;

  g_return_val_if_fail (command != NULL, LB_POP3_EXPECT_SINGLE);

  words = g_strsplit_set (command, " \t\r\n", -1);
  {
    /* the words that are not empty, first and how many */
    const char *first = NULL;
    guint n = 0;

    for (guint i = 0; words[i] != NULL; i++)
      if (words[i][0] != '\0')
        {
          if (first == NULL)
            first = words[i];
          n++;
        }
    if (first == NULL)
      return LB_POP3_EXPECT_SINGLE;
    if (g_ascii_strcasecmp (first, "CAPA") == 0)
      return LB_POP3_EXPECT_LINES;
    if ((g_ascii_strcasecmp (first, "LIST") == 0 || g_ascii_strcasecmp (first, "UIDL") == 0) && n == 1)
      return LB_POP3_EXPECT_LINES;
    if (g_ascii_strcasecmp (first, "RETR") == 0 || g_ascii_strcasecmp (first, "TOP") == 0)
      return LB_POP3_EXPECT_DATA;
  }
  return LB_POP3_EXPECT_SINGLE;
}

LbPop3Framer *
lb_pop3_framer_new (gsize max_status,
                    gsize max_line,
                    gsize max_chunk)
{
  LbPop3Framer *framer = g_new0 (LbPop3Framer, 1);

  framer->max_status = max_status > 0 ? max_status : LB_POP3_MAX_STATUS_DEFAULT;
  framer->max_line = max_line > 0 ? max_line : LB_POP3_MAX_LINE_DEFAULT;
  /* room for a CRLF at least */
  framer->max_chunk = max_chunk > 0 ? MAX (max_chunk, 16) : LB_POP3_MAX_CHUNK_DEFAULT;
  g_queue_init (&framer->expects);
  framer->state = STATE_STATUS;
  framer->line = g_byte_array_new ();
  framer->out = g_byte_array_sized_new ((guint) framer->max_chunk);
  return framer;
}

void
lb_pop3_framer_free (LbPop3Framer *framer)
{
  if (framer == NULL)
    return;
  g_queue_clear (&framer->expects);
  g_byte_array_unref (framer->line);
  g_byte_array_unref (framer->out);
  g_clear_pointer (&framer->reply, lb_pop3_reply_free);
  g_clear_error (&framer->failure);
  g_free (framer);
}

void
lb_pop3_framer_expect (LbPop3Framer *framer,
                       LbPop3Expect  expect)
{
  g_return_if_fail (framer != NULL);

  g_queue_push_tail (&framer->expects, GINT_TO_POINTER ((int) expect));
}

guint
lb_pop3_framer_get_pending (const LbPop3Framer *framer)
{
  g_return_val_if_fail (framer != NULL, 0);

  return framer->expects.length;
}

void
lb_pop3_framer_feed (LbPop3Framer *framer,
                     const guint8 *data,
                     gsize         len)
{
  g_return_if_fail (framer != NULL);
  g_return_if_fail (data != NULL || len == 0);
  g_return_if_fail (framer->in_len == 0);

  framer->in = data;
  framer->in_len = len;
}

static gboolean
fail (LbPop3Framer  *framer,
      GError       **error,
      GError        *failure)
{
  framer->state = STATE_FAILED;
  framer->failure = failure;
  framer->in_len = 0;
  if (error != NULL)
    *error = g_error_copy (failure);
  return FALSE;
}

static inline void
consume (LbPop3Framer *framer,
         gsize         n)
{
  framer->in += n;
  framer->in_len -= n;
}

/* a status line (@status) or a listing line over the limit */
static gboolean
too_long (LbPop3Framer  *framer,
          GError       **error,
          gboolean       status)
{
  /* (the number printed first: a format macro inside _() cannot be translated) */
  g_autofree char *bytes = g_strdup_printf ("%" G_GSIZE_FORMAT,
                                            status ? framer->max_status : framer->max_line);

  if (status)
    return fail (framer, error,
                 g_error_new (LB_POP3_ERROR, LB_POP3_ERROR_TOO_LONG,
                              _("The mail server sent a reply longer than %s bytes; it may not be a mail server"),
                              bytes));
  return fail (framer, error,
               g_error_new (LB_POP3_ERROR, LB_POP3_ERROR_TOO_LONG,
                            _("The mail server sent a listing with a line longer than %s bytes"),
                            bytes));
}

/* Reads a status line; TRUE with an event when one is complete */
static gboolean
read_status (LbPop3Framer  *framer,
             LbPop3Event   *event,
             GError       **error)
{
  const guint8 *nl = memchr (framer->in, '\n', framer->in_len);
  gsize n = nl != NULL ? (gsize) (nl - framer->in) + 1 : framer->in_len;
  GError *parse_error = NULL;
  LbPop3Reply *reply;

  /* the line without its line end may hold max_status bytes */
  if (framer->line->len + n > framer->max_status + 2)
    return too_long (framer, error, TRUE);
  g_byte_array_append (framer->line, framer->in, (guint) n);
  consume (framer, n);
  if (nl == NULL)
    return TRUE;

  if (g_queue_is_empty (&framer->expects))
    return fail (framer, error,
                 g_error_new_literal (LB_POP3_ERROR, LB_POP3_ERROR_UNEXPECTED,
                                      _("The mail server sent a reply to a command that was not sent")));
  reply = lb_pop3_reply_parse ((const char *) framer->line->data, framer->line->len, &parse_error);
  g_byte_array_set_size (framer->line, 0);
  if (reply == NULL)
    return fail (framer, error, parse_error);

  g_clear_pointer (&framer->reply, lb_pop3_reply_free);
  framer->reply = reply;
  event->kind = LB_POP3_EVENT_STATUS;
  event->reply = reply;

  switch (reply->kind)
    {
    case LB_POP3_REPLY_CONTINUATION:
      /* the command waits for the client's answer and its real reply */
      break;
    case LB_POP3_REPLY_ERR:
      g_queue_pop_head (&framer->expects);
      break;
    case LB_POP3_REPLY_OK:
      framer->current = (LbPop3Expect) GPOINTER_TO_INT (g_queue_pop_head (&framer->expects));
      if (framer->current != LB_POP3_EXPECT_SINGLE)
        {
          framer->state = STATE_LINE_START;
          framer->out_cr = FALSE;
          event->data_follows = TRUE;
        }
      break;
    default:
      g_assert_not_reached ();
    }
  return TRUE;
}

/* appends one byte of data: to `out` (room is ensured by the caller) or,
 * for a listing, to `line` */
static gboolean
put_byte (LbPop3Framer  *framer,
          guint8         c,
          GError       **error)
{
  if (framer->current == LB_POP3_EXPECT_DATA)
    {
      g_byte_array_append (framer->out, &c, 1);
      framer->out_cr = c == '\r';
      return TRUE;
    }
  if (framer->line->len + 1 > framer->max_line + 1)
    return too_long (framer, error, FALSE);
  g_byte_array_append (framer->line, &c, 1);
  return TRUE;
}

/* Reads data up to the end of the line or of the room; TRUE with an
 * event when a listing line is complete */
static gboolean
read_in_line (LbPop3Framer  *framer,
              LbPop3Event   *event,
              GError       **error)
{
  if (framer->current == LB_POP3_EXPECT_DATA)
    {
      /* keep two bytes of room for a CRLF (the caller leaves at least
       * one more) */
      gsize room = framer->max_chunk - framer->out->len - 2;
      gsize span = MIN (framer->in_len, room);
      const guint8 *nl = memchr (framer->in, '\n', span);
      gsize n = nl != NULL ? (gsize) (nl - framer->in) : span;

      if (n > 0)
        {
          g_byte_array_append (framer->out, framer->in, (guint) n);
          framer->out_cr = framer->in[n - 1] == '\r';
          consume (framer, n);
        }
      if (nl != NULL)
        {
          if (!framer->out_cr)
            g_byte_array_append (framer->out, (const guint8 *) "\r", 1);
          g_byte_array_append (framer->out, (const guint8 *) "\n", 1);
          framer->out_cr = FALSE;
          consume (framer, 1);
          framer->state = STATE_LINE_START;
        }
      return TRUE;
    }
  else
    {
      const guint8 *nl = memchr (framer->in, '\n', framer->in_len);
      gsize n = nl != NULL ? (gsize) (nl - framer->in) : framer->in_len;
      gsize len;

      /* a line may hold max_line bytes and a CR */
      if (framer->line->len + n > framer->max_line + 1)
        return too_long (framer, error, FALSE);
      g_byte_array_append (framer->line, framer->in, (guint) n);
      consume (framer, n);
      if (nl == NULL)
        return TRUE;
      consume (framer, 1);
      framer->state = STATE_LINE_START;

      len = framer->line->len;
      if (len > 0 && framer->line->data[len - 1] == '\r')
        len--;
      g_byte_array_set_size (framer->line, (guint) len + 1);
      framer->line->data[len] = '\0';
      framer->line_handed = TRUE;
      event->kind = LB_POP3_EVENT_DATA;
      event->data = framer->line->data;
      event->len = len;
      return TRUE;
    }
}

static void
hand_out (LbPop3Framer *framer,
          LbPop3Event  *event)
{
  event->kind = LB_POP3_EVENT_DATA;
  event->data = framer->out->data;
  event->len = framer->out->len;
  framer->out_handed = TRUE;
}

gboolean
lb_pop3_framer_next (LbPop3Framer  *framer,
                     LbPop3Event   *event,
                     GError       **error)
{
  g_return_val_if_fail (framer != NULL, FALSE);
  g_return_val_if_fail (event != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (event, 0, sizeof *event);
  event->kind = LB_POP3_EVENT_NONE;

  if (framer->state == STATE_FAILED)
    {
      if (error != NULL)
        *error = g_error_copy (framer->failure);
      return FALSE;
    }
  if (framer->out_handed)
    {
      g_byte_array_set_size (framer->out, 0);
      framer->out_handed = FALSE;
    }
  if (framer->line_handed)
    {
      g_byte_array_set_size (framer->line, 0);
      framer->line_handed = FALSE;
    }

  for (;;)
    {
      guint8 c;

      if (framer->state == STATE_END)
        {
          if (framer->out->len > 0)
            {
              hand_out (framer, event);
              return TRUE;
            }
          framer->state = STATE_STATUS;
          event->kind = LB_POP3_EVENT_END;
          return TRUE;
        }

      if (framer->state != STATE_STATUS && framer->current == LB_POP3_EXPECT_DATA &&
          (framer->out->len + 2 >= framer->max_chunk ||
           (framer->in_len == 0 && framer->out->len > 0)))
        {
          hand_out (framer, event);
          return TRUE;
        }
      if (framer->in_len == 0)
        return TRUE;

      c = framer->in[0];
      switch (framer->state)
        {
        case STATE_STATUS:
          if (!read_status (framer, event, error))
            return FALSE;
          if (event->kind != LB_POP3_EVENT_NONE)
            return TRUE;
          break;

        case STATE_LINE_START:
          if (c == '.')
            {
              consume (framer, 1);
              framer->state = STATE_DOT;
            }
          else
            framer->state = STATE_IN_LINE;
          break;

        case STATE_DOT:
          if (c == '\r')
            {
              consume (framer, 1);
              framer->state = STATE_DOT_CR;
            }
          else if (c == '\n')
            {
              /* ".\n": a broken server's terminator */
              consume (framer, 1);
              framer->state = STATE_END;
            }
          else
            {
              /* byte-stuffed: the first "." goes */
              framer->state = STATE_IN_LINE;
            }
          break;

        case STATE_DOT_CR:
          if (c == '\n')
            {
              consume (framer, 1);
              framer->state = STATE_END;
            }
          else
            {
              /* ".\rx": not the end; the line goes on after its CR */
              if (!put_byte (framer, '\r', error))
                return FALSE;
              framer->state = STATE_IN_LINE;
            }
          break;

        case STATE_IN_LINE:
          if (!read_in_line (framer, event, error))
            return FALSE;
          if (event->kind != LB_POP3_EVENT_NONE)
            return TRUE;
          break;

        case STATE_END:
        case STATE_FAILED:
        default:
          g_assert_not_reached ();
        }
    }
}

gboolean
lb_pop3_framer_finish (LbPop3Framer  *framer,
                       GError       **error)
{
  g_return_val_if_fail (framer != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (framer->state == STATE_FAILED)
    {
      if (error != NULL)
        *error = g_error_copy (framer->failure);
      return FALSE;
    }
  if (framer->state != STATE_STATUS || framer->line->len > 0)
    return fail (framer, error,
                 g_error_new_literal (LB_POP3_ERROR, LB_POP3_ERROR_CUT,
                                      _("The connection to the mail server closed in the middle of a reply; try again")));
  if (!g_queue_is_empty (&framer->expects))
    return fail (framer, error,
                 g_error_new_literal (LB_POP3_ERROR, LB_POP3_ERROR_CUT,
                                      _("The mail server closed the connection without replying; try again")));
  return TRUE;
}
