#!/usr/bin/env bash
# The local ECG Backend stack, without Docker:
#   PostgreSQL 15, the embedded Kafka broker (ecg-kafka-broker), S3 (rclone serve s3),
#   the gateway (nginx) and the three services (+ the reference ML worker).
#
# usage: STACK_PROFILE=dev|test infra/local/stack.sh start|stop|run|status
#
#   start   install what is missing, start every component not already running,
#           return once each service answers /ready; prints the gateway URL
#   stop    stop every component (reverse order); data survives (dev profile)
#   run     start, then follow the service logs; Ctrl-C / SIGTERM stops everything
#   status  one line per component
#
# Environment:
#   STACK_PROFILE     dev (default) or test (ports and data dir: infra/local/env.sh;
#                     the test profile's data dir is wiped on every start)
#   BIN_DIR           the Swift executables (default .build/debug, relative to the repo root)
#   REFERENCE_WORKER  off: do not start the reference worker (`caption-worker`)
#   CAPTION_WORKER_ARGS  extra arguments for it, e.g. `--analysis none`
#   READY_TIMEOUT     seconds to wait for each service's /ready (default 120)
#   Anything else is passed through to the services (e.g. GOOGLE_AUTH_URL=...),
#   see service_env below for what the stack sets when the caller has not.
set -euo pipefail

# shellcheck source=infra/local/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ECG_ROOT"

READY_TIMEOUT="${READY_TIMEOUT:-120}"
STOP_TIMEOUT=15
SERVICES=(auth-service media-service analysis-service)
# Start order; stop runs it backwards.
COMPONENTS=(postgres kafka s3 gateway auth-service media-service analysis-service worker)

IS_ROOT=0
[[ $(id -u) -eq 0 ]] && IS_ROOT=1

say() { echo "stack[$STACK_PROFILE]: $*"; }
die() { echo "stack[$STACK_PROFILE]: error: $*" >&2; exit 1; }

pid_file() { echo "$ECG_RUN_DIR/$1.pid"; }
log_file() { echo "$ECG_LOG_DIR/$1.log"; }

# Every process the stack starts carries ECG_STACK_ID=<data dir>#<name> in its
# environment; a pid file only counts when its process has it, or, for
# programs that overwrite their environment block to set their process title
# (nginx), when its command line names this data dir. This guards against a
# stale pid file naming a recycled pid (e.g. after a reboot).
stack_id() { echo "$ECG_DATA_DIR#$1"; }

cmdline_marker() {
  case "$1" in
    gateway) echo "$ECG_NGINX_DIR/nginx.conf" ;;
    kafka) echo "$ECG_KAFKA_BOOTSTRAP_FILE" ;;
    s3) echo "$ECG_S3_DIR" ;;
  esac
}

# alive PID: the process exists and is not a zombie.
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state="$(sed 's/.*) //' 2>/dev/null <"/proc/$1/stat" | cut -d' ' -f1 || true)"
  [[ -n $state && $state != Z ]]
}

# The pid of a live process of the component, or nothing (and status 1).
live_pid() {
  local f pid marker
  f="$(pid_file "$1")"
  [[ -s $f ]] || return 1
  pid="$(head -n1 "$f" | tr -dc 0-9)"
  [[ -n $pid ]] || return 1
  alive "$pid" || return 1
  local environ cmdline
  environ="$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" || true)"
  if [[ $'\n'$environ$'\n' != *$'\n'"ECG_STACK_ID=$(stack_id "$1")"$'\n'* ]]; then
    marker="$(cmdline_marker "$1")"
    [[ -n $marker ]] || return 1
    cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" || true)"
    [[ $cmdline == *"$marker"* ]] || return 1
  fi
  echo "$pid"
}

require_free_port() {
  if port_busy "$1"; then
    die "127.0.0.1:$1 (for $2) is already in use by another process; stop it first (see: ss -ltnp 'sport = :$1')"
  fi
}

tail_log() {
  local f
  f="$(log_file "$1")"
  if [[ -f $f ]]; then
    echo "----- last lines of $f -----" >&2
    tail -n "${2:-40}" "$f" >&2 || true
    echo "-----" >&2
  fi
}

