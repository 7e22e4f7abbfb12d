/* test-imap-parser.c: IMAP response framing and parsing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "lb-imap-parser.h"

/* helpers */

static LbImapResponse *
parse_flags (const char       *text,
             LbImapParseFlags  flags)
{
  g_autoptr(GError) error = NULL;
  LbImapResponse *response;

  response = lb_imap_parse_response ((const guint8 *) text, strlen (text), flags, &error);
  if (response == NULL)
    g_error ("cannot parse %s: %s", text, error->message);
  return response;
}

static LbImapResponse *
parse (const char *text)
{
  return parse_flags (text, LB_IMAP_PARSE_NONE);
}

/* asserts that @text does not parse, with a message naming where */
static void
assert_fails (const char *text,
              const char *what)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbImapResponse) response = NULL;

  response = lb_imap_parse_response ((const guint8 *) text, strlen (text), LB_IMAP_PARSE_NONE, &error);
  if (response != NULL)
    {
      g_autofree char *dump = lb_imap_response_to_string (response);

      g_error ("%s parsed as\n%s", text, dump);
    }
  g_assert_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_SYNTAX);
  g_assert_nonnull (strstr (error->message, "byte"));
  if (what != NULL && strstr (error->message, what) == NULL)
    g_error ("%s: the error “%s” does not mention “%s”", text, error->message, what);
}

static char *
dump (const char *text)
{
  g_autoptr(LbImapResponse) response = parse (text);

  return lb_imap_response_to_string (response);
}

static void
assert_dump (const char *text,
             const char *expected)
{
  g_autofree char *actual = dump (text);

  g_assert_cmpstr (actual, ==, expected);
}

static const char *
section_data (LbImapFetch *fetch,
              const char  *name,
              gsize       *len)
{
  for (guint i = 0; fetch->sections != NULL && i < fetch->sections->len; i++)
    {
      LbImapSection *section = g_ptr_array_index (fetch->sections, i);

      if (strcmp (section->section, name) == 0)
        return section->data != NULL ? g_bytes_get_data (section->data, len) : NULL;
    }
  g_error ("no section [%s]", name);
  return NULL;
}

/* framing */

/* feeds @data to a framer in pieces of @chunk bytes, the way a reader
 * would, and collects the frames */
static GPtrArray *
frame_all (const char *data,
           gsize       len,
           gsize       chunk,
           gsize       max_line,
           guint64     max_literal,
           GError    **error)
{
  g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func (g_free);
  LbImapFramer framer;
  gsize start = 0;
  gsize avail = 0;

  lb_imap_framer_init (&framer, max_line, max_literal);
  while (start < len)
    {
      gsize frame_len;

      if (lb_imap_framer_next (&framer, (const guint8 *) data + start, avail - start, &frame_len, error))
        {
          g_ptr_array_add (frames, g_strndup (data + start, frame_len));
          start += frame_len;
          continue;
        }
      if (error != NULL && *error != NULL)
        return NULL;
      if (avail == len)
        break;
      avail = MIN (len, avail + chunk);
    }
  return g_steal_pointer (&frames);
}

static void
test_framer_lines (void)
{
  const char *data = "* OK ready\r\n* 3 EXISTS\na1 OK done\r\n* partial";
  g_autoptr(GError) error = NULL;

  for (gsize chunk = 1; chunk < 50; chunk += 7)
    {
      g_autoptr(GPtrArray) frames = frame_all (data, strlen (data), chunk, 0, 0, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (frames->len, ==, 3);
      g_assert_cmpstr (g_ptr_array_index (frames, 0), ==, "* OK ready\r\n");
      /* a lone LF ends a line too */
      g_assert_cmpstr (g_ptr_array_index (frames, 1), ==, "* 3 EXISTS\n");
      g_assert_cmpstr (g_ptr_array_index (frames, 2), ==, "a1 OK done\r\n");
    }
}

static void
test_framer_literals (void)
{
  static const char data[] =
    "* 1 FETCH (BODY[] {14}\r\nab\r\n* 2 FAKE\r\n BODY[TEXT] {0}\r\n UID 5)\r\n"
    "* 2 FETCH (BINARY[1] ~{3}\r\n\0\r\n)\r\n"
    "* 3 FETCH (BODY[] {5}\nabcde)\n";
  g_autoptr(GError) error = NULL;

  for (gsize chunk = 1; chunk < 40; chunk += 3)
    {
      g_autoptr(GPtrArray) frames = frame_all (data, sizeof data - 1, chunk, 0, 0, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (frames->len, ==, 3);
      /* the literal's own CRLF and "* 2" inside it do not end the response */
      g_assert_cmpstr (g_ptr_array_index (frames, 0), ==,
                       "* 1 FETCH (BODY[] {14}\r\nab\r\n* 2 FAKE\r\n BODY[TEXT] {0}\r\n UID 5)\r\n");
      /* literal8, with a NUL in it (strndup stops there) */
      g_assert_cmpstr (g_ptr_array_index (frames, 1), ==, "* 2 FETCH (BINARY[1] ~{3}\r\n");
      /* a literal after a lone LF */
      g_assert_cmpstr (g_ptr_array_index (frames, 2), ==, "* 3 FETCH (BODY[] {5}\nabcde)\n");
    }
}

static void
test_framer_wanted (void)
{
  const char *head = "* 1 FETCH (BODY[] {1000}\r\n";
  g_autofree char *data = g_strdup_printf ("%s%s)\r\n", head, "");
  LbImapFramer framer;
  gsize frame_len = 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) buffer = g_byte_array_new ();

  lb_imap_framer_init (&framer, 0, 0);
  g_byte_array_append (buffer, (const guint8 *) head, (guint) strlen (head));
  g_assert_false (lb_imap_framer_next (&framer, buffer->data, buffer->len, &frame_len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (lb_imap_framer_wanted (&framer), ==, 1000);

  for (guint i = 0; i < 999; i++)
    g_byte_array_append (buffer, (const guint8 *) "x", 1);
  g_assert_false (lb_imap_framer_next (&framer, buffer->data, buffer->len, &frame_len, &error));
  g_assert_cmpuint (lb_imap_framer_wanted (&framer), ==, 1);
  g_byte_array_append (buffer, (const guint8 *) "x)\r\n* 2 EXISTS\r\n", 16);
  g_assert_true (lb_imap_framer_next (&framer, buffer->data, buffer->len, &frame_len, &error));
  g_assert_cmpuint (frame_len, ==, strlen (head) + 1000 + 3);
  g_assert_cmpuint (lb_imap_framer_wanted (&framer), ==, 0);
}

static void
test_framer_limits (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) frames = NULL;
  g_autofree char *long_line = g_strnfill (200, 'x');
  g_autofree char *data = g_strdup_printf ("* OK %s", long_line);

  /* a line too long, even before its end arrives */
  frames = frame_all (data, strlen (data), 16, 100, 0, &error);
  g_assert_null (frames);
  g_assert_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* a literal larger than allowed */
  frames = frame_all ("* 1 FETCH (BODY[] {1001}\r\n", 26, 64, 0, 1000, &error);
  g_assert_null (frames);
  g_assert_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* a literal length that does not fit 64 bits */
  data = (g_free (data), g_strdup ("* 1 FETCH (BODY[] {99999999999999999999}\r\nx)\r\n"));
  frames = frame_all (data, strlen (data), 64, 0, 0, &error);
  g_assert_null (frames);
  g_assert_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* the line limit counts a line, not the whole response with literals */
  data = (g_free (data), g_strdup_printf ("* 1 FETCH (BODY[] {200}\r\n%s)\r\n", long_line));
  frames = frame_all (data, strlen (data), 7, 100, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (frames->len, ==, 1);
}

/* endless short lines, each announcing a small literal, make one response
 * that never ends: the total is capped */
static void
test_framer_frame_limit (void)
{
  const char *piece = " {3}\r\nabc";
  g_autoptr(GString) data = g_string_new ("* 1 FETCH (X");
  g_autoptr(GError) error = NULL;
  g_autofree char *huge = NULL;
  LbImapFramer framer;
  gsize frame_len = 0;
  gboolean failed = FALSE;

  lb_imap_framer_init (&framer, 0, 0);
  lb_imap_framer_set_max_frame (&framer, 1000);
  for (guint i = 0; i < 200 && !failed; i++)
    {
      g_string_append (data, piece);
      g_assert_false (lb_imap_framer_next (&framer, (const guint8 *) data->str, data->len,
                                           &frame_len, &error));
      failed = error != NULL;
    }
  g_assert_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_TOO_LARGE);
  g_assert_cmpuint (data->len, <=, 1000 + strlen (piece));
  g_assert_cmpuint (data->len, >, 1000 - strlen (piece));
  g_clear_error (&error);

  /* a literal that would carry the response past the limit is refused as
   * soon as it is announced */
  lb_imap_framer_init (&framer, 0, 0);
  lb_imap_framer_set_max_frame (&framer, 100);
  g_string_assign (data, "* 1 FETCH (BODY[] {90}\r\n");
  g_assert_false (lb_imap_framer_next (&framer, (const guint8 *) data->str, data->len,
                                       &frame_len, &error));
  g_assert_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* up to the limit is fine */
  lb_imap_framer_init (&framer, 0, 0);
  lb_imap_framer_set_max_frame (&framer, 31);
  g_string_assign (data, "* 1 FETCH (BODY[] {5}\r\nabcde)\r\n");
  g_assert_cmpuint (data->len, ==, 31);
  g_assert_true (lb_imap_framer_next (&framer, (const guint8 *) data->str, data->len,
                                      &frame_len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (frame_len, ==, 31);

  /* the defaults: a literal of 256 MiB is fine, one byte more is not */
  lb_imap_framer_init (&framer, 0, 0);
  g_string_assign (data, "* 1 FETCH (BODY[] {268435456}\r\n");
  g_assert_false (lb_imap_framer_next (&framer, (const guint8 *) data->str, data->len,
                                       &frame_len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (lb_imap_framer_wanted (&framer), ==, 268435456);
  lb_imap_framer_init (&framer, 0, 0);
  g_string_assign (data, "* 1 FETCH (BODY[] {268435457}\r\n");
  g_assert_false (lb_imap_framer_next (&framer, (const guint8 *) data->str, data->len,
                                       &frame_len, &error));
  g_assert_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* a plain line past the total limit, even before its end */
  lb_imap_framer_init (&framer, 0, 0);
  lb_imap_framer_set_max_frame (&framer, 50);
  huge = g_strnfill (60, 'x');
  g_assert_false (lb_imap_framer_next (&framer, (const guint8 *) huge, 60, &frame_len, &error));
  g_assert_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_TOO_LARGE);
}

/* a big literal fed in small pieces is scanned once, not again per piece */
static void
test_framer_linear (void)
{
  gsize size = 4 * 1024 * 1024;
  g_autofree char *head = g_strdup_printf ("* 1 FETCH (BODY[] {%" G_GSIZE_FORMAT "}\r\n", size);
  GString *data = g_string_new (head);
  LbImapFramer framer;
  gsize avail, frame_len = 0;
  gint64 start;
  guint calls = 0;

  for (gsize i = 0; i < size / 64; i++)
    g_string_append (data, "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"
                           "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n");
  g_string_append (data, ")\r\n");

  lb_imap_framer_init (&framer, 0, 0);
  start = g_get_monotonic_time ();
  for (avail = 1; avail <= data->len; avail += 13)
    {
      calls++;
      if (lb_imap_framer_next (&framer, (const guint8 *) data->str, avail, &frame_len, NULL))
        break;
    }
  if (frame_len == 0)
    g_assert_true (lb_imap_framer_next (&framer, (const guint8 *) data->str, data->len, &frame_len, NULL));
  g_assert_cmpuint (frame_len, ==, data->len);
  g_assert_cmpuint (calls, >, 300000);
  /* quadratic scanning would take minutes here */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_string_free (data, TRUE);
}

/* status responses */

static void
test_status_responses (void)
{
  g_autoptr(LbImapResponse) r = NULL;

  r = parse ("* OK [ALERT] System shutdown in 10 minutes\r\n");
  g_assert_cmpint (r->kind, ==, LB_IMAP_RESPONSE_UNTAGGED);
  g_assert_cmpint (r->status, ==, LB_IMAP_STATUS_OK);
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_ALERT);
  g_assert_cmpstr (r->code_name, ==, "ALERT");
  g_assert_null (r->code_text);
  g_assert_cmpstr (r->text, ==, "System shutdown in 10 minutes");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_NONE);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("A142 OK [READ-WRITE] SELECT completed\r\n");
  g_assert_cmpint (r->kind, ==, LB_IMAP_RESPONSE_TAGGED);
  g_assert_cmpstr (r->tag, ==, "A142");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_READ_WRITE);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("a2 NO [TRYCREATE] No such mailbox\r\n");
  g_assert_cmpint (r->status, ==, LB_IMAP_STATUS_NO);
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_TRYCREATE);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("a3 BAD command unknown\r\n");
  g_assert_cmpint (r->status, ==, LB_IMAP_STATUS_BAD);
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_NONE);
  g_assert_cmpstr (r->text, ==, "command unknown");
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* PREAUTH [CAPABILITY IMAP4rev2 IDLE] logged in\r\n");
  g_assert_cmpint (r->status, ==, LB_IMAP_STATUS_PREAUTH);
  g_assert_true (lb_imap_response_has_capability (r, "imap4rev2"));
  g_assert_true (lb_imap_response_has_capability (r, "IDLE"));
  g_assert_false (lb_imap_response_has_capability (r, "IMAP4rev1"));
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* BYE [UNAVAILABLE] shutting down\r\n");
  g_assert_cmpint (r->status, ==, LB_IMAP_STATUS_BYE);
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_UNAVAILABLE);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("a4 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_AUTHENTICATIONFAILED);
  g_clear_pointer (&r, lb_imap_response_unref);

  /* tags are any astring characters but "+" */
  r = parse ("tag]0001.x OK\r\n");
  g_assert_cmpstr (r->tag, ==, "tag]0001.x");
  g_clear_pointer (&r, lb_imap_response_unref);

  assert_fails ("a1 PREAUTH hello\r\n", "OK");
  assert_fails ("a1 FOO hello\r\n", "OK");
  assert_fails ("* OK hello", "end of the line");
  assert_fails ("* OK hello\r\n* OK again\r\n", "end of the response");
  assert_fails ("\r\n", "tag");
  assert_fails ("", "tag");
}

