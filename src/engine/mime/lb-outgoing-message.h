/* lb-outgoing-message.h: a message being written, and its bytes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * LbOutgoingForm:
 * @LB_OUTGOING_FORM_SEND: the bytes handed to the SMTP server and filed in
 *   Sent: no Bcc header
 * @LB_OUTGOING_FORM_DRAFT: the bytes of a draft or of a message waiting in
 *   the Outbox: with the Bcc header, so that reopening it gives back every
 *   field
 */
typedef enum
{
  LB_OUTGOING_FORM_SEND,
  LB_OUTGOING_FORM_DRAFT,
} LbOutgoingForm;

/**
 * LbReplyMode:
 * @LB_REPLY_SENDER: to the Reply-To, else the From of the original
 * @LB_REPLY_ALL: also to its other To and Cc addresses, less the user's own
 */
typedef enum
{
  LB_REPLY_SENDER,
  LB_REPLY_ALL,
} LbReplyMode;

/**
 * LbForwardMode:
 * @LB_FORWARD_INLINE: the original's headers and text quoted in the body,
 *   its attachments attached again
 * @LB_FORWARD_ATTACHMENT: the original attached whole (message/rfc822)
 */
typedef enum
{
  LB_FORWARD_INLINE,
  LB_FORWARD_ATTACHMENT,
} LbForwardMode;

#define LB_TYPE_OUTGOING_MESSAGE (lb_outgoing_message_get_type ())

G_DECLARE_FINAL_TYPE (LbOutgoingMessage, lb_outgoing_message, LB, OUTGOING_MESSAGE, GObject)

/* A message being written: the fields as the user typed them, turned into
 * RFC 5322 bytes with GMime. Address fields are text as typed ("Анна
 * Иванова <anna@example.test>, bob@example.test"), parsed when checked and
 * when the bytes are made. The Message-ID is made once (at the first
 * lb_outgoing_message_to_bytes() unless set) and kept: a draft, its
 * versions and the message sent share it. The Date is set when the bytes
 * are made unless set. */

LbOutgoingMessage *lb_outgoing_message_new                (void);
/* a draft or an Outbox message read back (LB_OUTGOING_FORM_DRAFT bytes, or
 * any message): every field, the text decoded (format=flowed undone), the
 * attachments; a broken message gives what can be read, never an error
 * unless it is not a message at all */
LbOutgoingMessage *lb_outgoing_message_new_from_bytes     (GBytes             *raw,
                                                           GError            **error);
/* a reply to @original (raw bytes): To (and Cc for ALL), "Re: " subject
 * (not stacked), In-Reply-To, References, the text quoted ("> ") under an
 * attribution line; @own_addresses (nullable, NULL-terminated) are left out
 * of a reply to all */
LbOutgoingMessage *lb_outgoing_message_new_reply          (GBytes             *original,
                                                           LbReplyMode         mode,
                                                           const char * const *own_addresses,
                                                           GError            **error);
/* a forward of @original: "Fwd: " subject, X-Forwarded-Message-Id, no
 * recipients */
LbOutgoingMessage *lb_outgoing_message_new_forward        (GBytes             *original,
                                                           LbForwardMode       mode,
                                                           GError            **error);

const char        *lb_outgoing_message_get_from_name      (LbOutgoingMessage  *self);
const char        *lb_outgoing_message_get_from_address   (LbOutgoingMessage  *self);
void               lb_outgoing_message_set_from           (LbOutgoingMessage  *self,
                                                           const char         *name,
                                                           const char         *address);
const char        *lb_outgoing_message_get_to             (LbOutgoingMessage  *self);
void               lb_outgoing_message_set_to             (LbOutgoingMessage  *self,
                                                           const char         *to);
const char        *lb_outgoing_message_get_cc             (LbOutgoingMessage  *self);
void               lb_outgoing_message_set_cc             (LbOutgoingMessage  *self,
                                                           const char         *cc);
