/* lb-store.h: an account's local store (SQLite, Maildir, body cache)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-message-summary.h"

G_BEGIN_DECLS

#define LB_STORE_ERROR (lb_store_error_quark ())

/**
 * LbStoreError:
 * @LB_STORE_ERROR_FAILED: the database failed (the message says how)
 * @LB_STORE_ERROR_CORRUPT: the database file is damaged or not ours
 * @LB_STORE_ERROR_TOO_NEW: the database was written by a newer Letterbox
 * @LB_STORE_ERROR_NOT_FOUND: no such folder or message
 * @LB_STORE_ERROR_EXISTS: a folder of that name exists already
 * @LB_STORE_ERROR_FULL: the disk is full
 * @LB_STORE_ERROR_NOT_FETCHED: the message's body is not stored here
 */
typedef enum
{
  LB_STORE_ERROR_FAILED,
  LB_STORE_ERROR_CORRUPT,
  LB_STORE_ERROR_TOO_NEW,
  LB_STORE_ERROR_NOT_FOUND,
  LB_STORE_ERROR_EXISTS,
  LB_STORE_ERROR_FULL,
  LB_STORE_ERROR_NOT_FETCHED,
} LbStoreError;

GQuark lb_store_error_quark (void);

/**
 * LbFolderRole:
 *
 * What a folder is for. Local folders (#LbFolderInfo.local) live only
 * here, as Maildir directories; the others mirror a server's folder.
 */
typedef enum
{
  LB_FOLDER_ROLE_NONE,
  LB_FOLDER_ROLE_INBOX,
  LB_FOLDER_ROLE_SENT,
  LB_FOLDER_ROLE_DRAFTS,
  LB_FOLDER_ROLE_TRASH,
  LB_FOLDER_ROLE_JUNK,
  LB_FOLDER_ROLE_ARCHIVE,
  LB_FOLDER_ROLE_OUTBOX,
} LbFolderRole;

#define LB_TYPE_FOLDER_ROLE (lb_folder_role_get_type ())

GType         lb_folder_role_get_type    (void) G_GNUC_CONST;
const char   *lb_folder_role_to_string   (LbFolderRole  role);
gboolean      lb_folder_role_from_string (const char   *string,
                                          LbFolderRole *role);

#define LB_TYPE_FOLDER_INFO (lb_folder_info_get_type ())

typedef struct _LbFolderInfo LbFolderInfo;

/**
 * LbFolderInfo:
 * @id: the store's id of the folder
 * @path: the folder's full name (the IMAP mailbox name, or the local
 *   folder's name), unique in the account
 * @name: the last component of @path, for display
 * @delimiter: (nullable): the hierarchy delimiter, %NULL for a flat name
 * @role: what the folder is for
 * @local: whether the messages live here, in a Maildir (POP3, local folders)
 * @uidvalidity: IMAP UIDVALIDITY, 0 when unknown
 * @uidnext: IMAP UIDNEXT, 0 when unknown
 * @highestmodseq: IMAP HIGHESTMODSEQ, 0 when unknown
 * @total: messages in the folder
 * @unread: messages in the folder without the seen flag
 */
struct _LbFolderInfo
{
  gint64        id;
  char         *path;
  char         *name;
  char         *delimiter;
  LbFolderRole  role;
  gboolean      local;
  guint32       uidvalidity;
  guint32       uidnext;
  guint64       highestmodseq;
  guint         total;
  guint         unread;
};

GType         lb_folder_info_get_type (void) G_GNUC_CONST;
LbFolderInfo *lb_folder_info_copy     (const LbFolderInfo *info);
void          lb_folder_info_free     (LbFolderInfo       *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbFolderInfo, lb_folder_info_free)

/**
 * LbStoreOpKind:
 * @LB_STORE_OP_SET_FLAGS: change the flags of a server message
 * @LB_STORE_OP_MOVE: move a server message to @target_path
 * @LB_STORE_OP_DELETE: delete (flag and expunge) a server message
 * @LB_STORE_OP_APPEND: upload the stored message @message_key to the
 *   server folder @folder_path
 * @LB_STORE_OP_EXPUNGE: expunge @folder_path
 * @LB_STORE_OP_SET_KEYWORDS: change the keywords of a server message:
 *   @flags_add and @flags_remove are #LbStoreKeyword
 *
 * The kinds of change made here that the server has yet to learn of.
 */
