#!/usr/bin/env bash
# Live-capture zero-drop benchmark: replays the same packets at increasing rates over a veth
# pair inside a private network namespace and finds, in one run, the highest rate at which
# wirescope (full default analysis) and `tcpdump -w /dev/null` each capture every packet with
# no drop; prints a table and the ratio of the two rates.
#
#   sudo bench/live-zero-drop.sh [CAPTURE]      # CAPTURE: default target/bench/mix.pcap
#   sudo PACKETS=50000 RATES="20000 100000 topspeed" bench/live-zero-drop.sh
#
# CAPTURE is the mixed capture (5 M packets) that bench/compare.sh generates with
# wirescope-genmix into target/bench/mix.pcap: run `bench/compare.sh` once (or
# `cargo run --release -p wirescope-testkit --bin wirescope-genmix -- --packets 5000000
# --seed 1 --out target/bench/mix.pcap`). Any Ethernet pcap works.
#
# Method: the first PACKETS packets of CAPTURE are cut into a temporary file, so every trial
# replays exactly the same packets. A namespace wsbench-PID is created holding both ends of
# a veth pair (wsb-tx, wsb-rx; MTU 9000, IPv6 and ARP off, no addresses, so the kernel adds
# no packet of its own); nothing in it is connected to the host's interfaces. For each rate
# and each capturer: the capturer is started on wsb-rx and waited for, tcpreplay sends the
# file on wsb-tx at that rate (--pps=R, or --topspeed; preloaded in memory with -K; bounded by
# the file and by `timeout`), 1 s later the capturer gets SIGINT and its own counters are read:
#   wirescope  `--json` summary, `capture` object: drops = kernel_dropped +
#              interface_dropped + queue_dropped; captured must equal the packets sent
#   tcpdump    stderr: drops = "dropped by kernel" (+ "dropped by interface");
#              "packets captured" must equal the packets sent
# A trial is zero-drop when drops = 0 and captured = packets tcpreplay sent. The rate
# reported is the one tcpreplay achieved ("Rated: ... pps"), which on a small machine can be
# well below the one asked. Trials alternate between capturers at each rate, so drift in the
# machine's load hits them alike.
#
# Environment:
#   PACKETS    packets replayed per trial (default 500000)
#   RATES      packets/s to ask tcpreplay for, in order; "topspeed" = as fast as it can
#              (default "50000 100000 200000 300000 400000 600000 800000 topspeed")
#   WIRESCOPE  wirescope binary (default target/release/wirescope; needs live capture, -i)
#   NODETECT   1 (default): also measure `wirescope --no-detect` as a column; 0: skip
#   ONEWORKER  1 (default): also measure `wirescope --workers 1` (one analysis thread) as a
#              column, next to wirescope's live default of one worker per core; 0: skip
#   BUFFER_KIB kernel capture buffer in KiB, passed as -B to every capturer (default: unset,
#              libpcap's default, 2 MiB, for all)
#   NICE       run capturers and tcpreplay under `nice -n $NICE` (e.g. -19 on a busy machine)
#   PIN        unset (default): the scheduler places everything. "split": tcpreplay on CPU 0
#              (the veth's receive path normally runs in its context, so the kernel's copy
#              into the capture ring does too), the capturer (all its threads) on CPU 1, so
#              the sender's rate depends less on how much CPU the capturer takes. "shared":
#              both on CPU 0, competing for one core. Note that tcpreplay busy-waits: it takes
#              a whole core even at low --pps
#   SETTLE     seconds between the end of a replay and SIGINT (default 1)
#   OUT        directory for the per-trial TSV (default target/bench)
#   KEEP       1: keep the temporary directory (cut capture, every trial's logs)
#
# Needs root (namespace, packet sockets), iproute2, tcpreplay, tcpdump, jq, timeout. Exit
# status: 0 when the sweep ran (whatever was dropped), non-zero on a setup error.
set -euo pipefail
export LC_ALL=C

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PROG="live-zero-drop.sh"
IN="${1:-$ROOT/target/bench/mix.pcap}"
PACKETS="${PACKETS:-500000}"
RATES="${RATES:-50000 100000 200000 300000 400000 600000 800000 topspeed}"
WIRESCOPE="${WIRESCOPE:-$ROOT/target/release/wirescope}"
NODETECT="${NODETECT:-1}"
ONEWORKER="${ONEWORKER:-1}"
BUFFER_KIB="${BUFFER_KIB:-}"
NICE="${NICE:-}"
SETTLE="${SETTLE:-1}"
OUT="${OUT:-$ROOT/target/bench}"
KEEP="${KEEP:-0}"

