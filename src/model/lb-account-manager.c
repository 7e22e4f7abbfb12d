/* lb-account-manager.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-model"

#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "lb-account-manager.h"

/* LbAccountManager is the list of the user's accounts, a GListModel of
 * LbAccount ordered by their position, then id. Each account is a key file
 * `<config-dir>/accounts/<id>.ini` (see lb-account.c for its format), mode
 * 0600, written atomically and durably; its local data lives under
 * `<data-dir>/<id>/`. Passwords are not in these files: they are in the
 * keyring (LbSecrets).
 *
 * Reading and writing the files happens in a worker thread, one operation
 * at a time in the order they were asked for: a save asked for after an
 * add writes after it, and two saves of one account cannot land in the
 * wrong order. The list itself changes on the main context only, when an
 * operation completes, just before its callback runs. */

/* room for "-NNN" after the part of an id made from an address */
#define ID_BASE_MAX_LENGTH 80

struct _LbAccountManager
{
  GObject     parent_instance;

  char       *config_dir;
  char       *data_dir;
  char       *accounts_dir;

  GPtrArray  *accounts;
  GPtrArray  *load_errors;

  /* ids make_id() must not hand out although no loaded account has them:
   * files that failed to load (id -> NULL), adds in flight (id -> count) */
  GHashTable *broken_ids;
  GHashTable *pending_ids;
  guint       next_position;

  /* GTasks waiting for their turn; busy while one runs */
  GQueue      queue;
  gboolean    busy;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LbAccountManager, lb_account_manager, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_CONFIG_DIR,
  PROP_DATA_DIR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef enum
{
  OP_LOAD,
  OP_ADD,
  OP_SAVE,
  OP_REMOVE,
} OpKind;

typedef struct
{
  OpKind     kind;
  char      *dir;
  LbAccount *account;
  char      *path;
  char      *data_path;   /* OP_ADD: where the account's mail will be */
  char      *contents;
  gsize      length;

  /* results of OP_LOAD */
  GPtrArray *loaded;
  GPtrArray *errors;
  GPtrArray *broken_ids;
} Op;

static void
op_free (gpointer data)
{
  Op *op = data;

  g_free (op->dir);
  g_clear_object (&op->account);
  g_free (op->path);
  g_free (op->data_path);
  g_free (op->contents);
  g_clear_pointer (&op->loaded, g_ptr_array_unref);
  g_clear_pointer (&op->errors, g_ptr_array_unref);
  g_clear_pointer (&op->broken_ids, g_ptr_array_unref);
  g_free (op);
}

/* GListModel */

static GType
lb_account_manager_get_item_type (GListModel *list)
{
  return LB_TYPE_ACCOUNT;
}

static guint
lb_account_manager_get_n_items (GListModel *list)
{
  LbAccountManager *self = LB_ACCOUNT_MANAGER (list);

  return self->accounts->len;
}

static gpointer
lb_account_manager_get_item (GListModel *list,
                             guint       position)
{
  LbAccountManager *self = LB_ACCOUNT_MANAGER (list);

  if (position >= self->accounts->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (self->accounts, position));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = lb_account_manager_get_item_type;
  iface->get_n_items = lb_account_manager_get_n_items;
  iface->get_item = lb_account_manager_get_item;
}

/* GObject */

static void
lb_account_manager_constructed (GObject *object)
{
  LbAccountManager *self = (LbAccountManager *) object;

  G_OBJECT_CLASS (lb_account_manager_parent_class)->constructed (object);

  if (self->config_dir == NULL)
    self->config_dir = g_build_filename (g_get_user_config_dir (), "letterbox", NULL);
  if (self->data_dir == NULL)
    self->data_dir = g_build_filename (g_get_user_data_dir (), "letterbox", NULL);

  self->accounts_dir = g_build_filename (self->config_dir, "accounts", NULL);
}

static void
lb_account_manager_finalize (GObject *object)
{
  LbAccountManager *self = (LbAccountManager *) object;

  g_clear_pointer (&self->config_dir, g_free);
  g_clear_pointer (&self->data_dir, g_free);
  g_clear_pointer (&self->accounts_dir, g_free);
  g_clear_pointer (&self->accounts, g_ptr_array_unref);
  g_clear_pointer (&self->load_errors, g_ptr_array_unref);
  g_clear_pointer (&self->broken_ids, g_hash_table_unref);
  g_clear_pointer (&self->pending_ids, g_hash_table_unref);

  G_OBJECT_CLASS (lb_account_manager_parent_class)->finalize (object);
}

static void
lb_account_manager_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  LbAccountManager *self = LB_ACCOUNT_MANAGER (object);

