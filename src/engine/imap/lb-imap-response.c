/* lb-imap-response.c: what an IMAP server said, parsed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-imap"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LB_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define LB_ASAN 1
#endif

#ifdef LB_ASAN
#include <sanitizer/asan_interface.h>
/* AddressSanitizer sees the free part of a block as out of bounds */
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION ((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION ((p), (n))
#else
#define POISON(p, n)   ((void) 0)
#define UNPOISON(p, n) ((void) 0)
#endif

#include "lb-imap-parser.h"
#include "lb-imap-response.h"
#include "lb-imap-response-private.h"

G_DEFINE_BOXED_TYPE (LbImapResponse, lb_imap_response, lb_imap_response_ref, lb_imap_response_unref)

void
lb_imap_value_free (LbImapValue *value)
{
  if (value == NULL)
    return;

  switch (value->kind)
    {
    case LB_IMAP_VALUE_ATOM:
      g_free (value->v.atom);
      break;
    case LB_IMAP_VALUE_STRING:
      g_clear_pointer (&value->v.string, g_bytes_unref);
      break;
    case LB_IMAP_VALUE_LIST:
      g_clear_pointer (&value->v.list, g_ptr_array_unref);
      break;
    case LB_IMAP_VALUE_NIL:
    case LB_IMAP_VALUE_NUMBER:
    default:
      break;
    }
  g_free (value);
}

/* Blocks: a response's FETCH data is bump-allocated from a chain of
 * blocks, freed together with the response; a FETCH of a header sync
 * fits in one. */

typedef struct _Block Block;
struct _Block
{
  Block *next;
  gsize  size;    /* of the data after the header */
  gsize  used;
};

/* the header rounded up so that the data after it is aligned */
#define BLOCK_HEADER  ((sizeof (Block) + 15) & ~(gsize) 15)
#define BLOCK_MIN     256
#define BLOCK_MAX     (64 * 1024)
/* (a large response is mostly a literal, which is not in the blocks) */
#define BLOCK_FIRST_MAX (16 * 1024)
/* the first block of a FETCH of a header sync: one is kept for the next
 * response when freed, so that a sync does not go through malloc's slow
 * path (blocks this large skip its per-thread caches) for every message */
#define BLOCK_SPARE   (4 * 1024)

static Block *spare_block;   /* of BLOCK_SPARE bytes, or NULL */
#define ALIGN         8

void
lb_imap_response_set_block_hint (LbImapResponse *response,
                                 gsize           hint)
{
  response->block_hint = hint;
}

static Block *
block_new (gsize size)
{
  Block *block = NULL;

  if (size == BLOCK_SPARE)
    block = g_atomic_pointer_exchange (&spare_block, NULL);
  if (block == NULL)
    block = g_malloc (BLOCK_HEADER + size);

  block->next = NULL;
  block->size = size;
  block->used = 0;
  POISON ((char *) block + BLOCK_HEADER, size);
  return block;
}

static gpointer
alloc_slow (LbImapResponse *response,
            gsize           size)
{
  Block *head = response->blocks;
  gsize next;
  Block *block;

  if (head == NULL && response->block_hint <= BLOCK_SPARE && size <= BLOCK_SPARE)
    next = BLOCK_SPARE;
  else if (head == NULL)
    next = CLAMP (response->block_hint, BLOCK_MIN, BLOCK_FIRST_MAX);
  else
    next = MIN (head->size * 2, (gsize) BLOCK_MAX);

  if (head != NULL && size > next / 2)
    {
      /* a large string gets a block of its own, behind the one in use */
      block = block_new (size);
      block->used = size;
      block->next = head->next;
      head->next = block;
      UNPOISON ((char *) block + BLOCK_HEADER, size);
      return (char *) block + BLOCK_HEADER;
    }

  block = block_new (MAX (next, size));
  block->used = size;
  block->next = head;
  response->blocks = block;
  UNPOISON ((char *) block + BLOCK_HEADER, size);
  return (char *) block + BLOCK_HEADER;
}

static inline gpointer
block_alloc (LbImapResponse *response,
             gsize           size,
             gsize           align)
{
  Block *head = response->blocks;

  if (head != NULL)
    {
      gsize at = (head->used + align - 1) & ~(align - 1);

      if (at <= head->size && size <= head->size - at)
        {
          head->used = at + size;
          UNPOISON ((char *) head + BLOCK_HEADER + at, size);
          return (char *) head + BLOCK_HEADER + at;
        }
    }
  return alloc_slow (response, size);
}

gpointer
lb_imap_response_alloc0 (LbImapResponse *response,
                         gsize           size)
{
  gpointer p = block_alloc (response, size, ALIGN);

  memset (p, 0, size);
  return p;
}

char *
lb_imap_response_alloc_string (LbImapResponse *response,
                               gsize           len)
{
  /* (@len is at most a frame's length, far from overflowing) */
  char *p = block_alloc (response, len + 1, 1);

  p[len] = '\0';
  return p;
}

char *
lb_imap_response_strndup (LbImapResponse *response,
                          const void     *data,
                          gsize           len)
{
  char *p = lb_imap_response_alloc_string (response, len);

  if (len > 0)
    memcpy (p, data, len);
  return p;
}

static void
blocks_free (Block *block)
{
  while (block != NULL)
    {
      Block *next = block->next;

      UNPOISON ((char *) block + BLOCK_HEADER, block->size);
      if (block->size != BLOCK_SPARE ||
          !g_atomic_pointer_compare_and_exchange (&spare_block, NULL, block))
        g_free (block);
      block = next;
    }
}

/* what the FETCH data holds outside the blocks: GLib arrays, section
 * data, and the generic values of extension data */

void
lb_imap_body_release (LbImapBody *body)
{
  if (body == NULL)
    return;

  lb_imap_body_release (body->message);
  if (body->children != NULL)
    {
      for (guint i = 0; i < body->children->len; i++)
        lb_imap_body_release (g_ptr_array_index (body->children, i));
      g_clear_pointer (&body->children, g_ptr_array_unref);
    }
  g_clear_pointer (&body->extension, g_ptr_array_unref);
}

static void
fetch_release (LbImapFetch *fetch)
{
  if (fetch == NULL)
    return;

  lb_imap_body_release (fetch->body);
  if (fetch->sections != NULL)
    {
      for (guint i = 0; i < fetch->sections->len; i++)
        {
          LbImapSection *section = g_ptr_array_index (fetch->sections, i);

          g_clear_pointer (&section->data, g_bytes_unref);
        }
      g_clear_pointer (&fetch->sections, g_ptr_array_unref);
    }
  g_free (fetch->email_id);
  g_free (fetch->thread_id);
  g_strfreev (fetch->gm_labels);
  g_clear_pointer (&fetch->extra, g_ptr_array_unref);
}

void
lb_imap_list_free (LbImapList *list)
{
  if (list == NULL)
    return;

  g_strfreev (list->attributes);
  g_free (list->mailbox);
  g_free (list->raw_mailbox);
  g_free (list->old_name);
  g_strfreev (list->child_info);
  g_clear_pointer (&list->extended, g_ptr_array_unref);
  g_free (list);
}

void
lb_imap_status_data_free (LbImapStatusData *status)
{
  if (status == NULL)
    return;

  g_free (status->mailbox);
  g_free (status->raw_mailbox);
  g_free (status);
}

void
lb_imap_esearch_free (LbImapEsearch *esearch)
{
  if (esearch == NULL)
    return;

  g_free (esearch->tag);
  g_clear_pointer (&esearch->all, g_array_unref);
  g_clear_pointer (&esearch->partial, g_array_unref);
  g_free (esearch);
}

void
lb_imap_namespace_entry_free (LbImapNamespaceEntry *entry)
{
  if (entry == NULL)
    return;

  g_free (entry->prefix);
  g_free (entry);
}

static void
quota_resource_clear (gpointer data)
{
  LbImapQuotaResource *resource = data;

  g_free (resource->name);
}

LbImapQuota *
lb_imap_quota_new (void)
{
  LbImapQuota *quota = g_new0 (LbImapQuota, 1);

  quota->resources = g_array_new (FALSE, TRUE, sizeof (LbImapQuotaResource));
  g_array_set_clear_func (quota->resources, quota_resource_clear);
  return quota;
}

void
lb_imap_quota_free (LbImapQuota *quota)
{
  if (quota == NULL)
    return;

  g_free (quota->root);
  g_clear_pointer (&quota->resources, g_array_unref);
  g_free (quota);
}

LbImapResponse *
lb_imap_response_new (void)
{
  LbImapResponse *response = g_new0 (LbImapResponse, 1);

  g_atomic_ref_count_init (&response->ref_count);
  return response;
}

LbImapResponse *
lb_imap_response_ref (LbImapResponse *response)
{
  g_return_val_if_fail (response != NULL, NULL);

  g_atomic_ref_count_inc (&response->ref_count);
  return response;
}

void
lb_imap_response_unref (LbImapResponse *response)
{
  g_return_if_fail (response != NULL);

  if (!g_atomic_ref_count_dec (&response->ref_count))
    return;

  g_free (response->tag);
  g_free (response->code_name);
  g_free (response->code_text);
  g_strfreev (response->code_strv);
  g_clear_pointer (&response->code_set, g_array_unref);
  g_clear_pointer (&response->code_source_set, g_array_unref);
  g_free (response->text);
  g_free (response->data_name);
  g_strfreev (response->strv);
  fetch_release (response->fetch);
  lb_imap_list_free (response->list);
  lb_imap_status_data_free (response->status_data);
  g_clear_pointer (&response->search, g_array_unref);
  lb_imap_esearch_free (response->esearch);
  g_clear_pointer (&response->set, g_array_unref);
  for (guint i = 0; i < G_N_ELEMENTS (response->namespaces); i++)
    g_clear_pointer (&response->namespaces[i], g_ptr_array_unref);
  lb_imap_quota_free (response->quota);
  g_clear_pointer (&response->values, g_ptr_array_unref);
  blocks_free (response->blocks);
  g_free (response);
}

gboolean
lb_imap_response_has_capability (LbImapResponse *response,
                                 const char     *name)
{
  char **strv = NULL;

  g_return_val_if_fail (response != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  if (response->data == LB_IMAP_DATA_CAPABILITY)
    strv = response->strv;
  else if (response->code == LB_IMAP_CODE_CAPABILITY)
    strv = response->code_strv;

  if (strv == NULL)
    return FALSE;

  for (guint i = 0; strv[i] != NULL; i++)
    if (g_ascii_strcasecmp (strv[i], name) == 0)
      return TRUE;

  return FALSE;
}

gboolean
lb_imap_flags_contain (char * const *flags,
                       const char   *flag)
{
  g_return_val_if_fail (flag != NULL, FALSE);

  if (flags == NULL)
    return FALSE;

  for (guint i = 0; flags[i] != NULL; i++)
    if (g_ascii_strcasecmp (flags[i], flag) == 0)
      return TRUE;

  return FALSE;
}

/* Sets */

static gboolean
set_number (const char **p,
            guint32     *out)
{
  guint64 n = 0;
  const char *s = *p;

  if (*s == '*')
    {
      *out = G_MAXUINT32;
      *p = s + 1;
      return TRUE;
    }
  if (!g_ascii_isdigit (*s))
    return FALSE;
  while (g_ascii_isdigit (*s))
    {
      n = n * 10 + (guint64) (*s - '0');
      if (n > G_MAXUINT32)
        return FALSE;
      s++;
    }
  /* nz-number: sequence numbers and UIDs start at 1 */
  if (n == 0)
    return FALSE;
  *out = (guint32) n;
  *p = s;
  return TRUE;
}

GArray *
lb_imap_set_parse (const char *text,
                   GError    **error)
{
  g_autoptr(GArray) ranges = NULL;
  const char *p = text;

  g_return_val_if_fail (text != NULL, NULL);

  ranges = g_array_new (FALSE, FALSE, sizeof (LbImapRange));
  for (;;)
    {
      LbImapRange range;

      if (!set_number (&p, &range.first))
        goto fail;
      range.last = range.first;
      if (*p == ':')
        {
          p++;
          if (!set_number (&p, &range.last))
            goto fail;
        }
      g_array_append_val (ranges, range);
      if (*p == ',')
        {
          p++;
          continue;
        }
      if (*p == '\0')
        break;
      goto fail;
    }
  return g_steal_pointer (&ranges);

fail:
  g_set_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_SYNTAX,
               _("Unexpected server response: expected a message number or range at byte %u of “%s”"),
               (guint) (p - text), text);
  return NULL;
}

static void
append_set_number (GString *string,
                   guint32  n)
{
  if (n == G_MAXUINT32)
    g_string_append_c (string, '*');
  else
    g_string_append_printf (string, "%u", n);
}

char *
lb_imap_set_to_string (const LbImapRange *ranges,
                       guint              n_ranges)
{
  GString *string = g_string_new (NULL);

  for (guint i = 0; i < n_ranges; i++)
    {
      if (i > 0)
        g_string_append_c (string, ',');
      append_set_number (string, ranges[i].first);
      if (ranges[i].last != ranges[i].first)
        {
          g_string_append_c (string, ':');
          append_set_number (string, ranges[i].last);
        }
    }
  return g_string_free (string, FALSE);
}

gboolean
lb_imap_set_contains (GArray *set,
                      guint32 value)
{
  if (set == NULL)
    return FALSE;

  for (guint i = 0; i < set->len; i++)
    {
      const LbImapRange *range = &g_array_index (set, LbImapRange, i);
      guint32 low = MIN (range->first, range->last);
      guint32 high = MAX (range->first, range->last);

      if (value >= low && value <= high)
        return TRUE;
    }
  return FALSE;
}

static int
compare_uint32 (gconstpointer a,
                gconstpointer b)
{
  guint32 x = *(const guint32 *) a;
  guint32 y = *(const guint32 *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

GArray *
lb_imap_set_expand (GArray *set,
                    guint   max_values,
                    GError **error)
{
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint64 total = 0;

  g_return_val_if_fail (set != NULL, NULL);

  for (guint i = 0; i < set->len; i++)
    {
      const LbImapRange *range = &g_array_index (set, LbImapRange, i);
      guint32 low = MIN (range->first, range->last);
      guint32 high = MAX (range->first, range->last);

      total += (guint64) high - low + 1;
      if (total > max_values)
        {
          g_set_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_TOO_LARGE,
                       _("The server named more than %u messages at once"), max_values);
          return NULL;
        }
      for (guint64 v = low; v <= high; v++)
        {
          guint32 value = (guint32) v;

          g_array_append_val (values, value);
        }
    }

  /* in order, each value once */
  g_array_sort (values, compare_uint32);
  if (values->len > 1)
    {
      guint32 *data = (guint32 *) (void *) values->data;
      guint out = 1;

      for (guint i = 1; i < values->len; i++)
        if (data[i] != data[out - 1])
          data[out++] = data[i];
      g_array_set_size (values, out);
    }
  return g_steal_pointer (&values);
}

/* The canonical text form (lb_imap_response_to_string): the first line
 * says what the response is ("* 12 FETCH", "a1 OK", "+"), each line
 * indented by two more spaces says one field. Strings are quoted with
 * C escapes; NIL is NIL. */

static void
append_quoted (GString    *s,
               const char *data,
               gsize       len)
{
  gboolean utf8 = g_utf8_validate (data, (gssize) len, NULL);

  g_string_append_c (s, '"');
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) data[i];

      switch (c)
        {
        case '"':
          g_string_append (s, "\\\"");
          break;
        case '\\':
          g_string_append (s, "\\\\");
          break;
        case '\r':
          g_string_append (s, "\\r");
          break;
        case '\n':
          g_string_append (s, "\\n");
          break;
        case '\t':
          g_string_append (s, "\\t");
          break;
        default:
          if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8))
            g_string_append_printf (s, "\\x%02x", c);
          else
            g_string_append_c (s, (char) c);
          break;
        }
    }
  g_string_append_c (s, '"');
}

