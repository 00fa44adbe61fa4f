# The GET contract the product's clients already call:
# GET /token?room=xyz&participant=Jane -> 200 {"token","url","room","participant"}.
# Every token is verified with Crypt::JWT (t/lib/LiveKitToken.pm) and its
# claims compared as text.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

no_long_string();
no_shuffle();

# every block signs with t/lib's key file unless it brings its own
add_block_preprocessor(\&LiveKitToken::default_keys);

run_tests();

__DATA__

=== TEST 1: a GET with room and participant answers the product's JSON with a signed token
--- config
    location = /token {
        livekit_token on;
    }
--- request
GET /token?room=xyz&participant=Jane
--- error_code: 200
--- response_headers
Content-Type: application/json
Cache-Control: no-store
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
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"xyz","roomJoin":true}
--- no_error_log
[error]



=== TEST 2: query values are decoded like URLSearchParams: plus, percent escapes, UTF-8
--- config
    location = /token {
        livekit_token on;
    }
--- request
GET /token?room=consult%2D42&participant=Jane+Doe%20%C3%A9%E4%B8%AD%F0%9F%98%80
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "consult-42"
participant: "Jane Doe \u00e9\u4e2d\ud83d\ude00"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
sub: "Jane Doe \u00e9\u4e2d\ud83d\ude00"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"consult-42","roomJoin":true}



=== TEST 3: the first value wins when an argument repeats
--- config
    location = /token {
        livekit_token on;
    }
--- request
GET /token?room=first&participant=Jane&room=second&participant=Mallory
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "first"
participant: "Jane"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
sub: "Jane"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"first","roomJoin":true}



=== TEST 4: quotes, backslashes and a closing script tag are escaped in claims and reply
--- config
    location = /token {
        livekit_token on;
    }
--- request
GET /token?room=r&participant=%22q%22%5Cb%3C%2Fscript%3E&name=N%22%5C&metadata=%7B%22a%22%3A%5B1%5D%7D
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "r"
participant: "\"q\"\\b</script>"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
metadata: "{\"a\":[1]}"
name: "N\"\\"
sub: "\"q\"\\b</script>"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"r","roomJoin":true}



=== TEST 5: livekit_token_ttl sets exp - nbf
--- config
    location = /token {
        livekit_token on;
        livekit_token_ttl 90s;
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
ttl: 90
sub: "Jane"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"xyz","roomJoin":true}



=== TEST 6: livekit_api_key chooses which key of the file signs
--- config
    location = /token {
        livekit_token on;
        livekit_api_key otherkey;
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
iss: otherkey
ttl: 21600
sub: "Jane"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"xyz","roomJoin":true}



=== TEST 7: a file with a single key needs no livekit_api_key, and livekit_url takes variables
--- http_config
    livekit_keys_file ../html/one.yaml;
--- user_files
>>> one.yaml
# LiveKit key file, as livekit-server --key-file reads it
devkey: "dev-secret-0123456789abcdefghijklmnopqrstuv"
--- config
    location = /token {
        livekit_token on;
        livekit_url wss://$host/lk;
    }
--- request
GET /token?room=xyz&participant=Jane
--- more_headers
Host: meet.example.com
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "wss://meet.example.com/lk"
room: "xyz"
participant: "Jane"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
sub: "Jane"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"xyz","roomJoin":true}



=== TEST 8: other methods get 405 with Allow and a JSON error
--- config
    location = /token {
        livekit_token on;
    }
--- request
PUT /token
--- error_code: 405
--- response_headers
Allow: GET, POST
Content-Type: application/json
--- response_body_like
^\{"error":"method_not_allowed","message":"(?:[^"\\]|\\.)+"\}$



=== TEST 9: locations without livekit_token are untouched
--- config
    location = /token {
        livekit_token on;
    }
    location = /other {
        return 200 "other\n";
    }
--- request
GET /other?room=xyz&participant=Jane
--- error_code: 200
--- response_body
other



=== TEST 10: names match whole and exactly: lookalike names are ignored
--- config
    location = /token {
        livekit_token on;
    }
--- request
GET /token?xroom=bad&Room=bad&room=good&participants=bad&participant=p%2Bq+r&room=late
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "good"
participant: "p+q r"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
sub: "p+q r"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"good","roomJoin":true}



=== TEST 11: a percent sign without two hex digits stays literal, as URLSearchParams reads it
--- config
    location = /token {
        livekit_token on;
    }
--- request
GET /token?room=50%off&participant=J%4&name=%%41%zz%
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "50%off"
participant: "J%4"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 21600
name: "%A%zz%"
sub: "J%4"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"50%off","roomJoin":true}
