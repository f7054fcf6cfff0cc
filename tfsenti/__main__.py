"""`python -m tfsenti ...`: the same click CLI as the `tfsenti` command and `python cli.py`."""

from tfsenti.cli import main

main(prog_name="tfsenti")
