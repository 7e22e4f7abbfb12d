/* lb-message-row-state.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "lb-message-row-state.h"

/* A row shows one line of snippet; more than this is never visible. */
#define SNIPPET_MAX_CHARS 200

/* Copies @text with each run of white space (line breaks, tabs, several
 * spaces) made one space, without space at either end, and at most
 * @max_chars characters long (0: no limit). */
static char *
collapse_whitespace (const char *text,
                     gsize       max_chars)
{
  GString *out;
  gboolean space = FALSE;
  gsize n_chars = 0;

  if (text == NULL)
    return g_strdup ("");

  out = g_string_sized_new (MIN (strlen (text), max_chars > 0 ? max_chars * 4 : G_MAXSIZE));
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char_validated (p, -1);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        break;  /* the model's strings are UTF-8; stop at anything else */

      if (g_unichar_isspace (c) || c == 0x00A0 || c == 0x200B)
        {
          space = out->len > 0;
          continue;
        }
      if (max_chars > 0 && n_chars + (space ? 1 : 0) >= max_chars)
        break;
      if (space)
        {
          g_string_append_c (out, ' ');
          n_chars++;
          space = FALSE;
        }
      g_string_append_unichar (out, c);
      n_chars++;
    }

  return g_string_free (out, FALSE);
}

/* Removes one level of quotes and their backslash escapes from a display
 * name ("Doe, John" -> Doe, John). */
static char *
unquote (const char *text,
         gsize       len)
{
  GString *out = g_string_sized_new (len);

  for (gsize i = 0; i < len; i++)
    {
      if (text[i] == '"')
        continue;
      if (text[i] == '\\' && i + 1 < len)
        i++;
      g_string_append_c (out, text[i]);
    }

  return g_string_free (out, FALSE);
}

/* The first sender of a decoded From list ("Name <addr>, ..."): its
 * display name, or its address when it has none; NULL when empty. */
static char *
first_sender (const char *from)
{
  const char *angle = NULL;
  const char *end;
  gboolean quoted = FALSE;
  gboolean in_angle = FALSE;
  g_autofree char *name = NULL;
  g_autofree char *address = NULL;
  char *result;

  if (from == NULL)
    return NULL;

  for (end = from; *end != '\0'; end++)
    {
      if (*end == '\\' && quoted && end[1] != '\0')
        end++;
      else if (*end == '"' && !in_angle)
        quoted = !quoted;
      else if (!quoted && *end == '<')
        {
          in_angle = TRUE;
          if (angle == NULL)
            angle = end;
        }
      else if (!quoted && *end == '>')
        in_angle = FALSE;
      else if (!quoted && !in_angle && *end == ',')
        break;
    }

  if (angle != NULL)
    {
      const char *close = memchr (angle, '>', end - angle);

      name = unquote (from, angle - from);
      address = g_strndup (angle + 1, (close != NULL ? close : end) - (angle + 1));
    }
  else
    {
      address = g_strndup (from, end - from);
    }

  if (name != NULL)
    {
      result = collapse_whitespace (name, 0);
      if (*result != '\0')
        return result;
      g_free (result);
    }

  result = collapse_whitespace (address, 0);
  if (*result != '\0')
    return result;
  g_free (result);

  return NULL;
}

/* Whether the user's locale writes times with AM/PM. */
static gboolean
locale_uses_12h (void)
{
  static gsize once = 0;
  static gboolean uses_12h = FALSE;

  if (g_once_init_enter (&once))
    {
      g_autoptr(GDateTime) afternoon = g_date_time_new_utc (2000, 1, 1, 13, 0, 0);
      g_autofree char *text = g_date_time_format (afternoon, "%X");

      uses_12h = text != NULL && strstr (text, "13") == NULL;
      g_once_init_leave (&once, 1);
    }

  return uses_12h;
}

/**
 * lb_message_row_format_date:
 * @date: seconds since the epoch; 0 or less when unknown
 * @now: the current local time; @date is shown in its time zone
 *
 * Today: the time ("14:05", or "2:05 PM" where the locale uses AM/PM);
 * the six days before: the weekday ("Mon"); this year: the day and month
 * ("14 Nov", as translators order it); earlier (or after today): the full
 * date in the locale's format.
 *
 * Returns: (transfer full): the date as the message list shows it, empty
 *   when unknown
 */
