/* test-mime-parts.c: raw messages to the parts a message view shows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <gmime/gmime.h>

#include "lb-mime-parts.h"

/* the folders of tests/data/third-party the corpus test reads */
static const char *const corpora[] = {
  "cpython-email", "gmime", "stalwart-mail-parser", "mimekit", "geary",
};

static LbMimeMessage *
parse (const char *raw)
{
  g_autoptr(GBytes) bytes = g_bytes_new (raw, strlen (raw));
  g_autoptr(GError) error = NULL;
  LbMimeMessage *message = lb_mime_message_parse (bytes, &error);

  g_assert_no_error (error);
  g_assert_nonnull (message);
  return message;
}

static GBytes *
load (const char *relative)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "third-party", relative, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

static LbMimePart *
part_at (LbMimeMessage *message,
         guint          i)
{
  g_assert_cmpuint (i, <, message->parts->len);
  return g_ptr_array_index (message->parts, i);
}

static LbMimeTextBlock *
block_at (LbMimePart *part,
          guint       i)
{
  g_assert_nonnull (part->blocks);
  g_assert_cmpuint (i, <, part->blocks->len);
  return g_ptr_array_index (part->blocks, i);
}

/* the part's data as a string (TEXT, HTML) */
static char *
data_text (LbMimePart *part)
{
  gsize len = 0;
  const char *data;

  g_assert_nonnull (part->data);
  data = g_bytes_get_data (part->data, &len);
  g_assert_cmpuint (len, ==, part->size);
  return g_strndup (data, len);
}

static void
assert_data (LbMimePart *part,
             const char *expected)
{
  g_autofree char *text = data_text (part);

  g_assert_cmpstr (text, ==, expected);
}

static void
assert_block (LbMimePart *part,
              guint       i,
              guint       level,
              gboolean    signature,
              const char *text)
{
  LbMimeTextBlock *block = block_at (part, i);

  g_assert_cmpuint (block->quote_level, ==, level);
  g_assert_cmpint (block->signature, ==, signature);
  g_assert_cmpstr (block->text, ==, text);
}

/* ---- headers and plain text ------------------------------------------ */

static void
test_plain (void)
{
  g_autoptr(LbMimeMessage) m =
    parse ("From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.test>\r\n"
           "To: Bob <bob@example.test>, carol@example.test\r\n"
           "Cc: Team: dave@example.test, \"Eve, E.\" <eve@example.test>;\r\n"
           "Reply-To: lists@example.test\r\n"
           "Subject: =?UTF-8?B?0J/RgNC40LLQtdGC?= there\r\n"
           "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
           "Message-ID: <abc@example.test>\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n"
           "\r\n"
           "Hello Bob,\r\n"
           "\r\n"
           "how are you?   \r\n");
  LbMimeAddress *a;
  g_autofree char *cc1 = NULL;
  LbMimePart *part;

  g_assert_cmpuint (m->from->len, ==, 1);
  a = g_ptr_array_index (m->from, 0);
  g_assert_cmpstr (a->name, ==, "Jürgen Müller");
  g_assert_cmpstr (a->address, ==, "juergen@example.test");
  g_assert_cmpuint (m->to->len, ==, 2);
  a = g_ptr_array_index (m->to, 1);
  g_assert_null (a->name);
  g_assert_cmpstr (a->address, ==, "carol@example.test");
  /* a group's members, one by one */
  g_assert_cmpuint (m->cc->len, ==, 2);
  cc1 = lb_mime_address_to_string (g_ptr_array_index (m->cc, 1));
  g_assert_cmpstr (cc1, ==, "\"Eve, E.\" <eve@example.test>");
  g_assert_cmpuint (m->reply_to->len, ==, 1);
  g_assert_cmpstr (m->subject, ==, "Привет there");
  g_assert_cmpint (m->date, ==, 1700000000);
  g_assert_cmpstr (m->message_id, ==, "abc@example.test");

  g_assert_cmpuint (m->parts->len, ==, 1);
  part = part_at (m, 0);
  g_assert_cmpint (part->kind, ==, LB_MIME_PART_TEXT);
  g_assert_cmpuint (part->depth, ==, 0);
  g_assert_cmpuint (part->alternative, ==, 0);
  g_assert_cmpstr (part->content_type, ==, "text/plain");
  g_assert_null (part->problem);
  g_assert_cmpuint (part->blocks->len, ==, 1);
  assert_block (part, 0, 0, FALSE, "Hello Bob,\n\nhow are you?");
  assert_data (part, "Hello Bob,\n\nhow are you?");
}

static void
test_address_to_string (void)
{
  LbMimeAddress both = { (char *) "Ann Lee", (char *) "ann@example.test" };
  LbMimeAddress bare = { NULL, (char *) "ann@example.test" };
  LbMimeAddress name_only = { (char *) "Undisclosed", (char *) "" };
  g_autofree char *s1 = lb_mime_address_to_string (&both);
  g_autofree char *s2 = lb_mime_address_to_string (&bare);
  g_autofree char *s3 = lb_mime_address_to_string (&name_only);

  g_assert_cmpstr (s1, ==, "Ann Lee <ann@example.test>");
  g_assert_cmpstr (s2, ==, "ann@example.test");
  g_assert_cmpstr (s3, ==, "Undisclosed");
}

