#!/usr/bin/env bash
# Installs Ceph's radosgw, monitor and OSD from Debian's packages (16.2 on Debian 12), idempotently:
# scripts/radosgw.sh runs them as a one-node S3 server on 127.0.0.1 for the S3 tests.
set -euo pipefail

packages=(radosgw ceph-mon ceph-osd)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup-s3: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -q >/dev/null
# Debian's ceph packages start services through systemd when one runs; radosgw.sh runs its own.
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
