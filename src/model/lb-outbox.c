/* lb-outbox.c: messages waiting to be sent, and sending them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-model"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "lb-drafts.h"
#include "lb-outbox.h"

/* How a message goes out, never twice:
 *
 * queue: its bytes (LB_OUTGOING_FORM_SEND) go into the account's local
 * Outbox folder through the provider (a Maildir file, fsync'ed, and a
 * durable row), then its record (envelope, Bcc text, state WAITING,
 * send_after = now + the undo delay) into the store's outbox table,
 * durable too. Only then does the queue succeed.
 *
 * send: one message per account at a time, in the order queued. The
 * record turns SENDING (durable) before the transport is called; SENT
 * (durable) when the server took it. Then it is filed (a copy appended to
 * Sent, \Answered and $Forwarded set on the originals), its record removed
 * and the Outbox copy deleted.
 *
 * A record found SENDING when the account opens means Letterbox stopped
 * while the server may or may not have taken the message: it turns
 * UNCERTAIN and is never sent again without the user's word (at most
 * once). A record found SENT is filed again.
 *
 * Two processes (the app and letterbox-cli send) may have an account open
 * at once: only the one holding the lock on the account's outbox.lock
 * takes up the records it finds; the other sends only what it queued
 * itself, or both would send the same waiting message. */

#define BACKOFF_MAX_INDEX 5
static const guint backoff_seconds[] = { 30, 60, 120, 300, 600, 900 };

G_STATIC_ASSERT (G_N_ELEMENTS (backoff_seconds) == BACKOFF_MAX_INDEX + 1);

typedef struct _AccountState AccountState;

struct _LbOutbox
{
  GObject           parent_instance;

  LbAccountManager *manager;
  GNetworkMonitor  *monitor;
  guint             undo_delay;
  GPtrArray        *accounts;   /* AccountState */
  gulong            items_changed_id;
  gulong            network_changed_id;
  gboolean          network_available;
};

G_DEFINE_FINAL_TYPE (LbOutbox, lb_outbox, G_TYPE_OBJECT)

