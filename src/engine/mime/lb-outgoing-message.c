/* lb-outgoing-message.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-mime"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gmime/gmime.h>

#include "lb-message-summary.h"
#include "lb-mime-private.h"
#include "lb-mime-summary.h"
#include "lb-mime-text.h"
#include "lb-outgoing-message-private.h"
#include "lb-outgoing-message.h"

/* LbOutgoingMessage keeps the fields as the user typed them and makes the
 * bytes with GMime each time they are asked for. Everything that could
 * differ from one call to the next (the Message-ID, the Date) is made
 * once and kept in the object, and the multipart boundary follows from
 * the Message-ID: the same object gives the same bytes every time, and
 * so does the same message read back from its draft bytes.
 *
 * GMime writes with "\n" line ends; the bytes are then given CRLF line
 * ends in one pass (a CRLF already there is left alone), which also
 * covers a forwarded message's own bytes. */

#define FLOWED_WIDTH     78
#define MAX_LINE         998
#define MAX_REFERENCES   20
#define MAX_DEPTH        64

typedef struct
{
  char   *name;
  char   *type;
  GBytes *data;
} Attachment;

struct _LbOutgoingMessage
{
  GObject    parent_instance;

  char      *from_name;
  char      *from_address;
  char      *to;
  char      *cc;
  char      *bcc;
  char      *reply_to;
  char      *subject;
  char      *body;
  char      *message_id;
  char      *in_reply_to;
  char      *references;
  char      *forwarded_id;
  GDateTime *date;
  GPtrArray *attachments;   /* of Attachment */
};

G_DEFINE_FINAL_TYPE (LbOutgoingMessage, lb_outgoing_message, G_TYPE_OBJECT)

static void
attachment_free (gpointer data)
{
  Attachment *a = data;

  g_free (a->name);
  g_free (a->type);
  g_bytes_unref (a->data);
  g_free (a);
}

static void
lb_outgoing_message_finalize (GObject *object)
{
  LbOutgoingMessage *self = LB_OUTGOING_MESSAGE (object);

  g_free (self->from_name);
  g_free (self->from_address);
  g_free (self->to);
  g_free (self->cc);
  g_free (self->bcc);
  g_free (self->reply_to);
  g_free (self->subject);
  g_free (self->body);
  g_free (self->message_id);
  g_free (self->in_reply_to);
  g_free (self->references);
  g_free (self->forwarded_id);
  g_clear_pointer (&self->date, g_date_time_unref);
  g_ptr_array_unref (self->attachments);

  G_OBJECT_CLASS (lb_outgoing_message_parent_class)->finalize (object);
}

static void
lb_outgoing_message_class_init (LbOutgoingMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = lb_outgoing_message_finalize;
}

static void
lb_outgoing_message_init (LbOutgoingMessage *self)
{
  self->attachments = g_ptr_array_new_with_free_func (attachment_free);
}

LbOutgoingMessage *
lb_outgoing_message_new (void)
{
  return g_object_new (LB_TYPE_OUTGOING_MESSAGE, NULL);
}

/* ---- small string helpers ------------------------------------------- */

static const char *
or_empty (const char *text)
{
  return text != NULL ? text : "";
}

/* the text of @out, NULL when empty */
static char *
take_field (GString *out)
{
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

/* replaces *@field with a copy of @value (NULL for "" when @nullable) */
static void
set_string (char      **field,
            const char *value,
            gboolean    nullable)
{
  if (nullable && value != NULL && *value == '\0')
    value = NULL;
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
}

/* an id as kept: no angle brackets, no surrounding whitespace */
static char *
clean_id (const char *id)
{
  g_autofree char *copy = NULL;
  char *p;
  gsize len;

  if (id == NULL)
    return NULL;
  copy = g_strstrip (g_strdup (id));
  p = copy;
  if (*p == '<')
    p++;
  len = strlen (p);
  if (len > 0 && p[len - 1] == '>')
    p[--len] = '\0';
  /* none, or one no header line can hold (RFC 5322 2.1.1: 998) */
  if (len == 0 || len > 900)
    return NULL;
  /* no whitespace, no control characters: nothing that could end the
   * header it goes in */
  for (const char *q = p; *q != '\0'; q++)
    if ((guchar) *q <= 0x20 || (guchar) *q == 0x7f)
      return NULL;
  return g_strdup (p);
}

static gboolean
is_ascii (const char *data,
          gsize       len)
{
  for (gsize i = 0; i < len; i++)
    if ((guchar) data[i] >= 0x80)
      return FALSE;
  return TRUE;
}

/* ---- addresses as typed --------------------------------------------- */

typedef struct
{
  char *text;   /* the piece as typed, trimmed */
  char *name;   /* the display name, unquoted, or NULL */
  char *addr;   /* the address as typed (domain maybe Unicode), or NULL */
  gboolean valid;
} Mailbox;

static void
mailbox_free (gpointer data)
{
  Mailbox *m = data;

  g_free (m->text);
  g_free (m->name);
  g_free (m->addr);
  g_free (m);
}

/* The pieces of an address field: split at commas and semicolons outside
 * quotes, angle brackets and comments. */
static GPtrArray *
split_addresses (const char *text)
{
  GPtrArray *pieces = g_ptr_array_new_with_free_func (g_free);
  const char *start = text;
  gboolean quoted = FALSE;
  int angle = 0;
  int comment = 0;

  if (text == NULL)
    return pieces;

  for (const char *p = text;; p++)
    {
      if (*p == '\0' || (!quoted && angle == 0 && comment == 0 && (*p == ',' || *p == ';')))
        {
          char *piece = g_strstrip (g_strndup (start, p - start));

          if (*piece != '\0')
            g_ptr_array_add (pieces, piece);
          else
            g_free (piece);
          if (*p == '\0')
            break;
          start = p + 1;
          continue;
        }
      if (*p == '\\' && (quoted || comment > 0) && p[1] != '\0')
        p++;
      else if (*p == '"' && comment == 0)
        quoted = !quoted;
      else if (quoted)
        continue;
      else if (*p == '(')
        comment++;
      else if (*p == ')' && comment > 0)
        comment--;
      else if (comment > 0)
        continue;
      else if (*p == '<')
        angle++;
      else if (*p == '>' && angle > 0)
        angle--;
    }
  return pieces;
}

static gboolean
is_domain_char (guchar c)
{
  return g_ascii_isalnum (c) || c == '-' || c >= 0x80;
}

/* user@domain, the domain a host name (Unicode allowed) or a literal */
static gboolean
is_valid_address (const char *addr)
{
  const char *at;
  const char *domain;
  g_autofree char *ascii = NULL;

  if (addr == NULL || !g_utf8_validate (addr, -1, NULL))
    return FALSE;
  at = strrchr (addr, '@');
  if (at == NULL || at == addr || at[1] == '\0')
    return FALSE;

  /* the local part: a dot-atom or a quoted string */
  if (addr[0] == '"')
    {
      if (at - addr < 2 || at[-1] != '"')
        return FALSE;
      for (const char *p = addr + 1; p < at - 1; p++)
        {
          if (*p == '\\' && p + 1 < at - 1)
            p++;
          else if (*p == '"' || (guchar) *p < 0x20)
            return FALSE;
        }
    }
  else
    {
      for (const char *p = addr; p < at; p++)
        {
          guchar c = (guchar) *p;

          if (c <= 0x20 || c == 0x7f || strchr ("()<>[]:;@\\,\"", c) != NULL)
            return FALSE;
          if (c == '.' && (p == addr || p + 1 == at || p[1] == '.'))
            return FALSE;
        }
    }

  domain = at + 1;
  if (domain[0] == '[')
    {
      gsize len = strlen (domain);

      if (len < 3 || domain[len - 1] != ']')
        return FALSE;
      for (const char *p = domain + 1; p < domain + len - 1; p++)
        if (!g_ascii_isalnum (*p) && *p != '.' && *p != ':' && *p != '-')
          return FALSE;
      return TRUE;
    }

  for (const char *p = domain; *p != '\0'; p++)
    {
      gboolean label_start = p == domain || p[-1] == '.';
      gboolean label_end = p[1] == '\0' || p[1] == '.';

      if (*p == '.')
        {
          if (label_start || p[1] == '\0')
            return FALSE;
          continue;
        }
      if (!is_domain_char ((guchar) *p))
        return FALSE;
      if (*p == '-' && (label_start || label_end))
        return FALSE;
    }

  ascii = g_hostname_to_ascii (domain);
  return ascii != NULL;
}

/* @text unquoted: "..." with backslash escapes removed */
static char *
unquote (const char *text)
{
  GString *out = g_string_new (NULL);
  gboolean quoted = FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"')
        {
          quoted = !quoted;
          continue;
        }
      if (*p == '\\' && quoted && p[1] != '\0')
        p++;
      g_string_append_c (out, *p);
    }
  g_strstrip (out->str);
  out->len = strlen (out->str);
  return g_string_free (out, FALSE);
}

