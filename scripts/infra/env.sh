#!/usr/bin/env bash
# Prints the connection settings of the local infrastructure started by
# kafka.sh and postgres.sh, as shell exports:
#
#   eval "$(scripts/infra/env.sh)"
#
# A variable already set in the environment wins (and is printed unchanged),
# so CI or a developer can point single services at other servers.
# docker-compose.yml uses the same names (checked by tests/infra/test_compose.py).
set -euo pipefail

KAFKA_PORT="${KAFKA_PORT:-19092}"
PG_PORT="${PG_PORT:-15432}"
SERVICES=(order allocation warehouse returns finance control catalog supply shipping)

emit() {
  local name="$1" default="$2"
  printf 'export %s=%q\n' "$name" "${!name:-$default}"
}

emit KAFKA_BOOTSTRAP_SERVERS "127.0.0.1:$KAFKA_PORT"
# The broker takes SASL only (kafka.sh). These are the admin's development credentials, for tests, CLIs and
# benchmarks; each service runs as its own principal (`make up` gives each its KAFKA_SASL_USERNAME/_PASSWORD).
emit KAFKA_SECURITY_PROTOCOL SASL_PLAINTEXT
emit KAFKA_SASL_MECHANISM SCRAM-SHA-512
emit KAFKA_SASL_USERNAME admin
emit KAFKA_SASL_PASSWORD admin-dev-secret
emit KAFKA_ADMIN_PASSWORD admin-dev-secret
# The OpenID Connect issuer every service takes tokens of (keycloak.sh, realm deploy/keycloak/ecomops-realm.json).
emit OIDC_ISSUER "http://127.0.0.1:${KEYCLOAK_PORT:-18080}/realms/ecomops"
emit POSTGRES_ADMIN_URL "postgresql://postgres:postgres@127.0.0.1:$PG_PORT/postgres"
for svc in "${SERVICES[@]}"; do
  # Database <svc>_service; the service runs as <svc>_service_app, its migrations as the owner
  # <svc>_service; passwords equal role names (deploy/postgres/init.sql).
  db="${svc}_service"
  emit "${svc^^}_DATABASE_URL" "postgresql+asyncpg://${db}_app:${db}_app@127.0.0.1:$PG_PORT/$db"
  emit "${svc^^}_MIGRATION_DATABASE_URL" "postgresql+asyncpg://$db:$db@127.0.0.1:$PG_PORT/$db"
done
# The payment provider finance pays refunds through: locally the simulator that `make up` starts
# (python -m payment_simulator, default port 8090).
emit FINANCE_PAYMENT_PROVIDER_URL "http://127.0.0.1:8090"
