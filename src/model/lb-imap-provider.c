/* lb-imap-provider.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-model"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lb-imap-client.h"
#include "lb-imap-provider.h"
#include "lb-local-provider.h"
#include "lb-mime-summary.h"
#include "lb-net-certificate.h"

/* LbImapProvider keeps an account's store in step with its IMAP server.
 *
 * Connections. Each is an LbImapClient on a stream from the LbConnector,
 * logged in with the password from the keyring:
 *
 *   cmd          every command the user or a sync needs: folder syncs,
 *                body fetches, the offline queue, folder changes. Its
 *                jobs run one at a time, in order: each may select
 *                another mailbox, and a job pipelines its own commands.
 *   bodies       a second command connection, opened only when a body or
 *                part is wanted while cmd is busy (a long first sync).
 *   idle_inbox   IDLE on INBOX, and idle_watch on the folder the user has
 *                open (lb_imap_provider_set_watched_folder()): a change
 *                another client makes there is announced at once, and a
 *                sync of that folder runs on cmd ~100 ms later (changes
 *                coming in a burst give one sync).
 *
 * Connections open on first use (a job waiting) or with connect(); the
 * account never goes online by itself when it is opened. With
 * #LbImapProvider:background (the default), an online provider keeps cmd
 * and the IDLE connections up: after a drop each reconnects with an
 * exponential backoff (1 s doubling to 5 min, reset on success), at once
 * when the GNetworkMonitor says the network came back, and not at all
 * while it says there is none. The other folders are polled every
 * #LbAccount:poll-minutes with LIST-STATUS (or STATUS), and those that
 * changed are synced. letterbox-cli turns background off: it wants no
 * connection beyond the one it works on.
 *
 * Changes the user makes (flags, moves, deletes, appends, expunges) go to
 * the store first, with LB_STORE_WRITE_QUEUE: the store shows them at
 * once and records them in its offline queue in the same transaction.
 * When online, the queue is then replayed on cmd right away; else it waits
 * for the next connection. Every sync replays the queue first, so a
 * server's older state never overwrites a change still on its way. The
 * replay applies operations in order, consecutive ones of one kind on one
 * folder as one command; a server's refusal (NO) is recorded on the
 * operation and the replay goes on (an operation refused three times is
 * left for the user to see); a dropped connection stops it, and the rest
 * waits for the next connection.
 *
 * Deleting: lb_provider_delete_async() deletes for good (\Deleted and UID
 * EXPUNGE of those messages only), as the local provider does;
 * lb_imap_provider_trash_async() moves to the Trash folder, and deletes
 * for good inside Trash (or without one).
 *
 * Searching: the store's full-text index knows the text of cached bodies
 * only; lb_imap_provider_search_async() asks the server (UID SEARCH TEXT
 * per word) on cmd, or on bodies while cmd is busy, folder by folder, and
 * maps the UIDs it finds to the store's keys.
 *
 * Local folders (the Outbox) are the internal LbLocalProvider's. */

#define MAX_BACKOFF_SECONDS       300
#define HEALTHY_SECONDS           60
#define NETWORK_DEBOUNCE_MS       1000
#define SYNC_DEBOUNCE_MS          100
#define MAX_OP_ATTEMPTS           3
#define OP_GROUP_MAX              500
#define APPEND_BODY_GRACE_SECONDS 60
#define MAX_POLL_MINUTES          (7 * 24 * 60)
#define SECONDS_PER_DAY           (24 * 60 * 60)
/* unused this long, a connection is checked with NOOP before a job */
#define STALE_SECONDS             120

G_DEFINE_QUARK (lb-imap-provider-error-quark, lb_imap_provider_error)

typedef enum
{
  CONN_COMMAND,
  CONN_BODIES,
  CONN_IDLE,
} ConnKind;

typedef enum
{
  JOB_CONNECT,
  JOB_SYNC,
  JOB_REPLAY,
  JOB_LIST,
  JOB_OTHER,
} JobKind;

typedef struct _Conn Conn;
typedef struct _Job Job;

typedef void (*JobRunFunc) (Job *job);

struct _Job
{
  GTask      *task;        /* the caller's; its source object is the provider */
  JobKind     kind;
  gint64      folder_id;   /* JOB_SYNC */
  JobRunFunc  run;
  Conn       *conn;        /* while it runs */
  LbImapClient *client;    /* while it runs: its connection's, kept even if it drops */
  LbImapSync *sync;
  GPtrArray  *joined;      /* JOB_REPLAY: more GTasks waiting for the same result */
};

struct _Conn
{
  int             ref_count;
  LbImapProvider *self;         /* NULL once the provider is gone */
  ConnKind        kind;
  const char     *name;         /* for the debug log */
  LbImapClient   *client;       /* NULL unless logged in */
  LbImapSync     *sync;         /* command connections */
  gulong          closed_id;
  gulong          untagged_id;
  gboolean        connecting;
  GCancellable   *cancellable;  /* of the connection attempt and of IDLE */
  GQueue          jobs;
  Job            *running;
  gint64          last_used;    /* when the last job ended (monotonic) */
  gboolean        checking;     /* a NOOP sees whether it still works */
  guint           backoff;
  guint           retry_id;
  guint           healthy_id;   /* resets the backoff if the session lasts */
  gboolean        stalled;      /* failed for good: waits for the user */
  /* IDLE connections */
  gint64          watch_id;
  char           *watch_path;
  char           *selected_path;  /* what the last EXAMINE asked for */
  gboolean        idling;
};

struct _LbImapProvider
{
  GObject          parent_instance;

  GWeakRef         account;
  LbStore         *store;
  LbSecrets       *secrets;
  LbConnector     *connector;
  GNetworkMonitor *monitor;
  gulong           network_changed_id;
  guint            network_id;     /* network-changed, debounced */
  gboolean         network_down;   /* what it said last */
  LbLocalProvider *local;

  Conn            *cmd;
  Conn            *bodies;
  Conn            *idle_inbox;
  Conn            *idle_watch;

  gboolean         online;
  gboolean         listed;          /* the folder list was read since */
  gboolean         closed;
  gboolean         background;
  gboolean         compress;
  gint64           watched_folder;

  char            *ns_prefix;       /* the personal namespace, "" or "INBOX." */

  GHashTable      *folder_ids;      /* server path -> gint64 store id */
  GHashTable      *pending_syncs;   /* gint64 -> NULL: folders to sync soon */
  guint            debounce_id;
  GHashTable      *dirty;           /* folders whose sync a dropped connection cut */
  guint            poll_id;
  guint            poll_minutes;
  char            *rejected_fingerprint;
};

static void lb_imap_provider_iface_init (LbProviderInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LbImapProvider, lb_imap_provider, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (LB_TYPE_PROVIDER,
                                                      lb_imap_provider_iface_init))

enum {
  PROP_0,
  PROP_STORE,
  PROP_CONNECTED,
  PROP_BACKGROUND,
  PROP_WATCHED_FOLDER,
  PROP_COMPRESS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SYNC_PROGRESS,
  CONNECTION_ERROR,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void conn_kick            (Conn           *conn);
static void conn_connect         (Conn           *conn);
static void conn_schedule_retry  (Conn           *conn);
static void conn_drop            (Conn           *conn);
static void idle_select          (Conn           *conn);
static void update_background    (LbImapProvider *self);
static void kick_replay          (LbImapProvider *self);
static void schedule_sync        (LbImapProvider *self,
                                  gint64          folder_id);
static void enqueue              (LbImapProvider *self,
                                  Conn           *conn,
                                  Job            *job);

/* ------------------------------------------------------------------ errors */

static gboolean
is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* The server said no to this command, for reasons of its own: another
 * try on the same connection would get the same answer. */
static gboolean
is_refusal (const GError *error)
{
  if (error->domain != LB_IMAP_ERROR)
    return FALSE;

  switch ((LbImapError) error->code)
    {
    case LB_IMAP_ERROR_NO:
    case LB_IMAP_ERROR_BAD:
    case LB_IMAP_ERROR_TRYCREATE:
    case LB_IMAP_ERROR_NONEXISTENT:
    case LB_IMAP_ERROR_NOT_SUPPORTED:
      return TRUE;

    case LB_IMAP_ERROR_AUTHENTICATION:
    case LB_IMAP_ERROR_BYE:
    case LB_IMAP_ERROR_PROTOCOL:
    case LB_IMAP_ERROR_NO_STARTTLS:
    case LB_IMAP_ERROR_STATE:
    default:
      return FALSE;
    }
}

/* A failure worth another connection later: the network or the server
 * went away. Not a refusal, a cancellation, a wrong password or a
 * certificate the user must judge. */
static gboolean
is_transient (const GError *error)
{
  if (is_cancelled (error) || is_refusal (error))
    return FALSE;
  if (error->domain == LB_IMAP_PROVIDER_ERROR || error->domain == LB_SECRETS_ERROR)
    return FALSE;
  /* a handshake cut short is the network's: EOF, MISC, HANDSHAKE, and
   * NOT_TLS too, which glib-networking reports when the peer closes before
   * it answered (a proxy or a server restarting); the backoff keeps a
   * port that really does not speak TLS cheap. A certificate to judge or
   * no TLS here at all is for the user. */
  if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE) ||
      g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_CERTIFICATE_REQUIRED) ||
      g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_UNAVAILABLE))
    return FALSE;
  if (g_error_matches (error, LB_IMAP_ERROR, LB_IMAP_ERROR_AUTHENTICATION) ||
      g_error_matches (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NO_STARTTLS))
    return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------ jobs */

static Job *
job_new (GTask      *task,
         JobKind     kind,
         JobRunFunc  run)
{
  Job *job = g_new0 (Job, 1);

  job->task = task;
  job->kind = kind;
  job->run = run;
  return job;
}

static void
job_free (Job *job)
{
  g_clear_object (&job->task);
  g_clear_object (&job->client);
  g_clear_object (&job->sync);
  g_clear_pointer (&job->joined, g_ptr_array_unref);
  g_free (job);
}

static LbImapProvider *
job_provider (Job *job)
{
  return g_task_get_source_object (job->task);
}

static GCancellable *
job_cancellable (Job *job)
{
  return g_task_get_cancellable (job->task);
}

static LbImapClient *
job_client (Job *job)
{
  return job->client;
}

static void conn_unref (Conn *conn);

/* The job's end: its conn takes the next one. The job's task may hold the
 * last reference to the provider (an account closed and dropped while the
 * job ran): the provider stays until its conn is let go, and whichever goes
 * last frees the conn. */
static void
job_done (Job *job)
{
  Conn *conn = job->conn;
  /* alive here unless gone already (NULL): held by the job's task, or by
   * whoever took the task */
  g_autoptr(LbImapProvider) self = conn->self != NULL ? g_object_ref (conn->self) : NULL;

  conn->running = NULL;
  conn->last_used = g_get_monotonic_time ();
  job_free (job);
  conn_kick (conn);
  conn_unref (conn);
}

static void
job_return_error (Job    *job,
                  GError *error)
{
  for (guint i = 0; job->joined != NULL && i < job->joined->len; i++)
    g_task_return_error (job->joined->pdata[i], g_error_copy (error));
  g_task_return_error (job->task, error);
  job_done (job);
}

static void
job_return_boolean (Job      *job,
                    gboolean  value)
{
  for (guint i = 0; job->joined != NULL && i < job->joined->len; i++)
    g_task_return_boolean (job->joined->pdata[i], value);
  g_task_return_boolean (job->task, value);
  job_done (job);
}

static void
job_return_pointer (Job            *job,
                    gpointer        value,
                    GDestroyNotify  destroy)
{
  g_task_return_pointer (job->task, value, destroy);
  job_done (job);
}

static void
job_return_int (Job    *job,
                gssize  value)
{
  g_task_return_int (job->task, value);
  job_done (job);
}

/* Fails a job that has not started. */
static void
job_fail_waiting (Job          *job,
                  const GError *error)
{
  for (guint i = 0; job->joined != NULL && i < job->joined->len; i++)
    g_task_return_error (job->joined->pdata[i], g_error_copy (error));
  g_task_return_error (job->task, g_error_copy (error));
  job_free (job);
}

/* ------------------------------------------------------------------ connections */

static Conn *
conn_new (LbImapProvider *self,
          ConnKind        kind,
          const char     *name)
{
  Conn *conn = g_new0 (Conn, 1);

  conn->ref_count = 1;
  conn->self = self;
  conn->kind = kind;
  conn->name = name;
  conn->backoff = 1;
  g_queue_init (&conn->jobs);
  return conn;
}

static Conn *
conn_ref (Conn *conn)
{
  conn->ref_count++;
  return conn;
}

static void
conn_unref (Conn *conn)
{
  if (--conn->ref_count > 0)
    return;

  g_assert (conn->running == NULL);
  g_assert (g_queue_is_empty (&conn->jobs));
  g_clear_handle_id (&conn->retry_id, g_source_remove);
  conn_drop (conn);
  g_clear_object (&conn->cancellable);
  g_free (conn->watch_path);
  g_free (conn->selected_path);
  g_free (conn);
}

static gboolean
conn_is_ready (Conn *conn)
{
  LbImapState state;

  if (conn->client == NULL)
    return FALSE;
  state = lb_imap_client_get_state (conn->client);
  return state == LB_IMAP_STATE_AUTHENTICATED || state == LB_IMAP_STATE_SELECTED;
}

/* Whether the provider keeps this connection up by itself. */
static gboolean
conn_is_wanted (Conn *conn)
{
  LbImapProvider *self = conn->self;

  if (self == NULL || !self->online || self->closed || !self->background)
    return FALSE;

  switch (conn->kind)
    {
    case CONN_COMMAND:
      return TRUE;

    case CONN_IDLE:
      return conn->watch_path != NULL;

    case CONN_BODIES:
    default:
      return FALSE;
    }
}

static void
notify_connected (LbImapProvider *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTED]);
}

/* Forgets the connection's client (closing it if still open). */
static void
conn_drop (Conn *conn)
{
  g_autoptr(LbImapClient) client = g_steal_pointer (&conn->client);

  if (client == NULL)
    return;

  g_clear_signal_handler (&conn->closed_id, client);
  g_clear_signal_handler (&conn->untagged_id, client);
  g_clear_handle_id (&conn->healthy_id, g_source_remove);
  g_clear_object (&conn->sync);
  conn->idling = FALSE;
  if (lb_imap_client_get_state (client) != LB_IMAP_STATE_LOGOUT)
    lb_imap_client_close (client);

  if (conn->self != NULL && conn->kind == CONN_COMMAND)
    notify_connected (conn->self);
}

static void
conn_fail_jobs (Conn         *conn,
                const GError *error)
{
  Job *job;

  while ((job = g_queue_pop_head (&conn->jobs)) != NULL)
    job_fail_waiting (job, error);
}

static gboolean
retry_cb (gpointer user_data)
{
  Conn *conn = user_data;

  conn->retry_id = 0;
  if (conn_is_wanted (conn) && conn->client == NULL)
    conn_connect (conn);
  return G_SOURCE_REMOVE;
}

static gboolean
host_is_loopback (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;

  if (host == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

static void network_changed_cb (GNetworkMonitor *monitor,
                                gboolean         available,
                                gpointer         user_data);

/* The default monitor is taken on first use: opening an account costs
 * nothing beyond the store. */
static GNetworkMonitor *
get_monitor (LbImapProvider *self)
{
  if (self->monitor == NULL)
    {
      self->monitor = g_object_ref (g_network_monitor_get_default ());
      self->network_changed_id = g_signal_connect (self->monitor, "network-changed",
                                                   G_CALLBACK (network_changed_cb), self);
    }
  return self->monitor;
}

static gboolean
network_available (LbImapProvider *self)
{
  g_autoptr(LbAccount) account = g_weak_ref_get (&self->account);

  if (account != NULL && host_is_loopback (lb_account_get_incoming_host (account)))
    return TRUE;
  return g_network_monitor_get_network_available (get_monitor (self));
}

static void
conn_schedule_retry (Conn *conn)
{
  if (!conn_is_wanted (conn) || conn->retry_id != 0 || conn->client != NULL || conn->connecting)
    return;

  /* the network monitor calls us back when there is a network again */
  if (!network_available (conn->self))
    return;

  g_debug ("%s: reconnecting in %u s", conn->name, conn->backoff);
  conn->retry_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, conn->backoff, retry_cb,
                                               conn_ref (conn), (GDestroyNotify) conn_unref);
  conn->backoff = MIN (conn->backoff * 2, MAX_BACKOFF_SECONDS);
}

static void
closed_cb (LbImapClient *client,
           GError       *error,
           gpointer      user_data)
{
  Conn *conn = user_data;

  if (conn->client != client)
    return;

  g_debug ("%s: connection closed: %s", conn->name, error != NULL ? error->message : "logged out");
  conn_drop (conn);
  conn_schedule_retry (conn);
}

static gboolean
is_change (LbImapResponse *response)
{
  return (response->kind == LB_IMAP_RESPONSE_UNTAGGED &&
          (response->data == LB_IMAP_DATA_EXISTS ||
           response->data == LB_IMAP_DATA_EXPUNGE ||
           response->data == LB_IMAP_DATA_VANISHED ||
           response->data == LB_IMAP_DATA_FETCH));
}

/* What no command of ours claimed on a command connection: another
 * client's change to the selected mailbox, reported along the way. The
 * folder is synced after the jobs already waiting. */
static void
cmd_untagged_cb (LbImapClient   *client,
                 LbImapResponse *response,
                 gpointer        user_data)
{
  Conn *conn = user_data;
  const LbImapMailboxInfo *selected;
  gint64 *folder_id;

  if (conn->self == NULL || !is_change (response) || response->data == LB_IMAP_DATA_FETCH)
    return;

  selected = lb_imap_client_get_selected (client);
  if (selected == NULL || selected->mailbox == NULL)
    return;

  folder_id = g_hash_table_lookup (conn->self->folder_ids, selected->mailbox);
  if (folder_id != NULL)
    schedule_sync (conn->self, *folder_id);
}

/* ---- connecting ---- */

typedef struct
{
  int            ref_count;
  Conn          *conn;
  GCancellable  *cancellable;
  char          *host;
  guint16        port;
  LbNetSecurity  security;
  char          *user;
  char          *account_id;
  LbImapClient  *client;
  char          *password;
  gboolean       have_password;
  gboolean       waiting_password;
  gboolean       done;
  GError        *password_error;
  guint          pending;
  GError        *pending_error;
} ConnectOp;

static ConnectOp *
connect_op_ref (ConnectOp *op)
{
  op->ref_count++;
  return op;
}

static void
connect_op_unref (ConnectOp *op)
{
  if (--op->ref_count > 0)
    return;

  conn_unref (op->conn);
  g_clear_object (&op->cancellable);
  g_free (op->host);
  g_free (op->user);
  g_free (op->account_id);
  g_clear_object (&op->client);
  g_clear_pointer (&op->password, lb_secrets_password_free);
  g_clear_error (&op->password_error);
  g_clear_error (&op->pending_error);
  g_free (op);
}

static void
connect_fail (ConnectOp *op,
              GError    *error)
{
  Conn *conn = op->conn;
  LbImapProvider *self = conn->self;

  if (op->done)
    {
      g_error_free (error);
      return;
    }
  op->done = TRUE;
  conn->connecting = FALSE;
  g_clear_pointer (&op->password, lb_secrets_password_free);
  if (op->client != NULL && lb_imap_client_get_state (op->client) != LB_IMAP_STATE_LOGOUT)
    lb_imap_client_close (op->client);

  g_debug ("%s: could not connect: %s", conn->name, error->message);

  /* the connector's message names it; the user may pin it */
  if (self != NULL && g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
    {
      g_autoptr(GTlsCertificate) rejected = lb_connector_dup_rejected_certificate (self->connector, op->host,
                                                                                   op->port, NULL);

      if (rejected != NULL)
        {
          g_free (self->rejected_fingerprint);
          self->rejected_fingerprint = lb_net_certificate_fingerprint (rejected);
        }
    }

  if (self != NULL && !is_cancelled (error))
    g_signal_emit (self, signals[CONNECTION_ERROR], 0, error);

  conn_fail_jobs (conn, error);
  if (is_transient (error))
    conn_schedule_retry (conn);
  else if (!is_cancelled (error))
    conn->stalled = TRUE;
  g_error_free (error);
}

/* Whether the connection attempt is still wanted; if not, it ended. */
static gboolean
connect_stopped (ConnectOp *op)
{
  GError *error = NULL;

  if (op->done)
    return TRUE;
  if (op->conn->self == NULL)
    {
      connect_fail (op, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                             _("The account was closed")));
      return TRUE;
    }
  if (g_cancellable_set_error_if_cancelled (op->cancellable, &error))
    {
      connect_fail (op, error);
      return TRUE;
    }
  return FALSE;
}

/* The session lasted: the next drop is retried at once again. */
static gboolean
healthy_cb (gpointer user_data)
{
  Conn *conn = user_data;

  conn->healthy_id = 0;
  if (conn->client != NULL)
    conn->backoff = 1;
  return G_SOURCE_REMOVE;
}

static void
connect_succeeded (ConnectOp *op)
{
  Conn *conn = op->conn;
  LbImapProvider *self = conn->self;

  op->done = TRUE;
  conn->connecting = FALSE;
  conn->stalled = FALSE;
  /* not at once: a link that drops each session right after the login
   * would be retried every second for ever */
  g_clear_handle_id (&conn->healthy_id, g_source_remove);
  conn->healthy_id = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, HEALTHY_SECONDS, healthy_cb,
                                                 conn_ref (conn), (GDestroyNotify) conn_unref);
  g_clear_handle_id (&conn->retry_id, g_source_remove);
  conn->client = g_steal_pointer (&op->client);
  conn->last_used = g_get_monotonic_time ();
  conn->closed_id = g_signal_connect (conn->client, "closed", G_CALLBACK (closed_cb), conn);
  g_debug ("%s: logged in to %s", conn->name, op->host);

  if (conn->kind != CONN_IDLE)
    {
      conn->sync = lb_imap_sync_new (conn->client, self->store);
      conn->untagged_id = g_signal_connect (conn->client, "untagged", G_CALLBACK (cmd_untagged_cb), conn);
    }

  /* first use (a job waited for it): the account is online now */
  if (!self->online && !g_queue_is_empty (&conn->jobs))
    {
      self->online = TRUE;
      if (conn->kind != CONN_COMMAND)
        update_background (self);
    }

  if (conn->kind == CONN_COMMAND)
    {
      GHashTableIter iter;
      gpointer key;

      notify_connected (self);
      /* what waited for a connection: the queue first (a folder list
       * must not prune what it still uploads to), interrupted syncs */
      kick_replay (self);
      g_hash_table_iter_init (&iter, self->dirty);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        schedule_sync (self, *(gint64 *) key);
      /* at each login: a folder list that failed before is tried again,
       * and IDLE starts once it tells which folder INBOX is */
      update_background (self);
    }
  else if (conn->kind == CONN_IDLE)
    {
      idle_select (conn);
    }

  conn_kick (conn);
}

