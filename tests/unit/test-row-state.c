/* test-row-state.c: what a message list row shows, without widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>
#include <string.h>

#include "lb-message-row-state.h"

/* Wednesday 15 November 2023, 14:30 UTC */
static GDateTime *
make_now (void)
{
  return g_date_time_new_utc (2023, 11, 15, 14, 30, 0);
}

static gint64
utc (int year,
     int month,
     int day,
     int hour,
     int minute)
{
  g_autoptr(GDateTime) dt = g_date_time_new_utc (year, month, day, hour, minute, 0);

  return g_date_time_to_unix (dt);
}

static LbMessage *
make_message (const char *from,
              const char *subject,
              const char *preview,
              gint64      date,
              guint       flags,
              gboolean    attachments)
{
  g_autoptr(LbMessageSummary) summary = lb_message_summary_new ();

  summary->key = 1;
  summary->folder_id = 1;
  summary->from = g_strdup (from);
  summary->subject = g_strdup (subject);
  summary->preview = g_strdup (preview);
  summary->date = date;
  summary->flags = flags;
  summary->has_attachments = attachments;

  return lb_message_new_for_summary (summary);
}

static void
assert_date (gint64      date,
             GDateTime  *now,
             const char *expected)
{
  g_autofree char *text = lb_message_row_format_date (date, now);

  g_assert_cmpstr (text, ==, expected);
}

static void
test_date (void)
{
  g_autoptr(GDateTime) now = make_now ();

  /* today: the time */
  assert_date (utc (2023, 11, 15, 9, 5), now, "09:05");
  assert_date (utc (2023, 11, 15, 0, 0), now, "00:00");
  /* later today (a clock a little ahead) is still today */
  assert_date (utc (2023, 11, 15, 23, 59), now, "23:59");
  /* yesterday and the days before it in the week: the weekday */
  assert_date (utc (2023, 11, 14, 23, 59), now, "Tue");
  assert_date (utc (2023, 11, 9, 8, 0), now, "Thu");
  /* a week ago: the day and month */
  assert_date (utc (2023, 11, 8, 8, 0), now, "8 Nov");
  assert_date (utc (2023, 1, 1, 0, 0), now, "1 Jan");
  /* tomorrow is not this week: day and month */
  assert_date (utc (2023, 11, 16, 10, 0), now, "16 Nov");
  /* another year: the full date, in the (C) locale's format */
  assert_date (utc (2022, 12, 31, 23, 0), now, "12/31/22");
  /* unknown */
  assert_date (0, now, "");
}

static void
test_date_time_zone (void)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_offset (5 * 3600);
  g_autoptr(GDateTime) now = g_date_time_new (tz, 2023, 11, 15, 2, 0, 0);

  /* 21:30 UTC the day before is 02:30 today in UTC+5 */
  assert_date (utc (2023, 11, 14, 21, 30), now, "02:30");
  /* 18:00 UTC the day before is 23:00 yesterday there */
  assert_date (utc (2023, 11, 14, 18, 0), now, "Tue");
}

static void
test_loaded (void)
{
  g_autoptr(GDateTime) now = make_now ();
  g_autoptr(LbMessage) message = make_message ("Alice Example <alice@example.test>",
                                               "Quarterly figures",
                                               "Revenue is up.\r\n\r\n  See the\ttable  below.  ",
                                               utc (2023, 11, 15, 10, 0),
                                               LB_MESSAGE_FLAGGED, TRUE);
  g_autoptr(LbMessageRowState) state = lb_message_row_state_new (message, now);

  g_assert_true (state->loaded);
  g_assert_cmpstr (state->sender, ==, "Alice Example");
  g_assert_cmpstr (state->subject, ==, "Quarterly figures");
  g_assert_cmpstr (state->snippet, ==, "Revenue is up. See the table below.");
  g_assert_cmpstr (state->date, ==, "10:00");
  g_assert_true (state->unread);
  g_assert_true (state->flagged);
  g_assert_true (state->attachment);
  g_assert_cmpstr (state->accessible_label, ==,
                   "Unread, Flagged, Has attachments, From Alice Example, Quarterly figures, 10:00. "
                   "Revenue is up. See the table below.");
}

/* A conversation row: the newest message, the count as a badge when it
 * has more than one message, the marks of any of its messages. */
