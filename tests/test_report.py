"""The HTML report: self-contained, rendered by headless Chromium with no failed request, and
holding the ranking table and every plot; never written over an existing file."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

import mlekit as mk
from mlekit.cli import app

BEEF = Path(__file__).resolve().parents[2] / "shared" / "data" / "groundbeef.csv"
FAMILIES = "gamma,weibull,lognormal"
PLOTS = 6  # density, cdf, qq and pp of the top fits; the best fit's cdf and profile


def chromium() -> str:
    """Debian's headless Chromium; the test setup installs it where it is absent."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    if shutil.which("apt-get") and os.geteuid() == 0:
        quiet = dict(check=False, capture_output=True, timeout=600)
        if subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], **quiet).returncode:
            subprocess.run(["apt-get", "update", "-q"], **quiet)
            subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], **quiet)
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("headless Chromium is needed to render the report: apt-get install chromium")
    return found


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "beef.html"
    done = CliRunner().invoke(app, ["report", str(BEEF), "--column", "serving", "--out",
                                    str(out), "--families", FAMILIES, "--replicates", "49"])
    assert done.exit_code == 0, done.output
    return out


def test_report_is_self_contained_and_complete(page):
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and "<script" not in text
    sources = re.findall(r'(?:src|href)="([^"]*)"', text)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert len(sources) == PLOTS
    assert "Families ranked" in text and "Goodness of fit" in text and "Best fit: gamma" in text
    for name in FAMILIES.split(","):
        assert f"<td>{name}</td>" in text


async def _render(browser: str, url: str, profile: Path) -> dict:
    """Load ``url`` in headless Chromium over the DevTools protocol: the requests it made,
    those that failed, whether each image decoded, the tables, and a screenshot."""
    import asyncio
    import base64
    import json

    from tornado.httpclient import AsyncHTTPClient
    from tornado.websocket import websocket_connect

    process = subprocess.Popen(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--remote-debugging-port=0",
         f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        active = profile / "DevToolsActivePort"
        for _ in range(400):
            if active.exists() and active.read_text().strip():
                break
            await asyncio.sleep(0.05)
        port = active.read_text().split()[0]
        targets = json.loads((await AsyncHTTPClient().fetch(
            f"http://127.0.0.1:{port}/json")).body)
        socket = await websocket_connect(
            next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"],
            max_message_size=1 << 28)
        events, counter = [], iter(range(1, 1 << 30))

        async def call(method, **params):
            key = next(counter)
            socket.write_message(json.dumps({"id": key, "method": method, "params": params}))
            while True:
                message = json.loads(await socket.read_message())
                if message.get("id") == key:
                    return message["result"]
                events.append(message)

        await call("Network.enable")
        await call("Page.enable")
        await call("Page.navigate", url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in events):
            events.append(json.loads(await socket.read_message()))
        state = await call("Runtime.evaluate", returnByValue=True, expression=(
            "JSON.stringify({images: [...document.images].map(i => i.complete && "
            "i.naturalWidth > 0), tables: document.querySelectorAll('table').length, "
            "text: document.body.innerText})"))
        shot = await call("Page.captureScreenshot", format="png")
        return {"requests": [e["params"]["request"]["url"] for e in events
                             if e.get("method") == "Network.requestWillBeSent"],
                "failed": [e["params"] for e in events
                           if e.get("method") == "Network.loadingFailed"],
                **json.loads(state["result"]["value"]),
                "screenshot": base64.b64decode(shot["data"])}
    finally:
        process.kill()
        process.wait()


def test_chromium_renders_it_without_a_failed_request(page, tmp_path):
    import asyncio

    browser = chromium()
    broken = tmp_path / "broken.html"  # the check itself: a missing image is seen to fail
    broken.write_text('<html><body><img src="missing.png"></body></html>')
    control = asyncio.run(_render(browser, broken.as_uri(), tmp_path / "control"))
    assert control["failed"] and control["images"] == [False]

    seen = asyncio.run(_render(browser, page.as_uri(), tmp_path / "profile"))
    assert seen["failed"] == []
    fetched = [u for u in seen["requests"] if not u.startswith("data:image/png;base64,")]
    assert fetched == [page.as_uri()]  # the page itself; every plot is inline
    assert seen["images"] == [True] * PLOTS  # every plot decoded
    assert seen["tables"] >= 3 and "Families ranked" in seen["text"]
    (tmp_path / "report.png").write_bytes(seen["screenshot"])
    assert seen["screenshot"].startswith(b"\x89PNG") and len(seen["screenshot"]) > 20_000


def test_report_never_overwrites(page):
    before = page.read_bytes()
    done = CliRunner().invoke(app, ["report", str(BEEF), "--column", "serving", "--out",
                                    str(page), "--families", FAMILIES])
    assert done.exit_code == 2 and "not overwritten without --force" in done.stderr
    assert page.read_bytes() == before
    with pytest.raises(mk.DataError, match="force=True"):
        mk.report([1.0, 2.0, 3.0], page)
