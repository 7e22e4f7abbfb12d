/* lb-store.c: an account's local store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-store"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <gmime/gmime.h>

#include "lb-maildir.h"
#include "lb-mime-summary.h"
#include "lb-store-private.h"

/* An account's store is a directory:
 *
 *   store.db      SQLite (WAL): folders, message summaries, threads, the
 *                 full-text index and the offline operation queue
 *   mail/<name>/  a Maildir per local folder (POP3 mail, local folders)
 *   bodies/<key>  IMAP messages fetched on demand
 *
 * One thread writes (the writer pool, of one thread, runs the write jobs
 * in the order they were asked for) and one thread reads (the reader pool,
 * on a read-only connection, for searches and folder lists that need not
 * wait for writes). Reads that a message list pages through (rows, counts,
 * single messages) run on the writer too: each sees exactly the writes
 * whose ::changed signals were queued before its result, which lets a list
 * keep its positions right while mail keeps arriving.
 * Each job returns its GTask from its thread; GTask brings the result back
 * to the caller's main context. After a write commits, the store emits
 * ::changed and ::folder-changed on the context it was opened in, before
 * the write's own callback runs. */

#define APPLICATION_ID 0x4c42584d /* "LBXM" */

typedef struct _ThreadMap ThreadMap;
static void thread_map_free (ThreadMap *map);

struct _LbStore
{
  GObject parent_instance;

  char *directory;
  GMainContext *context;

  /* each used by its pool's one thread only */
  sqlite3 *wdb;
  GHashTable *wstmts;
  sqlite3 *rdb;
  GHashTable *rstmts;
  GHashTable *maildirs;   /* folder id -> LbMaildir, writer thread only */

  GThreadPool *writer;
  GThreadPool *reader;
  GThreadPool *checkpointer;
  sqlite3 *cdb;           /* the checkpointer's connection, its thread only */
  char *path;             /* of the database */
  int checkpoint_queued;  /* atomic */
  gint64 page_size;       /* of the database, in bytes */

  ThreadMap *thread_map;  /* writer: thread_ids in memory, during large writes */
  gboolean has_conversations;     /* schema 8: the conversations table */
  GPtrArray *conversation_changes; /* writer: LbStoreChange of the conversations
                                    * committed, for the next changes_emit() */
  GSource *index_later;   /* starts what the last run left to index */

  gboolean durable;       /* writer: synchronous=FULL for this transaction */
  gboolean indexing;      /* writer: an indexing job is queued */
  int closing;            /* atomic: the finalizer has begun */
  guint durable_commits;  /* commits that were synced, for tests */
};

G_DEFINE_FINAL_TYPE (LbStore, lb_store, G_TYPE_OBJECT)

enum {
  SIGNAL_CHANGED,
  SIGNAL_CONVERSATIONS_CHANGED,
  SIGNAL_FOLDER_CHANGED,
  SIGNAL_FOLDER_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_QUARK (lb-store-error-quark, lb_store_error)

G_DEFINE_BOXED_TYPE (LbFolderInfo, lb_folder_info, lb_folder_info_copy, lb_folder_info_free)
G_DEFINE_BOXED_TYPE (LbStoreOp, lb_store_op, lb_store_op_copy, lb_store_op_free)

/* ------------------------------------------------------------------ boxed types */

/* The nicks are the names the CLI prints and tests read. */
static const GEnumValue role_values[] = {
  { LB_FOLDER_ROLE_NONE, "LB_FOLDER_ROLE_NONE", "none" },
  { LB_FOLDER_ROLE_INBOX, "LB_FOLDER_ROLE_INBOX", "inbox" },
  { LB_FOLDER_ROLE_SENT, "LB_FOLDER_ROLE_SENT", "sent" },
  { LB_FOLDER_ROLE_DRAFTS, "LB_FOLDER_ROLE_DRAFTS", "drafts" },
  { LB_FOLDER_ROLE_TRASH, "LB_FOLDER_ROLE_TRASH", "trash" },
  { LB_FOLDER_ROLE_JUNK, "LB_FOLDER_ROLE_JUNK", "junk" },
  { LB_FOLDER_ROLE_ARCHIVE, "LB_FOLDER_ROLE_ARCHIVE", "archive" },
  { LB_FOLDER_ROLE_OUTBOX, "LB_FOLDER_ROLE_OUTBOX", "outbox" },
  { 0, NULL, NULL },
};

GType
lb_folder_role_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    g_once_init_leave (&type_id, g_enum_register_static (g_intern_static_string ("LbFolderRole"),
                                                         role_values));

  return type_id;
}

const char *
lb_folder_role_to_string (LbFolderRole role)
{
  if ((guint) role >= G_N_ELEMENTS (role_values) - 1)
    return "none";
  return role_values[role].value_nick;
}

gboolean
lb_folder_role_from_string (const char   *string,
                            LbFolderRole *role)
{
  for (guint i = 0; role_values[i].value_nick != NULL; i++)
    {
      if (g_strcmp0 (string, role_values[i].value_nick) == 0)
        {
          *role = role_values[i].value;
          return TRUE;
        }
    }
  return FALSE;
}

LbFolderInfo *
lb_folder_info_copy (const LbFolderInfo *info)
{
  LbFolderInfo *copy = g_memdup2 (info, sizeof *info);

  copy->path = g_strdup (info->path);
  copy->name = g_strdup (info->name);
  copy->delimiter = g_strdup (info->delimiter);

  return copy;
}

void
lb_folder_info_free (LbFolderInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->path);
  g_free (info->name);
  g_free (info->delimiter);
  g_free (info);
}

LbStoreOp *
lb_store_op_copy (const LbStoreOp *op)
{
  LbStoreOp *copy = g_memdup2 (op, sizeof *op);

  copy->folder_path = g_strdup (op->folder_path);
  copy->message_id = g_strdup (op->message_id);
  copy->target_path = g_strdup (op->target_path);
  copy->last_error = g_strdup (op->last_error);

  return copy;
}

void
lb_store_op_free (LbStoreOp *op)
{
  if (op == NULL)
    return;
  g_free (op->folder_path);
  g_free (op->message_id);
  g_free (op->target_path);
  g_free (op->last_error);
  g_free (op);
}

/**
 * lb_store_delivery_new:
 * @raw: the message
 * @flags: #LbMessageFlags
 * @uidl: (nullable): the POP3 UIDL
 * @received: arrival time, seconds since the epoch
 *
 * Returns: (transfer full): a delivery for lb_store_deliver_async()
 */
LbStoreDelivery *
lb_store_delivery_new (GBytes     *raw,
                       guint       flags,
                       const char *uidl,
                       gint64      received)
{
  LbStoreDelivery *delivery = g_new0 (LbStoreDelivery, 1);

  delivery->raw = g_bytes_ref (raw);
  delivery->flags = flags;
  delivery->uidl = g_strdup (uidl);
  delivery->received = received;

  return delivery;
}

void
lb_store_delivery_free (LbStoreDelivery *delivery)
{
  if (delivery == NULL)
    return;
  g_bytes_unref (delivery->raw);
  g_free (delivery->uidl);
  g_free (delivery);
}

/* ------------------------------------------------------------------ SQLite helpers */

static void
set_sqlite_error (GError     **error,
                  sqlite3     *db,
                  int          code,
                  const char  *what)
{
  int primary = code & 0xff;
  const char *reason = db ? sqlite3_errmsg (db) : sqlite3_errstr (code);

  /* what failed, in SQLite's words, is for developers */
  g_debug ("SQLite error %d in “%s”: %s", code, what, reason);

  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
    g_set_error (error, LB_STORE_ERROR, LB_STORE_ERROR_CORRUPT,
                 _("The mail database is damaged: %s"), reason);
  else if (primary == SQLITE_FULL)
    g_set_error_literal (error, LB_STORE_ERROR, LB_STORE_ERROR_FULL,
                         _("The disk is full: mail could not be saved"));
  else if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
    g_set_error_literal (error, LB_STORE_ERROR, LB_STORE_ERROR_FAILED,
                         _("The mail database is busy in another program; try again"));
  else
    g_set_error (error, LB_STORE_ERROR, LB_STORE_ERROR_FAILED,
                 _("The mail database failed: %s"), reason);
}

static gboolean
exec (sqlite3     *db,
      const char  *sql,
      GError     **error)
{
  char *message = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &message);

  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, db, rc, sql);
      sqlite3_free (message);
      return FALSE;
    }
  return TRUE;
}

/* Prepared statements live as long as the connection, one per SQL text,
 * looked up by the address of the (literal) text. */
static sqlite3_stmt *
prepare (sqlite3     *db,
         GHashTable  *cache,
         const char  *sql,
         GError     **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (cache, sql);
  int rc;

  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }

  rc = sqlite3_prepare_v3 (db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, db, rc, "prepare");
      return NULL;
    }
  g_hash_table_insert (cache, (gpointer) sql, stmt);
  return stmt;
}

static void
bind_text (sqlite3_stmt *stmt,
           int           index,
           const char   *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
}

/* For a string that outlives the statement's step: no copy. The statement
 * must be stepped and reset before the string goes (step_done() does). */
static void
bind_static (sqlite3_stmt *stmt,
             int           index,
             const char   *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
}

static char *
column_text (sqlite3_stmt *stmt,
             int           index)
{
  const unsigned char *text = sqlite3_column_text (stmt, index);

  return text ? g_strdup ((const char *) text) : NULL;
}

/* Runs a statement that returns no rows (or whose rows are not wanted). */
static gboolean
step_done (sqlite3       *db,
           sqlite3_stmt  *stmt,
           GError       **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    ;
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, db, rc, "step");
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------ schema */

/* Each step moves the schema up one version, in its own transaction.
 * Never change a step that has shipped: add a new one. */
static const char * const migrations[] = {
  /* 1: folders, messages, threads, counts kept by triggers */
  "CREATE TABLE folders ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  path TEXT NOT NULL UNIQUE,"
  "  name TEXT NOT NULL,"
  "  delimiter TEXT,"
  "  role INTEGER NOT NULL DEFAULT 0,"
  "  local INTEGER NOT NULL DEFAULT 0,"
  "  maildir TEXT,"
  "  uidvalidity INTEGER NOT NULL DEFAULT 0,"
  "  uidnext INTEGER NOT NULL DEFAULT 0,"
  "  highestmodseq INTEGER NOT NULL DEFAULT 0,"
  "  total INTEGER NOT NULL DEFAULT 0,"
  "  unread INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE messages ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  folder_id INTEGER NOT NULL REFERENCES folders (id) ON DELETE CASCADE,"
  "  uid INTEGER,"
  "  uidl TEXT,"
  "  message_id TEXT,"
  "  in_reply_to TEXT,"
  "  refs TEXT,"
  "  subject TEXT,"
  "  sender TEXT,"
  "  recipients TEXT,"
  "  cc TEXT,"
  "  date INTEGER NOT NULL,"
  "  size INTEGER NOT NULL DEFAULT 0,"
  "  flags INTEGER NOT NULL DEFAULT 0,"
  "  keywords TEXT,"
  "  has_attachments INTEGER NOT NULL DEFAULT 0,"
  "  preview TEXT,"
  "  thread_id INTEGER NOT NULL DEFAULT 0,"
  "  location TEXT);"
  "CREATE INDEX messages_by_date ON messages (folder_id, date DESC, id DESC);"
  "CREATE UNIQUE INDEX messages_by_uid ON messages (folder_id, uid) WHERE uid IS NOT NULL;"
  "CREATE UNIQUE INDEX messages_by_uidl ON messages (folder_id, uidl) WHERE uidl IS NOT NULL;"
  "CREATE INDEX messages_by_thread ON messages (thread_id, date);"
  "CREATE TABLE thread_links ("
  "  message_id TEXT PRIMARY KEY,"
  "  thread_id INTEGER NOT NULL) WITHOUT ROWID;"
  "CREATE INDEX thread_links_by_thread ON thread_links (thread_id);"
  "CREATE TRIGGER messages_count_insert AFTER INSERT ON messages BEGIN"
  "  UPDATE folders SET total = total + 1, unread = unread + ((NEW.flags & 1) = 0)"
  "   WHERE id = NEW.folder_id;"
  "END;"
  "CREATE TRIGGER messages_count_delete AFTER DELETE ON messages BEGIN"
  "  UPDATE folders SET total = total - 1, unread = unread - ((OLD.flags & 1) = 0)"
  "   WHERE id = OLD.folder_id;"
  "END;"
  "CREATE TRIGGER messages_count_update AFTER UPDATE OF flags, folder_id ON messages BEGIN"
  "  UPDATE folders SET total = total - 1, unread = unread - ((OLD.flags & 1) = 0)"
  "   WHERE id = OLD.folder_id;"
  "  UPDATE folders SET total = total + 1, unread = unread + ((NEW.flags & 1) = 0)"
  "   WHERE id = NEW.folder_id;"
  "END;",

  /* 2: full-text search over subject, addresses and body text; messages
   * stored before get their subject, addresses and preview indexed. The
   * prefix indexes make the first letters typed into a search fast; the
   * date index lets a search across folders stop at the newest matches
   * instead of sorting them all. */
  "CREATE VIRTUAL TABLE messages_fts USING fts5 ("
  "  subject, addresses, body,"
  "  tokenize = 'unicode61 remove_diacritics 2',"
  "  prefix = '2 3');"
  "CREATE INDEX messages_by_date_all ON messages (date DESC, id DESC);"
  "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN"
  "  DELETE FROM messages_fts WHERE rowid = OLD.id;"
  "END;"
  "INSERT INTO messages_fts (rowid, subject, addresses, body)"
  "  SELECT id, subject,"
  "         coalesce (sender, '') || ' ' || coalesce (recipients, '') || ' ' || coalesce (cc, ''),"
  "         preview"
  "    FROM messages;",

  /* 3: the offline operation queue */
  "CREATE TABLE pending_ops ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  kind INTEGER NOT NULL,"
  "  folder_path TEXT NOT NULL,"
  "  uid INTEGER NOT NULL DEFAULT 0,"
  "  message_key INTEGER NOT NULL DEFAULT 0,"
  "  message_id TEXT,"
  "  flags_add INTEGER NOT NULL DEFAULT 0,"
  "  flags_remove INTEGER NOT NULL DEFAULT 0,"
  "  target_path TEXT,"
  "  created INTEGER NOT NULL,"
  "  attempts INTEGER NOT NULL DEFAULT 0,"
  "  last_error TEXT);",

  /* 4: what the IMAP sync keeps of a message (List-Id, the body structure
   * to fetch single parts with, its MODSEQ); the rows of a server folder
   * awaiting their UID (moved, appended, or the folder's UIDVALIDITY
   * changed), found by Message-ID; the queued operations of a message */
  "ALTER TABLE messages ADD COLUMN list_id TEXT;"
  "ALTER TABLE messages ADD COLUMN structure TEXT;"
  "ALTER TABLE messages ADD COLUMN modseq INTEGER NOT NULL DEFAULT 0;"
  "CREATE INDEX messages_by_message_id ON messages (folder_id, message_id)"
  "  WHERE uid IS NULL AND uidl IS NULL;"
  "CREATE INDEX pending_ops_by_key ON pending_ops (message_key);",

  /* 5: messages whose full-text indexing was left for later (a large
   * header sync stores rows faster than FTS5 indexes them) */
  "CREATE TABLE fts_pending (key INTEGER PRIMARY KEY);"
  "CREATE TRIGGER fts_pending_delete AFTER DELETE ON messages BEGIN"
  "  DELETE FROM fts_pending WHERE key = OLD.id;"
  "END;",

  /* 6: thread links keyed by a 64-bit hash of the Message-ID
   * (message_id_hash()) rather than the id itself: a header sync looks up
   * and links several ids per message, and integer keys make that a
   * fraction of the work (smaller pages, no string compares) */
  "CREATE TABLE thread_ids ("
  "  hash INTEGER PRIMARY KEY,"
  "  thread_id INTEGER NOT NULL);"
  "CREATE INDEX thread_ids_by_thread ON thread_ids (thread_id);"
  "INSERT OR IGNORE INTO thread_ids (hash, thread_id)"
  "  SELECT lb_message_id_hash (message_id), thread_id FROM thread_links;"
  "DROP TABLE thread_links;"
  /* ... and the counts of added messages kept per batch (add_rows()),
   * not by a trigger per row, which made SQLite open a statement
   * journal and a trigger frame for every INSERT */
  "DROP TRIGGER messages_count_insert;"
  /* ... and the messages whose indexing waits kept as ranges of keys,
   * one row per batch rather than one per message (runs of consecutive
   * keys pending under schema 5 become one range each) */
  "CREATE TABLE fts_pending_ranges ("
  "  first INTEGER NOT NULL,"
  "  last INTEGER NOT NULL);"
  "INSERT INTO fts_pending_ranges (first, last)"
  "  SELECT min (key), max (key) FROM"
  "    (SELECT key, key - row_number () OVER (ORDER BY key) AS run FROM fts_pending)"
  "  GROUP BY run ORDER BY min (key);"
  "DROP TRIGGER fts_pending_delete;"
  "DROP TABLE fts_pending;",

  /* 7: the POP3 messages seen, account-wide: a message moved to another
   * local folder keeps its key (and the link), one deleted here keeps its
   * row with key 0 and the time it went, so that a mailbox left on the
   * server is not downloaded again. Messages delivered before are
   * recorded as first seen now. */
  "CREATE TABLE pop3_uidls ("
  "  uidl TEXT PRIMARY KEY,"
  "  key INTEGER NOT NULL DEFAULT 0,"
  "  first_seen INTEGER NOT NULL,"
  "  partial INTEGER NOT NULL DEFAULT 0,"
  "  deleted_here INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
  "CREATE INDEX pop3_uidls_by_key ON pop3_uidls (key);"
  "CREATE TRIGGER pop3_uidls_delete AFTER DELETE ON messages BEGIN"
  "  UPDATE pop3_uidls SET key = 0, deleted_here = CAST (strftime ('%s', 'now') AS INTEGER)"
  "   WHERE key = OLD.id;"
  "END;"
  "INSERT OR IGNORE INTO pop3_uidls (uidl, key, first_seen)"
  "  SELECT uidl, id, CAST (strftime ('%s', 'now') AS INTEGER) FROM messages"
  "   WHERE uidl IS NOT NULL ORDER BY id;",

  /* 8: the conversations of each folder, one row per thread present in
   * it: its newest message there (date, key: its place in the folder's
   * list of conversations) and the thread's counts there, for a threaded
   * message list that pages and counts from an index. Kept by
   * flush_conversations() at each commit, for the (folder, thread) pairs
   * the triggers (deletes, updates) and add_rows_in() (inserts) marked
   * dirty in the transaction. */
  "CREATE TABLE conversations ("
  "  folder_id INTEGER NOT NULL,"
  "  thread_id INTEGER NOT NULL,"
  "  date INTEGER NOT NULL,"
  "  key INTEGER NOT NULL,"
  "  total INTEGER NOT NULL,"
  "  unread INTEGER NOT NULL,"
  "  flagged INTEGER NOT NULL,"
  "  attachments INTEGER NOT NULL,"
  "  PRIMARY KEY (folder_id, thread_id)) WITHOUT ROWID;"
  "CREATE INDEX conversations_by_date ON conversations (folder_id, date DESC, key DESC);"
  "CREATE TABLE conversations_dirty ("
  "  folder_id INTEGER NOT NULL,"
  "  thread_id INTEGER NOT NULL,"
  "  PRIMARY KEY (folder_id, thread_id)) WITHOUT ROWID;"
  "CREATE TRIGGER conversations_delete AFTER DELETE ON messages BEGIN"
  "  INSERT OR IGNORE INTO conversations_dirty (folder_id, thread_id)"
  "   VALUES (OLD.folder_id, OLD.thread_id);"
  "END;"
  "CREATE TRIGGER conversations_update"
  "  AFTER UPDATE OF flags, folder_id, thread_id, date, has_attachments, preview ON messages"
  "  WHEN OLD.flags IS NOT NEW.flags OR OLD.folder_id IS NOT NEW.folder_id"
  "    OR OLD.thread_id IS NOT NEW.thread_id OR OLD.date IS NOT NEW.date"
  "    OR OLD.has_attachments IS NOT NEW.has_attachments OR OLD.preview IS NOT NEW.preview"
  "  BEGIN"
  "  INSERT OR IGNORE INTO conversations_dirty (folder_id, thread_id)"
  "   VALUES (OLD.folder_id, OLD.thread_id), (NEW.folder_id, NEW.thread_id);"
  "END;"
  "INSERT INTO conversations (folder_id, thread_id, date, key, total, unread, flagged, attachments)"
  "  SELECT g.folder_id, g.thread_id, g.date,"
  "         (SELECT max (n.id) FROM messages n WHERE n.thread_id = g.thread_id"
  "           AND n.date = g.date AND n.folder_id = g.folder_id),"
  "         g.total, g.unread, g.flagged, g.attachments"
  "    FROM (SELECT folder_id, thread_id, max (date) AS date, count (*) AS total,"
  "                 sum ((flags & 1) = 0) AS unread, sum ((flags & 4) != 0) AS flagged,"
  "                 sum (has_attachments != 0) AS attachments"
  "            FROM messages GROUP BY folder_id, thread_id) g;",

  /* 9: the messages waiting in the Outbox (local) folder: their envelope
   * (the Bcc recipients are not in the bytes sent), their sending state
   * and what to do once sent. A message deleted from the folder takes
   * its record along. */
  "CREATE TABLE outbox ("
  "  key INTEGER PRIMARY KEY,"
  "  sender TEXT NOT NULL,"
  "  recipients TEXT NOT NULL,"
  "  bcc TEXT,"
  "  message_id TEXT,"
  "  state INTEGER NOT NULL DEFAULT 0,"
  "  attempts INTEGER NOT NULL DEFAULT 0,"
  "  next_attempt INTEGER NOT NULL DEFAULT 0,"
  "  send_after INTEGER NOT NULL DEFAULT 0,"
  "  last_error TEXT,"
  "  in_reply_to TEXT,"
  "  forwarded_id TEXT,"
  "  draft_key INTEGER NOT NULL DEFAULT 0,"
  "  created INTEGER NOT NULL);"
  "CREATE TRIGGER outbox_delete AFTER DELETE ON messages BEGIN"
  "  DELETE FROM outbox WHERE key = OLD.id;"
  "END;",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == LB_STORE_SCHEMA_VERSION);

static gboolean
query_int (sqlite3     *db,
           const char  *sql,
           gint64      *value,
           GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, db, rc, sql);
      sqlite3_finalize (stmt);
      return FALSE;
    }
  *value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return TRUE;
}

/* The key of a Message-ID in thread_ids: FNV-1a, 64 bits. It is stored,
 * so it must never change. Two ids of one hash would put their messages
 * in one thread; among a million ids the odds are about one in 37
 * million. */
static gint64
message_id_hash (const char *id)
{
  guint64 hash = G_GUINT64_CONSTANT (0xcbf29ce484222325);

  for (const guchar *p = (const guchar *) id; *p != '\0'; p++)
    {
      hash ^= *p;
      hash *= G_GUINT64_CONSTANT (0x100000001b3);
    }
  return (gint64) hash;
}

static void
message_id_hash_sql (sqlite3_context  *context,
                     int               argc,
                     sqlite3_value   **argv)
{
  const char *id = (const char *) sqlite3_value_text (argv[0]);

  if (id == NULL)
    sqlite3_result_null (context);
  else
    sqlite3_result_int64 (context, message_id_hash (id));
}

static gboolean
migrate (sqlite3     *db,
         guint        max_version,
         GError     **error)
{
  gint64 version, app_id;

  if (!query_int (db, "PRAGMA user_version", &version, error) ||
      !query_int (db, "PRAGMA application_id", &app_id, error))
    return FALSE;

  if (version == 0 && app_id == 0)
    {
      gint64 tables;

      /* a new file, or somebody else's database that never set a version */
      if (!query_int (db, "SELECT count(*) FROM sqlite_master", &tables, error))
        return FALSE;
      if (tables > 0)
        app_id = -1;
    }
  if (version < 0 || (app_id != 0 && app_id != APPLICATION_ID) || (version > 0 && app_id == 0))
    {
      g_set_error (error, LB_STORE_ERROR, LB_STORE_ERROR_CORRUPT,
                   _("The file “%s” is not a Letterbox mail database"),
                   sqlite3_db_filename (db, "main"));
      return FALSE;
    }
  if (version > LB_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, LB_STORE_ERROR, LB_STORE_ERROR_TOO_NEW,
                   _("The mail database was written by a newer version of Letterbox "
                     "(schema %d; this version knows %d). Update Letterbox to open it."),
                   (int) version, LB_STORE_SCHEMA_VERSION);
      return FALSE;
    }

  for (guint v = version + 1; v <= MIN (max_version, LB_STORE_SCHEMA_VERSION); v++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %u;"
                                               "PRAGMA application_id = %d;",
                                               v, APPLICATION_ID);
      gint64 now;

      /* another process (the app and letterbox-cli, say) may have done
       * this step meanwhile: look again under the write lock */
      if (!exec (db, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (!query_int (db, "PRAGMA user_version", &now, error))
        {
          exec (db, "ROLLBACK", NULL);
          return FALSE;
        }
      if (now >= v)
        {
          if (!exec (db, "COMMIT", error))
            return FALSE;
          continue;
        }
      if (!exec (db, migrations[v - 1], error) || !exec (db, bump, error))
        {
          exec (db, "ROLLBACK", NULL);
          g_prefix_error (error, _("Could not upgrade the mail database to schema %u: "), v);
          return FALSE;
        }
      if (!exec (db, "COMMIT", error))
        return FALSE;
      g_debug ("%s: migrated to schema %u", sqlite3_db_filename (db, "main"), v);
    }

  return TRUE;
}

/* ------------------------------------------------------------------ jobs */

typedef void (*StoreJobFunc) (LbStore  *self,
                              GTask    *task,
                              gpointer  task_data);

typedef struct
{
  GTask        *task;         /* NULL for the store's own background jobs */
  LbStore      *store;        /* for those: the store, which waits for them */
  StoreJobFunc  func;
  gpointer      data;         /* for those: the job's data, which it frees */
  gboolean      background;   /* runs only when no other job waits */
  guint64       seq;
} StoreJob;

static void schedule_indexing (LbStore *self);
static void index_later (LbStore *self);

/* The writer runs jobs in the order they came, except that background
 * jobs (indexing left for later) wait while anything else is queued. */
static gint
compare_jobs (gconstpointer a,
              gconstpointer b,
              gpointer      user_data)
{
  const StoreJob *x = a, *y = b;

  if (x->background != y->background)
    return x->background ? 1 : -1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
attach_idle (GMainContext   *context,
             GSourceFunc     func,
             gpointer        data,
             GDestroyNotify  notify)
{
  g_autoptr(GSource) source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, notify);
  g_source_set_static_name (source, "[letterbox] store");
  g_source_attach (source, context);
}

static gboolean
unref_task_cb (gpointer data)
{
  g_object_unref (data);
  return G_SOURCE_REMOVE;
}

static void
run_job (gpointer data,
         gpointer user_data)
{
  StoreJob *job = data;
  LbStore *self;

  if (job->task == NULL)
    {
      job->func (job->store, NULL, job->data);
      g_free (job);
      return;
    }

  self = g_task_get_source_object (job->task);
  if (!g_task_return_error_if_cancelled (job->task))
    job->func (self, job->task, g_task_get_task_data (job->task));

  /* The task holds the store. Its last reference must not go here: the
   * store's finalizer waits for this very thread to end. (An idle source,
   * not g_main_context_invoke(), which would run the callback right here
   * whenever the main context happens to be free.) */
  attach_idle (g_task_get_context (job->task), unref_task_cb, job->task, NULL);
  g_free (job);
}

/* the order of the jobs asked for, across stores */
static gsize job_seq;

static void
push_job (GThreadPool  *pool,
          GTask        *task,
          StoreJobFunc  func)
{
  StoreJob *job = g_new0 (StoreJob, 1);

  job->task = task;
  job->func = func;
  job->seq = (guint64) g_atomic_pointer_add (&job_seq, 1);
  g_thread_pool_push (pool, job, NULL);
}

static GTask *
new_task (LbStore             *self,
          gpointer             source_tag,
          gpointer             task_data,
          GDestroyNotify       task_data_free,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  if (task_data != NULL)
    g_task_set_task_data (task, task_data, task_data_free);
  /* a job that ran reports what it did, even if cancelled meanwhile: a
   * committed write must not look like a failed one */
  g_task_set_check_cancellable (task, FALSE);

  return task;
}

/* ------------------------------------------------------------------ change notification */

typedef struct
{
  LbStore   *store;
  GPtrArray *changes;   /* LbStoreChange */
  GPtrArray *conversations;   /* LbStoreChange */
  GPtrArray *folders;   /* LbFolderInfo */
  GArray    *removed_folders;   /* gint64 */
} Emission;

static gboolean
emit_cb (gpointer data)
{
  Emission *emission = data;

  for (guint i = 0; i < emission->removed_folders->len; i++)
    g_signal_emit (emission->store, signals[SIGNAL_FOLDER_REMOVED], 0,
                   g_array_index (emission->removed_folders, gint64, i));
  for (guint i = 0; i < emission->folders->len; i++)
    g_signal_emit (emission->store, signals[SIGNAL_FOLDER_CHANGED], 0,
                   emission->folders->pdata[i]);
  if (emission->changes->len > 0)
    g_signal_emit (emission->store, signals[SIGNAL_CHANGED], 0, emission->changes);
  if (emission->conversations->len > 0)
    g_signal_emit (emission->store, signals[SIGNAL_CONVERSATIONS_CHANGED], 0, emission->conversations);

  return G_SOURCE_REMOVE;
}

static void
emission_free (gpointer data)
{
  Emission *emission = data;

  g_object_unref (emission->store);
  g_ptr_array_unref (emission->changes);
  g_ptr_array_unref (emission->conversations);
  g_ptr_array_unref (emission->folders);
  g_array_unref (emission->removed_folders);
  g_free (emission);
}

typedef struct
{
  GPtrArray  *changes;      /* LbStoreChange */
  GHashTable *folder_ids;   /* gint64* set */
  GArray     *removed_folders;   /* gint64 */
} Changes;

static void
changes_init (Changes *changes)
{
  changes->removed_folders = g_array_new (FALSE, FALSE, sizeof (gint64));
  changes->changes = g_ptr_array_new_with_free_func (g_free);
  changes->folder_ids = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
}

static void
changes_clear (Changes *changes)
{
  g_clear_pointer (&changes->changes, g_ptr_array_unref);
  g_clear_pointer (&changes->folder_ids, g_hash_table_unref);
  g_clear_pointer (&changes->removed_folders, g_array_unref);
}

static void
changes_touch_folder (Changes *changes,
                      gint64   folder_id)
{
  if (!g_hash_table_contains (changes->folder_ids, &folder_id))
    g_hash_table_add (changes->folder_ids, g_memdup2 (&folder_id, sizeof folder_id));
}

static void
changes_add (Changes           *changes,
             LbStoreChangeKind  kind,
             gint64             folder_id,
             gint64             key,
             gint64             date)
{
  LbStoreChange *change = g_new0 (LbStoreChange, 1);

  change->kind = kind;
  change->folder_id = folder_id;
  change->key = key;
  change->date = date;
  g_ptr_array_add (changes->changes, change);
  /* counts change with flags too */
  changes_touch_folder (changes, folder_id);
}

static LbFolderInfo *read_folder (sqlite3 *db, GHashTable *cache, gint64 id, GError **error);

/* Called by a write job after it committed, before it returns its task:
 * the signals reach the main context ahead of the task's callback. */
static void
changes_emit (LbStore *self,
              Changes *changes)
{
  Emission *emission;
  GHashTableIter iter;
  gint64 *folder_id;

  if (changes->changes->len == 0 && g_hash_table_size (changes->folder_ids) == 0 &&
      changes->removed_folders->len == 0 && self->conversation_changes->len == 0)
    return;

  emission = g_new0 (Emission, 1);
  emission->store = g_object_ref (self);
  emission->removed_folders = g_array_ref (changes->removed_folders);
  emission->changes = g_ptr_array_ref (changes->changes);
  /* what the commits since the last emission did to the conversations */
  emission->conversations = g_steal_pointer (&self->conversation_changes);
  self->conversation_changes = g_ptr_array_new_with_free_func (g_free);
  emission->folders = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_folder_info_free);

  g_hash_table_iter_init (&iter, changes->folder_ids);
  while (g_hash_table_iter_next (&iter, (gpointer *) &folder_id, NULL))
    {
      LbFolderInfo *info = read_folder (self->wdb, self->wstmts, *folder_id, NULL);

      if (info != NULL)
        g_ptr_array_add (emission->folders, info);
    }

  /* always queued, never run here: on the store's context, ahead of the
   * write's own result, which GTask queues after it */
  attach_idle (self->context, emit_cb, emission, emission_free);
}

/* ------------------------------------------------------------------ rows */

