/* lb-html-view.c: one HTML body part, shown by WebKitGTK and locked down
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Three independent locks keep a message from reaching the network or
 * running code:
 *  - the settings: no JavaScript (neither its execution nor its markup),
 *    no WebGL, WebAudio, WebRTC, media sources, local storage or page
 *    cache; WebKitGTK 6 has no plugins at all;
 *  - a Content-Security-Policy put at the top of the document: nothing but
 *    cid: and data: loads, and with remote content allowed images, style
 *    sheets, fonts and media from anywhere; never scripts, frames,
 *    connections, form submissions or a <base>;
 *  - a WebKit content filter (compiled once per process) blocking every
 *    load that is not cid:, data: or about:, unless remote content is
 *    allowed.
 * Every navigation but our own load is refused; a click on a link is
 * reported with ::link-activated for the message view to confirm.
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <glib/gi18n.h>
#include <webkit/webkit.h>

#include "lb-html-module.h"
#include "lb-html-view.h"

/* the isolated script world the height is measured in; the document's own
 * scripts never run */
#define LB_HTML_WORLD "letterbox-measure"
/* taller documents scroll inside the view */
#define LB_HTML_MAX_HEIGHT 32000
#define LB_HTML_FALLBACK_HEIGHT 480
/* a meta element naming the document's generation: a measurement tells
 * which document it measured */
#define LB_HTML_DOCUMENT_META "letterbox-document"

struct _LbHtmlView
{
  AdwBin                    parent_instance;

  WebKitWebView            *web_view;
  WebKitUserContentManager *content_manager;
  WebKitSettings           *settings;
  WebKitNetworkSession     *session;
  guint                     measuring;  /* JavaScript is on while > 0 */
  guint                     generation; /* one per document, see lb_html_view_clear() */
  GHashTable               *resources;   /* content id -> Resource */
  GCancellable             *cancellable;

  char                     *html;
  gboolean                  allow_remote;
  guint                     expected_loads; /* the next navigations are ours */
  gboolean                  loaded;
  gboolean                  remote_used;  /* the session may hold what a remote load left */
  gboolean                  clearing_data;
  gboolean                  rendered;
  gboolean                  waiting_for_filter;
  gboolean                  filter_added;  /* block_filter is in content_manager */
  int                       measured_width;
  guint                     remeasure_id;
};

G_DEFINE_FINAL_TYPE (LbHtmlView, lb_html_view, ADW_TYPE_BIN)

enum {
  SIGNAL_RENDERED,
  SIGNAL_LINK_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  char   *content_type;
  GBytes *data;
} Resource;

static void
resource_free (Resource *resource)
{
  g_free (resource->content_type);
  g_bytes_unref (resource->data);
  g_free (resource);
}

/* Shared by every view: the web process settings and the cid: scheme. */
static WebKitWebContext *shared_context;

typedef enum
{
  FILTER_NONE,
  FILTER_COMPILING,
  FILTER_READY,
  FILTER_FAILED,
} FilterState;

static FilterState filter_state;
static WebKitUserContentFilter *block_filter;
static WebKitUserContentFilterStore *filter_store;
static GSList *filter_waiters;           /* LbHtmlView, each a reference */

/* WebKit's content blocker regular expressions have no alternation: one
 * rule per exception. */
static const char block_rules[] =
  "["
  "{\"trigger\":{\"url-filter\":\".*\"},\"action\":{\"type\":\"block\"}},"
  "{\"trigger\":{\"url-filter\":\"^cid:\"},\"action\":{\"type\":\"ignore-previous-rules\"}},"
  "{\"trigger\":{\"url-filter\":\"^data:\"},\"action\":{\"type\":\"ignore-previous-rules\"}},"
  "{\"trigger\":{\"url-filter\":\"^about:\"},\"action\":{\"type\":\"ignore-previous-rules\"}}"
  "]";

static void lb_html_view_really_load (LbHtmlView *self);

