"""Static checks of docker-compose.yml against the local (Docker-free) runner.

No Docker engine is needed. The schema check uses check-jsonschema (a dev
dependency), which ships the Compose Specification schema.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENV_SH = ROOT / "scripts" / "infra" / "env.sh"
POSTGRES_SH = ROOT / "scripts" / "infra" / "postgres.sh"
KAFKA_SH = ROOT / "scripts" / "infra" / "kafka.sh"
KEYCLOAK_SH = ROOT / "scripts" / "infra" / "keycloak.sh"
INIT_SQL = ROOT / "deploy" / "postgres" / "init.sql"
REALM = ROOT / "deploy" / "keycloak" / "ecomops-realm.json"
KAFKA_GRANTS = ROOT / "deploy" / "helm" / "ecomops" / "files" / "kafka-acls.json"
SERVICES = ["order", "allocation", "warehouse", "returns", "finance", "control", "catalog", "supply", "shipping"]

# Per-process settings that the local runner passes on the command line or
# leaves at defaults, so env.sh does not print them.
ENV_ALLOW_LIST = {f"{svc.upper()}_HTTP_{part}" for svc in SERVICES for part in ("HOST", "PORT")} | {
    "OTEL_SERVICE_NAME",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    # Containers only: each reads its own Kafka password from a Compose secret, and fetches the provider's keys
    # over the Compose network (the issuer in the tokens names the host's address).
    "KAFKA_SASL_PASSWORD_FILE",
    "OIDC_JWKS_URL",
    # Containers only: where the console is reached and reaches the other services (locally its defaults,
    # the addresses `make up` serves at).
    "CONTROL_PUBLIC_URL", "CONTROL_OIDC_BACKCHANNEL_URL",
    *(f"CONTROL_{svc.upper()}_URL" for svc in SERVICES if svc != "control"),
    # Containers only: the carrier simulator over the Compose network (locally the default, the address `make up`
    # serves it at).
    "SHIPPING_CARRIER_URL",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    # safe_load resolves the YAML merge keys (<<: *service) like Compose does.
    return yaml.safe_load(COMPOSE.read_text())


def _one_shot(service: dict) -> bool:
    return service.get("restart") == "no"


@pytest.fixture(scope="module")
def app_services(compose: dict) -> dict:
    """The services built from this repo's Dockerfile (not kafka/postgres, nor the one-shot jobs)."""
    apps = {name: svc for name, svc in compose["services"].items() if "build" in svc and not _one_shot(svc)}
    assert sorted(apps) == sorted(SERVICES)
    return apps


@pytest.fixture(scope="module")
def local_env() -> dict[str, str]:
    """What `eval "$(scripts/infra/env.sh)"` exports, with defaults only."""
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    out = subprocess.run(
        ["bash", "-c", f'eval "$({ENV_SH})"; env -0'], env=clean, check=True, capture_output=True, text=True
    ).stdout
    exported = dict(item.split("=", 1) for item in out.split("\0") if "=" in item)
    names = re.findall(r"^export ([A-Z_][A-Z0-9_]*)=", subprocess.run(
        [str(ENV_SH)], env=clean, check=True, capture_output=True, text=True
    ).stdout, re.M)
    return {name: exported[name] for name in names}


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "- NAME=value" form
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: str(v) for k, v in env.items()}


# --- (a) Compose schema ------------------------------------------------------


def test_compose_file_passes_the_compose_spec_schema() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- (b) the same variable names as the local runner -------------------------


def test_service_env_names_match_the_local_runner(app_services: dict, local_env: dict) -> None:
    for name, service in app_services.items():
        unknown = set(_environment(service)) - set(local_env) - ENV_ALLOW_LIST
        assert not unknown, f"{name}: not printed by scripts/infra/env.sh nor allow-listed: {sorted(unknown)}"


def test_service_env_values_differ_from_local_only_in_host(app_services: dict, local_env: dict) -> None:
    for name, service in app_services.items():
        env = _environment(service)
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        for same in ("KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM"):
            assert env[same] == local_env[same], (name, same)
        # The same provider and realm (Keycloak on port 18080): only the host name differs.
        compose_issuer, local_issuer = urlsplit(env["OIDC_ISSUER"]), urlsplit(local_env["OIDC_ISSUER"])
        assert compose_issuer._replace(netloc=str(compose_issuer.port)) == local_issuer._replace(
            netloc=str(local_issuer.port)), name
        db_var = f"{name.upper()}_DATABASE_URL"
        compose_url, local_url = urlsplit(env[db_var]), urlsplit(local_env[db_var])
        assert (compose_url.hostname, compose_url.port) == ("postgres", 5432)
        # Same driver, role, password and database; only the server differs.
        for part in ("scheme", "username", "password", "path"):
            assert getattr(compose_url, part) == getattr(local_url, part), (db_var, part)


