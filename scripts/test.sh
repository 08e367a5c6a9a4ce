#!/usr/bin/env bash
# The README's second command, and exactly what CI runs (.ci/run): installs what the tests need, builds,
# type-checks, lints, and runs every test of every package. Ends with a plain "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh || exit 1
scripts/install-test-deps.sh || exit 1
pnpm install --frozen-lockfile || exit 1
pnpm exec turbo run build typecheck --output-logs=errors-only || exit 1
pnpm exec biome check . || exit 1
mkdir -p .test-results
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json=.test-results/vitest.json
code=$?
# What a release publishes: every public package packed, checked by publint and arethetypeswrong, and installed
# with npm into throwaway folders (third-party dependencies from the npm registry). Needs the build above.
pnpm exec vitest run --root tests/pack-install --reporter=default --reporter=json \
  --outputFile.json="$PWD/.test-results/pack-install.json" || code=1
node scripts/count-tests.mjs .test-results/vitest.json .test-results/pack-install.json || code=1
exit $code