char *
lb_message_row_format_date (gint64     date,
                            GDateTime *now)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;
  GDate day, today;
  int y, m, d, ny, nm, nd;
  int days_before;
  char *text;

  g_return_val_if_fail (now != NULL, NULL);

  if (date <= 0)
    return g_strdup ("");

  utc = g_date_time_new_from_unix_utc (date);
  if (utc == NULL)
    return g_strdup ("");
  local = g_date_time_to_timezone (utc, g_date_time_get_timezone (now));
  if (local == NULL)
    return g_strdup ("");

  g_date_time_get_ymd (local, &y, &m, &d);
  g_date_time_get_ymd (now, &ny, &nm, &nd);
  g_date_clear (&day, 1);
  g_date_clear (&today, 1);
  g_date_set_dmy (&day, d, m, y);
  g_date_set_dmy (&today, nd, nm, ny);
  days_before = g_date_days_between (&day, &today);

  if (days_before == 0)
    {
      if (locale_uses_12h ())
        {
          /* TRANSLATORS: a time of today in the message list, 12-hour
           * clock; see g_date_time_format() */
          text = g_date_time_format (local, C_("list time", "%-l:%M %p"));
        }
      else
        {
          /* TRANSLATORS: a time of today in the message list, 24-hour
           * clock; see g_date_time_format() */
          text = g_date_time_format (local, C_("list time", "%H:%M"));
        }
    }
  else if (days_before > 0 && days_before < 7)
    {
      /* TRANSLATORS: a day of the last week in the message list: the
       * weekday; see g_date_time_format() */
      text = g_date_time_format (local, C_("list date", "%a"));
    }
  else if (y == ny)
    {
      /* TRANSLATORS: a date of this year in the message list: the day and
       * the month, in your language's order; see g_date_time_format() */
      text = g_date_time_format (local, C_("list date", "%-e %b"));
    }
  else
    {
      text = g_date_time_format (local, "%x");
    }

  return text != NULL ? text : g_strdup ("");
}

static char *
make_accessible_label (const LbMessageRowState *state)
{
  GString *label = g_string_new (NULL);

  if (state->unread)
    g_string_append_printf (label, "%s, ", _("Unread"));
  if (state->flagged)
    g_string_append_printf (label, "%s, ", _("Flagged"));
  if (state->attachment)
    g_string_append_printf (label, "%s, ", _("Has attachments"));
  if (state->count > 1)
    {
      /* TRANSLATORS: what a screen reader says for a conversation in the
       * message list, before its newest message's sender and subject */
      g_string_append_printf (label, ngettext ("Conversation of %u message", "Conversation of %u messages",
                                               state->count),
                              state->count);
      g_string_append (label, ", ");
    }

  /* TRANSLATORS: what a screen reader says for a message in the list:
   * the sender, the subject, then the date */
  g_string_append_printf (label, _("From %s, %s, %s"), state->sender, state->subject, state->date);
  if (*state->snippet != '\0')
    g_string_append_printf (label, ". %s", state->snippet);

  return g_string_free (label, FALSE);
}

/**
 * lb_message_row_state_new:
 * @message: the row's message, loaded or not
 * @now: the current local time (a test passes a fixed one)
 *
 * Returns: (transfer full): what the row shows for @message
 */
LbMessageRowState *
lb_message_row_state_new (LbMessage *message,
                          GDateTime *now)
{
  LbMessageRowState *state;
  const char *subject;

  g_return_val_if_fail (LB_IS_MESSAGE (message), NULL);
  g_return_val_if_fail (now != NULL, NULL);

  state = g_new0 (LbMessageRowState, 1);
  state->loaded = lb_message_get_loaded (message);

  if (!state->loaded)
    {
      state->sender = g_strdup ("");
      state->subject = g_strdup ("");
      state->snippet = g_strdup ("");
      state->date = g_strdup ("");
      state->count_text = g_strdup ("");
      state->accessible_label = g_strdup (_("Loading message…"));
      return state;
    }

  state->sender = first_sender (lb_message_get_from (message));
  if (state->sender == NULL)
    state->sender = g_strdup (_("Unknown Sender"));

  subject = lb_message_get_subject (message);
  state->subject = collapse_whitespace (subject, 0);
  if (*state->subject == '\0')
    {
      g_free (state->subject);
      state->subject = g_strdup (_("(No Subject)"));
    }

  state->snippet = collapse_whitespace (lb_message_get_preview (message), SNIPPET_MAX_CHARS);
  state->date = lb_message_row_format_date (lb_message_get_date (message), now);
  state->unread = lb_message_get_unread (message);
  state->flagged = lb_message_get_flagged (message);
  state->attachment = lb_message_get_has_attachments (message);
  /* a conversation of one message looks like a message */
  state->count = lb_message_get_n_messages (message) > 1 ? lb_message_get_n_messages (message) : 0;
  state->count_text = state->count > 0 ? g_strdup_printf ("%u", state->count) : g_strdup ("");
  state->accessible_label = make_accessible_label (state);

  return state;
}

/**
 * lb_message_row_state_free:
 * @state: (nullable): a row state
 */
void
lb_message_row_state_free (LbMessageRowState *state)
{
  if (state == NULL)
    return;

  g_free (state->sender);
  g_free (state->subject);
  g_free (state->snippet);
  g_free (state->date);
  g_free (state->count_text);
  g_free (state->accessible_label);
  g_free (state);
}
