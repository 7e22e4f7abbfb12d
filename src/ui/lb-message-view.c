/* lb-message-view.c: one message, read: headers, body parts, attachments
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The message is parsed off the main thread into the GTK-free part list of
 * lb-mime-parts.h, and each part kind maps to a widget: text as labels with
 * quoted text collapsed, HTML in an LbHtmlView (WebKitGTK, in a module
 * loaded with the first HTML part: lb-html-module.h) or as text,
 * inline images as pictures, nested messages in a frame with their own
 * headers, broken parts as a note saying what was wrong, and attachments
 * in a list at the end.
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "lb-message-view.h"
#include "lb-html-module.h"
#include "lb-mime-parts.h"

/* nested messages deeper than this are shown flat in the deepest frame */
#define MAX_DEPTH 8
/* web views kept for the next message: one per HTML part of a message,
 * and most have one */
#define MAX_SPARE_HTML_VIEWS 2

struct _LbMessageView
{
  AdwBin          parent_instance;

  GSettings      *settings;
  LbMessage      *message;
  LbMimeMessage  *mime;
  GCancellable   *cancellable;
  GPtrArray      *attachments;   /* const LbMimePart *, owned by mime */
  GPtrArray      *html_views;    /* LbHtmlView (GtkWidget *), owned (and in body_box) */
  GPtrArray      *spare_html_views; /* LbHtmlView *, owned, cleared, unparented */
  guint           warm_up_id;
  char           *sender;        /* the first From address, lower case */
  char           *temp_dir;
  guint           pending_html;
  gboolean        has_remote;
  gboolean        remote_allowed;
  gboolean        rendered;

  /* template children */
  AdwToastOverlay *toast_overlay;
  GtkStack        *stack;
  GtkScrolledWindow *scroller;
  GtkLabel        *subject_label;
  GtkWidget       *from_row;
  GtkFlowBox      *from_box;
  GtkWidget       *to_row;
  GtkFlowBox      *to_box;
  GtkWidget       *cc_row;
  GtkFlowBox      *cc_box;
  GtkLabel        *date_label;
  GtkRevealer     *banner_revealer;
  GtkButton       *always_button;
  GtkSpinner      *spinner;
  GtkLabel        *error_label;
  GtkBox          *body_box;
  GtkWidget       *attachments_box;
  GtkLabel        *attachments_label;
  GtkListBox      *attachments_list;
};

G_DEFINE_FINAL_TYPE (LbMessageView, lb_message_view, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_RENDERED,
  SIGNAL_ATTACHMENTS_SAVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void lb_message_view_render (LbMessageView *self);

/* ---- small helpers ---------------------------------------------------- */

static void
remove_all_children (GtkWidget *box)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (box)) != NULL)
    {
      if (GTK_IS_FLOW_BOX (box))
        gtk_flow_box_remove (GTK_FLOW_BOX (box), child);
      else if (GTK_IS_LIST_BOX (box))
        gtk_list_box_remove (GTK_LIST_BOX (box), child);
      else
        gtk_box_remove (GTK_BOX (box), child);
    }
}

static void
show_toast (LbMessageView *self,
            const char    *text)
{
  /* a toast's title is markup in libadwaita 1.2 */
  g_autofree char *escaped = g_markup_escape_text (text, -1);
  AdwToast *toast = adw_toast_new (escaped);

  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static char *
format_date (gint64 date)
{
  g_autoptr(GDateTime) time = NULL;

  if (date <= 0)
    return NULL;
  time = g_date_time_new_from_unix_local (date);
  if (time == NULL)
    return NULL;

  /* Translators: the date of a message in the message view, see
   * g_date_time_format() */
  return g_date_time_format (time, _("%A, %d %B %Y, %H:%M"));
}

static gboolean
is_link_end (char c)
{
  return c == '\0' || g_ascii_isspace (c) || c == '<' || c == '>' || c == '"';
}

/* @text as Pango markup with its URLs as links. */
static char *
linkify (const char *text)
{
  static const char *const prefixes[] = { "https://", "http://", "mailto:", "ftp://" };
  GString *markup = g_string_new (NULL);
  const char *p = text;
  const char *plain = text;

  while (*p != '\0')
    {
      gsize prefix_len = 0;

      if (p == text || !g_ascii_isalnum (p[-1]))
        for (guint i = 0; i < G_N_ELEMENTS (prefixes); i++)
          if (g_ascii_strncasecmp (p, prefixes[i], strlen (prefixes[i])) == 0)
            {
              prefix_len = strlen (prefixes[i]);
              break;
            }

      if (prefix_len > 0 && !is_link_end (p[prefix_len]))
        {
          const char *end = p + prefix_len;
          g_autofree char *url = NULL;
          g_autofree char *before = NULL;
          g_autofree char *link = NULL;

          while (!is_link_end (*end))
            end++;
          /* sentence punctuation after a URL is not part of it */
          while (end > p + prefix_len && strchr (".,;:!?)]'", end[-1]) != NULL)
            end--;

          before = g_markup_escape_text (plain, p - plain);
          url = g_strndup (p, end - p);
          link = g_markup_printf_escaped ("<a href=\"%s\">%s</a>", url, url);
          g_string_append (markup, before);
          g_string_append (markup, link);
          p = plain = end;
          continue;
        }
      p++;
    }

  if (p > plain)
    {
      g_autofree char *rest = g_markup_escape_text (plain, p - plain);

      g_string_append (markup, rest);
    }

  return g_string_free (markup, FALSE);
}

/* ---- links ------------------------------------------------------------ */

static void
link_dialog_response (AdwMessageDialog *dialog,
                      const char       *response,
                      gpointer          user_data)
{
  const char *uri = g_object_get_data (G_OBJECT (dialog), "lb-uri");
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (dialog));

  if (g_strcmp0 (response, "open") == 0 && uri != NULL)
    gtk_show_uri (parent, uri, GDK_CURRENT_TIME);
}

