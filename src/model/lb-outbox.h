/* lb-outbox.h: messages waiting to be sent, and sending them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-account-manager.h"
#include "lb-outgoing-message.h"

G_BEGIN_DECLS

/**
 * LbOutboxState:
 * @LB_OUTBOX_STATE_WAITING: queued; sent when its undo delay has passed
 *   and the account's server can be reached (retried with backoff after a
 *   temporary error)
 * @LB_OUTBOX_STATE_SENDING: being handed to the server now
 * @LB_OUTBOX_STATE_FAILED: refused for good (a wrong address, the
 *   password, too large): kept for the user to edit; the error says why
 * @LB_OUTBOX_STATE_UNCERTAIN: the send was cut off after the whole message
 *   was handed over (or Letterbox stopped while sending): it may have gone.
 *   Never sent again without the user's word (lb_outbox_retry_async())
 * @LB_OUTBOX_STATE_SENT: the server accepted it; being filed in Sent and
 *   removed from the Outbox
 */
typedef enum
{
  LB_OUTBOX_STATE_WAITING,
  LB_OUTBOX_STATE_SENDING,
  LB_OUTBOX_STATE_FAILED,
  LB_OUTBOX_STATE_UNCERTAIN,
  LB_OUTBOX_STATE_SENT,
} LbOutboxState;

#define LB_TYPE_OUTBOX (lb_outbox_get_type ())

G_DECLARE_FINAL_TYPE (LbOutbox, lb_outbox, LB, OUTBOX, GObject)

/* One outbox for all the accounts of @manager; each account's messages
 * wait in its local Outbox folder (written and fsync'ed before
 * lb_outbox_queue_finish() returns) with their state in its store, so a
 * restart picks them up. @monitor: NULL for the default. */
LbOutbox      *lb_outbox_new               (LbAccountManager    *manager,
                                            GNetworkMonitor     *monitor);

/* seconds a queued message waits before it is sent, for "Undo" (0: none) */
guint          lb_outbox_get_undo_delay    (LbOutbox            *self);
void           lb_outbox_set_undo_delay    (LbOutbox            *self,
                                            guint                seconds);

/* Puts @message in @account's Outbox (after lb_outgoing_message_check()).
 * @draft_key: the key of the draft it was written from, 0 for none: the
 * draft is removed once the message is safe in the Outbox. Returns the
 * message's key in the Outbox. */
void           lb_outbox_queue_async       (LbOutbox            *self,
                                            LbAccount           *account,
                                            LbOutgoingMessage   *message,
                                            gint64               draft_key,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gint64         lb_outbox_queue_finish      (LbOutbox            *self,
                                            GAsyncResult        *result,
                                            GError             **error);

/* Undo send, or "Edit" of a failed or uncertain message: takes it out of
 * the Outbox and returns it (Bcc included) for the composer. Fails with
 * G_IO_ERROR_BUSY when it is being sent or was sent already. */
void           lb_outbox_take_back_async   (LbOutbox            *self,
                                            LbAccount           *account,
                                            gint64               key,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
LbOutgoingMessage *lb_outbox_take_back_finish (LbOutbox         *self,
                                            GAsyncResult        *result,
                                            GError             **error);

/* "Send Again" for a failed or uncertain message, or "Send Now" for a
 * waiting one */
void           lb_outbox_retry_async       (LbOutbox            *self,
                                            LbAccount           *account,
                                            gint64               key,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
gboolean       lb_outbox_retry_finish      (LbOutbox            *self,
                                            GAsyncResult        *result,
                                            GError             **error);

/* the state of a message in an Outbox folder, with its last error
 * (translated; NULL when none); FALSE when @key is not in the outbox */
gboolean       lb_outbox_get_state         (LbOutbox            *self,
                                            LbAccount           *account,
                                            gint64               key,
                                            LbOutboxState       *state,
                                            char               **error_message);

/* Sends what is due now (all accounts) without waiting for the backoff;
 * also done when the network comes back */
void           lb_outbox_flush             (LbOutbox            *self);

/* Signals:
 * ::state-changed (LbAccount *account, gint64 key, LbOutboxState state):
 *   a message changed state (also when it failed: see
 *   lb_outbox_get_state() for the error)
 * ::sent (LbAccount *account, gint64 outbox_key, const char *message_id):
 *   the server took it (it is then filed in Sent)
 * ::filed (LbAccount *account, gint64 outbox_key): a sent message was
 *   filed (copied to Sent, its originals flagged \Answered or $Forwarded)
 *   and is gone from the Outbox
 *
 * Never twice (at most once): the state SENDING is written to disk before
 * the message is handed to the server, SENT when the server took it. A
 * message found SENDING when its account opens (Letterbox stopped or
 * crashed in between) becomes UNCERTAIN: it may have been sent, and it is
 * never sent again without lb_outbox_retry_async(). */

G_END_DECLS
