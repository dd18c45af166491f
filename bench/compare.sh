#!/usr/bin/env bash
# Times wirescope against tcpdump and tshark on one multi-million-packet mixed capture, in one
# run, and prints tables with packets/s, CPU time, peak RSS and ratios to
# `tcpdump -r X -w /dev/null`.
#
#   bench/compare.sh                          # 5 M packets, best of 3
#   PACKETS=1000000 RUNS=5 bench/compare.sh
#   NICE=-19 bench/compare.sh                 # as root on a busy machine
#   PCAP=/path/to/lab.pcap bench/compare.sh   # benchmark an existing capture instead
#
# Two sets are timed:
#   full      the capture as generated: `wirescope -r X -q` (full default analysis, summary
#             suppressed), `wirescope -r X --json`, `tcpdump -r X -w /dev/null`,
#             `tshark -q -z conv,ip -r X`, and single-core (`taskset -c 0`) runs of
#             tcpdump and wirescope;
#   headers   the same packets cut to 96 bytes (`editcap -s 96`), so that per-packet work
#             rather than copying payload bytes dominates: tcpdump and wirescope only.
#
# Environment:
#   PACKETS  packets to generate (default 5000000); the capture is regenerated when PACKETS,
#            SEED or the generator's mix version change
#   SEED     generator seed (default 1)
#   RUNS     timed runs per command, best kept (default 3)
#   PCAP     use this capture instead of generating $OUT/mix.pcap
#   OUT      directory for captures and results (default target/bench)
#   NICE     run every timed command under `nice -n $NICE` (e.g. -19 as root on a shared,
#            busy machine: all tools get the same priority, so the comparison stays fair)
#   HEADERS  0 to skip the headers-only set (default 1)
#
# Needs: cargo, tcpdump, tshark and editcap (Debian tshark, wireshark-common), GNU time
# (/usr/bin/time, Debian package `time`), taskset (util-linux). A missing tool is an error:
# this script never skips a measurement silently.
# Results: the tables on stdout and in $OUT/results.md; every run's numbers in $OUT/runs.tsv.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKETS="${PACKETS:-5000000}"
SEED="${SEED:-1}"
RUNS="${RUNS:-3}"
OUT="${OUT:-target/bench}"
NICE="${NICE:-}"
HEADERS="${HEADERS:-1}"

die() { echo "compare.sh: $*" >&2; exit 1; }

for tool in cargo tcpdump tshark editcap taskset; do
  command -v "$tool" >/dev/null \
    || die "$tool not found (Debian packages: tcpdump, tshark, wireshark-common, util-linux)"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found: install the Debian package 'time' (GNU time, for CPU time and peak RSS)"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ "$PACKETS" =~ ^[1-9][0-9]*$ ]] || die "PACKETS must be a positive integer"
PRIO=()
if [[ -n "$NICE" ]]; then
  [[ "$NICE" =~ ^-?[0-9]+$ ]] || die "NICE must be an integer"
  nice -n "$NICE" true 2>/dev/null || die "cannot run at nice $NICE (negative values need root)"
  PRIO=(nice -n "$NICE")
fi

echo "== building (release)" >&2
cargo build --release --locked --bin wirescope -p wirescope-cli >&2
cargo build --release --locked --bin wirescope-genmix -p wirescope-testkit >&2
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
WIRESCOPE="$TARGET_DIR/release/wirescope"
GENMIX="$TARGET_DIR/release/wirescope-genmix"
[[ -x "$WIRESCOPE" && -x "$GENMIX" ]] || die "release binaries not found under $TARGET_DIR/release"

mkdir -p "$OUT"
if [[ -n "${PCAP:-}" ]]; then
  [[ -r "$PCAP" ]] || die "cannot read PCAP=$PCAP"
  CAP="$PCAP"
  EXPECTED=""
  stamp="pcap=$(stat -c '%n %s %Y' "$PCAP")"
else
  CAP="$OUT/mix.pcap"
  stamp="packets=$PACKETS seed=$SEED $("$GENMIX" --version)"
  if [[ ! -s "$CAP" || "$(cat "$CAP.stamp" 2>/dev/null)" != "$stamp" ]]; then
    echo "== generating $CAP ($PACKETS packets, seed $SEED)" >&2
    rm -f "$CAP.stamp"
    "$GENMIX" --packets "$PACKETS" --seed "$SEED" --out "$CAP" 2> "$OUT/genmix.txt" \
      || { cat "$OUT/genmix.txt" >&2; die "wirescope-genmix failed"; }
    cat "$OUT/genmix.txt" >&2
    echo "$stamp" > "$CAP.stamp"
  fi
  EXPECTED="$PACKETS"