static void
test_flowed (void)
{
  g_autoptr(LbMimeMessage) no = parse ("Subject: f\n"
                                       "Content-Type: text/plain; charset=us-ascii; format=flowed\n\n"
                                       "This is a paragraph \n"
                                       "that flows on \n"
                                       "and ends here.\n"
                                       " From the start, stuffed.\n"
                                       " >not a quote\n"
                                       "> quoted and \n"
                                       "> flowed\n");
  g_autoptr(LbMimeMessage) yes = parse ("Subject: f\n"
                                        "Content-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\n\n"
                                        "Donaudampfschiff \n"
                                        "fahrtsgesellschaft\n"
                                        "-- \n"
                                        "Sig\n");

  assert_block (part_at (no, 0), 0, 0, FALSE,
                "This is a paragraph that flows on and ends here.\n"
                "From the start, stuffed.\n"
                ">not a quote");
  assert_block (part_at (no, 0), 1, 1, FALSE, "quoted and flowed");
  g_assert_cmpuint (part_at (no, 0)->blocks->len, ==, 2);

  assert_block (part_at (yes, 0), 0, 0, FALSE, "Donaudampfschifffahrtsgesellschaft");
  assert_block (part_at (yes, 0), 1, 0, TRUE, "-- \nSig");
}

static void
test_quotes (void)
{
  g_autoptr(LbMimeMessage) m = parse ("Subject: Re: q\n\n"
                                      "Hi Bob,\n"
                                      "\n"
                                      "On Mon, 1 Jan 2024 at 10:00, Bob <bob@example.test> wrote:\n"
                                      "> first\n"
                                      "> > inner one\n"
                                      ">> inner two\n"
                                      ">\n"
                                      "> back out\n"
                                      "\n"
                                      "My answer.\n");
  LbMimePart *part = part_at (m, 0);

  g_assert_cmpuint (part->blocks->len, ==, 5);
  assert_block (part, 0, 0, FALSE, "Hi Bob,");
  /* the attribution goes with the quote it introduces */
  assert_block (part, 1, 1, FALSE, "On Mon, 1 Jan 2024 at 10:00, Bob <bob@example.test> wrote:\nfirst");
  assert_block (part, 2, 2, FALSE, "inner one\ninner two");
  assert_block (part, 3, 1, FALSE, "back out");
  assert_block (part, 4, 0, FALSE, "My answer.");
  assert_data (part, "Hi Bob,\n\nOn Mon, 1 Jan 2024 at 10:00, Bob <bob@example.test> wrote:\nfirst\n\n"
                     "inner one\ninner two\n\nback out\n\nMy answer.");
}

static void
test_signature (void)
{
  g_autoptr(LbMimeMessage) m = parse ("Subject: s\n\n"
                                      "See you.\n"
                                      "-- \n"
                                      "Alice Example\n"
                                      "Example Inc.\n");
  LbMimePart *part = part_at (m, 0);

  g_assert_cmpuint (part->blocks->len, ==, 2);
  assert_block (part, 0, 0, FALSE, "See you.");
  assert_block (part, 1, 0, TRUE, "-- \nAlice Example\nExample Inc.");
}

/* ---- character sets -------------------------------------------------- */

