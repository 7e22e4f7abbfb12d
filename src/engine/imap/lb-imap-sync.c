/* lb-imap-sync.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-imap-sync"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "lb-imap-parser.h"
#include "lb-imap-sync.h"
#include "lb-mime-summary.h"

/* LbImapSync brings one account's store up to date with its IMAP
 * mailboxes over one LbImapClient. A folder sync:
 *
 * 1. SELECTs the mailbox, with QRESYNC (the stored UIDVALIDITY and
 *    HIGHESTMODSEQ) when the server has it enabled: the server then says
 *    which messages vanished and which changed flags since, in the SELECT
 *    itself. Nothing changed costs that one round trip.
 * 2. On a UIDVALIDITY change, the stored messages lose their UIDs; the
 *    header sync below gives them back by Message-ID (keeping their keys,
 *    threads and cached bodies) and the rest go at the end.
 * 3. New messages: the UIDs the server has (UID SEARCH, compact with
 *    ESEARCH) minus those stored, fetched newest first in chunks, several
 *    UID FETCH commands in flight so the link is never idle, each chunk's
 *    summaries written to the store (on its writer thread) while the next
 *    arrive. A sync that is cut off resumes from what was stored.
 * 4. Without QRESYNC: flags changed since HIGHESTMODSEQ (CONDSTORE), or
 *    all flags compared; messages gone found by comparing UID sets.
 * 5. The folder's UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ are stored last:
 *    a stored UIDNEXT means everything below it is in the store. */

#define FETCH_CHUNK        2000  /* UIDs per UID FETCH of headers */
#define FETCHES_IN_FLIGHT  3
#define STORE_BATCH        5000  /* summaries per store transaction */
#define STORE_BATCH_IDLE   500   /* ... or this many, when the store waits */
#define WRITES_IN_FLIGHT   2
#define STORE_BACKLOG      10000 /* summaries waiting for the store past which
                                    no more UID FETCH is sent (with those in
                                    flight, about 50,000 at most) */
#define BODY_CHUNK         25    /* messages per UID FETCH of bodies */
#define BODY_CHUNK_BYTES   (8 * 1024 * 1024)
#define BODY_QUEUED_BYTES  (32 * 1024 * 1024)

struct _LbImapSync
{
  GObject       parent_instance;

  LbImapClient *client;
  LbStore      *store;
};

G_DEFINE_FINAL_TYPE (LbImapSync, lb_imap_sync, G_TYPE_OBJECT)

enum {
  PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
lb_imap_sync_dispose (GObject *object)
{
  LbImapSync *self = (LbImapSync *) object;

  g_clear_object (&self->client);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (lb_imap_sync_parent_class)->dispose (object);
}

static void
lb_imap_sync_class_init (LbImapSyncClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = lb_imap_sync_dispose;

  /**
   * LbImapSync::progress:
   * @done: messages fetched so far in this sync
   * @total: messages to fetch in all
   *
   * Emitted as the headers of new messages are stored.
   */
  signals[PROGRESS] =
    g_signal_new ("progress",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);
}

static void
lb_imap_sync_init (LbImapSync *self)
{
}

/**
 * lb_imap_sync_new:
 * @client: an authenticated client
 * @store: the account's store
 *
 * Returns: (transfer full): a sync for @client's mailboxes into @store
 */
LbImapSync *
lb_imap_sync_new (LbImapClient *client,
                  LbStore      *store)
{
  LbImapSync *self;

  g_return_val_if_fail (LB_IS_IMAP_CLIENT (client), NULL);
  g_return_val_if_fail (LB_IS_STORE (store), NULL);

  self = g_object_new (LB_TYPE_IMAP_SYNC, NULL);
  self->client = g_object_ref (client);
  self->store = g_object_ref (store);

  return self;
}

/* ---- pure helpers ------------------------------------------------------ */

static const struct
{
  const char *name;
  guint       flag;
} system_flags[] = {
  { "\\Seen", LB_MESSAGE_SEEN },
  { "\\Answered", LB_MESSAGE_ANSWERED },
  { "\\Flagged", LB_MESSAGE_FLAGGED },
  { "\\Deleted", LB_MESSAGE_DELETED },
  { "\\Draft", LB_MESSAGE_DRAFT },
  { "$Forwarded", LB_MESSAGE_FORWARDED },
};

/**
 * lb_imap_flags_to_message_flags:
 * @flags: (nullable): flags as a server sent them
 * @keywords: (out) (optional) (nullable): the other keywords, separated by
 *   single spaces, %NULL when none
 *
 * Returns: the #LbMessageFlags among @flags
 */
guint
lb_imap_flags_to_message_flags (char * const  *flags,
                                char         **keywords)
{
  GString *other = NULL;
  guint result = 0;

  for (guint i = 0; flags != NULL && flags[i] != NULL; i++)
    {
      const char *flag = flags[i];
      gboolean known = FALSE;

      /* (every system flag starts with one of these) */
      for (guint j = 0; (flag[0] == '\\' || flag[0] == '$') && j < G_N_ELEMENTS (system_flags); j++)
        if (g_ascii_strcasecmp (flag, system_flags[j].name) == 0)
          {
            result |= system_flags[j].flag;
            known = TRUE;
            break;
          }

      /* \Recent is the session's business, "\*" only in PERMANENTFLAGS */
      if (known || flag[0] == '\\' || flag[0] == '\0')
        continue;

      if (keywords == NULL)
        continue;
      if (other == NULL)
        other = g_string_new (NULL);
      else
        g_string_append_c (other, ' ');
      g_string_append (other, flag);
    }

  if (keywords != NULL)
    *keywords = other != NULL ? g_string_free (other, FALSE) : NULL;

  return result;
}

/**
 * lb_imap_flags_from_message_flags:
 * @flags: #LbMessageFlags
 *
 * Returns: (transfer full): the IMAP flags for @flags, for STORE and APPEND
 */
char **
lb_imap_flags_from_message_flags (guint flags)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  char **result;

  for (guint j = 0; j < G_N_ELEMENTS (system_flags); j++)
    if (flags & system_flags[j].flag)
      g_strv_builder_add (builder, system_flags[j].name);

  result = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);

  return result;
}