static void
compress_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  ConnectOp *op = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_imap_client_compress_finish (LB_IMAP_CLIENT (object), result, &error) &&
      error != NULL && !connect_stopped (op))
    {
      if (!is_refusal (error))
        {
          connect_fail (op, g_steal_pointer (&error));
          connect_op_unref (op);
          return;
        }
      g_debug ("%s: the server refused COMPRESS: %s", op->conn->name, error->message);
    }

  if (!connect_stopped (op))
    connect_succeeded (op);
  connect_op_unref (op);
}

/* Compressing costs CPU on both sides: it pays on a slow link, and
 * never with a server on this machine (a local Dovecot, or a bridge such
 * as ProtonMail's), where it made a header sync twice as long. */
static gboolean
compress_pays (LbImapProvider *self)
{
  g_autoptr(LbAccount) account = g_weak_ref_get (&self->account);

  return self->compress &&
         !(account != NULL && host_is_loopback (lb_account_get_incoming_host (account)));
}

static void
setup_done (ConnectOp *op)
{
  LbImapProvider *self = op->conn->self;

  if (--op->pending > 0)
    return;

  if (connect_stopped (op))
    return;

  if (op->pending_error != NULL)
    {
      connect_fail (op, g_steal_pointer (&op->pending_error));
      return;
    }

  if (compress_pays (self) && lb_imap_client_has_capability (op->client, "COMPRESS=DEFLATE"))
    {
      lb_imap_client_compress_async (op->client, op->cancellable, compress_cb, connect_op_ref (op));
      return;
    }

  connect_succeeded (op);
}

/* The optional steps (ID, ENABLE, NAMESPACE) may fail with the server's
 * refusal; only a dropped connection stops the login. */
static void
setup_step_failed (ConnectOp  *op,
                   const char *what,
                   GError     *error)
{
  if (error == NULL)
    return;
  if (is_refusal (error))
    {
      g_debug ("%s: the server refused %s: %s", op->conn->name, what, error->message);
      g_error_free (error);
      return;
    }
  if (op->pending_error == NULL)
    op->pending_error = error;
  else
    g_error_free (error);
}

static void
id_cb (GObject      *object,
       GAsyncResult *result,
       gpointer      user_data)
{
  ConnectOp *op = user_data;
  g_auto(GStrv) server = NULL;
  GError *error = NULL;

  server = lb_imap_client_id_finish (LB_IMAP_CLIENT (object), result, &error);
  setup_step_failed (op, "ID", error);
  setup_done (op);
  connect_op_unref (op);
}

static void
enable_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  ConnectOp *op = user_data;
  g_auto(GStrv) enabled = NULL;
  GError *error = NULL;

  enabled = lb_imap_client_enable_finish (LB_IMAP_CLIENT (object), result, &error);
  setup_step_failed (op, "ENABLE", error);
  setup_done (op);
  connect_op_unref (op);
}

static void
namespace_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  ConnectOp *op = user_data;
  g_autoptr(LbImapResponse) response = NULL;
  GError *error = NULL;
  LbImapProvider *self = op->conn->self;

  response = lb_imap_client_namespace_finish (LB_IMAP_CLIENT (object), result, &error);
  setup_step_failed (op, "NAMESPACE", error);

  if (self != NULL && response != NULL && response->namespaces[0] != NULL &&
      response->namespaces[0]->len > 0)
    {
      const LbImapNamespaceEntry *personal = response->namespaces[0]->pdata[0];
      char *prefix = NULL;

      if (personal->prefix != NULL && g_utf8_validate (personal->prefix, -1, NULL))
        prefix = g_strdup (personal->prefix);
      g_free (self->ns_prefix);
      self->ns_prefix = prefix != NULL ? prefix : g_strdup ("");
    }

  setup_done (op);
  connect_op_unref (op);
}

static void
capability_then (ConnectOp *op,
                 GAsyncReadyCallback callback);

static void
after_login (ConnectOp *op)
{
  static const char * const extensions[] = { "CONDSTORE", "QRESYNC", "UTF8=ACCEPT", NULL };
  const char * const id_params[] = { "name", PACKAGE_NAME, "version", PACKAGE_VERSION, NULL };

  /* pipelined: one round trip for all three */
  op->pending = 1;
  if (lb_imap_client_has_capability (op->client, "ID"))
    {
      op->pending++;
      lb_imap_client_id_async (op->client, id_params, op->cancellable, id_cb, connect_op_ref (op));
    }
  if (lb_imap_client_has_capability (op->client, "ENABLE"))
    {
      op->pending++;
      lb_imap_client_enable_async (op->client, extensions, op->cancellable, enable_cb, connect_op_ref (op));
    }
  if (lb_imap_client_has_capability (op->client, "NAMESPACE"))
    {
      op->pending++;
      lb_imap_client_namespace_async (op->client, op->cancellable, namespace_cb, connect_op_ref (op));
    }
  setup_done (op);
}

static gboolean
capabilities_known (LbImapClient *client)
{
  g_auto(GStrv) caps = lb_imap_client_dup_capabilities (client);

  return caps != NULL && caps[0] != NULL;
}

static void
post_login_capability_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  ConnectOp *op = user_data;
  GError *error = NULL;

  if (!lb_imap_client_capability_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      if (!connect_stopped (op))
        connect_fail (op, error);
      else
        g_error_free (error);
      connect_op_unref (op);
      return;
    }
  if (!connect_stopped (op))
    after_login (op);
  connect_op_unref (op);
}

static void
login_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  ConnectOp *op = user_data;
  GError *error = NULL;

  g_clear_pointer (&op->password, lb_secrets_password_free);
  if (!lb_imap_client_login_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      if (!connect_stopped (op))
        {
          if (!is_cancelled (error))
            g_prefix_error (&error, _("Could not log in to %s as %s: "), op->host, op->user);
          connect_fail (op, error);
        }
      else
        g_error_free (error);
      connect_op_unref (op);
      return;
    }

  if (!connect_stopped (op))
    {
      /* a server may offer more once logged in; most say so in the OK */
      if (capabilities_known (op->client))
        after_login (op);
      else
        capability_then (op, post_login_capability_cb);
    }
  connect_op_unref (op);
}

static void
login (ConnectOp *op)
{
  if (connect_stopped (op))
    return;

  if (!op->have_password)
    {
      op->waiting_password = TRUE;
      return;
    }
  op->waiting_password = FALSE;

  if (op->password_error != NULL)
    {
      connect_fail (op, g_steal_pointer (&op->password_error));
      return;
    }
  if (op->password == NULL)
    {
      connect_fail (op, g_error_new (LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_NO_PASSWORD,
                                     _("Could not log in to %s: no password for %s is saved in the keyring"),
                                     op->host, op->user));
      return;
    }

  lb_imap_client_login_async (op->client, op->user, op->password, op->cancellable,
                              login_cb, connect_op_ref (op));
}

static void
password_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  ConnectOp *op = user_data;
  GError *error = NULL;

  op->password = lb_secrets_lookup_finish (LB_SECRETS (object), result, &error);
  op->password_error = error;
  op->have_password = TRUE;

  if (op->done)
    g_clear_pointer (&op->password, lb_secrets_password_free);
  else if (op->waiting_password)
    login (op);
  connect_op_unref (op);
}

static void
ready_to_login (ConnectOp *op)
{
  if (lb_imap_client_get_state (op->client) == LB_IMAP_STATE_AUTHENTICATED)
    {
      /* PREAUTH: no password wanted */
      after_login (op);
      return;
    }
  login (op);
}

static void
pre_login_capability_cb (GObject      *object,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  ConnectOp *op = user_data;
  GError *error = NULL;

  if (!lb_imap_client_capability_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      if (!connect_stopped (op))
        connect_fail (op, error);
      else
        g_error_free (error);
      connect_op_unref (op);
      return;
    }
  if (!connect_stopped (op))
    ready_to_login (op);
  connect_op_unref (op);
}

static void
capability_then (ConnectOp           *op,
                 GAsyncReadyCallback  callback)
{
  lb_imap_client_capability_async (op->client, op->cancellable, callback, connect_op_ref (op));
}

static void
starttls_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  ConnectOp *op = user_data;
  GError *error = NULL;

  if (!lb_imap_client_starttls_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      /* never on in plain text: the error ends the attempt */
      if (!connect_stopped (op))
        {
          if (g_error_matches (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NO_STARTTLS))
            {
              g_clear_error (&error);
              error = g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_NO_STARTTLS,
                                   _("Could not connect to %s securely: the server does not offer STARTTLS, "
                                     "and Letterbox does not go on without encryption. Choose TLS, or ask "
                                     "the server’s administrator."),
                                   op->host);
            }
          connect_fail (op, error);
        }
      else
        g_error_free (error);
      connect_op_unref (op);
      return;
    }

  if (!connect_stopped (op))
    {
      if (capabilities_known (op->client))
        ready_to_login (op);
      else
        capability_then (op, pre_login_capability_cb);
    }
  connect_op_unref (op);
}

static void
starttls_capability_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  ConnectOp *op = user_data;
  GError *error = NULL;

  if (!lb_imap_client_capability_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      if (!connect_stopped (op))
        connect_fail (op, error);
      else
        g_error_free (error);
      connect_op_unref (op);
      return;
    }
  if (!connect_stopped (op))
    lb_imap_client_starttls_async (op->client, op->conn->self->connector, op->host, op->port,
                                   op->cancellable, starttls_cb, connect_op_ref (op));
  connect_op_unref (op);
}

static void
greet_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  ConnectOp *op = user_data;
  GError *error = NULL;

  if (!lb_imap_client_greet_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      if (!connect_stopped (op))
        {
          if (!is_cancelled (error))
            g_prefix_error (&error, _("Could not connect to %s: "), op->host);
          connect_fail (op, error);
        }
      else
        g_error_free (error);
      connect_op_unref (op);
      return;
    }
  if (connect_stopped (op))
    {
      connect_op_unref (op);
      return;
    }

  if (op->security == LB_NET_SECURITY_STARTTLS)
    {
      if (capabilities_known (op->client))
        lb_imap_client_starttls_async (op->client, op->conn->self->connector, op->host, op->port,
                                       op->cancellable, starttls_cb, connect_op_ref (op));
      else
        capability_then (op, starttls_capability_cb);
    }
  else if (capabilities_known (op->client))
    ready_to_login (op);
  else
    capability_then (op, pre_login_capability_cb);

  connect_op_unref (op);
}

static void
stream_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  ConnectOp *op = user_data;
  g_autoptr(GIOStream) stream = NULL;
  GError *error = NULL;

  stream = lb_connector_connect_finish (LB_CONNECTOR (object), result, &error);
  if (stream == NULL)
    {
      if (!connect_stopped (op))
        {
          connect_fail (op, error);
        }
      else
        g_error_free (error);
      connect_op_unref (op);
      return;
    }
  if (connect_stopped (op))
    {
      connect_op_unref (op);
      return;
    }

  op->client = lb_imap_client_new (stream);
  lb_imap_client_greet_async (op->client, op->cancellable, greet_cb, connect_op_ref (op));
  connect_op_unref (op);
}

static void
conn_connect (Conn *conn)
{
  LbImapProvider *self = conn->self;
  g_autoptr(LbAccount) account = NULL;
  ConnectOp *op;
  LbSecretKey key = { NULL, };

  if (self == NULL || conn->connecting || conn->client != NULL)
    return;
  g_clear_handle_id (&conn->retry_id, g_source_remove);

  account = g_weak_ref_get (&self->account);
  if (account == NULL || self->closed)
    {
      GError *error = g_error_new_literal (LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_ACCOUNT_GONE,
                                           _("The account was removed"));

      conn_fail_jobs (conn, error);
      g_error_free (error);
      return;
    }

  op = g_new0 (ConnectOp, 1);
  op->ref_count = 1;
  op->conn = conn_ref (conn);
  op->host = g_strdup (lb_account_get_incoming_host (account));
  op->port = lb_account_get_effective_incoming_port (account);
  op->security = lb_account_get_incoming_security (account);
  op->user = g_strdup (lb_account_get_incoming_user (account));
  if (op->user == NULL)
    {
      LbIdentity *identity = lb_account_get_default_identity (account);

      op->user = g_strdup (identity != NULL ? lb_identity_get_address (identity) : "");
    }
  op->account_id = g_strdup (lb_account_get_id (account));

  g_clear_object (&conn->cancellable);
  conn->cancellable = g_cancellable_new ();
  op->cancellable = g_object_ref (conn->cancellable);
  conn->connecting = TRUE;

  /* the password never travels in clear text without the user's word */
  if (op->security == LB_NET_SECURITY_NONE && !lb_account_get_allow_plaintext_password (account))
    {
      connect_fail (op, g_error_new (LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_PLAINTEXT_REFUSED,
                                     _("Letterbox did not log in to %s: the connection would not be "
                                       "encrypted, and anyone on the network could read the password. "
                                       "Choose TLS or STARTTLS, or allow sending the password "
                                       "unencrypted in the account’s settings."),
                                     op->host));
      connect_op_unref (op);
      return;
    }

  get_monitor (self);
  g_debug ("%s: connecting to %s port %u", conn->name, op->host, op->port);
  /* the certificates the user accepted after seeing their fingerprint */
  {
    g_auto(GStrv) trusted = lb_account_dup_trusted_certificates (account);

    lb_connector_set_pinned_fingerprints (self->connector, (const char * const *) trusted);
  }

  key.account_id = op->account_id;
  key.protocol = "imap";
  key.host = op->host;
  key.user = op->user;
  lb_secrets_lookup_async (self->secrets, &key, op->cancellable, password_cb, connect_op_ref (op));
  lb_connector_connect_async (self->connector, op->host, op->port, op->security, op->cancellable,
                              stream_cb, op);
}

static void
noop_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Conn *conn = user_data;
  g_autoptr(GError) error = NULL;

  conn->checking = FALSE;
  if (!lb_imap_client_noop_finish (LB_IMAP_CLIENT (object), result, &error) &&
      conn->client == LB_IMAP_CLIENT (object))
    {
      g_debug ("%s: the connection went stale: %s", conn->name, error->message);
      conn_drop (conn);
    }
  conn->last_used = g_get_monotonic_time ();
  conn_kick (conn);
  conn_unref (conn);
}

/* Starts the next job when the connection is ready, connecting first. */
static void
conn_kick (Conn *conn)
{
  Job *job;
  GError *error = NULL;

  if (conn->running != NULL || conn->checking || g_queue_is_empty (&conn->jobs))
    return;

  if (!conn_is_ready (conn))
    {
      if (conn->client != NULL)
        conn_drop (conn);
      conn_connect (conn);
      return;
    }

  /* The client reads only while a command waits: a server that closed a
   * connection left unused for long is noticed here, not by the job. */
  if (g_get_monotonic_time () - conn->last_used > STALE_SECONDS * G_USEC_PER_SEC)
    {
      conn->checking = TRUE;
      lb_imap_client_noop_async (conn->client, NULL, noop_cb, conn_ref (conn));
      return;
    }

  job = g_queue_pop_head (&conn->jobs);
  if (g_cancellable_set_error_if_cancelled (job_cancellable (job), &error))
    {
      job_fail_waiting (job, error);
      g_error_free (error);
      conn_kick (conn);
      return;
    }

  conn->running = job;
  job->conn = conn_ref (conn);
  job->client = g_object_ref (conn->client);
  job->sync = conn->sync != NULL ? g_object_ref (conn->sync) : NULL;
  job->run (job);
}

static void
enqueue (LbImapProvider *self,
         Conn           *conn,
         Job            *job)
{
  if (self->closed)
    {
      GError *error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED, _("The account was closed"));

      job_fail_waiting (job, error);
      g_error_free (error);
      return;
    }

  g_queue_push_tail (&conn->jobs, job);
  conn_kick (conn);
}

/* For a body or a part: cmd when it is free, else the second connection,
 * so opening a message does not wait for a long sync (or anything else). */
static Conn *
fetch_conn (LbImapProvider *self)
{
  if (self->cmd->running == NULL && g_queue_is_empty (&self->cmd->jobs))
    return self->cmd;
  return self->bodies;
}

static void
conn_shutdown (Conn         *conn,
               const GError *error)
{
  g_clear_handle_id (&conn->retry_id, g_source_remove);
  g_cancellable_cancel (conn->cancellable);
  conn_fail_jobs (conn, error);
  conn_drop (conn);
}

/* ------------------------------------------------------------------ folders by path */

static void
remember_folder (LbImapProvider     *self,
                 const LbFolderInfo *info)
{
  if (info->local)
    return;
  g_hash_table_insert (self->folder_ids, g_strdup (info->path), g_memdup2 (&info->id, sizeof info->id));
}

static const char *
folder_path_of (LbImapProvider *self,
                gint64          folder_id)
{
  GHashTableIter iter;
  gpointer path, id;

  g_hash_table_iter_init (&iter, self->folder_ids);
  while (g_hash_table_iter_next (&iter, &path, &id))
    if (*(gint64 *) id == folder_id)
      return path;
  return NULL;
}

static gint64
inbox_id (LbImapProvider *self,
          const char    **path)
{
  GHashTableIter iter;
  gpointer key, id;

  g_hash_table_iter_init (&iter, self->folder_ids);
  while (g_hash_table_iter_next (&iter, &key, &id))
    if (g_ascii_strcasecmp (key, "INBOX") == 0)
      {
        *path = key;
        return *(gint64 *) id;
      }
  *path = NULL;
  return 0;
}

/* ------------------------------------------------------------------ IDLE */

static gboolean
idle_untagged (LbImapClient   *client,
               LbImapResponse *response,
               gpointer        user_data)
{
  Conn *conn = user_data;

  if (!is_change (response))
    return FALSE;

  if (conn->self != NULL && conn->watch_id != 0)
    {
      g_debug ("%s: %s changed", conn->name, conn->watch_path);
      schedule_sync (conn->self, conn->watch_id);
    }
  return TRUE;
}

static void
idle_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Conn *conn = user_data;
  LbImapClient *client = LB_IMAP_CLIENT (object);
  g_autoptr(GError) error = NULL;

  lb_imap_client_idle_finish (client, result, &error);
  if (conn->self == NULL || conn->client != client)
    {
      conn_unref (conn);
      return;
    }
  conn->idling = FALSE;

  if (error != NULL)
    {
      if (!is_cancelled (error))
        {
          g_debug ("%s: IDLE ended: %s", conn->name, error->message);
          if (g_error_matches (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NOT_SUPPORTED))
            {
              /* the poll looks at the folder instead */
              g_clear_pointer (&conn->watch_path, g_free);
              conn->watch_id = 0;
            }
          conn_drop (conn);
          conn_schedule_retry (conn);
        }
      conn_unref (conn);
      return;
    }

  /* ended by us: another folder to watch, or none */
  if (conn->watch_path != NULL)
    idle_select (conn);
  else
    conn_drop (conn);
  conn_unref (conn);
}

static void
idle_selected_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Conn *conn = user_data;
  LbImapClient *client = LB_IMAP_CLIENT (object);
  g_autoptr(LbImapMailboxInfo) info = NULL;
  g_autoptr(GError) error = NULL;

  info = lb_imap_client_select_finish (client, result, &error);
  if (conn->self == NULL || conn->client != client)
    {
      conn_unref (conn);
      return;
    }

  if (info == NULL)
    {
      if (!is_cancelled (error))
        {
          g_debug ("%s: could not select %s: %s", conn->name, conn->watch_path, error->message);
          if (is_refusal (error))
            {
              /* gone from the server: the folder list learns it */
              g_clear_pointer (&conn->watch_path, g_free);
              conn->watch_id = 0;
            }
          conn_drop (conn);
          conn_schedule_retry (conn);
        }
      conn_unref (conn);
      return;
    }

  if (conn->watch_path == NULL)
    {
      conn_drop (conn);
      conn_unref (conn);
      return;
    }
  if (g_strcmp0 (conn->selected_path, conn->watch_path) != 0)
    {
      /* the folder to watch changed while this one was selected */
      idle_select (conn);
      conn_unref (conn);
      return;
    }

  /* whatever changed while nobody watched */
  schedule_sync (conn->self, conn->watch_id);

  conn->idling = TRUE;
  lb_imap_client_idle_async (client, idle_untagged, conn, conn->cancellable, idle_done_cb, conn);
}

static void
idle_select (Conn *conn)
{
  if (!conn_is_ready (conn) || conn->watch_path == NULL)
    return;

  g_free (conn->selected_path);
  conn->selected_path = g_strdup (conn->watch_path);
  lb_imap_client_select_async (conn->client, conn->watch_path, TRUE, NULL, NULL, NULL,
                               conn->cancellable, idle_selected_cb, conn_ref (conn));
}

/* Points an IDLE connection at a folder (or at none). */
static void
idle_watch (Conn       *conn,
            gint64      folder_id,
            const char *path)
{
  if (conn->watch_id == folder_id && g_strcmp0 (conn->watch_path, path) == 0 &&
      (path == NULL || conn->client != NULL || conn->connecting || conn->retry_id != 0))
    return;

  conn->watch_id = path != NULL ? folder_id : 0;
  g_free (conn->watch_path);
  conn->watch_path = g_strdup (path);

  if (path == NULL)
    {
      g_clear_handle_id (&conn->retry_id, g_source_remove);
      if (conn->idling)
        lb_imap_client_idle_done (conn->client);
      else
        conn_drop (conn);
      return;
    }

  if (conn->idling)
    lb_imap_client_idle_done (conn->client);   /* idle_done_cb selects the new one */
  else if (conn->client == NULL && !conn->connecting)
    conn_connect (conn);
}

/* ------------------------------------------------------------------ background */

static void sync_bg_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data);

static gboolean
sync_is_waiting (Conn   *conn,
                 gint64  folder_id)
{
  for (GList *l = conn->jobs.head; l != NULL; l = l->next)
    {
      Job *job = l->data;

      if (job->kind == JOB_SYNC && job->folder_id == folder_id)
        return TRUE;
    }
  return FALSE;
}

static gboolean
debounce_cb (gpointer user_data)
{
  LbImapProvider *self = user_data;
  g_autoptr(GList) ids = g_hash_table_get_keys (self->pending_syncs);

  self->debounce_id = 0;
  for (GList *l = ids; l != NULL && self->online; l = l->next)
    {
      gint64 folder_id = *(gint64 *) l->data;

      if (!sync_is_waiting (self->cmd, folder_id))
        lb_imap_provider_sync_folder_async (self, folder_id, NULL, sync_bg_cb, NULL);
    }
  g_hash_table_remove_all (self->pending_syncs);
  return G_SOURCE_REMOVE;
}

/* Syncs the folder soon, when the provider is online in the background:
 * a burst of changes gives one sync. */
static void
schedule_sync (LbImapProvider *self,
               gint64          folder_id)
{
  /* only what an online provider does by itself */
  if (folder_id <= 0 || self->closed || !self->online || !self->background)
    return;

  g_hash_table_add (self->pending_syncs, g_memdup2 (&folder_id, sizeof folder_id));
  if (self->debounce_id == 0)
    self->debounce_id = g_timeout_add (SYNC_DEBOUNCE_MS, debounce_cb, self);
}

static void list_bg_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data);
static void list_folders_internal (LbImapProvider      *self,
                                   gboolean             poll,
                                   gboolean             background,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);

