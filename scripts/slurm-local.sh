#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, every daemon on loopback, for the Slurm tests
# (and for trying `backdrop reproduce --slurm` without a cluster). Needs root and Debian's
# slurm-wlm and munge packages.
#
#   scripts/slurm-local.sh start   # munged, slurmctld, slurmd; waits until the node is idle
#   scripts/slurm-local.sh stop    # stops the daemons it started, by their pids
#   scripts/slurm-local.sh status
#
# State, logs and pid files live in $BACKDROP_SLURM_STATE (default /tmp/backdrop-slurm). The
# configuration is written there and linked as /etc/slurm/slurm.conf unless that file exists and
# was not written by this script.
set -euo pipefail
state=${BACKDROP_SLURM_STATE:-/tmp/backdrop-slurm}
conf="$state/slurm.conf"
marker="# written by backdrop scripts/slurm-local.sh"

die() { echo "slurm-local: $*" >&2; exit 1; }

start() {
  [ "$(id -u)" = 0 ] || die "must run as root (it starts munged, slurmctld and slurmd)"
  for tool in munged slurmctld slurmd sinfo sbatch; do
    command -v "$tool" >/dev/null || die "$tool not found: apt-get install slurm-wlm munge"
  done
  mkdir -p "$state/ctld" "$state/d" /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  [ -s /etc/munge/munge.key ] || mungekey -c
  chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    # munged runs as the munge user, so its pid file goes in its own folder.
    runuser -u munge -- munged --pid-file=/run/munge/munged.pid || die "munged did not start (see /var/log/munge/munged.log)"
    ln -sf /run/munge/munged.pid "$state/munged.pid"
    sleep 1
  fi
  local host cpus memory
  host=$(hostname)
  cpus=$(nproc)
  memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
  cat > "$conf" <<CONF
$marker
ClusterName=backdrop-local
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/d
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldParameters=enable_configless
NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  mkdir -p /etc/slurm
  if [ -e /etc/slurm/slurm.conf ] && ! grep -q "$marker" /etc/slurm/slurm.conf; then
    echo "slurm-local: /etc/slurm/slurm.conf exists and is not ours; use SLURM_CONF=$conf" >&2
  else
    ln -sf "$conf" /etc/slurm/slurm.conf
  fi
  export SLURM_CONF="$conf"
  slurmctld -f "$conf" || die "slurmctld did not start (see $state/slurmctld.log)"
  slurmd -f "$conf" -N "$host" || die "slurmd did not start (see $state/slurmd.log)"
  for _ in $(seq 1 60); do
    if sinfo -h -o %t 2>/dev/null | grep -qx idle; then
      echo "slurm-local: node $host idle ($cpus CPUs); configuration $conf"
      return 0
    fi
    sleep 1
  done
  sinfo >&2 || true
  die "the node did not become idle within 60 s (see $state/slurmctld.log and $state/slurmd.log)"
}

stop() {
  for daemon in slurmd slurmctld munged; do
    local pidfile="$state/$daemon.pid"
    if [ -s "$pidfile" ]; then
      local pid
      pid=$(cat "$pidfile")
      if kill "$pid" 2>/dev/null; then
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
      rm -f "$pidfile"
    fi
  done
  echo "slurm-local: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) SLURM_CONF="$conf" sinfo ;;
  *) die "usage: $0 start|stop|status" ;;
esac
