/* test-outbox-window.c: sending seen from the main window on a real X
 * server against the harness's Dovecot and SMTP server: a message sent
 * from a composer and taken back with the toast's Undo before its delay
 * ran out (never delivered, the Outbox empty again); a message the
 * server refuses, shown in the Outbox with the server's reason and taken
 * back into a composer with Edit.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <gmime/gmime.h>

#include "lb-application.h"
#include "lb-composer-window.h"
#include "lb-message-view.h"
#include "lb-sidebar.h"
#include "lb-test-account.h"
#include "lb-test-composer.h"
#include "lb-test-session.h"
#include "lb-test-ui.h"
#include "lb-window.h"

/* ------------------------------------------------------------------ the server, seen by another client */

/* ------------------------------------------------------------------ the application, shared by the cases */

static LbApplication *app;
static LbWindow *window;

static gboolean
manager_has_alice (gpointer data)
{
  LbAccount *account = lb_account_manager_lookup (data, "alice");

  return account != NULL && lb_account_get_opened (account) && lb_account_get_inbox (account) != NULL &&
         lb_folder_get_total_count (lb_account_get_inbox (account)) == 1;
}

static LbAccount *
alice_account (void)
{
  return lb_account_manager_lookup (lb_application_get_manager (app), "alice");
}

/* alice's account with her passwords stored, the application running
 * with its main window */
static void
ensure_app (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbAccountManager) setup = NULL;
  g_autoptr(LbAccount) alice = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  if (app != NULL)
    return;
  lb_test_account_reset_mailboxes ();
  setup = lb_account_manager_new (NULL, NULL);
  lb_account_manager_load_async (setup, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_account_manager_load_finish (setup, result, &error));
  alice = lb_test_account_new_alice ();
  lb_test_account_add (setup, alice);
  lb_test_account_store_password (alice, "imap", "alicepass");
  lb_test_account_store_password (alice, "smtp", "alicepass");

  app = lb_application_new ();
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  window = LB_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_true (LB_IS_WINDOW (window));
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 720);
  lb_test_ui_wait_until (manager_has_alice, lb_application_get_manager (app), 60,
                         "the account to open and sync");
}

/* ------------------------------------------------------------------ waiting */

static gboolean
pointer_cleared (gpointer data)
{
  return *(gpointer *) data == NULL;
}

/* A toast's button with @label, once the overlay shows it. */
static gboolean
toast_button_shown (gpointer data)
{
  return lb_test_ui_find (GTK_WIDGET (window), GTK_TYPE_BUTTON, data) != NULL;
}

static gboolean
label_shown (gpointer data)
{
  return lb_test_ui_find (GTK_WIDGET (window), GTK_TYPE_LABEL, data) != NULL;
}

static void
click_toast_button (const char *label,
                    const char *what)
{
  GtkWidget *button;

  lb_test_ui_wait_until (toast_button_shown, (gpointer) label, 10, what);
  /* clicked once it is in place, as a person would: libadwaita 1.2
   * aborts or uses freed memory when a toast that replaced another is
   * dismissed while the other still fades out (within half a second) */
  lb_test_ui_spin (800);
  button = lb_test_ui_find (GTK_WIDGET (window), GTK_TYPE_BUTTON, label);
  g_assert_nonnull (button);
  /* as a click does */
  g_signal_emit_by_name (button, "clicked");
}

typedef struct
{
  LbAccount *account;
  gint64     key;
} Queued;

static void
queued_cb (LbComposerWindow *composer,
           LbAccount        *account,
           gint64            key,
           Queued           *queued)
{
  queued->account = account;
  queued->key = key;
}

static gboolean
queued_seen (gpointer data)
{
  return ((Queued *) data)->key != 0;
}

static gboolean
not_in_outbox (gpointer data)
{
  Queued *queued = data;
  LbOutboxState state;
  g_autofree char *error_message = NULL;

  return !lb_outbox_get_state (lb_application_get_outbox (app), queued->account, queued->key, &state,
                               &error_message);
}

static gboolean
outbox_failed (gpointer data)
{
  Queued *queued = data;
  LbOutboxState state = LB_OUTBOX_STATE_WAITING;
  g_autofree char *error_message = NULL;

  return lb_outbox_get_state (lb_application_get_outbox (app), queued->account, queued->key, &state,
                              &error_message) &&
         state == LB_OUTBOX_STATE_FAILED;
}

