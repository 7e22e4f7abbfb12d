/* lb-imap-response.h: what an IMAP server said, parsed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Every string below is NUL-terminated and owned by the response it is
 * part of: nothing in a response may be freed, changed or kept on its
 * own, only read while the response is alive (copy what must outlive it;
 * a section's data, a GBytes, may be kept with g_bytes_ref()). The FETCH
 * data (the LbImapFetch, its flags, envelope, body structure and
 * sections) lives in a few large blocks the response frees at once, not
 * in allocations of its own. Strings are the bytes the server sent (after literal/quoted decoding), not
 * decoded further: RFC 2047 words in an ENVELOPE stay encoded, mailbox
 * names are given both as sent and decoded (see LbImapList). %NULL stands
 * for NIL wherever NIL is allowed. Numbers are 64-bit wherever the grammar
 * allows more than 32 bits (sizes, MODSEQ). */

typedef enum
{
  LB_IMAP_RESPONSE_UNTAGGED,      /* "* ..." */
  LB_IMAP_RESPONSE_TAGGED,        /* "tag OK|NO|BAD ..." */
  LB_IMAP_RESPONSE_CONTINUATION,  /* "+ ..." */
} LbImapResponseKind;

typedef enum
{
  LB_IMAP_STATUS_NONE,    /* untagged data ("* 3 EXISTS"), continuation */
  LB_IMAP_STATUS_OK,
  LB_IMAP_STATUS_NO,
  LB_IMAP_STATUS_BAD,
  LB_IMAP_STATUS_PREAUTH,
  LB_IMAP_STATUS_BYE,
} LbImapStatus;

/* A sequence set or UID set: ranges in the order sent; "*" is G_MAXUINT32.
 * first <= last is not guaranteed ("5:3" is legal), compare both ends. */
typedef struct
{
  guint32 first;
  guint32 last;
} LbImapRange;

/* generic values, for unknown data and extension data */
typedef enum
{
  LB_IMAP_VALUE_NIL,
  LB_IMAP_VALUE_ATOM,     /* also flags like \Seen and sections like BODY[1] */
  LB_IMAP_VALUE_NUMBER,
  LB_IMAP_VALUE_STRING,   /* quoted or literal */
  LB_IMAP_VALUE_LIST,
} LbImapValueKind;

typedef struct _LbImapValue LbImapValue;
struct _LbImapValue
{
  LbImapValueKind kind;
  union {
    char      *atom;
    guint64    number;
    GBytes    *string;
    GPtrArray *list;      /* of LbImapValue */
  } v;
};

void lb_imap_value_free (LbImapValue *value);

/* response codes, the "[...]" of a status response */
typedef enum
{
  LB_IMAP_CODE_NONE,
  LB_IMAP_CODE_OTHER,          /* unknown code: name in code_name, args in code_text */
  LB_IMAP_CODE_ALERT,
  LB_IMAP_CODE_ALREADYEXISTS,
  LB_IMAP_CODE_APPENDUID,      /* code_uidvalidity, code_set (the new UIDs) */
  LB_IMAP_CODE_AUTHENTICATIONFAILED,
  LB_IMAP_CODE_AUTHORIZATIONFAILED,
  LB_IMAP_CODE_BADCHARSET,     /* code_strv: the charsets, may be empty */
  LB_IMAP_CODE_CANNOT,
  LB_IMAP_CODE_CAPABILITY,     /* code_strv */
  LB_IMAP_CODE_CLIENTBUG,
  LB_IMAP_CODE_CLOSED,
  LB_IMAP_CODE_CONTACTADMIN,
  LB_IMAP_CODE_COPYUID,        /* code_uidvalidity, code_source_set, code_set */
  LB_IMAP_CODE_CORRUPTION,
  LB_IMAP_CODE_EXPIRED,
  LB_IMAP_CODE_EXPUNGEISSUED,
  LB_IMAP_CODE_HASCHILDREN,
  LB_IMAP_CODE_HIGHESTMODSEQ,  /* code_number */
  LB_IMAP_CODE_INUSE,
  LB_IMAP_CODE_LIMIT,
  LB_IMAP_CODE_MODIFIED,       /* code_set */
  LB_IMAP_CODE_NOMODSEQ,
  LB_IMAP_CODE_NONEXISTENT,
  LB_IMAP_CODE_NOPERM,
  LB_IMAP_CODE_OVERQUOTA,
  LB_IMAP_CODE_PARSE,
  LB_IMAP_CODE_PERMANENTFLAGS, /* code_strv */
  LB_IMAP_CODE_PRIVACYREQUIRED,
  LB_IMAP_CODE_READ_ONLY,
  LB_IMAP_CODE_READ_WRITE,
  LB_IMAP_CODE_SERVERBUG,
  LB_IMAP_CODE_TRYCREATE,
  LB_IMAP_CODE_UIDNEXT,        /* code_number */
  LB_IMAP_CODE_UIDNOTSTICKY,
  LB_IMAP_CODE_UIDVALIDITY,    /* code_number */
  LB_IMAP_CODE_UNAVAILABLE,
  LB_IMAP_CODE_UNKNOWN_CTE,
  LB_IMAP_CODE_UNSEEN,         /* code_number */
  LB_IMAP_CODE_COMPRESSIONACTIVE,
  LB_IMAP_CODE_NOTSAVED,
  LB_IMAP_CODE_REFERRAL,       /* code_text: the URL */
} LbImapCode;