const char *
lb_html_view_get_policy (gboolean allow_remote)
{
  if (allow_remote)
    return "default-src 'none'; img-src * cid: data:; style-src * 'unsafe-inline' cid:; "
           "font-src * cid: data:; media-src * cid: data:; script-src 'none'; "
           "frame-src 'none'; form-action 'none'; base-uri 'none'";

  return "default-src 'none'; img-src cid: data:; style-src 'unsafe-inline' cid:; "
         "font-src cid: data:; media-src cid: data:; script-src 'none'; "
         "frame-src 'none'; form-action 'none'; base-uri 'none'";
}

static void
filter_saved (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  GSList *waiters;

  block_filter = webkit_user_content_filter_store_save_finish (WEBKIT_USER_CONTENT_FILTER_STORE (source),
                                                               result, &error);
  if (block_filter == NULL)
    {
      /* the policy in the document still blocks remote loads */
      g_message ("Could not compile the remote content filter: %s", error->message);
      filter_state = FILTER_FAILED;
    }
  else
    filter_state = FILTER_READY;

  waiters = g_steal_pointer (&filter_waiters);
  for (GSList *l = waiters; l != NULL; l = l->next)
    {
      LbHtmlView *view = l->data;

      if (view->waiting_for_filter)
        {
          view->waiting_for_filter = FALSE;
          lb_html_view_really_load (view);
        }
    }
  g_slist_free_full (waiters, g_object_unref);
}

static void
ensure_filter (void)
{
  g_autofree char *path = NULL;
  g_autoptr(GBytes) rules = NULL;

  if (filter_state != FILTER_NONE)
    return;

  filter_state = FILTER_COMPILING;
  path = g_build_filename (g_get_user_cache_dir (), "letterbox", "content-filters", NULL);
  filter_store = webkit_user_content_filter_store_new (path);
  rules = g_bytes_new_static (block_rules, sizeof block_rules - 1);
  webkit_user_content_filter_store_save (filter_store, "block-remote-1", rules,
                                         NULL, filter_saved, NULL);
}

static LbHtmlView *
view_for_web_view (WebKitWebView *web_view)
{
  GtkWidget *parent;

  if (web_view == NULL)
    return NULL;
  parent = gtk_widget_get_parent (GTK_WIDGET (web_view));

  return LB_IS_HTML_VIEW (parent) ? LB_HTML_VIEW (parent) : NULL;
}

static void
handle_cid (WebKitURISchemeRequest *request,
            gpointer                user_data)
{
  LbHtmlView *self = view_for_web_view (webkit_uri_scheme_request_get_web_view (request));
  const char *uri = webkit_uri_scheme_request_get_uri (request);
  g_autofree char *content_id = NULL;
  g_autoptr(GInputStream) stream = NULL;
  Resource *resource = NULL;

  /* cid:<content id, URL-encoded> (RFC 2392) */
  if (g_ascii_strncasecmp (uri, "cid:", 4) == 0)
    content_id = g_uri_unescape_string (uri + 4, NULL);
  if (self != NULL && content_id != NULL)
    resource = g_hash_table_lookup (self->resources, content_id);

  if (resource == NULL)
    {
      g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                             _("The message has no part %s"), uri);

      webkit_uri_scheme_request_finish_error (request, error);
      return;
    }

  stream = g_memory_input_stream_new_from_bytes (resource->data);
  webkit_uri_scheme_request_finish (request, stream, (gint64) g_bytes_get_size (resource->data),
                                    resource->content_type);
}

static WebKitWebContext *
get_shared_context (void)
{
  if (shared_context == NULL)
    {
      shared_context = webkit_web_context_new ();
      webkit_web_context_set_cache_model (shared_context, WEBKIT_CACHE_MODEL_DOCUMENT_VIEWER);
      webkit_web_context_register_uri_scheme (shared_context, "cid", handle_cid, NULL, NULL);
    }

  return shared_context;
}

