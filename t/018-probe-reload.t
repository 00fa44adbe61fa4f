# livekit_token_upstream_check across a reload: a probe of the old
# configuration still in flight when nginx reloads must not write its
# result into the state the new configuration shows for another probe.
#
# Test::Nginx cannot reload in the middle of a block, so this file drives
# nginx itself (master and one worker, daemon, in t/servroot-018, or
# beside TEST_NGINX_SERVROOT): two
# key sets (devkey, otherkey), each with a probe; one livekit-server
# answers 200 at once (a server block of the same nginx), the other is a
# black hole that accepts and never answers (the probe gives up after 5 s:
# "unreachable").  The reload swaps the two URLs, so the probe that owned
# slot 0 before (devkey, black hole) is in flight while slot 0 now belongs
# to devkey's probe of the answering server.  Then a reload that fails
# after the shared zones are set up (a listen on the black hole's port,
# which this file holds) must leave the running probes as they were.
#
# Settings: TEST_NGINX_BINARY, TEST_NGINX_LOAD_MODULES, TEST_NGINX_PORT
# (and two free ports the system gives), TEST_NGINX_SERVROOT,
# TEST_NGINX_LD_PRELOAD.

use strict;
use warnings;

use Cwd qw(getcwd);
use File::Path qw(make_path remove_tree);
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';

# make test-asan: its runtime first, for nginx only (as Test::Nginx does)
$ENV{LD_PRELOAD} = join ':', grep { length } $ENV{TEST_NGINX_LD_PRELOAD},
                                             $ENV{LD_PRELOAD}
    if $ENV{TEST_NGINX_LD_PRELOAD};
my @modules = split ' ', ($ENV{TEST_NGINX_LOAD_MODULES} // '');
my $port = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;

# beside the runner's servroot when it has one (the matrix runs versions
# side by side, each with its own)
my $dir = $ENV{TEST_NGINX_SERVROOT} ? "$ENV{TEST_NGINX_SERVROOT}-018"
                                    : getcwd() . '/t/servroot-018';

# the other two ports are free ones the system gives, not $port + 1 and
# + 2, which the matrix gives the version beside this one
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1, ReuseAddr => 1)
        or BAIL_OUT("no free port: $!");
    my $p = $s->sockport;
    close $s;
    return $p;
}

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no module' unless @modules;

my $hole = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                 Listen => 16, ReuseAddr => 1)
    or BAIL_OUT("cannot listen on 127.0.0.1: $!");
my $hole_port = $hole->sockport;
my $answering = free_port();
my @held;       # connections the black hole accepted, never answered

# waits up to $timeout s for a connection to the black hole; 1 if one came
sub hole_accepts {
    my ($timeout) = @_;
    my $sel = IO::Select->new($hole);
    my $until = time + $timeout;
    while ((my $left = $until - time) > 0) {
        next unless $sel->can_read($left);
        my $c = $hole->accept or next;
        push @held, $c;
        return 1;
    }
    return 0;
}

# the black hole holds every connection it gets, answering none
sub hole_drain {
    my $sel = IO::Select->new($hole);
    while ($sel->can_read(0)) {
        my $c = $hole->accept or last;
        push @held, $c;
    }
}

sub write_conf {
    my ($devkey_url, $otherkey_url, %opt) = @_;
    my $load = join '', map { "load_module $_;\n" } @modules;
    # as Test::Nginx does: an nginx built with --user=nginx has no such
    # user on this machine, nor the temporary paths it was configured with
    $load .= "user root;\n" if $> == 0;
    my $v = `$nginx -V 2>&1`;
    my $temp = join '', map { "    ${_}_temp_path $dir/${_}_temp;\n" }
        grep { $_ =~ /^(?:client_body|proxy)$/
               || $v !~ /--without-http_${_}_module/ }
        qw(client_body proxy fastcgi scgi uwsgi);
    my $interval = $opt{interval} // '30s';
    my $extra = $opt{extra} // '';
    open my $f, '>', "$dir/conf/nginx.conf" or die "$dir/conf/nginx.conf: $!";
    print $f <<"CONF";
${load}worker_processes 1;
daemon on;
master_process on;
pid logs/nginx.pid;
error_log logs/error.log info;
events { worker_connections 64; }
http {
$temp    access_log off;
    livekit_keys_file keys.yaml;
    livekit_url ws://127.0.0.1:7880;
    server {
        listen 127.0.0.1:$port;
        location = /token0 {
            livekit_token on;
            livekit_api_key devkey;
            livekit_token_upstream_check $devkey_url $interval;
        }
        location = /token1 {
            livekit_token on;
            livekit_api_key otherkey;
            livekit_token_upstream_check $otherkey_url 30s;
        }
        location = /status0 {
            livekit_token_status;
            livekit_api_key devkey;
        }
        location = /status1 {
            livekit_token_status;
            livekit_api_key otherkey;
        }
    }
    server {
        listen 127.0.0.1:$answering;
        location / {
            return 200 "{}";
        }
    }
$extra}
CONF
    close $f;
}