  switch (prop_id)
    {
    case PROP_CONFIG_DIR:
      g_value_set_string (value, self->config_dir);
      break;

    case PROP_DATA_DIR:
      g_value_set_string (value, self->data_dir);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_account_manager_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  LbAccountManager *self = LB_ACCOUNT_MANAGER (object);

  switch (prop_id)
    {
    case PROP_CONFIG_DIR:
      self->config_dir = g_value_dup_string (value);
      break;

    case PROP_DATA_DIR:
      self->data_dir = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_account_manager_class_init (LbAccountManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = lb_account_manager_constructed;
  object_class->finalize = lb_account_manager_finalize;
  object_class->get_property = lb_account_manager_get_property;
  object_class->set_property = lb_account_manager_set_property;

  /**
   * LbAccountManager:config-dir:
   *
   * The directory whose `accounts` subdirectory holds the account files;
   * %NULL at construction means `$XDG_CONFIG_HOME/letterbox`.
   */
  properties[PROP_CONFIG_DIR] =
    g_param_spec_string ("config-dir", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * LbAccountManager:data-dir:
   *
   * The directory holding one directory of local data per account,
   * named by its id; %NULL at construction means
   * `$XDG_DATA_HOME/letterbox`.
   */
  properties[PROP_DATA_DIR] =
    g_param_spec_string ("data-dir", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lb_account_manager_init (LbAccountManager *self)
{
  self->accounts = g_ptr_array_new_with_free_func (g_object_unref);
  self->load_errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  self->broken_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->pending_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&self->queue);
}

/**
 * lb_account_manager_new:
 * @config_dir: (nullable): where the `accounts` directory is, or %NULL for
 *   `$XDG_CONFIG_HOME/letterbox`
 * @data_dir: (nullable): where the accounts' local data is, or %NULL for
 *   `$XDG_DATA_HOME/letterbox`
 *
 * Creates an empty manager; lb_account_manager_load_async() reads the
 * accounts.
 *
 * Returns: (transfer full): the manager
 */
LbAccountManager *
lb_account_manager_new (const char *config_dir,
                        const char *data_dir)
{
  return g_object_new (LB_TYPE_ACCOUNT_MANAGER,
                       "config-dir", config_dir,
                       "data-dir", data_dir,
                       NULL);
}

const char *
lb_account_manager_get_config_dir (LbAccountManager *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (self), NULL);

  return self->config_dir;
}

const char *
lb_account_manager_get_data_dir (LbAccountManager *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (self), NULL);

  return self->data_dir;
}

/**
 * lb_account_manager_lookup:
 *
 * Returns: (transfer none) (nullable): the account with @id
 */
LbAccount *
lb_account_manager_lookup (LbAccountManager *self,
                           const char       *id)
{
  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  for (guint i = 0; i < self->accounts->len; i++)
    {
      LbAccount *account = g_ptr_array_index (self->accounts, i);

      if (g_str_equal (lb_account_get_id (account), id))
        return account;
    }

  return NULL;
}

static int
compare_accounts (LbAccount *a,
                  LbAccount *b)
{
  guint pa = lb_account_get_position (a);
  guint pb = lb_account_get_position (b);

  if (pa != pb)
    return pa < pb ? -1 : 1;

  return strcmp (lb_account_get_id (a), lb_account_get_id (b));
}

static int
compare_account_pointers (gconstpointer a,
                          gconstpointer b)
{
  return compare_accounts (*(LbAccount **) a, *(LbAccount **) b);
}

static char *
make_data_dir (LbAccountManager *self,
               LbAccount        *account)
{
  return g_build_filename (self->data_dir, lb_account_get_id (account), NULL);
}

static char *
make_path (LbAccountManager *self,
           const char       *id)
{
  g_autofree char *name = g_strconcat (id, ".ini", NULL);

  return g_build_filename (self->accounts_dir, name, NULL);
}

/* Ids */

/* Latin letters for the Russian and Ukrainian alphabets, from а (U+0430) */
static const char *const cyrillic_latin[] = {
  "a", "b", "v", "g", "d", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
  "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya",
};

static void
append_id_char (GString  *id,
                gunichar  c)
{
  char utf8[8] = { 0 };
  g_autofree char *ascii = NULL;
  gboolean usable;

  if (c < 0x80)
    {
      if (g_ascii_isalnum ((char) c) || c == '.' || c == '_' || c == '-')
        g_string_append_c (id, g_ascii_tolower ((char) c));
      else if (c == '@')
        g_string_append (id, "-at-");
      else
        g_string_append_c (id, '-');
      return;
    }

  if (c >= 0x0430 && c <= 0x044F)
    {
      g_string_append (id, cyrillic_latin[c - 0x0430]);
      return;
    }

  switch (c)
    {
    case 0x0451: /* ё */
      g_string_append (id, "e");
      return;
    case 0x0454: /* є */
      g_string_append (id, "ye");
      return;
    case 0x0456: /* і */
      g_string_append (id, "i");
      return;
    case 0x0457: /* ї */
      g_string_append (id, "yi");
      return;
    case 0x0491: /* ґ */
      g_string_append (id, "g");
      return;
    default:
      break;
    }

  /* Latin letters with marks (é, ß) have an ASCII spelling; anything else
   * is spelled by its code point, which keeps ids distinct. */
  g_unichar_to_utf8 (c, utf8);
  ascii = g_str_to_ascii (utf8, "C");
  usable = *ascii != '\0';
  for (const char *p = ascii; *p != '\0'; p++)
    usable = usable && g_ascii_isalnum (*p);

  if (usable)
    {
      g_autofree char *lower = g_ascii_strdown (ascii, -1);

      g_string_append (id, lower);
    }
  else
    {
      g_string_append_printf (id, "u%04x", c);
    }
}

static char *
make_id_base (const char *address)
{
  g_autofree char *valid = g_utf8_make_valid (address, -1);
  g_autofree char *lower = g_utf8_strdown (valid, -1);
  g_autoptr(GString) id = g_string_new (NULL);
  GString *clean = g_string_new (NULL);

  for (const char *p = lower; *p != '\0'; p = g_utf8_next_char (p))
    append_id_char (id, g_utf8_get_char (p));

  /* one hyphen for any run of them; nothing but a letter, digit or
   * underscore first; no dot or hyphen last */
  for (gsize i = 0; i < id->len; i++)
    {
      char c = id->str[i];

      if (c == '-' && clean->len > 0 && clean->str[clean->len - 1] == '-')
        continue;
      if ((c == '-' || c == '.') && clean->len == 0)
        continue;
      if (clean->len == ID_BASE_MAX_LENGTH)
        break;
      g_string_append_c (clean, c);
    }

  while (clean->len > 0 && (clean->str[clean->len - 1] == '-' || clean->str[clean->len - 1] == '.'))
    g_string_truncate (clean, clean->len - 1);

  if (clean->len == 0)
    g_string_append (clean, "account");

  return g_string_free (clean, FALSE);
}

static gboolean
id_is_taken (LbAccountManager *self,
             const char       *id)
{
  g_autofree char *data_path = NULL;

  if (lb_account_manager_lookup (self, id) != NULL ||
      g_hash_table_contains (self->broken_ids, id) ||
      g_hash_table_contains (self->pending_ids, id))
    return TRUE;

  /* a removed account's mail, kept: a new account starts empty */
  data_path = g_build_filename (self->data_dir, id, NULL);
  return g_file_test (data_path, G_FILE_TEST_EXISTS);
}

/**
 * lb_account_manager_make_id:
 * @address: the email address of the new account
 *
 * Makes an id for a new account from its address: lower case, `@` spelled
 * `-at-`, Cyrillic letters in Latin, anything else outside `a-z 0-9 . _ -`
 * replaced, so "Alice@Example.org" becomes "alice-at-example.org". It is
 * unique among the loaded accounts, those being added, the account files
 * that failed to load and the mail that removed accounts left behind:
 * "-2", "-3"... is appended when needed. The id
 * is stored with the account and never recomputed, so it stays stable
 * when the address changes.
 *
 * Returns: (transfer full): a valid, unused id
 */
char *
lb_account_manager_make_id (LbAccountManager *self,
                            const char       *address)
{
  g_autofree char *base = NULL;
  char *id;

  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (self), NULL);
  g_return_val_if_fail (address != NULL, NULL);

  base = make_id_base (address);
  id = g_strdup (base);
  for (guint n = 2; id_is_taken (self, id); n++)
    {
      g_free (id);
      id = g_strdup_printf ("%s-%u", base, n);
    }

  g_assert (lb_account_id_is_valid (id));
  return id;
}

static void
pending_id_add (LbAccountManager *self,
                const char       *id)
{
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->pending_ids, id));