/* an address of an ENVELOPE; RFC 3501 group syntax: a group starts with
 * mailbox = group name and host = NULL, and ends with both NULL */
typedef struct
{
  char *name;
  char *adl;
  char *mailbox;
  char *host;
} LbImapAddress;

typedef struct
{
  char           *date;
  char           *subject;
  LbImapAddress **from;         /* NULL-terminated; empty (only the NULL) for NIL */
  LbImapAddress **sender;
  LbImapAddress **reply_to;
  LbImapAddress **to;
  LbImapAddress **cc;
  LbImapAddress **bcc;
  char           *in_reply_to;
  char           *message_id;
} LbImapEnvelope;

typedef struct _LbImapBody LbImapBody;

/* one node of a BODYSTRUCTURE (or BODY) */
struct _LbImapBody
{
  char           *type;         /* lower-cased: "text", "multipart", ... */
  char           *subtype;      /* lower-cased */
  char          **params;       /* name, value, name, value, ..., NULL;
                                   names lower-cased; never NULL */
  /* single parts */
  char           *id;
  char           *description;
  char           *encoding;     /* lower-cased */
  guint64         size;         /* octets */
  guint64         lines;        /* text/ and message/rfc822 only */
  LbImapEnvelope *envelope;     /* message/rfc822 (and message/global);
                                   NULL when the server sent NIL */
  LbImapBody     *message;      /* message/rfc822: the enclosed body */
  /* multipart */
  GPtrArray      *children;     /* of LbImapBody; NULL for single parts */
  /* extension data, NULL when absent */
  char           *md5;
  char           *disposition;  /* lower-cased: "attachment", "inline" */
  char          **disposition_params;  /* like params; NULL when absent */
  char          **language;
  char           *location;
  GPtrArray      *extension;    /* of LbImapValue: anything after location */
};

/* BODY[section]<origin> of a FETCH */
typedef struct
{
  char    *section;   /* as sent between the brackets, upper-cased:
                         "", "HEADER.FIELDS (REFERENCES IN-REPLY-TO)",
                         "1.2", "TEXT"; BINARY[...] sections start "BINARY " */
  gint64   origin;    /* -1 when absent */
  GBytes  *data;      /* NULL for NIL */
} LbImapSection;

typedef enum /*< flags >*/
{
  LB_IMAP_FETCH_UID           = 1 << 0,
  LB_IMAP_FETCH_FLAGS         = 1 << 1,
  LB_IMAP_FETCH_INTERNALDATE  = 1 << 2,
  LB_IMAP_FETCH_SIZE          = 1 << 3,   /* RFC822.SIZE */
  LB_IMAP_FETCH_ENVELOPE      = 1 << 4,
  LB_IMAP_FETCH_BODYSTRUCTURE = 1 << 5,   /* BODYSTRUCTURE or BODY */
  LB_IMAP_FETCH_MODSEQ        = 1 << 6,
  LB_IMAP_FETCH_SECTIONS      = 1 << 7,   /* BODY[...], BINARY[...], RFC822* */
  LB_IMAP_FETCH_EMAILID       = 1 << 8,   /* OBJECTID: EMAILID/THREADID */
  LB_IMAP_FETCH_GMAIL         = 1 << 9,   /* X-GM-MSGID / X-GM-THRID / X-GM-LABELS */
} LbImapFetchItems;

