/* lb-sidebar.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "lb-sidebar.h"
#include "lb-sidebar-row.h"

/* The sidebar is a GtkListBox (a few dozen rows at most, each a widget
 * that lives as long as its folder): All Inboxes, then for each account a
 * title row and its folders. Rows are created when a folder appears and
 * kept while it exists; a sort function puts them in place, so a change
 * of a folder's name or role, or of the accounts' order, moves rows
 * without rebuilding them and the selection stays on its row.
 *
 * The models tell a move as a removal then an insertion: rows whose
 * folder (or account) left the model are removed only from an idle, by
 * when a moved folder is back and its row, selected or not, stays. */

typedef struct
{
  LbSidebar    *sidebar;
  LbAccount    *account;
  GListModel   *folders;
  gulong        folders_changed_id;
  LbSidebarRow *title_row;
  GHashTable   *rows;        /* LbFolder -> LbSidebarRow, both referenced */
  guint         index;
  gboolean      detached;    /* no longer in the manager: removed soon */
} AccountEntry;

struct _LbSidebar
{
  AdwBin            parent_instance;

  LbAccountManager *manager;
  gulong            manager_changed_id;

  GtkWidget        *scrolled;
  GtkListBox       *list_box;
  LbSidebarRow     *unified_row;
  GPtrArray        *entries;      /* AccountEntry, in the manager's order */

  LbSidebarRow     *emitted_row;  /* the selection last announced */
  GtkListBoxRow    *cursor_from;  /* the selection when a key moves */
  gboolean          moving;
  guint             sweep_id;
  guint             resort_id;
};

