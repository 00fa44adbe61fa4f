# Invitations: livekit_invitation_admin creates signed, expiring links;
# a token location with livekit_token_invitation required mints only
# within one: its room, identity and name, the grants of its role
# (livekit_invitation_role), no longer than it lives; a single-use one
# once; a revoked one never again, and its tokens are refused at the join.
#
# The invitations of most blocks are signed here (LiveKitToken::invitation,
# written from the README's description of the format), so that the
# module is checked against a second implementation; those the admin
# location signs are verified here the same way.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use LiveKitToken;

no_long_string();
no_shuffle();

# several workers, so that a single-use invitation and a revocation are
# shared memory's business, as in production (a block below races them)
master_on();
workers(4);

our $HttpConfig = <<'_EOC_';
    livekit_keys_file ../html/keys.yaml;
    livekit_api_key devkey;
    livekit_url ws://127.0.0.1:7880;
    livekit_revocation_zone  zone=revoked:1m  state=html/revocations.json  max_ttl=7d;
    livekit_invitation_role  editor  roomJoin canPublish canSubscribe canPublishData roomAdmin;
    livekit_invitation_role  client  roomJoin canPublish canSubscribe canPublishData;
    livekit_invitation_role  observer  roomJoin canSubscribe;
_EOC_

our $Config = <<'_EOC_';
    location = /token {
        livekit_token             on;
        livekit_token_ttl         2h;
        livekit_token_invitation  required;
    }
    location = /token-long {
        livekit_token             on;
        livekit_token_ttl         2h;
        livekit_token_invitation  required  ttl=location;
    }
    location = /open {
        livekit_token  on;
    }
    location = /invite {
        allow  127.0.0.1;
        deny   all;
        livekit_invitation_admin  on;
        livekit_invitation_link   https://meet.example.com/?invite=;
    }
    location = /invite-default {
        livekit_invitation_admin  on;
    }
    location = /revoke {
        livekit_revocation_admin  on;
    }
    location ~ ^/rtc {
        livekit_join_check  rtc;
        proxy_pass  http://127.0.0.1:$server_port/livekit-server;
    }
    location = /livekit-server {
        return 200 "livekit-server\n";
    }
    location = /state {
        default_type  application/json;
        alias  html/revocations.json;
    }
    location = /status {
        livekit_token_status;
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

sub inv { LiveKitToken::invitation(@_) }

# the same signature bytes spelled differently: the last character's
# unused low bits set (43 characters carry 258 bits for 256)
sub stray_bits {
    my ($s) = @_;
    my $abc = join '', 'A' .. 'Z', 'a' .. 'z', '0' .. '9', '-', '_';
    my $i = index($abc, substr($s, -1));
    return substr($s, 0, -1) . substr($abc, $i ^ 1, 1);
}

run_tests();

__DATA__

=== TEST 1: a client's invitation mints a token for its room, identity and name, with the client role's grants and the invitation's id in "inv"
--- request eval
"GET /token?invite=" . main::inv(id => 'inv-A', room => 'consult-42', identity => 'jane', name => 'Jane Doe', exp => 86400)
--- error_code: 200
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant,room,token,url
url: "ws://127.0.0.1:7880"
room: "consult-42"
participant: "jane"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 7200
inv: "inv-A"
name: "Jane Doe"
sub: "jane"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"consult-42","roomJoin":true}



=== TEST 2: the editor role adds roomAdmin; the observer role only subscribes
--- request eval
["GET /token?invite=" . main::inv(role => 'editor', identity => 'dr-smith'),
 "GET /token?invite=" . main::inv(role => 'observer', identity => 'auditor')]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/"participant":"dr-smith"/, qr/"participant":"auditor"/]
--- response_body_filters eval
sub { my $c = LiveKitToken::claims($_[0]); ($c =~ /^(video: .*)$/m)[0] . "\n" }
--- response_body eval
["video: {\"canPublish\":true,\"canPublishData\":true,\"canSubscribe\":true,\"room\":\"consult-1\",\"roomAdmin\":true,\"roomJoin\":true}\n",
 "video: {\"canPublish\":false,\"canPublishData\":false,\"canSubscribe\":true,\"room\":\"consult-1\",\"roomJoin\":true}\n"]



