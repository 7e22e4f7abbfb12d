/* lb-message-row-state.h: what a message list row shows, from values
 * alone, so it is tested without widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "lb-message.h"

G_BEGIN_DECLS

/**
 * LbMessageRowState:
 * @loaded: the row's summary has been read; until then the row shows
 *   placeholders and the rest is empty
 * @sender: the sender's display name, or the address when there is none
 * @subject: the subject, or "(No Subject)" (translated)
 * @snippet: the start of the text, on one line
 * @date: the date as the list shows it: the time today, the weekday this
 *   week, the day and month this year, the full date before (in the
 *   user's locale)
 * @unread: @flagged: @attachment: the marks (of a conversation row: set
 *   when any of its messages has the mark)
 * @count: for a conversation row of more than one message, how many it
 *   has (the badge next to the subject); 0 when no badge shows
 * @count_text: @count as the badge shows it, empty when no badge shows
 * @accessible_label: one sentence a screen reader reads for the row
 */
typedef struct
{
  gboolean  loaded;
  char     *sender;
  char     *subject;
  char     *snippet;
  char     *date;
  gboolean  unread;
  gboolean  flagged;
  gboolean  attachment;
  guint     count;
  char     *count_text;
  char     *accessible_label;
} LbMessageRowState;

/* @now: the current local time (a test passes a fixed one) */
LbMessageRowState *lb_message_row_state_new  (LbMessage         *message,
                                              GDateTime         *now);
void               lb_message_row_state_free (LbMessageRowState *state);

/* The list's date text for @date (seconds since the epoch) seen at @now. */
char              *lb_message_row_format_date (gint64            date,
                                               GDateTime        *now);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbMessageRowState, lb_message_row_state_free)

G_END_DECLS