# start_bg NAME CMD...: run CMD detached (own session and process group),
# stdin from /dev/null, output appended to the component's log, pid in its pid file.
start_bg() {
  local name="$1"; shift
  local pf log
  pf="$(pid_file "$name")"
  log="$(log_file "$name")"
  rm -f "$pf"
  echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) starting $name" >>"$log"
  # The wrapper writes its own pid, then execs the command in the same process.
  ECG_STACK_ID="$(stack_id "$name")" \
    setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pf" "$@" </dev/null >>"$log" 2>&1 &
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s $pf ]] && return 0
    sleep 0.05
  done
  die "$name did not start (no pid file)"
}

# ---------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------
as_pg() {
  if ((IS_ROOT)); then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_ctl_() { as_pg "$ECG_PG_BIN/pg_ctl" -D "$ECG_PG_DIR" "$@"; }

psql_admin() {
  PGOPTIONS="-c client_min_messages=warning" as_pg "$ECG_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$ECG_PG_SOCKET_DIR" -p "$ECG_PG_PORT" -U postgres "$@"
}

# When root, the postgres user must be able to reach the data dir: give o+x to
# every ancestor directory that it cannot traverse.
make_traversable_for() {
  local user="$1" path="$2" dir="" part
  local -a parts
  IFS=/ read -r -a parts <<<"${path#/}"
  # From / downwards, so that only the directories that block the way change.
  for part in "${parts[@]}"; do
    [[ -n $part ]] || continue
    dir="$dir/$part"
    if ! runuser -u "$user" -- test -x "$dir" 2>/dev/null; then
      chmod o+x "$dir"
      say "made $dir traversable (o+x) for the $user user"
    fi
  done
}

pg_write_config() {
  local extra=""
  if [[ $STACK_PROFILE == test ]]; then
    # Throwaway data: trade durability for speed.
    extra=$'fsync = off\nsynchronous_commit = off\nfull_page_writes = off'
  fi
  cat >"$ECG_PG_DIR/ecg.conf" <<EOF
# Written by infra/local/stack.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $ECG_PG_PORT
unix_socket_directories = '$ECG_PG_SOCKET_DIR'
unix_socket_permissions = 0700
max_connections = 300
password_encryption = 'scram-sha-256'
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
$extra
EOF
  cat >"$ECG_PG_DIR/pg_hba.conf" <<'EOF'
# Written by infra/local/stack.sh on every start.
# Unix socket (0700, in the data dir): the cluster's OS user only.
local   all   all                    trust
# TCP: passwords (SCRAM) only.
host    all   all   127.0.0.1/32     scram-sha-256
host    all   all   ::1/128          scram-sha-256
EOF
  if ! grep -q "^include_if_exists = 'ecg.conf'" "$ECG_PG_DIR/postgresql.conf"; then
    echo "include_if_exists = 'ecg.conf'" >>"$ECG_PG_DIR/postgresql.conf"
  fi
  ((IS_ROOT)) && chown postgres:postgres "$ECG_PG_DIR/ecg.conf" "$ECG_PG_DIR/pg_hba.conf"
  return 0
}

pg_provision() {
  local admin_sql=""
  if [[ $STACK_PROFILE == test ]]; then
    admin_sql="
      DO \$\$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ECG_TEST_ADMIN_ROLE') THEN
          CREATE ROLE $ECG_TEST_ADMIN_ROLE;
        END IF;
      END \$\$;
      ALTER ROLE $ECG_TEST_ADMIN_ROLE WITH LOGIN SUPERUSER PASSWORD '$ECG_TEST_ADMIN_PASSWORD';"
  fi
  psql_admin -d postgres <<EOF
SELECT 'CREATE DATABASE $ECG_PG_DB' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$ECG_PG_DB')\gexec
DO \$\$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['auth_service', 'media_service', 'analysis_service'] LOOP
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I', r);
    END IF;
    EXECUTE format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', r, r || '_pw');
  END LOOP;
END
\$\$;
ALTER ROLE auth_service SET search_path = auth;
ALTER ROLE media_service SET search_path = media;
ALTER ROLE analysis_service SET search_path = analysis;
$admin_sql
REVOKE ALL ON DATABASE $ECG_PG_DB FROM PUBLIC;
GRANT CONNECT ON DATABASE $ECG_PG_DB TO auth_service, media_service, analysis_service;
\connect $ECG_PG_DB
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS auth AUTHORIZATION auth_service;
CREATE SCHEMA IF NOT EXISTS media AUTHORIZATION media_service;
CREATE SCHEMA IF NOT EXISTS analysis AUTHORIZATION analysis_service;
ALTER SCHEMA auth OWNER TO auth_service;
ALTER SCHEMA media OWNER TO media_service;
ALTER SCHEMA analysis OWNER TO analysis_service;
REVOKE ALL ON SCHEMA auth FROM PUBLIC;
REVOKE ALL ON SCHEMA media FROM PUBLIC;
REVOKE ALL ON SCHEMA analysis FROM PUBLIC;
EOF
}

start_postgres() {
  [[ -x $ECG_PG_BIN/postgres ]] || die "PostgreSQL 15 not found in $ECG_PG_BIN (run infra/local/deps.sh)"
  mkdir -p "$ECG_PG_DIR" "$ECG_PG_SOCKET_DIR"
  chmod 700 "$ECG_PG_DIR" "$ECG_PG_SOCKET_DIR"
  local log
  log="$(log_file postgres)"
  touch "$log"
  if ((IS_ROOT)); then
    id postgres >/dev/null 2>&1 || die "the postgres system user is missing (Debian package postgresql)"
    chown postgres:postgres "$ECG_PG_SOCKET_DIR" "$log"
    chown -R postgres:postgres "$ECG_PG_DIR"
    make_traversable_for postgres "$ECG_LOG_DIR"
    make_traversable_for postgres "$ECG_PG_DIR"
    make_traversable_for postgres "$ECG_PG_SOCKET_DIR"
  fi

  if pg_ctl_ status >/dev/null 2>&1; then
    head -n1 "$ECG_PG_DIR/postmaster.pid" >"$(pid_file postgres)"
    say "postgres already running (pid $(cat "$(pid_file postgres)"))"
  else
    if [[ ! -s $ECG_PG_DIR/PG_VERSION ]]; then
      say "initdb $ECG_PG_DIR"
      as_pg "$ECG_PG_BIN/initdb" -D "$ECG_PG_DIR" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >>"$log" 2>&1 \
        || { tail_log postgres; die "initdb failed"; }
    fi
    pg_write_config
    require_free_port "$ECG_PG_PORT" postgres
    say "starting postgres on 127.0.0.1:$ECG_PG_PORT"
    if ! pg_ctl_ -l "$log" -w -t 60 start >/dev/null; then
      tail_log postgres
      die "PostgreSQL did not start"
    fi
    head -n1 "$ECG_PG_DIR/postmaster.pid" >"$(pid_file postgres)"
  fi
  pg_provision || die "provisioning database $ECG_PG_DB failed"
}

stop_postgres() {
  if [[ -s $ECG_PG_DIR/PG_VERSION ]] && pg_ctl_ status >/dev/null 2>&1; then
    say "stopping postgres"
    if ! pg_ctl_ stop -m fast -w -t "$STOP_TIMEOUT" >/dev/null 2>&1; then
      local pid
      pid="$(head -n1 "$ECG_PG_DIR/postmaster.pid" 2>/dev/null || true)"
      [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null || true
    fi
  else
    stop_pid postgres
  fi
  rm -f "$(pid_file postgres)"
}

# ---------------------------------------------------------------------------
# Kafka (the project's embedded broker, librdkafka's mock cluster)
# ---------------------------------------------------------------------------
start_kafka() {
  local bin="$BIN_DIR/ecg-kafka-broker"
  if live_pid kafka >/dev/null && [[ -s $ECG_KAFKA_BOOTSTRAP_FILE ]]; then
    say "kafka already running (pid $(live_pid kafka)) at $(kafka_brokers)"
    return 0
  fi
  stop_pid kafka
  [[ -x $bin ]] || die "$bin not found: build first (swift build), or set BIN_DIR"
  rm -f "$ECG_KAFKA_BOOTSTRAP_FILE"
  say "starting kafka broker"
  start_bg kafka "$bin" --bootstrap-file "$ECG_KAFKA_BOOTSTRAP_FILE"
  # Ready when the file holds host:port[,host:port...] and the first one
  # accepts TCP connections (so a half-written file is never used).
  local i first
  for ((i = 0; i < 300; i++)); do
    if [[ -s $ECG_KAFKA_BOOTSTRAP_FILE ]]; then
      first="$(kafka_brokers)"
      first="${first%%,*}"
      if [[ $first =~ ^(.+):([0-9]+)$ ]] && (exec 3<>"/dev/tcp/${BASH_REMATCH[1]}/${BASH_REMATCH[2]}") 2>/dev/null; then
        say "kafka at $(kafka_brokers)"
        return 0
      fi
    fi
    if ! live_pid kafka >/dev/null; then
      tail_log kafka
      die "the kafka broker exited"
    fi
    sleep 0.1
  done
  tail_log kafka
  die "the kafka broker did not write a reachable host:port to $ECG_KAFKA_BOOTSTRAP_FILE within 30 s"
}

kafka_brokers() { tr -d ' \t\r\n' <"$ECG_KAFKA_BOOTSTRAP_FILE"; }

# ---------------------------------------------------------------------------
# S3 (rclone serve s3)
# ---------------------------------------------------------------------------
rclone_args() {
  # --vfs-cache-mode off: a PUT is written to a temporary file and renamed into
  #   place before the 200, so the bytes are on disk (and survive a stop) when
  #   the client hears back; `writes` would acknowledge from a cache and write
  #   back later. --dir-cache-time 1s: objects changed on disk directly show up
  #   within a second.
  # --auth-key turns on SigV4 verification (headers and presigned URLs,
  #   signature and expiry); any region name is accepted, us-east-1 included.
  RCLONE_ARGS=(
    serve s3
    --addr "127.0.0.1:$ECG_S3_PORT"
    --auth-key "$ECG_S3_ACCESS_KEY,$ECG_S3_SECRET_KEY"
    --force-path-style=true
    --etag-hash MD5
    --vfs-cache-mode off
    --dir-cache-time 1s
    --poll-interval 0
    --allow-origin "$(s3_allow_origin)"
    --cache-dir "$ECG_DATA_DIR/rclone-cache"
    --log-level NOTICE
    "$ECG_S3_DIR"
  )
}

# CORS: rclone allows one origin, the page that PUTs to presigned URLs: ECG Studio
# at the gateway (/app/) unless S3_ALLOW_ORIGIN names another.
s3_allow_origin() { echo "${S3_ALLOW_ORIGIN:-$ECG_GATEWAY_URL}"; }

# The S3 origin browsers use (presigned URLs are signed for it), for the page's CSP.
s3_browser_origin() {
  local endpoint="${S3_PUBLIC_ENDPOINT:-${S3_ENDPOINT:-$ECG_S3_ENDPOINT}}"
  [[ $endpoint =~ ^(https?://[^/?#]+) ]] && endpoint="${BASH_REMATCH[1]}"
  echo "$endpoint"
}

start_s3() {
  mkdir -p "$ECG_S3_DIR/$ECG_S3_BUCKET"
  if live_pid s3 >/dev/null; then
    say "s3 already running (pid $(live_pid s3))"
    return 0
  fi
  [[ -x $ECG_RCLONE ]] || die "$ECG_RCLONE not found (run infra/local/deps.sh)"
  require_free_port "$ECG_S3_PORT" s3
  rclone_args
  : >"$ECG_DATA_DIR/rclone.conf"
  say "starting s3 (rclone) on 127.0.0.1:$ECG_S3_PORT"
  start_bg s3 env RCLONE_CONFIG="$ECG_DATA_DIR/rclone.conf" "$ECG_RCLONE" "${RCLONE_ARGS[@]}"
  wait_port s3 "$ECG_S3_PORT" 30
}

wait_port() {
  local name="$1" port="$2" secs="$3" i
  for ((i = 0; i < secs * 10; i++)); do
    port_busy "$port" && return 0
    if ! live_pid "$name" >/dev/null; then
      tail_log "$name"
      die "$name exited"
    fi
    sleep 0.1
  done
  tail_log "$name"
  die "$name is not listening on 127.0.0.1:$port after $secs s"
}

# ---------------------------------------------------------------------------
# Gateway (nginx)
# ---------------------------------------------------------------------------
write_nginx_conf() {
  mkdir -p "$ECG_NGINX_DIR"
  local user_line=""
  ((IS_ROOT)) && user_line="user nobody nogroup;"
  cat >"$ECG_NGINX_DIR/nginx.conf" <<EOF
# Generated by infra/local/stack.sh (profile $STACK_PROFILE) on every start.
# The routes come from compose/nginx/routes.conf, shared with docker compose.
$user_line
daemon off;
worker_processes auto;
pid $ECG_NGINX_DIR/nginx.pid;
error_log $(log_file gateway) warn;

events {
    worker_connections 4096;
}

http {
    server_tokens off;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 65s;
    keepalive_requests 10000;

    client_body_temp_path $ECG_NGINX_DIR/client_body_temp;
    proxy_temp_path $ECG_NGINX_DIR/proxy_temp;
    fastcgi_temp_path $ECG_NGINX_DIR/fastcgi_temp;
    uwsgi_temp_path $ECG_NGINX_DIR/uwsgi_temp;
    scgi_temp_path $ECG_NGINX_DIR/scgi_temp;

    log_format ecg '\$remote_addr - [\$time_local] "\$request" \$status \$body_bytes_sent '
                   '\$request_time rid=\$gw_request_id up=\$upstream_addr/\$upstream_status/\$upstream_response_time';
    access_log $ECG_LOG_DIR/gateway-access.log ecg buffer=64k flush=1s;

    # X-Request-ID: the client's, else nginx's own.
    map \$http_x_request_id \$gw_request_id {
        ""      \$request_id;
        default \$http_x_request_id;
    }

    # ECG Studio (/app/ in routes.conf): its files, and the S3 origin its CSP allows.
    map \$host \$ecg_web_root {
        default "$ECG_ROOT/Clients/web";
    }
    map \$host \$ecg_s3_origin {
        default "$(s3_browser_origin)";
    }

    upstream auth_service {
        server 127.0.0.1:$ECG_AUTH_PORT;
        keepalive 64;
        keepalive_timeout 30s;
    }
    upstream media_service {
        server 127.0.0.1:$ECG_MEDIA_PORT;
        keepalive 64;
        keepalive_timeout 30s;
    }
    upstream analysis_service {
        server 127.0.0.1:$ECG_ANALYSIS_PORT;
        keepalive 64;
        keepalive_timeout 30s;
    }

    server {
        listen 127.0.0.1:$ECG_GATEWAY_PORT default_server;
        server_name _;

        # Errors raised before a location is chosen (malformed requests).
        error_page 400 /_gw/error/400;
        error_page 408 /_gw/error/408;
        error_page 414 /_gw/error/414;
        error_page 494 /_gw/error/494;

        include $ECG_ROOT/compose/nginx/routes.conf;
    }
}
EOF
}

nginx_() { nginx -p "$ECG_NGINX_DIR/" -e "$(log_file gateway)" -c "$ECG_NGINX_DIR/nginx.conf" "$@"; }

start_gateway() {
  if live_pid gateway >/dev/null; then
    say "gateway already running (pid $(live_pid gateway))"
    return 0
  fi
  command -v nginx >/dev/null || die "nginx not found (run infra/local/deps.sh)"
  write_nginx_conf
  # nginx's workers run as nobody when the stack runs as root: let them reach the page's files.
  ((IS_ROOT)) && make_traversable_for nobody "$ECG_ROOT/Clients/web"
  local out
  if ! out="$(nginx_ -t -q 2>&1)"; then
    echo "$out" >&2
    die "nginx configuration $ECG_NGINX_DIR/nginx.conf is invalid"
  fi
  require_free_port "$ECG_GATEWAY_PORT" gateway
  say "starting gateway (nginx) on 127.0.0.1:$ECG_GATEWAY_PORT"
  start_bg gateway nginx -p "$ECG_NGINX_DIR/" -e "$(log_file gateway)" -c "$ECG_NGINX_DIR/nginx.conf"
  wait_port gateway "$ECG_GATEWAY_PORT" 30
}

# ---------------------------------------------------------------------------
# The services
# ---------------------------------------------------------------------------
service_port() {
  case "$1" in
    auth-service) echo "$ECG_AUTH_PORT" ;;
    media-service) echo "$ECG_MEDIA_PORT" ;;
    analysis-service) echo "$ECG_ANALYSIS_PORT" ;;
  esac
}

service_role() {
  case "$1" in
    auth-service) echo auth_service ;;
    media-service) echo media_service ;;
    analysis-service) echo analysis_service ;;
  esac
}

