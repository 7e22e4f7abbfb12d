/* test-imap-client.c: LbImapClient against the harness's real Dovecot
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "lb-imap-client.h"
#include "lb-imap-parser.h"
#include "lb-test-imap.h"
#include "lb-test-session.h"

#define ALICE "alice@example.test"
#define BOB "bob@example.test"

/* runs the main context until *@result is set and hands it over */
static GAsyncResult *
wait_for (GAsyncResult **result)
{
  lb_test_wait (result);

  return g_steal_pointer (result);
}

static void
collect_trace (LbImapClient *client,
               gboolean      sent,
               const char   *line,
               gpointer      user_data)
{
  g_ptr_array_add (user_data, g_strdup_printf ("%s %s", sent ? "C:" : "S:", line));
}

static char *
unique_name (const char *prefix)
{
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strdup_printf ("%s-%.8s", prefix, uuid);
}

static GBytes *
make_message (const char *subject,
              gsize       body_size)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autofree char *message_id = lb_test_message_id ();

  g_string_append_printf (text,
                          "From: Alice <alice@example.test>\r\n"
                          "To: Bob <bob@example.test>\r\n"
                          "Subject: %s\r\n"
                          "Message-ID: %s\r\n"
                          "Date: Wed, 07 Feb 2024 10:20:30 +0000\r\n"
                          "\r\n",
                          subject, message_id);
  while (text->len < body_size)
    g_string_append_printf (text, "Line %u of %s, with some text to compress.\r\n",
                            (guint) text->len, subject);

  return g_string_free_to_bytes (g_steal_pointer (&text));
}

static void
mailbox_op (LbImapClient    *client,
            LbImapMailboxOp  op,
            const char      *mailbox,
            const char      *new_name)
{
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;
  g_autoptr(GError) error = NULL;

  lb_imap_client_mailbox_async (client, op, mailbox, new_name, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_mailbox_finish (client, done, &error));
  g_assert_no_error (error);
}

static LbImapMailboxInfo *
select_mailbox (LbImapClient        *client,
                const char          *mailbox,
                gboolean             read_only,
                const LbImapQresync *qresync,
                LbImapUntaggedFunc   func,
                gpointer             func_data)
{
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;
  g_autoptr(GError) error = NULL;
  LbImapMailboxInfo *info;

  lb_imap_client_select_async (client, mailbox, read_only, qresync, func, func_data, NULL,
                               lb_test_store_result, &result);
  done = wait_for (&result);
  info = lb_imap_client_select_finish (client, done, &error);
  g_assert_no_error (error);

  return info;
}

static guint32
append (LbImapClient       *client,
        const char         *mailbox,
        const char * const *flags,
        GBytes             *message)
{
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;
  g_autoptr(GError) error = NULL;
  guint32 uidvalidity = 0;
  guint32 uid;

  lb_imap_client_append_async (client, mailbox, flags, 1707301230, message, NULL,
                               lb_test_store_result, &result);
  done = wait_for (&result);
  uid = lb_imap_client_append_finish (client, done, &uidvalidity, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uid, >, 0);
  g_assert_cmpuint (uidvalidity, >, 0);

  return uid;
}

static gboolean
collect_response (LbImapClient   *client,
                  LbImapResponse *response,
                  gpointer        user_data)
{
  g_ptr_array_add (user_data, lb_imap_response_ref (response));

  return TRUE;
}

static GPtrArray *
uid_fetch (LbImapClient *client,
           const char   *uid_set,
           const char   *items,
           guint64       changedsince,
           gboolean      vanished)
{
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *responses = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_imap_response_unref);

  lb_imap_client_uid_fetch_async (client, uid_set, items, changedsince, vanished,
                                  collect_response, g_ptr_array_ref (responses),
                                  (GDestroyNotify) g_ptr_array_unref,
                                  NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  lb_imap_client_uid_fetch_finish (client, done, &error);
  g_assert_no_error (error);

  return responses;
}

