"""The real app in a real browser: every page loads, is screenshotted, and logs no console error."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboards import i18n
from dashboards.cli import streamlit_command

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PAGES = ["overview", "rules", "thresholds", "cases", "audit", "models", "data_quality"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(dashboard_home: Path, tmp_path: Path) -> Iterator[str]:
    """The dashboard served by `streamlit run` on a free localhost port, against the test home."""
    port = free_port()
    log = (tmp_path / "streamlit.log").open("w")
    env = dict(os.environ, CARDWATCH_HOME=str(dashboard_home), PYTHONUNBUFFERED="1")
    server = subprocess.Popen(
        streamlit_command("127.0.0.1", port), env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()[-2000:]}"
                )
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def settle(page, title: str) -> None:
    """Wait until the page shows its title and the script has finished running."""
    page.get_by_role("heading", name=title, level=1).wait_for(timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(1500)


def screenshot(page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the window to fit it first."""
    height = page.evaluate(
        '() => Math.max(...[...document.querySelectorAll(\'[data-testid="stMain"], [data-testid="stMainBlockContainer"]\')]'
        ".map(element => element.scrollHeight), 1000)"
    )
    page.set_viewport_size({"width": 1500, "height": min(int(height) + 120, 12000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1500, "height": 1000})


def choose(page, label: str, option: str) -> None:
    page.get_by_test_id("stSidebar").get_by_label(label).click()
    page.get_by_role("option", name=option, exact=True).click()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (apt-get install chromium)")
def test_every_page_in_a_real_browser(served: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    shots = tmp_path / "screenshots"
    shots.mkdir()
    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            viewport={"width": 1500, "height": 1000},
        )
        try:
            page = browser.new_page()
            page.on(
                "console",
                lambda message: (
                    message.type == "error"
                    and problems.append(f"console: {message.text} ({message.location.get('url', '')})")
                ),
            )
            page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.goto(served)
            settle(page, i18n.label("page_overview", "ko"))
            page.get_by_test_id("stSidebar").get_by_text("English", exact=True).click()
            settle(page, i18n.label("page_overview", "en"))
            choose(page, i18n.label("role", "en"), i18n.named(i18n.ROLE_LABELS, "lead", "en"))
            settle(page, i18n.label("page_overview", "en"))
            for name in PAGES:
                title = i18n.label(f"page_{name}", "en")
                page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
                settle(page, title)
                assert not page.get_by_test_id("stException").count(), f"{name}: exception on the page"
                screenshot(page, shots / f"{name}.png")
            page.get_by_test_id("stSidebar").get_by_text("한국어", exact=True).click()
            settle(page, i18n.label("page_data_quality", "ko"))
            page.get_by_test_id("stSidebarNav").get_by_text(
                i18n.label("page_overview", "ko"), exact=True
            ).click()
            settle(page, i18n.label("page_overview", "ko"))
            screenshot(page, shots / "overview_ko.png")
        finally:
            browser.close()
    target = os.environ.get("CARDWATCH_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in shots.glob("*.png"):
            (Path(target) / shot.name).write_bytes(shot.read_bytes())
    assert sorted(path.stem for path in shots.glob("*.png")) == sorted([*PAGES, "overview_ko"])
    assert not problems, "\n".join(problems)
