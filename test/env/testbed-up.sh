#!/usr/bin/env bash
# testbed-up.sh - bring up the local "GPU fleet" testbed for the integration tests, idempotently:
#   * one dockerd (with its own containerd) on a private unix socket: no bridge, no iptables, and a
#     dead proxy for every registry that is not on 127.0.0.0/8 (nothing ever leaves the machine)
#   * one docker-registry on 127.0.0.1:$TB_REGISTRY_PORT
#   * N sshd "nodes", node i on $TB_NET.i:$TB_SSH_PORT (own ed25519 host key, own pidfile, own HOME),
#     key-only auth for root; every session gets DOCKER_HOST pointing at the shared dockerd
#   * the base image madengine-testbed/busybox:latest, FROM scratch with Debian's static busybox
#   * $TB_DIR/testbed.json, known_hosts, ssh_config and inventory.ini (Ansible INI)
# Running it again only starts what is not running, restarts what has a changed config, and stops
# nodes above N (keeping their host keys). Serialized with flock on $TB_DIR/.lock. Stop it with
# test/env/testbed-down.sh [--purge].
# Needs (Debian 12, as root): docker.io docker-registry openssh-server openssh-client busybox-static iproute2
# Env: TB_DIR (/tmp/madengine-testbed) TB_DOCKER_ONLY (0) TB_NODES (4) TB_SSH_PORT (2222) TB_NET (127.0.100)
#      TB_REGISTRY_PORT (5055) TB_IMAGE (madengine-testbed/busybox:latest)
set -euo pipefail

TB=${TB_DIR:-/tmp/madengine-testbed}
N=${TB_NODES:-4}
# TB_DOCKER_ONLY=1: only the private dockerd and the base image (for running the tool, not the tests)
DOCKER_ONLY=${TB_DOCKER_ONLY:-0}
SSH_PORT=${TB_SSH_PORT:-2222}
NET=${TB_NET:-127.0.100}
REG_PORT=${TB_REGISTRY_PORT:-5055}
AUTH_REG_PORT=${TB_AUTH_REGISTRY_PORT:-5056}
IMAGE=${TB_IMAGE:-madengine-testbed/busybox:latest}
D=$TB/docker
SOCK=$D/docker.sock
KEY=$TB/keys/id_ed25519

T0=$(date +%s%N)
# shellcheck source=test/env/testbed-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/testbed-lib.sh"
log() { printf '[testbed-up %6.2fs] %s\n' "$(($(date +%s%N) - T0))e-9" "$*"; }
die() {
  echo "testbed-up.sh: $*" >&2
  exit 1
}

