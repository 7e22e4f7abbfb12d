/* test-preferences.c: the preferences window on a real X server (the
 * harness's Xvfb) with a keyring: the general settings in GSettings, and
 * the pages of a POP3 and an IMAP account, whose changes must reach the
 * account files (checked with a manager loaded afresh from them), and a
 * screenshot of each page
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "lb-account-preferences-page.h"
#include "lb-preferences-window.h"
#include "lb-test-session.h"
#include "lb-test-ui.h"

#define POP3_ID "pop3-at-example.test"
#define IMAP_ID "imap-at-example.test"

typedef struct
{
  char                *dir;
  char                *config_dir;
  char                *data_dir;
  GSettings           *settings;
  LbSecrets           *secrets;
  LbAccountManager    *manager;
  LbPreferencesWindow *window;
} Fixture;

static GtkWidget *
find_page (GtkWidget  *widget,
           const char *account_id)
{
  if (LB_IS_ACCOUNT_PREFERENCES_PAGE (widget) &&
      g_strcmp0 (lb_account_get_id (lb_account_preferences_page_get_account (LB_ACCOUNT_PREFERENCES_PAGE (widget))),
                 account_id) == 0)
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_page (child, account_id);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* Scrolls the page that holds @widget so that @widget is at its top. */
static void
scroll_to (GtkWidget *widget)
{
  GtkWidget *scrolled = gtk_widget_get_ancestor (widget, GTK_TYPE_SCROLLED_WINDOW);
  GtkAdjustment *adjustment;
  graphene_point_t point;

  g_assert_nonnull (scrolled);
  adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  g_assert_true (gtk_widget_compute_point (widget, scrolled, &GRAPHENE_POINT_INIT (0, 0), &point));
  gtk_adjustment_set_value (adjustment, gtk_adjustment_get_value (adjustment) + point.y - 12);
}

/* Saves a picture of @widget, once its transitions ended. */
static void
screenshot (GtkWidget  *widget,
            const char *name)
{
  lb_test_ui_spin (400);
  lb_test_ui_screenshot (widget, name);
}

static LbAccountManager *
load_manager (Fixture *fixture)
{
  LbAccountManager *manager = lb_account_manager_new (fixture->config_dir, fixture->data_dir);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_account_manager_load_async (manager, NULL, lb_test_store_result, &result);
  lb_account_manager_load_finish (manager, lb_test_ui_wait_for_result (&result, 20, "an operation"), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (lb_account_manager_get_load_errors (manager)->len, ==, 0);

  return manager;
}

typedef gboolean (*AccountCheck) (LbAccount *account);

/* Loads the account files afresh until @check holds for account @id (the
 * page saves in the background), failing after 10 s. */
static void
wait_until_saved (Fixture      *fixture,
                  const char   *id,
                  AccountCheck  check,
                  const char   *what)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(LbAccountManager) manager = load_manager (fixture);
      LbAccount *account = lb_account_manager_lookup (manager, id);

      g_assert_nonnull (account);
      if (check (account))
        return;
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for %s to be saved", what);
      lb_test_ui_spin (50);
    }
}

static LbAccount *
make_account (const char         *id,
              LbIncomingProtocol  protocol,
              const char         *address)
{
  LbAccount *account = lb_account_new (id);
  g_autoptr(LbIdentity) identity = lb_identity_new ("Test User", address);

  lb_account_add_identity (account, identity);
  lb_account_set_display_name (account, address);
  lb_account_set_incoming_protocol (account, protocol);
  lb_account_set_incoming_host (account, "mail.example.test");
  lb_account_set_incoming_security (account, LB_NET_SECURITY_TLS);
  lb_account_set_incoming_user (account, address);
  lb_account_set_smtp_host (account, "smtp.example.test");
  lb_account_set_smtp_security (account, LB_NET_SECURITY_STARTTLS);
  lb_account_set_smtp_user (account, address);
  return account;
}

