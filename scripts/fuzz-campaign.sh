#!/usr/bin/env bash
# A recorded fuzzing campaign (make fuzz-campaign): every harness of
# scripts/fuzz.sh for FUZZ_CAMPAIGN_CPU seconds of CPU time (default 600:
# ten CPU-minutes, enforced with the CPU-time limit, ulimit -t, so that a
# busy machine or a harness that waits on files does not cut it short;
# FUZZ_CAMPAIGN_SECONDS, default four times as much, caps the wall time),
# FUZZ_LANES harnesses at a time (default: the number of CPUs), each from
# fuzz/corpus/<harness> with its dictionary.  Then, per harness:
#
#   - what it found is merged into fuzz/corpus/<harness> with libFuzzer's
#     -merge=1: only inputs that add coverage are kept, beside the seeds;
#   - the coverage of the kept corpus (libFuzzer's "cov", edges, and "ft",
#     features), replayed with -runs=0 before and after;
#   - its executions and the CPU time it used (user + system, from
#     /usr/bin/time's rusage), and how far into the run its coverage last
#     grew (the share of its executions: a late growth says "run longer").
#
# The table goes to build/fuzz/campaign/summary.md (copied into
# fuzz/README.md by hand, with the date).  A crasher (a file in
# build/fuzz/campaign/crashes/) fails the run, as in scripts/fuzz.sh; CI
# never runs this (it runs scripts/fuzz.sh for 5 s a harness over the kept
# corpora).  FUZZ_CAMPAIGN_SUMMARY_ONLY=1 writes the table again from the
# last run.
#
#   scripts/fuzz-campaign.sh                        every harness
#   FUZZ_TARGETS="aws_ini aws_creds" scripts/fuzz-campaign.sh
set -euo pipefail

. "$(dirname "$0")/lib.sh"
LOG_NAME=fuzz-campaign
cpu=${FUZZ_CAMPAIGN_CPU:-600}
seconds=${FUZZ_CAMPAIGN_SECONDS:-$((4 * cpu))}
lanes=${FUZZ_LANES:-$(nproc 2>/dev/null || echo 2)}
targets=${FUZZ_TARGETS:-"args json webhook join revoke invite keys aws_ssm aws_creds aws_sts aws_ini aws_container aws_imds text"}
out=$repo/build/fuzz
camp=$out/campaign
mkdir -p "$camp"

apt_install time || die "cannot install time (/usr/bin/time)"

# build every harness and replay the regressions first
FUZZ_TARGETS="$targets" FUZZ_SECONDS=0 "$repo/scripts/fuzz.sh"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$repo/fuzz/ubsan.supp}

# cov and ft of a corpus, replayed without fuzzing
coverage() { # harness dir
    "$out/bin/fuzz_$1" -runs=0 "$2" 2>&1 \
        | sed -n 's/.*INITED cov: \([0-9]*\) ft: \([0-9]*\).*/\1 \2/p' | tail -n 1
}

run_one() { # harness
    local t=$1 bin=$out/bin/fuzz_$1 work=$camp/$1 dict=()
    rm -rf "$work" "$camp/$t".*
    rm -f "$camp/crashes/$t"-*
    mkdir -p "$work" "$camp/crashes"
    [ -f "$repo/fuzz/dict/$t.dict" ] && dict=(-dict="$repo/fuzz/dict/$t.dict")
    coverage "$t" "$repo/fuzz/corpus/$t" >"$camp/$t.before"
    # the CPU-time limit ends the run (SIGXCPU); every input it found is
    # in $work already
    ( ulimit -t "$cpu"
      exec /usr/bin/time -f '%U %S' -o "$camp/$t.cpu" \
        "$bin" "$work" "$repo/fuzz/corpus/$t" "${dict[@]}" \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$camp/crashes/$t-" ) >"$camp/$t.log" 2>&1 || true
    # keep what adds coverage, beside the seeds
    "$bin" -merge=1 "$repo/fuzz/corpus/$t" "$work" >"$camp/$t.merge.log" 2>&1
    coverage "$t" "$repo/fuzz/corpus/$t" >"$camp/$t.after"
}

[ -n "${FUZZ_CAMPAIGN_SUMMARY_ONLY:-}" ] || {
log "campaign: ${cpu} CPU-s (at most ${seconds} s) per harness, $lanes at a time: $targets"
running=0
for t in $targets; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$lanes" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait
}

# the share of the executions after which coverage ("cov") last grew
last_growth() { # log
    awk '/^#[0-9]+/ {
             n = substr($1, 2) + 0
             for (i = 1; i <= NF; i++) if ($i == "cov:") c = $(i + 1) + 0
             if (c > best) { best = c; at = n }
             last = n
         }
         END { if (last) printf "%d%%", 100 * at / last; else print "?" }' "$1"
}

failed=0
{
    printf '| harness | CPU s | executions | cov before | cov after | ft after | cov last grew at | corpus files |\n'
    printf '|---|---|---|---|---|---|---|---|\n'
    for t in $targets; do
        read -r u s < <(tail -n 1 "$camp/$t.cpu") || { u=0; s=0; }
        # the final stats when the wall-time cap ended the run, else the
        # last count libFuzzer printed before the CPU limit stopped it
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$camp/$t.log" | tail -n 1)
        [ -n "$execs" ] || execs=$(grep -a -o '^#[0-9]*' "$camp/$t.log" | tail -n 1 | tr -d '#')
        read -r cb fb <"$camp/$t.before" || cb='?'
        read -r ca fa <"$camp/$t.after" || { ca='?'; fa='?'; }
        n=$(find "$repo/fuzz/corpus/$t" -type f | wc -l)
        status=
        if ls "$camp/crashes/$t"-* >/dev/null 2>&1; then
            status=' CRASH'; failed=1
        fi
        printf '| `%s`%s | %.0f | %s | %s | %s | %s | %s | %s |\n' "$t" "$status" \
            "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" "${execs:-?}" \
            "$cb" "$ca" "$fa" "$(last_growth "$camp/$t.log")" "$n"
    done
} >"$camp/summary.md"
cat "$camp/summary.md"
[ "$failed" = 0 ] || { log "crashers in $camp/crashes"; exit 1; }
