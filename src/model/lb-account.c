/* lb-account.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-model"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lb-account.h"
#include "lb-imap-provider.h"
#include "lb-pop3-provider.h"
#include "lb-smtp-transport.h"
#include "lb-net-certificate.h"

/* LbAccount holds the settings of one mail account: who it sends as, the
 * incoming (IMAP or POP3) and outgoing (SMTP) servers, what POP3 may
 * delete on the server, and the certificates the user chose to trust.
 * LbAccountManager stores each account in a key file of its own:
 *
 *   [Account]       DisplayName, Position
 *   [Identity 0]    Name, Address, Signature, ReplyTo   (0 is the default)
 *   [Identity 1]    ...
 *   [Incoming]      Protocol=imap|pop3, Host, Port, Security=tls|starttls|none,
 *                   User, AllowPlaintextLogin, OfflineDays, PollMinutes,
 *                   KeepOnServer, DeleteAfterDays, DeleteWhenDeletedHere,
 *                   SizeLimitKiB
 *   [Outgoing]      Host, Port, Security, User, SaveSentCopy (only when set:
 *                   its default follows the servers)
 *   [Certificates]  Pinned=host:port SHA-256-FINGERPRINT;...
 *
 * A port of 0 means the protocol's default for the chosen security. There
 * is no password anywhere in the file: passwords live in the keyring
 * (LbSecrets), and a key that looks like one is dropped when the file is
 * written. Keys and groups this version does not know are kept as they
 * were read and written back, so a hand-edited setting or one from a newer
 * version survives a save. Unknown keys in an identity group travel with
 * that identity when identities are reordered.
 *
 * An account is also the handle on its mail once lb_account_open_async()
 * has run: its store (in its data directory), its incoming provider and
 * its folders as a list of LbFolder; see "Runtime" below. */

#define IDENTITY_GROUP_PREFIX "Identity "

/* The longest id accepted: a file name has room for 255 bytes, and the
 * id also names the account's data directory. */
#define ID_MAX_LENGTH 100

typedef struct _OpenData OpenData;

struct _LbAccount
{
  GObject             parent_instance;

  char               *id;
  char               *display_name;
  guint               position;
  char               *data_dir;

  GListStore         *identities;

  LbIncomingProtocol  incoming_protocol;
  char               *incoming_host;
  guint16             incoming_port;
  LbNetSecurity       incoming_security;
  char               *incoming_user;
  gboolean            allow_plaintext_password;
  guint               offline_days;
  guint               poll_minutes;

  gboolean            pop3_keep_on_server;
  guint               pop3_delete_after_days;
  gboolean            pop3_delete_when_deleted_here;
  guint               pop3_size_limit;

  char               *smtp_host;
  guint16             smtp_port;
  LbNetSecurity       smtp_security;
  char               *smtp_user;
  gboolean            save_sent_copy;
  gboolean            save_sent_copy_set;  /* the user chose; else the default */

  /* "host:port FINGERPRINT" entries, never NULL */
  char              **pinned_certificates;
  /* the same, accepted for this run of the program only: never saved */
  GPtrArray          *trusted_once;

  /* the file as read, for the keys and groups we do not know; may be NULL */
  GKeyFile           *key_file;

  /* the runtime side: store and provider are set while the account is
   * open, folders is always there and empty while it is not */
  LbStore            *store;
  LbProvider         *provider;
  LbConnector        *connector;   /* the provider's and the transport's */
  LbTransport        *transport;
  GListStore         *folders;
  gulong              folder_changed_id;
  gulong              folder_removed_id;
  OpenData           *opening;   /* the open in progress, owned by its task */
};

G_DEFINE_FINAL_TYPE (LbAccount, lb_account, G_TYPE_OBJECT)

G_DEFINE_QUARK (lb-account-error-quark, lb_account_error)

/* Unknown keys of an identity's group, kept on the identity itself in a
 * key file with one group, so they follow it when identities move. */
#define EXTRA_GROUP "Identity"

static GQuark
identity_extra_quark (void)
{
  return g_quark_from_static_string ("lb-account-identity-extra");
}

enum {
  PROP_0,
  PROP_ID,
  PROP_DISPLAY_NAME,
  PROP_POSITION,
  PROP_DATA_DIR,
  PROP_IDENTITIES,
  PROP_INCOMING_PROTOCOL,
  PROP_INCOMING_HOST,
  PROP_INCOMING_PORT,
  PROP_INCOMING_SECURITY,
  PROP_INCOMING_USER,
  PROP_ALLOW_PLAINTEXT_PASSWORD,
  PROP_OFFLINE_DAYS,
  PROP_POLL_MINUTES,
  PROP_POP3_KEEP_ON_SERVER,
  PROP_POP3_DELETE_AFTER_DAYS,
  PROP_POP3_DELETE_WHEN_DELETED_HERE,
  PROP_POP3_SIZE_LIMIT,
  PROP_SMTP_HOST,
  PROP_SMTP_PORT,
  PROP_SMTP_SECURITY,
  PROP_SMTP_USER,
  PROP_SAVE_SENT_COPY,
  PROP_PINNED_CERTIFICATES,
  PROP_OPENED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The known keys of each group; everything else is preserved. */
static const char *const account_keys[] = { "DisplayName", "Position", NULL };
static const char *const identity_keys[] = { "Name", "Address", "Signature", "ReplyTo", NULL };
static const char *const incoming_keys[] = {
  "Protocol", "Host", "Port", "Security", "User",
  "AllowPlaintextLogin", "OfflineDays", "PollMinutes",
  "KeepOnServer", "DeleteAfterDays", "DeleteWhenDeletedHere", "SizeLimitKiB", NULL
};
static const char *const outgoing_keys[] = { "Host", "Port", "Security", "User", "SaveSentCopy", NULL };
static const char *const certificate_keys[] = { "Pinned", NULL };

/* Enums */

GType
lb_incoming_protocol_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      static const GEnumValue values[] = {
        { LB_INCOMING_IMAP, "LB_INCOMING_IMAP", "imap" },
        { LB_INCOMING_POP3, "LB_INCOMING_POP3", "pop3" },
        { 0, NULL, NULL },
      };
      GType type = g_enum_register_static (g_intern_static_string ("LbIncomingProtocol"), values);

      g_once_init_leave (&type_id, type);
    }

  return type_id;
}

/**
 * lb_incoming_protocol_to_string:
 *
 * Returns: the name stored in account files: "imap" or "pop3"
 */
const char *
lb_incoming_protocol_to_string (LbIncomingProtocol protocol)
{
  switch (protocol)
    {
    case LB_INCOMING_IMAP:
      return "imap";

    case LB_INCOMING_POP3:
      return "pop3";

    default:
      g_return_val_if_reached (NULL);
    }
}

gboolean
lb_incoming_protocol_from_string (const char         *str,
                                  LbIncomingProtocol *out_protocol)
{
  g_return_val_if_fail (out_protocol != NULL, FALSE);

  if (g_strcmp0 (str, "imap") == 0)
    *out_protocol = LB_INCOMING_IMAP;
  else if (g_strcmp0 (str, "pop3") == 0)
    *out_protocol = LB_INCOMING_POP3;
  else
    return FALSE;

  return TRUE;
}

/* Checks shared by validation and loading */

/**
 * lb_account_id_is_valid:
 * @id: (nullable): a proposed account id
 *
 * An id names the account's file and its data directory, so it must be a
 * safe file name on every system: 1 to 100 of `a-z 0-9 . _ -`, not
 * starting with a dot or a hyphen. "..", "../x" and "Inbox" are refused.
 *
 * Returns: whether @id can be an account id
 */
gboolean
lb_account_id_is_valid (const char *id)
{
  gsize length;

  if (id == NULL || *id == '\0' || *id == '.' || *id == '-')
    return FALSE;

  length = strlen (id);
  if (length > ID_MAX_LENGTH)
    return FALSE;

  for (gsize i = 0; i < length; i++)
    {
      char c = id[i];

      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
        return FALSE;
    }

  return TRUE;
}

static gboolean
has_control_characters (const char *str,
                        gboolean    allow_line_breaks)
{
  for (const char *p = str; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (allow_line_breaks && (c == '\n' || c == '\t'))
        continue;
      if (g_unichar_iscntrl (c))
        return TRUE;
    }

  return FALSE;
}

/* A host name (Unicode labels allowed) or an IP address literal; never
 * with a port, a scheme, a path or a space in it. */
static gboolean
host_is_valid (const char *host)
{
  gboolean label_start = TRUE;

  if (host == NULL || *host == '\0' || !g_utf8_validate (host, -1, NULL))
    return FALSE;

  if (g_hostname_is_ip_address (host))
    return TRUE;

  if (strlen (host) > 253)
    return FALSE;

  for (const char *p = host; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '.')
        {
          /* no empty label: ".x", "x..y" */
          if (label_start)
            return FALSE;
          label_start = TRUE;
          continue;
        }

      label_start = FALSE;

      if (c < 0x80)
        {
          if (!g_ascii_isalnum ((char) c) && c != '-' && c != '_')
            return FALSE;
        }
      else if (g_unichar_isspace (c) || g_unichar_iscntrl (c) || !g_unichar_isprint (c))
        {
          return FALSE;
        }
    }

  return TRUE;
}

/* addr-spec with an unquoted local part and a host name as the domain */
static gboolean
address_is_valid (const char *address)
{
  const char *at;
  g_autofree char *local = NULL;

  if (address == NULL || !g_utf8_validate (address, -1, NULL))
    return FALSE;

  at = strchr (address, '@');
  if (at == NULL || at == address || strchr (at + 1, '@') != NULL)
    return FALSE;

  local = g_strndup (address, at - address);
  for (const char *p = local; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c) || g_unichar_iscntrl (c) || strchr ("<>()[]\\,;:\"", (int) c) != NULL)
        return FALSE;
    }

  return host_is_valid (at + 1);
}

static char *
make_pin_prefix (const char *host,
                 guint16     port)
{
  g_autofree char *lower = g_utf8_strdown (host, -1);

  return g_strdup_printf ("%s:%u ", lower, port);
}

/* Parses "host:port FINGERPRINT" into its canonical form. */
static char *
normalize_pin (const char *entry)
{
  const char *space;
  const char *colon;
  g_autofree char *host = NULL;
  g_autofree char *port_str = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *prefix = NULL;
  guint64 port;

  space = strrchr (entry, ' ');
  if (space == NULL)
    return NULL;

  colon = g_strrstr_len (entry, space - entry, ":");
  if (colon == NULL)
    return NULL;

  host = g_strndup (entry, colon - entry);
  port_str = g_strndup (colon + 1, space - colon - 1);
  if (!host_is_valid (host) ||
      !g_ascii_string_to_unsigned (port_str, 10, 1, G_MAXUINT16, &port, NULL))
    return NULL;

  fingerprint = lb_net_normalize_fingerprint (space + 1);
  if (fingerprint == NULL)
    return NULL;

  prefix = make_pin_prefix (host, (guint16) port);
  return g_strconcat (prefix, fingerprint, NULL);
}

/* GObject */

static void drop_runtime (LbAccount *self);

static void
lb_account_dispose (GObject *object)
{
  LbAccount *self = (LbAccount *) object;

  drop_runtime (self);

  G_OBJECT_CLASS (lb_account_parent_class)->dispose (object);
}

