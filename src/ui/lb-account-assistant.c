/* lb-account-assistant.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <glib/gi18n.h>

#include "lb-account-assistant.h"
#include "lb-certificate-dialog.h"
#include "lb-imap-client.h"
#include "lb-net-certificate.h"
#include "lb-pop3-client.h"
#include "lb-setup-advice.h"

/* The pages, in the order the user meets them:
 *
 *   account    name, address, password
 *   searching  the discovery runs (Stop or Back cancels it)
 *   found      what it found, and the probes tried under "Details"
 *   choose     IMAP or POP3: two questions, the recommendation, both
 *              options, the words, and POP3's "keep a copy"
 *   manual     every setting, reachable from every page, pre-filled
 *   verify     a real login with the password, the certificate dialog,
 *              the consent to an unencrypted password; then the password
 *              goes to the keyring, the account to the manager
 *
 * Back goes to the page the user came from (a history, so "found" is
 * skipped when going back from "choose", and "manual" returns to where it
 * was opened). The settings used by "verify" come from the discovery and
 * the choice, or from the manual page when that is where "Add" was
 * pressed. Every certificate the user accepts during the run is kept in
 * trusted[] ("host:port FINGERPRINT", as LbConnector takes them), so a
 * second attempt does not ask again. */

typedef struct
{
  char          *host;
  guint16        port;
  char          *fingerprint;
  gboolean       pin;
} Trust;

static void
trust_free (Trust *trust)
{
  g_free (trust->host);
  g_free (trust->fingerprint);
  g_free (trust);
}

struct _LbAccountAssistant
{
  AdwWindow          parent_instance;

  LbAccountManager  *manager;
  LbDiscovery       *discovery;
  LbSecrets         *secrets;

  GCancellable      *cancellable;   /* the discovery or verification running */
  LbDiscoveryResult *result;
  char              *result_address;
  guint              result_serial;
  guint              manual_serial;
  GPtrArray         *history;       /* page names (static strings) */
  GPtrArray         *trusted;       /* Trust */
  GString           *log;           /* the verification's steps, for Details */
  gboolean           plaintext_consent;
  gboolean           protocol_chosen;  /* the user picked one: stop following the advice */
  gboolean           keep_chosen;
  gboolean           updating;
  gboolean           busy;
  gboolean           disposed;

  /* the settings being verified */
  LbIncomingProtocol protocol;
  char              *host;
  guint16            port;
  LbNetSecurity      security;
  char              *user;
  char              *smtp_host;
  guint16            smtp_port;
  LbNetSecurity      smtp_security;
  char              *smtp_user;
  char              *password;      /* a copy while verifying, wiped after */

  /* the connection being tried */
  LbConnector       *connector;
  LbImapClient      *imap;
  LbPop3Client      *pop3;
  LbAccount         *account;       /* built once the login worked */

  GtkWidget         *back_button;
  GtkWidget         *next_button;
  GtkWidget         *manual_button;
  GtkStack          *stack;
  AdwEntryRow       *name_row;
  AdwEntryRow       *address_row;
  AdwEntryRow       *password_row;
  GtkLabel          *account_error_label;
  AdwStatusPage     *searching_page;
  GtkSpinner        *searching_spinner;
  AdwPreferencesGroup *found_group;
  GPtrArray         *found_rows;
  GtkLabel          *found_details_label;
  GtkSwitch         *other_devices_switch;
  GtkSwitch         *offline_switch;
  AdwPreferencesGroup *protocol_group;
  AdwActionRow      *imap_row;
  AdwActionRow      *pop3_row;
  GtkCheckButton    *imap_check;
  GtkCheckButton    *pop3_check;
  GtkWidget         *imap_recommended;
  GtkWidget         *pop3_recommended;
  GtkLabel          *explain_label;
  GtkWidget         *keep_group;
  GtkCheckButton    *keep_forever_check;
  GtkCheckButton    *keep_delete_check;
  GtkCheckButton    *keep_days_check;
  GtkSpinButton     *keep_days_spin;
  GtkLabel          *keep_label;
  AdwComboRow       *manual_protocol_row;
  AdwEntryRow       *manual_host_row;
  AdwEntryRow       *manual_port_row;
  AdwComboRow       *manual_security_row;
  AdwEntryRow       *manual_user_row;
  AdwEntryRow       *smtp_host_row;
  AdwEntryRow       *smtp_port_row;
  AdwComboRow       *smtp_security_row;
  AdwEntryRow       *smtp_user_row;
  GtkLabel          *manual_error_label;
  AdwStatusPage     *verify_page;
  GtkSpinner        *verify_spinner;
  GtkWidget         *change_password_button;
  GtkWidget         *verify_details;
  GtkLabel          *verify_details_label;
};

G_DEFINE_FINAL_TYPE (LbAccountAssistant, lb_account_assistant, ADW_TYPE_WINDOW)

enum {
  ACCOUNT_ADDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void verify_start (LbAccountAssistant *self);

/* ------------------------------------------------------------------ helpers */

static const char *
current_page (LbAccountAssistant *self)
{
  return gtk_stack_get_visible_child_name (self->stack);
}

static const char *
row_text (AdwEntryRow *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (row));
}

/* the text with spaces trimmed, NULL when empty */
static char *
row_dup_trimmed (AdwEntryRow *row)
{
  char *text = g_strstrip (g_strdup (row_text (row)));

  if (*text == '\0')
    g_clear_pointer (&text, g_free);
  return text;
}

static void
wipe_password (LbAccountAssistant *self)
{
  if (self->password != NULL)
    {
      memset (self->password, 0, strlen (self->password));
      g_clear_pointer (&self->password, g_free);
    }
}

static guint16
usual_port (LbServiceKind kind,
            LbNetSecurity security)
{
  gboolean tls = security == LB_NET_SECURITY_TLS;

  switch (kind)
    {
    case LB_SERVICE_IMAP:
      return tls ? 993 : 143;
    case LB_SERVICE_POP3:
      return tls ? 995 : 110;
    case LB_SERVICE_SUBMISSION:
      return tls ? 465 : 587;
    default:
      g_return_val_if_reached (0);
    }
}

static const char *
source_text (LbServerSource source)
{
  switch (source)
    {
    case LB_SERVER_SOURCE_SRV:
      return _("from your domain’s DNS records");
    case LB_SERVER_SOURCE_GUESS:
      return _("a usual server name");
    case LB_SERVER_SOURCE_MANUAL:
      return _("as entered");
    default:
      g_return_val_if_reached (NULL);
    }
}

static const char *
kind_text (LbServiceKind kind)
{
  switch (kind)
    {
    case LB_SERVICE_IMAP:
      return _("Incoming mail (IMAP)");
    case LB_SERVICE_POP3:
      return _("Incoming mail (POP3)");
    case LB_SERVICE_SUBMISSION:
      return _("Outgoing mail (SMTP)");
    default:
      g_return_val_if_reached (NULL);
    }
}

