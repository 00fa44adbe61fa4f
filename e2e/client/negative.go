package main

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	lksdk "github.com/livekit/server-sdk-go/v2"
)

// readKey returns the first "key: secret" of a livekit key file.
func readKey(path string) (string, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, s, found := strings.Cut(line, ":")
		if found {
			return strings.Trim(strings.TrimSpace(k), `"'`), strings.Trim(strings.TrimSpace(s), `"'`), nil
		}
	}
	return "", "", fmt.Errorf("%s: no key", path)
}

// mint signs claims with HS256, independently of the module.
func mint(key, secret string, claims map[string]any) string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims["iss"] = key
	c, _ := json.Marshal(claims)
	msg := h + "." + enc.EncodeToString(c)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return msg + "." + enc.EncodeToString(m.Sum(nil))
}

func negative(door *frontDoor, room string) {
	key, secret, err := readKey(*flagKeys)
	if !check(err == nil, "negative: key file %s (%v)", *flagKeys, err) {
		return
	}
	now := time.Now().Unix()
	wss := strings.Replace(door.base, "https://", "wss://", 1)

	// 1. an expired token: refused, with the reason, to the SDK (WebSocket
	//    refused, then /rtc/validate) and to a browser's /rtc/validate
	//    through the proxy.  With livekit_join_check the door says it
	//    (token_expired); livekit-server's own words also say "expired".
	expired := mint(key, secret, map[string]any{
		"sub": "late", "nbf": now - 7200, "exp": now - 3600,
		"video": map[string]any{"roomJoin": true, "room": room},
	})
	_, err = lksdk.ConnectToRoomWithToken(wss, expired, lksdk.NewRoomCallback())
	check(err != nil && strings.Contains(err.Error(), "expired"),
		"negative: expired token refused, the SDK says %q", errString(err))
	code, body := validate(door, expired)
	check(code == 401 && strings.Contains(body, "expired") && !strings.Contains(body, "<html"),
		"negative: /rtc/validate with the expired token through the proxy: %d %q", code, trim(body))

	// 2. a token signed with a key nobody holds: the door's token_unknown_key,
	//    or livekit-server's "invalid API key" without the join check
	stranger := mint("APIstranger", secret, map[string]any{
		"sub": "stranger", "nbf": now, "exp": now + 600,
		"video": map[string]any{"roomJoin": true, "room": room},
	})
	_, err = lksdk.ConnectToRoomWithToken(wss, stranger, lksdk.NewRoomCallback())
	check(err != nil && (strings.Contains(err.Error(), "token_unknown_key") ||
		strings.Contains(err.Error(), "invalid API key")),
		"negative: unknown API key refused, the SDK says %q", errString(err))

	// 3. a token for another room, on the server API (Authorization: Bearer,
	//    passed through untouched): allowed for its own room, refused for
	//    this one.
	other := room + "-other"
	admin := func(r string) string {
		return mint(key, secret, map[string]any{
			"sub": "admin", "nbf": now, "exp": now + 600,
			"video": map[string]any{"roomAdmin": true, "roomCreate": true, "room": r},
		})
	}
	code, body, err = door.twirp("RoomService/CreateRoom", admin(room), map[string]any{"name": room})
	check(err == nil && code == 200, "negative: CreateRoom %s with its own token through /twirp: %d (%v)", room, code, err)
	code, body, err = door.twirp("RoomService/ListParticipants", admin(room), map[string]any{"room": room})
	check(err == nil && code == 200, "negative: ListParticipants %s with its own token: %d %s (%v)", room, code, trim(body), err)
	code, body, err = door.twirp("RoomService/ListParticipants", admin(other), map[string]any{"room": room})
	check(err == nil && (code == 401 || code == 403) && strings.Contains(body, "permission"),
		"negative: ListParticipants %s with a token for %s refused by livekit-server: %d %s", room, other, code, trim(body))
	code, body, err = door.twirp("RoomService/ListParticipants", "", map[string]any{"room": room})
	check(err == nil && code == 401, "negative: server API without Authorization refused: %d %s", code, trim(body))

	// 4. the participant token of another room joins that room, not this one
	t, err := door.token(other, "elsewhere")
	if err == nil {
		var r *lksdk.Room
		r, err = lksdk.ConnectToRoomWithToken(t.URL, t.Token, lksdk.NewRoomCallback())
		if err == nil {
			check(r.Name() == other, "negative: a token for %s joins %s (got %s)", other, other, r.Name())
			r.Disconnect()
		}
	}
	check(err == nil, "negative: token for another room from the front door (%v)", err)
}

func validate(door *frontDoor, token string) (int, string) {
	resp, err := door.client.Get(door.base + "/rtc/validate?access_token=" + url.QueryEscape(token))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return trim(err.Error())
}

// trim shortens a message and hides tokens (livekit-server echoes them).
func trim(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "eyJ"); i >= 0 {
		j := strings.IndexAny(s[i:], ", \"")
		if j < 0 {
			j = len(s) - i
		}
		s = s[:i] + "<jwt>" + s[i+j:]
	}
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// idle: a signalling WebSocket through the proxy, joined like a browser
// (token in the query string), then nothing at all crosses nginx for -idle:
// the client sends nothing and answers no pings, and livekit-server is
// stopped (SIGSTOP) so that it does not ping either.  nginx's default 60s
// proxy_read_timeout would close the connection; the example's must not.
func idle(door *frontDoor, room string) {
	t, err := door.token(room, randomID("idle"))
	if !check(err == nil, "idle: GET /token (%v)", err) {
		return
	}
	u := t.URL + "/rtc?" + url.Values{
		"access_token": {t.Token}, "protocol": {"16"}, "sdk": {"go"}, "version": {"2.19.0"},
		"auto_subscribe": {"0"},
	}.Encode()
	c, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		notOK("idle: WebSocket through the proxy: %d %v", status, err)
		return
	}
	defer c.Close()
	events := make(chan string, 64)
	c.SetPingHandler(func(string) error { events <- "ping"; return nil }) // no pong: silent
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				events <- "error: " + err.Error()
				return
			}
			events <- "message"
		}
	}()
	select {
	case e := <-events:
		if !check(e == "message", "idle: joined %s over the WebSocket (%s)", room, e) {
			return
		}
	case <-time.After(15 * time.Second):
		notOK("idle: no join response in 15s")
		return
	}
	stopped := false
	if *flagLKPid > 0 {
		if err := syscall.Kill(*flagLKPid, syscall.SIGSTOP); err == nil {
			stopped = true
			defer syscall.Kill(*flagLKPid, syscall.SIGCONT)
		}
	}
	// drain what was already in flight, then silence
	time.Sleep(2 * time.Second)
	for len(events) > 0 {
		if e := <-events; strings.HasPrefix(e, "error") {
			notOK("idle: connection closed before the idle period: %s", e)
			return
		}
	}
	start := time.Now()
	var early string
	select {
	case e := <-events:
		early = e
	case <-time.After(*flagIdle):
	}
	if stopped {
		_ = syscall.Kill(*flagLKPid, syscall.SIGCONT)
	}
	if early != "" && strings.HasPrefix(early, "error") {
		notOK("idle: connection closed after %s of silence: %s", time.Since(start).Round(time.Second), early)
		return
	}
	select {
	case e := <-events:
		check(!strings.HasPrefix(e, "error"),
			"idle: WebSocket alive after %s with nothing crossing the proxy (livekit-server stopped: %v): next frame %s",
			(*flagIdle).String(), stopped, e)
	case <-time.After(20 * time.Second):
		notOK("idle: nothing received in 20s after the idle period")
	}
}
