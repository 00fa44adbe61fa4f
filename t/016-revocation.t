# livekit_revocation_zone and livekit_revocation_admin: a revocation list in
# shared memory, managed through an admin location, consulted by
# livekit_join_check on every join; kept in a state file so that it
# survives a restart.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

no_long_string();
no_shuffle();

our $HttpConfig = <<'_EOC_';
    livekit_keys_file ../html/keys.yaml;
    livekit_revocation_zone  zone=revoked:1m  state=html/revocations.json  max_ttl=2h;
_EOC_

our $Config = <<'_EOC_';
    location ~ ^/rtc {
        livekit_join_check  rtc;
        proxy_pass  http://127.0.0.1:$server_port/livekit-server;
    }
    location = /livekit-server {
        return 200 "livekit-server\n";
    }
    location = /revoke {
        allow  127.0.0.1;
        deny   all;
        livekit_revocation_admin  on;
    }
    location = /state {
        default_type  application/json;
        alias  html/revocations.json;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value("http_config", $main::HttpConfig)
        unless defined $block->http_config;
    $block->set_value("config", $main::Config)
        unless defined $block->config;
    LiveKitToken::default_keys($block);
});

sub tok { "GET /rtc?access_token=" . LiveKitToken::join_token(@_) }

run_tests();

__DATA__

=== TEST 1: a revoked token id is refused with 403 token_revoked; another token passes
--- request eval
[main::tok(jti => 'leaked-1'),
 "POST /revoke\n{\"token_id\":\"leaked-1\"}",
 main::tok(jti => 'leaked-1'),
 main::tok(jti => 'fresh-2')]
--- error_code eval
[200, 201, 403, 200]
--- response_body_like eval
[qr/^livekit-server$/,
 qr/^\{"revoked":\{"token_id":"leaked-1","created":(\d+),"expires":\d+\},"saved":true\}$/,
 qr/^\{"error":"token_revoked","message":"this token, its participant or its room has been revoked: ask for a new invitation"\}$/,
 qr/^livekit-server$/]



=== TEST 2: a revocation is kept for max_ttl, the longest token the join check lets through
--- request
POST /revoke
{"identity":"jane"}
--- error_code: 201
--- response_body_like: ^\{"revoked":\{"identity":"jane","created":(\d+),"expires":(\d+)\},"saved":true\}$
--- response_body_filters eval
sub { my ($c, $e) = $_[0] =~ /"created":(\d+),"expires":(\d+)/; $e - $c }
--- response_body: 7200



=== TEST 3: an identity in one room, an identity everywhere, a whole room
--- request eval
["POST /revoke\n{\"room\":\"consult-1\",\"identity\":\"jane\"}",
 main::tok(sub => 'jane', room => 'consult-1'),
 main::tok(sub => 'jane', room => 'consult-2'),
 main::tok(sub => 'sam', room => 'consult-1'),
 "POST /revoke\n{\"identity\":\"sam\"}",
 main::tok(sub => 'sam', room => 'consult-2'),
 "POST /revoke\n{\"room\":\"consult-3\"}",
 main::tok(sub => 'kim', room => 'consult-3', iat => 0),
 main::tok(sub => 'kim', room => 'consult-4')]
--- error_code eval
[201, 403, 200, 200, 201, 403, 201, 403, 200]



=== TEST 4: every token of a room issued before a time: iat, else nbf, else refused
--- request eval
my $t = time;
["POST /revoke\n{\"room\":\"consult-1\",\"issued_before\":" . ($t - 100) . "}",
 main::tok(nbf => -300),
 main::tok(nbf => -10),
 main::tok(nbf => -10, iat => -300),
 main::tok(nbf => undef, iat => undef),
 main::tok(nbf => -300, room => 'consult-2')]
--- error_code eval
[201, 403, 200, 403, 403, 200]