static void
test_response_codes (void)
{
  static const struct
  {
    const char *text;
    LbImapCode  code;
  } simple[] = {
    { "ALERT", LB_IMAP_CODE_ALERT },
    { "ALREADYEXISTS", LB_IMAP_CODE_ALREADYEXISTS },
    { "AUTHENTICATIONFAILED", LB_IMAP_CODE_AUTHENTICATIONFAILED },
    { "AUTHORIZATIONFAILED", LB_IMAP_CODE_AUTHORIZATIONFAILED },
    { "CANNOT", LB_IMAP_CODE_CANNOT },
    { "CLIENTBUG", LB_IMAP_CODE_CLIENTBUG },
    { "CLOSED", LB_IMAP_CODE_CLOSED },
    { "CONTACTADMIN", LB_IMAP_CODE_CONTACTADMIN },
    { "CORRUPTION", LB_IMAP_CODE_CORRUPTION },
    { "EXPIRED", LB_IMAP_CODE_EXPIRED },
    { "EXPUNGEISSUED", LB_IMAP_CODE_EXPUNGEISSUED },
    { "HASCHILDREN", LB_IMAP_CODE_HASCHILDREN },
    { "INUSE", LB_IMAP_CODE_INUSE },
    { "LIMIT", LB_IMAP_CODE_LIMIT },
    { "NOMODSEQ", LB_IMAP_CODE_NOMODSEQ },
    { "NONEXISTENT", LB_IMAP_CODE_NONEXISTENT },
    { "NOPERM", LB_IMAP_CODE_NOPERM },
    { "OVERQUOTA", LB_IMAP_CODE_OVERQUOTA },
    { "PARSE", LB_IMAP_CODE_PARSE },
    { "PRIVACYREQUIRED", LB_IMAP_CODE_PRIVACYREQUIRED },
    { "READ-ONLY", LB_IMAP_CODE_READ_ONLY },
    { "read-write", LB_IMAP_CODE_READ_WRITE },
    { "SERVERBUG", LB_IMAP_CODE_SERVERBUG },
    { "TRYCREATE", LB_IMAP_CODE_TRYCREATE },
    { "UIDNOTSTICKY", LB_IMAP_CODE_UIDNOTSTICKY },
    { "UNAVAILABLE", LB_IMAP_CODE_UNAVAILABLE },
    { "UNKNOWN-CTE", LB_IMAP_CODE_UNKNOWN_CTE },
    { "COMPRESSIONACTIVE", LB_IMAP_CODE_COMPRESSIONACTIVE },
    { "NOTSAVED", LB_IMAP_CODE_NOTSAVED },
    { "XYZZY", LB_IMAP_CODE_OTHER },
  };
  g_autoptr(LbImapResponse) r = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (simple); i++)
    {
      g_autofree char *text = g_strdup_printf ("a NO [%s] words\r\n", simple[i].text);
      g_autofree char *upper = g_ascii_strup (simple[i].text, -1);

      r = parse (text);
      g_assert_cmpint (r->code, ==, simple[i].code);
      g_assert_cmpstr (r->code_name, ==, upper);
      g_assert_cmpstr (r->text, ==, "words");
      g_clear_pointer (&r, lb_imap_response_unref);
    }

  r = parse ("* OK [UIDVALIDITY 3857529045] UIDs valid\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_UIDVALIDITY);
  g_assert_cmpuint (r->code_number, ==, 3857529045u);
  g_assert_cmpstr (r->code_text, ==, "3857529045");
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* OK [UIDNEXT 4392] Predicted next UID\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_UIDNEXT);
  g_assert_cmpuint (r->code_number, ==, 4392);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* OK [UNSEEN 12] first unseen\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_UNSEEN);
  g_assert_cmpuint (r->code_number, ==, 12);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* OK [HIGHESTMODSEQ 9223372036854775807] Highest\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_HIGHESTMODSEQ);
  g_assert_cmpuint (r->code_number, ==, G_MAXINT64);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* OK [PERMANENTFLAGS (\\Deleted \\Seen $Forwarded \\*)] Limited\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_PERMANENTFLAGS);
  g_assert_cmpuint (g_strv_length (r->code_strv), ==, 4);
  g_assert_cmpstr (r->code_strv[0], ==, "\\Deleted");
  g_assert_cmpstr (r->code_strv[3], ==, "\\*");
  g_assert_true (lb_imap_flags_contain (r->code_strv, "$forwarded"));
  g_assert_false (lb_imap_flags_contain (r->code_strv, "\\Draft"));
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* OK [PERMANENTFLAGS ()] none\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_PERMANENTFLAGS);
  g_assert_cmpuint (g_strv_length (r->code_strv), ==, 0);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("a OK [APPENDUID 38505 3955] APPEND completed\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_APPENDUID);
  g_assert_cmpuint (r->code_uidvalidity, ==, 38505);
  g_assert_cmpuint (r->code_set->len, ==, 1);
  g_assert_cmpuint (g_array_index (r->code_set, LbImapRange, 0).first, ==, 3955);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("a OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_COPYUID);
  g_assert_cmpuint (r->code_uidvalidity, ==, 38505);
  g_assert_cmpuint (r->code_source_set->len, ==, 2);
  g_assert_cmpuint (g_array_index (r->code_source_set, LbImapRange, 1).first, ==, 319);
  g_assert_cmpuint (g_array_index (r->code_source_set, LbImapRange, 1).last, ==, 320);
  g_assert_cmpuint (g_array_index (r->code_set, LbImapRange, 0).last, ==, 3958);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("d105 OK [MODIFIED 7,9] Conditional STORE failed\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_MODIFIED);
  g_assert_true (lb_imap_set_contains (r->code_set, 9));
  g_assert_false (lb_imap_set_contains (r->code_set, 8));
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("a NO [BADCHARSET (UTF-8 \"x]y\")] no\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_BADCHARSET);
  g_assert_cmpstr (r->code_strv[1], ==, "x]y");
  g_assert_cmpstr (r->text, ==, "no");
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("a NO [BADCHARSET] no\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_BADCHARSET);
  g_assert_nonnull (r->code_strv);
  g_assert_null (r->code_strv[0]);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* BYE [REFERRAL imap://user;AUTH=*@SERVER2/] Server not accepting connections\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_REFERRAL);
  g_assert_cmpstr (r->code_text, ==, "imap://user;AUTH=*@SERVER2/");
  g_clear_pointer (&r, lb_imap_response_unref);

  /* broken arguments of a known code: kept as OTHER, never half-parsed */
  r = parse ("* OK [UIDNEXT soon] x\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_OTHER);
  g_assert_cmpstr (r->code_name, ==, "UIDNEXT");
  g_assert_cmpstr (r->code_text, ==, "soon");
  g_assert_cmpuint (r->code_number, ==, 0);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* OK [UIDVALIDITY 99999999999] x\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_OTHER);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* OK [COPYUID 1 1:10 101:110 extra junk] bad\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_OTHER);
  g_assert_null (r->code_set);
  g_assert_null (r->code_source_set);
  g_clear_pointer (&r, lb_imap_response_unref);

  /* an unknown code keeps its arguments as sent */
  r = parse ("* OK [MAILBOXID (F2212ea87-6097)] Ok\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_OTHER);
  g_assert_cmpstr (r->code_name, ==, "MAILBOXID");
  g_assert_cmpstr (r->code_text, ==, "(F2212ea87-6097)");
  g_clear_pointer (&r, lb_imap_response_unref);

  /* "[" that starts no code is text (Exchange) */
  r = parse ("a OK [Error=\"x y\" Proxy=z] AUTHENTICATE completed.\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_NONE);
  g_assert_cmpstr (r->text, ==, "[Error=\"x y\" Proxy=z] AUTHENTICATE completed.");
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("a OK [unterminated code\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_NONE);
  g_assert_cmpstr (r->text, ==, "[unterminated code");
}

static void
test_continuation (void)
{
  g_autoptr(LbImapResponse) r = NULL;

  r = parse ("+ Ready for literal data\r\n");
  g_assert_cmpint (r->kind, ==, LB_IMAP_RESPONSE_CONTINUATION);
  g_assert_cmpint (r->status, ==, LB_IMAP_STATUS_NONE);
  g_assert_cmpstr (r->text, ==, "Ready for literal data");
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=\r\n");
  g_assert_cmpstr (r->text, ==, "YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=");
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("+\r\n");
  g_assert_cmpint (r->kind, ==, LB_IMAP_RESPONSE_CONTINUATION);
  g_assert_cmpstr (r->text, ==, "");
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("+ \r\n");
  g_assert_cmpstr (r->text, ==, "");
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("+ [ALERT] go ahead\r\n");
  g_assert_cmpint (r->code, ==, LB_IMAP_CODE_ALERT);
  g_assert_cmpstr (r->text, ==, "go ahead");
}

static void
test_capability_enabled_flags (void)
{
  g_autoptr(LbImapResponse) r = NULL;

  r = parse ("* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI LOGINDISABLED\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_CAPABILITY);
  g_assert_cmpstr (r->data_name, ==, "CAPABILITY");
  g_assert_cmpuint (g_strv_length (r->strv), ==, 4);
  g_assert_true (lb_imap_response_has_capability (r, "auth=gssapi"));
  g_clear_pointer (&r, lb_imap_response_unref);

  /* a trailing space (seen from several servers) */
  r = parse ("* CAPABILITY IMAP4 SASL-IR AUTH=PLAIN \r\n");
  g_assert_cmpuint (g_strv_length (r->strv), ==, 3);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* ENABLED CONDSTORE QRESYNC\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_ENABLED);
  g_assert_cmpstr (r->strv[1], ==, "QRESYNC");
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* ENABLED\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_ENABLED);
  g_assert_cmpuint (g_strv_length (r->strv), ==, 0);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded Custom)\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_FLAGS);
  g_assert_cmpuint (g_strv_length (r->strv), ==, 7);
  g_assert_cmpstr (r->strv[0], ==, "\\Answered");
  g_assert_cmpstr (r->strv[6], ==, "Custom");
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* FLAGS ()\r\n");
  g_assert_cmpuint (g_strv_length (r->strv), ==, 0);
  g_clear_pointer (&r, lb_imap_response_unref);

  assert_fails ("* FLAGS (\\Seen\r\n", "“)”");
  assert_fails ("* FLAGS \\Seen\r\n", "“(”");
  assert_fails ("* FLAGS (\"quoted\")\r\n", "flag");
}

static void
test_message_counts (void)
{
  g_autoptr(LbImapResponse) r = NULL;

  r = parse ("* 23 EXISTS\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_EXISTS);
  g_assert_cmpuint (r->number, ==, 23);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* 0 EXISTS\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_EXISTS);
  g_assert_cmpuint (r->number, ==, 0);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* 5 RECENT\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_RECENT);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* 44 expunge\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_EXPUNGE);
  g_assert_cmpstr (r->data_name, ==, "EXPUNGE");
  g_assert_cmpuint (r->number, ==, 44);
  g_clear_pointer (&r, lb_imap_response_unref);

  assert_fails ("* 4294967296 EXISTS\r\n", "2^32");
  assert_fails ("* 12 EXISTS 13\r\n", NULL);
}

/* FETCH */

static const char rfc3501_fetch[] =
  "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "
  "RFC822.SIZE 4286 ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "
  "\"IMAP4rev1 WG mtg summary and minutes\" "
  "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
  "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
  "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
  "((NIL NIL \"imap\" \"cac.washington.edu\")) "
  "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
  "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
  "\"<B27397-0100000@cac.washington.edu>\") "
  "BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92))\r\n";

static guint
address_count (LbImapAddress **addresses)
{
  guint n = 0;

  g_assert_nonnull (addresses);
  while (addresses[n] != NULL)
    n++;
  return n;
}

static void
test_fetch_envelope (void)
{
  g_autoptr(LbImapResponse) r = parse (rfc3501_fetch);
  LbImapFetch *f = r->fetch;
  LbImapEnvelope *e;
  LbImapAddress *a;

  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_FETCH);
  g_assert_cmpuint (r->number, ==, 12);
  g_assert_cmpuint (f->seq, ==, 12);
  g_assert_cmpuint (f->items, ==, LB_IMAP_FETCH_FLAGS | LB_IMAP_FETCH_INTERNALDATE | LB_IMAP_FETCH_SIZE |
                                  LB_IMAP_FETCH_ENVELOPE | LB_IMAP_FETCH_BODYSTRUCTURE);
  g_assert_cmpstr (f->flags[0], ==, "\\Seen");
  g_assert_null (f->flags[1]);
  g_assert_cmpint (f->internaldate, ==, 837596665);
  g_assert_cmpuint (f->size, ==, 4286);

  e = f->envelope;
  g_assert_cmpstr (e->date, ==, "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)");
  g_assert_cmpstr (e->subject, ==, "IMAP4rev1 WG mtg summary and minutes");
  g_assert_cmpuint (address_count (e->from), ==, 1);
  a = e->from[0];
  g_assert_cmpstr (a->name, ==, "Terry Gray");
  g_assert_null (a->adl);
  g_assert_cmpstr (a->mailbox, ==, "gray");
  g_assert_cmpstr (a->host, ==, "cac.washington.edu");
  g_assert_cmpuint (address_count (e->cc), ==, 2);
  a = e->cc[1];
  g_assert_cmpstr (a->name, ==, "John Klensin");
  g_assert_nonnull (e->bcc);
  g_assert_cmpuint (address_count (e->bcc), ==, 0);
  g_assert_null (e->in_reply_to);
  g_assert_cmpstr (e->message_id, ==, "<B27397-0100000@cac.washington.edu>");

  g_assert_cmpstr (f->body->type, ==, "text");
  g_assert_cmpstr (f->body->subtype, ==, "plain");
  g_assert_cmpstr (f->body->params[0], ==, "charset");
  g_assert_cmpstr (f->body->params[1], ==, "US-ASCII");
  g_assert_cmpstr (f->body->encoding, ==, "7bit");
  g_assert_cmpuint (f->body->size, ==, 3028);
  g_assert_cmpuint (f->body->lines, ==, 92);
  g_assert_null (f->body->children);
  g_assert_null (f->body->disposition);
}

static void
test_fetch_envelope_groups (void)
{
  g_autoptr(LbImapResponse) r = NULL;
  LbImapAddress **to;

  /* RFC 3501 group syntax: "undisclosed-recipients:;" and a named group */
  r = parse ("* 1 FETCH (ENVELOPE (NIL NIL NIL NIL NIL "
             "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)"
             "(NIL NIL \"team\" NIL)(\"A\" \"@relay:\" \"a\" \"x.test\")(NIL NIL NIL NIL)) "
             "NIL NIL NIL NIL))\r\n");
  to = r->fetch->envelope->to;
  g_assert_cmpuint (address_count (to), ==, 5);
  g_assert_cmpstr (to[0]->mailbox, ==, "undisclosed-recipients");
  g_assert_null (to[0]->host);
  g_assert_null (to[1]->mailbox);
  g_assert_cmpstr (to[3]->adl, ==, "@relay:");
  g_assert_null (r->fetch->envelope->date);
  g_assert_cmpuint (address_count (r->fetch->envelope->from), ==, 0);

  /* a literal and an escaped quoted string in an envelope */
  g_clear_pointer (&r, lb_imap_response_unref);
  r = parse ("* 2 FETCH (ENVELOPE (\"d\" {5}\r\nA \"B\" ((\"Q \\\"x\\\" \\\\ y\" NIL \"q\" \"h\")) "
             "NIL NIL NIL NIL NIL \"<r@x>\" \"<m@x>\"))\r\n");
  g_assert_cmpstr (r->fetch->envelope->subject, ==, "A \"B\"");
  g_assert_cmpstr (r->fetch->envelope->from[0]->name, ==,
                   "Q \"x\" \\ y");
  g_assert_cmpstr (r->fetch->envelope->in_reply_to, ==, "<r@x>");

  assert_fails ("* 2 FETCH (ENVELOPE (\"d\" \"s\" ((NIL NIL \"q\")) NIL NIL NIL NIL NIL NIL NIL))\r\n",
                "space");
  assert_fails ("* 2 FETCH (ENVELOPE (\"d\" \"s\"))\r\n", "space");
}

static void
test_fetch_bodystructure (void)
{
  g_autoptr(LbImapResponse) r = NULL;
  LbImapBody *b, *part, *inner;

  r = parse ("* 3 FETCH (UID 7 BODYSTRUCTURE ("
             "(\"text\" \"plain\" (\"charset\" \"utf-8\" \"format\" \"flowed\") NIL NIL \"7bit\" 257 9 NIL NIL NIL NIL)"
             "(\"MESSAGE\" \"RFC822\" NIL \"<id@x>\" \"forwarded\" \"8BIT\" 2000 "
             "(\"date\" \"subj\" NIL NIL NIL NIL NIL NIL NIL \"<m@x>\") "
             "((\"TEXT\" \"HTML\" NIL NIL NIL \"BASE64\" 10 1 NIL (\"INLINE\" NIL) NIL NIL)"
             "(\"IMAGE\" \"PNG\" (\"NAME\" \"a.png\") \"<c@x>\" NIL \"BASE64\" 400 \"md5sum\" "
             "(\"attachment\" (\"FILENAME\" \"a.png\" \"SIZE\" \"300\")) (\"en\" \"de\") \"http://x/a.png\" "
             "\"future\" 12 (\"nested\" (1 NIL))) \"RELATED\" (\"BOUNDARY\" \"in\") NIL \"fr\") 40 NIL "
             "(\"attachment\" NIL) NIL NIL)"
             " \"MIXED\" (\"BOUNDARY\" \"out\") (\"inline\" NIL) NIL NIL))\r\n");
  g_assert_cmpuint (r->fetch->uid, ==, 7);
  b = r->fetch->body;
  g_assert_cmpstr (b->type, ==, "multipart");
  g_assert_cmpstr (b->subtype, ==, "mixed");
  g_assert_cmpstr (b->params[0], ==, "boundary");
  g_assert_cmpstr (b->params[1], ==, "out");
  g_assert_cmpstr (b->disposition, ==, "inline");
  g_assert_null (b->disposition_params);
  g_assert_null (b->language);
  g_assert_cmpuint (b->children->len, ==, 2);

  part = g_ptr_array_index (b->children, 0);
  g_assert_cmpstr (part->params[2], ==, "format");
  g_assert_null (part->params[4]);
  g_assert_cmpuint (part->lines, ==, 9);

  part = g_ptr_array_index (b->children, 1);
  g_assert_cmpstr (part->type, ==, "message");
  g_assert_cmpstr (part->subtype, ==, "rfc822");
  g_assert_cmpstr (part->id, ==, "<id@x>");
  g_assert_cmpstr (part->description, ==, "forwarded");
  g_assert_cmpstr (part->encoding, ==, "8bit");
  g_assert_cmpuint (part->size, ==, 2000);
  g_assert_cmpuint (part->lines, ==, 40);
  g_assert_cmpstr (part->envelope->message_id, ==, "<m@x>");
  g_assert_cmpstr (part->disposition, ==, "attachment");
  g_assert_nonnull (part->params);
  g_assert_null (part->params[0]);

  inner = part->message;
  g_assert_cmpstr (inner->type, ==, "multipart");
  g_assert_cmpstr (inner->subtype, ==, "related");
  g_assert_cmpstr (inner->language[0], ==, "fr");
  g_assert_null (inner->language[1]);
  g_assert_cmpuint (inner->children->len, ==, 2);

  part = g_ptr_array_index (inner->children, 0);
  g_assert_cmpstr (part->disposition, ==, "inline");

  part = g_ptr_array_index (inner->children, 1);
  g_assert_cmpstr (part->type, ==, "image");
  g_assert_cmpuint (part->lines, ==, 0);
  g_assert_cmpstr (part->md5, ==, "md5sum");
  g_assert_cmpstr (part->disposition, ==, "attachment");
  g_assert_cmpstr (part->disposition_params[0], ==, "filename");
  g_assert_cmpstr (part->disposition_params[3], ==, "300");
  g_assert_cmpstr (part->language[1], ==, "de");
  g_assert_cmpstr (part->location, ==, "http://x/a.png");
  g_assert_cmpuint (part->extension->len, ==, 3);
  g_assert_cmpint (((LbImapValue *) g_ptr_array_index (part->extension, 0))->kind, ==, LB_IMAP_VALUE_STRING);
  g_assert_cmpint (((LbImapValue *) g_ptr_array_index (part->extension, 1))->kind, ==, LB_IMAP_VALUE_NUMBER);
  g_assert_cmpuint (((LbImapValue *) g_ptr_array_index (part->extension, 1))->v.number, ==, 12);
  g_assert_cmpint (((LbImapValue *) g_ptr_array_index (part->extension, 2))->kind, ==, LB_IMAP_VALUE_LIST);
}

static void
test_fetch_bodystructure_quirks (void)
{
  g_autoptr(LbImapResponse) r = NULL;
  LbImapBody *b;

  /* a multipart without parts */
  r = parse ("* 1 FETCH (BODY (\"MIXED\"))\r\n");
  b = r->fetch->body;
  g_assert_cmpstr (b->type, ==, "multipart");
  g_assert_cmpstr (b->subtype, ==, "mixed");
  g_assert_cmpuint (b->children->len, ==, 0);
  g_clear_pointer (&r, lb_imap_response_unref);

  /* Gmail's parts that are multiparts without parts, with extension data */
  r = parse ("* 1 FETCH (BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" NIL NIL NIL \"BASE64\" 10 1 NIL NIL NIL)"
             "(\"RELATED\" NIL (\"ATTACHMENT\" NIL) NIL)(\"RELATED\" NIL) \"MIXED\" (\"BOUNDARY\" \"x\") NIL NIL))\r\n");
  b = g_ptr_array_index (r->fetch->body->children, 1);
  g_assert_cmpstr (b->type, ==, "multipart");
  g_assert_cmpstr (b->subtype, ==, "related");
  g_assert_cmpuint (b->children->len, ==, 0);
  g_assert_cmpstr (b->disposition, ==, "attachment");
  b = g_ptr_array_index (r->fetch->body->children, 2);
  g_assert_cmpstr (b->subtype, ==, "related");
  g_clear_pointer (&r, lb_imap_response_unref);

  /* Exchange: a bare string as a multipart's disposition */
  r = parse ("* 1 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 21 0 NIL "
             "(\"inline\" NIL) NIL NIL) \"mixed\" (\"boundary\" \"b\") \"S/MIME Encrypted Message\" NIL))\r\n");
  g_assert_cmpstr (r->fetch->body->disposition, ==, "s/mime encrypted message");
  g_clear_pointer (&r, lb_imap_response_unref);

  /* message/rfc822 sent as a basic part, without envelope and body */
  r = parse ("* 1 FETCH (BODYSTRUCTURE (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 1980 NIL "
             "(\"ATTACHMENT\" (\"FILENAME\" \"x.eml\")) NIL))\r\n");
  b = r->fetch->body;
  g_assert_cmpstr (b->type, ==, "message");
  g_assert_null (b->envelope);
  g_assert_null (b->message);
  g_assert_cmpstr (b->disposition, ==, "attachment");
  g_clear_pointer (&r, lb_imap_response_unref);

  /* NIL parameters, NIL where lists go, a space between parts, two spaces
   * before the parameters, lower-case nil */
  r = parse ("* 1 FETCH (BODYSTRUCTURE ((\"text\" \"plain\"  NIL NIL NIL \"7bit\" 1 1 NIL nil NIL NIL) "
             "(\"application\" \"pdf\" (\"name\" NIL) NIL NIL \"base64\" 2 NIL NIL NIL NIL) "
             "\"mixed\" NIL NIL NIL NIL))\r\n");
  b = r->fetch->body;
  g_assert_cmpuint (b->children->len, ==, 2);
  g_assert_nonnull (b->params);
  g_assert_null (b->params[0]);
  g_assert_cmpstr (((LbImapBody *) g_ptr_array_index (b->children, 1))->params[1], ==, "");
  g_clear_pointer (&r, lb_imap_response_unref);

  /* message/rfc822 with a NIL envelope */
  r = parse ("* 1 FETCH (BODYSTRUCTURE (\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 100 NIL "
             "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 10 2) 5))\r\n");
  b = r->fetch->body;
  g_assert_null (b->envelope);
  g_assert_cmpstr (b->message->subtype, ==, "plain");
  g_assert_cmpuint (b->lines, ==, 5);
  g_clear_pointer (&r, lb_imap_response_unref);

  /* a disposition sent as a bare string */
  r = parse ("* 1 FETCH (BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1 NIL \"inline\"))\r\n");
  g_assert_cmpstr (r->fetch->body->disposition, ==, "inline");
  g_clear_pointer (&r, lb_imap_response_unref);

  assert_fails ("* 1 FETCH (BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" 1))\r\n", "space");
  assert_fails ("* 1 FETCH (BODYSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7bit\" x 1))\r\n", "size");
  assert_fails ("* 1 FETCH (BODYSTRUCTURE ((\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)))\r\n", NULL);
}

