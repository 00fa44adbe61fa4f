package Test::Nginx::Socket;

# Minimal stand-in for openresty's Test::Nginx::Socket (test-nginx 0.33).
#
# WHY: the real Test::Nginx is not packaged in Debian and CPAN is not
# reachable here.  This file is used ONLY when `perl -MTest::Nginx::Socket -e1`
# fails, via `PERL5LIB=t/compat prove t/`.  The t/*.t files must run unchanged
# under the real module, so every name and semantic below mirrors the real
# lib/Test/Nginx/{Util,Socket}.pm; it is a re-implementation, not a copy.
#
# COVERS (same names, same test names, same number of tests as the real one):
#   exports: run_tests run_test repeat_each plan (and Test::Base's is/like/ok/
#     pass/fail/diag/blocks/...) no_shuffle no_long_string log_level master_on
#     master_off master_process_enabled workers worker_connections
#     no_root_location env_to_nginx add_block_preprocessor config_preamble
#     server_name server_addr server_root html_dir server_port
#     server_port_for_client timeout check_accum_error_log bail_out is_str
#     add_cleanup_handler add_test_cleanup_handler add_response_body_check
#   sections: see %Supported below.  Unknown custom sections are ignored (as
#     in the real one); sections the real one implements but this file does
#     not (%Unsupported) make the run BAIL_OUT instead of being ignored.
#   env: TEST_NGINX_BINARY TEST_NGINX_LOAD_MODULES TEST_NGINX_SERVER_PORT
#     TEST_NGINX_PORT TEST_NGINX_CLIENT_PORT TEST_NGINX_SERVROOT
#     TEST_NGINX_TIMEOUT TEST_NGINX_SLEEP TEST_NGINX_LOG_LEVEL
#     TEST_NGINX_MASTER_PROCESS TEST_NGINX_NO_SHUFFLE TEST_NGINX_NO_CLEAN
#     TEST_NGINX_CHECK_ACCUM_ERR_LOG TEST_NGINX_VERBOSE; sets (like the real
#     one) TEST_NGINX_SERVER_ROOT at load time and TEST_NGINX_SERVER_PORT in
#     run_tests().  Nothing sets TEST_NGINX_HTML_DIR (the real one doesn't).
#   $TEST_NGINX_* expansion (incl. TEST_NGINX_RAND_PORT_N) in config,
#   http_config, main_config, post_main_config, user_files, pipelined requests
#   and non-regex response_body, as the real one does.
#
#   valgrind mode (TEST_NGINX_USE_VALGRIND, TEST_NGINX_VALGRIND_EXIT_ON_FIRST_ERR)
#     as in the real Util.pm: nginx runs in the foreground (`daemon off;`,
#     master_process as configured, off by default) under
#     `valgrind --num-callers=100 -q --tool=memcheck --leak-check=full
#     --keep-debuginfo=yes --show-possibly-lost=no --gen-suppressions=all
#     [--suppressions=valgrind.suppress]` when the variable is a number, or
#     `valgrind -q $TEST_NGINX_USE_VALGRIND` when it holds options; it is
#     stopped with SIGQUIT at the end of each block (so leaks are reported per
#     block), and must_die blocks run without valgrind.  Unlike the real one
#     (which leaves valgrind's output on the terminal for a human to read),
#     valgrind's output is also CHECKED per block: every error record
#     (Invalid read/write/free, uninitialised values, definitely lost, ...)
#     fails the block with the record and its suppression.  Extension:
#     TEST_NGINX_VALGRIND_MUST_DIE=1 runs must_die blocks under valgrind too
#     (a configuration that fails is what `nginx -s reload` leaves behind in
#     a running master), checked the same way.
#   TEST_NGINX_LD_PRELOAD (prepended to LD_PRELOAD for nginx only, as in the
#     real one).  Sanitizer reports (AddressSanitizer, LeakSanitizer,
#     UndefinedBehaviorSanitizer `runtime error:`) in nginx's stderr or in
#     error.log, while a block runs or while its nginx shuts down, fail the
#     block, like the real one's "Assertion ... failed" check.
# DOES NOT COVER: stap/check-leak/benchmark/HUP modes, http2/http3/
#   curl, tcp_/udp_ mock servers, skip_*/todo sections, request packets with
#   delays, TEST_NGINX_RANDOMIZE, Test::LongString diagnostics (plain is()).
# KNOWN DIFFERENCES: if nginx fails to start in a block without must_die, the
#   real one retries for 30 s and BAIL_OUTs; this one fails that block (one
#   test, with nginx's stderr) and goes on.  Chunked trailers are accepted
#   without a Trailer header.  Under TEST_NGINX_NO_CLEAN the shutdown_error_log
#   checks are dropped instead of reported as skipped.
#
# NOTES that hold for BOTH runners (they come from Test::Base/HTTP::Message):
#   `--- xxx eval` code runs in package Test::Base::Filter, so call functions
#   fully qualified (MIME::Base64::decode_base64, not decode_base64); a
#   response_body_filters code ref gets the body as bytes and must return a
#   byte string (HTTP::Message dies on wide characters); done_testing() without
#   a plan dies in Test::Base's END block ("You tried to plan twice").
#
# PLAN FORM for t/*.t (works identically under both runners, both use
# Test::Base's import/plan):  `use Test::Nginx::Socket 'no_plan';` (or
# `plan tests => N` with the same per-check counting as the real one).
#
# must_die: nginx is started as `nginx -e <servroot>/logs/error.log -p ... -c
# ...` exactly like the real one, so startup [emerg] messages land in
# logs/error.log, which is what --- error_log / --- no_error_log check.

use strict;
use warnings;
use Test::Base -base;
use File::Path qw(make_path remove_tree);
use File::Spec ();
use File::Temp ();
use HTTP::Response ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util qw(shuffle min);
use POSIX qw(EAGAIN SIGQUIT SIGKILL WNOHANG);
use Scalar::Util qw(looks_like_number);
use Time::HiRes qw(sleep);

our @EXPORT = qw(env_to_nginx is_str plan run_tests run_test repeat_each
  config_preamble worker_connections master_process_enabled no_long_string
  workers master_on master_off log_level no_shuffle no_root_location
  server_name server_addr server_root html_dir server_port
  server_port_for_client timeout check_accum_error_log add_block_preprocessor
  bail_out add_test_cleanup_handler add_cleanup_handler add_response_body_check);

