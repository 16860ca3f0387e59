"""Small helpers to render tables and to rewrite only one's own parts of a Markdown file."""

from __future__ import annotations

import math
import os
import platform
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def fmt(value: Any, digits: int = 3) -> str:
    """A number for a table: fixed digits, an en dash for missing."""
    if value is None:
        return "–"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        return f"{value:.{digits}f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], align: str | None = None) -> str:
    """A GitHub Markdown table; ``align`` is one letter per column (l, r, c)."""
    align = align or "l" + "r" * (len(headers) - 1)
    marks = {"l": ":---", "r": "---:", "c": ":---:"}
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join(marks[a] for a in align) + " |",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """One line describing where the figures were measured."""
    cores = os.cpu_count() or 0
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GB RAM"
    except (ValueError, OSError, AttributeError):
        pass
    return (
        f"{cores} cores{memory}, {platform.system()} {platform.machine()}, Python {platform.python_version()}"
    )


def _marker(name: str, edge: str) -> str:
    return f"<!-- section:{name}:{edge} -->"


def merge_sections(path: Path, header: str, order: Sequence[str], sections: Mapping[str, str]) -> str:
    """Write ``header`` then each named section in ``order``.

    Sections not in ``sections`` keep their text from the existing file (or are left out), so a
    command that measures one part leaves the others as they were.
    """
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    parts = [header.rstrip() + "\n"]
    for name in order:
        if name in sections:
            body = sections[name].strip()
        else:
            found = re.search(
                re.escape(_marker(name, "start")) + r"\n(.*?)\n" + re.escape(_marker(name, "end")),
                old,
                flags=re.S,
            )
            if not found:
                continue
            body = found.group(1).strip()
        parts.append(f"{_marker(name, 'start')}\n{body}\n{_marker(name, 'end')}\n")
    text = "\n".join(parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return text


def replace_heading(path: Path, heading: str, body: str, title: str = "# Benchmarks") -> None:
    """Replace the section under ``heading`` (a ``## `` line) up to the next ``## `` heading.

    The rest of the file is left byte for byte; the section is appended when absent and the
    file created with ``title`` when missing.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else f"{title}\n"
    block = f"{heading}\n\n{body.strip()}\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        if not text.endswith("\n"):
            text += "\n"
        text = text + "\n" + block
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
            len(lines),
        )
        tail = "".join(lines[end:])
        text = "".join(lines[:start]) + block + ("\n" + tail if tail else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