/* an atom, a tag, a keyword: as sent, but never anything that is not
 * printable UTF-8 */
static void
append_atom (GString    *s,
             const char *atom)
{
  gboolean utf8;

  if (atom == NULL)
    {
      g_string_append (s, "NIL");
      return;
    }
  utf8 = g_utf8_validate (atom, -1, NULL);
  for (const char *c = atom; *c != '\0'; c++)
    {
      guchar b = (guchar) *c;

      if (b < 0x20 || b == 0x7f || (b >= 0x80 && !utf8))
        g_string_append_printf (s, "\\x%02x", b);
      else
        g_string_append_c (s, (char) b);
    }
}

static void
append_nstring (GString    *s,
                const char *str)
{
  if (str == NULL)
    g_string_append (s, "NIL");
  else
    append_quoted (s, str, strlen (str));
}

static void
append_strv (GString     *s,
             char *const *strv)
{
  if (strv == NULL)
    {
      g_string_append (s, "NIL");
      return;
    }
  g_string_append_c (s, '(');
  for (guint i = 0; strv[i] != NULL; i++)
    {
      if (i > 0)
        g_string_append_c (s, ' ');
      append_nstring (s, strv[i]);
    }
  g_string_append_c (s, ')');
}

static void
append_set (GString *s,
            GArray  *set)
{
  g_autofree char *text = NULL;

  if (set == NULL)
    {
      g_string_append (s, "NIL");
      return;
    }
  text = lb_imap_set_to_string ((const LbImapRange *) (void *) set->data, set->len);
  g_string_append (s, text);
}

