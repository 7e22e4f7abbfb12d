/* lb-imap-client.h: an IMAP client on a GIOStream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-connector.h"
#include "lb-imap-command.h"
#include "lb-imap-response.h"

G_BEGIN_DECLS

#define LB_IMAP_ERROR (lb_imap_error_quark ())

/**
 * LbImapError:
 * @LB_IMAP_ERROR_NO: the server refused the command (NO); the message is
 *   the server's text, prefixed by what failed
 * @LB_IMAP_ERROR_BAD: the server did not understand the command (BAD)
 * @LB_IMAP_ERROR_AUTHENTICATION: the user name or password was refused
 * @LB_IMAP_ERROR_BYE: the server closed the session (BYE, or the
 *   connection dropped): reconnect
 * @LB_IMAP_ERROR_PROTOCOL: the server sent something that is not IMAP
 * @LB_IMAP_ERROR_NO_STARTTLS: STARTTLS was asked for and the server does
 *   not offer it, or logged in before the connection was secured (PREAUTH);
 *   nothing more was sent
 * @LB_IMAP_ERROR_NOT_SUPPORTED: the server lacks a needed capability
 * @LB_IMAP_ERROR_TRYCREATE: the target mailbox does not exist
 * @LB_IMAP_ERROR_STATE: the command is not allowed in the client's state
 * @LB_IMAP_ERROR_NONEXISTENT: the mailbox does not exist
 *
 * Every message is translated and says what failed, with the server's own
 * words where it gave any.
 */
typedef enum
{
  LB_IMAP_ERROR_NO,
  LB_IMAP_ERROR_BAD,
  LB_IMAP_ERROR_AUTHENTICATION,
  LB_IMAP_ERROR_BYE,
  LB_IMAP_ERROR_PROTOCOL,
  LB_IMAP_ERROR_NO_STARTTLS,
  LB_IMAP_ERROR_NOT_SUPPORTED,
  LB_IMAP_ERROR_TRYCREATE,
  LB_IMAP_ERROR_STATE,
  LB_IMAP_ERROR_NONEXISTENT,
} LbImapError;

GQuark lb_imap_error_quark (void);

typedef enum
{
  LB_IMAP_STATE_NOT_AUTHENTICATED,
  LB_IMAP_STATE_AUTHENTICATED,
  LB_IMAP_STATE_SELECTED,
  LB_IMAP_STATE_LOGOUT,        /* closed, by LOGOUT, BYE or a dropped connection */
} LbImapState;

#define LB_TYPE_IMAP_CLIENT (lb_imap_client_get_type ())

G_DECLARE_FINAL_TYPE (LbImapClient, lb_imap_client, LB, IMAP_CLIENT, GObject)

/* what SELECT/EXAMINE told us */
typedef struct
{
  char     *mailbox;          /* UTF-8 */
  gboolean  read_only;
  guint32   exists;
  guint32   uidvalidity;
  guint32   uidnext;          /* 0 when not sent */
  guint64   highestmodseq;    /* 0 when not sent or NOMODSEQ */
  gboolean  nomodseq;
  char    **flags;
  char    **permanent_flags;  /* NULL when not sent */
} LbImapMailboxInfo;

void               lb_imap_mailbox_info_free (LbImapMailboxInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbImapMailboxInfo, lb_imap_mailbox_info_free)

/* QRESYNC parameters for SELECT (RFC 7162); known_uids may be NULL */
typedef struct
{
  guint32     uidvalidity;
  guint64     modseq;
  const char *known_uids;     /* a UID set string, or NULL */
} LbImapQresync;

/* called for each untagged response a running command claims (FETCH
 * during UID FETCH, VANISHED during a QRESYNC SELECT, ...); return TRUE
 * when it was consumed. The response is only valid during the call
 * unless referenced. */
typedef gboolean (*LbImapUntaggedFunc) (LbImapClient   *client,
                                        LbImapResponse *response,
                                        gpointer        user_data);