typedef struct
{
  guint32          seq;
  LbImapFetchItems items;         /* which of the fields below were sent */
  guint32          uid;
  char           **flags;         /* as sent ("\\Seen", "$Forwarded") */
  gint64           internaldate;  /* seconds since the epoch, UTC */
  guint64          size;
  guint64          modseq;
  LbImapEnvelope  *envelope;
  LbImapBody      *body;
  GPtrArray       *sections;      /* of LbImapSection; NULL when none */
  char            *email_id;
  char            *thread_id;
  guint64          gm_msgid;
  guint64          gm_thrid;
  char           **gm_labels;
  /* items this parser has no field for (BINARY.SIZE[1], SAVEDATE, PREVIEW,
   * unknown ones), parsed generically: name (an ATOM, upper-cased), value,
   * name, value...; NULL when none */
  GPtrArray       *extra;
} LbImapFetch;

typedef struct
{
  char  **attributes;   /* "\\HasNoChildren", "\\Sent", ... as sent */
  char    delimiter;    /* '\0' for NIL */
  char   *mailbox;      /* UTF-8, decoded from modified UTF-7 unless the
                           name was sent as UTF-8 (UTF8=ACCEPT); a name
                           that is not valid modified UTF-7 comes as sent
                           (made valid UTF-8): the client sends it back
                           as raw_mailbox, see lb_imap_command_add_mailbox() */
  char   *raw_mailbox;  /* exactly as sent */
  char   *old_name;     /* LIST-EXTENDED OLDNAME, decoded; NULL if absent */
  char  **child_info;   /* LIST-EXTENDED CHILDINFO; NULL if absent */
  /* other LIST-EXTENDED data: tag (an ATOM, upper-cased), value, tag,
   * value...; NULL if none */
  GPtrArray *extended;
} LbImapList;

typedef enum /*< flags >*/
{
  LB_IMAP_STATUS_MESSAGES      = 1 << 0,
  LB_IMAP_STATUS_RECENT        = 1 << 1,
  LB_IMAP_STATUS_UIDNEXT       = 1 << 2,
  LB_IMAP_STATUS_UIDVALIDITY   = 1 << 3,
  LB_IMAP_STATUS_UNSEEN        = 1 << 4,
  LB_IMAP_STATUS_HIGHESTMODSEQ = 1 << 5,
  LB_IMAP_STATUS_SIZE          = 1 << 6,
  LB_IMAP_STATUS_DELETED       = 1 << 7,
  LB_IMAP_STATUS_APPENDLIMIT   = 1 << 8,
} LbImapStatusItems;

typedef struct
{
  char              *mailbox;      /* decoded like LbImapList.mailbox */
  char              *raw_mailbox;
  LbImapStatusItems  items;
  guint32            messages;
  guint32            recent;
  guint32            uidnext;
  guint32            uidvalidity;
  guint32            unseen;
  guint64            highestmodseq;
  guint64            size;
  guint32            deleted;
  guint64            appendlimit;
} LbImapStatusData;

typedef struct
{
  char    *tag;       /* NULL when absent */
  gboolean uid;
  gboolean has_min, has_max, has_count, has_modseq;
  guint32  min;
  guint32  max;
  guint32  count;
  guint64  modseq;
  GArray  *all;       /* of LbImapRange; NULL when absent */
  GArray  *partial;   /* PARTIAL (low:high set): of LbImapRange; NULL when absent */
} LbImapEsearch;

typedef struct
{
  char *prefix;
  char  delimiter;    /* '\0' for NIL */
} LbImapNamespaceEntry;

typedef struct
{
  char   *root;
  /* of LbImapQuotaResource */
  GArray *resources;
} LbImapQuota;

typedef struct
{
  char    *name;      /* upper-cased: "STORAGE", "MESSAGE" */
  guint64  usage;
  guint64  limit;
} LbImapQuotaResource;