static void
append_value (GString           *s,
              const LbImapValue *v)
{
  switch (v->kind)
    {
    case LB_IMAP_VALUE_NIL:
      g_string_append (s, "NIL");
      break;
    case LB_IMAP_VALUE_ATOM:
      append_atom (s, v->v.atom);
      break;
    case LB_IMAP_VALUE_NUMBER:
      g_string_append_printf (s, "%" G_GUINT64_FORMAT, v->v.number);
      break;
    case LB_IMAP_VALUE_STRING:
      {
        gsize len;
        const char *data = g_bytes_get_data (v->v.string, &len);

        append_quoted (s, data != NULL ? data : "", len);
      }
      break;
    case LB_IMAP_VALUE_LIST:
      g_string_append_c (s, '(');
      for (guint i = 0; i < v->v.list->len; i++)
        {
          if (i > 0)
            g_string_append_c (s, ' ');
          append_value (s, g_ptr_array_index (v->v.list, i));
        }
      g_string_append_c (s, ')');
      break;
    default:
      g_string_append (s, "?");
      break;
    }
}

static void
append_values (GString   *s,
               GPtrArray *values)
{
  for (guint i = 0; i < values->len; i++)
    {
      if (i > 0)
        g_string_append_c (s, ' ');
      append_value (s, g_ptr_array_index (values, i));
    }
}

