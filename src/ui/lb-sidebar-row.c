/* lb-sidebar-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <glib/gi18n.h>

#include "lb-sidebar-row.h"

/* One row of the sidebar: All Inboxes, an account's title (not
 * selectable: it carries the account's quiet status), or a folder, which
 * follows its folder's name, role and unread count itself. The sidebar
 * decides where rows go (position, depth). */

#define INDENT_PER_LEVEL 18

struct _LbSidebarRow
{
  GtkListBoxRow     parent_instance;

  LbSidebarRowKind  kind;
  LbAccount        *account;
  LbFolder         *folder;
  gulong            folder_notify_id;
  gulong            account_notify_id;

  guint             account_index;
  guint             order;
  guint             depth;
  guint             unread_count;
  gboolean          busy;
  char             *error;

  GtkWidget        *box;
  GtkImage         *icon;
  GtkLabel         *title;
  GtkLabel         *badge;
  GtkSpinner       *spinner;
  GtkWidget        *error_icon;
};

G_DEFINE_FINAL_TYPE (LbSidebarRow, lb_sidebar_row, GTK_TYPE_LIST_BOX_ROW)

/**
 * lb_sidebar_folder_role_icon_name:
 * @role: a folder's role
 *
 * Returns: the symbolic icon the sidebar shows for folders of @role
 */
const char *
lb_sidebar_folder_role_icon_name (LbFolderRole role)
{
  switch (role)
    {
    case LB_FOLDER_ROLE_INBOX:
      return "mail-unread-symbolic";
    case LB_FOLDER_ROLE_DRAFTS:
      return "document-edit-symbolic";
    case LB_FOLDER_ROLE_SENT:
      return "mail-send-symbolic";
    case LB_FOLDER_ROLE_ARCHIVE:
      return "package-x-generic-symbolic";
    case LB_FOLDER_ROLE_JUNK:
      return "mail-mark-junk-symbolic";
    case LB_FOLDER_ROLE_TRASH:
      return "user-trash-symbolic";
    case LB_FOLDER_ROLE_OUTBOX:
      return "mail-send-receive-symbolic";
    case LB_FOLDER_ROLE_NONE:
    default:
      return "folder-symbolic";
    }
}

/**
 * lb_sidebar_folder_role_rank:
 * @role: a folder's role
 *
 * Returns: where folders of @role come among an account's folders: the
 *   roles in the order people look for them, then the others
 */
guint
lb_sidebar_folder_role_rank (LbFolderRole role)
{
  switch (role)
    {
    case LB_FOLDER_ROLE_INBOX:
      return 0;
    case LB_FOLDER_ROLE_DRAFTS:
      return 1;
    case LB_FOLDER_ROLE_SENT:
      return 2;
    case LB_FOLDER_ROLE_ARCHIVE:
      return 3;
    case LB_FOLDER_ROLE_JUNK:
      return 4;
    case LB_FOLDER_ROLE_TRASH:
      return 5;
    case LB_FOLDER_ROLE_OUTBOX:
      return 6;
    case LB_FOLDER_ROLE_NONE:
    default:
      return 7;
    }
}

static void
update_badge (LbSidebarRow *self)
{
  g_autofree char *text = NULL;

  if (self->unread_count == 0)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->badge), FALSE);
      gtk_label_set_text (self->badge, "");
      return;
    }

  text = g_strdup_printf ("%u", self->unread_count);
  gtk_label_set_text (self->badge, text);
  gtk_widget_set_visible (GTK_WIDGET (self->badge), TRUE);
}

static void
update_accessible_label (LbSidebarRow *self)
{
  g_autofree char *label = NULL;

  if (self->kind == LB_SIDEBAR_ROW_ACCOUNT)
    {
      if (self->error != NULL)
        /* TRANSLATORS: an account in the sidebar, and what went wrong */
        label = g_strdup_printf (_("%s, %s"), gtk_label_get_text (self->title), self->error);
      else
        label = g_strdup (gtk_label_get_text (self->title));
    }
  else if (self->unread_count > 0)
    label = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s, %u unread", "%s, %u unread",
                                          self->unread_count),
                             gtk_label_get_text (self->title), self->unread_count);
  else
    label = g_strdup (gtk_label_get_text (self->title));

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
}

static void
sync_folder (LbSidebarRow *self)
{
  gtk_label_set_text (self->title, lb_folder_get_display_name (self->folder));
  gtk_image_set_from_icon_name (self->icon,
                                lb_sidebar_folder_role_icon_name (lb_folder_get_role (self->folder)));
  self->unread_count = lb_folder_get_unread_count (self->folder);
  update_badge (self);
  update_accessible_label (self);
}

static void
folder_notify_cb (LbFolder     *folder,
                  GParamSpec   *pspec,
                  LbSidebarRow *self)
{
  sync_folder (self);
}