enum {
  SIGNAL_STATE_CHANGED,
  SIGNAL_SENT,
  SIGNAL_FILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ------------------------------------------------------------------ accounts */

struct _AccountState
{
  gatomicrefcount  ref_count;
  LbOutbox        *outbox;      /* NULL once the outbox is gone */
  LbAccount       *account;
  gulong           opened_id;
  LbStore         *store;       /* while the account is open */
  guint            session;     /* counts the opens: stale callbacks see a new one */
  GCancellable    *cancellable; /* of this session */
  GPtrArray       *entries;     /* LbStoreOutboxEntry, in order; the records */
  gboolean         loaded;
  GPtrArray       *early;       /* records queued while they were being read */
  gint64           sending;     /* the key being sent (or filed), 0 for none */
  guint            timer;
  int              lock_fd;     /* on the account's outbox.lock, -1 for none */
  gboolean         owner;       /* no other process holds the lock */
};

static AccountState *
account_state_ref (AccountState *state)
{
  g_atomic_ref_count_inc (&state->ref_count);
  return state;
}

static void
account_state_unref (AccountState *state)
{
  if (!g_atomic_ref_count_dec (&state->ref_count))
    return;
  g_clear_handle_id (&state->timer, g_source_remove);
  if (state->lock_fd >= 0)
    close (state->lock_fd);
  g_clear_object (&state->store);
  g_clear_object (&state->cancellable);
  g_clear_pointer (&state->entries, g_ptr_array_unref);
  g_clear_pointer (&state->early, g_ptr_array_unref);
  g_clear_object (&state->account);
  g_free (state);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AccountState, account_state_unref)

static LbStoreOutboxEntry *
find_entry (AccountState *state,
            gint64        key)
{
  if (state->entries == NULL)
    return NULL;
  for (guint i = 0; i < state->entries->len; i++)
    {
      LbStoreOutboxEntry *entry = state->entries->pdata[i];

      if (entry->key == key)
        return entry;
    }
  return NULL;
}

static void
remove_entry (AccountState *state,
              gint64        key)
{
  LbStoreOutboxEntry *entry = find_entry (state, key);

  if (entry != NULL)
    g_ptr_array_remove (state->entries, entry);
}

/* a record put there for a message without one has none */
static gboolean
has_recipients (const LbStoreOutboxEntry *entry)
{
  return entry->recipients != NULL && entry->recipients[0] != NULL && entry->recipients[0][0] != '\0';
}

static AccountState *
find_state (LbOutbox  *self,
            LbAccount *account)
{
  for (guint i = 0; i < self->accounts->len; i++)
    {
      AccountState *state = self->accounts->pdata[i];

      if (state->account == account)
        return state;
    }
  return NULL;
}

static void
emit_state (AccountState  *state,
            gint64         key,
            LbOutboxState  outbox_state)
{
  if (state->outbox != NULL)
    g_signal_emit (state->outbox, signals[SIGNAL_STATE_CHANGED], 0, state->account, key, outbox_state);
}

/* ------------------------------------------------------------------ scheduling */

static void run_next (AccountState *state);

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static gint64
due_time (const LbStoreOutboxEntry *entry)
{
  return MAX (entry->send_after, entry->next_attempt);
}

static gboolean
timer_cb (gpointer user_data)
{
  AccountState *state = user_data;

  state->timer = 0;
  run_next (state);
  return G_SOURCE_REMOVE;
}

/* The first waiting message, in order; NULL when none waits. */
static LbStoreOutboxEntry *
first_waiting (AccountState *state)
{
  if (state->entries == NULL)
    return NULL;
  for (guint i = 0; i < state->entries->len; i++)
    {
      LbStoreOutboxEntry *entry = state->entries->pdata[i];

      if (entry->state == LB_OUTBOX_STATE_WAITING)
        return entry;
    }
  return NULL;
}

static void send_entry (AccountState *state, LbStoreOutboxEntry *entry);
static void refile_entry (AccountState *state, LbStoreOutboxEntry *entry);

/* A message the server took but not yet filed (found SENT at the start);
 * NULL when none. */
static LbStoreOutboxEntry *
first_sent (AccountState *state)
{
  if (state->entries == NULL)
    return NULL;
  for (guint i = 0; i < state->entries->len; i++)
    {
      LbStoreOutboxEntry *entry = state->entries->pdata[i];

      if (entry->state == LB_OUTBOX_STATE_SENT)
        return entry;
    }
  return NULL;
}

/* Sends the next message if it is due, else sets the timer for it. */
static void
run_next (AccountState *state)
{
  LbStoreOutboxEntry *entry;
  gint64 now = now_seconds ();

  if (state->outbox == NULL || state->store == NULL || !state->loaded || state->sending != 0)
    return;
  g_clear_handle_id (&state->timer, g_source_remove);

  /* filed first, and only filed: never sent again */
  entry = first_sent (state);
  if (entry != NULL)
    {
      refile_entry (state, entry);
      return;
    }
  entry = first_waiting (state);
  if (entry == NULL)
    return;
  if (due_time (entry) > now)
    {
      gint64 wait = due_time (entry) - now;

      state->timer = g_timeout_add_seconds_full (G_PRIORITY_DEFAULT, (guint) MIN (wait, G_MAXUINT),
                                                 timer_cb, account_state_ref (state),
                                                 (GDestroyNotify) account_state_unref);
      g_source_set_static_name (g_main_context_find_source_by_id (NULL, state->timer),
                                "[letterbox] outbox");
      return;
    }
  send_entry (state, entry);
}

/* ------------------------------------------------------------------ sending */

typedef struct
{
  AccountState       *state;
  guint               session;
  LbStore            *store;
  LbProvider         *provider;
  LbTransport        *transport;
  GCancellable       *cancellable;
  LbStoreOutboxEntry *entry;   /* a copy of the record */
  GBytes             *raw;
  guint               step;    /* of the filing */
} SendOp;

static void
send_op_free (SendOp *op)
{
  account_state_unref (op->state);
  g_clear_object (&op->store);
  g_clear_object (&op->provider);
  g_clear_object (&op->transport);
  g_clear_object (&op->cancellable);
  lb_store_outbox_entry_free (op->entry);
  g_clear_pointer (&op->raw, g_bytes_unref);
  g_free (op);
}

/* whether @op's account is still open in the session it began in */
static gboolean
op_current (SendOp *op)
{
  return op->state->outbox != NULL && op->state->store == op->store && op->state->session == op->session;
}

/* The send of @op is over (whatever became of it): the next may go. */
static void
op_done (SendOp *op)
{
  AccountState *state = account_state_ref (op->state);
  gboolean current = op_current (op);

  if (state->session == op->session && state->sending == op->entry->key)
    state->sending = 0;
  send_op_free (op);
  if (current)
    run_next (state);
  account_state_unref (state);
}

/* Notes @op's new state in the mirror and tells. */
static void
op_set_state (SendOp        *op,
              LbOutboxState  outbox_state,
              guint          attempts,
              gint64         next_attempt,
              const char    *last_error)
{
  LbStoreOutboxEntry *entry;

  op->entry->state = outbox_state;
  op->entry->attempts = attempts;
  op->entry->next_attempt = next_attempt;
  if (op->entry->last_error != last_error)
    {
      g_free (op->entry->last_error);
      op->entry->last_error = g_strdup (last_error);
    }
  if (!op_current (op))
    return;
  entry = find_entry (op->state, op->entry->key);
  if (entry == NULL)
    return;
  entry->state = outbox_state;
  entry->attempts = attempts;
  entry->next_attempt = next_attempt;
  g_free (entry->last_error);
  entry->last_error = g_strdup (last_error);
  emit_state (op->state, entry->key, outbox_state);
}

static void file_sent (SendOp *op);

static void
sent_written_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SendOp *op = user_data;
  g_autoptr(GError) error = NULL;

  /* the server has it: whatever the store says, it is not sent again */
  if (!lb_store_outbox_set_state_finish (LB_STORE (object), result, &error))
    g_warning ("The outbox could not note a sent message: %s", error->message);
  op_set_state (op, LB_OUTBOX_STATE_SENT, op->entry->attempts, 0, NULL);
  if (op->state->outbox != NULL)
    g_signal_emit (op->state->outbox, signals[SIGNAL_SENT], 0, op->state->account, op->entry->key,
                   op->entry->message_id);
  file_sent (op);
}

static void
failure_written_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  SendOp *op = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_store_outbox_set_state_finish (LB_STORE (object), result, &error) &&
      !g_error_matches (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND))
    g_warning ("The outbox could not note a failed send: %s", error->message);
  op_done (op);
}

static void
send_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  SendOp *op = user_data;
  g_autoptr(GError) error = NULL;
  LbOutboxState outbox_state;
  guint attempts = op->entry->attempts;
  gint64 next_attempt = 0;
  LbStoreWriteFlags flags = LB_STORE_WRITE_DURABLE;

  if (lb_transport_send_finish (LB_TRANSPORT (object), result, &error))
    {
      op->entry->attempts = attempts;
      lb_store_outbox_set_state_async (op->store, op->entry->key, LB_OUTBOX_STATE_SENT, attempts, 0, NULL,
                                       LB_STORE_WRITE_DURABLE, NULL, sent_written_cb, op);
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* stopped before the server answered: nothing was handed over in
       * full, or the transport would have said UNCERTAIN */
      outbox_state = LB_OUTBOX_STATE_WAITING;
      g_clear_error (&error);
      flags = LB_STORE_WRITE_NONE;
    }
  else if (g_error_matches (error, LB_TRANSPORT_ERROR, LB_TRANSPORT_ERROR_UNCERTAIN))
    outbox_state = LB_OUTBOX_STATE_UNCERTAIN;
  else if (lb_transport_error_is_temporary (error))
    {
      outbox_state = LB_OUTBOX_STATE_WAITING;
      next_attempt = now_seconds () + backoff_seconds[MIN (attempts, BACKOFF_MAX_INDEX)];
      attempts++;
    }
  else
    outbox_state = LB_OUTBOX_STATE_FAILED;

  if (error != NULL)
    g_debug ("Sending %s failed: %s", op->entry->message_id, error->message);
  op_set_state (op, outbox_state, attempts, next_attempt, error != NULL ? error->message : NULL);
  lb_store_outbox_set_state_async (op->store, op->entry->key, outbox_state, attempts, next_attempt,
                                   error != NULL ? error->message : NULL, flags, NULL,
                                   failure_written_cb, op);
}

