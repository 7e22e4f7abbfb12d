/* lb-mime-parts.h: a message as the list of parts a view shows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * LbMimePartKind:
 * @LB_MIME_PART_TEXT: readable text, charset-decoded to UTF-8, with
 *   format=flowed lines joined and quoted text marked (see @blocks)
 * @LB_MIME_PART_HTML: an HTML body, decoded to UTF-8
 * @LB_MIME_PART_IMAGE: an image shown inline: an image part with an
 *   inline disposition, or one an HTML part refers to by cid:
 * @LB_MIME_PART_ATTACHMENT: a file: anything else that is not text to read
 * @LB_MIME_PART_MESSAGE: a nested message (message/rfc822): its headers;
 *   its own parts follow it in the list at @depth + 1
 * @LB_MIME_PART_BROKEN: a part that could not be decoded; @problem says
 *   why, and the rest of the message is still shown
 */
typedef enum
{
  LB_MIME_PART_TEXT,
  LB_MIME_PART_HTML,
  LB_MIME_PART_IMAGE,
  LB_MIME_PART_ATTACHMENT,
  LB_MIME_PART_MESSAGE,
  LB_MIME_PART_BROKEN,
} LbMimePartKind;

/**
 * LbMimeTextBlock:
 * @quote_level: 0 for the writer's own text, n for text quoted n times
 *   ("> > ")
 * @signature: the block is the signature (after a "-- " line)
 * @text: the block's lines, without their quote markers, joined by "\n";
 *   flowed lines are joined into one
 *
 * A run of lines of a text part with the same quote level, so a view can
 * collapse quoted text. Blank lines between two blocks belong to neither;
 * a signature block starts with its "-- " line. An attribution line
 * ("On <date>, X wrote:") right before quoted text is put in the quote's
 * block, so it folds away with it.
 */
typedef struct
{
  guint     quote_level;
  gboolean  signature;
  char     *text;
} LbMimeTextBlock;

/**
 * LbMimePart:
 * @kind: what the part is
 * @depth: 0 for the message's own parts, one more inside each nested
 *   message
 * @alternative: 0, or a number shared by the parts of one
 *   multipart/alternative (the text and the HTML version of one body): a
 *   view shows one of them, the HTML one or, without an HTML view or by
 *   preference, the text one. Only TEXT and HTML parts carry it, and only
 *   when there are at least two versions to choose from; the cid: images
 *   of an HTML version carry 0 (a view that shows the text version may
 *   leave out the IMAGE parts the HTML refers to)
 * @content_type: the MIME type in lower case without parameters
 *   ("text/plain", "image/png")
 * @content_id: (nullable): the Content-ID without its angle brackets
 * @filename: (nullable): the file name to show and save as: decoded
 *   (RFC 2231 and RFC 2047), without directories, never "." or ".." and
 *   without control characters. Attachments without a name get one made
 *   from the type ("attachment.pdf") so there is always one to save as.
 * @size: the size of @data in bytes (0 for BROKEN)
 * @data: (nullable): the decoded content: UTF-8 for TEXT and HTML (the
 *   texts of @blocks joined by a blank line, for TEXT), the bytes for
 *   IMAGE and ATTACHMENT, the message for MESSAGE (to save as .eml); %NULL
 *   for BROKEN
 * @blocks: (nullable): TEXT only: #LbMimeTextBlock, in order
 * @from: (nullable): MESSAGE only: the decoded From, "Name <address>"
 * @to: (nullable): MESSAGE only: the decoded To
 * @cc: (nullable): MESSAGE only: the decoded Cc
 * @subject: (nullable): MESSAGE only: the decoded Subject
 * @date: MESSAGE only: the Date, seconds since the epoch, 0 when missing
 * @problem: (nullable): BROKEN only, and for parts that were shown in
 *   spite of a problem (an unknown charset decoded as windows-1252, text
 *   cut off by the end of the message): a translated sentence saying what
 *   was wrong
 *
 * MESSAGE parts have a @filename too ("<subject>.eml"). A BROKEN part
 * keeps the @content_type, @content_id and @filename of what it was.
 */
typedef struct
{
  LbMimePartKind  kind;
  guint           depth;
  guint           alternative;
  char           *content_type;
  char           *content_id;
  char           *filename;
  gsize           size;
  GBytes         *data;
  GPtrArray      *blocks;
  char           *from;
  char           *to;
  char           *cc;
  char           *subject;
  gint64          date;
  char           *problem;
} LbMimePart;

/**
 * LbMimeAddress:
 * @name: (nullable): the decoded display name
 * @address: the address (addr-spec), or a group name's members one by one
 */
typedef struct
{
  char *name;
  char *address;
} LbMimeAddress;

/**
 * LbMimeMessage:
 * @from, @to, @cc, @reply_to: #LbMimeAddress, decoded, never %NULL
 *   (maybe empty)
 * @subject: (nullable): the decoded Subject
 * @date: the Date, seconds since the epoch (UTC); 0 when missing or broken
 * @message_id: (nullable): without angle brackets
 * @parts: #LbMimePart in display order: the body parts as they are read
 *   (text, HTML, inline images, broken parts, nested messages each
 *   followed by its own parts), then the attachments (files, and nested
 *   messages with Content-Disposition: attachment, each followed by its
 *   own parts). Signatures (PGP, S/MIME) are not listed.
 *
 * A message the way the message view shows it. It holds no GMime object,
 * so the view layer never sees GMime.
 */
typedef struct
{
  GPtrArray *from;
  GPtrArray *to;
  GPtrArray *cc;
  GPtrArray *reply_to;
  char      *subject;
  gint64     date;
  char      *message_id;
  GPtrArray *parts;
} LbMimeMessage;

/* Parses @raw (a whole RFC 5322 message). Fails only when @raw is not a
 * message at all (empty, or no header block); a broken part becomes an
 * LB_MIME_PART_BROKEN entry instead. CPU work: call it from a thread for
 * large messages (lb_mime_message_parse_async does). */
LbMimeMessage   *lb_mime_message_parse        (GBytes               *raw,
                                               GError              **error);
void             lb_mime_message_parse_async  (GBytes               *raw,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
LbMimeMessage   *lb_mime_message_parse_finish (GAsyncResult         *result,
                                               GError              **error);
void             lb_mime_message_free         (LbMimeMessage        *message);

/* The part whose Content-ID is @content_id (without brackets, URL
 * escapes allowed; compared exactly, then ignoring ASCII case), or NULL:
 * what an HTML view answers a cid: request with. */
const LbMimePart *lb_mime_message_find_cid    (LbMimeMessage        *message,
                                               const char           *content_id);

/* A readable plain-text rendering of an HTML document: no markup, no
 * script or style content, entities decoded, paragraphs and list items on
 * their own lines ("• ", "1. " in numbered lists), blockquotes marked
 * "> ", links as "text <url>" when the text is not the URL. */
char            *lb_mime_html_to_text         (const char           *html,
                                               gssize                length);

void             lb_mime_part_free            (LbMimePart           *part);
void             lb_mime_text_block_free      (LbMimeTextBlock      *block);
void             lb_mime_address_free         (LbMimeAddress        *address);

/* "Name <address>", or the address alone when there is no name. */
char            *lb_mime_address_to_string    (const LbMimeAddress  *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbMimeMessage, lb_mime_message_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LbMimePart, lb_mime_part_free)

G_END_DECLS
