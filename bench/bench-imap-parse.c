/* bench-imap-parse.c: the main thread's share of an IMAP header sync,
 * without a server
 *
 *   bench-imap-parse FILE [--repeat N] [--dump]
 *
 * FILE holds what a server sent for a header sync's UID FETCH (the
 * untagged FETCH responses and the tagged reply, as bytes off the wire;
 * see bench/README.md for how to capture one). Frames and parses every
 * response as LbImapClient does and builds each message's summary as
 * LbImapSync does, N times (default 1), then prints the CPU time per
 * pass. With --dump, prints every summary instead (one line each), to
 * compare the output of two builds.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>

#include "lb-imap-parser.h"
#include "lb-imap-sync.h"

static double
cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
dump_field (GString    *out,
            const char *value)
{
  g_string_append_c (out, '|');
  if (value == NULL)
    {
      g_string_append (out, "(null)");
      return;
    }
  for (const char *c = value; *c != '\0'; c++)
    {
      if (*c == '\n')
        g_string_append (out, "\\n");
      else if (*c == '\t')
        g_string_append (out, "\\t");
      else
        g_string_append_c (out, *c);
    }
}

static void
dump_summary (const LbMessageSummary *s)
{
  g_autoptr(GString) out = g_string_new (NULL);

  g_string_append_printf (out, "%u %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %u %d %" G_GUINT64_FORMAT,
                          s->uid, s->date, s->size, s->flags, s->has_attachments, s->modseq);
  dump_field (out, s->message_id);
  dump_field (out, s->in_reply_to);
  dump_field (out, s->references);
  dump_field (out, s->subject);
  dump_field (out, s->from);
  dump_field (out, s->to);
  dump_field (out, s->cc);
  dump_field (out, s->keywords);
  dump_field (out, s->list_id);
  dump_field (out, s->structure);
  puts (out->str);
}

/* one pass: returns the number of FETCH responses */
static guint
run (const guint8 *data,
     gsize         len,
     gboolean      dump)
{
  LbImapFramer framer;
  gsize pos = 0;
  guint fetches = 0;

  lb_imap_framer_init (&framer, 0, 0);
  while (pos < len)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LbImapResponse) response = NULL;
      gsize frame_len = 0;

      if (!lb_imap_framer_next (&framer, data + pos, len - pos, &frame_len, &error))
        {
          fprintf (stderr, "bench-imap-parse: %s\n",
                   error != NULL ? error->message : "the file ends inside a response");
          exit (1);
        }
      response = lb_imap_parse_response (data + pos, frame_len, LB_IMAP_PARSE_NONE, &error);
      if (response == NULL)
        {
          fprintf (stderr, "bench-imap-parse: %s\n", error->message);
          exit (1);
        }
      pos += frame_len;
      if (response->data == LB_IMAP_DATA_FETCH)
        {
          g_autoptr(LbMessageSummary) summary = lb_imap_summary_from_fetch (response->fetch);

          if (dump)
            dump_summary (summary);
          fetches++;
        }
    }
  return fetches;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;
  guint repeat = 1;
  gboolean dump = FALSE;
  const char *file = NULL;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--repeat") == 0 && i + 1 < argc)
        {
          int n = atoi (argv[++i]);

          repeat = n > 0 ? (guint) n : 1;
        }
      else if (strcmp (argv[i], "--dump") == 0)
        dump = TRUE;
      else if (file == NULL)
        file = argv[i];
      else
        {
          file = NULL;
          break;
        }
    }
  if (file == NULL)
    {
      fprintf (stderr, "usage: bench-imap-parse FILE [--repeat N] [--dump]\n");
      return 2;
    }

  g_mime_init ();

  if (!g_file_get_contents (file, &contents, &len, &error))
    {
      fprintf (stderr, "bench-imap-parse: %s\n", error->message);
      return 1;
    }

  if (dump)
    {
      run ((const guint8 *) contents, len, TRUE);
      return 0;
    }

  for (guint i = 0; i < repeat; i++)
    {
      double start = cpu_seconds ();
      guint fetches = run ((const guint8 *) contents, len, FALSE);

      printf ("parse\t%.3f\t%u\t%" G_GSIZE_FORMAT "\n", cpu_seconds () - start, fetches, len);
    }
  return 0;
}