static void
sending_written_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  SendOp *op = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_store_outbox_set_state_finish (LB_STORE (object), result, &error))
    {
      /* taken back or deleted meanwhile, or the disk failed: not sent */
      if (!g_error_matches (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND))
        g_warning ("The outbox could not note a send: %s", error->message);
      else if (op_current (op))
        remove_entry (op->state, op->entry->key);
      op_done (op);
      return;
    }
  op_set_state (op, LB_OUTBOX_STATE_SENDING, op->entry->attempts, op->entry->next_attempt,
                op->entry->last_error);
  if (g_cancellable_is_cancelled (op->cancellable))
    {
      /* stopped before anything was handed over */
      op_set_state (op, LB_OUTBOX_STATE_WAITING, op->entry->attempts, op->entry->next_attempt,
                    op->entry->last_error);
      lb_store_outbox_set_state_async (op->store, op->entry->key, LB_OUTBOX_STATE_WAITING,
                                       op->entry->attempts, op->entry->next_attempt,
                                       op->entry->last_error, LB_STORE_WRITE_DURABLE, NULL,
                                       failure_written_cb, op);
      return;
    }
  lb_transport_send_async (op->transport, op->raw, op->entry->sender,
                           (const char * const *) op->entry->recipients, op->cancellable, send_cb, op);
}

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  SendOp *op = user_data;
  g_autoptr(GError) error = NULL;

  op->raw = lb_store_read_message_finish (LB_STORE (object), result, &error);
  if (op->raw == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("The message in the Outbox could not be read: %s"),
                                                  error->message);

      op_set_state (op, LB_OUTBOX_STATE_FAILED, op->entry->attempts, 0, message);
      lb_store_outbox_set_state_async (op->store, op->entry->key, LB_OUTBOX_STATE_FAILED,
                                       op->entry->attempts, 0, message, LB_STORE_WRITE_NONE, NULL,
                                       failure_written_cb, op);
      return;
    }
  if (!op_current (op) || g_cancellable_is_cancelled (op->cancellable))
    {
      op_done (op);
      return;
    }
  if (!has_recipients (op->entry))
    {
      const char *message = _("Letterbox does not know the recipients of this message. "
                              "Open it with Edit and send it again.");

      op_set_state (op, LB_OUTBOX_STATE_FAILED, op->entry->attempts, 0, message);
      lb_store_outbox_set_state_async (op->store, op->entry->key, LB_OUTBOX_STATE_FAILED,
                                       op->entry->attempts, 0, message, LB_STORE_WRITE_DURABLE, NULL,
                                       failure_written_cb, op);
      return;
    }
  /* on disk before the server sees a byte: a crash from here on leaves
   * SENDING, which the next start takes for "may have been sent" */
  lb_store_outbox_set_state_async (op->store, op->entry->key, LB_OUTBOX_STATE_SENDING,
                                   op->entry->attempts, op->entry->next_attempt, op->entry->last_error,
                                   LB_STORE_WRITE_DURABLE, NULL, sending_written_cb, op);
}

static SendOp *
send_op_new (AccountState             *state,
             const LbStoreOutboxEntry *entry)
{
  SendOp *op = g_new0 (SendOp, 1);

  op->state = account_state_ref (state);
  op->session = state->session;
  op->store = g_object_ref (state->store);
  op->provider = g_object_ref (lb_account_get_provider (state->account));
  op->cancellable = g_object_ref (state->cancellable);
  op->entry = lb_store_outbox_entry_copy (entry);
  return op;
}

static void
send_entry (AccountState       *state,
            LbStoreOutboxEntry *entry)
{
  LbTransport *transport = lb_account_get_transport (state->account);
  SendOp *op;

  if (transport == NULL)
    {
      g_debug ("%s: no transport yet", lb_account_get_id (state->account));
      return;
    }
  state->sending = entry->key;
  op = send_op_new (state, entry);
  op->transport = g_object_ref (transport);
  lb_store_read_message_async (op->store, entry->key, NULL, read_cb, op);
}

/* ---- filing a sent message ---- */

static void filing_next (SendOp *op);

/* The record goes only after the Outbox copy (with it: a trigger): a
 * copy left without its record would look like a message never sent. */
enum {
  FILE_SENT_COPY,
  FILE_ANSWERED,
  FILE_FORWARDED,
  FILE_DELETE,
  FILE_REMOVE_RECORD,
  FILE_DONE,
};

static void
filing_step_done (SendOp *op)
{
  op->step++;
  filing_next (op);
}

static void
sent_copy_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  SendOp *op = user_data;
  g_autoptr(GError) error = NULL;

  if (lb_provider_append_finish (LB_PROVIDER (object), result, &error) == 0)
    g_warning ("The sent message could not be filed in Sent: %s", error->message);
  filing_step_done (op);
}

static void
record_removed_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  SendOp *op = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_store_outbox_remove_finish (LB_STORE (object), result, &error))
    g_warning ("The sent message's record could not be removed: %s", error->message);
  if (op_current (op))
    remove_entry (op->state, op->entry->key);
  filing_step_done (op);
}

