/* test-pop3-parser.c: POP3 status lines, argument helpers and the framer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "lb-pop3-framer.h"
#include "lb-pop3-reply.h"

/* helpers */

static LbPop3Reply *
parse (const char *line)
{
  g_autoptr(GError) error = NULL;
  LbPop3Reply *reply = lb_pop3_reply_parse (line, strlen (line), &error);

  if (reply == NULL)
    g_error ("cannot parse %s: %s", line, error->message);
  g_assert_no_error (error);
  return reply;
}

static char *
dump_reply (const char *line)
{
  g_autoptr(LbPop3Reply) reply = parse (line);

  return lb_pop3_reply_to_string (reply);
}

static void
assert_reply (const char *line,
              const char *expected)
{
  g_autofree char *text = dump_reply (line);

  g_assert_cmpstr (text, ==, expected);
}

static void
assert_reply_fails (const char *line,
                    gsize       len)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbPop3Reply) reply = lb_pop3_reply_parse (line, len, &error);

  g_assert_null (reply);
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "malformed reply"));
}

/* Runs the framer over @input with one expectation per entry of
 * @expects, fed in pieces of @step bytes (0: whole, -1: random sizes),
 * and returns what it yields as text:
 *   S <reply>       a status line (with " +" when data follows)
 *   L <line>        a listing line
 *   D <data>        the message data of a reply, chunks joined
 *   E               the end of a multi-line reply
 *   X <code> <msg>  an error, last (also from lb_pop3_framer_finish())
 * Asserts on the framer's promises on the way: chunks within max_chunk,
 * lines NUL-terminated, pointers that stay put until the next call. */
static char *
run_framer (const char         *input,
            gsize               len,
            const LbPop3Expect *expects,
            guint               n_expects,
            gsize               max_chunk,
            gssize              step)
{
  g_autoptr(LbPop3Framer) framer = lb_pop3_framer_new (256, 128, max_chunk);
  GString *out = g_string_new (NULL);
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  gsize pos = 0;
  guint next_expect = 0;
  LbPop3Expect current = LB_POP3_EXPECT_SINGLE;
  gsize limit = max_chunk > 0 ? MAX (max_chunk, 16) : LB_POP3_MAX_CHUNK_DEFAULT;

  for (guint i = 0; i < n_expects; i++)
    lb_pop3_framer_expect (framer, expects[i]);
  g_assert_cmpuint (lb_pop3_framer_get_pending (framer), ==, n_expects);

  while (error == NULL)
    {
      gsize n = len - pos;
      gboolean done = FALSE;

      if (step > 0)
        n = MIN (n, (gsize) step);
      else if (step < 0)
        {
          gsize piece = (gsize) g_test_rand_int_range (1, 200);

          n = MIN (n, piece);
        }
      lb_pop3_framer_feed (framer, (const guint8 *) input + pos, n);
      pos += n;

      while (!done)
        {
          LbPop3Event event;

          if (!lb_pop3_framer_next (framer, &event, &error))
            break;
          switch (event.kind)
            {
            case LB_POP3_EVENT_NONE:
              done = TRUE;
              break;
            case LB_POP3_EVENT_STATUS:
              {
                g_autofree char *text = lb_pop3_reply_to_string (event.reply);

                g_string_append_printf (out, "S %s%s\n", text, event.data_follows ? " +" : "");
                if (event.reply->kind != LB_POP3_REPLY_CONTINUATION)
                  {
                    g_assert_cmpuint (next_expect, <, n_expects);
                    current = expects[next_expect++];
                  }
                if (!event.data_follows)
                  current = LB_POP3_EXPECT_SINGLE;
              }
              break;
            case LB_POP3_EVENT_DATA:
              g_assert_nonnull (event.data);
              if (current == LB_POP3_EXPECT_LINES)
                {
                  g_autofree char *line = lb_pop3_escape (event.data, event.len);

                  g_assert_cmpint (event.data[event.len], ==, '\0');
                  g_string_append_printf (out, "L %s\n", line);
                }
              else
                {
                  g_assert_cmpint (current, ==, LB_POP3_EXPECT_DATA);
                  g_assert_cmpuint (event.len, >, 0);
                  g_assert_cmpuint (event.len, <=, limit);
                  g_byte_array_append (data, event.data, (guint) event.len);
                }
              break;
            case LB_POP3_EVENT_END:
              g_assert_cmpint (current, !=, LB_POP3_EXPECT_SINGLE);
              if (current == LB_POP3_EXPECT_DATA)
                {
                  g_autofree char *text = lb_pop3_escape (data->data, data->len);

                  g_string_append_printf (out, "D %s\n", text);
                  g_byte_array_set_size (data, 0);
                }
              g_string_append (out, "E\n");
              current = LB_POP3_EXPECT_SINGLE;
              break;
            default:
              g_assert_not_reached ();
            }
        }
      if (error == NULL && pos == len)
        {
          lb_pop3_framer_finish (framer, &error);
          break;
        }
    }
  if (error != NULL)
    {
      g_assert_true (error->domain == LB_POP3_ERROR);
      g_string_append_printf (out, "X %d %s\n", error->code, error->message);
    }
  return g_string_free (out, FALSE);
}

/* the same text whatever the pieces and the chunk size */
static char *
run_all_ways (const char         *input,
              gsize               len,
              const LbPop3Expect *expects,
              guint               n_expects)
{
  char *whole = run_framer (input, len, expects, n_expects, 0, 0);
  const gsize chunks[] = { 16, 17, 64, 1000, 0 };

  for (guint c = 0; c < G_N_ELEMENTS (chunks); c++)
    {
      g_autofree char *bytes = run_framer (input, len, expects, n_expects, chunks[c], 1);
      g_autofree char *twos = run_framer (input, len, expects, n_expects, chunks[c], 2);

      g_assert_cmpstr (bytes, ==, whole);
      g_assert_cmpstr (twos, ==, whole);
      for (guint i = 0; i < 5; i++)
        {
          g_autofree char *random = run_framer (input, len, expects, n_expects, chunks[c], -1);

          g_assert_cmpstr (random, ==, whole);
        }
    }
  return whole;
}

/* status lines */

