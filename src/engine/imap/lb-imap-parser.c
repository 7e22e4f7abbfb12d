/* lb-imap-parser.c: IMAP response framing and parsing (pure, no I/O)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-imap"

#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "lb-imap-parser.h"
#include "lb-imap-response-private.h"

/* The parser works in one pass over a whole frame (what the framer
 * returned): a cursor, a character class table and recursive descent
 * bounded by MAX_DEPTH. Tokens are never copied on their way through;
 * only the strings that end up in the response are allocated: the FETCH
 * data (while in_blocks is set) in the response's blocks, the rest one by
 * one. Literals are in the frame right after their "{n}\r\n". */

G_DEFINE_QUARK (lb-imap-parse-error-quark, lb_imap_parse_error)

#define MAX_DEPTH 64

/* character classes (RFC 3501 9, RFC 9051 9) */
enum
{
  C_ATOM = 1 << 0,     /* ATOM-CHAR (8-bit bytes allowed, see below) */
  C_ASTRING = 1 << 1,  /* ASTRING-CHAR: ATOM-CHAR / "]" */
  C_TAG = 1 << 2,      /* ASTRING-CHAR except "+" */
  C_DIGIT = 1 << 3,
  C_LIST = 1 << 4,     /* list-char: ATOM-CHAR / "%" / "*" / "]" */
  C_QSTOP = 1 << 5,    /* what ends a run of plain quoted characters */
};

static guint8 char_class[256];

static void
init_char_class (void)
{
  static gsize initialized = 0;

  if (!g_once_init_enter (&initialized))
    return;

  for (guint c = 0; c < 256; c++)
    {
      guint8 cls = 0;

      /* 8-bit bytes count as atom characters: servers put UTF-8 in atoms
       * (flags, mailbox names) now and then; CTLs never. */
      if ((c > 0x20 && c < 0x7f) || c >= 0x80)
        {
          if (strchr ("(){%*\"\\]", (int) c) == NULL)
            cls |= C_ATOM | C_ASTRING | C_TAG | C_LIST;
          if (c == ']')
            cls |= C_ASTRING | C_TAG | C_LIST;
          if (c == '%' || c == '*')
            cls |= C_LIST;
          if (c == '+')
            cls &= (guint8) ~C_TAG;
        }
      if (c >= '0' && c <= '9')
        cls |= C_DIGIT;
      if (c == '"' || c == '\\' || c == '\r' || c == '\n' || c == '\0')
        cls |= C_QSTOP;
      char_class[c] = cls;
    }

  g_once_init_leave (&initialized, 1);
}

#define IS(c, cls) ((char_class[(guint8) (c)] & (cls)) != 0)

/* inline ASCII case mapping: these run on every byte of many tokens */
static inline char
lower (char c)
{
  return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
}

static inline char
upper (char c)
{
  return c >= 'a' && c <= 'z' ? (char) (c - ('a' - 'A')) : c;
}

typedef struct
{
  const guint8    *base;
  const guint8    *p;
  const guint8    *end;
  LbImapParseFlags flags;
  guint            depth;
  GError          *error;
  LbImapResponse  *r;
  gboolean         in_blocks;   /* strings go to r's blocks */
} Parser;

static gboolean
fail (Parser     *P,
      const char *what)
{
  if (P->error == NULL)
    {
      /* (a number printed first: a format macro inside _() cannot be translated) */
      g_autofree char *offset = g_strdup_printf ("%" G_GSIZE_FORMAT, (gsize) (P->p - P->base));

      g_set_error (&P->error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_SYNTAX,
                   _("The server sent a response that cannot be read: expected %s at byte %s"),
                   _(what), offset);
    }
  return FALSE;
}

static inline int
peek (Parser *P)
{
  return P->p < P->end ? *P->p : -1;
}

static inline gboolean
at_eol (Parser *P)
{
  return P->p >= P->end || *P->p == '\r' || *P->p == '\n';
}

static inline gboolean
accept (Parser *P,
        char    c)
{
  if (P->p < P->end && *P->p == (guint8) c)
    {
      P->p++;
      return TRUE;
    }
  return FALSE;
}

static inline gboolean
expect (Parser     *P,
        char        c,
        const char *what)
{
  if (accept (P, c))
    return TRUE;
  return fail (P, what);
}

static inline gboolean
sp (Parser *P)
{
  return expect (P, ' ', N_("a space"));
}

static inline gboolean
open_paren (Parser *P)
{
  return expect (P, '(', N_("“(”"));
}

static inline gboolean
close_paren (Parser *P)
{
  return expect (P, ')', N_("“)”"));
}

static inline gsize
span (Parser *P,
      guint8  cls)
{
  const guint8 *s = P->p;

  while (s < P->end && IS (*s, cls))
    s++;
  return (gsize) (s - P->p);
}

static gboolean
token_is (const guint8 *s,
          gsize         len,
          const char   *keyword)
{
  gsize i;

  /* keywords are upper-case ASCII */
  for (i = 0; i < len; i++)
    if (keyword[i] == '\0' || upper ((char) s[i]) != keyword[i])
      return FALSE;
  return keyword[i] == '\0';
}

/* reads a keyword (ATOM-CHARs) and leaves the cursor after it */
static gboolean
keyword (Parser        *P,
         const guint8 **s,
         gsize         *len)
{
  *s = P->p;
  *len = span (P, C_ATOM);
  if (*len == 0)
    return fail (P, N_("a keyword"));
  P->p += *len;
  return TRUE;
}

static char *
upper_dup (const guint8 *s,
           gsize         len)
{
  char *out = g_malloc (len + 1);

  for (gsize i = 0; i < len; i++)
    out[i] = upper ((char) s[i]);
  out[len] = '\0';
  return out;
}

static char *
bytes_dup (const guint8 *s,
           gsize         len)
{
  char *out = g_malloc (len + 1);

  memcpy (out, s, len);
  out[len] = '\0';
  return out;
}

/* a string of the response: in its blocks while parsing FETCH data */
static char *
str_dup (Parser       *P,
         const guint8 *s,
         gsize         len)
{
  if (P->in_blocks)
    return lb_imap_response_strndup (P->r, s, len);
  return bytes_dup (s, len);
}

static char *
block_str (Parser     *P,
           const char *s)
{
  return lb_imap_response_strndup (P->r, s, strlen (s));
}

/* NULL-terminated string vectors, in the blocks or (outside FETCH data)
 * g_malloc'ed as g_strfreev() frees them */
typedef struct
{
  GPtrArray *array;   /* of g_malloc'ed strings; NULL in the blocks */
  char     **v;       /* in the blocks, zeroed past len */
  guint      len;
  guint      cap;
} Strv;

static void
strv_init (Parser *P,
           Strv   *strv)
{
  memset (strv, 0, sizeof *strv);
  if (!P->in_blocks)
    strv->array = g_ptr_array_new_with_free_func (g_free);
}

/* takes @str, from str_dup() */
static void
strv_add (Parser *P,
          Strv   *strv,
          char   *str)
{
  if (strv->array != NULL)
    {
      g_ptr_array_add (strv->array, str);
      return;
    }
  if (strv->len + 1 >= strv->cap)
    {
      /* the old vector stays in the blocks: they are freed together */
      guint cap = strv->cap > 0 ? strv->cap * 2 : 8;
      char **v = lb_imap_response_alloc0 (P->r, cap * sizeof (char *));

      if (strv->len > 0)
        memcpy (v, strv->v, strv->len * sizeof (char *));
      strv->v = v;
      strv->cap = cap;
    }
  strv->v[strv->len++] = str;
}

static guint
strv_len (Strv *strv)
{
  return strv->array != NULL ? strv->array->len : strv->len;
}

static char **
strv_end (Parser *P,
          Strv   *strv)
{
  if (strv->array != NULL)
    {
      g_ptr_array_add (strv->array, NULL);
      return (char **) g_ptr_array_free (g_steal_pointer (&strv->array), FALSE);
    }
  if (strv->v == NULL)
    return lb_imap_response_alloc0 (P->r, sizeof (char *));
  return strv->v;
}

static void
strv_clear (Strv *strv)
{
  g_clear_pointer (&strv->array, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Strv, strv_clear)

/* NIL, case-insensitively, not followed by more of an atom */
static gboolean
at_nil (Parser *P)
{
  const guint8 *s = P->p;

  return P->end - s >= 3 &&
         (s[0] | 0x20) == 'n' && (s[1] | 0x20) == 'i' && (s[2] | 0x20) == 'l' &&
         (P->end - s == 3 || !IS (s[3], C_ASTRING));
}

static gboolean
number64 (Parser     *P,
          guint64    *out,
          const char *what)
{
  const guint8 *s = P->p;
  guint64 n = 0;

  if (s >= P->end || !IS (*s, C_DIGIT))
    return fail (P, what);
  while (s < P->end && IS (*s, C_DIGIT))
    {
      guint d = *s - '0';

      /* number64: at most 2^63 - 1 */
      if (G_UNLIKELY (n >= (guint64) G_MAXINT64 / 10) &&
          (n > (guint64) G_MAXINT64 / 10 || d > (guint) (G_MAXINT64 % 10)))
        return fail (P, N_("a number below 2^63"));
      n = n * 10 + d;
      s++;
    }
  P->p = s;
  *out = n;
  return TRUE;
}

static gboolean
number32 (Parser     *P,
          guint32    *out,
          const char *what)
{
  guint64 n;
  const guint8 *start = P->p;

  if (!number64 (P, &n, what))
    return FALSE;
  if (n > G_MAXUINT32)
    {
      P->p = start;
      return fail (P, N_("a number below 2^32"));
    }
  *out = (guint32) n;
  return TRUE;
}

static gboolean
nz_number32 (Parser     *P,
             guint32    *out,
             const char *what)
{
  const guint8 *start = P->p;

  if (!number32 (P, out, what))
    return FALSE;
  if (*out == 0)
    {
      P->p = start;
      return fail (P, what);
    }
  return TRUE;
}

/* Strings. The string functions return the bytes in a new buffer with a
 * NUL after them (literals may hold NULs themselves). */

static gboolean
quoted (Parser *P,
        char  **out,
        gsize  *out_len)
{
  const guint8 *s = P->p + 1;
  const guint8 *start = s;
  gboolean escaped = FALSE;
  char *buf;
  gsize n = 0;

  /* find the end first, then copy once */
  for (;;)
    {
      while (s < P->end && !IS (*s, C_QSTOP))
        s++;
      if (s >= P->end || *s == '\r' || *s == '\n' || *s == '\0')
        {
          P->p = s;
          return fail (P, N_("the end of a quoted string"));
        }
      if (*s == '"')
        break;
      if (*s == '\\')
        {
          if (s + 1 >= P->end || (s[1] != '"' && s[1] != '\\'))
            {
              P->p = s;
              return fail (P, N_("“\\\\” or “\\\"” in a quoted string"));
            }
          escaped = TRUE;
          s += 2;
          continue;
        }
      s++;
    }

  if (!escaped)
    {
      n = (gsize) (s - start);
      buf = str_dup (P, start, n);
    }
  else
    {
      /* (a copy to unescape in place) */
      buf = str_dup (P, start, (gsize) (s - start));
      for (const guint8 *q = start; q < s; q++)
        {
          if (*q == '\\')
            q++;
          buf[n++] = (char) *q;
        }
      buf[n] = '\0';
    }

  P->p = s + 1;
  *out = buf;
  if (out_len != NULL)
    *out_len = n;
  return TRUE;
}

/* "{n}" CRLF octets, or "~{n}" for literal8 */
static gboolean
literal (Parser        *P,
         const guint8 **data,
         gsize         *len)
{
  guint64 n;

  accept (P, '~');
  if (!expect (P, '{', N_("a literal")))
    return FALSE;
  if (!number64 (P, &n, N_("the length of a literal")))
    return FALSE;
  if (!expect (P, '}', N_("“}” after the length of a literal")))
    return FALSE;
  accept (P, '\r');
  if (!expect (P, '\n', N_("the end of the line after a literal's length")))
    return FALSE;
  if (n > (guint64) (P->end - P->p))
    return fail (P, N_("as many bytes as the literal announced"));
  *data = P->p;
  *len = (gsize) n;
  P->p += n;
  return TRUE;
}

static inline gboolean
at_literal (Parser *P)
{
  int c = peek (P);

  return c == '{' || (c == '~' && P->p + 1 < P->end && P->p[1] == '{');
}

static gboolean
string (Parser *P,
        char  **out,
        gsize  *out_len)
{
  int c = peek (P);

  if (c == '"')
    return quoted (P, out, out_len);
  if (at_literal (P))
    {
      const guint8 *data;
      gsize len;

      if (!literal (P, &data, &len))
        return FALSE;
      *out = str_dup (P, data, len);
      if (out_len != NULL)
        *out_len = len;
      return TRUE;
    }
  return fail (P, N_("a string"));
}

static gboolean
nstring (Parser *P,
         char  **out,
         gsize  *out_len)
{
  if (at_nil (P))
    {
      P->p += 3;
      *out = NULL;
      if (out_len != NULL)
        *out_len = 0;
      return TRUE;
    }
  return string (P, out, out_len);
}

static gboolean
astring (Parser *P,
         char  **out)
{
  int c = peek (P);
  gsize len;

  if (c == '"' || at_literal (P))
    return string (P, out, NULL);
  len = span (P, C_ASTRING);
  if (len == 0)
    return fail (P, N_("an atom or a string"));
  *out = str_dup (P, P->p, len);
  P->p += len;
  return TRUE;
}

/* generic values */

static LbImapValue *value (Parser *P);

static LbImapValue *
value_new (LbImapValueKind kind)
{
  LbImapValue *v = g_new0 (LbImapValue, 1);

  v->kind = kind;
  return v;
}

static GPtrArray *
value_array_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) lb_imap_value_free);
}