static void
append_probe (GString             *out,
              const LbServerProbe *probe)
{
  g_string_append_printf (out, "%s %s:%u, %s, %s: ",
                          lb_service_kind_to_string (probe->kind), probe->host, probe->port,
                          lb_net_security_to_string (probe->security), source_text (probe->source));
  if (probe->error != NULL)
    g_string_append (out, probe->error->message);
  else if (probe->certificate_errors != 0)
    {
      g_autofree char *reasons = lb_net_certificate_describe_errors (probe->certificate_errors);

      g_string_append_printf (out, _("answered; its certificate is not trusted: %s"), reasons);
    }
  else if (probe->plaintext_only)
    g_string_append (out, _("answered, without encryption"));
  else
    g_string_append (out, _("answered"));
  g_string_append_c (out, '\n');
}

static char *
describe_tried (LbDiscoveryResult *result)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; result != NULL && result->tried != NULL && i < result->tried->len; i++)
    append_probe (out, result->tried->pdata[i]);
  if (out->len == 0)
    g_string_append (out, _("Nothing was tried."));
  else
    g_string_truncate (out, out->len - 1);

  return g_string_free (out, FALSE);
}

static LbSetupOffers
offers_of (LbAccountAssistant *self)
{
  LbSetupOffers offers = LB_SETUP_OFFERS_NONE;

  if (self->result != NULL && self->result->imap != NULL)
    offers |= LB_SETUP_OFFERS_IMAP;
  if (self->result != NULL && self->result->pop3 != NULL)
    offers |= LB_SETUP_OFFERS_POP3;
  return offers;
}

/* ------------------------------------------------------------------ navigation */

static void
update_header (LbAccountAssistant *self)
{
  const char *page = current_page (self);
  gboolean on_verify = g_strcmp0 (page, "verify") == 0;
  gboolean adds = g_strcmp0 (page, "choose") == 0 || g_strcmp0 (page, "manual") == 0;
  gboolean can_next = !self->busy && !on_verify && g_strcmp0 (page, "searching") != 0;

  gtk_button_set_label (GTK_BUTTON (self->next_button), adds ? _("_Add") : _("_Next"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "assistant.next", can_next);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "assistant.back", self->history->len > 0);
  /* always reachable: it stops what runs */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "assistant.manual", g_strcmp0 (page, "manual") != 0);
  gtk_widget_set_visible (self->back_button, self->history->len > 0);
  gtk_widget_set_visible (self->manual_button, g_strcmp0 (page, "manual") != 0);
}

static void
focus_page (LbAccountAssistant *self,
            const char         *page)
{
  if (g_strcmp0 (page, "account") == 0)
    gtk_widget_grab_focus (GTK_WIDGET (*row_text (self->address_row) == '\0' && *row_text (self->name_row) == '\0'
                                       ? self->name_row : self->password_row));
  else if (g_strcmp0 (page, "manual") == 0)
    gtk_widget_grab_focus (GTK_WIDGET (self->manual_host_row));
  else if (g_strcmp0 (page, "choose") == 0)
    gtk_widget_grab_focus (GTK_WIDGET (self->other_devices_switch));
  else
    gtk_widget_grab_focus (self->next_button);
}

static void
show_page (LbAccountAssistant *self,
           const char         *page,
           gboolean            remember)
{
  const char *from = current_page (self);

  /* the searching page is never gone back to */
  if (remember && g_strcmp0 (from, "searching") != 0 && g_strcmp0 (from, "verify") != 0)
    g_ptr_array_add (self->history, (gpointer) g_intern_string (from));
  gtk_stack_set_visible_child_name (self->stack, page);
  update_header (self);
  focus_page (self, page);
}

static void
set_busy (LbAccountAssistant *self,
          gboolean            busy)
{
  self->busy = busy;
  gtk_spinner_set_spinning (self->searching_spinner, busy && g_strcmp0 (current_page (self), "searching") == 0);
  gtk_spinner_set_spinning (self->verify_spinner, busy && g_strcmp0 (current_page (self), "verify") == 0);
  gtk_widget_set_visible (GTK_WIDGET (self->verify_spinner), busy);
  update_header (self);
}

/* Stops the discovery or the verification running, if any. */
static void
stop_work (LbAccountAssistant *self)
{
  if (self->cancellable != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
    }
  if (self->imap != NULL)
    lb_imap_client_close (self->imap);
  if (self->pop3 != NULL)
    lb_pop3_client_close (self->pop3);
  g_clear_object (&self->imap);
  g_clear_object (&self->pop3);
  g_clear_object (&self->connector);
  g_clear_object (&self->account);
  wipe_password (self);
  set_busy (self, FALSE);
}

static GCancellable *
new_cancellable (LbAccountAssistant *self)
{
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  return self->cancellable;
}

/* Whether @result belongs to an operation that was stopped (Back,
 * Cancel, a new attempt, the window closing): its callback then leaves
 * everything alone. Every operation runs with self->cancellable. */
static gboolean
stale (LbAccountAssistant *self,
       GAsyncResult       *result)
{
  GCancellable *cancellable = G_IS_TASK (result) ? g_task_get_cancellable (G_TASK (result)) : NULL;

  if (self->disposed)
    return TRUE;
  return cancellable != NULL && (cancellable != self->cancellable || g_cancellable_is_cancelled (cancellable));
}

/* ------------------------------------------------------------------ the choice */

static LbIncomingProtocol
chosen_protocol (LbAccountAssistant *self)
{
  return gtk_check_button_get_active (self->pop3_check) ? LB_INCOMING_POP3 : LB_INCOMING_IMAP;
}

static LbSetupKeep
chosen_keep (LbAccountAssistant *self)
{
  if (gtk_check_button_get_active (self->keep_delete_check))
    return LB_SETUP_KEEP_DELETE;
  if (gtk_check_button_get_active (self->keep_days_check))
    return LB_SETUP_KEEP_DAYS;
  return LB_SETUP_KEEP_FOREVER;
}

static void
update_keep_text (LbAccountAssistant *self)
{
  g_autofree char *text = lb_setup_advice_keep_text (chosen_keep (self),
                                                     (guint) gtk_spin_button_get_value_as_int (self->keep_days_spin));

  gtk_label_set_label (self->keep_label, text);
  gtk_widget_set_sensitive (GTK_WIDGET (self->keep_days_spin), chosen_keep (self) == LB_SETUP_KEEP_DAYS);
}

