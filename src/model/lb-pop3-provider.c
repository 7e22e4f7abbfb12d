/* lb-pop3-provider.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-model"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "lb-local-provider.h"
#include "lb-net-certificate.h"
#include "lb-pop3-client.h"
#include "lb-pop3-provider.h"
#include "lb-store-download.h"

/* LbPop3Provider: a POP3 account's mail lives here. Its folders are all
 * local (the Inbox the server's mail is downloaded into, and whatever the
 * user files it into), so every folder operation is the local provider's;
 * what this one adds is the check for new mail, one POP3 session:
 *
 *   1. the UIDLs this account has seen are read from the store while the
 *      connection is made and the user logs in;
 *   2. one pipelined LIST + UIDL, and a set difference in memory: nothing
 *      is sent or done per known message;
 *   3. the new messages are retrieved (pipelined) and streamed into the
 *      Inbox's Maildir (LbStoreDownload), the ones over the size limit as
 *      their headers only (TOP n 0);
 *   4. the download is flushed: every message is written, fsync'ed and
 *      recorded in the store, durably;
 *   5. only then are the messages the keep-on-server rules give up
 *      marked with DELE, and QUIT ends the session in which they were.
 *
 * A session cut anywhere before the server answered QUIT deletes nothing
 * on the server (RFC 1939 6); what was recorded is known by its UIDL at
 * the next check, and what was not is downloaded again: nothing is lost
 * and nothing is stored twice.
 *
 * A message is deleted from the server when it was stored here whole,
 * its UIDL is listed once (two messages with one UIDL are never deleted),
 * and
 *   - the account does not keep mail on the server, or
 *   - pop3-delete-when-deleted-here is set and it was deleted here for
 *     good, or
 *   - it was downloaded more than pop3-delete-after-days days ago.
 * A message stored as its headers only stays on the server until its rest
 * is downloaded (lb_pop3_provider_download_rest_async()), whatever the
 * rule, deleted here or not.
 *
 * Checks and downloads of the rest run one at a time; one asked for while
 * another runs waits for it. */

/* while more than this is waiting to be written, the socket is not read */
#define BACKLOG_HIGH (8 * 1024 * 1024)
#define BACKLOG_LOW  (2 * 1024 * 1024)

struct _LbPop3Provider
{
  GObject          parent_instance;

  GWeakRef         account;
  LbStore         *store;
  LbSecrets       *secrets;
  LbConnector     *connector;
  LbLocalProvider *local;

  char            *rejected_fingerprint;
  GQueue           sessions;   /* Session: the first is running */
};

static void lb_pop3_provider_iface_init (LbProviderInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LbPop3Provider, lb_pop3_provider, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (LB_TYPE_PROVIDER,
                                                      lb_pop3_provider_iface_init))

enum {
  PROP_0,
  PROP_STORE,
  N_PROPS
};

enum {
  DOWNLOAD_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_QUARK (lb-pop3-provider-error-quark, lb_pop3_provider_error)

/* ------------------------------------------------------------------ sessions */

typedef enum
{
  SESSION_CHECK,
  SESSION_REST,
} SessionKind;

typedef struct
{
  SessionKind      kind;
  gboolean         started;
  GTask           *task;
  LbPop3Provider  *self;         /* strong while running */
  GCancellable    *cancellable;
  GCancellable    *outer;        /* the caller's */
  gulong           cancel_id;

  /* the account's settings, read when the session starts */
  char            *account_id;
  char            *host;
  guint16          port;
  LbNetSecurity    security;
  char            *user;
  gboolean         keep;
  guint            delete_after_days;
  gboolean         delete_when_deleted_here;
  guint64          size_limit;   /* bytes, 0 = none */

  /* until the listing is compared with what the store knows */
  guint            inflight;
  GError          *error;
  char            *password;
  gboolean         ready_to_login;
  GHashTable      *known;        /* uidl -> LbStorePop3Uidl */

  gint64           inbox_id;
  char            *rest_uidl;

  LbPop3Client    *client;
  GArray          *entries;      /* LbPop3Entry */
  GArray          *full;         /* guint: indexes into entries, RETR */
  GArray          *partial;      /* guint: indexes into entries, TOP n 0 */
  GArray          *current;      /* the msgs being retrieved */
  GArray          *current_idx;  /* their indexes into entries */
  gboolean         current_partial;
  gboolean         partial_done;
  GArray          *dele;         /* guint msgs */
  guint8          *got;          /* per entry: GOT_* in this session */
  GPtrArray       *forget;       /* char * uidls gone from the server */

  LbStoreDownload *download;
  gulong           recorded_id;
  gboolean         have_sizes;
  gboolean         paused;
  gboolean         waiting_backlog;
  guint            recorded_base;
  guint            total;

  LbPop3Stats      stats;
} Session;

static void session_next_step (Session *s);

/* what this session retrieved of an entry */
enum
{
  GOT_NOTHING,
  GOT_WHOLE,
  GOT_HEADERS,
};

static void
session_free (Session *s)
{
  if (s->cancel_id != 0)
    g_cancellable_disconnect (s->outer, s->cancel_id);
  g_clear_object (&s->outer);
  g_signal_handlers_disconnect_by_data (s->cancellable, s);
  if (s->download != NULL)
    {
      if (s->recorded_id != 0)
        g_signal_handler_disconnect (s->download, s->recorded_id);
      lb_store_download_close (s->download);
      g_clear_object (&s->download);
    }
  if (s->client != NULL)
    {
      if (lb_pop3_client_get_state (s->client) != LB_POP3_CLIENT_STATE_CLOSED)
        lb_pop3_client_close (s->client);
      g_clear_object (&s->client);
    }
  g_clear_object (&s->cancellable);
  g_clear_object (&s->self);
  g_free (s->account_id);
  g_free (s->host);
  g_free (s->user);
  g_clear_pointer (&s->password, lb_secrets_password_free);
  g_clear_error (&s->error);
  g_clear_pointer (&s->known, g_hash_table_unref);
  g_free (s->rest_uidl);
  g_clear_pointer (&s->entries, g_array_unref);
  g_clear_pointer (&s->full, g_array_unref);
  g_clear_pointer (&s->partial, g_array_unref);
  g_clear_pointer (&s->current, g_array_unref);
  g_clear_pointer (&s->current_idx, g_array_unref);
  g_clear_pointer (&s->dele, g_array_unref);
  g_free (s->got);
  g_clear_pointer (&s->forget, g_ptr_array_unref);
  g_free (s);
}

static gboolean
is_cancelled (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Ends the running session and starts the next one. */
static void
session_done (Session *s,
              GError  *error)
{
  LbPop3Provider *self = g_object_ref (s->self);
  GTask *task = s->task;
  LbPop3Stats *stats = NULL;

  s->task = NULL;
  g_assert (g_queue_peek_head (&self->sessions) == s);
  g_queue_pop_head (&self->sessions);

  if (error != NULL)
    {
      g_debug ("pop3 %s: %s", s->account_id != NULL ? s->account_id : "", error->message);
      /* the connector's message names the certificate; the user may pin it */
      if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE) && s->host != NULL)
        {
          g_autoptr(GTlsCertificate) rejected =
            lb_connector_dup_rejected_certificate (self->connector, s->host, s->port, NULL);

          if (rejected != NULL)
            {
              g_free (self->rejected_fingerprint);
              self->rejected_fingerprint = lb_net_certificate_fingerprint (rejected);
            }
        }
    }
  else
    stats = g_memdup2 (&s->stats, sizeof s->stats);
  session_free (s);

