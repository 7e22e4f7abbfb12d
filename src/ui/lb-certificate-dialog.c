/* lb-certificate-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <glib/gi18n.h>

#include "lb-certificate-dialog.h"
#include "lb-net-certificate.h"

/* A message dialog: the heading says which server, the body why its
 * certificate is not trusted, and a grid below gives what a user can
 * compare with what the provider publishes: the SHA-256 fingerprint, the
 * issuer, the subject and the dates. Reject is the default response and
 * what Escape or closing the window means. */

/* The task's data. The dialog belongs to GTK's list of windows until it
 * is destroyed, and it holds the task through its signal handlers: the
 * task ends when the user answers, when the dialog is destroyed
 * unanswered (with its transient parent, say) or when the cancellable is
 * cancelled, whichever comes first. */
typedef struct
{
  AdwMessageDialog *dialog;          /* borrowed, NULL once destroyed */
  GSource          *cancel_source;
  gboolean          answered;
} RunData;

static void
run_data_free (RunData *data)
{
  if (data->cancel_source != NULL)
    {
      g_source_destroy (data->cancel_source);
      g_source_unref (data->cancel_source);
    }
  g_free (data);
}

/* the fingerprint in two lines of 16 pairs */
static char *
format_fingerprint (GTlsCertificate *certificate)
{
  g_autofree char *fingerprint = lb_net_certificate_fingerprint (certificate);
  GString *out;

  if (fingerprint == NULL)
    return g_strdup (_("Unknown"));

  out = g_string_new (fingerprint);
  /* "AB:" is three characters: break after the 16th pair */
  if (out->len > 48 && out->str[47] == ':')
    out->str[47] = '\n';

  return g_string_free (out, FALSE);
}

static char *
format_date (GDateTime *date)
{
  g_autoptr(GDateTime) local = NULL;

  if (date == NULL)
    return g_strdup (_("Unknown"));

  local = g_date_time_to_local (date);
  /* Translators: a certificate's validity date, see g_date_time_format() */
  return g_date_time_format (local, _("%-d %B %Y, %H:%M"));
}

static void
add_row (GtkGrid    *grid,
         int         row,
         const char *title,
         const char *value,
         gboolean    monospace)
{
  GtkWidget *key = gtk_label_new (title);
  GtkWidget *label = gtk_label_new (value != NULL && *value != '\0' ? value : _("Unknown"));

  gtk_widget_add_css_class (key, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (key), 1.0);
  gtk_label_set_yalign (GTK_LABEL (key), 0.0);
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_set_hexpand (label, TRUE);
  if (monospace)
    {
      /* already cut in two lines of 16 pairs */
      gtk_widget_add_css_class (label, "monospace");
    }
  else
    {
      /* a sensible width, so that wrapping does not make it tall */
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
      gtk_label_set_width_chars (GTK_LABEL (label), 24);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 48);
    }
  gtk_grid_attach (grid, key, 0, row, 1, 1);
  gtk_grid_attach (grid, label, 1, row, 1, 1);
}

static GtkWidget *
make_details (GTlsCertificate *certificate)
{
  GtkGrid *grid = GTK_GRID (gtk_grid_new ());
  g_autofree char *fingerprint = format_fingerprint (certificate);
  g_autofree char *issuer = NULL, *subject = NULL, *from = NULL, *until = NULL;
  g_autoptr(GDateTime) not_before = NULL;
  g_autoptr(GDateTime) not_after = NULL;

  g_object_get (certificate,
                "issuer-name", &issuer,
                "subject-name", &subject,
                "not-valid-before", &not_before,
                "not-valid-after", &not_after,
                NULL);
  from = format_date (not_before);
  until = format_date (not_after);

  gtk_grid_set_row_spacing (grid, 6);
  gtk_grid_set_column_spacing (grid, 12);
  gtk_widget_set_margin_top (GTK_WIDGET (grid), 6);
  add_row (grid, 0, _("SHA-256 fingerprint"), fingerprint, TRUE);
  add_row (grid, 1, _("Issued by"), issuer, FALSE);
  add_row (grid, 2, _("Issued to"), subject, FALSE);
  add_row (grid, 3, _("Valid from"), from, FALSE);
  add_row (grid, 4, _("Valid until"), until, FALSE);

  return GTK_WIDGET (grid);
}