static void
test_reply_kinds (void)
{
  g_autoptr(LbPop3Reply) ok = parse ("+OK Dovecot ready.\r\n");
  g_autoptr(LbPop3Reply) err = parse ("-ERR Unknown command\r\n");
  g_autoptr(LbPop3Reply) cont = parse ("+ dGVzdA==\r\n");
  g_autoptr(LbPop3Reply) empty_cont = parse ("+\r\n");

  g_assert_cmpint (ok->kind, ==, LB_POP3_REPLY_OK);
  g_assert_cmpint (ok->code, ==, LB_POP3_CODE_NONE);
  g_assert_null (ok->code_text);
  g_assert_cmpstr (ok->text, ==, "Dovecot ready.");
  g_assert_cmpint (err->kind, ==, LB_POP3_REPLY_ERR);
  g_assert_cmpstr (err->text, ==, "Unknown command");
  g_assert_cmpint (cont->kind, ==, LB_POP3_REPLY_CONTINUATION);
  g_assert_cmpstr (cont->text, ==, "dGVzdA==");
  g_assert_cmpint (empty_cont->kind, ==, LB_POP3_REPLY_CONTINUATION);
  g_assert_cmpstr (empty_cont->text, ==, "");

  /* line ends: CRLF, LF, none */
  assert_reply ("+OK\r\n", "+OK \"\"");
  assert_reply ("+OK\n", "+OK \"\"");
  assert_reply ("+OK", "+OK \"\"");
  assert_reply ("+OK \r\n", "+OK \"\"");
  assert_reply ("+ \r\n", "+ \"\"");
  /* quirks: case, punctuation after the indicator, extra blanks */
  assert_reply ("+ok hello", "+OK \"hello\"");
  assert_reply ("-err nope", "-ERR \"nope\"");
  assert_reply ("+OK. fine", "+OK \"fine\"");
  assert_reply ("-ERR: no", "-ERR \"no\"");
  assert_reply ("+OK \t  spaced  ", "+OK \"spaced  \"");
  assert_reply ("+ OK", "+ \"OK\"");

  assert_reply_fails ("", 0);
  assert_reply_fails ("\r\n", 2);
  assert_reply_fails ("+OKAY", 5);
  assert_reply_fails ("-ERROR bad", 10);
  assert_reply_fails ("+x", 2);
  assert_reply_fails ("OK", 2);
  assert_reply_fails ("* OK IMAP4rev1", 14);
  assert_reply_fails ("220 smtp.example.test ESMTP", 27);
  assert_reply_fails ("\0+OK", 4);
}

static void
test_reply_codes (void)
{
  const struct
  {
    const char *line;
    LbPop3Code  code;
    const char *code_text;
    const char *text;
  } cases[] = {
    { "-ERR [IN-USE] Mailbox locked", LB_POP3_CODE_IN_USE, "IN-USE", "Mailbox locked" },
    { "-ERR [LOGIN-DELAY] wait", LB_POP3_CODE_LOGIN_DELAY, "LOGIN-DELAY", "wait" },
    { "-ERR [SYS/TEMP] later", LB_POP3_CODE_SYS_TEMP, "SYS/TEMP", "later" },
    { "-ERR [SYS/PERM] never", LB_POP3_CODE_SYS_PERM, "SYS/PERM", "never" },
    { "-ERR [SYS/TEMP/DISK-FULL] later", LB_POP3_CODE_SYS_TEMP, "SYS/TEMP/DISK-FULL", "later" },
    { "-ERR [SYS] what", LB_POP3_CODE_OTHER, "SYS", "what" },
    { "-ERR [SYS/OTHER] what", LB_POP3_CODE_OTHER, "SYS/OTHER", "what" },
    { "-ERR [AUTH] Authentication failed.", LB_POP3_CODE_AUTH, "AUTH", "Authentication failed." },
    { "-ERR [AUTH/EXPIRED] Password expired", LB_POP3_CODE_AUTH, "AUTH/EXPIRED", "Password expired" },
    { "-ERR [UTF8] need UTF8", LB_POP3_CODE_UTF8, "UTF8", "need UTF8" },
    { "-ERR [in-use] lower case", LB_POP3_CODE_IN_USE, "in-use", "lower case" },
    { "-ERR [X-VENDOR/THING] odd", LB_POP3_CODE_OTHER, "X-VENDOR/THING", "odd" },
    { "-ERR [IN-USE]", LB_POP3_CODE_IN_USE, "IN-USE", "" },
    { "-ERR [IN-USE]text", LB_POP3_CODE_IN_USE, "IN-USE", "text" },
    { "+OK[IN-USE] glued", LB_POP3_CODE_IN_USE, "IN-USE", "glued" },
    { "+OK [UTF8] done", LB_POP3_CODE_UTF8, "UTF8", "done" },
    /* not codes: left in the text */
    { "-ERR [IN-USE broken", LB_POP3_CODE_NONE, NULL, "[IN-USE broken" },
    { "-ERR [] empty", LB_POP3_CODE_NONE, NULL, "[] empty" },
    { "-ERR [IN USE] spaced", LB_POP3_CODE_NONE, NULL, "[IN USE] spaced" },
    { "-ERR [A[B]] nested", LB_POP3_CODE_NONE, NULL, "[A[B]] nested" },
    { "-ERR text [IN-USE]", LB_POP3_CODE_NONE, NULL, "text [IN-USE]" },
    { "+ [IN-USE]", LB_POP3_CODE_NONE, NULL, "[IN-USE]" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LbPop3Reply) reply = parse (cases[i].line);

      g_test_message ("%s", cases[i].line);
      g_assert_cmpint (reply->code, ==, cases[i].code);
      g_assert_cmpstr (reply->code_text, ==, cases[i].code_text);
      g_assert_cmpstr (reply->text, ==, cases[i].text);
    }
  assert_reply ("-ERR [SYS/TEMP] try later", "-ERR [SYS/TEMP] \"try later\"");
}

