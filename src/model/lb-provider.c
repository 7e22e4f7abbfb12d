/* lb-provider.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-model"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "lb-provider.h"

/* LbProvider is what an account's folders and messages come from: an IMAP
 * server, a POP3 server feeding local folders, or the local folders alone.
 * The wrappers below check their arguments and call the implementation; an
 * operation it leaves out fails with G_IO_ERROR_NOT_SUPPORTED, reported on
 * a task tagged with the wrapper itself, which is how the _finish wrapper
 * tells such a result from the implementation's own. Implementations must
 * therefore tag their tasks with their own functions. */

G_DEFINE_INTERFACE (LbProvider, lb_provider, G_TYPE_OBJECT)

static void
lb_provider_default_init (LbProviderInterface *iface)
{
  /**
   * LbProvider:store:
   *
   * The account's local store, which the provider keeps up to date and
   * writes the user's changes to. Set at construction.
   */
  g_object_interface_install_property (iface,
                                       g_param_spec_object ("store", NULL, NULL,
                                                            LB_TYPE_STORE,
                                                            (G_PARAM_READWRITE |
                                                             G_PARAM_CONSTRUCT_ONLY |
                                                             G_PARAM_EXPLICIT_NOTIFY |
                                                             G_PARAM_STATIC_STRINGS)));
}

static void
report_not_supported (LbProvider          *self,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data,
                      gpointer             source_tag,
                      const char          *message)
{
  g_task_report_new_error (self, callback, user_data, source_tag,
                           G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "%s", message);
}

/**
 * lb_provider_get_store:
 * @self: a provider
 *
 * Returns: (transfer none): the account's store
 */
LbStore *
lb_provider_get_store (LbProvider *self)
{
  g_return_val_if_fail (LB_IS_PROVIDER (self), NULL);
  g_return_val_if_fail (LB_PROVIDER_GET_IFACE (self)->get_store != NULL, NULL);

  return LB_PROVIDER_GET_IFACE (self)->get_store (self);
}

/**
 * lb_provider_get_protocol_name:
 * @self: a provider
 *
 * Returns: what the provider speaks: "imap", "pop3" or "local"
 */
const char *
lb_provider_get_protocol_name (LbProvider *self)
{
  g_return_val_if_fail (LB_IS_PROVIDER (self), NULL);
  g_return_val_if_fail (LB_PROVIDER_GET_IFACE (self)->get_protocol_name != NULL, NULL);

  return LB_PROVIDER_GET_IFACE (self)->get_protocol_name (self);
}

/**
 * lb_provider_connect_async:
 * @self: a provider
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Logs in to the server. A provider without a server succeeds at once.
 */
