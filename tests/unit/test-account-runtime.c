/* test-account-runtime.c: opening an account's store, provider and
 * folders, and the unified inbox over the open accounts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <gmime/gmime.h>

#include "lb-account-manager.h"
#include "lb-pop3-provider.h"
#include "lb-message.h"
#include "lb-test-session.h"

typedef struct
{
  char             *root;
  LbAccountManager *manager;
  LbAccount        *pop;    /* the manager's */
  LbAccount        *imap;   /* the manager's */
} Fixture;

typedef struct
{
  guint position;
  guint removed;
  guint added;
} Change;

/* 2023-11-14 10:00:00 UTC, 2023-11-15 09:30:00 UTC, and between them the
 * IMAP message at 1700000000 (2023-11-14 22:13:20 UTC) */
#define OLDER_DATE 1699956000
#define IMAP_DATE  1700000000
#define NEWER_DATE 1700040600

static const char pop_older[] =
  "From: Carol <carol@example.test>\r\n"
  "To: alice@example.test\r\n"
  "Subject: Older POP3 mail\r\n"
  "Date: Tue, 14 Nov 2023 10:00:00 +0000\r\n"
  "Message-ID: <older@example.test>\r\n"
  "\r\n"
  "Downloaded first.\r\n";

static const char pop_newer[] =
  "From: Dave <dave@example.test>\n"
  "To: alice@example.test\n"
  "Subject: Newer POP3 mail\n"
  "Date: Wed, 15 Nov 2023 09:30:00 +0000\n"
  "Message-ID: <newer@example.test>\n"
  "\n"
  "Downloaded last.\n";

/* ------------------------------------------------------------------ helpers */


static void
iterate_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* The store's threads hand their references back some time after a job's
 * callback, and a reference may go in a GTask worker thread, which does
 * not wake the main context: poll (ten seconds at most), then check that
 * the store is gone. */

static LbAccount *
add_account (LbAccountManager   *manager,
             const char         *id,
             const char         *address,
             LbIncomingProtocol  protocol)
{
  g_autoptr(LbAccount) account = lb_account_new (id);
  g_autoptr(LbIdentity) identity = lb_identity_new (NULL, address);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_account_add_identity (account, identity);
  lb_account_set_incoming_protocol (account, protocol);
  lb_account_set_incoming_host (account, "mail.example.test");

  lb_account_manager_add_async (manager, account, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_account_manager_add_finish (manager, result, &error));
  g_assert_no_error (error);

  return lb_account_manager_lookup (manager, id);
}

