/* lb-sync-scheduler.c: keeps the accounts open and their mail up to date
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * What the app does with its accounts while it runs, without GTK: it opens
 * each account of the manager (and those added later), brings an IMAP
 * account online (the provider then keeps itself up to date: IDLE on the
 * Inbox and on the folder shown, polling of the others, reconnection with
 * backoff) after a first sync of its folder list and Inbox, and checks a
 * POP3 account now and every #LbAccount:poll-minutes. It says which
 * accounts are busy and which failed, whether the app is offline, and
 * which messages are new mail worth a notification.
 *
 * New mail is what arrives in an Inbox, unread, after the account's first
 * sync of this run (a first sync of 100,000 messages is not 100,000
 * notifications), and was not in that Inbox earlier in this run (a
 * message moved back, by an undo, is not new).
 */

#define G_LOG_DOMAIN "lb-sync-scheduler"

#include "config.h"

#include "lb-imap-provider.h"
#include "lb-pop3-provider.h"
#include "lb-sync-scheduler.h"

typedef struct
{
  gatomicrefcount  ref_count;     /* the scheduler's, and each callback's */
  gboolean         removed;       /* the scheduler let go of it */
  LbSyncScheduler *scheduler;     /* unowned: valid while !removed */
  LbAccount       *account;
  GCancellable    *cancellable;
  guint            busy;
  GError          *error;
  gboolean         ready;         /* its first sync of this run is done and announced */
  gboolean         synced;        /* a sync or check has succeeded: it is reachable */
  guint            poll_id;
  guint            first_sync_id;  /* the first sync, put off at start-up */
  gulong           store_changed_id;
  gulong           connection_error_id;
  gulong           connected_id;
  gulong           opened_id;
  LbStore         *store;         /* the one store_changed_id is on */
  LbProvider      *provider;      /* the one connection_error_id is on */
  GHashTable      *seen;          /* keys that were in the Inbox this run */
  GHashTable      *known_ids;     /* Message-IDs of messages moved in or out of it */
  GArray          *new_keys;      /* waiting for new_mail_idle */
  guint            new_mail_id;
} AccountState;

struct _LbSyncScheduler
{
  GObject           parent_instance;

  LbAccountManager *manager;
  GNetworkMonitor  *monitor;
  gulong            manager_changed_id;
  gulong            network_changed_id;
  GHashTable       *states;        /* LbAccount -> AccountState */
  gboolean          started;
  gboolean          offline;
  guint             first_sync_delay;  /* ms */
  gint64            started_at;        /* monotonic, µs */
};

G_DEFINE_FINAL_TYPE (LbSyncScheduler, lb_sync_scheduler, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_OFFLINE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_ACCOUNT_CHANGED,
  SIGNAL_NEW_MAIL,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void start_account  (LbSyncScheduler *self,
                            LbAccount       *account);
static void sync_account   (AccountState    *state);

/* ------------------------------------------------------------------ state */

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
  g_clear_object (&state->cancellable);
  g_clear_error (&state->error);
  g_clear_pointer (&state->seen, g_hash_table_unref);
  g_clear_pointer (&state->known_ids, g_hash_table_unref);
  g_clear_pointer (&state->new_keys, g_array_unref);
  g_clear_object (&state->account);
  g_free (state);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AccountState, account_state_unref)

/* The scheduler lets go of @data: what runs for it stops, and callbacks
 * still to come see it removed. */
static void
account_state_drop (gpointer data)
{
  AccountState *state = data;

  state->removed = TRUE;
  g_cancellable_cancel (state->cancellable);
  g_clear_handle_id (&state->poll_id, g_source_remove);
  g_clear_handle_id (&state->first_sync_id, g_source_remove);
  g_clear_handle_id (&state->new_mail_id, g_source_remove);
  if (state->store != NULL)
    g_clear_signal_handler (&state->store_changed_id, state->store);
  g_clear_object (&state->store);
  /* the account may have dropped its provider already (closed) */
  if (state->provider != NULL)
    {
      g_clear_signal_handler (&state->connection_error_id, state->provider);
      g_clear_signal_handler (&state->connected_id, state->provider);
    }
  g_clear_object (&state->provider);
  g_clear_signal_handler (&state->opened_id, state->account);
  account_state_unref (state);
}