static void
test_fetch_depth (void)
{
  GString *deep = g_string_new ("* 1 FETCH (BODYSTRUCTURE ");
  GString *ok = g_string_new ("* 1 FETCH (BODYSTRUCTURE ");
  g_autoptr(LbImapResponse) r = NULL;

  /* 63 nested multiparts parse, 200 do not, without blowing the stack */
  for (guint i = 0; i < 63; i++)
    g_string_append_c (ok, '(');
  g_string_append (ok, "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)");
  for (guint i = 0; i < 63; i++)
    g_string_append (ok, " \"mixed\")");
  g_string_append (ok, ")\r\n");
  r = parse (ok->str);
  g_assert_cmpstr (r->fetch->body->type, ==, "multipart");

  for (guint i = 0; i < 200; i++)
    g_string_append_c (deep, '(');
  g_string_append (deep, "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 1 1)");
  for (guint i = 0; i < 200; i++)
    g_string_append (deep, " \"mixed\")");
  g_string_append (deep, ")\r\n");
  assert_fails (deep->str, "nested");

  /* the same for generic lists */
  g_string_assign (deep, "* XUNKNOWN ");
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '(');
  g_string_append (deep, "\r\n");
  g_clear_pointer (&r, lb_imap_response_unref);
  r = parse (deep->str);
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_OTHER);
  g_string_assign (deep, "* 1 FETCH (XUNKNOWN ");
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '(');
  g_string_append (deep, ")\r\n");
  assert_fails (deep->str, "nested");

  g_string_free (deep, TRUE);
  g_string_free (ok, TRUE);
}

