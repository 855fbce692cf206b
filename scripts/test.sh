#!/usr/bin/env bash
# The whole test suite, as CI runs it: system packages, type check, build, unit and integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm run typecheck
npm run build
npx vitest run