static LbMimeMessage *
parse_with_body (const char *charset,
                 const char *relative)
{
  g_autoptr(GBytes) body = load (relative);
  g_autofree char *head = g_strdup_printf ("Subject: cyrillic\nContent-Type: text/plain; charset=%s\n\n",
                                           charset);
  GByteArray *raw = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  LbMimeMessage *message;

  g_byte_array_append (raw, (const guint8 *) head, strlen (head));
  g_byte_array_append (raw, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  bytes = g_byte_array_free_to_bytes (raw);
  message = lb_mime_message_parse (bytes, &error);
  g_assert_no_error (error);
  return message;
}

static void
test_cyrillic (void)
{
  const char *dir = "gmime/tests/data/filters/";
  g_autofree char *p_utf8 = g_strconcat (dir, "cyrillic.utf-8.txt", NULL);
  g_autofree char *p_koi8 = g_strconcat (dir, "cyrillic.koi8-r.txt", NULL);
  g_autofree char *p_1251 = g_strconcat (dir, "cyrillic.cp1251.txt", NULL);
  g_autoptr(LbMimeMessage) utf8 = parse_with_body ("utf-8", p_utf8);
  g_autoptr(LbMimeMessage) koi8 = parse_with_body ("koi8-r", p_koi8);
  g_autoptr(LbMimeMessage) cp1251 = parse_with_body ("windows-1251", p_1251);
  g_autoptr(LbMimeMessage) cp1251_alias = parse_with_body ("\"cp1251\"", p_1251);
  g_autofree char *expected = data_text (part_at (utf8, 0));
  g_autofree char *from_koi8 = data_text (part_at (koi8, 0));
  g_autofree char *from_1251 = data_text (part_at (cp1251, 0));
  g_autofree char *from_alias = data_text (part_at (cp1251_alias, 0));

  g_assert_true (g_str_has_prefix (expected, "Лорем ипсум долор сит амет"));
  g_assert_cmpstr (from_koi8, ==, expected);
  g_assert_cmpstr (from_1251, ==, expected);
  g_assert_cmpstr (from_alias, ==, expected);
  g_assert_null (part_at (koi8, 0)->problem);
  g_assert_null (part_at (cp1251, 0)->problem);
}

static void
test_unknown_charset (void)
{
  /* UTF-8 under an unknown label, windows-1252 under one */
  g_autoptr(LbMimeMessage) utf8 = parse ("Subject: u\nContent-Type: text/plain; charset=x-klingon\n\n"
                                         "caf\xc3\xa9\n");
  g_autoptr(LbMimeMessage) latin = parse ("Subject: u\nContent-Type: text/plain; charset=x-klingon\n\n"
                                          "caf\xe9 \x80" "5\n");
  /* windows-1252 labelled UTF-8; undeclared 8-bit */
  g_autoptr(LbMimeMessage) mislabelled = parse ("Subject: u\nContent-Type: text/plain; charset=utf-8\n\n"
                                                "caf\xe9\n");
  g_autoptr(LbMimeMessage) undeclared = parse ("Subject: u\n\ncaf\xe9\n");
  /* undeclared 8-bit text in a message that speaks KOI8-R elsewhere */
  g_autoptr(LbMimeMessage) hinted =
    parse ("Subject: h\nContent-Type: multipart/mixed; boundary=b\n\n"
           "--b\nContent-Type: text/plain; charset=koi8-r\n\n\xf0\xd2\xc9\xd7\xc5\xd4\n"
           "--b\nContent-Type: text/plain\n\n\xf0\xcf\xcb\xc1\n--b--\n");

  assert_data (part_at (utf8, 0), "café");
  g_assert_nonnull (part_at (utf8, 0)->problem);
  g_assert_nonnull (strstr (part_at (utf8, 0)->problem, "x-klingon"));
  assert_data (part_at (latin, 0), "café €5");
  g_assert_nonnull (part_at (latin, 0)->problem);
  assert_data (part_at (mislabelled, 0), "café");
  g_assert_nonnull (part_at (mislabelled, 0)->problem);
  assert_data (part_at (undeclared, 0), "café");
  g_assert_nonnull (part_at (undeclared, 0)->problem);

  g_assert_cmpuint (hinted->parts->len, ==, 2);
  assert_data (part_at (hinted, 0), "Привет");
  g_assert_null (part_at (hinted, 0)->problem);
  assert_data (part_at (hinted, 1), "Пока");
}

/* ---- structure ------------------------------------------------------- */

static void
test_alternative (void)
{
  g_autoptr(LbMimeMessage) m =
    parse ("Subject: alt\nContent-Type: multipart/alternative; boundary=a\n\n"
           "--a\nContent-Type: text/plain; charset=utf-8\n\nPlain *version*\n"
           "--a\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
           "<p>HTML <b>version</b> =E2=80=94 caf=C3=A9</p>\n"
           "--a--\n");
  LbMimePart *text, *html;
  g_autofree char *rendered = NULL;

  g_assert_cmpuint (m->parts->len, ==, 2);
  text = part_at (m, 0);
  html = part_at (m, 1);
  g_assert_cmpint (text->kind, ==, LB_MIME_PART_TEXT);
  g_assert_cmpint (html->kind, ==, LB_MIME_PART_HTML);
  g_assert_cmpuint (text->alternative, !=, 0);
  g_assert_cmpuint (text->alternative, ==, html->alternative);
  assert_data (text, "Plain *version*");
  assert_data (html, "<p>HTML <b>version</b> — café</p>");
  g_assert_cmpstr (html->content_type, ==, "text/html");

  rendered = lb_mime_html_to_text (g_bytes_get_data (html->data, NULL), (gssize) html->size);
  g_assert_cmpstr (rendered, ==, "HTML version — café");
}

static void
test_related (void)
{
  g_autoptr(LbMimeMessage) m =
    parse ("Subject: rel\nContent-Type: multipart/alternative; boundary=a\n\n"
           "--a\nContent-Type: text/plain\n\nSee the logo.\n"
           "--a\nContent-Type: multipart/related; boundary=r; type=text/html\n\n"
           "--r\nContent-Type: text/html\n\n<p>See <img src=\"cid:logo@example.test\"></p>\n"
           "--r\nContent-Type: image/png\nContent-ID: <logo@example.test>\n"
           "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n"
           "--r--\n"
           "--a--\n");
  LbMimePart *image;

  g_assert_cmpuint (m->parts->len, ==, 3);
  g_assert_cmpint (part_at (m, 0)->kind, ==, LB_MIME_PART_TEXT);
  g_assert_cmpint (part_at (m, 1)->kind, ==, LB_MIME_PART_HTML);
  g_assert_cmpuint (part_at (m, 0)->alternative, ==, part_at (m, 1)->alternative);
  g_assert_cmpuint (part_at (m, 0)->alternative, !=, 0);

  image = part_at (m, 2);
  g_assert_cmpint (image->kind, ==, LB_MIME_PART_IMAGE);
  g_assert_cmpstr (image->content_type, ==, "image/png");
  g_assert_cmpstr (image->content_id, ==, "logo@example.test");
  g_assert_cmpuint (image->size, ==, 8);
  g_assert_cmpmem (g_bytes_get_data (image->data, NULL), 8, "\x89PNG\r\n\x1a\n", 8);
  g_assert_cmpstr (image->filename, ==, "image.png");

  g_assert_true (lb_mime_message_find_cid (m, "logo@example.test") == image);
  g_assert_true (lb_mime_message_find_cid (m, "logo%40example.test") == image);
  g_assert_true (lb_mime_message_find_cid (m, "LOGO@example.test") == image);
  g_assert_null (lb_mime_message_find_cid (m, "other@example.test"));
  g_assert_null (lb_mime_message_find_cid (m, ""));
}

static void
test_inline_image (void)
{
  g_autoptr(LbMimeMessage) m =
    parse ("Subject: img\nContent-Type: multipart/mixed; boundary=b\n\n"
           "--b\nContent-Type: text/plain\n\nA photo:\n"
           "--b\nContent-Type: image/gif; name=dot.gif\nContent-Disposition: inline\n"
           "Content-Transfer-Encoding: base64\n\nR0lGODlhAQABAAAAACw=\n"
           "--b\nContent-Type: image/gif\nContent-Transfer-Encoding: base64\n\nR0lGODlhAQABAAAAACw=\n"
           "--b\nContent-Type: text/plain\n\nAfter the photo.\n"
           "--b--\n");

  g_assert_cmpuint (m->parts->len, ==, 4);
  g_assert_cmpint (part_at (m, 0)->kind, ==, LB_MIME_PART_TEXT);
  g_assert_cmpint (part_at (m, 1)->kind, ==, LB_MIME_PART_IMAGE);
  g_assert_cmpstr (part_at (m, 1)->filename, ==, "dot.gif");
  g_assert_cmpuint (part_at (m, 1)->size, ==, 14);
  assert_data (part_at (m, 2), "After the photo.");
  /* an image without an inline disposition is a file */
  g_assert_cmpint (part_at (m, 3)->kind, ==, LB_MIME_PART_ATTACHMENT);
  g_assert_cmpstr (part_at (m, 3)->filename, ==, "image.gif");
}

static void
test_attachments (void)
{
  g_autoptr(LbMimeMessage) m =
    parse ("Subject: files\nContent-Type: multipart/mixed; boundary=b\n\n"
           "--b\nContent-Type: application/pdf\n"
           "Content-Disposition: attachment;\n"
           " filename*0*=UTF-8''%D0%BE%D1%82%D1%87%D1%91%D1%82;\n"
           " filename*1=\" 2024.pdf\"\n"
           "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n"
           "--b\nContent-Type: text/plain\n\nThe body, after the first attachment.\n"
           "--b\nContent-Type: application/octet-stream; name=\"../../etc/passwd\"\n"
           "Content-Disposition: attachment; filename=\"../../etc/passwd\"\n\nroot:x:0:0\n"
           "--b\nContent-Type: application/pdf\nContent-Disposition: attachment\n\n%PDF-1.4\n"
           "--b\nContent-Type: text/plain\nContent-Disposition: attachment;"
           " filename=\"=?UTF-8?Q?caf=C3=A9=07.txt?=\"\n\nnotes\n"
           "--b\nContent-Type: application/x-thing\n"
           "Content-Disposition: attachment; filename=\"..\"\n\nx\n"
           "--b\nContent-Type: application/zip\n"
           "Content-Disposition: attachment; filename=\"C:\\\\Users\\\\me\\\\\xe2\x80\xae" "exe.txt\"\n\nPK\n"
           "--b--\n");
  LbMimePart *part;

  g_assert_cmpuint (m->parts->len, ==, 7);
  /* the body first, then the files in the order they came */
  g_assert_cmpint (part_at (m, 0)->kind, ==, LB_MIME_PART_TEXT);
  assert_data (part_at (m, 0), "The body, after the first attachment.");

  part = part_at (m, 1);
  g_assert_cmpint (part->kind, ==, LB_MIME_PART_ATTACHMENT);
  g_assert_cmpstr (part->filename, ==, "отчёт 2024.pdf");
  g_assert_cmpstr (part->content_type, ==, "application/pdf");
  g_assert_cmpuint (part->size, ==, 9);
  g_assert_cmpmem (g_bytes_get_data (part->data, NULL), 9, "%PDF-1.4\n", 9);

  part = part_at (m, 2);
  g_assert_cmpstr (part->filename, ==, "passwd");
  g_assert_cmpuint (part->size, ==, strlen ("root:x:0:0"));

  part = part_at (m, 3);
  g_assert_cmpstr (part->filename, ==, "attachment.pdf");

  part = part_at (m, 4);
  g_assert_cmpint (part->kind, ==, LB_MIME_PART_ATTACHMENT);
  g_assert_cmpstr (part->filename, ==, "café.txt");

  part = part_at (m, 5);
  g_assert_cmpstr (part->filename, ==, "attachment.bin");

  /* no directories, no right-to-left override */
  part = part_at (m, 6);
  g_assert_cmpstr (part->filename, ==, "exe.txt");
}

static void
test_nested_message (void)
{
  g_autoptr(LbMimeMessage) m =
    parse ("Subject: Fwd: report\nContent-Type: multipart/mixed; boundary=outer\n\n"
           "--outer\nContent-Type: text/plain\n\nHere it is.\n"
           "--outer\nContent-Type: message/rfc822\n\n"
           "From: Ann <ann@example.test>\nTo: bob@example.test\n"
           "Subject: =?UTF-8?Q?Quarterly_r=C3=A9port?=\nDate: Tue, 14 Nov 2023 22:13:20 +0000\n"
           "Content-Type: multipart/mixed; boundary=inner\n\n"
           "--inner\nContent-Type: text/plain\n\nThe numbers.\n"
           "--inner\nContent-Type: text/csv; name=q3.csv\nContent-Disposition: attachment\n\na,b\n1,2\n"
           "--inner--\n"
           "--outer\nContent-Type: application/pdf; name=outer.pdf\n\n%PDF\n"
           "--outer--\n");
  LbMimePart *part;

  g_assert_cmpuint (m->parts->len, ==, 5);
  g_assert_cmpint (part_at (m, 0)->kind, ==, LB_MIME_PART_TEXT);
  g_assert_cmpuint (part_at (m, 0)->depth, ==, 0);

  part = part_at (m, 1);
  g_assert_cmpint (part->kind, ==, LB_MIME_PART_MESSAGE);
  g_assert_cmpuint (part->depth, ==, 0);
  g_assert_cmpstr (part->from, ==, "Ann <ann@example.test>");
  g_assert_cmpstr (part->to, ==, "bob@example.test");
  g_assert_null (part->cc);
  g_assert_cmpstr (part->subject, ==, "Quarterly réport");
  g_assert_cmpint (part->date, ==, 1700000000);
  g_assert_cmpstr (part->filename, ==, "Quarterly réport.eml");
  g_assert_nonnull (part->data);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (part->data, NULL), (gssize) part->size, "The numbers."));

  part = part_at (m, 2);
  g_assert_cmpint (part->kind, ==, LB_MIME_PART_TEXT);
  g_assert_cmpuint (part->depth, ==, 1);
  assert_data (part, "The numbers.");

  part = part_at (m, 3);
  g_assert_cmpint (part->kind, ==, LB_MIME_PART_ATTACHMENT);
  g_assert_cmpuint (part->depth, ==, 1);
  g_assert_cmpstr (part->filename, ==, "q3.csv");
  g_assert_cmpuint (part->size, ==, 7);

  part = part_at (m, 4);
  g_assert_cmpint (part->kind, ==, LB_MIME_PART_ATTACHMENT);
  g_assert_cmpuint (part->depth, ==, 0);
  g_assert_cmpstr (part->filename, ==, "outer.pdf");
}

