/* fuzz-mime-parts.c: lb_mime_message_parse() and lb_mime_html_to_text()
 * on arbitrary bytes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * With libFuzzer (clang -fsanitize=fuzzer,address,undefined and
 * -DLB_FUZZ_LIBFUZZER) this is a fuzz target; built plainly, it is a
 * program that runs the target once on each file named on its command
 * line, and on every file of each directory named, to replay what a
 * fuzzer found.
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <gmime/gmime.h>

#include "lb-mime-parts.h"

int LLVMFuzzerTestOneInput (const unsigned char *data,
                            size_t               size);

static void
check_text (const char *text)
{
  if (text != NULL && !g_utf8_validate (text, -1, NULL))
    g_error ("not UTF-8: %s", text);
}

static void
check_name (const char *name)
{
  if (name == NULL)
    return;
  check_text (name);
  if (*name == '\0' || *name == '.' || strchr (name, '/') != NULL || strchr (name, '\\') != NULL)
    g_error ("unsafe file name: %s", name);
  for (const char *p = name; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      g_error ("control character in a file name");
}

static void
check_addresses (GPtrArray *addresses)
{
  if (addresses == NULL)
    g_error ("no address list");
  for (guint i = 0; i < addresses->len; i++)
    {
      LbMimeAddress *address = g_ptr_array_index (addresses, i);
      g_autofree char *text = lb_mime_address_to_string (address);

      check_text (address->name);
      check_text (address->address);
      check_text (text);
    }
}

int
LLVMFuzzerTestOneInput (const unsigned char *data,
                        size_t               size)
{
  static gsize initialized = 0;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbMimeMessage) message = NULL;
  g_autofree char *whole = NULL;

  if (g_once_init_enter (&initialized))
    {
      g_mime_init ();
      g_once_init_leave (&initialized, 1);
    }

  /* the input as HTML, too */
  whole = lb_mime_html_to_text ((const char *) data, (gssize) size);
  check_text (whole);

  bytes = g_bytes_new_static (data, size);
  message = lb_mime_message_parse (bytes, &error);
  if (message == NULL)
    {
      if (error == NULL || error->domain != G_IO_ERROR || error->code != G_IO_ERROR_INVALID_DATA)
        g_error ("failed without an error saying why");
      return 0;
    }

  check_addresses (message->from);
  check_addresses (message->to);
  check_addresses (message->cc);
  check_addresses (message->reply_to);
  check_text (message->subject);
  check_text (message->message_id);

  for (guint i = 0; i < message->parts->len; i++)
    {
      LbMimePart *part = g_ptr_array_index (message->parts, i);

      check_text (part->content_type);
      check_text (part->content_id);
      check_name (part->filename);
      check_text (part->problem);
      check_text (part->from);
      check_text (part->subject);
      if (part->data != NULL && g_bytes_get_size (part->data) != part->size)
        g_error ("size %" G_GSIZE_FORMAT " for %" G_GSIZE_FORMAT " bytes", part->size,
                 g_bytes_get_size (part->data));
      if (part->content_id != NULL && lb_mime_message_find_cid (message, part->content_id) == NULL &&
          part->data != NULL)
        g_error ("a Content-ID that is not found");

      switch (part->kind)
        {
        case LB_MIME_PART_TEXT:
          for (guint b = 0; b < part->blocks->len; b++)
            check_text (((LbMimeTextBlock *) g_ptr_array_index (part->blocks, b))->text);
          G_GNUC_FALLTHROUGH;
        case LB_MIME_PART_HTML:
          {
            g_autofree char *text = g_strndup (g_bytes_get_data (part->data, NULL), part->size);
            g_autofree char *rendered = lb_mime_html_to_text (text, -1);

            check_text (text);
            check_text (rendered);
          }
          break;
        case LB_MIME_PART_IMAGE:
        case LB_MIME_PART_ATTACHMENT:
          if (part->filename == NULL || part->data == NULL)
            g_error ("a file without a name or content");
          break;
        case LB_MIME_PART_MESSAGE:
          break;
        case LB_MIME_PART_BROKEN:
          if (part->problem == NULL || part->data != NULL)
            g_error ("a broken part without a problem, or with content");
          break;
        default:
          g_error ("unknown kind %d", part->kind);
        }
    }

  return 0;
}