static AccountState *
lookup_state (LbSyncScheduler *self,
              LbAccount       *account)
{
  return g_hash_table_lookup (self->states, account);
}

/* Whether @error says the network or the server is out of reach, rather
 * than that something is wrong with the account. */
static gboolean
is_unreachable (const GError *error)
{
  if (error == NULL)
    return FALSE;
  if (error->domain == G_RESOLVER_ERROR)
    return TRUE;
  if (error->domain != G_IO_ERROR)
    return FALSE;
  switch (error->code)
    {
    case G_IO_ERROR_CONNECTION_REFUSED:
    case G_IO_ERROR_HOST_UNREACHABLE:
    case G_IO_ERROR_NETWORK_UNREACHABLE:
    case G_IO_ERROR_TIMED_OUT:
    case G_IO_ERROR_CONNECTION_CLOSED:
    case G_IO_ERROR_NOT_CONNECTED:
      return TRUE;
    default:
      return FALSE;
    }
}

static void
update_offline (LbSyncScheduler *self)
{
  gboolean offline = FALSE;

  if (self->monitor != NULL && !g_network_monitor_get_network_available (self->monitor))
    offline = TRUE;
  else
    {
      GHashTableIter iter;
      AccountState *state;
      guint n = 0, unreachable = 0;

      /* every account that has tried is out of reach */
      g_hash_table_iter_init (&iter, self->states);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &state))
        {
          if (state->error == NULL && !state->synced)
            continue;
          n++;
          if (is_unreachable (state->error))
            unreachable++;
        }
      offline = n > 0 && unreachable == n;
    }

  if (offline == self->offline)
    return;
  self->offline = offline;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OFFLINE]);
}

static void
set_error (AccountState *state,
           const GError *error)
{
  if (state->error == NULL && error == NULL)
    return;
  g_clear_error (&state->error);
  if (error != NULL)
    state->error = g_error_copy (error);
  update_offline (state->scheduler);
  g_signal_emit (state->scheduler, signals[SIGNAL_ACCOUNT_CHANGED], 0, state->account);
}

static void
busy_push (AccountState *state)
{
  if (state->busy++ == 0)
    g_signal_emit (state->scheduler, signals[SIGNAL_ACCOUNT_CHANGED], 0, state->account);
}

static void
busy_pop (AccountState *state)
{
  g_return_if_fail (state->busy > 0);
  if (--state->busy == 0)
    g_signal_emit (state->scheduler, signals[SIGNAL_ACCOUNT_CHANGED], 0, state->account);
}

/* An operation that ended: clears or sets the account's error. Returns
 * FALSE when it ended without a result: the scheduler let go of @state
 * (which must not be touched then), or someone else cancelled it (the
 * account was closed), and its busy count was given back. */
static gboolean
operation_done (AccountState *state,
                GError       *error)
{
  if (state->removed)
    return FALSE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      busy_pop (state);
      return FALSE;
    }
  if (error != NULL)
    g_debug ("%s: %s", lb_account_get_id (state->account), error->message);
  set_error (state, error);
  return TRUE;
}

/* ------------------------------------------------------------------ new mail */

static void
new_mail_got (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(AccountState) state = user_data;
  g_autoptr(GPtrArray) summaries = NULL;
  g_autoptr(GPtrArray) unread = NULL;

  summaries = lb_store_get_messages_finish (LB_STORE (object), result, NULL);
  if (summaries == NULL || state->removed)
    return;

  unread = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  for (guint i = 0; i < summaries->len; i++)
    {
      LbMessageSummary *summary = summaries->pdata[i];

      /* a message moved in or out of the Inbox comes back under a new key
       * when the server's copy is found before the move's new UID is
       * known: not new mail either */
      if (summary->message_id != NULL && g_hash_table_contains (state->known_ids, summary->message_id))
        continue;
      if ((summary->flags & LB_MESSAGE_SEEN) == 0)
        g_ptr_array_add (unread, lb_message_summary_ref (summary));
    }
  if (unread->len > 0)
    g_signal_emit (state->scheduler, signals[SIGNAL_NEW_MAIL], 0, state->account, unread);
}

