/* lb-secrets.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-secrets"

#include "config.h"

#include <libsecret/secret.h>

#include "lb-secrets.h"

/* LbSecrets keeps account passwords in the Secret Service (GNOME Keyring,
 * KWallet), one item per account and server, and nowhere else: never in
 * the account files, never in a log. Every call is asynchronous, so the
 * main loop never waits on the keyring. */

struct _LbSecrets
{
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (LbSecrets, lb_secrets, G_TYPE_OBJECT)

static const SecretSchema *
get_schema (void)
{
  static const SecretSchema schema = {
    "io.github.letterbox.Letterbox.Password",
    SECRET_SCHEMA_NONE,
    {
      { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "kind", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    },
  };

  return &schema;
}

/* libsecret drops a request with an invalid attribute without ever
 * calling back, which would leave our task pending forever: refuse such
 * ids up front. */
static gboolean
account_id_is_valid (const char *account_id)
{
  return account_id != NULL && *account_id != '\0' && g_utf8_validate (account_id, -1, NULL);
}

static GHashTable *
make_attributes (const char   *account_id,
                 LbSecretKind  kind)
{
  GHashTable *attributes = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (attributes, (gpointer) "account", (gpointer) account_id);
  g_hash_table_insert (attributes, (gpointer) "kind",
                       (gpointer) (kind == LB_SECRET_OUTGOING ? "outgoing" : "incoming"));

  return attributes;
}

static void
lb_secrets_class_init (LbSecretsClass *klass)
{
}

static void
lb_secrets_init (LbSecrets *self)
{
}

LbSecrets *
lb_secrets_new (void)
{
  return g_object_new (LB_TYPE_SECRETS, NULL);
}

static void
store_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!secret_password_store_finish (result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * lb_secrets_store_async:
 * @self: the secrets store
 * @account_id: the account's stable id
 * @kind: which of the account's servers the password is for
 * @label: what the keyring shows the user for this item
 * @password: the password
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the password is stored
 * @user_data: data for @callback
 *
 * Stores (or replaces) a password in the default keyring.
 */
void
lb_secrets_store_async (LbSecrets           *self,
                        const char          *account_id,
                        LbSecretKind         kind,
                        const char          *label,
                        const char          *password,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GHashTable) attributes = NULL;

  g_return_if_fail (LB_IS_SECRETS (self));
  g_return_if_fail (account_id_is_valid (account_id));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (label != NULL);
  g_return_if_fail (password != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_secrets_store_async);

  attributes = make_attributes (account_id, kind);
  secret_password_storev (get_schema (), attributes, SECRET_COLLECTION_DEFAULT,
                          label, password, cancellable,
                          store_cb, g_steal_pointer (&task));
}

gboolean
lb_secrets_store_finish (LbSecrets     *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_secrets_store_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
lookup_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  char *password;

  password = secret_password_lookup_finish (result, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, password, (GDestroyNotify) secret_password_free);
}

/**
 * lb_secrets_lookup_async:
 * @self: the secrets store
 * @account_id: the account's stable id
 * @kind: which of the account's servers the password is for
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Looks a password up; unlocking the keyring may ask the user.
 */
void
lb_secrets_lookup_async (LbSecrets           *self,
                         const char          *account_id,
                         LbSecretKind         kind,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GHashTable) attributes = NULL;

  g_return_if_fail (LB_IS_SECRETS (self));
  g_return_if_fail (account_id_is_valid (account_id));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_secrets_lookup_async);

  attributes = make_attributes (account_id, kind);
  secret_password_lookupv (get_schema (), attributes, cancellable,
                           lookup_cb, g_steal_pointer (&task));
}

/**
 * lb_secrets_lookup_finish:
 *
 * Returns: (transfer full) (nullable): the password, to be freed with
 *   lb_secrets_password_free(), or %NULL with no @error set when the
 *   keyring has none for that account
 */
char *
lb_secrets_lookup_finish (LbSecrets     *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_secrets_lookup_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
clear_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  /* FALSE without an error only means there was nothing to remove. */
  secret_password_clear_finish (result, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * lb_secrets_clear_async:
 *
 * Removes the account's password for @kind; succeeds when there was none.
 */
void
lb_secrets_clear_async (LbSecrets           *self,
                        const char          *account_id,
                        LbSecretKind         kind,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GHashTable) attributes = NULL;

  g_return_if_fail (LB_IS_SECRETS (self));
  g_return_if_fail (account_id_is_valid (account_id));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_secrets_clear_async);

  attributes = make_attributes (account_id, kind);
  secret_password_clearv (get_schema (), attributes, cancellable,
                          clear_cb, g_steal_pointer (&task));
}

gboolean
lb_secrets_clear_finish (LbSecrets     *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_secrets_clear_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * lb_secrets_password_free:
 * @password: (nullable): a password from lb_secrets_lookup_finish()
 *
 * Wipes and frees a password.
 */
void
lb_secrets_password_free (char *password)
{
  secret_password_free (password);
}
