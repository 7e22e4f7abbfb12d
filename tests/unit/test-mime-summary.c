/* test-mime-summary.c: raw messages to message-list summaries
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <gmime/gmime.h>

#include "lb-mime-summary.h"

/* An arrival time: 2023-11-14 22:13:20 UTC */
#define ARRIVAL  G_GINT64_CONSTANT (1700000000)
/* 2100-01-01 00:00:00 UTC: later than any Date in the corpora */
#define FAR_AHEAD G_GINT64_CONSTANT (4102444800)

/* the folders of tests/data/third-party this test reads */
static const char *const corpora[] = { "cpython-email", "gmime", "stalwart-mail-parser" };

static char *
data_path (const char *relative)
{
  return g_test_build_filename (G_TEST_DIST, "data", "third-party", relative, NULL);
}

static GBytes *
load (const char *relative)
{
  g_autofree char *path = data_path (relative);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);

  return g_bytes_new_take (contents, len);
}

static void
assert_clean_header (const char *value)
{
  if (value == NULL)
    return;

  g_assert_true (g_utf8_validate (value, -1, NULL));
  g_assert_cmpuint (strlen (value), >, 0);
  g_assert_false (g_ascii_isspace (value[0]));
  g_assert_false (g_ascii_isspace (value[strlen (value) - 1]));
  for (const char *p = value; *p != '\0'; p++)
    {
      g_assert_cmpint ((guchar) *p, >=, 0x20);
      g_assert_cmpint ((guchar) *p, !=, 0x7f);
      g_assert_false (p[0] == ' ' && p[1] == ' ');
    }
}

static void
assert_clean_id (const char *id)
{
  if (id == NULL)
    return;

  assert_clean_header (id);
  g_assert_null (strchr (id, '<'));
  g_assert_null (strchr (id, '>'));
}

/* What every summary must be, whatever the input. */
static void
assert_sane (const LbMessageSummary *summary,
             gsize                   size,
             const char             *body_text)
{
  g_assert_nonnull (summary);
  g_assert_cmpint (summary->size, ==, (gint64) size);

  assert_clean_header (summary->subject);
  assert_clean_header (summary->from);
  assert_clean_header (summary->to);
  assert_clean_header (summary->cc);
  assert_clean_id (summary->message_id);
  assert_clean_id (summary->in_reply_to);
  if (summary->references != NULL)
    {
      g_auto(GStrv) ids = g_strsplit (summary->references, " ", -1);

      assert_clean_header (summary->references);
      for (guint i = 0; ids[i] != NULL; i++)
        assert_clean_id (ids[i]);
    }

  assert_clean_header (summary->preview);
  if (summary->preview != NULL)
    g_assert_cmpint (g_utf8_strlen (summary->preview, -1), <=, LB_MIME_SUMMARY_PREVIEW_CHARS);

  if (body_text != NULL)
    {
      g_assert_true (g_utf8_validate (body_text, -1, NULL));
      g_assert_cmpuint (strlen (body_text), >, 0);
      g_assert_cmpuint (strlen (body_text), <=, LB_MIME_SUMMARY_MAX_BODY_TEXT);
    }

  /* left for the caller */
  g_assert_cmpint (summary->key, ==, 0);
  g_assert_cmpint (summary->folder_id, ==, 0);
  g_assert_cmpuint (summary->uid, ==, 0);
  g_assert_null (summary->uidl);
  g_assert_cmpuint (summary->flags, ==, 0);
  g_assert_null (summary->keywords);
  g_assert_cmpint (summary->thread_id, ==, 0);
  g_assert_null (summary->location);
}

static LbMessageSummary *
parse_bytes (GBytes  *bytes,
             gint64   fallback_date,
             char   **body_text)
{
  g_autoptr(GError) error = NULL;
  LbMessageSummary *summary;

  summary = lb_mime_summary_parse (bytes, fallback_date, body_text, &error);
  g_assert_no_error (error);
  assert_sane (summary, g_bytes_get_size (bytes), body_text != NULL ? *body_text : NULL);

  return summary;
}

static LbMessageSummary *
parse_text (const char  *text,
            char       **body_text)
{
  g_autoptr(GBytes) bytes = g_bytes_new (text, strlen (text));

  return parse_bytes (bytes, ARRIVAL, body_text);
}

static LbMessageSummary *
parse_file (const char  *relative,
            gint64       fallback_date,
            char       **body_text)
{
  g_autoptr(GBytes) bytes = load (relative);

  return parse_bytes (bytes, fallback_date, body_text);
}

/* ---- not a message ---------------------------------------------------- */

static void
test_empty (void)
{
  const char *const inputs[] = { "", "\n", " \r\n\t\r\n" };

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new_static (inputs[i], strlen (inputs[i]));
      g_autoptr(GError) error = NULL;
      char *body_text = (char *) "untouched";
      LbMessageSummary *summary;

      summary = lb_mime_summary_parse (bytes, ARRIVAL, &body_text, &error);
      g_assert_null (summary);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_null (body_text);
    }
}

static void
test_no_headers (void)
{
  /* GMime finds no header here; the text is still what the user sees */
  g_autofree char *body_text = NULL;
  g_autoptr(LbMessageSummary) summary =
    parse_text ("this is not\nan RFC 5322 header\n\nbut some text", &body_text);

  g_assert_null (summary->subject);
  g_assert_null (summary->from);
  g_assert_cmpint (summary->date, ==, ARRIVAL);
  g_assert_cmpstr (summary->preview, ==, "this is not an RFC 5322 header but some text");
  g_assert_cmpstr (body_text, ==, "this is not\nan RFC 5322 header\n\nbut some text");

  {
    static const guint8 binary[] = { 0x01, 0x02, 0xff, 0xfe, 0x00, 'z', 'z', 0x80 };
    g_autoptr(GBytes) bytes = g_bytes_new_static (binary, sizeof binary);
    g_autoptr(LbMessageSummary) junk = parse_bytes (bytes, ARRIVAL, NULL);

    g_assert_cmpint (junk->size, ==, sizeof binary);
  }
}

/* ---- headers ---------------------------------------------------------- */

static void
test_subject_utf8 (void)
{
  g_autoptr(LbMessageSummary) encoded =
    parse_text ("Subject: =?UTF-8?B?0J/RgNC40LLQtdGC?=\n"
                " =?UTF-8?Q?_=D0=BC=D0=B8=D1=80?=\n\nbody\n", NULL);
  g_autoptr(LbMessageSummary) folded =
    parse_text ("Subject: a   long\n\tsubject,\r\n   folded\t twice\n\nbody\n", NULL);
  g_autoptr(LbMessageSummary) raw =
    parse_text ("Subject: \320\201\320\273\320\272\320\260 \342\200\224 raw UTF-8\n\nbody\n", NULL);
  g_autoptr(LbMessageSummary) mixed =
    parse_text ("Subject: Re: [list] =?utf-8?q?caf=C3=A9?= and more\n\nbody\n", NULL);
  g_autoptr(LbMessageSummary) empty = parse_text ("Subject:   \n\nbody\n", NULL);

  g_assert_cmpstr (encoded->subject, ==, "Привет мир");
  g_assert_cmpstr (folded->subject, ==, "a long subject, folded twice");
  g_assert_cmpstr (raw->subject, ==, "Ёлка — raw UTF-8");
  g_assert_cmpstr (mixed->subject, ==, "Re: [list] café and more");
  g_assert_null (empty->subject);
}

