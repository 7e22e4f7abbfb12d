/* fuzz-smtp-reply.c: the SMTP reply framer and EHLO keywords on arbitrary
 * bytes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * With libFuzzer (clang -fsanitize=fuzzer,address,undefined and
 * -DLB_FUZZ_LIBFUZZER) this is a fuzz target; built plainly, it is a
 * program that runs the target once on each file named on its command
 * line (or on each file in a directory named there), to replay what a
 * fuzzer found or a seed corpus.
 *
 * The input is what a server sent. It is framed whole, in pieces of a few
 * sizes and byte by byte; the replies (and the error that ends them) must
 * agree, every text line must be UTF-8 without control characters but
 * TAB, every code 200-599, and the EHLO keywords of each reply must parse
 * to mechanisms that are upper case.
 */

#include "config.h"

#include <string.h>

#include "lb-smtp-reply.h"

int LLVMFuzzerTestOneInput (const unsigned char *data,
                            size_t               size);

static void
check_reply (const LbSmtpReply *reply,
             GString           *out)
{
  g_autoptr(LbSmtpExtensions) extensions = NULL;
  g_autofree char *text = lb_smtp_reply_to_string (reply);
  guint n = 0;

  if (reply->code < 200 || reply->code > 599)
    g_error ("a reply code %u", reply->code);
  if (reply->lines == NULL || reply->lines[0] == NULL)
    g_error ("a reply without lines");
  for (; reply->lines[n] != NULL; n++)
    {
      if (!g_utf8_validate (reply->lines[n], -1, NULL))
        g_error ("a line that is not UTF-8");
      for (const char *p = reply->lines[n]; *p != '\0'; p++)
        if ((guchar) *p < 0x20 && *p != '\t')
          g_error ("a control character in a line");
    }
  if (n > LB_SMTP_MAX_LINES)
    g_error ("a reply of %u lines", n);
  if (lb_smtp_reply_has_enhanced (reply) && reply->enhanced[0] != reply->code / 100)
    g_error ("an enhanced code of another class");

  extensions = lb_smtp_extensions_parse (reply);
  for (guint i = 0; extensions->auth_mechanisms[i] != NULL; i++)
    {
      g_autofree char *upper = g_ascii_strup (extensions->auth_mechanisms[i], -1);

      if (strcmp (upper, extensions->auth_mechanisms[i]) != 0 || upper[0] == '\0')
        g_error ("a mechanism “%s”", extensions->auth_mechanisms[i]);
    }

  g_string_append_printf (out, "%s|%u|%u\n", text, n, extensions->flags);
}

static char *
frame (const guint8 *data,
       gsize         size,
       gsize         step)
{
  g_autoptr(LbSmtpReplyParser) parser = lb_smtp_reply_parser_new ();
  GString *out = g_string_new (NULL);
  gsize offset = 0;

  if (step == 0)
    step = MAX (size, 1);
  while (offset < size)
    {
      gsize n = MIN (step, size - offset);
      LbSmtpReply *reply;
      g_autoptr(GError) error = NULL;

      lb_smtp_reply_parser_feed (parser, data + offset, n);
      offset += n;
      while ((reply = lb_smtp_reply_parser_next (parser, &error)) != NULL)
        {
          check_reply (reply, out);
          lb_smtp_reply_free (reply);
        }
      if (error != NULL)
        {
          g_string_append_printf (out, "error %d\n", error->code);
          return g_string_free (out, FALSE);
        }
    }
  {
    g_autoptr(GError) error = NULL;

    if (!lb_smtp_reply_parser_finish (parser, &error))
      g_string_append_printf (out, "end %d\n", error->code);
  }
  return g_string_free (out, FALSE);
}

int
LLVMFuzzerTestOneInput (const unsigned char *data,
                        size_t               size)
{
  static const gsize steps[] = { 1, 2, 7, 512 };
  g_autofree char *whole = frame (data, size, 0);
  g_autoptr(LbSmtpReply) single = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      g_autofree char *pieces = frame (data, size, steps[i]);

      if (strcmp (whole, pieces) != 0)
        g_error ("framed whole:\n%s\nin pieces of %" G_GSIZE_FORMAT ":\n%s", whole, steps[i], pieces);
    }

  single = lb_smtp_reply_parse ((const char *) data, size, NULL);
  if (single != NULL)
    {
      g_autoptr(GString) out = g_string_new (NULL);

      check_reply (single, out);
    }
  return 0;
}
