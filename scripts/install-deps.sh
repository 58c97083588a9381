#!/usr/bin/env bash
# Installs the Debian packages that Corral's tests and benchmarks talk to for real, when missing:
# etcd (server and client) for the etcd store, supervisor as the restart-latency peer, prometheus for promtool
# (the /metrics output is checked with 'promtool check metrics'), chromium for the dashboard's browser tests,
# keepalived as the VIP failover peer (bench failover), iproute2 for the multi-host lab and the virtual IP.
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
command -v supervisord >/dev/null 2>&1 || need+=(supervisor)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# The dashboard's browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v keepalived >/dev/null 2>&1 || [ -x /usr/sbin/keepalived ] || need+=(keepalived)
[ -x /usr/sbin/ip ] || need+=(iproute2)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "install-deps: need root (or sudo) to install: ${need[*]}" >&2
    exit 1
  fi
fi

echo "install-deps: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian starts the supervisor daemon on install; the benchmark runs its own instance.
# Debian may start the prometheus daemon too; the tests only need promtool.
if command -v systemctl >/dev/null 2>&1; then $sudo systemctl disable --now supervisor prometheus >/dev/null 2>&1 || true; fi
$sudo pkill -x supervisord >/dev/null 2>&1 || true
# Likewise keepalived: the benchmark runs its own instances inside the lab's namespaces.
if command -v systemctl >/dev/null 2>&1; then $sudo systemctl disable --now keepalived >/dev/null 2>&1 || true; fi