const char        *lb_outgoing_message_get_bcc            (LbOutgoingMessage  *self);
void               lb_outgoing_message_set_bcc            (LbOutgoingMessage  *self,
                                                           const char         *bcc);
const char        *lb_outgoing_message_get_reply_to       (LbOutgoingMessage  *self);
void               lb_outgoing_message_set_reply_to       (LbOutgoingMessage  *self,
                                                           const char         *reply_to);
const char        *lb_outgoing_message_get_subject        (LbOutgoingMessage  *self);
void               lb_outgoing_message_set_subject        (LbOutgoingMessage  *self,
                                                           const char         *subject);
/* the text as typed: UTF-8, lines separated by "\n" */
const char        *lb_outgoing_message_get_body           (LbOutgoingMessage  *self);
void               lb_outgoing_message_set_body           (LbOutgoingMessage  *self,
                                                           const char         *body);
/* Message-IDs without the angle brackets; references separated by spaces */
const char        *lb_outgoing_message_get_message_id     (LbOutgoingMessage  *self);
void               lb_outgoing_message_set_message_id     (LbOutgoingMessage  *self,
                                                           const char         *message_id);
const char        *lb_outgoing_message_get_in_reply_to    (LbOutgoingMessage  *self);
void               lb_outgoing_message_set_in_reply_to    (LbOutgoingMessage  *self,
                                                           const char         *message_id);
const char        *lb_outgoing_message_get_references     (LbOutgoingMessage  *self);
void               lb_outgoing_message_set_references     (LbOutgoingMessage  *self,
                                                           const char         *references);
const char        *lb_outgoing_message_get_forwarded_id   (LbOutgoingMessage  *self);
void               lb_outgoing_message_set_forwarded_id   (LbOutgoingMessage  *self,
                                                           const char         *message_id);
GDateTime         *lb_outgoing_message_get_date           (LbOutgoingMessage  *self);
void               lb_outgoing_message_set_date           (LbOutgoingMessage  *self,
                                                           GDateTime          *date);

/* attachments, in order; @content_type NULL: guessed from the name and the
 * data; a message/rfc822 attachment is sent as it is (it may need
 * 8BITMIME) */
guint              lb_outgoing_message_add_attachment     (LbOutgoingMessage  *self,
                                                           const char         *filename,
                                                           const char         *content_type,
                                                           GBytes             *data);
void               lb_outgoing_message_remove_attachment  (LbOutgoingMessage  *self,
                                                           guint               index);
guint              lb_outgoing_message_get_n_attachments  (LbOutgoingMessage  *self);
const char        *lb_outgoing_message_get_attachment_name (LbOutgoingMessage *self,
                                                           guint               index);
const char        *lb_outgoing_message_get_attachment_type (LbOutgoingMessage *self,
                                                           guint               index);
GBytes            *lb_outgoing_message_get_attachment_data (LbOutgoingMessage *self,
                                                           guint               index);

/* Checks the address fields: each address parses (the error names the one
 * that does not, translated), at least one recipient in To, Cc or Bcc, and
 * a From address. */
gboolean           lb_outgoing_message_check              (LbOutgoingMessage  *self,
                                                           GError            **error);
/* the envelope: bare addresses of To, Cc and Bcc, each once, in order
 * (NULL-terminated; IDN domains in ASCII) */
char             **lb_outgoing_message_dup_recipients     (LbOutgoingMessage  *self);
/* TRUE when the text mentions an attachment (English or Russian words,
 * quoted lines skipped) and none is attached */
gboolean           lb_outgoing_message_lacks_attachment   (LbOutgoingMessage  *self);

/* RFC 5322 bytes, CRLF line ends: names and subject encoded per RFC 2047,
 * the text as UTF-8 text/plain format=flowed (quoted-printable when not
 * ASCII), attachments base64 with RFC 2231 file names, Date, Message-ID,
 * In-Reply-To, References, MIME-Version, User-Agent */
GBytes            *lb_outgoing_message_to_bytes           (LbOutgoingMessage  *self,
                                                           LbOutgoingForm      form);

G_END_DECLS
