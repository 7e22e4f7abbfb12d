/* test-outgoing-message.c: messages being written, as bytes and back
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <gmime/gmime.h>

#include "lb-outgoing-message-private.h"
#include "lb-outgoing-message.h"
#include "lb-test-session.h"

static char *
bytes_text (GBytes *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  return g_strndup (data, len);
}

static GBytes *
text_bytes (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

/* the header block of @raw, up to the first empty line */
static char *
header_block (const char *raw)
{
  const char *end = strstr (raw, "\r\n\r\n");

  g_assert_nonnull (end);
  return g_strndup (raw, end - raw + 2);
}

static void
assert_crlf_only (GBytes *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  g_assert_cmpuint (len, >, 2);
  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '\n')
        g_assert_true (i > 0 && data[i - 1] == '\r');
      if (data[i] == '\r')
        g_assert_true (i + 1 < len && data[i + 1] == '\n');
    }
  g_assert_cmpint (data[len - 2], ==, '\r');
  g_assert_cmpint (data[len - 1], ==, '\n');
}

static gboolean
has_line (const char *raw,
          const char *line)
{
  g_autofree char *needle = g_strconcat ("\r\n", line, "\r\n", NULL);

  return strstr (raw, needle) != NULL;
}

static LbOutgoingMessage *
russian_message (void)
{
  LbOutgoingMessage *m = lb_outgoing_message_new ();

  lb_outgoing_message_set_from (m, "Анна Иванова", "anna@example.test");
  lb_outgoing_message_set_to (m, "Борис Петров <boris@example.test>, \"Ivanov, Ivan\" <ivan@example.test>");
  lb_outgoing_message_set_cc (m, "carol@example.test");
  lb_outgoing_message_set_bcc (m, "Тайный Получатель <secret@example.test>");
  lb_outgoing_message_set_reply_to (m, "\"Анна (работа)\" <anna.work@example.test>");
  lb_outgoing_message_set_subject (m, "Отчёт за третий квартал: цифры, выводы и планы на следующий год — "
                                      "прошу посмотреть до пятницы");
  lb_outgoing_message_set_body (m,
    "Привет, Борис!\n"
    "\n"
    "Это очень длинная строка, в которой больше семидесяти восьми символов, поэтому её "
    "нужно перенести по правилам format=flowed, а потом собрать обратно без потерь.\n"
    "On Tue, Apr 1, 2025 at 10:00, Борис wrote:\n"
    "> Цитата из прошлого письма, тоже довольно длинная, чтобы и её пришлось переносить на "
    "следующую строку.\n"
    ">> a deeper quote\n"
    ">\n"
    "From the start of a line\n"
    " a line with a leading space\n"
    "trailing spaces  \n"
    "\n"
    "-- \n"
    "Анна");
  return m;
}

/* ---- headers ----------------------------------------------------------- */

static void
test_headers_encoded (void)
{
  g_autoptr(LbOutgoingMessage) m = russian_message ();
  g_autoptr(GBytes) bytes = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_SEND);
  g_autofree char *raw = bytes_text (bytes);
  g_autofree char *headers = header_block (raw);
  GMimeMessage *parsed = lb_test_parse_message (bytes);
  InternetAddressList *list;
  InternetAddress *ia;
  g_auto(GStrv) lines = NULL;

  assert_crlf_only (bytes);

  /* encoded: ASCII headers in lines of 78 at most */
  lines = g_strsplit (headers, "\r\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_assert_cmpuint (strlen (lines[i]), <=, 78);
      for (const char *p = lines[i]; *p != '\0'; p++)
        g_assert_cmpuint ((guchar) *p, <, 0x80);
    }
  g_assert_nonnull (strstr (headers, "=?UTF-8?"));

  /* and GMime reads them back to the same Unicode */
  g_assert_cmpstr (g_mime_message_get_subject (parsed), ==, lb_outgoing_message_get_subject (m));
  list = g_mime_message_get_addresses (parsed, GMIME_ADDRESS_TYPE_FROM);
  g_assert_cmpint (internet_address_list_length (list), ==, 1);
  ia = internet_address_list_get_address (list, 0);
  g_assert_cmpstr (internet_address_get_name (ia), ==, "Анна Иванова");
  g_assert_cmpstr (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (ia)), ==, "anna@example.test");

  list = g_mime_message_get_addresses (parsed, GMIME_ADDRESS_TYPE_TO);
  g_assert_cmpint (internet_address_list_length (list), ==, 2);
  g_assert_cmpstr (internet_address_get_name (internet_address_list_get_address (list, 0)), ==, "Борис Петров");
  g_assert_cmpstr (internet_address_get_name (internet_address_list_get_address (list, 1)), ==, "Ivanov, Ivan");
  g_assert_cmpstr (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (internet_address_list_get_address (list, 1))),
                   ==, "ivan@example.test");

  list = g_mime_message_get_addresses (parsed, GMIME_ADDRESS_TYPE_REPLY_TO);
  g_assert_cmpint (internet_address_list_length (list), ==, 1);
  g_assert_cmpstr (internet_address_get_name (internet_address_list_get_address (list, 0)), ==, "Анна (работа)");

  /* the rest of the headers */
  g_assert_nonnull (strstr (headers, "\r\nDate: "));
  g_assert_nonnull (strstr (headers, "\r\nMIME-Version: 1.0\r\n"));
  g_assert_nonnull (strstr (headers, "\r\nUser-Agent: Letterbox/" PACKAGE_VERSION "\r\n"));
  g_assert_nonnull (strstr (headers, "\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\n"));
  g_assert_nonnull (strstr (headers, "\r\nContent-Transfer-Encoding: quoted-printable\r\n"));
  g_assert_null (strstr (raw, "multipart"));

  g_object_unref (parsed);
}

/* a subject GMime itself splits into padded words, which its own decoder
 * then cuts short: ours must come back whole whatever its length */