our %Supported = map { $_ => 1 } qw(ONLY SKIP LAST config http_config
  main_config post_main_config server_name error_log_file log_level user_files
  request raw_request raw_request_middle_delay pipelined_requests more_headers
  server_addr_for_client timeout abort ignore_response wait must_die
  suppress_stderr error_code error_code_like response_headers
  response_headers_like raw_response_headers_like raw_response_headers_unlike
  response_body response_body_like response_body_unlike response_body_filters
  error_log no_error_log access_log no_access_log grep_error_log
  grep_error_log_out shutdown_error_log no_shutdown_error_log);

our %Unsupported = map { $_ => 1 } qw(curl curl_error curl_options
  curl_protocol http2 http3 http09 stap stap_out stap_out_like stap_out_unlike
  tcp_listen tcp_reply tcp_query tcp_query_len tcp_shutdown tcp_reply_delay
  tcp_no_close udp_listen udp_reply udp_query udp_reply_delay skip_nginx
  skip_nginx2 skip_eval skip_openssl skip_slave todo todo_nginx init
  post_setup_server_root shutdown request_eval response_body_eval charset
  response_body_json_sort write_resp_body_file reload_fails no_check_leak
  no_mockeagain quic_max_idle_timeout);

our $NginxBinary         = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $Workers             = 1;
our $WorkerConnections   = 64;
our $LogLevel            = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $ServerPort          = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $ServerAddr          = '127.0.0.1';
our $ServerName          = 'localhost';
our $Timeout             = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $TestNginxSleep      = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $NoShuffle           = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $CheckAccumErrLog    = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $LoadModules         = $ENV{TEST_NGINX_LOAD_MODULES};
our $Verbose             = $ENV{TEST_NGINX_VERBOSE};
our $UseValgrind         = $ENV{TEST_NGINX_USE_VALGRIND};
our $ValgrindExitOnFirstErr = $ENV{TEST_NGINX_VALGRIND_EXIT_ON_FIRST_ERR};
our $ValgrindMustDie     = $ENV{TEST_NGINX_VALGRIND_MUST_DIE};
our $DaemonEnabled       = $UseValgrind ? 'off' : 'on';
our ($ChildPid, $ChildOut, $ChildBlock);   # the nginx run in the foreground
our ($RepeatEach, $NoRootLocation, $NoLongString, $ConfigPreamble) = (1, 0, 0, '');
our (@EnvToNginx, @BlockPreprocessors, @CleanupHandlers, @TestCleanupHandlers,
     @ResponseBodyChecks);
our ($PrevConfig, $PrevBlock, $ErrLogFilePos, $RandPorts, $StartedNginx);

our $ServRoot   = $ENV{TEST_NGINX_SERVROOT} || File::Spec->rel2abs('t/servroot');
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;
our $LogDir     = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";
our $PidFile    = "$LogDir/nginx.pid";
our $CacheDir   = "$ServRoot/cache";

# the real module keeps these in Test::Nginx::Util; alias them for .t files
# that reference them fully qualified.
{ no strict 'refs'; no warnings 'once';
  *{"Test::Nginx::Util::$_"} = \${"Test::Nginx::Socket::$_"}
      for qw(ServerPort ServerPortForClient ServRoot PidFile ConfFile RepeatEach); }

# ---- configuration functions (same names/semantics as Test::Nginx::Util) ----

sub run_test ($);

sub _accessor { my $ref = shift; sub (@) { if (@_) { $$ref = shift; return } $$ref } }
BEGIN { no strict 'refs';
  my %acc = (workers => \$Workers, worker_connections => \$WorkerConnections,
             log_level => \$LogLevel, server_port => \$ServerPort,
             server_port_for_client => \$ServerPortForClient,
             server_addr => \$ServerAddr, server_name => \$ServerName,
             timeout => \$Timeout);
  *{$_} = _accessor($acc{$_}) for keys %acc; }

sub repeat_each (@) { $RepeatEach = shift if @_; $RepeatEach }
sub no_shuffle () { $NoShuffle = 1 }
sub no_long_string () { $NoLongString = 1 }
sub no_root_location () { $NoRootLocation = 1 }
sub master_on () { $MasterProcessEnabled = 'on' }
sub master_off () { $MasterProcessEnabled = 'off' }
sub master_process_enabled (@) {
    return $MasterProcessEnabled unless @_;
    $MasterProcessEnabled = shift() ? 'on' : 'off';
}
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub config_preamble ($) { $ConfigPreamble = shift }
sub html_dir () { $HtmlDir }
sub server_root () { $ServRoot }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($) { unshift @CleanupHandlers, shift }
sub add_test_cleanup_handler ($) { unshift @TestCleanupHandlers, shift }
sub add_response_body_check ($) { push @ResponseBodyChecks, shift }

sub env_to_nginx (@) {
    Carp::croak("env_to_nginx: no arguments specified") unless @_;
    for my $v (@_) {
        Carp::croak("env_to_nginx: bad argument value: $v\n")
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    return Test::More::like($got, $expected, $desc) if ref $expected eq 'Regexp';
    return Test::More::is($got, $expected, $desc);
}

sub bail_out (@) { cleanup(); stop_nginx_foreground(); Test::More::BAIL_OUT(@_) }

sub parse_time ($) {
    my $tm = shift;
    $tm /= 1000 if defined $tm && $tm =~ s/([^_a-zA-Z])ms$/$1/;
    $tm =~ s/([^_a-zA-Z])s$/$1/ if defined $tm;
    return $tm;
}

sub fmt_str { my $s = shift; chomp $s; $s =~ s/"/\\"/g; $s =~ s/\r/\\r/g; $s =~ s/\n/\\n/g; $s }

sub trim {
    my $s = shift;
    return undef unless defined $s;
    $s =~ s/^\s+|\s+$//g; $s =~ s/\n/ /gs; $s =~ s/\s{2,}/ /gs;
    $s;
}

sub gen_rand_port {
    my $used = shift;
    for (1 .. 1000) {
        my $port = 1025 + int rand(65535 - 1025);
        next if $used->{$port};
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                                      Proto => 'tcp', Listen => 1) or next;
        close $s;
        return $port;
    }
    return undef;
}

