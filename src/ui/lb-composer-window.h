/* lb-composer-window.h: a window to write a message in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lb-account-manager.h"
#include "lb-outbox.h"
#include "lb-outgoing-message.h"

G_BEGIN_DECLS

#define LB_TYPE_COMPOSER_WINDOW (lb_composer_window_get_type ())

G_DECLARE_FINAL_TYPE (LbComposerWindow, lb_composer_window, LB, COMPOSER_WINDOW, AdwApplicationWindow)

/* A new, empty message from @identity of @account (NULL: the account's
 * default identity), its signature added. The From list offers every
 * identity of every account of @manager; sending queues the message in
 * @outbox. */
LbComposerWindow  *lb_composer_window_new              (GtkApplication    *application,
                                                        LbAccountManager  *manager,
                                                        LbOutbox          *outbox,
                                                        LbAccount         *account,
                                                        LbIdentity        *identity);
/* @message (a reply, a forward, a mailto: link, a draft reopened, a
 * message taken back from the Outbox) written from @account: its From
 * picks the identity when it is one of the accounts'. @draft_key: the key
 * of the draft @message was read from in @account's Drafts (0: none),
 * replaced by the next save. @add_signature: TRUE for a message begun
 * now, FALSE for one continued. */
LbComposerWindow  *lb_composer_window_new_from_message (GtkApplication    *application,
                                                        LbAccountManager  *manager,
                                                        LbOutbox          *outbox,
                                                        LbAccount         *account,
                                                        LbOutgoingMessage *message,
                                                        gint64             draft_key,
                                                        gboolean           add_signature);

/* the account the message is sent from (the From chosen) */
LbAccount         *lb_composer_window_get_account      (LbComposerWindow  *self);
/* the message with what the fields hold now */
LbOutgoingMessage *lb_composer_window_get_message      (LbComposerWindow  *self);
/* the key of the last version saved in Drafts, 0 before the first save */
gint64             lb_composer_window_get_draft_key    (LbComposerWindow  *self);
/* whether a draft save is under way */
gboolean           lb_composer_window_get_saving       (LbComposerWindow  *self);

/* Attaches @file, read asynchronously (the attach button and a drop do
 * this; tests call it as the file chooser cannot be driven). */
void               lb_composer_window_attach_file      (LbComposerWindow  *self,
                                                        GFile             *file);

/* For tests: how long the draft is saved after the last edit. */
void               lb_composer_window_set_autosave_delay (LbComposerWindow *self,
                                                        guint              ms);

/* Signals:
 * ::queued (LbAccount *account, gint64 outbox_key): the message was put in
 *   the Outbox; the window closes next */

G_END_DECLS
