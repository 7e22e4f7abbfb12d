/* lb-certificate-dialog.h: asks whether to trust a server's certificate
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/**
 * LbCertificateDecision:
 * @LB_CERTIFICATE_REJECT: do not connect
 * @LB_CERTIFICATE_ACCEPT_ONCE: trust it until Letterbox quits
 * @LB_CERTIFICATE_PIN: trust this certificate of this server from now on
 *   (the account keeps its fingerprint)
 */
typedef enum
{
  LB_CERTIFICATE_REJECT,
  LB_CERTIFICATE_ACCEPT_ONCE,
  LB_CERTIFICATE_PIN,
} LbCertificateDecision;

/* Shows, over @parent, why the certificate of @host:@port is not trusted
 * (@errors in plain words), its SHA-256 fingerprint, issuer, subject and
 * validity, and asks. Reject is the default and what closing the dialog
 * means. */
void                  lb_certificate_dialog_run_async  (GtkWindow            *parent,
                                                        const char           *host,
                                                        guint16               port,
                                                        GTlsCertificate      *certificate,
                                                        GTlsCertificateFlags  errors,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
LbCertificateDecision lb_certificate_dialog_run_finish (GAsyncResult         *result,
                                                        GError              **error);

G_END_DECLS