static WebKitSettings *
new_locked_settings (void)
{
  WebKitSettings *settings = webkit_settings_new ();

  webkit_settings_set_enable_javascript (settings, FALSE);
  webkit_settings_set_enable_javascript_markup (settings, FALSE);
  webkit_settings_set_javascript_can_access_clipboard (settings, FALSE);
  webkit_settings_set_javascript_can_open_windows_automatically (settings, FALSE);
  webkit_settings_set_auto_load_images (settings, TRUE);
  webkit_settings_set_enable_html5_local_storage (settings, FALSE);
  webkit_settings_set_enable_html5_database (settings, FALSE);
  webkit_settings_set_enable_page_cache (settings, FALSE);
  webkit_settings_set_enable_developer_extras (settings, FALSE);
  webkit_settings_set_enable_webgl (settings, FALSE);
  webkit_settings_set_enable_webaudio (settings, FALSE);
  webkit_settings_set_enable_webrtc (settings, FALSE);
  webkit_settings_set_enable_media_stream (settings, FALSE);
  webkit_settings_set_enable_mediasource (settings, FALSE);
  webkit_settings_set_enable_encrypted_media (settings, FALSE);
  webkit_settings_set_media_playback_requires_user_gesture (settings, TRUE);
  webkit_settings_set_enable_fullscreen (settings, FALSE);
  webkit_settings_set_allow_modal_dialogs (settings, FALSE);
  webkit_settings_set_allow_file_access_from_file_urls (settings, FALSE);
  webkit_settings_set_allow_universal_access_from_file_urls (settings, FALSE);
  webkit_settings_set_allow_top_navigation_to_data_urls (settings, FALSE);
  webkit_settings_set_enable_back_forward_navigation_gestures (settings, FALSE);
  webkit_settings_set_disable_web_security (settings, FALSE);

  return settings;
}

/* @html with the policy as the first thing in its head (after a doctype,
 * which must stay first to keep the document out of quirks mode). A policy
 * of the document's own can only add restrictions. */
static char *
document_with_policy (const char *html,
                      gboolean    allow_remote,
                      guint       generation)
{
  const char *p = html;
  const char *insert = html;
  g_autofree char *meta = g_strdup_printf ("<meta http-equiv=\"Content-Security-Policy\" content=\"%s\">"
                                           "<meta name=\"" LB_HTML_DOCUMENT_META "\" content=\"%u\">",
                                           lb_html_view_get_policy (allow_remote), generation);

  while (g_ascii_isspace (*p))
    p++;
  if (g_ascii_strncasecmp (p, "<!doctype", 9) == 0)
    {
      const char *end = strchr (p, '>');

      if (end != NULL)
        insert = end + 1;
    }

  return g_strdup_printf ("%.*s%s%s", (int) (insert - html), html, meta, insert);
}

static void
lb_html_view_really_load (LbHtmlView *self)
{
  g_autofree char *document = NULL;

  if (self->web_view == NULL || self->html == NULL || self->waiting_for_filter || self->clearing_data)
    return;

  /* changed only when it must: each change is sent to the web process */
  if (self->filter_added && self->allow_remote)
    {
      webkit_user_content_manager_remove_all_filters (self->content_manager);
      self->filter_added = FALSE;
    }
  else if (!self->filter_added && !self->allow_remote && block_filter != NULL)
    {
      webkit_user_content_manager_add_filter (self->content_manager, block_filter);
      self->filter_added = TRUE;
    }

  document = document_with_policy (self->html, self->allow_remote, self->generation);
  self->remote_used = self->remote_used || self->allow_remote;
  self->expected_loads++;
  webkit_web_view_load_html (self->web_view, document, NULL);
}

static void
lb_html_view_set_rendered (LbHtmlView *self)
{
  if (self->rendered)
    return;

  self->rendered = TRUE;
  g_signal_emit (self, signals[SIGNAL_RENDERED], 0);
}

typedef struct
{
  GWeakRef view;
  guint    generation;
} Measurement;

static void
measurement_free (Measurement *measurement)
{
  g_weak_ref_clear (&measurement->view);
  g_free (measurement);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Measurement, measurement_free)

