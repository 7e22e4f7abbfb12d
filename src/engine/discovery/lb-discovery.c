/* lb-discovery.c: finds and probes an address's mail servers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-discovery"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lb-discovery.h"
#include "lb-imap-client.h"
#include "lb-net-certificate.h"
#include "lb-net-stream.h"
#include "lb-pop3-client.h"

/* A discovery runs in phases on the caller's thread-default main context:
 *
 *   1. the six RFC 6186 SRV lookups, in parallel;
 *   2. a probe of each SRV target, in their priority and weight order;
 *   3. for each kind no SRV target answered for (and that no "." target
 *      declared not offered), the usual host names are looked up, and
 *   4. those that exist are probed on the usual ports.
 *
 * At most MAX_PARALLEL_PROBES probes run at a time. A timer of the
 * connector's timeout covers the whole discovery: when it fires, whatever
 * still runs is cancelled and reported as timed out. Every step holds a
 * reference on the task and the task returns only once every step has
 * come back, so nothing is left running behind the caller's back.
 *
 * A probe is one connection (two when the certificate was not trusted: the
 * second pins the rejected certificate, to learn whether a server of the
 * kind is behind it and what it offers). It never sends a password.
 * Submission has no client in the engine yet, so the few SMTP replies a
 * probe needs are read here, with a line length limit and a timeout. */

#define MAX_PARALLEL_PROBES 6
#define SMTP_MAX_LINE 4096
#define SMTP_MAX_LINES 200

/* the index of a port in guess_ports: implicit TLS, or the plaintext port
 * (STARTTLS or none) */
#define PORT_TLS 0
#define PORT_PLAIN 1

struct _LbDiscovery
{
  GObject      parent_instance;

  GResolver   *resolver;
  LbConnector *connector;
  guint16      guess_ports[3][2];
};

G_DEFINE_FINAL_TYPE (LbDiscovery, lb_discovery, G_TYPE_OBJECT)

static const struct
{
  const char    *service;
  LbServiceKind  kind;
  LbNetSecurity  security;
} services[] = {
  { "imaps", LB_SERVICE_IMAP, LB_NET_SECURITY_TLS },
  { "imap", LB_SERVICE_IMAP, LB_NET_SECURITY_STARTTLS },
  { "pop3s", LB_SERVICE_POP3, LB_NET_SECURITY_TLS },
  { "pop3", LB_SERVICE_POP3, LB_NET_SECURITY_STARTTLS },
  { "submissions", LB_SERVICE_SUBMISSION, LB_NET_SECURITY_TLS },
  { "submission", LB_SERVICE_SUBMISSION, LB_NET_SECURITY_STARTTLS },
};
#define N_SERVICES G_N_ELEMENTS (services)

/* the usual host names, before the domain itself */
static const char * const imap_hosts[] = { "imap", "mail", NULL };
static const char * const pop3_hosts[] = { "pop", "pop3", "mail", NULL };
static const char * const submission_hosts[] = { "smtp", "mail", NULL };

const char *
lb_service_kind_to_string (LbServiceKind kind)
{
  switch (kind)
    {
    case LB_SERVICE_IMAP:
      return "imap";
    case LB_SERVICE_POP3:
      return "pop3";
    case LB_SERVICE_SUBMISSION:
      return "submission";
    default:
      g_return_val_if_reached (NULL);
    }
}

LbServerProbe *
lb_server_probe_copy (const LbServerProbe *probe)
{
  LbServerProbe *copy;

  g_return_val_if_fail (probe != NULL, NULL);

  copy = g_new0 (LbServerProbe, 1);
  copy->kind = probe->kind;
  copy->source = probe->source;
  copy->host = g_strdup (probe->host);
  copy->port = probe->port;
  copy->security = probe->security;
  copy->capabilities = g_strdupv (probe->capabilities);
  copy->certificate = probe->certificate != NULL ? g_object_ref (probe->certificate) : NULL;
  copy->certificate_errors = probe->certificate_errors;
  copy->plaintext_only = probe->plaintext_only;
  copy->error = probe->error != NULL ? g_error_copy (probe->error) : NULL;

  return copy;
}

void
lb_server_probe_free (LbServerProbe *probe)
{
  if (probe == NULL)
    return;

  g_free (probe->host);
  g_strfreev (probe->capabilities);
  g_clear_object (&probe->certificate);
  g_clear_error (&probe->error);
  g_free (probe);
}

/**
 * lb_discovery_result_free:
 *
 * Frees @result: its @imap, @pop3 and @submission are copies of probes in
 * @tried, owned by the result.
 */
void
lb_discovery_result_free (LbDiscoveryResult *result)
{
  if (result == NULL)
    return;

  lb_server_probe_free (result->imap);
  lb_server_probe_free (result->pop3);
  lb_server_probe_free (result->submission);
  g_clear_pointer (&result->tried, g_ptr_array_unref);
  g_free (result);
}

static LbServerProbe *
probe_new (LbServiceKind   kind,
           LbServerSource  source,
           const char     *host,
           guint16         port,
           LbNetSecurity   security)
{
  LbServerProbe *probe = g_new0 (LbServerProbe, 1);

  probe->kind = kind;
  probe->source = source;
  probe->host = g_strdup (host);
  probe->port = port;
  probe->security = security;

  return probe;
}

/* a timer on the thread-default main context (g_timeout_add_seconds()
 * would use the global default one) */
static GSource *
timer_new (guint       seconds,
           GSourceFunc func,
           gpointer    data)
{
  /* not g_timeout_source_new_seconds(): its first interval may be up to a
   * second short */
  GSource *source = g_timeout_source_new (MIN (seconds, G_MAXUINT / 1000) * 1000);

  g_source_set_callback (source, func, data, NULL);
  g_source_set_name (source, "[letterbox] discovery timer");
  g_source_attach (source, g_main_context_get_thread_default ());

  return source;
}

