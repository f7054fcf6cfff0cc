"""tfsenti's command line from a checkout: `python cli.py train --model nbbon --data imdb`.

The CLI itself lives in `tfsenti/cli.py`; once installed (`pip install .`) the same commands are `tfsenti ...` and
`python -m tfsenti ...`.

Example:
    python cli.py --help
"""

from tfsenti.cli import main

if __name__ == "__main__":
    main()
