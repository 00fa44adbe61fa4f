package main

// Real codecs for the synthetic participant: VP8 with libvpx and Opus with
// libopus (Debian: libvpx-dev, libopus-dev), so that what crosses the SFU
// are genuine encoded frames that a browser decodes and plays, and that the
// subscriber here decodes again to prove they arrived whole.

/*
#cgo pkg-config: vpx opus
#include <stdlib.h>
#include <string.h>
#include <vpx/vpx_encoder.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <opus/opus.h>

typedef struct { vpx_codec_ctx_t ctx; vpx_image_t img; int w, h; } venc;

static venc *venc_new(int w, int h, int fps, int kbps) {
	venc *e = calloc(1, sizeof(venc));
	vpx_codec_enc_cfg_t cfg;
	if (vpx_codec_enc_config_default(vpx_codec_vp8_cx(), &cfg, 0)) { free(e); return NULL; }
	cfg.g_w = w; cfg.g_h = h;
	cfg.g_timebase.num = 1; cfg.g_timebase.den = fps;
	cfg.rc_target_bitrate = kbps;
	cfg.rc_end_usage = VPX_CBR;
	cfg.g_error_resilient = 1;
	cfg.g_lag_in_frames = 0;
	cfg.g_threads = 1;
	cfg.kf_mode = VPX_KF_AUTO;
	cfg.kf_max_dist = fps * 2;
	if (vpx_codec_enc_init(&e->ctx, vpx_codec_vp8_cx(), &cfg, 0)) { free(e); return NULL; }
	vpx_codec_control(&e->ctx, VP8E_SET_CPUUSED, 10);
	if (!vpx_img_alloc(&e->img, VPX_IMG_FMT_I420, w, h, 1)) { vpx_codec_destroy(&e->ctx); free(e); return NULL; }
	e->w = w; e->h = h;
	return e;
}

// draw frame n: moving diagonal bands in colour, a bright box travelling across
static void venc_draw(venc *e, int n) {
	vpx_image_t *im = &e->img;
	for (int y = 0; y < e->h; y++) {
		unsigned char *row = im->planes[0] + y * im->stride[0];
		for (int x = 0; x < e->w; x++) row[x] = (unsigned char)(64 + ((x + y + n * 4) & 127));
	}
	for (int y = 0; y < e->h / 2; y++) {
		unsigned char *u = im->planes[1] + y * im->stride[1];
		unsigned char *v = im->planes[2] + y * im->stride[2];
		for (int x = 0; x < e->w / 2; x++) {
			u[x] = (unsigned char)(128 + 90 * (((x / 20) + (n / 15)) % 3 - 1));
			v[x] = (unsigned char)(128 + 90 * (((y / 15) + (n / 20)) % 3 - 1));
		}
	}
	int bx = (n * 5) % (e->w - 40), by = e->h / 3;
	for (int y = by; y < by + 40 && y < e->h; y++)
		memset(im->planes[0] + y * im->stride[0] + bx, 235, 40);
}

// returns the size of the frame written to out, 0 for none, -1 on error
static int venc_encode(venc *e, int n, int force_kf, unsigned char *out, int cap, int *key) {
	venc_draw(e, n);
	if (vpx_codec_encode(&e->ctx, &e->img, n, 1, force_kf ? VPX_EFLAG_FORCE_KF : 0, VPX_DL_REALTIME))
		return -1;
	const vpx_codec_cx_pkt_t *pkt;
	vpx_codec_iter_t it = NULL;
	int size = 0;
	*key = 0;
	while ((pkt = vpx_codec_get_cx_data(&e->ctx, &it)) != NULL) {
		if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) continue;
		if (size + (int) pkt->data.frame.sz > cap) return -1;
		memcpy(out + size, pkt->data.frame.buf, pkt->data.frame.sz);
		size += pkt->data.frame.sz;
		if (pkt->data.frame.flags & VPX_FRAME_IS_KEY) *key = 1;
	}
	return size;
}

static void venc_free(venc *e) { vpx_img_free(&e->img); vpx_codec_destroy(&e->ctx); free(e); }

static vpx_codec_ctx_t *vdec_new(void) {
	vpx_codec_ctx_t *d = calloc(1, sizeof(vpx_codec_ctx_t));
	if (vpx_codec_dec_init(d, vpx_codec_vp8_dx(), NULL, 0)) { free(d); return NULL; }
	return d;
}

// decodes one frame; returns the number of pictures out, dimensions in w/h
static int vdec_decode(vpx_codec_ctx_t *d, const unsigned char *buf, int len, int *w, int *h) {
	if (vpx_codec_decode(d, buf, len, NULL, 0)) return -1;
	vpx_codec_iter_t it = NULL;
	vpx_image_t *img;
	int n = 0;
	while ((img = vpx_codec_get_frame(d, &it)) != NULL) { *w = img->d_w; *h = img->d_h; n++; }
	return n;
}

static void vdec_free(vpx_codec_ctx_t *d) { vpx_codec_destroy(d); free(d); }
*/
import "C"