=== TEST 5: GET lists the revocations, DELETE forgets one, and the join passes again
--- request eval
["POST /revoke\n{\"room\":\"consult-1\",\"identity\":\"jane\"}",
 "POST /revoke\n{\"invitation\":\"inv-7\"}",
 "GET /revoke",
 "DELETE /revoke\n{\"room\":\"consult-1\",\"identity\":\"jane\"}",
 main::tok(),
 "DELETE /revoke\n{\"room\":\"consult-1\",\"identity\":\"jane\"}",
 "GET /revoke"]
--- error_code eval
[201, 201, 200, 200, 200, 404, 200]
--- response_body_like eval
[qr/"revoked"/, qr/"revoked":\{"invitation":"inv-7"/,
 qr/^\{"revocations":\[\{"room":"consult-1","identity":"jane","created":\d+,"expires":\d+\},\{"invitation":"inv-7","created":\d+,"expires":\d+\}\],"max_ttl":7200\}$/,
 qr/^\{"deleted":\{"room":"consult-1","identity":"jane"\},"saved":true\}$/,
 qr/^livekit-server$/,
 qr/^\{"error":"revocation_not_found"/,
 qr/^\{"revocations":\[\{"invitation":"inv-7","created":\d+,"expires":\d+\}\],"max_ttl":7200\}$/]



=== TEST 6: every change is written to the state file at once
--- request eval
["POST /revoke\n{\"room\":\"consult-9\",\"issued_before\":1700000000}", "GET /state"]
--- error_code eval
[201, 200]
--- response_body_like eval
[qr/"saved":true/, qr/^\[\{"room":"consult-9","issued_before":1700000000,"created":\d+,"expires":\d+\}\]$/]



=== TEST 7: a new zone reads the state file: valid entries are back, expired and hostile ones are left out
--- user_files eval
my $t = time;
">>> keys.yaml\n" . LiveKitToken::keys_file()
. ">>> revocations.json\n"
. "[{\"token_id\":\"old-leak\",\"created\":" . ($t - 60) . ",\"expires\":" . ($t + 3600) . "},"
. "{\"identity\":\"expired\",\"created\":" . ($t - 9000) . ",\"expires\":" . ($t - 1) . "},"
. "{\"identity\":\"x\",\"room\":\"y\",\"token_id\":\"z\",\"created\":$t,\"expires\":" . ($t + 60) . "},"
. "{\"identity\":\"" . ("a" x 300) . "\",\"created\":$t,\"expires\":" . ($t + 60) . "},"
. "{\"identity\":\"bad\\u0001\",\"created\":$t,\"expires\":" . ($t + 60) . "},"
. "{\"identity\":\"nocreated\",\"expires\":" . ($t + 60) . "},"
. "{\"identity\":\"forever\",\"created\":$t,\"expires\":4000000000},"
. "\"junk\", 42, null]\n"
--- request eval
["GET /revoke", main::tok(jti => 'old-leak')]
--- error_code eval
[200, 403]
--- response_body_like eval
[qr/^\{"revocations":\[\{"token_id":"old-leak","created":\d+,"expires":\d+\},\{"identity":"forever","created":(\d+),"expires":\d+\}\],"max_ttl":7200\}$/,
 qr/token_revoked/]



=== TEST 8: an entry read from the file is kept no longer than max_ttl from its creation
--- user_files eval
my $t = time;
">>> keys.yaml\n" . LiveKitToken::keys_file()
. ">>> revocations.json\n[{\"identity\":\"forever\",\"created\":$t,\"expires\":4000000000}]\n"
--- request
GET /revoke
--- response_body_filters eval
sub { my ($c, $e) = $_[0] =~ /"created":(\d+),"expires":(\d+)/; $e - $c }
--- response_body: 7200



=== TEST 9: a state file that is not a JSON array is logged, and nginx starts with an empty list
--- user_files eval
">>> keys.yaml\n" . LiveKitToken::keys_file() . ">>> revocations.json\n{\"not\":\"an array\"\n"
--- request eval
["GET /revoke", main::tok()]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/^\{"revocations":\[\],"max_ttl":7200\}$/, qr/^livekit-server$/]



=== TEST 10: what is not one revocation is refused with a JSON error saying what to fix
--- request eval
["POST /revoke\nnot json",
 "POST /revoke\n[]",
 "POST /revoke\n{}",
 "POST /revoke\n{\"identiy\":\"jane\"}",
 "POST /revoke\n{\"token_id\":\"t\",\"room\":\"r\"}",
 "POST /revoke\n{\"identity\":\"\"}",
 "POST /revoke\n{\"identity\":\"" . ("a" x 257) . "\"}",
 "POST /revoke\n{\"identity\":\"a\\u0001b\"}",
 "POST /revoke\n{\"identity\":42}",
 "POST /revoke\n{\"room\":\"r\",\"identity\":\"i\",\"issued_before\":5}",
 "POST /revoke\n{\"room\":\"r\",\"issued_before\":-5}",
 "POST /revoke\n{\"room\":\"r\",\"issued_before\":99999999999999}",
 "POST /revoke\n{\"room\":\"r\",\"remove\":\"yes\"}",
 "POST /revoke\n{\"room\":\"r\",\"remove\":true}",
 "POST /revoke\n{\"identity\":\"a\",\"identity\":\"b\"}",
 "PUT /revoke\n{}"]
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 400, 405]
--- response_body_like eval
[qr/"invalid_json"/, qr/"invalid_revocation","message":"a revocation is a JSON object"/,
 qr/"message":"say one of: token_id, invitation, used_invitation, identity, room, room with identity"/,
 qr/"message":"unknown field/, qr/"message":"say one of/,
 qr/"message":"token_id, identity, room and invitation are strings of 1 to 256 bytes"/,
 qr/strings of 1 to 256 bytes/, qr/"message":"token_id, identity, room and invitation are UTF-8 text without control characters"/,
 qr/strings of 1 to 256 bytes/, qr/issued_before is a time/, qr/issued_before is a time/, qr/issued_before is a time/,
 qr/"remove\\" is true or false/, qr/"remove\\" needs room and identity/, qr/"invalid_json"/,
 qr/"method_not_allowed"/]