static void
add_account (Fixture   *fixture,
             LbAccount *account)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_account_manager_add_async (fixture->manager, account, NULL, lb_test_store_result, &result);
  lb_account_manager_add_finish (fixture->manager, lb_test_ui_wait_for_result (&result, 20, "an operation"), &error);
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbAccount) pop3 = NULL;
  g_autoptr(LbAccount) imap = NULL;

  fixture->dir = g_dir_make_tmp ("lb-test-preferences-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->config_dir = g_build_filename (fixture->dir, "config", NULL);
  fixture->data_dir = g_build_filename (fixture->dir, "data", NULL);

  fixture->settings = g_settings_new (APP_ID);
  g_settings_reset (fixture->settings, "mark-read-delay");
  g_settings_reset (fixture->settings, "prefer-plain-text");
  g_settings_reset (fixture->settings, "group-conversations");
  g_settings_reset (fixture->settings, "notify-new-mail");
  g_settings_reset (fixture->settings, "run-in-background");
  fixture->secrets = lb_secrets_new ();

  fixture->manager = load_manager (fixture);
  pop3 = make_account (POP3_ID, LB_INCOMING_POP3, "pop3@example.test");
  add_account (fixture, pop3);
  imap = make_account (IMAP_ID, LB_INCOMING_IMAP, "imap@example.test");
  lb_account_set_poll_minutes (imap, 5);
  lb_account_pin_certificate (imap, "mail.example.test", 993,
                              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  add_account (fixture, imap);

  fixture->window = lb_preferences_window_new (NULL, fixture->settings, fixture->manager, fixture->secrets);
  g_object_ref_sink (fixture->window);
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 860, 780);
  gtk_window_present (GTK_WINDOW (fixture->window));
  lb_test_ui_wait_for_frame (GTK_WIDGET (fixture->window));
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  g_clear_object (&fixture->window);
  /* the saves and other work still queued */
  lb_test_ui_spin (300);

  g_clear_object (&fixture->manager);
  g_clear_object (&fixture->secrets);
  g_clear_object (&fixture->settings);
  lb_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->config_dir);
  g_free (fixture->data_dir);
}

static GtkWidget *
show_page (Fixture    *fixture,
           const char *id)
{
  GtkWidget *page = find_page (GTK_WIDGET (fixture->window), id);

  g_assert_nonnull (page);
  lb_preferences_window_show_account (fixture->window,
                                      lb_account_preferences_page_get_account (LB_ACCOUNT_PREFERENCES_PAGE (page)));
  g_assert_true (adw_preferences_window_get_visible_page (ADW_PREFERENCES_WINDOW (fixture->window)) ==
                 ADW_PREFERENCES_PAGE (page));
  return page;
}

static void
close_window (Fixture *fixture)
{
  gtk_window_close (GTK_WINDOW (fixture->window));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (fixture->window)));
}

/* ------------------------------------------------------------------ general */

