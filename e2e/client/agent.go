package main

// client agent: a participant asks the front door for a token whose
// room_config dispatches the agent (-agent, the worker e2e/agent/worker.mjs
// runs, registered through the front door's /agent), joins, and waits for
// the agent to join and to send its data message.  Then what must not work:
// an agent the front door does not allow (403), and workers that cannot
// authenticate on /agent through the proxy (401, never a 101).

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// postReply is the POST contract's 201 reply (and its error replies).
type postReply struct {
	ServerURL        string `json:"server_url"`
	ParticipantToken string `json:"participant_token"`
	RoomName         string `json:"room_name"`
	ParticipantName  string `json:"participant_name"`
	Error            string `json:"error"`
	Message          string `json:"message"`
}

// post sends body as JSON to the front door's /token, as the SDKs do.
func (f *frontDoor) post(body any) (int, *postReply, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	resp, err := f.client.Post(f.base+"/token", "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var r postReply
	if err := json.Unmarshal(rb, &r); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reply %q: %v", trim(string(rb)), err)
	}
	return resp.StatusCode, &r, nil
}

// agentMessage is what e2e/agent/worker.mjs sends, once a second.
type agentMessage struct {
	Agent    string `json:"agent"`
	Room     string `json:"room"`
	Metadata string `json:"metadata"`
	N        int    `json:"n"`
}

type agentSeen struct {
	mu       sync.Mutex
	joined   []string // identities of AGENT participants that joined
	messages []agentMessage
	senders  []string
}

func agent(door *frontDoor, room string) {
	name := *flagAgent
	identity := randomID("caller")
	meta := randomID("notes-for")
	req := map[string]any{
		"room_name":            room,
		"participant_identity": identity,
		"room_config": map[string]any{
			"agents": []any{map[string]any{"agent_name": name, "metadata": meta}},
		},
	}
	code, rep, err := door.post(req)
	if !check(err == nil && code == 201 && rep.ParticipantToken != "",
		"agent: POST /token with room_config.agents [{agent_name: %s, metadata}] -> %d (%v)", name, code, err) {
		return
	}
	check(rep.ServerURL == strings.Replace(door.base, "https://", "wss://", 1),
		"agent: server_url %s is the front door", rep.ServerURL)

	seen := &agentSeen{}
	cb := lksdk.NewRoomCallback()
	cb.OnParticipantConnected = func(rp *lksdk.RemoteParticipant) {
		if rp.Kind() == lksdk.ParticipantAgent {
			seen.mu.Lock()
			seen.joined = append(seen.joined, rp.Identity())
			seen.mu.Unlock()
		}
	}
	cb.OnDataPacket = func(data lksdk.DataPacket, params lksdk.DataReceiveParams) {
		u, isUser := data.(*lksdk.UserDataPacket)
		if !isUser || u.Topic != "note-taker" {
			return
		}
		var m agentMessage
		if json.Unmarshal(u.Payload, &m) != nil {
			return
		}
		seen.mu.Lock()
		seen.messages = append(seen.messages, m)
		seen.senders = append(seen.senders, params.SenderIdentity)
		seen.mu.Unlock()
	}
	r, err := lksdk.ConnectToRoomWithToken(rep.ServerURL, rep.ParticipantToken, cb)
	if !check(err == nil, "agent: %s joined %s through %s (%v)", identity, room, rep.ServerURL, err) {
		return
	}
	defer r.Disconnect()

	// the agent may already be in the room when we join (it is dispatched
	// when the room is created, by our own join)
	for _, rp := range r.GetRemoteParticipants() {
		cb.OnParticipantConnected(rp)
	}
	deadline := time.Now().Add(*flagAgentWait)
	var joined, senders []string
	var msgs []agentMessage
	for time.Now().Before(deadline) {
		seen.mu.Lock()
		joined = append([]string(nil), seen.joined...)
		msgs = append([]agentMessage(nil), seen.messages...)
		senders = append([]string(nil), seen.senders...)
		seen.mu.Unlock()
		if len(joined) > 0 && len(msgs) > 0 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !check(len(joined) == 1, "agent: one agent participant joined %s: %v", room, joined) {
		return
	}
	var agentName string
	for _, rp := range r.GetRemoteParticipants() {
		if rp.Identity() == joined[0] {
			agentName = rp.Attributes()["lk.agent.name"]
		}
	}
	check(agentName == name,
		"agent: the agent participant %s is %q (its lk.agent.name attribute)", joined[0], agentName)
	okMsg := len(msgs) > 0
	for i, m := range msgs {
		okMsg = okMsg && m.Agent == name && m.Room == room && m.Metadata == meta && senders[i] == joined[0]
	}
	check(okMsg, "agent: %d data messages from %s on topic note-taker name the room and carry the dispatch metadata (%+v)",
		len(msgs), joined[0], first(msgs))

	// an agent the configuration does not list
	code, rep, err = door.post(map[string]any{
		"room_name":            room + "-x",
		"participant_identity": identity,
		"room_config":          map[string]any{"agents": []any{map[string]any{"agent_name": "expensive-agent"}}},
	})
	check(err == nil && code == 403 && rep.Error == "room_config_not_allowed" && rep.ParticipantToken == "",
		"agent: POST asking for expensive-agent (not in livekit_token_agents) -> %d %s", code, errorOf(rep))
	agentRefused(door)
}

// agentRefused: /agent through the proxy refuses workers livekit-server
// does not trust, with livekit-server's own status.
func agentRefused(door *frontDoor) {
	key, secret, err := readKey(*flagKeys)
	if !check(err == nil, "agent: key file %s (%v)", *flagKeys, err) {
		return
	}
	now := time.Now().Unix()
	wss := strings.Replace(door.base, "https://", "wss://", 1) + "/agent"
	guest := mint(key, secret, map[string]any{
		"sub": "guest", "nbf": now, "exp": now + 600,
		"video": map[string]any{"roomJoin": true, "room": "r"},
	})
	// the last one puts its token in the query, where e2e/run.sh then
	// checks that no log of nginx keeps it
	cases := []struct{ what, token, query string }{
		{"no token", "", ""},
		{"a participant's token (no agent grant)", guest, ""},
		{"an agent token signed with an unknown key", mint("APIstranger", secret, map[string]any{
			"nbf": now, "exp": now + 600, "video": map[string]any{"agent": true},
		}), ""},
		{"a participant's token in ?access_token=", "", "?access_token=" + guest},
	}
	for _, c := range cases {
		h := http.Header{}
		if c.token != "" {
			h.Set("Authorization", "Bearer "+c.token)
		}
		conn, resp, err := websocket.DefaultDialer.Dial(wss+c.query, h)
		st := 0
		if resp != nil {
			st = resp.StatusCode
			resp.Body.Close()
		}
		if conn != nil {
			conn.Close()
		}
		check(err != nil && st >= 400 && st < 500,
			"agent: /agent through the proxy with %s: refused, %d", c.what, st)
	}
}

func errorOf(r *postReply) string {
	if r == nil {
		return "no JSON reply"
	}
	return r.Error
}

func first(m []agentMessage) any {
	if len(m) == 0 {
		return nil
	}
	return m[0]
}
