#!/usr/bin/env bash
# make bench (SPEC.md §9, issue 8): wrk against the running stack, the job pipeline with the
# reference worker in `--analysis none` mode, RSS of each service, one table in
# bench/results/<date>.md.
#
# usage: bench/run.sh            (what `make bench` runs)
#
# Environment (all optional):
#   BUILD_CONFIG        release (default) or debug: what to build and run when this script
#                       starts the stack (`swift build -c $BUILD_CONFIG`)
#   BIN_DIR             the executables (default .build/$BUILD_CONFIG)
#   SKIP_BUILD=1        do not run `swift build` (the executables in BIN_DIR must exist)
#   STACK_PROFILE       dev (default) or test, as for infra/local/stack.sh
#   BENCH_KEEP_STACK=1  leave a stack that this script started running afterwards
#   BENCH_THREADS, BENCH_CONNECTIONS, BENCH_DURATION
#                       wrk settings (default 2, 32, 10s); the login rows use
#                       BENCH_LOGIN_CONNECTIONS (default 4)
#   BENCH_JOBS          pipeline jobs (default 200)
#   BENCH_ONLY          comma-separated subset of: health,me,job-status,generate-url,login,
#                       storm,pipeline,ceiling (default: all; the read ceilings are measured
#                       whenever health, me or job-status are, the insert ceilings whenever
#                       generate-url is)
#   BENCH_CEILING_PORT  where bench-ceiling listens (default auth-service's port + 9)
#   BENCH_CEILING_GATEWAY_PORT
#                       where the ceiling gateway listens: an nginx with the stack's gateway
#                       configuration whose upstreams are all bench-ceiling (default
#                       auth-service's port + 8)
#   BENCH_JOB_RATE      pipeline arrivals per second, open loop (default 10)
#   BENCH_NOTE          a line added to the results file (say what differs from a plain run)
#   LOG_LEVEL           passed to the services when this script starts the stack (default info,
#                       the production default; development would otherwise log at debug)
#
# If the stack is already up (`make start`), it is used as it is, whichever build it runs
# (the results file names the executables). A reference worker that the stack started in
# `measure` mode is stopped for the benchmark and started again afterwards: the pipeline
# needs a worker that does no work, and both would share the consumer group.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
BUILD_CONFIG="${BUILD_CONFIG:-release}"
case "$BUILD_CONFIG" in release | debug) ;; *) echo "bench: BUILD_CONFIG must be release or debug" >&2; exit 2 ;; esac
export BIN_DIR="${BIN_DIR:-.build/$BUILD_CONFIG}"
export BUILD_CONFIG

# shellcheck source=infra/local/env.sh
source "$BENCH_DIR/../infra/local/env.sh"
cd "$ECG_ROOT"
STACK=("$ECG_ROOT/infra/local/stack.sh")

say() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

