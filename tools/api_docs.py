"""API descriptions generated from the code and committed: docs/asyncapi.yaml (every topic, which service sends and
which receives what, payloads, keys, dead letters), docs/openapi/<app>.json (each HTTP API), docs/access-matrix.md
(the roles each HTTP operation takes) and deploy/helm/ecomops/files/kafka-acls.json (each Kafka principal's grants,
which ecomops-kafka-setup applies).

    python tools/api_docs.py generate   # `make docs`
    python tools/api_docs.py check      # `make lint`: exit 1 naming each file that is not what the code generates

The facts come from what the services run, not from a list kept by hand: each service's build_app (development
settings, no I/O) gives its consumers (topic, group, message types decoded), the topics it creates and its HTTP
API; its bootstrap's PUBLISHES what it sends (its unit of work refuses anything else); contracts.REGISTRY the
messages of each topic and their keys; schemas/ (`make schemas`) their JSON Schemas, referenced from the document.
Output is byte-stable (fixed order, sorted JSON keys, trailing newline), so the check never flaps.
"""

import argparse
import difflib
import functools
import importlib
import importlib.metadata
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import NoneType
from typing import Any, get_args, get_type_hints

import yaml
from fastapi import FastAPI

from ecomops_common import envelope as env
from ecomops_common import messaging
from ecomops_common.contracts import (
    CHANNEL_ORDERS,
    CHANNEL_PAYMENTS,
    CHANNEL_RETURNS,
    REGISTRY,
    WAREHOUSE_SCANS,
    ContractSpec,
)
from ecomops_common.messaging import BatchConsumer
from ecomops_common.settings import ServiceSettings
from ecomops_common.topics import DEAD_LETTER_SUFFIX, TopicSpec

REPO = Path(__file__).resolve().parents[1]
ASYNCAPI_FILE = Path("docs/asyncapi.yaml")
OPENAPI_DIR = Path("docs/openapi")
ACCESS_MATRIX_FILE = Path("docs/access-matrix.md")
KAFKA_GRANTS_FILE = Path("deploy/helm/ecomops/files/kafka-acls.json")
CONTROL_DEFINITIONS_FILE = Path("docs/kpis-and-queues.md")
# Principals outside the services: what channel connectors and warehouse scanners may publish.
MACHINE_GRANTS = {"connector": {"write": sorted([CHANNEL_ORDERS, CHANNEL_PAYMENTS, CHANNEL_RETURNS])},
                  "scanner": {"write": [WAREHOUSE_SCANS]}}
HTTP_METHODS = ("get", "put", "post", "patch", "delete")
SCHEMAS_FROM_DOCS = "../schemas"  # schemas/ as seen from docs/, where the AsyncAPI document lives
KAFKA_BINDING = "0.5.0"
DEAD_LETTER_PARTITIONS = 1  # topics.ensure_topics creates dead-letter topics with one partition
# Applications beside the services that have an HTTP API: (file name, module, factory).
OTHER_APPS = (("payment-simulator", "payment_simulator", "create_simulator_app"),)


# --- what the services run ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    name: str
    publishes: tuple[ContractSpec, ...]
    consumers: tuple[BatchConsumer, ...]
    topics: tuple[TopicSpec, ...]
    app: FastAPI


@functools.cache  # one build per process, however often a test generates
def load_services() -> tuple[Service, ...]:
    """Every service under services/, built as `python -m <svc>_service` builds it, with default settings whatever
    the caller's environment (ECOMOPS_TOPIC_PREFIX and the like would change the names) and an in-memory database."""
    services = []
    for bootstrap in sorted(REPO.glob("services/*/src/*_service/bootstrap.py")):
        module = importlib.import_module(f"{bootstrap.parent.name}.bootstrap")
        hint = get_type_hints(module.build_app)["settings"]
        settings_class = next(option for option in get_args(hint) if option is not NoneType)
        app = module.build_app(_defaults_only(settings_class)(database_url="sqlite+aiosqlite:///:memory:"))
        runtime = app.state.runtime
        services.append(Service(runtime.settings.service_name, tuple(module.PUBLISHES), tuple(runtime.consumers),
                                tuple(runtime.topics), app))
    return tuple(services)


