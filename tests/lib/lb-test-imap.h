/* lb-test-imap.h: LbImapClient sessions on the harness's Dovecot
 *
 * Each call runs the main context until its command is done, which is
 * fine in a test program.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lb-imap-client.h"

G_BEGIN_DECLS

const char   *lb_test_imap_password (const char     *user);
/* connects (LB_NET_SECURITY_STARTTLS: on the plain port, upgraded with
 * STARTTLS), reads the greeting; not logged in */
LbImapClient *lb_test_imap_connect  (LbNetSecurity   security,
                                     GError        **error);
gboolean      lb_test_imap_login    (LbImapClient   *client,
                                     const char     *user,
                                     const char     *password,
                                     GError        **error);
/* connect and log in, over implicit TLS; the test fails if either fails */
LbImapClient *lb_test_imap_open     (const char     *user);
/* LOGOUT, then asserts the client is finalized */
void          lb_test_imap_close    (LbImapClient   *client);

G_END_DECLS