static char *
format_addresses (LbImapAddress **addresses)
{
  GString *out;

  if (addresses == NULL || addresses[0] == NULL)
    return NULL;

  out = g_string_sized_new (64);
  for (guint i = 0; addresses[i] != NULL; i++)
    {
      const LbImapAddress *a = addresses[i];
      gsize mailbox_len, host_len;
      char buf[256];
      char *addr;

      if (a->mailbox == NULL)
        continue;                       /* the end of a group */
      if (a->host == NULL)
        continue;                       /* a group's name: its members follow */

      /* mailbox@host, on the stack unless long */
      mailbox_len = strlen (a->mailbox);
      host_len = strlen (a->host);
      addr = mailbox_len + host_len + 2 <= sizeof buf ? buf : g_malloc (mailbox_len + host_len + 2);
      memcpy (addr, a->mailbox, mailbox_len);
      if (host_len > 0)
        {
          addr[mailbox_len] = '@';
          memcpy (addr + mailbox_len + 1, a->host, host_len + 1);
        }
      else
        addr[mailbox_len] = '\0';
      lb_mime_append_address (out, a->name, addr);
      if (addr != buf)
        g_free (addr);
    }

  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

/* The value of header @name in a HEADER.FIELDS block, unfolded; NULL when
 * absent. */
static char *
header_field (const guint8 *data,
              gsize         len,
              const char   *name)
{
  gsize name_len = strlen (name);
  const guint8 *end = data + len;
  const guint8 *p = data;

  while (p < end)
    {
      const guint8 *eol = memchr (p, '\n', end - p);
      const guint8 *line_end = eol != NULL ? eol : end;

      if ((gsize) (line_end - p) > name_len && p[name_len] == ':' &&
          g_ascii_strncasecmp ((const char *) p, name, name_len) == 0)
        {
          GString *value = g_string_sized_new (line_end - p);
          const guint8 *v = p + name_len + 1;

          for (;;)
            {
              gsize n = line_end - v;

              if (n > 0 && line_end[-1] == '\r')
                n--;
              g_string_append_len (value, (const char *) v, n);
              if (eol == NULL)
                break;
              p = eol + 1;
              if (p >= end || (*p != ' ' && *p != '\t'))
                break;
              g_string_append_c (value, ' ');
              v = p;
              eol = memchr (p, '\n', end - p);
              line_end = eol != NULL ? eol : end;
            }
          return g_string_free (value, FALSE);
        }

      if (eol == NULL)
        break;
      p = eol + 1;
    }

  return NULL;
}

static char *
list_id_of (const char *raw)
{
  const char *open, *close;
  g_autofree char *decoded = NULL;

  if (raw == NULL)
    return NULL;

  open = strrchr (raw, '<');
  close = open != NULL ? strchr (open, '>') : NULL;
  if (open != NULL && close != NULL && close > open + 1)
    {
      g_autofree char *id = g_strndup (open + 1, close - open - 1);

      return lb_mime_decode_header_text (id);
    }

  decoded = lb_mime_decode_header_text (raw);
  return g_steal_pointer (&decoded);
}

static gboolean
body_is (const LbImapBody *body,
         const char       *type,
         const char       *subtype)
{
  /* (@type and @subtype are lower-case: the first letters decide most) */
  return (body->type != NULL && g_ascii_tolower (body->type[0]) == type[0] &&
          g_ascii_strcasecmp (body->type, type) == 0 &&
          (subtype == NULL ||
           (body->subtype != NULL && g_ascii_tolower (body->subtype[0]) == subtype[0] &&
            g_ascii_strcasecmp (body->subtype, subtype) == 0)));
}

static gboolean
subtype_is (const LbImapBody *body,
            const char       *subtype)
{
  return (body->subtype != NULL && g_ascii_tolower (body->subtype[0]) == subtype[0] &&
          g_ascii_strcasecmp (body->subtype, subtype) == 0);
}

static const char *
param_of (char * const *params,
          const char   *name)
{
  /* (@name is lower-case; the first letter tells most names apart) */
  for (guint i = 0; params != NULL && params[i] != NULL && params[i + 1] != NULL; i += 2)
    if (g_ascii_tolower (params[i][0]) == name[0] && g_ascii_strcasecmp (params[i], name) == 0)
      return params[i + 1];
  return NULL;
}

static const char *
filename_of (const LbImapBody *body)
{
  const char *name = param_of (body->disposition_params, "filename");

  if (name == NULL)
    name = param_of (body->disposition_params, "filename*");
  if (name == NULL)
    name = param_of (body->params, "name");
  return name;
}

/* The same rule as lb_mime_summary_parse(): files, calendar invitations
 * and forwarded messages are attachments; the images a multipart/related
 * HTML shows, signatures and delivery reports are not. */
static gboolean
has_attachments (const LbImapBody *body,
                 gboolean          in_related,
                 guint             depth)
{
  gboolean application, message, text;

  if (body == NULL || depth > 64)
    return FALSE;

  if (body->children != NULL)
    {
      gboolean related = body_is (body, "multipart", "related");

      if (body_is (body, "multipart", "encrypted"))
        return FALSE;
      if (body_is (body, "multipart", "signed"))
        return body->children->len > 0 &&
               has_attachments (g_ptr_array_index (body->children, 0), FALSE, depth + 1);

      for (guint i = 0; i < body->children->len; i++)
        if (has_attachments (g_ptr_array_index (body->children, i), related && i > 0, depth + 1))
          return TRUE;
      return FALSE;
    }

  /* each type compared once: this runs for every part of every message */
  application = body_is (body, "application", NULL);
  message = !application && body_is (body, "message", NULL);
  text = !application && !message && body_is (body, "text", NULL);

  if (application &&
      (subtype_is (body, "pgp-signature") ||
       subtype_is (body, "pkcs7-signature") ||
       subtype_is (body, "x-pkcs7-signature") ||
       subtype_is (body, "pkcs7-mime") ||
       subtype_is (body, "x-pkcs7-mime") ||
       subtype_is (body, "pgp-encrypted")))
    return FALSE;

  /* an image the HTML beside it shows */
  if (in_related && body->id != NULL)
    return FALSE;

  if ((body->disposition != NULL && g_ascii_strcasecmp (body->disposition, "attachment") == 0) ||
      (text && subtype_is (body, "calendar")) ||
      (message && (subtype_is (body, "rfc822") || subtype_is (body, "global"))))
    return TRUE;

  if ((message &&
       (subtype_is (body, "delivery-status") ||
        subtype_is (body, "global-delivery-status") ||
        subtype_is (body, "disposition-notification") ||
        subtype_is (body, "feedback-report"))) ||
      (text && subtype_is (body, "rfc822-headers")))
    return FALSE;

  if (!text)
    return TRUE;

  return (!subtype_is (body, "plain") && !subtype_is (body, "html") &&
          filename_of (body) != NULL);
}

/**
 * lb_imap_body_has_attachments:
 * @body: a BODYSTRUCTURE
 *
 * Returns: whether a reader would see attachments in the message
 */
gboolean
lb_imap_body_has_attachments (const LbImapBody *body)
{
  return has_attachments (body, FALSE, 0);
}

static void
append_field (GString    *out,
              const char *value)
{
  g_string_append_c (out, '\t');
  if (value == NULL)
    return;
  while (*value != '\0')
    {
      gsize run = strcspn (value, "\t\n\r");

      g_string_append_len (out, value, run);
      value += run;
      if (*value != '\0')
        {
          g_string_append_c (out, ' ');
          value++;
        }
    }
}

/* writes @n in decimal at @buf (room for 20 digits), returns the length */
static gsize
format_number (char    *buf,
               guint64  n)
{
  char digits[20];
  gsize len = 0;

  do
    {
      digits[len++] = (char) ('0' + n % 10);
      n /= 10;
    }
  while (n > 0);
  for (gsize i = 0; i < len; i++)
    buf[i] = digits[len - 1 - i];
  return len;
}

/* @section is @section_len bytes in a buffer with room for MAX_DEPTH + 2
 * more numbers and their dots */
static void
structure_walk (GString          *out,
                const LbImapBody *body,
                char             *section,
                gsize             section_len,
                guint             depth)
{
  if (body == NULL || depth > 64)
    return;

  if (body->children != NULL)
    {
      for (guint i = 0; i < body->children->len; i++)
        {
          gsize len = section_len;

          if (len > 0)
            section[len++] = '.';
          len += format_number (section + len, i + 1);
          structure_walk (out, g_ptr_array_index (body->children, i), section, len, depth + 1);
        }
      return;
    }

  if (section_len > 0)
    g_string_append_len (out, section, section_len);
  else
    g_string_append_c (out, '1');
  g_string_append_c (out, '\t');
  g_string_append (out, body->type != NULL ? body->type : "application");
  g_string_append_c (out, '/');
  g_string_append (out, body->subtype != NULL ? body->subtype : "octet-stream");
  append_field (out, body->encoding);
  {
    char size[24];

    size[0] = '\t';
    g_string_append_len (out, size, 1 + format_number (size + 1, body->size));
  }
  append_field (out, body->disposition);
  append_field (out, filename_of (body));
  append_field (out, param_of (body->params, "charset"));
  append_field (out, body->id);
  g_string_append_c (out, '\n');
}

/**
 * lb_imap_body_to_structure:
 * @body: (nullable): a BODYSTRUCTURE
 *
 * The leaf parts of @body as #LbMessageSummary.structure keeps them: one
 * line per part, tab-separated: section, type/subtype, encoding, size,
 * disposition, file name, charset, content id (fields may be empty).
 * Enough to fetch and show one part without the whole message.
 *
 * Returns: (transfer full) (nullable): the text, %NULL for no body
 */
char *
lb_imap_body_to_structure (const LbImapBody *body)
{
  char section[66 * 11];   /* depth <= 64 numbers, their dots */
  GString *out;

  if (body == NULL)
    return NULL;

  out = g_string_sized_new (128);
  structure_walk (out, body, section, 0, 0);
  return g_string_free (out, FALSE);
}

/**
 * lb_imap_summary_from_fetch:
 * @fetch: a FETCH response with (at least) the items of
 *   %LB_IMAP_SYNC_HEADER_ITEMS
 *
 * Returns: (transfer full): the summary of the message, without key or
 *   folder
 */
LbMessageSummary *
lb_imap_summary_from_fetch (const LbImapFetch *fetch)
{
  LbMessageSummary *s = lb_message_summary_new ();
  const LbImapEnvelope *env = fetch->envelope;
  gint64 arrived = (fetch->items & LB_IMAP_FETCH_INTERNALDATE) ? fetch->internaldate : 0;
  g_autofree char *refs = NULL;
  g_autofree char *in_reply_to_field = NULL;
  const char *in_reply_to;
  g_autofree char *list_id = NULL;

  s->uid = fetch->uid;
  s->flags = lb_imap_flags_to_message_flags (fetch->flags, &s->keywords);
  s->size = (gint64) MIN (fetch->size, (guint64) G_MAXINT64);
  s->modseq = fetch->modseq;

  for (guint i = 0; fetch->sections != NULL && i < fetch->sections->len; i++)
    {
      const LbImapSection *section = g_ptr_array_index (fetch->sections, i);
      const guint8 *data;
      gsize len;

      if (section->data == NULL || !g_str_has_prefix (section->section, "HEADER.FIELDS"))
        continue;
      data = g_bytes_get_data (section->data, &len);
      g_free (refs);
      refs = header_field (data, len, "References");
      g_free (in_reply_to_field);
      in_reply_to_field = header_field (data, len, "In-Reply-To");
      g_free (list_id);
      list_id = header_field (data, len, "List-Id");
    }
  in_reply_to = in_reply_to_field;

  if (env != NULL)
    {
      s->date = lb_mime_parse_date (env->date, arrived);
      s->subject = lb_mime_decode_header_text (env->subject);
      s->from = format_addresses (env->from);
      s->to = format_addresses (env->to);
      s->cc = format_addresses (env->cc);
      s->message_id = lb_mime_parse_ids (env->message_id, FALSE);
      if (in_reply_to == NULL)
        in_reply_to = env->in_reply_to;
    }
  else
    {
      s->date = arrived;
    }

  s->in_reply_to = lb_mime_parse_ids (in_reply_to, FALSE);
  s->references = lb_mime_parse_ids (refs, TRUE);
  if (s->references == NULL)
    s->references = g_strdup (s->in_reply_to);
  s->list_id = list_id_of (list_id);

  if (fetch->body != NULL)
    {
      s->has_attachments = lb_imap_body_has_attachments (fetch->body);
      s->structure = lb_imap_body_to_structure (fetch->body);
    }

  return s;
}

/* ---- UID sets ---------------------------------------------------------- */

static int
compare_uid (gconstpointer a,
             gconstpointer b)
{
  guint32 x = *(const guint32 *) a;
  guint32 y = *(const guint32 *) b;

  return x < y ? -1 : x > y;
}

/* "1:5,7,9:12" for sorted, distinct @uids[from..to) */
static char *
uids_to_set (const guint32 *uids,
             guint          n)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < n;)
    {
      guint j = i;

      while (j + 1 < n && uids[j + 1] == uids[j] + 1)
        j++;
      if (out->len > 0)
        g_string_append_c (out, ',');
      if (j == i)
        g_string_append_printf (out, "%u", uids[i]);
      else
        g_string_append_printf (out, "%u:%u", uids[i], uids[j]);
      i = j + 1;
    }

  return g_string_free (out, FALSE);
}