/* Asks before opening @uri, showing where it really goes. */
static void
lb_message_view_confirm_link (LbMessageView *self,
                              const char    *uri)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autofree char *scheme = g_uri_parse_scheme (uri);
  gboolean can_open = scheme != NULL &&
    (g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0 ||
     g_ascii_strcasecmp (scheme, "mailto") == 0 || g_ascii_strcasecmp (scheme, "ftp") == 0);
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                       can_open ? _("Open Link?") : _("Link Not Opened"),
                                                       NULL));
  if (can_open)
    adw_message_dialog_format_body (dialog, _("This link goes to\n%s"), uri);
  else
    adw_message_dialog_format_body (dialog, _("Letterbox does not open links like this one:\n%s"), uri);

  if (can_open)
    {
      adw_message_dialog_add_responses (dialog,
                                        "cancel", _("_Cancel"),
                                        "open", _("_Open Link"),
                                        NULL);
      adw_message_dialog_set_response_appearance (dialog, "open", ADW_RESPONSE_SUGGESTED);
    }
  else
    adw_message_dialog_add_responses (dialog, "cancel", _("_Close"), NULL);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "lb-uri", g_strdup (uri), g_free);
  g_signal_connect (dialog, "response", G_CALLBACK (link_dialog_response), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static gboolean
label_activate_link (GtkLabel      *label,
                     const char    *uri,
                     LbMessageView *self)
{
  lb_message_view_confirm_link (self, uri);

  return TRUE;
}

static GtkWidget *
new_text_label (LbMessageView *self,
                const char    *text)
{
  g_autofree char *markup = linkify (text);
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_markup (GTK_LABEL (label), markup);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_yalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "lb-body-text");
  g_signal_connect (label, "activate-link", G_CALLBACK (label_activate_link), self);

  return label;
}

/* ---- headers ---------------------------------------------------------- */

/* The menu of an address; "Write to…" goes here once there is a composer. */
static GMenuModel *
new_address_menu (const char *address)
{
  GMenu *menu = g_menu_new ();
  g_autoptr(GMenuItem) copy = g_menu_item_new (_("_Copy Address"), NULL);

  g_menu_item_set_action_and_target (copy, "message-view.copy-address", "s", address);
  g_menu_append_item (menu, copy);

  return G_MENU_MODEL (menu);
}

static void
fill_address_row (GtkWidget  *row,
                  GtkFlowBox *box,
                  GPtrArray  *addresses)
{
  remove_all_children (GTK_WIDGET (box));
  gtk_widget_set_visible (row, addresses != NULL && addresses->len > 0);
  if (addresses == NULL)
    return;

  for (guint i = 0; i < addresses->len; i++)
    {
      const LbMimeAddress *address = g_ptr_array_index (addresses, i);
      g_autoptr(GMenuModel) menu = new_address_menu (address->address);
      g_autofree char *full = lb_mime_address_to_string (address);
      GtkWidget *button = gtk_menu_button_new ();
      GtkWidget *label = gtk_label_new (address->name != NULL && *address->name != '\0'
                                        ? address->name : address->address);

      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_menu_button_set_child (GTK_MENU_BUTTON (button), label);
      gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (button), menu);
      gtk_menu_button_set_has_frame (GTK_MENU_BUTTON (button), FALSE);
      gtk_widget_set_tooltip_text (button, full);
      gtk_widget_add_css_class (button, "lb-address");
      gtk_flow_box_append (box, button);
    }
}

/* A header line known only as text (from the summary). */
static void
fill_text_row (GtkWidget  *row,
               GtkFlowBox *box,
               const char *text)
{
  GtkWidget *label;

  remove_all_children (GTK_WIDGET (box));
  gtk_widget_set_visible (row, text != NULL && *text != '\0');
  if (text == NULL || *text == '\0')
    return;

  label = gtk_label_new (text);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_flow_box_append (box, label);
}

static void
set_subject_and_date (LbMessageView *self,
                      const char    *subject,
                      gint64         date)
{
  g_autofree char *date_text = format_date (date);

  gtk_label_set_text (self->subject_label, subject != NULL && *subject != '\0'
                      ? subject : _("(No Subject)"));
  gtk_label_set_text (self->date_label, date_text != NULL ? date_text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->date_label), date_text != NULL);
}

static void
show_summary_headers (LbMessageView *self)
{
  set_subject_and_date (self, lb_message_get_subject (self->message),
                        lb_message_get_date (self->message));
  fill_text_row (self->from_row, self->from_box, lb_message_get_from (self->message));
  fill_text_row (self->to_row, self->to_box, NULL);
  fill_text_row (self->cc_row, self->cc_box, NULL);
}

/* ---- the body --------------------------------------------------------- */

/* The web views of the message shown go back to the spares: the next
 * message with HTML loads into one of them instead of starting new web
 * processes. lb_html_view_clear() keeps nothing of this message for the
 * next (its document, its parts, its remote content). */
static void
keep_html_views (LbMessageView *self)
{
  /* html_views is empty without the module */
  const LbHtmlModule *module = self->html_views->len > 0 ? lb_html_module_get () : NULL;

  for (guint i = 0; module != NULL && i < self->html_views->len; i++)
    {
      GtkWidget *view = g_ptr_array_index (self->html_views, i);
      GtkWidget *parent = gtk_widget_get_parent (view);

      g_signal_handlers_disconnect_by_data (view, self);
      g_object_set_data (G_OBJECT (view), "lb-part", NULL);
      module->clear (view);
      if (self->spare_html_views->len < MAX_SPARE_HTML_VIEWS)
        g_ptr_array_add (self->spare_html_views, g_object_ref (view));
      if (parent != NULL)
        gtk_box_remove (GTK_BOX (parent), view);
    }
  g_ptr_array_set_size (self->html_views, 0);
}

static void
clear_body (LbMessageView *self)
{
  keep_html_views (self);
  remove_all_children (GTK_WIDGET (self->body_box));
  remove_all_children (GTK_WIDGET (self->attachments_list));
  gtk_widget_set_visible (self->attachments_box, FALSE);
  g_ptr_array_set_size (self->attachments, 0);
  gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  gtk_spinner_stop (self->spinner);
  self->pending_html = 0;
  self->has_remote = FALSE;
  self->rendered = FALSE;
}

static void
lb_message_view_set_rendered (LbMessageView *self)
{
  if (self->rendered)
    return;

  self->rendered = TRUE;
  g_signal_emit (self, signals[SIGNAL_RENDERED], 0);
}

static GtkWidget *
new_problem_widget (const char *title,
                    const char *problem)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *heading = gtk_label_new (title);

  gtk_widget_set_valign (icon, GTK_ALIGN_START);
  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_label_set_wrap (GTK_LABEL (heading), TRUE);
  gtk_widget_add_css_class (heading, "heading");
  gtk_box_append (GTK_BOX (text), heading);
  if (problem != NULL)
    {
      GtkWidget *detail = gtk_label_new (problem);

      gtk_label_set_xalign (GTK_LABEL (detail), 0);
      gtk_label_set_wrap (GTK_LABEL (detail), TRUE);
      gtk_label_set_selectable (GTK_LABEL (detail), TRUE);
      gtk_box_append (GTK_BOX (text), detail);
    }
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), text);
  gtk_widget_add_css_class (box, "lb-part-problem");
  gtk_widget_add_css_class (box, "warning");

  return box;
}

