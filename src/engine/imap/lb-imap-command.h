/* lb-imap-command.h: building IMAP commands
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "lb-imap-response.h"

G_BEGIN_DECLS

/* An LbImapCommand is the command text without tag and CRLF, split into
 * parts where literals go. Strings are sent as atoms, quoted strings or
 * literals, whichever the bytes allow; the client picks LITERAL+ / LITERAL-
 * / synchronizing literals as the server offers. */

#define LB_TYPE_IMAP_COMMAND (lb_imap_command_get_type ())

typedef struct _LbImapCommand LbImapCommand;

GType          lb_imap_command_get_type      (void) G_GNUC_CONST;
LbImapCommand *lb_imap_command_new           (const char     *name);   /* "UID FETCH" */
LbImapCommand *lb_imap_command_ref           (LbImapCommand  *command);
void           lb_imap_command_unref         (LbImapCommand  *command);

/* a space is put between arguments automatically, except after "(" and "[" and before ")" and "]" */
void           lb_imap_command_add_atom      (LbImapCommand  *command,
                                              const char     *atom);     /* sent as is */
void           lb_imap_command_add_printf    (LbImapCommand  *command,
                                              const char     *format,
                                              ...) G_GNUC_PRINTF (2, 3); /* sent as is, never user text */
void           lb_imap_command_add_number    (LbImapCommand  *command,
                                              guint64         number);
void           lb_imap_command_add_string    (LbImapCommand  *command,
                                              const char     *string);   /* quoted or literal */
void           lb_imap_command_add_nstring   (LbImapCommand  *command,
                                              const char     *string);   /* NIL for NULL */
/* a mailbox name given in UTF-8: encoded to modified UTF-7, or sent as
 * UTF-8 when the client has UTF8=ACCEPT enabled (decided at send time).
 * A name the server listed in a form that is not valid modified UTF-7
 * (a raw "Tom & Jerry", or raw UTF-8 without UTF8=ACCEPT) is parsed into
 * LbImapList.mailbox as it was sent; encoding it again would name another
 * mailbox ("Tom &- Jerry"), so the client sends such a name exactly as
 * the server listed it (LbImapRenderOptions.raw_mailboxes). */
void           lb_imap_command_add_mailbox   (LbImapCommand  *command,
                                              const char     *mailbox);
void           lb_imap_command_add_literal   (LbImapCommand  *command,
                                              GBytes         *data);     /* always a literal */
void           lb_imap_command_add_set       (LbImapCommand  *command,
                                              const LbImapRange *ranges,
                                              guint           n_ranges);
void           lb_imap_command_add_flags     (LbImapCommand  *command,
                                              const char * const *flags); /* "(\\Seen $Forwarded)" */
/* appends the name and arguments of @fragment (a command made with a
 * %NULL name: search criteria, say), secrets and literals included */
void           lb_imap_command_add_fragment  (LbImapCommand  *command,
                                              LbImapCommand  *fragment);
/* marks the arguments that must not reach the protocol log (passwords,
 * tokens): from now until lb_imap_command_end_secret() */
void           lb_imap_command_begin_secret  (LbImapCommand  *command);
void           lb_imap_command_end_secret    (LbImapCommand  *command);

/* the client waits for every earlier command before sending this one and
 * sends nothing after it until it is done (SELECT, STARTTLS, AUTHENTICATE,
 * COMPRESS, IDLE, LOGOUT) */
void           lb_imap_command_set_exclusive (LbImapCommand  *command,
                                              gboolean        exclusive);
gboolean       lb_imap_command_get_exclusive (LbImapCommand  *command);

/* untagged responses arriving while the command runs are offered to the
 * running commands, oldest first, before the client's "untagged" signal */
typedef gboolean (*LbImapCommandUntaggedFunc) (LbImapResponse *response,
                                               gpointer        user_data);
void           lb_imap_command_set_untagged_func (LbImapCommand             *command,
                                                  LbImapCommandUntaggedFunc  func,
                                                  gpointer                   user_data,
                                                  GDestroyNotify             destroy);

/* for tests and the log: the command as it would be sent with
 * synchronizing literals, secrets shown as "***" when @redact */
char          *lb_imap_command_to_string     (LbImapCommand  *command,
                                              gboolean        redact);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbImapCommand, lb_imap_command_unref)

G_END_DECLS
