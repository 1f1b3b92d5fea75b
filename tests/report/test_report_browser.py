"""A real headless Chromium opens the pack: no console errors, no network requests, and a
screenshot. The harness is checked first on a page that does make a request, so a silent
harness cannot pass the pack by accident."""

from report_browser import visit

from report.pack import HTML_NAME


def test_the_harness_sees_requests_and_console_errors(tmp_path):
    page = tmp_path / "leaky.html"
    page.write_text(
        '<html><body><img src="http://127.0.0.1:9/pixel.png">'
        "<script>console.error('boom')</script></body></html>"
    )
    seen = visit(page, tmp_path / "leaky.png")
    assert seen.requests == ["http://127.0.0.1:9/pixel.png"]
    assert "boom" in seen.console_errors


def test_chromium_loads_the_pack_offline_and_screenshots_it(rendered_pack, tmp_path):
    screenshot = tmp_path / "evidence-pack.png"
    seen = visit(rendered_pack.folder / HTML_NAME, screenshot)
    assert seen.console_errors == []
    assert seen.page_errors == []
    assert seen.requests == []
    assert seen.title == "NIS2 evidence pack: Example Org, October 2026"
    assert seen.section_ids == [
        "board",
        "summary",
        "incidents",
        "notifications",
        "controls",
        "identity",
        "logging",
        "appendix",
    ]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert screenshot.stat().st_size > 50_000
