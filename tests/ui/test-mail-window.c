/* test-mail-window.c: the main window on a real X server against the
 * harness's Dovecot: an IMAP account's folders and Inbox, a message
 * opened and marked read on the server, delete and undo, move to a
 * folder, search; a conversation opened, read, flagged, deleted and
 * brought back as one; then a POP3 account downloading and showing its
 * mail.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <gmime/gmime.h>

#include "lb-application.h"
#include "lb-conversation-bar.h"
#include "lb-message-row.h"
#include "lb-message-view.h"
#include "lb-secrets.h"
#include "lb-sidebar.h"
#include "lb-test-account.h"
#include "lb-test-session.h"
#include "lb-test-ui.h"
#include "lb-window.h"

#define N_MESSAGES 3

/* ------------------------------------------------------------------ the server, seen by another client */

static char *
make_message (const char *from,
              const char *to,
              const char *subject,
              int         minutes_ago)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) when = g_date_time_add_minutes (now, -minutes_ago);
  g_autofree char *date = g_date_time_format (when, "%d %b %Y %H:%M:%S +0000");
  g_autofree char *uuid = g_uuid_string_random ();

  return g_strdup_printf ("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
                          "Message-ID: <%s@letterbox.test>\r\nMIME-Version: 1.0\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n\r\n"
                          "This is the text of “%s”.\r\n\r\n> A quoted line.\r\n",
                          from, to, subject, date, uuid, subject);
}

/* Message @n of the conversation @topic ("plans": "Plans for Friday",
 * "lunch": "Lunch on Monday"): <@topic-@n@letterbox.test>, a reply to the
 * one before it, saying "Message @n about @topic." */
static char *
make_topic_message (const char *topic,
                    const char *from,
                    guint       n,
                    int         minutes_ago)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) when = g_date_time_add_minutes (now, -minutes_ago);
  g_autofree char *date = g_date_time_format (when, "%d %b %Y %H:%M:%S +0000");
  g_autofree char *reply = NULL;

  if (n > 1)
    reply = g_strdup_printf ("In-Reply-To: <%s-%u@letterbox.test>\r\n"
                             "References: <%s-1@letterbox.test>\r\n",
                             topic, n - 1, topic);
  return g_strdup_printf ("From: %s\r\nTo: alice@example.test\r\nSubject: %s%s\r\n"
                          "Date: %s\r\nMessage-ID: <%s-%u@letterbox.test>\r\n%s"
                          "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                          "Message %u about %s.\r\n",
                          from, n > 1 ? "Re: " : "", g_str_equal (topic, "plans") ? "Plans for Friday" : "Lunch on Monday",
                          date, topic, n, reply != NULL ? reply : "", n, topic);
}

static char *
make_thread_message (const char *from,
                     guint       n,
                     int         minutes_ago)
{
  return make_topic_message ("plans", from, n, minutes_ago);
}

/* alice's INBOX with N_MESSAGES unread messages, and an empty Archive and
 * Trash. */
static void
fill_alice (void)
{
  g_autoptr(LbTestSession) session = lb_test_session_imap_login ("alice@example.test", "alicepass");
  const char *folders[] = { "Archive", "Trash" };

  lb_test_session_imap_empty (session, "INBOX");
  for (guint i = 0; i < G_N_ELEMENTS (folders); i++)
    {
      lb_test_session_send (session, "D DELETE %s", folders[i]);
      g_free (lb_test_session_read_until (session, "D "));
      lb_test_session_send (session, "C CREATE %s", folders[i]);
      lb_test_session_expect_tagged_ok (session, "C");
    }
  for (int i = 0; i < N_MESSAGES; i++)
    {
      g_autofree char *subject = g_strdup_printf ("Letter %d", i);
      g_autofree char *message = make_message ("Carol Example <carol@example.test>", "alice@example.test",
                                               subject, 10 * (i + 1));

      lb_test_session_imap_append (session, "INBOX", message);
    }
  lb_test_session_imap_ok (session, "LOGOUT");
}

/* ------------------------------------------------------------------ notifications */

/* The desktop's notification server, played by the test on the private
 * session bus: it keeps what the app asks it to show. */
static const char notifications_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.Notifications'>"
  "    <method name='Notify'>"
  "      <arg type='s' direction='in'/><arg type='u' direction='in'/><arg type='s' direction='in'/>"
  "      <arg type='s' direction='in'/><arg type='s' direction='in'/><arg type='as' direction='in'/>"
  "      <arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
  "      <arg type='u' direction='out'/>"
  "    </method>"
  "    <method name='CloseNotification'><arg type='u' direction='in'/></method>"
  "    <method name='GetCapabilities'><arg type='as' direction='out'/></method>"
  "    <method name='GetServerInformation'>"
  "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "    </method>"
  "  </interface>"
  "</node>";

static GPtrArray *notifications;   /* "summary\nbody" */

