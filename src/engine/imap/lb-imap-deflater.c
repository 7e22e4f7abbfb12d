/* lb-imap-deflater.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "lb-imap"

#include "config.h"

#include <zlib.h>

#include <glib/gi18n-lib.h>

#include "lb-imap-deflater.h"

/* What a sync flush adds after the data: the rest of the current block,
 * an empty stored block (about 5 bytes) and up to 7 bits of padding. */
#define FLUSH_OVERHEAD 64

/* zlib takes sizes as uInt: convert at most this much at a time */
#define MAX_CHUNK (G_MAXUINT32 / 4)

struct _LbImapDeflater
{
  GObject  parent_instance;

  z_stream zstream;
  gboolean ready;
};

static void lb_imap_deflater_converter_init (GConverterIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (LbImapDeflater, lb_imap_deflater, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_CONVERTER,
                                                      lb_imap_deflater_converter_init))

static void
lb_imap_deflater_finalize (GObject *object)
{
  LbImapDeflater *self = LB_IMAP_DEFLATER (object);

  if (self->ready)
    deflateEnd (&self->zstream);

  G_OBJECT_CLASS (lb_imap_deflater_parent_class)->finalize (object);
}

static void
lb_imap_deflater_class_init (LbImapDeflaterClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = lb_imap_deflater_finalize;
}

static void
lb_imap_deflater_init (LbImapDeflater *self)
{
  /* negative window bits: raw DEFLATE, as RFC 4978 wants */
  self->ready = deflateInit2 (&self->zstream, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
                              -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  if (!self->ready)
    g_critical ("zlib could not set up a compressor: out of memory");
}

LbImapDeflater *
lb_imap_deflater_new (void)
{
  return g_object_new (LB_TYPE_IMAP_DEFLATER, NULL);
}

gsize
lb_imap_deflater_bound (LbImapDeflater *self,
                        gsize           input_size)
{
  g_return_val_if_fail (LB_IS_IMAP_DEFLATER (self), 0);

  input_size = MIN (input_size, MAX_CHUNK);
  if (!self->ready)
    return input_size + FLUSH_OVERHEAD;

  return deflateBound (&self->zstream, (uLong) input_size) + FLUSH_OVERHEAD;
}

static GConverterResult
lb_imap_deflater_convert (GConverter      *converter,
                          const void      *inbuf,
                          gsize            inbuf_size,
                          void            *outbuf,
                          gsize            outbuf_size,
                          GConverterFlags  flags,
                          gsize           *bytes_read,
                          gsize           *bytes_written,
                          GError         **error)
{
  LbImapDeflater *self = LB_IMAP_DEFLATER (converter);
  gboolean at_end = (flags & G_CONVERTER_INPUT_AT_END) != 0;
  int result;

  *bytes_read = 0;
  *bytes_written = 0;

  if (!self->ready)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           _("Could not compress the data sent to the server"));
      return G_CONVERTER_ERROR;
    }

  inbuf_size = MIN (inbuf_size, MAX_CHUNK);
  outbuf_size = MIN (outbuf_size, G_MAXUINT32);

  /* the whole flushed output must fit, or nothing is converted */
  if (outbuf_size < lb_imap_deflater_bound (self, inbuf_size))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                           _("Not enough space for the compressed data"));
      return G_CONVERTER_ERROR;
    }

  self->zstream.next_in = (Bytef *) inbuf;
  self->zstream.avail_in = (uInt) inbuf_size;
  self->zstream.next_out = outbuf;
  self->zstream.avail_out = (uInt) outbuf_size;

  result = deflate (&self->zstream, at_end ? Z_FINISH : Z_SYNC_FLUSH);

  *bytes_read = inbuf_size - self->zstream.avail_in;
  *bytes_written = outbuf_size - self->zstream.avail_out;

  switch (result)
    {
    case Z_STREAM_END:
      return G_CONVERTER_FINISHED;

    case Z_OK:
    case Z_BUF_ERROR:   /* nothing to do: a flush right after a flush */
      return (flags & G_CONVERTER_FLUSH) ? G_CONVERTER_FLUSHED : G_CONVERTER_CONVERTED;

    default:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Could not compress the data sent to the server (zlib error %d)"), result);
      return G_CONVERTER_ERROR;
    }
}

static void
lb_imap_deflater_reset (GConverter *converter)
{
  LbImapDeflater *self = LB_IMAP_DEFLATER (converter);

  if (self->ready)
    deflateReset (&self->zstream);
}

static void
lb_imap_deflater_converter_init (GConverterIface *iface)
{
  iface->convert = lb_imap_deflater_convert;
  iface->reset = lb_imap_deflater_reset;
}