static void
lb_account_finalize (GObject *object)
{
  LbAccount *self = (LbAccount *) object;

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->display_name, g_free);
  g_clear_pointer (&self->data_dir, g_free);
  g_clear_object (&self->identities);
  g_clear_pointer (&self->incoming_host, g_free);
  g_clear_pointer (&self->incoming_user, g_free);
  g_clear_pointer (&self->smtp_host, g_free);
  g_clear_pointer (&self->smtp_user, g_free);
  g_clear_pointer (&self->pinned_certificates, g_strfreev);
  g_clear_pointer (&self->trusted_once, g_ptr_array_unref);
  g_clear_pointer (&self->key_file, g_key_file_unref);
  g_clear_object (&self->folders);

  G_OBJECT_CLASS (lb_account_parent_class)->finalize (object);
}

static void
lb_account_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  LbAccount *self = LB_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;

    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;

    case PROP_POSITION:
      g_value_set_uint (value, self->position);
      break;

    case PROP_DATA_DIR:
      g_value_set_string (value, self->data_dir);
      break;

    case PROP_IDENTITIES:
      g_value_set_object (value, self->identities);
      break;

    case PROP_INCOMING_PROTOCOL:
      g_value_set_enum (value, self->incoming_protocol);
      break;

    case PROP_INCOMING_HOST:
      g_value_set_string (value, self->incoming_host);
      break;

    case PROP_INCOMING_PORT:
      g_value_set_uint (value, self->incoming_port);
      break;

    case PROP_INCOMING_SECURITY:
      g_value_set_enum (value, self->incoming_security);
      break;

    case PROP_INCOMING_USER:
      g_value_set_string (value, self->incoming_user);
      break;

    case PROP_ALLOW_PLAINTEXT_PASSWORD:
      g_value_set_boolean (value, self->allow_plaintext_password);
      break;

    case PROP_OFFLINE_DAYS:
      g_value_set_uint (value, self->offline_days);
      break;

    case PROP_POLL_MINUTES:
      g_value_set_uint (value, self->poll_minutes);
      break;

    case PROP_POP3_KEEP_ON_SERVER:
      g_value_set_boolean (value, self->pop3_keep_on_server);
      break;

    case PROP_POP3_DELETE_AFTER_DAYS:
      g_value_set_uint (value, self->pop3_delete_after_days);
      break;

    case PROP_POP3_DELETE_WHEN_DELETED_HERE:
      g_value_set_boolean (value, self->pop3_delete_when_deleted_here);
      break;

    case PROP_POP3_SIZE_LIMIT:
      g_value_set_uint (value, self->pop3_size_limit);
      break;

    case PROP_SMTP_HOST:
      g_value_set_string (value, self->smtp_host);
      break;

    case PROP_SMTP_PORT:
      g_value_set_uint (value, self->smtp_port);
      break;

    case PROP_SMTP_SECURITY:
      g_value_set_enum (value, self->smtp_security);
      break;

    case PROP_SMTP_USER:
      g_value_set_string (value, self->smtp_user);
      break;

    case PROP_SAVE_SENT_COPY:
      g_value_set_boolean (value, lb_account_get_save_sent_copy (self));
      break;

    case PROP_PINNED_CERTIFICATES:
      g_value_set_boxed (value, self->pinned_certificates);
      break;

    case PROP_OPENED:
      g_value_set_boolean (value, self->store != NULL);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
lb_account_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  LbAccount *self = LB_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_dup_string (value);
      break;

    case PROP_DISPLAY_NAME:
      lb_account_set_display_name (self, g_value_get_string (value));
      break;

    case PROP_POSITION:
      lb_account_set_position (self, g_value_get_uint (value));
      break;

    case PROP_DATA_DIR:
      lb_account_set_data_dir (self, g_value_get_string (value));
      break;

    case PROP_INCOMING_PROTOCOL:
      lb_account_set_incoming_protocol (self, g_value_get_enum (value));
      break;

    case PROP_INCOMING_HOST:
      lb_account_set_incoming_host (self, g_value_get_string (value));
      break;

    case PROP_INCOMING_PORT:
      lb_account_set_incoming_port (self, (guint16) g_value_get_uint (value));
      break;

    case PROP_INCOMING_SECURITY:
      lb_account_set_incoming_security (self, g_value_get_enum (value));
      break;

    case PROP_INCOMING_USER:
      lb_account_set_incoming_user (self, g_value_get_string (value));
      break;

    case PROP_ALLOW_PLAINTEXT_PASSWORD:
      lb_account_set_allow_plaintext_password (self, g_value_get_boolean (value));
      break;

    case PROP_OFFLINE_DAYS:
      lb_account_set_offline_days (self, g_value_get_uint (value));
      break;

    case PROP_POLL_MINUTES:
      lb_account_set_poll_minutes (self, g_value_get_uint (value));
      break;

    case PROP_POP3_KEEP_ON_SERVER:
      lb_account_set_pop3_keep_on_server (self, g_value_get_boolean (value));
      break;

    case PROP_POP3_DELETE_AFTER_DAYS:
      lb_account_set_pop3_delete_after_days (self, g_value_get_uint (value));
      break;

    case PROP_POP3_DELETE_WHEN_DELETED_HERE:
      lb_account_set_pop3_delete_when_deleted_here (self, g_value_get_boolean (value));
      break;

    case PROP_POP3_SIZE_LIMIT:
      lb_account_set_pop3_size_limit (self, g_value_get_uint (value));
      break;

    case PROP_SMTP_HOST:
      lb_account_set_smtp_host (self, g_value_get_string (value));
      break;

    case PROP_SMTP_PORT:
      lb_account_set_smtp_port (self, (guint16) g_value_get_uint (value));
      break;

    case PROP_SMTP_SECURITY:
      lb_account_set_smtp_security (self, g_value_get_enum (value));
      break;

    case PROP_SMTP_USER:
      lb_account_set_smtp_user (self, g_value_get_string (value));
      break;

    case PROP_SAVE_SENT_COPY:
      lb_account_set_save_sent_copy (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GParamSpec *
string_param (const char *name,
              GParamFlags extra_flags)
{
  return g_param_spec_string (name, NULL, NULL, NULL,
                              (G_PARAM_READWRITE |
                               G_PARAM_EXPLICIT_NOTIFY |
                               G_PARAM_STATIC_STRINGS |
                               extra_flags));
}

static GParamSpec *
port_param (const char *name)
{
  return g_param_spec_uint (name, NULL, NULL,
                            0, G_MAXUINT16, 0,
                            (G_PARAM_READWRITE |
                             G_PARAM_EXPLICIT_NOTIFY |
                             G_PARAM_STATIC_STRINGS));
}

static GParamSpec *
security_param (const char *name)
{
  return g_param_spec_enum (name, NULL, NULL,
                            LB_TYPE_NET_SECURITY, LB_NET_SECURITY_TLS,
                            (G_PARAM_READWRITE |
                             G_PARAM_EXPLICIT_NOTIFY |
                             G_PARAM_STATIC_STRINGS));
}

static GParamSpec *
boolean_param (const char *name,
               gboolean    default_value)
{
  return g_param_spec_boolean (name, NULL, NULL, default_value,
                               (G_PARAM_READWRITE |
                                G_PARAM_EXPLICIT_NOTIFY |
                                G_PARAM_STATIC_STRINGS));
}

static void
lb_account_class_init (LbAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lb_account_dispose;
  object_class->finalize = lb_account_finalize;
  object_class->get_property = lb_account_get_property;
  object_class->set_property = lb_account_set_property;

  /**
   * LbAccount:id:
   *
   * The stable id: it names the account's file, its data directory and
   * its keyring items, and never changes. See lb_account_id_is_valid().
   */
  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * LbAccount:display-name:
   *
   * What the user calls the account ("Work"), or %NULL to show the
   * default identity's address.
   */
  properties[PROP_DISPLAY_NAME] = string_param ("display-name", 0);

  /**
   * LbAccount:position:
   *
   * The account's place in the account list, smallest first; ties are
   * ordered by id.
   */
  properties[PROP_POSITION] =
    g_param_spec_uint ("position", NULL, NULL,
                       0, G_MAXINT, 0,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * LbAccount:data-dir:
   *
   * The directory of the account's local data (its store, its local
   * folders): `<data-dir>/<id>` of the account manager, which sets it. It
   * is not created here.
   */
  properties[PROP_DATA_DIR] = string_param ("data-dir", 0);

  /**
   * LbAccount:identities:
   *
   * A #GListModel of #LbIdentity; the first is the default.
   */
  properties[PROP_IDENTITIES] =
    g_param_spec_object ("identities", NULL, NULL,
                         G_TYPE_LIST_MODEL,
                         (G_PARAM_READABLE |
                          G_PARAM_STATIC_STRINGS));

  properties[PROP_INCOMING_PROTOCOL] =
    g_param_spec_enum ("incoming-protocol", NULL, NULL,
                       LB_TYPE_INCOMING_PROTOCOL, LB_INCOMING_IMAP,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));
  properties[PROP_INCOMING_HOST] = string_param ("incoming-host", 0);

  /**
   * LbAccount:incoming-port:
   *
   * The port of the incoming server; 0 means the default for the protocol
   * and security (lb_account_get_effective_incoming_port()).
   */
  properties[PROP_INCOMING_PORT] = port_param ("incoming-port");
  properties[PROP_INCOMING_SECURITY] = security_param ("incoming-security");
  properties[PROP_INCOMING_USER] = string_param ("incoming-user", 0);

  /**
   * LbAccount:allow-plaintext-password:
   *
   * Whether the user agreed to send the incoming server's password over a
   * connection without encryption (#LbAccount:incoming-security none),
   * where anyone on the way can read it. Without it, logging in over
   * such a connection is refused. Stored as AllowPlaintextLogin: a key
   * named like a password would be dropped from account files.
   */
  properties[PROP_ALLOW_PLAINTEXT_PASSWORD] = boolean_param ("allow-plaintext-password", FALSE);

  /**
   * LbAccount:offline-days:
   *
   * IMAP: keep the whole messages of the last this many days downloaded,
   * for reading them without a connection; 0 (the default) downloads a
   * message only when it is opened, which spares disk space and metered
   * connections.
   */
  properties[PROP_OFFLINE_DAYS] =
    g_param_spec_uint ("offline-days", NULL, NULL,
                       0, G_MAXINT, 0,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * LbAccount:poll-minutes:
   *
   * IMAP: how often to look for changes in the folders that are not
   * watched continuously (the Inbox and the open folder are, with IDLE);
   * 0 never. The default is 5.
   */
  properties[PROP_POLL_MINUTES] =
    g_param_spec_uint ("poll-minutes", NULL, NULL,
                       0, G_MAXINT, 5,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * LbAccount:pop3-keep-on-server:
   *
   * Whether POP3 leaves downloaded messages on the server. Off by
   * default, as POP3 is meant to be used: a message is deleted from the
   * server once it is stored here (written, synced to disk and recorded),
   * never before. With it on, nothing is deleted from the server unless
   * one of the two rules below says so.
   */
  properties[PROP_POP3_KEEP_ON_SERVER] = boolean_param ("pop3-keep-on-server", FALSE);

  /**
   * LbAccount:pop3-delete-after-days:
   *
   * With #LbAccount:pop3-keep-on-server, delete a message from the server
   * this many days after it was downloaded; 0 means never.
   */
  properties[PROP_POP3_DELETE_AFTER_DAYS] =
    g_param_spec_uint ("pop3-delete-after-days", NULL, NULL,
                       0, G_MAXINT, 0,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * LbAccount:pop3-delete-when-deleted-here:
   *
   * With #LbAccount:pop3-keep-on-server, delete a message from the server
   * when the user deletes it here for good.
   */
  properties[PROP_POP3_DELETE_WHEN_DELETED_HERE] =
    boolean_param ("pop3-delete-when-deleted-here", FALSE);

  /**
   * LbAccount:pop3-size-limit:
   *
   * POP3: of a message larger than this many KiB, download only the
   * headers; its rest is downloaded when the user asks for it, and until
   * then it stays on the server whatever the rules above say. 0 means no
   * limit.
   */
  properties[PROP_POP3_SIZE_LIMIT] =
    g_param_spec_uint ("pop3-size-limit", NULL, NULL,
                       0, G_MAXINT, 0,
                       (G_PARAM_READWRITE |
                        G_PARAM_EXPLICIT_NOTIFY |
                        G_PARAM_STATIC_STRINGS));

  properties[PROP_SMTP_HOST] = string_param ("smtp-host", 0);

  /**
   * LbAccount:smtp-port:
   *
   * The port of the submission server; 0 means 465 with implicit TLS and
   * 587 otherwise (lb_account_get_effective_smtp_port()).
   */
  properties[PROP_SMTP_PORT] = port_param ("smtp-port");
  properties[PROP_SMTP_SECURITY] = security_param ("smtp-security");
  properties[PROP_SMTP_USER] = string_param ("smtp-user", 0);

  /**
   * LbAccount:save-sent-copy:
   *
   * Whether Letterbox files a copy of each message it sent in the Sent
   * folder. FALSE by default when the incoming or the outgoing server is
   * Gmail's (gmail.com, googlemail.com and their subdomains), which files
   * one itself; TRUE otherwise. The default follows the servers until the
   * user sets it.
   */
  properties[PROP_SAVE_SENT_COPY] = boolean_param ("save-sent-copy", TRUE);

  /**
   * LbAccount:pinned-certificates:
   *
   * The server certificates the user accepted although the system does not
   * trust them, as "host:port FINGERPRINT" strings with the SHA-256
   * fingerprint in colon-separated upper-case hex. Changed with
   * lb_account_pin_certificate() and lb_account_unpin_certificate().
   */
  properties[PROP_PINNED_CERTIFICATES] =
    g_param_spec_boxed ("pinned-certificates", NULL, NULL,
                        G_TYPE_STRV,
                        (G_PARAM_READABLE |
                         G_PARAM_EXPLICIT_NOTIFY |
                         G_PARAM_STATIC_STRINGS));

  /**
   * LbAccount:opened:
   *
   * Whether the account is open: lb_account_open_async() succeeded and
   * lb_account_close() has not been called since. While it is, the
   * account has a store, a provider and its folders.
   */
  properties[PROP_OPENED] =
    g_param_spec_boolean ("opened", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE |
                           G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
lb_account_init (LbAccount *self)
{
  self->identities = g_list_store_new (LB_TYPE_IDENTITY);
  self->incoming_protocol = LB_INCOMING_IMAP;
  self->incoming_security = LB_NET_SECURITY_TLS;
  self->poll_minutes = 5;
  self->pop3_keep_on_server = FALSE;
  self->smtp_security = LB_NET_SECURITY_TLS;
  self->pinned_certificates = g_new0 (char *, 1);
  self->trusted_once = g_ptr_array_new_with_free_func (g_free);
  self->folders = g_list_store_new (LB_TYPE_FOLDER);
}

/**
 * lb_account_new:
 * @id: the account's id; see lb_account_id_is_valid() (an invalid one is
 *   only refused by lb_account_validate() and the manager)
 *
 * Returns: (transfer full): an account with default settings and no
 *   identity
 */
LbAccount *
lb_account_new (const char *id)
{
  g_return_val_if_fail (id != NULL, NULL);

  return g_object_new (LB_TYPE_ACCOUNT, "id", id, NULL);
}

/* Setters */

static void
set_string (LbAccount   *self,
            char       **field,
            const char  *value,
            guint        prop_id)
{
  char *copy;

  /* An empty string is stored as NULL, so "not set" has one spelling. */
  if (value != NULL && *value == '\0')
    value = NULL;

  if (g_strcmp0 (*field, value) == 0)
    return;

  copy = g_strdup (value);
  g_free (*field);
  *field = copy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
set_uint (LbAccount *self,
          guint     *field,
          guint      value,
          guint      prop_id)
{
  if (*field == value)
    return;

  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
set_port (LbAccount *self,
          guint16   *field,
          guint16    value,
          guint      prop_id)
{
  if (*field == value)
    return;

  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
set_boolean (LbAccount *self,
             gboolean  *field,
             gboolean   value,
             guint      prop_id)
{
  value = !!value;
  if (*field == value)
    return;

  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
set_security (LbAccount     *self,
              LbNetSecurity *field,
              LbNetSecurity  value,
              guint          prop_id)
{
  if (*field == value)
    return;

  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

const char *
lb_account_get_id (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return self->id;
}

const char *
lb_account_get_display_name (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return self->display_name;
}

void
lb_account_set_display_name (LbAccount  *self,
                             const char *display_name)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));

  set_string (self, &self->display_name, display_name, PROP_DISPLAY_NAME);
}

guint
lb_account_get_position (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), 0);

  return self->position;
}

void
lb_account_set_position (LbAccount *self,
                         guint      position)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));
  g_return_if_fail (position <= G_MAXINT);

  set_uint (self, &self->position, position, PROP_POSITION);
}

/**
 * lb_account_get_data_dir:
 *
 * Returns: (nullable): the directory of the account's local data, set by
 *   the account manager when it loads or adds the account
 */
const char *
lb_account_get_data_dir (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return self->data_dir;
}

void
lb_account_set_data_dir (LbAccount  *self,
                         const char *data_dir)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));

  set_string (self, &self->data_dir, data_dir, PROP_DATA_DIR);
}

