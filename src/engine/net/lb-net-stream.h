/* lb-net-stream.h: the socket under a mail protocol client's stream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

GSocket *lb_net_stream_get_socket      (GIOStream *stream);
void     lb_net_stream_set_up_socket   (GIOStream *stream,
                                        gboolean   keepalive);
char    *lb_net_stream_address_literal (GIOStream *stream);

G_END_DECLS
