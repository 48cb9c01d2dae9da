#!/usr/bin/env bash
# testbed-down.sh [--purge] - stop everything testbed-up.sh started: the ssh nodes (with their live
# sessions), the registry, the dockerd (after removing its containers) and its containerd. Processes
# are found by their pidfiles, and each pid's command line is checked against this testbed's own
# paths first, so a reused pid is never hit. After a crash it also finds what the pidfiles lost
# (containerd and its shims left behind by a killed dockerd) by the testbed's paths in their command
# lines. Safe to run any number of times.
#   --purge  also delete $TB_DIR (docker data, registry data, keys, node dirs, testbed.json)
# Env: TB_DIR (/tmp/madengine-testbed)
set -euo pipefail

TB=${TB_DIR:-/tmp/madengine-testbed}
D=$TB/docker
PURGE=0
case ${1:-} in
--purge) PURGE=1 ;;
"") ;;
*)
  echo "usage: testbed-down.sh [--purge]" >&2
  exit 2
  ;;
esac
T0=$(date +%s%N)
# shellcheck source=test/env/testbed-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testbed-lib.sh"
log() { printf '[testbed-down %6.2fs] %s\n' "$(($(date +%s%N) - T0))e-9" "$*"; }
die() {
  echo "testbed-down.sh: $*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || die "must run as root"
[[ $TB =~ ^/[A-Za-z0-9._/-]+$ ]] || die "TB_DIR must be an absolute path of [A-Za-z0-9._/-] (got '$TB')"
if [ ! -d "$TB" ]; then
  log "nothing at $TB"
  exit 0
fi
exec 9>"$TB/.lock"
flock -w 120 9 || die "another testbed-up.sh/testbed-down.sh holds $TB/.lock"
export DOCKER_HOST=unix://$D/docker.sock DOCKER_CONFIG=$D/cli
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH

scan_procs

# ---- ssh nodes (listeners plus any live sessions below them) ---------------------------------
pids=() n=0
for nd in "$TB"/nodes/node*; do
  [ -d "$nd" ] || continue
  pid=$(pid_in "$nd/sshd.pid")
  if alive "$pid" "$nd/sshd_config"; then
    mapfile -t kids < <(descendants "$pid")
    pids+=("$pid" "${kids[@]}")
    n=$((n + 1))
  fi
  rm -f "$nd/sshd.pid"
done
stop_pids 5 "${pids[@]}"
log "ssh nodes stopped: $n (${#pids[@]} processes incl. sessions)"

# ---- network-namespace nodes (test/env/netns-node.sh) ---------------------------------------------
for nsdir in "$TB"/netns/mdx*; do
  [ -d "$nsdir" ] || continue
  TB_DIR=$TB bash "$(dirname "${BASH_SOURCE[0]}")/netns-node.sh" down "${nsdir##*/mdx}" || true
done

# ---- registries (open and with auth) -----------------------------------------------------------
for rdir in "$TB/registry" "$TB/authregistry"; do
  pid=$(pid_in "$rdir/pid")
  if alive "$pid" "$rdir/config.yml"; then
    stop_pids 5 "$pid"
    log "registry stopped (pid $pid, $rdir)"
  fi
  rm -f "$rdir/pid"
done

# ---- dockerd: remove our containers first so that its shutdown does not wait on them -----------
pid=$(pid_in "$D/pid")
if alive "$pid" "--data-root $D/data"; then
  ids=$(timeout 20 docker ps -aq 2>/dev/null || true)
  if [ -n "$ids" ]; then
    # shellcheck disable=SC2086
    timeout 30 docker rm -f $ids >/dev/null 2>&1 || true
    log "removed $(wc -w <<<"$ids") containers"
  fi
  mapfile -t cpids < <(for c in $(descendants "$pid"); do [[ ${CMD_OF[$c]} == *containerd* ]] && echo "$c"; done)
  stop_pids 30 "$pid"
  stop_pids 10 "${cpids[@]}" # dockerd normally stops its containerd itself
  log "dockerd stopped (pid $pid)"
fi
rm -f "$D/pid" "$D/docker.sock"

# ---- leftovers of a crashed dockerd: its containerd, shims and their container processes ---------
leftovers=$(stop_docker_leftovers "$D")
[ -z "$leftovers" ] || log "stopped what a crashed dockerd left: $leftovers"

# ---- leftover mounts under the testbed (overlay layers, shm, netns) ----------------------------
mapfile -t mounts < <(awk -v d="$TB/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r)
for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" || true; done
((${#mounts[@]} == 0)) || log "unmounted ${#mounts[@]} leftover mounts"

if ((PURGE)); then
  case $TB in / | /tmp | /tmp/ | /root | /home | /var | /usr) die "refusing to purge $TB" ;; esac
  rm -rf "$TB"
  log "purged $TB"
fi
log "done"