static gboolean
open_account (LbAccount     *account,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_account_open_async (account, cancellable, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_account_open_finish (account, result, error);
}

static void
open_ok (LbAccount *account)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (open_account (account, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (lb_account_get_opened (account));
}

static LbFolder *
folder_at (LbAccount *account,
           guint      position)
{
  g_autoptr(LbFolder) folder = g_list_model_get_item (lb_account_get_folders (account), position);

  g_assert_nonnull (folder);
  /* the account's list keeps its reference */
  return folder;
}

static void
assert_folder (LbAccount    *account,
               guint         position,
               const char   *name,
               LbFolderRole  role,
               gboolean      local)
{
  LbFolder *folder = folder_at (account, position);

  g_assert_cmpstr (lb_folder_get_name (folder), ==, name);
  g_assert_cmpint (lb_folder_get_role (folder), ==, role);
  g_assert_cmpint (lb_folder_get_local (folder), ==, local);
  g_assert_true (lb_folder_get_store (folder) == lb_account_get_store (account));
  g_assert_true (lb_account_lookup_folder (account, lb_folder_get_id (folder)) == folder);
}

static guint
n_folders (LbAccount *account)
{
  return g_list_model_get_n_items (lb_account_get_folders (account));
}

/* the account's list holds the folders the store has, in its order */
static void
assert_store_order (LbAccount *account)
{
  LbStore *store = lb_account_get_store (account);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) infos = NULL;

  lb_store_list_folders_async (store, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  infos = lb_store_list_folders_finish (store, result, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (n_folders (account), ==, infos->len);
  for (guint i = 0; i < infos->len; i++)
    {
      const LbFolderInfo *info = infos->pdata[i];

      g_assert_cmpint (lb_folder_get_id (folder_at (account, i)), ==, info->id);
    }
}

static gint64
append_ok (LbAccount  *account,
           LbFolder   *folder,
           const char *text,
           guint       flags)
{
  LbProvider *provider = lb_account_get_provider (account);
  g_autoptr(GBytes) raw = g_bytes_new_static (text, strlen (text));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gint64 key;

  lb_provider_append_async (provider, lb_folder_get_id (folder), raw, flags, NULL,
                            lb_test_store_result, &result);
  lb_test_wait (&result);
  key = lb_provider_append_finish (provider, result, &error);
  g_assert_no_error (error);
  g_assert_cmpint (key, >, 0);
  return key;
}

static LbFolderInfo *
create_local_folder (LbAccount    *account,
                     const char   *name,
                     LbFolderRole  role)
{
  LbPop3Provider *pop3 = LB_POP3_PROVIDER (lb_account_get_provider (account));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbFolderInfo *info;

  lb_pop3_provider_create_folder_async (pop3, name, role, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  info = lb_pop3_provider_create_folder_finish (pop3, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (info);
  return info;
}

static LbFolderInfo *
ensure_folder (LbStore      *store,
               const char   *path,
               LbFolderRole  role,
               gboolean      local)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbFolderInfo *info;

  lb_store_ensure_folder_async (store, path, "/", role, local, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  info = lb_store_ensure_folder_finish (store, result, &error);
  g_assert_no_error (error);
  return info;
}

static void
add_summary (LbStore    *store,
             gint64      folder_id,
             const char *subject,
             gint64      date)
{
  g_autoptr(GPtrArray) summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GPtrArray) added = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbMessageSummary *summary = lb_message_summary_new ();

  summary->uid = 1;
  summary->date = date;
  summary->subject = g_strdup (subject);
  summary->from = g_strdup ("server@example.test");
  g_ptr_array_add (summaries, summary);

  lb_store_add_summaries_async (store, folder_id, summaries, NULL, LB_STORE_WRITE_NONE, NULL,
                                lb_test_store_result, &result);
  lb_test_wait (&result);
  added = lb_store_add_summaries_finish (store, result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (added->len, ==, 1);
}

static void
load_list (LbMessageList *list)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_message_list_load_async (list, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_message_list_load_finish (list, result, &error));
  g_assert_no_error (error);
}

static void
fetch_list (LbMessageList *list,
            guint          n)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_message_list_fetch_async (list, 0, n, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_message_list_fetch_finish (list, result, &error));
  g_assert_no_error (error);
}

static void
assert_message (LbMessageList *list,
                guint          position,
                const char    *subject,
                gint64         date)
{
  g_autoptr(LbMessage) message = g_list_model_get_item (G_LIST_MODEL (list), position);

  g_assert_nonnull (message);
  g_assert_true (lb_message_get_loaded (message));
  g_assert_cmpstr (lb_message_get_subject (message), ==, subject);
  g_assert_cmpint (lb_message_get_date (message), ==, date);
}

static void
finalize_list (LbMessageList *list)
{
  while (lb_message_list_is_busy (list))
    g_main_context_iteration (NULL, TRUE);
  iterate_main_context ();
  g_assert_finalize_object (list);
}

static void
count_cb (GObject    *object,
          GParamSpec *pspec,
          gpointer    user_data)
{
  (*(guint *) user_data)++;
}

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  Change change = { position, removed, added };

  g_array_append_val ((GArray *) user_data, change);
}

static void
assert_change (GArray *changes,
               guint   index,
               guint   position,
               guint   removed,
               guint   added)
{
  const Change *change;

  g_assert_cmpuint (index, <, changes->len);
  change = &g_array_index (changes, Change, index);
  g_assert_cmpuint (change->position, ==, position);
  g_assert_cmpuint (change->removed, ==, removed);
  g_assert_cmpuint (change->added, ==, added);
}

/* ------------------------------------------------------------------ fixture */

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *config = NULL;
  g_autofree char *data_dir = NULL;

  fixture->root = g_dir_make_tmp ("lb-account-runtime-XXXXXX", &error);
  g_assert_no_error (error);
  config = g_build_filename (fixture->root, "config", NULL);
  data_dir = g_build_filename (fixture->root, "data", NULL);

  fixture->manager = lb_account_manager_new (config, data_dir);
  fixture->pop = add_account (fixture->manager, "pop-alice", "alice@example.test", LB_INCOMING_POP3);
  fixture->imap = add_account (fixture->manager, "imap-bob", "bob@example.test", LB_INCOMING_IMAP);
  g_assert_nonnull (fixture->pop);
  g_assert_nonnull (fixture->imap);
}

/* Closes both accounts, then checks that the manager, the accounts and
 * the stores they had all go away. */
static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  LbAccount *accounts[] = { g_object_ref (fixture->pop), g_object_ref (fixture->imap) };
  g_autoptr(GPtrArray) stores = g_ptr_array_new ();

  for (guint i = 0; i < G_N_ELEMENTS (accounts); i++)
    {
      if (lb_account_get_store (accounts[i]) != NULL)
        g_ptr_array_add (stores, g_object_ref (lb_account_get_store (accounts[i])));
      lb_account_close (accounts[i]);
      g_assert_false (lb_account_get_opened (accounts[i]));
    }

  iterate_main_context ();
  g_assert_finalize_object (g_steal_pointer (&fixture->manager));
  for (guint i = 0; i < G_N_ELEMENTS (accounts); i++)
    g_assert_finalize_object (accounts[i]);
  for (guint i = 0; i < stores->len; i++)
    lb_test_finalize_store (stores->pdata[i]);

  lb_test_remove_tree (fixture->root);
  g_free (fixture->root);
}

