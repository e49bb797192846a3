#!/usr/bin/env bash
# A stand-in for kafka-acls.sh: keeps ACLs in $FAKE_ACLS ("principal operation type pattern name", lower
# case like the broker's names) and prints --list as Kafka 3.x does.
set -euo pipefail
op="" principal="" operation="" type="" name="" pattern=literal
while (($#)); do
  case "$1" in
    --add | --remove | --list) op=$1 ;;
    --allow-principal | --principal) principal=$2; shift ;;
    --operation) operation=$(tr '[:upper:]' '[:lower:]' <<<"$2"); shift ;;
    --resource-pattern-type) pattern=$(tr '[:upper:]' '[:lower:]' <<<"$2"); shift ;;
    --topic | --group) type=${1#--}; name=$2; shift ;;
    --cluster) type=cluster; name=kafka-cluster ;;
    --bootstrap-server | --command-config) grep -q "ScramLoginModule required username=\"kafka-admin\"" "$2" 2>/dev/null || [[ $1 == --bootstrap-server ]] || { echo "not logged in as kafka-admin" >&2; exit 1; }; shift ;;
    --force) ;;
  esac
  shift
done
touch "$FAKE_ACLS"
line="$principal $operation $type $pattern $name"
case "$op" in
  --add) grep -qxF "$line" "$FAKE_ACLS" || echo "$line" >>"$FAKE_ACLS" ;;
  --remove) grep -vxF "$line" "$FAKE_ACLS" >"$FAKE_ACLS.new" || true; mv "$FAKE_ACLS.new" "$FAKE_ACLS" ;;
  --list)
    awk -v p="$principal" '$1 == p {
      printf "Current ACLs for resource `ResourcePattern(resourceType=%s, name=%s, patternType=%s)`: \n", toupper($3), $5, toupper($4)
      printf " \t(principal=%s, host=*, operation=%s, permissionType=ALLOW)\n\n", $1, toupper($2) }' "$FAKE_ACLS" ;;
esac