static void
height_measured (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(Measurement) measurement = user_data;
  g_autoptr(LbHtmlView) self = g_weak_ref_get (&measurement->view);
  g_autoptr(GError) error = NULL;
  g_autoptr(JSCValue) value = NULL;
  g_autofree char *text = NULL;
  gboolean stale = FALSE;
  int height = LB_HTML_FALLBACK_HEIGHT;
  const char *space;

  value = webkit_web_view_evaluate_javascript_finish (WEBKIT_WEB_VIEW (source), result, &error);
  /* gone, or measuring a document that was replaced since: its
   * lb_html_view_clear() turned JavaScript off already */
  if (self == NULL || self->web_view == NULL || measurement->generation != self->generation)
    return;
  if (self->measuring > 0 && --self->measuring == 0)
    webkit_settings_set_enable_javascript (self->settings, FALSE);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* "<the document's generation> <height>" */
  if (value != NULL && jsc_value_is_string (value))
    text = jsc_value_to_string (value);
  space = text != NULL ? strchr (text, ' ') : NULL;
  if (space != NULL)
    {
      /* "-": no marker (not a document of ours; cannot happen): as if it were */
      stale = text[0] != '-' && g_ascii_strtoull (text, NULL, 10) != self->generation;
      height = CLAMP ((int) g_ascii_strtoll (space + 1, NULL, 10), 1, LB_HTML_MAX_HEIGHT);
    }
  else
    g_debug ("Could not measure an HTML part: %s", error != NULL ? error->message : "no result");

  /* the load-finished of an earlier document, measured before ours
   * replaced it: ours has its own */
  if (stale)
    return;

  gtk_widget_set_size_request (GTK_WIDGET (self->web_view), -1, height);
  lb_html_view_set_rendered (self);
}

static void
lb_html_view_measure_height (LbHtmlView *self)
{
  static const char script[] =
    "(function () {"
    " var m = document.querySelector('meta[name=\"" LB_HTML_DOCUMENT_META "\"]');"
    " return (m ? m.content : '-') + ' ' +"
    "  Math.ceil(Math.max(document.documentElement.getBoundingClientRect().height,"
    "   document.body ? document.body.scrollHeight : 0));"
    "})()";
  Measurement *measurement;

  if (self->web_view == NULL || !self->loaded)
    return;

  self->measured_width = gtk_widget_get_width (GTK_WIDGET (self));
  /* WebKit runs no script at all, not even ours in an isolated world,
   * with JavaScript off: on for the measurement only. The document cannot
   * use that moment: its scripts, handlers and javascript: URLs were
   * dropped while it was parsed (enable-javascript-markup off), and its
   * policy (script-src 'none') refuses any it could still make. */
  if (self->measuring++ == 0)
    webkit_settings_set_enable_javascript (self->settings, TRUE);
  measurement = g_new0 (Measurement, 1);
  g_weak_ref_init (&measurement->view, self);
  measurement->generation = self->generation;
  webkit_web_view_evaluate_javascript (self->web_view, script, -1, LB_HTML_WORLD, NULL,
                                       self->cancellable, height_measured, measurement);
}

static gboolean
remeasure_cb (gpointer user_data)
{
  LbHtmlView *self = user_data;

  self->remeasure_id = 0;
  lb_html_view_measure_height (self);

  return G_SOURCE_REMOVE;
}

static void
lb_html_view_size_allocate (GtkWidget *widget,
                            int        width,
                            int        height,
                            int        baseline)
{
  LbHtmlView *self = LB_HTML_VIEW (widget);

  GTK_WIDGET_CLASS (lb_html_view_parent_class)->size_allocate (widget, width, height, baseline);

  /* text reflows at a new width: measure again once it settles */
  if (self->loaded && width != self->measured_width && self->remeasure_id == 0)
    self->remeasure_id = g_timeout_add (100, remeasure_cb, self);
}

static void
load_changed (WebKitWebView   *web_view,
              WebKitLoadEvent  event,
              LbHtmlView      *self)
{
  switch (event)
    {
    case WEBKIT_LOAD_STARTED:
      self->loaded = FALSE;
      break;
    case WEBKIT_LOAD_FINISHED:
      self->loaded = TRUE;
      lb_html_view_measure_height (self);
      break;
    case WEBKIT_LOAD_REDIRECTED:
    case WEBKIT_LOAD_COMMITTED:
    default:
      break;
    }
}

static gboolean
load_failed (WebKitWebView   *web_view,
             WebKitLoadEvent  event,
             const char      *uri,
             GError          *error,
             LbHtmlView      *self)
{
  g_debug ("Loading an HTML part failed: %s", error->message);
  /* load-changed FINISHED follows and measures what there is */
  return TRUE;
}