import (
	"errors"
	"math"
	"unsafe"
)

type vp8Encoder struct {
	e   *C.venc
	n   int
	buf []byte
}

func newVP8Encoder(w, h, fps, kbps int) (*vp8Encoder, error) {
	e := C.venc_new(C.int(w), C.int(h), C.int(fps), C.int(kbps))
	if e == nil {
		return nil, errors.New("libvpx: VP8 encoder init failed")
	}
	return &vp8Encoder{e: e, buf: make([]byte, 512*1024)}, nil
}

// next encodes the next synthetic picture; force asks for a key frame.
func (v *vp8Encoder) next(force bool) ([]byte, bool, error) {
	f := 0
	if force {
		f = 1
	}
	var key C.int
	n := C.venc_encode(v.e, C.int(v.n), C.int(f), (*C.uchar)(unsafe.Pointer(&v.buf[0])), C.int(len(v.buf)), &key)
	v.n++
	if n < 0 {
		return nil, false, errors.New("libvpx: encode failed")
	}
	out := make([]byte, int(n))
	copy(out, v.buf[:n])
	return out, key != 0, nil
}

func (v *vp8Encoder) close() { C.venc_free(v.e) }

type vp8Decoder struct{ d *C.vpx_codec_ctx_t }

func newVP8Decoder() (*vp8Decoder, error) {
	d := C.vdec_new()
	if d == nil {
		return nil, errors.New("libvpx: VP8 decoder init failed")
	}
	return &vp8Decoder{d: d}, nil
}

// decode returns the number of pictures the frame produced and their size.
func (v *vp8Decoder) decode(frame []byte) (int, int, int, error) {
	if len(frame) == 0 {
		return 0, 0, 0, nil
	}
	var w, h C.int
	n := C.vdec_decode(v.d, (*C.uchar)(unsafe.Pointer(&frame[0])), C.int(len(frame)), &w, &h)
	if n < 0 {
		return 0, 0, 0, errors.New("libvpx: decode failed")
	}
	return int(n), int(w), int(h), nil
}

func (v *vp8Decoder) close() { C.vdec_free(v.d) }

// Opus, 48 kHz mono, 20 ms frames of a 440 Hz tone.
type opusEncoder struct {
	e     *C.OpusEncoder
	phase float64
	pcm   []int16
	out   []byte
}

func newOpusEncoder() (*opusEncoder, error) {
	var err C.int
	e := C.opus_encoder_create(48000, 1, C.OPUS_APPLICATION_AUDIO, &err)
	if err != C.OPUS_OK || e == nil {
		return nil, errors.New("libopus: encoder init failed")
	}
	return &opusEncoder{e: e, pcm: make([]int16, 960), out: make([]byte, 4000)}, nil
}

func (o *opusEncoder) next() ([]byte, error) {
	for i := range o.pcm {
		o.pcm[i] = int16(8000 * math.Sin(o.phase))
		o.phase += 2 * math.Pi * 440 / 48000
	}
	n := C.opus_encode(o.e, (*C.opus_int16)(unsafe.Pointer(&o.pcm[0])), 960,
		(*C.uchar)(unsafe.Pointer(&o.out[0])), C.opus_int32(len(o.out)))
	if n < 0 {
		return nil, errors.New("libopus: encode failed")
	}
	out := make([]byte, int(n))
	copy(out, o.out[:n])
	return out, nil
}

func (o *opusEncoder) close() { C.opus_encoder_destroy(o.e) }

type opusDecoder struct {
	d   *C.OpusDecoder
	pcm []int16
}

func newOpusDecoder() (*opusDecoder, error) {
	var err C.int
	d := C.opus_decoder_create(48000, 2, &err)
	if err != C.OPUS_OK || d == nil {
		return nil, errors.New("libopus: decoder init failed")
	}
	return &opusDecoder{d: d, pcm: make([]int16, 5760*2)}, nil
}

// decode returns the number of samples per channel in the packet.
func (o *opusDecoder) decode(pkt []byte) (int, error) {
	if len(pkt) == 0 {
		return 0, nil
	}
	n := C.opus_decode(o.d, (*C.uchar)(unsafe.Pointer(&pkt[0])), C.opus_int32(len(pkt)),
		(*C.opus_int16)(unsafe.Pointer(&o.pcm[0])), 5760, 0)
	if n < 0 {
		return 0, errors.New("libopus: decode failed")
	}
	return int(n), nil
}

// peak: the largest absolute sample of the last n decoded (per channel)
func (o *opusDecoder) peak(n int) int {
	m := 0
	for _, v := range o.pcm[:min(2*n, len(o.pcm))] {
		m = max(m, int(v), -int(v))
	}
	return m
}

func (o *opusDecoder) close() { C.opus_decoder_destroy(o.d) }
