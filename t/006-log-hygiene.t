# Secrets and tokens never reach the error log, at any level: the suites
# run nginx with "error_log ... debug" (Debian's nginx is built with
# --with-debug), so every debug line of a whole token exchange is checked.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

no_long_string();
no_shuffle();
log_level('debug');

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("user_files", ">>> keys.yaml\n" . keys_file());
    $block->set_value("http_config",
        "livekit_keys_file ../html/keys.yaml;\n"
        . "livekit_api_key devkey;\n"
        . "livekit_url ws://127.0.0.1:7880;\n");
    $block->set_value("no_error_log", join "\n",
        $LiveKitToken::DEV_SECRET, $LiveKitToken::OTHER_SECRET,
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", "[alert]", "[crit]");
});

run_tests();

__DATA__

=== TEST 1: a GET token exchange logs neither the secret nor the token at debug level
--- config
    location = /token {
        livekit_token on;
    }
--- request
GET /token?room=xyz&participant=Jane
--- error_code: 200
--- response_body_like chomp
"token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\.



=== TEST 2: a POST token exchange, body buffered to disk, logs neither
--- config
    location = /token {
        livekit_token on;
        client_body_in_file_only clean;
    }
--- request
POST /token
{"room_name":"r","participant_identity":"bob","participant_metadata":"m"}
--- more_headers
Content-Type: application/json
--- error_code: 201
--- response_body_like chomp
"participant_token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\.



=== TEST 3: client errors are logged at info with the code only
--- config
    location = /token {
        livekit_token on;
    }
--- request
GET /token?room=xyz
--- error_code: 400
--- error_log
[info]
livekit token: 400 missing_identity