static void
timer_clear (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static void
cancel_other_cb (GCancellable *cancellable,
                 gpointer      other)
{
  g_cancellable_cancel (other);
}

/* One probe */

typedef void (*ProbeStep) (GTask *task);

typedef struct
{
  LbServerProbe *probe;          /* borrowed: kept by the caller until the callback */
  LbNetSecurity  wanted;         /* what was asked for */
  LbConnector   *connector;      /* this attempt's: the caller's, or one pinning
                                  * the certificate the first attempt rejected */
  gboolean       pinned_attempt;
  guint          timeout;

  /* ours: cancelled with the caller's, and by the SMTP timer */
  GCancellable  *cancellable;
  GCancellable  *outer;
  gulong         outer_id;

  GIOStream     *stream;
  gboolean       greeted;        /* the server answered as one of its kind */
  gboolean       succeeded;      /* what it offers is recorded; only goodbye is left */

  LbImapClient  *imap;
  LbPop3Client  *pop3;

  /* SMTP */
  GByteArray    *buffer;         /* read, not yet parsed */
  guint8         chunk[1024];
  GSource       *timer;
  gboolean       timed_out;
  guint          reply_code;
  GPtrArray     *reply_lines;    /* the reply's texts, after the code */
  ProbeStep      then;
  char          *ehlo;
  gboolean       tls_started;
  char         **smtp_capabilities;
} ProbeRun;

static void
probe_run_free (gpointer data)
{
  ProbeRun *run = data;

  if (run->outer_id != 0)
    g_cancellable_disconnect (run->outer, run->outer_id);
  g_clear_object (&run->outer);
  g_clear_object (&run->cancellable);
  g_clear_object (&run->connector);
  timer_clear (&run->timer);
  if (run->imap != NULL)
    lb_imap_client_close (run->imap);
  g_clear_object (&run->imap);
  if (run->pop3 != NULL)
    lb_pop3_client_close (run->pop3);
  g_clear_object (&run->pop3);
  g_clear_object (&run->stream);
  g_clear_pointer (&run->buffer, g_byte_array_unref);
  g_clear_pointer (&run->reply_lines, g_ptr_array_unref);
  g_free (run->ehlo);
  g_strfreev (run->smtp_capabilities);
  g_free (run);
}

static void probe_attempt (GTask *task);

/* drops this attempt's connection */
static void
probe_drop_connection (ProbeRun *run)
{
  timer_clear (&run->timer);
  if (run->imap != NULL)
    lb_imap_client_close (run->imap);
  g_clear_object (&run->imap);
  if (run->pop3 != NULL)
    lb_pop3_client_close (run->pop3);
  g_clear_object (&run->pop3);
  g_clear_object (&run->stream);
  if (run->buffer != NULL)
    g_byte_array_set_size (run->buffer, 0);
  g_clear_pointer (&run->smtp_capabilities, g_strfreev);
  run->greeted = FALSE;
  run->tls_started = FALSE;
  run->timed_out = FALSE;
}

static gboolean
probe_return_cb (gpointer data)
{
  GTask *task = data;
  ProbeRun *run = g_task_get_task_data (task);

  g_task_return_pointer (task, run->probe, NULL);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}

static void
client_gone_cb (gpointer  data,
                GObject  *where_the_object_was)
{
  GSource *idle = g_idle_source_new ();

  /* not from inside the client's finalization */
  g_source_set_callback (idle, probe_return_cb, data, NULL);
  g_source_set_name (idle, "[letterbox] probe done");
  g_source_attach (idle, g_main_context_get_thread_default ());
  g_source_unref (idle);
}

/* Returns once the protocol client is gone too: a closed client may still
 * have a read to wind up, and the probe leaves nothing behind. */
static void
probe_return (GTask *task)
{
  ProbeRun *run = g_task_get_task_data (task);
  GObject *client = NULL;

  if (run->imap != NULL)
    {
      lb_imap_client_close (run->imap);
      client = G_OBJECT (g_steal_pointer (&run->imap));
    }
  else if (run->pop3 != NULL)
    {
      lb_pop3_client_close (run->pop3);
      client = G_OBJECT (g_steal_pointer (&run->pop3));
    }
  probe_drop_connection (run);

  if (client != NULL)
    {
      g_object_weak_ref (client, client_gone_cb, task);
      g_object_unref (client);
      return;
    }

  probe_return_cb (task);
}

static gboolean
is_not_a_server_error (const GError *error)
{
  return (g_error_matches (error, LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL) ||
          g_error_matches (error, LB_POP3_ERROR, LB_POP3_ERROR_MALFORMED) ||
          g_error_matches (error, LB_POP3_ERROR, LB_POP3_ERROR_TOO_LONG) ||
          g_error_matches (error, LB_POP3_ERROR, LB_POP3_ERROR_UNEXPECTED));
}

static GError *
not_a_server_error (const LbServerProbe *probe,
                    const char          *detail)
{
  switch (probe->kind)
    {
    case LB_SERVICE_IMAP:
      /* Translators: %s port %u is a server's host name and port; the last %s
       * says what was wrong with its answer */
      return g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                          _("%s port %u is not an IMAP server: %s"),
                          probe->host, probe->port, detail);
    case LB_SERVICE_POP3:
      return g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                          _("%s port %u is not a POP3 server: %s"),
                          probe->host, probe->port, detail);
    case LB_SERVICE_SUBMISSION:
      return g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                          _("%s port %u is not an SMTP submission server: %s"),
                          probe->host, probe->port, detail);
    default:
      g_return_val_if_reached (NULL);
    }
}

/* The attempt failed with @error (taken). A certificate that was not
 * trusted gets a second attempt that pins it; anything else is the
 * probe's error. */
static void
probe_fail (GTask  *task,
            GError *error)
{
  ProbeRun *run = g_task_get_task_data (task);
  LbServerProbe *probe = run->probe;
  gboolean timed_out = run->timed_out;
  gboolean greeted = run->greeted;

  if (run->succeeded)
    {
      /* only the goodbye failed */
      g_debug ("%s:%u: %s", probe->host, probe->port, error->message);
      g_error_free (error);
      probe_return (task);
      return;
    }

  if (!run->pinned_attempt && g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
    {
      GTlsCertificateFlags errors = 0;
      g_autoptr(GTlsCertificate) certificate =
        lb_connector_dup_rejected_certificate (run->connector, probe->host, probe->port, &errors);

      if (certificate != NULL)
        {
          g_autofree char *fingerprint = lb_net_certificate_fingerprint (certificate);
          g_autofree char *pin = g_strdup_printf ("%s:%u=%s", probe->host, probe->port, fingerprint);
          const char *pins[] = { pin, NULL };
          g_autoptr(LbConnector) pinned = lb_connector_new ();

          g_debug ("%s:%u: the certificate is not trusted (0x%x); probing again with it pinned",
                   probe->host, probe->port, errors);
          g_set_object (&probe->certificate, certificate);
          probe->certificate_errors = errors;

          lb_connector_set_tls_database (pinned, lb_connector_get_tls_database (run->connector));
          lb_connector_set_timeout (pinned, lb_connector_get_timeout (run->connector));
          lb_connector_set_pinned_fingerprints (pinned, pins);
          g_set_object (&run->connector, pinned);
          run->pinned_attempt = TRUE;
          g_error_free (error);
          probe_drop_connection (run);
          probe_attempt (task);
          return;
        }
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && timed_out)
    {
      g_error_free (error);
      error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                           _("%s port %u did not answer within %u seconds"),
                           probe->host, probe->port, run->timeout);
    }
  else if (!greeted && is_not_a_server_error (error))
    {
      GError *wrapped = not_a_server_error (probe, error->message);

      g_error_free (error);
      error = wrapped;
    }

  g_clear_error (&probe->error);
  probe->error = error;
  probe_return (task);
}

