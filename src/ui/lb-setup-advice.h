/* lb-setup-advice.h: IMAP or POP3? The recommendation and the words
 * that explain it, without widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "lb-account.h"

G_BEGIN_DECLS

/**
 * LbSetupOffers:
 * @LB_SETUP_OFFERS_NONE: no incoming server was found
 * @LB_SETUP_OFFERS_IMAP: the server offers IMAP
 * @LB_SETUP_OFFERS_POP3: the server offers POP3
 *
 * Which incoming protocols the user's server answered on.
 */
typedef enum /*< flags >*/
{
  LB_SETUP_OFFERS_NONE = 0,
  LB_SETUP_OFFERS_IMAP = 1 << 0,
  LB_SETUP_OFFERS_POP3 = 1 << 1,
} LbSetupOffers;

/**
 * LbSetupReason:
 * @LB_SETUP_REASON_NOTHING_FOUND: no server found: IMAP as the default,
 *   for the manual settings
 * @LB_SETUP_REASON_ONLY_IMAP: the server offers only IMAP
 * @LB_SETUP_REASON_ONLY_IMAP_OFFLINE: only IMAP, and the mail is needed
 *   offline: recent mail is kept on this computer too
 * @LB_SETUP_REASON_ONLY_POP3: the server offers only POP3
 * @LB_SETUP_REASON_ONLY_POP3_OTHER_DEVICES: only POP3, and other devices
 *   read the mail too: keep a copy on the server for them
 * @LB_SETUP_REASON_OTHER_DEVICES: IMAP keeps every device in step
 * @LB_SETUP_REASON_OTHER_DEVICES_OFFLINE: IMAP for the other devices,
 *   with recent mail kept here for offline reading
 * @LB_SETUP_REASON_THIS_COMPUTER_OFFLINE: only this computer, offline:
 *   POP3 brings the mail here
 * @LB_SETUP_REASON_NO_NEEDS: neither: IMAP, the mail stays safe on the
 *   server and other devices can be added later
 */
typedef enum
{
  LB_SETUP_REASON_NOTHING_FOUND,
  LB_SETUP_REASON_ONLY_IMAP,
  LB_SETUP_REASON_ONLY_IMAP_OFFLINE,
  LB_SETUP_REASON_ONLY_POP3,
  LB_SETUP_REASON_ONLY_POP3_OTHER_DEVICES,
  LB_SETUP_REASON_OTHER_DEVICES,
  LB_SETUP_REASON_OTHER_DEVICES_OFFLINE,
  LB_SETUP_REASON_THIS_COMPUTER_OFFLINE,
  LB_SETUP_REASON_NO_NEEDS,
} LbSetupReason;

/**
 * LbSetupAdvice:
 * @protocol: the protocol recommended
 * @reason: why, for lb_setup_advice_reason_text()
 * @can_choose: both protocols are offered: the user may pick the other
 * @pop3_keep_on_server: for POP3, whether a copy should stay on the server
 *   (other devices read the mail too)
 * @imap_offline_days: for IMAP, how many days of recent mail to keep on
 *   this computer for offline reading (0: read online)
 */
typedef struct
{
  LbIncomingProtocol protocol;
  LbSetupReason      reason;
  gboolean           can_choose;
  gboolean           pop3_keep_on_server;
  guint              imap_offline_days;
} LbSetupAdvice;

/* the days of mail kept offline when the user needs it without a connection */
#define LB_SETUP_OFFLINE_DAYS 30

/**
 * LbSetupKeep:
 * @LB_SETUP_KEEP_FOREVER: POP3 keeps a copy on the server
 * @LB_SETUP_KEEP_DELETE: POP3 deletes the server's copy once downloaded
 * @LB_SETUP_KEEP_DAYS: POP3 keeps a copy for some days, then deletes it
 */
typedef enum
{
  LB_SETUP_KEEP_FOREVER,
  LB_SETUP_KEEP_DELETE,
  LB_SETUP_KEEP_DAYS,
} LbSetupKeep;

LbSetupAdvice  lb_setup_advice_recommend        (gboolean       other_devices,
                                                 gboolean       offline,
                                                 LbSetupOffers  offers);
const char    *lb_setup_advice_reason_text      (LbSetupReason  reason);
const char    *lb_setup_advice_protocol_summary (LbIncomingProtocol protocol);
const char    *lb_setup_advice_protocol_details (LbIncomingProtocol protocol);
char          *lb_setup_advice_keep_text        (LbSetupKeep    keep,
                                                 guint          days);
const char    *lb_setup_advice_security_text    (LbNetSecurity  security);

G_END_DECLS
