# Configuration errors stop `nginx -t` / start with a message naming the
# directive, the file or the key -- never a secret.  A short secret only
# warns, as livekit-server does.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';

no_long_string();
no_shuffle();

run_tests();

__DATA__

=== TEST 1: a missing key file names the file
--- http_config
    livekit_keys_file ../html/missing.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;

    }
--- must_die
--- error_log
livekit_keys_file: cannot open "
--- no_error_log
s3cr3t



=== TEST 2: an empty key file is refused
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;

    }
--- user_files
>>> keys.yaml
--- must_die
--- error_log
is empty or not a file
--- no_error_log
s3cr3t



=== TEST 3: a key file with only comments has no keys
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;

    }
--- user_files
>>> keys.yaml
# no keys here


--- must_die
--- error_log
has no keys
--- no_error_log
s3cr3t



=== TEST 4: a line that is not key: secret names its line number and libyaml's reason, not its content
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;

    }
--- user_files
>>> keys.yaml
k1: s3cr3t-0123456789abcdefghijklmnopqrstuvwxyz
s3cr3t-without-a-name
--- must_die
--- error_log
is not valid YAML: could not find expected ':' (while scanning a simple key at line 2)
--- no_error_log
s3cr3t



=== TEST 5: a key with an empty secret is refused
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;

    }
--- user_files
>>> keys.yaml
k1:
--- must_die
--- error_log
key "k1" in "
--- no_error_log
s3cr3t



=== TEST 6: a key that appears twice is refused, naming both lines
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;

    }
--- user_files
>>> keys.yaml
k1: s3cr3t-0123456789abcdefghijklmnopqrstuvwxyz
k1: s3cr3t-zyxwvutsrqponmlkjihgfedcba9876543210
--- must_die
--- error_log
line 2 repeats the key of line 1
--- no_error_log
s3cr3t



=== TEST 7: several keys without livekit_api_key is an error
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;

    }
--- user_files
>>> keys.yaml
k1: s3cr3t-0123456789abcdefghijklmnopqrstuvwxyz
k2: s3cr3t-zyxwvutsrqponmlkjihgfedcba9876543210
--- must_die
--- error_log
has 2 keys: choose the signing key with "livekit_api_key"
--- no_error_log
s3cr3t



=== TEST 8: an unknown livekit_api_key names the key and the file
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
        livekit_api_key nope;
    }
--- user_files
>>> keys.yaml
k1: s3cr3t-0123456789abcdefghijklmnopqrstuvwxyz
k2: s3cr3t-zyxwvutsrqponmlkjihgfedcba9876543210
--- must_die
--- error_log
livekit_api_key "nope" is not in "
--- no_error_log
s3cr3t



=== TEST 9: livekit_token without a key file is an error
--- http_config
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;

    }
--- must_die
--- error_log
"livekit_token" has no key: set "livekit_keys_file"
--- no_error_log
s3cr3t



=== TEST 10: livekit_token without livekit_url is an error
--- http_config
    livekit_keys_file ../html/keys.yaml;
--- config
    location = /token {
        livekit_token on;
        livekit_api_key k1;
    }
--- user_files
>>> keys.yaml
k1: s3cr3t-0123456789abcdefghijklmnopqrstuvwxyz
k2: s3cr3t-zyxwvutsrqponmlkjihgfedcba9876543210
--- must_die
--- error_log
"livekit_token" needs "livekit_url"
--- no_error_log
s3cr3t



=== TEST 11: an unknown grant is named
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
        livekit_api_key k1;
        livekit_token_grants roomJoin canFly;
    }
--- user_files
>>> keys.yaml
k1: s3cr3t-0123456789abcdefghijklmnopqrstuvwxyz
k2: s3cr3t-zyxwvutsrqponmlkjihgfedcba9876543210
--- must_die
--- error_log
unknown grant "canFly"
--- no_error_log
s3cr3t



=== TEST 12: an unknown publish source is named
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
        livekit_api_key k1;
        livekit_token_grants roomJoin canPublish canPublishSources=camera,hologram;
    }
--- user_files
>>> keys.yaml
k1: s3cr3t-0123456789abcdefghijklmnopqrstuvwxyz
k2: s3cr3t-zyxwvutsrqponmlkjihgfedcba9876543210
--- must_die
--- error_log
unknown publish source "hologram"
--- no_error_log
s3cr3t



=== TEST 13: publish sources without canPublish are refused
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
        livekit_api_key k1;
        livekit_token_grants roomJoin canPublishSources=camera;
    }
--- user_files
>>> keys.yaml
k1: s3cr3t-0123456789abcdefghijklmnopqrstuvwxyz
k2: s3cr3t-zyxwvutsrqponmlkjihgfedcba9876543210
--- must_die
--- error_log
without "canPublish"
--- no_error_log
s3cr3t



=== TEST 14: a room pattern that is not a regex is refused
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
        livekit_api_key k1;
        livekit_token_room_pattern "consult-(";
    }
--- user_files
>>> keys.yaml
k1: s3cr3t-0123456789abcdefghijklmnopqrstuvwxyz
k2: s3cr3t-zyxwvutsrqponmlkjihgfedcba9876543210
--- must_die
--- error_log
pcre2_compile() failed
--- no_error_log
s3cr3t



=== TEST 15: a zero TTL is refused
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
        livekit_api_key k1;
        livekit_token_ttl 0;
    }
--- user_files
>>> keys.yaml
k1: s3cr3t-0123456789abcdefghijklmnopqrstuvwxyz
k2: s3cr3t-zyxwvutsrqponmlkjihgfedcba9876543210
--- must_die
--- error_log
"livekit_token_ttl" must be positive
--- no_error_log
s3cr3t



=== TEST 16: an attribute set twice is refused
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
        livekit_api_key k1;
        livekit_token_attribute a 1;
        livekit_token_attribute a 2;
    }
--- user_files
>>> keys.yaml
k1: s3cr3t-0123456789abcdefghijklmnopqrstuvwxyz
k2: s3cr3t-zyxwvutsrqponmlkjihgfedcba9876543210
--- must_die
--- error_log
duplicate attribute "a"
--- no_error_log
s3cr3t



=== TEST 17: a secret shorter than 32 bytes only warns, and the key still signs
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token on;
    }
--- user_files
>>> keys.yaml
short: s3cr3t
--- request
GET /token?room=xyz&participant=Jane
--- error_code: 200
--- response_body_like chomp
"token":"eyJ
--- error_log
the secret of key "short" in
is shorter than 32 bytes
--- no_error_log
s3cr3t