void
lb_provider_connect_async (LbProvider           *self,
                           GCancellable         *cancellable,
                           GAsyncReadyCallback   callback,
                           gpointer              user_data)
{
  LbProviderInterface *iface;

  g_return_if_fail (LB_IS_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = LB_PROVIDER_GET_IFACE (self);
  if (iface->connect_async == NULL)
    {
      report_not_supported (self, callback, user_data, lb_provider_connect_async,
                            _("Connecting is not supported for this account"));
      return;
    }
  iface->connect_async (self, cancellable, callback, user_data);
}

/**
 * lb_provider_connect_finish:
 * @self: a provider
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: %TRUE when connected
 */
gboolean
lb_provider_connect_finish (LbProvider           *self,
                            GAsyncResult         *result,
                            GError              **error)
{
  g_return_val_if_fail (LB_IS_PROVIDER (self), FALSE);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), FALSE);

  if (g_async_result_is_tagged (result, lb_provider_connect_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  return LB_PROVIDER_GET_IFACE (self)->connect_finish (self, result, error);
}

/**
 * lb_provider_disconnect_async:
 * @self: a provider
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Logs out and closes the connection.
 */
void
lb_provider_disconnect_async (LbProvider           *self,
                              GCancellable         *cancellable,
                              GAsyncReadyCallback   callback,
                              gpointer              user_data)
{
  LbProviderInterface *iface;

  g_return_if_fail (LB_IS_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = LB_PROVIDER_GET_IFACE (self);
  if (iface->disconnect_async == NULL)
    {
      report_not_supported (self, callback, user_data, lb_provider_disconnect_async,
                            _("Disconnecting is not supported for this account"));
      return;
    }
  iface->disconnect_async (self, cancellable, callback, user_data);
}

/**
 * lb_provider_disconnect_finish:
 * @self: a provider
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: %TRUE when disconnected
 */
gboolean
lb_provider_disconnect_finish (LbProvider           *self,
                               GAsyncResult         *result,
                               GError              **error)
{
  g_return_val_if_fail (LB_IS_PROVIDER (self), FALSE);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), FALSE);

  if (g_async_result_is_tagged (result, lb_provider_disconnect_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  return LB_PROVIDER_GET_IFACE (self)->disconnect_finish (self, result, error);
}

/**
 * lb_provider_list_folders_async:
 * @self: a provider
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Refreshes the store's list of folders from the server, then reads the
 * provider's folders from the store.
 */
void
lb_provider_list_folders_async (LbProvider           *self,
                                GCancellable         *cancellable,
                                GAsyncReadyCallback   callback,
                                gpointer              user_data)
{
  LbProviderInterface *iface;

  g_return_if_fail (LB_IS_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = LB_PROVIDER_GET_IFACE (self);
  if (iface->list_folders_async == NULL)
    {
      report_not_supported (self, callback, user_data, lb_provider_list_folders_async,
                            _("Listing folders is not supported for this account"));
      return;
    }
  iface->list_folders_async (self, cancellable, callback, user_data);
}

/**
 * lb_provider_list_folders_finish:
 * @self: a provider
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: (transfer container) (element-type LbFolderInfo): the folders
 */
GPtrArray *
lb_provider_list_folders_finish (LbProvider           *self,
                                 GAsyncResult         *result,
                                 GError              **error)
{
  g_return_val_if_fail (LB_IS_PROVIDER (self), NULL);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), NULL);

  if (g_async_result_is_tagged (result, lb_provider_list_folders_async))
    return g_task_propagate_pointer (G_TASK (result), error);
  return LB_PROVIDER_GET_IFACE (self)->list_folders_finish (self, result, error);
}

/**
 * lb_provider_sync_folder_async:
 * @self: a provider
 * @folder_id: a folder's id
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Brings the store up to date with the server's copy of the folder
 * @folder_id: new messages, changed flags, messages gone.
 */
void
lb_provider_sync_folder_async (LbProvider           *self,
                               gint64                folder_id,
                               GCancellable         *cancellable,
                               GAsyncReadyCallback   callback,
                               gpointer              user_data)
{
  LbProviderInterface *iface;

  g_return_if_fail (LB_IS_PROVIDER (self));
  g_return_if_fail (folder_id > 0);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = LB_PROVIDER_GET_IFACE (self);
  if (iface->sync_folder_async == NULL)
    {
      report_not_supported (self, callback, user_data, lb_provider_sync_folder_async,
                            _("Synchronizing folders is not supported for this account"));
      return;
    }
  iface->sync_folder_async (self, folder_id, cancellable, callback, user_data);
}

/**
 * lb_provider_sync_folder_finish:
 * @self: a provider
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: %TRUE when the folder is up to date
 */
gboolean
lb_provider_sync_folder_finish (LbProvider           *self,
                                GAsyncResult         *result,
                                GError              **error)
{
  g_return_val_if_fail (LB_IS_PROVIDER (self), FALSE);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), FALSE);

  if (g_async_result_is_tagged (result, lb_provider_sync_folder_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  return LB_PROVIDER_GET_IFACE (self)->sync_folder_finish (self, result, error);
}

/**
 * lb_provider_fetch_body_async:
 * @self: a provider
 * @key: a message's key
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Returns the whole raw message @key, from the store when it is there,
 * otherwise from the server (and then keeps it in the store).
 */
void
lb_provider_fetch_body_async (LbProvider           *self,
                              gint64                key,
                              GCancellable         *cancellable,
                              GAsyncReadyCallback   callback,
                              gpointer              user_data)
{
  LbProviderInterface *iface;

  g_return_if_fail (LB_IS_PROVIDER (self));
  g_return_if_fail (key > 0);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = LB_PROVIDER_GET_IFACE (self);
  if (iface->fetch_body_async == NULL)
    {
      report_not_supported (self, callback, user_data, lb_provider_fetch_body_async,
                            _("Downloading messages is not supported for this account"));
      return;
    }
  iface->fetch_body_async (self, key, cancellable, callback, user_data);
}

/**
 * lb_provider_fetch_body_finish:
 * @self: a provider
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: (transfer full): the message's bytes
 */
GBytes *
lb_provider_fetch_body_finish (LbProvider           *self,
                               GAsyncResult         *result,
                               GError              **error)
{
  g_return_val_if_fail (LB_IS_PROVIDER (self), NULL);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), NULL);

  if (g_async_result_is_tagged (result, lb_provider_fetch_body_async))
    return g_task_propagate_pointer (G_TASK (result), error);
  return LB_PROVIDER_GET_IFACE (self)->fetch_body_finish (self, result, error);
}