static gboolean
new_mail_idle (gpointer user_data)
{
  AccountState *state = user_data;
  g_autoptr(GArray) keys = g_steal_pointer (&state->new_keys);

  state->new_mail_id = 0;
  if (keys != NULL && keys->len > 0 && state->store != NULL)
    lb_store_get_messages_async (state->store, keys, state->cancellable, new_mail_got,
                                 account_state_ref (state));
  return G_SOURCE_REMOVE;
}

static void
ids_learnt (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(AccountState) state = user_data;
  g_autoptr(GPtrArray) rows = lb_store_get_messages_finish (LB_STORE (object), result, NULL);

  for (guint i = 0; rows != NULL && !state->removed && i < rows->len; i++)
    {
      LbMessageSummary *summary = rows->pdata[i];

      if (summary->message_id != NULL)
        g_hash_table_add (state->known_ids, g_strdup (summary->message_id));
    }
}

static void
store_changed_cb (LbStore   *store,
                  GPtrArray *changes,
                  gpointer   user_data)
{
  AccountState *state = user_data;
  LbFolder *inbox = lb_account_get_inbox (state->account);
  g_autoptr(GHashTable) moved = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GArray) learn = NULL;
  gint64 inbox_id;

  if (inbox == NULL)
    return;
  inbox_id = lb_folder_get_id (inbox);

  /* a move is announced as a removal from one folder and an addition to
   * another, with the same key: a message moved into the Inbox (not junk,
   * an undo) is not new mail */
  for (guint i = 0; i < changes->len; i++)
    {
      LbStoreChange *change = changes->pdata[i];

      if (change->kind == LB_STORE_CHANGE_REMOVED)
        g_hash_table_add (moved, &change->key);
    }

  for (guint i = 0; i < changes->len; i++)
    {
      const LbStoreChange *change = changes->pdata[i];

      if (change->folder_id != inbox_id)
        continue;
      if (change->kind == LB_STORE_CHANGE_ADDED && g_hash_table_contains (moved, &change->key))
        {
          g_hash_table_add (state->seen, g_memdup2 (&change->key, sizeof change->key));
          if (learn == NULL)
            learn = g_array_new (FALSE, FALSE, sizeof (gint64));
          g_array_append_val (learn, change->key);
          continue;
        }
      if (change->kind == LB_STORE_CHANGE_REMOVED)
        {
          if (learn == NULL)
            learn = g_array_new (FALSE, FALSE, sizeof (gint64));
          g_array_append_val (learn, change->key);
        }
      if (change->kind == LB_STORE_CHANGE_REMOVED)
        g_hash_table_add (state->seen, g_memdup2 (&change->key, sizeof change->key));
      else if (change->kind == LB_STORE_CHANGE_ADDED && state->ready &&
               !g_hash_table_contains (state->seen, &change->key))
        {
          g_hash_table_add (state->seen, g_memdup2 (&change->key, sizeof change->key));
          if (state->new_keys == NULL)
            state->new_keys = g_array_new (FALSE, FALSE, sizeof (gint64));
          g_array_append_val (state->new_keys, change->key);
          if (state->new_mail_id == 0)
            state->new_mail_id = g_idle_add (new_mail_idle, state);
        }
    }
  if (learn != NULL)
    lb_store_get_messages_async (store, learn, state->cancellable, ids_learnt, account_state_ref (state));
}

/* The first sync is done: what it stored is announced (::changed) on the
 * main context after the sync returns, so the account counts as ready
 * (new arrivals are new mail) only once a read queued now comes back,
 * after those announcements. */
