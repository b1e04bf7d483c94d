"""The JSON Schemas of every contract, committed under schemas/, and the compatibility rules they obey.

`ecomops-schemas generate` writes `schemas/<topic>/<message_type>.json` (and `schemas/envelope.json`)
from contracts.REGISTRY, but refuses to overwrite a committed schema with an incompatible one: a
published topic version is a promise to producers and consumers alike, so a breaking change needs a
new topic version (`<context>.<stream>.v2`). `ecomops-schemas check` (CI) fails when the committed
files are not what the models generate.

Schemas are in pydantic's validation mode: they describe what a consumer accepts.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ecomops_common.contracts import REGISTRY
from ecomops_common.envelope import EventEnvelope

SCHEMAS_DIR = "schemas"
ENVELOPE_FILE = Path(SCHEMAS_DIR) / "envelope.json"


# --- generating -----------------------------------------------------------------------------------


def generate() -> dict[Path, dict]:
    """Every schema, keyed by its path relative to the repository root."""
    schemas: dict[Path, dict] = {}
    for spec in REGISTRY:
        schema = spec.model.model_json_schema(mode="validation")
        schema.update({"$id": f"{spec.topic}/{spec.message_type}", "title": spec.message_type})
        schemas[Path(SCHEMAS_DIR) / spec.topic / f"{spec.message_type}.json"] = schema
        if spec.enveloped and ENVELOPE_FILE not in schemas:
            envelope = EventEnvelope.model_json_schema(mode="validation")
            envelope.update({"$id": "envelope", "title": "EventEnvelope"})
            schemas[ENVELOPE_FILE] = envelope
    return schemas


def render(schema: dict) -> str:
    """The committed text: stable key order, so a diff shows only real changes."""
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def find_root(start: Path | None = None) -> Path:
    """The nearest parent holding schemas/ or the uv workspace's pyproject.toml."""
    starts = [start] if start else [Path.cwd(), Path(__file__).resolve()]
    for origin in starts:
        for directory in [origin, *origin.parents]:
            if (directory / SCHEMAS_DIR).is_dir() or _is_workspace_root(directory):
                return directory
    raise SystemExit("cannot find the repository root (a directory with schemas/); pass --root")


def _is_workspace_root(directory: Path) -> bool:
    pyproject = directory / "pyproject.toml"
    return pyproject.is_file() and "[tool.uv.workspace]" in pyproject.read_text()


def committed_files(root: Path) -> set[Path]:
    """Schema files on disk, relative to root."""
    folder = root / SCHEMAS_DIR
    return {path.relative_to(root) for path in folder.rglob("*.json")} if folder.is_dir() else set()


# --- compatibility --------------------------------------------------------------------------------


def compatibility_problems(old: dict, new: dict) -> list[str]:
    """Why `new` cannot replace the published `old` on the same topic version; empty when it can.

    Compatible: new optional properties, new enum values, nullable where it was not, descriptions,
    titles, examples. Breaking: removed properties, changed types ($ref targets, format, pattern
    included), removed enum values, null no longer accepted, new required properties, optional
    properties becoming required, anywhere in the document (nested objects and $defs via $ref).
    """
    problems: list[str] = []
    _compare(old, new, old.get("title", "<root>"), old, new, problems, set())
    return problems


def _compare(old: dict, new: dict, path: str, old_root: dict, new_root: dict,
             problems: list[str], compared_refs: set[tuple[str, str]]) -> None:
    old_options, new_options = _alternatives(old), _alternatives(new)
    if _accepts_null(old_options) and not _accepts_null(new_options):
        problems.append(f"{path}: no longer accepts null (nullable removed)")
    old_by_kind = {_kind(option): option for option in old_options if not _is_null(option)}
    new_by_kind = {_kind(option): option for option in new_options if not _is_null(option)}
    if old_by_kind.keys() != new_by_kind.keys():
        problems.append(f"{path}: type changed from {' | '.join(old_by_kind) or 'null'} "
                        f"to {' | '.join(new_by_kind) or 'null'}")
        return
    for kind, old_option in old_by_kind.items():
        new_option = new_by_kind[kind]
        if "$ref" in old_option:
            refs = (old_option["$ref"], new_option["$ref"])
            if refs not in compared_refs:  # shared or recursive definitions are compared once
                compared_refs.add(refs)
                _compare(_resolve(old_root, refs[0]), _resolve(new_root, refs[1]), path, old_root, new_root,
                         problems, compared_refs)
        else:
            _compare_node(old_option, new_option, path, old_root, new_root, problems, compared_refs)


