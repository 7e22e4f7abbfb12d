/* lb-secrets.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-secrets"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>

#include "lb-secrets.h"

/* LbSecrets keeps account passwords in the Secret Service (GNOME Keyring,
 * KWallet), one item per account and protocol, and nowhere else: never in
 * the account files, never in a log. Every call is asynchronous, so the
 * main loop never waits on the keyring.
 *
 * Every operation ends, exactly once, in a result or an error the user can
 * act on, whatever the keyring does (all of this was seen with
 * gnome-keyring 42 and libsecret 0.20.5; the tests reproduce it, except
 * for gcr-prompter's real dialog and the creation of a keyring):
 *
 * - No session bus, or no Secret Service on it, or one that fails to
 *   start: LB_SECRETS_ERROR_NO_SERVICE, at once. The bus is connected to
 *   first, so that its failure is told apart from the service's.
 *
 * - A locked keyring that stays locked: LB_SECRETS_ERROR_LOCKED.
 *   gnome-keyring asks the user through a prompter on the session bus;
 *   when none can be started it logs "couldn't create system prompt" and
 *   completes the prompt as dismissed, at once. libsecret's own lookup
 *   then reports "no password" and its clear "nothing to remove", both
 *   without an error, which is why this file searches, unlocks and deletes
 *   items itself and looks at whether they are still locked.
 *
 * - No answer: after the timeout the operation returns
 *   LB_SECRETS_ERROR_TIMEOUT and cancels the D-Bus calls still under way.
 *   The caller's cancellation likewise returns at once.
 *
 *   An unlock prompt is the exception: it is never cancelled. Cancelling
 *   makes libsecret dismiss the prompt, and gnome-keyring 42 aborts when a
 *   prompt is dismissed while its prompter is still up ("perform_next_unlock:
 *   assertion failed: (!self->current)", with gcr-prompter showing the
 *   dialog as with a prompter that never answers); libsecret 0.20.5 then
 *   logs criticals and may never call back. So an unlock is started
 *   without a cancellable and left to finish on its own: the user can
 *   still answer the dialog, and gnome-keyring itself gives up on a
 *   prompter that does not answer after D-Bus's 25 s. Storing into a
 *   keyring that does not exist yet prompts too (to create it) and is
 *   treated the same way.
 *
 * libsecret never calls back for attributes its schema check rejects
 * (invalid UTF-8), so the keys are checked before anything is sent. */

#define DEFAULT_TIMEOUT_SECONDS 30
#define MAX_TIMEOUT_SECONDS     (G_MAXUINT / 1000)

struct _LbSecrets
{
  GObject parent_instance;

  guint   timeout;
};

G_DEFINE_FINAL_TYPE (LbSecrets, lb_secrets, G_TYPE_OBJECT)

G_DEFINE_QUARK (lb-secrets-error-quark, lb_secrets_error)

