"""Keeps the README and docs/ true to the repository: every relative link resolves (to a file, and to a heading
when it names one) and every `make <target>` they name exists. Run by `make lint`; exit 1 names each problem.

    python tools/check_docs.py [ROOT]
"""

import re
import sys
from pathlib import Path

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
MAKE_TARGET = re.compile(r"`make ([a-z][a-z-]*)(\*?)")  # `make bench-*`: some target starts so
TARGET_RULE = re.compile(r"^([a-z][a-z-]*):", re.M)


def heading_anchors(markdown: str) -> set[str]:
    """GitHub's anchors: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    for heading in re.findall(r"^#+ (.+)$", markdown, re.M):
        anchors.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return anchors


def problems(root: Path) -> list[str]:
    found = []
    targets = set(TARGET_RULE.findall((root / "Makefile").read_text()))
    targets |= set(TARGET_RULE.findall("\n".join(p.read_text() for p in (root / "mk").glob("*.mk"))))
    for page in [root / "README.md", *sorted((root / "docs").rglob("*.md"))]:
        text = page.read_text()
        where = page.relative_to(root)
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            resolved = (page.parent / path).resolve() if path else page
            if not resolved.exists():
                found.append(f"{where}: link to {target}: no such file")
            elif anchor and resolved.suffix == ".md" and anchor not in heading_anchors(resolved.read_text()):
                found.append(f"{where}: link to {target}: no heading #{anchor} there")
        for target, pattern in MAKE_TARGET.findall(text):
            if not (target in targets or pattern and any(t.startswith(target) for t in targets)):
                found.append(f"{where}: `make {target}{pattern}`: no such target in the Makefile")
    return found


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else Path(__file__).resolve().parents[1]
    found = problems(root)
    for problem in found:
        print(problem, file=sys.stderr)
    if not found:
        print("README and docs/: every relative link and make target resolves")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
