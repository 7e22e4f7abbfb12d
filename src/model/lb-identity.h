/* lb-identity.h: a name and address an account sends mail as
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define LB_TYPE_IDENTITY (lb_identity_get_type ())

G_DECLARE_FINAL_TYPE (LbIdentity, lb_identity, LB, IDENTITY, GObject)

LbIdentity *lb_identity_new           (const char *name,
                                       const char *address);

const char *lb_identity_get_name      (LbIdentity *self);
void        lb_identity_set_name      (LbIdentity *self,
                                       const char *name);
const char *lb_identity_get_address   (LbIdentity *self);
void        lb_identity_set_address   (LbIdentity *self,
                                       const char *address);
const char *lb_identity_get_signature (LbIdentity *self);
void        lb_identity_set_signature (LbIdentity *self,
                                       const char *signature);
const char *lb_identity_get_reply_to  (LbIdentity *self);
void        lb_identity_set_reply_to  (LbIdentity *self,
                                       const char *reply_to);

G_END_DECLS
