"""The nnlm-style TF-Hub module, built offline from word vectors (a GloVe / word2vec text file or `WordVectors`).

Like google/nnlm-en-dim50-with-normalization/2, the module maps a batch of sentences to a batch of embeddings:
normalise (strip HTML tags, lower-case, punctuation and symbols to spaces), split on whitespace, optionally add the
character n-grams of every word (fastText-style, `<word>` marked, for agglutinative languages such as Korean),
look the tokens up in the vocabulary with out-of-vocabulary hash buckets, and combine their vectors with the
sqrt-n combiner: sum / sqrt(number of tokens). The embedding matrix is one variable, listed in
`trainable_variables`, so `hub.KerasLayer(..., trainable=True)` fine-tunes it. Everything runs in core TensorFlow
ops, so the module and any model exported with it load without tensorflow_text.

Example:
    >>> import tempfile, numpy as np, tensorflow as tf, tensorflow_hub as hub
    >>> from tfsenti.hub.word_vectors import WordVectors
    >>> vectors = WordVectors(["good", "bad"], np.array([[1.0, 0.0], [0.0, 1.0]], np.float32))
    >>> folder = build_word_vector_module(vectors, tempfile.mkdtemp() + "/m", oov_buckets=2, progress=False)
    >>> layer = hub.KerasLayer(str(folder), input_shape=[], dtype=tf.string)
    >>> layer(tf.constant(["GOOD!", "good bad", ""])).numpy().astype(float).round(3).tolist()
    [[1.0, 0.0], [0.707, 0.707], [0.0, 0.0]]
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tfsenti.hub.saving import write_module
from tfsenti.hub.word_vectors import WordVectors, read_word_vectors

INFO_KIND = "word-vectors"


@dataclasses.dataclass(frozen=True)
class WordTokenization:
    """The module's text -> tokens rules, as graph ops (used by the module and by `tokenize_texts` alike).

    Example:
        >>> import tensorflow as tf
        >>> rules = WordTokenization(char_ngrams=(3, 3))
        >>> [t.decode() for t in rules.tokens(tf.constant(["Great!<br />ok"]))[0].numpy()]
        ['great', 'ok', '<gr', 'gre', 'rea', 'eat', 'at>', '<ok', 'ok>']
    """

    lowercase: bool = True
    normalize: bool = True
    char_ngrams: tuple[int, int] | None = None

    def __post_init__(self):
        if self.char_ngrams is not None:
            low, high = self.char_ngrams
            if not 1 <= low <= high:
                raise ValueError(f"char_ngrams must be (min, max) with 1 <= min <= max, received {self.char_ngrams}")
            object.__setattr__(self, "char_ngrams", (int(low), int(high)))

    def words(self, text):
        """tf.string [B] -> RaggedTensor [B, words]."""
        import tensorflow as tf

        if self.normalize:
            text = tf.strings.regex_replace(text, r"<[^>]*>", " ")
        if self.lowercase:
            text = tf.strings.lower(text, encoding="utf-8")
        if self.normalize:
            text = tf.strings.regex_replace(text, r"[\p{P}\p{S}\p{Z}\p{C}]+", " ")
        return tf.strings.split(text)

    def ngrams(self, words):
        """RaggedTensor [B, words] -> RaggedTensor [B, words, n-grams] of the `<word>`-marked words."""
        import tensorflow as tf

        marked = tf.ragged.map_flat_values(lambda w: tf.strings.join(["<", w, ">"]), words)
        characters = tf.strings.unicode_split(marked, "UTF-8")
        low, high = self.char_ngrams
        return tf.concat([tf.strings.ngrams(characters, n, separator="") for n in range(low, high + 1)], axis=2)

    def tokens(self, text):
        """tf.string [B] -> RaggedTensor [B, tokens]: the words, then (if enabled) all their character n-grams."""
        import tensorflow as tf

        words = self.words(text)
        if self.char_ngrams is None:
            return words
        return tf.concat([words, self.ngrams(words).merge_dims(1, 2)], axis=1)


def tokenize_texts(texts: Sequence[str], rules: WordTokenization, *, batch_size: int = 4096, progress: bool = True
                   ) -> tuple[list[list[str]], list[list[list[str]]] | None]:
    """Run the module's own tokenization over Python strings: (words per text, units per word or None).

    The units of a word are the word and its character n-grams (None when n-grams are off). Feeding these to
    `learn_ppmi_vectors(words, units=units)` gives vectors for exactly the tokens the module will look up.
    """
    import tensorflow as tf
    from tqdm import tqdm

    spec = [tf.TensorSpec([None], tf.string)]
    split_words = tf.function(rules.words, input_signature=spec, autograph=False)
    split_all = tf.function(lambda text: (rules.words(text), rules.ngrams(rules.words(text))), input_signature=spec,
                            autograph=False)
    words_out: list[list[str]] = []
    units_out: list[list[list[str]]] | None = [] if rules.char_ngrams else None
    for start in tqdm(range(0, len(texts), batch_size), desc="tokenize", unit="batch", disable=not progress):
        batch = tf.constant(list(texts[start:start + batch_size]))
        if units_out is None:
            words = split_words(batch)
            words_out.extend(_nested(words.flat_values.numpy(), [words.row_splits.numpy()]))
            continue
        words, grams = split_all(batch)
        batch_words = _nested(words.flat_values.numpy(), [words.row_splits.numpy()])
        batch_grams = _nested(grams.flat_values.numpy(), [grams.row_splits.numpy(), grams.values.row_splits.numpy()])
        words_out.extend(batch_words)
        for row_words, row_grams in zip(batch_words, batch_grams):
            units_out.append([[word] + word_grams for word, word_grams in zip(row_words, row_grams)])
    return words_out, units_out


def _nested(flat_values, splits: list) -> list:
    """Nested lists of str from a ragged tensor's flat values and row splits (outermost first)."""
    items: list = [value.decode("utf-8") for value in flat_values]
    for row_splits in reversed(splits):
        items = [items[row_splits[i]:row_splits[i + 1]] for i in range(len(row_splits) - 1)]
    return items