static GtkWidget *
new_broken_widget (const LbMimePart *part)
{
  g_autofree char *title = NULL;

  if (part->filename != NULL)
    title = g_strdup_printf (_("The part “%s” could not be shown"), part->filename);
  else
    title = g_strdup (_("A part of this message could not be shown"));

  return new_problem_widget (title, part->problem != NULL ? part->problem
                             : _("It is damaged or in an unknown format."));
}

static GtkWidget *
new_text_widget (LbMessageView    *self,
                 const LbMimePart *part)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *quoted = NULL;

  gtk_widget_add_css_class (box, "lb-text-part");
  if (part->blocks == NULL || part->blocks->len == 0)
    {
      const char *text = part->data != NULL ? g_bytes_get_data (part->data, NULL) : NULL;
      g_autofree char *copy = part->data != NULL
        ? g_strndup (text, g_bytes_get_size (part->data)) : g_strdup ("");

      gtk_box_append (GTK_BOX (box), new_text_label (self, copy));
      return box;
    }

  for (guint i = 0; i < part->blocks->len; i++)
    {
      const LbMimeTextBlock *block = g_ptr_array_index (part->blocks, i);
      GtkWidget *label = new_text_label (self, block->text != NULL ? block->text : "");

      if (block->quote_level == 0)
        {
          quoted = NULL;
          if (block->signature)
            gtk_widget_add_css_class (label, "dim-label");
          gtk_box_append (GTK_BOX (box), label);
          continue;
        }

      /* a run of quoted blocks: collapsed behind one expander */
      if (quoted == NULL)
        {
          GtkWidget *expander = gtk_expander_new_with_mnemonic (_("Show _quoted text"));

          quoted = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
          gtk_widget_add_css_class (expander, "lb-quoted");
          gtk_expander_set_child (GTK_EXPANDER (expander), quoted);
          gtk_box_append (GTK_BOX (box), expander);
        }
      gtk_widget_set_margin_start (label, 12 * (int) MIN (block->quote_level - 1, 8));
      gtk_widget_add_css_class (label, "lb-quote");
      gtk_box_append (GTK_BOX (quoted), label);
    }

  return box;
}

static GtkWidget *
new_image_widget (const LbMimePart *part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GtkWidget *picture;

  if (part->data == NULL)
    return NULL;
  texture = gdk_texture_new_from_bytes (part->data, &error);
  if (texture == NULL)
    {
      g_debug ("Inline image %s not shown: %s", part->content_type, error->message);
      return NULL;
    }

  picture = gtk_picture_new_for_paintable (GDK_PAINTABLE (texture));
  gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
  gtk_picture_set_content_fit (GTK_PICTURE (picture), GTK_CONTENT_FIT_SCALE_DOWN);
  gtk_widget_set_halign (picture, GTK_ALIGN_START);
  gtk_widget_set_size_request (picture, -1, MIN (gdk_texture_get_height (texture), 600));
  gtk_widget_add_css_class (picture, "lb-inline-image");
  if (part->filename != NULL)
    gtk_widget_set_tooltip_text (picture, part->filename);

  return picture;
}

