/* lb-imap-deflater.h: raw DEFLATE with a sync flush after every write
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A GConverter for COMPRESS=DEFLATE (RFC 4978): raw DEFLATE (no zlib or
 * gzip framing) that ends every conversion with a sync flush, so all the
 * input given so far can be decompressed from the output alone. GLib
 * 2.74's GZlibCompressor only flushes on G_CONVERTER_FLUSH, which
 * GConverterOutputStream sends from g_output_stream_flush() alone: a
 * command written through it would sit in zlib's window until the next
 * one. Each convert() needs room for the whole flushed output: it fails
 * with G_IO_ERROR_NO_SPACE rather than leaving output behind in zlib when
 * @outbuf is smaller than lb_imap_deflater_bound(). */

#define LB_TYPE_IMAP_DEFLATER (lb_imap_deflater_get_type ())

G_DECLARE_FINAL_TYPE (LbImapDeflater, lb_imap_deflater, LB, IMAP_DEFLATER, GObject)

LbImapDeflater *lb_imap_deflater_new   (void);
/* the output space a conversion of @input_size bytes may need */
gsize           lb_imap_deflater_bound (LbImapDeflater *self,
                                        gsize           input_size);

G_END_DECLS