static void
test_connect (gconstpointer data)
{
  LbNetSecurity security = GPOINTER_TO_INT (data);
  g_autoptr(GError) error = NULL;
  LbImapClient *client;

  client = lb_test_imap_connect (security, &error);
  g_assert_no_error (error);
  g_assert_cmpint (lb_imap_client_get_state (client), ==, LB_IMAP_STATE_NOT_AUTHENTICATED);
  g_assert_cmpint (G_IS_TLS_CONNECTION (lb_imap_client_get_stream (client)), ==,
                   security != LB_NET_SECURITY_NONE);
  if (security == LB_NET_SECURITY_STARTTLS)
    {
      /* asked again after the upgrade: no STARTTLS on a secure connection */
      g_assert_true (lb_imap_client_has_capability (client, "IMAP4rev1"));
      g_assert_false (lb_imap_client_has_capability (client, "STARTTLS"));
    }

  lb_test_imap_login (client, ALICE, lb_test_imap_password (ALICE), &error);
  g_assert_no_error (error);
  g_assert_cmpint (lb_imap_client_get_state (client), ==, LB_IMAP_STATE_AUTHENTICATED);
  /* the capabilities after login */
  g_assert_true (lb_imap_client_has_capability (client, "QRESYNC"));
  g_assert_true (lb_imap_client_has_capability (client, "MOVE"));

  lb_test_imap_close (client);
}

