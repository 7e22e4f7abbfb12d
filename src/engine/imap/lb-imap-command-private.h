/* lb-imap-command-private.h: what the client needs to send a command
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lb-imap-command.h"

G_BEGIN_DECLS

/* what the server offers and the session has enabled, deciding how
 * strings, mailbox names and literals go on the wire */
typedef struct
{
  gboolean literal_plus;   /* LITERAL+: every literal non-synchronizing */
  gboolean literal_minus;  /* LITERAL- (or IMAP4rev2): those up to 4096 bytes */
  gboolean utf8_accept;    /* UTF8=ACCEPT enabled */
  /* mailbox names (UTF-8, as the parser gave them) that do not survive
   * decoding and encoding again, to the name exactly as the server sent
   * it: a mailbox argument found here goes on the wire as that (see
   * lb_imap_command_add_mailbox()); NULL for none */
  GHashTable *raw_mailboxes;
} LbImapRenderOptions;

#define LB_IMAP_LITERAL_MINUS_MAX 4096

/* Renders "@tag NAME args\r\n" (no tag and no space when @tag is NULL).
 * Returns the parts to send, as GBytes: the client sends the first one,
 * and each following one only after the server's "+" continuation (they
 * are split at synchronizing literals). @trace (optional) receives the
 * command for the protocol log on one line: secrets as "***", literal
 * contents as "{N bytes}". */
GPtrArray *lb_imap_command_render            (LbImapCommand             *command,
                                              const char                *tag,
                                              const LbImapRenderOptions *options,
                                              char                     **trace);

LbImapCommandUntaggedFunc lb_imap_command_get_untagged_func (LbImapCommand *command,
                                                             gpointer      *user_data);
const char *lb_imap_command_get_name          (LbImapCommand  *command);

/* TRUE when a string argument has bytes beyond ASCII (SEARCH needs
 * CHARSET UTF-8 then, unless UTF8=ACCEPT is enabled) */
gboolean   lb_imap_command_has_8bit           (LbImapCommand  *command);

G_END_DECLS
