"""`python -m companion` runs the `kith` command."""

from .cli import main

main(prog_name="kith")