static void
add_header_line (GtkGrid    *grid,
                 int         row,
                 const char *name,
                 const char *value)
{
  GtkWidget *name_label;
  GtkWidget *value_label;

  if (value == NULL || *value == '\0')
    return;

  name_label = gtk_label_new (name);
  value_label = gtk_label_new (value);
  gtk_label_set_xalign (GTK_LABEL (name_label), 0);
  gtk_widget_set_valign (name_label, GTK_ALIGN_START);
  gtk_widget_add_css_class (name_label, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (value_label), 0);
  gtk_label_set_wrap (GTK_LABEL (value_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (value_label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (value_label), TRUE);
  gtk_widget_set_hexpand (value_label, TRUE);
  gtk_grid_attach (grid, name_label, 0, row, 1, 1);
  gtk_grid_attach (grid, value_label, 1, row, 1, 1);
}

/* A frame with a nested message's headers; returns the frame and sets
 * *@body to the box its parts go in. */
static GtkWidget *
new_message_frame (const LbMimePart  *part,
                   GtkWidget        **body)
{
  GtkWidget *frame = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  GtkWidget *grid = gtk_grid_new ();
  GtkWidget *subject = gtk_label_new (part->subject != NULL && *part->subject != '\0'
                                      ? part->subject : _("(No Subject)"));
  g_autofree char *date = format_date (part->date);

  gtk_widget_add_css_class (frame, "card");
  gtk_widget_add_css_class (frame, "lb-nested-message");
  gtk_label_set_xalign (GTK_LABEL (subject), 0);
  gtk_label_set_wrap (GTK_LABEL (subject), TRUE);
  gtk_label_set_selectable (GTK_LABEL (subject), TRUE);
  gtk_widget_add_css_class (subject, "heading");
  gtk_grid_set_column_spacing (GTK_GRID (grid), 8);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 2);
  add_header_line (GTK_GRID (grid), 0, _("From"), part->from);
  add_header_line (GTK_GRID (grid), 1, _("To"), part->to);
  add_header_line (GTK_GRID (grid), 2, _("Cc"), part->cc);
  add_header_line (GTK_GRID (grid), 3, _("Date"), date);

  *body = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_box_append (GTK_BOX (frame), subject);
  gtk_box_append (GTK_BOX (frame), grid);
  gtk_box_append (GTK_BOX (frame), gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
  gtk_box_append (GTK_BOX (frame), *body);

  return frame;
}

/* ---- remote content --------------------------------------------------- */

static gboolean
word_before_is (const char *start,
                const char *end,
                const char *word)
{
  gsize len = strlen (word);

  return (gsize) (end - start) >= len && strncmp (end - len, word, len) == 0 &&
         (end - len == start || !g_ascii_isalnum (end[-(gssize) len - 1]));
}

gboolean
lb_message_view_html_has_remote_content (const char *html)
{
  static const char *const attributes[] = {
    "src", "srcset", "background", "poster", "lowsrc", "dynsrc", "data", "xlink:href",
  };
  g_autofree char *lower = NULL;

  g_return_val_if_fail (html != NULL, FALSE);

  lower = g_ascii_strdown (html, -1);
  for (const char *p = lower; (p = strstr (p, "://")) != NULL; p += 3)
    {
      const char *q = p;
      const char *name_end;
      const char *name_start;

      /* back over the scheme, then quotes and blanks */
      while (q > lower && (g_ascii_isalnum (q[-1]) || q[-1] == '+' || q[-1] == '-' || q[-1] == '.'))
        q--;
      if (!word_before_is (lower, p, "http") && !word_before_is (lower, p, "https") &&
          !word_before_is (lower, p, "ftp"))
        continue;
      while (q > lower && (g_ascii_isspace (q[-1]) || q[-1] == '"' || q[-1] == '\''))
        q--;
      if (q == lower)
        continue;

      /* url(...), image-set(...), @import "..." */
      if (q[-1] == '(' || word_before_is (lower, q, "@import"))
        return TRUE;
      if (q[-1] != '=')
        continue;

      name_end = q - 1;
      while (name_end > lower && g_ascii_isspace (name_end[-1]))
        name_end--;
      name_start = name_end;
      while (name_start > lower && (g_ascii_isalnum (name_start[-1]) || name_start[-1] == '-' ||
                                    name_start[-1] == ':'))
        name_start--;

      for (guint i = 0; i < G_N_ELEMENTS (attributes); i++)
        if ((gsize) (name_end - name_start) == strlen (attributes[i]) &&
            strncmp (name_start, attributes[i], name_end - name_start) == 0)
          return TRUE;

      /* <link href=...>: a style sheet, an icon, a prefetch */
      if (name_end - name_start == 4 && strncmp (name_start, "href", 4) == 0)
        {
          const char *tag = name_start;

          while (tag > lower && tag[-1] != '<' && tag[-1] != '>')
            tag--;
          if (tag > lower && tag[-1] == '<' && strncmp (tag, "link", 4) == 0 &&
              !g_ascii_isalnum (tag[4]))
            return TRUE;
        }
    }

  return FALSE;
}

static gboolean
sender_is_trusted (LbMessageView *self)
{
  g_auto(GStrv) senders = NULL;

  if (self->sender == NULL || self->settings == NULL)
    return FALSE;

  senders = g_settings_get_strv (self->settings, "remote-content-senders");
  for (guint i = 0; senders[i] != NULL; i++)
    if (g_ascii_strcasecmp (senders[i], self->sender) == 0)
      return TRUE;

  return FALSE;
}

static void
update_banner (LbMessageView *self)
{
  gtk_revealer_set_reveal_child (self->banner_revealer, self->has_remote && !self->remote_allowed);
  if (self->sender != NULL)
    {
      /* Translators: %s is the sender's address */
      g_autofree char *label = g_strdup_printf (_("Always Show From %s"), self->sender);

      gtk_button_set_label (self->always_button, label);
      gtk_button_set_use_underline (self->always_button, FALSE);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->always_button), self->sender != NULL);
}

static void
html_view_rendered (GtkWidget     *view,
                    LbMessageView *self)
{
  if (self->pending_html > 0 && --self->pending_html == 0)
    lb_message_view_set_rendered (self);
}

static void
html_view_link_activated (GtkWidget     *view,
                          const char    *uri,
                          LbMessageView *self)
{
  lb_message_view_confirm_link (self, uri);
}

static GtkWidget *
new_html_view (LbMessageView      *self,
               const LbHtmlModule *module,
               const LbMimePart   *part)
{
  GtkWidget *view;
  g_autofree char *html = g_strndup (g_bytes_get_data (part->data, NULL), g_bytes_get_size (part->data));

  if (self->spare_html_views->len > 0)
    {
      /* the spare's reference goes to html_views */
      view = g_ptr_array_steal_index (self->spare_html_views, self->spare_html_views->len - 1);
      /* a warm-up document may still be loading */
      module->clear (view);
    }
  else
    view = g_object_ref_sink (module->view_new ());

  /* every part with a Content-ID may be what a cid: URL refers to */
  for (guint i = 0; i < self->mime->parts->len; i++)
    {
      const LbMimePart *other = g_ptr_array_index (self->mime->parts, i);

      if (other->content_id != NULL && other->data != NULL)
        module->add_resource (view, other->content_id, other->content_type, other->data);
    }

  g_object_set_data (G_OBJECT (view), "lb-part", (gpointer) part);
  g_signal_connect (view, "rendered", G_CALLBACK (html_view_rendered), self);
  g_signal_connect (view, "link-activated", G_CALLBACK (html_view_link_activated), self);
  g_ptr_array_add (self->html_views, view);
  self->pending_html++;
  module->load (view, html, self->remote_allowed);

  return view;
}

/* The HTML view's module when HTML is shown as HTML: not by preference,
 * not without WebKitGTK. Loads the module the first time. */
static const LbHtmlModule *
html_module (LbMessageView *self)
{
  if (self->settings != NULL && g_settings_get_boolean (self->settings, "prefer-plain-text"))
    return NULL;

  return lb_html_module_get ();
}

static GtkWidget *
new_html_as_text_widget (LbMessageView    *self,
                         const LbMimePart *part)
{
  g_autofree char *text = lb_mime_html_to_text (g_bytes_get_data (part->data, NULL),
                                                g_bytes_get_size (part->data));

  return new_text_label (self, text != NULL ? text : "");
}

/* ---- attachments ------------------------------------------------------ */

static GFile *
attachment_temp_file (LbMessageView  *self,
                      guint           index,
                      GError        **error)
{
  const LbMimePart *part = g_ptr_array_index (self->attachments, index);
  g_autofree char *dir = NULL;
  g_autofree char *index_text = g_strdup_printf ("%u", index);
  g_autofree char *path = NULL;

  if (self->temp_dir == NULL)
    {
      self->temp_dir = g_dir_make_tmp ("letterbox-XXXXXX", error);
      if (self->temp_dir == NULL)
        return NULL;
    }

  /* a folder per attachment: two of them may have the same name */
  dir = g_build_filename (self->temp_dir, index_text, NULL);
  path = g_build_filename (dir, part->filename, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Could not make a temporary folder for “%s”: %s"),
                       part->filename, g_strerror (saved_errno));
          return NULL;
        }
      if (!g_file_set_contents_full (path, g_bytes_get_data (part->data, NULL),
                                     g_bytes_get_size (part->data),
                                     G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
        return NULL;
    }

  return g_file_new_for_path (path);
}

static void
open_attachment (LbMessageView *self,
                 guint          index)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *uri = NULL;
  GtkRoot *root;

  if (index >= self->attachments->len)
    return;

  /* the bytes are in memory already: writing them is quick */
  file = attachment_temp_file (self, index, &error);
  if (file == NULL)
    {
      show_toast (self, error->message);
      return;
    }

  uri = g_file_get_uri (file);
  root = gtk_widget_get_root (GTK_WIDGET (self));
  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
}

