/* test-imap-sync-script.c: LbImapSync against scripted servers, for what
 * a real Dovecot will not do on demand: a renumbering cut off half way,
 * VANISHED ranges far wider than the mailbox, no UIDVALIDITY, a chunk
 * refused for one broken message
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "lb-imap-client.h"
#include "lb-imap-sync.h"
#include "lb-store.h"
#include "lb-test-script-server.h"
#include "lb-test-session.h"

#define ENVELOPE(subject, id) \
  "ENVELOPE (\"Mon, 1 Jan 2024 00:00:00 +0000\" \"" subject "\" NIL NIL NIL NIL NIL NIL NIL \"<" id ">\")"

#define PREAUTH "S: * PREAUTH [CAPABILITY IMAP4rev1] ready\n"
#define PREAUTH_QRESYNC \
  "S: * PREAUTH [CAPABILITY IMAP4rev1 ENABLE CONDSTORE QRESYNC] ready\n" \
  "C: A1 ENABLE QRESYNC\n" \
  "S: * ENABLED QRESYNC\n" \
  "S: A1 OK done\n"

typedef struct
{
  char               *dir;
  LbStore            *store;
  LbFolderInfo       *folder;
  LbTestScriptServer *server;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("lb-imap-sync-XXXXXX", &error);
  g_assert_no_error (error);
  lb_store_open_async (f->dir, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  f->store = lb_store_open_finish (result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  lb_store_ensure_folder_async (f->store, "Box", "/", LB_FOLDER_ROLE_NONE, FALSE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  f->folder = lb_store_ensure_folder_finish (f->store, result, &error);
  g_assert_no_error (error);

  f->server = lb_test_script_server_new (&error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_pointer (&f->folder, lb_folder_info_free);
  g_clear_pointer (&f->server, lb_test_script_server_free);
  lb_test_finalize_store (f->store);
  lb_test_remove_tree (f->dir);
  g_free (f->dir);
}

static LbImapClient *
connect_client (Fixture  *f,
                gboolean  qresync)
{
  g_autoptr(GIOStream) connection = lb_test_script_server_connect (f->server);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbImapClient *client;

  client = lb_imap_client_new (connection);
  lb_imap_client_greet_async (client, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_imap_client_greet_finish (client, result, &error));
  g_assert_no_error (error);

  if (qresync)
    {
      const char *extensions[] = { "QRESYNC", NULL };
      g_auto(GStrv) enabled = NULL;

      g_clear_object (&result);
      lb_imap_client_enable_async (client, extensions, NULL, lb_test_store_result, &result);
      lb_test_wait (&result);
      enabled = lb_imap_client_enable_finish (client, result, &error);
      g_assert_no_error (error);
    }

  return client;
}

static gboolean
run_sync (Fixture          *f,
          gboolean          qresync,
          LbImapSyncStats  *stats,
          GError          **error)
{
  g_autoptr(LbImapClient) client = connect_client (f, qresync);
  g_autoptr(LbImapSync) sync = lb_imap_sync_new (client, f->store);
  g_autoptr(GAsyncResult) result = NULL;
  LbImapSyncStats ignored;
  gboolean ok;

  lb_imap_sync_folder_async (sync, f->folder->id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  ok = lb_imap_sync_folder_finish (sync, result, stats != NULL ? stats : &ignored, error);
  lb_imap_client_close (client);
  return ok;
}

/* "uid message-id, uid message-id" in key order */
static char *
rows_of (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();

  lb_store_list_messages_async (f->store, f->folder->id, 0, 100, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  rows = lb_store_list_messages_finish (f->store, result, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < rows->len; i++)
    {
      LbMessageSummary *s = rows->pdata[i];
      guint j = 0;

      while (j < sorted->len && ((LbMessageSummary *) sorted->pdata[j])->key < s->key)
        j++;
      g_ptr_array_insert (sorted, j, s);
    }
  for (guint i = 0; i < sorted->len; i++)
    {
      LbMessageSummary *s = sorted->pdata[i];

      g_string_append_printf (out, "%s%u %s", i > 0 ? ", " : "", s->uid, s->message_id);
    }
  return g_strdup (out->str);
}

static LbFolderInfo *
folder_state (Fixture *f)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbFolderInfo *info;

  lb_store_get_folder_async (f->store, f->folder->id, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  info = lb_store_get_folder_finish (f->store, result, &error);
  g_assert_no_error (error);
  return info;
}

/* The server renumbers the folder and the connection drops during the
 * sync that follows: once a later sync completes, the folder holds what
 * the server holds, keys kept by Message-ID, nothing left over. */
static void
test_renumbered_then_cut (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *rows = NULL;
  g_autofree char *first = NULL;

  lb_test_script_server_add_script (f->server,
    PREAUTH
    "C: A1 SELECT\n"
    "S: * 2 EXISTS\n"
    "S: * OK [UIDVALIDITY 1] u\n"
    "S: * OK [UIDNEXT 3] n\n"
    "S: A1 OK [READ-WRITE] done\n"
    "C: A2 UID SEARCH UID 1:*\n"
    "S: * SEARCH 1 2\n"
    "S: A2 OK done\n"
    "C: A3 UID FETCH 1:2\n"
    "W: * 1 FETCH (UID 1 FLAGS () " ENVELOPE ("a", "a@x") ")\\r\\n\n"
    "W: * 2 FETCH (UID 2 FLAGS () " ENVELOPE ("b", "b@x") ")\\r\\n\n"
    "S: A3 OK done\n");
  lb_test_script_server_add_script (f->server,
    PREAUTH
    "C: A1 SELECT\n"
    "S: * 1 EXISTS\n"
    "S: * OK [UIDVALIDITY 2] u\n"
    "S: * OK [UIDNEXT 2] n\n"
    "S: A1 OK [READ-WRITE] done\n"
    "C: A2 UID SEARCH UID 1:*\n"
    "S: * SEARCH 1\n"
    "S: A2 OK done\n"
    "C: A3 UID FETCH 1\n"
    "CLOSE\n");
  lb_test_script_server_add_script (f->server,
    PREAUTH
    "C: A1 SELECT\n"
    "S: * 1 EXISTS\n"
    "S: * OK [UIDVALIDITY 2] u\n"
    "S: * OK [UIDNEXT 2] n\n"
    "S: A1 OK [READ-WRITE] done\n"
    "C: A2 UID SEARCH UID 1:*\n"
    "S: * SEARCH 1\n"
    "S: A2 OK done\n"
    "C: A3 UID FETCH 1\n"
    "W: * 1 FETCH (UID 1 FLAGS () " ENVELOPE ("a", "a@x") ")\\r\\n\n"
    "S: A3 OK done\n");

  g_assert_true (run_sync (f, FALSE, NULL, &error));
  g_assert_no_error (error);
  first = rows_of (f);
  g_assert_cmpstr (first, ==, "1 a@x, 2 b@x");

  g_assert_false (run_sync (f, FALSE, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  g_assert_true (run_sync (f, FALSE, NULL, &error));
  g_assert_no_error (error);
  rows = rows_of (f);
  /* <a@x> kept its key (the first row) and took its new UID */
  g_assert_cmpstr (rows, ==, "1 a@x");
}

/* QRESYNC: VANISHED (EARLIER) may cover UIDs this client never had, in
 * one range far wider than the folder; what is stored and in it goes. */
static void
test_vanished_wide_range (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *rows = NULL;
  LbImapSyncStats stats;

  lb_test_script_server_add_script (f->server,
    PREAUTH_QRESYNC
    "C: A2 SELECT \"Box\" (CONDSTORE)\n"
    "S: * 3 EXISTS\n"
    "S: * OK [UIDVALIDITY 1] u\n"
    "S: * OK [UIDNEXT 40000002] n\n"
    "S: * OK [HIGHESTMODSEQ 10] m\n"
    "S: A2 OK [READ-WRITE] done\n"
    "C: A3 UID SEARCH UID 1:*\n"
    "S: * SEARCH 5 20000001 40000001\n"
    "S: A3 OK done\n"
    "C: A4 UID FETCH\n"
    "W: * 1 FETCH (UID 5 MODSEQ (3) FLAGS () " ENVELOPE ("a", "a@x") ")\\r\\n\n"
    "W: * 2 FETCH (UID 20000001 MODSEQ (4) FLAGS () " ENVELOPE ("b", "b@x") ")\\r\\n\n"
    "W: * 3 FETCH (UID 40000001 MODSEQ (5) FLAGS () " ENVELOPE ("c", "c@x") ")\\r\\n\n"
    "S: A4 OK done\n");
  lb_test_script_server_add_script (f->server,
    PREAUTH_QRESYNC
    "C: A2 SELECT \"Box\" (QRESYNC (1 10))\n"
    "S: * 1 EXISTS\n"
    "S: * OK [UIDVALIDITY 1] u\n"
    "S: * OK [UIDNEXT 40000002] n\n"
    "S: * OK [HIGHESTMODSEQ 12] m\n"
    "S: * VANISHED (EARLIER) 1:20000001,30000000:30000005\n"
    "S: A2 OK [READ-WRITE] done\n");

  g_assert_true (run_sync (f, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (run_sync (f, TRUE, &stats, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (stats.removed, ==, 2);
  rows = rows_of (f);
  g_assert_cmpstr (rows, ==, "40000001 c@x");
}

/* Without UIDVALIDITY no UID can be trusted: the sync refuses, and the
 * store keeps what it had. */
static void
test_no_uidvalidity (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbFolderInfo) state = NULL;

  lb_test_script_server_add_script (f->server,
    PREAUTH
    "C: A1 SELECT\n"
    "S: * 1 EXISTS\n"
    "S: * OK [UIDNEXT 2] n\n"
    "S: A1 OK [READ-WRITE] done\n");

  g_assert_false (run_sync (f, FALSE, NULL, &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "Box"));
  state = folder_state (f);
  g_assert_cmpuint (state->uidvalidity, ==, 0);
  g_assert_cmpuint (state->uidnext, ==, 0);
}

/* A server that cannot read one message refuses its whole chunk with NO
 * (Gmail does): the others are stored, the folder is not marked complete
 * past the missing one, and the next sync asks for it again. */
static void
test_chunk_refused (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbFolderInfo) state = NULL;
  g_autofree char *rows = NULL;

  lb_test_script_server_add_script (f->server,
    PREAUTH
    "C: A1 SELECT\n"
    "S: * 3 EXISTS\n"
    "S: * OK [UIDVALIDITY 7] u\n"
    "S: * OK [UIDNEXT 4] n\n"
    "S: A1 OK [READ-WRITE] done\n"
    "C: A2 UID SEARCH UID 1:*\n"
    "S: * SEARCH 1 2 3\n"
    "S: A2 OK done\n"
    "C: A3 UID FETCH 1:3\n"
    "W: * 1 FETCH (UID 1 FLAGS () " ENVELOPE ("a", "a@x") ")\\r\\n\n"
    "W: * 3 FETCH (UID 3 FLAGS () " ENVELOPE ("c", "c@x") ")\\r\\n\n"
    "S: A3 NO Some messages could not be FETCHed (Failure)\n");
  lb_test_script_server_add_script (f->server,
    PREAUTH
    "C: A1 SELECT\n"
    "S: * 3 EXISTS\n"
    "S: * OK [UIDVALIDITY 7] u\n"
    "S: * OK [UIDNEXT 4] n\n"
    "S: A1 OK [READ-WRITE] done\n"
    "C: A2 UID SEARCH UID 2:*\n"
    "S: * SEARCH 2 3\n"
    "S: A2 OK done\n"
    "C: A3 UID FETCH 2\n"
    "W: * 2 FETCH (UID 2 FLAGS () " ENVELOPE ("b", "b@x") ")\\r\\n\n"
    "S: A3 OK done\n"
    "C: A4 UID FETCH 1:1 (UID FLAGS)\n"
    "S: * 1 FETCH (UID 1 FLAGS ())\n"
    "S: A4 OK done\n"
    "C: A5 UID SEARCH UID 1:*\n"
    "S: * SEARCH 1 2 3\n"
    "S: A5 OK done\n");

  g_assert_true (run_sync (f, FALSE, NULL, &error));
  g_assert_no_error (error);
  state = folder_state (f);
  g_assert_cmpuint (state->uidnext, ==, 2);
  g_clear_pointer (&state, lb_folder_info_free);

  g_assert_true (run_sync (f, FALSE, NULL, &error));
  g_assert_no_error (error);
  state = folder_state (f);
  g_assert_cmpuint (state->uidnext, ==, 4);
  rows = rows_of (f);
  g_assert_cmpstr (rows, ==, "1 a@x, 3 c@x, 2 b@x");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  g_test_add ("/imap-sync-script/renumbered-then-cut", Fixture, NULL,
              fixture_set_up, test_renumbered_then_cut, fixture_tear_down);
  g_test_add ("/imap-sync-script/vanished-wide-range", Fixture, NULL,
              fixture_set_up, test_vanished_wide_range, fixture_tear_down);
  g_test_add ("/imap-sync-script/no-uidvalidity", Fixture, NULL,
              fixture_set_up, test_no_uidvalidity, fixture_tear_down);
  g_test_add ("/imap-sync-script/chunk-refused", Fixture, NULL,
              fixture_set_up, test_chunk_refused, fixture_tear_down);

  return g_test_run ();
}
