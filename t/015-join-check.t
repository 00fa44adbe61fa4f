# livekit_join_check: the token livekit-server would read is checked at the
# edge, before any connection to it.  "livekit-server" here is a location
# of the same server that says what it was asked; a refused join never
# reaches it.  The variables of the verified token go to a header (add_header
# ... always, so refusals show them too) and to the access log.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

no_long_string();
no_shuffle();

our $Upstream = <<'_EOC_';
    location = /livekit-server {
        return 200 "livekit-server: $http_x_orig\n";
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    LiveKitToken::default_keys($block);
    if (!defined $block->config) {
        $block->set_value("config", <<"_EOC_");
    location ~ ^/rtc(/v1)?(/validate)?\$ {
        livekit_join_check  rtc;
        add_header  X-Join  "\$livekit_join \$livekit_identity \$livekit_room \$livekit_key \$livekit_token_id"  always;
        proxy_set_header  X-Orig  \$uri;
        proxy_pass  http://127.0.0.1:\$server_port/livekit-server;
    }
    location = /agent {
        livekit_join_check  agent;
        add_header  X-Join  "\$livekit_join \$livekit_identity"  always;
        proxy_set_header  X-Orig  \$uri;
        proxy_pass  http://127.0.0.1:\$server_port/livekit-server;
    }
$main::Upstream
_EOC_
    }
});

run_tests();

__DATA__

=== TEST 1: a valid token in the query joins, and the variables name it
--- request eval
"GET /rtc?access_token=" . LiveKitToken::join_token() . "&auto_subscribe=1&sdk=js&protocol=16"
--- error_code: 200
--- response_headers
X-Join: ok jane consult-1 devkey tok-1
--- response_body
livekit-server: /rtc



=== TEST 2: a valid token in the Authorization header joins, on each signalling path
--- request eval
["GET /rtc", "GET /rtc/v1", "GET /rtc/validate", "GET /rtc/v1/validate"]
--- more_headers eval
my $h = "Authorization: Bearer " . LiveKitToken::join_token(sub => 'sam');
[$h, $h, $h, $h]
--- error_code eval
[200, 200, 200, 200]
--- response_body eval
["livekit-server: /rtc\n", "livekit-server: /rtc/v1\n",
 "livekit-server: /rtc/validate\n", "livekit-server: /rtc/v1/validate\n"]



=== TEST 3: no token is 401 token_missing, and livekit-server never sees it
--- request
GET /rtc?room=consult-1
--- error_code: 401
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_headers_like
X-Join: ^token_missing +$
--- response_body
{"error":"token_missing","message":"a join needs a token: \"Authorization: Bearer <token>\" or ?access_token=<token>"}
--- error_log
livekit token: 401 token_missing, client: 127.0.0.1



=== TEST 4: a forged signature is 401 token_bad_signature; the names stay empty
--- request eval
"GET /rtc?access_token=" . LiveKitToken::join_token(secret => 'not-the-secret-0123456789abcdefghijkl')
--- error_code: 401
--- response_headers_like
X-Join: ^token_bad_signature +$
--- response_body_like: "error":"token_bad_signature"



=== TEST 5: a key the server does not hold is 401 token_unknown_key; any key of the file is accepted
--- request eval
["GET /rtc?access_token=" . LiveKitToken::join_token(key => 'stranger', secret => 'stranger-secret-0123456789abcdefghijk'),
 "GET /rtc?access_token=" . LiveKitToken::join_token(key => 'otherkey')]
--- error_code eval
[401, 200]
--- response_body_like eval
[qr/"error":"token_unknown_key"/, qr/^livekit-server: \/rtc$/]



=== TEST 6: exp is required and checked with livekit-server's one-minute leeway
--- request eval
["GET /rtc?access_token=" . LiveKitToken::join_token(exp => undef),
 "GET /rtc?access_token=" . LiveKitToken::join_token(exp => -120),
 "GET /rtc?access_token=" . LiveKitToken::join_token(exp => -30)]
--- error_code eval
[401, 401, 200]
--- response_body_like eval
[qr/"error":"token_expired"/, qr/"error":"token_expired"/, qr/^livekit-server/]



