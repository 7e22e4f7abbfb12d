/* bench-store.c: the local store and the message list on a large folder
 *
 *   bench-store import STORE-DIR MAILDIR   import a Maildir into a local folder
 *   bench-store read STORE-DIR [WORD...]   open it, page through, search
 *
 * Run by bench/run-store, which generates the Maildir. The two phases run
 * as separate processes so that the memory figure of "read" is that of the
 * model holding the folder, not what the import left behind.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gmime/gmime.h>

#include "lb-maildir-import.h"
#include "lb-message.h"
#include "lb-message-list.h"
#include "lb-store.h"

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

static void
check (GError *error)
{
  if (error != NULL)
    {
      fprintf (stderr, "bench-store: %s\n", error->message);
      exit (1);
    }
}

static double
ms_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1000.0;
}

static guint
proc_status_kb (const char *field)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, field);
  return line ? (guint) g_ascii_strtoull (line + strlen (field) + 1, NULL, 10) : 0;
}

static LbStore *
open_store (const char *dir)
{
  g_autoptr(GAsyncResult) result = NULL;
  GError *error = NULL;
  LbStore *store;

  lb_store_open_async (dir, NULL, store_result, &result);
  wait_for (&result);
  store = lb_store_open_finish (result, &error);
  check (error);
  return store;
}

static LbFolderInfo *
bench_folder (LbStore *store)
{
  g_autoptr(GAsyncResult) result = NULL;
  GError *error = NULL;
  LbFolderInfo *info;

  lb_store_ensure_folder_async (store, "Bench", "/", LB_FOLDER_ROLE_NONE, TRUE, NULL, store_result, &result);
  wait_for (&result);
  info = lb_store_ensure_folder_finish (store, result, &error);
  check (error);
  return info;
}

static guint64
dir_size (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  guint64 total = 0;

  if (dir == NULL)
    {
      GStatBuf st;

      return g_stat (path, &st) == 0 ? (guint64) st.st_size : 0;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      total += dir_size (child);
    }
  return total;
}

static int
run_import (const char *store_dir,
            const char *maildir)
{
  g_autoptr(LbStore) store = open_store (store_dir);
  g_autoptr(LbFolderInfo) folder = bench_folder (store);
  g_autoptr(LbMaildirImport) import = lb_maildir_import_new (store, folder->id, maildir);
  g_autoptr(GAsyncResult) result = NULL;
  GError *error = NULL;
  guint64 bytes = dir_size (maildir);
  guint imported = 0;
  gint64 start = g_get_monotonic_time ();
  double seconds;

  lb_maildir_import_run_async (import, NULL, store_result, &result);
  wait_for (&result);
  lb_maildir_import_run_finish (import, result, &imported, &error);
  check (error);
  seconds = ms_since (start) / 1000.0;

  printf ("import: %u messages, %.0f MB in %.1f s: %.0f messages/s, %.1f MB/s\n",
          imported, bytes / 1e6, seconds, imported / seconds, bytes / 1e6 / seconds);
  printf ("import: peak RSS %.1f MB\n", proc_status_kb ("VmHWM:") / 1024.0);
  return 0;
}

static void
fetch (LbMessageList *list,
       guint          position,
       guint          n)
{
  g_autoptr(GAsyncResult) result = NULL;
  GError *error = NULL;

  lb_message_list_fetch_async (list, position, n, NULL, store_result, &result);
  wait_for (&result);
  lb_message_list_fetch_finish (list, result, &error);
  check (error);
}

/* The folder's conversations (messages grouped by thread), from the
 * store: counting them, pages of 100 anywhere, places counted before. */