static void
test_fetch_sections (void)
{
  g_autoptr(LbImapResponse) r = NULL;
  const char *data;
  gsize len = 0;
  LbImapSection *section;

  r = parse ("* 5 FETCH (UID 9 BODY[HEADER.FIELDS (References In-Reply-To)] {14}\r\nReferences: x\n"
             " BODY[1.2]<100> \"part\" BODY[TEXT] NIL BINARY[2] ~{4}\r\nabc\n"
             " RFC822.HEADER {3}\r\nh\r\n RFC822.TEXT \"t\" RFC822 {1}\r\nr)\r\n");
  g_assert_true (r->fetch->items & LB_IMAP_FETCH_SECTIONS);
  g_assert_cmpuint (r->fetch->sections->len, ==, 7);
  /* strlen stops at the NUL of the literal8; the rest is checked below */
  data = section_data (r->fetch, "HEADER.FIELDS (REFERENCES IN-REPLY-TO)", &len);
  g_assert_cmpmem (data, len, "References: x\n", 14);
  data = section_data (r->fetch, "1.2", &len);
  g_assert_cmpmem (data, len, "part", 4);
  section = g_ptr_array_index (r->fetch->sections, 1);
  g_assert_cmpint (section->origin, ==, 100);
  section = g_ptr_array_index (r->fetch->sections, 0);
  g_assert_cmpint (section->origin, ==, -1);
  g_assert_null (section_data (r->fetch, "TEXT", &len));
  g_assert_cmpint (((LbImapSection *) g_ptr_array_index (r->fetch->sections, 2))->origin, ==, -1);
}

static void
test_fetch_sections_binary (void)
{
  static const char text[] = "* 5 FETCH (BINARY[2] ~{4}\r\na\0b\n BODY[] {2}\r\n\r\n)\r\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(LbImapResponse) r = NULL;
  const char *data;
  gsize len;

  r = lb_imap_parse_response ((const guint8 *) text, sizeof text - 1, LB_IMAP_PARSE_NONE, &error);
  g_assert_no_error (error);
  data = section_data (r->fetch, "BINARY 2", &len);
  g_assert_cmpmem (data, len, "a\0b\n", 4);
  data = section_data (r->fetch, "", &len);
  g_assert_cmpmem (data, len, "\r\n", 2);
}