  /* The next session starts before the caller hears of this one: a
   * callback that asks for another check then queues it behind. */
  if (!g_queue_is_empty (&self->sessions))
    session_next_step (g_queue_peek_head (&self->sessions));

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, stats, g_free);
  g_object_unref (task);
  g_object_unref (self);
}

static void
session_fail (Session *s,
              GError  *error)
{
  session_done (s, error);
}

/* whether the session was cancelled; then it ended */
static gboolean
session_stopped (Session *s)
{
  GError *error = NULL;

  if (g_cancellable_set_error_if_cancelled (s->cancellable, &error))
    {
      session_fail (s, error);
      return TRUE;
    }
  return FALSE;
}

static void
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  /* the running operation fails with G_IO_ERROR_CANCELLED by itself; a
   * retrieval paused for the writer is resumed so that it notices */
  Session *s = user_data;

  if (s->client != NULL && s->paused)
    {
      s->paused = FALSE;
      lb_pop3_client_resume (s->client);
    }
}

/* ------------------------------------------------------------------ 5. DELE, QUIT */

static void
forget_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;

  /* not fatal: the next check forgets them */
  if (!lb_store_forget_pop3_uidls_finish (LB_STORE (object), result, &error))
    {
      g_debug ("could not forget the messages gone from the server: %s", error->message);
      g_clear_error (&error);
    }
  session_done (s, NULL);
}

static void
finish_session (Session *s)
{
  if (s->forget != NULL && s->forget->len > 0)
    {
      lb_store_forget_pop3_uidls_async (s->self->store, s->forget, NULL, forget_cb, s);
      return;
    }
  session_done (s, NULL);
}

static void
quit_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;

  if (!lb_pop3_client_quit_finish (LB_POP3_CLIENT (object), result, &error))
    {
      /* Everything was stored: only the deletions are in doubt, and the
       * next check's listing tells which happened. */
      if (s->dele != NULL && s->dele->len > 0)
        {
          session_fail (s, error);
          return;
        }
      g_debug ("QUIT: %s", error->message);
      g_clear_error (&error);
    }
  else if (s->dele != NULL)
    s->stats.deleted = s->dele->len;
  finish_session (s);
}

static void
quit (Session *s)
{
  lb_pop3_client_quit_async (s->client, s->cancellable, quit_cb, s);
}

static void
rset_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;

  /* A DELE was refused: no deletion this time (RSET unmarks the others),
   * the messages stay here and on the server, the next check tries
   * again. What was downloaded is stored; only the deletion failed. */
  if (!lb_pop3_client_rset_finish (LB_POP3_CLIENT (object), result, &error))
    {
      session_fail (s, error);
      return;
    }
  g_array_set_size (s->dele, 0);
  quit (s);
}

static void
dele_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;

  if (!lb_pop3_client_dele_finish (LB_POP3_CLIENT (object), result, &error))
    {
      if (g_error_matches (error, LB_POP3_ERROR, LB_POP3_ERROR_REFUSED))
        {
          g_debug ("DELE refused: %s", error->message);
          g_clear_error (&error);
          lb_pop3_client_rset_async (s->client, s->cancellable, rset_cb, s);
          return;
        }
      session_fail (s, error);
      return;
    }
  quit (s);
}

/* Which messages the rules give up, now that everything downloaded is
 * recorded. */
static void
plan_deletions (Session   *s,
                GPtrArray *recorded)
{
  g_autoptr(GHashTable) now_recorded = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) listed = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  for (guint i = 0; recorded != NULL && i < recorded->len; i++)
    g_hash_table_add (now_recorded, recorded->pdata[i]);

  s->dele = g_array_new (FALSE, FALSE, sizeof (guint));
  /* keeping everything: nothing to look at */
  if (s->keep && s->delete_after_days == 0 && !s->delete_when_deleted_here)
    return;

  /* how often each UIDL is listed: two messages with one UIDL (a broken
   * server, or two identical header blocks under the TOP fallback) are
   * one here, and neither is ever deleted */
  listed = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < s->entries->len; i++)
    {
      const char *uid = g_array_index (s->entries, LbPop3Entry, i).uid;

      if (uid != NULL)
        g_hash_table_insert (listed, (gpointer) uid,
                             GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (listed, uid)) + 1));
    }

  for (guint i = 0; i < s->entries->len; i++)
    {
      const LbPop3Entry *entry = &g_array_index (s->entries, LbPop3Entry, i);
      const LbStorePop3Uidl *known;
      gboolean whole;
      gboolean gone_here;
      gboolean give_up = FALSE;

      if (entry->uid == NULL || GPOINTER_TO_UINT (g_hash_table_lookup (listed, entry->uid)) != 1)
        continue;
      known = g_hash_table_lookup (s->known, entry->uid);
      /* stored whole before, or retrieved whole by this session (RETR)
       * and recorded by the flush */
      whole = (known != NULL && !known->partial) ||
              (s->got != NULL && s->got[i] == GOT_WHOLE && g_hash_table_contains (now_recorded, entry->uid));
      gone_here = known != NULL && known->deleted_here != 0;

      /* A message stored as its headers only stays on the server until
       * its rest is here, whatever the rule: even deleted here, it goes
       * from the server only after being downloaded whole. */
      if (!whole)
        give_up = FALSE;
      else if (!s->keep)
        give_up = TRUE;
      else if (gone_here && s->delete_when_deleted_here)
        give_up = TRUE;
      else if (s->delete_after_days > 0 && known != NULL &&
               known->first_seen <= now - (gint64) s->delete_after_days * 24 * 60 * 60)
        give_up = TRUE;

      if (give_up)
        g_array_append_val (s->dele, entry->msg);
    }
}