static void
notifications_call (GDBusConnection       *connection,
                    const char            *sender,
                    const char            *path,
                    const char            *interface,
                    const char            *method,
                    GVariant              *parameters,
                    GDBusMethodInvocation *invocation,
                    gpointer               user_data)
{
  if (g_strcmp0 (method, "Notify") == 0)
    {
      const char *summary, *body;

      g_variant_get_child (parameters, 3, "&s", &summary);
      g_variant_get_child (parameters, 4, "&s", &body);
      g_ptr_array_add (notifications, g_strdup_printf ("%s\n%s", summary, body));
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", notifications->len));
    }
  else if (g_strcmp0 (method, "GetCapabilities") == 0)
    {
      const char *caps[] = { "body", "actions", NULL };

      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(^as)", caps));
    }
  else if (g_strcmp0 (method, "GetServerInformation") == 0)
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(ssss)", "test", "letterbox", "1", "1.2"));
  else
    g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
serve_notifications (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_autoptr(GDBusNodeInfo) info = NULL;
  const GDBusInterfaceVTable vtable = { notifications_call, NULL, NULL, { 0 } };
  g_autoptr(GVariant) reply = NULL;

  g_assert_no_error (error);
  info = g_dbus_node_info_new_for_xml (notifications_xml, &error);
  g_assert_no_error (error);
  notifications = g_ptr_array_new_with_free_func (g_free);
  g_dbus_connection_register_object (bus, "/org/freedesktop/Notifications", info->interfaces[0],
                                     &vtable, NULL, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", "org.freedesktop.Notifications", 4),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
}

static gboolean
notified (gpointer data)
{
  return notifications->len >= GPOINTER_TO_UINT (data);
}

/* ------------------------------------------------------------------ accounts */

/* The system does not trust the harness's certificate: the user pins it. */
static char *
server_fingerprint (void)
{
  g_autoptr(GTlsCertificate) certificate = lb_test_untrusted_certificate ("LB_TEST_IMAPS_PORT");

  return lb_account_certificate_fingerprint (certificate);
}

static void
store_password (LbAccount  *account,
                const char *password)
{
  g_autoptr(LbSecrets) secrets = lb_secrets_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbSecretKey key = {
    lb_account_get_id (account),
    lb_incoming_protocol_to_string (lb_account_get_incoming_protocol (account)),
    lb_account_get_incoming_host (account), lb_account_get_incoming_user (account)
  };

  lb_secrets_store_async (secrets, &key, "Letterbox test", password, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_secrets_store_finish (secrets, result, &error));
  g_assert_no_error (error);
}

static LbAccount *
make_account (const char         *id,
              const char         *user,
              LbIncomingProtocol  protocol,
              guint16             port,
              const char         *fingerprint)
{
  LbAccount *account = lb_account_new (id);
  g_autoptr(LbIdentity) identity = lb_identity_new ("Test", user);

  lb_account_set_display_name (account, user);
  lb_account_add_identity (account, identity);
  lb_account_set_incoming_protocol (account, protocol);
  lb_account_set_incoming_host (account, lb_test_getenv ("LB_TEST_HOST"));
  lb_account_set_incoming_port (account, port);
  lb_account_set_incoming_security (account, LB_NET_SECURITY_TLS);
  lb_account_set_incoming_user (account, user);
  lb_account_pin_certificate (account, lb_test_getenv ("LB_TEST_HOST"), port, fingerprint);
  return account;
}

/* ------------------------------------------------------------------ waiting */

typedef struct
{
  LbAccount *account;
  guint      total;
} InboxWait;

static gboolean
inbox_has (gpointer data)
{
  InboxWait *wait = data;
  LbFolder *inbox = lb_account_get_inbox (wait->account);

  return inbox != NULL && lb_folder_get_total_count (inbox) == wait->total;
}

typedef struct
{
  LbWindow *window;
  guint     n;
} ListWait;

/* the list shows n rows, all read from the store */
static gboolean
list_has (gpointer data)
{
  ListWait *wait = data;
  GListModel *messages = lb_window_get_messages (wait->window);
  guint n = messages != NULL ? g_list_model_get_n_items (messages) : G_MAXUINT;

  if (n != wait->n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbMessage) message = g_list_model_get_item (messages, i);

      if (!lb_message_get_loaded (message))
        return FALSE;
    }
  return TRUE;
}

static void
wait_for_list (LbWindow   *window,
               guint       n,
               const char *what)
{
  ListWait wait = { window, n };

  lb_test_ui_wait_until (list_has, &wait, 30, what);
}

static void
wait_for_server (const char *mailbox,
                 const char *criteria,
                 guint       count,
                 const char *what)
{
  lb_test_ui_wait_for_imap_count ("alice@example.test", "alicepass", mailbox, criteria, count, 30, what);
}

/* The list position of the message with @subject. */
static guint
position_of (LbWindow   *window,
             const char *subject)
{
  GListModel *messages = lb_window_get_messages (window);

  for (guint i = 0; i < g_list_model_get_n_items (messages); i++)
    {
      g_autoptr(LbMessage) message = g_list_model_get_item (messages, i);

      if (g_strcmp0 (lb_message_get_subject (message), subject) == 0)
        return i;
    }
  g_error ("no message “%s” in the list", subject);
}

static void
select_only (LbWindow   *window,
             const char *subject)
{
  gtk_selection_model_select_item (GTK_SELECTION_MODEL (lb_window_get_messages (window)),
                                   position_of (window, subject), TRUE);
}

static gboolean
view_shows_text (gpointer data)
{
  LbWindow *window = data;

  return lb_test_ui_find (lb_window_get_message_view (window), GTK_TYPE_LABEL, NULL) != NULL &&
         lb_message_view_get_message (LB_MESSAGE_VIEW (lb_window_get_message_view (window))) != NULL;
}

static gboolean
view_shows_letter_0 (gpointer data)
{
  LbWindow *window = data;
  LbMessage *shown = lb_message_view_get_message (LB_MESSAGE_VIEW (lb_window_get_message_view (window)));

  return shown != NULL && g_strcmp0 (lb_message_get_subject (shown), "Letter 0") == 0;
}

static gboolean
shown_unread (gpointer data)
{
  LbWindow *window = data;
  g_autoptr(LbMessage) message = g_list_model_get_item (lb_window_get_messages (window),
                                                        position_of (window, "Letter 0"));

  return lb_message_get_unread (message);
}

/* the conversation's row, with its messages */
static guint conversation_size;

static gboolean
conversation_listed (gpointer data)
{
  LbWindow *window = data;
  GListModel *messages = lb_window_get_messages (window);

  for (guint i = 0; i < g_list_model_get_n_items (messages); i++)
    {
      g_autoptr(LbMessage) message = g_list_model_get_item (messages, i);

      if (lb_message_get_loaded (message) && lb_message_get_n_messages (message) == conversation_size &&
          g_strcmp0 (lb_message_get_subject (message), "Re: Plans for Friday") == 0)
        return TRUE;
    }
  return FALSE;
}

/* the conversation's row is selected, with @conversation_size messages */
static gboolean
conversation_selected (gpointer data)
{
  LbWindow *window = data;
  GtkSelectionModel *selection = GTK_SELECTION_MODEL (lb_window_get_messages (window));
  g_autoptr(GtkBitset) bitset = gtk_selection_model_get_selection (selection);
  g_autoptr(LbMessage) message = NULL;

  if (gtk_bitset_get_size (bitset) != 1)
    return FALSE;
  message = g_list_model_get_item (G_LIST_MODEL (selection), gtk_bitset_get_nth (bitset, 0));
  return lb_message_get_loaded (message) && lb_message_get_n_messages (message) == conversation_size;
}

static LbConversationBar *
conversation_bar (LbWindow *window)
{
  return LB_CONVERSATION_BAR (lb_test_ui_find (GTK_WIDGET (window), LB_TYPE_CONVERSATION_BAR, NULL));
}

/* the message view shows the message with @text in it */
static gboolean
view_shows (LbWindow   *window,
            const char *text)
{
  g_autoptr(GPtrArray) labels = lb_test_ui_find_all (lb_window_get_message_view (window), GTK_TYPE_LABEL);

  for (guint i = 0; i < labels->len; i++)
    if (strstr (gtk_label_get_text (labels->pdata[i]), text) != NULL)
      return TRUE;
  return FALSE;
}

static gboolean
view_shows_first_of_thread (gpointer data)
{
  return view_shows (data, "Message 1 about plans.");
}

static gboolean
view_shows_last_of_thread (gpointer data)
{
  return view_shows (data, "Message 3 about plans.");
}

static gboolean
view_shows_second_of_thread (gpointer data)
{
  return view_shows (data, "Message 2 about plans.");
}

static gboolean
view_shows_lunch (gpointer data)
{
  return view_shows (data, "Message 1 about lunch.");
}

static gboolean
list_has_lunch (gpointer data)
{
  GListModel *messages = lb_window_get_messages (data);

  for (guint i = 0; i < g_list_model_get_n_items (messages); i++)
    {
      g_autoptr(LbMessage) message = g_list_model_get_item (messages, i);

      if (lb_message_get_loaded (message) && g_strcmp0 (lb_message_get_subject (message), "Lunch on Monday") == 0)
        return TRUE;
    }
  return FALSE;
}

static gboolean
bar_shown (gpointer data)
{
  return gtk_widget_get_visible (GTK_WIDGET (conversation_bar (data))) &&
         g_list_model_get_n_items (lb_conversation_bar_get_messages (conversation_bar (data))) == 2;
}

static gboolean
bar_has_4 (gpointer data)
{
  return g_list_model_get_n_items (lb_conversation_bar_get_messages (conversation_bar (data))) == 4;
}

/* the row "Re: Lunch on Monday", a conversation of two, is selected */
static gboolean
lunch_selected (gpointer data)
{
  LbWindow *window = data;
  GtkSelectionModel *selection = GTK_SELECTION_MODEL (lb_window_get_messages (window));
  g_autoptr(GtkBitset) bitset = gtk_selection_model_get_selection (selection);
  g_autoptr(LbMessage) message = NULL;

  if (gtk_bitset_get_size (bitset) != 1)
    return FALSE;
  message = g_list_model_get_item (G_LIST_MODEL (selection), gtk_bitset_get_nth (bitset, 0));
  return lb_message_get_loaded (message) && lb_message_get_n_messages (message) == 2 &&
         g_strcmp0 (lb_message_get_subject (message), "Re: Lunch on Monday") == 0;
}

static gboolean
dialog_open (gpointer data)
{
  return lb_test_ui_find_toplevel (GTK_TYPE_WINDOW, data) != NULL &&
         gtk_widget_get_mapped (GTK_WIDGET (lb_test_ui_find_toplevel (GTK_TYPE_WINDOW, data)));
}

static gboolean
undo_shown (gpointer data)
{
  return lb_test_ui_find (data, GTK_TYPE_BUTTON, "_Undo") != NULL;
}

static gboolean
manager_has_alice (gpointer data)
{
  return lb_account_manager_lookup (data, "alice") != NULL;
}

static gboolean
leaflet_folded (gpointer data)
{
  return adw_leaflet_get_folded (data) && !adw_leaflet_get_child_transition_running (data);
}

static gboolean
leaflet_still (gpointer data)
{
  return !adw_leaflet_get_child_transition_running (data);
}

/* ------------------------------------------------------------------ the test */

static void
test_mail_window (void)
{
  g_autoptr(LbApplication) app = lb_application_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LbAccountManager) setup = lb_account_manager_new (NULL, NULL);
  g_autoptr(LbAccount) imap = NULL;
  g_autoptr(LbAccount) pop3 = NULL;
  g_autofree char *fingerprint = server_fingerprint ();
  g_autoptr(GAsyncResult) result = NULL;
  LbAccountManager *manager;
  LbAccount *account;
  LbWindow *window;
  InboxWait inbox_wait;
  GtkWindow *picker;
  GtkWidget *entry, *undo;

  fill_alice ();
  serve_notifications ();

  /* the account, as the assistant leaves it: on disk, password in the keyring */
  lb_account_manager_load_async (setup, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_account_manager_load_finish (setup, result, &error));
  imap = make_account ("alice", "alice@example.test", LB_INCOMING_IMAP, lb_test_port ("LB_TEST_IMAPS_PORT"),
                       fingerprint);
  lb_test_account_add (setup, imap);
  store_password (imap, "alicepass");

  /* the app starts, opens the account and syncs its Inbox */
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  manager = lb_application_get_manager (app);
  g_application_activate (G_APPLICATION (app));
  window = LB_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_true (LB_IS_WINDOW (window));
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 720);
  lb_test_ui_wait_for_frame (GTK_WIDGET (window));

  lb_test_ui_wait_until (manager_has_alice, manager, 30, "the accounts to be read");
  account = lb_account_manager_lookup (manager, "alice");
  inbox_wait = (InboxWait) { account, N_MESSAGES };
  lb_test_ui_wait_until (inbox_has, &inbox_wait, 30, "the Inbox to be synced");
  g_assert_cmpstr (lb_window_get_page (window), ==, "mail");
  g_assert_cmpuint (lb_folder_get_unread_count (lb_account_get_inbox (account)), ==, N_MESSAGES);

  /* All Inboxes first, then the account's INBOX itself */
  g_assert_true (lb_sidebar_get_unified_selected (LB_SIDEBAR (lb_window_get_sidebar (window))));
  wait_for_list (window, N_MESSAGES, "All Inboxes to list the messages");
  lb_sidebar_select_folder (LB_SIDEBAR (lb_window_get_sidebar (window)), account, lb_account_get_inbox (account));
  wait_for_list (window, N_MESSAGES, "the INBOX to list the messages");
  lb_test_ui_wait_for_frame (GTK_WIDGET (window));
  g_assert_cmpuint (lb_test_ui_screenshot (GTK_WIDGET (window), "screenshot-mail-window-inbox.png"), >, 32);
  /* the mail there before is not new mail */
  lb_test_ui_spin (1000);
  if (notifications->len > 0)
    g_error ("notified at first: %s", (char *) notifications->pdata[0]);

  /* open the newest: it shows, and the server learns it was read */
  select_only (window, "Letter 0");
  lb_test_ui_wait_until (view_shows_text, window, 30, "the message to be shown");
  g_assert_cmpstr (lb_message_get_subject (lb_message_view_get_message (LB_MESSAGE_VIEW (lb_window_get_message_view (window)))),
                   ==, "Letter 0");
  wait_for_server ("INBOX", "SEEN SUBJECT \"Letter 0\"", 1, "\\Seen on the server");
  g_assert_cmpuint (lb_folder_get_unread_count (lb_account_get_inbox (account)), ==, N_MESSAGES - 1);
  lb_test_ui_wait_for_frame (GTK_WIDGET (window));
  lb_test_ui_screenshot (GTK_WIDGET (window), "screenshot-mail-window-message.png");

  /* read, it can be marked unread again (the action follows the flag) */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.mark-unread", NULL);
  wait_for_server ("INBOX", "UNSEEN SUBJECT \"Letter 0\"", 1, "\\Seen removed on the server");
  lb_test_ui_wait_until (shown_unread, window, 10, "the message to show as unread");
  lb_test_ui_spin (1500);
  g_assert_true (shown_unread (window));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.mark-read", NULL);
  wait_for_server ("INBOX", "SEEN SUBJECT \"Letter 0\"", 1, "\\Seen again on the server");

  /* the message menu, from the keyboard, at the focused row */
  {
    GtkWidget *row = lb_test_ui_find (GTK_WIDGET (lb_window_get_message_list_view (window)),
                                      LB_TYPE_MESSAGE_ROW, NULL);
    GtkWidget *menu;

    g_assert_nonnull (row);
    gtk_widget_grab_focus (gtk_widget_get_parent (row));
    gtk_widget_activate_action (GTK_WIDGET (window), "win.context-menu", NULL);
    menu = lb_test_ui_find (GTK_WIDGET (lb_window_get_message_list_view (window)), GTK_TYPE_POPOVER_MENU, NULL);
    g_assert_nonnull (menu);
    lb_test_ui_wait_for_frame (GTK_WIDGET (window));
    g_assert_true (gtk_widget_get_visible (menu));
    lb_test_ui_screenshot (GTK_WIDGET (window), "screenshot-mail-window-menu.png");
    gtk_popover_popdown (GTK_POPOVER (menu));
  }

  /* search finds words in texts that are not on this computer yet: only
   * "Letter 0" was opened, the server finds the others */
  {
    GtkWidget *search;

    gtk_widget_activate_action (GTK_WIDGET (window), "win.search", NULL);
    search = lb_test_ui_find (GTK_WIDGET (window), GTK_TYPE_SEARCH_ENTRY, NULL);
    gtk_editable_set_text (GTK_EDITABLE (search), "quoted");
    wait_for_list (window, N_MESSAGES, "the server's search results");
    lb_test_ui_screenshot (GTK_WIDGET (window), "screenshot-mail-window-search.png");
    gtk_editable_set_text (GTK_EDITABLE (search), "");
    wait_for_list (window, N_MESSAGES, "the folder again");
    gtk_widget_activate_action (GTK_WIDGET (window), "win.search", NULL);
  }

  /* delete: gone from the list at once, then back with Undo */
  select_only (window, "Letter 1");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.delete", NULL);
  wait_for_list (window, N_MESSAGES - 1, "the deleted message to leave the list");
  lb_test_ui_wait_until (undo_shown, window, 10, "the undo toast");
  undo = lb_test_ui_find (GTK_WIDGET (window), GTK_TYPE_BUTTON, "_Undo");
  lb_test_ui_screenshot (GTK_WIDGET (window), "screenshot-mail-window-undo.png");
  g_signal_emit_by_name (undo, "clicked");
  wait_for_list (window, N_MESSAGES, "the message to come back");
  position_of (window, "Letter 1");
  wait_for_server ("INBOX", "SUBJECT \"Letter 1\"", 1, "the message back in the INBOX on the server");
  wait_for_server ("Trash", "SUBJECT \"Letter 1\"", 0, "the message out of the Trash on the server");

  /* delete, undone with Ctrl+Z this time */
  select_only (window, "Letter 1");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.delete", NULL);
  wait_for_list (window, N_MESSAGES - 1, "the deleted message to leave the list");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL);
  wait_for_list (window, N_MESSAGES, "the message to come back");

  /* delete for real: in the server's Trash, and the next message selected */
  select_only (window, "Letter 1");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.delete", NULL);
  wait_for_list (window, N_MESSAGES - 1, "the deleted message to leave the list");
  wait_for_server ("Trash", "SUBJECT \"Letter 1\"", 1, "the message in the Trash on the server");
  g_assert_true (gtk_selection_model_is_selected (GTK_SELECTION_MODEL (lb_window_get_messages (window)),
                                                  position_of (window, "Letter 2")));

  /* move with the folder picker: type, Enter */
  select_only (window, "Letter 2");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.move", NULL);
  lb_test_ui_wait_until (dialog_open, window, 10, "the folder picker");
  picker = lb_test_ui_find_toplevel (GTK_TYPE_WINDOW, GTK_WINDOW (window));
  entry = lb_test_ui_find (GTK_WIDGET (picker), GTK_TYPE_SEARCH_ENTRY, NULL);
  g_assert_nonnull (entry);
  gtk_editable_set_text (GTK_EDITABLE (entry), "Archi");
  lb_test_ui_spin (300);
  lb_test_ui_wait_for_frame (GTK_WIDGET (picker));
  lb_test_ui_screenshot (GTK_WIDGET (picker), "screenshot-folder-picker.png");
  g_signal_emit_by_name (entry, "activate");
  wait_for_list (window, N_MESSAGES - 2, "the moved message to leave the list");
  wait_for_server ("Archive", "SUBJECT \"Letter 2\"", 1, "the message in Archive on the server");
  wait_for_server ("INBOX", "SUBJECT \"Letter 2\"", 0, "the message out of the INBOX on the server");

  /* search, as you type */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.search", NULL);
  {
    GtkWidget *search = lb_test_ui_find (GTK_WIDGET (window), GTK_TYPE_SEARCH_ENTRY, NULL);

    gtk_editable_set_text (GTK_EDITABLE (search), "Letter");
    wait_for_list (window, 1, "the search results");
    gtk_editable_set_text (GTK_EDITABLE (search), "nothing-like-this");
    wait_for_list (window, 0, "no search results");
    gtk_editable_set_text (GTK_EDITABLE (search), "");
    wait_for_list (window, 1, "the folder again");
  }

  /* a POP3 account: its mail comes to this computer and shows */
  {
    g_autoptr(LbTestSession) bob = lb_test_session_imap_login ("bob@example.test", "bobpass");
    g_autofree char *one = make_message ("Dave <dave@example.test>", "bob@example.test", "Downloaded one", 5);
    g_autofree char *two = make_message ("Dave <dave@example.test>", "bob@example.test", "Downloaded two", 6);
    LbAccount *added;

    lb_test_session_imap_empty (bob, "INBOX");
    lb_test_session_imap_append (bob, "INBOX", one);
    lb_test_session_imap_append (bob, "INBOX", two);
    lb_test_session_imap_ok (bob, "LOGOUT");

    /* the same certificate serves every port */
    pop3 = make_account ("bob", "bob@example.test", LB_INCOMING_POP3, lb_test_port ("LB_TEST_POP3S_PORT"),
                         fingerprint);
    store_password (pop3, "bobpass");
    lb_test_account_add (manager, pop3);
    added = lb_account_manager_lookup (manager, "bob");
    g_assert_nonnull (added);
    inbox_wait = (InboxWait) { added, 2 };
    lb_test_ui_wait_until (inbox_has, &inbox_wait, 30, "the POP3 download");
    lb_sidebar_select_folder (LB_SIDEBAR (lb_window_get_sidebar (window)), added, lb_account_get_inbox (added));
    wait_for_list (window, 2, "the POP3 Inbox to list the messages");
    select_only (window, "Downloaded two");
    lb_test_ui_wait_until (view_shows_text, window, 30, "the downloaded message to be shown");
    lb_test_ui_wait_for_frame (GTK_WIDGET (window));
    lb_test_ui_screenshot (GTK_WIDGET (window), "screenshot-mail-window-pop3.png");
  }

  /* nothing moved or undone was announced; new mail is, with its sender
   * and subject */
  if (notifications->len > 0)
    g_error ("notified: %s", (char *) notifications->pdata[0]);
  {
    g_autoptr(LbTestSession) session = lb_test_session_imap_login ("alice@example.test", "alicepass");
    g_autofree char *fresh = make_message ("Erin Example <erin@example.test>", "alice@example.test",
                                           "Fresh news", 0);

    lb_test_session_imap_append (session, "INBOX", fresh);
    lb_test_session_imap_ok (session, "LOGOUT");
    lb_test_ui_wait_until (notified, GUINT_TO_POINTER (1), 30, "a new-mail notification");
    g_assert_nonnull (strstr (notifications->pdata[0], "Erin Example"));
    g_assert_nonnull (strstr (notifications->pdata[0], "Fresh news"));
  }

  /* a new-mail notification's action: the message's folder and the message */
  {
    LbFolder *inbox = lb_account_get_inbox (account);
    g_autoptr(GPtrArray) rows = NULL;
    gint64 key = 0;

    g_clear_object (&result);
    lb_store_list_messages_async (lb_account_get_store (account), lb_folder_get_id (inbox), 0, 10, NULL,
                                  lb_test_store_result, &result);
    lb_test_wait (&result);
    rows = lb_store_list_messages_finish (lb_account_get_store (account), result, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (rows->len, ==, 2);
    /* "Letter 0", not the fresh message: the newest is the fresh one */
    key = ((LbMessageSummary *) rows->pdata[1])->key;
    g_action_group_activate_action (G_ACTION_GROUP (app), "show-message",
                                    g_variant_new ("(sxx)", "alice", lb_folder_get_id (inbox), key));
    lb_test_ui_wait_until (view_shows_letter_0, window, 30, "the notified message to be shown");
    g_assert_true (lb_sidebar_get_selected_folder (LB_SIDEBAR (lb_window_get_sidebar (window))) == inbox);
  }

  /* a conversation: one row for its three messages; opened, its first
   * unread message shows and is read, the others wait; an action on the
   * row applies to all three */
  {
    g_autoptr(LbTestSession) session = lb_test_session_imap_login ("alice@example.test", "alicepass");
    g_autoptr(GSettings) settings = NULL;
    LbConversationBar *bar;
    GtkListBox *list_box;
    GtkListBoxRow *row;
    guint rows;

    for (guint n = 1; n <= 3; n++)
      {
        g_autofree char *message = make_thread_message (n == 2 ? "Dave <dave@example.test>"
                                                               : "Carol Example <carol@example.test>",
                                                        n, 4 - (int) n);

        lb_test_session_imap_append (session, "INBOX", message);
      }
    conversation_size = 3;
    lb_test_ui_wait_until (conversation_listed, window, 30, "the conversation's row");
    rows = g_list_model_get_n_items (lb_window_get_messages (window));
    /* "Fresh news", the conversation, what was left of the letters */
    g_assert_cmpuint (rows, ==, N_MESSAGES - 2 + 2);

    select_only (window, "Re: Plans for Friday");
    lb_test_ui_wait_until (view_shows_first_of_thread, window, 30, "the conversation's first message");
    bar = conversation_bar (window);
    g_assert_true (gtk_widget_get_visible (GTK_WIDGET (bar)));
    g_assert_cmpuint (g_list_model_get_n_items (lb_conversation_bar_get_messages (bar)), ==, 3);
    wait_for_server ("INBOX", "SEEN HEADER Message-ID \"plans-1@\"", 1, "the first message read on the server");
    {
      g_autoptr(LbTestSession) check = lb_test_session_imap_login ("alice@example.test", "alicepass");

      g_assert_cmpuint (lb_test_session_imap_count (check, "INBOX", "UNSEEN SUBJECT \"Plans for Friday\""), ==, 2);
      lb_test_session_imap_ok (check, "LOGOUT");
    }
    lb_test_ui_wait_for_frame (GTK_WIDGET (window));
    lb_test_ui_screenshot (GTK_WIDGET (window), "screenshot-mail-window-conversation.png");

    /* the last one, from the keyboard: into the conversation's list (on
     * the message shown), two lines down */
    list_box = GTK_LIST_BOX (lb_test_ui_find (GTK_WIDGET (bar), GTK_TYPE_LIST_BOX, NULL));
    row = gtk_list_box_get_selected_row (list_box);
    g_assert_nonnull (row);
    g_assert_cmpint (gtk_list_box_row_get_index (row), ==, 0);
    gtk_widget_grab_focus (GTK_WIDGET (row));
    g_signal_emit_by_name (list_box, "move-cursor", GTK_MOVEMENT_DISPLAY_LINES, 2, FALSE, FALSE);
    lb_test_ui_wait_until (view_shows_last_of_thread, window, 30, "the conversation's last message");
    wait_for_server ("INBOX", "SEEN HEADER Message-ID \"plans-3@\"", 1, "the last message read on the server");
    wait_for_server ("INBOX", "UNSEEN SUBJECT \"Plans for Friday\"", 1, "the second message still unread");

    /* a reply arrives while it is read: the conversation goes to the top,
     * still selected, still showing the message read */
    {
      g_autofree char *reply = make_thread_message ("Dave <dave@example.test>", 4, 0);

      lb_test_session_imap_append (session, "INBOX", reply);
      lb_test_session_imap_ok (session, "LOGOUT");
    }
    conversation_size = 4;
    lb_test_ui_wait_until (conversation_selected, window, 30, "the conversation, with the reply, selected");
    g_assert_cmpuint (position_of (window, "Re: Plans for Friday"), ==, 0);
    lb_test_ui_wait_until (bar_has_4, window, 30, "the reply in the conversation's list");
    g_assert_true (view_shows_last_of_thread (window));
    g_assert_false (view_shows (window, "Message 4 about plans."));
    /* the keyboard stayed on the message read */
    {
      GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (window));

      g_assert_nonnull (focus);
      g_assert_true (gtk_widget_is_ancestor (focus, GTK_WIDGET (list_box)));
      g_assert_cmpint (gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (focus)), ==, 2);
    }

    /* with the keyboard in the conversation's list, Delete is for the
     * message read only; the next to read shows */
    gtk_widget_activate_action (GTK_WIDGET (window), "win.delete", NULL);
    wait_for_server ("Trash", "HEADER Message-ID \"plans-3@\"", 1, "the message read in the Trash on the server");
    wait_for_server ("INBOX", "SUBJECT \"Plans for Friday\"", 3, "the rest of the conversation in the INBOX");
    lb_test_ui_wait_until (view_shows_second_of_thread, window, 30, "the next message to read");
    gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL);
    wait_for_server ("INBOX", "SUBJECT \"Plans for Friday\"", 4, "the message back in the INBOX");
    lb_test_ui_wait_until (conversation_selected, window, 30, "the conversation whole again");
    gtk_widget_grab_focus (GTK_WIDGET (lb_window_get_message_list_view (window)));

    /* flag the row: the whole conversation */
    gtk_widget_activate_action (GTK_WIDGET (window), "win.flag", NULL);
    wait_for_server ("INBOX", "FLAGGED SUBJECT \"Plans for Friday\"", 4, "the conversation flagged on the server");

    /* delete it, then undo: all four go, all four come back */
    gtk_widget_activate_action (GTK_WIDGET (window), "win.delete", NULL);
    wait_for_list (window, rows - 1, "the conversation to leave the list");
    gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL);
    wait_for_list (window, rows, "the conversation to come back");
    lb_test_ui_wait_until (conversation_listed, window, 30, "the conversation's row, whole again");
    wait_for_server ("INBOX", "SUBJECT \"Plans for Friday\"", 4, "the conversation back in the INBOX on the server");
    wait_for_server ("Trash", "SUBJECT \"Plans for Friday\"", 0, "the conversation out of the Trash on the server");

    /* a row for each message, when the preference says so */
    g_object_get (window, "settings", &settings, NULL);
    g_settings_set_boolean (settings, "group-conversations", FALSE);
    wait_for_list (window, rows + 3, "a row for each message");
    g_settings_set_boolean (settings, "group-conversations", TRUE);
    wait_for_list (window, rows, "a row for each conversation again");
  }

  /* a reply to the message being read: it becomes a conversation, still
   * selected, still showing what was read */
  {
    g_autoptr(LbTestSession) session = lb_test_session_imap_login ("alice@example.test", "alicepass");
    g_autofree char *lunch = make_topic_message ("lunch", "Dave <dave@example.test>", 1, 1);
    g_autofree char *reply = make_topic_message ("lunch", "Carol Example <carol@example.test>", 2, 0);

    lb_test_session_imap_append (session, "INBOX", lunch);
    lb_test_ui_wait_until (list_has_lunch, window, 30, "the lunch message's row");
    select_only (window, "Lunch on Monday");
    lb_test_ui_wait_until (view_shows_lunch, window, 30, "the lunch message");
    lb_test_session_imap_append (session, "INBOX", reply);
    lb_test_session_imap_ok (session, "LOGOUT");
    lb_test_ui_wait_until (lunch_selected, window, 30, "the lunch conversation selected");
    g_assert_true (view_shows_lunch (window));
    lb_test_ui_wait_until (bar_shown, window, 30, "the lunch conversation's messages");
    g_assert_true (view_shows_lunch (window));
  }

  /* a narrow window shows one pane at a time: the message, with a way back */
  {
    AdwLeaflet *leaflet = ADW_LEAFLET (lb_test_ui_find (GTK_WIDGET (window), ADW_TYPE_LEAFLET, NULL));

    gtk_window_set_default_size (GTK_WINDOW (window), 400, 700);
    lb_test_ui_wait_until (leaflet_folded, leaflet, 10, "the panes to fold");
    lb_test_ui_spin (600);
    g_assert_true (gtk_widget_is_ancestor (lb_window_get_message_view (window),
                                           adw_leaflet_get_visible_child (leaflet)) ||
                   gtk_widget_get_mapped (GTK_WIDGET (lb_window_get_message_list_view (window))));
    lb_test_ui_screenshot (GTK_WIDGET (window), "screenshot-mail-window-narrow.png");
    gtk_widget_activate_action (GTK_WIDGET (window), "win.show-folders", NULL);
    lb_test_ui_spin (600);
    lb_test_ui_wait_until (leaflet_still, leaflet, 10, "the panes to stop moving");
    lb_test_ui_wait_for_frame (GTK_WIDGET (window));
    g_assert_true (gtk_widget_is_ancestor (lb_window_get_sidebar (window), adw_leaflet_get_visible_child (leaflet)));
    g_assert_true (gtk_widget_get_child_visible (adw_leaflet_get_visible_child (leaflet)));
    lb_test_ui_screenshot (GTK_WIDGET (window), "screenshot-mail-window-narrow-folders.png");
  }

  gtk_window_destroy (GTK_WINDOW (window));
  g_application_quit (G_APPLICATION (app));
  g_clear_pointer (&notifications, g_ptr_array_unref);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_mime_init ();

  g_test_add_func ("/ui/mail-window/imap-and-pop3", test_mail_window);

  return g_test_run ();
}
