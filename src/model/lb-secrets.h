/* lb-secrets.h: account passwords in the system keyring
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define LB_SECRETS_ERROR (lb_secrets_error_quark ())

/**
 * LbSecretsError:
 * @LB_SECRETS_ERROR_NO_SERVICE: there is no Secret Service (such as GNOME
 *   Keyring) on the session bus, it could not be started, or there is no
 *   session bus at all
 * @LB_SECRETS_ERROR_LOCKED: the keyring is locked and was not unlocked:
 *   the user dismissed the unlock prompt, or no prompt could be shown
 * @LB_SECRETS_ERROR_TIMEOUT: the keyring did not answer within
 *   #LbSecrets:timeout
 * @LB_SECRETS_ERROR_FAILED: anything else; the message says what
 *
 * Errors of #LbSecrets; their messages are translated and meant for the
 * user. A caller's cancellation is %G_IO_ERROR_CANCELLED, as usual.
 */
typedef enum
{
  LB_SECRETS_ERROR_NO_SERVICE,
  LB_SECRETS_ERROR_LOCKED,
  LB_SECRETS_ERROR_TIMEOUT,
  LB_SECRETS_ERROR_FAILED,
} LbSecretsError;

GQuark lb_secrets_error_quark (void);

/**
 * LbSecretKey:
 * @account_id: the account's stable id; required
 * @protocol: "imap", "pop3" or "smtp"; required, except that
 *   lb_secrets_clear_async() takes %NULL for every password of the account
 * @host: (nullable): the server's host name, shown by keyring managers
 * @user: (nullable): the user name on that server, shown likewise
 *
 * Which password. A password belongs to an account and a protocol: lookup
 * and clear match on those two only, so a corrected host or user name
 * still finds it. @host and @user are stored along with it so that other
 * keyring tools (Seahorse) show what the item is for; an empty string is
 * the same as %NULL. All strings are UTF-8.
 */
typedef struct
{
  const char *account_id;
  const char *protocol;
  const char *host;
  const char *user;
} LbSecretKey;

#define LB_TYPE_SECRETS (lb_secrets_get_type ())

G_DECLARE_FINAL_TYPE (LbSecrets, lb_secrets, LB, SECRETS, GObject)

LbSecrets *lb_secrets_new            (void);

guint      lb_secrets_get_timeout    (LbSecrets            *self);
void       lb_secrets_set_timeout    (LbSecrets            *self,
                                      guint                 seconds);

void       lb_secrets_store_async    (LbSecrets            *self,
                                      const LbSecretKey    *key,
                                      const char           *label,
                                      const char           *password,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data);
gboolean   lb_secrets_store_finish   (LbSecrets            *self,
                                      GAsyncResult         *result,
                                      GError              **error);

void       lb_secrets_lookup_async   (LbSecrets            *self,
                                      const LbSecretKey    *key,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data);
char      *lb_secrets_lookup_finish  (LbSecrets            *self,
                                      GAsyncResult         *result,
                                      GError              **error);

void       lb_secrets_clear_async    (LbSecrets            *self,
                                      const LbSecretKey    *key,
                                      GCancellable         *cancellable,
                                      GAsyncReadyCallback   callback,
                                      gpointer              user_data);
gboolean   lb_secrets_clear_finish   (LbSecrets            *self,
                                      GAsyncResult         *result,
                                      GError              **error);

void       lb_secrets_password_free  (char                 *password);

/* g_autoptr(LbSecretsPassword) frees a looked-up password from secure memory */
typedef char LbSecretsPassword;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbSecretsPassword, lb_secrets_password_free)

G_END_DECLS
