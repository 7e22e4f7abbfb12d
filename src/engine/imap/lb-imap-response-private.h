/* lb-imap-response-private.h: the blocks a response's FETCH data lives in,
 * for the parser
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lb-imap-response.h"

G_BEGIN_DECLS

/* the size of the first block, when the parser knows how much text the
 * response holds (0: a small default) */
void     lb_imap_response_set_block_hint (LbImapResponse *response,
                                          gsize           hint);
/* @size bytes aligned for any of the response's structures, zeroed,
 * freed with the response */
gpointer lb_imap_response_alloc0         (LbImapResponse *response,
                                          gsize           size);
/* room for a string of @len bytes (not set) and the NUL after them (set),
 * freed with the response */
char    *lb_imap_response_alloc_string   (LbImapResponse *response,
                                          gsize           len);
/* @len bytes and a NUL after them, freed with the response */
char    *lb_imap_response_strndup        (LbImapResponse *response,
                                          const void     *data,
                                          gsize           len);

/* frees what a body structure in the blocks holds outside them (arrays,
 * extension values), for an item a server sent twice; an envelope is all
 * in the blocks */
void     lb_imap_body_release            (LbImapBody     *body);

G_END_DECLS