enum {
  PROP_0,
  PROP_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const SecretSchema *
get_schema (void)
{
  static const SecretSchema schema = {
    "io.github.letterbox.Letterbox.Password",
    SECRET_SCHEMA_NONE,
    {
      { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "protocol", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    },
  };

  return &schema;
}

static gboolean
is_text (const char *value)
{
  return value != NULL && *value != '\0' && g_utf8_validate (value, -1, NULL);
}

static gboolean
is_protocol (const char *protocol)
{
  return (g_strcmp0 (protocol, "imap") == 0 ||
          g_strcmp0 (protocol, "pop3") == 0 ||
          g_strcmp0 (protocol, "smtp") == 0);
}

static gboolean
key_is_valid (const LbSecretKey *key,
              gboolean           protocol_required)
{
  if (key == NULL || !is_text (key->account_id))
    return FALSE;
  if (key->protocol != NULL ? !is_protocol (key->protocol) : protocol_required)
    return FALSE;
  if (key->host != NULL && !g_utf8_validate (key->host, -1, NULL))
    return FALSE;
  if (key->user != NULL && !g_utf8_validate (key->user, -1, NULL))
    return FALSE;

  return TRUE;
}

static void
add_attribute (GHashTable *attributes,
               const char *name,
               const char *value)
{
  /* NULL and empty values are left out: the item has no such attribute */
  if (value != NULL && *value != '\0')
    g_hash_table_insert (attributes, (gpointer) name, g_strdup (value));
}

/* account and protocol (when given): what lookup and clear match on */
static GHashTable *
make_match (const LbSecretKey *key)
{
  GHashTable *attributes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);

  add_attribute (attributes, "account", key->account_id);
  add_attribute (attributes, "protocol", key->protocol);

  return attributes;
}

/* what lookup matches on: account and protocol, and the server's host
 * and user name when the caller gives them. A password is only ever
 * handed out for the server it was saved for: after the user points the
 * account at another server, Letterbox asks for the password again rather
 * than send the old server's to the new one. */
static GHashTable *
make_lookup_match (const LbSecretKey *key)
{
  GHashTable *attributes = make_match (key);

  add_attribute (attributes, "host", key->host);
  add_attribute (attributes, "user", key->user);

  return attributes;
}

/* all four: what a stored item carries */
static GHashTable *
make_attributes (const LbSecretKey *key)
{
  GHashTable *attributes = make_match (key);

  add_attribute (attributes, "host", key->host);
  add_attribute (attributes, "user", key->user);

  return attributes;
}

static GError *
no_service_error (void)
{
  return g_error_new_literal (LB_SECRETS_ERROR, LB_SECRETS_ERROR_NO_SERVICE,
                              _("No keyring is available. Install and start GNOME Keyring "
                                "(or another Secret Service) to save passwords."));
}

static GError *
locked_error (void)
{
  return g_error_new_literal (LB_SECRETS_ERROR, LB_SECRETS_ERROR_LOCKED,
                              _("The keyring is locked. Unlock it and try again."));
}

static GError *
timeout_error (gboolean prompting)
{
  if (prompting)
    return g_error_new_literal (LB_SECRETS_ERROR, LB_SECRETS_ERROR_TIMEOUT,
                                _("The keyring was not unlocked in time. Unlock it and try again."));

  return g_error_new_literal (LB_SECRETS_ERROR, LB_SECRETS_ERROR_TIMEOUT,
                              _("The keyring did not answer in time. Try again; if this "
                                "keeps happening, restart GNOME Keyring (or your Secret Service)."));
}

typedef enum
{
  OPERATION_STORE,
  OPERATION_LOOKUP,
  OPERATION_CLEAR,
} OperationKind;

static GError *
failed_error (OperationKind  kind,
              const char    *detail)
{
  switch (kind)
    {
    case OPERATION_STORE:
      return g_error_new (LB_SECRETS_ERROR, LB_SECRETS_ERROR_FAILED,
                          _("Could not save the password in the keyring: %s"), detail);
    case OPERATION_LOOKUP:
      return g_error_new (LB_SECRETS_ERROR, LB_SECRETS_ERROR_FAILED,
                          _("Could not read the password from the keyring: %s"), detail);
    case OPERATION_CLEAR:
    default:
      return g_error_new (LB_SECRETS_ERROR, LB_SECRETS_ERROR_FAILED,
                          _("Could not remove the password from the keyring: %s"), detail);
    }
}

/* One operation: the state shared by its steps, kept as the task data. */
typedef struct
{
  /* ours, handed to every libsecret call but an unlock: cancelled once
   * the task has returned (timeout, the caller's cancellation, or done) */
  GCancellable  *cancellable;
  GSource       *timeout_source;
  GSource       *cancelled_source;
  gboolean       returned;
  /* an unlock (or keyring creation) prompt may be waiting for the user */
  gboolean       prompting;

  OperationKind  kind;
  void         (*run) (GTask *task);

  SecretService *service;
  GHashTable    *match;
  GHashTable    *attributes;
  char          *label;
  SecretValue   *value;

  /* items to delete (store, clear) or to unlock and read (lookup), and
   * the first error deleting one */
  GList         *items;
  GError        *delete_error;
} Operation;

static void
destroy_source (GSource *source)
{
  g_source_destroy (source);
  g_source_unref (source);
}

static void
operation_free (gpointer data)
{
  Operation *op = data;

  g_clear_pointer (&op->timeout_source, destroy_source);
  g_clear_pointer (&op->cancelled_source, destroy_source);
  g_clear_object (&op->cancellable);
  g_clear_object (&op->service);
  g_clear_pointer (&op->match, g_hash_table_unref);
  g_clear_pointer (&op->attributes, g_hash_table_unref);
  g_free (op->label);
  g_clear_pointer (&op->value, secret_value_unref);
  g_list_free_full (op->items, g_object_unref);
  g_clear_error (&op->delete_error);
  g_free (op);
}

/* Marks the task as returned; FALSE if it already was. Stops the timer
 * and cancels the calls libsecret still has under way (but an unlock):
 * their callbacks still come, each holding a reference on the task, and
 * find it returned. */
static gboolean
operation_settle (GTask *task)
{
  Operation *op = g_task_get_task_data (task);

  if (op->returned)
    return FALSE;

  op->returned = TRUE;
  g_clear_pointer (&op->timeout_source, destroy_source);
  g_clear_pointer (&op->cancelled_source, destroy_source);
  g_cancellable_cancel (op->cancellable);

  return TRUE;
}

static gboolean
operation_returned (GTask *task)
{
  Operation *op = g_task_get_task_data (task);

  return op->returned;
}

static void
operation_return_error (GTask  *task,
                        GError *error)
{
  if (operation_settle (task))
    g_task_return_error (task, error);
  else
    g_error_free (error);
}

static void
operation_return_boolean (GTask *task)
{
  if (operation_settle (task))
    g_task_return_boolean (task, TRUE);
}

static void
operation_return_password (GTask *task,
                           char  *password)
{
  if (operation_settle (task))
    g_task_return_pointer (task, password, (GDestroyNotify) lb_secrets_password_free);
  else
    lb_secrets_password_free (password);
}

/* Turns what libsecret or GDBus reported into an LbSecretsError. Only
 * errors seen from gnome-keyring and dbus-daemon (and reproduced by the
 * tests) are mapped; anything else is LB_SECRETS_ERROR_FAILED with the
 * underlying message. */
static void
operation_return_libsecret_error (GTask  *task,
                                  GError *error)
{
  Operation *op = g_task_get_task_data (task);
  GError *mapped;

  /* nobody owns the name and the bus cannot start anyone ("...was not
   * provided by any .service files"), also after the service went away
   * mid-request; or starting it failed ("Spawn.ChildExited"; the other
   * Spawn errors mean the same to the user) */
  if (error->domain == G_DBUS_ERROR &&
      (error->code == G_DBUS_ERROR_SERVICE_UNKNOWN ||
       (error->code >= G_DBUS_ERROR_SPAWN_EXEC_FAILED &&
        error->code <= G_DBUS_ERROR_SPAWN_NO_MEMORY)))
    {
      g_debug ("No Secret Service: %s", error->message);
      mapped = no_service_error ();
    }
  else if (g_error_matches (error, SECRET_ERROR, SECRET_ERROR_IS_LOCKED))
    {
      mapped = locked_error ();
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
           g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT))
    {
      /* a limit reached before ours: GDBus's own for a call (25 s), or the
       * bus's for starting the service ("service_start_timeout") */
      g_debug ("Secret Service timed out: %s", error->message);
      mapped = timeout_error (FALSE);
    }
  else
    {
      mapped = failed_error (op->kind, error->message);
    }