static guint
account_poll_minutes (LbImapProvider *self)
{
  g_autoptr(LbAccount) account = g_weak_ref_get (&self->account);

  return account != NULL ? MIN (lb_account_get_poll_minutes (account), MAX_POLL_MINUTES) : 0;
}

static gboolean
poll_cb (gpointer user_data)
{
  LbImapProvider *self = user_data;
  guint minutes = account_poll_minutes (self);

  g_debug ("Polling the folders of the account");
  list_folders_internal (self, TRUE, TRUE, NULL, list_bg_cb, NULL);

  if (minutes != self->poll_minutes)
    {
      /* the setting changed: the next poll follows it */
      self->poll_id = 0;
      update_background (self);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* Starts or stops what an online provider does by itself: IDLE on INBOX
 * and on the watched folder, the poll of the others. */
static void
update_background (LbImapProvider *self)
{
  gboolean active = self->online && self->background && !self->closed;
  const char *inbox_path = NULL;
  gint64 inbox = 0;
  const char *watched_path = NULL;
  guint minutes;

  if (!active)
    {
      g_clear_handle_id (&self->poll_id, g_source_remove);
      idle_watch (self->idle_inbox, 0, NULL);
      idle_watch (self->idle_watch, 0, NULL);
      return;
    }

  minutes = account_poll_minutes (self);
  if (minutes != self->poll_minutes || minutes == 0)
    g_clear_handle_id (&self->poll_id, g_source_remove);
  self->poll_minutes = minutes;
  if (self->poll_id == 0 && minutes > 0)
    self->poll_id = g_timeout_add_seconds (minutes * 60, poll_cb, self);

  inbox = inbox_id (self, &inbox_path);
  if (inbox == 0 && !self->listed)
    {
      /* the folder list first: it tells which folder INBOX is */
      list_folders_internal (self, FALSE, TRUE, NULL, list_bg_cb, NULL);
      return;
    }
  idle_watch (self->idle_inbox, inbox, inbox_path);

  if (self->watched_folder != inbox)
    watched_path = folder_path_of (self, self->watched_folder);
  idle_watch (self->idle_watch, self->watched_folder, watched_path);

  if (!conn_is_ready (self->cmd))
    conn_connect (self->cmd);
}

/* The network settled (no change for a second): what is down connects
 * now, with a fresh backoff if the network was gone, else with the one it
 * had (a monitor that reports a change every few seconds must not make a
 * storm of a server that drops us). */
static gboolean
network_settled_cb (gpointer user_data)
{
  LbImapProvider *self = user_data;
  Conn *conns[] = { self->cmd, self->idle_inbox, self->idle_watch };
  gboolean was_down = self->network_down;

  self->network_id = 0;
  self->network_down = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (conns); i++)
    {
      Conn *conn = conns[i];

      if (!conn_is_wanted (conn) || conn->client != NULL || conn->connecting || conn->stalled)
        continue;
      g_clear_handle_id (&conn->retry_id, g_source_remove);
      if (was_down)
        conn->backoff = 1;
      conn_connect (conn);
    }
  return G_SOURCE_REMOVE;
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    gpointer         user_data)
{
  LbImapProvider *self = user_data;
  Conn *conns[] = { self->cmd, self->idle_inbox, self->idle_watch };

  available = available || network_available (self);
  g_debug ("The network is %s", available ? "available" : "gone");

  g_clear_handle_id (&self->network_id, g_source_remove);
  if (!available)
    {
      /* no retries until it is back */
      self->network_down = TRUE;
      for (guint i = 0; i < G_N_ELEMENTS (conns); i++)
        g_clear_handle_id (&conns[i]->retry_id, g_source_remove);
      return;
    }
  self->network_id = g_timeout_add (NETWORK_DEBOUNCE_MS, network_settled_cb, self);
}

/* ------------------------------------------------------------------ the offline queue */

typedef struct
{
  Conn             *conn;         /* ref */
  LbImapClient     *client;       /* the connection's when the replay began */
  LbImapSync       *sync;
  GPtrArray        *ops;          /* LbStoreOp, in replay order */
  guint             next;         /* the first operation of the group */
  guint             end;          /* the group is ops[next, end) */
  GHashTable       *paths;        /* gint64 folder id -> its path */
  GArray           *uids;         /* guint32, one per operation of the group */
  guint             pending;      /* commands or store writes in flight */
  GError           *error;        /* what stops the replay */
  char             *refusal;      /* the server's refusal of the group */
  GHashTable       *moved;        /* MOVE: old uid -> new uid */
  LbMessageSummary *summary;      /* APPEND: the message */
  GBytes           *raw;          /* APPEND: its bytes */
  GArray           *found;        /* APPEND: UIDs with its Message-ID */
  GHashTable       *sizes;        /* APPEND: those of them of its size */
  GError           *refused;      /* the first refusal of a change new here */
} Replay;

static void
replay_free (Replay *r)
{
  conn_unref (r->conn);
  g_clear_object (&r->client);
  g_clear_object (&r->sync);
  g_clear_pointer (&r->ops, g_ptr_array_unref);
  g_clear_pointer (&r->paths, g_hash_table_unref);
  g_clear_pointer (&r->uids, g_array_unref);
  g_clear_error (&r->error);
  g_free (r->refusal);
  g_clear_pointer (&r->moved, g_hash_table_unref);
  g_clear_pointer (&r->summary, lb_message_summary_unref);
  g_clear_pointer (&r->raw, g_bytes_unref);
  g_clear_pointer (&r->found, g_array_unref);
  g_clear_pointer (&r->sizes, g_hash_table_unref);
  g_clear_error (&r->refused);
  g_free (r);
}

static LbStoreOp *
replay_op (Replay *r,
           guint   i)
{
  return r->ops->pdata[i];
}

/* The store's id of the server folder @path, 0 if unknown. */
static gint64
replay_folder_id (Replay     *r,
                  const char *path)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, r->paths);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (g_strcmp0 (value, path) == 0)
      return *(gint64 *) key;
  return 0;
}

/* Whether the server takes UID EXPUNGE (RFC 4315, IMAP4rev2). */
static gboolean
has_uid_expunge (LbImapClient *client)
{
  return lb_imap_client_has_capability (client, "UIDPLUS") ||
         lb_imap_client_has_capability (client, "IMAP4rev2");
}

static void replay_next      (GTask *task);
static void replay_end_group (GTask *task);

/* Stops the replay; the operations not done stay queued. */
static void
replay_stop (GTask  *task,
             GError *error)
{
  Replay *r = g_task_get_task_data (task);

  if (!is_cancelled (error))
    g_prefix_error (&error, _("Could not apply the changes made here to the server: "));
  g_clear_error (&r->error);
  g_task_return_error (task, error);
  g_object_unref (task);
}

/* A failed command: a refusal is the group's outcome, anything else
 * stops the replay. Returns whether the replay goes on. */
static gboolean
replay_command_failed (GTask  *task,
                       GError *error)
{
  Replay *r = g_task_get_task_data (task);

  if (is_refusal (error))
    {
      if (r->refusal == NULL)
        r->refusal = g_strdup (error->message);
      g_error_free (error);
      return TRUE;
    }
  if (r->error == NULL)
    r->error = error;
  else
    g_error_free (error);
  return FALSE;
}

static void
finish_op_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  Replay *r = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lb_store_finish_op_finish (LB_STORE (object), result, &error))
    {
      if (r->error == NULL)
        r->error = error;
      else
        g_error_free (error);
    }

  if (--r->pending > 0)
    return;

  if (r->error != NULL)
    {
      replay_stop (task, g_steal_pointer (&r->error));
      return;
    }
  r->next = r->end;
  replay_next (task);
}

/* Takes the group off the queue: done, or refused with its reason. */
/* What the user reads when the server refused @op. */
static GError *
refusal_error (const LbStoreOp *op,
               const char      *refusal)
{
  switch (op->kind)
    {
    case LB_STORE_OP_SET_FLAGS:
      return g_error_new (LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_REFUSED,
                          _("The server refused to change the flags of messages in “%s”: %s"),
                          op->folder_path, refusal);
    case LB_STORE_OP_MOVE:
      return g_error_new (LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_REFUSED,
                          _("The server refused to move messages from “%s” to “%s”: %s"),
                          op->folder_path, op->target_path, refusal);
    case LB_STORE_OP_DELETE:
      return g_error_new (LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_REFUSED,
                          _("The server refused to delete messages in “%s”: %s"),
                          op->folder_path, refusal);
    case LB_STORE_OP_APPEND:
      return g_error_new (LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_REFUSED,
                          _("The server refused to save a message in “%s”: %s"),
                          op->folder_path, refusal);
    case LB_STORE_OP_EXPUNGE:
      return g_error_new (LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_REFUSED,
                          _("The server refused to remove the deleted messages of “%s”: %s"),
                          op->folder_path, refusal);
    case LB_STORE_OP_SET_KEYWORDS:
      return g_error_new (LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_REFUSED,
                          _("The server refused to mark messages in “%s” as junk or not junk: %s"),
                          op->folder_path, refusal);
    default:
      return g_error_new (LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_REFUSED,
                          _("The server refused a change to “%s”: %s"), op->folder_path, refusal);
    }
}

static void
replay_end_group (GTask *task)
{
  LbImapProvider *self = g_task_get_source_object (task);
  Replay *r = g_task_get_task_data (task);

  if (r->error != NULL)
    {
      replay_stop (task, g_steal_pointer (&r->error));
      return;
    }

  r->pending = r->end - r->next;
  for (guint i = r->next; i < r->end; i++)
    {
      LbStoreOp *op = replay_op (r, i);
      guint32 uid = r->uids != NULL && i - r->next < r->uids->len
                    ? g_array_index (r->uids, guint32, i - r->next) : 1;
      const char *failure = r->refusal;

      /* a delete of a message not on the server is done */
      if (failure == NULL && uid == 0 && op->kind != LB_STORE_OP_DELETE)
        failure = _("The message is no longer on the server");
      if (failure != NULL)
        g_debug ("Queued change %" G_GINT64_FORMAT " failed: %s", op->id, failure);
      if (r->refusal != NULL && op->attempts == 0 && r->refused == NULL)
        r->refused = refusal_error (op, r->refusal);
      lb_store_finish_op_async (self->store, op->id, failure, NULL, finish_op_cb, task);
    }
}

/* ---- SET_FLAGS, MOVE, DELETE ---- */

static int
compare_uids (gconstpointer a,
              gconstpointer b)
{
  guint32 ua = *(const guint32 *) a;
  guint32 ub = *(const guint32 *) b;

  return (ua > ub) - (ua < ub);
}

static char *
group_uid_set (Replay *r)
{
  g_autoptr(GArray) sorted = g_array_new (FALSE, FALSE, sizeof (guint32));
  GString *set = g_string_new (NULL);

  for (guint i = 0; i < r->uids->len; i++)
    if (g_array_index (r->uids, guint32, i) != 0)
      g_array_append_val (sorted, g_array_index (r->uids, guint32, i));
  if (sorted->len == 0)
    {
      g_string_free (set, TRUE);
      return NULL;
    }

  g_array_sort (sorted, compare_uids);
  for (guint i = 0; i < sorted->len;)
    {
      guint32 first = g_array_index (sorted, guint32, i);
      guint32 last = first;
      guint j = i + 1;

      for (; j < sorted->len && g_array_index (sorted, guint32, j) <= last + 1; j++)
        last = MAX (last, g_array_index (sorted, guint32, j));
      if (set->len > 0)
        g_string_append_c (set, ',');
      if (first == last)
        g_string_append_printf (set, "%u", first);
      else
        g_string_append_printf (set, "%u:%u", first, last);
      i = j;
    }
  return g_string_free (set, FALSE);
}

static void
command_done (GTask *task)
{
  Replay *r = g_task_get_task_data (task);

  if (--r->pending == 0)
    replay_end_group (task);
}

static void
store_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!lb_imap_client_uid_store_finish (LB_IMAP_CLIENT (object), result, NULL, &error))
    replay_command_failed (task, error);
  command_done (task);
}

static void
expunge_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!lb_imap_client_expunge_finish (LB_IMAP_CLIENT (object), result, &error))
    replay_command_failed (task, error);
  command_done (task);
}

static void
set_uid_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  g_autoptr(GError) error = NULL;

  /* the message may be gone here since: nothing to record then */
  if (!lb_store_set_uid_finish (LB_STORE (object), result, &error))
    g_debug ("Could not record a new UID: %s", error->message);
  command_done (task);
}

/* The changes queued after the group that found @key awaiting its UID in
 * @path (moved or uploaded there, then moved on, flagged or deleted
 * before the server answered) learn the UID the server gave it there, up
 * to the one that took it out again; lb_store_set_uid_async() records the
 * same in the store's queue. */
static void
replay_give_uid (Replay     *r,
                 gint64      key,
                 const char *path,
                 guint32     uid)
{
  for (guint i = r->end; key != 0 && uid != 0 && i < r->ops->len; i++)
    {
      LbStoreOp *op = replay_op (r, i);

      if (op->message_key != key || op->uid != 0 || op->kind == LB_STORE_OP_APPEND ||
          g_strcmp0 (op->folder_path, path) != 0)
        continue;
      op->uid = uid;
      if (op->kind == LB_STORE_OP_MOVE || op->kind == LB_STORE_OP_DELETE)
        break;
    }
}

static void
move_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  LbImapProvider *self = g_task_get_source_object (task);
  Replay *r = g_task_get_task_data (task);
  g_autoptr(GArray) source = NULL;
  g_autoptr(GArray) target = NULL;
  g_autoptr(GArray) from = NULL;
  g_autoptr(GArray) to = NULL;
  GError *error = NULL;
  guint32 uidvalidity = 0;

  if (!lb_imap_client_uid_copy_finish (LB_IMAP_CLIENT (object), result, &uidvalidity,
                                       &source, &target, &error))
    {
      replay_command_failed (task, error);
      command_done (task);
      return;
    }

  /* COPYUID: the nth source UID became the nth target UID */
  if (source != NULL && target != NULL)
    {
      from = lb_imap_set_expand (source, 1000000, NULL);
      to = lb_imap_set_expand (target, 1000000, NULL);
    }
  if (from != NULL && to != NULL && from->len == to->len)
    for (guint i = r->next; i < r->end; i++)
      {
        LbStoreOp *op = replay_op (r, i);
        guint32 uid = g_array_index (r->uids, guint32, i - r->next);

        for (guint j = 0; uid != 0 && op->message_key != 0 && j < from->len; j++)
          if (g_array_index (from, guint32, j) == uid)
            {
              r->pending++;
              /* the move back of an undo, queued before this answer,
               * takes the message from there under this UID */
              replay_give_uid (r, op->message_key, op->target_path, g_array_index (to, guint32, j));
              /* only if it is still there: undone meanwhile, the
               * UID is another message's where it is now */
              lb_store_set_uid_async (self->store, op->message_key,
                                      replay_folder_id (r, op->target_path),
                                      g_array_index (to, guint32, j), NULL, set_uid_cb, task);
              break;
            }
      }
  command_done (task);
}

/* The IMAP keywords of #LbStoreKeyword @keywords. */
static GStrv
keywords_of (guint keywords)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  GStrv result;

  if (keywords & LB_STORE_KEYWORD_JUNK)
    g_strv_builder_add (builder, "$Junk");
  if (keywords & LB_STORE_KEYWORD_NOT_JUNK)
    g_strv_builder_add (builder, "$NotJunk");
  result = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return result;
}

static void
replay_apply (GTask *task)
{
  Replay *r = g_task_get_task_data (task);
  LbStoreOp *op = replay_op (r, r->next);
  LbImapClient *client = r->client;
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autofree char *set = group_uid_set (r);

  if (set == NULL)
    {
      replay_end_group (task);
      return;
    }

  /* one count for this function, so the group ends after it */
  r->pending = 1;
  switch (op->kind)
    {
    case LB_STORE_OP_SET_FLAGS:
      {
        g_auto(GStrv) add = lb_imap_flags_from_message_flags (op->flags_add);
        g_auto(GStrv) remove = lb_imap_flags_from_message_flags (op->flags_remove);

        if (add != NULL && add[0] != NULL)
          {
            r->pending++;
            lb_imap_client_uid_store_async (client, set, TRUE, (const char * const *) add, 0,
                                            cancellable, store_cb, task);
          }
        if (remove != NULL && remove[0] != NULL)
          {
            r->pending++;
            lb_imap_client_uid_store_async (client, set, FALSE, (const char * const *) remove, 0,
                                            cancellable, store_cb, task);
          }
      }
      break;

    case LB_STORE_OP_DELETE:
      {
        static const char * const deleted[] = { "\\Deleted", NULL };

        /* pipelined: the server stores the flag before it expunges */
        r->pending++;
        lb_imap_client_uid_store_async (client, set, TRUE, deleted, 0, cancellable, store_cb, task);
        if (has_uid_expunge (client))
          {
            r->pending++;
            lb_imap_client_expunge_async (client, set, cancellable, expunge_cb, task);
          }
      }
      break;

    case LB_STORE_OP_MOVE:
      r->pending++;
      lb_imap_client_uid_copy_async (client, set, op->target_path, TRUE, cancellable, move_cb, task);
      break;

    case LB_STORE_OP_SET_KEYWORDS:
      {
        g_auto(GStrv) add = keywords_of (op->flags_add);
        g_auto(GStrv) remove = keywords_of (op->flags_remove);

        if (add[0] != NULL)
          {
            r->pending++;
            lb_imap_client_uid_store_async (client, set, TRUE, (const char * const *) add, 0,
                                            cancellable, store_cb, task);
          }
        if (remove[0] != NULL)
          {
            r->pending++;
            lb_imap_client_uid_store_async (client, set, FALSE, (const char * const *) remove, 0,
                                            cancellable, store_cb, task);
          }
      }
      break;

    case LB_STORE_OP_APPEND:
    case LB_STORE_OP_EXPUNGE:
    default:
      g_assert_not_reached ();
    }
  command_done (task);
}

typedef struct
{
  GTask *task;
  guint  index;
} SearchData;

static void
search_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  SearchData *sd = user_data;
  GTask *task = sd->task;
  Replay *r = g_task_get_task_data (task);
  g_autoptr(GArray) found = NULL;
  GError *error = NULL;

  found = lb_imap_client_uid_search_finish (LB_IMAP_CLIENT (object), result, &error);
  if (found == NULL)
    replay_command_failed (task, error);
  else if (found->len > 0 && sd->index < r->uids->len)
    g_array_index (r->uids, guint32, sd->index) = g_array_index (found, guint32, found->len - 1);
  g_free (sd);

  if (--r->pending > 0)
    return;
  if (r->error != NULL || r->refusal != NULL)
    replay_end_group (task);
  else
    replay_apply (task);
}

static LbImapCommand *
message_id_criteria (const char *message_id)
{
  LbImapCommand *criteria = lb_imap_command_new (NULL);
  g_autofree char *bracketed = g_strdup_printf ("<%s>", message_id);

  lb_imap_command_add_atom (criteria, "HEADER");
  lb_imap_command_add_atom (criteria, "MESSAGE-ID");
  lb_imap_command_add_string (criteria, bracketed);
  return criteria;
}

/* Whether the queue being replayed uploads @key. */
static gboolean
replay_has_append (Replay *r,
                   gint64  key)
{
  for (guint i = 0; key != 0 && i < r->ops->len; i++)
    {
      LbStoreOp *op = replay_op (r, i);

      if (op->kind == LB_STORE_OP_APPEND && op->message_key == key)
        return TRUE;
    }
  return FALSE;
}

/* The selected folder is the group's: the messages without a known UID
 * are looked for by Message-ID, then the command goes. */
static void
replay_find_uids (GTask *task)
{
  Replay *r = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  r->pending = 1;
  for (guint i = r->next; i < r->end; i++)
    {
      LbStoreOp *op = replay_op (r, i);
      g_autoptr(LbImapCommand) criteria = NULL;
      SearchData *sd;

      if (g_array_index (r->uids, guint32, i - r->next) != 0 || op->message_id == NULL)
        continue;
      /* a message deleted before it was uploaded is not on the server:
       * what has its Message-ID there is another one (the draft that
       * replaced it, say) */
      if (op->kind == LB_STORE_OP_DELETE && op->uid == 0 &&
          (has_uid_expunge (r->client) || replay_has_append (r, op->message_key)))
        continue;

      sd = g_new0 (SearchData, 1);
      sd->task = task;
      sd->index = i - r->next;
      criteria = message_id_criteria (op->message_id);
      r->pending++;
      lb_imap_client_uid_search_async (r->client, criteria, cancellable, search_cb, sd);
    }

  if (--r->pending > 0)
    return;
  replay_apply (task);
}

static void
group_selected_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!lb_imap_sync_select_finish (LB_IMAP_SYNC (object), result, &error))
    {
      /* the folder is gone, say: the group fails, the replay goes on */
      replay_command_failed (task, error);
      replay_end_group (task);
      return;
    }
  replay_find_uids (task);
}

static void
group_messages_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  Replay *r = g_task_get_task_data (task);
  LbStoreOp *first = replay_op (r, r->next);
  g_autoptr(GPtrArray) summaries = NULL;
  g_autoptr(GHashTable) by_key = g_hash_table_new (g_int64_hash, g_int64_equal);
  GError *error = NULL;

  summaries = lb_store_get_messages_finish (LB_STORE (object), result, &error);
  if (summaries == NULL)
    {
      replay_stop (task, error);
      return;
    }
  for (guint i = 0; i < summaries->len; i++)
    {
      LbMessageSummary *summary = summaries->pdata[i];

      g_hash_table_insert (by_key, &summary->key, summary);
    }

  /* The UID the store has now, when the message is still where the
   * operation found it (a UIDVALIDITY change renumbers, a move queued
   * before gave it one); else the one recorded with the operation. */
  g_clear_pointer (&r->uids, g_array_unref);
  r->uids = g_array_sized_new (FALSE, TRUE, sizeof (guint32), r->end - r->next);
  for (guint i = r->next; i < r->end; i++)
    {
      LbStoreOp *op = replay_op (r, i);
      LbMessageSummary *summary = g_hash_table_lookup (by_key, &op->message_key);
      guint32 uid = op->uid;

      if (summary != NULL && summary->uid != 0 &&
          g_strcmp0 (g_hash_table_lookup (r->paths, &summary->folder_id), op->folder_path) == 0)
        uid = summary->uid;
      g_array_append_val (r->uids, uid);
    }

  lb_imap_sync_select_async (r->sync, first->folder_path, g_task_get_cancellable (task),
                             group_selected_cb, task);
}

/* ---- EXPUNGE ---- */

static void
expunge_folder_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!lb_imap_client_expunge_finish (LB_IMAP_CLIENT (object), result, &error))
    replay_command_failed (task, error);
  replay_end_group (task);
}

/* An EXPUNGE queued by an older version: the UIDs it removed here are not
 * recorded. With UID EXPUNGE, only the \Deleted messages the store no
 * longer has go: one another client marked since stays. */