/* The server answered: it offers what is recorded, with no TLS at all
 * when @plaintext_only */
static void
probe_answered (ProbeRun *run,
                gboolean  plaintext_only)
{
  run->succeeded = TRUE;
  g_clear_error (&run->probe->error);
  run->probe->plaintext_only = plaintext_only;
  if (plaintext_only)
    run->probe->security = LB_NET_SECURITY_NONE;
}

/* IMAP */

static void
imap_logout_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_imap_client_logout_finish (LB_IMAP_CLIENT (object), result, &error))
    g_debug ("LOGOUT: %s", error->message);
  probe_return (task);
}

static void
imap_done (GTask    *task,
           gboolean  plaintext_only)
{
  ProbeRun *run = g_task_get_task_data (task);

  probe_answered (run, plaintext_only);
  g_strfreev (run->probe->capabilities);
  run->probe->capabilities = lb_imap_client_dup_capabilities (run->imap);
  lb_imap_client_logout_async (run->imap, run->cancellable, imap_logout_cb, task);
}

static void
imap_starttls_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  ProbeRun *run = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lb_imap_client_starttls_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      probe_fail (task, error);
      return;
    }

  run->probe->security = LB_NET_SECURITY_STARTTLS;
  imap_done (task, FALSE);
}

static void
imap_capability_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  ProbeRun *run = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lb_imap_client_capability_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      probe_fail (task, error);
      return;
    }

  if (run->wanted == LB_NET_SECURITY_TLS)
    imap_done (task, FALSE);
  else if (lb_imap_client_has_capability (run->imap, "STARTTLS"))
    lb_imap_client_starttls_async (run->imap, run->connector, run->probe->host, run->probe->port,
                                   run->cancellable, imap_starttls_cb, task);
  else
    imap_done (task, TRUE);
}

static void
imap_greet_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  ProbeRun *run = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lb_imap_client_greet_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      probe_fail (task, error);
      return;
    }

  run->greeted = TRUE;
  lb_imap_client_capability_async (run->imap, run->cancellable, imap_capability_cb, task);
}

static void
imap_begin (GTask *task)
{
  ProbeRun *run = g_task_get_task_data (task);

  run->imap = lb_imap_client_new (run->stream);
  lb_imap_client_set_timeout (run->imap, run->timeout);
  lb_imap_client_greet_async (run->imap, run->cancellable, imap_greet_cb, task);
}

/* POP3 */

static void
pop3_quit_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_pop3_client_quit_finish (LB_POP3_CLIENT (object), result, &error))
    g_debug ("QUIT: %s", error->message);
  probe_return (task);
}

/* CAPA's keywords, with the SASL line's mechanisms ("SASL PLAIN LOGIN") */
static char **
pop3_capabilities (LbPop3Client *client)
{
  g_auto(GStrv) keywords = lb_pop3_client_dup_capabilities (client);
  const char * const *mechanisms = lb_pop3_client_get_sasl_mechanisms (client);
  GPtrArray *capabilities = g_ptr_array_new ();

  for (guint i = 0; keywords[i] != NULL; i++)
    {
      if (g_str_equal (keywords[i], "SASL") && mechanisms[0] != NULL)
        {
          g_autofree char *list = g_strjoinv (" ", (char **) mechanisms);

          g_ptr_array_add (capabilities, g_strconcat ("SASL ", list, NULL));
        }
      else
        g_ptr_array_add (capabilities, g_strdup (keywords[i]));
    }
  g_ptr_array_add (capabilities, NULL);

  return (char **) g_ptr_array_free (capabilities, FALSE);
}

static void
pop3_done (GTask    *task,
           gboolean  plaintext_only)
{
  ProbeRun *run = g_task_get_task_data (task);

  probe_answered (run, plaintext_only);
  g_strfreev (run->probe->capabilities);
  run->probe->capabilities = pop3_capabilities (run->pop3);
  lb_pop3_client_quit_async (run->pop3, run->cancellable, pop3_quit_cb, task);
}

static void
pop3_stls_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  ProbeRun *run = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lb_pop3_client_stls_finish (LB_POP3_CLIENT (object), result, &error))
    {
      probe_fail (task, error);
      return;
    }

  run->probe->security = LB_NET_SECURITY_STARTTLS;
  pop3_done (task, FALSE);
}

static void
pop3_capa_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  ProbeRun *run = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lb_pop3_client_capa_finish (LB_POP3_CLIENT (object), result, &error))
    {
      probe_fail (task, error);
      return;
    }

  if (run->wanted == LB_NET_SECURITY_TLS)
    pop3_done (task, FALSE);
  else if (lb_pop3_client_has_capability (run->pop3, "STLS"))
    lb_pop3_client_stls_async (run->pop3, run->connector, run->probe->host, run->probe->port,
                               run->cancellable, pop3_stls_cb, task);
  else
    pop3_done (task, TRUE);
}

static void
pop3_greet_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  ProbeRun *run = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lb_pop3_client_greet_finish (LB_POP3_CLIENT (object), result, &error))
    {
      probe_fail (task, error);
      return;
    }

  run->greeted = TRUE;
  lb_pop3_client_capa_async (run->pop3, run->cancellable, pop3_capa_cb, task);
}

static void
pop3_begin (GTask *task)
{
  ProbeRun *run = g_task_get_task_data (task);

  run->pop3 = lb_pop3_client_new (run->stream);
  lb_pop3_client_set_timeout (run->pop3, run->timeout);
  lb_pop3_client_greet_async (run->pop3, run->cancellable, pop3_greet_cb, task);
}

/* SMTP submission: just enough to read the greeting and EHLO's answer */

static gboolean
smtp_timeout_cb (gpointer data)
{
  ProbeRun *run = data;

  g_clear_pointer (&run->timer, g_source_unref);
  run->timed_out = TRUE;
  g_cancellable_cancel (run->cancellable);

  return G_SOURCE_REMOVE;
}

static void smtp_read_reply (GTask *task);

