"""Streaming prediction: answers before the input ends, flat memory, UTF-8 handling, output formats, the CLI."""

import io
import json
import os
import tracemalloc

import numpy as np
import pytest
from click.testing import CliRunner

import cli
from tfsenti import export, prediction
from tfsenti.errors import DataError

CLASS_NAMES = ("bad", "good")  # not the usual names: the output must take them from the export metadata


class LengthPredictor:
    """A predictor double: texts longer than 5 characters are `good`; records every batch it is asked for."""

    class_names = CLASS_NAMES

    def __init__(self, events=None):
        self.events = events if events is not None else []
        self.batch_sizes = []

    def predict(self, texts):
        self.batch_sizes.append(len(texts))
        self.events.append(("predict", len(texts)))
        good = np.array([0.9 if len(text) > 5 else 0.2 for text in texts])
        probabilities = np.stack([1.0 - good, good], axis=1)
        return probabilities, probabilities.argmax(axis=1)


class RecordingSink(io.StringIO):
    def __init__(self, events):
        super().__init__()
        self.events = events

    def write(self, text):
        self.events.append(("write", text.count("\n")))
        return super().write(text)


class NullSink:
    def write(self, text):
        return len(text)

    def flush(self):
        pass


def _length_model(text):
    import tensorflow as tf

    good = tf.sigmoid(tf.cast(tf.strings.length(text), tf.float32) - 5.5)
    return tf.stack([1.0 - good, good], axis=1)


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory):
    root = tmp_path_factory.mktemp("saved_models")
    export.publish(lambda folder: export.save_serving_model(folder, probabilities_fn=_length_model), "tiny",
                   root=root, metadata={"class_names": list(CLASS_NAMES)})
    return str(root / "tiny")


def _write_lines(path, count):
    with open(path, "wb") as handle:
        for index in range(count):
            handle.write(f"review number {index} was {'great' if index % 2 else 'bad'}\n".encode())
    return path


# ---------------------------------------------------------------------------------------------------- streaming


def test_first_answers_are_written_before_the_last_line_is_read():
    events = []

    def texts():
        for index in range(1000):
            events.append(("read", index))
            yield f"text {index}"

    predictor = LengthPredictor(events)
    count = prediction.predict_stream(predictor, texts(), RecordingSink(events), batch_size=256)
    assert count == 1000
    assert predictor.batch_sizes == [256, 256, 256, 232]
    first_write = events.index(("write", 256))
    assert first_write < events.index(("read", 999))
    assert events.index(("read", 256)) > first_write  # nothing of the second batch is read before the first is out


def test_memory_does_not_grow_with_the_number_of_lines(tmp_path):
    def peak(lines):
        path = _write_lines(tmp_path / f"{lines}.txt", lines)
        tracemalloc.start()
        try:
            prediction.predict_input(LengthPredictor(), NullSink(), file=path, batch_size=256)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(20_000), peak(200_000)
    # keeping every text (or every answer) would take > 15 MB for 200k lines, 10x the 20k figure
    assert large < 1.5 * small + 200_000, (small, large)
    assert large < 1_000_000, (small, large)


# ---------------------------------------------------------------------------------------------------- reading


def test_line_endings_bom_and_empty_lines():
    raw = b"\xef\xbb\xbffirst\r\nsecond\n\nlast without newline"
    assert list(prediction.read_lines(io.BytesIO(raw), source="x")) == ["first", "second", "", "last without newline"]
    assert list(prediction.read_lines(io.BytesIO(b"a\r\r\n"), source="x")) == ["a\r"]  # strips one ending only