  g_error_free (error);
  operation_return_error (task, mapped);
}

static gboolean
timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  Operation *op = g_task_get_task_data (task);

  operation_return_error (task, timeout_error (op->prompting));

  return G_SOURCE_REMOVE;
}

static gboolean
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  g_cancellable_set_error_if_cancelled (cancellable, &error);
  operation_return_error (task, error);

  return G_SOURCE_REMOVE;
}

static void
service_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  g_autoptr(SecretService) service = NULL;
  GError *error = NULL;

  service = secret_service_get_finish (result, &error);
  if (operation_returned (task))
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    {
      operation_return_libsecret_error (task, error);
      return;
    }

  op->service = g_steal_pointer (&service);
  op->run (task);
}

static void
bus_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GError) error = NULL;

  bus = g_bus_get_finish (result, &error);
  if (operation_returned (task))
    return;
  if (bus == NULL)
    {
      /* "Could not connect: No such file or directory" (nothing listens at
       * the address), "Cannot autolaunch D-Bus without X11 $DISPLAY" (no
       * address at all), ... */
      g_debug ("No session bus: %s", error->message);
      operation_return_error (task, no_service_error ());
      return;
    }

  /* secret_service_get() connects to the same (shared) bus */
  secret_service_get (SECRET_SERVICE_NONE, op->cancellable,
                      service_cb, g_steal_pointer (&task));
}

