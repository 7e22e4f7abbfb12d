/* lb-identity.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-model"

#include "config.h"

#include "lb-identity.h"

/* LbIdentity is one of the names and addresses an account sends as: the
 * From of a message, its Reply-To and the signature put under it. An
 * account keeps a list of them; the first is its default. Checking that
 * the values are usable is the account's business (lb_account_validate()),
 * so an identity being filled in from a form can be incomplete. */

struct _LbIdentity
{
  GObject  parent_instance;

  char    *name;
  char    *address;
  char    *signature;
  char    *reply_to;
};

G_DEFINE_FINAL_TYPE (LbIdentity, lb_identity, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_ADDRESS,
  PROP_SIGNATURE,
  PROP_REPLY_TO,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
lb_identity_finalize (GObject *object)
{
  LbIdentity *self = (LbIdentity *) object;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->address, g_free);
  g_clear_pointer (&self->signature, g_free);
  g_clear_pointer (&self->reply_to, g_free);

  G_OBJECT_CLASS (lb_identity_parent_class)->finalize (object);
}

static void
lb_identity_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  LbIdentity *self = LB_IDENTITY (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;

    case PROP_SIGNATURE:
      g_value_set_string (value, self->signature);
      break;

    case PROP_REPLY_TO:
      g_value_set_string (value, self->reply_to);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_identity_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  LbIdentity *self = LB_IDENTITY (object);

  switch (prop_id)
    {
    case PROP_NAME:
      lb_identity_set_name (self, g_value_get_string (value));
      break;

    case PROP_ADDRESS:
      lb_identity_set_address (self, g_value_get_string (value));
      break;

    case PROP_SIGNATURE:
      lb_identity_set_signature (self, g_value_get_string (value));
      break;

    case PROP_REPLY_TO:
      lb_identity_set_reply_to (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_identity_class_init (LbIdentityClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lb_identity_finalize;
  object_class->get_property = lb_identity_get_property;
  object_class->set_property = lb_identity_set_property;

  /**
   * LbIdentity:name:
   *
   * The display name put in front of the address ("Alice Liddell"), or
   * %NULL for the address alone.
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * LbIdentity:address:
   *
   * The email address messages are sent from.
   */
  properties[PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * LbIdentity:signature:
   *
   * Plain text put under new messages, or %NULL for none; may span lines.
   */
  properties[PROP_SIGNATURE] =
    g_param_spec_string ("signature", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * LbIdentity:reply-to:
   *
   * The address replies should go to, or %NULL to let them go to
   * #LbIdentity:address.
   */
  properties[PROP_REPLY_TO] =
    g_param_spec_string ("reply-to", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lb_identity_init (LbIdentity *self)
{
}

/**
 * lb_identity_new:
 * @name: (nullable): the display name
 * @address: (nullable): the email address
 *
 * Returns: (transfer full): a new identity
 */
LbIdentity *
lb_identity_new (const char *name,
                 const char *address)
{
  return g_object_new (LB_TYPE_IDENTITY,
                       "name", name,
                       "address", address,
                       NULL);
}

/* An empty string is stored as NULL, so "not set" has one spelling. */
static void
set_string (LbIdentity  *self,
            char       **field,
            const char  *value,
            guint        prop_id)
{
  char *copy;

  if (value != NULL && *value == '\0')
    value = NULL;

  if (g_strcmp0 (*field, value) == 0)
    return;

  copy = g_strdup (value);
  g_free (*field);
  *field = copy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

const char *
lb_identity_get_name (LbIdentity *self)
{
  g_return_val_if_fail (LB_IS_IDENTITY (self), NULL);

  return self->name;
}

void
lb_identity_set_name (LbIdentity *self,
                      const char *name)
{
  g_return_if_fail (LB_IS_IDENTITY (self));

  set_string (self, &self->name, name, PROP_NAME);
}

const char *
lb_identity_get_address (LbIdentity *self)
{
  g_return_val_if_fail (LB_IS_IDENTITY (self), NULL);

  return self->address;
}

void
lb_identity_set_address (LbIdentity *self,
                         const char *address)
{
  g_return_if_fail (LB_IS_IDENTITY (self));

  set_string (self, &self->address, address, PROP_ADDRESS);
}

const char *
lb_identity_get_signature (LbIdentity *self)
{
  g_return_val_if_fail (LB_IS_IDENTITY (self), NULL);

  return self->signature;
}

void
lb_identity_set_signature (LbIdentity *self,
                           const char *signature)
{
  g_return_if_fail (LB_IS_IDENTITY (self));

  set_string (self, &self->signature, signature, PROP_SIGNATURE);
}

const char *
lb_identity_get_reply_to (LbIdentity *self)
{
  g_return_val_if_fail (LB_IS_IDENTITY (self), NULL);

  return self->reply_to;
}

void
lb_identity_set_reply_to (LbIdentity *self,
                          const char *reply_to)
{
  g_return_if_fail (LB_IS_IDENTITY (self));

  set_string (self, &self->reply_to, reply_to, PROP_REPLY_TO);
}
