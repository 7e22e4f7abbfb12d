/* test-account-assistant.c: the account assistant on a real X server,
 * driven through its widgets and actions, against the harness's Dovecot
 * (found through SRV records a test resolver serves for example.test), its
 * keyring and its throwaway certificate
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>

#include "lb-account-assistant.h"
#include "lb-net-certificate.h"
#include "lb-setup-advice.h"
#include "lb-test-session.h"
#include "lb-test-ui.h"

/* ------------------------------------------------------------------ a resolver for example.test */

/* Serves the RFC 6186 SRV records of example.test, all pointing at
 * 127.0.0.1 and the harness's ports, after a short delay (so that the
 * "looking for your servers" page is seen); every other name does not
 * exist, so nothing is asked of a real DNS server. */

#define TEST_TYPE_RESOLVER (test_resolver_get_type ())
G_DECLARE_FINAL_TYPE (TestResolver, test_resolver, TEST, RESOLVER, GResolver)

struct _TestResolver
{
  GResolver   parent_instance;
  GHashTable *ports;   /* "_imaps._tcp.example.test" -> port */
};

G_DEFINE_FINAL_TYPE (TestResolver, test_resolver, G_TYPE_RESOLVER)

#define RESOLVER_DELAY_MS 600

static guint16
env_port (const char *name)
{
  const char *value = g_getenv (name);

  if (value == NULL)
    g_error ("%s is not set: run under tests/harness/lb-test-env --dovecot --smtp", name);
  return (guint16) g_ascii_strtoull (value, NULL, 10);
}

static void
srv_targets_free (GList *targets)
{
  g_list_free_full (targets, (GDestroyNotify) g_srv_target_free);
}

static void
records_free (GList *records)
{
  g_list_free_full (records, (GDestroyNotify) g_variant_unref);
}

static void
addresses_free (GList *addresses)
{
  g_list_free_full (addresses, g_object_unref);
}

static guint16
lookup_port (TestResolver *self,
             const char   *rrname)
{
  g_autofree char *lower = g_ascii_strdown (rrname, -1);

  return (guint16) GPOINTER_TO_UINT (g_hash_table_lookup (self->ports, lower));
}

static GList *
service_targets (TestResolver  *self,
                 const char    *rrname,
                 GError       **error)
{
  guint16 port = lookup_port (self, rrname);

  if (port == 0)
    {
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "No SRV record for %s", rrname);
      return NULL;
    }
  return g_list_prepend (NULL, g_srv_target_new ("127.0.0.1", port, 0, 0));
}

static GList *
service_records (TestResolver         *self,
                 const char           *rrname,
                 GResolverRecordType   type,
                 GError              **error)
{
  guint16 port = lookup_port (self, rrname);

  if (type != G_RESOLVER_RECORD_SRV || port == 0)
    {
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "No record for %s", rrname);
      return NULL;
    }
  return g_list_prepend (NULL, g_variant_ref_sink (g_variant_new ("(qqqs)", 0, 0, port, "127.0.0.1")));
}

static GList *
host_addresses (const char  *hostname,
                GError     **error)
{
  if (g_ascii_strcasecmp (hostname, "localhost") == 0)
    return g_list_prepend (NULL, g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4));
  g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "No host %s", hostname);
  return NULL;
}

/* returns @list or @error from @task after the delay */
static gboolean
return_later_cb (gpointer user_data)
{
  GTask *task = user_data;
  GError *error = g_object_get_data (G_OBJECT (task), "error");
  gpointer list = g_object_get_data (G_OBJECT (task), "list");
  GDestroyNotify destroy = g_object_get_data (G_OBJECT (task), "destroy");

  g_object_steal_data (G_OBJECT (task), "error");
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, list, destroy);
  return G_SOURCE_REMOVE;
}

static void
return_later (GResolver           *resolver,
              gpointer             list,
              GDestroyNotify       destroy,
              GError              *error,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  GTask *task = g_task_new (resolver, cancellable, callback, user_data);

  g_object_set_data (G_OBJECT (task), "list", list);
  g_object_set_data (G_OBJECT (task), "destroy", destroy);
  g_object_set_data (G_OBJECT (task), "error", error);
  g_timeout_add_full (G_PRIORITY_DEFAULT, RESOLVER_DELAY_MS, return_later_cb, task, g_object_unref);
}

static GList *
test_resolver_lookup_service (GResolver     *resolver,
                              const char    *rrname,
                              GCancellable  *cancellable,
                              GError       **error)
{
  return service_targets (TEST_RESOLVER (resolver), rrname, error);
}

static void
test_resolver_lookup_service_async (GResolver           *resolver,
                                    const char          *rrname,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  GError *error = NULL;
  GList *targets = service_targets (TEST_RESOLVER (resolver), rrname, &error);

  return_later (resolver, targets, (GDestroyNotify) srv_targets_free, error, cancellable, callback, user_data);
}

