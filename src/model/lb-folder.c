/* lb-folder.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-model"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "lb-folder.h"

/* LbFolder is the views' handle on one folder of the store: its names,
 * role and counts as properties to bind to. It follows the store's
 * ::folder-changed signal, so the counts stay right whatever changed them
 * (the user, a sync, a delivery), and it notifies only what changed. */

struct _LbFolder
{
  GObject       parent_instance;

  LbStore      *store;
  gulong        folder_changed_id;
  gint64        id;
  char         *path;
  char         *name;
  char         *delimiter;
  LbFolderRole  role;
  gboolean      local;
  guint         unread_count;
  guint         total_count;
};

G_DEFINE_FINAL_TYPE (LbFolder, lb_folder, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STORE,
  PROP_ID,
  PROP_PATH,
  PROP_NAME,
  PROP_DISPLAY_NAME,
  PROP_ROLE,
  PROP_LOCAL,
  PROP_UNREAD_COUNT,
  PROP_TOTAL_COUNT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
folder_changed_cb (LbStore            *store,
                   const LbFolderInfo *info,
                   gpointer            user_data)
{
  LbFolder *self = user_data;

  if (info->id == self->id)
    lb_folder_update (self, info);
}

static void
lb_folder_constructed (GObject *object)
{
  LbFolder *self = LB_FOLDER (object);

  G_OBJECT_CLASS (lb_folder_parent_class)->constructed (object);

  if (self->store != NULL)
    self->folder_changed_id = g_signal_connect (self->store, "folder-changed",
                                                G_CALLBACK (folder_changed_cb), self);
}

static void
lb_folder_dispose (GObject *object)
{
  LbFolder *self = LB_FOLDER (object);

  g_clear_signal_handler (&self->folder_changed_id, self->store);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (lb_folder_parent_class)->dispose (object);
}

static void
lb_folder_finalize (GObject *object)
{
  LbFolder *self = LB_FOLDER (object);

  g_free (self->path);
  g_free (self->name);
  g_free (self->delimiter);

  G_OBJECT_CLASS (lb_folder_parent_class)->finalize (object);
}

static void
lb_folder_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  LbFolder *self = LB_FOLDER (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_ID:
      g_value_set_int64 (value, self->id);
      break;

    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;

    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_DISPLAY_NAME:
      g_value_set_string (value, lb_folder_get_display_name (self));
      break;

    case PROP_ROLE:
      g_value_set_enum (value, self->role);
      break;

    case PROP_LOCAL:
      g_value_set_boolean (value, self->local);
      break;

    case PROP_UNREAD_COUNT:
      g_value_set_uint (value, self->unread_count);
      break;

    case PROP_TOTAL_COUNT:
      g_value_set_uint (value, self->total_count);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_folder_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  LbFolder *self = LB_FOLDER (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;

    case PROP_ID:
      self->id = g_value_get_int64 (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_folder_class_init (LbFolderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = lb_folder_constructed;
  object_class->dispose = lb_folder_dispose;
  object_class->finalize = lb_folder_finalize;
  object_class->get_property = lb_folder_get_property;
  object_class->set_property = lb_folder_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         LB_TYPE_STORE,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_ID] =
    g_param_spec_int64 ("id", NULL, NULL,
                        0, G_MAXINT64, 0,
                        (G_PARAM_READWRITE |
                         G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS));

  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_ROLE] =
    g_param_spec_enum ("role", NULL, NULL,
                       LB_TYPE_FOLDER_ROLE,
                       LB_FOLDER_ROLE_NONE,
                       (G_PARAM_READABLE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  properties[PROP_LOCAL] =
    g_param_spec_boolean ("local", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE |
                           G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  properties[PROP_UNREAD_COUNT] =
    g_param_spec_uint ("unread-count", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  properties[PROP_TOTAL_COUNT] =
    g_param_spec_uint ("total-count", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lb_folder_init (LbFolder *self)
{
}

/**
 * lb_folder_new:
 * @store: the store the folder is in
 * @info: the folder as the store has it
 *
 * Returns: (transfer full): a folder that follows @store's changes to it
 */
LbFolder *
lb_folder_new (LbStore            *store,
               const LbFolderInfo *info)
{
  LbFolder *self;

  g_return_val_if_fail (LB_IS_STORE (store), NULL);
  g_return_val_if_fail (info != NULL, NULL);
  g_return_val_if_fail (info->id > 0, NULL);

  self = g_object_new (LB_TYPE_FOLDER,
                       "store", store,
                       "id", info->id,
                       NULL);
  lb_folder_update (self, info);

  return self;
}

/**
 * lb_folder_update:
 * @self: a folder
 * @info: the same folder (same id) as the store has it now
 *
 * Takes on @info's names, role and counts, notifying each property that
 * changed, and only those.
 */
void
lb_folder_update (LbFolder           *self,
                  const LbFolderInfo *info)
{
  g_autofree char *old_display_name = NULL;

  g_return_if_fail (LB_IS_FOLDER (self));
  g_return_if_fail (info != NULL);
  g_return_if_fail (info->id == self->id);

  old_display_name = g_strdup (lb_folder_get_display_name (self));

  g_object_freeze_notify (G_OBJECT (self));

  if (g_strcmp0 (self->path, info->path) != 0)
    {
      g_free (self->path);
      self->path = g_strdup (info->path);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PATH]);
    }

  if (g_strcmp0 (self->name, info->name) != 0)
    {
      g_free (self->name);
      self->name = g_strdup (info->name);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
    }

  /* not a property: it only changes with the path */
  if (g_strcmp0 (self->delimiter, info->delimiter) != 0)
    {
      g_free (self->delimiter);
      self->delimiter = g_strdup (info->delimiter);
    }

  if (self->role != info->role)
    {
      self->role = info->role;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ROLE]);
    }

  if (self->local != !!info->local)
    {
      self->local = !!info->local;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOCAL]);
    }

  if (self->unread_count != info->unread)
    {
      self->unread_count = info->unread;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNREAD_COUNT]);
    }

  if (self->total_count != info->total)
    {
      self->total_count = info->total;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL_COUNT]);
    }

  if (g_strcmp0 (old_display_name, lb_folder_get_display_name (self)) != 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_NAME]);

  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * lb_folder_get_store:
 * @self: a folder
 *
 * Returns: (transfer none) (nullable): the store the folder is in, %NULL
 *   once the folder is disposed
 */