static void
expunge_uids_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  Replay *r = g_task_get_task_data (task);
  g_autoptr(GArray) states = NULL;
  g_autoptr(GArray) found = g_steal_pointer (&r->found);
  g_autoptr(GHashTable) here = g_hash_table_new (NULL, NULL);
  g_autofree char *set = NULL;
  GError *error = NULL;

  states = lb_store_list_uids_finish (LB_STORE (object), result, &error);
  if (states == NULL)
    {
      replay_stop (task, error);
      return;
    }
  for (guint i = 0; i < states->len; i++)
    g_hash_table_add (here, GUINT_TO_POINTER (g_array_index (states, LbStoreUidState, i).uid));

  g_clear_pointer (&r->uids, g_array_unref);
  r->uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (guint i = 0; i < found->len; i++)
    if (!g_hash_table_contains (here, GUINT_TO_POINTER (g_array_index (found, guint32, i))))
      g_array_append_val (r->uids, g_array_index (found, guint32, i));
  set = group_uid_set (r);
  g_clear_pointer (&r->uids, g_array_unref);
  if (set == NULL)
    {
      replay_end_group (task);
      return;
    }
  lb_imap_client_expunge_async (r->client, set, g_task_get_cancellable (task), expunge_folder_cb, task);
}

static void
expunge_search_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  LbImapProvider *self = g_task_get_source_object (task);
  Replay *r = g_task_get_task_data (task);
  gint64 folder_id = replay_folder_id (r, replay_op (r, r->next)->folder_path);
  GError *error = NULL;

  r->found = lb_imap_client_uid_search_finish (LB_IMAP_CLIENT (object), result, &error);
  if (r->found == NULL)
    {
      replay_command_failed (task, error);
      replay_end_group (task);
      return;
    }
  if (r->found->len == 0 || folder_id == 0)
    {
      replay_end_group (task);
      return;
    }
  lb_store_list_uids_async (self->store, folder_id, g_task_get_cancellable (task), expunge_uids_cb, task);
}

static void
expunge_selected_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GTask *task = user_data;
  Replay *r = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lb_imap_sync_select_finish (LB_IMAP_SYNC (object), result, &error))
    {
      replay_command_failed (task, error);
      replay_end_group (task);
      return;
    }
  if (has_uid_expunge (r->client))
    {
      g_autoptr(LbImapCommand) criteria = lb_imap_command_new (NULL);

      lb_imap_command_add_atom (criteria, "DELETED");
      lb_imap_client_uid_search_async (r->client, criteria, g_task_get_cancellable (task),
                                       expunge_search_cb, task);
      return;
    }
  lb_imap_client_expunge_async (r->client, NULL, g_task_get_cancellable (task),
                                expunge_folder_cb, task);
}

/* ---- APPEND ---- */

static void
append_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GTask *task = user_data;
  LbImapProvider *self = g_task_get_source_object (task);
  Replay *r = g_task_get_task_data (task);
  GError *error = NULL;
  guint32 uidvalidity = 0;
  guint32 uid;

  uid = lb_imap_client_append_finish (LB_IMAP_CLIENT (object), result, &uidvalidity, &error);
  if (error != NULL)
    {
      replay_command_failed (task, error);
      replay_end_group (task);
      return;
    }

  /* without APPENDUID the folder's next sync finds it by Message-ID */
  r->pending = 1;
  if (uid != 0)
    {
      r->pending++;
      replay_give_uid (r, r->summary->key, replay_op (r, r->next)->folder_path, uid);
      lb_store_set_uid_async (self->store, r->summary->key,
                              replay_folder_id (r, replay_op (r, r->next)->folder_path),
                              uid, NULL, set_uid_cb, task);
    }
  command_done (task);
}

static void
append_send (GTask *task)
{
  Replay *r = g_task_get_task_data (task);
  LbStoreOp *op = replay_op (r, r->next);
  g_auto(GStrv) flags = lb_imap_flags_from_message_flags (r->summary->flags);

  lb_imap_client_append_async (r->client, op->folder_path, (const char * const *) flags,
                               r->summary->date, r->raw, g_task_get_cancellable (task),
                               append_cb, task);
}

static gboolean
append_size_untagged (LbImapClient   *client,
                      LbImapResponse *response,
                      gpointer        user_data)
{
  Replay *r = user_data;
  const LbImapFetch *fetch = response->fetch;

  if (response->data != LB_IMAP_DATA_FETCH || fetch == NULL || fetch->uid == 0 ||
      !(fetch->items & LB_IMAP_FETCH_SIZE))
    return FALSE;
  if (fetch->size == g_bytes_get_size (r->raw))
    g_hash_table_add (r->sizes, GUINT_TO_POINTER (fetch->uid));
  return TRUE;
}

static void
append_sizes_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  LbImapProvider *self = g_task_get_source_object (task);
  Replay *r = g_task_get_task_data (task);
  LbStoreOp *append = replay_op (r, r->next);
  g_autoptr(GHashTable) same = g_steal_pointer (&r->sizes);
  GHashTableIter iter;
  gpointer uid_ptr;
  guint32 uid = 0;
  GError *error = NULL;

  if (!lb_imap_client_uid_fetch_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      if (!replay_command_failed (task, error))
        {
          replay_end_group (task);
          return;
        }
      g_clear_pointer (&r->refusal, g_free);   /* not known: append anyway */
    }

  /* the newest of its size */
  g_hash_table_iter_init (&iter, same);
  while (g_hash_table_iter_next (&iter, &uid_ptr, NULL))
    uid = MAX (uid, GPOINTER_TO_UINT (uid_ptr));
  if (uid == 0)
    {
      append_send (task);
      return;
    }

  /* uploaded before, and the answer was lost: once is enough */
  r->pending = 2;
  replay_give_uid (r, r->summary->key, append->folder_path, uid);
  lb_store_set_uid_async (self->store, r->summary->key, replay_folder_id (r, append->folder_path), uid,
                          NULL, set_uid_cb, task);
  command_done (task);
}

static void
append_uids_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  Replay *r = g_task_get_task_data (task);
  LbStoreOp *append = replay_op (r, r->next);
  g_autoptr(GArray) states = NULL;
  g_autoptr(GArray) found = g_steal_pointer (&r->found);
  g_autoptr(GHashTable) taken = g_hash_table_new (NULL, NULL);
  g_autoptr(GString) set = g_string_new (NULL);
  GError *error = NULL;

  states = lb_store_list_uids_finish (LB_STORE (object), result, &error);
  if (states == NULL)
    {
      replay_stop (task, error);
      return;
    }

  /* a UID another row here holds, or one a queued delete or move takes
   * away, is another message's */
  for (guint i = 0; i < states->len; i++)
    {
      LbStoreUidState *state = &g_array_index (states, LbStoreUidState, i);

      if (state->key != r->summary->key)
        g_hash_table_add (taken, GUINT_TO_POINTER (state->uid));
    }
  for (guint i = 0; i < r->ops->len; i++)
    {
      LbStoreOp *op = replay_op (r, i);

      if (op != append && op->uid != 0 && g_strcmp0 (op->folder_path, append->folder_path) == 0 &&
          (op->kind == LB_STORE_OP_DELETE || op->kind == LB_STORE_OP_MOVE))
        g_hash_table_add (taken, GUINT_TO_POINTER (op->uid));
    }

  for (guint i = 0; i < found->len; i++)
    {
      guint32 uid = g_array_index (found, guint32, i);

      if (!g_hash_table_contains (taken, GUINT_TO_POINTER (uid)))
        g_string_append_printf (set, "%s%u", set->len > 0 ? "," : "", uid);
    }
  if (set->len == 0)
    {
      append_send (task);
      return;
    }

  /* uploaded before, and the answer was lost? Only if it has these very
   * bytes: another version of a draft has the Message-ID too */
  r->sizes = g_hash_table_new (NULL, NULL);
  lb_imap_client_uid_fetch_async (r->client, set->str, "(UID RFC822.SIZE)", 0, FALSE,
                                  append_size_untagged, r, NULL, g_task_get_cancellable (task),
                                  append_sizes_cb, task);
}

static void
append_search_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  LbImapProvider *self = g_task_get_source_object (task);
  Replay *r = g_task_get_task_data (task);
  g_autoptr(GArray) found = NULL;
  gint64 folder_id = replay_folder_id (r, replay_op (r, r->next)->folder_path);
  GError *error = NULL;

  found = lb_imap_client_uid_search_finish (LB_IMAP_CLIENT (object), result, &error);
  if (found == NULL)
    {
      if (!replay_command_failed (task, error))
        {
          replay_end_group (task);
          return;
        }
      g_clear_pointer (&r->refusal, g_free);   /* no search: append anyway */
    }
  else if (found->len > 0 && folder_id != 0)
    {
      /* perhaps uploaded before, and the answer was lost: unless what
       * has its Message-ID is another message here (an older draft) */
      r->found = g_steal_pointer (&found);
      lb_store_list_uids_async (self->store, folder_id, g_task_get_cancellable (task),
                                append_uids_cb, task);
      return;
    }

  append_send (task);
}

static void
append_selected_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  Replay *r = g_task_get_task_data (task);
  g_autoptr(LbImapCommand) criteria = NULL;
  GError *error = NULL;

  if (!lb_imap_sync_select_finish (LB_IMAP_SYNC (object), result, &error))
    {
      replay_command_failed (task, error);
      replay_end_group (task);
      return;
    }

  criteria = message_id_criteria (r->summary->message_id);
  lb_imap_client_uid_search_async (r->client, criteria, g_task_get_cancellable (task),
                                   append_search_cb, task);
}

static void
append_read_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  Replay *r = g_task_get_task_data (task);
  LbStoreOp *op = replay_op (r, r->next);
  GError *error = NULL;

  r->raw = lb_store_read_message_finish (LB_STORE (object), result, &error);
  if (r->raw == NULL)
    {
      if (g_error_matches (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND))
        {
          /* deleted here before it was uploaded: nothing to do */
          g_error_free (error);
          replay_end_group (task);
          return;
        }
      if (g_error_matches (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FETCHED) &&
          g_get_real_time () / G_USEC_PER_SEC - op->created < APPEND_BODY_GRACE_SECONDS)
        {
          /* the provider is still writing it down: the next replay */
          g_error_free (error);
          g_task_return_boolean (task, TRUE);
          g_object_unref (task);
          return;
        }
      if (g_error_matches (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FETCHED))
        {
          r->refusal = g_strdup (_("The message to upload was lost before it was saved"));
          g_error_free (error);
          replay_end_group (task);
          return;
        }
      replay_stop (task, error);
      return;
    }

  if (r->summary->message_id != NULL)
    lb_imap_sync_select_async (r->sync, op->folder_path, g_task_get_cancellable (task),
                               append_selected_cb, task);
  else
    append_send (task);
}

static void
append_message_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  Replay *r = g_task_get_task_data (task);
  GError *error = NULL;

  r->summary = lb_store_get_message_finish (LB_STORE (object), result, &error);
  if (r->summary == NULL)
    {
      if (g_error_matches (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND))
        {
          g_error_free (error);
          replay_end_group (task);
          return;
        }
      replay_stop (task, error);
      return;
    }

  lb_store_read_message_async (LB_STORE (object), r->summary->key, g_task_get_cancellable (task),
                               append_read_cb, task);
}

/* ---- the order ---- */

static gboolean
same_group (const LbStoreOp *a,
            const LbStoreOp *b)
{
  if (a->kind != b->kind || g_strcmp0 (a->folder_path, b->folder_path) != 0)
    return FALSE;

  switch (a->kind)
    {
    case LB_STORE_OP_SET_FLAGS:
    case LB_STORE_OP_SET_KEYWORDS:
      return a->flags_add == b->flags_add && a->flags_remove == b->flags_remove;

    case LB_STORE_OP_MOVE:
      return g_strcmp0 (a->target_path, b->target_path) == 0;

    case LB_STORE_OP_DELETE:
      return TRUE;

    case LB_STORE_OP_APPEND:
    case LB_STORE_OP_EXPUNGE:
    default:
      return FALSE;
    }
}

static void
replay_next (GTask *task)
{
  LbImapProvider *self = g_task_get_source_object (task);
  Replay *r = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(GArray) keys = NULL;
  GError *error = NULL;
  LbStoreOp *op;

  /* those refused too often wait for the user, without holding up the rest */
  while (r->next < r->ops->len && replay_op (r, r->next)->attempts >= MAX_OP_ATTEMPTS)
    r->next++;

  if (r->next >= r->ops->len)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, &error) || r->conn->client != r->client ||
      !conn_is_ready (r->conn))
    {
      if (error == NULL)
        error = g_error_new_literal (LB_IMAP_ERROR, LB_IMAP_ERROR_BYE, _("The connection was closed"));
      replay_stop (task, error);
      return;
    }

  op = replay_op (r, r->next);
  r->end = r->next + 1;
  while (r->end < r->ops->len && r->end - r->next < OP_GROUP_MAX &&
         replay_op (r, r->end)->attempts < MAX_OP_ATTEMPTS &&
         same_group (op, replay_op (r, r->end)))
    r->end++;

  g_clear_pointer (&r->refusal, g_free);
  g_clear_pointer (&r->uids, g_array_unref);
  g_clear_pointer (&r->summary, lb_message_summary_unref);
  g_clear_pointer (&r->raw, g_bytes_unref);
  r->pending = 0;

  g_debug ("Replaying queued change %" G_GINT64_FORMAT " (kind %d, %u in the group)",
           op->id, op->kind, r->end - r->next);

  switch (op->kind)
    {
    case LB_STORE_OP_APPEND:
      lb_store_get_message_async (self->store, op->message_key, cancellable, append_message_cb, task);
      return;

    case LB_STORE_OP_EXPUNGE:
      lb_imap_sync_select_async (r->sync, op->folder_path, cancellable, expunge_selected_cb, task);
      return;

    case LB_STORE_OP_SET_FLAGS:
    case LB_STORE_OP_MOVE:
    case LB_STORE_OP_DELETE:
    case LB_STORE_OP_SET_KEYWORDS:
      keys = g_array_new (FALSE, FALSE, sizeof (gint64));
      for (guint i = r->next; i < r->end; i++)
        g_array_append_val (keys, replay_op (r, i)->message_key);
      lb_store_get_messages_async (self->store, keys, cancellable, group_messages_cb, task);
      return;

    default:
      r->refusal = g_strdup_printf (_("Unknown kind of change %d"), op->kind);
      replay_end_group (task);
      return;
    }
}

static void
replay_folders_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  LbImapProvider *self = g_task_get_source_object (task);
  Replay *r = g_task_get_task_data (task);
  g_autoptr(GPtrArray) folders = NULL;
  GError *error = NULL;

  folders = lb_store_list_folders_finish (LB_STORE (object), result, &error);
  if (folders == NULL)
    {
      replay_stop (task, error);
      return;
    }
  r->paths = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  for (guint i = 0; i < folders->len; i++)
    {
      const LbFolderInfo *info = folders->pdata[i];

      g_hash_table_insert (r->paths, g_memdup2 (&info->id, sizeof info->id), g_strdup (info->path));
      remember_folder (self, info);
    }
  replay_next (task);
}

static void
replay_ops_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  Replay *r = g_task_get_task_data (task);
  GError *error = NULL;

  r->ops = lb_store_list_ops_finish (LB_STORE (object), result, &error);
  if (r->ops == NULL)
    {
      replay_stop (task, error);
      return;
    }
  if (r->ops->len == 0)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  lb_store_list_folders_async (LB_STORE (object), g_task_get_cancellable (task), replay_folders_cb, task);
}

/* Applies the store's offline queue on @conn (logged in). */
static void
replay_run_async (LbImapProvider      *self,
                  Conn                *conn,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Replay *r = g_new0 (Replay, 1);

  g_task_set_source_tag (task, replay_run_async);
  r->conn = conn_ref (conn);
  r->client = g_object_ref (conn->client);
  r->sync = g_object_ref (conn->sync);
  g_task_set_task_data (task, r, (GDestroyNotify) replay_free);
  lb_store_list_ops_async (self->store, G_MAXINT, cancellable, replay_ops_cb, task);
}

static gboolean
replay_run_finish (LbImapProvider  *self,
                   GAsyncResult    *result,
                   GError         **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------ replay jobs */

static void
replay_job_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Job *job = user_data;
  Replay *r = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;

  /* the rest went through; the refusal of a change just made is the
   * answer to whoever waits for it (letterbox-cli flag, say) */
  if (!replay_run_finish (LB_IMAP_PROVIDER (object), result, &error))
    job_return_error (job, error);
  else if (r->refused != NULL)
    job_return_error (job, g_error_copy (r->refused));
  else
    job_return_boolean (job, TRUE);
}

static void
replay_job_run (Job *job)
{
  replay_run_async (job_provider (job), job->conn, job_cancellable (job), replay_job_cb, job);
}

static void
replay_bg_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_debug ("The offline queue waits: %s", error->message);
}

static Job *
waiting_job (Conn    *conn,
             JobKind  kind)
{
  for (GList *l = conn->jobs.head; l != NULL; l = l->next)
    {
      Job *job = l->data;

      if (job->kind == kind)
        return job;
    }
  return NULL;
}

/* Replays the queue soon on cmd, when the account is online. */
static void
kick_replay (LbImapProvider *self)
{
  GTask *task;

  if (!self->online || self->closed || waiting_job (self->cmd, JOB_REPLAY) != NULL)
    return;

  /* offline in the background: the reconnection replays it; a change
   * made meanwhile does not hurry it past its backoff, nor retries a
   * login that failed for good (a wrong password: the user's turn) */
  if (!conn_is_ready (self->cmd) && self->cmd->stalled)
    return;
  if (self->background && !conn_is_ready (self->cmd) &&
      (self->cmd->connecting || self->cmd->retry_id != 0 || !network_available (self)))
    return;

  task = g_task_new (self, NULL, replay_bg_cb, NULL);
  g_task_set_source_tag (task, kick_replay);
  enqueue (self, self->cmd, job_new (task, JOB_REPLAY, replay_job_run));
}

/* ------------------------------------------------------------------ folder sync */

typedef struct
{
  LbFolderInfo    *folder;
  LbImapSyncStats  stats;
  LbImapSync      *sync;
  gulong           progress_id;
} SyncJob;

static void
sync_job_free (SyncJob *sj)
{
  if (sj->sync != NULL)
    g_clear_signal_handler (&sj->progress_id, sj->sync);
  g_clear_object (&sj->sync);
  g_clear_pointer (&sj->folder, lb_folder_info_free);
  g_free (sj);
}

static guint
account_offline_days (LbImapProvider *self)
{
  g_autoptr(LbAccount) account = g_weak_ref_get (&self->account);

  return account != NULL ? lb_account_get_offline_days (account) : 0;
}

static void
sync_job_fail (Job    *job,
               GError *error)
{
  LbImapProvider *self = job_provider (job);
  SyncJob *sj = g_task_get_task_data (job->task);

  if (is_transient (error))
    {
      /* resumed when the connection is back */
      g_hash_table_add (self->dirty, g_memdup2 (&sj->folder->id, sizeof sj->folder->id));
    }
  if (!is_cancelled (error))
    g_prefix_error (&error, _("Could not synchronize the folder “%s”: "), sj->folder->name);
  job_return_error (job, error);
}

static void
offline_bodies_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;

  /* the folder is in step; the bodies are a bonus the next sync retries */
  if (lb_imap_sync_fetch_bodies_finish (LB_IMAP_SYNC (object), result, &error) == G_MAXUINT)
    g_debug ("Could not download messages for offline reading: %s", error->message);
  job_return_boolean (job, TRUE);
}

static void
offline_uncached_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Job *job = user_data;
  SyncJob *sj = g_task_get_task_data (job->task);
  g_autoptr(GPtrArray) uncached = NULL;
  g_autoptr(GError) error = NULL;

  uncached = lb_store_list_uncached_finish (LB_STORE (object), result, &error);
  if (uncached == NULL || uncached->len == 0 || !conn_is_ready (job->conn))
    {
      if (error != NULL)
        g_debug ("Could not list the messages to download: %s", error->message);
      job_return_boolean (job, TRUE);
      return;
    }

  lb_imap_sync_fetch_bodies_async (job->sync, sj->folder->id, uncached, job_cancellable (job),
                                   offline_bodies_cb, job);
}

static void
sync_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Job *job = user_data;
  LbImapProvider *self = job_provider (job);
  SyncJob *sj = g_task_get_task_data (job->task);
  GError *error = NULL;
  guint days;

  g_clear_signal_handler (&sj->progress_id, sj->sync);
  if (!lb_imap_sync_folder_finish (LB_IMAP_SYNC (object), result, &sj->stats, &error))
    {
      sync_job_fail (job, error);
      return;
    }
  g_hash_table_remove (self->dirty, &sj->folder->id);
  g_debug ("Synchronized %s: %u added, %u updated, %u removed", sj->folder->path,
           sj->stats.added, sj->stats.updated, sj->stats.removed);

  days = account_offline_days (self);
  if (days == 0)
    {
      job_return_boolean (job, TRUE);
      return;
    }

  lb_store_list_uncached_async (self->store, sj->folder->id,
                                g_get_real_time () / G_USEC_PER_SEC - (gint64) days * SECONDS_PER_DAY,
                                0, job_cancellable (job), offline_uncached_cb, job);
}

static void
sync_progress_cb (LbImapSync *sync,
                  guint       done,
                  guint       total,
                  gpointer    user_data)
{
  Job *job = user_data;
  SyncJob *sj = g_task_get_task_data (job->task);

  g_signal_emit (job_provider (job), signals[SYNC_PROGRESS], 0, sj->folder->id, done, total);
}

static void
sync_replayed_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Job *job = user_data;
  SyncJob *sj = g_task_get_task_data (job->task);
  GError *error = NULL;

  if (!replay_run_finish (LB_IMAP_PROVIDER (object), result, &error))
    {
      sync_job_fail (job, error);
      return;
    }
  if (!conn_is_ready (job->conn))
    {
      sync_job_fail (job, g_error_new_literal (LB_IMAP_ERROR, LB_IMAP_ERROR_BYE,
                                               _("The connection was closed")));
      return;
    }

  g_set_object (&sj->sync, job->sync);
  sj->progress_id = g_signal_connect (sj->sync, "progress", G_CALLBACK (sync_progress_cb), job);
  lb_imap_sync_folder_async (sj->sync, sj->folder->id, job_cancellable (job), sync_done_cb, job);
}

/* Every sync replays the queue first: a change made here must reach the
 * server before the server's state is taken for the truth. */
static void
sync_job_run (Job *job)
{
  replay_run_async (job_provider (job), job->conn, job_cancellable (job), sync_replayed_cb, job);
}