NS="wsbench-$$"
TX="wsb-tx"
RX="wsb-rx"

die() { echo "$PROG: $*" >&2; exit 2; }
note() { echo "$PROG: $*" >&2; }

case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
esac
[[ $# -le 1 ]] || die "one argument at most (the capture); see --help"

# ---- checks (all before anything is created) ----
if [[ "$(id -u)" -ne 0 ]]; then
  die "must run as root: it creates a network namespace and captures on it (sudo $0 ...)"
fi
for tool in ip tcpreplay tcpdump jq timeout; do
  command -v "$tool" >/dev/null || die "$tool not found (Debian packages: iproute2, tcpreplay, tcpdump, jq, coreutils)"
done
[[ "$PACKETS" =~ ^[1-9][0-9]*$ ]] || die "PACKETS must be a positive integer"
[[ "$SETTLE" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "SETTLE must be a number of seconds"
[[ "$NODETECT" == 0 || "$NODETECT" == 1 ]] || die "NODETECT must be 0 or 1"
[[ "$ONEWORKER" == 0 || "$ONEWORKER" == 1 ]] || die "ONEWORKER must be 0 or 1"
[[ -z "$BUFFER_KIB" || "$BUFFER_KIB" =~ ^[1-9][0-9]*$ ]] || die "BUFFER_KIB must be a positive integer"
read -r -a RATE_LIST <<< "$RATES"
[[ ${#RATE_LIST[@]} -gt 0 ]] || die "RATES is empty"
for r in "${RATE_LIST[@]}"; do
  [[ "$r" == topspeed || "$r" =~ ^[1-9][0-9]*$ ]] || die "bad rate '$r' in RATES (packets/s or 'topspeed')"
done
PRIO=()
if [[ -n "$NICE" ]]; then
  [[ "$NICE" =~ ^-?[0-9]+$ ]] || die "NICE must be an integer"
  PRIO=(nice -n "$NICE")
fi
PIN="${PIN:-}"
TR_PRIO=("${PRIO[@]}") CAP_PRIO=("${PRIO[@]}")
case "$PIN" in
  "") ;;
  split|shared)
    command -v taskset >/dev/null || die "PIN needs taskset (Debian package util-linux)"
    [[ "$(nproc)" -ge 2 || "$PIN" == shared ]] || die "PIN=split needs 2 CPUs"
    TR_PRIO=(taskset -c 0 "${PRIO[@]}")
    if [[ "$PIN" == split ]]; then CAP_PRIO=(taskset -c 1 "${PRIO[@]}"); else CAP_PRIO=(taskset -c 0 "${PRIO[@]}"); fi
    ;;
  *) die "PIN must be unset, split or shared" ;;
esac
[[ -r "$IN" ]] || die "cannot read $IN: generate it with bench/compare.sh (wirescope-genmix), or pass a pcap"
[[ -x "$WIRESCOPE" ]] || die "wirescope binary not found at $WIRESCOPE (cargo build --release -p wirescope-cli, or set WIRESCOPE)"
"$WIRESCOPE" --help 2>/dev/null | grep -q -- '^ *-i <IFACE>' \
  || die "$WIRESCOPE has no live capture (-i): rebuild it from a tree that has it"
! ip netns list | grep -qw "$NS" || die "namespace $NS already exists"
mkdir -p "$OUT" || die "cannot create $OUT"

# ---- cleanup: every process started (by PID), the namespace, the temp dir ----
PIDS=()
NS_MADE=0
TMP=""
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for pid in "${PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  done
  if [[ "$NS_MADE" == 1 ]]; then
    ip netns del "$NS" 2>/dev/null || note "could not delete namespace $NS: ip netns del $NS"
  fi
  if [[ -n "$TMP" && -d "$TMP" ]]; then
    if [[ "$KEEP" == 1 ]]; then note "kept $TMP"; else rm -rf "$TMP"; fi
  fi
}
# A process leaves the list once reaped, so a reused PID is never signalled.
untrack() {
  local keep=() p
  for p in "${PIDS[@]}"; do [[ "$p" == "$1" ]] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP="$(mktemp -d "${TMPDIR:-/tmp}/wsbench.XXXXXX")"
CUT="$TMP/cut.pcap"

# ---- input: the first PACKETS packets, so every trial replays the same ones ----
note "cutting the first $PACKETS packets of $IN"
tcpdump -Z root -r "$IN" -c "$PACKETS" -w "$CUT" 2>"$TMP/cut.err" \
  || { cat "$TMP/cut.err" >&2; die "tcpdump could not cut $IN"; }
if command -v capinfos >/dev/null; then
  NPKT="$(capinfos -c -M "$CUT" | sed -n 's/^Number of packets: *\([0-9]*\).*/\1/p')"
else
  NPKT="$(tcpdump -r "$CUT" -n 2>/dev/null | wc -l)"
fi
[[ "$NPKT" =~ ^[1-9][0-9]*$ ]] || die "no packets in $CUT"
[[ "$NPKT" == "$PACKETS" ]] || note "$IN holds only $NPKT packets: replaying those"
CUT_BYTES="$(stat -c %s "$CUT")"

# ---- the namespace: both veth ends inside it, nothing toward the host ----
ip netns add "$NS" || die "cannot create namespace $NS"
NS_MADE=1
nsx() { ip netns exec "$NS" "$@"; }
# IPv6 off before the pair exists (new interfaces inherit 'default'), so no link-local
# address, DAD, router solicitation or MLD; no forwarding; lo stays down.
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
  net.ipv4.ip_forward=0 || die "sysctl in $NS failed"
nsx ip link add "$TX" type veth peer name "$RX" || die "cannot create the veth pair in $NS"
for dev in "$TX" "$RX"; do
  nsx sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1" || die "cannot disable IPv6 on $dev"
  nsx ip link set "$dev" mtu 9000 arp off up || die "cannot bring $dev up (mtu 9000)"
  if command -v ethtool >/dev/null; then
    # One frame sent, one frame seen: no receive-side coalescing.
    nsx ethtool -K "$dev" gro off lro off >/dev/null 2>&1 || true
  fi
done
for _ in $(seq 50); do
  [[ "$(nsx cat "/sys/class/net/$RX/operstate")" == up ]] && break
  sleep 0.1
done
rx_packets() { nsx cat "/sys/class/net/$RX/statistics/rx_packets"; }

# ---- capturers ----
CAP_NAMES=(wirescope tcpdump)
CAP_TITLES=("wirescope" "tcpdump -w /dev/null")
if [[ "$NODETECT" == 1 ]]; then
  CAP_NAMES+=(wirescope-nd)
  CAP_TITLES+=("wirescope --no-detect")
fi
if [[ "$ONEWORKER" == 1 ]]; then
  CAP_NAMES+=(wirescope-w1)
  CAP_TITLES+=("wirescope --workers 1")
fi
BUF=()
[[ -n "$BUFFER_KIB" ]] && BUF=(-B "$BUFFER_KIB")
capturer_cmd() {
  case "$1" in
    wirescope)    CMD=("$WIRESCOPE" -i "$RX" --json --no-live-view "${BUF[@]}") ;;
    wirescope-nd) CMD=("$WIRESCOPE" -i "$RX" --json --no-live-view --no-detect "${BUF[@]}") ;;
    wirescope-w1) CMD=("$WIRESCOPE" -i "$RX" --json --no-live-view --workers 1 "${BUF[@]}") ;;
    tcpdump)      CMD=(tcpdump -i "$RX" -w /dev/null "${BUF[@]}") ;;
  esac
}
ready_pattern() {
  case "$1" in
    tcpdump) echo "listening on" ;;
    *) echo "capturing on" ;;
  esac
}

