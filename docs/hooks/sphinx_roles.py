r"""Griffe extension: render the reStructuredText roles of blinapk's docstrings.

blinapk's numpydoc docstrings cross-reference with Sphinx roles
(``:func:`compute_css```, ``:class:`~blinapk.nca.CssResult```) and write
formulas as ``:math:`...``` or ``.. math::`` blocks, which Markdown shows
verbatim. This extension rewrites them, once the package is loaded, into

* an optional autorefs cross-reference (a link when the target is on a page
  of the API reference, plain code otherwise: never a broken link), and
* MathJax delimiters ``\( \)`` / ``\[ \]`` read by ``pymdownx.arithmatex``,
* reStructuredText definition lists of the free text as Markdown bullets, and
  mentions of ``docs/<page>.md`` as links to that page,

and gives module constants documented by a Sphinx ``#:`` comment above
them that comment as their docstring (griffe reads only string docstrings).

Only the docs build uses it (``mkdocs.yml``); the docstrings stay plain
numpydoc for ``help()`` and IDEs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(func|class|meth|mod|attr|data|exc|obj|const):`(~?)([^`]+)`")
MATH = re.compile(r":math:`([^`]+)`")
MATH_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")
#: A numpydoc section header (``Parameters`` over a line of dashes) ends the free text.
SECTION = re.compile(r"^[A-Za-z][A-Za-z ]*\n-{3,}[ \t]*$", flags=re.M)
#: A mention of a docs page (not inside a code span): becomes a link to that page.
DOC_PAGE = re.compile(r"(?<![`\w/])docs/([\w-]+)\.md(#[\w-]+)?")
DOCS_DIR = Path(__file__).resolve().parents[1]
#: Lines that start a list item, a table or an example rather than a term.
NOT_A_TERM = re.compile(r"^([*+-] |\d+[.)] |>>>|\||\\\[|```)")


def _candidates(obj: griffe.Object, target: str) -> list[str]:
    """Where ``target`` may live, seen from ``obj``: as written, then up the parents."""
    target = target.lstrip(".")
    found, scope = [target], obj
    while scope is not None:
        found.append(f"{scope.path}.{target}")
        scope = scope.parent
    return found


def _resolve(obj: griffe.Object, target: str, collection: Any) -> str | None:
    for path in _candidates(obj, target):
        try:
            collection.get_member(path)
        except (KeyError, ValueError, IndexError, AttributeError, griffe.AliasResolutionError):
            continue
        return path
    return None


def _math_blocks(text: str) -> str:
    r"""``.. math::`` directives (content on the line or indented below) -> ``\[ \]``."""
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        match = MATH_BLOCK.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        indent, body = len(match["indent"]), [match["first"].strip()]
        i += 1
        while i < len(lines) and (not lines[i].strip()
                                  or len(lines[i]) - len(lines[i].lstrip()) > indent):
            body.append(lines[i].strip())
            i += 1
        formula = " ".join(part for part in body if part)
        out += [match["indent"] + r"\[", match["indent"] + formula, match["indent"] + r"\]", ""]
    return "\n".join(out)


def _definitions(text: str) -> str:
    """Unindented term lines over an indented description -> bullets ``**term**: description``.

    Module docstrings list their contents as reStructuredText definition lists,
    which Markdown would run together into one paragraph. Only the free text
    before the first numpydoc section is touched (sections use the same shape
    for their parameters).
    """
    match = SECTION.search(text)
    head, tail = (text[: match.start()], text[match.start():]) if match else (text, "")
    lines, out, i = head.split("\n"), [], 0
    while i < len(lines):
        line = lines[i]
        is_term = (line.strip() and not line[0].isspace() and not NOT_A_TERM.match(line)
                   and i + 1 < len(lines) and lines[i + 1][:2] == "  " and lines[i + 1].strip()
                   and (i == 0 or not lines[i - 1].strip() or (out and out[-1].startswith("* **"))))
        if not is_term:
            out.append(line)
            i += 1
            continue
        body, i = [], i + 1
        while i < len(lines) and lines[i][:2] == "  " and lines[i].strip():
            body.append(lines[i].strip())
            i += 1
        if out and out[-1].strip() and not out[-1].startswith("* **"):
            out.append("")
        out.append(f"* **{line.strip()}**: {' '.join(body)}")
    return "\n".join(out) + tail


def _page_link(match: re.Match) -> str:
    """``docs/nca.md`` -> a link to that page (relative to the API pages in ``docs/api/``)."""
    name, anchor = match.group(1), match.group(2) or ""
    if not (DOCS_DIR / f"{name}.md").exists():
        return match.group(0)
    return f"[{name}.md](../{name}.md{anchor})"


def rewrite(text: str, obj: griffe.Object, collection: Any) -> str:
    """Return ``text`` with roles as cross-references and formulas as MathJax."""

    def role(match: re.Match) -> str:
        kind, short, target = match.groups()
        shown = target.rsplit(".", 1)[-1] if short else target
        if kind in ("func", "meth"):
            shown += "()"
        path = _resolve(obj, target, collection)
        code = f"<code>{shown}</code>"
        if path is None:
            return code
        return f'<autoref identifier="{path}" optional>{code}</autoref>'

    text = _math_blocks(text) if ".. math::" in text else text
    text = _definitions(text)
    text = DOC_PAGE.sub(_page_link, text)
    text = MATH.sub(lambda m: rf"\({m.group(1)}\)", text)
    return ROLE.sub(role, text)


def comment_docstring(obj: griffe.Object) -> str | None:
    """Return the ``#:`` comment lines right above an attribute, joined (None if none)."""
    module = obj.module
    if not obj.is_attribute or obj.lineno is None or not module.lines:
        return None
    found, i = [], obj.lineno - 2
    while i >= 0 and module.lines[i].strip().startswith("#:"):
        found.insert(0, module.lines[i].strip()[2:].strip())
        i -= 1
    return " ".join(found) or None


class SphinxRoles(griffe.Extension):
    """Rewrite roles and math of every docstring of a loaded package."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader,
                   **kwargs: Any) -> None:
        """Walk the package once it is fully loaded (aliases resolvable)."""
        collection = loader.modules_collection
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if obj.docstring is None and (comment := comment_docstring(obj)):
                obj.docstring = griffe.Docstring(comment, parent=obj)
            if obj.docstring is not None:
                obj.docstring.value = rewrite(obj.docstring.value, obj, collection)
            stack.extend(m for m in obj.members.values() if not m.is_alias)
