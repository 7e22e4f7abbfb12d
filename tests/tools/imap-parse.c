/* imap-parse.c: raw IMAP server bytes on stdin -> parsed responses on stdout
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Frames and parses what a server sent and prints each response in the
 * canonical text form of lb_imap_response_to_string(). A response that does
 * not parse prints "error: <message>" and the tool goes on with the next
 * one. Exit status 0 when everything parsed, 1 otherwise.
 *
 *   imap-parse [--utf8] < capture.txt
 */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lb-imap-parser.h"

int
main (int   argc,
      char *argv[])
{
  LbImapParseFlags flags = LB_IMAP_PARSE_NONE;
  LbImapFramer framer;
  GByteArray *buffer = g_byte_array_new ();
  gsize start = 0;
  gboolean eof = FALSE;
  int status = 0;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--utf8") == 0)
        flags |= LB_IMAP_PARSE_UTF8_MAILBOXES;
      else
        {
          g_printerr ("usage: %s [--utf8] < server-bytes\n", argv[0]);
          return 2;
        }
    }

  lb_imap_framer_init (&framer, 0, 0);
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gsize frame_len = 0;

      if (lb_imap_framer_next (&framer, buffer->data + start, buffer->len - start, &frame_len, &error))
        {
          g_autoptr(LbImapResponse) response = NULL;
          g_autoptr(GError) parse_error = NULL;

          response = lb_imap_parse_response (buffer->data + start, frame_len, flags, &parse_error);
          if (response != NULL)
            {
              g_autofree char *text = lb_imap_response_to_string (response);

              fputs (text, stdout);
            }
          else
            {
              printf ("error: %s\n", parse_error->message);
              status = 1;
            }
          start += frame_len;
          continue;
        }
      if (error != NULL)
        {
          /* the framer cannot find the next response: stop */
          printf ("error: %s\n", error->message);
          status = 1;
          break;
        }
      if (eof)
        {
          if (start < buffer->len)
            {
              printf ("error: %" G_GSIZE_FORMAT " bytes at the end are not a whole response\n",
                      (gsize) (buffer->len - start));
              status = 1;
            }
          break;
        }

      /* drop what was parsed, then read more */
      if (start > 0)
        {
          g_byte_array_remove_range (buffer, 0, (guint) start);
          start = 0;
        }
      {
        guint8 chunk[65536];
        ssize_t n = read (STDIN_FILENO, chunk, sizeof chunk);

        if (n < 0)
          {
            perror ("read");
            return 1;
          }
        if (n == 0)
          eof = TRUE;
        else
          g_byte_array_append (buffer, chunk, (guint) n);
      }
    }

  g_byte_array_unref (buffer);
  fflush (stdout);
  return status;
}
