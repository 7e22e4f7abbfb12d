/* bench-ui.c: the main window on a folder of many cached messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run by bench/run-ui, one process per round, under the harness's Xvfb
 * with XDG_CONFIG_HOME and XDG_DATA_HOME holding one account whose Inbox
 * has N cached messages. It starts the application as the letterbox
 * program does (same main, same LbApplication, g_application_run) and
 * measures, from the frame clock's "after-paint" of the main window:
 *
 *  1. launch to the first painted list: the first frame after which every
 *     row the list shows on screen is a loaded message (not a
 *     placeholder) and the list has all N messages (with --flat), or all
 *     the folder's conversations (the default, as users see it: the
 *     count is checked against the store's afterwards, untimed). The window starts on
 *     All Inboxes (it does not restore the last folder); with one
 *     account that is its Inbox. Timed from main() and, when BENCH_T0
 *     (the shell's $EPOCHREALTIME before the exec) is set, from the exec.
 *  2. VmRSS and VmHWM right then.
 *  3. the account's Inbox selected in the sidebar, to its painted list.
 *  4. opening messages: a row selected, to the first frame after the
 *     message view emitted ::rendered, for --open N messages.
 *  5. scrolling to the bottom: the list's vertical adjustment moved by
 *     --scroll-pages pages in every frame, from the top to the end; per
 *     frame, the time since the previous frame, the frame's own work
 *     (from the frame clock's frame time to the end of its paint) and
 *     whether a row on screen was a placeholder.
 *
 * It prints "key value..." lines (times in ms) for run-ui to gather.
 */

#define G_LOG_DOMAIN "bench-ui"

#include "config.h"

#include <adwaita.h>
#include <locale.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <gmime/gmime.h>

#include "lb-application.h"
#include "lb-message-list.h"
#include "lb-message-row.h"
#include "lb-message-view.h"
#include "lb-sidebar.h"
#include "lb-window.h"

typedef enum
{
  PHASE_FIRST_LIST,
  PHASE_FOLDER,
  PHASE_OPEN,
  PHASE_OPEN_WAIT,
  PHASE_SCROLL,
  PHASE_DONE,
} Phase;

typedef struct
{
  LbApplication *app;
  LbWindow      *window;
  GdkFrameClock *clock;
  Phase          phase;
  guint          expected;      /* rows the list must have: messages with --flat, 0: any (conversations) */
  guint          listed;        /* rows of the first list */
  gint64         t_main;        /* monotonic, at main() */
  gint64         exec_to_main;  /* us, or -1 */
  gint64         t_step;        /* when the step being timed started */
  gboolean       painted;       /* the window's first frame was painted */

  /* opening */
  guint          n_open;
  guint          opened;
  gboolean       rendered;

  /* scrolling */
  double         scroll_pages;
  GtkAdjustment *vadjustment;
  gint64         last_paint;
  guint          frames;
  guint          placeholder_frames;
  gboolean       at_end;
  GArray        *intervals;     /* double, ms */
  GArray        *work;          /* double, ms */
  guint          timeout_id;
} Bench;

static double
ms_since (gint64 t)
{
  return (g_get_monotonic_time () - t) / 1000.0;
}

static void
print_memory (const char *when)
{
  g_autofree char *status = NULL;
  g_auto(GStrv) lines = NULL;
  const char *rss = "?", *hwm = "?";

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return;
  lines = g_strsplit (status, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "VmRSS:"))
        rss = g_strchug (lines[i] + 6);
      else if (g_str_has_prefix (lines[i], "VmHWM:"))
        hwm = g_strchug (lines[i] + 6);
    }
  /* both in kB */
  printf ("memory-%s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT "\n", when,
          g_ascii_strtoll (rss, NULL, 10), g_ascii_strtoll (hwm, NULL, 10));
}

/* The rows the list view shows on screen now: how many, and how many of
 * them are placeholders (their message not loaded yet). */
static void
count_rows (Bench *bench,
            guint *shown,
            guint *placeholders)
{
  GtkWidget *view = GTK_WIDGET (lb_window_get_message_list_view (bench->window));
  int height = gtk_widget_get_height (view);

  *shown = *placeholders = 0;
  for (GtkWidget *item = gtk_widget_get_first_child (view); item != NULL; item = gtk_widget_get_next_sibling (item))
    {
      GtkWidget *row = gtk_widget_get_first_child (item);
      graphene_rect_t bounds;
      LbMessage *message;

      if (row == NULL || !LB_IS_MESSAGE_ROW (row) || !gtk_widget_get_mapped (item) ||
          !gtk_widget_get_child_visible (item) || !gtk_widget_compute_bounds (item, view, &bounds))
        continue;
      if (bounds.origin.y + bounds.size.height <= 0 || bounds.origin.y >= height)
        continue;
      (*shown)++;
      message = lb_message_row_get_message (LB_MESSAGE_ROW (row));
      if (message == NULL || !lb_message_get_loaded (message))
        (*placeholders)++;
    }
}

