# Bad input gets a 4xx with a JSON error naming what to fix, and nothing
# else: no token, no 5xx, no crash.  One block per kind of bad input.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

no_long_string();
no_shuffle();

# every block signs with t/lib's key file unless it brings its own
add_block_preprocessor(\&LiveKitToken::default_keys);

run_tests();

__DATA__

=== TEST 1: a GET without room is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
GET /token?participant=Jane
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"missing_room","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 missing_room
--- no_error_log
[error]
[alert]
[crit]



=== TEST 2: an empty room is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
GET /token?room=&participant=Jane
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"missing_room","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 missing_room
--- no_error_log
[error]
[alert]
[crit]



=== TEST 3: argument names are case-sensitive, as URLSearchParams reads them
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
GET /token?ROOM=xyz&participant=Jane
--- error_code: 400
--- response_body_like
^\{"error":"missing_room","message":"(?:[^"\\]|\\.)+"\}$



=== TEST 4: a name without a value counts as empty
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
GET /token?room&participant=Jane
--- error_code: 400
--- response_body_like
^\{"error":"missing_room","message":"(?:[^"\\]|\\.)+"\}$



=== TEST 5: a GET without participant is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
GET /token?room=xyz
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"missing_identity","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 missing_identity
--- no_error_log
[error]
[alert]
[crit]



=== TEST 6: an empty participant is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
GET /token?room=xyz&participant=
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"missing_identity","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 missing_identity
--- no_error_log
[error]
[alert]
[crit]



=== TEST 7: a room over 256 bytes is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request eval
"GET /token?participant=Jane&room=" . ("r" x 257)
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"room_too_long","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 room_too_long
--- no_error_log
[error]
[alert]
[crit]



=== TEST 8: a room of exactly 256 bytes is fine, an identity over 256 bytes is not
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request eval
"GET /token?room=" . ("r" x 256) . "&participant=" . ("%C3%A9" x 129)
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"identity_too_long","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 identity_too_long
--- no_error_log
[error]
[alert]
[crit]



=== TEST 9: a name over 256 bytes is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request eval
"GET /token?room=xyz&participant=Jane&name=" . ("n" x 257)
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"name_too_long","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 name_too_long
--- no_error_log
[error]
[alert]
[crit]



=== TEST 10: percent-encoded bytes that are not UTF-8 are refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
GET /token?room=xyz&participant=%FFJane
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_utf8","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_utf8
--- no_error_log
[error]
[alert]
[crit]



=== TEST 11: an overlong UTF-8 form is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
GET /token?room=%C0%AFetc&participant=Jane
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_utf8","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_utf8
--- no_error_log
[error]
[alert]
[crit]



=== TEST 12: a UTF-16 surrogate encoded in UTF-8 is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
GET /token?room=xyz&participant=%ED%A0%80
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_utf8","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_utf8
--- no_error_log
[error]
[alert]
[crit]



=== TEST 13: a truncated UTF-8 sequence is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
GET /token?room=xyz&participant=Jane%E4%B8
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_utf8","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_utf8
--- no_error_log
[error]
[alert]
[crit]



=== TEST 14: raw bytes that are not UTF-8 in the query are refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- raw_request eval
"GET /token?room=xyz&participant=J\xffane HTTP/1.0\r\nHost: localhost\r\n\r\n"
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_utf8","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_utf8
--- no_error_log
[error]
[alert]
[crit]



=== TEST 15: a NUL byte in the identity is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
GET /token?room=xyz&participant=Ja%00ne
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"control_character","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 control_character
--- no_error_log
[error]
[alert]
[crit]



=== TEST 16: a newline in the room is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
GET /token?room=x%0Ay&participant=Jane
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"control_character","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 control_character
--- no_error_log
[error]
[alert]
[crit]



=== TEST 17: DEL in the name is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
GET /token?room=xyz&participant=Jane&name=a%7Fb
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"control_character","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 control_character
--- no_error_log
[error]
[alert]
[crit]



=== TEST 18: a C1 control character in the identity is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
GET /token?room=xyz&participant=a%C2%85b
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_utf8","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_utf8
--- no_error_log
[error]
[alert]
[crit]



=== TEST 19: metadata over livekit_token_metadata_max_size is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request eval
"GET /token?room=xyz&participant=Jane&metadata=" . ("m" x 65)
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"metadata_too_large","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 metadata_too_large
--- no_error_log
[error]
[alert]
[crit]



=== TEST 20: attributes over livekit_token_metadata_max_size are refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request eval
"POST /token\n{\"room_name\":\"r\",\"participant_identity\":\"j\",\"participant_attributes\":{\"k\":\"" . ("v" x 64) . "\"}}"
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"attributes_too_large","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 attributes_too_large
--- no_error_log
[error]
[alert]
[crit]



