"""A user's own labelled files: every format (plain and gzip), columns, labels, bad rows, splits, memory."""

from __future__ import annotations

import csv
import gzip
import json
import logging
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from tfsenti.data import BadRows, TextDataset
from tfsenti.data.user_files import (
    UserDataOptions,
    UserRecord,
    carve_split,
    detect_format,
    is_user_data,
    load_user_data,
    read_user_file,
)
from tfsenti.errors import ConfigError, DataError


def write(path: Path, content: str | bytes, *, gz: bool = False) -> Path:
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def read(path, bad_rows: BadRows | None = None, **options) -> list[UserRecord]:
    return list(read_user_file(path, UserDataOptions(**options), bad_rows=BadRows() if bad_rows is None else bad_rows))


def reasons(bad_rows: BadRows) -> list[tuple[str, int, str]]:
    return [(Path(path).name, line, reason) for path, line, reason in bad_rows.rows]


CSV = 'id,review,stars\n1,"Great, really",5\n2,"Line one\nline two\n""quoted""",1\n3,plain,3\n'
TSV = 'review\tstars\nGreat, really\t5\n"tab\tinside"\t1\nplain\t3\n'
JSONL = '{"review": "Great, really", "stars": 5}\n{"review": "Line one\\nline two", "stars": 1.0}\n' \
        '{"review": "plain", "stars": "3"}\n'


# --------------------------------------------------------------------------------------------- every format
@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_csv_quoting_and_multi_line_fields_keep_first_line(tmp_path, gz):
    path = write(tmp_path / ("reviews.csv.gz" if gz else "reviews.csv"), CSV, gz=gz)
    records = read(path)
    assert [r.text for r in records] == ["Great, really", 'Line one\nline two\n"quoted"', "plain"]
    assert [r.label for r in records] == ["5", "1", "3"]
    # the multi-line record starts on line 3 and ends on line 5; the next one starts on line 6
    assert [(r.id, r.line) for r in records] == [("reviews:2", 2), ("reviews:3", 3), ("reviews:6", 6)]


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_tsv(tmp_path, gz):
    path = write(tmp_path / ("reviews.tsv.gz" if gz else "reviews.tsv"), TSV, gz=gz)
    records = read(path)
    assert [(r.text, r.label) for r in records] == [("Great, really", "5"), ("tab\tinside", "1"), ("plain", "3")]


@pytest.mark.parametrize("delimiter", [";", "|", "\t"])
def test_csv_delimiter_sniffed_when_header_has_no_comma(tmp_path, delimiter):
    content = f"text{delimiter}label\nGood, fine{delimiter}pos\nBad{delimiter}neg\n"
    path = write(tmp_path / "reviews.csv", content)
    assert [(r.text, r.label) for r in read(path)] == [("Good, fine", "pos"), ("Bad", "neg")]


def test_explicit_delimiter_wins(tmp_path):
    path = write(tmp_path / "reviews.csv", "id,text;label\n1,Good;pos\n")
    assert [(r.text, r.label) for r in read(path, delimiter=";", text_columns=("id,text",))] == [("1,Good", "pos")]
    assert UserDataOptions(delimiter="\\t").delimiter == "\t"
    with pytest.raises(ConfigError, match="one character"):
        UserDataOptions(delimiter=";;")


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_json_lines(tmp_path, gz):
    path = write(tmp_path / ("reviews.jsonl.gz" if gz else "reviews.jsonl"), JSONL, gz=gz)
    records = read(path)
    assert [(r.text, r.label, r.id) for r in records] == [
        ("Great, really", "5", "reviews:1"), ("Line one\nline two", "1", "reviews:2"), ("plain", "3", "reviews:3")]