/* Identities */

/**
 * lb_account_get_identities:
 *
 * Returns: (transfer none): the account's #LbIdentity list; the first is
 *   the default. Change it with the functions below.
 */
GListModel *
lb_account_get_identities (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return G_LIST_MODEL (self->identities);
}

/**
 * lb_account_get_default_identity:
 *
 * Returns: (transfer none) (nullable): the first identity
 */
LbIdentity *
lb_account_get_default_identity (LbAccount *self)
{
  g_autoptr(LbIdentity) identity = NULL;

  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  /* the store keeps its reference */
  identity = g_list_model_get_item (G_LIST_MODEL (self->identities), 0);
  return identity;
}

/**
 * lb_account_add_identity:
 *
 * Appends @identity; the first one added is the default.
 */
void
lb_account_add_identity (LbAccount  *self,
                         LbIdentity *identity)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));
  g_return_if_fail (LB_IS_IDENTITY (identity));
  g_return_if_fail (!g_list_store_find (self->identities, identity, NULL));

  g_list_store_append (self->identities, identity);
}

/**
 * lb_account_remove_identity:
 *
 * Returns: %TRUE if @identity was one of the account's
 */
gboolean
lb_account_remove_identity (LbAccount  *self,
                            LbIdentity *identity)
{
  guint position;

  g_return_val_if_fail (LB_IS_ACCOUNT (self), FALSE);
  g_return_val_if_fail (LB_IS_IDENTITY (identity), FALSE);

  if (!g_list_store_find (self->identities, identity, &position))
    return FALSE;

  g_list_store_remove (self->identities, position);
  return TRUE;
}

/**
 * lb_account_set_default_identity:
 * @identity: one of the account's identities
 *
 * Moves @identity to the front of the list.
 */
void
lb_account_set_default_identity (LbAccount  *self,
                                 LbIdentity *identity)
{
  g_autoptr(LbIdentity) keep = NULL;
  guint position;

  g_return_if_fail (LB_IS_ACCOUNT (self));
  g_return_if_fail (LB_IS_IDENTITY (identity));

  if (!g_list_store_find (self->identities, identity, &position))
    g_return_if_reached ();

  if (position == 0)
    return;

  keep = g_object_ref (identity);
  g_list_store_remove (self->identities, position);
  g_list_store_insert (self->identities, 0, identity);
}

/* Incoming server */

LbIncomingProtocol
lb_account_get_incoming_protocol (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), LB_INCOMING_IMAP);

  return self->incoming_protocol;
}

void
lb_account_set_incoming_protocol (LbAccount          *self,
                                  LbIncomingProtocol  protocol)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));
  g_return_if_fail (protocol == LB_INCOMING_IMAP || protocol == LB_INCOMING_POP3);

  if (self->incoming_protocol == protocol)
    return;

  self->incoming_protocol = protocol;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INCOMING_PROTOCOL]);
}

const char *
lb_account_get_incoming_host (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return self->incoming_host;
}

void
lb_account_set_incoming_host (LbAccount  *self,
                              const char *host)
{
  gboolean save;

  g_return_if_fail (LB_IS_ACCOUNT (self));

  save = lb_account_get_save_sent_copy (self);
  set_string (self, &self->incoming_host, host, PROP_INCOMING_HOST);
  if (save != lb_account_get_save_sent_copy (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAVE_SENT_COPY]);
}

/**
 * lb_account_get_incoming_port:
 *
 * Returns: the port as set, 0 for the default
 */
guint16
lb_account_get_incoming_port (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), 0);

  return self->incoming_port;
}

void
lb_account_set_incoming_port (LbAccount *self,
                              guint16    port)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));

  set_port (self, &self->incoming_port, port, PROP_INCOMING_PORT);
}

/**
 * lb_account_get_effective_incoming_port:
 *
 * Returns: the port to connect to: the one set, or else 993 (IMAP) or 995
 *   (POP3) with implicit TLS and 143 or 110 with STARTTLS or none
 */
guint16
lb_account_get_effective_incoming_port (LbAccount *self)
{
  gboolean implicit_tls;

  g_return_val_if_fail (LB_IS_ACCOUNT (self), 0);

  if (self->incoming_port != 0)
    return self->incoming_port;

  implicit_tls = self->incoming_security == LB_NET_SECURITY_TLS;
  if (self->incoming_protocol == LB_INCOMING_POP3)
    return implicit_tls ? 995 : 110;

  return implicit_tls ? 993 : 143;
}

LbNetSecurity
lb_account_get_incoming_security (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), LB_NET_SECURITY_TLS);

  return self->incoming_security;
}

void
lb_account_set_incoming_security (LbAccount     *self,
                                  LbNetSecurity  security)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));
  g_return_if_fail (lb_net_security_to_string (security) != NULL);

  set_security (self, &self->incoming_security, security, PROP_INCOMING_SECURITY);
}

const char *
lb_account_get_incoming_user (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return self->incoming_user;
}

void
lb_account_set_incoming_user (LbAccount  *self,
                              const char *user)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));

  set_string (self, &self->incoming_user, user, PROP_INCOMING_USER);
}

/* IMAP settings */

gboolean
lb_account_get_allow_plaintext_password (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), FALSE);

  return self->allow_plaintext_password;
}

void
lb_account_set_allow_plaintext_password (LbAccount *self,
                                         gboolean   allow)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));

  set_boolean (self, &self->allow_plaintext_password, allow, PROP_ALLOW_PLAINTEXT_PASSWORD);
}

guint
lb_account_get_offline_days (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), 0);

  return self->offline_days;
}

void
lb_account_set_offline_days (LbAccount *self,
                             guint      days)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));
  g_return_if_fail (days <= G_MAXINT);

  set_uint (self, &self->offline_days, days, PROP_OFFLINE_DAYS);
}

guint
lb_account_get_poll_minutes (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), 5);

  return self->poll_minutes;
}

void
lb_account_set_poll_minutes (LbAccount *self,
                             guint      minutes)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));
  g_return_if_fail (minutes <= G_MAXINT);

  set_uint (self, &self->poll_minutes, minutes, PROP_POLL_MINUTES);
}

