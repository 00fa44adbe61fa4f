# Cross-origin token requests (livekit_token_cors_origins): the preflight
# answer, the headers of every reply, and same-origin behaviour without the
# directive.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

no_long_string();
no_shuffle();

add_block_preprocessor(\&LiveKitToken::default_keys);

run_tests();

__DATA__

=== TEST 1: a preflight from a listed origin gets 204 with the CORS headers
--- config
    location = /token {
        livekit_token on;
        livekit_token_cors_origins https://app.example.com http://localhost:5173;
    }
--- request
OPTIONS /token
--- more_headers
Origin: http://localhost:5173
Access-Control-Request-Method: POST
Access-Control-Request-Headers: content-type
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: http://localhost:5173
Access-Control-Allow-Methods: GET, POST
Access-Control-Allow-Headers: Content-Type, Authorization
Access-Control-Max-Age: 7200
Vary: Origin
--- response_body



=== TEST 2: a preflight from another origin gets 403 without CORS headers
--- config
    location = /token {
        livekit_token on;
        livekit_token_cors_origins https://app.example.com;
    }
--- request
OPTIONS /token
--- more_headers
Origin: https://app.example.com.evil.test
Access-Control-Request-Method: POST
--- error_code: 403
--- response_headers
!Access-Control-Allow-Origin
!Access-Control-Allow-Methods
Vary: Origin
--- response_body
{"error":"origin_not_allowed","message":"this origin may not ask for tokens here (livekit_token_cors_origins)"}



=== TEST 3: a POST from a listed origin carries Access-Control-Allow-Origin, the configured copy
--- config
    location = /token {
        livekit_token on;
        livekit_token_cors_origins https://app.example.com;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob"}
--- more_headers
Content-Type: application/json
Origin: https://app.example.com
--- error_code: 201
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
Vary: Origin
--- response_body_like chomp
^\{"server_url":



=== TEST 4: errors carry the header too, so the browser shows the JSON error
--- config
    location = /token {
        livekit_token on;
        livekit_token_cors_origins https://app.example.com;
    }
--- request
GET /token?room=r
--- more_headers
Origin: https://app.example.com
--- error_code: 400
--- response_headers
Access-Control-Allow-Origin: https://app.example.com
--- response_body_like chomp
^\{"error":"missing_identity",



=== TEST 5: a request from an unlisted origin is answered without Access-Control-Allow-Origin
--- config
    location = /token {
        livekit_token on;
        livekit_token_cors_origins https://app.example.com;
    }
--- request
GET /token?room=r&participant=p
--- more_headers
Origin: https://APP.example.com
--- error_code: 200
--- response_headers
!Access-Control-Allow-Origin
Vary: Origin



=== TEST 6: * allows every origin
--- config
    location = /token {
        livekit_token on;
        livekit_token_cors_origins *;
    }
--- request
OPTIONS /token
--- more_headers
Origin: https://anyone.test
Access-Control-Request-Method: GET
--- error_code: 204
--- response_headers
Access-Control-Allow-Origin: *



=== TEST 7: without livekit_token_cors_origins the location stays same-origin: OPTIONS is 405, no CORS header
--- config
    location = /token {
        livekit_token on;
    }
--- request
OPTIONS /token
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: POST
--- error_code: 405
--- response_headers
Allow: GET, POST
!Access-Control-Allow-Origin
!Vary



=== TEST 8: an origin with a path, upper case or a bad port fails nginx -t
--- config
    location = /token {
        livekit_token on;
        livekit_token_cors_origins https://app.example.com/;
    }
--- must_die
--- error_log
invalid value "https://app.example.com/" in "livekit_token_cors_origins": write an origin



=== TEST 9: * cannot be mixed with origins
--- config
    location = /token {
        livekit_token on;
        livekit_token_cors_origins https://app.example.com *;
    }
--- must_die
--- error_log
invalid value "*" in "livekit_token_cors_origins"
