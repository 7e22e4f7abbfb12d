/* lb-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "lb-account-manager.h"
#include "lb-outbox.h"
#include "lb-sync-scheduler.h"

G_BEGIN_DECLS

#define LB_TYPE_APPLICATION (lb_application_get_type ())

G_DECLARE_FINAL_TYPE (LbApplication, lb_application, LB, APPLICATION, AdwApplication)

LbApplication *lb_application_new          (void);
GSettings        *lb_application_get_settings  (LbApplication *self);
LbAccountManager *lb_application_get_manager   (LbApplication *self);
LbSyncScheduler  *lb_application_get_scheduler (LbApplication *self);
gboolean          lb_application_get_loaded    (LbApplication *self);
LbOutbox         *lb_application_get_outbox    (LbApplication *self);

G_END_DECLS
