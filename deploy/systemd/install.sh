#!/usr/bin/env bash
# Install foghorn as a systemd service: the binary, the unit, and a
# pipeline in /etc/foghorn if there is none yet; then enable and start it.
#
#   sudo deploy/systemd/install.sh                      # target/release/foghorn, the demo pipeline
#   sudo deploy/systemd/install.sh --config my.yaml     # your pipeline (only if none is installed)
#   DESTDIR=/tmp/root deploy/systemd/install.sh         # stage into a tree, no root, no systemctl
#
# Options:
#   --prefix DIR    where the binary goes: DIR/bin/foghorn (default /usr/local)
#   --binary FILE   the foghorn binary to install (default: target/release/foghorn)
#   --config FILE   the pipeline installed as /etc/foghorn/pipeline.yaml when
#                   that file does not exist yet (default: config/agent.yaml,
#                   the demo pipeline)
#   --no-start      install and enable, but do not start or restart
#
# Idempotent: run it again after a build to upgrade; files that did not
# change are left alone, the service is restarted only when the binary or
# the unit changed, and an existing /etc/foghorn/pipeline.yaml is never
# overwritten. With DESTDIR set, nothing outside DESTDIR is touched and
# systemctl is not run.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
prefix=/usr/local
binary=$repo/target/release/foghorn
config=$repo/config/agent.yaml
start=yes
destdir=${DESTDIR:-}

while [ $# -gt 0 ]; do
    case $1 in
        --prefix) prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#*=}; shift ;;
        --binary) binary=$2; shift 2 ;;
        --binary=*) binary=${1#*=}; shift ;;
        --config) config=$2; shift 2 ;;
        --config=*) config=${1#*=}; shift ;;
        --no-start) start=no; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

case $prefix in /*) ;; *) echo "install.sh: --prefix must be absolute: $prefix" >&2; exit 2 ;; esac
[ -x "$binary" ] || { echo "install.sh: no binary at $binary: build it with 'cargo build --release --locked -p foghorn', or pass --binary" >&2; exit 1; }
if [ -z "$destdir" ] && [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run as root, or set DESTDIR to stage into a directory" >&2
    exit 1
fi

changed=no
# Copy $1 to $2 with mode $3 unless $2 already has the same content.
put() {
    if [ -f "$2" ] && cmp -s "$1" "$2"; then
        echo "unchanged  $2"
        return
    fi
    install -D -m "$3" "$1" "$2.new"
    mv -f "$2.new" "$2"
    changed=yes
    echo "installed  $2"
}

bin_path=$prefix/bin/foghorn
put "$binary" "$destdir$bin_path" 0755

# The unit names /usr/local/bin/foghorn: point it at the binary's prefix.
unit=$(mktemp)
trap 'rm -f "$unit"' EXIT
sed "s#/usr/local/bin/foghorn#$bin_path#g" "$repo/deploy/systemd/foghorn.service" >"$unit"
put "$unit" "$destdir/etc/systemd/system/foghorn.service" 0644

pipeline=$destdir/etc/foghorn/pipeline.yaml
if [ -e "$pipeline" ]; then
    echo "kept       $pipeline (never overwritten)"
else
    [ -f "$config" ] || { echo "install.sh: no pipeline at $config" >&2; exit 1; }
    install -D -m 0644 "$config" "$pipeline"
    echo "installed  $pipeline (from $config)"
fi

# A pipeline that does not validate would fail every start: say so now.
if [ -z "$destdir" ]; then
    "$bin_path" validate -c /etc/foghorn/pipeline.yaml
fi

if [ -n "$destdir" ]; then
    echo "DESTDIR set: not running systemctl"
elif [ ! -d /run/systemd/system ]; then
    echo "systemd is not running here: enable it later with 'systemctl enable --now foghorn'"
else
    systemctl daemon-reload
    if [ "$start" = no ]; then
        systemctl enable foghorn.service
    elif systemctl is-active --quiet foghorn.service && [ "$changed" = yes ]; then
        systemctl enable foghorn.service
        systemctl restart foghorn.service
    else
        systemctl enable --now foghorn.service
    fi
    systemctl --no-pager --lines=0 status foghorn.service || true
fi