static GList *
list_finish (GResolver     *resolver,
             GAsyncResult  *result,
             GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static GList *
test_resolver_lookup_records (GResolver            *resolver,
                              const char           *rrname,
                              GResolverRecordType   type,
                              GCancellable         *cancellable,
                              GError              **error)
{
  return service_records (TEST_RESOLVER (resolver), rrname, type, error);
}

static void
test_resolver_lookup_records_async (GResolver           *resolver,
                                    const char          *rrname,
                                    GResolverRecordType  type,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  GError *error = NULL;
  GList *records = service_records (TEST_RESOLVER (resolver), rrname, type, &error);

  return_later (resolver, records, (GDestroyNotify) records_free, error, cancellable, callback, user_data);
}

static GList *
test_resolver_lookup_by_name (GResolver     *resolver,
                              const char    *hostname,
                              GCancellable  *cancellable,
                              GError       **error)
{
  return host_addresses (hostname, error);
}

static void
test_resolver_lookup_by_name_async (GResolver           *resolver,
                                    const char          *hostname,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  GError *error = NULL;
  GList *addresses = host_addresses (hostname, &error);

  return_later (resolver, addresses, (GDestroyNotify) addresses_free, error, cancellable, callback, user_data);
}

static GList *
test_resolver_lookup_by_name_with_flags (GResolver                 *resolver,
                                         const char                *hostname,
                                         GResolverNameLookupFlags   flags,
                                         GCancellable              *cancellable,
                                         GError                   **error)
{
  return host_addresses (hostname, error);
}

static void
test_resolver_lookup_by_name_with_flags_async (GResolver                *resolver,
                                               const char               *hostname,
                                               GResolverNameLookupFlags  flags,
                                               GCancellable             *cancellable,
                                               GAsyncReadyCallback       callback,
                                               gpointer                  user_data)
{
  test_resolver_lookup_by_name_async (resolver, hostname, cancellable, callback, user_data);
}

static void
test_resolver_finalize (GObject *object)
{
  g_hash_table_unref (TEST_RESOLVER (object)->ports);
  G_OBJECT_CLASS (test_resolver_parent_class)->finalize (object);
}

static void
test_resolver_class_init (TestResolverClass *klass)
{
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = test_resolver_finalize;
  resolver_class->lookup_service = test_resolver_lookup_service;
  resolver_class->lookup_service_async = test_resolver_lookup_service_async;
  resolver_class->lookup_service_finish = list_finish;
  resolver_class->lookup_records = test_resolver_lookup_records;
  resolver_class->lookup_records_async = test_resolver_lookup_records_async;
  resolver_class->lookup_records_finish = list_finish;
  resolver_class->lookup_by_name = test_resolver_lookup_by_name;
  resolver_class->lookup_by_name_async = test_resolver_lookup_by_name_async;
  resolver_class->lookup_by_name_finish = list_finish;
  resolver_class->lookup_by_name_with_flags = test_resolver_lookup_by_name_with_flags;
  resolver_class->lookup_by_name_with_flags_async = test_resolver_lookup_by_name_with_flags_async;
  resolver_class->lookup_by_name_with_flags_finish = list_finish;
}

static void
test_resolver_init (TestResolver *self)
{
  static const struct { const char *service; const char *env; } services[] = {
    { "_imaps._tcp.example.test", "LB_TEST_IMAPS_PORT" },
    { "_imap._tcp.example.test", "LB_TEST_IMAP_PORT" },
    { "_pop3s._tcp.example.test", "LB_TEST_POP3S_PORT" },
    { "_pop3._tcp.example.test", "LB_TEST_POP3_PORT" },
    { "_submissions._tcp.example.test", "LB_TEST_SUBMISSIONS_PORT" },
    { "_submission._tcp.example.test", "LB_TEST_SUBMISSION_PORT" },
  };

  self->ports = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (services); i++)
    g_hash_table_insert (self->ports, g_strdup (services[i].service),
                         GUINT_TO_POINTER (env_port (services[i].env)));
}

/* ------------------------------------------------------------------ helpers */

typedef struct
{
  GResolver          *resolver;
  LbDiscovery        *discovery;
  LbAccountManager   *manager;
  LbSecrets          *secrets;
  GtkWindow          *parent;
  LbAccountAssistant *assistant;
  LbAccount          *added;
  char               *dir;
} Fixture;

static GtkWidget *
must_find (Fixture    *fixture,
           const char *name)
{
  GtkWidget *widget = lb_test_ui_find_named (GTK_WIDGET (fixture->assistant), name);

  if (widget == NULL)
    g_error ("the assistant has no widget named %s", name);
  return widget;
}

static AdwMessageDialog *
find_message_dialog (void)
{
  return ADW_MESSAGE_DIALOG (lb_test_ui_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, NULL));
}

static gboolean
has_message_dialog (gpointer data)
{
  return find_message_dialog () != NULL;
}