def test_json_array_written_one_object_per_line(tmp_path):
    path = write(tmp_path / "reviews.json", '[{"text": "a", "label": 1},\n{"text": "b", "label": 0}]\n')
    assert [(r.text, r.label) for r in read(path)] == [("a", "1"), ("b", "0")]


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_class_folder(tmp_path, gz, caplog):
    suffix = ".txt.gz" if gz else ".txt"
    root = tmp_path / "reviews"
    write(root / "pos" / f"b{suffix}", "Loved it\n", gz=gz)
    write(root / "pos" / "2024" / f"a{suffix}", "\ufeffNested too", gz=gz)
    write(root / "neg" / f"c{suffix}", "Hated it", gz=gz)
    write(root / "neg" / "notes.md", "not a document")
    write(root / "neg" / ".hidden" / f"d{suffix}", "skipped", gz=gz)
    write(root / "README.txt", "stray file in the top folder")
    with caplog.at_level(logging.WARNING, logger="tfsenti"):
        records = read(root)
    assert [(r.label, r.id, r.text, r.line) for r in records] == [
        ("neg", f"neg/c{suffix}", "Hated it", 1),
        ("pos", f"pos/2024/a{suffix}", "Nested too", 1),
        ("pos", f"pos/b{suffix}", "Loved it", 1),
    ]
    assert "README.txt" in caplog.text


def test_gzip_is_told_by_magic_bytes_not_name(tmp_path):
    path = write(tmp_path / "reviews.csv", "text,label\nGood,1\n", gz=True)
    assert [r.text for r in read(path)] == ["Good"]
    sniffed = write(tmp_path / "reviews.dat", JSONL, gz=True)
    assert detect_format(sniffed) == "jsonl"
    assert [r.label for r in read(sniffed)] == ["5", "1", "3"]


# ------------------------------------------------------------------------------------------ columns and labels
def test_several_text_columns_joined_in_given_order(tmp_path):
    path = write(tmp_path / "r.csv", "body,title,stars\nWorks well,Great,5\n,Only title,4\nOnly body,,3\n")
    records = read(path, text_columns=("title", "body"), label_column="stars")
    assert [r.text for r in records] == ["Great\nWorks well", "Only title", "Only body"]


def test_columns_guessed_case_insensitively(tmp_path):
    path = write(tmp_path / "r.csv", "ID,Sentence,Rating\n1,Good,4\n")
    assert [(r.text, r.label) for r in read(path)] == [("Good", "4")]
    assert [r.text for r in read(path, text_columns=("sentence",), label_column="RATING")] == ["Good"]


@pytest.mark.parametrize("value, expected", [
    (5, "5"), (5.0, "5"), ("5", "5"), (" 5 ", "5"), ("5.0", "5"), (True, "true"), (False, "false"),
    (" pos ", "pos"), (4.5, "4.5"), (-1, "-1"),
])
def test_label_values_normalised(tmp_path, value, expected):
    path = write(tmp_path / "r.jsonl", json.dumps({"text": "t", "label": value}) + "\n")
    assert read(path)[0].label == expected


def test_integer_labels_in_numeric_order(tmp_path):
    rows = "".join(f"text {n},{n}\n" for n in (10, 2, 1, 2, 10))
    data = load_user_data(write(tmp_path / "r.csv", "text,label\n" + rows), progress=False)
    assert data.class_names == ("1", "2", "10")
    assert data["train"].labels.tolist() == [2, 1, 0, 1, 2]


def test_string_labels_in_sorted_order_and_test_mapped_onto_them(tmp_path):
    train = write(tmp_path / "train.csv", "text,label\na,pos\nb,neg\nc,neutral\nd,10\n")
    test = write(tmp_path / "test.jsonl", '{"text": "e", "label": "neg"}\n{"text": "f", "label": 10}\n')
    data = load_user_data(train, test=test, progress=False)
    assert data.class_names == ("10", "neg", "neutral", "pos")
    assert data["train"].labels.tolist() == [3, 1, 2, 0]
    assert data["test"].labels.tolist() == [1, 0]
    assert data["test"].class_names == data.class_names
    assert data.formats == {"train": "csv", "test": "jsonl"}
    assert data.sources == {"train": train, "test": test}
    assert data.columns["train"].label == "label"