typedef enum
{
  LB_STORE_OP_SET_FLAGS = 1,
  LB_STORE_OP_MOVE,
  LB_STORE_OP_DELETE,
  LB_STORE_OP_APPEND,
  LB_STORE_OP_EXPUNGE,
  LB_STORE_OP_SET_KEYWORDS,
} LbStoreOpKind;

/**
 * LbStoreKeyword:
 * @LB_STORE_KEYWORD_JUNK: IMAP $Junk
 * @LB_STORE_KEYWORD_NOT_JUNK: IMAP $NotJunk
 *
 * The keywords an %LB_STORE_OP_SET_KEYWORDS sets or removes.
 */
typedef enum /*< flags >*/
{
  LB_STORE_KEYWORD_JUNK     = 1 << 0,
  LB_STORE_KEYWORD_NOT_JUNK = 1 << 1,
} LbStoreKeyword;

#define LB_TYPE_STORE_OP (lb_store_op_get_type ())

typedef struct _LbStoreOp LbStoreOp;

/**
 * LbStoreOp:
 * @id: its place in the queue; replay in ascending order
 * @kind: what to do
 * @folder_path: the server folder the message was in when it was done
 * @uid: the message's UID in @folder_path, 0 when it had none yet (then
 *   find it by @message_key or its Message-ID)
 * @message_key: the store's key of the message, 0 for %LB_STORE_OP_EXPUNGE;
 *   the message may be gone from the store since (deleted, say)
 * @message_id: (nullable): its Message-ID, to find it on the server
 * @flags_add: for %LB_STORE_OP_SET_FLAGS: flags to add
 * @flags_remove: for %LB_STORE_OP_SET_FLAGS: flags to remove
 * @target_path: (nullable): for %LB_STORE_OP_MOVE: the folder moved to
 * @created: when the change was made, seconds since the epoch
 * @attempts: how often replaying it failed
 * @last_error: (nullable): why the last attempt failed
 */
struct _LbStoreOp
{
  gint64         id;
  LbStoreOpKind  kind;
  char          *folder_path;
  guint32        uid;
  gint64         message_key;
  char          *message_id;
  guint          flags_add;
  guint          flags_remove;
  char          *target_path;
  gint64         created;
  guint          attempts;
  char          *last_error;
};

GType      lb_store_op_get_type (void) G_GNUC_CONST;
LbStoreOp *lb_store_op_copy     (const LbStoreOp *op);
void       lb_store_op_free     (LbStoreOp       *op);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbStoreOp, lb_store_op_free)

/**
 * LbStoreWriteFlags:
 * @LB_STORE_WRITE_NONE: an ordinary write: committed, safe from a crash
 *   of the program, but the last moments may be lost if power fails
 * @LB_STORE_WRITE_DURABLE: the write is on disk when the call returns,
 *   even if power fails right after (before deleting a POP3 message from
 *   its server, say)
 * @LB_STORE_WRITE_QUEUE: record the change in the offline operation
 *   queue, in the same transaction, for the provider to replay
 * @LB_STORE_WRITE_DEFER_INDEX: for lb_store_add_summaries_async(): leave
 *   the full-text indexing of the new messages (subject, addresses,
 *   preview; body texts given are not indexed) to a background job that
 *   runs on the writer whenever nothing else waits. A large header sync
 *   stores rows several times faster this way; its messages are listed
 *   at once and found by search a little later.
 */
typedef enum /*< flags >*/
{
  LB_STORE_WRITE_NONE    = 0,
  LB_STORE_WRITE_DURABLE = 1 << 0,
  LB_STORE_WRITE_QUEUE   = 1 << 1,
  LB_STORE_WRITE_DEFER_INDEX = 1 << 2,
} LbStoreWriteFlags;

/**
 * LbStoreChangeKind:
 * @LB_STORE_CHANGE_ADDED: a message appeared in @folder_id
 * @LB_STORE_CHANGE_REMOVED: a message left @folder_id (deleted or moved)
 * @LB_STORE_CHANGE_UPDATED: a message's flags or location changed
 */