G_DEFINE_FINAL_TYPE (LbSidebar, lb_sidebar, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_MANAGER,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SELECTION_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void sync_folders (AccountEntry *entry);

/* ------------------------------------------------------------ selection */

static LbSidebarRow *
selected_row (LbSidebar *self)
{
  GtkListBoxRow *row = gtk_list_box_get_selected_row (self->list_box);

  return row != NULL ? LB_SIDEBAR_ROW (row) : NULL;
}

/* Announces the selection if it is not the one last announced. */
static void
check_selection (LbSidebar *self)
{
  LbSidebarRow *row = selected_row (self);

  if (row == self->emitted_row)
    return;

  g_set_object (&self->emitted_row, row);
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
}

static void
row_selected_cb (GtkListBox    *list_box,
                 GtkListBoxRow *row,
                 LbSidebar     *self)
{
  check_selection (self);
}

/* The arrows move the list box's cursor row by row, and account titles
 * are rows that cannot be selected: a move that lands on one goes on one
 * more step, so that each key press selects a folder. */
static void
move_cursor_cb (GtkListBox      *list_box,
                GtkMovementStep  step,
                int              count,
                gboolean         extend,
                gboolean         modify,
                LbSidebar       *self)
{
  self->cursor_from = gtk_list_box_get_selected_row (list_box);
}

static void
move_cursor_after_cb (GtkListBox      *list_box,
                      GtkMovementStep  step,
                      int              count,
                      gboolean         extend,
                      gboolean         modify,
                      LbSidebar       *self)
{
  if (self->moving || step != GTK_MOVEMENT_DISPLAY_LINES)
    return;
  if (gtk_list_box_get_selected_row (list_box) != self->cursor_from)
    return;

  self->moving = TRUE;
  g_signal_emit_by_name (list_box, "move-cursor", step, count, extend, modify);
  self->moving = FALSE;
}

/* ------------------------------------------------------------ counts */

static void
update_unified_count (LbSidebar *self)
{
  guint total = 0;

  for (guint i = 0; i < self->entries->len; i++)
    {
      AccountEntry *entry = self->entries->pdata[i];
      LbFolder *inbox;

      if (entry->detached)
        continue;
      inbox = lb_account_get_inbox (entry->account);
      if (inbox != NULL)
        total += lb_folder_get_unread_count (inbox);
    }

  lb_sidebar_row_set_unread_count (self->unified_row, total);
}

/* ------------------------------------------------------------ order */

typedef struct _Node Node;
struct _Node
{
  LbFolder  *folder;
  Node      *parent;
  GPtrArray *children;   /* Node, borrowed */
  guint      rank;
  char      *collate_key;
};

static void
node_free (Node *node)
{
  g_clear_pointer (&node->children, g_ptr_array_unref);
  g_free (node->collate_key);
  g_free (node);
}

static int
compare_nodes (gconstpointer a,
               gconstpointer b)
{
  const Node *na = *(Node * const *) a;
  const Node *nb = *(Node * const *) b;
  int cmp;

  if (na->rank != nb->rank)
    return na->rank < nb->rank ? -1 : 1;
  cmp = strcmp (na->collate_key, nb->collate_key);
  if (cmp != 0)
    return cmp;
  return strcmp (lb_folder_get_path (na->folder), lb_folder_get_path (nb->folder));
}

/* The closest folder above @node by path, or NULL. Folders with a role
 * stay at the top, wherever the server keeps them. */
static Node *
find_parent (Node       *node,
             GHashTable *by_path)
{
  const char *path = lb_folder_get_path (node->folder);
  const char *delimiter = lb_folder_get_delimiter (node->folder);
  gsize delimiter_len;
  gssize end;

  if (lb_folder_get_role (node->folder) != LB_FOLDER_ROLE_NONE)
    return NULL;
  if (path == NULL || delimiter == NULL || *delimiter == '\0')
    return NULL;

  delimiter_len = strlen (delimiter);
  end = strlen (path);
  while (end > 0)
    {
      const char *found = g_strrstr_len (path, end, delimiter);
      g_autofree char *prefix = NULL;
      Node *parent;

      if (found == NULL || found == path)
        return NULL;
      end = found - path;
      prefix = g_strndup (path, end);
      parent = g_hash_table_lookup (by_path, prefix);
      if (parent != NULL && parent != node)
        return parent;
      /* a path ending in the delimiter: look further up */
      if ((gsize) end < delimiter_len)
        return NULL;
    }

  return NULL;
}

static void
assign_order (Node         *node,
              guint         depth,
              AccountEntry *entry,
              guint        *order)
{
  LbSidebarRow *row = g_hash_table_lookup (entry->rows, node->folder);

  if (row != NULL)
    {
      lb_sidebar_row_set_position (row, entry->index, ++*order);
      lb_sidebar_row_set_depth (row, depth);
    }

  g_ptr_array_sort (node->children, compare_nodes);
  for (guint i = 0; i < node->children->len; i++)
    assign_order (node->children->pdata[i], depth + 1, entry, order);
}

/* Puts the account's rows in the sidebar's order: the roles, then the
 * other folders by name, each followed by the folders inside it. */
static void
order_account (AccountEntry *entry)
{
  g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) node_free);
  g_autoptr(GHashTable) by_path = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) top = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;
  guint order = 0;

  lb_sidebar_row_set_position (entry->title_row, entry->index, 0);

  g_hash_table_iter_init (&iter, entry->rows);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      LbFolder *folder = key;
      Node *node = g_new0 (Node, 1);
      g_autofree char *casefolded = g_utf8_casefold (lb_folder_get_display_name (folder), -1);

      node->folder = folder;
      node->children = g_ptr_array_new ();
      node->rank = lb_sidebar_folder_role_rank (lb_folder_get_role (folder));
      node->collate_key = g_utf8_collate_key_for_filename (casefolded, -1);
      g_ptr_array_add (nodes, node);
      if (lb_folder_get_path (folder) != NULL)
        g_hash_table_insert (by_path, (gpointer) lb_folder_get_path (folder), node);
    }

  for (guint i = 0; i < nodes->len; i++)
    {
      Node *node = nodes->pdata[i];

      node->parent = find_parent (node, by_path);
      g_ptr_array_add (node->parent != NULL ? node->parent->children : top, node);
    }

  g_ptr_array_sort (top, compare_nodes);
  for (guint i = 0; i < top->len; i++)
    assign_order (top->pdata[i], 0, entry, &order);
}

static void
resort (LbSidebar *self)
{
  for (guint i = 0; i < self->entries->len; i++)
    {
      AccountEntry *entry = self->entries->pdata[i];

      entry->index = i;
      order_account (entry);
    }

  gtk_list_box_invalidate_sort (self->list_box);
}

static int
sort_func (GtkListBoxRow *a,
           GtkListBoxRow *b,
           gpointer       user_data)
{
  return lb_sidebar_row_compare (LB_SIDEBAR_ROW (a), LB_SIDEBAR_ROW (b));
}

