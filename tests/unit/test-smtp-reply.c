/* test-smtp-reply.c: the SMTP reply framer and EHLO keywords
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each construct is fed whole, in pieces of every size from 1 to 7 and
 * byte by byte, and must give the same replies.
 */

#include "config.h"

#include <string.h>

#include "lb-smtp-reply.h"

/* the replies in @data as text ("250 5.0.0 [a|b]" per reply, lines
 * joined by "|"), or "ERROR n" at the first error; fed in pieces of @step
 * (0: whole) */
static char *
frame (const char *data,
       gsize       len,
       gsize       step,
       gboolean    finish)
{
  g_autoptr(LbSmtpReplyParser) parser = lb_smtp_reply_parser_new ();
  g_autoptr(GString) out = g_string_new (NULL);
  gsize offset = 0;

  if (step == 0)
    step = MAX (len, 1);
  while (offset < len)
    {
      gsize n = MIN (step, len - offset);
      LbSmtpReply *reply;
      g_autoptr(GError) error = NULL;

      lb_smtp_reply_parser_feed (parser, (const guint8 *) data + offset, n);
      offset += n;
      while ((reply = lb_smtp_reply_parser_next (parser, &error)) != NULL)
        {
          g_autofree char *lines = g_strjoinv ("|", reply->lines);

          g_string_append_printf (out, "%u", reply->code);
          if (lb_smtp_reply_has_enhanced (reply))
            g_string_append_printf (out, " %u.%u.%u", reply->enhanced[0], reply->enhanced[1],
                                    reply->enhanced[2]);
          g_string_append_printf (out, " [%s]\n", lines);
          lb_smtp_reply_free (reply);
        }
      if (error != NULL)
        {
          g_string_append_printf (out, "ERROR %d\n", error->code);
          return g_string_free (g_steal_pointer (&out), FALSE);
        }
    }
  if (finish)
    {
      g_autoptr(GError) error = NULL;

      if (!lb_smtp_reply_parser_finish (parser, &error))
        g_string_append_printf (out, "ERROR %d\n", error->code);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
assert_frames (const char *data,
               gsize       len,
               const char *expected)
{
  g_autofree char *whole = frame (data, len, 0, TRUE);

  g_assert_cmpstr (whole, ==, expected);
  for (gsize step = 1; step <= 7; step++)
    {
      g_autofree char *pieces = frame (data, len, step, TRUE);

      g_assert_cmpstr (pieces, ==, expected);
    }
}

#define ASSERT_FRAMES(data, expected) assert_frames ((data), sizeof (data) - 1, (expected))

static void
test_single (void)
{
  ASSERT_FRAMES ("220 mail.example.test ESMTP ready\r\n", "220 [mail.example.test ESMTP ready]\n");
  /* no text at all, and a lone LF */
  ASSERT_FRAMES ("250\n", "250 []\n");
  ASSERT_FRAMES ("354 \r\n", "354 []\n");
  /* several replies in one read */
  ASSERT_FRAMES ("250 OK\r\n550 No\r\n221 Bye\r\n", "250 [OK]\n550 [No]\n221 [Bye]\n");
}

static void
test_multiline (void)
{
  ASSERT_FRAMES ("250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n",
                 "250 [mail.example.test|PIPELINING|SIZE 1000|8BITMIME]\n");
  /* empty continuation lines */
  ASSERT_FRAMES ("220-\r\n220-\r\n220 hello\r\n", "220 [||hello]\n");
  /* a code that changes inside a reply */
  ASSERT_FRAMES ("250-a\r\n251 b\r\n", "ERROR 0\n");
}

static void
test_enhanced (void)
{
  ASSERT_FRAMES ("550 5.1.1 <bob@nowhere.test>: User unknown\r\n",
                 "550 5.1.1 [<bob@nowhere.test>: User unknown]\n");
  /* on each line, stripped where it repeats */
  ASSERT_FRAMES ("452-4.2.2 Mailbox full\r\n452 4.2.2 try later\r\n", "452 4.2.2 [Mailbox full|try later]\n");
  /* a class that is not the code's is text */
  ASSERT_FRAMES ("250 5.0.0 odd\r\n", "250 [5.0.0 odd]\n");
  /* three digits for subject and detail, no more */
  ASSERT_FRAMES ("550 5.123.456 x\r\n", "550 5.123.456 [x]\n");
  ASSERT_FRAMES ("550 5.1234.1 x\r\n", "550 [5.1234.1 x]\n");
  ASSERT_FRAMES ("250 2.0.0\r\n", "250 2.0.0 []\n");
  ASSERT_FRAMES ("250 2.0.0Ok\r\n", "250 [2.0.0Ok]\n");
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(LbSmtpReply) reply = lb_smtp_reply_parse ("550-5.1.1 a\r\n550 5.1.1 b", 24, &error);
    g_autofree char *text = NULL;

    g_assert_no_error (error);
    text = lb_smtp_reply_to_string (reply);
    g_assert_cmpstr (text, ==, "550 5.1.1 a b");
    g_assert_cmpuint (lb_smtp_reply_get_class (reply), ==, 5);
  }
}

static void
test_text_utf8 (void)
{
  /* bad UTF-8 and control characters become U+FFFD; UTF-8 stays */
  ASSERT_FRAMES ("250 caf\xc3\xa9 \xff ok\x07\r\n", "250 [caf\xc3\xa9 \xef\xbf\xbd ok\xef\xbf\xbd]\n");
  ASSERT_FRAMES ("250 a\0b\r\n", "250 [a\xef\xbf\xbd" "b]\n");
  /* a CR inside a line is a control character too */
  ASSERT_FRAMES ("250 a\rb\r\n", "250 [a\xef\xbf\xbd" "b]\n");
}

static void
test_malformed (void)
{
  ASSERT_FRAMES ("hello\r\n", "ERROR 0\n");
  ASSERT_FRAMES ("25\r\n", "ERROR 0\n");
  ASSERT_FRAMES ("650 x\r\n", "ERROR 0\n");
  ASSERT_FRAMES ("150 x\r\n", "ERROR 0\n");
  ASSERT_FRAMES ("250x\r\n", "ERROR 0\n");
  ASSERT_FRAMES ("2a0 x\r\n", "ERROR 0\n");
  /* the parser stays in error */
  {
    g_autoptr(LbSmtpReplyParser) parser = lb_smtp_reply_parser_new ();
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) again = NULL;

    lb_smtp_reply_parser_feed (parser, (const guint8 *) "xyz\r\n250 ok\r\n", 13);
    g_assert_null (lb_smtp_reply_parser_next (parser, &error));
    g_assert_error (error, LB_SMTP_ERROR, LB_SMTP_ERROR_MALFORMED);
    g_assert_null (lb_smtp_reply_parser_next (parser, &again));
    g_assert_error (again, LB_SMTP_ERROR, LB_SMTP_ERROR_MALFORMED);
  }
}

