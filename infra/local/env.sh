# shellcheck shell=bash
# Sourced by infra/local/*.sh: the local stack's profile table, defined once.
#   STACK_PROFILE=dev  (default)  data in .data/,            gateway 8080
#   STACK_PROFILE=test            data in .data/test-stack/, gateway 18080 (wiped on start)
# Everything is an absolute path from the repository root.

ECG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
STACK_PROFILE="${STACK_PROFILE:-dev}"

case "$STACK_PROFILE" in
  dev)
    ECG_DATA_DIR="$ECG_ROOT/.data"
    ECG_GATEWAY_PORT=8080
    ECG_AUTH_PORT=8081
    ECG_MEDIA_PORT=8082
    ECG_ANALYSIS_PORT=8083
    ECG_PG_PORT=54320
    ECG_S3_PORT=9000
    ECG_ENV_DEFAULT=development
    ;;
  test)
    # ECG_TEST_PORT_OFFSET lets two test stacks run side by side (other ports, another data dir).
    ECG_TEST_PORT_OFFSET="${ECG_TEST_PORT_OFFSET:-0}"
    if ((ECG_TEST_PORT_OFFSET == 0)); then
      ECG_DATA_DIR="$ECG_ROOT/.data/test-stack"
    else
      ECG_DATA_DIR="$ECG_ROOT/.data/test-stack-$ECG_TEST_PORT_OFFSET"
    fi
    ECG_GATEWAY_PORT=$((18080 + ECG_TEST_PORT_OFFSET))
    ECG_AUTH_PORT=$((18081 + ECG_TEST_PORT_OFFSET))
    ECG_MEDIA_PORT=$((18082 + ECG_TEST_PORT_OFFSET))
    ECG_ANALYSIS_PORT=$((18083 + ECG_TEST_PORT_OFFSET))
    ECG_PG_PORT=$((54330 + ECG_TEST_PORT_OFFSET))
    ECG_S3_PORT=$((19000 + ECG_TEST_PORT_OFFSET))
    ECG_ENV_DEFAULT=test
    ;;
  *)
    echo "STACK_PROFILE must be dev or test (got '$STACK_PROFILE')" >&2
    return 1 2>/dev/null || exit 1
    ;;
esac

ECG_RUN_DIR="$ECG_DATA_DIR/run"
ECG_LOG_DIR="$ECG_DATA_DIR/logs"
ECG_PG_DIR="$ECG_DATA_DIR/pg"
ECG_PG_SOCKET_DIR="$ECG_DATA_DIR/pg-socket"
# A unix socket path is limited to 107 bytes; fall back to /tmp for deep checkouts.
if (( ${#ECG_PG_SOCKET_DIR} + 20 > 107 )); then
  ECG_PG_SOCKET_DIR="/tmp/ecg-backend-pg-$ECG_PG_PORT"
fi
ECG_S3_DIR="$ECG_DATA_DIR/s3"
ECG_S3_BUCKET=ecg-videos
ECG_S3_REGION=us-east-1
ECG_S3_ACCESS_KEY=ecg-local
ECG_S3_SECRET_KEY=ecg-local-secret
ECG_KEYS_DIR="$ECG_DATA_DIR/keys"
ECG_NGINX_DIR="$ECG_DATA_DIR/nginx"
ECG_KAFKA_BOOTSTRAP_FILE="$ECG_DATA_DIR/kafka.bootstrap"
ECG_PG_BIN=/usr/lib/postgresql/15/bin
ECG_PG_DB=ecg
# Only created in the test profile (migration-runner tests make throwaway schemas).
ECG_TEST_ADMIN_ROLE=ecg_test_admin
ECG_TEST_ADMIN_PASSWORD=ecg_test_admin_pw

HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
ECG_TOOLS_DIR="${ECG_TOOLS_DIR:-$HOME/.cache/ecg-backend}"
ECG_VENV="$ECG_TOOLS_DIR/venv"
ECG_RCLONE="$ECG_VENV/bin/rclone"

# Where the Swift executables are (relative paths are taken from the repo root).
BIN_DIR="${BIN_DIR:-.build/debug}"
case "$BIN_DIR" in /*) ;; *) BIN_DIR="$ECG_ROOT/$BIN_DIR" ;; esac

ECG_GATEWAY_URL="http://127.0.0.1:$ECG_GATEWAY_PORT"
ECG_AUTH_URL="http://127.0.0.1:$ECG_AUTH_PORT"
ECG_MEDIA_URL="http://127.0.0.1:$ECG_MEDIA_PORT"
ECG_ANALYSIS_URL="http://127.0.0.1:$ECG_ANALYSIS_PORT"
ECG_S3_ENDPOINT="http://127.0.0.1:$ECG_S3_PORT"

# The service's DATABASE_URL: ecg_pg_url <role>
ecg_pg_url() { echo "postgres://$1:$1_pw@127.0.0.1:$ECG_PG_PORT/$ECG_PG_DB"; }

# True when something accepts connections on 127.0.0.1:<port>: port_busy <port>
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