static const char *
account_title (LbAccount *account)
{
  LbIdentity *identity;

  if (lb_account_get_display_name (account) != NULL && *lb_account_get_display_name (account) != '\0')
    return lb_account_get_display_name (account);

  identity = lb_account_get_default_identity (account);
  if (identity != NULL && lb_identity_get_address (identity) != NULL)
    return lb_identity_get_address (identity);

  return lb_account_get_id (account);
}

static void
account_notify_cb (LbAccount    *account,
                   GParamSpec   *pspec,
                   LbSidebarRow *self)
{
  gtk_label_set_text (self->title, account_title (account));
  update_accessible_label (self);
}

static void
lb_sidebar_row_dispose (GObject *object)
{
  LbSidebarRow *self = LB_SIDEBAR_ROW (object);

  g_clear_signal_handler (&self->folder_notify_id, self->folder);
  g_clear_signal_handler (&self->account_notify_id, self->account);
  g_clear_object (&self->folder);
  g_clear_object (&self->account);

  G_OBJECT_CLASS (lb_sidebar_row_parent_class)->dispose (object);
}

static void
lb_sidebar_row_finalize (GObject *object)
{
  LbSidebarRow *self = LB_SIDEBAR_ROW (object);

  g_free (self->error);

  G_OBJECT_CLASS (lb_sidebar_row_parent_class)->finalize (object);
}

static void
lb_sidebar_row_class_init (LbSidebarRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lb_sidebar_row_dispose;
  object_class->finalize = lb_sidebar_row_finalize;
}

static void
lb_sidebar_row_init (LbSidebarRow *self)
{
  self->box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);

  self->icon = GTK_IMAGE (gtk_image_new ());
  gtk_box_append (GTK_BOX (self->box), GTK_WIDGET (self->icon));

  self->title = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->title, 0);
  gtk_label_set_ellipsize (self->title, PANGO_ELLIPSIZE_END);
  gtk_label_set_single_line_mode (self->title, TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->title), TRUE);
  gtk_box_append (GTK_BOX (self->box), GTK_WIDGET (self->title));

  self->spinner = GTK_SPINNER (gtk_spinner_new ());
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->spinner), _("Updating"));
  gtk_box_append (GTK_BOX (self->box), GTK_WIDGET (self->spinner));

  self->error_icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");
  gtk_widget_set_visible (self->error_icon, FALSE);
  gtk_widget_add_css_class (self->error_icon, "warning");
  gtk_box_append (GTK_BOX (self->box), self->error_icon);

  self->badge = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_set_visible (GTK_WIDGET (self->badge), FALSE);
  gtk_widget_add_css_class (GTK_WIDGET (self->badge), "lb-unread-badge");
  gtk_widget_add_css_class (GTK_WIDGET (self->badge), "numeric");
  gtk_box_append (GTK_BOX (self->box), GTK_WIDGET (self->badge));

  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (self), self->box);
  gtk_widget_add_css_class (GTK_WIDGET (self), "lb-sidebar-row");
}

LbSidebarRow *
lb_sidebar_row_new_unified (void)
{
  LbSidebarRow *self = g_object_new (LB_TYPE_SIDEBAR_ROW, NULL);

  self->kind = LB_SIDEBAR_ROW_UNIFIED;
  gtk_label_set_text (self->title, _("All Inboxes"));
  gtk_image_set_from_icon_name (self->icon, "mail-unread-symbolic");
  gtk_widget_add_css_class (GTK_WIDGET (self), "lb-unified");
  update_accessible_label (self);

  return self;
}

LbSidebarRow *
lb_sidebar_row_new_account (LbAccount *account)
{
  LbSidebarRow *self;

  g_return_val_if_fail (LB_IS_ACCOUNT (account), NULL);

  self = g_object_new (LB_TYPE_SIDEBAR_ROW,
                       "selectable", FALSE,
                       "activatable", FALSE,
                       "focusable", FALSE,
                       NULL);
  self->kind = LB_SIDEBAR_ROW_ACCOUNT;
  self->account = g_object_ref (account);
  gtk_widget_set_visible (GTK_WIDGET (self->icon), FALSE);
  gtk_widget_add_css_class (GTK_WIDGET (self->title), "heading");
  gtk_widget_add_css_class (GTK_WIDGET (self->title), "dim-label");
  gtk_widget_add_css_class (GTK_WIDGET (self), "lb-account");
  self->account_notify_id = g_signal_connect (account, "notify::display-name",
                                              G_CALLBACK (account_notify_cb), self);
  account_notify_cb (account, NULL, self);

  return self;
}