static gboolean
resort_idle_cb (gpointer user_data)
{
  LbSidebar *self = user_data;

  self->resort_id = 0;
  resort (self);

  return G_SOURCE_REMOVE;
}

/* a folder's name, role or path changed: its place may have */
static void
queue_resort (LbSidebar *self)
{
  if (self->resort_id == 0)
    self->resort_id = g_idle_add_full (G_PRIORITY_HIGH_IDLE, resort_idle_cb, self, NULL);
}

/* ------------------------------------------------------------ rows */

static void
folder_notify_cb (LbFolder     *folder,
                  GParamSpec   *pspec,
                  AccountEntry *entry)
{
  const char *name = g_param_spec_get_name (pspec);

  if (g_str_equal (name, "unread-count"))
    update_unified_count (entry->sidebar);
  else if (g_str_equal (name, "display-name") || g_str_equal (name, "role") || g_str_equal (name, "path"))
    {
      queue_resort (entry->sidebar);
      /* the account's Inbox may be another folder now */
      update_unified_count (entry->sidebar);
    }
}

static void
remove_row (AccountEntry *entry,
            LbFolder     *folder)
{
  LbSidebarRow *row = g_hash_table_lookup (entry->rows, folder);

  g_signal_handlers_disconnect_by_data (folder, entry);
  if (row != NULL)
    gtk_list_box_remove (entry->sidebar->list_box, GTK_WIDGET (row));
  g_hash_table_remove (entry->rows, folder);
}

static void
account_entry_free (AccountEntry *entry)
{
  LbSidebar *self = entry->sidebar;
  GHashTableIter iter;
  gpointer key;

  g_clear_signal_handler (&entry->folders_changed_id, entry->folders);

  g_hash_table_iter_init (&iter, entry->rows);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_signal_handlers_disconnect_by_data (key, entry);

  if (self->list_box != NULL)
    {
      g_hash_table_iter_init (&iter, entry->rows);
      while (g_hash_table_iter_next (&iter, NULL, &key))
        gtk_list_box_remove (self->list_box, GTK_WIDGET (key));
      gtk_list_box_remove (self->list_box, GTK_WIDGET (entry->title_row));
    }

  g_clear_pointer (&entry->rows, g_hash_table_unref);
  g_clear_object (&entry->title_row);
  g_clear_object (&entry->folders);
  g_clear_object (&entry->account);
  g_free (entry);
}

/* Removes the rows of folders and accounts that left their models (see
 * the top of the file). */
static gboolean
sweep_idle_cb (gpointer user_data)
{
  LbSidebar *self = user_data;
  gboolean removed = FALSE;

  self->sweep_id = 0;

  for (guint i = self->entries->len; i > 0; i--)
    {
      AccountEntry *entry = self->entries->pdata[i - 1];

      if (entry->detached)
        {
          g_ptr_array_remove_index (self->entries, i - 1);
          removed = TRUE;
        }
    }

  for (guint i = 0; i < self->entries->len; i++)
    {
      AccountEntry *entry = self->entries->pdata[i];
      guint n = g_list_model_get_n_items (entry->folders);
      g_autoptr(GHashTable) present = g_hash_table_new (NULL, NULL);
      g_autoptr(GPtrArray) gone = g_ptr_array_new ();
      GHashTableIter iter;
      gpointer key;

      if (n == g_hash_table_size (entry->rows))
        continue;

      for (guint j = 0; j < n; j++)
        {
          g_autoptr(LbFolder) folder = g_list_model_get_item (entry->folders, j);

          g_hash_table_add (present, folder);
        }

      g_hash_table_iter_init (&iter, entry->rows);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (!g_hash_table_contains (present, key))
          g_ptr_array_add (gone, key);

      for (guint j = 0; j < gone->len; j++)
        remove_row (entry, gone->pdata[j]);
      removed = removed || gone->len > 0;
    }

  if (removed)
    {
      resort (self);
      update_unified_count (self);
    }
  check_selection (self);

  return G_SOURCE_REMOVE;
}

static void
queue_sweep (LbSidebar *self)
{
  if (self->sweep_id == 0)
    self->sweep_id = g_idle_add_full (G_PRIORITY_HIGH_IDLE, sweep_idle_cb, self, NULL);
}