/* ------------------------------------------------------------------ tests */

static void
test_open (Fixture       *fixture,
           gconstpointer  data)
{
  LbAccount *pop = fixture->pop;
  LbAccount *imap = fixture->imap;
  g_autoptr(LbStore) old_store = NULL;
  g_autofree char *pop_dir = g_build_filename (fixture->root, "data", "pop-alice", NULL);
  gboolean opened = TRUE;
  guint opened_notifies = 0;
  gint64 inbox_id, outbox_id;

  /* closed: nothing to show yet */
  g_object_get (pop, "opened", &opened, NULL);
  g_assert_false (opened);
  g_assert_null (lb_account_get_store (pop));
  g_assert_null (lb_account_get_provider (pop));
  g_assert_null (lb_account_get_inbox (pop));
  g_assert_null (lb_account_get_folder_by_role (pop, LB_FOLDER_ROLE_OUTBOX));
  g_assert_null (lb_account_get_transport (pop));
  g_assert_cmpuint (n_folders (pop), ==, 0);
  g_assert_true (g_list_model_get_item_type (lb_account_get_folders (pop)) == LB_TYPE_FOLDER);

  g_signal_connect (pop, "notify::opened", G_CALLBACK (count_cb), &opened_notifies);
  open_ok (pop);
  open_ok (imap);
  g_assert_cmpuint (opened_notifies, ==, 1);
  g_object_get (pop, "opened", &opened, NULL);
  g_assert_true (opened);

  /* the store lives in the account's data directory, one per account */
  g_assert_cmpstr (lb_store_get_directory (lb_account_get_store (pop)), ==, pop_dir);
  g_assert_cmpstr (lb_account_get_data_dir (pop), ==, pop_dir);
  g_assert_true (lb_account_get_store (pop) != lb_account_get_store (imap));
  g_assert_cmpstr (lb_provider_get_protocol_name (lb_account_get_provider (pop)), ==, "pop3");
  g_assert_true (lb_provider_get_store (lb_account_get_provider (pop)) == lb_account_get_store (pop));
  g_assert_true (lb_provider_get_store (lb_account_get_provider (imap)) == lb_account_get_store (imap));

  /* POP3 mail has a local Inbox to land in, and local Sent and Drafts;
   * both have an Outbox */
  g_assert_cmpuint (n_folders (pop), ==, 4);
  assert_folder (pop, 0, "Inbox", LB_FOLDER_ROLE_INBOX, TRUE);
  assert_folder (pop, 1, "Sent", LB_FOLDER_ROLE_SENT, TRUE);
  assert_folder (pop, 2, "Drafts", LB_FOLDER_ROLE_DRAFTS, TRUE);
  assert_folder (pop, 3, "Outbox", LB_FOLDER_ROLE_OUTBOX, TRUE);
  g_assert_cmpstr (lb_folder_get_display_name (folder_at (pop, 0)), ==, "Inbox");
  g_assert_cmpstr (lb_folder_get_display_name (folder_at (pop, 3)), ==, "Outbox");
  g_assert_true (lb_account_get_inbox (pop) == folder_at (pop, 0));
  g_assert_true (lb_account_get_folder_by_role (pop, LB_FOLDER_ROLE_INBOX) == folder_at (pop, 0));
  g_assert_true (lb_account_get_folder_by_role (pop, LB_FOLDER_ROLE_OUTBOX) == folder_at (pop, 1));
  g_assert_null (lb_account_get_folder_by_role (pop, LB_FOLDER_ROLE_SENT));
  /* both kinds of account send through SMTP */
  g_assert_cmpstr (lb_transport_get_protocol_name (lb_account_get_transport (pop)), ==, "smtp");
  g_assert_cmpstr (lb_transport_get_protocol_name (lb_account_get_transport (imap)), ==, "smtp");
  g_assert_null (lb_account_lookup_folder (pop, 9999));
  assert_store_order (pop);

  /* IMAP: the Outbox only, until its folders come from the server */
  g_assert_cmpuint (n_folders (imap), ==, 1);
  assert_folder (imap, 0, "Outbox", LB_FOLDER_ROLE_OUTBOX, TRUE);
  g_assert_null (lb_account_get_inbox (imap));

  /* opening an open account changes nothing */
  old_store = g_object_ref (lb_account_get_store (pop));
  open_ok (pop);
  g_assert_true (lb_account_get_store (pop) == old_store);
  g_assert_cmpuint (n_folders (pop), ==, 4);
  g_assert_cmpuint (opened_notifies, ==, 1);

  /* closing drops everything */
  inbox_id = lb_folder_get_id (folder_at (pop, 0));
  outbox_id = lb_folder_get_id (folder_at (pop, 3));
  lb_account_close (pop);
  g_assert_cmpuint (opened_notifies, ==, 2);
  g_assert_false (lb_account_get_opened (pop));
  g_assert_null (lb_account_get_store (pop));
  g_assert_null (lb_account_get_provider (pop));
  g_assert_null (lb_account_get_inbox (pop));
  g_assert_null (lb_account_get_transport (pop));
  g_assert_cmpuint (n_folders (pop), ==, 0);
  lb_account_close (pop);
  g_assert_cmpuint (opened_notifies, ==, 2);
  lb_test_finalize_store (g_steal_pointer (&old_store));

  /* and opening again finds the same folders, not new ones */
  open_ok (pop);
  g_assert_cmpuint (opened_notifies, ==, 3);
  g_assert_cmpuint (n_folders (pop), ==, 4);
  g_assert_cmpint (lb_folder_get_id (folder_at (pop, 0)), ==, inbox_id);
  g_assert_cmpint (lb_folder_get_id (folder_at (pop, 3)), ==, outbox_id);

  g_signal_handlers_disconnect_by_data (pop, &opened_notifies);
}

