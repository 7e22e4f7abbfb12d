/* pop3-parse.c: raw POP3 server bytes on stdin -> parsed replies on stdout
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * How a POP3 reply is framed depends on the command it answers (RETR and
 * a LIST without argument are multi-line, "LIST 1" is not), so the tool
 * is told the commands, in the order they were sent:
 *
 *   pop3-parse GREETING CAPA "USER alice" "PASS x" UIDL "RETR 1" QUIT < server-bytes
 *   pop3-parse --transcript < file
 *
 * GREETING stands for the server's greeting. In the transcript form the
 * first line of the input lists the commands separated by ";"
 * ("GREETING;CAPA;UIDL;RETR 1;QUIT") and the server's bytes follow it:
 * the form of the seeds in tests/data/pop3/ and of the fuzz target's input.
 *
 * Prints each command and its replies in the canonical text form described
 * in pop3-dump.h: status lines, message data line by line (unstuffed),
 * listings through the argument helpers. Exit status 0 when everything
 * parsed, 1 on a malformed or cut reply or a line a helper refuses.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pop3-dump.h"

static void
flush_out (Pop3Dump *dump)
{
  fwrite (dump->out->str, 1, dump->out->len, stdout);
  g_string_truncate (dump->out, 0);
}

int
main (int   argc,
      char *argv[])
{
  Pop3Dump *dump = pop3_dump_new (0, 0, 0);
  gboolean transcript = FALSE;
  GByteArray *head = NULL;
  int status = 0;
  guint8 chunk[65536];

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--transcript") == 0 && argc == 2)
        transcript = TRUE;
      else if (argv[i][0] == '-' || argv[i][0] == '\0')
        {
          g_printerr ("usage: %s COMMAND... < server-bytes\n"
                      "       %s --transcript < file   (first line: COMMAND;COMMAND;...)\n"
                      "COMMAND is GREETING or a command as sent, e.g. CAPA \"RETR 1\" \"LIST 2\"\n",
                      argv[0], argv[0]);
          pop3_dump_free (dump);
          return 2;
        }
      else
        pop3_dump_add_command (dump, argv[i]);
    }
  if (argc < 2)
    {
      g_printerr ("usage: %s COMMAND... < server-bytes, or %s --transcript < file\n", argv[0], argv[0]);
      pop3_dump_free (dump);
      return 2;
    }
  if (transcript)
    head = g_byte_array_new ();

  for (;;)
    {
      ssize_t n = read (STDIN_FILENO, chunk, sizeof chunk);
      const guint8 *data = chunk;
      gsize len;

      if (n < 0)
        {
          perror ("read");
          status = 1;
          break;
        }
      len = (gsize) n;
      if (head != NULL)
        {
          /* gather the first line, then hand on what follows it */
          gsize used;

          g_byte_array_append (head, chunk, (guint) len);
          if (memchr (head->data, '\n', head->len) == NULL && n > 0)
            continue;
          used = pop3_dump_add_transcript_commands (dump, head->data, head->len);
          pop3_dump_feed (dump, head->data + used, head->len - used);
          g_byte_array_unref (head);
          head = NULL;
          len = 0;
        }
      if (len > 0)
        pop3_dump_feed (dump, data, len);
      flush_out (dump);
      if (n == 0)
        break;
    }

  if (!pop3_dump_finish (dump) || dump->helper_errors > 0)
    status = 1;
  flush_out (dump);
  fflush (stdout);
  pop3_dump_free (dump);
  return status;
}
