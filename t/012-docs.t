# The README documents what the code's tables hold: every grant word of
# ngx_http_livekit_grants[] in the livekit_token_grants table, every reply
# code of ngx_http_livekit_codes[] in the Errors table, every directive with
# a Syntax line -- and nothing the code does not have.

use strict;
use warnings;
use Test::More;

sub slurp { local (@ARGV, $/) = @_; <> }

my $vocab  = slurp('src/ngx_http_livekit_token_vocab.c');
my $readme = slurp('README.md');

my ($grants_c) = $vocab =~ /ngx_http_livekit_grants\[\] = \{(.*?)\n\};/s;
my @words = $grants_c =~ /ngx_string\("([^"]+)"\)/g;
ok(@words >= 20, 'the grant table has its words') or diag scalar @words;

my ($grants_md) = $readme =~ /\n### livekit_token_grants\n(.*?)\n### /s;
my %doc_words = map { $_ => 1 } $grants_md =~ /^\| `([^`=]+)`/mg;

for my $w (@words) {
    ok(delete $doc_words{$w}, "README documents grant word $w");
}
delete @doc_words{qw(canPublishSources destinationRoom)};
is(join(',', sort keys %doc_words), '', 'README documents no grant word the code lacks');

my ($codes_c) = $vocab =~ /ngx_http_livekit_codes\[\] = \{(.*?)\n\};/s;
my @codes = $codes_c =~ /\{ \d{3}, "([a-z_]+)" \}/g;
ok(@codes >= 25, 'the code table has its codes') or diag scalar @codes;

my ($errors_md) = $readme =~ /\n## Errors\n(.*?)\n## /s;
my %doc_codes;
for my $row ($errors_md =~ /^\| (\d{3} \|[^\n]*)$/mg) {
    my ($status, $names) = $row =~ /^(\d{3}) \| ([^|]*)\|/;
    $doc_codes{$_} = $status for $names =~ /`([a-z_]+)`/g;
}

for my $c (@codes) {
    my ($want) = $codes_c =~ /\{ (\d{3}), "\Q$c\E" \}/;
    is($doc_codes{$c}, $want, "README lists $c with status $want");
    delete $doc_codes{$c};
}
is(join(',', sort keys %doc_codes), '', 'README lists no code the code lacks');

my %directives = map { $_ => 1 }
    join('', map { slurp($_) } glob 'src/*.c') =~ /\{ ngx_string\("(livekit_[a-z_]+)"\),\s*NGX_/g;
my %syntax = map { $_ => 1 } $readme =~ /^ +(?:Syntax: +)?(livekit_[a-z_]+)\b[^\n]*;$/mg;
for my $d (sort keys %directives) {
    ok($syntax{$d}, "README has a Syntax line for $d");
}

done_testing();