static void
test_subject_legacy (void)
{
  g_autoptr(GBytes) koi8 = load ("gmime/tests/data/filters/cyrillic.koi8-r.txt");
  g_autoptr(GBytes) cp1251 = load ("gmime/tests/data/filters/cyrillic.cp1251.txt");
  g_autoptr(GBytes) utf8 = load ("gmime/tests/data/filters/cyrillic.utf-8.txt");
  /* the first three words of each sample: the same words */
  g_autofree char *koi8_words = g_strndup (g_bytes_get_data (koi8, NULL), 17);
  g_autofree char *cp1251_words = g_strndup (g_bytes_get_data (cp1251, NULL), 17);
  g_autofree char *expected = g_strndup (g_bytes_get_data (utf8, NULL), 32);
  g_autofree char *koi8_message = NULL;
  g_autofree char *cp1251_message = NULL;
  g_autoptr(LbMessageSummary) encoded = NULL;
  g_autoptr(LbMessageSummary) koi8_raw = NULL;
  g_autoptr(LbMessageSummary) cp1251_raw = NULL;
  g_autoptr(LbMessageSummary) western = NULL;
  g_autoptr(LbMessageSummary) bogus = NULL;
  g_autofree char *bogus_body = NULL;

  g_assert_cmpstr (expected, ==, "Лорем ипсум долор");

  /* an encoded word in KOI8-R */
  encoded = parse_text ("Subject: =?koi8-r?B?8NLJ18XUIM3J0g==?=\n\nbody\n", NULL);
  g_assert_cmpstr (encoded->subject, ==, "Привет мир");

  /* raw 8-bit headers, in the charset the body declares */
  koi8_message = g_strdup_printf ("Subject: %s\nFrom: %s <ivan@example.test>\n"
                                  "Content-Type: text/plain; charset=KOI8-R\n\nbody\n",
                                  koi8_words, koi8_words);
  koi8_raw = parse_text (koi8_message, NULL);
  g_assert_cmpstr (koi8_raw->subject, ==, expected);
  g_assert_cmpstr (koi8_raw->from, ==, "Лорем ипсум долор <ivan@example.test>");

  cp1251_message = g_strdup_printf ("Subject: Re: %s\nTo: %s <olga@example.test>\n"
                                    "Content-Type: multipart/mixed; boundary=b\n\n"
                                    "--b\nContent-Type: text/plain; charset=windows-1251\n\n"
                                    "text\n--b--\n",
                                    cp1251_words, cp1251_words);
  cp1251_raw = parse_text (cp1251_message, NULL);
  g_assert_cmpstr (cp1251_raw->subject, ==, "Re: Лорем ипсум долор");
  g_assert_cmpstr (cp1251_raw->to, ==, "Лорем ипсум долор <olga@example.test>");

  /* no charset anywhere: UTF-8 does not fit, windows-1252 does */
  western = parse_text ("Subject: Caf\351 \223menu\224\n\nbody\n", NULL);
  g_assert_cmpstr (western->subject, ==, "Café “menu”");

  /* a charset nobody knows is no help */
  bogus = parse_text ("Subject: Caf\351\nContent-Type: text/plain; charset=x-bogus\n\n"
                      "caf\351\n", &bogus_body);
  g_assert_cmpstr (bogus->subject, ==, "Café");
  g_assert_cmpstr (bogus_body, ==, "café\n");
}

static void
test_subject_broken_encodings (void)
{
  const char *const subjects[] = {
    "=?utf-8?b?invalid base64!!?=",
    "=?utf-8?q?no end",
    "=?unknown-charset?q?caf=E9?=",
    "=?utf-8?q?=C3?= =?utf-8?q?=A9?=",
    "=?utf-8?b?/w==?= bytes that are not UTF-8",
    "=?utf-8*fr?q?langue?=",
    "=?iso-2022-jp?b?GyRCJUYlOSVIGyhC?=",
    "=?utf-7?q?+BB8EQAQ4BDIENQRC-?=",
  };

  for (guint i = 0; i < G_N_ELEMENTS (subjects); i++)
    {
      g_autofree char *message = g_strdup_printf ("Subject: %s\n\nbody\n", subjects[i]);
      g_autoptr(LbMessageSummary) summary = parse_text (message, NULL);

      g_assert_nonnull (summary->subject);
    }

  {
    /* a UTF-8 character split over two encoded words */
    g_autoptr(LbMessageSummary) split =
      parse_text ("Subject: =?utf-8?q?caf=C3?= =?utf-8?q?=A9?=\n\nbody\n", NULL);
    g_autoptr(LbMessageSummary) japanese =
      parse_text ("Subject: =?iso-2022-jp?b?GyRCJUYlOSVIGyhC?=\n\nbody\n", NULL);

    g_assert_cmpstr (split->subject, ==, "café");
    g_assert_cmpstr (japanese->subject, ==, "テスト");
  }
}

static void
test_addresses (void)
{
  g_autoptr(LbMessageSummary) summary =
    parse_text ("From: =?UTF-8?Q?Al=C3=AFce_Example?= <alice@example.test>\n"
                "To: bob@example.test, \"Carol, C.\" <carol@example.test>\n"
                "To: dave@example.test\n"
                "Cc: Team: erin@example.test, frank@example.test;,\n"
                "  \"Grace\n  Hopper\" <grace@example.test>\n"
                "\nbody\n", NULL);
  g_autoptr(LbMessageSummary) undisclosed =
    parse_text ("From: Mailer-Daemon\nTo: undisclosed-recipients:;\n\nbody\n", NULL);
  g_autoptr(LbMessageSummary) idn =
    parse_text ("From: Dr. Who <who@xn--bcher-kva.example>\n"
                "To: Pel\303\251 <pele@b\303\274cher.example>, <only@example.test>,\n"
                " old@example.test (Old Style)\n\nbody\n", NULL);

  g_assert_cmpstr (summary->from, ==, "Alïce Example <alice@example.test>");
  g_assert_cmpstr (summary->to, ==,
                   "bob@example.test, \"Carol, C.\" <carol@example.test>, dave@example.test");
  g_assert_cmpstr (summary->cc, ==,
                   "Team: erin@example.test, frank@example.test;, Grace Hopper <grace@example.test>");

  /* domains as people write them, not punycode */
  g_assert_cmpstr (idn->from, ==, "\"Dr. Who\" <who@bücher.example>");
  g_assert_cmpstr (idn->to, ==,
                   "Pelé <pele@bücher.example>, only@example.test, Old Style <old@example.test>");

  g_assert_nonnull (undisclosed->from);
  g_assert_nonnull (strstr (undisclosed->from, "Mailer-Daemon"));
  g_assert_nonnull (undisclosed->to);
  g_assert_nonnull (strstr (undisclosed->to, "undisclosed-recipients"));
}