# ---- checks before touching anything ----------------------------------------------------------
[ "$(id -u)" = 0 ] || die "must run as root"
[[ $TB =~ ^/[A-Za-z0-9._/-]+$ ]] || die "TB_DIR must be an absolute path of [A-Za-z0-9._/-] (got '$TB')"
if ! [[ $N =~ ^[0-9]+$ ]] || ((N > 250)); then die "TB_NODES must be 0..250 (got '$N')"; fi
for v in TB_SSH_PORT:$SSH_PORT TB_REGISTRY_PORT:$REG_PORT; do
  if ! [[ ${v#*:} =~ ^[0-9]+$ ]] || ((${v#*:} < 1 || ${v#*:} > 65535)); then
    die "${v%%:*} must be a port number 1..65535 (got '${v#*:}')"
  fi
done
[[ $NET =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "TB_NET must be three octets inside 127.0.0.0/8, like 127.0.100 (got '$NET')"
[[ $IMAGE =~ ^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9._-]+$ ]] || die "TB_IMAGE must be a local name:tag (got '$IMAGE')"
# unix socket paths must stay under 108 bytes (sun_path); the longest one dockerd creates is containerd's
for s in "$SOCK" "$D/exec/containerd/containerd.sock.ttrpc"; do
  ((${#s} < 100)) || die "socket path too long (${#s} bytes, limit ~100): $s; use a shorter TB_DIR"
done
for c in dockerd docker docker-registry /usr/sbin/sshd ssh-keygen ss flock od sha256sum base64 setsid; do
  command -v "$c" >/dev/null ||
    die "missing $c (apt-get install docker.io docker-registry openssh-server openssh-client iproute2)"
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || die "missing busybox (apt-get install busybox-static)"
BUSYBOX=$(readlink -f "$BUSYBOX")

# elf_static FILE: true when FILE is a little-endian ELF with no PT_INTERP program header, i.e. it needs
# no dynamic loader and runs alone in a FROM-scratch image
elf_static() {
  local f=$1 cls phoff phent phnum i
  [ "$(od -An -tx1 -N4 "$f" | tr -d ' \n')" = 7f454c46 ] || return 1
  [ "$(od -An -tu1 -j5 -N1 "$f" | tr -d ' ')" = 1 ] || return 1
  cls=$(od -An -tu1 -j4 -N1 "$f" | tr -d ' ')
  case $cls in
  2)
    phoff=$(od -An -tu8 -j32 -N8 "$f" | tr -d ' ')
    phent=$(od -An -tu2 -j54 -N2 "$f" | tr -d ' ')
    phnum=$(od -An -tu2 -j56 -N2 "$f" | tr -d ' ')
    ;;
  1)
    phoff=$(od -An -tu4 -j28 -N4 "$f" | tr -d ' ')
    phent=$(od -An -tu2 -j42 -N2 "$f" | tr -d ' ')
    phnum=$(od -An -tu2 -j44 -N2 "$f" | tr -d ' ')
    ;;
  *) return 1 ;;
  esac
  ((phnum > 0)) || return 1
  for ((i = 0; i < phnum; i++)); do
    [ "$(od -An -tu4 -j$((phoff + i * phent)) -N4 "$f" | tr -d ' ')" != 3 ] || return 1 # 3 = PT_INTERP
  done
}
elf_static "$BUSYBOX" || die "$BUSYBOX is not a static ELF executable; apt-get install busybox-static"
if grep -q '^root:!' /etc/shadow 2>/dev/null; then
  die "root's password field in /etc/shadow starts with '!' (locked); sshd without PAM refuses key logins" \
    "for a locked account: run  usermod -p '*' root"
fi
if [ -S /run/containerd/containerd.sock ]; then
  echo "testbed-up.sh: warning: a system containerd is running; dockerd will share it" >&2
fi

mkdir -p "$TB"/{keys,nodes,log} "$TB/registry/data" "$D/cli" /run/sshd
chmod 700 "$TB/keys"
exec 9>"$TB/.lock"
flock -w 120 9 || die "another testbed-up.sh/testbed-down.sh holds $TB/.lock"
log "lock taken ($TB)"

# the docker CLI talks only to our daemon, with its own (empty) config: no contexts, no credential helpers
export DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$D/cli DOCKER_BUILDKIT=0
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH

# port_busy ADDR PORT: something listens on ADDR:PORT or on the wildcard address
port_busy() { ss -Hltn "sport = :$2" | awk '{print $4}' | grep -qE "^($1|0\.0\.0\.0|\*|\[::\]):$2\$"; }
# [WATCH_PID=pid] wait_for SECONDS DESC CMD... : poll CMD; give up early when WATCH_PID dies
wait_for() {
  local until=$(($(date +%s) + $1)) desc=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    (($(date +%s) < until)) || die "timed out waiting for $desc (logs: $TB/log)"
    [ -z "${WATCH_PID:-}" ] || ! gone "$WATCH_PID" || die "$desc exited during startup (logs: $TB/log)"
    sleep 0.05
  done
}
# install_if_changed TMP DEST: move TMP over DEST unless identical (a rerun leaves files untouched)
install_if_changed() { if cmp -s "$1" "$2"; then rm -f "$1"; else mv -f "$1" "$2"; fi; }
reg_port_taken() {
  die "registry port 127.0.0.1:$REG_PORT is already in use by another process;" \
    "set TB_REGISTRY_PORT to a free port"
}

# fail before starting anything when the registry port is taken by someone else
if [ "$DOCKER_ONLY" != 1 ] && ! alive "$(pid_in "$TB/registry/pid")" "$TB/registry/config.yml" && port_busy 127.0.0.1 "$REG_PORT"; then
  reg_port_taken
fi

# ---- client key -------------------------------------------------------------------------------
if [ ! -f "$KEY" ] || [ ! -f "$KEY.pub" ]; then
  rm -f "$KEY" "$KEY.pub"
  ssh-keygen -q -t ed25519 -N '' -C madengine-testbed-client -f "$KEY"
  log "client key created"
fi
cp "$KEY.pub" "$TB/keys/authorized_keys.tmp"
install_if_changed "$TB/keys/authorized_keys.tmp" "$TB/keys/authorized_keys"

# ---- dockerd ----------------------------------------------------------------------------------
docker_ok() { timeout 10 docker version >/dev/null 2>&1; }
# docker_answers PID: PID is our dockerd and answers within 20 s (a busy machine can be slow)
docker_answers() {
  local k
  alive "$1" "--data-root $D/data" || return 1
  for ((k = 0; k < 40; k++)); do
    if docker_ok; then return 0; fi
    alive "$1" "--data-root $D/data" || return 1
    sleep 0.5
  done
  return 1
}
dpid=$(pid_in "$D/pid")
if docker_answers "$dpid"; then
  log "dockerd already running (pid $dpid)"
else
  if alive "$dpid" "--data-root $D/data"; then # alive but not answering: replace it
    kill "$dpid" 2>/dev/null || true
    wait_for 30 "unresponsive dockerd $dpid to stop" gone "$dpid"
  fi
  rm -f "$D/pid" "$SOCK"
  # after a dockerd crash: kill its containerd, shims and containers, drop a stale containerd.pid
  leftovers=$(stop_docker_leftovers "$D")
  [ -z "$leftovers" ] || log "stopped what a crashed dockerd left: $leftovers"
  # Safety net: any image name that is not on 127.0.0.0/8 would make dockerd resolve it through the
  # machine's DNS server. The dead proxy on 127.0.0.1:9 makes such a pull fail at once instead.
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.0/8,localhost \
    http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 no_proxy=127.0.0.0/8,localhost \
    setsid dockerd --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/pid" -H "unix://$SOCK" \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false --userland-proxy=false \
    >>"$TB/log/dockerd.log" 2>&1 </dev/null 9>&- & # 9>&-: daemons must not inherit the lock
  WATCH_PID=$! wait_for 90 dockerd docker_ok
  log "dockerd started (pid $(pid_in "$D/pid"), socket $SOCK)"
fi

# ---- base image: FROM scratch + static busybox (nothing is pulled) -----------------------------
if docker image inspect --format '{{.Id}}' "$IMAGE" >/dev/null 2>&1; then
  log "image $IMAGE present"
else
  ctx=$(mktemp -d "$TB/log/ctx.XXXXXX")
  cp "$BUSYBOX" "$ctx/busybox"
  cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
LABEL org.madengine.testbed="1"
CMD ["/bin/sh"]
EOF
  if ! docker build -q -t "$IMAGE" "$ctx" >"$TB/log/build.log" 2>&1; then
    cat "$TB/log/build.log" >&2
    rm -rf "$ctx"
    die "base image build failed"
  fi
  rm -rf "$ctx"
  log "built $IMAGE"
fi

if [ "$DOCKER_ONLY" = 1 ]; then
  printf 'export DOCKER_HOST=unix://%s\n' "$SOCK" >"$TB/docker.env"
  log "ready (docker only): export DOCKER_HOST=unix://$SOCK   (also in $TB/docker.env)"
  exit 0
fi

# ---- registries -------------------------------------------------------------------------------
# Two registries: an open one for the tests' pushes and pulls, and one with htpasswd auth for the
# wrong-credentials tests. Its test password is made once and kept in $TB/authregistry/password.
AUTH_DIR=$TB/authregistry
mkdir -p "$AUTH_DIR/data"
if [ ! -s "$AUTH_DIR/password" ]; then
  (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$AUTH_DIR/password")
fi
AUTH_PASSWORD=$(cat "$AUTH_DIR/password")
if [ ! -s "$AUTH_DIR/htpasswd" ] || [ "$AUTH_DIR/password" -nt "$AUTH_DIR/htpasswd" ]; then
  # the registry's htpasswd wants bcrypt; python3's crypt module (libxcrypt) makes it, no extra package
  hash=$(python3 -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))' "$AUTH_PASSWORD") ||
    die "cannot make a bcrypt hash with python3's crypt module"
  printf 'madengine:%s\n' "$hash" >"$AUTH_DIR/htpasswd"
fi

# reg_ready PORT STATUS: GET /v2/ answers with STATUS (200 open, 401 with auth)
reg_ready() {
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  IFS= read -r -t 2 line <&3 || true
  exec 3>&-
  [[ $line == *" $2"* ]]
}
# start_registry DIR PORT READY_STATUS EXTRA_YAML: (re)start one registry if its config changed
start_registry() {
  local dir=$1 port=$2 ready=$3 extra=$4 cfg=$1/config.yml rpid
  printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s/data\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%s\n%s' \
    "$dir" "$port" "$extra" >"$cfg.new"
  rpid=$(pid_in "$dir/pid")
  if alive "$rpid" "$cfg" && cmp -s "$cfg.new" "$cfg"; then
    rm -f "$cfg.new"
    log "registry already running (pid $rpid, 127.0.0.1:$port)"
    return
  fi
  if alive "$rpid" "$cfg"; then
    kill "$rpid" 2>/dev/null || true
    wait_for 10 "old registry to stop" gone "$rpid"
  fi
  rm -f "$dir/pid"
  mv -f "$cfg.new" "$cfg"
  if port_busy 127.0.0.1 "$port"; then
    die "registry port 127.0.0.1:$port is already in use by another process;" \
      "set TB_REGISTRY_PORT / TB_AUTH_REGISTRY_PORT to a free port"
  fi
  setsid docker-registry serve "$cfg" >>"$TB/log/$(basename "$dir").log" 2>&1 </dev/null 9>&- &
  rpid=$!
  WATCH_PID=$rpid wait_for 30 "registry on 127.0.0.1:$port" reg_ready "$port" "$ready"
  alive "$rpid" "$cfg" || die "registry on 127.0.0.1:$port answers, but not as pid $rpid"
  echo "$rpid" >"$dir/pid"
  log "registry started on 127.0.0.1:$port (pid $rpid)"
}
start_registry "$TB/registry" "$REG_PORT" 200 ""
start_registry "$AUTH_DIR" "$AUTH_REG_PORT" 401 "auth:
  htpasswd:
    realm: madengine-testbed
    path: $AUTH_DIR/htpasswd
"

# ---- ssh nodes --------------------------------------------------------------------------------
node_cfg() { # node_cfg I DIR
  cat <<EOF
Port $SSH_PORT
ListenAddress $NET.$1
HostKey $2/ssh_host_ed25519_key
PidFile $2/sshd.pid
AuthorizedKeysFile $TB/keys/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
HostbasedAuthentication no
UsePAM no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
MaxStartups 200:30:400
MaxSessions 100
ClientAliveInterval 15
LogLevel INFO
SetEnv DOCKER_HOST=unix://$SOCK MADENGINE_TESTBED_NODE=node$1 HOME=$2/home
Subsystem sftp internal-sftp -d $2/home
EOF
}
started=0 kept=0
for i in $(seq 1 "$N"); do
  nd=$TB/nodes/node$i
  mkdir -p "$nd/home"
  if [ ! -f "$nd/ssh_host_ed25519_key" ] || [ ! -f "$nd/ssh_host_ed25519_key.pub" ]; then
    rm -f "$nd/ssh_host_ed25519_key" "$nd/ssh_host_ed25519_key.pub"
    ssh-keygen -q -t ed25519 -N '' -C "node$i" -f "$nd/ssh_host_ed25519_key"
  fi
  node_cfg "$i" "$nd" >"$nd/sshd_config.new"
  pid=$(pid_in "$nd/sshd.pid")
  if alive "$pid" "$nd/sshd_config" && cmp -s "$nd/sshd_config.new" "$nd/sshd_config"; then
    rm -f "$nd/sshd_config.new"
    kept=$((kept + 1))
    continue
  fi
  if alive "$pid" "$nd/sshd_config"; then
    kill "$pid" 2>/dev/null || true
    wait_for 10 "node$i to stop" gone "$pid"
  fi
  mv -f "$nd/sshd_config.new" "$nd/sshd_config"
  rm -f "$nd/sshd.pid"
  if port_busy "$NET.$i" "$SSH_PORT"; then
    die "ssh port $NET.$i:$SSH_PORT is already in use by another process; set TB_SSH_PORT or TB_NET"
  fi
  /usr/sbin/sshd -t -f "$nd/sshd_config" || die "node$i: sshd rejects $nd/sshd_config"
  # sshd daemonizes (started by absolute path); it writes its pidfile once it listens
  /usr/sbin/sshd -f "$nd/sshd_config" -E "$nd/sshd.log" </dev/null 9>&-
  started=$((started + 1))
done
for i in $(seq 1 "$N"); do
  wait_for 30 "node$i sshd (see $TB/nodes/node$i/sshd.log)" test -s "$TB/nodes/node$i/sshd.pid"
done
log "ssh nodes: $started started, $kept already running ($NET.1-$N:$SSH_PORT)"
# stop nodes above N left from an earlier, larger run (keep their dirs: same host key if they return)
for nd in "$TB"/nodes/node*; do
  [ -d "$nd" ] || continue
  i=${nd##*/node}
  if ! [[ $i =~ ^[0-9]+$ ]] || ((i <= N)); then continue; fi
  pid=$(pid_in "$nd/sshd.pid")
  if alive "$pid" "$nd/sshd_config"; then
    kill "$pid" 2>/dev/null || true
    log "node$i stopped (above TB_NODES=$N)"
  fi
  rm -f "$nd/sshd.pid"
done

# ---- testbed.json, known_hosts, ssh_config, inventory.ini --------------------------------------
json=$TB/testbed.json.tmp kh=$TB/known_hosts.tmp sc=$TB/ssh_config.tmp ini=$TB/inventory.ini.tmp
: >"$kh"
: >"$sc"
printf '[gpu_nodes]\n' >"$ini"
{
  printf '{\n  "version": 1,\n  "dir": "%s",\n' "$TB"
  printf '  "dockerHost": "unix://%s",\n  "dockerSocket": "%s",\n' "$SOCK" "$SOCK"
  printf '  "registry": "127.0.0.1:%s",\n  "baseImage": "%s",\n  "user": "root",\n' "$REG_PORT" "$IMAGE"
  printf '  "authRegistry": {"address": "127.0.0.1:%s", "username": "madengine", "password": "%s"},\n' \
    "$AUTH_REG_PORT" "$AUTH_PASSWORD"
  printf '  "privateKeyPath": "%s",\n  "knownHostsPath": "%s",\n' "$KEY" "$TB/known_hosts"
  printf '  "sshConfigPath": "%s",\n  "inventoryIniPath": "%s",\n  "nodes": [' "$TB/ssh_config" "$TB/inventory.ini"
  sep=''
  for i in $(seq 1 "$N"); do
    nd=$TB/nodes/node$i
    read -r ktype kb64 _ <"$nd/ssh_host_ed25519_key.pub"
    hex=$(printf '%s' "$kb64" | base64 -d | sha256sum | awk '{print $1}')
    fp=$(ssh-keygen -E sha256 -lf "$nd/ssh_host_ed25519_key.pub" | awk '{print $2}')
    printf '%s\n    {"name": "node%s", "host": "%s", "port": %s, "user": "root", "privateKeyPath": "%s", ' \
      "$sep" "$i" "$NET.$i" "$SSH_PORT" "$KEY"
    printf '"hostKey": "%s %s", "hostKeyFingerprint": "%s", "hostKeySha256Hex": "%s"}' "$ktype" "$kb64" "$fp" "$hex"
    sep=','
    printf '[%s]:%s %s %s\n' "$NET.$i" "$SSH_PORT" "$ktype" "$kb64" >>"$kh"
    printf 'Host node%s\n  HostName %s\n  Port %s\n  User root\n  IdentityFile %s\n  IdentitiesOnly yes\n' \
      "$i" "$NET.$i" "$SSH_PORT" "$KEY" >>"$sc"
    printf '  UserKnownHostsFile %s\n  StrictHostKeyChecking yes\n  LogLevel ERROR\n\n' "$TB/known_hosts" >>"$sc"
    printf 'node%s ansible_host=%s ansible_port=%s ansible_user=root ansible_ssh_private_key_file=%s\n' \
      "$i" "$NET.$i" "$SSH_PORT" "$KEY" >>"$ini"
  done
  if [ -n "$sep" ]; then printf '\n  ]\n}\n'; else printf ']\n}\n'; fi
} >"$json"
printf '\n[gpu_nodes:vars]\nansible_ssh_common_args=%s\n' \
  "'-o UserKnownHostsFile=$TB/known_hosts -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes'" >>"$ini"
for f in known_hosts ssh_config inventory.ini testbed.json; do install_if_changed "$TB/$f.tmp" "$TB/$f"; done
log "ready: $TB/testbed.json ($N nodes, registry 127.0.0.1:$REG_PORT, image $IMAGE)"
log "try: ssh -F $TB/ssh_config node1 docker ps"