/* ---- broken messages ------------------------------------------------- */

static void
test_broken_base64 (void)
{
  g_autoptr(LbMimeMessage) m =
    parse ("Subject: b64\nContent-Type: multipart/mixed; boundary=b\n\n"
           "--b\nContent-Type: image/jpeg; name=photo.jpg\nContent-Transfer-Encoding: base64\n\n"
           "/9j/4AAQ!!!*** not base64 ***\n"
           "--b\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\nSGVsbG8=\n"
           "--b\nContent-Type: application/pdf; name=cut.pdf\nContent-Transfer-Encoding: base64\n\n"
           "JVBERi0xLjQKJ\n"
           "--b\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
           "caf=C3=A9 costs 5=\xe2\x82\xac =ZZ\n"
           "--b\nContent-Type: application/octet-stream; name=qp.bin\n"
           "Content-Transfer-Encoding: quoted-printable\n\nab=Q1\n"
           "--b--\n");
  LbMimePart *part;

  g_assert_cmpuint (m->parts->len, ==, 5);
  assert_data (part_at (m, 0), "Hello");
  /* text with a bad escape is still shown, with a warning */
  part = part_at (m, 1);
  g_assert_cmpint (part->kind, ==, LB_MIME_PART_TEXT);
  g_assert_nonnull (part->problem);
  assert_data (part, "café costs 5=€ =ZZ");

  for (guint i = 2; i < 5; i++)
    {
      part = part_at (m, i);
      g_assert_cmpint (part->kind, ==, LB_MIME_PART_BROKEN);
      g_assert_nonnull (part->problem);
      g_assert_null (part->data);
      g_assert_cmpuint (part->size, ==, 0);
    }
  g_assert_cmpstr (part_at (m, 2)->filename, ==, "photo.jpg");
  g_assert_cmpstr (part_at (m, 2)->content_type, ==, "image/jpeg");
  g_assert_cmpstr (part_at (m, 3)->filename, ==, "cut.pdf");
  g_assert_cmpstr (part_at (m, 4)->filename, ==, "qp.bin");
}

