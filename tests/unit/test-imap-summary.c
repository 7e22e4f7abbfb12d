/* test-imap-summary.c: what the message list shows of a message it only
 * knows from an IMAP server's FETCH (ENVELOPE, BODYSTRUCTURE, flags)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "lb-imap-parser.h"
#include "lb-imap-sync.h"
#include "lb-mime-summary.h"

static LbImapResponse *
parse (const char *text)
{
  g_autoptr(GError) error = NULL;
  LbImapResponse *response;

  response = lb_imap_parse_response ((const guint8 *) text, strlen (text), LB_IMAP_PARSE_NONE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (response);
  g_assert_cmpint (response->data, ==, LB_IMAP_DATA_FETCH);
  g_assert_nonnull (response->fetch);

  return response;
}

static LbMessageSummary *
summary_of (const char *text)
{
  g_autoptr(LbImapResponse) response = parse (text);

  return lb_imap_summary_from_fetch (response->fetch);
}

/* a reply in Russian from a mailing list, with an attachment */
#define REPLY_FETCH \
  "* 12 FETCH (UID 4242 FLAGS (\\Seen \\Answered $Forwarded $Label1 \\Recent) " \
  "INTERNALDATE \"17-Jul-2026 02:44:25 -0700\" RFC822.SIZE 48213 " \
  "ENVELOPE (\"Fri, 17 Jul 2026 11:40:00 +0200\" " \
  "\"=?UTF-8?B?0J7RgtGH0LXRgg==?= =?UTF-8?B?INC30LAg0LrQstCw0YDRgtCw0Ls=?=\" " \
  "((\"=?KOI8-R?B?6dfBzg==?=\" NIL \"ivan\" \"example.ru\")) NIL NIL " \
  "((NIL NIL \"team\" \"example.org\")(\"Bob\" NIL \"bob\" \"example.org\")) " \
  "((\"Carol, Jr.\" NIL \"carol\" \"example.org\")) NIL " \
  "\"<parent@example.org>\" \"<reply-1@example.ru>\") " \
  "BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 1200 30 NIL NIL NIL NIL)" \
  "(\"application\" \"pdf\" (\"name\" \"report.pdf\") NIL NIL \"base64\" 40000 NIL " \
  "(\"attachment\" (\"filename\" \"report.pdf\")) NIL NIL) \"mixed\" (\"boundary\" \"xyz\") NIL NIL NIL) " \
  "BODY[HEADER.FIELDS (REFERENCES IN-REPLY-TO LIST-ID)] {137}\r\n" \
  "References: <root@example.org>\r\n <parent@example.org>\r\n" \
  "In-Reply-To: <parent@example.org>\r\n" \
  "List-Id: Team discussion <team.example.org>\r\n" \
  "\r\n)\r\n"

static void
test_summary_from_fetch (void)
{
  g_autoptr(LbMessageSummary) s = summary_of (REPLY_FETCH);

  g_assert_cmpuint (s->uid, ==, 4242);
  g_assert_cmpuint (s->flags, ==, LB_MESSAGE_SEEN | LB_MESSAGE_ANSWERED | LB_MESSAGE_FORWARDED);
  g_assert_cmpstr (s->keywords, ==, "$Label1");
  g_assert_cmpint (s->size, ==, 48213);
  g_assert_cmpstr (s->subject, ==, "Отчет за квартал");
  g_assert_cmpstr (s->from, ==, "Иван <ivan@example.ru>");
  g_assert_cmpstr (s->to, ==, "team@example.org, Bob <bob@example.org>");
  g_assert_cmpstr (s->cc, ==, "\"Carol, Jr.\" <carol@example.org>");
  g_assert_cmpstr (s->message_id, ==, "reply-1@example.ru");
  g_assert_cmpstr (s->in_reply_to, ==, "parent@example.org");
  g_assert_cmpstr (s->references, ==, "root@example.org parent@example.org");
  g_assert_cmpstr (s->list_id, ==, "team.example.org");
  /* the Date header, not the arrival time */
  g_assert_cmpint (s->date, ==, 1784281200);
  g_assert_true (s->has_attachments);
  g_assert_cmpstr (s->structure, ==,
                   "1\ttext/plain\tquoted-printable\t1200\t\t\tutf-8\t\n"
                   "2\tapplication/pdf\tbase64\t40000\tattachment\treport.pdf\t\t\n");
}