LbStore *
lb_folder_get_store (LbFolder *self)
{
  g_return_val_if_fail (LB_IS_FOLDER (self), NULL);

  return self->store;
}

/**
 * lb_folder_get_id:
 * @self: a folder
 *
 * Returns: the store's id of the folder
 */
gint64
lb_folder_get_id (LbFolder *self)
{
  g_return_val_if_fail (LB_IS_FOLDER (self), 0);

  return self->id;
}

/**
 * lb_folder_get_path:
 * @self: a folder
 *
 * Returns: the folder's full name, unique in the account
 */
const char *
lb_folder_get_path (LbFolder *self)
{
  g_return_val_if_fail (LB_IS_FOLDER (self), NULL);

  return self->path;
}

/**
 * lb_folder_get_name:
 * @self: a folder
 *
 * Returns: the last component of the folder's path
 */
const char *
lb_folder_get_name (LbFolder *self)
{
  g_return_val_if_fail (LB_IS_FOLDER (self), NULL);

  return self->name;
}

/**
 * lb_folder_get_display_name:
 * @self: a folder
 *
 * The name to show: for a folder with a role, the role's name in the
 * user's language ("Inbox", "Sent", …), whatever the server calls it;
 * otherwise the folder's own name.
 *
 * Returns: the folder's name for display
 */
const char *
lb_folder_get_display_name (LbFolder *self)
{
  g_return_val_if_fail (LB_IS_FOLDER (self), NULL);

  switch (self->role)
    {
    case LB_FOLDER_ROLE_INBOX:
      return _("Inbox");
    case LB_FOLDER_ROLE_SENT:
      return _("Sent");
    case LB_FOLDER_ROLE_DRAFTS:
      return _("Drafts");
    case LB_FOLDER_ROLE_TRASH:
      return _("Trash");
    case LB_FOLDER_ROLE_JUNK:
      return _("Junk");
    case LB_FOLDER_ROLE_ARCHIVE:
      return _("Archive");
    case LB_FOLDER_ROLE_OUTBOX:
      return _("Outbox");
    case LB_FOLDER_ROLE_NONE:
    default:
      return self->name;
    }
}

/**
 * lb_folder_get_role:
 * @self: a folder
 *
 * Returns: what the folder is for
 */
LbFolderRole
lb_folder_get_role (LbFolder *self)
{
  g_return_val_if_fail (LB_IS_FOLDER (self), LB_FOLDER_ROLE_NONE);

  return self->role;
}

/**
 * lb_folder_get_local:
 * @self: a folder
 *
 * Returns: whether the folder's messages live only here
 */
gboolean
lb_folder_get_local (LbFolder *self)
{
  g_return_val_if_fail (LB_IS_FOLDER (self), FALSE);

  return self->local;
}

/**
 * lb_folder_get_unread_count:
 * @self: a folder
 *
 * Returns: how many of the folder's messages are not read
 */
guint
lb_folder_get_unread_count (LbFolder *self)
{
  g_return_val_if_fail (LB_IS_FOLDER (self), 0);

  return self->unread_count;
}

/**
 * lb_folder_get_total_count:
 * @self: a folder
 *
 * Returns: how many messages the folder holds
 */
guint
lb_folder_get_total_count (LbFolder *self)
{
  g_return_val_if_fail (LB_IS_FOLDER (self), 0);

  return self->total_count;
}

/**
 * lb_folder_get_delimiter:
 * @self: a folder
 *
 * The separator of the components of the folder's path ("/", "." on
 * many IMAP servers), to nest folders by.
 *
 * Returns: (nullable): the hierarchy delimiter, %NULL for a flat name
 */
const char *
lb_folder_get_delimiter (LbFolder *self)
{
  g_return_val_if_fail (LB_IS_FOLDER (self), NULL);

  return self->delimiter;
}
