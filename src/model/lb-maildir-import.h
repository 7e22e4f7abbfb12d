/* lb-maildir-import.h: copies a Maildir into a local folder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-store.h"

G_BEGIN_DECLS

#define LB_TYPE_MAILDIR_IMPORT (lb_maildir_import_get_type ())

G_DECLARE_FINAL_TYPE (LbMaildirImport, lb_maildir_import, LB, MAILDIR_IMPORT, GObject)

LbMaildirImport *lb_maildir_import_new        (LbStore              *store,
                                               gint64                folder_id,
                                               const char           *path);

guint            lb_maildir_import_get_total  (LbMaildirImport      *self);
guint            lb_maildir_import_get_done   (LbMaildirImport      *self);

void             lb_maildir_import_run_async  (LbMaildirImport      *self,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean         lb_maildir_import_run_finish (LbMaildirImport      *self,
                                               GAsyncResult         *result,
                                               guint                *n_imported,
                                               GError              **error);

G_END_DECLS
