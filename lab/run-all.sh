#!/usr/bin/env bash
# Run all lab scenarios (or the given ones), a few at a time, and summarise.
#   lab/run-all.sh OUTDIR [SCENARIO...]
# LAB_JOBS (default 3) scenarios run in parallel; every run has its own
# namespaces (prefix wsl<PID>-), so runs cannot see each other's traffic.
# Exits non-zero if any scenario failed (a missing tool is a failure).
set -uo pipefail
LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scenarios.sh
source "$LAB_DIR/scenarios.sh"

(($# >= 1)) || { echo "usage: $0 OUTDIR [SCENARIO...]" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "run-all: must run as root" >&2; exit 2; }
OUT=$1
shift
mkdir -p "$OUT" || exit 2
OUT=$(cd "$OUT" && pwd)
JOBS=${LAB_JOBS:-3}

# Longest first so the parallel slots finish together.
ORDER=(beacon nmap_slow brute_ftp brute_ssh slowloris arp_spoof dns_tunnel benign_iperf
    benign_dns web_attack benign_ping host_sweep masscan ddos_multi syn_flood ddos_spoofed
    udp_flood icmp_flood benign_ssh benign_web nmap_udp nmap_fin nmap_xmas nmap_null
    nmap_syn nmap_connect)
if (($# > 0)); then LIST=("$@"); else LIST=("${ORDER[@]}"); fi
for s in "${LIST[@]}"; do
    declare -F "sc_$s" >/dev/null || { echo "unknown scenario: $s" >&2; exit 2; }
done
# every scenario is in ORDER
for s in "${SCENARIOS_ATTACK[@]}" "${SCENARIOS_BENIGN[@]}"; do
    [[ " ${ORDER[*]} " == *" $s "* ]] || { echo "run-all: $s missing from ORDER" >&2; exit 2; }
done

"$LAB_DIR/clean-stale.sh"

T0=$(date +%s.%N)
declare -A PID
running=0
for s in "${LIST[@]}"; do
    while ((running >= JOBS)); do
        wait -n
        running=$((running - 1))
    done
    echo "[$(date +%T)] start $s"
    "$LAB_DIR/run.sh" "$s" "$OUT" >"$OUT/$s.log" 2>&1 &
    PID[$s]=$!
    running=$((running + 1))
done
wait
T1=$(date +%s.%N)

fail=0
printf '\n%-14s %-6s %8s %9s  %s\n' scenario status seconds packets message
for s in "${LIST[@]}"; do
    line=$(grep -a '^RESULT' "$OUT/$s.log" | tail -1)
    if [[ -z $line ]]; then
        line=$(printf 'RESULT\t%s\tFAIL\t-\t-\tno result line (see %s.log)' "$s" "$s")
    fi
    IFS=$'\t' read -r _ name status secs pk msg <<<"$line"
    [[ $status == ok ]] || fail=$((fail + 1))
    printf '%-14s %-6s %8s %9s  %s\n' "$name" "$status" "$secs" "$pk" "$msg"
done
printf '\n%d scenarios, %d failed, wall time %.0f s, output in %s\n' \
    "${#LIST[@]}" "$fail" "$(awk -v a="$T0" -v b="$T1" 'BEGIN{print b - a}')" "$OUT"
((fail == 0))
