/* test-setup-advice.c: the account assistant's IMAP or POP3 advice, for
 * every answer to its two questions and every set of protocols a server
 * may offer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>
#include <string.h>

#include "lb-setup-advice.h"

typedef struct
{
  gboolean           other_devices;
  gboolean           offline;
  LbSetupOffers      offers;
  LbIncomingProtocol protocol;
  LbSetupReason      reason;
  gboolean           can_choose;
  guint              offline_days;
} Case;

#define IMAP LB_SETUP_OFFERS_IMAP
#define POP3 LB_SETUP_OFFERS_POP3
#define BOTH (LB_SETUP_OFFERS_IMAP | LB_SETUP_OFFERS_POP3)
#define NONE LB_SETUP_OFFERS_NONE

static const Case cases[] = {
  /* other devices, offline, offers -> protocol, reason, can choose, offline days */
  { FALSE, FALSE, BOTH, LB_INCOMING_IMAP, LB_SETUP_REASON_NO_NEEDS, TRUE, 0 },
  { TRUE,  FALSE, BOTH, LB_INCOMING_IMAP, LB_SETUP_REASON_OTHER_DEVICES, TRUE, 0 },
  { FALSE, TRUE,  BOTH, LB_INCOMING_POP3, LB_SETUP_REASON_THIS_COMPUTER_OFFLINE, TRUE, 0 },
  { TRUE,  TRUE,  BOTH, LB_INCOMING_IMAP, LB_SETUP_REASON_OTHER_DEVICES_OFFLINE, TRUE, LB_SETUP_OFFLINE_DAYS },

  { FALSE, FALSE, IMAP, LB_INCOMING_IMAP, LB_SETUP_REASON_ONLY_IMAP, FALSE, 0 },
  { TRUE,  FALSE, IMAP, LB_INCOMING_IMAP, LB_SETUP_REASON_ONLY_IMAP, FALSE, 0 },
  { FALSE, TRUE,  IMAP, LB_INCOMING_IMAP, LB_SETUP_REASON_ONLY_IMAP_OFFLINE, FALSE, LB_SETUP_OFFLINE_DAYS },
  { TRUE,  TRUE,  IMAP, LB_INCOMING_IMAP, LB_SETUP_REASON_ONLY_IMAP_OFFLINE, FALSE, LB_SETUP_OFFLINE_DAYS },

  { FALSE, FALSE, POP3, LB_INCOMING_POP3, LB_SETUP_REASON_ONLY_POP3, FALSE, 0 },
  { TRUE,  FALSE, POP3, LB_INCOMING_POP3, LB_SETUP_REASON_ONLY_POP3_OTHER_DEVICES, FALSE, 0 },
  { FALSE, TRUE,  POP3, LB_INCOMING_POP3, LB_SETUP_REASON_ONLY_POP3, FALSE, 0 },
  { TRUE,  TRUE,  POP3, LB_INCOMING_POP3, LB_SETUP_REASON_ONLY_POP3_OTHER_DEVICES, FALSE, 0 },

  { FALSE, FALSE, NONE, LB_INCOMING_IMAP, LB_SETUP_REASON_NOTHING_FOUND, TRUE, 0 },
  { TRUE,  FALSE, NONE, LB_INCOMING_IMAP, LB_SETUP_REASON_NOTHING_FOUND, TRUE, 0 },
  { FALSE, TRUE,  NONE, LB_INCOMING_IMAP, LB_SETUP_REASON_NOTHING_FOUND, TRUE, LB_SETUP_OFFLINE_DAYS },
  { TRUE,  TRUE,  NONE, LB_INCOMING_IMAP, LB_SETUP_REASON_NOTHING_FOUND, TRUE, LB_SETUP_OFFLINE_DAYS },
};

static void
test_recommend_case (gconstpointer data)
{
  const Case *c = data;
  LbSetupAdvice advice = lb_setup_advice_recommend (c->other_devices, c->offline, c->offers);
  const char *text;

  g_assert_cmpint (advice.protocol, ==, c->protocol);
  g_assert_cmpint (advice.reason, ==, c->reason);
  g_assert_cmpint (advice.can_choose, ==, c->can_choose);
  g_assert_cmpuint (advice.imap_offline_days, ==, c->offline_days);
  /* a copy stays on the server exactly when other devices need it */
  g_assert_cmpint (advice.pop3_keep_on_server, ==, c->other_devices);

  text = lb_setup_advice_reason_text (advice.reason);
  g_assert_nonnull (text);
  g_assert_cmpuint (strlen (text), >, 20);
  /* the reason names the protocol it recommends, or the lack of a server */
  if (c->offers == NONE)
    g_assert_nonnull (strstr (text, "No server"));
  else
    g_assert_nonnull (strstr (text, c->protocol == LB_INCOMING_IMAP ? "IMAP" : "POP3"));
}

/* every reason has its own words */
static void
test_reasons_distinct (void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint r = LB_SETUP_REASON_NOTHING_FOUND; r <= LB_SETUP_REASON_NO_NEEDS; r++)
    {
      const char *text = lb_setup_advice_reason_text (r);

      g_assert_nonnull (text);
      g_assert_false (g_hash_table_contains (seen, text));
      g_hash_table_add (seen, (gpointer) text);
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, 9);
}

static void
test_explanations (void)
{
  g_autofree char *keep = lb_setup_advice_keep_text (LB_SETUP_KEEP_FOREVER, 0);
  g_autofree char *delete = lb_setup_advice_keep_text (LB_SETUP_KEEP_DELETE, 0);
  g_autofree char *days = lb_setup_advice_keep_text (LB_SETUP_KEEP_DAYS, 14);
  g_autofree char *one_day = lb_setup_advice_keep_text (LB_SETUP_KEEP_DAYS, 1);

  g_assert_nonnull (strstr (lb_setup_advice_protocol_summary (LB_INCOMING_IMAP), "every device"));
  g_assert_nonnull (strstr (lb_setup_advice_protocol_summary (LB_INCOMING_POP3), "offline"));
  g_assert_nonnull (strstr (lb_setup_advice_protocol_details (LB_INCOMING_IMAP), "space"));
  g_assert_nonnull (strstr (lb_setup_advice_protocol_details (LB_INCOMING_POP3), "space"));

  g_assert_nonnull (strstr (keep, "stays on the server"));
  g_assert_nonnull (strstr (delete, "deleted from the server"));
  g_assert_nonnull (strstr (days, "for 14 days"));
  g_assert_nonnull (strstr (one_day, "for 1 day after"));

  g_assert_cmpstr (lb_setup_advice_security_text (LB_NET_SECURITY_TLS), ==, "Encrypted (TLS)");
  g_assert_cmpstr (lb_setup_advice_security_text (LB_NET_SECURITY_STARTTLS), ==, "Encrypted (STARTTLS)");
  g_assert_cmpstr (lb_setup_advice_security_text (LB_NET_SECURITY_NONE), ==, "Not encrypted");
}

int
main (int   argc,
      char *argv[])
{
  static const char *const offer_names[] = { "none", "imap", "pop3", "both" };

  /* the untranslated texts */
  g_setenv ("LANGUAGE", "C", TRUE);
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/setup-advice/recommend/%s/%s/%s",
                                               offer_names[cases[i].offers],
                                               cases[i].other_devices ? "other-devices" : "this-computer",
                                               cases[i].offline ? "offline" : "online");

      g_test_add_data_func (path, &cases[i], test_recommend_case);
    }
  g_test_add_func ("/setup-advice/reasons-distinct", test_reasons_distinct);
  g_test_add_func ("/setup-advice/explanations", test_explanations);

  return g_test_run ();
}