typedef enum
{
  LB_STORE_CHANGE_ADDED,
  LB_STORE_CHANGE_REMOVED,
  LB_STORE_CHANGE_UPDATED,
} LbStoreChangeKind;

/**
 * LbStoreChange:
 * @kind: what happened
 * @folder_id: the folder it happened in
 * @key: the message
 * @date: the message's date: with @key, its place in a list sorted by
 *   date, which a removed message no longer has in the store
 *
 * One entry of the #GPtrArray the #LbStore::changed signal carries.
 */
typedef struct
{
  LbStoreChangeKind kind;
  gint64            folder_id;
  gint64            key;
  gint64            date;
} LbStoreChange;

/**
 * LbStoreDelivery:
 * @raw: the whole message
 * @flags: its #LbMessageFlags
 * @uidl: (nullable): its POP3 UIDL
 * @received: when it arrived (used when it has no usable Date)
 *
 * A message to store in a local folder with lb_store_deliver_async().
 */
typedef struct
{
  GBytes  *raw;
  guint    flags;
  char    *uidl;
  gint64   received;
} LbStoreDelivery;

LbStoreDelivery *lb_store_delivery_new  (GBytes          *raw,
                                         guint            flags,
                                         const char      *uidl,
                                         gint64           received);
void             lb_store_delivery_free (LbStoreDelivery *delivery);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbStoreDelivery, lb_store_delivery_free)

/**
 * LbStorePosition:
 * @date: a message's date
 * @key: its key
 *
 * A place in a folder's list, which is sorted by date, newest first, then
 * by key, highest first.
 */
typedef struct
{
  gint64 date;
  gint64 key;
} LbStorePosition;

/**
 * LbStoreUidState:
 * @uid: a server message's IMAP UID
 * @flags: its #LbMessageFlags
 * @key: its key in the store (ignored by lb_store_sync_flags_async())
 * @keywords: (nullable): its other keywords, separated by single spaces
 *
 * A server message's state, as a flag sync compares it: an element of
 * the #GArray lb_store_list_uids_finish() returns and
 * lb_store_sync_flags_async() takes. @keywords is owned by the element:
 * make arrays with lb_store_uid_state_array_new() (or set
 * lb_store_uid_state_clear() as their clear function).
 */
typedef struct
{
  guint32  uid;
  guint    flags;
  gint64   key;
  char    *keywords;
} LbStoreUidState;

void    lb_store_uid_state_clear     (LbStoreUidState *state);
GArray *lb_store_uid_state_array_new (guint            reserved);

/**
 * LbStorePop3Uidl:
 * @uidl: the message's POP3 UIDL
 * @key: the store's key of the message, wherever it was moved to among
 *   the local folders; 0 once it was deleted here
 * @first_seen: when it was downloaded, seconds since the epoch
 * @partial: whether only its headers are here
 * @deleted_here: when it was deleted here for good, seconds since the
 *   epoch; 0 while it is here
 *
 * What the store knows of a POP3 message it downloaded (the account's
 * pop3_uidls table). Made by lb_store_list_pop3_uidls_finish() in one
 * block, @uidl included: free with lb_store_pop3_uidl_free().
 */
typedef struct
{
  char     *uidl;
  gint64    key;
  gint64    first_seen;
  gboolean  partial;
  gint64    deleted_here;
} LbStorePop3Uidl;

void lb_store_pop3_uidl_free (LbStorePop3Uidl *uidl);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbStorePop3Uidl, lb_store_pop3_uidl_free)

/**
 * LbStoreConversation:
 * @newest: the thread's newest message in the folder (by date, then key):
 *   the row a threaded list shows, and its place there
 * @n_messages: the thread's messages in the folder
 * @n_unread: how many of them are unread
 * @n_flagged: how many are flagged
 * @n_attachments: how many have attachments
 *
 * A conversation of a folder: the messages of one thread that are in
 * the folder (@newest->folder_id, @newest->thread_id). Free with
 * lb_store_conversation_free().
 */