static void
web_process_terminated (WebKitWebView                     *web_view,
                        WebKitWebProcessTerminationReason  reason,
                        LbHtmlView                        *self)
{
  g_message ("The web process showing an HTML part ended (reason %d)", reason);
  gtk_widget_set_size_request (GTK_WIDGET (self->web_view), -1, LB_HTML_FALLBACK_HEIGHT);
  lb_html_view_set_rendered (self);
}

static gboolean
decide_policy (WebKitWebView            *web_view,
               WebKitPolicyDecision     *decision,
               WebKitPolicyDecisionType  type,
               LbHtmlView               *self)
{
  WebKitNavigationAction *action;
  const char *uri;

  switch (type)
    {
    case WEBKIT_POLICY_DECISION_TYPE_NAVIGATION_ACTION:
    case WEBKIT_POLICY_DECISION_TYPE_NEW_WINDOW_ACTION:
      action = webkit_navigation_policy_decision_get_navigation_action (WEBKIT_NAVIGATION_POLICY_DECISION (decision));
      uri = webkit_uri_request_get_uri (webkit_navigation_action_get_request (action));

      /* ours: one per webkit_web_view_load_html(); a load replaced
       * before its turn still asks (its document is ours, with its own
       * policy, and the next load replaces it) */
      if (type == WEBKIT_POLICY_DECISION_TYPE_NAVIGATION_ACTION && self->expected_loads > 0 &&
          webkit_navigation_action_get_navigation_type (action) == WEBKIT_NAVIGATION_TYPE_OTHER &&
          g_strcmp0 (uri, "about:blank") == 0)
        {
          self->expected_loads--;
          webkit_policy_decision_use (decision);
          return TRUE;
        }

      webkit_policy_decision_ignore (decision);
      if (webkit_navigation_action_get_navigation_type (action) == WEBKIT_NAVIGATION_TYPE_LINK_CLICKED &&
          uri != NULL)
        g_signal_emit (self, signals[SIGNAL_LINK_ACTIVATED], 0, uri);
      return TRUE;

    case WEBKIT_POLICY_DECISION_TYPE_RESPONSE:
      if (!webkit_response_policy_decision_is_mime_type_supported (WEBKIT_RESPONSE_POLICY_DECISION (decision)))
        webkit_policy_decision_ignore (decision);
      else
        webkit_policy_decision_use (decision);
      return TRUE;

    default:
      webkit_policy_decision_ignore (decision);
      return TRUE;
    }
}

static gboolean
context_menu (WebKitWebView       *web_view,
              WebKitContextMenu   *menu,
              WebKitHitTestResult *hit_test_result,
              LbHtmlView          *self)
{
  GList *items = g_list_copy (webkit_context_menu_get_items (menu));

  /* keep copying; drop what would navigate, reload or download */
  for (GList *l = items; l != NULL; l = l->next)
    {
      WebKitContextMenuItem *item = l->data;
      WebKitContextMenuAction action = webkit_context_menu_item_get_stock_action (item);

      if (action != WEBKIT_CONTEXT_MENU_ACTION_COPY &&
          action != WEBKIT_CONTEXT_MENU_ACTION_COPY_LINK_TO_CLIPBOARD &&
          action != WEBKIT_CONTEXT_MENU_ACTION_SELECT_ALL)
        webkit_context_menu_remove (menu, item);
    }
  g_list_free (items);

  /* TRUE: no menu at all when nothing is left */
  return webkit_context_menu_get_n_items (menu) == 0;
}

static gboolean
permission_request (WebKitWebView           *web_view,
                    WebKitPermissionRequest *request,
                    LbHtmlView              *self)
{
  webkit_permission_request_deny (request);

  return TRUE;
}

static void
destroy_web_view (LbHtmlView *self)
{
  if (self->web_view == NULL)
    return;

  g_signal_handlers_disconnect_by_data (self->web_view, self);
  self->web_view = NULL;
  adw_bin_set_child (ADW_BIN (self), NULL);
  g_clear_object (&self->content_manager);
  g_clear_object (&self->session);
  self->filter_added = FALSE;
}

