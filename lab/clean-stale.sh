#!/usr/bin/env bash
# Remove namespaces left behind by lab runs that died without cleaning up
# (e.g. SIGKILL). Only namespaces named wsl<PID>-* whose run (PID) is gone are
# touched: the processes inside them are killed and the namespaces deleted.
set -uo pipefail
for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^wsl[0-9]+-'); do
    pid=${ns#wsl}
    pid=${pid%%-*}
    kill -0 "$pid" 2>/dev/null && continue
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" && echo "clean-stale: removed $ns"
done
exit 0