static void
test_headers_long_subjects (void)
{
  static const char * const subjects[] = {
    "Привет",
    "Ёжик в тумане: ёлки, палки и прочие неприятности, о которых лучше не вспоминать вовсе",
    "€uro € signs € of three bytes each € € € € € € € € € € € € € € € € € € € €",
    "Mixed ASCII and кириллица and 日本語のテキスト and emoji 🎉🎉🎉 repeated 🎉🎉🎉🎉",
    "Re: plain ASCII that is long enough to be folded over more than one header line, surely",
    "spaces  kept   as   typed",
    "=?UTF-8?B?not-an-encoded-word?=",
  };

  for (guint i = 0; i < G_N_ELEMENTS (subjects); i++)
    {
      g_autoptr(LbOutgoingMessage) m = lb_outgoing_message_new ();
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(LbOutgoingMessage) back = NULL;
      GMimeMessage *parsed;

      lb_outgoing_message_set_from (m, subjects[i], "a@example.test");
      lb_outgoing_message_set_to (m, "b@example.test");
      lb_outgoing_message_set_subject (m, subjects[i]);
      bytes = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_SEND);
      parsed = lb_test_parse_message (bytes);
      if (strstr (subjects[i], "  ") == NULL)
        g_assert_cmpstr (g_mime_message_get_subject (parsed), ==, subjects[i]);
      /* a name's runs of spaces are one space (RFC 5322 phrases) */
      if (strstr (subjects[i], "  ") == NULL)
        g_assert_cmpstr (internet_address_get_name (internet_address_list_get_address (
                           g_mime_message_get_addresses (parsed, GMIME_ADDRESS_TYPE_FROM), 0)), ==, subjects[i]);
      g_object_unref (parsed);

      back = lb_outgoing_message_new_from_bytes (bytes, NULL);
      g_assert_nonnull (back);
      if (strstr (subjects[i], "  ") == NULL)
        g_assert_cmpstr (lb_outgoing_message_get_subject (back), ==, subjects[i]);
      if (strstr (subjects[i], "  ") == NULL)
        g_assert_cmpstr (lb_outgoing_message_get_from_name (back), ==, subjects[i]);
    }
}

static void
test_bcc (void)
{
  g_autoptr(LbOutgoingMessage) m = russian_message ();
  g_autoptr(GBytes) send = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_SEND);
  g_autoptr(GBytes) draft = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_DRAFT);
  g_autofree char *send_raw = bytes_text (send);
  g_autofree char *draft_raw = bytes_text (draft);
  g_autoptr(LbOutgoingMessage) back = NULL;

  g_assert_null (strstr (send_raw, "Bcc:"));
  g_assert_null (strstr (send_raw, "secret@example.test"));
  g_assert_nonnull (strstr (draft_raw, "\r\nBcc: "));
  g_assert_nonnull (strstr (draft_raw, "<secret@example.test>"));

  back = lb_outgoing_message_new_from_bytes (draft, NULL);
  g_assert_cmpstr (lb_outgoing_message_get_bcc (back), ==, "Тайный Получатель <secret@example.test>");
  g_clear_object (&back);
  back = lb_outgoing_message_new_from_bytes (send, NULL);
  g_assert_cmpstr (lb_outgoing_message_get_bcc (back), ==, "");

  /* but the envelope has it */
  {
    g_auto(GStrv) rcpt = lb_outgoing_message_dup_recipients (m);

    g_assert_true (g_strv_contains ((const char * const *) rcpt, "secret@example.test"));
  }
}

static void
test_stable (void)
{
  g_autoptr(LbOutgoingMessage) m = russian_message ();
  g_autoptr(GBytes) first = NULL;
  g_autoptr(GBytes) second = NULL;
  g_autoptr(GBytes) draft = NULL;
  g_autoptr(GBytes) again = NULL;
  g_autoptr(LbOutgoingMessage) back = NULL;
  g_autofree char *id = NULL;
  g_autoptr(GBytes) notes = g_bytes_new_static ("some notes\n", 11);

  lb_outgoing_message_add_attachment (m, "notes.txt", NULL, notes);
  first = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_SEND);
  id = g_strdup (lb_outgoing_message_get_message_id (m));
  g_assert_nonnull (id);
  g_assert_true (g_str_has_suffix (id, "@example.test"));
  g_assert_nonnull (lb_outgoing_message_get_date (m));

  /* time passes: nothing changes */
  g_usleep (1100 * 1000);
  second = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_SEND);
  g_assert_true (g_bytes_equal (first, second));
  g_assert_cmpstr (lb_outgoing_message_get_message_id (m), ==, id);

  /* the Outbox keeps the draft form and sends what it reads back */
  draft = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_DRAFT);
  back = lb_outgoing_message_new_from_bytes (draft, NULL);
  g_assert_nonnull (back);
  g_assert_cmpstr (lb_outgoing_message_get_message_id (back), ==, id);
  again = lb_outgoing_message_to_bytes (back, LB_OUTGOING_FORM_SEND);
  if (!g_bytes_equal (first, again))
    {
      g_autofree char *a = bytes_text (first);
      g_autofree char *b = bytes_text (again);

      g_assert_cmpstr (a, ==, b);
    }
}

static void
test_message_id (void)
{
  g_autoptr(LbOutgoingMessage) m = lb_outgoing_message_new ();
  g_autoptr(LbOutgoingMessage) other = lb_outgoing_message_new ();
  g_autoptr(GBytes) a = NULL;
  g_autoptr(GBytes) b = NULL;
  g_autofree char *raw = NULL;

  lb_outgoing_message_set_from (m, NULL, "me@почта.example");
  lb_outgoing_message_set_to (m, "you@example.test");
  a = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_DRAFT);
  g_assert_true (g_str_has_suffix (lb_outgoing_message_get_message_id (m), "@xn--80a1acny.example"));

  lb_outgoing_message_set_from (other, NULL, "me@почта.example");
  b = lb_outgoing_message_to_bytes (other, LB_OUTGOING_FORM_DRAFT);
  g_assert_cmpstr (lb_outgoing_message_get_message_id (m), !=, lb_outgoing_message_get_message_id (other));

  /* one given is kept, brackets or not */
  lb_outgoing_message_set_message_id (m, "<given@example.test>");
  g_clear_pointer (&a, g_bytes_unref);
  a = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_SEND);
  raw = bytes_text (a);
  g_assert_cmpstr (lb_outgoing_message_get_message_id (m), ==, "given@example.test");
  g_assert_nonnull (strstr (raw, "\r\nMessage-Id: <given@example.test>\r\n"));
  /* the From's domain is ASCII in the header */
  g_assert_nonnull (strstr (raw, "From: me@xn--80a1acny.example\r\n"));
}

/* ---- format=flowed ---------------------------------------------------- */

