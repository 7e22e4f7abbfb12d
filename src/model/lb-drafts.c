/* lb-drafts.c: saving the message being written
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-model"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "lb-drafts.h"
#include "lb-imap-provider.h"

/* A draft is an ordinary message of the Drafts folder, flagged \Draft and
 * \Seen, stored through the account's provider: an IMAP provider writes
 * the store and queues the APPEND for the server, a POP3 one writes the
 * local Maildir. A new version is stored before the previous one is
 * deleted for good, so a crash in between leaves two versions, never
 * none. */

static gboolean
check_open (LbAccount  *account,
            GError    **error)
{
  if (!lb_account_get_opened (account))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                   _("The account “%s” is not open"), lb_account_get_display_name (account));
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  gint64 replaces;
  gint64 key;
} SaveData;

static void
previous_deleted_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SaveData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  /* the new version is safe: an old one left behind is no failure */
  if (!lb_provider_delete_finish (LB_PROVIDER (object), result, &error))
    g_warning ("The previous version of a draft could not be deleted: %s", error->message);
  g_task_return_int (task, data->key);
}

static void
saved_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SaveData *data = g_task_get_task_data (task);
  g_autoptr(GArray) keys = NULL;
  GError *error = NULL;

  data->key = lb_provider_append_finish (LB_PROVIDER (object), result, &error);
  if (data->key == 0)
    {
      g_prefix_error (&error, _("Could not save the draft: "));
      g_task_return_error (task, error);
      return;
    }
  if (data->replaces <= 0 || data->replaces == data->key)
    {
      g_task_return_int (task, data->key);
      return;
    }
  keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_array_append_val (keys, data->replaces);
  lb_provider_delete_async (LB_PROVIDER (object), keys, NULL, previous_deleted_cb, g_steal_pointer (&task));
}

static void
imap_saved_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  gint64 key = lb_imap_provider_save_draft_finish (LB_IMAP_PROVIDER (object), result, &error);

  if (key == 0)
    {
      g_prefix_error (&error, _("Could not save the draft: "));
      g_task_return_error (task, error);
      return;
    }
  g_task_return_int (task, key);
}

/**
 * lb_drafts_save_async:
 * @account: an open account
 * @message: the message being written
 * @replaces: the key of the draft's previous version, 0 for none
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the new version's key
 * @user_data: data for @callback
 *
 * Saves @message in the account's Drafts folder.
 */
void
lb_drafts_save_async (LbAccount           *account,
                      LbOutgoingMessage   *message,
                      gint64               replaces,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GBytes) raw = NULL;
  SaveData *data;
  LbFolder *folder;
  GError *error = NULL;

  g_return_if_fail (LB_IS_ACCOUNT (account));
  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (message));

  task = g_task_new (account, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_drafts_save_async);

  if (!check_open (account, &error))
    {
      g_prefix_error (&error, _("Could not save the draft: "));
      g_task_return_error (task, error);
      return;
    }
  folder = lb_account_get_folder_by_role (account, LB_FOLDER_ROLE_DRAFTS);
  if (folder == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               _("Could not save the draft: the account “%s” has no Drafts folder"),
                               lb_account_get_display_name (account));
      return;
    }

  data = g_new0 (SaveData, 1);
  data->replaces = replaces;
  g_task_set_task_data (task, data, g_free);
  raw = lb_outgoing_message_to_bytes (message, LB_OUTGOING_FORM_DRAFT);
  if (LB_IS_IMAP_PROVIDER (lb_account_get_provider (account)))
    {
      /* the new version and the removal of the old one queued together */
      lb_imap_provider_save_draft_async (LB_IMAP_PROVIDER (lb_account_get_provider (account)),
                                         lb_folder_get_id (folder), raw, replaces, cancellable,
                                         imap_saved_cb, g_steal_pointer (&task));
      return;
    }
  lb_provider_append_async (lb_account_get_provider (account), lb_folder_get_id (folder), raw,
                            LB_MESSAGE_DRAFT | LB_MESSAGE_SEEN, cancellable, saved_cb,
                            g_steal_pointer (&task));
}

gint64
lb_drafts_save_finish (GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), 0);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_drafts_save_async, 0);

  return g_task_propagate_int (G_TASK (result), error);
}

static void
discarded_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!lb_provider_delete_finish (LB_PROVIDER (object), result, &error))
    {
      g_prefix_error (&error, _("Could not delete the draft: "));
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/**
 * lb_drafts_discard_async:
 * @account: an open account
 * @key: a draft
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when it is deleted
 * @user_data: data for @callback
 *
 * Deletes a draft for good (on the server too, through the queue).
 */
void
lb_drafts_discard_async (LbAccount           *account,
                         gint64               key,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GArray) keys = NULL;
  GError *error = NULL;

  g_return_if_fail (LB_IS_ACCOUNT (account));

  task = g_task_new (account, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_drafts_discard_async);

  if (!check_open (account, &error))
    {
      g_prefix_error (&error, _("Could not delete the draft: "));
      g_task_return_error (task, error);
      return;
    }
  keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_array_append_val (keys, key);
  lb_provider_delete_async (lb_account_get_provider (account), keys, cancellable, discarded_cb,
                            g_steal_pointer (&task));
}

gboolean
lb_drafts_discard_finish (GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_drafts_discard_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
fetched_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GBytes) raw = NULL;
  LbOutgoingMessage *message = NULL;
  GError *error = NULL;

  raw = lb_provider_fetch_body_finish (LB_PROVIDER (object), result, &error);
  if (raw != NULL)
    message = lb_outgoing_message_new_from_bytes (raw, &error);
  if (message == NULL)
    {
      g_prefix_error (&error, _("Could not open the draft: "));
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, message, g_object_unref);
}

/**
 * lb_drafts_open_async:
 * @account: an open account
 * @key: a draft
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the message
 * @user_data: data for @callback
 *
 * Reads a draft back, from the server if its body is not stored here.
 */
void
lb_drafts_open_async (LbAccount           *account,
                      gint64               key,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (LB_IS_ACCOUNT (account));

  task = g_task_new (account, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_drafts_open_async);

  if (!check_open (account, &error))
    {
      g_prefix_error (&error, _("Could not open the draft: "));
      g_task_return_error (task, error);
      return;
    }
  lb_provider_fetch_body_async (lb_account_get_provider (account), key, cancellable, fetched_cb,
                                g_steal_pointer (&task));
}

/**
 * lb_drafts_open_finish:
 *
 * Returns: (transfer full): the draft, every field as saved
 */
LbOutgoingMessage *
lb_drafts_open_finish (GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_drafts_open_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