static AdwMessageDialog *
wait_for_message_dialog (const char *what)
{
  lb_test_ui_wait_until (has_message_dialog, NULL, 30, what);
  return find_message_dialog ();
}

static const char *
page_of (Fixture *fixture)
{
  GtkStack *stack = GTK_STACK (lb_test_ui_find (GTK_WIDGET (fixture->assistant), GTK_TYPE_STACK, NULL));

  return gtk_stack_get_visible_child_name (stack);
}

typedef struct
{
  Fixture    *fixture;
  const char *page;
} PageWait;

static gboolean
page_is (gpointer data)
{
  PageWait *wait = data;

  return g_strcmp0 (page_of (wait->fixture), wait->page) == 0;
}

static void
wait_for_page (Fixture    *fixture,
               const char *page)
{
  PageWait wait = { fixture, page };
  g_autofree char *what = g_strdup_printf ("the page %s", page);

  lb_test_ui_wait_until (page_is, &wait, 30, what);
}

static gboolean
no_transition (gpointer data)
{
  GtkStack *stack = GTK_STACK (lb_test_ui_find (data, GTK_TYPE_STACK, NULL));

  return stack == NULL || !gtk_stack_get_transition_running (stack);
}

/* Renders @widget the way it is on screen, once its pages stopped
 * sliding, and saves it as a PNG into the build directory. */
static void
screenshot (GtkWidget  *widget,
            const char *name)
{
  g_autofree char *file = g_strdup_printf ("screenshot-account-assistant-%s.png", name);

  lb_test_ui_wait_until (no_transition, widget, 30, "the page to slide in");
  /* and the rows' own animations (a title moving aside for a text) */
  lb_test_ui_spin (300);
  lb_test_ui_screenshot (widget, file);
}

static void
set_text (Fixture    *fixture,
          const char *name,
          const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (must_find (fixture, name)), text);
}

static void
next (Fixture *fixture)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->assistant), "assistant.next", NULL));
}

static void
account_added_cb (LbAccountAssistant *assistant,
                  LbAccount          *account,
                  Fixture            *fixture)
{
  g_assert_null (fixture->added);
  fixture->added = g_object_ref (account);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *config = NULL;
  g_autofree char *data = NULL;

  fixture->dir = g_dir_make_tmp ("assistant-XXXXXX", NULL);
  g_assert_nonnull (fixture->dir);
  config = g_build_filename (fixture->dir, "config", NULL);
  data = g_build_filename (fixture->dir, "data", NULL);

  fixture->resolver = g_object_new (TEST_TYPE_RESOLVER, NULL);
  fixture->discovery = lb_discovery_new (fixture->resolver, NULL);
  /* the usual host names of example.test do not exist; were they tried,
   * they would be tried on the harness's ports */
  lb_discovery_set_guess_port (fixture->discovery, LB_SERVICE_IMAP, LB_NET_SECURITY_TLS, env_port ("LB_TEST_IMAPS_PORT"));
  lb_discovery_set_guess_port (fixture->discovery, LB_SERVICE_IMAP, LB_NET_SECURITY_STARTTLS, env_port ("LB_TEST_IMAP_PORT"));
  lb_discovery_set_guess_port (fixture->discovery, LB_SERVICE_POP3, LB_NET_SECURITY_TLS, env_port ("LB_TEST_POP3S_PORT"));
  lb_discovery_set_guess_port (fixture->discovery, LB_SERVICE_POP3, LB_NET_SECURITY_STARTTLS, env_port ("LB_TEST_POP3_PORT"));
  lb_discovery_set_guess_port (fixture->discovery, LB_SERVICE_SUBMISSION, LB_NET_SECURITY_TLS, env_port ("LB_TEST_SUBMISSIONS_PORT"));
  lb_discovery_set_guess_port (fixture->discovery, LB_SERVICE_SUBMISSION, LB_NET_SECURITY_STARTTLS, env_port ("LB_TEST_SUBMISSION_PORT"));

  fixture->manager = lb_account_manager_new (config, data);
  fixture->secrets = lb_secrets_new ();

  fixture->parent = GTK_WINDOW (gtk_window_new ());
  gtk_window_set_default_size (fixture->parent, 800, 700);
  gtk_window_present (fixture->parent);

  fixture->assistant = lb_account_assistant_new (fixture->parent, fixture->manager, fixture->discovery,
                                                 fixture->secrets);
  g_assert_nonnull (fixture->assistant);
  g_object_add_weak_pointer (G_OBJECT (fixture->assistant), (gpointer *) &fixture->assistant);
  g_signal_connect (fixture->assistant, "account-added", G_CALLBACK (account_added_cb), fixture);
  g_assert_true (gtk_window_get_transient_for (GTK_WINDOW (fixture->assistant)) == fixture->parent);
  g_assert_true (gtk_window_get_modal (GTK_WINDOW (fixture->assistant)));
  gtk_window_present (GTK_WINDOW (fixture->assistant));
  lb_test_ui_wait_for_frame (GTK_WIDGET (fixture->assistant));
  g_assert_cmpstr (page_of (fixture), ==, "account");
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  AdwMessageDialog *dialog;

  while ((dialog = find_message_dialog ()) != NULL)
    gtk_window_destroy (GTK_WINDOW (dialog));
  if (fixture->assistant != NULL)
    gtk_window_destroy (GTK_WINDOW (fixture->assistant));
  g_assert_null (fixture->assistant);
  gtk_window_destroy (fixture->parent);

  /* let the finished operations hand back their references */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&fixture->added);
  g_assert_finalize_object (fixture->manager);
  g_clear_object (&fixture->secrets);
  g_clear_object (&fixture->discovery);
  g_clear_object (&fixture->resolver);
  lb_test_remove_tree (fixture->dir);
  g_assert_false (g_file_test (fixture->dir, G_FILE_TEST_EXISTS));
  g_free (fixture->dir);
}

