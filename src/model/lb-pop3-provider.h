/* lb-pop3-provider.h: downloads an account's POP3 mail into its local Inbox
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-account.h"
#include "lb-connector.h"
#include "lb-provider.h"
#include "lb-secrets.h"
#include "lb-store.h"

G_BEGIN_DECLS

#define LB_POP3_PROVIDER_ERROR (lb_pop3_provider_error_quark ())

/**
 * LbPop3ProviderError:
 * @LB_POP3_PROVIDER_ERROR_PLAINTEXT_REFUSED: the connection is not
 *   encrypted and the account does not allow sending its password that
 *   way; nothing was sent
 * @LB_POP3_PROVIDER_ERROR_NO_PASSWORD: the keyring has no password for
 *   the account
 * @LB_POP3_PROVIDER_ERROR_ACCOUNT_GONE: the account was removed or closed
 * @LB_POP3_PROVIDER_ERROR_NOT_ON_SERVER: the rest of a message was asked
 *   for and the server no longer has it
 * @LB_POP3_PROVIDER_ERROR_NO_INBOX: the account has no local Inbox
 *
 * Errors of #LbPop3Provider itself; the server's and the connection's
 * come in the %LB_POP3_ERROR, %G_IO_ERROR and %G_TLS_ERROR domains.
 */
typedef enum
{
  LB_POP3_PROVIDER_ERROR_PLAINTEXT_REFUSED,
  LB_POP3_PROVIDER_ERROR_NO_PASSWORD,
  LB_POP3_PROVIDER_ERROR_ACCOUNT_GONE,
  LB_POP3_PROVIDER_ERROR_NOT_ON_SERVER,
  LB_POP3_PROVIDER_ERROR_NO_INBOX,
} LbPop3ProviderError;

GQuark lb_pop3_provider_error_quark (void);

/**
 * LbPop3Stats:
 * @on_server: messages in the server's mailbox when the check began
 * @downloaded: new messages stored here whole
 * @headers_only: new messages over the size limit, stored as their headers
 * @deleted: messages deleted from the server (the server confirmed QUIT)
 *
 * What one check did.
 */
typedef struct
{
  guint on_server;
  guint downloaded;
  guint headers_only;
  guint deleted;
} LbPop3Stats;

#define LB_TYPE_POP3_PROVIDER (lb_pop3_provider_get_type ())

G_DECLARE_FINAL_TYPE (LbPop3Provider, lb_pop3_provider, LB, POP3_PROVIDER, GObject)

LbPop3Provider *lb_pop3_provider_new                      (LbAccount            *account,
                                                           LbStore              *store,
                                                           LbSecrets            *secrets,
                                                           LbConnector          *connector);

const char     *lb_pop3_provider_get_rejected_fingerprint (LbPop3Provider       *self);
void            lb_pop3_provider_close                    (LbPop3Provider       *self);

void            lb_pop3_provider_check_async              (LbPop3Provider       *self,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
gboolean        lb_pop3_provider_check_finish             (LbPop3Provider       *self,
                                                           GAsyncResult         *result,
                                                           LbPop3Stats          *stats,
                                                           GError              **error);

void            lb_pop3_provider_download_rest_async      (LbPop3Provider       *self,
                                                           gint64                key,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
gboolean        lb_pop3_provider_download_rest_finish     (LbPop3Provider       *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);

/* a folder of the account's own, here (where the user files mail) */
void            lb_pop3_provider_create_folder_async      (LbPop3Provider       *self,
                                                           const char           *name,
                                                           LbFolderRole          role,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
LbFolderInfo   *lb_pop3_provider_create_folder_finish     (LbPop3Provider       *self,
                                                           GAsyncResult         *result,
                                                           GError              **error);

void            lb_pop3_provider_is_partial_async         (LbPop3Provider       *self,
                                                           gint64                key,
                                                           GCancellable         *cancellable,
                                                           GAsyncReadyCallback   callback,
                                                           gpointer              user_data);
gboolean        lb_pop3_provider_is_partial_finish        (LbPop3Provider       *self,
                                                           GAsyncResult         *result,
                                                           gboolean             *partial,
                                                           GError              **error);

G_END_DECLS
