#!/usr/bin/env bash
# Runs every test: types and lint, backend and cross-cutting tests with node's test runner
# (via tsx), then the LWC Jest tests. Starts the project's Postgres and Redis first.
#   scripts/test.sh            all of it
#   scripts/test.sh backend    node tests only
#   scripts/test.sh lwc        LWC Jest tests only
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what="${1:-all}"

if [ "$what" = all ]; then
  echo "== types"; npx tsc --noEmit
  echo "== lint"
  npx eslint .
  npx prettier --check . > /dev/null
fi
if [ "$what" != lwc ]; then
  # Assign first so a failure to start the services stops the run (eval alone would not).
  service_env="$(bash scripts/services.sh start)"
  eval "$service_env"
  export DATABASE_URL REDIS_URL
  mapfile -t files < <(find backend test scripts -name '*.test.ts' -not -path '*/node_modules/*' | sort)
  echo "== node tests (${#files[@]} files)"
  node --import tsx --test --test-concurrency=2 --test-timeout=600000 "${files[@]}"
fi
if [ "$what" != backend ]; then
  echo "== LWC Jest tests"
  npx sfdx-lwc-jest -- --silent
fi
