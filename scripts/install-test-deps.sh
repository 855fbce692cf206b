#!/usr/bin/env bash
# Installs what the tests need and npm cannot provide, from Debian packages:
# prometheus (prometheus, promtool) and prometheus-alertmanager (prometheus-alertmanager, amtool),
# and chromium for the landing page's browser test (driven by playwright-core, no browser download);
# with --with-blackbox also prometheus-blackbox-exporter, which the benchmark compares against.
set -euo pipefail
need=()
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ "${1:-}" = "--with-blackbox" ]; then
  command -v prometheus-blackbox-exporter >/dev/null 2>&1 || need+=(prometheus-blackbox-exporter)
fi
[ ${#need[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing Debian packages: ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
