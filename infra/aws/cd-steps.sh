#!/usr/bin/env bash
# The AWS steps of a deploy that are not a CloudFormation update (.github/workflows/cd.yml
# runs them; an operator can run them the same way). Every step is idempotent.
#
#   infra/aws/cd-steps.sh signing-keys      each signing-key secret that still holds the data
#                                           stack's placeholder gets a new Ed25519 PKCS#8 PEM
#   infra/aws/cd-steps.sh db-bootstrap      runs the data stack's db-bootstrap task (roles and
#                                           schemas per service, passwords from their secrets)
#                                           and fails unless it exits 0
#   infra/aws/cd-steps.sh kafka-acls        runs the data stack's kafka-acls task with the ACLs of
#                                           infra/aws/kafka-acls.json (each service's SCRAM user
#                                           may use only its topics and groups) and fails unless
#                                           it exits 0
#   infra/aws/cd-steps.sh brokers           prints the MSK SASL/SCRAM bootstrap brokers
#   infra/aws/cd-steps.sh migrate TAG       runs `<service> migrate` of image TAG as a one-off
#                                           task per HTTP service, before the rollout; fails
#                                           unless each exits 0. Skipped for a service that does
#                                           not exist yet (the first deploy: `serve` migrates).
#   infra/aws/cd-steps.sh is-released REV   fails unless REV is an ancestor of origin/main
#
# Environment: AWS_REGION; DATA_STACK, NETWORK_STACK (stack names; defaults ecg-prod-data,
# ecg-prod-network); ECS_CLUSTER (the services cluster); MIGRATION_TIMEOUT_SECONDS (3600).
# Needs the AWS CLI v2, jq and openssl (all on GitHub's ubuntu runners).
set -euo pipefail

DATA_STACK="${DATA_STACK:-ecg-prod-data}"
NETWORK_STACK="${NETWORK_STACK:-ecg-prod-network}"
# The value data.yaml gives each signing-key secret; services refuse to start with it.
PLACEHOLDER="replace-with-an-ed25519-pkcs8-pem"
KAFKA_ACLS_FILE="${KAFKA_ACLS_FILE:-$(dirname "${BASH_SOURCE[0]}")/kafka-acls.json}"
HTTP_SERVICES=(auth-service media-service analysis-service)

log() { echo "cd-steps: $*" >&2; }
die() { log "$*"; exit 1; }

# stack_output STACK KEY
stack_output() {
  local value
  value="$(aws cloudformation describe-stacks --stack-name "$1" \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue | [0]" --output text)"
  [[ -n $value && $value != None ]] || die "stack $1 has no output $2"
  echo "$value"
}

# run_task CLUSTER TASK-DEFINITION NETWORK-CONFIGURATION-JSON LABEL [OVERRIDES-JSON]:
# starts one Fargate task, waits until it stopped, fails unless its container exited 0.
run_task() {
  local cluster=$1 taskdef=$2 network=$3 label=$4 overrides=${5:-} arn status exit_code reason
  local deadline=$((SECONDS + ${MIGRATION_TIMEOUT_SECONDS:-3600}))
  local args=(ecs run-task --cluster "$cluster" --launch-type FARGATE --count 1 --task-definition "$taskdef"
    --network-configuration "$network" --started-by "cd-$label" --query 'tasks[0].taskArn' --output text)
  [[ -n $overrides ]] && args+=(--overrides "$overrides")
  arn="$(aws "${args[@]}")"
  [[ -n $arn && $arn != None ]] || die "$label: the task did not start"
  log "$label: task $arn started"
  while :; do
    status="$(aws ecs describe-tasks --cluster "$cluster" --tasks "$arn" --query 'tasks[0].lastStatus' --output text)"
    [[ $status == STOPPED ]] && break
    ((SECONDS < deadline)) || die "$label: task $arn still $status after ${MIGRATION_TIMEOUT_SECONDS:-3600} s"
    sleep "${CD_POLL_SECONDS:-10}"
  done
  exit_code="$(aws ecs describe-tasks --cluster "$cluster" --tasks "$arn" --query 'tasks[0].containers[0].exitCode' --output text)"
  if [[ $exit_code != 0 ]]; then
    reason="$(aws ecs describe-tasks --cluster "$cluster" --tasks "$arn" --query 'tasks[0].stoppedReason' --output text)"
    die "$label: task $arn exited ${exit_code} (${reason}); see its log group"
  fi
  log "$label: task $arn exited 0"
}

# The network of the services (private subnets, the services' security group).
service_network() {
  local subnets sg
  subnets="$(stack_output "$NETWORK_STACK" PrivateSubnetIds)"
  sg="$(stack_output "$NETWORK_STACK" ServiceSecurityGroupId)"
  jq -cn --arg subnets "$subnets" --arg sg "$sg" \
    '{awsvpcConfiguration: {subnets: ($subnets | split(",")), securityGroups: [$sg], assignPublicIp: "DISABLED"}}'
}