def test_three_megabyte_field(tmp_path):
    big = "x" * 3_000_000
    path = write(tmp_path / "r.csv", f'text,label\n"{big}",1\nsmall,0\n')
    previous = csv.field_size_limit(131_072)  # the csv module's default, whatever ran before
    try:
        records = read(path)
    finally:
        csv.field_size_limit(max(previous, csv.field_size_limit()))
    assert [len(r.text) for r in records] == [3_000_000, 5]


# -------------------------------------------------------------------------------------------------- bad rows
def test_csv_bad_rows_are_counted_with_their_first_line(tmp_path):
    content = (b'text,label\n'
               b'good,1\n'
               b'"bad \xff\xfe bytes\nacross lines",1\n'   # lines 3-4
               b'too,many,fields\n'                         # line 5
               b'  ,1\n'                                    # line 6
               b'no label,\n'                               # line 7
               b'\n'
               b'"multi\nline",0\n'                         # lines 9-10
               b'short\n')                                  # line 11
    bad = BadRows()
    records = read(write(tmp_path / "r.csv", content), bad)
    assert [(r.text, r.line) for r in records] == [("good", 2), ("multi\nline", 9)]
    assert reasons(bad) == [("r.csv", 3, "invalid UTF-8"), ("r.csv", 5, "wrong column count"),
                            ("r.csv", 6, "empty text"), ("r.csv", 7, "missing label"),
                            ("r.csv", 11, "wrong column count")]


def test_json_bad_rows(tmp_path):
    content = (b'{"text": "good", "label": 1}\n'
               b'{"text": "cut off", "label\n'
               b'["not", "an", "object"]\n'
               b'{"text": "no label key"}\n'
               b'{"label": 1}\n'
               b'{"text": "  ", "label": 1}\n'
               b'{"text": "null label", "label": null}\n'
               b'{"text": "bad \xff", "label": 1}\n'
               b'\n'
               b'{"text": "last", "label": 0}\n')
    bad = BadRows()
    records = read(write(tmp_path / "r.jsonl", content), bad)
    assert [(r.text, r.line) for r in records] == [("good", 1), ("last", 10)]
    assert reasons(bad) == [("r.jsonl", 2, "invalid JSON"), ("r.jsonl", 3, "invalid JSON"),
                            ("r.jsonl", 4, "missing field"), ("r.jsonl", 5, "missing field"),
                            ("r.jsonl", 6, "empty text"), ("r.jsonl", 7, "missing label"),
                            ("r.jsonl", 8, "invalid UTF-8")]
    with pytest.raises(DataError, match=r"r\.jsonl:2: invalid JSON"):
        read(tmp_path / "r.jsonl", BadRows(strict=True))
    only_bad = BadRows()
    assert read(write(tmp_path / "bad.jsonl", "not json\n[]\n"), only_bad) == []
    assert reasons(only_bad) == [("bad.jsonl", 1, "invalid JSON"), ("bad.jsonl", 2, "invalid JSON")]


def test_json_missing_key_among_several_text_columns_is_an_empty_part(tmp_path):
    path = write(tmp_path / "r.jsonl", '{"summary": "Nice", "overall": 5}\n{"reviewText": "Body", "overall": 1}\n')
    records = read(path, text_columns=("summary", "reviewText"))
    assert [(r.text, r.label) for r in records] == [("Nice", "5"), ("Body", "1")]


def test_folder_bad_files(tmp_path):
    root = tmp_path / "reviews"
    write(root / "neg" / "a.txt", "fine")
    write(root / "neg" / "b.txt", b"bad \xff bytes")
    write(root / "pos" / "c.txt", "  \n")
    bad = BadRows()
    assert [r.id for r in read(root, bad)] == ["neg/a.txt"]
    assert reasons(bad) == [("b.txt", 1, "invalid UTF-8"), ("c.txt", 1, "empty text")]


