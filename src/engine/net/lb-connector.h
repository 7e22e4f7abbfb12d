/* lb-connector.h: opens connections to mail servers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-net-security.h"

G_BEGIN_DECLS

#define LB_TYPE_CONNECTOR (lb_connector_get_type ())

G_DECLARE_FINAL_TYPE (LbConnector, lb_connector, LB, CONNECTOR, GObject)

LbConnector  *lb_connector_new                (void);

GTlsDatabase *lb_connector_get_tls_database   (LbConnector          *self);
void          lb_connector_set_tls_database   (LbConnector          *self,
                                               GTlsDatabase         *database);
guint         lb_connector_get_timeout        (LbConnector          *self);
void          lb_connector_set_timeout        (LbConnector          *self,
                                               guint                 seconds);

/* certificates the user pinned, and the one a server was refused for */
void             lb_connector_set_pinned_fingerprints  (LbConnector          *self,
                                                        const char * const   *pins);
GTlsCertificate *lb_connector_dup_rejected_certificate (LbConnector          *self,
                                                        const char           *host,
                                                        guint16               port,
                                                        GTlsCertificateFlags *errors);

void          lb_connector_connect_async      (LbConnector          *self,
                                               const char           *host,
                                               guint16               port,
                                               LbNetSecurity         security,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
GIOStream    *lb_connector_connect_finish     (LbConnector          *self,
                                               GAsyncResult         *result,
                                               GError              **error);

void          lb_connector_start_tls_async    (LbConnector          *self,
                                               GIOStream            *plain,
                                               const char           *host,
                                               guint16               port,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
GIOStream    *lb_connector_start_tls_finish   (LbConnector          *self,
                                               GAsyncResult         *result,
                                               GError              **error);

G_END_DECLS