static void
test_flowed_round_trip (void)
{
  static const char * const texts[] = {
    "",
    "one line",
    "a\nb\n",
    "\n\nblank lines first\n\n\n",
    "A line that is very long indeed, longer than seventy-eight characters, so that it has to be wrapped twice or more when it is sent out.",
    "Очень длинная строка кириллицей, в которой заметно больше семидесяти восьми символов, её нужно перенести.",
    "> quoted text that is long enough to be wrapped at the quote depth it has, with the marks on each line",
    ">> deeper\n> less deep\nnot quoted",
    ">\n> \n>>",
    "> > spaced quote marks",
    "From the start\nFrom: not stuffed? it is, From at the start\n  two leading spaces\n",
    "trailing space \nand two  \n   \nthree   spaces only above",
    "-- \nSignature",
    "--\n---\n-- x",
    "averyveryverylongwordwithoutanyspacesthatgoesonandonforwellbeyondseventyeightcharacters and then more words",
    "words then averyveryverylongwordwithoutanyspacesthatgoesonandonforwellbeyondseventyeightcharacters",
    "spaces    in     the      middle       of        a         line          that           is            long",
    "a break could land on -- the separator if the line is long enough to wrap right around there -- ok",
    "long line ending with the separator and long enough to wrap, long enough to wrap, very much so -- ",
    "x\r\ny",
    "wrapped so that the next line starts with From and is stuffed: xxxxxxxxx xx From here on",
    "wrapped so that the next line starts with a quote mark: xxxxxxxxxxxxxxxx xx >not a quote",
  };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autofree char *encoded = lb_flowed_encode (texts[i]);
      g_autofree char *decoded = lb_flowed_decode (encoded, FALSE);
      g_autofree char *expected = NULL;
      g_auto(GStrv) lines = g_strsplit (encoded, "\n", -1);

      /* the one normalisation: quote marks followed by a single space
       * ("> " at the end of a line is ">") and CRLF typed */
      if (strcmp (texts[i], ">\n> \n>>") == 0)
        expected = g_strdup (">\n>\n>>");
      else if (strcmp (texts[i], "x\r\ny") == 0)
        expected = g_strdup ("x\ny");
      else
        expected = g_strdup (texts[i]);
      g_assert_cmpstr (decoded, ==, expected);

      for (guint j = 0; lines[j] != NULL; j++)
        {
          /* wrapped unless one word is longer than the line */
          if (strchr (lines[j], ' ') != NULL && strstr (lines[j], "averyvery") == NULL)
            g_assert_cmpuint (g_utf8_strlen (lines[j], -1), <=, 78);
          /* never a line a reader takes for something else */
          g_assert_false (g_str_has_prefix (lines[j], "From "));
        }
    }
}

static void
test_flowed_encoding (void)
{
  g_autofree char *wrapped = lb_flowed_encode (
    "A line that is very long indeed, longer than seventy-eight characters, so that it wraps.");
  g_autofree char *stuffed = lb_flowed_encode ("From here\n leading\n>quote\n-- \nsig");
  g_autofree char *trailing = lb_flowed_encode ("hello  \nworld");
  g_autofree char *quoted = lb_flowed_encode (
    "> quoted text that is long enough to be wrapped at the quote depth it has, with the marks");

  g_assert_cmpstr (wrapped, ==,
                   "A line that is very long indeed, longer than seventy-eight characters, so \n"
                   "that it wraps.\n");
  g_assert_cmpstr (stuffed, ==, " From here\n  leading\n> quote\n-- \nsig\n");
  g_assert_cmpstr (trailing, ==, "hello  \n\nworld\n");
  g_assert_cmpstr (quoted, ==,
                   "> quoted text that is long enough to be wrapped at the quote depth it has, \n"
                   "> with the marks\n");

  /* what other clients send */
  {
    g_autofree char *a = lb_flowed_decode ("one \r\ntwo\r\n> q1 \r\n> q2\r\nx \r\n-- \r\nsig\r\n", FALSE);
    g_autofree char *b = lb_flowed_decode ("one \r\ntwo\r\n", TRUE);
    g_autofree char *c = lb_flowed_decode ("soft \r\n>quoted\r\n", FALSE);

    g_assert_cmpstr (a, ==, "one two\n> q1 q2\nx \n-- \nsig");
    g_assert_cmpstr (b, ==, "onetwo");
    /* a flowed line before a change of depth ends its paragraph */
    g_assert_cmpstr (c, ==, "soft \n> quoted");
  }
}

/* a pasted line of a megabyte: wrapped in linear time, given back whole */
static void
test_flowed_long_line (void)
{
  GString *text = g_string_new (NULL);
  g_autofree char *encoded = NULL;
  g_autofree char *decoded = NULL;
  gint64 start = g_get_monotonic_time ();

  while (text->len < 1024 * 1024)
    g_string_append (text, "слово word ");
  g_string_append (text, "end");
  encoded = lb_flowed_encode (text->str);
  decoded = lb_flowed_decode (encoded, FALSE);
  g_assert_true (strcmp (decoded, text->str) == 0);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_string_free (text, TRUE);
}

static void
test_body_encoding (void)
{
  g_autoptr(LbOutgoingMessage) ascii = lb_outgoing_message_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *raw = NULL;

  lb_outgoing_message_set_from (ascii, NULL, "a@example.test");
  lb_outgoing_message_set_to (ascii, "b@example.test");
  lb_outgoing_message_set_body (ascii, "Plain ASCII text.\nFrom me.\n-- \nA");
  bytes = lb_outgoing_message_to_bytes (ascii, LB_OUTGOING_FORM_SEND);
  raw = bytes_text (bytes);
  g_assert_nonnull (strstr (raw, "\r\nContent-Transfer-Encoding: 7bit\r\n"));
  g_assert_true (g_str_has_suffix (raw, "\r\n\r\nPlain ASCII text.\r\n From me.\r\n-- \r\nA\r\n"));
}

/* ---- attachments ------------------------------------------------------- */

