/* lb-local-provider.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-model"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "lb-local-provider.h"

/* LbLocalProvider serves the folders whose messages live only here, in the
 * store's Maildirs: where POP3 mail is delivered, the Outbox, archives the
 * user keeps on this computer. There is no server, so every operation is
 * the store's own and nothing is ever queued; connect, disconnect,
 * sync_folder and replay_queue succeed without doing anything. */

struct _LbLocalProvider
{
  GObject  parent_instance;

  LbStore *store;
};

static void lb_local_provider_iface_init (LbProviderInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LbLocalProvider, lb_local_provider, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (LB_TYPE_PROVIDER,
                                                      lb_local_provider_iface_init))

enum {
  PROP_0,
  PROP_STORE,
  N_PROPS
};

static void
lb_local_provider_dispose (GObject *object)
{
  LbLocalProvider *self = LB_LOCAL_PROVIDER (object);

  g_clear_object (&self->store);

  G_OBJECT_CLASS (lb_local_provider_parent_class)->dispose (object);
}

static void
lb_local_provider_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  LbLocalProvider *self = LB_LOCAL_PROVIDER (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_local_provider_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  LbLocalProvider *self = LB_LOCAL_PROVIDER (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_local_provider_class_init (LbLocalProviderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lb_local_provider_dispose;
  object_class->get_property = lb_local_provider_get_property;
  object_class->set_property = lb_local_provider_set_property;

  g_object_class_override_property (object_class, PROP_STORE, "store");
}

static void
lb_local_provider_init (LbLocalProvider *self)
{
}

/**
 * lb_local_provider_new:
 * @store: the store whose local folders to serve
 *
 * Returns: (transfer full): a new provider
 */
LbLocalProvider *
lb_local_provider_new (LbStore *store)
{
  g_return_val_if_fail (LB_IS_STORE (store), NULL);

  return g_object_new (LB_TYPE_LOCAL_PROVIDER,
                       "store", store,
                       NULL);
}

/* ------------------------------------------------------------------ no work to do */

static void
return_done (LbProvider          *provider,
             gpointer             source_tag,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (provider, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  if (!g_task_return_error_if_cancelled (task))
    g_task_return_boolean (task, TRUE);
}

static gboolean
finish_boolean (LbProvider    *provider,
                GAsyncResult  *result,
                gpointer       source_tag,
                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, provider), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
local_connect_async (LbProvider          *provider,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  return_done (provider, local_connect_async, cancellable, callback, user_data);
}

static gboolean
local_connect_finish (LbProvider    *provider,
                      GAsyncResult  *result,
                      GError       **error)
{
  return finish_boolean (provider, result, local_connect_async, error);
}

static void
local_disconnect_async (LbProvider          *provider,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  return_done (provider, local_disconnect_async, cancellable, callback, user_data);
}

static gboolean
local_disconnect_finish (LbProvider    *provider,
                         GAsyncResult  *result,
                         GError       **error)
{
  return finish_boolean (provider, result, local_disconnect_async, error);
}

static void
local_sync_folder_async (LbProvider          *provider,
                         gint64               folder_id,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  /* the store is the folder: it is always up to date */
  return_done (provider, local_sync_folder_async, cancellable, callback, user_data);
}

static gboolean
local_sync_folder_finish (LbProvider    *provider,
                          GAsyncResult  *result,
                          GError       **error)
{
  return finish_boolean (provider, result, local_sync_folder_async, error);
}

static void
local_replay_queue_async (LbProvider          *provider,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  /* the store queues no change to a local folder */
  return_done (provider, local_replay_queue_async, cancellable, callback, user_data);
}

static gboolean
local_replay_queue_finish (LbProvider    *provider,
                           GAsyncResult  *result,
                           GError       **error)
{
  return finish_boolean (provider, result, local_replay_queue_async, error);
}

/* ------------------------------------------------------------------ folders */

static LbStore *
local_get_store (LbProvider *provider)
{
  return LB_LOCAL_PROVIDER (provider)->store;
}

static const char *
local_get_protocol_name (LbProvider *provider)
{
  return "local";
}

static void
list_folders_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) local = NULL;
  GError *error = NULL;

  all = lb_store_list_folders_finish (LB_STORE (object), result, &error);
  if (all == NULL)
    {
      g_prefix_error (&error, _("Could not list the local folders: "));
      g_task_return_error (task, error);
      return;
    }

  local = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_folder_info_free);
  for (guint i = 0; i < all->len; i++)
    {
      const LbFolderInfo *info = all->pdata[i];

      if (info->local)
        g_ptr_array_add (local, lb_folder_info_copy (info));
    }

  g_task_return_pointer (task, g_steal_pointer (&local), (GDestroyNotify) g_ptr_array_unref);
}