static void
sync_folder_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  LbImapProvider *self = g_task_get_source_object (task);
  SyncJob *sj = g_task_get_task_data (task);
  GError *error = NULL;
  Job *job;

  sj->folder = lb_store_get_folder_finish (LB_STORE (object), result, &error);
  if (sj->folder == NULL)
    {
      g_prefix_error (&error, _("Could not synchronize the folder: "));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (sj->folder->local)
    {
      /* the store is the folder */
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  remember_folder (self, sj->folder);

  job = job_new (task, JOB_SYNC, sync_job_run);
  job->folder_id = sj->folder->id;
  enqueue (self, self->cmd, job);
}

/**
 * lb_imap_provider_sync_folder_async:
 * @self: a provider
 * @folder_id: a folder of the account (a local one is up to date at once)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the folder is up to date, or the sync failed
 * @user_data: data for @callback
 *
 * Replays the offline queue, then brings the store's copy of the folder
 * up to date (LbImapSync), emitting #LbImapProvider::sync-progress as
 * headers arrive; with #LbAccount:offline-days, then downloads the bodies
 * of that many last days. Connects first if needed. A sync a dropped
 * connection cut resumes by itself once the provider is online again.
 */
void
lb_imap_provider_sync_folder_async (LbImapProvider      *self,
                                    gint64               folder_id,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_imap_provider_sync_folder_async);
  g_task_set_task_data (task, g_new0 (SyncJob, 1), (GDestroyNotify) sync_job_free);
  lb_store_get_folder_async (self->store, folder_id, cancellable, sync_folder_cb, task);
}

/**
 * lb_imap_provider_sync_folder_finish:
 * @stats: (out) (optional): what changed (all 0 for a local folder)
 *
 * Returns: %TRUE when the folder is up to date
 */
gboolean
lb_imap_provider_sync_folder_finish (LbImapProvider   *self,
                                     GAsyncResult     *result,
                                     LbImapSyncStats  *stats,
                                     GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_provider_sync_folder_async, FALSE);

  if (stats != NULL)
    {
      SyncJob *sj = g_task_get_task_data (G_TASK (result));

      *stats = sj->stats;
    }
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
sync_bg_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!lb_imap_provider_sync_folder_finish (LB_IMAP_PROVIDER (object), result, NULL, &error))
    g_debug ("Background sync: %s", error->message);
}

/* ------------------------------------------------------------------ folder list */

typedef struct
{
  char         *path;
  char         *delimiter;
  LbFolderRole  role;
} ListEntry;

static void
list_entry_free (ListEntry *entry)
{
  g_free (entry->path);
  g_free (entry->delimiter);
  g_free (entry);
}

typedef struct
{
  gboolean    poll;
  GPtrArray  *entries;    /* ListEntry */
  guint       next;
  GHashTable *status;     /* path -> LbImapStatusData (owned by the responses) */
  GPtrArray  *responses;  /* LbImapResponse */
  GPtrArray  *folders;    /* LbFolderInfo: the result */
  guint       pending;
  GError     *error;
} ListJob;

static void
list_job_free (ListJob *lj)
{
  g_clear_pointer (&lj->entries, g_ptr_array_unref);
  g_clear_pointer (&lj->status, g_hash_table_unref);
  g_clear_pointer (&lj->responses, g_ptr_array_unref);
  g_clear_pointer (&lj->folders, g_ptr_array_unref);
  g_clear_error (&lj->error);
  g_free (lj);
}

static const struct
{
  const char   *attribute;
  LbFolderRole  role;
} special_use[] = {
  { "\\Sent", LB_FOLDER_ROLE_SENT },
  { "\\Drafts", LB_FOLDER_ROLE_DRAFTS },
  { "\\Trash", LB_FOLDER_ROLE_TRASH },
  { "\\Junk", LB_FOLDER_ROLE_JUNK },
  { "\\Archive", LB_FOLDER_ROLE_ARCHIVE },
};

/**
 * lb_imap_provider_role_for_attributes:
 * @attributes: (nullable): a LIST response's attributes
 *
 * Returns: the role its SPECIAL-USE attributes (RFC 6154) give a folder,
 *   %LB_FOLDER_ROLE_NONE for none
 */
LbFolderRole
lb_imap_provider_role_for_attributes (char * const *attributes)
{
  for (guint i = 0; i < G_N_ELEMENTS (special_use); i++)
    if (lb_imap_flags_contain (attributes, special_use[i].attribute))
      return special_use[i].role;
  return LB_FOLDER_ROLE_NONE;
}

static const struct
{
  const char   *name;
  LbFolderRole  role;
} well_known[] = {
  /* English, German, French, Spanish, Italian, Portuguese, Dutch,
   * Polish, Russian, Ukrainian: as servers and webmail make them */
  { "Sent", LB_FOLDER_ROLE_SENT },
  { "Sent Items", LB_FOLDER_ROLE_SENT },
  { "Sent Messages", LB_FOLDER_ROLE_SENT },
  { "Sent Mail", LB_FOLDER_ROLE_SENT },
  { "Gesendet", LB_FOLDER_ROLE_SENT },
  { "Gesendete Elemente", LB_FOLDER_ROLE_SENT },
  { "Gesendete Objekte", LB_FOLDER_ROLE_SENT },
  { "Envoyés", LB_FOLDER_ROLE_SENT },
  { "Éléments envoyés", LB_FOLDER_ROLE_SENT },
  { "Messages envoyés", LB_FOLDER_ROLE_SENT },
  { "Enviados", LB_FOLDER_ROLE_SENT },
  { "Elementos enviados", LB_FOLDER_ROLE_SENT },
  { "Posta inviata", LB_FOLDER_ROLE_SENT },
  { "Inviati", LB_FOLDER_ROLE_SENT },
  { "Elementi inviati", LB_FOLDER_ROLE_SENT },
  { "Enviadas", LB_FOLDER_ROLE_SENT },
  { "Itens Enviados", LB_FOLDER_ROLE_SENT },
  { "Verzonden", LB_FOLDER_ROLE_SENT },
  { "Verzonden items", LB_FOLDER_ROLE_SENT },
  { "Wysłane", LB_FOLDER_ROLE_SENT },
  { "Elementy wysłane", LB_FOLDER_ROLE_SENT },
  { "Отправленные", LB_FOLDER_ROLE_SENT },
  { "Надіслані", LB_FOLDER_ROLE_SENT },
  { "Відправлені", LB_FOLDER_ROLE_SENT },
  { "Drafts", LB_FOLDER_ROLE_DRAFTS },
  { "Entwürfe", LB_FOLDER_ROLE_DRAFTS },
  { "Brouillons", LB_FOLDER_ROLE_DRAFTS },
  { "Borradores", LB_FOLDER_ROLE_DRAFTS },
  { "Bozze", LB_FOLDER_ROLE_DRAFTS },
  { "Rascunhos", LB_FOLDER_ROLE_DRAFTS },
  { "Concepten", LB_FOLDER_ROLE_DRAFTS },
  { "Kopie robocze", LB_FOLDER_ROLE_DRAFTS },
  { "Szkice", LB_FOLDER_ROLE_DRAFTS },
  { "Wersje robocze", LB_FOLDER_ROLE_DRAFTS },
  { "Черновики", LB_FOLDER_ROLE_DRAFTS },
  { "Чернетки", LB_FOLDER_ROLE_DRAFTS },
  { "Trash", LB_FOLDER_ROLE_TRASH },
  { "Deleted Items", LB_FOLDER_ROLE_TRASH },
  { "Deleted Messages", LB_FOLDER_ROLE_TRASH },
  { "Bin", LB_FOLDER_ROLE_TRASH },
  { "Papierkorb", LB_FOLDER_ROLE_TRASH },
  { "Gelöschte Elemente", LB_FOLDER_ROLE_TRASH },
  { "Gelöschte Objekte", LB_FOLDER_ROLE_TRASH },
  { "Corbeille", LB_FOLDER_ROLE_TRASH },
  { "Éléments supprimés", LB_FOLDER_ROLE_TRASH },
  { "Messages supprimés", LB_FOLDER_ROLE_TRASH },
  { "Papelera", LB_FOLDER_ROLE_TRASH },
  { "Elementos eliminados", LB_FOLDER_ROLE_TRASH },
  { "Cestino", LB_FOLDER_ROLE_TRASH },
  { "Posta eliminata", LB_FOLDER_ROLE_TRASH },
  { "Elementi eliminati", LB_FOLDER_ROLE_TRASH },
  { "Lixeira", LB_FOLDER_ROLE_TRASH },
  { "Lixo", LB_FOLDER_ROLE_TRASH },
  { "Itens Excluídos", LB_FOLDER_ROLE_TRASH },
  { "Itens Eliminados", LB_FOLDER_ROLE_TRASH },
  { "Prullenbak", LB_FOLDER_ROLE_TRASH },
  { "Verwijderde items", LB_FOLDER_ROLE_TRASH },
  { "Kosz", LB_FOLDER_ROLE_TRASH },
  { "Elementy usunięte", LB_FOLDER_ROLE_TRASH },
  { "Корзина", LB_FOLDER_ROLE_TRASH },
  { "Удаленные", LB_FOLDER_ROLE_TRASH },
  { "Удалённые", LB_FOLDER_ROLE_TRASH },
  { "Кошик", LB_FOLDER_ROLE_TRASH },
  { "Видалені", LB_FOLDER_ROLE_TRASH },
  { "Junk", LB_FOLDER_ROLE_JUNK },
  { "Spam", LB_FOLDER_ROLE_JUNK },
  { "Junk E-mail", LB_FOLDER_ROLE_JUNK },
  { "Junk Email", LB_FOLDER_ROLE_JUNK },
  { "Junk-E-Mail", LB_FOLDER_ROLE_JUNK },
  { "Unerwünscht", LB_FOLDER_ROLE_JUNK },
  { "Courrier indésirable", LB_FOLDER_ROLE_JUNK },
  { "Indésirables", LB_FOLDER_ROLE_JUNK },
  { "Pourriel", LB_FOLDER_ROLE_JUNK },
  { "Correo no deseado", LB_FOLDER_ROLE_JUNK },
  { "Posta indesiderata", LB_FOLDER_ROLE_JUNK },
  { "Lixo Eletrônico", LB_FOLDER_ROLE_JUNK },
  { "Lixo Electrónico", LB_FOLDER_ROLE_JUNK },
  { "Ongewenste e-mail", LB_FOLDER_ROLE_JUNK },
  { "Wiadomości-śmieci", LB_FOLDER_ROLE_JUNK },
  { "Niechciane", LB_FOLDER_ROLE_JUNK },
  { "Спам", LB_FOLDER_ROLE_JUNK },
  { "Небажана пошта", LB_FOLDER_ROLE_JUNK },
  { "Archive", LB_FOLDER_ROLE_ARCHIVE },
  { "Archives", LB_FOLDER_ROLE_ARCHIVE },
  { "Архив", LB_FOLDER_ROLE_ARCHIVE },
};

/**
 * lb_imap_provider_role_for_name:
 * @name: a folder's name below the personal namespace ("Sent Items")
 *
 * Returns: the role its well-known name gives a folder on a server without
 *   SPECIAL-USE (case does not matter; INBOX is the inbox)
 */
LbFolderRole
lb_imap_provider_role_for_name (const char *name)
{
  g_autofree char *normal = NULL;
  g_autofree char *folded = NULL;

  g_return_val_if_fail (name != NULL, LB_FOLDER_ROLE_NONE);

  if (g_ascii_strcasecmp (name, "INBOX") == 0)
    return LB_FOLDER_ROLE_INBOX;

  /* composed, as the table: "Entwürfe" may come with a combining mark */
  normal = g_utf8_normalize (name, -1, G_NORMALIZE_NFC);
  if (normal == NULL)
    return LB_FOLDER_ROLE_NONE;
  folded = g_utf8_casefold (normal, -1);
  for (guint i = 0; i < G_N_ELEMENTS (well_known); i++)
    {
      g_autofree char *known = g_utf8_casefold (well_known[i].name, -1);

      if (g_strcmp0 (folded, known) == 0)
        return well_known[i].role;
    }
  return LB_FOLDER_ROLE_NONE;
}

/* Roles: INBOX by its name; SPECIAL-USE attributes; else well-known names
 * of folders at the top of the personal namespace. One folder per role:
 * the first that claims it. */
static void
assign_roles (LbImapProvider *self,
              GPtrArray      *entries,
              GPtrArray      *attributes)
{
  gboolean taken[LB_FOLDER_ROLE_OUTBOX + 1] = { FALSE, };
  const char *prefix = self->ns_prefix != NULL ? self->ns_prefix : "";

  for (guint i = 0; i < entries->len; i++)
    {
      ListEntry *entry = entries->pdata[i];
      LbFolderRole role;

      if (g_ascii_strcasecmp (entry->path, "INBOX") == 0)
        role = LB_FOLDER_ROLE_INBOX;
      else
        role = lb_imap_provider_role_for_attributes (attributes->pdata[i]);
      if (role != LB_FOLDER_ROLE_NONE && !taken[role])
        {
          entry->role = role;
          taken[role] = TRUE;
        }
    }

  for (guint i = 0; i < entries->len; i++)
    {
      ListEntry *entry = entries->pdata[i];
      const char *name = entry->path;
      LbFolderRole role;

      if (entry->role != LB_FOLDER_ROLE_NONE)
        continue;
      if (*prefix != '\0' && g_str_has_prefix (name, prefix))
        name += strlen (prefix);
      if (entry->delimiter != NULL && *entry->delimiter != '\0' && strstr (name, entry->delimiter) != NULL)
        continue;   /* not at the top */

      role = lb_imap_provider_role_for_name (name);
      if (role != LB_FOLDER_ROLE_NONE && role != LB_FOLDER_ROLE_INBOX && !taken[role])
        {
          entry->role = role;
          taken[role] = TRUE;
        }
    }
}

static gboolean
status_changed (const LbImapStatusData *status,
                const LbFolderInfo     *info)
{
  if ((status->items & LB_IMAP_STATUS_UIDVALIDITY) && status->uidvalidity != info->uidvalidity)
    return TRUE;
  if ((status->items & LB_IMAP_STATUS_UIDNEXT) && status->uidnext != info->uidnext)
    return TRUE;
  if ((status->items & LB_IMAP_STATUS_HIGHESTMODSEQ) && status->highestmodseq != 0 &&
      status->highestmodseq != info->highestmodseq)
    return TRUE;
  if ((status->items & LB_IMAP_STATUS_MESSAGES) && status->messages != info->total)
    return TRUE;
  return FALSE;
}

/* The poll: syncs the folders whose state moved on since their last sync. */
static void
poll_compare (LbImapProvider *self,
              ListJob        *lj)
{
  for (guint i = 0; i < lj->folders->len; i++)
    {
      const LbFolderInfo *info = lj->folders->pdata[i];
      const LbImapStatusData *status;

      if (info->local)
        continue;
      status = g_hash_table_lookup (lj->status, info->path);
      if (status != NULL && status_changed (status, info))
        {
          g_debug ("Poll: %s changed", info->path);
          schedule_sync (self, info->id);
        }
    }
}

static void
list_finish (Job *job)
{
  ListJob *lj = g_task_get_task_data (job->task);
  GPtrArray *folders = g_steal_pointer (&lj->folders);

  job_return_pointer (job, folders, (GDestroyNotify) g_ptr_array_unref);
}

static void
status_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Job *job = user_data;
  LbImapProvider *self = job_provider (job);
  ListJob *lj = g_task_get_task_data (job->task);
  LbImapStatusData *status;
  GError *error = NULL;

  status = lb_imap_client_status_finish (LB_IMAP_CLIENT (object), result, &error);
  if (status != NULL)
    g_hash_table_insert (lj->status, g_strdup (status->mailbox), status);
  else if (!is_refusal (error) && lj->error == NULL)
    lj->error = error;
  else
    g_error_free (error);

  if (--lj->pending > 0)
    return;

  if (lj->error == NULL)
    poll_compare (self, lj);
  else
    g_debug ("Poll: %s", lj->error->message);
  list_finish (job);
}

static void
list_stored_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Job *job = user_data;
  LbImapProvider *self = job_provider (job);
  ListJob *lj = g_task_get_task_data (job->task);
  GError *error = NULL;

  lj->folders = lb_store_list_folders_finish (LB_STORE (object), result, &error);
  if (lj->folders == NULL)
    {
      g_prefix_error (&error, _("Could not list the folders: "));
      job_return_error (job, error);
      return;
    }

  g_hash_table_remove_all (self->folder_ids);
  for (guint i = 0; i < lj->folders->len; i++)
    remember_folder (self, lj->folders->pdata[i]);

  /* INBOX is known now: IDLE can start */
  self->listed = TRUE;
  update_background (self);

  if (lj->poll && g_hash_table_size (lj->status) == 0 && conn_is_ready (job->conn))
    {
      /* no LIST-STATUS: one STATUS per folder, all in one go */
      g_hash_table_unref (lj->status);
      lj->status = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) lb_imap_status_data_free);
      lj->pending = 1;
      for (guint i = 0; i < lj->folders->len; i++)
        {
          const LbFolderInfo *info = lj->folders->pdata[i];

          if (info->local)
            continue;
          lj->pending++;
          lb_imap_client_status_async (job_client (job), info->path, job_cancellable (job), status_cb, job);
        }
      if (--lj->pending > 0)
        return;
    }
  else if (lj->poll)
    poll_compare (self, lj);

  list_finish (job);
}

static void
prune_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Job *job = user_data;
  GError *error = NULL;

  if (!lb_store_prune_folders_finish (LB_STORE (object), result, &error))
    {
      g_prefix_error (&error, _("Could not list the folders: "));
      job_return_error (job, error);
      return;
    }
  lb_store_list_folders_async (LB_STORE (object), job_cancellable (job), list_stored_cb, job);
}

static void ensure_next (Job *job);

static void
ensure_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(LbFolderInfo) info = NULL;
  GError *error = NULL;

  info = lb_store_ensure_folder_finish (LB_STORE (object), result, &error);
  if (info == NULL)
    {
      g_prefix_error (&error, _("Could not list the folders: "));
      job_return_error (job, error);
      return;
    }
  ensure_next (job);
}

static void
ensure_next (Job *job)
{
  LbImapProvider *self = job_provider (job);
  ListJob *lj = g_task_get_task_data (job->task);
  g_autoptr(GPtrArray) keep = NULL;

  if (lj->next < lj->entries->len)
    {
      ListEntry *entry = lj->entries->pdata[lj->next++];

      lb_store_ensure_folder_async (self->store, entry->path, entry->delimiter, entry->role, FALSE,
                                    job_cancellable (job), ensure_cb, job);
      return;
    }

  /* those gone from the server go here too */
  keep = g_ptr_array_new ();
  for (guint i = 0; i < lj->entries->len; i++)
    g_ptr_array_add (keep, ((ListEntry *) lj->entries->pdata[i])->path);
  lb_store_prune_folders_async (self->store, keep, job_cancellable (job), prune_cb, job);
}

static void
list_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Job *job = user_data;
  LbImapProvider *self = job_provider (job);
  ListJob *lj = g_task_get_task_data (job->task);
  g_autoptr(GPtrArray) attributes = g_ptr_array_new ();
  GError *error = NULL;

  lj->responses = lb_imap_client_list_finish (LB_IMAP_CLIENT (object), result, &error);
  if (lj->responses == NULL)
    {
      g_prefix_error (&error, _("Could not list the folders: "));
      job_return_error (job, error);
      return;
    }

  for (guint i = 0; i < lj->responses->len; i++)
    {
      LbImapResponse *response = lj->responses->pdata[i];
      const LbImapList *list = response->list;
      ListEntry *entry;

      if (response->data == LB_IMAP_DATA_STATUS && response->status_data != NULL &&
          response->status_data->mailbox != NULL)
        {
          g_hash_table_insert (lj->status, g_strdup (response->status_data->mailbox), response->status_data);
          continue;
        }
      if (response->data != LB_IMAP_DATA_LIST || list == NULL || list->mailbox == NULL)
        continue;

      /* a name in the hierarchy, not a mailbox: nothing to sync */
      if (lb_imap_flags_contain (list->attributes, "\\NonExistent") ||
          lb_imap_flags_contain (list->attributes, "\\Noselect"))
        continue;
      if (*list->mailbox == '\0' || !g_utf8_validate (list->mailbox, -1, NULL))
        {
          g_debug ("Skipping a mailbox whose name is not valid UTF-8");
          continue;
        }

      entry = g_new0 (ListEntry, 1);
      entry->path = g_strdup (list->mailbox);
      entry->delimiter = list->delimiter != '\0' ? g_strndup (&list->delimiter, 1) : NULL;
      g_ptr_array_add (lj->entries, entry);
      g_ptr_array_add (attributes, list->attributes);
    }

  assign_roles (self, lj->entries, attributes);
  ensure_next (job);
}

static void
list_job_run (Job *job)
{
  ListJob *lj = g_task_get_task_data (job->task);
  gboolean with_status = lj->poll && lb_imap_client_has_capability (job_client (job), "LIST-STATUS");

  lb_imap_client_list_async (job_client (job), "*", FALSE, with_status, job_cancellable (job), list_cb, job);
}

static void
list_folders_internal (LbImapProvider      *self,
                       gboolean             poll,
                       gboolean             background,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task;
  ListJob *lj;

  /* one waiting list will do */
  if (background && waiting_job (self->cmd, JOB_LIST) != NULL)
    return;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, list_folders_internal);
  lj = g_new0 (ListJob, 1);
  lj->poll = poll;
  lj->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) list_entry_free);
  lj->status = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_task_set_task_data (task, lj, (GDestroyNotify) list_job_free);
  enqueue (self, self->cmd, job_new (task, JOB_LIST, list_job_run));
}

static void
list_bg_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GError) error = NULL;

  folders = g_task_propagate_pointer (G_TASK (result), &error);
  if (folders == NULL)
    g_debug ("Background folder list: %s", error->message);
}

/* ------------------------------------------------------------------ bodies and parts */

typedef struct
{
  gint64            key;
  char             *section;
  gint64            since;
  gint64            folder_id;
  LbMessageSummary *summary;
} FetchJob;

static void
fetch_job_free (FetchJob *fj)
{
  g_free (fj->section);
  g_clear_pointer (&fj->summary, lb_message_summary_unref);
  g_free (fj);
}

static void
fetch_read_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Job *job = user_data;
  GError *error = NULL;
  GBytes *bytes;

  bytes = lb_store_read_message_finish (LB_STORE (object), result, &error);
  if (bytes == NULL)
    {
      g_prefix_error (&error, _("Could not read the message: "));
      job_return_error (job, error);
      return;
    }
  job_return_pointer (job, bytes, (GDestroyNotify) g_bytes_unref);
}

static void
fetch_body_fetched_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  Job *job = user_data;
  LbImapProvider *self = job_provider (job);
  FetchJob *fj = g_task_get_task_data (job->task);
  GError *error = NULL;
  guint n;

  n = lb_imap_sync_fetch_bodies_finish (LB_IMAP_SYNC (object), result, &error);
  if (n == G_MAXUINT)
    {
      if (!is_cancelled (error))
        g_prefix_error (&error, _("Could not download the message: "));
      job_return_error (job, error);
      return;
    }
  if (n == 0)
    {
      job_return_error (job, g_error_new_literal (LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_NOT_ON_SERVER,
                                                  _("Could not download the message: it is no longer on the server")));
      return;
    }
  lb_store_read_message_async (self->store, fj->key, job_cancellable (job), fetch_read_cb, job);
}