static void
indent (GString *s,
        guint    level)
{
  for (guint i = 0; i < level; i++)
    g_string_append (s, "  ");
}

static void
append_addresses (GString        *s,
                  LbImapAddress **addresses)
{
  for (guint i = 0; addresses != NULL && addresses[i] != NULL; i++)
    {
      LbImapAddress *a = addresses[i];

      g_string_append (s, i > 0 ? " (" : "(");
      append_nstring (s, a->name);
      g_string_append_c (s, ' ');
      append_nstring (s, a->adl);
      g_string_append_c (s, ' ');
      append_nstring (s, a->mailbox);
      g_string_append_c (s, ' ');
      append_nstring (s, a->host);
      g_string_append_c (s, ')');
    }
}

static void
append_envelope (GString        *s,
                 LbImapEnvelope *e,
                 guint           level)
{
  const struct
  {
    const char      *name;
    LbImapAddress  **list;
  } lists[] = {
    { "from", e->from }, { "sender", e->sender }, { "reply-to", e->reply_to },
    { "to", e->to }, { "cc", e->cc }, { "bcc", e->bcc },
  };

  indent (s, level);
  g_string_append (s, "envelope:\n");
  indent (s, level + 1);
  g_string_append (s, "date: ");
  append_nstring (s, e->date);
  g_string_append_c (s, '\n');
  indent (s, level + 1);
  g_string_append (s, "subject: ");
  append_nstring (s, e->subject);
  g_string_append_c (s, '\n');
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    {
      indent (s, level + 1);
      g_string_append_printf (s, "%s:", lists[i].name);
      if (lists[i].list != NULL && lists[i].list[0] != NULL)
        {
          g_string_append_c (s, ' ');
          append_addresses (s, lists[i].list);
        }
      g_string_append_c (s, '\n');
    }
  indent (s, level + 1);
  g_string_append (s, "in-reply-to: ");
  append_nstring (s, e->in_reply_to);
  g_string_append_c (s, '\n');
  indent (s, level + 1);
  g_string_append (s, "message-id: ");
  append_nstring (s, e->message_id);
  g_string_append_c (s, '\n');
}