/* A web view of its own, with its own ephemeral session: what one view
 * loads is shared with no other view, and lb_html_view_clear() wipes it
 * before the view shows another message. */
static void
create_web_view (LbHtmlView *self)
{
  destroy_web_view (self);

  self->session = webkit_network_session_new_ephemeral ();
  self->content_manager = webkit_user_content_manager_new ();
  self->web_view = g_object_new (WEBKIT_TYPE_WEB_VIEW,
                                 "web-context", get_shared_context (),
                                 "network-session", self->session,
                                 "settings", self->settings,
                                 "user-content-manager", self->content_manager,
                                 NULL);
  gtk_widget_set_size_request (GTK_WIDGET (self->web_view), -1, 1);
  gtk_widget_set_hexpand (GTK_WIDGET (self->web_view), TRUE);
  adw_bin_set_child (ADW_BIN (self), GTK_WIDGET (self->web_view));

  g_signal_connect (self->web_view, "decide-policy", G_CALLBACK (decide_policy), self);
  g_signal_connect (self->web_view, "load-changed", G_CALLBACK (load_changed), self);
  g_signal_connect (self->web_view, "load-failed", G_CALLBACK (load_failed), self);
  g_signal_connect (self->web_view, "web-process-terminated", G_CALLBACK (web_process_terminated), self);
  g_signal_connect (self->web_view, "context-menu", G_CALLBACK (context_menu), self);
  g_signal_connect (self->web_view, "permission-request", G_CALLBACK (permission_request), self);
}

static void
data_cleared (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(LbHtmlView) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!webkit_website_data_manager_clear_finish (WEBKIT_WEBSITE_DATA_MANAGER (source), result, &error) &&
      self->web_view != NULL)
    {
      /* nothing may carry over to the next message: a new session */
      g_message ("Could not clear what remote content left: %s", error->message);
      create_web_view (self);
    }

  self->clearing_data = FALSE;
  lb_html_view_really_load (self);
}

static void
lb_html_view_dispose (GObject *object)
{
  LbHtmlView *self = LB_HTML_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->remeasure_id, g_source_remove);
  self->waiting_for_filter = FALSE;
  destroy_web_view (self);

  G_OBJECT_CLASS (lb_html_view_parent_class)->dispose (object);
}

static void
lb_html_view_finalize (GObject *object)
{
  LbHtmlView *self = LB_HTML_VIEW (object);

  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->resources, g_hash_table_unref);
  g_free (self->html);

  G_OBJECT_CLASS (lb_html_view_parent_class)->finalize (object);
}

static void
lb_html_view_class_init (LbHtmlViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = lb_html_view_dispose;
  object_class->finalize = lb_html_view_finalize;
  widget_class->size_allocate = lb_html_view_size_allocate;

  /**
   * LbHtmlView::rendered:
   *
   * The document is laid out with what it may load, and the view has its
   * height.
   */
  signals[SIGNAL_RENDERED] =
    g_signal_new ("rendered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /**
   * LbHtmlView::link-activated:
   * @uri: the link's real target
   *
   * The user clicked a link. The view did not follow it.
   */
  signals[SIGNAL_LINK_ACTIVATED] =
    g_signal_new ("link-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_css_name (widget_class, "lb-html-view");
}

static void
lb_html_view_init (LbHtmlView *self)
{
  self->resources = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) resource_free);
  self->cancellable = g_cancellable_new ();
  self->settings = new_locked_settings ();
  /* 0 is no document */
  self->generation = 1;
  create_web_view (self);
}

GtkWidget *
lb_html_view_new (void)
{
  return g_object_new (LB_TYPE_HTML_VIEW, NULL);
}

void
lb_html_view_add_resource (LbHtmlView *self,
                           const char *content_id,
                           const char *content_type,
                           GBytes     *data)
{
  Resource *resource;

  g_return_if_fail (LB_IS_HTML_VIEW (self));
  g_return_if_fail (content_id != NULL);
  g_return_if_fail (data != NULL);

  resource = g_new0 (Resource, 1);
  resource->content_type = g_strdup (content_type != NULL ? content_type : "application/octet-stream");
  resource->data = g_bytes_ref (data);
  g_hash_table_replace (self->resources, g_strdup (content_id), resource);
}