=== TEST 3: without an identity in the invitation each token gets a new one made of the role and 12 random characters
--- request eval
my $i = main::inv(id => 'inv-open', name => undef);
["GET /token?invite=$i&name=Guest", "GET /token?invite=$i"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/^\{"token":"[^"]+","url":"ws:\/\/127\.0\.0\.1:7880","room":"consult-1","participant":"client-[A-Za-z0-9_-]{12}"\}$/,
 qr/^\{"token":"[^"]+","url":"ws:\/\/127\.0\.0\.1:7880","room":"consult-1","participant":"client-[A-Za-z0-9_-]{12}"\}$/]
--- response_body_filters eval
sub { my $c = LiveKitToken::claims($_[0]); CORE::join '', grep { /^(name|inv|BAD)/ } split /^/, $c }
--- response_body eval
["inv: \"inv-open\"\nname: \"Guest\"\n", "inv: \"inv-open\"\n"]



=== TEST 4: a token lives no longer than its invitation, unless the location says ttl=location
--- request eval
$main::exp4 = time + 600;
my $i = main::inv(exp_at => $main::exp4);
["GET /token?invite=$i", "GET /token-long?invite=$i"]
--- error_code eval
[200, 200]
--- response_body_filters eval
sub {
    my ($tok) = $_[0] =~ /"token":"([^"]+)"/ or return "BAD $_[0]";
    my $c = Crypt::JWT::decode_jwt(token => $tok, key => $LiveKitToken::DEV_SECRET);
    return "exp is the invitation's\n" if $c->{exp} == $main::exp4;
    return "ttl " . ($c->{exp} - $c->{nbf}) . "\n";
}
--- response_body eval
["exp is the invitation's\n", "ttl 7200\n"]



=== TEST 5: no invitation is 403 invitation_missing, for GET and for POST; a location without livekit_token_invitation mints as before
--- more_headers
Content-Type: application/json
--- request eval
["GET /token?room=consult-1&participant=eve",
 "POST /token\n{\"room_name\":\"consult-1\",\"participant_identity\":\"eve\"}",
 "GET /open?room=consult-1&participant=eve&invite=whatever"]
