/* pop3-dump.h: POP3 server bytes and the commands they answer -> canonical text
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Shared by the pop3-parse tool, the fuzz target and the parser's unit
 * test (header only: static functions). Feeds the bytes through an
 * LbPop3Framer and prints, per command, its replies and what the argument
 * helpers make of them:
 *
 *   RETR 1                       the command
 *     +OK "120 octets"           each status line (lb_pop3_reply_to_string)
 *     | Subject: hello           a line of message data, unstuffed, no CRLF
 *     > ...                      a 1024-byte piece of a longer line
 *     .                          the end of a multi-line reply
 *     (120 bytes)                how much message data that was
 *     uidl 1 "uid"               a parsed UIDL line (also list, stat, capa, apop)
 *     helper error: ...          a line the helper refuses
 *   error: ...                   the framer failed (or the stream was cut)
 *
 * The text does not depend on how the bytes are split into pieces or on the
 * framer's chunk size: the fuzz target checks that.
 */

#pragma once

#include <string.h>

#include "lb-pop3-framer.h"

#define POP3_DUMP_PIECE 1024

typedef struct
{
  LbPop3Framer *framer;
  GString      *out;
  GQueue        commands;    /* char *, the commands waiting for a reply */
  GByteArray   *partial;     /* message data of a line not yet printed */
  guint64       data_bytes;
  gsize         max_chunk;
  gboolean      failed;
  gboolean      head_printed;  /* the first command waiting was printed */
  guint         helper_errors;
} Pop3Dump;

static inline void
pop3_dump_add_command (Pop3Dump   *dump,
                       const char *command)
{
  lb_pop3_framer_expect (dump->framer, lb_pop3_expect_for_command (command));
  g_queue_push_tail (&dump->commands, g_strdup (command));
}

/* Reads the transcript form: a first line of commands separated by ";"
 * ("GREETING;CAPA;UIDL;RETR 1;QUIT"), then the server's bytes. Returns
 * the offset of those bytes. */
static inline gsize
pop3_dump_add_transcript_commands (Pop3Dump     *dump,
                                   const guint8 *data,
                                   gsize         len)
{
  const guint8 *nl = memchr (data, '\n', len);
  g_autofree char *first = NULL;
  g_auto(GStrv) commands = NULL;

  if (nl == NULL)
    return len;
  first = g_strndup ((const char *) data, (gsize) (nl - data));
  commands = g_strsplit (first, ";", 256);
  for (guint i = 0; commands[i] != NULL; i++)
    {
      g_strstrip (commands[i]);
      if (commands[i][0] != '\0')
        pop3_dump_add_command (dump, commands[i]);
    }
  return (gsize) (nl - data) + 1;
}

/* 0 for the framer's default limits */
static inline Pop3Dump *
pop3_dump_new (gsize max_status,
               gsize max_line,
               gsize max_chunk)
{
  Pop3Dump *dump = g_new0 (Pop3Dump, 1);

  dump->framer = lb_pop3_framer_new (max_status, max_line, max_chunk);
  dump->out = g_string_new (NULL);
  g_queue_init (&dump->commands);
  dump->partial = g_byte_array_new ();
  dump->max_chunk = max_chunk > 0 ? MAX (max_chunk, 16) : LB_POP3_MAX_CHUNK_DEFAULT;
  return dump;
}

static inline void
pop3_dump_free (Pop3Dump *dump)
{
  lb_pop3_framer_free (dump->framer);
  g_string_free (dump->out, TRUE);
  g_queue_clear_full (&dump->commands, g_free);
  g_byte_array_unref (dump->partial);
  g_free (dump);
}

static inline void
pop3_dump_escaped (Pop3Dump     *dump,
                   const char   *prefix,
                   const guint8 *data,
                   gsize         len)
{
  g_autofree char *text = lb_pop3_escape (data, len);

  g_string_append_printf (dump->out, "  %s%s\n", prefix, text);
}

static inline void
pop3_dump_helper_error (Pop3Dump *dump,
                        GError   *error)
{
  if (error->domain != LB_POP3_ERROR || !g_utf8_validate (error->message, -1, NULL))
    g_error ("a helper error outside LB_POP3_ERROR or not UTF-8");
  g_string_append_printf (dump->out, "  helper error: %s\n", error->message);
  dump->helper_errors++;
}

