/* bench-imap-floor.c: the raw floor of an IMAP header sync
 *
 *   bench-imap-floor [--mailbox NAME] [--uids SET] [--items ITEMS] HOST PORT USER PASSWORD
 *
 * Connects (plain TCP), logs in, then sends SELECT and
 *
 *   UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE
 *                  BODY.PEEK[HEADER.FIELDS (REFERENCES IN-REPLY-TO LIST-ID)])
 *
 * in one write, and reads to the FETCH's tagged OK. It frames the responses
 * (lines, and literals skipped by their count) and counts the FETCH
 * responses, and parses nothing else: no client can sync faster than this
 * over the same connection. It uses none of Letterbox's code on purpose.
 * --items replaces what is fetched (e.g. "UID FLAGS", or "BODY.PEEK[]" for
 * the transfer floor of a full download), --uids the UID set (e.g. "*" for
 * the last message only: the floor of a resync that finds nothing new).
 *
 * Prints one line, tab-separated: seconds from connecting to the FETCH's
 * tagged OK, bytes received from the server in that time, FETCH responses
 * counted, and the seconds of SELECT and FETCH alone.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#define DEFAULT_ITEMS \
  "UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODYSTRUCTURE " \
  "BODY.PEEK[HEADER.FIELDS (REFERENCES IN-REPLY-TO LIST-ID)]"

#define BUFFER_SIZE (1024 * 1024)

typedef struct
{
  GSocket *socket;
  char    *data;
  gsize    size;
  gsize    start;         /* data[start, end) is read but not yet looked at */
  gsize    end;
  guint64  bytes;         /* received in all */
  guint64  literal_left;  /* of a literal being skipped */
  gboolean continued;     /* the next line goes on a response (after a literal) */
  guint64  fetches;
} Reader;

static void G_GNUC_NORETURN
die (const char *what,
     GError     *error)
{
  fprintf (stderr, "bench-imap-floor: %s%s%s\n", what, error ? ": " : "",
           error ? error->message : "");
  exit (1);
}

static void
fill (Reader *r)
{
  g_autoptr(GError) error = NULL;
  gssize n;

  if (r->start == r->end)
    r->start = r->end = 0;
  else if (r->end == r->size)
    {
      /* a partial line at the end of the buffer: move it to the front, and
       * grow the buffer if the line fills all of it */
      memmove (r->data, r->data + r->start, r->end - r->start);
      r->end -= r->start;
      r->start = 0;
      if (r->end == r->size)
        {
          r->size *= 2;
          r->data = g_realloc (r->data, r->size);
        }
    }

  n = g_socket_receive (r->socket, r->data + r->end, r->size - r->end, NULL, &error);
  if (n < 0)
    die ("reading from the server", error);
  if (n == 0)
    die ("the server closed the connection", NULL);
  r->end += (gsize) n;
  r->bytes += (guint64) n;
}

/* The count of a literal announced at the end of a line ("{123}\r\n",
 * "{123+}\r\n"), or -1. */
static gint64
literal_count (const char *line,
               gsize       length)
{
  gsize i;
  gint64 count = 0, scale = 1;

  if (length < 4 || line[length - 1] != '\n' || line[length - 2] != '\r' || line[length - 3] != '}')
    return -1;
  i = length - 4;
  if (line[i] == '+')
    {
      if (i == 0)
        return -1;
      i--;
    }
  for (; i > 0 && g_ascii_isdigit (line[i]); i--)
    {
      count += (line[i] - '0') * scale;
      scale *= 10;
      if (scale > 1000000000000)
        return -1;
    }
  return line[i] == '{' && scale > 1 ? count : -1;
}

/* Reads responses until the one tagged @tag, which must be OK. */
static void
read_until_tagged (Reader     *r,
                   const char *tag)
{
  gsize tag_length = strlen (tag);

  for (;;)
    {
      const char *line, *eol;
      gsize length;
      gint64 literal;

      if (r->literal_left > 0)
        {
          gsize skip;

          if (r->start == r->end)
            fill (r);
          skip = (gsize) MIN ((guint64) (r->end - r->start), r->literal_left);
          r->start += skip;
          r->literal_left -= skip;
          continue;
        }

      eol = memchr (r->data + r->start, '\n', r->end - r->start);
      if (eol == NULL)
        {
          fill (r);
          continue;
        }
      line = r->data + r->start;
      length = (gsize) (eol - line) + 1;
      r->start += length;

      if (!r->continued)
        {
          if (length > tag_length && memcmp (line, tag, tag_length) == 0 && line[tag_length] == ' ')
            {
              if (length < tag_length + 3 || memcmp (line + tag_length + 1, "OK", 2) != 0)
                {
                  g_autofree char *text = g_strndup (line, length - 2);

                  fprintf (stderr, "bench-imap-floor: the server said: %s\n", text);
                  exit (1);
                }
              return;
            }
          /* "* 123 FETCH (" */
          if (length > 10 && line[0] == '*' && line[1] == ' ' && g_ascii_isdigit (line[2]))
            {
              const char *p = line + 2;

              while (g_ascii_isdigit (*p))
                p++;
              if (memcmp (p, " FETCH ", 7) == 0)
                r->fetches++;
            }
        }

      literal = literal_count (line, length);
      if (literal >= 0)
        r->literal_left = (guint64) literal;
      r->continued = literal >= 0;
    }
}