def build_word_vector_module(
    vectors: str | Path | WordVectors,
    output_dir: str | Path,
    *,
    oov_buckets: int = 1000,
    lowercase: bool = True,
    normalize: bool = True,
    char_ngrams: tuple[int, int] | None = None,
    max_words: int | None = None,
    progress: bool = True,
    source: str | None = None,
) -> Path:
    """Write the nnlm-style module for `vectors` into `output_dir` (atomically) and return the folder.

    `vectors` is a GloVe / word2vec text file or a `WordVectors`. Words are lower-cased like the input text when
    `lowercase` (the first, most frequent, spelling wins). `oov_buckets` extra rows (zeros, trainable) receive
    the hashed out-of-vocabulary tokens.
    """
    import tensorflow as tf

    if oov_buckets < 1:
        raise ValueError(f"oov_buckets must be at least 1, received {oov_buckets}")
    if not isinstance(vectors, WordVectors):
        source = source or str(vectors)
        vectors = read_word_vectors(vectors, max_words=max_words)
    rules = WordTokenization(lowercase=lowercase, normalize=normalize, char_ngrams=char_ngrams)
    words, matrix = _module_vocabulary(vectors, rules)
    matrix = np.concatenate([matrix, np.zeros((oov_buckets, matrix.shape[1]), np.float32)])

    with tempfile.TemporaryDirectory(prefix="tfsenti-vocab-") as scratch:
        vocabulary_file = Path(scratch) / "tokens.txt"
        vocabulary_file.write_text("\n".join(words) + "\n", encoding="utf-8")
        root = tf.train.Checkpoint()
        root.table = tf.lookup.StaticVocabularyTable(
            tf.lookup.TextFileInitializer(str(vocabulary_file), tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
                                          tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER),
            num_oov_buckets=oov_buckets)
        root.embeddings = tf.Variable(matrix, name="embeddings")

        @tf.function(autograph=False)
        def embed(text, training=False):
            del training  # no dropout: the same embedding in training and inference
            ids = root.table.lookup(rules.tokens(text))
            vectors_per_token = tf.gather(root.embeddings, ids.flat_values)
            summed = tf.reduce_sum(tf.RaggedTensor.from_row_splits(vectors_per_token, ids.row_splits), axis=1)
            count = tf.cast(ids.row_lengths(), tf.float32)
            return summed / tf.sqrt(tf.maximum(count, 1.0))[:, None]

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
        def tokenize(text):
            return rules.tokens(text)

        info = {"kind": INFO_KIND, "source": source or "WordVectors", "dim": int(matrix.shape[1]),
                "vocabulary_size": len(words), "oov_buckets": oov_buckets, **dataclasses.asdict(rules)}
        return write_module(root, embed, output_dir, info=info, extra_functions={"tokenize": tokenize},
                            variables=[root.embeddings], trainable=[root.embeddings])


def _module_vocabulary(vectors: WordVectors, rules: WordTokenization) -> tuple[list[str], np.ndarray]:
    """Keys as the module will see them (lower-cased when the module lower-cases), first spelling kept."""
    import tensorflow as tf

    words = vectors.words
    if rules.lowercase:
        words = [w.decode("utf-8") for w in tf.strings.lower(tf.constant(words), encoding="utf-8").numpy()]
    keep, seen = [], set()
    for index, word in enumerate(words):
        if word and word not in seen and "\n" not in word and "\r" not in word:
            seen.add(word)
            keep.append(index)
    return [words[i] for i in keep], np.ascontiguousarray(vectors.matrix[keep], dtype=np.float32)