static gboolean
enter (Parser *P)
{
  if (P->depth >= MAX_DEPTH)
    return fail (P, N_("less deeply nested lists"));
  P->depth++;
  return TRUE;
}

static void
leave (Parser *P)
{
  P->depth--;
}

/* "(" [value *(SP value)] ")" */
static GPtrArray *
value_list (Parser *P)
{
  g_autoptr(GPtrArray) list = NULL;

  if (!open_paren (P) || !enter (P))
    return NULL;
  list = value_array_new ();
  if (!accept (P, ')'))
    {
      for (;;)
        {
          LbImapValue *v = value (P);

          if (v == NULL)
            return NULL;
          g_ptr_array_add (list, v);
          if (accept (P, ')'))
            break;
          /* lists may follow each other without a space (THREAD) */
          if (v->kind == LB_IMAP_VALUE_LIST && peek (P) == '(')
            continue;
          if (!sp (P))
            return NULL;
        }
    }
  leave (P);
  return g_steal_pointer (&list);
}

/* an atom as the generic parser sees it: flags ("\Seen", "\*"), and
 * fetch item names with their section ("BODY[HEADER.FIELDS (A B)]<0>") */
static gsize
generic_atom_len (Parser *P)
{
  const guint8 *s = P->p;

  if (s < P->end && *s == '\\')
    {
      s++;
      if (s < P->end && *s == '*')
        return 2;
    }
  while (s < P->end)
    {
      if (*s == '[')
        {
          gboolean in_quote = FALSE;

          /* a section: up to its "]", which may hold spaces and lists */
          s++;
          while (s < P->end && *s != '\r' && *s != '\n' && (in_quote || *s != ']'))
            {
              if (*s == '"')
                in_quote = !in_quote;
              else if (*s == '\\' && in_quote && s + 1 < P->end)
                s++;
              s++;
            }
          if (s >= P->end || *s != ']')
            return 0;
          s++;
          if (s < P->end && *s == '<')
            {
              while (s < P->end && *s != '>' && IS (*s, C_ATOM))
                s++;
              if (s < P->end && *s == '>')
                s++;
            }
          continue;
        }
      /* list-char: sets like "1:*" are atoms here */
      if (!IS (*s, C_LIST))
        break;
      s++;
    }
  return (gsize) (s - P->p);
}

static LbImapValue *
value_in_heap (Parser *P)
{
  int c = peek (P);
  LbImapValue *v;

  if (c == '(')
    {
      GPtrArray *list = value_list (P);

      if (list == NULL)
        return NULL;
      v = value_new (LB_IMAP_VALUE_LIST);
      v->v.list = list;
      return v;
    }
  if (c == '"' || at_literal (P))
    {
      char *s;
      gsize len;

      if (!string (P, &s, &len))
        return NULL;
      v = value_new (LB_IMAP_VALUE_STRING);
      v->v.string = g_bytes_new_take (s, len);
      return v;
    }
  if (at_nil (P))
    {
      P->p += 3;
      return value_new (LB_IMAP_VALUE_NIL);
    }
  if (c >= 0 && IS (c, C_DIGIT))
    {
      gsize len = span (P, C_DIGIT);

      if (P->p + len >= P->end || !IS (P->p[len], C_LIST))
        {
          guint64 n;

          if (number64 (P, &n, N_("a number")))
            {
              v = value_new (LB_IMAP_VALUE_NUMBER);
              v->v.number = n;
              return v;
            }
          /* too large for a number: keep it as an atom */
          g_clear_error (&P->error);
        }
    }

  {
    gsize len = generic_atom_len (P);

    if (len == 0)
      {
        fail (P, N_("a value"));
        return NULL;
      }
    v = value_new (LB_IMAP_VALUE_ATOM);
    v->v.atom = bytes_dup (P->p, len);
    P->p += len;
    return v;
  }
}

/* a generic value: its own allocations, freed with lb_imap_value_free(),
 * even inside FETCH data */
static LbImapValue *
value (Parser *P)
{
  gboolean in_blocks = P->in_blocks;
  LbImapValue *v;

  P->in_blocks = FALSE;
  v = value_in_heap (P);
  P->in_blocks = in_blocks;
  return v;
}

/* "*" or a number, ranges with ":", lists with "," */
static GArray *
sequence_set (Parser *P)
{
  g_autoptr(GArray) set = g_array_new (FALSE, FALSE, sizeof (LbImapRange));

  for (;;)
    {
      LbImapRange range;

      if (accept (P, '*'))
        range.first = G_MAXUINT32;
      else if (!nz_number32 (P, &range.first, N_("a message number or range")))
        return NULL;
      range.last = range.first;
      if (accept (P, ':'))
        {
          if (accept (P, '*'))
            range.last = G_MAXUINT32;
          else if (!nz_number32 (P, &range.last, N_("a message number after “:”")))
            return NULL;
        }
      g_array_append_val (set, range);
      if (!accept (P, ','))
        break;
    }
  return g_steal_pointer (&set);
}

/* mailbox names */

static char *
decode_mailbox (Parser     *P,
                const char *raw)
{
  char *decoded;

  if (g_ascii_strcasecmp (raw, "INBOX") == 0)
    return g_strdup ("INBOX");

  if ((P->flags & LB_IMAP_PARSE_UTF8_MAILBOXES) == 0)
    {
      decoded = lb_imap_utf7_decode (raw, NULL);
      if (decoded != NULL)
        return decoded;
    }
  /* UTF-8 as negotiated, or a server that sends it unasked */
  if (g_utf8_validate (raw, -1, NULL))
    return g_strdup (raw);
  return g_utf8_make_valid (raw, -1);
}

static gboolean
mailbox (Parser *P,
         char  **raw,
         char  **decoded)
{
  if (!astring (P, raw))
    return FALSE;
  *decoded = decode_mailbox (P, *raw);
  return TRUE;
}

/* flags: "(" [flag *(SP flag)] ")"; a flag is "\" atom, "\*" or an atom.
 * Gmail sends keywords with "]" in them (its bug 315160951): allowed. */
static gboolean
flag_list (Parser  *P,
           char  ***out)
{
  g_auto(Strv) flags = { NULL, NULL, 0, 0 };

  if (!open_paren (P))
    return FALSE;
  strv_init (P, &flags);
  while (!accept (P, ')'))
    {
      const guint8 *start = P->p;
      gsize len;

      if (strv_len (&flags) > 0 && !accept (P, ' '))
        return fail (P, N_("a space or “)”"));
      /* tolerate a space before ")" */
      if (strv_len (&flags) > 0 && accept (P, ')'))
        break;
      start = P->p;
      if (accept (P, '\\') && accept (P, '*'))
        len = 2;
      else
        {
          len = span (P, C_ASTRING);
          if (len == 0)
            return fail (P, N_("a flag"));
          P->p += len;
          len = (gsize) (P->p - start);
        }
      strv_add (P, &flags, str_dup (P, start, len));
    }
  *out = strv_end (P, &flags);
  return TRUE;
}

/* "(" astring *(SP astring) ")" to a strv; @allow_nil: NIL gives NULL */
static gboolean
string_list (Parser  *P,
             char  ***out)
{
  g_auto(Strv) strings = { NULL, NULL, 0, 0 };

  if (!open_paren (P))
    return FALSE;
  strv_init (P, &strings);
  while (!accept (P, ')'))
    {
      char *s;

      if (strv_len (&strings) > 0 && !sp (P))
        return FALSE;
      if (!astring (P, &s))
        return FALSE;
      strv_add (P, &strings, s);
    }
  *out = strv_end (P, &strings);
  return TRUE;
}

/* response codes */