static Mailbox *
parse_mailbox (const char *piece)
{
  Mailbox *m = g_new0 (Mailbox, 1);
  const char *open = NULL;
  const char *close = NULL;
  gboolean quoted = FALSE;

  m->text = g_strdup (piece);

  for (const char *p = piece; *p != '\0'; p++)
    {
      if (*p == '\\' && quoted && p[1] != '\0')
        p++;
      else if (*p == '"')
        quoted = !quoted;
      else if (!quoted && *p == '<' && open == NULL)
        open = p;
      else if (!quoted && *p == '>' && open != NULL && close == NULL)
        close = p;
    }

  if (open != NULL)
    {
      g_autofree char *name = g_strndup (piece, open - piece);

      if (close == NULL)
        {
          m->addr = g_strstrip (g_strdup (open + 1));
          m->valid = FALSE;
        }
      else
        {
          m->addr = g_strstrip (g_strndup (open + 1, close - open - 1));
          m->valid = is_valid_address (m->addr);
          for (const char *p = close + 1; *p != '\0'; p++)
            if (!g_ascii_isspace (*p))
              m->valid = FALSE;
        }
      m->name = unquote (name);
      if (*m->name == '\0')
        g_clear_pointer (&m->name, g_free);
    }
  else
    {
      m->addr = g_strdup (piece);
      m->valid = is_valid_address (m->addr);
    }

  return m;
}

/* the mailboxes of an address field as typed */
static GPtrArray *
parse_mailboxes (const char *text)
{
  g_autoptr(GPtrArray) pieces = split_addresses (text);
  GPtrArray *mailboxes = g_ptr_array_new_with_free_func (mailbox_free);

  for (guint i = 0; i < pieces->len; i++)
    g_ptr_array_add (mailboxes, parse_mailbox (g_ptr_array_index (pieces, i)));
  return mailboxes;
}

/* @addr with its domain in ASCII (IDNA), or a copy when it cannot be */
static char *
addr_to_ascii (const char *addr)
{
  const char *at = addr != NULL ? strrchr (addr, '@') : NULL;
  g_autofree char *domain = NULL;
  g_autofree char *local = NULL;

  if (at == NULL || at[1] == '[' || is_ascii (at + 1, strlen (at + 1)))
    return g_strdup (addr);
  domain = g_hostname_to_ascii (at + 1);
  if (domain == NULL)
    return g_strdup (addr);
  local = g_strndup (addr, at - addr);
  return g_strconcat (local, "@", domain, NULL);
}

/* @addr with an IDNA domain shown in Unicode */
static char *
addr_to_unicode (const char *addr)
{
  const char *at = addr != NULL ? strrchr (addr, '@') : NULL;
  g_autofree char *domain = NULL;
  g_autofree char *local = NULL;

  if (at == NULL || !g_hostname_is_ascii_encoded (at + 1))
    return g_strdup (addr);
  domain = g_hostname_to_unicode (at + 1);
  if (domain == NULL)
    return g_strdup (addr);
  local = g_strndup (addr, at - addr);
  return g_strconcat (local, "@", domain, NULL);
}

/* ---- accessors ------------------------------------------------------- */

#define STRING_ACCESSORS(field, nullable)                                     \
  const char *                                                               \
  lb_outgoing_message_get_##field (LbOutgoingMessage *self)                  \
  {                                                                          \
    g_return_val_if_fail (LB_IS_OUTGOING_MESSAGE (self), NULL);              \
    return nullable ? self->field : or_empty (self->field);                  \
  }

STRING_ACCESSORS (from_name, FALSE)
STRING_ACCESSORS (from_address, FALSE)
STRING_ACCESSORS (to, FALSE)
STRING_ACCESSORS (cc, FALSE)
STRING_ACCESSORS (bcc, FALSE)
STRING_ACCESSORS (reply_to, FALSE)
STRING_ACCESSORS (subject, FALSE)
STRING_ACCESSORS (body, FALSE)
STRING_ACCESSORS (message_id, TRUE)
STRING_ACCESSORS (in_reply_to, TRUE)
STRING_ACCESSORS (references, TRUE)
STRING_ACCESSORS (forwarded_id, TRUE)

void
lb_outgoing_message_set_from (LbOutgoingMessage *self,
                              const char        *name,
                              const char        *address)
{
  g_autofree char *trimmed_name = NULL;
  g_autofree char *trimmed_address = NULL;

  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (self));

  trimmed_name = g_strstrip (g_strdup (or_empty (name)));
  trimmed_address = g_strstrip (g_strdup (or_empty (address)));
  set_string (&self->from_name, trimmed_name, TRUE);
  set_string (&self->from_address, trimmed_address, TRUE);
}

void
lb_outgoing_message_set_to (LbOutgoingMessage *self,
                            const char        *to)
{
  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (self));
  set_string (&self->to, to, TRUE);
}

void
lb_outgoing_message_set_cc (LbOutgoingMessage *self,
                            const char        *cc)
{
  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (self));
  set_string (&self->cc, cc, TRUE);
}

void
lb_outgoing_message_set_bcc (LbOutgoingMessage *self,
                             const char        *bcc)
{
  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (self));
  set_string (&self->bcc, bcc, TRUE);
}

void
lb_outgoing_message_set_reply_to (LbOutgoingMessage *self,
                                  const char        *reply_to)
{
  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (self));
  set_string (&self->reply_to, reply_to, TRUE);
}

void
lb_outgoing_message_set_subject (LbOutgoingMessage *self,
                                 const char        *subject)
{
  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (self));
  set_string (&self->subject, subject, TRUE);
}

void
lb_outgoing_message_set_body (LbOutgoingMessage *self,
                              const char        *body)
{
  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (self));
  set_string (&self->body, body, TRUE);
}

void
lb_outgoing_message_set_message_id (LbOutgoingMessage *self,
                                    const char        *message_id)
{
  g_autofree char *id = clean_id (message_id);

  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (self));
  set_string (&self->message_id, id, TRUE);
}

void
lb_outgoing_message_set_in_reply_to (LbOutgoingMessage *self,
                                     const char        *message_id)
{
  g_autofree char *id = clean_id (message_id);

  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (self));
  set_string (&self->in_reply_to, id, TRUE);
}

/* ids separated by single spaces, with no angle brackets */
static char *
normalize_references (const char *references)
{
  g_auto(GStrv) words = NULL;
  GString *out;

  if (references == NULL)
    return NULL;
  out = g_string_new (NULL);
  words = g_strsplit_set (references, " \t\r\n", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autofree char *id = clean_id (words[i]);

      if (id == NULL)
        continue;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, id);
    }
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

void
lb_outgoing_message_set_references (LbOutgoingMessage *self,
                                    const char        *references)
{
  g_autofree char *normal = normalize_references (references);

  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (self));
  set_string (&self->references, normal, TRUE);
}

void
lb_outgoing_message_set_forwarded_id (LbOutgoingMessage *self,
                                      const char        *message_id)
{
  g_autofree char *id = clean_id (message_id);

  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (self));
  set_string (&self->forwarded_id, id, TRUE);
}

GDateTime *
lb_outgoing_message_get_date (LbOutgoingMessage *self)
{
  g_return_val_if_fail (LB_IS_OUTGOING_MESSAGE (self), NULL);
  return self->date;
}

void
lb_outgoing_message_set_date (LbOutgoingMessage *self,
                              GDateTime         *date)
{
  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (self));

  if (date != NULL)
    g_date_time_ref (date);
  g_clear_pointer (&self->date, g_date_time_unref);
  self->date = date;
}

/* ---- attachments ----------------------------------------------------- */

static char *
guess_type (const char *filename,
            GBytes     *data)
{
  gsize size = 0;
  const guchar *bytes = data != NULL ? g_bytes_get_data (data, &size) : NULL;
  g_autofree char *guess = g_content_type_guess (filename, bytes, size, NULL);
  g_autofree char *mime = guess != NULL ? g_content_type_get_mime_type (guess) : NULL;

  if (mime == NULL || strchr (mime, '/') == NULL)
    return g_strdup ("application/octet-stream");
  return g_steal_pointer (&mime);
}

guint
lb_outgoing_message_add_attachment (LbOutgoingMessage *self,
                                    const char        *filename,
                                    const char        *content_type,
                                    GBytes            *data)
{
  Attachment *a;

  g_return_val_if_fail (LB_IS_OUTGOING_MESSAGE (self), 0);
  g_return_val_if_fail (data != NULL, 0);

  a = g_new0 (Attachment, 1);
  a->name = g_strdup (filename != NULL && *filename != '\0' ? filename : "attachment");
  if (content_type != NULL && strchr (content_type, '/') != NULL)
    a->type = g_ascii_strdown (content_type, -1);
  else
    a->type = guess_type (a->name, data);
  a->data = g_bytes_ref (data);
  g_ptr_array_add (self->attachments, a);
  return self->attachments->len - 1;
}

void
lb_outgoing_message_remove_attachment (LbOutgoingMessage *self,
                                       guint              index)
{
  g_return_if_fail (LB_IS_OUTGOING_MESSAGE (self));
  g_return_if_fail (index < self->attachments->len);

  g_ptr_array_remove_index (self->attachments, index);
}