static void
test_attachments (void)
{
  g_autoptr(LbOutgoingMessage) m = lb_outgoing_message_new ();
  static const char pdf[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< >>\nendobj\n";
  g_autoptr(GBytes) pdf_data = g_bytes_new_static (pdf, sizeof pdf - 1);
  g_autoptr(GBytes) bin_data = g_bytes_new_static ("\0\1\2\3\377", 5);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(LbOutgoingMessage) back = NULL;
  g_autofree char *raw = NULL;
  GMimeMessage *parsed;
  GMimeObject *part;

  lb_outgoing_message_set_from (m, NULL, "a@example.test");
  lb_outgoing_message_set_to (m, "b@example.test");
  lb_outgoing_message_set_body (m, "See the report.");
  g_assert_cmpuint (lb_outgoing_message_add_attachment (m, "отчёт.pdf", NULL, pdf_data), ==, 0);
  g_assert_cmpuint (lb_outgoing_message_add_attachment (m, "data.bin", "application/x-thing", bin_data), ==, 1);
  g_assert_cmpuint (lb_outgoing_message_add_attachment (m, "gone.txt", NULL, bin_data), ==, 2);
  lb_outgoing_message_remove_attachment (m, 2);
  g_assert_cmpuint (lb_outgoing_message_get_n_attachments (m), ==, 2);
  g_assert_cmpstr (lb_outgoing_message_get_attachment_type (m, 0), ==, "application/pdf");
  g_assert_false (lb_outgoing_message_lacks_attachment (m));

  bytes = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_SEND);
  raw = bytes_text (bytes);
  assert_crlf_only (bytes);

  g_assert_nonnull (strstr (raw, "Content-Type: multipart/mixed; boundary="));
  /* RFC 2231 */
  g_assert_nonnull (strstr (raw, "filename*=UTF-8''%D0%BE%D1%82%D1%87%D1%91%D1%82.pdf"));
  g_assert_nonnull (strstr (raw, "Content-Disposition: attachment"));
  g_assert_nonnull (strstr (raw, "Content-Transfer-Encoding: base64"));
  g_assert_nonnull (strstr (raw, "Content-Type: application/x-thing"));

  parsed = lb_test_parse_message (bytes);
  part = g_mime_message_get_mime_part (parsed);
  g_assert_true (GMIME_IS_MULTIPART (part));
  g_assert_cmpint (g_mime_multipart_get_count (GMIME_MULTIPART (part)), ==, 3);
  g_assert_cmpstr (g_mime_part_get_filename (GMIME_PART (g_mime_multipart_get_part (GMIME_MULTIPART (part), 1))),
                   ==, "отчёт.pdf");
  g_object_unref (parsed);

  back = lb_outgoing_message_new_from_bytes (bytes, NULL);
  g_assert_cmpuint (lb_outgoing_message_get_n_attachments (back), ==, 2);
  g_assert_cmpstr (lb_outgoing_message_get_attachment_name (back, 0), ==, "отчёт.pdf");
  g_assert_cmpstr (lb_outgoing_message_get_attachment_type (back, 0), ==, "application/pdf");
  g_assert_true (g_bytes_equal (lb_outgoing_message_get_attachment_data (back, 0), pdf_data));
  g_assert_cmpstr (lb_outgoing_message_get_attachment_name (back, 1), ==, "data.bin");
  g_assert_cmpstr (lb_outgoing_message_get_attachment_type (back, 1), ==, "application/x-thing");
  g_assert_true (g_bytes_equal (lb_outgoing_message_get_attachment_data (back, 1), bin_data));
  g_assert_cmpstr (lb_outgoing_message_get_body (back), ==, "See the report.");
}

/* ---- round trip -------------------------------------------------------- */

static void
test_round_trip (void)
{
  g_autoptr(LbOutgoingMessage) m = russian_message ();
  g_autoptr(GBytes) draft = NULL;
  g_autoptr(LbOutgoingMessage) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) date = g_date_time_new_utc (2025, 4, 1, 8, 30, 15);
  g_autoptr(GBytes) pdf = g_bytes_new_static ("%PDF", 4);

  lb_outgoing_message_set_date (m, date);
  lb_outgoing_message_set_in_reply_to (m, "parent@example.test");
  lb_outgoing_message_set_references (m, "<root@example.test>  <parent@example.test>");
  lb_outgoing_message_set_forwarded_id (m, "<fwd@example.test>");
  lb_outgoing_message_set_to (m, "Борис Петров <boris@example.test>, \"Ivanov, Ivan\" <ivan@example.test>, "
                                 "Пётр <petr@пример.рф>");
  lb_outgoing_message_add_attachment (m, "отчёт.pdf", "application/pdf", pdf);

  draft = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_DRAFT);
  back = lb_outgoing_message_new_from_bytes (draft, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);

  g_assert_cmpstr (lb_outgoing_message_get_from_name (back), ==, lb_outgoing_message_get_from_name (m));
  g_assert_cmpstr (lb_outgoing_message_get_from_address (back), ==, lb_outgoing_message_get_from_address (m));
  g_assert_cmpstr (lb_outgoing_message_get_to (back), ==, lb_outgoing_message_get_to (m));
  g_assert_cmpstr (lb_outgoing_message_get_cc (back), ==, lb_outgoing_message_get_cc (m));
  g_assert_cmpstr (lb_outgoing_message_get_bcc (back), ==, lb_outgoing_message_get_bcc (m));
  g_assert_cmpstr (lb_outgoing_message_get_reply_to (back), ==, lb_outgoing_message_get_reply_to (m));
  g_assert_cmpstr (lb_outgoing_message_get_subject (back), ==, lb_outgoing_message_get_subject (m));
  g_assert_cmpstr (lb_outgoing_message_get_body (back), ==, lb_outgoing_message_get_body (m));
  g_assert_cmpstr (lb_outgoing_message_get_message_id (back), ==, lb_outgoing_message_get_message_id (m));
  g_assert_cmpstr (lb_outgoing_message_get_in_reply_to (back), ==, "parent@example.test");
  g_assert_cmpstr (lb_outgoing_message_get_references (back), ==, "root@example.test parent@example.test");
  g_assert_cmpstr (lb_outgoing_message_get_forwarded_id (back), ==, "fwd@example.test");
  g_assert_nonnull (lb_outgoing_message_get_date (back));
  g_assert_cmpint (g_date_time_to_unix (lb_outgoing_message_get_date (back)), ==, g_date_time_to_unix (date));
  g_assert_cmpuint (lb_outgoing_message_get_n_attachments (back), ==, 1);
  g_assert_cmpstr (lb_outgoing_message_get_attachment_name (back, 0), ==, "отчёт.pdf");

  /* and again: nothing drifts */
  {
    g_autoptr(GBytes) draft2 = lb_outgoing_message_to_bytes (back, LB_OUTGOING_FORM_DRAFT);

    g_assert_true (g_bytes_equal (draft, draft2));
  }
}

/* ---- replies ------------------------------------------------------------ */

