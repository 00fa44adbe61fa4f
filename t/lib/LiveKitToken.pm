package LiveKitToken;

# Helpers for the t/*.t suites: a key file every block can use, and a
# response-body filter that verifies the token inside a reply with
# Crypt::JWT and turns its claims into stable text the block compares.
#
# The filter fails loudly (returns a line starting with "BAD") instead of
# hiding a problem: a wrong signature, a missing claim or a reply of the
# wrong shape makes the block's response_body comparison fail.

use strict;
use warnings;

use Crypt::JWT qw(decode_jwt encode_jwt);
use Digest::SHA qw(sha256 hmac_sha256);
use MIME::Base64 qw(encode_base64);
use JSON::PP;
use MIME::Base64 qw(decode_base64url encode_base64url);
use Exporter 'import';

our @EXPORT = qw(claims keys_file known_secret webhook_headers join_token
                 invitation invitation_check $DEV_SECRET $OTHER_SECRET);

our $DEV_SECRET   = 'dev-secret-0123456789abcdefghijklmnopqrstuv';
our $OTHER_SECRET = 'other-secret-ZYXWVUTSRQPONMLKJIHGFEDCBA987';

my %secrets = (devkey => $DEV_SECRET, otherkey => $OTHER_SECRET);

my $json = JSON::PP->new->canonical(1)->utf8(1);
my $out  = JSON::PP->new->canonical(1)->ascii(1)->allow_nonref(1);

# known_secret($iss, $secret): claims() verifies tokens of "iss" with it
sub known_secret {
    my ($iss, $secret) = @_;
    $secrets{$iss} = $secret;
}

sub keys_file {
    return "devkey: $DEV_SECRET\notherkey: $OTHER_SECRET\n";
}

# a block preprocessor: t/lib's key file, devkey signing, unless the block
# brings its own files or http_config; and in every block, the error log
# (written at debug level) must hold neither secret nor any token
sub default_keys {
    my ($block) = @_;

    my $never = join "\n", $DEV_SECRET, $OTHER_SECRET,
                           'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.';
    my $no = $block->no_error_log;
    $no =~ s/\n*\z/\n/ if defined $no;
    $block->set_value("no_error_log", defined $no ? "$no$never" : $never);

    if (!defined $block->user_files) {
        $block->set_value("user_files", ">>> keys.yaml\n" . keys_file());
    }

    if (!defined $block->http_config) {
        $block->set_value("http_config",
            "livekit_keys_file ../html/keys.yaml;\n"
            . "livekit_api_key devkey;\n"
            . "livekit_url ws://127.0.0.1:7880;\n");
    }
}

# claims($body): one line per fact, sorted; the token's age is checked
# here (nbf within 60 s of now) and reported as ttl=exp-nbf; the token id
# (jti) is checked here (its form, and that no other token had it) and
# not reported, since it is random.
my %seen_jti;

sub claims {
    my ($body) = @_;

    my $reply = eval { $json->decode($body) };
    return "BAD reply is not JSON: $body" unless ref $reply eq 'HASH';

    my ($token, @out);

    if (exists $reply->{token}) {
        $token = $reply->{token};
        push @out, "reply: " . join(',', sort keys %$reply);
        push @out, "url: " . _text($reply->{url});
        push @out, "room: " . _text($reply->{room});
        push @out, "participant: " . _text($reply->{participant});

    } elsif (exists $reply->{participant_token}) {
        $token = $reply->{participant_token};
        push @out, "reply: " . join(',', sort keys %$reply);
        push @out, "server_url: " . _text($reply->{server_url});
        push @out, "room_name: " . _text($reply->{room_name});
        push @out, "participant_name: " . _text($reply->{participant_name})
            if exists $reply->{participant_name};

    } else {
        return "BAD reply has no token: $body";
    }

    my ($header_b64) = split /\./, $token;
    my $header = eval { $json->decode(decode_base64url($header_b64)) };

    my $unverified = eval {
        decode_jwt(token => $token, ignore_signature => 1,
                   verify_exp => 0, verify_nbf => 0)
    } or return "BAD token does not decode: $@";

    my $iss = $unverified->{iss} // '';
    my $secret = $secrets{$iss}
        or return "BAD unknown iss " . $out->encode($iss);

    my $claims = eval {
        decode_jwt(token => $token, key => $secret,
                   accepted_alg => 'HS256', verify_exp => 1,
                   verify_nbf => 1, leeway => 5)
    } or return "BAD signature or time check failed: $@";

    push @out, "header: " . $out->encode($header) if $header;
    push @out, "iss: $iss";

    my $now = time;
    return "BAD nbf $claims->{nbf} is not now ($now)"
        if !defined $claims->{nbf} || abs($claims->{nbf} - $now) > 60;
    return "BAD no exp" unless defined $claims->{exp};
    push @out, "ttl: " . ($claims->{exp} - $claims->{nbf});

    # every token the module mints has its own id: 12 random bytes
    my $jti = $claims->{jti} // '';
    return "BAD jti " . $out->encode($jti) . " is not 16 base64url characters"
        unless $jti =~ /\A[A-Za-z0-9_-]{16}\z/;
    return "BAD jti $jti was seen before" if $seen_jti{$jti}++;

    for my $k (sort keys %$claims) {
        next if $k eq 'iss' || $k eq 'nbf' || $k eq 'exp' || $k eq 'jti';
        my $v = $claims->{$k};
        push @out, "$k: " . $out->encode($v);
    }

    return join("\n", @out) . "\n";
}

