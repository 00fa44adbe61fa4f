# room_config, secure by default: livekit-server applies a token's
# roomConfig when its holder creates the room (egress, agents, timeouts,
# participant limit, metadata) without asking for any further grant, so a
# client's room_config is refused unless the location allows what it asks
# for (livekit_token_agents), and the location's own roomConfig
# (livekit_token_room_config) wins.  Also the size limits of token and body.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

no_long_string();
no_shuffle();

add_block_preprocessor(\&LiveKitToken::default_keys);

run_tests();

__DATA__

=== TEST 1: without configuration, an empty room_config is fine and signs no roomConfig
--- config
    location = /token {
        livekit_token on;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","room_config":{}}
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



=== TEST 2: a hostile guest's room_config (limit, timeout, stream out, paid agent) gets 403 naming the first field
--- config
    location = /token {
        livekit_token on;
        livekit_token_identity $http_x_user;
        livekit_token_room consult-42;
        livekit_token_grants roomJoin canSubscribe;
    }
--- request
POST /token
{"room_config":{"maxParticipants":1,"emptyTimeout":86400,"metadata":"x","egress":{"room":{"stream_outputs":[{"urls":["rtmp://elsewhere.example/live/x"]}]}},"agents":[{"agentName":"expensive-agent"}]}}
--- more_headers
Content-Type: application/json
X-User: guest
--- error_code: 403
--- response_body
{"error":"room_config_not_allowed","message":"room_config.maxParticipants is not allowed here"}



=== TEST 3: agents are refused too when the location allows none
--- config
    location = /token {
        livekit_token on;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","room_config":{"agents":[{"agent_name":"notes"}]}}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- response_body
{"error":"room_config_not_allowed","message":"room_config.agents is not allowed here"}



=== TEST 4: livekit_token_agents lets the SDK's proto-named agent_name through, written as agentName
--- config
    location = /token {
        livekit_token on;
        livekit_token_agents notes summarizer;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","room_config":{"agents":[{"agent_name":"summarizer","metadata":"{\"lang\":\"fr\"}"},{"agentName":"notes"}]}}
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
roomConfig: {"agents":[{"agentName":"summarizer","metadata":"{\"lang\":\"fr\"}"},{"agentName":"notes"}]}
sub: "bob"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"r","roomJoin":true}



=== TEST 5: an agent the location does not list is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_agents notes;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","room_config":{"agents":[{"agent_name":"notes"},{"agent_name":"expensive-agent"}]}}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- response_body
{"error":"room_config_not_allowed","message":"room_config.agents[1].agent_name: this agent may not be dispatched here"}