=== TEST 21: a body that is not JSON is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
POST /token
{"room_name":"r",
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_json","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_json
--- no_error_log
[error]
[alert]
[crit]



=== TEST 22: an empty body is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
POST /token
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_json","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_json
--- no_error_log
[error]
[alert]
[crit]



=== TEST 23: a JSON array is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
POST /token
["r","j"]
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_json","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_json
--- no_error_log
[error]
[alert]
[crit]



=== TEST 24: duplicate keys are refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"a","participant_identity":"b"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_json","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_json
--- no_error_log
[error]
[alert]
[crit]



=== TEST 25: an escaped NUL in a JSON string is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"a\u0000b"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_json","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_json
--- no_error_log
[error]
[alert]
[crit]



=== TEST 26: raw bytes that are not UTF-8 in the JSON body are refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request eval
"POST /token\n{\"room_name\":\"r\xff\",\"participant_identity\":\"a\"}"
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_json","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_json
--- no_error_log
[error]
[alert]
[crit]



=== TEST 27: a room_name that is not a string is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
POST /token
{"room_name":42,"participant_identity":"a"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_type","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_type
--- no_error_log
[error]
[alert]
[crit]



=== TEST 28: a participant_identity that is not a string is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
POST /token
{"room_name":"r","participant_identity":["a"]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_type","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_type
--- no_error_log
[error]
[alert]
[crit]



=== TEST 29: participant_attributes that are not an object are refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"a","participant_attributes":"x=y"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_type","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_type
--- no_error_log
[error]
[alert]
[crit]



=== TEST 30: an attribute value that is not a string is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"a","participant_attributes":{"n":1}}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_type","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_type
--- no_error_log
[error]
[alert]
[crit]



=== TEST 31: a room_config that is not an object is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"a","room_config":[1]}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"invalid_type","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 invalid_type
--- no_error_log
[error]
[alert]
[crit]



=== TEST 32: a control character escaped in JSON is refused
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"a\u0007b"}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"control_character","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 400 control_character
--- no_error_log
[error]
[alert]
[crit]



=== TEST 33: a POST without Content-Type gets 415
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"a"}
--- error_code: 415
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"unsupported_media_type","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 415 unsupported_media_type
--- no_error_log
[error]
[alert]
[crit]



=== TEST 34: a POST with a form body gets 415
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
POST /token
room_name=r&participant_identity=a
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- error_code: 415
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"unsupported_media_type","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 415 unsupported_media_type
--- no_error_log
[error]
[alert]
[crit]



=== TEST 35: a content type that only starts like JSON gets 415
--- config
    location = /token {
        livekit_token on;
        livekit_token_metadata_max_size 64;
    }
--- request
POST /token
{}
--- more_headers
Content-Type: application/jsonp
--- error_code: 415
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_like
^\{"error":"unsupported_media_type","message":"(?:[^"\\]|\\.)+"\}$
--- error_log
livekit token: 415 unsupported_media_type
--- no_error_log
[error]
[alert]
[crit]



=== TEST 36: a body over client_max_body_size gets 413
--- config
    location = /token {
        livekit_token on;
        client_max_body_size 64;
    }
--- request eval
"POST /token\n{\"room_name\":\"" . ("r" x 100) . "\"}"
--- more_headers
Content-Type: application/json
--- error_code: 413
--- no_error_log
[alert]
[crit]



=== TEST 37: a chunked body over client_max_body_size gets 413 too
--- config
    location = /token {
        livekit_token on;
        client_max_body_size 64;
    }
--- raw_request eval
"POST /token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n80\r\n" . ("r" x 128) . "\r\n0\r\n\r\n"
--- error_code: 413
--- no_error_log
[alert]
[crit]



=== TEST 38: a control character in a client's attribute name is refused
--- config
    location = /token {
        livekit_token on;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","participant_attributes":{"k\u0001":"v"}}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like chomp
^\{"error":"control_character",



=== TEST 39: a C1 control character in a client's attribute value is refused
--- config
    location = /token {
        livekit_token on;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","participant_attributes":{"k":"v\u0085"}}
--- more_headers
Content-Type: application/json
--- error_code: 400
--- response_body_like chomp
^\{"error":"invalid_utf8",



=== TEST 40: an empty attribute name is refused, a tab or newline in a value is fine
--- config
    location = /token {
        livekit_token on;
    }
--- request eval
[
"POST /token\n" . '{"room_name":"r","participant_identity":"bob","participant_attributes":{"":"v"}}',
"POST /token\n" . '{"room_name":"r","participant_identity":"bob","participant_attributes":{"k":"a\tb\nc"}}',
]
--- more_headers
Content-Type: application/json
--- error_code eval
[400, 201]
--- response_body_like eval
[
'^\{"error":"invalid_type",',
'^\{"server_url":',
]



=== TEST 41: at info, the module's line carries status, code and client address, but no client value
--- log_level: info
--- config
    location = /token {
        livekit_token on;
    }
--- request
GET /token?room=secret-room-name-xyz&name=secret-display-name
--- error_code: 400
--- error_log
livekit token: 400 missing_identity, client: 127.0.0.1
--- no_error_log
secret-room-name-xyz
secret-display-name
request: "GET