static void
test_counts (Fixture       *fixture,
             gconstpointer  data)
{
  LbAccount *pop = fixture->pop;
  LbFolder *inbox;
  guint unread_notifies = 0;
  guint total_notifies = 0;

  open_ok (pop);
  inbox = lb_account_get_inbox (pop);
  g_assert_nonnull (inbox);
  g_assert_cmpuint (lb_folder_get_unread_count (inbox), ==, 0);
  g_signal_connect (inbox, "notify::unread-count", G_CALLBACK (count_cb), &unread_notifies);
  g_signal_connect (inbox, "notify::total-count", G_CALLBACK (count_cb), &total_notifies);

  append_ok (pop, inbox, pop_older, 0);
  g_assert_cmpuint (lb_folder_get_unread_count (inbox), ==, 1);
  g_assert_cmpuint (lb_folder_get_total_count (inbox), ==, 1);
  g_assert_cmpuint (unread_notifies, ==, 1);
  g_assert_cmpuint (total_notifies, ==, 1);

  /* a read message counts in the total only */
  append_ok (pop, inbox, pop_newer, LB_MESSAGE_SEEN);
  g_assert_cmpuint (lb_folder_get_unread_count (inbox), ==, 1);
  g_assert_cmpuint (lb_folder_get_total_count (inbox), ==, 2);
  g_assert_cmpuint (unread_notifies, ==, 1);
  g_assert_cmpuint (total_notifies, ==, 2);

  /* the Outbox did not change */
  g_assert_cmpuint (lb_folder_get_total_count (folder_at (pop, 3)), ==, 0);

  g_signal_handlers_disconnect_by_data (inbox, &unread_notifies);
  g_signal_handlers_disconnect_by_data (inbox, &total_notifies);
}