static void
test_fetch_items (void)
{
  g_autoptr(LbImapResponse) r = NULL;
  LbImapValue *v;

  r = parse ("* 4 FETCH (UID 8 MODSEQ (12121230956) EMAILID (M5fdc09b49ea703) THREADID (T11863d02dd95b5) "
             "X-GM-MSGID 1278455344230334865 X-GM-THRID 1266894439832287888 "
             "X-GM-LABELS (\\Inbox \\Sent Important \"Muy Importante\"))\r\n");
  g_assert_cmpuint (r->fetch->uid, ==, 8);
  g_assert_cmpuint (r->fetch->modseq, ==, 12121230956);
  g_assert_cmpstr (r->fetch->email_id, ==, "M5fdc09b49ea703");
  g_assert_cmpstr (r->fetch->thread_id, ==, "T11863d02dd95b5");
  g_assert_cmpuint (r->fetch->gm_msgid, ==, G_GUINT64_CONSTANT (1278455344230334865));
  g_assert_cmpuint (r->fetch->gm_thrid, ==, G_GUINT64_CONSTANT (1266894439832287888));
  g_assert_cmpstr (r->fetch->gm_labels[0], ==, "\\Inbox");
  g_assert_cmpstr (r->fetch->gm_labels[3], ==, "Muy Importante");
  g_assert_cmpuint (r->fetch->items, ==, LB_IMAP_FETCH_UID | LB_IMAP_FETCH_MODSEQ | LB_IMAP_FETCH_EMAILID |
                                         LB_IMAP_FETCH_GMAIL);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* 2 FETCH (EMAILID (M00000002) THREADID NIL)\r\n");
  g_assert_null (r->fetch->thread_id);
  g_clear_pointer (&r, lb_imap_response_unref);

  /* unknown items are kept generically, and do not stop the rest */
  r = parse ("* 3 FETCH (SAVEDATE \"1-Jan-2024 00:00:00 +0000\" BINARY.SIZE[1] 300 "
             "PREVIEW {5}\r\nHello XFOO (a (b 1:*)) UID 3)\r\n");
  g_assert_cmpuint (r->fetch->uid, ==, 3);
  g_assert_cmpuint (r->fetch->extra->len, ==, 8);
  v = g_ptr_array_index (r->fetch->extra, 2);
  g_assert_cmpstr (v->v.atom, ==, "BINARY.SIZE[1]");
  v = g_ptr_array_index (r->fetch->extra, 3);
  g_assert_cmpuint (v->v.number, ==, 300);
  v = g_ptr_array_index (r->fetch->extra, 5);
  g_assert_cmpint (v->kind, ==, LB_IMAP_VALUE_STRING);
  v = g_ptr_array_index (r->fetch->extra, 7);
  g_assert_cmpint (v->kind, ==, LB_IMAP_VALUE_LIST);
  g_clear_pointer (&r, lb_imap_response_unref);

  /* RFC 9586 UIDFETCH: the number is a UID */
  r = parse ("* 25997 UIDFETCH (FLAGS (\\Flagged))\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_FETCH);
  g_assert_cmpuint (r->fetch->uid, ==, 25997);
  g_assert_cmpuint (r->fetch->seq, ==, 0);
  g_clear_pointer (&r, lb_imap_response_unref);

  /* a space before ")", "RFC822[]" (Exchange), lower case */
  r = parse ("* 1 fetch (uid 92285 rfc822[] {3}\r\nabc )\r\n");
  g_assert_cmpuint (r->fetch->uid, ==, 92285);
  g_assert_cmpuint (r->fetch->sections->len, ==, 1);
  g_clear_pointer (&r, lb_imap_response_unref);

  assert_fails ("* 1 FETCH (UID 0)\r\n", "UID");
  assert_fails ("* 1 FETCH (UID 5\r\n", "space");
  assert_fails ("* 1 FETCH UID 5\r\n", "“(”");
  assert_fails ("* 1 FETCH (MODSEQ 5)\r\n", "“(”");
  assert_fails ("* 1 FETCH (INTERNALDATE \"yesterday\")\r\n", "date");
  assert_fails ("* 1 FETCH (BODY[TEXT] {10}\r\nshort)\r\n", "literal");
  assert_fails ("* 1 FETCH (BODY[TEXT \"x\")\r\n", "]");
  assert_fails ("* 1 FETCH (RFC822.SIZE 99999999999999999999)\r\n", "2^63");
}

/* every prefix of a response fails cleanly (ASan checks no read past len) */
static void
test_truncated (void)
{
  gsize len = strlen (rfc3501_fetch);

  for (gsize i = 0; i < len - 1; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree guint8 *copy = g_memdup2 (rfc3501_fetch, i);
      g_autoptr(LbImapResponse) r = lb_imap_parse_response (copy, i, LB_IMAP_PARSE_NONE, &error);

      g_assert_null (r);
      g_assert_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_SYNTAX);
    }
}

/* LIST, STATUS and the other mailbox data */