  g_hash_table_insert (self->pending_ids, g_strdup (id), GUINT_TO_POINTER (count + 1));
}

static void
pending_id_remove (LbAccountManager *self,
                   const char       *id)
{
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->pending_ids, id));

  if (count <= 1)
    g_hash_table_remove (self->pending_ids, id);
  else
    g_hash_table_insert (self->pending_ids, g_strdup (id), GUINT_TO_POINTER (count - 1));
}

/* Worker threads */

static GError *
skipped_file_error (const char   *path,
                    const GError *error)
{
  g_autofree char *display = g_filename_display_name (path);

  return g_error_new (error->domain, error->code,
                      _("The account file “%s” was skipped: %s"),
                      display, error->message);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  Op *op = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  op->loaded = g_ptr_array_new_with_free_func (g_object_unref);
  op->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  op->broken_ids = g_ptr_array_new_with_free_func (g_free);

  dir = g_dir_open (op->dir, 0, &error);
  if (dir == NULL)
    {
      /* no directory yet: no accounts yet */
      if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_task_return_boolean (task, TRUE);
      else
        {
          g_autofree char *display = g_filename_display_name (op->dir);

          g_task_return_new_error (task, error->domain, error->code,
                                   _("The account folder “%s” cannot be read: %s"),
                                   display, error->message);
        }
      return;
    }

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      if (g_str_has_suffix (name, ".ini"))
        g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *file_name = g_ptr_array_index (names, i);
      g_autofree char *id = g_strndup (file_name, strlen (file_name) - strlen (".ini"));
      g_autofree char *path = g_build_filename (op->dir, file_name, NULL);
      g_autoptr(GKeyFile) key_file = NULL;
      g_autoptr(LbAccount) account = NULL;
      g_autoptr(GError) file_error = NULL;

      if (g_task_return_error_if_cancelled (task))
        return;

      if (!lb_account_id_is_valid (id))
        {
          g_autoptr(LbAccount) invalid = lb_account_new (id);

          /* sets the message that explains what an id may be */
          lb_account_validate (invalid, &file_error);
          g_ptr_array_add (op->errors, skipped_file_error (path, file_error));
          continue;
        }

      key_file = g_key_file_new ();
      if (g_key_file_load_from_file (key_file, path,
                                     G_KEY_FILE_KEEP_COMMENTS | G_KEY_FILE_KEEP_TRANSLATIONS,
                                     &file_error))
        account = lb_account_new_from_key_file (key_file, id, &file_error);

      if (account == NULL)
        {
          g_ptr_array_add (op->errors, skipped_file_error (path, file_error));
          g_ptr_array_add (op->broken_ids, g_steal_pointer (&id));
          continue;
        }

      g_ptr_array_add (op->loaded, g_steal_pointer (&account));
    }

  g_ptr_array_sort (op->loaded, compare_account_pointers);
  g_task_return_boolean (task, TRUE);
}