/* Makes a row for each folder of the account that has none, and leaves
 * the rows of folders that went to the sweep. */
static void
sync_folders (AccountEntry *entry)
{
  LbSidebar *self = entry->sidebar;
  guint n = g_list_model_get_n_items (entry->folders);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbFolder) folder = g_list_model_get_item (entry->folders, i);
      LbSidebarRow *row;

      if (g_hash_table_contains (entry->rows, folder))
        continue;

      row = g_object_ref_sink (lb_sidebar_row_new_folder (entry->account, folder));
      g_hash_table_insert (entry->rows, g_object_ref (folder), row);
      g_signal_connect (folder, "notify", G_CALLBACK (folder_notify_cb), entry);
      gtk_list_box_append (self->list_box, GTK_WIDGET (row));
    }

  if (n != g_hash_table_size (entry->rows))
    queue_sweep (self);

  order_account (entry);
  gtk_list_box_invalidate_sort (self->list_box);
  update_unified_count (self);
}

static void
folders_changed_cb (GListModel   *model,
                    guint         position,
                    guint         removed,
                    guint         added,
                    AccountEntry *entry)
{
  sync_folders (entry);
}

static AccountEntry *
account_entry_new (LbSidebar *self,
                   LbAccount *account)
{
  AccountEntry *entry = g_new0 (AccountEntry, 1);

  entry->sidebar = self;
  entry->account = g_object_ref (account);
  entry->folders = g_object_ref (lb_account_get_folders (account));
  entry->rows = g_hash_table_new_full (NULL, NULL, g_object_unref, g_object_unref);
  entry->title_row = g_object_ref_sink (lb_sidebar_row_new_account (account));
  gtk_list_box_append (self->list_box, GTK_WIDGET (entry->title_row));
  entry->folders_changed_id = g_signal_connect (entry->folders, "items-changed",
                                                G_CALLBACK (folders_changed_cb), entry);

  return entry;
}

static AccountEntry *
find_entry (LbSidebar *self,
            LbAccount *account)
{
  for (guint i = 0; i < self->entries->len; i++)
    {
      AccountEntry *entry = self->entries->pdata[i];

      if (entry->account == account && !entry->detached)
        return entry;
    }

  return NULL;
}

/* Follows the manager's list: an entry for each account, in its order;
 * entries of accounts that left go to the sweep. */
static void
sync_accounts (LbSidebar *self)
{
  GListModel *accounts = G_LIST_MODEL (self->manager);
  guint n = g_list_model_get_n_items (accounts);
  g_autoptr(GPtrArray) ordered = g_ptr_array_new_with_free_func ((GDestroyNotify) account_entry_free);
  gboolean any_detached = FALSE;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbAccount) account = g_list_model_get_item (accounts, i);
      AccountEntry *entry = NULL;

      for (guint j = 0; j < self->entries->len; j++)
        {
          AccountEntry *candidate = self->entries->pdata[j];

          if (candidate->account == account)
            {
              entry = g_ptr_array_steal_index (self->entries, j);
              break;
            }
        }

      if (entry == NULL)
        {
          entry = account_entry_new (self, account);
          g_ptr_array_add (ordered, entry);
          entry->index = i;
          sync_folders (entry);
        }
      else
        {
          entry->detached = FALSE;
          g_ptr_array_add (ordered, entry);
        }
    }

  /* what is left is gone from the manager */
  while (self->entries->len > 0)
    {
      AccountEntry *entry = g_ptr_array_steal_index (self->entries, 0);

      entry->detached = TRUE;
      any_detached = TRUE;
      g_ptr_array_add (ordered, entry);
    }

  g_ptr_array_extend_and_steal (self->entries, g_steal_pointer (&ordered));

  if (any_detached)
    queue_sweep (self);
  resort (self);
  update_unified_count (self);
}

static void
manager_changed_cb (GListModel *model,
                    guint       position,
                    guint       removed,
                    guint       added,
                    LbSidebar  *self)
{
  sync_accounts (self);
}

/* ------------------------------------------------------------ GObject */