#define SUMMARY_COLUMNS \
  "m.id, m.folder_id, m.uid, m.uidl, m.message_id, m.in_reply_to, m.refs, m.subject, " \
  "m.sender, m.recipients, m.cc, m.date, m.size, m.flags, m.keywords, " \
  "m.has_attachments, m.preview, m.thread_id, m.location, m.list_id, m.structure, m.modseq"

static LbMessageSummary *
read_summary (sqlite3_stmt *stmt)
{
  LbMessageSummary *summary = lb_message_summary_new ();

  summary->key = sqlite3_column_int64 (stmt, 0);
  summary->folder_id = sqlite3_column_int64 (stmt, 1);
  summary->uid = (guint32) sqlite3_column_int64 (stmt, 2);
  summary->uidl = column_text (stmt, 3);
  summary->message_id = column_text (stmt, 4);
  summary->in_reply_to = column_text (stmt, 5);
  summary->references = column_text (stmt, 6);
  summary->subject = column_text (stmt, 7);
  summary->from = column_text (stmt, 8);
  summary->to = column_text (stmt, 9);
  summary->cc = column_text (stmt, 10);
  summary->date = sqlite3_column_int64 (stmt, 11);
  summary->size = sqlite3_column_int64 (stmt, 12);
  summary->flags = (guint) sqlite3_column_int64 (stmt, 13);
  summary->keywords = column_text (stmt, 14);
  summary->has_attachments = sqlite3_column_int (stmt, 15) != 0;
  summary->preview = column_text (stmt, 16);
  summary->thread_id = sqlite3_column_int64 (stmt, 17);
  summary->location = column_text (stmt, 18);
  summary->list_id = column_text (stmt, 19);
  summary->structure = column_text (stmt, 20);
  summary->modseq = (guint64) sqlite3_column_int64 (stmt, 21);

  return summary;
}

static GPtrArray *
read_summaries (sqlite3       *db,
                sqlite3_stmt  *stmt,
                GError       **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (rows, read_summary (stmt));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, db, rc, "read");
      return NULL;
    }
  return g_steal_pointer (&rows);
}

#define FOLDER_COLUMNS \
  "id, path, name, delimiter, role, local, uidvalidity, uidnext, highestmodseq, total, unread"

static LbFolderInfo *
read_folder_row (sqlite3_stmt *stmt)
{
  LbFolderInfo *info = g_new0 (LbFolderInfo, 1);

  info->id = sqlite3_column_int64 (stmt, 0);
  info->path = column_text (stmt, 1);
  info->name = column_text (stmt, 2);
  info->delimiter = column_text (stmt, 3);
  info->role = sqlite3_column_int (stmt, 4);
  info->local = sqlite3_column_int (stmt, 5) != 0;
  info->uidvalidity = (guint32) sqlite3_column_int64 (stmt, 6);
  info->uidnext = (guint32) sqlite3_column_int64 (stmt, 7);
  info->highestmodseq = (guint64) sqlite3_column_int64 (stmt, 8);
  info->total = (guint) MAX (0, sqlite3_column_int64 (stmt, 9));
  info->unread = (guint) MAX (0, sqlite3_column_int64 (stmt, 10));

  return info;
}

static LbFolderInfo *
read_folder (sqlite3     *db,
             GHashTable  *cache,
             gint64       id,
             GError     **error)
{
  sqlite3_stmt *stmt = prepare (db, cache, "SELECT " FOLDER_COLUMNS " FROM folders WHERE id = ?1", error);
  LbFolderInfo *info = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    info = read_folder_row (stmt);
  else if (rc == SQLITE_DONE)
    g_set_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND,
                 _("The folder no longer exists"));
  else
    set_sqlite_error (error, db, rc, "folder");
  sqlite3_reset (stmt);

  return info;
}

/* ------------------------------------------------------------------ open */

static void
lb_store_finalize (GObject *object)
{
  LbStore *self = LB_STORE (object);

  /* no job can be left but the store's own background ones, which stop */
  g_atomic_int_set (&self->closing, TRUE);
  if (self->index_later != NULL)
    {
      g_source_destroy (self->index_later);
      g_clear_pointer (&self->index_later, g_source_unref);
    }
  g_thread_pool_free (self->writer, FALSE, TRUE);
  g_thread_pool_free (self->reader, FALSE, TRUE);
  /* after the writer, the one to queue checkpoints */
  g_thread_pool_free (self->checkpointer, FALSE, TRUE);
  if (self->cdb)
    sqlite3_close (self->cdb);
  g_clear_pointer (&self->wstmts, g_hash_table_unref);
  g_clear_pointer (&self->rstmts, g_hash_table_unref);
  g_clear_pointer (&self->maildirs, g_hash_table_unref);
  g_clear_pointer (&self->thread_map, thread_map_free);
  g_clear_pointer (&self->conversation_changes, g_ptr_array_unref);
  if (self->rdb)
    sqlite3_close (self->rdb);
  if (self->wdb)
    {
      /* leave no -wal file behind for tools that copy the database */
      sqlite3_exec (self->wdb, "PRAGMA optimize", NULL, NULL, NULL);
      sqlite3_close (self->wdb);
    }
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->directory);
  g_free (self->path);

  G_OBJECT_CLASS (lb_store_parent_class)->finalize (object);
}

