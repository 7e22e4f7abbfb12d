/* lb-sync-scheduler.h: keeps the accounts open and their mail up to date
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-account-manager.h"

G_BEGIN_DECLS

#define LB_TYPE_SYNC_SCHEDULER (lb_sync_scheduler_get_type ())

G_DECLARE_FINAL_TYPE (LbSyncScheduler, lb_sync_scheduler, LB, SYNC_SCHEDULER, GObject)

/* @monitor: (nullable): the network monitor, NULL for the default one */
LbSyncScheduler *lb_sync_scheduler_new               (LbAccountManager *manager,
                                                      GNetworkMonitor  *monitor);

void             lb_sync_scheduler_set_first_sync_delay (LbSyncScheduler *self,
                                                         guint            milliseconds);
void             lb_sync_scheduler_start             (LbSyncScheduler  *self);
void             lb_sync_scheduler_stop              (LbSyncScheduler  *self);

void             lb_sync_scheduler_sync_now          (LbSyncScheduler  *self,
                                                      LbAccount        *account);
void             lb_sync_scheduler_set_shown_folder  (LbSyncScheduler  *self,
                                                      LbAccount        *account,
                                                      LbFolder         *folder);

gboolean         lb_sync_scheduler_get_offline       (LbSyncScheduler  *self);
gboolean         lb_sync_scheduler_get_busy          (LbSyncScheduler  *self,
                                                      LbAccount        *account);
const GError    *lb_sync_scheduler_get_error         (LbSyncScheduler  *self,
                                                      LbAccount        *account);
/* Forgets @account's error and tries it again (after the user pinned its
 * certificate or changed its settings). */
void             lb_sync_scheduler_retry             (LbSyncScheduler  *self,
                                                      LbAccount        *account);

/* The certificate an account's server was refused for, to show the user:
 * %NULL when its last error was not an untrusted certificate. */
GTlsCertificate *lb_sync_scheduler_dup_rejected_certificate (LbSyncScheduler      *self,
                                                             LbAccount            *account,
                                                             char                **host,
                                                             guint16              *port,
                                                             GTlsCertificateFlags *errors);

G_END_DECLS
