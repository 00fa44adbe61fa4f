#!/usr/bin/env bash
# A recorded fuzzing campaign (make fuzz-campaign): every harness of
# scripts/fuzz.sh for FUZZ_CAMPAIGN_SECONDS of wall time (default 660, so
# that a harness gets its 10 CPU-minutes on a machine doing little else),
# FUZZ_LANES harnesses at a time (default: the number of CPUs), each from
# fuzz/corpus/<harness> with its dictionary.  Then, per harness:
#
#   - what it found is merged into fuzz/corpus/<harness> with libFuzzer's
#     -merge=1: only inputs that add coverage are kept, beside the seeds;
#   - the coverage of the kept corpus (libFuzzer's "cov", edges, and "ft",
#     features), replayed with -runs=0 before and after;
#   - its executions and the CPU time it used (user + system, from
#     /usr/bin/time's rusage).
#
# The table goes to build/fuzz/campaign/summary.md (copied into
# fuzz/README.md by hand, with the date).  Crashers fail the run, as in
# scripts/fuzz.sh; CI never runs this (it runs scripts/fuzz.sh for 5 s a
# harness over the kept corpora).
#
#   scripts/fuzz-campaign.sh                        every harness
#   FUZZ_TARGETS="aws_ini aws_creds" scripts/fuzz-campaign.sh
set -euo pipefail

. "$(dirname "$0")/lib.sh"
LOG_NAME=fuzz-campaign
seconds=${FUZZ_CAMPAIGN_SECONDS:-660}
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
    rm -rf "$work"
    mkdir -p "$work" "$camp/crashes"
    [ -f "$repo/fuzz/dict/$t.dict" ] && dict=(-dict="$repo/fuzz/dict/$t.dict")
    coverage "$t" "$repo/fuzz/corpus/$t" >"$camp/$t.before"
    /usr/bin/time -f '%U %S' -o "$camp/$t.cpu" \
        "$bin" "$work" "$repo/fuzz/corpus/$t" "${dict[@]}" \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$camp/crashes/$t-" >"$camp/$t.log" 2>&1 \
        || echo "crash" >"$camp/$t.crash"
    # keep what adds coverage, beside the seeds
    "$bin" -merge=1 "$repo/fuzz/corpus/$t" "$work" >"$camp/$t.merge.log" 2>&1
    coverage "$t" "$repo/fuzz/corpus/$t" >"$camp/$t.after"
}

log "campaign: ${seconds}s per harness, $lanes at a time: $targets"
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

failed=0
{
    printf '| harness | CPU s | executions | cov before | cov after | ft after | corpus files |\n'
    printf '|---|---|---|---|---|---|---|\n'
    for t in $targets; do
        read -r u s <"$camp/$t.cpu" || { u=0; s=0; }
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$camp/$t.log" | tail -n 1)
        read -r cb fb <"$camp/$t.before" || cb='?'
        read -r ca fa <"$camp/$t.after" || { ca='?'; fa='?'; }
        n=$(find "$repo/fuzz/corpus/$t" -type f | wc -l)
        status=
        if [ -f "$camp/$t.crash" ]; then status=' CRASH'; failed=1; fi
        printf '| `%s`%s | %.0f | %s | %s | %s | %s | %s |\n' "$t" "$status" \
            "$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')" "${execs:-?}" "$cb" "$ca" "$fa" "$n"
    done
} >"$camp/summary.md"
cat "$camp/summary.md"
[ "$failed" = 0 ] || { log "crashers in $camp/crashes"; exit 1; }
