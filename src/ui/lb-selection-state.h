/* lb-selection-state.h: which actions apply to the selected messages,
 * from values alone, so it is tested without widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "lb-folder.h"

G_BEGIN_DECLS

/**
 * LbSelectionFacts:
 * @n_selected: how many messages are selected
 * @n_unread: @n_flagged: how many of them are unread, flagged
 * @folder_role: the role of the folder shown (LB_FOLDER_ROLE_NONE in All
 *   Inboxes)
 * @has_archive: @has_junk: the account has an Archive, a Junk folder
 * @unified: the list is All Inboxes (messages of several accounts)
 */
typedef struct
{
  guint         n_selected;
  guint         n_unread;
  guint         n_flagged;
  LbFolderRole  folder_role;
  gboolean      has_archive;
  gboolean      has_junk;
  gboolean      unified;
} LbSelectionFacts;

/**
 * LbSelectionActions:
 * The actions to enable. Mark read when any is unread, mark unread when
 * any is read; flag when any is not flagged, unflag when all are; archive
 * not in Archive and only with an Archive folder; junk not in Junk, and
 * "not junk" in Junk; move needs one account.
 */
typedef struct
{
  gboolean mark_read;
  gboolean mark_unread;
  gboolean flag;
  gboolean unflag;
  gboolean delete_;
  gboolean archive;
  gboolean move;
  gboolean junk;
  gboolean not_junk;
} LbSelectionActions;

LbSelectionActions lb_selection_actions_compute (const LbSelectionFacts *facts);

G_END_DECLS