sub expand_env_in_text ($$) {
    my ($text, $name) = @_;
    return undef unless defined $text;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $v = $1;
        if ($v =~ /^TEST_NGINX_RAND_PORT_[0-9]+$/) {
            my %used = ($ServerPort => 1, map { $_ => 1 } values %$RandPorts);
            $RandPorts->{$v} //= gen_rand_port(\%used)
                // bail_out("$name - Cannot find an available listening port number for $v.\n");
        } else {
            bail_out("$name - No environment $v defined.\n") unless defined $ENV{$v};
            $ENV{$v};
        }
    }eg;
    $text;
}

# ---------------------------- nginx management ------------------------------

sub is_running {
    my $pid = shift;
    return 0 unless $pid && kill 0, $pid;
    if (open my $st, '<', "/proc/$pid/stat") {     # zombies count as gone
        my $l = <$st> // '';
        return 0 if $l =~ /^\d+ \(.*\) Z/s;
    }
    1;
}

sub read_pid {
    open my $in, '<', $PidFile or return undef;
    my $pid = do { local $/; <$in> } // '';
    chomp $pid;
    return $pid =~ /^\d+$/ ? $pid : undef;
}

sub kill_process {
    my $pid = shift;
    return unless is_running($pid);
    kill SIGQUIT, $pid;
    for (my $t = $Timeout; $t > 0 && is_running($pid); $t -= 0.05) { sleep 0.05 }
    if (is_running($pid)) {
        warn "timeout when waiting for the process $pid to exit\n";
        kill SIGKILL, $pid;
        sleep 0.05 while is_running($pid);
    }
}

sub stop_nginx {
    my $pid = read_pid();
    return unless defined $pid;
    # never signal a recycled pid that is no longer an nginx process
    if (open my $c, '<', "/proc/$pid/cmdline") {
        my $cmd = do { local $/; <$c> } // '';
        return unless $cmd =~ /nginx/;
    }
    kill_process($pid);
}

sub cleanup { $_->() for @CleanupHandlers }

sub setup_server_root {
    if (-d $ServRoot) {
        remove_tree($ConfDir, glob("$ServRoot/*_cache"), glob("$ServRoot/*_temp"),
                    $CacheDir, $HtmlDir, $LogDir);
        rmdir $ServRoot or bail_out("Can't remove $ServRoot (not empty?): $!");
    }
    for my $d ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        mkdir $d or bail_out("Failed to do mkdir $d\n");
    }
    open my $out, '>', "$HtmlDir/index.html" or bail_out("Can't open index.html: $!\n");
    print $out '<html><head><title>It works!</title></head><body>It works!</body></html>';
    close $out;
}

