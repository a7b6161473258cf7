"""`python -m contval` is the `contval` command."""

from contval.cli import main

main()
