# The requests LiveKit's client SDKs send to the standard token endpoint:
# only the options the app set (useSession with an agent sends just
# {"room_config":{"agents":[{"agent_name":...}]}}, Swift always sends
# room_config, possibly {}), with room and identity made up by the
# location's defaults as LiveKit's reference token servers do; and the
# reply's room_name and participant_name, which several SDKs read back.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

no_long_string();
no_shuffle();

add_block_preprocessor(\&LiveKitToken::default_keys);

run_tests();

__DATA__

=== TEST 1: a bare agent request gets a room and identity from the defaults, and the reply names them
--- config
    location = /token {
        livekit_token on;
        livekit_token_agents notes;
        livekit_token_identity_default "guest-$remote_addr";
        livekit_token_room_default "consult-$http_x_case";
    }
--- request
POST /token
{"room_config":{"agents":[{"agent_name":"notes"}]}}
--- more_headers
Content-Type: application/json
X-Case: 42
--- error_code: 201
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant_token,room_name,server_url
server_url: "ws://127.0.0.1:7880"
room_name: "consult-42"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
roomConfig: {"agents":[{"agentName":"notes"}]}
sub: "guest-127.0.0.1"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"consult-42","roomJoin":true}



=== TEST 2: Swift's {} body, and an empty room_config, are served by the defaults too
--- config
    location = /token {
        livekit_token on;
        livekit_token_identity_default "guest-$remote_addr";
        livekit_token_room_default lobby;
    }
--- request eval
[
"POST /token\n{}",
"POST /token\n{\"room_config\":{}}",
]
--- more_headers
Content-Type: application/json
--- error_code eval
[201, 201]
--- response_body_like eval
[
'^\{"server_url":"ws://127\.0\.0\.1:7880","participant_token":"eyJ[^"]+","room_name":"lobby"\}$',
'^\{"server_url":"ws://127\.0\.0\.1:7880","participant_token":"eyJ[^"]+","room_name":"lobby"\}$',
]



=== TEST 3: defaults with $request_id make up a different room and identity for each request
--- config
    location = /token {
        livekit_token on;
        livekit_token_identity_default "user-$request_id";
        livekit_token_room_default "room-$request_id";
    }
--- request
POST /token
{}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- response_body_like chomp
^\{"server_url":"ws://127\.0\.0\.1:7880","participant_token":"eyJ[^"]+","room_name":"room-[0-9a-f]{32}"\}$



=== TEST 4: a client's own room and identity win over the defaults, and the reply carries the name
--- config
    location = /token {
        livekit_token on;
        livekit_token_identity_default guest;
        livekit_token_room_default lobby;
    }
--- request
POST /token
{"room_name":"mine","participant_identity":"me","participant_name":"Jane \"J\" Doe"}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant_name,participant_token,room_name,server_url
server_url: "ws://127.0.0.1:7880"
room_name: "mine"
participant_name: "Jane \"J\" Doe"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
name: "Jane \"J\" Doe"
sub: "me"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"mine","roomJoin":true}



=== TEST 5: the GET contract takes the defaults too
--- config
    location = /token {
        livekit_token on;
        livekit_token_identity_default guest;
        livekit_token_room_default lobby;
    }
--- request
GET /token
--- error_code: 200
--- response_body_like chomp
^\{"token":"eyJ[^"]+","url":"ws://127\.0\.0\.1:7880","room":"lobby","participant":"guest"\}$



=== TEST 6: a pinned value still wins over a default and still refuses a different client value
--- config
    location = /token {
        livekit_token on;
        livekit_token_identity $http_x_user;
        livekit_token_identity_default guest;
        livekit_token_room_default lobby;
    }
--- request eval
[
"POST /token\n{}",
"POST /token\n{\"participant_identity\":\"mallory\"}",
]
--- more_headers
Content-Type: application/json
X-User: alice
--- error_code eval
[201, 403]
--- response_body_like eval
[
'"room_name":"lobby"',
'^\{"error":"identity_pinned",',
]



=== TEST 7: a default that evaluates empty leaves the value missing
--- config
    location = /token {
        livekit_token on;
        livekit_token_identity_default $http_x_nobody;
        livekit_token_room_default lobby;
    }
--- request
POST /token
{}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like chomp
^\{"error":"missing_identity",



=== TEST 8: a default built from a client header is checked like the client's own value
--- config
    location = /token {
        livekit_token on;
        livekit_token_identity_default "guest-$http_x_tag";
        livekit_token_room_default lobby;
    }
--- request
POST /token
{}
--- more_headers eval
"Content-Type: application/json\nX-Tag: a\x01\xffb"
--- error_code: 400
--- response_body_like chomp
^\{"error":"(?:control_character|invalid_utf8)",
