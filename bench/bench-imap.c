/* bench-imap.c: Letterbox's IMAP engine against a server, timed
 *
 *   bench-imap STORE-DIR HOST PORT USER [--bodies N] [--compress]
 *
 * The password comes from the environment variable LB_BENCH_PASSWORD.
 * Connects over plain TCP (the benchmark runs on loopback), logs in,
 * enables CONDSTORE and QRESYNC, syncs INBOX into the store in STORE-DIR
 * (created on first use, kept between runs so that a second run is a
 * resync), and with --bodies downloads N message bodies into the store's
 * cache. Prints tab-separated lines: phase, seconds, count. The time of
 * a sync includes connecting and logging in, as a user waits for both.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "lb-connector.h"
#include "lb-imap-client.h"
#include "lb-imap-sync.h"
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
      fprintf (stderr, "bench-imap: %s\n", error->message);
      exit (1);
    }
}

static double
seconds_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
}

/* The CPU time each thread of the process used so far, by name, from
 * /proc (Linux; prints nothing elsewhere): where a sync's time goes, the
 * main thread (network, parsing) or the store's writer ("pool"). */
static void
print_thread_times (const char *phase)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  g_autoptr(GString) line = g_string_new (phase);
  double ticks = (double) sysconf (_SC_CLK_TCK);
  const char *tid;

  if (dir == NULL)
    return;
  while ((tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/self/task/%s/stat", tid);
      g_autofree char *stat = NULL;
      g_auto(GStrv) fields = NULL;
      const char *open, *close;

      if (!g_file_get_contents (path, &stat, NULL, NULL))
        continue;
      open = strchr (stat, '(');
      close = strrchr (stat, ')');
      if (open == NULL || close == NULL || close < open)
        continue;
      /* after the name: state (field 3) ... utime (14), stime (15) */
      fields = g_strsplit (close + 2, " ", 0);
      if (g_strv_length (fields) < 13)
        continue;
      g_string_append_printf (line, "\t%.*s %.2f+%.2f", (int) (close - open - 1), open + 1,
                              g_ascii_strtod (fields[11], NULL) / ticks,
                              g_ascii_strtod (fields[12], NULL) / ticks);
    }
  printf ("%s\n", line->str);
}

#define RUN(call, finish)                       \
  G_STMT_START {                                \
    g_autoptr(GAsyncResult) result_ = NULL;     \
    call;                                       \
    wait_for (&result_);                        \
    finish;                                     \
  } G_STMT_END

int
main (int   argc,
      char *argv[])
{
  g_autoptr(LbStore) store = NULL;
  g_autoptr(LbConnector) connector = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(LbImapClient) client = NULL;
  g_autoptr(LbImapSync) sync = NULL;
  g_autoptr(LbFolderInfo) inbox = NULL;
  const char *password = g_getenv ("LB_BENCH_PASSWORD");
  const char *extensions[] = { "CONDSTORE", "QRESYNC", NULL };
  LbImapSyncStats stats = { 0, };
  gboolean compress = FALSE;
  guint bodies = 0;
  GError *error = NULL;
  gint64 start;

  for (int i = 5; i < argc; i++)
    {
      if (strcmp (argv[i], "--bodies") == 0 && i + 1 < argc)
        bodies = (guint) g_ascii_strtoull (argv[++i], NULL, 10);
      else if (strcmp (argv[i], "--compress") == 0)
        compress = TRUE;
      else
        argc = 0;
    }
  if (argc < 5 || password == NULL)
    {
      fprintf (stderr, "usage: LB_BENCH_PASSWORD=... bench-imap STORE-DIR HOST PORT USER [--bodies N] [--compress]\n");
      return 2;
    }

  g_mime_init ();

  RUN (lb_store_open_async (argv[1], NULL, store_result, &result_),
       store = lb_store_open_finish (result_, &error));
  check (error);
  RUN (lb_store_ensure_folder_async (store, "INBOX", "/", LB_FOLDER_ROLE_INBOX, FALSE, NULL,
                                     store_result, &result_),
       inbox = lb_store_ensure_folder_finish (store, result_, &error));
  check (error);

  start = g_get_monotonic_time ();

  connector = lb_connector_new ();
  RUN (lb_connector_connect_async (connector, argv[2], (guint16) atoi (argv[3]),
                                   LB_NET_SECURITY_NONE, NULL, store_result, &result_),
       stream = lb_connector_connect_finish (connector, result_, &error));
  check (error);

  client = lb_imap_client_new (stream);
  RUN (lb_imap_client_greet_async (client, NULL, store_result, &result_),
       lb_imap_client_greet_finish (client, result_, &error));
  check (error);
  RUN (lb_imap_client_login_async (client, argv[4], password, NULL, store_result, &result_),
       lb_imap_client_login_finish (client, result_, &error));
  check (error);
  if (compress)
    {
      RUN (lb_imap_client_compress_async (client, NULL, store_result, &result_),
           lb_imap_client_compress_finish (client, result_, &error));
      check (error);
    }
  {
    g_auto(GStrv) enabled = NULL;

    RUN (lb_imap_client_enable_async (client, extensions, NULL, store_result, &result_),
         enabled = lb_imap_client_enable_finish (client, result_, &error));
    check (error);
  }

  sync = lb_imap_sync_new (client, store);
  RUN (lb_imap_sync_folder_async (sync, inbox->id, NULL, store_result, &result_),
       lb_imap_sync_folder_finish (sync, result_, &stats, &error));
  check (error);

  printf ("sync\t%.3f\t%u\t%s\n", seconds_since (start), stats.added,
          stats.full ? "full" : "incremental");
  printf ("sync-updated\t-\t%u\n", stats.updated);
  printf ("sync-removed\t-\t%u\n", stats.removed);
  print_thread_times ("sync-cpu");
  fflush (stdout);

  /* the search index the sync left for later, as the app does in the
   * background after a sync: timed apart, and done before the next run,
   * which would otherwise find its store busy indexing */
  start = g_get_monotonic_time ();
  RUN (lb_store_index_pending_async (store, NULL, store_result, &result_),
       lb_store_index_pending_finish (store, result_, &error));
  check (error);
  printf ("index\t%.3f\n", seconds_since (start));
  fflush (stdout);

  if (bodies > 0)
    {
      g_autoptr(GPtrArray) uncached = NULL;
      guint done = 0;

      RUN (lb_store_list_uncached_async (store, inbox->id, 0, bodies, NULL, store_result, &result_),
           uncached = lb_store_list_uncached_finish (store, result_, &error));
      check (error);

      start = g_get_monotonic_time ();
      RUN (lb_imap_sync_fetch_bodies_async (sync, inbox->id, uncached, NULL, store_result, &result_),
           done = lb_imap_sync_fetch_bodies_finish (sync, result_, &error));
      check (error);
      printf ("bodies\t%.3f\t%u\n", seconds_since (start), done);
    }

  {
    g_autoptr(GAsyncResult) result_ = NULL;

    lb_imap_client_logout_async (client, NULL, store_result, &result_);
    wait_for (&result_);
  }

  return 0;
}
