/* lb-test-imap.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "lb-test-imap.h"
#include "lb-test-session.h"

/**
 * lb_test_imap_password:
 * @user: a user of the harness ("alice@example.test")
 *
 * Returns: the user's password, from LB_TEST_USERS
 */
const char *
lb_test_imap_password (const char *user)
{
  static GHashTable *passwords;

  if (passwords == NULL)
    {
      g_auto(GStrv) entries = g_strsplit (lb_test_getenv ("LB_TEST_USERS"), " ", -1);

      passwords = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      for (guint i = 0; entries[i] != NULL; i++)
        {
          const char *colon = strchr (entries[i], ':');

          if (colon != NULL)
            g_hash_table_insert (passwords, g_strndup (entries[i], colon - entries[i]),
                                 g_strdup (colon + 1));
        }
    }

  if (!g_hash_table_contains (passwords, user))
    g_error ("%s is not a user of the harness", user);

  return g_hash_table_lookup (passwords, user);
}

LbImapClient *
lb_test_imap_connect (LbNetSecurity   security,
                      GError        **error)
{
  g_autoptr(LbConnector) connector = lb_test_connector_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GIOStream) stream = NULL;
  g_autoptr(LbImapClient) client = NULL;
  const char *host = lb_test_getenv ("LB_TEST_HOST");
  guint16 port = lb_test_port (security == LB_NET_SECURITY_TLS ? "LB_TEST_IMAPS_PORT" : "LB_TEST_IMAP_PORT");

  lb_connector_connect_async (connector, host, port, security, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  stream = lb_connector_connect_finish (connector, result, error);
  if (stream == NULL)
    return NULL;
  g_clear_object (&result);

  client = lb_imap_client_new (stream);
  lb_imap_client_greet_async (client, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  if (!lb_imap_client_greet_finish (client, result, error))
    return NULL;
  g_clear_object (&result);

  if (security == LB_NET_SECURITY_STARTTLS)
    {
      lb_imap_client_starttls_async (client, connector, host, port, NULL, lb_test_store_result, &result);
      lb_test_wait (&result);
      if (!lb_imap_client_starttls_finish (client, result, error))
        return NULL;
    }

  return g_steal_pointer (&client);
}

gboolean
lb_test_imap_login (LbImapClient  *client,
                    const char    *user,
                    const char    *password,
                    GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  lb_imap_client_login_async (client, user, password, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);

  return lb_imap_client_login_finish (client, result, error);
}

LbImapClient *
lb_test_imap_open (const char *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(LbImapClient) client = NULL;

  client = lb_test_imap_connect (LB_NET_SECURITY_TLS, &error);
  g_assert_no_error (error);
  lb_test_imap_login (client, user, lb_test_imap_password (user), &error);
  g_assert_no_error (error);
  g_assert_cmpint (lb_imap_client_get_state (client), ==, LB_IMAP_STATE_AUTHENTICATED);

  return g_steal_pointer (&client);
}

void
lb_test_imap_close (LbImapClient *client)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  lb_imap_client_logout_async (client, NULL, lb_test_store_result, &result);
  lb_test_wait (&result);
  lb_imap_client_logout_finish (client, result, &error);
  g_assert_no_error (error);
  g_clear_object (&result);

  /* let a write or the closing finish: they hold the client */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_finalize_object (client);
}