static void
flags_set_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  SendOp *op = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_provider_set_flags_finish (LB_PROVIDER (object), result, &error))
    g_debug ("The original could not be flagged: %s", error->message);
  filing_step_done (op);
}

static void
originals_found_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  SendOp *op = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = lb_store_find_message_id_finish (LB_STORE (object), result, &error);
  guint flag = op->step == FILE_ANSWERED ? LB_MESSAGE_ANSWERED : LB_MESSAGE_FORWARDED;

  if (keys == NULL || keys->len == 0)
    {
      if (error != NULL)
        g_debug ("The original could not be looked up: %s", error->message);
      filing_step_done (op);
      return;
    }
  lb_provider_set_flags_async (op->provider, keys, flag, 0, NULL, flags_set_cb, op);
}

static void
outbox_copy_deleted_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  SendOp *op = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_provider_delete_finish (LB_PROVIDER (object), result, &error))
    {
      /* its record stays SENT: filed again at the next start, never sent */
      g_warning ("The sent message could not be removed from the Outbox: %s", error->message);
      if (op_current (op))
        remove_entry (op->state, op->entry->key);
      op_done (op);
      return;
    }
  filing_step_done (op);
}

static void
filing_next (SendOp *op)
{
  LbAccount *account = op->state->account;

  switch (op->step)
    {
    case FILE_SENT_COPY:
      {
        gboolean pop3 = lb_account_get_incoming_protocol (account) == LB_INCOMING_POP3;
        LbFolder *sent;

        if (!op_current (op))
          {
            /* the account closed: its record stays SENT, and the next
             * open files it (with its copy in Sent) */
            op_done (op);
            return;
          }
        sent = lb_account_get_folder_by_role (account, LB_FOLDER_ROLE_SENT);

        if ((pop3 || lb_account_get_save_sent_copy (account)) && sent != NULL && op->raw != NULL)
          {
            lb_provider_append_async (op->provider, lb_folder_get_id (sent), op->raw, LB_MESSAGE_SEEN,
                                      NULL, sent_copy_cb, op);
            return;
          }
        filing_step_done (op);
      }
      return;

    case FILE_REMOVE_RECORD:
      lb_store_outbox_remove_async (op->store, op->entry->key, LB_STORE_WRITE_DURABLE, NULL,
                                    record_removed_cb, op);
      return;

    case FILE_ANSWERED:
    case FILE_FORWARDED:
      {
        const char *id = op->step == FILE_ANSWERED ? op->entry->in_reply_to : op->entry->forwarded_id;

        if (id != NULL && *id != '\0')
          {
            lb_store_find_message_id_async (op->store, id, NULL, originals_found_cb, op);
            return;
          }
        filing_step_done (op);
      }
      return;

    case FILE_DELETE:
      {
        g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));

        g_array_append_val (keys, op->entry->key);
        lb_provider_delete_async (op->provider, keys, NULL, outbox_copy_deleted_cb, op);
      }
      return;

    case FILE_DONE:
      if (op->state->outbox != NULL)
        g_signal_emit (op->state->outbox, signals[SIGNAL_FILED], 0, account, op->entry->key);
      op_done (op);
      return;

    default:
      g_assert_not_reached ();
    }
}

/* Files the sent message of @op: a copy in Sent, the originals flagged,
 * the record and the Outbox copy removed, in that order. */
static void
file_sent (SendOp *op)
{
  op->step = FILE_SENT_COPY;
  filing_next (op);
}

static void
refile_read_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  SendOp *op = user_data;
  g_autoptr(GError) error = NULL;

  /* gone (deleted by hand): nothing to file in Sent, the rest goes on */
  op->raw = lb_store_read_message_finish (LB_STORE (object), result, &error);
  if (op->raw == NULL)
    g_debug ("A sent message is no longer in the Outbox: %s", error->message);
  file_sent (op);
}

static void
refile_entry (AccountState       *state,
              LbStoreOutboxEntry *entry)
{
  SendOp *op = send_op_new (state, entry);

  state->sending = entry->key;
  lb_store_read_message_async (op->store, entry->key, NULL, refile_read_cb, op);
}

/* ------------------------------------------------------------------ loading */

static void
uncertain_written_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!lb_store_outbox_set_state_finish (LB_STORE (object), result, &error))
    g_warning ("The outbox could not note an uncertain send: %s", error->message);
  account_state_unref (user_data);
}

static void
list_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(AccountState) state = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) entries = lb_store_outbox_list_finish (LB_STORE (object), result, &error);

  if (state->store != LB_STORE (object) || state->loaded)
    return;   /* closed (and maybe opened again) meanwhile */
  if (entries == NULL)
    {
      g_warning ("The outbox of %s could not be read: %s", lb_account_get_id (state->account), error->message);
      return;
    }

  if (!state->owner)
    {
      g_debug ("%s: the outbox is another process's: only what is queued here is sent",
               lb_account_get_id (state->account));
      g_ptr_array_set_size (entries, 0);
    }
  state->entries = g_steal_pointer (&entries);
  state->loaded = TRUE;
  /* queued while the list was read: maybe in it, maybe not */
  for (guint i = 0; state->early != NULL && i < state->early->len; i++)
    {
      LbStoreOutboxEntry *early = state->early->pdata[i];

      /* the list may hold an older version of it */
      remove_entry (state, early->key);
      g_ptr_array_add (state->entries, lb_store_outbox_entry_copy (early));
    }
  g_clear_pointer (&state->early, g_ptr_array_unref);
  for (guint i = 0; i < state->entries->len; i++)
    {
      LbStoreOutboxEntry *entry = state->entries->pdata[i];

      if (entry->state == LB_OUTBOX_STATE_SENDING)
        {
          /* stopped in the middle of a send: the server may have it */
          g_free (entry->last_error);
          entry->last_error = g_strdup (_("Letterbox stopped while this message was being sent: "
                                          "it may have been sent."));
          entry->state = LB_OUTBOX_STATE_UNCERTAIN;
          lb_store_outbox_set_state_async (state->store, entry->key, entry->state, entry->attempts,
                                           entry->next_attempt, entry->last_error,
                                           LB_STORE_WRITE_DURABLE, NULL, uncertain_written_cb,
                                           account_state_ref (state));
          emit_state (state, entry->key, entry->state);
        }
    }
  run_next (state);
}