static void
test_cut (void)
{
  ASSERT_FRAMES ("250-a\r\n", "ERROR 2\n");
  ASSERT_FRAMES ("250 a", "ERROR 2\n");
  ASSERT_FRAMES ("250 a\r\n250-b", "250 [a]\nERROR 2\n");
  {
    g_autoptr(LbSmtpReplyParser) parser = lb_smtp_reply_parser_new ();
    g_autoptr(LbSmtpReply) reply = NULL;

    lb_smtp_reply_parser_feed (parser, (const guint8 *) "220 go\r\nxx", 10);
    reply = lb_smtp_reply_parser_next (parser, NULL);
    g_assert_nonnull (reply);
    /* what came after the reply is pending: STARTTLS refuses it */
    g_assert_cmpuint (lb_smtp_reply_parser_get_pending (parser), ==, 2);
  }
}

static void
test_limits (void)
{
  g_autoptr(GString) line = g_string_new ("250 ");
  g_autoptr(GString) many = g_string_new (NULL);
  g_autofree char *framed = NULL;

  /* a line of exactly the limit (its CRLF included) passes */
  while (line->len < LB_SMTP_MAX_LINE - 2)
    g_string_append_c (line, 'x');
  g_string_append (line, "\r\n");
  framed = frame (line->str, line->len, 0, TRUE);
  g_assert_true (g_str_has_prefix (framed, "250 [xxx"));
  g_clear_pointer (&framed, g_free);

  /* one more byte does not, whole or in pieces, with or without its LF */
  g_string_insert_c (line, 4, 'y');
  assert_frames (line->str, line->len, "ERROR 1\n");
  g_string_truncate (line, line->len - 2);
  g_string_append (line, "zz");
  assert_frames (line->str, line->len, "ERROR 1\n");

  for (guint i = 0; i < LB_SMTP_MAX_LINES - 1; i++)
    g_string_append (many, "250-x\r\n");
  g_string_append (many, "250 x\r\n");
  framed = frame (many->str, many->len, 0, TRUE);
  g_assert_true (g_str_has_prefix (framed, "250 [x|x"));
  g_clear_pointer (&framed, g_free);

  g_string_prepend (many, "250-x\r\n");
  framed = frame (many->str, many->len, 0, TRUE);
  g_assert_cmpstr (framed, ==, "ERROR 1\n");
  g_clear_pointer (&framed, g_free);
  framed = frame (many->str, many->len, 3, TRUE);
  g_assert_cmpstr (framed, ==, "ERROR 1\n");
}