# service_env NAME: fills SVC_ENV with VAR=value words for `env`.
# HOST, PORT and DATABASE_URL are the stack's wiring (the gateway and the
# readiness checks use them; each service has its own database role) and are
# always set. Everything else is set only when the caller has not set it.
service_env() {
  local name="$1"
  SVC_ENV=(
    "HOST=127.0.0.1"
    "PORT=$(service_port "$name")"
    "DATABASE_URL=$(ecg_pg_url "$(service_role "$name")")"
  )
  _default() { [[ -n ${!1:-} ]] || SVC_ENV+=("$1=$2"); }
  _default ECG_ENV "$ECG_ENV_DEFAULT"
  _default KAFKA_BROKERS "$(kafka_brokers)"
  # The embedded broker answers an empty fetch only when the wait ends: keep consumer hops short.
  _default KAFKA_FETCH_WAIT_MS 10
  _default KEYS_DIR "$ECG_KEYS_DIR"
  _default TRUSTED_SERVICES "auth-service=$ECG_AUTH_URL/.well-known/jwks.json,media-service=$ECG_MEDIA_URL/.well-known/jwks.json,analysis-service=$ECG_ANALYSIS_URL/.well-known/jwks.json"
  _default COOKIE_SECURE false
  # ECG Studio is served at /app/; Google sign-in returns to $FRONTEND_URL/auth/callback.
  _default FRONTEND_URL "$ECG_GATEWAY_URL/app"
  _default CORS_ORIGINS "http://localhost:3000,http://127.0.0.1:3000"
  # Every local client is 127.0.0.1: the integration tests and make bench log in far more often
  # than one address may in production (docs/configuration.md); the route tests cover the limits.
  _default AUTH_RATE_LIMIT_PER_CLIENT_PER_MINUTE 100000
  _default AUTH_RATE_LIMIT_GLOBAL_PER_SECOND 10000
  case "$name" in
    media-service)
      _default S3_ENDPOINT "$ECG_S3_ENDPOINT"
      _default S3_BUCKET "$ECG_S3_BUCKET"
      _default S3_REGION "$ECG_S3_REGION"
      _default S3_ACCESS_KEY_ID "$ECG_S3_ACCESS_KEY"
      _default S3_SECRET_ACCESS_KEY "$ECG_S3_SECRET_KEY"
      _default S3_FORCE_PATH_STYLE true
      ;;
    analysis-service)
      _default MEDIA_SERVICE_URL "$ECG_MEDIA_URL"
      ;;
  esac
}