guint
lb_outgoing_message_get_n_attachments (LbOutgoingMessage *self)
{
  g_return_val_if_fail (LB_IS_OUTGOING_MESSAGE (self), 0);
  return self->attachments->len;
}

static Attachment *
get_attachment (LbOutgoingMessage *self,
                guint              index)
{
  g_return_val_if_fail (LB_IS_OUTGOING_MESSAGE (self), NULL);
  g_return_val_if_fail (index < self->attachments->len, NULL);
  return g_ptr_array_index (self->attachments, index);
}

const char *
lb_outgoing_message_get_attachment_name (LbOutgoingMessage *self,
                                         guint              index)
{
  Attachment *a = get_attachment (self, index);

  return a != NULL ? a->name : NULL;
}

const char *
lb_outgoing_message_get_attachment_type (LbOutgoingMessage *self,
                                         guint              index)
{
  Attachment *a = get_attachment (self, index);

  return a != NULL ? a->type : NULL;
}

GBytes *
lb_outgoing_message_get_attachment_data (LbOutgoingMessage *self,
                                         guint              index)
{
  Attachment *a = get_attachment (self, index);

  return a != NULL ? a->data : NULL;
}

/* ---- checks and the envelope ------------------------------------------ */

static gboolean
check_field (const char *text,
             guint      *count,
             GError    **error)
{
  g_autoptr(GPtrArray) mailboxes = parse_mailboxes (text);

  for (guint i = 0; i < mailboxes->len; i++)
    {
      Mailbox *m = g_ptr_array_index (mailboxes, i);

      if (!m->valid)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not an email address"), m->text);
          return FALSE;
        }
    }
  if (count != NULL)
    *count += mailboxes->len;
  return TRUE;
}

gboolean
lb_outgoing_message_check (LbOutgoingMessage *self,
                           GError           **error)
{
  guint recipients = 0;

  g_return_val_if_fail (LB_IS_OUTGOING_MESSAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->from_address == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("The message has no sender: choose the account to send it from"));
      return FALSE;
    }
  if (!is_valid_address (self->from_address))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an email address"), self->from_address);
      return FALSE;
    }

  if (!check_field (self->to, &recipients, error) ||
      !check_field (self->cc, &recipients, error) ||
      !check_field (self->bcc, &recipients, error) ||
      !check_field (self->reply_to, NULL, error))
    return FALSE;

  if (recipients == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Add at least one recipient"));
      return FALSE;
    }
  return TRUE;
}

static void
add_recipients (GPtrArray  *out,
                GHashTable *seen,
                const char *text)
{
  g_autoptr(GPtrArray) mailboxes = parse_mailboxes (text);

  for (guint i = 0; i < mailboxes->len; i++)
    {
      Mailbox *m = g_ptr_array_index (mailboxes, i);
      char *ascii;
      char *key;

      if (!m->valid)
        continue;
      ascii = addr_to_ascii (m->addr);
      key = g_utf8_casefold (ascii, -1);
      if (g_hash_table_contains (seen, key))
        {
          g_free (key);
          g_free (ascii);
          continue;
        }
      g_hash_table_add (seen, key);
      g_ptr_array_add (out, ascii);
    }
}

char **
lb_outgoing_message_dup_recipients (LbOutgoingMessage *self)
{
  GPtrArray *out;
  g_autoptr(GHashTable) seen = NULL;

  g_return_val_if_fail (LB_IS_OUTGOING_MESSAGE (self), NULL);

  out = g_ptr_array_new ();
  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  add_recipients (out, seen, self->to);
  add_recipients (out, seen, self->cc);
  add_recipients (out, seen, self->bcc);
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (out, FALSE);
}

/* ---- "the attachment is missing" ------------------------------------- */

static const char * const attachment_words[] = {
  "attach",      /* attach, attached, attachment, attaching */
  "enclosed",
  "enclosing",
  "вложени",     /* вложение, во вложении */
  "вложил",
  "вложен",      /* вложенный файл */
  "прикреп",     /* прикрепил, прикреплённый */
  "приложени",   /* в приложении */
  "приложил",
  "прилага",     /* прилагаю */
};

gboolean
lb_outgoing_mentions_attachment (const char *line,
                                 gssize      len)
{
  g_autofree char *lower = NULL;

  if (line == NULL)
    return FALSE;
  if (len < 0)
    len = strlen (line);
  if (!g_utf8_validate (line, len, NULL))
    return FALSE;
  lower = g_utf8_strdown (line, len);

  for (guint i = 0; i < G_N_ELEMENTS (attachment_words); i++)
    {
      for (const char *p = strstr (lower, attachment_words[i]); p != NULL;
           p = strstr (p + 1, attachment_words[i]))
        {
          /* at the start of a word */
          if (p > lower)
            {
              const char *prev = g_utf8_find_prev_char (lower, p);

              if (prev != NULL && g_unichar_isalnum (g_utf8_get_char (prev)))
                continue;
            }
          return TRUE;
        }
    }
  return FALSE;
}

static gboolean
is_forward_marker (const char *line,
                   gsize       len)
{
  return len >= 8 && strncmp (line, "--------", 8) == 0;
}

gboolean
lb_outgoing_message_lacks_attachment (LbOutgoingMessage *self)
{
  const char *p;

  g_return_val_if_fail (LB_IS_OUTGOING_MESSAGE (self), FALSE);

  if (self->attachments->len > 0 || self->body == NULL)
    return FALSE;

  p = self->body;
  while (*p != '\0')
    {
      const char *end = strchr (p, '\n');
      gsize len = end != NULL ? (gsize) (end - p) : strlen (p);
      const char *q = p;

      while (q < p + len && (*q == ' ' || *q == '\t'))
        q++;

      /* the signature and a forwarded message are not the user's words */
      if ((len == 3 && strncmp (p, "-- ", 3) == 0) || (len == 2 && strncmp (p, "--", 2) == 0) ||
          is_forward_marker (q, p + len - q))
        break;
      /* quoted lines and a reply's attribution line are not either */
      if (q < p + len && *q != '>' && !lb_mime_is_attribution (p, len) &&
          lb_outgoing_mentions_attachment (p, len))
        return TRUE;
      p = end != NULL ? end + 1 : p + len;
    }
  return FALSE;
}

/* ---- format=flowed ----------------------------------------------------- */

static gboolean
is_stuffing_needed (const char *chunk)
{
  return chunk[0] == ' ' || chunk[0] == '>' || g_str_has_prefix (chunk, "From ");
}

/* Where to end the next line of @text (of @width characters at most when
 * it can): after a run of spaces, never inside a word, and never so that
 * a line is only the signature separator. Returns the byte length. */
static gsize
find_break (const char *text,
            guint       width)
{
  gsize best = 0;
  gsize after_width = 0;
  guint chars = 0;
  gboolean seen_word = FALSE;
  const char *p;

  for (p = text; *p != '\0'; p = g_utf8_next_char (p), chars++)
    {
      if (*p != ' ')
        {
          seen_word = TRUE;
          continue;
        }
      if (p[1] == ' ' || p[1] == '\0' || !seen_word)
        continue;
      /* a break after this space: the line is text[0 .. p + 1) */
      {
        gsize len = p + 1 - text;

        if (len == 3 && strncmp (text, "-- ", 3) == 0)
          continue;
        if (strcmp (p + 1, "-- ") == 0)
          continue;
        if (chars + 1 <= width)
          best = len;
        else
          {
            after_width = len;
            break;
          }
      }
    }

  if (best > 0)
    return best;
  if (after_width > 0)
    return after_width;
  return strlen (text);
}

static void
append_line (GString    *out,
             guint       depth,
             const char *chunk,
             gsize       len)
{
  for (guint i = 0; i < depth; i++)
    g_string_append_c (out, '>');
  if (depth > 0 && len > 0)
    g_string_append_c (out, ' ');
  else if (depth == 0 && len > 0 && is_stuffing_needed (chunk))
    g_string_append_c (out, ' ');
  g_string_append_len (out, chunk, len);
  g_string_append_c (out, '\n');
}

/* whether @text has @width characters at most (without counting them
 * all: a pasted line can be long) */
static gboolean
fits (const char *text,
      guint       width)
{
  guint chars = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (++chars > width)
      return FALSE;
  return TRUE;
}

static void
encode_line (GString    *out,
             const char *line,
             gsize       len)
{
  g_autofree char *copy = g_strndup (line, len);
  const char *content;
  guint depth = 0;
  guint width;
  gsize content_len;

  if (strcmp (copy, "-- ") == 0)
    {
      g_string_append (out, "-- \n");
      return;
    }

  while (copy[depth] == '>')
    depth++;
  content = copy + depth;
  if (depth > 0 && *content == ' ')
    content++;
  content_len = strlen (content);

  if (content_len == 0)
    {
      append_line (out, depth, "", 0);
      return;
    }

  width = depth > 0 ? depth + 1 : 0;
  width = width + 20 < FLOWED_WIDTH ? FLOWED_WIDTH - width : 20;

  while (*content != '\0')
    {
      /* a stuffed line has a space more */
      guint room = depth == 0 && is_stuffing_needed (content) ? width - 1 : width;
      gsize n = fits (content, room) ? strlen (content) : find_break (content, room);

      append_line (out, depth, content, n);
      content += n;
      if (*content == '\0' && content[-1] == ' ')
        /* typed with trailing spaces: an empty line closes the paragraph */
        append_line (out, depth, "", 0);
    }
}