/* Messages in the Outbox folder without a record (Letterbox stopped
 * between putting one there and writing its record) got one, FAILED:
 * their recipients are unknown. Then the records are read. */
static void
adopted_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(AccountState) state = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) keys = lb_store_outbox_adopt_finish (LB_STORE (object), result, &error);

  if (keys == NULL)
    g_warning ("The outbox of %s could not be checked for messages without a record: %s",
               lb_account_get_id (state->account), error->message);
  else if (keys->len > 0)
    g_debug ("%s: %u message(s) in the Outbox had no record", lb_account_get_id (state->account), keys->len);
  if (state->store != LB_STORE (object) || state->loaded)
    return;   /* closed (and maybe opened again) meanwhile */
  lb_store_outbox_list_async (state->store, NULL, list_cb, account_state_ref (state));
}

/* Takes the account's outbox lock, if no other process holds it. */
static void
take_lock (AccountState *state)
{
  g_autofree char *path = g_build_filename (lb_store_get_directory (state->store), "outbox.lock", NULL);

  if (state->lock_fd >= 0)
    return;
  state->owner = TRUE;
  state->lock_fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (state->lock_fd < 0)
    {
      int saved = errno;

      /* no lock to be had: as if alone */
      g_warning ("Could not open %s: %s", path, g_strerror (saved));
      return;
    }
  if (flock (state->lock_fd, LOCK_EX | LOCK_NB) != 0)
    {
      close (state->lock_fd);
      state->lock_fd = -1;
      state->owner = FALSE;
    }
}

static void
release_lock (AccountState *state)
{
  if (state->lock_fd >= 0)
    close (state->lock_fd);
  state->lock_fd = -1;
  state->owner = FALSE;
}

static void
account_opened (AccountState *state)
{
  LbFolder *outbox_folder;

  if (lb_account_get_opened (state->account))
    {
      if (state->store != NULL)
        return;
      state->store = g_object_ref (lb_account_get_store (state->account));
      state->session++;
      g_clear_object (&state->cancellable);
      state->cancellable = g_cancellable_new ();
      state->loaded = FALSE;
      state->sending = 0;
      take_lock (state);
      outbox_folder = lb_account_get_folder_by_role (state->account, LB_FOLDER_ROLE_OUTBOX);
      if (outbox_folder != NULL && state->owner)
        lb_store_outbox_adopt_async (state->store, lb_folder_get_id (outbox_folder), LB_OUTBOX_STATE_FAILED,
                                     _("Letterbox stopped while putting this message in the Outbox, "
                                       "before it noted its recipients (Bcc included): it was not sent. "
                                       "Open it with Edit and send it again."),
                                     NULL, adopted_cb, account_state_ref (state));
      else
        lb_store_outbox_list_async (state->store, NULL, list_cb, account_state_ref (state));
    }
  else
    {
      if (state->cancellable != NULL)
        g_cancellable_cancel (state->cancellable);
      g_clear_object (&state->store);
      g_clear_pointer (&state->entries, g_ptr_array_unref);
      g_clear_pointer (&state->early, g_ptr_array_unref);
      g_clear_handle_id (&state->timer, g_source_remove);
      release_lock (state);
      state->loaded = FALSE;
      state->sending = 0;
      state->session++;
    }
}

static void
opened_cb (LbAccount    *account,
           GParamSpec   *pspec,
           AccountState *state)
{
  account_opened (state);
}

static void
drop_state (AccountState *state)
{
  g_clear_signal_handler (&state->opened_id, state->account);
  if (state->cancellable != NULL)
    g_cancellable_cancel (state->cancellable);
  g_clear_handle_id (&state->timer, g_source_remove);
  release_lock (state);
  g_clear_object (&state->store);
  state->outbox = NULL;
  account_state_unref (state);
}

static void
accounts_changed_cb (GListModel *list,
                     guint       position,
                     guint       removed,
                     guint       added,
                     LbOutbox   *self)
{
  guint n = g_list_model_get_n_items (list);
  g_autoptr(GPtrArray) keep = g_ptr_array_new ();

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbAccount) account = g_list_model_get_item (list, i);
      AccountState *state = find_state (self, account);

      if (state == NULL)
        {
          state = g_new0 (AccountState, 1);
          g_atomic_ref_count_init (&state->ref_count);
          state->lock_fd = -1;
          state->outbox = self;
          state->account = g_object_ref (account);
          state->opened_id = g_signal_connect (account, "notify::opened", G_CALLBACK (opened_cb), state);
          g_ptr_array_add (self->accounts, state);
          account_opened (state);
        }
      g_ptr_array_add (keep, state);
    }

  for (guint i = self->accounts->len; i > 0; i--)
    {
      AccountState *state = self->accounts->pdata[i - 1];

      if (!g_ptr_array_find (keep, state, NULL))
        {
          g_ptr_array_remove_index (self->accounts, i - 1);
          drop_state (state);
        }
    }
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    LbOutbox        *self)
{
  gboolean was = self->network_available;

  self->network_available = available;
  if (available && !was)
    lb_outbox_flush (self);
}

/* ------------------------------------------------------------------ object */