static void
update_choice (LbAccountAssistant *self)
{
  LbSetupOffers offers = offers_of (self);
  LbSetupAdvice advice = lb_setup_advice_recommend (gtk_switch_get_active (self->other_devices_switch),
                                                    gtk_switch_get_active (self->offline_switch),
                                                    offers);
  gboolean found_any = offers != LB_SETUP_OFFERS_NONE;
  LbIncomingProtocol protocol;

  self->updating = TRUE;

  /* the recommendation's reason, right under the question it answers */
  adw_preferences_group_set_description (self->protocol_group, lb_setup_advice_reason_text (advice.reason));
  gtk_widget_set_visible (self->imap_recommended, advice.protocol == LB_INCOMING_IMAP);
  gtk_widget_set_visible (self->pop3_recommended, advice.protocol == LB_INCOMING_POP3);

  /* a protocol the server does not offer cannot be chosen here */
  gtk_widget_set_sensitive (GTK_WIDGET (self->imap_row), !found_any || (offers & LB_SETUP_OFFERS_IMAP));
  gtk_widget_set_sensitive (GTK_WIDGET (self->pop3_row), !found_any || (offers & LB_SETUP_OFFERS_POP3));
  adw_action_row_set_subtitle (self->imap_row,
                               found_any && !(offers & LB_SETUP_OFFERS_IMAP)
                               ? _("Your provider does not offer IMAP")
                               : lb_setup_advice_protocol_summary (LB_INCOMING_IMAP));
  adw_action_row_set_subtitle (self->pop3_row,
                               found_any && !(offers & LB_SETUP_OFFERS_POP3)
                               ? _("Your provider does not offer POP3")
                               : lb_setup_advice_protocol_summary (LB_INCOMING_POP3));

  if (!self->protocol_chosen || !advice.can_choose)
    {
      gtk_check_button_set_active (advice.protocol == LB_INCOMING_POP3 ? self->pop3_check : self->imap_check, TRUE);
      if (!advice.can_choose)
        self->protocol_chosen = FALSE;
    }
  if (!self->keep_chosen)
    gtk_check_button_set_active (advice.pop3_keep_on_server ? self->keep_forever_check : self->keep_delete_check, TRUE);

  protocol = chosen_protocol (self);
  gtk_label_set_label (self->explain_label, lb_setup_advice_protocol_details (protocol));
  gtk_widget_set_visible (self->keep_group, protocol == LB_INCOMING_POP3);
  update_keep_text (self);

  self->updating = FALSE;
}

static void
answers_changed_cb (LbAccountAssistant *self)
{
  update_choice (self);
}

static void
protocol_toggled_cb (LbAccountAssistant *self)
{
  if (!self->updating)
    {
      self->protocol_chosen = TRUE;
      update_choice (self);
    }
}

static void
keep_toggled_cb (LbAccountAssistant *self)
{
  if (!self->updating)
    self->keep_chosen = TRUE;
  update_keep_text (self);
}

/* ------------------------------------------------------------------ the found page */

static void
clear_found_rows (LbAccountAssistant *self)
{
  for (guint i = 0; i < self->found_rows->len; i++)
    adw_preferences_group_remove (self->found_group, self->found_rows->pdata[i]);
  g_ptr_array_set_size (self->found_rows, 0);
}

static void
add_found_row (LbAccountAssistant  *self,
               const LbServerProbe *probe)
{
  GtkWidget *row = adw_action_row_new ();
  g_autoptr(GString) subtitle = g_string_new (NULL);

  g_string_append_printf (subtitle, "%s:%u · %s", probe->host, probe->port,
                          lb_setup_advice_security_text (probe->plaintext_only ? LB_NET_SECURITY_NONE
                                                                               : probe->security));
  if (probe->certificate_errors != 0)
    g_string_append (subtitle, _(" · its certificate is not trusted: you will be asked"));
  else if (probe->plaintext_only)
    g_string_append (subtitle, _(" · your password would be sent unencrypted"));

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), kind_text (probe->kind));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name (probe->certificate_errors != 0 || probe->plaintext_only
                                                           ? "dialog-warning-symbolic" : "emblem-ok-symbolic"));
  adw_preferences_group_add (self->found_group, row);
  g_ptr_array_add (self->found_rows, row);
}

static void
fill_found (LbAccountAssistant *self)
{
  g_autofree char *tried = describe_tried (self->result);
  const char *address = self->result_address;

  clear_found_rows (self);
  if (self->result->imap != NULL)
    add_found_row (self, self->result->imap);
  if (self->result->pop3 != NULL)
    add_found_row (self, self->result->pop3);
  if (self->result->submission != NULL)
    add_found_row (self, self->result->submission);

  if (self->result->imap == NULL && self->result->pop3 == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("No incoming mail server was found for %s. Ask your "
                                                 "provider for its settings and enter them with "
                                                 "“Set Up Manually”."),
                                               address);

      adw_preferences_group_set_title (self->found_group, _("No Servers Found"));
      adw_preferences_group_set_description (self->found_group, text);
    }
  else
    {
      adw_preferences_group_set_title (self->found_group, _("Servers Found"));
      adw_preferences_group_set_description (self->found_group,
                                             self->result->submission == NULL
                                             ? _("No server for sending was found: you can add it in the manual settings.")
                                             : NULL);
    }
  gtk_label_set_label (self->found_details_label, tried);
}

/* ------------------------------------------------------------------ manual settings */

static void
set_combo_security (AdwComboRow  *row,
                    LbNetSecurity security)
{
  adw_combo_row_set_selected (row, security == LB_NET_SECURITY_TLS ? 0 : security == LB_NET_SECURITY_STARTTLS ? 1 : 2);
}

static LbNetSecurity
combo_security (AdwComboRow *row)
{
  switch (adw_combo_row_get_selected (row))
    {
    case 1:
      return LB_NET_SECURITY_STARTTLS;
    case 2:
      return LB_NET_SECURITY_NONE;
    default:
      return LB_NET_SECURITY_TLS;
    }
}

static void
set_port_text (AdwEntryRow *row,
               guint16      port)
{
  g_autofree char *text = port != 0 ? g_strdup_printf ("%u", port) : g_strdup ("");

  gtk_editable_set_text (GTK_EDITABLE (row), text);
}

/* Pre-fills the manual page with what the discovery found, once per
 * discovery: what the user typed there afterwards stays. */
static void
fill_manual (LbAccountAssistant *self)
{
  g_autofree char *address = row_dup_trimmed (self->address_row);
  const LbServerProbe *incoming = NULL;
  const LbServerProbe *smtp = NULL;

  if (self->manual_serial == self->result_serial && self->manual_serial != 0)
    return;
  self->manual_serial = self->result_serial;

  if (self->result != NULL)
    {
      incoming = chosen_protocol (self) == LB_INCOMING_POP3 && self->result->pop3 != NULL
                 ? self->result->pop3 : self->result->imap;
      if (incoming == NULL)
        incoming = self->result->pop3;
      smtp = self->result->submission;
    }

  if (incoming != NULL)
    {
      adw_combo_row_set_selected (self->manual_protocol_row, incoming->kind == LB_SERVICE_POP3 ? 1 : 0);
      gtk_editable_set_text (GTK_EDITABLE (self->manual_host_row), incoming->host);
      set_port_text (self->manual_port_row, incoming->port);
      set_combo_security (self->manual_security_row, incoming->plaintext_only ? LB_NET_SECURITY_NONE : incoming->security);
    }
  else if (address != NULL && strchr (address, '@') != NULL && *row_text (self->manual_host_row) == '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->manual_host_row), strchr (address, '@') + 1);

  if (smtp != NULL)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->smtp_host_row), smtp->host);
      set_port_text (self->smtp_port_row, smtp->port);
      set_combo_security (self->smtp_security_row, smtp->plaintext_only ? LB_NET_SECURITY_NONE : smtp->security);
    }

  if (*row_text (self->manual_user_row) == '\0' && address != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->manual_user_row), address);
  if (*row_text (self->smtp_user_row) == '\0' && address != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->smtp_user_row), address);
}

