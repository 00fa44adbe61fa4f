# The key file is read as livekit-server reads it: YAML, decoded into
# key -> secret strings by gopkg.in/yaml.v3 (livekit-server v1.13.5).  Each
# block signs with a key from a file written the way operators write them,
# and the token is verified with the secret livekit-server would use; key
# names that are not safe as a label or a JSON string stop `nginx -t`.
# t/keys/run.sh compares a larger corpus with livekit-server's own loader.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

# the secrets as livekit-server decodes them from the files below
known_secret(APIc   => 'c-secret-0123456789abcdefghijklmnopqrst');
known_secret(APIbom => 'bom-secret-0123456789abcdefghijklmnopqr');
known_secret(APIdq  => 'dq-secret-0123456789abcdefghijklmnopqrs0');
known_secret(APIsq  => "sq-secret-0123456789abcdefghijklmn'01");
known_secret(APIcr  => 'cr-secret-0123456789abcdefghijklmnopqrs');
known_secret(APIb   => 'anchored-secret-0123456789abcdefghijklm');
known_secret(APInum => '0123');

# user_files are then written with mode 0644, as most key files are
umask(022);

no_long_string();
no_shuffle();

run_tests();

__DATA__

=== TEST 1: a comment after the secret is not part of it
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_api_key APIc;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files
>>> keys.yaml
# LiveKit API keys
APIc: c-secret-0123456789abcdefghijklmnopqrst # rotated 2026-11
--- request
GET /token?room=r&participant=p
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "r"
participant: "p"
header: {"alg":"HS256","typ":"JWT"}
iss: APIc
ttl: 21600
sub: "p"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"r","roomJoin":true}
--- no_error_log
c-secret-0123456789



=== TEST 2: a UTF-8 byte order mark is not part of the first key name
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files eval
">>> keys.yaml\n\xEF\xBB\xBFAPIbom: bom-secret-0123456789abcdefghijklmnopqr\n"
--- request
GET /token?room=r&participant=p
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "r"
participant: "p"
header: {"alg":"HS256","typ":"JWT"}
iss: APIbom
ttl: 21600
sub: "p"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"r","roomJoin":true}
--- no_error_log
bom-secret-0123456789



=== TEST 3: escapes in a double-quoted secret are decoded
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files
>>> keys.yaml
APIdq: "dq-secret-\u0030123456789abcdefghijklmnopqrs\x30"
--- request
GET /token?room=r&participant=p
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "r"
participant: "p"
header: {"alg":"HS256","typ":"JWT"}
iss: APIdq
ttl: 21600
sub: "p"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"r","roomJoin":true}
--- no_error_log
dq-secret-



=== TEST 4: a doubled quote in a single-quoted secret is one quote
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files
>>> keys.yaml
'APIsq': 'sq-secret-0123456789abcdefghijklmn''01'
--- request
GET /token?room=r&participant=p
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "r"
participant: "p"
header: {"alg":"HS256","typ":"JWT"}
iss: APIsq
ttl: 21600
sub: "p"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"r","roomJoin":true}
--- no_error_log
sq-secret-



