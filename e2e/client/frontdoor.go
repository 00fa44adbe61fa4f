package main

// Reaching the front door by its public name without touching /etc: every
// connection this process makes (the SDK's WebSocket, its /rtc/validate
// request, our token and API requests) goes through one dialer that maps
// names to addresses (-resolve name=ip), and trusts the test CA (-ca).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

type frontDoor struct {
	base   string // https://meet.dissertation-editor.com:PORT
	client *http.Client
	tls    *tls.Config
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
}

func newFrontDoor(base, caFile, resolve string) (*frontDoor, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate", caFile)
		}
	}
	hosts := map[string]string{}
	for _, kv := range strings.Split(resolve, ",") {
		if kv == "" {
			continue
		}
		name, ip, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("-resolve %q: want name=ip", kv)
		}
		hosts[strings.ToLower(name)] = ip
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err == nil {
			if ip, ok := hosts[strings.ToLower(host)]; ok {
				addr = net.JoinHostPort(ip, port)
			}
		}
		return d.DialContext(ctx, network, addr)
	}
	tc := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	tr := &http.Transport{
		DialContext:         dial,
		TLSClientConfig:     tc,
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	// the SDK uses these two for signalling and /rtc/validate
	http.DefaultTransport = tr
	http.DefaultClient = &http.Client{Transport: tr}
	// a copy: http.Transport adds "h2" to the NextProtos of its own config
	wtc := tc.Clone()
	wtc.NextProtos = []string{"http/1.1"}
	websocket.DefaultDialer = &websocket.Dialer{
		NetDialContext:   dial,
		TLSClientConfig:  wtc,
		HandshakeTimeout: 15 * time.Second,
	}
	return &frontDoor{
		base:   strings.TrimRight(base, "/"),
		client: &http.Client{Transport: tr, Timeout: 20 * time.Second},
		tls:    tc,
		dial:   dial,
	}, nil
}

type tokenReply struct {
	Token       string `json:"token"`
	URL         string `json:"url"`
	Room        string `json:"room"`
	Participant string `json:"participant"`
}

// token asks the front door for a token, the product's GET contract.
func (f *frontDoor) token(room, identity string) (*tokenReply, error) {
	q := url.Values{"room": {room}, "participant": {identity}}
	resp, err := f.client.Get(f.base + "/token?" + q.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET /token: %d %s", resp.StatusCode, body)
	}
	var t tokenReply
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, fmt.Errorf("GET /token: %v", err)
	}
	if t.Token == "" || t.URL == "" {
		return nil, fmt.Errorf("GET /token: no token or url in %s", body)
	}
	return &t, nil
}

// twirp calls the server API through the front door with a bearer token.
func (f *frontDoor) twirp(method, token string, body any) (int, string, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", f.base+"/twirp/livekit."+method, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(rb), nil
}
