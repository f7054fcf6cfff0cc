"""Word and character n-gram analyzer, written twice on purpose: Python (training) and TensorFlow graph (serving).

Both implementations turn one raw text into the same SET of features (the parity test in `tests/test_ngrams.py`
checks this on Korean, emoji, HTML breaks, mixed case, empty and 100k-character texts):

1. truncate the raw text to `max_chars` code points (when set);
2. replace HTML line breaks (`<br>`, `<br/>`, `<br />`, any case) by a space;
3. lowercase (when `lowercase`): Python's `str.lower` and `tf.strings.lower(encoding="utf-8")` (ICU) are both the
   full Unicode lowercase mapping, so final sigma (`ΣΑΣ` -> `σας`) and `İ` -> `i̇` agree. Caveat: characters that
   are new in only one of the two Unicode versions (Python's `unicodedata` vs TF's ICU) could differ;
4. word tokens (`TOKEN_PATTERN`, the same RE2-compatible pattern string for the `regex` module and for TF):
   - a word is a run of letters/digits (`\\p{L}\\p{N}`, plus combining marks `\\p{M}` after the first character),
     with apostrophes (`'` or `’`) allowed between such runs: `don't` is one token;
   - every other non-space character is a token of its own (punctuation runs give one token per symbol), except
     that combining marks, emoji skin-tone modifiers and zero-width-joiner sequences stay attached to the symbol
     they follow, so `❤️`, `👍🏽` and `👨‍👩‍👧` are single tokens;
   word n-grams join tokens with one space and are prefixed `w:`;
5. character n-grams run over the (broken, lowercased) text with every whitespace run (`WHITESPACE_PATTERN`,
   Unicode spaces included) collapsed to one space and the ends stripped; they count code points, include the
   space, and are prefixed `c:`. A word's `w:` and a character n-gram's `c:` prefix keep the two kinds apart.

Example:
    >>> analyzer = NgramAnalyzer(AnalyzerConfig(word_ngrams=(1, 2), char_ngrams=None))
    >>> analyzer("Don't<br />STOP!!")
    ["w:don't", 'w:stop', 'w:!', 'w:!', "w:don't stop", 'w:stop !', 'w:! !']
    >>> import tensorflow as tf
    >>> [f.decode() for f in tf_analyze(tf.constant(["Don't<br />STOP!!"]), analyzer.config)[0].numpy()][:2]
    ["w:don't", 'w:stop']
"""

from __future__ import annotations

import dataclasses

import regex

# ---- the shared pattern strings (valid for RE2 and for the `regex` module) ----------------------------------
_SPACE_CHARS = r"\p{Z}\t\n\v\f\r" + "\x1c-\x1f\x85"  # literal characters: RE2 and `regex` differ on \x{..}
_WORD_CHARS = r"\p{L}\p{N}"
_ATTACHED = r"\p{M}" + "\U0001F3FB-\U0001F3FF"  # combining marks (incl. VS16, keycap) and emoji skin-tone modifiers
_ZWJ = "\u200d"
_SYMBOL = rf"[^{_WORD_CHARS}{_SPACE_CHARS}]"

BREAK_PATTERN = r"<[bB][rR][ \t\n\v\f\r]*/?>"
WHITESPACE_PATTERN = rf"[{_SPACE_CHARS}]+"
TOKEN_PATTERN = (
    rf"[{_WORD_CHARS}][{_WORD_CHARS}\p{{M}}]*(?:['’][{_WORD_CHARS}][{_WORD_CHARS}\p{{M}}]*)*"
    rf"|{_SYMBOL}[{_ATTACHED}]*(?:{_ZWJ}{_SYMBOL}[{_ATTACHED}]*)*"
)
WORD_PREFIX, CHAR_PREFIX = "w:", "c:"


@dataclasses.dataclass(frozen=True)
class AnalyzerConfig:
    """What features a text yields: word n-grams, character n-grams, or both.

    `word_ngrams` / `char_ngrams` are inclusive (min, max) ranges or None (that kind off); `max_chars` truncates
    very long raw texts (None = no limit; both implementations handle 100k-character texts either way).

    Example:
        >>> AnalyzerConfig(word_ngrams=None, char_ngrams=(1, 3)).char_ngrams
        (1, 3)
    """

    word_ngrams: tuple[int, int] | None = (1, 3)
    char_ngrams: tuple[int, int] | None = None
    lowercase: bool = True
    max_chars: int | None = None

    def __post_init__(self):
        for name in ("word_ngrams", "char_ngrams"):
            value = getattr(self, name)
            if value is None:
                continue
            value = tuple(value)
            if len(value) != 2 or not all(isinstance(v, int) for v in value) or not 1 <= value[0] <= value[1]:
                raise ValueError(f"{name} must be (min, max) with 1 <= min <= max, or None; received {value!r}")
            object.__setattr__(self, name, value)
        if self.word_ngrams is None and self.char_ngrams is None:
            raise ValueError("At least one of word_ngrams and char_ngrams must be set, received both None.")
        if self.max_chars is not None and self.max_chars < 1:
            raise ValueError(f"max_chars must be a positive integer or None, received {self.max_chars!r}")