static void
test_new_folders (Fixture       *fixture,
                  gconstpointer  data)
{
  LbAccount *pop = fixture->pop;
  LbAccount *imap = fixture->imap;
  g_autoptr(GArray) changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(GArray) imap_changes = g_array_new (FALSE, FALSE, sizeof (Change));
  g_autoptr(LbFolderInfo) receipts = NULL;
  g_autoptr(LbFolderInfo) archive = NULL;
  g_autoptr(LbFolderInfo) sent = NULL;
  g_autoptr(LbFolderInfo) imap_inbox = NULL;
  g_autoptr(LbFolderInfo) imap_projects = NULL;

  open_ok (pop);
  open_ok (imap);
  g_signal_connect (lb_account_get_folders (pop), "items-changed",
                    G_CALLBACK (items_changed_cb), changes);
  g_signal_connect (lb_account_get_folders (imap), "items-changed",
                    G_CALLBACK (items_changed_cb), imap_changes);

  /* a folder without a role goes after those with one */
  receipts = create_local_folder (pop, "Receipts", LB_FOLDER_ROLE_NONE);
  g_assert_cmpuint (changes->len, ==, 1);
  assert_change (changes, 0, 4, 0, 1);
  assert_folder (pop, 4, "Receipts", LB_FOLDER_ROLE_NONE, TRUE);
  g_assert_cmpint (lb_folder_get_id (folder_at (pop, 4)), ==, receipts->id);

  /* one with a role where the store lists it: Archive before Outbox */
  archive = create_local_folder (pop, "Kept", LB_FOLDER_ROLE_ARCHIVE);
  g_assert_cmpuint (changes->len, ==, 2);
  assert_change (changes, 1, 3, 0, 1);
  assert_folder (pop, 3, "Kept", LB_FOLDER_ROLE_ARCHIVE, TRUE);
  g_assert_cmpstr (lb_folder_get_display_name (folder_at (pop, 3)), ==, "Archive");
  assert_store_order (pop);

  /* a folder that takes a role moves to its place */
  sent = ensure_folder (lb_account_get_store (pop), "Receipts", LB_FOLDER_ROLE_SENT, TRUE);
  g_assert_cmpint (sent->id, ==, receipts->id);
  g_assert_cmpuint (changes->len, ==, 4);
  assert_change (changes, 2, 5, 1, 0);
  assert_change (changes, 3, 1, 0, 1);
  assert_folder (pop, 1, "Receipts", LB_FOLDER_ROLE_SENT, TRUE);
  assert_folder (pop, 2, "Sent", LB_FOLDER_ROLE_SENT, TRUE);
  assert_folder (pop, 4, "Kept", LB_FOLDER_ROLE_ARCHIVE, TRUE);
  assert_store_order (pop);
  g_assert_cmpuint (n_folders (pop), ==, 6);

  /* server folders appear too: an IMAP account's INBOX first */
  imap_projects = ensure_folder (lb_account_get_store (imap), "Projects", LB_FOLDER_ROLE_NONE, FALSE);
  imap_inbox = ensure_folder (lb_account_get_store (imap), "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  g_assert_cmpuint (imap_changes->len, ==, 2);
  assert_change (imap_changes, 0, 1, 0, 1);
  assert_change (imap_changes, 1, 0, 0, 1);
  assert_folder (imap, 0, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  assert_folder (imap, 1, "Outbox", LB_FOLDER_ROLE_OUTBOX, TRUE);
  assert_folder (imap, 2, "Projects", LB_FOLDER_ROLE_NONE, FALSE);
  g_assert_true (lb_account_get_inbox (imap) == folder_at (imap, 0));
  assert_store_order (imap);

  /* the account's own signals only: the other account's list is still */
  g_assert_cmpuint (changes->len, ==, 4);

  /* a deleted folder leaves the list */
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GError) error = NULL;

    lb_store_delete_folder_async (lb_account_get_store (imap), imap_projects->id, NULL,
                                  lb_test_store_result, &result);
    lb_test_wait (&result);
    g_assert_true (lb_store_delete_folder_finish (lb_account_get_store (imap), result, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (imap_changes->len, ==, 3);
    assert_change (imap_changes, 2, 2, 1, 0);
    g_assert_cmpuint (n_folders (imap), ==, 2);
    g_assert_null (lb_account_lookup_folder (imap, imap_projects->id));
  }

  g_signal_handlers_disconnect_by_data (lb_account_get_folders (pop), changes);
  g_signal_handlers_disconnect_by_data (lb_account_get_folders (imap), imap_changes);
}

static void
test_unified_inbox (Fixture       *fixture,
                    gconstpointer  data)
{
  LbAccount *pop = fixture->pop;
  LbAccount *imap = fixture->imap;
  g_autoptr(LbFolderInfo) imap_inbox = NULL;
  LbMessageList *list;
  LbStore *imap_store;

  open_ok (pop);
  open_ok (imap);

  /* no server folders yet: the POP3 Inbox alone */
  list = lb_account_manager_create_unified_inbox (fixture->manager);
  load_list (list);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
  finalize_list (list);

  imap_store = lb_account_get_store (imap);
  imap_inbox = ensure_folder (imap_store, "INBOX", LB_FOLDER_ROLE_INBOX, FALSE);
  add_summary (imap_store, imap_inbox->id, "From the IMAP server", IMAP_DATE);
  append_ok (pop, lb_account_get_inbox (pop), pop_older, 0);
  append_ok (pop, lb_account_get_inbox (pop), pop_newer, 0);

  /* both accounts, newest first */
  list = lb_account_manager_create_unified_inbox (fixture->manager);
  load_list (list);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 3);
  fetch_list (list, 3);
  assert_message (list, 0, "Newer POP3 mail", NEWER_DATE);
  assert_message (list, 1, "From the IMAP server", IMAP_DATE);
  assert_message (list, 2, "Older POP3 mail", OLDER_DATE);
  finalize_list (list);

  /* the accounts open when it is made: not a closed one */
  imap_store = g_object_ref (imap_store);
  lb_account_close (imap);
  list = lb_account_manager_create_unified_inbox (fixture->manager);
  load_list (list);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 2);
  fetch_list (list, 2);
  assert_message (list, 0, "Newer POP3 mail", NEWER_DATE);
  assert_message (list, 1, "Older POP3 mail", OLDER_DATE);
  finalize_list (list);
  lb_test_finalize_store (imap_store);
}

