/* lb-selection-state.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include "lb-selection-state.h"

/**
 * lb_selection_actions_compute:
 * @facts: what is selected, and where
 *
 * Nothing applies to an empty selection. Otherwise: mark read when any
 * message is unread, mark unread when any is read; flag when any is not
 * flagged, unflag when all are; delete always; archive outside the
 * Archive and only when the account has one; junk outside the Junk
 * folder, and only when the account has one, "not junk" inside it; move
 * only within one account (never in All Inboxes).
 *
 * Returns: the actions to enable
 */
LbSelectionActions
lb_selection_actions_compute (const LbSelectionFacts *facts)
{
  LbSelectionActions actions = { 0 };
  guint n;
  guint n_unread;
  guint n_flagged;

  g_return_val_if_fail (facts != NULL, actions);

  n = facts->n_selected;
  if (n == 0)
    return actions;

  /* counts beyond the selection are a caller's mistake: clamp them */
  n_unread = MIN (facts->n_unread, n);
  n_flagged = MIN (facts->n_flagged, n);

  actions.mark_read = n_unread > 0;
  actions.mark_unread = n_unread < n;
  actions.flag = n_flagged < n;
  actions.unflag = n_flagged == n;
  actions.delete_ = TRUE;
  actions.archive = facts->has_archive && facts->folder_role != LB_FOLDER_ROLE_ARCHIVE;
  actions.junk = facts->has_junk && facts->folder_role != LB_FOLDER_ROLE_JUNK;
  actions.not_junk = !facts->unified && facts->folder_role == LB_FOLDER_ROLE_JUNK;
  actions.move = !facts->unified;

  return actions;
}
