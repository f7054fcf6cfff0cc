"""README's Python example runs as written, on a reviews.csv / holdout.csv made here with the columns it names."""

from __future__ import annotations

import re
from pathlib import Path

from test_user_data_pipeline import write_reviews

README = Path(__file__).resolve().parents[1] / "README.md"
FIVE_STARS = {"1": ["awful", "broke", "refund"], "2": ["poor", "flimsy", "disappointing"],
              "3": ["okay", "average", "meh"], "4": ["good", "solid", "nice"], "5": ["great", "perfect", "love"]}


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_readme_api_example_runs(tmp_path, monkeypatch, capsys):
    (block,) = [code for code in python_blocks(README.read_text(encoding="utf-8")) if "tfsenti.train" in code]
    write_reviews(tmp_path / "reviews.csv", 300, seed=0, words=FIVE_STARS, columns=("body", "stars"))
    write_reviews(tmp_path / "holdout.csv", 100, seed=1, words=FIVE_STARS, columns=("body", "stars"))
    monkeypatch.chdir(tmp_path)
    exec(compile(block, str(README), "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert printed[1] == "('1', '2', '3', '4', '5')"
    assert printed[2] == "['5', '1']" and printed[3] == "(1, 5)"
    assert (tmp_path / "saved_models" / "reviews-nbbon" / "1" / "saved_model.pb").is_file()