/* the first word of a command in upper case */
static inline char *
pop3_dump_verb (const char *command)
{
  const char *p = command;

  while (*p == ' ')
    p++;
  return g_ascii_strup (p, (gssize) strcspn (p, " \t"));
}

static inline void
pop3_dump_status (Pop3Dump          *dump,
                  const LbPop3Reply *reply)
{
  g_autofree char *text = lb_pop3_reply_to_string (reply);
  const char *command = g_queue_peek_head (&dump->commands);
  g_autofree char *verb = pop3_dump_verb (command != NULL ? command : "");
  g_autoptr(GError) error = NULL;

  if (!g_utf8_validate (reply->text, -1, NULL) || !g_utf8_validate (text, -1, NULL))
    g_error ("a reply's text is not UTF-8");
  g_string_append_printf (dump->out, "  %s\n", text);
  if (reply->kind != LB_POP3_REPLY_OK)
    return;

  if (strcmp (verb, "GREETING") == 0)
    {
      g_autofree char *stamp = lb_pop3_greeting_apop_timestamp (reply->text);

      if (stamp != NULL)
        g_string_append_printf (dump->out, "  apop %s\n", stamp);
    }
  else if (strcmp (verb, "STAT") == 0)
    {
      guint count;
      guint64 size;

      if (lb_pop3_parse_stat (reply->text, -1, &count, &size, &error))
        g_string_append_printf (dump->out, "  stat %u %" G_GUINT64_FORMAT "\n", count, size);
      else
        pop3_dump_helper_error (dump, error);
    }
  else if (lb_pop3_expect_for_command (command) == LB_POP3_EXPECT_SINGLE &&
           (strcmp (verb, "LIST") == 0 || strcmp (verb, "UIDL") == 0))
    {
      guint msg;
      guint64 size;
      g_autofree char *uid = NULL;

      if (strcmp (verb, "LIST") == 0 && lb_pop3_parse_list_line (reply->text, -1, &msg, &size, &error))
        g_string_append_printf (dump->out, "  list %u %" G_GUINT64_FORMAT "\n", msg, size);
      else if (strcmp (verb, "UIDL") == 0 && lb_pop3_parse_uidl_line (reply->text, -1, &msg, &uid, &error))
        g_string_append_printf (dump->out, "  uidl %u \"%s\"\n", msg, uid);
      else
        pop3_dump_helper_error (dump, error);
    }
}

/* one line of a listing, through the helper for its command */
static inline void
pop3_dump_listing_line (Pop3Dump     *dump,
                        const guint8 *data,
                        gsize         len)
{
  g_autofree char *verb = pop3_dump_verb (g_queue_peek_head (&dump->commands));
  g_autoptr(GError) error = NULL;
  const char *line = (const char *) data;
  guint msg;

  if (data[len] != '\0' || memchr (data, '\n', len) != NULL)
    g_error ("a listing line that is not one NUL-terminated line");
  if (strcmp (verb, "UIDL") == 0)
    {
      g_autofree char *uid = NULL;

      if (lb_pop3_parse_uidl_line (line, (gssize) len, &msg, &uid, &error))
        g_string_append_printf (dump->out, "  uidl %u \"%s\"\n", msg, uid);
      else
        pop3_dump_helper_error (dump, error);
    }
  else if (strcmp (verb, "LIST") == 0)
    {
      guint64 size;

      if (lb_pop3_parse_list_line (line, (gssize) len, &msg, &size, &error))
        g_string_append_printf (dump->out, "  list %u %" G_GUINT64_FORMAT "\n", msg, size);
      else
        pop3_dump_helper_error (dump, error);
    }
  else
    {
      g_autofree char *keyword = NULL;
      g_auto(GStrv) args = NULL;

      if (lb_pop3_parse_capa_line (line, (gssize) len, &keyword, &args, &error))
        {
          g_autofree char *joined = g_strjoinv (" ", args);

          g_string_append_printf (dump->out, "  capa %s%s%s\n", keyword,
                                  args[0] != NULL ? " " : "", joined);
        }
      else
        pop3_dump_helper_error (dump, error);
    }
}

