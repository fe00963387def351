"""HTML to readable Markdown or plain text, with the standard library's parser.

Not a browser: it keeps the structure a reader needs (headings, paragraphs,
links, lists, code, quotes, simple tables) and drops what only a browser needs
(scripts, styles, navigation, forms' controls). Relative links are made
absolute against the page's URL so the model can fetch them next.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import attrs

# Elements whose whole content is noise for a reader.
DROPPED = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "canvas",
        "iframe",
        "nav",
        "button",
        "select",
        "textarea",
        "head",
    }
)
BLOCKS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "figure", "figcaption",
        "table", "form", "fieldset", "details", "summary", "dl", "dd", "dt", "address", "body",
    }
)  # fmt: skip
HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_SPACES = re.compile(r"\s+")
_BLANK_LINES = re.compile(r"\n{3,}")


@attrs.define
class _ListState:
    ordered: bool
    next_number: int = 1


class _Converter(HTMLParser):
    def __init__(self, base_url: str, *, markdown: bool) -> None:
        super().__init__(convert_charrefs=True)
        self._base = base_url
        self._md = markdown
        self._out: list[str] = []
        self._drop = 0  # depth inside DROPPED elements
        self._pre = 0  # depth inside <pre>
        self._lists: list[_ListState] = []
        self._links: list[str | None] = []
        self._quote = 0
        self._row: list[str] | None = None
        self._row_has_th = False
        self._rows_done = 0
        self._cell: list[str] | None = None
        self.title = ""
        self._in_title = False

    # ---------------------------------------------------------------- output

    def _tail(self) -> str:
        return "".join(self._out[-3:])

    def _write(self, text: str) -> None:
        if self._cell is not None:
            self._cell.append(text)
        else:
            self._out.append(text)

    def _newlines(self, count: int) -> None:
        """End the current line and leave ``count - 1`` blank lines (no more).
        Looks only at the last pieces of output, so a big page stays linear."""
        if self._cell is not None:
            self._cell.append(" ")
            return
        while self._out and not self._out[-1].strip(" "):
            self._out.pop()
        if not self._out:
            return
        self._out[-1] = self._out[-1].rstrip(" ")
        have = 0
        for piece in reversed(self._out):
            text = piece.rstrip("\n")
            have += len(piece) - len(text)
            if text:
                break
        else:
            self._out = []  # nothing but line breaks so far
            return
        self._out.append("\n" * max(0, count - have))
        if self._quote and self._md:
            self._out.append("> " * self._quote)

    # ---------------------------------------------------------------- events

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in DROPPED:
            self._drop += 1
            return
        if self._drop:
            return
        attr = dict(attrs)
        if tag in HEADINGS:
            self._newlines(2)
            if self._md:
                self._write("#" * HEADINGS[tag] + " ")
        elif tag in BLOCKS:
            self._newlines(2)
        elif tag == "br":
            self._newlines(1)
        elif tag == "hr":
            self._newlines(2)
            self._write("---" if self._md else "")
            self._newlines(2)
        elif tag == "pre":
            self._newlines(2)
            self._pre += 1
            if self._md:
                self._write("```\n")
        elif tag == "code" and not self._pre and self._md:
            self._write("`")
        elif tag in ("strong", "b") and self._md:
            self._write("**")
        elif tag in ("em", "i") and self._md:
            self._write("*")
        elif tag == "blockquote":
            self._quote += 1
            self._newlines(2)
        elif tag in ("ul", "ol"):
            self._newlines(1 if self._lists else 2)
            self._lists.append(_ListState(ordered=tag == "ol"))
        elif tag == "li":
            self._newlines(1)
            indent = "  " * max(0, len(self._lists) - 1)
            state = self._lists[-1] if self._lists else _ListState(ordered=False)
            if state.ordered:
                self._write(f"{indent}{state.next_number}. ")
                state.next_number += 1
            else:
                self._write(f"{indent}- ")
        elif tag == "a":
            href = attr.get("href")
            usable = href and not href.startswith(("javascript:", "#"))
            self._links.append(urljoin(self._base, href) if usable and href else None)
            if self._md and self._links[-1]:
                self._write("[")
        elif tag == "img" and self._md:
            alt = (attr.get("alt") or "").strip()
            src = attr.get("src")
            if alt and src:
                self._write(f"![{alt}]({urljoin(self._base, src)})")
        elif tag == "tr":
            self._row, self._row_has_th = [], False
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
            self._row_has_th |= tag == "th"

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in DROPPED:
            self._drop = max(0, self._drop - 1)
            return
        if self._drop:
            return
        if tag in HEADINGS or tag in BLOCKS:
            self._newlines(2)
        elif tag == "pre" and self._pre:
            self._pre -= 1
            if self._md:
                self._newlines(1)
                self._write("```")
            self._newlines(2)
        elif tag == "code" and not self._pre and self._md:
            self._write("`")
        elif tag in ("strong", "b") and self._md:
            self._write("**")
        elif tag in ("em", "i") and self._md:
            self._write("*")
        elif tag == "blockquote" and self._quote:
            self._quote -= 1
            self._newlines(2)
        elif tag in ("ul", "ol") and self._lists:
            self._lists.pop()
            self._newlines(1 if self._lists else 2)
        elif tag == "a" and self._links:
            href = self._links.pop()
            if href:
                self._write(f"]({href})" if self._md else f" ({href})")
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(_SPACES.sub(" ", "".join(self._cell)).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._finish_row()

    def _finish_row(self) -> None:
        row, self._row = self._row or [], None
        if not row:
            return
        self._newlines(1)
        self._write("| " + " | ".join(row) + " |" if self._md else "\t".join(row))
        if self._md and self._row_has_th and self._rows_done == 0:
            self._newlines(1)
            self._write("|" + " --- |" * len(row))
        self._rows_done += 1
        self._newlines(1)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._drop:
            return
        if self._pre:
            self._write(data)
            return
        text = _SPACES.sub(" ", data)
        if not text.strip() and (not self._out or self._tail().endswith((" ", "\n"))):
            return
        if self._tail().endswith(("\n", " ", "- ", ". ", "# ")) or not self._out:
            text = text.lstrip()
        self._write(text)

    def result(self) -> str:
        if self._row:
            self._finish_row()
        text = "\n".join(line.rstrip() for line in "".join(self._out).split("\n"))
        return _BLANK_LINES.sub("\n\n", text).strip() + "\n"


def html_to_text(html: str, base_url: str = "", *, markdown: bool = True) -> tuple[str, str]:
    """Convert ``html``; returns ``(title, text)``."""
    converter = _Converter(base_url, markdown=markdown)
    converter.feed(html)
    converter.close()
    return _SPACES.sub(" ", converter.title).strip(), converter.result()
