#!/usr/bin/env bash
# netns-node.sh - a GPU-node stand-in on its own network: a network namespace with a veth link to the
# root namespace (10.200.0.0/24, addresses we assign), its own dockerd and its own sshd. From inside,
# 127.0.0.1 is the namespace's own loopback, so the testbed registry is NOT reachable from such a
# node (a real "registry unreachable" fault), and the link can be cut or slowed with tc.
#   netns-node.sh up INDEX        start node mdx<INDEX> (1..60), print its node JSON
#   netns-node.sh down INDEX      stop it and remove the namespace
#   netns-node.sh partition INDEX cut the link (packets dropped both ways)
#   netns-node.sh heal INDEX      restore the link
#   netns-node.sh slow INDEX RATE shape the link with tbf (e.g. 256kbit); RATE "off" removes it
# Needs the testbed (test/env/testbed-up.sh) for its client key. Root only. Nothing leaves the machine:
# the root namespace gets `unreachable 10.200.0.0/24` first, so a downed link never routes elsewhere.
set -euo pipefail
TB=${TB_DIR:-/tmp/madengine-testbed}
# shellcheck source=test/env/testbed-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/testbed-lib.sh"
die() { echo "netns-node.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
cmd=${1:-} idx=${2:-}
[[ $idx =~ ^[0-9]+$ ]] && ((idx >= 1 && idx <= 60)) || die "usage: netns-node.sh up|down|partition|heal|slow INDEX(1..60) [RATE]"
NS=mdx$idx
HOST_IF=mdxh$idx
NS_IF=mdxn$idx
HOST_IP=10.200.0.$((idx * 4 + 1))
NS_IP=10.200.0.$((idx * 4 + 2))
DIR=$TB/netns/$NS
SOCK=$DIR/docker/docker.sock

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$NS"; }

up() {
  [ -f "$TB/keys/authorized_keys" ] || die "the testbed is not up (bash test/env/testbed-up.sh)"
  mkdir -p "$DIR/docker" "$DIR/home" /run/sshd
  ip route show | grep -q '^unreachable 10.200.0.0/24' || ip route add unreachable 10.200.0.0/24 metric 4000
  if ! ns_exists; then
    ip netns add "$NS"
    ip link add "$HOST_IF" type veth peer name "$NS_IF"
    ip link set "$NS_IF" netns "$NS"
    ip addr add "$HOST_IP/30" dev "$HOST_IF"
    ip link set "$HOST_IF" up
    ip netns exec "$NS" ip addr add "$NS_IP/30" dev "$NS_IF"
    ip netns exec "$NS" ip link set "$NS_IF" up
    ip netns exec "$NS" ip link set lo up
  fi
  # dockerd inside the namespace (ip netns exec cannot start it: nsenter into the net namespace only)
  if ! alive "$(pid_in "$DIR/docker/pid")" "--data-root $DIR/docker/data"; then
    rm -f "$SOCK" "$DIR/docker/pid"
    HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.0/8,localhost \
    http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 no_proxy=127.0.0.0/8,localhost \
      setsid nsenter --net=/run/netns/"$NS" dockerd --data-root "$DIR/docker/data" --exec-root "$DIR/docker/exec" \
      --pidfile "$DIR/docker/pid" -H "unix://$SOCK" --bridge=none --iptables=false --ip6tables=false \
      --ip-masq=false --userland-proxy=false >"$DIR/dockerd.log" 2>&1 </dev/null &
    for _ in $(seq 1 200); do [ -S "$SOCK" ] && DOCKER_HOST=unix://$SOCK docker version >/dev/null 2>&1 && break; sleep 0.05; done
    DOCKER_HOST=unix://$SOCK docker version >/dev/null 2>&1 || die "dockerd in $NS did not start (see $DIR/dockerd.log)"
  fi
  [ -f "$DIR/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C "$NS" -f "$DIR/ssh_host_ed25519_key"
  cat >"$DIR/sshd_config" <<CFG
Port 2222
ListenAddress $NS_IP
HostKey $DIR/ssh_host_ed25519_key
PidFile $DIR/sshd.pid
AuthorizedKeysFile $TB/keys/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
MaxStartups 200:30:400
MaxSessions 100
SetEnv DOCKER_HOST=unix://$SOCK HOME=$DIR/home
Subsystem sftp internal-sftp -d $DIR/home
CFG
  if ! alive "$(pid_in "$DIR/sshd.pid")" "$DIR/sshd_config"; then
    rm -f "$DIR/sshd.pid"
    ip netns exec "$NS" /usr/sbin/sshd -f "$DIR/sshd_config" -E "$DIR/sshd.log"
    for _ in $(seq 1 100); do [ -s "$DIR/sshd.pid" ] && break; sleep 0.05; done
    [ -s "$DIR/sshd.pid" ] || die "sshd in $NS did not start (see $DIR/sshd.log)"
  fi
  read -r ktype kb64 _ <"$DIR/ssh_host_ed25519_key.pub"
  printf '[%s]:2222 %s %s\n' "$NS_IP" "$ktype" "$kb64" >"$DIR/known_hosts"
  printf '{"name": "%s", "host": "%s", "port": 2222, "user": "root", "identityFile": "%s", "dockerSocket": "%s", "knownHostsFile": "%s", "labels": {"net": "netns"}}\n' \
    "$NS" "$NS_IP" "$TB/keys/id_ed25519" "$SOCK" "$DIR/known_hosts" | tee "$DIR/node.json"
}

down() {
  scan_procs
  local pids=() p
  for p in $(matching "$DIR/sshd_config") $(matching "--data-root $DIR/docker/data") $(matching "$DIR/docker/exec"); do pids+=("$p"); done
  if ((${#pids[@]})); then
    # remove the daemon's containers first so that its shutdown does not wait for them
    DOCKER_HOST=unix://$SOCK timeout 10 docker rm -f $(DOCKER_HOST=unix://$SOCK timeout 5 docker ps -aq 2>/dev/null) >/dev/null 2>&1 || true
    stop_pids 5 "${pids[@]}"
  fi
  ns_exists && ip netns delete "$NS"
  ip link show "$HOST_IF" >/dev/null 2>&1 && ip link delete "$HOST_IF"
  grep -qs " $DIR/docker" /proc/mounts && awk -v d="$DIR/docker" '$2 ~ "^"d {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
  rm -rf "$DIR"
}

case $cmd in
  up) up ;;
  down) down ;;
  partition) ip link set "$HOST_IF" down ;;
  heal)
    ip link set "$HOST_IF" up
    ip neigh flush dev "$HOST_IF" 2>/dev/null || true
    ;;
  slow)
    rate=${3:-}
    [ -n "$rate" ] || die "slow needs a RATE (e.g. 256kbit) or off"
    tc qdisc del dev "$HOST_IF" root 2>/dev/null || true
    [ "$rate" = off ] || tc qdisc add dev "$HOST_IF" root tbf rate "$rate" burst 4kb latency 400ms
    ;;
  *) die "unknown command $cmd" ;;
esac
