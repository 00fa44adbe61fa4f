package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"
)

const (
	videoW, videoH, videoFPS = 320, 240, 15
)

// vp8Provider feeds LocalTrack.StartWrite with synthetic VP8 frames and
// answers PLI/FIR with a key frame.
type vp8Provider struct {
	lksdk.BaseSampleProvider
	enc   *vp8Encoder
	force atomic.Bool
}

func (p *vp8Provider) NextSample(ctx context.Context) (media.Sample, error) {
	data, _, err := p.enc.next(p.force.Swap(false))
	if err != nil {
		return media.Sample{}, err
	}
	return media.Sample{Data: data, Duration: time.Second / videoFPS}, nil
}

type opusProvider struct {
	lksdk.BaseSampleProvider
	enc *opusEncoder
}

func (p *opusProvider) NextSample(ctx context.Context) (media.Sample, error) {
	data, err := p.enc.next()
	if err != nil {
		return media.Sample{}, err
	}
	return media.Sample{Data: data, Duration: 20 * time.Millisecond}, nil
}

func (p *opusProvider) CurrentAudioLevel() uint8 { return 30 }

// publishSynthetic publishes a camera (VP8) and a microphone (Opus) track.
func publishSynthetic(room *lksdk.Room) (func(), error) {
	venc, err := newVP8Encoder(videoW, videoH, videoFPS, 400)
	if err != nil {
		return nil, err
	}
	vp := &vp8Provider{enc: venc}
	vt, err := lksdk.NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
		lksdk.WithRTCPHandler(func(pkt rtcp.Packet) {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				vp.force.Store(true)
			}
		}))
	if err != nil {
		return nil, err
	}
	if err := vt.StartWrite(vp, nil); err != nil {
		return nil, err
	}
	if _, err := room.LocalParticipant.PublishTrack(vt, &lksdk.TrackPublicationOptions{
		Name: "synthetic-camera", Source: lksdkSourceCamera, VideoWidth: videoW, VideoHeight: videoH,
	}); err != nil {
		return nil, err
	}

	aenc, err := newOpusEncoder()
	if err != nil {
		return nil, err
	}
	at, err := lksdk.NewLocalTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2})
	if err != nil {
		return nil, err
	}
	if err := at.StartWrite(&opusProvider{enc: aenc}, nil); err != nil {
		return nil, err
	}
	if _, err := room.LocalParticipant.PublishTrack(at, &lksdk.TrackPublicationOptions{
		Name: "synthetic-microphone", Source: lksdkSourceMicrophone,
	}); err != nil {
		return nil, err
	}
	return func() {
		_ = vt.Close()
		_ = at.Close()
	}, nil
}

// received counts what a subscriber got, decoded.
type received struct {
	mu          sync.Mutex
	videoFrames int
	videoW      int
	videoH      int
	videoErrors int
	audioPkts   int
	audioErrors int
	audioPeak   int // largest decoded sample, absolute
	data        []string
	from        map[string]bool
}

func (r *received) snapshot() (v, a int, w, h int, data []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.videoFrames, r.audioPkts, r.videoW, r.videoH, append([]string(nil), r.data...)
}

// report: one line for the suite that reads it (e2e/browsers.sh)
func (r *received) report() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	from := make([]string, 0, len(r.from))
	for id := range r.from {
		from = append(from, id)
	}
	return fmt.Sprintf("RECEIVED from=%s video=%d size=%dx%d audio=%d peak=%d errors=%d",
		strings.Join(from, ","), r.videoFrames, r.videoW, r.videoH, r.audioPkts, r.audioPeak,
		r.videoErrors+r.audioErrors)
}

func (r *received) consume(track *webrtc.TrackRemote, rp *lksdk.RemoteParticipant) {
	r.mu.Lock()
	if r.from == nil {
		r.from = map[string]bool{}
	}
	r.from[rp.Identity()] = true
	r.mu.Unlock()

	switch track.Kind() {
	case webrtc.RTPCodecTypeVideo:
		dec, err := newVP8Decoder()
		if err != nil {
			return
		}
		defer dec.close()
		sb := samplebuilder.New(200, &codecs.VP8Packet{}, track.Codec().ClockRate)
		for {
			pkt, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			sb.Push(pkt)
			for s := sb.Pop(); s != nil; s = sb.Pop() {
				n, w, h, err := dec.decode(s.Data)
				r.mu.Lock()
				if err != nil {
					r.videoErrors++
				} else if n > 0 {
					r.videoFrames += n
					r.videoW, r.videoH = w, h
				}
				r.mu.Unlock()
			}
		}
	case webrtc.RTPCodecTypeAudio:
		dec, err := newOpusDecoder()
		if err != nil {
			return
		}
		defer dec.close()
		for {
			pkt, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			n, err := dec.decode(pkt.Payload)
			peak := dec.peak(n)
			r.mu.Lock()
			if err != nil {
				r.audioErrors++
			} else if n > 0 {
				r.audioPkts++
				r.audioPeak = max(r.audioPeak, peak)
			}
			r.mu.Unlock()
		}
	}
}
