/* lb-imap-provider.h: an account's folders and messages on an IMAP server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-account.h"
#include "lb-connector.h"
#include "lb-imap-sync.h"
#include "lb-provider.h"
#include "lb-secrets.h"
#include "lb-store.h"

G_BEGIN_DECLS

#define LB_IMAP_PROVIDER_ERROR (lb_imap_provider_error_quark ())

/**
 * LbImapProviderError:
 * @LB_IMAP_PROVIDER_ERROR_PLAINTEXT_REFUSED: the connection is not
 *   encrypted and the account does not allow sending its password that way
 *   (#LbAccount:allow-plaintext-password); nothing was sent
 * @LB_IMAP_PROVIDER_ERROR_NO_PASSWORD: the keyring has no password for the
 *   account
 * @LB_IMAP_PROVIDER_ERROR_ACCOUNT_GONE: the account was removed
 * @LB_IMAP_PROVIDER_ERROR_NOT_ON_SERVER: the message or folder is not on
 *   the server (any more)
 * @LB_IMAP_PROVIDER_ERROR_INVALID_NAME: a folder name the server cannot take
 * @LB_IMAP_PROVIDER_ERROR_REFUSED: the server refused a change made here
 *   (lb_provider_replay_queue_async() on a change tried for the first
 *   time); it stays queued, with the refusal as its last error
 *
 * Errors of #LbImapProvider itself; the server's and the connection's
 * come in the %LB_IMAP_ERROR, %G_IO_ERROR and %G_TLS_ERROR domains. An
 * untrusted certificate is %G_TLS_ERROR_BAD_CERTIFICATE, whose message
 * gives the certificate's SHA-256 fingerprint; so does
 * lb_imap_provider_get_rejected_fingerprint(), for
 * lb_account_pin_certificate() once the user checked it.
 */
typedef enum
{
  LB_IMAP_PROVIDER_ERROR_PLAINTEXT_REFUSED,
  LB_IMAP_PROVIDER_ERROR_NO_PASSWORD,
  LB_IMAP_PROVIDER_ERROR_ACCOUNT_GONE,
  LB_IMAP_PROVIDER_ERROR_NOT_ON_SERVER,
  LB_IMAP_PROVIDER_ERROR_INVALID_NAME,
  LB_IMAP_PROVIDER_ERROR_REFUSED,
} LbImapProviderError;

GQuark lb_imap_provider_error_quark (void);

#define LB_TYPE_IMAP_PROVIDER (lb_imap_provider_get_type ())

G_DECLARE_FINAL_TYPE (LbImapProvider, lb_imap_provider, LB, IMAP_PROVIDER, GObject)

LbImapProvider *lb_imap_provider_new                    (LbAccount            *account,
                                                         LbStore              *store,
                                                         LbSecrets            *secrets,
                                                         LbConnector          *connector,
                                                         GNetworkMonitor      *monitor);

void            lb_imap_provider_close                  (LbImapProvider       *self);
gboolean        lb_imap_provider_get_connected          (LbImapProvider       *self);
const char     *lb_imap_provider_get_rejected_fingerprint (LbImapProvider     *self);

gboolean        lb_imap_provider_get_background         (LbImapProvider       *self);
void            lb_imap_provider_set_background         (LbImapProvider       *self,
                                                         gboolean              background);
gint64          lb_imap_provider_get_watched_folder     (LbImapProvider       *self);
void            lb_imap_provider_set_watched_folder     (LbImapProvider       *self,
                                                         gint64                folder_id);
gboolean        lb_imap_provider_get_compress           (LbImapProvider       *self);
void            lb_imap_provider_set_compress           (LbImapProvider       *self,
                                                         gboolean              compress);

void            lb_imap_provider_sync_folder_async      (LbImapProvider       *self,
                                                         gint64                folder_id,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
gboolean        lb_imap_provider_sync_folder_finish     (LbImapProvider       *self,
                                                         GAsyncResult         *result,
                                                         LbImapSyncStats      *stats,
                                                         GError              **error);
void            lb_imap_provider_fetch_bodies_async     (LbImapProvider       *self,
                                                         gint64                folder_id,
                                                         gint64                since,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
guint           lb_imap_provider_fetch_bodies_finish    (LbImapProvider       *self,
                                                         GAsyncResult         *result,
                                                         GError              **error);
void            lb_imap_provider_fetch_part_async       (LbImapProvider       *self,
                                                         gint64                key,
                                                         const char           *section,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
GBytes         *lb_imap_provider_fetch_part_finish      (LbImapProvider       *self,
                                                         GAsyncResult         *result,
                                                         GError              **error);

void            lb_imap_provider_search_async           (LbImapProvider       *self,
                                                         gint64                folder_id,
                                                         const char           *text,
                                                         guint                 limit,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
GArray         *lb_imap_provider_search_finish          (LbImapProvider       *self,
                                                         GAsyncResult         *result,
                                                         GError              **error);

void            lb_imap_provider_trash_async            (LbImapProvider       *self,
                                                         GArray               *keys,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
gboolean        lb_imap_provider_trash_finish           (LbImapProvider       *self,
                                                         GAsyncResult         *result,
                                                         GError              **error);
void            lb_imap_provider_save_draft_async       (LbImapProvider       *self,
                                                         gint64                folder_id,
                                                         GBytes               *raw,
                                                         gint64                replaces_key,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
gint64          lb_imap_provider_save_draft_finish      (LbImapProvider       *self,
                                                         GAsyncResult         *result,
                                                         GError              **error);
void            lb_imap_provider_set_junk_async         (LbImapProvider       *self,
                                                         GArray               *keys,
                                                         gboolean              junk,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
gboolean        lb_imap_provider_set_junk_finish        (LbImapProvider       *self,
                                                         GAsyncResult         *result,
                                                         GError              **error);

void            lb_imap_provider_create_folder_async    (LbImapProvider       *self,
                                                         gint64                parent_id,
                                                         const char           *name,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
LbFolderInfo   *lb_imap_provider_create_folder_finish   (LbImapProvider       *self,
                                                         GAsyncResult         *result,
                                                         GError              **error);
void            lb_imap_provider_rename_folder_async    (LbImapProvider       *self,
                                                         gint64                folder_id,
                                                         const char           *new_name,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
gboolean        lb_imap_provider_rename_folder_finish   (LbImapProvider       *self,
                                                         GAsyncResult         *result,
                                                         GError              **error);
void            lb_imap_provider_delete_folder_async    (LbImapProvider       *self,
                                                         gint64                folder_id,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
gboolean        lb_imap_provider_delete_folder_finish   (LbImapProvider       *self,
                                                         GAsyncResult         *result,
                                                         GError              **error);
void            lb_imap_provider_subscribe_folder_async (LbImapProvider       *self,
                                                         gint64                folder_id,
                                                         gboolean              subscribe,
                                                         GCancellable         *cancellable,
                                                         GAsyncReadyCallback   callback,
                                                         gpointer              user_data);
gboolean        lb_imap_provider_subscribe_folder_finish (LbImapProvider      *self,
                                                         GAsyncResult         *result,
                                                         GError              **error);

/* pure helpers, for tests */
LbFolderRole    lb_imap_provider_role_for_name          (const char           *name);
LbFolderRole    lb_imap_provider_role_for_attributes    (char * const         *attributes);

G_END_DECLS
