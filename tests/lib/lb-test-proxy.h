/* lb-test-proxy.h: a loopback TCP proxy that can cut connections
 *
 * Tests put it between a client and a real server (the harness's Dovecot)
 * to drop a connection after an exact number of bytes, or to make the
 * server unreachable and bring it back. It runs in a thread of its own with
 * its own GMainContext, so the test's thread may block or run its own loops.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _LbTestProxy LbTestProxy;

LbTestProxy *lb_test_proxy_new                 (const char   *host,
                                                guint16       target_port,
                                                GError      **error);
guint16      lb_test_proxy_get_port            (LbTestProxy  *self);
void         lb_test_proxy_set_cut_after       (LbTestProxy  *self,
                                                guint64       server_to_client_bytes);
void         lb_test_proxy_set_down            (LbTestProxy  *self,
                                                gboolean      down);
void         lb_test_proxy_set_held            (LbTestProxy  *self,
                                                gboolean      held);
void         lb_test_proxy_hold_open           (LbTestProxy  *self,
                                                gboolean      held);
guint64      lb_test_proxy_get_bytes_to_client (LbTestProxy  *self);
guint        lb_test_proxy_get_n_connections   (LbTestProxy  *self);
guint        lb_test_proxy_get_n_cuts          (LbTestProxy  *self);
guint        lb_test_proxy_get_n_open          (LbTestProxy  *self);
void         lb_test_proxy_free                (LbTestProxy  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbTestProxy, lb_test_proxy_free)

G_END_DECLS
