#!/usr/bin/env bash
# The whole test suite, as CI runs it: system packages, type check, build, unit and integration tests.
# Runs on whichever Node comes first in PATH (scripts/test-all.sh runs it on each Node CI covers).
# Arguments go to vitest (e.g. --exclude 'test/e2e/**'); TEST_JSON names its JSON report (default .tmp/vitest.json).
set -euo pipefail
cd "$(dirname "$0")/.."
json="${TEST_JSON:-.tmp/vitest.json}"
echo "test.sh: node $(node --version) ($(command -v node)), npm $(npm --version)"
bash scripts/install-test-deps.sh
npm run typecheck
npm run build
mkdir -p "$(dirname "$json")"
rm -f "$json"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$json" "$@" || status=$?
# A closing line any CI can read: "tests: N passed, N failed", then a "failed: FILE > TEST: MESSAGE" line per failure.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
  // Each failed test in one line, so that the tail of a CI log names what failed.
  const cwd = process.cwd() + "/";
  for (const file of r.testResults)
    for (const t of file.assertionResults.filter((a) => a.status === "failed"))
      console.log(`failed: ${file.name.replace(cwd, "")} > ${t.fullName}: ${String(t.failureMessages[0] ?? "").split("\n")[0].slice(0, 300)}`);
' "$json" || echo "tests: no report (vitest did not finish)"
exit $status