# webhook_headers($body, %opt): the headers livekit-server sends with a
# webhook: Content-Type and an Authorization token (HS256, iss, nbf, exp,
# sha256 = standard base64 of the body's SHA-256), as its notifier makes
# them.  Options change one thing to forge: key, secret, exp/nbf offsets
# (seconds from now), exp_at (an absolute exp), sha256, alg, bearer.
sub webhook_headers {
    my ($body, %opt) = @_;

    my $key = $opt{key} // 'devkey';
    my $secret = $opt{secret} // $secrets{$key} // $DEV_SECRET;
    my $now = time;
    my %claims = (
        iss    => $key,
        nbf    => $now + ($opt{nbf} // 0),
        exp    => $now + ($opt{exp} // 300),
        sha256 => $opt{sha256} // encode_base64(sha256($body), ''),
    );
    $claims{exp} = $opt{exp_at} if defined $opt{exp_at};
    delete $claims{exp} if $opt{no_exp};

    my $jwt = encode_jwt(payload => \%claims, key => $secret,
                         alg => $opt{alg} // 'HS256');
    my $auth = ($opt{bearer} ? 'Bearer ' : '') . $jwt;

    return "Content-Type: application/webhook+json\nAuthorization: $auth";
}

# join_token(%opt): a token as a LiveKit SDK signs it for a join (iss, sub,
# nbf, exp, jti, video.roomJoin and video.room), for the edge check.
# Options change one thing: key, secret, alg, sub, room, jti, exp/nbf/iat
# (offsets in seconds from now; undef leaves the claim out), video (the
# whole grant), extra (more claims).
sub join_token {
    my (%opt) = @_;

    my $key = $opt{key} // 'devkey';
    my $secret = $opt{secret} // $secrets{$key} // $DEV_SECRET;
    my $now = time;
    my %claims = (
        iss   => $key,
        sub   => exists $opt{sub} ? $opt{sub} : 'jane',
        jti   => exists $opt{jti} ? $opt{jti} : 'tok-1',
        video => $opt{video} // { roomJoin => JSON::PP::true,
                                  room => $opt{room} // 'consult-1' },
        %{ $opt{extra} // {} },
    );

    for my $t (qw(exp nbf iat)) {
        my $d = exists $opt{$t} ? $opt{$t}
              : $t eq 'exp' ? 600 : $t eq 'nbf' ? 0 : undef;
        $claims{$t} = $now + $d if defined $d;
    }

    for my $k (keys %claims) {
        delete $claims{$k} unless defined $claims{$k};
    }

    return encode_jwt(payload => \%claims, key => $secret,
                      alg => $opt{alg} // 'HS256');
}

# invitation(%opt): an invitation as the front door signs it, made here
# from the README's description alone: base64url(JSON) "." base64url of
# HMAC-SHA256 over "livekit-invitation." and the encoded JSON.  Options:
# key/secret, id, room, role, identity, name, exp (offset from now) or
# exp_at (a time),
# single_use, extra (more fields), payload (the exact JSON text), prefix
# (another MAC prefix), sig (the signature's text).
sub invitation {
    my (%opt) = @_;

    my $secret = $opt{secret} // $secrets{$opt{key} // 'devkey'};
    my %p = (
        v    => 1,
        id   => $opt{id} // 'inv-1',
        room => $opt{room} // 'consult-1',
        role => $opt{role} // 'client',
        exp  => $opt{exp_at} // time + ($opt{exp} // 3600),
        %{ $opt{extra} // {} },
    );
    $p{identity} = $opt{identity} if defined $opt{identity};
    $p{name} = $opt{name} if defined $opt{name};
    $p{single_use} = JSON::PP::true if $opt{single_use};

    for my $k (keys %p) {
        delete $p{$k} unless defined $p{$k};
    }

    my $payload = encode_base64url($opt{payload} // $json->encode(\%p));
    my $sig = $opt{sig}
        // encode_base64url(hmac_sha256(($opt{prefix} // 'livekit-invitation.')
                                        . $payload, $secret));

    return "$payload.$sig";
}

# invitation_check($text): the fields of an invitation the front door
# signed, once its signature verifies with devkey's secret; or "BAD ..."
sub invitation_check {
    my ($text, $secret) = @_;

    my ($payload, $sig) = $text =~ /\A([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\z/
        or return "BAD invitation is not two base64url parts";
    my $want = encode_base64url(hmac_sha256('livekit-invitation.' . $payload,
                                            $secret // $DEV_SECRET));
    return "BAD invitation signature" unless $sig eq $want;

    my $p = eval { $json->decode(decode_base64url($payload)) }
        or return "BAD invitation payload is not JSON";

    return $p;
}

# strings are shown as JSON so that escapes and non-ASCII are exact
sub _text {
    my ($s) = @_;
    return 'null' unless defined $s;
    return $out->encode($s);
}

1;
