/* test-composer.c: writing and sending on a real X server against the
 * harness's Dovecot and SMTP server: a message typed into the composer,
 * with an attachment, sent and received by bob; the From list and the
 * signature swapped with the identity; address completion; the warning
 * about a missing attachment; a draft saved to the server after a pause,
 * replaced, reopened from Drafts and discarded; a reply to all and a
 * forward from the main window; a mailto: link opened.
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

#define ATTACHMENT_SIZE (300 * 1024)

/* ------------------------------------------------------------------ the server, seen by another client */

static void
wait_for_server (const char *user,
                 const char *password,
                 const char *mailbox,
                 const char *criteria,
                 guint       count,
                 const char *what)
{
  lb_test_ui_wait_for_imap_count (user, password, mailbox, criteria, count, 60, what);
}

/* The BODYSTRUCTURE of bob's newest message. */
static char *
bob_bodystructure (void)
{
  g_autoptr(LbTestSession) session = lb_test_session_imap_login ("bob@example.test", "bobpass");
  char *line;

  lb_test_session_send (session, "S EXAMINE INBOX");
  lb_test_session_expect_tagged_ok (session, "S");
  lb_test_session_send (session, "F FETCH * (BODYSTRUCTURE)");
  line = lb_test_session_read_until (session, "* ");
  lb_test_session_expect_tagged_ok (session, "F");
  lb_test_session_imap_ok (session, "LOGOUT");
  return line;
}

/* ------------------------------------------------------------------ waiting */

static gboolean
manager_has_alice (gpointer data)
{
  LbAccount *account = lb_account_manager_lookup (data, "alice");

  return account != NULL && lb_account_get_opened (account) && lb_account_get_inbox (account) != NULL &&
         lb_folder_get_total_count (lb_account_get_inbox (account)) == 1 &&
         lb_account_get_folder_by_role (account, LB_FOLDER_ROLE_DRAFTS) != NULL;
}

static gboolean
pointer_cleared (gpointer data)
{
  return *(gpointer *) data == NULL;
}

static gboolean
has_attachment_row (gpointer data)
{
  GtkWidget *list = lb_test_ui_get_by_id (data, "attachment_list");

  return lb_test_ui_find (list, ADW_TYPE_ACTION_ROW, NULL) != NULL;
}

static gboolean
completion_shown (gpointer data)
{
  GtkWidget *to = lb_test_ui_get_by_id (data, "to_entry");
  GtkWidget *popover = lb_test_ui_find (to, GTK_TYPE_POPOVER, NULL);

  return popover != NULL && gtk_widget_get_visible (popover) &&
         gtk_list_box_get_row_at_index (GTK_LIST_BOX (lb_test_ui_find (popover, GTK_TYPE_LIST_BOX, NULL)), 0) != NULL;
}

static gboolean
attachments_shown (gpointer data)
{
  return gtk_revealer_get_child_revealed (lb_test_ui_get_by_id (data, "attachments_revealer"));
}

static gboolean
dialog_shown (gpointer data)
{
  return lb_test_ui_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, NULL) != NULL;
}

static gboolean
draft_saved (gpointer data)
{
  return lb_composer_window_get_draft_key (data) != 0 && !lb_composer_window_get_saving (data);
}

static gboolean
view_shows_lunch (gpointer data)
{
  LbMessage *shown = lb_message_view_get_message (LB_MESSAGE_VIEW (lb_window_get_message_view (data)));

  return shown != NULL && g_strcmp0 (lb_message_get_subject (shown), "Lunch plans") == 0;
}

static gboolean
view_shows_draft (gpointer data)
{
  LbMessage *shown = lb_message_view_get_message (LB_MESSAGE_VIEW (lb_window_get_message_view (data)));

  return shown != NULL && g_strcmp0 (lb_message_get_subject (shown), "Draft in progress, again") == 0;
}

static gboolean
list_loaded (gpointer data)
{
  GListModel *messages = lb_window_get_messages (data);
  g_autoptr(LbMessage) message = NULL;

  if (messages == NULL || g_list_model_get_n_items (messages) != 1)
    return FALSE;
  message = g_list_model_get_item (messages, 0);
  return lb_message_get_loaded (message);
}