static void
ready_read (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(AccountState) state = user_data;
  g_autoptr(GPtrArray) rows = lb_store_list_messages_finish (LB_STORE (object), result, NULL);

  if (state->removed)
    return;
  state->ready = TRUE;
  update_offline (state->scheduler);
}

static void
become_ready (AccountState *state)
{
  LbFolder *inbox = lb_account_get_inbox (state->account);

  if (state->ready || state->store == NULL || inbox == NULL)
    return;
  lb_store_list_messages_async (state->store, lb_folder_get_id (inbox), 0, 1, state->cancellable,
                                ready_read, account_state_ref (state));
}

/* ------------------------------------------------------------------ POP3 */

static gboolean
poll_cb (gpointer user_data)
{
  AccountState *state = user_data;

  state->poll_id = 0;
  sync_account (state);
  return G_SOURCE_REMOVE;
}

static void
schedule_poll (AccountState *state)
{
  guint minutes = lb_account_get_poll_minutes (state->account);

  g_clear_handle_id (&state->poll_id, g_source_remove);
  if (minutes > 0 && state->scheduler->started)
    state->poll_id = g_timeout_add_seconds (minutes * 60, poll_cb, state);
}

static void
pop3_checked (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(AccountState) state = user_data;
  g_autoptr(GError) error = NULL;
  LbPop3Stats stats = { 0, };

  lb_pop3_provider_check_finish (LB_POP3_PROVIDER (object), result, &stats, &error);
  if (!operation_done (state, error))
    return;
  /* what a first check that succeeds downloads is not new mail, also
   * after failed ones (a wrong password, the user fixing it) */
  if (error == NULL)
    {
      state->synced = TRUE;
      become_ready (state);
    }
  update_offline (state->scheduler);
  busy_pop (state);
  schedule_poll (state);
}

/* ------------------------------------------------------------------ IMAP */

static void
imap_inbox_synced (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(AccountState) state = user_data;
  g_autoptr(GError) error = NULL;

  lb_provider_sync_folder_finish (LB_PROVIDER (object), result, &error);
  if (!operation_done (state, error))
    return;
  if (error == NULL)
    {
      state->synced = TRUE;
      become_ready (state);
    }
  update_offline (state->scheduler);
  busy_pop (state);
}

static void
imap_folders_listed (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(AccountState) state = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  LbFolder *inbox;

  folders = lb_provider_list_folders_finish (LB_PROVIDER (object), result, &error);
  if (!operation_done (state, error))
    return;
  inbox = lb_account_get_inbox (state->account);
  if (folders == NULL || inbox == NULL)
    {
      busy_pop (state);
      return;
    }
  lb_provider_sync_folder_async (LB_PROVIDER (object), lb_folder_get_id (inbox), state->cancellable,
                                 imap_inbox_synced, account_state_ref (state));
}

static void
imap_connected (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(AccountState) state = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_provider_connect_finish (LB_PROVIDER (object), result, &error))
    {
      if (operation_done (state, error))
        busy_pop (state);
      return;
    }
  lb_provider_list_folders_async (LB_PROVIDER (object), state->cancellable, imap_folders_listed,
                                  account_state_ref (state));
}

static void
connection_error_cb (LbProvider   *provider,
                     const GError *error,
                     gpointer      user_data)
{
  AccountState *state = user_data;

  set_error (state, error);
}

/* The provider logged in, also by itself after a drop or after the
 * network came back: its connection error is over, and an account that
 * could not make its first sync makes it now. */
static void
connected_cb (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  AccountState *state = user_data;

  if (!lb_imap_provider_get_connected (LB_IMAP_PROVIDER (object)))
    return;
  set_error (state, NULL);
  if (!state->synced && state->busy == 0 && state->first_sync_id == 0)
    sync_account (state);
}

static void
sync_account (AccountState *state)
{
  LbProvider *provider = lb_account_get_provider (state->account);

  if (provider == NULL)
    return;

  busy_push (state);
  if (LB_IS_POP3_PROVIDER (provider))
    lb_pop3_provider_check_async (LB_POP3_PROVIDER (provider), state->cancellable, pop3_checked,
                                  account_state_ref (state));
  else
    lb_provider_connect_async (provider, state->cancellable, imap_connected,
                               account_state_ref (state));
}

