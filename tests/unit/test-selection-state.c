/* test-selection-state.c: which actions a selection of messages allows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "lb-selection-state.h"

static LbSelectionFacts
facts_in_inbox (guint n_selected,
                guint n_unread,
                guint n_flagged)
{
  LbSelectionFacts facts = {
    .n_selected = n_selected,
    .n_unread = n_unread,
    .n_flagged = n_flagged,
    .folder_role = LB_FOLDER_ROLE_INBOX,
    .has_archive = TRUE,
    .has_junk = TRUE,
    .unified = FALSE,
  };

  return facts;
}

static void
test_empty (void)
{
  LbSelectionFacts facts = facts_in_inbox (0, 0, 0);
  LbSelectionActions actions = lb_selection_actions_compute (&facts);

  g_assert_false (actions.mark_read);
  g_assert_false (actions.mark_unread);
  g_assert_false (actions.flag);
  g_assert_false (actions.unflag);
  g_assert_false (actions.delete_);
  g_assert_false (actions.archive);
  g_assert_false (actions.move);
  g_assert_false (actions.junk);
  g_assert_false (actions.not_junk);
}

static void
test_read_state (void)
{
  LbSelectionFacts facts;
  LbSelectionActions actions;

  /* all unread: only mark read */
  facts = facts_in_inbox (3, 3, 0);
  actions = lb_selection_actions_compute (&facts);
  g_assert_true (actions.mark_read);
  g_assert_false (actions.mark_unread);

  /* all read: only mark unread */
  facts = facts_in_inbox (3, 0, 0);
  actions = lb_selection_actions_compute (&facts);
  g_assert_false (actions.mark_read);
  g_assert_true (actions.mark_unread);

  /* mixed: both */
  facts = facts_in_inbox (3, 1, 0);
  actions = lb_selection_actions_compute (&facts);
  g_assert_true (actions.mark_read);
  g_assert_true (actions.mark_unread);

  /* a count beyond the selection is clamped */
  facts = facts_in_inbox (2, 5, 0);
  actions = lb_selection_actions_compute (&facts);
  g_assert_true (actions.mark_read);
  g_assert_false (actions.mark_unread);
}

static void
test_flags (void)
{
  LbSelectionFacts facts;
  LbSelectionActions actions;

  facts = facts_in_inbox (1, 0, 0);
  actions = lb_selection_actions_compute (&facts);
  g_assert_true (actions.flag);
  g_assert_false (actions.unflag);

  facts = facts_in_inbox (1, 0, 1);
  actions = lb_selection_actions_compute (&facts);
  g_assert_false (actions.flag);
  g_assert_true (actions.unflag);

  /* some flagged: flag the rest; unflag only when all are */
  facts = facts_in_inbox (4, 0, 2);
  actions = lb_selection_actions_compute (&facts);
  g_assert_true (actions.flag);
  g_assert_false (actions.unflag);

  facts = facts_in_inbox (4, 0, 4);
  actions = lb_selection_actions_compute (&facts);
  g_assert_false (actions.flag);
  g_assert_true (actions.unflag);
}

static void
test_archive (void)
{
  LbSelectionFacts facts;
  LbSelectionActions actions;

  facts = facts_in_inbox (2, 0, 0);
  actions = lb_selection_actions_compute (&facts);
  g_assert_true (actions.archive);
  g_assert_true (actions.delete_);

  facts.folder_role = LB_FOLDER_ROLE_ARCHIVE;
  actions = lb_selection_actions_compute (&facts);
  g_assert_false (actions.archive);
  g_assert_true (actions.delete_);

  facts.folder_role = LB_FOLDER_ROLE_NONE;
  facts.has_archive = FALSE;
  actions = lb_selection_actions_compute (&facts);
  g_assert_false (actions.archive);
}

static void
test_junk (void)
{
  LbSelectionFacts facts;
  LbSelectionActions actions;

  facts = facts_in_inbox (1, 1, 0);
  actions = lb_selection_actions_compute (&facts);
  g_assert_true (actions.junk);
  g_assert_false (actions.not_junk);

  facts.folder_role = LB_FOLDER_ROLE_JUNK;
  actions = lb_selection_actions_compute (&facts);
  g_assert_false (actions.junk);
  g_assert_true (actions.not_junk);

  /* no Junk folder to move to */
  facts.folder_role = LB_FOLDER_ROLE_SENT;
  facts.has_junk = FALSE;
  actions = lb_selection_actions_compute (&facts);
  g_assert_false (actions.junk);
  g_assert_false (actions.not_junk);
}

static void
test_unified (void)
{
  LbSelectionFacts facts = facts_in_inbox (5, 2, 1);
  LbSelectionActions actions;

  actions = lb_selection_actions_compute (&facts);
  g_assert_true (actions.move);

  facts.unified = TRUE;
  facts.folder_role = LB_FOLDER_ROLE_NONE;
  actions = lb_selection_actions_compute (&facts);
  g_assert_false (actions.move);
  g_assert_true (actions.delete_);
  g_assert_true (actions.mark_read);
  g_assert_true (actions.mark_unread);
  g_assert_true (actions.flag);
  g_assert_false (actions.unflag);
  g_assert_true (actions.archive);
  g_assert_true (actions.junk);
  g_assert_false (actions.not_junk);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/selection-state/empty", test_empty);
  g_test_add_func ("/selection-state/read-state", test_read_state);
  g_test_add_func ("/selection-state/flags", test_flags);
  g_test_add_func ("/selection-state/archive", test_archive);
  g_test_add_func ("/selection-state/junk", test_junk);
  g_test_add_func ("/selection-state/unified", test_unified);

  return g_test_run ();
}
