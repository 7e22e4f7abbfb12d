/* lb-imap-command.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-imap"

#include "config.h"

#include <string.h>

#include "lb-imap-command.h"
#include "lb-imap-command-private.h"
#include "lb-imap-parser.h"

/* An LbImapCommand keeps its arguments as given and decides how each goes
 * on the wire only when the client sends it (lb_imap_command_render()):
 * whether a string may be quoted or must be a literal, and which kind of
 * literal, depend on what the server offers and the session enabled.
 *
 * Strings are never sent as bare atoms, even when they could be: a quoted
 * string is always a valid astring, so an odd user name or folder name
 * cannot change the meaning of a command. */

/* Longer strings go as literals: some servers limit the line length. */
#define MAX_QUOTED 1000

typedef enum
{
  ARG_RAW,       /* sent as is */
  ARG_STRING,    /* quoted or literal */
  ARG_MAILBOX,   /* a mailbox name in UTF-8, encoded at send time */
  ARG_LITERAL,   /* always a literal */
} ArgKind;

typedef struct
{
  ArgKind  kind;
  gboolean secret;
  char    *text;    /* RAW, STRING, MAILBOX */
  GBytes  *bytes;   /* LITERAL */
} Arg;

struct _LbImapCommand
{
  gatomicrefcount            ref_count;

  char                      *name;
  GArray                    *args;   /* of Arg */
  gboolean                   in_secret;
  gboolean                   exclusive;

  LbImapCommandUntaggedFunc  untagged_func;
  gpointer                   untagged_data;
  GDestroyNotify             untagged_destroy;
};

G_DEFINE_BOXED_TYPE (LbImapCommand, lb_imap_command, lb_imap_command_ref, lb_imap_command_unref)

static void
arg_clear (gpointer data)
{
  Arg *arg = data;

  g_clear_pointer (&arg->text, g_free);
  g_clear_pointer (&arg->bytes, g_bytes_unref);
}

/**
 * lb_imap_command_new:
 * @name: (nullable): the command ("UID FETCH"), or %NULL for a fragment
 *   (search criteria) to add to another command later
 *
 * Returns: (transfer full): a new command without arguments
 */
LbImapCommand *
lb_imap_command_new (const char *name)
{
  LbImapCommand *command = g_new0 (LbImapCommand, 1);

  g_atomic_ref_count_init (&command->ref_count);
  command->name = (name != NULL && *name != '\0') ? g_strdup (name) : NULL;
  command->args = g_array_new (FALSE, TRUE, sizeof (Arg));
  g_array_set_clear_func (command->args, arg_clear);

  return command;
}

LbImapCommand *
lb_imap_command_ref (LbImapCommand *command)
{
  g_return_val_if_fail (command != NULL, NULL);

  g_atomic_ref_count_inc (&command->ref_count);

  return command;
}

void
lb_imap_command_unref (LbImapCommand *command)
{
  g_return_if_fail (command != NULL);

  if (!g_atomic_ref_count_dec (&command->ref_count))
    return;

  if (command->untagged_destroy != NULL)
    command->untagged_destroy (command->untagged_data);
  g_array_unref (command->args);
  g_free (command->name);
  g_free (command);
}

static Arg *
add_arg (LbImapCommand *command,
         ArgKind        kind)
{
  Arg arg = { 0, };

  arg.kind = kind;
  arg.secret = command->in_secret;
  g_array_append_val (command->args, arg);

  return &g_array_index (command->args, Arg, command->args->len - 1);
}

static void
add_raw (LbImapCommand *command,
         const char    *text)
{
  if (*text == '\0')
    return;

  add_arg (command, ARG_RAW)->text = g_strdup (text);
}

/**
 * lb_imap_command_add_atom:
 *
 * Adds @atom as is: a keyword, a parenthesis, a fetch item. Never pass
 * text a user or server chose; use lb_imap_command_add_string() for that.
 */
void
lb_imap_command_add_atom (LbImapCommand *command,
                          const char    *atom)
{
  g_return_if_fail (command != NULL);
  g_return_if_fail (atom != NULL);

  add_raw (command, atom);
}

void
lb_imap_command_add_printf (LbImapCommand *command,
                            const char    *format,
                            ...)
{
  g_autofree char *text = NULL;
  va_list args;

  g_return_if_fail (command != NULL);
  g_return_if_fail (format != NULL);

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  add_raw (command, text);
}

