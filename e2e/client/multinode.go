package main

// multinode: participants of one room through the front door while the
// front door spreads their signal connections over two livekit-server nodes
// on one Redis (e2e/multinode.sh), then the node that does not host the
// room is killed and new participants must still get in.

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"

	lksdk "github.com/livekit/server-sdk-go/v2"
	"github.com/pion/webrtc/v4"
)

// member is a participant that publishes synthetic media and counts what it
// decodes from the others.
type member struct {
	id   string
	room *lksdk.Room
	got  *received
	stop func()
}

func join(door *frontDoor, room, id string) (*member, time.Duration, error) {
	t, err := door.token(room, id)
	if err != nil {
		return nil, 0, err
	}
	m := &member{id: id, got: &received{}}
	cb := lksdk.NewRoomCallback()
	cb.OnTrackSubscribed = func(track *webrtc.TrackRemote, pub *lksdk.RemoteTrackPublication, rp *lksdk.RemoteParticipant) {
		go m.got.consume(track, rp)
	}
	start := time.Now()
	r, err := lksdk.ConnectToRoomWithToken(t.URL, t.Token, cb, lksdk.WithAutoSubscribe(true))
	took := time.Since(start)
	if err != nil {
		return nil, took, err
	}
	m.room = r
	m.stop, err = publishSynthetic(r)
	if err != nil {
		r.Disconnect()
		return nil, took, err
	}
	return m, took, nil
}

func (m *member) leave() {
	if m.stop != nil {
		m.stop()
	}
	m.room.Disconnect()
}

// heard waits until m decoded video and audio from one of the identities.
func (m *member) heard(within time.Duration, from ...string) (string, int, int) {
	deadline := time.Now().Add(within)
	for {
		v, a, _, _, _ := m.got.snapshot()
		m.got.mu.Lock()
		who := ""
		for _, f := range from {
			if m.got.from[f] {
				who = f
			}
		}
		m.got.mu.Unlock()
		if (who != "" && v >= 30 && a >= 50) || time.Now().After(deadline) {
			return who, v, a
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// parseNodes reads -nodes "ND_a=pid,ND_b=pid".
func parseNodes(s string) (map[string]int, error) {
	nodes := map[string]int{}
	for _, kv := range strings.Split(s, ",") {
		id, p, found := strings.Cut(kv, "=")
		pid, err := strconv.Atoi(p)
		if !found || id == "" || err != nil || pid <= 1 {
			return nil, fmt.Errorf("-nodes %q: want NODE_ID=pid,...", s)
		}
		nodes[id] = pid
	}
	if len(nodes) != 2 {
		return nil, fmt.Errorf("-nodes %q: want two nodes", s)
	}
	return nodes, nil
}

// participants lists the identities in room through /twirp on the front door.
func participants(door *frontDoor, admin, room string) ([]string, int, error) {
	code, body, err := door.twirp("RoomService/ListParticipants", admin, map[string]any{"room": room})
	if err != nil || code != 200 {
		return nil, code, err
	}
	var r struct {
		Participants []struct {
			Identity string `json:"identity"`
		} `json:"participants"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, code, err
	}
	ids := []string{}
	for _, p := range r.Participants {
		ids = append(ids, p.Identity)
	}
	return ids, code, nil
}

func contains(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, l := range list {
			found = found || l == w
		}
		if !found {
			return false
		}
	}
	return true
}

func multinode(door *frontDoor, room string) {
	nodes, err := parseNodes(*flagNodes)
	if !check(err == nil, "multinode: node ids and pids given (%v)", err) {
		return
	}
	key, secret, err := readKey(*flagKeys)
	if !check(err == nil, "multinode: key file %s (%v)", *flagKeys, err) {
		return
	}
	now := time.Now().Unix()
	admin := mint(key, secret, map[string]any{
		"sub": "e2e-admin", "nbf": now, "exp": now + 900,
		"video": map[string]any{"roomAdmin": true, "roomList": true, "room": room},
	})

	// 1. two participants; nginx's round robin puts their signal
	//    connections on the two nodes (multinode.sh checks which).
	a, took, err := join(door, room, randomID("a"))
	if !check(err == nil, "multinode: first participant joined %s through the front door in %v (%v)", room, took.Round(time.Millisecond), err) {
		return
	}
	defer a.leave()
	fmt.Printf("# JOINED %s\n", a.id)
	b, took, err := join(door, room, randomID("b"))
	if !check(err == nil, "multinode: second participant joined in %v (%v)", took.Round(time.Millisecond), err) {
		return
	}
	defer b.leave()
	fmt.Printf("# JOINED %s\n", b.id)
	hostA, hostB := a.room.ServerInfo().GetNodeId(), b.room.ServerInfo().GetNodeId()
	_, known := nodes[hostA]
	check(known && hostA == hostB, "multinode: both join responses name one node that hosts the room, %s (%s)", hostA, hostB)
	fmt.Printf("# HOST %s\n", hostA)

	who, v, au := a.heard(30*time.Second, b.id)
	check(who == b.id, "multinode: %s decoded %d VP8 frames and %d Opus packets from %s", a.id, v, au, b.id)
	who, v, au = b.heard(30*time.Second, a.id)
	check(who == a.id, "multinode: %s decoded %d VP8 frames and %d Opus packets from %s", b.id, v, au, a.id)

	ids, code, err := participants(door, admin, room)
	check(code == 200 && contains(ids, a.id, b.id), "multinode: ListParticipants through /twirp: %d %v (%v)", code, ids, err)
	code, body, err := door.twirp("RoomService/ListRooms", admin, map[string]any{"names": []string{room}})
	check(code == 200 && strings.Contains(body, `"name":"`+room+`"`), "multinode: ListRooms through /twirp sees %s: %d (%v)", room, code, err)

	// 2. the node that does not host the room dies (SIGKILL: no goodbye)
	other, pid := "", 0
	for id, p := range nodes {
		if id != hostA {
			other, pid = id, p
		}
	}
	if !check(other != "" && known, "multinode: the node that does not host the room is %s (pid %d)", other, pid) {
		return
	}
	// a line in the access log that marks the moment (the path is logged)
	if resp, err := door.client.Get(door.base + "/e2e-mark/node-killed"); err == nil {
		resp.Body.Close()
	}
	err = syscall.Kill(pid, syscall.SIGKILL)
	check(err == nil, "multinode: killed node %s (pid %d) (%v)", other, pid, err)
	time.Sleep(500 * time.Millisecond)

	// 3. new participants still get in, within nginx's retry
	joined := []string{}
	for i := 0; i < 4; i++ {
		c, took, err := join(door, room, randomID(fmt.Sprintf("c%d", i)))
		if !check(err == nil && took < 10*time.Second,
			"multinode: new participant %d joined with one node dead in %v (%v)", i+1, took.Round(time.Millisecond), err) {
			continue
		}
		defer c.leave()
		joined = append(joined, c.id)
		if i == 0 {
			who, v, au := c.heard(30*time.Second, a.id, b.id)
			check(who != "", "multinode: %s decoded %d VP8 frames and %d Opus packets from %s, who joined before", c.id, v, au, who)
		}
	}
	ids, code, err = participants(door, admin, room)
	check(code == 200 && len(joined) == 4 && contains(ids, joined...),
		"multinode: ListParticipants through /twirp after the kill: %d %v (%v)", code, ids, err)
}