static gboolean
parse_port (AdwEntryRow *row,
            guint16     *out_port)
{
  g_autofree char *text = row_dup_trimmed (row);
  guint64 port = 0;

  if (text == NULL)
    {
      *out_port = 0;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (text, 10, 1, 65535, &port, NULL))
    return FALSE;
  *out_port = (guint16) port;
  return TRUE;
}

static void
clear_settings (LbAccountAssistant *self)
{
  g_clear_pointer (&self->host, g_free);
  g_clear_pointer (&self->user, g_free);
  g_clear_pointer (&self->smtp_host, g_free);
  g_clear_pointer (&self->smtp_user, g_free);
}

static gboolean
settings_from_manual (LbAccountAssistant *self)
{
  g_autofree char *host = row_dup_trimmed (self->manual_host_row);
  g_autofree char *smtp_host = row_dup_trimmed (self->smtp_host_row);
  const char *problem = NULL;
  guint16 port = 0, smtp_port = 0;

  if (host == NULL)
    problem = _("Enter the incoming mail server’s name.");
  else if (!parse_port (self->manual_port_row, &port) || !parse_port (self->smtp_port_row, &smtp_port))
    problem = _("A port is a number from 1 to 65535, or empty for the usual one.");
  else if (strchr (host, ' ') != NULL || (smtp_host != NULL && strchr (smtp_host, ' ') != NULL))
    problem = _("A server name has no spaces.");

  gtk_widget_set_visible (GTK_WIDGET (self->manual_error_label), problem != NULL);
  if (problem != NULL)
    {
      gtk_label_set_label (self->manual_error_label, problem);
      return FALSE;
    }

  clear_settings (self);
  self->protocol = adw_combo_row_get_selected (self->manual_protocol_row) == 1 ? LB_INCOMING_POP3 : LB_INCOMING_IMAP;
  self->host = g_steal_pointer (&host);
  self->security = combo_security (self->manual_security_row);
  self->port = port != 0 ? port : usual_port (self->protocol == LB_INCOMING_POP3 ? LB_SERVICE_POP3 : LB_SERVICE_IMAP,
                                              self->security);
  self->user = row_dup_trimmed (self->manual_user_row);
  if (self->user == NULL)
    self->user = row_dup_trimmed (self->address_row);
  self->smtp_host = g_steal_pointer (&smtp_host);
  self->smtp_security = combo_security (self->smtp_security_row);
  self->smtp_port = smtp_port != 0 ? smtp_port : usual_port (LB_SERVICE_SUBMISSION, self->smtp_security);
  self->smtp_user = row_dup_trimmed (self->smtp_user_row);
  if (self->smtp_user == NULL)
    self->smtp_user = g_strdup (self->user);
  return TRUE;
}

static void
settings_from_choice (LbAccountAssistant *self)
{
  const LbServerProbe *incoming;
  g_autofree char *address = row_dup_trimmed (self->address_row);

  self->protocol = chosen_protocol (self);
  incoming = self->protocol == LB_INCOMING_POP3 ? self->result->pop3 : self->result->imap;
  g_return_if_fail (incoming != NULL);

  clear_settings (self);
  self->host = g_strdup (incoming->host);
  self->port = incoming->port;
  self->security = incoming->plaintext_only ? LB_NET_SECURITY_NONE : incoming->security;
  self->user = g_strdup (address);
  if (self->result->submission != NULL)
    {
      self->smtp_host = g_strdup (self->result->submission->host);
      self->smtp_port = self->result->submission->port;
      self->smtp_security = self->result->submission->plaintext_only ? LB_NET_SECURITY_NONE
                                                                     : self->result->submission->security;
      self->smtp_user = g_strdup (address);
    }
}

/* ------------------------------------------------------------------ discovery */

static void
discover_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(LbAccountAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  LbDiscoveryResult *found;

  found = lb_discovery_discover_finish (LB_DISCOVERY (object), result, &error);
  if (stale (self, result))
    {
      g_clear_pointer (&found, lb_discovery_result_free);
      return;
    }
  if (found == NULL)
    {
      /* no domain: say so where the address is typed */
      set_busy (self, FALSE);
      gtk_label_set_label (self->account_error_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->account_error_label), TRUE);
      g_ptr_array_set_size (self->history, 0);
      show_page (self, "account", FALSE);
      return;
    }

  g_clear_pointer (&self->result, lb_discovery_result_free);
  self->result = found;
  self->result_serial++;
  g_clear_object (&self->cancellable);
  set_busy (self, FALSE);

  self->protocol_chosen = FALSE;
  fill_found (self);
  update_choice (self);
  show_page (self, "found", TRUE);
}

static void
start_discovery (LbAccountAssistant *self,
                 const char         *address)
{
  GCancellable *cancellable;

  stop_work (self);
  cancellable = new_cancellable (self);
  g_free (self->result_address);
  self->result_address = g_strdup (address);

  show_page (self, "searching", TRUE);
  adw_status_page_set_description (self->searching_page,
                                   _("Letterbox asks your domain’s DNS for its mail servers, then tries "
                                     "the usual server names, connecting to each."));
  set_busy (self, TRUE);
  lb_discovery_discover_async (self->discovery, address, cancellable, discover_cb, g_object_ref (self));
}

/* ------------------------------------------------------------------ verification */

static void
log_step (LbAccountAssistant *self,
          const char         *format,
          ...) G_GNUC_PRINTF (2, 3);

static void
log_step (LbAccountAssistant *self,
          const char         *format,
          ...)
{
  va_list args;

  va_start (args, format);
  g_string_append_vprintf (self->log, format, args);
  va_end (args);
  g_string_append_c (self->log, '\n');
  gtk_label_set_label (self->verify_details_label, self->log->str);
}

static void
verify_fail (LbAccountAssistant *self,
             const char         *title,
             const char         *message,
             gboolean            wrong_password)
{
  g_autofree char *details = NULL;

  g_debug ("verification failed: %s", message);
  stop_work (self);
  if (self->result != NULL)
    {
      g_autofree char *tried = describe_tried (self->result);

      details = g_strconcat (self->log->str, "\n", _("Servers tried:"), "\n", tried, NULL);
    }
  else
    details = g_strdup (self->log->str);
  gtk_label_set_label (self->verify_details_label, details);

  adw_status_page_set_icon_name (self->verify_page, "dialog-error-symbolic");
  adw_status_page_set_title (self->verify_page, title);
  adw_status_page_set_description (self->verify_page, message);
  gtk_widget_set_visible (self->change_password_button, wrong_password);
  gtk_widget_set_visible (self->verify_details, TRUE);
  gtk_widget_grab_focus (wrong_password ? self->change_password_button : self->back_button);
}