static void
test_list (void)
{
  g_autoptr(LbImapResponse) r = NULL;

  r = parse ("* LIST (\\HasNoChildren \\Sent) \"/\" \"~peter/mail/&U,BTFw-/&ZeVnLIqe-\"\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_LIST);
  g_assert_cmpstr (r->list->attributes[1], ==, "\\Sent");
  g_assert_cmpint (r->list->delimiter, ==, '/');
  g_assert_cmpstr (r->list->mailbox, ==, "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
  g_assert_cmpstr (r->list->raw_mailbox, ==, "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  g_assert_null (r->list->child_info);
  g_assert_null (r->list->old_name);
  g_clear_pointer (&r, lb_imap_response_unref);

  /* UTF8=ACCEPT: names are not decoded */
  r = parse_flags ("* LIST () \".\" \"Entw&APw-rfe\"\r\n", LB_IMAP_PARSE_UTF8_MAILBOXES);
  g_assert_cmpstr (r->list->mailbox, ==, "Entw&APw-rfe");
  g_clear_pointer (&r, lb_imap_response_unref);
  r = parse ("* LIST () \".\" \"Entw&APw-rfe\"\r\n");
  g_assert_cmpstr (r->list->mailbox, ==, "Entw\xc3\xbc" "rfe");
  g_clear_pointer (&r, lb_imap_response_unref);
  r = parse_flags ("* LIST () \".\" \"Entw\xc3\xbc" "rfe\"\r\n", LB_IMAP_PARSE_UTF8_MAILBOXES);
  g_assert_cmpstr (r->list->mailbox, ==, "Entw\xc3\xbc" "rfe");
  g_clear_pointer (&r, lb_imap_response_unref);

  /* a server that sends UTF-8 unasked; bytes that are not UTF-8 at all */
  r = parse ("* LIST () \"/\" \"\xe2\x98\x83&\"\r\n");
  g_assert_cmpstr (r->list->mailbox, ==, "\xe2\x98\x83&");
  g_clear_pointer (&r, lb_imap_response_unref);
  r = parse ("* LIST () \"/\" \"a\xff\"\r\n");
  g_assert_true (g_utf8_validate (r->list->mailbox, -1, NULL));
  g_clear_pointer (&r, lb_imap_response_unref);

  /* INBOX is case-insensitive; NIL delimiter; atoms; LSUB; XLIST */
  r = parse ("* LSUB () NIL inbox\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_LSUB);
  g_assert_cmpint (r->list->delimiter, ==, '\0');
  g_assert_cmpstr (r->list->mailbox, ==, "INBOX");
  g_assert_cmpstr (r->list->raw_mailbox, ==, "inbox");
  g_clear_pointer (&r, lb_imap_response_unref);
  r = parse ("* XLIST (\\Inbox) \".\" {5}\r\nINBOX\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_LIST);
  g_assert_cmpstr (r->list->mailbox, ==, "INBOX");
  g_clear_pointer (&r, lb_imap_response_unref);

  /* LIST-EXTENDED */
  r = parse ("* LIST (\\Subscribed \\NonExistent) \"/\" \"Fruit\" (\"CHILDINFO\" (\"SUBSCRIBED\") "
             "\"OLDNAME\" (\"Fr&APw-chte\") \"X-OTHER\" (1 2))\r\n");
  g_assert_cmpstr (r->list->child_info[0], ==, "SUBSCRIBED");
  g_assert_cmpstr (r->list->old_name, ==, "Fr\xc3\xbc" "chte");
  g_assert_cmpuint (r->list->extended->len, ==, 2);
  g_assert_cmpstr (((LbImapValue *) g_ptr_array_index (r->list->extended, 0))->v.atom, ==, "X-OTHER");
  g_clear_pointer (&r, lb_imap_response_unref);

  assert_fails ("* LIST () \"ab\" INBOX\r\n", "delimiter");
  assert_fails ("* LIST () \"/\"\r\n", "space");
  assert_fails ("* LIST \"/\" INBOX\r\n", "“(”");
}

static void
test_status (void)
{
  g_autoptr(LbImapResponse) r = NULL;
  LbImapStatusData *st;

  r = parse ("* STATUS \"Sent &AOQ-\" (MESSAGES 231 RECENT 1 UIDNEXT 44292 UIDVALIDITY 7 UNSEEN 3 "
             "HIGHESTMODSEQ 7011231777 SIZE 123456789012 DELETED 4 APPENDLIMIT 35000000 "
             "DELETED-STORAGE 8 MAILBOXID (F22))\r\n");
  st = r->status_data;
  g_assert_cmpstr (st->mailbox, ==, "Sent \xc3\xa4");
  g_assert_cmpstr (st->raw_mailbox, ==, "Sent &AOQ-");
  g_assert_cmpuint (st->items, ==, LB_IMAP_STATUS_MESSAGES | LB_IMAP_STATUS_RECENT | LB_IMAP_STATUS_UIDNEXT |
                                   LB_IMAP_STATUS_UIDVALIDITY | LB_IMAP_STATUS_UNSEEN |
                                   LB_IMAP_STATUS_HIGHESTMODSEQ | LB_IMAP_STATUS_SIZE |
                                   LB_IMAP_STATUS_DELETED | LB_IMAP_STATUS_APPENDLIMIT);
  g_assert_cmpuint (st->messages, ==, 231);
  g_assert_cmpuint (st->recent, ==, 1);
  g_assert_cmpuint (st->uidnext, ==, 44292);
  g_assert_cmpuint (st->uidvalidity, ==, 7);
  g_assert_cmpuint (st->unseen, ==, 3);
  g_assert_cmpuint (st->highestmodseq, ==, 7011231777);
  g_assert_cmpuint (st->size, ==, G_GUINT64_CONSTANT (123456789012));
  g_assert_cmpuint (st->deleted, ==, 4);
  g_assert_cmpuint (st->appendlimit, ==, 35000000);
  g_clear_pointer (&r, lb_imap_response_unref);

  /* empty, a trailing space inside and after */
  r = parse ("* STATUS INBOX ()\r\n");
  g_assert_cmpuint (r->status_data->items, ==, 0);
  g_clear_pointer (&r, lb_imap_response_unref);
  r = parse ("* STATUS INBOX (UIDNEXT 1 APPENDLIMIT NIL ) \r\n");
  g_assert_cmpuint (r->status_data->uidnext, ==, 1);
  g_assert_cmpuint (r->status_data->appendlimit, ==, G_MAXUINT64);
  g_clear_pointer (&r, lb_imap_response_unref);

  assert_fails ("* STATUS INBOX (MESSAGES)\r\n", "space");
  assert_fails ("* STATUS INBOX (MESSAGES x)\r\n", "number");
}

static void
test_search (void)
{
  g_autoptr(LbImapResponse) r = NULL;

  r = parse ("* SEARCH 2 3 6\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_SEARCH);
  g_assert_cmpuint (r->search->len, ==, 3);
  g_assert_cmpuint (g_array_index (r->search, guint32, 2), ==, 6);
  g_assert_false (r->search_has_modseq);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* SEARCH\r\n");
  g_assert_cmpuint (r->search->len, ==, 0);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* SEARCH 1 2 3 \r\n");
  g_assert_cmpuint (r->search->len, ==, 3);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* SEARCH 87216 87221 (MODSEQ 7667567)\r\n");
  g_assert_true (r->search_has_modseq);
  g_assert_cmpuint (r->search_modseq, ==, 7667567);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* SORT 5 3 4 1 2\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_SORT);
  g_assert_cmpuint (g_array_index (r->search, guint32, 0), ==, 5);
  g_clear_pointer (&r, lb_imap_response_unref);

  assert_fails ("* SEARCH 1 x\r\n", "message number");
  assert_fails ("* SEARCH 0\r\n", "message number");
  assert_fails ("* SORT 1 (MODSEQ 3)\r\n", "message number");
}

static void
test_esearch (void)
{
  g_autoptr(LbImapResponse) r = NULL;
  LbImapEsearch *es;

  r = parse ("* ESEARCH (TAG \"a567\") UID COUNT 17 ALL 4:18,21,28 MIN 4 MAX 28 MODSEQ 1236\r\n");
  es = r->esearch;
  g_assert_cmpstr (es->tag, ==, "a567");
  g_assert_true (es->uid);
  g_assert_true (es->has_count);
  g_assert_cmpuint (es->count, ==, 17);
  g_assert_true (es->has_min);
  g_assert_cmpuint (es->min, ==, 4);
  g_assert_cmpuint (es->max, ==, 28);
  g_assert_cmpuint (es->modseq, ==, 1236);
  g_assert_cmpuint (es->all->len, ==, 3);
  g_assert_true (lb_imap_set_contains (es->all, 10));
  g_assert_false (lb_imap_set_contains (es->all, 19));
  g_assert_null (es->partial);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* ESEARCH\r\n");
  g_assert_null (r->esearch->tag);
  g_assert_false (r->esearch->has_count);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* ESEARCH (TAG \"A01\") UID PARTIAL (-1:-100 200:250,252:300) XEXT (1 2)\r\n");
  g_assert_cmpuint (r->esearch->partial->len, ==, 2);
  g_clear_pointer (&r, lb_imap_response_unref);
  r = parse ("* ESEARCH (TAG \"A04\") UID PARTIAL (24000:24500 NIL)\r\n");
  g_assert_cmpuint (r->esearch->partial->len, ==, 0);
  g_clear_pointer (&r, lb_imap_response_unref);

  assert_fails ("* ESEARCH (TAG) MIN 1\r\n", "space");
  assert_fails ("* ESEARCH MIN\r\n", "space");
  assert_fails ("* ESEARCH ALL x\r\n", "message number");
}

static void
test_vanished (void)
{
  g_autoptr(LbImapResponse) r = NULL;

  r = parse ("* VANISHED (EARLIER) 41,43:116,118,120:211,214:540\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_VANISHED);
  g_assert_true (r->vanished_earlier);
  g_assert_cmpuint (r->set->len, ==, 5);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* VANISHED 405,407,410:*\r\n");
  g_assert_false (r->vanished_earlier);
  g_assert_cmpuint (g_array_index (r->set, LbImapRange, 2).last, ==, G_MAXUINT32);
  g_clear_pointer (&r, lb_imap_response_unref);

  assert_fails ("* VANISHED (LATER) 1\r\n", "EARLIER");
  assert_fails ("* VANISHED\r\n", "space");
}

static void
test_namespace_id_quota (void)
{
  g_autoptr(LbImapResponse) r = NULL;
  LbImapNamespaceEntry *e;
  LbImapQuotaResource *res;

  r = parse ("* NAMESPACE ((\"\" \"/\")(\"#mh/\" \"/\" \"X-PARAM\" (\"FLAG1\" \"FLAG2\"))) NIL "
             "((\"#shared/\" \"/\") (\"#news.\" NIL))\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_NAMESPACE);
  g_assert_cmpuint (r->namespaces[0]->len, ==, 2);
  e = g_ptr_array_index (r->namespaces[0], 1);
  g_assert_cmpstr (e->prefix, ==, "#mh/");
  g_assert_cmpint (e->delimiter, ==, '/');
  g_assert_null (r->namespaces[1]);
  e = g_ptr_array_index (r->namespaces[2], 1);
  g_assert_cmpint (e->delimiter, ==, '\0');
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* ID (\"name\" \"GImap\" \"vendor\" \"Google, Inc.\" \"support-url\" NIL)\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_ID);
  g_assert_cmpuint (g_strv_length (r->strv), ==, 6);
  g_assert_cmpstr (r->strv[3], ==, "Google, Inc.");
  g_assert_cmpstr (r->strv[5], ==, "");
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* ID NIL\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_ID);
  g_assert_null (r->strv);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* QUOTA \"\" (STORAGE 10 512 message 42 1000)\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_QUOTA);
  g_assert_cmpstr (r->quota->root, ==, "");
  g_assert_cmpuint (r->quota->resources->len, ==, 2);
  res = &g_array_index (r->quota->resources, LbImapQuotaResource, 1);
  g_assert_cmpstr (res->name, ==, "MESSAGE");
  g_assert_cmpuint (res->usage, ==, 42);
  g_assert_cmpuint (res->limit, ==, 1000);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* QUOTAROOT INBOX \"#user/alice\" \"!partition/sda4\"\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_QUOTAROOT);
  g_assert_cmpstr (r->strv[0], ==, "INBOX");
  g_assert_cmpstr (r->strv[2], ==, "!partition/sda4");
  g_clear_pointer (&r, lb_imap_response_unref);

  assert_fails ("* NAMESPACE ((\"\" \"/\")) NIL\r\n", "space");
  assert_fails ("* ID (\"name\")\r\n", "space");
  assert_fails ("* QUOTA \"\" (STORAGE 10)\r\n", "space");
}

static void
test_other (void)
{
  g_autoptr(LbImapResponse) r = NULL;
  LbImapValue *v;

  r = parse ("* THREAD (2)(3 6 (4 23)(44 7 96))\r\n");
  g_assert_cmpint (r->data, ==, LB_IMAP_DATA_OTHER);
  g_assert_cmpstr (r->data_name, ==, "THREAD");
  g_assert_cmpuint (r->values->len, ==, 2);
  v = g_ptr_array_index (r->values, 1);
  g_assert_cmpint (v->kind, ==, LB_IMAP_VALUE_LIST);
  g_assert_cmpuint (v->v.list->len, ==, 4);
  g_clear_pointer (&r, lb_imap_response_unref);

  r = parse ("* ACL \"INBOX/share\" user lrswickxteda NIL {2}\r\nab 12\r\n");
  g_assert_cmpuint (r->values->len, ==, 6);
  v = g_ptr_array_index (r->values, 0);
  g_assert_cmpint (v->kind, ==, LB_IMAP_VALUE_STRING);
  v = g_ptr_array_index (r->values, 1);
  g_assert_cmpint (v->kind, ==, LB_IMAP_VALUE_ATOM);
  v = g_ptr_array_index (r->values, 3);
  g_assert_cmpint (v->kind, ==, LB_IMAP_VALUE_NIL);
  v = g_ptr_array_index (r->values, 5);
  g_assert_cmpint (v->kind, ==, LB_IMAP_VALUE_NUMBER);
  g_clear_pointer (&r, lb_imap_response_unref);

  /* what does not even parse generically is kept as text */
  r = parse ("* 86 NOOP froopy (snood\r\n");
  g_assert_cmpuint (r->number, ==, 86);
  g_assert_cmpstr (r->data_name, ==, "NOOP");
  g_assert_cmpuint (r->values->len, ==, 1);
  v = g_ptr_array_index (r->values, 0);
  g_assert_cmpint (v->kind, ==, LB_IMAP_VALUE_STRING);
  g_assert_cmpmem (g_bytes_get_data (v->v.string, NULL), g_bytes_get_size (v->v.string), "froopy (snood", 13);
}

static void
test_quirks (void)
{
  /* missing text, trailing spaces, lower case, a lone LF */
  assert_dump ("* OK\r\n", "* OK\n  text: \"\"\n");
  assert_dump ("a1 ok\n", "a1 OK\n  text: \"\"\n");
  assert_dump ("* bye  \r\n", "* BYE\n  text: \"\"\n");
  assert_dump ("* ok [uidnext 5]\r\n", "* OK\n  code: UIDNEXT 5\n  text: \"\"\n");
  assert_dump ("* OK [ALERT]text\r\n", "* OK\n  code: ALERT\n  text: \"text\"\n");
  assert_dump ("* 3 exists \r\n", "* 3 EXISTS\n");
  assert_dump ("* search 1\n", "* SEARCH\n  1\n");
  /* outlook.com's space between addresses; Gmail's "]" in flags */
  assert_dump ("* 1 FETCH (ENVELOPE (NIL NIL ((NIL NIL \"a\" \"b\") (NIL NIL \"c\" \"d\")) NIL NIL NIL NIL NIL NIL NIL))\r\n",
               "* 1 FETCH\n  envelope:\n    date: NIL\n    subject: NIL\n"
               "    from: (NIL NIL \"a\" \"b\") (NIL NIL \"c\" \"d\")\n    sender:\n    reply-to:\n"
               "    to:\n    cc:\n    bcc:\n    in-reply-to: NIL\n    message-id: NIL\n");
  assert_dump ("* FLAGS (OIB-Seen-[Google Mail]/Alle)\r\n",
               "* FLAGS\n  (\"OIB-Seen-[Google\" \"Mail]/Alle\")\n");

  /* but not loose in general */
  assert_fails ("*  OK\r\n", "keyword");
  assert_fails ("* OK\r\r\n", "end of the line");
  assert_fails ("* 1 FETCH (UID  5)\r\n", "UID");
  assert_fails ("* 1 FETCH (FLAGS (\\Seen) \r\n", NULL);
  assert_fails ("* 1 FETCH (ENVELOPE (\"a\nb\" NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n", "quoted");
  assert_fails ("* 1 FETCH (ENVELOPE (\"a\\qb\" NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n", "quoted");
}

static void
test_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbImapResponse) r = NULL;
  const char *text = "* 1 FETCH (UID x)\r\n";

  r = lb_imap_parse_response ((const guint8 *) text, strlen (text), LB_IMAP_PARSE_NONE, &error);
  g_assert_null (r);
  g_assert_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_SYNTAX);
  /* names what was expected and where */
  g_assert_nonnull (strstr (error->message, "UID"));
  g_assert_nonnull (strstr (error->message, "byte 15"));
}

static void
test_to_string (void)
{
  assert_dump (rfc3501_fetch,
               "* 12 FETCH\n"
               "  flags: (\"\\\\Seen\")\n"
               "  internaldate: 1996-07-17T09:44:25Z\n"
               "  size: 4286\n"
               "  envelope:\n"
               "    date: \"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\"\n"
               "    subject: \"IMAP4rev1 WG mtg summary and minutes\"\n"
               "    from: (\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")\n"
               "    sender: (\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")\n"
               "    reply-to: (\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")\n"
               "    to: (NIL NIL \"imap\" \"cac.washington.edu\")\n"
               "    cc: (NIL NIL \"minutes\" \"CNRI.Reston.VA.US\") (\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")\n"
               "    bcc:\n"
               "    in-reply-to: NIL\n"
               "    message-id: \"<B27397-0100000@cac.washington.edu>\"\n"
               "  body: \"text\"/\"plain\" params=(\"charset\" \"US-ASCII\") id=NIL description=NIL "
               "encoding=\"7bit\" size=3028 lines=92\n");
  assert_dump ("a OK [COPYUID 1 5:3,*:9 1:3] x\r\n", "a OK\n  code: COPYUID 1 5:3,*:9 1:3\n  text: \"x\"\n");
  assert_dump ("* 1 FETCH (BODY[] {4}\r\n\x01\xff\t\")\r\n",
               "* 1 FETCH\n  section[]: \"\\x01\\xff\\t\\\"\"\n");
}

