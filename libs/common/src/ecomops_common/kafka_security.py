"""How every Kafka client of the project authenticates: SASL (SCRAM-SHA-512 or -256, or PLAIN) and TLS, from
`KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_MECHANISM`, `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD` (or
`KAFKA_SASL_PASSWORD_FILE`, a mounted secret), `KAFKA_SSL_CAFILE` (and a client certificate: `KAFKA_SSL_CERTFILE`,
`KAFKA_SSL_KEYFILE`). A service takes its own principal from its
prefixed settings (`ORDER_KAFKA__SASL_USERNAME`, ...), anything unset there from these."""

import ssl
from pathlib import Path
from typing import Any, Literal

from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SASL_CLASSES = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}


class KafkaSecurity(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAFKA_", extra="ignore")

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    sasl_password_file: Path | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None

    @model_validator(mode="after")
    def _password_from_file(self) -> "KafkaSecurity":
        if self.sasl_password is None and self.sasl_password_file is not None:
            self.sasl_password = SecretStr(self.sasl_password_file.read_text().strip())
        return self

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        context = ssl.create_default_context(cafile=self.ssl_cafile)
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments of aiokafka's producers, consumers and admin clients."""
        options: dict[str, Any] = {"security_protocol": self.security_protocol, "ssl_context": self.ssl_context()}
        if self.sasl:
            options.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.sasl_username,
                           sasl_plain_password=self.sasl_password.get_secret_value() if self.sasl_password else None)
        return options

    def faststream_security(self) -> BaseSecurity | None:
        if self.sasl:
            return SASL_CLASSES[self.sasl_mechanism](
                self.sasl_username or "", self.sasl_password.get_secret_value() if self.sasl_password else "",
                ssl_context=self.ssl_context(), use_ssl=self.tls)
        return BaseSecurity(ssl_context=self.ssl_context(), use_ssl=True) if self.tls else None


def connection_options(bootstrap_servers: str, security: KafkaSecurity | None = None) -> dict[str, Any]:
    """An aiokafka client's connection: the brokers and how to authenticate (default: the KAFKA_* environment)."""
    return {"bootstrap_servers": bootstrap_servers, **(security or KafkaSecurity()).client_options()}
