"""The run's figures, printed at the end of the session for whoever quotes them."""

from dataclasses import dataclass, field

import pytest


@dataclass
class FuzzStats:
    operations: int = 0
    requests: int = 0
    server_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


STATS = pytest.StashKey[FuzzStats]()


@pytest.fixture
def fuzz_stats(request) -> FuzzStats:
    return request.config.stash.setdefault(STATS, FuzzStats())


def pytest_terminal_summary(terminalreporter, config) -> None:
    stats = config.stash.get(STATS, None)
    if stats is not None:
        terminalreporter.write_line(
            f"API fuzz: {stats.operations} operations, {stats.requests} requests, "
            f"{len(stats.server_errors)} server errors, {stats.seconds:.0f} s")