static void
lb_store_class_init (LbStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lb_store_finalize;

  /**
   * LbStore::changed:
   * @store: the store
   * @changes: (element-type LbStoreChange): what changed, in order
   *
   * Emitted on the store's main context after a write committed.
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY);

  /**
   * LbStore::conversations-changed:
   * @store: the store
   * @changes: (element-type LbStoreChange): what happened to the
   *   conversations of folders: %LB_STORE_CHANGE_ADDED and
   *   %LB_STORE_CHANGE_REMOVED for a conversation that appeared at or left
   *   a place (@date and @key of its newest message in @folder_id; one
   *   that moved, say for a new reply, does both),
   *   %LB_STORE_CHANGE_UPDATED for one that stayed in place but whose
   *   counts or newest message changed
   *
   * Emitted on the store's main context after a write committed, right
   * after #LbStore::changed.
   */
  signals[SIGNAL_CONVERSATIONS_CHANGED] =
    g_signal_new ("conversations-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY);

  /**
   * LbStore::folder-changed:
   * @store: the store
   * @info: the folder as it is now (counts, sync state)
   */
  signals[SIGNAL_FOLDER_CHANGED] =
    g_signal_new ("folder-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, LB_TYPE_FOLDER_INFO);

  /**
   * LbStore::folder-removed:
   * @store: the store
   * @folder_id: the folder that was deleted, with its messages
   */
  signals[SIGNAL_FOLDER_REMOVED] =
    g_signal_new ("folder-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void
finalize_stmt (gpointer data)
{
  sqlite3_finalize (data);
}

/* ------------------------------------------------------------------ checkpoints */

/* SQLite copies the WAL back into the database (a checkpoint) after the
 * commit that grows it past a limit, on the committing thread: a large
 * sync's writer would stop for it, fsyncs included. Here it happens every
 * 32 MiB rather than SQLite's 4 (a page that a header sync changes in
 * commit after commit, thread links and indexes, is copied once, not
 * after each commit), on the store's own thread and connection while the
 * writer goes on. A checkpoint that cannot keep up (readers holding old
 * snapshots, say) is done by the writer once the WAL is 8 times that. */
#define CHECKPOINT_BYTES (32 * 1024 * 1024)
#define CHECKPOINT_INLINE_BYTES (CHECKPOINT_BYTES * 8)

static sqlite3 *open_connection (const char  *path,
                                 gboolean     writable,
                                 GError     **error);

static void
checkpoint_job (gpointer data,
                gpointer user_data)
{
  LbStore *self = user_data;
  g_autoptr(GError) error = NULL;
  int rc;

  g_atomic_int_set (&self->checkpoint_queued, FALSE);
  if (g_atomic_int_get (&self->closing))
    return;   /* closing the last connection checkpoints */

  if (self->cdb == NULL)
    {
      self->cdb = open_connection (self->path, TRUE, &error);
      if (self->cdb == NULL)
        {
          g_debug ("checkpoint: %s", error->message);
          return;
        }
    }

  /* PASSIVE: never waits for the writer or readers, copies what it can */
  rc = sqlite3_wal_checkpoint_v2 (self->cdb, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY)
    g_debug ("checkpoint: %s", sqlite3_errmsg (self->cdb));
}

/* writer thread, after each commit: @pages are in the WAL */
static int
wal_hook (gpointer    data,
          sqlite3    *db,
          const char *name,
          int         pages)
{
  LbStore *self = data;

  gint64 bytes = (gint64) pages * self->page_size;

  if (bytes >= CHECKPOINT_INLINE_BYTES)
    sqlite3_wal_checkpoint_v2 (db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
  else if (bytes >= CHECKPOINT_BYTES && !g_atomic_int_get (&self->closing) &&
           g_atomic_int_compare_and_exchange (&self->checkpoint_queued, FALSE, TRUE))
    g_thread_pool_push (self->checkpointer, self, NULL);
  return SQLITE_OK;
}

static void
lb_store_init (LbStore *self)
{
  self->wstmts = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, finalize_stmt);
  self->rstmts = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, finalize_stmt);
  self->maildirs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  self->writer = g_thread_pool_new (run_job, NULL, 1, FALSE, NULL);
  g_thread_pool_set_sort_function (self->writer, compare_jobs, NULL);
  self->reader = g_thread_pool_new (run_job, NULL, 1, FALSE, NULL);
  self->checkpointer = g_thread_pool_new (checkpoint_job, self, 1, FALSE, NULL);
  self->conversation_changes = g_ptr_array_new_with_free_func (g_free);
}

static sqlite3 *
open_connection (const char  *path,
                 gboolean     writable,
                 GError     **error)
{
  static gsize configured;
  sqlite3 *db = NULL;
  int flags = SQLITE_OPEN_NOMUTEX | (writable ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                              : SQLITE_OPEN_READONLY);
  int rc;

  /* SQLite counts every allocation under one global mutex unless told
   * not to: a tenth of a large sync's time. Only possible before SQLite
   * initializes; if someone else in the process did so first, it stays. */
  if (g_once_init_enter (&configured))
    {
      sqlite3_config (SQLITE_CONFIG_MEMSTATUS, 0);
      g_once_init_leave (&configured, 1);
    }

  rc = sqlite3_open_v2 (path, &db, flags, NULL);

  if (rc != SQLITE_OK)
    {
      g_set_error (error, LB_STORE_ERROR, LB_STORE_ERROR_FAILED,
                   _("Could not open the mail database “%s”: %s"), path,
                   db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_extended_result_codes (db, 1);
  /* the writer may hold the lock a moment; WAL readers never wait */
  sqlite3_busy_timeout (db, 10000);

  if (writable)
    {
      g_autofree char *mode = NULL;
      sqlite3_stmt *stmt = NULL;

      /* for a new database only (an existing one keeps its own): rows of
       * about a kilobyte, several indexes, and a sync writing 100,000 of
       * them take a sixth less work with 16 KiB pages than with 4 */
      if (!exec (db, "PRAGMA page_size = 16384", error))
        {
          sqlite3_close (db);
          return NULL;
        }
      rc = sqlite3_prepare_v2 (db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
      if (rc == SQLITE_OK)
        rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        mode = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      sqlite3_finalize (stmt);
      if (g_strcmp0 (mode, "wal") != 0)
        {
          set_sqlite_error (error, db, rc == SQLITE_ROW ? SQLITE_CANTOPEN : rc, "journal_mode");
          sqlite3_close (db);
          return NULL;
        }
      /* a large cache keeps the index pages a big batch touches in
       * memory between its statements (checkpoints: wal_hook()) */
      if (!exec (db, "PRAGMA synchronous = NORMAL;"
                     "PRAGMA foreign_keys = ON;"
                     "PRAGMA temp_store = MEMORY;"
                     "PRAGMA cache_size = -32768;", error))
        {
          sqlite3_close (db);
          return NULL;
        }
      /* for the migration to schema 6 */
      rc = sqlite3_create_function (db, "lb_message_id_hash", 1,
                                    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                    NULL, message_id_hash_sql, NULL, NULL);
      if (rc != SQLITE_OK)
        {
          set_sqlite_error (error, db, rc, "lb_message_id_hash");
          sqlite3_close (db);
          return NULL;
        }
    }
  else if (!exec (db, "PRAGMA query_only = ON;", error))
    {
      sqlite3_close (db);
      return NULL;
    }

  return db;
}

typedef struct
{
  char *directory;
  guint max_version;
} OpenData;

static void
open_data_free (OpenData *data)
{
  g_free (data->directory);
  g_free (data);
}

static void
open_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  OpenData *data = task_data;
  g_autoptr(LbStore) self = g_object_new (LB_TYPE_STORE, NULL);
  g_autofree char *path = NULL;
  g_autofree char *bodies = NULL;
  GError *error = NULL;

  self->directory = g_strdup (data->directory);
  self->context = g_main_context_ref (g_task_get_context (task));

  bodies = g_build_filename (data->directory, "bodies", NULL);
  if (g_mkdir_with_parents (data->directory, 0700) != 0 ||
      g_mkdir_with_parents (bodies, 0700) != 0)
    {
      int saved = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                               _("Could not create the mail directory “%s”: %s"),
                               data->directory, g_strerror (saved));
      return;
    }

  path = g_build_filename (data->directory, "store.db", NULL);
  self->path = g_strdup (path);
  self->wdb = open_connection (path, TRUE, &error);
  if (self->wdb == NULL || !migrate (self->wdb, data->max_version, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (!query_int (self->wdb, "PRAGMA page_size", &self->page_size, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  {
    gint64 version = 0;

    if (!query_int (self->wdb, "PRAGMA user_version", &version, &error))
      {
        g_task_return_error (task, error);
        return;
      }
    self->has_conversations = version >= 8;
  }
  /* replaces wal_autocheckpoint */
  sqlite3_wal_hook (self->wdb, wal_hook, self);
  self->rdb = open_connection (path, FALSE, &error);
  if (self->rdb == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* indexing left over from the last run, a little later */
  if (data->max_version >= 6)
    {
      gint64 pending = 0;

      if (query_int (self->wdb, "SELECT EXISTS (SELECT 1 FROM fts_pending_ranges)", &pending, NULL) &&
          pending)
        index_later (self);
    }

  g_task_return_pointer (task, g_steal_pointer (&self), g_object_unref);
}

static void
open_full (const char          *directory,
           guint                max_version,
           GCancellable        *cancellable,
           GAsyncReadyCallback  callback,
           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  OpenData *data;

  g_return_if_fail (directory != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  data = g_new0 (OpenData, 1);
  data->directory = g_strdup (directory);
  data->max_version = max_version;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_store_open_async);
  g_task_set_task_data (task, data, (GDestroyNotify) open_data_free);
  g_task_run_in_thread (task, open_thread);
}

/**
 * lb_store_open_async:
 * @directory: the account's data directory; made if missing
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the store is open
 * @user_data: data for @callback
 *
 * Opens (creating or upgrading) an account's store. Signals are emitted
 * on the thread-default main context of the caller.
 */
void
lb_store_open_async (const char          *directory,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  open_full (directory, LB_STORE_SCHEMA_VERSION, cancellable, callback, user_data);
}

void
lb_store_open_at_version_async (const char          *directory,
                                guint                max_version,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  open_full (directory, max_version, cancellable, callback, user_data);
}

/**
 * lb_store_open_finish:
 *
 * Returns: (transfer full): the store, or %NULL with @error set
 */
LbStore *
lb_store_open_finish (GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_open_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

const char *
lb_store_get_directory (LbStore *self)
{
  g_return_val_if_fail (LB_IS_STORE (self), NULL);

  return self->directory;
}

/* ------------------------------------------------------------------ transactions */

/* In WAL mode synchronous=NORMAL syncs only at checkpoints: a commit
 * survives a crash of the program, not a power cut. FULL syncs the WAL at
 * each commit. SQLite takes the setting only outside a transaction, so a
 * durable write sets it before BEGIN and puts it back after. */
static gboolean
set_synchronous (LbStore  *self,
                 gboolean  full,
                 GError  **error)
{
  gint64 now;

  if (!exec (self->wdb, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", error) ||
      !query_int (self->wdb, "PRAGMA synchronous", &now, error))
    return FALSE;
  if (now != (full ? 2 : 1))
    {
      g_set_error (error, LB_STORE_ERROR, LB_STORE_ERROR_FAILED,
                   _("The mail database failed: %s"), "synchronous");
      return FALSE;
    }
  self->durable = full;
  return TRUE;
}

static void end_durable (LbStore *self);

static gboolean
begin (LbStore            *self,
       LbStoreWriteFlags   flags,
       GError            **error)
{
  if ((flags & LB_STORE_WRITE_DURABLE) && !set_synchronous (self, TRUE, error))
    return FALSE;
  if (!exec (self->wdb, "BEGIN IMMEDIATE", error))
    {
      end_durable (self);
      return FALSE;
    }
  return TRUE;
}

static void
end_durable (LbStore *self)
{
  g_autoptr(GError) error = NULL;

  if (self->durable && !set_synchronous (self, FALSE, &error))
    g_warning ("%s", error->message);
}

static gboolean flush_conversations (LbStore *self, GError **error);

static gboolean
commit (LbStore  *self,
        GError  **error)
{
  gint64 level = 0;
  guint n_before = self->conversation_changes->len;
  gboolean ok;

  /* what the connection really does for this commit (2: FULL) */
  if (self->durable && query_int (self->wdb, "PRAGMA synchronous", &level, NULL) && level == 2)
    g_atomic_int_inc (&self->durable_commits);

  ok = flush_conversations (self, error) && exec (self->wdb, "COMMIT", error);
  if (!ok)
    {
      exec (self->wdb, "ROLLBACK", NULL);
      g_clear_pointer (&self->thread_map, thread_map_free);
      g_ptr_array_set_size (self->conversation_changes, n_before);
    }
  end_durable (self);
  return ok;
}

static void
rollback (LbStore *self)
{
  if (!sqlite3_get_autocommit (self->wdb))
    exec (self->wdb, "ROLLBACK", NULL);
  /* it may hold what was just undone */
  g_clear_pointer (&self->thread_map, thread_map_free);
  end_durable (self);
}

/* ------------------------------------------------------------------ conversations */

/* The conversations table (schema 8) holds a row per (folder, thread):
 * the thread's newest message in the folder and its counts there. A
 * write marks the pairs it touches in conversations_dirty (triggers for
 * deletes and updates, add_rows_in() for inserts, in one statement per
 * batch rather than a trigger per row); the commit recomputes those rows
 * from the messages, in the same transaction, and notes for
 * ::conversations-changed which conversations came, went or changed. */

typedef struct
{
  gint64 folder_id;
  gint64 thread_id;
  gint64 date;
  gint64 key;
} ConversationPlace;

static guint
conversation_place_hash (gconstpointer data)
{
  const ConversationPlace *place = data;

  return g_int64_hash (&place->folder_id) * 31 + g_int64_hash (&place->thread_id);
}

static gboolean
conversation_place_equal (gconstpointer a,
                          gconstpointer b)
{
  const ConversationPlace *x = a, *y = b;

  return x->folder_id == y->folder_id && x->thread_id == y->thread_id;
}

static const char dirty_places_sql[] =
  "SELECT c.folder_id, c.thread_id, c.date, c.key FROM conversations_dirty d"
  " CROSS JOIN conversations c ON c.folder_id = d.folder_id AND c.thread_id = d.thread_id";

/* The rows of conversations for the dirty pairs, into @places. */
static gboolean
read_dirty_places (LbStore     *self,
                   GHashTable  *places,
                   GError     **error)
{
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts, dirty_places_sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      ConversationPlace *place = g_new (ConversationPlace, 1);

      place->folder_id = sqlite3_column_int64 (stmt, 0);
      place->thread_id = sqlite3_column_int64 (stmt, 1);
      place->date = sqlite3_column_int64 (stmt, 2);
      place->key = sqlite3_column_int64 (stmt, 3);
      g_hash_table_add (places, place);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->wdb, rc, "conversations");
      return FALSE;
    }
  return TRUE;
}

static void
note_conversation (LbStore                 *self,
                   LbStoreChangeKind        kind,
                   const ConversationPlace *place)
{
  LbStoreChange *change = g_new0 (LbStoreChange, 1);

  change->kind = kind;
  change->folder_id = place->folder_id;
  change->key = place->key;
  change->date = place->date;
  g_ptr_array_add (self->conversation_changes, change);
}

/* Writer, in the transaction, before COMMIT: brings the conversations of
 * the dirty pairs up to date. */
static gboolean
flush_conversations (LbStore  *self,
                     GError  **error)
{
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GHashTable) after = NULL;
  GHashTableIter iter;
  ConversationPlace *place;
  sqlite3_stmt *stmt;
  gint64 dirty = 0;

  if (!self->has_conversations)
    return TRUE;
  stmt = prepare (self->wdb, self->wstmts, "SELECT EXISTS (SELECT 1 FROM conversations_dirty)", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    dirty = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (!dirty)
    return TRUE;

  before = g_hash_table_new_full (conversation_place_hash, conversation_place_equal, g_free, NULL);
  after = g_hash_table_new_full (conversation_place_hash, conversation_place_equal, g_free, NULL);
  if (!read_dirty_places (self, before, error))
    return FALSE;

  stmt = prepare (self->wdb, self->wstmts,
                  "DELETE FROM conversations WHERE (folder_id, thread_id) IN"
                  " (SELECT folder_id, thread_id FROM conversations_dirty)", error);
  if (stmt == NULL || !step_done (self->wdb, stmt, error))
    return FALSE;
  /* the newest: the highest key of the latest date (the lists' order) */
  stmt = prepare (self->wdb, self->wstmts,
                  "INSERT INTO conversations"
                  " (folder_id, thread_id, date, key, total, unread, flagged, attachments)"
                  " SELECT g.folder_id, g.thread_id, g.date,"
                  "  (SELECT max (n.id) FROM messages n WHERE n.thread_id = g.thread_id"
                  "    AND n.date = g.date AND n.folder_id = g.folder_id),"
                  "  g.total, g.unread, g.flagged, g.attachments"
                  " FROM (SELECT m.folder_id AS folder_id, m.thread_id AS thread_id,"
                  "        max (m.date) AS date, count (*) AS total,"
                  "        sum ((m.flags & 1) = 0) AS unread, sum ((m.flags & 4) != 0) AS flagged,"
                  "        sum (m.has_attachments != 0) AS attachments"
                  "       FROM conversations_dirty d CROSS JOIN messages m INDEXED BY messages_by_thread"
                  "        ON m.thread_id = d.thread_id AND m.folder_id = d.folder_id"
                  "       GROUP BY m.folder_id, m.thread_id) g", error);
  if (stmt == NULL || !step_done (self->wdb, stmt, error))
    return FALSE;
  if (!read_dirty_places (self, after, error))
    return FALSE;
  stmt = prepare (self->wdb, self->wstmts, "DELETE FROM conversations_dirty", error);
  if (stmt == NULL || !step_done (self->wdb, stmt, error))
    return FALSE;

  /* removes, then adds and updates: the order a list applies them in */
  g_hash_table_iter_init (&iter, before);
  while (g_hash_table_iter_next (&iter, (gpointer *) &place, NULL))
    {
      ConversationPlace *now = g_hash_table_lookup (after, place);

      if (now == NULL || now->date != place->date || now->key != place->key)
        note_conversation (self, LB_STORE_CHANGE_REMOVED, place);
    }
  g_hash_table_iter_init (&iter, after);
  while (g_hash_table_iter_next (&iter, (gpointer *) &place, NULL))
    {
      ConversationPlace *was = g_hash_table_lookup (before, place);

      if (was == NULL || was->date != place->date || was->key != place->key)
        note_conversation (self, LB_STORE_CHANGE_ADDED, place);
      else
        note_conversation (self, LB_STORE_CHANGE_UPDATED, place);
    }
  return TRUE;
}

/* For add_rows_in(): the pairs of the rows it inserted, keys @first to
 * @last (the keys of one batch follow each other). */
static gboolean
mark_conversations_added (LbStore  *self,
                          gint64    first,
                          gint64    last,
                          GError  **error)
{
  sqlite3_stmt *stmt;

  if (!self->has_conversations)
    return TRUE;
  stmt = prepare (self->wdb, self->wstmts,
                  "INSERT OR IGNORE INTO conversations_dirty (folder_id, thread_id)"
                  " SELECT folder_id, thread_id FROM messages WHERE id BETWEEN ?1 AND ?2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, first);
  sqlite3_bind_int64 (stmt, 2, last);
  return step_done (self->wdb, stmt, error);
}

/* ------------------------------------------------------------------ folders */

static char *
maildir_name_for (const char *path)
{
  /* one directory level per folder, readable, never hidden or escaping */
  g_autofree char *escaped = g_uri_escape_string (path, " ", TRUE);

  if (escaped[0] == '.')
    return g_strconcat ("mail/%2E", escaped + 1, NULL);
  return g_strconcat ("mail/", escaped, NULL);
}

/* The folder's Maildir (writer thread), or NULL with an error if the
 * folder is not local. */
static LbMaildir *
get_maildir (LbStore  *self,
             gint64    folder_id,
             GError  **error)
{
  LbMaildir *maildir = g_hash_table_lookup (self->maildirs, &folder_id);
  sqlite3_stmt *stmt;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  int rc;

  if (maildir != NULL)
    return maildir;

  stmt = prepare (self->wdb, self->wstmts, "SELECT maildir FROM folders WHERE id = ?1 AND local", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, folder_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    name = column_text (stmt, 0);
  sqlite3_reset (stmt);
  if (name == NULL)
    {
      g_set_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND,
                   _("The folder is not a local folder"));
      return NULL;
    }

  path = g_build_filename (self->directory, name, NULL);
  maildir = lb_maildir_new (path);
  if (!lb_maildir_ensure (maildir, error))
    {
      g_object_unref (maildir);
      return NULL;
    }
  g_hash_table_insert (self->maildirs, g_memdup2 (&folder_id, sizeof folder_id), maildir);
  return maildir;
}

/* The last component of a folder's path, for display. */
static char *
last_component (const char *path,
                const char *delimiter)
{
  const char *last = path;

  if (delimiter != NULL && *delimiter != '\0')
    {
      const char *found = g_strrstr (path, delimiter);

      if (found != NULL && found[strlen (delimiter)] != '\0')
        last = found + strlen (delimiter);
    }
  return g_strdup (last);
}

typedef struct
{
  char *path;
  char *delimiter;
  LbFolderRole role;
  gboolean local;
} EnsureFolderData;

static void
ensure_folder_data_free (EnsureFolderData *data)
{
  g_free (data->path);
  g_free (data->delimiter);
  g_free (data);
}

static void
ensure_folder_job (LbStore  *self,
                   GTask    *task,
                   gpointer  task_data)
{
  EnsureFolderData *data = task_data;
  sqlite3_stmt *stmt;
  GError *error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *maildir = NULL;
  gint64 id = 0;
  LbFolderInfo *info;
  Changes changes;
  int rc;

  stmt = prepare (self->wdb, self->wstmts, "SELECT id FROM folders WHERE path = ?1", &error);
  if (stmt == NULL)
    goto fail;
  bind_text (stmt, 1, data->path);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);

  if (id == 0)
    {
      name = last_component (data->path, data->delimiter);
      maildir = data->local ? maildir_name_for (data->path) : NULL;

      stmt = prepare (self->wdb, self->wstmts,
                      "INSERT INTO folders (path, name, delimiter, role, local, maildir)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &error);
      if (stmt == NULL)
        goto fail;
      bind_text (stmt, 1, data->path);
      bind_text (stmt, 2, name);
      bind_text (stmt, 3, data->delimiter);
      sqlite3_bind_int (stmt, 4, data->role);
      sqlite3_bind_int (stmt, 5, data->local);
      bind_text (stmt, 6, maildir);
      if (!step_done (self->wdb, stmt, &error))
        goto fail;
      id = sqlite3_last_insert_rowid (self->wdb);

      if (data->local && get_maildir (self, id, &error) == NULL)
        {
          /* no folder without its Maildir */
          g_autoptr(GError) ignored = NULL;
          sqlite3_stmt *del = prepare (self->wdb, self->wstmts, "DELETE FROM folders WHERE id = ?1", &ignored);

          if (del != NULL)
            {
              sqlite3_bind_int64 (del, 1, id);
              step_done (self->wdb, del, NULL);
            }
          goto fail;
        }
    }
  else
    {
      stmt = prepare (self->wdb, self->wstmts,
                      "UPDATE folders SET role = ?2, delimiter = ?3 WHERE id = ?1 AND role != ?2 AND ?2 != 0",
                      &error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_int (stmt, 2, data->role);
      bind_text (stmt, 3, data->delimiter);
      if (!step_done (self->wdb, stmt, &error))
        goto fail;
    }

  info = read_folder (self->wdb, self->wstmts, id, &error);
  if (info == NULL)
    goto fail;

  changes_init (&changes);
  changes_touch_folder (&changes, id);
  changes_emit (self, &changes);
  changes_clear (&changes);

  g_task_return_pointer (task, info, (GDestroyNotify) lb_folder_info_free);
  return;

fail:
  g_task_return_error (task, error);
}

/**
 * lb_store_ensure_folder_async:
 * @self: the store
 * @path: the folder's full name
 * @delimiter: (nullable): its hierarchy delimiter
 * @role: what it is for
 * @local: whether its messages live here (a Maildir is made for it)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the folder
 * @user_data: data for @callback
 *
 * Finds the folder @path, making it if it does not exist; an existing
 * folder takes the given @role, unless it is %LB_FOLDER_ROLE_NONE (which
 * leaves its role as it is).
 */
void
lb_store_ensure_folder_async (LbStore             *self,
                              const char          *path,
                              const char          *delimiter,
                              LbFolderRole         role,
                              gboolean             local,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  EnsureFolderData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (path != NULL && *path != '\0' && g_utf8_validate (path, -1, NULL));

  data = g_new0 (EnsureFolderData, 1);
  data->path = g_strdup (path);
  data->delimiter = g_strdup (delimiter);
  data->role = role;
  data->local = local;

  push_job (self->writer,
            new_task (self, lb_store_ensure_folder_async, data,
                      (GDestroyNotify) ensure_folder_data_free, cancellable, callback, user_data),
            ensure_folder_job);
}

/**
 * lb_store_ensure_folder_finish:
 *
 * Returns: (transfer full): the folder
 */
LbFolderInfo *
lb_store_ensure_folder_finish (LbStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_ensure_folder_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
list_folders_job (LbStore  *self,
                  GTask    *task,
                  gpointer  task_data)
{
  GError *error = NULL;
  sqlite3_stmt *stmt = prepare (self->rdb, self->rstmts,
                                "SELECT " FOLDER_COLUMNS " FROM folders ORDER BY role = 0, role, path",
                                &error);
  g_autoptr(GPtrArray) folders = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_folder_info_free);
  int rc;

  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (folders, read_folder_row (stmt));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (&error, self->rdb, rc, "folders");
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&folders), (GDestroyNotify) g_ptr_array_unref);
}

/**
 * lb_store_list_folders_async:
 *
 * Lists the account's folders: those with a role first, in role order,
 * then the others by path.
 */
void
lb_store_list_folders_async (LbStore             *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (LB_IS_STORE (self));

  push_job (self->reader,
            new_task (self, lb_store_list_folders_async, NULL, NULL, cancellable, callback, user_data),
            list_folders_job);
}

/**
 * lb_store_list_folders_finish:
 *
 * Returns: (transfer container) (element-type LbFolderInfo): the folders
 */
GPtrArray *
lb_store_list_folders_finish (LbStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_list_folders_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
get_folder_job (LbStore  *self,
                GTask    *task,
                gpointer  task_data)
{
  GError *error = NULL;
  LbFolderInfo *info = read_folder (self->wdb, self->wstmts, *(gint64 *) task_data, &error);

  if (info == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, info, (GDestroyNotify) lb_folder_info_free);
}

void
lb_store_get_folder_async (LbStore             *self,
                           gint64               folder_id,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (LB_IS_STORE (self));

  /* on the writer: its counts are those of every write announced before
   * its result (what a message list needs to start from) */
  push_job (self->writer,
            new_task (self, lb_store_get_folder_async, g_memdup2 (&folder_id, sizeof folder_id),
                      g_free, cancellable, callback, user_data),
            get_folder_job);
}

/**
 * lb_store_get_folder_finish:
 *
 * Returns: (transfer full): the folder, or %NULL and
 *   %LB_STORE_ERROR_NOT_FOUND
 */
LbFolderInfo *
lb_store_get_folder_finish (LbStore       *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_get_folder_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  gint64 folder_id;
  guint32 uidvalidity;
  guint32 uidnext;
  guint64 highestmodseq;
} FolderStateData;

static void
set_folder_state_job (LbStore  *self,
                      GTask    *task,
                      gpointer  task_data)
{
  FolderStateData *data = task_data;
  GError *error = NULL;
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "UPDATE folders SET uidvalidity = ?2, uidnext = ?3, highestmodseq = ?4"
                                " WHERE id = ?1", &error);
  Changes changes;

  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  sqlite3_bind_int64 (stmt, 2, data->uidvalidity);
  sqlite3_bind_int64 (stmt, 3, data->uidnext);
  sqlite3_bind_int64 (stmt, 4, (sqlite3_int64) data->highestmodseq);
  if (!step_done (self->wdb, stmt, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (sqlite3_changes (self->wdb) == 0)
    {
      g_task_return_new_error (task, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND,
                               _("The folder no longer exists"));
      return;
    }

  changes_init (&changes);
  changes_touch_folder (&changes, data->folder_id);
  changes_emit (self, &changes);
  changes_clear (&changes);
  g_task_return_boolean (task, TRUE);
}

/**
 * lb_store_set_folder_state_async:
 *
 * Records what a provider learnt of a server folder: its UIDVALIDITY,
 * UIDNEXT and HIGHESTMODSEQ.
 */
void
lb_store_set_folder_state_async (LbStore             *self,
                                 gint64               folder_id,
                                 guint32              uidvalidity,
                                 guint32              uidnext,
                                 guint64              highestmodseq,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  FolderStateData *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = g_new0 (FolderStateData, 1);
  data->folder_id = folder_id;
  data->uidvalidity = uidvalidity;
  data->uidnext = uidnext;
  data->highestmodseq = highestmodseq;

  push_job (self->writer,
            new_task (self, lb_store_set_folder_state_async, data, g_free,
                      cancellable, callback, user_data),
            set_folder_state_job);
}

gboolean
lb_store_set_folder_state_finish (LbStore       *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_set_folder_state_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean remove_file_recursive (const char *path);
static char *body_cache_path (LbStore *self, gint64 key);
static gboolean write_cache_file (const char  *path,
                                  GBytes      *raw,
                                  GError     **error);

/* Deletes a folder's row and with it its messages (ON DELETE CASCADE;
 * triggers clean the full-text index), in the open transaction. What is
 * to go from the disk after the commit (a local folder's Maildir, the
 * cached bodies of a server folder's messages) is added to @paths. */
static gboolean
delete_folder_rows (LbStore    *self,
                    gint64      folder_id,
                    GPtrArray  *paths,
                    GError    **error)
{
  g_autofree char *maildir = NULL;
  sqlite3_stmt *stmt;
  int rc;

  stmt = prepare (self->wdb, self->wstmts, "SELECT maildir FROM folders WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, folder_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    maildir = column_text (stmt, 0);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW)
    {
      if (rc == SQLITE_DONE)
        g_set_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND, _("The folder no longer exists"));
      else
        set_sqlite_error (error, self->wdb, rc, "folder");
      return FALSE;
    }

  if (maildir != NULL)
    g_ptr_array_add (paths, g_build_filename (self->directory, maildir, NULL));
  else
    {
      stmt = prepare (self->wdb, self->wstmts,
                      "SELECT id FROM messages WHERE folder_id = ?1 AND location IS NOT NULL", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, folder_id);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        g_ptr_array_add (paths, body_cache_path (self, sqlite3_column_int64 (stmt, 0)));
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        {
          set_sqlite_error (error, self->wdb, rc, "folder");
          return FALSE;
        }
    }

  stmt = prepare (self->wdb, self->wstmts, "DELETE FROM folders WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, folder_id);
  return step_done (self->wdb, stmt, error);
}

static void
delete_folder_job (LbStore  *self,
                   GTask    *task,
                   gpointer  task_data)
{
  gint64 folder_id = *(gint64 *) task_data;
  GError *error = NULL;
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  Changes changes;

  if (!begin (self, LB_STORE_WRITE_DURABLE, &error))
    goto fail;
  if (!delete_folder_rows (self, folder_id, paths, &error) || !commit (self, &error))
    goto fail;

  /* the rows are gone; now the files they pointed at */
  g_hash_table_remove (self->maildirs, &folder_id);
  for (guint i = 0; i < paths->len; i++)
    remove_file_recursive (paths->pdata[i]);

  changes_init (&changes);
  g_array_append_val (changes.removed_folders, folder_id);
  changes_emit (self, &changes);
  changes_clear (&changes);
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  g_task_return_error (task, error);
}

/**
 * lb_store_delete_folder_async:
 *
 * Deletes a folder and the messages in it, with a local folder's Maildir
 * or a server folder's cached bodies. Emits #LbStore::folder-removed.
 */
void
lb_store_delete_folder_async (LbStore             *self,
                              gint64               folder_id,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (LB_IS_STORE (self));

  push_job (self->writer,
            new_task (self, lb_store_delete_folder_async, g_memdup2 (&folder_id, sizeof folder_id),
                      g_free, cancellable, callback, user_data),
            delete_folder_job);
}

gboolean
lb_store_delete_folder_finish (LbStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_delete_folder_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

typedef struct
{
  gint64     folder_id;
  char      *path;
  char      *name;
  GPtrArray *keep;
} FolderData;

static void
folder_data_free (FolderData *data)
{
  g_free (data->path);
  g_free (data->name);
  g_clear_pointer (&data->keep, g_ptr_array_unref);
  g_free (data);
}

/* A failed UPDATE of a folder's path: a unique path taken already. */
static void
set_rename_error (GError     **error,
                  GError      *sqlite_error,
                  int          extended,
                  const char  *path)
{
  if (extended == SQLITE_CONSTRAINT_UNIQUE)
    {
      g_set_error (error, LB_STORE_ERROR, LB_STORE_ERROR_EXISTS,
                   _("A folder named “%s” exists already"), path);
      g_error_free (sqlite_error);
    }
  else
    g_propagate_error (error, sqlite_error);
}

static void
rename_folder_job (LbStore  *self,
                   GTask    *task,
                   gpointer  task_data)
{
  FolderData *data = task_data;
  GError *error = NULL;
  GError *step_error = NULL;
  g_autofree char *old_path = NULL;
  g_autofree char *delimiter = NULL;
  g_autofree char *name = NULL;
  g_autofree char *old_prefix = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *stmt;
  Changes changes;
  int rc;

  if (!begin (self, LB_STORE_WRITE_NONE, &error))
    goto fail;

  stmt = prepare (self->wdb, self->wstmts, "SELECT path, delimiter FROM folders WHERE id = ?1", &error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      old_path = column_text (stmt, 0);
      delimiter = column_text (stmt, 1);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW)
    {
      if (rc == SQLITE_DONE)
        g_set_error (&error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND, _("The folder no longer exists"));
      else
        set_sqlite_error (&error, self->wdb, rc, "folder");
      goto fail;
    }
  name = data->name != NULL ? g_strdup (data->name) : last_component (data->path, delimiter);
  if (delimiter != NULL && *delimiter != '\0')
    old_prefix = g_strconcat (old_path, delimiter, NULL);

  /* the folder and those below it; their ids and messages stay */
  stmt = prepare (self->wdb, self->wstmts,
                  "SELECT id FROM folders WHERE id = ?1"
                  " OR (?2 IS NOT NULL AND substr (path, 1, length (?2)) = ?2)", &error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  bind_text (stmt, 2, old_prefix);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, id);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (&error, self->wdb, rc, "folder");
      goto fail;
    }

  /* old path + rest -> new path + rest, for the folder itself (the rest
   * is empty) and the folders below it (the rest starts with the
   * delimiter); the same for the offline queue's paths, so operations
   * queued before the rename reach the folder under its new name */
  stmt = prepare (self->wdb, self->wstmts,
                  "UPDATE folders SET path = ?2 || substr (path, length (?1) + 1),"
                  " name = CASE WHEN id = ?4 THEN ?5 ELSE name END"
                  " WHERE id = ?4 OR (?3 IS NOT NULL AND substr (path, 1, length (?3)) = ?3)", &error);
  if (stmt == NULL)
    goto fail;
  bind_text (stmt, 1, old_path);
  bind_text (stmt, 2, data->path);
  bind_text (stmt, 3, old_prefix);
  sqlite3_bind_int64 (stmt, 4, data->folder_id);
  bind_text (stmt, 5, name);
  if (!step_done (self->wdb, stmt, &step_error))
    {
      set_rename_error (&error, step_error, sqlite3_extended_errcode (self->wdb), data->path);
      goto fail;
    }

  stmt = prepare (self->wdb, self->wstmts,
                  "UPDATE pending_ops SET folder_path = ?2 || substr (folder_path, length (?1) + 1)"
                  " WHERE folder_path = ?1"
                  " OR (?3 IS NOT NULL AND substr (folder_path, 1, length (?3)) = ?3)", &error);
  if (stmt == NULL)
    goto fail;
  bind_text (stmt, 1, old_path);
  bind_text (stmt, 2, data->path);
  bind_text (stmt, 3, old_prefix);
  if (!step_done (self->wdb, stmt, &error))
    goto fail;
  stmt = prepare (self->wdb, self->wstmts,
                  "UPDATE pending_ops SET target_path = ?2 || substr (target_path, length (?1) + 1)"
                  " WHERE target_path = ?1"
                  " OR (?3 IS NOT NULL AND substr (target_path, 1, length (?3)) = ?3)", &error);
  if (stmt == NULL)
    goto fail;
  bind_text (stmt, 1, old_path);
  bind_text (stmt, 2, data->path);
  bind_text (stmt, 3, old_prefix);
  if (!step_done (self->wdb, stmt, &error))
    goto fail;

  if (!commit (self, &error))
    goto fail;

  changes_init (&changes);
  for (guint i = 0; i < ids->len; i++)
    changes_touch_folder (&changes, g_array_index (ids, gint64, i));
  changes_emit (self, &changes);
  changes_clear (&changes);
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  g_task_return_error (task, error);
}

/**
 * lb_store_rename_folder_async:
 * @self: the store
 * @folder_id: the folder
 * @new_path: its new full name
 * @new_name: (nullable): its new display name, %NULL for the last
 *   component of @new_path
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Renames a folder, and with it the folders below it (whose paths start
 * with its old path and its delimiter), as a server does; they keep their
 * ids and messages (a local folder keeps its Maildir). Queued operations
 * follow the new paths. Emits #LbStore::folder-changed for each folder;
 * %LB_STORE_ERROR_EXISTS if a new path is taken, and nothing changes.
 */
void
lb_store_rename_folder_async (LbStore             *self,
                              gint64               folder_id,
                              const char          *new_path,
                              const char          *new_name,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  FolderData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (new_path != NULL && *new_path != '\0' && g_utf8_validate (new_path, -1, NULL));
  g_return_if_fail (new_name == NULL || g_utf8_validate (new_name, -1, NULL));

  data = g_new0 (FolderData, 1);
  data->folder_id = folder_id;
  data->path = g_strdup (new_path);
  data->name = g_strdup (new_name);

  push_job (self->writer,
            new_task (self, lb_store_rename_folder_async, data, (GDestroyNotify) folder_data_free,
                      cancellable, callback, user_data),
            rename_folder_job);
}

gboolean
lb_store_rename_folder_finish (LbStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_rename_folder_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
prune_folders_job (LbStore  *self,
                   GTask    *task,
                   gpointer  task_data)
{
  FolderData *data = task_data;
  GError *error = NULL;
  g_autoptr(GHashTable) keep = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GArray) gone = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  Changes changes;
  int rc;

  for (guint i = 0; i < data->keep->len; i++)
    g_hash_table_add (keep, data->keep->pdata[i]);

  if (!begin (self, LB_STORE_WRITE_NONE, &error))
    goto fail;

  /* a folder the queue still names stays: an upload waiting there may
   * hold the only copy of a message; the queue's replay settles it */
  stmt = prepare (self->wdb, self->wstmts,
                  "SELECT id, path, EXISTS (SELECT 1 FROM pending_ops"
                  "  WHERE folder_path = folders.path OR target_path = folders.path)"
                  " FROM folders WHERE NOT local", &error);
  if (stmt == NULL)
    goto fail;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      if (g_hash_table_contains (keep, sqlite3_column_text (stmt, 1)))
        continue;
      if (sqlite3_column_int (stmt, 2))
        g_info ("Keeping the folder “%s”, gone from the server: changes to it wait in the queue",
                   (const char *) sqlite3_column_text (stmt, 1));
      else
        g_array_append_val (gone, id);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (&error, self->wdb, rc, "folders");
      goto fail;
    }

  for (guint i = 0; i < gone->len; i++)
    if (!delete_folder_rows (self, g_array_index (gone, gint64, i), paths, &error))
      goto fail;

  if (!commit (self, &error))
    goto fail;
  for (guint i = 0; i < paths->len; i++)
    remove_file_recursive (paths->pdata[i]);

  changes_init (&changes);
  g_array_append_vals (changes.removed_folders, gone->data, gone->len);
  changes_emit (self, &changes);
  changes_clear (&changes);
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  g_task_return_error (task, error);
}

/**
 * lb_store_prune_folders_async:
 * @self: the store
 * @keep_paths: (element-type utf8): the paths of every folder the server
 *   has now (its complete folder list)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Deletes the server folders (not the local ones) whose path is not in
 * @keep_paths, deleted on the server by another client: their messages
 * and cached bodies go with them. Emits #LbStore::folder-removed for each.
 * A folder an operation of the offline queue names (as its folder or its
 * target) is kept until the queue no longer does.
 */
void
lb_store_prune_folders_async (LbStore             *self,
                              GPtrArray           *keep_paths,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  FolderData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (keep_paths != NULL);

  data = g_new0 (FolderData, 1);
  data->keep = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < keep_paths->len; i++)
    if (keep_paths->pdata[i] != NULL)
      g_ptr_array_add (data->keep, g_strdup (keep_paths->pdata[i]));

  push_job (self->writer,
            new_task (self, lb_store_prune_folders_async, data, (GDestroyNotify) folder_data_free,
                      cancellable, callback, user_data),
            prune_folders_job);
}

gboolean
lb_store_prune_folders_finish (LbStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_prune_folders_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
remove_file_recursive (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        remove_file_recursive (child);
      }
  return g_remove (path) == 0;
}

/* ------------------------------------------------------------------ threads */

/* JWZ-style threading, incrementally: every Message-ID a message names
 * (its own, In-Reply-To, References) is linked to one thread. A message
 * joins the thread of any id it names; if it names ids of several
 * threads, it proves they are one conversation and they are merged into
 * the oldest. Ids of messages not (yet) here are kept as links too, so a
 * reply that arrives before its parent, or two replies to a parent that
 * never arrives, still end up together. Threads span the account's
 * folders (a reply in Inbox joins the message in Sent). */
/* thread_ids in memory, for a large write (a header sync adding
 * thousands of messages looks up two or three ids for each): an open
 * addressing table of hash -> thread, and the threads merged since it was
 * loaded. Writer thread only. It is loaded for a large batch and dropped
 * after a small one, when the indexing a sync left for later is done, on
 * a rollback, and when another connection wrote to the database (the app
 * and letterbox-cli may both write to one store). */
struct _ThreadMap
{
  gint64     *hashes;    /* 0: free slot; a hash of 0 is stored as 1, so
                            the ids of hashes 0 and 1 (odds: 2^-63) are
                            one id here, two in SQL */
  gint64     *threads;
  gsize       size;      /* a power of 2 */
  gsize       used;
  GHashTable *merged;    /* gint64 *thread -> gint64 *thread it is part of now */
  gint64      data_version;
};

/* batches of fewer summaries look their ids up in SQL; so do stores of
 * more ids than this (the map would take more than 16 MiB) */
#define THREAD_MAP_MIN_BATCH 256
#define THREAD_MAP_MAX_IDS   400000

static void
thread_map_free (ThreadMap *map)
{
  g_free (map->hashes);
  g_free (map->threads);
  g_hash_table_unref (map->merged);
  g_free (map);
}

static gint64
thread_map_key (gint64 hash)
{
  return hash != 0 ? hash : 1;
}

static gsize
thread_map_slot (const ThreadMap *map,
                 gint64           key)
{
  gsize mask = map->size - 1;
  gsize slot = ((guint64) key * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15)) >> 17 & mask;

  while (map->hashes[slot] != 0 && map->hashes[slot] != key)
    slot = (slot + 1) & mask;
  return slot;
}

static void
thread_map_put (ThreadMap *map,
                gint64     hash,
                gint64     thread_id)
{
  gint64 key = thread_map_key (hash);
  gsize slot;

  if ((map->used + 1) * 2 > map->size)
    {
      gint64 *hashes = map->hashes;
      gint64 *threads = map->threads;
      gsize size = map->size;

      map->size *= 2;
      map->hashes = g_new0 (gint64, map->size);
      map->threads = g_new (gint64, map->size);
      for (gsize i = 0; i < size; i++)
        if (hashes[i] != 0)
          {
            slot = thread_map_slot (map, hashes[i]);
            map->hashes[slot] = hashes[i];
            map->threads[slot] = threads[i];
          }
      g_free (hashes);
      g_free (threads);
    }

  slot = thread_map_slot (map, key);
  if (map->hashes[slot] == 0)
    {
      map->hashes[slot] = key;
      map->used++;
    }
  map->threads[slot] = thread_id;
}

/* the thread of @hash, following merges; 0 if unknown */
static gint64
thread_map_get (const ThreadMap *map,
                gint64           hash)
{
  gsize slot = thread_map_slot (map, thread_map_key (hash));
  gint64 thread_id;
  gint64 *into;

  if (map->hashes[slot] == 0)
    return 0;
  thread_id = map->threads[slot];
  while ((into = g_hash_table_lookup (map->merged, &thread_id)) != NULL)
    thread_id = *into;
  return thread_id;
}

static void
thread_map_merge (ThreadMap *map,
                  gint64     other,
                  gint64     thread_id)
{
  g_hash_table_insert (map->merged, g_memdup2 (&other, sizeof other),
                       g_memdup2 (&thread_id, sizeof thread_id));
}

/* The map for a batch of @batch summaries: kept, loaded, or (a small
 * batch) dropped. FALSE with @error if the database failed. */
static gboolean
thread_map_prepare (LbStore  *self,
                    guint     batch,
                    GError  **error)
{
  sqlite3_stmt *stmt;
  gint64 version, count;
  int rc;

  if (batch < THREAD_MAP_MIN_BATCH)
    {
      g_clear_pointer (&self->thread_map, thread_map_free);
      return TRUE;
    }

  if (!query_int (self->wdb, "PRAGMA data_version", &version, error))
    return FALSE;
  if (self->thread_map != NULL && self->thread_map->data_version == version)
    return TRUE;
  g_clear_pointer (&self->thread_map, thread_map_free);

  if (!query_int (self->wdb, "SELECT count(*) FROM thread_ids", &count, error))
    return FALSE;
  if (count > THREAD_MAP_MAX_IDS)
    return TRUE;
  self->thread_map = g_new0 (ThreadMap, 1);
  self->thread_map->size = 1024;
  while (self->thread_map->size < (gsize) (count + batch * 4) * 2)
    self->thread_map->size *= 2;
  self->thread_map->hashes = g_new0 (gint64, self->thread_map->size);
  self->thread_map->threads = g_new (gint64, self->thread_map->size);
  self->thread_map->merged = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  self->thread_map->data_version = version;

  stmt = prepare (self->wdb, self->wstmts, "SELECT hash, thread_id FROM thread_ids", error);
  if (stmt == NULL)
    {
      g_clear_pointer (&self->thread_map, thread_map_free);
      return FALSE;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    thread_map_put (self->thread_map, sqlite3_column_int64 (stmt, 0), sqlite3_column_int64 (stmt, 1));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      g_clear_pointer (&self->thread_map, thread_map_free);
      set_sqlite_error (error, self->wdb, rc, "thread");
      return FALSE;
    }
  return TRUE;
}

/* The thread of a message being added: the ids it names (its own
 * Message-ID, References, In-Reply-To), which of them thread_ids knows,
 * and the threads those belong to. Looked up before the row is inserted,
 * so that the row is written with its thread id once. */
typedef struct
{
  GPtrArray *ids;       /* const char *, into the summary or refs */
  GArray    *known;     /* gboolean per id: in thread_ids already */
  GArray    *threads;   /* gint64, distinct */
  char     **refs;
} ThreadLookup;

static void
thread_lookup_clear (ThreadLookup *lookup)
{
  g_clear_pointer (&lookup->ids, g_ptr_array_unref);
  g_clear_pointer (&lookup->known, g_array_unref);
  g_clear_pointer (&lookup->threads, g_array_unref);
  g_clear_pointer (&lookup->refs, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ThreadLookup, thread_lookup_clear)

/* In-Reply-To repeats the last of References nearly always: each id
 * once saves a lookup and an insert (a list too long to search is left
 * with its repeats, which are harmless). */
static void
add_id (GPtrArray  *ids,
        const char *id)
{
  if (id == NULL || *id == '\0')
    return;
  for (guint i = 0; i < ids->len && ids->len <= 64; i++)
    if (strcmp (ids->pdata[i], id) == 0)
      return;
  g_ptr_array_add (ids, (gpointer) id);
}

static gboolean
find_threads (LbStore           *self,
              LbMessageSummary  *summary,
              ThreadLookup      *lookup,
              GError           **error)
{
  sqlite3_stmt *stmt;

  lookup->ids = g_ptr_array_new ();
  lookup->known = g_array_new (FALSE, FALSE, sizeof (gboolean));
  lookup->threads = g_array_new (FALSE, FALSE, sizeof (gint64));
  lookup->refs = NULL;

  add_id (lookup->ids, summary->message_id);
  if (summary->references != NULL)
    {
      lookup->refs = g_strsplit (summary->references, " ", -1);
      for (guint i = 0; lookup->refs[i] != NULL; i++)
        add_id (lookup->ids, lookup->refs[i]);
    }
  add_id (lookup->ids, summary->in_reply_to);

  if (self->thread_map != NULL)
    stmt = NULL;
  else if ((stmt = prepare (self->wdb, self->wstmts, "SELECT thread_id FROM thread_ids WHERE hash = ?1",
                            error)) == NULL)
    return FALSE;
  for (guint i = 0; i < lookup->ids->len; i++)
    {
      gint64 hash = message_id_hash (lookup->ids->pdata[i]);
      gint64 found = 0;
      gboolean known = FALSE;

      if (stmt == NULL)
        {
          found = thread_map_get (self->thread_map, hash);
          known = found != 0;
        }
      else
        {
          int rc;

          sqlite3_bind_int64 (stmt, 1, hash);
          rc = sqlite3_step (stmt);
          if (rc == SQLITE_ROW)
            {
              found = sqlite3_column_int64 (stmt, 0);
              known = TRUE;
            }
          sqlite3_reset (stmt);
          if (rc != SQLITE_ROW && rc != SQLITE_DONE)
            {
              set_sqlite_error (error, self->wdb, rc, "thread");
              return FALSE;
            }
        }

      if (known)
        {
          gboolean seen = FALSE;

          for (guint j = 0; j < lookup->threads->len && !seen; j++)
            seen = g_array_index (lookup->threads, gint64, j) == found;
          if (!seen)
            g_array_append_val (lookup->threads, found);
        }
      g_array_append_val (lookup->known, known);
    }

  return TRUE;
}

/* The thread a new message joins: the oldest of the threads its ids are
 * in (the others are merged into it), or a new one, keyed by the
 * message's own key. */
static gint64
thread_of (const ThreadLookup *lookup,
           gint64              key)
{
  gint64 thread_id;

  if (lookup->threads->len == 0)
    return key;

  thread_id = g_array_index (lookup->threads, gint64, 0);
  for (guint j = 1; j < lookup->threads->len; j++)
    thread_id = MIN (thread_id, g_array_index (lookup->threads, gint64, j));
  return thread_id;
}

/* Records the thread of the message just inserted as @summary->key, in
 * thread @thread_id (from thread_of()): merges the other threads its ids
 * were in, and links the ids thread_ids did not know. */
static gboolean
link_thread (LbStore            *self,
             LbMessageSummary   *summary,
             const ThreadLookup *lookup,
             gint64              thread_id,
             Changes            *changes,
             GError            **error)
{
  sqlite3_stmt *stmt;

  for (guint j = 0; j < lookup->threads->len; j++)
    {
      gint64 other = g_array_index (lookup->threads, gint64, j);

      if (other == thread_id)
        continue;

      /* the rows of the merged thread change: say so */
      stmt = prepare (self->wdb, self->wstmts,
                      "SELECT id, folder_id, date FROM messages WHERE thread_id = ?1", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, other);
      while (sqlite3_step (stmt) == SQLITE_ROW)
        changes_add (changes, LB_STORE_CHANGE_UPDATED, sqlite3_column_int64 (stmt, 1),
                     sqlite3_column_int64 (stmt, 0), sqlite3_column_int64 (stmt, 2));
      sqlite3_reset (stmt);

      stmt = prepare (self->wdb, self->wstmts,
                      "UPDATE thread_ids SET thread_id = ?1 WHERE thread_id = ?2", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, thread_id);
      sqlite3_bind_int64 (stmt, 2, other);
      if (!step_done (self->wdb, stmt, error))
        return FALSE;
      stmt = prepare (self->wdb, self->wstmts,
                      "UPDATE messages SET thread_id = ?1 WHERE thread_id = ?2", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, thread_id);
      sqlite3_bind_int64 (stmt, 2, other);
      if (!step_done (self->wdb, stmt, error))
        return FALSE;
      if (self->thread_map != NULL)
        thread_map_merge (self->thread_map, other, thread_id);
    }

  /* the known ids are in thread_id now, after the merge */
  stmt = prepare (self->wdb, self->wstmts,
                  "INSERT OR IGNORE INTO thread_ids (hash, thread_id) VALUES (?1, ?2)", error);
  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < lookup->ids->len; i++)
    {
      gint64 hash;

      if (g_array_index (lookup->known, gboolean, i))
        continue;
      hash = message_id_hash (lookup->ids->pdata[i]);
      sqlite3_bind_int64 (stmt, 1, hash);
      sqlite3_bind_int64 (stmt, 2, thread_id);
      if (!step_done (self->wdb, stmt, error))
        return FALSE;
      if (self->thread_map != NULL)
        thread_map_put (self->thread_map, hash, thread_id);
      if (self->thread_map != NULL && self->thread_map->used > THREAD_MAP_MAX_IDS)
        g_clear_pointer (&self->thread_map, thread_map_free);
    }

  summary->thread_id = thread_id;
  return TRUE;
}

/* ------------------------------------------------------------------ adding messages */

static char *
addresses_of (LbMessageSummary *summary)
{
  GString *s = g_string_new (NULL);
  const char *parts[] = { summary->from, summary->to, summary->cc };

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    if (parts[i] != NULL)
      {
        if (s->len > 0)
          g_string_append_c (s, ' ');
        g_string_append (s, parts[i]);
      }
  return g_string_free (s, FALSE);
}

static gboolean
queue_op (LbStore        *self,
          LbStoreOpKind   kind,
          const char     *folder_path,
          guint32         uid,
          gint64          key,
          const char     *message_id,
          guint           add,
          guint           remove,
          const char     *target_path,
          GError        **error)
{
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "INSERT INTO pending_ops (kind, folder_path, uid, message_key, message_id,"
                                " flags_add, flags_remove, target_path, created)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int (stmt, 1, kind);
  bind_text (stmt, 2, folder_path);
  sqlite3_bind_int64 (stmt, 3, uid);
  sqlite3_bind_int64 (stmt, 4, key);
  bind_text (stmt, 5, message_id);
  sqlite3_bind_int64 (stmt, 6, add);
  sqlite3_bind_int64 (stmt, 7, remove);
  bind_text (stmt, 8, target_path);
  sqlite3_bind_int64 (stmt, 9, g_get_real_time () / G_USEC_PER_SEC);
  return step_done (self->wdb, stmt, error);
}

static char *
folder_path_of (LbStore  *self,
                gint64    folder_id,
                gboolean *local,
                GError  **error)
{
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts, "SELECT path, local FROM folders WHERE id = ?1", error);
  char *path = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, folder_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      path = column_text (stmt, 0);
      if (local != NULL)
        *local = sqlite3_column_int (stmt, 1) != 0;
    }
  sqlite3_reset (stmt);
  if (path == NULL)
    g_set_error (error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND, _("The folder no longer exists"));
  return path;
}

/* Whether the offline queue holds a change of @key's flags or place
 * that the server has yet to learn of: until it does, the flags here are
 * the truth, not the server's. */
static gboolean
has_pending_change (LbStore  *self,
                    gint64    key,
                    gboolean *pending,
                    GError  **error)
{
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "SELECT 1 FROM pending_ops WHERE message_key = ?1"
                                " AND kind IN (?2, ?3, ?4) LIMIT 1", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, key);
  sqlite3_bind_int (stmt, 2, LB_STORE_OP_SET_FLAGS);
  sqlite3_bind_int (stmt, 3, LB_STORE_OP_MOVE);
  sqlite3_bind_int (stmt, 4, LB_STORE_OP_DELETE);
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->wdb, rc, "pending");
      return FALSE;
    }
  *pending = rc == SQLITE_ROW;
  return TRUE;
}

typedef enum
{
  INSERT_FAILED,
  INSERT_ADDED,
  INSERT_EXISTED,
  INSERT_ADOPTED,
} InsertResult;

/* A message of a server folder that is here without its UID (moved or
 * appended here, or the folder's UIDVALIDITY changed) takes the UID the
 * sync found it under, found by its Message-ID: it keeps its key, thread
 * and cached body. Sets *date to the row's date when one was adopted. */
static InsertResult
adopt_summary (LbStore           *self,
               gint64             folder_id,
               LbMessageSummary  *summary,
               gint64            *date,
               GError           **error)
{
  sqlite3_stmt *stmt;
  g_autofree char *location = NULL;
  gint64 key = 0, thread_id = 0;
  gboolean pending = FALSE;
  int rc;

  stmt = prepare (self->wdb, self->wstmts,
                  "SELECT id, thread_id, date, location FROM messages"
                  " WHERE folder_id = ?1 AND message_id = ?2 AND uid IS NULL AND uidl IS NULL"
                  " ORDER BY id LIMIT 1", error);
  if (stmt == NULL)
    return INSERT_FAILED;
  sqlite3_bind_int64 (stmt, 1, folder_id);
  bind_text (stmt, 2, summary->message_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      key = sqlite3_column_int64 (stmt, 0);
      thread_id = sqlite3_column_int64 (stmt, 1);
      *date = sqlite3_column_int64 (stmt, 2);
      location = column_text (stmt, 3);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->wdb, rc, "adopt");
      return INSERT_FAILED;
    }
  if (key == 0)
    return INSERT_ADDED;   /* nothing to adopt: insert */

  /* the UID is here already (a sync resumed): adding stays idempotent */
  stmt = prepare (self->wdb, self->wstmts,
                  "SELECT 1 FROM messages WHERE folder_id = ?1 AND uid = ?2", error);
  if (stmt == NULL)
    return INSERT_FAILED;
  sqlite3_bind_int64 (stmt, 1, folder_id);
  sqlite3_bind_int64 (stmt, 2, summary->uid);
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc == SQLITE_ROW)
    return INSERT_ADDED;
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->wdb, rc, "adopt");
      return INSERT_FAILED;
    }

  if (!has_pending_change (self, key, &pending, error))
    return INSERT_FAILED;

  /* the server's flags, unless a change made here is still on its way */
  stmt = prepare (self->wdb, self->wstmts,
                  "UPDATE messages SET uid = ?2,"
                  " flags = CASE WHEN ?9 THEN flags ELSE ?3 END,"
                  " keywords = CASE WHEN ?9 THEN keywords ELSE ?4 END,"
                  " size = CASE WHEN ?5 > 0 THEN ?5 ELSE size END,"
                  " modseq = ?6, structure = coalesce (?7, structure),"
                  " list_id = coalesce (?8, list_id)"
                  " WHERE id = ?1", error);
  if (stmt == NULL)
    return INSERT_FAILED;
  sqlite3_bind_int64 (stmt, 1, key);
  sqlite3_bind_int64 (stmt, 2, summary->uid);
  sqlite3_bind_int64 (stmt, 3, summary->flags & LB_MESSAGE_FLAGS_ALL);
  bind_text (stmt, 4, summary->keywords != NULL && *summary->keywords != '\0' ? summary->keywords : NULL);
  sqlite3_bind_int64 (stmt, 5, summary->size);
  sqlite3_bind_int64 (stmt, 6, (sqlite3_int64) summary->modseq);
  bind_text (stmt, 7, summary->structure);
  bind_text (stmt, 8, summary->list_id);
  sqlite3_bind_int (stmt, 9, pending);
  if (!step_done (self->wdb, stmt, error))
    return INSERT_FAILED;

  summary->key = key;
  summary->folder_id = folder_id;
  summary->thread_id = thread_id;
  g_free (summary->location);
  summary->location = g_steal_pointer (&location);
  return INSERT_ADOPTED;
}

/* The key the next row of messages will get (AUTOINCREMENT: one more
 * than the largest key it ever gave), so that a message starting a thread
 * is inserted with its thread id. Only a guess should anything else
 * insert meanwhile: insert_summary() checks it. */
static gboolean
next_message_key (LbStore  *self,
                  gint64   *key,
                  GError  **error)
{
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "SELECT max (coalesce ((SELECT seq FROM sqlite_sequence"
                                "                       WHERE name = 'messages'), 0),"
                                "            coalesce ((SELECT max (id) FROM messages), 0)) + 1",
                                error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    *key = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, self->wdb, rc, "key");
      return FALSE;
    }
  return TRUE;
}

