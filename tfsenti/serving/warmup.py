"""TF Serving warm-up records: `assets.extra/tf_serving_warmup_requests`.

When a model server loads a version it replays the PredictionLog records of this TFRecord file before it marks the
version available, so the first real request does not pay for graph initialisation (lookup tables, tokenizer
resources, kernel selection). Each record holds a PredictRequest for `serving_default` with a `text` string tensor.

Example:
    >>> texts = warmup_texts(["en"])
    >>> "" in texts and any(len(t) > 1000 for t in texts)
    True
    >>> request = predict_request(["great movie"], model_name="imdb-nbbon")
    >>> request.model_spec.signature_name, request_texts(request)
    ('serving_default', ['great movie'])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

WARMUP_FILE = "tf_serving_warmup_requests"
SIGNATURE = "serving_default"
INPUT = "text"

# A few representative reviews per language: short, long and empty (the empty one is added once for all).
_SAMPLES = {
    "en": ["Great movie!",
           "The plot was thin and the acting wooden, but the soundtrack almost saved it. ",
           "I went in expecting a light comedy and came out having watched one of the most careful portraits of a "
           "family I have seen in years; every scene earns its place, the dialogue never explains itself, and the "
           "last ten minutes are as quiet as they are devastating. <br /><br /> Highly recommended. "],
    "ko": ["정말 재미있다",
           "배우들 연기는 좋았는데 줄거리가 너무 지루했다. ",
           "기대 없이 봤는데 생각보다 훨씬 좋았다. 가족 이야기를 이렇게 담담하게 "
           "그린 영화는 오랜만이고, 배우들의 연기가 자연스러워서 끝까지 몰입해서 "
           "봤다. 마지막 장면은 한동안 잊지 못할 것 같다. 강력 추천! "],
}
LANGUAGES = tuple(_SAMPLES)
LONG_REPEAT = 12  # the long sample is repeated to a few thousand characters, longer than any sequence_length


def warmup_texts(languages: Iterable[str] | None = None) -> list[str]:
    """Short, medium and long texts of each language (all known languages when None or none known), plus ''."""
    chosen = [language for language in (languages or ()) if language in _SAMPLES] or list(LANGUAGES)
    texts = []
    for language in chosen:
        short, medium, long = _SAMPLES[language]
        texts += [short, medium.strip(), (long * LONG_REPEAT).strip()]
    return texts + [""]


def languages_of(metadata: Mapping[str, Any]) -> list[str]:
    """The languages an export serves: metadata["languages"], else those of its named dataset, else []."""
    if metadata.get("languages"):
        return list(metadata["languages"])
    from tfsenti.data.registry import REGISTRY

    spec = REGISTRY.get(str(metadata.get("dataset", "")))
    return list(spec.languages) if spec is not None else []


def predict_request(texts: Sequence[str | bytes], *, model_name: str = ""):
    """A PredictRequest for `serving_default` whose `text` input is the string tensor of `texts` (shape [n])."""
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = model_name
    request.model_spec.signature_name = SIGNATURE
    values = [t.encode("utf-8") if isinstance(t, str) else bytes(t) for t in texts]
    request.inputs[INPUT].CopyFrom(tf.make_tensor_proto(values, dtype=tf.string, shape=[len(values)]))
    return request


def request_texts(request) -> list[str]:
    """The texts of a PredictRequest's `text` input (invalid UTF-8 replaced by U+FFFD)."""
    return [value.decode("utf-8", errors="replace") for value in request.inputs[INPUT].string_val]


def write_warmup_requests(model_dir: str | Path, texts: Sequence[str] | None = None, *,
                          model_name: str = "") -> Path:
    """Write `model_dir/assets.extra/tf_serving_warmup_requests`: one request per text, then one with all texts
    (so both a single-text and a batched call are warmed). Returns the file's path."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    texts = list(warmup_texts() if texts is None else texts)
    batches = [[text] for text in texts] + ([texts] if len(texts) > 1 else [])
    path = Path(model_dir) / "assets.extra" / WARMUP_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for batch in batches:
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=predict_request(batch, model_name=model_name)))
            writer.write(log.SerializeToString())
    return path


def read_warmup_requests(model_dir: str | Path) -> list:
    """The PredictRequests of `model_dir`'s warm-up file ([] when the file is absent)."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    path = Path(model_dir) / "assets.extra" / WARMUP_FILE
    if not path.is_file():
        return []
    requests = []
    for record in tf.data.TFRecordDataset(str(path)):
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        requests.append(log.predict_log.request)
    return requests