/* ---- selecting ----------------------------------------------------------- */

static gboolean
is_selected (LbImapSync *self,
             const char *path)
{
  const LbImapMailboxInfo *selected = lb_imap_client_get_selected (self->client);

  return (lb_imap_client_get_state (self->client) == LB_IMAP_STATE_SELECTED &&
          selected != NULL && selected->mailbox != NULL && !selected->read_only &&
          strcmp (selected->mailbox, path) == 0);
}

static void
select_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(LbImapMailboxInfo) info = NULL;
  GError *error = NULL;

  info = lb_imap_client_select_finish (LB_IMAP_CLIENT (object), result, &error);
  if (info == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
refreshed_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!lb_imap_client_noop_finish (LB_IMAP_CLIENT (object), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/* A session sees only the messages the server told it about (EXISTS), and
 * the server tells at the end of a command: a mailbox selected by an
 * earlier command, with none since, does not show what came in the
 * meantime, and a UID FETCH, STORE, MOVE or SEARCH does not find it, with
 * no error. The view of a SELECT holds every UID below its UIDNEXT; for a
 * newer one (@max_uid, or G_MAXUINT32 when the UIDs are not known) a NOOP
 * brings the view up to date first. It is waited for: Dovecot has been
 * seen to run a command pipelined behind the NOOP on the view before it. */
static void
select_for_async (LbImapSync          *self,
                  const char          *path,
                  guint32              max_uid,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_imap_sync_select_async);

  if (is_selected (self, path))
    {
      const LbImapMailboxInfo *selected = lb_imap_client_get_selected (self->client);

      if (selected->uidnext > 0 && max_uid < selected->uidnext)
        g_task_return_boolean (task, TRUE);
      else
        lb_imap_client_noop_async (self->client, cancellable, refreshed_cb, g_steal_pointer (&task));
      return;
    }

  lb_imap_client_select_async (self->client, path, FALSE, NULL, NULL, NULL,
                               cancellable, select_done_cb, g_steal_pointer (&task));
}

/**
 * lb_imap_sync_select_async:
 * @self: a sync
 * @path: the mailbox
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the caller may send its commands for @path
 * @user_data: data for @callback
 *
 * Makes sure @path is the selected mailbox (read-write), and that the
 * session knows all it holds now: when it was already selected, a NOOP
 * makes the server tell what changed since the last command.
 */
void
lb_imap_sync_select_async (LbImapSync          *self,
                           const char          *path,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (LB_IS_IMAP_SYNC (self));
  g_return_if_fail (path != NULL);

  select_for_async (self, path, G_MAXUINT32, cancellable, callback, user_data);
}

gboolean
lb_imap_sync_select_finish (LbImapSync    *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- the folder sync ----------------------------------------------------- */

typedef struct
{
  gint64             folder_id;
  LbFolderInfo      *folder;        /* as stored before the sync */
  LbImapMailboxInfo *info;          /* what SELECT said */
  gboolean           qresync;
  gboolean           reset;         /* UIDVALIDITY changed */

  /* QRESYNC's report, gathered during SELECT */
  GArray            *vanished;      /* of LbImapRange */
  GArray            *changed;       /* of LbStoreUidState */

  /* the header fetch */
  GArray            *stored;        /* of LbStoreUidState, sorted */
  GArray            *server;        /* of guint32, sorted */
  GArray            *missing;       /* of guint32, newest first */
  guint              next_chunk;    /* index into missing */
  guint              fetches;       /* UID FETCH commands in flight */
  guint              writes;        /* store writes in flight */
  GPtrArray         *batch;         /* of LbMessageSummary */
  GArray            *delivered;     /* of guint32: UIDs whose headers came */
  guint              fetched;
  GError            *error;         /* the first failure of the pipeline */

  LbImapSyncStats    stats;
} SyncData;

static void
sync_data_free (gpointer data)
{
  SyncData *sd = data;

  g_clear_pointer (&sd->folder, lb_folder_info_free);
  g_clear_pointer (&sd->info, lb_imap_mailbox_info_free);
  g_clear_pointer (&sd->vanished, g_array_unref);
  g_clear_pointer (&sd->changed, g_array_unref);
  g_clear_pointer (&sd->stored, g_array_unref);
  g_clear_pointer (&sd->server, g_array_unref);
  g_clear_pointer (&sd->missing, g_array_unref);
  g_clear_pointer (&sd->batch, g_ptr_array_unref);
  g_clear_pointer (&sd->delivered, g_array_unref);
  g_clear_error (&sd->error);
  g_free (sd);
}

static void
uid_state_clear (gpointer data)
{
  LbStoreUidState *state = data;

  g_clear_pointer (&state->keywords, g_free);
}

static GArray *
new_uid_states (void)
{
  GArray *states = g_array_new (FALSE, TRUE, sizeof (LbStoreUidState));

  g_array_set_clear_func (states, uid_state_clear);
  return states;
}

static void add_uid_state (GArray            *states,
                           const LbImapFetch *fetch);

static void sync_after_select (GTask *task);
static void sync_new_messages (GTask *task);
static void sync_old_flags (GTask *task);
static void sync_finish (GTask *task);

static void
add_uid_state (GArray            *states,
               const LbImapFetch *fetch)
{
  LbStoreUidState state = { 0, };

  if (fetch->uid == 0 || !(fetch->items & LB_IMAP_FETCH_FLAGS))
    return;

  state.uid = fetch->uid;
  state.flags = lb_imap_flags_to_message_flags (fetch->flags, &state.keywords);
  g_array_append_val (states, state);
}

static gboolean
select_untagged (LbImapClient   *client,
                 LbImapResponse *response,
                 gpointer        user_data)
{
  SyncData *sd = user_data;

  if (response->data == LB_IMAP_DATA_VANISHED)
    {
      /* VANISHED (EARLIER) may name UIDs this client never had, in ranges
       * of any width: they are kept as ranges and matched against the
       * stored UIDs, never expanded */
      if (response->set != NULL)
        g_array_append_vals (sd->vanished, response->set->data, response->set->len);
      return TRUE;
    }
  if (response->data == LB_IMAP_DATA_FETCH && response->fetch != NULL)
    {
      add_uid_state (sd->changed, response->fetch);
      return TRUE;
    }
  return FALSE;
}

static gboolean
sync_failed (GTask  *task,
             GError *error)
{
  if (error == NULL)
    return FALSE;
  g_task_return_error (task, error);
  g_object_unref (task);
  return TRUE;
}

static void
select_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GTask *task = user_data;
  SyncData *sd = g_task_get_task_data (task);
  GError *error = NULL;

  sd->info = lb_imap_client_select_finish (LB_IMAP_CLIENT (object), result, &error);
  if (sync_failed (task, error))
    return;

  /* without it no UID the server gives can be trusted from one session to
   * the next (RFC 3501 requires it) */
  if (sd->info->uidvalidity == 0)
    {
      sync_failed (task, g_error_new (LB_IMAP_ERROR, LB_IMAP_ERROR_PROTOCOL,
                                      _("Could not sync the folder “%s”: the server did not say "
                                        "how it numbers its messages (no UIDVALIDITY)"),
                                      sd->folder->name));
      return;
    }

  sync_after_select (task);
}

static void
get_folder_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);
  GError *error = NULL;
  LbImapQresync qresync = { 0, };

  sd->folder = lb_store_get_folder_finish (LB_STORE (object), result, &error);
  if (sync_failed (task, error))
    return;

  if (sd->folder->local)
    {
      sync_failed (task, g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                      _("“%s” is a folder on this computer, not on the server"),
                                      sd->folder->name));
      return;
    }

  sd->qresync = (lb_imap_client_is_enabled (self->client, "QRESYNC") &&
                 sd->folder->uidvalidity != 0 && sd->folder->highestmodseq != 0 &&
                 sd->folder->uidnext != 0);
  qresync.uidvalidity = sd->folder->uidvalidity;
  qresync.modseq = sd->folder->highestmodseq;

  lb_imap_client_select_async (self->client, sd->folder->path, FALSE,
                               sd->qresync ? &qresync : NULL,
                               select_untagged, sd,
                               g_task_get_cancellable (task), select_cb, task);
}

