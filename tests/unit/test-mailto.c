/* test-mailto.c: reading mailto: links (RFC 6068)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <gio/gio.h>

#include "lb-mailto.h"

static void
test_simple (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbMailto) mailto = lb_mailto_parse ("mailto:bob@example.test", &error);

  g_assert_no_error (error);
  g_assert_nonnull (mailto);
  g_assert_cmpstr (mailto->to, ==, "bob@example.test");
  g_assert_null (mailto->cc);
  g_assert_null (mailto->bcc);
  g_assert_null (mailto->subject);
  g_assert_null (mailto->body);
}

static void
test_fields (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbMailto) mailto =
    lb_mailto_parse ("mailto:a@example.test,b@example.test?subject=Hello%20there%21"
                     "&CC=c@example.test&bcc=d@example.test,%20e@example.test"
                     "&body=Line%201%0D%0ALine+2%0D%0A&to=f@example.test"
                     "&in-reply-to=%3C1234@example.test%3E&from=evil@example.test", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (mailto->to, ==, "a@example.test, b@example.test, f@example.test");
  g_assert_cmpstr (mailto->cc, ==, "c@example.test");
  g_assert_cmpstr (mailto->bcc, ==, "d@example.test, e@example.test");
  g_assert_cmpstr (mailto->subject, ==, "Hello there!");
  /* "+" is not a space in mailto: */
  g_assert_cmpstr (mailto->body, ==, "Line 1\nLine+2\n");
  g_assert_cmpstr (mailto->in_reply_to, ==, "1234@example.test");
}

static void
test_utf8 (void)
{
  g_autoptr(GError) error = NULL;
  /* RFC 6068 section 6.2: percent-encoded UTF-8 */
  g_autoptr(LbMailto) mailto =
    lb_mailto_parse ("mailto:user@example.test?subject=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82"
                     "&body=caf%C3%A9%FF", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (mailto->subject, ==, "Привет");
  /* a byte that is not UTF-8 is replaced, not kept */
  g_assert_true (g_utf8_validate (mailto->body, -1, NULL));
  g_assert_true (g_str_has_prefix (mailto->body, "café"));
}

static void
test_no_path (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbMailto) mailto = lb_mailto_parse ("MAILTO:?to=x@example.test&subject=a%0D%0Ab#frag", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (mailto->to, ==, "x@example.test");
  /* a line break in the subject would start a header of its own */
  g_assert_cmpstr (mailto->subject, ==, "a  b");
}

static void
test_bad_escape (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbMailto) mailto = lb_mailto_parse ("mailto:x@example.test?subject=100%&body=%4", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (mailto->subject, ==, "100%");
  g_assert_cmpstr (mailto->body, ==, "%4");
}

static void
test_not_mailto (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbMailto) mailto = lb_mailto_parse ("https://example.test/", &error);

  g_assert_null (mailto);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mailto/simple", test_simple);
  g_test_add_func ("/mailto/fields", test_fields);
  g_test_add_func ("/mailto/utf8", test_utf8);
  g_test_add_func ("/mailto/no-path", test_no_path);
  g_test_add_func ("/mailto/bad-escape", test_bad_escape);
  g_test_add_func ("/mailto/not-mailto", test_not_mailto);

  return g_test_run ();
}
