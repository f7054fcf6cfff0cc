"""Streaming prediction: texts in, one answer per text out, batch by batch, in memory that does not grow with the input.

`read_lines` decodes a binary stream one line at a time; `predict_stream` cuts any iterable of texts into batches,
asks a `Predictor` for each batch and writes that batch's answers (and flushes) before reading on, so the first
answers appear at once and 200k lines need no more memory than 20k. A `Predictor` is anything with `class_names`
and `predict(texts) -> (probabilities, labels)`: `SavedModelPredictor` runs an export locally; a client of a
running TF Serving model server implements the same two members and plugs in through `open_predictor`.

Example:
    >>> import io
    >>> class Longer:                                   # a stand-in predictor: long texts are positive
    ...     class_names = ("negative", "positive")
    ...     def predict(self, texts):
    ...         positive = np.array([min(len(t) / 10, 1.0) for t in texts])
    ...         probabilities = np.stack([1 - positive, positive], axis=1)
    ...         return probabilities, probabilities.argmax(axis=1)
    >>> lines = read_lines(io.BytesIO(b"fine\\r\\nwhat a wonderful film\\n"), source="reviews.txt")
    >>> count = predict_stream(Longer(), lines, sys.stdout, batch_size=1)
    negative  0.600  fine
    positive  1.000  what a wonderful film
    >>> count
    2
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Protocol, TextIO

import numpy as np

from tfsenti.errors import DataError

ERRORS = ("strict", "replace")
DEFAULT_BATCH_SIZE = 256


class Predictor(Protocol):
    """What `predict_stream` needs from a model, wherever it runs (in this process or behind a server).

    `predict(texts)` returns float probabilities of shape (n, C) and integer labels of shape (n,);
    `class_names` names the C columns (may be empty: answers then show the class index).
    """

    class_names: Sequence[str]

    def predict(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]: ...


class SavedModelPredictor:
    """An exported tfsenti model (or any SavedModel with the raw-text `serving_default` signature), run in-process.

    Example:
        >>> import tempfile, tensorflow as tf
        >>> from tfsenti import export
        >>> def by_length(text):
        ...     positive = tf.sigmoid(tf.cast(tf.strings.length(text), tf.float32) - 5.0)
        ...     return tf.stack([1.0 - positive, positive], axis=1)
        >>> folder = export.save_serving_model(tempfile.mkdtemp() + "/m", probabilities_fn=by_length)
        >>> predictor = SavedModelPredictor.load(folder)
        >>> probabilities, labels = predictor.predict(["hi", "a long text"])
        >>> labels.tolist(), probabilities.shape
        ([0, 1], (2, 2))
    """

    def __init__(self, signature, class_names: Sequence[str] = (), *, model=None):
        self.signature = signature
        self.class_names = tuple(class_names)
        self.model = model  # the loaded SavedModel: keeps the signature's variables alive

    @classmethod
    def load(cls, model_path: str | Path) -> SavedModelPredictor:
        """Load the newest version of `model_path` with the class names of its metadata."""
        from tfsenti import export

        model = export.load_model(model_path)
        class_names = export.read_metadata(model_path).get("class_names") or ()
        return cls(model.signatures[export.SIGNATURE], class_names, model=model)

    def predict(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        import tensorflow as tf

        out = self.signature(text=tf.constant(list(texts), dtype=tf.string))
        return out["probabilities"].numpy(), out["label"].numpy()


def open_predictor(model_path: str | Path) -> Predictor:
    """The predictor behind `python cli.py predict MODEL_PATH`: the export at `model_path`, run in this process.

    This is the one place that chooses the backend. A TF Serving client (tfsenti/serving/client.py, for
    `predict --server URL --model NAME`) implements `Predictor` and is chosen here, beside the local SavedModel;
    `predict_stream` and the output formats stay as they are.
    """
    return SavedModelPredictor.load(model_path)


# ---------------------------------------------------------------------------------------------------- reading


def read_lines(stream: BinaryIO, *, source: str, errors: str = "strict") -> Iterator[str]:
    """Decode a binary stream one line at a time, without its line ending ("\\n" or "\\r\\n").

    A leading UTF-8 byte-order mark is dropped. With `errors="strict"` a line that is not UTF-8 raises `DataError`
    naming `source` and the line number; `errors="replace"` turns invalid bytes into U+FFFD, as the exported graph
    does with invalid UTF-8.

    Example:
        >>> list(read_lines(io.BytesIO(b"caf\\xc3\\xa9\\r\\nbad \\xff\\n\\n"), source="x.txt", errors="replace"))
        ['café', 'bad \\ufffd', '']
        >>> list(read_lines(io.BytesIO(b"ok\\nbad \\xff\\n"), source="x.txt"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfsenti.errors.DataError: x.txt:2: this line is not valid UTF-8 (byte 0xff at byte offset 4 ...
    """
    check_errors(errors)
    for number, raw in enumerate(stream, 1):
        if raw.endswith(b"\n"):
            raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield raw.decode("utf-8", errors=errors)
        except UnicodeDecodeError as error:
            raise invalid_utf8_error(error, source=source, line=number) from None


def argument_texts(texts: Iterable[str], *, errors: str = "strict") -> Iterator[str]:
    """Texts given on the command line, checked like file lines: bytes that were not UTF-8 (kept by Python as
    surrogate escapes) raise `DataError` or, with `errors="replace"`, become U+FFFD.

    Example:
        >>> list(argument_texts(["fine", "bad \\udcff"], errors="replace"))
        ['fine', 'bad \\ufffd']
    """
    check_errors(errors)
    for number, text in enumerate(texts, 1):
        try:
            yield text.encode("utf-8", "surrogateescape").decode("utf-8", errors=errors)
        except UnicodeDecodeError as error:
            raise invalid_utf8_error(error, source="argument", line=number) from None


def invalid_utf8_error(error: UnicodeDecodeError, *, source: str, line: int) -> DataError:
    """The one-paragraph error for a line of `source` that is not UTF-8, with both ways out."""
    bad = error.object[error.start:error.end]
    return DataError(
        f"this line is not valid UTF-8 (byte 0x{bad[0]:02x} at byte offset {error.start} of the line: "
        f"{error.reason}). Give UTF-8 text (e.g. convert with `iconv -f cp949 -t utf-8 FILE`), or pass "
        "`--errors replace` to replace invalid bytes with U+FFFD, as the exported model does with such input.",
        path=source, line=line)


def check_errors(errors: str) -> None:
    if errors not in ERRORS:
        raise DataError(f"errors={errors!r} is not a decoding mode; allowed: {', '.join(ERRORS)}. "
                        "Use 'replace' to keep lines that are not UTF-8.")


def batches(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    """Consecutive lists of at most `size` texts, each read only when it is asked for.

    When reading stops with a `DataError` (a line that is not UTF-8), the texts read before it still come out as a
    last, shorter batch, then the error is raised: every line before the bad one gets its answer.

    Example:
        >>> list(batches(iter("abcde"), 2))
        [['a', 'b'], ['c', 'd'], ['e']]
    """
    if size < 1:
        raise DataError(f"batch size must be at least 1, received {size}. Pass --batch-size 256, for example.")
    texts = iter(texts)
    while True:
        batch: list[str] = []
        try:
            for text in itertools.islice(texts, size):
                batch.append(text)
        except DataError:
            if batch:
                yield batch
            raise
        if not batch:
            return
        yield batch


# ---------------------------------------------------------------------------------------------------- writing


def format_text(text: str, probabilities: np.ndarray, label: int, class_names: Sequence[str]) -> str:
    """`label  confidence  text`, the label padded to 9 characters.

    Example:
        >>> format_text("great", np.array([0.1, 0.9]), 1, ["negative", "positive"])
        'positive  0.900  great'
    """
    return f"{class_name(class_names, label):<9} {float(probabilities[label]):.3f}  {text}"


def format_json(text: str, probabilities: np.ndarray, label: int, class_names: Sequence[str]) -> str:
    """One JSON object: text, label (class name), label_index and every class's probability (4 decimals).

    Example:
        >>> line = format_json("최고", np.array([0.12345, 0.87655]), 1, ["negative", "positive"])
        >>> line[:line.index(', "probabilities')]
        '{"text": "최고", "label": "positive", "label_index": 1'
        >>> json.loads(line)["probabilities"]
        {'negative': 0.1235, 'positive': 0.8766}
    """
    return json.dumps({
        "text": text,
        "label": class_name(class_names, label),
        "label_index": int(label),
        "probabilities": {class_name(class_names, c): round(float(p), 4) for c, p in enumerate(probabilities)},
    }, ensure_ascii=False)


def class_name(class_names: Sequence[str], index: int) -> str:
    """The name of class `index`, or the index itself when the model carries no names."""
    index = int(index)
    return str(class_names[index]) if 0 <= index < len(class_names) else str(index)


def predict_stream(
    predictor: Predictor,
    texts: Iterable[str],
    out: TextIO,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    as_json: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Predict `texts` batch by batch, writing and flushing each batch's answers before reading the next batch.

    Returns how many texts were answered (0 for empty input: the caller says what that means). `on_batch(n)` is
    called after each batch of n texts is written (a progress bar, for example).
    """
    form = format_json if as_json else format_text
    count = 0
    for batch in batches(texts, batch_size):
        probabilities, labels = predictor.predict(batch)
        names = predictor.class_names
        out.write("".join(f"{form(text, row, label, names)}\n"
                          for text, row, label in zip(batch, probabilities, labels)))
        out.flush()
        count += len(batch)
        if on_batch is not None:
            on_batch(len(batch))
    return count


def predict_input(
    predictor: Predictor,
    out: TextIO,
    *,
    texts: Sequence[str] = (),
    file: str | Path | None = None,
    stdin: BinaryIO | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    as_json: bool = False,
    errors: str = "strict",
    progress: bool = False,
) -> int:
    """Answer `texts` (command-line arguments), then every line of `file` (a path, or "-" for `stdin`), streaming.

    `progress` shows a bar on stderr while the file is read. Returns the number of texts answered; raises
    `DataError` when there was nothing to answer (an empty file or empty standard input) or a line is not UTF-8
    under `errors="strict"`.

    Example:
        >>> class Constant:
        ...     class_names = ("negative", "positive")
        ...     def predict(self, texts):
        ...         return np.full((len(texts), 2), 0.5), np.zeros(len(texts), np.int64)
        >>> predict_input(Constant(), sys.stdout, file="-", stdin=io.BytesIO(b""))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfsenti.errors.DataError: <stdin>: the input is empty: there are no texts to predict. Give texts as ...
    """
    check_errors(errors)
    source = None if file is None else ("<stdin>" if str(file) == "-" else str(file))
    with contextlib.ExitStack() as stack:
        stream = None
        if file is not None:
            stream = stdin if source == "<stdin>" else stack.enter_context(open(file, "rb"))
        if stream is None and file is not None:
            raise DataError("no standard input to read from. Pipe texts in, or give --file FILE.", path=source)
        lines = read_lines(stream, source=source, errors=errors) if stream is not None else ()
        bar = stack.enter_context(Progress(stream if progress else None, name=Path(source or "").name))
        count = predict_stream(predictor, itertools.chain(argument_texts(texts, errors=errors), lines), out,
                               batch_size=batch_size, as_json=as_json, on_batch=bar)
    if count == 0:
        raise DataError("the input is empty: there are no texts to predict. Give texts as arguments, --file FILE, "
                        "or pipe them on standard input.", path=source)
    return count


# ---------------------------------------------------------------------------------------------------- progress


class Progress:
    """A tqdm bar on stderr for one input: bytes of the file when its size is known (texts shown beside it),
    else a count of texts. `Progress(None)` (disabled) does nothing.

    Example:
        >>> with Progress(None) as progress:
        ...     progress(256)
    """

    def __init__(self, stream: BinaryIO | None, *, name: str = ""):
        self.stream, self.texts, self.bar = stream, 0, None
        if stream is None:
            return
        from tqdm import tqdm

        size = seekable_size(stream)
        if size is None:
            self.bar = tqdm(desc=name, unit=" texts", file=sys.stderr, dynamic_ncols=True)
        else:
            self.bar = tqdm(desc=name, total=size, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                            dynamic_ncols=True)

    def __call__(self, texts: int) -> None:
        self.texts += texts
        if self.bar is None:
            return
        if self.bar.total is None:
            self.bar.update(texts)
            return
        self.bar.set_postfix_str(f"{self.texts:,} texts", refresh=False)
        self.bar.update(self.stream.tell() - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def seekable_size(stream: BinaryIO) -> int | None:
    """Size in bytes of a regular, seekable file from where it now stands, else None (pipes, terminals).

    Example:
        >>> seekable_size(io.BytesIO(b"abc"))
        3
    """
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return end
    except (OSError, ValueError, AttributeError):
        return None