static void
lb_sidebar_constructed (GObject *object)
{
  LbSidebar *self = LB_SIDEBAR (object);

  G_OBJECT_CLASS (lb_sidebar_parent_class)->constructed (object);

  g_return_if_fail (LB_IS_ACCOUNT_MANAGER (self->manager));

  self->manager_changed_id = g_signal_connect (self->manager, "items-changed",
                                               G_CALLBACK (manager_changed_cb), self);
  sync_accounts (self);
}

static void
lb_sidebar_dispose (GObject *object)
{
  LbSidebar *self = LB_SIDEBAR (object);

  g_clear_handle_id (&self->sweep_id, g_source_remove);
  g_clear_handle_id (&self->resort_id, g_source_remove);
  g_clear_signal_handler (&self->manager_changed_id, self->manager);
  if (self->list_box != NULL)
    g_signal_handlers_disconnect_by_data (self->list_box, self);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_object (&self->emitted_row);
  g_clear_object (&self->unified_row);
  self->list_box = NULL;

  G_OBJECT_CLASS (lb_sidebar_parent_class)->dispose (object);
}

static void
lb_sidebar_finalize (GObject *object)
{
  LbSidebar *self = LB_SIDEBAR (object);

  g_clear_object (&self->manager);

  G_OBJECT_CLASS (lb_sidebar_parent_class)->finalize (object);
}

static void
lb_sidebar_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  LbSidebar *self = LB_SIDEBAR (object);

  switch (prop_id)
    {
    case PROP_MANAGER:
      g_value_set_object (value, self->manager);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_sidebar_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  LbSidebar *self = LB_SIDEBAR (object);

  switch (prop_id)
    {
    case PROP_MANAGER:
      self->manager = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_sidebar_class_init (LbSidebarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = lb_sidebar_constructed;
  object_class->dispose = lb_sidebar_dispose;
  object_class->finalize = lb_sidebar_finalize;
  object_class->get_property = lb_sidebar_get_property;
  object_class->set_property = lb_sidebar_set_property;

  properties[PROP_MANAGER] =
    g_param_spec_object ("manager", NULL, NULL,
                         LB_TYPE_ACCOUNT_MANAGER,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * LbSidebar::selection-changed:
   *
   * The user (or lb_sidebar_select_folder()) chose another folder or All
   * Inboxes, or the folder chosen went away; read the selection with the
   * getters.
   */
  signals[SELECTION_CHANGED] =
    g_signal_new ("selection-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_css_name (widget_class, "lb-sidebar");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
lb_sidebar_init (LbSidebar *self)
{
  self->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) account_entry_free);

  self->list_box = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list_box, GTK_SELECTION_SINGLE);
  gtk_list_box_set_sort_func (self->list_box, sort_func, NULL, NULL);
  gtk_widget_add_css_class (GTK_WIDGET (self->list_box), "navigation-sidebar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list_box),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Folders"),
                                  -1);
  g_signal_connect (self->list_box, "row-selected", G_CALLBACK (row_selected_cb), self);
  g_signal_connect (self->list_box, "move-cursor", G_CALLBACK (move_cursor_cb), self);
  g_signal_connect_after (self->list_box, "move-cursor", G_CALLBACK (move_cursor_after_cb), self);

  self->unified_row = g_object_ref_sink (lb_sidebar_row_new_unified ());
  gtk_list_box_append (self->list_box, GTK_WIDGET (self->unified_row));

  self->scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scrolled),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scrolled), GTK_WIDGET (self->list_box));
  gtk_widget_set_vexpand (self->scrolled, TRUE);
  adw_bin_set_child (ADW_BIN (self), self->scrolled);
}

/* ------------------------------------------------------------ API */

/**
 * lb_sidebar_new:
 * @manager: the accounts to list
 *
 * Returns: (transfer floating): a sidebar with nothing selected
 */
GtkWidget *
lb_sidebar_new (LbAccountManager *manager)
{
  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (manager), NULL);

  return g_object_new (LB_TYPE_SIDEBAR, "manager", manager, NULL);
}

/**
 * lb_sidebar_get_selected_account:
 * @self: a sidebar
 *
 * Returns: (transfer none) (nullable): the account of the folder
 *   selected; %NULL with All Inboxes or nothing selected
 */
LbAccount *
lb_sidebar_get_selected_account (LbSidebar *self)
{
  LbSidebarRow *row;

  g_return_val_if_fail (LB_IS_SIDEBAR (self), NULL);

  row = selected_row (self);
  if (row == NULL || lb_sidebar_row_get_kind (row) != LB_SIDEBAR_ROW_FOLDER)
    return NULL;
  return lb_sidebar_row_get_account (row);
}

