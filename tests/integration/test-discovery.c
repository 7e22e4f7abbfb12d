/* test-discovery.c: LbDiscovery against the harness's real Dovecot and
 * submission server, and the scripted server for what they will not do
 *
 * The DNS is a GResolver of this file: it serves SRV records for
 * example.test and maps the host names a test names to 127.0.0.1. It is
 * also the default resolver, which LbConnector's connections use.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "lb-discovery.h"
#include "lb-net-certificate.h"
#include "lb-test-script-server.h"
#include "lb-test-session.h"

/* The resolver */

#define TEST_TYPE_RESOLVER (test_resolver_get_type ())
G_DECLARE_FINAL_TYPE (TestResolver, test_resolver, TEST, RESOLVER, GResolver)

struct _TestResolver
{
  GResolver   parent_instance;

  GHashTable *services;  /* "_imaps._tcp.example.test" -> GList of GSrvTarget */
  GHashTable *hosts;     /* lower-case host name -> "127.0.0.1" */
  guint       service_lookups;
  guint       name_lookups;
};

G_DEFINE_FINAL_TYPE (TestResolver, test_resolver, G_TYPE_RESOLVER)

static void
free_targets (gpointer data)
{
  g_list_free_full (data, (GDestroyNotify) g_srv_target_free);
}

static void
test_resolver_add_srv (TestResolver *self,
                       const char   *service,
                       const char   *target,
                       guint16       port,
                       guint16       priority,
                       guint16       weight)
{
  g_autofree char *rrname = g_strdup_printf ("_%s._tcp.example.test", service);
  g_autofree char *old_key = NULL;
  GList *targets = NULL;

  g_hash_table_steal_extended (self->services, rrname, (gpointer *) &old_key, (gpointer *) &targets);
  targets = g_list_append (targets, g_srv_target_new (target, port, priority, weight));
  g_hash_table_insert (self->services, g_steal_pointer (&rrname), targets);
}

static void
test_resolver_add_host (TestResolver *self,
                        const char   *host)
{
  g_hash_table_insert (self->hosts, g_strdup (host), g_strdup ("127.0.0.1"));
}

static GList *
resolve_name (TestResolver              *self,
              const char                *hostname,
              GResolverNameLookupFlags   flags,
              GError                   **error)
{
  g_autofree char *lower = g_ascii_strdown (hostname, -1);
  const char *address = g_hash_table_lookup (self->hosts, lower);

  self->name_lookups++;
  if (address == NULL || (flags & G_RESOLVER_NAME_LOOKUP_FLAGS_IPV6_ONLY) != 0)
    {
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                   "No address for %s", hostname);
      return NULL;
    }
  return g_list_append (NULL, g_inet_address_new_from_string (address));
}

static GList *
resolve_service (TestResolver  *self,
                 const char    *rrname,
                 GError       **error)
{
  GList *targets = g_hash_table_lookup (self->services, rrname);
  GList *copy = NULL;

  self->service_lookups++;
  if (targets == NULL)
    {
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "No %s records", rrname);
      return NULL;
    }
  for (GList *l = targets; l != NULL; l = l->next)
    copy = g_list_append (copy, g_srv_target_copy (l->data));
  return copy;
}

static void
return_list (GResolver           *resolver,
             GList               *list,
             GError              *error,
             GDestroyNotify       free_list,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data,
             gpointer             tag)
{
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, list, free_list);
}

static GList *
test_lookup_by_name_with_flags (GResolver                 *resolver,
                                const char                *hostname,
                                GResolverNameLookupFlags   flags,
                                GCancellable              *cancellable,
                                GError                   **error)
{
  return resolve_name (TEST_RESOLVER (resolver), hostname, flags, error);
}

static GList *
test_lookup_by_name (GResolver     *resolver,
                     const char    *hostname,
                     GCancellable  *cancellable,
                     GError       **error)
{
  return resolve_name (TEST_RESOLVER (resolver), hostname, 0, error);
}

static void
test_lookup_by_name_with_flags_async (GResolver                 *resolver,
                                      const char                *hostname,
                                      GResolverNameLookupFlags   flags,
                                      GCancellable              *cancellable,
                                      GAsyncReadyCallback        callback,
                                      gpointer                   user_data)
{
  GError *error = NULL;
  GList *list = resolve_name (TEST_RESOLVER (resolver), hostname, flags, &error);

  return_list (resolver, list, error, (GDestroyNotify) g_resolver_free_addresses,
               cancellable, callback, user_data, test_lookup_by_name_with_flags_async);
}

static void
test_lookup_by_name_async (GResolver           *resolver,
                           const char          *hostname,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  test_lookup_by_name_with_flags_async (resolver, hostname, 0, cancellable, callback, user_data);
}

