#!/usr/bin/env perl
# Runs TAP test files like `prove` (output as prove prints it) and ends with
# one line `N passed, N failed`, counting tests, not files: a file that dies
# or stops short of its plan counts its missing tests as failed (at least
# one).  Exit status 0 only when nothing failed.
#
#   scripts/prove-count.pl [-I dir]... t/*.t
use strict;
use warnings;
use TAP::Harness;

my @lib;
while (@ARGV && $ARGV[0] eq '-I') {
    shift @ARGV;
    push @lib, shift @ARGV;
}
die "usage: $0 [-I dir]... test.t...\n" unless @ARGV;

my $harness = TAP::Harness->new({ lib => \@lib, verbosity => 0 });
my $agg = $harness->runtests(@ARGV);

my ($passed, $failed) = (0, 0);
for my $file ($agg->descriptions) {
    my ($p) = $agg->parsers($file);
    my $ok = scalar $p->passed;
    my $bad = scalar $p->failed;
    my $planned = $p->tests_planned // $p->tests_run;
    my $missing = $planned - $p->tests_run;
    $missing = 0 if $missing < 0;
    $bad += $missing;
    $bad = 1 if !$bad && ($p->has_problems || $p->exit);
    $passed += $ok;
    $failed += $bad;
}
print "$passed passed, $failed failed\n";
exit($failed ? 1 : 0);
