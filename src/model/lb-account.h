/* lb-account.h: the settings of one mail account
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "lb-connector.h"
#include "lb-folder.h"
#include "lb-identity.h"
#include "lb-net-security.h"
#include "lb-provider.h"
#include "lb-store.h"
#include "lb-transport.h"

G_BEGIN_DECLS

/**
 * LbIncomingProtocol:
 * @LB_INCOMING_IMAP: IMAP4rev1: the mail stays on the server, in folders
 * @LB_INCOMING_POP3: POP3: the mail is downloaded into local folders
 *
 * Stored in account files as "imap" and "pop3" (the enum value nicks).
 */
typedef enum
{
  LB_INCOMING_IMAP,
  LB_INCOMING_POP3,
} LbIncomingProtocol;

#define LB_TYPE_INCOMING_PROTOCOL (lb_incoming_protocol_get_type ())

GType       lb_incoming_protocol_get_type    (void) G_GNUC_CONST;
const char *lb_incoming_protocol_to_string   (LbIncomingProtocol  protocol);
gboolean    lb_incoming_protocol_from_string (const char         *str,
                                              LbIncomingProtocol *out_protocol);

/**
 * LbAccountError:
 * @LB_ACCOUNT_ERROR_INVALID_ID: the id is not a safe file name
 * @LB_ACCOUNT_ERROR_INVALID: a setting cannot be used (see the message)
 * @LB_ACCOUNT_ERROR_EXISTS: an account with that id exists already
 * @LB_ACCOUNT_ERROR_NOT_FOUND: the account is not one of the manager's
 *
 * Problems in the structure of an account file (a missing group or key, a
 * value that does not parse) are reported in the %G_KEY_FILE_ERROR domain.
 */
typedef enum
{
  LB_ACCOUNT_ERROR_INVALID_ID,
  LB_ACCOUNT_ERROR_INVALID,
  LB_ACCOUNT_ERROR_EXISTS,
  LB_ACCOUNT_ERROR_NOT_FOUND,
} LbAccountError;

#define LB_ACCOUNT_ERROR (lb_account_error_quark ())

GQuark      lb_account_error_quark           (void);

#define LB_TYPE_ACCOUNT (lb_account_get_type ())

G_DECLARE_FINAL_TYPE (LbAccount, lb_account, LB, ACCOUNT, GObject)

gboolean            lb_account_id_is_valid                       (const char          *id);

LbAccount          *lb_account_new                               (const char          *id);
LbAccount          *lb_account_new_from_key_file                 (GKeyFile            *key_file,
                                                                  const char          *id,
                                                                  GError             **error);
GKeyFile           *lb_account_to_key_file                       (LbAccount           *self);
gboolean            lb_account_validate                          (LbAccount           *self,
                                                                  GError             **error);

const char         *lb_account_get_id                            (LbAccount           *self);
const char         *lb_account_get_display_name                  (LbAccount           *self);
void                lb_account_set_display_name                  (LbAccount           *self,
                                                                  const char          *display_name);
guint               lb_account_get_position                      (LbAccount           *self);
void                lb_account_set_position                      (LbAccount           *self,
                                                                  guint                position);
const char         *lb_account_get_data_dir                      (LbAccount           *self);
void                lb_account_set_data_dir                      (LbAccount           *self,
                                                                  const char          *data_dir);

GListModel         *lb_account_get_identities                    (LbAccount           *self);
LbIdentity         *lb_account_get_default_identity              (LbAccount           *self);
void                lb_account_add_identity                      (LbAccount           *self,
                                                                  LbIdentity          *identity);
gboolean            lb_account_remove_identity                   (LbAccount           *self,
                                                                  LbIdentity          *identity);
void                lb_account_set_default_identity              (LbAccount           *self,
                                                                  LbIdentity          *identity);

LbIncomingProtocol  lb_account_get_incoming_protocol             (LbAccount           *self);
void                lb_account_set_incoming_protocol             (LbAccount           *self,
                                                                  LbIncomingProtocol   protocol);
const char         *lb_account_get_incoming_host                 (LbAccount           *self);
void                lb_account_set_incoming_host                 (LbAccount           *self,
                                                                  const char          *host);
guint16             lb_account_get_incoming_port                 (LbAccount           *self);
void                lb_account_set_incoming_port                 (LbAccount           *self,
                                                                  guint16              port);
guint16             lb_account_get_effective_incoming_port       (LbAccount           *self);
LbNetSecurity       lb_account_get_incoming_security             (LbAccount           *self);
void                lb_account_set_incoming_security             (LbAccount           *self,
                                                                  LbNetSecurity        security);
const char         *lb_account_get_incoming_user                 (LbAccount           *self);
void                lb_account_set_incoming_user                 (LbAccount           *self,
                                                                  const char          *user);

