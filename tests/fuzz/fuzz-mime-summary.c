/* fuzz-mime-summary.c: lb_mime_summary_parse() on arbitrary bytes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * With libFuzzer (clang -fsanitize=fuzzer,address,undefined and
 * -DLB_FUZZ_LIBFUZZER) this is a fuzz target; built plainly, it is a
 * program that runs the target once on each file named on its command
 * line, to replay what a fuzzer found.
 */

#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "lb-mime-summary.h"

int LLVMFuzzerTestOneInput (const unsigned char *data,
                            size_t               size);

static void
check_text (const char *text)
{
  if (text != NULL && !g_utf8_validate (text, -1, NULL))
    g_error ("not UTF-8: %s", text);
}

int
LLVMFuzzerTestOneInput (const unsigned char *data,
                        size_t               size)
{
  static gsize initialized = 0;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *body_text = NULL;
  g_autoptr(LbMessageSummary) summary = NULL;

  if (g_once_init_enter (&initialized))
    {
      g_mime_init ();
      g_once_init_leave (&initialized, 1);
    }

  bytes = g_bytes_new_static (data, size);
  summary = lb_mime_summary_parse (bytes, 1700000000, &body_text, &error);

  if (summary == NULL)
    {
      for (size_t i = 0; i < size; i++)
        if (!g_ascii_isspace (data[i]))
          g_error ("no summary for a message that is not blank: %s", error->message);
      return 0;
    }

  if (summary->size != (gint64) size)
    g_error ("size %" G_GINT64_FORMAT " for %" G_GSIZE_FORMAT " bytes", summary->size, size);

  check_text (summary->message_id);
  check_text (summary->in_reply_to);
  check_text (summary->references);
  check_text (summary->subject);
  check_text (summary->from);
  check_text (summary->to);
  check_text (summary->cc);
  check_text (summary->preview);
  check_text (body_text);

  if (summary->preview != NULL &&
      g_utf8_strlen (summary->preview, -1) > LB_MIME_SUMMARY_PREVIEW_CHARS)
    g_error ("preview too long");
  if (body_text != NULL && strlen (body_text) > LB_MIME_SUMMARY_MAX_BODY_TEXT)
    g_error ("body text too long");

  return 0;
}
