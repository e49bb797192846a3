"""`python -m ecg_validate`: every check of the deployment files, then (unless --no-self-test) the
unit tests, which feed each check broken copies of the files and require it to reject them.

    python -m ecg_validate [--root DIR] [--no-self-test]
    python -m ecg_validate kafka-acls --write     rewrite infra/aws/kafka-acls.json from print-settings

Exit status 0 when everything passed, 1 otherwise."""
import argparse
import os
import sys
import time
import unittest

from . import aws, cd_steps, compose, dockerfile, kafka_acls, nginx, pins, postgres, routing, tools, workflows
from .problems import collect
from .settings import Settings, SettingsUnavailable, bin_dir, load_reports

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def checks(root, settings):
    """(name, function, arguments) of every check, in the order they run; None where one is skipped."""
    at = lambda *parts: os.path.join(root, *parts)  # noqa: E731
    pg_bin = postgres.server_binaries()
    resolved = at("Package.resolved") if os.path.exists(at("Package.resolved")) else None
    upstreams, dockerfile_path = at("compose", "nginx", "upstreams.conf"), at("Dockerfile")
    return [
        ("Dockerfile: hadolint", tools.hadolint, (at("Dockerfile"),)),
        ("Dockerfile: stages, static stdlib, runtime packages, non-root, HEALTHCHECK, ENTRYPOINT/CMD",
         dockerfile.check_dockerfile, (dockerfile_path, at(".dockerignore"))),
        ("compose: Compose Specification JSON schema", tools.compose_schema, (at("compose", "docker-compose.yml"),)),
        ("compose: services, depends_on, healthchecks, .env.example, each service's variables against print-settings",
         compose.check_compose, (at("compose", "docker-compose.yml"), at("compose", ".env.example"), upstreams, dockerfile_path, settings)),
        ("compose: comes up without a .env (every ${VAR} has a default)",
         compose.check_compose, (at("compose", "docker-compose.yml"), os.devnull, upstreams, dockerfile_path, settings)),
        ("shell scripts (sh -n, shellcheck when installed)", tools.shell_scripts,
         tuple(sorted(os.path.join(at("compose", "postgres"), f) for f in os.listdir(at("compose", "postgres")) if f.endswith(".sh")))
         + (at("infra", "validate.sh"), at("infra", "pin-dependencies.sh"), at("infra", "aws", "cd-steps.sh"))),
        (f"compose/postgres init script and AWS db-bootstrap against PostgreSQL ({os.path.basename(os.path.dirname(pg_bin))})"
         if pg_bin else "PostgreSQL init scripts: no PostgreSQL server binaries (Debian postgresql) on this machine",
         postgres.check_postgres_scripts if pg_bin else None,
         (pg_bin, at("compose", "postgres", "10-ecg-roles.sh"), at("infra", "aws", "data.yaml"))),
        ("gateway: nginx -t on compose/nginx (nginx.conf + routes.conf + upstreams.conf)" if nginx.nginx_available()
         else "gateway: nginx -t (nginx not installed)", nginx.nginx_test if nginx.nginx_available() else None, (at("compose", "nginx"),)),
        ("gateway: routes.conf is the one infra/local/stack.sh includes", nginx.same_routes_as_local_stack, (at("infra", "local", "stack.sh"),)),
        ("routing: routes.conf vs SPEC.md §3, ALB listener rules vs routes.conf",
         routing.check_routes, (at("compose", "nginx", "routes.conf"), at("infra", "aws", "services.yaml"))),
        ("aws: cd-steps.sh against a stub AWS CLI (keys, db-bootstrap, Kafka ACLs, migrate before the rollout)",
         cd_steps.check_cd_steps, (at("infra", "aws", "cd-steps.sh"), at("infra", "aws", "kafka-acls.json"))),
        ("cd: deploys the commit CI tested, from main pushes only, one at a time; keys, roles, ACLs, migrations first",
         workflows.check_cd, (at(".github", "workflows", "cd.yml"), at(".github", "workflows", "ci.yml"))),
        ("workflows: GitHub workflow schema", tools.workflow_schema,
         tuple(sorted(at(".github", "workflows", f) for f in os.listdir(at(".github", "workflows")) if f.endswith(".yml")))),
        ("dependencies: exact versions in Package.swift = Package.pins (= this machine's resolution)",
         pins.check_pins, (at("Package.swift"), at("Package.pins"), resolved)),
        ("aws: cfn-lint infra/aws/*.yaml", tools.cfn_lint,
         tuple(sorted(at("infra", "aws", f) for f in os.listdir(at("infra", "aws")) if f.endswith(".yaml")))),
        ("aws: services, task definitions, scaling, variables against print-settings, least privilege",
         aws.check_aws, (at("infra", "aws"), settings, dockerfile_path)),
        ("kafka: MSK SCRAM per service, deny without ACL, kafka-acls.json = each service's topics and groups (print-settings)",
         kafka_acls.check_kafka_acls, (at("infra", "aws"), at("infra", "aws", "kafka-acls.json"), settings)),
    ]


def run_checks(root, settings):
    passed = failed = skipped = 0
    for name, check, args in checks(root, settings):
        if check is None:
            skipped += 1
            print(f"skip  {name}", flush=True)
            continue
        found = collect(check, *args)
        if found:
            failed += 1
            print(f"FAIL  {name}", flush=True)
            for line in "\n".join(found).splitlines()[:60]:
                print(f"      {line}", flush=True)
        else:
            passed += 1
            print(f"ok    {name}", flush=True)
    return passed, failed, skipped


def run_self_tests():
    """The unit tests in infra/validate/tests: (passed, failed)."""
    suite = unittest.defaultTestLoader.discover(os.path.join(HERE, "..", "tests"), top_level_dir=os.path.join(HERE, ".."))
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=1).run(suite)
    bad = len(result.failures) + len(result.errors)
    return result.testsRun - bad, bad


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ecg_validate", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", default="all", choices=["all", "kafka-acls"])
    parser.add_argument("--root", default=DEFAULT_ROOT, help="the repository (default: the one this package is in)")
    parser.add_argument("--no-self-test", action="store_true", help="skip the unit tests (broken copies of the files)")
    parser.add_argument("--write", action="store_true", help="kafka-acls: rewrite infra/aws/kafka-acls.json")
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    try:
        settings = Settings(load_reports(bin_dir(root)))
    except SettingsUnavailable as error:
        print(f"validate: the services' settings are needed: {error}", file=sys.stderr)
        return 1
    if args.command == "kafka-acls":
        if not args.write:
            parser.error("kafka-acls needs --write")
        kafka_acls.write_acl_file(os.path.join(root, "infra", "aws"), os.path.join(root, "infra", "aws", "kafka-acls.json"), settings)
        return 0
    start = time.monotonic()
    print("validate: deployment files (no Docker engine needed)", flush=True)
    passed, failed, skipped = run_checks(root, settings)
    tests_passed = tests_failed = 0
    if not args.no_self_test:
        print("validate: self-test (python -m unittest discover infra/validate/tests: each check given broken files)", flush=True)
        tests_passed, tests_failed = run_self_tests()
    print(f"validate: finished in {time.monotonic() - start:.0f} s")
    total_passed, total_failed = passed + tests_passed, failed + tests_failed
    print(f"validate: {total_passed} passed ({passed} checks, {tests_passed} self-tests), {total_failed} failed"
          + (f", {skipped} skipped" if skipped else ""))
    return 0 if total_failed == 0 else 1
