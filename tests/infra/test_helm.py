"""The Helm chart (deploy/helm/ecomops) as a cluster would get it.

Every values file in deploy/helm/ci-values/ is linted (`helm lint --strict`), rendered (`helm template`) and each
rendered manifest validated against the Kubernetes JSON schemas in strict mode (unknown fields fail) from the
kubernetes-validate package (a dev dependency). Then the hardening the chart promises is asserted on every pod:
Pod Security "restricted", resources on every container, probes, the migration hooks, names scoped to the release.
Then identity: every service takes tokens of the configured issuer and is its own Kafka principal, its password from
a Secret, never a value in a manifest; the optional Kafka setup Job applies the generated grants file.
helm is built from the Go module proxy by scripts/tools/helm.sh into .local/tools/bin (a few minutes on a cold
Go cache, then reused); without Go these tests are skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from functools import cache
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from allocation_service.settings import AllocationSettings
from catalog_service.settings import CatalogSettings
from control_service.settings import ControlSettings
from ecomops_common.settings import ServiceSettings
from finance_service.settings import FinanceSettings, is_payment_simulator
from order_service.settings import OrderSettings
from returns_service.settings import ReturnsSettings
from shipping_service.settings import ShippingSettings
from supply_service.settings import SupplySettings
from warehouse_service.settings import WarehouseSettings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "ecomops"
CI_VALUES = sorted((ROOT / "deploy" / "helm" / "ci-values").glob("*.yaml"))
KAFKA_GRANTS = CHART / "files" / "kafka-acls.json"
HELM_SH = ROOT / "scripts" / "tools" / "helm.sh"
# The oldest Kubernetes the chart is checked against (and rendered for: Capabilities.KubeVersion).
KUBERNETES_VERSION = "1.30"
NAMESPACE = "shop"
SETTINGS: dict[str, type[ServiceSettings]] = {
    "order": OrderSettings, "allocation": AllocationSettings, "warehouse": WarehouseSettings,
    "returns": ReturnsSettings, "finance": FinanceSettings, "control": ControlSettings,
    "catalog": CatalogSettings, "supply": SupplySettings, "shipping": ShippingSettings,
}
# The pods that run this repo's image (other components, e.g. observability, bring their own images and users).
ECOMOPS_COMPONENTS = {*SETTINGS, *(f"{service}-migrate" for service in SETTINGS), "payment-simulator",
                      "carrier-simulator", "kafka-setup"}
POD_OWNERS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
# Pod Security "restricted" allows only these volume types.
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret"}

# What an install must be told (templates/_helpers.tpl refuses to render without them), besides the payment provider
# and the carrier gateway.
REQUIRED_SETTINGS = ("--set", "oidc.issuer=https://id.example.com/realms/ecomops",
                     "--set", "kafka.sasl.existingSecret=ecomops-kafka-users")

# The first test builds helm on a fresh machine: a few minutes, more than the suite's default timeout.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def helm() -> str:
    if shutil.which("go") is None and not (ROOT / ".local" / "tools" / "bin" / "helm").exists():
        pytest.skip("Go is needed to build helm (scripts/tools/helm.sh)")
    built = subprocess.run([str(HELM_SH)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    return built.stdout.strip()


def run_helm(helm: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([helm, *args], capture_output=True, text=True, timeout=120)


def render(helm: str, values: Path | None = None, *extra: str, release: str = "shop") -> subprocess.CompletedProcess:
    files = ["-f", str(values)] if values else []
    return run_helm(helm, "template", release, str(CHART), "--namespace", NAMESPACE,
                    "--kube-version", f"{KUBERNETES_VERSION}.0", *files, *extra)


@cache
def _manifests(helm: str, values: Path, release: str, *extra: str) -> tuple[dict, ...]:
    result = render(helm, values, *extra, release=release)
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


@pytest.fixture(params=CI_VALUES, ids=[path.stem for path in CI_VALUES])
def values(request) -> Path:
    return request.param


@pytest.fixture
def manifests(helm: str, values: Path) -> tuple[dict, ...]:
    return _manifests(helm, values, "shop")


def of_kind(manifests, kind: str) -> list[dict]:
    return [m for m in manifests if m["kind"] == kind]


def pod_specs(manifests) -> list[tuple[dict, dict]]:
    """(owner, pod template) for everything that runs pods."""
    found = []
    for m in manifests:
        if m["kind"] in POD_OWNERS:
            found.append((m, m["spec"]["template"]))
        elif m["kind"] == "CronJob":
            found.append((m, m["spec"]["jobTemplate"]["spec"]["template"]))
    return found


def containers(pod: dict) -> list[dict]:
    return pod["spec"]["containers"] + pod["spec"].get("initContainers", [])


def component(manifest: dict) -> str:
    return manifest["metadata"]["labels"].get("app.kubernetes.io/component", "")


def env_of(container: dict) -> dict[str, dict]:
    return {item["name"]: item for item in container.get("env", [])}


def _merged(base: dict, over: dict) -> dict:
    return {**base, **{key: _merged(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict)
                       else value for key, value in over.items()}}


def values_of(path: Path) -> dict:
    """The values a release gets from this file: the chart's defaults, overridden by it (as Helm merges them)."""
    return _merged(yaml.safe_load((CHART / "values.yaml").read_text()), yaml.safe_load(path.read_text()))


