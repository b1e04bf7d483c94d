"""`ecomops-kafka-setup`: each principal's SCRAM credential and ACLs on a broker that authorizes (the KRaft
StandardAuthorizer with allow.everyone.if.no.acl.found=false), from the grants file the services' definitions
generate (deploy/helm/ecomops/files/kafka-acls.json, `make docs`): a service may write only the topics it
publishes (and the dead-letter topics of those it consumes), read only those it consumes, in its own consumer
groups; a connector may write only the channel topics, a scanner only warehouse.scans.v1. Idempotent: run it
after every broker start or deployment.

It authenticates as the broker's admin (KAFKA_ADMIN_USERNAME, KAFKA_ADMIN_PASSWORD, KAFKA_ADMIN_MECHANISM: PLAIN
by default, the static credential a fresh broker has). Each principal's password comes from the file
`<--passwords-dir>/kafka-<name>` (mounted secrets), else KAFKA_PASSWORD_<NAME> (e.g. KAFKA_PASSWORD_ORDER);
`--development` falls back to `<name>-dev-secret`, the local stack's passwords (docs/identity.md)."""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from kafka.admin import (
    ACL,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    KafkaAdminClient,
    ResourcePattern,
    ResourceType,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from ecomops_common.kafka_security import KafkaSecurity

ADMIN = "admin"
# What each grant lets a principal do (READ and WRITE imply DESCRIBE).
GRANTS = {
    "write": (ResourceType.TOPIC, (ACLOperation.WRITE,)),
    "read": (ResourceType.TOPIC, (ACLOperation.READ,)),
    "create": (ResourceType.TOPIC, (ACLOperation.CREATE, ACLOperation.DESCRIBE)),
    "group_prefixes": (ResourceType.GROUP, (ACLOperation.READ,)),  # every group whose name starts so
}
PREFIXED_GRANTS = frozenset({"group_prefixes"})


def development_password(principal: str) -> str:
    return f"{principal}-dev-secret"


def acl_bindings(grants: dict[str, dict[str, list[str]]], prefix: str = "") -> list[ACL]:
    """Every ACL of the grants file, its topic and group names prefixed like the services prefix them."""
    bindings = []
    for principal, granted in grants.items():
        for grant, names in granted.items():
            resource_type, operations = GRANTS[grant]
            for name in names:
                for operation in operations:
                    pattern = (ACLResourcePatternType.PREFIXED if grant in PREFIXED_GRANTS
                               else ACLResourcePatternType.LITERAL)
                    bindings.append(ACL(f"User:{principal}", "*", operation, ACLPermissionType.ALLOW,
                                        ResourcePattern(resource_type, prefix + name, pattern)))
    return bindings


def admin_client(bootstrap_servers: str) -> KafkaAdminClient:
    security = KafkaSecurity()
    options: dict[str, Any] = {"bootstrap_servers": bootstrap_servers.split(","),
                               "security_protocol": security.security_protocol, "client_id": "ecomops-kafka-setup",
                               "request_timeout_ms": 15000}
    if security.tls:
        options["ssl_context"] = security.ssl_context()
    if security.sasl:
        options.update(sasl_mechanism=os.environ.get("KAFKA_ADMIN_MECHANISM", "PLAIN"),
                       sasl_plain_username=os.environ.get("KAFKA_ADMIN_USERNAME", ADMIN),
                       sasl_plain_password=os.environ["KAFKA_ADMIN_PASSWORD"])
    return KafkaAdminClient(**options)


def password_of(principal: str, development: bool, passwords_dir: Path | None = None) -> str:
    if principal == ADMIN:  # the same password as the admin's static PLAIN credential
        return os.environ["KAFKA_ADMIN_PASSWORD"]
    secret = passwords_dir / f"kafka-{principal}" if passwords_dir else None
    if secret is not None and secret.is_file():
        return secret.read_text().strip()
    variable = "KAFKA_PASSWORD_" + principal.upper().replace("-", "_")
    if variable in os.environ:
        return os.environ[variable]
    if development:
        return development_password(principal)
    raise SystemExit(f"{variable} is not set (the password of Kafka principal {principal})")


def set_up(admin: KafkaAdminClient, grants: dict[str, dict[str, list[str]]], *, prefix: str = "",
           development: bool = False, passwords_dir: Path | None = None) -> int:
    """Creates or updates the credentials (the admin's SCRAM one too) and ACLs; answers how many ACLs."""
    failed = admin.alter_user_scram_credentials([
        UserScramCredentialUpsertion(name, ScramMechanism.SCRAM_SHA_512, password_of(name, development, passwords_dir))
        for name in [ADMIN, *grants]])
    problems = {name: error for name, error in (failed or {}).items() if error}
    if problems:
        raise SystemExit(f"SCRAM credentials refused: {problems}")
    bindings = acl_bindings(grants, prefix)
    result = admin.create_acls(bindings)
    if result.get("failed"):
        raise SystemExit(f"ACLs refused: {result['failed'][:3]}")
    return len(bindings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ecomops-kafka-setup", description=__doc__.split("\n\n")[0])
    parser.add_argument("--grants", type=Path, default=Path("deploy/helm/ecomops/files/kafka-acls.json"),
                        help="the grants file (default: %(default)s)")
    parser.add_argument("--prefix", default=os.environ.get("ECOMOPS_TOPIC_PREFIX", ""),
                        help="the services' topic prefix (env ECOMOPS_TOPIC_PREFIX)")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"))
    parser.add_argument("--passwords-dir", type=Path, help="where the kafka-<principal> password files are")
    parser.add_argument("--development", action="store_true",
                        help="principals without KAFKA_PASSWORD_<NAME> get their development password")
    args = parser.parse_args(argv)
    grants = json.loads(args.grants.read_text())["principals"]
    admin = admin_client(args.bootstrap)
    try:
        count = set_up(admin, grants, prefix=args.prefix, development=args.development,
                       passwords_dir=args.passwords_dir)
    finally:
        admin.close()
    print(f"kafka: {len(grants) + 1} principals with SCRAM-SHA-512 credentials, {count} ACLs", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
