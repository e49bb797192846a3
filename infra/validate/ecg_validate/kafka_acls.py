"""Kafka ACLs in AWS (security review M7): MSK authenticates every client with its own SCRAM user and
denies what no ACL allows; infra/aws/kafka-acls.json, which CD applies (cd-steps.sh kafka-acls), must
allow each service's user exactly the topics and groups that service uses (print-settings), and the
admin user only the cluster operations that managing ACLs needs."""
import json
import os

from .cfn import entries, load_cfn, names_in
from .problems import problem
from .products import PRODUCTS, WORKER_ECS_SERVICE, WORKER_PRODUCT

ADMIN_CREDENTIALS = "KafkaAdminCredentials"
ADMIN_OPERATIONS = ("Alter", "Describe")


def acl(principal, operation, resource_type, pattern, name):
    return {"principal": f"User:{principal}", "operation": operation, "resourceType": resource_type,
            "patternType": pattern, "resourceName": name}


def acl_key(entry):
    return (entry["principal"], entry["resourceType"], entry["resourceName"], entry["operation"], entry["patternType"])


def wanted_acls(settings, users, admin):
    """The ACLs each product's SCRAM user needs, from what it produces, consumes and its groups."""
    acls = []
    for product, user in users.items():
        kafka = settings.kafka(product)
        acls += [acl(user, "Write", "Topic", "Literal", topic) for topic in kafka["produces"]]
        acls += [acl(user, "Read", "Topic", "Literal", topic) for topic in kafka["consumes"]]
        acls += [acl(user, "Read", "Group", "Prefixed" if g["match"] == "prefixed" else "Literal", g["name"])
                 for g in kafka["groups"]]
    acls += [acl(admin, operation, "Cluster", "Literal", "kafka-cluster") for operation in ADMIN_OPERATIONS]
    return sorted(acls, key=acl_key)


def scram_user(data_resources, secret_resource):
    template = (data_resources.get(secret_resource, {}).get("Properties", {}).get("GenerateSecretString") or {})
    try:
        return json.loads(template.get("SecretStringTemplate", "{}")).get("username")
    except ValueError:
        return None


def scram_users(aws_dir):
    """{product: its SCRAM user name}: each ECS service's KAFKA_SASL_USERNAME secret, followed to the
    data stack's credentials secret; and the admin user."""
    services = load_cfn(os.path.join(aws_dir, "services.yaml"))["Resources"]
    data = load_cfn(os.path.join(aws_dir, "data.yaml"))["Resources"]
    users = {}
    for product in PRODUCTS + (WORKER_PRODUCT,):
        ecs_name = WORKER_ECS_SERVICE if product == WORKER_PRODUCT else product
        service = next((r for r in services.values() if r["Type"] == "AWS::ECS::Service"
                        and r["Properties"].get("ServiceName") == ecs_name), None)
        if not service:
            problem(f"services.yaml: no ECS service {ecs_name}")
            continue
        td = services[service["Properties"]["TaskDefinition"]["Ref"]]["Properties"]
        secret = next((e for e in entries(td["ContainerDefinitions"][0].get("Secrets")) if e["Name"] == "KAFKA_SASL_USERNAME"), None)
        refs = sorted(n[:-len("Arn")] for n in names_in(secret.get("ValueFrom")) if n.endswith("KafkaCredentialsArn")) if secret else []
        user = scram_user(data, refs[0]) if len(refs) == 1 else None
        if not user:
            problem(f"{ecs_name}: KAFKA_SASL_USERNAME does not come from one of the data stack's SCRAM secrets")
            continue
        users[product] = user
    return users, scram_user(data, ADMIN_CREDENTIALS)


def check_kafka_acls(aws_dir, acl_file, settings):
    users, admin = scram_users(aws_dir)
    if not admin:
        problem(f"data.yaml: no {ADMIN_CREDENTIALS} SCRAM secret (the user the kafka-acls task manages ACLs as)")
        return
    if len(set(users.values()) | {admin}) != len(users) + 1:
        problem(f"every service needs a SCRAM user of its own (and the admin another): {users}, admin {admin}")
    data = load_cfn(os.path.join(aws_dir, "data.yaml"))
    resources = data["Resources"]
    # MSK: SCRAM only, and nothing allowed without an ACL.
    msk = resources.get("KafkaCluster", {}).get("Properties", {})
    auth = msk.get("ClientAuthentication", {})
    if not (auth.get("Sasl", {}).get("Scram", {}).get("Enabled") is True and auth.get("Unauthenticated", {}).get("Enabled") is False):
        problem("data.yaml: MSK must authenticate every client with SASL/SCRAM (Unauthenticated disabled)")
    properties = json.dumps(resources.get("KafkaConfiguration", {}).get("Properties", {}).get("ServerProperties"))
    if "allow.everyone.if.no.acl.found=false" not in properties:
        problem("data.yaml: the MSK configuration must set allow.everyone.if.no.acl.found=false")
    enforce = (data.get("Parameters") or {}).get("KafkaRequireAcls", {})
    if "allow.everyone.if.no.acl.found=true" in properties and str(enforce.get("Default")) != "true":
        problem("data.yaml: KafkaRequireAcls must default to true (deny what no ACL allows)")
    secrets = resources.get("KafkaScramUsers", {}).get("Properties", {}).get("SecretArnList", [])
    associated = {scram_user(resources, n) for n in names_in(secrets)}
    for user in sorted(set(users.values()) | {admin}):
        if user not in associated:
            problem(f"data.yaml: SCRAM user {user} is not associated with the cluster (KafkaScramUsers)")
    if "KafkaAclsTaskDefinition" not in resources or "KafkaAclsTaskDefinitionArn" not in (data.get("Outputs") or {}):
        problem("data.yaml: the kafka-acls task definition (and its output KafkaAclsTaskDefinitionArn) is missing")
    # The list CD applies, exactly what the services use.
    if not os.path.exists(acl_file):
        problem(f"{acl_file} is missing")
        return
    have = {acl_key(a): a for a in json.load(open(acl_file)).get("acls", [])}
    want = {acl_key(a): a for a in wanted_acls(settings, users, admin)}
    for key in sorted(set(want) - set(have)):
        problem(f"kafka-acls.json lacks {' '.join(key)} (the service uses it; print-settings)")
    for key in sorted(set(have) - set(want)):
        problem(f"kafka-acls.json allows {' '.join(key)}, which no service uses (print-settings)")


def write_acl_file(aws_dir, acl_file, settings):
    """Writes kafka-acls.json from the services' use (`python -m ecg_validate kafka-acls --write`)."""
    users, admin = scram_users(aws_dir)
    document = {
        "comment": "Written by infra/validate.sh kafka-acls --write from the services' "
                   "print-settings; applied by infra/aws/cd-steps.sh kafka-acls; checked by infra/validate.",
        "acls": wanted_acls(settings, users, admin),
    }
    with open(acl_file, "w") as f:
        json.dump(document, f, indent=2)
        f.write("\n")