static gboolean
outbox_folder_empty (gpointer data)
{
  LbFolder *outbox = lb_account_get_folder_by_role (alice_account (), LB_FOLDER_ROLE_OUTBOX);

  return outbox != NULL && lb_folder_get_total_count (outbox) == 0;
}

static gboolean
list_has (gpointer data)
{
  GListModel *messages = lb_window_get_messages (window);
  guint n = GPOINTER_TO_UINT (data);

  if (messages == NULL || g_list_model_get_n_items (messages) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbMessage) message = g_list_model_get_item (messages, i);

      if (!lb_message_get_loaded (message))
        return FALSE;
    }
  return TRUE;
}

static gboolean
banner_shown (gpointer data)
{
  return gtk_revealer_get_child_revealed (lb_test_ui_get_by_id (GTK_WIDGET (window), "outbox_revealer"));
}

static gboolean
view_shows (gpointer data)
{
  LbMessage *shown = lb_message_view_get_message (LB_MESSAGE_VIEW (lb_window_get_message_view (window)));

  return shown != NULL && g_strcmp0 (lb_message_get_subject (shown), data) == 0;
}

static const char *
entry_text (LbComposerWindow *composer,
            const char       *id)
{
  return gtk_editable_get_text (GTK_EDITABLE (lb_test_ui_get_by_id (GTK_WIDGET (composer), id)));
}

/* A new message written and sent; its place in the Outbox into @queued. */
static void
write_and_send (const char *to,
                const char *subject,
                const char *body,
                Queued     *queued)
{
  LbComposerWindow *composer;
  gpointer weak;

  gtk_widget_activate_action (GTK_WIDGET (window), "win.compose", NULL);
  composer = lb_test_composer_wait ("the composer to open");
  g_signal_connect (composer, "queued", G_CALLBACK (queued_cb), queued);
  lb_test_composer_type_into (composer, "to_entry", to);
  lb_test_composer_type_into (composer, "subject_entry", subject);
  lb_test_composer_type_body (composer, body);
  weak = composer;
  g_object_add_weak_pointer (G_OBJECT (composer), &weak);
  gtk_widget_activate_action (GTK_WIDGET (composer), "composer.send", NULL);
  lb_test_ui_wait_until (pointer_cleared, &weak, 30, "the composer to close once queued");
  g_assert_true (queued_seen (queued));
  g_assert_true (queued->account == alice_account ());
}

/* ------------------------------------------------------------------ the cases */

/* Sent with a delay, taken back with the toast's Undo: a composer with
 * the same message, nothing delivered, the Outbox empty. */
static void
test_undo_send (void)
{
  Queued queued = { NULL, 0 };
  LbComposerWindow *composer;
  gpointer weak;

  ensure_app ();
  g_settings_set_uint (lb_application_get_settings (app), "undo-send-delay", 3);
  g_assert_cmpuint (lb_outbox_get_undo_delay (lb_application_get_outbox (app)), ==, 3);

  write_and_send ("Bob Example <bob@example.test>", "Second thoughts", "Hello Bob,\nforget what I said.",
                  &queued);
  lb_test_ui_wait_until (label_shown, (gpointer) "Sending message…", 10, "the sending toast");
  lb_test_ui_wait_for_frame (GTK_WIDGET (window));
  lb_test_ui_screenshot (GTK_WIDGET (window), "screenshot-outbox-undo.png");
  click_toast_button ("_Undo", "the sending toast's Undo");

  composer = lb_test_composer_wait ("the message to come back into a composer");
  {
    g_autofree char *body = lb_test_composer_dup_body (composer);

    g_assert_cmpstr (entry_text (composer, "to_entry"), ==, "Bob Example <bob@example.test>");
    g_assert_cmpstr (entry_text (composer, "subject_entry"), ==, "Second thoughts");
    /* the text as written, the signature once */
    g_assert_cmpstr (body, ==, "Hello Bob,\nforget what I said.\n\n-- \nAlice, testing");
  }
  lb_test_ui_wait_until (not_in_outbox, &queued, 10, "the message to leave the outbox");
  lb_test_ui_wait_until (outbox_folder_empty, NULL, 10, "the Outbox folder to be empty");

  /* well past the delay: never sent */
  lb_test_ui_spin (5000);
  g_assert_true (not_in_outbox (&queued));
  g_assert_true (outbox_folder_empty (NULL));
  {
    g_autoptr(LbTestSession) bob = lb_test_session_imap_login ("bob@example.test", "bobpass");

    g_assert_cmpuint (lb_test_session_imap_count (bob, "INBOX", "SUBJECT \"Second thoughts\""), ==, 0);
    lb_test_session_imap_ok (bob, "LOGOUT");
  }

  weak = composer;
  g_object_add_weak_pointer (G_OBJECT (composer), &weak);
  gtk_window_destroy (GTK_WINDOW (composer));
  lb_test_ui_wait_until (pointer_cleared, &weak, 10, "the composer to close");
}