=== TEST 7: nbf and iat in the future are 401 token_not_yet_valid, within the leeway they pass
--- request eval
["GET /rtc?access_token=" . LiveKitToken::join_token(nbf => 300),
 "GET /rtc?access_token=" . LiveKitToken::join_token(iat => 300),
 "GET /rtc?access_token=" . LiveKitToken::join_token(nbf => 30, iat => 30),
 "GET /rtc?access_token=" . LiveKitToken::join_token(nbf => undef)]
--- error_code eval
[401, 401, 200, 200]
--- response_body_like eval
[qr/"error":"token_not_yet_valid"/, qr/"error":"token_not_yet_valid"/,
 qr/^livekit-server/, qr/^livekit-server/]



=== TEST 8: a times claim that is not a whole number is refused, never read as zero
--- request eval
["GET /rtc?access_token=" . LiveKitToken::join_token(nbf => undef, extra => { nbf => "0" }),
 "GET /rtc?access_token=" . LiveKitToken::join_token(exp => undef, extra => { exp => 9e18 }),
 "GET /rtc?access_token=" . LiveKitToken::join_token(exp => undef, extra => { exp => "9999999999" })]
--- error_code eval
[401, 401, 401]
--- response_body_like eval
[qr/"error":"token_malformed"/, qr/"error":"token_expired"/, qr/"error":"token_expired"/]



=== TEST 9: an exp near the largest integer is a valid far future, with no overflow
--- request eval
"GET /rtc?access_token=" . LiveKitToken::join_token(exp => undef, extra => { exp => 9223372036854775807 })
--- error_code: 200
--- response_body
livekit-server: /rtc



=== TEST 10: /rtc needs video.roomJoin, a room and an identity: 403 join_not_allowed
--- request eval
["GET /rtc?access_token=" . LiveKitToken::join_token(video => { room => 'consult-1' }),
 "GET /rtc?access_token=" . LiveKitToken::join_token(video => { roomJoin => JSON::PP::true() }),
 "GET /rtc?access_token=" . LiveKitToken::join_token(video => { roomJoin => JSON::PP::true(), room => '' }),
 "GET /rtc?access_token=" . LiveKitToken::join_token(video => { roomJoin => 'true', room => 'consult-1' }),
 "GET /rtc?access_token=" . LiveKitToken::join_token(sub => undef, jti => undef),
 "GET /rtc?access_token=" . LiveKitToken::join_token(video => { roomAdmin => JSON::PP::true(), room => 'consult-1' })]
--- error_code eval
[403, 403, 403, 403, 403, 403]
--- response_headers_like eval
["X-Join: ^join_not_allowed jane consult-1 devkey tok-1\$", "X-Join: ^join_not_allowed jane  devkey tok-1\$",
 "X-Join: ^join_not_allowed jane  devkey tok-1\$", "X-Join: ^join_not_allowed jane consult-1 devkey tok-1\$",
 "X-Join: ^join_not_allowed  consult-1 devkey \$", "X-Join: ^join_not_allowed jane consult-1 devkey tok-1\$"]
--- response_body_like eval
[(qr/"error":"join_not_allowed","message":"a join token needs the video grants roomJoin and room, and an identity"/) x 6]



=== TEST 11: as livekit-server, a token without sub takes its jti as the identity
--- request eval
"GET /rtc?access_token=" . LiveKitToken::join_token(sub => undef, jti => 'only-jti')
--- error_code: 200
--- response_headers
X-Join: ok only-jti consult-1 devkey only-jti



=== TEST 12: /agent needs the video grant agent; a join token is 403 there
--- request eval
["GET /agent", "GET /agent"]
--- more_headers eval
["Authorization: Bearer " . LiveKitToken::join_token(sub => 'worker', video => { agent => JSON::PP::true() }),
 "Authorization: Bearer " . LiveKitToken::join_token()]
--- error_code eval
[200, 403]
--- response_body_like eval
[qr/^livekit-server: \/agent$/, qr/"message":"an agent worker's token needs the video grant agent"/]