/* POP3 deletion rules */

gboolean
lb_account_get_pop3_keep_on_server (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), TRUE);

  return self->pop3_keep_on_server;
}

void
lb_account_set_pop3_keep_on_server (LbAccount *self,
                                    gboolean   keep)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));

  set_boolean (self, &self->pop3_keep_on_server, keep, PROP_POP3_KEEP_ON_SERVER);
}

guint
lb_account_get_pop3_delete_after_days (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), 0);

  return self->pop3_delete_after_days;
}

void
lb_account_set_pop3_delete_after_days (LbAccount *self,
                                       guint      days)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));
  g_return_if_fail (days <= G_MAXINT);

  set_uint (self, &self->pop3_delete_after_days, days, PROP_POP3_DELETE_AFTER_DAYS);
}

/**
 * lb_account_get_pop3_size_limit:
 * @self: an account
 *
 * Returns: #LbAccount:pop3-size-limit, in KiB
 */
guint
lb_account_get_pop3_size_limit (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), 0);

  return self->pop3_size_limit;
}

void
lb_account_set_pop3_size_limit (LbAccount *self,
                                guint      kib)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));
  g_return_if_fail (kib <= G_MAXINT);

  set_uint (self, &self->pop3_size_limit, kib, PROP_POP3_SIZE_LIMIT);
}

gboolean
lb_account_get_pop3_delete_when_deleted_here (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), FALSE);

  return self->pop3_delete_when_deleted_here;
}

void
lb_account_set_pop3_delete_when_deleted_here (LbAccount *self,
                                              gboolean   delete_here)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));

  set_boolean (self, &self->pop3_delete_when_deleted_here, delete_here,
               PROP_POP3_DELETE_WHEN_DELETED_HERE);
}

/* Outgoing server */

const char *
lb_account_get_smtp_host (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return self->smtp_host;
}

void
lb_account_set_smtp_host (LbAccount  *self,
                          const char *host)
{
  gboolean save;

  g_return_if_fail (LB_IS_ACCOUNT (self));

  save = lb_account_get_save_sent_copy (self);
  set_string (self, &self->smtp_host, host, PROP_SMTP_HOST);
  if (save != lb_account_get_save_sent_copy (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAVE_SENT_COPY]);
}

/* gmail.com, googlemail.com or a name under them, in any case, with or
 * without the final dot */
static gboolean
is_gmail_host (const char *host)
{
  static const char *const domains[] = { "gmail.com", "googlemail.com" };
  g_autofree char *lower = NULL;
  gsize len;

  if (host == NULL)
    return FALSE;
  lower = g_ascii_strdown (host, -1);
  len = strlen (lower);
  if (len > 0 && lower[len - 1] == '.')
    lower[--len] = '\0';
  for (guint i = 0; i < G_N_ELEMENTS (domains); i++)
    {
      gsize dlen = strlen (domains[i]);

      if (strcmp (lower, domains[i]) == 0 ||
          (len > dlen && g_str_has_suffix (lower, domains[i]) && lower[len - dlen - 1] == '.'))
        return TRUE;
    }
  return FALSE;
}

/**
 * lb_account_get_save_sent_copy:
 * @self: an account
 *
 * Returns: whether a copy of sent mail goes to the Sent folder
 *   (#LbAccount:save-sent-copy)
 */
gboolean
lb_account_get_save_sent_copy (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), TRUE);

  if (self->save_sent_copy_set)
    return self->save_sent_copy;
  return !is_gmail_host (self->incoming_host) && !is_gmail_host (self->smtp_host);
}

void
lb_account_set_save_sent_copy (LbAccount *self,
                               gboolean   save)
{
  gboolean old;

  g_return_if_fail (LB_IS_ACCOUNT (self));

  old = lb_account_get_save_sent_copy (self);
  self->save_sent_copy_set = TRUE;
  self->save_sent_copy = !!save;
  if (old != self->save_sent_copy)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAVE_SENT_COPY]);
}

guint16
lb_account_get_smtp_port (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), 0);

  return self->smtp_port;
}

void
lb_account_set_smtp_port (LbAccount *self,
                          guint16    port)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));

  set_port (self, &self->smtp_port, port, PROP_SMTP_PORT);
}

/**
 * lb_account_get_effective_smtp_port:
 *
 * Returns: the port to connect to: the one set, or else 465 with implicit
 *   TLS and 587 (submission) with STARTTLS or none
 */
guint16
lb_account_get_effective_smtp_port (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), 0);

  if (self->smtp_port != 0)
    return self->smtp_port;

  return self->smtp_security == LB_NET_SECURITY_TLS ? 465 : 587;
}

LbNetSecurity
lb_account_get_smtp_security (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), LB_NET_SECURITY_TLS);

  return self->smtp_security;
}

void
lb_account_set_smtp_security (LbAccount     *self,
                              LbNetSecurity  security)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));
  g_return_if_fail (lb_net_security_to_string (security) != NULL);

  set_security (self, &self->smtp_security, security, PROP_SMTP_SECURITY);
}

const char *
lb_account_get_smtp_user (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return self->smtp_user;
}

void
lb_account_set_smtp_user (LbAccount  *self,
                          const char *user)
{
  g_return_if_fail (LB_IS_ACCOUNT (self));

  set_string (self, &self->smtp_user, user, PROP_SMTP_USER);
}

/* Pinned certificates */

/**
 * lb_account_get_pinned_certificates:
 *
 * Returns: (transfer none): the "host:port FINGERPRINT" entries, possibly
 *   none
 */
const char * const *
lb_account_get_pinned_certificates (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return (const char * const *) self->pinned_certificates;
}

static void
set_pins (LbAccount *self,
          GPtrArray *pins)
{
  g_ptr_array_add (pins, NULL);
  g_strfreev (self->pinned_certificates);
  self->pinned_certificates = (char **) g_ptr_array_free (pins, FALSE);
}

/* Removes the pins of host:port; returns whether there were any. */
static gboolean
remove_pins (LbAccount  *self,
             const char *prefix)
{
  g_autoptr(GPtrArray) kept = g_ptr_array_new ();
  gboolean removed = FALSE;

  for (guint i = 0; self->pinned_certificates[i] != NULL; i++)
    {
      if (g_str_has_prefix (self->pinned_certificates[i], prefix))
        {
          g_free (self->pinned_certificates[i]);
          removed = TRUE;
        }
      else
        {
          g_ptr_array_add (kept, self->pinned_certificates[i]);
        }
    }

  g_ptr_array_add (kept, NULL);
  g_free (self->pinned_certificates);
  self->pinned_certificates = (char **) g_ptr_array_free (g_steal_pointer (&kept), FALSE);

  return removed;
}

/**
 * lb_account_pin_certificate:
 * @host: the server's host name as configured
 * @port: the port connected to (the effective one)
 * @fingerprint: the certificate's SHA-256 fingerprint in hex, with or
 *   without colons, in either case
 *
 * Records that the user accepted this certificate for @host and @port
 * after seeing its fingerprint. It replaces a certificate pinned before
 * for the same server, so an old certificate is not trusted for ever.
 */
void
lb_account_pin_certificate (LbAccount  *self,
                            const char *host,
                            guint16     port,
                            const char *fingerprint)
{
  g_autofree char *normalized = NULL;
  g_autofree char *prefix = NULL;
  g_autoptr(GPtrArray) pins = NULL;

  g_return_if_fail (LB_IS_ACCOUNT (self));
  g_return_if_fail (host_is_valid (host));
  g_return_if_fail (port != 0);

  normalized = lb_net_normalize_fingerprint (fingerprint);
  g_return_if_fail (normalized != NULL);

  if (lb_account_is_certificate_pinned (self, host, port, normalized))
    return;

  prefix = make_pin_prefix (host, port);
  remove_pins (self, prefix);

  pins = g_ptr_array_new ();
  for (guint i = 0; self->pinned_certificates[i] != NULL; i++)
    g_ptr_array_add (pins, g_strdup (self->pinned_certificates[i]));
  g_ptr_array_add (pins, g_strconcat (prefix, normalized, NULL));
  set_pins (self, g_steal_pointer (&pins));

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PINNED_CERTIFICATES]);
}

/**
 * lb_account_unpin_certificate:
 *
 * Forgets the certificate pinned for @host and @port.
 *
 * Returns: whether one was pinned
 */
gboolean
lb_account_unpin_certificate (LbAccount  *self,
                              const char *host,
                              guint16     port)
{
  g_autofree char *prefix = NULL;

  g_return_val_if_fail (LB_IS_ACCOUNT (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);

  prefix = make_pin_prefix (host, port);
  if (!remove_pins (self, prefix))
    return FALSE;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PINNED_CERTIFICATES]);
  return TRUE;
}

/**
 * lb_account_is_certificate_pinned:
 * @fingerprint: a SHA-256 fingerprint in hex, with or without colons
 *
 * Returns: whether the user accepted the certificate with @fingerprint for
 *   @host and @port (host names compare without regard to case)
 */