static void
test_reply_text (void)
{
  static const char nul_line[] = "+OK a\0b";
  g_autoptr(GError) error = NULL;
  g_autoptr(LbPop3Reply) nul = lb_pop3_reply_parse (nul_line, sizeof nul_line - 1, &error);
  g_autoptr(LbPop3Reply) latin1 = parse ("-ERR caf\xe9 \xff");
  g_autoptr(LbPop3Reply) utf8 = parse ("+OK Привет, мир");
  g_autoptr(LbPop3Reply) controls = parse ("+OK a\x01" "b\tc\x7f" "d\x1b[31m");
  g_autoptr(LbPop3Reply) copy = NULL;
  g_autofree char *printed = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (nul->text, ==, "a\xef\xbf\xbd" "b");
  g_assert_cmpstr (latin1->text, ==, "caf\xef\xbf\xbd \xef\xbf\xbd");
  g_assert_cmpstr (utf8->text, ==, "Привет, мир");
  g_assert_cmpstr (controls->text, ==, "a\xef\xbf\xbd" "b\tc\xef\xbf\xbd" "d\xef\xbf\xbd[31m");
  g_assert_true (g_utf8_validate (controls->text, -1, NULL));

  copy = lb_pop3_reply_copy (latin1);
  g_assert_true (copy != latin1);
  g_assert_true (copy->text != latin1->text);
  g_assert_cmpstr (copy->text, ==, latin1->text);
  g_assert_cmpint (copy->kind, ==, LB_POP3_REPLY_ERR);

  printed = lb_pop3_reply_to_string (utf8);
  g_assert_cmpstr (printed, ==, "+OK \"\\xd0\\x9f\\xd1\\x80\\xd0\\xb8\\xd0\\xb2\\xd0\\xb5\\xd1\\x82, "
                   "\\xd0\\xbc\\xd0\\xb8\\xd1\\x80\"");
  assert_reply ("+OK say \"hi\" \\o/", "+OK \"say \\\"hi\\\" \\\\o/\"");

  /* a long line is quoted only in part in the error */
  {
    g_autofree char *junk = g_strnfill (500, 'z');
    g_autoptr(LbPop3Reply) none = lb_pop3_reply_parse (junk, 500, &error);

    g_assert_null (none);
    g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_MALFORMED);
    g_assert_cmpuint (strlen (error->message), <, 200);
  }
}

/* argument lines */

static void
test_stat (void)
{
  guint count = 99;
  guint64 size = 99;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbPop3Reply) reply = parse ("+OK 2 320");

  g_assert_true (lb_pop3_parse_stat (reply->text, -1, &count, &size, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 2);
  g_assert_cmpuint (size, ==, 320);

  g_assert_true (lb_pop3_parse_stat ("0 0", -1, &count, &size, NULL));
  g_assert_cmpuint (count, ==, 0);
  g_assert_cmpuint (size, ==, 0);
  g_assert_true (lb_pop3_parse_stat ("100000 18446744073709551615 messages", -1, &count, &size, NULL));
  g_assert_cmpuint (count, ==, 100000);
  g_assert_cmpuint (size, ==, G_MAXUINT64);
  g_assert_true (lb_pop3_parse_stat ("  4\t\t5  ", -1, &count, &size, NULL));
  g_assert_cmpuint (count, ==, 4);
  g_assert_cmpuint (size, ==, 5);
  g_assert_true (lb_pop3_parse_stat ("7 8 and more", 3, &count, &size, NULL));
  g_assert_cmpuint (size, ==, 8);

  {
    const char *bad[] = { "", "2", "2 ", "x 2", "2 x", "2 3x", "-1 2", "2 -3", "4294967296 1",
                          "1 18446744073709551616", "2,320", "+2 3" };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(GError) bad_error = NULL;

        g_test_message ("%s", bad[i]);
        g_assert_false (lb_pop3_parse_stat (bad[i], -1, &count, &size, &bad_error));
        g_assert_error (bad_error, LB_POP3_ERROR, LB_POP3_ERROR_MALFORMED);
        g_assert_nonnull (strstr (bad_error->message, bad[i]));
      }
  }
  /* a NUL inside the given length is not a digit */
  g_assert_false (lb_pop3_parse_stat ("1 2\0003", 5, &count, &size, NULL));
}

static void
test_list_line (void)
{
  guint msg = 0;
  guint64 size = 0;
  g_autoptr(GError) error = NULL;

  g_assert_true (lb_pop3_parse_list_line ("1 120", -1, &msg, &size, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg, ==, 1);
  g_assert_cmpuint (size, ==, 120);
  g_assert_true (lb_pop3_parse_list_line ("4294967295 5000000000 extra", -1, &msg, &size, NULL));
  g_assert_cmpuint (msg, ==, G_MAXUINT);
  g_assert_cmpuint (size, ==, G_GUINT64_CONSTANT (5000000000));
  g_assert_true (lb_pop3_parse_list_line ("3\t7\t", -1, &msg, &size, NULL));
  g_assert_cmpuint (msg, ==, 3);
  g_assert_cmpuint (size, ==, 7);
  g_assert_true (lb_pop3_parse_list_line ("3 7", -1, NULL, NULL, NULL));

  g_assert_false (lb_pop3_parse_list_line ("0 7", -1, &msg, &size, &error));
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_false (lb_pop3_parse_list_line ("1", -1, &msg, &size, NULL));
  g_assert_false (lb_pop3_parse_list_line ("1 x", -1, &msg, &size, NULL));
  g_assert_false (lb_pop3_parse_list_line ("", -1, &msg, &size, NULL));
  g_assert_false (lb_pop3_parse_list_line ("1 2", 2, &msg, &size, NULL));
}

static void
test_uidl_line (void)
{
  guint msg = 0;
  g_autofree char *uid = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *rfc_max = g_strnfill (70, 'u');
  g_autofree char *max = g_strnfill (LB_POP3_MAX_UID, '!');
  g_autofree char *over = g_strnfill (LB_POP3_MAX_UID + 1, '~');
  g_autofree char *line = NULL;

  g_assert_true (lb_pop3_parse_uidl_line ("1 whqtswO00WBw418f9t5JxYwZ", -1, &msg, &uid, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg, ==, 1);
  g_assert_cmpstr (uid, ==, "whqtswO00WBw418f9t5JxYwZ");
  g_clear_pointer (&uid, g_free);

  /* blanks around, qmail's punctuation, Dovecot's hex */
  g_assert_true (lb_pop3_parse_uidl_line ("  12\t 1700000000.2301.host,S=120 \t", -1, &msg, &uid, NULL));
  g_assert_cmpuint (msg, ==, 12);
  g_assert_cmpstr (uid, ==, "1700000000.2301.host,S=120");
  g_clear_pointer (&uid, g_free);

  /* RFC 1939's 70 characters, and longer ones up to the bound */
  line = g_strdup_printf ("2 %s", rfc_max);
  g_assert_true (lb_pop3_parse_uidl_line (line, -1, &msg, &uid, NULL));
  g_assert_cmpstr (uid, ==, rfc_max);
  g_clear_pointer (&uid, g_free);
  g_clear_pointer (&line, g_free);
  line = g_strdup_printf ("3 %s", max);
  g_assert_true (lb_pop3_parse_uidl_line (line, -1, &msg, &uid, NULL));
  g_assert_cmpstr (uid, ==, max);
  g_clear_pointer (&uid, g_free);
  g_clear_pointer (&line, g_free);
  line = g_strdup_printf ("4 %s", over);
  g_assert_false (lb_pop3_parse_uidl_line (line, -1, &msg, &uid, &error));
  g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_TOO_LONG);
  g_assert_null (uid);
  g_clear_error (&error);

  /* the single-message form, from a reply's text */
  {
    g_autoptr(LbPop3Reply) reply = parse ("+OK 2 QhdPYR:00WBw1Ph7x7");

    g_assert_true (lb_pop3_parse_uidl_line (reply->text, -1, &msg, &uid, NULL));
    g_assert_cmpuint (msg, ==, 2);
    g_assert_cmpstr (uid, ==, "QhdPYR:00WBw1Ph7x7");
    g_clear_pointer (&uid, g_free);
  }

  {
    const char *bad[] = { "", "1", "1 ", "0 abc", "x abc", "1abc", "1 two words", "1 caf\xc3\xa9",
                          "1 a\x01" "b", "4294967296 abc", "-1 abc" };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_test_message ("%s", bad[i]);
        g_assert_false (lb_pop3_parse_uidl_line (bad[i], -1, &msg, &uid, &error));
        g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_MALFORMED);
        g_assert_null (uid);
        g_clear_error (&error);
      }
  }
  /* a NUL is no uid character: "1 ab\0cd" is not uid "ab" */
  g_assert_false (lb_pop3_parse_uidl_line ("1 ab\0cd", 7, &msg, &uid, NULL));
  g_assert_null (uid);
}

