"""``python -m artvid`` runs the command-line interface."""

from artvid.cli import main

main()