gboolean
lb_account_is_certificate_pinned (LbAccount  *self,
                                  const char *host,
                                  guint16     port,
                                  const char *fingerprint)
{
  g_autofree char *normalized = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *entry = NULL;

  g_return_val_if_fail (LB_IS_ACCOUNT (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);

  normalized = lb_net_normalize_fingerprint (fingerprint);
  if (normalized == NULL)
    return FALSE;

  prefix = make_pin_prefix (host, port);
  entry = g_strconcat (prefix, normalized, NULL);

  return g_strv_contains ((const char * const *) self->pinned_certificates, entry);
}

/**
 * lb_account_certificate_fingerprint:
 *
 * Returns: (transfer full): the SHA-256 fingerprint of @certificate's DER
 *   encoding, in the colon-separated upper-case hex shown to the user and
 *   stored by lb_account_pin_certificate()
 */
char *
lb_account_certificate_fingerprint (GTlsCertificate *certificate)
{
  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  /* the engine's: the connector compares pins in this same form */
  return lb_net_certificate_fingerprint (certificate);
}

/**
 * lb_account_trust_certificate_once:
 * @host: the server's host name as configured
 * @port: the port connected to (the effective one)
 * @fingerprint: the certificate's SHA-256 fingerprint in hex
 *
 * Records that the user accepted this certificate for @host and @port
 * until the program quits ("Accept Once"): it is trusted like a pinned
 * one, but kept in memory only, never written to the account's file, and
 * not listed by lb_account_get_pinned_certificates(). It replaces one
 * accepted once before for the same server.
 */
void
lb_account_trust_certificate_once (LbAccount  *self,
                                   const char *host,
                                   guint16     port,
                                   const char *fingerprint)
{
  g_autofree char *normalized = NULL;
  g_autofree char *prefix = NULL;

  g_return_if_fail (LB_IS_ACCOUNT (self));
  g_return_if_fail (host_is_valid (host));
  g_return_if_fail (port != 0);

  normalized = lb_net_normalize_fingerprint (fingerprint);
  g_return_if_fail (normalized != NULL);

  prefix = make_pin_prefix (host, port);
  for (guint i = self->trusted_once->len; i > 0; i--)
    {
      if (g_str_has_prefix (self->trusted_once->pdata[i - 1], prefix))
        g_ptr_array_remove_index (self->trusted_once, i - 1);
    }
  g_ptr_array_add (self->trusted_once, g_strconcat (prefix, normalized, NULL));
}

/**
 * lb_account_dup_trusted_certificates:
 *
 * What to give lb_connector_set_pinned_fingerprints(): the pinned
 * certificates, then those accepted once (which win for the same server).
 *
 * Returns: (transfer full): "host:port FINGERPRINT" entries
 */
char **
lb_account_dup_trusted_certificates (LbAccount *self)
{
  GPtrArray *all;

  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  all = g_ptr_array_new ();
  for (guint i = 0; self->pinned_certificates[i] != NULL; i++)
    g_ptr_array_add (all, g_strdup (self->pinned_certificates[i]));
  for (guint i = 0; i < self->trusted_once->len; i++)
    g_ptr_array_add (all, g_strdup (self->trusted_once->pdata[i]));
  g_ptr_array_add (all, NULL);

  return (char **) g_ptr_array_free (all, FALSE);
}

/* Validation */

/**
 * lb_account_validate:
 *
 * Checks that the settings can be used and stored: a safe id, at least one
 * identity, every address of the form local@domain, server names without
 * spaces, ports or paths, and no line breaks where a protocol or a header
 * would carry them. Security defaults to TLS and ports to 0 (the default),
 * so they are always valid.
 *
 * Returns: %TRUE, or %FALSE with @error set to a message for the user
 */
gboolean
lb_account_validate (LbAccount  *self,
                     GError    **error)
{
  guint n_identities;

  g_return_val_if_fail (LB_IS_ACCOUNT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!lb_account_id_is_valid (self->id))
    {
      g_autofree char *shown = g_utf8_make_valid (self->id, -1);

      g_set_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID_ID,
                   _("“%s” cannot be an account id: use only lowercase Latin letters, digits, dots, hyphens and underscores, up to 100, not starting with a dot or a hyphen"),
                   shown);
      return FALSE;
    }

  if (self->display_name != NULL &&
      (!g_utf8_validate (self->display_name, -1, NULL) ||
       has_control_characters (self->display_name, FALSE)))
    {
      g_set_error_literal (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID,
                           _("The account name contains a line break or another control character"));
      return FALSE;
    }

  n_identities = g_list_model_get_n_items (G_LIST_MODEL (self->identities));
  if (n_identities == 0)
    {
      g_set_error_literal (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID,
                           _("The account has no email address"));
      return FALSE;
    }

  for (guint i = 0; i < n_identities; i++)
    {
      g_autoptr(LbIdentity) identity = g_list_model_get_item (G_LIST_MODEL (self->identities), i);
      const char *name = lb_identity_get_name (identity);
      const char *address = lb_identity_get_address (identity);
      const char *reply_to = lb_identity_get_reply_to (identity);
      const char *signature = lb_identity_get_signature (identity);

      if (address == NULL)
        {
          g_set_error_literal (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID,
                               _("An identity of the account has no email address"));
          return FALSE;
        }

      if (!address_is_valid (address))
        {
          g_set_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID,
                       _("“%s” is not a valid email address"), address);
          return FALSE;
        }

      if (reply_to != NULL && !address_is_valid (reply_to))
        {
          g_set_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID,
                       _("The reply-to address “%s” is not a valid email address"), reply_to);
          return FALSE;
        }

      if (name != NULL &&
          (!g_utf8_validate (name, -1, NULL) || has_control_characters (name, FALSE)))
        {
          g_set_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID,
                       _("The name for “%s” contains a line break or another control character"),
                       address);
          return FALSE;
        }

      if (signature != NULL &&
          (!g_utf8_validate (signature, -1, NULL) || has_control_characters (signature, TRUE)))
        {
          g_set_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID,
                       _("The signature for “%s” contains a control character"),
                       address);
          return FALSE;
        }
    }

  if (self->incoming_host == NULL)
    {
      g_set_error_literal (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID,
                           _("The incoming mail server is missing"));
      return FALSE;
    }

  if (!host_is_valid (self->incoming_host))
    {
      g_set_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID,
                   _("“%s” is not a valid server name for incoming mail: give the name alone, without a port, a path or spaces"),
                   self->incoming_host);
      return FALSE;
    }

  if (self->incoming_user != NULL &&
      (!g_utf8_validate (self->incoming_user, -1, NULL) ||
       has_control_characters (self->incoming_user, FALSE)))
    {
      g_set_error_literal (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID,
                           _("The user name for incoming mail contains a line break or another control character"));
      return FALSE;
    }

  if (self->smtp_host != NULL && !host_is_valid (self->smtp_host))
    {
      g_set_error (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID,
                   _("“%s” is not a valid server name for outgoing mail: give the name alone, without a port, a path or spaces"),
                   self->smtp_host);
      return FALSE;
    }

  if (self->smtp_user != NULL &&
      (!g_utf8_validate (self->smtp_user, -1, NULL) ||
       has_control_characters (self->smtp_user, FALSE)))
    {
      g_set_error_literal (error, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID,
                           _("The user name for outgoing mail contains a line break or another control character"));
      return FALSE;
    }

  return TRUE;
}

/* Reading a key file */

static gboolean
is_known_key (const char *const *known,
              const char        *key)
{
  return g_strv_contains (known, key);
}

/* A key we never write back, whatever group it is in: no password, or
 * anything named like one, is ever stored in an account file. */
static gboolean
is_secret_key (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);

  return strstr (lower, "pass") != NULL || strstr (lower, "secret") != NULL;
}

/* "Identity 0", "Identity 1"...: the number, or -1 for any other group */
static gint64
parse_identity_group (const char *group)
{
  const char *number;
  guint64 n;

  if (!g_str_has_prefix (group, IDENTITY_GROUP_PREFIX))
    return -1;

  number = group + strlen (IDENTITY_GROUP_PREFIX);
  /* one spelling per number: no sign, no leading zero */
  if (!g_ascii_isdigit (*number) || (number[0] == '0' && number[1] != '\0'))
    return -1;

  if (!g_ascii_string_to_unsigned (number, 10, 0, G_MAXINT, &n, NULL))
    return -1;

  return (gint64) n;
}

static gboolean
is_known_group (const char *group)
{
  return (g_str_equal (group, "Account") ||
          g_str_equal (group, "Incoming") ||
          g_str_equal (group, "Outgoing") ||
          g_str_equal (group, "Certificates") ||
          parse_identity_group (group) >= 0);
}

static void
set_missing_key_error (GError     **error,
                       const char  *group,
                       const char  *key)
{
  g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
               /* Translators: a key and a group of an account file, which
                * stay in English, like "Host" in "Incoming" */
               _("The key “%s” in the group “%s” is missing"), key, group);
}

static void
set_invalid_value_error (GError     **error,
                         GKeyFile    *key_file,
                         const char  *group,
                         const char  *key)
{
  g_autofree char *raw = g_key_file_get_value (key_file, group, key, NULL);

  g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
               /* Translators: a value as written in an account file, then
                * its key and group, which stay in English */
               _("The value “%s” of the key “%s” in the group “%s” is not valid"),
               raw != NULL ? raw : "", key, group);
}

/* A string, or NULL when the key is absent or empty. */
static gboolean
read_string (GKeyFile    *key_file,
             const char  *group,
             const char  *key,
             char       **out_value,
             GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *value = NULL;

  *out_value = NULL;

  if (!g_key_file_has_key (key_file, group, key, NULL))
    return TRUE;

  value = g_key_file_get_string (key_file, group, key, &local_error);
  if (value == NULL)
    {
      set_invalid_value_error (error, key_file, group, key);
      return FALSE;
    }

  if (*value != '\0')
    *out_value = g_steal_pointer (&value);

  return TRUE;
}

static gboolean
read_required_string (GKeyFile    *key_file,
                      const char  *group,
                      const char  *key,
                      char       **out_value,
                      GError     **error)
{
  if (!read_string (key_file, group, key, out_value, error))
    return FALSE;

  if (*out_value == NULL)
    {
      set_missing_key_error (error, group, key);
      return FALSE;
    }

  return TRUE;
}

static gboolean
read_uint (GKeyFile    *key_file,
           const char  *group,
           const char  *key,
           guint64      max,
           guint64     *in_out_value,
           GError     **error)
{
  g_autofree char *raw = NULL;

  if (!g_key_file_has_key (key_file, group, key, NULL))
    return TRUE;

  raw = g_key_file_get_value (key_file, group, key, NULL);
  if (raw == NULL || !g_ascii_string_to_unsigned (g_strstrip (raw), 10, 0, max, in_out_value, NULL))
    {
      set_invalid_value_error (error, key_file, group, key);
      return FALSE;
    }

  return TRUE;
}

static gboolean
read_boolean (GKeyFile    *key_file,
              const char  *group,
              const char  *key,
              gboolean    *in_out_value,
              GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean value;

  if (!g_key_file_has_key (key_file, group, key, NULL))
    return TRUE;

  value = g_key_file_get_boolean (key_file, group, key, &local_error);
  if (local_error != NULL)
    {
      set_invalid_value_error (error, key_file, group, key);
      return FALSE;
    }

  *in_out_value = value;
  return TRUE;
}

static gboolean
read_security (GKeyFile       *key_file,
               const char     *group,
               LbNetSecurity  *in_out_value,
               GError        **error)
{
  g_autofree char *value = NULL;

  if (!read_string (key_file, group, "Security", &value, error))
    return FALSE;

  if (value != NULL && !lb_net_security_from_string (value, in_out_value))
    {
      set_invalid_value_error (error, key_file, group, "Security");
      return FALSE;
    }

  return TRUE;
}

static gboolean
read_host (GKeyFile    *key_file,
           const char  *group,
           gboolean     required,
           char       **out_host,
           GError     **error)
{
  if (required)
    {
      if (!read_required_string (key_file, group, "Host", out_host, error))
        return FALSE;
    }
  else if (!read_string (key_file, group, "Host", out_host, error))
    {
      return FALSE;
    }

  if (*out_host != NULL && !host_is_valid (*out_host))
    {
      g_clear_pointer (out_host, g_free);
      set_invalid_value_error (error, key_file, group, "Host");
      return FALSE;
    }

  return TRUE;
}

/* Keeps the unknown keys of an identity's group on the identity. */
static void
attach_identity_extra (LbIdentity *identity,
                       GKeyFile   *key_file,
                       const char *group)
{
  g_autoptr(GKeyFile) extra = g_key_file_new ();
  g_auto(GStrv) keys = g_key_file_get_keys (key_file, group, NULL, NULL);

  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      g_autofree char *value = NULL;
      g_autofree char *comment = NULL;

      if (is_known_key (identity_keys, keys[i]))
        continue;

      value = g_key_file_get_value (key_file, group, keys[i], NULL);
      g_key_file_set_value (extra, EXTRA_GROUP, keys[i], value);

      comment = g_key_file_get_comment (key_file, group, keys[i], NULL);
      if (comment != NULL)
        g_key_file_set_comment (extra, EXTRA_GROUP, keys[i], comment, NULL);
    }

  g_object_set_qdata_full (G_OBJECT (identity), identity_extra_quark (),
                           g_steal_pointer (&extra), (GDestroyNotify) g_key_file_unref);
}

typedef struct
{
  guint64     number;
  const char *group;
} IdentityGroup;

static int
compare_identity_groups (gconstpointer a,
                         gconstpointer b)
{
  const IdentityGroup *ga = a;
  const IdentityGroup *gb = b;

  return (ga->number > gb->number) - (ga->number < gb->number);
}