=== TEST 13: two different tokens (header and query) are 401 token_ambiguous; the same one twice passes
--- request eval
my $t = LiveKitToken::join_token();
["GET /rtc?access_token=" . LiveKitToken::join_token(sub => 'mallory'), "GET /rtc?access_token=$t"]
--- more_headers eval
my $t = LiveKitToken::join_token();
["Authorization: Bearer $t", "Authorization: Bearer $t"]
--- error_code eval
[401, 200]
--- response_body_like eval
[qr/"error":"token_ambiguous","message":"the request carries two different tokens/, qr/^livekit-server/]



=== TEST 14: the query is read as Go reads it: any second, hidden or unreadable access_token is refused
--- request eval
my $t = LiveKitToken::join_token();
my $m = LiveKitToken::join_token(sub => 'mallory');
["GET /rtc?access_token=$t&access_token=$m",
 "GET /rtc?access_token=$t&access_token=$t",
 "GET /rtc?access_token=$t&access%5Ftoken=$m",
 "GET /rtc?access_token=$t;access_token=$m",
 "GET /rtc?access_token=$t&access_token=%zz",
 "GET /rtc?access_token=$t&acc%zzess_token=$m",
 "GET /rtc?access_token=$t&x=%zz",
 "GET /rtc?ACCESS_TOKEN=$t",
 "GET /rtc?access_token=$t&&x=1&",
 "GET /rtc?access%5ftoken=$t",
 "GET /rtc?access_token=%65$t"]
--- error_code eval
[401, 200, 401, 401, 401, 401, 200, 401, 200, 200, 401]
--- response_body_like eval
[qr/"token_ambiguous"/, qr/^livekit-server/, qr/"token_ambiguous"/, qr/"token_ambiguous"/,
 qr/"token_ambiguous"/, qr/"token_ambiguous"/, qr/^livekit-server/, qr/"token_missing"/,
 qr/^livekit-server/, qr/^livekit-server/, qr/"token_malformed"/]



=== TEST 15: the Authorization header must be "Bearer <token>", exactly as livekit-server reads it
--- request eval
["GET /rtc", "GET /rtc", "GET /rtc"]
--- more_headers eval
my $t = LiveKitToken::join_token();
["Authorization: Basic amFuZTpzZWNyZXQ=", "Authorization: bearer $t", "Authorization: Bearer"]
--- error_code eval
[401, 401, 401]
--- response_body_like eval
[qr/"token_malformed"/, qr/"token_malformed"/, qr/"token_malformed"/]



=== TEST 16: not an HS256 JWT: alg none, HS512, garbage, four parts
--- request eval
my $t = LiveKitToken::join_token();
my ($h, $p, $s) = split /\./, $t;
["GET /rtc?access_token=eyJhbGciOiJub25lIn0.$p.",
 "GET /rtc?access_token=" . LiveKitToken::join_token(alg => 'HS512'),
 "GET /rtc?access_token=not-a-token",
 "GET /rtc?access_token=$t.$s"]
--- error_code eval
[401, 401, 401, 401]
--- response_body_like eval
[(qr/"error":"token_malformed"/) x 4]



=== TEST 17: only GET and HEAD reach the signalling endpoints: Go would read a POST's form body too
--- request eval
"POST /rtc?access_token=" . LiveKitToken::join_token() . "\naccess_token=other"
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- error_code: 405
--- response_body_like: "error":"method_not_allowed"



=== TEST 18: names that are not safe text leave their variable empty; the join itself passes
--- request eval
"GET /rtc?access_token=" . LiveKitToken::join_token(sub => "jane\x01\"evil", room => 'r' x 300, jti => "id\nX-Injected: 1")
--- error_code: 200
--- response_headers_like
X-Join: ^ok   devkey $



=== TEST 19: one access-log line per join names who joined what, and never the token
--- http_config
    livekit_keys_file ../html/keys.yaml;
    log_format  joins  'join identity="$livekit_identity" room="$livekit_room" key=$livekit_key jti=$livekit_token_id result=$livekit_join status=$status';
--- config
    location = /rtc {
        livekit_join_check  rtc;
        access_log  logs/access.log  joins;
        proxy_pass  http://127.0.0.1:$server_port/livekit-server;
    }
    location = /livekit-server {
        access_log  off;
        return 200 "livekit-server\n";
    }
--- request eval
"GET /rtc?access_token=" . LiveKitToken::join_token(sub => 'jane "the editor"')
--- error_code: 200
--- access_log eval
qr/join identity="jane \\x22the editor\\x22" room="consult-1" key=devkey jti=tok-1 result=ok status=200/
--- no_access_log
eyJ
access_token



=== TEST 20: a refused but authentic token is logged by name with the refusal
--- http_config
    livekit_keys_file ../html/keys.yaml;
    log_format  joins  'join identity="$livekit_identity" room="$livekit_room" key=$livekit_key jti=$livekit_token_id result=$livekit_join status=$status';
--- config
    location = /rtc {
        livekit_join_check  rtc;
        access_log  logs/access.log  joins;
        proxy_pass  http://127.0.0.1:$server_port/livekit-server;
    }
--- request eval
"GET /rtc?access_token=" . LiveKitToken::join_token(exp => -3600)
--- error_code: 401
--- access_log
join identity="jane" room="consult-1" key=devkey jti=tok-1 result=token_expired status=401
--- no_access_log
eyJ
access_token



=== TEST 20b: at info, the level of the module's lines, no log line holds the token or the query
--- log_level: info
--- request eval
"GET /rtc?access_token=" . LiveKitToken::join_token(secret => 'x' x 32)
--- error_code: 401
--- error_log
livekit token: 401 token_bad_signature, client: 127.0.0.1
--- no_error_log
eyJ
access_token



=== TEST 21: the check runs before limit_conn, so a refused join is never counted under its identity
--- http_config
    livekit_keys_file ../html/keys.yaml;
    limit_conn_zone  $livekit_identity  zone=per_identity:1m;
--- config
    location = /rtc {
        livekit_join_check  rtc;
        limit_conn  per_identity  1;
        limit_conn_status  429;
        proxy_pass  http://127.0.0.1:$server_port/livekit-server;
    }
    location = /livekit-server {
        return 200 "livekit-server\n";
    }
--- request eval
["GET /rtc?access_token=" . LiveKitToken::join_token(), "GET /rtc", "GET /rtc?access_token=" . LiveKitToken::join_token()]
--- error_code eval
[200, 401, 200]



=== TEST 22: satisfy any with an allow rule does not skip the check
--- config
    location = /rtc {
        satisfy  any;
        allow    127.0.0.1;
        deny     all;
        livekit_join_check  rtc;
        proxy_pass  http://127.0.0.1:$server_port/livekit-server;
    }
    location = /livekit-server {
        return 200 "livekit-server\n";
    }
--- request
GET /rtc
--- error_code: 401



=== TEST 23: the status page counts verified joins and refusals by code
--- config
    location = /rtc {
        livekit_join_check  rtc;
        proxy_pass  http://127.0.0.1:$server_port/livekit-server;
    }
    location = /livekit-server {
        return 200 "livekit-server\n";
    }
    location = /status {
        livekit_token_status;
    }
--- request eval
["GET /rtc?access_token=" . LiveKitToken::join_token(), "GET /rtc", "GET /status"]
--- error_code eval
[200, 401, 200]
--- response_body_like eval
[qr/^livekit-server$/, qr/token_missing/, qr/"joins":\{"verified":1\}.*"token_missing":1,/]



=== TEST 24: livekit_join_check needs a key to verify with
--- http_config
--- config
    location = /rtc {
        livekit_join_check  rtc;
        proxy_pass  http://127.0.0.1:$server_port/livekit-server;
    }
--- must_die
--- error_log
"livekit_join_check" has no key: set "livekit_keys_file"



=== TEST 25: livekit_join_check takes off, rtc or agent
--- config
    location = /rtc {
        livekit_join_check  on;
    }
--- must_die
--- error_log
invalid value "on"
