#!/usr/bin/env bash
# Run one lab scenario: lab/run.sh SCENARIO OUTDIR
# Writes OUTDIR/SCENARIO.pcap and OUTDIR/SCENARIO.truth; exits non-zero when a
# tool is missing, fails, or the capture does not hold the expected packets.
# Last line on stdout: RESULT<TAB>scenario<TAB>ok|FAIL<TAB>seconds<TAB>packets<TAB>message
set -uo pipefail
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$LAB_DIR/lib.sh"
# shellcheck source=scenarios.sh
source "$LAB_DIR/scenarios.sh"

usage() {
    echo "usage: $0 SCENARIO OUTDIR" >&2
    echo "scenarios: ${SCENARIOS_ATTACK[*]} ${SCENARIOS_BENIGN[*]}" >&2
    exit 2
}
(($# == 2)) || usage
LAB_SCENARIO=$1
declare -F "sc_$LAB_SCENARIO" >/dev/null || { echo "unknown scenario: $LAB_SCENARIO" >&2; usage; }
mkdir -p "$2" || exit 2
OUT=$(cd "$2" && pwd)

SC_KIND='' SC_TOOL='' LAB_START=$(lab_now)
lab_result() {
    local rc=$? status=ok pk=0 secs
    secs=$(awk -v a="$LAB_START" -v b="$(lab_now)" 'BEGIN{printf "%.1f", b - a}')
    ((rc == 0)) || status=FAIL
    [[ -s $OUT/$LAB_SCENARIO.pcap ]] && pk=$(tcpdump -nn -r "$OUT/$LAB_SCENARIO.pcap" 2>/dev/null | wc -l)
    printf 'RESULT\t%s\t%s\t%s\t%s\t%s\n' "$LAB_SCENARIO" "$status" "$secs" "$pk" "${LAB_FAIL_MSG:-}"
    lab_cleanup "$rc"
}

lab_init
trap lab_result EXIT
cd "$LAB_TMP" || exit 1
lab_truth_init "$OUT/$LAB_SCENARIO.truth"
lab_log "start (namespaces ${LAB_P}*, output $OUT)"
"sc_$LAB_SCENARIO"
[[ -n $SC_KIND && -n $SC_TOOL ]] || lab_die "scenario did not set SC_KIND/SC_TOOL"
lab_truth_finish "$LAB_SCENARIO" "$SC_KIND" "$SC_TOOL"
lab_log "done"