char *
lb_flowed_encode (const char *text)
{
  GString *out;
  const char *p;

  g_return_val_if_fail (text != NULL, NULL);

  out = g_string_sized_new (strlen (text) + strlen (text) / 16 + 2);
  if (*text == '\0')
    return g_string_free (out, FALSE);

  p = text;
  for (;;)
    {
      const char *end = strchr (p, '\n');
      gsize len = end != NULL ? (gsize) (end - p) : strlen (p);

      if (len > 0 && p[len - 1] == '\r')
        len--;
      encode_line (out, p, len);
      if (end == NULL)
        break;
      p = end + 1;
    }
  return g_string_free (out, FALSE);
}

typedef struct
{
  GString *out;
  GString *para;
  guint    depth;
  gboolean open;
  gboolean any;
} Flow;

static void
flow_close (Flow *f)
{
  if (!f->open)
    return;
  if (f->any)
    g_string_append_c (f->out, '\n');
  f->any = TRUE;
  for (guint i = 0; i < f->depth; i++)
    g_string_append_c (f->out, '>');
  if (f->depth > 0 && f->para->len > 0)
    g_string_append_c (f->out, ' ');
  g_string_append_len (f->out, f->para->str, f->para->len);
  g_string_truncate (f->para, 0);
  f->open = FALSE;
}

char *
lb_flowed_decode (const char *text,
                  gboolean    delsp)
{
  Flow f = { NULL, NULL, 0, FALSE, FALSE };
  const char *p;

  g_return_val_if_fail (text != NULL, NULL);

  f.out = g_string_sized_new (strlen (text));
  f.para = g_string_new (NULL);

  p = text;
  while (*p != '\0')
    {
      const char *end = strchr (p, '\n');
      gsize len = end != NULL ? (gsize) (end - p) : strlen (p);
      const char *rest;
      gsize rest_len;
      guint depth = 0;
      gboolean sig;
      gboolean flowed;

      if (len > 0 && p[len - 1] == '\r')
        len--;

      while (depth < len && p[depth] == '>')
        depth++;
      rest = p + depth;
      rest_len = len - depth;
      if (rest_len > 0 && *rest == ' ')
        {
          rest++;
          rest_len--;
        }
      sig = depth == 0 && len == 3 && strncmp (p, "-- ", 3) == 0;
      flowed = !sig && rest_len > 0 && rest[rest_len - 1] == ' ';

      if (f.open && (sig || f.depth != depth))
        flow_close (&f);
      if (!f.open)
        {
          f.open = TRUE;
          f.depth = depth;
        }
      if (flowed && delsp)
        rest_len--;
      g_string_append_len (f.para, rest, rest_len);
      if (!flowed)
        flow_close (&f);

      if (end == NULL)
        break;
      p = end + 1;
    }
  flow_close (&f);

  g_string_free (f.para, TRUE);
  return g_string_free (f.out, FALSE);
}

/* ---- headers ------------------------------------------------------------
 *
 * The header values are encoded here rather than by GMime: GMime 3.2
 * ends each base64 encoded-word it makes with padding, and its own
 * decoder joins the words of a header before decoding them, so a long
 * subject it wrote comes back cut short. Here a base64 word other than
 * the last holds a multiple of three bytes (no padding), whole UTF-8
 * characters only; where no such cut exists the word is made with the Q
 * encoding. Every decoder, GMime's included, reads them back whole. */

#define B_WORD_BYTES 39   /* "=?UTF-8?B?" + 52 + "?=": 64 characters */
#define Q_WORD_CHARS 52

static gboolean
is_q_safe (guchar c)
{
  return g_ascii_isalnum (c) || c == '!' || c == '*' || c == '+' || c == '-' || c == '/';
}

static void
append_b_word (GPtrArray  *tokens,
               const char *text,
               gsize       len)
{
  g_autofree char *b64 = g_base64_encode ((const guchar *) text, len);

  g_ptr_array_add (tokens, g_strdup_printf ("=?UTF-8?B?%s?=", b64));
}

/* a Q word of as much of @text as fits; returns the bytes taken */
static gsize
append_q_word (GPtrArray  *tokens,
               const char *text)
{
  GString *word = g_string_new ("=?UTF-8?Q?");
  const char *p = text;

  while (*p != '\0')
    {
      const char *next = g_utf8_next_char (p);
      gsize cost = 0;

      for (const char *q = p; q < next; q++)
        cost += is_q_safe ((guchar) *q) || *q == ' ' ? 1 : 3;
      if (word->len - 10 + cost > Q_WORD_CHARS && p > text)
        break;
      for (const char *q = p; q < next; q++)
        {
          if (*q == ' ')
            g_string_append_c (word, '_');
          else if (is_q_safe ((guchar) *q))
            g_string_append_c (word, *q);
          else
            g_string_append_printf (word, "=%02X", (guint) (guchar) *q);
        }
      p = next;
    }
  g_string_append (word, "?=");
  g_ptr_array_add (tokens, g_string_free (word, FALSE));
  return p - text;
}

/* @text (UTF-8) as encoded-words */
static void
append_encoded_words (GPtrArray  *tokens,
                      const char *text)
{
  const char *p = text;

  while (*p != '\0')
    {
      gsize rest = strlen (p);
      gsize best = 0;

      if (rest <= B_WORD_BYTES)
        {
          append_b_word (tokens, p, rest);
          return;
        }
      for (const char *q = g_utf8_next_char (p); q <= p + B_WORD_BYTES; q = g_utf8_next_char (q))
        if ((q - p) % 3 == 0)
          best = q - p;
      if (best > 0)
        {
          append_b_word (tokens, p, best);
          p += best;
        }
      else
        p += append_q_word (tokens, p);
    }
}

static gboolean
is_printable_ascii (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || (guchar) *p >= 0x7f)
      return FALSE;
  return strstr (text, "=?") == NULL;
}

/* a word folding cannot break, so long that its line would pass the
 * 998 characters of RFC 5322 2.1.1 (servers refuse or cut those) */
#define LONGEST_WORD 900

static gboolean
has_long_word (const char *text)
{
  gsize run = 0;

  for (const char *p = text; *p != '\0'; p++)
    {
      run = *p == ' ' ? 0 : run + 1;
      if (run > LONGEST_WORD)
        return TRUE;
    }
  return FALSE;
}

/* unstructured text (the subject): as it is when it can be, split at its
 * spaces so that folding gives it back */
static void
append_text_tokens (GPtrArray  *tokens,
                    const char *text)
{
  if (is_printable_ascii (text) && !has_long_word (text))
    {
      g_auto(GStrv) words = g_strsplit (text, " ", -1);

      for (guint i = 0; words[i] != NULL; i++)
        g_ptr_array_add (tokens, g_strdup (words[i]));
    }
  else
    append_encoded_words (tokens, text);
}

static gboolean
is_atom_text (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr (" !#$%&'*+-/=?^_`{|}~", *p) == NULL)
      return FALSE;
  return TRUE;
}

/* a display name as a phrase */
static void
append_phrase_tokens (GPtrArray  *tokens,
                      const char *name)
{
  if (is_printable_ascii (name) && is_atom_text (name) && !has_long_word (name))
    {
      g_auto(GStrv) words = g_strsplit (name, " ", -1);

      for (guint i = 0; words[i] != NULL; i++)
        if (*words[i] != '\0')
          g_ptr_array_add (tokens, g_strdup (words[i]));
    }
  else if (is_printable_ascii (name) && strlen (name) <= LONGEST_WORD)
    g_ptr_array_add (tokens, g_mime_utils_quote_string (name));
  else
    append_encoded_words (tokens, name);
}

/* the raw value of a header: @tokens separated by spaces, folded to
 * lines of 78 characters where they allow */
static char *
fold_tokens (const char *name,
             GPtrArray  *tokens)
{
  GString *out = g_string_new (NULL);
  gsize column = strlen (name) + 1;

  for (guint i = 0; i < tokens->len; i++)
    {
      const char *token = g_ptr_array_index (tokens, i);
      gsize len = strlen (token);

      if (i > 0 && column + 1 + len > FLOWED_WIDTH)
        {
          g_string_append (out, "\n ");
          column = 1;
        }
      else
        {
          g_string_append_c (out, ' ');
          column++;
        }
      /* nothing typed may end the header early */
      for (const char *p = token; *p != '\0'; p++)
        g_string_append_c (out, (guchar) *p < 0x20 || *p == 0x7f ? ' ' : *p);
      column += len;
    }
  g_string_append_c (out, '\n');
  return g_string_free (out, FALSE);
}