static void
append_body (GString    *s,
             LbImapBody *b,
             const char *label,
             guint       level)
{
  indent (s, level);
  g_string_append_printf (s, "%s: ", label);
  append_nstring (s, b->type);
  g_string_append_c (s, '/');
  append_nstring (s, b->subtype);
  g_string_append (s, " params=");
  append_strv (s, b->params);
  if (b->children == NULL)
    {
      g_string_append (s, " id=");
      append_nstring (s, b->id);
      g_string_append (s, " description=");
      append_nstring (s, b->description);
      g_string_append (s, " encoding=");
      append_nstring (s, b->encoding);
      g_string_append_printf (s, " size=%" G_GUINT64_FORMAT, b->size);
      if (g_strcmp0 (b->type, "text") == 0 || b->message != NULL)
        g_string_append_printf (s, " lines=%" G_GUINT64_FORMAT, b->lines);
    }
  if (b->md5 != NULL)
    {
      g_string_append (s, " md5=");
      append_nstring (s, b->md5);
    }
  if (b->disposition != NULL)
    {
      g_string_append (s, " disposition=");
      append_nstring (s, b->disposition);
      if (b->disposition_params != NULL)
        {
          g_string_append_c (s, ' ');
          append_strv (s, b->disposition_params);
        }
    }
  if (b->language != NULL)
    {
      g_string_append (s, " language=");
      append_strv (s, b->language);
    }
  if (b->location != NULL)
    {
      g_string_append (s, " location=");
      append_nstring (s, b->location);
    }
  if (b->extension != NULL)
    {
      g_string_append (s, " extension=(");
      append_values (s, b->extension);
      g_string_append_c (s, ')');
    }
  g_string_append_c (s, '\n');

  if (b->envelope != NULL)
    append_envelope (s, b->envelope, level + 1);
  else if (b->message != NULL)
    {
      indent (s, level + 1);
      g_string_append (s, "envelope: NIL\n");
    }
  if (b->message != NULL)
    append_body (s, b->message, "body", level + 1);
  for (guint i = 0; b->children != NULL && i < b->children->len; i++)
    append_body (s, g_ptr_array_index (b->children, i), "part", level + 1);
}

static void
append_fetch (GString     *s,
              LbImapFetch *f)
{
  if (f->items & LB_IMAP_FETCH_UID)
    g_string_append_printf (s, "  uid: %u\n", f->uid);
  if (f->items & LB_IMAP_FETCH_FLAGS)
    {
      g_string_append (s, "  flags: ");
      append_strv (s, f->flags);
      g_string_append_c (s, '\n');
    }
  if (f->items & LB_IMAP_FETCH_INTERNALDATE)
    {
      g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (f->internaldate);
      g_autofree char *iso = dt != NULL ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : NULL;

      g_string_append_printf (s, "  internaldate: %s\n", iso != NULL ? iso : "?");
    }
  if (f->items & LB_IMAP_FETCH_SIZE)
    g_string_append_printf (s, "  size: %" G_GUINT64_FORMAT "\n", f->size);
  if (f->items & LB_IMAP_FETCH_MODSEQ)
    g_string_append_printf (s, "  modseq: %" G_GUINT64_FORMAT "\n", f->modseq);
  if (f->items & LB_IMAP_FETCH_EMAILID)
    {
      g_string_append (s, "  emailid: ");
      append_nstring (s, f->email_id);
      g_string_append (s, "\n  threadid: ");
      append_nstring (s, f->thread_id);
      g_string_append_c (s, '\n');
    }
  if (f->items & LB_IMAP_FETCH_GMAIL)
    {
      g_string_append_printf (s, "  x-gm-msgid: %" G_GUINT64_FORMAT "\n", f->gm_msgid);
      g_string_append_printf (s, "  x-gm-thrid: %" G_GUINT64_FORMAT "\n", f->gm_thrid);
      if (f->gm_labels != NULL)
        {
          g_string_append (s, "  x-gm-labels: ");
          append_strv (s, f->gm_labels);
          g_string_append_c (s, '\n');
        }
    }
  if (f->envelope != NULL)
    append_envelope (s, f->envelope, 1);
  if (f->body != NULL)
    append_body (s, f->body, "body", 1);
  for (guint i = 0; f->sections != NULL && i < f->sections->len; i++)
    {
      LbImapSection *section = g_ptr_array_index (f->sections, i);

      g_string_append (s, "  section[");
      append_atom (s, section->section);
      g_string_append_c (s, ']');
      if (section->origin >= 0)
        g_string_append_printf (s, "<%" G_GINT64_FORMAT ">", section->origin);
      g_string_append (s, ": ");
      if (section->data == NULL)
        g_string_append (s, "NIL");
      else
        {
          gsize len;
          const char *data = g_bytes_get_data (section->data, &len);

          append_quoted (s, data != NULL ? data : "", len);
        }
      g_string_append_c (s, '\n');
    }
  for (guint i = 0; f->extra != NULL && i + 1 < f->extra->len; i += 2)
    {
      g_string_append (s, "  extra: ");
      append_value (s, g_ptr_array_index (f->extra, i));
      g_string_append_c (s, ' ');
      append_value (s, g_ptr_array_index (f->extra, i + 1));
      g_string_append_c (s, '\n');
    }
}