static void
attachment_saved (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(LbMessageView) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    {
      g_autofree char *name = g_file_get_parse_name (G_FILE (source));
      g_autofree char *text = g_strdup_printf (_("Could not save “%s”: %s"), name, error->message);

      show_toast (self, text);
    }
}

static void
save_chooser_response (GtkNativeDialog *chooser,
                       int              response,
                       gpointer         user_data)
{
  g_autoptr(LbMessageView) self = user_data;
  GBytes *data = g_object_get_data (G_OBJECT (chooser), "lb-data");
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT && data != NULL &&
      (file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser))) != NULL)
    g_file_replace_contents_bytes_async (file, data, NULL, FALSE, G_FILE_CREATE_NONE,
                                         NULL, attachment_saved, g_object_ref (self));

  g_object_unref (chooser);
}

static GtkWindow *
parent_window (LbMessageView *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

static void
save_attachment (LbMessageView *self,
                 guint          index)
{
  const LbMimePart *part;
  GtkFileChooserNative *chooser;

  if (index >= self->attachments->len)
    return;

  part = g_ptr_array_index (self->attachments, index);
  chooser = gtk_file_chooser_native_new (_("Save Attachment"), parent_window (self),
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), part->filename);
  /* the bytes outlive the message shown, if another one is shown meanwhile */
  g_object_set_data_full (G_OBJECT (chooser), "lb-data", g_bytes_ref (part->data),
                          (GDestroyNotify) g_bytes_unref);
  g_signal_connect (chooser, "response", G_CALLBACK (save_chooser_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

typedef struct
{
  GFile     *directory;
  GPtrArray *names;     /* char * */
  GPtrArray *datas;     /* GBytes * */
} SaveAll;

static void
save_all_free (SaveAll *save)
{
  g_object_unref (save->directory);
  g_ptr_array_unref (save->names);
  g_ptr_array_unref (save->datas);
  g_free (save);
}

/* "name.ext", "name (2).ext", "name (3).ext"... */
static char *
numbered_name (const char *name,
               guint       n)
{
  const char *dot = strrchr (name, '.');

  if (n < 2)
    return g_strdup (name);
  if (dot == NULL || dot == name)
    return g_strdup_printf ("%s (%u)", name, n);

  return g_strdup_printf ("%.*s (%u)%s", (int) (dot - name), name, n, dot);
}

static void
save_all_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  SaveAll *save = task_data;

  for (guint i = 0; i < save->names->len; i++)
    {
      const char *name = g_ptr_array_index (save->names, i);
      GBytes *data = g_ptr_array_index (save->datas, i);
      g_autoptr(GFileOutputStream) out = NULL;
      g_autoptr(GFile) file = NULL;
      g_autoptr(GError) error = NULL;

      for (guint n = 1; out == NULL && n < 1000; n++)
        {
          g_autofree char *try_name = numbered_name (name, n);

          g_clear_object (&file);
          g_clear_error (&error);
          file = g_file_get_child (save->directory, try_name);
          out = g_file_create (file, G_FILE_CREATE_NONE, cancellable, &error);
          if (out == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_EXISTS))
            break;
        }

      if (out == NULL ||
          !g_output_stream_write_all (G_OUTPUT_STREAM (out), g_bytes_get_data (data, NULL),
                                      g_bytes_get_size (data), NULL, cancellable, &error) ||
          !g_output_stream_close (G_OUTPUT_STREAM (out), cancellable, &error))
        {
          g_autofree char *where = g_file_get_parse_name (file != NULL ? file : save->directory);

          g_task_return_new_error (task, error->domain, error->code,
                                   _("Could not save the attachment “%s”: %s"),
                                   where, error->message);
          return;
        }
    }

  g_task_return_int (task, save->names->len);
}

static void
save_all_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  LbMessageView *self = LB_MESSAGE_VIEW (source);
  SaveAll *save = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  gssize n = g_task_propagate_int (G_TASK (result), &error);
  g_autofree char *text = NULL;

  if (n < 0)
    {
      show_toast (self, error->message);
      return;
    }

  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Saved %u attachment", "Saved %u attachments",
                                       (gulong) n), (guint) n);
  show_toast (self, text);
  g_signal_emit (self, signals[SIGNAL_ATTACHMENTS_SAVED], 0, save->directory, (guint) n);
}

static void
save_all_to (LbMessageView *self,
             GFile         *directory)
{
  g_autoptr(GTask) task = NULL;
  SaveAll *save;

  save = g_new0 (SaveAll, 1);
  save->directory = g_object_ref (directory);
  save->names = g_ptr_array_new_with_free_func (g_free);
  save->datas = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < self->attachments->len; i++)
    {
      const LbMimePart *part = g_ptr_array_index (self->attachments, i);

      g_ptr_array_add (save->names, g_strdup (part->filename));
      g_ptr_array_add (save->datas, g_bytes_ref (part->data));
    }

  task = g_task_new (self, NULL, save_all_done, NULL);
  g_task_set_source_tag (task, save_all_to);
  g_task_set_task_data (task, save, (GDestroyNotify) save_all_free);
  g_task_run_in_thread (task, save_all_thread);
}

static void
save_all_chooser_response (GtkNativeDialog *chooser,
                           int              response,
                           gpointer         user_data)
{
  g_autoptr(LbMessageView) self = user_data;
  g_autoptr(GFile) directory = NULL;

  if (response == GTK_RESPONSE_ACCEPT &&
      (directory = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser))) != NULL &&
      self->attachments->len > 0)
    save_all_to (self, directory);

  g_object_unref (chooser);
}

static GdkContentProvider *
attachment_drag_prepare (GtkDragSource *source,
                         double         x,
                         double         y,
                         LbMessageView *self)
{
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (source), "lb-index"));
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;

  if (index >= self->attachments->len)
    return NULL;

  /* a drop target reads the file once the drop is done: it has to exist */
  file = attachment_temp_file (self, index, &error);
  if (file == NULL)
    {
      show_toast (self, error->message);
      return NULL;
    }

  return gdk_content_provider_new_typed (G_TYPE_FILE, file);
}