static char *
keyring_password (Fixture    *fixture,
                  const char *account_id,
                  const char *protocol)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbSecretKey key = { account_id, protocol, NULL, NULL };
  char *password;

  lb_secrets_lookup_async (fixture->secrets, &key, NULL, lb_test_store_result, &result);
  lb_test_ui_wait_for_result (&result, 30, "the keyring");
  password = lb_secrets_lookup_finish (fixture->secrets, result, &error);
  g_assert_no_error (error);
  return password;
}

/* Fills the first page, checks its screenshot, and presses Enter in the
 * password field. */
static void
fill_account_page (Fixture    *fixture,
                   const char *name,
                   const char *address,
                   const char *password,
                   gboolean    shoot)
{
  set_text (fixture, "name-row", name);
  set_text (fixture, "address-row", address);
  set_text (fixture, "password-row", password);
  if (shoot)
    screenshot (GTK_WIDGET (fixture->assistant), "1-account");
  /* Enter advances */
  g_signal_emit_by_name (must_find (fixture, "password-row"), "entry-activated");
}

/* Answers the certificate dialog after checking what it shows. */
static void
answer_certificate (const char *response,
                    guint16     port,
                    const char *shot)
{
  AdwMessageDialog *dialog = wait_for_message_dialog ("the certificate dialog");
  g_autofree char *where = g_strdup_printf ("127.0.0.1:%u", port);
  const char *body = adw_message_dialog_get_body (dialog);

  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Trust This Server?");
  g_assert_nonnull (strstr (body, where));
  g_assert_nonnull (strstr (body, "not signed by an authority this computer trusts"));
  g_assert_cmpstr (adw_message_dialog_get_default_response (dialog), ==, "reject");
  g_assert_cmpstr (adw_message_dialog_get_close_response (dialog), ==, "reject");
  g_assert_true (adw_message_dialog_has_response (dialog, "once"));
  g_assert_true (adw_message_dialog_has_response (dialog, "pin"));
  g_assert_nonnull (adw_message_dialog_get_extra_child (dialog));
  if (shot != NULL)
    screenshot (GTK_WIDGET (dialog), shot);
  adw_message_dialog_response (dialog, response);
}

/* The fingerprint of the harness's certificate. */
static char *
harness_fingerprint (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) certificate = g_tls_certificate_new_from_file (g_getenv ("LB_TEST_CA_FILE"), &error);

  g_assert_no_error (error);
  return lb_net_certificate_fingerprint (certificate);
}

static gboolean
account_is_added (gpointer data)
{
  Fixture *fixture = data;

  return fixture->added != NULL;
}

static gboolean
assistant_is_gone (gpointer data)
{
  Fixture *fixture = data;

  return fixture->assistant == NULL;
}

static void
wait_for_account (Fixture *fixture)
{
  lb_test_ui_wait_until (account_is_added, fixture, 30, "the account to be added");
  lb_test_ui_wait_until (assistant_is_gone, fixture, 30, "the assistant to close");
}

/* Opens @account as the app does, connects its provider, lists its
 * folders, and returns whether INBOX is one. */
