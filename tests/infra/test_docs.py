"""tools/check_docs.py: the README and docs/ link only to what exists and name only make targets that exist."""

import importlib.util
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check_docs", ROOT / "tools" / "check_docs.py")
check_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_docs)


def test_the_readme_and_docs_resolve():
    assert check_docs.problems(ROOT) == []


def test_a_broken_link_anchor_or_make_target_is_named(tmp_path):
    for name in ("README.md", "Makefile"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copytree(ROOT / "mk", tmp_path / "mk")
    page = tmp_path / "docs" / "delivery.md"
    page.write_text(page.read_text() + "\nSee [gone](services/gone.md), [x](operations.md#no-such-heading) and "
                                       "`make deploy-everything`.\n")
    assert check_docs.problems(tmp_path) == [
        "docs/delivery.md: link to services/gone.md: no such file",
        "docs/delivery.md: link to operations.md#no-such-heading: no heading #no-such-heading there",
        "docs/delivery.md: `make deploy-everything`: no such target in the Makefile",
    ]