static void
test_capa_line (void)
{
  const struct
  {
    const char *line;
    const char *keyword;
    const char *args;  /* joined with "|" */
  } cases[] = {
    { "TOP", "TOP", "" },
    { "UIDL", "UIDL", "" },
    { "PIPELINING", "PIPELINING", "" },
    { "STLS", "STLS", "" },
    { "USER", "USER", "" },
    { "RESP-CODES", "RESP-CODES", "" },
    { "AUTH-RESP-CODE", "AUTH-RESP-CODE", "" },
    { "SASL PLAIN LOGIN", "SASL", "PLAIN|LOGIN" },
    { "SASL PLAIN XOAUTH2 OAUTHBEARER", "SASL", "PLAIN|XOAUTH2|OAUTHBEARER" },
    { "EXPIRE 0", "EXPIRE", "0" },
    { "EXPIRE NEVER", "EXPIRE", "NEVER" },
    { "EXPIRE 30 USER", "EXPIRE", "30|USER" },
    { "LOGIN-DELAY 900", "LOGIN-DELAY", "900" },
    { "IMPLEMENTATION Shlemazle-Plotz-v302", "IMPLEMENTATION", "Shlemazle-Plotz-v302" },
    { "sasl plain", "SASL", "plain" },
    { "  SASL \t PLAIN  ", "SASL", "PLAIN" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *keyword = NULL;
      g_auto(GStrv) args = NULL;
      g_autofree char *joined = NULL;
      g_autoptr(GError) error = NULL;

      g_test_message ("%s", cases[i].line);
      g_assert_true (lb_pop3_parse_capa_line (cases[i].line, -1, &keyword, &args, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (keyword, ==, cases[i].keyword);
      g_assert_nonnull (args);
      joined = g_strjoinv ("|", args);
      g_assert_cmpstr (joined, ==, cases[i].args);
    }

  {
    const char *bad[] = { "", "   ", "SASL PLAIN\x01", "IMPLEMENTATION caf\xc3\xa9" };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autofree char *keyword = NULL;
        g_auto(GStrv) args = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_false (lb_pop3_parse_capa_line (bad[i], -1, &keyword, &args, &error));
        g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_MALFORMED);
        g_assert_null (keyword);
        g_assert_null (args);
      }
  }
  g_assert_false (lb_pop3_parse_capa_line ("TOP\0X", 5, NULL, NULL, NULL));
  g_assert_true (lb_pop3_parse_capa_line ("TOP\0X", 3, NULL, NULL, NULL));
}

static void
test_apop_timestamp (void)
{
  const struct
  {
    const char *text;
    const char *stamp;
  } cases[] = {
    { "POP3 server ready <1896.697170952@dbc.mtview.ca.us>", "<1896.697170952@dbc.mtview.ca.us>" },
    { "<2301.1700000000@mail.example.test>", "<2301.1700000000@mail.example.test>" },
    { "ready <1896.697170952@dbc.mtview.ca.us> and more", "<1896.697170952@dbc.mtview.ca.us>" },
    { "Dovecot ready.", NULL },
    { "ready <no-at-sign>", NULL },
    { "ready <a@b", NULL },
    { "ready <a @b>", NULL },
    { "<> <x@y>", "<x@y>" },
    { "<a<b@c>", "<b@c>" },
    { "ready <caf\xc3\xa9@host>", NULL },
    { "", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *stamp = lb_pop3_greeting_apop_timestamp (cases[i].text);

      g_test_message ("%s", cases[i].text);
      g_assert_cmpstr (stamp, ==, cases[i].stamp);
    }
}

static void
test_expect_for_command (void)
{
  g_assert_cmpint (lb_pop3_expect_for_command ("CAPA"), ==, LB_POP3_EXPECT_LINES);
  g_assert_cmpint (lb_pop3_expect_for_command ("LIST"), ==, LB_POP3_EXPECT_LINES);
  g_assert_cmpint (lb_pop3_expect_for_command ("uidl"), ==, LB_POP3_EXPECT_LINES);
  g_assert_cmpint (lb_pop3_expect_for_command ("UIDL \r\n"), ==, LB_POP3_EXPECT_LINES);
  g_assert_cmpint (lb_pop3_expect_for_command ("LIST 2"), ==, LB_POP3_EXPECT_SINGLE);
  g_assert_cmpint (lb_pop3_expect_for_command ("UIDL 2"), ==, LB_POP3_EXPECT_SINGLE);
  g_assert_cmpint (lb_pop3_expect_for_command ("RETR 1"), ==, LB_POP3_EXPECT_DATA);
  g_assert_cmpint (lb_pop3_expect_for_command ("top 1 0"), ==, LB_POP3_EXPECT_DATA);
  g_assert_cmpint (lb_pop3_expect_for_command ("STAT"), ==, LB_POP3_EXPECT_SINGLE);
  g_assert_cmpint (lb_pop3_expect_for_command ("AUTH PLAIN"), ==, LB_POP3_EXPECT_SINGLE);
  g_assert_cmpint (lb_pop3_expect_for_command ("GREETING"), ==, LB_POP3_EXPECT_SINGLE);
  g_assert_cmpint (lb_pop3_expect_for_command (""), ==, LB_POP3_EXPECT_SINGLE);
  g_assert_cmpint (lb_pop3_expect_for_command ("CAPABILITY"), ==, LB_POP3_EXPECT_SINGLE);
}

/* the framer */

#define S LB_POP3_EXPECT_SINGLE
#define L LB_POP3_EXPECT_LINES
#define D LB_POP3_EXPECT_DATA

static void
assert_framed (const char         *input,
               gsize               len,
               const LbPop3Expect *expects,
               guint               n_expects,
               const char         *expected)
{
  g_autofree char *text = run_all_ways (input, len, expects, n_expects);

  g_assert_cmpstr (text, ==, expected);
}

#define FRAMED(input, expected, ...)                                               \
  G_STMT_START {                                                                   \
    const LbPop3Expect e_[] = { __VA_ARGS__ };                                      \
    assert_framed (input, sizeof (input) - 1, e_, G_N_ELEMENTS (e_), expected);     \
  } G_STMT_END

static void
test_framer_session (void)
{
  FRAMED ("+OK Dovecot ready.\r\n"
          "+OK\r\nTOP\r\nUIDL\r\nSASL PLAIN LOGIN\r\n.\r\n"
          "+ \r\n"
          "+OK Logged in.\r\n"
          "+OK 2 1203\r\n"
          "+OK\r\n1 a1\r\n2 b2\r\n.\r\n"
          "+OK 12 octets\r\nSubject: x\r\n\r\nhi\r\n.\r\n"
          "-ERR There's no message 9.\r\n"
          "+OK\r\nSubject: y\r\n\r\n.\r\n"
          "+OK Logging out.\r\n",
          "S +OK \"Dovecot ready.\"\n"
          "S +OK \"\" +\n"
          "L TOP\nL UIDL\nL SASL PLAIN LOGIN\nE\n"
          "S + \"\"\n"
          "S +OK \"Logged in.\"\n"
          "S +OK \"2 1203\"\n"
          "S +OK \"\" +\n"
          "L 1 a1\nL 2 b2\nE\n"
          "S +OK \"12 octets\" +\n"
          "D Subject: x\\x0d\\x0a\\x0d\\x0ahi\\x0d\\x0a\nE\n"
          "S -ERR \"There's no message 9.\"\n"
          "S +OK \"\" +\n"
          "D Subject: y\\x0d\\x0a\\x0d\\x0a\nE\n"
          "S +OK \"Logging out.\"\n",
          S, L, S, S, L, D, D, D, S);
}

static void
test_framer_err_has_no_data (void)
{
  /* the "." and the line after a -ERR to RETR are not its data: they are
   * taken as the next replies, and the "." is not one */
  FRAMED ("-ERR no such message\r\n+OK bye\r\n",
          "S -ERR \"no such message\"\nS +OK \"bye\"\n",
          D, S);
  FRAMED ("-ERR [IN-USE] locked\r\n-ERR no\r\n",
          "S -ERR [IN-USE] \"locked\"\nS -ERR \"no\"\n",
          L, L);
  FRAMED ("-ERR no such message\r\n.\r\n",
          "S -ERR \"no such message\"\n"
          "X 0 The mail server sent a malformed reply: “.”\n",
          D, S);
}

static void
test_framer_unstuffing (void)
{
  const struct
  {
    const char *wire;    /* the data lines and the terminator */
    gsize       wire_len;
    const char *data;    /* escaped, as run_framer prints it */
  } cases[] = {
#define W(s) s, sizeof (s) - 1
    { W (".\r\n"), "" },
    { W ("\r\n.\r\n"), "\\x0d\\x0a" },
    { W ("..\r\n.\r\n"), ".\\x0d\\x0a" },
    { W ("...\r\n.\r\n"), "..\\x0d\\x0a" },
    { W (".x\r\n.\r\n"), "x\\x0d\\x0a" },
    { W (". \r\n.\r\n"), " \\x0d\\x0a" },
    { W ("a.\r\n.\r\n"), "a.\\x0d\\x0a" },
    { W ("a\r\n.a\r\n..\r\n.\r\n"), "a\\x0d\\x0aa\\x0d\\x0a.\\x0d\\x0a" },
    { W ("x\r\n.. \r\n.\r\n"), "x\\x0d\\x0a. \\x0d\\x0a" },
    /* the ".\r" that is not the terminator */
    { W (".\r.\r\n.\r\n"), "\\x0d.\\x0d\\x0a" },
    { W (".\r\r\n.\r\n"), "\\x0d\\x0d\\x0a" },
    { W (".\rx\n.\r\n"), "\\x0dx\\x0d\\x0a" },
    /* bare LF: normalised to CRLF, and a bare-LF terminator */
    { W ("a\nb\n.\n"), "a\\x0d\\x0ab\\x0d\\x0a" },
    { W ("..\n.\r\n"), ".\\x0d\\x0a" },
    { W ("a\r\r\n.\r\n"), "a\\x0d\\x0d\\x0a" },
    { W ("\n\n.\n"), "\\x0d\\x0a\\x0d\\x0a" },
    /* a lone CR inside a line stays */
    { W ("a\rb\r\n.\r\n"), "a\\x0db\\x0d\\x0a" },
    /* NUL bytes pass */
    { W ("\0\r\n.\0\r\n.\r\n"), "\\x00\\x0d\\x0a\\x00\\x0d\\x0a" },
    /* the last line before the terminator: its CRLF is the message's */
    { W ("last\r\n.\r\n"), "last\\x0d\\x0a" },
  };
#undef W

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const LbPop3Expect expects[] = { D, S };
      g_autoptr(GString) input = g_string_new ("+OK\r\n");
      g_autofree char *expected = g_strdup_printf ("S +OK \"\" +\nD %s\nE\nS +OK \"next\"\n", cases[i].data);

      g_string_append_len (input, cases[i].wire, (gssize) cases[i].wire_len);
      g_string_append (input, "+OK next\r\n");
      g_test_message ("%s", cases[i].wire);
      {
        g_autofree char *text = run_all_ways (input->str, input->len, expects, G_N_ELEMENTS (expects));

        g_assert_cmpstr (text, ==, expected);
      }
    }
}

static void
test_framer_lines (void)
{
  static const char input[] = "+OK\r\n1 a\r\n..2 b\r\n\r\nx\0y\r\nbare\n.\n";
  const LbPop3Expect expects[] = { L };
  g_autofree char *text = run_all_ways (input, sizeof input - 1, expects, 1);

  g_assert_cmpstr (text, ==, "S +OK \"\" +\nL 1 a\nL .2 b\nL \nL x\\x00y\nL bare\nE\n");
}

static void
test_framer_continuation (void)
{
  g_autoptr(LbPop3Framer) framer = lb_pop3_framer_new (0, 0, 0);
  g_autoptr(GError) error = NULL;
  const char *input = "+ Y2hhbGxlbmdl\r\n+ \r\n-ERR [AUTH] no\r\n";
  LbPop3Event event;

  lb_pop3_framer_expect (framer, S);
  lb_pop3_framer_feed (framer, (const guint8 *) input, strlen (input));

  g_assert_true (lb_pop3_framer_next (framer, &event, &error));
  g_assert_cmpint (event.kind, ==, LB_POP3_EVENT_STATUS);
  g_assert_cmpint (event.reply->kind, ==, LB_POP3_REPLY_CONTINUATION);
  g_assert_cmpstr (event.reply->text, ==, "Y2hhbGxlbmdl");
  g_assert_false (event.data_follows);
  g_assert_cmpuint (lb_pop3_framer_get_pending (framer), ==, 1);

  g_assert_true (lb_pop3_framer_next (framer, &event, &error));
  g_assert_cmpint (event.reply->kind, ==, LB_POP3_REPLY_CONTINUATION);
  g_assert_cmpuint (lb_pop3_framer_get_pending (framer), ==, 1);

  g_assert_true (lb_pop3_framer_next (framer, &event, &error));
  g_assert_cmpint (event.reply->kind, ==, LB_POP3_REPLY_ERR);
  g_assert_cmpint (event.reply->code, ==, LB_POP3_CODE_AUTH);
  g_assert_cmpuint (lb_pop3_framer_get_pending (framer), ==, 0);

  g_assert_true (lb_pop3_framer_next (framer, &event, &error));
  g_assert_cmpint (event.kind, ==, LB_POP3_EVENT_NONE);
  g_assert_true (lb_pop3_framer_finish (framer, &error));
  g_assert_no_error (error);
}

static void
test_framer_pipelining (void)
{
  g_autoptr(GString) input = g_string_new (NULL);
  g_autoptr(GString) expected = g_string_new (NULL);
  g_autoptr(GArray) expects = g_array_new (FALSE, FALSE, sizeof (LbPop3Expect));
  g_autofree char *text = NULL;
  LbPop3Expect e;

  /* UIDL, LIST, then RETR and DELE of 20 messages, sent at once */
  g_string_append (input, "+OK\r\n");
  g_string_append (expected, "S +OK \"\" +\n");
  for (guint i = 1; i <= 20; i++)
    {
      g_string_append_printf (input, "%u uid-%u\r\n", i, i);
      g_string_append_printf (expected, "L %u uid-%u\n", i, i);
    }
  g_string_append (input, ".\r\n+OK 20 messages\r\n");
  g_string_append (expected, "E\nS +OK \"20 messages\" +\n");
  for (guint i = 1; i <= 20; i++)
    {
      g_string_append_printf (input, "%u %u\r\n", i, 100 + i);
      g_string_append_printf (expected, "L %u %u\n", i, 100 + i);
    }
  g_string_append (input, ".\r\n");
  g_string_append (expected, "E\n");
  e = L;
  g_array_append_val (expects, e);
  g_array_append_val (expects, e);
  for (guint i = 1; i <= 20; i++)
    {
      g_string_append_printf (input, "+OK\r\nMessage-ID: <%u@x>\r\n\r\n..body %u\r\n.\r\n+OK deleted\r\n", i, i);
      g_string_append_printf (expected, "S +OK \"\" +\nD Message-ID: <%u@x>\\x0d\\x0a\\x0d\\x0a.body %u\\x0d\\x0a\nE\n"
                              "S +OK \"deleted\"\n", i, i);
      e = D;
      g_array_append_val (expects, e);
      e = S;
      g_array_append_val (expects, e);
    }
  text = run_all_ways (input->str, input->len, (const LbPop3Expect *) (void *) expects->data, expects->len);
  g_assert_cmpstr (text, ==, expected->str);
}

static void
test_framer_unexpected (void)
{
  FRAMED ("+OK ready\r\n+OK what\r\n",
          "S +OK \"ready\"\nX 3 The mail server sent a reply to a command that was not sent\n",
          S);
  {
    g_autoptr(LbPop3Framer) framer = lb_pop3_framer_new (0, 0, 0);
    g_autoptr(GError) error = NULL;
    LbPop3Event event;

    lb_pop3_framer_feed (framer, (const guint8 *) "+OK\r\n", 5);
    g_assert_false (lb_pop3_framer_next (framer, &event, &error));
    g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_UNEXPECTED);
    g_clear_error (&error);
    /* failed for good */
    lb_pop3_framer_expect (framer, S);
    g_assert_false (lb_pop3_framer_next (framer, &event, &error));
    g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_UNEXPECTED);
    g_clear_error (&error);
    g_assert_false (lb_pop3_framer_finish (framer, &error));
    g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_UNEXPECTED);
  }
}