void
lb_imap_command_add_number (LbImapCommand *command,
                            guint64        number)
{
  char text[24];

  g_return_if_fail (command != NULL);

  g_snprintf (text, sizeof text, "%" G_GUINT64_FORMAT, number);
  add_raw (command, text);
}

void
lb_imap_command_add_string (LbImapCommand *command,
                            const char    *string)
{
  g_return_if_fail (command != NULL);
  g_return_if_fail (string != NULL);

  add_arg (command, ARG_STRING)->text = g_strdup (string);
}

void
lb_imap_command_add_nstring (LbImapCommand *command,
                             const char    *string)
{
  g_return_if_fail (command != NULL);

  if (string == NULL)
    add_raw (command, "NIL");
  else
    lb_imap_command_add_string (command, string);
}

void
lb_imap_command_add_mailbox (LbImapCommand *command,
                             const char    *mailbox)
{
  g_return_if_fail (command != NULL);
  g_return_if_fail (mailbox != NULL);

  add_arg (command, ARG_MAILBOX)->text = g_strdup (mailbox);
}

void
lb_imap_command_add_literal (LbImapCommand *command,
                             GBytes        *data)
{
  g_return_if_fail (command != NULL);
  g_return_if_fail (data != NULL);

  add_arg (command, ARG_LITERAL)->bytes = g_bytes_ref (data);
}

void
lb_imap_command_add_set (LbImapCommand     *command,
                         const LbImapRange *ranges,
                         guint              n_ranges)
{
  g_autofree char *text = NULL;

  g_return_if_fail (command != NULL);
  g_return_if_fail (ranges != NULL && n_ranges > 0);

  text = lb_imap_set_to_string (ranges, n_ranges);
  add_raw (command, text);
}

/* flag = "\" atom / atom (RFC 3501 flag-extension, flag-keyword) */
static gboolean
flag_is_valid (const char *flag)
{
  const char *p = flag;

  if (*p == '\\')
    p++;
  if (*p == '\0')
    return FALSE;

  for (; *p != '\0'; p++)
    {
      guchar c = (guchar) *p;

      if (c <= 0x20 || c >= 0x7f || strchr ("(){%*\"\\]", c) != NULL)
        return FALSE;
    }

  return TRUE;
}

/**
 * lb_imap_command_add_flags:
 * @flags: flags as the server spells them ("\\Seen", "$Forwarded")
 *
 * Adds a parenthesized flag list. A flag that is not a valid atom is a
 * programming error and left out.
 */
void
lb_imap_command_add_flags (LbImapCommand      *command,
                           const char * const *flags)
{
  g_autoptr(GString) text = g_string_new ("(");

  g_return_if_fail (command != NULL);

  for (guint i = 0; flags != NULL && flags[i] != NULL; i++)
    {
      if (!flag_is_valid (flags[i]))
        {
          g_critical ("%s: “%s” is not an IMAP flag", G_STRFUNC, flags[i]);
          continue;
        }
      if (text->len > 1)
        g_string_append_c (text, ' ');
      g_string_append (text, flags[i]);
    }
  g_string_append_c (text, ')');

  add_raw (command, text->str);
}

void
lb_imap_command_add_fragment (LbImapCommand *command,
                              LbImapCommand *fragment)
{
  g_return_if_fail (command != NULL);
  g_return_if_fail (fragment != NULL);
  g_return_if_fail (command != fragment);

  if (fragment->name != NULL)
    add_raw (command, fragment->name);

  for (guint i = 0; i < fragment->args->len; i++)
    {
      const Arg *from = &g_array_index (fragment->args, Arg, i);
      Arg *to = add_arg (command, from->kind);

      to->secret = to->secret || from->secret;
      to->text = g_strdup (from->text);
      to->bytes = from->bytes != NULL ? g_bytes_ref (from->bytes) : NULL;
    }
}

void
lb_imap_command_begin_secret (LbImapCommand *command)
{
  g_return_if_fail (command != NULL);

  command->in_secret = TRUE;
}

void
lb_imap_command_end_secret (LbImapCommand *command)
{
  g_return_if_fail (command != NULL);

  command->in_secret = FALSE;
}

