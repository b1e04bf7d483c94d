"""Service settings: environment variables with a per-service prefix (ORDER_DATABASE_URL, ...).

Kafka is shared by all services, so KAFKA_BOOTSTRAP_SERVERS has no prefix. With no configuration at
all a service runs embedded on a SQLite file of its own; a PostgreSQL URL switches it to PostgreSQL.
"""

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from ecomops_common.kafka_security import KafkaSecurity

INSECURE_SECRETS = {"", "change-me", "dev", "dev-token", "secret", "password"}


class ServiceSettings(BaseSettings):
    """Subclass per service with `model_config = SettingsConfigDict(env_prefix="ORDER_")` and a name."""

    # `__` reaches into the Kafka security settings: ORDER_KAFKA__SASL_USERNAME is the order service's principal.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, env_nested_delimiter="__")

    service_name: str = "service"
    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(default="", description="The runtime role's connection: rows only, no DDL")
    migration_database_url: str = Field(default="", description="The migration role's connection (owns the schema),"
                                                                " used by `ecomops-migrate`; default: database_url")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:19092", validation_alias=AliasChoices("KAFKA_BOOTSTRAP_SERVERS")
    )
    kafka: KafkaSecurity = Field(default_factory=KafkaSecurity,
                                 description="SASL and TLS of this service's Kafka principal; unset parts from KAFKA_*")
    kafka_replication_factor: int = Field(
        default=1, ge=1, validation_alias=AliasChoices("KAFKA_REPLICATION_FACTOR")
    )
    topic_prefix: str = Field(
        default="",
        description="Prepended to every topic name: isolates tenants or test runs on one cluster",
        validation_alias=AliasChoices("ECOMOPS_TOPIC_PREFIX"),
    )
    topic_partitions: int = Field(default=6, ge=1)
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    api_token: str | None = Field(default=None, description="Local development without an issuer only (production "
                                  "refuses it): a static bearer token standing for an admin")
    oidc_issuer: str | None = Field(default=None, validation_alias=AliasChoices("OIDC_ISSUER"),
                                    description="The OpenID Connect issuer whose access tokens every route takes, "
                                                "e.g. http://127.0.0.1:18080/realms/ecomops")
    oidc_audience: str = Field(default="ecomops", validation_alias=AliasChoices("OIDC_AUDIENCE"))
    oidc_roles_claim: str = Field(default="realm_access.roles", validation_alias=AliasChoices("OIDC_ROLES_CLAIM"),
                                  description="Dotted path of the roles in a token (Entra ID: roles)")
    oidc_jwks_url: str | None = Field(default=None, validation_alias=AliasChoices("OIDC_JWKS_URL"),
                                      description="Default: the jwks_uri of the issuer's discovery document")
    oidc_console_client_id: str = Field(default="ecomops-console",
                                        validation_alias=AliasChoices("OIDC_CONSOLE_CLIENT_ID"),
                                        description="The public client /docs logs in as")
    rate_limit_per_client: str = Field(default="100/second;3000/minute",
                                       description="Each client's budget on the public write routes (429 beyond)")
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1,
                                        description="A larger request body is refused with 413, read no further")
    data_dir: Path = Path(".local/data")
    log_level: str = "INFO"
    otlp_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT")
    )

    # Consumers: batches bound the transaction size and so the latency of one batch.
    consumer_max_records: int = Field(default=500, ge=1)
    consumer_batch_timeout_ms: int = Field(default=20, ge=1)
    consumer_pace_s: float = Field(default=0.0, ge=0, le=60, description=(
        "Each consumer takes a batch at most this often (0: as soon as records come). A consumer off the order's "
        "path (a read model) trades that much freshness for fewer, larger transactions at peak"))
    consumer_lag_interval_s: float = Field(default=15, gt=0, description="How often the broker is asked for the lag "
                                                                         "of the service's consumer groups")

    # Outbox relay.
    relay_enabled: bool = True
    relay_batch_size: int = Field(default=500, ge=1)
    relay_poll_interval_s: float = Field(default=1.0, gt=0, description="Fallback poll; commits wake it")
    outbox_retention_s: float = Field(default=7 * 24 * 3600, gt=0)
    inbox_retention_s: float = Field(default=14 * 24 * 3600, gt=0)
    purge_interval_s: float = Field(default=60, gt=0)

    @model_validator(mode="after")
    def _defaults_and_production_guard(self) -> "ServiceSettings":
        if not self.database_url:
            db_file = (self.data_dir / f"{self.service_name}.db").resolve()
            self.database_url = f"sqlite+aiosqlite:///{db_file}"
        if not self.migration_database_url:
            self.migration_database_url = self.database_url
        if self.environment == "production":
            problems = []
            if self.api_token is not None:
                problems.append("api_token is for local development only: configure OIDC_ISSUER")
            if not self.oidc_issuer:
                problems.append("OIDC_ISSUER must name the OpenID Connect issuer")
            if not self.kafka.sasl:
                problems.append("Kafka must authenticate the service's principal (KAFKA_SECURITY_PROTOCOL=SASL_SSL)")
            if self.database_url.startswith("sqlite"):
                problems.append("database_url must point at PostgreSQL")
            for name in ("database_url", "migration_database_url"):
                url = make_url(getattr(self, name))
                if url.password is not None and (url.password == url.username or url.password in INSECURE_SECRETS):
                    problems.append(f"{name} uses a development password")
            if problems:
                raise ValueError("insecure production settings: " + "; ".join(problems))
        return self

    def topic(self, name: str) -> str:
        return self.topic_prefix + name

    def consumer_group(self, name: str) -> str:
        """Prefixed like topics, so isolated instances never rebalance each other."""
        return self.topic_prefix + name

