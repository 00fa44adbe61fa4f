# livekit_token_status: counters aggregated in shared memory, and the state
# of the key source, as JSON or in the Prometheus text format.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

no_long_string();
no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("user_files", ">>> keys.yaml\n" . keys_file());
    if (!defined $block->http_config) {
        $block->set_value("http_config",
            "livekit_keys_file ../html/keys.yaml;\n"
            . "livekit_api_key devkey;\n"
            . "livekit_url ws://127.0.0.1:7880;\n");
    }
});

run_tests();

__DATA__

=== TEST 1: the status counts tokens by contract and errors by code
--- config
    location = /token {
        livekit_token on;
    }
    location = /status {
        livekit_token_status;
    }
--- request eval
[
    "GET /token?room=r&participant=a",
    "GET /token?room=r&participant=b",
    "GET /token?room=r",
    "POST /token\n{\"room_name\":\"r\",\"participant_identity\":\"c\"}",
    "DELETE /token",
    "GET /status",
]
--- more_headers
Content-Type: application/json
--- error_code eval
[200, 200, 400, 201, 405, 200]
--- response_body_like eval
[
    qr/"token":"eyJ/,
    qr/"token":"eyJ/,
    qr/"missing_identity"/,
    qr/"participant_token":"eyJ/,
    qr/"method_not_allowed"/,
    qr/^\{"tokens":\{"get":2,"post":1\},"webhooks":\{"verified":0\},"joins":\{"verified":0\},"errors":\{"missing_room":0,"missing_identity":1,.*"method_not_allowed":1,.*"keys":\{"source":"file","state":"ready","key":"devkey","age":\d+\}\}$/,
]
--- no_error_log
[error]
dev-secret



=== TEST 2: the Prometheus text format on ?format=prometheus
--- config
    location = /token {
        livekit_token on;
    }
    location = /metrics {
        livekit_token_status;
    }
--- request eval
[
    "GET /token?room=r&participant=a",
    "GET /token?room=r&participant=%FF",
    "GET /metrics?format=prometheus",
]
--- error_code eval
[200, 400, 200]
--- response_body_like eval
[
    qr/"token"/,
    qr/"invalid_utf8"/,
    qr/# TYPE livekit_token_issued_total counter\nlivekit_token_issued_total\{contract="get"\} 1\nlivekit_token_issued_total\{contract="post"\} 0\n.*livekit_token_errors_total\{code="invalid_utf8"\} 1\n.*livekit_token_key_info\{key="devkey",source="file",state="ready"\} 1\n/s,
]



=== TEST 3: Accept: text/plain asks for the Prometheus format too
--- config
    location = /metrics {
        livekit_token_status;
    }
--- request
GET /metrics
--- more_headers
Accept: text/plain;version=0.0.4
--- error_code: 200
--- response_headers_like
Content-Type: text/plain; version=0\.0\.4; charset=utf-8
--- response_body_like chomp
^# HELP livekit_token_issued_total



=== TEST 4: a status location without any key source says so
--- http_config
--- config
    location = /status {
        livekit_token_status;
    }
--- request
GET /status
--- error_code: 200
--- response_body_like chomp
"keys":\{"source":"none","state":"none","key":"","age":-1\}



=== TEST 5: livekit_token_status twice in a location is an error
--- config
    location = /status {
        livekit_token_status;
        livekit_token_status;
    }
--- must_die
--- error_log
"livekit_token_status" directive is duplicate
