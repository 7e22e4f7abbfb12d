/* lb-setup-advice.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-ui"

#include "config.h"

#include <glib/gi18n.h>

#include "lb-setup-advice.h"

/* The account assistant asks two questions, "Do you read this mail on
 * other devices too?" and "Do you need it without a connection?", and
 * recommends IMAP or POP3 from the answers and from what the server
 * offers. Other devices settle it for IMAP: with POP3 each device would
 * download its own copy and none would see what the others did. POP3 is
 * recommended only when this computer alone reads the mail and needs it
 * offline; otherwise IMAP, which keeps the mail safe on the server. An IMAP
 * account that is needed offline keeps the last LB_SETUP_OFFLINE_DAYS days
 * here. */

/**
 * lb_setup_advice_recommend:
 * @other_devices: the user reads this mail on other devices too
 * @offline: the user needs the mail without a connection
 * @offers: the protocols the server answered on
 *
 * Returns: the recommendation and its reason
 */
LbSetupAdvice
lb_setup_advice_recommend (gboolean      other_devices,
                           gboolean      offline,
                           LbSetupOffers offers)
{
  LbSetupAdvice advice = { LB_INCOMING_IMAP, LB_SETUP_REASON_NO_NEEDS, FALSE, FALSE, 0 };
  gboolean imap = (offers & LB_SETUP_OFFERS_IMAP) != 0;
  gboolean pop3 = (offers & LB_SETUP_OFFERS_POP3) != 0;

  advice.pop3_keep_on_server = other_devices;

  if (!imap && !pop3)
    {
      advice.reason = LB_SETUP_REASON_NOTHING_FOUND;
      advice.can_choose = TRUE;
    }
  else if (imap && !pop3)
    advice.reason = offline ? LB_SETUP_REASON_ONLY_IMAP_OFFLINE : LB_SETUP_REASON_ONLY_IMAP;
  else if (pop3 && !imap)
    {
      advice.protocol = LB_INCOMING_POP3;
      advice.reason = other_devices ? LB_SETUP_REASON_ONLY_POP3_OTHER_DEVICES : LB_SETUP_REASON_ONLY_POP3;
    }
  else
    {
      advice.can_choose = TRUE;
      if (other_devices)
        advice.reason = offline ? LB_SETUP_REASON_OTHER_DEVICES_OFFLINE : LB_SETUP_REASON_OTHER_DEVICES;
      else if (offline)
        {
          advice.protocol = LB_INCOMING_POP3;
          advice.reason = LB_SETUP_REASON_THIS_COMPUTER_OFFLINE;
        }
      else
        advice.reason = LB_SETUP_REASON_NO_NEEDS;
    }

  if (advice.protocol == LB_INCOMING_IMAP && offline)
    advice.imap_offline_days = LB_SETUP_OFFLINE_DAYS;

  return advice;
}

/**
 * lb_setup_advice_reason_text:
 *
 * Returns: the reason in one translated line
 */
const char *
lb_setup_advice_reason_text (LbSetupReason reason)
{
  switch (reason)
    {
    case LB_SETUP_REASON_NOTHING_FOUND:
      return _("No server was found. IMAP is the usual choice; check the settings with your provider.");
    case LB_SETUP_REASON_ONLY_IMAP:
      return _("Your provider offers only IMAP, so your mail stays on its server.");
    case LB_SETUP_REASON_ONLY_IMAP_OFFLINE:
      return _("Your provider offers only IMAP; Letterbox keeps the last 30 days of mail on this computer for reading offline.");
    case LB_SETUP_REASON_ONLY_POP3:
      return _("Your provider offers only POP3, so your mail comes to this computer.");
    case LB_SETUP_REASON_ONLY_POP3_OTHER_DEVICES:
      return _("Your provider offers only POP3: keep a copy on the server so that your other devices get your mail too.");
    case LB_SETUP_REASON_OTHER_DEVICES:
      return _("You read this mail on other devices: IMAP keeps them all in step.");
    case LB_SETUP_REASON_OTHER_DEVICES_OFFLINE:
      return _("You read this mail on other devices: IMAP keeps them in step, and Letterbox keeps the last 30 days here for reading offline.");
    case LB_SETUP_REASON_THIS_COMPUTER_OFFLINE:
      return _("Only this computer reads this mail and you need it offline: POP3 brings all of it here.");
    case LB_SETUP_REASON_NO_NEEDS:
      return _("IMAP keeps your mail safe on the server, and you can add other devices later.");
    default:
      g_return_val_if_reached (NULL);
    }
}

/**
 * lb_setup_advice_protocol_summary:
 *
 * Returns: what @protocol means, in one translated line
 */
const char *
lb_setup_advice_protocol_summary (LbIncomingProtocol protocol)
{
  switch (protocol)
    {
    case LB_INCOMING_IMAP:
      return _("Mail stays on the server and syncs to every device");
    case LB_INCOMING_POP3:
      return _("Mail comes to this computer and works offline");
    default:
      g_return_val_if_reached (NULL);
    }
}

/**
 * lb_setup_advice_protocol_details:
 *
 * Returns: a translated paragraph explaining @protocol in plain words
 */
const char *
lb_setup_advice_protocol_details (LbIncomingProtocol protocol)
{
  switch (protocol)
    {
    case LB_INCOMING_IMAP:
      return _("With IMAP your mail and your folders live on your provider’s server. "
               "Every device you use sees the same messages: what you read, move or "
               "delete here is read, moved or deleted everywhere. Your mail is only as "
               "big as the space your provider gives you, and reading it needs a "
               "connection, except for the recent mail Letterbox keeps here.");
    case LB_INCOMING_POP3:
      return _("With POP3 Letterbox downloads your mail to this computer, where you can "
               "read and search all of it without a connection, and the server’s space "
               "is freed. Other devices do not see what you do here, and mail deleted "
               "from the server is only on this computer: keep backups of it.");
    default:
      g_return_val_if_reached (NULL);
    }
}

/**
 * lb_setup_advice_keep_text:
 * @keep: what POP3 does with the server's copy
 * @days: with %LB_SETUP_KEEP_DAYS, how long the copy stays
 *
 * Returns: (transfer full): what @keep means, in translated words
 */
char *
lb_setup_advice_keep_text (LbSetupKeep keep,
                           guint       days)
{
  switch (keep)
    {
    case LB_SETUP_KEEP_FOREVER:
      return g_strdup (_("A copy of each message stays on the server, so other devices and webmail "
                         "still get it. It uses the server’s space until you delete it there."));
    case LB_SETUP_KEEP_DELETE:
      return g_strdup (_("Each message is deleted from the server once it is safely stored on this "
                         "computer. The server’s space stays free, and this computer has the only copy."));
    case LB_SETUP_KEEP_DAYS:
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "A copy stays on the server for %u day after it is downloaded, "
                                           "then it is deleted there. Other devices can get it meanwhile.",
                                           "A copy stays on the server for %u days after it is downloaded, "
                                           "then it is deleted there. Other devices can get it meanwhile.",
                                           days),
                              days);
    default:
      g_return_val_if_reached (NULL);
    }
}

/**
 * lb_setup_advice_security_text:
 *
 * Returns: how a connection with @security is protected, translated
 */
const char *
lb_setup_advice_security_text (LbNetSecurity security)
{
  switch (security)
    {
    case LB_NET_SECURITY_TLS:
      return _("Encrypted (TLS)");
    case LB_NET_SECURITY_STARTTLS:
      return _("Encrypted (STARTTLS)");
    case LB_NET_SECURITY_NONE:
      return _("Not encrypted");
    default:
      g_return_val_if_reached (NULL);
    }
}