/* The list has the folder's messages and shows only loaded rows. */
static gboolean
list_painted (Bench *bench)
{
  GListModel *messages = lb_window_get_messages (bench->window);
  guint shown, placeholders;

  if (messages == NULL || g_list_model_get_n_items (messages) == 0 ||
      (bench->expected != 0 && g_list_model_get_n_items (messages) != bench->expected))
    return FALSE;
  count_rows (bench, &shown, &placeholders);
  return shown > 0 && placeholders == 0;
}

static void
conversations_counted (GObject      *object,
                       GAsyncResult *result,
                       gpointer      data)
{
  Bench *bench = data;
  g_autoptr(GError) error = NULL;
  guint count = 0;

  if (!lb_store_count_conversations_finish (LB_STORE (object), result, &count, &error))
    {
      g_printerr ("bench-ui: could not count the conversations: %s\n", error->message);
      exit (1);
    }
  if (count != bench->listed)
    {
      g_printerr ("bench-ui: the first list had %u rows, the folder %u conversations\n", bench->listed, count);
      exit (1);
    }
  printf ("conversations %u\n", count);
}

static gboolean
quit_cb (gpointer data)
{
  Bench *bench = data;

  gtk_window_destroy (GTK_WINDOW (bench->window));
  g_application_quit (G_APPLICATION (bench->app));
  return G_SOURCE_REMOVE;
}

/* out of the frame clock's signal: the window goes, then the app */
static void
quit (Bench *bench)
{
  bench->phase = PHASE_DONE;
  g_clear_handle_id (&bench->timeout_id, g_source_remove);
  g_idle_add (quit_cb, bench);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* "key median p95 worst" of @values (ms), sorted in place */
static void
print_distribution (const char *key,
                    GArray     *values)
{
  if (values->len == 0)
    return;
  g_array_sort (values, compare_doubles);
  printf ("%s %.2f %.2f %.2f\n", key, g_array_index (values, double, values->len / 2),
          g_array_index (values, double, MIN (values->len - 1, (guint) (values->len * 0.95))),
          g_array_index (values, double, values->len - 1));
}

/* ------------------------------------------------------------------ opening */

/* Whether @widget has a descendant of @type (an HTML part's web view). */
static gboolean
has_descendant (GtkWidget *widget,
                GType      type)
{
  if (type == G_TYPE_INVALID)
    return FALSE;
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (has_descendant (child, type))
      return TRUE;
  return FALSE;
}

static void open_next (Bench *bench);

static gboolean
open_next_cb (gpointer data)
{
  open_next (data);
  return G_SOURCE_REMOVE;
}

static void
rendered_cb (LbMessageView *view,
             gpointer       data)
{
  Bench *bench = data;

  bench->rendered = TRUE;
  /* the frame that paints it comes next */
  gtk_widget_queue_draw (GTK_WIDGET (view));
}

static void
open_next (Bench *bench)
{
  GtkSelectionModel *selection = gtk_list_view_get_model (lb_window_get_message_list_view (bench->window));
  GListModel *messages = lb_window_get_messages (bench->window);
  guint position = bench->opened * 3;
  g_autoptr(LbMessage) message = NULL;

  if (bench->opened == bench->n_open)
    {
      GtkWidget *scroller = gtk_widget_get_ancestor (GTK_WIDGET (lb_window_get_message_list_view (bench->window)),
                                                     GTK_TYPE_SCROLLED_WINDOW);

      gtk_selection_model_unselect_all (selection);
      if (bench->scroll_pages <= 0 || scroller == NULL)
        {
          quit (bench);
          return;
        }
      /* scroll from the top, one step per frame */
      bench->vadjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scroller));
      gtk_adjustment_set_value (bench->vadjustment, 0);
      bench->phase = PHASE_SCROLL;
      bench->t_step = g_get_monotonic_time ();
      bench->last_paint = 0;
      gtk_widget_queue_draw (GTK_WIDGET (bench->window));
      return;
    }

  message = g_list_model_get_item (messages, position);
  if (message == NULL || !lb_message_get_loaded (message))
    {
      g_printerr ("bench-ui: row %u is not loaded\n", position);
      exit (1);
    }
  bench->rendered = FALSE;
  bench->phase = PHASE_OPEN;
  bench->t_step = g_get_monotonic_time ();
  gtk_selection_model_select_item (selection, position, TRUE);
}