/* Inserts one summary (key and thread_id are filled in). When a message
 * of that UID or UIDL is there already, its key is filled in and nothing
 * changes (INSERT_EXISTED). In a server folder, a row awaiting its UID
 * with the same Message-ID is adopted instead (INSERT_ADOPTED). @next_key
 * is the key the row is expected to get (next_message_key()), updated. */
static InsertResult
insert_summary (LbStore           *self,
                gint64             folder_id,
                gboolean           local,
                LbMessageSummary  *summary,
                const char        *body_text,
                gboolean           defer_index,
                gboolean           may_adopt,
                gint64            *next_key,
                Changes           *changes,
                gint64            *date,
                GError           **error)
{
  sqlite3_stmt *stmt;
  g_autofree char *addresses = NULL;
  g_auto(ThreadLookup) lookup = { NULL, };
  gint64 thread_id;

  *date = summary->date;
  if (may_adopt && !local && summary->uid != 0 && summary->message_id != NULL &&
      *summary->message_id != '\0')
    {
      InsertResult adopted = adopt_summary (self, folder_id, summary, date, error);

      if (adopted != INSERT_ADDED)
        return adopted;
    }

  if (!find_threads (self, summary, &lookup, error))
    return INSERT_FAILED;
  thread_id = thread_of (&lookup, *next_key);

  stmt = prepare (self->wdb, self->wstmts,
                  "INSERT INTO messages (folder_id, uid, uidl, message_id, in_reply_to, refs,"
                  " subject, sender, recipients, cc, date, size, flags, keywords,"
                  " has_attachments, preview, location, list_id, structure, modseq, thread_id)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
                  " ?18, ?19, ?20, ?21)"
                  " ON CONFLICT DO NOTHING", error);
  if (stmt == NULL)
    return INSERT_FAILED;

  sqlite3_bind_int64 (stmt, 1, folder_id);
  if (summary->uid != 0)
    sqlite3_bind_int64 (stmt, 2, summary->uid);
  bind_static (stmt, 3, summary->uidl);
  bind_static (stmt, 4, summary->message_id);
  bind_static (stmt, 5, summary->in_reply_to);
  bind_static (stmt, 6, summary->references);
  bind_static (stmt, 7, summary->subject);
  bind_static (stmt, 8, summary->from);
  bind_static (stmt, 9, summary->to);
  bind_static (stmt, 10, summary->cc);
  sqlite3_bind_int64 (stmt, 11, summary->date);
  sqlite3_bind_int64 (stmt, 12, summary->size);
  sqlite3_bind_int64 (stmt, 13, summary->flags & LB_MESSAGE_FLAGS_ALL);
  bind_static (stmt, 14, summary->keywords != NULL && *summary->keywords != '\0' ? summary->keywords : NULL);
  sqlite3_bind_int (stmt, 15, summary->has_attachments);
  bind_static (stmt, 16, summary->preview);
  bind_static (stmt, 17, summary->location);
  bind_static (stmt, 18, summary->list_id);
  bind_static (stmt, 19, summary->structure);
  sqlite3_bind_int64 (stmt, 20, (sqlite3_int64) summary->modseq);
  sqlite3_bind_int64 (stmt, 21, thread_id);
  if (!step_done (self->wdb, stmt, error))
    return INSERT_FAILED;

  if (sqlite3_changes (self->wdb) == 0)
    {
      /* there already: tell the caller which one it is */
      stmt = prepare (self->wdb, self->wstmts,
                      "SELECT id, thread_id FROM messages WHERE folder_id = ?1 AND"
                      " ((?2 IS NOT NULL AND uid = ?2) OR (?3 IS NOT NULL AND uidl = ?3))", error);
      if (stmt == NULL)
        return INSERT_FAILED;
      sqlite3_bind_int64 (stmt, 1, folder_id);
      if (summary->uid != 0)
        sqlite3_bind_int64 (stmt, 2, summary->uid);
      bind_text (stmt, 3, summary->uidl);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        {
          summary->key = sqlite3_column_int64 (stmt, 0);
          summary->thread_id = sqlite3_column_int64 (stmt, 1);
        }
      sqlite3_reset (stmt);
      summary->folder_id = folder_id;
      return INSERT_EXISTED;
    }

  summary->key = sqlite3_last_insert_rowid (self->wdb);
  summary->folder_id = folder_id;
  *next_key = summary->key + 1;

  /* a new thread, and the key guessed wrong */
  if (lookup.threads->len == 0 && thread_id != summary->key)
    {
      thread_id = summary->key;
      stmt = prepare (self->wdb, self->wstmts, "UPDATE messages SET thread_id = ?1 WHERE id = ?1", error);
      if (stmt == NULL)
        return INSERT_FAILED;
      sqlite3_bind_int64 (stmt, 1, thread_id);
      if (!step_done (self->wdb, stmt, error))
        return INSERT_FAILED;
    }

  if (!link_thread (self, summary, &lookup, thread_id, changes, error))
    return INSERT_FAILED;

  /* add_rows() notes the keys */
  if (defer_index)
    return INSERT_ADDED;

  stmt = prepare (self->wdb, self->wstmts,
                  "INSERT INTO messages_fts (rowid, subject, addresses, body) VALUES (?1, ?2, ?3, ?4)",
                  error);
  if (stmt == NULL)
    return INSERT_FAILED;
  addresses = addresses_of (summary);
  sqlite3_bind_int64 (stmt, 1, summary->key);
  bind_text (stmt, 2, summary->subject);
  bind_text (stmt, 3, addresses);
  bind_text (stmt, 4, body_text != NULL ? body_text : summary->preview);
  return step_done (self->wdb, stmt, error) ? INSERT_ADDED : INSERT_FAILED;
}

/* ---- indexing left for later ----------------------------------------- */

/* small, so that a write the user waits for never waits long behind it */
#define INDEX_BATCH 200

static void index_job (LbStore  *self,
                       GTask    *task,
                       gpointer  task_data);

/* Queues one of the store's own jobs, which runs when no other waits.
 * No task: the store's finalizer waits for the writer's jobs, and a task
 * would hold the store. */
static void
push_background_job (LbStore      *self,
                     StoreJobFunc  func)
{
  StoreJob *job = g_new0 (StoreJob, 1);

  job->store = self;
  job->func = func;
  job->background = TRUE;
  job->seq = G_MAXUINT64;
  g_thread_pool_push (self->writer, job, NULL);
}

/* writer thread: queues an indexing job unless one is queued */
static void
schedule_indexing (LbStore *self)
{
  if (self->indexing || g_atomic_int_get (&self->closing))
    return;
  self->indexing = TRUE;
  push_background_job (self, index_job);
}

/* Indexes the rows of one range whose indexing was deferred, up to
 * @limit of them, and shrinks or deletes the range; *done says how many
 * rows, *found whether there was a range. */
static gboolean
index_range (LbStore   *self,
             guint      limit,
             guint     *done,
             gboolean  *found,
             GError   **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  sqlite3_stmt *stmt;
  gint64 range = 0, first = 0, last = 0;
  int rc;

  *done = 0;
  *found = FALSE;

  /* the oldest range first: ranges are added in the order of their keys */
  stmt = prepare (self->wdb, self->wstmts,
                  "SELECT rowid, first, last FROM fts_pending_ranges ORDER BY rowid LIMIT 1", error);
  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      range = sqlite3_column_int64 (stmt, 0);
      first = sqlite3_column_int64 (stmt, 1);
      last = sqlite3_column_int64 (stmt, 2);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->wdb, rc, "index");
      return FALSE;
    }
  if (rc == SQLITE_DONE)
    return TRUE;   /* nothing left */
  *found = TRUE;

  stmt = prepare (self->wdb, self->wstmts,
                  "SELECT id, subject, sender, recipients, cc, preview FROM messages"
                  " WHERE id BETWEEN ?1 AND ?2 ORDER BY id LIMIT ?3", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, first);
  sqlite3_bind_int64 (stmt, 2, last);
  sqlite3_bind_int (stmt, 3, limit);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      LbMessageSummary *s = lb_message_summary_new ();

      s->key = sqlite3_column_int64 (stmt, 0);
      s->subject = column_text (stmt, 1);
      s->from = column_text (stmt, 2);
      s->to = column_text (stmt, 3);
      s->cc = column_text (stmt, 4);
      s->preview = column_text (stmt, 5);
      g_ptr_array_add (rows, s);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->wdb, rc, "index");
      return FALSE;
    }

  for (guint i = 0; i < rows->len; i++)
    {
      LbMessageSummary *s = rows->pdata[i];
      g_autofree char *addresses = addresses_of (s);

      stmt = prepare (self->wdb, self->wstmts,
                      "INSERT INTO messages_fts (rowid, subject, addresses, body) VALUES (?1, ?2, ?3, ?4)",
                      error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, s->key);
      bind_text (stmt, 2, s->subject);
      bind_text (stmt, 3, addresses);
      bind_text (stmt, 4, s->preview);
      if (!step_done (self->wdb, stmt, error))
        return FALSE;
    }

  /* the range is done, or starts after the last row indexed */
  if (rows->len < limit)
    stmt = prepare (self->wdb, self->wstmts, "DELETE FROM fts_pending_ranges WHERE rowid = ?1", error);
  else
    stmt = prepare (self->wdb, self->wstmts, "UPDATE fts_pending_ranges SET first = ?2 WHERE rowid = ?1",
                    error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, range);
  if (rows->len >= limit)
    sqlite3_bind_int64 (stmt, 2, ((LbMessageSummary *) rows->pdata[rows->len - 1])->key + 1);
  if (!step_done (self->wdb, stmt, error))
    return FALSE;

  *done = rows->len;
  return TRUE;
}

/* Indexes up to @limit messages whose indexing was deferred, oldest
 * first, in one transaction; *done says how many, *more whether any may
 * be left. Only the subject, addresses and preview are indexed: deferred
 * rows come from header syncs, which have no body text. Rows deleted
 * meanwhile are simply not found. */
static gboolean
index_batch (LbStore   *self,
             guint      limit,
             guint     *done_out,
             gboolean  *more_out,
             GError   **error_out)
{
  g_autoptr(GError) error = NULL;
  gboolean found = TRUE, changed = FALSE;
  guint done = 0;

  *done_out = 0;
  *more_out = FALSE;
  if (!begin (self, LB_STORE_WRITE_NONE, &error))
    goto out;

  while (done < limit)
    {
      guint n = 0;

      if (!index_range (self, limit - done, &n, &found, &error))
        goto fail;
      if (!found)
        break;
      changed = TRUE;
      done += n;
    }

  if (!changed)
    {
      rollback (self);   /* nothing was left */
      goto out;
    }
  if (!commit (self, &error))
    goto fail;
  *done_out = done;
  *more_out = found;
  goto out;

fail:
  rollback (self);
out:
  if (error != NULL)
    {
      g_propagate_error (error_out, g_steal_pointer (&error));
      return FALSE;
    }
  return TRUE;
}

static void
start_indexing_job (LbStore  *self,
                    GTask    *task,
                    gpointer  task_data)
{
  schedule_indexing (self);
}

static gboolean
index_later_cb (gpointer data)
{
  g_autoptr(LbStore) self = g_weak_ref_get (data);

  if (self != NULL && !g_atomic_int_get (&self->closing))
    push_background_job (self, start_indexing_job);
  return G_SOURCE_REMOVE;
}

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

/* What the last run left to index is indexed from INDEX_LATER_SECONDS
 * after the store opens: not while the app starts, and not at all by a
 * short-lived program (letterbox-cli) that will not search. */
#define INDEX_LATER_SECONDS 5

static void
index_later (LbStore *self)
{
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  g_weak_ref_init (ref, self);
  self->index_later = g_timeout_source_new_seconds (INDEX_LATER_SECONDS);
  g_source_set_callback (self->index_later, index_later_cb, ref, weak_ref_free);
  g_source_attach (self->index_later, self->context);
}

/* the background job: one batch, then again later while more are left */
static void
index_job (LbStore  *self,
           GTask    *task,
           gpointer  task_data)
{
  g_autoptr(GError) error = NULL;
  gboolean more = FALSE;
  guint done = 0;

  self->indexing = FALSE;

  /* closing: what is left is indexed when the store opens again */
  if (g_atomic_int_get (&self->closing))
    return;

  if (!index_batch (self, INDEX_BATCH, &done, &more, &error))
    g_warning ("Could not index messages for search: %s", error->message);
  else if (more)
    schedule_indexing (self);
  else
    g_clear_pointer (&self->thread_map, thread_map_free);   /* the sync is over */
}

static void
index_all_job (LbStore  *self,
               GTask    *task,
               gpointer  task_data)
{
  GError *error = NULL;
  gboolean more = FALSE;
  guint done = 0;

  do
    {
      if (!index_batch (self, INDEX_BATCH * 10, &done, &more, &error))
        {
          g_task_return_error (task, error);
          return;
        }
    }
  while (more);

  g_task_return_boolean (task, TRUE);
}

/**
 * lb_store_index_pending_async:
 * @self: the store
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when every message is searchable
 * @user_data: data for @callback
 *
 * Finishes the full-text indexing that %LB_STORE_WRITE_DEFER_INDEX left
 * for later, now rather than in the background: for a program that is
 * about to quit (`letterbox-cli sync`) and whose user may search next.
 */
void
lb_store_index_pending_async (LbStore             *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (LB_IS_STORE (self));

  push_job (self->writer,
            new_task (self, lb_store_index_pending_async, NULL, NULL, cancellable, callback, user_data),
            index_all_job);
}

gboolean
lb_store_index_pending_finish (LbStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_index_pending_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* A message row, as read to change it. */
typedef struct
{
  gint64 key;
  gint64 folder_id;
  guint32 uid;
  gint64 date;
  guint flags;
  gboolean local;
  char *path;
  char *message_id;
  char *location;
} Row;

static void
row_clear (Row *row)
{
  g_free (row->path);
  g_free (row->message_id);
  g_free (row->location);
}

static gboolean delete_rows_in   (LbStore           *self,
                                  GArray            *keys,
                                  LbStoreWriteFlags  flags,
                                  GArray            *rows,
                                  Changes           *changes,
                                  GError           **error);
static void     remove_row_files (LbStore           *self,
                                  GArray            *rows);

typedef struct
{
  gint64             folder_id;
  GPtrArray         *summaries;    /* LbMessageSummary */
  GPtrArray         *body_texts;   /* char *, nullable */
  GPtrArray         *deliveries;   /* LbStoreDelivery */
  GPtrArray         *raws;         /* GBytes, an upload's only copy */
  GArray            *partial;      /* gboolean per summary: headers only; nullable */
  LbStoreWriteFlags  flags;
  gint64             replaces;     /* an upload: the message it replaces, 0 for none */
} AddData;

static void
add_data_free (AddData *data)
{
  g_clear_pointer (&data->summaries, g_ptr_array_unref);
  g_clear_pointer (&data->body_texts, g_ptr_array_unref);
  g_clear_pointer (&data->deliveries, g_ptr_array_unref);
  g_clear_pointer (&data->raws, g_ptr_array_unref);
  g_clear_pointer (&data->partial, g_array_unref);
  g_free (data);
}

/* Notes a POP3 message in pop3_uidls: downloaded now (or again, after it
 * was deleted here), stored as @key. */
static gboolean
record_pop3_uidl (LbStore     *self,
                  const char  *uidl,
                  gint64       key,
                  gboolean     partial,
                  GError     **error)
{
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "INSERT INTO pop3_uidls (uidl, key, first_seen, partial)"
                                " VALUES (?1, ?2, ?3, ?4)"
                                " ON CONFLICT (uidl) DO UPDATE SET key = excluded.key,"
                                " partial = excluded.partial, deleted_here = 0", error);

  if (stmt == NULL)
    return FALSE;
  bind_static (stmt, 1, uidl);
  sqlite3_bind_int64 (stmt, 2, key);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time () / G_USEC_PER_SEC);
  sqlite3_bind_int (stmt, 4, partial != FALSE);
  return step_done (self->wdb, stmt, error);
}

/* The UIDs of @folder_path's messages whose move or deletion made here
 * waits in the queue (a set of GUINT_TO_POINTER (uid)), NULL if none. */
static gboolean
uids_leaving (LbStore     *self,
              const char  *folder_path,
              GHashTable **uids,
              GError     **error)
{
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "SELECT uid FROM pending_ops WHERE folder_path = ?1 AND uid != 0"
                                " AND kind IN (?2, ?3)", error);
  int rc;

  *uids = NULL;
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, folder_path);
  sqlite3_bind_int (stmt, 2, LB_STORE_OP_MOVE);
  sqlite3_bind_int (stmt, 3, LB_STORE_OP_DELETE);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (*uids == NULL)
        *uids = g_hash_table_new (NULL, NULL);
      g_hash_table_add (*uids, GUINT_TO_POINTER ((guint32) sqlite3_column_int64 (stmt, 0)));
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      g_clear_pointer (uids, g_hash_table_unref);
      set_sqlite_error (error, self->wdb, rc, "queue");
      return FALSE;
    }
  return TRUE;
}

/* Notes that the message's body is in the body cache. */
static gboolean
mark_cached (LbStore  *self,
             gint64    key,
             GError  **error)
{
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "UPDATE messages SET location = 'cache' WHERE id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, key);
  return step_done (self->wdb, stmt, error);
}

/* The body of a message to upload, before its row and operation are
 * committed: the only copy, so made durable, unlike a cache file. */
static gboolean
keep_upload_body (LbStore    *self,
                  gint64      key,
                  GBytes     *raw,
                  GPtrArray  *written,
                  GError    **error)
{
  g_autofree char *path = body_cache_path (self, key);
  int fd;

  if (!write_cache_file (path, raw, error))
    return FALSE;
  g_ptr_array_add (written, g_strdup (path));
  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0 || fsync (fd) != 0)
    {
      int saved = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not save the message to upload in “%s”: %s"), path, g_strerror (saved));
      return FALSE;
    }
  close (fd);

  return mark_cached (self, key, error);
}

/* The folder's counts, for the rows add_rows() inserted (the deletes and
 * updates of rows have triggers) */
static gboolean
count_added (LbStore  *self,
             gint64    folder_id,
             gint64    added,
             gint64    unread,
             GError  **error)
{
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "UPDATE folders SET total = total + ?2, unread = unread + ?3"
                                " WHERE id = ?1", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, folder_id);
  sqlite3_bind_int64 (stmt, 2, added);
  sqlite3_bind_int64 (stmt, 3, unread);
  return step_done (self->wdb, stmt, error);
}

/* Writes the rows of data->summaries in the transaction begun; the
 * files it wrote (upload bodies) are added to @written. */
static gboolean
add_rows_in (LbStore    *self,
             AddData    *data,
             Changes    *changes,
             GPtrArray  *written,
             GError    **error)
{
  g_autofree char *folder_path = NULL;
  g_autoptr(GHashTable) leaving = NULL;
  gboolean local = FALSE;
  gboolean orphans = FALSE;
  gint64 next_key = 0;
  gint64 added = 0, added_unread = 0;
  gint64 first_key = 0, last_key = 0;

  if (data->summaries->len == 0)
    return TRUE;
  if (!next_message_key (self, &next_key, error) ||
      !thread_map_prepare (self, data->summaries->len, error))
    goto fail;

  folder_path = folder_path_of (self, data->folder_id, &local, error);
  if (folder_path == NULL)
    goto fail;
  if (!local && !uids_leaving (self, folder_path, &leaving, error))
    goto fail;
  /* rows awaiting their UID are rare: look for one to adopt only if any */
  if (!local)
    {
      sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                    "SELECT EXISTS (SELECT 1 FROM messages WHERE folder_id = ?1"
                                    " AND message_id IS NOT NULL AND uid IS NULL AND uidl IS NULL)",
                                    error);
      int rc;

      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, data->folder_id);
      rc = sqlite3_step (stmt);
      orphans = rc == SQLITE_ROW && sqlite3_column_int (stmt, 0) != 0;
      sqlite3_reset (stmt);
      if (rc != SQLITE_ROW)
        {
          set_sqlite_error (error, self->wdb, rc, "adopt");
          goto fail;
        }
    }

  for (guint i = 0; i < data->summaries->len; i++)
    {
      LbMessageSummary *summary = data->summaries->pdata[i];
      const char *body = data->body_texts ? data->body_texts->pdata[i] : NULL;
      gint64 date = 0;

      /* moved or deleted here, the server not told yet: a sync must not
       * bring it back meanwhile */
      if (leaving != NULL && summary->uid != 0 &&
          g_hash_table_contains (leaving, GUINT_TO_POINTER (summary->uid)))
        {
          summary->key = 0;
          summary->folder_id = data->folder_id;
          continue;
        }

      switch (insert_summary (self, data->folder_id, local, summary,
                              (data->flags & LB_STORE_WRITE_DEFER_INDEX) ? NULL : body,
                              (data->flags & LB_STORE_WRITE_DEFER_INDEX) != 0, orphans,
                              &next_key, changes, &date, error))
        {
        case INSERT_FAILED:
          goto fail;

        case INSERT_EXISTED:
          continue;

        case INSERT_ADOPTED:
          changes_add (changes, LB_STORE_CHANGE_UPDATED, data->folder_id, summary->key, date);
          continue;

        case INSERT_ADDED:
          break;

        default:
          g_assert_not_reached ();
        }
      changes_add (changes, LB_STORE_CHANGE_ADDED, data->folder_id, summary->key, summary->date);
      if (summary->uidl != NULL &&
          !record_pop3_uidl (self, summary->uidl, summary->key,
                             data->partial != NULL && g_array_index (data->partial, gboolean, i),
                             error))
        goto fail;
      if (first_key == 0)
        first_key = summary->key;
      last_key = summary->key;
      added++;
      if (!(summary->flags & LB_MESSAGE_SEEN))
        added_unread++;

      if (data->raws != NULL && !local && data->raws->pdata[i] != NULL &&
          !keep_upload_body (self, summary->key, data->raws->pdata[i], written, error))
        goto fail;
      if ((data->flags & LB_STORE_WRITE_QUEUE) && !local &&
          !queue_op (self, LB_STORE_OP_APPEND, folder_path, 0, summary->key,
                     summary->message_id, 0, 0, NULL, error))
        goto fail;
    }

  if (added > 0 && !count_added (self, data->folder_id, added, added_unread, error))
    goto fail;
  if (added > 0 && !mark_conversations_added (self, first_key, last_key, error))
    goto fail;
  /* the keys of one transaction's rows follow each other */
  if (added > 0 && (data->flags & LB_STORE_WRITE_DEFER_INDEX))
    {
      sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                    "INSERT INTO fts_pending_ranges (first, last) VALUES (?1, ?2)", error);

      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, first_key);
      sqlite3_bind_int64 (stmt, 2, last_key);
      if (!step_done (self->wdb, stmt, error))
        goto fail;
    }
  return TRUE;

fail:
  return FALSE;
}

/* Writes the rows of data->summaries in one transaction. */
static gboolean
add_rows (LbStore  *self,
          AddData  *data,
          Changes  *changes,
          GError  **error)
{
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) replaced = g_array_new (FALSE, TRUE, sizeof (Row));
  g_autoptr(GArray) replaces = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_array_set_clear_func (replaced, (GDestroyNotify) row_clear);
  if (data->replaces != 0)
    g_array_append_val (replaces, data->replaces);
  if (!begin (self, data->flags, error))
    return FALSE;
  if (!add_rows_in (self, data, changes, written, error) ||
      !delete_rows_in (self, replaces, data->flags, replaced, changes, error) ||
      !commit (self, error))
    {
      rollback (self);
      for (guint i = 0; i < written->len; i++)
        g_unlink (written->pdata[i]);
      return FALSE;
    }
  remove_row_files (self, replaced);
  if (data->flags & LB_STORE_WRITE_DEFER_INDEX)
    schedule_indexing (self);
  return TRUE;
}

static void
add_summaries_job (LbStore  *self,
                   GTask    *task,
                   gpointer  task_data)
{
  AddData *data = task_data;
  GError *error = NULL;
  Changes changes;

  changes_init (&changes);
  if (!add_rows (self, data, &changes, &error))
    {
      changes_clear (&changes);
      g_task_return_error (task, error);
      return;
    }
  changes_emit (self, &changes);
  changes_clear (&changes);
  g_task_return_pointer (task, g_ptr_array_ref (data->summaries), (GDestroyNotify) g_ptr_array_unref);
}

/**
 * lb_store_add_summaries_async:
 * @self: the store
 * @folder_id: the folder
 * @summaries: (element-type LbMessageSummary): the messages, from a server
 *   (IMAP ENVELOPE, say); the store fills in their key and thread id
 * @body_texts: (nullable) (element-type utf8): the text to index for each,
 *   %NULL entries (or array) to index only the preview
 * @flags: %LB_STORE_WRITE_QUEUE to also queue each message's upload
 *   (a draft saved while offline, say)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when they are stored
 * @user_data: data for @callback
 *
 * Adds summaries to a folder in one transaction. A message whose UID (or
 * UIDL) is in the folder already is left as it is: adding is idempotent,
 * so an interrupted sync can simply add again.
 *
 * In a server folder, a message with a UID and a Message-ID that a row
 * of the folder awaiting its UID has too (moved or appended here, or
 * after lb_store_reset_folder_async()) is that row: the oldest such row
 * takes the UID, the server's flags and keywords (unless a change made
 * here is still queued), size, MODSEQ, body structure and List-Id, and
 * keeps its key, thread and cached body; the summary gets its key and
 * location, and the change is %LB_STORE_CHANGE_UPDATED, not ADDED. A
 * message whose move or deletion from this folder is still queued is not
 * added back (its key stays 0).
 */
void
lb_store_add_summaries_async (LbStore             *self,
                              gint64               folder_id,
                              GPtrArray           *summaries,
                              GPtrArray           *body_texts,
                              LbStoreWriteFlags    flags,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  AddData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (summaries != NULL);
  g_return_if_fail (body_texts == NULL || body_texts->len == summaries->len);

  data = g_new0 (AddData, 1);
  data->folder_id = folder_id;
  data->summaries = g_ptr_array_ref (summaries);
  data->body_texts = body_texts ? g_ptr_array_ref (body_texts) : NULL;
  data->flags = flags;

  push_job (self->writer,
            new_task (self, lb_store_add_summaries_async, data, (GDestroyNotify) add_data_free,
                      cancellable, callback, user_data),
            add_summaries_job);
}

/**
 * lb_store_add_upload_async:
 * @self: the store
 * @folder_id: a server folder
 * @summary: the message (the store fills in its key and thread id)
 * @body_text: (nullable): the text to index
 * @raw: the whole message
 * @replaces_key: the message it replaces (a draft's previous version),
 *   0 for none
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when it is stored
 * @user_data: data for @callback
 *
 * Adds a message to upload to a server folder (a draft, a sent copy):
 * its bytes go to the body cache, made durable, before its row and its
 * queued %LB_STORE_OP_APPEND are committed in one transaction, so a
 * crash leaves either nothing or all of it.
 *
 * With @replaces_key, that message is deleted and its deletion on the
 * server queued after the upload, in the same transaction: a replay
 * never finds the new version queued without the deletion of the old
 * one (which would take the old one on the server, with the same
 * Message-ID, for an upload whose answer was lost), and the server never
 * lacks both.
 */
void
lb_store_add_upload_async (LbStore             *self,
                           gint64               folder_id,
                           LbMessageSummary    *summary,
                           const char          *body_text,
                           GBytes              *raw,
                           gint64               replaces_key,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  AddData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (summary != NULL);
  g_return_if_fail (raw != NULL);

  data = g_new0 (AddData, 1);
  data->folder_id = folder_id;
  data->summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_ptr_array_add (data->summaries, lb_message_summary_ref (summary));
  data->body_texts = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (data->body_texts, g_strdup (body_text));
  data->raws = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (data->raws, g_bytes_ref (raw));
  data->flags = LB_STORE_WRITE_QUEUE;
  data->replaces = replaces_key;

  push_job (self->writer,
            new_task (self, lb_store_add_upload_async, data, (GDestroyNotify) add_data_free,
                      cancellable, callback, user_data),
            add_summaries_job);
}

/**
 * lb_store_add_upload_finish:
 *
 * Returns: the message's key, 0 on error
 */
gint64
lb_store_add_upload_finish (LbStore       *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_autoptr(GPtrArray) summaries = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), 0);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_add_upload_async, 0);

  summaries = g_task_propagate_pointer (G_TASK (result), error);
  if (summaries == NULL)
    return 0;
  return ((LbMessageSummary *) summaries->pdata[0])->key;
}

/**
 * lb_store_add_summaries_finish:
 *
 * Returns: (transfer container) (element-type LbMessageSummary): the
 *   summaries given, with their keys
 */
GPtrArray *
lb_store_add_summaries_finish (LbStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_add_summaries_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static gboolean
uidl_exists (LbStore    *self,
             gint64      folder_id,
             const char *uidl,
             gint64     *key)
{
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "SELECT id FROM messages WHERE folder_id = ?1 AND uidl = ?2", NULL);
  gboolean found;

  if (stmt == NULL || uidl == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, folder_id);
  bind_text (stmt, 2, uidl);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  if (found)
    *key = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return found;
}

static void
deliver_job (LbStore  *self,
             GTask    *task,
             gpointer  task_data)
{
  AddData *data = task_data;
  GError *error = NULL;
  LbMaildir *maildir;
  g_autoptr(LbMaildirBatch) batch = NULL;
  g_autoptr(GPtrArray) existing = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GHashTable) uidls = NULL;
  Changes changes;

  maildir = get_maildir (self, data->folder_id, &error);
  if (maildir == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  data->summaries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  data->body_texts = g_ptr_array_new_with_free_func (g_free);
  batch = lb_maildir_batch_new (maildir);
  uidls = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < data->deliveries->len; i++)
    {
      LbStoreDelivery *delivery = data->deliveries->pdata[i];
      LbMessageSummary *summary;
      char *body_text = NULL;
      gint64 key = 0;
      gsize length;
      const void *bytes = g_bytes_get_data (delivery->raw, &length);

      /* the same message twice in one batch: once is enough */
      if (delivery->uidl != NULL && !g_hash_table_add (uidls, delivery->uidl))
        continue;

      /* a download that was interrupted and resumed: the message is here */
      if (uidl_exists (self, data->folder_id, delivery->uidl, &key))
        {
          LbMessageSummary *old = lb_message_summary_new ();

          old->key = key;
          old->folder_id = data->folder_id;
          old->uidl = g_strdup (delivery->uidl);
          g_ptr_array_add (existing, old);
          continue;
        }

      summary = lb_mime_summary_parse (delivery->raw, delivery->received, &body_text, &error);
      if (summary == NULL)
        {
          g_prefix_error (&error, _("Could not store message %u: "), i + 1);
          g_task_return_error (task, error);
          return;
        }
      summary->flags = delivery->flags & LB_MESSAGE_FLAGS_ALL;
      summary->uidl = g_strdup (delivery->uidl);
      summary->location = lb_maildir_batch_add (batch, bytes, length, summary->flags, &error);
      if (summary->location == NULL)
        {
          lb_message_summary_unref (summary);
          g_free (body_text);
          g_task_return_error (task, error);
          return;
        }
      g_ptr_array_add (data->summaries, summary);
      g_ptr_array_add (data->body_texts, body_text);
    }

  /* The files are durable before the rows that point at them commit;
   * a crash in between leaves a file without a row, never a row without
   * its message. */
  if (lb_maildir_batch_get_length (batch) > 0 && !lb_maildir_batch_commit (batch, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  changes_init (&changes);
  if (!add_rows (self, data, &changes, &error))
    {
      changes_clear (&changes);
      g_task_return_error (task, error);
      return;
    }
  changes_emit (self, &changes);
  changes_clear (&changes);

  for (guint i = 0; i < existing->len; i++)
    g_ptr_array_add (data->summaries, lb_message_summary_ref (existing->pdata[i]));
  g_task_return_pointer (task, g_ptr_array_ref (data->summaries), (GDestroyNotify) g_ptr_array_unref);
}

/**
 * lb_store_deliver_async:
 * @self: the store
 * @folder_id: a local folder
 * @deliveries: (element-type LbStoreDelivery): the messages
 * @flags: %LB_STORE_WRITE_DURABLE when the messages must be on disk when
 *   the call returns (POP3 before DELE); %LB_STORE_WRITE_QUEUE is ignored
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when they are stored
 * @user_data: data for @callback
 *
 * Stores whole messages in a local folder: each goes to the folder's
 * Maildir (durably, then into place), then their summaries, threads and
 * full-text index are written in one transaction. A message whose UIDL is
 * in the folder already is not stored again.
 */
void
lb_store_deliver_async (LbStore             *self,
                        gint64               folder_id,
                        GPtrArray           *deliveries,
                        LbStoreWriteFlags    flags,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  AddData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (deliveries != NULL);

  data = g_new0 (AddData, 1);
  data->folder_id = folder_id;
  data->deliveries = g_ptr_array_ref (deliveries);
  data->flags = flags & ~LB_STORE_WRITE_QUEUE;

  push_job (self->writer,
            new_task (self, lb_store_deliver_async, data, (GDestroyNotify) add_data_free,
                      cancellable, callback, user_data),
            deliver_job);
}

/**
 * lb_store_deliver_finish:
 *
 * Returns: (transfer container) (element-type LbMessageSummary): the
 *   stored messages (those stored before carry only key and UIDL)
 */
GPtrArray *
lb_store_deliver_finish (LbStore       *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_deliver_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------ changing messages */

static gboolean
read_row (LbStore  *self,
          gint64    key,
          Row      *row,
          GError  **error)
{
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "SELECT m.folder_id, m.uid, m.date, m.flags, f.local, f.path,"
                                " m.message_id, m.location"
                                " FROM messages m JOIN folders f ON f.id = m.folder_id WHERE m.id = ?1",
                                error);
  int rc;

  memset (row, 0, sizeof *row);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, key);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      row->key = key;
      row->folder_id = sqlite3_column_int64 (stmt, 0);
      row->uid = (guint32) sqlite3_column_int64 (stmt, 1);
      row->date = sqlite3_column_int64 (stmt, 2);
      row->flags = (guint) sqlite3_column_int64 (stmt, 3);
      row->local = sqlite3_column_int (stmt, 4) != 0;
      row->path = column_text (stmt, 5);
      row->message_id = column_text (stmt, 6);
      row->location = column_text (stmt, 7);
    }
  sqlite3_reset (stmt);
  if (rc == SQLITE_DONE)
    return FALSE;
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, self->wdb, rc, "message");
      return FALSE;
    }
  return TRUE;
}