void
lb_imap_command_set_exclusive (LbImapCommand *command,
                               gboolean       exclusive)
{
  g_return_if_fail (command != NULL);

  command->exclusive = !!exclusive;
}

gboolean
lb_imap_command_get_exclusive (LbImapCommand *command)
{
  g_return_val_if_fail (command != NULL, FALSE);

  return command->exclusive;
}

void
lb_imap_command_set_untagged_func (LbImapCommand             *command,
                                   LbImapCommandUntaggedFunc  func,
                                   gpointer                   user_data,
                                   GDestroyNotify             destroy)
{
  g_return_if_fail (command != NULL);

  if (command->untagged_destroy != NULL)
    command->untagged_destroy (command->untagged_data);

  command->untagged_func = func;
  command->untagged_data = user_data;
  command->untagged_destroy = destroy;
}

LbImapCommandUntaggedFunc
lb_imap_command_get_untagged_func (LbImapCommand *command,
                                   gpointer      *user_data)
{
  g_return_val_if_fail (command != NULL, NULL);

  if (user_data != NULL)
    *user_data = command->untagged_data;

  return command->untagged_func;
}

const char *
lb_imap_command_get_name (LbImapCommand *command)
{
  g_return_val_if_fail (command != NULL, NULL);

  return command->name != NULL ? command->name : "";
}

static gboolean
has_8bit (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p >= 0x80)
      return TRUE;

  return FALSE;
}

gboolean
lb_imap_command_has_8bit (LbImapCommand *command)
{
  g_return_val_if_fail (command != NULL, FALSE);

  for (guint i = 0; i < command->args->len; i++)
    {
      const Arg *arg = &g_array_index (command->args, Arg, i);

      if ((arg->kind == ARG_STRING || arg->kind == ARG_MAILBOX) && has_8bit (arg->text))
        return TRUE;
    }

  return FALSE;
}

/* Rendering */

typedef struct
{
  const LbImapRenderOptions *options;
  GPtrArray                 *parts;    /* of GBytes */
  GByteArray                *current;
  GString                   *trace;    /* NULL when not wanted */
  gboolean                   any;      /* something written after the tag */
  gboolean                   opened;   /* the last item ended with "(" or "[" */
} Render;

static void
render_separate (Render     *r,
                 const char *first)
{
  gboolean closes = first != NULL && (*first == ')' || *first == ']');

  if (r->any && !r->opened && !closes)
    {
      g_byte_array_append (r->current, (const guint8 *) " ", 1);
      if (r->trace != NULL)
        g_string_append_c (r->trace, ' ');
    }
  r->any = TRUE;
  r->opened = FALSE;
}

static void
render_raw (Render     *r,
            const char *text,
            gboolean    secret)
{
  gsize len = strlen (text);

  render_separate (r, text);
  g_byte_array_append (r->current, (const guint8 *) text, len);
  if (r->trace != NULL)
    g_string_append (r->trace, secret ? "***" : text);
  r->opened = len > 0 && (text[len - 1] == '(' || text[len - 1] == '[');
}

static void
render_literal (Render       *r,
                const guint8 *data,
                gsize         len,
                gboolean      secret)
{
  const LbImapRenderOptions *options = r->options;
  gboolean synchronizing;
  char head[32];

  synchronizing = !(options->literal_plus ||
                    (options->literal_minus && len <= LB_IMAP_LITERAL_MINUS_MAX));

  render_separate (r, NULL);
  g_snprintf (head, sizeof head, "{%" G_GSIZE_FORMAT "%s}\r\n", len, synchronizing ? "" : "+");
  g_byte_array_append (r->current, (const guint8 *) head, strlen (head));
  if (r->trace != NULL)
    {
      if (secret)
        g_string_append (r->trace, "***");
      else
        g_string_append_printf (r->trace, "{%" G_GSIZE_FORMAT " bytes}", len);
    }

  if (synchronizing)
    {
      g_ptr_array_add (r->parts, g_byte_array_free_to_bytes (r->current));
      r->current = g_byte_array_new ();
    }
  g_byte_array_append (r->current, data, len);
}

static gboolean
needs_literal (const char *text,
               gsize       len,
               gboolean    utf8_accept)
{
  gboolean eight_bit = FALSE;

  if (len > MAX_QUOTED)
    return TRUE;

  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) text[i];

      if (c == '\r' || c == '\n')
        return TRUE;
      if (c >= 0x80)
        eight_bit = TRUE;
    }

  /* UTF8=ACCEPT allows UTF-8 in quoted strings, and nothing else */
  if (eight_bit)
    return !utf8_accept || !g_utf8_validate (text, len, NULL);

  return FALSE;
}