static gboolean
write_file (Op      *op,
            GError **error)
{
  g_autoptr(GError) local_error = NULL;

  if (g_mkdir_with_parents (op->dir, 0700) != 0)
    {
      int saved_errno = errno;
      g_autofree char *display = g_filename_display_name (op->dir);

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("The account folder “%s” cannot be created: %s"),
                   display, g_strerror (saved_errno));
      return FALSE;
    }

  if (!g_file_set_contents_full (op->path, op->contents, op->length,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &local_error))
    {
      g_autofree char *display = g_filename_display_name (op->path);

      g_set_error (error, local_error->domain, local_error->code,
                   _("The account file “%s” cannot be saved: %s"),
                   display, local_error->message);
      return FALSE;
    }

  return TRUE;
}

static void
write_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  Op *op = task_data;
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;

  /* never overwrite an account file, even one that did not load */
  if (op->kind == OP_ADD && g_file_test (op->path, G_FILE_TEST_EXISTS))
    {
      g_autofree char *display = g_filename_display_name (op->path);

      g_task_return_new_error (task, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_EXISTS,
                               _("An account file “%s” exists already"), display);
      return;
    }

  /* nor hand a new account the mail a removed one left behind (its
   * Inbox, its unsent Outbox) */
  if (op->kind == OP_ADD && op->data_path != NULL && g_file_test (op->data_path, G_FILE_TEST_EXISTS))
    {
      g_autofree char *display = g_filename_display_name (op->data_path);

      g_task_return_new_error (task, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_EXISTS,
                               _("The mail of a removed account is still in “%s”: "
                                 "choose another id, or delete that folder first"), display);
      return;
    }

  if (!write_file (op, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
remove_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Op *op = task_data;

  if (g_task_return_error_if_cancelled (task))
    return;

  if (g_unlink (op->path) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;
      g_autofree char *display = g_filename_display_name (op->path);

      g_task_return_new_error (task, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                               _("The account file “%s” cannot be deleted: %s"),
                               display, g_strerror (saved_errno));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

/* The queue */

static void run_next (LbAccountManager *self);

static void
apply_load (LbAccountManager *self,
            Op               *op)
{
  guint removed = self->accounts->len;
  guint added = op->loaded->len;

  g_ptr_array_set_size (self->accounts, 0);
  for (guint i = 0; i < op->loaded->len; i++)
    {
      LbAccount *account = g_ptr_array_index (op->loaded, i);
      g_autofree char *data_dir = make_data_dir (self, account);

      lb_account_set_data_dir (account, data_dir);
      g_ptr_array_add (self->accounts, g_object_ref (account));
    }

  g_ptr_array_set_size (self->load_errors, 0);
  g_ptr_array_extend_and_steal (self->load_errors, g_steal_pointer (&op->errors));

  g_hash_table_remove_all (self->broken_ids);
  for (guint i = 0; i < op->broken_ids->len; i++)
    g_hash_table_add (self->broken_ids, g_strdup (g_ptr_array_index (op->broken_ids, i)));

  self->next_position = 0;
  if (self->accounts->len > 0)
    {
      LbAccount *last = g_ptr_array_index (self->accounts, self->accounts->len - 1);

      self->next_position = MIN (lb_account_get_position (last), G_MAXINT - 1) + 1;
    }

  if (removed > 0 || added > 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, removed, added);
}

static void
apply_add (LbAccountManager *self,
           Op               *op)
{
  g_autofree char *data_dir = make_data_dir (self, op->account);
  guint position = self->accounts->len;

  lb_account_set_data_dir (op->account, data_dir);

  /* in order, which with the position add_async() gave it is the end */
  while (position > 0 &&
         compare_accounts (op->account, g_ptr_array_index (self->accounts, position - 1)) < 0)
    position--;

  g_ptr_array_insert (self->accounts, position, g_object_ref (op->account));
  g_list_model_items_changed (G_LIST_MODEL (self), position, 0, 1);
}

static void
apply_remove (LbAccountManager *self,
              Op               *op)
{
  guint position;

  if (!g_ptr_array_find (self->accounts, op->account, &position))
    g_return_if_reached ();

  g_ptr_array_remove_index (self->accounts, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
}

static void
op_done_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LbAccountManager *self = g_task_get_source_object (task);
  Op *op = g_task_get_task_data (task);
  GError *error = NULL;

  self->busy = FALSE;

  if (op->kind == OP_ADD)
    pending_id_remove (self, lb_account_get_id (op->account));

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
    }
  else
    {
      switch (op->kind)
        {
        case OP_LOAD:
          apply_load (self, op);
          break;

        case OP_ADD:
          apply_add (self, op);
          break;

        case OP_REMOVE:
          apply_remove (self, op);
          break;

        case OP_SAVE:
        default:
          break;
        }

      g_task_return_boolean (task, TRUE);
    }

  run_next (self);
}

/* Checks, when its turn comes, that the operation still makes sense. */
static gboolean
op_check (LbAccountManager  *self,
          Op                *op,
          GError           **error)
{
  switch (op->kind)
    {
    case OP_ADD:
      if (lb_account_manager_lookup (self, lb_account_get_id (op->account)) != NULL)
        {
          g_set_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_EXISTS,
                       _("An account with the id “%s” exists already"),
                       lb_account_get_id (op->account));
          return FALSE;
        }
      return TRUE;

    case OP_SAVE:
    case OP_REMOVE:
      if (!g_ptr_array_find (self->accounts, op->account, NULL))
        {
          g_set_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_NOT_FOUND,
                       _("The account “%s” is not in the account list"),
                       lb_account_get_id (op->account));
          return FALSE;
        }
      return TRUE;

    case OP_LOAD:
    default:
      return TRUE;
    }
}

