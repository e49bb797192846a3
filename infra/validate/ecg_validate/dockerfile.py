"""The Dockerfile and .dockerignore: stages, static stdlib, each product's runtime packages, user, health check, command."""
import fnmatch
import json
import os
import re

from .problems import problem
from .products import IMAGES, WORKER_PACKAGES, WORKER_PRODUCT


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