typedef struct
{
  LbMessageSummary *newest;
  guint             n_messages;
  guint             n_unread;
  guint             n_flagged;
  guint             n_attachments;
} LbStoreConversation;

void lb_store_conversation_free (LbStoreConversation *conversation);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbStoreConversation, lb_store_conversation_free)

/**
 * LbStoreOutboxEntry:
 * @key: the store's key of the message in the Outbox folder
 * @sender: the envelope sender (SMTP MAIL FROM)
 * @recipients: (array zero-terminated=1): the envelope recipients, Bcc
 *   included
 * @bcc: (nullable): the Bcc field as typed (the bytes sent lack it)
 * @message_id: (nullable): the message's Message-ID, without brackets
 * @state: the outbox's state of the message (an #LbOutboxState of the
 *   model; the store only keeps it)
 * @attempts: how often sending it failed for now
 * @next_attempt: not to be tried before, seconds since the epoch
 * @send_after: not to be sent before (the undo delay), seconds since the
 *   epoch
 * @last_error: (nullable): why the last attempt failed
 * @in_reply_to: (nullable): the Message-ID it answers (to be flagged
 *   answered once sent)
 * @forwarded_id: (nullable): the Message-ID it forwards (to be flagged
 *   forwarded once sent)
 * @draft_key: the draft it was written from, 0 for none
 * @created: when it was queued, seconds since the epoch
 *
 * A message waiting to be sent (the account's outbox table). Free with
 * lb_store_outbox_entry_free().
 */
typedef struct
{
  gint64   key;
  char    *sender;
  char   **recipients;
  char    *bcc;
  char    *message_id;
  int      state;
  guint    attempts;
  gint64   next_attempt;
  gint64   send_after;
  char    *last_error;
  char    *in_reply_to;
  char    *forwarded_id;
  gint64   draft_key;
  gint64   created;
} LbStoreOutboxEntry;

LbStoreOutboxEntry *lb_store_outbox_entry_new  (void);
LbStoreOutboxEntry *lb_store_outbox_entry_copy (const LbStoreOutboxEntry *entry);
void                lb_store_outbox_entry_free (LbStoreOutboxEntry       *entry);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbStoreOutboxEntry, lb_store_outbox_entry_free)

#define LB_STORE_SCHEMA_VERSION 9

#define LB_TYPE_STORE (lb_store_get_type ())

G_DECLARE_FINAL_TYPE (LbStore, lb_store, LB, STORE, GObject)