static void
test_conversation (void)
{
  g_autoptr(GDateTime) now = make_now ();
  g_autoptr(LbMessage) message = lb_message_new ();
  g_autoptr(LbMessageRowState) plain = NULL;
  g_autoptr(LbMessageRowState) state = NULL;
  g_autoptr(LbMessageRowState) single = NULL;
  g_autoptr(LbMessageRowState) read = NULL;
  LbStoreConversation conversation = { NULL, 3, 1, 1, 0 };

  /* a message row: no badge */
  {
    g_autoptr(LbMessage) flat = make_message ("bob@example.test", "Hi", NULL, utc (2023, 6, 1, 12, 0),
                                              LB_MESSAGE_SEEN, FALSE);

    plain = lb_message_row_state_new (flat, now);
    g_assert_cmpuint (plain->count, ==, 0);
    g_assert_cmpstr (plain->count_text, ==, "");
  }

  /* the newest message is read and not flagged; an older one is both
   * unread and flagged */
  conversation.newest = lb_message_summary_new ();
  conversation.newest->key = 7;
  conversation.newest->from = g_strdup ("Carol <carol@example.test>");
  conversation.newest->subject = g_strdup ("Re: Plans");
  conversation.newest->date = utc (2023, 11, 15, 9, 5);
  conversation.newest->flags = LB_MESSAGE_SEEN;
  lb_message_set_conversation (message, &conversation);

  state = lb_message_row_state_new (message, now);
  g_assert_cmpuint (state->count, ==, 3);
  g_assert_cmpstr (state->count_text, ==, "3");
  g_assert_cmpstr (state->subject, ==, "Re: Plans");
  g_assert_true (state->unread);
  g_assert_true (state->flagged);
  g_assert_false (state->attachment);
  g_assert_cmpstr (state->accessible_label, ==,
                   "Unread, Flagged, Conversation of 3 messages, From Carol, Re: Plans, 09:05");

  /* all read */
  conversation.n_unread = 0;
  conversation.n_flagged = 0;
  conversation.n_attachments = 2;
  lb_message_set_conversation (message, &conversation);
  read = lb_message_row_state_new (message, now);
  g_assert_false (read->unread);
  g_assert_false (read->flagged);
  g_assert_true (read->attachment);
  g_assert_cmpstr (read->count_text, ==, "3");

  /* a conversation of one message shows no badge */
  conversation.n_messages = 1;
  lb_message_set_conversation (message, &conversation);
  single = lb_message_row_state_new (message, now);
  g_assert_cmpuint (single->count, ==, 0);
  g_assert_cmpstr (single->count_text, ==, "");
  g_assert_cmpstr (single->accessible_label, ==, "Has attachments, From Carol, Re: Plans, 09:05");

  lb_message_summary_unref (conversation.newest);
}

static void
test_read_plain (void)
{
  g_autoptr(GDateTime) now = make_now ();
  g_autoptr(LbMessage) message = make_message ("bob@example.test", "Hi", NULL,
                                               utc (2023, 6, 1, 12, 0), LB_MESSAGE_SEEN, FALSE);
  g_autoptr(LbMessageRowState) state = lb_message_row_state_new (message, now);

  g_assert_cmpstr (state->sender, ==, "bob@example.test");
  g_assert_cmpstr (state->snippet, ==, "");
  g_assert_cmpstr (state->date, ==, "1 Jun");
  g_assert_false (state->unread);
  g_assert_false (state->flagged);
  g_assert_false (state->attachment);
  g_assert_cmpstr (state->accessible_label, ==, "From bob@example.test, Hi, 1 Jun");
}

static void
test_no_subject (void)
{
  g_autoptr(GDateTime) now = make_now ();
  const char *subjects[] = { NULL, "", "   ", "\t\r\n" };

  for (guint i = 0; i < G_N_ELEMENTS (subjects); i++)
    {
      g_autoptr(LbMessage) message = make_message ("a@example.test", subjects[i], NULL, 0, LB_MESSAGE_SEEN, FALSE);
      g_autoptr(LbMessageRowState) state = lb_message_row_state_new (message, now);

      g_assert_cmpstr (state->subject, ==, "(No Subject)");
      g_assert_cmpstr (state->date, ==, "");
    }

  {
    /* a folded subject is one line */
    g_autoptr(LbMessage) message = make_message ("a@example.test", "A long\r\n subject", NULL, 0, 0, FALSE);
    g_autoptr(LbMessageRowState) state = lb_message_row_state_new (message, now);

    g_assert_cmpstr (state->subject, ==, "A long subject");
  }
}