/**
 * lb_provider_set_flags_async:
 * @self: a provider
 * @keys: (element-type gint64): the messages' keys
 * @add: #LbMessageFlags to set
 * @remove: #LbMessageFlags to clear
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Adds the #LbMessageFlags @add to the messages @keys and removes @remove.
 */
void
lb_provider_set_flags_async (LbProvider           *self,
                             GArray               *keys,
                             guint                 add,
                             guint                 remove,
                             GCancellable         *cancellable,
                             GAsyncReadyCallback   callback,
                             gpointer              user_data)
{
  LbProviderInterface *iface;

  g_return_if_fail (LB_IS_PROVIDER (self));
  g_return_if_fail (keys != NULL && g_array_get_element_size (keys) == sizeof (gint64));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = LB_PROVIDER_GET_IFACE (self);
  if (iface->set_flags_async == NULL)
    {
      report_not_supported (self, callback, user_data, lb_provider_set_flags_async,
                            _("Changing the flags of messages is not supported for this account"));
      return;
    }
  iface->set_flags_async (self, keys, add, remove, cancellable, callback, user_data);
}

/**
 * lb_provider_set_flags_finish:
 * @self: a provider
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: %TRUE when the flags are changed
 */
gboolean
lb_provider_set_flags_finish (LbProvider           *self,
                              GAsyncResult         *result,
                              GError              **error)
{
  g_return_val_if_fail (LB_IS_PROVIDER (self), FALSE);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), FALSE);

  if (g_async_result_is_tagged (result, lb_provider_set_flags_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  return LB_PROVIDER_GET_IFACE (self)->set_flags_finish (self, result, error);
}

/**
 * lb_provider_move_async:
 * @self: a provider
 * @keys: (element-type gint64): the messages' keys
 * @target_folder_id: the id of the folder to move them to
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Moves the messages @keys to the folder @target_folder_id of the same
 * account; they keep their keys.
 */
void
lb_provider_move_async (LbProvider           *self,
                        GArray               *keys,
                        gint64                target_folder_id,
                        GCancellable         *cancellable,
                        GAsyncReadyCallback   callback,
                        gpointer              user_data)
{
  LbProviderInterface *iface;

  g_return_if_fail (LB_IS_PROVIDER (self));
  g_return_if_fail (keys != NULL && g_array_get_element_size (keys) == sizeof (gint64));
  g_return_if_fail (target_folder_id > 0);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = LB_PROVIDER_GET_IFACE (self);
  if (iface->move_async == NULL)
    {
      report_not_supported (self, callback, user_data, lb_provider_move_async,
                            _("Moving messages is not supported for this account"));
      return;
    }
  iface->move_async (self, keys, target_folder_id, cancellable, callback, user_data);
}

/**
 * lb_provider_move_finish:
 * @self: a provider
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: %TRUE when the messages are moved
 */
gboolean
lb_provider_move_finish (LbProvider           *self,
                         GAsyncResult         *result,
                         GError              **error)
{
  g_return_val_if_fail (LB_IS_PROVIDER (self), FALSE);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), FALSE);

  if (g_async_result_is_tagged (result, lb_provider_move_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  return LB_PROVIDER_GET_IFACE (self)->move_finish (self, result, error);
}

/**
 * lb_provider_delete_async:
 * @self: a provider
 * @keys: (element-type gint64): the messages' keys
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Deletes the messages @keys for good. (Moving to Trash is a move.)
 */
void
lb_provider_delete_async (LbProvider           *self,
                          GArray               *keys,
                          GCancellable         *cancellable,
                          GAsyncReadyCallback   callback,
                          gpointer              user_data)
{
  LbProviderInterface *iface;

  g_return_if_fail (LB_IS_PROVIDER (self));
  g_return_if_fail (keys != NULL && g_array_get_element_size (keys) == sizeof (gint64));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = LB_PROVIDER_GET_IFACE (self);
  if (iface->delete_async == NULL)
    {
      report_not_supported (self, callback, user_data, lb_provider_delete_async,
                            _("Deleting messages is not supported for this account"));
      return;
    }
  iface->delete_async (self, keys, cancellable, callback, user_data);
}

/**
 * lb_provider_delete_finish:
 * @self: a provider
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: %TRUE when the messages are deleted
 */
gboolean
lb_provider_delete_finish (LbProvider           *self,
                           GAsyncResult         *result,
                           GError              **error)
{
  g_return_val_if_fail (LB_IS_PROVIDER (self), FALSE);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), FALSE);

  if (g_async_result_is_tagged (result, lb_provider_delete_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  return LB_PROVIDER_GET_IFACE (self)->delete_finish (self, result, error);
}

/**
 * lb_provider_append_async:
 * @self: a provider
 * @folder_id: a folder's id
 * @raw: the whole message (RFC 5322)
 * @flags: its #LbMessageFlags
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Stores the whole raw message @raw, with the #LbMessageFlags @flags, in
 * the folder @folder_id.
 */
void
lb_provider_append_async (LbProvider           *self,
                          gint64                folder_id,
                          GBytes               *raw,
                          guint                 flags,
                          GCancellable         *cancellable,
                          GAsyncReadyCallback   callback,
                          gpointer              user_data)
{
  LbProviderInterface *iface;

  g_return_if_fail (LB_IS_PROVIDER (self));
  g_return_if_fail (folder_id > 0);
  g_return_if_fail (raw != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = LB_PROVIDER_GET_IFACE (self);
  if (iface->append_async == NULL)
    {
      report_not_supported (self, callback, user_data, lb_provider_append_async,
                            _("Adding messages to folders is not supported for this account"));
      return;
    }
  iface->append_async (self, folder_id, raw, flags, cancellable, callback, user_data);
}

/**
 * lb_provider_append_finish:
 * @self: a provider
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: the new message's key, 0 on error
 */
gint64
lb_provider_append_finish (LbProvider           *self,
                           GAsyncResult         *result,
                           GError              **error)
{
  g_return_val_if_fail (LB_IS_PROVIDER (self), 0);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), 0);

  if (g_async_result_is_tagged (result, lb_provider_append_async))
    {
      /* only ever an error */
      g_task_propagate_boolean (G_TASK (result), error);
      return 0;
    }
  return LB_PROVIDER_GET_IFACE (self)->append_finish (self, result, error);
}