static void
verify_fail_error (LbAccountAssistant *self,
                   const GError       *error)
{
  g_autofree char *message = NULL;

  if (g_error_matches (error, LB_IMAP_ERROR, LB_IMAP_ERROR_AUTHENTICATION) ||
      g_error_matches (error, LB_POP3_ERROR, LB_POP3_ERROR_AUTHENTICATION))
    {
      message = g_strdup_printf (_("The server did not accept the password for “%s”. Check the password "
                                   "(and the user name, under “Set Up Manually”)."),
                                 self->user);
      log_step (self, "%s", error->message);
      verify_fail (self, _("Wrong Password"), message, TRUE);
      return;
    }

  message = g_strdup_printf (_("Could not log in to %s: %s"), self->host, error->message);
  log_step (self, "%s", error->message);
  verify_fail (self, _("Could Not Add the Account"), message, FALSE);
}

static char **
trusted_pins (LbAccountAssistant *self)
{
  GPtrArray *pins = g_ptr_array_new ();

  for (guint i = 0; i < self->trusted->len; i++)
    {
      Trust *trust = self->trusted->pdata[i];
      g_autofree char *lower = g_utf8_strdown (trust->host, -1);

      g_ptr_array_add (pins, g_strdup_printf ("%s:%u %s", lower, trust->port, trust->fingerprint));
    }
  g_ptr_array_add (pins, NULL);
  return (char **) g_ptr_array_free (pins, FALSE);
}

static void
add_trust (LbAccountAssistant *self,
           const char         *host,
           guint16             port,
           const char         *fingerprint,
           gboolean            pin)
{
  Trust *trust = g_new0 (Trust, 1);

  for (guint i = self->trusted->len; i > 0; i--)
    {
      Trust *old = self->trusted->pdata[i - 1];

      if (old->port == port && g_ascii_strcasecmp (old->host, host) == 0)
        g_ptr_array_remove_index (self->trusted, i - 1);
    }
  trust->host = g_strdup (host);
  trust->port = port;
  trust->fingerprint = g_strdup (fingerprint);
  trust->pin = pin;
  g_ptr_array_add (self->trusted, trust);
}

typedef struct
{
  LbAccountAssistant *self;
  char               *fingerprint;
} CertData;

static void
cert_data_free (CertData *data)
{
  g_object_unref (data->self);
  g_free (data->fingerprint);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CertData, cert_data_free)

static void
certificate_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(CertData) data = user_data;
  LbAccountAssistant *self = data->self;
  g_autoptr(GError) error = NULL;
  LbCertificateDecision decision;

  decision = lb_certificate_dialog_run_finish (result, &error);
  if (stale (self, result))
    return;

  switch (decision)
    {
    case LB_CERTIFICATE_ACCEPT_ONCE:
      log_step (self, _("Certificate %s accepted for this session"), data->fingerprint);
      add_trust (self, self->host, self->port, data->fingerprint, FALSE);
      verify_start (self);
      break;
    case LB_CERTIFICATE_PIN:
      log_step (self, _("Certificate %s trusted from now on"), data->fingerprint);
      add_trust (self, self->host, self->port, data->fingerprint, TRUE);
      verify_start (self);
      break;
    case LB_CERTIFICATE_REJECT:
    default:
      verify_fail (self, _("Certificate Rejected"),
                   _("No account was added: the server’s certificate was not trusted. If your provider "
                     "uses another server name, enter it under “Set Up Manually”."),
                   FALSE);
      break;
    }
}

/* After a failure: when the cause was a certificate the connector
 * refused, asks about it (and returns TRUE). */
static gboolean
ask_about_certificate (LbAccountAssistant *self)
{
  g_autoptr(GTlsCertificate) certificate = NULL;
  GTlsCertificateFlags errors = 0;
  CertData *data;

  if (self->connector == NULL)
    return FALSE;
  certificate = lb_connector_dup_rejected_certificate (self->connector, self->host, self->port, &errors);
  if (certificate == NULL)
    return FALSE;

  data = g_new0 (CertData, 1);
  data->self = g_object_ref (self);
  data->fingerprint = lb_net_certificate_fingerprint (certificate);
  log_step (self, _("The certificate of %s:%u is not trusted (%s)"), self->host, self->port, data->fingerprint);
  lb_certificate_dialog_run_async (GTK_WINDOW (self), self->host, self->port, certificate, errors,
                                   self->cancellable, certificate_cb, data);
  return TRUE;
}

static void
step_failed (LbAccountAssistant *self,
             GError             *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (ask_about_certificate (self))
    {
      /* the connection that failed is of no more use */
      g_clear_object (&self->imap);
      g_clear_object (&self->pop3);
      return;
    }
  verify_fail_error (self, error);
}

/* Whether verifying goes on after a step that ended with @result (@ok):
 * not when the step is stale, nor when it failed, which step_failed()
 * then handles with @error. */
static gboolean
step_done (LbAccountAssistant *self,
           GAsyncResult       *result,
           gboolean            ok,
           GError             *error)
{
  if (stale (self, result))
    return FALSE;
  if (!ok)
    {
      step_failed (self, error);
      return FALSE;
    }
  return TRUE;
}

/* -- saving */

static void
add_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(LbAccountAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(LbAccount) account = NULL;

  gboolean ok;

  ok = lb_account_manager_add_finish (LB_ACCOUNT_MANAGER (object), result, &error);
  if (stale (self, result))
    return;
  if (!ok)
    {
      g_autofree char *message = NULL;

      message = g_strdup_printf (_("The account could not be saved: %s"), error->message);
      verify_fail (self, _("Could Not Add the Account"), message, FALSE);
      return;
    }

  account = g_steal_pointer (&self->account);
  log_step (self, _("Account “%s” added"), lb_account_get_id (account));
  stop_work (self);
  g_signal_emit (self, signals[ACCOUNT_ADDED], 0, account);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void store_next_password (LbAccountAssistant *self,
                                 gboolean            smtp_done);

static void
store_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(LbAccountAssistant) self = user_data;
  g_autoptr(GError) error = NULL;

  gboolean ok;

  ok = lb_secrets_store_finish (LB_SECRETS (object), result, &error);
  if (stale (self, result))
    return;
  if (!ok)
    {
      g_autofree char *message = NULL;

      message = g_strdup_printf (_("Your password could not be saved in the keyring, so no account was "
                                   "added: %s"), error->message);
      verify_fail (self, _("Could Not Save the Password"), message, FALSE);
      return;
    }

  store_next_password (self, TRUE);
}