void
lb_html_view_load (LbHtmlView *self,
                   const char *html,
                   gboolean    allow_remote)
{
  g_return_if_fail (LB_IS_HTML_VIEW (self));
  g_return_if_fail (html != NULL);

  g_free (self->html);
  self->html = g_strdup (html);
  self->allow_remote = allow_remote;
  self->rendered = FALSE;
  self->loaded = FALSE;

  ensure_filter ();
  if (filter_state == FILTER_COMPILING)
    {
      if (!self->waiting_for_filter)
        {
          self->waiting_for_filter = TRUE;
          filter_waiters = g_slist_prepend (filter_waiters, g_object_ref (self));
        }
      return;
    }

  lb_html_view_really_load (self);
}

void
lb_html_view_clear (LbHtmlView *self)
{
  g_return_if_fail (LB_IS_HTML_VIEW (self));

  /* whatever is still under way for the old document (its load-finished,
   * its measurement) no longer applies */
  self->generation++;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_handle_id (&self->remeasure_id, g_source_remove);
  if (self->measuring > 0)
    {
      self->measuring = 0;
      webkit_settings_set_enable_javascript (self->settings, FALSE);
    }

  /* cid: answers from the next message's parts only */
  g_hash_table_remove_all (self->resources);
  g_clear_pointer (&self->html, g_free);
  self->allow_remote = FALSE;
  self->loaded = FALSE;
  self->rendered = FALSE;
  self->measured_width = 0;

  if (self->web_view == NULL)
    return;

  webkit_web_view_stop_loading (self->web_view);
  gtk_widget_set_size_request (GTK_WIDGET (self->web_view), -1, 1);
  /* the filter stays until a load allows remote content: blocking more
   * in between is harmless, and the next message most likely wants it */

  /* what remote content left (cookies, caches) must not reach the next
   * message: wiped before it loads */
  if (self->remote_used && !self->clearing_data)
    {
      WebKitWebsiteDataManager *manager = webkit_network_session_get_website_data_manager (self->session);

      self->remote_used = FALSE;
      self->clearing_data = TRUE;
      webkit_website_data_manager_clear (manager, WEBKIT_WEBSITE_DATA_ALL, 0, NULL,
                                         data_cleared, g_object_ref (self));
    }
}

gboolean
lb_html_view_get_allow_remote (LbHtmlView *self)
{
  g_return_val_if_fail (LB_IS_HTML_VIEW (self), FALSE);

  return self->allow_remote;
}

gboolean
lb_html_view_get_rendered (LbHtmlView *self)
{
  g_return_val_if_fail (LB_IS_HTML_VIEW (self), FALSE);

  return self->rendered;
}

/* ---- the module's table (lb-html-module.h) ------------------------------ */

static GtkWidget *
module_view_new (void)
{
  return lb_html_view_new ();
}

static void
module_add_resource (GtkWidget  *view,
                     const char *content_id,
                     const char *content_type,
                     GBytes     *data)
{
  lb_html_view_add_resource (LB_HTML_VIEW (view), content_id, content_type, data);
}

static void
module_load (GtkWidget  *view,
             const char *html,
             gboolean    allow_remote)
{
  lb_html_view_load (LB_HTML_VIEW (view), html, allow_remote);
}

static void
module_clear (GtkWidget *view)
{
  lb_html_view_clear (LB_HTML_VIEW (view));
}

static gboolean
module_get_allow_remote (GtkWidget *view)
{
  return lb_html_view_get_allow_remote (LB_HTML_VIEW (view));
}

static gboolean
module_get_rendered (GtkWidget *view)
{
  return lb_html_view_get_rendered (LB_HTML_VIEW (view));
}

const LbHtmlModule *
lb_html_module_entry (void)
{
  static const LbHtmlModule table = {
    .abi = LB_HTML_MODULE_ABI,
    .version = PACKAGE_VERSION,
    .get_type = lb_html_view_get_type,
    .view_new = module_view_new,
    .add_resource = module_add_resource,
    .load = module_load,
    .clear = module_clear,
    .get_allow_remote = module_get_allow_remote,
    .get_rendered = module_get_rendered,
  };

  return &table;
}