static void
delete_and_quit (Session   *s,
                 GPtrArray *recorded)
{
  plan_deletions (s, recorded);
  if (s->dele->len == 0)
    {
      quit (s);
      return;
    }
  g_debug ("pop3 %s: deleting %u messages from the server", s->account_id, s->dele->len);
  lb_pop3_client_dele_async (s->client, (const guint *) (void *) s->dele->data, s->dele->len,
                             s->cancellable, dele_cb, s);
}

/* ------------------------------------------------------------------ 4. flush */

static void
flush_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;
  g_autoptr(GPtrArray) recorded = NULL;

  recorded = lb_store_download_flush_finish (LB_STORE_DOWNLOAD (object), result, &error);
  if (recorded == NULL || s->error != NULL)
    {
      /* nothing is deleted from the server: the session ends without
       * QUIT; what was recorded is known at the next check */
      if (s->error != NULL)
        {
          if (error != NULL)
            g_debug ("download: %s", error->message);
          g_clear_error (&error);
          error = g_steal_pointer (&s->error);
        }
      session_fail (s, error);
      return;
    }
  if (session_stopped (s))
    return;
  if (s->kind == SESSION_REST && !g_ptr_array_find_with_equal_func (recorded, s->rest_uidl, g_str_equal, NULL))
    {
      /* refused (gone since the listing): nothing was stored */
      session_fail (s, g_error_new_literal (LB_POP3_PROVIDER_ERROR, LB_POP3_PROVIDER_ERROR_NOT_ON_SERVER,
                                            _("Could not download the rest of the message: the server "
                                              "no longer has it")));
      return;
    }
  delete_and_quit (s, recorded);
}

/* ------------------------------------------------------------------ 3. retrieve */

static void retrieve_next (Session *s);

static void
backlog_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Session *s = user_data;
  g_autoptr(GError) error = NULL;

  s->waiting_backlog = FALSE;
  /* the disk is full, say: the retrieval stops at its next chunk (there
   * is no point in downloading what cannot be stored), and the flush
   * reports it */
  if (!lb_store_download_wait_finish (LB_STORE_DOWNLOAD (object), result, &error) && s->error == NULL)
    s->error = g_steal_pointer (&error);
  if (s->paused && s->client != NULL)
    {
      s->paused = FALSE;
      lb_pop3_client_resume (s->client);
    }
}

static void
check_backlog (Session *s)
{
  if (s->paused || lb_store_download_get_backlog (s->download) <= BACKLOG_HIGH)
    return;
  s->paused = TRUE;
  lb_pop3_client_pause (s->client);
  if (!s->waiting_backlog)
    {
      s->waiting_backlog = TRUE;
      lb_store_download_wait_async (s->download, BACKLOG_LOW, NULL, backlog_cb, s);
    }
}

static gboolean
retr_begin (guint     index,
            gpointer  user_data,
            GError  **error)
{
  Session *s = user_data;
  guint entry_index = g_array_index (s->current_idx, guint, index);
  const LbPop3Entry *entry = &g_array_index (s->entries, LbPop3Entry, entry_index);

  lb_store_download_begin (s->download, entry->uid, g_get_real_time () / G_USEC_PER_SEC, 0,
                           s->current_partial);
  return TRUE;
}

static gboolean
retr_data (guint         index,
           const guint8 *bytes,
           gsize         len,
           gpointer      user_data,
           GError      **error)
{
  Session *s = user_data;

  if (s->error != NULL)
    {
      g_propagate_error (error, g_error_copy (s->error));
      return FALSE;
    }
  lb_store_download_write (s->download, bytes, len);
  check_backlog (s);
  return TRUE;
}

static gboolean
retr_end (guint     index,
          gpointer  user_data,
          GError  **error)
{
  Session *s = user_data;

  lb_store_download_end (s->download);
  s->got[g_array_index (s->current_idx, guint, index)] = s->current_partial ? GOT_HEADERS : GOT_WHOLE;
  if (s->current_partial)
    s->stats.headers_only++;
  else if (s->kind == SESSION_CHECK)
    s->stats.downloaded++;
  return TRUE;
}

static void
retr_refused (guint              index,
              const LbPop3Reply *reply,
              gpointer           user_data)
{
  /* gone since the listing (another session deleted it): nothing to
   * store, nothing lost */
  g_debug ("a message was refused: %s", reply->text);
}

static const LbPop3RetrieveFuncs retrieve_funcs = {
  retr_begin,
  retr_data,
  retr_end,
  retr_refused,
};

static void
retrieve_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Session *s = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_pop3_client_retrieve_finish (LB_POP3_CLIENT (object), result, &error))
    {
      /* the message begun is incomplete: dropped; what ended is kept and
       * recorded, so that the next check does not download it again */
      lb_store_download_abort (s->download);
      if (s->error == NULL)
        s->error = g_steal_pointer (&error);
      lb_store_download_flush_async (s->download, NULL, flush_cb, s);
      return;
    }
  retrieve_next (s);
}

static void
retrieve_set (Session *s,
              GArray  *indexes,
              gboolean partial)
{
  g_clear_pointer (&s->current, g_array_unref);
  g_clear_pointer (&s->current_idx, g_array_unref);
  s->current = g_array_sized_new (FALSE, FALSE, sizeof (guint), indexes->len);
  s->current_idx = g_array_ref (indexes);
  for (guint i = 0; i < indexes->len; i++)
    {
      const LbPop3Entry *entry = &g_array_index (s->entries, LbPop3Entry, g_array_index (indexes, guint, i));

      g_array_append_val (s->current, entry->msg);
    }
  s->current_partial = partial;
  lb_pop3_client_retrieve_async (s->client, (const guint *) (void *) s->current->data, s->current->len,
                                 partial ? 0 : -1, &retrieve_funcs, s,
                                 s->cancellable, retrieve_cb, s);
}

static void
retrieve_next (Session *s)
{
  if (s->full != NULL && s->full->len > 0)
    {
      g_autoptr(GArray) full = g_steal_pointer (&s->full);

      retrieve_set (s, full, FALSE);
      return;
    }
  if (s->partial != NULL && s->partial->len > 0 && !s->partial_done)
    {
      /* a server that said it has no TOP cannot send the headers
       * alone: those messages come whole rather than never */
      gboolean top = !lb_pop3_client_get_capa_answered (s->client) ||
                     lb_pop3_client_has_capability (s->client, "TOP");

      s->partial_done = TRUE;
      retrieve_set (s, s->partial, top);
      return;
    }
  lb_store_download_flush_async (s->download, NULL, flush_cb, s);
}

