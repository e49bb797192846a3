#!/usr/bin/env bash
# Stub of the AWS CLI for ecg_validate.cd_steps: answers the calls infra/aws/cd-steps.sh makes from
# canned stack outputs, services and task definitions, and records what it is asked to do in
# $CD_STUB_STATE (keys written, tasks registered and run, their overrides).
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
      KafkaAclsTaskDefinitionArn) echo "arn:aws:ecs:eu-west-1:1:task-definition/ecg-prod-kafka-acls:2" ;;
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
    echo "$(arg --overrides "$@")" >"$st/overrides-$by.json"
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