def test_unknown_column_names_the_file_the_column_and_the_header(tmp_path):
    path = write(tmp_path / "r.csv", "title,summary,stars\na,b,5\n")
    with pytest.raises(DataError, match=r"r\.csv.*'review'.*\['title', 'summary', 'stars'\]"):
        read(path, text_columns=("review",))
    with pytest.raises(DataError, match=r"r\.csv.*label column 'score'.*\['title', 'summary', 'stars'\]"):
        read(path, text_columns=("summary",), label_column="score")
    with pytest.raises(DataError, match=r"no text column.*\['title', 'summary', 'stars'\]"):
        read(path)
    json_path = write(tmp_path / "r.jsonl", '{"title": "a", "stars": 5}\n')
    with pytest.raises(DataError, match=r"r\.jsonl.*'review'.*\['title', 'stars'\]"):
        read(json_path, text_columns=("review",))


def test_single_class_names_file_column_and_class(tmp_path):
    path = write(tmp_path / "r.csv", "text,stars\na,5\nb,5.0\n")
    with pytest.raises(DataError, match=r"r\.csv.*'stars'.*one class only, '5'"):
        load_user_data(path, progress=False)


def test_unseen_test_label_is_a_bad_row(tmp_path):
    train = write(tmp_path / "train.csv", "text,label\na,1\nb,2\n")
    test = write(tmp_path / "test.csv", "text,label\nc,1\nd,3\ne,2\n")
    data = load_user_data(train, test=test, progress=False)
    assert data["test"].texts == ["c", "e"]
    assert reasons(data.bad_rows) == [("test.csv", 3, "label not in training classes")]
    with pytest.raises(DataError, match=r"test\.csv:3: label not in training classes \('3'"):
        load_user_data(train, test=test, strict=True, progress=False)


def test_strict_raises_at_the_first_bad_row_with_file_and_line(tmp_path):
    path = write(tmp_path / "r.csv", 'text,label\ngood,1\n"two\nlines",\nbad,1,x\n')
    with pytest.raises(DataError, match=r"r\.csv:3: missing label") as raised:
        load_user_data(path, strict=True, progress=False)
    assert raised.value.line == 3


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match="nowhere.csv"):
        load_user_data(tmp_path / "nowhere.csv", progress=False)
    with pytest.raises(DataError, match="nowhere.csv"):
        read(tmp_path / "nowhere.csv", format="csv")