static void
run_conversations (LbStore *store,
                   gint64   folder_id)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GArray) places = NULL;
  g_autoptr(GArray) counts = NULL;
  GError *error = NULL;
  double count_ms = G_MAXDOUBLE, first_ms = 0, deep_ms = 0, worst = 0, total = 0, before_ms;
  guint n = 0;
  gint64 start;

  for (guint i = 0; i < 5; i++)
    {
      g_clear_object (&result);
      start = g_get_monotonic_time ();
      lb_store_count_conversations_async (store, folder_id, NULL, store_result, &result);
      wait_for (&result);
      lb_store_count_conversations_finish (store, result, &n, &error);
      check (error);
      count_ms = MIN (count_ms, ms_since (start));
    }
  if (n < 200)
    {
      printf ("conversations: only %u, too few to page through\n", n);
      return;
    }

  for (guint i = 0; i < 52; i++)
    {
      g_autoptr(GPtrArray) rows = NULL;
      guint offset = i == 0 ? 0 : i == 1 ? n / 2 : (guint) g_rand_int_range (rand, 0, (gint32) (n - 100));
      double t;

      g_clear_object (&result);
      start = g_get_monotonic_time ();
      lb_store_list_conversations_async (store, folder_id, offset, 100, NULL, store_result, &result);
      wait_for (&result);
      rows = lb_store_list_conversations_finish (store, result, &error);
      check (error);
      t = ms_since (start);
      if (rows->len != 100)
        {
          fprintf (stderr, "bench-store: %u conversations at %u, not 100\n", rows->len, offset);
          exit (1);
        }
      if (i == 0)
        first_ms = t;
      else if (i == 1)
        deep_ms = t;
      else
        {
          worst = MAX (worst, t);
          total += t;
        }
    }

  /* where ten conversations are, spread over the list (an incremental
   * update counts those before each place that changed) */
  g_clear_object (&result);
  lb_store_list_conversation_positions_async (store, folder_id, n, NULL, store_result, &result);
  wait_for (&result);
  places = lb_store_list_conversation_positions_finish (store, result, &error);
  check (error);
  {
    g_autoptr(GArray) probe = g_array_new (FALSE, FALSE, sizeof (LbStorePosition));

    for (guint i = 0; i < 10; i++)
      g_array_append_val (probe, g_array_index (places, LbStorePosition, (guint) ((guint64) places->len * i / 10)));
    g_clear_object (&result);
    start = g_get_monotonic_time ();
    lb_store_count_conversations_before_async (store, folder_id, probe, NULL, store_result, &result);
    wait_for (&result);
    counts = lb_store_count_conversations_before_finish (store, result, &error);
    check (error);
    before_ms = ms_since (start);
  }

  printf ("conversations: %u; counted in %.1f ms; first 100 %.1f ms; %u-%u %.1f ms;"
          " random pages: mean %.1f ms, worst %.1f ms; 10 places counted %.1f ms\n",
          n, count_ms, first_ms, n / 2, n / 2 + 100, deep_ms, total / 50, worst, before_ms);
}

