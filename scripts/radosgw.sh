#!/usr/bin/env bash
# A one-node Ceph cluster with radosgw on 127.0.0.1, for the S3 tests and benchmark.
#   scripts/radosgw.sh start   creates it from nothing (or reuses a running one) and prints the environment
#   scripts/radosgw.sh env     prints the environment of the running one (eval "$(scripts/radosgw.sh env)")
#   scripts/radosgw.sh stop    stops it and removes its folder
# Its folder is $TRITONPACK_S3_HOME, default .build/radosgw. Packages: scripts/setup-s3.sh.
# Settings and the reasons for them: docs/user-guide.md ("Repositories in S3").
set -euo pipefail
cd "$(dirname "$0")/.."

home=${TRITONPACK_S3_HOME:-$PWD/.build/radosgw}
case "$home" in /*) ;; *) home=$PWD/$home ;; esac
access_key=tritonpack-test
secret_key=tritonpack-test-secret-key
region=us-east-1

log() { echo "radosgw: $*" >&2; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

running() {
  [ -f "$home/env" ] || return 1
  local pid
  for name in mon.a osd.0 client.rgw; do
    pid=$(cat "$home/run/$name.pid" 2>/dev/null) || return 1
    kill -0 "$pid" 2>/dev/null || return 1
  done
  # shellcheck disable=SC1091
  (. "$home/env"; curl -s -o /dev/null --max-time 2 "$TRITONPACK_S3_ENDPOINT")
}

stop() {
  local pid
  for name in client.rgw osd.0 mon.a; do
    pid=$(cat "$home/run/$name.pid" 2>/dev/null) || continue
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$home"
}

wait_for() {
  local what=$1 tries=$2; shift 2
  for _ in $(seq 1 "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  log "$what did not come up; logs in $home/log"
  tail -n 20 "$home"/log/*.log >&2 || true
  return 1
}

start() {
  if running; then cat "$home/env"; return; fi
  if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null || ! command -v ceph-osd >/dev/null; then
    log "Ceph is not installed; run scripts/setup-s3.sh"
    exit 1
  fi
  stop
  mkdir -p "$home"/{run,log,mon,osd/ceph-0,rgw}
  local fsid mon_port rgw_port osd_uuid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  mon_port=$(free_port)
  rgw_port=$(free_port)
  cat >"$home/ceph.conf" <<CONF
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$mon_port]
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg autoscale mode = off
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
run dir = $home/run
log file = $home/log/\$name.log
admin socket = $home/run/\$name.asok
pid file = $home/run/\$name.pid
mon data = $home/mon/\$cluster-\$id
osd data = $home/osd/\$cluster-\$id
keyring = $home/keyring
[osd]
osd objectstore = bluestore
bluestore block create = true
bluestore block size = 10737418240
osd memory target = 536870912
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $home/rgw
ms mon client mode = crc secure
CONF
  export CEPH_CONF=$home/ceph.conf
  : >"$home/keyring"
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$home/monmap" >/dev/null
  ceph-mon --mkfs -i a --monmap "$home/monmap" >/dev/null 2>&1
  ceph-mon -i a </dev/null >>"$home/log/start.log" 2>&1
  wait_for "the monitor" 60 ceph --connect-timeout 2 -s
  local osd_id
  osd_id=$(ceph osd new "$osd_uuid")
  [ "$osd_id" = 0 ] || { log "unexpected OSD id $osd_id"; exit 1; }
  ceph-osd -i 0 --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1
  ceph-osd -i 0 </dev/null >>"$home/log/start.log" 2>&1
  wait_for "the OSD" 120 sh -c 'ceph osd stat | grep -q "1 up"'
  radosgw -n client.rgw </dev/null >>"$home/log/start.log" 2>&1
  wait_for "radosgw" 120 curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$rgw_port"
  radosgw-admin user create --uid=tritonpack --display-name=tritonpack \
    --access-key="$access_key" --secret-key="$secret_key" >/dev/null
  cat >"$home/env" <<ENV
export TRITONPACK_S3_ENDPOINT=http://127.0.0.1:$rgw_port
export AWS_ACCESS_KEY_ID=$access_key
export AWS_SECRET_ACCESS_KEY=$secret_key
export AWS_DEFAULT_REGION=$region
ENV
  cat "$home/env"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) running || { log "not running; scripts/radosgw.sh start"; exit 1; }; cat "$home/env" ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