static void
local_list_folders_async (LbProvider          *provider,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  LbLocalProvider *self = LB_LOCAL_PROVIDER (provider);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, local_list_folders_async);
  lb_store_list_folders_async (self->store, cancellable, list_folders_cb, task);
}

static GPtrArray *
local_list_folders_finish (LbProvider    *provider,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, provider), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == local_list_folders_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lb_local_provider_check_folder_name:
 * @name: (nullable): a name the user gave for a new local folder
 * @error: return location for a %G_IO_ERROR_INVALID_ARGUMENT error
 *
 * Checks that @name can be a local folder's name: not empty, valid
 * UTF-8 without control characters, and none of its parts between "/"
 * (which nests folders) empty, "." or "..".
 *
 * Returns: %TRUE when @name can be used
 */
gboolean
lb_local_provider_check_folder_name (const char  *name,
                                     GError     **error)
{
  g_auto(GStrv) parts = NULL;

  if (name == NULL || *name == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("A folder needs a name"));
      return FALSE;
    }

  if (!g_utf8_validate (name, -1, NULL))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("The folder name is not valid text"));
      return FALSE;
    }

  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      {
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                             _("A folder name cannot contain control characters such as line breaks or tabs"));
        return FALSE;
      }

  parts = g_strsplit (name, "/", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] == '\0' || g_str_equal (parts[i], ".") || g_str_equal (parts[i], ".."))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     _("“%s” cannot be a folder name: the parts between slashes must not be empty, “.” or “..”"),
                     name);
        return FALSE;
      }

  return TRUE;
}

typedef struct
{
  char         *name;
  LbFolderRole  role;
} CreateFolderData;

static void
create_folder_data_free (CreateFolderData *data)
{
  g_free (data->name);
  g_free (data);
}

static void
create_folder_ensure_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CreateFolderData *data = g_task_get_task_data (task);
  GError *error = NULL;
  LbFolderInfo *info;

  info = lb_store_ensure_folder_finish (LB_STORE (object), result, &error);
  if (info == NULL)
    {
      g_prefix_error (&error, _("Could not create the folder “%s”: "), data->name);
      g_task_return_error (task, error);
      return;
    }

  g_task_return_pointer (task, info, (GDestroyNotify) lb_folder_info_free);
}

static void
create_folder_list_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(GPtrArray) folders = NULL;
  CreateFolderData *data = g_task_get_task_data (task);
  GError *error = NULL;

  folders = lb_store_list_folders_finish (LB_STORE (object), result, &error);
  if (folders == NULL)
    {
      g_prefix_error (&error, _("Could not create the folder “%s”: "), data->name);
      g_task_return_error (task, error);
      return;
    }

  /* the store would hand back an existing folder, even a server's, and
   * give it the new role: a new folder must have a name of its own */
  for (guint i = 0; i < folders->len; i++)
    {
      const LbFolderInfo *info = folders->pdata[i];

      if (g_str_equal (info->path, data->name))
        {
          g_task_return_new_error (task, LB_STORE_ERROR, LB_STORE_ERROR_EXISTS,
                                   _("A folder named “%s” exists already"), data->name);
          return;
        }
    }

  lb_store_ensure_folder_async (LB_STORE (object), data->name, "/", data->role, TRUE,
                                cancellable,
                                create_folder_ensure_cb, g_steal_pointer (&task));
}

/**
 * lb_local_provider_create_folder_async:
 * @self: a local provider
 * @name: the new folder's full name; "/" separates nested folders
 * @role: what the folder is for
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the new folder
 * @user_data: data for @callback
 *
 * Makes a new local folder. A name lb_local_provider_check_folder_name()
 * refuses fails with %G_IO_ERROR_INVALID_ARGUMENT, a name taken by
 * another folder of the account with %LB_STORE_ERROR_EXISTS.
 */
