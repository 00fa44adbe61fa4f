# Per-location policy: the video grant (livekit_token_grants), attributes
# (livekit_token_attribute), values pinned by configuration
# (livekit_token_identity/room/name/metadata) and the room pattern.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

no_long_string();
no_shuffle();

# every block signs with t/lib's key file unless it brings its own
add_block_preprocessor(\&LiveKitToken::default_keys);

run_tests();

__DATA__

=== TEST 1: livekit_token_grants replaces the default grant, with explicit false for publish/subscribe/data
--- config
    location = /token {
        livekit_token on;
        livekit_token_grants roomJoin canSubscribe canUpdateOwnMetadata hidden roomAdmin roomCreate roomList roomRecord agent;
    }
--- request
GET /token?room=xyz&participant=observer
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "xyz"
participant: "observer"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
sub: "observer"
video: {"agent":true,"canPublish":false,"canPublishData":false,"canSubscribe":true,"canUpdateOwnMetadata":true,"hidden":true,"room":"xyz","roomAdmin":true,"roomCreate":true,"roomJoin":true,"roomList":true,"roomRecord":true}



=== TEST 2: canPublishSources restricts what may be published
--- config
    location = /token {
        livekit_token on;
        livekit_token_grants roomJoin canPublish canSubscribe canPublishData canPublishSources=camera,microphone,screen_share,screen_share_audio;
    }
--- request
GET /token?room=xyz&participant=Jane
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "xyz"
participant: "Jane"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
sub: "Jane"
video: {"canPublish":true,"canPublishData":true,"canPublishSources":["camera","microphone","screen_share","screen_share_audio"],"canSubscribe":true,"room":"xyz","roomJoin":true}



=== TEST 3: configured attributes take variables and are merged with the client's
--- config
    location = /token {
        livekit_token on;
        livekit_token_attribute plan pro;
        livekit_token_attribute user_agent $http_user_agent;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","participant_attributes":{"lang":"fr"}}
--- more_headers
Content-Type: application/json
User-Agent: tester/1.0
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
attributes: {"lang":"fr","plan":"pro","user_agent":"tester/1.0"}
sub: "bob"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"r","roomJoin":true}



=== TEST 4: a client may not change a configured attribute
--- config
    location = /token {
        livekit_token on;
        livekit_token_attribute plan basic;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","participant_attributes":{"plan":"pro"}}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- response_body_like
^\{"error":"attribute_pinned","message":"(?:[^"\\]|\\.)+"\}$



=== TEST 5: a pinned identity comes from configuration (here a header an auth layer sets)
--- config
    location = /token {
        livekit_token on;
        livekit_token_identity $http_x_user;
        livekit_token_name "$http_x_user (verified)";
        livekit_token_metadata '{"source":"sso"}';
    }
--- request
GET /token?room=xyz
--- more_headers
X-User: alice
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "xyz"
participant: "alice"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
metadata: "{\"source\":\"sso\"}"
name: "alice (verified)"
sub: "alice"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"xyz","roomJoin":true}



=== TEST 6: asking for the pinned identity itself is allowed
--- config
    location = /token {
        livekit_token on;
        livekit_token_identity $http_x_user;
    }
--- request
GET /token?room=xyz&participant=alice
--- more_headers
X-User: alice
--- error_code: 200



=== TEST 7: asking for someone else's identity is refused, and no token is issued
--- config
    location = /token {
        livekit_token on;
        livekit_token_identity $http_x_user;
    }
--- request
GET /token?room=xyz&participant=Mallory
--- more_headers
X-User: alice
--- error_code: 403
--- response_body_like
^\{"error":"identity_pinned","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 403 identity_pinned



=== TEST 8: the same holds for the POST contract
--- config
    location = /token {
        livekit_token on;
        livekit_token_identity $http_x_user;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"Mallory"}
--- more_headers
Content-Type: application/json
X-User: alice
--- error_code: 403
--- response_body_like
^\{"error":"identity_pinned","message":"(?:[^"\\]|\\.)+"\}$



=== TEST 9: a pinned identity that evaluates empty (not signed in) gets 403, not a token
--- config
    location = /token {
        livekit_token on;
        livekit_token_identity $http_x_user;
    }
--- request
GET /token?room=xyz&participant=alice
--- error_code: 403
--- response_body_like
^\{"error":"identity_unavailable","message":"(?:[^"\\]|\\.)+"\}$



=== TEST 10: a pinned room overrides a missing room and refuses another one
--- config
    location = /token {
        livekit_token on;
        livekit_token_room consult-$arg_case;
    }
--- request
GET /token?case=7&participant=Jane&room=consult-8
--- error_code: 403
--- response_body_like
^\{"error":"room_pinned","message":"(?:[^"\\]|\\.)+"\}$



=== TEST 11: a pinned room is used when the client sends none
--- config
    location = /token {
        livekit_token on;
        livekit_token_room consult-$arg_case;
    }
--- request
GET /token?case=7&participant=Jane
--- error_code: 200
--- response_body_like chomp
"room":"consult-7"



=== TEST 12: the room pattern admits matching rooms
--- config
    location = /token {
        livekit_token on;
        livekit_token_room_pattern "consult-[0-9]+";
    }
--- request
GET /token?room=consult-42&participant=Jane
--- error_code: 200



=== TEST 13: the room pattern must match the whole name, else 403
--- config
    location = /token {
        livekit_token on;
        livekit_token_room_pattern "consult-[0-9]+";
    }
--- request
GET /token?room=consult-42-admin&participant=Jane
--- error_code: 403
--- response_body_like
^\{"error":"room_not_allowed","message":"(?:[^"\\]|\\.)+"\}$



=== TEST 14: settings at server level are inherited and a location may override them
--- http_config
    livekit_keys_file ../html/keys.yaml;
--- config
    livekit_api_key otherkey;
    livekit_url ws://server-level:7880;
    livekit_token_ttl 1h;

    location = /token {
        livekit_token on;
        livekit_token_ttl 2m;
    }
--- request
GET /token?room=xyz&participant=Jane
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://server-level:7880"
room: "xyz"
participant: "Jane"
header: {"alg":"HS256","typ":"JWT"}
iss: otherkey
ttl: 120
sub: "Jane"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"xyz","roomJoin":true}



=== TEST 15: a pinned attribute whose value is empty refuses a client's value that is not a string (403, no memcmp of nothing)
--- config
    location = /token {
        livekit_token on;
        livekit_token_attribute plan $arg_plan;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","participant_attributes":{"plan":1}}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- response_body_like
^\{"error":"attribute_pinned","message":"(?:[^"\\]|\\.)+"\}$



=== TEST 16: $arg_room is not the room the module reads (any case, first, undecoded); livekit_token_room_pattern sees the module's reading
--- config
    location = /token {
        livekit_token on;
        livekit_token_room_pattern "consult-[0-9]+";
        add_header X-Arg-Room $arg_room always;
    }
--- request eval
[
"GET /token?ROOM=admin&room=consult-1&participant=bob",
"GET /token?room=consult%2D2&participant=bob",
"GET /token?Room=consult-3&room=admin&participant=bob",
]
--- error_code eval
[200, 200, 403]
--- response_headers eval
[
"X-Arg-Room: admin",
"X-Arg-Room: consult%2D2",
"X-Arg-Room: consult-3",
]
--- response_body_like eval
[
'"room":"consult-1"',
'"room":"consult-2"',
'^\{"error":"room_not_allowed"',
]