/* modified UTF-7 */

static void
test_utf7 (void)
{
  static const struct
  {
    const char *utf8;
    const char *utf7;
  } pairs[] = {
    { "", "" },
    { "INBOX", "INBOX" },
    { "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
    { "&", "&-" },
    { "A&B", "A&-B" },
    { "Entw\xc3\xbc" "rfe", "Entw&APw-rfe" },
    { "\xc3\xa4\xc3\xb6\xc3\xbc", "&AOQA9gD8-" },
    { "\xf0\x9f\x98\x80 smile", "&2D3eAA- smile" },
    { "a\tb", "a&AAk-b" },
    { "\xd0\x9e\xd1\x82\xd0\xbf\xd1\x80\xd0\xb0\xd0\xb2\xd0\xbb\xd0\xb5\xd0\xbd\xd0\xbd\xd1\x8b\xd0\xb5",
      "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-" },
  };
  static const char *const invalid[] = {
    "&U,BTFw",       /* no "-" */
    "&AGE-",         /* encodes printable ASCII "a" */
    "&2D0-",         /* a lone high surrogate */
    "&3gA-",         /* a lone low surrogate */
    "&U,BTFw-&ZeVnLIqe-", /* two encoded runs in a row */
    "&U,B-",         /* bits left over */
    "&!-",           /* not base64 */
    "caf\xc3\xa9",   /* 8-bit */
    "a\tb",          /* a control character */
  };

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *encoded = lb_imap_utf7_encode (pairs[i].utf8);
      g_autofree char *decoded = lb_imap_utf7_decode (pairs[i].utf7, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (encoded, ==, pairs[i].utf7);
      g_assert_cmpstr (decoded, ==, pairs[i].utf8);
    }

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *decoded = lb_imap_utf7_decode (invalid[i], &error);

      if (decoded != NULL)
        g_error ("“%s” decoded to “%s”", invalid[i], decoded);
      g_assert_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_SYNTAX);
    }

  /* every code point round-trips */
  for (gunichar c = 1; c < 0x110000; c += (c < 0x3000 ? 1 : 97))
    {
      char buf[8] = { 0 };
      g_autofree char *encoded = NULL;
      g_autofree char *decoded = NULL;

      if (c >= 0xd800 && c <= 0xdfff)
        continue;
      g_unichar_to_utf8 (c, buf);
      encoded = lb_imap_utf7_encode (buf);
      decoded = lb_imap_utf7_decode (encoded, NULL);
      g_assert_cmpstr (decoded, ==, buf);
    }
}

/* sets */

static void
test_sets (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) set = NULL;
  g_autoptr(GArray) values = NULL;
  g_autofree char *text = NULL;
  LbImapRange ranges[] = { { 1, 1 }, { 3, 5 }, { 9, G_MAXUINT32 } };

  set = lb_imap_set_parse ("7,1:3,10:8,*", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (set->len, ==, 4);
  g_assert_cmpuint (g_array_index (set, LbImapRange, 2).first, ==, 10);
  g_assert_cmpuint (g_array_index (set, LbImapRange, 2).last, ==, 8);
  g_assert_cmpuint (g_array_index (set, LbImapRange, 3).first, ==, G_MAXUINT32);
  g_assert_true (lb_imap_set_contains (set, 9));
  g_assert_true (lb_imap_set_contains (set, 2));
  g_assert_false (lb_imap_set_contains (set, 4));
  g_assert_true (lb_imap_set_contains (set, G_MAXUINT32));
  text = lb_imap_set_to_string ((const LbImapRange *) (void *) set->data, set->len);
  g_assert_cmpstr (text, ==, "7,1:3,10:8,*");
  g_clear_pointer (&text, g_free);
  text = lb_imap_set_to_string (ranges, G_N_ELEMENTS (ranges));
  g_assert_cmpstr (text, ==, "1,3:5,9:*");
  g_clear_pointer (&set, g_array_unref);

  set = lb_imap_set_parse ("5:3,4,1", &error);
  values = lb_imap_set_expand (set, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (values->len, ==, 4);
  g_assert_cmpuint (g_array_index (values, guint32, 0), ==, 1);
  g_assert_cmpuint (g_array_index (values, guint32, 3), ==, 5);
  g_clear_pointer (&values, g_array_unref);
  values = lb_imap_set_expand (set, 3, &error);
  g_assert_null (values);
  g_assert_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_clear_pointer (&set, g_array_unref);

  set = lb_imap_set_parse ("1:*", &error);
  values = lb_imap_set_expand (set, 1000000, &error);
  g_assert_null (values);
  g_assert_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_TOO_LARGE);
  g_clear_error (&error);

  for (guint i = 0; i < 7; i++)
    {
      static const char *const bad[] = { "", "0", "1,", ",1", "1:", "a", "4294967296" };
      g_autoptr(GArray) none = lb_imap_set_parse (bad[i], &error);

      g_assert_null (none);
      g_assert_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_SYNTAX);
      g_clear_error (&error);
    }
}

/* INTERNALDATE */

static void
test_internaldate (void)
{
  static const struct
  {
    const char *text;
    gint64      seconds;
  } good[] = {
    { "17-Jul-1996 02:44:25 -0700", 837596665 },
    { " 7-Jul-1996 02:44:25 -0700", 836732665 },
    { "7-jul-1996 09:44:25 +0000", 836732665 },
    { "01-Jan-1970 00:00:00 +0000", 0 },
    { "31-Dec-1969 23:00:00 -0100", 0 },
    { "29-Feb-2024 12:00:00 +0530", 1709188200 },
    { "01-Jan-2100 00:00:00 +0000", 4102444800 },
  };
  static const char *const bad[] = {
    "", "17-Jul-1996", "17-Jly-1996 02:44:25 -0700", "32-Jul-1996 02:44:25 -0700",
    "29-Feb-2023 02:44:25 -0700", "17-Jul-1996 24:44:25 -0700", "17-Jul-1996 02:44:25 0700",
    "17-Jul-1996 02:44:25 -07000", "17-Jul-96 02:44:25 -0700", "17/Jul/1996 02:44:25 -0700",
    "17-Jul-1996 02:60:25 -0700",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      gint64 t = -1;

      g_assert_true (lb_imap_parse_internaldate (good[i].text, &t));
      g_assert_cmpint (t, ==, good[i].seconds);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      gint64 t = 42;

      if (lb_imap_parse_internaldate (bad[i], &t))
        g_error ("“%s” parsed", bad[i]);
      g_assert_cmpint (t, ==, 42);
    }
}

/* The fixtures of tests/data/imap/fixtures: ruby/net-imap's, converted by
 * convert-fixtures.py, and a Dovecot session (capture-dovecot.py). NAME.raw
 * holds the responses a server sends, NAME.expected their canonical text,
 * each after a "# name" line. */

static GPtrArray *
split_expected (const char *text)
{
  GPtrArray *blocks = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  GString *block = NULL;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "# "))
        {
          if (block != NULL)
            g_ptr_array_add (blocks, g_string_free (block, FALSE));
          block = g_string_new (NULL);
          g_ptr_array_add (blocks, g_strdup (lines[i] + 2));
          continue;
        }
      if (block != NULL && lines[i][0] != '\0')
        g_string_append_printf (block, "%s\n", lines[i]);
    }
  if (block != NULL)
    g_ptr_array_add (blocks, g_string_free (block, FALSE));
  return blocks;
}