static void
test_sender (void)
{
  g_autoptr(GDateTime) now = make_now ();
  struct
  {
    const char *from;
    const char *sender;
  } cases[] = {
    { "Alice <alice@example.test>", "Alice" },
    { "\"Doe, John\" <john@example.test>, Jane <jane@example.test>", "Doe, John" },
    { "<noname@example.test>", "noname@example.test" },
    { "\"\" <quoted-empty@example.test>", "quoted-empty@example.test" },
    { "plain@example.test, other@example.test", "plain@example.test" },
    { "  Spaced   Name   <s@example.test>", "Spaced Name" },
    { "\"Esc \\\"Q\\\" Name\" <e@example.test>", "Esc \"Q\" Name" },
    { "Юлия <julia@example.test>", "Юлия" },
    { "", "Unknown Sender" },
    { NULL, "Unknown Sender" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(LbMessage) message = make_message (cases[i].from, "s", NULL, 0, 0, FALSE);
      g_autoptr(LbMessageRowState) state = lb_message_row_state_new (message, now);

      g_assert_cmpstr (state->sender, ==, cases[i].sender);
    }
}

static void
test_snippet (void)
{
  g_autoptr(GDateTime) now = make_now ();
  g_autoptr(GString) long_text = g_string_new (NULL);
  g_autoptr(LbMessage) message = NULL;
  g_autoptr(LbMessageRowState) state = NULL;

  for (guint i = 0; i < 100; i++)
    g_string_append (long_text, "слово \n");

  message = make_message ("a@example.test", "s", long_text->str, 0, 0, FALSE);
  state = lb_message_row_state_new (message, now);

  /* one line, no space at the ends, short enough for a row */
  g_assert_null (strchr (state->snippet, '\n'));
  g_assert_null (strstr (state->snippet, "  "));
  g_assert_true (g_str_has_prefix (state->snippet, "слово слово"));
  g_assert_false (g_str_has_suffix (state->snippet, " "));
  g_assert_true (g_utf8_validate (state->snippet, -1, NULL));
  g_assert_cmpuint (g_utf8_strlen (state->snippet, -1), <=, 200);
  g_assert_cmpuint (g_utf8_strlen (state->snippet, -1), >=, 190);
}

static void
test_not_loaded (void)
{
  g_autoptr(GDateTime) now = make_now ();
  g_autoptr(LbMessage) message = lb_message_new ();
  g_autoptr(LbMessageRowState) state = lb_message_row_state_new (message, now);

  g_assert_false (state->loaded);
  g_assert_cmpstr (state->sender, ==, "");
  g_assert_cmpstr (state->subject, ==, "");
  g_assert_cmpstr (state->snippet, ==, "");
  g_assert_cmpstr (state->date, ==, "");
  g_assert_false (state->unread);
  g_assert_false (state->flagged);
  g_assert_false (state->attachment);
  g_assert_cmpstr (state->accessible_label, ==, "Loading message…");
}

/* What a bind costs: logged, and bounded loosely so that a regression
 * by orders of magnitude fails (sanitizers make it several times
 * slower). */
static void
test_cost (void)
{
  g_autoptr(GDateTime) now = make_now ();
  g_autoptr(LbMessage) message = make_message ("Alice Example <alice@example.test>",
                                               "Re: Quarterly figures for the third quarter",
                                               "Thanks, the numbers look good. Can we talk about the table on page two "
                                               "before the meeting tomorrow?",
                                               utc (2023, 11, 14, 10, 0), 0, TRUE);
  const guint n = 20000;
  gint64 start = g_get_monotonic_time ();
  double per_row;

  for (guint i = 0; i < n; i++)
    {
      LbMessageRowState *state = lb_message_row_state_new (message, now);

      lb_message_row_state_free (state);
    }

  per_row = (double) (g_get_monotonic_time () - start) / n;
  g_test_message ("lb_message_row_state_new: %.2f µs per row", per_row);
  g_assert_cmpfloat (per_row, <, 500.0);
}

int
main (int   argc,
      char *argv[])
{
  /* the C locale's formats, and untranslated strings */
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_setenv ("LANGUAGE", "C", TRUE);
  setlocale (LC_ALL, "");

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/row-state/date", test_date);
  g_test_add_func ("/row-state/date-time-zone", test_date_time_zone);
  g_test_add_func ("/row-state/loaded", test_loaded);
  g_test_add_func ("/row-state/read-plain", test_read_plain);
  g_test_add_func ("/row-state/conversation", test_conversation);
  g_test_add_func ("/row-state/no-subject", test_no_subject);
  g_test_add_func ("/row-state/sender", test_sender);
  g_test_add_func ("/row-state/snippet", test_snippet);
  g_test_add_func ("/row-state/not-loaded", test_not_loaded);
  g_test_add_func ("/row-state/cost", test_cost);

  return g_test_run ();
}