class NgramAnalyzer:
    """The Python analyzer: `analyzer(text)` -> list of features (with repeats, in a fixed order).

    Picklable, so that `tfsenti.text.vectorize` can run it in worker processes.

    Example:
        >>> NgramAnalyzer(AnalyzerConfig(word_ngrams=None, char_ngrams=(2, 2)))("아  더빙")
        ['c:아 ', 'c: 더', 'c:더빙']
    """

    def __init__(self, config: AnalyzerConfig):
        self.config = config
        self._break = regex.compile(BREAK_PATTERN)
        self._space = regex.compile(WHITESPACE_PATTERN)
        self._token = regex.compile(TOKEN_PATTERN)

    def __getstate__(self):
        return {"config": self.config}

    def __setstate__(self, state):
        self.__init__(state["config"])

    def normalize(self, text: str) -> str:
        """Steps 1-3: truncate, break HTML line breaks, lowercase."""
        config = self.config
        if config.max_chars is not None:
            text = text[: config.max_chars]
        if "<" in text:
            text = self._break.sub(" ", text)
        return text.lower() if config.lowercase else text

    def __call__(self, text: str) -> list[str]:
        config = self.config
        text = self.normalize(text)
        features: list[str] = []
        if config.word_ngrams is not None:
            tokens = self._token.findall(text)
            _add_ngrams(features, tokens, config.word_ngrams, WORD_PREFIX, " ")
        if config.char_ngrams is not None:
            collapsed = self._space.sub(" ", text).strip(" ")
            _add_ngrams(features, collapsed, config.char_ngrams, CHAR_PREFIX, "")
        return features


def _add_ngrams(out: list[str], units, ngram_range: tuple[int, int], prefix: str, separator: str) -> None:
    # zip + str.join keep the loops in C: this is the hot path of training
    low, high = ngram_range
    if high > len(units):
        high = len(units)
    if low > high:
        return
    prefixed = [prefix + unit for unit in units]
    join = separator.join
    for n in range(low, high + 1):
        if n == 1:
            out.extend(prefixed)
        else:
            out.extend(map(join, zip(prefixed, *[units[i:] for i in range(1, n)])))


def tf_analyze(text, config: AnalyzerConfig):
    """The TensorFlow graph analyzer: tf.string [batch] -> tf.RaggedTensor [batch, (features)] of tf.string.

    Only core TF ops (`tf.strings.*`), so a SavedModel using it loads without tensorflow_text. The features of a
    row are the same multiset as `NgramAnalyzer(config)(text)`, not necessarily in the same order.

    Example:
        >>> import tensorflow as tf
        >>> out = tf_analyze(tf.constant(["ab"]), AnalyzerConfig(word_ngrams=None, char_ngrams=(1, 2)))
        >>> sorted(f.decode() for f in out[0].numpy())
        ['c:a', 'c:ab', 'c:b']
    """
    import tensorflow as tf

    text = tf.convert_to_tensor(text, dtype=tf.string)
    if config.max_chars is not None:
        text = tf.strings.substr(text, 0, config.max_chars, unit="UTF8_CHAR")
    text = tf.strings.regex_replace(text, BREAK_PATTERN, " ")
    if config.lowercase:
        text = tf.strings.lower(text, encoding="utf-8")
    collapsed = tf.strings.strip(tf.strings.regex_replace(text, WHITESPACE_PATTERN, " "))
    parts = []
    if config.word_ngrams is not None:
        spaced = tf.strings.regex_replace(collapsed, TOKEN_PATTERN, r" \0 ")
        tokens = tf.strings.split(spaced)  # splits on ASCII whitespace; tokens never contain any
        parts.append(_tf_ngrams(tokens, config.word_ngrams, WORD_PREFIX, " "))
    if config.char_ngrams is not None:
        chars = tf.strings.unicode_split(collapsed, "UTF-8")
        parts.append(_tf_ngrams(chars, config.char_ngrams, CHAR_PREFIX, ""))
    return parts[0] if len(parts) == 1 else tf.concat(parts, axis=1)


def _tf_ngrams(units, ngram_range: tuple[int, int], prefix: str, separator: str):
    import tensorflow as tf

    low, high = ngram_range
    grams = tf.strings.ngrams(units, ngram_width=list(range(low, high + 1)), separator=separator)
    return tf.ragged.map_flat_values(lambda values: tf.strings.join([prefix, values]), grams)