static GList *
test_lookup_by_name_finish (GResolver     *resolver,
                            GAsyncResult  *result,
                            GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static GList *
test_lookup_service (GResolver     *resolver,
                     const char    *rrname,
                     GCancellable  *cancellable,
                     GError       **error)
{
  return resolve_service (TEST_RESOLVER (resolver), rrname, error);
}

static void
test_lookup_service_async (GResolver           *resolver,
                           const char          *rrname,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GError *error = NULL;
  GList *list = resolve_service (TEST_RESOLVER (resolver), rrname, &error);

  return_list (resolver, list, error, free_targets, cancellable, callback, user_data,
               test_lookup_service_async);
}

static GList *
test_lookup_service_finish (GResolver     *resolver,
                            GAsyncResult  *result,
                            GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_resolver_finalize (GObject *object)
{
  TestResolver *self = TEST_RESOLVER (object);

  g_hash_table_unref (self->services);
  g_hash_table_unref (self->hosts);

  G_OBJECT_CLASS (test_resolver_parent_class)->finalize (object);
}

static void
test_resolver_class_init (TestResolverClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  object_class->finalize = test_resolver_finalize;
  resolver_class->lookup_by_name = test_lookup_by_name;
  resolver_class->lookup_by_name_async = test_lookup_by_name_async;
  resolver_class->lookup_by_name_finish = test_lookup_by_name_finish;
  resolver_class->lookup_by_name_with_flags = test_lookup_by_name_with_flags;
  resolver_class->lookup_by_name_with_flags_async = test_lookup_by_name_with_flags_async;
  resolver_class->lookup_by_name_with_flags_finish = test_lookup_by_name_finish;
  resolver_class->lookup_service = test_lookup_service;
  resolver_class->lookup_service_async = test_lookup_service_async;
  resolver_class->lookup_service_finish = test_lookup_service_finish;
}

static void
test_resolver_init (TestResolver *self)
{
  self->services = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, free_targets);
  self->hosts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  /* the harness's certificate is for localhost */
  test_resolver_add_host (self, "localhost");
}

/* The fixture */

typedef struct
{
  TestResolver *resolver;
  GResolver    *previous;
  LbConnector  *connector;
  LbDiscovery  *discovery;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->resolver = g_object_new (TEST_TYPE_RESOLVER, NULL);
  f->previous = g_resolver_get_default ();
  g_resolver_set_default (G_RESOLVER (f->resolver));
  f->connector = lb_test_connector_new ();
  f->discovery = lb_discovery_new (G_RESOLVER (f->resolver), f->connector);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_assert_finalize_object (f->discovery);
  g_assert_finalize_object (f->connector);
  g_resolver_set_default (f->previous);
  g_object_unref (f->previous);
  g_assert_finalize_object (f->resolver);
}

/* the harness's ports as the guesses' ports */
static void
use_harness_ports (Fixture *f)
{
  lb_discovery_set_guess_port (f->discovery, LB_SERVICE_IMAP, LB_NET_SECURITY_TLS,
                               lb_test_port ("LB_TEST_IMAPS_PORT"));
  lb_discovery_set_guess_port (f->discovery, LB_SERVICE_IMAP, LB_NET_SECURITY_STARTTLS,
                               lb_test_port ("LB_TEST_IMAP_PORT"));
  lb_discovery_set_guess_port (f->discovery, LB_SERVICE_POP3, LB_NET_SECURITY_TLS,
                               lb_test_port ("LB_TEST_POP3S_PORT"));
  lb_discovery_set_guess_port (f->discovery, LB_SERVICE_POP3, LB_NET_SECURITY_STARTTLS,
                               lb_test_port ("LB_TEST_POP3_PORT"));
  lb_discovery_set_guess_port (f->discovery, LB_SERVICE_SUBMISSION, LB_NET_SECURITY_TLS,
                               lb_test_port ("LB_TEST_SUBMISSIONS_PORT"));
  lb_discovery_set_guess_port (f->discovery, LB_SERVICE_SUBMISSION, LB_NET_SECURITY_STARTTLS,
                               lb_test_port ("LB_TEST_SUBMISSION_PORT"));
}

static LbDiscoveryResult *
discover (Fixture     *f,
          const char  *address,
          GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_discovery_discover_async (f->discovery, address, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  return lb_discovery_discover_finish (f->discovery, result, error);
}

static LbServerProbe *
probe_with (LbDiscovery   *discovery,
            LbServiceKind  kind,
            const char    *host,
            guint16        port,
            LbNetSecurity  security)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbServerProbe *probe;

  lb_discovery_probe_async (discovery, kind, host, port, security, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  probe = lb_discovery_probe_finish (discovery, result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (probe);
  g_assert_cmpint (probe->kind, ==, kind);
  g_assert_cmpint (probe->source, ==, LB_SERVER_SOURCE_MANUAL);
  g_assert_cmpstr (probe->host, ==, host);
  g_assert_cmpuint (probe->port, ==, port);

  return probe;
}

static LbServerProbe *
probe (Fixture       *f,
       LbServiceKind  kind,
       const char    *host,
       guint16        port,
       LbNetSecurity  security)
{
  return probe_with (f->discovery, kind, host, port, security);
}

static gboolean
has_capability (const LbServerProbe *probe,
                const char          *prefix)
{
  for (guint i = 0; probe->capabilities != NULL && probe->capabilities[i] != NULL; i++)
    if (g_str_has_prefix (probe->capabilities[i], prefix))
      return TRUE;
  return FALSE;
}

static void
assert_answered (const LbServerProbe *probe,
                 LbNetSecurity        security,
                 gboolean             trusted)
{
  g_assert_nonnull (probe);
  g_assert_no_error (probe->error);
  g_assert_cmpint (probe->security, ==, security);
  g_assert_false (probe->plaintext_only);
  if (trusted)
    {
      g_assert_null (probe->certificate);
      g_assert_cmpint (probe->certificate_errors, ==, 0);
    }
  else
    {
      g_assert_true (G_IS_TLS_CERTIFICATE (probe->certificate));
      g_assert_cmpint (probe->certificate_errors, !=, 0);
    }
  switch (probe->kind)
    {
    case LB_SERVICE_IMAP:
      g_assert_true (has_capability (probe, "IMAP4REV1"));
      g_assert_true (has_capability (probe, "AUTH=PLAIN"));
      /* after STARTTLS, Dovecot allows logins and offers no second STARTTLS */
      g_assert_false (has_capability (probe, "LOGINDISABLED"));
      g_assert_false (has_capability (probe, "STARTTLS"));
      break;
    case LB_SERVICE_POP3:
      g_assert_true (has_capability (probe, "UIDL"));
      g_assert_true (has_capability (probe, "SASL PLAIN"));
      g_assert_false (has_capability (probe, "STLS"));
      break;
    case LB_SERVICE_SUBMISSION:
      g_assert_true (has_capability (probe, "AUTH "));
      g_assert_true (has_capability (probe, "AUTH PLAIN") || has_capability (probe, "AUTH LOGIN PLAIN"));
      g_assert_false (has_capability (probe, "STARTTLS"));
      break;
    default:
      g_assert_not_reached ();
    }
}

static guint16
unused_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 port;

  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);
  return port;
}

static void
add_harness_srv (TestResolver *resolver)
{
  test_resolver_add_srv (resolver, "imaps", "localhost", lb_test_port ("LB_TEST_IMAPS_PORT"), 10, 0);
  test_resolver_add_srv (resolver, "imap", "localhost", lb_test_port ("LB_TEST_IMAP_PORT"), 10, 0);
  test_resolver_add_srv (resolver, "pop3s", "localhost", lb_test_port ("LB_TEST_POP3S_PORT"), 10, 0);
  test_resolver_add_srv (resolver, "pop3", "localhost", lb_test_port ("LB_TEST_POP3_PORT"), 10, 0);
  test_resolver_add_srv (resolver, "submissions", "localhost",
                         lb_test_port ("LB_TEST_SUBMISSIONS_PORT"), 10, 0);
  test_resolver_add_srv (resolver, "submission", "localhost",
                         lb_test_port ("LB_TEST_SUBMISSION_PORT"), 10, 0);
}

/* The tests */

static void
test_srv (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(LbDiscoveryResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint16 dead = unused_port ();
  LbServerProbe *first;

  /* the worse record first: priority decides, not the order served */
  test_resolver_add_srv (f->resolver, "imaps", "localhost", dead, 20, 0);
  add_harness_srv (f->resolver);

  result = discover (f, "Alice@Example.Test", &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);

  assert_answered (result->imap, LB_NET_SECURITY_TLS, TRUE);
  g_assert_cmpint (result->imap->source, ==, LB_SERVER_SOURCE_SRV);
  g_assert_cmpstr (result->imap->host, ==, "localhost");
  g_assert_cmpuint (result->imap->port, ==, lb_test_port ("LB_TEST_IMAPS_PORT"));
  assert_answered (result->pop3, LB_NET_SECURITY_TLS, TRUE);
  g_assert_cmpuint (result->pop3->port, ==, lb_test_port ("LB_TEST_POP3S_PORT"));
  assert_answered (result->submission, LB_NET_SECURITY_TLS, TRUE);
  g_assert_cmpuint (result->submission->port, ==, lb_test_port ("LB_TEST_SUBMISSIONS_PORT"));

  /* each record was probed once, in priority order, and nothing guessed */
  g_assert_cmpuint (result->tried->len, ==, 7);
  first = g_ptr_array_index (result->tried, 0);
  g_assert_cmpuint (first->port, ==, lb_test_port ("LB_TEST_IMAPS_PORT"));
  first = g_ptr_array_index (result->tried, 1);
  g_assert_cmpuint (first->port, ==, dead);
  g_assert_error (first->error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  for (guint i = 0; i < result->tried->len; i++)
    {
      LbServerProbe *probe = g_ptr_array_index (result->tried, i);

      g_assert_cmpint (probe->source, ==, LB_SERVER_SOURCE_SRV);
      if (probe->port == dead)
        continue;
      if (probe->port == lb_test_port ("LB_TEST_IMAP_PORT") ||
          probe->port == lb_test_port ("LB_TEST_POP3_PORT") ||
          probe->port == lb_test_port ("LB_TEST_SUBMISSION_PORT"))
        assert_answered (probe, LB_NET_SECURITY_STARTTLS, TRUE);
      else
        assert_answered (probe, LB_NET_SECURITY_TLS, TRUE);
    }
  g_assert_cmpuint (f->resolver->service_lookups, ==, 6);
}

static void
test_srv_not_offered (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(LbDiscoveryResult) result = NULL;
  g_autoptr(GError) error = NULL;
  const char *hosts[] = { "imap.example.test", "pop.example.test", "pop3.example.test",
                          "mail.example.test", "smtp.example.test", "example.test" };

  /* the guesses would find every server: "." must stop them */
  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    test_resolver_add_host (f->resolver, hosts[i]);
  use_harness_ports (f);
  test_resolver_add_srv (f->resolver, "imaps", "localhost", lb_test_port ("LB_TEST_IMAPS_PORT"), 0, 0);
  test_resolver_add_srv (f->resolver, "imap", ".", 0, 0, 0);
  test_resolver_add_srv (f->resolver, "pop3s", ".", 0, 0, 0);
  test_resolver_add_srv (f->resolver, "pop3", ".", 0, 0, 0);
  test_resolver_add_srv (f->resolver, "submissions", ".", 0, 0, 0);
  test_resolver_add_srv (f->resolver, "submission", ".", 0, 0, 0);

  result = discover (f, "alice@example.test", &error);
  g_assert_no_error (error);
  assert_answered (result->imap, LB_NET_SECURITY_TLS, TRUE);
  g_assert_cmpint (result->imap->source, ==, LB_SERVER_SOURCE_SRV);
  g_assert_null (result->pop3);
  g_assert_null (result->submission);
  g_assert_cmpuint (result->tried->len, ==, 1);
}

static void
test_guess (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(LbDiscoveryResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gboolean tried_starttls = FALSE;

  /* no SRV records; only these names exist */
  test_resolver_add_host (f->resolver, "imap.example.test");
  test_resolver_add_host (f->resolver, "pop3.example.test");
  test_resolver_add_host (f->resolver, "smtp.example.test");
  use_harness_ports (f);

  result = discover (f, "alice@example.test", &error);
  g_assert_no_error (error);

  /* the certificate is for localhost: answered, but for the user to judge */
  assert_answered (result->imap, LB_NET_SECURITY_TLS, FALSE);
  g_assert_cmpint (result->imap->source, ==, LB_SERVER_SOURCE_GUESS);
  g_assert_cmpstr (result->imap->host, ==, "imap.example.test");
  g_assert_cmpuint (result->imap->port, ==, lb_test_port ("LB_TEST_IMAPS_PORT"));
  g_assert_cmpint (result->imap->certificate_errors & G_TLS_CERTIFICATE_BAD_IDENTITY, !=, 0);
  assert_answered (result->pop3, LB_NET_SECURITY_TLS, FALSE);
  g_assert_cmpstr (result->pop3->host, ==, "pop3.example.test");
  g_assert_cmpuint (result->pop3->port, ==, lb_test_port ("LB_TEST_POP3S_PORT"));
  assert_answered (result->submission, LB_NET_SECURITY_TLS, FALSE);
  g_assert_cmpstr (result->submission->host, ==, "smtp.example.test");
  g_assert_cmpuint (result->submission->port, ==, lb_test_port ("LB_TEST_SUBMISSIONS_PORT"));

  /* the names that do not exist were not probed; the others on both ports */
  g_assert_cmpuint (result->tried->len, ==, 6);
  for (guint i = 0; i < result->tried->len; i++)
    {
      LbServerProbe *probe = g_ptr_array_index (result->tried, i);

      g_assert_cmpint (probe->source, ==, LB_SERVER_SOURCE_GUESS);
      g_assert_true (g_str_has_prefix (probe->host, lb_service_kind_to_string (probe->kind)) ||
                     (probe->kind == LB_SERVICE_SUBMISSION && g_str_has_prefix (probe->host, "smtp.")));
      if (probe->security == LB_NET_SECURITY_STARTTLS)
        {
          assert_answered (probe, LB_NET_SECURITY_STARTTLS, FALSE);
          tried_starttls = TRUE;
        }
    }
  g_assert_true (tried_starttls);
  g_assert_cmpuint (f->resolver->service_lookups, ==, 6);
}

static void
test_untrusted (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(LbConnector) bare = lb_connector_new ();
  g_autoptr(LbDiscovery) discovery = lb_discovery_new (G_RESOLVER (f->resolver), bare);
  guint16 imaps = lb_test_port ("LB_TEST_IMAPS_PORT");
  g_autoptr(LbServerProbe) untrusted = NULL;
  g_autoptr(LbServerProbe) trusted = NULL;
  g_autoptr(LbServerProbe) pinned = NULL;
  g_autoptr(LbServerProbe) starttls = NULL;
  g_autoptr(LbServerProbe) submission = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *pin = NULL;
  g_autoptr(GTlsCertificate) expected = NULL;
  g_autoptr(GError) error = NULL;
  const char *pins[2] = { NULL, NULL };

  /* the system's authorities do not know the harness's */
  untrusted = probe_with (discovery, LB_SERVICE_IMAP, "localhost", imaps, LB_NET_SECURITY_TLS);
  assert_answered (untrusted, LB_NET_SECURITY_TLS, FALSE);
  g_assert_cmpint (untrusted->certificate_errors & G_TLS_CERTIFICATE_UNKNOWN_CA, !=, 0);
  expected = g_tls_certificate_new_from_file (lb_test_getenv ("LB_TEST_CA_FILE"), &error);
  g_assert_no_error (error);
  g_assert_true (g_tls_certificate_is_same (untrusted->certificate, expected));

  starttls = probe_with (discovery, LB_SERVICE_POP3, "localhost", lb_test_port ("LB_TEST_POP3_PORT"),
                         LB_NET_SECURITY_STARTTLS);
  assert_answered (starttls, LB_NET_SECURITY_STARTTLS, FALSE);
  g_assert_true (g_tls_certificate_is_same (starttls->certificate, expected));
  submission = probe_with (discovery, LB_SERVICE_SUBMISSION, "localhost",
                           lb_test_port ("LB_TEST_SUBMISSION_PORT"), LB_NET_SECURITY_STARTTLS);
  assert_answered (submission, LB_NET_SECURITY_STARTTLS, FALSE);
  g_assert_true (g_tls_certificate_is_same (submission->certificate, expected));

  /* with the authority in the connector's database */
  trusted = probe (f, LB_SERVICE_IMAP, "localhost", imaps, LB_NET_SECURITY_TLS);
  assert_answered (trusted, LB_NET_SECURITY_TLS, TRUE);

  /* or the certificate pinned */
  fingerprint = lb_net_certificate_fingerprint (untrusted->certificate);
  pin = g_strdup_printf ("localhost:%u=%s", imaps, fingerprint);
  pins[0] = pin;
  lb_connector_set_pinned_fingerprints (bare, pins);
  pinned = probe_with (discovery, LB_SERVICE_IMAP, "localhost", imaps, LB_NET_SECURITY_TLS);
  assert_answered (pinned, LB_NET_SECURITY_TLS, TRUE);
}

static void
test_starttls (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(LbServerProbe) imap = NULL;
  g_autoptr(LbServerProbe) pop3 = NULL;
  g_autoptr(LbServerProbe) submission = NULL;
  g_autoptr(LbServerProbe) none = NULL;
  g_autoptr(LbServerProbe) default_port = NULL;

  imap = probe (f, LB_SERVICE_IMAP, "localhost", lb_test_port ("LB_TEST_IMAP_PORT"), LB_NET_SECURITY_STARTTLS);
  assert_answered (imap, LB_NET_SECURITY_STARTTLS, TRUE);
  pop3 = probe (f, LB_SERVICE_POP3, "localhost", lb_test_port ("LB_TEST_POP3_PORT"), LB_NET_SECURITY_STARTTLS);
  assert_answered (pop3, LB_NET_SECURITY_STARTTLS, TRUE);
  submission = probe (f, LB_SERVICE_SUBMISSION, "localhost", lb_test_port ("LB_TEST_SUBMISSION_PORT"),
                      LB_NET_SECURITY_STARTTLS);
  assert_answered (submission, LB_NET_SECURITY_STARTTLS, TRUE);

  /* none asked for, STARTTLS offered: the probe says what is possible */
  none = probe (f, LB_SERVICE_IMAP, "localhost", lb_test_port ("LB_TEST_IMAP_PORT"), LB_NET_SECURITY_NONE);
  assert_answered (none, LB_NET_SECURITY_STARTTLS, TRUE);

  /* port 0: the guess port */
  use_harness_ports (f);
  {
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GError) error = NULL;

    lb_discovery_probe_async (f->discovery, LB_SERVICE_POP3, "localhost", 0, LB_NET_SECURITY_TLS,
                              NULL, lb_test_store_result, &result);
    lb_test_wait (&result);
    default_port = lb_discovery_probe_finish (f->discovery, result, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (default_port->port, ==, lb_test_port ("LB_TEST_POP3S_PORT"));
    assert_answered (default_port, LB_NET_SECURITY_TLS, TRUE);
  }
}

static void
test_refused (Fixture       *f,
              gconstpointer  data)
{
  guint16 dead = unused_port ();
  gint64 start = g_get_monotonic_time ();
  g_autoptr(LbServerProbe) imap = NULL;
  g_autoptr(LbServerProbe) submission = NULL;

  imap = probe (f, LB_SERVICE_IMAP, "localhost", dead, LB_NET_SECURITY_TLS);
  g_assert_error (imap->error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_null (imap->capabilities);
  submission = probe (f, LB_SERVICE_SUBMISSION, "localhost", dead, LB_NET_SECURITY_STARTTLS);
  g_assert_error (submission->error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_nonnull (strstr (submission->error->message, "localhost"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
}

static void
test_wrong_server (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(LbServerProbe) pop3 = NULL;
  g_autoptr(LbServerProbe) imap = NULL;
  g_autoptr(LbServerProbe) submission = NULL;

  pop3 = probe (f, LB_SERVICE_POP3, "localhost", lb_test_port ("LB_TEST_IMAPS_PORT"), LB_NET_SECURITY_TLS);
  g_assert_error (pop3->error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (pop3->error->message, "not a POP3 server"));
  g_assert_null (pop3->capabilities);

  imap = probe (f, LB_SERVICE_IMAP, "localhost", lb_test_port ("LB_TEST_POP3_PORT"), LB_NET_SECURITY_STARTTLS);
  g_assert_error (imap->error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (imap->error->message, "not an IMAP server"));

  submission = probe (f, LB_SERVICE_SUBMISSION, "localhost", lb_test_port ("LB_TEST_IMAP_PORT"),
                      LB_NET_SECURITY_STARTTLS);
  g_assert_error (submission->error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (submission->error->message, "not an SMTP submission server"));
}

/* the scripted server: what the harness's servers will not do */

static LbServerProbe *
probe_script (Fixture       *f,
              LbServiceKind  kind,
              LbNetSecurity  security,
              const char    *script)
{
  g_autoptr(LbTestScriptServer) server = NULL;
  g_autoptr(GError) error = NULL;
  LbServerProbe *result;

  server = lb_test_script_server_new (&error);
  g_assert_no_error (error);
  lb_test_script_server_add_script (server, script);
  result = probe (f, kind, "localhost", lb_test_script_server_get_port (server), security);
  lb_test_script_server_wait (server, &error);
  g_assert_no_error (error);

  return result;
}

static void
test_plaintext_only (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(LbServerProbe) imap = NULL;
  g_autoptr(LbServerProbe) pop3 = NULL;
  g_autoptr(LbServerProbe) submission = NULL;

  imap = probe_script (f, LB_SERVICE_IMAP, LB_NET_SECURITY_STARTTLS,
                       "S: * OK Plain old IMAP\n"
                       "C: A1 CAPABILITY\n"
                       "S: * CAPABILITY IMAP4rev1 AUTH=PLAIN\n"
                       "S: A1 OK done\n"
                       "C: A2 LOGOUT\n"
                       "S: * BYE bye\n"
                       "S: A2 OK done\n");
  g_assert_no_error (imap->error);
  g_assert_true (imap->plaintext_only);
  g_assert_cmpint (imap->security, ==, LB_NET_SECURITY_NONE);
  g_assert_null (imap->certificate);
  g_assert_true (has_capability (imap, "AUTH=PLAIN"));

  pop3 = probe_script (f, LB_SERVICE_POP3, LB_NET_SECURITY_STARTTLS,
                       "S: +OK Plain old POP3\n"
                       "C: CAPA\n"
                       "S: +OK\n"
                       "S: USER\n"
                       "S: UIDL\n"
                       "S: .\n"
                       "C: QUIT\n"
                       "S: +OK bye\n");
  g_assert_no_error (pop3->error);
  g_assert_true (pop3->plaintext_only);
  g_assert_cmpint (pop3->security, ==, LB_NET_SECURITY_NONE);
  g_assert_true (has_capability (pop3, "USER"));

  /* a multi-line greeting and EHLO reply, a keyword in lower case */
  submission = probe_script (f, LB_SERVICE_SUBMISSION, LB_NET_SECURITY_STARTTLS,
                             "S: 220-mail.example.test ESMTP\n"
                             "S: 220 plain old SMTP\n"
                             "C~ ^EHLO \\[127\\.0\\.0\\.1\\]$\n"
                             "S: 250-mail.example.test\n"
                             "S: 250-size 1000000\n"
                             "S: 250-8BITMIME\n"
                             "S: 250 AUTH PLAIN LOGIN\n"
                             "C: QUIT\n"
                             "S: 221 bye\n");
  g_assert_no_error (submission->error);
  g_assert_true (submission->plaintext_only);
  g_assert_cmpint (submission->security, ==, LB_NET_SECURITY_NONE);
  g_assert_cmpuint (g_strv_length (submission->capabilities), ==, 3);
  g_assert_cmpstr (submission->capabilities[0], ==, "SIZE 1000000");
  g_assert_cmpstr (submission->capabilities[1], ==, "8BITMIME");
  g_assert_cmpstr (submission->capabilities[2], ==, "AUTH PLAIN LOGIN");
}

static void
test_smtp_limits (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(LbServerProbe) refused = NULL;
  g_autoptr(LbServerProbe) long_line = NULL;
  g_autoptr(LbServerProbe) silent = NULL;
  g_autoptr(LbServerProbe) no_ehlo = NULL;
  g_autofree char *filler = g_strnfill (5000, 'x');
  g_autofree char *script = g_strdup_printf ("S: 220 %s\n", filler);
  gint64 start;

  refused = probe_script (f, LB_SERVICE_SUBMISSION, LB_NET_SECURITY_STARTTLS,
                          "S: 554 No service for you\n");
  g_assert_nonnull (refused->error);
  g_assert_nonnull (strstr (refused->error->message, "No service for you"));

  long_line = probe_script (f, LB_SERVICE_SUBMISSION, LB_NET_SECURITY_STARTTLS, script);
  g_assert_error (long_line->error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);

  no_ehlo = probe_script (f, LB_SERVICE_SUBMISSION, LB_NET_SECURITY_STARTTLS,
                          "S: 220 old\n"
                          "C: EHLO\n"
                          "S: 502 what?\n");
  g_assert_error (no_ehlo->error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (no_ehlo->error->message, "502 what?"));

  /* says nothing at all */
  lb_connector_set_timeout (f->connector, 1);
  start = g_get_monotonic_time ();
  silent = probe_script (f, LB_SERVICE_SUBMISSION, LB_NET_SECURITY_STARTTLS, "SLEEP 2500\n");
  g_assert_error (silent->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC);
}

static void
cancel_cb (gpointer data)
{
  g_cancellable_cancel (data);
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(LbTestScriptServer) server = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LbDiscoveryResult) found = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  server = lb_test_script_server_new (&error);
  g_assert_no_error (error);
  /* a server that is slow to greet: the probes are under way when cancelled */
  for (guint i = 0; i < 2; i++)
    lb_test_script_server_add_script (server, "SLEEP 2000\nS: * OK late\n");
  test_resolver_add_srv (f->resolver, "imap", "localhost", lb_test_script_server_get_port (server), 0, 0);
  test_resolver_add_srv (f->resolver, "submission", "localhost",
                         lb_test_script_server_get_port (server), 0, 0);

  start = g_get_monotonic_time ();
  g_timeout_add_once (300, cancel_cb, cancellable);
  lb_discovery_discover_async (f->discovery, "alice@example.test", cancellable,
                               lb_test_store_result, &result);
  lb_test_wait (&result);
  found = lb_discovery_discover_finish (f->discovery, result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (found);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 1500 * G_TIME_SPAN_MILLISECOND);
  g_clear_object (&result);

  /* nothing of the discovery is left to run */
  g_assert_false (g_main_context_pending (NULL));

  /* already cancelled */
  lb_discovery_discover_async (f->discovery, "alice@example.test", cancellable,
                               lb_test_store_result, &result);
  lb_test_wait (&result);
  g_clear_error (&error);
  found = lb_discovery_discover_finish (f->discovery, result, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_main_context_pending (NULL));

  lb_test_script_server_wait (server, NULL);
}

static void
test_timeout (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(LbTestScriptServer) server = NULL;
  g_autoptr(LbDiscoveryResult) result = NULL;
  g_autoptr(GError) error = NULL;
  LbServerProbe *probe;
  gint64 start;

  server = lb_test_script_server_new (&error);
  g_assert_no_error (error);
  lb_test_script_server_add_script (server, "SLEEP 4000\nS: 220 late\n");
  test_resolver_add_srv (f->resolver, "imaps", "localhost", lb_test_port ("LB_TEST_IMAPS_PORT"), 0, 0);
  test_resolver_add_srv (f->resolver, "submission", "localhost", lb_test_script_server_get_port (server), 0, 0);
  lb_connector_set_timeout (f->connector, 2);

  start = g_get_monotonic_time ();
  result = discover (f, "alice@example.test", &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3500 * G_TIME_SPAN_MILLISECOND);
  assert_answered (result->imap, LB_NET_SECURITY_TLS, TRUE);
  g_assert_cmpuint (result->tried->len, ==, 2);
  probe = g_ptr_array_index (result->tried, 1);
  g_assert_cmpuint (probe->port, ==, lb_test_script_server_get_port (server));
  g_assert_cmpint (probe->kind, ==, LB_SERVICE_SUBMISSION);
  g_assert_error (probe->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_null (result->submission);

  lb_test_script_server_wait (server, NULL);
}

static void
test_no_domain (Fixture       *f,
                gconstpointer  data)
{
  const char *addresses[] = { "alice", "alice@", "alice@ ", "alice@.", "alice@[127.0.0.1]",
                              "alice@exa mple.test", "" };

  for (guint i = 0; i < G_N_ELEMENTS (addresses); i++)
    {
      g_autoptr(LbDiscoveryResult) result = NULL;
      g_autoptr(GError) error = NULL;

      result = discover (f, addresses[i], &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_null (result);
      g_assert_nonnull (strstr (error->message, addresses[i]));
    }
  g_assert_cmpuint (f->resolver->service_lookups, ==, 0);
}

static void
test_nothing_found (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(LbDiscoveryResult) result = NULL;
  g_autoptr(GError) error = NULL;

  result = discover (f, "alice@nowhere.test", &error);
  g_assert_no_error (error);
  g_assert_null (result->imap);
  g_assert_null (result->pop3);
  g_assert_null (result->submission);
  g_assert_cmpuint (result->tried->len, ==, 0);
  /* the usual names were looked up: imap, pop, pop3, mail, smtp and the domain */
  g_assert_cmpuint (f->resolver->name_lookups, ==, 6);
}

static void
test_probe_copy (void)
{
  LbServerProbe probe = {
    .kind = LB_SERVICE_POP3,
    .source = LB_SERVER_SOURCE_GUESS,
    .host = (char *) "pop.example.test",
    .port = 995,
    .security = LB_NET_SECURITY_TLS,
    .capabilities = (char *[]) { (char *) "UIDL", NULL },
    .certificate_errors = G_TLS_CERTIFICATE_EXPIRED,
    .plaintext_only = FALSE,
    .error = NULL,
  };
  g_autoptr(LbServerProbe) copy = lb_server_probe_copy (&probe);

  g_assert_cmpstr (copy->host, ==, probe.host);
  g_assert_true (copy->host != probe.host);
  g_assert_cmpuint (copy->port, ==, 995);
  g_assert_cmpint (copy->kind, ==, LB_SERVICE_POP3);
  g_assert_cmpint (copy->source, ==, LB_SERVER_SOURCE_GUESS);
  g_assert_cmpstrv (copy->capabilities, probe.capabilities);
  g_assert_cmpint (copy->certificate_errors, ==, G_TLS_CERTIFICATE_EXPIRED);
  g_assert_cmpstr (lb_service_kind_to_string (LB_SERVICE_IMAP), ==, "imap");
  g_assert_cmpstr (lb_service_kind_to_string (LB_SERVICE_POP3), ==, "pop3");
  g_assert_cmpstr (lb_service_kind_to_string (LB_SERVICE_SUBMISSION), ==, "submission");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/discovery/srv", test_srv);
  ADD ("/discovery/srv-not-offered", test_srv_not_offered);
  ADD ("/discovery/guess", test_guess);
  ADD ("/discovery/nothing-found", test_nothing_found);
  ADD ("/discovery/untrusted", test_untrusted);
  ADD ("/discovery/starttls", test_starttls);
  ADD ("/discovery/refused", test_refused);
  ADD ("/discovery/wrong-server", test_wrong_server);
  ADD ("/discovery/plaintext-only", test_plaintext_only);
  ADD ("/discovery/smtp-limits", test_smtp_limits);
  ADD ("/discovery/cancel", test_cancel);
  ADD ("/discovery/timeout", test_timeout);
  ADD ("/discovery/no-domain", test_no_domain);
  g_test_add_func ("/discovery/probe-copy", test_probe_copy);

  return g_test_run ();
}
