#!/usr/bin/env bash
# The test command (`npm test`): sets up a fresh clone, then runs the formatter check, the linter,
# the type checker and every vitest suite, real brokers included. Ends with one plain summary line.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh --tests

npx prettier --check . >/dev/null || { npx prettier --check . || true; echo "format: run 'npm run format'"; exit 1; }
npx eslint --max-warnings 0 .
npx tsc -p tsconfig.json

results=$(mktemp -d)/vitest.json
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?

if [[ -f $results ]]; then
  node -e '
    const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`vitest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  ' "$results"
fi
exit "$status"