/* ------------------------------------------------------------------ frames */

static void
after_paint_cb (GdkFrameClock *clock,
                gpointer       data)
{
  Bench *bench = data;
  gint64 now = g_get_monotonic_time ();

  switch (bench->phase)
    {
    case PHASE_FIRST_LIST:
      if (!bench->painted)
        {
          bench->painted = TRUE;
          printf ("first-frame-main %.2f\n", (now - bench->t_main) / 1000.0);
        }
      if (g_getenv ("BENCH_DEBUG") != NULL)
        {
          GListModel *m = lb_window_get_messages (bench->window);
          guint shown, placeholders;

          count_rows (bench, &shown, &placeholders);
          g_printerr ("frame at %.1f ms: %u messages, %u rows shown, %u placeholders\n", ms_since (bench->t_main),
                      m != NULL ? g_list_model_get_n_items (m) : 0, shown, placeholders);
        }
      if (!list_painted (bench))
        return;
      printf ("first-list-main %.2f\n", (now - bench->t_main) / 1000.0);
      bench->listed = g_list_model_get_n_items (lb_window_get_messages (bench->window));
      if (bench->exec_to_main >= 0)
        printf ("first-list-exec %.2f\n", (now - bench->t_main + bench->exec_to_main) / 1000.0);
      print_memory ("first-list");
      fflush (stdout);
      {
        LbSidebar *sidebar = LB_SIDEBAR (lb_window_get_sidebar (bench->window));
        GListModel *accounts = G_LIST_MODEL (lb_application_get_manager (bench->app));
        g_autoptr(LbAccount) account = g_list_model_get_item (accounts, 0);

        bench->phase = PHASE_FOLDER;
        bench->t_step = g_get_monotonic_time ();
        lb_sidebar_select_folder (sidebar, account, lb_account_get_inbox (account));
        /* the rows listed were all the conversations */
        if (bench->expected == 0)
          lb_store_count_conversations_async (lb_account_get_store (account),
                                              lb_folder_get_id (lb_account_get_inbox (account)), NULL,
                                              conversations_counted, bench);
      }
      return;

    case PHASE_FOLDER:
      if (!list_painted (bench))
        return;
      printf ("folder-list %.2f\n", (now - bench->t_step) / 1000.0);
      bench->opened = 0;
      /* let the list's page reads and the first paint settle */
      g_timeout_add (300, open_next_cb, bench);
      bench->phase = PHASE_OPEN_WAIT;
      return;

    case PHASE_OPEN:
      if (!bench->rendered)
        return;
      /* LbHtmlView exists only in builds with WebKit */
      printf ("open %u %.2f %s\n", bench->opened * 3, (now - bench->t_step) / 1000.0,
              has_descendant (lb_window_get_message_view (bench->window), g_type_from_name ("LbHtmlView"))
              ? "html" : "text");
      fflush (stdout);
      bench->opened++;
      bench->phase = PHASE_OPEN_WAIT;
      g_timeout_add (200, open_next_cb, bench);
      return;

    case PHASE_SCROLL:
      {
        guint shown, placeholders;
        double value, upper, page;

        count_rows (bench, &shown, &placeholders);
        if (bench->last_paint != 0)
          {
            double interval = (now - bench->last_paint) / 1000.0;
            double work = (now - gdk_frame_clock_get_frame_time (clock)) / 1000.0;

            g_array_append_val (bench->intervals, interval);
            g_array_append_val (bench->work, work);
            bench->frames++;
            if (placeholders > 0)
              bench->placeholder_frames++;
          }
        bench->last_paint = now;

        value = gtk_adjustment_get_value (bench->vadjustment);
        upper = gtk_adjustment_get_upper (bench->vadjustment);
        page = gtk_adjustment_get_page_size (bench->vadjustment);
        if (bench->at_end || value + page >= upper)
          {
            if (!bench->at_end)
              {
                /* the last page: until its rows are loaded */
                bench->at_end = TRUE;
                printf ("scroll-end %.2f\n", ms_since (bench->t_step));
              }
            if (placeholders > 0)
              {
                gtk_widget_queue_draw (GTK_WIDGET (bench->window));
                return;
              }
            printf ("scroll-loaded %.2f\n", ms_since (bench->t_step));
            printf ("scroll-frames %u %u\n", bench->frames, bench->placeholder_frames);
            print_distribution ("scroll-interval", bench->intervals);
            print_distribution ("scroll-work", bench->work);
            print_memory ("scrolled");
            quit (bench);
            return;
          }
        gtk_adjustment_set_value (bench->vadjustment, MIN (value + page * bench->scroll_pages, upper - page));
      }
      return;

    case PHASE_OPEN_WAIT:
    case PHASE_DONE:
    default:
      return;
    }
}