static void
append_delimiter (GString *s,
                  char     delimiter)
{
  if (delimiter == '\0')
    g_string_append (s, "NIL");
  else
    append_quoted (s, &delimiter, 1);
}

static const char *
code_names[] = {
  [LB_IMAP_CODE_NONE] = "NONE",
  [LB_IMAP_CODE_OTHER] = "OTHER",
};

static void
append_code (GString        *s,
             LbImapResponse *r)
{
  if (r->code == LB_IMAP_CODE_NONE)
    return;

  g_string_append (s, "  code: ");
  if (r->code == LB_IMAP_CODE_OTHER)
    g_string_append (s, "other ");
  append_atom (s, r->code_name != NULL ? r->code_name : code_names[0]);

  switch (r->code)
    {
    case LB_IMAP_CODE_CAPABILITY:
    case LB_IMAP_CODE_PERMANENTFLAGS:
    case LB_IMAP_CODE_BADCHARSET:
      g_string_append_c (s, ' ');
      append_strv (s, r->code_strv);
      break;
    case LB_IMAP_CODE_UIDVALIDITY:
    case LB_IMAP_CODE_UIDNEXT:
    case LB_IMAP_CODE_UNSEEN:
    case LB_IMAP_CODE_HIGHESTMODSEQ:
      g_string_append_printf (s, " %" G_GUINT64_FORMAT, r->code_number);
      break;
    case LB_IMAP_CODE_APPENDUID:
      g_string_append_printf (s, " %u ", r->code_uidvalidity);
      append_set (s, r->code_set);
      break;
    case LB_IMAP_CODE_COPYUID:
      g_string_append_printf (s, " %u ", r->code_uidvalidity);
      append_set (s, r->code_source_set);
      g_string_append_c (s, ' ');
      append_set (s, r->code_set);
      break;
    case LB_IMAP_CODE_MODIFIED:
      g_string_append_c (s, ' ');
      append_set (s, r->code_set);
      break;
    case LB_IMAP_CODE_NONE:
    case LB_IMAP_CODE_OTHER:
    case LB_IMAP_CODE_ALERT:
    case LB_IMAP_CODE_ALREADYEXISTS:
    case LB_IMAP_CODE_AUTHENTICATIONFAILED:
    case LB_IMAP_CODE_AUTHORIZATIONFAILED:
    case LB_IMAP_CODE_CANNOT:
    case LB_IMAP_CODE_CLIENTBUG:
    case LB_IMAP_CODE_CLOSED:
    case LB_IMAP_CODE_CONTACTADMIN:
    case LB_IMAP_CODE_CORRUPTION:
    case LB_IMAP_CODE_EXPIRED:
    case LB_IMAP_CODE_EXPUNGEISSUED:
    case LB_IMAP_CODE_HASCHILDREN:
    case LB_IMAP_CODE_INUSE:
    case LB_IMAP_CODE_LIMIT:
    case LB_IMAP_CODE_NOMODSEQ:
    case LB_IMAP_CODE_NONEXISTENT:
    case LB_IMAP_CODE_NOPERM:
    case LB_IMAP_CODE_OVERQUOTA:
    case LB_IMAP_CODE_PARSE:
    case LB_IMAP_CODE_PRIVACYREQUIRED:
    case LB_IMAP_CODE_READ_ONLY:
    case LB_IMAP_CODE_READ_WRITE:
    case LB_IMAP_CODE_SERVERBUG:
    case LB_IMAP_CODE_TRYCREATE:
    case LB_IMAP_CODE_UIDNOTSTICKY:
    case LB_IMAP_CODE_UNAVAILABLE:
    case LB_IMAP_CODE_UNKNOWN_CTE:
    case LB_IMAP_CODE_COMPRESSIONACTIVE:
    case LB_IMAP_CODE_NOTSAVED:
    case LB_IMAP_CODE_REFERRAL:
    default:
      if (r->code_text != NULL)
        {
          g_string_append_c (s, ' ');
          append_nstring (s, r->code_text);
        }
      break;
    }
  g_string_append_c (s, '\n');
}

static const char *
status_name (LbImapStatus status)
{
  switch (status)
    {
    case LB_IMAP_STATUS_OK:
      return "OK";
    case LB_IMAP_STATUS_NO:
      return "NO";
    case LB_IMAP_STATUS_BAD:
      return "BAD";
    case LB_IMAP_STATUS_PREAUTH:
      return "PREAUTH";
    case LB_IMAP_STATUS_BYE:
      return "BYE";
    case LB_IMAP_STATUS_NONE:
    default:
      return NULL;
    }
}