def _defaults_only(settings_class: type[ServiceSettings]) -> type[ServiceSettings]:
    """The settings class reading no environment variables: only what it is given, else its defaults."""

    class Defaults(settings_class):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, **_other_sources):
            return (init_settings,)

    return Defaults


def _decoded_contracts(consumer: BatchConsumer) -> list[ContractSpec]:
    """The contracts a consumer decodes (messaging's decoders say which), in the registry's order."""
    decoded = consumer.decode.message_types
    specs = [spec for spec in REGISTRY if spec.topic == consumer.topic and decoded.get(spec.message_type) is spec.model]
    if len(specs) != len(decoded):
        raise SystemExit(f"{consumer.name} decodes {', '.join(sorted(decoded))} on {consumer.topic}, not all of them "
                         "contracts of that topic in contracts.REGISTRY")
    return specs


# --- AsyncAPI -------------------------------------------------------------------------------------------------------

ENVELOPE_HEADERS = {
    env.H_EVENT_ID: "The envelope's event_id",
    env.H_EVENT_TYPE: "The envelope's event_type, e.g. OrderPlaced",
    env.H_EVENT_VERSION: "The envelope's schema_version: the topic's major version",
    env.H_SOURCE: "The service that produced the event",
    env.H_CONTENT_TYPE: "application/json",
    env.H_TRACEPARENT: "W3C trace context of the producing span, when there is one",
    env.H_CORRELATION_ID: "The envelope's correlation_id, when there is one",
}
ENVELOPE_REQUIRED_HEADERS = [env.H_EVENT_ID, env.H_EVENT_TYPE, env.H_EVENT_VERSION, env.H_SOURCE, env.H_CONTENT_TYPE]
DOCUMENT_HEADERS = {
    env.H_EVENT_VERSION: "The topic's major version; another one is dead-lettered as unknown_version",
    env.H_EVENT_ID: "Unique per message, where the producer has such an id",
    env.H_TRACEPARENT: "W3C trace context: the platform's spans continue the producer's trace",
    env.H_CORRELATION_ID: "Carried into every event the message causes",
}
DEAD_LETTER_HEADERS = {
    messaging.DLQ_REASON: "unparseable, schema_invalid, unknown_version or handler_error",
    messaging.DLQ_ERROR: "What was wrong, up to 2,000 characters",
    messaging.DLQ_ORIGINAL_TOPIC: "The topic the record came from",
    messaging.DLQ_ORIGINAL_PARTITION: "Its partition there",
    messaging.DLQ_ORIGINAL_OFFSET: "Its offset there",
    messaging.DLQ_CONSUMER: "The consumer group that could not handle it",
    messaging.DLQ_FAILED_AT: "When, ISO 8601 in UTC",
    messaging.DLQ_PAYLOAD_TRUNCATED: "Only when the record was too large to be dead-lettered whole: its size in bytes",
}


def _headers(descriptions: dict[str, str], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": {
        name: {"type": "string", "description": text} for name, text in descriptions.items()}}
    if required:
        schema["required"] = required
    return schema


def _major(topic: str) -> int:
    return int(topic.rsplit(".v", 1)[1])


def _schema_ref(spec: ContractSpec) -> dict[str, str]:
    return {"$ref": f"{SCHEMAS_FROM_DOCS}/{spec.topic}/{spec.message_type}.json"}


def _message(spec: ContractSpec) -> dict[str, Any]:
    message: dict[str, Any] = {"name": spec.message_type}
    if spec.model.__doc__:
        message["summary"] = " ".join(spec.model.__doc__.split("\n\n")[0].split())
    if spec.enveloped:
        message["traits"] = [{"$ref": "#/components/messageTraits/Envelope"}]
        message["payload"] = {"allOf": [
            {"$ref": f"{SCHEMAS_FROM_DOCS}/envelope.json"},
            {"type": "object", "properties": {
                "event_type": {"const": spec.message_type},
                "schema_version": {"const": _major(spec.topic)},
                "payload": _schema_ref(spec),
            }},
        ]}
        key = f"{spec.key} (the envelope's aggregate_id)"
    else:
        message["traits"] = [{"$ref": "#/components/messageTraits/Document"}]
        message["payload"] = _schema_ref(spec)
        key = spec.key
    message["bindings"] = {"kafka": {"key": {"type": "string", "description": key},
                                     "bindingVersion": KAFKA_BINDING}}
    return message