static void
set_raw_header (GMimeObject *object,
                const char  *name,
                GPtrArray   *tokens)
{
  GMimeHeaderList *list = g_mime_object_get_header_list (object);
  g_autofree char *raw = fold_tokens (name, tokens);
  GMimeHeader *header;

  g_mime_object_append_header (object, name, "", NULL);
  header = g_mime_header_list_get_header (list, name);
  g_mime_header_set_raw_value (header, raw);
}

static void
append_mailbox_tokens (GPtrArray  *tokens,
                       const char *name,
                       const char *addr,
                       gboolean    last)
{
  if (name != NULL && *name != '\0')
    {
      append_phrase_tokens (tokens, name);
      g_ptr_array_add (tokens, g_strdup_printf ("<%s>%s", addr, last ? "" : ","));
    }
  else
    g_ptr_array_add (tokens, g_strdup_printf ("%s%s", addr, last ? "" : ","));
}

static void
set_address_header (GMimeObject *object,
                    const char  *header,
                    const char  *text)
{
  g_autoptr(GPtrArray) mailboxes = parse_mailboxes (text);
  g_autoptr(GPtrArray) tokens = NULL;

  if (mailboxes->len == 0)
    return;
  tokens = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < mailboxes->len; i++)
    {
      Mailbox *m = g_ptr_array_index (mailboxes, i);
      gboolean last = i + 1 == mailboxes->len;

      if (m->valid)
        {
          g_autofree char *addr = addr_to_ascii (m->addr);

          append_mailbox_tokens (tokens, m->name, addr, last);
        }
      else if (is_printable_ascii (m->text))
        /* kept as typed, for the draft */
        g_ptr_array_add (tokens, g_strdup_printf ("%s%s", m->text, last ? "" : ","));
      else
        {
          append_encoded_words (tokens, m->text);
          if (!last)
            g_ptr_array_add (tokens, g_strdup (","));
        }
    }
  set_raw_header (object, header, tokens);
}

/* ---- the bytes --------------------------------------------------------- */

static char *
random_hex (guint n_bytes)
{
  GString *out = g_string_sized_new (n_bytes * 2);

  for (guint i = 0; i < n_bytes; i++)
    g_string_append_printf (out, "%02x", (guint) g_random_int_range (0, 256));
  return g_string_free (out, FALSE);
}

static char *
make_message_id (const char *from_address)
{
  const char *at = from_address != NULL ? strrchr (from_address, '@') : NULL;
  g_autofree char *domain = NULL;
  g_autofree char *random = random_hex (16);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (at != NULL && at[1] != '\0' && at[1] != '[')
    domain = g_hostname_to_ascii (at + 1);
  if (domain == NULL || *domain == '\0' || strchr (domain, ' ') != NULL)
    {
      g_free (domain);
      domain = g_strdup ("localhost");
    }
  return g_strdup_printf ("%" G_GINT64_MODIFIER "x.%s@%s", now, random, domain);
}

/* what must not change from one call of to_bytes() to the next */
static void
ensure_fixed (LbOutgoingMessage *self)
{
  if (self->date == NULL)
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_local ();

      /* whole seconds: what the Date header can say */
      self->date = g_date_time_add (now, -(g_date_time_get_microsecond (now)));
    }
  if (self->message_id == NULL)
    self->message_id = make_message_id (self->from_address);
}

/* The multipart boundary comes from the Message-ID: a message read back
 * from its draft bytes gives the same bytes again. Nothing else holds
 * "--lb-" and those hex digits at the start of a line: base64 and
 * quoted-printable cannot, a forwarded message could only if it were
 * this very one. */
static char *
make_boundary (const char *message_id)
{
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, message_id, -1);

  sum[24] = '\0';
  return g_strconcat ("lb-", sum, NULL);
}

static void
set_id_header (GMimeObject *object,
               const char  *name,
               const char  *ids)
{
  g_auto(GStrv) words = NULL;
  GString *value;

  if (ids == NULL)
    return;
  value = g_string_new (NULL);
  words = g_strsplit (ids, " ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (*words[i] == '\0')
        continue;
      if (value->len > 0)
        g_string_append_c (value, ' ');
      g_string_append_printf (value, "<%s>", words[i]);
    }
  if (value->len > 0)
    g_mime_object_set_header (object, name, value->str, NULL);
  g_string_free (value, TRUE);
}

static gssize
longest_line (const char *text,
              gsize       len)
{
  gsize longest = 0;
  gsize current = 0;

  for (gsize i = 0; i < len; i++)
    {
      if (text[i] == '\n')
        current = 0;
      else if (++current > longest)
        longest = current;
    }
  return longest;
}

static GMimeDataWrapper *
wrap_data (const void *data,
           gsize       len)
{
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer (data != NULL ? data : "", len);
  GMimeDataWrapper *wrapper = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);

  g_object_unref (stream);
  return wrapper;
}

static GMimeObject *
make_text_part (LbOutgoingMessage *self)
{
  g_autofree char *text = lb_flowed_encode (or_empty (self->body));
  gsize len = strlen (text);
  GMimeTextPart *part = g_mime_text_part_new_with_subtype ("plain");
  GMimeDataWrapper *wrapper = wrap_data (text, len);

  g_mime_part_set_content (GMIME_PART (part), wrapper);
  g_object_unref (wrapper);
  g_mime_text_part_set_charset (part, "utf-8");
  g_mime_object_set_content_type_parameter (GMIME_OBJECT (part), "format", "flowed");
  if (is_ascii (text, len) && longest_line (text, len) <= MAX_LINE)
    g_mime_part_set_content_encoding (GMIME_PART (part), GMIME_CONTENT_ENCODING_7BIT);
  else
    g_mime_part_set_content_encoding (GMIME_PART (part), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  return GMIME_OBJECT (part);
}

static void
set_param_charset (GMimeParamList *list,
                   const char     *name)
{
  GMimeParam *param = list != NULL ? g_mime_param_list_get_parameter (list, name) : NULL;

  if (param != NULL)
    g_mime_param_set_charset (param, "utf-8");
}

static GMimeObject *
make_attachment_part (Attachment *a)
{
  gsize len;
  const char *data = g_bytes_get_data (a->data, &len);
  GMimeContentType *type = g_mime_content_type_parse (NULL, a->type);
  GMimePart *part;
  GMimeDataWrapper *wrapper;
  GMimeContentDisposition *disposition;
  g_autofree char *name = g_strdup (a->name);

  /* a file's (or a forwarded attachment's) name may hold a line break,
   * which GMime would write as it is, ending the header */
  for (char *p = name; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      *p = '_';

  if (g_mime_content_type_is_type (type, "message", "rfc822"))
    {
      GMimeContentEncoding encoding;

      /* as it is: a message/rfc822 part may not be encoded (RFC 2046) */
      part = g_mime_part_new_with_type ("message", "rfc822");
      if ((len > 0 && memchr (data, '\0', len) != NULL) || longest_line (data, len) > MAX_LINE)
        encoding = GMIME_CONTENT_ENCODING_BINARY;
      else if (!is_ascii (data, len))
        encoding = GMIME_CONTENT_ENCODING_8BIT;
      else
        encoding = GMIME_CONTENT_ENCODING_7BIT;
      g_mime_part_set_content_encoding (part, encoding);
    }
  else
    {
      part = g_mime_part_new ();
      g_mime_object_set_content_type (GMIME_OBJECT (part), type);
      g_mime_part_set_content_encoding (part, GMIME_CONTENT_ENCODING_BASE64);
    }
  g_object_unref (type);

  wrapper = wrap_data (data, len);
  g_mime_part_set_content (part, wrapper);
  g_object_unref (wrapper);

  g_mime_object_set_disposition (GMIME_OBJECT (part), GMIME_DISPOSITION_ATTACHMENT);
  g_mime_part_set_filename (part, name);
  disposition = g_mime_object_get_content_disposition (GMIME_OBJECT (part));
  if (disposition != NULL)
    set_param_charset (g_mime_content_disposition_get_parameters (disposition), "filename");
  set_param_charset (g_mime_content_type_get_parameters (g_mime_object_get_content_type (GMIME_OBJECT (part))),
                     "name");
  return GMIME_OBJECT (part);
}

static GMimeMessage *
build_message (LbOutgoingMessage *self,
               LbOutgoingForm     form)
{
  GMimeMessage *message = g_mime_message_new (FALSE);
  GMimeObject *object = GMIME_OBJECT (message);
  GMimeObject *body;

  if (self->from_address != NULL)
    {
      g_autoptr(GPtrArray) tokens = g_ptr_array_new_with_free_func (g_free);
      g_autofree char *addr = is_valid_address (self->from_address) ? addr_to_ascii (self->from_address)
                                                                    : g_strdup (self->from_address);

      append_mailbox_tokens (tokens, self->from_name, addr, TRUE);
      set_raw_header (object, "From", tokens);
    }
  set_address_header (object, "Reply-To", self->reply_to);
  set_address_header (object, "To", self->to);
  set_address_header (object, "Cc", self->cc);
  if (form == LB_OUTGOING_FORM_DRAFT)
    set_address_header (object, "Bcc", self->bcc);
  {
    g_autoptr(GPtrArray) tokens = g_ptr_array_new_with_free_func (g_free);

    append_text_tokens (tokens, or_empty (self->subject));
    set_raw_header (object, "Subject", tokens);
  }
  g_mime_message_set_date (message, self->date);
  g_mime_message_set_message_id (message, self->message_id);
  set_id_header (object, "In-Reply-To", self->in_reply_to);
  set_id_header (object, "References", self->references);
  set_id_header (object, "X-Forwarded-Message-Id", self->forwarded_id);
  g_mime_object_set_header (object, "User-Agent", PACKAGE_NAME "/" PACKAGE_VERSION, NULL);
  g_mime_object_set_header (object, "MIME-Version", "1.0", NULL);

  body = make_text_part (self);
  if (self->attachments->len > 0)
    {
      GMimeMultipart *mixed = g_mime_multipart_new_with_subtype ("mixed");
      g_autofree char *boundary = make_boundary (self->message_id);

      g_mime_multipart_set_boundary (mixed, boundary);
      g_mime_multipart_add (mixed, body);
      g_object_unref (body);
      for (guint i = 0; i < self->attachments->len; i++)
        {
          GMimeObject *part = make_attachment_part (g_ptr_array_index (self->attachments, i));

          g_mime_multipart_add (mixed, part);
          g_object_unref (part);
        }
      body = GMIME_OBJECT (mixed);
    }
  g_mime_message_set_mime_part (message, body);
  g_object_unref (body);

  return message;
}

static GMimeFormatOptions *
make_format_options (void)
{
  GMimeFormatOptions *options = g_mime_format_options_new ();

  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_UNIX);
  g_mime_format_options_set_param_encoding_method (options, GMIME_PARAM_ENCODING_METHOD_RFC2231);
  return options;
}

/* @data with every lone LF made CRLF */
static GBytes *
to_crlf (const guint8 *data,
         gsize         len)
{
  GByteArray *out = g_byte_array_sized_new (len + len / 32 + 2);
  static const guint8 crlf[] = { '\r', '\n' };

  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
        g_byte_array_append (out, crlf, 2);
      else
        g_byte_array_append (out, data + i, 1);
    }
  if (out->len < 2 || out->data[out->len - 1] != '\n')
    g_byte_array_append (out, crlf, 2);
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
write_object (GMimeObject *object)
{
  GMimeFormatOptions *options = make_format_options ();
  GMimeStream *stream = g_mime_stream_mem_new ();
  GByteArray *array;
  GBytes *bytes;

  g_mime_object_write_to_stream (object, options, stream);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
  bytes = to_crlf (array->data, array->len);
  g_object_unref (stream);
  g_mime_format_options_free (options);
  return bytes;
}

GBytes *
lb_outgoing_message_to_bytes (LbOutgoingMessage *self,
                              LbOutgoingForm     form)
{
  GMimeMessage *message;
  GBytes *bytes;

  g_return_val_if_fail (LB_IS_OUTGOING_MESSAGE (self), NULL);

  ensure_fixed (self);
  message = build_message (self, form);
  bytes = write_object (GMIME_OBJECT (message));
  g_object_unref (message);
  return bytes;
}

/* ---- reading a message back ------------------------------------------- */

static gboolean
is_blank_data (const guint8 *data,
               gsize         len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isspace (data[i]))
      return FALSE;
  return TRUE;
}

