/* lb-folder-picker.h: choose a folder to move messages to
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lb-account.h"

G_BEGIN_DECLS

#define LB_TYPE_FOLDER_PICKER (lb_folder_picker_get_type ())

G_DECLARE_FINAL_TYPE (LbFolderPicker, lb_folder_picker, LB, FOLDER_PICKER, AdwWindow)

/* A modal dialog over @parent listing @account's folders (not
 * @exclude_folder_id), with a search entry that filters as you type;
 * Enter picks the first match, Escape cancels. Returns the folder
 * chosen, or NULL with no error when cancelled. */
void      lb_folder_picker_run_async  (GtkWindow            *parent,
                                       LbAccount            *account,
                                       gint64                exclude_folder_id,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
LbFolder *lb_folder_picker_run_finish (GAsyncResult         *result,
                                       GError              **error);

G_END_DECLS