static void
send_text (GSocket    *socket,
           const char *text)
{
  gsize length = strlen (text);

  for (gsize sent = 0; sent < length;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_send (socket, text + sent, length - sent, NULL, &error);

      if (n < 0)
        die ("writing to the server", error);
      sent += (gsize) n;
    }
}

/* An IMAP quoted string. */
static char *
quote (const char *s)
{
  GString *q = g_string_new ("\"");

  for (; *s; s++)
    {
      if (*s == '"' || *s == '\\')
        g_string_append_c (q, '\\');
      g_string_append_c (q, *s);
    }
  g_string_append_c (q, '"');

  return g_string_free (q, FALSE);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autofree char *mailbox = NULL;
  g_autofree char *items = NULL;
  g_autofree char *uids = NULL;
  g_autofree char *login = NULL;
  g_autofree char *select_fetch = NULL;
  g_autofree char *quoted_user = NULL;
  g_autofree char *quoted_password = NULL;
  g_autofree char *quoted_mailbox = NULL;
  guint64 port = 0;
  gint64 start, fetch_start, end;
  Reader reader = { 0 };
  const GOptionEntry entries[] = {
    { "mailbox", 0, 0, G_OPTION_ARG_STRING, &mailbox, "The mailbox to select (default INBOX)", "NAME" },
    { "uids", 0, 0, G_OPTION_ARG_STRING, &uids, "The UID set to fetch (default 1:*)", "SET" },
    { "items", 0, 0, G_OPTION_ARG_STRING, &items, "What to fetch (default: the header sync's items)", "ITEMS" },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("HOST PORT USER PASSWORD");
  g_option_context_set_summary (context, "The raw floor of an IMAP header sync: a minimal pipelined "
                                         "client that reads a whole UID FETCH 1:* and parses nothing.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    die ("usage", error);
  if (argc != 5 || !g_ascii_string_to_unsigned (argv[2], 10, 1, G_MAXUINT16, &port, NULL))
    {
      fprintf (stderr, "usage: bench-imap-floor [--mailbox NAME] [--uids SET] [--items ITEMS] "
                       "HOST PORT USER PASSWORD\n");
      return 2;
    }

  quoted_user = quote (argv[3]);
  quoted_password = quote (argv[4]);
  quoted_mailbox = quote (mailbox ? mailbox : "INBOX");
  login = g_strdup_printf ("a1 LOGIN %s %s\r\n", quoted_user, quoted_password);
  select_fetch = g_strdup_printf ("a2 SELECT %s\r\na3 UID FETCH %s (%s)\r\n", quoted_mailbox,
                                  uids ? uids : "1:*", items ? items : DEFAULT_ITEMS);

  reader.size = BUFFER_SIZE;
  reader.data = g_malloc (reader.size);

  start = g_get_monotonic_time ();
  client = g_socket_client_new ();
  connection = g_socket_client_connect_to_host (client, argv[1], (guint16) port, NULL, &error);
  if (connection == NULL)
    die ("connecting", error);
  reader.socket = g_socket_connection_get_socket (connection);

  /* the greeting is the one untagged line before anything else */
  read_until_tagged (&reader, "*");
  send_text (reader.socket, login);
  read_until_tagged (&reader, "a1");

  fetch_start = g_get_monotonic_time ();
  send_text (reader.socket, select_fetch);
  read_until_tagged (&reader, "a2");
  reader.fetches = 0;
  read_until_tagged (&reader, "a3");
  end = g_get_monotonic_time ();

  send_text (reader.socket, "a4 LOGOUT\r\n");

  printf ("%.3f\t%" G_GUINT64_FORMAT "\t%" G_GUINT64_FORMAT "\t%.3f\n", (end - start) / 1e6,
          reader.bytes, reader.fetches, (end - fetch_start) / 1e6);
  g_free (reader.data);

  return 0;
}
