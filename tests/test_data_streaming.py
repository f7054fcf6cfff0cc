"""Streaming: readers run in constant memory, and `to_tf_dataset` / `stream_tf_dataset` yield batches."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from tfsenti.data import BadRows, Record, read_fasttext, read_nsmc, read_zhang_csv


def make_zhang(path: Path, rows: int) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(rows):
            handle.write(f'"{1 + i % 2}","title {i}","some review text number {i}, long enough to matter"\n')
    return path


def peak_while_counting(reader, path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        count = sum(1 for _ in reader(path, bad_rows=BadRows()))
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reader_memory_does_not_grow_with_file_size(tmp_path):
    small = make_zhang(tmp_path / "small.csv", 2_000)
    large = make_zhang(tmp_path / "large.csv", 40_000)  # 20x
    assert large.stat().st_size > 19 * small.stat().st_size
    small_count, small_peak = peak_while_counting(read_zhang_csv, small)
    large_count, large_peak = peak_while_counting(read_zhang_csv, large)
    assert (small_count, large_count) == (2_000, 40_000)
    assert large_peak < 2 * small_peak + 256 * 1024, (small_peak, large_peak)


def test_importing_the_data_layer_does_not_import_tensorflow():
    code = "import sys, tfsenti.data; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "False"


@pytest.mark.slow
def test_to_tf_dataset_yields_batches_and_restarts(tmp_path):
    pytest.importorskip("tensorflow")
    from tfsenti.data import stream_tf_dataset, to_tf_dataset

    records = [Record("good", 1, "a"), Record("bad", 0, "b"), Record("meh", -1, "c")]
    ds = to_tf_dataset(lambda: iter(records), batch_size=2)
    batches = [(texts.numpy().tolist(), labels.numpy().tolist()) for texts, labels in ds]
    assert batches == [([b"good", b"bad"], [1, 0]), ([b"meh"], [-1])]
    labeled = to_tf_dataset(lambda: iter(records), batch_size=8, drop_unlabeled=True)
    assert [labels.numpy().tolist() for _, labels in labeled] == [[1, 0]]

    path = tmp_path / "test.ft.txt"
    path.write_bytes(b"__label__2 A: b\r\n__label__1 C: d\r\nbroken\r\n__label__2 E: f\r\n")
    bad = BadRows()
    stream = stream_tf_dataset(read_fasttext, path, batch_size=2, bad_rows=bad)
    for _ in range(2):  # each epoch re-reads the file
        epoch = [labels.numpy().tolist() for _, labels in stream]
        assert epoch == [[1, 0], [1]]
    assert bad.total == 2  # the broken line, once per pass
    texts, _ = next(iter(stream_tf_dataset(read_nsmc, _nsmc(tmp_path), batch_size=4)))
    assert [t.decode() for t in texts.numpy()] == ["좋다", "별로"]


def _nsmc(tmp_path: Path) -> Path:
    path = tmp_path / "ratings.txt"
    path.write_text("id\tdocument\tlabel\n1\t좋다\t1\n2\t별로\t0\n", encoding="utf-8")
    return path
