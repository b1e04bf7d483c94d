"""A real browser for end-to-end tests: Debian's Chromium (scripts/tools/chromium.sh installs it) driven by
Playwright's async API on the session's event loop. Playwright's own browser downloads are never used.

The console's public address is http://127.0.0.1:8006 (CONSOLE_URL), whose redirect URI the identity provider
accepts (deploy/keycloak/ecomops-realm.json); the browser reaches it at the session's `console_port`, where the tests
run the control service, so a developer's own stack on 8006 is left alone:

    async def test_console(page, stack):  # the stack's control service listens on console_port
        await page.goto(f"{CONSOLE_URL}/console/")
        await screenshot(page, "console-home")

Fixtures (imported by tests/e2e/conftest.py): `console_port`, a free port for the session; `browser`, one
Chromium per session; `page`, a page in a fresh context (no cookies or storage of another test), 15 s default
timeout. Screenshots stay after the run in .local/artifacts/screenshots/<name>.png."""

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from ecomops_common.testing.infrastructure import repo_root
from ecomops_common.testing.plugin import free_port

CHROMIUM_SH = repo_root() / "scripts" / "tools" / "chromium.sh"
SCREENSHOTS = repo_root() / ".local" / "artifacts" / "screenshots"
# Headless without a sandbox (tests run as root), and nothing that reaches beyond this machine: without the
# networking flags Chromium keeps trying Google's hosts, which this machine's closed network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DEFAULT_TIMEOUT_MS = 15_000
# The console's public address: a redirect URI of the console's client at the identity provider.
CONSOLE_ADDRESS = "127.0.0.1:8006"
CONSOLE_URL = f"http://{CONSOLE_ADDRESS}"


def chromium_executable() -> str:
    """Chromium's path, installed first if missing; fails the tests (never skips them) when it cannot be had."""
    result = subprocess.run([str(CHROMIUM_SH)], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        pytest.fail(f"no Chromium for the browser tests ({CHROMIUM_SH} exited {result.returncode}):\n"
                    f"{result.stderr}", pytrace=False)
    return result.stdout.strip()


@pytest.fixture(scope="session")
def console_port() -> int:
    """Where the tests run the control service whose console the browser knows as CONSOLE_URL."""
    return free_port()


@pytest.fixture(scope="session")
async def browser(console_port: int) -> AsyncIterator[Browser]:
    executable = chromium_executable()
    # Chromium connects to the console's public host and port at the test's port: the URLs, the Host header,
    # redirects and cookies stay exactly what a person's browser has.
    console = f"127.0.0.1:{console_port}"
    mapping = f"--host-resolver-rules=MAP {CONSOLE_ADDRESS} {console}, MAP localhost:8006 {console}"
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=executable, args=[*CHROMIUM_ARGS, mapping])
        yield chromium
        await chromium.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def screenshot(page: Page, name: str) -> Path:
    """The whole page as .local/artifacts/screenshots/<name>.png (replacing an older one); returns its path."""
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=path, full_page=True)
    return path