static void
lb_outbox_dispose (GObject *object)
{
  LbOutbox *self = LB_OUTBOX (object);

  if (self->manager != NULL)
    g_clear_signal_handler (&self->items_changed_id, self->manager);
  if (self->monitor != NULL)
    g_clear_signal_handler (&self->network_changed_id, self->monitor);
  if (self->accounts != NULL)
    {
      for (guint i = 0; i < self->accounts->len; i++)
        drop_state (self->accounts->pdata[i]);
      g_ptr_array_set_size (self->accounts, 0);
    }
  g_clear_object (&self->manager);
  g_clear_object (&self->monitor);

  G_OBJECT_CLASS (lb_outbox_parent_class)->dispose (object);
}

static void
lb_outbox_finalize (GObject *object)
{
  LbOutbox *self = LB_OUTBOX (object);

  g_clear_pointer (&self->accounts, g_ptr_array_unref);

  G_OBJECT_CLASS (lb_outbox_parent_class)->finalize (object);
}

static void
lb_outbox_class_init (LbOutboxClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lb_outbox_dispose;
  object_class->finalize = lb_outbox_finalize;

  /**
   * LbOutbox::state-changed:
   * @self: the outbox
   * @account: the account
   * @key: the message's key in the Outbox folder
   * @state: its #LbOutboxState
   */
  signals[SIGNAL_STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, LB_TYPE_ACCOUNT, G_TYPE_INT64, G_TYPE_INT);

  /**
   * LbOutbox::sent:
   * @self: the outbox
   * @account: the account
   * @outbox_key: the message's key in the Outbox folder
   * @message_id: its Message-ID
   */
  signals[SIGNAL_SENT] =
    g_signal_new ("sent", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 3, LB_TYPE_ACCOUNT, G_TYPE_INT64, G_TYPE_STRING);

  /**
   * LbOutbox::filed:
   * @self: the outbox
   * @account: the account
   * @outbox_key: the key the message had in the Outbox folder
   *
   * A sent message was filed (copied to Sent, its originals flagged) and
   * is gone from the Outbox.
   */
  signals[SIGNAL_FILED] =
    g_signal_new ("filed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, LB_TYPE_ACCOUNT, G_TYPE_INT64);
}

static void
lb_outbox_init (LbOutbox *self)
{
  self->accounts = g_ptr_array_new ();
}

/**
 * lb_outbox_new:
 * @manager: the accounts
 * @monitor: (nullable): the network monitor, %NULL for the default
 *
 * Returns: (transfer full): a new outbox, which sends for the accounts of
 *   @manager as they open
 */
LbOutbox *
lb_outbox_new (LbAccountManager *manager,
               GNetworkMonitor  *monitor)
{
  LbOutbox *self;

  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (manager), NULL);
  g_return_val_if_fail (monitor == NULL || G_IS_NETWORK_MONITOR (monitor), NULL);

  self = g_object_new (LB_TYPE_OUTBOX, NULL);
  self->manager = g_object_ref (manager);
  self->monitor = g_object_ref (monitor != NULL ? monitor : g_network_monitor_get_default ());
  self->network_available = g_network_monitor_get_network_available (self->monitor);
  self->network_changed_id = g_signal_connect (self->monitor, "network-changed",
                                               G_CALLBACK (network_changed_cb), self);
  self->items_changed_id = g_signal_connect (manager, "items-changed", G_CALLBACK (accounts_changed_cb), self);
  accounts_changed_cb (G_LIST_MODEL (manager), 0, 0, 0, self);
  return self;
}

guint
lb_outbox_get_undo_delay (LbOutbox *self)
{
  g_return_val_if_fail (LB_IS_OUTBOX (self), 0);

  return self->undo_delay;
}

void
lb_outbox_set_undo_delay (LbOutbox *self,
                          guint     seconds)
{
  g_return_if_fail (LB_IS_OUTBOX (self));

  self->undo_delay = seconds;
}

/* ------------------------------------------------------------------ queue */

typedef struct
{
  AccountState       *state;
  guint               session;
  LbStoreOutboxEntry *entry;
  GBytes             *raw;
} QueueData;

static void
queue_data_free (QueueData *data)
{
  account_state_unref (data->state);
  lb_store_outbox_entry_free (data->entry);
  g_clear_pointer (&data->raw, g_bytes_unref);
  g_free (data);
}

static void
draft_discarded_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!lb_drafts_discard_finish (result, &error))
    g_warning ("The draft of a queued message could not be removed: %s", error->message);
}

static void
record_put_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  QueueData *data = g_task_get_task_data (task);
  AccountState *state = data->state;
  GError *error = NULL;

  if (!lb_store_outbox_put_finish (LB_STORE (object), result, &error))
    {
      g_prefix_error (&error, _("Could not put the message in the Outbox: "));
      g_task_return_error (task, error);
      return;
    }

  if (state->session == data->session && state->outbox != NULL)
    {
      if (state->loaded)
        {
          /* it may have been taken for a message without a record */
          remove_entry (state, data->entry->key);
          g_ptr_array_add (state->entries, lb_store_outbox_entry_copy (data->entry));
        }
      else
        {
          if (state->early == NULL)
            state->early = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_store_outbox_entry_free);
          g_ptr_array_add (state->early, lb_store_outbox_entry_copy (data->entry));
        }
      emit_state (state, data->entry->key, LB_OUTBOX_STATE_WAITING);
    }
  if (data->entry->draft_key > 0)
    lb_drafts_discard_async (state->account, data->entry->draft_key, NULL, draft_discarded_cb, NULL);

  g_task_return_int (task, data->entry->key);
  if (state->session == data->session)
    run_next (state);
}

static void
outbox_append_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  QueueData *data = g_task_get_task_data (task);
  GError *error = NULL;
  LbStore *store;

  data->entry->key = lb_provider_append_finish (LB_PROVIDER (object), result, &error);
  if (data->entry->key == 0)
    {
      g_prefix_error (&error, _("Could not put the message in the Outbox: "));
      g_task_return_error (task, error);
      return;
    }
  store = lb_provider_get_store (LB_PROVIDER (object));
  lb_store_outbox_put_async (store, data->entry, LB_STORE_WRITE_DURABLE, NULL, record_put_cb,
                             g_steal_pointer (&task));
}