static void
recorded_cb (LbStoreDownload *download,
             guint            n_recorded,
             gpointer         user_data)
{
  Session *s = user_data;

  g_signal_emit (s->self, signals[DOWNLOAD_PROGRESS], 0, s->inbox_id, n_recorded, s->total);
}

/* ------------------------------------------------------------------ 2. scan */

static void plan_downloads (Session *s);
static void settle (Session *s);
static void session_step_failed (Session *s,
                                 GError  *error);

/* the listing and the known UIDLs are both here: compare them */
static void
try_plan (Session *s)
{
  if (s->error != NULL)
    settle (s);
  else if (s->entries != NULL && s->known != NULL)
    plan_downloads (s);
}

static void
scan_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;

  s->inflight--;
  s->entries = lb_pop3_client_scan_finish (LB_POP3_CLIENT (object), result, &error);
  if (s->entries == NULL)
    {
      session_step_failed (s, error);
      return;
    }
  try_plan (s);
}

/* The sizes of the messages, when the new ones must be compared with the
 * size limit: a second listing, only then (a check that finds nothing new
 * costs the UIDL listing alone). */
static void
sizes_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;
  g_autoptr(GArray) sizes = lb_pop3_client_scan_finish (LB_POP3_CLIENT (object), result, &error);
  guint j = 0;

  if (sizes == NULL)
    {
      session_fail (s, error);
      return;
    }
  /* both in message number order */
  for (guint i = 0; i < s->entries->len; i++)
    {
      LbPop3Entry *entry = &g_array_index (s->entries, LbPop3Entry, i);

      while (j < sizes->len && g_array_index (sizes, LbPop3Entry, j).msg < entry->msg)
        j++;
      if (j < sizes->len && g_array_index (sizes, LbPop3Entry, j).msg == entry->msg)
        entry->size = g_array_index (sizes, LbPop3Entry, j).size;
    }
  s->have_sizes = TRUE;
  plan_downloads (s);
}

static void
plan_downloads (Session *s)
{
  g_autoptr(GHashTable) new_uids = NULL;
  GHashTableIter iter;
  gpointer key, value;
  guint matched = 0;

  s->stats.on_server = s->entries->len;
  g_clear_pointer (&s->full, g_array_unref);
  g_clear_pointer (&s->partial, g_array_unref);
  g_clear_pointer (&s->forget, g_ptr_array_unref);
  s->full = g_array_new (FALSE, FALSE, sizeof (guint));
  s->partial = g_array_new (FALSE, FALSE, sizeof (guint));
  new_uids = g_hash_table_new (g_str_hash, g_str_equal);

  /* one lookup per message, nothing more for the known ones: a check of a
   * big mailbox kept on the server finds nearly all of them known */
  for (guint i = 0; i < s->entries->len; i++)
    {
      const LbPop3Entry *entry = &g_array_index (s->entries, LbPop3Entry, i);

      if (entry->uid == NULL)
        continue;
      if (s->kind == SESSION_REST && s->full->len == 0 && g_strcmp0 (entry->uid, s->rest_uidl) == 0)
        g_array_append_val (s->full, i);
      if (g_hash_table_contains (s->known, entry->uid))
        {
          matched++;
          continue;
        }
      /* two messages with one UIDL would be one here: the first wins,
       * the second is neither stored nor ever deleted */
      if (!g_hash_table_add (new_uids, entry->uid) || s->kind == SESSION_REST)
        continue;
      if (s->size_limit > 0 && entry->size > s->size_limit)
        g_array_append_val (s->partial, i);
      else
        g_array_append_val (s->full, i);
    }

  /* What the store remembers and the server no longer has; a message
   * whose rest was never downloaded keeps its record (it stays partial).
   * Only looked for when the listing did not match every UIDL known (a
   * known UIDL listed twice could hide one gone: it is forgotten at a
   * later check). */
  s->forget = g_ptr_array_new_with_free_func (g_free);
  if (matched != g_hash_table_size (s->known))
    {
      g_autoptr(GHashTable) on_server = g_hash_table_new (g_str_hash, g_str_equal);

      for (guint i = 0; i < s->entries->len; i++)
        if (g_array_index (s->entries, LbPop3Entry, i).uid != NULL)
          g_hash_table_add (on_server, g_array_index (s->entries, LbPop3Entry, i).uid);
      g_hash_table_iter_init (&iter, s->known);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          const LbStorePop3Uidl *known = value;

          if (!g_hash_table_contains (on_server, key) && !(known->partial && known->key != 0))
            g_ptr_array_add (s->forget, g_strdup (key));
        }
    }

  if (s->kind == SESSION_REST && s->full->len == 0)
    {
      session_fail (s, g_error_new_literal (LB_POP3_PROVIDER_ERROR, LB_POP3_PROVIDER_ERROR_NOT_ON_SERVER,
                                            _("Could not download the rest of the message: the server "
                                              "no longer has it")));
      return;
    }

  if (s->size_limit > 0 && s->full->len > 0 && !s->have_sizes)
    {
      lb_pop3_client_scan_async (s->client, LB_POP3_SCAN_SIZES, s->cancellable, sizes_cb, s);
      return;
    }

  s->total = s->full->len + s->partial->len;
  g_debug ("pop3 %s: %u on the server, %u new (%u too large for the size limit)", s->account_id,
           s->entries->len, s->total, s->partial->len);
  if (s->total == 0)
    {
      delete_and_quit (s, NULL);
      return;
    }

  s->got = g_new0 (guint8, s->entries->len);
  s->download = lb_store_download_new (s->self->store, s->inbox_id);
  s->recorded_id = g_signal_connect (s->download, "recorded", G_CALLBACK (recorded_cb), s);
  retrieve_next (s);
}

/* ------------------------------------------------------------------ 1. connect, log in */

/* The store's UIDLs, the keyring and the connection are asked for
 * together; the greeting, CAPA and STLS go on while the keyring answers,
 * and the listing while the store does: each step waits only for what it
 * needs. s->inflight counts the operations under way; after a failure
 * (the first is kept in s->error and cancels the others) the session ends
 * once they all came back. */

static void
settle (Session *s)
{
  if (s->inflight == 0)
    session_fail (s, g_steal_pointer (&s->error));
}