static void
test_ids (void)
{
  const struct
  {
    const char *headers;
    const char *message_id;
    const char *in_reply_to;
    const char *references;
  } cases[] = {
    { "Message-ID: <a1@example.test>\n", "a1@example.test", NULL, NULL },
    { "Message-Id:\n <folded@example.test>\n", "folded@example.test", NULL, NULL },
    /* not in <...>: the text as it is */
    { "Message-ID: bare-id@example.test\n", "bare-id@example.test", NULL, NULL },
    { "Message-ID:   some  odd text  \n", "some odd text", NULL, NULL },
    { "Message-ID: junk <real@example.test> <second@example.test>\n", "real@example.test", NULL, NULL },
    { "Message-ID: <>\n", NULL, NULL, NULL },
    /* only In-Reply-To: it is the references too */
    { "In-Reply-To: Your message of \"Mon, 1 Jan 2024\" <x@example.test> (Alice)\n",
      NULL, "x@example.test", "x@example.test" },
    { "In-Reply-To: <first@example.test> <second@example.test>\n",
      NULL, "first@example.test", "first@example.test" },
    { "In-Reply-To: bare@example.test\n", NULL, "bare@example.test", "bare@example.test" },
    /* junk, commas, folding, a repeat */
    { "In-Reply-To: <3@c>\n"
      "References: <1@a>, <2@b>\n\t<3@c> (junk) \"text\" <2@b>\n",
      NULL, "3@c", "1@a 2@b 3@c" },
    { "References: <1@a><2@b>\n", NULL, NULL, "1@a 2@b" },
    { "References: <>\nIn-Reply-To: <y@example.test>\n", NULL, "y@example.test", "y@example.test" },
    { "References: <broken\n id@example.test>\n", NULL, NULL, "brokenid@example.test" },
    { "References: lost@example.test other@example.test\n",
      NULL, NULL, "lost@example.test other@example.test" },
    { "Subject: none at all\n", NULL, NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *message = g_strdup_printf ("%s\nbody\n", cases[i].headers);
      g_autoptr(LbMessageSummary) summary = NULL;

      g_test_message ("case %u: %s", i, cases[i].headers);
      summary = parse_text (message, NULL);
      g_assert_cmpstr (summary->message_id, ==, cases[i].message_id);
      g_assert_cmpstr (summary->in_reply_to, ==, cases[i].in_reply_to);
      g_assert_cmpstr (summary->references, ==, cases[i].references);
    }
}

static void
test_date (void)
{
  const struct
  {
    const char *header;
    gint64      date;
  } cases[] = {
    { "Date: Tue, 14 Nov 2023 23:13:20 +0100\n", ARRIVAL },
    { "Date: Tue, 14 Nov 2023 14:13:20 -0800 (PST)\n", ARRIVAL },
    { "Date: 14 Nov 2023 22:13:20 GMT\n", ARRIVAL },
    { "Date: Fri, 07 Oct 1994 16:15:05 -0700 (PDT)\n", 781571705 },
    /* twelve hours after arrival: a clock off, still believed */
    { "Date: Wed, 15 Nov 2023 10:13:20 +0000\n", ARRIVAL + 12 * 3600 },
    /* not believed: the arrival time instead */
    { "", ARRIVAL },
    { "Date: Whenever\n", ARRIVAL },
    { "Date: \n", ARRIVAL },
    { "Date: Thu, 01 Jan 1970 00:00:00 +0000\n", ARRIVAL },
    { "Date: Sat, 01 Jan 1955 10:00:00 +0000\n", ARRIVAL },
    { "Date: Fri, 17 Nov 2023 22:13:20 +0000\n", ARRIVAL },
    { "Date: Fri, 01 Jan 2100 00:00:00 +0000\n", ARRIVAL },
    { "Date: Mon, 32 Foo 99999 99:99:99 +9999\n", ARRIVAL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *message = g_strdup_printf ("Subject: date\n%s\nbody\n", cases[i].header);
      g_autoptr(LbMessageSummary) summary = NULL;

      g_test_message ("case %u: %s", i, cases[i].header);
      summary = parse_text (message, NULL);
      g_assert_cmpint (summary->date, ==, cases[i].date);
    }
}

/* Header fields of messages whose parse results the mail-parser project
 * publishes (the .json next to each .eml upstream), as those results give
 * them; the dates are the UTC seconds of the DateTime there. */
static void
test_stalwart_headers (void)
{
  const struct
  {
    const char *file;
    const char *subject;
    const char *from;
    const char *to;
    const char *message_id;
    gint64      date;
  } cases[] = {
    { "rfc/000.eml", "A multipart example", "Nathaniel Borenstein <nsb@nsb.fv.com>",
      "Ned Freed <ned@innosoft.com>", NULL, 781571705 },
    { "rfc/001.eml", "whatever", "Whomever", "Someone", "id1@host.com", 0 },
    { "rfc/002.eml", "[Fwd: Map of Argentina with Description]",
      "Al Gore <vice-president@whitehouse.gov>",
      "White House Transportation Coordinator <transport@whitehouse.gov>", NULL, 0 },
    { "rfc/003.eml", "Formatted text mail", "Nathaniel Borenstein <nsb@bellcore.com>",
      "Ned Freed <ned@innosoft.com>", NULL, 732822069 },
    { "rfc/004.eml", "Internet Digest, volume 42", "Moderator-Address", "Recipient-List",
      NULL, 764343291 },
    { "rfc/005.eml", "Sample message", "Nathaniel Borenstein <nsb@bellcore.com>",
      "Ned Freed <ned@innosoft.com>", NULL, 732787008 },
    { "rfc/006.eml", "Multipart Email Example", "sender@example.com", "recipient@example.com",
      NULL, 0 },
    { "rfc/007.eml", "RFC 8621 Section 4.1.4 test", NULL, NULL, NULL, 0 },
    { "rfc/009.eml", "whatever", "Whomever <whoever@example.com>", "Someone <someone@example.com>",
      NULL, 1255127404 },
    { "thirdparty/006.eml", "Hide and seek", NULL, NULL, NULL, 0 },
    { "thirdparty/007.eml", NULL, "Moderator-Address <moderator>", NULL, NULL, 0 },
    { "thirdparty/008.eml", NULL, "user@domain.org", NULL, NULL, 1174770000 },
    { "thirdparty/009.eml", "In parts", NULL, NULL, NULL, 0 },
    { "thirdparty/010.eml", "こんにちは", NULL, NULL, NULL, 0 },
    { "thirdparty/011.eml", "small image", "Dummy <dummy@xyz-webserver.abcd-gestion.local>",
      "admin xyz <admin@xyz-webserver.abcd-gestion.local>",
      "ca2236fb-9819-82dd-c501-d3bcf737a768@xyz-webserver.abcd-gestion.local", 1658157592 },
    { "thirdparty/012.eml", NULL, "user@domain.org", NULL, NULL, 1174770000 },
    { "thirdparty/013.eml", NULL, NULL, NULL, NULL, 1660914640 },
    { "thirdparty/014.eml", "[Shapelib] need some help", "calpas calpas <calpas2007@yahoo.fr>",
      "shapelib@lists.maptools.org", "325993.29502.qm@web28416.mail.ukl.yahoo.com", 1299669585 },
    { "thirdparty/015.eml", "Re: (#5290765) Proxmox Shop E-Mails",
      "Jonas Sterr - ProxForge <jsterr@proxforge.de>", "Jonas Sterr <jonas.sterr@gmx.net>",
      "7da78721a8a234894af702fe25fc64a5@proxforge.de", 1771018696 },
    { "thirdparty/016.eml", "25 HTML + embedded image", "test@example.com", "test@example.com",
      "c1ddcd5d-71c1-9c9d-1b81-e3b9abb99030@example.com", 1514658383 },
    { "thirdparty/017.eml", "27 plaintext + (HTML + embedded image)", "test@example.com",
      "test@example.com", "fd7a5d4a-6a3a-8b9b-b3e4-9e9391c3c703@example.com", 1514658960 },
    { "thirdparty/018.eml", "29 (HTML + embedded image) + attachment", "test@example.com",
      "test@example.com", "cdf5bf44-03a4-4be1-c9c7-88cb4a5838ed@example.com", 1514661586 },
    { "thirdparty/019.eml", "30 plaintext + (HTML + embedded image) + attachment",
      "test@example.com", "test@example.com", "1e58c8f2-3a15-96e7-76b7-046cf6e1ce1e@example.com",
      1514663401 },
    { "malformed/015.eml", "Hello world", "Test User <test@example.org>",
      "Another User <test2@example.org>", "1.2.3.4@example", 1179885488 },
    { "malformed/017.eml", "Hello world", "Test User <test@example.org>",
      "Another User <test2@example.org>", NULL, 0 },
    { "malformed/020.eml", "test multipart, related first, with image", "test <test@example.com>",
      "test2 <test2@example.com>", NULL, 1456589505 },
    { "malformed/021.eml", "test multipart, related first", "test <test@example.com>",
      "test2 <test2@example.com>", NULL, 1456589505 },
    { "malformed/022.eml", "broken rfc822 attachment", "a@example.com", NULL, NULL, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *relative = g_build_filename ("stalwart-mail-parser", "resources", "eml",
                                                    cases[i].file, NULL);
      g_autoptr(LbMessageSummary) summary = NULL;

      g_test_message ("%s", cases[i].file);
      summary = parse_file (relative, FAR_AHEAD, NULL);
      g_assert_cmpstr (summary->subject, ==, cases[i].subject);
      g_assert_cmpstr (summary->from, ==, cases[i].from);
      g_assert_cmpstr (summary->to, ==, cases[i].to);
      g_assert_cmpstr (summary->message_id, ==, cases[i].message_id);
      g_assert_cmpint (summary->date, ==, cases[i].date != 0 ? cases[i].date : FAR_AHEAD);
    }
}

/* ---- body text and preview -------------------------------------------- */

static char *
cyrillic_message (const char *charset,
                  const char *encoding,
                  const char *file)
{
  g_autoptr(GBytes) text = load (file);
  g_autofree char *body = NULL;
  gsize len = 0;
  const char *data = g_bytes_get_data (text, &len);

  if (g_strcmp0 (encoding, "base64") == 0)
    body = g_base64_encode ((const guchar *) data, len);
  else
    body = g_strndup (data, len);

  return g_strdup_printf ("Subject: text\nContent-Type: text/plain; charset=%s\n"
                          "Content-Transfer-Encoding: %s\n\n%s\n",
                          charset, encoding, body);
}

/* The sample, its lines joined the way the preview joins them, cut at
 * the preview's length. */
static char *
expected_preview (const char *text)
{
  g_autofree char *folded = g_strdup (text);
  char *p;
  char *end;

  g_strdelimit (folded, "\n\t", ' ');
  g_strstrip (folded);
  while ((p = strstr (folded, "  ")) != NULL)
    memmove (p, p + 1, strlen (p));

  end = g_utf8_offset_to_pointer (folded, MIN (g_utf8_strlen (folded, -1), LB_MIME_SUMMARY_PREVIEW_CHARS));
  *end = '\0';
  g_strchomp (folded);

  return g_steal_pointer (&folded);
}

static void
test_body_charsets (void)
{
  g_autoptr(GBytes) utf8 = load ("gmime/tests/data/filters/cyrillic.utf-8.txt");
  g_autofree char *expected = g_strndup (g_bytes_get_data (utf8, NULL), g_bytes_get_size (utf8));
  g_autofree char *preview = expected_preview (expected);
  const struct
  {
    const char *charset;
    const char *encoding;
    const char *file;
  } cases[] = {
    { "windows-1251", "8bit", "gmime/tests/data/filters/cyrillic.cp1251.txt" },
    { "\"cp1251\"", "base64", "gmime/tests/data/filters/cyrillic.cp1251.txt" },
    { "koi8-r", "base64", "gmime/tests/data/filters/cyrillic.koi8-r.txt" },
    { "KOI8-R", "8bit", "gmime/tests/data/filters/cyrillic.koi8-r.txt" },
    { "utf-8", "8bit", "gmime/tests/data/filters/cyrillic.utf-8.txt" },
  };

  g_strchomp (expected);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *message = cyrillic_message (cases[i].charset, cases[i].encoding, cases[i].file);
      g_autofree char *body_text = NULL;
      g_autoptr(LbMessageSummary) summary = NULL;

      g_test_message ("%s in %s", cases[i].charset, cases[i].encoding);
      summary = parse_text (message, &body_text);
      g_strchomp (body_text);
      g_assert_cmpstr (body_text, ==, expected);
      g_assert_cmpstr (summary->preview, ==, preview);
      g_assert_cmpint (g_utf8_strlen (summary->preview, -1), ==, LB_MIME_SUMMARY_PREVIEW_CHARS);
    }
}

static void
test_body_japanese (void)
{
  g_autoptr(GBytes) jis = load ("gmime/tests/data/filters/japanese.iso-2022-jp.txt");
  g_autoptr(GBytes) utf8 = load ("gmime/tests/data/filters/japanese.utf-8.txt");
  g_autofree char *expected = g_strndup (g_bytes_get_data (utf8, NULL), g_bytes_get_size (utf8));
  g_autofree char *jis_text = g_strndup (g_bytes_get_data (jis, NULL), g_bytes_get_size (jis));
  g_autofree char *message = g_strdup_printf ("Subject: jis\nContent-Type: text/plain; "
                                              "charset=ISO-2022-JP\n\n%s", jis_text);
  g_autofree char *body_text = NULL;
  g_autoptr(LbMessageSummary) summary = parse_text (message, &body_text);

  g_strchomp (expected);
  g_strchomp (body_text);
  g_assert_cmpstr (body_text, ==, expected);
}

static void
test_body_undeclared (void)
{
  /* text with no charset, in the usual Western one */
  g_autoptr(GBytes) fable = load ("gmime/tests/data/filters/french-fable.cp1252.txt");
  g_autofree char *text = g_strndup (g_bytes_get_data (fable, NULL), g_bytes_get_size (fable));
  g_autofree char *message = g_strdup_printf ("Subject: fable\n\n%s", text);
  g_autofree char *body_text = NULL;
  g_autoptr(LbMessageSummary) summary = parse_text (message, &body_text);
  g_autoptr(LbMessageSummary) bad_utf8 = NULL;
  g_autofree char *bad_body = NULL;

  g_assert_true (g_str_has_prefix (summary->preview,
                                   "Maître Corbeau, sur un arbre perché, Tenait en son bec un fromage."));
  /* U+2019, which windows-1252 has and ISO-8859-1 does not */
  g_assert_nonnull (strstr (body_text, "Maître Renard, par l’odeur alléché,\n"));

  /* says UTF-8 but is not, everywhere: what can be read is kept */
  bad_utf8 = parse_text ("Subject: x\nContent-Type: text/plain; charset=utf-8\n\n"
                         "caf\351 ok \303\251t\303\251\n", &bad_body);
  g_assert_cmpstr (bad_body, ==, "caf\357\277\275 ok été\n");
}

static void
test_body_nul_and_controls (void)
{
  static const char message[] = "Subject: nul\r\n\r\nbefore\0after\r\nline\x01two\r\n";
  g_autoptr(GBytes) bytes = g_bytes_new_static (message, sizeof message - 1);
  g_autofree char *body_text = NULL;
  g_autoptr(LbMessageSummary) summary = parse_bytes (bytes, ARRIVAL, &body_text);

  g_assert_cmpstr (body_text, ==, "before after\nline two\n");
  g_assert_cmpstr (summary->preview, ==, "before after line two");
}

static void
test_body_utf16 (void)
{
  static const char message[] = "Subject: wide\nContent-Type: text/plain; charset=utf-16le\n\n"
                                "W\0i\0d\0e\0\0\0t\0e\0x\0t\0\x3a\x04";
  g_autoptr(GBytes) bytes = g_bytes_new_static (message, sizeof message - 1);
  g_autofree char *body_text = NULL;
  g_autoptr(LbMessageSummary) summary = parse_bytes (bytes, ARRIVAL, &body_text);

  /* the NUL character does not end the text */
  g_assert_cmpstr (body_text, ==, "Wide textк");
}

static void
test_body_cap (void)
{
  GString *message = g_string_new ("Subject: long\nContent-Type: text/plain; charset=utf-8\n\n");
  g_autofree char *body_text = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(LbMessageSummary) summary = NULL;

  /* two-byte characters with a one-byte step, so the cut falls inside one */
  g_string_append_c (message, 'x');
  while (message->len < 300 * 1024)
    g_string_append (message, "ж");
  bytes = g_string_free_to_bytes (message);

  summary = parse_bytes (bytes, ARRIVAL, &body_text);
  g_assert_cmpuint (strlen (body_text), ==, LB_MIME_SUMMARY_MAX_BODY_TEXT - 1);
  g_assert_cmpint (g_utf8_strlen (summary->preview, -1), ==, LB_MIME_SUMMARY_PREVIEW_CHARS);
}

static void
test_preview_alternative (void)
{
  g_autofree char *body_text = NULL;
  g_autoptr(LbMessageSummary) both =
    parse_text ("Subject: alt\nMIME-Version: 1.0\n"
                "Content-Type: multipart/alternative; boundary=\"b\"\n\n"
                "--b\nContent-Type: text/plain; charset=us-ascii\n\n"
                "Plain  version\nof the text.\n"
                "--b\nContent-Type: text/html; charset=us-ascii\n\n"
                "<p>HTML version</p>\n"
                "--b--\n", &body_text);
  g_autoptr(LbMessageSummary) empty_plain =
    parse_text ("Subject: alt\nContent-Type: multipart/alternative; boundary=b\n\n"
                "--b\nContent-Type: text/plain\n\n \n"
                "--b\nContent-Type: text/html\n\n<div>Only the <b>HTML</b> says something</div>\n"
                "--b--\n", NULL);
  g_autoptr(LbMessageSummary) nested =
    parse_text ("Subject: alt\nContent-Type: multipart/alternative; boundary=b\n\n"
                "--b\nContent-Type: multipart/mixed; boundary=m\n\n"
                "--m\nContent-Type: text/plain\n\nPlain inside mixed\n--m--\n"
                "--b\nContent-Type: multipart/related; boundary=r\n\n"
                "--r\nContent-Type: text/html\n\n<p>HTML inside related</p>\n--r--\n"
                "--b--\n", NULL);

  g_assert_cmpstr (both->preview, ==, "Plain version of the text.");
  /* one alternative only in the index */
  g_assert_cmpstr (body_text, ==, "Plain  version\nof the text.");
  g_assert_false (both->has_attachments);

  g_assert_cmpstr (empty_plain->preview, ==, "Only the HTML says something");
  g_assert_cmpstr (nested->preview, ==, "Plain inside mixed");
}

static void
test_preview_html (void)
{
  g_autofree char *body_text = NULL;
  g_autoptr(LbMessageSummary) summary =
    parse_text ("Subject: html\nContent-Type: text/html; charset=utf-8\n\n"
                "<!DOCTYPE html><html><head><title>Title text</title>\n"
                "<style type=\"text/css\">p { color: red; }</style>\n"
                "<script>var x = \"<p>not text</p>\";</script></head>\n"
                "<BODY><!-- a comment <p>hidden</p> -->\n"
                "<p class='a>b'>Fish &amp; chips&nbsp;&mdash; &eacute;t&#233; &#x263A;\n"
                "&unknown; a&lt;b, 3 < 4 &#0; &#x110000;</p>\n"
                "<table><tr><td>one</td><td>two</td></tr></table>"
                "<blockquote>quoted</blockquote><p>after</p>"
                "<img src=\"cid:x\" alt=\"image\"><br/>end</body></html>\n", &body_text);

  g_assert_cmpstr (summary->preview, ==,
                   "Fish & chips — été ☺ &unknown; a<b, 3 < 4 \357\277\275 \357\277\275 "
                   "one two after end");
  g_assert_cmpstr (body_text, ==,
                   "Fish & chips — été ☺ &unknown; a<b, 3 < 4 \357\277\275 \357\277\275\n"
                   "one two\n> quoted\nafter\nend");
}

static void
test_preview_html_hostile (void)
{
  /* each is read in one pass, however it is broken */
  const char *const pieces[] = { "<head>", "<title>", "<a href=\"", "<!--", "<style>", "&#", "<" };

  for (guint i = 0; i < G_N_ELEMENTS (pieces); i++)
    {
      GString *message = g_string_new ("Subject: x\nContent-Type: text/html\n\nvisible ");
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(LbMessageSummary) summary = NULL;

      while (message->len < 900 * 1024)
        g_string_append (message, pieces[i]);
      bytes = g_string_free_to_bytes (message);

      summary = parse_bytes (bytes, ARRIVAL, NULL);
      g_assert_true (g_str_has_prefix (summary->preview, "visible"));
    }
}

static void
test_preview_quotes (void)
{
  const struct
  {
    const char *body;
    const char *preview;
  } cases[] = {
    { "On Mon, 1 Jan 2024 at 10:00, Alice <alice@example.test> wrote:\n"
      "> Shall we meet?\n> At noon?\n\nYes, at noon.\n",
      "Yes, at noon." },
    { "Sounds good.\n\nOn Mon, 1 Jan 2024 at 10:00, Alice Example\n"
      "<alice@example.test> wrote:\n>\n> Shall we meet?\n",
      "Sounds good." },
    { "Bob Example schrieb:\n> Hallo\nHallo zurück\n", "Hallo zurück" },
    { "Иван написал(а):\n> Привет\n\nПривет!\n", "Привет!" },
    /* "wrote:" not before a quote is text */
    { "Here is what she wrote:\nNothing.\n", "Here is what she wrote: Nothing." },
    { "Short answer.\n-- \nBob\nhttps://bob.example.test\n", "Short answer." },
    { "Answer.\n\n-----Original Message-----\nFrom: Alice\nSubject: Q\n\nQuestion\n", "Answer." },
    { "Answer.\n________________________________\nFrom: Alice\n", "Answer." },
    { "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nSigned text.\n"
      "-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n",
      "Signed text." },
    /* nothing but a quote: then the quote */
    { "> only\n> quoted\n", "> only > quoted" },
    { "  \t\n\n   spaced\t\tout  \n\n\n text\n", "spaced out text" },
    { "zero\342\200\213width\302\255 and\302\240nbsp\n", "zerowidth and nbsp" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *message = g_strdup_printf ("Subject: Re: q\nContent-Type: text/plain; "
                                                  "charset=utf-8\n\n%s", cases[i].body);
      g_autoptr(LbMessageSummary) summary = NULL;

      g_test_message ("case %u", i);
      summary = parse_text (message, NULL);
      g_assert_cmpstr (summary->preview, ==, cases[i].preview);
    }

  {
    g_autoptr(LbMessageSummary) html =
      parse_text ("Subject: Re: q\nContent-Type: text/html\n\n"
                  "<div dir=\"ltr\">Fine by me.</div><br><div class=\"gmail_quote\">"
                  "<div class=\"gmail_attr\">On Mon, Jan 1, 2024 at 10:00 AM Alice &lt;"
                  "<a href=\"mailto:alice@example.test\">alice@example.test</a>&gt; wrote:<br></div>"
                  "<blockquote class=\"gmail_quote\">Shall we <b>meet</b>?</blockquote></div>\n", NULL);

    g_assert_cmpstr (html->preview, ==, "Fine by me.");
  }
}

/* ---- attachments ------------------------------------------------------ */

static void
test_attachments (void)
{
  const struct
  {
    const char *name;
    const char *message;
    gboolean    has_attachments;
    const char *preview;
  } cases[] = {
    { "pdf",
      "Content-Type: multipart/mixed; boundary=b\n\n"
      "--b\nContent-Type: text/plain\n\nSee attached.\n"
      "--b\nContent-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: base64\n\n"
      "JVBERi0=\n--b--\n",
      TRUE, "See attached." },
    { "text file as attachment",
      "Content-Type: multipart/mixed; boundary=b\n\n"
      "--b\nContent-Type: text/plain\n\nBody.\n"
      "--b\nContent-Type: text/plain; name=notes.txt\n"
      "Content-Disposition: attachment; filename=notes.txt\n\nnot the body\n--b--\n",
      TRUE, "Body." },
    { "csv, inline but a file",
      "Content-Type: multipart/mixed; boundary=b\n\n"
      "--b\nContent-Type: text/plain\n\nBody.\n"
      "--b\nContent-Type: text/csv; name=data.csv\n\na,b\n--b--\n",
      TRUE, "Body." },
    { "inline image shown by the HTML",
      "Content-Type: multipart/related; boundary=b; type=text/html\n\n"
      "--b\nContent-Type: text/html\n\n<p>Look: <img src=\"cid:logo@example.test\"></p>\n"
      "--b\nContent-Type: image/png\nContent-ID: <logo@example.test>\n"
      "Content-Disposition: inline; filename=logo.png\n"
      "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--b--\n",
      FALSE, "Look:" },
    { "inline image inside alternative, plain text shown",
      "Content-Type: multipart/alternative; boundary=a\n\n"
      "--a\nContent-Type: text/plain\n\nLook.\n"
      "--a\nContent-Type: multipart/related; boundary=b\n\n"
      "--b\nContent-Type: text/html\n\n<img src=\"CID:logo%40example.test\">\n"
      "--b\nContent-Type: image/png\nContent-ID: <logo@example.test>\n\nxx\n--b--\n"
      "--a--\n",
      FALSE, "Look." },
    { "related image nobody shows",
      "Content-Type: multipart/related; boundary=b\n\n"
      "--b\nContent-Type: text/html\n\n<p>No image here</p>\n"
      "--b\nContent-Type: image/png\nContent-ID: <other@example.test>\n\nxx\n--b--\n",
      TRUE, "No image here" },
    { "related root chosen by start",
      "Content-Type: multipart/related; boundary=b; start=\"<root@x>\"\n\n"
      "--b\nContent-Type: image/png\nContent-ID: <img@x>\n\nxx\n"
      "--b\nContent-Type: text/html\nContent-ID: <root@x>\n\n<img src=cid:img@x>Root\n--b--\n",
      FALSE, "Root" },
    { "PGP/MIME signature",
      "Content-Type: multipart/signed; boundary=b; micalg=pgp-sha256;\n"
      " protocol=\"application/pgp-signature\"\n\n"
      "--b\nContent-Type: text/plain\n\nSigned.\n"
      "--b\nContent-Type: application/pgp-signature; name=OpenPGP_signature.asc\n"
      "Content-Disposition: attachment; filename=OpenPGP_signature.asc\n\n"
      "-----BEGIN PGP SIGNATURE-----\nxx\n-----END PGP SIGNATURE-----\n--b--\n",
      FALSE, "Signed." },
    { "S/MIME signature",
      "Content-Type: multipart/signed; boundary=b; micalg=sha-256;\n"
      " protocol=\"application/pkcs7-signature\"\n\n"
      "--b\nContent-Type: text/plain\n\nSigned.\n"
      "--b\nContent-Type: application/pkcs7-signature; name=smime.p7s\n"
      "Content-Disposition: attachment; filename=smime.p7s\nContent-Transfer-Encoding: base64\n\n"
      "MIAGCSqGSIb3DQEHAqCAMIACAQEx\n--b--\n",
      FALSE, "Signed." },
    { "PGP/MIME encrypted",
      "Content-Type: multipart/encrypted; boundary=b; protocol=\"application/pgp-encrypted\"\n\n"
      "--b\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n"
      "--b\nContent-Type: application/octet-stream; name=encrypted.asc\n"
      "Content-Disposition: inline; filename=encrypted.asc\n\n"
      "-----BEGIN PGP MESSAGE-----\nxx\n-----END PGP MESSAGE-----\n--b--\n",
      FALSE, NULL },
    { "S/MIME encrypted",
      "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\n"
      "Content-Disposition: attachment; filename=smime.p7m\nContent-Transfer-Encoding: base64\n\n"
      "MIAGCSqGSIb3DQEHA6CAMIACAQAx\n",
      FALSE, NULL },
    { "invitation",
      "Content-Type: multipart/alternative; boundary=b\n\n"
      "--b\nContent-Type: text/plain\n\nMeeting at noon.\n"
      "--b\nContent-Type: text/calendar; method=REQUEST\n\nBEGIN:VCALENDAR\nEND:VCALENDAR\n--b--\n",
      TRUE, "Meeting at noon." },
    { "forwarded message",
      "Content-Type: multipart/mixed; boundary=b\n\n"
      "--b\nContent-Type: text/plain\n\nFYI.\n"
      "--b\nContent-Type: message/rfc822\nContent-Disposition: inline\n\n"
      "Subject: inner\n\nInner text, not this message's.\n--b--\n",
      TRUE, "FYI." },
    { "delivery report",
      "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n"
      "--b\nContent-Type: text/plain\n\nYour message could not be delivered.\n"
      "--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.test\n"
      "--b\nContent-Type: text/rfc822-headers\n\nSubject: hello\n--b--\n",
      FALSE, "Your message could not be delivered." },
    { "a bare document",
      "Content-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n",
      TRUE, NULL },
    { "plain only",
      "Content-Type: text/plain\n\nJust text.\n",
      FALSE, "Just text." },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *message = g_strdup_printf ("Subject: parts\nMIME-Version: 1.0\n%s",
                                                  cases[i].message);
      g_autofree char *body_text = NULL;
      g_autoptr(LbMessageSummary) summary = NULL;

      g_test_message ("%s", cases[i].name);
      summary = parse_text (message, &body_text);
      g_assert_cmpint (summary->has_attachments, ==, cases[i].has_attachments);
      g_assert_cmpstr (summary->preview, ==, cases[i].preview);
      if (body_text != NULL)
        {
          g_assert_null (strstr (body_text, "not the body"));
          g_assert_null (strstr (body_text, "Inner text"));
          g_assert_null (strstr (body_text, "BEGIN PGP"));
        }
    }
}

static void
test_attachments_corpus (void)
{
  const struct
  {
    const char *file;
    gboolean    has_attachments;
  } cases[] = {
    /* Thunderbird: a picture pasted into the text */
    { "stalwart-mail-parser/resources/eml/thirdparty/011.eml", FALSE },
    { "stalwart-mail-parser/resources/eml/thirdparty/016.eml", FALSE },
    { "stalwart-mail-parser/resources/eml/thirdparty/017.eml", FALSE },
    /* the same, with a file attached */
    { "stalwart-mail-parser/resources/eml/thirdparty/018.eml", TRUE },
    { "stalwart-mail-parser/resources/eml/thirdparty/019.eml", TRUE },
    { "stalwart-mail-parser/resources/eml/rfc/005.eml", FALSE },
    { "stalwart-mail-parser/resources/eml/rfc/006.eml", FALSE },
    { "stalwart-mail-parser/resources/eml/rfc/002.eml", TRUE },
    { "gmime/tests/rfc2060.msg", TRUE },
    { "gmime/tests/data/partial/input/photo-discuss/message-partial.0.eml", TRUE },
    { "gmime/tests/data/pgp/signed-message.txt", FALSE },
    { "cpython-email/Lib/test/test_email/data/msg_45.txt", FALSE },
    { "cpython-email/Lib/test/test_email/data/msg_07.txt", TRUE },
    { "cpython-email/Lib/test/test_email/data/msg_01.txt", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LbMessageSummary) summary = NULL;

      g_test_message ("%s", cases[i].file);
      summary = parse_file (cases[i].file, FAR_AHEAD, NULL);
      g_assert_cmpint (summary->has_attachments, ==, cases[i].has_attachments);
    }
}

static void
test_corpus_texts (void)
{
  g_autofree char *signed_body = NULL;
  g_autoptr(LbMessageSummary) signed_message =
    parse_file ("gmime/tests/data/pgp/signed-message.txt", ARRIVAL, &signed_body);
  g_autoptr(LbMessageSummary) rfc2060 = parse_file ("gmime/tests/rfc2060.msg", ARRIVAL, NULL);
  g_autoptr(LbMessageSummary) quoted_printable =
    parse_file ("cpython-email/Lib/test/test_email/data/msg_10.txt", ARRIVAL, NULL);
  g_autofree char *rfc8621_body = NULL;
  g_autoptr(LbMessageSummary) rfc8621 =
    parse_file ("stalwart-mail-parser/resources/eml/rfc/007.eml", ARRIVAL, &rfc8621_body);
  g_autoptr(LbMessageSummary) no_boundary =
    parse_file ("cpython-email/Lib/test/test_email/data/msg_41.txt", ARRIVAL, NULL);

  /* the text of an inline-signed message, without the armour */
  g_assert_cmpstr (signed_message->preview, ==, "This is the message body.");
  g_assert_true (g_str_has_prefix (signed_body, "-----BEGIN PGP SIGNED MESSAGE-----"));

  g_assert_cmpstr (rfc2060->preview, ==, "This part specifier should be: 1");
  g_assert_cmpstr (rfc2060->subject, ==, "Sample message structure for IMAP part specifiers");

  g_assert_true (g_str_has_prefix (quoted_printable->preview, "This is a 7bit encoded message."));

  /* RFC 8621's example: the text of the first alternative, the plain one */
  g_assert_cmpstr (rfc8621_body, ==, "A\nB\nD\nK");
  g_assert_true (rfc8621->has_attachments);

  /* a multipart whose boundary never comes: its text */
  g_assert_cmpstr (no_boundary->preview, ==, "Blah blah blah");
}

/* ---- robustness ------------------------------------------------------- */

typedef struct
{
  char   *name;
  GBytes *bytes;
} CorpusFile;

static void
corpus_file_free (gpointer data)
{
  CorpusFile *file = data;

  g_free (file->name);
  g_bytes_unref (file->bytes);
  g_free (file);
}

static void
add_tree (GPtrArray  *files,
          const char *relative)
{
  g_autofree char *path = data_path (relative);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = g_dir_open (path, 0, &error);
  const char *name;

  g_assert_no_error (error);

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (relative, name, NULL);
      g_autofree char *child_path = data_path (child);

      if (g_file_test (child_path, G_FILE_TEST_IS_DIR))
        {
          add_tree (files, child);
        }
      else if (strcmp (name, "LICENSE") != 0 && strcmp (name, "COPYING") != 0 &&
               !g_str_has_prefix (name, "LICENSE"))
        {
          CorpusFile *file = g_new0 (CorpusFile, 1);

          file->name = g_steal_pointer (&child);
          file->bytes = load (file->name);
          g_ptr_array_add (files, file);
        }
    }
}

static int
compare_files (gconstpointer a,
               gconstpointer b)
{
  const CorpusFile *fa = *(CorpusFile * const *) a;
  const CorpusFile *fb = *(CorpusFile * const *) b;

  return strcmp (fa->name, fb->name);
}

static GPtrArray *
load_corpora (void)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (corpus_file_free);

  for (guint i = 0; i < G_N_ELEMENTS (corpora); i++)
    add_tree (files, corpora[i]);

  /* the same order everywhere, for the mutations */
  g_ptr_array_sort (files, compare_files);
  g_assert_cmpuint (files->len, >, 100);

  return files;
}

static void
test_corpus (void)
{
  g_autoptr(GPtrArray) files = load_corpora ();

  for (guint i = 0; i < files->len; i++)
    {
      CorpusFile *file = g_ptr_array_index (files, i);
      g_autofree char *body_text = NULL;
      g_autoptr(LbMessageSummary) summary = NULL;

      g_test_message ("%s", file->name);
      summary = parse_bytes (file->bytes, ARRIVAL, &body_text);
    }
}

static const char *const insertions[] = {
  "\n", "\r\n", "\n\n", "\0", "=?", "?=", "=?utf-8?b?", "=?utf-8?q?=C3?=", "=?koi8-r?q?=F0=D2?=",
  "=?x-unknown?b?AAAA?=", "\n--", "--\n", "\nContent-Type: multipart/mixed; boundary=\"b\"\n",
  "\n--b\n", "\n--b--\n", "\nContent-Transfer-Encoding: base64\n", "\nContent-Transfer-Encoding: "
  "quoted-printable\n", "\nContent-Type: text/html; charset=iso-2022-jp\n\n", "charset=\"",
  "<", ">", "&#", "&#x1F600;", "<blockquote>", "<style>", "<!--", "cid:", ";", "\"", "\\",
  "\xff\xfe", "\xd0", "\x1b$B", "begin 644 x\n", "\nContent-Type: message/rfc822\n\n",
  "\nContent-Disposition: attachment; filename*=utf-8''%E2%82\n",
  "\nReferences: <a@b>, <\n", "\nDate: 31 Feb 99999 25:61:61 -9999\n",
};

static void
insert_bytes (GByteArray   *data,
              guint         pos,
              const guint8 *bytes,
              guint         n)
{
  guint len = data->len;

  g_byte_array_set_size (data, len + n);
  memmove (data->data + pos + n, data->data + pos, len - pos);
  memcpy (data->data + pos, bytes, n);
}

/* Breaks @data a little, the way a bad disk, a bad server or a bad
 * mailer would. */
static void
mutate (GRand      *rand,
        GByteArray *data)
{
  guint len = data->len;
  guint pos = len > 0 ? (guint) g_rand_int_range (rand, 0, (gint32) len + 1) : 0;

  switch (g_rand_int_range (rand, 0, 6))
    {
    case 0: /* cut short */
      g_byte_array_set_size (data, pos);
      break;

    case 1: /* a flipped byte */
      if (pos < len)
        data->data[pos] = (guint8) g_rand_int_range (rand, 0, 256);
      break;

    case 2: /* MIME-looking junk */
      {
        const char *text = insertions[g_rand_int_range (rand, 0, G_N_ELEMENTS (insertions))];

        insert_bytes (data, pos, (const guint8 *) text, MAX (strlen (text), 1));
      }
      break;

    case 3: /* a boundary of the message, where it does not belong */
      {
        const char *found = g_strstr_len ((const char *) data->data, len, "boundary=");

        if (found != NULL)
          {
            const char *value = found + 9;
            const char *end = (const char *) data->data + len;
            guint n = 0;
            GString *line = g_string_new ("\n--");

            if (value < end && *value == '"')
              value++;
            while (value + n < end && value[n] != '"' && value[n] != ';' && value[n] != '\n' && n < 70)
              n++;
            g_string_append_len (line, value, n);
            if (g_rand_boolean (rand))
              g_string_append (line, "--");
            g_string_append_c (line, '\n');
            insert_bytes (data, pos, (const guint8 *) line->str, line->len);
            g_string_free (line, TRUE);
          }
      }
      break;

    case 4: /* a piece gone */
      if (pos < len)
        {
          guint n = (guint) g_rand_int_range (rand, 1, (gint32) MIN (len - pos, 512) + 1);

          g_byte_array_remove_range (data, pos, n);
        }
      break;

    default: /* a piece repeated */
      if (len > 0)
        {
          guint from = (guint) g_rand_int_range (rand, 0, (gint32) len);
          guint n = (guint) g_rand_int_range (rand, 1, (gint32) MIN (len - from, 4096) + 1);
          g_autofree guint8 *copy = g_memdup2 (data->data + from, n);

          insert_bytes (data, pos, copy, n);
        }
      break;
    }
}

static void
test_mutations (void)
{
  g_autoptr(GPtrArray) files = load_corpora ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);
  guint iterations = g_test_slow () ? 50000 : 4000;

  for (guint i = 0; i < iterations; i++)
    {
      CorpusFile *file = g_ptr_array_index (files, g_rand_int_range (rand, 0, (gint32) files->len));
      gsize size = 0;
      const guint8 *original = g_bytes_get_data (file->bytes, &size);
      g_autoptr(GByteArray) data = g_byte_array_sized_new ((guint) size + 64);
      guint n = (guint) g_rand_int_range (rand, 1, 5);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *body_text = NULL;
      g_autoptr(LbMessageSummary) summary = NULL;

      g_byte_array_append (data, original, (guint) size);
      for (guint j = 0; j < n; j++)
        mutate (rand, data);

      bytes = g_bytes_new (data->data, data->len);
      summary = lb_mime_summary_parse (bytes, ARRIVAL, &body_text, &error);

      if (summary == NULL)
        {
          /* only when nothing is left */
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
          for (guint k = 0; k < data->len; k++)
            g_assert_true (g_ascii_isspace (data->data[k]));
          continue;
        }

      g_assert_no_error (error);
      assert_sane (summary, data->len, body_text);
    }
}

