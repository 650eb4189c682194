"""Card HTML (Anki fields) as card Markdown: bold, code, lists, links kept; scripts, styles, images gone."""

from __future__ import annotations

import re

from markdownify import markdownify

_BLANK_RUNS = re.compile(r"\n{3,}")


def html_to_markdown(html: str) -> str:
    # Images are media, which is not imported (and counted instead); <div> and <br> are Anki's line breaks.
    markdown = markdownify(
        html,
        heading_style="ATX",
        bullets="-",
        strong_em_symbol="*",
        code_language="",
        strip=["img", "audio", "video"],  # markdownify drops <script> and <style> with their text
    )
    return _BLANK_RUNS.sub("\n\n", markdown).strip()