static GMimeMessage *
parse_message (GBytes  *raw,
               GError **error)
{
  gsize len = 0;
  const guint8 *data = raw != NULL ? g_bytes_get_data (raw, &len) : NULL;
  GMimeStream *stream;
  GMimeParser *parser;
  GMimeMessage *message;

  if (data == NULL || is_blank_data (data, len))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The message is empty"));
      return NULL;
    }

  stream = g_mime_stream_mem_new_with_buffer ((const char *) data, len);
  parser = g_mime_parser_new_with_stream (stream);
  message = g_mime_parser_construct_message (parser, NULL);
  g_object_unref (parser);
  g_object_unref (stream);

  if (message == NULL)
    {
      /* not even a header GMime can make out: the bytes as the text */
      g_autofree char *text = g_utf8_make_valid ((const char *) data, len);
      GMimeTextPart *part = g_mime_text_part_new_with_subtype ("plain");
      GMimeDataWrapper *wrapper = wrap_data (text, strlen (text));

      g_mime_part_set_content (GMIME_PART (part), wrapper);
      g_mime_text_part_set_charset (part, "utf-8");
      message = g_mime_message_new (FALSE);
      g_mime_message_set_mime_part (message, GMIME_OBJECT (part));
      g_object_unref (wrapper);
      g_object_unref (part);
    }
  return message;
}

static void
append_list (GString             *out,
             InternetAddressList *list,
             guint                depth)
{
  int n = list != NULL ? internet_address_list_length (list) : 0;

  for (int i = 0; i < n && depth < MAX_DEPTH; i++)
    {
      InternetAddress *ia = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_GROUP (ia))
        append_list (out, internet_address_group_get_members (INTERNET_ADDRESS_GROUP (ia)), depth + 1);
      else if (INTERNET_ADDRESS_IS_MAILBOX (ia))
        {
          g_autofree char *addr =
            addr_to_unicode (internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (ia)));
          const char *name = internet_address_get_name (ia);

          lb_mime_append_address (out, name, addr);
        }
    }
}