gboolean            lb_account_get_allow_plaintext_password      (LbAccount           *self);
void                lb_account_set_allow_plaintext_password      (LbAccount           *self,
                                                                  gboolean             allow);
guint               lb_account_get_offline_days                  (LbAccount           *self);
void                lb_account_set_offline_days                  (LbAccount           *self,
                                                                  guint                days);
guint               lb_account_get_poll_minutes                  (LbAccount           *self);
void                lb_account_set_poll_minutes                  (LbAccount           *self,
                                                                  guint                minutes);

gboolean            lb_account_get_pop3_keep_on_server           (LbAccount           *self);
void                lb_account_set_pop3_keep_on_server           (LbAccount           *self,
                                                                  gboolean             keep);
guint               lb_account_get_pop3_delete_after_days        (LbAccount           *self);
void                lb_account_set_pop3_delete_after_days        (LbAccount           *self,
                                                                  guint                days);
guint               lb_account_get_pop3_size_limit               (LbAccount           *self);
void                lb_account_set_pop3_size_limit               (LbAccount           *self,
                                                                  guint                kib);
gboolean            lb_account_get_pop3_delete_when_deleted_here (LbAccount           *self);
void                lb_account_set_pop3_delete_when_deleted_here (LbAccount           *self,
                                                                  gboolean             delete_here);

const char         *lb_account_get_smtp_host                     (LbAccount           *self);
void                lb_account_set_smtp_host                     (LbAccount           *self,
                                                                  const char          *host);
guint16             lb_account_get_smtp_port                     (LbAccount           *self);
void                lb_account_set_smtp_port                     (LbAccount           *self,
                                                                  guint16              port);
guint16             lb_account_get_effective_smtp_port           (LbAccount           *self);
LbNetSecurity       lb_account_get_smtp_security                 (LbAccount           *self);
void                lb_account_set_smtp_security                 (LbAccount           *self,
                                                                  LbNetSecurity        security);
const char         *lb_account_get_smtp_user                     (LbAccount           *self);
void                lb_account_set_smtp_user                     (LbAccount           *self,
                                                                  const char          *user);

/* FALSE when the submission server files sent mail in Sent itself (Gmail):
 * then Letterbox does not APPEND its copy. Default: TRUE, except for
 * Gmail's servers (gmail.com, googlemail.com) */
gboolean            lb_account_get_save_sent_copy                (LbAccount           *self);
void                lb_account_set_save_sent_copy                (LbAccount           *self,
                                                                  gboolean             save);

const char * const *lb_account_get_pinned_certificates           (LbAccount           *self);
void                lb_account_pin_certificate                   (LbAccount           *self,
                                                                  const char          *host,
                                                                  guint16              port,
                                                                  const char          *fingerprint);
gboolean            lb_account_unpin_certificate                 (LbAccount           *self,
                                                                  const char          *host,
                                                                  guint16              port);
gboolean            lb_account_is_certificate_pinned             (LbAccount           *self,
                                                                  const char          *host,
                                                                  guint16              port,
                                                                  const char          *fingerprint);
char               *lb_account_certificate_fingerprint           (GTlsCertificate     *certificate);
void                lb_account_trust_certificate_once            (LbAccount           *self,
                                                                  const char          *host,
                                                                  guint16              port,
                                                                  const char          *fingerprint);
char              **lb_account_dup_trusted_certificates          (LbAccount           *self);

/* the runtime side: the account's store, provider and folders */
void                lb_account_open_async                        (LbAccount           *self,
                                                                  GCancellable        *cancellable,
                                                                  GAsyncReadyCallback  callback,
                                                                  gpointer             user_data);
gboolean            lb_account_open_finish                       (LbAccount           *self,
                                                                  GAsyncResult        *result,
                                                                  GError             **error);
void                lb_account_close                             (LbAccount           *self);
gboolean            lb_account_get_opened                        (LbAccount           *self);

LbStore            *lb_account_get_store                         (LbAccount           *self);
LbProvider         *lb_account_get_provider                      (LbAccount           *self);
LbConnector        *lb_account_get_connector                     (LbAccount           *self);
GListModel         *lb_account_get_folders                       (LbAccount           *self);
LbFolder           *lb_account_lookup_folder                     (LbAccount           *self,
                                                                  gint64               id);
LbFolder           *lb_account_get_inbox                         (LbAccount           *self);
LbFolder           *lb_account_get_folder_by_role                (LbAccount           *self,
                                                                  LbFolderRole         role);
/* the account's SMTP transport, made when the account opens (an
 * LbSmtpTransport on the account's connector and keyring); NULL before */
LbTransport        *lb_account_get_transport                     (LbAccount           *self);

G_END_DECLS