/* Takes the complete lines out of the buffer into the reply; TRUE when
 * the reply is complete, FALSE when more must be read or on @error. */
static gboolean
smtp_parse_lines (ProbeRun  *run,
                  gboolean  *done,
                  GError   **error)
{
  *done = FALSE;

  for (;;)
    {
      guint8 *newline = run->buffer->len > 0 ? memchr (run->buffer->data, '\n', run->buffer->len) : NULL;
      gsize len;
      g_autofree char *line = NULL;
      guint code;
      gboolean more;

      if (newline == NULL)
        {
          if (run->buffer->len > SMTP_MAX_LINE)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The server sent a line longer than %u bytes"), SMTP_MAX_LINE);
              return FALSE;
            }
          return TRUE;
        }

      len = newline - run->buffer->data;
      if (len > SMTP_MAX_LINE)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("The server sent a line longer than %u bytes"), SMTP_MAX_LINE);
          return FALSE;
        }
      if (len > 0 && run->buffer->data[len - 1] == '\r')
        line = g_strndup ((const char *) run->buffer->data, len - 1);
      else
        line = g_strndup ((const char *) run->buffer->data, len);
      g_byte_array_remove_range (run->buffer, 0, len + 1);

      if (strlen (line) < 3 ||
          !g_ascii_isdigit (line[0]) || !g_ascii_isdigit (line[1]) || !g_ascii_isdigit (line[2]) ||
          (line[3] != '\0' && line[3] != ' ' && line[3] != '-') ||
          !g_utf8_validate (line, -1, NULL))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("The server’s answer is not an SMTP reply"));
          return FALSE;
        }

      code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
      more = line[3] == '-';
      if (run->reply_lines->len > 0 && code != run->reply_code)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("The server’s answer is not an SMTP reply"));
          return FALSE;
        }
      if (run->reply_lines->len >= SMTP_MAX_LINES)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("The server sent a reply of more than %u lines"), SMTP_MAX_LINES);
          return FALSE;
        }
      run->reply_code = code;
      g_ptr_array_add (run->reply_lines, g_strdup (line[3] != '\0' ? line + 4 : ""));

      if (!more)
        {
          *done = TRUE;
          return TRUE;
        }
    }
}

static void
smtp_read_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  ProbeRun *run = g_task_get_task_data (task);
  GError *error = NULL;
  gssize n;

  timer_clear (&run->timer);
  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  if (n < 0)
    {
      probe_fail (task, error);
      return;
    }
  if (n == 0)
    {
      probe_fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                     _("%s port %u closed the connection"),
                                     run->probe->host, run->probe->port));
      return;
    }

  g_byte_array_append (run->buffer, run->chunk, n);
  smtp_read_reply (task);
}

/* Reads a whole reply (its lines into reply_lines), then calls ->then. */
static void
smtp_read_reply (GTask *task)
{
  ProbeRun *run = g_task_get_task_data (task);
  GError *error = NULL;
  gboolean done;

  if (!smtp_parse_lines (run, &done, &error))
    {
      if (!run->greeted)
        {
          GError *wrapped = not_a_server_error (run->probe, error->message);

          g_error_free (error);
          error = wrapped;
        }
      probe_fail (task, error);
      return;
    }
  if (done)
    {
      run->then (task);
      return;
    }

  if (run->timeout > 0)
    {
      timer_clear (&run->timer);
      run->timer = timer_new (run->timeout, smtp_timeout_cb, run);
    }
  g_input_stream_read_async (g_io_stream_get_input_stream (run->stream),
                             run->chunk, sizeof run->chunk,
                             G_PRIORITY_DEFAULT, run->cancellable,
                             smtp_read_cb, task);
}

static void
smtp_write_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      probe_fail (task, error);
      return;
    }

  smtp_read_reply (task);
}

/* Sends @command, reads the reply, then calls @then. */
static void
smtp_command (GTask      *task,
              const char *command,
              ProbeStep   then)
{
  ProbeRun *run = g_task_get_task_data (task);
  g_autofree char *line = g_strconcat (command, "\r\n", NULL);
  GBytes *bytes;
  gsize len;
  gconstpointer data;

  run->then = then;
  g_ptr_array_set_size (run->reply_lines, 0);
  run->reply_code = 0;

  /* the stream does not keep the buffer: the task data does */
  bytes = g_bytes_new_take (g_steal_pointer (&line), strlen (command) + 2);
  g_object_set_data_full (G_OBJECT (task), "smtp-command", bytes, (GDestroyNotify) g_bytes_unref);
  data = g_bytes_get_data (bytes, &len);
  g_output_stream_write_all_async (g_io_stream_get_output_stream (run->stream),
                                   data, len, G_PRIORITY_DEFAULT, run->cancellable,
                                   smtp_write_cb, task);
}

static char *
smtp_reply_text (ProbeRun *run)
{
  g_autofree char *text = NULL;

  g_ptr_array_add (run->reply_lines, NULL);
  text = g_strjoinv (" ", (char **) run->reply_lines->pdata);
  g_ptr_array_remove_index (run->reply_lines, run->reply_lines->len - 1);

  return g_strdup_printf ("%u %s", run->reply_code, text);
}

static void
smtp_close_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_io_stream_close_finish (G_IO_STREAM (object), result, &error))
    g_debug ("closing: %s", error->message);
  probe_return (task);
}

static void
smtp_quit_read (GTask *task)
{
  ProbeRun *run = g_task_get_task_data (task);

  g_io_stream_close_async (run->stream, G_PRIORITY_DEFAULT, run->cancellable, smtp_close_cb, task);
}

static void
smtp_done (GTask    *task,
           gboolean  plaintext_only)
{
  ProbeRun *run = g_task_get_task_data (task);

  probe_answered (run, plaintext_only);
  g_strfreev (run->probe->capabilities);
  run->probe->capabilities = g_steal_pointer (&run->smtp_capabilities);
  smtp_command (task, "QUIT", smtp_quit_read);
}

static gboolean
smtp_has_keyword (char       **capabilities,
                  const char  *keyword)
{
  gsize len = strlen (keyword);

  for (guint i = 0; capabilities != NULL && capabilities[i] != NULL; i++)
    if (strncmp (capabilities[i], keyword, len) == 0 &&
        (capabilities[i][len] == '\0' || capabilities[i][len] == ' '))
      return TRUE;
  return FALSE;
}

static void smtp_ehlo_read (GTask *task);