static gboolean
read_identities (LbAccount  *self,
                 GKeyFile   *key_file,
                 GError    **error)
{
  g_auto(GStrv) groups = g_key_file_get_groups (key_file, NULL);
  g_autoptr(GArray) found = g_array_new (FALSE, FALSE, sizeof (IdentityGroup));

  for (guint i = 0; groups[i] != NULL; i++)
    {
      gint64 number = parse_identity_group (groups[i]);

      if (number >= 0)
        {
          IdentityGroup ig = { (guint64) number, groups[i] };

          g_array_append_val (found, ig);
        }
    }

  if (found->len == 0)
    {
      set_missing_key_error (error, IDENTITY_GROUP_PREFIX "0", "Address");
      return FALSE;
    }

  g_array_sort (found, compare_identity_groups);

  for (guint i = 0; i < found->len; i++)
    {
      const char *group = g_array_index (found, IdentityGroup, i).group;
      g_autoptr(LbIdentity) identity = NULL;
      g_autofree char *name = NULL;
      g_autofree char *address = NULL;
      g_autofree char *signature = NULL;
      g_autofree char *reply_to = NULL;

      if (!read_string (key_file, group, "Name", &name, error) ||
          !read_required_string (key_file, group, "Address", &address, error) ||
          !read_string (key_file, group, "Signature", &signature, error) ||
          !read_string (key_file, group, "ReplyTo", &reply_to, error))
        return FALSE;

      if (!address_is_valid (address))
        {
          set_invalid_value_error (error, key_file, group, "Address");
          return FALSE;
        }

      if (reply_to != NULL && !address_is_valid (reply_to))
        {
          set_invalid_value_error (error, key_file, group, "ReplyTo");
          return FALSE;
        }

      identity = lb_identity_new (name, address);
      lb_identity_set_signature (identity, signature);
      lb_identity_set_reply_to (identity, reply_to);
      attach_identity_extra (identity, key_file, group);

      g_list_store_append (self->identities, identity);
    }

  return TRUE;
}

static gboolean
read_pins (LbAccount  *self,
           GKeyFile   *key_file,
           GError    **error)
{
  g_auto(GStrv) entries = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) pins = NULL;

  if (!g_key_file_has_key (key_file, "Certificates", "Pinned", NULL))
    return TRUE;

  entries = g_key_file_get_string_list (key_file, "Certificates", "Pinned", NULL, &local_error);
  if (entries == NULL && local_error != NULL)
    {
      set_invalid_value_error (error, key_file, "Certificates", "Pinned");
      return FALSE;
    }

  pins = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; entries != NULL && entries[i] != NULL; i++)
    {
      char *pin;

      if (*entries[i] == '\0')
        continue;

      /* A pin that does not parse is refused rather than dropped: the
       * user should learn that a certificate they accepted is forgotten. */
      pin = normalize_pin (entries[i]);
      if (pin == NULL)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       _("The entry “%s” of the key “%s” in the group “%s” is not valid"),
                       entries[i], "Pinned", "Certificates");
          return FALSE;
        }

      if (g_ptr_array_find_with_equal_func (pins, pin, g_str_equal, NULL))
        g_free (pin);
      else
        g_ptr_array_add (pins, pin);
    }

  g_ptr_array_set_free_func (pins, NULL);
  set_pins (self, g_steal_pointer (&pins));
  return TRUE;
}

static GKeyFile *
copy_key_file (GKeyFile *key_file)
{
  g_autoptr(GKeyFile) copy = g_key_file_new ();
  g_autofree char *data = NULL;
  gsize length;

  data = g_key_file_to_data (key_file, &length, NULL);
  if (!g_key_file_load_from_data (copy, data, length,
                                  G_KEY_FILE_KEEP_COMMENTS | G_KEY_FILE_KEEP_TRANSLATIONS,
                                  NULL))
    g_return_val_if_reached (NULL);

  return g_steal_pointer (&copy);
}

/**
 * lb_account_new_from_key_file:
 * @key_file: an account file, loaded with %G_KEY_FILE_KEEP_COMMENTS and
 *   %G_KEY_FILE_KEEP_TRANSLATIONS for those to survive a save
 * @id: the account's id (its file name without ".ini")
 *
 * Reads an account. The Host of [Incoming], a valid Protocol and an
 * identity group with an Address are required; any other key may be left
 * out and takes its default. The account keeps a copy of @key_file, so
 * that lb_account_to_key_file() writes back what it did not understand.
 *
 * Returns: (transfer full): the account, or %NULL with @error set: a
 *   %G_KEY_FILE_ERROR naming the group and key at fault, or an
 *   %LB_ACCOUNT_ERROR from lb_account_validate()
 */
LbAccount *
lb_account_new_from_key_file (GKeyFile    *key_file,
                              const char  *id,
                              GError     **error)
{
  g_autoptr(LbAccount) self = NULL;
  g_autofree char *display_name = NULL;
  g_autofree char *protocol = NULL;
  g_autofree char *user = NULL;
  guint64 value;

  g_return_val_if_fail (key_file != NULL, NULL);
  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = lb_account_new (id);
  if (!lb_account_id_is_valid (id))
    {
      lb_account_validate (self, error);
      return NULL;
    }

  /* [Account] */
  if (!read_string (key_file, "Account", "DisplayName", &display_name, error))
    return NULL;
  lb_account_set_display_name (self, display_name);

  value = 0;
  if (!read_uint (key_file, "Account", "Position", G_MAXINT, &value, error))
    return NULL;
  self->position = (guint) value;

  /* [Identity N] */
  if (!read_identities (self, key_file, error))
    return NULL;

  /* [Incoming] */
  if (!g_key_file_has_group (key_file, "Incoming"))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                   _("The group “%s” is missing"), "Incoming");
      return NULL;
    }

  if (!read_required_string (key_file, "Incoming", "Protocol", &protocol, error))
    return NULL;
  if (!lb_incoming_protocol_from_string (protocol, &self->incoming_protocol))
    {
      set_invalid_value_error (error, key_file, "Incoming", "Protocol");
      return NULL;
    }

  if (!read_host (key_file, "Incoming", TRUE, &self->incoming_host, error))
    return NULL;

  value = 0;
  if (!read_uint (key_file, "Incoming", "Port", G_MAXUINT16, &value, error))
    return NULL;
  self->incoming_port = (guint16) value;

  if (!read_security (key_file, "Incoming", &self->incoming_security, error) ||
      !read_string (key_file, "Incoming", "User", &self->incoming_user, error) ||
      !read_boolean (key_file, "Incoming", "AllowPlaintextLogin", &self->allow_plaintext_password, error) ||
      !read_boolean (key_file, "Incoming", "KeepOnServer", &self->pop3_keep_on_server, error) ||
      !read_boolean (key_file, "Incoming", "DeleteWhenDeletedHere",
                     &self->pop3_delete_when_deleted_here, error))
    return NULL;

  value = 0;
  if (!read_uint (key_file, "Incoming", "DeleteAfterDays", G_MAXINT, &value, error))
    return NULL;
  self->pop3_delete_after_days = (guint) value;

  value = 0;
  if (!read_uint (key_file, "Incoming", "SizeLimitKiB", G_MAXINT, &value, error))
    return NULL;
  self->pop3_size_limit = (guint) value;

  value = 0;
  if (!read_uint (key_file, "Incoming", "OfflineDays", G_MAXINT, &value, error))
    return NULL;
  self->offline_days = (guint) value;

  value = self->poll_minutes;
  if (!read_uint (key_file, "Incoming", "PollMinutes", G_MAXINT, &value, error))
    return NULL;
  self->poll_minutes = (guint) value;

  /* [Outgoing] */
  if (!read_host (key_file, "Outgoing", FALSE, &self->smtp_host, error))
    return NULL;

  value = 0;
  if (!read_uint (key_file, "Outgoing", "Port", G_MAXUINT16, &value, error))
    return NULL;
  self->smtp_port = (guint16) value;

  if (!read_security (key_file, "Outgoing", &self->smtp_security, error) ||
      !read_string (key_file, "Outgoing", "User", &self->smtp_user, error))
    return NULL;

  if (g_key_file_has_key (key_file, "Outgoing", "SaveSentCopy", NULL))
    {
      if (!read_boolean (key_file, "Outgoing", "SaveSentCopy", &self->save_sent_copy, error))
        return NULL;
      self->save_sent_copy_set = TRUE;
    }

  /* [Certificates] */
  if (!read_pins (self, key_file, error))
    return NULL;

  /* what the per-key checks above do not cover: control characters */
  if (!lb_account_validate (self, error))
    return NULL;

  self->key_file = copy_key_file (key_file);

  return g_steal_pointer (&self);
}

/* Writing a key file */

static void
copy_comment (GKeyFile   *from,
              const char *from_group,
              const char *from_key,
              GKeyFile   *to,
              const char *to_group,
              const char *to_key)
{
  g_autofree char *comment = NULL;

  if (from == NULL || !g_key_file_has_group (from, from_group) || !g_key_file_has_group (to, to_group))
    return;
  if (from_key != NULL &&
      (!g_key_file_has_key (from, from_group, from_key, NULL) ||
       !g_key_file_has_key (to, to_group, to_key, NULL)))
    return;

  comment = g_key_file_get_comment (from, from_group, from_key, NULL);
  if (comment == NULL)
    return;

  /* GKeyFile counts the blank lines before a group as part of its
   * comment and writes them back as "#" lines: drop the trailing ones, or
   * every save would add one. */
  g_strchomp (comment);
  if (*comment != '\0')
    g_key_file_set_comment (to, to_group, to_key, comment, NULL);
}

/* After the known keys of a group are written: adds the keys of @from's
 * @from_group that are not in @known, as they were, and the comments. */
static void
merge_group (GKeyFile          *from,
             const char        *from_group,
             GKeyFile          *to,
             const char        *to_group,
             const char *const *known)
{
  g_auto(GStrv) keys = NULL;

  if (from == NULL || !g_key_file_has_group (from, from_group) || is_secret_key (from_group))
    return;

  keys = g_key_file_get_keys (from, from_group, NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      if (known != NULL && is_known_key (known, keys[i]))
        {
          copy_comment (from, from_group, keys[i], to, to_group, keys[i]);
          continue;
        }

      if (!is_secret_key (keys[i]))
        {
          g_autofree char *value = g_key_file_get_value (from, from_group, keys[i], NULL);

          g_key_file_set_value (to, to_group, keys[i], value);
          copy_comment (from, from_group, keys[i], to, to_group, keys[i]);
        }
    }

  copy_comment (from, from_group, NULL, to, to_group, NULL);
}

static void
set_optional_string (GKeyFile   *key_file,
                     const char *group,
                     const char *key,
                     const char *value)
{
  if (value != NULL)
    g_key_file_set_string (key_file, group, key, value);
}

/**
 * lb_account_to_key_file:
 *
 * Writes the settings into a new key file in the format described at the
 * top of this file. Keys and groups read by lb_account_new_from_key_file()
 * that this version does not know are carried over with their comments;
 * keys named like a password are not.
 *
 * Returns: (transfer full): the key file
 */