/**
 * lb_imap_sync_folder_async:
 * @self: a sync
 * @folder_id: the store's id of an IMAP folder
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the folder is up to date, or the sync failed
 * @user_data: data for @callback
 *
 * Brings the store's copy of the folder up to date with the server:
 * headers of new messages, flags, messages gone. Leaves the folder
 * selected. Whatever was stored before a failure stays stored, and the
 * next sync goes on from there.
 */
void
lb_imap_sync_folder_async (LbImapSync          *self,
                           gint64               folder_id,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  GTask *task;
  SyncData *sd;

  g_return_if_fail (LB_IS_IMAP_SYNC (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_imap_sync_folder_async);

  sd = g_new0 (SyncData, 1);
  sd->folder_id = folder_id;
  sd->vanished = g_array_new (FALSE, FALSE, sizeof (LbImapRange));
  sd->changed = new_uid_states ();
  sd->batch = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  sd->delivered = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_task_set_task_data (task, sd, sync_data_free);

  lb_store_get_folder_async (self->store, folder_id, cancellable, get_folder_cb, task);
}

gboolean
lb_imap_sync_folder_finish (LbImapSync       *self,
                            GAsyncResult     *result,
                            LbImapSyncStats  *stats,
                            GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == lb_imap_sync_folder_async, FALSE);

  if (stats != NULL)
    {
      SyncData *sd = g_task_get_task_data (G_TASK (result));

      *stats = sd->stats;
    }

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* -- step 2: what QRESYNC said, or a new numbering ------------------------ */

static void
reset_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  SyncData *sd = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lb_store_reset_folder_finish (LB_STORE (object), result, &error))
    {
      sync_failed (task, error);
      return;
    }

  sd->folder->uidvalidity = sd->info->uidvalidity;
  sd->folder->uidnext = 0;
  sd->folder->highestmodseq = 0;
  sync_new_messages (task);
}

static void
qresync_flags_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!lb_store_sync_flags_finish (LB_STORE (object), result, &error))
    {
      sync_failed (task, error);
      return;
    }

  sync_new_messages (task);
}

static void
apply_changed_flags (GTask               *task,
                     GAsyncReadyCallback  callback)
{
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);

  sd->stats.updated += sd->changed->len;
  lb_store_sync_flags_async (self->store, sd->folder_id, sd->changed,
                             g_task_get_cancellable (task), callback, task);
}

static void
vanished_done (GTask *task)
{
  SyncData *sd = g_task_get_task_data (task);

  if (sd->changed->len > 0)
    apply_changed_flags (task, qresync_flags_cb);
  else
    sync_new_messages (task);
}

static void
vanished_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!lb_store_remove_uids_finish (LB_STORE (object), result, &error))
    {
      sync_failed (task, error);
      return;
    }

  vanished_done (task);
}

static void
vanished_stored_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  GTask *task = user_data;
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);
  g_autoptr(GArray) stored = NULL;
  g_autoptr(GArray) gone = g_array_new (FALSE, FALSE, sizeof (guint32));
  GError *error = NULL;

  stored = lb_store_list_uids_finish (LB_STORE (object), result, &error);
  if (sync_failed (task, error))
    return;

  for (guint i = 0; i < stored->len; i++)
    {
      guint32 uid = g_array_index (stored, LbStoreUidState, i).uid;

      if (lb_imap_set_contains (sd->vanished, uid))
        g_array_append_val (gone, uid);
    }

  if (gone->len == 0)
    {
      vanished_done (task);
      return;
    }

  sd->stats.removed += gone->len;
  lb_store_remove_uids_async (self->store, sd->folder_id, gone, g_task_get_cancellable (task),
                              vanished_cb, task);
}