/* nested parts are numbered as IMAP numbers them; a tab in a field
 * would end it early, so it becomes a space; an address that is not
 * UTF-8 is made so */
static void
test_summary_nested_structure (void)
{
  g_autoptr(LbMessageSummary) s = summary_of (
    "* 3 FETCH (UID 7 FLAGS () "
    "ENVELOPE (NIL \"nested\" ((NIL NIL \"b\xffob\" \"example.org\")) NIL NIL "
    "((\"Al\" NIL \"al\" \"example.org\")(NIL NIL \"local\" \"\")) NIL NIL NIL NIL) "
    "BODYSTRUCTURE (((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 10 1 NIL NIL NIL NIL)"
    "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 20 1 NIL NIL NIL NIL) "
    "\"alternative\" (\"boundary\" \"a\") NIL NIL NIL)"
    "(\"application\" \"octet-stream\" NIL \"<id\tx>\" NIL \"base64\" 30 NIL "
    "(\"attachment\" (\"filename\" \"tab\there.bin\")) NIL NIL) "
    "\"mixed\" (\"boundary\" \"m\") NIL NIL NIL))\r\n");

  g_assert_cmpstr (s->from, ==, "b\xef\xbf\xbdob@example.org");
  g_assert_cmpstr (s->to, ==, "Al <al@example.org>, local");
  g_assert_cmpstr (s->structure, ==,
                   "1.1\ttext/plain\t7bit\t10\t\t\tutf-8\t\n"
                   "1.2\ttext/html\t7bit\t20\t\t\tutf-8\t\n"
                   "2\tapplication/octet-stream\tbase64\t30\tattachment\ttab here.bin\t\t<id x>\n");
}

static void
test_summary_same_as_whole_message (void)
{
  /* The list must show a message the same whether it came over IMAP or
   * from a file: the same words through both readers. */
  static const char raw[] =
    "Date: Fri, 17 Jul 2026 11:40:00 +0200\r\n"
    "Subject: =?UTF-8?B?0J7RgtGH0LXRgg==?= =?UTF-8?B?INC30LAg0LrQstCw0YDRgtCw0Ls=?=\r\n"
    "From: =?KOI8-R?B?6dfBzg==?= <ivan@example.ru>\r\n"
    "To: team@example.org, Bob <bob@example.org>\r\n"
    "Cc: \"Carol, Jr.\" <carol@example.org>\r\n"
    "Message-ID: <reply-1@example.ru>\r\n"
    "In-Reply-To: <parent@example.org>\r\n"
    "References: <root@example.org>\r\n <parent@example.org>\r\n"
    "\r\n"
    "Hello\r\n";
  g_autoptr(GBytes) bytes = g_bytes_new_static (raw, sizeof raw - 1);
  g_autoptr(LbMessageSummary) whole = lb_mime_summary_parse (bytes, 0, NULL, NULL);
  g_autoptr(LbMessageSummary) s = summary_of (REPLY_FETCH);

  g_assert_nonnull (whole);
  g_assert_cmpstr (s->subject, ==, whole->subject);
  g_assert_cmpstr (s->from, ==, whole->from);
  g_assert_cmpstr (s->to, ==, whole->to);
  g_assert_cmpstr (s->cc, ==, whole->cc);
  g_assert_cmpstr (s->message_id, ==, whole->message_id);
  g_assert_cmpstr (s->in_reply_to, ==, whole->in_reply_to);
  g_assert_cmpstr (s->references, ==, whole->references);
  g_assert_cmpint (s->date, ==, whole->date);
}

static void
test_summary_sparse (void)
{
  /* a server that sends NIL for everything it can, and no Date */
  g_autoptr(LbMessageSummary) s =
    summary_of ("* 1 FETCH (UID 7 FLAGS () INTERNALDATE \"01-Feb-2026 10:00:00 +0000\" "
                "RFC822.SIZE 10 ENVELOPE (NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) "
                "BODYSTRUCTURE (\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1))\r\n");

  g_assert_cmpuint (s->uid, ==, 7);
  g_assert_cmpuint (s->flags, ==, 0);
  g_assert_null (s->keywords);
  g_assert_null (s->subject);
  g_assert_null (s->from);
  g_assert_null (s->message_id);
  g_assert_null (s->references);
  g_assert_null (s->list_id);
  /* no Date header: the arrival time */
  g_assert_cmpint (s->date, ==, 1769940000);
  g_assert_false (s->has_attachments);
}