static void
session_step_failed (Session *s,
                     GError  *error)
{
  /* the first error is the one reported; a cancellation only when
   * nothing else went wrong */
  if (s->error == NULL || (is_cancelled (s->error) && !is_cancelled (error)))
    {
      g_clear_error (&s->error);
      s->error = error;
      /* no need to wait for the others' slow paths */
      g_cancellable_cancel (s->cancellable);
    }
  else
    g_error_free (error);
  settle (s);
}

static void
login_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;

  s->inflight--;
  g_clear_pointer (&s->password, lb_secrets_password_free);
  if (!lb_pop3_client_login_finish (LB_POP3_CLIENT (object), result, &error))
    {
      session_step_failed (s, error);
      return;
    }
  if (s->error != NULL)
    {
      settle (s);
      return;
    }
  s->inflight++;
  lb_pop3_client_scan_async (s->client, LB_POP3_SCAN_UIDS, s->cancellable, scan_cb, s);
}

/* greeted (and secured) and the password is here: log in */
static void
try_login (Session *s)
{
  if (s->error != NULL)
    {
      settle (s);
      return;
    }
  if (!s->ready_to_login || s->password == NULL)
    return;
  s->inflight++;
  lb_pop3_client_login_async (s->client, LB_POP3_AUTH_AUTO, s->user, s->password, s->cancellable,
                              login_cb, s);
}

static void
stls_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;

  s->inflight--;
  if (!lb_pop3_client_stls_finish (LB_POP3_CLIENT (object), result, &error))
    {
      session_step_failed (s, error);
      return;
    }
  s->ready_to_login = TRUE;
  try_login (s);
}

static void
capa_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;

  s->inflight--;
  if (!lb_pop3_client_capa_finish (LB_POP3_CLIENT (object), result, &error))
    {
      session_step_failed (s, error);
      return;
    }
  if (s->error == NULL && s->security == LB_NET_SECURITY_STARTTLS)
    {
      s->inflight++;
      lb_pop3_client_stls_async (s->client, s->self->connector, s->host, s->port, s->cancellable,
                                 stls_cb, s);
      return;
    }
  s->ready_to_login = TRUE;
  try_login (s);
}

static void
greet_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;

  s->inflight--;
  if (!lb_pop3_client_greet_finish (LB_POP3_CLIENT (object), result, &error))
    {
      session_step_failed (s, error);
      return;
    }
  if (s->error != NULL)
    {
      settle (s);
      return;
    }
  s->inflight++;
  lb_pop3_client_capa_async (s->client, s->cancellable, capa_cb, s);
}

static void
known_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;

  s->inflight--;
  s->known = lb_store_list_pop3_uidls_finish (LB_STORE (object), result, &error);
  if (s->known == NULL)
    {
      session_step_failed (s, error);
      return;
    }
  try_plan (s);
}

static void
password_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;

  s->inflight--;
  s->password = lb_secrets_lookup_finish (LB_SECRETS (object), result, &error);
  if (s->password == NULL && error == NULL)
    error = g_error_new (LB_POP3_PROVIDER_ERROR, LB_POP3_PROVIDER_ERROR_NO_PASSWORD,
                         _("The keyring has no password for %s on %s"), s->user, s->host);
  if (error != NULL)
    {
      session_step_failed (s, error);
      return;
    }
  try_login (s);
}

static void
stream_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;
  g_autoptr(GIOStream) stream = NULL;

  s->inflight--;
  stream = lb_connector_connect_finish (LB_CONNECTOR (object), result, &error);
  if (stream == NULL)
    {
      session_step_failed (s, error);
      return;
    }
  if (s->error != NULL)
    {
      settle (s);
      return;
    }
  s->client = lb_pop3_client_new (stream);
  s->inflight++;
  lb_pop3_client_greet_async (s->client, s->cancellable, greet_cb, s);
}

static void
folders_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Session *s = user_data;
  GError *error = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  LbSecretKey key;

  folders = lb_store_list_folders_finish (LB_STORE (object), result, &error);
  if (folders == NULL)
    {
      session_fail (s, error);
      return;
    }
  for (guint i = 0; i < folders->len && s->inbox_id == 0; i++)
    {
      const LbFolderInfo *info = folders->pdata[i];

      if (info->local && info->role == LB_FOLDER_ROLE_INBOX)
        s->inbox_id = info->id;
    }
  if (s->inbox_id == 0)
    {
      session_fail (s, g_error_new_literal (LB_POP3_PROVIDER_ERROR, LB_POP3_PROVIDER_ERROR_NO_INBOX,
                                            _("Could not download the mail: the account has no local "
                                              "Inbox to put it in")));
      return;
    }
  if (session_stopped (s))
    return;

  /* the store's list, the keyring and the connection, together */
  s->inflight = 3;
  lb_store_list_pop3_uidls_async (s->self->store, s->cancellable, known_cb, s);
  key.account_id = s->account_id;
  key.protocol = "pop3";
  key.host = s->host;
  key.user = s->user;
  lb_secrets_lookup_async (s->self->secrets, &key, s->cancellable, password_cb, s);
  lb_connector_connect_async (s->self->connector, s->host, s->port, s->security, s->cancellable,
                              stream_cb, s);
}

static void
session_start (Session *s)
{
  LbPop3Provider *self = s->self;
  g_autoptr(LbAccount) account = g_weak_ref_get (&self->account);

  if (account == NULL)
    {
      session_fail (s, g_error_new_literal (LB_POP3_PROVIDER_ERROR, LB_POP3_PROVIDER_ERROR_ACCOUNT_GONE,
                                            _("The account was removed")));
      return;
    }
  if (session_stopped (s))
    return;

  s->account_id = g_strdup (lb_account_get_id (account));
  s->host = g_strdup (lb_account_get_incoming_host (account));
  s->port = lb_account_get_effective_incoming_port (account);
  s->security = lb_account_get_incoming_security (account);
  s->user = g_strdup (lb_account_get_incoming_user (account));
  if (s->user == NULL)
    {
      LbIdentity *identity = lb_account_get_default_identity (account);

      s->user = g_strdup (identity != NULL ? lb_identity_get_address (identity) : "");
    }
  s->keep = lb_account_get_pop3_keep_on_server (account);
  s->delete_after_days = lb_account_get_pop3_delete_after_days (account);
  s->delete_when_deleted_here = lb_account_get_pop3_delete_when_deleted_here (account);
  s->size_limit = (guint64) lb_account_get_pop3_size_limit (account) * 1024;

  /* the password never travels in clear text without the user's word */
  if (s->security == LB_NET_SECURITY_NONE && !lb_account_get_allow_plaintext_password (account))
    {
      session_fail (s, g_error_new (LB_POP3_PROVIDER_ERROR, LB_POP3_PROVIDER_ERROR_PLAINTEXT_REFUSED,
                                    _("Letterbox did not log in to %s: the connection would not be "
                                      "encrypted, and anyone on the network could read the password. "
                                      "Choose TLS or STARTTLS, or allow sending the password "
                                      "unencrypted in the account’s settings."),
                                    s->host));
      return;
    }
  {
    g_auto(GStrv) trusted = lb_account_dup_trusted_certificates (account);

    lb_connector_set_pinned_fingerprints (self->connector, (const char * const *) trusted);
  }
  g_clear_pointer (&self->rejected_fingerprint, g_free);

  lb_store_list_folders_async (self->store, s->cancellable, folders_cb, s);
}