static void
test_general (Fixture       *fixture,
              gconstpointer  user_data)
{
  GtkWidget *window = GTK_WIDGET (fixture->window);
  GtkSwitch *plain_text = lb_test_ui_get_by_id (window, "plain_text_switch");
  GtkSwitch *conversations = lb_test_ui_get_by_id (window, "conversations_switch");
  GtkSwitch *notify = lb_test_ui_get_by_id (window, "notify_switch");
  GtkSwitch *background = lb_test_ui_get_by_id (window, "background_switch");
  AdwComboRow *mark_read = lb_test_ui_get_by_id (window, "mark_read_row");
  GtkWidget *delay_row = lb_test_ui_get_by_id (window, "mark_read_delay_row");
  GtkSpinButton *delay = lb_test_ui_get_by_id (window, "mark_read_delay_spin");

  /* the general page comes first and shows the defaults */
  g_assert_cmpstr (adw_preferences_page_get_title (adw_preferences_window_get_visible_page (ADW_PREFERENCES_WINDOW (window))),
                   ==, "General");
  g_assert_false (gtk_switch_get_active (plain_text));
  g_assert_true (gtk_switch_get_active (conversations));
  g_assert_true (gtk_switch_get_active (notify));
  g_assert_false (gtk_switch_get_active (background));
  g_assert_cmpuint (adw_combo_row_get_selected (mark_read), ==, 0);
  g_assert_false (gtk_widget_get_visible (delay_row));

  /* the user's changes reach the keys */
  gtk_switch_set_active (plain_text, TRUE);
  g_assert_true (g_settings_get_boolean (fixture->settings, "prefer-plain-text"));
  gtk_switch_set_active (conversations, FALSE);
  g_assert_false (g_settings_get_boolean (fixture->settings, "group-conversations"));
  gtk_switch_set_active (notify, FALSE);
  g_assert_false (g_settings_get_boolean (fixture->settings, "notify-new-mail"));
  gtk_switch_set_active (background, TRUE);
  g_assert_true (g_settings_get_boolean (fixture->settings, "run-in-background"));

  adw_combo_row_set_selected (mark_read, 2);
  g_assert_cmpint (g_settings_get_int (fixture->settings, "mark-read-delay"), ==, -1);
  g_assert_false (gtk_widget_get_visible (delay_row));
  adw_combo_row_set_selected (mark_read, 1);
  g_assert_cmpint (g_settings_get_int (fixture->settings, "mark-read-delay"), ==,
                   gtk_spin_button_get_value_as_int (delay));
  g_assert_true (gtk_widget_get_visible (delay_row));
  gtk_spin_button_set_value (delay, 12);
  g_assert_cmpint (g_settings_get_int (fixture->settings, "mark-read-delay"), ==, 12);
  adw_combo_row_set_selected (mark_read, 0);
  g_assert_cmpint (g_settings_get_int (fixture->settings, "mark-read-delay"), ==, 0);

  /* and the keys' changes reach the page */
  g_settings_set_int (fixture->settings, "mark-read-delay", 7);
  g_assert_cmpuint (adw_combo_row_get_selected (mark_read), ==, 1);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (delay), ==, 7);
  g_settings_set_boolean (fixture->settings, "prefer-plain-text", FALSE);
  g_assert_false (gtk_switch_get_active (plain_text));

  lb_test_ui_wait_for_frame (window);
  screenshot (window, "screenshot-preferences-general.png");
}

/* ------------------------------------------------------------------ POP3 */

static gboolean
pop3_rules_saved (LbAccount *account)
{
  return (lb_account_get_pop3_keep_on_server (account) &&
          lb_account_get_pop3_delete_after_days (account) == 14 &&
          lb_account_get_pop3_size_limit (account) == 512);
}

static void
test_pop3_rules (Fixture       *fixture,
                 gconstpointer  user_data)
{
  GtkWidget *page = show_page (fixture, POP3_ID);
  AdwComboRow *keep = lb_test_ui_get_by_id (page, "keep_row");
  GtkSpinButton *keep_days = lb_test_ui_get_by_id (page, "keep_days_spin");
  GtkWidget *keep_days_row = lb_test_ui_get_by_id (page, "keep_days_row");
  AdwExpanderRow *size_limit = lb_test_ui_get_by_id (page, "size_limit_row");
  GtkSpinButton *size_limit_spin = lb_test_ui_get_by_id (page, "size_limit_spin");
  LbAccount *account = lb_account_manager_lookup (fixture->manager, POP3_ID);

  /* POP3's group is shown, IMAP's offline window is not */
  g_assert_true (gtk_widget_get_visible (lb_test_ui_get_by_id (page, "pop3_group")));
  g_assert_false (gtk_widget_get_visible (lb_test_ui_get_by_id (page, "offline_group")));

  /* the default: deleted once downloaded, no size limit */
  g_assert_cmpuint (adw_combo_row_get_selected (keep), ==, 0);
  g_assert_false (gtk_widget_get_visible (keep_days_row));
  g_assert_false (adw_expander_row_get_enable_expansion (size_limit));

  /* keep a copy for 14 days, only the headers of messages over 512 KiB */
  adw_combo_row_set_selected (keep, 2);
  g_assert_true (gtk_widget_get_visible (keep_days_row));
  gtk_spin_button_set_value (keep_days, 14);
  adw_expander_row_set_enable_expansion (size_limit, TRUE);
  gtk_spin_button_set_value (size_limit_spin, 512);
  g_assert_true (lb_account_get_pop3_keep_on_server (account));
  g_assert_cmpuint (lb_account_get_pop3_delete_after_days (account), ==, 14);
  g_assert_cmpuint (lb_account_get_pop3_size_limit (account), ==, 512);

  lb_test_ui_wait_for_frame (GTK_WIDGET (fixture->window));
  scroll_to (lb_test_ui_get_by_id (page, "poll_row"));
  screenshot (GTK_WIDGET (fixture->window), "screenshot-preferences-pop3.png");

  close_window (fixture);
  wait_until_saved (fixture, POP3_ID, pop3_rules_saved, "the POP3 rules");
}

