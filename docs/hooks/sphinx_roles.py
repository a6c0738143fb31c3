r"""Griffe extension: render the reStructuredText roles of blinapk's docstrings.

blinapk's numpydoc docstrings cross-reference with Sphinx roles
(``:func:`compute_css```, ``:class:`~blinapk.nca.CssResult```) and write
formulas as ``:math:`...``` or ``.. math::`` blocks, which Markdown shows
verbatim. This extension rewrites them, once the package is loaded, into

* an optional autorefs cross-reference (a link when the target is on a page
  of the API reference, plain code otherwise: never a broken link), and
* MathJax delimiters ``\( \)`` / ``\[ \]`` read by ``pymdownx.arithmatex``,

and gives module constants documented by a Sphinx ``#:`` comment above
them that comment as their docstring (griffe reads only string docstrings).

Only the docs build uses it (``mkdocs.yml``); the docstrings stay plain
numpydoc for ``help()`` and IDEs.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(func|class|meth|mod|attr|data|exc|obj|const):`(~?)([^`]+)`")
MATH = re.compile(r":math:`([^`]+)`")
MATH_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*(?P<first>.*)$")


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