static void
smtp_tls_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  GTask *task = user_data;
  ProbeRun *run = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GIOStream) tls = NULL;
  g_autofree char *ehlo = NULL;

  tls = lb_connector_start_tls_finish (LB_CONNECTOR (object), result, &error);
  if (tls == NULL)
    {
      probe_fail (task, error);
      return;
    }

  g_set_object (&run->stream, tls);
  run->tls_started = TRUE;
  run->probe->security = LB_NET_SECURITY_STARTTLS;
  ehlo = g_strconcat ("EHLO ", run->ehlo, NULL);
  smtp_command (task, ehlo, smtp_ehlo_read);
}

static void
smtp_starttls_read (GTask *task)
{
  ProbeRun *run = g_task_get_task_data (task);

  if (run->reply_code != 220)
    {
      g_autofree char *text = smtp_reply_text (run);

      probe_fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                     _("%s port %u refused to secure the connection: %s"),
                                     run->probe->host, run->probe->port, text));
      return;
    }
  /* what came before the handshake would pass for encrypted afterwards */
  if (run->buffer->len > 0)
    {
      probe_fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                     _("%s port %u sent data it should not have before securing "
                                       "the connection"),
                                     run->probe->host, run->probe->port));
      return;
    }

  lb_connector_start_tls_async (run->connector, run->stream, run->probe->host, run->probe->port,
                                run->cancellable, smtp_tls_cb, task);
}

static void
smtp_ehlo_read (GTask *task)
{
  ProbeRun *run = g_task_get_task_data (task);
  GPtrArray *capabilities;

  if (run->reply_code != 250)
    {
      g_autofree char *text = smtp_reply_text (run);

      probe_fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                     _("%s port %u did not accept EHLO: %s"),
                                     run->probe->host, run->probe->port, text));
      return;
    }

  /* the first line is the server's name; each other one an extension */
  capabilities = g_ptr_array_new ();
  for (guint i = 1; i < run->reply_lines->len; i++)
    {
      g_autofree char *upper = g_ascii_strup (g_ptr_array_index (run->reply_lines, i), -1);

      g_strstrip (upper);
      if (*upper != '\0')
        g_ptr_array_add (capabilities, g_steal_pointer (&upper));
    }
  g_ptr_array_add (capabilities, NULL);
  g_strfreev (run->smtp_capabilities);
  run->smtp_capabilities = (char **) g_ptr_array_free (capabilities, FALSE);

  if (run->wanted == LB_NET_SECURITY_TLS || run->tls_started)
    smtp_done (task, FALSE);
  else if (smtp_has_keyword (run->smtp_capabilities, "STARTTLS"))
    smtp_command (task, "STARTTLS", smtp_starttls_read);
  else
    smtp_done (task, TRUE);
}

static void
smtp_greeting_read (GTask *task)
{
  ProbeRun *run = g_task_get_task_data (task);
  g_autofree char *ehlo = NULL;

  if (run->reply_code != 220)
    {
      g_autofree char *text = smtp_reply_text (run);

      probe_fail (task, g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED,
                                     _("%s port %u refused the connection: %s"),
                                     run->probe->host, run->probe->port, text));
      return;
    }

  run->greeted = TRUE;
  ehlo = g_strconcat ("EHLO ", run->ehlo, NULL);
  smtp_command (task, ehlo, smtp_ehlo_read);
}

static void
smtp_begin (GTask *task)
{
  ProbeRun *run = g_task_get_task_data (task);

  g_free (run->ehlo);
  /* EHLO's argument: our address as a literal, which tells the server
   * nothing it does not know */
  run->ehlo = lb_net_stream_address_literal (run->stream);
  if (run->ehlo == NULL)
    run->ehlo = g_strdup ("[127.0.0.1]");
  if (run->buffer == NULL)
    run->buffer = g_byte_array_new ();
  if (run->reply_lines == NULL)
    run->reply_lines = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_set_size (run->reply_lines, 0);
  run->then = smtp_greeting_read;
  smtp_read_reply (task);
}

/* Connecting */

static void
probe_connect_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  ProbeRun *run = g_task_get_task_data (task);
  GError *error = NULL;

  run->stream = lb_connector_connect_finish (LB_CONNECTOR (object), result, &error);
  if (run->stream == NULL)
    {
      probe_fail (task, error);
      return;
    }

  switch (run->probe->kind)
    {
    case LB_SERVICE_IMAP:
      imap_begin (task);
      break;
    case LB_SERVICE_POP3:
      pop3_begin (task);
      break;
    case LB_SERVICE_SUBMISSION:
      smtp_begin (task);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
probe_attempt (GTask *task)
{
  ProbeRun *run = g_task_get_task_data (task);

  run->probe->security = run->wanted;
  lb_connector_connect_async (run->connector, run->probe->host, run->probe->port,
                              run->wanted == LB_NET_SECURITY_TLS ? LB_NET_SECURITY_TLS
                                                                 : LB_NET_SECURITY_STARTTLS,
                              run->cancellable, probe_connect_cb, task);
}

/* Probes the server @probe names with the security it names, filling
 * @probe in. Never fails: the outcome is in @probe, which the caller
 * keeps until the callback. */
static void
probe_run_async (LbDiscovery         *self,
                 LbServerProbe       *probe,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);
  ProbeRun *run = g_new0 (ProbeRun, 1);

  g_task_set_source_tag (task, probe_run_async);
  g_task_set_task_data (task, run, probe_run_free);

  run->probe = probe;
  run->wanted = probe->security;
  run->connector = g_object_ref (self->connector);
  run->timeout = lb_connector_get_timeout (self->connector);
  run->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      run->outer = g_object_ref (cancellable);
      run->outer_id = g_cancellable_connect (cancellable, G_CALLBACK (cancel_other_cb),
                                             run->cancellable, NULL);
    }

  probe_attempt (task);
}

static LbServerProbe *
probe_run_finish (LbDiscovery  *self,
                  GAsyncResult *result)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == probe_run_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), NULL);
}

/* The object */

static void
lb_discovery_finalize (GObject *object)
{
  LbDiscovery *self = (LbDiscovery *) object;

  g_clear_object (&self->resolver);
  g_clear_object (&self->connector);

  G_OBJECT_CLASS (lb_discovery_parent_class)->finalize (object);
}

static void
lb_discovery_class_init (LbDiscoveryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lb_discovery_finalize;
}

