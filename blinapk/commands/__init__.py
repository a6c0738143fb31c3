"""Subcommands of the ``blinapk`` command line, one module each."""

#: ``--help`` text of a dataset argument.
DATA_HELP = "NONMEM-style dataset CSV (see the data format page of the docs)"