static void
sync_after_select (GTask *task)
{
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (sd->folder->uidvalidity != 0 && sd->info->uidvalidity != sd->folder->uidvalidity)
    {
      g_message ("The server renumbered “%s” (UIDVALIDITY %u, was %u): syncing it again",
                 sd->folder->path, sd->info->uidvalidity, sd->folder->uidvalidity);
      sd->reset = TRUE;
      sd->qresync = FALSE;
      sd->stats.uidvalidity_changed = TRUE;
      g_array_set_size (sd->vanished, 0);
      g_array_set_size (sd->changed, 0);
      lb_store_reset_folder_async (self->store, sd->folder_id, sd->info->uidvalidity,
                                   cancellable, reset_cb, task);
      return;
    }

  if (sd->qresync && sd->vanished->len > 0)
    {
      lb_store_list_uids_async (self->store, sd->folder_id, cancellable,
                                vanished_stored_cb, task);
      return;
    }

  if (sd->qresync && sd->changed->len > 0)
    {
      apply_changed_flags (task, qresync_flags_cb);
      return;
    }

  sync_new_messages (task);
}

/* -- step 3: the headers of new messages ---------------------------------- */

static void pump (GTask *task);

static void
write_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);
  g_autoptr(GPtrArray) stored = NULL;
  GError *error = NULL;

  sd->writes--;
  stored = lb_store_add_summaries_finish (LB_STORE (object), result, &error);
  if (stored == NULL && sd->error == NULL)
    sd->error = error;
  else if (stored == NULL)
    g_error_free (error);
  else
    {
      sd->fetched += stored->len;
      g_signal_emit (self, signals[PROGRESS], 0, sd->fetched, sd->missing->len);
    }

  pump (task);
  g_object_unref (task);
}

static void
flush_batch (GTask *task)
{
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);
  g_autoptr(GPtrArray) batch = NULL;

  if (sd->batch->len == 0)
    return;

  batch = g_steal_pointer (&sd->batch);
  sd->batch = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_message_summary_unref);
  sd->writes++;
  sd->stats.added += batch->len;
  /* not cancellable: what arrived is worth keeping */
  lb_store_add_summaries_async (self->store, sd->folder_id, batch, NULL,
                                LB_STORE_WRITE_DEFER_INDEX,
                                NULL, write_cb, g_object_ref (task));
}

/* A full batch while the store can take one; a smaller one while it has
 * nothing to do, so that it starts early and never waits long. */
static gboolean
batch_ready (SyncData *sd)
{
  return ((sd->batch->len >= STORE_BATCH && sd->writes < WRITES_IN_FLIGHT) ||
          (sd->batch->len >= STORE_BATCH_IDLE && sd->writes == 0));
}

static gboolean
fetch_untagged (LbImapClient   *client,
                LbImapResponse *response,
                gpointer        user_data)
{
  GTask *task = user_data;
  SyncData *sd = g_task_get_task_data (task);
  const LbImapFetch *fetch = response->fetch;

  if (response->data != LB_IMAP_DATA_FETCH || fetch == NULL)
    return FALSE;

  /* a flag change of another message, told in passing */
  if (!(fetch->items & LB_IMAP_FETCH_ENVELOPE) || fetch->uid == 0)
    return FALSE;

  g_array_append_val (sd->delivered, fetch->uid);
  g_ptr_array_add (sd->batch, lb_imap_summary_from_fetch (fetch));
  if (batch_ready (sd))
    flush_batch (task);

  return TRUE;
}

static void
fetch_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  SyncData *sd = g_task_get_task_data (task);
  GError *error = NULL;

  sd->fetches--;
  if (!lb_imap_client_uid_fetch_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      /* A server that cannot read one broken message says NO for its
       * whole chunk ("Some messages could not be FETCHed"): the rest are
       * worth having; those that did not come are asked for next time. */
      if (g_error_matches (error, LB_IMAP_ERROR, LB_IMAP_ERROR_NO))
        {
          g_message ("%s: %s", sd->folder->path, error->message);
          g_clear_error (&error);
        }
      else if (sd->error == NULL)
        sd->error = error;
      else
        g_error_free (error);
    }

  pump (task);
  g_object_unref (task);
}

/* Keeps FETCHES_IN_FLIGHT fetches going while fewer than STORE_BACKLOG
 * summaries wait for the store (the server keeps sending while the store
 * writes; memory stays bounded when the store is the slower: the
 * backlog, the fetches in flight and WRITES_IN_FLIGHT batches); when
 * everything is fetched and written, goes on. */
static void
pump (GTask *task)
{
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (sd->error == NULL)
    g_cancellable_set_error_if_cancelled (cancellable, &sd->error);

  if (batch_ready (sd))
    flush_batch (task);

  while (sd->error == NULL && sd->fetches < FETCHES_IN_FLIGHT &&
         sd->batch->len < STORE_BACKLOG && sd->next_chunk < sd->missing->len)
    {
      guint n = MIN (FETCH_CHUNK, sd->missing->len - sd->next_chunk);
      g_autoptr(GArray) chunk = g_array_sized_new (FALSE, FALSE, sizeof (guint32), n);
      g_autofree char *set = NULL;

      g_array_append_vals (chunk, &g_array_index (sd->missing, guint32, sd->next_chunk), n);
      g_array_sort (chunk, compare_uid);
      set = uids_to_set ((const guint32 *) chunk->data, chunk->len);
      sd->next_chunk += n;
      sd->fetches++;
      lb_imap_client_uid_fetch_async (self->client, set,
                                      "(" LB_IMAP_SYNC_HEADER_ITEMS ")", 0, FALSE,
                                      fetch_untagged, g_object_ref (task), g_object_unref,
                                      cancellable, fetch_cb, g_object_ref (task));
    }

  if (sd->fetches > 0 || sd->writes > 0)
    return;

  /* the last few, also after a failure: what arrived is worth keeping */
  if (sd->batch->len > 0)
    {
      flush_batch (task);
      return;
    }

  if (sd->error != NULL)
    {
      GError *error = g_steal_pointer (&sd->error);

      sync_failed (task, error);
      return;
    }

  if (sd->next_chunk < sd->missing->len)
    return;

  sync_old_flags (task);
}

static void
compute_missing (SyncData *sd)
{
  guint i = 0, j = 0;

  sd->missing = g_array_new (FALSE, FALSE, sizeof (guint32));

  /* both sorted ascending */
  while (i < sd->server->len)
    {
      guint32 uid = g_array_index (sd->server, guint32, i);

      while (j < sd->stored->len && g_array_index (sd->stored, LbStoreUidState, j).uid < uid)
        j++;
      if (j >= sd->stored->len || g_array_index (sd->stored, LbStoreUidState, j).uid != uid)
        g_array_append_val (sd->missing, uid);
      i++;
    }

  /* newest first */
  for (guint a = 0, b = sd->missing->len; a + 1 < b; a++, b--)
    {
      guint32 t = g_array_index (sd->missing, guint32, a);

      g_array_index (sd->missing, guint32, a) = g_array_index (sd->missing, guint32, b - 1);
      g_array_index (sd->missing, guint32, b - 1) = t;
    }
}

static void
search_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GTask *task = user_data;
  SyncData *sd = g_task_get_task_data (task);
  GError *error = NULL;
  guint32 low = sd->folder->uidnext;

  sd->server = lb_imap_client_uid_search_finish (LB_IMAP_CLIENT (object), result, &error);
  if (sync_failed (task, error))
    return;

  g_array_sort (sd->server, compare_uid);

  /* "UID n:*" also matches the last message when its UID is below n */
  if (low > 1)
    {
      guint k = 0;

      while (k < sd->server->len && g_array_index (sd->server, guint32, k) < low)
        k++;
      g_array_remove_range (sd->server, 0, k);
    }

  compute_missing (sd);
  g_debug ("%s: %u messages on the server%s, %u stored, %u to fetch", sd->folder->path,
           sd->server->len, low > 1 ? " since the last sync" : "", sd->stored->len,
           sd->missing->len);
  pump (task);
}