static void
test_framer_limits (void)
{
  /* run_framer's limits: status 256, listing line 128 */
  g_autofree char *at = g_strnfill (256 - 4, 's');
  g_autofree char *over = g_strnfill (256 - 3, 's');
  g_autofree char *line_at = g_strnfill (128, 'u');
  g_autofree char *line_over = g_strnfill (129, 'u');
  g_autofree char *input = NULL;
  g_autofree char *text = NULL;
  const LbPop3Expect s[] = { S };
  const LbPop3Expect l[] = { L };

  /* "+OK " and 252 bytes: 256, the most */
  input = g_strdup_printf ("+OK %s\r\n", at);
  text = run_all_ways (input, strlen (input), s, 1);
  g_assert_true (g_str_has_prefix (text, "S +OK \"sss"));
  g_assert_null (strstr (text, "X "));
  g_clear_pointer (&input, g_free);
  g_clear_pointer (&text, g_free);

  input = g_strdup_printf ("+OK %s\r\n", over);
  text = run_all_ways (input, strlen (input), s, 1);
  g_assert_cmpstr (text, ==, "X 1 The mail server sent a reply longer than 256 bytes; it may not be a mail server\n");
  g_clear_pointer (&input, g_free);
  g_clear_pointer (&text, g_free);

  /* no line end at all: refused once over the limit, not at the end */
  {
    g_autoptr(LbPop3Framer) framer = lb_pop3_framer_new (0, 0, 0);
    g_autoptr(GError) error = NULL;
    g_autofree char *junk = g_strnfill (LB_POP3_MAX_STATUS_DEFAULT + 3, 'j');
    LbPop3Event event;

    lb_pop3_framer_expect (framer, S);
    lb_pop3_framer_feed (framer, (const guint8 *) junk, LB_POP3_MAX_STATUS_DEFAULT + 3);
    g_assert_false (lb_pop3_framer_next (framer, &event, &error));
    g_assert_error (error, LB_POP3_ERROR, LB_POP3_ERROR_TOO_LONG);
    g_assert_nonnull (strstr (error->message, "8192"));
  }

  input = g_strdup_printf ("+OK\r\n%s\r\n.\r\n", line_at);
  text = run_all_ways (input, strlen (input), l, 1);
  g_assert_true (g_str_has_suffix (text, "uuu\nE\n"));
  g_clear_pointer (&input, g_free);
  g_clear_pointer (&text, g_free);

  /* 129 bytes, or 128 unstuffed from 129 */
  input = g_strdup_printf ("+OK\r\n%s\r\n.\r\n", line_over);
  text = run_all_ways (input, strlen (input), l, 1);
  g_assert_cmpstr (text, ==, "S +OK \"\" +\nX 1 The mail server sent a listing with a line longer than 128 bytes\n");
  g_clear_pointer (&input, g_free);
  g_clear_pointer (&text, g_free);
  input = g_strdup_printf ("+OK\r\n.%s\r\n.\r\n", line_at);
  text = run_all_ways (input, strlen (input), l, 1);
  g_assert_true (g_str_has_suffix (text, "uuu\nE\n"));
}