/* ------------------------------------------------------------------ IMAP */

static gboolean
offline_saved (LbAccount *account)
{
  return lb_account_get_offline_days (account) == 60 && lb_account_get_poll_minutes (account) == 15;
}

static void
test_imap_offline (Fixture       *fixture,
                   gconstpointer  user_data)
{
  GtkWidget *page = show_page (fixture, IMAP_ID);
  AdwExpanderRow *offline = lb_test_ui_get_by_id (page, "offline_row");
  GtkSpinButton *days = lb_test_ui_get_by_id (page, "offline_spin");
  GtkSpinButton *poll = lb_test_ui_get_by_id (page, "poll_spin");

  g_assert_true (gtk_widget_get_visible (lb_test_ui_get_by_id (page, "offline_group")));
  g_assert_false (gtk_widget_get_visible (lb_test_ui_get_by_id (page, "pop3_group")));
  g_assert_false (adw_expander_row_get_enable_expansion (offline));
  g_assert_cmpint (gtk_spin_button_get_value_as_int (poll), ==, 5);

  adw_expander_row_set_enable_expansion (offline, TRUE);
  adw_expander_row_set_expanded (offline, TRUE);
  gtk_spin_button_set_value (days, 60);
  gtk_spin_button_set_value (poll, 15);

  lb_test_ui_wait_for_frame (GTK_WIDGET (fixture->window));
  scroll_to (lb_test_ui_get_by_id (page, "poll_row"));
  screenshot (GTK_WIDGET (fixture->window), "screenshot-preferences-imap.png");

  wait_until_saved (fixture, IMAP_ID, offline_saved, "the offline window");
}

/* ------------------------------------------------------------------ identities */

#define SIGNATURE "-- \nTest User\nExample Ltd."

static gboolean
signature_saved (LbAccount *account)
{
  LbIdentity *identity = lb_account_get_default_identity (account);

  return (g_strcmp0 (lb_identity_get_signature (identity), SIGNATURE) == 0 &&
          g_strcmp0 (lb_identity_get_name (identity), "Tess User") == 0);
}

static void
test_signature (Fixture       *fixture,
                gconstpointer  user_data)
{
  GtkWidget *page = show_page (fixture, IMAP_ID);
  GtkWidget *identities = lb_test_ui_get_by_id (page, "identities_group");
  GtkWidget *expander = lb_test_ui_find (identities, ADW_TYPE_EXPANDER_ROW, NULL);
  GtkWidget *view, *name;

  g_assert_nonnull (expander);
  adw_expander_row_set_expanded (ADW_EXPANDER_ROW (expander), TRUE);
  view = lb_test_ui_find (expander, GTK_TYPE_TEXT_VIEW, NULL);
  g_assert_nonnull (view);
  name = lb_test_ui_find (expander, ADW_TYPE_ENTRY_ROW, NULL);
  g_assert_nonnull (name);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (name)), ==, "Test User");

  /* typed, and not left: saved when the window closes */
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)), SIGNATURE, -1);
  gtk_editable_set_text (GTK_EDITABLE (name), "Tess User");
  lb_test_ui_wait_for_frame (GTK_WIDGET (fixture->window));
  scroll_to (identities);
  screenshot (GTK_WIDGET (fixture->window), "screenshot-preferences-identity.png");
  close_window (fixture);

  wait_until_saved (fixture, IMAP_ID, signature_saved, "the signature");
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (expander)), ==,
                   "Tess User <imap@example.test>");
}