# Waits up to $2 seconds for PID $1 to exit; 0 if it did.
wait_gone() {
  local pid=$1 deadline=$(( SECONDS + $2 ))
  while kill -0 "$pid" 2>/dev/null; do
    (( SECONDS < deadline )) || return 1
    sleep 0.1
  done
}

# Results of the last trial.
T_ACH="" T_SENT="" T_FAILED="" T_CAPTURED="" T_DROPS="" T_DETAIL="" T_VETH="" T_ERR=""

# trial CAPTURER RATE LOGPREFIX
trial() {
  local name=$1 rate=$2 log=$3 pat pid rpid rc limit rx0 rx1 j
  T_ACH="" T_SENT="" T_FAILED="" T_CAPTURED="" T_DROPS="" T_DETAIL="" T_VETH="" T_ERR=""
  capturer_cmd "$name"
  pat="$(ready_pattern "$name")"
  rx0="$(rx_packets)"
  # A simple command, not a function: $! is then the capturer itself (ip netns exec and nice
  # exec it, and so do taskset and nice), which SIGINT must reach.
  ip netns exec "$NS" "${CAP_PRIO[@]}" "${CMD[@]}" >"$log.out" 2>"$log.err" </dev/null &
  pid=$!
  PIDS+=("$pid")
  local deadline=$(( SECONDS + 15 ))
  until grep -q "$pat" "$log.err" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null || (( SECONDS >= deadline )); then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      untrack "$pid"
      T_ERR="capturer did not start: $(head -c 300 "$log.err" | tr '\n' ' ')"
      return
    fi
    sleep 0.1
  done
  sleep 1

  local pace=(--topspeed)
  if [[ "$rate" == topspeed ]]; then
    limit=$(( 60 + NPKT / 20000 ))
  else
    pace=(--pps="$rate")
    limit=$(( 30 + 2 * NPKT / rate ))
  fi
  timeout -k 5 "$limit" ip netns exec "$NS" "${TR_PRIO[@]}" \
    tcpreplay -K -i "$TX" "${pace[@]}" --limit="$NPKT" "$CUT" >"$log.replay" 2>&1 </dev/null &
  rpid=$!
  PIDS+=("$rpid")
  rc=0
  wait "$rpid" || rc=$?
  untrack "$rpid"
  sleep "$SETTLE"
  rx1="$(rx_packets)"
  T_VETH=$(( rx1 - rx0 ))

  kill -INT "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" 60; then
    kill -KILL "$pid" 2>/dev/null || true
    T_ERR="capturer did not stop within 60 s of SIGINT (killed)"
  fi
  local crc=0
  wait "$pid" 2>/dev/null || crc=$?
  untrack "$pid"

  T_ACH="$(sed -n 's/^Rated:.* \([0-9.]*\) pps.*/\1/p' "$log.replay" | head -1)"
  [[ -n "$T_ACH" ]] && T_ACH="$(printf '%.0f' "$T_ACH")"
  T_SENT="$(sed -n 's/^[[:space:]]*Successful packets:[[:space:]]*\([0-9]*\).*/\1/p' "$log.replay" | head -1)"
  T_FAILED="$(sed -n 's/^[[:space:]]*Failed packets:[[:space:]]*\([0-9]*\).*/\1/p' "$log.replay" | head -1)"
  if [[ $rc -ne 0 || -z "$T_SENT" || -z "$T_ACH" ]]; then
    T_ERR="${T_ERR:+$T_ERR; }tcpreplay failed (status $rc): $(tail -c 300 "$log.replay" | tr '\n' ' ')"
  fi

  case "$name" in
    tcpdump)
      T_CAPTURED="$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$log.err" | tail -1)"
      local kd idd
      kd="$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$log.err" | tail -1)"
      idd="$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by interface$/\1/p' "$log.err" | tail -1)"
      if [[ -z "$T_CAPTURED" || -z "$kd" ]]; then
        T_ERR="${T_ERR:+$T_ERR; }no statistics from tcpdump (status $crc)"
      else
        T_DROPS=$(( kd + ${idd:-0} ))
        T_DETAIL="kernel=$kd interface=${idd:-0}"
      fi
      ;;
    *)
      if [[ -s "$log.out" ]] && j="$(jq -er '.capture | [.kernel_dropped, .interface_dropped, .queue_dropped,
                 .captured, .kernel_received, (.errors | length)] | @tsv' "$log.out" 2>/dev/null)" \
         && [[ -n "$j" ]]; then
        local kd idd qd cap krecv nerr pk
        read -r kd idd qd cap krecv nerr <<< "$j"
        pk="$(jq -r '.packets' "$log.out")"
        T_CAPTURED=$cap
        T_DROPS=$(( kd + idd + qd ))
        T_DETAIL="kernel=$kd interface=$idd queue=$qd kernel_received=$krecv analysed=$pk"
        (( nerr == 0 )) || T_ERR="${T_ERR:+$T_ERR; }capture errors: $(jq -c '.capture.errors' "$log.out")"
        [[ "$pk" == $(( cap - qd )) ]] \
          || T_ERR="${T_ERR:+$T_ERR; }packets analysed $pk != captured $cap - queue_dropped $qd"
      else
        T_ERR="${T_ERR:+$T_ERR; }no capture object in wirescope's JSON (status $crc): $(tail -c 300 "$log.err" | tr '\n' ' ')"
      fi
      (( crc == 0 )) || T_ERR="${T_ERR:+$T_ERR; }wirescope exited with status $crc"
      ;;
  esac
}

