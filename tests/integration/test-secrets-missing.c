/* test-secrets-missing.c: LbSecrets without a working Secret Service: no
 * session bus, a bus without one (the harness's private bus, which has no
 * activatable services), one that fails to start, one that never answers
 * and one that goes away mid-request. Each must end in a clear error, at
 * once or within the timeout, never in a hang.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>

#include "lb-secrets.h"
#include "lb-test-session.h"

#define SECRET_SERVICE_NAME "org.freedesktop.secrets"

static const LbSecretKey imap = { "account-1", "imap", "imap.example.test", "alice" };
static const LbSecretKey whole_account = { "account-1", NULL, NULL, NULL };

typedef enum
{
  OP_LOOKUP,
  OP_STORE,
  OP_CLEAR,
} Op;

static const char *
op_name (Op op)
{
  return op == OP_LOOKUP ? "lookup" : op == OP_STORE ? "store" : "clear";
}

/* Runs @op, with @cancellable, and returns its error; *@elapsed: how long
 * it took, in microseconds. */
static GError *
run (LbSecrets    *secrets,
     Op            op,
     GCancellable *cancellable,
     gint64       *elapsed)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(LbSecretsPassword) password = NULL;
  GError *error = NULL;
  gint64 start = g_get_monotonic_time ();

  switch (op)
    {
    case OP_LOOKUP:
      lb_secrets_lookup_async (secrets, &imap, cancellable, lb_test_store_result, &result);
      lb_test_wait (&result);
      password = lb_secrets_lookup_finish (secrets, result, &error);
      g_assert_null (password);
      break;

    case OP_STORE:
      lb_secrets_store_async (secrets, &imap, "Letterbox test account", "secret",
                              cancellable, lb_test_store_result, &result);
      lb_test_wait (&result);
      g_assert_false (lb_secrets_store_finish (secrets, result, &error));
      break;

    case OP_CLEAR:
    default:
      lb_secrets_clear_async (secrets, &whole_account, cancellable, lb_test_store_result, &result);
      lb_test_wait (&result);
      g_assert_false (lb_secrets_clear_finish (secrets, result, &error));
      break;
    }

  *elapsed = g_get_monotonic_time () - start;
  g_assert_nonnull (error);
  g_test_message ("%s: %s (%.2f s)", op_name (op), error->message,
                  (double) *elapsed / G_USEC_PER_SEC);

  return error;
}

/* Every operation fails with @code within @limit seconds. */
static void
assert_all_fail (LbSecrets      *secrets,
                 LbSecretsError  code,
                 guint           limit)
{
  for (Op op = OP_LOOKUP; op <= OP_CLEAR; op++)
    {
      g_autoptr(GError) error = NULL;
      gint64 elapsed;

      error = run (secrets, op, NULL, &elapsed);
      g_assert_error (error, LB_SECRETS_ERROR, (int) code);
      g_assert_cmpint (elapsed, <, limit * G_USEC_PER_SEC);
    }
}

static void
weak_notify_cb (gpointer  user_data,
                GObject  *where_the_object_was)
{
  gboolean *finalized = user_data;

  *finalized = TRUE;
}

/* Drops the last reference to @secrets and waits (up to 5 s) until it is
 * finalized, that is until libsecret let go of the requests it had under
 * way: they were cancelled, not left to D-Bus's own 25 s timeout. */
