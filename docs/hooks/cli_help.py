"""mkdocs hook: render ``blinapk --help`` and each subcommand's ``--help`` into cli.md.

The command-line reference is built from the argparse parsers themselves
(:func:`blinapk.cli.build_parser`), so it cannot fall behind the code. The
page ``cli.md`` holds the marker below; the hook replaces it at build time.
"""

from __future__ import annotations

import argparse
from typing import Any

#: Placeholder in cli.md replaced by the rendered help.
MARKER = "<!-- cli-help -->"
#: Fixed line width so the page does not depend on the terminal that builds it.
WIDTH = 88


def _fixed_width(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    cls = parser.formatter_class
    parser.formatter_class = lambda prog: cls(prog, width=WIDTH)
    return parser


def subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Return the subcommand parsers of ``parser``, in ``--help`` order."""
    for action in parser._actions:  # argparse keeps subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def render() -> str:
    """Markdown: the top-level help, then one section per subcommand."""
    from blinapk.cli import build_parser

    parser = _fixed_width(build_parser())
    parts = ["## `blinapk`", "", "```text", parser.format_help().rstrip(), "```", ""]
    for name, sub in subparsers(parser).items():
        text = _fixed_width(sub).format_help().rstrip()
        parts += [f"## `blinapk {name}`", "", "```text", text, "```", ""]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """Fill the marker of cli.md; leave every other page alone."""
    if page.file.src_uri != "cli.md" or MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render())