/* ------------------------------------------------------------------ opening */

static gboolean
first_sync_cb (gpointer user_data)
{
  AccountState *state = user_data;

  state->first_sync_id = 0;
  sync_account (state);
  return G_SOURCE_REMOVE;
}

/* The account is open: watch its Inbox for new mail and sync it. */
static void
after_open (AccountState *state)
{
  LbSyncScheduler *self = state->scheduler;
  gint64 since_start;
  LbProvider *provider;

  /* the account said it opened before our open returned */
  if (state->store != NULL)
    return;

  state->store = g_object_ref (lb_account_get_store (state->account));
  state->store_changed_id = g_signal_connect (state->store, "changed", G_CALLBACK (store_changed_cb), state);
  provider = lb_account_get_provider (state->account);
  if (LB_IS_IMAP_PROVIDER (provider))
    {
      state->provider = g_object_ref (provider);
      state->connection_error_id = g_signal_connect (provider, "connection-error",
                                                     G_CALLBACK (connection_error_cb), state);
      state->connected_id = g_signal_connect (provider, "notify::connected",
                                              G_CALLBACK (connected_cb), state);
    }

  /* right after start-up the first list is being shown: the network (and
   * a POP3 check's list of what it has) waits until it is */
  since_start = (g_get_monotonic_time () - self->started_at) / 1000;
  if (self->first_sync_delay > 0 && since_start < self->first_sync_delay)
    {
      state->first_sync_id = g_timeout_add (self->first_sync_delay - since_start, first_sync_cb, state);
      return;
    }
  sync_account (state);
}

static void
account_opened (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(AccountState) state = user_data;
  g_autoptr(GError) error = NULL;

  if (!lb_account_open_finish (LB_ACCOUNT (object), result, &error))
    {
      /* someone else opens it: notify::opened tells when it is open */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PENDING))
        {
          if (!state->removed)
            busy_pop (state);
          return;
        }
      if (operation_done (state, error))
        busy_pop (state);
      return;
    }
  if (state->removed)
    return;
  busy_pop (state);
  after_open (state);
}

static AccountState *add_state (LbSyncScheduler *self,
                                LbAccount       *account);

/* Someone else opened or closed the account (the preferences reopen it
 * for new server settings, and close it before removing it). */
static void
opened_cb (GObject    *object,
           GParamSpec *pspec,
           gpointer    user_data)
{
  AccountState *state = user_data;
  LbSyncScheduler *self = state->scheduler;
  LbAccount *account = LB_ACCOUNT (object);

  if (lb_account_get_opened (account))
    {
      after_open (state);
      return;
    }
  if (state->store == NULL)
    return;

  /* closed: let go of its store and provider, and of what ran on them;
   * a new state waits for it to open again */
  g_hash_table_remove (self->states, account);
  add_state (self, account);
  update_offline (self);
  g_signal_emit (self, signals[SIGNAL_ACCOUNT_CHANGED], 0, account);
}

static AccountState *
add_state (LbSyncScheduler *self,
           LbAccount       *account)
{
  AccountState *state = g_new0 (AccountState, 1);

  g_atomic_ref_count_init (&state->ref_count);
  state->scheduler = self;
  state->account = g_object_ref (account);
  state->cancellable = g_cancellable_new ();
  state->seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  state->known_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  state->opened_id = g_signal_connect (account, "notify::opened", G_CALLBACK (opened_cb), state);
  g_hash_table_insert (self->states, account, state);
  return state;
}

static void
start_account (LbSyncScheduler *self,
               LbAccount       *account)
{
  AccountState *state;

  if (g_hash_table_contains (self->states, account))
    return;

  state = add_state (self, account);

  if (lb_account_get_opened (account))
    {
      after_open (state);
      return;
    }
  busy_push (state);
  lb_account_open_async (account, state->cancellable, account_opened, account_state_ref (state));
}

