/* lb-net-certificate.h: what a user needs to judge a server's certificate
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

char *lb_net_certificate_fingerprint     (GTlsCertificate      *certificate);
char *lb_net_normalize_fingerprint       (const char           *fingerprint);
char *lb_net_certificate_describe_errors (GTlsCertificateFlags  errors);

G_END_DECLS
