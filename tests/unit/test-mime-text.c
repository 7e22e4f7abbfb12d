/* test-mime-text.c: a message as text to read
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "lb-mime-text.h"

static LbMimeText *
parse (const char *message)
{
  g_autoptr(GBytes) raw = g_bytes_new (message, strlen (message));
  g_autoptr(GError) error = NULL;
  LbMimeText *text = lb_mime_text_parse (raw, &error);

  g_assert_no_error (error);
  g_assert_nonnull (text);
  return text;
}

static void
test_plain (void)
{
  g_autoptr(LbMimeText) text =
    parse ("From: =?UTF-8?B?0JDQvdC90LA=?= <anna@example.test>\r\n"
           "To: bob@example.test, Carol <carol@example.test>\r\n"
           "Cc: dave@example.test\r\n"
           "Subject: =?KOI8-R?B?8NLJ18XU?= again\r\n"
           "Date: Tue, 01 Apr 2025 10:00:00 +0200\r\n"
           "Content-Type: text/plain; charset=iso-8859-1\r\n"
           "Content-Transfer-Encoding: quoted-printable\r\n"
           "\r\n"
           "Gr=FC=DFe,\r\n"
           "line two=\r\n"
           " continued\r\n"
           "\r\n"
           "\r\n");

  g_assert_cmpstr (text->from, ==, "Анна <anna@example.test>");
  g_assert_cmpstr (text->to, ==, "bob@example.test, Carol <carol@example.test>");
  g_assert_cmpstr (text->cc, ==, "dave@example.test");
  g_assert_cmpstr (text->subject, ==, "Привет again");
  g_assert_cmpint (text->date, ==, 1743494400);
  g_assert_cmpstr (text->text, ==, "Grüße,\nline two continued");
  g_assert_cmpuint (text->n_attachments, ==, 0);
}

static void
test_alternative (void)
{
  g_autoptr(LbMimeText) text =
    parse ("From: a@example.test\r\n"
           "Subject: alt\r\n"
           "Content-Type: multipart/alternative; boundary=b\r\n"
           "\r\n"
           "--b\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "\r\n"
           "The plain text.\r\n"
           "--b\r\n"
           "Content-Type: text/html; charset=utf-8\r\n"
           "\r\n"
           "<p>The <b>HTML</b> text.</p>\r\n"
           "--b--\r\n");

  /* one alternative, the plain one */
  g_assert_cmpstr (text->text, ==, "The plain text.");
}

static void
test_html_only (void)
{
  g_autoptr(LbMimeText) text =
    parse ("From: a@example.test\r\n"
           "Subject: html\r\n"
           "Content-Type: multipart/alternative; boundary=b\r\n"
           "\r\n"
           "--b\r\n"
           "Content-Type: text/plain\r\n"
           "\r\n"
           "  \r\n"
           "--b\r\n"
           "Content-Type: text/html; charset=utf-8\r\n"
           "\r\n"
           "<html><head><style>p { color: red }</style></head>"
           "<body><p>First &amp; foremost</p><p>Second</p><script>alert(1)</script></body></html>\r\n"
           "--b--\r\n");

  g_assert_cmpstr (text->text, ==, "First & foremost\nSecond");
}

static void
test_mixed (void)
{
  g_autoptr(LbMimeText) text =
    parse ("From: a@example.test\r\n"
           "Subject: mixed\r\n"
           "Content-Type: multipart/mixed; boundary=m\r\n"
           "\r\n"
           "--m\r\n"
           "Content-Type: text/plain\r\n"
           "\r\n"
           "See the attached files.\r\n"
           "--m\r\n"
           "Content-Type: application/pdf; name=report.pdf\r\n"
           "Content-Disposition: attachment; filename=report.pdf\r\n"
           "Content-Transfer-Encoding: base64\r\n"
           "\r\n"
           "JVBERi0xLjQK\r\n"
           "--m\r\n"
           "Content-Type: message/rfc822\r\n"
           "\r\n"
           "From: b@example.test\r\n"
           "Subject: forwarded\r\n"
           "\r\n"
           "Not shown.\r\n"
           "--m\r\n"
           "Content-Type: text/plain\r\n"
           "\r\n"
           "And a footer.\r\n"
           "--m--\r\n");

  g_assert_cmpstr (text->text, ==, "See the attached files.\n\nAnd a footer.");
  g_assert_cmpuint (text->n_attachments, ==, 2);
  g_assert_null (strstr (text->text, "Not shown"));
}

static void
test_not_a_message (void)
{
  g_autoptr(GBytes) raw = g_bytes_new_static ("  \r\n", 4);
  g_autoptr(GError) error = NULL;
  LbMimeText *text = lb_mime_text_parse (raw, &error);

  g_assert_null (text);
  g_assert_nonnull (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_func ("/mime-text/plain", test_plain);
  g_test_add_func ("/mime-text/alternative", test_alternative);
  g_test_add_func ("/mime-text/html-only", test_html_only);
  g_test_add_func ("/mime-text/mixed", test_mixed);
  g_test_add_func ("/mime-text/not-a-message", test_not_a_message);

  return g_test_run ();
}
