package main

// load: the front door's own cost (bench/frontdoor.sh).  Joins -n
// participants, -room-size per room, half publishers (one Opus track of
// silence frames) and half subscribers, -concurrency joins at a time,
// to -url: livekit-server straight (ws://) or through the front door
// (wss://, nginx's /rtc proxy).  Tokens are minted here with the key file,
// so /token is not part of what is measured.  Holds everyone for -hold,
// reads the CPU time of -cpu-pids (the nginx worker) from /proc around the
// joins and the hold, then prints one JSON line.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// opusSilence is one 20 ms Opus frame of silence (TOC 0xf8: CELT FB 20 ms).
var opusSilence = []byte{0xf8, 0xff, 0xfe}

type loadResult struct {
	Mode       string    `json:"mode"`
	N          int       `json:"n"`
	Joined     int       `json:"joined"`
	Failed     int       `json:"failed"`
	Errors     []string  `json:"errors,omitempty"`
	P50ms      float64   `json:"p50_ms"`
	P99ms      float64   `json:"p99_ms"`
	MaxMs      float64   `json:"max_ms"`
	JoinS      float64   `json:"join_s"`
	HoldS      float64   `json:"hold_s"`
	CPUJoinS   float64   `json:"cpu_join_s"`
	CPUHoldS   float64   `json:"cpu_hold_s"`
	Latencies  []float64 `json:"latencies_ms"`
	Subscribed int       `json:"subscribed_tracks"`
}

// cpuSeconds sums the CPU time of the pids, every thread of each:
// /proc/PID/task/TID/schedstat (ns), the tick-free counter (utime+stime of
// /proc/PID/stat count 10 ms ticks).  Threads that have exited are not
// counted: nginx's workers and Go's runtime threads live as long as the
// process.
func cpuSeconds(pids []int) float64 {
	var t float64
	for _, pid := range pids {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			if fs := strings.Fields(string(b)); len(fs) >= 1 {
				ns, _ := strconv.ParseFloat(fs[0], 64)
				t += ns / 1e9
			}
		}
	}
	return t
}

// fanOut runs f(0) .. f(n-1), -concurrency at a time, and waits for all
func fanOut(n int, f func(i int)) {
	sem := make(chan struct{}, *flagConcurrency)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			f(i)
		}(i)
	}
	wg.Wait()
}

// cpuPids: the pids of -cpu-pids (comma-separated; others ignored)
func cpuPids() []int {
	var pids []int
	for _, p := range strings.Split(*flagCPUPids, ",") {
		if n, err := strconv.Atoi(p); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func load(url string) {
	key, secret, err := readKey(*flagKeys)
	if err != nil {
		notOK("load: key file: %v", err)
		return
	}
	pids := cpuPids()
	n, size := *flagN, *flagRoomSize
	res := loadResult{Mode: *flagMode, N: n}
	run := randomID("load")
	rooms := make([]*lksdk.Room, n)
	lat := make([]float64, n)
	errs := make([]error, n)
	var mu sync.Mutex

	cpu0, t0 := cpuSeconds(pids), time.Now()
	fanOut(n, func(i int) {
		now := time.Now().Unix()
		pub := i%2 == 0
		tok := mint(key, secret, map[string]any{
			"sub": fmt.Sprintf("p%d", i), "nbf": now - 10, "exp": now + 3600,
			"video": map[string]any{"roomJoin": true, "room": fmt.Sprintf("%s-%d", run, i/size),
				"canPublish": pub, "canSubscribe": !pub},
		})
		cb := lksdk.NewRoomCallback()
		cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, _ *lksdk.RemoteParticipant) {
			mu.Lock()
			res.Subscribed++
			mu.Unlock()
		}
		start := time.Now()
		r, err := lksdk.ConnectToRoomWithToken(url, tok, cb, lksdk.WithAutoSubscribe(!pub))
		lat[i] = float64(time.Since(start).Microseconds()) / 1000
		if err != nil {
			errs[i] = err
			return
		}
		rooms[i] = r
		if pub {
			publishSilence(r)
		}
	})
	res.JoinS = time.Since(t0).Seconds()
	cpu1, t1 := cpuSeconds(pids), time.Now()
	time.Sleep(*flagHold)
	res.HoldS = time.Since(t1).Seconds()
	res.CPUJoinS, res.CPUHoldS = cpu1-cpu0, cpuSeconds(pids)-cpu1

	for i, r := range rooms {
		if r != nil {
			res.Joined++
			res.Latencies = append(res.Latencies, lat[i])
			r.Disconnect()
		} else {
			res.Failed++
			if len(res.Errors) < 5 {
				res.Errors = append(res.Errors, errString(errs[i]))
			}
		}
	}
	sort.Float64s(res.Latencies)
	res.P50ms = percentile(res.Latencies, 0.50)
	res.P99ms = percentile(res.Latencies, 0.99)
	res.MaxMs = percentile(res.Latencies, 1)
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	check(res.Failed == 0, "load: %s: %d of %d participants joined", res.Mode, res.Joined, n)
}

// publishSilence publishes one Opus track and writes silence frames until
// the room is left.
func publishSilence(r *lksdk.Room) {
	t, err := lksdk.NewLocalSampleTrack(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2})
	if err != nil {
		return
	}
	if _, err := r.LocalParticipant.PublishTrack(t, &lksdk.TrackPublicationOptions{Name: "mic", Source: lksdkSourceMicrophone}); err != nil {
		return
	}
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for range tick.C {
			if r.ConnectionState() == lksdk.ConnectionStateDisconnected {
				return
			}
			if err := t.WriteSample(media.Sample{Data: opusSilence, Duration: 20 * time.Millisecond}, nil); err != nil {
				return
			}
		}
	}()
}