--- error_code eval
[403, 403, 200]
--- response_body_like eval
[qr/^\{"error":"invitation_missing","message":"this service issues tokens by invitation only: open the link you were sent \(it carries \?invite=\.\.\.\)"\}$/,
 qr/^\{"error":"invitation_missing"/,
 qr/^\{"token":"[^"]+","url":"ws:\/\/127\.0\.0\.1:7880","room":"consult-1","participant":"eve"\}$/]



=== TEST 6: POST with LiveKit's token request and "invite" mints within the invitation
--- more_headers
Content-Type: application/json
--- request eval
"POST /token\n{\"invite\":\"" . main::inv(room => 'consult-7', identity => 'sam', name => 'Sam', exp => 86400) . "\"}"
--- error_code: 201
--- response_body_filters eval
\&LiveKitToken::claims
--- response_body
reply: participant_name,participant_token,room_name,server_url
server_url: "ws://127.0.0.1:7880"
room_name: "consult-7"
participant_name: "Sam"
header: {"alg":"HS256","typ":"JWT"}
iss: devkey
ttl: 7200
inv: "inv-1"
name: "Sam"
sub: "sam"
video: {"canPublish":true,"canPublishData":true,"canSubscribe":true,"room":"consult-7","roomJoin":true}



=== TEST 7: a forged or altered invitation is 403 invitation_invalid, whatever its shape; its signature has one spelling only (no padding, no stray bits)
--- request eval
my $good = main::inv(room => 'consult-1');
my ($p, $s) = split /\./, $good;
my $other = MIME::Base64::encode_base64url('{"v":1,"id":"inv-1","room":"consult-2","role":"client","exp":' . (time + 3600) . '}');
my $jwt = LiveKitToken::join_token();
[map { "GET /token?invite=$_" }
  main::inv(secret => 'not-the-secret-0123456789abcdefghijklmnop'),
  "$other.$s",
  main::inv(prefix => ''),
  $jwt,
  "$p",
  "$p.$s.$s",
  "$p." . substr($s, 0, 20),
  "$p.\%00\%00",
  "..",
  "x" x 5000,
  "$p.$s" . "A",
  "$p.$s==",
  "$p." . main::stray_bits($s)]
--- error_code eval
[(403) x 13]
--- response_body_like eval
[(qr/^\{"error":"invitation_invalid","message":"this invitation was not signed by this server's keys \(altered, or signed with a key it no longer has\): ask for a new one"\}$/) x 3,
 (qr/^\{"error":"invitation_invalid","message":"this is not an invitation of this server: open the link exactly as you received it"\}$/) x 7,
 (qr/^\{"error":"invitation_invalid"/) x 3]



=== TEST 8: an invitation signed with another key of the key set is accepted (rotation); a key the server does not have is not
--- request eval
["GET /token?invite=" . main::inv(key => 'otherkey', identity => 'jane'),
 "GET /token?invite=" . main::inv(secret => $LiveKitToken::OTHER_SECRET . 'x', identity => 'jane')]
--- error_code eval
[200, 403]
--- response_body_like eval
[qr/"participant":"jane"/, qr/invitation_invalid/]



=== TEST 9: an expired invitation is 403 invitation_expired; one that outlives the revocation zone's max_ttl is invalid
--- request eval
["GET /token?invite=" . main::inv(exp => -1),
 "GET /token?invite=" . main::inv(exp => 8 * 86400)]
--- error_code eval
[403, 403]
--- response_body_like eval
[qr/^\{"error":"invitation_expired","message":"this invitation has expired: ask for a new one"\}$/,
 qr/^\{"error":"invitation_invalid","message":"this invitation lives longer than this server keeps revocations \(livekit_revocation_zone max_ttl\)"\}$/]



=== TEST 10: a validly signed invitation is still checked: its role must be defined here, its fields known and well-formed
--- request eval
my $t = time + 3600;
[map { "GET /token?invite=" . main::inv(payload => $_) }
  qq({"v":1,"id":"i","room":"r","role":"admin","exp":$t}),
  qq({"v":2,"id":"i","room":"r","role":"client","exp":$t}),
  qq({"v":1,"id":"i","room":"r","role":"client","exp":$t,"grants":"roomAdmin"}),
  qq({"v":1,"id":"i","room":7,"role":"client","exp":$t}),
  qq({"v":1,"id":"i","room":"r\\u0007","role":"client","exp":$t}),
  qq({"v":1,"id":"i","room":"","role":"client","exp":$t}),
  qq({"v":1,"id":"i","room":"r","role":"client","exp":"$t"}),
  qq({"v":1,"id":"i","room":"r","role":"client","exp":$t,"single_use":"yes"}),
  qq({"v":1,"room":"r","role":"client","exp":$t}),
  qq({"v":1,"id":"i","room":"r","room":"s","role":"client","exp":$t}),
  qq([1,2,3]),
  qq({"v":1,"id":"i","room":") . ("r" x 257) . qq(","role":"client","exp":$t})]
--- error_code eval
[(403) x 12]
--- response_body_like eval
[qr/^\{"error":"invitation_invalid","message":"this invitation's role is not defined here any more \(livekit_invitation_role\): ask for a new one"\}$/,
 (qr/^\{"error":"invitation_invalid","message":"this is not an invitation of this server: open the link exactly as you received it"\}$/) x 11]



=== TEST 11: the invitation pins room, identity and name: the same values pass, other ones are refused with the pin's code
--- request eval
my $i = main::inv(room => 'consult-1', identity => 'jane', name => 'Jane');
my $n = main::inv(room => 'consult-1', id => 'inv-anon');
["GET /token?invite=$i&room=consult-1&participant=jane&name=Jane",
 "GET /token?invite=$i&room=consult-2",
 "GET /token?invite=$i&participant=admin",
 "GET /token?invite=$i&name=Dr.+Who",
 "GET /token?invite=$n&participant=editor-1"]
--- error_code eval
[200, 403, 403, 403, 403]
--- response_body_like eval
[qr/"room":"consult-1","participant":"jane"/,
 qr/^\{"error":"room_pinned","message":"the invitation names the room: do not send room \/ room_name"\}$/,
 qr/^\{"error":"identity_pinned","message":"the invitation sets the participant identity: do not send participant \/ participant_identity"\}$/,
 qr/^\{"error":"name_pinned","message":"the invitation sets the participant name: do not send name \/ participant_name"\}$/,
 qr/^\{"error":"identity_pinned"/]



=== TEST 12: a single-use invitation mints one token; the second use is 403 invitation_used; a reusable one mints again
--- request eval
my $once = main::inv(id => 'inv-once', single_use => 1, identity => 'jane');
my $many = main::inv(id => 'inv-many', identity => 'sam');
["GET /token?invite=$once", "GET /token?invite=$once", "GET /token-long?invite=$once",
 "GET /token?invite=$many", "GET /token?invite=$many"]
--- error_code eval
[200, 403, 403, 200, 200]
--- response_body_like eval
[qr/"participant":"jane"/,
 qr/^\{"error":"invitation_used","message":"this invitation was for one use and has been used: ask for a new one"\}$/,
 qr/invitation_used/,
 qr/"participant":"sam"/, qr/"participant":"sam"/]



=== TEST 13: a request the location's policy refuses does not spend a single-use invitation
--- config
    location = /token {
        livekit_token                    on;
        livekit_token_invitation         required;
        livekit_token_metadata_max_size  8;
    }
    location = /state {
        default_type  application/json;
        alias  html/revocations.json;
    }
--- request eval
my $once = main::inv(id => 'inv-policy', single_use => 1, identity => 'jane');
["GET /token?invite=$once&metadata=far-too-long-metadata", "GET /token?invite=$once", "GET /token?invite=$once"]
--- error_code eval
[400, 200, 403]
--- response_body_like eval
[qr/metadata_too_large/, qr/"participant":"jane"/, qr/invitation_used/]



=== TEST 14: a used invitation is in the state file at once and in the admin's list, until the invitation expires
--- request eval
$main::exp14 = time + 1800;
my $once = main::inv(id => 'inv-state', single_use => 1, exp_at => $main::exp14);
["GET /token?invite=$once", "GET /state", "GET /revoke"]
--- error_code eval
[200, 200, 200]
--- response_body_filters eval
sub { my ($c, $e) = $_[0] =~ /^\[\{"used_invitation":"inv-state","created":(\d+),"expires":(\d+)\}\]$/ or return $_[0]; $e == $main::exp14 && $c <= time ? "kept until the invitation expires\n" : $_[0] }
--- response_body_like eval
[qr/"participant":"client-/, qr/^kept until the invitation expires$/,
 qr/^\{"revocations":\[\{"used_invitation":"inv-state","created":\d+,"expires":\d+\}\],"max_ttl":604800\}$/]



=== TEST 15: a new zone reads used invitations from the state file: the link stays spent across a restart
--- user_files eval
my $t = time;
">>> keys.yaml\n" . LiveKitToken::keys_file()
. ">>> revocations.json\n[{\"used_invitation\":\"inv-spent\",\"created\":$t,\"expires\":" . ($t + 3600) . "}]\n"
--- request eval
["GET /token?invite=" . main::inv(id => 'inv-spent', single_use => 1),
 "GET /token?invite=" . main::inv(id => 'inv-spent')]
--- error_code eval
[403, 200]
--- response_body_like eval
[qr/invitation_used/, qr/"participant":"client-/]



=== TEST 16: a used invitation stays used until it expires, even when max_ttl was shorter than its life when nginx restarts
--- user_files eval
my $t = time;
">>> keys.yaml\n" . LiveKitToken::keys_file()
. ">>> revocations.json\n[{\"used_invitation\":\"inv-long\",\"created\":" . ($t - 8 * 86400) . ",\"expires\":" . ($t + 3600) . "}]\n"
--- request eval
["GET /token?invite=" . main::inv(id => 'inv-long', single_use => 1)]
--- error_code: 403
--- response_body_like: invitation_used



=== TEST 17: a revoked invitation mints no more tokens, and the tokens it minted are refused at the join
--- request eval
my $i = main::inv(id => 'inv-revoked', identity => 'jane');
["GET /token?invite=$i",
 "POST /revoke\n{\"invitation\":\"inv-revoked\"}",
 "GET /token?invite=$i",
 "GET /rtc?access_token=" . LiveKitToken::join_token(extra => { inv => 'inv-revoked' }),
 "GET /rtc?access_token=" . LiveKitToken::join_token(extra => { inv => 'inv-other' }),
 "GET /token?invite=" . main::inv(id => 'inv-other', identity => 'jane')]
--- error_code eval
[200, 201, 403, 403, 200, 200]
--- response_body_like eval
[qr/"participant":"jane"/,
 qr/^\{"revoked":\{"invitation":"inv-revoked","created":\d+,"expires":\d+\},"saved":true\}$/,
 qr/^\{"error":"invitation_revoked","message":"this invitation has been revoked: ask for a new one"\}$/,
 qr/token_revoked/,
 qr/^livekit-server$/,
 qr/"participant":"jane"/]



=== TEST 18: the admin location creates an invitation: signed with the key set's key, its id, the link, and what it grants
--- more_headers
Content-Type: application/json
--- request
POST /invite
{"room":"consult-42","role":"client","identity":"jane","name":"Jane Doe","expires_in":3600,"single_use":true}
--- error_code: 201
--- response_body_filters eval
sub {
    my $r = JSON::PP->new->decode($_[0]);
    my $p = LiveKitToken::invitation_check($r->{invitation});
    return "$p\n" unless ref $p;
    my @out;
    push @out, "keys: " . CORE::join(',', sort keys %$r);
    push @out, "id: " . ($r->{id} =~ /\A[A-Za-z0-9_-]{16}\z/ && $r->{id} eq $p->{id} ? "16 random characters, as signed" : $r->{id});
    push @out, "link: " . ($r->{link} eq "https://meet.example.com/?invite=$r->{invitation}" ? "prefix and invitation" : $r->{link});
    push @out, "expires: " . (abs($r->{expires} - time - 3600) <= 2 && $r->{expires} == $p->{exp} ? "in an hour, as signed" : $r->{expires});
    push @out, "signed: " . CORE::join(',', map { "$_=" . (ref $p->{$_} ? ($p->{$_} ? 'true' : 'false') : $p->{$_}) } grep { $_ ne 'id' && $_ ne 'exp' } sort keys %$p);
    push @out, "reply: " . CORE::join(',', map { "$_=" . (ref $r->{$_} ? ($r->{$_} ? 'true' : 'false') : $r->{$_}) } qw(room role identity name single_use));
    CORE::join("\n", @out) . "\n";
}
--- response_body
keys: expires,id,identity,invitation,link,name,role,room,single_use
id: 16 random characters, as signed
link: prefix and invitation
expires: in an hour, as signed
signed: identity=jane,name=Jane Doe,role=client,room=consult-42,single_use=true,v=1
reply: room=consult-42,role=client,identity=jane,name=Jane Doe,single_use=true



=== TEST 19: the admin's defaults: a reusable invitation for a day, without identity; the link is $scheme://$host/?invite= unless configured
--- request
POST /invite-default
{"room":"consult-9","role":"editor"}
--- error_code: 201
--- response_body_filters eval
sub {
    my $r = JSON::PP->new->decode($_[0]);
    my $p = LiveKitToken::invitation_check($r->{invitation});
    return "$p\n" unless ref $p;
    CORE::join("\n",
         "link: " . ($r->{link} eq "http://localhost/?invite=$r->{invitation}" ? "default" : $r->{link}),
         "expires: " . (abs($r->{expires} - time - 86400) <= 2 ? "a day" : $r->{expires}),
         "single_use: " . ($r->{single_use} ? "true" : "false") . (exists $p->{single_use} ? " (signed)" : ""),
         "identity: " . ($r->{identity} // $p->{identity} // "none")) . "\n";
}
--- response_body
link: default
expires: a day
single_use: false
identity: none



=== TEST 20: what is not an invitation request is refused with a JSON error saying what to fix
--- request eval
[map { "POST /invite\n$_" }
  '{"role":"client"}',
  '{"room":"r"}',
  '{"room":"r","role":"admin"}',
  '{"room":"r","role":"client","grants":["roomAdmin"]}',
  '{"room":"r","role":"client","expires_in":59}',
  '{"room":"r","role":"client","expires_in":604801}',
  '{"room":"r","role":"client","expires_in":"3600"}',
  '{"room":"r","role":"client","single_use":1}',
  '{"room":"r","role":"client","name":"a\u0007b"}',
  '{"room":7,"role":"client"}',
  '{"room":"r","role":"client","identity":""}',
  '{"room":"' . ("r" x 257) . '","role":"client"}',
  'not json',
  '[]']
--- error_code eval
[(400) x 14]
--- response_body_like eval
[(qr/^\{"error":"invalid_invitation_request","message":"room and role are required; room, role, identity and name are strings of 1 to 256 bytes"\}$/) x 2,
 qr/^\{"error":"invalid_invitation_request","message":"role is not one of this server's livekit_invitation_role names"\}$/,
 qr/^\{"error":"invalid_invitation_request","message":"unknown field: use room, role, identity, name, expires_in, single_use"\}$/,
 (qr/^\{"error":"invalid_invitation_request","message":"expires_in is a number of seconds from 60 to the revocation zone's max_ttl \(GET the revocation admin for it\)"\}$/) x 3,
 qr/^\{"error":"invalid_invitation_request","message":"single_use is true or false"\}$/,
 qr/^\{"error":"control_character"/,
 (qr/^\{"error":"invalid_invitation_request","message":"room and role are required/) x 3,
 (qr/^\{"error":"invalid_json","message":"the body must be one JSON object/) x 2]



=== TEST 21: the admin location answers POST only, and refuses a large body before reading it
--- request eval
["GET /invite", "POST /invite\n" . ('{"room":"r","role":"client","name":"' . ("n" x 20000) . '"}')]
--- error_code eval
[405, 413]
--- response_headers_like eval
["Allow: POST", ""]
--- response_body_like eval
[qr/^\{"error":"method_not_allowed","message":"POST an invitation request: \{\\"room\\":\\"...\\",\\"role\\":\\"...\\"\}"\}$/,
 qr/^\{"error":"body_too_large"/]



=== TEST 22: concurrent uses of one single-use invitation across four workers: exactly one token
--- config eval
my $m = CORE::join "\n", map { "        mirror /m$_;" } 1 .. 15;
my $l = CORE::join "\n", map { "    location = /m$_ { internal; proxy_pass http://127.0.0.1:\$server_port/token\$is_args\$args; }" } 1 .. 15;
"    location = /race {
$m
        mirror_request_body off;
        proxy_pass http://127.0.0.1:\$server_port/token\$is_args\$args;
    }
$l
    location = /token {
        livekit_token             on;
        livekit_token_invitation  required;
    }
    location = /status {
        livekit_token_status;
    }
"
--- request eval
my $once = main::inv(id => 'inv-race', single_use => 1, identity => 'jane');
["GET /race?invite=$once", "GET /token?invite=$once", "GET /status"]
--- error_code_like eval
[qr/^(200|403)$/, qr/^403$/, qr/^200$/]
--- response_body_filters eval
sub {
    return "used\n" if $_[0] =~ /^\{"error":"invitation_used"/;
    return "" if $_[0] =~ /^\{"token":/;
    my $s = JSON::PP->new->decode($_[0]);
    "issued=" . $s->{tokens}{get} . " used=" . ($s->{errors}{invitation_used} // 0) . "\n";
}
--- response_body_like eval
[qr/^(used\n)?$/, qr/^used\n$/, qr/^issued=1 used=16\n$/]



=== TEST 23: livekit_token_invitation needs the zone and a role, and takes the room and identity from the invitation only
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_api_key devkey;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /token {
        livekit_token             on;
        livekit_token_invitation  required;
    }
--- must_die
--- error_log
"livekit_token_invitation required" needs "livekit_revocation_zone" and at least one "livekit_invitation_role" in http {}



=== TEST 24: livekit_token_room or livekit_token_identity beside livekit_token_invitation is refused at start
--- config
    location = /token {
        livekit_token             on;
        livekit_token_invitation  required;
        livekit_token_room        consult-1;
    }
--- must_die
--- error_log
"livekit_token_invitation required" sets the room and identity from the invitation



=== TEST 25: a role's name and grants are checked at start
--- http_config eval
$main::HttpConfig . "    livekit_invitation_role  client  roomJoin;\n"
--- must_die
--- error_log
role "client" is defined twice



=== TEST 26: an unknown grant in livekit_invitation_role is refused at start
--- http_config eval
$main::HttpConfig . "    livekit_invitation_role  guest  roomJoin  canFly;\n"
--- must_die
--- error_log
unknown grant "canFly" in "livekit_invitation_role"



=== TEST 27: a role name with a space is refused at start
--- http_config eval
$main::HttpConfig . "    livekit_invitation_role  \"bad name\"  roomJoin;\n"
--- must_die
--- error_log
invalid role name "bad name" in "livekit_invitation_role" (1 to 64 letters, digits, "-" or "_")



=== TEST 28: livekit_token_invitation takes off, or required with ttl=invitation or ttl=location
--- config
    location = /token {
        livekit_token             on;
        livekit_token_invitation  required  ttl=forever;
    }
--- must_die
--- error_log
invalid value in "livekit_token_invitation" (off, or required with ttl=invitation or ttl=location)



=== TEST 29: livekit_invitation_admin needs the zone and a role, and a location of its own
--- http_config
    livekit_keys_file ../html/keys.yaml;
    livekit_api_key devkey;
    livekit_url ws://127.0.0.1:7880;
--- config
    location = /invite {
        livekit_invitation_admin  on;
    }
--- must_die
--- error_log
"livekit_invitation_admin" needs "livekit_revocation_zone" and at least one "livekit_invitation_role" in http {}



=== TEST 30: one location cannot both mint and create invitations
--- config
    location = /invite {
        livekit_token             on;
        livekit_invitation_admin  on;
    }
--- must_die
--- error_log
"livekit_token", "livekit_token_status", "livekit_revocation_admin" and "livekit_invitation_admin" each need a location of their own



=== TEST 31: the first "invite" of a query is the one read, percent-decoded as URLSearchParams does
--- request eval
my $i = main::inv(identity => 'jane');
my $enc = $i; $enc =~ s/\./%2E/; $enc =~ s/-/%2D/g;
["GET /token?invite=$i&invite=forged", "GET /token?invite=forged&invite=$i", "GET /token?invite=$enc"]
--- error_code eval
[200, 403, 200]
--- response_body_like eval
[qr/"participant":"jane"/, qr/invitation_invalid/, qr/"participant":"jane"/]



=== TEST 32: $livekit_invitation is the invitation a joining token was minted from, for the join log
--- http_config eval
$main::HttpConfig . "    log_format  joins  '\$livekit_join inv=\$livekit_invitation id=\$livekit_identity';\n"
--- config
    location ~ ^/rtc {
        access_log  logs/access.log  joins;
        livekit_join_check  rtc;
        proxy_pass  http://127.0.0.1:$server_port/livekit-server;
    }
    location = /livekit-server {
        access_log  off;
        return 200 "livekit-server\n";
    }
--- request eval
"GET /rtc?access_token=" . LiveKitToken::join_token(sub => 'jane', extra => { inv => 'inv-77' })
--- error_code: 200
--- access_log
ok inv=inv-77 id=jane
