#!/usr/bin/env bash
# Runs every test: backend and cross-cutting tests with node's test runner (via tsx),
# then the LWC Jest tests. Starts the project's Postgres and Redis first.
#   scripts/test.sh            all tests
#   scripts/test.sh backend    node tests only
#   scripts/test.sh lwc        LWC Jest tests only
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what="${1:-all}"

if [ "$what" != lwc ]; then
  eval "$(bash scripts/services.sh start)"
  export DATABASE_URL REDIS_URL
  mapfile -t files < <(find backend test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
  echo "running ${#files[@]} node test files"
  node --import tsx --test --test-concurrency=1 --test-timeout=600000 "${files[@]}"
fi
if [ "$what" != backend ]; then
  npx sfdx-lwc-jest -- --silent
fi