static void
fetch_body_job_run (Job *job)
{
  FetchJob *fj = g_task_get_task_data (job->task);
  g_autoptr(GPtrArray) summaries = g_ptr_array_new ();

  g_ptr_array_add (summaries, fj->summary);
  lb_imap_sync_fetch_bodies_async (job->sync, fj->summary->folder_id, summaries,
                                   job_cancellable (job), fetch_body_fetched_cb, job);
}

static void
fetch_part_fetched_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  Job *job = user_data;
  GError *error = NULL;
  GBytes *bytes;

  bytes = lb_imap_sync_fetch_part_finish (LB_IMAP_SYNC (object), result, &error);
  if (bytes == NULL)
    {
      if (!is_cancelled (error))
        g_prefix_error (&error, _("Could not download the part of the message: "));
      job_return_error (job, error);
      return;
    }
  job_return_pointer (job, bytes, (GDestroyNotify) g_bytes_unref);
}

static void
fetch_part_job_run (Job *job)
{
  FetchJob *fj = g_task_get_task_data (job->task);

  lb_imap_sync_fetch_part_async (job->sync, fj->summary->folder_id, fj->summary->uid,
                                 fj->section, job_cancellable (job), fetch_part_fetched_cb, job);
}

/* For a fetch: the message's summary, then the job. */
static void
fetch_message_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  LbImapProvider *self = g_task_get_source_object (task);
  FetchJob *fj = g_task_get_task_data (task);
  GError *error = NULL;

  fj->summary = lb_store_get_message_finish (LB_STORE (object), result, &error);
  if (fj->summary == NULL)
    {
      g_prefix_error (&error, _("Could not download the message: "));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (fj->summary->uid == 0)
    {
      g_task_return_new_error (task, LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_NOT_ON_SERVER,
                               "%s", _("Could not download the message: it is not on the server yet"));
      g_object_unref (task);
      return;
    }

  enqueue (self, fetch_conn (self),
           job_new (task, JOB_OTHER, fj->section != NULL ? fetch_part_job_run : fetch_body_job_run));
}

static void
fetch_cached_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  FetchJob *fj = g_task_get_task_data (task);
  GError *error = NULL;
  GBytes *bytes;

  bytes = lb_store_read_message_finish (LB_STORE (object), result, &error);
  if (bytes != NULL)
    {
      g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
      g_object_unref (task);
      return;
    }
  if (!g_error_matches (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FETCHED))
    {
      g_prefix_error (&error, _("Could not read the message: "));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  g_error_free (error);

  lb_store_get_message_async (LB_STORE (object), fj->key, g_task_get_cancellable (task),
                              fetch_message_cb, task);
}

static void
imap_fetch_body_async (LbProvider          *provider,
                       gint64               key,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  LbImapProvider *self = LB_IMAP_PROVIDER (provider);
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  FetchJob *fj = g_new0 (FetchJob, 1);

  g_task_set_source_tag (task, imap_fetch_body_async);
  fj->key = key;
  g_task_set_task_data (task, fj, (GDestroyNotify) fetch_job_free);
  lb_store_read_message_async (self->store, key, cancellable, fetch_cached_cb, task);
}

static GBytes *
imap_fetch_body_finish (LbProvider    *provider,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, provider), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == imap_fetch_body_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lb_imap_provider_fetch_part_async:
 * @self: a provider
 * @key: a message of a server folder
 * @section: the part, as in its #LbMessageSummary.structure ("1.2"), or
 *   "" for the whole message
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the part
 * @user_data: data for @callback
 *
 * Downloads one part of a message, still in its transfer encoding, without
 * keeping it: an attachment the user opens, say.
 */
void
lb_imap_provider_fetch_part_async (LbImapProvider      *self,
                                   gint64               key,
                                   const char          *section,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  GTask *task;
  FetchJob *fj;

  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));
  g_return_if_fail (section != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_imap_provider_fetch_part_async);
  fj = g_new0 (FetchJob, 1);
  fj->key = key;
  fj->section = g_strdup (section);
  g_task_set_task_data (task, fj, (GDestroyNotify) fetch_job_free);
  lb_store_get_message_async (self->store, key, cancellable, fetch_message_cb, task);
}

GBytes *
lb_imap_provider_fetch_part_finish (LbImapProvider  *self,
                                    GAsyncResult    *result,
                                    GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_provider_fetch_part_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
bodies_fetched_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Job *job = user_data;
  GError *error = NULL;
  guint n;

  n = lb_imap_sync_fetch_bodies_finish (LB_IMAP_SYNC (object), result, &error);
  if (n == G_MAXUINT)
    {
      if (!is_cancelled (error))
        g_prefix_error (&error, _("Could not download the messages: "));
      job_return_error (job, error);
      return;
    }
  job_return_int (job, n);
}

static void
bodies_uncached_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Job *job = user_data;
  FetchJob *fj = g_task_get_task_data (job->task);
  g_autoptr(GPtrArray) uncached = NULL;
  GError *error = NULL;

  uncached = lb_store_list_uncached_finish (LB_STORE (object), result, &error);
  if (uncached == NULL)
    {
      g_prefix_error (&error, _("Could not download the messages: "));
      job_return_error (job, error);
      return;
    }
  if (uncached->len == 0)
    {
      job_return_int (job, 0);
      return;
    }
  lb_imap_sync_fetch_bodies_async (job->sync, fj->folder_id, uncached, job_cancellable (job),
                                   bodies_fetched_cb, job);
}

static void
bodies_job_run (Job *job)
{
  LbImapProvider *self = job_provider (job);
  FetchJob *fj = g_task_get_task_data (job->task);

  lb_store_list_uncached_async (self->store, fj->folder_id, fj->since, 0, job_cancellable (job),
                                bodies_uncached_cb, job);
}

/**
 * lb_imap_provider_fetch_bodies_async:
 * @self: a provider
 * @folder_id: a server folder
 * @since: the oldest date wanted, seconds since the epoch; 0 for all
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the count
 * @user_data: data for @callback
 *
 * Downloads the whole messages of the folder (dated @since or later) that
 * are not in the store's body cache yet, for reading them offline.
 */
void
lb_imap_provider_fetch_bodies_async (LbImapProvider      *self,
                                     gint64               folder_id,
                                     gint64               since,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  GTask *task;
  FetchJob *fj;

  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_imap_provider_fetch_bodies_async);
  fj = g_new0 (FetchJob, 1);
  fj->folder_id = folder_id;
  fj->since = since;
  g_task_set_task_data (task, fj, (GDestroyNotify) fetch_job_free);
  enqueue (self, self->cmd, job_new (task, JOB_OTHER, bodies_job_run));
}

/**
 * lb_imap_provider_fetch_bodies_finish:
 *
 * Returns: how many messages were downloaded; G_MAXUINT on error
 */
guint
lb_imap_provider_fetch_bodies_finish (LbImapProvider  *self,
                                      GAsyncResult    *result,
                                      GError         **error)
{
  gssize n;

  g_return_val_if_fail (g_task_is_valid (result, self), G_MAXUINT);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_provider_fetch_bodies_async,
                        G_MAXUINT);

  n = g_task_propagate_int (G_TASK (result), error);
  return n < 0 ? G_MAXUINT : (guint) n;
}

/* ------------------------------------------------------------------ changes */

/* A store write made with LB_STORE_WRITE_QUEUE is done: the server gets
 * it from the queue. */
static void
change_stored (GTask    *task,
               gboolean  ok,
               GError   *error)
{
  LbImapProvider *self = g_task_get_source_object (task);

  if (!ok)
    {
      g_prefix_error (&error, "%s", (const char *) g_task_get_task_data (task));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  kick_replay (self);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static GTask *
change_task (LbImapProvider      *self,
             gpointer             source_tag,
             const char          *prefix,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, g_strdup (prefix), g_free);
  return task;
}

static gboolean
change_finish (LbProvider    *provider,
               GAsyncResult  *result,
               gpointer       source_tag,
               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, provider), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
set_flags_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GError *error = NULL;
  gboolean ok = lb_store_set_flags_finish (LB_STORE (object), result, &error);

  change_stored (user_data, ok, error);
}

static void
imap_set_flags_async (LbProvider          *provider,
                      GArray              *keys,
                      guint                add,
                      guint                remove,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  LbImapProvider *self = LB_IMAP_PROVIDER (provider);
  GTask *task = change_task (self, imap_set_flags_async, _("Could not change the flags of the messages: "),
                             cancellable, callback, user_data);

  /* local messages change in their Maildir; only server ones are queued */
  lb_store_set_flags_async (self->store, keys, add, remove, LB_STORE_WRITE_QUEUE, cancellable,
                            set_flags_cb, task);
}

static gboolean
imap_set_flags_finish (LbProvider    *provider,
                       GAsyncResult  *result,
                       GError       **error)
{
  return change_finish (provider, result, imap_set_flags_async, error);
}

static void
move_messages_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GError *error = NULL;
  gboolean ok = lb_store_move_messages_finish (LB_STORE (object), result, &error);

  change_stored (user_data, ok, error);
}

static void
imap_move_async (LbProvider          *provider,
                 GArray              *keys,
                 gint64               target_folder_id,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  LbImapProvider *self = LB_IMAP_PROVIDER (provider);
  GTask *task = change_task (self, imap_move_async, _("Could not move the messages: "),
                             cancellable, callback, user_data);

  lb_store_move_messages_async (self->store, keys, target_folder_id, LB_STORE_WRITE_QUEUE, cancellable,
                                move_messages_cb, task);
}

static gboolean
imap_move_finish (LbProvider    *provider,
                  GAsyncResult  *result,
                  GError       **error)
{
  return change_finish (provider, result, imap_move_async, error);
}

static void
delete_messages_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GError *error = NULL;
  gboolean ok = lb_store_delete_messages_finish (LB_STORE (object), result, &error);

  change_stored (user_data, ok, error);
}

static void
imap_delete_async (LbProvider          *provider,
                   GArray              *keys,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  LbImapProvider *self = LB_IMAP_PROVIDER (provider);
  GTask *task = change_task (self, imap_delete_async, _("Could not delete the messages: "),
                             cancellable, callback, user_data);

  lb_store_delete_messages_async (self->store, keys, LB_STORE_WRITE_QUEUE, cancellable,
                                  delete_messages_cb, task);
}

static gboolean
imap_delete_finish (LbProvider    *provider,
                    GAsyncResult  *result,
                    GError       **error)
{
  return change_finish (provider, result, imap_delete_async, error);
}

static void
expunge_stored_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GError *error = NULL;
  gboolean ok = lb_store_expunge_finish (LB_STORE (object), result, &error);

  change_stored (user_data, ok, error);
}

static void
local_expunge_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!lb_provider_expunge_finish (LB_PROVIDER (object), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
expunge_folder_info_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  GTask *task = user_data;
  LbImapProvider *self = g_task_get_source_object (task);
  g_autoptr(LbFolderInfo) info = NULL;
  GError *error = NULL;

  info = lb_store_get_folder_finish (LB_STORE (object), result, &error);
  if (info == NULL)
    {
      change_stored (task, FALSE, error);
      return;
    }
  if (info->local)
    {
      lb_provider_expunge_async (LB_PROVIDER (self->local), info->id, g_task_get_cancellable (task),
                                 local_expunge_cb, task);
      return;
    }
  /* each message flagged deleted goes, and its deletion is queued */
  lb_store_expunge_async (self->store, info->id, LB_STORE_WRITE_QUEUE, g_task_get_cancellable (task),
                          expunge_stored_cb, task);
}

static void
imap_expunge_async (LbProvider          *provider,
                    gint64               folder_id,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  LbImapProvider *self = LB_IMAP_PROVIDER (provider);
  GTask *task = change_task (self, imap_expunge_async, _("Could not remove the deleted messages: "),
                             cancellable, callback, user_data);

  lb_store_get_folder_async (self->store, folder_id, cancellable, expunge_folder_info_cb, task);
}

static gboolean
imap_expunge_finish (LbProvider    *provider,
                     GAsyncResult  *result,
                     GError       **error)
{
  return change_finish (provider, result, imap_expunge_async, error);
}

/* ---- append ---- */

typedef struct
{
  gint64            folder_id;
  GBytes           *raw;
  guint             flags;
  gint64            replaces;      /* save_draft: the draft it replaces */
  LbMessageSummary *summary;
  char             *body_text;
  gint64            key;
} AppendData;

static void
append_data_free (AppendData *ad)
{
  g_clear_pointer (&ad->raw, g_bytes_unref);
  g_clear_pointer (&ad->summary, lb_message_summary_unref);
  g_free (ad->body_text);
  g_free (ad);
}

static void
append_fail (GTask  *task,
             GError *error)
{
  g_prefix_error (&error, _("Could not store the message: "));
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
append_done (GTask *task)
{
  LbImapProvider *self = g_task_get_source_object (task);
  AppendData *ad = g_task_get_task_data (task);

  kick_replay (self);
  g_task_return_pointer (task, g_memdup2 (&ad->key, sizeof ad->key), g_free);
  g_object_unref (task);
}

static void
append_added_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  AppendData *ad = g_task_get_task_data (task);
  GError *error = NULL;

  ad->key = lb_store_add_upload_finish (LB_STORE (object), result, &error);
  if (ad->key == 0)
    {
      append_fail (task, error);
      return;
    }
  append_done (task);
}

static void
append_parsed_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  LbImapProvider *self = g_task_get_source_object (task);
  AppendData *ad = g_task_get_task_data (task);

  if (ad->summary == NULL)
    {
      append_fail (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                              _("The message is empty")));
      return;
    }
  ad->summary->flags = ad->flags & LB_MESSAGE_FLAGS_ALL;
  ad->summary->size = g_bytes_get_size (ad->raw);

  /* shown at once: its bytes kept first, then its row and its upload
   * queued in one transaction (the replay uploads it from the cache),
   * with the deletion of the draft it replaces */
  lb_store_add_upload_async (self->store, ad->folder_id, ad->summary, ad->body_text, ad->raw,
                             ad->replaces, NULL, append_added_cb, task);
}

static void
append_parse_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  AppendData *ad = task_data;

  /* CPU work: a large message takes a while */
  ad->summary = lb_mime_summary_parse (ad->raw, g_get_real_time () / G_USEC_PER_SEC, &ad->body_text, NULL);
  g_task_return_boolean (task, TRUE);
}

static void
local_append_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  AppendData *ad = g_task_get_task_data (task);
  GError *error = NULL;

  ad->key = lb_provider_append_finish (LB_PROVIDER (object), result, &error);
  if (ad->key == 0)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  g_task_return_pointer (task, g_memdup2 (&ad->key, sizeof ad->key), g_free);
  g_object_unref (task);
}

static void
append_folder_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  LbImapProvider *self = g_task_get_source_object (task);
  AppendData *ad = g_task_get_task_data (task);
  g_autoptr(LbFolderInfo) info = NULL;
  g_autoptr(GTask) parse = NULL;
  GError *error = NULL;

  info = lb_store_get_folder_finish (LB_STORE (object), result, &error);
  if (info == NULL)
    {
      append_fail (task, error);
      return;
    }
  if (info->local)
    {
      lb_provider_append_async (LB_PROVIDER (self->local), info->id, ad->raw, ad->flags,
                                g_task_get_cancellable (task), local_append_cb, task);
      return;
    }

  parse = g_task_new (self, NULL, append_parsed_cb, task);
  g_task_set_task_data (parse, ad, NULL);
  g_task_run_in_thread (parse, append_parse_thread);
}

static GTask *
append_start (LbImapProvider      *self,
              gpointer             source_tag,
              gint64               folder_id,
              GBytes              *raw,
              guint                flags,
              gint64               replaces,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  AppendData *ad = g_new0 (AppendData, 1);

  g_task_set_source_tag (task, source_tag);
  ad->folder_id = folder_id;
  ad->raw = g_bytes_ref (raw);
  ad->flags = flags;
  ad->replaces = replaces;
  g_task_set_task_data (task, ad, (GDestroyNotify) append_data_free);
  lb_store_get_folder_async (self->store, folder_id, cancellable, append_folder_cb, task);
  return task;
}

static gint64
append_finish (GAsyncResult  *result,
               GError       **error)
{
  g_autofree gint64 *key = g_task_propagate_pointer (G_TASK (result), error);

  return key != NULL ? *key : 0;
}

static void
imap_append_async (LbProvider          *provider,
                   gint64               folder_id,
                   GBytes              *raw,
                   guint                flags,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  append_start (LB_IMAP_PROVIDER (provider), imap_append_async, folder_id, raw, flags, 0,
                cancellable, callback, user_data);
}

static gint64
imap_append_finish (LbProvider    *provider,
                    GAsyncResult  *result,
                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, provider), 0);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == imap_append_async, 0);

  return append_finish (result, error);
}

/**
 * lb_imap_provider_save_draft_async:
 * @self: a provider
 * @folder_id: the Drafts folder
 * @raw: the draft (RFC 5322)
 * @replaces_key: the key of the draft it replaces, 0 for none
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the new draft's key
 * @user_data: data for @callback
 *
 * Saves a draft with the draft flag: the new one is stored, then the one
 * it replaces deleted for good, both queued for the server in that order.
 */
void
lb_imap_provider_save_draft_async (LbImapProvider      *self,
                                   gint64               folder_id,
                                   GBytes              *raw,
                                   gint64               replaces_key,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));
  g_return_if_fail (raw != NULL);

  append_start (self, lb_imap_provider_save_draft_async, folder_id, raw,
                LB_MESSAGE_DRAFT | LB_MESSAGE_SEEN, replaces_key, cancellable, callback, user_data);
}

gint64
lb_imap_provider_save_draft_finish (LbImapProvider  *self,
                                    GAsyncResult    *result,
                                    GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), 0);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_provider_save_draft_async, 0);

  return append_finish (result, error);
}

/* ---- trash ---- */

typedef struct
{
  GArray    *keys;
  GPtrArray *summaries;
  GArray    *to_delete;
  guint      pending;
  GError    *error;
} TrashData;

static void
trash_data_free (TrashData *td)
{
  g_clear_pointer (&td->keys, g_array_unref);
  g_clear_pointer (&td->summaries, g_ptr_array_unref);
  g_clear_pointer (&td->to_delete, g_array_unref);
  g_clear_error (&td->error);
  g_free (td);
}

static void
trash_step_done (GTask *task)
{
  LbImapProvider *self = g_task_get_source_object (task);
  TrashData *td = g_task_get_task_data (task);

  if (--td->pending > 0)
    return;

  kick_replay (self);
  if (td->error != NULL)
    {
      GError *error = g_steal_pointer (&td->error);

      g_prefix_error (&error, _("Could not delete the messages: "));
      g_task_return_error (task, error);
    }
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static void
trash_moved_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  TrashData *td = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lb_store_move_messages_finish (LB_STORE (object), result, &error))
    {
      if (td->error == NULL)
        td->error = error;
      else
        g_error_free (error);
    }
  trash_step_done (task);
}

static void
trash_deleted_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  TrashData *td = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lb_store_delete_messages_finish (LB_STORE (object), result, &error))
    {
      if (td->error == NULL)
        td->error = error;
      else
        g_error_free (error);
    }
  trash_step_done (task);
}

static void
trash_folders_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  TrashData *td = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  g_autoptr(GPtrArray) folders = NULL;
  g_autoptr(GArray) to_move = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GHashTable) local = g_hash_table_new (g_int64_hash, g_int64_equal);
  gint64 trash = 0;
  GError *error = NULL;

  folders = lb_store_list_folders_finish (LB_STORE (object), result, &error);
  if (folders == NULL)
    {
      g_prefix_error (&error, _("Could not delete the messages: "));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  for (guint i = 0; i < folders->len; i++)
    {
      LbFolderInfo *info = folders->pdata[i];

      if (info->local)
        g_hash_table_add (local, &info->id);
      else if (info->role == LB_FOLDER_ROLE_TRASH && trash == 0)
        trash = info->id;
    }

  /* to Trash, except what is in Trash already, or here only */
  td->to_delete = g_array_new (FALSE, FALSE, sizeof (gint64));
  for (guint i = 0; i < td->summaries->len; i++)
    {
      LbMessageSummary *summary = td->summaries->pdata[i];

      if (summary->folder_id == trash || g_hash_table_contains (local, &summary->folder_id))
        g_array_append_val (td->to_delete, summary->key);
      else
        g_array_append_val (to_move, summary->key);
    }

  /* without a Trash, the Delete key must not delete for good unasked */
  if (trash == 0 && to_move->len > 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                               _("This account has no Trash folder: the messages were not deleted. "
                                 "Delete them for good instead?"));
      g_object_unref (task);
      return;
    }

  td->pending = 1;
  if (to_move->len > 0)
    {
      td->pending++;
      lb_store_move_messages_async (LB_STORE (object), to_move, trash, LB_STORE_WRITE_QUEUE, cancellable,
                                    trash_moved_cb, task);
    }
  if (td->to_delete->len > 0)
    {
      td->pending++;
      lb_store_delete_messages_async (LB_STORE (object), td->to_delete, LB_STORE_WRITE_QUEUE, cancellable,
                                      trash_deleted_cb, task);
    }
  trash_step_done (task);
}

static void
trash_messages_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  TrashData *td = g_task_get_task_data (task);
  GError *error = NULL;

  td->summaries = lb_store_get_messages_finish (LB_STORE (object), result, &error);
  if (td->summaries == NULL)
    {
      g_prefix_error (&error, _("Could not delete the messages: "));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  lb_store_list_folders_async (LB_STORE (object), g_task_get_cancellable (task), trash_folders_cb, task);
}

/**
 * lb_imap_provider_trash_async:
 * @self: a provider
 * @keys: (element-type gint64): the messages
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * What the Delete key does: moves the messages to the Trash folder; those
 * in Trash already, or in a local folder, are deleted for good. If the
 * account has no Trash folder (none the server marks \Trash, none with a
 * known name), nothing changes and the task fails with
 * %G_IO_ERROR_NOT_FOUND: ask the user, then lb_provider_delete_async().
 * The store changes at once; the server follows through the offline
 * queue.
 */
void
lb_imap_provider_trash_async (LbImapProvider      *self,
                              GArray              *keys,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  GTask *task;
  TrashData *td;

  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));
  g_return_if_fail (keys != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_imap_provider_trash_async);
  td = g_new0 (TrashData, 1);
  td->keys = g_array_ref (keys);
  g_task_set_task_data (task, td, (GDestroyNotify) trash_data_free);
  lb_store_get_messages_async (self->store, keys, cancellable, trash_messages_cb, task);
}

gboolean
lb_imap_provider_trash_finish (LbImapProvider  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_provider_trash_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- junk ---- */

static void
junk_queued_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!lb_store_queue_keywords_finish (LB_STORE (object), result, &error))
    {
      g_prefix_error (&error, _("Could not mark the messages as junk or not junk: "));
      g_task_return_error (task, error);
      return;
    }
  kick_replay (g_task_get_source_object (task));
  g_task_return_boolean (task, TRUE);
}

