/* bench-store-download.c: the store's side of a POP3 download
 *
 * Streams every message of a Maildir (read into memory first, as CRLF
 * lines, as POP3 delivers them) into a fresh store's local folder through
 * LbStoreDownload, in 16 KiB pieces as a network read would hand them
 * over, keeping the backlog under 8 MiB, and flushes at the end: files
 * durable in the Maildir, rows durably committed. Prints the time from
 * the first byte to the flush's end, the rate and the peak RSS.
 *
 *   bench-store-download MAILDIR [COUNT]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/resource.h>

#include <gmime/gmime.h>

#include "lb-store-download.h"
#include "lb-store-private.h"

#define PIECE (16 * 1024)
#define MAX_BACKLOG (8 * 1024 * 1024)

static void
store_result (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
wait_for (GAsyncResult **result)
{
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

static GBytes *
read_crlf (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length;
  GString *out;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return NULL;
  out = g_string_sized_new (length + length / 40);
  for (gsize i = 0; i < length; i++)
    {
      if (contents[i] == '\n' && (i == 0 || contents[i - 1] != '\r'))
        g_string_append_c (out, '\r');
      g_string_append_c (out, contents[i]);
    }
  return g_string_free_to_bytes (out);
}

static void
collect (const char *maildir,
         const char *sub,
         GPtrArray  *paths)
{
  g_autofree char *dir_path = g_build_filename (maildir, sub, NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (paths, g_build_filename (dir_path, name, NULL));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LbStore) store = NULL;
  g_autoptr(LbFolderInfo) inbox = NULL;
  g_autoptr(LbStoreDownload) download = NULL;
  g_autoptr(GPtrArray) flushed = NULL;
  g_autofree char *dir = NULL;
  guint count = G_MAXUINT;
  guint64 total = 0;
  guint waits = 0;
  gint64 start, elapsed;
  struct rusage usage;

  if (argc < 2)
    {
      g_printerr ("usage: %s MAILDIR [COUNT]\n", argv[0]);
      return 2;
    }
  if (argc > 2)
    count = (guint) g_ascii_strtoull (argv[2], NULL, 10);
  g_mime_init ();

  collect (argv[1], "cur", paths);
  collect (argv[1], "new", paths);
  for (guint i = 0; i < paths->len && i < count; i++)
    {
      GBytes *bytes = read_crlf (paths->pdata[i]);

      if (bytes == NULL)
        continue;
      total += g_bytes_get_size (bytes);
      g_ptr_array_add (messages, bytes);
    }

  dir = g_dir_make_tmp ("bench-download-XXXXXX", &error);
  g_assert_no_error (error);
  lb_store_open_async (dir, NULL, store_result, &result);
  wait_for (&result);
  store = lb_store_open_finish (result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);
  lb_store_ensure_folder_async (store, "Inbox", "/", LB_FOLDER_ROLE_INBOX, TRUE, NULL, store_result, &result);
  wait_for (&result);
  inbox = lb_store_ensure_folder_finish (store, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  download = lb_store_download_new (store, inbox->id);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < messages->len; i++)
    {
      gsize length;
      const guint8 *data = g_bytes_get_data (messages->pdata[i], &length);
      g_autofree char *uidl = g_strdup_printf ("%08u.bench", i);

      lb_store_download_begin (download, uidl, 1700000000, 0, FALSE);
      for (gsize done = 0; done < length; done += PIECE)
        {
          lb_store_download_write (download, data + done, MIN (PIECE, length - done));
          if (lb_store_download_get_backlog (download) > MAX_BACKLOG)
            {
              lb_store_download_wait_async (download, MAX_BACKLOG / 2, NULL, store_result, &result);
              wait_for (&result);
              if (!lb_store_download_wait_finish (download, result, &error))
                g_error ("%s", error->message);
              g_clear_object (&result);
              waits++;
            }
        }
      lb_store_download_end (download);
      /* the main loop runs between network reads */
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  lb_store_download_flush_async (download, NULL, store_result, &result);
  wait_for (&result);
  flushed = lb_store_download_flush_finish (download, result, &error);
  g_assert_no_error (error);
  elapsed = g_get_monotonic_time () - start;
  lb_store_download_close (download);

  getrusage (RUSAGE_SELF, &usage);
  g_print ("download: %u messages, %.1f MB in %.2f s: %.0f messages/s, %.0f MB/s (%u waits)\n",
           flushed->len, total / 1e6, elapsed / 1e6, flushed->len / (elapsed / 1e6),
           total / 1e6 / (elapsed / 1e6), waits);
  g_print ("download: %u durable commits; peak RSS %.1f MB (the messages read beforehand %.1f MB)\n",
           lb_store_get_durable_commits (store), usage.ru_maxrss / 1024.0, total / 1048576.0);

  g_clear_object (&download);
  g_clear_object (&store);
  /* the store's threads let go of it on the main context */
  for (guint i = 0; i < 100; i++)
    g_main_context_iteration (NULL, FALSE);
  {
    g_autofree char *command = g_strdup_printf ("rm -rf '%s'", dir);

    if (system (command) != 0)
      g_printerr ("could not remove %s\n", dir);
  }
  return 0;
}
