/* lb-test-session.h: a line-oriented protocol session for tests
 *
 * The integration tests speak IMAP, POP3, SMTP and LMTP to the harness's
 * real servers over connections the engine's LbConnector opens. Reads are
 * blocking with the connector's timeout, which is fine in a test program.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include <gmime/gmime.h>

#include "lb-connector.h"

G_BEGIN_DECLS

typedef struct
{
  LbConnector      *connector;
  char             *host;
  guint16           port;
  GIOStream        *stream;
  GDataInputStream *in;
} LbTestSession;

const char    *lb_test_getenv                (const char     *name);
guint16        lb_test_port                  (const char     *name);
LbConnector   *lb_test_connector_new         (void);
void           lb_test_store_result          (GObject        *object,
                                              GAsyncResult   *result,
                                              gpointer        user_data);
void           lb_test_wait                  (GAsyncResult  **result);
GMimeMessage  *lb_test_parse_message         (GBytes         *raw);
void           lb_test_collect_trace         (gboolean        sent,
                                              const char     *line,
                                              gpointer        lines);
void           lb_test_spin                  (guint           ms);
GTlsCertificate *lb_test_untrusted_certificate (const char   *port_variable);
char          *lb_test_message_id            (void);
void           lb_test_remove_tree           (const char     *path);
void           lb_test_finalize_store        (gpointer        store);

LbTestSession *lb_test_session_open          (LbConnector    *connector,
                                              const char     *port_variable,
                                              LbNetSecurity   security,
                                              GError        **error);
LbTestSession *lb_test_session_open_greeted  (const char     *port_variable,
                                              LbNetSecurity   security,
                                              const char     *greeting);
gboolean       lb_test_session_start_tls     (LbTestSession  *self,
                                              GError        **error);
void           lb_test_session_write         (LbTestSession  *self,
                                              const void     *data,
                                              gsize           length);
void           lb_test_session_send          (LbTestSession  *self,
                                              const char     *format,
                                              ...) G_GNUC_PRINTF (2, 3);
char          *lb_test_session_read_line     (LbTestSession  *self);
GBytes        *lb_test_session_read_bytes    (LbTestSession  *self,
                                              gsize           length);
char          *lb_test_session_read_until    (LbTestSession  *self,
                                              const char     *prefix);
void           lb_test_session_expect        (LbTestSession  *self,
                                              const char     *prefix);
void           lb_test_session_expect_tagged_ok (LbTestSession *self,
                                              const char     *tag);
/* IMAP, as another client sees the server: a session on the harness's
 * IMAPS port, logged in; a command that must succeed; how many messages of
 * a mailbox match a SEARCH; an APPEND; a mailbox emptied (left selected) */
LbTestSession *lb_test_session_imap_login    (const char     *user,
                                              const char     *password);
void           lb_test_session_imap_ok       (LbTestSession  *self,
                                              const char     *command);
guint          lb_test_session_imap_count    (LbTestSession  *self,
                                              const char     *mailbox,
                                              const char     *criteria);
void           lb_test_session_imap_append   (LbTestSession  *self,
                                              const char     *mailbox,
                                              const char     *message);
void           lb_test_session_imap_empty    (LbTestSession  *self,
                                              const char     *mailbox);
void           lb_test_session_free          (LbTestSession  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbTestSession, lb_test_session_free)

G_END_DECLS
