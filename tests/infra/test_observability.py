"""Static checks of the observability files (deploy/helm/ecomops/files/observability/), which compose and the chart
both use: alert rules and dashboards are valid PromQL naming only metrics the code registers, and the
Prometheus, collector and Grafana configurations hang together.

PromQL is parsed with promql-parser (Python bindings of the Rust parser GreptimeDB uses, compatible with
Prometheus 3.8's PromQL); promtool builds from the Go module proxy in far more than the few minutes a test run
can spend on it on two cores.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import promql_parser
import pytest
import yaml
from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
FILES = ROOT / "deploy" / "helm" / "ecomops" / "files" / "observability"
DASHBOARDS = sorted((FILES / "grafana" / "dashboards").glob("*.json"))
COMPOSE = ROOT / "docker-compose.yml"
OBSERVABILITY_COMPOSE = ROOT / "deploy" / "observability" / "compose.yaml"
SERVICES = ["order", "allocation", "warehouse", "returns", "finance", "control", "catalog", "supply", "shipping"]
# Metrics of Prometheus itself that the files use.
PROMETHEUS_METRICS = {"up"}
_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count", "_created"),
             "summary": ("_sum", "_count", "_created"), "gauge": ("",), "info": ("_info",)}


@pytest.fixture(scope="module")
def known_metrics() -> set[str]:
    """Every series name the services can expose: the shared metrics and each service's own (its bootstrap
    imports every module that defines one), as prometheus_client names its samples."""
    importlib.import_module("ecomops_common.metrics")
    for service in SERVICES:
        importlib.import_module(f"{service}_service.bootstrap")
    names = set(PROMETHEUS_METRICS)
    for family in REGISTRY.collect():
        names |= {family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",))}
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects; a syntax error raises ValueError."""
    names: set[str] = set()

    def visit(node) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            assert node.name, f"select metrics by name: {expr}"
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def grafana_to_promql(query: str) -> str:
    """A Grafana query with its variables replaced by values of their kind."""
    query = re.sub(r"\$__(rate_interval|interval|range)\b", "5m", query)
    return re.sub(r"\$\{?\w+\}?", "x", query)


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load((FILES / "alerts.yml").read_text())["groups"] for rule in group["rules"]]


def dashboard_queries(path: Path) -> list[str]:
    board = json.loads(path.read_text())
    panels = [*board["panels"], *(p for row in board["panels"] for p in row.get("panels", []))]
    queries = [target["expr"] for panel in panels for target in panel.get("targets", [])]
    for variable in board.get("templating", {}).get("list", []):
        if variable["type"] == "query":  # label_values(<selector>, <label>): the selector is PromQL
            selector = re.fullmatch(r"label_values\((.+),\s*\w+\)", variable["query"]["query"])
            assert selector, f"{path.name}: variable {variable['name']}: not label_values(selector, label)"
            queries.append(selector[1])
    return queries


# --- alert rules -------------------------------------------------------------


