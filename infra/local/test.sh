#!/usr/bin/env bash
# `make test`: install what is missing, build once, start a throwaway stack
# (STACK_PROFILE=test: its own ports and .data/test-stack/, so a running dev
# stack is not disturbed), run `swift test` against it, always tear it down,
# and exit with swift test's status.
set -euo pipefail

export STACK_PROFILE=test
# shellcheck source=infra/local/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ECG_ROOT"

STACK="$ECG_ROOT/infra/local/stack.sh"

print_logs() {
  local name f
  for name in auth-service media-service analysis-service worker kafka s3 gateway postgres; do
    f="$ECG_LOG_DIR/$name.log"
    [[ -s $f ]] || continue
    echo "===== last lines of $f =====" >&2
    tail -n 60 "$f" >&2 || true
  done
}

teardown() {
  local rc=$?
  trap - EXIT INT TERM
  echo "test: stopping the test stack"
  "$STACK" stop || true
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$ECG_ROOT/infra/local/deps.sh"

echo "test: swift build --build-tests"
swift build --build-tests

if ! REFERENCE_WORKER="${REFERENCE_WORKER:-on}" "$STACK" start; then
  echo "test: the test stack did not start" >&2
  print_logs
  exit 1
fi

export ECG_TEST_GATEWAY_URL="$ECG_GATEWAY_URL"
export ECG_TEST_AUTH_URL="$ECG_AUTH_URL"
export ECG_TEST_MEDIA_URL="$ECG_MEDIA_URL"
export ECG_TEST_ANALYSIS_URL="$ECG_ANALYSIS_URL"
export ECG_TEST_PG_URL="postgres://$ECG_TEST_ADMIN_ROLE:$ECG_TEST_ADMIN_PASSWORD@127.0.0.1:$ECG_PG_PORT/$ECG_PG_DB"
ECG_TEST_KAFKA_BROKERS="$(tr -d ' \t\r\n' <"$ECG_KAFKA_BOOTSTRAP_FILE")"
export ECG_TEST_KAFKA_BROKERS
export ECG_TEST_S3_ENDPOINT="$ECG_S3_ENDPOINT"
export ECG_TEST_S3_BUCKET="$ECG_S3_BUCKET"
export ECG_TEST_S3_REGION="$ECG_S3_REGION"
export ECG_TEST_S3_ACCESS_KEY_ID="$ECG_S3_ACCESS_KEY"
export ECG_TEST_S3_SECRET_ACCESS_KEY="$ECG_S3_SECRET_KEY"
export ECG_TEST_DATA_DIR="$ECG_DATA_DIR"
export ECG_TEST_KEYS_DIR="$ECG_KEYS_DIR"
export ECG_TEST_BIN_DIR="$BIN_DIR"
export ECG_TEST_PORT_OFFSET

echo "test: swift test --skip-build"
set +e
swift test --skip-build "$@"
status=$?
# The outage test restarts the stack's PostgreSQL: alone, after everything else has finished.
if ((status == 0)) && [[ $# -eq 0 || " $* " == *Outage* ]]; then
  echo "test: swift test --skip-build --filter OutageTests (ECG_TEST_OUTAGES=1)"
  ECG_TEST_OUTAGES=1 swift test --skip-build --filter OutageTests
  status=$?
fi
set -e

if ((status != 0)); then
  echo "test: swift test failed (exit $status)" >&2
  print_logs
fi

# ECG Studio (/app/) in headless Chromium against the same stack (BROWSER_TEST=off skips it).
if [[ ${BROWSER_TEST:-on} != off ]]; then
  echo "test: Tests/Browser/studio_test.py"
  if ! ECG_BROWSER_ARTEFACTS="$ECG_ROOT/.data/browser-test" /usr/bin/python3 "$ECG_ROOT/Tests/Browser/studio_test.py"; then
    echo "test: the browser test failed (screenshots and console log in .data/browser-test/)" >&2
    ((status != 0)) || print_logs
    status=1
  fi
fi

# How `make bench` reads wrk and judges issue 13's targets (bench/tests; no stack needed).
echo "test: bench/tests"
if ! /usr/bin/python3 -m unittest discover -s "$ECG_ROOT/bench/tests"; then
  echo "test: the bench's own tests failed" >&2
  status=1
fi

# The deployment files: Dockerfile, compose/, infra/aws/ (cfn-lint, Kafka ACLs), the CI/CD workflows,
# against what the built services read (`$BIN_DIR/<service> print-settings --json`); then the
# validator's own unit tests (infra/validate/tests).
echo "test: infra/validate.sh"
if ! BIN_DIR="$BIN_DIR" "$ECG_ROOT/infra/validate.sh"; then
  echo "test: the deployment files do not validate" >&2
  status=1
fi
exit "$status"
