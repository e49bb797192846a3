"""compose/docker-compose.yml: images, healthchecks, depends_on, ${VAR}s, and each service's environment against what it reads."""
import os
import re
import shlex

import yaml

from .problems import problem
from .products import IMAGES, PARTITIONS, PRODUCTS, WORKER_PRODUCT


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


def check_compose(compose_path, env_example, upstreams_conf, dockerfile, settings):
    """settings: the services' print-settings reports (settings.Settings)."""
    ports = settings.ports()
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
        check_service_environment(product, env, settings, production)
        if env.get("HOST") != "0.0.0.0":
            problem(f"{product}: HOST must be 0.0.0.0 in a container (got {env.get('HOST')})")
        port = ports[product]
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
            if not u or u["host"] != issuer or u["port"] != ports.get(issuer) or u["path"] != "/.well-known/jwks.json":
                problem(f"{product}: TRUSTED_SERVICES {issuer}={url} is not http://{issuer}:{ports.get(issuer)}/.well-known/jwks.json")
        for var, topic in settings.topic_variables(product).items():
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
    if not mu or mu["host"] != "media-service" or mu["port"] != ports["media-service"]:
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
        for var in ["ECG_ENV"] + settings.required_in_production(WORKER_PRODUCT):
            if not wenv.get(var):
                problem(f"{workers[0]}: {var} is not set ({WORKER_PRODUCT} requires it in production)")
        for var, topic in settings.topic_variables(WORKER_PRODUCT).items():
            if wenv.get(var) not in (None, topic):
                problem(f"{workers[0]}: {var}={wenv.get(var)} is not {topic}")
        for broker in (wenv.get("KAFKA_BROKERS") or "").split(","):
            host, _, bport = broker.partition(":")
            if host not in services or bport != "9092":
                problem(f"{workers[0]}: KAFKA_BROKERS entry {broker} is not <compose kafka service>:9092")
        for var in sorted(set(wenv) - settings.reads(WORKER_PRODUCT)):
            problem(f"{workers[0]}: {var} is set, but {WORKER_PRODUCT} does not read it (print-settings)")
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
        if sorted(topics) != settings.topics():
            problem(f"kafka-init must create the topics the services use {settings.topics()}, creates {sorted(topics)}")
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



def check_service_environment(product, env, settings, production):
    """What compose gives an HTTP service against what it reads: each variable it requires in production
    is set (non-empty with ECG_ENV=production), and nothing is set that it does not read."""
    for var in ["ECG_ENV", "HOST", "PORT"] + settings.required_in_production(product):
        if var not in env:
            problem(f"{product}: {var} is not set ({product} reads it; print-settings)")
        elif production and not env[var]:
            problem(f"{product}: {var} is empty, and ECG_ENV=production needs it")
    for var in sorted(set(env) - settings.reads(product)):
        problem(f"{product}: {var} is set, but {product} does not read it (print-settings)")