start_service() {
  local name="$1" bin="$BIN_DIR/$1"
  if live_pid "$name" >/dev/null; then
    say "$name already running (pid $(live_pid "$name"))"
    return 0
  fi
  [[ -x $bin ]] || die "$bin not found: build first (swift build), or set BIN_DIR"
  require_free_port "$(service_port "$name")" "$name"
  service_env "$name"
  say "starting $name on 127.0.0.1:$(service_port "$name")"
  start_bg "$name" env "${SVC_ENV[@]}" "$bin" serve
}

start_worker() {
  if [[ ${REFERENCE_WORKER:-on} == off ]]; then
    return 0
  fi
  if live_pid worker >/dev/null; then
    say "worker already running (pid $(live_pid worker))"
    return 0
  fi
  local bin="$BIN_DIR/caption-worker"
  [[ -x $bin ]] || die "$bin not found: build first (swift build), or set BIN_DIR"
  # The worker speaks Kafka only: no database URL, no keys, no S3 credentials.
  local env=("ECG_ENV=${ECG_ENV:-$ECG_ENV_DEFAULT}" "KAFKA_BROKERS=${KAFKA_BROKERS:-$(kafka_brokers)}" "KAFKA_FETCH_WAIT_MS=${KAFKA_FETCH_WAIT_MS:-10}")
  say "starting the reference worker (caption-worker ${CAPTION_WORKER_ARGS:-})"
  # shellcheck disable=SC2086 # CAPTION_WORKER_ARGS is a list of words, e.g. --analysis none
  start_bg worker env "${env[@]}" "$bin" ${CAPTION_WORKER_ARGS:-}
  sleep 1
  if ! live_pid worker >/dev/null; then
    tail_log worker 60
    die "the reference worker exited at start"
  fi
}