static void
test_missing_boundary (void)
{
  g_autoptr(LbMimeMessage) never = parse ("Subject: mb\nContent-Type: multipart/mixed; boundary=zzz\n\n"
                                          "--b\nContent-Type: text/plain\n\nhello\n--b--\n");
  g_autoptr(LbMimeMessage) none = parse ("Subject: mb\nContent-Type: multipart/mixed\n\n"
                                         "Just some text.\n");

  g_assert_cmpuint (never->parts->len, ==, 2);
  g_assert_cmpint (part_at (never, 0)->kind, ==, LB_MIME_PART_BROKEN);
  g_assert_nonnull (part_at (never, 0)->problem);
  g_assert_cmpstr (part_at (never, 0)->content_type, ==, "multipart/mixed");
  /* what is there is still shown */
  g_assert_cmpint (part_at (never, 1)->kind, ==, LB_MIME_PART_TEXT);
  g_assert_nonnull (strstr (part_at (never, 1)->blocks->len > 0 ?
                            block_at (part_at (never, 1), 0)->text : "", "hello"));

  g_assert_cmpuint (none->parts->len, ==, 2);
  g_assert_cmpint (part_at (none, 0)->kind, ==, LB_MIME_PART_BROKEN);
  assert_data (part_at (none, 1), "Just some text.");
}

static void
test_truncated (void)
{
  g_autoptr(LbMimeMessage) file = parse ("Subject: t\nContent-Type: multipart/mixed; boundary=b\n\n"
                                         "--b\nContent-Type: text/plain\n\nThe text.\n"
                                         "--b\nContent-Type: application/pdf; name=a.pdf\n"
                                         "Content-Transfer-Encoding: base64\n\nJVBERi0xLjQKJVBE");
  g_autoptr(LbMimeMessage) text = parse ("Subject: t\nContent-Type: multipart/mixed; boundary=b\n\n"
                                         "--b\nContent-Type: text/plain\n\nThe text is cut o");

  g_assert_cmpuint (file->parts->len, ==, 2);
  assert_data (part_at (file, 0), "The text.");
  g_assert_null (part_at (file, 0)->problem);
  g_assert_cmpint (part_at (file, 1)->kind, ==, LB_MIME_PART_BROKEN);
  g_assert_cmpstr (part_at (file, 1)->filename, ==, "a.pdf");
  g_assert_nonnull (part_at (file, 1)->problem);

  g_assert_cmpuint (text->parts->len, ==, 1);
  g_assert_cmpint (part_at (text, 0)->kind, ==, LB_MIME_PART_TEXT);
  assert_data (part_at (text, 0), "The text is cut o");
  g_assert_nonnull (part_at (text, 0)->problem);
}

