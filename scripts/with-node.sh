#!/usr/bin/env bash
# Runs a command with Node.js VERSION first in PATH, fetched by scripts/install-node.sh when missing:
#   scripts/with-node.sh [VERSION] -- COMMAND [ARGS...]
# VERSION defaults to .node-version (the Node the image ships). `node`, `npm`, `npx` and every child that
# a test spawns with `node` or process.execPath then run on that Node; native addons would build
# against its headers (npm_config_nodedir), not the machine's.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version=""
if [ "${1:-}" != "--" ] && [ $# -gt 0 ]; then version="$1"; shift; fi
if [ "${1:-}" != "--" ] || [ $# -lt 2 ]; then
  echo "usage: scripts/with-node.sh [VERSION] -- COMMAND [ARGS...]" >&2
  exit 2
fi
shift
bin="$(bash "$root/scripts/install-node.sh" ${version:+"$version"})"
export PATH="$bin:$PATH"
export npm_config_nodedir="$(dirname "$bin")"
# An npm that started this script under another Node leaves these behind; the inner npm sets its own.
export NODE="$bin/node"
unset npm_node_execpath
hash -r
exec "$@"