# ---- the sweep ----
TSV="$OUT/live-zero-drop.tsv"
printf 'capturer\tasked_pps\tachieved_pps\tsent\tfailed_sends\tveth_rx\tcaptured\tdrops\tdetail\tzero_drop\terror\n' > "$TSV"
{
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC')  $(nproc) CPUs  load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# capture: $IN, first $NPKT packets ($(( CUT_BYTES / 1048576 )) MiB), replayed on a veth pair in namespace $NS"
  echo "# wirescope: $WIRESCOPE ($("$WIRESCOPE" --version 2>/dev/null || echo '?')); $(tcpdump --version 2>&1 | head -1); $(tcpreplay --version 2>&1 | head -1)"
  if [[ -n "$BUFFER_KIB" ]]; then buf="-B $BUFFER_KIB (KiB)"; else buf="libpcap default (2 MiB)"; fi
  echo "# capture buffer: $buf${NICE:+; nice $NICE}; CPU pinning: ${PIN:-none}; SIGINT ${SETTLE} s after each replay"
}

declare -A ACH DROPS OK CAPT SENT
n=0
for rate in "${RATE_LIST[@]}"; do
  for name in "${CAP_NAMES[@]}"; do
    n=$(( n + 1 ))
    note "trial $n: $name at ${rate}$([[ $rate == topspeed ]] || echo ' pps')"
    trial "$name" "$rate" "$TMP/$n-$name-$rate"
    ok=0
    if [[ -z "$T_ERR" && "$T_DROPS" == 0 && "$T_CAPTURED" == "$T_SENT" && "$T_SENT" -gt 0 ]]; then
      ok=1
    fi
    key="$name/$rate"
    ACH[$key]="${T_ACH:--}"
    DROPS[$key]="${T_DROPS:--}"
    CAPT[$key]="${T_CAPTURED:--}"
    SENT[$key]="${T_SENT:--}"
    OK[$key]=$ok
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rate" "${T_ACH:-}" \
      "${T_SENT:-}" "${T_FAILED:-}" "$T_VETH" "${T_CAPTURED:-}" "${T_DROPS:-}" "$T_DETAIL" \
      "$ok" "$T_ERR" >> "$TSV"
    [[ -z "$T_ERR" ]] || note "  $name at $rate: $T_ERR"
    if [[ -n "$T_FAILED" && "$T_FAILED" != 0 ]]; then
      note "  tcpreplay could not send $T_FAILED packets"
    fi
    if [[ -n "$T_SENT" && "$T_VETH" != "$T_SENT" ]]; then
      note "  $T_VETH packets reached $RX for $T_SENT sent: lost in the kernel before any capturer"
    fi
  done