static void
append_status_data (GString          *s,
                    LbImapStatusData *st)
{
  static const struct
  {
    LbImapStatusItems item;
    const char       *name;
  } items[] = {
    { LB_IMAP_STATUS_MESSAGES, "messages" },
    { LB_IMAP_STATUS_RECENT, "recent" },
    { LB_IMAP_STATUS_UIDNEXT, "uidnext" },
    { LB_IMAP_STATUS_UIDVALIDITY, "uidvalidity" },
    { LB_IMAP_STATUS_UNSEEN, "unseen" },
    { LB_IMAP_STATUS_HIGHESTMODSEQ, "highestmodseq" },
    { LB_IMAP_STATUS_SIZE, "size" },
    { LB_IMAP_STATUS_DELETED, "deleted" },
    { LB_IMAP_STATUS_APPENDLIMIT, "appendlimit" },
  };

  g_string_append (s, "  mailbox: ");
  append_nstring (s, st->mailbox);
  g_string_append_c (s, '\n');
  if (g_strcmp0 (st->mailbox, st->raw_mailbox) != 0)
    {
      g_string_append (s, "  raw-mailbox: ");
      append_nstring (s, st->raw_mailbox);
      g_string_append_c (s, '\n');
    }
  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    {
      guint64 v;

      if ((st->items & items[i].item) == 0)
        continue;
      switch (items[i].item)
        {
        case LB_IMAP_STATUS_MESSAGES: v = st->messages; break;
        case LB_IMAP_STATUS_RECENT: v = st->recent; break;
        case LB_IMAP_STATUS_UIDNEXT: v = st->uidnext; break;
        case LB_IMAP_STATUS_UIDVALIDITY: v = st->uidvalidity; break;
        case LB_IMAP_STATUS_UNSEEN: v = st->unseen; break;
        case LB_IMAP_STATUS_HIGHESTMODSEQ: v = st->highestmodseq; break;
        case LB_IMAP_STATUS_SIZE: v = st->size; break;
        case LB_IMAP_STATUS_DELETED: v = st->deleted; break;
        case LB_IMAP_STATUS_APPENDLIMIT: v = st->appendlimit; break;
        default: v = 0; break;
        }
      if (items[i].item == LB_IMAP_STATUS_APPENDLIMIT && v == G_MAXUINT64)
        g_string_append_printf (s, "  %s: NIL\n", items[i].name);
      else
        g_string_append_printf (s, "  %s: %" G_GUINT64_FORMAT "\n", items[i].name, v);
    }
}

static void
append_list (GString    *s,
             LbImapList *l)
{
  g_string_append (s, "  attributes: ");
  append_strv (s, l->attributes);
  g_string_append (s, "\n  delimiter: ");
  append_delimiter (s, l->delimiter);
  g_string_append (s, "\n  mailbox: ");
  append_nstring (s, l->mailbox);
  g_string_append_c (s, '\n');
  if (g_strcmp0 (l->mailbox, l->raw_mailbox) != 0)
    {
      g_string_append (s, "  raw-mailbox: ");
      append_nstring (s, l->raw_mailbox);
      g_string_append_c (s, '\n');
    }
  if (l->child_info != NULL)
    {
      g_string_append (s, "  childinfo: ");
      append_strv (s, l->child_info);
      g_string_append_c (s, '\n');
    }
  if (l->old_name != NULL)
    {
      g_string_append (s, "  oldname: ");
      append_nstring (s, l->old_name);
      g_string_append_c (s, '\n');
    }
  for (guint i = 0; l->extended != NULL && i + 1 < l->extended->len; i += 2)
    {
      g_string_append (s, "  extended: ");
      append_value (s, g_ptr_array_index (l->extended, i));
      g_string_append_c (s, ' ');
      append_value (s, g_ptr_array_index (l->extended, i + 1));
      g_string_append_c (s, '\n');
    }
}

static void
append_numbers (GString *s,
                GArray  *numbers)
{
  for (guint i = 0; numbers != NULL && i < numbers->len; i++)
    g_string_append_printf (s, " %u", g_array_index (numbers, guint32, i));
}

static void
append_esearch (GString       *s,
                LbImapEsearch *es)
{
  if (es->tag != NULL)
    {
      g_string_append (s, "  tag: ");
      append_nstring (s, es->tag);
      g_string_append_c (s, '\n');
    }
  if (es->uid)
    g_string_append (s, "  uid\n");
  if (es->has_min)
    g_string_append_printf (s, "  min: %u\n", es->min);
  if (es->has_max)
    g_string_append_printf (s, "  max: %u\n", es->max);
  if (es->has_count)
    g_string_append_printf (s, "  count: %u\n", es->count);
  if (es->has_modseq)
    g_string_append_printf (s, "  modseq: %" G_GUINT64_FORMAT "\n", es->modseq);
  if (es->all != NULL)
    {
      g_string_append (s, "  all: ");
      append_set (s, es->all);
      g_string_append_c (s, '\n');
    }
  if (es->partial != NULL)
    {
      g_string_append (s, "  partial: ");
      if (es->partial->len == 0)
        g_string_append (s, "NIL");
      else
        append_set (s, es->partial);
      g_string_append_c (s, '\n');
    }
}