/* Takes a snapshot of the settings to write, after checking them. */
static gboolean
prepare_write (GTask      *task,
               GError    **error)
{
  Op *op = g_task_get_task_data (task);
  g_autoptr(GKeyFile) key_file = NULL;

  if (!lb_account_validate (op->account, error))
    return FALSE;

  key_file = lb_account_to_key_file (op->account);
  op->contents = g_key_file_to_data (key_file, &op->length, NULL);
  return TRUE;
}

/* A new account goes after the last one: its position is given when its
 * turn comes, so that a load queued before it is taken into account. */
static gboolean
prepare_add (LbAccountManager  *self,
             GTask             *task,
             GError           **error)
{
  Op *op = g_task_get_task_data (task);

  lb_account_set_position (op->account, self->next_position);
  if (self->next_position < G_MAXINT)
    self->next_position++;

  return prepare_write (task, error);
}

static void
run_next (LbAccountManager *self)
{
  while (!self->busy && !g_queue_is_empty (&self->queue))
    {
      g_autoptr(GTask) task = g_queue_pop_head (&self->queue);
      Op *op = g_task_get_task_data (task);
      GCancellable *cancellable = g_task_get_cancellable (task);
      g_autoptr(GTask) worker = NULL;
      GError *error = NULL;

      if (!op_check (self, op, &error) ||
          g_cancellable_set_error_if_cancelled (cancellable, &error) ||
          (op->kind == OP_ADD && !prepare_add (self, task, &error)))
        {
          if (op->kind == OP_ADD)
            pending_id_remove (self, lb_account_get_id (op->account));
          g_task_return_error (task, error);
          continue;
        }

      /* The worker has no source object: the thread drops its reference
       * to the worker some time after the result is back, and that must
       * not keep the manager alive. The waiting task holds the manager,
       * the worker only points at the waiting task's data. */
      self->busy = TRUE;
      worker = g_task_new (NULL, cancellable, op_done_cb, g_object_ref (task));
      g_task_set_source_tag (worker, run_next);
      g_task_set_task_data (worker, op, NULL);
      g_task_set_check_cancellable (worker, FALSE);

      switch (op->kind)
        {
        case OP_LOAD:
          g_task_run_in_thread (worker, load_thread);
          break;

        case OP_ADD:
        case OP_SAVE:
          g_task_run_in_thread (worker, write_thread);
          break;

        case OP_REMOVE:
          g_task_run_in_thread (worker, remove_thread);
          break;

        default:
          g_assert_not_reached ();
        }
    }
}

