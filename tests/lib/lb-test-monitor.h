/* lb-test-monitor.h: a GNetworkMonitor the test switches on and off
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define LB_TEST_TYPE_MONITOR (lb_test_monitor_get_type ())
G_DECLARE_FINAL_TYPE (LbTestMonitor, lb_test_monitor, LB_TEST, MONITOR, GObject)

/* A monitor that says the network is available, until told otherwise;
 * it can reach any address exactly while available. */
LbTestMonitor *lb_test_monitor_new           (void);
/* Sets "network-available" and emits "network-changed". */
void           lb_test_monitor_set_available (LbTestMonitor *self,
                                              gboolean       available);

G_END_DECLS