LbSidebarRow *
lb_sidebar_row_new_folder (LbAccount *account,
                           LbFolder  *folder)
{
  LbSidebarRow *self;

  g_return_val_if_fail (LB_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (LB_IS_FOLDER (folder), NULL);

  self = g_object_new (LB_TYPE_SIDEBAR_ROW, NULL);
  self->kind = LB_SIDEBAR_ROW_FOLDER;
  self->account = g_object_ref (account);
  self->folder = g_object_ref (folder);
  self->folder_notify_id = g_signal_connect (folder, "notify", G_CALLBACK (folder_notify_cb), self);
  sync_folder (self);

  return self;
}

LbSidebarRowKind
lb_sidebar_row_get_kind (LbSidebarRow *self)
{
  g_return_val_if_fail (LB_IS_SIDEBAR_ROW (self), LB_SIDEBAR_ROW_UNIFIED);

  return self->kind;
}

LbAccount *
lb_sidebar_row_get_account (LbSidebarRow *self)
{
  g_return_val_if_fail (LB_IS_SIDEBAR_ROW (self), NULL);

  return self->account;
}

LbFolder *
lb_sidebar_row_get_folder (LbSidebarRow *self)
{
  g_return_val_if_fail (LB_IS_SIDEBAR_ROW (self), NULL);

  return self->folder;
}

const char *
lb_sidebar_row_get_title (LbSidebarRow *self)
{
  g_return_val_if_fail (LB_IS_SIDEBAR_ROW (self), NULL);

  return gtk_label_get_text (self->title);
}

const char *
lb_sidebar_row_get_icon_name (LbSidebarRow *self)
{
  g_return_val_if_fail (LB_IS_SIDEBAR_ROW (self), NULL);

  if (!gtk_widget_get_visible (GTK_WIDGET (self->icon)))
    return NULL;
  return gtk_image_get_icon_name (self->icon);
}

guint
lb_sidebar_row_get_unread_count (LbSidebarRow *self)
{
  g_return_val_if_fail (LB_IS_SIDEBAR_ROW (self), 0);

  return self->unread_count;
}

void
lb_sidebar_row_set_unread_count (LbSidebarRow *self,
                                 guint         count)
{
  g_return_if_fail (LB_IS_SIDEBAR_ROW (self));

  if (self->unread_count == count)
    return;
  self->unread_count = count;
  update_badge (self);
  update_accessible_label (self);
}

guint
lb_sidebar_row_get_depth (LbSidebarRow *self)
{
  g_return_val_if_fail (LB_IS_SIDEBAR_ROW (self), 0);

  return self->depth;
}

void
lb_sidebar_row_set_depth (LbSidebarRow *self,
                          guint         depth)
{
  g_return_if_fail (LB_IS_SIDEBAR_ROW (self));

  if (self->depth == depth)
    return;
  self->depth = depth;
  gtk_widget_set_margin_start (self->box, (int) MIN (depth, 8) * INDENT_PER_LEVEL);
}

void
lb_sidebar_row_set_position (LbSidebarRow *self,
                             guint         account_index,
                             guint         order)
{
  g_return_if_fail (LB_IS_SIDEBAR_ROW (self));

  self->account_index = account_index;
  self->order = order;
}

/* All Inboxes first; then by account, its title first, then its folders */
int
lb_sidebar_row_compare (LbSidebarRow *a,
                        LbSidebarRow *b)
{
  gboolean a_unified = a->kind == LB_SIDEBAR_ROW_UNIFIED;
  gboolean b_unified = b->kind == LB_SIDEBAR_ROW_UNIFIED;
  gboolean a_folder = a->kind == LB_SIDEBAR_ROW_FOLDER;
  gboolean b_folder = b->kind == LB_SIDEBAR_ROW_FOLDER;

  if (a_unified != b_unified)
    return a_unified ? -1 : 1;
  if (a->account_index != b->account_index)
    return a->account_index < b->account_index ? -1 : 1;
  if (a_folder != b_folder)
    return a_folder ? 1 : -1;
  if (a->order != b->order)
    return a->order < b->order ? -1 : 1;
  return 0;
}

gboolean
lb_sidebar_row_get_busy (LbSidebarRow *self)
{
  g_return_val_if_fail (LB_IS_SIDEBAR_ROW (self), FALSE);

  return self->busy;
}

void
lb_sidebar_row_set_busy (LbSidebarRow *self,
                         gboolean      busy)
{
  g_return_if_fail (LB_IS_SIDEBAR_ROW (self));

  busy = !!busy;
  if (self->busy == busy)
    return;
  self->busy = busy;
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
}

const char *
lb_sidebar_row_get_error (LbSidebarRow *self)
{
  g_return_val_if_fail (LB_IS_SIDEBAR_ROW (self), NULL);

  return self->error;
}

void
lb_sidebar_row_set_error (LbSidebarRow *self,
                          const char   *error)
{
  g_return_if_fail (LB_IS_SIDEBAR_ROW (self));

  if (error != NULL && *error == '\0')
    error = NULL;
  if (g_strcmp0 (self->error, error) == 0)
    return;

  g_free (self->error);
  self->error = g_strdup (error);
  gtk_widget_set_tooltip_text (self->error_icon, error);
  gtk_widget_set_visible (self->error_icon, error != NULL);
  update_accessible_label (self);
}
