// Command client is the headless side of e2e/run.sh: LiveKit participants
// (server-sdk-go) that reach livekit-server only through the nginx front
// door, by its public name.
//
//	client [flags] pubsub     two participants: publish VP8+Opus+data, subscribe, decode
//	client [flags] negative   refused tokens reach the client with livekit-server's reason
//	client [flags] edge       forged, expired, foreign... joins refused at the door (-keys)
//	client [flags] revoke     a participant revoked and removed, its reconnect refused
//	client [flags] idle       a signalling WebSocket survives -idle of silence
//	client [flags] publish    a synthetic participant for the browser tests (RECEIVED on exit)
//	client [flags] agent      POST /token dispatching -agent: it joins and sends data
//	client [flags] multinode  participants over two nodes, one killed (-nodes)
//	client [flags] turnsni NAME=LO-HI...  TURN/TLS by SNI on :443 reaches NAME's node (-keys)
//	client [flags] load URL   join -n participants to URL, print timings (bench)
//	client [flags] calls      -n participants in calls of two through -door, for
//	                          -duration: audio gaps and reconnections (bench)
//	client [flags] sigload URL  -n signalling-only joins (token from -door, or
//	                          minted with -keys), held -hold, print timings (bench)
//
// Each check prints "ok - ..." or "not ok - ..."; the exit status is the
// number of failed checks (capped).
package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/livekit/protocol/livekit"
	"github.com/livekit/protocol/logger"
	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
)

const (
	lksdkSourceCamera     = livekit.TrackSource_CAMERA
	lksdkSourceMicrophone = livekit.TrackSource_MICROPHONE
)

var (
	flagDoor        = flag.String("door", "https://meet.dissertation-editor.com", "the front door")
	flagCA          = flag.String("ca", "", "PEM file of the CA to trust besides the system's")
	flagResolve     = flag.String("resolve", "", "name=ip[,name=ip...]: addresses for names, instead of DNS")
	flagRoom        = flag.String("room", "", "room (default: a random one)")
	flagIdentity    = flag.String("identity", "", "identity for publish (default: a random one)")
	flagKeys        = flag.String("keys", "", "LiveKit key file, to mint tokens the front door would not (negative)")
	flagLKPid       = flag.Int("lk-pid", 0, "livekit-server's pid: idle stops it (SIGSTOP) so that nothing at all crosses the proxy")
	flagIdle        = flag.Duration("idle", 65*time.Second, "idle: how long the WebSocket stays silent")
	flagDuration    = flag.Duration("duration", 5*time.Minute, "publish: how long to stay")
	flagVerbose     = flag.Bool("v", false, "SDK logs")
	flagNodes       = flag.String("nodes", "", "multinode: NODE_ID=pid,NODE_ID=pid of the two livekit-server nodes")
	flagN           = flag.Int("n", 40, "load: participants")
	flagRoomSize    = flag.Int("room-size", 10, "load: participants per room")
	flagConcurrency = flag.Int("concurrency", 8, "load: joins at a time")
	flagHold        = flag.Duration("hold", 10*time.Second, "load: how long everyone stays")
	flagCPUPids     = flag.String("cpu-pids", "", "load: pids whose CPU time is measured (the nginx worker)")
	flagMode        = flag.String("mode", "", "load: a label for the output")
	flagAgent       = flag.String("agent", "note-taker", "agent: the agent name to dispatch")
	flagAgentWait   = flag.Duration("agent-wait", 30*time.Second, "agent: how long to wait for the agent and its message")
)

var failed int

func ok(format string, a ...any) { fmt.Printf("ok - "+format+"\n", a...) }
func notOK(format string, a ...any) {
	failed++
	fmt.Printf("not ok - "+format+"\n", a...)
}
func check(cond bool, format string, a ...any) bool {
	if cond {
		ok(format, a...)
	} else {
		notOK(format, a...)
	}
	return cond
}

func randomID(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func main() {
	flag.Parse()
	if flag.NArg() == 2 && flag.Arg(0) == "load" {
		lksdk.SetLogger(logger.GetDiscardLogger())
		if _, err := newFrontDoor(*flagDoor, *flagCA, *flagResolve); err != nil {
			fmt.Fprintln(os.Stderr, "client:", err)
			os.Exit(2)
		}
		load(flag.Arg(1))
		os.Exit(failed)
	}
	if flag.NArg() == 2 && flag.Arg(0) == "sigload" {
		door, err := newFrontDoor(*flagDoor, *flagCA, *flagResolve)
		if err != nil {
			fmt.Fprintln(os.Stderr, "client:", err)
			os.Exit(2)
		}
		sigload(door, flag.Arg(1))
		os.Exit(min(failed, 100))
	}
	if flag.NArg() != 1 && flag.Arg(0) != "turnsni" {
		fmt.Fprintln(os.Stderr, "usage: client [flags] pubsub|negative|edge|revoke|idle|publish|agent|multinode|turnsni|load|sigload|calls")
		os.Exit(2)
	}
	if *flagVerbose {
		lksdk.SetLogger(logger.GetLogger())
	} else {
		lksdk.SetLogger(logger.GetDiscardLogger())
	}
	door, err := newFrontDoor(*flagDoor, *flagCA, *flagResolve)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(2)
	}
	room := *flagRoom
	if room == "" {
		room = randomID("e2e")
	}
	switch flag.Arg(0) {
	case "pubsub":
		pubsub(door, room)
	case "negative":
		negative(door, room)
	case "edge":
		edge(door, room)
	case "revoke":
		revoke(door, room)
	case "idle":
		idle(door, room)
	case "publish":
		publish(door, room)
	case "agent":
		agent(door, room)
	case "multinode":
		multinode(door, room)
	case "turnsni":
		turnSNI(door, flag.Args()[1:])
	case "calls":
		calls(door)
	default:
		fmt.Fprintln(os.Stderr, "client: unknown command", flag.Arg(0))
		os.Exit(2)
	}
	if failed > 100 {
		failed = 100
	}
	os.Exit(failed)
}