typedef struct
{
  GPtrArray *files;
  GPtrArray *expected;   /* of char *: a digest of each file's summary */
  gboolean   same;
} ThreadData;

static char *
describe (GBytes *bytes)
{
  g_autofree char *body_text = NULL;
  g_autoptr(LbMessageSummary) summary = lb_mime_summary_parse (bytes, ARRIVAL, &body_text, NULL);

  if (summary == NULL)
    return g_strdup ("(none)");

  return g_strdup_printf ("%s|%s|%s|%s|%s|%s|%s|%s|%" G_GINT64_FORMAT "|%d|%s|%s",
                          summary->message_id, summary->in_reply_to, summary->references,
                          summary->subject, summary->from, summary->to, summary->cc,
                          summary->preview, summary->date, summary->has_attachments,
                          body_text, "end");
}

static gpointer
parse_all (gpointer user_data)
{
  ThreadData *data = user_data;

  for (guint round = 0; round < 3; round++)
    for (guint i = 0; i < data->files->len; i++)
      {
        CorpusFile *file = g_ptr_array_index (data->files, i);
        g_autofree char *digest = describe (file->bytes);

        if (g_strcmp0 (digest, g_ptr_array_index (data->expected, i)) != 0)
          data->same = FALSE;
      }

  return NULL;
}

