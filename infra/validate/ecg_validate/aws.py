"""infra/aws/*.yaml: one task definition, service, log group and scaling policy per executable, least privilege, data stack."""
import json
import os
import re

from .cfn import entries, load_cfn, names_in, statements
from .dockerfile import rds_bundle_path
from .problems import problem
from .products import KAFKA_SASL, PRODUCTS, WORKER_ECS_SERVICE, WORKER_PRODUCT


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


WORKER_TASK_PROTECTION = {"ecs:UpdateTaskProtection", "ecs:GetTaskProtection"}


def check_worker_task_role(task_role, container):
    """The worker's one AWS call: task scale-in protection while it holds a job (deploy review M2),
    scoped to the cluster's tasks; and a StopTimeout long enough to finish the job in hand (caption-worker
    stops within 110 s of SIGTERM)."""
    if task_role.get("ManagedPolicyArns"):
        problem("ml-worker: the task role must carry no managed policies (only task scale-in protection)")
    granted = [st for policy in task_role.get("Policies", [])
                  for st in entries((policy.get("PolicyDocument") or {}).get("Statement"))]
    actions = set()
    for st in granted:
        acts = st.get("Action")
        acts = set(acts) if isinstance(acts, list) else {acts}
        actions |= acts
        resource = str(st.get("Resource"))
        if st.get("Effect") != "Allow" or "*" == resource or ":task/" not in resource:
            problem(f"ml-worker: task role statement must allow only the cluster's tasks (got {resource})")
    if actions != WORKER_TASK_PROTECTION:
        problem(f"ml-worker: the task role must allow exactly {sorted(WORKER_TASK_PROTECTION)} (task scale-in "
                f"protection while a job runs), got {sorted(actions)}")
    stop = container.get("StopTimeout")
    if not isinstance(stop, int) or not 115 <= stop <= 120:
        problem(f"ml-worker: StopTimeout must be 115-120 s so a stopped worker finishes its job (got {stop})")


def check_aws(directory, settings, dockerfile):
    """settings: the services' print-settings reports (settings.Settings); dockerfile: the one the images are built from."""
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
    wanted = {**{product: settings.port(product) for product in PRODUCTS}, WORKER_ECS_SERVICE: None}
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
            for var in settings.required_in_production(product) + KAFKA_SASL + ["ECG_ENV", "HOST", "PORT", "LOG_LEVEL", "CORS_ORIGINS"]:
                if var not in names:
                    problem(f"{product}: task definition lacks {var} ({product} reads it; print-settings)")
            for var in sorted(names - settings.reads(product)):
                problem(f"{product}: task definition sets {var}, which {product} does not read (print-settings)")
            if env.get("ECG_ENV") != "production":
                problem(f"{product}: ECG_ENV must be production")
            if env.get("PORT") != str(port) or [p.get("ContainerPort") for p in c.get("PortMappings", [])] != [port]:
                problem(f"{product}: must listen on {port}")
            for secret_var in settings.secret_without_default(product):
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
            for var in ["ECG_ENV"] + settings.required_in_production(WORKER_PRODUCT) + KAFKA_SASL:
                if var not in names:
                    problem(f"ml-worker: task definition lacks {var}")
            for var in sorted(names - settings.reads(WORKER_PRODUCT)):
                problem(f"ml-worker: {var} is set, but {WORKER_PRODUCT} does not read it (print-settings)")
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
                        worker = settings.kafka(WORKER_PRODUCT)
                        groups = [g["name"] for g in worker["groups"] if g["match"] == "literal"]
                        if dims.get("Consumer Group") in groups and dims.get("Topic") in worker["consumes"]:
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
        elif service_name == "ml-worker":
            check_worker_task_role(task_role, c)
        elif attached or task_role.get("Policies"):
            problem(f"{service_name}: the task role must have no permissions (it calls no AWS API)")

    # DATABASE_URL: TLS verified against the RDS CA bundle the image ships (deploy review C1).
    bundle = rds_bundle_path(dockerfile)
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
    if data.get("KafkaAclsTaskDefinition"):
        check_execution_role("kafka-acls", data, data["KafkaAclsTaskDefinition"]["Properties"])

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
    if topics != set(settings.topics()):
        problem(f"data.yaml: MSK topics {sorted(topics)} differ from the topics the services use {settings.topics()}")
    # nothing anywhere allows everything
    for tname, template in templates.items():
        for rname, res in template.get("Resources", {}).items():
            text = json.dumps(res.get("Properties", {}))
            if re.search(r'"Action": "\*"|"Action": \["\*"\]', text):
                problem(f"{tname} {rname}: allows every action")



def bootstrap_sql(data_yaml):
    """The db-bootstrap task's shell script (for the PostgreSQL check)."""
    td = load_cfn(data_yaml)["Resources"]["DbBootstrapTaskDefinition"]["Properties"]
    return td["ContainerDefinitions"][0]["Command"][0]


