/* lb-secrets.h: account passwords in the system keyring
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * LbSecretKind:
 * @LB_SECRET_INCOMING: the password of the IMAP or POP3 server
 * @LB_SECRET_OUTGOING: the password of the SMTP server
 */
typedef enum
{
  LB_SECRET_INCOMING,
  LB_SECRET_OUTGOING,
} LbSecretKind;

#define LB_TYPE_SECRETS (lb_secrets_get_type ())

G_DECLARE_FINAL_TYPE (LbSecrets, lb_secrets, LB, SECRETS, GObject)

LbSecrets *lb_secrets_new          (void);

void       lb_secrets_store_async  (LbSecrets            *self,
                                    const char           *account_id,
                                    LbSecretKind          kind,
                                    const char           *label,
                                    const char           *password,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data);
gboolean   lb_secrets_store_finish (LbSecrets            *self,
                                    GAsyncResult         *result,
                                    GError              **error);

void       lb_secrets_lookup_async (LbSecrets            *self,
                                    const char           *account_id,
                                    LbSecretKind          kind,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data);
char      *lb_secrets_lookup_finish (LbSecrets           *self,
                                    GAsyncResult         *result,
                                    GError              **error);

void       lb_secrets_clear_async  (LbSecrets            *self,
                                    const char           *account_id,
                                    LbSecretKind          kind,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data);
gboolean   lb_secrets_clear_finish (LbSecrets            *self,
                                    GAsyncResult         *result,
                                    GError              **error);

void       lb_secrets_password_free (char                *password);

/* g_autoptr(LbSecretsPassword) frees a looked-up password from secure memory */
typedef char LbSecretsPassword;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbSecretsPassword, lb_secrets_password_free)

G_END_DECLS