signing_keys() {
  local output arn value key
  for output in AuthServiceSigningKeyArn MediaServiceSigningKeyArn AnalysisServiceSigningKeyArn UserTokenSigningKeyArn; do
    arn="$(stack_output "$DATA_STACK" "$output")"
    value="$(aws secretsmanager get-secret-value --secret-id "$arn" --query SecretString --output text)"
    if [[ $value != "$PLACEHOLDER" ]]; then
      log "signing-keys: $output is set"
      continue
    fi
    key="$(umask 077 && mktemp)"
    openssl genpkey -algorithm ed25519 -out "$key"
    aws secretsmanager put-secret-value --secret-id "$arn" --secret-string "file://$key" >/dev/null
    rm -f "$key"
    log "signing-keys: $output generated (Ed25519)"
  done
}

db_bootstrap() {
  run_task "$(stack_output "$DATA_STACK" OperationsClusterName)" \
    "$(stack_output "$DATA_STACK" DbBootstrapTaskDefinitionArn)" "$(service_network)" db-bootstrap
}

brokers() {
  local brokers
  brokers="$(aws kafka get-bootstrap-brokers --cluster-arn "$(stack_output "$DATA_STACK" KafkaClusterArn)" \
    --query BootstrapBrokerStringSaslScram --output text)"
  [[ -n $brokers && $brokers != None ]] || die "brokers: the MSK cluster has no SASL/SCRAM brokers"
  echo "$brokers"
}

# One ACL a line (principal operation resource-type pattern-type name), with the brokers, as the
# kafka-acls task's environment.
kafka_acls() {
  local acls overrides
  acls="$(jq -r '.acls[] | [.principal, .operation, .resourceType, .patternType, .resourceName] | join(" ")' "$KAFKA_ACLS_FILE")"
  [[ -n $acls ]] || die "kafka-acls: $KAFKA_ACLS_FILE lists no ACL"
  overrides="$(jq -cn --arg acls "$acls" --arg brokers "$(brokers)" \
    '{containerOverrides: [{name: "kafka-acls", environment: [{name: "ECG_KAFKA_ACLS", value: $acls}, {name: "KAFKA_BROKERS", value: $brokers}]}]}')"
  run_task "$(stack_output "$DATA_STACK" OperationsClusterName)" \
    "$(stack_output "$DATA_STACK" KafkaAclsTaskDefinitionArn)" "$(service_network)" kafka-acls "$overrides"
}

# The running service's task definition with image TAG and command `migrate`, registered
# as family <family>-migrate (same roles, secrets and log group), run once in the
# service's own network.
migrate() {
  local tag=$1 service current definition image network migrate_arn
  [[ -n ${ECS_CLUSTER:-} ]] || die "migrate: ECS_CLUSTER is not set"
  for service in "${HTTP_SERVICES[@]}"; do
    current="$(aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$service" \
      --query "services[?status=='ACTIVE'] | [0].taskDefinition" --output text)"
    if [[ -z $current || $current == None ]]; then
      log "migrate: $service does not exist yet (first deploy): it migrates at start"
      continue
    fi
    definition="$(aws ecs describe-task-definition --task-definition "$current" --query taskDefinition --output json)"
    image="$(jq -r '.containerDefinitions[0].image' <<<"$definition")"
    image="${image%:*}:$tag"
    definition="$(jq -c --arg image "$image" '
      .family += "-migrate"
      | .containerDefinitions |= [.[0] | .image = $image | .command = ["migrate"]
          | del(.healthCheck, .portMappings)]
      | del(.taskDefinitionArn, .revision, .status, .requiresAttributes, .compatibilities,
            .registeredAt, .registeredBy, .deregisteredAt)' <<<"$definition")"
    migrate_arn="$(aws ecs register-task-definition --cli-input-json "$definition" \
      --query taskDefinition.taskDefinitionArn --output text)"
    network="$(aws ecs describe-services --cluster "$ECS_CLUSTER" --services "$service" \
      --query "services[?status=='ACTIVE'] | [0].networkConfiguration" --output json)"
    run_task "$ECS_CLUSTER" "$migrate_arn" "$network" "migrate-$service"
  done
}

is_released() {
  local rev=$1
  git fetch --quiet origin main
  git merge-base --is-ancestor "$rev" origin/main || die "$rev is not on origin/main: refusing to deploy it"
  log "$rev is on origin/main"
}

case "${1:-}" in
  signing-keys) signing_keys ;;
  db-bootstrap) db_bootstrap ;;
  kafka-acls) kafka_acls ;;
  brokers) brokers ;;
  migrate) [[ -n ${2:-} ]] || die "usage: $0 migrate TAG"; migrate "$2" ;;
  is-released) [[ -n ${2:-} ]] || die "usage: $0 is-released REV"; is_released "$2" ;;
  *) sed -n '2,24p' "$0" >&2; exit 2 ;;
esac
