# shellcheck shell=bash
# wirescope lab: helpers to build an isolated namespace network, run daemons
# and tools inside it, capture the traffic and write ground truth.
#
# Safety model (see README.md):
#  - every host is its own network namespace; its only non-loopback interface
#    is one end of a veth pair whose other end lives in the lab's "switch"
#    namespace, enslaved to a bridge there. Both veth ends are created directly
#    inside the lab namespaces: nothing ever exists in the root namespace.
#  - no routes except the connected 198.18.0.0/24 and fd00::/64 ones.
#  - all namespaces carry a per-run prefix (wsl<PID>-) and are deleted, with
#    every process inside them, by the EXIT/INT/TERM trap.
#
# Source this file, then call lab_init.

LAB_DIR=${LAB_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}

# Addressing: one /24 of the benchmarking range and one fd00::/64 prefix.
LAB_NET4=198.18.0
LAB_NET6=fd00:
# Tunnel network used by the iodine scenario (inside the tunnel only).
LAB_TUN4=198.19.0

# Known local account for the ssh / ftp scenarios (disposable CI machine).
LAB_USER=wslab
LAB_PASS='Wsl4b-Corr3ct-Horse'

LAB_PIDS=()      # processes started in the background, killed on exit
LAB_NS=()        # namespaces created by this run
LAB_CAP_PID=''
LAB_CAP_FILE=''
LAB_TRUTH=''
LAB_FAIL_MSG=''

lab_log() { printf '[%s %s] %s\n' "$(date +%T.%3N)" "${LAB_SCENARIO:-lab}" "$*" >&2; }

lab_die() {
    LAB_FAIL_MSG="$*"
    lab_log "ERROR: $*"
    exit 1
}

lab_now() { date +%s.%6N; }