void
lb_local_provider_create_folder_async (LbLocalProvider      *self,
                                       const char           *name,
                                       LbFolderRole          role,
                                       GCancellable         *cancellable,
                                       GAsyncReadyCallback   callback,
                                       gpointer              user_data)
{
  g_autoptr(GTask) task = NULL;
  CreateFolderData *data;
  GError *error = NULL;

  g_return_if_fail (LB_IS_LOCAL_PROVIDER (self));
  g_return_if_fail (role <= LB_FOLDER_ROLE_OUTBOX);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_local_provider_create_folder_async);

  if (!lb_local_provider_check_folder_name (name, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  data = g_new0 (CreateFolderData, 1);
  data->name = g_strdup (name);
  data->role = role;
  g_task_set_task_data (task, data, (GDestroyNotify) create_folder_data_free);

  lb_store_list_folders_async (self->store, cancellable, create_folder_list_cb, g_steal_pointer (&task));
}

/**
 * lb_local_provider_create_folder_finish:
 * @self: a local provider
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: (transfer full): the new folder
 */
LbFolderInfo *
lb_local_provider_create_folder_finish (LbLocalProvider  *self,
                                        GAsyncResult     *result,
                                        GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_local_provider_create_folder_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------ messages */

static void
fetch_body_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  GBytes *bytes;

  bytes = lb_store_read_message_finish (LB_STORE (object), result, &error);
  if (bytes == NULL)
    {
      g_prefix_error (&error, _("Could not read the message: "));
      g_task_return_error (task, error);
      return;
    }

  g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
}

static void
local_fetch_body_async (LbProvider          *provider,
                        gint64               key,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  LbLocalProvider *self = LB_LOCAL_PROVIDER (provider);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, local_fetch_body_async);
  lb_store_read_message_async (self->store, key, cancellable, fetch_body_cb, task);
}

static GBytes *
local_fetch_body_finish (LbProvider    *provider,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, provider), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == local_fetch_body_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
set_flags_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!lb_store_set_flags_finish (LB_STORE (object), result, &error))
    {
      g_prefix_error (&error, _("Could not change the flags of the messages: "));
      g_task_return_error (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
local_set_flags_async (LbProvider          *provider,
                       GArray              *keys,
                       guint                add,
                       guint                remove,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  LbLocalProvider *self = LB_LOCAL_PROVIDER (provider);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, local_set_flags_async);
  lb_store_set_flags_async (self->store, keys, add, remove, LB_STORE_WRITE_NONE,
                            cancellable, set_flags_cb, task);
}

static gboolean
local_set_flags_finish (LbProvider    *provider,
                        GAsyncResult  *result,
                        GError       **error)
{
  return finish_boolean (provider, result, local_set_flags_async, error);
}

static void
move_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!lb_store_move_messages_finish (LB_STORE (object), result, &error))
    {
      g_prefix_error (&error, _("Could not move the messages: "));
      g_task_return_error (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
local_move_async (LbProvider          *provider,
                  GArray              *keys,
                  gint64               target_folder_id,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  LbLocalProvider *self = LB_LOCAL_PROVIDER (provider);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, local_move_async);
  lb_store_move_messages_async (self->store, keys, target_folder_id, LB_STORE_WRITE_NONE,
                                cancellable, move_cb, task);
}

static gboolean
local_move_finish (LbProvider    *provider,
                   GAsyncResult  *result,
                   GError       **error)
{
  return finish_boolean (provider, result, local_move_async, error);
}

static void
delete_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!lb_store_delete_messages_finish (LB_STORE (object), result, &error))
    {
      g_prefix_error (&error, _("Could not delete the messages: "));
      g_task_return_error (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
local_delete_async (LbProvider          *provider,
                    GArray              *keys,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  LbLocalProvider *self = LB_LOCAL_PROVIDER (provider);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, local_delete_async);
  lb_store_delete_messages_async (self->store, keys, LB_STORE_WRITE_NONE,
                                  cancellable, delete_cb, task);
}

static gboolean
local_delete_finish (LbProvider    *provider,
                     GAsyncResult  *result,
                     GError       **error)
{
  return finish_boolean (provider, result, local_delete_async, error);
}

static void
append_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GPtrArray) stored = NULL;
  const LbMessageSummary *summary;
  GError *error = NULL;

  stored = lb_store_deliver_finish (LB_STORE (object), result, &error);
  if (stored == NULL)
    {
      g_prefix_error (&error, _("Could not store the message: "));
      g_task_return_error (task, error);
      return;
    }

  if (stored->len != 1)
    {
      /* one delivery without a UIDL: one new message, always */
      g_task_return_new_error (task, LB_STORE_ERROR, LB_STORE_ERROR_FAILED, "%s",
                               _("Could not store the message"));
      return;
    }
  summary = stored->pdata[0];
  g_task_return_pointer (task, g_memdup2 (&summary->key, sizeof summary->key), g_free);
}