static gboolean
timed_out (gpointer data)
{
  Bench *bench = data;

  GListModel *messages = bench->window != NULL ? lb_window_get_messages (bench->window) : NULL;
  guint shown = 0, placeholders = 0;

  if (bench->window != NULL)
    count_rows (bench, &shown, &placeholders);
  g_printerr ("bench-ui: timed out in phase %d: window %s, page %s, %u messages listed, %u rows shown, "
              "%u placeholders\n", bench->phase, bench->window != NULL ? "shown" : "missing",
              bench->window != NULL ? lb_window_get_page (bench->window) : "-",
              messages != NULL ? g_list_model_get_n_items (messages) : 0, shown, placeholders);
  exit (1);
}

static void
activated_cb (GApplication *app,
              gpointer      data)
{
  Bench *bench = data;

  if (bench->window != NULL)
    return;
  bench->window = LB_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  if (bench->window == NULL)
    {
      g_printerr ("bench-ui: no main window\n");
      exit (1);
    }
  g_signal_connect (lb_window_get_message_view (bench->window), "rendered", G_CALLBACK (rendered_cb), bench);
  /* the window is realized by gtk_window_present(): its clock exists */
  bench->clock = gtk_widget_get_frame_clock (GTK_WIDGET (bench->window));
  g_signal_connect (bench->clock, "after-paint", G_CALLBACK (after_paint_cb), bench);
}

int
main (int   argc,
      char *argv[])
{
  Bench bench = { 0, };
  g_autoptr(GError) error = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(LbApplication) app = NULL;
  const char *t0;
  int count = 100000, n_open = 20, timeout = 600;
  gboolean flat = FALSE;
  double scroll_pages = 1;
  char *app_argv[] = { argv[0], NULL };
  int status;
  const GOptionEntry entries[] = {
    { "count", 0, 0, G_OPTION_ARG_INT, &count, "Messages in the folder (default 100000)", "N" },
    { "open", 0, 0, G_OPTION_ARG_INT, &n_open, "Messages to open (default 20)", "N" },
    { "scroll-pages", 0, 0, G_OPTION_ARG_DOUBLE, &scroll_pages,
      "Pages scrolled per frame (default 1; 0: no scrolling)", "PAGES" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Seconds before giving up (default 600)", "SECONDS" },
    { "flat", 0, 0, G_OPTION_ARG_NONE, &flat, "A row per message (conversations off)", NULL },
    G_OPTION_ENTRY_NULL
  };

  bench.t_main = g_get_monotonic_time ();
  bench.exec_to_main = -1;
  t0 = g_getenv ("BENCH_T0");
  if (t0 != NULL)
    bench.exec_to_main = g_get_real_time () - (gint64) (g_ascii_strtod (t0, NULL) * G_USEC_PER_SEC);

  context = g_option_context_new ("- time the main window on a large folder");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-ui: %s\n", error->message);
      return 2;
    }

  /* as src/ui/main.c does */
  mallopt (M_MMAP_THRESHOLD, 128 * 1024);
  setlocale (LC_ALL, "");
  g_mime_init ();

  app = lb_application_new ();
  bench.app = app;
  if (flat)
    {
      g_autoptr(GSettings) settings = g_settings_new (APP_ID);

      g_settings_set_boolean (settings, "group-conversations", FALSE);
    }
  bench.expected = flat ? (guint) count : 0;
  bench.n_open = (guint) n_open;
  bench.scroll_pages = scroll_pages;
  bench.intervals = g_array_new (FALSE, FALSE, sizeof (double));
  bench.work = g_array_new (FALSE, FALSE, sizeof (double));
  g_signal_connect_after (app, "activate", G_CALLBACK (activated_cb), &bench);
  bench.timeout_id = g_timeout_add_seconds ((guint) timeout, timed_out, &bench);

  status = g_application_run (G_APPLICATION (app), 1, app_argv);
  if (bench.phase != PHASE_DONE)
    {
      g_printerr ("bench-ui: the application quit early\n");
      status = 1;
    }
  if (bench.exec_to_main >= 0)
    printf ("exec-to-main %.2f\n", bench.exec_to_main / 1000.0);
  g_array_unref (bench.intervals);
  g_array_unref (bench.work);
  return status;
}