# lab_need TOOL... : a missing tool is an error, never a skip.
lab_need() {
    local t missing=()
    for t in "$@"; do
        command -v "$t" >/dev/null 2>&1 || missing+=("$t")
    done
    ((${#missing[@]} == 0)) || lab_die "missing tool(s): ${missing[*]} (see lab/DEPENDENCIES)"
}

lab_init() {
    [[ $(id -u) == 0 ]] || { echo "lab: must run as root" >&2; exit 1; }
    LAB_P="wsl$$-"
    LAB_TMP=$(mktemp -d /tmp/wslab.XXXXXX)
    chmod 755 "$LAB_TMP"
    trap lab_cleanup EXIT
    trap 'lab_log "interrupted"; exit 130' INT TERM
    lab_need ip tcpdump timeout ethtool ss flock
}

# lab_mine PID : true while PID is still a child of this shell (bash reaps
# exited children itself, so a recorded PID may since belong to another
# process; it is then left alone).
lab_mine() {
    local st
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    st=${st##*) }
    # shellcheck disable=SC2086 # split the stat fields
    set -- $st
    [[ $2 == "$$" ]]
}

lab_cleanup() {
    local rc=${1:-$?} pid ns i
    trap - EXIT INT TERM
    set +e
    # 1. processes we started, newest first, by PID
    for ((i = ${#LAB_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${LAB_PIDS[i]}
        lab_mine "$pid" && kill -TERM "$pid" 2>/dev/null
    done
    if [[ -n $LAB_CAP_PID ]] && lab_mine "$LAB_CAP_PID"; then kill -INT "$LAB_CAP_PID" 2>/dev/null; fi
    sleep 0.3
    for pid in "${LAB_PIDS[@]}" $LAB_CAP_PID; do
        lab_mine "$pid" && kill -KILL "$pid" 2>/dev/null
    done
    # 2. anything still living in our namespaces (daemon children etc.)
    for ns in "${LAB_NS[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
    done
    wait 2>/dev/null
    # 3. the namespaces themselves (hosts first, the switch last)
    for ((i = ${#LAB_NS[@]} - 1; i >= 0; i--)); do
        ip netns del "${LAB_NS[i]}" 2>/dev/null
    done
    # a failed run leaves no half-written truth file
    [[ -n $LAB_TRUTH ]] && rm -f "$LAB_TRUTH.comments" "$LAB_TRUTH.rows" "$LAB_TRUTH.tmp"
    cd /
    [[ -n ${LAB_TMP:-} && -d $LAB_TMP && -z ${LAB_KEEP_TMP:-} ]] && rm -rf "$LAB_TMP"
    exit "$rc"
}

# Namespace name of a lab host.
lab_ns() { printf '%s%s' "$LAB_P" "$1"; }

# lab_in HOST CMD... : run CMD inside HOST's namespace (foreground).
lab_in() {
    local h=$1
    shift
    ip netns exec "$(lab_ns "$h")" "$@"
}

# lab_bg HOST CMD... : start CMD in HOST's namespace in the background;
# its PID (ip netns exec execs the command) is recorded for cleanup and left
# in LAB_LASTPID.
lab_bg() {
    local h=$1
    shift
    ip netns exec "$(lab_ns "$h")" "$@" &
    LAB_LASTPID=$!
    LAB_PIDS+=("$LAB_LASTPID")
}

# lab_stop PID : stop one background process (TERM, then KILL) and reap it.
lab_stop() {
    local pid=$1 n
    lab_mine "$pid" || { wait "$pid" 2>/dev/null; return 0; }
    kill -TERM "$pid" 2>/dev/null || return 0
    for n in {1..30}; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

lab_switch() {
    local ns
    ns=$(lab_ns sw)
    ip netns add "$ns" || lab_die "cannot create namespace $ns"
    LAB_NS+=("$ns")
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
    ip -n "$ns" link add br0 type bridge stp_state 0 forward_delay 0 ||
        lab_die "cannot create bridge"
    ip -n "$ns" link set br0 up
}

# MAC of host with last octet N: 02:00:c6:12:00:<N in hex> (locally administered).
lab_mac() { printf '02:00:c6:12:00:%02x' "$1"; }
lab_ip4() { printf '%s.%s' "$LAB_NET4" "$1"; }
lab_ip6() { printf '%s:%s' "$LAB_NET6" "$1"; }

# lab_host NAME N : new namespace NAME with eth0 = 198.18.0.N/24, fd00::N/64.
lab_host() {
    local name=$1 n=$2 ns sw port
    ns=$(lab_ns "$name")
    sw=$(lab_ns sw)
    port="p-$name"
    ((${#port} <= 15)) || lab_die "host name too long: $name"
    ip netns add "$ns" || lab_die "cannot create namespace $ns"
    LAB_NS+=("$ns")
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.all.forwarding=0 net.ipv4.ip_forward=0
    ip -n "$ns" link set lo up
    # Both ends are created inside lab namespaces (switch side and host side).
    ip -n "$sw" link add "$port" type veth peer name eth0 netns "$ns" ||
        lab_die "cannot create veth for $name"
    ip -n "$ns" link set eth0 address "$(lab_mac "$n")"
    # No offloads: the capture then holds wire-sized frames with real checksums.
    ip netns exec "$ns" ethtool -K eth0 tx off rx off tso off gso off gro off >/dev/null 2>&1
    ip netns exec "$sw" ethtool -K "$port" tx off rx off tso off gso off gro off >/dev/null 2>&1
    ip -n "$sw" link set "$port" master br0
    ip -n "$sw" link set "$port" up
    ip -n "$ns" addr add "$(lab_ip4 "$n")/24" dev eth0
    ip -n "$ns" addr add "$(lab_ip6 "$n")/64" dev eth0 nodad
    ip -n "$ns" link set eth0 up
}

# lab_wait_listen HOST tcp|udp PORT [PID] : wait until the port listens inside
# HOST (max ~10 s); fail at once if the daemon PID exited.
lab_wait_listen() {
    local h=$1 proto=$2 port=$3 pid=${4:-} n
    for n in {1..100}; do
        if [[ -n $(lab_in "$h" ss -Hln"${proto:0:1}" "sport = :$port" 2>/dev/null) ]]; then return 0; fi
        if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            lab_die "daemon for $proto/$port in $h exited (status $?)"
        fi
        sleep 0.1
    done
    lab_die "$proto/$port never started listening in $h"
}

# ---------------------------------------------------------------- capture

# lab_capture_start FILE : tcpdump on the bridge, full frames, unbuffered.
lab_capture_start() {
    local n
    LAB_CAP_FILE=$1
    LAB_CAP_LOG="$LAB_TMP/tcpdump.log"
    rm -f "$LAB_CAP_FILE"
    # The bridge device is made promiscuous (tcpdump does that by default), so
    # frames forwarded between ports are passed up to it and captured once.
    ip netns exec "$(lab_ns sw)" tcpdump -i br0 -s 0 -U -B 16384 -Z root -w "$LAB_CAP_FILE" \
        2>"$LAB_CAP_LOG" &
    LAB_CAP_PID=$!
    for n in {1..100}; do
        grep -q 'listening on' "$LAB_CAP_LOG" 2>/dev/null && break
        kill -0 "$LAB_CAP_PID" 2>/dev/null || lab_die "tcpdump failed: $(cat "$LAB_CAP_LOG")"
        sleep 0.05
    done
    grep -q 'listening on' "$LAB_CAP_LOG" || lab_die "tcpdump did not start"
}

# lab_capture_stop : let the last frames arrive, then SIGINT so tcpdump
# flushes and closes the file properly.
lab_capture_stop() {
    [[ -n $LAB_CAP_PID ]] || return 0
    sleep 1
    kill -INT "$LAB_CAP_PID" 2>/dev/null
    wait "$LAB_CAP_PID" 2>/dev/null
    LAB_CAP_PID=''
    LAB_CAP_STATS=$(grep -E 'captured|received|dropped' "$LAB_CAP_LOG" | tr '\n' ' ')
    lab_log "capture: $LAB_CAP_STATS"
    local drop
    drop=$(sed -n 's/^\([0-9]*\) packets* dropped by kernel.*/\1/p' "$LAB_CAP_LOG")
    [[ -z $drop || $drop == 0 ]] || lab_log "WARNING: tcpdump dropped $drop packets"
}

# lab_count FILTER... : packets in the capture matching a BPF filter.
lab_count() {
    tcpdump -nn -r "$LAB_CAP_FILE" "$@" 2>/dev/null | wc -l
}

# lab_expect MIN DESCRIPTION FILTER : fail unless the capture holds at least
# MIN packets matching FILTER.
lab_expect() {
    local min=$1 what=$2 filter=$3 n
    n=$(lab_count "$filter")
    if ((n < min)); then
        lab_die "check failed: $what: $n packets matching '$filter' (< $min)"
    fi
    lab_log "check ok: $what: $n packets (>= $min)"
}

# ---------------------------------------------------------------- truth

# Truth rows and comments are collected beside the output and assembled by
# lab_truth_finish once the scenario succeeded.
lab_truth_init() {
    LAB_TRUTH=$1
    rm -f "$LAB_TRUTH" "$LAB_TRUTH.comments" "$LAB_TRUTH.rows"
}

# lab_truth_comment TEXT : extra '#' line (every executed command is recorded).
lab_truth_comment() { printf '# %s\n' "$*" >>"$LAB_TRUTH.comments"; }

# lab_truth_add CLASS ATTACKER VICTIM START END NOTE
lab_truth_add() {
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$LAB_TRUTH.rows"
}

# lab_truth_finish NAME KIND TOOL : first comment line, further comments,
# header, rows.
lab_truth_finish() {
    {
        printf '# scenario: %s kind: %s tool: %s\n' "$1" "$2" "$3"
        [[ -f $LAB_TRUTH.comments ]] && cat "$LAB_TRUTH.comments"
        printf 'class\tattacker\tvictim\tstart\tend\tnote\n'
        [[ -f $LAB_TRUTH.rows ]] && cat "$LAB_TRUTH.rows"
    } >"$LAB_TRUTH.tmp"
    mv "$LAB_TRUTH.tmp" "$LAB_TRUTH"
    rm -f "$LAB_TRUTH.comments" "$LAB_TRUTH.rows"
}

# Quote a command line for the truth file.
lab_quote() {
    local out='' a
    for a in "$@"; do out+="$(printf '%q' "$a") "; done
    printf '%s' "${out% }"
}

# lab_cmd HOST CMD... : run CMD in HOST (foreground), record the exact command
# line in the truth file, and set LAB_T0/LAB_T1 (epoch seconds) around it.
# Returns the command's exit status.
lab_cmd() {
    local h=$1 rc
    shift
    lab_truth_comment "cmd@$h: $(lab_quote "$@")"
    lab_log "run@$h: $(lab_quote "$@")"
    LAB_T0=$(lab_now)
    # in the background + wait, so an INT/TERM trap runs at once
    ip netns exec "$(lab_ns "$h")" "$@" </dev/null &
    LAB_PIDS+=("$!")
    wait "$!"
    rc=$?
    LAB_T1=$(lab_now)
    unset 'LAB_PIDS[-1]'
    return $rc
}

# ---------------------------------------------------------------- daemons

# nginx on HOST, port 80 (v4 + v6), docroot with a few static files.
lab_nginx() {
    local h=$1 d="$LAB_TMP/nginx"
    lab_need nginx
    mkdir -p "$d/www/static" "$d/tmp"
    chmod -R 755 "$d"
    printf '<html><head><title>lab</title></head><body><h1>wirescope lab</h1><a href="/about.html">about</a></body></html>\n' >"$d/www/index.html"
    printf '<html><body><p>About this lab server.</p></body></html>\n' >"$d/www/about.html"
    printf 'body { font-family: sans-serif; }\n' >"$d/www/static/style.css"
    printf 'console.log("lab");\n' >"$d/www/static/app.js"
    head -c 262144 /dev/urandom >"$d/www/static/blob.bin"
    seq 1 20000 >"$d/www/static/numbers.txt"
    chmod -R a+rX "$d/www"
    cat >"$d/nginx.conf" <<EOF
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 2048; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $d/access.log;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    keepalive_timeout 30;
    server {
        listen 80 default_server;
        listen [::]:80 default_server;
        root $d/www;
        location = /beacon { default_type text/plain; return 200 "ok\n"; }
        location = /login  { default_type text/plain; return 200 "login\n"; }
        location = /search { default_type text/plain; return 200 "no results\n"; }
        location = /cgi-bin/status { default_type text/plain; return 200 "status ok\n"; }
    }
}
EOF
    lab_bg "$h" nginx -p "$d" -c "$d/nginx.conf" -g 'daemon off; user root;'
    LAB_NGINX_PID=$LAB_LASTPID
    lab_wait_listen "$h" tcp 80 "$LAB_NGINX_PID"
}

# Local account with a known password (idempotent, serialised across runs).
lab_user() {
    lab_need useradd chpasswd
    (
        flock 9
        id "$LAB_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$LAB_USER"
        echo "$LAB_USER:$LAB_PASS" | chpasswd
    ) 9>/tmp/wslab-user.lock
}

# sshd on HOST (N = its octet), port 22, password auth for $LAB_USER only.
lab_sshd() {
    local h=$1 n=$2 d="$LAB_TMP/sshd"
    lab_need ssh-keygen
    [[ -x /usr/sbin/sshd ]] || lab_die "missing tool: /usr/sbin/sshd (openssh-server)"
    lab_user
    mkdir -p "$d" /run/sshd
    chmod 755 /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519" || lab_die "ssh-keygen failed"
    ssh-keygen -q -t ecdsa -N '' -f "$d/host_ecdsa" || lab_die "ssh-keygen failed"
    cat >"$d/sshd_config" <<EOF
Port 22
ListenAddress $(lab_ip4 "$n")
ListenAddress $(lab_ip6 "$n")
HostKey $d/host_ed25519
HostKey $d/host_ecdsa
PidFile $d/sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication no
PermitRootLogin no
AllowUsers $LAB_USER
MaxStartups 100:30:200
MaxAuthTries 6
LoginGraceTime 20
UseDNS no
LogLevel INFO
Subsystem sftp internal-sftp
EOF
    lab_bg "$h" /usr/sbin/sshd -D -e -f "$d/sshd_config" 2>"$d/sshd.log"
    LAB_SSHD_PID=$LAB_LASTPID
    lab_wait_listen "$h" tcp 22 "$LAB_SSHD_PID"
}

# vsftpd on HOST (N = its octet), port 21, local users, no anonymous.
lab_vsftpd() {
    local h=$1 n=$2 d="$LAB_TMP/vsftpd"
    [[ -x /usr/sbin/vsftpd ]] || lab_die "missing tool: /usr/sbin/vsftpd"
    lab_user
    mkdir -p "$d/empty"
    chmod 755 "$d/empty"
    cat >"$d/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=$(lab_ip4 "$n")
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=NO
pam_service_name=vsftpd
secure_chroot_dir=$d/empty
xferlog_enable=YES
vsftpd_log_file=$d/vsftpd.log
dual_log_enable=NO
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
max_clients=100
max_per_ip=50
EOF
    lab_bg "$h" /usr/sbin/vsftpd "$d/vsftpd.conf"
    LAB_VSFTPD_PID=$LAB_LASTPID
    lab_wait_listen "$h" tcp 21 "$LAB_VSFTPD_PID"
}
