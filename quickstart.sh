#!/usr/bin/env bash
# quickstart.sh - one command from a fresh Debian 12 machine to the main job on the bundled example zoo:
# installs what is missing (Docker engine, static busybox, python3, npm packages), uses the local Docker
# daemon or starts a private one (no bridge, no iptables, nothing pulled from the internet), then builds
# and runs the example zoo's models with madengine-cli (build + run). No registry and no GPU are needed.
# Outputs land in ./quickstart-output/. Stop a private daemon with:
#   TB_DIR=/tmp/madengine-local bash test/env/testbed-down.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
say() { printf '\n==> %s\n' "$*"; }

need=()
command -v dockerd >/dev/null || need+=(docker.io)
{ command -v busybox >/dev/null && ! grep -aq 'ld-linux' "$(command -v busybox)"; } || need+=(busybox-static)
command -v python3 >/dev/null || need+=(python3)
if ((${#need[@]})); then
  [ "$(id -u)" = 0 ] || { echo "quickstart.sh: please install ${need[*]} (or run as root)" >&2; exit 1; }
  say "installing ${need[*]} (apt starts no services: policy-rc.d)"
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; }
  DEBIAN_FRONTEND=noninteractive apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" iproute2
fi

if [ ! -x node_modules/.bin/tsc ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
[ -f dist/bundle/main.cjs ] || npm run build

docker_ok() { node -e 'const h=process.env.DOCKER_HOST||"unix:///var/run/docker.sock";const s=h.replace("unix://","");require("http").get({socketPath:s,path:"/_ping",timeout:2000},r=>process.exit(r.statusCode===200?0:1)).on("error",()=>process.exit(1))'; }
if docker_ok; then
  say "using the Docker daemon at ${DOCKER_HOST:-unix:///var/run/docker.sock}"
else
  [ "$(id -u)" = 0 ] || { echo "quickstart.sh: no Docker daemon reachable; start Docker or run as root to start a private one" >&2; exit 1; }
  say "starting a private Docker daemon (TB_DIR=/tmp/madengine-local)"
  TB_DIR=/tmp/madengine-local TB_DOCKER_ONLY=1 bash test/env/testbed-up.sh
  # shellcheck disable=SC1091
  source /tmp/madengine-local/docker.env
fi

mkdir -p quickstart-output
cd quickstart-output
say "madengine-cli discover (the bundled example zoo)"
../bin/madengine-cli discover --mad-root ../assets/zoo
say "madengine-cli run --tags dummies variants (build + run on local Docker, no registry, CPU only)"
status=0
../bin/madengine-cli run --mad-root ../assets/zoo --tags dummies variants \
  --additional-context '{"gpu_vendor": "NONE", "guest_os": "UBUNTU"}' \
  --summary-output workflow_summary.json --junit-xml test_results.xml || status=$?
say "done (exit $status): see quickstart-output/ (perf.csv, build_manifest.json, workflow_summary.json, test_results.xml, *.live.log)"
exit "$status"