done

# ---- table ----
echo
header1="$(printf '%-10s' 'asked')"
header2="$(printf '%-10s' 'pps')"
for i in "${!CAP_NAMES[@]}"; do
  header1+="$(printf ' | %-35s' "${CAP_TITLES[$i]}")"
  header2+="$(printf ' | %9s %9s %15s' 'achieved' 'drops' 'captured/sent')"
done
echo "$header1"
echo "$header2"
for rate in "${RATE_LIST[@]}"; do
  line="$(printf '%-10s' "$rate")"
  for name in "${CAP_NAMES[@]}"; do
    key="$name/$rate"
    cs="${CAPT[$key]}/${SENT[$key]}"
    [[ "${CAPT[$key]}" == "${SENT[$key]}" ]] && cs="all"
    if [[ "${OK[$key]}" == 1 ]]; then cs="$cs  "; else cs="$cs *"; fi
    line+="$(printf ' | %9s %9s %15s' "${ACH[$key]}" "${DROPS[$key]}" "$cs")"
  done
  echo "$line"
done
echo "(* = not zero-drop: packets dropped, missing, or an error; see $TSV)"
echo

# Highest achieved rate of a zero-drop trial, and whether some slower trial dropped.
declare -A MAX CLEAN
for i in "${!CAP_NAMES[@]}"; do
  name="${CAP_NAMES[$i]}"
  best=0 best_asked="" first_bad="" bad_below=""
  for rate in "${RATE_LIST[@]}"; do
    key="$name/$rate"
    if [[ "${OK[$key]}" == 1 && "${ACH[$key]}" =~ ^[0-9]+$ ]]; then
      if (( ${ACH[$key]} > best )); then
        best=${ACH[$key]} best_asked=$rate
        [[ -n "$first_bad" ]] && bad_below=$first_bad
      fi
    elif [[ -z "$first_bad" ]]; then
      first_bad=$rate
    fi
  done
  MAX[$name]=$best
  CLEAN[$name]=$([[ -z "$first_bad" ]] && echo 1 || echo 0)
  echo "${CAP_TITLES[$i]%% -w*} zero-drop max: $best pps"
  if (( best == 0 )); then
    echo "  (no zero-drop trial)"
  else
    echo "  (at asked rate $best_asked)"
    [[ -z "$bad_below" ]] || echo "  (not monotonic: it dropped at the slower asked rate $bad_below; rerun on a quiet machine)"
    [[ -n "$first_bad" ]] || echo "  (zero drops at every rate tried: its limit is above the fastest rate tcpreplay reached)"
  fi
done
ratio() {
  local td=${MAX[tcpdump]}
  if (( td > 0 )); then
    awk -v a="${MAX[$1]}" -v b="$td" 'BEGIN { printf "%.2f", a / b }'
  else
    echo "n/a (tcpdump had no zero-drop trial)"
  fi
}
echo "ratio wirescope/tcpdump: $(ratio wirescope)"
if [[ "${CLEAN[wirescope]}" == 1 && "${CLEAN[tcpdump]}" == 1 ]]; then
  echo "  (neither dropped at any rate: the ratio only compares the rates tcpreplay reached in"
  echo "   their trials; both limits are above the sweep, add faster rates or PACKETS)"
elif [[ "${CLEAN[wirescope]}" == 1 ]]; then
  echo "  (wirescope never dropped: its limit, and so the ratio, is at least this)"
fi
[[ "$NODETECT" == 0 ]] || echo "ratio wirescope --no-detect/tcpdump: $(ratio wirescope-nd)"
[[ "$ONEWORKER" == 0 ]] || echo "ratio wirescope --workers 1/tcpdump: $(ratio wirescope-w1)"
echo "(every trial: $TSV)"
exit 0