static void
manager_changed_cb (GListModel *model,
                    guint       position,
                    guint       removed,
                    guint       added,
                    gpointer    user_data)
{
  LbSyncScheduler *self = user_data;
  g_autoptr(GHashTable) present = g_hash_table_new (NULL, NULL);
  GHashTableIter iter;
  LbAccount *account;
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbAccount) item = g_list_model_get_item (model, i);

      g_hash_table_add (present, item);
      start_account (self, item);
    }

  /* accounts removed: forget them (whoever removed one closes it) */
  g_hash_table_iter_init (&iter, self->states);
  while (g_hash_table_iter_next (&iter, (gpointer *) &account, NULL))
    if (!g_hash_table_contains (present, account))
      g_hash_table_iter_remove (&iter);
  update_offline (self);
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    gpointer         user_data)
{
  LbSyncScheduler *self = user_data;
  g_autoptr(GPtrArray) again = g_ptr_array_new ();
  GHashTableIter iter;
  AccountState *state;

  update_offline (self);
  if (!available || !self->started)
    return;

  /* the network is back: those that could not reach their server try at
   * once (a POP3 account would wait for its next check, or for ever) */
  g_hash_table_iter_init (&iter, self->states);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &state))
    if (is_unreachable (state->error) && state->store != NULL && state->busy == 0)
      g_ptr_array_add (again, state);
  for (guint i = 0; i < again->len; i++)
    sync_account (again->pdata[i]);
}

/* ------------------------------------------------------------------ GObject */

static void
lb_sync_scheduler_dispose (GObject *object)
{
  LbSyncScheduler *self = LB_SYNC_SCHEDULER (object);

  lb_sync_scheduler_stop (self);
  if (self->monitor != NULL)
    g_clear_signal_handler (&self->network_changed_id, self->monitor);
  g_clear_object (&self->monitor);
  g_clear_object (&self->manager);

  G_OBJECT_CLASS (lb_sync_scheduler_parent_class)->dispose (object);
}

static void
lb_sync_scheduler_finalize (GObject *object)
{
  LbSyncScheduler *self = LB_SYNC_SCHEDULER (object);

  g_clear_pointer (&self->states, g_hash_table_unref);

  G_OBJECT_CLASS (lb_sync_scheduler_parent_class)->finalize (object);
}

