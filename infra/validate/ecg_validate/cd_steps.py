"""infra/aws/cd-steps.sh driven against a stub AWS CLI (stub_aws.sh): signing keys, db-bootstrap, the
Kafka ACLs, migrate tasks with the new image, brokers. What only AWS can show (that the tasks really
start and reach RDS and MSK) is not run here."""
import glob
import json
import os
import shutil
import subprocess
import tempfile

from .problems import problem

STUB = os.path.join(os.path.dirname(__file__), "stub_aws.sh")
HTTP_SERVICES = ("auth-service", "media-service", "analysis-service")


class Failed(Exception):
    pass


def check_cd_steps(steps, acl_file, migrate_exit=0):
    for tool in ("jq", "openssl"):
        if not shutil.which(tool):
            problem(f"{tool} is not installed (cd-steps.sh needs it)")
            return
    with tempfile.TemporaryDirectory(prefix="ecg-validate-cdstub.") as t:
        os.makedirs(f"{t}/bin")
        os.makedirs(f"{t}/state")
        shutil.copy(STUB, f"{t}/bin/aws")
        env = {**os.environ, "PATH": f"{t}/bin:{os.environ.get('PATH', '')}", "CD_STUB_STATE": f"{t}/state",
               "CD_POLL_SECONDS": "0", "ECS_CLUSTER": "ecg-prod", "CD_STUB_MIGRATE_EXIT": str(migrate_exit),
               "KAFKA_ACLS_FILE": acl_file}

        def run_steps(*args):
            result = subprocess.run(["bash", steps, *args], capture_output=True, text=True, env=env)
            if result.returncode != 0:
                raise Failed(f"cd-steps.sh {' '.join(args)}: {(result.stdout + result.stderr).strip()}")
            return result.stdout

        def state(name):
            path = f"{t}/state/{name}"
            return open(path).read() if os.path.exists(path) else ""

        try:
            _signing_keys(run_steps, state, t)
            _db_bootstrap(run_steps, state, t)
            _kafka_acls(run_steps, state, t, acl_file)
            _migrate(run_steps, state, t)
            if run_steps("brokers").strip() != "b-1.ecg.kafka:9096,b-2.ecg.kafka:9096":
                raise Failed("brokers: wrong output")
        except Failed as failure:
            problem(str(failure))


def _signing_keys(run_steps, state, t):
    """Every placeholder becomes an Ed25519 PKCS#8 key; a second run writes nothing."""
    run_steps("signing-keys")
    written = len(state("puts").splitlines())
    if written != 4:
        raise Failed(f"signing-keys: {4 - written} of the 4 placeholder keys were not replaced")
    keys = sorted(glob.glob(f"{t}/state/secret-*SigningKeyArn"))
    for key in keys:
        text = subprocess.run(["openssl", "pkey", "-in", key, "-noout", "-text"], capture_output=True, text=True).stdout
        if "ED25519 Private-Key" not in text:
            raise Failed(f"signing-keys: {os.path.basename(key)} is not an Ed25519 private key")
    if len({open(k).read() for k in keys}) != 4:
        raise Failed("signing-keys: the 4 keys are not distinct")
    run_steps("signing-keys")
    if len(state("puts").splitlines()) != 4:
        raise Failed("signing-keys: a second run overwrote a key that was set")


def _task_line(state, started_by):
    return next((line.split() for line in state("tasks").splitlines() if line.split()[1] == started_by), None)


def _private_network(t, label):
    network = json.load(open(f"{t}/state/network-cd-{label}.json"))["awsvpcConfiguration"]
    return network == {"subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-services"], "assignPublicIp": "DISABLED"}


def _db_bootstrap(run_steps, state, t):
    """The data stack's task on its cluster, in the services' private network."""
    run_steps("db-bootstrap")
    task = _task_line(state, "cd-db-bootstrap")
    if not task or task[2:] != ["arn:aws:ecs:eu-west-1:1:task-definition/ecg-prod-db-bootstrap:3", "ecg-prod-ops"]:
        raise Failed(f"db-bootstrap: not run as the data stack's task on its cluster: {state('tasks')}")
    if not _private_network(t, "db-bootstrap"):
        raise Failed("db-bootstrap: wrong network configuration")


def _kafka_acls(run_steps, state, t, acl_file):
    """The data stack's kafka-acls task, given exactly the ACL list of kafka-acls.json and the SCRAM brokers."""
    run_steps("kafka-acls")
    task = _task_line(state, "cd-kafka-acls")
    if not task or task[2:] != ["arn:aws:ecs:eu-west-1:1:task-definition/ecg-prod-kafka-acls:2", "ecg-prod-ops"]:
        raise Failed(f"kafka-acls: not run as the data stack's task on its cluster: {state('tasks')}")
    if not _private_network(t, "kafka-acls"):
        raise Failed("kafka-acls: wrong network configuration")
    overrides = json.load(open(f"{t}/state/overrides-cd-kafka-acls.json"))
    container = overrides["containerOverrides"][0]
    given = {e["name"]: e["value"] for e in container.get("environment", [])}
    wanted = "\n".join(acl_line(acl) for acl in json.load(open(acl_file))["acls"])
    if container.get("name") != "kafka-acls" or given.get("ECG_KAFKA_ACLS") != wanted:
        raise Failed(f"kafka-acls: the task is not given the ACLs of {acl_file} (got {given.get('ECG_KAFKA_ACLS')!r})")
    if given.get("KAFKA_BROKERS") != "b-1.ecg.kafka:9096,b-2.ecg.kafka:9096":
        raise Failed("kafka-acls: the task is not given the SASL/SCRAM brokers")


def acl_line(acl):
    """One ACL as the kafka-acls task reads it: principal operation resource-type pattern-type name."""
    return " ".join([acl["principal"], acl["operation"], acl["resourceType"], acl["patternType"], acl["resourceName"]])


def _migrate(run_steps, state, t):
    """Each HTTP service's task definition with the new image and `migrate`, run once."""
    run_steps("migrate", "0123abcd")
    for service in HTTP_SERVICES:
        path = f"{t}/state/registered-ecg-prod-{service}-migrate.json"
        if not os.path.exists(path):
            raise Failed(f"migrate: no task definition registered for {service}")
        td = json.load(open(path))
        containers = td.get("containerDefinitions") or []
        ok = (len(containers) == 1 and containers[0].get("image") == f"1.dkr.ecr.eu-west-1.amazonaws.com/ecg/{service}:0123abcd"
              and containers[0].get("command") == ["migrate"] and containers[0].get("healthCheck") is None
              and containers[0].get("secrets") == [{"name": "DATABASE_URL", "valueFrom": "arn:db"}]
              and td.get("executionRoleArn") == "arn:exec"
              and not any(k in td for k in ("taskDefinitionArn", "revision", "status", "requiresAttributes",
                                             "compatibilities", "registeredAt")))
        if not ok:
            raise Failed(f"migrate: the task definition for {service} is not the service's with image :0123abcd and command migrate: {td}")
        task = _task_line(state, f"cd-migrate-{service}")
        if not task or task[2:] != [f"arn:aws:ecs:eu-west-1:1:task-definition/ecg-prod-{service}-migrate:1", "ecg-prod"]:
            raise Failed(f"migrate: {service}'s migrate task was not run")