static gboolean
two_identities_saved (LbAccount *account)
{
  GListModel *identities = lb_account_get_identities (account);
  g_autoptr(LbIdentity) second = NULL;

  if (g_list_model_get_n_items (identities) != 2)
    return FALSE;
  second = g_list_model_get_item (identities, 0);
  return g_strcmp0 (lb_identity_get_address (second), "other@example.test") == 0;
}

static gboolean
one_identity_saved (LbAccount *account)
{
  GListModel *identities = lb_account_get_identities (account);
  LbIdentity *identity = lb_account_get_default_identity (account);

  return (g_list_model_get_n_items (identities) == 1 &&
          g_strcmp0 (lb_identity_get_address (identity), "other@example.test") == 0);
}

/* Returns: (transfer full) */
static AdwMessageDialog *
wait_for_dialog (void)
{
  AdwMessageDialog *dialog = ADW_MESSAGE_DIALOG (lb_test_ui_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, NULL));

  g_assert_nonnull (dialog);
  lb_test_ui_wait_for_frame (GTK_WIDGET (dialog));
  /* the test keeps it alive until it is done with it, then destroys it
   * as a click on a response would */
  return g_object_ref (dialog);
}

static void
test_identities (Fixture       *fixture,
                 gconstpointer  user_data)
{
  GtkWidget *page = show_page (fixture, IMAP_ID);
  LbAccount *account = lb_account_manager_lookup (fixture->manager, IMAP_ID);
  GtkWidget *identities = lb_test_ui_get_by_id (page, "identities_group");
  AdwMessageDialog *dialog;
  GtkWidget *entry;
  GtkWidget *button;

  /* the only identity cannot be removed */
  button = lb_test_ui_find (identities, GTK_TYPE_BUTTON, "_Remove Identity");
  g_assert_nonnull (button);
  g_assert_false (gtk_widget_get_sensitive (button));

  /* an invalid address is refused */
  gtk_widget_activate_action (page, "account.add-identity", NULL);
  dialog = wait_for_dialog ();
  entry = gtk_widget_get_last_child (adw_message_dialog_get_extra_child (dialog));
  gtk_editable_set_text (GTK_EDITABLE (entry), "not an address");
  adw_message_dialog_response (dialog, "add");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_clear_object (&dialog);
  g_assert_cmpuint (g_list_model_get_n_items (lb_account_get_identities (account)), ==, 1);
  g_assert_true (gtk_widget_get_visible (lb_test_ui_get_by_id (page, "error_group")));

  /* a valid one is added, then made the default */
  gtk_widget_activate_action (page, "account.add-identity", NULL);
  dialog = wait_for_dialog ();
  entry = gtk_widget_get_last_child (adw_message_dialog_get_extra_child (dialog));
  gtk_editable_set_text (GTK_EDITABLE (entry), "other@example.test");
  adw_message_dialog_response (dialog, "add");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_clear_object (&dialog);
  g_assert_cmpuint (g_list_model_get_n_items (lb_account_get_identities (account)), ==, 2);
  g_assert_false (gtk_widget_get_visible (lb_test_ui_get_by_id (page, "error_group")));

  button = lb_test_ui_find (gtk_widget_get_next_sibling (lb_test_ui_find (identities, ADW_TYPE_EXPANDER_ROW, NULL)),
                            GTK_TYPE_BUTTON, "Make _Default");
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_get_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
  wait_until_saved (fixture, IMAP_ID, two_identities_saved, "a new default identity");

  /* the other one removed */
  button = lb_test_ui_find (gtk_widget_get_next_sibling (lb_test_ui_find (identities, ADW_TYPE_EXPANDER_ROW, NULL)),
                            GTK_TYPE_BUTTON, "_Remove Identity");
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_get_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
  wait_until_saved (fixture, IMAP_ID, one_identity_saved, "the identity removed");
}