static void
lb_sync_scheduler_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  LbSyncScheduler *self = LB_SYNC_SCHEDULER (object);

  switch (prop_id)
    {
    case PROP_OFFLINE:
      g_value_set_boolean (value, self->offline);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_sync_scheduler_class_init (LbSyncSchedulerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lb_sync_scheduler_dispose;
  object_class->finalize = lb_sync_scheduler_finalize;
  object_class->get_property = lb_sync_scheduler_get_property;

  /**
   * LbSyncScheduler:offline:
   *
   * Whether the network is down, or every account that tried could not
   * reach its server. Changes made meanwhile are kept and sent later.
   */
  properties[PROP_OFFLINE] =
    g_param_spec_boolean ("offline", NULL, NULL, FALSE,
                          (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * LbSyncScheduler::account-changed:
   * @account: the account whose busy state or error changed
   */
  signals[SIGNAL_ACCOUNT_CHANGED] =
    g_signal_new ("account-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, LB_TYPE_ACCOUNT);

  /**
   * LbSyncScheduler::new-mail:
   * @account: the account
   * @summaries: (element-type LbMessageSummary): the new unread messages
   *   of its Inbox
   */
  signals[SIGNAL_NEW_MAIL] =
    g_signal_new ("new-mail", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 2, LB_TYPE_ACCOUNT, G_TYPE_PTR_ARRAY);
}

static void
lb_sync_scheduler_init (LbSyncScheduler *self)
{
  self->states = g_hash_table_new_full (NULL, NULL, NULL, account_state_drop);
}

/**
 * lb_sync_scheduler_new:
 * @manager: the accounts
 * @monitor: (nullable): the network monitor, %NULL for the default one
 *
 * Returns: (transfer full): a scheduler; nothing happens before
 *   lb_sync_scheduler_start()
 */
LbSyncScheduler *
lb_sync_scheduler_new (LbAccountManager *manager,
                       GNetworkMonitor  *monitor)
{
  LbSyncScheduler *self;

  g_return_val_if_fail (LB_IS_ACCOUNT_MANAGER (manager), NULL);
  g_return_val_if_fail (monitor == NULL || G_IS_NETWORK_MONITOR (monitor), NULL);

  self = g_object_new (LB_TYPE_SYNC_SCHEDULER, NULL);
  self->manager = g_object_ref (manager);
  self->monitor = g_object_ref (monitor != NULL ? monitor : g_network_monitor_get_default ());
  self->network_changed_id = g_signal_connect (self->monitor, "network-changed",
                                               G_CALLBACK (network_changed_cb), self);
  return self;
}

/**
 * lb_sync_scheduler_start:
 * @self: a scheduler
 *
 * Opens every account of the manager (and each one added later), and
 * brings it up to date.
 */
void
lb_sync_scheduler_start (LbSyncScheduler *self)
{
  g_return_if_fail (LB_IS_SYNC_SCHEDULER (self));

  if (self->started)
    return;
  self->started = TRUE;
  self->started_at = g_get_monotonic_time ();
  self->manager_changed_id = g_signal_connect (self->manager, "items-changed",
                                               G_CALLBACK (manager_changed_cb), self);
  manager_changed_cb (G_LIST_MODEL (self->manager), 0, 0, 0, self);
}

/**
 * lb_sync_scheduler_stop:
 * @self: a scheduler
 *
 * Stops what runs and forgets the accounts' states. The accounts stay
 * open.
 */
void
lb_sync_scheduler_stop (LbSyncScheduler *self)
{
  g_return_if_fail (LB_IS_SYNC_SCHEDULER (self));

  if (!self->started)
    return;
  self->started = FALSE;
  g_clear_signal_handler (&self->manager_changed_id, self->manager);
  g_hash_table_remove_all (self->states);
}

/**
 * lb_sync_scheduler_sync_now:
 * @self: a scheduler
 * @account: (nullable): the account, or %NULL for all
 *
 * Checks for new mail now: an IMAP account syncs its Inbox (and comes
 * back online if it was not), a POP3 account checks its server.
 */
void
lb_sync_scheduler_sync_now (LbSyncScheduler *self,
                            LbAccount       *account)
{
  GHashTableIter iter;
  AccountState *state;

  g_return_if_fail (LB_IS_SYNC_SCHEDULER (self));

  g_hash_table_iter_init (&iter, self->states);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &state))
    if ((account == NULL || state->account == account) && state->store != NULL && state->busy == 0)
      sync_account (state);
}

/**
 * lb_sync_scheduler_retry:
 * @self: a scheduler
 * @account: the account
 *
 * Forgets @account's error and brings it up to date again.
 */
void
lb_sync_scheduler_retry (LbSyncScheduler *self,
                         LbAccount       *account)
{
  AccountState *state;

  g_return_if_fail (LB_IS_SYNC_SCHEDULER (self));

  state = lookup_state (self, account);
  if (state == NULL)
    return;
  set_error (state, NULL);
  if (state->store == NULL && state->busy == 0)
    {
      /* it never opened: open it again */
      g_hash_table_remove (self->states, account);
      start_account (self, account);
      return;
    }
  lb_sync_scheduler_sync_now (self, account);
}

static void
folder_synced (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!lb_provider_sync_folder_finish (LB_PROVIDER (object), result, &error))
    g_debug ("sync of the folder shown: %s", error->message);
}

/**
 * lb_sync_scheduler_set_shown_folder:
 * @self: a scheduler
 * @account: (nullable): the account of the folder shown
 * @folder: (nullable): the folder the window shows
 *
 * The folder the user looks at is kept up to date at once: an IMAP
 * account watches it with IDLE and syncs it now.
 */
void
lb_sync_scheduler_set_shown_folder (LbSyncScheduler *self,
                                    LbAccount       *account,
                                    LbFolder        *folder)
{
  AccountState *state;
  LbProvider *provider;

  g_return_if_fail (LB_IS_SYNC_SCHEDULER (self));

  if (account == NULL || folder == NULL || (state = lookup_state (self, account)) == NULL)
    return;
  provider = lb_account_get_provider (account);
  if (!LB_IS_IMAP_PROVIDER (provider) || lb_folder_get_local (folder))
    return;
  lb_imap_provider_set_watched_folder (LB_IMAP_PROVIDER (provider), lb_folder_get_id (folder));
  if (state->synced)
    lb_provider_sync_folder_async (provider, lb_folder_get_id (folder), state->cancellable,
                                   folder_synced, NULL);
}

gboolean
lb_sync_scheduler_get_offline (LbSyncScheduler *self)
{
  g_return_val_if_fail (LB_IS_SYNC_SCHEDULER (self), FALSE);

  return self->offline;
}

gboolean
lb_sync_scheduler_get_busy (LbSyncScheduler *self,
                            LbAccount       *account)
{
  AccountState *state;

  g_return_val_if_fail (LB_IS_SYNC_SCHEDULER (self), FALSE);

  state = lookup_state (self, account);
  return state != NULL && state->busy > 0;
}

/**
 * lb_sync_scheduler_get_error:
 * @self: a scheduler
 * @account: an account
 *
 * Returns: (nullable): why @account's last sync or connection failed
 */
const GError *
lb_sync_scheduler_get_error (LbSyncScheduler *self,
                             LbAccount       *account)
{
  AccountState *state;

  g_return_val_if_fail (LB_IS_SYNC_SCHEDULER (self), NULL);

  state = lookup_state (self, account);
  return state != NULL ? state->error : NULL;
}

/**
 * lb_sync_scheduler_dup_rejected_certificate:
 * @self: a scheduler
 * @account: an account
 * @host: (out) (optional): the server's host name
 * @port: (out) (optional): its port
 * @errors: (out) (optional): why the certificate was not trusted
 *
 * Returns: (transfer full) (nullable): the certificate @account's server
 *   was refused for, when that is its error
 */
GTlsCertificate *
lb_sync_scheduler_dup_rejected_certificate (LbSyncScheduler      *self,
                                            LbAccount            *account,
                                            char                **host,
                                            guint16              *port,
                                            GTlsCertificateFlags *errors)
{
  AccountState *state;
  LbConnector *connector;
  GTlsCertificate *certificate;
  const char *server;
  guint16 server_port;

  g_return_val_if_fail (LB_IS_SYNC_SCHEDULER (self), NULL);

  state = lookup_state (self, account);
  if (state == NULL || !g_error_matches (state->error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE))
    return NULL;
  connector = lb_account_get_connector (account);
  if (connector == NULL)
    return NULL;
  server = lb_account_get_incoming_host (account);
  server_port = lb_account_get_effective_incoming_port (account);
  certificate = lb_connector_dup_rejected_certificate (connector, server, server_port, errors);
  if (certificate == NULL)
    return NULL;
  if (host != NULL)
    *host = g_strdup (server);
  if (port != NULL)
    *port = server_port;
  return certificate;
}

/**
 * lb_sync_scheduler_set_first_sync_delay:
 * @self: a scheduler
 * @milliseconds: how long after lb_sync_scheduler_start() the first syncs
 *   wait
 *
 * The app shows its first list before it goes to the network: the
 * accounts open at once, their first sync or check starts after this
 * delay (0, the default, starts them at once).
 */
void
lb_sync_scheduler_set_first_sync_delay (LbSyncScheduler *self,
                                        guint            milliseconds)
{
  g_return_if_fail (LB_IS_SYNC_SCHEDULER (self));

  self->first_sync_delay = milliseconds;
}