static const struct
{
  const char *name;
  LbImapCode  code;
} codes[] = {
  { "ALERT", LB_IMAP_CODE_ALERT },
  { "ALREADYEXISTS", LB_IMAP_CODE_ALREADYEXISTS },
  { "APPENDUID", LB_IMAP_CODE_APPENDUID },
  { "AUTHENTICATIONFAILED", LB_IMAP_CODE_AUTHENTICATIONFAILED },
  { "AUTHORIZATIONFAILED", LB_IMAP_CODE_AUTHORIZATIONFAILED },
  { "BADCHARSET", LB_IMAP_CODE_BADCHARSET },
  { "CANNOT", LB_IMAP_CODE_CANNOT },
  { "CAPABILITY", LB_IMAP_CODE_CAPABILITY },
  { "CLIENTBUG", LB_IMAP_CODE_CLIENTBUG },
  { "CLOSED", LB_IMAP_CODE_CLOSED },
  { "CONTACTADMIN", LB_IMAP_CODE_CONTACTADMIN },
  { "COPYUID", LB_IMAP_CODE_COPYUID },
  { "CORRUPTION", LB_IMAP_CODE_CORRUPTION },
  { "EXPIRED", LB_IMAP_CODE_EXPIRED },
  { "EXPUNGEISSUED", LB_IMAP_CODE_EXPUNGEISSUED },
  { "HASCHILDREN", LB_IMAP_CODE_HASCHILDREN },
  { "HIGHESTMODSEQ", LB_IMAP_CODE_HIGHESTMODSEQ },
  { "INUSE", LB_IMAP_CODE_INUSE },
  { "LIMIT", LB_IMAP_CODE_LIMIT },
  { "MODIFIED", LB_IMAP_CODE_MODIFIED },
  { "NOMODSEQ", LB_IMAP_CODE_NOMODSEQ },
  { "NONEXISTENT", LB_IMAP_CODE_NONEXISTENT },
  { "NOPERM", LB_IMAP_CODE_NOPERM },
  { "OVERQUOTA", LB_IMAP_CODE_OVERQUOTA },
  { "PARSE", LB_IMAP_CODE_PARSE },
  { "PERMANENTFLAGS", LB_IMAP_CODE_PERMANENTFLAGS },
  { "PRIVACYREQUIRED", LB_IMAP_CODE_PRIVACYREQUIRED },
  { "READ-ONLY", LB_IMAP_CODE_READ_ONLY },
  { "READ-WRITE", LB_IMAP_CODE_READ_WRITE },
  { "SERVERBUG", LB_IMAP_CODE_SERVERBUG },
  { "TRYCREATE", LB_IMAP_CODE_TRYCREATE },
  { "UIDNEXT", LB_IMAP_CODE_UIDNEXT },
  { "UIDNOTSTICKY", LB_IMAP_CODE_UIDNOTSTICKY },
  { "UIDVALIDITY", LB_IMAP_CODE_UIDVALIDITY },
  { "UNAVAILABLE", LB_IMAP_CODE_UNAVAILABLE },
  { "UNKNOWN-CTE", LB_IMAP_CODE_UNKNOWN_CTE },
  { "UNSEEN", LB_IMAP_CODE_UNSEEN },
  { "COMPRESSIONACTIVE", LB_IMAP_CODE_COMPRESSIONACTIVE },
  { "NOTSAVED", LB_IMAP_CODE_NOTSAVED },
  { "REFERRAL", LB_IMAP_CODE_REFERRAL },
};

/* the arguments of a known code, in a parser over just them; FALSE when
 * they do not have the code's syntax */
static gboolean
code_arguments (Parser         *P,
                LbImapResponse *r)
{
  gboolean has_args = P->p < P->end;

  switch (r->code)
    {
    case LB_IMAP_CODE_CAPABILITY:
      {
        g_autoptr(GPtrArray) caps = g_ptr_array_new_with_free_func (g_free);

        while (P->p < P->end)
          {
            const guint8 *s;
            gsize len;

            if (!keyword (P, &s, &len))
              return FALSE;
            g_ptr_array_add (caps, bytes_dup (s, len));
            if (P->p < P->end && !sp (P))
              return FALSE;
          }
        g_ptr_array_add (caps, NULL);
        r->code_strv = (char **) g_ptr_array_free (g_steal_pointer (&caps), FALSE);
        return TRUE;
      }

    case LB_IMAP_CODE_PERMANENTFLAGS:
      return flag_list (P, &r->code_strv);

    case LB_IMAP_CODE_BADCHARSET:
      if (!has_args)
        {
          r->code_strv = g_new0 (char *, 1);
          return TRUE;
        }
      return string_list (P, &r->code_strv);

    case LB_IMAP_CODE_UIDVALIDITY:
    case LB_IMAP_CODE_UIDNEXT:
    case LB_IMAP_CODE_UNSEEN:
      {
        guint32 n;

        if (!number32 (P, &n, N_("a number")))
          return FALSE;
        r->code_number = n;
        return TRUE;
      }

    case LB_IMAP_CODE_HIGHESTMODSEQ:
      return number64 (P, &r->code_number, N_("a modification sequence"));

    case LB_IMAP_CODE_APPENDUID:
      if (!nz_number32 (P, &r->code_uidvalidity, N_("a UIDVALIDITY")) || !sp (P))
        return FALSE;
      r->code_set = sequence_set (P);
      return r->code_set != NULL;

    case LB_IMAP_CODE_COPYUID:
      if (!nz_number32 (P, &r->code_uidvalidity, N_("a UIDVALIDITY")) || !sp (P))
        return FALSE;
      r->code_source_set = sequence_set (P);
      if (r->code_source_set == NULL || !sp (P))
        return FALSE;
      r->code_set = sequence_set (P);
      return r->code_set != NULL;

    case LB_IMAP_CODE_MODIFIED:
      r->code_set = sequence_set (P);
      return r->code_set != NULL;

    case LB_IMAP_CODE_REFERRAL:
      /* the URL is code_text */
      P->p = P->end;
      return has_args;

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
    default:
      /* codes without arguments: ones sent anyway are kept in code_text */
      P->p = P->end;
      return TRUE;
    }
}

static void
clear_code (LbImapResponse *r)
{
  r->code = LB_IMAP_CODE_NONE;
  g_clear_pointer (&r->code_name, g_free);
  g_clear_pointer (&r->code_text, g_free);
  g_clear_pointer (&r->code_strv, g_strfreev);
  g_clear_pointer (&r->code_set, g_array_unref);
  g_clear_pointer (&r->code_source_set, g_array_unref);
  r->code_number = 0;
  r->code_uidvalidity = 0;
}

static const guint8 *
find_code_end (const guint8 *s,
               const guint8 *end,
               gboolean      quotes)
{
  gboolean in_quote = FALSE;

  for (; s < end && *s != '\r' && *s != '\n'; s++)
    {
      if (in_quote && *s == '\\' && s + 1 < end && s[1] != '\r' && s[1] != '\n')
        s++;
      else if (quotes && *s == '"')
        in_quote = !in_quote;
      else if (!in_quote && *s == ']')
        return s;
    }
  return NULL;
}

/* "[" resp-text-code "]"; FALSE (with no error) when what follows "[" is
 * not a code, and the caller reads it as text (Exchange sends
 * "[Error=... ]" for one) */
static gboolean
resp_text_code (Parser         *P,
                LbImapResponse *r)
{
  const guint8 *save = P->p;
  const guint8 *name;
  const guint8 *args = NULL;
  const guint8 *close;
  gsize name_len;

  P->p++; /* "[" */
  name = P->p;
  name_len = span (P, C_ATOM);
  if (name_len == 0)
    goto not_a_code;
  P->p += name_len;
  if (accept (P, ' '))
    args = P->p;
  else if (peek (P) != ']')
    goto not_a_code;

  /* resp-text-code arguments: any TEXT-CHAR except "]", but a quoted
   * string (in BADCHARSET) may hold one */
  close = find_code_end (P->p, P->end, TRUE);
  if (close == NULL)
    close = find_code_end (P->p, P->end, FALSE);
  if (close == NULL)
    goto not_a_code;

  r->code_name = upper_dup (name, name_len);
  r->code = LB_IMAP_CODE_OTHER;
  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    if (strcmp (codes[i].name, r->code_name) == 0)
      {
        r->code = codes[i].code;
        break;
      }
  if (args != NULL)
    r->code_text = bytes_dup (args, (gsize) (close - args));

  if (r->code != LB_IMAP_CODE_OTHER)
    {
      Parser sub = { P->base, args != NULL ? args : close, close, P->flags, P->depth, NULL };

      if (!code_arguments (&sub, r) || sub.p != sub.end)
        {
          /* a known code with broken arguments: keep its name and text
           * only, so nobody trusts half of it */
          g_autofree char *code_name = g_steal_pointer (&r->code_name);
          g_autofree char *code_text = g_steal_pointer (&r->code_text);

          g_clear_error (&sub.error);
          clear_code (r);
          r->code = LB_IMAP_CODE_OTHER;
          r->code_name = g_steal_pointer (&code_name);
          r->code_text = g_steal_pointer (&code_text);
        }
    }

  P->p = close + 1;
  return TRUE;

not_a_code:
  P->p = save;
  return FALSE;
}

/* resp-text = ["[" resp-text-code "]" SP] text; the text may be missing
 * (a quirk of many servers) */
static gboolean
resp_text (Parser         *P,
           LbImapResponse *r)
{
  const guint8 *s, *e;

  if (peek (P) == '[' && resp_text_code (P, r))
    accept (P, ' ');

  s = P->p;
  while (P->p < P->end && *P->p != '\r' && *P->p != '\n')
    P->p++;
  e = P->p;
  /* trailing spaces are nobody's text */
  while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
    e--;
  r->text = bytes_dup (s, (gsize) (e - s));
  return TRUE;
}

/* ENVELOPE */

/* in the blocks, like everything of an ENVELOPE; sets *@out first (to
 * an empty list), so that a failure leaves a valid envelope */
static gboolean
address_list (Parser          *P,
              LbImapAddress ***out)
{
  guint len = 0;
  guint cap = 0;

  *out = lb_imap_response_alloc0 (P->r, sizeof (LbImapAddress *));
  if (at_nil (P))
    {
      P->p += 3;
      return TRUE;
    }
  if (!open_paren (P))
    return FALSE;
  while (!accept (P, ')'))
    {
      LbImapAddress *a;

      /* outlook.com puts a space between addresses */
      if (len > 0)
        accept (P, ' ');
      if (!open_paren (P))
        return FALSE;
      if (len + 1 >= cap)
        {
          /* the old list stays in the blocks: they are freed together */
          guint new_cap = cap > 0 ? cap * 2 : 4;
          LbImapAddress **v = lb_imap_response_alloc0 (P->r, new_cap * sizeof *v);

          if (len > 0)
            memcpy (v, *out, len * sizeof *v);
          *out = v;
          cap = new_cap;
        }
      a = lb_imap_response_alloc0 (P->r, sizeof *a);
      (*out)[len++] = a;
      if (!nstring (P, &a->name, NULL) || !sp (P) ||
          !nstring (P, &a->adl, NULL) || !sp (P) ||
          !nstring (P, &a->mailbox, NULL) || !sp (P) ||
          !nstring (P, &a->host, NULL) || !close_paren (P))
        return FALSE;
    }
  return TRUE;
}

/* sets *@out first, so that what a failure leaves is freed with the response */
static gboolean
envelope (Parser          *P,
          LbImapEnvelope **out)
{
  LbImapEnvelope *e = *out = lb_imap_response_alloc0 (P->r, sizeof *e);

  return open_paren (P) &&
         nstring (P, &e->date, NULL) && sp (P) &&
         nstring (P, &e->subject, NULL) && sp (P) &&
         address_list (P, &e->from) && sp (P) &&
         address_list (P, &e->sender) && sp (P) &&
         address_list (P, &e->reply_to) && sp (P) &&
         address_list (P, &e->to) && sp (P) &&
         address_list (P, &e->cc) && sp (P) &&
         address_list (P, &e->bcc) && sp (P) &&
         nstring (P, &e->in_reply_to, NULL) && sp (P) &&
         nstring (P, &e->message_id, NULL) && close_paren (P);
}

