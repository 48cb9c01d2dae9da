# shellcheck shell=bash
# testbed-lib.sh - process helpers shared by testbed-up.sh and testbed-down.sh (sourced, not run).
# Processes are always addressed by pid, after checking that the pid's command line names this
# testbed's own paths, so that a reused pid or someone else's daemon is never hit.

# alive PID PATTERN: the pid exists, is not a zombie (killed processes linger as zombies for seconds
# on these machines) and its command line contains PATTERN
alive() {
  [ -n "${1:-}" ] && [ -r "/proc/$1/cmdline" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "$2"
}
gone() { [ ! -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
# pid_in FILE: the pid a pidfile holds (empty when there is none)
pid_in() { if [ -s "$1" ]; then tr -dc '0-9' <"$1"; fi; }

# scan_procs: PPID_OF[pid]=ppid and CMD_OF[pid]="command line" for every live (non-zombie) process,
# read straight from /proc (no ps needed)
declare -gA PPID_OF CMD_OF
scan_procs() {
  PPID_OF=() CMD_OF=()
  local f p stat rest args
  for f in /proc/[0-9]*; do
    p=${f#/proc/}
    { IFS= read -r stat <"$f/stat"; } 2>/dev/null || continue
    rest=${stat##*) } # the fields after "(comm) ": state ppid ...
    [ "${rest%% *}" != Z ] || continue
    rest=${rest#* }
    PPID_OF[$p]=${rest%% *}
    args=()
    { mapfile -d '' -t args <"$f/cmdline"; } 2>/dev/null || true
    CMD_OF[$p]="${args[*]:-}"
  done
}
# descendants PID: every live descendant of PID, parents before children (after scan_procs)
descendants() {
  local queue=("$1") p c
  while ((${#queue[@]})); do
    p=${queue[0]}
    queue=("${queue[@]:1}")
    for c in "${!PPID_OF[@]}"; do
      if [ "${PPID_OF[$c]}" = "$p" ]; then
        echo "$c"
        queue+=("$c")
      fi
    done
  done
}
# matching PATTERN: live pids whose command line contains PATTERN (after scan_procs)
matching() {
  local p
  for p in "${!CMD_OF[@]}"; do
    if [[ ${CMD_OF[$p]} == *"$1"* ]]; then echo "$p"; fi
  done
}
# stop_pids TIMEOUT PID... : SIGTERM, wait up to TIMEOUT seconds (0: SIGKILL at once), then SIGKILL
# what is left and wait (briefly) until the kernel has it
stop_pids() {
  local t=$1 p until left
  shift
  (($#)) || return 0
  if ((t > 0)); then
    kill -TERM "$@" 2>/dev/null || true
    until=$(($(date +%s%N) + t * 1000000000))
    while :; do
      left=()
      for p in "$@"; do gone "$p" || left+=("$p"); done
      ((${#left[@]})) || return 0
      (($(date +%s%N) < until)) || break
      sleep 0.05
    done
  else
    left=("$@")
  fi
  kill -KILL "${left[@]}" 2>/dev/null || true
  for p in "${left[@]}"; do
    for _ in $(seq 1 40); do
      if gone "$p"; then break; fi
      sleep 0.05
    done
  done
}

# stop_docker_leftovers DOCKER_DIR: after a dockerd crash, its containerd, the shims and the container
# processes below them live on. A new dockerd would wait 10 s per container that ignores SIGTERM (a
# busybox sh as pid 1 does), so kill them outright; prints what it stopped when it stopped anything.
stop_docker_leftovers() {
  local d=$1 shims orphans cds s
  scan_procs
  mapfile -t shims < <(matching "-address $d/exec/containerd/containerd.sock")
  mapfile -t orphans < <(for s in "${shims[@]}"; do descendants "$s"; done)
  mapfile -t cds < <(matching "--config $d/exec/containerd/containerd.toml")
  if ((${#shims[@]} + ${#orphans[@]} + ${#cds[@]})); then
    stop_pids 0 "${orphans[@]}"
    stop_pids 5 "${shims[@]}" "${cds[@]}"
    echo "${#cds[@]} containerd, ${#shims[@]} shims, ${#orphans[@]} container processes"
  fi
  # a containerd.pid naming a dead (or zombie) process makes the next dockerd wait 60 s and fail
  local cpf=$d/exec/containerd/containerd.pid
  if [ -f "$cpf" ] && ! alive "$(pid_in "$cpf")" "$d/exec/containerd"; then rm -f "$cpf"; fi
}