def _compare_node(old: dict, new: dict, path: str, old_root: dict, new_root: dict,
                  problems: list[str], compared_refs: set[tuple[str, str]]) -> None:
    """Two schemas of the same type: their constraints, then what they contain."""
    old_values, new_values = _enum_values(old), _enum_values(new)
    if old_values is None and new_values is not None:
        problems.append(f"{path}: restricted to the enum values {', '.join(map(str, new_values))}")
    elif old_values is not None and new_values is not None:
        removed = [value for value in old_values if value not in new_values]
        if removed:
            problems.append(f"{path}: enum values removed: {', '.join(map(str, removed))} "
                            "(adding enum values is allowed, removing them is not)")
    for keyword in ("format", "pattern"):
        if old.get(keyword) != new.get(keyword):
            problems.append(f"{path}: {keyword} changed from {old.get(keyword)!r} to {new.get(keyword)!r}")

    old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
    old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
    for name, old_property in old_properties.items():
        if name not in new_properties:
            problems.append(f"{path}.{name}: property removed")
            continue
        if name in new_required and name not in old_required:
            problems.append(f"{path}.{name}: optional property became required")
        _compare(old_property, new_properties[name], f"{path}.{name}", old_root, new_root, problems,
                 compared_refs)
    for name in sorted(new_required - set(old_properties)):
        problems.append(f"{path}.{name}: new required property (new properties must be optional)")

    for keyword, suffix in (("items", "[]"), ("additionalProperties", "{}")):
        if isinstance(old.get(keyword), dict) and isinstance(new.get(keyword), dict):
            _compare(old[keyword], new[keyword], path + suffix, old_root, new_root, problems, compared_refs)


def _alternatives(schema: dict) -> list[dict]:
    """A schema as the options it accepts: anyOf/oneOf members, or one per entry of a `type` list."""
    if len(schema.get("allOf", ())) == 1:  # older pydantic wraps a $ref with siblings in allOf
        schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
    for keyword in ("anyOf", "oneOf"):
        if keyword in schema:
            return [option for member in schema[keyword] for option in _alternatives(member)]
    if isinstance(schema.get("type"), list):
        return [{**schema, "type": type_name} for type_name in schema["type"]]
    return [schema]


def _is_null(schema: dict) -> bool:
    return schema.get("type") == "null"


def _accepts_null(options: list[dict]) -> bool:
    return any(_is_null(option) for option in options)


def _kind(schema: dict) -> str:
    """What a schema is, for messages and matching: the $ref'd definition's name, else its type."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "type" in schema:
        return schema["type"]
    if "enum" in schema or "const" in schema:
        return "enum"
    return "any"


def _enum_values(schema: dict) -> list | None:
    if "enum" in schema:
        return schema["enum"]
    if "const" in schema:
        return [schema["const"]]
    return None


def _resolve(root: dict, ref: str) -> dict:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, not {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


# --- the command ----------------------------------------------------------------------------------

BREAKING_HINT = ("A breaking change needs a new topic version: add a `<context>.<stream>.v2` topic (and its "
                 "contract) and keep publishing v1 until its consumers have moved.")


def _read(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _problems_against_committed(root: Path, schemas: dict[Path, dict]) -> list[str]:
    problems = []
    for relative, schema in schemas.items():
        committed = _read(root / relative)
        if committed is not None:
            problems += [f"{relative}: {problem}" for problem in compatibility_problems(committed, schema)]
    return problems


def _orphans(root: Path, schemas: dict[Path, dict]) -> list[Path]:
    return sorted(committed_files(root) - set(schemas))


def run_generate(root: Path) -> int:
    schemas = generate()
    problems = _problems_against_committed(root, schemas)
    if problems:
        print("refusing to overwrite committed schemas with incompatible changes:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print(BREAKING_HINT, file=sys.stderr)
        return 1
    written = 0
    for relative, schema in schemas.items():
        path, text = root / relative, render(schema)
        if not path.is_file() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            written += 1
            print(f"wrote {relative}")
    for orphan in _orphans(root, schemas):
        print(f"warning: {orphan} has no contract any more; removing a published contract breaks its "
              "consumers (`ecomops-schemas check` fails until the file is deleted deliberately)",
              file=sys.stderr)
    print(f"schemas generated ({len(schemas)} files, {written} changed)")
    return 0


def run_check(root: Path) -> int:
    schemas = generate()
    problems = []
    for relative, schema in schemas.items():
        path = root / relative
        if not path.is_file():
            problems.append(f"{relative}: missing")
        elif path.read_text() != render(schema):
            problems.append(f"{relative}: differs from the model")
    incompatible = _problems_against_committed(root, schemas)
    for orphan in _orphans(root, schemas):
        problems.append(f"{orphan}: no contract exists for it any more (a published contract was removed)")
    if problems or incompatible:
        print("schemas are out of date:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        if incompatible:
            print("and the models changed incompatibly:", file=sys.stderr)
            for problem in incompatible:
                print(f"  - {problem}", file=sys.stderr)
            print(BREAKING_HINT, file=sys.stderr)
        else:
            print("run `make schemas` (ecomops-schemas generate) and commit the result", file=sys.stderr)
        return 1
    print(f"schemas up to date ({len(schemas)} files)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ecomops-schemas", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["generate", "check"],
                        help="generate: write schemas/, refusing breaking changes; check: is it current?")
    parser.add_argument("--root", type=Path, help="repository root (default: found from the working dir)")
    args = parser.parse_args(argv)
    root = args.root.resolve() if args.root else find_root()
    return run_generate(root) if args.command == "generate" else run_check(root)


if __name__ == "__main__":
    sys.exit(main())