static void
response_cb (AdwMessageDialog *dialog,
             const char       *response,
             gpointer          user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  LbCertificateDecision decision = LB_CERTIFICATE_REJECT;

  if (data->answered)
    return;
  data->answered = TRUE;

  /* g_steal_pointer: GCC 12 at -O3 sees a dangling pointer in a plain
   * GError * handed over here */
  if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    {
      if (g_strcmp0 (response, "once") == 0)
        decision = LB_CERTIFICATE_ACCEPT_ONCE;
      else if (g_strcmp0 (response, "pin") == 0)
        decision = LB_CERTIFICATE_PIN;
      g_task_return_int (task, decision);
    }

  /* (a button closes it too; destroying twice is harmless) */
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* destroyed without an answer: that is a Reject */
static void
destroy_cb (AdwMessageDialog *dialog,
            gpointer          user_data)
{
  GTask *task = user_data;
  RunData *data = g_task_get_task_data (task);

  data->dialog = NULL;
  if (data->answered)
    return;
  data->answered = TRUE;
  if (!g_task_return_error_if_cancelled (task))
    g_task_return_int (task, LB_CERTIFICATE_REJECT);
}

static gboolean
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  RunData *data = user_data;

  /* answers as Reject; the callback sees the cancellation */
  if (data->dialog != NULL)
    adw_message_dialog_response (data->dialog, "reject");

  return G_SOURCE_REMOVE;
}

/**
 * lb_certificate_dialog_run_async:
 * @parent: (nullable): the window the dialog is modal for
 * @host: the server's host name
 * @port: its port
 * @certificate: the certificate it presented
 * @errors: why it was not trusted
 * @cancellable: (nullable): closes the dialog; the result is then
 *   %G_IO_ERROR_CANCELLED
 *
 * Asks whether to trust @certificate, showing its fingerprint, issuer,
 * subject and validity. The dialog is a toplevel #AdwMessageDialog whose
 * responses are "reject", "once" and "pin".
 */
void
lb_certificate_dialog_run_async (GtkWindow            *parent,
                                 const char           *host,
                                 guint16               port,
                                 GTlsCertificate      *certificate,
                                 GTlsCertificateFlags  errors,
                                 GCancellable         *cancellable,
                                 GAsyncReadyCallback   callback,
                                 gpointer              user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *reasons = NULL;
  RunData *data;
  AdwMessageDialog *dialog;

  g_return_if_fail (parent == NULL || GTK_IS_WINDOW (parent));
  g_return_if_fail (host != NULL);
  g_return_if_fail (G_IS_TLS_CERTIFICATE (certificate));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_certificate_dialog_run_async);

  reasons = lb_net_certificate_describe_errors (errors);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (parent, _("Trust This Server?"), NULL));
  adw_message_dialog_format_body (dialog,
                                  /* Translators: %s:%u is the server, the last %s the
                                   * reasons: "it has expired, it was issued for another
                                   * server name" */
                                  _("Letterbox cannot confirm that it is talking to %s:%u: its certificate "
                                    "cannot be trusted because %s.\n\nSomeone may be pretending to be "
                                    "the server to read your password. Trust the certificate only if its "
                                    "fingerprint is the one your provider or administrator gave you."),
                                  host, (guint) port, reasons);
  adw_message_dialog_set_extra_child (dialog, make_details (certificate));
  adw_message_dialog_add_responses (dialog,
                                    "reject", _("_Reject"),
                                    "once", _("Accept _Once"),
                                    "pin", _("_Always Trust"),
                                    NULL);
  adw_message_dialog_set_response_appearance (dialog, "pin", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "reject");
  adw_message_dialog_set_close_response (dialog, "reject");
  gtk_window_set_modal (GTK_WINDOW (dialog), TRUE);

  data = g_new0 (RunData, 1);
  data->dialog = dialog;
  g_task_set_task_data (task, data, (GDestroyNotify) run_data_free);

  if (cancellable != NULL)
    {
      data->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (data->cancel_source, G_SOURCE_FUNC (cancelled_cb), data, NULL);
      g_source_attach (data->cancel_source, g_main_context_get_thread_default ());
    }

  /* each handler holds the task until the dialog is destroyed */
  g_signal_connect_data (dialog, "response", G_CALLBACK (response_cb), g_object_ref (task),
                         (GClosureNotify) G_CALLBACK (g_object_unref), 0);
  g_signal_connect_data (dialog, "destroy", G_CALLBACK (destroy_cb), g_object_ref (task),
                         (GClosureNotify) G_CALLBACK (g_object_unref), 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/**
 * lb_certificate_dialog_run_finish:
 *
 * Returns: the user's decision; %LB_CERTIFICATE_REJECT with @error set
 *   when cancelled
 */
LbCertificateDecision
lb_certificate_dialog_run_finish (GAsyncResult  *result,
                                  GError       **error)
{
  gssize decision;

  g_return_val_if_fail (g_task_is_valid (result, NULL), LB_CERTIFICATE_REJECT);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_certificate_dialog_run_async,
                        LB_CERTIFICATE_REJECT);

  decision = g_task_propagate_int (G_TASK (result), error);
  if (decision < 0)
    return LB_CERTIFICATE_REJECT;

  return (LbCertificateDecision) decision;
}
