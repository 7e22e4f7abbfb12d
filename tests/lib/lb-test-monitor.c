/* lb-test-monitor.c: a GNetworkMonitor the test switches on and off
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-test"

#include "config.h"

#include "lb-test-monitor.h"

struct _LbTestMonitor
{
  GObject  parent_instance;
  gboolean available;
};

enum {
  MONITOR_PROP_0,
  MONITOR_PROP_AVAILABLE,
  MONITOR_PROP_METERED,
  MONITOR_PROP_CONNECTIVITY,
};

static gboolean
lb_test_monitor_can_reach (GNetworkMonitor     *monitor,
                        GSocketConnectable  *connectable,
                        GCancellable        *cancellable,
                        GError             **error)
{
  return LB_TEST_MONITOR (monitor)->available;
}

static void
lb_test_monitor_iface_init (GNetworkMonitorInterface *iface)
{
  iface->can_reach = lb_test_monitor_can_reach;
}

static gboolean
lb_test_monitor_init_initable (GInitable     *initable,
                            GCancellable  *cancellable,
                            GError       **error)
{
  return TRUE;
}

static void
lb_test_monitor_initable_iface_init (GInitableIface *iface)
{
  iface->init = lb_test_monitor_init_initable;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (LbTestMonitor, lb_test_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, lb_test_monitor_initable_iface_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_NETWORK_MONITOR, lb_test_monitor_iface_init))

static void
lb_test_monitor_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  LbTestMonitor *self = LB_TEST_MONITOR (object);

  switch (prop_id)
    {
    case MONITOR_PROP_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;

    case MONITOR_PROP_METERED:
      g_value_set_boolean (value, FALSE);
      break;

    case MONITOR_PROP_CONNECTIVITY:
      g_value_set_enum (value, self->available ? G_NETWORK_CONNECTIVITY_FULL : G_NETWORK_CONNECTIVITY_LOCAL);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_test_monitor_class_init (LbTestMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = lb_test_monitor_get_property;
  g_object_class_override_property (object_class, MONITOR_PROP_AVAILABLE, "network-available");
  g_object_class_override_property (object_class, MONITOR_PROP_METERED, "network-metered");
  g_object_class_override_property (object_class, MONITOR_PROP_CONNECTIVITY, "connectivity");
}

static void
lb_test_monitor_init (LbTestMonitor *self)
{
  self->available = TRUE;
}

LbTestMonitor *
lb_test_monitor_new (void)
{
  return g_object_new (LB_TEST_TYPE_MONITOR, NULL);
}

void
lb_test_monitor_set_available (LbTestMonitor *self,
                            gboolean     available)
{
  self->available = available;
  g_signal_emit_by_name (self, "network-changed", available);
}