sub write_user_files {
    my $block = shift;
    my $name = $block->name;
    my $files = $block->user_files or return;
    if (!ref $files) {
        my ($list, $cur) = ([], undef);
        for my $line (split /^/, $files) {
            if ($line =~ />>> (\S+)(?:\s+(.+))?/) {
                $cur = [$1, undef, $2];
                push @$list, $cur;
            } elsif ($cur) {
                $cur->[1] .= $line;
            }
        }
        $files = $list;
    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type: ", ref $files, ", only scalar or ARRAY are accepted");
    }
    for my $f (@$files) {
        my ($fname, $body, $date) = @$f;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        if ($path =~ m{(.*)/} && !-d $1) {
            make_path($1) or bail_out("$name - Cannot create directory $1");
        }
        $body = expand_env_in_text($body // '', $name);
        open my $out, '>', $path or bail_out("$name - Cannot open $path for writing: $!\n");
        binmode $out;
        print $out $body;
        close $out;
        if ($date) {
            system("TZ=GMT touch -t '$date' '$path'") == 0
                or bail_out("Failed to touch $path\n");
        }
    }
}

my $NginxV;
sub write_config_file {
    my ($block, $config) = @_;
    my $name = $block->name;
    my $http_config = expand_env_in_text($block->http_config, $name) // '';
    my $main_config = $block->main_config // '';
    if ($LoadModules) {
        my @mods = map { "load_module $_;" } grep { $_ } split /\s+/, $LoadModules;
        $main_config = join ' ', @mods, $main_config if @mods;
    }
    $main_config = expand_env_in_text($main_config, $name);
    my $post_main = expand_env_in_text($block->post_main_config, $name) // '';
    my $err_log = expand_env_in_text($block->error_log_file || $ErrLogFile, $name);
    my $server_name = $block->server_name // $ServerName;
    $NginxV //= `$NginxBinary -V 2>&1`;
    my $temp = '';
    for my $t (qw(client_body proxy fastcgi scgi uwsgi)) {
        next if $t =~ /^(?:client_body|proxy)$/ ? $http_config =~ /\b${t}_temp_path\b/
                                                : $NginxV =~ /--without-http_${t}_module/;
        $temp .= " ${t}_temp_path $ServRoot/${t}_temp;";
    }
    my $env = join '', map { my $v = /\s/ ? "'$_'" : $_; "env $v;\n" } @EnvToNginx;
    my $root = $NoRootLocation ? '' : <<"_EOC_";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_
    my $user = $> == 0 ? "user root;\n" : '';
    # a must_die block dies while parsing its configuration, before it could
    # daemonize; `daemon on` keeps one that does not die from hanging the run
    my $daemon = defined $block->must_die ? 'on' : $DaemonEnabled;
    open my $out, '>', $ConfFile or bail_out("Can't open $ConfFile for writing: $!\n");
    print $out <<"_EOC_";
worker_processes  $Workers;
daemon $daemon;
master_process $MasterProcessEnabled;
error_log $err_log $LogLevel;
pid       $PidFile;
env MOCKEAGAIN_VERBOSE;
env MOCKEAGAIN;
env MOCKEAGAIN_WRITE_TIMEOUT_PATTERN;
env LD_PRELOAD;
env LD_LIBRARY_PATH;
env DYLD_INSERT_LIBRARIES;
env DYLD_FORCE_FLAT_NAMESPACE;
${env}
$main_config

http {
    access_log $AccLogFile;$temp

    default_type text/plain;
    keepalive_timeout  68000ms;

$http_config
    server {
        listen          $ServerPort;
        server_name     '$server_name';
        client_max_body_size 30M;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root    }
}

$post_main

events {
    accept_mutex off;

    worker_connections  $WorkerConnections;
}
env ASAN_OPTIONS;
env MOCKNOEAGAIN_VERBOSE;
env MOCKNOEAGAIN;
$user
_EOC_
    close $out;
}

# the command line: nginx, under valgrind when asked, TEST_NGINX_LD_PRELOAD
# prepended to LD_PRELOAD (as the real Util.pm builds it)
sub nginx_command {
    my ($valgrind) = @_;
    my @cmd = ($NginxBinary, '-e', "$LogDir/error.log", '-p', "$ServRoot/", '-c', $ConfFile);
    my $sh = join ' ', map { "'$_'" } @cmd;
    if ($valgrind) {
        my $opts;
        if ($UseValgrind =~ /^\d+$/) {
            $opts = "--tool=memcheck --leak-check=full --keep-debuginfo=yes "
                  . "--show-possibly-lost=no";
            if ($ValgrindExitOnFirstErr) {
                if (`valgrind --help 2>&1` =~ /exit-on-first-error/) {
                    $opts .= " --exit-on-first-error=yes --error-exitcode=1";
                } else {
                    warn "WARNING: valgrind does not support --exit-on-first-error option\n";
                }
            }
            $opts = "--num-callers=100 -q $opts --gen-suppressions=all";
            $opts .= " --suppressions=valgrind.suppress" if -f 'valgrind.suppress';
        } else {
            $opts = "-q $UseValgrind";
        }
        $sh = "valgrind $opts $sh";
    }
    # `env`, so that the shell's `exec` (valgrind mode) takes it too
    $sh = qq!env LD_PRELOAD="${\ ld_preload()}" $sh! if defined ld_preload();
    return $sh;
}

sub ld_preload {
    return undef unless defined $ENV{TEST_NGINX_LD_PRELOAD};
    my $pre = $ENV{TEST_NGINX_LD_PRELOAD};
    $pre .= " $ENV{LD_PRELOAD}" if defined $ENV{LD_PRELOAD};
    return $pre;
}

# runs nginx (it daemonizes); returns (wait status, stderr text, command)
sub start_nginx {
    my ($block, $valgrind) = @_;
    my $errf = File::Temp->new;
    my $cmd = nginx_command($valgrind);
    my $sh = "$cmd >/dev/null 2>'" . $errf->filename . "'";
    warn "command: $sh\n" if $Verbose;
    system($sh);
    my $status = $?;
    my $stderr = do { local $/; open my $in, '<', $errf->filename; <$in> } // '';
    print STDERR $stderr unless defined $block->suppress_stderr && !$valgrind;
    check_memory_reports($block->name, [split /^/, $stderr], 'stderr');
    check_valgrind_output($block->name, $stderr) if $valgrind;
    $StartedNginx = 1;
    return ($status, $stderr, $cmd);
}

# valgrind mode: nginx in the foreground (daemon off), a child of this
# process, its stderr (where valgrind writes) in logs/valgrind.out.  Returns
# '' once nginx has written its pid file (it listens by then), or what went
# wrong.
sub start_nginx_foreground {
    my $block = shift;
    my $cmd = nginx_command(1);
    $ChildOut = "$LogDir/valgrind.out";
    warn "command: $cmd\n" if $Verbose;
    warn $block->name, "\n";      # the real one names each block on stderr too
    my $pid = fork;
    bail_out($block->name . " - fork() failed: $!") unless defined $pid;
    if ($pid == 0) {
        setpgrp;
        Test::More->builder->no_ending(1);
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $ChildOut;
        exec '/bin/sh', '-c', "exec $cmd" or POSIX::_exit(127);
    }
    ($ChildPid, $ChildBlock) = ($pid, $block);
    $StartedNginx = 1;
    my $limit = 30 + 10 * $Timeout;
    for (my $t = 0; $t < $limit; $t += 0.05) {
        return '' if -s $PidFile;
        if (waitpid($pid, WNOHANG) == $pid) {
            my $st = $?;
            undef $ChildPid;
            my $out = read_file($ChildOut);
            print STDERR $out;
            check_valgrind_output($block->name, $out);
            return "nginx exited with status $st: $out";
        }
        sleep 0.05;
    }
    stop_nginx_foreground();
    return "no pid file after $limit s";
}

# SIGQUIT, then wait for valgrind's leak check; its output checked
sub stop_nginx_foreground {
    my $pid = $ChildPid or return;
    my $name = $ChildBlock ? $ChildBlock->name : 'END';
    undef $ChildPid;
    kill SIGQUIT, $pid;
    my $limit = 30 + 10 * $Timeout;
    my $t = 0;
    while (waitpid($pid, WNOHANG) == 0) {
        if (($t += 0.05) > $limit) {
            warn "$name - timeout when waiting for the process $pid to exit\n";
            kill SIGKILL, -$pid;
            waitpid($pid, 0);
            last;
        }
        sleep 0.05;
    }
    my $st = $?;
    my $out = read_file($ChildOut);
    print STDERR $out;
    if ($st & 127) {
        fail("$name - nginx under valgrind ended by signal " . ($st & 127));
    }
    check_valgrind_output($name, $out);
    unlink $PidFile;    # gone after a clean exit; not after SIGKILL
}

sub read_file {
    my $f = shift;
    open my $in, '<', $f or return '';
    local $/;
    return <$in> // '';
}

# valgrind's output (it writes only errors with -q): every record that is not
# a "Warning:" fails the block, with the suppression valgrind generated
sub check_valgrind_output {
    my ($name, $text) = @_;
    return unless defined $text && $text =~ /^==\d+== /m;
    my (@records, $cur, $supp);
    for my $line (split /^/, $text) {
        if ($supp) {                                  # the suppression
            push @{ $records[-1] }, $line if @records;
            $supp = 0 if $line =~ /^\}\s*$/;
        } elsif ($line =~ /^==\d+== ?(.*)$/s) {
            my $body = $1;
            if ($body =~ /^\s*$/) { undef $cur; next }
            if (!$cur) { $cur = [$line]; push @records, $cur }
            else { push @$cur, $line }
        } elsif ($line =~ /^\{\s*$/) {
            $supp = 1;
            undef $cur;
            push @{ $records[-1] }, $line if @records;
        }
    }
    for my $r (@records) {
        my ($first) = $r->[0] =~ /^==\d+== (.*)/;
        if ($first =~ /^Warning:/) {
            Test::More::diag("$name - valgrind: $first");
            next;
        }
        fail("$name - valgrind: $first\n" . join('', @$r));
    }
}

# AddressSanitizer / LeakSanitizer / UndefinedBehaviorSanitizer reports
my $SanitizerRe = qr/(?:ERROR|SUMMARY): (?:Address|Leak|Thread|Memory|UndefinedBehavior)Sanitizer|AddressSanitizer:DEADLYSIGNAL|^\S+:\d+:\d+: runtime error: /;
sub check_memory_reports {
    my ($name, $lines, $where) = @_;
    my @hit = grep { $lines->[$_] =~ $SanitizerRe } 0 .. $#$lines;
    return unless @hit;
    my $from = $hit[0];
    my $to = min($from + 60, $#$lines);
    fail("$name - sanitizer report in $where:\n" . join '', @$lines[$from .. $to]);
}

# --------------------------------- the run ----------------------------------

sub run_tests () {
    my $v = `$NginxBinary -V 2>&1`;
    if (!defined $v || $? != 0) {
        bail_out("Failed to get the version of the Nginx in PATH: " . ($v // ''));
    }
    $ENV{TEST_NGINX_SERVER_PORT} //= $ServerPort;
    for my $block ($NoShuffle ? Test::Base::blocks() : shuffle Test::Base::blocks()) {
        $_->($block) for @BlockPreprocessors;
        $block->set_value("name", $0 . " " . $block->name);
        run_test($block);
        $_->($block) for @TestCleanupHandlers;
        $PrevBlock = $block;
    }
    cleanup();
}

sub check_prev_block_shutdown_error_log {
    my $b = $PrevBlock or return;
    undef $PrevBlock;
    return if $ENV{TEST_NGINX_NO_CLEAN};
    check_shutdown_error_log($b);
}

sub run_test ($) {
    my $block = shift;
    return if defined $block->SKIP;
    my $name = $block->name;
    for my $s (@{ $block->{_section_order}[0] || [] }) {
        bail_out("$name - section '--- $s' is not implemented by the "
                 . "t/compat Test::Nginx::Socket stand-in") if $Unsupported{$s};
    }
    $RandPorts = {};
    my $config = expand_env_in_text($block->config, $name);
    local $LogLevel = $block->log_level || $LogLevel;
    my $must_die = $block->must_die;

    if (!defined $config) {
        # like the real one: keep the nginx of the previous block running
        bail_out("$name - No '--- config' section specified and could not "
                 . "get previous one. Use TEST_NGINX_NO_NGINX_MANAGER ?")
            unless defined $PrevConfig;
    } else {
        $PrevConfig = $config;
        stop_nginx();
        check_prev_block_memory_reports();
        check_prev_block_shutdown_error_log();
        setup_server_root();
        write_user_files($block);
        write_config_file($block, $config);
        my $bin = $NginxBinary =~ m{/} ? (-x $NginxBinary ? $NginxBinary : undef)
                : (grep { -f "$_/$NginxBinary" && -x _ } split /:/, $ENV{PATH})[0];
        bail_out("$name - Cannot find the nginx executable in the PATH environment")
            unless $bin;
        $ErrLogFilePos = 0;
        if (defined $must_die) {
            for my $i (0 .. $RepeatEach - 1) {
                my ($status) = start_nginx($block, $UseValgrind && $ValgrindMustDie);
                my $exit = $status >> 8;
                if ($status == -1) {
                    fail("$name - failed to execute the nginx command line");
                } elsif ($status & 128) {
                    fail("$name - nginx core dumped");
                } elsif (looks_like_number($must_die)) {
                    Test::More::is($must_die, $exit, "$name - die with the expected exit code");
                } else {
                    Test::More::isnt($status, 0, "$name - die as expected");
                }
                check_error_log($block, $i, 0);
                if ($status == 0) {
                    warn "WARNING: $name - nginx must die but it does not; killing it (req $i)";
                    for (1 .. 15) { last if -f $PidFile; sleep $TestNginxSleep }
                    stop_nginx();
                }
            }
            return;
        }
        if ($UseValgrind) {
            my $err = start_nginx_foreground($block);
            if ($err ne '') {
                fail("$name - Cannot start nginx under valgrind: $err");
                return;
            }
        } else {
            my ($status, $stderr, $cmd);
            for (my $waited = 0; ; $waited += 0.2) {
                ($status, $stderr, $cmd) = start_nginx($block);
                last if $status == 0 || $stderr !~ /Address already in use/ || $waited > 5;
                sleep 0.2;
            }
            if ($status != 0) {
                fail("$name - Cannot start nginx using command \"$cmd\" "
                     . "(status code $status): $stderr");
                return;
            }
        }
        sleep $TestNginxSleep;
    }

    $ErrLogFilePos = 0;
    for my $i (1 .. $RepeatEach) {
        write_user_files($block) if $i > 1;
        run_test_helper($block, $i - 1);
    }
    # like the real one: under valgrind nginx stops after each block, so
    # that its leaks are reported (and checked) for this block
    stop_nginx_foreground() if $UseValgrind;
}

# what the previous block's nginx wrote to error.log while it shut down
sub check_prev_block_memory_reports {
    my $b = $PrevBlock or return;
    open my $in, '<', $ErrLogFile or return;
    seek $in, $ErrLogFilePos, 0 if $ErrLogFilePos && !$CheckAccumErrLog;
    my @lines = <$in>;
    check_memory_reports($b->name, \@lines, 'error.log (shutdown)');
}

END {
    local $?;
    cleanup();
    stop_nginx_foreground();
    if ($StartedNginx && !$ENV{TEST_NGINX_NO_CLEAN}) {
        stop_nginx();
        check_prev_block_memory_reports();
    }
    check_prev_block_shutdown_error_log();
}

# ------------------------------ requests ------------------------------------

sub parse_more_headers {
    my ($out, $chunked) = ('', undef);
    for my $h (split /\n+/, shift) {
        next if $h =~ /^\s*\#/;
        my ($k, $v) = split /:\s*/, $h, 2;
        $v //= '';
        $chunked = 1 if lc($k) eq 'transfer-encoding' && $v eq 'chunked';
        $out .= "$k: $v\r\n";
    }
    return ($out, $chunked);
}

# equivalent of the real build_request_from_packets() for one string request
sub build_request {
    my ($name, $hdr, $chunked, $conn, $req) = @_;
    bail_out("$name - Request line should be non-empty") unless defined $req && $req ne '';
    my ($first, $content) = $req =~ /\A([^\n]*\n?)(.*)\z/s;
    $first =~ /^\s*(\S+) *(?:(\S+) *)?(?:(\S+) *)?\s*$/
        or bail_out("$name - Request line is not valid. Should be 'meth [url [version]]' but got \"$first\".");
    my ($meth, $url, $ver) = ($1, $2 // '/', $3 // 'HTTP/1.1');
    my $len = '';
    if (!$chunked && $content ne '' && $hdr !~ /(?:^|\n)Content-Length:/) {
        $content =~ s/^\s+|\s+$//gs;
        $len = "Content-Length: " . length($content) . "\r\n";
    }
    $hdr =~ s/(?<!\r)\n/\r\n/gs;
    my $h = '';
    $h .= "Host: $ServerName\r\n" if $hdr !~ /(?:^|\n)Host:/msi;
    $h .= "Connection: $conn\r\n" if $hdr !~ /(?:^|\n)Connection/msi;
    return "$meth $url $ver\r\n$h$hdr$len\r\n$content";
}

# returns a list of requests; each one is a string or an array of packets
sub get_req_from_block {
    my $block = shift;
    my $name = $block->name;
    if (defined(my $raw = $block->raw_request)) {
        return [ref $raw eq 'ARRAY' ? [@$raw] : $raw];
    }
    my $more = $block->more_headers || '';
    my $hdr_for = sub {
        my $i = shift;
        return parse_more_headers($more) unless ref $more eq 'ARRAY';
        bail_out("--- more_headers lacks data for the request $i") unless defined $more->[$i];
        parse_more_headers($more->[$i]);
    };
    if (my $reqs = $block->pipelined_requests) {
        bail_out("$name - invalid entries in --- pipelined_requests") unless ref $reqs eq 'ARRAY';
        my $all = '';
        for my $i (0 .. $#$reqs) {
            my $r = expand_env_in_text($reqs->[$i], $name);
            $all .= build_request($name, $hdr_for->($i), $i == $#$reqs ? 'close' : 'keep-alive', $r);
        }
        return [$all];
    }
    my $request = $block->request;
    if (defined $request && !ref $request) {
        1 while $request =~ s/^\s*\#[^\n]+\s+|^\s+//gs;
    }
    my @list = ref $request eq 'ARRAY' ? @$request : ($request);
    my @out;
    for my $i (0 .. $#list) {
        bail_out("$name - request packets are not supported by the t/compat stand-in")
            if ref $list[$i];
        push @out, build_request($name, $hdr_for->($i), 'close', $list[$i]);
    }
    return \@out;
}

sub send_request {
    my ($req, $timeout, $block) = @_;
    my $name = $block->name;
    my @bits = ref $req ? @$req : ($req);
    my $head_req = (join '', @bits) =~ /^\s*HEAD\s+/ ? 1 : 0;
    my $addr = $block->server_addr_for_client // $ServerAddr;
    my $sock;
    for my $try (1 .. 50) {
        $sock = IO::Socket::INET->new(PeerAddr => $addr, PeerPort => $ServerPortForClient,
                                      Proto => 'tcp', Timeout => $timeout) and last;
        my $wait = min(1, ($TestNginxSleep + $TestNginxSleep * $try) * $try / 2);
        warn "$name - Can't connect to $addr:$ServerPortForClient: $!\n" if $wait >= 0.6;
        sleep $wait;
    }
    if (!$sock) {
        fail("$name - Can't connect to $addr:$ServerPortForClient: $! (aborted)\n");
        return;
    }
    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';
    my ($resp, $buf, $off, $wdone) = ('', shift(@bits), 0, 0);
    my $sel = IO::Select->new($sock);
    while (1) {
        my ($r, $w) = IO::Select->select($sel, $wdone ? undef : $sel, undef, $timeout);
        if (!$r && !$w) {
            Test::More->builder->no_ending(1), fail("ERROR: client socket timed out - $name\n")
                unless defined $block->abort;
            last;
        }
        if ($w && @$w && !$wdone) {
            my $n = syswrite($sock, $buf, length($buf) - $off, $off);
            if (!defined $n) {
                next if $! == EAGAIN;
                warn "write failed: $!\n";
                $resp ||= "write failed: $!";
                last;
            }
            $off += $n;
            if ($off >= length $buf) {
                $buf = shift @bits;
                $off = 0;
                if (!defined $buf) { $wdone = 1 }
                elsif (my $d = $block->raw_request_middle_delay) { sleep $d }
            }
        }
        if ($r && @$r) {
            my $n = sysread($sock, my $chunk, 4096);
            if (!defined $n) {
                next if $! == EAGAIN;
                warn "WARNING: $name - HTTP response read failure: $!";
                last;
            }
            last if $n == 0;
            $resp .= $chunk;
        }
    }
    close $sock;
    return ($resp, $head_req);
}

sub parse_response {
    my ($name, $raw, $head_req) = @_;
    my $raw_headers = $raw =~ /(.*?\r\n)\r\n/s ? $1 : '';
    my $res = HTTP::Response->parse($raw);
    my $code = $res->code;
    if ($code && $code !~ /^\d+$/) { undef $code; $res->code(undef) }
    return ($res, $raw_headers) if $code && ($code == 304 || $code == 101);
    my $enc = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');
    my $left;
    my $bad = sub { Test::More->builder->no_ending(1); fail("$name - $_[0]"); () };
    if (defined $enc && $enc eq 'chunked') {
        my $body = $res->content // '';
        my $dec = '';
        while (1) {
            if ($body =~ /\G[ \t]*([A-Fa-f0-9]+)[ \t]*\r\n/gc) {
                my $size = hex $1;
                if ($size == 0) {
                    $body =~ /\G(?:[^\r\n]+\r\n)*\r\n/gc
                        or return $bad->("invalid chunked data received (expected CRLF).");
                    $left = $1 if $body =~ /\G(.+)/gcs;
                    last;
                }
                my $pos = pos $body;
                return $bad->("invalid chunked data received (not enought octets for the data section)")
                    if length($body) - $pos < $size;
                $dec .= substr $body, $pos, $size;
                pos($body) = $pos + $size;
                $body =~ /\G\r\n/gc
                    or return $bad->("invalid chunked data received (expected CRLF).");
            } elsif ($body =~ /\G(.+)/gcs) {
                return $bad->("invalid chunked body received: $1");
            } else {
                return $bad->("no last chunk found - $body");
            }
        }
        $res->content($dec);
    } elsif (defined $len && $len ne '' && $len >= 0) {
        my $body = $res->content;
        if (length $body < $len) {
            warn "WARNING: $name - response body truncated: $len expected, but got ",
                 length $body, "\n" unless $head_req;
        } elsif (length $body > $len) {
            $left = substr $body, $len;
            $res->content(substr $body, 0, $len);
        }
    }
    return ($res, $raw_headers, $left);
}

sub get_indexed_value ($$$$) {
    my ($name, $value, $idx, $need_array) = @_;
    if ($need_array) {
        return $value->[$idx] if ref $value eq 'ARRAY';
        bail_out("$name - You asked for many requests, the expected results should be arrays as well.");
    }
    return ref $value eq 'ARRAY' ? $value->[0] : $value;
}

sub parse_headers {
    my (@keys, %h);   # unique keys (the real one uses a hash), in file order
    for (split /^/, shift) {
        s/^\s+|\s+$//g;
        my ($k, $v) = s/^!\s*// ? ($_, undef) : split /\s*:\s*/, $_, 2;
        push @keys, $k unless exists $h{$k};
        $h{$k} = $v;
    }
    return map { [$_, $h{$_}] } @keys;
}

sub run_filter_helper {
    my ($block, $f, $content) = @_;
    return $f->($content) if ref $f eq 'CODE';
    bail_out($block->name . " - the --- response_body_filters section only supports "
             . "subroutine reference values and string values") if ref $f;
    my %builtin = (md5_hex => sub { require Digest::MD5; Digest::MD5::md5_hex($_[0]) },
                   sha1_hex => sub { require Digest::SHA; Digest::SHA::sha1_hex($_[0]) },
                   uc => sub { uc $_[0] }, lc => sub { lc $_[0] },
                   ucfirst => sub { ucfirst $_[0] }, lcfirst => sub { lcfirst $_[0] },
                   length => sub { length $_[0] });
    my $code = $builtin{$f} or bail_out($block->name . " - unknown filter, \"$f\", "
                                        . "specified in the --- response_body_filters section");
    return $code->($content);
}

sub transform_response_body {
    my ($block, $res, $idx) = @_;
    return unless defined $res && defined $res->content;
    my $filters = $block->response_body_filters;
    return unless defined $filters;
    if (!ref $filters) {
        $filters =~ s/^\s+|\s+$//gs;
        $filters = [split /\s+/, $filters];
    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }
    if (ref $filters->[0] eq 'ARRAY') {   # one filter list per request
        $filters = $filters->[$idx];
        bail_out($block->name . " - the ---response_body_filters two-dimensional array "
                 . "unmatch the specified request($idx)") unless defined $filters;
    }
    my $new = $res->content;
    $new = run_filter_helper($block, $_, $new) for ref $filters eq 'ARRAY' ? @$filters : ($filters);
    $res->content($new);
}

sub check_response {
    my ($block, $res, $raw_headers, $idx, $rep, $need_array) = @_;
    my $name = $block->name;
    my $code = ($res && $res->code) || '';
    if (defined $block->error_code_like) {
        my $v = get_indexed_value($name, $block->error_code_like, $idx, $need_array);
        like($code, qr/$v/sm, "$name - status code ok");
    } else {
        my $v = defined $block->error_code
            ? get_indexed_value($name, $block->error_code, $idx, $need_array) : 200;
        Test::More::is($code, $v, "$name - status code ok");
    }
    for my $t (qw(like unlike)) {
        my $sec = "raw_response_headers_$t";
        my $pat = $block->$sec;
        next unless defined $pat;
        $pat = get_indexed_value($name, $pat, $idx, $need_array);
        no strict 'refs';
        &{"Test::More::$t"}($raw_headers, qr/$pat/s, "$name - raw resp headers $t");
    }
    if (defined $block->response_headers) {
        for my $kv (parse_headers(get_indexed_value($name, $block->response_headers, $idx, $need_array))) {
            my ($key, $val) = @$kv;
            if (!defined $val) {
                unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                       "$name - header $key not present in the raw headers");
                next;
            }
            $val =~ s/\$ServerPort\b/$ServerPort/g;
            $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            Test::More::is(($res ? $res->header($key) : undef) // '', $val, "$name - header $key ok");
        }
    } elsif (defined $block->response_headers_like) {
        for my $kv (parse_headers(get_indexed_value($name, $block->response_headers_like, $idx, $need_array))) {
            my ($key, $val) = @$kv;
            like(($res ? $res->header($key) : undef) // '', qr/^$val$/, "$name - header $key like ok");
        }
    }
    transform_response_body($block, $res, $idx);
    my $content = $res ? $res->content : undef;
    if (defined $content) {
        $content =~ s/^TE: deflate,gzip;q=0\.3\r\n//gms;
        $content =~ s/^Connection: TE, close\r\n//gms;
    }
    if (defined $block->response_body) {
        my $exp = get_indexed_value($name, $block->response_body, $idx, $need_array);
        if (defined $exp && !ref $exp) {
            $exp =~ s/\$ServerPort\b/$ServerPort/g;
            $exp =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            $exp = expand_env_in_text($exp, $name);
        }
        my $sfx = "(repeated req $rep, req $idx)";
        if (ref $exp) { like($content, $exp, "$name - response_body - like $sfx") }
        else { Test::More::is($content, $exp, "$name - response_body - response is expected $sfx") }
    } elsif (defined $block->response_body_like || defined $block->response_body_unlike) {
        my $type = defined $block->response_body_like ? 'like' : 'unlike';
        my $sec = "response_body_$type";
        my $pat = get_indexed_value($name, $block->$sec, $idx, $need_array);
        $pat =~ s/\$ServerPort\b/$ServerPort/g;
        $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        my $summary = trim($content) // '';
        no strict 'refs';
        &{"Test::More::$type"}($content, qr/$pat/s,
                               "$name - response_body_$type - response is expected ($summary)");
    }
    $_->($block, $res ? $res->content : undef, $idx, $rep, 0) for @ResponseBodyChecks;
}

sub run_test_helper {
    my ($block, $rep) = @_;
    my $name = $block->name;
    my $reqs = get_req_from_block($block);
    bail_out("$name - request empty") unless @$reqs;
    my $timeout = parse_time($block->timeout) // $Timeout;
    my $pipelined = $block->pipelined_requests;
    my $need_array = $pipelined ? 1 : @$reqs > 1;
    my $idx = 0;
    for my $r (0 .. $#$reqs) {
        my ($resp, $head_req) = send_request($reqs->[$r], $timeout, $block);
        my $n = $pipelined ? @$pipelined : 0;
        while (1) {
            $resp //= '';
            my ($res, $raw_headers, $left);
            ($res, $raw_headers, $left) = parse_response($name, $resp, $head_req)
                unless defined $block->ignore_response;
            if (!$n) {
                if ($left) {
                    $left =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}',ord $1)/eg;
                    warn "WARNING: $name - unexpected extra bytes after last chunk in response: \"$left\"\n";
                }
            } else {
                ($resp, $n) = ($left, $n - 1);
            }
            check_response($block, $res, $raw_headers // '', $idx, $rep, $need_array)
                unless defined $block->ignore_response;
            if ($n || $r < $#$reqs) {
                sleep $block->wait if $block->wait;
                check_error_log($block, $rep, $need_array);
            }
            $idx++;
            last unless $n;
        }
    }
    sleep $block->wait if $block->wait;
    check_error_log($block, $rep, $need_array);
}

# ------------------------------- log checks ---------------------------------

sub read_log {
    my $file = shift;
    sleep $TestNginxSleep * 3;   # let the log phase finish writing
    open my $in, '<', $file or return [];
    seek $in, $ErrLogFilePos, 0 if $file eq $ErrLogFile && !$CheckAccumErrLog && $ErrLogFilePos;
    my @lines = <$in>;
    $ErrLogFilePos = tell $in if $file eq $ErrLogFile && !$CheckAccumErrLog;
    return \@lines;
}

sub pat_list {
    my $pats = shift;
    if (!ref $pats) { chomp $pats; return [split /\n+/, $pats] }
    return ref $pats eq 'Regexp' ? [$pats] : [@$pats];
}

sub matches { my ($line, $pat) = @_; ref $pat && $line =~ /$pat/ || $line =~ /\Q$pat\E/ }

# one section's patterns against log lines; $sfx is e.g. " (req 0)"
sub check_patterns {
    my ($name, $negate, $pats, $lines, $file, $sfx) = @_;
    $pats = pat_list($pats);
    if (!$negate) {
        for my $line (@$lines) {
            for my $p (@$pats) {
                next unless defined $p && matches($line, $p);
                pass("$name - pattern \"$p\" matches a line in $file$sfx");
                undef $p;
            }
        }
        for my $p (grep { defined } @$pats) {
            fail("$name - pattern \"$p\" should match a line in $file$sfx");
        }
        return;
    }
    my %found;
    for my $i (0 .. $#$lines) {
        for my $p (grep { defined } @$pats) {
            next unless matches($lines->[$i], $p);
            Test::More->builder->no_ending(1) if $found{$p}++;
            my @more = @$lines[$i + 1 .. min($i + 10, @$lines - 1) - 1];
            fail("$name - pattern \"" . fmt_str($p) . "\" should not match any line in $file but "
                 . "matches line \"" . fmt_str($lines->[$i]) . "\"$sfx\n" . join '', @more);
        }
    }
    for my $p (grep { defined && !$found{$_} } @$pats) {
        pass("$name - pattern \"" . fmt_str($p) . "\" does not match a line in $file$sfx");
    }
}

sub check_error_log {
    my ($block, $rep, $need_array) = @_;
    my $name = $block->name;
    my $lines;
    my $grep_pat = $block->grep_error_log;
    $grep_pat = $grep_pat->[$rep] if ref $grep_pat eq 'ARRAY';
    bail_out("$name - No --- grep_error_log defined but --- grep_error_log_out is defined")
        if !defined $block->grep_error_log && defined $block->grep_error_log_out;
    if (defined $grep_pat) {
        my $exp = expand_env_in_text($block->grep_error_log_out
            // bail_out("$name - No --- grep_error_log_out defined but --- grep_error_log is defined"), $name);
        $exp = $exp->[$rep] if ref $exp eq 'ARRAY';
        $lines ||= read_log($ErrLogFile);
        my $got = '';
        for my $l (@$lines) {   # $& must come from a match in this scope
            if (ref $grep_pat && $l =~ /$grep_pat/ || $l =~ /\Q$grep_pat\E/) {
                $got .= "$&\n" if $& !~ /\n/;
            }
        }
        is_str($got, $exp, "$name - grep_error_log_out (req $rep)");
    }
    my %skip;
    for my $sec (qw(error_log no_error_log)) {
        my $pats = $block->$sec;
        next unless defined $pats;
        for my $lvl (qw(alert crit emerg)) {
            $skip{$lvl} = 1 if grep { (!ref || ref eq 'Regexp') && /\Q[$lvl\E/ }
                                   ref $pats eq 'ARRAY' ? @$pats : ($pats);
        }
        $lines ||= read_log($ErrLogFile);
        check_patterns($name, $sec =~ /^no_/ ? 1 : 0, $pats, $lines, 'error.log', " (req $rep)");
    }
    $lines ||= read_log($ErrLogFile);
    for my $line (@$lines) {
        for my $lvl (qw(alert crit emerg)) {
            warn "WARNING: $name - " . fmt_str($line) . "\n" if !$skip{$lvl} && $line =~ /\[$lvl\]/;
        }
        if ($line =~ /\bAssertion .*?failed\b/) {
            Test::More->builder->no_ending(1);
            chomp(my $l = $line);
            fail("$name - $l\n");
        }
    }
    check_memory_reports($name, $lines, 'error.log');
    return if defined $block->ignore_response || defined $block->must_die;
    for my $sec (qw(access_log no_access_log)) {
        my $pats = $block->$sec;
        check_patterns($name, $sec =~ /^no_/ ? 1 : 0, $pats, read_log($AccLogFile), 'access.log', " (req $rep)")
            if defined $pats;
    }
}

sub check_shutdown_error_log {
    my $block = shift;
    my $lines;
    for my $sec (qw(shutdown_error_log no_shutdown_error_log)) {
        my $pats = $block->$sec;
        next unless defined $pats;
        $lines ||= read_log($ErrLogFile);
        check_patterns($block->name, $sec =~ /^no_/ ? 1 : 0, $pats, $lines, 'error.log', '');
    }
}

1;