static void
append_namespaces (GString         *s,
                   LbImapResponse  *r)
{
  static const char *const names[3] = { "personal", "other", "shared" };

  for (guint i = 0; i < 3; i++)
    {
      GPtrArray *entries = r->namespaces[i];

      g_string_append_printf (s, "  %s:", names[i]);
      if (entries == NULL)
        g_string_append (s, " NIL");
      for (guint j = 0; entries != NULL && j < entries->len; j++)
        {
          LbImapNamespaceEntry *e = g_ptr_array_index (entries, j);

          g_string_append (s, " (");
          append_nstring (s, e->prefix);
          g_string_append_c (s, ' ');
          append_delimiter (s, e->delimiter);
          g_string_append_c (s, ')');
        }
      g_string_append_c (s, '\n');
    }
}

char *
lb_imap_response_to_string (LbImapResponse *r)
{
  GString *s;
  const char *status;

  g_return_val_if_fail (r != NULL, NULL);

  s = g_string_new (NULL);
  status = status_name (r->status);
  switch (r->kind)
    {
    case LB_IMAP_RESPONSE_CONTINUATION:
      g_string_append (s, "+\n");
      break;
    case LB_IMAP_RESPONSE_TAGGED:
      append_atom (s, r->tag);
      g_string_append_printf (s, " %s\n", status != NULL ? status : "?");
      break;
    case LB_IMAP_RESPONSE_UNTAGGED:
    default:
      g_string_append (s, "* ");
      if (status != NULL)
        g_string_append (s, status);
      else if (r->data == LB_IMAP_DATA_EXISTS || r->data == LB_IMAP_DATA_RECENT ||
               r->data == LB_IMAP_DATA_EXPUNGE || r->data == LB_IMAP_DATA_FETCH ||
               (r->data == LB_IMAP_DATA_OTHER && r->number != 0))
        {
          g_string_append_printf (s, "%u ", r->number);
          append_atom (s, r->data_name);
        }
      else
        append_atom (s, r->data_name);
      g_string_append_c (s, '\n');
      break;
    }

  if (status != NULL || r->kind == LB_IMAP_RESPONSE_CONTINUATION)
    {
      append_code (s, r);
      g_string_append (s, "  text: ");
      append_nstring (s, r->text);
      g_string_append_c (s, '\n');
      return g_string_free (s, FALSE);
    }

  switch (r->data)
    {
    case LB_IMAP_DATA_CAPABILITY:
    case LB_IMAP_DATA_ENABLED:
    case LB_IMAP_DATA_FLAGS:
    case LB_IMAP_DATA_ID:
    case LB_IMAP_DATA_QUOTAROOT:
      g_string_append (s, "  ");
      append_strv (s, r->strv);
      g_string_append_c (s, '\n');
      break;
    case LB_IMAP_DATA_LIST:
    case LB_IMAP_DATA_LSUB:
      append_list (s, r->list);
      break;
    case LB_IMAP_DATA_STATUS:
      append_status_data (s, r->status_data);
      break;
    case LB_IMAP_DATA_FETCH:
      append_fetch (s, r->fetch);
      break;
    case LB_IMAP_DATA_SEARCH:
    case LB_IMAP_DATA_SORT:
      if (r->search->len > 0 || r->search_has_modseq)
        {
          g_string_append (s, " ");
          append_numbers (s, r->search);
          if (r->search_has_modseq)
            g_string_append_printf (s, " (MODSEQ %" G_GUINT64_FORMAT ")", r->search_modseq);
          g_string_append_c (s, '\n');
        }
      break;
    case LB_IMAP_DATA_ESEARCH:
      append_esearch (s, r->esearch);
      break;
    case LB_IMAP_DATA_VANISHED:
      g_string_append (s, r->vanished_earlier ? "  earlier " : "  ");
      append_set (s, r->set);
      g_string_append_c (s, '\n');
      break;
    case LB_IMAP_DATA_NAMESPACE:
      append_namespaces (s, r);
      break;
    case LB_IMAP_DATA_QUOTA:
      g_string_append (s, "  root: ");
      append_nstring (s, r->quota->root);
      g_string_append_c (s, '\n');
      for (guint i = 0; i < r->quota->resources->len; i++)
        {
          LbImapQuotaResource *res = &g_array_index (r->quota->resources, LbImapQuotaResource, i);

          g_string_append (s, "  ");
          append_atom (s, res->name);
          g_string_append_printf (s, ": %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "\n",
                                  res->usage, res->limit);
        }
      break;
    case LB_IMAP_DATA_OTHER:
      if (r->values != NULL && r->values->len > 0)
        {
          g_string_append (s, "  ");
          append_values (s, r->values);
          g_string_append_c (s, '\n');
        }
      break;
    case LB_IMAP_DATA_EXISTS:
    case LB_IMAP_DATA_RECENT:
    case LB_IMAP_DATA_EXPUNGE:
    case LB_IMAP_DATA_NONE:
    default:
      break;
    }
  return g_string_free (s, FALSE);
}
