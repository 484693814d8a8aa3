# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The documentation's links hold: every relative link and image of README.md
and docs/*.md points to a file of the repository, and every ``#anchor`` to a
heading of the file it names, as GitHub numbers headings into anchors."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# [text](target) and ![alt](target); a target may carry a "title"
LINK = re.compile(
    r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)"
)
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^ {0,3}(```|~~~)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def _prose_lines(text):
    """The lines outside fenced code blocks, with their numbers."""
    inside = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            inside = not inside
            continue
        if not inside:
            yield number, line


def github_anchor(heading):
    """The anchor GitHub gives a heading: its text without markup, in lower
    case, without punctuation (letters of every language, digits, ``_`` and
    ``-`` stay), spaces turned into hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links: their text
    text = re.sub(r"<[^>]+>", "", text).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path):
    """The anchors of a Markdown file's headings, a repeated one numbered as
    GitHub numbers it (``name``, ``name-1``, ``name-2``)."""
    seen, result = {}, set()
    for _number, line in _prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        anchor = github_anchor(match.group(2))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        result.add(anchor if not count else f"{anchor}-{count}")
    return result


def links(path):
    """The relative links of a Markdown file, as ``(line number, target,
    is an image)``: links in code (fenced or inline) are no links."""
    for number, line in _prose_lines(path.read_text(encoding="utf-8")):
        for match in LINK.finditer(re.sub(r"`[^`]*`", "", line)):
            if not EXTERNAL.match(match.group(1)):
                yield number, match.group(1), match.group(0).startswith("!")


def broken_links(path, root=REPO):
    """Each broken link of a Markdown file, as ``(line number, target,
    reason)``."""
    problems = []
    root = root.resolve()
    for number, target, image in links(path):
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if file_part.startswith("/"):
            problems.append((number, target, "absolute path"))
        elif root not in linked.parents and linked != root:
            problems.append((number, target, "outside the repository"))
        elif not linked.exists():
            problems.append((number, target, "no such file"))
        elif image and not linked.is_file():
            problems.append((number, target, "image is not a file"))
        elif anchor and (linked.suffix != ".md" or not linked.is_file()):
            problems.append((number, target, "anchor into a non-Markdown file"))
        elif anchor and anchor not in anchors(linked):
            problems.append((number, target, "no such heading"))
    return problems


DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


@pytest.mark.parametrize(
    "path", DOCUMENTS, ids=lambda path: str(path.relative_to(REPO))
)
def test_links_and_images_point_to_existing_files_and_headings(path):
    assert broken_links(path) == []


def test_the_guides_are_there_and_linked_from_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for guide in ("docs/przewodnik.md", "docs/reference.md", "docs/development.md"):
        assert (REPO / guide).is_file(), guide
        assert f"]({guide})" in readme, guide


def test_every_referenced_screenshot_is_a_png():
    """Every image the documents show is a PNG file (not a text file or a
    Git LFS pointer named like one)."""
    for path in DOCUMENTS:
        for _number, target, image in links(path):
            if image:
                png = path.parent / target.partition("#")[0]
                assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png


def test_the_checker_reports_each_kind_of_broken_link(tmp_path):
    """The checker itself: it finds a missing file, a missing image, a missing
    heading (here and in another file), a link out of the repository and an
    absolute path, and accepts what GitHub accepts (Polish headings, repeated
    headings numbered, links in code left alone)."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "shot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "docs" / "guide.md").write_text(
        "# Przewodnik\n\n## Wygrana: etap „Należność”\n\n## Raporty\n\n## Raporty\n",
        encoding="utf-8",
    )
    page = tmp_path / "README.md"
    page.write_text(
        "# Title\n\n## Try it: `two` commands\n\n"
        "[ok](docs/guide.md#wygrana-etap-należność) [ok](docs/guide.md#raporty-1)\n"
        "[ok](#try-it-two-commands) ![ok](docs/shot.png) [ok](https://example.com/x)\n"
        "`[code](nowhere.md)`\n```\n[code](nowhere.md)\n```\n"
        "[missing](docs/nowhere.md) ![missing image](docs/none.png)\n"
        "[bad anchor](docs/guide.md#raporty-2) [bad here](#title-2)\n"
        "[out](../../etc/passwd) [absolute](/docs/guide.md)\n"
        "![a folder](docs)\n",
        encoding="utf-8",
    )
    assert broken_links(page, root=tmp_path) == [
        (11, "docs/nowhere.md", "no such file"),
        (11, "docs/none.png", "no such file"),
        (12, "docs/guide.md#raporty-2", "no such heading"),
        (12, "#title-2", "no such heading"),
        (13, "../../etc/passwd", "outside the repository"),
        (13, "/docs/guide.md", "absolute path"),
        (14, "docs", "image is not a file"),
    ]
