# livekit_webhook: LiveKit's webhooks verified at the front door, as
# livekit-server-sdk's WebhookReceiver verifies them, before the request
# goes on to the application (here /app, which proxies to a sink and logs
# the body it got, byte for byte, in the access log).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

no_long_string();
no_shuffle();

our $Body = '{"event":"room_started","room":{"sid":"RM_x","name":"consult-42"},"id":"EV_abc","createdAt":"1796060000"}';

add_block_preprocessor(sub {
    my $block = shift;

    LiveKitToken::default_keys($block);

    $block->set_value("http_config", $block->http_config . <<'CONF');
    log_format app escape=none 'app got [$request_body] event=$livekit_webhook_event';
    log_format front escape=none 'front event=$livekit_webhook_event id=$livekit_webhook_id room=$livekit_webhook_room';
CONF

    $block->set_value("config", <<'CONF' . ($block->config // ''))
    location = /app {
        access_log logs/access.log app;
        client_body_buffer_size 1m;
        proxy_pass http://127.0.0.1:$server_port/sink;
    }

    location = /sink {
        access_log off;
        return 204;
    }
CONF
        unless ($block->config // '') =~ /location = \/app/;
});

run_tests();

__DATA__

=== TEST 1: a webhook signed as livekit-server signs it reaches the application byte-identical
--- config
    location = /webhook {
        livekit_webhook on;
        access_log logs/access.log front;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /webhook\n$::Body"
--- more_headers eval
LiveKitToken::webhook_headers($::Body)
--- error_code: 204
--- access_log eval
[
"app got [$::Body] event=",
"front event=room_started id=EV_abc room=consult-42",
]



=== TEST 2: a webhook without Authorization gets 401 webhook_unsigned and never reaches the application
--- config
    location = /webhook {
        livekit_webhook on;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /webhook\n$::Body"
--- more_headers
Content-Type: application/webhook+json
--- error_code: 401
--- response_body
{"error":"webhook_unsigned","message":"a webhook needs the Authorization header livekit-server signs"}
--- no_access_log
app got



=== TEST 3: a body changed after signing gets 401 webhook_body_mismatch
--- config
    location = /webhook {
        livekit_webhook on;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
my $changed = $::Body =~ s/consult-42/consult-43/r;
"POST /webhook\n$changed"
--- more_headers eval
LiveKitToken::webhook_headers($::Body)
--- error_code: 401
--- response_body_like chomp
^\{"error":"webhook_body_mismatch","message":"[^"]*sha256 checksum of body does not match\)"\}$
--- no_access_log
app got



=== TEST 4: a token signed with another secret for the same key gets 401 webhook_bad_signature
--- config
    location = /webhook {
        livekit_webhook on;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /webhook\n$::Body"
--- more_headers eval
LiveKitToken::webhook_headers($::Body, secret => 'forged-secret-0123456789abcdefghijklmno')
--- error_code: 401
--- response_body_like chomp
^\{"error":"webhook_bad_signature",
--- no_access_log
app got



=== TEST 5: a key the location does not hold gets 401 webhook_unknown_key
--- config
    location = /webhook {
        livekit_webhook on;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /webhook\n$::Body"
--- more_headers eval
LiveKitToken::webhook_headers($::Body, key => 'APIstranger', secret => 'stranger-secret-0123456789abcdefghijklm')
--- error_code: 401
--- response_body_like chomp
^\{"error":"webhook_unknown_key",



=== TEST 6: any key of the file verifies, as the key named by iss (re-signed with the other key)
--- config
    location = /webhook {
        livekit_webhook on;
        access_log logs/access.log front;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /webhook\n$::Body"
--- more_headers eval
LiveKitToken::webhook_headers($::Body, key => 'otherkey')
--- error_code: 204
--- access_log eval
"app got [$::Body]"



=== TEST 7: a replay after expiry (past livekit-server's one-minute leeway) gets 401 webhook_expired
--- config
    location = /webhook {
        livekit_webhook on;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
["POST /webhook\n$::Body", "POST /webhook\n$::Body", "POST /webhook\n$::Body", "POST /webhook\n$::Body"]
--- more_headers eval
[
LiveKitToken::webhook_headers($::Body, nbf => -400, exp => -90),
LiveKitToken::webhook_headers($::Body, nbf => -400, exp => -30),
LiveKitToken::webhook_headers($::Body, nbf => 90),
LiveKitToken::webhook_headers($::Body, no_exp => 1),
]
--- error_code eval
[401, 204, 401, 401]
--- response_body_like eval
['^\{"error":"webhook_expired",', '^$', '^\{"error":"webhook_expired",', '^\{"error":"webhook_expired",']



=== TEST 8: not an HS256 token: alg none, another alg, garbage, four parts
--- config
    location = /webhook {
        livekit_webhook on;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
["POST /webhook\n$::Body", "POST /webhook\n$::Body", "POST /webhook\n$::Body", "POST /webhook\n$::Body"]
--- more_headers eval
[
"Authorization: eyJhbGciOiJub25lIn0.eyJpc3MiOiJkZXZrZXkifQ.",
LiveKitToken::webhook_headers($::Body, alg => 'HS384'),
"Authorization: not a token",
LiveKitToken::webhook_headers($::Body) . ".x",
]
--- error_code eval
[401, 401, 401, 401]
--- response_body_like eval
['^\{"error":"webhook_bad_signature",', '^\{"error":"webhook_bad_signature",', '^\{"error":"webhook_bad_signature",', '^\{"error":"webhook_bad_signature",']



=== TEST 9: "Bearer " before the token is accepted
--- config
    location = /webhook {
        livekit_webhook on;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /webhook\n$::Body"
--- more_headers eval
LiveKitToken::webhook_headers($::Body, bearer => 1)
--- error_code: 204



=== TEST 10: a body buffered to a temporary file is verified from disk and passed on unchanged
--- config
    location = /webhook {
        livekit_webhook on;
        client_body_in_file_only clean;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /webhook\n$::Body"
--- more_headers eval
LiveKitToken::webhook_headers($::Body)
--- error_code: 204
--- access_log eval
"app got [$::Body]"



=== TEST 11: a large body (over client_body_buffer_size) verifies and arrives whole
--- config
    location = /webhook {
        livekit_webhook on;
        client_body_buffer_size 1k;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
my $big = '{"event":"participant_joined","id":"EV_big","participant":{"metadata":"' . ("x" x 20000) . '"}}';
$::Big = $big;
"POST /webhook\n$big"
--- more_headers eval
LiveKitToken::webhook_headers($::Big)
--- error_code: 204
--- access_log eval
"app got [$::Big] event="



=== TEST 12: a room name with a control character does not reach the variable
--- config
    location = /webhook {
        livekit_webhook on;
        access_log logs/access.log front;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
$::Evil = '{"event":"room_started","id":"EV_1","room":{"name":"a\r\nX-Injected: yes"}}';
"POST /webhook\n$::Evil"
--- more_headers eval
LiveKitToken::webhook_headers($::Evil)
--- error_code: 204
--- access_log
front event=room_started id=EV_1 room=
--- no_access_log
room=a



=== TEST 13: the status page counts verified webhooks and each refusal by code
--- config
    location = /webhook {
        livekit_webhook on;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
    location = /status {
        livekit_token_status;
    }
--- request eval
["POST /webhook\n$::Body", "POST /webhook\n$::Body", "GET /status?format=prometheus"]
--- more_headers eval
[LiveKitToken::webhook_headers($::Body), "Content-Type: application/webhook+json", ""]
--- error_code eval
[204, 401, 200]
--- response_body_like eval
['^$', 'webhook_unsigned', '(?s)livekit_token_webhooks_verified_total 1\n.*livekit_token_errors_total\{code="webhook_unsigned"\} 1\n']



=== TEST 14: livekit_webhook needs a key
--- http_config
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /webhook {
        livekit_webhook on;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- must_die
--- error_log
"livekit_webhook" has no key



=== TEST 15: livekit_token_upstream_check needs livekit-server's http:// address
--- config
    location = /token {
        livekit_token on;
        livekit_token_upstream_check https://127.0.0.1:7880;
    }
--- must_die
--- error_log
"livekit_token_upstream_check" needs an http:// URL of livekit-server



=== TEST 16: livekit_token_upstream_check refuses a bad interval
--- config
    location = /token {
        livekit_token on;
        livekit_token_upstream_check http://127.0.0.1:7880 never;
    }
--- must_die
--- error_log
invalid interval "never" in "livekit_token_upstream_check"



=== TEST 17: with nothing listening, the status page says unreachable (e2e/webhook.sh checks the real livekit-server)
--- config
    livekit_token_upstream_check http://127.0.0.1:1 1s;
    location = /token {
        livekit_token on;
    }
    location = /status {
        livekit_token_status;
    }
    # a few seconds for the probe to run: limit_rate counts the header
    # too (about 170 bytes), so 50 bytes a second is 3 to 4 s
    location = /slow {
        limit_rate 50;
        return 200 "....";
    }
--- request eval
["GET /slow", "GET /status", "GET /status?format=prometheus"]
--- timeout: 10
--- error_code eval
[200, 200, 200]
--- response_body_like eval
['^\.\.\.\.$', '"upstream":\{"state":"unreachable","age":\d+\}', 'livekit_token_upstream_check\{state="unreachable"\} 1\n']



=== TEST 18: a signed webhook whose exp is the largest int64 is valid (the leeway does not overflow the client's number)
--- config
    location = /webhook {
        livekit_webhook on;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /webhook\n$::Body"
--- more_headers eval
LiveKitToken::webhook_headers($::Body, exp_at => 9223372036854775807)
--- error_code: 204
--- response_body:



=== TEST 19: an unsigned sender gets 401 webhook_unsigned before its body arrives (Content-Length 100000, 9 bytes sent, the rest never)
--- config
    lingering_timeout 1s;
    location = /webhook {
        livekit_webhook on;
        client_body_timeout 30s;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- raw_request eval
"POST /webhook HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/webhook+json\r
Content-Length: 100000\r
\r
{\"event\":"
--- timeout: 4
--- error_code: 401
--- response_body
{"error":"webhook_unsigned","message":"a webhook needs the Authorization header livekit-server signs"}
--- no_access_log
app got



=== TEST 20: a forged signature gets 401 webhook_bad_signature before its body arrives
--- config
    lingering_timeout 1s;
    location = /webhook {
        livekit_webhook on;
        client_body_timeout 30s;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- raw_request eval
my $h = LiveKitToken::webhook_headers($::Body, secret => 'forged-secret-0123456789abcdefghijklmno') =~ s/\n/\r\n/gr;
"POST /webhook HTTP/1.1\r
Host: localhost\r
Connection: close\r
$h\r
Content-Length: 100000\r
\r
{\"event\":"
--- timeout: 4
--- error_code: 401
--- response_body_like chomp
^\{"error":"webhook_bad_signature",
--- no_access_log
app got



=== TEST 21: an expired token gets 401 webhook_expired before its body arrives
--- config
    lingering_timeout 1s;
    location = /webhook {
        livekit_webhook on;
        client_body_timeout 30s;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- raw_request eval
my $h = LiveKitToken::webhook_headers($::Body, nbf => -400, exp => -90) =~ s/\n/\r\n/gr;
"POST /webhook HTTP/1.1\r
Host: localhost\r
Connection: close\r
$h\r
Content-Length: 100000\r
\r
{\"event\":"
--- timeout: 4
--- error_code: 401
--- response_body_like chomp
^\{"error":"webhook_expired",



=== TEST 22: a chunked body over client_max_body_size: unsigned or forged gets 401 (its body unread), a signed one 413
--- config
    location = /webhook {
        livekit_webhook on;
        client_max_body_size 1k;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
$::Huge = '{"event":"participant_joined","id":"EV_huge","participant":{"metadata":"' . ("x" x 4000) . '"}}';
my $chunked = sprintf("%x\r\n%s\r\n0\r\n\r\n", length $::Huge, $::Huge);
["POST /webhook\n$chunked", "POST /webhook\n$chunked", "POST /webhook\n$chunked"]
--- more_headers eval
[
"Content-Type: application/webhook+json\nTransfer-Encoding: chunked",
LiveKitToken::webhook_headers($::Huge, secret => 'forged-secret-0123456789abcdefghijklmno') . "\nTransfer-Encoding: chunked",
LiveKitToken::webhook_headers($::Huge) . "\nTransfer-Encoding: chunked",
]
--- error_code eval
[401, 401, 413]
--- response_body_like eval
['^\{"error":"webhook_unsigned",', '^\{"error":"webhook_bad_signature",', '413 Request Entity Too Large']
--- no_access_log
app got



=== TEST 23: an unsigned request mirrored to a livekit_webhook location is verified like any other and never reaches the application
--- config
    location = /front {
        mirror /webhook;
        proxy_pass http://127.0.0.1:$server_port/sink;
    }
    location = /webhook {
        livekit_webhook on;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /front\n$::Body"
--- more_headers
Content-Type: application/webhook+json
--- error_code: 204
--- wait: 0.5
--- error_log
livekit token: 401 webhook_unsigned
--- no_access_log
app got



=== TEST 24: a signed webhook mirrored to a livekit_webhook location verifies with the parent's headers and body and reaches the application
--- config
    location = /front {
        mirror /webhook;
        proxy_pass http://127.0.0.1:$server_port/sink;
    }
    location = /webhook {
        livekit_webhook on;
        log_subrequest on;
        access_log logs/access.log front;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request eval
"POST /front\n$::Body"
--- more_headers eval
LiveKitToken::webhook_headers($::Body)
--- error_code: 204
--- wait: 0.5
--- access_log eval
[
"app got [$::Body]",
"front event=room_started id=EV_abc room=consult-42",
]



=== TEST 25: an auth_request subrequest to a livekit_webhook location is verified: an unsigned request gets 401
--- config
    location = /front {
        auth_request /webhook;
        proxy_pass http://127.0.0.1:$server_port/sink;
    }
    location = /webhook {
        livekit_webhook on;
        proxy_pass http://127.0.0.1:$server_port/app;
    }
--- request
GET /front
--- error_code: 401
--- error_log
livekit token: 401 webhook_unsigned
--- no_access_log
app got