/* Refused by the server: the toast's Show, the Outbox's banner with the
 * server's reason, and Edit. */
static void
test_failed_send (void)
{
  Queued queued = { NULL, 0 };
  LbComposerWindow *composer;
  LbFolder *outbox;
  GtkLabel *label;

  ensure_app ();
  g_settings_set_uint (lb_application_get_settings (app), "undo-send-delay", 0);

  write_and_send ("nobody@example.test", "Into the void", "Is anyone there?", &queued);
  lb_test_ui_wait_until (outbox_failed, &queued, 60, "the server to refuse the message");
  lb_test_ui_wait_until (label_shown, (gpointer) "A message could not be sent", 10, "the failure toast");
  click_toast_button ("_Show", "the failure toast's Show");

  outbox = lb_account_get_folder_by_role (alice_account (), LB_FOLDER_ROLE_OUTBOX);
  g_assert_nonnull (outbox);
  g_assert_true (lb_sidebar_get_selected_account (LB_SIDEBAR (lb_window_get_sidebar (window))) == alice_account ());
  g_assert_true (lb_sidebar_get_selected_folder (LB_SIDEBAR (lb_window_get_sidebar (window))) == outbox);
  lb_test_ui_wait_until (list_has, GUINT_TO_POINTER (1), 30, "the Outbox to be listed");
  gtk_selection_model_select_item (GTK_SELECTION_MODEL (lb_window_get_messages (window)), 0, TRUE);
  lb_test_ui_wait_until (view_shows, (gpointer) "Into the void", 30, "the failed message to be shown");
  lb_test_ui_wait_until (banner_shown, NULL, 10, "the Outbox banner");

  label = lb_test_ui_get_by_id (GTK_WIDGET (window), "outbox_label");
  g_assert_nonnull (strstr (gtk_label_get_text (label), "nobody@example.test"));
  g_assert_true (gtk_widget_get_visible (lb_test_ui_get_by_id (GTK_WIDGET (window), "outbox_retry_button")));
  lb_test_ui_wait_for_frame (GTK_WIDGET (window));
  g_assert_cmpuint (lb_test_ui_screenshot (GTK_WIDGET (window), "screenshot-outbox-failed.png"), >, 32);

  gtk_widget_activate_action (GTK_WIDGET (window), "win.outbox-edit", NULL);
  composer = lb_test_composer_wait ("the failed message to come back into a composer");
  {
    g_autofree char *body = lb_test_composer_dup_body (composer);

    g_assert_cmpstr (entry_text (composer, "to_entry"), ==, "nobody@example.test");
    g_assert_cmpstr (entry_text (composer, "subject_entry"), ==, "Into the void");
    g_assert_nonnull (strstr (body, "Is anyone there?"));
  }
  lb_test_ui_wait_until (not_in_outbox, &queued, 10, "the message to leave the outbox");
  lb_test_ui_wait_until (list_has, GUINT_TO_POINTER (0), 30, "the Outbox list to be empty");
  lb_test_ui_wait_until (outbox_folder_empty, NULL, 10, "the Outbox folder to be empty");
  gtk_window_destroy (GTK_WINDOW (composer));
}

int
main (int   argc,
      char *argv[])
{
  int status;

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_mime_init ();

  g_test_add_func ("/ui/outbox/undo-send", test_undo_send);
  g_test_add_func ("/ui/outbox/failed-send", test_failed_send);

  status = g_test_run ();
  if (app != NULL)
    {
      /* the toasts gone: libadwaita 1.2 crashes when a window goes
       * while one still fades out */
      lb_test_ui_spin (1000);
      gtk_window_destroy (GTK_WINDOW (window));
      g_application_quit (G_APPLICATION (app));
      g_clear_object (&app);
    }
  return status;
}