typedef enum
{
  LB_IMAP_DATA_NONE,          /* status responses and continuations */
  LB_IMAP_DATA_CAPABILITY,    /* strv */
  LB_IMAP_DATA_ENABLED,       /* strv */
  LB_IMAP_DATA_FLAGS,         /* strv */
  LB_IMAP_DATA_LIST,          /* list */
  LB_IMAP_DATA_LSUB,          /* list */
  LB_IMAP_DATA_STATUS,        /* status */
  LB_IMAP_DATA_EXISTS,        /* number */
  LB_IMAP_DATA_RECENT,        /* number */
  LB_IMAP_DATA_EXPUNGE,       /* number */
  LB_IMAP_DATA_FETCH,         /* fetch */
  LB_IMAP_DATA_SEARCH,        /* search (+ search_modseq when has_modseq) */
  LB_IMAP_DATA_SORT,          /* search */
  LB_IMAP_DATA_ESEARCH,       /* esearch */
  LB_IMAP_DATA_VANISHED,      /* set, vanished_earlier */
  LB_IMAP_DATA_NAMESPACE,     /* namespaces[3]: personal, other, shared */
  LB_IMAP_DATA_ID,            /* strv: key, value, key, value...; NULL for NIL;
                                 a NIL value is "" */
  LB_IMAP_DATA_QUOTA,         /* quota */
  LB_IMAP_DATA_QUOTAROOT,     /* strv: the mailbox, then its roots */
  LB_IMAP_DATA_OTHER,         /* anything else: name + values */
} LbImapDataKind;

#define LB_TYPE_IMAP_RESPONSE (lb_imap_response_get_type ())

typedef struct _LbImapResponse LbImapResponse;

struct _LbImapResponse
{
  /*< private >*/
  gatomicrefcount   ref_count;
  gpointer          blocks;       /* where the FETCH data lives */
  gsize             block_hint;   /* the size of the first block */

  /*< public >*/
  LbImapResponseKind kind;
  char              *tag;         /* tagged only */
  LbImapStatus       status;

  /* status responses (OK/NO/BAD/PREAUTH/BYE, tagged or not) */
  LbImapCode         code;
  char              *code_name;   /* upper-cased, as sent: "UIDNEXT" */
  char              *code_text;   /* the code's arguments as sent, NULL if none */
  guint64            code_number;
  guint32            code_uidvalidity;
  char             **code_strv;
  GArray            *code_set;         /* of LbImapRange */
  GArray            *code_source_set;  /* of LbImapRange */
  char              *text;        /* human-readable text (for continuations:
                                     the text or base64 after "+ "), may be "" */

  /* untagged data */
  LbImapDataKind     data;
  char              *data_name;   /* the keyword as sent, upper-cased */
  guint32            number;      /* EXISTS, RECENT, EXPUNGE, FETCH's seq */
  char             **strv;
  LbImapFetch       *fetch;
  LbImapList        *list;
  LbImapStatusData  *status_data;
  GArray            *search;      /* of guint32 */
  gboolean           search_has_modseq;
  guint64            search_modseq;
  LbImapEsearch     *esearch;
  GArray            *set;         /* VANISHED: of LbImapRange */
  gboolean           vanished_earlier;
  GPtrArray         *namespaces[3];  /* of LbImapNamespaceEntry; NULL for NIL */
  LbImapQuota       *quota;
  GPtrArray         *values;      /* OTHER: the values after the keyword */
};

GType           lb_imap_response_get_type (void) G_GNUC_CONST;
LbImapResponse *lb_imap_response_ref      (LbImapResponse *response);
void            lb_imap_response_unref    (LbImapResponse *response);

gboolean        lb_imap_response_has_capability (LbImapResponse *response,
                                                 const char     *name);

/* sets */
GArray         *lb_imap_set_parse         (const char     *text,
                                           GError        **error);
char           *lb_imap_set_to_string     (const LbImapRange *ranges,
                                           guint           n_ranges);
gboolean        lb_imap_set_contains      (GArray         *set,
                                           guint32         value);
/* expands a set to its values in order (for UIDs reported by a server:
 * "*" and reversed ranges are normalised); fails on sets larger than
 * @max_values */
GArray         *lb_imap_set_expand        (GArray         *set,
                                           guint           max_values,
                                           GError        **error);

LbImapResponse *lb_imap_response_new      (void);

void            lb_imap_list_free         (LbImapList     *list);
void            lb_imap_status_data_free  (LbImapStatusData *status);
void            lb_imap_esearch_free      (LbImapEsearch  *esearch);
void            lb_imap_namespace_entry_free (LbImapNamespaceEntry *entry);
LbImapQuota    *lb_imap_quota_new         (void);
void            lb_imap_quota_free        (LbImapQuota    *quota);

/* flag helpers: TRUE when @flags (a strv as sent) contains @flag, case-insensitively */
gboolean        lb_imap_flags_contain     (char * const   *flags,
                                           const char     *flag);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbImapResponse, lb_imap_response_unref)

G_END_DECLS