static GtkWidget *
new_attachment_row (LbMessageView    *self,
                    const LbMimePart *part,
                    guint             index)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  g_autofree char *content_type = g_content_type_from_mime_type (part->content_type);
  g_autoptr(GIcon) icon = g_content_type_get_symbolic_icon (content_type != NULL ? content_type
                                                            : part->content_type);
  g_autofree char *description = g_content_type_get_description (content_type != NULL ? content_type
                                                                 : part->content_type);
  g_autofree char *size = g_format_size (part->size);
  g_autofree char *detail = g_strdup_printf ("%s — %s", size, description);
  GtkWidget *image = gtk_image_new_from_gicon (icon);
  GtkWidget *name = gtk_label_new (part->filename);
  GtkWidget *info = gtk_label_new (detail);
  GtkWidget *open = gtk_button_new_from_icon_name ("document-open-symbolic");
  GtkWidget *save = gtk_button_new_from_icon_name ("document-save-symbolic");
  GtkDragSource *drag = gtk_drag_source_new ();
  g_autoptr(GtkIconPaintable) drag_icon = NULL;

  gtk_image_set_icon_size (GTK_IMAGE (image), GTK_ICON_SIZE_LARGE);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_add_css_class (name, "lb-attachment-name");
  gtk_label_set_xalign (GTK_LABEL (info), 0);
  gtk_label_set_ellipsize (GTK_LABEL (info), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (info, "dim-label");
  gtk_widget_add_css_class (info, "caption");
  gtk_widget_add_css_class (info, "lb-attachment-size");
  gtk_widget_set_hexpand (text, TRUE);
  gtk_widget_set_valign (text, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (text), name);
  gtk_box_append (GTK_BOX (text), info);

  gtk_widget_set_tooltip_text (open, _("Open"));
  gtk_widget_set_tooltip_text (save, _("Save…"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (open), "message-view.open-attachment");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (open), "u", index);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (save), "message-view.save-attachment");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (save), "u", index);
  gtk_widget_add_css_class (open, "flat");
  gtk_widget_add_css_class (save, "flat");
  gtk_widget_set_valign (open, GTK_ALIGN_CENTER);
  gtk_widget_set_valign (save, GTK_ALIGN_CENTER);

  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 6);
  gtk_box_append (GTK_BOX (box), image);
  gtk_box_append (GTK_BOX (box), text);
  gtk_box_append (GTK_BOX (box), open);
  gtk_box_append (GTK_BOX (box), save);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);

  gtk_drag_source_set_actions (drag, GDK_ACTION_COPY);
  g_object_set_data (G_OBJECT (drag), "lb-index", GUINT_TO_POINTER (index));
  g_signal_connect (drag, "prepare", G_CALLBACK (attachment_drag_prepare), self);
  drag_icon = gtk_icon_theme_lookup_by_gicon (gtk_icon_theme_get_for_display (gtk_widget_get_display (row)),
                                              icon, 32, 1, GTK_TEXT_DIR_NONE, 0);
  gtk_drag_source_set_icon (drag, GDK_PAINTABLE (drag_icon), 0, 0);
  gtk_widget_add_controller (row, GTK_EVENT_CONTROLLER (drag));

  return row;
}

static void
add_attachment (LbMessageView    *self,
                const LbMimePart *part)
{
  if (part->data == NULL || part->filename == NULL)
    return;

  gtk_list_box_append (self->attachments_list,
                       new_attachment_row (self, part, self->attachments->len));
  g_ptr_array_add (self->attachments, (gpointer) part);
}

/* ---- rendering -------------------------------------------------------- */

/* For each multipart/alternative, the index of the part shown. */
static GHashTable *
choose_alternatives (LbMessageView *self,
                     gboolean       html)
{
  GHashTable *chosen = g_hash_table_new (NULL, NULL);
  LbMimePartKind preferred = html ? LB_MIME_PART_HTML : LB_MIME_PART_TEXT;

  for (guint i = 0; i < self->mime->parts->len; i++)
    {
      const LbMimePart *part = g_ptr_array_index (self->mime->parts, i);
      gpointer key = GUINT_TO_POINTER (part->alternative);
      gpointer value;

      if (part->alternative == 0 || (part->kind != LB_MIME_PART_TEXT && part->kind != LB_MIME_PART_HTML))
        continue;

      /* the preferred kind wins; otherwise the last (richest) version */
      if (g_hash_table_lookup_extended (chosen, key, NULL, &value))
        {
          const LbMimePart *current = g_ptr_array_index (self->mime->parts, GPOINTER_TO_UINT (value));

          if (current->kind == preferred && part->kind != preferred)
            continue;
        }
      g_hash_table_insert (chosen, key, GUINT_TO_POINTER (i));
    }

  return chosen;
}

static gboolean
html_refers_to (GPtrArray  *htmls,
                const char *content_id)
{
  g_autofree char *needle = g_strconcat ("cid:", content_id, NULL);

  for (guint i = 0; i < htmls->len; i++)
    if (strstr (g_ptr_array_index (htmls, i), needle) != NULL)
      return TRUE;

  return FALSE;
}

/* Whether the message has an HTML part with a body. */
static gboolean
has_html_part (LbMessageView *self)
{
  for (guint i = 0; i < self->mime->parts->len; i++)
    {
      const LbMimePart *part = g_ptr_array_index (self->mime->parts, i);

      if (part->kind == LB_MIME_PART_HTML && part->data != NULL)
        return TRUE;
    }

  return FALSE;
}