static void
session_next_step (Session *s)
{
  if (s->started)
    return;
  s->started = TRUE;
  session_start (s);
}

static void
queue_session (LbPop3Provider *self,
               Session        *s)
{
  s->self = g_object_ref (self);
  g_queue_push_tail (&self->sessions, s);
  if (g_queue_get_length (&self->sessions) == 1)
    session_next_step (s);
}

static Session *
session_new (LbPop3Provider      *self,
             SessionKind          kind,
             gpointer             source_tag,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  Session *s = g_new0 (Session, 1);

  s->kind = kind;
  s->task = g_task_new (self, cancellable, callback, user_data);
  /* what was done is reported even when the caller cancelled too late to
   * stop it (the messages may be gone from the server) */
  g_task_set_check_cancellable (s->task, FALSE);
  g_task_set_source_tag (s->task, source_tag);
  /* the session's own, so that one step's failure can stop the others */
  s->cancellable = g_cancellable_new ();
  if (cancellable != NULL)
    {
      s->outer = g_object_ref (cancellable);
      s->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (g_cancellable_cancel),
                                            s->cancellable, NULL);
    }
  g_signal_connect (s->cancellable, "cancelled", G_CALLBACK (cancelled_cb), s);
  return s;
}

/**
 * lb_pop3_provider_check_async:
 * @self: a provider
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the check ended
 * @user_data: data for @callback
 *
 * Checks for new mail: downloads every message of the server's mailbox
 * whose UIDL this account has not seen into the local Inbox (emitting
 * #LbPop3Provider::download-progress), then deletes from the server what
 * the account's rules give up, once it is stored durably here.
 */
void
lb_pop3_provider_check_async (LbPop3Provider      *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (LB_IS_POP3_PROVIDER (self));

  queue_session (self, session_new (self, SESSION_CHECK, lb_pop3_provider_check_async,
                                    cancellable, callback, user_data));
}

/**
 * lb_pop3_provider_check_finish:
 * @self: a provider
 * @result: the result
 * @stats: (out caller-allocates) (optional): what the check did
 * @error: return location for an error
 *
 * Returns: whether the check succeeded
 */
gboolean
lb_pop3_provider_check_finish (LbPop3Provider  *self,
                               GAsyncResult    *result,
                               LbPop3Stats     *stats,
                               GError         **error)
{
  g_autofree LbPop3Stats *done = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  done = g_task_propagate_pointer (G_TASK (result), error);
  if (done == NULL)
    return FALSE;
  if (stats != NULL)
    *stats = *done;
  return TRUE;
}

/* ------------------------------------------------------------------ the rest of a message */

static void
rest_session_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) outer = user_data;
  GError *error = NULL;
  g_autofree LbPop3Stats *stats = g_task_propagate_pointer (G_TASK (result), &error);

  if (stats == NULL)
    g_task_return_error (outer, error);
  else
    g_task_return_boolean (outer, TRUE);
}

static void
rest_known_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LbPop3Provider *self = g_task_get_source_object (task);
  GError *error = NULL;
  g_autoptr(LbStorePop3Uidl) uidl = NULL;
  Session *s;

  uidl = lb_store_get_pop3_uidl_finish (LB_STORE (object), result, &error);
  if (uidl == NULL)
    {
      if (g_error_matches (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND))
        {
          g_clear_error (&error);
          error = g_error_new_literal (LB_POP3_PROVIDER_ERROR, LB_POP3_PROVIDER_ERROR_NOT_ON_SERVER,
                                       _("Could not download the rest of the message: it did not come "
                                         "from this account’s server"));
        }
      g_task_return_error (task, error);
      return;
    }
  if (!uidl->partial)
    {
      /* whole already: nothing to download */
      g_task_return_boolean (task, TRUE);
      return;
    }
  s = session_new (self, SESSION_REST, lb_pop3_provider_download_rest_async,
                   g_task_get_cancellable (task), rest_session_cb, g_object_ref (task));
  s->rest_uidl = g_strdup (uidl->uidl);
  queue_session (self, s);
}

/**
 * lb_pop3_provider_download_rest_async:
 * @self: a provider
 * @key: a message stored as its headers only (over the size limit)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the whole message is stored
 * @user_data: data for @callback
 *
 * Downloads the whole message, which replaces the headers where the
 * message is now (whatever folder the user filed it into), keeping its
 * flags. A message already whole succeeds at once.
 */
void
lb_pop3_provider_download_rest_async (LbPop3Provider      *self,
                                      gint64               key,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LB_IS_POP3_PROVIDER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_pop3_provider_download_rest_async);
  lb_store_get_pop3_uidl_async (self->store, key, cancellable, rest_known_cb, g_steal_pointer (&task));
}

/**
 * lb_pop3_provider_download_rest_finish:
 * @self: a provider
 * @result: the result
 * @error: return location for an error
 *
 * Returns: whether the whole message is stored here
 */
gboolean
lb_pop3_provider_download_rest_finish (LbPop3Provider  *self,
                                       GAsyncResult    *result,
                                       GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
partial_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  g_autoptr(LbStorePop3Uidl) uidl = lb_store_get_pop3_uidl_finish (LB_STORE (object), result, &error);

  /* a message filed here from elsewhere is whole */
  if (uidl == NULL && !g_error_matches (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND))
    g_task_return_error (task, error);
  else
    {
      g_clear_error (&error);
      g_task_return_int (task, uidl != NULL && uidl->partial ? 1 : 0);
    }
}