/* The store parses on several worker threads at once. */
static void
test_threads (void)
{
  g_autoptr(GPtrArray) files = load_corpora ();
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);
  ThreadData data[4];
  GThread *threads[4];

  for (guint i = 0; i < files->len; i++)
    g_ptr_array_add (expected, describe (((CorpusFile *) g_ptr_array_index (files, i))->bytes));

  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    {
      data[t] = (ThreadData) { files, expected, TRUE };
      threads[t] = g_thread_new ("parse", parse_all, &data[t]);
    }

  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    {
      g_thread_join (threads[t]);
      g_assert_true (data[t].same);
    }
}

/* Long subjects and names folded into several base64 words, each padded
 * with '=' (Roundcube, PHP mailers): every word counts, not just the
 * first (GMime 3.2 alone stops at the first padding). */
static void
test_subject_split_padded_words (void)
{
  g_autoptr(LbMessageSummary) summary = NULL;
  const char *text =
    "From: =?UTF-8?B?0JDQvdGC0L7QvSDQoQ==?=\n"
    " =?UTF-8?B?0LzQuNGA0L3QvtCy?= <anton@example.test>\n"
    "To: reader@example.test\n"
    "Subject: =?UTF-8?B?0JrQvtGC0L7RgNGL0LUg0L/RgNC+0LPRgNCw0LzQvNCwINGB0L8=?=\n"
    " =?UTF-8?B?0LDRgdC40LHQviDRiNC+0LTRgNGO0LDRgtGMINC/0L7RgdC70LXQtNC90Lg=?=\n"
    " =?UTF-8?B?0LkgKHh5bG9waG9uZSk=?=\n"
    "Date: Sun, 05 May 2024 12:23:06 +0300\n"
    "\n"
    "body\n";

  summary = parse_text (text, NULL);
  g_assert_cmpstr (summary->subject, ==, "Которые программа спасибо шодрюать последний (xylophone)");
  g_assert_cmpstr (summary->from, ==, "Антон Смирнов <anton@example.test>");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_func ("/mime-summary/empty", test_empty);
  g_test_add_func ("/mime-summary/no-headers", test_no_headers);
  g_test_add_func ("/mime-summary/subject/utf-8", test_subject_utf8);
  g_test_add_func ("/mime-summary/subject/legacy", test_subject_legacy);
  g_test_add_func ("/mime-summary/subject/broken-encodings", test_subject_broken_encodings);
  g_test_add_func ("/mime-summary/subject/split-padded-words", test_subject_split_padded_words);
  g_test_add_func ("/mime-summary/addresses", test_addresses);
  g_test_add_func ("/mime-summary/ids", test_ids);
  g_test_add_func ("/mime-summary/date", test_date);
  g_test_add_func ("/mime-summary/stalwart-headers", test_stalwart_headers);
  g_test_add_func ("/mime-summary/body/charsets", test_body_charsets);
  g_test_add_func ("/mime-summary/body/japanese", test_body_japanese);
  g_test_add_func ("/mime-summary/body/undeclared", test_body_undeclared);
  g_test_add_func ("/mime-summary/body/nul-and-controls", test_body_nul_and_controls);
  g_test_add_func ("/mime-summary/body/utf-16", test_body_utf16);
  g_test_add_func ("/mime-summary/body/cap", test_body_cap);
  g_test_add_func ("/mime-summary/preview/alternative", test_preview_alternative);
  g_test_add_func ("/mime-summary/preview/html", test_preview_html);
  g_test_add_func ("/mime-summary/preview/html-hostile", test_preview_html_hostile);
  g_test_add_func ("/mime-summary/preview/quotes", test_preview_quotes);
  g_test_add_func ("/mime-summary/attachments", test_attachments);
  g_test_add_func ("/mime-summary/attachments/corpus", test_attachments_corpus);
  g_test_add_func ("/mime-summary/corpus/texts", test_corpus_texts);
  g_test_add_func ("/mime-summary/corpus/all", test_corpus);
  g_test_add_func ("/mime-summary/corpus/mutations", test_mutations);
  g_test_add_func ("/mime-summary/threads", test_threads);

  return g_test_run ();
}