def ci_values(stem: str) -> Path:
    return next(path for path in CI_VALUES if path.stem == stem)


def service_pods(manifests) -> list[tuple[str, dict]]:
    """(service, container) of every service's Deployment and migration Job."""
    found = []
    for owner, pod in pod_specs(manifests):
        service = component(owner).removesuffix("-migrate")
        if service in SETTINGS:
            (c,) = pod["spec"]["containers"]
            found.append((service, c))
    return found


# --- lint, render, Kubernetes schemas ------------------------------------------


def test_there_are_default_and_production_like_values() -> None:
    assert {"default", "production"} <= {path.stem for path in CI_VALUES}


def test_helm_lint_strict(helm: str, values: Path) -> None:
    result = run_helm(helm, "lint", "--strict", str(CHART), "-f", str(values))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_manifest_passes_the_kubernetes_schema_strictly(manifests) -> None:
    problems = []
    for m in manifests:
        try:
            kubernetes_validate.validate(m, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{m['kind']}/{m['metadata']['name']}: {'.'.join(map(str, error.path))}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"{m['kind']}/{m['metadata']['name']}: {error.message}")
    assert not problems, "\n".join(problems)


def test_the_schema_check_refuses_an_unknown_field(helm: str) -> None:
    deployment = of_kind(_manifests(helm, CI_VALUES[0], "shop"), "Deployment")[0]
    typo = {**deployment, "spec": {**deployment["spec"], "replica": 3}}
    with pytest.raises(kubernetes_validate.ValidationError, match="replica"):
        kubernetes_validate.validate(typo, KUBERNETES_VERSION, strict=True)


# --- hardening on every pod ----------------------------------------------------