GKeyFile *
lb_account_to_key_file (LbAccount *self)
{
  g_autoptr(GKeyFile) key_file = NULL;
  g_auto(GStrv) groups = NULL;
  guint n_identities;

  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  key_file = g_key_file_new ();

  /* [Account] */
  set_optional_string (key_file, "Account", "DisplayName", self->display_name);
  g_key_file_set_uint64 (key_file, "Account", "Position", self->position);
  merge_group (self->key_file, "Account", key_file, "Account", account_keys);

  /* [Identity N], renumbered from 0 */
  n_identities = g_list_model_get_n_items (G_LIST_MODEL (self->identities));
  for (guint i = 0; i < n_identities; i++)
    {
      g_autoptr(LbIdentity) identity = g_list_model_get_item (G_LIST_MODEL (self->identities), i);
      g_autofree char *group = g_strdup_printf (IDENTITY_GROUP_PREFIX "%u", i);
      GKeyFile *extra = g_object_get_qdata (G_OBJECT (identity), identity_extra_quark ());

      set_optional_string (key_file, group, "Name", lb_identity_get_name (identity));
      set_optional_string (key_file, group, "Address", lb_identity_get_address (identity));
      set_optional_string (key_file, group, "Signature", lb_identity_get_signature (identity));
      set_optional_string (key_file, group, "ReplyTo", lb_identity_get_reply_to (identity));
      merge_group (extra, EXTRA_GROUP, key_file, group, NULL);
    }

  /* [Incoming] */
  g_key_file_set_string (key_file, "Incoming", "Protocol",
                         lb_incoming_protocol_to_string (self->incoming_protocol));
  set_optional_string (key_file, "Incoming", "Host", self->incoming_host);
  g_key_file_set_uint64 (key_file, "Incoming", "Port", self->incoming_port);
  g_key_file_set_string (key_file, "Incoming", "Security",
                         lb_net_security_to_string (self->incoming_security));
  set_optional_string (key_file, "Incoming", "User", self->incoming_user);
  g_key_file_set_boolean (key_file, "Incoming", "AllowPlaintextLogin", self->allow_plaintext_password);
  g_key_file_set_uint64 (key_file, "Incoming", "OfflineDays", self->offline_days);
  g_key_file_set_uint64 (key_file, "Incoming", "PollMinutes", self->poll_minutes);
  g_key_file_set_boolean (key_file, "Incoming", "KeepOnServer", self->pop3_keep_on_server);
  g_key_file_set_uint64 (key_file, "Incoming", "DeleteAfterDays", self->pop3_delete_after_days);
  g_key_file_set_uint64 (key_file, "Incoming", "SizeLimitKiB", self->pop3_size_limit);
  g_key_file_set_boolean (key_file, "Incoming", "DeleteWhenDeletedHere",
                          self->pop3_delete_when_deleted_here);
  merge_group (self->key_file, "Incoming", key_file, "Incoming", incoming_keys);

  /* [Outgoing] */
  set_optional_string (key_file, "Outgoing", "Host", self->smtp_host);
  g_key_file_set_uint64 (key_file, "Outgoing", "Port", self->smtp_port);
  g_key_file_set_string (key_file, "Outgoing", "Security",
                         lb_net_security_to_string (self->smtp_security));
  set_optional_string (key_file, "Outgoing", "User", self->smtp_user);
  if (self->save_sent_copy_set)
    g_key_file_set_boolean (key_file, "Outgoing", "SaveSentCopy", self->save_sent_copy);
  merge_group (self->key_file, "Outgoing", key_file, "Outgoing", outgoing_keys);

  /* [Certificates] */
  if (self->pinned_certificates[0] != NULL)
    g_key_file_set_string_list (key_file, "Certificates", "Pinned",
                                (const char * const *) self->pinned_certificates,
                                g_strv_length (self->pinned_certificates));
  merge_group (self->key_file, "Certificates", key_file, "Certificates", certificate_keys);

  /* groups we do not know, in their order */
  if (self->key_file != NULL)
    {
      groups = g_key_file_get_groups (self->key_file, NULL);
      for (guint i = 0; groups[i] != NULL; i++)
        {
          if (!is_known_group (groups[i]))
            merge_group (self->key_file, groups[i], key_file, groups[i], NULL);
        }
    }

  return g_steal_pointer (&key_file);
}

/* Runtime
 *
 * Opening an account opens its store, makes sure the folders it cannot
 * do without exist (a local Inbox for POP3, which downloads into it; a
 * local Outbox for every account, where mail waits to be sent), creates
 * its incoming provider and lists its folders, in the store's order.
 * Nothing is public until every step succeeded: a failed or abandoned
 * open leaves the account closed, as it was.
 *
 * The folder list follows the store's ::folder-changed signal: a folder
 * the list does not have yet is inserted where the store would list it,
 * and each LbFolder keeps its own counts up to date; ::folder-removed
 * takes a deleted folder out. */

typedef struct
{
  LbFolderRole  role;
  char         *path;
} RequiredFolder;

struct _OpenData
{
  LbStore   *store;
  GPtrArray *required;    /* RequiredFolder, still to make */
  gboolean   abandoned;   /* lb_account_close() came first */
};

static void
required_folder_free (RequiredFolder *required)
{
  g_free (required->path);
  g_free (required);
}

static void
open_data_free (OpenData *data)
{
  g_clear_object (&data->store);
  g_clear_pointer (&data->required, g_ptr_array_unref);
  g_free (data);
}

/* How the user knows the account: its name, else its address. */
static const char *
account_label (LbAccount *self)
{
  LbIdentity *identity;

  if (self->display_name != NULL)
    return self->display_name;

  identity = lb_account_get_default_identity (self);
  if (identity != NULL && lb_identity_get_address (identity) != NULL)
    return lb_identity_get_address (identity);

  return self->id;
}

/* The store's order of folders: those with a role first, by role, then
 * the others by path (bytewise, as SQLite's BINARY collation compares). */
static int
compare_folder_order (LbFolderRole  role_a,
                      const char   *path_a,
                      LbFolderRole  role_b,
                      const char   *path_b)
{
  if ((role_a == LB_FOLDER_ROLE_NONE) != (role_b == LB_FOLDER_ROLE_NONE))
    return role_a == LB_FOLDER_ROLE_NONE ? 1 : -1;
  if (role_a != role_b)
    return role_a < role_b ? -1 : 1;
  return strcmp (path_a, path_b);
}

static int
compare_info_to_folder (const LbFolderInfo *info,
                        LbFolder           *folder)
{
  return compare_folder_order (info->role, info->path,
                               lb_folder_get_role (folder), lb_folder_get_path (folder));
}

/* after the folders that come before @info or are equal to it */
static guint
sorted_position (LbAccount          *self,
                 const LbFolderInfo *info)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->folders));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbFolder) folder = g_list_model_get_item (G_LIST_MODEL (self->folders), i);

      if (compare_info_to_folder (info, folder) < 0)
        return i;
    }

  return n;
}

static gboolean
is_in_order_at (LbAccount          *self,
                guint               position,
                const LbFolderInfo *info)
{
  GListModel *model = G_LIST_MODEL (self->folders);
  guint n = g_list_model_get_n_items (model);

  if (position > 0)
    {
      g_autoptr(LbFolder) before = g_list_model_get_item (model, position - 1);

      if (compare_info_to_folder (info, before) < 0)
        return FALSE;
    }

  if (position + 1 < n)
    {
      g_autoptr(LbFolder) after = g_list_model_get_item (model, position + 1);

      if (compare_info_to_folder (info, after) > 0)
        return FALSE;
    }

  return TRUE;
}

static LbFolder *
find_folder (LbAccount *self,
             gint64     id,
             guint     *out_position)
{
  GListModel *model = G_LIST_MODEL (self->folders);
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbFolder) folder = g_list_model_get_item (model, i);

      if (lb_folder_get_id (folder) == id)
        {
          if (out_position != NULL)
            *out_position = i;
          /* the list keeps its reference */
          return folder;
        }
    }

  return NULL;
}

static void
folder_changed_cb (LbStore            *store,
                   const LbFolderInfo *info,
                   gpointer            user_data)
{
  LbAccount *self = user_data;
  g_autoptr(LbFolder) folder = NULL;
  LbFolder *found;
  guint position;

  found = find_folder (self, info->id, &position);
  if (found == NULL)
    {
      folder = lb_folder_new (store, info);
      g_list_store_insert (self->folders, sorted_position (self, info), folder);
      return;
    }

  /* A new role (or path) may move the folder. It follows this same signal
   * itself; updating it first makes it right whichever handler runs
   * first, and the other then has nothing left to change. */
  folder = g_object_ref (found);
  lb_folder_update (folder, info);
  if (!is_in_order_at (self, position, info))
    {
      g_list_store_remove (self->folders, position);
      g_list_store_insert (self->folders, sorted_position (self, info), folder);
    }
}

static void
folder_removed_cb (LbStore  *store,
                   gint64    folder_id,
                   gpointer  user_data)
{
  LbAccount *self = user_data;
  guint position;

  if (find_folder (self, folder_id, &position) != NULL)
    g_list_store_remove (self->folders, position);
}

/* Drops the store, provider and folders, and abandons an open in
 * progress; notifies nothing. */
static void
drop_runtime (LbAccount *self)
{
  if (self->opening != NULL)
    {
      self->opening->abandoned = TRUE;
      self->opening = NULL;
    }

  g_clear_signal_handler (&self->folder_changed_id, self->store);
  g_clear_signal_handler (&self->folder_removed_id, self->store);
  if (self->folders != NULL)
    g_list_store_remove_all (self->folders);
  /* its connections go now, not when its last job lets go of it */
  if (self->provider != NULL && LB_IS_IMAP_PROVIDER (self->provider))
    lb_imap_provider_close (LB_IMAP_PROVIDER (self->provider));
  else if (self->provider != NULL && LB_IS_POP3_PROVIDER (self->provider))
    lb_pop3_provider_close (LB_POP3_PROVIDER (self->provider));
  g_clear_object (&self->provider);
  g_clear_object (&self->transport);
  g_clear_object (&self->connector);
  g_clear_object (&self->store);
}

/* Returns @error (not NULL) from @task, saying which account failed. */
static void
open_fail (GTask  *task,
           GError *error)
{
  LbAccount *self = g_task_get_source_object (task);
  OpenData *data = g_task_get_task_data (task);

  if (self->opening == data)
    self->opening = NULL;

  g_prefix_error (&error, _("Could not open the account “%s”: "), account_label (self));
  g_task_return_error (task, error);
}

/* Whether the open must stop here (and then it has returned @task):
 * the account was closed, or the caller cancelled. */
static gboolean
open_stopped (GTask *task)
{
  OpenData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (data->abandoned)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s",
                               _("The account was closed before it was open"));
      return TRUE;
    }

  if (g_cancellable_set_error_if_cancelled (g_task_get_cancellable (task), &error))
    {
      open_fail (task, error);
      return TRUE;
    }

  return FALSE;
}

static void
open_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LbAccount *self = g_task_get_source_object (task);
  OpenData *data = g_task_get_task_data (task);
  g_autoptr(GPtrArray) infos = NULL;
  g_autoptr(GPtrArray) folders = NULL;
  GError *error = NULL;

  infos = lb_store_list_folders_finish (LB_STORE (object), result, &error);
  if (infos == NULL)
    {
      open_fail (task, error);
      return;
    }
  if (open_stopped (task))
    return;

  self->opening = NULL;
  self->store = g_steal_pointer (&data->store);

  /* An IMAP account's provider talks to its server (and serves the
   * local folders, the Outbox, too); it stays offline until first used,
   * so opening an account starts no network activity. A POP3 account's
   * folders are local; its provider downloads into the local Inbox, and
   * serves the local folders through the local provider. */
  if (self->incoming_protocol == LB_INCOMING_IMAP)
    {
      g_autoptr(LbSecrets) secrets = lb_secrets_new ();

      self->connector = lb_connector_new ();
      self->provider = LB_PROVIDER (lb_imap_provider_new (self, self->store, secrets, self->connector, NULL));
      self->transport = LB_TRANSPORT (lb_smtp_transport_new (self, secrets, self->connector));
    }
  else
    {
      g_autoptr(LbSecrets) secrets = lb_secrets_new ();

      self->connector = lb_connector_new ();
      self->provider = LB_PROVIDER (lb_pop3_provider_new (self, self->store, secrets, self->connector));
      self->transport = LB_TRANSPORT (lb_smtp_transport_new (self, secrets, self->connector));
    }

  /* The list is the store's order already. No ::folder-changed can have
   * been missed before the handler is connected: nothing but this open
   * has written to the store, and each of its writes announced itself
   * before its callback ran, which was before this list was read. */
  folders = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < infos->len; i++)
    g_ptr_array_add (folders, lb_folder_new (self->store, infos->pdata[i]));
  g_list_store_splice (self->folders, 0, g_list_model_get_n_items (G_LIST_MODEL (self->folders)),
                       folders->pdata, folders->len);
  self->folder_changed_id = g_signal_connect (self->store, "folder-changed",
                                              G_CALLBACK (folder_changed_cb), self);
  self->folder_removed_id = g_signal_connect (self->store, "folder-removed",
                                              G_CALLBACK (folder_removed_cb), self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPENED]);
  g_task_return_boolean (task, TRUE);
}

