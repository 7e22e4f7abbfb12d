/* lb-discovery.h: finds and probes an address's mail servers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-connector.h"
#include "lb-net-security.h"

G_BEGIN_DECLS

/**
 * LbServiceKind:
 * @LB_SERVICE_IMAP: incoming mail over IMAP
 * @LB_SERVICE_POP3: incoming mail over POP3
 * @LB_SERVICE_SUBMISSION: outgoing mail over SMTP submission
 */
typedef enum
{
  LB_SERVICE_IMAP,
  LB_SERVICE_POP3,
  LB_SERVICE_SUBMISSION,
} LbServiceKind;

/**
 * LbServerSource:
 * @LB_SERVER_SOURCE_SRV: an RFC 6186 SRV record of the domain
 * @LB_SERVER_SOURCE_GUESS: a usual host name (imap., pop., mail., smtp.,
 *   the domain itself) and port
 * @LB_SERVER_SOURCE_MANUAL: what the user typed
 */
typedef enum
{
  LB_SERVER_SOURCE_SRV,
  LB_SERVER_SOURCE_GUESS,
  LB_SERVER_SOURCE_MANUAL,
} LbServerSource;

/**
 * LbServerProbe:
 * @kind: the service
 * @source: where @host and @port came from
 * @host: the server's host name
 * @port: its port
 * @security: how the connection was (or would be) protected: implicit TLS,
 *   STARTTLS, or none
 * @capabilities: (nullable): what the server announced (CAPABILITY for
 *   IMAP, CAPA for POP3, the EHLO keywords for submission), upper case
 * @certificate: (nullable): the server's certificate when it was not
 *   trusted (@certificate_errors is then not 0): the user may accept it
 *   once or pin it after seeing its fingerprint, issuer and validity
 * @certificate_errors: why @certificate was not trusted
 * @plaintext_only: the server answered but offers neither TLS nor
 *   STARTTLS: the password would go unencrypted, which needs the user's
 *   explicit consent
 * @error: (nullable): why the probe failed (connection refused, timed out,
 *   not a server of @kind); %NULL when the server answered
 *
 * What one probe of one server found. A probe is a real connection: it
 * reads the greeting, asks for the capabilities (after STARTTLS when the
 * server offers it), and logs out without sending a password.
 */
typedef struct
{
  LbServiceKind         kind;
  LbServerSource        source;
  char                 *host;
  guint16               port;
  LbNetSecurity         security;
  char                **capabilities;
  GTlsCertificate      *certificate;
  GTlsCertificateFlags  certificate_errors;
  gboolean              plaintext_only;
  GError               *error;
} LbServerProbe;

/**
 * LbDiscoveryResult:
 * @imap: (nullable): the best IMAP server found
 * @pop3: (nullable): the best POP3 server found
 * @submission: (nullable): the best submission server found
 * @tried: every #LbServerProbe made, in the order they were made, for a
 *   "details" view
 *
 * The best server of each kind is one that answered: implicit TLS before
 * STARTTLS before none, a trusted certificate before an untrusted one,
 * SRV records (in their priority and weight order) before guesses. A kind
 * is %NULL when no server of it answered.
 */
typedef struct
{
  LbServerProbe *imap;
  LbServerProbe *pop3;
  LbServerProbe *submission;
  GPtrArray     *tried;
} LbDiscoveryResult;

#define LB_TYPE_DISCOVERY (lb_discovery_get_type ())

G_DECLARE_FINAL_TYPE (LbDiscovery, lb_discovery, LB, DISCOVERY, GObject)

/* @resolver: (nullable): for the SRV records and host names; NULL for
 * g_resolver_get_default(). Tests pass their own.
 * @connector: (nullable): opens the probe connections; NULL for a new
 * one. Pass one with the user's pinned certificates to trust them. */
LbDiscovery       *lb_discovery_new              (GResolver           *resolver,
                                                  LbConnector         *connector);

/* The port the guesses try for @kind and @security: by default 993/143
 * for IMAP, 995/110 for POP3, 465/587 for submission (25 is never
 * tried). A test environment, or a provider known to use other ports,
 * sets them here. */
void               lb_discovery_set_guess_port   (LbDiscovery         *self,
                                                  LbServiceKind        kind,
                                                  LbNetSecurity        security,
                                                  guint16              port);

/* Finds the servers of @address's domain: the SRV records _imaps._tcp,
 * _imap._tcp, _pop3s._tcp, _pop3._tcp, _submissions._tcp and
 * _submission._tcp first (RFC 6186; a "." target means the service is not
 * offered), then the usual host names with the usual ports, probing each
 * candidate with a real connection. Probes run in parallel; the whole
 * discovery gives up after the connector's timeout. Fails only when
 * @address has no domain or @cancellable is cancelled: finding nothing is
 * a result with three %NULLs. */
void               lb_discovery_discover_async   (LbDiscovery         *self,
                                                  const char          *address,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
LbDiscoveryResult *lb_discovery_discover_finish  (LbDiscovery         *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);

/* Probes one server the user named. @security is what to try; with
 * @port 0 the usual port for @kind and @security. The result's @error says
 * what went wrong; the call itself fails only when cancelled. */
void               lb_discovery_probe_async      (LbDiscovery         *self,
                                                  LbServiceKind        kind,
                                                  const char          *host,
                                                  guint16              port,
                                                  LbNetSecurity        security,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
LbServerProbe     *lb_discovery_probe_finish     (LbDiscovery         *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);

LbServerProbe     *lb_server_probe_copy          (const LbServerProbe *probe);
void               lb_server_probe_free          (LbServerProbe       *probe);
void               lb_discovery_result_free      (LbDiscoveryResult   *result);

/* "imap", "pop3", "submission" */
const char        *lb_service_kind_to_string     (LbServiceKind        kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbServerProbe, lb_server_probe_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbDiscoveryResult, lb_discovery_result_free)

G_END_DECLS