static gboolean
account_lists_inbox (LbAccount *account)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  LbProvider *provider;
  gboolean found = FALSE;

  lb_account_open_async (account, NULL, lb_test_store_result, &result);
  lb_test_ui_wait_for_result (&result, 30, "the account to open");
  g_assert_true (lb_account_open_finish (account, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  provider = lb_account_get_provider (account);
  lb_provider_connect_async (provider, NULL, lb_test_store_result, &result);
  lb_test_ui_wait_for_result (&result, 30, "the provider to connect");
  g_assert_true (lb_provider_connect_finish (provider, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  lb_provider_list_folders_async (provider, NULL, lb_test_store_result, &result);
  lb_test_ui_wait_for_result (&result, 30, "the folders");
  folders = lb_provider_list_folders_finish (provider, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  for (guint i = 0; i < folders->len; i++)
    {
      LbFolderInfo *info = folders->pdata[i];

      if (g_strcmp0 (info->path, "INBOX") == 0)
        found = TRUE;
    }

  lb_provider_disconnect_async (provider, NULL, lb_test_store_result, &result);
  lb_test_ui_wait_for_result (&result, 30, "the provider to disconnect");
  lb_provider_disconnect_finish (provider, result, NULL);
  lb_account_close (account);

  return found;
}

/* ------------------------------------------------------------------ the tests */

/* (a) IMAP found through SRV; the untrusted certificate is pinned */
static void
test_imap_pinned (Fixture       *fixture,
                  gconstpointer  user_data)
{
  guint16 imaps = env_port ("LB_TEST_IMAPS_PORT");
  g_autofree char *fingerprint = harness_fingerprint ();
  g_autofree char *pin = NULL;
  g_autoptr(LbSecretsPassword) imap_password = NULL;
  g_autoptr(LbSecretsPassword) smtp_password = NULL;
  LbAccount *account;
  LbIdentity *identity;
  AdwPreferencesGroup *reason;

  fill_account_page (fixture, "Alice Liddell", "alice@example.test", "alicepass", TRUE);
  wait_for_page (fixture, "searching");
  screenshot (GTK_WIDGET (fixture->assistant), "2-searching");
  if (g_strcmp0 (page_of (fixture), "searching") == 0)
    g_assert_false (gtk_widget_is_sensitive (must_find (fixture, "next-button")));
  wait_for_page (fixture, "found");
  screenshot (GTK_WIDGET (fixture->assistant), "3-found");

  next (fixture);
  wait_for_page (fixture, "choose");
  reason = ADW_PREFERENCES_GROUP (must_find (fixture, "protocol-group"));
  /* the server has both, no answers yet: IMAP, the mail safe on the server */
  g_assert_cmpstr (adw_preferences_group_get_description (reason), ==,
                   lb_setup_advice_reason_text (LB_SETUP_REASON_NO_NEEDS));
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (must_find (fixture, "imap-check"))));
  /* offline, this computer only: the advice follows live */
  gtk_switch_set_active (GTK_SWITCH (must_find (fixture, "offline-switch")), TRUE);
  g_assert_cmpstr (adw_preferences_group_get_description (reason), ==,
                   lb_setup_advice_reason_text (LB_SETUP_REASON_THIS_COMPUTER_OFFLINE));
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (must_find (fixture, "pop3-check"))));
  /* and other devices too: IMAP again */
  gtk_switch_set_active (GTK_SWITCH (must_find (fixture, "other-devices-switch")), TRUE);
  g_assert_cmpstr (adw_preferences_group_get_description (reason), ==,
                   lb_setup_advice_reason_text (LB_SETUP_REASON_OTHER_DEVICES_OFFLINE));
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (must_find (fixture, "imap-check"))));
  screenshot (GTK_WIDGET (fixture->assistant), "4-choose-imap");

  next (fixture);
  wait_for_page (fixture, "verify");
  answer_certificate ("pin", imaps, "5-certificate");
  wait_for_account (fixture);

  account = lb_account_manager_lookup (fixture->manager, lb_account_get_id (fixture->added));
  g_assert_true (account == fixture->added);
  identity = lb_account_get_default_identity (account);
  g_assert_cmpstr (lb_identity_get_address (identity), ==, "alice@example.test");
  g_assert_cmpstr (lb_identity_get_name (identity), ==, "Alice Liddell");
  g_assert_cmpint (lb_account_get_incoming_protocol (account), ==, LB_INCOMING_IMAP);
  g_assert_cmpstr (lb_account_get_incoming_host (account), ==, "127.0.0.1");
  g_assert_cmpuint (lb_account_get_incoming_port (account), ==, imaps);
  g_assert_cmpint (lb_account_get_incoming_security (account), ==, LB_NET_SECURITY_TLS);
  g_assert_cmpstr (lb_account_get_incoming_user (account), ==, "alice@example.test");
  g_assert_false (lb_account_get_allow_plaintext_password (account));
  g_assert_cmpuint (lb_account_get_offline_days (account), ==, LB_SETUP_OFFLINE_DAYS);
  g_assert_cmpstr (lb_account_get_smtp_host (account), ==, "127.0.0.1");
  g_assert_cmpuint (lb_account_get_smtp_port (account), ==, env_port ("LB_TEST_SUBMISSIONS_PORT"));
  g_assert_cmpint (lb_account_get_smtp_security (account), ==, LB_NET_SECURITY_TLS);
  pin = g_strdup_printf ("127.0.0.1:%u %s", imaps, fingerprint);
  g_assert_true (g_strv_contains (lb_account_get_pinned_certificates (account), pin));
  g_assert_true (lb_account_is_certificate_pinned (account, "127.0.0.1", imaps, fingerprint));

  /* the password is in the keyring, and not in the account's file */
  imap_password = keyring_password (fixture, lb_account_get_id (account), "imap");
  g_assert_cmpstr (imap_password, ==, "alicepass");
  smtp_password = keyring_password (fixture, lb_account_get_id (account), "smtp");
  g_assert_cmpstr (smtp_password, ==, "alicepass");

  /* the pinned certificate lets the provider in */
  g_assert_true (account_lists_inbox (account));
}