static const char original_message[] =
  "From: =?UTF-8?B?0JHQvtGA0LjRgQ==?= <boris@example.test>\r\n"
  "To: Anna <anna@example.test>, carol@example.test\r\n"
  "Cc: Dave <DAVE@example.test>, anna@EXAMPLE.test, boris@example.test\r\n"
  "Subject: =?UTF-8?B?0J/Qu9Cw0L3RiyDQvdCwINC90LXQtNC10LvRjg==?=\r\n"
  "Date: Tue, 01 Apr 2025 10:00:00 +0200\r\n"
  "Message-ID: <orig@example.test>\r\n"
  "In-Reply-To: <parent@example.test>\r\n"
  "References: <root@example.test> <parent@example.test>\r\n"
  "MIME-Version: 1.0\r\n"
  "Content-Type: text/plain; charset=utf-8; format=flowed\r\n"
  "Content-Transfer-Encoding: 8bit\r\n"
  "\r\n"
  "Привет всем, \r\n"
  "это мой план.\r\n"
  "\r\n"
  "> earlier words\r\n";

static void
test_reply_threading (void)
{
  g_autoptr(GBytes) raw = text_bytes (original_message);
  g_autoptr(GError) error = NULL;
  g_autoptr(LbOutgoingMessage) reply = lb_outgoing_message_new_reply (raw, LB_REPLY_SENDER, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_cmpstr (lb_outgoing_message_get_to (reply), ==, "Борис <boris@example.test>");
  g_assert_cmpstr (lb_outgoing_message_get_cc (reply), ==, "");
  g_assert_cmpstr (lb_outgoing_message_get_subject (reply), ==, "Re: Планы на неделю");
  g_assert_cmpstr (lb_outgoing_message_get_in_reply_to (reply), ==, "orig@example.test");
  g_assert_cmpstr (lb_outgoing_message_get_references (reply), ==,
                   "root@example.test parent@example.test orig@example.test");
  g_assert_null (lb_outgoing_message_get_message_id (reply));

  /* the body: an empty line, the attribution, the text quoted */
  {
    const char *body = lb_outgoing_message_get_body (reply);
    g_auto(GStrv) lines = g_strsplit (body, "\n", -1);

    g_assert_cmpuint (g_strv_length (lines), >=, 6);
    g_assert_cmpstr (lines[0], ==, "");
    g_assert_true (g_str_has_prefix (lines[1], "On "));
    g_assert_true (g_str_has_suffix (lines[1], ", Борис wrote:"));
    g_assert_nonnull (strstr (lines[1], "2025"));
    g_assert_cmpstr (lines[2], ==, "> Привет всем,");
    g_assert_cmpstr (lines[3], ==, "> это мой план.");
    g_assert_cmpstr (lines[4], ==, ">");
    g_assert_cmpstr (lines[5], ==, ">> earlier words");
  }

  /* the headers it makes */
  {
    g_autoptr(GBytes) bytes = NULL;
    g_autofree char *text = NULL;

    lb_outgoing_message_set_from (reply, "Anna", "anna@example.test");
    bytes = lb_outgoing_message_to_bytes (reply, LB_OUTGOING_FORM_SEND);
    text = bytes_text (bytes);
    g_assert_nonnull (strstr (text, "\r\nIn-Reply-To: <orig@example.test>\r\n"));
    g_assert_nonnull (strstr (text, "\r\nReferences: <root@example.test> <parent@example.test>"));
    g_assert_nonnull (strstr (text, "<orig@example.test>\r\nUser-Agent: "));
    g_assert_true (has_line (text, "=D0=9D=D0=B0 =D0=BF=D1=80=D0=BE=D1=88=D0=BB=D0=BE=D0=B9 =D0=BD=D0=B5=D0=B4=D0=B5=D0=BB=D0=B5") ||
                   strstr (text, "quoted-printable") != NULL);
  }
}

static void
test_reply_subjects (void)
{
  static const struct { const char *subject; const char *expected; } cases[] = {
    { "Hello", "Re: Hello" },
    { "Re: Hello", "Re: Hello" },
    { "RE: Hello", "RE: Hello" },
    { "re: hello", "re: hello" },
    { "Ha: Hello", "Ha: Hello" },
    { "Отв: Привет", "Отв: Привет" },
    { "ОТВ: Привет", "ОТВ: Привет" },
    { "Fwd: Hello", "Re: Fwd: Hello" },
    { "", "Re: " },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LbOutgoingMessage) m = lb_outgoing_message_new ();
      g_autoptr(GBytes) raw = NULL;
      g_autoptr(LbOutgoingMessage) reply = NULL;

      lb_outgoing_message_set_from (m, NULL, "a@example.test");
      lb_outgoing_message_set_to (m, "b@example.test");
      lb_outgoing_message_set_subject (m, cases[i].subject);
      raw = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_SEND);
      reply = lb_outgoing_message_new_reply (raw, LB_REPLY_SENDER, NULL, NULL);
      g_assert_nonnull (reply);
      g_assert_cmpstr (lb_outgoing_message_get_subject (reply), ==, cases[i].expected);
    }
}

static void
test_reply_references_trimmed (void)
{
  GString *message = g_string_new ("From: a@example.test\r\nTo: b@example.test\r\nSubject: x\r\n"
                                   "Message-ID: <last@example.test>\r\nReferences:");
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(LbOutgoingMessage) reply = NULL;
  g_auto(GStrv) ids = NULL;

  for (guint i = 0; i < 60; i++)
    g_string_append_printf (message, " <id%u@example.test>\r\n", i);
  g_string_append (message, "\r\ntext\r\n");
  raw = g_bytes_new (message->str, message->len);
  g_string_free (message, TRUE);

  reply = lb_outgoing_message_new_reply (raw, LB_REPLY_SENDER, NULL, NULL);
  ids = g_strsplit (lb_outgoing_message_get_references (reply), " ", -1);
  g_assert_cmpuint (g_strv_length (ids), ==, 20);
  g_assert_cmpstr (ids[0], ==, "id0@example.test");
  g_assert_cmpstr (ids[1], ==, "id42@example.test");
  g_assert_cmpstr (ids[18], ==, "id59@example.test");
  g_assert_cmpstr (ids[19], ==, "last@example.test");
}

