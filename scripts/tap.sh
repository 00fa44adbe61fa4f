# shellcheck shell=bash
# TAP-like counting for the shell suites (e2e/run.sh, webhook.sh, acme.sh,
# multinode.sh and recording.sh through e2e/lib.sh; t/build, t/load,
# t/deb): one "ok - ..." or
# "not ok - ..." line per check, comments as "# ...", and a last line
# "N passed, N failed[, N skipped]" that scripts/test.sh reads.  Source it;
# it defines functions and the counters only.

passed=0 failed=0 skipped=0
failures=()
tap_started=$(date +%s)

ok()    { passed=$((passed + 1)); echo "ok - $*"; }
notok() { failed=$((failed + 1)); failures+=("$*"); echo "not ok - $*"; }
skip()  { skipped=$((skipped + 1)); echo "ok - # SKIP $*"; }
# check WHAT CMD...: one check; its status is CMD's (`check ... || finish`)
check() { local what=$1; shift; if "$@"; then ok "$what"; else notok "$what"; return 1; fi; }
note()  { echo "# $*"; }

# tally NAME CMD...: runs CMD, counts its "ok - " / "not ok - " lines;
# other lines become comments, tokens are masked (Chromium's console quotes
# URLs).  A non-zero exit without a "not ok" line is a failure too.
tally() {
    local name=$1; shift
    local before=$failed rc line tmp
    tmp=$(mktemp)
    "$@" >"$tmp" 2>&1
    rc=$?
    sed -i -E 's/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/<jwt>/g' "$tmp"
    while IFS= read -r line; do
        case $line in
            "ok - # SKIP"*) skipped=$((skipped + 1)); echo "$line" ;;
            "ok - "*)     passed=$((passed + 1)); echo "$line" ;;
            "not ok - "*) failed=$((failed + 1)); failures+=("${line#not ok - }"); echo "$line" ;;
            "#"*)         echo "$line" ;;
            *)            echo "# $line" ;;
        esac
    done <"$tmp"
    rm -f "$tmp"
    if [ "$rc" -ne 0 ] && [ "$failed" -eq "$before" ]; then
        notok "$name exited with status $rc"
    fi
}

# summary [WHERE]: where the logs are (WHERE, else $tap_where), the time
# taken, the failed checks, the last line; non-zero when a check failed
summary() {
    local where=${1:-${tap_where:-}}
    echo
    note "${where:+$where; }$(( $(date +%s) - tap_started ))s"
    ((failed)) && printf '# failed: %s\n' "${failures[@]}"
    if ((skipped)); then
        echo "$passed passed, $failed failed, $skipped skipped"
    else
        echo "$passed passed, $failed failed"
    fi
    ((failed == 0))
}
