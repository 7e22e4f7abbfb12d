/* lb-test-script-server.h: a loopback server that plays scripts
 *
 * For what the harness's real servers will not do: a greeting without
 * STARTTLS, a server quirk, a reply cut short. It listens on a free port of
 * 127.0.0.1 and plays one script per connection it accepts, in the order
 * the scripts were added, in a thread of its own. A script is text, one
 * step per line:
 *
 *   S: text      send text and CRLF
 *   W: text      send text with C escapes (\r, \n, \t, \\, \ooo) and nothing appended
 *   C: prefix    read a line from the client (up to LF, CR dropped); it must
 *                start with prefix ("C:" alone takes any line)
 *   C~ regex     read a line; it must match the regular expression (GRegex,
 *                unanchored unless it says ^ or $)
 *   SLEEP ms     wait that many milliseconds
 *   CLOSE        close the connection at once; nothing after it is played
 *
 * Empty lines and lines starting with # are skipped. After the last step
 * (when it is not CLOSE) the server records whatever else the client sends
 * until the client closes the connection; a script counts as played when
 * its connection is over. A line that does not match ends the connection
 * and is reported by lb_test_script_server_wait().
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _LbTestScriptServer LbTestScriptServer;

LbTestScriptServer *lb_test_script_server_new          (GError             **error);
guint16             lb_test_script_server_get_port     (LbTestScriptServer  *self);
void                lb_test_script_server_add_script   (LbTestScriptServer  *self,
                                                        const char          *script);
gboolean            lb_test_script_server_is_done      (LbTestScriptServer  *self);
gboolean            lb_test_script_server_wait         (LbTestScriptServer  *self,
                                                        GError             **error);
void                lb_test_script_server_wait_played  (LbTestScriptServer  *self);
GIOStream          *lb_test_script_server_connect      (LbTestScriptServer  *self);
char              **lb_test_script_server_get_received (LbTestScriptServer  *self,
                                                        guint                connection);
void                lb_test_script_server_free         (LbTestScriptServer  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbTestScriptServer, lb_test_script_server_free)

G_END_DECLS