/* The task of an operation that, once started, gets the bus, then the
 * service, then does @run. */
static GTask *
operation_new (LbSecrets           *self,
               gpointer             source_tag,
               OperationKind        kind,
               void               (*run) (GTask *task),
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  GTask *task;
  Operation *op;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  op = g_new0 (Operation, 1);
  op->cancellable = g_cancellable_new ();
  op->kind = kind;
  op->run = run;
  g_task_set_task_data (task, op, operation_free);

  return task;
}

static void
operation_start (GTask *task)
{
  LbSecrets *self = g_task_get_source_object (task);
  Operation *op = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (g_task_return_error_if_cancelled (task))
    {
      op->returned = TRUE;
      return;
    }

  op->timeout_source = g_timeout_source_new (self->timeout * 1000);
  g_source_set_callback (op->timeout_source, timeout_cb, task, NULL);
  g_source_set_static_name (op->timeout_source, "[letterbox] keyring timeout");
  g_source_attach (op->timeout_source, g_task_get_context (task));

  /* the caller's cancellation returns at once, whatever libsecret is at */
  if (cancellable != NULL)
    {
      op->cancelled_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (op->cancelled_source, G_SOURCE_FUNC (cancelled_cb), task, NULL);
      g_source_set_static_name (op->cancelled_source, "[letterbox] keyring cancelled");
      g_source_attach (op->cancelled_source, g_task_get_context (task));
    }

  g_bus_get (G_BUS_TYPE_SESSION, op->cancellable, bus_cb, g_object_ref (task));
}

/* Unlocks @objects (items or collections), which may prompt the user.
 * Never with a cancellable: see the top of the file. */
static void
operation_unlock (GTask               *task,
                  GList               *objects,
                  GAsyncReadyCallback  callback)
{
  Operation *op = g_task_get_task_data (task);

  op->prompting = TRUE;
  secret_service_unlock (op->service, objects, NULL, callback, g_object_ref (task));
}

/* Finishes operation_unlock(): TRUE if something was unlocked. With FALSE,
 * the task has returned (or already had). */
static gboolean
operation_unlock_finish (GTask        *task,
                         GAsyncResult *result)
{
  Operation *op = g_task_get_task_data (task);
  GError *error = NULL;
  GList *unlocked = NULL;
  gboolean any;

  secret_service_unlock_finish (op->service, result, &unlocked, &error);
  op->prompting = FALSE;
  any = unlocked != NULL;
  g_list_free_full (unlocked, g_object_unref);

  if (operation_returned (task))
    {
      g_clear_error (&error);
      return FALSE;
    }
  if (error != NULL)
    {
      operation_return_libsecret_error (task, error);
      return FALSE;
    }
  /* the prompt was dismissed, or could not be shown */
  if (!any)
    {
      operation_return_error (task, locked_error ());
      return FALSE;
    }

  return TRUE;
}

static GList *
locked_items (GList *items)
{
  GList *locked = NULL;

  for (GList *l = items; l != NULL; l = l->next)
    if (secret_item_get_locked (l->data))
      locked = g_list_prepend (locked, g_object_ref (l->data));

  return g_list_reverse (locked);
}

/* ---------------------------------------------------------------- delete */

static void delete_next (GTask *task);

static void
delete_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  GError *error = NULL;

  secret_item_delete_finish (SECRET_ITEM (object), result, &error);
  if (operation_returned (task))
    {
      g_clear_error (&error);
      return;
    }

  /* go on with the others; report the first failure at the end */
  if (error != NULL && op->delete_error == NULL)
    op->delete_error = error;
  else
    g_clear_error (&error);

  delete_next (task);
}

/* Deletes op->items one after the other. A locked item cannot be deleted
 * (gnome-keyring: "Cannot delete a locked item"). */
static void
delete_next (GTask *task)
{
  Operation *op = g_task_get_task_data (task);
  g_autoptr(SecretItem) item = NULL;

  if (op->items == NULL)
    {
      if (op->delete_error != NULL)
        operation_return_libsecret_error (task, g_steal_pointer (&op->delete_error));
      else
        operation_return_boolean (task);
      return;
    }

  item = op->items->data;
  op->items = g_list_delete_link (op->items, op->items);
  secret_item_delete (item, op->cancellable, delete_cb, g_object_ref (task));
}