void
lb_outbox_queue_async (LbOutbox            *self,
                       LbAccount           *account,
                       LbOutgoingMessage   *message,
                       gint64               draft_key,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  AccountState *state;
  QueueData *data;
  LbFolder *outbox_folder;
  GError *error = NULL;
  gint64 now = now_seconds ();
  const char *bcc;

  g_return_if_fail (LB_IS_OUTBOX (self));
  g_return_if_fail (LB_IS_ACCOUNT (account));
  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (message));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_outbox_queue_async);
  /* once begun it goes to its end, and says so: a queued message reported
   * as cancelled would be sent while the user sends it again */
  g_task_set_check_cancellable (task, FALSE);
  if (g_task_return_error_if_cancelled (task))
    return;

  state = find_state (self, account);
  if (state == NULL || !lb_account_get_opened (account) || state->store == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                               _("Could not send the message: the account “%s” is not open"),
                               lb_account_get_display_name (account));
      return;
    }
  if (!lb_outgoing_message_check (message, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  outbox_folder = lb_account_get_folder_by_role (account, LB_FOLDER_ROLE_OUTBOX);
  if (outbox_folder == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               _("Could not send the message: the account “%s” has no Outbox"),
                               lb_account_get_display_name (account));
      return;
    }

  data = g_new0 (QueueData, 1);
  data->state = account_state_ref (state);
  data->session = state->session;
  data->raw = lb_outgoing_message_to_bytes (message, LB_OUTGOING_FORM_SEND);
  data->entry = lb_store_outbox_entry_new ();
  data->entry->sender = g_strdup (lb_outgoing_message_get_from_address (message));
  data->entry->recipients = lb_outgoing_message_dup_recipients (message);
  bcc = lb_outgoing_message_get_bcc (message);
  data->entry->bcc = bcc != NULL && *bcc != '\0' ? g_strdup (bcc) : NULL;
  data->entry->message_id = g_strdup (lb_outgoing_message_get_message_id (message));
  data->entry->state = LB_OUTBOX_STATE_WAITING;
  data->entry->send_after = now + self->undo_delay;
  data->entry->in_reply_to = g_strdup (lb_outgoing_message_get_in_reply_to (message));
  data->entry->forwarded_id = g_strdup (lb_outgoing_message_get_forwarded_id (message));
  data->entry->draft_key = draft_key;
  data->entry->created = now;
  g_task_set_task_data (task, data, (GDestroyNotify) queue_data_free);

  lb_provider_append_async (lb_account_get_provider (account), lb_folder_get_id (outbox_folder),
                            data->raw, LB_MESSAGE_SEEN, NULL, outbox_append_cb,
                            g_steal_pointer (&task));
}

gint64
lb_outbox_queue_finish (LbOutbox      *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), 0);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_outbox_queue_async, 0);

  return g_task_propagate_int (G_TASK (result), error);
}

/* ------------------------------------------------------------------ take back, retry */

static gboolean
check_entry (AccountState        *state,
             LbAccount           *account,
             gint64               key,
             LbStoreOutboxEntry **entry,
             GError             **error)
{
  if (state == NULL || state->store == NULL || !state->loaded ||
      (*entry = find_entry (state, key)) == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The message is no longer in the Outbox of “%s”"),
                   lb_account_get_display_name (account));
      return FALSE;
    }
  /* a send that failed for good (or uncertain) is only noting that
   * while it is still "sending": it sends nothing more */
  if ((state->sending == key && (*entry)->state != LB_OUTBOX_STATE_FAILED &&
       (*entry)->state != LB_OUTBOX_STATE_UNCERTAIN) ||
      (*entry)->state == LB_OUTBOX_STATE_SENDING || (*entry)->state == LB_OUTBOX_STATE_SENT)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   (*entry)->state == LB_OUTBOX_STATE_SENT ? _("The message was sent already")
                                                            : _("The message is being sent"));
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  AccountState       *state;
  guint               session;
  LbStoreOutboxEntry *entry;
  LbOutgoingMessage  *message;
} TakeBack;

static void
take_back_free (TakeBack *tb)
{
  account_state_unref (tb->state);
  lb_store_outbox_entry_free (tb->entry);
  g_clear_object (&tb->message);
  g_free (tb);
}

/* puts an entry taken out for a take-back back, when it failed */
static void
take_back_restore (TakeBack *tb)
{
  if (tb->state->session == tb->session && tb->state->entries != NULL &&
      find_entry (tb->state, tb->entry->key) == NULL)
    {
      g_ptr_array_add (tb->state->entries, lb_store_outbox_entry_copy (tb->entry));
      run_next (tb->state);
    }
}

/* The Outbox copy goes first (its record with it: a trigger), then the
 * record, durably: a copy left without its record would come back as a
 * message to send again, a record left alone as one to send. */
static void
take_back_removed_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TakeBack *tb = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!lb_store_outbox_remove_finish (LB_STORE (object), result, &error))
    g_warning ("The record of a message taken back could not be removed: %s", error->message);
  g_task_return_pointer (task, g_steal_pointer (&tb->message), g_object_unref);
}

static void
take_back_deleted_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TakeBack *tb = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lb_provider_delete_finish (LB_PROVIDER (object), result, &error))
    {
      take_back_restore (tb);
      g_prefix_error (&error, _("Could not take the message back: "));
      g_task_return_error (task, error);
      return;
    }
  lb_store_outbox_remove_async (lb_provider_get_store (LB_PROVIDER (object)), tb->entry->key,
                                LB_STORE_WRITE_DURABLE, NULL, take_back_removed_cb, g_steal_pointer (&task));
}