fi
SIZE=$(stat -c %s "$CAP")
HCAP="$OUT/headers96.pcap"
if [[ "$HEADERS" != 0 && ( ! -s "$HCAP" || "$(cat "$HCAP.stamp" 2>/dev/null)" != "$stamp" ) ]]; then
  echo "== cutting packets to 96 bytes into $HCAP" >&2
  rm -f "$HCAP.stamp"
  editcap -s 96 -F nsecpcap "$CAP" "$HCAP" || die "editcap failed"
  echo "$stamp" > "$HCAP.stamp"
fi

# The packet count, from wirescope's own report (untimed), checked against the generator's.
cat "$CAP" > /dev/null
"$WIRESCOPE" -r "$CAP" --json --no-progress > "$OUT/wirescope.json" || die "wirescope --json failed"
NPKT=$(grep -m1 '^  "packets":' "$OUT/wirescope.json" | tr -dc '0-9')
[[ -n "$NPKT" ]] || die "no packet count in $OUT/wirescope.json"
if [[ -n "$EXPECTED" && "$NPKT" != "$EXPECTED" ]]; then
  die "wirescope counted $NPKT packets, the generator wrote $EXPECTED"
fi

# Sets of (name, file, command); the command runs under bash -c with its stdout discarded
# unless it redirects itself. The first row of each CPU set is the tcpdump baseline.
NAMES=() FILES=() CMDS=() BASE=() SET=()
add() { SET+=("$1"); NAMES+=("$2"); FILES+=("$3"); CMDS+=("$4"); BASE+=("$5"); }
add full "tcpdump -w /dev/null" "$CAP" "tcpdump -r '$CAP' -w /dev/null" 0
add full "wirescope -q" "$CAP" "'$WIRESCOPE' -r '$CAP' -q" 0
add full "wirescope -q --no-app" "$CAP" "'$WIRESCOPE' -r '$CAP' -q --no-app" 0
add full "wirescope --json" "$CAP" "'$WIRESCOPE' -r '$CAP' --json >/dev/null" 0
add full "tshark -q -z conv,ip" "$CAP" "tshark -q -z conv,ip -r '$CAP' >'$OUT/tshark-conv.txt'" 0
add full "taskset -c 0 tcpdump -w /dev/null" "$CAP" "taskset -c 0 tcpdump -r '$CAP' -w /dev/null" 5
add full "taskset -c 0 wirescope -q" "$CAP" "taskset -c 0 '$WIRESCOPE' -r '$CAP' -q" 5
add full "taskset -c 0 wirescope -q --no-app" "$CAP" "taskset -c 0 '$WIRESCOPE' -r '$CAP' -q --no-app" 5
add full "taskset -c 0 wirescope --json" "$CAP" "taskset -c 0 '$WIRESCOPE' -r '$CAP' --json >/dev/null" 5
if [[ "$HEADERS" != 0 ]]; then
  add headers "tcpdump -w /dev/null" "$HCAP" "tcpdump -r '$HCAP' -w /dev/null" 9
  add headers "wirescope -q" "$HCAP" "'$WIRESCOPE' -r '$HCAP' -q" 9
  add headers "wirescope --json" "$HCAP" "'$WIRESCOPE' -r '$HCAP' --json >/dev/null" 9
  add headers "taskset -c 0 tcpdump -w /dev/null" "$HCAP" "taskset -c 0 tcpdump -r '$HCAP' -w /dev/null" 12
  add headers "taskset -c 0 wirescope -q" "$HCAP" "taskset -c 0 '$WIRESCOPE' -r '$HCAP' -q" 12
fi