static void
test_attachment_rules (void)
{
  static const struct {
    const char *body;
    gboolean    attachments;
  } cases[] = {
    /* an HTML mail with the images it shows */
    { "((\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1)"
      "((\"text\" \"html\" NIL NIL NIL \"7bit\" 10 1)"
      "(\"image\" \"png\" NIL \"<logo@x>\" NIL \"base64\" 100 NIL (\"inline\" NIL) NIL NIL) \"related\")"
      " \"alternative\")", FALSE },
    /* a forwarded message */
    { "((\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1)"
      "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 100 "
      "(NIL \"Fwd\" NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\" \"plain\" NIL NIL NIL \"7bit\" 5 1) 4)"
      " \"mixed\")", TRUE },
    /* a signed message: the signature is not an attachment */
    { "((\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1)"
      "(\"application\" \"pgp-signature\" NIL NIL NIL \"7bit\" 100 NIL NIL NIL NIL) \"signed\")", FALSE },
    /* an invitation */
    { "((\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 1)"
      "(\"text\" \"calendar\" (\"method\" \"REQUEST\") NIL NIL \"7bit\" 100 4) \"alternative\")", TRUE },
    /* a lone image */
    { "(\"image\" \"jpeg\" NIL NIL NIL \"base64\" 100 NIL NIL NIL NIL)", TRUE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strdup_printf ("* 1 FETCH (UID 1 BODYSTRUCTURE %s)\r\n", cases[i].body);
      g_autoptr(LbImapResponse) response = parse (text);

      g_test_message ("case %u", i);
      g_assert_nonnull (response->fetch->body);
      g_assert_cmpint (lb_imap_body_has_attachments (response->fetch->body), ==, cases[i].attachments);
    }
}

static void
test_flags_round_trip (void)
{
  const char *flags[] = { "\\SEEN", "\\Flagged", "\\Deleted", "\\Draft", "$Junk", "\\Recent", "\\*", NULL };
  g_autofree char *keywords = NULL;
  g_auto(GStrv) back = NULL;
  guint mask;

  mask = lb_imap_flags_to_message_flags ((char **) flags, &keywords);
  g_assert_cmpuint (mask, ==, LB_MESSAGE_SEEN | LB_MESSAGE_FLAGGED | LB_MESSAGE_DELETED | LB_MESSAGE_DRAFT);
  g_assert_cmpstr (keywords, ==, "$Junk");

  back = lb_imap_flags_from_message_flags (LB_MESSAGE_SEEN | LB_MESSAGE_FORWARDED);
  g_assert_cmpuint (g_strv_length (back), ==, 2);
  g_assert_true (g_strv_contains ((const char * const *) back, "\\Seen"));
  g_assert_true (g_strv_contains ((const char * const *) back, "$Forwarded"));
}

/* The fast path for UTF-8 words must read headers exactly as GMime does. */
static void
test_decode_like_gmime (void)
{
  static const char *const headers[] = {
    /* (padded base64 words in a run are GMime's bug, tested in mime-summary) */
    "=?UTF-8?B?0JrQvtGC0LjRhNC10L3QtSDRgtGD0YDRjtC+0YHRgtGMINC/0L7Qtg==?=",
    "=?UTF-8?B?0JrQvtGC0LjRhNC1?=\r\n =?UTF-8?B?0L3QtSDRgtGD0YDRjg==?=",
    "=?utf-8?q?Caf=C3=A9_au_lait?= and more",
    "Re: =?UTF-8?Q?R=C3=A9sum=C3=A9?= =?UTF-8?Q?_attached?=",
    "plain =?utf-8?B?w6k=?=text",
    "=?UTF-8?B?4oKs?= 100",
    "a  =?utf-8?q?x?=   =?utf-8?q?y?=  b",
    "=?us-ascii?q?hello?=",
    "=?UTF-8*ru?B?0L/RgNC40LLQtdGC?=",
    "broken =?utf-8?x?abc?= word",
    "=?utf-8?q?a=ZZb?=",
  };

  for (guint i = 0; i < G_N_ELEMENTS (headers); i++)
    {
      g_autofree char *ours = lb_mime_decode_header_text (headers[i]);
      g_autofree char *unfolded = g_mime_utils_header_unfold (headers[i]);
      g_autofree char *theirs = g_mime_utils_header_decode_text (NULL, unfolded);
      g_auto(GStrv) words = g_strsplit_set (g_strstrip (theirs), " \t\r\n", -1);
      g_autoptr(GStrvBuilder) kept = g_strv_builder_new ();
      g_auto(GStrv) joined = NULL;
      g_autofree char *expected = NULL;

      for (guint j = 0; words[j] != NULL; j++)
        if (*words[j] != '\0')
          g_strv_builder_add (kept, words[j]);
      joined = g_strv_builder_end (kept);
      expected = g_strjoinv (" ", joined);

      g_test_message ("%s", headers[i]);
      g_assert_cmpstr (ours, ==, expected);
    }
}

/* Message ids read from HEADER.FIELDS come out as a whole message's
 * References and In-Reply-To do, the simple ones included */
static void
test_ids_like_whole_message (void)
{
  static const char *const values[] = {
    "<a@b>",
    "<91cc9c0b-fc74-4cef-a24d-adc18c81cc76@yashchik.example>",
    "<CA7n5POGKBKrj+I0ZeOl-bxHuh0K8Ty3RZkRQigLTvicsEFT@mail.gmail.example>\r\n <x.y@z.example>",
    "<3ohapq$h3b@gandalf.rutgers.edu>\t<3notqh$b52@ns2.ny.ubs.com>",
    "<a/b=c?d^e`f{g|h}i~j!k#l%m&n'o*p@host>",
    "<dup@x> <other@x> <dup@x>",
    "<UPPER.Case@Example.ORG>",
    "<two..dots@x>",
    "<.lead@x>",
    "<trail.@x>",
    "<a@b@c>",
    "<noat>",
    "<@x>",
    "<x@>",
    "<x@.y>",
    "<\"quoted local\"@x>",
    "<a@[127.0.0.1]>",
    "<a@b> (comment) <c@d>",
    "<a@b>, <c@d>",
    "bare@word.example",
    "junk <a@b>",
    "<a@b> junk",
    "<sp ace@x>",
    "<caf\xc3\xa9@x>",
    "<a@b",
    "",
    "   ",
  };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autofree char *raw = g_strdup_printf ("From: a@example.test\r\nMessage-ID: <m@example.test>\r\n"
                                              "In-Reply-To: %s\r\nReferences: %s\r\n\r\nx\r\n",
                                              values[i], values[i]);
      g_autoptr(GBytes) bytes = g_bytes_new (raw, strlen (raw));
      g_autoptr(LbMessageSummary) whole = lb_mime_summary_parse (bytes, 0, NULL, NULL);
      g_autofree char *refs = lb_mime_parse_ids (values[i], TRUE);
      g_autofree char *first = lb_mime_parse_ids (values[i], FALSE);

      g_test_message ("%s", values[i]);
      g_assert_nonnull (whole);
      g_assert_cmpstr (refs, ==, whole->references);
      g_assert_cmpstr (first, ==, whole->in_reply_to);
    }
}