typedef struct
{
  GArray            *keys;
  guint              add;
  guint              remove;
  gint64             target_folder_id;
  gint64             expunge_folder_id;
  LbStoreWriteFlags  flags;
} ChangeData;

static void
change_data_free (ChangeData *data)
{
  g_array_unref (data->keys);
  g_free (data);
}

static void
set_flags_job (LbStore  *self,
               GTask    *task,
               gpointer  task_data)
{
  ChangeData *data = task_data;
  GError *error = NULL;
  g_autoptr(GArray) rows = g_array_new (FALSE, TRUE, sizeof (Row));
  g_autoptr(GArray) new_flags = g_array_new (FALSE, FALSE, sizeof (guint));
  sqlite3_stmt *stmt;
  Changes changes;

  g_array_set_clear_func (rows, (GDestroyNotify) row_clear);
  changes_init (&changes);

  if (!begin (self, data->flags, &error))
    goto fail;

  for (guint i = 0; i < data->keys->len; i++)
    {
      Row row;
      Row *r;
      guint flags;

      if (!read_row (self, g_array_index (data->keys, gint64, i), &row, &error))
        {
          if (error != NULL)
            goto fail;
          continue;   /* gone meanwhile: nothing to change */
        }

      flags = (row.flags | data->add) & ~data->remove & LB_MESSAGE_FLAGS_ALL;
      if (flags == row.flags)
        {
          row_clear (&row);
          continue;
        }
      /* the array owns the row from here, on every path */
      g_array_append_val (rows, row);
      g_array_append_val (new_flags, flags);
      r = &g_array_index (rows, Row, rows->len - 1);

      stmt = prepare (self->wdb, self->wstmts, "UPDATE messages SET flags = ?2 WHERE id = ?1", &error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, r->key);
      sqlite3_bind_int64 (stmt, 2, flags);
      if (!step_done (self->wdb, stmt, &error))
        goto fail;

      if ((data->flags & LB_STORE_WRITE_QUEUE) && !r->local &&
          !queue_op (self, LB_STORE_OP_SET_FLAGS, r->path, r->uid, r->key, r->message_id,
                     data->add & ~r->flags, data->remove & r->flags, NULL, &error))
        goto fail;

      changes_add (&changes, LB_STORE_CHANGE_UPDATED, r->folder_id, r->key, r->date);
    }

  if (!commit (self, &error))
    goto fail;

  /* Maildir keeps flags in file names, renamed after the commit; if we
   * crash in between, the store is right and lb_maildir_find() still
   * finds the file by its unique name. */
  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = &g_array_index (rows, Row, i);
      g_autoptr(GError) rename_error = NULL;
      LbMaildir *maildir;

      if (!row->local || row->location == NULL)
        continue;
      maildir = get_maildir (self, row->folder_id, &rename_error);
      if (maildir == NULL ||
          !lb_maildir_set_flags (maildir, row->location, row->flags,
                                 g_array_index (new_flags, guint, i), &rename_error))
        g_warning ("Could not rename a message file for its new flags: %s", rename_error->message);
    }

  changes_emit (self, &changes);
  changes_clear (&changes);
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  changes_clear (&changes);
  g_task_return_error (task, error);
}

/**
 * lb_store_set_flags_async:
 * @self: the store
 * @keys: (element-type gint64): the messages
 * @add: flags to set
 * @remove: flags to clear
 * @flags: %LB_STORE_WRITE_QUEUE to queue the change for the server of a
 *   non-local folder
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Changes the flags of messages; keys no longer in the store are skipped.
 */
void
lb_store_set_flags_async (LbStore             *self,
                          GArray              *keys,
                          guint                add,
                          guint                remove,
                          LbStoreWriteFlags    flags,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  ChangeData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (keys != NULL);

  data = g_new0 (ChangeData, 1);
  data->keys = g_array_ref (keys);
  data->add = add;
  data->remove = remove;
  data->flags = flags;

  push_job (self->writer,
            new_task (self, lb_store_set_flags_async, data, (GDestroyNotify) change_data_free,
                      cancellable, callback, user_data),
            set_flags_job);
}

gboolean
lb_store_set_flags_finish (LbStore       *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_set_flags_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
queue_keywords_job (LbStore  *self,
                    GTask    *task,
                    gpointer  task_data)
{
  ChangeData *data = task_data;
  GError *error = NULL;

  if (!begin (self, LB_STORE_WRITE_NONE, &error))
    goto fail;

  for (guint i = 0; i < data->keys->len; i++)
    {
      Row row;
      gboolean ok = TRUE;

      if (!read_row (self, g_array_index (data->keys, gint64, i), &row, &error))
        {
          if (error != NULL)
            goto fail;
          continue;   /* gone meanwhile: nothing to tell */
        }
      if (!row.local)
        ok = queue_op (self, LB_STORE_OP_SET_KEYWORDS, row.path, row.uid, row.key, row.message_id,
                       data->add, data->remove, NULL, &error);
      row_clear (&row);
      if (!ok)
        goto fail;
    }

  if (!commit (self, &error))
    goto fail;
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  g_task_return_error (task, error);
}

/**
 * lb_store_queue_keywords_async:
 * @self: the store
 * @keys: (element-type gint64): the messages
 * @add: #LbStoreKeyword to add on the server
 * @remove: #LbStoreKeyword to remove there
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when queued
 * @user_data: data for @callback
 *
 * Queues an %LB_STORE_OP_SET_KEYWORDS for each message of a server
 * folder (those of local folders are skipped); the rows do not change.
 * Queued in call order with the other writes, it reaches the message in
 * whatever folder and under whatever UID the moves queued before and
 * after it leave it.
 */
void
lb_store_queue_keywords_async (LbStore             *self,
                               GArray              *keys,
                               guint                add,
                               guint                remove,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  ChangeData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (keys != NULL);

  data = g_new0 (ChangeData, 1);
  data->keys = g_array_ref (keys);
  data->add = add;
  data->remove = remove;

  push_job (self->writer,
            new_task (self, lb_store_queue_keywords_async, data, (GDestroyNotify) change_data_free,
                      cancellable, callback, user_data),
            queue_keywords_job);
}

gboolean
lb_store_queue_keywords_finish (LbStore       *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_queue_keywords_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Gives each local row's file a name in the target folder's Maildir and
 * makes the new names durable; the rows' old names are left to remove. */
static gboolean
link_into (LbStore    *self,
           GArray     *rows,
           gint64      target_folder_id,
           GPtrArray  *new_paths,
           GError    **error)
{
  LbMaildir *to = get_maildir (self, target_folder_id, error);

  if (to == NULL)
    return FALSE;

  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = &g_array_index (rows, Row, i);
      LbMaildir *from;
      char *new_path;

      if (row->location == NULL)
        continue;
      from = get_maildir (self, row->folder_id, error);
      if (from == NULL)
        return FALSE;
      new_path = lb_maildir_link_from (to, from, row->location, row->flags, error);
      if (new_path == NULL)
        {
          g_prefix_error (error, _("Could not move a message: "));
          return FALSE;
        }
      g_ptr_array_add (new_paths, new_path);
    }

  return new_paths->len == 0 || lb_maildir_sync (to, error);
}

static void
move_job (LbStore  *self,
          GTask    *task,
          gpointer  task_data)
{
  ChangeData *data = task_data;
  GError *error = NULL;
  g_autoptr(GArray) rows = g_array_new (FALSE, TRUE, sizeof (Row));
  g_autofree char *target_path = NULL;
  g_autoptr(GPtrArray) new_paths = g_ptr_array_new_with_free_func (g_free);
  gboolean target_local = FALSE;
  sqlite3_stmt *stmt;
  Changes changes;

  g_array_set_clear_func (rows, (GDestroyNotify) row_clear);
  changes_init (&changes);

  if (!begin (self, data->flags, &error))
    goto fail;
  target_path = folder_path_of (self, data->target_folder_id, &target_local, &error);
  if (target_path == NULL)
    goto fail;

  for (guint i = 0; i < data->keys->len; i++)
    {
      Row row;
      Row *r;

      if (!read_row (self, g_array_index (data->keys, gint64, i), &row, &error))
        {
          if (error != NULL)
            goto fail;
          continue;
        }
      if (row.folder_id == data->target_folder_id)
        {
          row_clear (&row);
          continue;
        }
      if (row.local != target_local)
        {
          /* between this computer and a server: the provider copies the
           * message (append, then delete), it is not a move here */
          g_set_error (&error, LB_STORE_ERROR, LB_STORE_ERROR_FAILED,
                       _("Messages cannot be moved between local and server folders directly"));
          row_clear (&row);
          goto fail;
        }

      /* the array owns the row from here, on every path */
      g_array_append_val (rows, row);
      r = &g_array_index (rows, Row, rows->len - 1);

      /* the server gives the moved message a new UID; until it is known
       * there is none */
      stmt = prepare (self->wdb, self->wstmts,
                      "UPDATE messages SET folder_id = ?2, uid = NULL WHERE id = ?1", &error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, r->key);
      sqlite3_bind_int64 (stmt, 2, data->target_folder_id);
      if (!step_done (self->wdb, stmt, &error))
        goto fail;

      if ((data->flags & LB_STORE_WRITE_QUEUE) && !r->local &&
          !queue_op (self, LB_STORE_OP_MOVE, r->path, r->uid, r->key, r->message_id,
                     0, 0, target_path, &error))
        goto fail;

      changes_add (&changes, LB_STORE_CHANGE_REMOVED, r->folder_id, r->key, r->date);
      changes_add (&changes, LB_STORE_CHANGE_ADDED, data->target_folder_id, r->key, r->date);
    }

  /* Local folders: each file gets a second name in the target Maildir,
   * made durable, before the rows say it is there; the old name goes
   * after the commit. A crash at any point leaves the message readable
   * where the store says it is (at worst with a spare copy). */
  if (target_local && !link_into (self, rows, data->target_folder_id, new_paths, &error))
    goto fail;

  if (!commit (self, &error))
    goto fail;

  /* the old names: each file is in the target folder now */
  for (guint i = 0; target_local && i < rows->len; i++)
    {
      Row *row = &g_array_index (rows, Row, i);
      g_autoptr(GError) remove_error = NULL;
      LbMaildir *from;

      if (row->location == NULL)
        continue;
      from = get_maildir (self, row->folder_id, &remove_error);
      if (from == NULL || !lb_maildir_remove (from, row->location, row->flags, &remove_error))
        g_warning ("Could not remove a moved message's old name: %s", remove_error->message);
    }

  changes_emit (self, &changes);
  changes_clear (&changes);
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  for (guint i = 0; i < new_paths->len; i++)
    g_unlink (new_paths->pdata[i]);
  changes_clear (&changes);
  g_task_return_error (task, error);
}

/**
 * lb_store_move_messages_async:
 * @self: the store
 * @keys: (element-type gint64): the messages
 * @target_folder_id: where to
 * @flags: %LB_STORE_WRITE_QUEUE to queue the move for the server
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Moves messages between two server folders or two local folders of the
 * account; they keep their keys.
 */
void
lb_store_move_messages_async (LbStore             *self,
                              GArray              *keys,
                              gint64               target_folder_id,
                              LbStoreWriteFlags    flags,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  ChangeData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (keys != NULL);

  data = g_new0 (ChangeData, 1);
  data->keys = g_array_ref (keys);
  data->target_folder_id = target_folder_id;
  data->flags = flags;

  push_job (self->writer,
            new_task (self, lb_store_move_messages_async, data, (GDestroyNotify) change_data_free,
                      cancellable, callback, user_data),
            move_job);
}

gboolean
lb_store_move_messages_finish (LbStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_move_messages_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static char *
body_cache_path (LbStore *self,
                 gint64   key)
{
  g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT ".eml", key);

  return g_build_filename (self->directory, "bodies", name, NULL);
}

/* Deletes the rows of @keys in the open transaction (a key not there is
 * skipped), queueing their deletion on the server with
 * %LB_STORE_WRITE_QUEUE; @rows gets what they were, for
 * remove_row_files() once committed. */
static gboolean
delete_rows_in (LbStore            *self,
                GArray             *keys,
                LbStoreWriteFlags   flags,
                GArray             *rows,
                Changes            *changes,
                GError            **error)
{
  for (guint i = 0; i < keys->len; i++)
    {
      GError *read_error = NULL;
      sqlite3_stmt *stmt;
      Row row;
      Row *r;

      if (!read_row (self, g_array_index (keys, gint64, i), &row, &read_error))
        {
          if (read_error != NULL)
            {
              g_propagate_error (error, read_error);
              return FALSE;
            }
          continue;
        }
      /* the array owns the row from here, on every path */
      g_array_append_val (rows, row);
      r = &g_array_index (rows, Row, rows->len - 1);

      stmt = prepare (self->wdb, self->wstmts, "DELETE FROM messages WHERE id = ?1", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, r->key);
      if (!step_done (self->wdb, stmt, error))
        return FALSE;

      if ((flags & LB_STORE_WRITE_QUEUE) && !r->local &&
          !queue_op (self, LB_STORE_OP_DELETE, r->path, r->uid, r->key, r->message_id,
                     0, 0, NULL, error))
        return FALSE;

      changes_add (changes, LB_STORE_CHANGE_REMOVED, r->folder_id, r->key, r->date);
    }
  return TRUE;
}

/* The files of rows deleted and committed: a crash before this leaves an
 * unreferenced file, never a row without its message. */
static void
remove_row_files (LbStore *self,
                  GArray  *rows)
{
  for (guint i = 0; i < rows->len; i++)
    {
      Row *row = &g_array_index (rows, Row, i);
      g_autoptr(GError) remove_error = NULL;

      if (row->local && row->location != NULL)
        {
          LbMaildir *maildir = get_maildir (self, row->folder_id, &remove_error);

          if (maildir != NULL)
            lb_maildir_remove (maildir, row->location, row->flags, &remove_error);
          if (remove_error != NULL && !g_error_matches (remove_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
            g_warning ("Could not remove a message file: %s", remove_error->message);
        }
      else if (row->location != NULL)
        {
          g_autofree char *path = body_cache_path (self, row->key);

          g_remove (path);
        }
    }
}

static void
delete_job (LbStore  *self,
            GTask    *task,
            gpointer  task_data)
{
  ChangeData *data = task_data;
  GError *error = NULL;
  g_autoptr(GArray) rows = g_array_new (FALSE, TRUE, sizeof (Row));
  sqlite3_stmt *stmt;
  Changes changes;

  g_array_set_clear_func (rows, (GDestroyNotify) row_clear);
  changes_init (&changes);

  if (!begin (self, data->flags, &error))
    goto fail;

  /* an expunge: the messages flagged deleted now, under the write lock,
   * so one undeleted a moment ago stays */
  if (data->expunge_folder_id != 0)
    {
      int rc;

      stmt = prepare (self->wdb, self->wstmts,
                      "SELECT id FROM messages WHERE folder_id = ?1 AND (flags & ?2) != 0", &error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, data->expunge_folder_id);
      sqlite3_bind_int64 (stmt, 2, LB_MESSAGE_DELETED);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          gint64 key = sqlite3_column_int64 (stmt, 0);

          g_array_append_val (data->keys, key);
        }
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        {
          set_sqlite_error (&error, self->wdb, rc, "expunge");
          goto fail;
        }
    }

  if (!delete_rows_in (self, data->keys, data->flags, rows, &changes, &error))
    goto fail;
  if (!commit (self, &error))
    goto fail;
  remove_row_files (self, rows);

  changes_emit (self, &changes);
  changes_clear (&changes);
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  changes_clear (&changes);
  g_task_return_error (task, error);
}

/**
 * lb_store_delete_messages_async:
 * @self: the store
 * @keys: (element-type gint64): the messages
 * @flags: %LB_STORE_WRITE_QUEUE to queue their deletion on the server
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Deletes messages for good: their rows, their index entries, their files
 * here. (Moving to Trash is a move.)
 */
void
lb_store_delete_messages_async (LbStore             *self,
                                GArray              *keys,
                                LbStoreWriteFlags    flags,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  ChangeData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (keys != NULL);

  data = g_new0 (ChangeData, 1);
  data->keys = g_array_ref (keys);
  data->flags = flags;

  push_job (self->writer,
            new_task (self, lb_store_delete_messages_async, data, (GDestroyNotify) change_data_free,
                      cancellable, callback, user_data),
            delete_job);
}

gboolean
lb_store_delete_messages_finish (LbStore       *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_delete_messages_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * lb_store_expunge_async:
 * @self: the store
 * @folder_id: the folder
 * @flags: %LB_STORE_WRITE_QUEUE to queue each deletion for the server
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Deletes for good the messages of a folder flagged %LB_MESSAGE_DELETED,
 * chosen and deleted in one transaction.
 */
void
lb_store_expunge_async (LbStore             *self,
                        gint64               folder_id,
                        LbStoreWriteFlags    flags,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  ChangeData *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = g_new0 (ChangeData, 1);
  data->keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  data->expunge_folder_id = folder_id;
  data->flags = flags;

  push_job (self->writer,
            new_task (self, lb_store_expunge_async, data, (GDestroyNotify) change_data_free,
                      cancellable, callback, user_data),
            delete_job);
}

gboolean
lb_store_expunge_finish (LbStore       *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_expunge_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

typedef struct
{
  gint64 key;
  GBytes *raw;
} BodyData;

static void
body_data_free (BodyData *data)
{
  g_clear_pointer (&data->raw, g_bytes_unref);
  g_free (data);
}

/* Keeps @raw as @row's cached body and marks the row cached, noting the
 * change in @changes. */
static gboolean
cache_row_body (LbStore    *self,
                const Row  *row,
                GBytes     *raw,
                Changes    *changes,
                GError    **error)
{
  g_autofree char *path = body_cache_path (self, row->key);

  /* a cache: the server has the message, so no fsync, only atomicity */
  if (!write_cache_file (path, raw, error))
    return FALSE;

  if (!mark_cached (self, row->key, error))
    return FALSE;

  changes_add (changes, LB_STORE_CHANGE_UPDATED, row->folder_id, row->key, row->date);
  return TRUE;
}

static void
cache_body_job (LbStore  *self,
                GTask    *task,
                gpointer  task_data)
{
  BodyData *data = task_data;
  GError *error = NULL;
  Row row;
  Changes changes;

  if (!read_row (self, data->key, &row, &error))
    {
      if (error == NULL)
        g_set_error (&error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND, _("The message no longer exists"));
      g_task_return_error (task, error);
      return;
    }

  changes_init (&changes);
  if (!cache_row_body (self, &row, data->raw, &changes, &error))
    {
      changes_clear (&changes);
      row_clear (&row);
      g_task_return_error (task, error);
      return;
    }
  changes_emit (self, &changes);
  changes_clear (&changes);
  row_clear (&row);
  g_task_return_boolean (task, TRUE);
}

/**
 * lb_store_cache_body_async:
 * @self: the store
 * @key: a message of a server folder
 * @raw: the whole message, as fetched
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Keeps a fetched message in the body cache beside the database.
 */
void
lb_store_cache_body_async (LbStore             *self,
                           gint64               key,
                           GBytes              *raw,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  BodyData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (raw != NULL);

  data = g_new0 (BodyData, 1);
  data->key = key;
  data->raw = g_bytes_ref (raw);

  push_job (self->writer,
            new_task (self, lb_store_cache_body_async, data, (GDestroyNotify) body_data_free,
                      cancellable, callback, user_data),
            cache_body_job);
}

gboolean
lb_store_cache_body_finish (LbStore       *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_cache_body_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Writes a body cache file: to a temporary name, then renamed over, so a
 * reader sees the old file or the whole new one. No fsync: the server
 * has the message, and a file a power failure cut short (empty, the usual
 * way of ext4 and others) counts as not downloaded when read. */
static gboolean
write_cache_file (const char  *path,
                  GBytes      *raw,
                  GError     **error)
{
  g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);
  gsize length;
  const guint8 *bytes = g_bytes_get_data (raw, &length);
  int fd;

  fd = g_open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    goto fail;
  while (length > 0)
    {
      gssize n = write (fd, bytes, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = n == 0 ? ENOSPC : errno;   /* write() of 0: no room */

          close (fd);
          errno = saved;
          goto fail;
        }
      bytes += n;
      length -= n;
    }
  if (close (fd) != 0 || g_rename (tmp, path) != 0)
    goto fail;
  return TRUE;

fail:
  {
    int saved = errno;

    g_unlink (tmp);
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                 _("Could not save a message in “%s”: %s"), path, g_strerror (saved));
    return FALSE;
  }
}

typedef struct
{
  GArray    *keys;    /* gint64 */
  GPtrArray *raws;    /* GBytes */
} BodiesData;

static void
bodies_data_free (BodiesData *data)
{
  g_clear_pointer (&data->keys, g_array_unref);
  g_clear_pointer (&data->raws, g_ptr_array_unref);
  g_free (data);
}

static void
cache_bodies_job (LbStore  *self,
                  GTask    *task,
                  gpointer  task_data)
{
  BodiesData *data = task_data;
  GError *error = NULL;
  Changes changes;

  changes_init (&changes);
  if (!begin (self, LB_STORE_WRITE_NONE, &error))
    goto fail;

  for (guint i = 0; i < data->keys->len; i++)
    {
      Row row;
      gboolean ok;

      /* deleted meanwhile: nothing to keep */
      if (!read_row (self, g_array_index (data->keys, gint64, i), &row, &error))
        {
          if (error != NULL)
            goto rollback;
          continue;
        }
      ok = row.local || cache_row_body (self, &row, data->raws->pdata[i], &changes, &error);
      row_clear (&row);
      if (!ok)
        goto rollback;
    }

  if (!commit (self, &error))
    goto rollback;
  changes_emit (self, &changes);
  changes_clear (&changes);
  g_task_return_boolean (task, TRUE);
  return;

rollback:
  rollback (self);
fail:
  changes_clear (&changes);
  g_task_return_error (task, error);
}

/**
 * lb_store_cache_bodies_async:
 * @self: the store
 * @keys: (element-type gint64): messages of server folders
 * @raws: (element-type GBytes): their whole raw messages, as fetched
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * lb_store_cache_body_async() for many messages in one transaction: what
 * a download for offline reading uses. Messages deleted meanwhile are
 * skipped.
 */
void
lb_store_cache_bodies_async (LbStore             *self,
                             GArray              *keys,
                             GPtrArray           *raws,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  BodiesData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (keys != NULL && raws != NULL && keys->len == raws->len);

  data = g_new0 (BodiesData, 1);
  data->keys = g_array_ref (keys);
  data->raws = g_ptr_array_ref (raws);

  push_job (self->writer,
            new_task (self, lb_store_cache_bodies_async, data, (GDestroyNotify) bodies_data_free,
                      cancellable, callback, user_data),
            cache_bodies_job);
}

gboolean
lb_store_cache_bodies_finish (LbStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_cache_bodies_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------ reading */

static void
get_message_job (LbStore  *self,
                 GTask    *task,
                 gpointer  task_data)
{
  GError *error = NULL;
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "SELECT " SUMMARY_COLUMNS " FROM messages m WHERE m.id = ?1", &error);
  g_autoptr(GPtrArray) rows = NULL;

  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, *(gint64 *) task_data);
  rows = read_summaries (self->wdb, stmt, &error);
  if (rows == NULL)
    g_task_return_error (task, error);
  else if (rows->len == 0)
    g_task_return_new_error (task, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND,
                             _("The message no longer exists"));
  else
    g_task_return_pointer (task, lb_message_summary_ref (rows->pdata[0]),
                           (GDestroyNotify) lb_message_summary_unref);
}

void
lb_store_get_message_async (LbStore             *self,
                            gint64               key,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (LB_IS_STORE (self));

  push_job (self->writer,
            new_task (self, lb_store_get_message_async, g_memdup2 (&key, sizeof key), g_free,
                      cancellable, callback, user_data),
            get_message_job);
}

/**
 * lb_store_get_message_finish:
 *
 * Returns: (transfer full): the message's summary
 */
LbMessageSummary *
lb_store_get_message_finish (LbStore       *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_get_message_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
read_message_job (LbStore  *self,
                  GTask    *task,
                  gpointer  task_data)
{
  gint64 key = *(gint64 *) task_data;
  GError *error = NULL;
  GBytes *bytes = NULL;
  Row row;

  /* on the writer: it owns the Maildir objects, and a read must see the
   * file where the last write put it */
  if (!read_row (self, key, &row, &error))
    {
      if (error == NULL)
        g_set_error (&error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND, _("The message no longer exists"));
      g_task_return_error (task, error);
      return;
    }

  if (row.location == NULL)
    g_set_error (&error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FETCHED,
                 _("The message has not been downloaded yet"));
  else if (row.local)
    {
      LbMaildir *maildir = get_maildir (self, row.folder_id, &error);

      if (maildir != NULL)
        bytes = lb_maildir_read (maildir, row.location, row.flags, &error);
    }
  else
    {
      g_autofree char *path = body_cache_path (self, key);
      g_autoptr(GMappedFile) file = g_mapped_file_new (path, FALSE, &error);

      /* an empty file is one a power failure cut short (see
       * write_cache_file()): not downloaded */
      if (file != NULL && g_mapped_file_get_length (file) > 0)
        bytes = g_mapped_file_get_bytes (file);
      else
        {
          g_clear_error (&error);
          g_set_error (&error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FETCHED,
                       _("The message has not been downloaded yet"));
        }
    }

  row_clear (&row);
  if (bytes == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
}

/**
 * lb_store_read_message_async:
 *
 * Reads the whole message from its Maildir file or the body cache.
 * %LB_STORE_ERROR_NOT_FETCHED when a server message was not downloaded.
 */
void
lb_store_read_message_async (LbStore             *self,
                             gint64               key,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (LB_IS_STORE (self));

  push_job (self->writer,
            new_task (self, lb_store_read_message_async, g_memdup2 (&key, sizeof key), g_free,
                      cancellable, callback, user_data),
            read_message_job);
}

/**
 * lb_store_read_message_finish:
 *
 * Returns: (transfer full): the message's bytes
 */
GBytes *
lb_store_read_message_finish (LbStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_read_message_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  gint64 folder_id;
  guint offset;
  guint limit;
  gboolean keyset;
  gint64 date;
  gint64 key;
  char *text;
  GArray *positions;
  gboolean conversations;   /* count_before_job(), list_positions_job() */
  gint64 thread_id;
} ReadData;

static void
read_data_free (ReadData *data)
{
  g_free (data->text);
  g_clear_pointer (&data->positions, g_array_unref);
  g_free (data);
}

static void
list_messages_job (LbStore  *self,
                   GTask    *task,
                   gpointer  task_data)
{
  ReadData *data = task_data;
  GError *error = NULL;
  sqlite3_stmt *stmt;
  GPtrArray *rows;

  if (data->keyset)
    {
      stmt = prepare (self->wdb, self->wstmts,
                      "SELECT " SUMMARY_COLUMNS " FROM messages m"
                      " WHERE m.folder_id = ?1 AND (m.date, m.id) < (?2, ?3)"
                      " ORDER BY m.date DESC, m.id DESC LIMIT ?4", &error);
      if (stmt != NULL)
        {
          sqlite3_bind_int64 (stmt, 2, data->date);
          sqlite3_bind_int64 (stmt, 3, data->key);
          sqlite3_bind_int64 (stmt, 4, data->limit);
        }
    }
  else
    {
      /* the offset is skipped in the covering date index alone; only the
       * rows of the page are read from the table */
      stmt = prepare (self->wdb, self->wstmts,
                      "SELECT " SUMMARY_COLUMNS " FROM messages m WHERE m.id IN"
                      " (SELECT id FROM messages WHERE folder_id = ?1"
                      "  ORDER BY date DESC, id DESC LIMIT ?2 OFFSET ?3)"
                      " ORDER BY m.date DESC, m.id DESC", &error);
      if (stmt != NULL)
        {
          sqlite3_bind_int64 (stmt, 2, data->limit);
          sqlite3_bind_int64 (stmt, 3, data->offset);
        }
    }
  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, data->folder_id);

  rows = read_summaries (self->wdb, stmt, &error);
  if (rows == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, rows, (GDestroyNotify) g_ptr_array_unref);
}

/**
 * lb_store_list_messages_async:
 * @self: the store
 * @folder_id: the folder
 * @offset: rows to skip
 * @limit: rows to return at most
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the rows
 * @user_data: data for @callback
 *
 * Reads a page of a folder's list, newest first (by date, then key).
 */
void
lb_store_list_messages_async (LbStore             *self,
                              gint64               folder_id,
                              guint                offset,
                              guint                limit,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  ReadData *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = g_new0 (ReadData, 1);
  data->folder_id = folder_id;
  data->offset = offset;
  data->limit = limit;

  push_job (self->writer,
            new_task (self, lb_store_list_messages_async, data, (GDestroyNotify) read_data_free,
                      cancellable, callback, user_data),
            list_messages_job);
}

/**
 * lb_store_list_messages_before_async:
 * @self: the store
 * @folder_id: the folder
 * @date: the date of the last row the caller has
 * @key: the key of that row
 * @limit: rows to return at most
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the rows; finish with lb_store_list_messages_finish()
 * @user_data: data for @callback
 *
 * Reads the page that follows the row (@date, @key) in the folder's list
 * (keyset paging: as fast deep in the list as at its top).
 */
void
lb_store_list_messages_before_async (LbStore             *self,
                                     gint64               folder_id,
                                     gint64               date,
                                     gint64               key,
                                     guint                limit,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  ReadData *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = g_new0 (ReadData, 1);
  data->folder_id = folder_id;
  data->keyset = TRUE;
  data->date = date;
  data->key = key;
  data->limit = limit;

  push_job (self->writer,
            new_task (self, lb_store_list_messages_async, data, (GDestroyNotify) read_data_free,
                      cancellable, callback, user_data),
            list_messages_job);
}

/**
 * lb_store_list_messages_finish:
 *
 * Returns: (transfer container) (element-type LbMessageSummary): the rows
 */
GPtrArray *
lb_store_list_messages_finish (LbStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_list_messages_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
count_before_job (LbStore  *self,
                  GTask    *task,
                  gpointer  task_data)
{
  ReadData *data = task_data;
  GError *error = NULL;
  g_autoptr(GArray) counts = g_array_sized_new (FALSE, FALSE, sizeof (guint), data->positions->len);
  sqlite3_stmt *stmt = data->conversations
    ? prepare (self->wdb, self->wstmts,
               "SELECT count(*) FROM conversations"
               " WHERE folder_id = ?1 AND (date, key) > (?2, ?3)", &error)
    : prepare (self->wdb, self->wstmts,
               "SELECT count(*) FROM messages"
               " WHERE folder_id = ?1 AND (date, id) > (?2, ?3)", &error);

  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  for (guint i = 0; i < data->positions->len; i++)
    {
      LbStorePosition *position = &g_array_index (data->positions, LbStorePosition, i);
      guint count = 0;
      int rc;

      sqlite3_bind_int64 (stmt, 1, data->folder_id);
      sqlite3_bind_int64 (stmt, 2, position->date);
      sqlite3_bind_int64 (stmt, 3, position->key);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        count = (guint) sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
      if (rc != SQLITE_ROW)
        {
          set_sqlite_error (&error, self->wdb, rc, "count");
          g_task_return_error (task, error);
          return;
        }
      g_array_append_val (counts, count);
    }
  g_task_return_pointer (task, g_steal_pointer (&counts), (GDestroyNotify) g_array_unref);
}

/**
 * lb_store_count_before_async:
 * @self: the store
 * @folder_id: the folder
 * @positions: (element-type LbStorePosition): places in the folder's list
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the counts
 * @user_data: data for @callback
 *
 * Counts, for each place, the rows the folder's list has before it: the
 * index a message at that place has (or had, or would have).
 */
void
lb_store_count_before_async (LbStore             *self,
                             gint64               folder_id,
                             GArray              *positions,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  ReadData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (positions != NULL);

  data = g_new0 (ReadData, 1);
  data->folder_id = folder_id;
  data->positions = g_array_ref (positions);

  push_job (self->writer,
            new_task (self, lb_store_count_before_async, data, (GDestroyNotify) read_data_free,
                      cancellable, callback, user_data),
            count_before_job);
}

/**
 * lb_store_count_before_finish:
 *
 * Returns: (transfer full) (element-type guint): a count per place
 */
GArray *
lb_store_count_before_finish (LbStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_count_before_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
list_positions_job (LbStore  *self,
                    GTask    *task,
                    gpointer  task_data)
{
  ReadData *data = task_data;
  GError *error = NULL;
  g_autoptr(GArray) positions = g_array_new (FALSE, FALSE, sizeof (LbStorePosition));
  sqlite3_stmt *stmt = data->conversations
    ? prepare (self->wdb, self->wstmts,
               "SELECT date, key FROM conversations WHERE folder_id = ?1"
               " ORDER BY date DESC, key DESC LIMIT ?2", &error)
    : prepare (self->wdb, self->wstmts,
               "SELECT date, id FROM messages WHERE folder_id = ?1"
               " ORDER BY date DESC, id DESC LIMIT ?2", &error);
  int rc;

  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  sqlite3_bind_int64 (stmt, 2, data->limit);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      LbStorePosition position = { sqlite3_column_int64 (stmt, 0), sqlite3_column_int64 (stmt, 1) };

      g_array_append_val (positions, position);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (&error, self->wdb, rc, "positions");
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&positions), (GDestroyNotify) g_array_unref);
}

/**
 * lb_store_list_positions_async:
 * @self: the store
 * @folder_id: the folder
 * @limit: how many rows
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the places
 * @user_data: data for @callback
 *
 * Reads the places (date and key) of the first @limit rows of a folder's
 * list, from the date index alone: 16 bytes a row, for merging the lists
 * of several folders deep down without reading their rows. On the writer,
 * like the list's other reads.
 */
void
lb_store_list_positions_async (LbStore             *self,
                               gint64               folder_id,
                               guint                limit,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  ReadData *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = g_new0 (ReadData, 1);
  data->folder_id = folder_id;
  data->limit = limit;

  push_job (self->writer,
            new_task (self, lb_store_list_positions_async, data, (GDestroyNotify) read_data_free,
                      cancellable, callback, user_data),
            list_positions_job);
}

/**
 * lb_store_list_positions_finish:
 *
 * Returns: (transfer full) (element-type LbStorePosition): the places,
 *   in list order
 */
GArray *
lb_store_list_positions_finish (LbStore       *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_list_positions_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------ conversations: reads */

/**
 * lb_store_conversation_free:
 * @conversation: (nullable): a conversation
 */
void
lb_store_conversation_free (LbStoreConversation *conversation)
{
  if (conversation == NULL)
    return;
  g_clear_pointer (&conversation->newest, lb_message_summary_unref);
  g_free (conversation);
}

#define CONVERSATION_COLUMNS SUMMARY_COLUMNS ", c.total, c.unread, c.flagged, c.attachments"

static GPtrArray *
read_conversations (sqlite3       *db,
                    sqlite3_stmt  *stmt,
                    GError       **error)
{
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_store_conversation_free);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      LbStoreConversation *conversation = g_new0 (LbStoreConversation, 1);

      conversation->newest = read_summary (stmt);
      conversation->n_messages = (guint) MAX (0, sqlite3_column_int64 (stmt, 22));
      conversation->n_unread = (guint) MAX (0, sqlite3_column_int64 (stmt, 23));
      conversation->n_flagged = (guint) MAX (0, sqlite3_column_int64 (stmt, 24));
      conversation->n_attachments = (guint) MAX (0, sqlite3_column_int64 (stmt, 25));
      g_ptr_array_add (rows, conversation);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, db, rc, "conversations");
      return NULL;
    }
  return g_steal_pointer (&rows);
}

static void
list_conversations_job (LbStore  *self,
                        GTask    *task,
                        gpointer  task_data)
{
  ReadData *data = task_data;
  GError *error = NULL;
  sqlite3_stmt *stmt;
  GPtrArray *rows;

  /* the offset is skipped in the date index alone; only the page's
   * conversations and newest messages are read */
  stmt = prepare (self->wdb, self->wstmts,
                  "SELECT " CONVERSATION_COLUMNS " FROM"
                  " (SELECT key FROM conversations WHERE folder_id = ?1"
                  "  ORDER BY date DESC, key DESC LIMIT ?2 OFFSET ?3) p"
                  " CROSS JOIN messages m ON m.id = p.key"
                  " CROSS JOIN conversations c ON c.folder_id = m.folder_id AND c.thread_id = m.thread_id"
                  " ORDER BY m.date DESC, m.id DESC", &error);
  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  sqlite3_bind_int64 (stmt, 2, data->limit);
  sqlite3_bind_int64 (stmt, 3, data->offset);

  rows = read_conversations (self->wdb, stmt, &error);
  if (rows == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, rows, (GDestroyNotify) g_ptr_array_unref);
}

/**
 * lb_store_list_conversations_async:
 * @self: the store
 * @folder_id: the folder
 * @offset: conversations to skip
 * @limit: conversations to return at most
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the conversations
 * @user_data: data for @callback
 *
 * Reads a page of a folder's conversations: one per thread that has
 * messages in the folder, newest first (by the date, then the key, of
 * each one's newest message there). On the writer, like the message
 * list's other reads: it sees exactly the writes announced before it.
 */
void
lb_store_list_conversations_async (LbStore             *self,
                                   gint64               folder_id,
                                   guint                offset,
                                   guint                limit,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  ReadData *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = g_new0 (ReadData, 1);
  data->folder_id = folder_id;
  data->offset = offset;
  data->limit = limit;

  push_job (self->writer,
            new_task (self, lb_store_list_conversations_async, data, (GDestroyNotify) read_data_free,
                      cancellable, callback, user_data),
            list_conversations_job);
}

/**
 * lb_store_list_conversations_finish:
 *
 * Returns: (transfer container) (element-type LbStoreConversation): the
 *   conversations
 */
GPtrArray *
lb_store_list_conversations_finish (LbStore       *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_list_conversations_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
count_conversations_job (LbStore  *self,
                         GTask    *task,
                         gpointer  task_data)
{
  ReadData *data = task_data;
  GError *error = NULL;
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "SELECT count(*) FROM conversations WHERE folder_id = ?1", &error);
  gint64 count = 0;
  int rc;

  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    count = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (&error, self->wdb, rc, "count");
      g_task_return_error (task, error);
      return;
    }
  g_task_return_int (task, (gssize) count);
}