/* BODYSTRUCTURE */

/* body-fld-param: "(" string SP string *(SP string SP string) ")" / nil;
 * names lower-cased. Empty "()" is tolerated. */
static gboolean
body_params (Parser  *P,
             char  ***out,
             gboolean nil_is_empty)
{
  g_auto(Strv) params = { NULL, NULL, 0, 0 };

  if (at_nil (P))
    {
      P->p += 3;
      *out = nil_is_empty ? lb_imap_response_alloc0 (P->r, sizeof (char *)) : NULL;
      return TRUE;
    }
  if (!open_paren (P))
    return FALSE;
  strv_init (P, &params);
  while (!accept (P, ')'))
    {
      char *name;
      char *val;

      if (strv_len (&params) > 0 && !sp (P))
        return FALSE;
      if (!string (P, &name, NULL))
        return FALSE;
      strv_add (P, &params, name);
      for (char *c = name; *c; c++)
        *c = lower (*c);
      if (!sp (P))
        return FALSE;
      /* a NIL value is a known quirk; keep it as "" */
      if (!nstring (P, &val, NULL))
        return FALSE;
      strv_add (P, &params, val != NULL ? val : block_str (P, ""));
    }
  *out = strv_end (P, &params);
  return TRUE;
}

static gboolean
lower_nstring (Parser *P,
               char  **out)
{
  if (!nstring (P, out, NULL))
    return FALSE;
  if (*out != NULL)
    for (char *c = *out; *c; c++)
      *c = lower (*c);
  return TRUE;
}

/* body-fld-dsp: "(" string SP body-fld-param ")" / nil */
static gboolean
body_disposition (Parser     *P,
                  LbImapBody *b)
{
  if (at_nil (P))
    {
      P->p += 3;
      return TRUE;
    }
  if (peek (P) == '"')
    {
      /* a bare string instead of the list: seen in the wild */
      return lower_nstring (P, &b->disposition);
    }
  if (!open_paren (P) || !lower_nstring (P, &b->disposition) || !sp (P) ||
      !body_params (P, &b->disposition_params, FALSE) || !close_paren (P))
    return FALSE;
  return TRUE;
}

/* body-fld-lang: nstring / "(" string *(SP string) ")" */
static gboolean
body_language (Parser     *P,
               LbImapBody *b)
{
  if (peek (P) == '(')
    return string_list (P, &b->language);
  else
    {
      char *s;

      if (!nstring (P, &s, NULL))
        return FALSE;
      if (s != NULL)
        {
          b->language = lb_imap_response_alloc0 (P->r, 2 * sizeof (char *));
          b->language[0] = s;
        }
      return TRUE;
    }
}

/* [SP dsp [SP lang [SP loc *(SP body-extension)]]], after md5 or params */
static gboolean
body_extension_tail (Parser     *P,
                     LbImapBody *b)
{
  if (!accept (P, ' '))
    return TRUE;
  if (!body_disposition (P, b))
    return FALSE;
  if (!accept (P, ' '))
    return TRUE;
  if (!body_language (P, b))
    return FALSE;
  if (!accept (P, ' '))
    return TRUE;
  if (!nstring (P, &b->location, NULL))
    return FALSE;
  while (accept (P, ' '))
    {
      LbImapValue *v = value (P);

      if (v == NULL)
        return FALSE;
      if (b->extension == NULL)
        b->extension = value_array_new ();
      g_ptr_array_add (b->extension, v);
    }
  return TRUE;
}

static gboolean body (Parser      *P,
                      LbImapBody **out);

static gboolean
body_multipart (Parser     *P,
                LbImapBody *b)
{
  b->children = g_ptr_array_new ();
  b->type = block_str (P, "multipart");
  while (peek (P) == '(')
    {
      /* the child's place first: what a failure leaves goes with the response */
      g_ptr_array_add (b->children, NULL);
      if (!body (P, (LbImapBody **) &b->children->pdata[b->children->len - 1]))
        return FALSE;
      /* some servers put a space between the parts */
      if (P->p + 1 < P->end && P->p[0] == ' ' && P->p[1] == '(')
        P->p++;
    }
  if (!sp (P))
    return FALSE;
  if (!lower_nstring (P, &b->subtype))
    return FALSE;
  if (b->subtype == NULL)
    b->subtype = block_str (P, "mixed");
  b->params = lb_imap_response_alloc0 (P->r, sizeof (char *));

  /* body-ext-mpart = body-fld-param [SP dsp [SP lang [SP loc *(SP ext)]]] */
  if (!accept (P, ' '))
    return TRUE;
  b->params = NULL;
  if (!body_params (P, &b->params, TRUE))
    return FALSE;
  return body_extension_tail (P, b);
}

/* at "(": a body ("((" or "(" string SP string), not a disposition
 * ("(" string SP "(" or NIL)? For message/rfc822 with a NIL envelope. */
static gboolean
looks_like_body (const guint8 *p,
                 const guint8 *end)
{
  if (end - p < 2)
    return FALSE;
  if (p[1] == '(')
    return TRUE;
  if (p[1] != '"')
    return FALSE;
  for (p += 2; p < end && *p != '"'; p++)
    if (*p == '\\')
      p++;
  return end - p > 2 && p[1] == ' ' && (p[2] == '"' || p[2] == '{');
}

static gboolean
body_single (Parser     *P,
             LbImapBody *b)
{
  if (!lower_nstring (P, &b->type))
    return FALSE;
  if (peek (P) == ')' || (P->p + 1 < P->end && P->p[0] == ' ' && P->p[1] == '(') ||
      (P->end - P->p > 4 && P->p[0] == ' ' && (P->p[1] | 0x20) == 'n' && (P->p[2] | 0x20) == 'i' &&
       (P->p[3] | 0x20) == 'l' && (P->p[4] == ' ' || P->p[4] == ')')))
    {
      /* a multipart without parts: ("MIXED"), ("MIXED" ("BOUNDARY"
       * "x") NIL NIL), or Gmail's ("RELATED" NIL ("ATTACHMENT" NIL) NIL),
       * seen from several servers; what came is the subtype (a single
       * part never has a NIL subtype or a list there) */
      b->subtype = g_steal_pointer (&b->type);
      if (b->subtype == NULL)
        b->subtype = block_str (P, "mixed");
      b->type = block_str (P, "multipart");
      b->children = g_ptr_array_new ();
      if (!accept (P, ' '))
        {
          b->params = lb_imap_response_alloc0 (P->r, sizeof (char *));
          return TRUE;
        }
      if (!body_params (P, &b->params, TRUE))
        return FALSE;
      return body_extension_tail (P, b);
    }
  if (!sp (P) || !lower_nstring (P, &b->subtype))
    return FALSE;
  if (b->type == NULL)
    b->type = block_str (P, "application");
  if (b->subtype == NULL)
    b->subtype = block_str (P, "octet-stream");

  /* body-fields; some servers send two spaces before the parameters */
  if (!sp (P))
    return FALSE;
  accept (P, ' ');
  if (!body_params (P, &b->params, TRUE) || !sp (P) ||
      !nstring (P, &b->id, NULL) || !sp (P) ||
      !nstring (P, &b->description, NULL) || !sp (P) ||
      !lower_nstring (P, &b->encoding) || !sp (P) ||
      !number64 (P, &b->size, N_("the size of a body part")))
    return FALSE;

  if (strcmp (b->type, "message") == 0 &&
      (strcmp (b->subtype, "rfc822") == 0 || strcmp (b->subtype, "global") == 0) &&
      P->p + 1 < P->end && P->p[0] == ' ' &&
      (P->p[1] == '(' ||
       (P->end - P->p > 6 && memcmp (P->p + 1, "NIL (", 5) == 0 && looks_like_body (P->p + 5, P->end))))
    {
      /* body-type-msg: SP envelope SP body SP body-fld-lines; some
       * servers send NIL for the envelope */
      P->p++;
      if (at_nil (P))
        P->p += 3;
      else if (!envelope (P, &b->envelope))
        return FALSE;
      if (!sp (P))
        return FALSE;
      if (!body (P, &b->message) || !sp (P))
        return FALSE;
      if (!number64 (P, &b->lines, N_("the line count of a body part")))
        return FALSE;
    }
  else if (strcmp (b->type, "text") == 0)
    {
      /* body-type-text: SP body-fld-lines */
      if (!sp (P) || !number64 (P, &b->lines, N_("the line count of a body part")))
        return FALSE;
    }

  /* body-ext-1part = body-fld-md5 [SP dsp [SP lang [SP loc *(SP ext)]]] */
  if (!accept (P, ' '))
    return TRUE;
  if (!nstring (P, &b->md5, NULL))
    return FALSE;
  return body_extension_tail (P, b);
}

/* in the blocks but for its arrays and extension values; sets *@out
 * first, so that what a failure leaves is freed with the response */
static gboolean
body (Parser      *P,
      LbImapBody **out)
{
  LbImapBody *b;
  gboolean ok;

  if (!open_paren (P) || !enter (P))
    return FALSE;
  b = *out = lb_imap_response_alloc0 (P->r, sizeof *b);
  if (peek (P) == '(')
    ok = body_multipart (P, b);
  else
    ok = body_single (P, b);
  if (!ok || !close_paren (P))
    return FALSE;
  leave (P);
  return TRUE;
}

/* INTERNALDATE */

static const char months[12][4] = {
  "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
};

static gint64
days_from_civil (gint64 y,
                 guint  m,
                 guint  d)
{
  gint64 era;
  guint yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = (guint) (y - era * 400);
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (gint64) doe - 719468;
}

static gboolean
digits (const char **s,
        guint        n,
        guint       *out)
{
  guint v = 0;

  for (guint i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit ((*s)[i]))
        return FALSE;
      v = v * 10 + (guint) ((*s)[i] - '0');
    }
  *s += n;
  *out = v;
  return TRUE;
}