wait_ready() {
  local name="$1" url deadline
  url="http://127.0.0.1:$(service_port "$name")/ready"
  deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" 2>/dev/null || true) == 200 ]]; then
      return 0
    fi
    if ! live_pid "$name" >/dev/null; then
      tail_log "$name" 60
      die "$name exited before it was ready"
    fi
    sleep 0.25
  done
  tail_log "$name" 60
  die "$name did not answer 200 at $url within $READY_TIMEOUT s"
}

# ---------------------------------------------------------------------------
# stop / status
# ---------------------------------------------------------------------------
# stop_pid NAME: SIGTERM (to its process group when it leads one), wait up to
# STOP_TIMEOUT s, then SIGKILL. Removes the pid file.
stop_pid() {
  local name="$1" pid target i
  if pid="$(live_pid "$name")"; then
    say "stopping $name (pid $pid)"
    target="$pid"
    [[ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" == "$pid" ]] && target="-$pid"
    kill -TERM -- "$target" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      say "$name did not stop within $STOP_TIMEOUT s; killing it"
      kill -KILL -- "$target" 2>/dev/null || true
      sleep 0.2
    fi
    # Anything left in its process group (e.g. nginx workers, ffmpeg children).
    [[ $target == -* ]] && kill -KILL -- "$target" 2>/dev/null || true
  fi
  rm -f "$(pid_file "$name")"
}

stop_all() {
  local i name
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    name="${COMPONENTS[i]}"
    case "$name" in
      postgres) stop_postgres ;;
      kafka) stop_pid kafka; rm -f "$ECG_KAFKA_BOOTSTRAP_FILE" ;;
      *) stop_pid "$name" ;;
    esac
  done
}

