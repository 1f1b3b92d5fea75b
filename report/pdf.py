"""The PDF of the pack, printed from the same HTML by WeasyPrint.

WeasyPrint is pure Python on top of Pango, which the base Debian image already has, so a fresh
machine needs nothing beyond `pip install`; it draws the inline SVG charts too. Its URL fetcher
refuses everything and stops the rendering, so the PDF provably uses nothing outside the HTML.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NoReturn


class ExternalResourceError(RuntimeError):
    """The HTML asked for something outside itself; the pack must be self-contained."""


def write_pdf(html: str, path: Path) -> None:
    from weasyprint import HTML  # imported late: loading Pango takes a moment
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    class RefuseEverything(URLFetcher):
        def fetch(self, url: str, headers: object = None) -> NoReturn:
            raise ExternalResourceError(url)

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    try:
        HTML(string=html, url_fetcher=RefuseEverything(fail_on_errors=True)).write_pdf(path)
    except FatalURLFetchingError as exc:
        raise ExternalResourceError(
            f"the pack HTML referenced an external resource: {exc}"
        ) from None