static void
assert_released (LbSecrets *secrets)
{
  gboolean finalized = FALSE;
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  g_object_weak_ref (G_OBJECT (secrets), weak_notify_cb, &finalized);
  g_object_unref (secrets);
  while (!finalized && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (finalized);
}

static void
test_no_service (void)
{
  LbSecrets *secrets = lb_secrets_new ();

  /* the bus answers at once that nobody provides the name */
  assert_all_fail (secrets, LB_SECRETS_ERROR_NO_SERVICE, 5);

  g_assert_finalize_object (secrets);
}

/* In a subprocess, which has not connected to the bus yet. */
static void
test_no_bus (void)
{
  if (g_test_subprocess ())
    {
      LbSecrets *secrets = lb_secrets_new ();
      g_autofree char *address = NULL;

      /* "Could not connect: No such file or directory" */
      address = g_strdup_printf ("unix:path=%s/no-bus-here", lb_test_getenv ("LB_TEST_DIR"));
      g_setenv ("DBUS_SESSION_BUS_ADDRESS", address, TRUE);
      assert_all_fail (secrets, LB_SECRETS_ERROR_NO_SERVICE, 5);
      g_assert_finalize_object (secrets);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_no_bus_address (void)
{
  if (g_test_subprocess ())
    {
      LbSecrets *secrets = lb_secrets_new ();
      g_autofree char *runtime = g_build_filename (lb_test_getenv ("LB_TEST_DIR"),
                                                   "no-bus-runtime", NULL);

      /* no address, no $XDG_RUNTIME_DIR/bus and no X display to
       * autolaunch a bus on: "Cannot autolaunch D-Bus without X11 $DISPLAY" */
      g_assert_cmpint (g_mkdir_with_parents (runtime, 0700), ==, 0);
      g_setenv ("XDG_RUNTIME_DIR", runtime, TRUE);
      g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
      g_unsetenv ("DISPLAY");
      assert_all_fail (secrets, LB_SECRETS_ERROR_NO_SERVICE, 5);
      g_assert_finalize_object (secrets);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static char *
service_file_path (void)
{
  /* the private bus's service directory (tests/harness/README.md) */
  return g_build_filename (lb_test_getenv ("LB_TEST_DIR"), "dbus", "services",
                           SECRET_SERVICE_NAME ".service", NULL);
}

static void
reload_bus_config (void)
{
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "ReloadConfig", NULL, NULL,
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
}

/* Makes the bus start @command_line for the Secret Service's name. */
static void
install_service (const char *command_line)
{
  g_autofree char *service_file = service_file_path ();
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;

  contents = g_strdup_printf ("[D-BUS Service]\nName=%s\nExec=%s\n",
                              SECRET_SERVICE_NAME, command_line);
  g_file_set_contents (service_file, contents, -1, &error);
  g_assert_no_error (error);
  reload_bus_config ();
}

static void
uninstall_service (void)
{
  g_autofree char *service_file = service_file_path ();

  g_assert_cmpint (g_unlink (service_file), ==, 0);
  reload_bus_config ();
}

/* A Secret Service that the bus can start, but that exits at once (as an
 * installed but broken keyring daemon would): the bus reports
 * "org.freedesktop.DBus.Error.Spawn.ChildExited". */
static void
test_fails_to_start (void)
{
  LbSecrets *secrets = lb_secrets_new ();
  g_autofree char *false_program = g_find_program_in_path ("false");

  g_assert_nonnull (false_program);
  install_service (false_program);

  assert_all_fail (secrets, LB_SECRETS_ERROR_NO_SERVICE, 5);

  uninstall_service ();
  g_assert_finalize_object (secrets);
}

/* A Secret Service that the bus starts, but that never takes its name.
 * After 25 s either GDBus gives up waiting for the answer ("Timeout was
 * reached") or the bus gives up starting it ("timed out
 * (service_start_timeout=25000ms)"), whichever comes first; both before
 * LbSecrets's own limit, set longer here. This one case takes that long. */
static void
test_never_starts (void)
{
  LbSecrets *secrets = lb_secrets_new ();
  g_autofree char *sleep_program = g_find_program_in_path ("sleep");
  g_autofree char *command_line = NULL;
  g_autoptr(GError) error = NULL;
  gint64 elapsed;

  g_assert_nonnull (sleep_program);
  command_line = g_strdup_printf ("%s 40", sleep_program);
  install_service (command_line);
  lb_secrets_set_timeout (secrets, 60);

  error = run (secrets, OP_LOOKUP, NULL, &elapsed);
  g_assert_error (error, LB_SECRETS_ERROR, LB_SECRETS_ERROR_TIMEOUT);
  g_assert_cmpint (elapsed, <, 40 * G_USEC_PER_SEC);

  uninstall_service ();
  g_assert_finalize_object (secrets);
}

/* ---------------------------------------------------------------- silent */

/* A Secret Service that owns its name on the bus and never answers a
 * method call. */
static GDBusMessage *
drop_method_calls (GDBusConnection *connection,
                   GDBusMessage    *message,
                   gboolean         incoming,
                   gpointer         user_data)
{
  if (incoming && g_dbus_message_get_message_type (message) == G_DBUS_MESSAGE_TYPE_METHOD_CALL)
    {
      g_object_unref (message);
      return NULL;
    }

  return message;
}

static GDBusConnection *
own_silent_service (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GVariant) reply = NULL;
  guint32 status;

  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  connection = g_dbus_connection_new_for_address_sync (address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_add_filter (connection, drop_method_calls, NULL, NULL);

  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", SECRET_SERVICE_NAME, 4 /* DO_NOT_QUEUE */),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                       NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &status);
  g_assert_cmpuint (status, ==, 1 /* PRIMARY_OWNER */);

  return g_steal_pointer (&connection);
}

static void
close_silent_service (GDBusConnection *connection)
{
  g_autoptr(GError) error = NULL;

  g_dbus_connection_close_sync (connection, NULL, &error);
  g_assert_no_error (error);
  g_object_unref (connection);
}

static void
test_timeout (void)
{
  LbSecrets *secrets = lb_secrets_new ();
  GDBusConnection *service = own_silent_service ();

  lb_secrets_set_timeout (secrets, 1);
  g_assert_cmpuint (lb_secrets_get_timeout (secrets), ==, 1);

  for (Op op = OP_LOOKUP; op <= OP_CLEAR; op++)
    {
      g_autoptr(GError) error = NULL;
      gint64 elapsed;

      error = run (secrets, op, NULL, &elapsed);
      g_assert_error (error, LB_SECRETS_ERROR, LB_SECRETS_ERROR_TIMEOUT);
      g_assert_cmpint (elapsed, >=, G_USEC_PER_SEC - G_USEC_PER_SEC / 10);
      g_assert_cmpint (elapsed, <, 5 * G_USEC_PER_SEC);
    }

  /* while the service still owns its name and keeps silent */
  assert_released (secrets);
  close_silent_service (service);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);

  return G_SOURCE_REMOVE;
}

static void
test_cancel (void)
{
  LbSecrets *secrets = lb_secrets_new ();
  GDBusConnection *service = own_silent_service ();

  for (Op op = OP_LOOKUP; op <= OP_CLEAR; op++)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(GCancellable) cancelled = g_cancellable_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) early_error = NULL;
      gint64 elapsed;

      /* cancelled while waiting for the service: well before the 30 s
       * timeout, and as cancelled, not as an LbSecretsError */
      g_timeout_add (200, cancel_cb, cancellable);
      error = run (secrets, op, cancellable, &elapsed);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpint (elapsed, <, 5 * G_USEC_PER_SEC);

      /* cancelled before it starts */
      g_cancellable_cancel (cancelled);
      early_error = run (secrets, op, cancelled, &elapsed);
      g_assert_error (early_error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    }

  assert_released (secrets);
  close_silent_service (service);
}

static gboolean
close_cb (gpointer user_data)
{
  close_silent_service (user_data);

  return G_SOURCE_REMOVE;
}

/* The Secret Service disconnects from the bus while a request is waiting
 * for its answer (the keyring daemon crashed): the bus answers
 * "org.freedesktop.DBus.Error.NoReply" for it. */
static void
test_vanishes (void)
{
  LbSecrets *secrets = lb_secrets_new ();

  for (Op op = OP_LOOKUP; op <= OP_CLEAR; op++)
    {
      g_autoptr(GError) error = NULL;
      gint64 elapsed;

      g_timeout_add (200, close_cb, own_silent_service ());
      error = run (secrets, op, NULL, &elapsed);
      g_assert_error (error, LB_SECRETS_ERROR, LB_SECRETS_ERROR_NO_SERVICE);
      g_assert_cmpint (elapsed, >=, G_USEC_PER_SEC / 10);
      g_assert_cmpint (elapsed, <, 5 * G_USEC_PER_SEC);
    }

  g_assert_finalize_object (secrets);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/secrets-missing/no-service", test_no_service);
  g_test_add_func ("/secrets-missing/no-bus", test_no_bus);
  g_test_add_func ("/secrets-missing/no-bus-address", test_no_bus_address);
  g_test_add_func ("/secrets-missing/fails-to-start", test_fails_to_start);
  g_test_add_func ("/secrets-missing/never-starts", test_never_starts);
  g_test_add_func ("/secrets-missing/timeout", test_timeout);
  g_test_add_func ("/secrets-missing/cancel", test_cancel);
  g_test_add_func ("/secrets-missing/vanishes", test_vanishes);

  return g_test_run ();
}