static int
run_read (const char  *store_dir,
          char       **words)
{
  /* gen-maildir.py's markers (1 %, 0.01 %, 0.1 % in Russian, 0.1 % in
   * subjects), a common word, the most common token, two words */
  const char *default_words[] = { "quarterly", "zanzibar", "ежеквартальный", "xylophone",
                                  "meeting", "re", "quarterly report", NULL };
  g_autoptr(LbStore) store = NULL;
  g_autoptr(LbFolderInfo) folder = NULL;
  g_autoptr(LbMessageList) list = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  GError *error = NULL;
  gint64 start;
  double first_page, deep_page, worst = 0, total = 0;
  guint n, rss_before = proc_status_kb ("VmRSS:");

  /* open the folder and show its first 100 rows */
  start = g_get_monotonic_time ();
  store = open_store (store_dir);
  folder = bench_folder (store);
  list = lb_message_list_new ();
  lb_message_list_add_folder (list, store, folder->id);
  lb_message_list_load_async (list, NULL, store_result, &result);
  wait_for (&result);
  lb_message_list_load_finish (list, result, &error);
  check (error);
  fetch (list, 0, 100);
  first_page = ms_since (start);
  n = g_list_model_get_n_items (G_LIST_MODEL (list));

  if (n < 200)
    {
      fprintf (stderr, "bench-store: %u messages are too few to page through\n", n);
      return 1;
    }

  /* the middle of the list (rows 50,000-50,100 of 100,000) */
  start = g_get_monotonic_time ();
  fetch (list, n / 2, 100);
  deep_page = ms_since (start);

  /* any page: 50 random jumps */
  for (guint i = 0; i < 50; i++)
    {
      guint position = g_rand_int_range (rand, 0, (gint32) (n - 100));
      double t;

      start = g_get_monotonic_time ();
      fetch (list, position, 100);
      t = ms_since (start);
      worst = MAX (worst, t);
      total += t;
    }

  printf ("list: %u messages; open + first 100 rows %.1f ms; rows %u-%u %.1f ms;"
          " random pages: mean %.1f ms, worst %.1f ms\n",
          n, first_page, n / 2, n / 2 + 100, deep_page, total / 50, worst);

  /* scrolling through the whole list keeps only a window in memory */
  start = g_get_monotonic_time ();
  for (guint position = 0; position < n; position += 100)
    fetch (list, position, 100);
  printf ("list: scrolled all %u rows in %.0f ms, %u rows resident\n",
          n, ms_since (start), lb_message_list_get_n_resident (list));

  run_conversations (store, folder->id);

  for (char **w = words && *words ? words : (char **) default_words; *w; w++)
    {
      g_autoptr(GPtrArray) rows = NULL;
      double best = G_MAXDOUBLE;

      for (guint i = 0; i < 5; i++)
        {
          g_clear_object (&result);
          g_clear_pointer (&rows, g_ptr_array_unref);
          start = g_get_monotonic_time ();
          lb_store_search_async (store, *w, 0, 100, NULL, store_result, &result);
          wait_for (&result);
          rows = lb_store_search_finish (store, result, &error);
          check (error);
          best = MIN (best, ms_since (start));
          if (i == 0)
            printf ("search “%s”: first %.1f ms", *w, best);
        }
      printf (", then %.1f ms (%u rows shown)\n", best, rows->len);
    }

  /* a unified inbox: the same folder through a second store handle, as a
   * second account (200,000 rows); its deep pages merge the two folders */
  {
    g_autoptr(LbStore) twin = open_store (store_dir);
    g_autoptr(LbMessageList) unified = lb_message_list_new ();
    double unified_first, unified_deep;

    g_clear_object (&result);
    start = g_get_monotonic_time ();
    lb_message_list_add_folder (unified, store, folder->id);
    lb_message_list_add_folder (unified, twin, folder->id);
    lb_message_list_load_async (unified, NULL, store_result, &result);
    wait_for (&result);
    lb_message_list_load_finish (unified, result, &error);
    check (error);
    fetch (unified, 0, 100);
    unified_first = ms_since (start);
    start = g_get_monotonic_time ();
    fetch (unified, n, 100);
    unified_deep = ms_since (start);
    printf ("unified: %u rows from 2 folders; first 100 rows %.1f ms; rows %u-%u %.1f ms\n",
            g_list_model_get_n_items (G_LIST_MODEL (unified)), unified_first, n, n + 100, unified_deep);
  }

  printf ("memory: RSS %.1f MB with the folder open and its list paged through"
          " (%.1f MB before opening)\n",
          proc_status_kb ("VmRSS:") / 1024.0, rss_before / 1024.0);
  return 0;
}

int
main (int   argc,
      char *argv[])
{
  g_mime_init ();

  if (argc == 4 && strcmp (argv[1], "import") == 0)
    return run_import (argv[2], argv[3]);
  if (argc >= 3 && strcmp (argv[1], "read") == 0)
    return run_read (argv[2], argv + 3);

  fprintf (stderr, "usage: bench-store import STORE-DIR MAILDIR\n"
                   "       bench-store read STORE-DIR [WORD...]\n");
  return 2;
}