static void
test_reply_all (void)
{
  g_autoptr(GBytes) raw = text_bytes (original_message);
  const char * const own[] = { "Anna@Example.Test", NULL };
  g_autoptr(LbOutgoingMessage) reply = lb_outgoing_message_new_reply (raw, LB_REPLY_ALL, own, NULL);

  g_assert_nonnull (reply);
  g_assert_cmpstr (lb_outgoing_message_get_to (reply), ==, "Борис <boris@example.test>");
  /* the other To and Cc, less the user (any case) and less the To */
  g_assert_cmpstr (lb_outgoing_message_get_cc (reply), ==, "carol@example.test, Dave <DAVE@example.test>");

  /* a Reply-To wins over the From */
  {
    g_autofree char *with_reply_to = g_strconcat ("Reply-To: List <list@example.test>\r\n", original_message, NULL);
    g_autoptr(GBytes) raw2 = text_bytes (with_reply_to);
    g_autoptr(LbOutgoingMessage) r2 = lb_outgoing_message_new_reply (raw2, LB_REPLY_ALL, own, NULL);

    g_assert_cmpstr (lb_outgoing_message_get_to (r2), ==, "List <list@example.test>");
    g_assert_cmpstr (lb_outgoing_message_get_cc (r2), ==,
                     "carol@example.test, Dave <DAVE@example.test>, boris@example.test");
  }

  /* a reply to one's own message goes to its recipients */
  {
    const char * const own2[] = { "boris@example.test", NULL };
    g_autoptr(LbOutgoingMessage) r3 = lb_outgoing_message_new_reply (raw, LB_REPLY_ALL, own2, NULL);

    g_assert_cmpstr (lb_outgoing_message_get_to (r3), ==, "Anna <anna@example.test>, carol@example.test");
    g_assert_cmpstr (lb_outgoing_message_get_cc (r3), ==, "Dave <DAVE@example.test>");
  }
}

/* ---- forwards ----------------------------------------------------------- */

static void
test_forward_attachment (void)
{
  g_autoptr(GBytes) raw = text_bytes (original_message);
  g_autoptr(LbOutgoingMessage) fwd = lb_outgoing_message_new_forward (raw, LB_FORWARD_ATTACHMENT, NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *text = NULL;

  g_assert_nonnull (fwd);
  g_assert_cmpstr (lb_outgoing_message_get_subject (fwd), ==, "Fwd: Планы на неделю");
  g_assert_cmpstr (lb_outgoing_message_get_forwarded_id (fwd), ==, "orig@example.test");
  g_assert_cmpstr (lb_outgoing_message_get_to (fwd), ==, "");
  g_assert_cmpuint (lb_outgoing_message_get_n_attachments (fwd), ==, 1);
  g_assert_cmpstr (lb_outgoing_message_get_attachment_name (fwd, 0), ==, "Планы на неделю.eml");
  g_assert_cmpstr (lb_outgoing_message_get_attachment_type (fwd, 0), ==, "message/rfc822");

  lb_outgoing_message_set_from (fwd, NULL, "anna@example.test");
  lb_outgoing_message_set_to (fwd, "erin@example.test");
  bytes = lb_outgoing_message_to_bytes (fwd, LB_OUTGOING_FORM_SEND);
  text = bytes_text (bytes);
  /* the original bytes, as they are */
  g_assert_nonnull (strstr (text, original_message));
  g_assert_nonnull (strstr (text, "Content-Type: message/rfc822"));
  g_assert_nonnull (strstr (text, "Content-Transfer-Encoding: 8bit"));
  g_assert_nonnull (strstr (text, "\r\nX-Forwarded-Message-Id: <orig@example.test>\r\n"));

  /* and it reads back */
  {
    g_autoptr(LbOutgoingMessage) back = lb_outgoing_message_new_from_bytes (bytes, NULL);

    g_assert_cmpuint (lb_outgoing_message_get_n_attachments (back), ==, 1);
    g_assert_cmpstr (lb_outgoing_message_get_attachment_type (back, 0), ==, "message/rfc822");
    g_assert_cmpstr (lb_outgoing_message_get_attachment_name (back, 0), ==, "Планы на неделю.eml");
    g_assert_true (g_bytes_equal (lb_outgoing_message_get_attachment_data (back, 0), raw));
  }
}

static void
test_forward_inline (void)
{
  static const char message[] =
    "From: Boris <boris@example.test>\r\n"
    "To: anna@example.test\r\n"
    "Subject: Fwd: photos\r\n"
    "Date: Tue, 01 Apr 2025 10:00:00 +0200\r\n"
    "Message-ID: <photos@example.test>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "Here they are.\r\n"
    "--b\r\n"
    "Content-Type: image/png; name=\"a.png\"\r\n"
    "Content-Disposition: attachment; filename=\"a.png\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "iVBORw0KGgo=\r\n"
    "--b--\r\n";
  g_autoptr(GBytes) raw = text_bytes (message);
  g_autoptr(LbOutgoingMessage) fwd = lb_outgoing_message_new_forward (raw, LB_FORWARD_INLINE, NULL);
  const char *body;
  gsize len;
  const guint8 *png;

  g_assert_nonnull (fwd);
  /* not stacked */
  g_assert_cmpstr (lb_outgoing_message_get_subject (fwd), ==, "Fwd: photos");
  g_assert_cmpstr (lb_outgoing_message_get_forwarded_id (fwd), ==, "photos@example.test");
  body = lb_outgoing_message_get_body (fwd);
  g_assert_nonnull (strstr (body, "-------- Forwarded Message --------\n"));
  g_assert_nonnull (strstr (body, "\nSubject: Fwd: photos\n"));
  g_assert_nonnull (strstr (body, "\nFrom: Boris <boris@example.test>\n"));
  g_assert_nonnull (strstr (body, "\nTo: anna@example.test\n"));
  g_assert_nonnull (strstr (body, "\nDate: "));
  g_assert_true (g_str_has_suffix (body, "\n\nHere they are."));

  g_assert_cmpuint (lb_outgoing_message_get_n_attachments (fwd), ==, 1);
  g_assert_cmpstr (lb_outgoing_message_get_attachment_name (fwd, 0), ==, "a.png");
  g_assert_cmpstr (lb_outgoing_message_get_attachment_type (fwd, 0), ==, "image/png");
  png = g_bytes_get_data (lb_outgoing_message_get_attachment_data (fwd, 0), &len);
  g_assert_cmpuint (len, ==, 8);
  g_assert_cmpmem (png, 4, "\x89PNG", 4);
  /* the forward's text says nothing is missing */
  g_assert_false (lb_outgoing_message_lacks_attachment (fwd));
}

/* ---- checks -------------------------------------------------------------- */

static void
test_lacks_attachment (void)
{
  static const struct { const char *body; gboolean lacks; } cases[] = {
    { "Hello, see you tomorrow.", FALSE },
    { "I have attached the report.", TRUE },
    { "The attachment is below.", TRUE },
    { "Please find enclosed the invoice.", TRUE },
    { "Attach it next time.", TRUE },
    { "Отчёт во вложении.", TRUE },
    { "Вложил файл.", TRUE },
    { "Прикрепляю таблицу.", TRUE },
    { "См. приложение к договору... нет, приложении.", TRUE },
    { "Смотри приложенИЕ", TRUE },
    { "Привет! Как дела?", FALSE },
    { "Thanks!\n\nOn Tue, Anna wrote:\n> I attached the file.\n>> вложение", FALSE },
    { "Thanks!\n-- \nAttachments are scanned for viruses.", FALSE },
    { "reattached", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LbOutgoingMessage) m = lb_outgoing_message_new ();
      g_autoptr(GBytes) a = g_bytes_new_static ("a", 1);

      lb_outgoing_message_set_body (m, cases[i].body);
      if (lb_outgoing_message_lacks_attachment (m) != cases[i].lacks)
        g_error ("lacks_attachment (\"%s\") is not %d", cases[i].body, cases[i].lacks);
      if (cases[i].lacks)
        {
          lb_outgoing_message_add_attachment (m, "a.txt", "text/plain", a);
          g_assert_false (lb_outgoing_message_lacks_attachment (m));
        }
    }
}

static void
test_check (void)
{
  static const char * const bad[] = { "plain", "@example.test", "a@", "a@@b", "a b@example.test",
                                      "a@-example.test", "a@example..test", ".a@example.test",
                                      "a@exa mple.test" };
  g_autoptr(LbOutgoingMessage) m = lb_outgoing_message_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (lb_outgoing_message_check (m, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "sender"));
  g_clear_error (&error);

  lb_outgoing_message_set_from (m, "Anna", "anna@example.test");
  g_assert_false (lb_outgoing_message_check (m, &error));
  g_assert_cmpstr (error->message, ==, "Add at least one recipient");
  g_clear_error (&error);

  lb_outgoing_message_set_to (m, "carol@example.test, bob@");
  g_assert_false (lb_outgoing_message_check (m, &error));
  g_assert_cmpstr (error->message, ==, "“bob@” is not an email address");
  g_clear_error (&error);

  lb_outgoing_message_set_to (m, "carol@example.test");
  lb_outgoing_message_set_cc (m, "Dave <dave at example.test>");
  g_assert_false (lb_outgoing_message_check (m, &error));
  g_assert_cmpstr (error->message, ==, "“Dave <dave at example.test>” is not an email address");
  g_clear_error (&error);

  lb_outgoing_message_set_cc (m, "Dave <dave@example.test");
  g_assert_false (lb_outgoing_message_check (m, &error));
  g_clear_error (&error);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      lb_outgoing_message_set_cc (m, bad[i]);
      if (lb_outgoing_message_check (m, NULL))
        g_error ("“%s” passed the check", bad[i]);
    }

  lb_outgoing_message_set_to (m, NULL);
  lb_outgoing_message_set_cc (m, NULL);
  lb_outgoing_message_set_bcc (m, "\"Quoted, Name\" <q@example.test>; Пётр <petr@пример.рф>");
  g_assert_true (lb_outgoing_message_check (m, &error));
  g_assert_no_error (error);

  lb_outgoing_message_set_from (m, NULL, "not-an-address");
  g_assert_false (lb_outgoing_message_check (m, &error));
  g_assert_cmpstr (error->message, ==, "“not-an-address” is not an email address");
}