static void
test_empty (void)
{
  g_autoptr(LbMimeMessage) empty_body = parse ("Subject: nothing\nFrom: a@example.test\n\n");
  g_autoptr(LbMimeMessage) headers_only = parse ("Subject: only headers\nFrom: a@example.test\n");
  g_autoptr(GBytes) nothing = g_bytes_new_static ("", 0);
  g_autoptr(GBytes) blank = g_bytes_new_static (" \r\n\r\n", 5);
  g_autoptr(GBytes) no_headers = g_bytes_new_static ("no headers here\n", 16);
  GBytes *inputs[] = { nothing, blank, no_headers };

  g_assert_cmpuint (empty_body->parts->len, ==, 0);
  g_assert_cmpstr (empty_body->subject, ==, "nothing");
  g_assert_cmpuint (headers_only->parts->len, ==, 0);
  g_assert_cmpstr (headers_only->subject, ==, "only headers");
  g_assert_cmpuint (headers_only->to->len, ==, 0);
  g_assert_null (headers_only->message_id);
  g_assert_cmpint (headers_only->date, ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(LbMimeMessage) m = lb_mime_message_parse (inputs[i], &error);

      g_assert_null (m);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }
}

/* ---- HTML to text ---------------------------------------------------- */

static void
assert_html (const char *html,
             const char *expected)
{
  g_autofree char *text = lb_mime_html_to_text (html, -1);

  g_assert_cmpstr (text, ==, expected);
}

static void
test_html_to_text (void)
{
  assert_html ("<html><head><title>T</title><style>p { color: red }</style>"
               "<script>alert('x')</script></head><body><p>First &amp; foremost</p>"
               "<p>Second&nbsp;one</p></body></html>",
               "First & foremost\n\nSecond one");
  assert_html ("a<br>b<br><br>c", "a\nb\n\nc");
  assert_html ("&lt;tag&gt; &quot;q&quot; &#233;&#x20AC; &eacute; &hellip; &bogus; & x",
               "<tag> \"q\" é€ é … &bogus; & x");
  assert_html ("<ul><li>one</li><li> two </li></ul><ol><li>first<li>second</ol>",
               "• one\n• two\n\n1. first\n2. second");
  assert_html ("<ul><li>a<ul><li>b</li></ul></li></ul>", "• a\n  • b");
  assert_html ("<a href=\"https://example.test/x?a=1&amp;b=2\">the site</a> and "
               "<a href=\"https://example.test/\">https://example.test/</a> and "
               "<a href=\"mailto:ann@example.test\">ann@example.test</a> and "
               "<a href=\"javascript:alert(1)\">js</a>",
               "the site <https://example.test/x?a=1&b=2> and https://example.test/ and "
               "ann@example.test and js");
  assert_html ("<p>Hi</p><blockquote>quoted<br>two<blockquote>deeper</blockquote></blockquote><p>end</p>",
               "Hi\n\n> quoted\n> two\n\n> > deeper\n\nend");
  assert_html ("<pre>  code\n    indented</pre>after", "  code\n    indented\n\nafter");
  assert_html ("  lots   of\n\n   space\t here  ", "lots of space here");
  assert_html ("<div>one</div><div>two</div>", "one\ntwo");
  assert_html ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc");
  assert_html ("<!-- comment --><!DOCTYPE html><?xml x?>text", "text");
  /* malformed */
  assert_html ("a < b and c<d", "a < b and c");
  assert_html ("<p>unclosed <b>bold <i>text", "unclosed bold text");
  assert_html ("text<script>never closed", "text");
  assert_html ("<a href='x", "");
  assert_html ("<", "<");
  assert_html ("", "");
  assert_html ("x<!-- unclosed", "x");
  assert_html ("<p title=\"a > b\">attr</p>", "attr");
}

static void
test_html_hostile (void)
{
  /* deep nesting, many unclosed elements: linear, bounded */
  GString *html = g_string_new (NULL);
  g_autofree char *text = NULL;

  for (guint i = 0; i < 20000; i++)
    g_string_append (html, "<blockquote><ul><li><a href=\"https://e.test/\">x");
  g_string_append (html, "\xff\xfe end");
  text = lb_mime_html_to_text (html->str, (gssize) html->len);
  g_assert_true (g_utf8_validate (text, -1, NULL));
  g_assert_nonnull (strstr (text, "\xef\xbf\xbd\xef\xbf\xbd end <https://e.test/>"));
  g_string_free (html, TRUE);
}

/* ---- async ----------------------------------------------------------- */

static void
parsed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  LbMimeMessage **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = lb_mime_message_parse_finish (result, &error);
  g_assert_no_error (error);
}

static void
failed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GError **out = user_data;

  g_assert_null (lb_mime_message_parse_finish (result, out));
}