def test_truncated_gzip_names_file(tmp_path):
    data = gzip.compress(("text,label\n" + "good,1\n" * 20000).encode())
    path = write(tmp_path / "r.csv.gz", data[: len(data) // 2])
    with pytest.raises(DataError, match=r"r\.csv\.gz:\d+: cannot read"):
        read(path)


# ----------------------------------------------------------------------------------------- splits and carving
def test_folder_with_split_sub_folders(tmp_path):
    root = tmp_path / "corpus"
    for split in ("train", "val", "test"):
        write(root / split / "neg" / "a.txt", f"{split} bad")
        write(root / split / "pos" / "a.txt", f"{split} good")
    write(root / "test" / "meh" / "a.txt", "unseen class")
    data = load_user_data(root, progress=False)
    assert sorted(data.split_names) == ["test", "train", "validation"]
    assert data.class_names == ("neg", "pos")
    assert data["validation"].texts == ["val bad", "val good"]
    assert data["test"].labels.tolist() == [0, 1]
    assert data.bad_rows.rows == [(str(root / "test" / "meh" / "a.txt"), 1, "label not in training classes")]
    assert data.formats["test"] == "folder"
    with pytest.raises(DataError, match="split folders"):
        read(root)
    with pytest.raises(DataError, match="--test"):
        load_user_data(root, test=root / "test", progress=False)


def test_carve_split_stratified_seeded_and_both_sides_keep_every_class():
    labels = [0] * 20 + [1] * 2 + [2] * 3
    ds = TextDataset([f"t{i}" for i in range(len(labels))], labels, class_names=("1", "2", "3"))
    rest, carved = carve_split(ds, 0.1, seed=3, name="test", source="r.csv")
    assert sorted(carved.labels.tolist()) == [0, 0, 1, 2]
    assert set(rest.labels.tolist()) == {0, 1, 2}
    assert sorted(rest.ids + carved.ids) == sorted(ds.ids)
    again, carved_again = carve_split(ds, 0.1, seed=3, name="test", source="r.csv")
    assert carved_again.ids == carved.ids
    assert carve_split(ds, 0.1, seed=4, name="test", source="r.csv")[1].ids != carved.ids


def test_carve_split_refuses_a_class_with_one_example():
    ds = TextDataset(["a", "b", "c", "d"], [0, 0, 0, 1], class_names=("1", "3"))
    message = ("class '3' has 1 example(s) in reviews.csv; carving a 10% test split needs at least 2 per class "
               "so that it appears on both sides (the class would be missing from test). Add examples of that "
               "class, drop it, or pass --test FILE.")
    with pytest.raises(DataError) as raised:
        carve_split(ds, 0.1, seed=0, name="test", source="reviews.csv")
    assert str(raised.value) == message
    with pytest.raises(DataError, match="20% validation split.*--validation FILE"):
        carve_split(ds, 0.2, seed=0, name="validation", source="reviews.csv")


# --------------------------------------------------------------------------------------- detection, memory
def test_is_user_data():
    assert not is_user_data("imdb") and not is_user_data("nsmc") and not is_user_data("amazon")
    assert is_user_data("reviews.csv") and is_user_data("reviews.jsonl.gz") and is_user_data("d/reviews")
    assert is_user_data("x.tsv") and is_user_data("x.txt") and is_user_data("x.json") and is_user_data("x.ndjson")
    assert not is_user_data("yelp")


def test_is_user_data_existing_folder(tmp_path, monkeypatch):
    (tmp_path / "myreviews").mkdir()
    monkeypatch.chdir(tmp_path)
    assert is_user_data("myreviews")


def test_detect_format(tmp_path):
    for name, expected in [("a.csv", "csv"), ("a.tsv", "tsv"), ("a.tab", "tsv"), ("a.jsonl", "jsonl"),
                           ("a.ndjson", "jsonl"), ("a.json", "jsonl"), ("a.csv.gz", "csv"), ("a.JSONL.GZ", "jsonl")]:
        assert detect_format(write(tmp_path / name, "")) == expected, name
    assert detect_format(write(tmp_path / "b.txt", '\ufeff {"text": "x"}\n')) == "jsonl"
    assert detect_format(write(tmp_path / "c.txt", "text;label\n")) == "csv"
    assert detect_format(tmp_path) == "folder"
    with pytest.raises(DataError, match="missing.csv"):
        detect_format(tmp_path / "missing.csv")


def _write_csv(handle):
    handle.write("text,label\n")
    handle.writelines("x" * 990 + ",1\n" for _ in range(30_000))


def _write_json_lines(handle):
    handle.writelines(json.dumps({"text": "y" * 990, "label": 1}) + "\n" for _ in range(30_000))


@pytest.mark.parametrize("name, write", [("big.csv", _write_csv), ("big.jsonl", _write_json_lines)])
def test_readers_stream_without_holding_the_file(tmp_path, name, write):
    path = tmp_path / name
    with open(path, "w") as handle:
        write(handle)
    size = path.stat().st_size
    assert size > 29_000_000
    tracemalloc.start()
    try:
        count = sum(1 for _ in read_user_file(path, UserDataOptions(), bad_rows=BadRows()))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 30_000
    assert peak < size / 20, f"peak {peak} bytes while reading a {size}-byte file"


# -------------------------------------------------------------------------------------------------- real data
@pytest.mark.realdata
def test_mcauley_json_with_two_text_columns(shared_datasets):
    path = shared_datasets / "amazon_reviews" / "mcauley2018_5core" / "All_Beauty_5.json.gz"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    options = UserDataOptions(text_columns=("summary", "reviewText"), label_column="overall")
    data = load_user_data(path, options=options, progress=False)
    assert data.formats == {"train": "jsonl"}
    assert data.class_names == ("1", "2", "3", "4", "5")
    train = data["train"]
    assert len(train) + len(data.bad_rows) == 5269
    assert np.bincount(train.labels).tolist()[4] > 4000
    assert train.ids[0] == "All_Beauty_5:1"
    assert all(text.strip() for text in train.texts)