// pubsub: a publisher and a subscriber, both through the front door.
func pubsub(door *frontDoor, room string) {
	pubID, subID := randomID("pub"), randomID("sub")
	pt, err := door.token(room, pubID)
	if !check(err == nil, "pubsub: GET /token for the publisher (%v)", err) {
		return
	}
	st, err := door.token(room, subID)
	if !check(err == nil, "pubsub: GET /token for the subscriber (%v)", err) {
		return
	}
	check(strings.HasPrefix(pt.URL, "wss://") && strings.HasPrefix(door.base, strings.Replace(pt.URL, "wss://", "https://", 1)),
		"pubsub: token url %s is the front door", pt.URL)

	got := &received{}
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		go got.consume(track, rp)
	}
	cb.OnDataPacket = func(data lksdk.DataPacket, params lksdk.DataReceiveParams) {
		if u, isUser := data.(*lksdk.UserDataPacket); isUser {
			got.mu.Lock()
			got.data = append(got.data, params.SenderIdentity+":"+u.Topic+":"+string(u.Payload))
			got.mu.Unlock()
		}
	}
	sub, err := lksdk.ConnectToRoomWithToken(st.URL, st.Token, cb, lksdk.WithAutoSubscribe(true))
	if !check(err == nil, "pubsub: subscriber joined %s through %s (%v)", room, st.URL, err) {
		return
	}
	defer sub.Disconnect()

	pub, err := lksdk.ConnectToRoomWithToken(pt.URL, pt.Token, lksdk.NewRoomCallback())
	if !check(err == nil, "pubsub: publisher joined %s through %s (%v)", room, pt.URL, err) {
		return
	}
	defer pub.Disconnect()
	stop, err := publishSynthetic(pub)
	if !check(err == nil, "pubsub: publisher published VP8 %dx%d and Opus tracks (%v)", videoW, videoH, err) {
		return
	}
	defer stop()

	deadline := time.Now().Add(30 * time.Second)
	sent := 0
	var v, a, w, h int
	var data []string
	for time.Now().Before(deadline) {
		sent++
		_ = pub.LocalParticipant.PublishDataPacket(lksdk.UserData([]byte(fmt.Sprintf("hello-%d", sent))),
			lksdk.WithDataPublishReliable(true), lksdk.WithDataPublishTopic("e2e"))
		time.Sleep(500 * time.Millisecond)
		v, a, w, h, data = got.snapshot()
		if v >= 45 && a >= 100 && len(data) >= 3 {
			break
		}
	}
	check(v >= 45 && w == videoW && h == videoH, "pubsub: subscriber decoded %d VP8 frames of %dx%d from the publisher (want >= 45 of %dx%d)", v, w, h, videoW, videoH)
	check(a >= 100, "pubsub: subscriber decoded %d Opus packets (want >= 100)", a)
	want := pubID + ":e2e:hello-"
	okData := len(data) >= 3
	for _, d := range data {
		okData = okData && strings.HasPrefix(d, want)
	}
	check(okData, "pubsub: subscriber received %d reliable data packets from %s on topic e2e", len(data), pubID)
	got.mu.Lock()
	check(got.videoErrors == 0 && got.audioErrors == 0, "pubsub: no decode errors (video %d, audio %d)", got.videoErrors, got.audioErrors)
	got.mu.Unlock()
}

// publish: stay in the room with synthetic media until killed or -duration,
// decoding what the others publish; on leaving, print a RECEIVED line.
func publish(door *frontDoor, room string) {
	id := *flagIdentity
	if id == "" {
		id = randomID("bot")
	}
	t, err := door.token(room, id)
	if err != nil {
		notOK("publish: GET /token: %v", err)
		return
	}
	got := &received{}
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, _ *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		go got.consume(track, rp)
	}
	r, err := lksdk.ConnectToRoomWithToken(t.URL, t.Token, cb, lksdk.WithAutoSubscribe(true))
	if err != nil {
		notOK("publish: join %s: %v", room, err)
		return
	}
	defer r.Disconnect()
	defer func() { fmt.Println(got.report()) }()
	stop, err := publishSynthetic(r)
	if err != nil {
		notOK("publish: %v", err)
		return
	}
	defer stop()
	fmt.Printf("READY %s %s\n", room, id)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-sig:
	case <-time.After(*flagDuration):
	}
}
