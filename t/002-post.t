# The POST contract: LiveKit's standard token endpoint, what the client
# SDKs' TokenSource.endpoint calls.  JSON in, 201 {"server_url",
# "participant_token","room_name"[,"participant_name"]} out; the body is read the nginx way, also when
# buffered to disk.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

no_long_string();
no_shuffle();

# every block signs with t/lib's key file unless it brings its own
add_block_preprocessor(\&LiveKitToken::default_keys);

run_tests();

__DATA__

=== TEST 1: a POST with every field answers 201 and carries them all into the claims
--- config
    location = /token {
        livekit_token on;
        livekit_token_agents notes;
    }
--- request
POST /token
{"room_name":"consult-42","participant_identity":"jane@example.com","participant_name":"Jane \"JD\" Doe","participant_metadata":"{\"role\":\"editor\"}","participant_attributes":{"tier":"gold","lang":"fr"},"room_config":{"agents":[{"agent_name":"notes"}]},"unknown_field":true}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant_name,participant_token,room_name,server_url
server_url: "ws://127.0.0.1:7880"
room_name: "consult-42"
participant_name: "Jane \"JD\" Doe"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
attributes: {"lang":"fr","tier":"gold"}
metadata: "{\"role\":\"editor\"}"
name: "Jane \"JD\" Doe"
roomConfig: {"agents":[{"agentName":"notes"}]}
sub: "jane@example.com"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"consult-42","roomJoin":true}
--- no_error_log
[error]



=== TEST 2: Unicode, emoji and JSON escapes round-trip byte-exact
--- config
    location = /token {
        livekit_token on;
    }
--- request
POST /token
{"room_name":"salle \u00e9t\u00e9","participant_identity":"\u4e2d\u6587\ud83d\ude00","participant_name":"back\\slash","participant_metadata":"line1\nline2\tTab"}
--- more_headers
Content-Type: application/json; charset=utf-8
--- error_code: 201
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant_name,participant_token,room_name,server_url
server_url: "ws://127.0.0.1:7880"
room_name: "salle \u00e9t\u00e9"
participant_name: "back\\slash"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
metadata: "line1\nline2\tTab"
name: "back\\slash"
sub: "\u4e2d\u6587\ud83d\ude00"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"salle \u00e9t\u00e9","roomJoin":true}



=== TEST 3: a body buffered to a temporary file is read from disk
--- config
    location = /token {
        livekit_token on;
        client_body_in_file_only clean;
    }
--- request
POST /token
{"room_name":"disk","participant_identity":"bob"}
--- more_headers
Content-Type: APPLICATION/JSON
--- error_code: 201
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant_token,room_name,server_url
server_url: "ws://127.0.0.1:7880"
room_name: "disk"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
sub: "bob"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"disk","roomJoin":true}



=== TEST 4: JSON nulls count as absent fields
--- config
    location = /token {
        livekit_token on;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","participant_name":null,"participant_attributes":null,"room_config":null}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant_token,room_name,server_url
server_url: "ws://127.0.0.1:7880"
room_name: "r"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
sub: "bob"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"r","roomJoin":true}