=== TEST 5: CRLF line ends and a comment line between keys change nothing
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_api_key APIcr;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files eval
">>> keys.yaml\nAPIold: old-secret-0123456789abcdefghijklmnopq\r\n# current\r\nAPIcr: cr-secret-0123456789abcdefghijklmnopqrs\r\n"
--- request
GET /token?room=r&participant=p
--- error_code: 200
--- response_body_filters eval
sub { my $c = LiveKitToken::claims(@_); ($c =~ /^(iss: .*)$/m)[0] // $c }
--- response_body chomp
iss: APIcr



=== TEST 6: an alias signs with the anchored secret
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_api_key APIb;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files
>>> keys.yaml
APIa: &current anchored-secret-0123456789abcdefghijklm
APIb: *current
--- request
GET /token?room=r&participant=p
--- error_code: 200
--- response_body_filters eval
sub { my $c = LiveKitToken::claims(@_); ($c =~ /^(iss: .*)$/m)[0] // $c }
--- response_body chomp
iss: APIb



=== TEST 7: a secret that looks like a YAML integer keeps its text, as livekit-server reads it
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files
>>> keys.yaml
APInum: 0123
--- request
GET /token?room=r&participant=p
--- error_code: 200
--- response_body_filters eval
sub { my $c = LiveKitToken::claims(@_); ($c =~ /^(iss: .*)$/m)[0] // $c }
--- response_body chomp
iss: APInum
--- error_log
the secret of key "APInum" in "



=== TEST 8: a tab in a key name is refused at nginx -t, naming the file and line
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files eval
">>> keys.yaml\nAPIok: ok-secret-0123456789abcdefghijklmnopqrs\nAPI\tx: tab-secret-0123456789abcdefghijklmnop\n"
--- must_die
--- error_log eval
qr{livekit_keys_file: "[^"]*/keys\.yaml" line 2: a key name must be 1 to 128 characters of A-Z a-z 0-9 _ - \. : \@ \+ / =}
--- no_error_log
tab-secret-



=== TEST 9: an escaped tab in a quoted key name is refused too
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files
>>> keys.yaml
"API\tx": tab-secret-0123456789abcdefghijklmnop
--- must_die
--- error_log eval
qr{"[^"]*/keys\.yaml" line 1: a key name must be}
--- no_error_log
tab-secret-



=== TEST 10: a Latin-1 key name is refused at nginx -t, naming the file and line
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files eval
">>> keys.yaml\nAPIok: ok-secret-0123456789abcdefghijklmnopqrs\nAPI\xE9: latin-secret-0123456789abcdefghijklmn\n"
--- must_die
--- error_log eval
qr{livekit_keys_file: "[^"]*/keys\.yaml" line 2 is not valid YAML: invalid trailing UTF-8 octet}
--- no_error_log
latin-secret-



=== TEST 11: a non-ASCII key name in valid UTF-8 is refused as unsafe
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files
>>> keys.yaml
"API\xe9": utf8-secret-0123456789abcdefghijklmno
--- must_die
--- error_log eval
qr{"[^"]*/keys\.yaml" line 1: a key name must be}
--- no_error_log
utf8-secret-



=== TEST 12: quotes and backslashes in a key name are refused
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files
>>> keys.yaml
APIok: ok-secret-0123456789abcdefghijklmnopqrs
'API"\': quote-secret-0123456789abcdefghijklm
--- must_die
--- error_log eval
qr{"[^"]*/keys\.yaml" line 2: a key name must be}
--- no_error_log
quote-secret-



=== TEST 13: a secret that is a mapping is refused, as livekit-server refuses it
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files
>>> keys.yaml
APInest:
  secret: nested-secret-0123456789abcdefghijklm
--- must_die
--- error_log eval
qr{"[^"]*/keys\.yaml" line 2: the secret is not a string}
--- no_error_log
nested-secret-



=== TEST 14: a null secret is refused: livekit-server would keep the key with no secret
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files
>>> keys.yaml
APInull: ~
--- must_die
--- error_log eval
qr{key "APInull" in "[^"]*/keys\.yaml" has an empty secret}



=== TEST 15: a merge key is refused with a clear reason
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files
>>> keys.yaml
<<: {APIm: merged-secret-0123456789abcdefghijklm}
--- must_die
--- error_log eval
qr{"[^"]*/keys\.yaml" line 1: merge keys \(<<\) are not supported}
--- no_error_log
merged-secret-



=== TEST 16: more than 1024 keys are refused
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files eval
">>> keys.yaml\n" . CORE::join("", map { "APIk$_: many-secret-0123456789abcdefghijklmnopq\n" } 1 .. 1025)
--- must_die
--- error_log eval
qr{livekit_keys_file: "[^"]*/keys\.yaml" has more than 1024 keys}
--- no_error_log
many-secret-



=== TEST 17: a value nested 100000 deep is refused quickly, at a depth of 64
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files eval
">>> keys.yaml\nAPIdeep: " . ("[" x 100000) . ("]" x 100000) . "\n"
--- must_die
--- error_log eval
qr{"[^"]*/keys\.yaml" line 1 is nested deeper than 64 levels}



=== TEST 18: a thousand aliases of one anchor stay one secret each, and sign
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_api_key APIb;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files eval
">>> keys.yaml\nAPIb: &s anchored-secret-0123456789abcdefghijklm\n"
. CORE::join("", map { "APIa$_: *s\n" } 1 .. 1000)
--- request
GET /token?room=r&participant=p
--- error_code: 200
--- response_body_filters eval
sub { my $c = LiveKitToken::claims(@_); ($c =~ /^(iss: .*)$/m)[0] // $c }
--- response_body chomp
iss: APIb
--- no_error_log
anchored-secret-



=== TEST 19: a key file others may read warns, as livekit-server would refuse it, and still signs
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files
>>> keys.yaml
APIc: c-secret-0123456789abcdefghijklmnopqrst
--- request
GET /token?room=r&participant=p
--- error_code: 200
--- response_body_filters eval
sub { my $c = LiveKitToken::claims(@_); ($c =~ /^(iss: .*)$/m)[0] // $c }
--- response_body chomp
iss: APIc
--- error_log eval
qr{livekit_keys_file: "[^"]*/keys\.yaml" has mode 0644: livekit-server refuses a key file that gives others any permission}
--- no_error_log
c-secret-0123456789