static void
lb_message_view_render (LbMessageView *self)
{
  const LbHtmlModule *module = NULL;
  gboolean html;
  g_autoptr(GHashTable) chosen = NULL;
  g_autoptr(GPtrArray) shown_html = g_ptr_array_new_with_free_func (g_free);
  GtkWidget *containers[MAX_DEPTH + 1] = { NULL };
  guint top = 0;
  g_autofree char *attachments_text = NULL;
  gsize attachments_size = 0;

  clear_body (self);
  if (self->mime == NULL)
    return;
  /* the module (and WebKit) is loaded for the first message with HTML */
  if (has_html_part (self))
    module = html_module (self);
  html = module != NULL;

  fill_address_row (self->from_row, self->from_box, self->mime->from);
  fill_address_row (self->to_row, self->to_box, self->mime->to);
  fill_address_row (self->cc_row, self->cc_box, self->mime->cc);
  set_subject_and_date (self, self->mime->subject, self->mime->date);

  g_clear_pointer (&self->sender, g_free);
  if (self->mime->from->len > 0)
    {
      const LbMimeAddress *from = g_ptr_array_index (self->mime->from, 0);

      if (from->address != NULL && strchr (from->address, '@') != NULL)
        self->sender = g_ascii_strdown (from->address, -1);
    }
  self->remote_allowed = self->remote_allowed || sender_is_trusted (self);

  chosen = choose_alternatives (self, html);

  /* the HTML shown: what it refers to by cid: is not shown again */
  for (guint i = 0; i < self->mime->parts->len; i++)
    {
      const LbMimePart *part = g_ptr_array_index (self->mime->parts, i);

      if (part->kind != LB_MIME_PART_HTML || part->data == NULL)
        continue;
      if (part->alternative != 0 &&
          GPOINTER_TO_UINT (g_hash_table_lookup (chosen, GUINT_TO_POINTER (part->alternative))) != i)
        continue;
      g_ptr_array_add (shown_html, g_strndup (g_bytes_get_data (part->data, NULL),
                                              g_bytes_get_size (part->data)));
    }

  containers[0] = GTK_WIDGET (self->body_box);
  for (guint i = 0; i < self->mime->parts->len; i++)
    {
      const LbMimePart *part = g_ptr_array_index (self->mime->parts, i);
      guint depth = MIN (part->depth, top);
      GtkWidget *widget = NULL;

      top = depth;
      if (part->alternative != 0 && (part->kind == LB_MIME_PART_TEXT || part->kind == LB_MIME_PART_HTML) &&
          GPOINTER_TO_UINT (g_hash_table_lookup (chosen, GUINT_TO_POINTER (part->alternative))) != i)
        continue;

      switch (part->kind)
        {
        case LB_MIME_PART_TEXT:
          widget = new_text_widget (self, part);
          break;

        case LB_MIME_PART_HTML:
          if (part->data == NULL)
            break;
          if (module != NULL)
            {
              g_autofree char *text = g_strndup (g_bytes_get_data (part->data, NULL),
                                                 g_bytes_get_size (part->data));

              self->has_remote = self->has_remote || lb_message_view_html_has_remote_content (text);
              widget = new_html_view (self, module, part);
              break;
            }
          widget = new_html_as_text_widget (self, part);
          break;

        case LB_MIME_PART_IMAGE:
          if (html && part->content_id != NULL && html_refers_to (shown_html, part->content_id))
            break;
          widget = new_image_widget (part);
          if (widget == NULL)
            add_attachment (self, part);
          break;

        case LB_MIME_PART_ATTACHMENT:
          add_attachment (self, part);
          break;

        case LB_MIME_PART_MESSAGE:
          {
            GtkWidget *body = NULL;

            widget = new_message_frame (part, &body);
            gtk_box_append (GTK_BOX (containers[depth]), widget);
            widget = NULL;
            if (depth < MAX_DEPTH)
              {
                containers[depth + 1] = body;
                top = depth + 1;
              }
          }
          break;

        case LB_MIME_PART_BROKEN:
          widget = new_broken_widget (part);
          break;

        default:
          break;
        }

      if (widget == NULL)
        continue;

      /* shown in spite of a problem: say so above it */
      if (part->problem != NULL && part->kind != LB_MIME_PART_BROKEN)
        gtk_box_append (GTK_BOX (containers[depth]), new_problem_widget (part->problem, NULL));
      gtk_box_append (GTK_BOX (containers[depth]), widget);
    }

  for (guint i = 0; i < self->attachments->len; i++)
    attachments_size += ((const LbMimePart *) g_ptr_array_index (self->attachments, i))->size;
  if (self->attachments->len > 0)
    {
      g_autofree char *size = g_format_size (attachments_size);

      /* Translators: "3 Attachments (1.2 MB)" */
      attachments_text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u Attachment (%s)",
                                                       "%u Attachments (%s)", self->attachments->len),
                                          self->attachments->len, size);
      gtk_label_set_text (self->attachments_label, attachments_text);
    }
  gtk_widget_set_visible (self->attachments_box, self->attachments->len > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "message-view.save-all", self->attachments->len > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "message-view.save-all-to", self->attachments->len > 0);

  update_banner (self);
  if (self->pending_html == 0)
    lb_message_view_set_rendered (self);
}

static void
parsed (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(LbMessageView) self = user_data;
  g_autoptr(GError) error = NULL;
  LbMimeMessage *mime = lb_mime_message_parse_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  gtk_spinner_stop (self->spinner);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), FALSE);
  if (mime == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("This message cannot be shown: %s"), error->message);

      gtk_label_set_text (self->error_label, text);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      lb_message_view_set_rendered (self);
      return;
    }

  g_clear_pointer (&self->mime, lb_mime_message_free);
  self->mime = mime;
  lb_message_view_render (self);
}

static void
reset (LbMessageView *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  clear_body (self);
  g_clear_pointer (&self->mime, lb_mime_message_free);
  g_clear_pointer (&self->sender, g_free);
  self->remote_allowed = FALSE;
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->scroller), 0);
}

/* ---- actions ---------------------------------------------------------- */

static void
copy_address_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  LbMessageView *self = LB_MESSAGE_VIEW (widget);
  const char *address = g_variant_get_string (parameter, NULL);

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), address);
  show_toast (self, _("Address copied"));
}

static void
show_remote (LbMessageView *self)
{
  self->remote_allowed = TRUE;
  gtk_revealer_set_reveal_child (self->banner_revealer, FALSE);
  /* html_views is empty without the module */
  if (self->html_views->len > 0)
    {
      const LbHtmlModule *module = lb_html_module_get ();

      self->rendered = FALSE;
      self->pending_html = self->html_views->len;
      for (guint i = 0; i < self->html_views->len; i++)
        {
          GtkWidget *view = g_ptr_array_index (self->html_views, i);
          const LbMimePart *part = g_object_get_data (G_OBJECT (view), "lb-part");
          g_autofree char *html = g_strndup (g_bytes_get_data (part->data, NULL),
                                             g_bytes_get_size (part->data));

          module->load (view, html, TRUE);
        }
    }
}

static void
show_remote_once_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  LbMessageView *self = LB_MESSAGE_VIEW (widget);

  if (self->mime != NULL && !self->remote_allowed)
    show_remote (self);
}

static void
always_show_remote_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  LbMessageView *self = LB_MESSAGE_VIEW (widget);

  if (self->sender == NULL || self->settings == NULL)
    return;

  if (!sender_is_trusted (self))
    {
      g_auto(GStrv) senders = g_settings_get_strv (self->settings, "remote-content-senders");
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
      g_auto(GStrv) updated = NULL;

      g_strv_builder_addv (builder, (const char **) senders);
      g_strv_builder_add (builder, self->sender);
      updated = g_strv_builder_end (builder);
      g_settings_set_strv (self->settings, "remote-content-senders", (const char *const *) updated);
    }

  if (self->mime != NULL && !self->remote_allowed)
    show_remote (self);
}

static void
open_attachment_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  open_attachment (LB_MESSAGE_VIEW (widget), g_variant_get_uint32 (parameter));
}

static void
save_attachment_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  save_attachment (LB_MESSAGE_VIEW (widget), g_variant_get_uint32 (parameter));
}