/**
 * lb_pop3_provider_is_partial_async:
 * @self: a provider
 * @key: a message
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the answer
 * @user_data: data for @callback
 *
 * Finds out whether only the headers of a message are here.
 */
void
lb_pop3_provider_is_partial_async (LbPop3Provider      *self,
                                   gint64               key,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LB_IS_POP3_PROVIDER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_pop3_provider_is_partial_async);
  lb_store_get_pop3_uidl_async (self->store, key, cancellable, partial_cb, g_steal_pointer (&task));
}

/**
 * lb_pop3_provider_is_partial_finish:
 * @self: a provider
 * @result: the result
 * @partial: (out): whether only the headers are here
 * @error: return location for an error
 *
 * Returns: whether the store could tell
 */
gboolean
lb_pop3_provider_is_partial_finish (LbPop3Provider  *self,
                                    GAsyncResult    *result,
                                    gboolean        *partial,
                                    GError         **error)
{
  gssize answer;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  answer = g_task_propagate_int (G_TASK (result), error);
  if (answer < 0)
    return FALSE;
  *partial = answer == 1;
  return TRUE;
}

static void
create_folder_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  LbFolderInfo *info = lb_local_provider_create_folder_finish (LB_LOCAL_PROVIDER (object), result, &error);

  if (info == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, info, (GDestroyNotify) lb_folder_info_free);
}

/**
 * lb_pop3_provider_create_folder_async:
 * @self: a provider
 * @name: the folder's name
 * @role: what it is for (%LB_FOLDER_ROLE_NONE for the user's own)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the folder exists
 * @user_data: data for @callback
 *
 * Makes a folder of this account's, on this computer (a POP3 server has
 * none): for filing mail, and for Sent and Drafts.
 */
void
lb_pop3_provider_create_folder_async (LbPop3Provider      *self,
                                      const char          *name,
                                      LbFolderRole         role,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (LB_IS_POP3_PROVIDER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_pop3_provider_create_folder_async);
  lb_local_provider_create_folder_async (self->local, name, role, cancellable, create_folder_cb,
                                         g_steal_pointer (&task));
}

/**
 * lb_pop3_provider_create_folder_finish:
 * @self: a provider
 * @result: the result
 * @error: return location for an error
 *
 * Returns: (transfer full): the new folder, or %NULL
 */
