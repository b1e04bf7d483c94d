"""The committed API documents (docs/asyncapi.yaml, docs/openapi/) and their drift check, tools/api_docs.py.

The AsyncAPI 3.0 JSON Schema comes from the npm package @asyncapi/specs (scripts/tools/asyncapi-schema.sh fetches
it into .local/ once); the OpenAPI documents are checked with openapi-spec-validator (a dev dependency).
"""

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from openapi_spec_validator import validate as validate_openapi

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
ASYNCAPI = DOCS / "asyncapi.yaml"
OPENAPI_FILES = sorted((DOCS / "openapi").glob("*.json"))


@pytest.fixture(scope="module")
def api_docs():
    """tools/api_docs.py as a module: its check runs in this process (importing the services once)."""
    spec = importlib.util.spec_from_file_location("api_docs", ROOT / "tools" / "api_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def asyncapi() -> dict[str, Any]:
    return yaml.safe_load(ASYNCAPI.read_text())


def test_the_check_passes_on_the_committed_documents_and_names_each_drifted_file(api_docs, tmp_path, capsys):
    shutil.copytree(DOCS, tmp_path / "docs")
    grants = tmp_path / api_docs.KAFKA_GRANTS_FILE
    grants.parent.mkdir(parents=True)
    shutil.copy(ROOT / api_docs.KAFKA_GRANTS_FILE, grants)
    assert api_docs.main(["check", "--root", str(tmp_path)]) == 0, capsys.readouterr().err

    order = tmp_path / "docs" / "openapi" / "order.json"
    order.write_text(order.read_text().replace('"title": "Order service"', '"title": "Orders"'))
    (tmp_path / "docs" / "asyncapi.yaml").unlink()
    (tmp_path / "docs" / "openapi" / "retired.json").write_text("{}\n")
    assert api_docs.main(["check", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "docs/openapi/order.json: differs from what the code generates" in err
    assert '-    "title": "Orders",' in err  # the diff shows what changed
    assert "docs/asyncapi.yaml: missing" in err
    assert "docs/openapi/retired.json: no application generates it any more" in err
    assert "docs/openapi/allocation.json" not in err
    assert "make docs" in err

    assert api_docs.main(["generate", "--root", str(tmp_path)]) == 0
    assert api_docs.main(["check", "--root", str(tmp_path)]) == 0


def test_asyncapi_document_is_valid_asyncapi_3(asyncapi):
    schema_file = subprocess.run([ROOT / "scripts" / "tools" / "asyncapi-schema.sh"], check=True, capture_output=True,
                                 text=True).stdout.strip()
    validator = Draft7Validator(json.loads(Path(schema_file).read_text()))
    errors = [f"{error.json_path}: {error.message[:300]}" for error in validator.iter_errors(asyncapi)]
    assert not errors, "\n".join(errors)


def _refs(node: Any):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(document: Any, pointer: str) -> Any:
    for part in pointer.lstrip("/").split("/") if pointer.strip("/") else ():
        document = document[int(part) if isinstance(document, list) else part.replace("~1", "/").replace("~0", "~")]
    return document


def test_every_reference_of_the_asyncapi_document_resolves(asyncapi):
    """The JSON Schema cannot tell: in-document pointers and the schemas/ files referenced (with their own $refs)."""
    unresolved = []
    for ref in sorted(set(_refs(asyncapi))):
        target, _, pointer = ref.partition("#")
        try:
            if target:
                schema_file = (DOCS / target).resolve()
                schema = json.loads(schema_file.read_text())
                _resolve(schema, pointer)
                for inner in _refs(schema):  # pydantic's own #/$defs/... within the schema file
                    _resolve(schema, inner.partition("#")[2])
            else:
                _resolve(asyncapi, pointer)
        except (OSError, KeyError, IndexError, ValueError) as error:
            unresolved.append(f"{ref}: {error!r}")
    assert not unresolved, "\n".join(unresolved)


def test_operations_name_only_messages_of_their_channel(asyncapi):
    for name, operation in asyncapi["operations"].items():
        channel = operation["channel"]["$ref"]
        assert all(message["$ref"].startswith(channel + "/messages/") for message in operation["messages"]), name


@pytest.mark.parametrize("path", OPENAPI_FILES, ids=lambda path: path.stem)
def test_openapi_documents_are_valid(path):
    document = json.loads(path.read_text())
    validate_openapi(document)  # raises on an invalid document
    assert document["openapi"].startswith("3.") and document["paths"]