/* prints the whole lines of message data gathered, and pieces of long ones */
static inline void
pop3_dump_data (Pop3Dump     *dump,
                const guint8 *data,
                gsize         len)
{
  GByteArray *partial = dump->partial;
  guint start = 0;

  if (len == 0 || len > dump->max_chunk)
    g_error ("a data chunk of %" G_GSIZE_FORMAT " bytes", len);
  for (gsize i = 0; i < len; i++)
    if (data[i] == '\n' && (i > 0 ? data[i - 1] != '\r' : (partial->len == 0 || partial->data[partial->len - 1] != '\r')))
      g_error ("message data with a line that does not end in CRLF");
  dump->data_bytes += len;
  g_byte_array_append (partial, data, (guint) len);

  for (;;)
    {
      const guint8 *nl = memchr (partial->data + start, '\n', partial->len - start);
      gsize content;

      /* how much of the line is known not to be its CRLF */
      if (nl != NULL)
        content = (gsize) (nl - (partial->data + start)) - 1;
      else
        content = partial->len - start > 0 ? partial->len - start - 1 : 0;
      if (content > POP3_DUMP_PIECE)
        {
          pop3_dump_escaped (dump, "> ", partial->data + start, POP3_DUMP_PIECE);
          start += POP3_DUMP_PIECE;
          continue;
        }
      if (nl == NULL)
        break;
      pop3_dump_escaped (dump, "| ", partial->data + start, content);
      start += (guint) content + 2;
    }
  g_byte_array_remove_range (partial, 0, start);
}

/* Feeds @data; FALSE once the framer failed (the error is printed) */
static inline gboolean
pop3_dump_feed (Pop3Dump     *dump,
                const guint8 *data,
                gsize         len)
{
  if (dump->failed)
    return FALSE;
  lb_pop3_framer_feed (dump->framer, data, len);
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      LbPop3Event event;

      if (!lb_pop3_framer_next (dump->framer, &event, &error))
        {
          if (error == NULL || error->domain != LB_POP3_ERROR || !g_utf8_validate (error->message, -1, NULL))
            g_error ("a framer failure without a proper error");
          g_string_append_printf (dump->out, "error: %s\n", error->message);
          dump->failed = TRUE;
          return FALSE;
        }
      switch (event.kind)
        {
        case LB_POP3_EVENT_NONE:
          return TRUE;

        case LB_POP3_EVENT_STATUS:
          if (g_queue_is_empty (&dump->commands))
            g_error ("a reply with no command waiting");
          if (!dump->head_printed)
            g_string_append_printf (dump->out, "%s\n", (const char *) g_queue_peek_head (&dump->commands));
          dump->head_printed = TRUE;
          pop3_dump_status (dump, event.reply);
          dump->data_bytes = 0;
          /* the command is done unless data follows or it was a continuation */
          if (!event.data_follows && event.reply->kind != LB_POP3_REPLY_CONTINUATION)
            {
              g_free (g_queue_pop_head (&dump->commands));
              dump->head_printed = FALSE;
            }
          break;

        case LB_POP3_EVENT_DATA:
          if (lb_pop3_expect_for_command (g_queue_peek_head (&dump->commands)) == LB_POP3_EXPECT_DATA)
            pop3_dump_data (dump, event.data, event.len);
          else
            pop3_dump_listing_line (dump, event.data, event.len);
          break;

        case LB_POP3_EVENT_END:
          if (dump->partial->len > 0)
            g_error ("message data that does not end in CRLF");
          g_string_append (dump->out, "  .\n");
          if (lb_pop3_expect_for_command (g_queue_peek_head (&dump->commands)) == LB_POP3_EXPECT_DATA)
            g_string_append_printf (dump->out, "  (%" G_GUINT64_FORMAT " bytes)\n", dump->data_bytes);
          g_free (g_queue_pop_head (&dump->commands));
          dump->head_printed = FALSE;
          break;

        default:
          g_assert_not_reached ();
        }
    }
}

/* the end of the stream: a cut reply is printed as an error */
static inline gboolean
pop3_dump_finish (Pop3Dump *dump)
{
  g_autoptr(GError) error = NULL;

  if (dump->failed)
    return FALSE;
  if (!lb_pop3_framer_finish (dump->framer, &error))
    {
      if (error == NULL || error->domain != LB_POP3_ERROR)
        g_error ("a cut stream without a proper error");
      g_string_append_printf (dump->out, "error: %s\n", error->message);
      dump->failed = TRUE;
      return FALSE;
    }
  return TRUE;
}