/* ---------------------------------------------------------------- store */

static gboolean
same_attribute (GHashTable *a,
                GHashTable *b,
                const char *name)
{
  return g_strcmp0 (g_hash_table_lookup (a, name), g_hash_table_lookup (b, name)) == 0;
}

static void
store_searched_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  GList *items;
  GError *error = NULL;
  gboolean kept = FALSE;

  items = secret_service_search_finish (op->service, result, &error);
  if (operation_returned (task))
    {
      g_list_free_full (items, g_object_unref);
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    {
      operation_return_libsecret_error (task, error);
      return;
    }

  /* Keep the item just written (unlocked, with exactly our host and
   * user); every other one of this account and protocol goes, so that a
   * changed host or user name leaves no stale item behind. */
  for (GList *l = items; l != NULL; l = l->next)
    {
      SecretItem *item = l->data;
      g_autoptr(GHashTable) attributes = secret_item_get_attributes (item);

      if (!kept &&
          !secret_item_get_locked (item) &&
          same_attribute (attributes, op->attributes, "host") &&
          same_attribute (attributes, op->attributes, "user"))
        {
          kept = TRUE;
          g_object_unref (item);
        }
      else
        {
          op->items = g_list_prepend (op->items, item);
        }
    }
  g_list_free (items);

  /* not found again (it should be): then nothing is removed either */
  if (!kept)
    g_list_free_full (g_steal_pointer (&op->items), g_object_unref);

  delete_next (task);
}

static void
stored_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  GError *error = NULL;

  secret_service_store_finish (op->service, result, &error);
  op->prompting = FALSE;
  if (operation_returned (task))
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    {
      /* SECRET_ERROR_IS_LOCKED if the keyring got locked again meanwhile
       * and libsecret's own unlock did not open it */
      operation_return_libsecret_error (task, error);
      return;
    }

  secret_service_search (op->service, get_schema (), op->match, SECRET_SEARCH_ALL,
                         op->cancellable, store_searched_cb, g_object_ref (task));
}

/* Written first, old items removed after: a failure in between leaves one
 * item too many, never none. An item with the same attributes is replaced
 * in place. */
static void
store_write (GTask    *task,
             gboolean  keyring_exists)
{
  Operation *op = g_task_get_task_data (task);

  /* without a default keyring libsecret creates one, which prompts for
   * its password: then no cancellable, as for an unlock */
  op->prompting = !keyring_exists;
  secret_service_store (op->service, get_schema (), op->attributes, SECRET_COLLECTION_DEFAULT,
                        op->label, op->value, keyring_exists ? op->cancellable : NULL,
                        stored_cb, g_object_ref (task));
}

static void
store_unlocked_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  if (operation_unlock_finish (task, result))
    store_write (task, TRUE);
}

static void
store_keyring_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(SecretCollection) keyring = NULL;
  GError *error = NULL;

  keyring = secret_collection_for_alias_finish (result, &error);
  if (operation_returned (task))
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    {
      operation_return_libsecret_error (task, error);
      return;
    }

  /* unlocked here rather than by libsecret's store, which would pass our
   * cancellable on to the prompt */
  if (keyring != NULL && secret_collection_get_locked (keyring))
    {
      GList *objects = g_list_append (NULL, keyring);

      operation_unlock (task, objects, store_unlocked_cb);
      g_list_free (objects);
      return;
    }

  store_write (task, keyring != NULL);
}

static void
store_run (GTask *task)
{
  Operation *op = g_task_get_task_data (task);

  secret_collection_for_alias (op->service, SECRET_COLLECTION_DEFAULT, SECRET_COLLECTION_NONE,
                               op->cancellable, store_keyring_cb, g_object_ref (task));
}

/**
 * lb_secrets_store_async:
 * @self: the secrets store
 * @key: whose password, for which protocol; its host and user are stored
 *   along with it
 * @label: what the keyring shows the user for this item
 * @password: the password
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the password is stored
 * @user_data: data for @callback
 *
 * Stores a password in the default keyring, replacing the account's
 * password for that protocol: afterwards the keyring holds exactly one item
 * for them, even when the host or user name changed. Unlocking the keyring
 * may ask the user.
 */
