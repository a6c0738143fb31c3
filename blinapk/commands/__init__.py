"""Subcommands of the ``blinapk`` command line, one module each."""