static void
test_async (void)
{
  const char *raw = "Subject: async\n\nIn a thread.\n";
  g_autoptr(GBytes) bytes = g_bytes_new_static (raw, strlen (raw));
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(LbMimeMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) cancelled = NULL;

  lb_mime_message_parse_async (bytes, NULL, parsed_cb, &message);
  while (message == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (message->subject, ==, "async");
  assert_data (part_at (message, 0), "In a thread.");

  lb_mime_message_parse_async (empty, NULL, failed_cb, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);

  g_cancellable_cancel (cancellable);
  lb_mime_message_parse_async (bytes, cancellable, failed_cb, &cancelled);
  while (cancelled == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (cancelled, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* ---- speed ----------------------------------------------------------- */

static void
test_speed (void)
{
  GString *raw = g_string_new ("From: News <news@example.test>\nSubject: Weekly\n"
                               "Content-Type: multipart/alternative; boundary=a\n\n"
                               "--a\nContent-Type: text/plain; charset=utf-8\n\nThe news in text.\n"
                               "--a\nContent-Type: text/html; charset=utf-8\n"
                               "Content-Transfer-Encoding: quoted-printable\n\n"
                               "<html><head><style>td { padding: 0 }</style></head><body><table>\n");
  g_autoptr(GBytes) bytes = NULL;
  gint64 start, best = G_MAXINT64;

  while (raw->len < 50 * 1024)
    g_string_append (raw, "<tr><td class=3D\"x\"><a href=3D\"https://example.test/a?b=3Dc&amp;d\">"
                          "Caf=C3=A9 story</a> &mdash; read <b>more</b></td></tr>\n");
  g_string_append (raw, "</table></body></html>\n--a--\n");
  bytes = g_string_free_to_bytes (raw);

  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(LbMimeMessage) m = NULL;
      g_autofree char *text = NULL;
      LbMimePart *html;

      start = g_get_monotonic_time ();
      m = lb_mime_message_parse (bytes, NULL);
      html = part_at (m, 1);
      text = lb_mime_html_to_text (g_bytes_get_data (html->data, NULL), (gssize) html->size);
      best = MIN (best, g_get_monotonic_time () - start);
      g_assert_nonnull (strstr (text, "Café story <https://example.test/a?b=c&d> — read more"));
    }

  g_test_message ("a %" G_GSIZE_FORMAT " byte HTML message: parsed and rendered in %" G_GINT64_FORMAT " µs",
                  g_bytes_get_size (bytes), best);
  /* generous: sanitizer builds are slow */
  g_assert_cmpint (best, <, 100 * 1000);
}

/* ---- third-party corpora --------------------------------------------- */

static void
assert_safe_name (const char *name)
{
  g_assert_nonnull (name);
  g_assert_true (g_utf8_validate (name, -1, NULL));
  g_assert_cmpuint (strlen (name), >, 0);
  g_assert_null (strchr (name, '/'));
  g_assert_null (strchr (name, '\\'));
  g_assert_cmpint (name[0], !=, '.');
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      g_assert_cmpuint (c, >=, 0x20);
      g_assert_false (c >= 0x7f && c <= 0x9f);
      g_assert_false (c >= 0x202a && c <= 0x202e);
    }
}

static void
assert_sane (LbMimeMessage *m)
{
  gboolean files = FALSE;
  guint last_depth = 0;

  for (guint i = 0; i < m->from->len; i++)
    g_assert_true (g_utf8_validate (((LbMimeAddress *) g_ptr_array_index (m->from, i))->address, -1, NULL));
  g_assert_true (m->subject == NULL || g_utf8_validate (m->subject, -1, NULL));

  for (guint i = 0; i < m->parts->len; i++)
    {
      LbMimePart *part = part_at (m, i);

      g_assert_nonnull (part->content_type);
      g_assert_true (g_utf8_validate (part->content_type, -1, NULL));
      /* a nested message's parts follow it, one deeper */
      g_assert_cmpuint (part->depth, <=, last_depth + 1);
      if (part->depth == last_depth + 1)
        g_assert_cmpint (part_at (m, i - 1)->kind, ==, LB_MIME_PART_MESSAGE);
      last_depth = part->depth;

      if (part->depth == 0 && part->kind == LB_MIME_PART_ATTACHMENT)
        files = TRUE;
      /* the message's own body parts before its attachments */
      if (part->depth == 0 && files)
        g_assert_true (part->kind != LB_MIME_PART_TEXT && part->kind != LB_MIME_PART_HTML &&
                       part->kind != LB_MIME_PART_IMAGE);

      switch (part->kind)
        {
        case LB_MIME_PART_TEXT:
          {
            g_autofree char *text = data_text (part);
            GString *joined = g_string_new (NULL);

            g_assert_true (g_utf8_validate (text, -1, NULL));
            g_assert_nonnull (part->blocks);
            for (guint b = 0; b < part->blocks->len; b++)
              {
                LbMimeTextBlock *block = block_at (part, b);

                g_assert_true (g_utf8_validate (block->text, -1, NULL));
                if (b > 0)
                  g_string_append (joined, "\n\n");
                g_string_append (joined, block->text);
              }
            g_assert_cmpstr (joined->str, ==, text);
            g_string_free (joined, TRUE);
          }
          break;
        case LB_MIME_PART_HTML:
          {
            g_autofree char *html = data_text (part);
            g_autofree char *text = lb_mime_html_to_text (html, -1);

            g_assert_true (g_utf8_validate (html, -1, NULL));
            g_assert_true (g_utf8_validate (text, -1, NULL));
            g_assert_null (part->blocks);
          }
          break;
        case LB_MIME_PART_IMAGE:
        case LB_MIME_PART_ATTACHMENT:
          g_assert_nonnull (part->data);
          g_assert_cmpuint (g_bytes_get_size (part->data), ==, part->size);
          assert_safe_name (part->filename);
          break;
        case LB_MIME_PART_MESSAGE:
          g_assert_nonnull (part->data);
          assert_safe_name (part->filename);
          g_assert_true (part->subject == NULL || g_utf8_validate (part->subject, -1, NULL));
          g_assert_true (part->from == NULL || g_utf8_validate (part->from, -1, NULL));
          break;
        case LB_MIME_PART_BROKEN:
          g_assert_null (part->data);
          g_assert_nonnull (part->problem);
          break;
        default:
          g_assert_not_reached ();
        }

      if (part->filename != NULL)
        assert_safe_name (part->filename);
      if (part->problem != NULL)
        g_assert_true (g_utf8_validate (part->problem, -1, NULL));
    }
}

static void
collect_files (GFile     *dir,
               GPtrArray *paths)
{
  g_autoptr(GFileEnumerator) e = g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                                            G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                                            G_FILE_QUERY_INFO_NONE, NULL, NULL);
  GFileInfo *info;

  if (e == NULL)
    return;
  while ((info = g_file_enumerator_next_file (e, NULL, NULL)) != NULL)
    {
      g_autoptr(GFile) child = g_file_get_child (dir, g_file_info_get_name (info));

      if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
        collect_files (child, paths);
      else if (!g_str_has_prefix (g_file_info_get_name (info), "LICENSE") &&
               !g_str_has_prefix (g_file_info_get_name (info), "COPYING"))
        g_ptr_array_add (paths, g_file_get_path (child));
      g_object_unref (info);
    }
}

static void
test_corpora (void)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  guint parsed = 0, parts = 0, broken = 0;

  for (guint i = 0; i < G_N_ELEMENTS (corpora); i++)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "third-party", corpora[i], NULL);
      g_autoptr(GFile) dir = g_file_new_for_path (path);

      collect_files (dir, paths);
    }
  g_assert_cmpuint (paths->len, >, 100);

  for (guint i = 0; i < paths->len; i++)
    {
      g_autofree char *contents = NULL;
      gsize len = 0;
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(LbMimeMessage) m = NULL;

      g_assert_true (g_file_get_contents (g_ptr_array_index (paths, i), &contents, &len, NULL));
      bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
      m = lb_mime_message_parse (bytes, &error);
      if (m == NULL)
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
          continue;
        }
      parsed++;
      parts += m->parts->len;
      for (guint p = 0; p < m->parts->len; p++)
        broken += part_at (m, p)->kind == LB_MIME_PART_BROKEN;
      assert_sane (m);
    }

  g_test_message ("%u files, %u messages, %u parts, %u broken", paths->len, parsed, parts, broken);
  g_assert_cmpuint (parsed, >, paths->len / 2);
}