static void
test_wrong_password (void)
{
  g_autoptr(GPtrArray) trace = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *encoded = NULL;
  LbImapClient *client;
  const char *password = lb_test_imap_password (ALICE);
  gsize len;

  client = lb_test_imap_connect (LB_NET_SECURITY_STARTTLS, &error);
  g_assert_no_error (error);
  lb_imap_client_set_trace_func (client, collect_trace, trace, NULL);

  g_assert_false (lb_test_imap_login (client, ALICE, "not-the-password", &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_AUTHENTICATION);
  g_assert_true (g_str_has_prefix (error->message, "The server refused the user name or password: "));
  g_assert_nonnull (strstr (error->message, "Authentication failed"));
  g_assert_cmpint (lb_imap_client_get_state (client), ==, LB_IMAP_STATE_NOT_AUTHENTICATED);
  g_clear_error (&error);

  /* the session goes on: the right password works */
  lb_test_imap_login (client, ALICE, password, &error);
  g_assert_no_error (error);

  /* neither password, in clear or in the SASL encoding, reached the log */
  len = 1 + strlen (ALICE) + 1 + strlen (password);
  message = g_malloc0 (len);
  memcpy (message + 1, ALICE, strlen (ALICE));
  memcpy (message + 2 + strlen (ALICE), password, strlen (password));
  encoded = g_base64_encode ((const guchar *) message, len);
  g_assert_cmpuint (trace->len, >, 2);
  for (guint i = 0; i < trace->len; i++)
    {
      const char *line = trace->pdata[i];

      g_assert_null (strstr (line, password));
      g_assert_null (strstr (line, "not-the-password"));
      g_assert_null (strstr (line, encoded));
    }

  lb_imap_client_set_trace_func (client, NULL, NULL, NULL);
  lb_test_imap_close (client);
}

static gboolean
has_attribute (LbImapResponse *response,
               const char     *attribute)
{
  return lb_imap_flags_contain (response->list->attributes, attribute);
}

static void
test_mailboxes (void)
{
  LbImapClient *client = lb_test_imap_open (ALICE);
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(LbImapResponse) ns = NULL;
  g_auto(GStrv) id = NULL;
  g_auto(GStrv) enabled = NULL;
  g_autofree char *name = unique_name ("Ordner Grüße");
  g_autofree char *renamed = unique_name ("Umbenannt");
  const char * const id_params[] = { "name", "Letterbox tests", "version", "1", NULL };
  const char * const extensions[] = { "CONDSTORE", "QRESYNC", "NOTHING-SUCH", NULL };
  gboolean seen_sent = FALSE, seen_trash = FALSE, seen_inbox_status = FALSE, seen_new = FALSE;
  LbImapStatusData *status;

  /* ID */
  lb_imap_client_id_async (client, id_params, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  id = lb_imap_client_id_finish (client, done, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  g_clear_object (&done);

  /* ENABLE: only what the server offers */
  lb_imap_client_enable_async (client, extensions, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  enabled = lb_imap_client_enable_finish (client, done, &error);
  g_assert_no_error (error);
  g_assert_true (g_strv_contains ((const char * const *) enabled, "QRESYNC"));
  g_assert_true (lb_imap_client_is_enabled (client, "QRESYNC"));
  g_assert_true (lb_imap_client_is_enabled (client, "CONDSTORE"));
  g_assert_false (lb_imap_client_is_enabled (client, "NOTHING-SUCH"));
  g_clear_object (&done);

  /* NAMESPACE */
  lb_imap_client_namespace_async (client, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  ns = lb_imap_client_namespace_finish (client, done, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ns);
  g_assert_cmpint (lb_imap_client_get_delimiter (client), ==, '/');
  g_clear_object (&done);

  /* CREATE (a name that needs modified UTF-7), SUBSCRIBE, RENAME */
  mailbox_op (client, LB_IMAP_MAILBOX_CREATE, name, NULL);
  mailbox_op (client, LB_IMAP_MAILBOX_SUBSCRIBE, name, NULL);

  /* LIST with SPECIAL-USE and STATUS */
  lb_imap_client_list_async (client, NULL, FALSE, TRUE, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  list = lb_imap_client_list_finish (client, done, &error);
  g_assert_no_error (error);
  g_clear_object (&done);
  for (guint i = 0; i < list->len; i++)
    {
      LbImapResponse *response = list->pdata[i];

      if (response->data == LB_IMAP_DATA_LIST)
        {
          if (strcmp (response->list->mailbox, "Sent") == 0)
            seen_sent = has_attribute (response, "\\Sent");
          else if (strcmp (response->list->mailbox, "Trash") == 0)
            seen_trash = has_attribute (response, "\\Trash");
          else if (strcmp (response->list->mailbox, name) == 0)
            seen_new = TRUE;
        }
      else if (response->data == LB_IMAP_DATA_STATUS &&
               strcmp (response->status_data->mailbox, "INBOX") == 0)
        seen_inbox_status = (response->status_data->items & LB_IMAP_STATUS_UIDVALIDITY) != 0 &&
                            (response->status_data->items & LB_IMAP_STATUS_HIGHESTMODSEQ) != 0;
    }
  g_assert_true (seen_sent);
  g_assert_true (seen_trash);
  g_assert_true (seen_new);
  g_assert_true (seen_inbox_status);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* subscribed only */
  lb_imap_client_list_async (client, "*", TRUE, FALSE, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  list = lb_imap_client_list_finish (client, done, &error);
  g_assert_no_error (error);
  g_clear_object (&done);
  seen_new = FALSE;
  for (guint i = 0; i < list->len; i++)
    {
      LbImapResponse *response = list->pdata[i];

      if (response->data == LB_IMAP_DATA_LIST && strcmp (response->list->mailbox, name) == 0)
        seen_new = has_attribute (response, "\\Subscribed");
    }
  g_assert_true (seen_new);
  g_clear_pointer (&list, g_ptr_array_unref);

  mailbox_op (client, LB_IMAP_MAILBOX_UNSUBSCRIBE, name, NULL);
  mailbox_op (client, LB_IMAP_MAILBOX_RENAME, name, renamed);

  /* STATUS */
  lb_imap_client_status_async (client, renamed, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  status = lb_imap_client_status_finish (client, done, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (status->messages, ==, 0);
  g_assert_cmpuint (status->uidvalidity, >, 0);
  g_assert_cmpstr (status->mailbox, ==, renamed);
  lb_imap_status_data_free (status);
  g_clear_object (&done);

  /* the old name is gone */
  lb_imap_client_select_async (client, name, FALSE, NULL, NULL, NULL, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_null (lb_imap_client_select_finish (client, done, &error));
  /* Dovecot 2.3 says so in words only, without [NONEXISTENT] */
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NO);
  g_assert_nonnull (strstr (error->message, "doesn't exist"));
  g_assert_true (g_str_has_prefix (error->message, "Could not open the folder “"));
  g_clear_error (&error);
  g_clear_object (&done);

  mailbox_op (client, LB_IMAP_MAILBOX_DELETE, renamed, NULL);

  lb_test_imap_close (client);
}

static void
test_messages (void)
{
  LbImapClient *client = lb_test_imap_open (ALICE);
  g_autofree char *folder = unique_name ("Messages");
  g_autofree char *target = unique_name ("Target");
  g_autofree char *set = NULL;
  g_autoptr(LbImapMailboxInfo) info = NULL;
  g_autoptr(LbImapMailboxInfo) examined = NULL;
  g_autoptr(GPtrArray) fetched = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) modified = NULL;
  g_autoptr(GArray) uids = NULL;
  g_autoptr(GArray) source = NULL;
  g_autoptr(GArray) destination = NULL;
  g_autoptr(LbImapCommand) criteria = lb_imap_command_new (NULL);
  const char * const seen[] = { "\\Seen", NULL };
  const char * const flagged[] = { "\\Flagged", "$Forwarded", NULL };
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;
  guint32 uid[4];
  guint32 uidvalidity = 0;
  guint64 modseq;

  mailbox_op (client, LB_IMAP_MAILBOX_CREATE, folder, NULL);
  mailbox_op (client, LB_IMAP_MAILBOX_CREATE, target, NULL);

  /* VANISHED in UID FETCH needs QRESYNC */
  {
    const char * const extensions[] = { "QRESYNC", NULL };
    g_auto(GStrv) enabled = NULL;

    lb_imap_client_enable_async (client, extensions, NULL, lb_test_store_result, &result);
    done = wait_for (&result);
    enabled = lb_imap_client_enable_finish (client, done, &error);
    g_assert_no_error (error);
    g_clear_object (&done);
  }

  /* APPEND with flags and date: APPENDUID */
  for (guint i = 0; i < G_N_ELEMENTS (uid); i++)
    {
      g_autofree char *subject = g_strdup_printf ("Message %u", i);
      g_autoptr(GBytes) message = make_message (subject, 2000);

      uid[i] = append (client, folder, i == 0 ? seen : NULL, message);
      if (i > 0)
        g_assert_cmpuint (uid[i], ==, uid[i - 1] + 1);
    }

  /* SELECT with CONDSTORE */
  info = select_mailbox (client, folder, FALSE, NULL, NULL, NULL);
  g_assert_cmpuint (info->exists, ==, 4);
  g_assert_cmpuint (info->uidnext, ==, uid[3] + 1);
  g_assert_cmpuint (info->highestmodseq, >, 0);
  g_assert_false (info->read_only);
  g_assert_true (lb_imap_flags_contain (info->flags, "\\Seen"));
  g_assert_nonnull (info->permanent_flags);
  g_assert_cmpint (lb_imap_client_get_state (client), ==, LB_IMAP_STATE_SELECTED);
  modseq = info->highestmodseq;

  /* UID FETCH */
  fetched = uid_fetch (client, "1:*", "(UID FLAGS RFC822.SIZE ENVELOPE MODSEQ)", 0, FALSE);
  g_assert_cmpuint (fetched->len, ==, 4);
  for (guint i = 0; i < fetched->len; i++)
    {
      LbImapFetch *fetch = ((LbImapResponse *) fetched->pdata[i])->fetch;

      g_assert_cmpuint (fetch->uid, ==, uid[i]);
      g_assert_cmpint (lb_imap_flags_contain (fetch->flags, "\\Seen"), ==, i == 0);
      g_assert_cmpuint (fetch->size, >=, 2000);
      g_assert_nonnull (fetch->envelope);
    }
  g_clear_pointer (&fetched, g_ptr_array_unref);

  /* UID STORE: one unconditional, then one with a stale UNCHANGEDSINCE */
  set = g_strdup_printf ("%u:%u", uid[1], uid[2]);
  lb_imap_client_uid_store_async (client, set, TRUE, flagged, 0, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_uid_store_finish (client, done, &modified, &error));
  g_assert_no_error (error);
  g_assert_null (modified);
  g_clear_object (&done);

  lb_imap_client_uid_store_async (client, set, FALSE, flagged, modseq, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_uid_store_finish (client, done, &modified, &error));
  g_assert_no_error (error);
  g_assert_nonnull (modified);
  g_assert_true (lb_imap_set_contains (modified, uid[1]));
  g_assert_true (lb_imap_set_contains (modified, uid[2]));
  g_clear_object (&done);

  /* CHANGEDSINCE */
  fetched = uid_fetch (client, "1:*", "(UID FLAGS)", modseq, TRUE);
  g_assert_cmpuint (fetched->len, ==, 2);
  g_clear_pointer (&fetched, g_ptr_array_unref);

  /* UID SEARCH with ESEARCH */
  lb_imap_command_add_atom (criteria, "FLAGGED");
  lb_imap_client_uid_search_async (client, criteria, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  uids = lb_imap_client_uid_search_finish (client, done, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uids->len, ==, 2);
  g_assert_cmpuint (g_array_index (uids, guint32, 0), ==, uid[1]);
  g_assert_cmpuint (g_array_index (uids, guint32, 1), ==, uid[2]);
  g_clear_object (&done);
  g_clear_pointer (&uids, g_array_unref);

  /* a search that needs CHARSET UTF-8 */
  {
    g_autoptr(LbImapCommand) text = lb_imap_command_new (NULL);

    lb_imap_command_add_atom (text, "SUBJECT");
    lb_imap_command_add_string (text, "Grüße");
    lb_imap_client_uid_search_async (client, text, NULL, lb_test_store_result, &result);
    done = wait_for (&result);
    uids = lb_imap_client_uid_search_finish (client, done, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (uids->len, ==, 0);
    g_clear_object (&done);
    g_clear_pointer (&uids, g_array_unref);
  }

  /* UID COPY: COPYUID */
  g_free (set);
  set = g_strdup_printf ("%u", uid[0]);
  lb_imap_client_uid_copy_async (client, set, target, FALSE, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_uid_copy_finish (client, done, &uidvalidity, &source, &destination, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (uidvalidity, >, 0);
  g_assert_true (lb_imap_set_contains (source, uid[0]));
  g_assert_cmpuint (destination->len, ==, 1);
  g_clear_object (&done);
  g_clear_pointer (&source, g_array_unref);
  g_clear_pointer (&destination, g_array_unref);

  /* UID MOVE: COPYUID, and the messages leave this folder */
  g_free (set);
  set = g_strdup_printf ("%u:%u", uid[1], uid[2]);
  lb_imap_client_uid_copy_async (client, set, target, TRUE, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_uid_copy_finish (client, done, &uidvalidity, &source, &destination, &error));
  g_assert_no_error (error);
  g_assert_true (lb_imap_set_contains (source, uid[1]));
  g_assert_true (lb_imap_set_contains (source, uid[2]));
  g_assert_nonnull (destination);
  g_assert_cmpuint (lb_imap_client_get_selected (client)->exists, ==, 2);
  g_clear_object (&done);

  /* moving into a folder that does not exist: TRYCREATE */
  g_free (set);
  set = g_strdup_printf ("%u", uid[3]);
  lb_imap_client_uid_copy_async (client, set, "No such folder", TRUE, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_false (lb_imap_client_uid_copy_finish (client, done, NULL, NULL, NULL, &error));
  g_assert_error (error, LB_IMAP_ERROR, LB_IMAP_ERROR_TRYCREATE);
  g_clear_error (&error);
  g_clear_object (&done);

  /* UID EXPUNGE */
  g_free (set);
  set = g_strdup_printf ("%u", uid[3]);
  lb_imap_client_uid_store_async (client, set, TRUE, (const char * const[]) { "\\Deleted", NULL }, 0, NULL,
                                  lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_uid_store_finish (client, done, NULL, &error));
  g_clear_object (&done);
  lb_imap_client_expunge_async (client, set, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_expunge_finish (client, done, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (lb_imap_client_get_selected (client)->exists, ==, 1);
  g_clear_object (&done);

  /* UNSELECT, EXAMINE */
  lb_imap_client_unselect_async (client, FALSE, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_unselect_finish (client, done, &error));
  g_assert_no_error (error);
  g_assert_cmpint (lb_imap_client_get_state (client), ==, LB_IMAP_STATE_AUTHENTICATED);
  g_assert_null (lb_imap_client_get_selected (client));
  g_clear_object (&done);

  examined = select_mailbox (client, target, TRUE, NULL, NULL, NULL);
  g_assert_true (examined->read_only);
  g_assert_cmpuint (examined->exists, ==, 3);

  /* NOOP */
  lb_imap_client_noop_async (client, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_noop_finish (client, done, &error));
  g_assert_no_error (error);
  g_clear_object (&done);

  lb_imap_client_unselect_async (client, FALSE, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_unselect_finish (client, done, &error));
  g_clear_object (&done);
  mailbox_op (client, LB_IMAP_MAILBOX_DELETE, folder, NULL);
  mailbox_op (client, LB_IMAP_MAILBOX_DELETE, target, NULL);

  lb_test_imap_close (client);
}

static void
test_compress (void)
{
  LbImapClient *client = lb_test_imap_open (BOB);
  g_autoptr(GPtrArray) trace = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) fetched = NULL;
  g_autoptr(LbImapMailboxInfo) info = NULL;
  g_autofree char *folder = unique_name ("Compressed");
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;
  g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func (g_object_unref);
  const guint n_messages = 40;
  gsize total = 0;

  lb_imap_client_set_trace_func (client, collect_trace, trace, NULL);

  lb_imap_client_compress_async (client, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_compress_finish (client, done, &error));
  g_assert_no_error (error);
  g_clear_object (&done);

  /* a second time: already on */
  lb_imap_client_compress_async (client, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_false (lb_imap_client_compress_finish (client, done, &error));
  g_assert_no_error (error);
  g_clear_object (&done);

  mailbox_op (client, LB_IMAP_MAILBOX_CREATE, folder, NULL);

  /* many APPENDs at once (LITERAL+), compressed in batches */
  for (guint i = 0; i < n_messages; i++)
    {
      g_autofree char *subject = g_strdup_printf ("Compressed %u", i);
      GBytes *message = make_message (subject, 20000 + i * 1500);
      GAsyncResult **slot = g_new0 (GAsyncResult *, 1);

      total += g_bytes_get_size (message);
      g_ptr_array_add (messages, message);
      lb_imap_client_append_async (client, folder, NULL, 0, message, NULL, lb_test_store_result, slot);
      g_ptr_array_add (pending, slot);
    }
  for (guint i = 0; i < n_messages; i++)
    {
      GAsyncResult **slot = pending->pdata[i];

      lb_test_wait (slot);
      g_assert_cmpuint (lb_imap_client_append_finish (client, *slot, NULL, &error), >, 0);
      g_assert_no_error (error);
      pending->pdata[i] = *slot;
      g_free (slot);
    }
  g_assert_cmpuint (total, >, 1000 * 1000);

  info = select_mailbox (client, folder, TRUE, NULL, NULL, NULL);
  g_assert_cmpuint (info->exists, ==, n_messages);

  /* a large FETCH comes back whole and in order */
  fetched = uid_fetch (client, "1:*", "(UID BODY.PEEK[])", 0, FALSE);
  g_assert_cmpuint (fetched->len, ==, n_messages);
  for (guint i = 0; i < n_messages; i++)
    {
      LbImapFetch *fetch = ((LbImapResponse *) fetched->pdata[i])->fetch;
      LbImapSection *section;

      g_assert_nonnull (fetch->sections);
      g_assert_cmpuint (fetch->sections->len, ==, 1);
      section = fetch->sections->pdata[0];
      g_assert_true (g_bytes_equal (section->data, messages->pdata[i]));
    }

  /* the log shows sizes, not the messages */
  for (guint i = 0; i < trace->len; i++)
    g_assert_null (strstr (trace->pdata[i], "with some text to compress"));

  lb_imap_client_set_trace_func (client, NULL, NULL, NULL);
  mailbox_op (client, LB_IMAP_MAILBOX_DELETE, folder, NULL);
  g_ptr_array_set_size (pending, 0);
  lb_test_imap_close (client);
}

typedef struct
{
  gint64  appended_at;
  gint64  seen_at;
  guint32 exists;
} IdleWatch;

static gboolean
idle_news (LbImapClient   *client,
           LbImapResponse *response,
           gpointer        user_data)
{
  IdleWatch *watch = user_data;

  if (response->data == LB_IMAP_DATA_EXISTS && watch->seen_at == 0)
    {
      watch->seen_at = g_get_monotonic_time ();
      watch->exists = response->number;
      lb_imap_client_idle_done (client);
    }

  return TRUE;
}

static void
appended_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  IdleWatch *watch = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (lb_imap_client_append_finish (LB_IMAP_CLIENT (object), result, NULL, &error), >, 0);
  g_assert_no_error (error);
  watch->appended_at = g_get_monotonic_time ();
}

static gboolean
start_append (gpointer user_data)
{
  gpointer *args = user_data;

  lb_imap_client_append_async (args[0], "INBOX", NULL, 0, args[1], NULL, appended_cb, args[2]);

  return G_SOURCE_REMOVE;
}

static void
test_idle (void)
{
  LbImapClient *watcher = lb_test_imap_open (BOB);
  LbImapClient *writer = lb_test_imap_open (BOB);
  g_autoptr(LbImapMailboxInfo) info = NULL;
  g_autoptr(GBytes) message = make_message ("Seen by IDLE", 500);
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;
  IdleWatch watch = { 0, };
  gpointer args[3] = { writer, message, &watch };

  info = select_mailbox (watcher, "INBOX", FALSE, NULL, NULL, NULL);

  lb_imap_client_idle_async (watcher, idle_news, &watch, NULL, lb_test_store_result, &result);
  /* the second client appends once IDLE runs */
  g_timeout_add (300, start_append, args);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_idle_finish (watcher, done, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (watch.seen_at, >, 0);
  g_assert_cmpuint (watch.exists, ==, info->exists + 1);
  while (watch.appended_at == 0)
    g_main_context_iteration (NULL, TRUE);
  /* "within a second" of the APPEND's answer */
  g_assert_cmpint (watch.seen_at - watch.appended_at, <, G_USEC_PER_SEC);
  g_assert_cmpuint (lb_imap_client_get_selected (watcher)->exists, ==, info->exists + 1);
  g_clear_object (&done);

  lb_test_imap_close (writer);
  lb_test_imap_close (watcher);
}

static void
test_qresync (void)
{
  LbImapClient *client = lb_test_imap_open (ALICE);
  LbImapClient *other = lb_test_imap_open (ALICE);
  g_autofree char *folder = unique_name ("Qresync");
  g_autoptr(LbImapMailboxInfo) info = NULL;
  g_autoptr(LbImapMailboxInfo) again = NULL;
  g_autoptr(LbImapMailboxInfo) other_info = NULL;
  g_autoptr(GPtrArray) resync = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_imap_response_unref);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) enabled = NULL;
  g_autofree char *set = NULL;
  const char * const extensions[] = { "QRESYNC", NULL };
  GAsyncResult *result = NULL;
  g_autoptr(GAsyncResult) done = NULL;
  LbImapQresync qresync;
  gboolean vanished = FALSE;
  guint32 uid[3];

  mailbox_op (client, LB_IMAP_MAILBOX_CREATE, folder, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (uid); i++)
    {
      g_autoptr(GBytes) message = make_message ("QRESYNC", 300);

      uid[i] = append (client, folder, NULL, message);
    }

  lb_imap_client_enable_async (client, extensions, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  enabled = lb_imap_client_enable_finish (client, done, &error);
  g_assert_no_error (error);
  g_clear_object (&done);

  info = select_mailbox (client, folder, FALSE, NULL, NULL, NULL);
  g_assert_cmpuint (info->exists, ==, 3);
  lb_imap_client_unselect_async (client, FALSE, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_unselect_finish (client, done, &error));
  g_clear_object (&done);

  /* another client expunges the middle message */
  other_info = select_mailbox (other, folder, FALSE, NULL, NULL, NULL);
  set = g_strdup_printf ("%u", uid[1]);
  lb_imap_client_uid_store_async (other, set, TRUE, (const char * const[]) { "\\Deleted", NULL }, 0, NULL,
                                  lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_uid_store_finish (other, done, NULL, &error));
  g_clear_object (&done);
  lb_imap_client_expunge_async (other, set, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_expunge_finish (other, done, &error));
  g_assert_no_error (error);
  g_clear_object (&done);

  /* QRESYNC SELECT reports it as VANISHED (EARLIER) */
  qresync.uidvalidity = info->uidvalidity;
  qresync.modseq = info->highestmodseq;
  qresync.known_uids = NULL;
  again = select_mailbox (client, folder, FALSE, &qresync, collect_response, resync);
  g_assert_cmpuint (again->exists, ==, 2);
  g_assert_cmpuint (again->highestmodseq, >, info->highestmodseq);
  for (guint i = 0; i < resync->len; i++)
    {
      LbImapResponse *response = resync->pdata[i];

      if (response->data == LB_IMAP_DATA_VANISHED)
        {
          g_assert_true (response->vanished_earlier);
          g_assert_true (lb_imap_set_contains (response->set, uid[1]));
          g_assert_false (lb_imap_set_contains (response->set, uid[0]));
          vanished = TRUE;
        }
    }
  g_assert_true (vanished);

  lb_test_imap_close (other);
  lb_imap_client_unselect_async (client, FALSE, NULL, lb_test_store_result, &result);
  done = wait_for (&result);
  g_assert_true (lb_imap_client_unselect_finish (client, done, &error));
  g_clear_object (&done);
  mailbox_op (client, LB_IMAP_MAILBOX_DELETE, folder, NULL);
  lb_test_imap_close (client);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/imap-client/connect/plain", GINT_TO_POINTER (LB_NET_SECURITY_NONE), test_connect);
  g_test_add_data_func ("/imap-client/connect/starttls", GINT_TO_POINTER (LB_NET_SECURITY_STARTTLS), test_connect);
  g_test_add_data_func ("/imap-client/connect/tls", GINT_TO_POINTER (LB_NET_SECURITY_TLS), test_connect);
  g_test_add_func ("/imap-client/wrong-password", test_wrong_password);
  g_test_add_func ("/imap-client/mailboxes", test_mailboxes);
  g_test_add_func ("/imap-client/messages", test_messages);
  g_test_add_func ("/imap-client/compress", test_compress);
  g_test_add_func ("/imap-client/idle", test_idle);
  g_test_add_func ("/imap-client/qresync", test_qresync);

  return g_test_run ();
}