static void ensure_next (GTask *task);

static void
ensure_folder_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  OpenData *data = g_task_get_task_data (task);
  g_autoptr(LbFolderInfo) info = NULL;
  GError *error = NULL;

  info = lb_store_ensure_folder_finish (LB_STORE (object), result, &error);
  if (info == NULL)
    {
      open_fail (task, error);
      return;
    }
  if (open_stopped (task))
    return;

  g_ptr_array_remove_index (data->required, 0);
  ensure_next (g_steal_pointer (&task));
}

static void
ensure_next (GTask *task)
{
  OpenData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  RequiredFolder *required;

  if (data->required->len == 0)
    {
      lb_store_list_folders_async (data->store, cancellable, open_done_cb, task);
      return;
    }

  required = data->required->pdata[0];
  lb_store_ensure_folder_async (data->store, required->path, "/", required->role, TRUE,
                                cancellable, ensure_folder_cb, task);
}

static const LbFolderInfo *
find_info_by_path (GPtrArray  *infos,
                   const char *path)
{
  for (guint i = 0; i < infos->len; i++)
    {
      const LbFolderInfo *info = infos->pdata[i];

      if (g_strcmp0 (info->path, path) == 0)
        return info;
    }

  return NULL;
}

/* Adds the local folder with @role to those to make, unless the store
 * has one. It is called @base_path, or "@base_path 2" and so on when a
 * folder of that name is a server's or has another role: the role, not
 * the name, is what makes it the Inbox or the Outbox (and what the user
 * sees as its name). */
static void
require_folder (OpenData     *data,
                GPtrArray    *infos,
                LbFolderRole  role,
                const char   *base_path)
{
  RequiredFolder *required;
  char *path = NULL;

  for (guint i = 0; i < infos->len; i++)
    {
      const LbFolderInfo *info = infos->pdata[i];

      if (info->local && info->role == role)
        return;
    }

  for (guint n = 1; path == NULL; n++)
    {
      g_autofree char *candidate = n == 1 ? g_strdup (base_path) : g_strdup_printf ("%s %u", base_path, n);
      const LbFolderInfo *info = find_info_by_path (infos, candidate);

      if (info == NULL || (info->local && info->role == LB_FOLDER_ROLE_NONE))
        path = g_steal_pointer (&candidate);
    }

  required = g_new0 (RequiredFolder, 1);
  required->role = role;
  required->path = path;
  g_ptr_array_add (data->required, required);
}

static void
open_list_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LbAccount *self = g_task_get_source_object (task);
  OpenData *data = g_task_get_task_data (task);
  g_autoptr(GPtrArray) infos = NULL;
  GError *error = NULL;

  infos = lb_store_list_folders_finish (LB_STORE (object), result, &error);
  if (infos == NULL)
    {
      open_fail (task, error);
      return;
    }
  if (open_stopped (task))
    return;

  data->required = g_ptr_array_new_with_free_func ((GDestroyNotify) required_folder_free);
  if (self->incoming_protocol == LB_INCOMING_POP3)
    require_folder (data, infos, LB_FOLDER_ROLE_INBOX, "Inbox");
  require_folder (data, infos, LB_FOLDER_ROLE_OUTBOX, "Outbox");
  if (self->incoming_protocol == LB_INCOMING_POP3)
    {
      /* POP3 has no server folders: sent mail and drafts are kept here */
      require_folder (data, infos, LB_FOLDER_ROLE_SENT, "Sent");
      require_folder (data, infos, LB_FOLDER_ROLE_DRAFTS, "Drafts");
    }

  ensure_next (g_steal_pointer (&task));
}

static void
open_store_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  OpenData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;

  data->store = lb_store_open_finish (result, &error);
  if (data->store == NULL)
    {
      open_fail (task, error);
      return;
    }
  if (open_stopped (task))
    return;

  lb_store_list_folders_async (data->store, cancellable, open_list_cb, g_steal_pointer (&task));
}

/**
 * lb_account_open_async:
 * @self: an account
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the account is open, or could not be
 * @user_data: data for @callback
 *
 * Opens the account's store in its data directory (which the account
 * manager sets; the directory is made if missing), makes the local
 * folders the account needs (an Inbox for POP3, an Outbox for every
 * account), creates its incoming provider and lists its folders. Then
 * #LbAccount:opened turns %TRUE, and the store, provider and folders can
 * be had from the account until lb_account_close().
 *
 * Opening an open account does nothing and succeeds. Opening an account
 * that is being opened fails with %G_IO_ERROR_PENDING: wait for the first
 * open. Fails with %LB_ACCOUNT_ERROR_INVALID when the account has no data
 * directory, and with %G_IO_ERROR_CANCELLED when @cancellable is
 * cancelled or the account is closed first; the account is then not open.
 */
void
lb_account_open_async (LbAccount           *self,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  OpenData *data;

  g_return_if_fail (LB_IS_ACCOUNT (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_account_open_async);
  /* the open checks for cancellation itself, before it makes the
   * account open: once open, it succeeded, cancelled or not */
  g_task_set_check_cancellable (task, FALSE);

  if (self->store != NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (self->opening != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _("Could not open the account “%s”: it is being opened already"),
                               account_label (self));
      return;
    }

  if (self->data_dir == NULL)
    {
      g_task_return_new_error (task, LB_ACCOUNT_ERROR, LB_ACCOUNT_ERROR_INVALID,
                               _("Could not open the account “%s”: it has no folder for its local data"),
                               account_label (self));
      return;
    }

  data = g_new0 (OpenData, 1);
  g_task_set_task_data (task, data, (GDestroyNotify) open_data_free);
  self->opening = data;

  lb_store_open_async (self->data_dir, cancellable, open_store_cb, g_steal_pointer (&task));
}

/**
 * lb_account_open_finish:
 * @self: an account
 * @result: the result passed to the callback
 * @error: return location for an error
 *
 * Returns: %TRUE when the account is open
 */
gboolean
lb_account_open_finish (LbAccount     *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_account_open_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * lb_account_close:
 * @self: an account
 *
 * Drops the account's store, provider and folders (the folder list
 * empties) and makes #LbAccount:opened %FALSE. An open in progress fails
 * with %G_IO_ERROR_CANCELLED. Closing a closed account does nothing.
 * Disposing of an account closes it too.
 *
 * The store itself goes once nothing else holds it: a message list over
 * its folders, an #LbFolder kept elsewhere, or a store operation still
 * finishing keeps it alive until they are done.
 */
void
lb_account_close (LbAccount *self)
{
  gboolean was_open;

  g_return_if_fail (LB_IS_ACCOUNT (self));

  was_open = self->store != NULL;
  drop_runtime (self);
  if (was_open)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPENED]);
}

/**
 * lb_account_get_opened:
 * @self: an account
 *
 * Returns: whether the account is open (#LbAccount:opened)
 */
gboolean
lb_account_get_opened (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), FALSE);

  return self->store != NULL;
}

/**
 * lb_account_get_store:
 * @self: an account
 *
 * Returns: (transfer none) (nullable): the account's store, %NULL unless
 *   the account is open
 */
LbStore *
lb_account_get_store (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return self->store;
}

/**
 * lb_account_get_provider:
 * @self: an account
 *
 * Returns: (transfer none) (nullable): the account's incoming provider,
 *   %NULL unless the account is open
 */
LbProvider *
lb_account_get_provider (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return self->provider;
}

/**
 * lb_account_get_connector:
 * @self: an opened account
 *
 * The connector the account's provider opens its connections with: the
 * certificate a server was refused for is there
 * (lb_connector_dup_rejected_certificate()).
 *
 * Returns: (transfer none) (nullable): the connector, %NULL while the
 *   account is not open
 */
LbConnector *
lb_account_get_connector (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return self->connector;
}

/**
 * lb_account_get_folders:
 * @self: an account
 *
 * The account's folders, in the store's order: those with a role first
 * (Inbox, Sent, Drafts, Trash, Junk, Archive, Outbox), then the others by
 * path. It stays up to date while the account is open: a new folder
 * appears in its place, and each #LbFolder's counts follow the store. It
 * is empty while the account is closed, and the same list object for the
 * account's whole life.
 *
 * Returns: (transfer none): a #GListModel of #LbFolder
 */
GListModel *
lb_account_get_folders (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return G_LIST_MODEL (self->folders);
}

/**
 * lb_account_lookup_folder:
 * @self: an account
 * @id: a folder id of the account's store
 *
 * Returns: (transfer none) (nullable): the folder with @id, %NULL if the
 *   account has none (or is not open)
 */
LbFolder *
lb_account_lookup_folder (LbAccount *self,
                          gint64     id)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return find_folder (self, id, NULL);
}

/**
 * lb_account_get_inbox:
 * @self: an account
 *
 * Returns: (transfer none) (nullable): the folder with the inbox role,
 *   %NULL if the account has none (an IMAP account before its first
 *   folder sync) or is not open
 */
LbFolder *
lb_account_get_inbox (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return lb_account_get_folder_by_role (self, LB_FOLDER_ROLE_INBOX);
}

/**
 * lb_account_get_folder_by_role:
 * @self: an account
 * @role: a role other than %LB_FOLDER_ROLE_NONE
 *
 * Returns: (transfer none) (nullable): the folder with @role, %NULL if
 *   there is none or the account is not open. An IMAP account's own
 *   (server) folder comes before a local one with the same role (left from
 *   when the account was POP3), except for the Outbox, which is always
 *   local; otherwise the first in the account's order.
 */
LbFolder *
lb_account_get_folder_by_role (LbAccount    *self,
                               LbFolderRole  role)
{
  GListModel *model;
  gboolean want_server;
  LbFolder *fallback = NULL;
  guint n;

  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  want_server = self->incoming_protocol == LB_INCOMING_IMAP && role != LB_FOLDER_ROLE_OUTBOX;
  model = G_LIST_MODEL (self->folders);
  n = g_list_model_get_n_items (model);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(LbFolder) folder = g_list_model_get_item (model, i);

      if (lb_folder_get_role (folder) != role)
        continue;
      /* the list keeps its reference */
      if (lb_folder_get_local (folder) != want_server)
        return folder;
      if (fallback == NULL)
        fallback = folder;
    }

  return fallback;
}

/**
 * lb_account_get_transport:
 * @self: an account
 *
 * Returns: (transfer none) (nullable): the account's SMTP transport (an
 *   #LbSmtpTransport on the account's connector and keyring), %NULL while
 *   the account is not open
 */
LbTransport *
lb_account_get_transport (LbAccount *self)
{
  g_return_val_if_fail (LB_IS_ACCOUNT (self), NULL);

  return self->transport;
}