void
lb_secrets_store_async (LbSecrets           *self,
                        const LbSecretKey   *key,
                        const char          *label,
                        const char          *password,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Operation *op;

  g_return_if_fail (LB_IS_SECRETS (self));
  g_return_if_fail (key_is_valid (key, TRUE));
  g_return_if_fail (label != NULL && g_utf8_validate (label, -1, NULL));
  g_return_if_fail (password != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = operation_new (self, lb_secrets_store_async,
                        OPERATION_STORE, store_run, cancellable, callback, user_data);
  op = g_task_get_task_data (task);
  op->match = make_match (key);
  op->attributes = make_attributes (key);
  op->label = g_strdup (label);
  /* copies it into libsecret's secure memory */
  op->value = secret_value_new (password, -1, "text/plain");

  operation_start (task);
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

/* ---------------------------------------------------------------- lookup */

/* The secret of an item whose secret is loaded, as a password in secure
 * memory; NULL if it has none or it is not text (not one of ours). */
static char *
item_password (SecretItem *item)
{
  SecretValue *value = secret_item_get_secret (item);
  gsize length;

  if (value == NULL)
    return NULL;
  if (secret_value_get_text (value) == NULL)
    {
      secret_value_unref (value);
      return NULL;
    }

  return secret_value_unref_to_password (value, &length);
}

static GError *
unreadable_error (void)
{
  return g_error_new_literal (LB_SECRETS_ERROR, LB_SECRETS_ERROR_FAILED,
                              _("Could not read the password from the keyring."));
}

static void
lookup_loaded_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SecretItem *item = SECRET_ITEM (object);
  GError *error = NULL;
  char *password;

  secret_item_load_secret_finish (item, result, &error);
  if (operation_returned (task))
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    {
      operation_return_libsecret_error (task, error);
      return;
    }

  password = item_password (item);
  if (password != NULL)
    operation_return_password (task, password);
  else
    operation_return_error (task, unreadable_error ());
}

static void
lookup_unlocked_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);

  if (!operation_unlock_finish (task, result))
    return;

  secret_item_load_secret (op->items->data, op->cancellable,
                           lookup_loaded_cb, g_object_ref (task));
}

static void
lookup_searched_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  GList *items;
  GError *error = NULL;
  char *password = NULL;

  items = secret_service_search_finish (op->service, result, &error);
  if (operation_returned (task))
    {
      g_list_free_full (items, g_object_unref);
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    {
      operation_return_libsecret_error (task, error);
      return;
    }

  /* unlocked items come first, with their secrets loaded */
  for (GList *l = items; l != NULL && password == NULL; l = l->next)
    password = item_password (l->data);

  if (password != NULL)
    {
      operation_return_password (task, password);
    }
  else if ((op->items = locked_items (items)) != NULL)
    {
      operation_unlock (task, op->items, lookup_unlocked_cb);
    }
  else if (items != NULL)
    {
      operation_return_error (task, unreadable_error ());
    }
  else
    {
      operation_return_password (task, NULL);
    }

  g_list_free_full (items, g_object_unref);
}

static void
lookup_run (GTask *task)
{
  Operation *op = g_task_get_task_data (task);

  secret_service_search (op->service, get_schema (), op->match,
                         SECRET_SEARCH_ALL | SECRET_SEARCH_LOAD_SECRETS,
                         op->cancellable, lookup_searched_cb, g_object_ref (task));
}

/**
 * lb_secrets_lookup_async:
 * @self: the secrets store
 * @key: whose password, for which protocol; when host and user are given,
 *   for that server and user only (%NULL: whichever the item has)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the result
 * @user_data: data for @callback
 *
 * Looks a password up; unlocking the keyring may ask the user.
 */
void
lb_secrets_lookup_async (LbSecrets           *self,
                         const LbSecretKey   *key,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Operation *op;

  g_return_if_fail (LB_IS_SECRETS (self));
  g_return_if_fail (key_is_valid (key, TRUE));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = operation_new (self, lb_secrets_lookup_async,
                        OPERATION_LOOKUP, lookup_run, cancellable, callback, user_data);
  op = g_task_get_task_data (task);
  op->match = make_lookup_match (key);

  operation_start (task);
}

