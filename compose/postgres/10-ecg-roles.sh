#!/bin/sh
# PostgreSQL first-start script (docker-entrypoint-initdb.d): one login role and
# one schema per service, as SPEC.md §1 and §7 and the local stack
# (infra/local/stack.sh) set them up. Runs once, when the data volume is empty.
#
# Passwords come from the container's environment (compose/.env):
#   AUTH_DB_PASSWORD, MEDIA_DB_PASSWORD, ANALYSIS_DB_PASSWORD
set -eu

: "${AUTH_DB_PASSWORD:?AUTH_DB_PASSWORD must be set (compose/.env)}"
: "${MEDIA_DB_PASSWORD:?MEDIA_DB_PASSWORD must be set (compose/.env)}"
: "${ANALYSIS_DB_PASSWORD:?ANALYSIS_DB_PASSWORD must be set (compose/.env)}"

# psql variables (:'name') quote the passwords as SQL literals.
psql -v ON_ERROR_STOP=1 \
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" \
  -v auth_pw="$AUTH_DB_PASSWORD" \
  -v media_pw="$MEDIA_DB_PASSWORD" \
  -v analysis_pw="$ANALYSIS_DB_PASSWORD" <<'SQL'
CREATE ROLE auth_service     LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'auth_pw';
CREATE ROLE media_service    LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'media_pw';
CREATE ROLE analysis_service LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'analysis_pw';

ALTER ROLE auth_service     SET search_path = auth;
ALTER ROLE media_service    SET search_path = media;
ALTER ROLE analysis_service SET search_path = analysis;

REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO auth_service, media_service, analysis_service;

-- Nobody but the owner creates objects in public; each service owns only its schema.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA auth     AUTHORIZATION auth_service;
CREATE SCHEMA media    AUTHORIZATION media_service;
CREATE SCHEMA analysis AUTHORIZATION analysis_service;
REVOKE ALL ON SCHEMA auth     FROM PUBLIC;
REVOKE ALL ON SCHEMA media    FROM PUBLIC;
REVOKE ALL ON SCHEMA analysis FROM PUBLIC;
SQL

echo "ecg: roles auth_service, media_service, analysis_service and their schemas created"