declare -A BEST CPU RSS
printf 'round\tset\tcommand\twall_s\tcpu_s\tpeak_rss_kb\n' > "$OUT/runs.tsv"
less() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# One timed run: wall clock from bash's microsecond clock; CPU time (user + system) and peak
# RSS (%M, KiB) of the command from GNU time.
run_once() {
  local i=$1 round=$2 t0 t1 secs cpu kb
  # Re-warm before every run: this kernel reclaims cold page-cache pages proactively (DAMON),
  # so a capture read a minute ago may be partly back on disk.
  cat "${FILES[$i]}" > /dev/null
  t0=$EPOCHREALTIME
  "${PRIO[@]}" /usr/bin/time -f '%M %U %S' -o "$OUT/time.out" bash -c "${CMDS[$i]}" 2>"$OUT/stderr.txt" \
    || { cat "$OUT/stderr.txt" >&2; die "'${NAMES[$i]}' (${SET[$i]}) failed"; }
  t1=$EPOCHREALTIME
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  read -r kb cpu < <(tail -n1 "$OUT/time.out" | awk '{ printf "%d %.2f\n", $1, $2 + $3 }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "${SET[$i]}" "${NAMES[$i]}" "$secs" "$cpu" "$kb" >> "$OUT/runs.tsv"
  echo "   round $round, ${SET[$i]}: ${NAMES[$i]}: $secs s wall, $cpu s CPU, $((kb / 1024)) MB" >&2
  if [[ -z "${BEST[$i]:-}" ]] || less "$secs" "${BEST[$i]}"; then BEST[$i]=$secs; fi
  if [[ -z "${CPU[$i]:-}" ]] || less "$cpu" "${CPU[$i]}"; then CPU[$i]=$cpu; fi
  if [[ -z "${RSS[$i]:-}" || "$kb" -gt "${RSS[$i]}" ]]; then RSS[$i]=$kb; fi
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_BEFORE%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
  echo "compare.sh: warning: load average $LOAD_BEFORE on $(nproc) CPUs: other work will disturb the wall-clock timings (CPU times are sturdier)" >&2
fi
echo "== timing: $RUNS rounds, commands interleaved" >&2
for ((r = 1; r <= RUNS; r++)); do
  for i in "${!CMDS[@]}"; do run_once "$i" "$r"; done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

table() {
  local set=$1 i
  echo "| command | wall s | packets/s (wall) | CPU s | packets/s (CPU) | peak RSS (MB) | wall vs tcpdump | CPU vs tcpdump |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for i in "${!CMDS[@]}"; do
    [[ "${SET[$i]}" == "$set" ]] || continue
    awk -v name="${NAMES[$i]}" -v s="${BEST[$i]}" -v c="${CPU[$i]}" -v kb="${RSS[$i]}" -v n="$NPKT" \
      -v base="${BEST[${BASE[$i]}]}" -v cbase="${CPU[${BASE[$i]}]}" \
      'function rate(x) { return x > 0 ? sprintf("%.2f M", n / x / 1e6) : "n/a" }
       function ratio(x, y) { return x > 0 && y > 0 ? sprintf("%.2f", x / y) : "n/a" }
       BEGIN { printf "| `%s` | %.2f | %s | %.2f | %s | %.0f | %s | %s |\n",
               name, s, rate(s), c, rate(c), kb / 1024, ratio(s, base), ratio(c, cbase) }'
  done
}

cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)
{
  echo "Capture: $CAP ($NPKT packets, $((SIZE / 1048576)) MiB, $((SIZE / NPKT - 16)) B/packet on average)"
  echo "Machine: $cpu, $(nproc) CPUs, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM, Linux $(uname -r)"
  echo "Tools: $("$WIRESCOPE" --version), $(rustc --version | cut -d' ' -f1-2), tcpdump $(tcpdump --version 2>&1 | sed -n 's/^tcpdump version //p'), $(tcpdump --version 2>&1 | grep -m1 -o 'libpcap version [^ ]*'), $(tshark --version 2>/dev/null | sed -n 's/^TShark (Wireshark) \([^ ]*\).*/tshark \1/p')"
  echo "Load average before/after: $LOAD_BEFORE / $LOAD_AFTER${NICE:+; commands run at nice $NICE}"
  echo "Best of $RUNS runs: wall-clock and CPU (user + system) minima taken separately; peak RSS is"
  echo "the highest of the runs. Ratios divide by the tcpdump row on the same CPU set (lower is faster);"
  echo "GNU time reports CPU time in 10 ms steps, so use captures of a million packets or more."
  echo
  echo "Full packets:"
  echo
  table full
  echo
  # The application layer's cost: throughput with it as a share of throughput without it
  # (the issue's bound: at least 70 %, i.e. the app layer costs at most 30 %).
  awk -v c="${CPU[1]}" -v n="${CPU[2]}" -v pc="${CPU[6]}" -v pn="${CPU[7]}" \
    'BEGIN { printf "Application layer: throughput with it / without it (`--no-app`), by CPU time: %.2f (all cores), %.2f (one core)\n", n / c, pn / pc }'
  if [[ "$HEADERS" != 0 ]]; then
    echo
    echo "Headers only (the same packets cut to 96 bytes, $(($(stat -c %s "$HCAP") / 1048576)) MiB):"
    echo
    table headers
  fi
} | tee "$OUT/results.md"
