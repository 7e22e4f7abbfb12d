/* bench-pop3-floor.c: the raw floor of a POP3 download and new-mail check
 *
 *   bench-pop3-floor [--window N] uidl|retr HOST PORT USER PASSWORD
 *
 * Connects (plain TCP), logs in with USER and PASS, then
 *
 *   uidl: sends UIDL and reads its list to the terminating "." line: the
 *         least a client that keeps mail on the server pays to learn that
 *         nothing is new;
 *   retr: sends UIDL, then RETR 1 to RETR N (N: the lines of the UIDL
 *         list) pipelined, up to --window commands unanswered (default
 *         1000; more are sent, in one write, each time half of them are
 *         answered), and reads every multi-line response to its end: the
 *         transfer of a full download, written nowhere.
 *
 * and ends with QUIT. Reads are 1 MB, line ends are found with memchr, and
 * nothing is parsed beyond the "+OK"/"-ERR" of each status line and the
 * terminating "." of each multi-line response (no dot-unstuffing, nothing
 * stored): no client can do the same over the same connection faster. It
 * uses none of Letterbox's code on purpose.
 *
 * Prints one line, tab-separated: seconds from connecting to the QUIT's
 * +OK (the last byte the server sends), bytes received from the server in
 * that time, messages (lines of the UIDL list, or RETR responses read),
 * and the seconds of UIDL (and RETR) alone.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#define BUFFER_SIZE (1024 * 1024)

typedef struct
{
  GSocket *socket;
  char    *data;
  gsize    start;         /* data[start, end) is read but not yet looked at */
  gsize    end;
  guint64  bytes;         /* received in all */
} Reader;

static void G_GNUC_NORETURN
die (const char *what,
     GError     *error)
{
  fprintf (stderr, "bench-pop3-floor: %s%s%s\n", what, error ? ": " : "",
           error ? error->message : "");
  exit (1);
}

/* Reads more into an empty buffer. */
static void
fill (Reader *r)
{
  g_autoptr(GError) error = NULL;
  gssize n;

  n = g_socket_receive (r->socket, r->data, BUFFER_SIZE, NULL, &error);
  if (n < 0)
    die ("reading from the server", error);
  if (n == 0)
    die ("the server closed the connection", NULL);
  r->start = 0;
  r->end = (gsize) n;
  r->bytes += (guint64) n;
}

/* Reads a status line; dies on -ERR, naming @command. A status line is
 * short, but may still be split between two reads. */
static void
read_status (Reader     *r,
             const char *command)
{
  gboolean first = TRUE;

  for (;;)
    {
      const char *eol;

      if (r->start == r->end)
        fill (r);
      if (first)
        {
          if (r->data[r->start] != '+')
            {
              eol = memchr (r->data + r->start, '\n', r->end - r->start);
              fprintf (stderr, "bench-pop3-floor: %s: the server said: %.*s\n", command,
                       (int) (eol ? eol - (r->data + r->start) : (gssize) (r->end - r->start)),
                       r->data + r->start);
              exit (1);
            }
          first = FALSE;
        }
      eol = memchr (r->data + r->start, '\n', r->end - r->start);
      if (eol != NULL)
        {
          r->start = (gsize) (eol - r->data) + 1;
          return;
        }
      r->start = r->end;
    }
}

/* Reads the lines of a multi-line response, after its status line, up to
 * and including the terminating ".\r\n"; returns how many lines came
 * before it. A line starting with "." is either the end or dot-stuffed. */
static guint64
read_multiline (Reader *r)
{
  guint64 lines = 0;
  gboolean line_start = TRUE;
  int dot = 0;  /* at a line start: 1 after ".", 2 after ".\r" */

  for (;;)
    {
      if (r->start == r->end)
        fill (r);
      if (line_start)
        {
          char c = r->data[r->start];

          if ((dot == 0 && c == '.') || (dot == 1 && c == '\r'))
            {
              dot++;
              r->start++;
              continue;
            }
          if (dot == 2 && c == '\n')
            {
              r->start++;
              return lines;
            }
          /* a line of the response (dot-stuffed, when dot > 0) */
          line_start = FALSE;
          dot = 0;
        }
      else
        {
          const char *eol = memchr (r->data + r->start, '\n', r->end - r->start);

          if (eol == NULL)
            r->start = r->end;
          else
            {
              r->start = (gsize) (eol - r->data) + 1;
              line_start = TRUE;
              lines++;
            }
        }
    }
}