# A component's pid, when its pid file names a live process (the stack's own check is
# stricter; this is only used to decide whether to start the stack and whom to measure).
pid_of() {
  local f="$ECG_RUN_DIR/$1.pid" pid
  [[ -s $f ]] || return 1
  pid="$(head -n1 "$f" | tr -dc 0-9)"
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

ready() { [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/ready" 2>/dev/null || true) == 200 ]]; }

stack_up() {
  local port
  for port in "$ECG_AUTH_PORT" "$ECG_MEDIA_PORT" "$ECG_ANALYSIS_PORT"; do
    ready "$port" || return 1
  done
  [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' "$ECG_GATEWAY_URL/health" 2>/dev/null || true) == 200 ]]
}

for tool in wrk curl python3; do
  command -v "$tool" >/dev/null || { say "$tool is missing: running infra/local/deps.sh"; infra/local/deps.sh; break; }
done
command -v wrk >/dev/null || die "wrk not found (Debian package wrk)"

STARTED_STACK=0
OUR_WORKER_PID=""
RESTART_STACK_WORKER=0
CEILING_PID=""
CEILING_GATEWAY_PID=""

cleanup() {
  local rc=$?
  local pid
  for pid in "$CEILING_GATEWAY_PID" "$CEILING_PID"; do
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [[ -n $OUR_WORKER_PID ]] && kill -0 "$OUR_WORKER_PID" 2>/dev/null; then
    say "stopping the benchmark worker (pid $OUR_WORKER_PID)"
    kill -TERM "$OUR_WORKER_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$OUR_WORKER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$OUR_WORKER_PID" 2>/dev/null || true
  fi
  if ((STARTED_STACK)) && [[ ${BENCH_KEEP_STACK:-0} != 1 ]]; then
    say "stopping the stack this run started (BENCH_KEEP_STACK=1 keeps it)"
    "${STACK[@]}" stop >&2 || true
  elif ((RESTART_STACK_WORKER)); then
    if [[ $STACK_PROFILE == dev ]]; then
      # `start` leaves running components alone and starts the missing worker.
      say "starting the stack's reference worker again"
      BIN_DIR="$(dirname "$WORKER_EXE")" "${STACK[@]}" start >&2 || say "could not restart the reference worker: run 'make start'"
    else
      # The test profile's `start` wipes the stack first.
      say "the $STACK_PROFILE stack's reference worker was stopped for the benchmark and is not restarted"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# The stack
# ---------------------------------------------------------------------------
if stack_up; then
  say "using the running $STACK_PROFILE stack ($ECG_GATEWAY_URL); it is not rebuilt or restarted"
else
  if [[ ${SKIP_BUILD:-0} != 1 ]]; then
    say "swift build -c $BUILD_CONFIG (SKIP_BUILD=1 skips this)"
    [[ $BIN_DIR == "$ECG_ROOT/.build/$BUILD_CONFIG" ]] \
      || say "note: BIN_DIR=$BIN_DIR is not where 'swift build -c $BUILD_CONFIG' writes"
    infra/local/deps.sh
    swift build -c "$BUILD_CONFIG" >&2
  fi
  for exe in auth-service media-service analysis-service caption-worker ecg-kafka-broker; do
    [[ -x $BIN_DIR/$exe ]] || die "$BIN_DIR/$exe not found (build it, or set BIN_DIR / BUILD_CONFIG)"
  done
  say "starting the $STACK_PROFILE stack from $BIN_DIR"
  # Stop it afterwards only if none of it was running before.
  STARTED_STACK=1
  for c in postgres kafka s3 gateway auth-service media-service analysis-service worker; do
    pid_of "$c" >/dev/null && STARTED_STACK=0
  done
  LOG_LEVEL="${LOG_LEVEL:-info}" REFERENCE_WORKER=off BIN_DIR="$BIN_DIR" "${STACK[@]}" start >&2
fi

# ---------------------------------------------------------------------------
# The worker: `caption-worker --analysis none`, ours for the duration
# ---------------------------------------------------------------------------
WORKER_EXE="$BIN_DIR/caption-worker"
WORKER_AVAILABLE=0
[[ -x $WORKER_EXE ]] && WORKER_AVAILABLE=1
export BENCH_WORKER=none
if ((WORKER_AVAILABLE)) && [[ ,${BENCH_ONLY:-pipeline}, == *,pipeline,* ]]; then
  if wpid="$(pid_of worker)"; then
    if tr '\0' ' ' <"/proc/$wpid/cmdline" | grep -q -- '--analysis none'; then
      say "the stack's worker (pid $wpid) already runs with --analysis none; using it"
      export BENCH_WORKER=stack
    else
      say "stopping the stack's reference worker (pid $wpid, measure mode) for the benchmark; it is restarted afterwards"
      kill -TERM "$wpid" 2>/dev/null || true
      for _ in $(seq 1 150); do kill -0 "$wpid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$wpid" 2>/dev/null && die "the reference worker (pid $wpid) did not stop"
      RESTART_STACK_WORKER=1
    fi
  fi
  if [[ $BENCH_WORKER == none ]]; then
    say "starting caption-worker --analysis none ($WORKER_EXE)"
    mkdir -p "$ECG_LOG_DIR"
    env ECG_ENV="${ECG_ENV:-$ECG_ENV_DEFAULT}" \
      KAFKA_BROKERS="${KAFKA_BROKERS:-$(tr -d ' \t\r\n' <"$ECG_KAFKA_BOOTSTRAP_FILE")}" \
      KAFKA_FETCH_WAIT_MS="${KAFKA_FETCH_WAIT_MS:-10}" \
      LOG_LEVEL="${LOG_LEVEL:-info}" \
      "$WORKER_EXE" --analysis none --worker-id "bench-worker-$$" \
      </dev/null >>"$ECG_LOG_DIR/bench-worker.log" 2>&1 &
    OUR_WORKER_PID=$!
    sleep 1
    kill -0 "$OUR_WORKER_PID" 2>/dev/null || { tail -n 30 "$ECG_LOG_DIR/bench-worker.log" >&2; die "the benchmark worker exited at start"; }
    export BENCH_WORKER=bench BENCH_WORKER_PID="$OUR_WORKER_PID"
  fi
fi

# ---------------------------------------------------------------------------
# The ceilings (issue 13): bench-ceiling, a bench-only executable of this package serving a bare
# Hummingbird /health, a bare PostgresNIO lookup of /me's row and a bare run of generate-url's insert
# (bench/Ceiling/main.swift)
# ---------------------------------------------------------------------------
# usage: answers_health PID PORT NAME CONSEQUENCE
# True once `GET /health` on 127.0.0.1:PORT answers 200, or when process PID still runs after 10 s
# without answering (its rows then show the errors). If PID exits first, shows the end of NAME's log,
# says "NAME exited at start: CONSEQUENCE" and is false.
answers_health() {
  local pid=$1 port=$2 name=$3 consequence=$4
  for _ in $(seq 1 100); do
    [[ $(curl -s -o /dev/null -m 1 -w '%{http_code}' "http://127.0.0.1:$port/health" 2>/dev/null || true) == 200 ]] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && return 0
  tail -n 20 "$ECG_LOG_DIR/$name.log" >&2 || true
  say "$name exited at start: $consequence"
  return 1
}

CEILING_EXE="$BIN_DIR/bench-ceiling"
export BENCH_CEILING_PORT="${BENCH_CEILING_PORT:-$((ECG_AUTH_PORT + 9))}"
export BENCH_CEILING_PID=""
if port_busy "$BENCH_CEILING_PORT"; then
  say "127.0.0.1:$BENCH_CEILING_PORT (BENCH_CEILING_PORT) is in use by another process: the ceiling rows are skipped"
elif [[ -x $CEILING_EXE ]]; then
  say "starting bench-ceiling on 127.0.0.1:$BENCH_CEILING_PORT ($CEILING_EXE)"
  mkdir -p "$ECG_LOG_DIR"
  BENCH_CEILING_PORT="$BENCH_CEILING_PORT" DATABASE_URL="$(ecg_pg_url auth_service)" \
    MEDIA_DATABASE_URL="$(ecg_pg_url media_service)" \
    "$CEILING_EXE" </dev/null >>"$ECG_LOG_DIR/bench-ceiling.log" 2>&1 &
  CEILING_PID=$!
  if answers_health "$CEILING_PID" "$BENCH_CEILING_PORT" bench-ceiling "the ceiling rows are skipped"; then
    BENCH_CEILING_PID="$CEILING_PID"
  else
    CEILING_PID=""
  fi
else
  say "$CEILING_EXE not found (swift build -c $BUILD_CONFIG builds it): the ceiling rows are skipped"
fi

# The ceiling gateway: the stack's own gateway configuration (the same routes, proxy headers, request
# ids and access log), listening on its own port with every upstream at bench-ceiling, whose routes
# are paths the gateway forwards. A bare route measured through it shows what the gateway leaves of
# the framework's ceiling on these cores, and what a gateway row can be compared with.
export BENCH_CEILING_GATEWAY_PORT="${BENCH_CEILING_GATEWAY_PORT:-$((ECG_AUTH_PORT + 8))}"
export BENCH_CEILING_GATEWAY_PID=""
CEILING_GATEWAY_DIR="$ECG_DATA_DIR/bench-ceiling-gateway"
if [[ -n $CEILING_PID ]] && port_busy "$BENCH_CEILING_GATEWAY_PORT"; then
  say "127.0.0.1:$BENCH_CEILING_GATEWAY_PORT (BENCH_CEILING_GATEWAY_PORT) is in use by another process:" \
    "the ceiling rows through the gateway are skipped"
elif [[ -n $CEILING_PID && -f $ECG_NGINX_DIR/nginx.conf ]]; then
  mkdir -p "$CEILING_GATEWAY_DIR"
  sed -e "s#^\( *server 127\.0\.0\.1:\)[0-9]*;#\1$BENCH_CEILING_PORT;#" \
    -e "s#listen 127\.0\.0\.1:$ECG_GATEWAY_PORT #listen 127.0.0.1:$BENCH_CEILING_GATEWAY_PORT #" \
    -e "s#$ECG_NGINX_DIR/#$CEILING_GATEWAY_DIR/#g" \
    -e "s#$ECG_LOG_DIR/gateway-access\.log#$ECG_LOG_DIR/bench-ceiling-gateway-access.log#" \
    -e "s#$ECG_LOG_DIR/gateway\.log#$ECG_LOG_DIR/bench-ceiling-gateway.log#" \
    "$ECG_NGINX_DIR/nginx.conf" >"$CEILING_GATEWAY_DIR/nginx.conf"
  say "starting the ceiling gateway (nginx, the stack's gateway configuration) on 127.0.0.1:$BENCH_CEILING_GATEWAY_PORT"
  nginx -p "$CEILING_GATEWAY_DIR/" -e "$ECG_LOG_DIR/bench-ceiling-gateway.log" -c "$CEILING_GATEWAY_DIR/nginx.conf" \
    </dev/null >>"$ECG_LOG_DIR/bench-ceiling-gateway.log" 2>&1 &
  CEILING_GATEWAY_PID=$!
  if answers_health "$CEILING_GATEWAY_PID" "$BENCH_CEILING_GATEWAY_PORT" bench-ceiling-gateway \
    "the ceiling rows through the gateway are skipped"; then
    BENCH_CEILING_GATEWAY_PID="$CEILING_GATEWAY_PID"
  else
    CEILING_GATEWAY_PID=""
  fi
fi

# ---------------------------------------------------------------------------
# The measurements (bench/bench.py): data through the gateway, wrk, pipeline, table
# ---------------------------------------------------------------------------
export ECG_ROOT ECG_DATA_DIR ECG_RUN_DIR ECG_LOG_DIR STACK_PROFILE ECG_PG_BIN ECG_PG_DB ECG_PG_PORT \
  ECG_GATEWAY_PORT ECG_AUTH_PORT ECG_MEDIA_PORT ECG_ANALYSIS_PORT ECG_KAFKA_BOOTSTRAP_FILE ECG_ENV_DEFAULT
export BENCH_WRK_DIR="$BENCH_DIR/wrk" BENCH_RESULTS_DIR="${BENCH_RESULTS_DIR:-$BENCH_DIR/results}"
export BENCH_STARTED_STACK="$STARTED_STACK" BENCH_WORKER_AVAILABLE="$WORKER_AVAILABLE"
python3 "$BENCH_DIR/bench.py"
# The caption-worker rows: WER, real-time factor, RSS (bench/captions.py, no stack needed).
if [[ -z ${BENCH_ONLY:-} || ,$BENCH_ONLY, == *,captions,* ]]; then
  BIN_DIR="$BIN_DIR" python3 "$BENCH_DIR/captions.py"
fi