/* ------------------------------------------------------------------ errors */

static gboolean
name_saved (LbAccount *account)
{
  return g_strcmp0 (lb_account_get_display_name (account), "Renamed") == 0;
}

static gboolean
port_saved (LbAccount *account)
{
  return lb_account_get_incoming_port (account) == 1995;
}

static void
test_invalid_port (Fixture       *fixture,
                   gconstpointer  user_data)
{
  GtkWidget *page = show_page (fixture, POP3_ID);
  LbAccount *account = lb_account_manager_lookup (fixture->manager, POP3_ID);
  GtkWidget *port = lb_test_ui_get_by_id (page, "incoming_port_row");
  GtkWidget *host = lb_test_ui_get_by_id (page, "incoming_host_row");
  GtkWidget *name = lb_test_ui_get_by_id (page, "display_name_row");
  GtkWidget *error_group = lb_test_ui_get_by_id (page, "error_group");
  GtkLabel *error_label = lb_test_ui_get_by_id (page, "error_label");
  g_autoptr(LbAccountManager) fresh = NULL;

  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (port)), ==, "");
  g_assert_false (gtk_widget_get_visible (error_group));

  gtk_editable_set_text (GTK_EDITABLE (port), "70000");
  g_signal_emit_by_name (port, "entry-activated");
  g_assert_true (gtk_widget_get_visible (error_group));
  g_assert_nonnull (strstr (gtk_label_get_text (error_label), "“70000” is not a port number"));
  g_assert_true (gtk_widget_has_css_class (port, "error"));
  g_assert_cmpuint (lb_account_get_incoming_port (account), ==, 0);

  /* a host name with a space: lb_account_validate() refuses it */
  gtk_editable_set_text (GTK_EDITABLE (host), "mail example");
  g_signal_emit_by_name (host, "entry-activated");
  g_assert_cmpstr (lb_account_get_incoming_host (account), ==, "mail.example.test");
  g_assert_true (gtk_widget_has_css_class (host, "error"));
  g_assert_nonnull (strstr (gtk_label_get_text (error_label), "“mail example” is not a valid server name"));

  lb_test_ui_wait_for_frame (GTK_WIDGET (fixture->window));
  screenshot (GTK_WIDGET (fixture->window), "screenshot-preferences-error.png");

  /* a valid change elsewhere is saved; the invalid ones never are */
  gtk_editable_set_text (GTK_EDITABLE (name), "Renamed");
  g_signal_emit_by_name (name, "entry-activated");
  wait_until_saved (fixture, POP3_ID, name_saved, "the account name");
  fresh = load_manager (fixture);
  account = lb_account_manager_lookup (fresh, POP3_ID);
  g_assert_cmpuint (lb_account_get_incoming_port (account), ==, 0);
  g_assert_cmpstr (lb_account_get_incoming_host (account), ==, "mail.example.test");

  /* corrected, the errors go; the port is saved when the window closes */
  gtk_editable_set_text (GTK_EDITABLE (port), "1995");
  gtk_editable_set_text (GTK_EDITABLE (host), "mail.example.test");
  g_signal_emit_by_name (host, "entry-activated");
  g_assert_false (gtk_widget_has_css_class (host, "error"));
  g_assert_true (gtk_widget_has_css_class (port, "error"));
  close_window (fixture);
  wait_until_saved (fixture, POP3_ID, port_saved, "the port");
}

/* ------------------------------------------------------------------ reopening */

static void
count_notify (guint *count)
{
  (*count)++;
}

static gboolean
host_saved (LbAccount *account)
{
  return g_strcmp0 (lb_account_get_incoming_host (account), "imap2.example.test") == 0;
}

