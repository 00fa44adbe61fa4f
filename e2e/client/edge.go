package main

// Joins checked at the front door (livekit_join_check) and revocation.
//
// edge: tokens the front door must refuse before livekit-server sees the
// WebSocket: forged, expired, not yet valid, signed with a key nobody
// holds, without roomJoin, and two different tokens in one request.  Each
// is a real WebSocket upgrade; the answer must be the module's JSON error
// with its code and no upgrade.  Each refused token has its own identity,
// printed on a line "REFUSED <identity> <signature>" so that the caller
// can check that livekit-server's log never names it.  Then a token from
// /token joins through the same door.
//
// revoke: a participant in a call is revoked and removed through
// /livekit/revoke ("remove": true): livekit-server drops it, its token
// and a new one for the same identity and room are refused at the door
// (403 token_revoked); after DELETE it joins again.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

type edgeCase struct {
	name   string
	token  string
	bearer string // a second token in the Authorization header
	status int
	code   string
}

func edge(door *frontDoor, room string) {
	key, secret, err := readKey(*flagKeys)
	if !check(err == nil, "edge: key file %s (%v)", *flagKeys, err) {
		return
	}
	now := time.Now().Unix()
	claims := func(id string, extra map[string]any) map[string]any {
		c := map[string]any{
			"sub": id, "nbf": now, "exp": now + 600,
			"video": map[string]any{"roomJoin": true, "room": room},
		}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	id := func(kind string) string { return randomID("edge-" + kind) }

	good := mint(key, secret, claims(id("other"), nil))
	forged := mint(key, secret+"-not", claims(id("forged"), nil))
	cases := []edgeCase{
		{"forged signature", forged, "", 401, "token_bad_signature"},
		{"expired an hour ago", mint(key, secret, claims(id("expired"), map[string]any{"exp": now - 3600})), "", 401, "token_expired"},
		{"without exp", mint(key, secret, claims(id("noexp"), map[string]any{"exp": nil})), "", 401, "token_expired"},
		{"not valid for an hour", mint(key, secret, claims(id("nbf"), map[string]any{"nbf": now + 3600})), "", 401, "token_not_yet_valid"},
		{"signed with a key the door does not hold", mint("APIforeign", "foreign-secret-0123456789abcdefghij", claims(id("foreign"), nil)), "", 401, "token_unknown_key"},
		{"without roomJoin", mint(key, secret, claims(id("nojoin"), map[string]any{"video": map[string]any{"room": room, "roomList": true}})), "", 403, "join_not_allowed"},
		{"and a different Authorization token", mint(key, secret, claims(id("twotokens"), nil)), good, 401, "token_ambiguous"},
	}
	wss := strings.Replace(door.base, "https://", "wss://", 1)
	for _, c := range cases {
		u := wss + "/rtc?" + url.Values{
			"access_token": {c.token}, "protocol": {"16"}, "sdk": {"go"}, "auto_subscribe": {"1"},
		}.Encode()
		h := http.Header{}
		if c.bearer != "" {
			h.Set("Authorization", "Bearer "+c.bearer)
		}
		conn, resp, err := websocket.DefaultDialer.Dial(u, h)
		if conn != nil {
			conn.Close()
		}
		status, body := 0, ""
		if resp != nil {
			status = resp.StatusCode
			b, _ := io.ReadAll(resp.Body)
			body = string(b)
		}
		var e struct{ Error, Message string }
		_ = json.Unmarshal([]byte(body), &e)
		check(err != nil && status == c.status && e.Error == c.code && e.Message != "",
			"edge: a token %s is refused at the door before the upgrade: %d %s (want %d %s)",
			c.name, status, e.Error, c.status, c.code)
		parts := strings.Split(c.token, ".")
		var claimsOut map[string]any
		if p, err := jsonPart(parts[1]); err == nil {
			claimsOut = p
		}
		printRefused(claimsOut, parts[2])
	}

	t, err := door.token(room, randomID("edge-valid"))
	if !check(err == nil, "edge: GET /token (%v)", err) {
		return
	}
	r, err := lksdk.ConnectToRoomWithToken(t.URL, t.Token, lksdk.NewRoomCallback())
	if check(err == nil, "edge: a token from /token joins %s through the checked door (%v)", room, err) {
		r.Disconnect()
	}
}

func printRefused(claims map[string]any, sig string) {
	sub, _ := claims["sub"].(string)
	fmt.Printf("REFUSED %s %s\n", sub, sig)
}

func jsonPart(s string) (map[string]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

// admin calls the door's revocation location (allowed from 127.0.0.1).
func (f *frontDoor) admin(method string, body map[string]any) (int, map[string]any, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, f.base+"/livekit/revoke", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, nil
}

func revoke(door *frontDoor, room string) {
	who := randomID("client")
	t, err := door.token(room, who)
	if !check(err == nil, "revoke: GET /token for %s (%v)", who, err) {
		return
	}
	gone := make(chan string, 1)
	cb := lksdk.NewRoomCallback()
	cb.OnDisconnectedWithReason = func(reason lksdk.DisconnectionReason) {
		select {
		case gone <- string(reason):
		default:
		}
	}
	r, err := lksdk.ConnectToRoomWithToken(t.URL, t.Token, cb)
	if !check(err == nil, "revoke: %s joined %s (%v)", who, room, err) {
		return
	}
	defer r.Disconnect()
	other, err := door.token(room, randomID("editor"))
	if err == nil {
		if o, err := lksdk.ConnectToRoomWithToken(other.URL, other.Token, lksdk.NewRoomCallback()); err == nil {
			defer o.Disconnect()
		}
	}

	code, out, err := door.admin("POST", map[string]any{"room": room, "identity": who, "remove": true})
	check(err == nil && code == 201 && out["removed"] == "yes" && out["saved"] == true,
		"revoke: POST /livekit/revoke {room, identity, remove} revoked, saved and removed %s: %d removed=%v saved=%v (%v)",
		who, code, out["removed"], out["saved"], err)

	select {
	case reason := <-gone:
		check(reason == string(lksdk.ParticipantRemoved), "revoke: livekit-server removed %s from the call (%s)", who, reason)
	case <-time.After(15 * time.Second):
		notOK("revoke: %s still connected 15s after the revocation", who)
	}

	// its reconnect, with the token it holds, and a new token
	_, err = lksdk.ConnectToRoomWithToken(t.URL, t.Token, lksdk.NewRoomCallback())
	code2, body := validate(door, t.Token)
	check(err != nil && code2 == 403 && strings.Contains(body, `"error":"token_revoked"`),
		"revoke: %s's reconnect with its token is refused at the door: %d %s", who, code2, trim(body))
	t2, err := door.token(room, who)
	if err == nil {
		code2, body = validate(door, t2.Token)
	}
	check(err == nil && code2 == 403 && strings.Contains(body, "token_revoked"),
		"revoke: a new token for %s in %s is refused too: %d %s", who, room, code2, trim(body))
	t3, err := door.token(room+"-next", who)
	if err == nil {
		code2, _ = validate(door, t3.Token)
	}
	check(err == nil && code2 == 200, "revoke: %s still joins another room: %d", who, code2)

	code, out, err = door.admin("GET", nil)
	list, _ := out["revocations"].([]any)
	check(err == nil && code == 200 && len(list) >= 1, "revoke: GET /livekit/revoke lists %d revocation(s)", len(list))

	code, _, err = door.admin("DELETE", map[string]any{"room": room, "identity": who})
	check(err == nil && code == 200, "revoke: DELETE /livekit/revoke forgets it: %d (%v)", code, err)
	r2, err := lksdk.ConnectToRoomWithToken(t.URL, t.Token, lksdk.NewRoomCallback())
	if check(err == nil, "revoke: after DELETE, %s joins again with its token (%v)", who, err) {
		r2.Disconnect()
	}
}
