// Command caddy is Caddy v2 with the caddy-l4 plugin, as LiveKit's
// self-hosting guide deploys it in front of livekit-server: the peer that
// bench/frontdoor.sh measures the nginx front door against.  Built by
// scripts/caddy.sh from the versions pinned in go.mod.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
	_ "github.com/mholt/caddy-l4/layer4"
	_ "github.com/mholt/caddy-l4/modules/l4proxy"
	_ "github.com/mholt/caddy-l4/modules/l4tls"
)

func main() {
	caddycmd.Main()
}