static void
save_all_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  LbMessageView *self = LB_MESSAGE_VIEW (widget);
  GtkFileChooserNative *chooser;

  if (self->attachments->len == 0)
    return;

  chooser = gtk_file_chooser_native_new (_("Save All Attachments"), parent_window (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                         _("_Save"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (save_all_chooser_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
save_all_to_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  LbMessageView *self = LB_MESSAGE_VIEW (widget);
  g_autoptr(GFile) directory = g_file_new_for_commandline_arg (g_variant_get_string (parameter, NULL));

  if (self->attachments->len > 0)
    save_all_to (self, directory);
}

/* ---- GObject ---------------------------------------------------------- */

static void
prefer_plain_text_changed (GSettings     *settings,
                           const char    *key,
                           LbMessageView *self)
{
  if (self->mime != NULL)
    lb_message_view_render (self);
}

static void
remove_temp_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_temp_dir (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
lb_message_view_constructed (GObject *object)
{
  LbMessageView *self = LB_MESSAGE_VIEW (object);

  G_OBJECT_CLASS (lb_message_view_parent_class)->constructed (object);

  if (self->settings != NULL)
    g_signal_connect (self->settings, "changed::prefer-plain-text",
                      G_CALLBACK (prefer_plain_text_changed), self);
}

static void
lb_message_view_dispose (GObject *object)
{
  LbMessageView *self = LB_MESSAGE_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  /* AdwBin unparents the template's child */

  G_OBJECT_CLASS (lb_message_view_parent_class)->dispose (object);
}

static void
lb_message_view_finalize (GObject *object)
{
  LbMessageView *self = LB_MESSAGE_VIEW (object);

  /* opened attachments: an application that still has one open keeps it
   * until it closes it */
  if (self->temp_dir != NULL)
    remove_temp_dir (self->temp_dir);
  g_free (self->temp_dir);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_clear_object (&self->message);
  g_clear_pointer (&self->attachments, g_ptr_array_unref);
  g_clear_pointer (&self->html_views, g_ptr_array_unref);
  g_clear_pointer (&self->spare_html_views, g_ptr_array_unref);
  g_clear_pointer (&self->mime, lb_mime_message_free);
  g_free (self->sender);

  G_OBJECT_CLASS (lb_message_view_parent_class)->finalize (object);
}

static void
lb_message_view_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  LbMessageView *self = LB_MESSAGE_VIEW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_message_view_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  LbMessageView *self = LB_MESSAGE_VIEW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_message_view_class_init (LbMessageViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = lb_message_view_constructed;
  object_class->dispose = lb_message_view_dispose;
  object_class->finalize = lb_message_view_finalize;
  object_class->set_property = lb_message_view_set_property;
  object_class->get_property = lb_message_view_get_property;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_RENDERED] =
    g_signal_new ("rendered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_ATTACHMENTS_SAVED] =
    g_signal_new ("attachments-saved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_FILE, G_TYPE_UINT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/letterbox/Letterbox/lb-message-view.ui");
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, stack);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, scroller);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, subject_label);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, from_row);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, from_box);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, to_row);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, to_box);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, cc_row);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, cc_box);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, date_label);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, always_button);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, spinner);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, error_label);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, body_box);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, attachments_box);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, attachments_label);
  gtk_widget_class_bind_template_child (widget_class, LbMessageView, attachments_list);

  gtk_widget_class_install_action (widget_class, "message-view.copy-address", "s", copy_address_action);
  gtk_widget_class_install_action (widget_class, "message-view.show-remote-once", NULL,
                                   show_remote_once_action);
  gtk_widget_class_install_action (widget_class, "message-view.always-show-remote", NULL,
                                   always_show_remote_action);
  gtk_widget_class_install_action (widget_class, "message-view.open-attachment", "u", open_attachment_action);
  gtk_widget_class_install_action (widget_class, "message-view.save-attachment", "u", save_attachment_action);
  gtk_widget_class_install_action (widget_class, "message-view.save-all", NULL, save_all_action);
  gtk_widget_class_install_action (widget_class, "message-view.save-all-to", "s", save_all_to_action);

  gtk_widget_class_set_css_name (widget_class, "lb-message-view");
}

static void
lb_message_view_init (LbMessageView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->attachments = g_ptr_array_new ();
  self->html_views = g_ptr_array_new_with_free_func (g_object_unref);
  self->spare_html_views = g_ptr_array_new_with_free_func (g_object_unref);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "message-view.save-all", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "message-view.save-all-to", FALSE);
}

GtkWidget *
lb_message_view_new (GSettings *settings)
{
  return g_object_new (LB_TYPE_MESSAGE_VIEW, "settings", settings, NULL);
}

void
lb_message_view_show_message (LbMessageView *self,
                              LbMessage     *message,
                              GBytes        *raw)
{
  g_return_if_fail (LB_IS_MESSAGE_VIEW (self));
  g_return_if_fail (LB_IS_MESSAGE (message));

  reset (self);
  g_set_object (&self->message, message);
  show_summary_headers (self);
  gtk_stack_set_visible_child_name (self->stack, "message");

  gtk_widget_set_visible (GTK_WIDGET (self->spinner), TRUE);
  gtk_spinner_start (self->spinner);
  if (raw == NULL)
    return;

  self->cancellable = g_cancellable_new ();
  lb_mime_message_parse_async (raw, self->cancellable, parsed, g_object_ref (self));
}

void
lb_message_view_show_error (LbMessageView *self,
                            LbMessage     *message,
                            const char    *error)
{
  g_return_if_fail (LB_IS_MESSAGE_VIEW (self));
  g_return_if_fail (LB_IS_MESSAGE (message));
  g_return_if_fail (error != NULL);

  reset (self);
  g_set_object (&self->message, message);
  show_summary_headers (self);
  gtk_label_set_text (self->error_label, error);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
  gtk_stack_set_visible_child_name (self->stack, "message");
  lb_message_view_set_rendered (self);
}

void
lb_message_view_clear (LbMessageView *self)
{
  g_return_if_fail (LB_IS_MESSAGE_VIEW (self));

  reset (self);
  g_clear_object (&self->message);
  gtk_stack_set_visible_child_name (self->stack, "empty");
}

LbMessage *
lb_message_view_get_message (LbMessageView *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE_VIEW (self), NULL);

  return self->message;
}

gboolean
lb_message_view_get_remote_content_blocked (LbMessageView *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE_VIEW (self), FALSE);

  return self->has_remote && !self->remote_allowed;
}

gboolean
lb_message_view_get_rendered (LbMessageView *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE_VIEW (self), FALSE);

  return self->rendered;
}

guint
lb_message_view_get_n_attachments (LbMessageView *self)
{
  g_return_val_if_fail (LB_IS_MESSAGE_VIEW (self), 0);

  return self->attachments->len;
}