static char *
addresses_text (GMimeMessage     *message,
                GMimeAddressType  type)
{
  GString *out = g_string_new (NULL);

  append_list (out, g_mime_message_get_addresses (message, type), 0);
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

static char *
header_ids (GMimeMessage *message,
            const char   *name,
            gboolean      all)
{
  const char *raw = g_mime_object_get_header (GMIME_OBJECT (message), name);
  GMimeReferences *refs;
  GString *out;

  if (raw == NULL)
    return NULL;
  refs = g_mime_references_parse (NULL, raw);
  if (refs == NULL)
    return NULL;
  out = g_string_new (NULL);
  for (int i = 0; i < g_mime_references_length (refs); i++)
    {
      const char *raw_id = g_mime_references_get_message_id (refs, i);
      g_autofree char *id = raw_id != NULL && g_utf8_validate (raw_id, -1, NULL) ? clean_id (raw_id) : NULL;

      if (id == NULL)
        continue;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, id);
      if (!all)
        break;
    }
  g_mime_references_free (refs);
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

static GBytes *
part_data (GMimePart *part)
{
  GMimeDataWrapper *wrapper = g_mime_part_get_content (part);
  GMimeStream *stream;
  GByteArray *array;
  GBytes *bytes;

  if (wrapper == NULL)
    return g_bytes_new (NULL, 0);
  stream = g_mime_stream_mem_new ();
  g_mime_data_wrapper_write_to_stream (wrapper, stream);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
  bytes = g_bytes_new (array->data, array->len);
  g_object_unref (stream);
  return bytes;
}

/* a text part as the user would have typed it */
static char *
part_body (GMimePart *part)
{
  GMimeContentType *type = g_mime_object_get_content_type (GMIME_OBJECT (part));
  g_autofree char *raw = GMIME_IS_TEXT_PART (part) ? g_mime_text_part_get_text (GMIME_TEXT_PART (part)) : NULL;
  g_autofree char *valid = NULL;
  const char *format;
  const char *delsp;

  if (raw == NULL)
    return g_strdup ("");
  valid = g_utf8_make_valid (raw, -1);

  if (g_mime_content_type_is_type (type, "text", "html"))
    {
      g_autofree char *plain = lb_mime_html_to_plain_text (valid, -1);

      return lb_flowed_decode (plain, FALSE);
    }

  format = g_mime_object_get_content_type_parameter (GMIME_OBJECT (part), "format");
  delsp = g_mime_object_get_content_type_parameter (GMIME_OBJECT (part), "delsp");
  if (format != NULL && g_ascii_strcasecmp (format, "flowed") == 0)
    return lb_flowed_decode (valid, delsp != NULL && g_ascii_strcasecmp (delsp, "yes") == 0);

  /* fixed lines: only the line ends change */
  {
    GString *out = g_string_sized_new (strlen (valid));

    for (const char *p = valid; *p != '\0'; p++)
      if (*p != '\r' || p[1] != '\n')
        g_string_append_c (out, *p);
    if (out->len > 0 && out->str[out->len - 1] == '\n')
      g_string_truncate (out, out->len - 1);
    return g_string_free (out, FALSE);
  }
}

static char *
file_name_for (const char *subject)
{
  g_autofree char *name = g_strdup (subject != NULL ? subject : "");

  g_strdelimit (name, "/\\:*?\"<>|\r\n\t", '_');
  g_strstrip (name);
  if (*name == '\0')
    return g_strdup (_("Forwarded message.eml"));
  /* a long subject makes an unwieldy name */
  if (g_utf8_strlen (name, -1) > 100)
    *g_utf8_offset_to_pointer (name, 100) = '\0';
  return g_strconcat (name, ".eml", NULL);
}

typedef struct
{
  LbOutgoingMessage *self;
  GString           *body;
  gboolean           have_body;
} Read;

static void read_object (Read        *r,
                         GMimeObject *object,
                         guint        depth);

static void
add_read_attachment (Read       *r,
                     const char *name,
                     const char *type,
                     GBytes     *data)
{
  Attachment *a = g_new0 (Attachment, 1);

  a->name = g_strdup (name != NULL && *name != '\0' ? name : "attachment");
  a->type = g_ascii_strdown (type, -1);
  a->data = g_bytes_ref (data);
  g_ptr_array_add (r->self->attachments, a);
}

static GMimeObject *
first_leaf (GMimeObject *object)
{
  for (guint depth = 0; depth < MAX_DEPTH && GMIME_IS_MULTIPART (object); depth++)
    {
      if (g_mime_multipart_get_count (GMIME_MULTIPART (object)) <= 0)
        return NULL;
      object = g_mime_multipart_get_part (GMIME_MULTIPART (object), 0);
    }
  return GMIME_IS_PART (object) ? object : NULL;
}

static void
read_alternative (Read           *r,
                  GMimeMultipart *multipart,
                  guint           depth)
{
  int count = g_mime_multipart_get_count (multipart);
  int plain = -1;
  int html = -1;

  for (int i = 0; i < count; i++)
    {
      GMimeObject *leaf = first_leaf (g_mime_multipart_get_part (multipart, i));
      GMimeContentType *type = leaf != NULL ? g_mime_object_get_content_type (leaf) : NULL;

      if (type == NULL)
        continue;
      if (plain < 0 && g_mime_content_type_is_type (type, "text", "plain"))
        plain = i;
      else if (g_mime_content_type_is_type (type, "text", "html"))
        html = i;
    }
  if (plain >= 0)
    read_object (r, g_mime_multipart_get_part (multipart, plain), depth + 1);
  else if (html >= 0)
    read_object (r, g_mime_multipart_get_part (multipart, html), depth + 1);
  else if (count > 0)
    read_object (r, g_mime_multipart_get_part (multipart, 0), depth + 1);
}

static void
read_object (Read        *r,
             GMimeObject *object,
             guint        depth)
{
  GMimeContentType *type;

  if (object == NULL || depth > MAX_DEPTH)
    return;
  type = g_mime_object_get_content_type (object);

  if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));
      GMimeContentDisposition *disposition = g_mime_object_get_content_disposition (object);
      const char *name = disposition != NULL ? g_mime_content_disposition_get_parameter (disposition, "filename") : NULL;
      g_autofree char *made = NULL;
      g_autoptr(GBytes) data = NULL;

      if (name == NULL)
        name = g_mime_object_get_content_type_parameter (object, "name");
      if (name == NULL)
        name = made = file_name_for (inner != NULL ? g_mime_message_get_subject (inner) : NULL);
      data = inner != NULL ? write_object (GMIME_OBJECT (inner)) : g_bytes_new (NULL, 0);
      add_read_attachment (r, name, "message/rfc822", data);
      return;
    }

  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);

      if (type != NULL && g_mime_content_type_is_type (type, "multipart", "alternative"))
        {
          read_alternative (r, multipart, depth);
          return;
        }
      if (GMIME_IS_MULTIPART_SIGNED (object))
        {
          if (g_mime_multipart_get_count (multipart) > 0)
            read_object (r, g_mime_multipart_get_part (multipart, 0), depth + 1);
          return;
        }
      for (int i = 0; i < g_mime_multipart_get_count (multipart); i++)
        read_object (r, g_mime_multipart_get_part (multipart, i), depth + 1);
      return;
    }

  if (!GMIME_IS_PART (object))
    return;

  if (!g_mime_part_is_attachment (GMIME_PART (object)) && type != NULL &&
      (g_mime_content_type_is_type (type, "text", "plain") ||
       (!r->have_body && g_mime_content_type_is_type (type, "text", "html"))))
    {
      g_autofree char *text = part_body (GMIME_PART (object));

      /* more text after the first: what a reader shows below it */
      if (r->have_body && *text != '\0')
        g_string_append (r->body, "\n\n");
      g_string_append (r->body, text);
      r->have_body = TRUE;
      return;
    }

  {
    g_autoptr(GBytes) data = part_data (GMIME_PART (object));
    g_autofree char *mime = type != NULL ? g_mime_content_type_get_mime_type (type) : NULL;

    add_read_attachment (r, g_mime_part_get_filename (GMIME_PART (object)),
                         mime != NULL ? mime : "application/octet-stream", data);
  }
}

static char *
valid_or_null (const char *text)
{
  if (text == NULL || *text == '\0')
    return NULL;
  return g_utf8_make_valid (text, -1);
}

/* an address field of the summary (IDNA domains as sent) as typed */
static char *
unicode_field (const char *text)
{
  g_autoptr(GPtrArray) mailboxes = parse_mailboxes (text);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < mailboxes->len; i++)
    {
      Mailbox *m = g_ptr_array_index (mailboxes, i);

      if (m->valid)
        {
          g_autofree char *addr = addr_to_unicode (m->addr);

          lb_mime_append_address (out, m->name, addr);
        }
      else
        {
          if (out->len > 0)
            g_string_append (out, ", ");
          g_string_append (out, m->text);
        }
    }
  return take_field (out);
}

/* The fields of @message: the ones the message list shows from
 * @summary, which reads broken headers best; Reply-To and Bcc, which it
 * does not read, from GMime. */
static LbOutgoingMessage *
from_message (GMimeMessage     *message,
              LbMessageSummary *summary)
{
  LbOutgoingMessage *self = lb_outgoing_message_new ();
  GDateTime *date = g_mime_message_get_date (message);
  Read r = { self, g_string_new (NULL), FALSE };
  g_autoptr(GPtrArray) from = parse_mailboxes (summary->from);

  if (from->len > 0)
    {
      Mailbox *m = g_ptr_array_index (from, 0);
      g_autofree char *addr = addr_to_unicode (m->addr);

      lb_outgoing_message_set_from (self, m->name, addr);
    }
  self->reply_to = addresses_text (message, GMIME_ADDRESS_TYPE_REPLY_TO);
  self->to = unicode_field (summary->to);
  self->cc = unicode_field (summary->cc);
  self->bcc = addresses_text (message, GMIME_ADDRESS_TYPE_BCC);
  self->subject = valid_or_null (summary->subject);
  if (date != NULL)
    self->date = g_date_time_ref (date);
  self->message_id = clean_id (summary->message_id);
  self->in_reply_to = clean_id (summary->in_reply_to);
  self->references = header_ids (message, "References", TRUE);
  self->forwarded_id = header_ids (message, "X-Forwarded-Message-Id", FALSE);

  read_object (&r, g_mime_message_get_mime_part (message), 0);
  self->body = g_string_free (r.body, FALSE);
  if (*self->body == '\0')
    g_clear_pointer (&self->body, g_free);

  return self;
}

/* the message and its summary, or NULL with @error set */
static GMimeMessage *
read_original (GBytes            *raw,
               LbMessageSummary **summary,
               GError           **error)
{
  GMimeMessage *message = parse_message (raw, error);

  if (message == NULL)
    return NULL;
  *summary = lb_mime_summary_parse (raw, 0, NULL, error);
  if (*summary == NULL)
    {
      g_object_unref (message);
      return NULL;
    }
  return message;
}

LbOutgoingMessage *
lb_outgoing_message_new_from_bytes (GBytes  *raw,
                                    GError **error)
{
  g_autoptr(LbMessageSummary) summary = NULL;
  GMimeMessage *message;
  LbOutgoingMessage *self;

  g_return_val_if_fail (raw != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);


  message = read_original (raw, &summary, error);
  if (message == NULL)
    return NULL;
  self = from_message (message, summary);
  g_object_unref (message);
  return self;
}

/* ---- replies and forwards ---------------------------------------------- */

static gboolean
has_prefix_casefold (const char        *subject,
                     const char * const *prefixes)
{
  g_autofree char *folded = g_utf8_casefold (subject, -1);

  for (guint i = 0; prefixes[i] != NULL; i++)
    if (g_str_has_prefix (folded, prefixes[i]))
      return TRUE;
  return FALSE;
}

static char *
prefixed_subject (const char         *subject,
                  const char         *prefix,
                  const char * const *known)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (subject != NULL ? subject : ""));

  if (has_prefix_casefold (trimmed, known))
    return g_steal_pointer (&trimmed);
  return g_strconcat (prefix, trimmed, NULL);
}

/* an address as compared: domain in ASCII, case folded */
static char *
address_key (const char *addr)
{
  g_autofree char *ascii = addr_to_ascii (addr);

  return g_utf8_casefold (ascii, -1);
}

static GHashTable *
address_set (const char * const *addresses)
{
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++)
    if (*addresses[i] != '\0')
      g_hash_table_add (set, address_key (addresses[i]));
  return set;
}