static void
lb_discovery_init (LbDiscovery *self)
{
  self->guess_ports[LB_SERVICE_IMAP][PORT_TLS] = 993;
  self->guess_ports[LB_SERVICE_IMAP][PORT_PLAIN] = 143;
  self->guess_ports[LB_SERVICE_POP3][PORT_TLS] = 995;
  self->guess_ports[LB_SERVICE_POP3][PORT_PLAIN] = 110;
  self->guess_ports[LB_SERVICE_SUBMISSION][PORT_TLS] = 465;
  self->guess_ports[LB_SERVICE_SUBMISSION][PORT_PLAIN] = 587;
}

/**
 * lb_discovery_new:
 * @resolver: (nullable): for the SRV records and the usual host names;
 *   %NULL for g_resolver_get_default(). The connections themselves look
 *   host names up with the default resolver, as #LbConnector always does.
 * @connector: (nullable): opens the probe connections (its TLS database,
 *   pins and timeout apply); %NULL for a new one
 */
LbDiscovery *
lb_discovery_new (GResolver   *resolver,
                  LbConnector *connector)
{
  LbDiscovery *self;

  g_return_val_if_fail (resolver == NULL || G_IS_RESOLVER (resolver), NULL);
  g_return_val_if_fail (connector == NULL || LB_IS_CONNECTOR (connector), NULL);

  self = g_object_new (LB_TYPE_DISCOVERY, NULL);
  self->resolver = resolver != NULL ? g_object_ref (resolver) : g_resolver_get_default ();
  self->connector = connector != NULL ? g_object_ref (connector) : lb_connector_new ();

  return self;
}

void
lb_discovery_set_guess_port (LbDiscovery   *self,
                             LbServiceKind  kind,
                             LbNetSecurity  security,
                             guint16        port)
{
  g_return_if_fail (LB_IS_DISCOVERY (self));
  g_return_if_fail (kind <= LB_SERVICE_SUBMISSION);
  g_return_if_fail (port != 0);

  self->guess_ports[kind][security == LB_NET_SECURITY_TLS ? PORT_TLS : PORT_PLAIN] = port;
}

/* One server the user named */

static void
manual_probe_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LbServerProbe *probe = probe_run_finish (LB_DISCOVERY (object), result);
  GCancellable *cancellable = g_task_get_cancellable (task);

  GError *error = NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_pointer (task, lb_server_probe_copy (probe), (GDestroyNotify) lb_server_probe_free);
}

void
lb_discovery_probe_async (LbDiscovery         *self,
                          LbServiceKind        kind,
                          const char          *host,
                          guint16              port,
                          LbNetSecurity        security,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  GTask *task;
  LbServerProbe *probe;

  g_return_if_fail (LB_IS_DISCOVERY (self));
  g_return_if_fail (kind <= LB_SERVICE_SUBMISSION);
  g_return_if_fail (host != NULL && *host != '\0');
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  if (port == 0)
    port = self->guess_ports[kind][security == LB_NET_SECURITY_TLS ? PORT_TLS : PORT_PLAIN];

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_discovery_probe_async);
  probe = probe_new (kind, LB_SERVER_SOURCE_MANUAL, host, port, security);
  g_task_set_task_data (task, probe, (GDestroyNotify) lb_server_probe_free);

  probe_run_async (self, probe, cancellable, manual_probe_cb, task);
}

LbServerProbe *
lb_discovery_probe_finish (LbDiscovery   *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (LB_IS_DISCOVERY (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_discovery_probe_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Discovery */

typedef enum
{
  PHASE_SRV_LOOKUP,
  PHASE_SRV_PROBES,
  PHASE_RESOLVE,
  PHASE_GUESS_PROBES,
  PHASE_DONE,
} Phase;

typedef struct
{
  LbServiceKind   kind;
  LbNetSecurity   security;
  LbServerSource  source;
  char           *host;
  guint16         port;
} Candidate;

typedef struct
{
  char         *domain;
  GCancellable *cancellable;     /* ours: by the caller's, and by the timer */
  GCancellable *outer;
  gulong        outer_id;
  GSource      *timer;
  gboolean      timed_out;
  guint         timeout;

  Phase         phase;
  guint         pending;         /* lookups or probes under way */
  GList        *srv[N_SERVICES]; /* GSrvTarget, in the order to try */
  gboolean      not_offered[N_SERVICES];
  GQueue        queue;           /* Candidate, not yet started */
  GHashTable   *resolved;        /* guessed host name -> found */
  GPtrArray    *tried;           /* LbServerProbe */
} Discover;

typedef struct
{
  GTask *task;
  guint  index;
  char  *host;
} Lookup;

static void
candidate_free (gpointer data)
{
  Candidate *candidate = data;

  g_free (candidate->host);
  g_free (candidate);
}

static void
discover_free (gpointer data)
{
  Discover *d = data;

  if (d->outer_id != 0)
    g_cancellable_disconnect (d->outer, d->outer_id);
  g_clear_object (&d->outer);
  g_clear_object (&d->cancellable);
  timer_clear (&d->timer);
  for (guint i = 0; i < N_SERVICES; i++)
    g_list_free_full (d->srv[i], (GDestroyNotify) g_srv_target_free);
  g_queue_clear_full (&d->queue, candidate_free);
  g_clear_pointer (&d->resolved, g_hash_table_unref);
  g_clear_pointer (&d->tried, g_ptr_array_unref);
  g_free (d->domain);
  g_free (d);
}

static gboolean
discover_timeout_cb (gpointer data)
{
  Discover *d = data;

  g_debug ("Discovery for %s timed out after %u seconds", d->domain, d->timeout);
  g_clear_pointer (&d->timer, g_source_unref);
  d->timed_out = TRUE;
  g_cancellable_cancel (d->cancellable);

  return G_SOURCE_REMOVE;
}

static void
queue_candidate (Discover       *d,
                 LbServiceKind   kind,
                 LbNetSecurity   security,
                 LbServerSource  source,
                 const char     *host,
                 guint16         port)
{
  Candidate *candidate = g_new0 (Candidate, 1);

  candidate->kind = kind;
  candidate->security = security;
  candidate->source = source;
  candidate->host = g_strdup (host);
  candidate->port = port;
  g_queue_push_tail (&d->queue, candidate);
}

/* how good an answer @probe is; lower is better: encrypted with a trusted
 * certificate, then with one the user must judge, then none */
static int
probe_rank (const LbServerProbe *probe)
{
  int rank = probe->security == LB_NET_SECURITY_TLS ? 0 : 1;

  if (probe->security == LB_NET_SECURITY_NONE || probe->plaintext_only)
    return 4;
  if (probe->certificate != NULL)
    rank += 2;
  return rank;
}

static LbServerProbe *
best_of (GPtrArray     *tried,
         LbServiceKind  kind)
{
  LbServerProbe *best = NULL;

  /* tried is in SRV order then guess order: the first of a rank wins */
  for (guint i = 0; i < tried->len; i++)
    {
      LbServerProbe *probe = g_ptr_array_index (tried, i);

      if (probe->kind != kind || probe->error != NULL)
        continue;
      if (best == NULL || probe_rank (probe) < probe_rank (best))
        best = probe;
    }

  return best != NULL ? lb_server_probe_copy (best) : NULL;
}

static void
discover_finish_task (GTask *task)
{
  Discover *d = g_task_get_task_data (task);
  LbDiscoveryResult *result;

  d->phase = PHASE_DONE;
  timer_clear (&d->timer);
  if (d->outer_id != 0)
    {
      g_cancellable_disconnect (d->outer, d->outer_id);
      d->outer_id = 0;
    }

  if (d->outer != NULL && g_cancellable_is_cancelled (d->outer))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("The search for the mail servers of %s was cancelled"), d->domain);
      return;
    }

  result = g_new0 (LbDiscoveryResult, 1);
  result->imap = best_of (d->tried, LB_SERVICE_IMAP);
  result->pop3 = best_of (d->tried, LB_SERVICE_POP3);
  result->submission = best_of (d->tried, LB_SERVICE_SUBMISSION);
  result->tried = g_steal_pointer (&d->tried);
  g_task_return_pointer (task, result, (GDestroyNotify) lb_discovery_result_free);
}

static void discover_advance (GTask *task);

static void
discover_probe_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Discover *d = g_task_get_task_data (task);
  LbServerProbe *probe = probe_run_finish (LB_DISCOVERY (object), result);

  if (g_error_matches (probe->error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && d->timed_out &&
      (d->outer == NULL || !g_cancellable_is_cancelled (d->outer)))
    {
      g_clear_error (&probe->error);
      probe->error = g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                  _("%s port %u did not answer within %u seconds"),
                                  probe->host, probe->port, d->timeout);
    }
  g_debug ("%s %s:%u (%s): %s", lb_service_kind_to_string (probe->kind), probe->host, probe->port,
           lb_net_security_to_string (probe->security),
           probe->error != NULL ? probe->error->message : "answered");

  d->pending--;
  discover_advance (task);
}