static void
local_append_async (LbProvider          *provider,
                    gint64               folder_id,
                    GBytes              *raw,
                    guint                flags,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  LbLocalProvider *self = LB_LOCAL_PROVIDER (provider);
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr(GPtrArray) deliveries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_store_delivery_free);

  g_task_set_source_tag (task, local_append_async);
  g_ptr_array_add (deliveries,
                   lb_store_delivery_new (raw, flags, NULL, g_get_real_time () / G_USEC_PER_SEC));
  /* a message the user put here must survive a power cut as well as the
   * copy it may replace */
  lb_store_deliver_async (self->store, folder_id, deliveries, LB_STORE_WRITE_DURABLE,
                          cancellable, append_cb, task);
}

static gint64
local_append_finish (LbProvider    *provider,
                     GAsyncResult  *result,
                     GError       **error)
{
  g_autofree gint64 *key = NULL;

  g_return_val_if_fail (g_task_is_valid (result, provider), 0);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == local_append_async, 0);

  key = g_task_propagate_pointer (G_TASK (result), error);
  return key != NULL ? *key : 0;
}

/* ------------------------------------------------------------------ expunge */

static void
expunge_fail (GTask  *task,
              GError *error)
{
  g_prefix_error (&error, _("Could not remove the deleted messages: "));
  g_task_return_error (task, error);
}

static void
expunge_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!lb_store_expunge_finish (LB_STORE (object), result, &error))
    {
      expunge_fail (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
expunge_folder_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(LbFolderInfo) info = NULL;
  GCancellable *cancellable;
  GError *error = NULL;

  info = lb_store_get_folder_finish (LB_STORE (object), result, &error);
  if (info == NULL)
    {
      expunge_fail (task, error);
      return;
    }
  if (!info->local)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("Could not remove the deleted messages: “%s” is not a local folder"),
                               info->path);
      return;
    }

  /* chosen and deleted in one transaction: a message undeleted meanwhile
   * stays */
  cancellable = g_task_get_cancellable (task);
  lb_store_expunge_async (LB_STORE (object), info->id, LB_STORE_WRITE_NONE,
                          cancellable, expunge_cb, g_steal_pointer (&task));
}

static void
local_expunge_async (LbProvider          *provider,
                     gint64               folder_id,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  LbLocalProvider *self = LB_LOCAL_PROVIDER (provider);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, local_expunge_async);
  lb_store_get_folder_async (self->store, folder_id, cancellable, expunge_folder_cb, task);
}

static gboolean
local_expunge_finish (LbProvider    *provider,
                      GAsyncResult  *result,
                      GError       **error)
{
  return finish_boolean (provider, result, local_expunge_async, error);
}

static void
lb_local_provider_iface_init (LbProviderInterface *iface)
{
  iface->get_store = local_get_store;
  iface->get_protocol_name = local_get_protocol_name;
  iface->connect_async = local_connect_async;
  iface->connect_finish = local_connect_finish;
  iface->disconnect_async = local_disconnect_async;
  iface->disconnect_finish = local_disconnect_finish;
  iface->list_folders_async = local_list_folders_async;
  iface->list_folders_finish = local_list_folders_finish;
  iface->sync_folder_async = local_sync_folder_async;
  iface->sync_folder_finish = local_sync_folder_finish;
  iface->fetch_body_async = local_fetch_body_async;
  iface->fetch_body_finish = local_fetch_body_finish;
  iface->set_flags_async = local_set_flags_async;
  iface->set_flags_finish = local_set_flags_finish;
  iface->move_async = local_move_async;
  iface->move_finish = local_move_finish;
  iface->delete_async = local_delete_async;
  iface->delete_finish = local_delete_finish;
  iface->append_async = local_append_async;
  iface->append_finish = local_append_finish;
  iface->expunge_async = local_expunge_async;
  iface->expunge_finish = local_expunge_finish;
  iface->replay_queue_async = local_replay_queue_async;
  iface->replay_queue_finish = local_replay_queue_finish;
}