def test_invalid_utf8_stops_with_file_and_line(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_bytes("good film\n좋은 영화\n".encode() + "나쁜 영화\n".encode("cp949") + b"more\n")
    with pytest.raises(DataError) as caught:
        prediction.predict_input(LengthPredictor(), NullSink(), file=path)
    assert caught.value.line == 3 and caught.value.path == str(path)
    assert "not valid UTF-8" in str(caught.value) and "--errors replace" in str(caught.value)


def test_errors_replace_matches_python_replacement(tmp_path):
    bad = "나쁜 영화".encode("cp949")
    path = tmp_path / "reviews.txt"
    path.write_bytes(b"ok\n" + bad + b"\n")
    out = io.StringIO()
    prediction.predict_input(LengthPredictor(), out, file=path, errors="replace", as_json=True)
    texts = [json.loads(line)["text"] for line in out.getvalue().splitlines()]
    assert texts == ["ok", bad.decode("utf-8", "replace")] and "\ufffd" in texts[1]


def test_arguments_that_are_not_utf8():
    with pytest.raises(DataError, match="argument:2"):
        list(prediction.argument_texts(["fine", "bad \udcff"]))
    assert list(prediction.argument_texts(["bad \udcff"], errors="replace")) == ["bad \ufffd"]


def test_empty_file_and_empty_stdin_say_so(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty.txt: the input is empty"):
        prediction.predict_input(LengthPredictor(), NullSink(), file=empty)
    with pytest.raises(DataError, match="<stdin>: the input is empty"):
        prediction.predict_input(LengthPredictor(), NullSink(), file="-", stdin=io.BytesIO(b""))


def test_unknown_errors_mode_lists_the_allowed_ones():
    with pytest.raises(DataError, match="allowed: strict, replace"):
        list(prediction.read_lines(io.BytesIO(b"x"), source="x", errors="ignore"))


# ---------------------------------------------------------------------------------------------------- writing


def test_text_output_uses_class_names():
    out = io.StringIO()
    prediction.predict_stream(LengthPredictor(), ["short", "much longer text"], out)
    assert out.getvalue().splitlines() == ["bad       0.800  short", "good      0.900  much longer text"]


def test_json_output():
    out = io.StringIO()
    prediction.predict_stream(LengthPredictor(), ["지루하다", "what a wonderful film"], out, as_json=True)
    lines = out.getvalue().splitlines()
    assert "지루하다" in lines[0]  # not escaped
    first, second = (json.loads(line) for line in lines)
    assert set(first) == {"text", "label", "label_index", "probabilities"}
    assert (first["label"], first["label_index"]) == ("bad", 0)
    assert (second["text"], second["label"], second["label_index"]) == ("what a wonderful film", "good", 1)
    assert second["probabilities"] == {"bad": 0.1, "good": 0.9}


def test_json_probabilities_are_rounded_to_four_decimals():
    line = prediction.format_json("x", np.array([0.123456, 0.876544]), 1, CLASS_NAMES)
    assert json.loads(line)["probabilities"] == {"bad": 0.1235, "good": 0.8765}


def test_missing_class_names_fall_back_to_indices():
    assert prediction.format_text("x", np.array([0.3, 0.7]), 1, ()).startswith("1         0.700")


def test_progress_counts_bytes_of_a_seekable_file(tmp_path):
    path = _write_lines(tmp_path / "a.txt", 600)
    with open(path, "rb") as stream, prediction.Progress(stream, name="a.txt") as progress:
        prediction.predict_stream(LengthPredictor(), prediction.read_lines(stream, source="a.txt"), NullSink(),
                                  on_batch=progress)
        assert progress.bar.total == os.path.getsize(path) == progress.bar.n
        assert progress.texts == 600


# ---------------------------------------------------------------------------------------------------- the CLI


def test_saved_model_predictor_reads_class_names(tiny_export):
    predictor = prediction.open_predictor(tiny_export)
    assert predictor.class_names == CLASS_NAMES
    probabilities, labels = predictor.predict(["short", "a long text"])
    assert labels.tolist() == [0, 1] and probabilities.shape == (2, 2)


def test_cli_arguments_file_and_stdin(tiny_export, tmp_path):
    runner = CliRunner()
    by_args = runner.invoke(cli.main, ["predict", tiny_export, "short", "a long text"])
    assert by_args.exit_code == 0, by_args.output
    assert [line.split()[0] for line in by_args.stdout.splitlines()] == ["bad", "good"]

    path = tmp_path / "texts.txt"
    path.write_bytes("정말 재미있는 영화\r\nmeh\n".encode())
    by_file = runner.invoke(cli.main, ["predict", tiny_export, "--file", str(path), "--json", "--batch-size", "1",
                                       "--no-progress"])
    assert by_file.exit_code == 0, by_file.output
    answers = [json.loads(line) for line in by_file.stdout.splitlines()]
    assert [(a["text"], a["label"]) for a in answers] == [("정말 재미있는 영화", "good"), ("meh", "bad")]
    assert set(answers[0]["probabilities"]) == set(CLASS_NAMES)

    by_stdin = runner.invoke(cli.main, ["predict", tiny_export], input="a long text\nshort\n")
    assert [line.split()[0] for line in by_stdin.stdout.splitlines()] == ["good", "bad"]
    by_dash = runner.invoke(cli.main, ["predict", tiny_export, "--file", "-"], input="a long text\n")
    assert by_dash.stdout.split()[0] == "good"


def test_cli_invalid_utf8_and_empty_input(tiny_export, tmp_path):
    runner = CliRunner()
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine\nfine too\n\xff\xfe broken\n")
    strict = runner.invoke(cli.main, ["predict", tiny_export, "--file", str(path)])
    assert strict.exit_code != 0 and strict.exception is not None and isinstance(strict.exception, SystemExit)
    assert f"{path}:3:" in strict.stderr and "--errors replace" in strict.stderr
    assert [line.split()[-1] for line in strict.stdout.splitlines()] == ["fine", "too"]  # lines before it answered
    assert "Traceback" not in strict.output
    replaced = runner.invoke(cli.main, ["predict", tiny_export, "--file", str(path), "--errors", "replace"])
    assert replaced.exit_code == 0 and len(replaced.stdout.splitlines()) == 3
    assert "\ufffd\ufffd broken" in replaced.stdout

    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    for arguments, stdin in ((["--file", str(empty)], None), ([], "")):
        result = runner.invoke(cli.main, ["predict", tiny_export, *arguments], input=stdin)
        assert result.exit_code != 0 and "the input is empty" in result.stderr
        assert result.stdout == ""