def _partitions(services: tuple[Service, ...], topic: str) -> int:
    declared = {spec.partitions for service in services for spec in service.topics if spec.name == topic}
    if len(declared) != 1:
        raise SystemExit(f"{topic}: the services create it with {sorted(declared) or 'no'} partitions, not one number")
    return declared.pop()


def _names(names: list[str]) -> str:
    return ", ".join(names) if names else "no service of the platform"


def _channel_ref(address: str) -> dict[str, str]:
    return {"$ref": f"#/channels/{address}"}


def _message_refs(address: str, specs: list[ContractSpec]) -> list[dict[str, str]]:
    return [{"$ref": f"#/channels/{address}/messages/{spec.message_type}"} for spec in specs]


def asyncapi_document(services: tuple[Service, ...]) -> dict[str, Any]:
    senders: dict[str, list[str]] = {}
    receivers: dict[str, list[str]] = {}
    dead_letter_readers: dict[str, list[str]] = {}
    operations: dict[str, Any] = {}
    for service in services:
        sent: dict[str, list[ContractSpec]] = {}
        for spec in service.publishes:
            sent.setdefault(spec.topic, []).append(spec)
        for topic, specs in sorted(sent.items()):
            senders.setdefault(topic, []).append(service.name)
            operations[f"{service.name}.send.{topic}"] = {
                "action": "send", "channel": _channel_ref(topic),
                "summary": f"{service.name} publishes these through its outbox, at least once",
                "messages": _message_refs(topic, specs), "tags": [{"name": service.name}]}
        for consumer in sorted(service.consumers, key=lambda consumer: consumer.topic):
            topic, dead_letters = consumer.topic, consumer.topic + DEAD_LETTER_SUFFIX
            if topic.endswith(DEAD_LETTER_SUFFIX):  # a read model watching dead letters (the control service)
                dead_letter_readers.setdefault(topic, []).append(service.name)
                operations[f"{service.name}.receive.{topic}"] = {
                    "action": "receive", "channel": _channel_ref(topic),
                    "summary": f"{service.name} reads these, read-only",
                    "messages": [{"$ref": f"#/channels/{topic}/messages/DeadLetter"}],
                    "bindings": {"kafka": {"groupId": {"type": "string", "enum": [consumer.name]},
                                           "bindingVersion": KAFKA_BINDING}},
                    "tags": [{"name": service.name}]}
                continue
            if not any(spec.name == topic and spec.with_dead_letters for spec in service.topics):
                raise SystemExit(f"{service.name} consumes {topic} but does not create {dead_letters}")
            receivers.setdefault(topic, []).append(service.name)
            senders.setdefault(dead_letters, []).append(service.name)
            operations[f"{service.name}.receive.{topic}"] = {
                "action": "receive", "channel": _channel_ref(topic),
                "summary": f"{service.name} handles these; other message types on the topic are skipped",
                "messages": _message_refs(topic, _decoded_contracts(consumer)),
                "bindings": {"kafka": {"groupId": {"type": "string", "enum": [consumer.name]},
                                       "bindingVersion": KAFKA_BINDING}},
                "tags": [{"name": service.name}]}
            operations[f"{service.name}.send.{dead_letters}"] = {
                "action": "send", "channel": _channel_ref(dead_letters),
                "summary": f"What {consumer.name} can never handle, moved out of its way",
                "messages": [{"$ref": f"#/channels/{dead_letters}/messages/DeadLetter"}],
                "tags": [{"name": service.name}]}

    channels: dict[str, Any] = {}
    for topic in sorted({spec.topic for spec in REGISTRY}):
        specs = [spec for spec in REGISTRY if spec.topic == topic]
        # Bare documents are what channel topics carry, sent by connectors, scanners and the like.
        outside = [] if all(spec.enveloped for spec in specs) else ["systems outside the platform"]
        channels[topic] = {
            "address": topic,
            "description": f"Sent by: {_names(senders.get(topic, []) + outside)}. "
                           f"Received by: {_names(receivers.get(topic, []))}.",
            "messages": {spec.message_type: _message(spec) for spec in specs},
            "bindings": {"kafka": {"partitions": _partitions(services, topic), "bindingVersion": KAFKA_BINDING}},
        }
        if topic in receivers:
            dead_letters = topic + DEAD_LETTER_SUFFIX
            channels[dead_letters] = {
                "address": dead_letters,
                "description": f"Dead letters of {topic}: records a consumer could never handle, as they came. "
                               f"Sent by: {_names(senders[dead_letters])}. `make dlq TOPIC={topic}` lists them; "
                               "`ecomops-dlq redrive` sends them back to their topic after a fix; the sending "
                               "service's GET /v1/dead-letters lists its own and POST /v1/dead-letters/{dlq_topic}/"
                               "{partition}/{offset}/redrive hands one to its consumer again."
                               + (f" Read by: {_names(dead_letter_readers[dead_letters])}."
                                  if dead_letters in dead_letter_readers else ""),
                "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
                "bindings": {"kafka": {"partitions": DEAD_LETTER_PARTITIONS, "bindingVersion": KAFKA_BINDING}},
            }

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "ecomops platform events",
            "version": importlib.metadata.version("ecomops-common"),
            "description": (
                "Every Kafka topic of the platform: the messages on it, which service sends and which receives "
                "them (operations are tagged with the service), keys and dead-letter topics.\n\n"
                "Channel addresses are topic names as created with ECOMOPS_TOPIC_PREFIX empty, the default; a prefix "
                "is prepended to every topic name and consumer group, to isolate tenants or test runs on one "
                "cluster.\n\n"
                "Internal topics carry the event envelope (schemas/envelope.json) holding the event's payload; "
                "channel topics carry the bare JSON document. Messages sharing a Kafka key stay in order. Delivery "
                "is at least once, so consumers must take a message twice in their stride.\n\n"
                "Generated by tools/api_docs.py (`make docs`) from the services' code; `make lint` fails when this "
                "file is out of date."),
        },
        "defaultContentType": "application/json",
        "servers": {"local": {
            "host": ServiceSettings.model_fields["kafka_bootstrap_servers"].default, "protocol": "kafka",
            "description": "The broker `make up` starts (KAFKA_BOOTSTRAP_SERVERS)"}},
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {"DeadLetter": {
                "name": "DeadLetter", "title": "Dead letter",
                "summary": "A record as it came (key, value, headers), plus dlq_* headers saying why and from where",
                "contentType": "application/octet-stream",
                "headers": _headers(DEAD_LETTER_HEADERS, [name for name in DEAD_LETTER_HEADERS
                                                          if name != messaging.DLQ_PAYLOAD_TRUNCATED]),
                "payload": {"description": "The original value, byte for byte (its first 64 KiB when "
                                           "dlq_payload_truncated is set)"},
                "bindings": {"kafka": {"key": {"description": "The original key"}, "bindingVersion": KAFKA_BINDING}},
            }},
            "messageTraits": {
                "Envelope": {
                    "headers": _headers(ENVELOPE_HEADERS, ENVELOPE_REQUIRED_HEADERS),
                    "correlationId": {"location": f"$message.header#/{env.H_CORRELATION_ID}"},
                },
                "Document": {
                    "headers": _headers(DOCUMENT_HEADERS, []),
                    "correlationId": {"location": f"$message.header#/{env.H_CORRELATION_ID}"},
                },
            },
        },
    }