/**
 * lb_sidebar_get_selected_folder:
 * @self: a sidebar
 *
 * Returns: (transfer none) (nullable): the folder selected; %NULL with
 *   All Inboxes or nothing selected
 */
LbFolder *
lb_sidebar_get_selected_folder (LbSidebar *self)
{
  LbSidebarRow *row;

  g_return_val_if_fail (LB_IS_SIDEBAR (self), NULL);

  row = selected_row (self);
  if (row == NULL || lb_sidebar_row_get_kind (row) != LB_SIDEBAR_ROW_FOLDER)
    return NULL;
  return lb_sidebar_row_get_folder (row);
}

/**
 * lb_sidebar_get_unified_selected:
 * @self: a sidebar
 *
 * Returns: whether All Inboxes is selected
 */
gboolean
lb_sidebar_get_unified_selected (LbSidebar *self)
{
  g_return_val_if_fail (LB_IS_SIDEBAR (self), FALSE);

  return selected_row (self) == self->unified_row;
}

/**
 * lb_sidebar_select_unified:
 * @self: a sidebar
 *
 * Selects All Inboxes (::selection-changed follows if it was not).
 */
void
lb_sidebar_select_unified (LbSidebar *self)
{
  g_return_if_fail (LB_IS_SIDEBAR (self));

  gtk_list_box_select_row (self->list_box, GTK_LIST_BOX_ROW (self->unified_row));
}

/**
 * lb_sidebar_select_folder:
 * @self: a sidebar
 * @account: one of the manager's accounts
 * @folder: one of @account's folders
 *
 * Selects @folder, if the sidebar lists it (::selection-changed follows
 * if it was not selected).
 */
void
lb_sidebar_select_folder (LbSidebar *self,
                          LbAccount *account,
                          LbFolder  *folder)
{
  AccountEntry *entry;
  LbSidebarRow *row;

  g_return_if_fail (LB_IS_SIDEBAR (self));
  g_return_if_fail (LB_IS_ACCOUNT (account));
  g_return_if_fail (LB_IS_FOLDER (folder));

  entry = find_entry (self, account);
  row = entry != NULL ? g_hash_table_lookup (entry->rows, folder) : NULL;
  if (row == NULL)
    {
      g_debug ("The sidebar does not list the folder %s", lb_folder_get_path (folder));
      return;
    }

  gtk_list_box_select_row (self->list_box, GTK_LIST_BOX_ROW (row));
}

/**
 * lb_sidebar_set_account_busy:
 * @self: a sidebar
 * @account: one of the manager's accounts
 * @busy: whether it is working (a spinner next to its name)
 */
void
lb_sidebar_set_account_busy (LbSidebar *self,
                             LbAccount *account,
                             gboolean   busy)
{
  AccountEntry *entry;

  g_return_if_fail (LB_IS_SIDEBAR (self));
  g_return_if_fail (LB_IS_ACCOUNT (account));

  entry = find_entry (self, account);
  if (entry != NULL)
    lb_sidebar_row_set_busy (entry->title_row, busy);
}

/**
 * lb_sidebar_set_account_error:
 * @self: a sidebar
 * @account: one of the manager's accounts
 * @error: (nullable): what went wrong, shown as the warning icon's
 *   tooltip; %NULL removes the icon
 */
void
lb_sidebar_set_account_error (LbSidebar  *self,
                              LbAccount  *account,
                              const char *error)
{
  AccountEntry *entry;

  g_return_if_fail (LB_IS_SIDEBAR (self));
  g_return_if_fail (LB_IS_ACCOUNT (account));

  entry = find_entry (self, account);
  if (entry != NULL)
    lb_sidebar_row_set_error (entry->title_row, error);
}

/**
 * lb_sidebar_get_list_box:
 * @self: a sidebar
 *
 * For tests and keyboard focus.
 *
 * Returns: (transfer none): the list of rows
 */
GtkListBox *
lb_sidebar_get_list_box (LbSidebar *self)
{
  g_return_val_if_fail (LB_IS_SIDEBAR (self), NULL);

  return self->list_box;
}
