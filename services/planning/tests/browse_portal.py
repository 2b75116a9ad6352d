"""Headless Chromium on the portal, as a resident uses it (run by ``test_portal_browser`` in a
process of its own, away from the test's eventlet hub):

    python browse_portal.py BASE_URL SCREENSHOT_DIR

Opens the list, chooses a year in the form and submits it, opens the first project, and prints one
JSON line: what it saw, every console message of level error and every page error, the screenshots.
Debian's ``chromium`` (``CHROMIUM``, default /usr/bin/chromium) is driven by playwright; playwright's
own browsers are never downloaded."""

import json
import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browse(base: str, out: Path) -> dict:
    seen: dict = {"errors": [], "screenshots": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=ARGS)
        try:
            for name, viewport in (
                ("desktop", {"width": 1280, "height": 900}),
                ("phone", {"width": 390, "height": 844}),
            ):
                page = browser.new_page(viewport=viewport, locale="zh-CN")
                page.on(
                    "console",
                    lambda m: seen["errors"].append(f"console {m.type}: {m.text}") if m.type == "error" else None,
                )
                page.on("pageerror", lambda e: seen["errors"].append(f"page error: {e}"))
                page.on("requestfailed", lambda r: seen["errors"].append(f"request failed: {r.url}"))
                answer = page.goto(f"{base}/portal/")
                seen[f"{name}_list_status"] = answer.status if answer else None
                seen[f"{name}_list_summary"] = page.inner_text("#summary")
                page.select_option("#f-year", "2027")
                with page.expect_navigation():
                    page.click("button[type=submit]")
                seen[f"{name}_filtered_url"] = page.url
                seen[f"{name}_filtered_summary"] = page.inner_text("#summary")
                seen[f"{name}_chart"] = page.inner_text("figure.chart figcaption")
                shot = out / f"portal-list-{name}.png"
                page.screenshot(path=str(shot), full_page=True)
                seen["screenshots"].append(str(shot))
                with page.expect_navigation():
                    page.click("table.projects tbody th a >> nth=0")
                seen[f"{name}_project_title"] = page.inner_text("h1")
                seen[f"{name}_project_lang"] = page.get_attribute("html", "lang")
                shot = out / f"portal-project-{name}.png"
                page.screenshot(path=str(shot), full_page=True)
                seen["screenshots"].append(str(shot))
                page.close()
        finally:
            browser.close()
    return seen


if __name__ == "__main__":
    base_url, folder = sys.argv[1], Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    print(json.dumps(browse(base_url, folder), ensure_ascii=False))