/* the mailboxes of @text not in @skip (nor twice) as an address field,
 * adding them to @skip; NULL when none */
static void
append_mailboxes (GString    *out,
                  const char *text,
                  GHashTable *skip)
{
  g_autoptr(GPtrArray) mailboxes = parse_mailboxes (text);

  for (guint i = 0; i < mailboxes->len; i++)
    {
      Mailbox *m = g_ptr_array_index (mailboxes, i);
      char *key;

      if (!m->valid)
        continue;
      key = address_key (m->addr);
      if (g_hash_table_contains (skip, key))
        {
          g_free (key);
          continue;
        }
      g_hash_table_add (skip, key);
      lb_mime_append_address (out, m->name, m->addr);
    }
}

static gboolean
all_in_set (const char *text,
            GHashTable *set)
{
  g_autoptr(GPtrArray) mailboxes = parse_mailboxes (text);
  guint n = 0;

  for (guint i = 0; i < mailboxes->len; i++)
    {
      Mailbox *m = g_ptr_array_index (mailboxes, i);
      g_autofree char *key = NULL;

      if (!m->valid)
        continue;
      key = address_key (m->addr);
      if (!g_hash_table_contains (set, key))
        return FALSE;
      n++;
    }
  return n > 0;
}

/* the first mailbox's name, else its address */
static char *
sender_name (const char *from)
{
  g_autoptr(GPtrArray) mailboxes = parse_mailboxes (from);
  Mailbox *m;

  if (mailboxes->len == 0)
    return g_strdup (_("Unknown sender"));
  m = g_ptr_array_index (mailboxes, 0);
  return g_strdup (m->name != NULL ? m->name : m->addr);
}

static char *
format_date (gint64 date)
{
  g_autoptr(GDateTime) local = date > 0 ? g_date_time_new_from_unix_local (date) : NULL;

  if (local == NULL)
    return NULL;
  /* Translators: the date of the original in a reply's "On <date>, <name>
   * wrote:" line and a forward's header block; see g_date_time_format() */
  return g_date_time_format (local, _("%a, %b %-d, %Y at %H:%M"));
}

/* @text with "> " before each line, trailing spaces dropped */
static void
append_quoted (GString    *out,
               const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strchomp (lines[i]);

      if (*line == '\0')
        g_string_append (out, ">");
      else if (*line == '>')
        g_string_append_printf (out, ">%s", line);
      else
        g_string_append_printf (out, "> %s", line);
      if (lines[i + 1] != NULL)
        g_string_append_c (out, '\n');
    }
}

static char *
trimmed_references (const char *references,
                    const char *message_id)
{
  g_auto(GStrv) ids = NULL;
  g_autofree char *all = NULL;
  GString *out;
  guint n;

  if (references != NULL && message_id != NULL)
    all = g_strconcat (references, " ", message_id, NULL);
  else
    all = g_strdup (references != NULL ? references : message_id);
  if (all == NULL)
    return NULL;

  ids = g_strsplit (all, " ", -1);
  n = g_strv_length (ids);
  out = g_string_new (NULL);
  for (guint i = 0; i < n; i++)
    {
      /* the first (the thread's root) and the latest ones */
      if (n > MAX_REFERENCES && i > 0 && i < n - (MAX_REFERENCES - 1))
        continue;
      if (*ids[i] == '\0')
        continue;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, ids[i]);
    }
  return take_field (out);
}

static const char * const reply_prefixes[] = { "re:", "ha:", "отв:", "aw:", "sv:", NULL };
static const char * const forward_prefixes[] = { "fwd:", "fw:", NULL };

LbOutgoingMessage *
lb_outgoing_message_new_reply (GBytes             *original,
                               LbReplyMode         mode,
                               const char * const *own_addresses,
                               GError            **error)
{
  g_autoptr(LbMessageSummary) summary = NULL;
  g_autoptr(LbMimeText) text = NULL;
  g_autoptr(GHashTable) own = NULL;
  g_autoptr(GHashTable) taken = NULL;
  g_autofree char *reply_to = NULL;
  g_autofree char *name = NULL;
  g_autofree char *date = NULL;
  GMimeMessage *message;
  LbOutgoingMessage *self;
  const char *to_source;
  GString *field;
  GString *body;

  g_return_val_if_fail (original != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  message = read_original (original, &summary, error);
  if (message == NULL)
    return NULL;
  text = lb_mime_text_parse (original, error);
  if (text == NULL)
    {
      g_object_unref (message);
      return NULL;
    }
  reply_to = addresses_text (message, GMIME_ADDRESS_TYPE_REPLY_TO);
  g_object_unref (message);

  self = lb_outgoing_message_new ();
  own = address_set (own_addresses);
  taken = address_set (own_addresses);

  /* To: the Reply-To, else the From; for a message of one's own, its
   * recipients again */
  to_source = reply_to != NULL ? reply_to : summary->from;
  if (all_in_set (to_source, own) && summary->to != NULL && !all_in_set (summary->to, own))
    to_source = summary->to;
  field = g_string_new (NULL);
  {
    g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

    /* one's own address stays when it is all there is */
    if (all_in_set (to_source, own))
      append_mailboxes (field, to_source, seen);
    else
      {
        g_autoptr(GHashTable) skip = address_set (own_addresses);

        append_mailboxes (field, to_source, skip);
      }
  }
  self->to = take_field (field);
  {
    g_autoptr(GPtrArray) mailboxes = parse_mailboxes (self->to);

    for (guint i = 0; i < mailboxes->len; i++)
      {
        Mailbox *m = g_ptr_array_index (mailboxes, i);

        if (m->valid)
          g_hash_table_add (taken, address_key (m->addr));
      }
  }

  if (mode == LB_REPLY_ALL)
    {
      field = g_string_new (NULL);
      if (to_source != summary->to)
        append_mailboxes (field, summary->to, taken);
      append_mailboxes (field, summary->cc, taken);
      self->cc = take_field (field);
    }

  self->subject = prefixed_subject (summary->subject, "Re: ", reply_prefixes);
  self->in_reply_to = clean_id (summary->message_id);
  self->references = trimmed_references (summary->references, self->in_reply_to);

  name = sender_name (summary->from);
  date = format_date (summary->date);
  body = g_string_new ("\n");
  if (date != NULL)
    /* Translators: a reply's attribution line: the date, the sender's name */
    g_string_append_printf (body, _("On %s, %s wrote:"), date, name);
  else
    /* Translators: a reply's attribution line when the date is unknown */
    g_string_append_printf (body, _("%s wrote:"), name);
  g_string_append_c (body, '\n');
  append_quoted (body, text->text);
  self->body = g_string_free (body, FALSE);

  return self;
}

LbOutgoingMessage *
lb_outgoing_message_new_forward (GBytes         *original,
                                 LbForwardMode   mode,
                                 GError        **error)
{
  g_autoptr(LbMessageSummary) summary = NULL;
  g_autoptr(LbMimeText) text = NULL;
  GMimeMessage *message;
  LbOutgoingMessage *self;

  g_return_val_if_fail (original != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  message = read_original (original, &summary, error);
  if (message == NULL)
    return NULL;
  text = lb_mime_text_parse (original, error);
  if (text == NULL)
    {
      g_object_unref (message);
      return NULL;
    }

  self = lb_outgoing_message_new ();
  self->subject = prefixed_subject (summary->subject, "Fwd: ", forward_prefixes);
  self->forwarded_id = clean_id (summary->message_id);

  switch (mode)
    {
    case LB_FORWARD_ATTACHMENT:
      {
        g_autofree char *name = file_name_for (summary->subject);

        lb_outgoing_message_add_attachment (self, name, "message/rfc822", original);
      }
      break;

    case LB_FORWARD_INLINE:
      {
        g_autoptr(LbOutgoingMessage) read = from_message (message, summary);
        g_autofree char *date = format_date (summary->date);
        GString *body = g_string_new ("\n\n");

        g_string_append_printf (body, "%s\n", _("-------- Forwarded Message --------"));
        /* Translators: the lines of a forwarded message's header block */
        g_string_append_printf (body, _("Subject: %s"), or_empty (summary->subject));
        g_string_append_c (body, '\n');
        if (date != NULL)
          {
            g_string_append_printf (body, _("Date: %s"), date);
            g_string_append_c (body, '\n');
          }
        g_string_append_printf (body, _("From: %s"), or_empty (summary->from));
        g_string_append_c (body, '\n');
        g_string_append_printf (body, _("To: %s"), or_empty (summary->to));
        g_string_append_c (body, '\n');
        if (summary->cc != NULL)
          {
            g_string_append_printf (body, _("Cc: %s"), summary->cc);
            g_string_append_c (body, '\n');
          }
        g_string_append_c (body, '\n');
        g_string_append (body, text->text);
        self->body = g_string_free (body, FALSE);

        g_ptr_array_extend_and_steal (self->attachments, g_steal_pointer (&read->attachments));
        read->attachments = g_ptr_array_new_with_free_func (attachment_free);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  g_object_unref (message);
  return self;
}