static void
list_uids_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);
  g_autoptr(LbImapCommand) criteria = NULL;
  GError *error = NULL;

  sd->stored = lb_store_list_uids_finish (LB_STORE (object), result, &error);
  if (sync_failed (task, error))
    return;

  criteria = lb_imap_command_new (NULL);
  lb_imap_command_add_atom (criteria, "UID");
  if (sd->folder->uidnext > 1)
    lb_imap_command_add_printf (criteria, "%u:*", sd->folder->uidnext);
  else
    lb_imap_command_add_atom (criteria, "1:*");

  lb_imap_client_uid_search_async (self->client, criteria, g_task_get_cancellable (task),
                                   search_cb, task);
}

static void
sync_new_messages (GTask *task)
{
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);

  /* a complete earlier sync, and UIDNEXT says nothing arrived since */
  if (sd->folder->uidnext != 0 && sd->info->uidnext != 0 &&
      sd->info->uidnext == sd->folder->uidnext)
    {
      sd->missing = g_array_new (FALSE, FALSE, sizeof (guint32));
      sync_old_flags (task);
      return;
    }

  if (sd->folder->uidnext == 0)
    sd->stats.full = TRUE;
  lb_store_list_uids_async (self->store, sd->folder_id, g_task_get_cancellable (task),
                            list_uids_cb, task);
}

/* -- step 4: flags and expunges without QRESYNC ---------------------------- */

static void expunged_check (GTask *task);

static void
old_flags_stored_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!lb_store_sync_flags_finish (LB_STORE (object), result, &error))
    {
      sync_failed (task, error);
      return;
    }

  expunged_check (task);
}

static gboolean
flags_untagged (LbImapClient   *client,
                LbImapResponse *response,
                gpointer        user_data)
{
  SyncData *sd = user_data;

  if (response->data != LB_IMAP_DATA_FETCH || response->fetch == NULL ||
      response->fetch->uid == 0)
    return FALSE;

  add_uid_state (sd->changed, response->fetch);
  return TRUE;
}

static void
old_flags_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!lb_imap_client_uid_fetch_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      sync_failed (task, error);
      return;
    }

  apply_changed_flags (task, old_flags_stored_cb);
}

static void
sync_old_flags (GTask *task)
{
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);
  g_autofree char *set = NULL;
  guint64 since = 0;

  /* QRESYNC told us already */
  if (sd->qresync)
    {
      expunged_check (task);
      return;
    }

  /* A first sync fetched the flags with the headers; one that resumes
   * after a drop has stored messages whose flags may have changed since,
   * with no HIGHESTMODSEQ to ask from yet. */
  if (sd->folder->uidnext <= 1)
    {
      if (sd->stored == NULL || sd->stored->len == 0)
        {
          expunged_check (task);
          return;
        }
      g_array_set_size (sd->changed, 0);
      lb_imap_client_uid_fetch_async (self->client, "1:*", "(UID FLAGS)", 0, FALSE,
                                      flags_untagged, sd, NULL,
                                      g_task_get_cancellable (task), old_flags_cb, task);
      return;
    }

  if (sd->folder->highestmodseq != 0 && sd->info->highestmodseq != 0 && !sd->info->nomodseq)
    {
      if (sd->info->highestmodseq == sd->folder->highestmodseq)
        {
          expunged_check (task);
          return;
        }
      since = sd->folder->highestmodseq;
    }
  else
    {
      sd->stats.full = TRUE;
    }

  g_array_set_size (sd->changed, 0);
  set = g_strdup_printf ("1:%u", sd->folder->uidnext - 1);
  lb_imap_client_uid_fetch_async (self->client, set, "(UID FLAGS)", since, FALSE,
                                  flags_untagged, sd, NULL,
                                  g_task_get_cancellable (task), old_flags_cb, task);
}

static void
orphans_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  lb_store_remove_orphans_finish (LB_STORE (object), result, &error);
  if (sync_failed (task, error))
    return;

  sync_finish (task);
}

static void
after_expunges (GTask *task)
{
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);

  /* Rows still awaiting their UID after a full walk of the server's
   * folder are not on the server (a renumbering, perhaps one cut off in an
   * earlier sync, whose folder state says "never synced" until it
   * completes); queued moves and appends keep theirs. */
  if (sd->reset || sd->stats.full)
    {
      lb_store_remove_orphans_async (self->store, sd->folder_id, g_task_get_cancellable (task),
                                     orphans_cb, task);
      return;
    }

  sync_finish (task);
}

static void
removed_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!lb_store_remove_uids_finish (LB_STORE (object), result, &error))
    {
      sync_failed (task, error);
      return;
    }

  after_expunges (task);
}

/* stored UIDs (below @below) that are not on the server */
static void
remove_gone (GTask   *task,
             GArray  *stored,
             GArray  *server,
             guint32  below)
{
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);
  g_autoptr(GArray) gone = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint j = 0;

  for (guint i = 0; i < stored->len; i++)
    {
      guint32 uid = g_array_index (stored, LbStoreUidState, i).uid;

      if (below != 0 && uid >= below)
        break;
      while (j < server->len && g_array_index (server, guint32, j) < uid)
        j++;
      if (j >= server->len || g_array_index (server, guint32, j) != uid)
        g_array_append_val (gone, uid);
    }

  if (gone->len == 0)
    {
      after_expunges (task);
      return;
    }

  sd->stats.removed += gone->len;
  lb_store_remove_uids_async (self->store, sd->folder_id, gone, g_task_get_cancellable (task),
                              removed_cb, task);
}

static void
all_uids_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  GTask *task = user_data;
  SyncData *sd = g_task_get_task_data (task);
  g_autoptr(GArray) server = NULL;
  GError *error = NULL;

  server = lb_imap_client_uid_search_finish (LB_IMAP_CLIENT (object), result, &error);
  if (sync_failed (task, error))
    return;

  g_array_sort (server, compare_uid);
  remove_gone (task, sd->stored, server, 0);
}

static void
stored_for_expunge_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  GTask *task = user_data;
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);
  g_autoptr(LbImapCommand) criteria = NULL;
  GError *error = NULL;

  g_clear_pointer (&sd->stored, g_array_unref);
  sd->stored = lb_store_list_uids_finish (LB_STORE (object), result, &error);
  if (sync_failed (task, error))
    return;

  /* (equal counts prove nothing: a message moved away here but not yet
   * on the server, and one expunged there, balance out) */
  criteria = lb_imap_command_new (NULL);
  lb_imap_command_add_atom (criteria, "UID");
  lb_imap_command_add_atom (criteria, "1:*");
  lb_imap_client_uid_search_async (self->client, criteria, g_task_get_cancellable (task),
                                   all_uids_cb, task);
}

static void
expunged_check (GTask *task)
{
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);

  /* a full listing of the server's UIDs was made for the header fetch */
  if (sd->server != NULL && sd->folder->uidnext <= 1)
    {
      remove_gone (task, sd->stored, sd->server, 0);
      return;
    }

  /* QRESYNC reported what vanished */
  if (sd->qresync)
    {
      after_expunges (task);
      return;
    }

  lb_store_list_uids_async (self->store, sd->folder_id, g_task_get_cancellable (task),
                            stored_for_expunge_cb, task);
}

/* -- step 5: remember where we are ----------------------------------------- */

static void
state_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!lb_store_set_folder_state_finish (LB_STORE (object), result, &error))
    {
      sync_failed (task, error);
      return;
    }

  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* the lowest UID of sd->missing (sorted newest first) that never came */
