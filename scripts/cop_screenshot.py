"""Takes docs/cop.png: the demo's COP near the peak of the mascletà, in Debian's chromium.

Run: .venv/bin/python scripts/cop_screenshot.py [seconds-to-wait]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

PORT = 8765
OUT = Path(__file__).resolve().parent.parent / "docs" / "cop.png"


def main() -> int:
    wait_s = float(sys.argv[1]) if len(sys.argv) > 1 else 28.0
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "XDG_DATA_HOME": home}
        demo = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "smartspaces.cli",
                "demo",
                "--speed",
                "200",
                "--port",
                str(PORT),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
                page = browser.new_page(viewport={"width": 1366, "height": 768})
                deadline = time.monotonic() + 30
                while True:
                    try:
                        page.goto(f"http://127.0.0.1:{PORT}/")
                        break
                    except Exception:  # noqa: BLE001 - server still starting
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.5)
                # the demo's police operator (development only), as a control room signs in
                page.wait_for_selector("#login:not([hidden])")
                page.fill("#login-user", "police")
                page.fill("#login-password", "smartspaces-demo")
                page.locator("#login-form button[type=submit]").click()
                page.wait_for_selector("#login", state="hidden")
                time.sleep(wait_s)
                page.screenshot(path=str(OUT))
                browser.close()
        finally:
            demo.terminate()
            demo.wait(10)
    print(OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