static gboolean
already_tried (Discover  *d,
               Candidate *candidate)
{
  for (guint i = 0; i < d->tried->len; i++)
    {
      LbServerProbe *probe = g_ptr_array_index (d->tried, i);

      if (probe->kind == candidate->kind && probe->port == candidate->port &&
          g_ascii_strcasecmp (probe->host, candidate->host) == 0)
        return TRUE;
    }
  return FALSE;
}

/* starts what the queue holds, up to the limit */
static void
discover_pump (GTask *task)
{
  LbDiscovery *self = g_task_get_source_object (task);
  Discover *d = g_task_get_task_data (task);

  while (d->pending < MAX_PARALLEL_PROBES && !g_queue_is_empty (&d->queue) &&
         !g_cancellable_is_cancelled (d->cancellable))
    {
      Candidate *candidate = g_queue_pop_head (&d->queue);
      LbServerProbe *probe;

      if (already_tried (d, candidate))
        {
          candidate_free (candidate);
          continue;
        }

      probe = probe_new (candidate->kind, candidate->source, candidate->host, candidate->port,
                         candidate->security);
      g_ptr_array_add (d->tried, probe);
      candidate_free (candidate);
      d->pending++;
      probe_run_async (self, probe, d->cancellable, discover_probe_cb, g_object_ref (task));
    }
}

static void
srv_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  Lookup *lookup = user_data;
  g_autoptr(GTask) task = lookup->task;
  Discover *d = g_task_get_task_data (task);
  guint index = lookup->index;
  g_autoptr(GError) error = NULL;
  GList *targets;
  GList *usable = NULL;
  gboolean any = FALSE;

  g_free (lookup);
  targets = g_resolver_lookup_service_finish (G_RESOLVER (object), result, &error);
  if (error != NULL)
    g_debug ("_%s._tcp.%s: %s", services[index].service, d->domain, error->message);

  for (GList *l = targets; l != NULL; l = l->next)
    {
      GSrvTarget *target = l->data;
      const char *hostname = g_srv_target_get_hostname (target);

      any = TRUE;
      /* RFC 6186 3: "." means the service is not offered */
      if (g_str_equal (hostname, ".") || *hostname == '\0' || g_srv_target_get_port (target) == 0)
        continue;
      usable = g_list_prepend (usable, g_srv_target_copy (target));
    }
  g_list_free_full (targets, (GDestroyNotify) g_srv_target_free);

  if (any && usable == NULL)
    d->not_offered[index] = TRUE;
  /* priority, then weight (RFC 2782) */
  d->srv[index] = g_srv_target_list_sort (g_list_reverse (usable));

  d->pending--;
  discover_advance (task);
}

static void
resolve_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Lookup *lookup = user_data;
  g_autoptr(GTask) task = lookup->task;
  Discover *d = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GList *addresses;

  addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (object), result, &error);
  if (addresses == NULL)
    g_debug ("%s: %s", lookup->host, error != NULL ? error->message : "no address");
  g_hash_table_insert (d->resolved, lookup->host, GINT_TO_POINTER (addresses != NULL));
  g_resolver_free_addresses (addresses);
  g_free (lookup);

  d->pending--;
  discover_advance (task);
}

static gboolean
kind_answered (Discover      *d,
               LbServiceKind  kind)
{
  for (guint i = 0; i < d->tried->len; i++)
    {
      LbServerProbe *probe = g_ptr_array_index (d->tried, i);

      if (probe->kind == kind && probe->error == NULL)
        return TRUE;
    }
  return FALSE;
}

static const char * const *
guess_prefixes (LbServiceKind kind)
{
  switch (kind)
    {
    case LB_SERVICE_IMAP:
      return imap_hosts;
    case LB_SERVICE_POP3:
      return pop3_hosts;
    case LB_SERVICE_SUBMISSION:
      return submission_hosts;
    default:
      g_return_val_if_reached (NULL);
    }
}

/* Calls @func for each guess: the usual host names of each kind no SRV
 * target answered for, on the usual ports of the securities not declared
 * not offered */
typedef void (*GuessFunc) (Discover      *d,
                           LbServiceKind  kind,
                           LbNetSecurity  security,
                           const char    *host,
                           guint16        port);