/**
 * lb_imap_provider_set_junk_async:
 * @self: a provider
 * @keys: (element-type gint64): messages of server folders
 * @junk: %TRUE for junk ($Junk), %FALSE for not junk ($NotJunk)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the change is queued
 * @user_data: data for @callback
 *
 * Tells the server (and its mail filter) what the user thinks of the
 * messages, with the $Junk and $NotJunk keywords (one on, the other off:
 * a filter learns from both). The change goes through the offline queue
 * (%LB_STORE_OP_SET_KEYWORDS), queued when this is called: a move asked
 * right after (to Junk, say) is replayed after it, and one asked before
 * first, so the keywords reach the message wherever the moves take it.
 */
void
lb_imap_provider_set_junk_async (LbImapProvider      *self,
                                 GArray              *keys,
                                 gboolean             junk,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));
  g_return_if_fail (keys != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_imap_provider_set_junk_async);
  /* at once, not after a read: the store keeps the order of the writes */
  lb_store_queue_keywords_async (self->store, keys,
                                 junk ? LB_STORE_KEYWORD_JUNK : LB_STORE_KEYWORD_NOT_JUNK,
                                 junk ? LB_STORE_KEYWORD_NOT_JUNK : LB_STORE_KEYWORD_JUNK,
                                 cancellable, junk_queued_cb, task);
}

gboolean
lb_imap_provider_set_junk_finish (LbImapProvider  *self,
                                  GAsyncResult    *result,
                                  GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_provider_set_junk_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------ server search */

/* with folder_id 0: this many folders at most, Inbox first */
#define SEARCH_MAX_FOLDERS 32

typedef struct
{
  char      **words;
  gint64      folder_id;    /* 0: every synced folder */
  guint       limit;
  GPtrArray  *folders;      /* LbFolderInfo, in the order searched */
  guint       next;
  guint       searched;     /* folders the server searched */
  GArray     *keys;         /* gint64, found so far */
  GError     *refusal;      /* the first folder the server refused to search */
  gboolean    queued;       /* the job waits for a connection, or has it */
  gboolean    started;      /* the job had its connection */
  gboolean    retried;      /* on a new connection, after a drop */
} ServerSearch;

static void
server_search_free (ServerSearch *ss)
{
  g_strfreev (ss->words);
  g_clear_pointer (&ss->folders, g_ptr_array_unref);
  g_clear_pointer (&ss->keys, g_array_unref);
  g_clear_error (&ss->refusal);
  g_free (ss);
}

/* The caller's task: answered at once when cancelled, while the job
 * (waiting for a connection, say) winds down on its own. */
typedef struct
{
  GSource  *cancel_source;
  gboolean  returned;
} SearchCaller;

static void
search_caller_free (SearchCaller *sc)
{
  if (sc->cancel_source != NULL)
    {
      g_source_destroy (sc->cancel_source);
      g_source_unref (sc->cancel_source);
    }
  g_free (sc);
}

static void search_next_folder (Job *job);
static void search_job_run     (Job *job);

static void
search_keys_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Job *job = user_data;
  ServerSearch *ss = g_task_get_task_data (job->task);
  g_autoptr(GArray) keys = NULL;
  GError *error = NULL;

  keys = lb_store_keys_for_uids_finish (LB_STORE (object), result, &error);
  if (keys == NULL)
    {
      if (!is_cancelled (error))
        g_prefix_error (&error, _("Could not search on the server: "));
      job_return_error (job, error);
      return;
    }
  g_array_append_vals (ss->keys, keys->data, keys->len);
  ss->next++;
  search_next_folder (job);
}

/* A folder the server would not search (gone, or refused) is skipped
 * when searching them all; anything else ends the search. */
static void
search_folder_failed (Job    *job,
                      GError *error)
{
  LbImapProvider *self = job_provider (job);
  ServerSearch *ss = g_task_get_task_data (job->task);

  /* the connection was found dead (a NOOP checks only one unused for
   * minutes): once more on a new one, which offline fails to open */
  if (is_transient (error) && !ss->retried)
    {
      GTask *task = g_steal_pointer (&job->task);

      g_debug ("Search: trying again on a new connection: %s", error->message);
      g_error_free (error);
      ss->retried = TRUE;
      ss->started = FALSE;
      job_done (job);
      enqueue (self, fetch_conn (self), job_new (task, JOB_OTHER, search_job_run));
      return;
    }

  if (ss->folder_id == 0 && is_refusal (error))
    {
      const LbFolderInfo *info = ss->folders->pdata[ss->next];

      g_debug ("Search: skipping %s: %s", info->path, error->message);
      if (ss->refusal == NULL)
        ss->refusal = error;
      else
        g_error_free (error);
      ss->next++;
      search_next_folder (job);
      return;
    }
  if (!is_cancelled (error))
    g_prefix_error (&error, _("Could not search on the server: "));
  job_return_error (job, error);
}

static void
search_found_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Job *job = user_data;
  LbImapProvider *self = job_provider (job);
  ServerSearch *ss = g_task_get_task_data (job->task);
  const LbFolderInfo *info = ss->folders->pdata[ss->next];
  g_autoptr(GArray) uids = NULL;
  GError *error = NULL;

  uids = lb_imap_client_uid_search_finish (LB_IMAP_CLIENT (object), result, &error);
  if (uids == NULL)
    {
      search_folder_failed (job, error);
      return;
    }
  ss->searched++;
  if (uids->len == 0)
    {
      ss->next++;
      search_next_folder (job);
      return;
    }

  /* newest first: by UID, the order they arrived in */
  for (guint i = 0, j = uids->len - 1; i < j; i++, j--)
    {
      guint32 uid = g_array_index (uids, guint32, i);

      g_array_index (uids, guint32, i) = g_array_index (uids, guint32, j);
      g_array_index (uids, guint32, j) = uid;
    }
  lb_store_keys_for_uids_async (self->store, info->id, uids, ss->limit - ss->keys->len,
                                job_cancellable (job), search_keys_cb, job);
}

static void
search_selected_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  Job *job = user_data;
  ServerSearch *ss = g_task_get_task_data (job->task);
  const LbFolderInfo *info = ss->folders->pdata[ss->next];
  const LbImapMailboxInfo *selected;
  g_autoptr(LbImapCommand) criteria = NULL;
  GError *error = NULL;

  if (!lb_imap_sync_select_finish (LB_IMAP_SYNC (object), result, &error))
    {
      search_folder_failed (job, error);
      return;
    }

  /* renumbered since the last sync: the store's UIDs name other messages */
  selected = lb_imap_client_get_selected (job_client (job));
  if (selected == NULL || selected->uidvalidity != info->uidvalidity)
    {
      g_debug ("Search: skipping %s: its UIDVALIDITY changed", info->path);
      ss->next++;
      search_next_folder (job);
      return;
    }

  /* every word, ANDed; each sent as a quoted string or a literal, and
   * the client adds CHARSET UTF-8 only when a word is not ASCII (ASCII
   * is every server's default, so no BADCHARSET to fall back from) */
  criteria = lb_imap_command_new (NULL);
  for (guint i = 0; ss->words[i] != NULL; i++)
    {
      lb_imap_command_add_atom (criteria, "TEXT");
      lb_imap_command_add_string (criteria, ss->words[i]);
    }
  lb_imap_client_uid_search_async (job_client (job), criteria, job_cancellable (job),
                                   search_found_cb, job);
}

static void
search_next_folder (Job *job)
{
  ServerSearch *ss = g_task_get_task_data (job->task);
  const LbFolderInfo *info;

  if (ss->next >= ss->folders->len || ss->keys->len >= ss->limit)
    {
      /* refused everywhere (a charset the server lacks, say): say so */
      if (ss->searched == 0 && ss->refusal != NULL)
        {
          GError *error = g_steal_pointer (&ss->refusal);

          g_prefix_error (&error, _("Could not search on the server: "));
          job_return_error (job, error);
          return;
        }
      job_return_pointer (job, g_steal_pointer (&ss->keys), (GDestroyNotify) g_array_unref);
      return;
    }

  info = ss->folders->pdata[ss->next];
  lb_imap_sync_select_async (job->sync, info->path, job_cancellable (job), search_selected_cb, job);
}

static void
search_job_run (Job *job)
{
  ServerSearch *ss = g_task_get_task_data (job->task);

  ss->started = TRUE;
  search_next_folder (job);
}

/* Inbox first, then the other folders, Junk and Trash last. */
static int
search_folder_rank (const LbFolderInfo *info)
{
  switch (info->role)
    {
    case LB_FOLDER_ROLE_INBOX:
      return 0;

    case LB_FOLDER_ROLE_JUNK:
    case LB_FOLDER_ROLE_TRASH:
      return 2;

    case LB_FOLDER_ROLE_NONE:
    case LB_FOLDER_ROLE_SENT:
    case LB_FOLDER_ROLE_DRAFTS:
    case LB_FOLDER_ROLE_ARCHIVE:
    case LB_FOLDER_ROLE_OUTBOX:
    default:
      return g_ascii_strcasecmp (info->path, "INBOX") == 0 ? 0 : 1;
    }
}

static void
search_folders_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  LbImapProvider *self = g_task_get_source_object (task);
  ServerSearch *ss = g_task_get_task_data (task);
  g_autoptr(GPtrArray) folders = NULL;
  GError *error = NULL;

  folders = lb_store_list_folders_finish (LB_STORE (object), result, &error);
  if (folders == NULL)
    {
      if (!is_cancelled (error))
        g_prefix_error (&error, _("Could not search on the server: "));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  /* local folders have all their mail here, their own index finds it */
  ss->folders = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_folder_info_free);
  if (ss->folder_id != 0)
    {
      const LbFolderInfo *folder = NULL;

      for (guint i = 0; i < folders->len && folder == NULL; i++)
        if (((LbFolderInfo *) folders->pdata[i])->id == ss->folder_id)
          folder = folders->pdata[i];
      if (folder == NULL)
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                                   _("Could not search on the server: the folder no longer exists"));
          g_object_unref (task);
          return;
        }
      if (!folder->local)
        g_ptr_array_add (ss->folders, lb_folder_info_copy (folder));
    }
  else
    {
      /* a folder never synced has no message here a UID could name */
      for (int rank = 0; rank <= 2; rank++)
        for (guint i = 0; i < folders->len && ss->folders->len < SEARCH_MAX_FOLDERS; i++)
          {
            LbFolderInfo *info = folders->pdata[i];

            if (!info->local && info->uidvalidity != 0 && search_folder_rank (info) == rank)
              g_ptr_array_add (ss->folders, lb_folder_info_copy (info));
          }
    }
  if (ss->folders->len == 0)
    {
      g_task_return_pointer (task, g_steal_pointer (&ss->keys), (GDestroyNotify) g_array_unref);
      g_object_unref (task);
      return;
    }

  ss->queued = TRUE;
  enqueue (self, fetch_conn (self), job_new (task, JOB_OTHER, search_job_run));
}

static gboolean
search_cancelled_cb (GCancellable *cancellable,
                     gpointer      user_data)
{
  GTask *caller = user_data;
  SearchCaller *sc = g_task_get_task_data (caller);

  g_clear_pointer (&sc->cancel_source, g_source_unref);
  if (!sc->returned)
    {
      sc->returned = TRUE;
      g_task_return_new_error (caller, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s",
                               _("The search was cancelled"));
    }
  return G_SOURCE_REMOVE;
}

static void
search_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) caller = user_data;
  SearchCaller *sc = g_task_get_task_data (caller);
  ServerSearch *ss = g_task_get_task_data (G_TASK (result));
  gboolean connecting = ss->queued && !ss->started;
  GArray *keys;
  GError *error = NULL;

  keys = g_task_propagate_pointer (G_TASK (result), &error);
  if (sc->cancel_source != NULL)
    {
      g_source_destroy (sc->cancel_source);
      g_clear_pointer (&sc->cancel_source, g_source_unref);
    }
  if (sc->returned)
    {
      g_clear_pointer (&keys, g_array_unref);
      g_clear_error (&error);
      return;
    }
  sc->returned = TRUE;

  if (keys != NULL)
    {
      g_task_return_pointer (caller, keys, (GDestroyNotify) g_array_unref);
      return;
    }

  /* no connection could be had: offline, as far as searching goes */
  if (connecting && is_transient (error) && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CLOSED))
    {
      GError *offline = g_error_new (G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE,
                                     _("Could not search on the server: it cannot be reached (%s)"),
                                     error->message);

      g_error_free (error);
      error = offline;
    }
  g_task_return_error (caller, error);
}

/**
 * lb_imap_provider_search_async:
 * @self: a provider
 * @folder_id: the server folder to search, or 0 for every synced folder
 *   of the account (one at a time, Inbox first, Junk and Trash last, 32
 *   at most, until @limit messages are found)
 * @text: what the user typed: every word must be in the message (its
 *   headers or its text, as the server's SEARCH TEXT understands it)
 * @limit: messages to return at most
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the messages found
 * @user_data: data for @callback
 *
 * The second half of a search, after the store's full-text index
 * (lb_store_search_async()), which knows only the text of the messages
 * whose bodies are cached: asks the server (`UID SEARCH TEXT word TEXT
 * word...`, with CHARSET UTF-8 when a word is not ASCII) on a command
 * connection, the one syncs use or the second one when that is busy,
 * never an IDLE one. Finds only messages the store has (synced); those
 * the server found in a folder not synced since it was renumbered are
 * left out.
 *
 * When no connection can be had (no network, or the server does not
 * answer) it fails with %G_IO_ERROR_NETWORK_UNREACHABLE, at once when
 * the #GNetworkMonitor says there is no network. Cancelling answers at
 * once with %G_IO_ERROR_CANCELLED.
 */
void
lb_imap_provider_search_async (LbImapProvider      *self,
                               gint64               folder_id,
                               const char          *text,
                               guint                limit,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *caller;
  GTask *task;
  SearchCaller *sc;
  ServerSearch *ss;
  g_auto(GStrv) split = NULL;
  GPtrArray *words;

  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));
  g_return_if_fail (text != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  caller = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (caller, lb_imap_provider_search_async);
  sc = g_new0 (SearchCaller, 1);
  g_task_set_task_data (caller, sc, (GDestroyNotify) search_caller_free);

  words = g_ptr_array_new ();
  split = g_strsplit_set (text, " \t\r\n", -1);
  for (guint i = 0; split[i] != NULL; i++)
    if (*split[i] != '\0')
      g_ptr_array_add (words, g_strdup (split[i]));
  g_ptr_array_add (words, NULL);

  if (words->len == 1 || limit == 0)
    {
      g_strfreev ((char **) g_ptr_array_free (words, FALSE));
      sc->returned = TRUE;
      g_task_return_pointer (caller, g_array_new (FALSE, FALSE, sizeof (gint64)),
                             (GDestroyNotify) g_array_unref);
      g_object_unref (caller);
      return;
    }
  if (self->closed || (!conn_is_ready (self->cmd) && !network_available (self)))
    {
      g_strfreev ((char **) g_ptr_array_free (words, FALSE));
      sc->returned = TRUE;
      if (self->closed)
        g_task_return_new_error (caller, G_IO_ERROR, G_IO_ERROR_CLOSED, "%s", _("The account was closed"));
      else
        g_task_return_new_error (caller, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE, "%s",
                                 _("Could not search on the server: there is no network connection"));
      g_object_unref (caller);
      return;
    }

  if (cancellable != NULL)
    {
      sc->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (sc->cancel_source, G_SOURCE_FUNC (search_cancelled_cb), caller, NULL);
      g_source_set_static_name (sc->cancel_source, "[letterbox] search cancelled");
      g_source_attach (sc->cancel_source, g_task_get_context (caller));
    }

  ss = g_new0 (ServerSearch, 1);
  ss->words = (char **) g_ptr_array_free (words, FALSE);
  ss->folder_id = folder_id;
  ss->limit = limit;
  ss->keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  task = g_task_new (self, cancellable, search_done_cb, caller);
  g_task_set_source_tag (task, search_job_run);
  g_task_set_task_data (task, ss, (GDestroyNotify) server_search_free);
  lb_store_list_folders_async (self->store, cancellable, search_folders_cb, task);
}

/**
 * lb_imap_provider_search_finish:
 *
 * Returns: (transfer full) (element-type gint64): the keys of the stored
 *   messages the server found, newest first within each folder (by UID),
 *   at most the limit asked for
 */
GArray *
lb_imap_provider_search_finish (LbImapProvider  *self,
                                GAsyncResult    *result,
                                GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_provider_search_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------ folders */

typedef struct
{
  LbImapMailboxOp  op;
  gint64           folder_id;   /* the folder, or for CREATE its parent (0: the top) */
  gboolean         subscribe;
  char            *name;        /* CREATE, RENAME: the new last component */
  LbFolderInfo    *folder;
  char            *new_path;
  char            *delimiter;
} FolderJob;

static void
folder_job_free (FolderJob *fj)
{
  g_free (fj->name);
  g_clear_pointer (&fj->folder, lb_folder_info_free);
  g_free (fj->new_path);
  g_free (fj->delimiter);
  g_free (fj);
}

static const char *
folder_failure (LbImapMailboxOp op)
{
  switch (op)
    {
    case LB_IMAP_MAILBOX_CREATE:
      return _("Could not create the folder: ");

    case LB_IMAP_MAILBOX_RENAME:
      return _("Could not rename the folder: ");

    case LB_IMAP_MAILBOX_DELETE:
      return _("Could not delete the folder: ");

    case LB_IMAP_MAILBOX_SUBSCRIBE:
    case LB_IMAP_MAILBOX_UNSUBSCRIBE:
    default:
      return _("Could not change the folder’s subscription: ");
    }
}

static void
folder_job_fail (Job    *job,
                 GError *error)
{
  FolderJob *fj = g_task_get_task_data (job->task);

  if (!is_cancelled (error))
    g_prefix_error (&error, "%s", folder_failure (fj->op));
  job_return_error (job, error);
}

static gboolean
check_folder_name (const char  *name,
                   const char  *delimiter,
                   GError     **error)
{
  if (name == NULL || *name == '\0' || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error_literal (error, LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_INVALID_NAME,
                           _("A folder needs a name"));
      return FALSE;
    }
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      {
        g_set_error_literal (error, LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_INVALID_NAME,
                             _("A folder name cannot contain control characters such as line breaks or tabs"));
        return FALSE;
      }
  if (delimiter != NULL && *delimiter != '\0' && strstr (name, delimiter) != NULL)
    {
      g_set_error (error, LB_IMAP_PROVIDER_ERROR, LB_IMAP_PROVIDER_ERROR_INVALID_NAME,
                   _("A folder name on this server cannot contain “%s”"), delimiter);
      return FALSE;
    }
  return TRUE;
}

static void
folder_stored_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Job *job = user_data;
  LbImapProvider *self = job_provider (job);
  FolderJob *fj = g_task_get_task_data (job->task);
  GError *error = NULL;

  switch (fj->op)
    {
    case LB_IMAP_MAILBOX_CREATE:
      {
        LbFolderInfo *info = lb_store_ensure_folder_finish (LB_STORE (object), result, &error);

        if (info == NULL)
          {
            folder_job_fail (job, error);
            return;
          }
        remember_folder (self, info);
        job_return_pointer (job, info, (GDestroyNotify) lb_folder_info_free);
        return;
      }

    case LB_IMAP_MAILBOX_RENAME:
      if (!lb_store_rename_folder_finish (LB_STORE (object), result, &error))
        {
          folder_job_fail (job, error);
          return;
        }
      break;

    case LB_IMAP_MAILBOX_DELETE:
      if (!lb_store_delete_folder_finish (LB_STORE (object), result, &error))
        {
          folder_job_fail (job, error);
          return;
        }
      break;

    case LB_IMAP_MAILBOX_SUBSCRIBE:
    case LB_IMAP_MAILBOX_UNSUBSCRIBE:
    default:
      g_assert_not_reached ();
    }

  /* paths changed: the folders below a renamed one too */
  g_hash_table_remove_all (self->folder_ids);
  self->listed = FALSE;
  update_background (self);
  job_return_boolean (job, TRUE);
}

static void
folder_subscribed_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Job *job = user_data;
  LbImapProvider *self = job_provider (job);
  FolderJob *fj = g_task_get_task_data (job->task);
  g_autoptr(GError) error = NULL;

  /* a server may refuse subscriptions; the folder is made all the same */
  if (!lb_imap_client_mailbox_finish (LB_IMAP_CLIENT (object), result, &error))
    g_debug ("Could not subscribe to %s: %s", fj->new_path, error->message);

  lb_store_ensure_folder_async (self->store, fj->new_path, fj->delimiter, LB_FOLDER_ROLE_NONE, FALSE,
                                job_cancellable (job), folder_stored_cb, job);
}

static void
folder_command_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Job *job = user_data;
  LbImapProvider *self = job_provider (job);
  FolderJob *fj = g_task_get_task_data (job->task);
  GCancellable *cancellable = job_cancellable (job);
  GError *error = NULL;

  if (!lb_imap_client_mailbox_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      folder_job_fail (job, error);
      return;
    }

  switch (fj->op)
    {
    case LB_IMAP_MAILBOX_CREATE:
      lb_imap_client_mailbox_async (job_client (job), LB_IMAP_MAILBOX_SUBSCRIBE, fj->new_path, NULL,
                                    cancellable, folder_subscribed_cb, job);
      return;

    case LB_IMAP_MAILBOX_RENAME:
      lb_store_rename_folder_async (self->store, fj->folder->id, fj->new_path, NULL, cancellable,
                                    folder_stored_cb, job);
      return;

    case LB_IMAP_MAILBOX_DELETE:
      lb_store_delete_folder_async (self->store, fj->folder->id, cancellable, folder_stored_cb, job);
      return;

    case LB_IMAP_MAILBOX_SUBSCRIBE:
    case LB_IMAP_MAILBOX_UNSUBSCRIBE:
    default:
      job_return_boolean (job, TRUE);
      return;
    }
}

static void
folder_unselected_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Job *job = user_data;
  FolderJob *fj = g_task_get_task_data (job->task);
  g_autoptr(GError) error = NULL;

  /* without UNSELECT the server may still refuse: its answer says so */
  if (!lb_imap_client_unselect_finish (LB_IMAP_CLIENT (object), result, &error))
    g_debug ("Could not leave %s: %s", fj->folder->path, error->message);

  lb_imap_client_mailbox_async (job_client (job), LB_IMAP_MAILBOX_DELETE, fj->folder->path, NULL,
                                job_cancellable (job), folder_command_cb, job);
}