static void
store_password (LbAccountAssistant *self,
                const char         *protocol,
                const char         *host,
                const char         *user)
{
  LbSecretKey key = { lb_account_get_id (self->account), protocol, host, user };
  g_autofree char *label = NULL;

  /* Translators: the name the keyring shows for a saved password:
   * “Letterbox: imap password for alice@example.org” */
  label = g_strdup_printf (_("Letterbox: %s password for %s"), protocol, user != NULL ? user : host);
  lb_secrets_store_async (self->secrets, &key, label, self->password, self->cancellable,
                          store_cb, g_object_ref (self));
}

/* The incoming password first, then the SMTP one (the same password),
 * then the account. */
static void
store_next_password (LbAccountAssistant *self,
                     gboolean            incoming_done)
{
  const char *protocol = lb_incoming_protocol_to_string (self->protocol);

  if (!incoming_done)
    {
      log_step (self, _("Saving the password in the keyring"));
      store_password (self, protocol, self->host, self->user);
      return;
    }
  if (self->smtp_host != NULL && !g_object_get_data (G_OBJECT (self->account), "lb-smtp-stored"))
    {
      g_object_set_data (G_OBJECT (self->account), "lb-smtp-stored", GINT_TO_POINTER (TRUE));
      store_password (self, "smtp", self->smtp_host, self->smtp_user);
      return;
    }

  wipe_password (self);
  log_step (self, _("Adding the account"));
  lb_account_manager_add_async (self->manager, self->account, self->cancellable, add_cb, g_object_ref (self));
}

static void
save_account (LbAccountAssistant *self)
{
  g_autofree char *address = row_dup_trimmed (self->address_row);
  g_autofree char *name = row_dup_trimmed (self->name_row);
  g_autofree char *id = lb_account_manager_make_id (self->manager, address);
  g_autoptr(LbIdentity) identity = lb_identity_new (name, address);
  g_autoptr(GError) error = NULL;
  LbAccount *account;

  g_clear_object (&self->account);
  account = self->account = lb_account_new (id);
  lb_account_add_identity (account, identity);
  lb_account_set_display_name (account, address);
  lb_account_set_incoming_protocol (account, self->protocol);
  lb_account_set_incoming_host (account, self->host);
  lb_account_set_incoming_port (account, self->port);
  lb_account_set_incoming_security (account, self->security);
  lb_account_set_incoming_user (account, self->user);
  lb_account_set_allow_plaintext_password (account, self->security == LB_NET_SECURITY_NONE);

  if (self->protocol == LB_INCOMING_POP3)
    {
      LbSetupKeep keep = chosen_keep (self);

      lb_account_set_pop3_keep_on_server (account, keep != LB_SETUP_KEEP_DELETE);
      lb_account_set_pop3_delete_after_days (account, keep == LB_SETUP_KEEP_DAYS
                                                      ? (guint) gtk_spin_button_get_value_as_int (self->keep_days_spin)
                                                      : 0);
    }
  else
    {
      LbSetupAdvice advice = lb_setup_advice_recommend (gtk_switch_get_active (self->other_devices_switch),
                                                        gtk_switch_get_active (self->offline_switch),
                                                        LB_SETUP_OFFERS_IMAP);

      lb_account_set_offline_days (account, advice.imap_offline_days);
    }

  if (self->smtp_host != NULL)
    {
      lb_account_set_smtp_host (account, self->smtp_host);
      lb_account_set_smtp_port (account, self->smtp_port);
      lb_account_set_smtp_security (account, self->smtp_security);
      lb_account_set_smtp_user (account, self->smtp_user);
    }

  for (guint i = 0; i < self->trusted->len; i++)
    {
      Trust *trust = self->trusted->pdata[i];

      if (trust->pin)
        lb_account_pin_certificate (account, trust->host, trust->port, trust->fingerprint);
      else
        lb_account_trust_certificate_once (account, trust->host, trust->port, trust->fingerprint);
    }

  if (!lb_account_validate (account, &error))
    {
      verify_fail (self, _("Could Not Add the Account"), error->message, FALSE);
      return;
    }

  store_next_password (self, FALSE);
}

/* -- IMAP */

static void
imap_logout_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(LbAccountAssistant) self = user_data;
  g_autoptr(GError) error = NULL;

  /* logged in already: a failed LOGOUT changes nothing */
  lb_imap_client_logout_finish (LB_IMAP_CLIENT (object), result, &error);
  if (stale (self, result))
    return;
  g_clear_object (&self->imap);
  save_account (self);
}

static void
imap_login_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(LbAccountAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = lb_imap_client_login_finish (LB_IMAP_CLIENT (object), result, &error);
  if (!step_done (self, result, ok, error))
    return;
  log_step (self, _("Logged in"));
  lb_imap_client_logout_async (self->imap, self->cancellable, imap_logout_cb, g_object_ref (self));
}

static void
imap_login (LbAccountAssistant *self)
{
  log_step (self, _("Logging in as %s"), self->user);
  lb_imap_client_login_async (self->imap, self->user, self->password, self->cancellable,
                              imap_login_cb, g_object_ref (self));
}

static void
imap_starttls_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(LbAccountAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = lb_imap_client_starttls_finish (LB_IMAP_CLIENT (object), result, &error);
  if (!step_done (self, result, ok, error))
    return;
  imap_login (self);
}

static void
imap_greet_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(LbAccountAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = lb_imap_client_greet_finish (LB_IMAP_CLIENT (object), result, &error);
  if (!step_done (self, result, ok, error))
    return;
  if (self->security == LB_NET_SECURITY_STARTTLS)
    {
      log_step (self, _("Starting TLS"));
      lb_imap_client_starttls_async (self->imap, self->connector, self->host, self->port, self->cancellable,
                                     imap_starttls_cb, g_object_ref (self));
      return;
    }
  imap_login (self);
}

/* -- POP3 */

static void
pop3_quit_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(LbAccountAssistant) self = user_data;
  g_autoptr(GError) error = NULL;

  lb_pop3_client_quit_finish (LB_POP3_CLIENT (object), result, &error);
  if (stale (self, result))
    return;
  g_clear_object (&self->pop3);
  save_account (self);
}

static void
pop3_login_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(LbAccountAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = lb_pop3_client_login_finish (LB_POP3_CLIENT (object), result, &error);
  if (!step_done (self, result, ok, error))
    return;
  log_step (self, _("Logged in"));
  lb_pop3_client_quit_async (self->pop3, self->cancellable, pop3_quit_cb, g_object_ref (self));
}

static void
pop3_login (LbAccountAssistant *self)
{
  log_step (self, _("Logging in as %s"), self->user);
  lb_pop3_client_login_async (self->pop3, LB_POP3_AUTH_AUTO, self->user, self->password, self->cancellable,
                              pop3_login_cb, g_object_ref (self));
}

static void
pop3_stls_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(LbAccountAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = lb_pop3_client_stls_finish (LB_POP3_CLIENT (object), result, &error);
  if (!step_done (self, result, ok, error))
    return;
  pop3_login (self);
}