/* a long line of message data is passed on in chunks, never gathered */
static void
test_framer_long_line (void)
{
  g_autoptr(LbPop3Framer) framer = lb_pop3_framer_new (0, 0, 0);
  gsize line_len = 3 * 1024 * 1024 + 7;
  g_autofree char *input = g_malloc (line_len + 32);
  gsize len = 0, total = 0, largest = 0, chunks = 0;
  gboolean ended = FALSE;
  LbPop3Event event;
  g_autoptr(GError) error = NULL;

  memcpy (input, "+OK\r\n", 5);
  len = 5;
  memset (input + len, 'L', line_len);
  len += line_len;
  memcpy (input + len, "\r\n.\r\n", 5);
  len += 5;

  lb_pop3_framer_expect (framer, D);
  for (gsize pos = 0; pos < len; pos += 100000)
    {
      lb_pop3_framer_feed (framer, (const guint8 *) input + pos, MIN (100000, len - pos));
      for (;;)
        {
          g_assert_true (lb_pop3_framer_next (framer, &event, &error));
          g_assert_no_error (error);
          if (event.kind == LB_POP3_EVENT_NONE)
            break;
          if (event.kind == LB_POP3_EVENT_DATA)
            {
              total += event.len;
              largest = MAX (largest, event.len);
              chunks++;
            }
          if (event.kind == LB_POP3_EVENT_END)
            ended = TRUE;
        }
    }
  g_assert_true (ended);
  g_assert_cmpuint (total, ==, line_len + 2);
  g_assert_cmpuint (largest, <=, LB_POP3_MAX_CHUNK_DEFAULT);
  g_assert_cmpuint (chunks, >=, (line_len + 2) / LB_POP3_MAX_CHUNK_DEFAULT);
  g_assert_true (lb_pop3_framer_finish (framer, &error));
}