class _Dumper(yaml.SafeDumper):
    """Descriptions with paragraphs as literal blocks, the rest as PyYAML writes it."""


_Dumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))


# --- who may do what ------------------------------------------------------------------------------------------------


def kafka_grants(services: tuple[Service, ...]) -> dict[str, Any]:
    """Each principal's Kafka grants (ecomops_common.kafka_setup applies them): a service writes what it publishes
    and the dead-letter topics of what it consumes, reads what it consumes in its own groups, reads those
    dead-letter topics without a group (its /v1/dead-letters routes: ecomops_common.dead_letters), and may create
    the topics it starts with (runtime.topics). Its consumer groups are the ones named `<service>-service.…` (the
    control service's carry its read model's generation, so a rebuild reads from the start in new groups)."""
    principals: dict[str, Any] = {}
    for service in services:
        consumed = {consumer.topic for consumer in service.consumers}
        # a read model may consume dead-letter topics: those have none of their own
        dead_letters = {topic + DEAD_LETTER_SUFFIX for topic in consumed if not topic.endswith(DEAD_LETTER_SUFFIX)}
        created = {spec.name for spec in service.topics} | {spec.dead_letter for spec in service.topics
                                                          if spec.with_dead_letters}
        principals[service.name] = {
            "write": sorted({spec.topic for spec in service.publishes} | dead_letters),
            "read": sorted(consumed | dead_letters),
            "create": sorted(created),
            "group_prefixes": [f"{service.name}-service."],
        }
    return {"description": "Generated by tools/api_docs.py from the services' definitions; applied by "
                           "ecomops-kafka-setup. Do not edit.", "principals": {**principals, **MACHINE_GRANTS}}