static LbSmtpExtensions *
parse_ehlo (const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbSmtpReply) reply = lb_smtp_reply_parse (text, strlen (text), &error);

  g_assert_no_error (error);
  return lb_smtp_extensions_parse (reply);
}

static void
test_ehlo (void)
{
  g_autoptr(LbSmtpExtensions) postfix = NULL;
  g_autoptr(LbSmtpExtensions) legacy = NULL;
  g_autoptr(LbSmtpExtensions) bare = NULL;
  g_autoptr(LbSmtpExtensions) odd = NULL;
  const char *plain_login[] = { "PLAIN", "LOGIN", NULL };
  const char *login_plain_cram[] = { "LOGIN", "PLAIN", "CRAM-MD5", NULL };
  const char *none[] = { NULL };

  postfix = parse_ehlo ("250-mail.example.test\r\n"
                        "250-PIPELINING\r\n"
                        "250-SIZE 10240000\r\n"
                        "250-VRFY\r\n"
                        "250-ETRN\r\n"
                        "250-STARTTLS\r\n"
                        "250-AUTH PLAIN LOGIN\r\n"
                        "250-ENHANCEDSTATUSCODES\r\n"
                        "250-8BITMIME\r\n"
                        "250-DSN\r\n"
                        "250-SMTPUTF8\r\n"
                        "250 CHUNKING\r\n");
  g_assert_cmpuint (postfix->flags, ==,
                    LB_SMTP_EXTENSION_PIPELINING | LB_SMTP_EXTENSION_SIZE | LB_SMTP_EXTENSION_STARTTLS |
                    LB_SMTP_EXTENSION_AUTH | LB_SMTP_EXTENSION_ENHANCEDSTATUSCODES |
                    LB_SMTP_EXTENSION_8BITMIME | LB_SMTP_EXTENSION_DSN | LB_SMTP_EXTENSION_SMTPUTF8);
  g_assert_cmpuint (postfix->size_limit, ==, 10240000);
  g_assert_cmpstrv (postfix->auth_mechanisms, plain_login);
  g_assert_true (lb_smtp_extensions_has_auth (postfix, "LOGIN"));
  g_assert_false (lb_smtp_extensions_has_auth (postfix, "XOAUTH2"));

  /* the old "AUTH=" form, lower case, repeated mechanisms, SIZE without
   * a number, blanks repeated */
  legacy = parse_ehlo ("250-old.example.test Hello\r\n"
                       "250-auth=login plain\r\n"
                       "250-AUTH  LOGIN   PLAIN CRAM-MD5 \r\n"
                       "250-size\r\n"
                       "250 pipelining\r\n");
  g_assert_cmpuint (legacy->flags, ==,
                    LB_SMTP_EXTENSION_AUTH | LB_SMTP_EXTENSION_SIZE | LB_SMTP_EXTENSION_PIPELINING);
  g_assert_cmpuint (legacy->size_limit, ==, 0);
  g_assert_cmpstrv (legacy->auth_mechanisms, login_plain_cram);

  /* a one-line reply: nothing offered; the greeting line is no keyword */
  bare = parse_ehlo ("250 STARTTLS\r\n");
  g_assert_cmpuint (bare->flags, ==, 0);
  g_assert_cmpstrv (bare->auth_mechanisms, none);

  /* junk lines are skipped, a SIZE that is not a number is no limit */
  odd = parse_ehlo ("250-x\r\n250-\xff\xfe\r\n250-SIZE lots\r\n250-=AUTH\r\n250 DSN\r\n");
  g_assert_cmpuint (odd->flags, ==, LB_SMTP_EXTENSION_SIZE | LB_SMTP_EXTENSION_DSN);
  g_assert_cmpuint (odd->size_limit, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smtp-reply/single", test_single);
  g_test_add_func ("/smtp-reply/multiline", test_multiline);
  g_test_add_func ("/smtp-reply/enhanced", test_enhanced);
  g_test_add_func ("/smtp-reply/text-utf8", test_text_utf8);
  g_test_add_func ("/smtp-reply/malformed", test_malformed);
  g_test_add_func ("/smtp-reply/cut", test_cut);
  g_test_add_func ("/smtp-reply/limits", test_limits);
  g_test_add_func ("/smtp-reply/ehlo", test_ehlo);

  return g_test_run ();
}