static void
pop3_capa_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(LbAccountAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = lb_pop3_client_capa_finish (LB_POP3_CLIENT (object), result, &error);
  if (!step_done (self, result, ok, error))
    return;
  if (self->security == LB_NET_SECURITY_STARTTLS)
    {
      log_step (self, _("Starting TLS"));
      lb_pop3_client_stls_async (self->pop3, self->connector, self->host, self->port, self->cancellable,
                                 pop3_stls_cb, g_object_ref (self));
      return;
    }
  pop3_login (self);
}

static void
pop3_greet_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(LbAccountAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  ok = lb_pop3_client_greet_finish (LB_POP3_CLIENT (object), result, &error);
  if (!step_done (self, result, ok, error))
    return;
  lb_pop3_client_capa_async (self->pop3, self->cancellable, pop3_capa_cb, g_object_ref (self));
}

/* -- connecting */

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(LbAccountAssistant) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOStream) stream = NULL;

  stream = lb_connector_connect_finish (LB_CONNECTOR (object), result, &error);
  if (!step_done (self, result, stream != NULL, error))
    return;

  if (self->protocol == LB_INCOMING_IMAP)
    {
      self->imap = lb_imap_client_new (stream);
      lb_imap_client_greet_async (self->imap, self->cancellable, imap_greet_cb, g_object_ref (self));
    }
  else
    {
      self->pop3 = lb_pop3_client_new (stream);
      lb_pop3_client_greet_async (self->pop3, self->cancellable, pop3_greet_cb, g_object_ref (self));
    }
}

static void
verify_connect (LbAccountAssistant *self)
{
  g_auto(GStrv) pins = trusted_pins (self);

  g_clear_object (&self->connector);
  self->connector = lb_connector_new ();
  lb_connector_set_pinned_fingerprints (self->connector, (const char * const *) pins);
  log_step (self, _("Connecting to %s:%u (%s)"), self->host, self->port, lb_net_security_to_string (self->security));
  lb_connector_connect_async (self->connector, self->host, self->port, self->security, self->cancellable,
                              connect_cb, g_object_ref (self));
}

static void
plaintext_cb (AdwMessageDialog   *dialog,
              const char         *response,
              LbAccountAssistant *self)
{
  /* (a button closes it too; destroying twice is harmless) */
  gtk_window_destroy (GTK_WINDOW (dialog));
  if (self->disposed)
    return;
  if (g_strcmp0 (response, "send") == 0)
    {
      self->plaintext_consent = TRUE;
      log_step (self, _("You allowed sending the password unencrypted"));
      verify_connect (self);
    }
  else
    verify_fail (self, _("No Encryption"),
                 _("No account was added: this server takes your password only unencrypted, where "
                   "others on the network can read it. Ask your provider for an encrypted setting."),
                 FALSE);
}

static void
ask_plaintext_consent (LbAccountAssistant *self)
{
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), _("Send Your Password Unencrypted?"), NULL));
  adw_message_dialog_format_body (dialog,
                                  _("The server %s does not offer encryption. Your password and your mail "
                                    "would travel in plain text: anyone on the network between you and the "
                                    "server could read them and use your account."),
                                  self->host);
  adw_message_dialog_add_responses (dialog,
                                    "cancel", _("_Cancel"),
                                    "send", _("_Send Unencrypted"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "send", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (plaintext_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Logs in for real (again after a certificate was accepted). */
static void
verify_start (LbAccountAssistant *self)
{
  if (self->password == NULL)
    self->password = g_strdup (row_text (ADW_ENTRY_ROW (self->password_row)));
  if (self->cancellable == NULL)
    new_cancellable (self);
  set_busy (self, TRUE);

  if (self->security == LB_NET_SECURITY_NONE && !self->plaintext_consent)
    {
      ask_plaintext_consent (self);
      return;
    }
  verify_connect (self);
}

static void
begin_verify (LbAccountAssistant *self)
{
  stop_work (self);
  g_string_truncate (self->log, 0);
  gtk_label_set_label (self->verify_details_label, "");
  adw_status_page_set_icon_name (self->verify_page, NULL);
  adw_status_page_set_title (self->verify_page, _("Checking Your Account…"));
  adw_status_page_set_description (self->verify_page,
                                   _("Letterbox logs in with your password to make sure everything works."));
  gtk_widget_set_visible (self->change_password_button, FALSE);
  gtk_widget_set_visible (self->verify_details, FALSE);
  show_page (self, "verify", TRUE);
  verify_start (self);
}

/* ------------------------------------------------------------------ actions */

static void
next_from_account (LbAccountAssistant *self)
{
  g_autofree char *address = row_dup_trimmed (self->address_row);
  const char *at = address != NULL ? strrchr (address, '@') : NULL;
  const char *problem = NULL;

  if (address == NULL)
    problem = _("Enter your email address.");
  else if (at == NULL || at == address || at[1] == '\0' || strchr (address, ' ') != NULL)
    problem = _("An email address looks like name@example.org.");
  else if (*row_text (ADW_ENTRY_ROW (self->password_row)) == '\0')
    problem = _("Enter your password.");

  gtk_widget_set_visible (GTK_WIDGET (self->account_error_label), problem != NULL);
  if (problem != NULL)
    {
      gtk_label_set_label (self->account_error_label, problem);
      return;
    }

  /* the same address: what was found still holds */
  if (self->result != NULL && g_strcmp0 (self->result_address, address) == 0)
    {
      show_page (self, "found", TRUE);
      return;
    }
  start_discovery (self, address);
}

static void
next_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  LbAccountAssistant *self = LB_ACCOUNT_ASSISTANT (widget);
  const char *page = current_page (self);

  if (self->busy)
    return;

  if (g_strcmp0 (page, "account") == 0)
    next_from_account (self);
  else if (g_strcmp0 (page, "found") == 0)
    {
      if (offers_of (self) == LB_SETUP_OFFERS_NONE)
        {
          fill_manual (self);
          show_page (self, "manual", TRUE);
        }
      else
        show_page (self, "choose", TRUE);
    }
  else if (g_strcmp0 (page, "choose") == 0)
    {
      if (offers_of (self) == LB_SETUP_OFFERS_NONE)
        {
          fill_manual (self);
          show_page (self, "manual", TRUE);
          return;
        }
      settings_from_choice (self);
      begin_verify (self);
    }
  else if (g_strcmp0 (page, "manual") == 0)
    {
      if (*row_text (ADW_ENTRY_ROW (self->password_row)) == '\0' || *row_text (self->address_row) == '\0')
        {
          g_ptr_array_set_size (self->history, 0);
          show_page (self, "account", FALSE);
          next_from_account (self);
          return;
        }
      if (settings_from_manual (self))
        begin_verify (self);
    }
}

static void
back_activated (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  LbAccountAssistant *self = LB_ACCOUNT_ASSISTANT (widget);
  const char *page;

  if (self->history->len == 0)
    return;

  stop_work (self);
  page = g_ptr_array_steal_index (self->history, self->history->len - 1);
  show_page (self, page, FALSE);
}

static void
cancel_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  LbAccountAssistant *self = LB_ACCOUNT_ASSISTANT (widget);

  stop_work (self);
  gtk_window_close (GTK_WINDOW (self));
}

static void
manual_activated (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  LbAccountAssistant *self = LB_ACCOUNT_ASSISTANT (widget);

  if (g_strcmp0 (current_page (self), "manual") == 0)
    return;
  if (self->busy)
    stop_work (self);
  fill_manual (self);
  show_page (self, "manual", TRUE);
}

static void
change_password_activated (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  LbAccountAssistant *self = LB_ACCOUNT_ASSISTANT (widget);

  stop_work (self);
  g_ptr_array_set_size (self->history, 0);
  show_page (self, "account", FALSE);
  gtk_editable_select_region (GTK_EDITABLE (self->password_row), 0, -1);
  gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
}

static void
entry_activated_cb (LbAccountAssistant *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "assistant.next", NULL);
}