static guint32
missing_lowest_undelivered (SyncData *sd)
{
  guint32 lowest = 0;
  guint j = 0;

  g_array_sort (sd->delivered, compare_uid);
  /* missing is descending: walk it backwards, ascending */
  for (guint i = sd->missing->len; i > 0; i--)
    {
      guint32 uid = g_array_index (sd->missing, guint32, i - 1);

      while (j < sd->delivered->len && g_array_index (sd->delivered, guint32, j) < uid)
        j++;
      if (j >= sd->delivered->len || g_array_index (sd->delivered, guint32, j) != uid)
        {
          lowest = uid;
          break;
        }
    }

  return lowest;
}

static void
sync_finish (GTask *task)
{
  LbImapSync *self = g_task_get_source_object (task);
  SyncData *sd = g_task_get_task_data (task);
  guint32 uidnext = sd->info->uidnext;
  guint64 modseq = sd->info->nomodseq ? 0 : sd->info->highestmodseq;

  /* UIDNEXT is optional in IMAP4rev1: the highest UID seen + 1 will do */
  if (uidnext == 0 && sd->server != NULL && sd->server->len > 0)
    uidnext = g_array_index (sd->server, guint32, sd->server->len - 1) + 1;
  if (uidnext == 0)
    uidnext = MAX (sd->folder->uidnext, 1);

  /* A stored UIDNEXT vouches for everything below it: not past a message
   * whose headers did not come (refused, or sent without an envelope); the
   * next sync asks for it again. */
  if (sd->missing != NULL && sd->delivered->len < sd->missing->len)
    {
      guint32 lowest = missing_lowest_undelivered (sd);

      if (lowest != 0 && lowest < uidnext)
        {
          g_message ("%s: the headers of UID %u did not come; asking again next time",
                     sd->folder->path, lowest);
          uidnext = lowest;
        }
    }

  /* the selected mailbox's values may have moved on during the sync;
   * those of the SELECT are the ones everything above is complete for */
  lb_store_set_folder_state_async (self->store, sd->folder_id, sd->info->uidvalidity,
                                   uidnext, modseq, g_task_get_cancellable (task),
                                   state_cb, task);
}

/* ---- bodies -------------------------------------------------------------- */

typedef struct
{
  guint32 uid;
  gint64  size;
} BodyItem;

typedef struct
{
  gint64      folder_id;
  GHashTable *keys;          /* uid -> key */
  GArray     *uids;          /* of BodyItem, sorted by uid */
  guint       next;
  guint       fetches;
  guint       writes;
  gsize       queued_bytes;  /* fetched, waiting for the writer */
  GArray     *pending_keys;  /* fetched, not yet handed to the writer */
  GPtrArray  *pending_raws;
  gsize       pending_bytes;
  guint       done;
  gboolean    returned;
  GError     *error;
} BodiesData;

static void
bodies_data_free (gpointer data)
{
  BodiesData *bd = data;

  g_clear_pointer (&bd->keys, g_hash_table_unref);
  g_clear_pointer (&bd->uids, g_array_unref);
  g_clear_pointer (&bd->pending_keys, g_array_unref);
  g_clear_pointer (&bd->pending_raws, g_ptr_array_unref);
  g_clear_error (&bd->error);
  g_free (bd);
}

static void bodies_pump (GTask *task);

typedef struct
{
  GTask *task;
  gsize  bytes;
  guint  count;
} CacheWrite;

static void
body_cached_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  CacheWrite *write = user_data;
  GTask *task = write->task;
  BodiesData *bd = g_task_get_task_data (task);
  GError *error = NULL;

  bd->writes--;
  bd->queued_bytes -= write->bytes;
  if (!lb_store_cache_bodies_finish (LB_STORE (object), result, &error))
    {
      if (bd->error == NULL)
        bd->error = error;
      else
        g_error_free (error);
    }
  else
    {
      bd->done += write->count;
    }
  g_free (write);

  bodies_pump (task);
  g_object_unref (task);
}

/* hands what was fetched to the store's writer, one transaction */
static void
flush_bodies (GTask *task)
{
  LbImapSync *self = g_task_get_source_object (task);
  BodiesData *bd = g_task_get_task_data (task);
  CacheWrite *write;

  if (bd->pending_keys->len == 0)
    return;

  write = g_new0 (CacheWrite, 1);
  write->task = g_object_ref (task);
  write->bytes = bd->pending_bytes;
  write->count = bd->pending_keys->len;
  bd->writes++;
  bd->queued_bytes += bd->pending_bytes;
  /* not cancellable: what arrived is worth keeping */
  lb_store_cache_bodies_async (self->store, bd->pending_keys, bd->pending_raws, NULL,
                               body_cached_cb, write);
  g_array_unref (bd->pending_keys);
  g_ptr_array_unref (bd->pending_raws);
  bd->pending_keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  bd->pending_raws = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  bd->pending_bytes = 0;
}

static gboolean
body_untagged (LbImapClient   *client,
               LbImapResponse *response,
               gpointer        user_data)
{
  GTask *task = user_data;
  BodiesData *bd = g_task_get_task_data (task);
  const LbImapFetch *fetch = response->fetch;
  gpointer key;

  if (response->data != LB_IMAP_DATA_FETCH || fetch == NULL || fetch->sections == NULL)
    return FALSE;

  if (!g_hash_table_lookup_extended (bd->keys, GUINT_TO_POINTER (fetch->uid), NULL, &key))
    return FALSE;

  for (guint i = 0; i < fetch->sections->len; i++)
    {
      const LbImapSection *section = g_ptr_array_index (fetch->sections, i);

      if (section->data == NULL || section->section[0] != '\0' || section->origin >= 0)
        continue;

      g_array_append_val (bd->pending_keys, *(gint64 *) key);
      g_ptr_array_add (bd->pending_raws, g_bytes_ref (section->data));
      bd->pending_bytes += g_bytes_get_size (section->data);
      if (bd->pending_keys->len >= BODY_CHUNK || bd->pending_bytes >= BODY_CHUNK_BYTES)
        flush_bodies (task);
      break;
    }

  return TRUE;
}

static void
bodies_fetch_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  BodiesData *bd = g_task_get_task_data (task);
  GError *error = NULL;

  bd->fetches--;
  if (!lb_imap_client_uid_fetch_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      if (bd->error == NULL)
        bd->error = error;
      else
        g_error_free (error);
    }
  flush_bodies (task);

  bodies_pump (task);
  g_object_unref (task);
}

static void
bodies_pump (GTask *task)
{
  LbImapSync *self = g_task_get_source_object (task);
  BodiesData *bd = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (bd->error == NULL)
    g_cancellable_set_error_if_cancelled (cancellable, &bd->error);

  /* memory stays bounded: a few chunks of at most BODY_CHUNK_BYTES on the
   * wire, and no more fetched than the writer can take */
  while (bd->error == NULL && bd->fetches < FETCHES_IN_FLIGHT &&
         bd->queued_bytes < BODY_QUEUED_BYTES && bd->next < bd->uids->len)
    {
      g_autoptr(GArray) chunk = g_array_new (FALSE, FALSE, sizeof (guint32));
      g_autofree char *set = NULL;
      gint64 bytes = 0;

      while (bd->next < bd->uids->len && chunk->len < BODY_CHUNK)
        {
          const BodyItem *item = &g_array_index (bd->uids, BodyItem, bd->next);

          if (chunk->len > 0 && bytes + item->size > BODY_CHUNK_BYTES)
            break;
          g_array_append_val (chunk, item->uid);
          bytes += item->size;
          bd->next++;
        }
      set = uids_to_set ((const guint32 *) chunk->data, chunk->len);

      bd->fetches++;
      lb_imap_client_uid_fetch_async (self->client, set, "(UID BODY.PEEK[])", 0, FALSE,
                                      body_untagged, g_object_ref (task), g_object_unref,
                                      cancellable, bodies_fetch_cb, g_object_ref (task));
    }

  if (bd->fetches > 0 || bd->writes > 0 || bd->returned)
    return;

  if (bd->error != NULL)
    {
      bd->returned = TRUE;
      g_task_return_error (task, g_steal_pointer (&bd->error));
      return;
    }

  if (bd->next >= bd->uids->len)
    {
      bd->returned = TRUE;
      g_task_return_int (task, bd->done);
    }
}

