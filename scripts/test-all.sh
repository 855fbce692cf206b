#!/usr/bin/env bash
# CI: the whole suite (scripts/test.sh) on each Node line CI covers, one after another:
#   1. the Node the image ships (exact version in .node-version, the Dockerfile pins the same), fetched
#      from the npm registry by scripts/install-node.sh: every test, since it is what the container runs;
#   2. the machine's Node (20 on the CI machine), as long as package.json's engines still claims it, and
#   3. the newest LTS line (NEXT_NODE below): type check, build and every test but the slowest files,
#      which drive the exporter under load and with the real tools rather than Node's own APIs (the
#      fault matrix, ~3.3 min; the end-to-end tests with Prometheus, Alertmanager and Chromium, ~2.2 min;
#      250 reloads and 25,000 ad-hoc targets under a 128 MB heap, ~1.1 min). On the 2-core CI machine a
#      full run took 575 s and the smaller ones 172 s and 166 s (2026-12-02): ~15 min in all, where
#      three full runs would take ~30.
# Prints, per Node, test.sh's "tests: N passed, N failed" line, the seconds it took and test.sh's "failed:"
# line of each failed test, and exits 1 when any run failed. Each run's output is in
# .tmp/logs/test-node-VERSION.log as well.
set -uo pipefail
cd "$(dirname "$0")/.."
NEXT_NODE="${NEXT_NODE:-26.12.1}"
IMAGE_NODE="$(tr -d ' \t\r\n' < .node-version)"
SMOKE_EXCLUDES=(--exclude 'test/integration/fault-matrix.test.ts' --exclude 'test/e2e/**' --exclude 'test/integration/reload-memory.test.ts' --exclude 'test/integration/ad-hoc-targets.test.ts')
mkdir -p .tmp/logs
summary=()
failed=0

# run LABEL VERSION|"" [test.sh args...]: test.sh on that Node ("" = the machine's).
run() {
  local label="$1" version="$2"
  shift 2
  local log=".tmp/logs/test-node-${version:-machine}.log" started=$SECONDS status
  echo "=== $label"
  if [ -n "$version" ]; then
    TEST_JSON=".tmp/vitest-node-$version.json" bash scripts/with-node.sh "$version" -- bash scripts/test.sh "$@" 2>&1 | tee "$log"
  else
    TEST_JSON=".tmp/vitest-node-machine.json" bash scripts/test.sh "$@" 2>&1 | tee "$log"
  fi
  status=${PIPESTATUS[0]}
  local line
  line="$(grep -E '^tests: ' "$log" | tail -1)"
  [ -n "$line" ] || line="tests: none ran (exit $status)"
  [ "$status" -eq 0 ] || failed=1
  summary+=("$(printf '%-44s %-40s %4d s%s' "$label" "$line" $((SECONDS - started)) "$([ "$status" -eq 0 ] || echo "  FAILED (exit $status)")")")
  while IFS= read -r line; do summary+=("    $line"); done < <(grep -E '^failed: ' "$log")
}

machine="$(node --version)"
run "node v$IMAGE_NODE (image)" "$IMAGE_NODE"
# Whether engines.node (a ">=X.Y.Z" range) admits the machine's Node; any other kind of range is taken as yes.
if node -e '
  const range = (require("./package.json").engines || {}).node || "";
  const m = /^>=\s*v?(\d+)\.(\d+)\.(\d+)$/.exec(range.trim());
  if (!m) process.exit(0);
  const have = process.versions.node.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (have[i] !== Number(m[i + 1])) process.exit(have[i] > Number(m[i + 1]) ? 0 : 1);
'; then
  if [ "$machine" = "v$IMAGE_NODE" ]; then
    summary+=("node $machine (machine): the image's Node, run above")
  else
    run "node $machine (machine; all but the slowest files)" "" "${SMOKE_EXCLUDES[@]}"
  fi
else
  summary+=("node $machine (machine): skipped, package.json engines does not claim it")
fi
run "node v$NEXT_NODE (all but the slowest files)" "$NEXT_NODE" "${SMOKE_EXCLUDES[@]}"

echo "=== summary"
printf '%s\n' "${summary[@]}"
exit $failed
