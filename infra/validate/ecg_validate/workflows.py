"""The CI/CD workflows: what CD deploys, when, and in which order."""
import re

import yaml

from .problems import problem


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
                                ("kafka-acls", "cd-steps.sh kafka-acls"),
                                ("migrate", "cd-steps.sh migrate"), ("services", "infra/aws/services.yaml"),
                                ("brokers", "cd-steps.sh brokers")):
                if needle in run:
                    order.setdefault(key, (name, i))
    steps = ("signing-keys", "db-bootstrap", "kafka-acls", "migrate", "services")
    for key in steps:
        if key not in order:
            problem(f"cd: no step runs {key}")
    if all(k in order for k in steps):
        if len({order[k][0] for k in steps}) != 1:
            problem("cd: signing-keys, db-bootstrap, kafka-acls, migrate and the services deploy must be steps of one job, in that order")
        elif not order["signing-keys"][1] < order["db-bootstrap"][1] < order["kafka-acls"][1] < order["migrate"][1] <= order["services"][1]:
            problem("cd: the order must be signing-keys, db-bootstrap, kafka-acls, migrate, then the services stack")
    if "KafkaBootstrapBrokers=" not in text or "brokers" not in order:
        problem("cd: the services stack must get KafkaBootstrapBrokers from cd-steps.sh brokers (no hand step)")
    # H3: CI resolves the pinned versions too, and its cache follows them.
    ci_text = open(ci_path).read()
    if "infra/pin-dependencies.sh" not in ci_text:
        problem("ci: must run infra/pin-dependencies.sh (the versions the images are built with)")
    if "Package.pins" not in ci_text:
        problem("ci: the SwiftPM cache key must hash Package.pins")