LbFolderInfo *
lb_pop3_provider_create_folder_finish (LbPop3Provider  *self,
                                       GAsyncResult    *result,
                                       GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------ LbProvider */

static LbStore *
pop3_get_store (LbProvider *provider)
{
  return LB_POP3_PROVIDER (provider)->store;
}

static const char *
pop3_get_protocol_name (LbProvider *provider)
{
  return "pop3";
}

#define LOCAL(provider) LB_PROVIDER (LB_POP3_PROVIDER (provider)->local)

static void
pop3_list_folders_async (LbProvider          *provider,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  lb_provider_list_folders_async (LOCAL (provider), cancellable, callback, user_data);
}

static GPtrArray *
pop3_list_folders_finish (LbProvider    *provider,
                          GAsyncResult  *result,
                          GError       **error)
{
  return lb_provider_list_folders_finish (LOCAL (provider), result, error);
}

static void
pop3_connect_async (LbProvider          *provider,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  /* a POP3 session lasts one check: there is nothing to stay connected to */
  lb_provider_connect_async (LOCAL (provider), cancellable, callback, user_data);
}

static gboolean
pop3_connect_finish (LbProvider    *provider,
                     GAsyncResult  *result,
                     GError       **error)
{
  return lb_provider_connect_finish (LOCAL (provider), result, error);
}

static void
pop3_disconnect_async (LbProvider          *provider,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  lb_provider_disconnect_async (LOCAL (provider), cancellable, callback, user_data);
}

static gboolean
pop3_disconnect_finish (LbProvider    *provider,
                        GAsyncResult  *result,
                        GError       **error)
{
  return lb_provider_disconnect_finish (LOCAL (provider), result, error);
}

static void
sync_check_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!lb_pop3_provider_check_finish (LB_POP3_PROVIDER (object), result, NULL, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
pop3_sync_folder_async (LbProvider          *provider,
                        gint64               folder_id,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  LbPop3Provider *self = LB_POP3_PROVIDER (provider);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, pop3_sync_folder_async);
  /* Syncing any folder is a check for new mail: the Inbox is where it
   * goes, and the other folders have nothing on the server. */
  lb_pop3_provider_check_async (self, cancellable, sync_check_cb, g_steal_pointer (&task));
}

static gboolean
pop3_sync_folder_finish (LbProvider    *provider,
                         GAsyncResult  *result,
                         GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
pop3_fetch_body_async (LbProvider          *provider,
                       gint64               key,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  lb_provider_fetch_body_async (LOCAL (provider), key, cancellable, callback, user_data);
}

static GBytes *
pop3_fetch_body_finish (LbProvider    *provider,
                        GAsyncResult  *result,
                        GError       **error)
{
  return lb_provider_fetch_body_finish (LOCAL (provider), result, error);
}

static void
pop3_set_flags_async (LbProvider          *provider,
                      GArray              *keys,
                      guint                add,
                      guint                remove,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  lb_provider_set_flags_async (LOCAL (provider), keys, add, remove, cancellable, callback, user_data);
}

static gboolean
pop3_set_flags_finish (LbProvider    *provider,
                       GAsyncResult  *result,
                       GError       **error)
{
  return lb_provider_set_flags_finish (LOCAL (provider), result, error);
}

static void
pop3_move_async (LbProvider          *provider,
                 GArray              *keys,
                 gint64               target_folder_id,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  lb_provider_move_async (LOCAL (provider), keys, target_folder_id, cancellable, callback, user_data);
}

static gboolean
pop3_move_finish (LbProvider    *provider,
                  GAsyncResult  *result,
                  GError       **error)
{
  return lb_provider_move_finish (LOCAL (provider), result, error);
}

static void
pop3_delete_async (LbProvider          *provider,
                   GArray              *keys,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  lb_provider_delete_async (LOCAL (provider), keys, cancellable, callback, user_data);
}

static gboolean
pop3_delete_finish (LbProvider    *provider,
                    GAsyncResult  *result,
                    GError       **error)
{
  return lb_provider_delete_finish (LOCAL (provider), result, error);
}

static void
pop3_append_async (LbProvider          *provider,
                   gint64               folder_id,
                   GBytes              *raw,
                   guint                flags,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  lb_provider_append_async (LOCAL (provider), folder_id, raw, flags, cancellable, callback, user_data);
}

static gint64
pop3_append_finish (LbProvider    *provider,
                    GAsyncResult  *result,
                    GError       **error)
{
  return lb_provider_append_finish (LOCAL (provider), result, error);
}

static void
pop3_expunge_async (LbProvider          *provider,
                    gint64               folder_id,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  lb_provider_expunge_async (LOCAL (provider), folder_id, cancellable, callback, user_data);
}

static gboolean
pop3_expunge_finish (LbProvider    *provider,
                     GAsyncResult  *result,
                     GError       **error)
{
  return lb_provider_expunge_finish (LOCAL (provider), result, error);
}

static void
pop3_replay_queue_async (LbProvider          *provider,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  /* nothing is queued: every change is local; deletions on the server
   * follow the rules at each check */
  lb_provider_replay_queue_async (LOCAL (provider), cancellable, callback, user_data);
}

static gboolean
pop3_replay_queue_finish (LbProvider    *provider,
                          GAsyncResult  *result,
                          GError       **error)
{
  return lb_provider_replay_queue_finish (LOCAL (provider), result, error);
}

static void
lb_pop3_provider_iface_init (LbProviderInterface *iface)
{
  iface->get_store = pop3_get_store;
  iface->get_protocol_name = pop3_get_protocol_name;
  iface->connect_async = pop3_connect_async;
  iface->connect_finish = pop3_connect_finish;
  iface->disconnect_async = pop3_disconnect_async;
  iface->disconnect_finish = pop3_disconnect_finish;
  iface->list_folders_async = pop3_list_folders_async;
  iface->list_folders_finish = pop3_list_folders_finish;
  iface->sync_folder_async = pop3_sync_folder_async;
  iface->sync_folder_finish = pop3_sync_folder_finish;
  iface->fetch_body_async = pop3_fetch_body_async;
  iface->fetch_body_finish = pop3_fetch_body_finish;
  iface->set_flags_async = pop3_set_flags_async;
  iface->set_flags_finish = pop3_set_flags_finish;
  iface->move_async = pop3_move_async;
  iface->move_finish = pop3_move_finish;
  iface->delete_async = pop3_delete_async;
  iface->delete_finish = pop3_delete_finish;
  iface->append_async = pop3_append_async;
  iface->append_finish = pop3_append_finish;
  iface->expunge_async = pop3_expunge_async;
  iface->expunge_finish = pop3_expunge_finish;
  iface->replay_queue_async = pop3_replay_queue_async;
  iface->replay_queue_finish = pop3_replay_queue_finish;
}

/* ------------------------------------------------------------------ GObject */

static void
lb_pop3_provider_dispose (GObject *object)
{
  LbPop3Provider *self = LB_POP3_PROVIDER (object);

  /* a running session holds a reference: none is left here */
  g_assert (g_queue_is_empty (&self->sessions));
  g_clear_object (&self->local);
  g_clear_object (&self->store);
  g_clear_object (&self->secrets);
  g_clear_object (&self->connector);

  G_OBJECT_CLASS (lb_pop3_provider_parent_class)->dispose (object);
}

static void
lb_pop3_provider_finalize (GObject *object)
{
  LbPop3Provider *self = LB_POP3_PROVIDER (object);

  g_weak_ref_clear (&self->account);
  g_free (self->rejected_fingerprint);

  G_OBJECT_CLASS (lb_pop3_provider_parent_class)->finalize (object);
}

static void
lb_pop3_provider_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  LbPop3Provider *self = LB_POP3_PROVIDER (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_pop3_provider_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  LbPop3Provider *self = LB_POP3_PROVIDER (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_pop3_provider_class_init (LbPop3ProviderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lb_pop3_provider_dispose;
  object_class->finalize = lb_pop3_provider_finalize;
  object_class->get_property = lb_pop3_provider_get_property;
  object_class->set_property = lb_pop3_provider_set_property;

  g_object_class_override_property (object_class, PROP_STORE, "store");

  /**
   * LbPop3Provider::download-progress:
   * @folder_id: the folder the mail goes into (the Inbox)
   * @done: new messages stored so far in this check
   * @total: new messages to store in this check
   */
  signals[DOWNLOAD_PROGRESS] =
    g_signal_new ("download-progress",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, G_TYPE_INT64, G_TYPE_UINT, G_TYPE_UINT);
}

static void
lb_pop3_provider_init (LbPop3Provider *self)
{
  g_weak_ref_init (&self->account, NULL);
  g_queue_init (&self->sessions);
}

/**
 * lb_pop3_provider_new:
 * @account: the account (a weak reference is kept)
 * @store: its store
 * @secrets: where its password is
 * @connector: opens the connections
 *
 * Returns: (transfer full): a new provider
 */
LbPop3Provider *
lb_pop3_provider_new (LbAccount   *account,
                      LbStore     *store,
                      LbSecrets   *secrets,
                      LbConnector *connector)
{
  LbPop3Provider *self;

  g_return_val_if_fail (LB_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (LB_IS_STORE (store), NULL);
  g_return_val_if_fail (LB_IS_SECRETS (secrets), NULL);
  g_return_val_if_fail (LB_IS_CONNECTOR (connector), NULL);

  self = g_object_new (LB_TYPE_POP3_PROVIDER, "store", store, NULL);
  g_weak_ref_set (&self->account, account);
  self->secrets = g_object_ref (secrets);
  self->connector = g_object_ref (connector);
  self->local = lb_local_provider_new (store);
  return self;
}

/**
 * lb_pop3_provider_close:
 * @self: a provider
 *
 * Stops the check or download under way and those waiting (the account is
 * closing): each fails with %G_IO_ERROR_CANCELLED. A session stopped
 * before the server confirmed QUIT deletes nothing there; what was stored
 * stays stored.
 */
void
lb_pop3_provider_close (LbPop3Provider *self)
{
  g_return_if_fail (LB_IS_POP3_PROVIDER (self));

  for (GList *l = self->sessions.head; l != NULL; l = l->next)
    g_cancellable_cancel (((Session *) l->data)->cancellable);
}

/**
 * lb_pop3_provider_get_rejected_fingerprint:
 * @self: a provider
 *
 * Returns: (nullable): the SHA-256 fingerprint of the certificate the
 *   last check refused, for lb_account_pin_certificate() once the user
 *   checked it
 */
const char *
lb_pop3_provider_get_rejected_fingerprint (LbPop3Provider *self)
{
  g_return_val_if_fail (LB_IS_POP3_PROVIDER (self), NULL);

  return self->rejected_fingerprint;
}