/* (b) a wrong password: a clear error, no account, nothing in the keyring */
static void
test_wrong_password (Fixture       *fixture,
                     gconstpointer  user_data)
{
  AdwStatusPage *verify;
  g_autofree char *id = NULL;
  g_autoptr(LbSecretsPassword) password = NULL;

  fill_account_page (fixture, "Bob", "bob@example.test", "not-bobs-password", FALSE);
  wait_for_page (fixture, "found");
  next (fixture);
  wait_for_page (fixture, "choose");
  next (fixture);
  wait_for_page (fixture, "verify");
  answer_certificate ("once", env_port ("LB_TEST_IMAPS_PORT"), NULL);

  verify = ADW_STATUS_PAGE (must_find (fixture, "verify-page"));
  {
    gboolean done = FALSE;

    while (!done)
      {
        done = g_strcmp0 (adw_status_page_get_title (verify), "Wrong Password") == 0;
        if (!done)
          g_main_context_iteration (NULL, TRUE);
      }
  }
  g_assert_nonnull (strstr (adw_status_page_get_description (verify), "did not accept the password"));
  g_assert_nonnull (strstr (adw_status_page_get_description (verify), "bob@example.test"));
  g_assert_true (gtk_widget_is_visible (must_find (fixture, "next-button")));
  g_assert_false (gtk_widget_is_sensitive (must_find (fixture, "next-button")));
  screenshot (GTK_WIDGET (fixture->assistant), "6-wrong-password");

  g_assert_nonnull (fixture->assistant);
  g_assert_null (fixture->added);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->manager)), ==, 0);
  id = lb_account_manager_make_id (fixture->manager, "bob@example.test");
  password = keyring_password (fixture, id, "imap");
  g_assert_null (password);

  /* Change Password goes back to the first page */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->assistant), "assistant.change-password", NULL));
  g_assert_cmpstr (page_of (fixture), ==, "account");
}

/* (c) POP3, keeping a copy on the server */
static void
test_pop3_keep (Fixture       *fixture,
                gconstpointer  user_data)
{
  guint16 pop3s = env_port ("LB_TEST_POP3S_PORT");
  g_autofree char *fingerprint = harness_fingerprint ();
  g_auto(GStrv) trusted = NULL;
  g_autofree char *entry = NULL;
  g_autoptr(LbSecretsPassword) password = NULL;
  LbAccount *account;

  fill_account_page (fixture, "Bob", "bob@example.test", "bobpass", FALSE);
  wait_for_page (fixture, "found");
  next (fixture);
  wait_for_page (fixture, "choose");
  gtk_check_button_set_active (GTK_CHECK_BUTTON (must_find (fixture, "pop3-check")), TRUE);
  /* this computer only: the advice is to delete the server's copy */
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (must_find (fixture, "keep-delete-check"))));
  /* "delete once downloaded" off */
  gtk_check_button_set_active (GTK_CHECK_BUTTON (must_find (fixture, "keep-forever-check")), TRUE);
  g_assert_false (gtk_check_button_get_active (GTK_CHECK_BUTTON (must_find (fixture, "keep-delete-check"))));
  /* a question answered later leaves the user's choices alone */
  gtk_switch_set_active (GTK_SWITCH (must_find (fixture, "other-devices-switch")), TRUE);
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (must_find (fixture, "pop3-check"))));
  g_assert_true (gtk_check_button_get_active (GTK_CHECK_BUTTON (must_find (fixture, "keep-forever-check"))));
  screenshot (GTK_WIDGET (fixture->assistant), "7-choose-pop3");

  next (fixture);
  wait_for_page (fixture, "verify");
  answer_certificate ("once", pop3s, NULL);
  wait_for_account (fixture);

  account = fixture->added;
  g_assert_true (lb_account_manager_lookup (fixture->manager, lb_account_get_id (account)) == account);
  g_assert_cmpint (lb_account_get_incoming_protocol (account), ==, LB_INCOMING_POP3);
  g_assert_cmpstr (lb_account_get_incoming_host (account), ==, "127.0.0.1");
  g_assert_cmpuint (lb_account_get_incoming_port (account), ==, pop3s);
  g_assert_cmpint (lb_account_get_incoming_security (account), ==, LB_NET_SECURITY_TLS);
  g_assert_true (lb_account_get_pop3_keep_on_server (account));
  g_assert_cmpuint (lb_account_get_pop3_delete_after_days (account), ==, 0);
  /* accepted once: trusted in this run, not saved */
  g_assert_cmpuint (g_strv_length ((char **) lb_account_get_pinned_certificates (account)), ==, 0);
  trusted = lb_account_dup_trusted_certificates (account);
  entry = g_strdup_printf ("127.0.0.1:%u %s", pop3s, fingerprint);
  g_assert_true (g_strv_contains ((const char * const *) trusted, entry));
  password = keyring_password (fixture, lb_account_get_id (account), "pop3");
  g_assert_cmpstr (password, ==, "bobpass");
}