/* Known answers from the corpora. */
static void
test_corpus_answers (void)
{
  g_autoptr(GBytes) embedded = load ("mimekit/UnitTests/TestData/messages/simple-embedded-message.eml");
  g_autoptr(GBytes) related = load ("mimekit/UnitTests/TestData/messages/multipart-related-mhtml.txt");
  g_autoptr(LbMimeMessage) m = lb_mime_message_parse (embedded, NULL);
  g_autoptr(LbMimeMessage) r = lb_mime_message_parse (related, NULL);
  gboolean message = FALSE;
  gboolean html = FALSE;

  g_assert_nonnull (m);
  for (guint i = 0; i < m->parts->len; i++)
    if (part_at (m, i)->kind == LB_MIME_PART_MESSAGE)
      {
        message = TRUE;
        g_assert_cmpuint (part_at (m, i)->depth, ==, 0);
        g_assert_cmpuint (i + 1, <, m->parts->len);
        g_assert_cmpuint (part_at (m, i + 1)->depth, ==, 1);
      }
  g_assert_true (message);

  g_assert_nonnull (r);
  for (guint i = 0; i < r->parts->len; i++)
    html |= part_at (r, i)->kind == LB_MIME_PART_HTML;
  g_assert_true (html);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_func ("/mime-parts/plain", test_plain);
  g_test_add_func ("/mime-parts/address-to-string", test_address_to_string);
  g_test_add_func ("/mime-parts/flowed", test_flowed);
  g_test_add_func ("/mime-parts/quotes", test_quotes);
  g_test_add_func ("/mime-parts/signature", test_signature);
  g_test_add_func ("/mime-parts/charset/cyrillic", test_cyrillic);
  g_test_add_func ("/mime-parts/charset/unknown", test_unknown_charset);
  g_test_add_func ("/mime-parts/alternative", test_alternative);
  g_test_add_func ("/mime-parts/related", test_related);
  g_test_add_func ("/mime-parts/inline-image", test_inline_image);
  g_test_add_func ("/mime-parts/attachments", test_attachments);
  g_test_add_func ("/mime-parts/nested-message", test_nested_message);
  g_test_add_func ("/mime-parts/broken/encoding", test_broken_base64);
  g_test_add_func ("/mime-parts/broken/boundary", test_missing_boundary);
  g_test_add_func ("/mime-parts/broken/truncated", test_truncated);
  g_test_add_func ("/mime-parts/empty", test_empty);
  g_test_add_func ("/mime-parts/html-to-text", test_html_to_text);
  g_test_add_func ("/mime-parts/html-to-text/hostile", test_html_hostile);
  g_test_add_func ("/mime-parts/async", test_async);
  g_test_add_func ("/mime-parts/speed", test_speed);
  g_test_add_func ("/mime-parts/corpora", test_corpora);
  g_test_add_func ("/mime-parts/corpora/answers", test_corpus_answers);

  return g_test_run ();
}