static void
bodies_selected_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!lb_imap_sync_select_finish (LB_IMAP_SYNC (object), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  bodies_pump (task);
}

static void
bodies_folder_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LbImapSync *self = g_task_get_source_object (task);
  BodiesData *bd = g_task_get_task_data (task);
  g_autoptr(LbFolderInfo) folder = NULL;
  GError *error = NULL;
  GCancellable *cancellable = g_task_get_cancellable (task);
  guint32 max_uid;

  folder = lb_store_get_folder_finish (LB_STORE (object), result, &error);
  if (folder == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* sorted: the newest comes last */
  max_uid = g_array_index (bd->uids, BodyItem, bd->uids->len - 1).uid;
  select_for_async (self, folder->path, max_uid, cancellable,
                    bodies_selected_cb, g_steal_pointer (&task));
}

/**
 * lb_imap_sync_fetch_bodies_async:
 * @self: a sync
 * @folder_id: the folder the messages are in
 * @summaries: (element-type LbMessageSummary): stored messages of that
 *   folder (with key and uid)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when all are cached, or on the first failure
 * @user_data: data for @callback
 *
 * Downloads whole messages into the store's body cache, several commands
 * in flight, for reading them offline. Selects the folder first.
 */
void
lb_imap_sync_fetch_bodies_async (LbImapSync          *self,
                                 gint64               folder_id,
                                 GPtrArray           *summaries,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task;
  BodiesData *bd;

  g_return_if_fail (LB_IS_IMAP_SYNC (self));
  g_return_if_fail (summaries != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_imap_sync_fetch_bodies_async);

  bd = g_new0 (BodiesData, 1);
  bd->folder_id = folder_id;
  bd->keys = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  bd->uids = g_array_new (FALSE, FALSE, sizeof (BodyItem));
  bd->pending_keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  bd->pending_raws = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < summaries->len; i++)
    {
      const LbMessageSummary *s = g_ptr_array_index (summaries, i);

      if (s->uid == 0 || s->key == 0 ||
          g_hash_table_contains (bd->keys, GUINT_TO_POINTER (s->uid)))
        continue;
      g_hash_table_insert (bd->keys, GUINT_TO_POINTER (s->uid), g_memdup2 (&s->key, sizeof s->key));
      {
        BodyItem item = { s->uid, MAX (s->size, 0) };

        g_array_append_val (bd->uids, item);
      }
    }
  g_array_sort (bd->uids, compare_uid);   /* the uid comes first in a BodyItem */
  g_task_set_task_data (task, bd, bodies_data_free);

  if (bd->uids->len == 0)
    {
      g_task_return_int (task, 0);
      g_object_unref (task);
      return;
    }

  lb_store_get_folder_async (self->store, folder_id, cancellable, bodies_folder_cb, task);
}

/**
 * lb_imap_sync_fetch_bodies_finish:
 *
 * Returns: how many messages were cached; on error, G_MAXUINT
 */
guint
lb_imap_sync_fetch_bodies_finish (LbImapSync    *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  gssize n;

  g_return_val_if_fail (g_task_is_valid (result, self), G_MAXUINT);

  n = g_task_propagate_int (G_TASK (result), error);
  return n < 0 ? G_MAXUINT : (guint) n;
}

/* ---- one part -------------------------------------------------------------- */

typedef struct
{
  guint32  uid;
  char    *section;
  char    *path;
  GBytes  *data;
} PartData;

static void
part_data_free (gpointer data)
{
  PartData *pd = data;

  g_free (pd->section);
  g_free (pd->path);
  g_clear_pointer (&pd->data, g_bytes_unref);
  g_free (pd);
}

static gboolean
part_untagged (LbImapClient   *client,
               LbImapResponse *response,
               gpointer        user_data)
{
  PartData *pd = user_data;
  const LbImapFetch *fetch = response->fetch;

  if (response->data != LB_IMAP_DATA_FETCH || fetch == NULL || fetch->uid != pd->uid ||
      fetch->sections == NULL)
    return FALSE;

  for (guint i = 0; i < fetch->sections->len; i++)
    {
      const LbImapSection *section = g_ptr_array_index (fetch->sections, i);

      if (section->data != NULL && g_ascii_strcasecmp (section->section, pd->section) == 0)
        {
          g_clear_pointer (&pd->data, g_bytes_unref);
          pd->data = g_bytes_ref (section->data);
        }
    }
  return TRUE;
}

static void
part_fetch_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PartData *pd = g_task_get_task_data (task);
  GError *error = NULL;

  if (!lb_imap_client_uid_fetch_finish (LB_IMAP_CLIENT (object), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  if (pd->data == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               _("The message is no longer on the server"));
      return;
    }

  g_task_return_pointer (task, g_bytes_ref (pd->data), (GDestroyNotify) g_bytes_unref);
}

static void
part_selected_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LbImapSync *self = g_task_get_source_object (task);
  PartData *pd = g_task_get_task_data (task);
  g_autofree char *set = NULL;
  g_autofree char *items = NULL;
  GError *error = NULL;
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (!lb_imap_sync_select_finish (LB_IMAP_SYNC (object), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  set = g_strdup_printf ("%u", pd->uid);
  items = g_strdup_printf ("(UID BODY.PEEK[%s])", pd->section);
  lb_imap_client_uid_fetch_async (self->client, set, items, 0, FALSE,
                                  part_untagged, pd, NULL,
                                  cancellable, part_fetch_cb, g_steal_pointer (&task));
}

static void
part_folder_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LbImapSync *self = g_task_get_source_object (task);
  PartData *pd = g_task_get_task_data (task);
  g_autoptr(LbFolderInfo) folder = NULL;
  GError *error = NULL;
  GCancellable *cancellable = g_task_get_cancellable (task);

  folder = lb_store_get_folder_finish (LB_STORE (object), result, &error);
  if (folder == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  select_for_async (self, folder->path, pd->uid, cancellable,
                    part_selected_cb, g_steal_pointer (&task));
}

static gboolean
section_is_valid (const char *section)
{
  /* "", "1", "1.2.3", "1.2.MIME", "TEXT", "HEADER": never user text */
  for (const char *p = section; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '.')
      return FALSE;
  return TRUE;
}

/**
 * lb_imap_sync_fetch_part_async:
 * @self: a sync
 * @folder_id: the folder the message is in
 * @uid: its UID there
 * @section: the part, as in #LbMessageSummary.structure ("1.2"), or ""
 *   for the whole message
 * @cancellable: (nullable): a #GCancellable
 * @callback: called with the part's bytes, still in their transfer encoding
 * @user_data: data for @callback
 *
 * Fetches one part of a message without caching it.
 */
void
lb_imap_sync_fetch_part_async (LbImapSync          *self,
                               gint64               folder_id,
                               guint32              uid,
                               const char          *section,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  GTask *task;
  PartData *pd;

  g_return_if_fail (LB_IS_IMAP_SYNC (self));
  g_return_if_fail (section != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, lb_imap_sync_fetch_part_async);

  if (!section_is_valid (section) || uid == 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("The message has no part “%s”"), section);
      g_object_unref (task);
      return;
    }

  pd = g_new0 (PartData, 1);
  pd->uid = uid;
  pd->section = g_ascii_strup (section, -1);
  g_task_set_task_data (task, pd, part_data_free);

  lb_store_get_folder_async (self->store, folder_id, cancellable, part_folder_cb, task);
}

GBytes *
lb_imap_sync_fetch_part_finish (LbImapSync    *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