/**
 * lb_store_count_conversations_async:
 * @self: the store
 * @folder_id: the folder
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the count
 * @user_data: data for @callback
 *
 * Counts a folder's conversations (on the writer).
 */
void
lb_store_count_conversations_async (LbStore             *self,
                                    gint64               folder_id,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  ReadData *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = g_new0 (ReadData, 1);
  data->folder_id = folder_id;

  push_job (self->writer,
            new_task (self, lb_store_count_conversations_async, data, (GDestroyNotify) read_data_free,
                      cancellable, callback, user_data),
            count_conversations_job);
}

/**
 * lb_store_count_conversations_finish:
 * @count: (out): the folder's conversations
 *
 * Returns: whether they were counted
 */
gboolean
lb_store_count_conversations_finish (LbStore       *self,
                                     GAsyncResult  *result,
                                     guint         *count,
                                     GError       **error)
{
  gssize n;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_count_conversations_async, FALSE);

  n = g_task_propagate_int (G_TASK (result), error);
  if (n < 0)
    return FALSE;
  if (count != NULL)
    *count = (guint) n;
  return TRUE;
}

/**
 * lb_store_count_conversations_before_async:
 * @self: the store
 * @folder_id: the folder
 * @positions: (element-type LbStorePosition): places in the folder's list
 *   of conversations
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the counts
 * @user_data: data for @callback
 *
 * lb_store_count_before_async() for the folder's conversations: for each
 * place, how many conversations come before it.
 */
void
lb_store_count_conversations_before_async (LbStore             *self,
                                           gint64               folder_id,
                                           GArray              *positions,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  ReadData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (positions != NULL);

  data = g_new0 (ReadData, 1);
  data->folder_id = folder_id;
  data->positions = g_array_ref (positions);
  data->conversations = TRUE;

  push_job (self->writer,
            new_task (self, lb_store_count_conversations_before_async, data,
                      (GDestroyNotify) read_data_free, cancellable, callback, user_data),
            count_before_job);
}

/**
 * lb_store_count_conversations_before_finish:
 *
 * Returns: (transfer full) (element-type guint): a count per place
 */
GArray *
lb_store_count_conversations_before_finish (LbStore       *self,
                                            GAsyncResult  *result,
                                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        lb_store_count_conversations_before_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lb_store_list_conversation_positions_async:
 * @self: the store
 * @folder_id: the folder
 * @limit: how many conversations
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the places
 * @user_data: data for @callback
 *
 * lb_store_list_positions_async() for the folder's conversations.
 */
void
lb_store_list_conversation_positions_async (LbStore             *self,
                                            gint64               folder_id,
                                            guint                limit,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  ReadData *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = g_new0 (ReadData, 1);
  data->folder_id = folder_id;
  data->limit = limit;
  data->conversations = TRUE;

  push_job (self->writer,
            new_task (self, lb_store_list_conversation_positions_async, data,
                      (GDestroyNotify) read_data_free, cancellable, callback, user_data),
            list_positions_job);
}

/**
 * lb_store_list_conversation_positions_finish:
 *
 * Returns: (transfer full) (element-type LbStorePosition): the places,
 *   in list order
 */
GArray *
lb_store_list_conversation_positions_finish (LbStore       *self,
                                             GAsyncResult  *result,
                                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        lb_store_list_conversation_positions_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
get_conversation_job (LbStore  *self,
                      GTask    *task,
                      gpointer  task_data)
{
  ReadData *data = task_data;
  GError *error = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "SELECT " CONVERSATION_COLUMNS " FROM messages x"
                                " CROSS JOIN conversations c ON c.folder_id = x.folder_id"
                                "  AND c.thread_id = x.thread_id"
                                " CROSS JOIN messages m ON m.id = c.key"
                                " WHERE x.id = ?1", &error);

  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, data->key);
  rows = read_conversations (self->wdb, stmt, &error);
  if (rows == NULL)
    g_task_return_error (task, error);
  else if (rows->len == 0)
    g_task_return_new_error (task, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND,
                             _("The message no longer exists"));
  else
    g_task_return_pointer (task, g_ptr_array_steal_index (rows, 0),
                           (GDestroyNotify) lb_store_conversation_free);
}

/**
 * lb_store_get_conversation_async:
 * @self: the store
 * @key: a message
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the conversation
 * @user_data: data for @callback
 *
 * Reads the conversation a message is part of in its folder (on the
 * writer). %LB_STORE_ERROR_NOT_FOUND when the message is gone.
 */
void
lb_store_get_conversation_async (LbStore             *self,
                                 gint64               key,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  ReadData *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = g_new0 (ReadData, 1);
  data->key = key;

  push_job (self->writer,
            new_task (self, lb_store_get_conversation_async, data, (GDestroyNotify) read_data_free,
                      cancellable, callback, user_data),
            get_conversation_job);
}

/**
 * lb_store_get_conversation_finish:
 *
 * Returns: (transfer full): the conversation
 */
LbStoreConversation *
lb_store_get_conversation_finish (LbStore       *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_get_conversation_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
list_conversation_messages_job (LbStore  *self,
                                GTask    *task,
                                gpointer  task_data)
{
  ReadData *data = task_data;
  GError *error = NULL;
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "SELECT " SUMMARY_COLUMNS " FROM messages m INDEXED BY messages_by_thread"
                                " WHERE m.thread_id = ?1 AND m.folder_id = ?2"
                                " ORDER BY m.date, m.id", &error);
  GPtrArray *rows;

  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, data->thread_id);
  sqlite3_bind_int64 (stmt, 2, data->folder_id);
  rows = read_summaries (self->wdb, stmt, &error);
  if (rows == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, rows, (GDestroyNotify) g_ptr_array_unref);
}

/**
 * lb_store_list_conversation_messages_async:
 * @self: the store
 * @folder_id: the folder
 * @thread_id: the thread (#LbMessageSummary.thread_id)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the messages
 * @user_data: data for @callback
 *
 * Reads the messages of a conversation: those of the thread that are in
 * the folder, oldest first (by date, then key). Unlike
 * lb_store_get_thread_async(), which reads the thread in every folder,
 * this is what a conversation row of the folder stands for: what to show
 * when it is opened, what an action on the row applies to.
 */
void
lb_store_list_conversation_messages_async (LbStore             *self,
                                           gint64               folder_id,
                                           gint64               thread_id,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data)
{
  ReadData *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = g_new0 (ReadData, 1);
  data->folder_id = folder_id;
  data->thread_id = thread_id;

  push_job (self->writer,
            new_task (self, lb_store_list_conversation_messages_async, data,
                      (GDestroyNotify) read_data_free, cancellable, callback, user_data),
            list_conversation_messages_job);
}

/**
 * lb_store_list_conversation_messages_finish:
 *
 * Returns: (transfer container) (element-type LbMessageSummary): the
 *   messages, oldest first
 */
GPtrArray *
lb_store_list_conversation_messages_finish (LbStore       *self,
                                            GAsyncResult  *result,
                                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        lb_store_list_conversation_messages_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * lb_store_make_fts_query:
 * @text: what the user typed
 *
 * Turns search text into an FTS5 query that matches messages containing
 * every word, the last one as a prefix (search as you type). Each word is
 * quoted, so nothing the user types is taken as FTS syntax.
 *
 * Returns: (transfer full) (nullable): the query, %NULL if @text has no words
 */
char *
lb_store_make_fts_query (const char *text)
{
  g_auto(GStrv) words = NULL;
  GString *query = g_string_new (NULL);
  guint n = 0;

  g_return_val_if_fail (text != NULL, NULL);

  words = g_strsplit_set (text, " \t\r\n", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (*words[i] == '\0')
        continue;
      if (n++ > 0)
        g_string_append_c (query, ' ');
      g_string_append_c (query, '"');
      for (const char *p = words[i]; *p; p++)
        {
          if (*p == '"')
            g_string_append_c (query, '"');
          g_string_append_c (query, *p);
        }
      g_string_append_c (query, '"');
    }
  if (n == 0)
    {
      g_string_free (query, TRUE);
      return NULL;
    }
  g_string_append_c (query, '*');
  return g_string_free (query, FALSE);
}

static void
search_job (LbStore  *self,
            GTask    *task,
            gpointer  task_data)
{
  ReadData *data = task_data;
  GError *error = NULL;
  g_autofree char *query = lb_store_make_fts_query (data->text);
  sqlite3_stmt *stmt;
  GPtrArray *rows;

  if (query == NULL)
    {
      g_task_return_pointer (task, g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref),
                             (GDestroyNotify) g_ptr_array_unref);
      return;
    }

  /* Newest first: walk a date index and keep the rows the full-text index
   * matched, stopping at the limit. Sorting every match instead costs far
   * more for a common word (all of 100,000 messages for "re"). */
  if (data->folder_id == 0)
    stmt = prepare (self->rdb, self->rstmts,
                    "SELECT " SUMMARY_COLUMNS " FROM messages m INDEXED BY messages_by_date_all"
                    " WHERE m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1)"
                    " AND ?2 = 0"
                    " ORDER BY m.date DESC, m.id DESC LIMIT ?3", &error);
  else
    stmt = prepare (self->rdb, self->rstmts,
                    "SELECT " SUMMARY_COLUMNS " FROM messages m INDEXED BY messages_by_date"
                    " WHERE m.folder_id = ?2"
                    " AND m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1)"
                    " ORDER BY m.date DESC, m.id DESC LIMIT ?3", &error);
  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  bind_text (stmt, 1, query);
  sqlite3_bind_int64 (stmt, 2, data->folder_id);
  sqlite3_bind_int64 (stmt, 3, data->limit);

  rows = read_summaries (self->rdb, stmt, &error);
  if (rows == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, rows, (GDestroyNotify) g_ptr_array_unref);
}

/**
 * lb_store_search_async:
 * @self: the store
 * @text: what the user typed: words to find in subject, addresses or text
 * @folder_id: the folder to search, 0 for all of the account's
 * @limit: rows to return at most
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the rows
 * @user_data: data for @callback
 *
 * Finds the messages that contain every word of @text, newest first.
 */
void
lb_store_search_async (LbStore             *self,
                       const char          *text,
                       gint64               folder_id,
                       guint                limit,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  ReadData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (text != NULL);

  data = g_new0 (ReadData, 1);
  data->text = g_strdup (text);
  data->folder_id = folder_id;
  data->limit = limit;

  push_job (self->reader,
            new_task (self, lb_store_search_async, data, (GDestroyNotify) read_data_free,
                      cancellable, callback, user_data),
            search_job);
}

/**
 * lb_store_search_finish:
 *
 * Returns: (transfer container) (element-type LbMessageSummary): the rows
 */
GPtrArray *
lb_store_search_finish (LbStore       *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_search_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
get_thread_job (LbStore  *self,
                GTask    *task,
                gpointer  task_data)
{
  GError *error = NULL;
  sqlite3_stmt *stmt = prepare (self->rdb, self->rstmts,
                                "SELECT " SUMMARY_COLUMNS " FROM messages m WHERE m.thread_id = ?1"
                                " ORDER BY m.date, m.id", &error);
  GPtrArray *rows;

  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, *(gint64 *) task_data);
  rows = read_summaries (self->rdb, stmt, &error);
  if (rows == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, rows, (GDestroyNotify) g_ptr_array_unref);
}

/**
 * lb_store_get_thread_async:
 *
 * Reads the messages of a thread, in any of the account's folders,
 * oldest first.
 */
void
lb_store_get_thread_async (LbStore             *self,
                           gint64               thread_id,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (LB_IS_STORE (self));

  push_job (self->reader,
            new_task (self, lb_store_get_thread_async, g_memdup2 (&thread_id, sizeof thread_id),
                      g_free, cancellable, callback, user_data),
            get_thread_job);
}

/**
 * lb_store_get_thread_finish:
 *
 * Returns: (transfer container) (element-type LbMessageSummary): the rows
 */
GPtrArray *
lb_store_get_thread_finish (LbStore       *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_get_thread_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------ server folders in step */

/**
 * lb_store_uid_state_clear:
 * @state: an #LbStoreUidState
 *
 * Frees what @state owns (its keywords); the clear function of the arrays
 * of #LbStoreUidState.
 */
void
lb_store_uid_state_clear (LbStoreUidState *state)
{
  g_clear_pointer (&state->keywords, g_free);
}

/**
 * lb_store_uid_state_array_new:
 * @reserved: how many elements to make room for
 *
 * Returns: (transfer full) (element-type LbStoreUidState): an empty array
 *   that frees its elements' keywords
 */
GArray *
lb_store_uid_state_array_new (guint reserved)
{
  GArray *states = g_array_sized_new (FALSE, TRUE, sizeof (LbStoreUidState), reserved);

  g_array_set_clear_func (states, (GDestroyNotify) lb_store_uid_state_clear);
  return states;
}

typedef struct
{
  gint64     folder_id;
  gint64     key;
  guint32    uid;          /* set_uid; reset_folder: the new UIDVALIDITY */
  gint64     since;
  guint      limit;
  GArray    *array;        /* LbStoreUidState, guint32 UIDs or gint64 keys */
} SyncData;

static void
sync_data_free (SyncData *data)
{
  g_clear_pointer (&data->array, g_array_unref);
  g_free (data);
}

static SyncData *
sync_data_new (gint64 folder_id)
{
  SyncData *data = g_new0 (SyncData, 1);

  data->folder_id = folder_id;
  return data;
}

/* Whether the folder exists (and whether it is local), in the writer's
 * view. */
static gboolean
check_folder (LbStore   *self,
              gint64     folder_id,
              gboolean  *local,
              GError   **error)
{
  g_autofree char *path = folder_path_of (self, folder_id, local, error);

  return path != NULL;
}

/* Steps a DELETE ... RETURNING id, date, location to its end: each row it
 * removed is announced, and those with a cached body are noted in @bodies
 * (keys, gint64) to remove after the commit. */
static gboolean
step_removed (LbStore       *self,
              sqlite3_stmt  *stmt,
              gint64         folder_id,
              Changes       *changes,
              GArray        *bodies,
              guint         *count,
              GError       **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 key = sqlite3_column_int64 (stmt, 0);

      changes_add (changes, LB_STORE_CHANGE_REMOVED, folder_id, key, sqlite3_column_int64 (stmt, 1));
      if (sqlite3_column_type (stmt, 2) != SQLITE_NULL)
        g_array_append_val (bodies, key);
      if (count != NULL)
        (*count)++;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->wdb, rc, "remove");
      return FALSE;
    }
  return TRUE;
}

/* After the commit: the bodies of the rows that went. (A crash before
 * this leaves unreferenced files, never a row without its body.) */
static void
remove_bodies (LbStore *self,
               GArray  *bodies)
{
  for (guint i = 0; i < bodies->len; i++)
    {
      g_autofree char *path = body_cache_path (self, g_array_index (bodies, gint64, i));

      if (g_remove (path) != 0 && errno != ENOENT)
        g_warning ("Could not remove the cached message “%s”: %s", path, g_strerror (errno));
    }
}

static void
list_uids_job (LbStore  *self,
               GTask    *task,
               gpointer  task_data)
{
  SyncData *data = task_data;
  GError *error = NULL;
  g_autoptr(GArray) states = NULL;
  sqlite3_stmt *stmt;
  gint64 total = -1;
  int rc;

  /* the folder's count sizes the array: one allocation */
  stmt = prepare (self->wdb, self->wstmts, "SELECT total FROM folders WHERE id = ?1", &error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    total = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (total < 0)
    {
      g_set_error (&error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND, _("The folder no longer exists"));
      goto fail;
    }
  states = lb_store_uid_state_array_new ((guint) MIN (total, G_MAXUINT32));

  stmt = prepare (self->wdb, self->wstmts,
                  "SELECT uid, flags, id, keywords FROM messages INDEXED BY messages_by_uid"
                  " WHERE folder_id = ?1 AND uid IS NOT NULL ORDER BY uid", &error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *keywords = (const char *) sqlite3_column_text (stmt, 3);
      LbStoreUidState state;

      state.uid = (guint32) sqlite3_column_int64 (stmt, 0);
      state.flags = (guint) sqlite3_column_int64 (stmt, 1);
      state.key = sqlite3_column_int64 (stmt, 2);
      state.keywords = keywords != NULL && *keywords != '\0' ? g_strdup (keywords) : NULL;
      g_array_append_val (states, state);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (&error, self->wdb, rc, "uids");
      goto fail;
    }

  g_task_return_pointer (task, g_steal_pointer (&states), (GDestroyNotify) g_array_unref);
  return;

fail:
  g_task_return_error (task, error);
}

/**
 * lb_store_list_uids_async:
 * @self: the store
 * @folder_id: a server folder
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the UIDs
 * @user_data: data for @callback
 *
 * Reads the UID, flags, keywords and key of every message of the folder
 * that has a UID, in ascending UID order, for a sync to compare with the
 * server's. Fast (one pass over the UID index; 100,000 rows take some
 * tens of milliseconds). On the writer: it sees every write asked before.
 */
void
lb_store_list_uids_async (LbStore             *self,
                          gint64               folder_id,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_return_if_fail (LB_IS_STORE (self));

  push_job (self->writer,
            new_task (self, lb_store_list_uids_async, sync_data_new (folder_id),
                      (GDestroyNotify) sync_data_free, cancellable, callback, user_data),
            list_uids_job);
}

/**
 * lb_store_list_uids_finish:
 *
 * Returns: (transfer full) (element-type LbStoreUidState): the messages,
 *   by ascending UID, in an array that frees their keywords
 */
GArray *
lb_store_list_uids_finish (LbStore       *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_list_uids_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
keys_for_uids_job (LbStore  *self,
                   GTask    *task,
                   gpointer  task_data)
{
  SyncData *data = task_data;
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *stmt;

  stmt = prepare (self->rdb, self->rstmts,
                  "SELECT id FROM messages INDEXED BY messages_by_uid"
                  " WHERE folder_id = ?1 AND uid = ?2 AND uid IS NOT NULL", &error);
  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, data->folder_id);

  for (guint i = 0; i < data->array->len && (data->limit == 0 || keys->len < data->limit); i++)
    {
      int rc;

      /* a search that found the whole folder is many lookups: stop early */
      if (i % 1024 == 1023 && g_cancellable_set_error_if_cancelled (cancellable, &error))
        {
          sqlite3_reset (stmt);
          g_task_return_error (task, error);
          return;
        }

      sqlite3_bind_int64 (stmt, 2, g_array_index (data->array, guint32, i));
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          gint64 key = sqlite3_column_int64 (stmt, 0);

          g_array_append_val (keys, key);
        }
      else if (rc != SQLITE_DONE)
        {
          set_sqlite_error (&error, self->rdb, rc, "keys for uids");
          sqlite3_reset (stmt);
          g_task_return_error (task, error);
          return;
        }
      sqlite3_reset (stmt);
    }

  g_task_return_pointer (task, g_steal_pointer (&keys), (GDestroyNotify) g_array_unref);
}

/**
 * lb_store_keys_for_uids_async:
 * @self: the store
 * @folder_id: a server folder
 * @uids: (element-type guint32): IMAP UIDs of that folder, in the order
 *   wanted (a server search's, newest first, say)
 * @limit: keys to return at most, 0 for no limit
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the keys
 * @user_data: data for @callback
 *
 * Maps UIDs of a server folder to the keys of the stored messages that
 * have them, in the order of @uids, skipping the UIDs the store does not
 * have (not synced yet, or moved away here) and stopping at @limit keys.
 * On the reader: a write asked for just before may not be seen yet.
 */
void
lb_store_keys_for_uids_async (LbStore             *self,
                              gint64               folder_id,
                              GArray              *uids,
                              guint                limit,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  SyncData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (uids != NULL);
  g_return_if_fail (g_array_get_element_size (uids) == sizeof (guint32));

  data = sync_data_new (folder_id);
  data->limit = limit;
  data->array = g_array_ref (uids);

  push_job (self->reader,
            new_task (self, lb_store_keys_for_uids_async, data, (GDestroyNotify) sync_data_free,
                      cancellable, callback, user_data),
            keys_for_uids_job);
}

/**
 * lb_store_keys_for_uids_finish:
 *
 * Returns: (transfer full) (element-type gint64): the keys, in the order
 *   of the UIDs asked for
 */