def access_matrix(services: tuple[Service, ...]) -> str:
    """Every HTTP operation and the roles it takes, from the OpenAPI documents (the routes' own declarations)."""
    lines = ["# Who may call what", "",
             "Generated by `make docs` (tools/api_docs.py) from the routes' declarations; do not edit. Every route "
             "takes a bearer token of the OpenID Connect issuer (docs/identity.md) except /healthz, /readyz and "
             "/metrics; `admin` takes every route. Machine roles are bound by their token's claims: `connector` to "
             "its `channels`, `device` to its `node`, `carrier` to its `carrier`.", ""]
    for service in services:
        lines += [f"## {service.name}", "", "| Method | Path | Roles |", "|---|---|---|"]
        for path, operations in service.app.openapi()["paths"].items():
            for method in HTTP_METHODS:
                operation = operations.get(method)
                if operation is None:
                    continue
                roles = sorted({role for requirement in operation.get("security", []) for role in
                                next(iter(requirement.values()), [])} - {"admin"})
                needs = ", ".join(f"`{role}`" for role in roles) if roles else (
                    "admin only" if operation.get("security") else "none (public)")
                lines.append(f"| {method.upper()} | `{path}` | {needs} |")
        lines.append("")
    return "\n".join(lines)


def render_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True)


def render_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def control_definitions() -> str:
    """The control tower's KPIs, inbox queues and business alerts, from the control service's domain."""
    from control_service.domain import alerts, inbox, kpis
    from control_service.settings import ControlSettings

    settings = ControlSettings()
    lines = ["# KPIs, inbox queues and alerts of the control tower", "",
             "Generated by `make docs` (tools/api_docs.py) from the control service's domain; do not edit. "
             "How they are served and computed: [the control service](services/control.md).", "",
             "## KPIs", "",
             "`GET /v1/kpis/{name}?from=&to=&grain=hour|day|week|month&<filter>=` (add `format=csv` for CSV); "
             "positions (no period) ignore the window. Money KPIs are for finance-clerk, auditor, supervisor and "
             "refund-approver.", "",
             "| KPI | definition | unit | filters | by |", "|---|---|---|---|---|"]
    for kpi in kpis.KPIS.values():
        lines.append(f"| `{kpi.name}`: {kpi.title}{'' if kpi.per_period else ' (now)'} | {kpi.definition} | "
                     f"{kpi.unit} | {', '.join(kpi.filters) or '-'} | {', '.join(kpi.group_by) or '-'} |")
    entering = {"order_hold": f"{settings.hold_minutes} min after placement",
                "backorder": f"at the promised date, else {settings.backorder_days} days after backordering",
                "return_receipt_overdue": f"at the RMA's expected date, else {settings.receipt_days} days after "
                                          "authorization",
                "return_inspection_overdue": f"{settings.inspection_hours} h after receipt",
                "order_stuck": "after the status's expected time (CONTROL_STUCK_MINUTES)",
                "reconciliation_drift": f"{settings.drift_minutes} min after the two disagree"}
    lines += ["", "## Inbox queues", "",
              "An item enters its queue when it is late (else at once), shows its age since it began, and is past "
              "its SLA once the SLA runs out after it entered.", "",
              "| queue | owner role | enters | SLA | actions |", "|---|---|---|---|---|"]
    for kind in inbox.KINDS.values():
        actions = ", ".join(f"{a.name}{' (bulk)' if a.bulk else ''}" for a in kind.actions)
        sla = f"{kind.sla.total_seconds() / 3600:g} h"
        lines.append(f"| `{kind.name}`: {kind.title} | {kind.owner_role} | {entering.get(kind.name, 'at once')} "
                     f"| {sla} | {actions} |")
    lines += ["", "## Business alerts", "", "Evaluated every `CONTROL_ALERT_INTERVAL_S`; `GET /v1/alerts`, the "
              "console's overview, and Prometheus `ecomops_business_alerts_firing{kind}`: "
              + ", ".join(f"`{kind}`" for kind in alerts.KINDS) + ".", ""]
    return "\n".join(lines)


