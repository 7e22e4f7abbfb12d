/* lb-provider.h: where an account's folders and messages come from
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-store.h"

G_BEGIN_DECLS

#define LB_TYPE_PROVIDER (lb_provider_get_type ())

G_DECLARE_INTERFACE (LbProvider, lb_provider, LB, PROVIDER, GObject)

/**
 * LbProviderInterface:
 * @get_store: returns the provider's store (transfer none)
 * @get_protocol_name: returns "imap", "pop3" or "local"
 * @connect_async: logs in (a provider without a server succeeds at once)
 * @disconnect_async: logs out and closes the connection
 * @list_folders_async: refreshes the store's folder list from the server,
 *   then returns the provider's folders from the store
 * @sync_folder_async: brings the store up to date with a server folder
 * @fetch_body_async: returns a whole raw message, caching it in the store
 * @set_flags_async: adds and removes #LbMessageFlags
 * @move_async: moves messages to another folder of the account
 * @delete_async: deletes messages for good
 * @append_async: stores a whole raw message in a folder
 * @expunge_async: removes the messages flagged %LB_MESSAGE_DELETED
 * @replay_queue_async: applies the store's offline operation queue
 *
 * The contract every provider keeps:
 *
 * - All I/O is asynchronous and honours its #GCancellable; nothing blocks
 *   the main context.
 * - The store is the truth the views show. A change the user makes is
 *   written to the store first; when it cannot reach the server (offline,
 *   or the connection drops), the provider writes it with
 *   %LB_STORE_WRITE_QUEUE and lb_provider_replay_queue_async() applies the
 *   queue to the server later, in order. Nothing the user did is lost.
 * - Errors are translated, in words a user can act on, and say what
 *   failed ("Could not move the messages: …").
 * - A provider that cannot do an operation leaves its vfunc %NULL; the
 *   wrapper then fails with %G_IO_ERROR_NOT_SUPPORTED.
 *
 * Message keys are the store's #LbMessageSummary.key, folder ids its
 * #LbFolderInfo.id; arrays of keys are #GArray of #gint64.
 */
struct _LbProviderInterface
{
  GTypeInterface parent_iface;

  LbStore    *(*get_store)            (LbProvider           *self);
  const char *(*get_protocol_name)    (LbProvider           *self);

  void        (*connect_async)        (LbProvider           *self,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
  gboolean    (*connect_finish)       (LbProvider           *self,
                                       GAsyncResult         *result,
                                       GError              **error);
  void        (*disconnect_async)     (LbProvider           *self,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
  gboolean    (*disconnect_finish)    (LbProvider           *self,
                                       GAsyncResult         *result,
                                       GError              **error);
  void        (*list_folders_async)   (LbProvider           *self,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
  GPtrArray  *(*list_folders_finish)  (LbProvider           *self,
                                       GAsyncResult         *result,
                                       GError              **error);
  void        (*sync_folder_async)    (LbProvider           *self,
                                       gint64                folder_id,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
  gboolean    (*sync_folder_finish)   (LbProvider           *self,
                                       GAsyncResult         *result,
                                       GError              **error);
  void        (*fetch_body_async)     (LbProvider           *self,
                                       gint64                key,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
  GBytes     *(*fetch_body_finish)    (LbProvider           *self,
                                       GAsyncResult         *result,
                                       GError              **error);
  void        (*set_flags_async)      (LbProvider           *self,
                                       GArray               *keys,
                                       guint                 add,
                                       guint                 remove,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
  gboolean    (*set_flags_finish)     (LbProvider           *self,
                                       GAsyncResult         *result,
                                       GError              **error);
  void        (*move_async)           (LbProvider           *self,
                                       GArray               *keys,
                                       gint64                target_folder_id,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
  gboolean    (*move_finish)          (LbProvider           *self,
                                       GAsyncResult         *result,
                                       GError              **error);
  void        (*delete_async)         (LbProvider           *self,
                                       GArray               *keys,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
  gboolean    (*delete_finish)        (LbProvider           *self,
                                       GAsyncResult         *result,
                                       GError              **error);
  void        (*append_async)         (LbProvider           *self,
                                       gint64                folder_id,
                                       GBytes               *raw,
                                       guint                 flags,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
  gint64      (*append_finish)        (LbProvider           *self,
                                       GAsyncResult         *result,
                                       GError              **error);
  void        (*expunge_async)        (LbProvider           *self,
                                       gint64                folder_id,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
  gboolean    (*expunge_finish)       (LbProvider           *self,
                                       GAsyncResult         *result,
                                       GError              **error);
  void        (*replay_queue_async)   (LbProvider           *self,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data);
  gboolean    (*replay_queue_finish)  (LbProvider           *self,
                                       GAsyncResult         *result,
                                       GError              **error);
};

LbStore    *lb_provider_get_store           (LbProvider           *self);
const char *lb_provider_get_protocol_name   (LbProvider           *self);

void        lb_provider_connect_async       (LbProvider           *self,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean    lb_provider_connect_finish      (LbProvider           *self,
                                             GAsyncResult         *result,
                                             GError              **error);
void        lb_provider_disconnect_async    (LbProvider           *self,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean    lb_provider_disconnect_finish   (LbProvider           *self,
                                             GAsyncResult         *result,
                                             GError              **error);
void        lb_provider_list_folders_async  (LbProvider           *self,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
GPtrArray  *lb_provider_list_folders_finish (LbProvider           *self,
                                             GAsyncResult         *result,
                                             GError              **error);
void        lb_provider_sync_folder_async   (LbProvider           *self,
                                             gint64                folder_id,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean    lb_provider_sync_folder_finish  (LbProvider           *self,
                                             GAsyncResult         *result,
                                             GError              **error);
void        lb_provider_fetch_body_async    (LbProvider           *self,
                                             gint64                key,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
GBytes     *lb_provider_fetch_body_finish   (LbProvider           *self,
                                             GAsyncResult         *result,
                                             GError              **error);
void        lb_provider_set_flags_async     (LbProvider           *self,
                                             GArray               *keys,
                                             guint                 add,
                                             guint                 remove,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean    lb_provider_set_flags_finish    (LbProvider           *self,
                                             GAsyncResult         *result,
                                             GError              **error);
void        lb_provider_move_async          (LbProvider           *self,
                                             GArray               *keys,
                                             gint64                target_folder_id,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean    lb_provider_move_finish         (LbProvider           *self,
                                             GAsyncResult         *result,
                                             GError              **error);
void        lb_provider_delete_async        (LbProvider           *self,
                                             GArray               *keys,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean    lb_provider_delete_finish       (LbProvider           *self,
                                             GAsyncResult         *result,
                                             GError              **error);
void        lb_provider_append_async        (LbProvider           *self,
                                             gint64                folder_id,
                                             GBytes               *raw,
                                             guint                 flags,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gint64      lb_provider_append_finish       (LbProvider           *self,
                                             GAsyncResult         *result,
                                             GError              **error);
void        lb_provider_expunge_async       (LbProvider           *self,
                                             gint64                folder_id,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean    lb_provider_expunge_finish      (LbProvider           *self,
                                             GAsyncResult         *result,
                                             GError              **error);
void        lb_provider_replay_queue_async  (LbProvider           *self,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
gboolean    lb_provider_replay_queue_finish (LbProvider           *self,
                                             GAsyncResult         *result,
                                             GError              **error);

G_END_DECLS