def test_env_sh_keeps_variables_already_set() -> None:
    env = {"PATH": os.environ.get("PATH", ""), "ORDER_DATABASE_URL": "postgresql+asyncpg://a:b@elsewhere:5432/c"}
    out = subprocess.run(
        ["bash", "-c", f'eval "$({ENV_SH})"; echo "$ORDER_DATABASE_URL $KAFKA_BOOTSTRAP_SERVERS"'],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.split()
    assert out == ["postgresql+asyncpg://a:b@elsewhere:5432/c", "127.0.0.1:19092"]


# --- (c) health checks and start order ---------------------------------------


def test_every_service_has_a_healthcheck(compose: dict) -> None:
    for name, service in compose["services"].items():
        if _one_shot(service):
            continue  # a one-shot job: others wait for it to complete, not to be healthy
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"


def test_app_services_wait_for_healthy_infrastructure(compose: dict, app_services: dict) -> None:
    for name, service in app_services.items():
        depends = service.get("depends_on")
        assert isinstance(depends, dict), f"{name}: depends_on needs the long form with conditions"
        assert {"kafka", "postgres", "keycloak", "migrate", "kafka-setup"} <= set(depends), name
        for dep, spec in depends.items():
            one_shot = _one_shot(compose["services"][dep])
            wanted = "service_completed_successfully" if one_shot else "service_healthy"
            assert spec.get("condition") == wanted, f"{name} -> {dep}"


def test_migrate_job_runs_every_service_migrations_as_the_owner_and_grants_the_runtime_role(
        compose: dict, app_services: dict, local_env: dict) -> None:
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["ecomops-migrate", "upgrade", "--service", "all"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    env = _environment(migrate)
    for svc in SERVICES:
        prefix = svc.upper()
        runtime, owner = urlsplit(env[f"{prefix}_DATABASE_URL"]), urlsplit(env[f"{prefix}_MIGRATION_DATABASE_URL"])
        assert (owner.username, runtime.username) == (f"{svc}_service", f"{svc}_service_app")
        # The services run as the runtime role the job grants to.
        assert _environment(app_services[svc])[f"{prefix}_DATABASE_URL"] == env[f"{prefix}_DATABASE_URL"]
        for variable in (f"{prefix}_DATABASE_URL", f"{prefix}_MIGRATION_DATABASE_URL"):
            local = urlsplit(local_env[variable])
            assert urlsplit(env[variable])._replace(netloc="") == local._replace(netloc=""), variable


# Variables the apache/kafka image passes to the JVM rather than into server.properties.
KAFKA_IMAGE_EXCLUDES = {"KAFKA_VERSION", "KAFKA_OPTS", "KAFKA_HEAP_OPTS", "KAFKA_JMX_OPTS", "KAFKA_LOG4J_OPTS"}
# The local broker's security settings (kafka.sh), which compose's broker must share.
KAFKA_SECURITY_PROPERTIES = ["sasl.enabled.mechanisms", "sasl.mechanism.inter.broker.protocol",
                             "sasl.mechanism.controller.protocol", "listener.name.controller.sasl.enabled.mechanisms",
                             "authorizer.class.name", "super.users", "allow.everyone.if.no.acl.found"]


def _image_properties(env: dict[str, str]) -> dict[str, str]:
    """server.properties as the apache/kafka image writes it from KAFKA_* variables: "_" is ".", "__" is "_",
    "___" is "-"."""
    properties = {}
    for name, value in env.items():
        if name.startswith("KAFKA_") and name not in KAFKA_IMAGE_EXCLUDES:
            key = re.sub(r"[^_]_[^_]", lambda m: m[0].replace("_", "."), name.removeprefix("KAFKA_"))
            properties[key.replace("___", "-").replace("__", "_").lower()] = value
    return properties


def _local_broker_properties() -> dict[str, str]:
    config = re.search(r'cat >"\$PROPS" <<EOF\n(.*?)\nEOF', KAFKA_SH.read_text(), re.S)
    assert config, "kafka.sh: the server.properties heredoc not found"
    return dict(re.findall(r"^([a-z][a-z0-9.-]*)=(.*)$", config[1], re.M))


def test_kafka_matches_the_local_broker(compose: dict, local_env: dict) -> None:
    kafka = compose["services"]["kafka"]
    local_version = re.search(r'KAFKA_VERSION="\$\{KAFKA_VERSION:-([0-9.]+)\}"', KAFKA_SH.read_text())[1]
    assert kafka["image"] == f"apache/kafka:{local_version}"
    env = _environment(kafka)
    # The image silently drops a variable whose value holds "=" (a JAAS line): those settings must be files.
    assert not [name for name, value in env.items()
                if name.startswith("KAFKA_") and name not in KAFKA_IMAGE_EXCLUDES and "=" in value]
    properties, local = _image_properties(env), _local_broker_properties()
    assert properties["auto.create.topics.enable"] == "false"
    assert properties["offsets.topic.replication.factor"] == "1"
    assert properties["group.initial.rebalance.delay.ms"] == "0"
    for key in KAFKA_SECURITY_PROPERTIES:
        assert properties[key] == local[key], key
    listeners = {item.split("://")[0] for item in properties["listeners"].split(",")}
    protocols = dict(item.split(":") for item in properties["listener.security.protocol.map"].split(","))
    assert listeners == set(protocols) and set(protocols.values()) == {"SASL_PLAINTEXT"}
    # The admin's static credential: the host's default (env.sh) unless KAFKA_ADMIN_PASSWORD is set.
    assert env["BROKER_ADMIN_PASSWORD"] == f"${{KAFKA_ADMIN_PASSWORD:-{local_env['KAFKA_ADMIN_PASSWORD']}}}"
    # The start command writes the JAAS file the JVM is told about, and the client settings the healthcheck uses.
    command = kafka["command"][-1]
    jaas = re.fullmatch(r"-Djava\.security\.auth\.login\.config=(\S+)", env["KAFKA_OPTS"])[1]
    assert f"cat > {jaas} <<EOF" in command and "user_admin=\"$$BROKER_ADMIN_PASSWORD\"" in command
    assert command.rstrip().endswith("exec /etc/kafka/docker/run")
    check = kafka["healthcheck"]["test"][-1]
    assert "kafka-broker-api-versions.sh" in check
    assert f"cat > {check.split('--command-config ')[1].split()[0]} <<EOF" in command


# --- (e) identity: the provider and the Kafka principals ------------------------


def test_keycloak_matches_the_local_provider(compose: dict, app_services: dict) -> None:
    keycloak = compose["services"]["keycloak"]
    local_version = re.search(r'KEYCLOAK_VERSION="\$\{KEYCLOAK_VERSION:-([0-9.]+)\}"', KEYCLOAK_SH.read_text())[1]
    assert keycloak["image"] == f"quay.io/keycloak/keycloak:{local_version}"
    assert keycloak["command"] == ["start-dev", "--import-realm"]
    realm_file = f"./{REALM.relative_to(ROOT)}"
    assert f"{realm_file}:/opt/keycloak/data/import/{REALM.name}:ro" in keycloak["volumes"]
    assert keycloak["ports"] == ["127.0.0.1:18080:8080"]
    realm = json.loads(REALM.read_text())["realm"]
    issuer = f"{_environment(keycloak)['KC_HOSTNAME']}/realms/{realm}"
    assert urlsplit(issuer).port == 18080  # the published port: the host sees the issuer the tokens name
    for name, service in app_services.items():
        env = _environment(service)
        assert env["OIDC_ISSUER"] == issuer, name
        assert env["OIDC_JWKS_URL"] == f"http://keycloak:8080/realms/{realm}/protocol/openid-connect/certs", name


def test_kafka_setup_creates_every_principal_from_the_grants_file(compose: dict) -> None:
    setup = compose["services"]["kafka-setup"]
    assert _one_shot(setup) and setup["depends_on"]["kafka"]["condition"] == "service_healthy"
    grants = next(v for v in setup["volumes"] if v.startswith(f"./{KAFKA_GRANTS.relative_to(ROOT)}:"))
    _source, mounted, mode = grants.split(":")
    assert mode == "ro"
    assert setup["command"] == ["ecomops-kafka-setup", "--grants", mounted, "--passwords-dir", "/run/secrets"]
    assert _environment(setup)["KAFKA_ADMIN_PASSWORD"] == _environment(compose["services"]["kafka"])[
        "BROKER_ADMIN_PASSWORD"]
    principals = json.loads(KAFKA_GRANTS.read_text())["principals"]
    assert {*SERVICES, "connector", "scanner"} <= set(principals)
    assert sorted(setup["secrets"]) == sorted(f"kafka-{principal}" for principal in principals)


def test_development_kafka_passwords_are_the_local_ones(compose: dict) -> None:
    from ecomops_common.kafka_setup import development_password

    for name, secret in compose["secrets"].items():
        principal = name.removeprefix("kafka-")
        source = ROOT / secret["file"]
        assert source.parent == ROOT / "deploy" / "compose" / "secrets", name
        assert source.read_text().strip() == development_password(principal), name


def test_each_service_is_its_own_kafka_principal_with_only_its_own_password(app_services: dict) -> None:
    for name, service in app_services.items():
        env = _environment(service)
        assert env["KAFKA_SASL_USERNAME"] == name
        assert "KAFKA_SASL_PASSWORD" not in env, f"{name}: the password comes from its secret, not the environment"
        assert service["secrets"] == [f"kafka-{name}"]
        assert env["KAFKA_SASL_PASSWORD_FILE"] == f"/run/secrets/kafka-{name}"


# --- (f) one list of roles and databases --------------------------------------


def _init_sql_names() -> list[str]:
    values = re.search(r"INSERT INTO ecomops_service_db \(name\) VALUES(.*?);", INIT_SQL.read_text(), re.S)
    assert values, "init.sql: VALUES list of service databases not found"
    return re.findall(r"\('([a-z_]+)'\)", values[1])


def test_init_sql_creates_one_role_and_database_per_service() -> None:
    assert _init_sql_names() == [f"{svc}_service" for svc in SERVICES]


def test_postgres_sh_and_compose_use_the_same_init_sql(compose: dict) -> None:
    # postgres.sh runs init.sql itself, so both setups get identical roles.
    assert 'INIT_SQL="$ROOT/deploy/postgres/init.sql"' in POSTGRES_SH.read_text()
    mounts = [v for v in compose["services"]["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    assert mounts and mounts[0].startswith("./deploy/postgres/init.sql:")


def test_env_sh_urls_use_the_init_sql_roles(local_env: dict) -> None:
    names = set(_init_sql_names())
    for svc in SERVICES:
        owner = urlsplit(local_env[f"{svc.upper()}_MIGRATION_DATABASE_URL"])
        assert owner.username == owner.password == owner.path.lstrip("/") == f"{svc}_service" in names
        runtime = urlsplit(local_env[f"{svc.upper()}_DATABASE_URL"])
        assert runtime.username == runtime.password == f"{svc}_service_app"
        assert runtime.path == owner.path


# --- (g) the observability profile --------------------------------------------

OBSERVABILITY = ROOT / "deploy" / "observability" / "compose.yaml"
OBSERVABILITY_FILES = ROOT / "deploy" / "helm" / "ecomops" / "files" / "observability"


@pytest.fixture(scope="module")
def observability() -> dict:
    return yaml.safe_load(OBSERVABILITY.read_text())


def test_the_observability_profile_is_included_and_passes_the_compose_spec_schema(compose: dict) -> None:
    assert compose["include"] == [str(OBSERVABILITY.relative_to(ROOT))]
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(OBSERVABILITY)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_observability_services_run_only_with_their_profile_on_pinned_images(observability: dict,
                                                                            compose: dict) -> None:
    services = observability["services"]
    assert set(services) == {"otel-collector", "prometheus", "grafana"}
    assert not set(services) & set(compose["services"])
    for name, service in services.items():
        assert service["profiles"] == ["observability"], name
        image, _, tag = service["image"].rpartition(":")
        assert image and tag and tag != "latest", f"{name}: pin the image's version"
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name}: {port} is reachable from other machines"


def test_observability_mounts_are_the_charts_files(observability: dict) -> None:
    for name, service in observability["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source in observability.get("volumes", {}):
                continue  # a named volume for data
            path = (OBSERVABILITY.parent / source).resolve()  # relative to the included file, as Compose takes it
            assert path.exists(), f"{name}: {source} does not exist"
            assert path.is_relative_to(OBSERVABILITY_FILES), f"{name}: {source} is not one of the chart's files"


def test_services_send_traces_to_the_profiles_collector(app_services: dict, observability: dict) -> None:
    collector = observability["services"]["otel-collector"]
    assert "127.0.0.1:4318:4318" in collector["ports"]
    for name, service in app_services.items():
        # Set unless the caller sets it (empty: no export); the collector being absent only makes the exporter log.
        assert _environment(service)["OTEL_EXPORTER_OTLP_ENDPOINT"] == (
            "${OTEL_EXPORTER_OTLP_ENDPOINT-http://otel-collector:4318}"), name