/* Dates of the common form are read without GMime: the same seconds as
 * GMime gives, and the edge cases (out of range, odd zones, two-digit
 * years, trailing comments) the same as GMime reads them */
static void
test_dates_like_gmime (void)
{
  static const char *const dates[] = {
    "Fri, 08 Sep 2023 10:00:25 +0100",
    "Fri, 8 Sep 2023 10:00:25 +0100",
    "8 Sep 2023 10:00:25 -0700",
    "fri, 08 sep 2023 10:00:25 -0000",
    "Mon, 08 Sep 2023 10:00:25 +0100",
    "Fri, 08 Sep 2023 10:00:25 +0100 (BST)",
    "Fri, 08 Sep 2023 10:00:25 +0100(BST)",
    "Fri, 08 Sep 2023 10:00:25 +0530",
    "Fri, 08 Sep 2023 10:00:25 +2359",
    "Fri, 08 Sep 2023 10:00:25 +2400",
    "Fri, 08 Sep 2023 10:00:25 +0060",
    "Fri, 08 Sep 2023 10:00:25 GMT",
    "Fri, 08 Sep 2023 10:00:25",
    "Fri, 08 Sep 23 10:00:25 +0100",
    "Fri, 08 Sep 1969 10:00:25 +0100",
    "Thu, 01 Jan 1970 00:00:00 +0000",
    "Thu, 01 Jan 1970 00:00:01 +0000",
    "Thu, 29 Feb 2024 12:00:00 +0000",
    "Thu, 29 Feb 2023 12:00:00 +0000",
    "Thu, 31 Apr 2023 12:00:00 +0000",
    "Thu, 32 Jan 2023 12:00:00 +0000",
    "Thu, 00 Jan 2023 12:00:00 +0000",
    "Thu, 10 Jan 2023 24:00:00 +0000",
    "Thu, 10 Jan 2023 12:60:00 +0000",
    "Thu, 10 Jan 2023 12:00:60 +0000",
    "Thu, 10 Jan 2023 12:00 +0000",
    "Thu, 10 Jan 2023 7:00:00 +0000",
    "Thu, 10 Foo 2023 12:00:00 +0000",
    "Xyz, 10 Jan 2023 12:00:00 +0000",
    "  Thu, 10 Jan 2023 12:00:00 +0000",
    "Thu,  10 Jan 2023 12:00:00 +0000",
    "Sat, 31 Dec 2099 23:59:59 -1200",
    "",
    "garbage",
  };
  const gint64 fallback = G_GINT64_CONSTANT (1) << 40;

  for (guint i = 0; i < G_N_ELEMENTS (dates); i++)
    {
      g_autoptr(GDateTime) date = g_mime_utils_header_decode_date (dates[i]);
      gint64 expected = fallback;

      if (date != NULL && g_date_time_to_unix (date) > 0)
        expected = g_date_time_to_unix (date);

      g_test_message ("%s", dates[i]);
      g_assert_cmpint (lb_mime_parse_date (dates[i], fallback), ==, expected);
    }
  g_assert_cmpint (lb_mime_parse_date ("Fri, 08 Sep 2023 10:00:25 +0100", 0), ==, 1694163625);
}