def restricted_violations(pod: dict) -> list[str]:
    """Pod Security Standards, "restricted" profile (and baseline, which it includes), as far as a manifest shows."""
    spec, problems = pod["spec"], []
    pod_context = spec.get("securityContext", {})
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag):
            problems.append(flag)
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            problems.append(f"volume {volume['name']}: {sorted(kinds)}")
    if pod_context.get("runAsUser") == 0:
        problems.append("pod runs as uid 0")
    for c in containers(pod):
        context = c.get("securityContext", {})
        name = c["name"]
        if context.get("privileged"):
            problems.append(f"{name}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        if context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True:
            problems.append(f"{name}: runAsNonRoot is not true")
        if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
            problems.append(f"{name}: runs as uid 0")
        seccomp = context.get("seccompProfile", pod_context.get("seccompProfile", {})).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: seccompProfile {seccomp}")
        capabilities = context.get("capabilities", {})
        if "ALL" not in capabilities.get("drop", []):
            problems.append(f"{name}: capabilities do not drop ALL")
        if set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: adds capabilities {capabilities['add']}")
        if any(port.get("hostPort") for port in c.get("ports", [])):
            problems.append(f"{name}: hostPort")
    return problems


def test_every_pod_passes_pod_security_restricted(manifests) -> None:
    pods = pod_specs(manifests)
    assert pods
    problems = [f"{owner['kind']}/{owner['metadata']['name']}: {problem}"
                for owner, pod in pods for problem in restricted_violations(pod)]
    assert not problems, "\n".join(problems)


def test_every_ecomops_pod_is_locked_down_beyond_restricted(manifests) -> None:
    """The image's user, a read-only root filesystem with /tmp writable, and no Kubernetes API token."""
    pods = [(owner, pod) for owner, pod in pod_specs(manifests) if component(owner) in ECOMOPS_COMPONENTS]
    assert pods
    for owner, pod in pods:
        where = f"{owner['kind']}/{owner['metadata']['name']}"
        assert pod["spec"]["automountServiceAccountToken"] is False, where
        assert pod["spec"]["securityContext"]["runAsUser"] == 10001, where
        for c in containers(pod):
            assert c["securityContext"]["readOnlyRootFilesystem"] is True, (where, c["name"])
            assert "/tmp" in {mount["mountPath"] for mount in c.get("volumeMounts", [])}, (where, c["name"])


def test_every_container_has_resources(manifests) -> None:
    for owner, pod in pod_specs(manifests):
        for c in containers(pod):
            resources = c.get("resources", {})
            where = f"{owner['kind']}/{owner['metadata']['name']}/{c['name']}"
            assert {"cpu", "memory"} <= set(resources.get("requests", {})), where
            assert "memory" in resources.get("limits", {}), where


def test_every_long_running_container_has_probes(manifests) -> None:
    for owner, pod in pod_specs(manifests):
        if owner["kind"] == "Job":
            continue
        probes = ["livenessProbe", "readinessProbe"]
        if component(owner) in ECOMOPS_COMPONENTS:
            probes.append("startupProbe")
        for c in pod["spec"]["containers"]:
            for probe in probes:
                assert probe in c, (owner["metadata"]["name"], c["name"], probe)


def test_services_probe_health_and_readiness(manifests) -> None:
    deployments = [d for d in of_kind(manifests, "Deployment") if component(d) in SETTINGS]
    assert sorted(component(d) for d in deployments) == sorted(SETTINGS)
    for deployment in deployments:
        (c,) = deployment["spec"]["template"]["spec"]["containers"]
        assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
        # /readyz is 200 ("degraded") while only Kafka is down and 503 while the database is; it waits up to 2 s
        # for each, so a shorter timeout would fail it exactly while Kafka is down.
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert c["readinessProbe"]["timeoutSeconds"] >= 5


# --- migrations, settings, the payment provider ----------------------------------


def test_a_migration_hook_job_per_service(manifests) -> None:
    jobs = {component(job).removesuffix("-migrate"): job for job in of_kind(manifests, "Job")
            if component(job).endswith("-migrate")}
    assert sorted(jobs) == sorted(SETTINGS)
    deployments = {component(d): d for d in of_kind(manifests, "Deployment")}
    for service, job in jobs.items():
        annotations = job["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        assert int(annotations["helm.sh/hook-weight"]) < 0
        assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
        assert job["spec"]["backoffLimit"] >= 0 and job["spec"]["activeDeadlineSeconds"] > 0
        pod = job["spec"]["template"]["spec"]
        assert pod["restartPolicy"] == "Never"
        (c,) = pod["containers"]
        assert c["command"] == ["ecomops-migrate", "upgrade", "--service", service]
        env = env_of(c)
        prefix = service.upper()
        migration = env[f"{prefix}_MIGRATION_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        runtime = env[f"{prefix}_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert migration["key"] == "MIGRATION_DATABASE_URL" and runtime["key"] == "DATABASE_URL"
        assert migration["name"] != runtime["name"]
        # The same settings as the service it migrates, so they load and check the same way.
        (service_container,) = deployments[service]["spec"]["template"]["spec"]["containers"]
        assert env_of(service_container).items() <= env.items()


def test_service_variables_are_settings_of_that_service(manifests) -> None:
    """Each prefixed variable names a field of the service's settings (a renamed setting breaks this)."""
    for owner, pod in pod_specs(manifests):
        service = component(owner).removesuffix("-migrate")
        if service not in SETTINGS:
            continue
        settings = SETTINGS[service]
        prefix = settings.model_config["env_prefix"]
        assert prefix == f"{service.upper()}_"
        (c,) = pod["spec"]["containers"]
        for name in env_of(c):
            if name.startswith(prefix):
                assert name.removeprefix(prefix).lower() in settings.model_fields, (owner["metadata"]["name"], name)


def test_finance_never_pays_through_the_simulator_in_production(manifests) -> None:
    finance = next(d for d in of_kind(manifests, "Deployment") if component(d) == "finance")
    env = env_of(finance["spec"]["template"]["spec"]["containers"][0])
    url = env["FINANCE_PAYMENT_PROVIDER_URL"]["value"]
    simulators = [d for d in of_kind(manifests, "Deployment") if component(d) == "payment-simulator"]
    if env["FINANCE_ENVIRONMENT"]["value"] == "production":
        assert not simulators and not is_payment_simulator(url), url
    elif simulators:
        # The settings' rule recognises the simulator's release-scoped Service.
        assert is_payment_simulator(url) and simulators[0]["metadata"]["name"] in url


# --- identity: the issuer, each service's Kafka principal, the setup Job -------------------


def test_services_take_tokens_of_the_configured_issuer(manifests, values: Path) -> None:
    oidc = values_of(values)["oidc"]
    assert oidc["issuer"]
    for service, c in service_pods(manifests):
        env = env_of(c)
        wanted = {"OIDC_ISSUER": oidc["issuer"], "OIDC_AUDIENCE": oidc["audience"],
                  "OIDC_ROLES_CLAIM": oidc["rolesClaim"], "OIDC_CONSOLE_CLIENT_ID": oidc["consoleClientId"]}
        if oidc["jwksUrl"]:
            wanted["OIDC_JWKS_URL"] = oidc["jwksUrl"]
        assert {name: env[name]["value"] for name in env if name.startswith("OIDC_")} == wanted, service


def test_no_static_api_token_and_no_secret_as_a_value(manifests) -> None:
    """Production refuses the static token, so the chart has none; credentials come from Secrets only."""
    for owner, pod in pod_specs(manifests):
        for c in containers(pod):
            for name, item in env_of(c).items():
                where = (owner["metadata"]["name"], c["name"], name)
                assert not name.endswith("_API_TOKEN"), where
                if any(word in name for word in ("PASSWORD", "TOKEN", "SECRET")):
                    assert "value" not in item and "secretKeyRef" in item["valueFrom"], where


def test_each_service_is_its_own_kafka_principal_with_its_password_from_the_secret(manifests, values: Path) -> None:
    kafka = values_of(values)["kafka"]
    protocol = kafka["security"]["protocol"]
    for service, c in service_pods(manifests):
        env = env_of(c)
        assert env["KAFKA_SECURITY_PROTOCOL"]["value"] == protocol
        if not protocol.startswith("SASL_"):
            assert not [name for name in env if name.startswith("KAFKA_SASL_")], service
            continue
        assert env["KAFKA_SASL_MECHANISM"]["value"] == kafka["sasl"]["mechanism"]
        assert env["KAFKA_SASL_USERNAME"]["value"] == service
        password = env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert password == {"name": kafka["sasl"]["existingSecret"], "key": f"kafka-{service}"}


def test_production_takes_kafka_over_sasl_ssl_with_the_brokers_ca(helm: str) -> None:
    manifests = _manifests(helm, ci_values("production"), "shop")
    ca_secret = values_of(ci_values("production"))["kafka"]["tls"]["caSecret"]
    for owner, pod in pod_specs(manifests):
        if component(owner).removesuffix("-migrate") not in SETTINGS:
            continue
        (c,) = pod["spec"]["containers"]
        env = env_of(c)
        assert env["KAFKA_SECURITY_PROTOCOL"]["value"] == "SASL_SSL"
        ca_file = Path(env["KAFKA_SSL_CAFILE"]["value"])
        mount = next(m for m in c["volumeMounts"] if m["name"] == "kafka-ca")
        assert mount["readOnly"] is True and ca_file.parent == Path(mount["mountPath"])
        (volume,) = [v for v in pod["spec"]["volumes"] if v["name"] == "kafka-ca"]
        assert volume["secret"] == {"secretName": ca_secret, "items": [{"key": "ca.crt", "path": ca_file.name}]}
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"].startswith("http")


def test_the_services_production_settings_accept_what_the_chart_renders(helm: str, monkeypatch) -> None:
    """Each Deployment's environment, its Secrets' keys filled in, passes the settings' production guard (an issuer,
    SASL for Kafka, no static token)."""
    for deployment in of_kind(_manifests(helm, ci_values("production"), "shop"), "Deployment"):
        service = component(deployment)
        if service not in SETTINGS:
            continue
        for name in list(os.environ):
            if name.startswith(("KAFKA_", "OIDC_", "OTEL_", "ECOMOPS_", f"{service.upper()}_")):
                monkeypatch.delenv(name)
        (c,) = deployment["spec"]["template"]["spec"]["containers"]
        for name, item in env_of(c).items():
            key = item.get("valueFrom", {}).get("secretKeyRef", {}).get("key")
            if key is None:
                monkeypatch.setenv(name, item["value"])
            elif key == "DATABASE_URL":
                monkeypatch.setenv(name, f"postgresql+asyncpg://{service}_app:Xk29-vQ7@db:5432/{service}")
            else:  # a Kafka password
                monkeypatch.setenv(name, f"{key}-Vr81-pL4")
        settings = SETTINGS[service]()
        assert settings.environment == "production" and settings.oidc_issuer and settings.kafka.sasl, service


def test_the_kafka_setup_job_applies_the_generated_grants_before_the_services(manifests, values: Path) -> None:
    kafka = values_of(values)["kafka"]
    jobs = [job for job in of_kind(manifests, "Job") if component(job) == "kafka-setup"]
    if not kafka["setup"]["enabled"]:
        assert not jobs and not [m for m in manifests if component(m) == "kafka-grants"]
        return
    (job,) = jobs
    (grants,) = [m for m in of_kind(manifests, "ConfigMap") if component(m) == "kafka-grants"]
    for hook in (job, grants):
        assert hook["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    # The ConfigMap exists before the Job that mounts it starts.
    assert int(grants["metadata"]["annotations"]["helm.sh/hook-weight"]) < int(
        job["metadata"]["annotations"]["helm.sh/hook-weight"])
    assert json.loads(grants["data"]["kafka-acls.json"]) == json.loads(KAFKA_GRANTS.read_text())
    pod = job["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    command = c["command"]
    assert command[0] == "ecomops-kafka-setup" and "--development" not in command
    grants_file = Path(command[command.index("--grants") + 1])
    passwords_dir = command[command.index("--passwords-dir") + 1]
    (grants_mount,) = [m for m in mounts.values() if m["mountPath"] == str(grants_file.parent)]
    assert volumes[grants_mount["name"]]["configMap"]["name"] == grants["metadata"]["name"]
    (passwords_mount,) = [m for m in mounts.values() if m["mountPath"] == passwords_dir]
    assert grants_mount["readOnly"] and passwords_mount["readOnly"]
    assert volumes[passwords_mount["name"]]["secret"]["secretName"] == kafka["sasl"]["existingSecret"]
    env = env_of(c)
    assert env["KAFKA_SECURITY_PROTOCOL"]["value"].startswith("SASL_")
    admin = env["KAFKA_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]
    assert admin == {"name": kafka["setup"]["adminSecret"], "key": "password"}


def test_services_send_traces_to_the_release_collector_unless_told_otherwise(helm: str) -> None:
    observability = next(path for path in CI_VALUES if path.stem == "observability")
    for extra, wanted in [((), "http://other-ecomops-otel-collector:4318"),
                          (("--set", "otel.endpoint=http://central:4318"), "http://central:4318")]:
        for owner, pod in pod_specs(_manifests(helm, observability, "other", *extra)):
            if component(owner) in SETTINGS:
                (c,) = pod["spec"]["containers"]
                assert env_of(c)["OTEL_EXPORTER_OTLP_ENDPOINT"]["value"] == wanted


def test_production_values_scale_spread_and_expose(helm: str) -> None:
    manifests = _manifests(helm, next(path for path in CI_VALUES if path.stem == "production"), "shop")
    scaled = {hpa["spec"]["scaleTargetRef"]["name"] for hpa in of_kind(manifests, "HorizontalPodAutoscaler")}
    for deployment in (d for d in of_kind(manifests, "Deployment") if component(d) in SETTINGS):
        # With an autoscaler the Deployment leaves its replica count alone (an upgrade would reset it).
        assert ("replicas" in deployment["spec"]) == (deployment["metadata"]["name"] not in scaled)
        assert deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert len(of_kind(manifests, "PodDisruptionBudget")) == len(SETTINGS)
    (ingress,) = of_kind(manifests, "Ingress")
    assert ingress["spec"]["tls"] and ingress["spec"]["ingressClassName"]
    services = {s["metadata"]["name"] for s in of_kind(manifests, "Service")}
    backends = {path["backend"]["service"]["name"] for rule in ingress["spec"]["rules"]
                for path in rule["http"]["paths"]}
    assert backends and backends <= services


# --- names and selectors scoped to the release -------------------------------------


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


def selectors(manifests) -> list[tuple[str, dict[str, str]]]:
    found = []
    for m in manifests:
        if m["kind"] == "Service":
            found.append((f"Service/{m['metadata']['name']}", m["spec"]["selector"]))
        elif m["kind"] in ("Deployment", "PodDisruptionBudget"):
            found.append((f"{m['kind']}/{m['metadata']['name']}", m["spec"]["selector"]["matchLabels"]))
    return found


def test_each_selector_picks_exactly_its_own_pods(manifests) -> None:
    """A Service or PDB selects one workload's pods only: not another component's, nor a migration Job's."""
    pods = [(f"{owner['kind']}/{owner['metadata']['name']}", pod["metadata"]["labels"])
            for owner, pod in pod_specs(manifests)]
    for name, selector in selectors(manifests):
        matched = [pod for pod, labels in pods if selects(selector, labels)]
        assert len(matched) == 1 and not matched[0].startswith("Job/"), (name, matched)


def object_names(manifests) -> set[tuple[str, str]]:
    return {(m["kind"], m["metadata"]["name"]) for m in manifests}


def test_two_releases_share_a_namespace(helm: str, values: Path) -> None:
    blue, green = _manifests(helm, values, "blue"), _manifests(helm, values, "green")
    assert not object_names(blue) & object_names(green)
    for name, selector in selectors(blue):
        for _owner, pod in pod_specs(green):
            assert not selects(selector, pod["metadata"]["labels"]), name
    for m in blue:
        assert m["metadata"]["labels"]["app.kubernetes.io/instance"] == "blue", m["metadata"]["name"]


# --- refusals --------------------------------------------------------------------


@pytest.mark.parametrize("setting, refused", [
    ("enviroment=production", "enviroment"),
    ("services.order.replica=3", "replica"),
    ("kafka.bootstrapServer=kafka:9092", "bootstrapServer"),
    ("paymentSimulator.enable=true", "enable"),
    ("services.order.paymentProviderUrl=https://payments.example.com", "paymentProviderUrl"),
    ("kafka.securityProtocol=SASL_SSL", "securityProtocol"),
    ("oidc.issuer=id.example.com/realms/ecomops", "issuer"),
    # The setup Job creates SCRAM-SHA-512 credentials: the services must use that mechanism.
    ("kafka.setup.enabled=true,kafka.sasl.mechanism=SCRAM-SHA-256", "SCRAM-SHA-512"),
])
def test_the_values_schema_refuses_typos(helm: str, setting: str, refused: str) -> None:
    result = render(helm, CI_VALUES[0], "--set", setting)
    assert result.returncode != 0
    assert "schema" in result.stderr and refused in result.stderr, result.stderr


@pytest.mark.parametrize("values_file, setting, named", [
    ("default", "oidc.issuer=", "oidc.issuer"),
    ("default", "kafka.sasl.existingSecret=", "kafka.sasl.existingSecret"),
    ("kafka-setup", "kafka.setup.adminSecret=", "kafka.setup.adminSecret"),
    ("production", "kafka.security.protocol=SSL", "refuse Kafka without SASL"),
])
def test_what_an_install_needs_is_refused_when_missing(helm: str, values_file: str, setting: str, named: str) -> None:
    result = render(helm, ci_values(values_file), "--set", setting)
    assert result.returncode != 0
    assert named in result.stderr, result.stderr


PROVIDER = ("--set", "services.finance.paymentProviderUrl=https://payments.example.com")


@pytest.mark.parametrize(("given", "named"), [
    ((), "services.finance.paymentProviderUrl"),  # the chart's defaults: simulators off, no provider URL
    (PROVIDER, "services.shipping.carrierUrl"),
])
def test_without_a_simulator_its_real_counterpart_is_required(helm: str, given: tuple[str, ...], named: str) -> None:
    result = render(helm, None, *REQUIRED_SETTINGS, *given)
    assert result.returncode != 0
    assert named in result.stderr, result.stderr


@pytest.mark.parametrize("enabled", [("paymentSimulator.enabled=true",),
                                     ("carrierSimulator.enabled=true", *PROVIDER[1:])])
def test_the_simulators_are_refused_in_production(helm: str, enabled: tuple[str, ...]) -> None:
    result = render(helm, None, *REQUIRED_SETTINGS, *(part for setting in enabled for part in ("--set", setting)))
    assert result.returncode != 0
    assert "refuses the simulator in production" in result.stderr, result.stderr

