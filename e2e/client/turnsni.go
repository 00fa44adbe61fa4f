// turnsni: TURN/TLS on the front door's port 443, routed by SNI to each
// node's own TURN listener.  For every NAME=LO-HI argument the client opens
// TLS to NAME:443 (resolved by -resolve), checks the certificate is NAME's,
// and allocates a relay (a TURN Allocate with livekit-server's long-term
// credentials, computed from the key file as livekit-server computes them).
// The relayed address is chosen by the TURN server that answered: a port in
// LO-HI, the relay range of the node NAME belongs to, proves which node
// that was.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jxskiss/base62"
	"github.com/pion/turn/v5"
)

// turnCredentials: livekit-server's TURNAuthHandler (pkg/service/turn.go):
// username base62("key|participant|expiry"), password
// base62(sha256("secret|participant|expiry")), realm "livekit".
func turnCredentials(key, secret, pID string, ttl time.Duration) (string, string) {
	exp := time.Now().Add(ttl).Unix()
	user := base62.EncodeToString([]byte(fmt.Sprintf("%s|%s|%d", key, pID, exp)))
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d", secret, pID, exp)))
	return user, base62.EncodeToString(sum[:])
}

// turnAllocate: TLS to name:443 through the front door, one Allocate;
// the relayed address, or an error.
func turnAllocate(door *frontDoor, name, user, pass string) (net.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := door.dial(ctx, "tcp", net.JoinHostPort(name, "443"))
	if err != nil {
		return nil, err
	}
	tc := door.tls.Clone()
	tc.ServerName = name
	conn := tls.Client(raw, tc)
	if err := conn.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("TLS: %w", err)
	}
	defer conn.Close()
	// the connection is made: the client only writes to it
	addr := raw.RemoteAddr().String()
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: addr,
		TURNServerAddr: addr,
		Conn:           turn.NewSTUNConn(conn),
		Username:       user,
		Password:       pass,
		Realm:          "livekit",
		RTO:            2 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		return nil, err
	}
	relay, err := c.Allocate()
	if err != nil {
		return nil, err
	}
	defer relay.Close()
	return relay.LocalAddr(), nil
}

func turnSNI(door *frontDoor, args []string) {
	key, secret, err := readKey(*flagKeys)
	if !check(err == nil, "turnsni: key file %s (%v)", *flagKeys, err) {
		return
	}
	for _, arg := range args {
		name, rng, _ := strings.Cut(arg, "=")
		los, his, _ := strings.Cut(rng, "-")
		lo, err1 := strconv.Atoi(los)
		hi, err2 := strconv.Atoi(his)
		if name == "" || err1 != nil || err2 != nil {
			notOK("turnsni: %q: want NAME=LO-HI", arg)
			continue
		}
		user, pass := turnCredentials(key, secret, randomID("PA_turn"), time.Minute)
		relay, err := turnAllocate(door, name, user, pass)
		if !check(err == nil, "TLS with SNI %s on :443, certificate of %s, TURN Allocate answered (%v)",
			name, name, err) {
			continue
		}
		port := 0
		if ua, ok := relay.(*net.UDPAddr); ok {
			port = ua.Port
		}
		check(port >= lo && port <= hi,
			"SNI %s reached its own node's TURN: relayed address %s in that node's relay range %d-%d",
			name, relay, lo, hi)
		// wrong credentials: the node refuses, so the answer above was
		// TURN's own authentication, not anything else on the port
		user, _ = turnCredentials(key, secret, randomID("PA_turn"), time.Minute)
		_, err = turnAllocate(door, name, user, "wrong-password")
		check(err != nil, "SNI %s: an Allocate with a wrong password is refused (%v)", name, err)
	}
}
