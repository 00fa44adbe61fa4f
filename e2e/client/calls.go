package main

// calls: live calls for bench/reloads.sh.  -n participants in rooms of two,
// each with a token from the door's /token, each publishing an Opus track
// (silence frames, 50 packets a second) and receiving the other's, for
// -duration.  Media flows straight to livekit-server (ICE/UDP); only the
// signalling WebSocket crosses the door.  Per participant it records the
// longest gap between two received audio packets and every reconnection
// (the SDK's resume or full reconnect: from OnReconnecting to
// OnReconnected), and whether it was disconnected for good.  Prints one
// JSON line; the shell reloads the door meanwhile.

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
)

type callStats struct {
	mu          sync.Mutex
	lastPkt     time.Time
	maxGap      time.Duration
	pkts        int
	reconnects  int
	reconnectAt time.Time
	longestRec  time.Duration
	lost        bool
}

type callsResult struct {
	Mode          string    `json:"mode"`
	N             int       `json:"n"`
	Joined        int       `json:"joined"`
	Failed        int       `json:"failed"`
	Errors        []string  `json:"errors,omitempty"`
	Receiving     int       `json:"receiving"`      // got the other's audio
	GapOver500    int       `json:"gap_over_500ms"` // participants whose audio stopped > 0.5 s
	MaxGapMs      []float64 `json:"max_gap_ms"`     // p50, p99, max over participants
	Reconnected   int       `json:"reconnected"`    // participants that reconnected at least once
	Reconnects    int       `json:"reconnects"`
	ReconnectMs   []float64 `json:"reconnect_ms"` // p50, max of the longest per participant
	Disconnected  int       `json:"disconnected"` // gone for good
	DurationS     float64   `json:"duration_s"`
	PacketsPerSec float64   `json:"packets_per_s"`
}

func (s *callStats) packet(now time.Time) {
	s.mu.Lock()
	if !s.lastPkt.IsZero() {
		s.maxGap = max(s.maxGap, now.Sub(s.lastPkt))
	}
	s.lastPkt = now
	s.pkts++
	s.mu.Unlock()
}

func callJoin(door *frontDoor, room, id string, st *callStats) (*lksdk.Room, error) {
	t, err := door.token(room, id)
	if err != nil {
		return nil, err
	}
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
		go func() {
			for {
				if _, _, err := track.ReadRTP(); err != nil {
					return
				}
				st.packet(time.Now())
			}
		}()
	}
	cb.OnReconnecting = func() {
		st.mu.Lock()
		st.reconnects++
		st.reconnectAt = time.Now()
		st.mu.Unlock()
	}
	cb.OnReconnected = func() {
		st.mu.Lock()
		if !st.reconnectAt.IsZero() {
			st.longestRec = max(st.longestRec, time.Since(st.reconnectAt))
		}
		st.reconnectAt = time.Time{}
		st.mu.Unlock()
	}
	cb.OnDisconnected = func() {
		st.mu.Lock()
		st.lost = true
		st.mu.Unlock()
	}
	r, err := lksdk.ConnectToRoomWithToken(t.URL, t.Token, cb, lksdk.WithAutoSubscribe(true))
	if err != nil {
		return nil, err
	}
	publishSilence(r)
	return r, nil
}

func calls(door *frontDoor) {
	n := *flagN &^ 1
	res := callsResult{Mode: *flagMode, N: n}
	run := randomID("call")
	rooms := make([]*lksdk.Room, n)
	stats := make([]*callStats, n)
	errs := make([]error, n)
	fanOut(n, func(i int) {
		stats[i] = &callStats{}
		rooms[i], errs[i] = callJoin(door, fmt.Sprintf("%s-%d", run, i/2), fmt.Sprintf("c%d", i), stats[i])
	})
	fmt.Println("READY")
	t0 := time.Now()
	time.Sleep(*flagDuration)
	res.DurationS = time.Since(t0).Seconds()

	var gaps, recs []float64
	for i, r := range rooms {
		if r == nil {
			res.Failed++
			if len(res.Errors) < 5 {
				res.Errors = append(res.Errors, errString(errs[i]))
			}
			continue
		}
		res.Joined++
		s := stats[i]
		s.mu.Lock()
		if s.pkts > 0 {
			res.Receiving++
			// the silence since the last packet counts too
			gap := max(s.maxGap, time.Since(s.lastPkt))
			gaps = append(gaps, float64(gap.Milliseconds()))
			if gap > 500*time.Millisecond {
				res.GapOver500++
			}
		}
		res.PacketsPerSec += float64(s.pkts) / res.DurationS
		if s.reconnects > 0 {
			res.Reconnected++
			res.Reconnects += s.reconnects
			longest := s.longestRec
			if !s.reconnectAt.IsZero() { // still reconnecting
				longest = max(longest, time.Since(s.reconnectAt))
			}
			recs = append(recs, float64(longest.Milliseconds()))
		}
		if s.lost {
			res.Disconnected++
		}
		s.mu.Unlock()
		r.Disconnect()
	}
	sort.Float64s(gaps)
	sort.Float64s(recs)
	res.MaxGapMs = []float64{percentile(gaps, 0.5), percentile(gaps, 0.99), percentile(gaps, 1)}
	res.ReconnectMs = []float64{percentile(recs, 0.5), percentile(recs, 1)}
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
}
