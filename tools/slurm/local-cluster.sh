#!/usr/bin/env bash
# A throw-away single-node SLURM cluster on localhost, for the cluster tests (docs/cluster.md).
#
#   tools/slurm/local-cluster.sh start DIR   # munged + slurmctld + slurmd, wait until the node is idle
#   tools/slurm/local-cluster.sh stop DIR    # cancel jobs, stop the daemons started from DIR, by PID
#   tools/slurm/local-cluster.sh status DIR
#
# Clients then need SLURM_CONF=DIR/etc/slurm.conf (also written to DIR/env.sh).
# Needs root (slurmd runs jobs as their users) and Debian's slurm-wlm + munge (tools/install-deps).
# No systemd: daemons run in the foreground mode, detached with setsid, with a private munge socket
# (AuthInfo=socket=...), so a system munged or slurm, if any, is left alone. Every wait is bounded by
# the wall clock. Ports: LAUEMAP_SLURM_PORT (slurmctld, default 16817) and the next one (slurmd).
set -euo pipefail

cmd=${1:-}; base=${2:-}
[[ -n $cmd && -n $base ]] || { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }
[[ $base == /*/* ]] || { echo "$0: DIR must be an absolute path below / (got '$base')" >&2; exit 2; }
port=${LAUEMAP_SLURM_PORT:-16817}
conf=$base/etc/slurm.conf
run=$base/run
logs=$base/log
sock=$base/munge/munge.socket

say() { printf '[local-cluster %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# A process is alive unless gone or a zombie (PID 1 may reap orphans late).
alive() {
  local st
  [[ -n ${1:-} && -r /proc/$1/stat ]] || return 1
  st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [[ -n $st && $st != Z && $st != X ]]
}
# PID from a pid file, if that process is alive and is the named daemon.
daemon_pid() {
  local p
  [[ -s $run/$1.pid ]] || return 1
  p=$(tr -dc '0-9' < "$run/$1.pid")
  alive "$p" && [[ $(cat "/proc/$p/comm" 2>/dev/null) == "$1" ]] && echo "$p"
}
# Runs a check until it succeeds or the deadline (seconds) passes.
wait_for() {
  local seconds=$1; shift
  local end=$(( $(date +%s) + seconds ))
  while (( $(date +%s) < end )); do "$@" && return 0; sleep 0.2; done
  return 1
}

munge_ok() { timeout 5 munge -S "$sock" -n 2>/dev/null | timeout 5 unmunge -S "$sock" >/dev/null 2>&1; }
ctld_up() { timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP'; }
node_idle() { [[ $(timeout 10 sinfo -h -N -n localhost -o %T 2>/dev/null | head -n1) == idle ]]; }

start() {
  [[ $EUID == 0 ]] || die "start needs root (slurmd)"
  for b in munged slurmctld slurmd sbatch; do command -v "$b" >/dev/null || die "$b not installed (tools/install-deps installs slurm-wlm and munge)"; done
  if [[ -d $base && ! -e $base/.lauemap-local-cluster && -n $(ls -A "$base") ]]; then
    die "$base is not empty and was not made by this script"
  fi
  if daemon_pid slurmctld >/dev/null || daemon_pid slurmd >/dev/null; then die "a cluster from $base is already running"; fi
  rm -rf "$base/state" "$base/spool" "$logs" "$run" "$base/munge"
  mkdir -p "$base/etc" "$base/state" "$base/spool" "$logs" "$run" "$base/munge"
  touch "$base/.lauemap-local-cluster"
  # Non-root job users must reach the config and the munge socket.
  chmod 0755 "$base" "$base/etc" "$base/spool" "$logs" "$base/munge"
  trap 'rc=$?; [[ $rc == 0 ]] || { say "start failed; stopping what was started"; stop || true; }' EXIT

  mungekey --create --keyfile="$base/munge/munge.key" >/dev/null 2>&1 || dd if=/dev/urandom of="$base/munge/munge.key" bs=1024 count=1 status=none
  chmod 0600 "$base/munge/munge.key"
  setsid munged -F --socket="$sock" --key-file="$base/munge/munge.key" --pid-file="$run/munged.pid" \
    --seed-file="$base/munge/munged.seed" --log-file="$logs/munged.log" >>"$logs/munged.log" 2>&1 </dev/null &
  wait_for 10 munge_ok || die "munged did not start (see $logs/munged.log)"

  local mem
  mem=$(free -m | awk '/^Mem:/{m=int($2*0.9); print (m < 1 ? 1 : m)}')
  cat > "$conf" <<EOF
# Single-node test cluster written by tools/slurm/local-cluster.sh
ClusterName=lauemaptest
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
KillWait=5
StateSaveLocation=$base/state
SlurmdSpoolDir=$base/spool
SlurmctldPidFile=$run/slurmctld.pid
SlurmdPidFile=$run/slurmd.pid
SlurmctldLogFile=$logs/slurmctld.log
SlurmdLogFile=$logs/slurmd.log
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
  chmod 0644 "$conf"
  printf 'export SLURM_CONF=%q\n' "$conf" > "$base/env.sh"
  export SLURM_CONF=$conf

  setsid slurmctld -D -f "$conf" >>"$logs/slurmctld.stderr" 2>&1 </dev/null &
  wait_for 30 ctld_up || { tail -n 20 "$logs/slurmctld.stderr" >&2; die "slurmctld did not answer (see $logs)"; }
  # NodeName localhost is not the host name: tell slurmd which node it is.
  setsid slurmd -D -N localhost -f "$conf" >>"$logs/slurmd.stderr" 2>&1 </dev/null &
  wait_for 30 node_idle || { tail -n 20 "$logs/slurmd.stderr" >&2; die "node did not become idle (see $logs)"; }
  trap - EXIT
  say "cluster up: SLURM_CONF=$conf"
}

stop_daemon() {
  local p i
  p=$(daemon_pid "$1") || { rm -f "$run/$1.pid"; return 0; }
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 1 60); do alive "$p" || break; sleep 0.25; done
  if alive "$p"; then say "$1 still alive after 15 s: kill -KILL $p"; kill -KILL "$p" 2>/dev/null || true; fi
  rm -f "$run/$1.pid"
}

stop() {
  [[ -e $base/.lauemap-local-cluster ]] || { say "no cluster at $base"; return 0; }
  export SLURM_CONF=$conf
  if daemon_pid slurmctld >/dev/null; then
    local ids
    ids=$(timeout 10 squeue -h -o %F 2>/dev/null | sort -u | tr '\n' ' ' || true)
    if [[ -n ${ids// /} ]]; then
      # shellcheck disable=SC2086
      timeout 10 scancel $ids 2>/dev/null || true
      wait_for 15 bash -c '[[ -z $(timeout 10 squeue -h 2>/dev/null) ]]' || true
    fi
  fi
  stop_daemon slurmd
  stop_daemon slurmctld
  stop_daemon munged
  say "stopped"
}

status() {
  local d
  for d in munged slurmctld slurmd; do
    if p=$(daemon_pid $d); then echo "$d: running (pid $p)"; else echo "$d: not running"; fi
  done
}

case $cmd in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status DIR" >&2; exit 2 ;;
esac