/* A new server for an open account: saved, then the account is closed
 * and opened again, so that its next connection goes there; a setting
 * that is read when needed (the check interval) does not reopen it. */
static void
test_reopen (Fixture       *fixture,
             gconstpointer  user_data)
{
  GtkWidget *page = show_page (fixture, IMAP_ID);
  LbAccount *account = lb_account_manager_lookup (fixture->manager, IMAP_ID);
  GtkWidget *host = lb_test_ui_get_by_id (page, "incoming_host_row");
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint opened_changes = 0;
  gint64 deadline;
  gulong handler;

  lb_account_open_async (account, NULL, lb_test_store_result, &result);
  lb_account_open_finish (account, lb_test_ui_wait_for_result (&result, 20, "an operation"), &error);
  g_assert_no_error (error);
  g_assert_true (lb_account_get_opened (account));
  handler = g_signal_connect_swapped (account, "notify::opened", G_CALLBACK (count_notify), &opened_changes);

  gtk_spin_button_set_value (lb_test_ui_get_by_id (page, "poll_spin"), 30);
  lb_test_ui_spin (300);
  g_assert_cmpuint (opened_changes, ==, 0);

  gtk_editable_set_text (GTK_EDITABLE (host), "imap2.example.test");
  g_signal_emit_by_name (host, "entry-activated");
  wait_until_saved (fixture, IMAP_ID, host_saved, "the new server");

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (opened_changes < 2)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for the account to be opened again");
      lb_test_ui_spin (20);
    }
  g_assert_cmpuint (opened_changes, ==, 2);
  g_assert_true (lb_account_get_opened (account));
  g_assert_cmpstr (lb_account_get_incoming_host (account), ==, "imap2.example.test");

  g_signal_handler_disconnect (account, handler);
  lb_account_close (account);
}

/* ------------------------------------------------------------------ certificates, password */

static gboolean
unpinned (LbAccount *account)
{
  return lb_account_get_pinned_certificates (account)[0] == NULL;
}

static void
test_certificates (Fixture       *fixture,
                   gconstpointer  user_data)
{
  GtkWidget *page = show_page (fixture, IMAP_ID);
  GtkWidget *group = lb_test_ui_get_by_id (page, "certificates_group");
  GtkWidget *row = lb_test_ui_find (group, ADW_TYPE_ACTION_ROW, NULL);
  GtkWidget *button;

  g_assert_true (gtk_widget_get_visible (group));
  g_assert_nonnull (row);
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, "mail.example.test:993");
  button = lb_test_ui_find (row, GTK_TYPE_BUTTON, NULL);
  g_assert_nonnull (button);
  g_signal_emit_by_name (button, "clicked");
  g_assert_false (gtk_widget_get_visible (group));
  wait_until_saved (fixture, IMAP_ID, unpinned, "the certificate removed");
}

static void
test_password (Fixture       *fixture,
               gconstpointer  user_data)
{
  GtkWidget *page = show_page (fixture, POP3_ID);
  LbSecretKey key = { POP3_ID, "pop3", NULL, NULL };
  AdwMessageDialog *dialog;
  GtkWidget *entry;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  gtk_widget_activate_action (page, "account.change-password", "s", "incoming");
  dialog = wait_for_dialog ();
  entry = lb_test_ui_find (GTK_WIDGET (dialog), ADW_TYPE_PASSWORD_ENTRY_ROW, NULL);
  g_assert_nonnull (entry);
  gtk_editable_set_text (GTK_EDITABLE (entry), "new secret");
  adw_message_dialog_response (dialog, "change");
  /* the entry keeps no copy */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_clear_object (&dialog);

  for (;;)
    {
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(LbSecretsPassword) password = NULL;

      lb_secrets_lookup_async (fixture->secrets, &key, NULL, lb_test_store_result, &result);
      password = lb_secrets_lookup_finish (fixture->secrets, lb_test_ui_wait_for_result (&result, 20, "an operation"), &error);
      g_assert_no_error (error);
      if (g_strcmp0 (password, "new secret") == 0)
        break;
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for the password to be stored");
      lb_test_ui_spin (50);
    }
}