void          lb_store_open_async             (const char          *directory,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
LbStore      *lb_store_open_finish            (GAsyncResult        *result,
                                               GError             **error);

const char   *lb_store_get_directory          (LbStore             *self);

/* folders */
void          lb_store_ensure_folder_async    (LbStore             *self,
                                               const char          *path,
                                               const char          *delimiter,
                                               LbFolderRole         role,
                                               gboolean             local,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
LbFolderInfo *lb_store_ensure_folder_finish   (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_list_folders_async     (LbStore             *self,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray    *lb_store_list_folders_finish    (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_get_folder_async       (LbStore             *self,
                                               gint64               folder_id,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
LbFolderInfo *lb_store_get_folder_finish      (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_set_folder_state_async (LbStore             *self,
                                               gint64               folder_id,
                                               guint32              uidvalidity,
                                               guint32              uidnext,
                                               guint64              highestmodseq,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_set_folder_state_finish (LbStore            *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_delete_folder_async    (LbStore             *self,
                                               gint64               folder_id,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_delete_folder_finish   (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);

void          lb_store_rename_folder_async    (LbStore             *self,
                                               gint64               folder_id,
                                               const char          *new_path,
                                               const char          *new_name,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_rename_folder_finish   (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_prune_folders_async    (LbStore             *self,
                                               GPtrArray           *keep_paths,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_prune_folders_finish   (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);

/* writing messages */
void          lb_store_add_summaries_async    (LbStore             *self,
                                               gint64               folder_id,
                                               GPtrArray           *summaries,
                                               GPtrArray           *body_texts,
                                               LbStoreWriteFlags    flags,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray    *lb_store_add_summaries_finish   (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_add_upload_async       (LbStore             *self,
                                               gint64               folder_id,
                                               LbMessageSummary    *summary,
                                               const char          *body_text,
                                               GBytes              *raw,
                                               gint64               replaces_key,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gint64        lb_store_add_upload_finish      (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_deliver_async          (LbStore             *self,
                                               gint64               folder_id,
                                               GPtrArray           *deliveries,
                                               LbStoreWriteFlags    flags,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray    *lb_store_deliver_finish         (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_set_flags_async        (LbStore             *self,
                                               GArray              *keys,
                                               guint                add,
                                               guint                remove,
                                               LbStoreWriteFlags    flags,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_set_flags_finish       (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_queue_keywords_async   (LbStore             *self,
                                               GArray              *keys,
                                               guint                add,
                                               guint                remove,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_queue_keywords_finish  (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_move_messages_async    (LbStore             *self,
                                               GArray              *keys,
                                               gint64               target_folder_id,
                                               LbStoreWriteFlags    flags,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_move_messages_finish   (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_delete_messages_async  (LbStore             *self,
                                               GArray              *keys,
                                               LbStoreWriteFlags    flags,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_delete_messages_finish (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_expunge_async          (LbStore             *self,
                                               gint64               folder_id,
                                               LbStoreWriteFlags    flags,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_expunge_finish         (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_cache_body_async       (LbStore             *self,
                                               gint64               key,
                                               GBytes              *raw,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_cache_body_finish      (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);

/* reading messages */
void          lb_store_get_message_async      (LbStore             *self,
                                               gint64               key,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
LbMessageSummary *lb_store_get_message_finish (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_read_message_async     (LbStore             *self,
                                               gint64               key,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GBytes       *lb_store_read_message_finish    (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_list_messages_async    (LbStore             *self,
                                               gint64               folder_id,
                                               guint                offset,
                                               guint                limit,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
void          lb_store_list_messages_before_async (LbStore         *self,
                                               gint64               folder_id,
                                               gint64               date,
                                               gint64               key,
                                               guint                limit,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray    *lb_store_list_messages_finish   (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_count_before_async     (LbStore             *self,
                                               gint64               folder_id,
                                               GArray              *positions,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GArray       *lb_store_count_before_finish    (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_list_positions_async   (LbStore             *self,
                                               gint64               folder_id,
                                               guint                limit,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GArray       *lb_store_list_positions_finish  (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_search_async           (LbStore             *self,
                                               const char          *text,
                                               gint64               folder_id,
                                               guint                limit,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray    *lb_store_search_finish          (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_get_thread_async       (LbStore             *self,
                                               gint64               thread_id,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray    *lb_store_get_thread_finish      (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);

/* conversations: a folder's messages grouped by thread */
void          lb_store_list_conversations_async (LbStore           *self,
                                               gint64               folder_id,
                                               guint                offset,
                                               guint                limit,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray    *lb_store_list_conversations_finish (LbStore          *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_count_conversations_async (LbStore          *self,
                                               gint64               folder_id,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_count_conversations_finish (LbStore         *self,
                                               GAsyncResult        *result,
                                               guint               *count,
                                               GError             **error);
void          lb_store_count_conversations_before_async (LbStore   *self,
                                               gint64               folder_id,
                                               GArray              *positions,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GArray       *lb_store_count_conversations_before_finish (LbStore  *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_list_conversation_positions_async (LbStore  *self,
                                               gint64               folder_id,
                                               guint                limit,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GArray       *lb_store_list_conversation_positions_finish (LbStore *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_get_conversation_async (LbStore             *self,
                                               gint64               key,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
LbStoreConversation *lb_store_get_conversation_finish (LbStore     *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_list_conversation_messages_async (LbStore   *self,
                                               gint64               folder_id,
                                               gint64               thread_id,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray    *lb_store_list_conversation_messages_finish (LbStore  *self,
                                               GAsyncResult        *result,
                                               GError             **error);

void          lb_store_get_messages_async     (LbStore             *self,
                                               GArray              *keys,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray    *lb_store_get_messages_finish    (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_list_uncached_async    (LbStore             *self,
                                               gint64               folder_id,
                                               gint64               since,
                                               guint                limit,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray    *lb_store_list_uncached_finish   (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);

/* keeping a server folder in step (IMAP sync) */
void          lb_store_list_uids_async        (LbStore             *self,
                                               gint64               folder_id,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GArray       *lb_store_list_uids_finish       (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_keys_for_uids_async    (LbStore             *self,
                                               gint64               folder_id,
                                               GArray              *uids,
                                               guint                limit,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GArray       *lb_store_keys_for_uids_finish   (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_sync_flags_async       (LbStore             *self,
                                               gint64               folder_id,
                                               GArray              *states,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_sync_flags_finish      (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_remove_uids_async      (LbStore             *self,
                                               gint64               folder_id,
                                               GArray              *uids,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_remove_uids_finish     (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_reset_folder_async     (LbStore             *self,
                                               gint64               folder_id,
                                               guint32              uidvalidity,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_reset_folder_finish    (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_remove_orphans_async   (LbStore             *self,
                                               gint64               folder_id,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
guint         lb_store_remove_orphans_finish  (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_set_uid_async          (LbStore             *self,
                                               gint64               key,
                                               gint64               folder_id,
                                               guint32              uid,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_set_uid_finish         (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);

/* the offline operation queue */
void          lb_store_list_ops_async         (LbStore             *self,
                                               guint                limit,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray    *lb_store_list_ops_finish        (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_finish_op_async        (LbStore             *self,
                                               gint64               op_id,
                                               const char          *failure,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_finish_op_finish       (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);

void          lb_store_cache_bodies_async     (LbStore             *self,
                                               GArray              *keys,
                                               GPtrArray           *raws,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_cache_bodies_finish    (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_index_pending_async    (LbStore             *self,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_index_pending_finish   (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);

/* POP3: the messages downloaded (see also LbStoreDownload) */
void          lb_store_list_pop3_uidls_async  (LbStore             *self,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GHashTable   *lb_store_list_pop3_uidls_finish (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_get_pop3_uidl_async    (LbStore             *self,
                                               gint64               key,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
LbStorePop3Uidl *lb_store_get_pop3_uidl_finish (LbStore            *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_forget_pop3_uidls_async (LbStore            *self,
                                               GPtrArray           *uidls,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_forget_pop3_uidls_finish (LbStore           *self,
                                               GAsyncResult        *result,
                                               GError             **error);

/* the outbox: messages waiting to be sent (their bytes are in the local
 * Outbox folder) */
void          lb_store_outbox_put_async       (LbStore             *self,
                                               const LbStoreOutboxEntry *entry,
                                               LbStoreWriteFlags    flags,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_outbox_put_finish      (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_outbox_set_state_async (LbStore             *self,
                                               gint64               key,
                                               int                  state,
                                               guint                attempts,
                                               gint64               next_attempt,
                                               const char          *last_error,
                                               LbStoreWriteFlags    flags,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_outbox_set_state_finish (LbStore            *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_outbox_list_async      (LbStore             *self,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray    *lb_store_outbox_list_finish     (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);
void          lb_store_outbox_remove_async    (LbStore             *self,
                                               gint64               key,
                                               LbStoreWriteFlags    flags,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean      lb_store_outbox_remove_finish   (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);

/* records (no recipients, @state, @last_error) for the messages of the
 * Outbox folder @folder_id that have none; the keys given one */
void          lb_store_outbox_adopt_async     (LbStore             *self,
                                               gint64               folder_id,
                                               int                  state,
                                               const char          *last_error,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GArray       *lb_store_outbox_adopt_finish    (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);

/* the keys of the messages with @message_id (no brackets), any folder */
void          lb_store_find_message_id_async  (LbStore             *self,
                                               const char          *message_id,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GArray       *lb_store_find_message_id_finish (LbStore             *self,
                                               GAsyncResult        *result,
                                               GError             **error);

char         *lb_store_make_fts_query         (const char          *text);

/* addresses seen in the messages that start with what was typed, for
 * completing an address field */
void          lb_store_complete_addresses_async (LbStore           *self,
                                               const char          *prefix,
                                               guint                limit,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
GPtrArray    *lb_store_complete_addresses_finish (LbStore          *self,
                                               GAsyncResult        *result,
                                               GError             **error);

G_END_DECLS
