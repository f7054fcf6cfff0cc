"""Format readers: every format, gzip variants, every bad-row kind with file and line, strict mode."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from tfsenti.data import (
    BadRows,
    Record,
    read_fasttext,
    read_imdb,
    read_imdb_folder,
    read_mcauley_json,
    read_nsmc,
    read_unlabeled_reviews,
    read_zhang_csv,
)
from tfsenti.errors import DataError


def write(path: Path, data: bytes, *, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


# --- NSMC -------------------------------------------------------------------------------------------------------

NSMC = (
    "id\tdocument\tlabel\n"
    "9976970\t아 더빙.. 진짜 짜증나네요 목소리\t0\n"
    "3819312\t흠...포스터보고 초딩영화줄....오버연기조차 가볍지 않구나\t1\n"
    "10122280\t\"\"\"영화 \"\"ㅈ같다.\"\"\"\"\"\t1\n"
).encode()


@pytest.mark.parametrize("gz", [False, True])
def test_nsmc_reads_plain_and_gzip(tmp_path, gz):
    path = write(tmp_path / ("ratings.txt.gz" if gz else "ratings.txt"), NSMC, gz=gz)
    records = list(read_nsmc(path))
    assert [r.id for r in records] == ["9976970", "3819312", "10122280"]
    assert [r.label for r in records] == [0, 1, 1]
    assert records[0].text == "아 더빙.. 진짜 짜증나네요 목소리"
    assert records[2].text == '"영화 "ㅈ같다.""'  # pandas-style quoting undone


def test_nsmc_bad_rows_counted_with_file_and_line(tmp_path):
    data = NSMC + b"1\t\t0\n2\tonly two columns\n3\tgood\t7\n4\t\xff\xfe broken\t1\n5\tfine\t1\n"
    path = write(tmp_path / "ratings_train.txt", data)
    bad = BadRows()
    records = list(read_nsmc(path, bad_rows=bad))
    assert [r.id for r in records][-1] == "5"
    assert len(records) == 4
    reasons = {line: reason for _, line, reason in bad}
    assert set(reasons) == {5, 6, 7, 8}
    assert reasons[5] == "empty text"
    assert reasons[6] == "wrong column count"
    assert reasons[7] == "unknown label"
    assert reasons[8] == "invalid UTF-8"
    assert all(p == str(path) for p, _, _ in bad)


def test_nsmc_strict_raises_naming_file_and_line(tmp_path):
    labelled = write(tmp_path / "ratings_train.txt", NSMC + b"1\tgood\t7\n")
    with pytest.raises(DataError, match=r"ratings_train\.txt:5: unknown label \('7', expected one of"):
        list(read_nsmc(labelled, bad_rows=BadRows(strict=True)))
    path = write(tmp_path / "ratings_test.txt", NSMC + b"1\t\t0\n")
    with pytest.raises(DataError, match=r"ratings_test\.txt:5: empty text") as info:
        list(read_nsmc(path, bad_rows=BadRows(strict=True)))
    assert info.value.line == 5 and info.value.path == str(path)


def test_truncated_gzip_is_a_data_error_with_file_and_line(tmp_path):
    blob = gzip.compress(NSMC * 200)
    path = write(tmp_path / "ratings_train.txt.gz", blob[: len(blob) // 2])
    with pytest.raises(DataError, match=r"ratings_train\.txt\.gz:\d+: cannot read"):
        list(read_nsmc(path))


# --- Amazon: Zhang CSV and fastText -----------------------------------------------------------------------------

ZHANG = (
    b'"2","Great CD","My lovely Pat has one of the ""GREAT"" voices"\n'
    b'"1","Batteries died","Within a year, both"\n'
    b'"2","Multi","first line\nsecond line"\n'
)
FASTTEXT = (
    b"__label__2 Great CD: My lovely Pat has one of the \"GREAT\" voices\r\n"
    b"__label__1 Batteries died: Within a year, both\r\n"
)


@pytest.mark.parametrize("gz", [False, True])
def test_zhang_csv_labels_ids_and_multiline_fields(tmp_path, gz):
    path = write(tmp_path / ("train.csv.gz" if gz else "train.csv"), ZHANG, gz=gz)
    records = list(read_zhang_csv(path))
    assert records == [
        Record('Great CD: My lovely Pat has one of the "GREAT" voices', 1, "train:1"),
        Record("Batteries died: Within a year, both", 0, "train:2"),
        Record("Multi: first line\nsecond line", 1, "train:3"),
    ]


@pytest.mark.parametrize("gz", [False, True])
def test_fasttext_crlf_gives_the_same_texts_as_zhang_csv(tmp_path, gz):
    path = write(tmp_path / ("test.ft.txt.gz" if gz else "test.ft.txt"), FASTTEXT, gz=gz)
    csv_path = write(tmp_path / "test.csv", ZHANG)
    records = list(read_fasttext(path))
    assert [r.id for r in records] == ["test:1", "test:2"]
    assert [(r.text, r.label) for r in records] == [(r.text, r.label) for r in read_zhang_csv(csv_path)][:2]


def test_zhang_csv_bad_rows(tmp_path):
    data = ZHANG + (
        b'"2","only two"\n'           # line 5: wrong column count
        b'"3","title","text"\n'       # line 6: unknown label
        b'"1","","  "\n'              # line 7: empty text
        b'"1","caf\xe9","latin-1"\n'  # line 8: invalid UTF-8
        b'"2","ok","fine"\n'          # line 9
    )
    path = write(tmp_path / "train.csv", data)
    bad = BadRows()
    records = list(read_zhang_csv(path, bad_rows=bad))
    assert records[-1] == Record("ok: fine", 1, "train:9")
    reasons = {line: reason for _, line, reason in bad}
    assert reasons[5] == "wrong column count"
    assert reasons[6] == "unknown label"
    assert reasons[7] == "empty text"
    assert reasons[8] == "invalid UTF-8"
    with pytest.raises(DataError, match=r"train\.csv:5: wrong column count"):
        list(read_zhang_csv(path, bad_rows=BadRows(strict=True)))


def test_zhang_csv_unbalanced_quote_does_not_swallow_the_file(tmp_path):
    path = write(tmp_path / "train.csv", b'"2","open quote,"x\n' * 3)
    bad = BadRows()
    assert list(read_zhang_csv(path, bad_rows=bad)) == []
    assert bad.total >= 1 and all("quote" in reason or "column" in reason for _, _, reason in bad)


def test_fasttext_bad_rows(tmp_path):
    data = FASTTEXT + b"no label here\r\n__label__3 x: y\r\n__label__1   \r\n__label__2 \xc3\x28 bad\r\n"
    path = write(tmp_path / "train.ft.txt", data)
    bad = BadRows()
    assert len(list(read_fasttext(path, bad_rows=bad))) == 2
    reasons = {line: reason for _, line, reason in bad}
    assert reasons[3] == "wrong column count"
    assert reasons[4] == "unknown label"
    assert reasons[5] == "empty text"
    assert reasons[6].startswith("invalid UTF-8")


# --- McAuley JSON -----------------------------------------------------------------------------------------------

def review(overall, text="works well", summary="Nice"):
    return json.dumps({"overall": overall, "summary": summary, "reviewText": text, "asin": "B00"})


@pytest.mark.parametrize("gz", [False, True])
def test_mcauley_polarity_drops_neutral_without_bad_rows(tmp_path, gz):
    lines = [review(5.0), review(1.0), review(3.0), review(2.0), review(4.0, summary="")]
    path = write(tmp_path / ("Gift_Cards_5.json.gz" if gz else "Gift_Cards_5.json"),
                 "\n".join(lines).encode() + b"\n", gz=gz)
    bad, counts = BadRows(), Counter()
    records = list(read_mcauley_json(path, bad_rows=bad, counts=counts))
    assert [r.label for r in records] == [1, 0, 0, 1]
    assert records[0] == Record("Nice: works well", 1, "Gift_Cards_5:1")
    assert records[3].text == "works well"
    assert counts["neutral"] == 1 and len(bad) == 0
    everything = list(read_mcauley_json(path, keep="all"))
    assert len(everything) == 5 and {r.label for r in everything} == {-1}


def test_mcauley_truncated_json_array_variant(tmp_path):
    full = [review(5.0), review(1.0, text=""), review(4.0)]
    text = "[" + ",\n".join(full) + ",\n" + review(2.0)[:25]  # cut mid-record, as in the 2014 partial copy
    path = write(tmp_path / "Cell_Phones_and_Accessories_5.json", text.encode())
    bad = BadRows()
    records = list(read_mcauley_json(path, bad_rows=bad))
    assert [r.id for r in records] == ["Cell_Phones_and_Accessories_5:1", "Cell_Phones_and_Accessories_5:3"]
    reasons = {line: reason for _, line, reason in bad}
    assert reasons[2] == "empty text"
    assert reasons[4].startswith("invalid JSON")
    with pytest.raises(DataError, match=r"Cell_Phones_and_Accessories_5\.json:2: empty text"):
        list(read_mcauley_json(path, bad_rows=BadRows(strict=True)))


def test_mcauley_complete_array_and_unknown_rating(tmp_path):
    text = "[" + review(5.0) + ",\n" + review(7.0) + ",\n" + review(1.0) + "]\n"
    path = write(tmp_path / "a.json", text.encode())
    bad = BadRows()
    assert [r.label for r in read_mcauley_json(path, bad_rows=bad)] == [1, 0]
    assert [(line, reason.split(" ")[0]) for _, line, reason in bad] == [(2, "unknown")]


def test_read_unlabeled_reviews_chains_formats(tmp_path):
    json_path = write(tmp_path / "x.json.gz", (review(3.0) + "\n").encode(), gz=True)
    ft_path = write(tmp_path / "y.ft.txt", FASTTEXT)
    records = list(read_unlabeled_reviews([json_path, ft_path]))
    assert len(records) == 3 and {r.label for r in records} == {-1}
    assert len({r.id for r in records}) == 3
    with pytest.raises(ValueError, match="Cannot tell the format"):
        list(read_unlabeled_reviews([tmp_path / "z.parquet"]))


# --- IMDB -------------------------------------------------------------------------------------------------------

IMDB_FILES = {
    "aclImdb/train/pos/0_9.txt": b"Great movie.<br /><br />Loved it.",
    "aclImdb/train/pos/1_7.txt": b"Good.",
    "aclImdb/train/neg/0_1.txt": b"Awful.",
    "aclImdb/train/neg/10_2.txt": b"Bad.",
    "aclImdb/train/neg/2_3.txt": b"\xff not utf-8",
    "aclImdb/train/unsup/0_0.txt": b"Unlabeled one.",
    "aclImdb/test/pos/0_10.txt": b"Superb.",
    "aclImdb/test/neg/0_4.txt": b"   ",
    "aclImdb/README": b"readme",
}


def make_imdb_folder(root: Path) -> Path:
    for name, data in IMDB_FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root / "aclImdb"


def make_tar(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_imdb_folder_splits_labels_ids_and_bad_rows(tmp_path):
    folder = make_imdb_folder(tmp_path)
    bad = BadRows()
    train = list(read_imdb_folder(folder, "train", bad_rows=bad))
    assert [r.id for r in train] == ["train/neg/0_1", "train/neg/10_2", "train/pos/0_9", "train/pos/1_7"]
    assert [r.label for r in train] == [0, 0, 1, 1]
    assert train[2].text == "Great movie.<br /><br />Loved it."
    assert list(read_imdb_folder(tmp_path, "unsup")) == [Record("Unlabeled one.", -1, "train/unsup/0_0")]
    test = list(read_imdb_folder(folder, "test", bad_rows=bad))
    assert [r.id for r in test] == ["test/pos/0_10"]
    reasons = sorted((Path(p).name, line, reason.split(" ")[0]) for p, line, reason in bad)
    assert reasons == [("0_4.txt", 1, "empty"), ("2_3.txt", 1, "invalid")]
    with pytest.raises(ValueError, match="Unknown IMDB split"):
        list(read_imdb_folder(folder, "dev"))


def test_imdb_tarball_matches_folder(tmp_path):
    archive = make_tar(tmp_path / "aclImdb_v1.tar.gz", IMDB_FILES)
    make_imdb_folder(tmp_path / "x")
    bad = BadRows()
    from_tar = sorted(read_imdb(archive, ("train", "test", "unsup"), bad_rows=bad))
    from_folder = sorted(read_imdb(tmp_path / "x", ("train", "test", "unsup")))
    assert from_tar == from_folder and len(from_tar) == 6
    assert {p.split("::")[1] for p, _, _ in bad} == {"aclImdb/train/neg/2_3.txt", "aclImdb/test/neg/0_4.txt"}
    with pytest.raises(DataError, match=r"aclImdb/train/neg/2_3\.txt:1: invalid UTF-8"):
        list(read_imdb(archive, ("train",), bad_rows=BadRows(strict=True)))