/* Plain display names go in without GMime: the same text as decoding and
 * quoting them gives; the others the same the second time, when they
 * come from the cache of rendered names */
static void
test_addresses_like_gmime (void)
{
  static const char *const names[] = {
    "Reader", "Pierre  Young", " Pierre Young ", "   ", "", "O'Brien-Smith",
    "a_b!#$%&*+^`{|}~", "Young, Pierre", "Dr. Who", "a@b", "x (y)", "q \"r\"",
    "back\\slash", "semi;colon", "=?UTF-8?B?xYF1a2FzeiBTY2huZWlkZXI=?=",
    "=?UTF-8?Q?Young=2C_Pierre?=", "caf\xc3\xa9", "tab\there",
  };

  for (guint i = 0; i < 2 * G_N_ELEMENTS (names); i++)
    {
      const char *name = names[i % G_N_ELEMENTS (names)];
      g_autoptr(GString) ours = g_string_new ("x");
      g_autoptr(GString) expected = g_string_new ("x");
      g_autofree char *decoded = lb_mime_decode_header_text (name);

      lb_mime_append_address (ours, name, "a@example.test");
      if (decoded != NULL)
        {
          g_autofree char *quoted = g_mime_utils_quote_string (decoded);

          g_string_append_printf (expected, ", %s <a@example.test>", quoted);
        }
      else
        g_string_append (expected, ", a@example.test");

      g_test_message ("%s", name);
      g_assert_cmpstr (ours->str, ==, expected->str);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_func ("/imap-summary/from-fetch", test_summary_from_fetch);
  g_test_add_func ("/imap-summary/nested-structure", test_summary_nested_structure);
  g_test_add_func ("/imap-summary/same-as-whole-message", test_summary_same_as_whole_message);
  g_test_add_func ("/imap-summary/sparse", test_summary_sparse);
  g_test_add_func ("/imap-summary/attachments", test_attachment_rules);
  g_test_add_func ("/imap-summary/flags", test_flags_round_trip);
  g_test_add_func ("/imap-summary/decode-like-gmime", test_decode_like_gmime);
  g_test_add_func ("/imap-summary/ids-like-whole-message", test_ids_like_whole_message);
  g_test_add_func ("/imap-summary/dates-like-gmime", test_dates_like_gmime);
  g_test_add_func ("/imap-summary/addresses-like-gmime", test_addresses_like_gmime);

  return g_test_run ();
}