cmd_status() {
  local name pid extra
  for name in "${COMPONENTS[@]}"; do
    extra=""
    case "$name" in
      postgres) extra="127.0.0.1:$ECG_PG_PORT" ;;
      kafka) [[ -s $ECG_KAFKA_BOOTSTRAP_FILE ]] && extra="$(kafka_brokers)" ;;
      s3) extra="$ECG_S3_ENDPOINT" ;;
      gateway) extra="$ECG_GATEWAY_URL" ;;
      worker) ;;
      *) extra="http://127.0.0.1:$(service_port "$name")" ;;
    esac
    if [[ $name == postgres ]] && [[ -s $ECG_PG_DIR/PG_VERSION ]] && pg_ctl_ status >/dev/null 2>&1; then
      pid="$(head -n1 "$ECG_PG_DIR/postmaster.pid")"
      printf '%-17s running (pid %s) %s\n' "$name" "$pid" "$extra"
    elif pid="$(live_pid "$name")"; then
      printf '%-17s running (pid %s) %s\n' "$name" "$pid" "$extra"
    else
      printf '%-17s stopped\n' "$name"
    fi
  done
}

# ---------------------------------------------------------------------------
# start / run
# ---------------------------------------------------------------------------
cmd_start() {
  "$ECG_ROOT/infra/local/deps.sh"
  if [[ $STACK_PROFILE == test ]]; then
    # Throwaway: stop whatever a previous run left, then wipe.
    [[ -d $ECG_DATA_DIR ]] && stop_all
    rm -rf "$ECG_DATA_DIR"
  fi
  mkdir -p "$ECG_RUN_DIR" "$ECG_LOG_DIR" "$ECG_KEYS_DIR" "$ECG_S3_DIR"
  chmod 700 "$ECG_KEYS_DIR"

  start_postgres
  start_kafka
  start_s3
  start_gateway
  local name
  for name in "${SERVICES[@]}"; do
    start_service "$name"
  done
  for name in "${SERVICES[@]}"; do
    wait_ready "$name"
    say "$name is ready"
  done
  start_worker
  echo "ECG Backend is up: $ECG_GATEWAY_URL"
}

cmd_run() {
  trap 'echo; stop_all; exit 130' INT TERM
  if ! (cmd_start); then
    stop_all
    exit 1
  fi
  local logs=() name
  for name in "${SERVICES[@]}" worker; do
    [[ -f $(log_file "$name") ]] && logs+=("$(log_file "$name")")
  done
  say "following ${logs[*]} (Ctrl-C stops the stack)"
  tail -n 0 -F "${logs[@]}" &
  local tail_pid=$!
  trap 'echo; kill "$tail_pid" 2>/dev/null || true; stop_all; exit 0' INT TERM
  wait "$tail_pid" || true
  stop_all
}

case "${1:-}" in
  start) cmd_start ;;
  stop) stop_all ;;
  run) cmd_run ;;
  status) cmd_status ;;
  *)
    echo "usage: STACK_PROFILE=dev|test $0 start|stop|run|status" >&2
    exit 2
    ;;
esac