/* a server that closes in the middle of a reply, at every byte */
static void
test_framer_cut (void)
{
  static const char input[] = "+OK ready\r\n+OK\r\nSubject: x\r\n\r\n..\r\nbody\r\n.\r\n+OK 1 2\r\n";
  const LbPop3Expect expects[] = { S, D, S };
  /* where a reply ends, the stream may end without a cut but for the
   * commands still waiting */
  const gsize retr_end = (gsize) (strstr (input, ".\r\n+OK 1") + 3 - input);
  const gsize ends[] = { 0, 11, retr_end };

  for (gsize cut = 0; cut <= sizeof input - 1; cut++)
    {
      g_autofree char *text = run_framer (input, cut, expects, G_N_ELEMENTS (expects), 16, 1);
      const char *last = strrchr (text, 'X');
      gboolean at_end = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (ends); i++)
        at_end |= cut == ends[i];
      g_test_message ("cut at %" G_GSIZE_FORMAT ": %s", cut, text);
      if (cut == sizeof input - 1)
        g_assert_null (last);
      else
        {
          g_assert_nonnull (last);
          g_assert_true (g_str_has_prefix (last, "X 2 "));
          if (at_end)
            g_assert_nonnull (strstr (last, "without replying"));
          else
            g_assert_nonnull (strstr (last, "in the middle of a reply"));
          /* what came before the cut was passed on; no END for a cut RETR */
          if (cut > 11 && cut < retr_end)
            g_assert_null (strstr (text, "E\n"));
        }
    }
}

/* a message through stuffing and the framer comes back the same */
static void
test_framer_round_trip (void)
{
  g_autoptr(GString) message = g_string_new (NULL);
  g_autoptr(GString) wire = g_string_new ("+OK message follows\r\n");
  g_autoptr(LbPop3Framer) framer = lb_pop3_framer_new (0, 0, 1000);
  g_autoptr(GByteArray) got = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  const char *starts[] = { ".", "..", ". ", "", "From ", ".\r", "x" };
  gsize pos = 0;
  gboolean ended = FALSE;

  for (guint i = 0; i < 5000; i++)
    {
      guint n = (guint) g_test_rand_int_range (0, 200);

      g_string_append (message, starts[g_test_rand_int_range (0, G_N_ELEMENTS (starts))]);
      for (guint j = 0; j < n; j++)
        g_string_append_c (message, (char) g_test_rand_int_range (0, 256));
      /* no CR or LF inside a line but as its end */
      for (gsize k = message->len - n; k < message->len; k++)
        if (message->str[k] == '\r' || message->str[k] == '\n')
          message->str[k] = ' ';
      g_string_append (message, "\r\n");
    }
  {
    const char *p = message->str, *end = message->str + message->len;

    while (p < end)
      {
        const char *eol = memchr (p, '\n', (gsize) (end - p));

        if (*p == '.')
          g_string_append_c (wire, '.');
        g_string_append_len (wire, p, eol - p + 1);
        p = eol + 1;
      }
  }
  g_string_append (wire, ".\r\n");

  lb_pop3_framer_expect (framer, D);
  while (pos < wire->len)
    {
      gsize piece = (gsize) g_test_rand_int_range (1, 5000);
      gsize n = MIN (wire->len - pos, piece);

      lb_pop3_framer_feed (framer, (const guint8 *) wire->str + pos, n);
      pos += n;
      for (;;)
        {
          LbPop3Event event;

          g_assert_true (lb_pop3_framer_next (framer, &event, &error));
          if (event.kind == LB_POP3_EVENT_NONE)
            break;
          if (event.kind == LB_POP3_EVENT_DATA)
            {
              g_assert_cmpuint (event.len, <=, 1000);
              g_byte_array_append (got, event.data, (guint) event.len);
            }
          else if (event.kind == LB_POP3_EVENT_END)
            ended = TRUE;
        }
    }
  g_assert_true (ended);
  g_assert_true (lb_pop3_framer_finish (framer, &error));
  g_assert_cmpmem (got->data, got->len, message->str, message->len);
}