static void
take_back_read_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TakeBack *tb = g_task_get_task_data (task);
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  GError *error = NULL;

  raw = lb_store_read_message_finish (LB_STORE (object), result, &error);
  if (raw != NULL)
    tb->message = lb_outgoing_message_new_from_bytes (raw, &error);
  if (tb->message == NULL)
    {
      take_back_restore (tb);
      g_prefix_error (&error, _("Could not take the message back: "));
      g_task_return_error (task, error);
      return;
    }
  lb_outgoing_message_set_bcc (tb->message, tb->entry->bcc);
  g_array_append_val (keys, tb->entry->key);
  lb_provider_delete_async (lb_account_get_provider (tb->state->account), keys, NULL,
                            take_back_deleted_cb, g_steal_pointer (&task));
}

void
lb_outbox_take_back_async (LbOutbox            *self,
                           LbAccount           *account,
                           gint64               key,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  AccountState *state;
  LbStoreOutboxEntry *entry = NULL;
  TakeBack *tb;
  GError *error = NULL;

  g_return_if_fail (LB_IS_OUTBOX (self));
  g_return_if_fail (LB_IS_ACCOUNT (account));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_outbox_take_back_async);
  /* once the message is out of the Outbox, only this gives it back */
  g_task_set_check_cancellable (task, FALSE);
  if (g_task_return_error_if_cancelled (task))
    return;

  state = find_state (self, account);
  if (!check_entry (state, account, key, &entry, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  tb = g_new0 (TakeBack, 1);
  tb->state = account_state_ref (state);
  tb->session = state->session;
  tb->entry = lb_store_outbox_entry_copy (entry);
  g_task_set_task_data (task, tb, (GDestroyNotify) take_back_free);
  /* out of the sender's sight from now on */
  remove_entry (state, key);
  lb_store_read_message_async (state->store, key, NULL, take_back_read_cb, g_steal_pointer (&task));
}

LbOutgoingMessage *
lb_outbox_take_back_finish (LbOutbox      *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_outbox_take_back_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  AccountState *state;
  guint         session;
  gint64        key;
} Retry;

static void
retry_free (Retry *retry)
{
  account_state_unref (retry->state);
  g_free (retry);
}

static void
retry_written_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Retry *retry = g_task_get_task_data (task);
  GError *error = NULL;
  LbStoreOutboxEntry *entry;

  if (!lb_store_outbox_put_finish (LB_STORE (object), result, &error))
    {
      g_prefix_error (&error, _("Could not send the message again: "));
      g_task_return_error (task, error);
      return;
    }
  if (retry->state->session == retry->session &&
      (entry = find_entry (retry->state, retry->key)) != NULL)
    {
      entry->state = LB_OUTBOX_STATE_WAITING;
      entry->attempts = 0;
      entry->next_attempt = 0;
      entry->send_after = 0;
      g_clear_pointer (&entry->last_error, g_free);
      emit_state (retry->state, entry->key, entry->state);
    }
  g_task_return_boolean (task, TRUE);
  if (retry->state->session == retry->session)
    run_next (retry->state);
}

void
lb_outbox_retry_async (LbOutbox            *self,
                       LbAccount           *account,
                       gint64               key,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(LbStoreOutboxEntry) copy = NULL;
  AccountState *state;
  LbStoreOutboxEntry *entry = NULL;
  Retry *retry;
  GError *error = NULL;

  g_return_if_fail (LB_IS_OUTBOX (self));
  g_return_if_fail (LB_IS_ACCOUNT (account));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_outbox_retry_async);
  /* once the record says WAITING it is sent: never report that cancelled */
  g_task_set_check_cancellable (task, FALSE);
  if (g_task_return_error_if_cancelled (task))
    return;

  state = find_state (self, account);
  if (!check_entry (state, account, key, &entry, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (!has_recipients (entry))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s",
                               _("Could not send the message again: Letterbox does not know its "
                                 "recipients. Open it with Edit and send it again."));
      return;
    }

  retry = g_new0 (Retry, 1);
  retry->state = account_state_ref (state);
  retry->session = state->session;
  retry->key = key;
  g_task_set_task_data (task, retry, (GDestroyNotify) retry_free);

  copy = lb_store_outbox_entry_copy (entry);
  copy->state = LB_OUTBOX_STATE_WAITING;
  copy->attempts = 0;
  copy->next_attempt = 0;
  copy->send_after = 0;
  g_clear_pointer (&copy->last_error, g_free);
  lb_store_outbox_put_async (state->store, copy, LB_STORE_WRITE_DURABLE, NULL, retry_written_cb,
                             g_steal_pointer (&task));
}

gboolean
lb_outbox_retry_finish (LbOutbox      *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_outbox_retry_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
lb_outbox_get_state (LbOutbox       *self,
                     LbAccount      *account,
                     gint64          key,
                     LbOutboxState  *state,
                     char          **error_message)
{
  AccountState *account_state;
  LbStoreOutboxEntry *entry;

  g_return_val_if_fail (LB_IS_OUTBOX (self), FALSE);
  g_return_val_if_fail (LB_IS_ACCOUNT (account), FALSE);

  if (error_message != NULL)
    *error_message = NULL;
  account_state = find_state (self, account);
  if (account_state == NULL || (entry = find_entry (account_state, key)) == NULL)
    return FALSE;
  if (state != NULL)
    *state = entry->state;
  if (error_message != NULL)
    *error_message = g_strdup (entry->last_error);
  return TRUE;
}

void
lb_outbox_flush (LbOutbox *self)
{
  g_return_if_fail (LB_IS_OUTBOX (self));

  for (guint i = 0; i < self->accounts->len; i++)
    {
      AccountState *state = self->accounts->pdata[i];

      if (state->entries != NULL)
        for (guint j = 0; j < state->entries->len; j++)
          {
            LbStoreOutboxEntry *entry = state->entries->pdata[j];

            if (entry->state == LB_OUTBOX_STATE_WAITING)
              entry->next_attempt = 0;
          }
      run_next (state);
    }
}