static guint
check_fixture (const char *base)
{
  g_autofree char *raw_name = g_strconcat (base, ".raw", NULL);
  g_autofree char *expected_name = g_strconcat (base, ".expected", NULL);
  g_autofree char *raw_path = g_test_build_filename (G_TEST_DIST, "data", "imap", "fixtures", raw_name, NULL);
  g_autofree char *expected_path = g_test_build_filename (G_TEST_DIST, "data", "imap", "fixtures",
                                                          expected_name, NULL);
  g_autofree char *raw = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(GPtrArray) blocks = NULL;
  g_autoptr(GError) error = NULL;
  LbImapFramer framer;
  gsize len, start = 0;
  guint n = 0;

  g_assert_true (g_file_get_contents (raw_path, &raw, &len, &error));
  g_assert_true (g_file_get_contents (expected_path, &expected, NULL, &error));
  blocks = split_expected (expected);

  lb_imap_framer_init (&framer, 0, 0);
  while (start < len)
    {
      gsize frame_len = 0;
      g_autoptr(LbImapResponse) r = NULL;
      g_autofree char *actual = NULL;
      const char *name, *want;

      g_assert_true (lb_imap_framer_next (&framer, (const guint8 *) raw + start, len - start, &frame_len, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (2 * n + 1, <, blocks->len);
      name = g_ptr_array_index (blocks, 2 * n);
      want = g_ptr_array_index (blocks, 2 * n + 1);
      r = lb_imap_parse_response ((const guint8 *) raw + start, frame_len, LB_IMAP_PARSE_NONE, &error);
      if (r == NULL)
        g_error ("%s: %s: %s", base, name, error->message);
      actual = lb_imap_response_to_string (r);
      if (strcmp (actual, want) != 0)
        g_error ("%s: %s:\n--- got\n%s--- want\n%s", base, name, actual, want);
      start += frame_len;
      n++;
    }
  g_assert_cmpuint (2 * n, ==, blocks->len);
  return n;
}

static void
test_fixtures (void)
{
  g_autofree char *dir_path = g_test_build_filename (G_TEST_DIST, "data", "imap", "fixtures", NULL);
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *errors_path = NULL;
  g_autofree char *errors = NULL;
  g_auto(GStrv) lines = NULL;
  const char *name;
  guint files = 0, responses = 0, refused = 0;

  dir = g_dir_open (dir_path, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *base = NULL;

      if (!g_str_has_suffix (name, ".expected"))
        continue;
      base = g_strndup (name, strlen (name) - strlen (".expected"));
      responses += check_fixture (base);
      files++;
    }
  g_test_message ("%u responses in %u fixture files", responses, files);
  g_assert_cmpuint (files, >=, 29);
  g_assert_cmpuint (responses, >=, 300);

  /* and those that must not parse (or frame) */
  errors_path = g_build_filename (dir_path, "errors.txt", NULL);
  g_assert_true (g_file_get_contents (errors_path, &errors, NULL, &error));
  lines = g_strsplit (errors, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *raw = NULL;
      g_autoptr(GError) parse_error = NULL;
      LbImapFramer framer;
      gsize frame_len;

      if (lines[i][0] == '#' || lines[i][0] == '\0')
        continue;
      raw = g_strcompress (lines[i]);
      lb_imap_framer_init (&framer, 0, 0);
      if (lb_imap_framer_next (&framer, (const guint8 *) raw, strlen (raw), &frame_len, &parse_error))
        {
          g_autoptr(LbImapResponse) r = lb_imap_parse_response ((const guint8 *) raw, frame_len,
                                                                LB_IMAP_PARSE_NONE, &parse_error);

          g_assert_null (r);
        }
      g_assert_nonnull (parse_error);
      refused++;
    }
  g_assert_cmpuint (refused, >=, 1);
}

/* the imap-parse tool prints the same, and says so in its exit status */
static void
test_tool (void)
{
  g_autofree char *tool = g_test_build_filename (G_TEST_BUILT, "imap-parse", NULL);
  g_autofree char *raw_path = g_test_build_filename (G_TEST_DIST, "data", "imap", "fixtures",
                                                     "body_structure_responses.raw", NULL);
  g_autofree char *expected_path = g_test_build_filename (G_TEST_DIST, "data", "imap", "fixtures",
                                                          "body_structure_responses.expected", NULL);
  g_autofree char *expected = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) want = g_string_new (NULL);
  g_auto(GStrv) lines = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GBytes) input = NULL;
  g_autoptr(GBytes) output = NULL;
  static const char broken[] = "* OK fine\r\n* 1 FETCH (UID x)\r\n* 2 EXISTS\r\n";

  g_assert_true (g_file_get_contents (expected_path, &expected, NULL, &error));
  lines = g_strsplit (expected, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '#' && lines[i][0] != '\0')
      g_string_append_printf (want, "%s\n", lines[i]);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_stdin_file_path (launcher, raw_path);
  process = g_subprocess_launcher_spawn (launcher, &error, tool, NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_assert_cmpstr (out, ==, want->str);
  g_clear_object (&process);
  g_clear_pointer (&out, g_free);

  /* a response that does not parse: an error line, the rest goes on */
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, tool, NULL);
  g_assert_no_error (error);
  input = g_bytes_new_static (broken, sizeof broken - 1);
  g_assert_true (g_subprocess_communicate (process, input, NULL, &output, NULL, &error));
  g_assert_no_error (error);
  out = g_strndup (g_bytes_get_data (output, NULL), g_bytes_get_size (output));
  g_assert_true (g_str_has_prefix (out, "* OK\n  text: \"fine\"\nerror: "));
  g_assert_true (g_str_has_suffix (out, "\n* 2 EXISTS\n"));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 1);
}

/* A header sync's worth of FETCH responses, framed and parsed from memory.
 * With -m perf: 100,000 of them, and the speed printed. */
static GString *
generate_fetches (guint count)
{
  GString *data = g_string_sized_new ((gsize) count * 950);

  for (guint i = 1; i <= count; i++)
    {
      char refs[128];
      int refs_len = g_snprintf (refs, sizeof refs,
                                 "References: <p%u@example.com>\r\nIn-Reply-To: <p%u@example.com>\r\n\r\n",
                                 i / 2, i / 2);

      g_string_append_printf (data,
                              "* %u FETCH (UID %u FLAGS (\\Seen%s) INTERNALDATE \"%02u-Jul-2023 %02u:44:25 +0200\" "
                              "RFC822.SIZE %u ENVELOPE (\"Mon, %u Jul 2023 %02u:23:25 +0200\" "
                              "\"=?utf-8?q?Re=3A_Meeting_notes_for_the_week?= number %u\" "
                              "((\"Alice Example\" NIL \"alice\" \"example.com\")) "
                              "((\"Alice Example\" NIL \"alice\" \"example.com\")) "
                              "((\"Alice Example\" NIL \"alice\" \"example.com\")) "
                              "((\"Bob Builder\" NIL \"bob\" \"example.org\")(NIL NIL \"team\" \"lists.example.org\")) "
                              "((\"Carol\" NIL \"carol\" \"example.net\")) NIL \"<p%u@example.com>\" \"<m%u@example.com>\") "
                              "BODYSTRUCTURE (((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" %u %u NIL NIL NIL NIL)"
                              "(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" %u %u NIL NIL NIL NIL) "
                              "\"alternative\" (\"boundary\" \"b1_%u\") NIL NIL NIL)"
                              "(\"application\" \"pdf\" (\"name\" \"report %u.pdf\") NIL NIL \"base64\" %u NIL "
                              "(\"attachment\" (\"filename\" \"report %u.pdf\")) NIL NIL) "
                              "\"mixed\" (\"boundary\" \"b0_%u\") NIL NIL NIL) "
                              "BODY[HEADER.FIELDS (REFERENCES IN-REPLY-TO LIST-ID)] {%d}\r\n%s)\r\n",
                              i, i + 1000, i % 3 ? "" : " \\Answered", 1 + i % 28, i % 24,
                              2000 + i % 50000, 1 + i % 28, i % 24, i, i / 2, i,
                              500 + i % 5000, 10 + i % 100, 1500 + i % 9000, 30 + i % 200, i, i,
                              20000 + i % 100000, i, i, refs_len, refs);
    }
  return data;
}

static void
test_speed (void)
{
  guint count = g_test_perf () ? 100000 : 2000;
  guint rounds = g_test_perf () ? 5 : 1;
  GString *data = generate_fetches (count);
  double mb = data->len / 1e6, best = 0;

  for (guint round = 0; round < rounds; round++)
    {
      LbImapFramer framer;
      gsize start = 0;
      guint parsed = 0;
      guint64 uid_sum = 0;
      gint64 t0, t1;
      double seconds;

      lb_imap_framer_init (&framer, 0, 0);
      t0 = g_get_monotonic_time ();
      while (start < data->len)
        {
          gsize frame_len = 0;
          g_autoptr(GError) error = NULL;
          LbImapResponse *r;

          g_assert_true (lb_imap_framer_next (&framer, (const guint8 *) data->str + start, data->len - start,
                                              &frame_len, &error));
          r = lb_imap_parse_response ((const guint8 *) data->str + start, frame_len, LB_IMAP_PARSE_NONE, &error);
          g_assert_no_error (error);
          uid_sum += r->fetch->uid;
          lb_imap_response_unref (r);
          start += frame_len;
          parsed++;
        }
      t1 = g_get_monotonic_time ();

      g_assert_cmpuint (parsed, ==, count);
      g_assert_cmpuint (uid_sum, ==, (guint64) count * (count + 1) / 2 + (guint64) count * 1000);
      seconds = (t1 - t0) / 1e6;
      g_test_message ("framed and parsed %u FETCH responses, %.1f MB, in %.3f s: %.0f MB/s",
                      count, mb, seconds, mb / seconds);
      best = MAX (best, mb / seconds);
    }
  if (g_test_perf ())
    g_test_maximized_result (best, "%.0f MB/s", best);
  g_string_free (data, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/imap-parser/framer/lines", test_framer_lines);
  g_test_add_func ("/imap-parser/framer/literals", test_framer_literals);
  g_test_add_func ("/imap-parser/framer/wanted", test_framer_wanted);
  g_test_add_func ("/imap-parser/framer/limits", test_framer_limits);
  g_test_add_func ("/imap-parser/framer/frame-limit", test_framer_frame_limit);
  g_test_add_func ("/imap-parser/framer/linear", test_framer_linear);
  g_test_add_func ("/imap-parser/status", test_status_responses);
  g_test_add_func ("/imap-parser/codes", test_response_codes);
  g_test_add_func ("/imap-parser/continuation", test_continuation);
  g_test_add_func ("/imap-parser/capability-enabled-flags", test_capability_enabled_flags);
  g_test_add_func ("/imap-parser/message-counts", test_message_counts);
  g_test_add_func ("/imap-parser/fetch/envelope", test_fetch_envelope);
  g_test_add_func ("/imap-parser/fetch/envelope-groups", test_fetch_envelope_groups);
  g_test_add_func ("/imap-parser/fetch/bodystructure", test_fetch_bodystructure);
  g_test_add_func ("/imap-parser/fetch/bodystructure-quirks", test_fetch_bodystructure_quirks);
  g_test_add_func ("/imap-parser/fetch/depth", test_fetch_depth);
  g_test_add_func ("/imap-parser/fetch/sections", test_fetch_sections);
  g_test_add_func ("/imap-parser/fetch/sections-binary", test_fetch_sections_binary);
  g_test_add_func ("/imap-parser/fetch/items", test_fetch_items);
  g_test_add_func ("/imap-parser/truncated", test_truncated);
  g_test_add_func ("/imap-parser/list", test_list);
  g_test_add_func ("/imap-parser/status-data", test_status);
  g_test_add_func ("/imap-parser/search", test_search);
  g_test_add_func ("/imap-parser/esearch", test_esearch);
  g_test_add_func ("/imap-parser/vanished", test_vanished);
  g_test_add_func ("/imap-parser/namespace-id-quota", test_namespace_id_quota);
  g_test_add_func ("/imap-parser/other", test_other);
  g_test_add_func ("/imap-parser/quirks", test_quirks);
  g_test_add_func ("/imap-parser/errors", test_errors);
  g_test_add_func ("/imap-parser/to-string", test_to_string);
  g_test_add_func ("/imap-parser/utf7", test_utf7);
  g_test_add_func ("/imap-parser/sets", test_sets);
  g_test_add_func ("/imap-parser/internaldate", test_internaldate);
  g_test_add_func ("/imap-parser/fixtures", test_fixtures);
  g_test_add_func ("/imap-parser/tool", test_tool);
  g_test_add_func ("/imap-parser/speed", test_speed);

  return g_test_run ();
}