/* (d) manual settings: the plain port with STARTTLS */
static void
test_manual_starttls (Fixture       *fixture,
                      gconstpointer  user_data)
{
  guint16 imap = env_port ("LB_TEST_IMAP_PORT");
  g_autofree char *port = g_strdup_printf ("%u", imap);
  g_autofree char *smtp_port = g_strdup_printf ("%u", env_port ("LB_TEST_SUBMISSION_PORT"));
  g_autoptr(GKeyFile) key_file = NULL;
  g_autofree char *saved = NULL;
  LbAccount *account;

  set_text (fixture, "name-row", "Alice");
  set_text (fixture, "address-row", "alice@example.test");
  set_text (fixture, "password-row", "alicepass");
  /* from the first page, without any discovery */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->assistant), "assistant.manual", NULL));
  g_assert_cmpstr (page_of (fixture), ==, "manual");
  /* pre-filled from the address */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (must_find (fixture, "manual-host-row"))), ==, "example.test");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (must_find (fixture, "manual-user-row"))), ==, "alice@example.test");

  set_text (fixture, "manual-host-row", "127.0.0.1");
  set_text (fixture, "manual-port-row", port);
  adw_combo_row_set_selected (ADW_COMBO_ROW (must_find (fixture, "manual-security-row")), 1);
  set_text (fixture, "smtp-host-row", "127.0.0.1");
  set_text (fixture, "smtp-port-row", smtp_port);
  adw_combo_row_set_selected (ADW_COMBO_ROW (must_find (fixture, "smtp-security-row")), 1);
  screenshot (GTK_WIDGET (fixture->assistant), "8-manual");

  /* Enter in a field adds */
  g_signal_emit_by_name (must_find (fixture, "manual-port-row"), "entry-activated");
  wait_for_page (fixture, "verify");
  screenshot (GTK_WIDGET (fixture->assistant), "9-verify");
  answer_certificate ("once", imap, NULL);
  wait_for_account (fixture);

  account = fixture->added;
  g_assert_cmpint (lb_account_get_incoming_protocol (account), ==, LB_INCOMING_IMAP);
  g_assert_cmpstr (lb_account_get_incoming_host (account), ==, "127.0.0.1");
  g_assert_cmpuint (lb_account_get_incoming_port (account), ==, imap);
  g_assert_cmpint (lb_account_get_incoming_security (account), ==, LB_NET_SECURITY_STARTTLS);
  g_assert_cmpuint (lb_account_get_smtp_port (account), ==, env_port ("LB_TEST_SUBMISSION_PORT"));
  g_assert_cmpint (lb_account_get_smtp_security (account), ==, LB_NET_SECURITY_STARTTLS);
  g_assert_cmpuint (g_strv_length ((char **) lb_account_get_pinned_certificates (account)), ==, 0);

  /* what accepting once trusted is not in the file */
  key_file = lb_account_to_key_file (account);
  saved = g_key_file_to_data (key_file, NULL, NULL);
  g_assert_null (strstr (saved, "Pinned"));
  g_assert_null (strstr (saved, "alicepass"));

  /* but it lets the account connect in this run */
  g_assert_true (account_lists_inbox (account));
}

static gboolean
status_title_is (gpointer data)
{
  Fixture *fixture = data;
  AdwStatusPage *verify = ADW_STATUS_PAGE (must_find (fixture, "verify-page"));

  return g_strcmp0 (adw_status_page_get_title (verify), "No Encryption") == 0;
}

