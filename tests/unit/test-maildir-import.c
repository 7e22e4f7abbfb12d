/* test-maildir-import.c: importing another program's Maildir into a
 * local folder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <gmime/gmime.h>
#include <glib/gstdio.h>

#include "lb-maildir-import.h"
#include "lb-test-session.h"


static void
write_message (const char *maildir,
               const char *sub,
               const char *name,
               guint       n)
{
  g_autofree char *path = g_build_filename (maildir, sub, name, NULL);
  g_autofree char *text = g_strdup_printf ("From: Sender %u <s%u@example.test>\n"
                                           "Subject: Imported %u\n"
                                           "Date: Mon, 1 Jan 2024 10:%02u:00 +0000\n"
                                           "Message-ID: <import-%u@example.test>\n"
                                           "\n"
                                           "Body %u\n", n, n, n, n % 60, n, n);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static guint
run_import (LbStore    *store,
            gint64      folder_id,
            const char *path,
            GError    **error)
{
  g_autoptr(LbMaildirImport) import = lb_maildir_import_new (store, folder_id, path);
  g_autoptr(GAsyncResult) result = NULL;
  guint n = G_MAXUINT;

  lb_maildir_import_run_async (import, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  if (!lb_maildir_import_run_finish (import, result, &n, error))
    return G_MAXUINT;
  g_assert_cmpuint (lb_maildir_import_get_done (import), ==, lb_maildir_import_get_total (import));
  return n;
}

static void
test_import (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("lb-import-XXXXXX", &error);
  g_autofree char *source = g_build_filename (dir, "source", NULL);
  g_autofree char *store_dir = g_build_filename (dir, "store", NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LbFolderInfo) folder = NULL;
  g_autoptr(LbFolderInfo) after = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  LbStore *store;
  const char *subs[] = { "cur", "new", "tmp" };

  for (guint i = 0; i < G_N_ELEMENTS (subs); i++)
    {
      g_autofree char *sub = g_build_filename (source, subs[i], NULL);

      g_assert_cmpint (g_mkdir_with_parents (sub, 0700), ==, 0);
    }
  /* 1,200 messages: more than two batches; a third of them read */
  for (guint n = 0; n < 1200; n++)
    {
      g_autofree char *name = g_strdup_printf ("%u.M1P1.host%s", n, n % 3 == 0 ? ":2,FS" : "");

      write_message (source, n % 3 == 0 ? "cur" : "new", name, n);
    }
  /* a message still being written by the other program is not taken */
  write_message (source, "tmp", "999999.M1P1.host", 999999);

  lb_store_open_async (store_dir, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  store = lb_store_open_finish (result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  lb_store_ensure_folder_async (store, "Imported", "/", LB_FOLDER_ROLE_NONE, TRUE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  folder = lb_store_ensure_folder_finish (store, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  g_assert_cmpuint (run_import (store, folder->id, source, &error), ==, 1200);
  g_assert_no_error (error);

  lb_store_get_folder_async (store, folder->id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  after = lb_store_get_folder_finish (store, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpuint (after->total, ==, 1200);
  g_assert_cmpuint (after->unread, ==, 800);

  /* flags came along, and the message is the message */
  lb_store_search_async (store, "Imported 300", folder->id, 10, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  rows = lb_store_search_finish (store, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpuint (rows->len, >=, 1);
  g_assert_cmpstr (((LbMessageSummary *) rows->pdata[0])->subject, ==, "Imported 300");
  g_assert_cmpuint (((LbMessageSummary *) rows->pdata[0])->flags, ==, LB_MESSAGE_SEEN | LB_MESSAGE_FLAGGED);
  g_assert_cmpstr (((LbMessageSummary *) rows->pdata[0])->from, ==, "Sender 300 <s300@example.test>");

  /* run again (as after an interruption): nothing is added twice */
  g_assert_cmpuint (run_import (store, folder->id, source, &error), ==, 0);
  g_assert_no_error (error);
  g_clear_pointer (&after, lb_folder_info_free);
  lb_store_get_folder_async (store, folder->id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  after = lb_store_get_folder_finish (store, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_cmpuint (after->total, ==, 1200);

  /* cancelled halfway: one clear answer, what was stored stays, and a
   * second run finishes the job */
  {
    g_autoptr(LbFolderInfo) other = NULL;
    g_autoptr(LbMaildirImport) import = NULL;
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(GAsyncResult) run = NULL;
    guint n = 0;

    lb_store_ensure_folder_async (store, "Cancelled", "/", LB_FOLDER_ROLE_NONE, TRUE, NULL,
                                  lb_test_store_result, &result);
    lb_test_wait (&result);
    other = lb_store_ensure_folder_finish (store, result, &error);
    g_assert_no_error (error);
    g_clear_object (&result);

    import = lb_maildir_import_new (store, other->id, source);
    g_signal_connect_swapped (import, "notify::done", G_CALLBACK (g_cancellable_cancel), cancellable);
    lb_maildir_import_run_async (import, cancellable, lb_test_store_result, &run);
    lb_test_wait (&run);
    g_assert_false (lb_maildir_import_run_finish (import, run, &n, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
    g_assert_cmpuint (n, >=, 500);
    g_assert_cmpuint (n, <, 1200);

    g_assert_cmpuint (run_import (store, other->id, source, &error), ==, 1200 - n);
    g_assert_no_error (error);
  }

  /* not a Maildir: a clear error naming it */
  g_assert_cmpuint (run_import (store, folder->id, store_dir, &error), ==, G_MAXUINT);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "is not a Maildir"));

  /* a reference may also go in a GTask worker thread, which does not
   * wake the main context: poll rather than block */
  while (G_OBJECT (store)->ref_count > 1)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
  g_assert_finalize_object (store);
  lb_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add_func ("/maildir-import/import", test_import);

  return g_test_run ();
}
