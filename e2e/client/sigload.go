package main

// sigload: the doors' own cost without media (bench/frontdoor.sh).  Each
// of -n participants is a new visitor: GET /token from the door on a new
// TLS connection (or, with no door, a token minted here with -keys), then
// the signalling WebSocket on another new connection, until livekit-server's
// JoinResponse arrives; -concurrency joins at a time, -room-size per room.
// Everyone then stays for -hold, pinging as the JoinResponse asks, with no
// peer connection at all: only the door's TLS and proxying are exercised,
// so one load generator holds thousands.  Reads the CPU time and resident
// memory of -cpu-pids (the door's processes) before the joins, after them
// and after the hold; prints one JSON line.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/proto"
)

type sigResult struct {
	Mode      string   `json:"mode"`
	N         int      `json:"n"`
	Joined    int      `json:"joined"`
	Failed    int      `json:"failed"`
	Dropped   int      `json:"dropped"` // joined, then closed before the hold ended
	Errors    []string `json:"errors,omitempty"`
	TokenP50  float64  `json:"token_p50_ms"`
	P50ms     float64  `json:"p50_ms"`
	P99ms     float64  `json:"p99_ms"`
	MaxMs     float64  `json:"max_ms"`
	JoinS     float64  `json:"join_s"`
	HoldS     float64  `json:"hold_s"`
	CPUJoinS  float64  `json:"cpu_join_s"`
	CPUHoldS  float64  `json:"cpu_hold_s"`
	RSSIdleKB int      `json:"rss_idle_kb"`
	RSSHeldKB int      `json:"rss_held_kb"`
	SelfCPUS  float64  `json:"self_cpu_s"`
}

// rssKB sums VmRSS of the pids.
func rssKB(pids []int) int {
	t := 0
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
				n, _ := strconv.Atoi(f[1])
				t += n
			}
		}
	}
	return t
}

// sigJoin: one visitor.  Returns the open WebSocket, the ping interval,
// the token's and the whole join's milliseconds.
func sigJoin(door *frontDoor, base, key, secret, room, id string) (*websocket.Conn, time.Duration, float64, float64, error) {
	start := time.Now()
	var tok string
	if key != "" {
		now := time.Now().Unix()
		tok = mint(key, secret, map[string]any{"sub": id, "nbf": now - 10, "exp": now + 3600,
			"video": map[string]any{"roomJoin": true, "room": room}})
	} else {
		tr := door.client.Transport.(*http.Transport).Clone()
		tr.DisableKeepAlives = true
		c := *door.client
		c.Transport = tr
		d := &frontDoor{base: door.base, client: &c}
		t, err := d.token(room, id)
		if err != nil {
			return nil, 0, 0, 0, err
		}
		tok = t.Token
	}
	tokMs := float64(time.Since(start).Microseconds()) / 1000
	q := url.Values{"access_token": {tok}, "auto_subscribe": {"1"}, "sdk": {"go"},
		"version": {"2.19.0"}, "protocol": {"16"}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, base+"/rtc?"+q.Encode(), nil)
	if err != nil {
		if resp != nil {
			err = fmt.Errorf("%v (HTTP %d)", err, resp.StatusCode)
		}
		return nil, 0, 0, 0, err
	}
	_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			ws.Close()
			return nil, 0, 0, 0, err
		}
		var r livekit.SignalResponse
		if proto.Unmarshal(msg, &r) != nil {
			continue
		}
		if j := r.GetJoin(); j != nil {
			_ = ws.SetReadDeadline(time.Time{})
			iv := time.Duration(j.PingInterval) * time.Second
			if iv <= 0 {
				iv = 5 * time.Second
			}
			return ws, iv, tokMs, float64(time.Since(start).Microseconds()) / 1000, nil
		}
	}
}

// sigHold: ping at the interval, read and drop everything, until stop;
// reports whether the connection lasted.
func sigHold(ws *websocket.Conn, every time.Duration, stop <-chan struct{}) bool {
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			select {
			case <-closed:
				return false
			default:
				return true
			}
		case <-closed:
			<-stop
			return false
		case <-t.C:
			b, _ := proto.Marshal(&livekit.SignalRequest{Message: &livekit.SignalRequest_PingReq{
				PingReq: &livekit.Ping{Timestamp: time.Now().UnixMilli()}}})
			_ = ws.WriteMessage(websocket.BinaryMessage, b)
		}
	}
}

func selfCPU() float64 { return cpuSeconds([]int{os.Getpid()}) }

func sigload(door *frontDoor, base string) {
	key, secret := "", ""
	if *flagKeys != "" {
		var err error
		if key, secret, err = readKey(*flagKeys); err != nil {
			notOK("sigload: key file: %v", err)
			return
		}
	}
	pids := cpuPids()
	n, size := *flagN, *flagRoomSize
	res := sigResult{Mode: *flagMode, N: n}
	run := randomID("sig")
	conns := make([]*websocket.Conn, n)
	every := make([]time.Duration, n)
	lat, tokLat := make([]float64, n), make([]float64, n)
	errs := make([]error, n)

	res.RSSIdleKB = rssKB(pids)
	self0, cpu0, t0 := selfCPU(), cpuSeconds(pids), time.Now()
	fanOut(n, func(i int) {
		conns[i], every[i], tokLat[i], lat[i], errs[i] = sigJoin(door, base, key, secret,
			fmt.Sprintf("%s-%d", run, i/size), fmt.Sprintf("s%d", i))
	})
	res.JoinS = time.Since(t0).Seconds()
	cpu1, t1 := cpuSeconds(pids), time.Now()

	stop := make(chan struct{})
	lasted := make([]bool, n)
	var hw sync.WaitGroup
	for i, c := range conns {
		if c != nil {
			hw.Add(1)
			go func(i int, c *websocket.Conn) { defer hw.Done(); lasted[i] = sigHold(c, every[i], stop) }(i, c)
		}
	}
	time.Sleep(*flagHold)
	res.RSSHeldKB = rssKB(pids)
	close(stop)
	hw.Wait()
	res.HoldS = time.Since(t1).Seconds()
	res.CPUJoinS, res.CPUHoldS = cpu1-cpu0, cpuSeconds(pids)-cpu1
	res.SelfCPUS = selfCPU() - self0

	var joined, toks []float64
	for i, c := range conns {
		if c == nil {
			res.Failed++
			if len(res.Errors) < 5 {
				res.Errors = append(res.Errors, errString(errs[i]))
			}
			continue
		}
		res.Joined++
		joined = append(joined, lat[i])
		toks = append(toks, tokLat[i])
		if !lasted[i] {
			res.Dropped++
		}
		c.Close()
	}
	sort.Float64s(joined)
	sort.Float64s(toks)
	res.TokenP50 = percentile(toks, 0.50)
	res.P50ms, res.P99ms, res.MaxMs = percentile(joined, 0.50), percentile(joined, 0.99), percentile(joined, 1)
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	check(res.Failed == 0 && res.Dropped == 0, "sigload %s: %d of %d joined through %s, %d dropped during the hold",
		res.Mode, res.Joined, n, base, res.Dropped)
}