# the upstream state the status page of a key set shows, or a description
sub upstream_state {
    my ($path) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 3)
        or return "no connection: $!";
    print $s "GET $path HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $resp = <$s> // '';
    my ($body) = $resp =~ /\r\n\r\n(.*)\z/s;
    my $doc = eval { decode_json($body // '') }
        or return "not JSON: $resp";
    diag("$path: $body") if $ENV{PROBE_DEBUG};
    return $doc->{keys}{upstream}{state} // 'none' unless wantarray;
    return ($doc->{keys}{upstream}{state} // 'none',
            $doc->{keys}{upstream}{age} // -1);
}

sub nginx_pid {
    open my $f, '<', "$dir/logs/nginx.pid" or return;
    my $pid = <$f>;
    chomp $pid if defined $pid;
    return $pid;
}

remove_tree($dir);
make_path("$dir/conf", "$dir/logs");
open my $k, '>', "$dir/conf/keys.yaml" or die $!;
print $k "devkey: dev-secret-0123456789abcdefghijklmnopqrstuv\n",
         "otherkey: other-secret-ZYXWVUTSRQPONMLKJIHGFEDCBA987\n";
close $k;
chmod 0600, "$dir/conf/keys.yaml";

my $hole_url = "http://127.0.0.1:$hole_port";
my $answering_url = "http://127.0.0.1:$answering";

# before: devkey's probe (slot 0) asks the black hole, otherkey's (slot 1)
# the answering server
write_conf($hole_url, $answering_url);

my @cmd = ($nginx, '-p', "$dir/", '-c', 'conf/nginx.conf');
system(@cmd) == 0 or BAIL_OUT("nginx did not start: @cmd");

my $pid;
for (1 .. 50) { last if $pid = nginx_pid(); sleep 0.1 }
BAIL_OUT('no nginx.pid') unless $pid;

END {
    if (my $p = nginx_pid()) {
        kill 'QUIT', $p;
        for (1 .. 100) { last unless kill 0, $p; sleep 0.1 }
    }
}

ok(hole_accepts(5), "the first worker's devkey probe reaches the black hole");
my $in_flight = time;

# after: the URLs swapped; the old worker's devkey probe is still waiting
write_conf($answering_url, $hole_url);
system(@cmd, '-t', '-q') == 0 or BAIL_OUT('the second configuration fails');
kill 'HUP', $pid or BAIL_OUT("cannot signal nginx $pid: $!");

# the old probe gives up 5 s after it connected, and writes "unreachable"
# where it wrote before; the new devkey probe asked the answering server
# 1-2 s after the reload; the new otherkey probe, in the black hole since
# then, is not done before 6 s after the reload
while (time < $in_flight + 5.8) { hole_drain(); sleep 0.1 }
hole_drain();

is(upstream_state('/status0'), 'accepted',
   'devkey now probes the answering server: its state is accepted, not the '
   . "old configuration's unreachable");

isnt(upstream_state('/status1'), 'accepted',
     'otherkey now probes the black hole: its state is not the accepted of '
     . "an old worker's probe of the answering server");

# devkey probes every second; then a reload that fails when the master
# opens its listening sockets, after the zones: the workers keep probing
write_conf($answering_url, $hole_url, interval => '1s');
kill 'HUP', $pid or BAIL_OUT("cannot signal nginx $pid: $!");
sleep 3;
write_conf($answering_url, $hole_url, interval => '1s',
           extra => "    server { listen 127.0.0.1:$hole_port; }\n");
kill 'HUP', $pid or BAIL_OUT("cannot signal nginx $pid: $!");
sleep 3.5;
hole_drain();

my ($state, $age) = upstream_state('/status0');
ok($state eq 'accepted' && $age >= 0 && $age <= 2,
   'after a reload that failed once the zones were set up, devkey is still '
   . "probed every second (state $state, age $age)");

open my $log, '<', "$dir/logs/error.log" or die $!;
my @lines = <$log>;
my @bad = grep { /\[(alert|crit|emerg)\]/
                 && !/bind\(\) to 127\.0\.0\.1:$hole_port failed|still could not bind/ }
              @lines;
is(scalar @bad, 0, 'no alert, crit or emerg in error.log but the failed '
   . 'reload\'s bind()') or diag(@bad);
ok((grep { /\[emerg\].*bind\(\) to 127\.0\.0\.1:$hole_port failed/ } @lines),
   'the third reload failed, on bind()');

done_testing();
