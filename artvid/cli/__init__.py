"""The ``artvid`` command line: options derived from the config dataclasses, a thin front end.

The library does the work; this package maps options to config objects and library errors to
one clear line. Layout: :mod:`~artvid.cli.app` (the group), :mod:`~artvid.cli.fields` (options
generated from config fields), :mod:`~artvid.cli.options` (bundles shared by the commands),
:mod:`~artvid.cli.output` (logging and summaries), one module per command.
"""

from artvid.cli.app import main

__all__ = ["main"]
