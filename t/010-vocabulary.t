# The whole claim vocabulary of LiveKit's server SDKs, in LiveKit's own
# names: every video grant, the sip, agent, inference and observability
# grants, kind and roomPreset.  Each word of livekit_token_grants writes
# the claim the grant table names; t/node checks the same tokens with
# livekit-server-sdk's TokenVerifier.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

no_long_string();
no_shuffle();

add_block_preprocessor(\&LiveKitToken::default_keys);

run_tests();

__DATA__

=== TEST 1: every video grant word writes its claim
--- config
    location = /token {
        livekit_token on;
        livekit_token_grants roomJoin canPublish canSubscribe canPublishData canUpdateOwnMetadata canSubscribeMetrics canManageAgentSession hidden recorder roomAdmin roomCreate roomList roomRecord ingressAdmin agent destinationRoom=next-room;
    }
--- request
GET /token?room=xyz&participant=p
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "xyz"
participant: "p"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
sub: "p"
video: {"agent":true,"canManageAgentSession":true,"canPublish":true,"canPublishData":true,"canSubscribe":true,"canSubscribeMetrics":true,"canUpdateOwnMetadata":true,"destinationRoom":"next-room","hidden":true,"ingressAdmin":true,"recorder":true,"room":"xyz","roomAdmin":true,"roomCreate":true,"roomJoin":true,"roomList":true,"roomRecord":true}



=== TEST 2: sip, agent, inference and observability grants, kind and roomPreset are written as LiveKit names them
--- config
    location = /token {
        livekit_token on;
        livekit_token_grants roomJoin canSubscribe sip.admin sip.call agent.admin agent.createSimulation inference.perform observability.write;
        livekit_token_kind agent;
        livekit_token_room_preset "consult \"standard\"";
    }
--- request
GET /token?room=xyz&participant=bot
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "xyz"
participant: "bot"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
agent: {"admin":true,"createSimulation":true}
inference: {"perform":true}
kind: "agent"
observability: {"write":true}
roomPreset: "consult \"standard\""
sip: {"admin":true,"call":true}
sub: "bot"
video: {"canPublish":false,"canPublishData":false,"canSubscribe":true,"room":"xyz","roomJoin":true}



=== TEST 3: a grant object is written only with the grants given, one at a time
--- config
    location = /token {
        livekit_token on;
        livekit_token_grants roomJoin sip.call;
    }
--- request
GET /token?room=xyz&participant=caller
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "xyz"
participant: "caller"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
sip: {"call":true}
sub: "caller"
video: {"canPublish":false,"canPublishData":false,"canSubscribe":false,"room":"xyz","roomJoin":true}



=== TEST 4: an unknown grant word fails nginx -t naming it
--- config
    location = /token {
        livekit_token on;
        livekit_token_grants roomJoin sip.dial;
    }
--- must_die
--- error_log
unknown grant "sip.dial" in "livekit_token_grants"



=== TEST 5: only canPublishSources= and destinationRoom= take a value
--- config
    location = /token {
        livekit_token on;
        livekit_token_grants roomJoin canPublish=false;
    }
--- must_die
--- error_log
unknown grant "canPublish=false": only canPublishSources= and destinationRoom= take a value



=== TEST 6: an unknown participant kind fails nginx -t
--- config
    location = /token {
        livekit_token on;
        livekit_token_kind robot;
    }
--- must_die
--- error_log
unknown participant kind "robot" in "livekit_token_kind"



=== TEST 7: a room preset with a control character fails nginx -t
--- config
    location = /token {
        livekit_token on;
        livekit_token_room_preset "a\tb";
    }
--- must_die
--- error_log
invalid value "a	b" in "livekit_token_room_preset"