GArray *
lb_store_keys_for_uids_finish (LbStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_keys_for_uids_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/* Keywords as sets: the order a server lists them in does not matter. */
static gboolean
keywords_equal (const char *a,
                const char *b)
{
  g_auto(GStrv) x = NULL;
  g_auto(GStrv) y = NULL;
  g_autoptr(GPtrArray) xs = g_ptr_array_new ();
  g_autoptr(GPtrArray) ys = g_ptr_array_new ();

  if (a != NULL && *a == '\0')
    a = NULL;
  if (b != NULL && *b == '\0')
    b = NULL;
  if (g_strcmp0 (a, b) == 0)
    return TRUE;
  if (a == NULL || b == NULL)
    return FALSE;

  x = g_strsplit (a, " ", -1);
  y = g_strsplit (b, " ", -1);
  for (guint i = 0; x[i] != NULL; i++)
    if (*x[i] != '\0')
      g_ptr_array_add (xs, x[i]);
  for (guint i = 0; y[i] != NULL; i++)
    if (*y[i] != '\0')
      g_ptr_array_add (ys, y[i]);
  if (xs->len != ys->len)
    return FALSE;
  g_ptr_array_sort (xs, compare_strings);
  g_ptr_array_sort (ys, compare_strings);
  for (guint i = 0; i < xs->len; i++)
    if (strcmp (xs->pdata[i], ys->pdata[i]) != 0)
      return FALSE;
  return TRUE;
}

static void
sync_flags_job (LbStore  *self,
                GTask    *task,
                gpointer  task_data)
{
  SyncData *data = task_data;
  GError *error = NULL;
  sqlite3_stmt *find, *update;
  Changes changes;

  changes_init (&changes);
  if (!begin (self, LB_STORE_WRITE_NONE, &error))
    goto fail;
  if (!check_folder (self, data->folder_id, NULL, &error))
    goto fail;

  find = prepare (self->wdb, self->wstmts,
                  "SELECT id, flags, keywords, date FROM messages WHERE folder_id = ?1 AND uid = ?2",
                  &error);
  if (find == NULL)
    goto fail;

  for (guint i = 0; i < data->array->len; i++)
    {
      LbStoreUidState *state = &g_array_index (data->array, LbStoreUidState, i);
      guint flags = state->flags & LB_MESSAGE_FLAGS_ALL;
      const char *keywords = state->keywords != NULL && *state->keywords != '\0' ? state->keywords : NULL;
      gboolean differs = FALSE, pending = FALSE;
      gint64 key = 0, date = 0;
      int rc;

      if (state->uid == 0)
        continue;
      sqlite3_bind_int64 (find, 1, data->folder_id);
      sqlite3_bind_int64 (find, 2, state->uid);
      rc = sqlite3_step (find);
      if (rc == SQLITE_ROW)
        {
          key = sqlite3_column_int64 (find, 0);
          date = sqlite3_column_int64 (find, 3);
          differs = (guint) sqlite3_column_int64 (find, 1) != flags ||
                    !keywords_equal ((const char *) sqlite3_column_text (find, 2), keywords);
        }
      sqlite3_reset (find);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        {
          set_sqlite_error (&error, self->wdb, rc, "flags");
          goto fail;
        }
      if (!differs)
        continue;   /* unknown here, or the same already */

      /* a change made here and not yet replayed wins until it is */
      if (!has_pending_change (self, key, &pending, &error))
        goto fail;
      if (pending)
        continue;

      update = prepare (self->wdb, self->wstmts,
                        "UPDATE messages SET flags = ?2, keywords = ?3 WHERE id = ?1", &error);
      if (update == NULL)
        goto fail;
      sqlite3_bind_int64 (update, 1, key);
      sqlite3_bind_int64 (update, 2, flags);
      bind_text (update, 3, keywords);
      if (!step_done (self->wdb, update, &error))
        goto fail;
      changes_add (&changes, LB_STORE_CHANGE_UPDATED, data->folder_id, key, date);
    }

  if (!commit (self, &error))
    goto fail;
  changes_emit (self, &changes);
  changes_clear (&changes);
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  changes_clear (&changes);
  g_task_return_error (task, error);
}

/**
 * lb_store_sync_flags_async:
 * @self: the store
 * @folder_id: a server folder
 * @states: (element-type LbStoreUidState): the flags and keywords the
 *   server has for these UIDs (their keys are ignored)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Sets the flags and keywords of the folder's messages with these UIDs
 * to exactly the given ones, the server's, in one transaction. Emits an
 * %LB_STORE_CHANGE_UPDATED change for each message that really changed;
 * the folder's counts follow. A message with a flag change, move or
 * deletion made here still waiting in the offline queue keeps its flags:
 * the queue takes the change to the server when it is replayed. UIDs not
 * in the folder are ignored. Keywords compare as sets.
 */
void
lb_store_sync_flags_async (LbStore             *self,
                           gint64               folder_id,
                           GArray              *states,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  SyncData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (states != NULL);
  g_return_if_fail (g_array_get_element_size (states) == sizeof (LbStoreUidState));

  data = sync_data_new (folder_id);
  data->array = g_array_ref (states);

  push_job (self->writer,
            new_task (self, lb_store_sync_flags_async, data, (GDestroyNotify) sync_data_free,
                      cancellable, callback, user_data),
            sync_flags_job);
}

gboolean
lb_store_sync_flags_finish (LbStore       *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_sync_flags_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
remove_uids_job (LbStore  *self,
                 GTask    *task,
                 gpointer  task_data)
{
  SyncData *data = task_data;
  GError *error = NULL;
  g_autoptr(GArray) bodies = g_array_new (FALSE, FALSE, sizeof (gint64));
  sqlite3_stmt *stmt;
  Changes changes;

  changes_init (&changes);
  if (!begin (self, LB_STORE_WRITE_NONE, &error))
    goto fail;
  if (!check_folder (self, data->folder_id, NULL, &error))
    goto fail;

  stmt = prepare (self->wdb, self->wstmts,
                  "DELETE FROM messages WHERE folder_id = ?1 AND uid = ?2"
                  " RETURNING id, date, location", &error);
  if (stmt == NULL)
    goto fail;
  for (guint i = 0; i < data->array->len; i++)
    {
      guint32 uid = g_array_index (data->array, guint32, i);

      if (uid == 0)
        continue;
      sqlite3_bind_int64 (stmt, 1, data->folder_id);
      sqlite3_bind_int64 (stmt, 2, uid);
      if (!step_removed (self, stmt, data->folder_id, &changes, bodies, NULL, &error))
        goto fail;
    }

  if (!commit (self, &error))
    goto fail;
  remove_bodies (self, bodies);
  changes_emit (self, &changes);
  changes_clear (&changes);
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  changes_clear (&changes);
  g_task_return_error (task, error);
}

/**
 * lb_store_remove_uids_async:
 * @self: the store
 * @folder_id: a server folder
 * @uids: (element-type guint32): UIDs expunged on the server
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Removes the folder's messages with these UIDs (gone from the server),
 * with their cached bodies, in one transaction, announcing each with an
 * %LB_STORE_CHANGE_REMOVED change. UIDs not in the folder are ignored.
 */
void
lb_store_remove_uids_async (LbStore             *self,
                            gint64               folder_id,
                            GArray              *uids,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  SyncData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (uids != NULL);
  g_return_if_fail (g_array_get_element_size (uids) == sizeof (guint32));

  data = sync_data_new (folder_id);
  data->array = g_array_ref (uids);

  push_job (self->writer,
            new_task (self, lb_store_remove_uids_async, data, (GDestroyNotify) sync_data_free,
                      cancellable, callback, user_data),
            remove_uids_job);
}

gboolean
lb_store_remove_uids_finish (LbStore       *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_remove_uids_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
reset_folder_job (LbStore  *self,
                  GTask    *task,
                  gpointer  task_data)
{
  SyncData *data = task_data;
  GError *error = NULL;
  g_autofree char *path = NULL;
  sqlite3_stmt *stmt;
  Changes changes;

  if (!begin (self, LB_STORE_WRITE_NONE, &error))
    goto fail;
  path = folder_path_of (self, data->folder_id, NULL, &error);
  if (path == NULL)
    goto fail;

  stmt = prepare (self->wdb, self->wstmts,
                  "UPDATE folders SET uidvalidity = ?2, uidnext = 0, highestmodseq = 0 WHERE id = ?1",
                  &error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  sqlite3_bind_int64 (stmt, 2, data->uid);
  if (!step_done (self->wdb, stmt, &error))
    goto fail;

  /* every message awaits its new UID, to be adopted by Message-ID */
  stmt = prepare (self->wdb, self->wstmts,
                  "UPDATE messages SET uid = NULL, modseq = 0 WHERE folder_id = ?1 AND uid IS NOT NULL",
                  &error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  if (!step_done (self->wdb, stmt, &error))
    goto fail;

  /* queued changes must not reach whatever carries their old UIDs now */
  stmt = prepare (self->wdb, self->wstmts,
                  "UPDATE pending_ops SET uid = 0 WHERE folder_path = ?1 AND uid != 0", &error);
  if (stmt == NULL)
    goto fail;
  bind_text (stmt, 1, path);
  if (!step_done (self->wdb, stmt, &error))
    goto fail;

  if (!commit (self, &error))
    goto fail;

  changes_init (&changes);
  changes_touch_folder (&changes, data->folder_id);
  changes_emit (self, &changes);
  changes_clear (&changes);
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  g_task_return_error (task, error);
}

/**
 * lb_store_reset_folder_async:
 * @self: the store
 * @folder_id: a server folder
 * @uidvalidity: the folder's new UIDVALIDITY
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Forgets the UIDs of a folder whose UIDVALIDITY changed: every message
 * awaits its UID (keeping its key, thread and cached body) until a sync
 * adds it again and lb_store_add_summaries_async() adopts it by its
 * Message-ID; lb_store_remove_orphans_async() then removes those the
 * server no longer has. Stores @uidvalidity with UIDNEXT and
 * HIGHESTMODSEQ 0, and sets the UID of the folder's queued operations to
 * 0 (they are found by key or Message-ID). Emits #LbStore::folder-changed.
 */
void
lb_store_reset_folder_async (LbStore             *self,
                             gint64               folder_id,
                             guint32              uidvalidity,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  SyncData *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = sync_data_new (folder_id);
  data->uid = uidvalidity;

  push_job (self->writer,
            new_task (self, lb_store_reset_folder_async, data, (GDestroyNotify) sync_data_free,
                      cancellable, callback, user_data),
            reset_folder_job);
}

gboolean
lb_store_reset_folder_finish (LbStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_reset_folder_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
remove_orphans_job (LbStore  *self,
                    GTask    *task,
                    gpointer  task_data)
{
  SyncData *data = task_data;
  GError *error = NULL;
  g_autoptr(GArray) bodies = g_array_new (FALSE, FALSE, sizeof (gint64));
  gboolean local = FALSE;
  sqlite3_stmt *stmt;
  guint count = 0;
  Changes changes;

  changes_init (&changes);
  if (!begin (self, LB_STORE_WRITE_NONE, &error))
    goto fail;
  if (!check_folder (self, data->folder_id, &local, &error))
    goto fail;

  if (!local)
    {
      stmt = prepare (self->wdb, self->wstmts,
                      "DELETE FROM messages"
                      " WHERE folder_id = ?1 AND uid IS NULL AND uidl IS NULL"
                      " AND NOT EXISTS (SELECT 1 FROM pending_ops p WHERE p.message_key = messages.id)"
                      " RETURNING id, date, location", &error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, data->folder_id);
      if (!step_removed (self, stmt, data->folder_id, &changes, bodies, &count, &error))
        goto fail;
    }

  if (!commit (self, &error))
    goto fail;
  remove_bodies (self, bodies);
  changes_emit (self, &changes);
  changes_clear (&changes);
  g_task_return_int (task, count);
  return;

fail:
  rollback (self);
  changes_clear (&changes);
  g_task_return_error (task, error);
}

/**
 * lb_store_remove_orphans_async:
 * @self: the store
 * @folder_id: a server folder
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * After a full sync of a server folder: removes its messages that still
 * await a UID (the server does not have them: no sync adopted them),
 * except those an operation of the offline queue refers to (an append or
 * move not yet replayed). A local folder is left alone.
 */
void
lb_store_remove_orphans_async (LbStore             *self,
                               gint64               folder_id,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (LB_IS_STORE (self));

  push_job (self->writer,
            new_task (self, lb_store_remove_orphans_async, sync_data_new (folder_id),
                      (GDestroyNotify) sync_data_free, cancellable, callback, user_data),
            remove_orphans_job);
}

/**
 * lb_store_remove_orphans_finish:
 *
 * Returns: how many messages were removed (0 with @error set on failure)
 */
guint
lb_store_remove_orphans_finish (LbStore       *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  gssize count;

  g_return_val_if_fail (g_task_is_valid (result, self), 0);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_remove_orphans_async, 0);

  count = g_task_propagate_int (G_TASK (result), error);
  return count < 0 ? 0 : (guint) count;
}

/* The queued changes made to @key in @folder_id while it awaited its UID
 * there (moved or appended there, then flagged, moved on or deleted
 * before the server answered) learn @uid: up to the first one that took
 * it out of the folder, as later ones are of a later stay. Their replay
 * then finds the message without a search by Message-ID, and a sync of
 * the folder meanwhile knows the UID is leaving. */
static gboolean
give_ops_uid (LbStore  *self,
              gint64    key,
              gint64    folder_id,
              guint32   uid,
              GError  **error)
{
  g_autofree char *path = NULL;
  sqlite3_stmt *stmt;
  gboolean local = FALSE;

  path = folder_path_of (self, folder_id, &local, error);
  if (path == NULL)
    return FALSE;
  if (local)
    return TRUE;

  stmt = prepare (self->wdb, self->wstmts,
                  "UPDATE pending_ops SET uid = ?3"
                  " WHERE message_key = ?1 AND folder_path = ?2 AND uid = 0 AND kind != ?4"
                  " AND id <= coalesce ((SELECT min (id) FROM pending_ops"
                  "                      WHERE message_key = ?1 AND folder_path = ?2 AND uid = 0"
                  "                      AND kind IN (?5, ?6)), id)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, key);
  bind_text (stmt, 2, path);
  sqlite3_bind_int64 (stmt, 3, uid);
  sqlite3_bind_int (stmt, 4, LB_STORE_OP_APPEND);
  sqlite3_bind_int (stmt, 5, LB_STORE_OP_MOVE);
  sqlite3_bind_int (stmt, 6, LB_STORE_OP_DELETE);
  return step_done (self->wdb, stmt, error);
}

static void
set_uid_job (LbStore  *self,
             GTask    *task,
             gpointer  task_data)
{
  SyncData *data = task_data;
  GError *error = NULL;
  sqlite3_stmt *stmt;
  gint64 other = 0, other_date = 0;
  gboolean other_cached = FALSE, take_body = FALSE;
  Row row;
  Changes changes;
  int rc;

  memset (&row, 0, sizeof row);
  changes_init (&changes);
  if (!begin (self, LB_STORE_WRITE_NONE, &error))
    goto fail;
  /* the queue learns it even if the message was deleted here since */
  if (!give_ops_uid (self, data->key, data->folder_id, data->uid, &error))
    goto fail;
  if (!read_row (self, data->key, &row, &error))
    {
      if (error != NULL || !commit (self, &error))
        goto fail;
      g_set_error (&error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND, _("The message no longer exists"));
      changes_clear (&changes);
      g_task_return_error (task, error);
      return;
    }
  if (row.folder_id != data->folder_id || row.uid == data->uid)
    {
      /* known already, or the message has left the folder the UID
       * belongs to (moved back meanwhile): nothing changes */
      if (!commit (self, &error))
        goto fail;
      row_clear (&row);
      changes_clear (&changes);
      g_task_return_boolean (task, TRUE);
      return;
    }

  /* a sync may have stored the message under this UID meanwhile: that
   * row is the duplicate; the one asked for keeps its key and state */
  stmt = prepare (self->wdb, self->wstmts,
                  "SELECT id, date, location IS NOT NULL FROM messages"
                  " WHERE folder_id = ?1 AND uid = ?2 AND id != ?3", &error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, row.folder_id);
  sqlite3_bind_int64 (stmt, 2, data->uid);
  sqlite3_bind_int64 (stmt, 3, data->key);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      other = sqlite3_column_int64 (stmt, 0);
      other_date = sqlite3_column_int64 (stmt, 1);
      other_cached = sqlite3_column_int (stmt, 2) != 0;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      set_sqlite_error (&error, self->wdb, rc, "uid");
      goto fail;
    }

  if (other != 0)
    {
      take_body = other_cached && row.location == NULL && !row.local;

      /* what the sync learnt of it that this row lacks */
      stmt = prepare (self->wdb, self->wstmts,
                      "UPDATE messages SET"
                      " structure = coalesce (structure, (SELECT structure FROM messages WHERE id = ?2)),"
                      " list_id = coalesce (list_id, (SELECT list_id FROM messages WHERE id = ?2)),"
                      " modseq = max (modseq, (SELECT modseq FROM messages WHERE id = ?2)),"
                      " location = CASE WHEN ?3 THEN 'cache' ELSE location END"
                      " WHERE id = ?1", &error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, data->key);
      sqlite3_bind_int64 (stmt, 2, other);
      sqlite3_bind_int (stmt, 3, take_body);
      if (!step_done (self->wdb, stmt, &error))
        goto fail;

      stmt = prepare (self->wdb, self->wstmts, "DELETE FROM messages WHERE id = ?1", &error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, other);
      if (!step_done (self->wdb, stmt, &error))
        goto fail;
      changes_add (&changes, LB_STORE_CHANGE_REMOVED, row.folder_id, other, other_date);
    }

  stmt = prepare (self->wdb, self->wstmts, "UPDATE messages SET uid = ?2 WHERE id = ?1", &error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, data->key);
  if (data->uid != 0)
    sqlite3_bind_int64 (stmt, 2, data->uid);
  if (!step_done (self->wdb, stmt, &error))
    goto fail;
  changes_add (&changes, LB_STORE_CHANGE_UPDATED, row.folder_id, row.key, row.date);

  if (!commit (self, &error))
    goto fail;

  /* the duplicate's body: kept for this row if it had none, else gone
   * with its row */
  if (other != 0 && other_cached && !row.local)
    {
      g_autofree char *from = body_cache_path (self, other);

      if (take_body)
        {
          g_autofree char *to = body_cache_path (self, data->key);

          if (g_rename (from, to) != 0)
            g_warning ("Could not keep the cached message “%s”: %s", from, g_strerror (errno));
        }
      else
        g_remove (from);
    }

  changes_emit (self, &changes);
  changes_clear (&changes);
  row_clear (&row);
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  changes_clear (&changes);
  row_clear (&row);
  g_task_return_error (task, error);
}

/**
 * lb_store_set_uid_async:
 * @self: the store
 * @key: a message of a server folder
 * @folder_id: the folder @uid belongs to
 * @uid: the UID the server gave it there (APPENDUID, COPYUID)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Records the UID of a message appended or moved to a server folder. If
 * a sync got there first and stored the message under @uid as another
 * row, that row is the duplicate: it is removed (an
 * %LB_STORE_CHANGE_REMOVED change), and @key keeps its own flags and
 * state, taking the duplicate's cached body if it had none, and its body
 * structure and List-Id where it lacked them (an %LB_STORE_CHANGE_UPDATED
 * change). If @key is no longer in @folder_id (the user moved it on or
 * back before the server answered), nothing changes: @uid is another
 * message's there. Either way, the queued operations made on @key in
 * @folder_id while it awaited @uid there (up to the move or delete that
 * took it out) get @uid, so that their replay finds it, even when @key
 * was deleted since. %LB_STORE_ERROR_NOT_FOUND if @key is gone.
 */
void
lb_store_set_uid_async (LbStore             *self,
                        gint64               key,
                        gint64               folder_id,
                        guint32              uid,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  SyncData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (uid != 0);

  data = sync_data_new (folder_id);
  data->key = key;
  data->uid = uid;

  push_job (self->writer,
            new_task (self, lb_store_set_uid_async, data, (GDestroyNotify) sync_data_free,
                      cancellable, callback, user_data),
            set_uid_job);
}

gboolean
lb_store_set_uid_finish (LbStore       *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_set_uid_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

#define GET_MESSAGES_CHUNK 500

static void
get_messages_job (LbStore  *self,
                  GTask    *task,
                  gpointer  task_data)
{
  SyncData *data = task_data;
  GError *error = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  g_autoptr(GString) list = g_string_new (NULL);

  /* the keys of a chunk go in as one JSON array; its order is theirs */
  for (guint start = 0; start < data->array->len; start += GET_MESSAGES_CHUNK)
    {
      sqlite3_stmt *stmt;
      int rc;

      g_string_assign (list, "[");
      for (guint i = start; i < MIN (start + GET_MESSAGES_CHUNK, data->array->len); i++)
        g_string_append_printf (list, "%s%" G_GINT64_FORMAT, i > start ? "," : "",
                                g_array_index (data->array, gint64, i));
      g_string_append_c (list, ']');

      stmt = prepare (self->wdb, self->wstmts,
                      "SELECT " SUMMARY_COLUMNS " FROM json_each (?1) AS j"
                      " CROSS JOIN messages m ON m.id = j.value ORDER BY j.key", &error);
      if (stmt == NULL)
        goto fail;
      bind_text (stmt, 1, list->str);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        g_ptr_array_add (rows, read_summary (stmt));
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        {
          set_sqlite_error (&error, self->wdb, rc, "messages");
          goto fail;
        }
    }

  g_task_return_pointer (task, g_steal_pointer (&rows), (GDestroyNotify) g_ptr_array_unref);
  return;

fail:
  g_task_return_error (task, error);
}

/**
 * lb_store_get_messages_async:
 * @self: the store
 * @keys: (element-type gint64): messages
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the summaries
 * @user_data: data for @callback
 *
 * Reads the summaries of several messages at once, in the order of
 * @keys; keys no longer in the store are skipped. On the writer.
 */
void
lb_store_get_messages_async (LbStore             *self,
                             GArray              *keys,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  SyncData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (keys != NULL);
  g_return_if_fail (g_array_get_element_size (keys) == sizeof (gint64));

  data = sync_data_new (0);
  data->array = g_array_ref (keys);

  push_job (self->writer,
            new_task (self, lb_store_get_messages_async, data, (GDestroyNotify) sync_data_free,
                      cancellable, callback, user_data),
            get_messages_job);
}

/**
 * lb_store_get_messages_finish:
 *
 * Returns: (transfer container) (element-type LbMessageSummary): the
 *   summaries of the keys still in the store, in the order asked for
 */
GPtrArray *
lb_store_get_messages_finish (LbStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_get_messages_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
list_uncached_job (LbStore  *self,
                   GTask    *task,
                   gpointer  task_data)
{
  SyncData *data = task_data;
  GError *error = NULL;
  sqlite3_stmt *stmt;
  GPtrArray *rows;

  stmt = prepare (self->wdb, self->wstmts,
                  "SELECT " SUMMARY_COLUMNS " FROM messages m INDEXED BY messages_by_date"
                  " WHERE m.folder_id = ?1 AND m.date >= ?2"
                  " AND m.uid IS NOT NULL AND m.location IS NULL"
                  " ORDER BY m.date DESC, m.id DESC LIMIT ?3", &error);
  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  sqlite3_bind_int64 (stmt, 2, data->since);
  sqlite3_bind_int64 (stmt, 3, data->limit == 0 ? -1 : (gint64) data->limit);
  rows = read_summaries (self->wdb, stmt, &error);
  if (rows == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, rows, (GDestroyNotify) g_ptr_array_unref);
}

/**
 * lb_store_list_uncached_async:
 * @self: the store
 * @folder_id: a server folder
 * @since: the oldest date wanted, seconds since the epoch; 0 for all
 * @limit: how many at most; 0 for no limit
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the summaries
 * @user_data: data for @callback
 *
 * Lists the folder's messages whose body is not downloaded yet (with a
 * UID, not in the body cache) dated @since or later, newest first: what
 * to fetch to keep the last days readable offline.
 */
void
lb_store_list_uncached_async (LbStore             *self,
                              gint64               folder_id,
                              gint64               since,
                              guint                limit,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  SyncData *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = sync_data_new (folder_id);
  data->since = since;
  data->limit = limit;

  push_job (self->writer,
            new_task (self, lb_store_list_uncached_async, data, (GDestroyNotify) sync_data_free,
                      cancellable, callback, user_data),
            list_uncached_job);
}

/**
 * lb_store_list_uncached_finish:
 *
 * Returns: (transfer container) (element-type LbMessageSummary): the rows
 */
GPtrArray *
lb_store_list_uncached_finish (LbStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_list_uncached_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------ the queue */

static void
list_ops_job (LbStore  *self,
              GTask    *task,
              gpointer  task_data)
{
  GError *error = NULL;
  g_autoptr(GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_store_op_free);
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "SELECT id, kind, folder_path, uid, message_key, message_id,"
                                " flags_add, flags_remove, target_path, created, attempts, last_error"
                                " FROM pending_ops ORDER BY id LIMIT ?1", &error);
  int rc;

  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, *(guint *) task_data);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      LbStoreOp *op = g_new0 (LbStoreOp, 1);

      op->id = sqlite3_column_int64 (stmt, 0);
      op->kind = sqlite3_column_int (stmt, 1);
      op->folder_path = column_text (stmt, 2);
      op->uid = (guint32) sqlite3_column_int64 (stmt, 3);
      op->message_key = sqlite3_column_int64 (stmt, 4);
      op->message_id = column_text (stmt, 5);
      op->flags_add = (guint) sqlite3_column_int64 (stmt, 6);
      op->flags_remove = (guint) sqlite3_column_int64 (stmt, 7);
      op->target_path = column_text (stmt, 8);
      op->created = sqlite3_column_int64 (stmt, 9);
      op->attempts = (guint) sqlite3_column_int64 (stmt, 10);
      op->last_error = column_text (stmt, 11);
      g_ptr_array_add (ops, op);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (&error, self->wdb, rc, "queue");
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&ops), (GDestroyNotify) g_ptr_array_unref);
}

/**
 * lb_store_list_ops_async:
 * @self: the store
 * @limit: how many at most
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the operations
 * @user_data: data for @callback
 *
 * Reads the oldest operations of the offline queue, in the order they
 * must be replayed. (On the writer, so it sees every write asked before.)
 */
void
lb_store_list_ops_async (LbStore             *self,
                         guint                limit,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_return_if_fail (LB_IS_STORE (self));

  push_job (self->writer,
            new_task (self, lb_store_list_ops_async, g_memdup2 (&limit, sizeof limit), g_free,
                      cancellable, callback, user_data),
            list_ops_job);
}

/**
 * lb_store_list_ops_finish:
 *
 * Returns: (transfer container) (element-type LbStoreOp): the operations
 */
GPtrArray *
lb_store_list_ops_finish (LbStore       *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_list_ops_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  gint64 op_id;
  char *failure;
} FinishOpData;

static void
finish_op_data_free (FinishOpData *data)
{
  g_free (data->failure);
  g_free (data);
}

static void
finish_op_job (LbStore  *self,
               GTask    *task,
               gpointer  task_data)
{
  FinishOpData *data = task_data;
  GError *error = NULL;
  sqlite3_stmt *stmt;

  if (data->failure == NULL)
    stmt = prepare (self->wdb, self->wstmts, "DELETE FROM pending_ops WHERE id = ?1", &error);
  else
    stmt = prepare (self->wdb, self->wstmts,
                    "UPDATE pending_ops SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1",
                    &error);
  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, data->op_id);
  if (data->failure != NULL)
    bind_text (stmt, 2, data->failure);
  if (!step_done (self->wdb, stmt, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * lb_store_finish_op_async:
 * @self: the store
 * @op_id: an operation of the queue
 * @failure: (nullable): %NULL when the server took it (it leaves the
 *   queue), or why it failed (it stays, with one more attempt counted)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when recorded
 * @user_data: data for @callback
 */
void
lb_store_finish_op_async (LbStore             *self,
                          gint64               op_id,
                          const char          *failure,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  FinishOpData *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = g_new0 (FinishOpData, 1);
  data->op_id = op_id;
  data->failure = g_strdup (failure);

  push_job (self->writer,
            new_task (self, lb_store_finish_op_async, data, (GDestroyNotify) finish_op_data_free,
                      cancellable, callback, user_data),
            finish_op_job);
}

gboolean
lb_store_finish_op_finish (LbStore       *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_finish_op_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

guint
lb_store_get_durable_commits (LbStore *self)
{
  g_return_val_if_fail (LB_IS_STORE (self), 0);

  return (guint) g_atomic_int_get (&self->durable_commits);
}

/* ------------------------------------------------------------------ POP3 */

/**
 * lb_store_pop3_uidl_free:
 * @uidl: (transfer full) (nullable): an #LbStorePop3Uidl made by the store
 *
 * Frees it, its @uidl string included (one block).
 */
void
lb_store_pop3_uidl_free (LbStorePop3Uidl *uidl)
{
  g_free (uidl);
}

/* one row of pop3_uidls as one block, its string behind it */
static LbStorePop3Uidl *
pop3_uidl_from_row (sqlite3_stmt *stmt)
{
  const char *text = (const char *) sqlite3_column_text (stmt, 0);
  gsize length = (gsize) sqlite3_column_bytes (stmt, 0);
  LbStorePop3Uidl *uidl;

  if (text == NULL)
    return NULL;
  uidl = g_malloc (sizeof (LbStorePop3Uidl) + length + 1);
  uidl->uidl = (char *) (uidl + 1);
  memcpy (uidl->uidl, text, length + 1);
  uidl->key = sqlite3_column_int64 (stmt, 1);
  uidl->first_seen = sqlite3_column_int64 (stmt, 2);
  uidl->partial = sqlite3_column_int (stmt, 3) != 0;
  uidl->deleted_here = sqlite3_column_int64 (stmt, 4);
  return uidl;
}

static void
list_pop3_uidls_job (LbStore  *self,
                     GTask    *task,
                     gpointer  task_data)
{
  GError *error = NULL;
  g_autoptr(GHashTable) uidls = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                       (GDestroyNotify) lb_store_pop3_uidl_free);
  sqlite3_stmt *stmt = prepare (self->rdb, self->rstmts,
                                "SELECT uidl, key, first_seen, partial, deleted_here FROM pop3_uidls",
                                &error);
  int rc;

  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* one allocation per row: the struct with its string behind it */
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      LbStorePop3Uidl *uidl = pop3_uidl_from_row (stmt);

      if (uidl != NULL)
        g_hash_table_replace (uidls, uidl->uidl, uidl);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (&error, self->rdb, rc, "pop3_uidls");
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&uidls), (GDestroyNotify) g_hash_table_unref);
}

/**
 * lb_store_list_pop3_uidls_async:
 * @self: the store
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the table
 * @user_data: data for @callback
 *
 * Lists every POP3 message the account downloaded: those here (in
 * whatever local folder), those only partly here, and those deleted here
 * (which a mailbox left on the server still lists). Reads what was
 * committed when it runs, without waiting for writes queued meanwhile.
 */
void
lb_store_list_pop3_uidls_async (LbStore             *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (LB_IS_STORE (self));

  push_job (self->reader,
            new_task (self, lb_store_list_pop3_uidls_async, NULL, NULL, cancellable, callback, user_data),
            list_pop3_uidls_job);
}

/**
 * lb_store_list_pop3_uidls_finish:
 *
 * Returns: (transfer full) (element-type utf8 LbStorePop3Uidl): UIDL ->
 *   #LbStorePop3Uidl; the table owns both (the key is the value's @uidl)
 */
GHashTable *
lb_store_list_pop3_uidls_finish (LbStore       *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_list_pop3_uidls_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
get_pop3_uidl_job (LbStore  *self,
                   GTask    *task,
                   gpointer  task_data)
{
  GError *error = NULL;
  sqlite3_stmt *stmt = prepare (self->rdb, self->rstmts,
                                "SELECT uidl, key, first_seen, partial, deleted_here FROM pop3_uidls"
                                " WHERE key = ?1 LIMIT 1",
                                &error);
  LbStorePop3Uidl *uidl = NULL;
  int rc;

  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, *(gint64 *) task_data);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    uidl = pop3_uidl_from_row (stmt);
  else if (rc != SQLITE_DONE)
    set_sqlite_error (&error, self->rdb, rc, "pop3_uidls");
  sqlite3_reset (stmt);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (uidl == NULL)
    {
      g_task_return_new_error (task, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND,
                               _("The message did not come from a POP3 server"));
      return;
    }
  g_task_return_pointer (task, uidl, (GDestroyNotify) lb_store_pop3_uidl_free);
}

/**
 * lb_store_get_pop3_uidl_async:
 * @self: the store
 * @key: a message
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with its record
 * @user_data: data for @callback
 *
 * Finds the POP3 record of a message here (its UIDL, whether only its
 * headers are here), by the index on the key.
 */
void
lb_store_get_pop3_uidl_async (LbStore             *self,
                              gint64               key,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (LB_IS_STORE (self));

  push_job (self->reader,
            new_task (self, lb_store_get_pop3_uidl_async, g_memdup2 (&key, sizeof key), g_free,
                      cancellable, callback, user_data),
            get_pop3_uidl_job);
}

/**
 * lb_store_get_pop3_uidl_finish:
 *
 * Returns: (transfer full): the record (free with
 *   lb_store_pop3_uidl_free()), or %NULL with %LB_STORE_ERROR_NOT_FOUND
 *   for a message that did not come from POP3
 */
LbStorePop3Uidl *
lb_store_get_pop3_uidl_finish (LbStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_get_pop3_uidl_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
forget_pop3_uidls_job (LbStore  *self,
                       GTask    *task,
                       gpointer  task_data)
{
  GPtrArray *uidls = task_data;
  GError *error = NULL;
  sqlite3_stmt *stmt;

  if (!begin (self, LB_STORE_WRITE_NONE, &error))
    goto fail;
  for (guint i = 0; i < uidls->len; i++)
    {
      stmt = prepare (self->wdb, self->wstmts, "DELETE FROM pop3_uidls WHERE uidl = ?1", &error);
      if (stmt == NULL)
        goto fail;
      bind_static (stmt, 1, uidls->pdata[i]);
      if (!step_done (self->wdb, stmt, &error))
        goto fail;
    }
  if (!commit (self, &error))
    goto fail;
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  g_task_return_error (task, error);
}

/**
 * lb_store_forget_pop3_uidls_async:
 * @self: the store
 * @uidls: (element-type utf8): UIDLs the server no longer lists
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when done
 * @user_data: data for @callback
 *
 * Forgets POP3 messages gone from the server; their messages here, if
 * any, stay as they are.
 */
void
lb_store_forget_pop3_uidls_async (LbStore             *self,
                                  GPtrArray           *uidls,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  GPtrArray *copy;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (uidls != NULL);

  copy = g_ptr_array_new_full (uidls->len, g_free);
  for (guint i = 0; i < uidls->len; i++)
    g_ptr_array_add (copy, g_strdup (uidls->pdata[i]));

  push_job (self->writer,
            new_task (self, lb_store_forget_pop3_uidls_async, copy, (GDestroyNotify) g_ptr_array_unref,
                      cancellable, callback, user_data),
            forget_pop3_uidls_job);
}

gboolean
lb_store_forget_pop3_uidls_finish (LbStore       *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_forget_pop3_uidls_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- downloads (LbStoreDownload) ------------------------------------- */

typedef struct
{
  gint64             folder_id;
  GPtrArray         *summaries;    /* LbMessageSummary, location set */
  GPtrArray         *body_texts;   /* char *, nullable */
  GArray            *partial;      /* gboolean */
  LbStoreRecordFunc  func;
  gpointer           user_data;
} RecordData;

static void
record_data_free (RecordData *data)
{
  g_clear_pointer (&data->summaries, g_ptr_array_unref);
  g_clear_pointer (&data->body_texts, g_ptr_array_unref);
  g_clear_pointer (&data->partial, g_array_unref);
  g_free (data);
}

/* A full download of a message whose headers only were here: it takes
 * that row's place (key, folder, flags, thread). */
typedef struct
{
  Row               row;
  LbMessageSummary *summary;
  const char       *body_text;
  LbMaildir        *target;
  gboolean          linked;    /* a second name in @target's Maildir */
} Replacement;

static void
replacement_clear (Replacement *replacement)
{
  row_clear (&replacement->row);
}

/* pop3_uidls' row of @uidl: *key 0 when there is none */
static gboolean
pop3_uidl_lookup (LbStore     *self,
                  const char  *uidl,
                  gint64      *key,
                  gboolean    *partial,
                  GError     **error)
{
  sqlite3_stmt *stmt = prepare (self->wdb, self->wstmts,
                                "SELECT key, partial FROM pop3_uidls WHERE uidl = ?1", error);
  int rc;

  *key = 0;
  *partial = FALSE;
  if (stmt == NULL)
    return FALSE;
  bind_static (stmt, 1, uidl);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *key = sqlite3_column_int64 (stmt, 0);
      *partial = sqlite3_column_int (stmt, 1) != 0;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->wdb, rc, "pop3_uidls");
      return FALSE;
    }
  return TRUE;
}

/* In the transaction: gives the row of @r the downloaded file (moved to
 * the row's folder and flags, made durable) and what was parsed of it. */
static gboolean
replace_partial (LbStore      *self,
                 LbMaildir    *maildir,
                 Replacement  *r,
                 Changes      *changes,
                 GError      **error)
{
  LbMessageSummary *summary = r->summary;
  g_autofree char *addresses = NULL;
  sqlite3_stmt *stmt;

  r->target = get_maildir (self, r->row.folder_id, error);
  if (r->target == NULL)
    return FALSE;
  if (r->target != maildir)
    {
      g_autofree char *path = lb_maildir_link_from (r->target, maildir, summary->location,
                                                    summary->flags, error);

      if (path == NULL)
        return FALSE;
      r->linked = TRUE;
    }
  if ((r->row.flags & LB_MESSAGE_FLAGS_ALL) != summary->flags || r->linked)
    {
      if (!lb_maildir_set_flags (r->target, summary->location, summary->flags,
                                 r->row.flags & LB_MESSAGE_FLAGS_ALL, error))
        return FALSE;
    }
  if ((r->linked || (r->row.flags & LB_MESSAGE_FLAGS_ALL) != summary->flags) &&
      !lb_maildir_sync (r->target, error))
    return FALSE;

  stmt = prepare (self->wdb, self->wstmts,
                  "UPDATE messages SET size = ?2, has_attachments = ?3, preview = ?4, location = ?5,"
                  " list_id = coalesce (?6, list_id) WHERE id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, r->row.key);
  sqlite3_bind_int64 (stmt, 2, summary->size);
  sqlite3_bind_int (stmt, 3, summary->has_attachments);
  bind_static (stmt, 4, summary->preview);
  bind_static (stmt, 5, summary->location);
  bind_static (stmt, 6, summary->list_id);
  if (!step_done (self->wdb, stmt, error))
    return FALSE;

  stmt = prepare (self->wdb, self->wstmts, "DELETE FROM messages_fts WHERE rowid = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, r->row.key);
  if (!step_done (self->wdb, stmt, error))
    return FALSE;
  stmt = prepare (self->wdb, self->wstmts,
                  "INSERT INTO messages_fts (rowid, subject, addresses, body) VALUES (?1, ?2, ?3, ?4)",
                  error);
  if (stmt == NULL)
    return FALSE;
  addresses = addresses_of (summary);
  sqlite3_bind_int64 (stmt, 1, r->row.key);
  bind_static (stmt, 2, summary->subject);
  bind_static (stmt, 3, addresses);
  bind_static (stmt, 4, r->body_text != NULL ? r->body_text : summary->preview);
  if (!step_done (self->wdb, stmt, error))
    return FALSE;

  stmt = prepare (self->wdb, self->wstmts, "UPDATE pop3_uidls SET partial = 0 WHERE uidl = ?1", error);
  if (stmt == NULL)
    return FALSE;
  bind_static (stmt, 1, summary->uidl);
  if (!step_done (self->wdb, stmt, error))
    return FALSE;

  changes_add (changes, LB_STORE_CHANGE_UPDATED, r->row.folder_id, r->row.key, r->row.date);
  return TRUE;
}

static void
remove_file_quietly (LbMaildir  *maildir,
                     const char *unique,
                     guint       flags)
{
  g_autoptr(GError) error = NULL;

  if (!lb_maildir_remove (maildir, unique, flags, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    g_warning ("Could not remove a message file: %s", error->message);
}

static void
record_downloads_job (LbStore  *self,
                      GTask    *task,
                      gpointer  task_data)
{
  RecordData *data = task_data;
  GError *error = NULL;
  LbMaildir *maildir = NULL;
  g_autoptr(GPtrArray) recorded = g_ptr_array_new ();     /* borrowed UIDLs */
  g_autoptr(GPtrArray) dropped = g_ptr_array_new ();      /* borrowed summaries */
  g_autoptr(GArray) replacements = g_array_new (FALSE, TRUE, sizeof (Replacement));
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  AddData add = { 0, };
  Changes changes;

  g_array_set_clear_func (replacements, (GDestroyNotify) replacement_clear);
  changes_init (&changes);
  add.folder_id = data->folder_id;
  add.summaries = g_ptr_array_new ();
  add.body_texts = g_ptr_array_new ();
  add.partial = g_array_new (FALSE, FALSE, sizeof (gboolean));
  add.flags = LB_STORE_WRITE_DURABLE;

  if (data->summaries->len == 0)
    goto done;

  maildir = get_maildir (self, data->folder_id, &error);
  if (maildir == NULL || !begin (self, LB_STORE_WRITE_DURABLE, &error))
    goto fail;

  for (guint i = 0; i < data->summaries->len; i++)
    {
      LbMessageSummary *summary = data->summaries->pdata[i];
      const char *body_text = data->body_texts->pdata[i];
      gboolean partial = g_array_index (data->partial, gboolean, i);

      if (summary->uidl != NULL)
        {
          gint64 key = 0;
          gboolean was_partial = FALSE;

          /* the same message twice in one batch: once is enough */
          if (!g_hash_table_add (seen, summary->uidl))
            {
              g_ptr_array_add (dropped, summary);
              continue;
            }
          g_ptr_array_add (recorded, summary->uidl);

          if (!pop3_uidl_lookup (self, summary->uidl, &key, &was_partial, &error))
            goto fail;
          if (key != 0)
            {
              Row row;

              if (read_row (self, key, &row, &error))
                {
                  if (was_partial && !partial && row.local)
                    {
                      Replacement r = { row, summary, body_text, NULL, FALSE };

                      g_array_append_val (replacements, r);
                      if (!replace_partial (self, maildir,
                                            &g_array_index (replacements, Replacement,
                                                            replacements->len - 1),
                                            &changes, &error))
                        goto fail;
                    }
                  else
                    {
                      row_clear (&row);
                      g_ptr_array_add (dropped, summary);
                    }
                  continue;
                }
              if (error != NULL)
                goto fail;
            }

          /* a download that was interrupted and resumed: the message is
           * in this folder already */
          if (uidl_exists (self, data->folder_id, summary->uidl, &key))
            {
              g_ptr_array_add (dropped, summary);
              continue;
            }
        }

      g_ptr_array_add (add.summaries, summary);
      g_ptr_array_add (add.body_texts, (gpointer) body_text);
      g_array_append_val (add.partial, partial);
    }

  if (!add_rows_in (self, &add, &changes, written, &error) || !commit (self, &error))
    goto fail;

  /* the rows are committed: now the files no row names */
  for (guint i = 0; i < dropped->len; i++)
    {
      LbMessageSummary *summary = dropped->pdata[i];

      remove_file_quietly (maildir, summary->location, summary->flags);
    }
  for (guint i = 0; i < replacements->len; i++)
    {
      Replacement *r = &g_array_index (replacements, Replacement, i);

      if (r->row.location != NULL)
        remove_file_quietly (r->target, r->row.location, r->row.flags);
      if (r->linked)
        remove_file_quietly (maildir, r->summary->location, r->summary->flags);
    }
  changes_emit (self, &changes);
  goto done;

fail:
  rollback (self);
  g_ptr_array_set_size (recorded, 0);
  for (guint i = 0; i < written->len; i++)
    g_unlink (written->pdata[i]);
  for (guint i = 0; i < replacements->len; i++)
    {
      Replacement *r = &g_array_index (replacements, Replacement, i);

      if (r->linked)
        remove_file_quietly (r->target, r->summary->location, r->row.flags);
    }
  /* nothing of the batch is recorded: none of its files stays */
  for (guint i = 0; maildir != NULL && i < data->summaries->len; i++)
    {
      LbMessageSummary *summary = data->summaries->pdata[i];

      remove_file_quietly (maildir, summary->location, summary->flags);
    }

done:
  data->func (recorded, error, data->user_data);
  g_clear_error (&error);
  changes_clear (&changes);
  g_ptr_array_unref (add.summaries);
  g_ptr_array_unref (add.body_texts);
  g_array_unref (add.partial);
  record_data_free (data);
}

/**
 * lb_store_record_downloads:
 * @self: the store
 * @folder_id: the local folder downloaded to
 * @summaries: (element-type LbMessageSummary): the messages, their files
 *   in the folder's Maildir (new/ or cur/ as their flags say) and durable;
 *   @location (the unique name), @flags, @uidl and @size set
 * @body_texts: (element-type utf8): the text to index for each, or %NULL
 * @partial: (element-type gboolean): whether each is headers only
 * @func: called on the writer thread when done
 * @user_data: data for @func
 *
 * Records downloaded messages in one durable transaction, in order with
 * the store's other writes. A message whose UIDL the folder holds, or
 * that pop3_uidls names as here (in any local folder), is not stored
 * again and its new file is removed, unless what is here is its headers
 * only and this is all of it: then the row keeps its key, folder, flags
 * and thread and takes the new file (moved into its folder's Maildir)
 * and what was parsed of it; the old file goes after the commit. On
 * failure no row changes and the files given are removed.
 */
void
lb_store_record_downloads (LbStore           *self,
                           gint64             folder_id,
                           GPtrArray         *summaries,
                           GPtrArray         *body_texts,
                           GArray            *partial,
                           LbStoreRecordFunc  func,
                           gpointer           user_data)
{
  RecordData *data;
  StoreJob *job;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (summaries != NULL && body_texts != NULL && partial != NULL);
  g_return_if_fail (body_texts->len == summaries->len && partial->len == summaries->len);
  g_return_if_fail (func != NULL);

  data = g_new0 (RecordData, 1);
  data->folder_id = folder_id;
  data->summaries = g_ptr_array_ref (summaries);
  data->body_texts = g_ptr_array_ref (body_texts);
  data->partial = g_array_ref (partial);
  data->func = func;
  data->user_data = user_data;

  /* no task: the download waits for it, and the store's finalizer waits
   * for the writer's jobs */
  job = g_new0 (StoreJob, 1);
  job->store = self;
  job->func = record_downloads_job;
  job->data = data;
  job->seq = (guint64) g_atomic_pointer_add (&job_seq, 1);
  g_thread_pool_push (self->writer, job, NULL);
}

typedef struct
{
  gint64     folder_id;
  GMutex     lock;
  GCond      cond;
  gboolean   done;
  LbMaildir *maildir;
  GError    *error;
} MaildirLookup;

static void
maildir_lookup_job (LbStore  *self,
                    GTask    *task,
                    gpointer  task_data)
{
  MaildirLookup *lookup = task_data;
  GError *error = NULL;
  LbMaildir *maildir = get_maildir (self, lookup->folder_id, &error);

  g_mutex_lock (&lookup->lock);
  lookup->maildir = maildir ? g_object_ref (maildir) : NULL;
  lookup->error = error;
  lookup->done = TRUE;
  g_cond_signal (&lookup->cond);
  g_mutex_unlock (&lookup->lock);
}

LbMaildir *
lb_store_get_folder_maildir (LbStore  *self,
                             gint64    folder_id,
                             GError  **error)
{
  MaildirLookup lookup = { 0, };
  StoreJob *job;

  g_return_val_if_fail (LB_IS_STORE (self), NULL);

  lookup.folder_id = folder_id;
  g_mutex_init (&lookup.lock);
  g_cond_init (&lookup.cond);

  job = g_new0 (StoreJob, 1);
  job->store = self;
  job->func = maildir_lookup_job;
  job->data = &lookup;
  job->seq = (guint64) g_atomic_pointer_add (&job_seq, 1);
  g_thread_pool_push (self->writer, job, NULL);

  g_mutex_lock (&lookup.lock);
  while (!lookup.done)
    g_cond_wait (&lookup.cond, &lookup.lock);
  g_mutex_unlock (&lookup.lock);

  g_mutex_clear (&lookup.lock);
  g_cond_clear (&lookup.cond);
  if (lookup.error != NULL)
    g_propagate_error (error, lookup.error);
  return lookup.maildir;
}

/* ------------------------------------------------------------------ the outbox */

/**
 * lb_store_outbox_entry_new:
 *
 * Returns: (transfer full): an empty entry
 */
LbStoreOutboxEntry *
lb_store_outbox_entry_new (void)
{
  return g_new0 (LbStoreOutboxEntry, 1);
}

/**
 * lb_store_outbox_entry_copy:
 * @entry: an entry
 *
 * Returns: (transfer full): a copy of @entry
 */
LbStoreOutboxEntry *
lb_store_outbox_entry_copy (const LbStoreOutboxEntry *entry)
{
  LbStoreOutboxEntry *copy;

  g_return_val_if_fail (entry != NULL, NULL);

  copy = g_memdup2 (entry, sizeof *entry);
  copy->sender = g_strdup (entry->sender);
  copy->recipients = g_strdupv (entry->recipients);
  copy->bcc = g_strdup (entry->bcc);
  copy->message_id = g_strdup (entry->message_id);
  copy->last_error = g_strdup (entry->last_error);
  copy->in_reply_to = g_strdup (entry->in_reply_to);
  copy->forwarded_id = g_strdup (entry->forwarded_id);
  return copy;
}

/**
 * lb_store_outbox_entry_free:
 * @entry: (nullable): an entry
 */
void
lb_store_outbox_entry_free (LbStoreOutboxEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->sender);
  g_strfreev (entry->recipients);
  g_free (entry->bcc);
  g_free (entry->message_id);
  g_free (entry->last_error);
  g_free (entry->in_reply_to);
  g_free (entry->forwarded_id);
  g_free (entry);
}

typedef struct
{
  LbStoreOutboxEntry *entry;
  LbStoreWriteFlags   flags;
} OutboxWrite;

static void
outbox_write_free (OutboxWrite *data)
{
  lb_store_outbox_entry_free (data->entry);
  g_free (data);
}

static void
outbox_put_job (LbStore  *self,
                GTask    *task,
                gpointer  task_data)
{
  OutboxWrite *data = task_data;
  const LbStoreOutboxEntry *entry = data->entry;
  g_autofree char *recipients = g_strjoinv ("\n", entry->recipients);
  GError *error = NULL;
  sqlite3_stmt *stmt;

  if (!begin (self, data->flags, &error))
    goto fail;
  stmt = prepare (self->wdb, self->wstmts,
                  "INSERT OR REPLACE INTO outbox (key, sender, recipients, bcc, message_id, state,"
                  " attempts, next_attempt, send_after, last_error, in_reply_to, forwarded_id,"
                  " draft_key, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                  &error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, entry->key);
  bind_static (stmt, 2, entry->sender != NULL ? entry->sender : "");
  bind_static (stmt, 3, recipients);
  bind_static (stmt, 4, entry->bcc);
  bind_static (stmt, 5, entry->message_id);
  sqlite3_bind_int (stmt, 6, entry->state);
  sqlite3_bind_int64 (stmt, 7, entry->attempts);
  sqlite3_bind_int64 (stmt, 8, entry->next_attempt);
  sqlite3_bind_int64 (stmt, 9, entry->send_after);
  bind_static (stmt, 10, entry->last_error);
  bind_static (stmt, 11, entry->in_reply_to);
  bind_static (stmt, 12, entry->forwarded_id);
  sqlite3_bind_int64 (stmt, 13, entry->draft_key);
  sqlite3_bind_int64 (stmt, 14, entry->created);
  if (!step_done (self->wdb, stmt, &error) || !commit (self, &error))
    goto fail;
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  g_task_return_error (task, error);
}

/**
 * lb_store_outbox_put_async:
 * @self: the store
 * @entry: the record of a message of the Outbox folder
 * @flags: %LB_STORE_WRITE_DURABLE for a write that must survive a power cut
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when written
 * @user_data: data for @callback
 *
 * Writes the outbox record of @entry->key, replacing any it had.
 */
void
lb_store_outbox_put_async (LbStore                  *self,
                           const LbStoreOutboxEntry *entry,
                           LbStoreWriteFlags         flags,
                           GCancellable             *cancellable,
                           GAsyncReadyCallback       callback,
                           gpointer                  user_data)
{
  OutboxWrite *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (entry != NULL && entry->key > 0 && entry->recipients != NULL);

  data = g_new0 (OutboxWrite, 1);
  data->entry = lb_store_outbox_entry_copy (entry);
  data->flags = flags & LB_STORE_WRITE_DURABLE;
  push_job (self->writer,
            new_task (self, lb_store_outbox_put_async, data, (GDestroyNotify) outbox_write_free,
                      cancellable, callback, user_data),
            outbox_put_job);
}

gboolean
lb_store_outbox_put_finish (LbStore       *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_outbox_put_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
outbox_set_state_job (LbStore  *self,
                      GTask    *task,
                      gpointer  task_data)
{
  OutboxWrite *data = task_data;
  const LbStoreOutboxEntry *entry = data->entry;
  GError *error = NULL;
  sqlite3_stmt *stmt;

  if (!begin (self, data->flags, &error))
    goto fail;
  stmt = prepare (self->wdb, self->wstmts,
                  "UPDATE outbox SET state = ?, attempts = ?, next_attempt = ?, last_error = ?"
                  " WHERE key = ?",
                  &error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int (stmt, 1, entry->state);
  sqlite3_bind_int64 (stmt, 2, entry->attempts);
  sqlite3_bind_int64 (stmt, 3, entry->next_attempt);
  bind_static (stmt, 4, entry->last_error);
  sqlite3_bind_int64 (stmt, 5, entry->key);
  if (!step_done (self->wdb, stmt, &error))
    goto fail;
  if (sqlite3_changes (self->wdb) == 0)
    {
      g_set_error (&error, LB_STORE_ERROR, LB_STORE_ERROR_NOT_FOUND,
                   _("The message is no longer in the Outbox"));
      goto fail;
    }
  if (!commit (self, &error))
    goto fail;
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  g_task_return_error (task, error);
}

/**
 * lb_store_outbox_set_state_async:
 * @self: the store
 * @key: a message of the outbox
 * @state: its new state
 * @attempts: the failed attempts so far
 * @next_attempt: not to be tried again before, seconds since the epoch
 * @last_error: (nullable): why the last attempt failed
 * @flags: %LB_STORE_WRITE_DURABLE for a write that must survive a power cut
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when written
 * @user_data: data for @callback
 *
 * Changes the state of a message of the outbox; fails with
 * %LB_STORE_ERROR_NOT_FOUND when it has no record (taken back, deleted).
 */
void
lb_store_outbox_set_state_async (LbStore             *self,
                                 gint64               key,
                                 int                  state,
                                 guint                attempts,
                                 gint64               next_attempt,
                                 const char          *last_error,
                                 LbStoreWriteFlags    flags,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  OutboxWrite *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = g_new0 (OutboxWrite, 1);
  data->entry = lb_store_outbox_entry_new ();
  data->entry->key = key;
  data->entry->state = state;
  data->entry->attempts = attempts;
  data->entry->next_attempt = next_attempt;
  data->entry->last_error = g_strdup (last_error);
  data->flags = flags & LB_STORE_WRITE_DURABLE;
  push_job (self->writer,
            new_task (self, lb_store_outbox_set_state_async, data, (GDestroyNotify) outbox_write_free,
                      cancellable, callback, user_data),
            outbox_set_state_job);
}

gboolean
lb_store_outbox_set_state_finish (LbStore       *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_outbox_set_state_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
outbox_list_job (LbStore  *self,
                 GTask    *task,
                 gpointer  task_data)
{
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_store_outbox_entry_free);
  GError *error = NULL;
  sqlite3_stmt *stmt = prepare (self->rdb, self->rstmts,
                                "SELECT key, sender, recipients, bcc, message_id, state, attempts,"
                                " next_attempt, send_after, last_error, in_reply_to, forwarded_id,"
                                " draft_key, created FROM outbox ORDER BY created, key",
                                &error);
  int rc;

  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      LbStoreOutboxEntry *entry = lb_store_outbox_entry_new ();
      const char *recipients = (const char *) sqlite3_column_text (stmt, 2);

      entry->key = sqlite3_column_int64 (stmt, 0);
      entry->sender = column_text (stmt, 1);
      entry->recipients = recipients != NULL && *recipients != '\0' ? g_strsplit (recipients, "\n", -1)
                                                                     : g_new0 (char *, 1);
      entry->bcc = column_text (stmt, 3);
      entry->message_id = column_text (stmt, 4);
      entry->state = sqlite3_column_int (stmt, 5);
      entry->attempts = (guint) sqlite3_column_int64 (stmt, 6);
      entry->next_attempt = sqlite3_column_int64 (stmt, 7);
      entry->send_after = sqlite3_column_int64 (stmt, 8);
      entry->last_error = column_text (stmt, 9);
      entry->in_reply_to = column_text (stmt, 10);
      entry->forwarded_id = column_text (stmt, 11);
      entry->draft_key = sqlite3_column_int64 (stmt, 12);
      entry->created = sqlite3_column_int64 (stmt, 13);
      g_ptr_array_add (entries, entry);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (&error, self->rdb, rc, "outbox");
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&entries), (GDestroyNotify) g_ptr_array_unref);
}

/**
 * lb_store_outbox_list_async:
 * @self: the store
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the records
 * @user_data: data for @callback
 *
 * Lists the outbox's records in the order they were queued.
 */
void
lb_store_outbox_list_async (LbStore             *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (LB_IS_STORE (self));

  push_job (self->reader,
            new_task (self, lb_store_outbox_list_async, NULL, NULL, cancellable, callback, user_data),
            outbox_list_job);
}

/**
 * lb_store_outbox_list_finish:
 *
 * Returns: (transfer full) (element-type LbStoreOutboxEntry): the records
 */
GPtrArray *
lb_store_outbox_list_finish (LbStore       *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_outbox_list_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
outbox_remove_job (LbStore  *self,
                   GTask    *task,
                   gpointer  task_data)
{
  OutboxWrite *data = task_data;
  GError *error = NULL;
  sqlite3_stmt *stmt;

  if (!begin (self, data->flags, &error))
    goto fail;
  stmt = prepare (self->wdb, self->wstmts, "DELETE FROM outbox WHERE key = ?", &error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, data->entry->key);
  if (!step_done (self->wdb, stmt, &error) || !commit (self, &error))
    goto fail;
  g_task_return_boolean (task, TRUE);
  return;

fail:
  rollback (self);
  g_task_return_error (task, error);
}

/**
 * lb_store_outbox_remove_async:
 * @self: the store
 * @key: a message of the outbox
 * @flags: %LB_STORE_WRITE_DURABLE for a write that must survive a power cut
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when removed
 * @user_data: data for @callback
 *
 * Removes the outbox record of @key (not the message); none is fine.
 */
void
lb_store_outbox_remove_async (LbStore             *self,
                              gint64               key,
                              LbStoreWriteFlags    flags,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  OutboxWrite *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = g_new0 (OutboxWrite, 1);
  data->entry = lb_store_outbox_entry_new ();
  data->entry->key = key;
  data->flags = flags & LB_STORE_WRITE_DURABLE;
  push_job (self->writer,
            new_task (self, lb_store_outbox_remove_async, data, (GDestroyNotify) outbox_write_free,
                      cancellable, callback, user_data),
            outbox_remove_job);
}

gboolean
lb_store_outbox_remove_finish (LbStore       *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_outbox_remove_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
find_message_id_job (LbStore  *self,
                     GTask    *task,
                     gpointer  task_data)
{
  const char *message_id = task_data;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  GError *error = NULL;
  /* by the thread the id belongs to: an index, not a scan */
  sqlite3_stmt *stmt = prepare (self->rdb, self->rstmts,
                                "SELECT m.id FROM messages m INDEXED BY messages_by_thread"
                                " WHERE m.thread_id = (SELECT thread_id FROM thread_ids WHERE hash = ?)"
                                " AND m.message_id = ? ORDER BY m.id",
                                &error);
  int rc;

  if (stmt == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  sqlite3_bind_int64 (stmt, 1, message_id_hash (message_id));
  bind_static (stmt, 2, message_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 key = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (keys, key);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (&error, self->rdb, rc, "message_id");
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&keys), (GDestroyNotify) g_array_unref);
}

/**
 * lb_store_find_message_id_async:
 * @self: the store
 * @message_id: a Message-ID, without the angle brackets
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the keys
 * @user_data: data for @callback
 *
 * Finds the messages of any folder whose Message-ID is @message_id.
 */
void
lb_store_find_message_id_async (LbStore             *self,
                                const char          *message_id,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (message_id != NULL);

  push_job (self->reader,
            new_task (self, lb_store_find_message_id_async, g_strdup (message_id), g_free,
                      cancellable, callback, user_data),
            find_message_id_job);
}

/**
 * lb_store_find_message_id_finish:
 *
 * Returns: (transfer full) (element-type gint64): the keys, maybe none
 */
GArray *
lb_store_find_message_id_finish (LbStore       *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_find_message_id_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------ address completion */

#define COMPLETE_ROWS 2000

typedef struct
{
  char  *prefix;     /* case-folded */
  guint  limit;
} CompleteData;

typedef struct
{
  char   *text;      /* "Name <addr>" as written */
  guint   count;
  gint64  last;
} CompleteCandidate;

static void
complete_data_free (CompleteData *data)
{
  g_free (data->prefix);
  g_free (data);
}

static void
complete_candidate_free (CompleteCandidate *candidate)
{
  g_free (candidate->text);
  g_free (candidate);
}

/* Whether @text or one of its words (after a space, a dot, a quote...)
 * starts with @prefix, both case-folded. */
static gboolean
complete_matches (const char *text,
                  const char *prefix)
{
  g_autofree char *folded = NULL;
  gboolean at_word = TRUE;

  if (text == NULL)
    return FALSE;
  folded = g_utf8_casefold (text, -1);
  for (const char *p = folded; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (at_word && g_str_has_prefix (p, prefix))
        return TRUE;
      at_word = !g_unichar_isalnum (c);
    }
  return FALSE;
}

static void
complete_add (GHashTable          *seen,
              InternetAddressList *list,
              const char          *prefix,
              gint64               date)
{
  int n = list != NULL ? internet_address_list_length (list) : 0;

  for (int i = 0; i < n; i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);
      const char *addr, *name;
      g_autofree char *key = NULL;
      CompleteCandidate *candidate;

      if (!INTERNET_ADDRESS_IS_MAILBOX (address))
        continue;
      addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address));
      name = internet_address_get_name (address);
      if (addr == NULL || strchr (addr, '@') == NULL ||
          (!complete_matches (addr, prefix) && !complete_matches (name, prefix)))
        continue;
      key = g_utf8_casefold (addr, -1);
      candidate = g_hash_table_lookup (seen, key);
      if (candidate == NULL)
        {
          candidate = g_new0 (CompleteCandidate, 1);
          candidate->text = internet_address_to_string (address, NULL, FALSE);
          candidate->last = date;
          g_hash_table_insert (seen, g_steal_pointer (&key), candidate);
        }
      else if (candidate->last < date && name != NULL && *name != '\0')
        {
          /* the name as written most recently */
          g_free (candidate->text);
          candidate->text = internet_address_to_string (address, NULL, FALSE);
        }
      candidate->count++;
      candidate->last = MAX (candidate->last, date);
    }
}

static int
complete_compare (gconstpointer a,
                  gconstpointer b)
{
  const CompleteCandidate *x = *(CompleteCandidate * const *) a;
  const CompleteCandidate *y = *(CompleteCandidate * const *) b;

  if (x->count != y->count)
    return x->count > y->count ? -1 : 1;
  if (x->last != y->last)
    return x->last > y->last ? -1 : 1;
  return g_strcmp0 (x->text, y->text);
}

static void
complete_addresses_job (LbStore  *self,
                        GTask    *task,
                        gpointer  task_data)
{
  CompleteData *data = task_data;
  GError *error = NULL;
  g_autofree char *query = lb_store_make_fts_query (data->prefix);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                      (GDestroyNotify) complete_candidate_free);
  g_autoptr(GPtrArray) candidates = NULL;
  GPtrArray *result = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer value;
  sqlite3_stmt *stmt;
  int rc;

  if (query == NULL)
    {
      g_task_return_pointer (task, result, (GDestroyNotify) g_ptr_array_unref);
      return;
    }
  /* the newest messages whose addresses have a word starting so (the
   * full-text index's prefix index); their addresses are then matched
   * one by one */
  stmt = prepare (self->rdb, self->rstmts,
                  "SELECT m.sender, m.recipients, m.cc, m.date FROM messages m INDEXED BY messages_by_date_all"
                  " WHERE m.id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1)"
                  " ORDER BY m.date DESC, m.id DESC LIMIT ?2", &error);
  if (stmt == NULL)
    {
      g_ptr_array_unref (result);
      g_task_return_error (task, error);
      return;
    }
  bind_text (stmt, 1, query);
  sqlite3_bind_int64 (stmt, 2, COMPLETE_ROWS);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 date = sqlite3_column_int64 (stmt, 3);

      for (int column = 0; column < 3; column++)
        {
          const char *text = (const char *) sqlite3_column_text (stmt, column);
          InternetAddressList *list;

          if (text == NULL || *text == '\0')
            continue;
          list = internet_address_list_parse (NULL, text);
          complete_add (seen, list, data->prefix, date);
          g_clear_object (&list);
        }
    }
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (&error, self->rdb, rc, "step");
      sqlite3_reset (stmt);
      g_ptr_array_unref (result);
      g_task_return_error (task, error);
      return;
    }
  sqlite3_reset (stmt);

  candidates = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, seen);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (candidates, value);
  g_ptr_array_sort (candidates, complete_compare);
  for (guint i = 0; i < candidates->len && i < data->limit; i++)
    g_ptr_array_add (result, g_strdup (((CompleteCandidate *) candidates->pdata[i])->text));
  g_task_return_pointer (task, result, (GDestroyNotify) g_ptr_array_unref);
}

/**
 * lb_store_complete_addresses_async:
 * @self: the store
 * @prefix: what the user typed of a name or an address
 * @limit: addresses to return at most
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the addresses
 * @user_data: data for @callback
 *
 * Finds the addresses of the messages' senders and recipients whose
 * address or a word of whose name starts with @prefix (case does not
 * matter), the most frequent first, then the most recent. Read on the
 * store's reader, from the full-text index.
 */
void
lb_store_complete_addresses_async (LbStore             *self,
                                   const char          *prefix,
                                   guint                limit,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  CompleteData *data;

  g_return_if_fail (LB_IS_STORE (self));
  g_return_if_fail (prefix != NULL);

  data = g_new0 (CompleteData, 1);
  data->prefix = g_utf8_casefold (prefix, -1);
  data->limit = limit;
  push_job (self->reader,
            new_task (self, lb_store_complete_addresses_async, data, (GDestroyNotify) complete_data_free,
                      cancellable, callback, user_data),
            complete_addresses_job);
}

/**
 * lb_store_complete_addresses_finish:
 *
 * Returns: (transfer container) (element-type utf8): "Name <address>"
 *   (or the bare address), best first
 */
GPtrArray *
lb_store_complete_addresses_finish (LbStore       *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_complete_addresses_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

typedef struct
{
  gint64  folder_id;
  int     state;
  char   *last_error;
  gint64  created;
} OutboxAdopt;

static void
outbox_adopt_free (OutboxAdopt *data)
{
  g_free (data->last_error);
  g_free (data);
}

static void
outbox_adopt_job (LbStore  *self,
                  GTask    *task,
                  gpointer  task_data)
{
  OutboxAdopt *data = task_data;
  g_autoptr(GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  GError *error = NULL;
  sqlite3_stmt *stmt;
  int rc;

  if (!begin (self, LB_STORE_WRITE_DURABLE, &error))
    goto fail;
  /* in one transaction: a record written meanwhile is never replaced.
   * INDEXED BY: with the statistics of a store whose mail is in one folder
   * SQLite scans the whole table for the (empty) Outbox, at every start */
  stmt = prepare (self->wdb, self->wstmts,
                  "SELECT m.id FROM messages m INDEXED BY messages_by_date"
                  " WHERE m.folder_id = ? AND (m.flags & ?) = 0"
                  " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.key = m.id) ORDER BY m.id",
                  &error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, data->folder_id);
  sqlite3_bind_int (stmt, 2, LB_MESSAGE_DELETED);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 key = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (keys, key);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (&error, self->wdb, rc, "outbox");
      goto fail;
    }
  for (guint i = 0; i < keys->len; i++)
    {
      stmt = prepare (self->wdb, self->wstmts,
                      "INSERT OR IGNORE INTO outbox (key, sender, recipients, message_id, state,"
                      " last_error, created) SELECT id, '', '', message_id, ?, ?, ? FROM messages"
                      " WHERE id = ?",
                      &error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int (stmt, 1, data->state);
      bind_static (stmt, 2, data->last_error);
      sqlite3_bind_int64 (stmt, 3, data->created);
      sqlite3_bind_int64 (stmt, 4, g_array_index (keys, gint64, i));
      if (!step_done (self->wdb, stmt, &error))
        goto fail;
    }
  if (!commit (self, &error))
    goto fail;
  g_task_return_pointer (task, g_steal_pointer (&keys), (GDestroyNotify) g_array_unref);
  return;

fail:
  rollback (self);
  g_task_return_error (task, error);
}

/**
 * lb_store_outbox_adopt_async:
 * @self: the store
 * @folder_id: the Outbox folder
 * @state: the state of the new records
 * @last_error: (nullable): the error of the new records
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the keys given a record
 * @user_data: data for @callback
 *
 * Gives each message of @folder_id that has no outbox record (one put
 * there whose record was never written) a record with no recipients,
 * in @state with @last_error, durably; never replaces a record.
 */
void
lb_store_outbox_adopt_async (LbStore             *self,
                             gint64               folder_id,
                             int                  state,
                             const char          *last_error,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  OutboxAdopt *data;

  g_return_if_fail (LB_IS_STORE (self));

  data = g_new0 (OutboxAdopt, 1);
  data->folder_id = folder_id;
  data->state = state;
  data->last_error = g_strdup (last_error);
  data->created = g_get_real_time () / G_USEC_PER_SEC;
  push_job (self->writer,
            new_task (self, lb_store_outbox_adopt_async, data, (GDestroyNotify) outbox_adopt_free,
                      cancellable, callback, user_data),
            outbox_adopt_job);
}

/**
 * lb_store_outbox_adopt_finish:
 *
 * Returns: (transfer full) (element-type gint64): the keys given a record
 */
GArray *
lb_store_outbox_adopt_finish (LbStore       *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_store_outbox_adopt_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