static void
send_text (GSocket    *socket,
           const char *text,
           gsize       length)
{
  for (gsize sent = 0; sent < length;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_send (socket, text + sent, length - sent, NULL, &error);

      if (n < 0)
        die ("writing to the server", error);
      sent += (gsize) n;
    }
}

static void
send_command (GSocket    *socket,
              const char *command)
{
  g_autofree char *line = g_strconcat (command, "\r\n", NULL);

  send_text (socket, line, strlen (line));
}

/* Sends RETR first to RETR last in one write. */
static void
send_retrs (GSocket *socket,
            guint64  first,
            guint64  last)
{
  g_autoptr(GString) commands = g_string_new (NULL);

  for (guint64 i = first; i <= last; i++)
    g_string_append_printf (commands, "RETR %" G_GUINT64_FORMAT "\r\n", i);
  send_text (socket, commands->str, commands->len);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autofree char *user = NULL;
  g_autofree char *pass = NULL;
  gint64 window = 1000;
  guint64 port = 0;
  guint64 messages;
  gboolean retr;
  gint64 start, work_start, work_end, end;
  Reader reader = { 0 };
  const GOptionEntry entries[] = {
    { "window", 0, 0, G_OPTION_ARG_INT64, &window, "retr: RETR commands sent ahead of their responses (default 1000)", "N" },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("uidl|retr HOST PORT USER PASSWORD");
  g_option_context_set_summary (context, "The raw floor of POP3: a minimal pipelined client that "
                                         "reads a whole UIDL list (uidl) or every message (retr) "
                                         "and parses nothing.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    die ("usage", error);
  if (argc != 6 || (strcmp (argv[1], "uidl") != 0 && strcmp (argv[1], "retr") != 0)
      || !g_ascii_string_to_unsigned (argv[3], 10, 1, G_MAXUINT16, &port, NULL) || window < 2)
    {
      fprintf (stderr, "usage: bench-pop3-floor [--window N] uidl|retr HOST PORT USER PASSWORD\n");
      return 2;
    }
  retr = strcmp (argv[1], "retr") == 0;
  user = g_strdup_printf ("USER %s", argv[4]);
  pass = g_strdup_printf ("PASS %s", argv[5]);

  reader.data = g_malloc (BUFFER_SIZE);

  start = g_get_monotonic_time ();
  client = g_socket_client_new ();
  connection = g_socket_client_connect_to_host (client, argv[2], (guint16) port, NULL, &error);
  if (connection == NULL)
    die ("connecting", error);
  reader.socket = g_socket_connection_get_socket (connection);

  read_status (&reader, "the greeting");
  send_command (reader.socket, user);
  read_status (&reader, "USER");
  send_command (reader.socket, pass);
  read_status (&reader, "PASS");

  work_start = g_get_monotonic_time ();
  send_command (reader.socket, "UIDL");
  read_status (&reader, "UIDL");
  messages = read_multiline (&reader);

  if (retr)
    {
      guint64 sent = 0, read = 0;
      guint64 ahead = (guint64) window;

      while (read < messages)
        {
          /* keep between half the window and the window unanswered: the
           * commands are a few KB, so a write never waits for the reads */
          if (sent < messages && sent - read <= ahead / 2)
            {
              guint64 last = MIN (messages, read + ahead);

              send_retrs (reader.socket, sent + 1, last);
              sent = last;
            }
          read_status (&reader, "RETR");
          read_multiline (&reader);
          read++;
        }
    }
  work_end = g_get_monotonic_time ();

  send_command (reader.socket, "QUIT");
  read_status (&reader, "QUIT");
  end = g_get_monotonic_time ();

  printf ("%.3f\t%" G_GUINT64_FORMAT "\t%" G_GUINT64_FORMAT "\t%.3f\n", (end - start) / 1e6,
          reader.bytes, messages, (work_end - work_start) / 1e6);
  g_free (reader.data);

  return 0;
}