=== TEST 6: an agent entry with another field is refused, naming it
--- config
    location = /token {
        livekit_token on;
        livekit_token_agents notes;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","room_config":{"agents":[{"agent_name":"notes","room":"elsewhere"}]}}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- response_body
{"error":"room_config_not_allowed","message":"room_config.agents[0].room is not allowed here"}



=== TEST 7: allowed agents do not open the rest of room_config
--- config
    location = /token {
        livekit_token on;
        livekit_token_agents *;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","room_config":{"agents":[{"agent_name":"notes"}],"egress":{"tracks":{"filepath":"x"}}}}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- response_body
{"error":"room_config_not_allowed","message":"room_config.egress is not allowed here"}



=== TEST 8: a field name that is not a short identifier is not echoed
--- config
    location = /token {
        livekit_token on;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","room_config":{"<script>\n":1}}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- response_body
{"error":"room_config_not_allowed","message":"room_config.(a field) is not allowed here"}



=== TEST 9: an agent's metadata is bounded like participant metadata and checked like it
--- config
    location = /token {
        livekit_token on;
        livekit_token_agents notes;
        livekit_token_metadata_max_size 8;
    }
--- request eval
[
"POST /token\n" . '{"room_name":"r","participant_identity":"bob","room_config":{"agents":[{"agent_name":"notes","metadata":"123456789"}]}}',
"POST /token\n" . '{"room_name":"r","participant_identity":"bob","room_config":{"agents":[{"agent_name":"notes","metadata":"a\u0001"}]}}',
"POST /token\n" . '{"room_name":"r","participant_identity":"bob","room_config":{"agents":[{"agent_name":7}]}}',
"POST /token\n" . '{"room_name":"r","participant_identity":"bob","room_config":{"agents":{"agent_name":"notes"}}}',
"POST /token\n" . '{"room_name":"r","participant_identity":"bob","room_config":{"agents":[{"agent_name":"notes","agentName":"notes"}]}}',
]
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 400, 400, 400, 400]
--- response_body_like eval
[
'^\{"error":"metadata_too_large",',
'^\{"error":"control_character",',
'^\{"error":"invalid_type",',
'^\{"error":"invalid_type",',
'^\{"error":"invalid_type",',
]



=== TEST 10: at most eight agents in one request
--- config
    location = /token {
        livekit_token on;
        livekit_token_agents *;
    }
--- request eval
"POST /token\n" . '{"room_name":"r","participant_identity":"bob","room_config":{"agents":['
    . CORE::join(",", map { qq({"agent_name":"a$_"}) } 1..9) . ']}}'
--- more_headers
Content-Type: application/json
--- error_code: 403
--- response_body
{"error":"room_config_not_allowed","message":"room_config.agents may name at most 8 agents"}



=== TEST 11: livekit_token_agents * dispatches any agent, also the unnamed default one
--- config
    location = /token {
        livekit_token on;
        livekit_token_agents *;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","room_config":{"agents":[{"agent_name":"any-thing"},{}]}}
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
roomConfig: {"agents":[{"agentName":"any-thing"},{}]}
sub: "bob"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"r","roomJoin":true}



=== TEST 12: livekit_token_room_config is signed into every token, GET included
--- config
    location = /token {
        livekit_token on;
        livekit_token_room_config '{"emptyTimeout":600,"maxParticipants":3,"egress":{"tracks":{"filepath":"consults/{room_name}/{track_id}"}}}';
    }
--- request
GET /token?room=r&participant=bob
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "r"
participant: "bob"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
roomConfig: {"egress":{"tracks":{"filepath":"consults/{room_name}/{track_id}"}},"emptyTimeout":600,"maxParticipants":3}
sub: "bob"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"r","roomJoin":true}



=== TEST 13: with livekit_token_room_config the configuration decides: allowed client agents are added to it
--- config
    location = /token {
        livekit_token on;
        livekit_token_agents notes;
        livekit_token_room_config '{"maxParticipants":3,"agents":[{"agentName":"greeter"}]}';
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","room_config":{"agents":[{"agent_name":"notes"}]}}
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
roomConfig: {"agents":[{"agentName":"greeter"},{"agentName":"notes"}],"maxParticipants":3}
sub: "bob"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"r","roomJoin":true}



=== TEST 14: with livekit_token_room_config nothing else of the client's room_config is taken
--- config
    location = /token {
        livekit_token on;
        livekit_token_agents notes;
        livekit_token_room_config '{"maxParticipants":3}';
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","room_config":{"maxParticipants":100}}
--- more_headers
Content-Type: application/json
--- error_code: 403
--- response_body
{"error":"room_config_not_allowed","message":"room_config.maxParticipants is not allowed here"}



=== TEST 15: a room_config that is not an object is a 400
--- config
    location = /token {
        livekit_token on;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","room_config":[1]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body
{"error":"invalid_type","message":"room_config must be an object"}



=== TEST 16: a token larger than livekit_token_max_size is refused with 400 token_too_large
--- config
    location = /token {
        livekit_token on;
        livekit_token_max_size 700;
    }
--- request eval
[
"GET /token?room=r&participant=bob&metadata=" . ("m" x 200),
"GET /token?room=r&participant=bob&metadata=" . ("m" x 350),
]
--- error_code eval
[200, 400]
--- response_body_like eval
[
'^\{"token":"eyJ',
'^\{"error":"token_too_large","message":"[^"]*livekit_token_max_size',
]



=== TEST 17: the default livekit_token_max_size admits the default 4 KB of metadata but not a token /rtc's 8k request line could not carry
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 8k;
    }
--- request eval
[
"GET /token?room=r&participant=bob&metadata=" . ("m" x 4096),
"GET /token?room=r&participant=bob&metadata=" . ("m" x 4700),
]
--- error_code eval
[200, 400]
--- response_body_like eval
[
'^\{"token":"eyJ',
'^\{"error":"token_too_large",',
]



=== TEST 18: a body over livekit_token_body_max_size is refused with 413 before it is read
--- config
    location = /token {
        livekit_token on;
        livekit_token_body_max_size 64;
    }
--- request eval
"POST /token\n" . '{"room_name":"r","participant_identity":"bob","participant_metadata":"' . ("m" x 100) . '"}'
--- more_headers
Content-Type: application/json
--- error_code: 413
--- response_body
{"error":"body_too_large","message":"the request body is larger than the location allows (livekit_token_body_max_size)"}



=== TEST 19: a chunked body over livekit_token_body_max_size (no Content-Length) is refused with 413 too
--- config
    location = /token {
        livekit_token on;
        livekit_token_body_max_size 64;
    }
--- raw_request eval
my $body = '{"room_name":"r","participant_identity":"bob","participant_metadata":"'
           . ("m" x 50) . '"}';
"POST /token HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
" . sprintf("%x", length $body) . "\r
$body\r
0\r
\r
"
--- error_code: 413
--- response_body_like chomp
^\{"error":"body_too_large",



=== TEST 20: livekit_token_room_config must be a JSON object of RoomConfiguration fields
--- config
    location = /token {
        livekit_token on;
        livekit_token_room_config '{"maxParticipant":3}';
    }
--- must_die
--- error_log
unknown RoomConfiguration field "maxParticipant" in "livekit_token_room_config"



=== TEST 21: livekit_token_room_config that is not JSON fails nginx -t
--- config
    location = /token {
        livekit_token on;
        livekit_token_room_config '{"maxParticipants":';
    }
--- must_die
--- error_log
"livekit_token_room_config" needs a JSON object



=== TEST 22: livekit_token_room_config may not put storage credentials into tokens
--- config
    location = /token {
        livekit_token on;
        livekit_token_room_config '{"egress":{"tracks":{"s3":{"bucket":"b","access_key":"AKIA","secret":"shh"}}}}';
    }
--- must_die
--- error_log
"livekit_token_room_config" holds "secret": a token is readable by its holder



=== TEST 23: a stream output (its URL holds the stream key) is refused at nginx -t too
--- config
    location = /token {
        livekit_token on;
        livekit_token_room_config '{"egress":{"room":{"streamOutputs":[{"urls":["rtmp://x/live/key"]}]}}}';
    }
--- must_die
--- error_log
holds "streamOutputs"



=== TEST 24: livekit_token_agents takes either * or names
--- config
    location = /token {
        livekit_token on;
        livekit_token_agents notes *;
    }
--- must_die
--- error_log
invalid value "*" in "livekit_token_agents": an agent name is 1 to 256 bytes



=== TEST 25: an allowed agent is dispatched at most once per token: a repeat is refused, and so is one the location's own roomConfig already dispatches
--- config
    location = /token {
        livekit_token on;
        livekit_token_agents notes summarizer;
    }
    location = /own {
        livekit_token on;
        livekit_token_agents notes summarizer;
        livekit_token_room_config '{"agents":[{"agentName":"summarizer"}]}';
    }
--- request eval
['POST /token
{"room_name":"r","participant_identity":"bob","room_config":{"agents":[{"agent_name":"notes"},{"agentName":"notes"}]}}',
'POST /own
{"room_name":"r","participant_identity":"bob","room_config":{"agents":[{"agent_name":"summarizer"}]}}']
--- more_headers
Content-Type: application/json
--- error_code eval
[403, 403]
--- response_body eval
['{"error":"room_config_not_allowed","message":"room_config.agents[1].agent_name: this agent is already dispatched"}
',
'{"error":"room_config_not_allowed","message":"room_config.agents[0].agent_name: this agent is already dispatched"}
']
