"""Relative links and images in README.md and docs/*.md resolve, so the pages read well on GitHub.

A link such as ``[api](api.md#tensor)`` must name a file that exists (relative to the page), and
its ``#anchor``, when the target is Markdown, must match a heading there under GitHub's slug rule
(lower case, punctuation dropped, spaces to hyphens). External links (http, mailto) are not
fetched: the suite runs offline.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, drop punctuation but '-' and '_', spaces to '-'."""
    text = re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    slugs: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M):
        slug = github_slug(heading)
        n = slugs.get(slug, 0)
        out.add(slug if n == 0 else f"{slug}-{n}")
        slugs[slug] = n + 1
    out.update(re.findall(r"<a\s+(?:name|id)=\"([^\"]+)\"", text))
    return out


def links(page: Path) -> list[str]:
    """Link targets outside code blocks and code spans (where GitHub renders no links)."""
    text = re.sub(r"`[^`\n]*`", "", FENCE.sub("", page.read_text(encoding="utf-8")))
    return LINK.findall(text)


def test_slug_rule() -> None:
    assert github_slug("Where the slides are wrong") == "where-the-slides-are-wrong"
    assert github_slug("`Tensor.backward(gradient=None)`: reverse mode") == "tensorbackwardgradientnone-reverse-mode"
    assert github_slug("Lecture-to-code map") == "lecture-to-code-map"


def test_pages_have_links() -> None:
    assert sum(len(links(p)) for p in PAGES) > 10


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in links(page):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no file {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest}")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.name}")
    assert not broken, f"{page.name}: " + "; ".join(broken)


def test_the_check_catches_a_broken_link_and_anchor(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text("# Top\n\n[ok](p.md#top) [bad](missing.md) [a](p.md#nowhere) `[code](x)` g[l](Z[l])\n")
    assert links(page) == ["p.md#top", "missing.md", "p.md#nowhere", "Z[l]"]
    assert anchors(page) == {"top"}