static void
render_string (Render     *r,
               const char *text,
               gboolean    secret)
{
  gsize len = strlen (text);
  g_autoptr(GString) quoted = NULL;

  if (needs_literal (text, len, r->options->utf8_accept))
    {
      render_literal (r, (const guint8 *) text, len, secret);
      return;
    }

  quoted = g_string_sized_new (len + 2);
  g_string_append_c (quoted, '"');
  for (gsize i = 0; i < len; i++)
    {
      if (text[i] == '"' || text[i] == '\\')
        g_string_append_c (quoted, '\\');
      g_string_append_c (quoted, text[i]);
    }
  g_string_append_c (quoted, '"');

  render_separate (r, NULL);
  g_byte_array_append (r->current, (const guint8 *) quoted->str, quoted->len);
  if (r->trace != NULL)
    g_string_append (r->trace, secret ? "***" : quoted->str);
}

GPtrArray *
lb_imap_command_render (LbImapCommand             *command,
                        const char                *tag,
                        const LbImapRenderOptions *options,
                        char                     **trace)
{
  static const LbImapRenderOptions defaults = { FALSE, FALSE, FALSE };
  Render r = { 0, };

  g_return_val_if_fail (command != NULL, NULL);

  r.options = options != NULL ? options : &defaults;
  r.parts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  r.current = g_byte_array_sized_new (64);
  r.trace = trace != NULL ? g_string_new (NULL) : NULL;

  if (tag != NULL)
    render_raw (&r, tag, FALSE);
  if (command->name != NULL)
    render_raw (&r, command->name, FALSE);

  for (guint i = 0; i < command->args->len; i++)
    {
      const Arg *arg = &g_array_index (command->args, Arg, i);

      switch (arg->kind)
        {
        case ARG_RAW:
          render_raw (&r, arg->text, arg->secret);
          break;

        case ARG_STRING:
          render_string (&r, arg->text, arg->secret);
          break;

        case ARG_MAILBOX:
          if (r.options->raw_mailboxes != NULL &&
              g_hash_table_contains (r.options->raw_mailboxes, arg->text))
            render_string (&r, g_hash_table_lookup (r.options->raw_mailboxes, arg->text), arg->secret);
          else if (r.options->utf8_accept)
            render_string (&r, arg->text, arg->secret);
          else
            {
              g_autofree char *encoded = lb_imap_utf7_encode (arg->text);

              render_string (&r, encoded, arg->secret);
            }
          break;

        case ARG_LITERAL:
          {
            gsize len = 0;
            const guint8 *data = g_bytes_get_data (arg->bytes, &len);

            render_literal (&r, data, len, arg->secret);
          }
          break;

        default:
          g_assert_not_reached ();
        }
    }

  g_byte_array_append (r.current, (const guint8 *) "\r\n", 2);
  g_ptr_array_add (r.parts, g_byte_array_free_to_bytes (r.current));

  if (trace != NULL)
    *trace = g_string_free (r.trace, FALSE);

  return r.parts;
}

/**
 * lb_imap_command_to_string:
 * @redact: replace secrets by "***" and literal contents by "{N bytes}"
 *
 * Returns: (transfer full): the command without tag and CRLF, as it would
 *   be sent to a server offering no literal extensions
 */
char *
lb_imap_command_to_string (LbImapCommand *command,
                           gboolean       redact)
{
  g_autoptr(GPtrArray) parts = NULL;
  g_autoptr(GString) text = NULL;
  char *trace = NULL;

  g_return_val_if_fail (command != NULL, NULL);

  parts = lb_imap_command_render (command, NULL, NULL, redact ? &trace : NULL);
  if (redact)
    return trace;

  text = g_string_new (NULL);
  for (guint i = 0; i < parts->len; i++)
    {
      gsize len = 0;
      const char *data = g_bytes_get_data (parts->pdata[i], &len);

      g_string_append_len (text, data, len);
    }
  g_string_truncate (text, text->len - 2);   /* the final CRLF */

  return g_string_free (g_steal_pointer (&text), FALSE);
}