/**
 * lb_secrets_lookup_finish:
 *
 * Returns: (transfer full) (nullable): the password, to be freed with
 *   lb_secrets_password_free(), or %NULL with no @error set when the
 *   keyring has none for that account and protocol
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

/* ---------------------------------------------------------------- clear */

static void
clear_unlocked_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  /* what stayed locked fails to delete: LB_SECRETS_ERROR_LOCKED */
  if (operation_unlock_finish (task, result))
    delete_next (task);
}

static void
clear_searched_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Operation *op = g_task_get_task_data (task);
  GList *items;
  GList *locked;
  GError *error = NULL;

  items = secret_service_search_finish (op->service, result, &error);
  if (operation_returned (task))
    {
      g_list_free_full (items, g_object_unref);
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    {
      operation_return_libsecret_error (task, error);
      return;
    }

  /* a locked item cannot be deleted: unlock first */
  op->items = items;
  locked = locked_items (items);
  if (locked != NULL)
    operation_unlock (task, locked, clear_unlocked_cb);
  else
    delete_next (task);
  g_list_free_full (locked, g_object_unref);
}

static void
clear_run (GTask *task)
{
  Operation *op = g_task_get_task_data (task);

  secret_service_search (op->service, get_schema (), op->match, SECRET_SEARCH_ALL,
                         op->cancellable, clear_searched_cb, g_object_ref (task));
}

/**
 * lb_secrets_clear_async:
 * @self: the secrets store
 * @key: whose password, for which protocol; a %NULL protocol means every
 *   password of the account (when the account is removed); host and user
 *   are ignored
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the passwords are removed
 * @user_data: data for @callback
 *
 * Removes passwords; succeeds when there were none. A locked item cannot
 * be removed, so unlocking the keyring may ask the user.
 */
void
lb_secrets_clear_async (LbSecrets           *self,
                        const LbSecretKey   *key,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Operation *op;

  g_return_if_fail (LB_IS_SECRETS (self));
  g_return_if_fail (key_is_valid (key, FALSE));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = operation_new (self, lb_secrets_clear_async,
                        OPERATION_CLEAR, clear_run, cancellable, callback, user_data);
  op = g_task_get_task_data (task);
  op->match = make_match (key);

  operation_start (task);
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
 * @password: (nullable): a password from lb_secrets_lookup_finish(), or
 *   one the program read itself into memory from g_malloc()
 *
 * Wipes and frees a password (libsecret frees memory that is not its own
 * secure memory the ordinary way, after wiping it).
 */
void
lb_secrets_password_free (char *password)
{
  secret_password_free (password);
}

/* ---------------------------------------------------------------- object */

static void
lb_secrets_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  LbSecrets *self = LB_SECRETS (object);

  switch (prop_id)
    {
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_secrets_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  LbSecrets *self = LB_SECRETS (object);

  switch (prop_id)
    {
    case PROP_TIMEOUT:
      lb_secrets_set_timeout (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_secrets_class_init (LbSecretsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = lb_secrets_get_property;
  object_class->set_property = lb_secrets_set_property;

  /**
   * LbSecrets:timeout:
   *
   * Seconds an operation may take before it fails with
   * %LB_SECRETS_ERROR_TIMEOUT. Time the user spends on an unlock prompt
   * counts too, but the prompt stays up, so they can still unlock the
   * keyring for the next attempt. Operations already under way keep the
   * limit they started with.
   */
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL,
                       1, MAX_TIMEOUT_SECONDS, DEFAULT_TIMEOUT_SECONDS,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lb_secrets_init (LbSecrets *self)
{
  self->timeout = DEFAULT_TIMEOUT_SECONDS;
}

LbSecrets *
lb_secrets_new (void)
{
  return g_object_new (LB_TYPE_SECRETS, NULL);
}

guint
lb_secrets_get_timeout (LbSecrets *self)
{
  g_return_val_if_fail (LB_IS_SECRETS (self), 0);

  return self->timeout;
}

void
lb_secrets_set_timeout (LbSecrets *self,
                        guint      seconds)
{
  g_return_if_fail (LB_IS_SECRETS (self));
  g_return_if_fail (seconds >= 1 && seconds <= MAX_TIMEOUT_SECONDS);

  if (self->timeout == seconds)
    return;

  self->timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}