gboolean
lb_imap_parse_internaldate (const char *text,
                            gint64     *out)
{
  static const guint8 days_in_month[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  const char *s = text;
  guint day, month = 12, year, hour, minute, second, zh, zm;
  int sign;
  gint64 t;

  g_return_val_if_fail (text != NULL, FALSE);

  /* date-day-fixed is (SP DIGIT) / 2DIGIT; a single digit is tolerated */
  if (*s == ' ')
    s++;
  if (g_ascii_isdigit (s[0]) && g_ascii_isdigit (s[1]))
    {
      if (!digits (&s, 2, &day))
        return FALSE;
    }
  else if (!digits (&s, 1, &day))
    return FALSE;
  if (*s++ != '-')
    return FALSE;
  for (guint i = 0; i < 12; i++)
    if (g_ascii_strncasecmp (s, months[i], 3) == 0)
      {
        month = i;
        break;
      }
  if (month == 12)
    return FALSE;
  s += 3;
  if (*s++ != '-' || !digits (&s, 4, &year) || *s++ != ' ' ||
      !digits (&s, 2, &hour) || *s++ != ':' ||
      !digits (&s, 2, &minute) || *s++ != ':' ||
      !digits (&s, 2, &second) || *s++ != ' ')
    return FALSE;
  if (*s == '+')
    sign = 1;
  else if (*s == '-')
    sign = -1;
  else
    return FALSE;
  s++;
  if (!digits (&s, 2, &zh) || !digits (&s, 2, &zm) || *s != '\0')
    return FALSE;

  if (day < 1 || day > days_in_month[month] ||
      (month == 1 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) ||
      hour > 23 || minute > 59 || second > 60 || zm > 59)
    return FALSE;

  t = days_from_civil (year, month + 1, day) * 86400 + hour * 3600 + minute * 60 + second;
  t -= sign * (gint64) (zh * 3600 + zm * 60);
  *out = t;
  return TRUE;
}

/* FETCH */

/* in the blocks, but for its data */
static LbImapSection *
section_new (Parser      *P,
             LbImapFetch *f)
{
  LbImapSection *section = lb_imap_response_alloc0 (P->r, sizeof *section);

  if (f->sections == NULL)
    f->sections = g_ptr_array_new ();
  g_ptr_array_add (f->sections, section);
  section->origin = -1;
  f->items |= LB_IMAP_FETCH_SECTIONS;
  return section;
}

/* section data: nstring, or literal8 for BINARY */
static gboolean
section_data (Parser        *P,
              LbImapSection *section)
{
  char *data;
  gsize len;

  /* the data must be heap memory for the GBytes to own */
  g_assert (!P->in_blocks);
  if (!nstring (P, &data, &len))
    return FALSE;
  if (data != NULL)
    section->data = g_bytes_new_take (data, len);
  return TRUE;
}

/* "[" section "]" ["<" number ">"], after BODY or BINARY */
static gboolean
section_spec (Parser        *P,
              LbImapSection *section,
              const char    *prefix)
{
  const guint8 *start = P->p;
  gboolean in_quote = FALSE;
  gsize prefix_len = prefix != NULL ? strlen (prefix) : 0;
  gsize inner_len;
  char *inner;

  while (P->p < P->end && *P->p != '\r' && *P->p != '\n' && (in_quote || *P->p != ']'))
    {
      if (*P->p == '"')
        in_quote = !in_quote;
      else if (*P->p == '\\' && in_quote && P->p + 1 < P->end)
        P->p++;
      P->p++;
    }
  if (!expect (P, ']', N_("“]” after a section")))
    return FALSE;
  inner_len = (gsize) (P->p - 1 - start);
  section->section = lb_imap_response_alloc_string (P->r, prefix_len + inner_len);
  if (prefix_len > 0)
    memcpy (section->section, prefix, prefix_len);
  inner = section->section + prefix_len;
  for (gsize i = 0; i < inner_len; i++)
    inner[i] = upper ((char) start[i]);
  if (memchr (inner, '"', inner_len) != NULL)
    {
      /* header names sent as quoted strings: as atoms, so that the
       * section reads the same whichever way the server wrote it */
      char *out = inner;

      for (const char *c = inner; *c != '\0'; c++)
        {
          if (*c == '"')
            continue;
          if (*c == '\\' && c[1] != '\0')
            c++;
          *out++ = *c;
        }
      *out = '\0';
    }
  if (accept (P, '<'))
    {
      guint64 origin;

      if (!number64 (P, &origin, N_("the origin of a partial section")) ||
          !expect (P, '>', N_("“>” after the origin of a section")))
        return FALSE;
      section->origin = (gint64) origin;
    }
  return TRUE;
}

static gboolean
objectid (Parser *P,
          char  **out)
{
  gsize len;

  if (!open_paren (P))
    return FALSE;
  len = span (P, C_ATOM);
  if (len == 0)
    return fail (P, N_("an object id"));
  *out = bytes_dup (P->p, len);
  P->p += len;
  return close_paren (P);
}

static void
add_extra (LbImapFetch  *f,
           const guint8 *name,
           gsize         len,
           LbImapValue  *v)
{
  LbImapValue *n = value_new (LB_IMAP_VALUE_ATOM);

  n->v.atom = upper_dup (name, len);
  if (f->extra == NULL)
    f->extra = value_array_new ();
  g_ptr_array_add (f->extra, n);
  g_ptr_array_add (f->extra, v);
}

/* X-GM-LABELS: "(" [label *(SP label)] ")", a label an astring or a
 * flag ("\\Inbox") */
static gboolean
gm_labels (Parser  *P,
           char  ***out)
{
  g_autoptr(GPtrArray) labels = NULL;

  if (!open_paren (P))
    return FALSE;
  labels = g_ptr_array_new_with_free_func (g_free);
  while (!accept (P, ')'))
    {
      char *label;

      if (labels->len > 0 && !sp (P))
        return FALSE;
      if (peek (P) == '\\')
        {
          gsize len;

          P->p++;
          len = span (P, C_ASTRING);
          if (len == 0)
            return fail (P, N_("a label"));
          label = bytes_dup (P->p - 1, len + 1);
          P->p += len;
        }
      else if (!astring (P, &label))
        return FALSE;
      g_ptr_array_add (labels, label);
    }
  g_ptr_array_add (labels, NULL);
  *out = (char **) g_ptr_array_free (g_steal_pointer (&labels), FALSE);
  return TRUE;
}

static gboolean
fetch_item (Parser      *P,
            LbImapFetch *f)
{
  const guint8 *name = P->p;
  gsize len = 0;

  /* the name, up to a section "[" */
  while (P->p + len < P->end && IS (P->p[len], C_ATOM) && P->p[len] != '[')
    len++;
  if (len == 0)
    return fail (P, N_("a FETCH item"));
  P->p += len;

#define NAME_IS(k) token_is (name, len, k)

  if (peek (P) == '[')
    {
      LbImapSection *section;

      P->p++;
      if (NAME_IS ("BODY"))
        {
          section = section_new (P, f);
          return section_spec (P, section, NULL) && sp (P) && section_data (P, section);
        }
      if (NAME_IS ("BINARY"))
        {
          section = section_new (P, f);
          return section_spec (P, section, "BINARY ") && sp (P) && section_data (P, section);
        }
      if (NAME_IS ("RFC822") && peek (P) == ']')
        {
          /* "RFC822[]", seen from Exchange: RFC822 */
          P->p++;
          section = section_new (P, f);
          section->section = block_str (P, "");
          return sp (P) && section_data (P, section);
        }
      else
        {
          /* BINARY.SIZE[1] and the like: keep name and section as the name */
          LbImapValue *v;
          const guint8 *s;

          P->p = name;
          len = generic_atom_len (P);
          if (len == 0)
            return fail (P, N_("a FETCH item"));
          s = P->p;
          P->p += len;
          if (!sp (P) || (v = value (P)) == NULL)
            return FALSE;
          add_extra (f, s, len, v);
          return TRUE;
        }
    }

  if (!sp (P))
    return FALSE;

  switch (upper ((char) name[0]))
    {
    case 'U':
      if (NAME_IS ("UID"))
        {
          f->items |= LB_IMAP_FETCH_UID;
          return nz_number32 (P, &f->uid, N_("a UID"));
        }
      break;
    case 'F':
      if (NAME_IS ("FLAGS"))
        {
          gboolean ok;

          f->items |= LB_IMAP_FETCH_FLAGS;
          P->in_blocks = TRUE;
          ok = flag_list (P, &f->flags);
          P->in_blocks = FALSE;
          return ok;
        }
      break;
    case 'I':
      if (NAME_IS ("INTERNALDATE"))
        {
          char *date = NULL;
          const guint8 *start = P->p;
          gboolean ok;

          P->in_blocks = TRUE;
          ok = nstring (P, &date, NULL);
          P->in_blocks = FALSE;
          if (!ok)
            return FALSE;
          if (date == NULL)
            return TRUE;
          if (!lb_imap_parse_internaldate (date, &f->internaldate))
            {
              P->p = start;
              return fail (P, N_("a date and time like “17-Jul-1996 02:44:25 -0700”"));
            }
          f->items |= LB_IMAP_FETCH_INTERNALDATE;
          return TRUE;
        }
      break;
    case 'R':
      if (NAME_IS ("RFC822.SIZE"))
        {
          f->items |= LB_IMAP_FETCH_SIZE;
          return number64 (P, &f->size, N_("a size"));
        }
      if (NAME_IS ("RFC822") || NAME_IS ("RFC822.HEADER") || NAME_IS ("RFC822.TEXT"))
        {
          LbImapSection *section = section_new (P, f);

          section->section = block_str (P, len == 6 ? "" : len == 13 ? "HEADER" : "TEXT");
          return section_data (P, section);
        }
      break;
    case 'E':
      if (NAME_IS ("ENVELOPE"))
        {
          gboolean ok;

          f->items |= LB_IMAP_FETCH_ENVELOPE;
          P->in_blocks = TRUE;
          ok = envelope (P, &f->envelope);
          P->in_blocks = FALSE;
          return ok;
        }
      if (NAME_IS ("EMAILID"))
        {
          g_clear_pointer (&f->email_id, g_free);
          f->items |= LB_IMAP_FETCH_EMAILID;
          return objectid (P, &f->email_id);
        }
      break;
    case 'B':
      if (NAME_IS ("BODYSTRUCTURE") || NAME_IS ("BODY"))
        {
          gboolean ok;

          lb_imap_body_release (f->body);
          f->body = NULL;
          f->items |= LB_IMAP_FETCH_BODYSTRUCTURE;
          P->in_blocks = TRUE;
          ok = body (P, &f->body);
          P->in_blocks = FALSE;
          return ok;
        }
      break;
    case 'M':
      if (NAME_IS ("MODSEQ"))
        {
          f->items |= LB_IMAP_FETCH_MODSEQ;
          return open_paren (P) &&
                 number64 (P, &f->modseq, N_("a modification sequence")) &&
                 close_paren (P);
        }
      break;
    case 'T':
      if (NAME_IS ("THREADID"))
        {
          g_clear_pointer (&f->thread_id, g_free);
          f->items |= LB_IMAP_FETCH_EMAILID;
          if (at_nil (P))
            {
              P->p += 3;
              return TRUE;
            }
          return objectid (P, &f->thread_id);
        }
      break;
    case 'X':
      if (NAME_IS ("X-GM-MSGID"))
        {
          f->items |= LB_IMAP_FETCH_GMAIL;
          return number64 (P, &f->gm_msgid, N_("a number"));
        }
      if (NAME_IS ("X-GM-THRID"))
        {
          f->items |= LB_IMAP_FETCH_GMAIL;
          return number64 (P, &f->gm_thrid, N_("a number"));
        }
      if (NAME_IS ("X-GM-LABELS"))
        {
          g_clear_pointer (&f->gm_labels, g_strfreev);
          f->items |= LB_IMAP_FETCH_GMAIL;
          return gm_labels (P, &f->gm_labels);
        }
      break;
    default:
      break;
    }

#undef NAME_IS

  /* anything else: its value, generically */
  {
    LbImapValue *v = value (P);

    if (v == NULL)
      return FALSE;
    add_extra (f, name, len, v);
    return TRUE;
  }
}

/* msg-att: "(" item *(SP item) ")" */
static gboolean
msg_att (Parser      *P,
         LbImapFetch *f)
{
  if (!open_paren (P))
    return FALSE;
  if (accept (P, ')'))
    return TRUE;
  for (;;)
    {
      if (!fetch_item (P, f))
        return FALSE;
      if (accept (P, ')'))
        return TRUE;
      if (!sp (P))
        return FALSE;
      /* a space before ")" */
      if (accept (P, ')'))
        return TRUE;
    }
}

/* untagged data */

static gboolean
atoms_to_end (Parser  *P,
              char  ***out)
{
  g_autoptr(GPtrArray) atoms = g_ptr_array_new_with_free_func (g_free);

  while (accept (P, ' '))
    {
      const guint8 *s;
      gsize len;

      /* a trailing space */
      if (at_eol (P))
        break;
      if (!keyword (P, &s, &len))
        return FALSE;
      g_ptr_array_add (atoms, bytes_dup (s, len));
    }
  g_ptr_array_add (atoms, NULL);
  *out = (char **) g_ptr_array_free (g_steal_pointer (&atoms), FALSE);
  return TRUE;
}

static gboolean
numbers_to_end (Parser         *P,
                LbImapResponse *r,
                gboolean        allow_modseq)
{
  r->search = g_array_new (FALSE, FALSE, sizeof (guint32));
  while (accept (P, ' '))
    {
      guint32 n;

      if (at_eol (P))
        break;
      if (allow_modseq && peek (P) == '(')
        {
          const guint8 *s;
          gsize len;

          P->p++;
          if (!keyword (P, &s, &len))
            return FALSE;
          if (!token_is (s, len, "MODSEQ"))
            return fail (P, N_("“MODSEQ”"));
          if (!sp (P) || !number64 (P, &r->search_modseq, N_("a modification sequence")) ||
              !close_paren (P))
            return FALSE;
          r->search_has_modseq = TRUE;
          break;
        }
      if (!nz_number32 (P, &n, N_("a message number")))
        return FALSE;
      g_array_append_val (r->search, n);
    }
  return TRUE;
}

/* mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil)
 *                SP mailbox [SP mbox-list-extended] */
static gboolean
mailbox_list (Parser         *P,
              LbImapResponse *r)
{
  LbImapList *l = r->list = g_new0 (LbImapList, 1);

  if (!sp (P) || !flag_list (P, &l->attributes) || !sp (P))
    return FALSE;
  if (at_nil (P))
    P->p += 3;
  else
    {
      g_autofree char *delimiter = NULL;
      gsize len;
      const guint8 *start = P->p;

      if (!quoted (P, &delimiter, &len))
        return FALSE;
      if (len != 1)
        {
          P->p = start;
          return fail (P, N_("a one-character hierarchy delimiter"));
        }
      l->delimiter = delimiter[0];
    }
  if (!sp (P) || !mailbox (P, &l->raw_mailbox, &l->mailbox))
    return FALSE;

  /* mbox-list-extended = "(" [item *(SP item)] ")", item = tag SP value */
  if (accept (P, ' ') && !at_eol (P))
    {
      if (!open_paren (P))
        return FALSE;
      while (!accept (P, ')'))
        {
          g_autofree char *tag = NULL;

          if ((l->child_info != NULL || l->old_name != NULL || l->extended != NULL) && !sp (P))
            return FALSE;
          if (!astring (P, &tag) || !sp (P))
            return FALSE;
          if (g_ascii_strcasecmp (tag, "CHILDINFO") == 0)
            {
              g_clear_pointer (&l->child_info, g_strfreev);
              if (!string_list (P, &l->child_info))
                return FALSE;
            }
          else if (g_ascii_strcasecmp (tag, "OLDNAME") == 0)
            {
              g_autofree char *raw = NULL;

              /* "(" mailbox ")" */
              g_clear_pointer (&l->old_name, g_free);
              if (!open_paren (P) || !mailbox (P, &raw, &l->old_name) || !close_paren (P))
                return FALSE;
            }
          else
            {
              LbImapValue *name = value_new (LB_IMAP_VALUE_ATOM);
              LbImapValue *v;

              name->v.atom = g_ascii_strup (tag, -1);
              if (l->extended == NULL)
                l->extended = value_array_new ();
              g_ptr_array_add (l->extended, name);
              if ((v = value (P)) == NULL)
                return FALSE;
              g_ptr_array_add (l->extended, v);
            }
        }
    }
  return TRUE;
}

static gboolean
status_response (Parser         *P,
                 LbImapResponse *r)
{
  LbImapStatusData *st = r->status_data = g_new0 (LbImapStatusData, 1);

  if (!sp (P) || !mailbox (P, &st->raw_mailbox, &st->mailbox) || !sp (P) || !open_paren (P))
    return FALSE;
  while (!accept (P, ')'))
    {
      const guint8 *s;
      gsize len;
      guint64 n;
      guint32 *field32 = NULL;
      guint64 *field64 = NULL;
      LbImapStatusItems item = 0;

      if (st->items != 0 || P->p[-1] != '(')
        {
          if (!sp (P))
            return FALSE;
          /* a space before ")" */
          if (accept (P, ')'))
            break;
        }
      if (!keyword (P, &s, &len) || !sp (P))
        return FALSE;
      if (token_is (s, len, "MESSAGES"))
        item = LB_IMAP_STATUS_MESSAGES, field32 = &st->messages;
      else if (token_is (s, len, "RECENT"))
        item = LB_IMAP_STATUS_RECENT, field32 = &st->recent;
      else if (token_is (s, len, "UIDNEXT"))
        item = LB_IMAP_STATUS_UIDNEXT, field32 = &st->uidnext;
      else if (token_is (s, len, "UIDVALIDITY"))
        item = LB_IMAP_STATUS_UIDVALIDITY, field32 = &st->uidvalidity;
      else if (token_is (s, len, "UNSEEN"))
        item = LB_IMAP_STATUS_UNSEEN, field32 = &st->unseen;
      else if (token_is (s, len, "HIGHESTMODSEQ"))
        item = LB_IMAP_STATUS_HIGHESTMODSEQ, field64 = &st->highestmodseq;
      else if (token_is (s, len, "SIZE"))
        item = LB_IMAP_STATUS_SIZE, field64 = &st->size;
      else if (token_is (s, len, "DELETED"))
        item = LB_IMAP_STATUS_DELETED, field32 = &st->deleted;
      else if (token_is (s, len, "APPENDLIMIT"))
        item = LB_IMAP_STATUS_APPENDLIMIT, field64 = &st->appendlimit;

      if (item == 0)
        {
          /* an unknown item: skip its value */
          LbImapValue *v = value (P);

          if (v == NULL)
            return FALSE;
          lb_imap_value_free (v);
          continue;
        }
      if (item == LB_IMAP_STATUS_APPENDLIMIT && at_nil (P))
        {
          /* APPENDLIMIT NIL: no limit */
          P->p += 3;
          st->appendlimit = G_MAXUINT64;
        }
      else if (field32 != NULL)
        {
          guint32 v;

          if (!number32 (P, &v, N_("a number")))
            return FALSE;
          *field32 = v;
        }
      else
        {
          if (!number64 (P, &n, N_("a number")))
            return FALSE;
          *field64 = n;
        }
      st->items |= item;
    }
  return TRUE;
}

/* ESEARCH [SP "(" "TAG" SP tag-string ")"] [SP "UID"] *(SP search-return-data) */
static gboolean
esearch_response (Parser         *P,
                  LbImapResponse *r)
{
  LbImapEsearch *es = r->esearch = g_new0 (LbImapEsearch, 1);

  if (P->p + 1 < P->end && P->p[0] == ' ' && P->p[1] == '(')
    {
      const guint8 *s;
      gsize len;

      P->p += 2;
      if (!keyword (P, &s, &len))
        return FALSE;
      if (!token_is (s, len, "TAG"))
        return fail (P, N_("“TAG”"));
      if (!sp (P) || !astring (P, &es->tag) || !close_paren (P))
        return FALSE;
    }
  while (accept (P, ' '))
    {
      const guint8 *s;
      gsize len;

      if (at_eol (P))
        break;
      if (!keyword (P, &s, &len))
        return FALSE;
      if (token_is (s, len, "UID"))
        {
          es->uid = TRUE;
          continue;
        }
      if (!sp (P))
        return FALSE;
      if (token_is (s, len, "MIN"))
        {
          es->has_min = TRUE;
          if (!nz_number32 (P, &es->min, N_("a message number")))
            return FALSE;
        }
      else if (token_is (s, len, "MAX"))
        {
          es->has_max = TRUE;
          if (!nz_number32 (P, &es->max, N_("a message number")))
            return FALSE;
        }
      else if (token_is (s, len, "COUNT"))
        {
          es->has_count = TRUE;
          if (!number32 (P, &es->count, N_("a number")))
            return FALSE;
        }
      else if (token_is (s, len, "MODSEQ"))
        {
          es->has_modseq = TRUE;
          if (!number64 (P, &es->modseq, N_("a modification sequence")))
            return FALSE;
        }
      else if (token_is (s, len, "ALL"))
        {
          g_clear_pointer (&es->all, g_array_unref);
          if ((es->all = sequence_set (P)) == NULL)
            return FALSE;
        }
      else if (token_is (s, len, "PARTIAL"))
        {
          /* "(" partial-range SP (sequence-set / NIL) ")"; the range may be
           * negative ("-1:-100") */
          if (!open_paren (P))
            return FALSE;
          accept (P, '-');
          if (span (P, C_DIGIT) == 0)
            return fail (P, N_("a range"));
          P->p += span (P, C_DIGIT);
          if (!expect (P, ':', N_("“:”")))
            return FALSE;
          accept (P, '-');
          if (span (P, C_DIGIT) == 0)
            return fail (P, N_("a range"));
          P->p += span (P, C_DIGIT);
          if (!sp (P))
            return FALSE;
          g_clear_pointer (&es->partial, g_array_unref);
          if (at_nil (P))
            {
              P->p += 3;
              es->partial = g_array_new (FALSE, FALSE, sizeof (LbImapRange));
            }
          else if ((es->partial = sequence_set (P)) == NULL)
            return FALSE;
          if (!close_paren (P))
            return FALSE;
        }
      else
        {
          /* an extension's return data: skip its value */
          LbImapValue *v = value (P);

          if (v == NULL)
            return FALSE;
          lb_imap_value_free (v);
        }
    }
  return TRUE;
}

/* namespace = nil / "(" 1*(namespace-descr) ")";
 * descr = "(" string SP (DQUOTE QUOTED-CHAR DQUOTE / nil) *(ext) ")" */
static gboolean
namespace (Parser     *P,
           GPtrArray **out)
{
  if (at_nil (P))
    {
      P->p += 3;
      return TRUE;
    }
  if (!open_paren (P))
    return FALSE;
  *out = g_ptr_array_new_with_free_func ((GDestroyNotify) lb_imap_namespace_entry_free);
  while (!accept (P, ')'))
    {
      LbImapNamespaceEntry *e = g_new0 (LbImapNamespaceEntry, 1);

      g_ptr_array_add (*out, e);
      if ((*out)->len > 1)
        accept (P, ' ');
      if (!open_paren (P) || !string (P, &e->prefix, NULL) || !sp (P))
        return FALSE;
      if (at_nil (P))
        P->p += 3;
      else
        {
          g_autofree char *delimiter = NULL;
          gsize len;

          if (!quoted (P, &delimiter, &len))
            return FALSE;
          if (len != 1)
            return fail (P, N_("a one-character hierarchy delimiter"));
          e->delimiter = delimiter[0];
        }
      /* namespace-response-extension = SP string SP "(" string *(SP string) ")" */
      while (accept (P, ' '))
        {
          LbImapValue *v = value (P);

          if (v == NULL)
            return FALSE;
          lb_imap_value_free (v);
        }
      if (!close_paren (P))
        return FALSE;
    }
  return TRUE;
}

static gboolean
id_response (Parser         *P,
             LbImapResponse *r)
{
  g_autoptr(GPtrArray) strv = NULL;

  if (!sp (P))
    return FALSE;
  if (at_nil (P))
    {
      P->p += 3;
      return TRUE;
    }
  if (!open_paren (P))
    return FALSE;
  strv = g_ptr_array_new_with_free_func (g_free);
  while (!accept (P, ')'))
    {
      char *key;
      char *val;

      if (strv->len > 0 && !sp (P))
        return FALSE;
      if (!string (P, &key, NULL))
        return FALSE;
      g_ptr_array_add (strv, key);
      if (!sp (P) || !nstring (P, &val, NULL))
        return FALSE;
      /* NIL values become "" in a strv */
      g_ptr_array_add (strv, val != NULL ? val : g_strdup (""));
    }
  g_ptr_array_add (strv, NULL);
  r->strv = (char **) g_ptr_array_free (g_steal_pointer (&strv), FALSE);
  return TRUE;
}

static gboolean
quota_response (Parser         *P,
                LbImapResponse *r)
{
  LbImapQuota *q = r->quota = lb_imap_quota_new ();

  if (!sp (P) || !astring (P, &q->root) || !sp (P) || !open_paren (P))
    return FALSE;
  while (!accept (P, ')'))
    {
      LbImapQuotaResource res = { NULL, 0, 0 };
      const guint8 *s;
      gsize len;

      if (q->resources->len > 0 && !sp (P))
        return FALSE;
      if (!keyword (P, &s, &len))
        return FALSE;
      res.name = upper_dup (s, len);
      g_array_append_val (q->resources, res);
      if (!sp (P) ||
          !number64 (P, &g_array_index (q->resources, LbImapQuotaResource, q->resources->len - 1).usage,
                     N_("a number")) ||
          !sp (P) ||
          !number64 (P, &g_array_index (q->resources, LbImapQuotaResource, q->resources->len - 1).limit,
                     N_("a number")))
        return FALSE;
    }
  return TRUE;
}

static gboolean
quotaroot_response (Parser         *P,
                    LbImapResponse *r)
{
  g_autoptr(GPtrArray) strv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *raw = NULL;
  char *decoded;

  if (!sp (P) || !mailbox (P, &raw, &decoded))
    return FALSE;
  g_ptr_array_add (strv, decoded);
  while (accept (P, ' '))
    {
      char *root;

      if (at_eol (P))
        break;
      if (!astring (P, &root))
        return FALSE;
      g_ptr_array_add (strv, root);
    }
  g_ptr_array_add (strv, NULL);
  r->strv = (char **) g_ptr_array_free (g_steal_pointer (&strv), FALSE);
  return TRUE;
}

/* anything we do not know: its values generically (THREAD's lists follow
 * each other without spaces); when even that fails, the rest of the line
 * as one string */
static gboolean
other_response (Parser         *P,
                LbImapResponse *r)
{
  const guint8 *start = P->p;
  LbImapValue *v = NULL;

  r->data = LB_IMAP_DATA_OTHER;
  r->values = value_array_new ();
  while (!at_eol (P))
    {
      if (!(v != NULL && v->kind == LB_IMAP_VALUE_LIST && peek (P) == '(') && !accept (P, ' '))
        break;
      if (at_eol (P))
        break;
      v = value (P);
      if (v == NULL)
        break;
      g_ptr_array_add (r->values, v);
    }

  if (P->error != NULL || !at_eol (P))
    {
      const guint8 *end = P->end;

      g_clear_error (&P->error);
      g_ptr_array_set_size (r->values, 0);
      while (end > start && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
      if (start < end && *start == ' ')
        start++;
      v = value_new (LB_IMAP_VALUE_STRING);
      v->v.string = g_bytes_new (start, (gsize) (end - start));
      g_ptr_array_add (r->values, v);
      P->p = end;
    }
  return TRUE;
}

static LbImapStatus
status_keyword (const guint8 *s,
                gsize         len)
{
  if (token_is (s, len, "OK"))
    return LB_IMAP_STATUS_OK;
  if (token_is (s, len, "NO"))
    return LB_IMAP_STATUS_NO;
  if (token_is (s, len, "BAD"))
    return LB_IMAP_STATUS_BAD;
  if (token_is (s, len, "PREAUTH"))
    return LB_IMAP_STATUS_PREAUTH;
  if (token_is (s, len, "BYE"))
    return LB_IMAP_STATUS_BYE;
  return LB_IMAP_STATUS_NONE;
}

/* after the status keyword: [SP resp-text]; "* OK\r\n" is a quirk */
static gboolean
status_text (Parser         *P,
             LbImapResponse *r)
{
  if (!accept (P, ' '))
    {
      if (!at_eol (P))
        return sp (P);
      r->text = g_strdup ("");
      return TRUE;
    }
  return resp_text (P, r);
}

static gboolean
numbered_data (Parser         *P,
               LbImapResponse *r)
{
  const guint8 *s;
  gsize len;

  if (!number32 (P, &r->number, N_("a number")) || !sp (P) || !keyword (P, &s, &len))
    return FALSE;
  r->data_name = upper_dup (s, len);
  if (token_is (s, len, "EXISTS"))
    r->data = LB_IMAP_DATA_EXISTS;
  else if (token_is (s, len, "RECENT"))
    r->data = LB_IMAP_DATA_RECENT;
  else if (token_is (s, len, "EXPUNGE"))
    r->data = LB_IMAP_DATA_EXPUNGE;
  else if (token_is (s, len, "FETCH"))
    {
      r->data = LB_IMAP_DATA_FETCH;
      r->fetch = lb_imap_response_alloc0 (r, sizeof (LbImapFetch));
      r->fetch->seq = r->number;
      return sp (P) && msg_att (P, r->fetch);
    }
  else if (token_is (s, len, "UIDFETCH"))
    {
      /* RFC 9586 UIDONLY: the number is the UID, there is no sequence number */
      r->data = LB_IMAP_DATA_FETCH;
      r->fetch = lb_imap_response_alloc0 (r, sizeof (LbImapFetch));
      if (r->number == 0)
        return fail (P, N_("a UID"));
      r->fetch->uid = r->number;
      r->fetch->items |= LB_IMAP_FETCH_UID;
      return sp (P) && msg_att (P, r->fetch);
    }
  else
    return other_response (P, r);
  return TRUE;
}

static gboolean
untagged (Parser         *P,
          LbImapResponse *r)
{
  const guint8 *s;
  gsize len;

  r->kind = LB_IMAP_RESPONSE_UNTAGGED;
  if (peek (P) >= 0 && IS (peek (P), C_DIGIT))
    return numbered_data (P, r);

  if (!keyword (P, &s, &len))
    return FALSE;
  r->status = status_keyword (s, len);
  if (r->status != LB_IMAP_STATUS_NONE)
    return status_text (P, r);

  r->data_name = upper_dup (s, len);
  switch (r->data_name[0])
    {
    case 'C':
      if (strcmp (r->data_name, "CAPABILITY") == 0)
        {
          r->data = LB_IMAP_DATA_CAPABILITY;
          return atoms_to_end (P, &r->strv);
        }
      break;
    case 'E':
      if (strcmp (r->data_name, "ENABLED") == 0)
        {
          r->data = LB_IMAP_DATA_ENABLED;
          return atoms_to_end (P, &r->strv);
        }
      if (strcmp (r->data_name, "ESEARCH") == 0)
        {
          r->data = LB_IMAP_DATA_ESEARCH;
          return esearch_response (P, r);
        }
      break;
    case 'F':
      if (strcmp (r->data_name, "FLAGS") == 0)
        {
          r->data = LB_IMAP_DATA_FLAGS;
          return sp (P) && flag_list (P, &r->strv);
        }
      break;
    case 'I':
      if (strcmp (r->data_name, "ID") == 0)
        {
          r->data = LB_IMAP_DATA_ID;
          return id_response (P, r);
        }
      break;
    case 'L':
      if (strcmp (r->data_name, "LIST") == 0)
        {
          r->data = LB_IMAP_DATA_LIST;
          return mailbox_list (P, r);
        }
      if (strcmp (r->data_name, "LSUB") == 0)
        {
          r->data = LB_IMAP_DATA_LSUB;
          return mailbox_list (P, r);
        }
      break;
    case 'N':
      if (strcmp (r->data_name, "NAMESPACE") == 0)
        {
          r->data = LB_IMAP_DATA_NAMESPACE;
          return sp (P) && namespace (P, &r->namespaces[0]) &&
                 sp (P) && namespace (P, &r->namespaces[1]) &&
                 sp (P) && namespace (P, &r->namespaces[2]);
        }
      break;
    case 'Q':
      if (strcmp (r->data_name, "QUOTA") == 0)
        {
          r->data = LB_IMAP_DATA_QUOTA;
          return quota_response (P, r);
        }
      if (strcmp (r->data_name, "QUOTAROOT") == 0)
        {
          r->data = LB_IMAP_DATA_QUOTAROOT;
          return quotaroot_response (P, r);
        }
      break;
    case 'S':
      if (strcmp (r->data_name, "SEARCH") == 0)
        {
          r->data = LB_IMAP_DATA_SEARCH;
          return numbers_to_end (P, r, TRUE);
        }
      if (strcmp (r->data_name, "SORT") == 0)
        {
          r->data = LB_IMAP_DATA_SORT;
          return numbers_to_end (P, r, FALSE);
        }
      if (strcmp (r->data_name, "STATUS") == 0)
        {
          r->data = LB_IMAP_DATA_STATUS;
          return status_response (P, r);
        }
      break;
    case 'X':
      /* Gmail's old LIST */
      if (strcmp (r->data_name, "XLIST") == 0)
        {
          r->data = LB_IMAP_DATA_LIST;
          return mailbox_list (P, r);
        }
      break;
    case 'V':
      if (strcmp (r->data_name, "VANISHED") == 0)
        {
          r->data = LB_IMAP_DATA_VANISHED;
          if (!sp (P))
            return FALSE;
          if (peek (P) == '(')
            {
              const guint8 *k;
              gsize klen;

              P->p++;
              if (!keyword (P, &k, &klen))
                return FALSE;
              if (!token_is (k, klen, "EARLIER"))
                return fail (P, N_("“EARLIER”"));
              if (!close_paren (P) || !sp (P))
                return FALSE;
              r->vanished_earlier = TRUE;
            }
          return (r->set = sequence_set (P)) != NULL;
        }
      break;
    default:
      break;
    }
  return other_response (P, r);
}

static gboolean
response (Parser         *P,
          LbImapResponse *r)
{
  const guint8 *s;
  gsize len;

  if (accept (P, '+'))
    {
      r->kind = LB_IMAP_RESPONSE_CONTINUATION;
      /* "+" alone is a quirk; so is no space */
      accept (P, ' ');
      return resp_text (P, r);
    }
  if (accept (P, '*'))
    return sp (P) && untagged (P, r);

  r->kind = LB_IMAP_RESPONSE_TAGGED;
  len = span (P, C_TAG);
  if (len == 0)
    return fail (P, N_("a tag, “*” or “+”"));
  r->tag = bytes_dup (P->p, len);
  P->p += len;
  if (!sp (P))
    return FALSE;
  s = P->p;
  if (!keyword (P, &s, &len))
    return FALSE;
  r->status = status_keyword (s, len);
  if (r->status != LB_IMAP_STATUS_OK && r->status != LB_IMAP_STATUS_NO &&
      r->status != LB_IMAP_STATUS_BAD)
    {
      P->p = s;
      return fail (P, N_("“OK”, “NO” or “BAD”"));
    }
  return status_text (P, r);
}

LbImapResponse *
lb_imap_parse_response (const guint8     *data,
                        gsize             len,
                        LbImapParseFlags  flags,
                        GError          **error)
{
  Parser P = { data, data, data + len, flags, 0, NULL, NULL, FALSE };
  g_autoptr(LbImapResponse) r = NULL;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  init_char_class ();
  r = lb_imap_response_new ();
  P.r = r;
  /* a FETCH's strings and structures take about twice its text */
  lb_imap_response_set_block_hint (r, len < G_MAXSIZE / 4 ? 2 * len + 256 : G_MAXSIZE / 2);

  if (response (&P, r))
    {
      /* trailing spaces (a quirk), then CRLF or a lone LF, then the end */
      while (P.p < P.end && *P.p == ' ')
        P.p++;
      accept (&P, '\r');
      if (expect (&P, '\n', N_("the end of the line")) && P.p != P.end)
        fail (&P, N_("the end of the response"));
    }
  if (P.error != NULL)
    {
      g_propagate_error (error, P.error);
      return NULL;
    }
  return g_steal_pointer (&r);
}

/* Framing */

void
lb_imap_framer_init (LbImapFramer *framer,
                     gsize         max_line,
                     guint64       max_literal)
{
  g_return_if_fail (framer != NULL);

  memset (framer, 0, sizeof *framer);
  framer->max_line = max_line != 0 ? max_line : LB_IMAP_MAX_LINE_DEFAULT;
  framer->max_literal = max_literal != 0 ? max_literal : LB_IMAP_MAX_LITERAL_DEFAULT;
  framer->max_frame = LB_IMAP_MAX_FRAME_DEFAULT;
}

void
lb_imap_framer_set_max_frame (LbImapFramer *framer,
                              guint64       max_frame)
{
  g_return_if_fail (framer != NULL);

  framer->max_frame = max_frame != 0 ? max_frame : LB_IMAP_MAX_FRAME_DEFAULT;
}

guint64
lb_imap_framer_wanted (const LbImapFramer *framer)
{
  g_return_val_if_fail (framer != NULL, 0);

  return framer->literal_left;
}

static void
framer_reset (LbImapFramer *framer)
{
  framer->scanned = 0;
  framer->line_start = 0;
  framer->literal_left = 0;
}

gboolean
lb_imap_framer_next (LbImapFramer  *framer,
                     const guint8  *data,
                     gsize          len,
                     gsize         *frame_len,
                     GError       **error)
{
  gsize pos;

  g_return_val_if_fail (framer != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (frame_len != NULL, FALSE);

  pos = framer->scanned;
  g_return_val_if_fail (pos <= len, FALSE);

  for (;;)
    {
      const guint8 *nl;
      gsize eol, e, d;
      guint64 n = 0, scale = 1;

      if (framer->literal_left > 0)
        {
          gsize avail = len - pos;

          if (avail < framer->literal_left)
            {
              framer->literal_left -= avail;
              framer->scanned = framer->line_start = len;
              return FALSE;
            }
          pos += (gsize) framer->literal_left;
          framer->literal_left = 0;
          framer->line_start = pos;
        }

      nl = pos < len ? memchr (data + pos, '\n', len - pos) : NULL;
      if (nl == NULL)
        {
          if (len - framer->line_start > framer->max_line)
            goto line_too_long;
          if (len > framer->max_frame)
            goto frame_too_large;
          framer->scanned = len;
          return FALSE;
        }
      eol = (gsize) (nl - data);
      if (eol - framer->line_start > framer->max_line)
        goto line_too_long;
      if (eol >= framer->max_frame)
        goto frame_too_large;

      /* does the line end in "{n}" (or "~{n}")? */
      e = eol;
      if (e > framer->line_start && data[e - 1] == '\r')
        e--;
      if (e > framer->line_start && data[e - 1] == '}')
        {
          gboolean overflow = FALSE;

          d = e - 1;
          while (d > framer->line_start && g_ascii_isdigit (data[d - 1]))
            {
              guint64 digit = (guint64) (data[d - 1] - '0');

              d--;
              if (scale == 0 || (digit != 0 && (scale > G_MAXUINT64 / 10 || digit * scale > G_MAXUINT64 - n)))
                overflow = overflow || digit != 0;
              else
                n += digit * scale;
              scale = scale <= G_MAXUINT64 / 10 ? scale * 10 : 0;
            }
          if (d < e - 1 && d > framer->line_start && data[d - 1] == '{')
            {
              if (overflow || n > framer->max_literal)
                {
                  g_autofree char *limit = g_format_size (framer->max_literal);

                  g_set_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_TOO_LARGE,
                               _("The server announced a piece of data larger than %s"), limit);
                  return FALSE;
                }
              /* eol < max_frame, see above */
              if (n > framer->max_frame - (eol + 1))
                goto frame_too_large;
              framer->literal_left = n;
              pos = eol + 1;
              framer->line_start = pos;
              if (n == 0)
                continue;
              continue;
            }
        }

      *frame_len = eol + 1;
      framer_reset (framer);
      return TRUE;
    }

line_too_long:
  {
    g_autofree char *limit = g_format_size (framer->max_line);

    g_set_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_TOO_LARGE,
                 _("The server sent a line longer than %s"), limit);
    return FALSE;
  }

frame_too_large:
  {
    g_autofree char *limit = g_format_size (framer->max_frame);

    g_set_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_TOO_LARGE,
                 _("The server sent a response larger than %s"), limit);
    return FALSE;
  }
}