/* the protocol log: one call per line sent or received, credentials and
 * message contents already replaced ("LOGIN alice ***", "{2048 bytes}") */
typedef void (*LbImapTraceFunc) (LbImapClient *client,
                                 gboolean      sent,
                                 const char   *line,
                                 gpointer      user_data);

/* @stream: a connected stream (plain or TLS); the client reads the greeting
 * with lb_imap_client_greet_async(). It works on the caller's thread-default
 * main context, switches the socket's own timeout off (IDLE waits for
 * minutes) and applies lb_imap_client_set_timeout() instead. On TCP it
 * turns keepalive on (first probe after 2 minutes), and IDLE is renewed
 * every 9 minutes, so a dead link is noticed while idling too. */
LbImapClient      *lb_imap_client_new                (GIOStream            *stream);

/* the transport: the TLS connection after STARTTLS; under COMPRESS its
 * bytes are compressed */
GIOStream         *lb_imap_client_get_stream         (LbImapClient         *self);
LbImapState        lb_imap_client_get_state          (LbImapClient         *self);
gboolean           lb_imap_client_has_capability     (LbImapClient         *self,
                                                      const char           *name);
char             **lb_imap_client_dup_capabilities   (LbImapClient         *self);
gboolean           lb_imap_client_is_enabled         (LbImapClient         *self,
                                                      const char           *name);
/* the selected mailbox, NULL unless selected */
const LbImapMailboxInfo *lb_imap_client_get_selected (LbImapClient         *self);
/* the hierarchy delimiter of the personal namespace once known, else '\0' */
char               lb_imap_client_get_delimiter      (LbImapClient         *self);

void               lb_imap_client_set_trace_func     (LbImapClient         *self,
                                                      LbImapTraceFunc       func,
                                                      gpointer              user_data,
                                                      GDestroyNotify        destroy);
/* seconds to wait for the server to answer anything before the connection
 * is declared dead (not applied while IDLE, but to the answer when IDLE is
 * renewed); 0 = none; default 60 */
void               lb_imap_client_set_timeout        (LbImapClient         *self,
                                                      guint                 seconds);

/* the generic command runner: commands are pipelined (sent without waiting
 * for earlier ones) unless lb_imap_command_set_exclusive() says otherwise.
 * Returns the tagged OK response; NO and BAD become errors. */