/* (e) a server without encryption: only with explicit consent */
static void
test_plaintext_consent (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autofree char *port = g_strdup_printf ("%u", env_port ("LB_TEST_POP3_PORT"));
  AdwMessageDialog *dialog;
  LbAccount *account;

  set_text (fixture, "name-row", "Bob");
  set_text (fixture, "address-row", "bob@example.test");
  set_text (fixture, "password-row", "bobpass");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->assistant), "assistant.manual", NULL));
  adw_combo_row_set_selected (ADW_COMBO_ROW (must_find (fixture, "manual-protocol-row")), 1);
  set_text (fixture, "manual-host-row", "127.0.0.1");
  set_text (fixture, "manual-port-row", port);
  adw_combo_row_set_selected (ADW_COMBO_ROW (must_find (fixture, "manual-security-row")), 2);
  set_text (fixture, "smtp-host-row", "");

  /* refused: nothing is sent, nothing added */
  next (fixture);
  dialog = wait_for_message_dialog ("the consent dialog");
  g_assert_cmpstr (adw_message_dialog_get_heading (dialog), ==, "Send Your Password Unencrypted?");
  g_assert_cmpstr (adw_message_dialog_get_default_response (dialog), ==, "cancel");
  g_assert_cmpint (adw_message_dialog_get_response_appearance (dialog, "send"), ==, ADW_RESPONSE_DESTRUCTIVE);
  screenshot (GTK_WIDGET (dialog), "10-plaintext-consent");
  adw_message_dialog_response (dialog, "cancel");
  lb_test_ui_wait_until (status_title_is, fixture, 30, "the refusal");
  g_assert_null (fixture->added);

  /* back to the settings, and this time allowed */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->assistant), "assistant.back", NULL));
  g_assert_cmpstr (page_of (fixture), ==, "manual");
  next (fixture);
  dialog = wait_for_message_dialog ("the consent dialog");
  adw_message_dialog_response (dialog, "send");
  wait_for_account (fixture);

  account = fixture->added;
  g_assert_cmpint (lb_account_get_incoming_protocol (account), ==, LB_INCOMING_POP3);
  g_assert_cmpint (lb_account_get_incoming_security (account), ==, LB_NET_SECURITY_NONE);
  g_assert_true (lb_account_get_allow_plaintext_password (account));
  g_assert_null (lb_account_get_smtp_host (account));
}

static gboolean
no_message_dialog (gpointer data)
{
  return find_message_dialog () == NULL;
}

/* Stop while looking, then Cancel while the certificate is asked about:
 * whatever was running is left alone, nothing is added */
static void
test_stop_and_cancel (Fixture       *fixture,
                      gconstpointer  user_data)
{
  gint64 until;

  fill_account_page (fixture, "Alice", "alice@example.test", "alicepass", FALSE);
  g_assert_cmpstr (page_of (fixture), ==, "searching");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->assistant), "assistant.back", NULL));
  g_assert_cmpstr (page_of (fixture), ==, "account");
  /* the stopped discovery does not come back */
  until = g_get_monotonic_time () + 1500 * G_TIME_SPAN_MILLISECOND;
  while (g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpstr (page_of (fixture), ==, "account");

  g_signal_emit_by_name (must_find (fixture, "password-row"), "entry-activated");
  wait_for_page (fixture, "found");
  next (fixture);
  wait_for_page (fixture, "choose");
  next (fixture);
  wait_for_message_dialog ("the certificate dialog");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->assistant), "assistant.cancel", NULL));
  lb_test_ui_wait_until (assistant_is_gone, fixture, 30, "the assistant to close");
  lb_test_ui_wait_until (no_message_dialog, NULL, 30, "the certificate dialog to close");
  g_assert_null (fixture->added);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->manager)), ==, 0);
}

/* Escape cancels: the window closes, nothing is added */
static void
test_escape_cancels (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (fixture->assistant));
  const char *escape_action = NULL;

  /* Escape is bound to assistant.cancel */
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);
          g_autofree char *trigger = gtk_shortcut_trigger_to_string (gtk_shortcut_get_trigger (shortcut));
          GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);

          if (g_strcmp0 (trigger, "Escape") == 0 && GTK_IS_NAMED_ACTION (action))
            escape_action = gtk_named_action_get_action_name (GTK_NAMED_ACTION (action));
        }
    }
  g_assert_cmpstr (escape_action, ==, "assistant.cancel");

  set_text (fixture, "address-row", "alice@example.test");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->assistant), escape_action, NULL));
  lb_test_ui_wait_until (assistant_is_gone, fixture, 30, "the assistant to close");
  g_assert_null (fixture->added);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->manager)), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add ("/ui/account-assistant/a-imap-pinned", Fixture, NULL,
              fixture_set_up, test_imap_pinned, fixture_tear_down);
  g_test_add ("/ui/account-assistant/b-wrong-password", Fixture, NULL,
              fixture_set_up, test_wrong_password, fixture_tear_down);
  g_test_add ("/ui/account-assistant/c-pop3-keep", Fixture, NULL,
              fixture_set_up, test_pop3_keep, fixture_tear_down);
  g_test_add ("/ui/account-assistant/d-manual-starttls", Fixture, NULL,
              fixture_set_up, test_manual_starttls, fixture_tear_down);
  g_test_add ("/ui/account-assistant/e-plaintext-consent", Fixture, NULL,
              fixture_set_up, test_plaintext_consent, fixture_tear_down);
  g_test_add ("/ui/account-assistant/f-stop-and-cancel", Fixture, NULL,
              fixture_set_up, test_stop_and_cancel, fixture_tear_down);
  g_test_add ("/ui/account-assistant/g-escape-cancels", Fixture, NULL,
              fixture_set_up, test_escape_cancels, fixture_tear_down);

  return g_test_run ();
}