static void
folder_job_run (Job *job)
{
  LbImapProvider *self = job_provider (job);
  FolderJob *fj = g_task_get_task_data (job->task);
  LbImapClient *client = job_client (job);
  GCancellable *cancellable = job_cancellable (job);
  const LbImapMailboxInfo *selected;
  GError *error = NULL;

  switch (fj->op)
    {
    case LB_IMAP_MAILBOX_CREATE:
      {
        char server_delimiter = lb_imap_client_get_delimiter (client);

        if (fj->folder != NULL && fj->folder->delimiter != NULL)
          fj->delimiter = g_strdup (fj->folder->delimiter);
        else if (server_delimiter != '\0')
          fj->delimiter = g_strndup (&server_delimiter, 1);
        if (!check_folder_name (fj->name, fj->delimiter, &error))
          {
            folder_job_fail (job, error);
            return;
          }
        if (fj->folder != NULL)
          fj->new_path = g_strconcat (fj->folder->path, fj->delimiter != NULL ? fj->delimiter : "/",
                                      fj->name, NULL);
        else
          fj->new_path = g_strconcat (self->ns_prefix != NULL ? self->ns_prefix : "", fj->name, NULL);
        lb_imap_client_mailbox_async (client, LB_IMAP_MAILBOX_CREATE, fj->new_path, NULL, cancellable,
                                      folder_command_cb, job);
      }
      return;

    case LB_IMAP_MAILBOX_RENAME:
      {
        const char *delimiter = fj->folder->delimiter;
        const char *last = delimiter != NULL && *delimiter != '\0'
                           ? g_strrstr (fj->folder->path, delimiter) : NULL;
        g_autofree char *parent = last != NULL
                                  ? g_strndup (fj->folder->path, last - fj->folder->path + strlen (delimiter))
                                  : g_strdup ("");

        if (!check_folder_name (fj->name, delimiter, &error))
          {
            folder_job_fail (job, error);
            return;
          }
        fj->new_path = g_strconcat (parent, fj->name, NULL);
        lb_imap_client_mailbox_async (client, LB_IMAP_MAILBOX_RENAME, fj->folder->path, fj->new_path,
                                      cancellable, folder_command_cb, job);
      }
      return;

    case LB_IMAP_MAILBOX_DELETE:
      /* a server may refuse to delete the selected mailbox */
      selected = lb_imap_client_get_selected (client);
      if (selected != NULL && g_strcmp0 (selected->mailbox, fj->folder->path) == 0)
        {
          lb_imap_client_unselect_async (client, FALSE, cancellable, folder_unselected_cb, job);
          return;
        }
      lb_imap_client_mailbox_async (client, LB_IMAP_MAILBOX_DELETE, fj->folder->path, NULL, cancellable,
                                    folder_command_cb, job);
      return;

    case LB_IMAP_MAILBOX_SUBSCRIBE:
    case LB_IMAP_MAILBOX_UNSUBSCRIBE:
    default:
      lb_imap_client_mailbox_async (client, fj->op, fj->folder->path, NULL, cancellable,
                                    folder_command_cb, job);
      return;
    }
}

static void
folder_info_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GTask *task = user_data;
  LbImapProvider *self = g_task_get_source_object (task);
  FolderJob *fj = g_task_get_task_data (task);
  GError *error = NULL;

  fj->folder = lb_store_get_folder_finish (LB_STORE (object), result, &error);
  if (fj->folder != NULL && fj->folder->local)
    error = g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                         _("“%s” is a folder on this computer, not on the server"), fj->folder->name);
  else if (fj->folder != NULL && fj->op != LB_IMAP_MAILBOX_CREATE &&
           g_ascii_strcasecmp (fj->folder->path, "INBOX") == 0 &&
           (fj->op == LB_IMAP_MAILBOX_RENAME || fj->op == LB_IMAP_MAILBOX_DELETE))
    error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                 _("The Inbox cannot be renamed or deleted"));

  if (error != NULL)
    {
      g_prefix_error (&error, "%s", folder_failure (fj->op));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  enqueue (self, self->cmd, job_new (task, JOB_OTHER, folder_job_run));
}

static void
folder_start (LbImapProvider      *self,
              gpointer             source_tag,
              LbImapMailboxOp      op,
              gint64               folder_id,
              const char          *name,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  FolderJob *fj = g_new0 (FolderJob, 1);
  GError *error = NULL;

  g_task_set_source_tag (task, source_tag);
  fj->op = op;
  fj->folder_id = folder_id;
  fj->name = g_strdup (name);
  g_task_set_task_data (task, fj, (GDestroyNotify) folder_job_free);

  if ((op == LB_IMAP_MAILBOX_CREATE || op == LB_IMAP_MAILBOX_RENAME) &&
      !check_folder_name (name, NULL, &error))
    {
      g_prefix_error (&error, "%s", folder_failure (op));
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  if (op == LB_IMAP_MAILBOX_CREATE && folder_id <= 0)
    {
      enqueue (self, self->cmd, job_new (task, JOB_OTHER, folder_job_run));
      return;
    }
  lb_store_get_folder_async (self->store, folder_id, cancellable, folder_info_cb, task);
}

/**
 * lb_imap_provider_create_folder_async:
 * @self: a provider
 * @parent_id: the server folder to make it in, 0 for the top of the
 *   personal namespace
 * @name: the new folder's name (not its path)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the new folder
 * @user_data: data for @callback
 *
 * Creates a folder on the server, subscribes to it and adds it here.
 */
void
lb_imap_provider_create_folder_async (LbImapProvider      *self,
                                      gint64               parent_id,
                                      const char          *name,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));

  folder_start (self, lb_imap_provider_create_folder_async, LB_IMAP_MAILBOX_CREATE, parent_id, name,
                cancellable, callback, user_data);
}

/**
 * lb_imap_provider_create_folder_finish:
 *
 * Returns: (transfer full): the new folder
 */
LbFolderInfo *
lb_imap_provider_create_folder_finish (LbImapProvider  *self,
                                       GAsyncResult    *result,
                                       GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_provider_create_folder_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lb_imap_provider_rename_folder_async:
 * @self: a provider
 * @folder_id: a server folder (not INBOX)
 * @new_name: its new name in the same parent
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Renames a folder on the server and here; the folders below it follow,
 * keeping their messages.
 */
void
lb_imap_provider_rename_folder_async (LbImapProvider      *self,
                                      gint64               folder_id,
                                      const char          *new_name,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));

  folder_start (self, lb_imap_provider_rename_folder_async, LB_IMAP_MAILBOX_RENAME, folder_id, new_name,
                cancellable, callback, user_data);
}

gboolean
lb_imap_provider_rename_folder_finish (LbImapProvider  *self,
                                       GAsyncResult    *result,
                                       GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_provider_rename_folder_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * lb_imap_provider_delete_folder_async:
 * @self: a provider
 * @folder_id: a server folder (not INBOX)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Deletes a folder and its messages on the server, then here.
 */
void
lb_imap_provider_delete_folder_async (LbImapProvider      *self,
                                      gint64               folder_id,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));

  folder_start (self, lb_imap_provider_delete_folder_async, LB_IMAP_MAILBOX_DELETE, folder_id, NULL,
                cancellable, callback, user_data);
}

gboolean
lb_imap_provider_delete_folder_finish (LbImapProvider  *self,
                                       GAsyncResult    *result,
                                       GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_provider_delete_folder_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * lb_imap_provider_subscribe_folder_async:
 * @self: a provider
 * @folder_id: a server folder
 * @subscribe: %TRUE to subscribe, %FALSE to unsubscribe
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 */
void
lb_imap_provider_subscribe_folder_async (LbImapProvider      *self,
                                         gint64               folder_id,
                                         gboolean             subscribe,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));

  folder_start (self, lb_imap_provider_subscribe_folder_async,
                subscribe ? LB_IMAP_MAILBOX_SUBSCRIBE : LB_IMAP_MAILBOX_UNSUBSCRIBE, folder_id, NULL,
                cancellable, callback, user_data);
}

gboolean
lb_imap_provider_subscribe_folder_finish (LbImapProvider  *self,
                                          GAsyncResult    *result,
                                          GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_provider_subscribe_folder_async,
                        FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------ LbProvider */

static LbStore *
imap_get_store (LbProvider *provider)
{
  return LB_IMAP_PROVIDER (provider)->store;
}

static const char *
imap_get_protocol_name (LbProvider *provider)
{
  return "imap";
}

static void
connect_job_run (Job *job)
{
  /* the job waited for the connection: that was the work */
  job_return_boolean (job, TRUE);
}

static void
imap_connect_async (LbProvider          *provider,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  LbImapProvider *self = LB_IMAP_PROVIDER (provider);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, imap_connect_async);
  if (!self->closed && !self->online)
    {
      self->online = TRUE;
      update_background (self);
    }
  /* an explicit connect tries now, whatever the backoff says */
  self->cmd->backoff = 1;
  self->cmd->stalled = FALSE;
  enqueue (self, self->cmd, job_new (task, JOB_CONNECT, connect_job_run));
}

static gboolean
imap_connect_finish (LbProvider    *provider,
                     GAsyncResult  *result,
                     GError       **error)
{
  return change_finish (provider, result, imap_connect_async, error);
}

static void
logout_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Job *job = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_imap_client_logout_finish (LB_IMAP_CLIENT (object), result, &error))
    g_debug ("%s: LOGOUT: %s", job->conn->name, error->message);
  conn_drop (job->conn);
  job_return_boolean (job, TRUE);
}

static void
logout_job_run (Job *job)
{
  lb_imap_client_logout_async (job_client (job), NULL, logout_cb, job);
}

static void
logout_bg_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_task_propagate_boolean (G_TASK (result), NULL);
}

static void
imap_disconnect_async (LbProvider          *provider,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  LbImapProvider *self = LB_IMAP_PROVIDER (provider);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, imap_disconnect_async);
  self->online = FALSE;
  g_clear_handle_id (&self->debounce_id, g_source_remove);
  g_hash_table_remove_all (self->pending_syncs);
  update_background (self);
  g_clear_handle_id (&self->cmd->retry_id, g_source_remove);
  /* a reconnection of its own under way: no more */
  if (self->cmd->connecting && g_queue_is_empty (&self->cmd->jobs))
    g_cancellable_cancel (self->cmd->cancellable);

  if (conn_is_ready (self->bodies) || !g_queue_is_empty (&self->bodies->jobs))
    {
      GTask *bodies = g_task_new (self, NULL, logout_bg_cb, NULL);

      enqueue (self, self->bodies, job_new (bodies, JOB_OTHER, logout_job_run));
    }

  /* after the jobs waiting: what the user did still reaches the server */
  if (conn_is_ready (self->cmd) || !g_queue_is_empty (&self->cmd->jobs) || self->cmd->running != NULL)
    {
      enqueue (self, self->cmd, job_new (task, JOB_OTHER, logout_job_run));
      return;
    }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static gboolean
imap_disconnect_finish (LbProvider    *provider,
                        GAsyncResult  *result,
                        GError       **error)
{
  return change_finish (provider, result, imap_disconnect_async, error);
}

static void
imap_list_folders_async (LbProvider          *provider,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  list_folders_internal (LB_IMAP_PROVIDER (provider), FALSE, FALSE, cancellable, callback, user_data);
}

static GPtrArray *
imap_list_folders_finish (LbProvider    *provider,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, provider), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == list_folders_internal, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
imap_sync_folder_async (LbProvider          *provider,
                        gint64               folder_id,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  lb_imap_provider_sync_folder_async (LB_IMAP_PROVIDER (provider), folder_id, cancellable, callback, user_data);
}

static gboolean
imap_sync_folder_finish (LbProvider    *provider,
                         GAsyncResult  *result,
                         GError       **error)
{
  return lb_imap_provider_sync_folder_finish (LB_IMAP_PROVIDER (provider), result, NULL, error);
}

static void
imap_replay_queue_async (LbProvider          *provider,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  LbImapProvider *self = LB_IMAP_PROVIDER (provider);
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Job *waiting;

  g_task_set_source_tag (task, imap_replay_queue_async);

  /* a replay that has not started yet sees every change made so far */
  waiting = waiting_job (self->cmd, JOB_REPLAY);
  if (waiting != NULL)
    {
      if (waiting->joined == NULL)
        waiting->joined = g_ptr_array_new_with_free_func (g_object_unref);
      g_ptr_array_add (waiting->joined, task);
      return;
    }
  enqueue (self, self->cmd, job_new (task, JOB_REPLAY, replay_job_run));
}

static gboolean
imap_replay_queue_finish (LbProvider    *provider,
                          GAsyncResult  *result,
                          GError       **error)
{
  return change_finish (provider, result, imap_replay_queue_async, error);
}

static void
lb_imap_provider_iface_init (LbProviderInterface *iface)
{
  iface->get_store = imap_get_store;
  iface->get_protocol_name = imap_get_protocol_name;
  iface->connect_async = imap_connect_async;
  iface->connect_finish = imap_connect_finish;
  iface->disconnect_async = imap_disconnect_async;
  iface->disconnect_finish = imap_disconnect_finish;
  iface->list_folders_async = imap_list_folders_async;
  iface->list_folders_finish = imap_list_folders_finish;
  iface->sync_folder_async = imap_sync_folder_async;
  iface->sync_folder_finish = imap_sync_folder_finish;
  iface->fetch_body_async = imap_fetch_body_async;
  iface->fetch_body_finish = imap_fetch_body_finish;
  iface->set_flags_async = imap_set_flags_async;
  iface->set_flags_finish = imap_set_flags_finish;
  iface->move_async = imap_move_async;
  iface->move_finish = imap_move_finish;
  iface->delete_async = imap_delete_async;
  iface->delete_finish = imap_delete_finish;
  iface->append_async = imap_append_async;
  iface->append_finish = imap_append_finish;
  iface->expunge_async = imap_expunge_async;
  iface->expunge_finish = imap_expunge_finish;
  iface->replay_queue_async = imap_replay_queue_async;
  iface->replay_queue_finish = imap_replay_queue_finish;
}

/* ------------------------------------------------------------------ GObject */

static void
lb_imap_provider_dispose (GObject *object)
{
  LbImapProvider *self = LB_IMAP_PROVIDER (object);
  Conn **conns[] = { &self->cmd, &self->bodies, &self->idle_inbox, &self->idle_watch };

  lb_imap_provider_close (self);
  for (guint i = 0; i < G_N_ELEMENTS (conns); i++)
    if (*conns[i] != NULL)
      {
        (*conns[i])->self = NULL;
        g_clear_pointer (conns[i], conn_unref);
      }

  if (self->monitor != NULL)
    g_clear_signal_handler (&self->network_changed_id, self->monitor);
  g_clear_object (&self->monitor);
  g_clear_object (&self->local);
  g_clear_object (&self->secrets);
  g_clear_object (&self->connector);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (lb_imap_provider_parent_class)->dispose (object);
}

static void
lb_imap_provider_finalize (GObject *object)
{
  LbImapProvider *self = LB_IMAP_PROVIDER (object);

  g_weak_ref_clear (&self->account);
  g_free (self->ns_prefix);
  g_free (self->rejected_fingerprint);
  g_clear_pointer (&self->folder_ids, g_hash_table_unref);
  g_clear_pointer (&self->pending_syncs, g_hash_table_unref);
  g_clear_pointer (&self->dirty, g_hash_table_unref);

  G_OBJECT_CLASS (lb_imap_provider_parent_class)->finalize (object);
}

static void
lb_imap_provider_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  LbImapProvider *self = LB_IMAP_PROVIDER (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_CONNECTED:
      g_value_set_boolean (value, lb_imap_provider_get_connected (self));
      break;

    case PROP_BACKGROUND:
      g_value_set_boolean (value, self->background);
      break;

    case PROP_WATCHED_FOLDER:
      g_value_set_int64 (value, self->watched_folder);
      break;

    case PROP_COMPRESS:
      g_value_set_boolean (value, self->compress);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_imap_provider_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  LbImapProvider *self = LB_IMAP_PROVIDER (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;

    case PROP_BACKGROUND:
      lb_imap_provider_set_background (self, g_value_get_boolean (value));
      break;

    case PROP_WATCHED_FOLDER:
      lb_imap_provider_set_watched_folder (self, g_value_get_int64 (value));
      break;

    case PROP_COMPRESS:
      lb_imap_provider_set_compress (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_imap_provider_class_init (LbImapProviderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lb_imap_provider_dispose;
  object_class->finalize = lb_imap_provider_finalize;
  object_class->get_property = lb_imap_provider_get_property;
  object_class->set_property = lb_imap_provider_set_property;

  g_object_class_override_property (object_class, PROP_STORE, "store");

  /**
   * LbImapProvider:connected:
   *
   * Whether the command connection is logged in.
   */
  properties[PROP_CONNECTED] =
    g_param_spec_boolean ("connected", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * LbImapProvider:background:
   *
   * Whether an online provider stays connected by itself: IDLE on INBOX
   * and the watched folder, the poll of the other folders, reconnecting
   * after drops. %TRUE by default; letterbox-cli turns it off.
   */
  properties[PROP_BACKGROUND] =
    g_param_spec_boolean ("background", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * LbImapProvider:watched-folder:
   *
   * The folder the user has open, watched with IDLE like INBOX; 0 for none.
   */
  properties[PROP_WATCHED_FOLDER] =
    g_param_spec_int64 ("watched-folder", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * LbImapProvider:compress:
   *
   * Whether to use COMPRESS=DEFLATE where the server offers it (from the
   * next connection on), except with a server on this machine (a loopback
   * address or localhost), where it never pays. A tunnel on this machine
   * to a distant server (ssh -L) is not compressed either: compress the
   * tunnel (ssh -C). %TRUE by default.
   */
  properties[PROP_COMPRESS] =
    g_param_spec_boolean ("compress", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /* PROP_STORE is the interface's */
  for (guint i = PROP_CONNECTED; i < N_PROPS; i++)
    g_object_class_install_property (object_class, i, properties[i]);

  /**
   * LbImapProvider::sync-progress:
   * @folder_id: the folder being synced
   * @done: new messages stored so far
   * @total: new messages to store in all
   */
  signals[SYNC_PROGRESS] =
    g_signal_new ("sync-progress",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_INT64, G_TYPE_UINT, G_TYPE_UINT);

  /**
   * LbImapProvider::connection-error:
   * @error: why a connection could not be made
   *
   * Emitted when a connection attempt fails, also one the provider made by
   * itself (after a drop): for showing the account as offline, or asking
   * for a password or about a certificate.
   */
  signals[CONNECTION_ERROR] =
    g_signal_new ("connection-error",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
lb_imap_provider_init (LbImapProvider *self)
{
  g_weak_ref_init (&self->account, NULL);
  self->background = TRUE;
  self->compress = TRUE;
  self->ns_prefix = g_strdup ("");
  self->folder_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->pending_syncs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->dirty = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->cmd = conn_new (self, CONN_COMMAND, "imap");
  self->bodies = conn_new (self, CONN_BODIES, "imap-bodies");
  self->idle_inbox = conn_new (self, CONN_IDLE, "imap-idle");
  self->idle_watch = conn_new (self, CONN_IDLE, "imap-idle-watched");
}

/**
 * lb_imap_provider_new:
 * @account: the account, for its server settings, read at each connection
 *   (the provider does not keep it alive)
 * @store: the account's store
 * @secrets: where the password is
 * @connector: what opens connections (its TLS database; the account's
 *   pinned certificates are set on it)
 * @monitor: (nullable): the network monitor, %NULL for the default one
 *
 * Returns: (transfer full): a provider, offline until first used
 */
LbImapProvider *
lb_imap_provider_new (LbAccount       *account,
                      LbStore         *store,
                      LbSecrets       *secrets,
                      LbConnector     *connector,
                      GNetworkMonitor *monitor)
{
  LbImapProvider *self;

  g_return_val_if_fail (LB_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (LB_IS_STORE (store), NULL);
  g_return_val_if_fail (LB_IS_SECRETS (secrets), NULL);
  g_return_val_if_fail (LB_IS_CONNECTOR (connector), NULL);
  g_return_val_if_fail (monitor == NULL || G_IS_NETWORK_MONITOR (monitor), NULL);

  self = g_object_new (LB_TYPE_IMAP_PROVIDER, "store", store, NULL);
  g_weak_ref_set (&self->account, account);
  self->secrets = g_object_ref (secrets);
  self->connector = g_object_ref (connector);
  if (monitor != NULL)
    {
      self->monitor = g_object_ref (monitor);
      self->network_changed_id = g_signal_connect (self->monitor, "network-changed",
                                                   G_CALLBACK (network_changed_cb), self);
    }
  self->local = lb_local_provider_new (store);

  return self;
}

/**
 * lb_imap_provider_close:
 * @self: a provider
 *
 * Drops every connection at once and fails what waits for one, with
 * %G_IO_ERROR_CLOSED: the account is being closed. Queued changes stay in
 * the store's queue for the next time.
 */
void
lb_imap_provider_close (LbImapProvider *self)
{
  Conn *conns[] = { self->cmd, self->bodies, self->idle_inbox, self->idle_watch };
  GError *error;

  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));

  if (self->closed)
    return;
  self->closed = TRUE;
  self->online = FALSE;
  g_clear_handle_id (&self->debounce_id, g_source_remove);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_handle_id (&self->network_id, g_source_remove);
  g_hash_table_remove_all (self->pending_syncs);

  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CLOSED, _("The account was closed"));
  for (guint i = 0; i < G_N_ELEMENTS (conns); i++)
    conn_shutdown (conns[i], error);
  g_error_free (error);
}

/**
 * lb_imap_provider_get_connected:
 *
 * Returns: whether the command connection is logged in
 */
gboolean
lb_imap_provider_get_connected (LbImapProvider *self)
{
  g_return_val_if_fail (LB_IS_IMAP_PROVIDER (self), FALSE);

  return self->cmd != NULL && conn_is_ready (self->cmd);
}

/**
 * lb_imap_provider_get_rejected_fingerprint:
 *
 * Returns: (nullable): the SHA-256 fingerprint of the last certificate
 *   refused as untrusted, for lb_account_pin_certificate() once the user
 *   checked it
 */
const char *
lb_imap_provider_get_rejected_fingerprint (LbImapProvider *self)
{
  g_return_val_if_fail (LB_IS_IMAP_PROVIDER (self), NULL);

  return self->rejected_fingerprint;
}

gboolean
lb_imap_provider_get_background (LbImapProvider *self)
{
  g_return_val_if_fail (LB_IS_IMAP_PROVIDER (self), FALSE);

  return self->background;
}

void
lb_imap_provider_set_background (LbImapProvider *self,
                                 gboolean        background)
{
  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));

  background = !!background;
  if (self->background == background)
    return;
  self->background = background;
  update_background (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BACKGROUND]);
}

gint64
lb_imap_provider_get_watched_folder (LbImapProvider *self)
{
  g_return_val_if_fail (LB_IS_IMAP_PROVIDER (self), 0);

  return self->watched_folder;
}

/**
 * lb_imap_provider_set_watched_folder:
 * @self: a provider
 * @folder_id: the folder the user has open, 0 for none
 *
 * Watches the folder with IDLE (on a connection of its own) while the
 * provider is online in the background, so changes made elsewhere show
 * within a second. INBOX is always watched.
 */
void
lb_imap_provider_set_watched_folder (LbImapProvider *self,
                                     gint64          folder_id)
{
  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));
  g_return_if_fail (folder_id >= 0);

  if (self->watched_folder == folder_id)
    return;
  self->watched_folder = folder_id;
  if (self->cmd != NULL)
    update_background (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WATCHED_FOLDER]);
}

gboolean
lb_imap_provider_get_compress (LbImapProvider *self)
{
  g_return_val_if_fail (LB_IS_IMAP_PROVIDER (self), FALSE);

  return self->compress;
}

void
lb_imap_provider_set_compress (LbImapProvider *self,
                               gboolean        compress)
{
  g_return_if_fail (LB_IS_IMAP_PROVIDER (self));

  compress = !!compress;
  if (self->compress == compress)
    return;
  self->compress = compress;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPRESS]);
}