=== TEST 11: a body larger than livekit_token_body_max_size is 413 before it is read
--- config
    location = /revoke {
        livekit_token_body_max_size  64;
        livekit_revocation_admin  on;
    }
--- request eval
"POST /revoke\n{\"identity\":\"" . ("a" x 100) . "\"}"
--- error_code: 413
--- response_body_like: "error":"body_too_large"



=== TEST 12: a full zone says so with 503 revocations_full; what is in it still holds
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_revocation_zone  zone=tiny:32k;
--- request eval
[(map { "POST /revoke\n{\"token_id\":\"t-$_-" . ("x" x 200) . "\"}" } 1 .. 150),
 main::tok(jti => "t-1-" . ("x" x 200))]
--- error_code eval
[(201) x 48, (503) x 102, 403]
--- response_body_like eval
[(qr/"revoked"/) x 48, (qr/"revocations_full","message":"the revocation zone is full/) x 102, qr/token_revoked/]



=== TEST 13: with a revocation list, a token valid for longer than max_ttl is refused
--- request eval
[main::tok(exp => 7200 + 30), main::tok(exp => 7200 + 3600)]
--- error_code eval
[200, 401]
--- response_body_like eval
[qr/^livekit-server$/, qr/"token_too_long_lived"/]



=== TEST 14: a token location may not sign for longer than max_ttl
--- config
    location = /token {
        livekit_token  on;
        livekit_url  ws://127.0.0.1:7880;
        livekit_token_ttl  3h;
    }
--- must_die
--- error_log
"livekit_token_ttl" 10800 is longer than "livekit_revocation_zone" max_ttl=7200



=== TEST 15: livekit_revocation_admin needs the zone; the zone's parameters are checked
--- http_config
    livekit_keys_file ../html/keys.yaml;
--- config
    location = /revoke {
        livekit_revocation_admin  on;
    }
--- must_die
--- error_log
"livekit_revocation_admin" needs "livekit_revocation_zone" in http {}



=== TEST 16: a zone smaller than 8 pages is refused at start
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_revocation_zone  zone=r:4k;
--- config
--- must_die
--- error_log
invalid parameter "zone=r:4k" in "livekit_revocation_zone"



=== TEST 17: "remove" asks livekit-server's RoomService to remove the participant, with an admin token minted here
--- log_level: info
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_api_key devkey;
    livekit_revocation_zone  zone=revoked:1m;
    log_format  twirp  '$request_method $uri $http_content_type auth=$http_authorization body=$request_body';
--- config
    location = /revoke {
        livekit_revocation_admin   on;
        livekit_revocation_remove  /_livekit/remove;
    }
    location = /_livekit/remove {
        internal;
        proxy_method      POST;
        proxy_set_header  Authorization  "Bearer $livekit_remove_token";
        proxy_set_header  Content-Type   application/json;
        proxy_set_body    $livekit_remove_body;
        proxy_pass        http://127.0.0.1:$server_port/twirp/livekit.RoomService/RemoveParticipant;
    }
    location = /twirp/livekit.RoomService/RemoveParticipant {
        access_log  logs/access.log  twirp;
        proxy_pass  http://127.0.0.1:$server_port/ok;
    }
    location = /ok {
        access_log  off;
        return 200 "{}";
    }
--- request
POST /revoke
{"room":"consult-1","identity":"jane","remove":true}
--- error_code: 201
--- response_body_like: ^\{"revoked":\{"room":"consult-1","identity":"jane","created":\d+,"expires":\d+\},"saved":true,"removed":"yes","livekit_status":200\}$
--- access_log eval
qr{^POST /twirp/livekit.RoomService/RemoveParticipant application/json auth=Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\.[\w-]+\.[\w-]+ body=\{\\x22room\\x22:\\x22consult-1\\x22,\\x22identity\\x22:\\x22jane\\x22\}$}



=== TEST 18: a participant livekit-server does not know is "not_connected"; a dead livekit-server is "failed"; the revocation stands
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_api_key devkey;
    livekit_revocation_zone  zone=revoked:1m;
--- config
    location = /revoke {
        livekit_revocation_admin   on;
        livekit_revocation_remove  /_livekit/remove;
    }
    location = /revoke2 {
        livekit_revocation_admin   on;
        livekit_revocation_remove  /_livekit/dead;
    }
    location = /_livekit/remove {
        internal;
        return 404 '{"code":"not_found","msg":"participant not found"}';
    }
    location = /_livekit/dead {
        internal;
        proxy_connect_timeout  1s;
        proxy_pass  http://127.0.0.1:1/;
    }
    location ~ ^/rtc {
        livekit_join_check  rtc;
        return 200;
    }
--- request eval
["POST /revoke\n{\"room\":\"consult-1\",\"identity\":\"jane\",\"remove\":true}",
 "POST /revoke2\n{\"room\":\"consult-1\",\"identity\":\"sam\",\"remove\":true}",
 "GET /revoke"]
--- error_code eval
[201, 201, 200]
--- response_body_like eval
[qr/"removed":"not_connected","livekit_status":404\}$/, qr/"removed":"failed","livekit_status":502\}$/,
 qr/"identity":"jane".*"identity":"sam"/]



=== TEST 19: a revoked invitation refuses every token minted from it ("inv" claim); tokens of other invitations and tokens without one pass
--- request eval
[main::tok(extra => { inv => 'inv-42' }),
 "POST /revoke\n{\"invitation\":\"inv-42\"}",
 main::tok(extra => { inv => 'inv-42' }, jti => 'tok-2', sub => 'sam'),
 main::tok(extra => { inv => 'inv-43' }),
 main::tok()]
--- error_code eval
[200, 201, 403, 200, 200]
--- response_body_like eval
[qr/^livekit-server$/,
 qr/^\{"revoked":\{"invitation":"inv-42","created":\d+,"expires":\d+\},"saved":true\}$/,
 qr/^\{"error":"token_revoked","message":"this token, its participant or its room has been revoked: ask for a new invitation"\}$/,
 qr/^livekit-server$/,
 qr/^livekit-server$/]
--- no_error_log
[error]
inv-42