static GTask *
start_op (LbAccountManager    *self,
          OpKind               kind,
          LbAccount           *account,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data,
          gpointer             source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Op *op = g_new0 (Op, 1);

  g_task_set_source_tag (task, source_tag);

  op->kind = kind;
  op->dir = g_strdup (self->accounts_dir);
  if (account != NULL)
    {
      op->account = g_object_ref (account);
      op->path = make_path (self, lb_account_get_id (account));
      op->data_path = make_data_dir (self, account);
    }
  g_task_set_task_data (task, op, op_free);

  return task;
}

static void
enqueue (LbAccountManager *self,
         GTask            *task)
{
  g_queue_push_tail (&self->queue, task);
  run_next (self);
}

/**
 * lb_account_manager_load_async:
 *
 * Reads every `*.ini` file in the accounts directory, in a worker thread,
 * and replaces the list with the accounts read, with one items-changed
 * emission for the whole list. A file that cannot be used (unreadable, not
 * a key file, a required key missing, an invalid value, a file name that is
 * not a valid id) is skipped; the others still load, and
 * lb_account_manager_get_load_errors() says afterwards what was skipped
 * and why. Loading again replaces every #LbAccount object.
 */
void
lb_account_manager_load_async (LbAccountManager    *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (LB_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  enqueue (self, start_op (self, OP_LOAD, NULL, cancellable, callback, user_data,
                           lb_account_manager_load_async));
}

/**
 * lb_account_manager_load_finish:
 *
 * Returns: %TRUE when the accounts directory could be read (or does not
 *   exist yet), even if some files in it were skipped; %FALSE with @error
 *   set when it could not be read at all, or on cancellation
 */
gboolean
lb_account_manager_load_finish (LbAccountManager  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_account_manager_load_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * lb_account_manager_get_load_errors:
 *
 * The account files the last load skipped, one #GError each, in file name
 * order. Each message names the file and says what is wrong with it, for
 * showing to the user; the domain and code are those of the underlying
 * problem (%G_KEY_FILE_ERROR, %G_FILE_ERROR, %LB_ACCOUNT_ERROR).
 *
 * Returns: (transfer none) (element-type GError): the errors, empty when
 *   every file loaded
 */
GPtrArray *
lb_account_manager_get_load_errors (LbAccountManager *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (self), NULL);

  return self->load_errors;
}

/**
 * lb_account_manager_add_async:
 * @account: a new account, with an id from lb_account_manager_make_id()
 *
 * Checks @account (lb_account_validate()), gives it the position after the
 * last account (whatever position it had), writes its file and then
 * appends it to the list. The settings written are those the account has
 * when its turn comes, after the operations asked for before. Fails
 * with %LB_ACCOUNT_ERROR_EXISTS when an account with its id is in the
 * list or an account file with its id exists, which is never overwritten.
 */
void
lb_account_manager_add_async (LbAccountManager    *self,
                              LbAccount           *account,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (LB_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (LB_IS_ACCOUNT (account));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = start_op (self, OP_ADD, account, cancellable, callback, user_data,
                   lb_account_manager_add_async);

  /* validation first: the id must be safe before it names a file */
  if (!lb_account_validate (account, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  pending_id_add (self, lb_account_get_id (account));
  enqueue (self, g_steal_pointer (&task));
}

gboolean
lb_account_manager_add_finish (LbAccountManager  *self,
                               GAsyncResult      *result,
                               GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_account_manager_add_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * lb_account_manager_save_async:
 * @account: one of the manager's accounts
 *
 * Checks @account and writes its settings as they are now. The list
 * order does not change, even if the position did; it is applied on the
 * next load.
 */
void
lb_account_manager_save_async (LbAccountManager    *self,
                               LbAccount           *account,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (LB_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (LB_IS_ACCOUNT (account));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = start_op (self, OP_SAVE, account, cancellable, callback, user_data,
                   lb_account_manager_save_async);

  if (!prepare_write (task, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  enqueue (self, g_steal_pointer (&task));
}

gboolean
lb_account_manager_save_finish (LbAccountManager  *self,
                                GAsyncResult      *result,
                                GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_account_manager_save_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * lb_account_manager_remove_async:
 * @account: one of the manager's accounts
 *
 * Deletes the account's file and then removes it from the list. Nothing
 * else is touched: the local mail under lb_account_get_data_dir() and the
 * passwords in the keyring stay, and deleting them is the caller's
 * decision (LbSecrets clears the passwords).
 */
void
lb_account_manager_remove_async (LbAccountManager    *self,
                                 LbAccount           *account,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (LB_IS_ACCOUNT_MANAGER (self));
  g_return_if_fail (LB_IS_ACCOUNT (account));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  enqueue (self, start_op (self, OP_REMOVE, account, cancellable, callback, user_data,
                           lb_account_manager_remove_async));
}

gboolean
lb_account_manager_remove_finish (LbAccountManager  *self,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_account_manager_remove_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * lb_account_manager_create_unified_inbox:
 * @self: the manager
 *
 * Makes a message list over the inboxes of all the accounts that are open
 * now, newest message first across them. Load it with
 * lb_message_list_load_async().
 *
 * It is a snapshot of the accounts as they are: an account opened later,
 * or an inbox that appears later (an IMAP account's, after its first
 * folder sync), is not in it, and the list keeps the stores of its
 * accounts alive after they close. Make a new one when that changes
 * (#LbAccount:opened, #GListModel::items-changed of the manager or of an
 * account's folders).
 *
 * Returns: (transfer full): the list, not loaded; empty when no open
 *   account has an inbox
 */
LbMessageList *
lb_account_manager_create_unified_inbox (LbAccountManager *self)
{
  return lb_account_manager_create_unified_inbox_full (self, FALSE);
}

/**
 * lb_account_manager_create_unified_inbox_full:
 * @self: the manager
 * @threaded: whether each row is a conversation (lb_message_list_new_threaded())
 *
 * lb_account_manager_create_unified_inbox(), a row per message or a row
 * per conversation of each inbox.
 *
 * Returns: (transfer full): the list, not loaded
 */
LbMessageList *
lb_account_manager_create_unified_inbox_full (LbAccountManager *self,
                                              gboolean          threaded)
{
  LbMessageList *list;

  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (self), NULL);

  list = threaded ? lb_message_list_new_threaded () : lb_message_list_new ();
  for (guint i = 0; i < self->accounts->len; i++)
    {
      LbAccount *account = g_ptr_array_index (self->accounts, i);
      LbFolder *inbox;

      if (!lb_account_get_opened (account))
        continue;

      inbox = lb_account_get_inbox (account);
      if (inbox != NULL)
        lb_message_list_add_folder (list, lb_account_get_store (account), lb_folder_get_id (inbox));
    }

  return list;
}