# --- the documents and the command ----------------------------------------------------------------------------------


def generate() -> dict[Path, str]:
    """Every document's text, keyed by its path relative to the repository root."""
    services = load_services()
    documents = {ASYNCAPI_FILE: render_yaml(asyncapi_document(services)),
                 ACCESS_MATRIX_FILE: access_matrix(services),
                 KAFKA_GRANTS_FILE: render_json(kafka_grants(services)),
                 CONTROL_DEFINITIONS_FILE: control_definitions()}
    for service in services:
        documents[OPENAPI_DIR / f"{service.name}.json"] = render_json(service.app.openapi())
    for name, module, factory in OTHER_APPS:
        app = getattr(importlib.import_module(module), factory)()
        documents[OPENAPI_DIR / f"{name}.json"] = render_json(app.openapi())
    return documents


def _extra_files(root: Path, documents: dict[Path, str]) -> list[Path]:
    folder = root / OPENAPI_DIR
    on_disk = {path.relative_to(root) for path in folder.glob("*.json")} if folder.is_dir() else set()
    return sorted(on_disk - set(documents))


def run_generate(root: Path) -> int:
    documents = generate()
    for relative, text in documents.items():
        path = root / relative
        if not path.is_file() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {relative}")
    for extra in _extra_files(root, documents):
        (root / extra).unlink()
        print(f"removed {extra} (no such application any more)")
    print(f"API documents generated ({len(documents)} files)")
    return 0


def run_check(root: Path) -> int:
    documents = generate()
    problems = []
    for relative, text in documents.items():
        path = root / relative
        if not path.is_file():
            problems.append(f"{relative}: missing")
        elif path.read_text() != text:
            diff = list(difflib.unified_diff(path.read_text().splitlines(), text.splitlines(), "committed",
                                             "generated", n=0, lineterm=""))
            problems.append(f"{relative}: differs from what the code generates\n      "
                            + "\n      ".join(line[:150] for line in diff[2:14]))
    problems += [f"{extra}: no application generates it any more" for extra in _extra_files(root, documents)]
    if problems:
        print("API documents are out of date:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print("run `make docs` (python tools/api_docs.py generate) and commit the result", file=sys.stderr)
        return 1
    print(f"API documents up to date ({len(documents)} files)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="api_docs.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["generate", "check"],
                        help="generate: write docs/asyncapi.yaml and docs/openapi/; check: are they current?")
    parser.add_argument("--root", type=Path, default=REPO, help="where docs/ is (default: this repository)")
    args = parser.parse_args(argv)
    return run_generate(args.root) if args.command == "generate" else run_check(args.root)


if __name__ == "__main__":
    sys.exit(main())