static void
for_each_guess (LbDiscovery *self,
                Discover    *d,
                GuessFunc    func)
{
  for (LbServiceKind kind = LB_SERVICE_IMAP; kind <= LB_SERVICE_SUBMISSION; kind++)
    {
      const char * const *prefixes = guess_prefixes (kind);
      gboolean tls_offered = TRUE;
      gboolean plain_offered = TRUE;

      if (kind_answered (d, kind))
        continue;
      for (guint i = 0; i < N_SERVICES; i++)
        if (services[i].kind == kind && d->not_offered[i])
          {
            if (services[i].security == LB_NET_SECURITY_TLS)
              tls_offered = FALSE;
            else
              plain_offered = FALSE;
          }

      for (guint i = 0; i <= g_strv_length ((char **) prefixes); i++)
        {
          g_autofree char *host = prefixes[i] != NULL
                                    ? g_strconcat (prefixes[i], ".", d->domain, NULL)
                                    : g_strdup (d->domain);

          if (tls_offered)
            func (d, kind, LB_NET_SECURITY_TLS, host, self->guess_ports[kind][PORT_TLS]);
          if (plain_offered)
            func (d, kind, LB_NET_SECURITY_STARTTLS, host, self->guess_ports[kind][PORT_PLAIN]);
        }
    }
}

static void
add_guess_host (Discover      *d,
                LbServiceKind  kind,
                LbNetSecurity  security,
                const char    *host,
                guint16        port)
{
  if (!g_hash_table_contains (d->resolved, host))
    g_hash_table_insert (d->resolved, g_strdup (host), GINT_TO_POINTER (FALSE));
}

static void
queue_guess (Discover      *d,
             LbServiceKind  kind,
             LbNetSecurity  security,
             const char    *host,
             guint16        port)
{
  if (GPOINTER_TO_INT (g_hash_table_lookup (d->resolved, host)))
    queue_candidate (d, kind, security, LB_SERVER_SOURCE_GUESS, host, port);
}

/* Called whenever a step is over: starts the next ones, moves on to the
 * next phase when a phase is over, and returns once all is over. */
static void
discover_advance (GTask *task)
{
  LbDiscovery *self = g_task_get_source_object (task);
  Discover *d = g_task_get_task_data (task);

  discover_pump (task);
  if (d->pending > 0)
    return;

  if (g_cancellable_is_cancelled (d->cancellable))
    {
      g_queue_clear_full (&d->queue, candidate_free);
      discover_finish_task (task);
      return;
    }

  switch (d->phase)
    {
    case PHASE_SRV_LOOKUP:
      d->phase = PHASE_SRV_PROBES;
      for (guint i = 0; i < N_SERVICES; i++)
        for (GList *l = d->srv[i]; l != NULL; l = l->next)
          queue_candidate (d, services[i].kind, services[i].security, LB_SERVER_SOURCE_SRV,
                           g_srv_target_get_hostname (l->data), g_srv_target_get_port (l->data));
      discover_advance (task);
      break;

    case PHASE_SRV_PROBES:
      {
        GHashTableIter iter;
        gpointer host;

        d->phase = PHASE_RESOLVE;
        for_each_guess (self, d, add_guess_host);
        g_hash_table_iter_init (&iter, d->resolved);
        while (g_hash_table_iter_next (&iter, &host, NULL))
          {
            Lookup *lookup = g_new0 (Lookup, 1);

            lookup->task = g_object_ref (task);
            lookup->host = g_strdup (host);
            d->pending++;
            g_resolver_lookup_by_name_async (self->resolver, host, d->cancellable, resolve_cb, lookup);
          }
        if (d->pending == 0)
          discover_advance (task);
      }
      break;

    case PHASE_RESOLVE:
      d->phase = PHASE_GUESS_PROBES;
      for_each_guess (self, d, queue_guess);
      discover_advance (task);
      break;

    case PHASE_GUESS_PROBES:
      discover_finish_task (task);
      break;

    case PHASE_DONE:
    default:
      g_assert_not_reached ();
    }
}

/* The domain of @address in ASCII (IDNA), lower case; NULL when it has
 * none that could name mail servers */
static char *
address_domain (const char *address)
{
  const char *at = strrchr (address, '@');
  g_autofree char *domain = NULL;
  g_autofree char *ascii = NULL;
  gsize len;

  if (at == NULL)
    return NULL;
  domain = g_strstrip (g_strdup (at + 1));
  len = strlen (domain);
  if (len > 0 && domain[len - 1] == '.')
    domain[len - 1] = '\0';
  if (*domain == '\0' || !g_utf8_validate (domain, -1, NULL))
    return NULL;

  ascii = g_hostname_to_ascii (domain);
  if (ascii == NULL || *ascii == '\0' || *ascii == '.' || strstr (ascii, "..") != NULL ||
      g_hostname_is_ip_address (ascii))
    return NULL;
  for (const char *p = ascii; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.' && *p != '_')
      return NULL;

  return g_ascii_strdown (ascii, -1);
}

void
lb_discovery_discover_async (LbDiscovery         *self,
                             const char          *address,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *domain = NULL;
  Discover *d;

  g_return_if_fail (LB_IS_DISCOVERY (self));
  g_return_if_fail (address != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_discovery_discover_async);

  domain = address_domain (address);
  if (domain == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("“%s” is not an email address with a domain: the part after "
                                 "the @ names the mail provider, as in name@example.com"),
                               address);
      return;
    }

  d = g_new0 (Discover, 1);
  g_task_set_task_data (task, d, discover_free);
  d->domain = g_steal_pointer (&domain);
  d->cancellable = g_cancellable_new ();
  d->tried = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_server_probe_free);
  d->resolved = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&d->queue);
  d->phase = PHASE_SRV_LOOKUP;
  d->timeout = lb_connector_get_timeout (self->connector);
  if (cancellable != NULL)
    {
      d->outer = g_object_ref (cancellable);
      d->outer_id = g_cancellable_connect (cancellable, G_CALLBACK (cancel_other_cb),
                                           d->cancellable, NULL);
    }
  if (d->timeout > 0)
    d->timer = timer_new (d->timeout, discover_timeout_cb, d);

  for (guint i = 0; i < N_SERVICES; i++)
    {
      Lookup *lookup = g_new0 (Lookup, 1);

      lookup->task = g_object_ref (task);
      lookup->index = i;
      d->pending++;
      g_resolver_lookup_service_async (self->resolver, services[i].service, "tcp", d->domain,
                                       d->cancellable, srv_cb, lookup);
    }
}

LbDiscoveryResult *
lb_discovery_discover_finish (LbDiscovery   *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (LB_IS_DISCOVERY (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_discovery_discover_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