/* the seeds through the tool, against their expected text */
static void
test_fixtures (void)
{
  g_autofree char *tool = g_test_build_filename (G_TEST_BUILT, "pop3-parse", NULL);
  g_autofree char *dir_path = g_test_build_filename (G_TEST_DIST, "data", "pop3", "seeds", NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *raw_path = g_build_filename (dir_path, name, NULL);
      g_autofree char *base = g_strndup (name, strlen (name) - strlen (".pop3"));
      g_autofree char *expected_name = g_strconcat (base, ".txt", NULL);
      g_autofree char *expected_path = g_test_build_filename (G_TEST_DIST, "data", "pop3", "expected",
                                                              expected_name, NULL);
      g_autofree char *expected = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
      g_autoptr(GSubprocess) process = NULL;
      g_autoptr(GBytes) out = NULL;
      gboolean failing;

      g_assert_true (g_str_has_suffix (name, ".pop3"));
      g_assert_true (g_file_get_contents (expected_path, &expected, NULL, &error));
      g_subprocess_launcher_set_stdin_file_path (launcher, raw_path);
      process = g_subprocess_launcher_spawn (launcher, &error, tool, "--transcript", NULL);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_communicate (process, NULL, NULL, &out, NULL, &error));
      g_assert_no_error (error);
      g_test_message ("%s", name);
      g_assert_cmpmem (g_bytes_get_data (out, NULL), g_bytes_get_size (out), expected, strlen (expected));
      /* the exit status says whether everything parsed */
      failing = strstr (expected, "error: ") != NULL;
      g_assert_cmpint (g_subprocess_get_exit_status (process), ==, failing ? 1 : 0);
      n++;
    }
  g_assert_cmpuint (n, >=, 8);
}

/* the command-line form gives the same as the transcript form */
static void
test_tool_arguments (void)
{
  g_autofree char *tool = g_test_build_filename (G_TEST_BUILT, "pop3-parse", NULL);
  g_autofree char *raw_path = g_test_build_filename (G_TEST_DIST, "data", "pop3", "seeds", "dovecot.pop3", NULL);
  g_autofree char *expected_path = g_test_build_filename (G_TEST_DIST, "data", "pop3", "expected", "dovecot.txt", NULL);
  g_autofree char *raw = NULL;
  g_autofree char *expected = NULL;
  g_auto(GStrv) commands = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GBytes) in = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  char *nl;

  g_assert_true (g_file_get_contents (raw_path, &raw, &len, &error));
  g_assert_true (g_file_get_contents (expected_path, &expected, NULL, &error));
  nl = strchr (raw, '\n');
  g_assert_nonnull (nl);
  *nl = '\0';
  commands = g_strsplit (raw, ";", -1);
  g_strv_builder_add (builder, tool);
  g_strv_builder_addv (builder, (const char **) commands);
  argv = g_strv_builder_end (builder);

  process = g_subprocess_newv ((const char *const *) argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  in = g_bytes_new (nl + 1, len - (gsize) (nl + 1 - raw));
  g_assert_true (g_subprocess_communicate (process, in, NULL, &out, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (out, NULL), g_bytes_get_size (out), expected, strlen (expected));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);

  /* no command: usage, status 2 */
  {
    g_autoptr(GSubprocess) bare = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE | G_SUBPROCESS_FLAGS_STDIN_PIPE,
                                                    &error, tool, NULL);

    g_assert_no_error (error);
    g_assert_true (g_subprocess_wait (bare, NULL, &error));
    g_assert_cmpint (g_subprocess_get_exit_status (bare), ==, 2);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pop3-parser/reply/kinds", test_reply_kinds);
  g_test_add_func ("/pop3-parser/reply/codes", test_reply_codes);
  g_test_add_func ("/pop3-parser/reply/text", test_reply_text);
  g_test_add_func ("/pop3-parser/stat", test_stat);
  g_test_add_func ("/pop3-parser/list-line", test_list_line);
  g_test_add_func ("/pop3-parser/uidl-line", test_uidl_line);
  g_test_add_func ("/pop3-parser/capa-line", test_capa_line);
  g_test_add_func ("/pop3-parser/apop-timestamp", test_apop_timestamp);
  g_test_add_func ("/pop3-parser/expect-for-command", test_expect_for_command);
  g_test_add_func ("/pop3-parser/framer/session", test_framer_session);
  g_test_add_func ("/pop3-parser/framer/err-has-no-data", test_framer_err_has_no_data);
  g_test_add_func ("/pop3-parser/framer/unstuffing", test_framer_unstuffing);
  g_test_add_func ("/pop3-parser/framer/lines", test_framer_lines);
  g_test_add_func ("/pop3-parser/framer/continuation", test_framer_continuation);
  g_test_add_func ("/pop3-parser/framer/pipelining", test_framer_pipelining);
  g_test_add_func ("/pop3-parser/framer/unexpected", test_framer_unexpected);
  g_test_add_func ("/pop3-parser/framer/limits", test_framer_limits);
  g_test_add_func ("/pop3-parser/framer/long-line", test_framer_long_line);
  g_test_add_func ("/pop3-parser/framer/cut", test_framer_cut);
  g_test_add_func ("/pop3-parser/framer/round-trip", test_framer_round_trip);
  g_test_add_func ("/pop3-parser/fixtures", test_fixtures);
  g_test_add_func ("/pop3-parser/tool-arguments", test_tool_arguments);

  return g_test_run ();
}
