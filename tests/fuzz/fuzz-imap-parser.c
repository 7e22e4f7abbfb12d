/* fuzz-imap-parser.c: the IMAP framer and response parser on arbitrary bytes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * With libFuzzer (clang -fsanitize=fuzzer,address,undefined and
 * -DLB_FUZZ_LIBFUZZER) this is a fuzz target; built plainly, it is a
 * program that runs the target once on each file named on its command
 * line (or on each file in a directory named there), to replay what a
 * fuzzer found or a seed corpus.
 *
 * The input is what a server sends: it is framed once whole and once fed
 * in pieces, which must give the same frames; each frame is parsed (with
 * UTF8=ACCEPT mailbox names for inputs of odd length) and each response
 * printed in the canonical text form, which must be UTF-8.
 */

#include "config.h"

#include <string.h>

#include "lb-imap-parser.h"

int LLVMFuzzerTestOneInput (const unsigned char *data,
                            size_t               size);

/* small limits, so that the fuzzer reaches them */
#define FUZZ_MAX_LINE    4096
#define FUZZ_MAX_LITERAL 65536

static void
check_response (LbImapResponse *response)
{
  g_autofree char *text = lb_imap_response_to_string (response);

  if (text == NULL || !g_utf8_validate (text, -1, NULL))
    g_error ("the text form is not UTF-8");
  if (response->list != NULL && !g_utf8_validate (response->list->mailbox, -1, NULL))
    g_error ("a mailbox name is not UTF-8");
  if (response->list != NULL && response->list->old_name != NULL &&
      !g_utf8_validate (response->list->old_name, -1, NULL))
    g_error ("an old mailbox name is not UTF-8");
  if (response->status_data != NULL && !g_utf8_validate (response->status_data->mailbox, -1, NULL))
    g_error ("a mailbox name is not UTF-8");
}

/* frames @data whole; returns the frame lengths (0 ends them) */
static GArray *
frame_whole (const guint8 *data,
             gsize         size)
{
  GArray *frames = g_array_new (FALSE, FALSE, sizeof (gsize));
  LbImapFramer framer;
  gsize start = 0, frame_len;

  lb_imap_framer_init (&framer, FUZZ_MAX_LINE, FUZZ_MAX_LITERAL);
  while (start < size)
    {
      g_autoptr(GError) error = NULL;

      if (!lb_imap_framer_next (&framer, data + start, size - start, &frame_len, &error))
        {
          if (error != NULL && error->domain != LB_IMAP_PARSE_ERROR)
            g_error ("a framing error outside LB_IMAP_PARSE_ERROR");
          break;
        }
      if (frame_len == 0 || frame_len > size - start)
        g_error ("a frame of %" G_GSIZE_FORMAT " bytes with %" G_GSIZE_FORMAT " left",
                 frame_len, size - start);
      g_array_append_val (frames, frame_len);
      start += frame_len;
    }
  return frames;
}

/* the same, fed in pieces of varying size, as a reader would */
static void
frame_in_pieces (const guint8 *data,
                 gsize         size,
                 GArray       *expected)
{
  LbImapFramer framer;
  gsize start = 0, avail = 0, frame_len;
  guint n = 0;
  guint step = size > 0 ? 1 + data[0] % 17 : 1;

  lb_imap_framer_init (&framer, FUZZ_MAX_LINE, FUZZ_MAX_LITERAL);
  while (start < size)
    {
      g_autoptr(GError) error = NULL;

      if (lb_imap_framer_next (&framer, data + start, avail - start, &frame_len, &error))
        {
          if (n >= expected->len || g_array_index (expected, gsize, n) != frame_len)
            g_error ("frame %u differs when fed in pieces", n);
          n++;
          start += frame_len;
          continue;
        }
      if (error != NULL || avail == size)
        break;
      avail = MIN (size, avail + step);
    }
  if (n != expected->len)
    g_error ("%u frames in pieces, %u whole", n, expected->len);
}

int
LLVMFuzzerTestOneInput (const unsigned char *data,
                        size_t               size)
{
  LbImapParseFlags flags = size % 2 ? LB_IMAP_PARSE_UTF8_MAILBOXES : LB_IMAP_PARSE_NONE;
  g_autoptr(GArray) frames = frame_whole (data, size);
  gsize start = 0;

  frame_in_pieces (data, size, frames);

  for (guint i = 0; i < frames->len; i++)
    {
      gsize frame_len = g_array_index (frames, gsize, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(LbImapResponse) response = NULL;

      response = lb_imap_parse_response (data + start, frame_len, flags, &error);
      if (response == NULL)
        {
          if (error == NULL || error->domain != LB_IMAP_PARSE_ERROR || error->message[0] == '\0')
            g_error ("a parse failure without a proper error");
        }
      else
        {
          if (error != NULL)
            g_error ("a response and an error");
          check_response (response);
        }
      start += frame_len;
    }

  /* the text helpers on the raw bytes as well */
  if (size < 4096)
    {
      g_autofree char *text = g_strndup ((const char *) data, size);
      g_autofree char *decoded = lb_imap_utf7_decode (text, NULL);
      gint64 t;

      if (decoded != NULL)
        {
          g_autofree char *again = NULL;

          if (!g_utf8_validate (decoded, -1, NULL))
            g_error ("modified UTF-7 decoded to something not UTF-8");
          again = lb_imap_utf7_encode (decoded);
          if (strcmp (again, text) != 0)
            g_error ("modified UTF-7 “%s” does not round-trip (“%s”)", text, again);
        }
      if (g_utf8_validate (text, -1, NULL))
        {
          g_autofree char *encoded = lb_imap_utf7_encode (text);
          g_autofree char *back = lb_imap_utf7_decode (encoded, NULL);

          if (g_strcmp0 (back, text) != 0)
            g_error ("“%s” does not round-trip through modified UTF-7", text);
        }
      lb_imap_parse_internaldate (text, &t);
      {
        g_autoptr(GArray) set = lb_imap_set_parse (text, NULL);

        if (set != NULL)
          {
            g_autofree char *printed = lb_imap_set_to_string ((const LbImapRange *) (void *) set->data,
                                                              set->len);
            g_autoptr(GArray) values = lb_imap_set_expand (set, 1000, NULL);

            (void) values;
            (void) printed;
          }
      }
    }

  return 0;
}