/* ------------------------------------------------------------------ removing */

static void
test_remove_account (Fixture       *fixture,
                     gconstpointer  user_data)
{
  GtkWidget *page = show_page (fixture, POP3_ID);
  LbAccount *account = lb_account_manager_lookup (fixture->manager, POP3_ID);
  g_autofree char *data_dir = g_strdup (lb_account_get_data_dir (account));
  g_autofree char *mail = g_build_filename (data_dir, "Inbox", "cur", "1:2,S", NULL);
  g_autofree char *mail_dir = g_path_get_dirname (mail);
  g_autoptr(LbAccountManager) fresh = NULL;
  g_autoptr(GError) error = NULL;
  AdwMessageDialog *dialog;
  gint64 deadline;

  g_assert_cmpint (g_mkdir_with_parents (mail_dir, 0700), ==, 0);
  g_file_set_contents (mail, "Subject: hello\r\n\r\nhi\r\n", -1, &error);
  g_assert_no_error (error);

  /* cancelled: nothing happens */
  gtk_widget_activate_action (page, "account.remove", NULL);
  dialog = wait_for_dialog ();
  g_assert_nonnull (strstr (adw_message_dialog_get_body (dialog), "deleted"));
  screenshot (GTK_WIDGET (dialog), "screenshot-preferences-remove.png");
  adw_message_dialog_response (dialog, "cancel");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_clear_object (&dialog);
  lb_test_ui_spin (100);
  g_assert_nonnull (lb_account_manager_lookup (fixture->manager, POP3_ID));

  gtk_widget_activate_action (page, "account.remove", NULL);
  dialog = wait_for_dialog ();
  adw_message_dialog_response (dialog, "remove");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_clear_object (&dialog);

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (lb_account_manager_lookup (fixture->manager, POP3_ID) != NULL ||
         g_file_test (data_dir, G_FILE_TEST_EXISTS))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("timed out waiting for the account to be removed");
      lb_test_ui_spin (50);
    }

  /* its page went with it */
  g_assert_null (find_page (GTK_WIDGET (fixture->window), POP3_ID));
  g_assert_nonnull (find_page (GTK_WIDGET (fixture->window), IMAP_ID));

  fresh = load_manager (fixture);
  g_assert_null (lb_account_manager_lookup (fresh, POP3_ID));
  g_assert_nonnull (lb_account_manager_lookup (fresh, IMAP_ID));
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add ("/ui/preferences/general", Fixture, NULL,
              fixture_set_up, test_general, fixture_tear_down);
  g_test_add ("/ui/preferences/pop3-rules", Fixture, NULL,
              fixture_set_up, test_pop3_rules, fixture_tear_down);
  g_test_add ("/ui/preferences/imap-offline", Fixture, NULL,
              fixture_set_up, test_imap_offline, fixture_tear_down);
  g_test_add ("/ui/preferences/signature", Fixture, NULL,
              fixture_set_up, test_signature, fixture_tear_down);
  g_test_add ("/ui/preferences/identities", Fixture, NULL,
              fixture_set_up, test_identities, fixture_tear_down);
  g_test_add ("/ui/preferences/invalid-port", Fixture, NULL,
              fixture_set_up, test_invalid_port, fixture_tear_down);
  g_test_add ("/ui/preferences/reopen", Fixture, NULL,
              fixture_set_up, test_reopen, fixture_tear_down);
  g_test_add ("/ui/preferences/certificates", Fixture, NULL,
              fixture_set_up, test_certificates, fixture_tear_down);
  g_test_add ("/ui/preferences/password", Fixture, NULL,
              fixture_set_up, test_password, fixture_tear_down);
  g_test_add ("/ui/preferences/remove-account", Fixture, NULL,
              fixture_set_up, test_remove_account, fixture_tear_down);

  return g_test_run ();
}