/**
 * lb_provider_expunge_async:
 * @self: a provider
 * @folder_id: a folder's id
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Removes the messages of @folder_id that carry %LB_MESSAGE_DELETED.
 */
void
lb_provider_expunge_async (LbProvider           *self,
                           gint64                folder_id,
                           GCancellable         *cancellable,
                           GAsyncReadyCallback   callback,
                           gpointer              user_data)
{
  LbProviderInterface *iface;

  g_return_if_fail (LB_IS_PROVIDER (self));
  g_return_if_fail (folder_id > 0);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = LB_PROVIDER_GET_IFACE (self);
  if (iface->expunge_async == NULL)
    {
      report_not_supported (self, callback, user_data, lb_provider_expunge_async,
                            _("Removing deleted messages is not supported for this account"));
      return;
    }
  iface->expunge_async (self, folder_id, cancellable, callback, user_data);
}

/**
 * lb_provider_expunge_finish:
 * @self: a provider
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: %TRUE when they are removed
 */
gboolean
lb_provider_expunge_finish (LbProvider           *self,
                            GAsyncResult         *result,
                            GError              **error)
{
  g_return_val_if_fail (LB_IS_PROVIDER (self), FALSE);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), FALSE);

  if (g_async_result_is_tagged (result, lb_provider_expunge_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  return LB_PROVIDER_GET_IFACE (self)->expunge_finish (self, result, error);
}

/**
 * lb_provider_replay_queue_async:
 * @self: a provider
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Applies the store's offline operation queue to the server, oldest
 * first, and takes each operation off the queue once the server has it.
 */
void
lb_provider_replay_queue_async (LbProvider           *self,
                                GCancellable         *cancellable,
                                GAsyncReadyCallback   callback,
                                gpointer              user_data)
{
  LbProviderInterface *iface;

  g_return_if_fail (LB_IS_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  iface = LB_PROVIDER_GET_IFACE (self);
  if (iface->replay_queue_async == NULL)
    {
      report_not_supported (self, callback, user_data, lb_provider_replay_queue_async,
                            _("Applying offline changes is not supported for this account"));
      return;
    }
  iface->replay_queue_async (self, cancellable, callback, user_data);
}

/**
 * lb_provider_replay_queue_finish:
 * @self: a provider
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: %TRUE when the queue is empty
 */
gboolean
lb_provider_replay_queue_finish (LbProvider           *self,
                                 GAsyncResult         *result,
                                 GError              **error)
{
  g_return_val_if_fail (LB_IS_PROVIDER (self), FALSE);
  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), FALSE);

  if (g_async_result_is_tagged (result, lb_provider_replay_queue_async))
    return g_task_propagate_boolean (G_TASK (result), error);
  return LB_PROVIDER_GET_IFACE (self)->replay_queue_finish (self, result, error);
}