/* ------------------------------------------------------------------ GObject */

/* Destroys the dialogs shown over the assistant. */
static void
destroy_dialogs (LbAccountAssistant *self)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  g_autoptr(GPtrArray) dialogs = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) window = g_list_model_get_item (toplevels, i);

      if (gtk_window_get_transient_for (window) == GTK_WINDOW (self))
        g_ptr_array_add (dialogs, g_object_ref (window));
    }
  for (guint i = 0; i < dialogs->len; i++)
    gtk_window_destroy (dialogs->pdata[i]);
}

static void
lb_account_assistant_dispose (GObject *object)
{
  LbAccountAssistant *self = LB_ACCOUNT_ASSISTANT (object);

  self->disposed = TRUE;
  /* the certificate and consent dialogs go first, while their parent is
   * still whole */
  destroy_dialogs (self);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->imap != NULL)
    lb_imap_client_close (self->imap);
  if (self->pop3 != NULL)
    lb_pop3_client_close (self->pop3);
  g_clear_object (&self->imap);
  g_clear_object (&self->pop3);
  g_clear_object (&self->connector);
  g_clear_object (&self->account);
  wipe_password (self);

  gtk_widget_dispose_template (GTK_WIDGET (self), LB_TYPE_ACCOUNT_ASSISTANT);

  G_OBJECT_CLASS (lb_account_assistant_parent_class)->dispose (object);
}

static void
lb_account_assistant_finalize (GObject *object)
{
  LbAccountAssistant *self = LB_ACCOUNT_ASSISTANT (object);

  g_clear_object (&self->manager);
  g_clear_object (&self->discovery);
  g_clear_object (&self->secrets);
  g_clear_pointer (&self->result, lb_discovery_result_free);
  g_free (self->result_address);
  g_ptr_array_unref (self->history);
  g_ptr_array_unref (self->trusted);
  g_ptr_array_unref (self->found_rows);
  g_string_free (self->log, TRUE);
  clear_settings (self);

  G_OBJECT_CLASS (lb_account_assistant_parent_class)->finalize (object);
}

static void
lb_account_assistant_class_init (LbAccountAssistantClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lb_account_assistant_dispose;
  object_class->finalize = lb_account_assistant_finalize;

  /**
   * LbAccountAssistant::account-added:
   * @account: the account, in the manager, its password in the keyring
   *
   * The account was added; the assistant closes itself next.
   */
  signals[ACCOUNT_ADDED] =
    g_signal_new ("account-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, LB_TYPE_ACCOUNT);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/letterbox/Letterbox/lb-account-assistant.ui");
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, back_button);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, next_button);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, manual_button);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, stack);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, name_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, address_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, password_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, account_error_label);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, searching_page);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, searching_spinner);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, found_group);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, found_details_label);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, other_devices_switch);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, offline_switch);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, protocol_group);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, imap_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, pop3_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, imap_check);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, pop3_check);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, imap_recommended);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, pop3_recommended);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, explain_label);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, keep_group);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, keep_forever_check);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, keep_delete_check);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, keep_days_check);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, keep_days_spin);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, keep_label);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, manual_protocol_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, manual_host_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, manual_port_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, manual_security_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, manual_user_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, smtp_host_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, smtp_port_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, smtp_security_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, smtp_user_row);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, manual_error_label);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, verify_page);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, verify_spinner);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, change_password_button);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, verify_details);
  gtk_widget_class_bind_template_child (widget_class, LbAccountAssistant, verify_details_label);
  gtk_widget_class_bind_template_callback (widget_class, answers_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, protocol_toggled_cb);
  gtk_widget_class_bind_template_callback (widget_class, keep_toggled_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_activated_cb);

  gtk_widget_class_install_action (widget_class, "assistant.next", NULL, next_activated);
  gtk_widget_class_install_action (widget_class, "assistant.back", NULL, back_activated);
  gtk_widget_class_install_action (widget_class, "assistant.cancel", NULL, cancel_activated);
  gtk_widget_class_install_action (widget_class, "assistant.manual", NULL, manual_activated);
  gtk_widget_class_install_action (widget_class, "assistant.change-password", NULL, change_password_activated);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "assistant.cancel", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_m, GDK_ALT_MASK, "assistant.manual", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_ALT_MASK, "assistant.back", NULL);
}

static void
lb_account_assistant_init (LbAccountAssistant *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->history = g_ptr_array_new ();
  self->trusted = g_ptr_array_new_with_free_func ((GDestroyNotify) trust_free);
  self->found_rows = g_ptr_array_new ();
  self->log = g_string_new (NULL);
  self->smtp_security = LB_NET_SECURITY_TLS;

  gtk_window_set_default_widget (GTK_WINDOW (self), self->next_button);
  gtk_stack_set_visible_child_name (self->stack, "account");
  update_choice (self);
  update_header (self);
}

/**
 * lb_account_assistant_new:
 * @parent: (nullable): the window the assistant is modal for
 * @manager: where the account is added
 * @discovery: finds and probes the servers
 * @secrets: keeps the password
 *
 * Returns: (transfer none): the assistant, not shown yet (present it); it
 *   destroys itself when done or cancelled
 */
LbAccountAssistant *
lb_account_assistant_new (GtkWindow        *parent,
                          LbAccountManager *manager,
                          LbDiscovery      *discovery,
                          LbSecrets        *secrets)
{
  LbAccountAssistant *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (manager), NULL);
  g_return_val_if_fail (LB_IS_DISCOVERY (discovery), NULL);
  g_return_val_if_fail (LB_IS_SECRETS (secrets), NULL);

  self = g_object_new (LB_TYPE_ACCOUNT_ASSISTANT,
                       "transient-for", parent,
                       NULL);
  self->manager = g_object_ref (manager);
  self->discovery = g_object_ref (discovery);
  self->secrets = g_object_ref (secrets);
  focus_page (self, "account");

  return self;
}