void               lb_imap_client_run_async          (LbImapClient         *self,
                                                      LbImapCommand        *command,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
LbImapResponse    *lb_imap_client_run_finish         (LbImapClient         *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

/* The typed commands. Each _finish returns FALSE/NULL with an error. */
void               lb_imap_client_greet_async        (LbImapClient *self, GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_greet_finish       (LbImapClient *self, GAsyncResult *result, GError **error);

void               lb_imap_client_capability_async   (LbImapClient *self, GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_capability_finish  (LbImapClient *self, GAsyncResult *result, GError **error);

/* fails with LB_IMAP_ERROR_NO_STARTTLS without sending anything when the
 * server does not offer STARTTLS, and closes the connection when the
 * server logged in before it was secured (a PREAUTH greeting); on any
 * failure the connection must be dropped. Capabilities are asked for
 * again afterwards. */
void               lb_imap_client_starttls_async     (LbImapClient *self, LbConnector *connector,
                                                      const char *host, guint16 port,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_starttls_finish    (LbImapClient *self, GAsyncResult *result, GError **error);

/* AUTHENTICATE PLAIN when offered (with SASL-IR when offered), else LOGIN
 * (unless LOGINDISABLED) */
void               lb_imap_client_login_async        (LbImapClient *self, const char *user, const char *password,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_login_finish       (LbImapClient *self, GAsyncResult *result, GError **error);
/* AUTHENTICATE XOAUTH2 with a bearer token */
void               lb_imap_client_xoauth2_async      (LbImapClient *self, const char *user, const char *token,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_xoauth2_finish     (LbImapClient *self, GAsyncResult *result, GError **error);

/* ID: @params key, value, ... NULL (may be NULL); returns the server's */
void               lb_imap_client_id_async           (LbImapClient *self, const char * const *params,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
char             **lb_imap_client_id_finish          (LbImapClient *self, GAsyncResult *result, GError **error);

/* ENABLE those of @extensions the server offers; returns what got enabled */
void               lb_imap_client_enable_async       (LbImapClient *self, const char * const *extensions,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
char             **lb_imap_client_enable_finish      (LbImapClient *self, GAsyncResult *result, GError **error);

/* COMPRESS=DEFLATE; FALSE without error when not offered */
void               lb_imap_client_compress_async     (LbImapClient *self, GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_compress_finish    (LbImapClient *self, GAsyncResult *result, GError **error);

/* NAMESPACE: the untagged NAMESPACE response (or NULL when not offered) */
void               lb_imap_client_namespace_async    (LbImapClient *self, GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
LbImapResponse    *lb_imap_client_namespace_finish   (LbImapClient *self, GAsyncResult *result, GError **error);

/* LIST "" "*" with RETURN (SPECIAL-USE [STATUS (...)]) where offered (else
 * LIST then XLIST-free well-known names are the caller's business); returns
 * a GPtrArray of LbImapResponse: the LIST responses, and STATUS responses
 * when @with_status and LIST-STATUS is offered */
void               lb_imap_client_list_async         (LbImapClient *self, const char *pattern,
                                                      gboolean subscribed_only, gboolean with_status,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
GPtrArray         *lb_imap_client_list_finish        (LbImapClient *self, GAsyncResult *result, GError **error);

void               lb_imap_client_status_async       (LbImapClient *self, const char *mailbox,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
LbImapStatusData  *lb_imap_client_status_finish      (LbImapClient *self, GAsyncResult *result, GError **error);

/* CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE; @new_name only for RENAME */
typedef enum
{
  LB_IMAP_MAILBOX_CREATE,
  LB_IMAP_MAILBOX_DELETE,
  LB_IMAP_MAILBOX_RENAME,
  LB_IMAP_MAILBOX_SUBSCRIBE,
  LB_IMAP_MAILBOX_UNSUBSCRIBE,
} LbImapMailboxOp;
void               lb_imap_client_mailbox_async      (LbImapClient *self, LbImapMailboxOp op,
                                                      const char *mailbox, const char *new_name,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_mailbox_finish     (LbImapClient *self, GAsyncResult *result, GError **error);

/* SELECT (or EXAMINE when @read_only), with CONDSTORE when enabled/offered
 * and QRESYNC when @qresync is given and QRESYNC is enabled; @func receives
 * the untagged VANISHED (EARLIER) and FETCH responses of the resync */
void               lb_imap_client_select_async       (LbImapClient *self, const char *mailbox,
                                                      gboolean read_only, const LbImapQresync *qresync,
                                                      LbImapUntaggedFunc func, gpointer func_data,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
LbImapMailboxInfo *lb_imap_client_select_finish      (LbImapClient *self, GAsyncResult *result, GError **error);

/* UNSELECT where offered, else CLOSE (which expunges!) only when
 * @allow_close, else EXAMINE of a nonexistent name is not attempted:
 * fails with LB_IMAP_ERROR_NOT_SUPPORTED */
void               lb_imap_client_unselect_async     (LbImapClient *self, gboolean allow_close,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_unselect_finish    (LbImapClient *self, GAsyncResult *result, GError **error);

/* UID FETCH @uid_set (@items), e.g. "(UID FLAGS)"; @changedsince > 0 adds
 * (CHANGEDSINCE n [VANISHED]). @func gets every FETCH (and VANISHED). */
void               lb_imap_client_uid_fetch_async    (LbImapClient *self, const char *uid_set,
                                                      const char *items, guint64 changedsince,
                                                      gboolean vanished,
                                                      LbImapUntaggedFunc func, gpointer func_data,
                                                      GDestroyNotify func_data_destroy,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_uid_fetch_finish   (LbImapClient *self, GAsyncResult *result, GError **error);

/* UID STORE @uid_set +FLAGS.SILENT/-FLAGS.SILENT (@flags); @unchangedsince
 * > 0 adds (UNCHANGEDSINCE n); returns the MODIFIED set (or NULL) as a
 * GArray of LbImapRange */
void               lb_imap_client_uid_store_async    (LbImapClient *self, const char *uid_set,
                                                      gboolean add, const char * const *flags,
                                                      guint64 unchangedsince,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_uid_store_finish   (LbImapClient *self, GAsyncResult *result,
                                                      GArray **modified, GError **error);

/* UID COPY / UID MOVE (MOVE falls back to COPY + STORE \Deleted + UID
 * EXPUNGE (UIDPLUS) when MOVE is not offered, and fails with NOT_SUPPORTED
 * without UIDPLUS). Returns the COPYUID data: the source and destination
 * UID sets as GArrays of LbImapRange (either may be NULL) */
void               lb_imap_client_uid_copy_async     (LbImapClient *self, const char *uid_set,
                                                      const char *target, gboolean move,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_uid_copy_finish    (LbImapClient *self, GAsyncResult *result,
                                                      guint32 *uidvalidity, GArray **source_uids,
                                                      GArray **target_uids, GError **error);

/* UID EXPUNGE @uid_set (UIDPLUS), or EXPUNGE when @uid_set is NULL */
void               lb_imap_client_expunge_async      (LbImapClient *self, const char *uid_set,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_expunge_finish     (LbImapClient *self, GAsyncResult *result, GError **error);

/* APPEND (with LITERAL+ or a synchronizing literal); returns the new UID
 * from APPENDUID, 0 when the server does not tell */
void               lb_imap_client_append_async       (LbImapClient *self, const char *mailbox,
                                                      const char * const *flags, gint64 internaldate,
                                                      GBytes *message,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
guint32            lb_imap_client_append_finish      (LbImapClient *self, GAsyncResult *result,
                                                      guint32 *uidvalidity, GError **error);

/* UID SEARCH @criteria (an already built criteria command fragment);
 * uses ESEARCH (RETURN (ALL)) when offered; returns sorted UIDs. Never a
 * partial result: an answer that cannot be used, or that names more than
 * 16 million messages, fails with LB_IMAP_ERROR_PROTOCOL. */
void               lb_imap_client_uid_search_async   (LbImapClient *self, LbImapCommand *criteria,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
GArray            *lb_imap_client_uid_search_finish  (LbImapClient *self, GAsyncResult *result, GError **error);

/* IDLE until lb_imap_client_idle_done() or @cancellable; renews itself
 * (DONE + IDLE) before the server's 29-minute limit; @func receives
 * EXISTS/EXPUNGE/FETCH/VANISHED as they come. Fails with NOT_SUPPORTED
 * without IDLE. */
void               lb_imap_client_idle_async         (LbImapClient *self,
                                                      LbImapUntaggedFunc func, gpointer func_data,
                                                      GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_idle_finish        (LbImapClient *self, GAsyncResult *result, GError **error);
void               lb_imap_client_idle_done          (LbImapClient *self);

void               lb_imap_client_noop_async         (LbImapClient *self, GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_noop_finish        (LbImapClient *self, GAsyncResult *result, GError **error);

void               lb_imap_client_logout_async       (LbImapClient *self, GCancellable *cancellable,
                                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean           lb_imap_client_logout_finish      (LbImapClient *self, GAsyncResult *result, GError **error);

/* drops the connection at once; pending commands fail with BYE */
void               lb_imap_client_close              (LbImapClient *self);

/* Signals:
 *   "untagged" (LbImapResponse *): every untagged response no running
 *     command claimed (EXISTS, EXPUNGE, FETCH FLAGS of others, ALERT...)
 *   "closed" (GError *): the session ended (BYE, drop, LOGOUT); the error
 *     says why (NULL for LOGOUT)
 */

G_END_DECLS