/* ------------------------------------------------------------------ the test */

static void
test_composer (void)
{
  g_autoptr(LbApplication) app = lb_application_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(LbAccountManager) setup = lb_account_manager_new (NULL, NULL);
  g_autoptr(LbAccount) alice = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *path = g_build_filename (lb_test_getenv ("LB_TEST_DIR"), "report.bin", NULL);
  g_autofree char *contents = g_malloc (ATTACHMENT_SIZE);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  LbAccountManager *manager;
  LbWindow *window;
  LbComposerWindow *composer;
  gpointer weak;

  lb_test_account_reset_mailboxes ();
  for (guint i = 0; i < ATTACHMENT_SIZE; i++)
    contents[i] = (char) g_random_int ();
  g_file_set_contents (path, contents, ATTACHMENT_SIZE, &error);
  g_assert_no_error (error);

  lb_account_manager_load_async (setup, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  g_assert_true (lb_account_manager_load_finish (setup, result, &error));
  alice = lb_test_account_new_alice ();
  lb_test_account_add (setup, alice);
  lb_test_account_store_password (alice, "imap", "alicepass");
  lb_test_account_store_password (alice, "smtp", "alicepass");

  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  /* sent at once: the undo delay is tested by the outbox's own tests */
  g_settings_set_uint (lb_application_get_settings (app), "undo-send-delay", 1);
  manager = lb_application_get_manager (app);
  g_application_activate (G_APPLICATION (app));
  window = LB_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  g_assert_true (LB_IS_WINDOW (window));
  g_assert_true (lb_window_get_outbox (window) == lb_application_get_outbox (app));
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 720);
  lb_test_ui_wait_until (manager_has_alice, manager, 60, "the account to open and sync");

  /* ---- a new message, typed, with an attachment, sent */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.compose", NULL);
  composer = lb_test_composer_wait ("the composer to open");
  {
    g_autofree char *body = lb_test_composer_dup_body (composer);

    /* the identity's signature, under the place to write */
    g_assert_cmpstr (body, ==, "\n\n-- \nAlice, testing");
  }
  {
    GtkDropDown *from = lb_test_ui_get_by_id (GTK_WIDGET (composer), "from_dropdown");
    GListModel *senders = gtk_drop_down_get_model (from);
    g_autofree char *work_body = NULL;
    g_autofree char *edited_body = NULL;

    /* every identity, as "Name <address>" */
    g_assert_cmpuint (g_list_model_get_n_items (senders), ==, 2);
    g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (senders), 0), ==,
                     "Alice Example <alice@example.test>");
    g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (senders), 1), ==,
                     "Alice at Work <alice.work@example.test>");
    /* another identity: its signature instead */
    gtk_drop_down_set_selected (from, 1);
    work_body = lb_test_composer_dup_body (composer);
    g_assert_cmpstr (work_body, ==, "\n\n-- \nAlice\nWork Department");
    g_assert_cmpstr (lb_outgoing_message_get_from_address (lb_composer_window_get_message (composer)), ==,
                     "alice.work@example.test");
    gtk_drop_down_set_selected (from, 0);
    edited_body = lb_test_composer_dup_body (composer);
    g_assert_cmpstr (edited_body, ==, "\n\n-- \nAlice, testing");
  }
  lb_test_composer_type_into (composer, "to_entry", "Bob Example <bob@example.test>");
  lb_test_composer_type_into (composer, "subject_entry", "Quarterly report");
  lb_test_composer_type_body (composer, "Hello Bob,\nthe figures are in the file.");
  lb_composer_window_attach_file (composer, file);
  lb_test_ui_wait_until (has_attachment_row, composer, 30, "the attachment to be read");
  {
    GtkWidget *list = lb_test_ui_get_by_id (GTK_WIDGET (composer), "attachment_list");
    AdwActionRow *row = ADW_ACTION_ROW (lb_test_ui_find (list, ADW_TYPE_ACTION_ROW, NULL));
    g_autofree char *size = g_format_size (ATTACHMENT_SIZE);

    g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, "report.bin");
    g_assert_cmpstr (adw_action_row_get_subtitle (row), ==, size);
  }
  lb_test_ui_wait_until (attachments_shown, composer, 10, "the attachment list to be shown");
  lb_test_ui_wait_for_frame (GTK_WIDGET (composer));
  g_assert_cmpuint (lb_test_ui_screenshot (GTK_WIDGET (composer), "screenshot-composer.png"), >, 32);

  weak = composer;
  g_object_add_weak_pointer (G_OBJECT (composer), &weak);
  gtk_widget_activate_action (GTK_WIDGET (composer), "composer.send", NULL);
  lb_test_ui_wait_until (pointer_cleared, &weak, 30, "the composer to close once queued");
  wait_for_server ("bob@example.test", "bobpass", "INBOX", "SUBJECT \"Quarterly report\"", 1,
                   "bob to receive the message");
  {
    g_autofree char *structure = bob_bodystructure ();

    g_assert_nonnull (strstr (structure, "\"report.bin\""));
  }
  wait_for_server ("bob@example.test", "bobpass", "INBOX", "BODY \"the figures are in the file\"", 1,
                   "the text to arrive");

  /* ---- the text says "attached" and nothing is: a question first */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.compose", NULL);
  composer = lb_test_composer_wait ("a second composer to open");
  /* an address seen in the mail completes what is typed after the comma */
  lb_test_composer_type_into (composer, "to_entry", "bob@example.test, car");
  lb_test_ui_wait_until (completion_shown, composer, 10, "the address completion");
  {
    GtkWidget *to = lb_test_ui_get_by_id (GTK_WIDGET (composer), "to_entry");
    GtkWidget *popover = lb_test_ui_find (to, GTK_TYPE_POPOVER, NULL);
    GtkListBox *list = GTK_LIST_BOX (lb_test_ui_find (popover, GTK_TYPE_LIST_BOX, NULL));
    GtkListBoxRow *row = gtk_list_box_get_row_at_index (list, 0);
    GtkWidget *label = lb_test_ui_find (GTK_WIDGET (row), GTK_TYPE_LABEL, NULL);

    g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (label)), ==, "Carol Example <carol@example.test>");
    /* only addresses that start so: not dave, not bob */
    g_assert_null (gtk_list_box_get_row_at_index (list, 1));
    lb_test_ui_screenshot (GTK_WIDGET (composer), "screenshot-composer-completion.png");
    g_signal_emit_by_name (list, "row-activated", row);
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (to)), ==,
                     "bob@example.test, Carol Example <carol@example.test>, ");
    g_assert_false (gtk_widget_get_visible (popover));
  }
  lb_test_composer_type_into (composer, "to_entry", "bob@example.test");
  lb_test_composer_type_into (composer, "subject_entry", "Draft in progress");
  lb_test_composer_type_body (composer, "I have attached the minutes.");
  gtk_widget_activate_action (GTK_WIDGET (composer), "composer.send", NULL);
  lb_test_ui_wait_until (dialog_shown, NULL, 10, "the missing attachment question");
  {
    AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (lb_test_ui_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, NULL));

    g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==,
                     "You mentioned an attachment, but none is attached");
    g_assert_true (adw_message_dialog_has_response (dialog, "send"));
    g_assert_true (adw_message_dialog_has_response (dialog, "attach"));
    lb_test_ui_wait_for_frame (GTK_WIDGET (dialog));
    lb_test_ui_screenshot (GTK_WIDGET (dialog), "screenshot-composer-attachment-warning.png");
    /* as its button does: the answer, then the dialog closes */
    adw_message_dialog_response (dialog, "cancel");
    gtk_window_destroy (GTK_WINDOW (dialog));
  }
  /* not sent: the composer stays */
  lb_test_ui_spin (500);
  g_assert_true (lb_test_ui_find_toplevel (LB_TYPE_COMPOSER_WINDOW, NULL) == GTK_WINDOW (composer));

  /* ---- the draft is saved to the server after a pause */
  lb_composer_window_set_autosave_delay (composer, 300);
  lb_test_composer_type_body (composer, "Still writing. ");
  lb_test_ui_wait_until (draft_saved, composer, 30, "the draft to be saved");
  wait_for_server ("alice@example.test", "alicepass", "Drafts", "SUBJECT \"Draft in progress\"", 1,
                   "the draft on the server");
  /* a later edit replaces it */
  lb_test_composer_type_into (composer, "subject_entry", "Draft in progress, again");
  wait_for_server ("alice@example.test", "alicepass", "Drafts", "SUBJECT \"Draft in progress, again\"", 1,
                   "the second version on the server");
  wait_for_server ("alice@example.test", "alicepass", "Drafts", "UNDELETED", 1, "the first version to go");

  /* closed (saved already) and reopened from Drafts */
  weak = composer;
  g_object_add_weak_pointer (G_OBJECT (composer), &weak);
  gtk_window_close (GTK_WINDOW (composer));
  lb_test_ui_wait_until (pointer_cleared, &weak, 10, "the saved composer to close");
  {
    LbAccount *account = lb_account_manager_lookup (manager, "alice");
    LbFolder *drafts = lb_account_get_folder_by_role (account, LB_FOLDER_ROLE_DRAFTS);
    GtkWidget *edit = lb_test_ui_get_by_id (GTK_WIDGET (window), "edit_draft_button");
    LbMessage *shown;

    lb_sidebar_select_folder (LB_SIDEBAR (lb_window_get_sidebar (window)), account, drafts);
    lb_test_ui_wait_until (list_loaded, window, 30, "Drafts to be listed");
    gtk_selection_model_select_item (GTK_SELECTION_MODEL (lb_window_get_messages (window)), 0, TRUE);
    lb_test_ui_wait_until (view_shows_draft, window, 30, "the draft to be shown");
    shown = lb_message_view_get_message (LB_MESSAGE_VIEW (lb_window_get_message_view (window)));
    g_assert_true (gtk_widget_get_visible (edit));
    gtk_widget_activate_action (GTK_WIDGET (window), "win.edit-draft", NULL);
    composer = lb_test_composer_wait ("the draft to open in a composer");
    g_assert_cmpint (lb_composer_window_get_draft_key (composer), ==, lb_message_get_key (shown));
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (lb_test_ui_get_by_id (GTK_WIDGET (composer), "subject_entry"))),
                     ==, "Draft in progress, again");
    {
      g_autofree char *body = lb_test_composer_dup_body (composer);

      /* continued as it was: no second signature */
      g_assert_nonnull (strstr (body, "Still writing. I have attached the minutes."));
      g_assert_true (strstr (body, "-- ") == g_strrstr (body, "-- "));
    }
  }

  /* discarded, after a confirmation */
  weak = composer;
  g_object_add_weak_pointer (G_OBJECT (composer), &weak);
  gtk_widget_activate_action (GTK_WIDGET (composer), "composer.discard", NULL);
  lb_test_ui_wait_until (dialog_shown, NULL, 10, "the discard confirmation");
  {
    AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (lb_test_ui_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, NULL));

    adw_message_dialog_response (dialog, "discard");
    gtk_window_destroy (GTK_WINDOW (dialog));
  }
  lb_test_ui_wait_until (pointer_cleared, &weak, 10, "the composer to close once discarded");
  wait_for_server ("alice@example.test", "alicepass", "Drafts", "UNDELETED", 0, "the draft to be deleted");

  /* ---- a reply from the main window */
  lb_sidebar_select_folder (LB_SIDEBAR (lb_window_get_sidebar (window)), lb_account_manager_lookup (manager, "alice"),
                            lb_account_get_inbox (lb_account_manager_lookup (manager, "alice")));
  lb_test_ui_wait_until (list_loaded, window, 30, "the Inbox to be listed");
  gtk_selection_model_select_item (GTK_SELECTION_MODEL (lb_window_get_messages (window)), 0, TRUE);
  lb_test_ui_wait_until (view_shows_lunch, window, 30, "the message to be shown");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.reply-all", NULL);
  composer = lb_test_composer_wait ("the reply's composer to open");
  {
    GtkWidget *to = lb_test_ui_get_by_id (GTK_WIDGET (composer), "to_entry");
    GtkWidget *cc = lb_test_ui_get_by_id (GTK_WIDGET (composer), "cc_entry");
    GtkWidget *subject = lb_test_ui_get_by_id (GTK_WIDGET (composer), "subject_entry");
    LbOutgoingMessage *message = lb_composer_window_get_message (composer);

    g_assert_nonnull (strstr (gtk_editable_get_text (GTK_EDITABLE (to)), "carol@example.test"));
    /* the other recipients, but not alice herself */
    g_assert_nonnull (strstr (gtk_editable_get_text (GTK_EDITABLE (cc)), "dave@example.test"));
    g_assert_null (strstr (gtk_editable_get_text (GTK_EDITABLE (to)), "alice@example.test"));
    g_assert_true (gtk_widget_get_visible (cc));
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (subject)), ==, "Re: Lunch plans");
    g_assert_cmpstr (lb_outgoing_message_get_in_reply_to (message), ==, "lunch-1@letterbox.test");
    g_assert_cmpstr (lb_outgoing_message_get_from_address (message), ==, "alice@example.test");
    lb_test_ui_screenshot (GTK_WIDGET (composer), "screenshot-composer-reply.png");
  }
  /* closed untouched: nothing to save */
  weak = composer;
  g_object_add_weak_pointer (G_OBJECT (composer), &weak);
  gtk_window_close (GTK_WINDOW (composer));
  lb_test_ui_wait_until (pointer_cleared, &weak, 10, "the reply's composer to close");

  /* ---- forwarded: "Fwd:", no recipients, the text quoted */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.forward", NULL);
  composer = lb_test_composer_wait ("the forward's composer to open");
  {
    g_autofree char *body = lb_test_composer_dup_body (composer);

    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (lb_test_ui_get_by_id (GTK_WIDGET (composer), "to_entry"))),
                     ==, "");
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (lb_test_ui_get_by_id (GTK_WIDGET (composer), "subject_entry"))),
                     ==, "Fwd: Lunch plans");
    g_assert_nonnull (strstr (body, "Shall we meet at noon?"));
  }
  weak = composer;
  g_object_add_weak_pointer (G_OBJECT (composer), &weak);
  gtk_window_close (GTK_WINDOW (composer));
  lb_test_ui_wait_until (pointer_cleared, &weak, 10, "the reply's composer to close");
  lb_test_ui_spin (500);
  wait_for_server ("alice@example.test", "alicepass", "Drafts", "UNDELETED", 0, "no draft of the reply");

  /* ---- a mailto: link opened: a composer with its fields */
  {
    g_autoptr(GFile) link = g_file_new_for_uri ("mailto:dave@example.test?subject=Hi%20Dave&cc=erin@example.test"
                                                "&body=First%20line%0D%0ASecond%20line");
    GFile *files[] = { link };
    g_autofree char *body = NULL;

    g_application_open (G_APPLICATION (app), files, 1, "");
    composer = lb_test_composer_wait ("the mailto: link's composer to open");
    body = lb_test_composer_dup_body (composer);
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (lb_test_ui_get_by_id (GTK_WIDGET (composer), "to_entry"))),
                     ==, "dave@example.test");
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (lb_test_ui_get_by_id (GTK_WIDGET (composer), "cc_entry"))),
                     ==, "erin@example.test");
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (lb_test_ui_get_by_id (GTK_WIDGET (composer), "subject_entry"))),
                     ==, "Hi Dave");
    g_assert_cmpstr (body, ==, "First line\nSecond line\n\n-- \nAlice, testing");
    gtk_window_destroy (GTK_WINDOW (composer));
  }

  gtk_window_destroy (GTK_WINDOW (window));
  g_application_quit (G_APPLICATION (app));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_mime_init ();

  g_test_add_func ("/ui/composer/send-draft-reply", test_composer);

  return g_test_run ();
}