/* Modified UTF-7 (RFC 3501 5.1.3) */

static const char mbase64[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
mbase64_value (char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == ',')
    return 63;
  return -1;
}

char *
lb_imap_utf7_decode (const char *text,
                     GError    **error)
{
  GString *out;
  const char *p = text;

  g_return_val_if_fail (text != NULL, NULL);

  out = g_string_sized_new (strlen (text));
  while (*p != '\0')
    {
      guint32 bits = 0;
      guint nbits = 0;
      gunichar high = 0;
      gboolean any = FALSE;
      const char *shift;

      if ((guchar) *p < 0x20 || (guchar) *p > 0x7e)
        goto fail;
      if (*p != '&')
        {
          g_string_append_c (out, *p++);
          continue;
        }
      shift = p++;
      if (*p == '-')
        {
          g_string_append_c (out, '&');
          p++;
          continue;
        }
      for (; *p != '-'; p++)
        {
          int v = mbase64_value (*p);

          if (v < 0)
            goto fail;
          bits = (bits << 6) | (guint32) v;
          nbits += 6;
          if (nbits >= 16)
            {
              gunichar u = (bits >> (nbits - 16)) & 0xffff;

              nbits -= 16;
              any = TRUE;
              if (high != 0)
                {
                  if (u < 0xdc00 || u > 0xdfff)
                    goto fail;
                  g_string_append_unichar (out, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
                  high = 0;
                }
              else if (u >= 0xd800 && u <= 0xdbff)
                high = u;
              else if ((u >= 0xdc00 && u <= 0xdfff) || (u >= 0x20 && u <= 0x7e))
                goto fail; /* a lone low surrogate; printable ASCII must not be encoded */
              else
                g_string_append_unichar (out, u);
            }
        }
      /* leftover bits must be fewer than 6 and zero, no dangling surrogate */
      if (!any || high != 0 || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0)
        {
          p = shift;
          goto fail;
        }
      p++; /* "-" */
      /* two encoded runs in a row must be one */
      if (*p == '&' && p[1] != '-')
        goto fail;
    }
  return g_string_free (out, FALSE);

fail:
  g_set_error (error, LB_IMAP_PARSE_ERROR, LB_IMAP_PARSE_ERROR_SYNTAX,
               _("The mailbox name “%s” is not valid modified UTF-7 (at byte %u)"),
               text, (guint) (p - text));
  g_string_free (out, TRUE);
  return NULL;
}

char *
lb_imap_utf7_encode (const char *utf8)
{
  GString *out;
  const char *p = utf8;

  g_return_val_if_fail (utf8 != NULL, NULL);
  g_return_val_if_fail (g_utf8_validate (utf8, -1, NULL), NULL);

  out = g_string_sized_new (strlen (utf8) + 8);
  while (*p != '\0')
    {
      guint32 bits = 0;
      guint nbits = 0;

      if ((guchar) *p >= 0x20 && (guchar) *p <= 0x7e)
        {
          g_string_append_c (out, *p);
          if (*p == '&')
            g_string_append_c (out, '-');
          p++;
          continue;
        }

      g_string_append_c (out, '&');
      while (*p != '\0' && ((guchar) *p < 0x20 || (guchar) *p > 0x7e))
        {
          gunichar c = g_utf8_get_char (p);
          guint16 units[2];
          guint n_units = 1;

          p = g_utf8_next_char (p);
          if (c >= 0x10000)
            {
              units[0] = (guint16) (0xd800 + ((c - 0x10000) >> 10));
              units[1] = (guint16) (0xdc00 + ((c - 0x10000) & 0x3ff));
              n_units = 2;
            }
          else
            units[0] = (guint16) c;
          for (guint i = 0; i < n_units; i++)
            {
              bits = (bits << 16) | units[i];
              nbits += 16;
              while (nbits >= 6)
                {
                  nbits -= 6;
                  g_string_append_c (out, mbase64[(bits >> nbits) & 0x3f]);
                }
            }
        }
      if (nbits > 0)
        g_string_append_c (out, mbase64[(bits << (6 - nbits)) & 0x3f]);
      g_string_append_c (out, '-');
    }
  return g_string_free (out, FALSE);
}