def test_alerts_cover_what_the_platform_must_be_told() -> None:
    names = [rule["alert"] for rule in alert_rules()]
    assert len(names) == len(set(names))
    assert {"ConsumerLagGrowing", "OutboxOldestEventAge", "DeadLetters", "RefundsDeclined",
            "ReconciliationDrift"} <= set(names)


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_alert_rules_are_valid_and_name_existing_metrics(rule: dict, known_metrics: set[str]) -> None:
    assert set(rule) <= {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
    assert rule["labels"]["severity"] in {"warning", "critical"} and rule["annotations"]["summary"]
    if "for" in rule:
        assert re.fullmatch(r"([0-9]+[smhd])+", rule["for"])
    unknown = metric_names(rule["expr"]) - known_metrics
    assert not unknown, f"no such metric: {sorted(unknown)}"
    for template in rule["annotations"].values():  # Go templates: {{ }} balanced, only $labels and $value used
        assert template.count("{{") == template.count("}}")
        assert set(re.findall(r"\$(\w+)", template)) <= {"labels", "value"}


# --- dashboards ----------------------------------------------------------------


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboards_are_json_whose_queries_name_existing_metrics(path: Path, known_metrics: set[str]) -> None:
    board = json.loads(path.read_text())
    assert board["uid"] and board["title"]
    queries = dashboard_queries(path)
    assert queries
    for query in queries:
        unknown = metric_names(grafana_to_promql(query)) - known_metrics
        assert not unknown, f"{query}: no such metric: {sorted(unknown)}"


def test_dashboards_show_what_the_issue_asks_for() -> None:
    queries = {path.stem: " ".join(dashboard_queries(path)) for path in DASHBOARDS}
    for metric in ("ecomops_http_request_duration_seconds_count", "ecomops_http_request_duration_seconds_bucket",
                   "ecomops_consumer_group_lag", "ecomops_outbox_backlog",
                   "ecomops_outbox_oldest_unpublished_age_seconds", "ecomops_dead_letters_total",
                   "ecomops_outbox_publish_errors_total"):
        assert metric in queries["platform"], metric
    for metric in ("ecomops_order_transitions_total", "ecomops_allocation_results_total", "ecomops_backordered_units",
                   "ecomops_scans_total", "ecomops_refund_payout_answers_total"):
        assert metric in queries["business"], metric


def test_dashboards_use_the_provisioned_data_source() -> None:
    (source,) = yaml.safe_load((FILES / "grafana/provisioning/datasources/prometheus.yaml").read_text())["datasources"]
    for path in DASHBOARDS:
        uids = set(re.findall(r'"uid":\s*"([^"]+)"', path.read_text())) - {json.loads(path.read_text())["uid"]}
        assert uids == {source["uid"]}, path.name


# --- Prometheus, collector and Grafana configuration --------------------------


def test_prometheus_scrapes_every_compose_service_at_its_port() -> None:
    config = yaml.safe_load((FILES / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "ecomops"]
    scraped = {sd["names"][0]: sd["port"] for sd in job["dns_sd_configs"]}
    compose = yaml.safe_load(COMPOSE.read_text())["services"]
    for service in SERVICES:
        assert f"{scraped[service]}:{scraped[service]}" in compose[service]["ports"], service
    assert job["relabel_configs"] == [{"source_labels": ["__meta_dns_name"], "target_label": "service"}]
    assert "otel-collector" in scraped


def test_prometheus_for_kubernetes_scrapes_the_pods_that_ask_for_it() -> None:
    config = yaml.safe_load((FILES / "prometheus-kubernetes.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "ecomops"]
    relabelled = {rule.get("target_label"): rule for rule in job["relabel_configs"]}
    assert relabelled["service"]["source_labels"] == ["__meta_kubernetes_pod_container_name"]
    templates = "".join(path.read_text() for path in (ROOT / "deploy/helm/ecomops/templates").glob("*.yaml"))
    assert "prometheus.io/scrape" in templates and "prometheus.io/port" in templates


def test_collector_pipelines_use_only_configured_components() -> None:
    config = yaml.safe_load((FILES / "otel-collector.yaml").read_text())
    service = config["service"]
    assert set(service["extensions"]) <= set(config["extensions"])
    for name, pipeline in service["pipelines"].items():
        for kind in ("receivers", "processors", "exporters"):
            assert set(pipeline.get(kind, [])) <= set(config[kind]), f"{name}: {kind}"
    assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == "0.0.0.0:4318"  # OTEL_EXPORTER_OTLP_...


def test_grafana_loads_the_dashboards_from_where_they_are_mounted() -> None:
    (provider,) = yaml.safe_load((FILES / "grafana/provisioning/dashboards/ecomops.yaml").read_text())["providers"]
    grafana = yaml.safe_load(OBSERVABILITY_COMPOSE.read_text())["services"]["grafana"]
    sources = {target: source for source, target in (volume.split(":")[:2] for volume in grafana["volumes"])}
    mounted = (OBSERVABILITY_COMPOSE.parent / sources[provider["options"]["path"]]).resolve()
    assert mounted == FILES / "grafana" / "dashboards"
    assert grafana["environment"]["PROMETHEUS_URL"] == "http://prometheus:9090"


# --- the chart packages the same files ------------------------------------------


def test_the_chart_serves_the_same_files_scoped_to_its_release() -> None:
    helm_sh = ROOT / "scripts" / "tools" / "helm.sh"
    if shutil.which("go") is None and not (ROOT / ".local" / "tools" / "bin" / "helm").exists():
        pytest.skip("Go is needed to build helm (scripts/tools/helm.sh)")
    helm = subprocess.run([str(helm_sh)], capture_output=True, text=True, check=True).stdout.strip()
    rendered = subprocess.run(
        [helm, "template", "blue", str(ROOT / "deploy" / "helm" / "ecomops"), "--kube-version", "1.30.0",
         "-f", str(ROOT / "deploy" / "helm" / "ci-values" / "observability.yaml")],
        capture_output=True, text=True, check=True).stdout
    config_maps = {m["metadata"]["name"]: m["data"] for m in yaml.safe_load_all(rendered)
                   if m and m["kind"] == "ConfigMap"}
    assert config_maps["blue-ecomops-otel-collector"]["config.yaml"] == (FILES / "otel-collector.yaml").read_text()
    prometheus = config_maps["blue-ecomops-prometheus"]
    assert prometheus["alerts.yml"] == (FILES / "alerts.yml").read_text()
    scrape_configs = yaml.safe_load(prometheus["prometheus.yml"])["scrape_configs"]
    original = yaml.safe_load((FILES / "prometheus-kubernetes.yml").read_text())["scrape_configs"]
    for job, job_as_written in zip(scrape_configs, original, strict=True):
        assert job["relabel_configs"] == job_as_written["relabel_configs"]
        for discovery in job["kubernetes_sd_configs"]:  # this release's pods only
            assert discovery["selectors"] == [{"role": "pod", "label": "app.kubernetes.io/instance=blue"}]
    dashboards = config_maps["blue-ecomops-grafana-dashboards"]
    assert dashboards == {path.name: path.read_text() for path in DASHBOARDS}
