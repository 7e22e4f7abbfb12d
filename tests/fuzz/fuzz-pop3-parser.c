/* fuzz-pop3-parser.c: the POP3 framer and reply helpers on arbitrary bytes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * With libFuzzer (clang -fsanitize=fuzzer,address,undefined and
 * -DLB_FUZZ_LIBFUZZER) this is a fuzz target; built plainly, it is a
 * program that runs the target once on each file named on its command
 * line (or on each file in a directory named there), to replay what a
 * fuzzer found or a seed corpus.
 *
 * The input is a transcript as pop3-parse --transcript reads it: a first
 * line of commands separated by ";", then what the server sent. It is
 * framed three times, whole, in pieces and byte by byte, with different
 * chunk sizes, and the canonical text forms (pop3-dump.h, which also
 * checks that message data ends its lines in CRLF, that chunks keep to
 * their limit and that all text is UTF-8) must agree. The argument
 * helpers also run on the raw bytes.
 */

#include "config.h"

#include <string.h>

#include "../tools/pop3-dump.h"

int LLVMFuzzerTestOneInput (const unsigned char *data,
                            size_t               size);

/* small limits, so that the fuzzer reaches them */
#define FUZZ_MAX_STATUS 512
#define FUZZ_MAX_LINE   256

/* feeds the server's bytes in pieces of @step (0: whole) */
static char *
dump_transcript (const guint8 *data,
                 gsize         size,
                 gsize         max_chunk,
                 gsize         step)
{
  Pop3Dump *dump = pop3_dump_new (FUZZ_MAX_STATUS, FUZZ_MAX_LINE, max_chunk);
  gsize start = pop3_dump_add_transcript_commands (dump, data, size);
  char *text;

  if (step == 0)
    step = size;
  while (start < size)
    {
      gsize n = MIN (step, size - start);

      if (!pop3_dump_feed (dump, data + start, n))
        break;
      start += n;
    }
  pop3_dump_finish (dump);
  text = g_strdup (dump->out->str);
  pop3_dump_free (dump);
  return text;
}

static void
helpers_on_raw (const guint8 *data,
                gsize         size)
{
  g_autofree char *text = g_strndup ((const char *) data, MIN (size, 1024));
  g_autofree char *stamp = lb_pop3_greeting_apop_timestamp (text);
  g_autofree char *uid = NULL;
  g_autofree char *keyword = NULL;
  g_auto(GStrv) args = NULL;
  g_autoptr(LbPop3Reply) reply = NULL;
  g_autoptr(GError) error = NULL;
  guint count;
  guint64 bytes;
  gsize len = MIN (size, 1024);

  if (stamp != NULL && (stamp[0] != '<' || strchr (stamp, '@') == NULL))
    g_error ("an APOP timestamp “%s” without its brackets or @", stamp);
  if (lb_pop3_parse_uidl_line ((const char *) data, (gssize) len, &count, &uid, NULL) &&
      (count == 0 || uid[0] == '\0' || strlen (uid) > LB_POP3_MAX_UID))
    g_error ("a bad UIDL line parsed");
  lb_pop3_parse_list_line ((const char *) data, (gssize) len, &count, &bytes, NULL);
  lb_pop3_parse_stat ((const char *) data, (gssize) len, &count, &bytes, NULL);
  if (lb_pop3_parse_capa_line ((const char *) data, (gssize) len, &keyword, &args, NULL) &&
      (keyword[0] == '\0' || args == NULL))
    g_error ("a bad CAPA line parsed");
  reply = lb_pop3_reply_parse ((const char *) data, len, &error);
  if (reply != NULL)
    {
      g_autoptr(LbPop3Reply) copy = lb_pop3_reply_copy (reply);
      g_autofree char *printed = lb_pop3_reply_to_string (copy);

      if (!g_utf8_validate (reply->text, -1, NULL) || !g_utf8_validate (printed, -1, NULL))
        g_error ("a reply's text is not UTF-8");
      if ((reply->code == LB_POP3_CODE_NONE) != (reply->code_text == NULL))
        g_error ("a response code without its text or the other way round");
    }
  else if (error == NULL || error->domain != LB_POP3_ERROR)
    g_error ("a parse failure without a proper error");
}

int
LLVMFuzzerTestOneInput (const unsigned char *data,
                        size_t               size)
{
  gsize step = size > 0 ? 1 + data[size - 1] % 17 : 1;
  g_autofree char *whole = dump_transcript (data, size, 16, 0);
  g_autofree char *pieces = dump_transcript (data, size, LB_POP3_MAX_CHUNK_DEFAULT, step);

  if (strcmp (whole, pieces) != 0)
    g_error ("fed whole:\n%s\nin pieces of %" G_GSIZE_FORMAT ":\n%s", whole, step, pieces);
  if (size < 4096)
    {
      g_autofree char *bytes = dump_transcript (data, size, 37, 1);

      if (strcmp (whole, bytes) != 0)
        g_error ("fed whole:\n%s\nbyte by byte:\n%s", whole, bytes);
    }
  helpers_on_raw (data, size);
  return 0;
}
