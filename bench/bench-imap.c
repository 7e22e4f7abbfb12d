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