static void
test_no_data_dir (void)
{
  LbAccount *account = lb_account_new ("loose");
  g_autoptr(LbIdentity) identity = lb_identity_new (NULL, "loose@example.test");
  g_autoptr(GError) error = NULL;

  lb_account_add_identity (account, identity);
  lb_account_set_incoming_protocol (account, LB_INCOMING_POP3);

  g_assert_false (open_account (account, NULL, &error));
  g_assert_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID);
  g_assert_cmpstr (error->message, ==,
                   "Could not open the account “loose@example.test”: it has no folder for its local data");
  g_assert_false (lb_account_get_opened (account));
  g_assert_null (lb_account_get_store (account));
  g_assert_cmpuint (n_folders (account), ==, 0);

  iterate_main_context ();
  g_assert_finalize_object (account);
}

static void
test_open_interrupted (Fixture       *fixture,
                       gconstpointer  data)
{
  LbAccount *pop = fixture->pop;
  g_autoptr(GAsyncResult) first = NULL;
  g_autoptr(GAsyncResult) second = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  guint opened_notifies = 0;

  g_signal_connect (pop, "notify::opened", G_CALLBACK (count_cb), &opened_notifies);

  /* a second open while the first runs is refused; closing stops the first */
  lb_account_open_async (pop, NULL, lb_test_store_result, &first);
  lb_account_open_async (pop, NULL, lb_test_store_result, &second);
  lb_account_close (pop);
  lb_test_wait (&second);
  g_assert_false (lb_account_open_finish (pop, second, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_clear_error (&error);
  lb_test_wait (&first);
  g_assert_false (lb_account_open_finish (pop, first, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_false (lb_account_get_opened (pop));
  g_assert_null (lb_account_get_store (pop));
  g_assert_cmpuint (n_folders (pop), ==, 0);

  /* the caller cancelling leaves it closed as well */
  g_cancellable_cancel (cancellable);
  g_assert_false (open_account (pop, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_false (lb_account_get_opened (pop));
  g_assert_cmpuint (n_folders (pop), ==, 0);
  g_assert_cmpuint (opened_notifies, ==, 0);

  /* and it opens afterwards */
  open_ok (pop);
  g_assert_cmpuint (opened_notifies, ==, 1);
  g_assert_cmpuint (n_folders (pop), ==, 4);

  g_signal_handlers_disconnect_by_data (pop, &opened_notifies);
}

/* Dropping the last reference to an open account closes it. */
static void
test_dispose_open (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("lb-account-runtime-XXXXXX", &error);
  g_autofree char *config = g_build_filename (root, "config", NULL);
  g_autofree char *data_dir = g_build_filename (root, "data", NULL);
  LbAccountManager *manager = lb_account_manager_new (config, data_dir);
  LbAccount *account;
  LbStore *store;
  LbFolder *inbox;

  g_assert_no_error (error);
  account = g_object_ref (add_account (manager, "pop-carol", "carol@example.test", LB_INCOMING_POP3));
  open_ok (account);
  store = g_object_ref (lb_account_get_store (account));
  inbox = g_object_ref (lb_account_get_inbox (account));

  iterate_main_context ();
  g_assert_finalize_object (manager);
  g_assert_finalize_object (account);
  /* a folder kept elsewhere holds its store until it goes */
  g_assert_finalize_object (inbox);
  lb_test_finalize_store (store);

  lb_test_remove_tree (root);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/account-runtime/open", test_open);
  ADD ("/account-runtime/counts", test_counts);
  ADD ("/account-runtime/new-folders", test_new_folders);
  ADD ("/account-runtime/unified-inbox", test_unified_inbox);
  ADD ("/account-runtime/open-interrupted", test_open_interrupted);
  g_test_add_func ("/account-runtime/no-data-dir", test_no_data_dir);
  g_test_add_func ("/account-runtime/dispose-open", test_dispose_open);

#undef ADD

  return g_test_run ();
}