static void
test_recipients (void)
{
  g_autoptr(LbOutgoingMessage) m = lb_outgoing_message_new ();
  g_auto(GStrv) rcpt = NULL;

  lb_outgoing_message_set_to (m, "Анна <anna@example.test>, Bob <BOB@example.test>");
  lb_outgoing_message_set_cc (m, "bob@example.test, Пётр <petr@пример.рф>, broken@");
  lb_outgoing_message_set_bcc (m, "ANNA@EXAMPLE.TEST, \"Eve, the spy\" <eve@example.test>");
  rcpt = lb_outgoing_message_dup_recipients (m);

  g_assert_cmpuint (g_strv_length (rcpt), ==, 4);
  g_assert_cmpstr (rcpt[0], ==, "anna@example.test");
  g_assert_cmpstr (rcpt[1], ==, "BOB@example.test");
  g_assert_cmpstr (rcpt[2], ==, "petr@xn--e1afmkfd.xn--p1ai");
  g_assert_cmpstr (rcpt[3], ==, "eve@example.test");
}

/* ---- broken input -------------------------------------------------------- */

static void
test_broken (void)
{
  static const char * const inputs[] = {
    "From: \r\n\r\n",
    "garbage without headers",
    "Subject: =?UTF-8?B?####?=\r\nFrom: =?x?q?\xff\xfe?= <@>\r\nContent-Type: multipart/mixed\r\n\r\n--\r\n",
    "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: message/rfc822\r\n\r\n--x--\r\n",
    "Content-Type: text/plain; format=flowed; delsp=yes\r\n\r\n \r\n> \r\n>>> x \r\n-- \r\n",
    "To: \"unterminated <a@b>, , ,;\r\nReferences: <<<>>> <a@b\r\nIn-Reply-To: >\r\n\r\nbody",
    "Content-Type: text/plain; charset=x-unknown\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!\r\n",
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr(GBytes) blank = g_bytes_new_static (" \r\n\r\n", 5);

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr(GBytes) raw = text_bytes (inputs[i]);
      g_autoptr(LbOutgoingMessage) m = lb_outgoing_message_new_from_bytes (raw, &error);
      g_autoptr(LbOutgoingMessage) reply = NULL;
      g_autoptr(LbOutgoingMessage) fwd = NULL;
      g_autoptr(GBytes) again = NULL;

      g_assert_no_error (error);
      g_assert_nonnull (m);
      again = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_DRAFT);
      g_assert_nonnull (again);
      reply = lb_outgoing_message_new_reply (raw, LB_REPLY_ALL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (reply);
      fwd = lb_outgoing_message_new_forward (raw, LB_FORWARD_INLINE, &error);
      g_assert_no_error (error);
      g_assert_nonnull (fwd);
    }

  g_assert_null (lb_outgoing_message_new_from_bytes (empty, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_null (lb_outgoing_message_new_from_bytes (blank, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_null (lb_outgoing_message_new_reply (empty, LB_REPLY_SENDER, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_null (lb_outgoing_message_new_forward (blank, LB_FORWARD_ATTACHMENT, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

/* what is typed never makes a header of its own */
static void
test_header_injection (void)
{
  g_autoptr(LbOutgoingMessage) m = lb_outgoing_message_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *headers = NULL;

  lb_outgoing_message_set_from (m, "Eve\r\nBcc: evil@example.test", "eve@example.test\r\nBcc: evil2@example.test");
  lb_outgoing_message_set_to (m, "bob@example.test\r\nBcc: evil3@example.test, Bob\nX-Evil: 1 <b@example.test>");
  lb_outgoing_message_set_subject (m, "hi\r\nBcc: evil4@example.test");
  lb_outgoing_message_set_in_reply_to (m, "<a@b>\r\nBcc: evil5@example.test");
  lb_outgoing_message_set_references (m, "<a@b>\r\nBcc: <evil6@example.test>");
  bytes = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_SEND);
  raw = bytes_text (bytes);
  headers = header_block (raw);
  g_assert_null (strstr (headers, "\nBcc:"));
  g_assert_null (strstr (headers, "\nX-Evil:"));
  g_assert_null (lb_outgoing_message_get_in_reply_to (m));
}

/* a file name with a line break (a file's, or a forwarded attachment's)
 * ends no header of its part */
static void
test_header_injection_filename (void)
{
  g_autoptr(LbOutgoingMessage) m = lb_outgoing_message_new ();
  g_autoptr(GBytes) data = text_bytes ("abc");
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *raw = NULL;
  g_auto(GStrv) lines = NULL;

  lb_outgoing_message_set_from (m, NULL, "a@example.test");
  lb_outgoing_message_set_to (m, "b@example.test");
  lb_outgoing_message_add_attachment (m, "a\r\nX-Evil: 1\nContent-Type: text/html\r.txt", "text/plain", data);
  bytes = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_SEND);
  raw = bytes_text (bytes);
  lines = g_strsplit (raw, "\r\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_assert_false (g_str_has_prefix (lines[i], "X-Evil:"));
      g_assert_false (g_str_has_prefix (lines[i], "Content-Type: text/html"));
      g_assert_null (strchr (lines[i], '\r'));
    }
  assert_crlf_only (bytes);
}

/* a subject (or name) with a word too long to fold: no line of the
 * header passes 998 characters, and it comes back whole */
static void
test_headers_long_word (void)
{
  g_autoptr(LbOutgoingMessage) m = lb_outgoing_message_new ();
  g_autoptr(LbOutgoingMessage) back = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *word = g_strnfill (1500, 'x');
  g_autofree char *subject = g_strconcat ("Look: ", word, " ok", NULL);
  g_autofree char *name = g_strnfill (1200, 'n');
  g_auto(GStrv) lines = NULL;

  lb_outgoing_message_set_from (m, name, "a@example.test");
  lb_outgoing_message_set_to (m, "b@example.test");
  lb_outgoing_message_set_subject (m, subject);
  bytes = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_SEND);
  raw = bytes_text (bytes);
  lines = g_strsplit (raw, "\r\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_cmpuint (strlen (lines[i]), <=, 998);
  back = lb_outgoing_message_new_from_bytes (bytes, NULL);
  g_assert_nonnull (back);
  g_assert_cmpstr (lb_outgoing_message_get_subject (back), ==, subject);
  g_assert_cmpstr (lb_outgoing_message_get_from_name (back), ==, name);
}

/* ids no header line can hold (a reply to a message with such ids) are
 * left out */
static void
test_headers_long_ids (void)
{
  g_autoptr(LbOutgoingMessage) m = lb_outgoing_message_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *word = g_strnfill (3000, 'x');
  g_autofree char *long_id = g_strconcat ("<", word, "@example.test>", NULL);
  g_autofree char *references = g_strconcat ("<first@example.test> ", long_id, " <last@example.test>", NULL);
  g_auto(GStrv) lines = NULL;

  lb_outgoing_message_set_from (m, NULL, "a@example.test");
  lb_outgoing_message_set_to (m, "b@example.test");
  lb_outgoing_message_set_in_reply_to (m, long_id);
  lb_outgoing_message_set_references (m, references);
  g_assert_null (lb_outgoing_message_get_in_reply_to (m));
  bytes = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_SEND);
  raw = bytes_text (bytes);
  lines = g_strsplit (raw, "\r\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_cmpuint (strlen (lines[i]), <=, 998);
  g_assert_nonnull (strstr (raw, "<first@example.test>"));
  g_assert_nonnull (strstr (raw, "<last@example.test>"));
}

static void
test_finalize (void)
{
  LbOutgoingMessage *m = russian_message ();
  g_autoptr(GBytes) bytes = lb_outgoing_message_to_bytes (m, LB_OUTGOING_FORM_DRAFT);

  g_assert_finalize_object (m);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_func ("/outgoing/headers/encoded", test_headers_encoded);
  g_test_add_func ("/outgoing/headers/long-subjects", test_headers_long_subjects);
  g_test_add_func ("/outgoing/bcc", test_bcc);
  g_test_add_func ("/outgoing/stable", test_stable);
  g_test_add_func ("/outgoing/message-id", test_message_id);
  g_test_add_func ("/outgoing/flowed/round-trip", test_flowed_round_trip);
  g_test_add_func ("/outgoing/flowed/encoding", test_flowed_encoding);
  g_test_add_func ("/outgoing/flowed/long-line", test_flowed_long_line);
  g_test_add_func ("/outgoing/body-encoding", test_body_encoding);
  g_test_add_func ("/outgoing/attachments", test_attachments);
  g_test_add_func ("/outgoing/round-trip", test_round_trip);
  g_test_add_func ("/outgoing/reply/threading", test_reply_threading);
  g_test_add_func ("/outgoing/reply/subjects", test_reply_subjects);
  g_test_add_func ("/outgoing/reply/references-trimmed", test_reply_references_trimmed);
  g_test_add_func ("/outgoing/reply/all", test_reply_all);
  g_test_add_func ("/outgoing/forward/attachment", test_forward_attachment);
  g_test_add_func ("/outgoing/forward/inline", test_forward_inline);
  g_test_add_func ("/outgoing/lacks-attachment", test_lacks_attachment);
  g_test_add_func ("/outgoing/check", test_check);
  g_test_add_func ("/outgoing/recipients", test_recipients);
  g_test_add_func ("/outgoing/broken", test_broken);
  g_test_add_func ("/outgoing/header-injection", test_header_injection);
  g_test_add_func ("/outgoing/header-injection/filename", test_header_injection_filename);
  g_test_add_func ("/outgoing/headers/long-word", test_headers_long_word);
  g_test_add_func ("/outgoing/headers/long-ids", test_headers_long_ids);
  g_test_add_func ("/outgoing/finalize", test_finalize);

  return g_test_run ();
}
