"""A client of a running TF Serving model server: REST (`http://host:8501`) or gRPC (`grpc://host:8500`).

`ServingClient(url, model_name).predict(texts)` returns `(probabilities, labels)` like a local export, so it plugs
into `tfsenti.prediction` as a `Predictor`. It addresses the newest version, a version number or a version label;
cuts long inputs into batches; retries with exponential back-off while the server answers UNAVAILABLE / HTTP 503
(loading, overloaded) or refuses connections (starting); and explains every other failure in one paragraph.

REST uses the standard library (urllib): POST /v1/models/NAME[/versions/N|/labels/L]:predict with
{"signature_name": "serving_default", "instances": [{"text": ...}, ...]}; both answer layouts are read, the row
format {"predictions": [{"probabilities": [...], "label": 1}, ...]} and the columnar {"outputs": {...}}.
gRPC uses the PredictionService stub of tensorflow-serving-api.

Example (needs a running server, so not run here):
    client = ServingClient("http://localhost:8501", "imdb-nbbon", label="stable")
    probabilities, labels = client.predict(["What a wonderful film", "지루하고 별로였다"])

Example:
    >>> rest_url("http://localhost:8501", "imdb-nbbon", version=2)
    'http://localhost:8501/v1/models/imdb-nbbon/versions/2:predict'
    >>> rest_url("http://localhost:8501/", "imdb-nbbon", label="canary")
    'http://localhost:8501/v1/models/imdb-nbbon/labels/canary:predict'
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence

import numpy as np

from tfsenti.errors import TfsentiError

SIGNATURE = "serving_default"
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = 0.5  # seconds before the first retry; doubled for each next one
DEFAULT_BATCH_SIZE = 64
SCHEMES = ("http", "https", "grpc")
_CONFIG_HINT = ("The server serves the models named in its models.config (or --model_name); check the name and "
                "that the version or label exists there (`python cli.py serve-config` writes models.config).")


class ServingClientError(TfsentiError):
    """The model server could not be reached or refused the request; the message says what to check."""


class _Retryable(Exception):
    """A failure worth another try (the server is loading, overloaded or starting); carries the final error."""

    def __init__(self, error: ServingClientError):
        super().__init__(str(error))
        self.error = error


def rest_url(base: str, model_name: str, *, version: int | None = None, label: str | None = None) -> str:
    """The REST predict endpoint of `model_name` (its newest version, a version, or a version label)."""
    path = f"/v1/models/{urllib.parse.quote(model_name)}"
    if version is not None:
        path += f"/versions/{int(version)}"
    elif label:
        path += f"/labels/{urllib.parse.quote(label)}"
    return base.rstrip("/") + path + ":predict"


class ServingClient:
    """Predict with a model served by TF Serving; `class_names` is None unless given (the server does not
    know them: they live in the export's assets.extra/tfsenti.json)."""

    def __init__(self, url: str, model_name: str, *, version: int | None = None, label: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES,
                 backoff: float = DEFAULT_BACKOFF, batch_size: int = DEFAULT_BATCH_SIZE,
                 class_names: Sequence[str] | None = None):
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme not in SCHEMES or not parsed.netloc:
            raise ServingClientError(
                f"Unknown server address {url!r}: expected http://HOST:8501 (REST) or grpc://HOST:8500 (gRPC), "
                "the model server's default ports; e.g. --server http://localhost:8501.")
        if version is not None and label:
            raise ServingClientError(f"Give a version ({version}) or a label ({label!r}), not both: a request "
                                     "addresses one version.")
        if batch_size < 1 or retries < 0 or timeout <= 0:
            raise ServingClientError(f"batch_size must be >= 1, retries >= 0 and timeout > 0; received "
                                     f"batch_size={batch_size}, retries={retries}, timeout={timeout}.")
        self.url, self.model_name, self.version, self.label = url, model_name, version, label
        self.timeout, self.retries, self.backoff, self.batch_size = timeout, retries, backoff, batch_size
        self.class_names = tuple(class_names) if class_names else None
        self.protocol = "grpc" if parsed.scheme == "grpc" else "rest"
        self._address = parsed.netloc
        self._base = f"{parsed.scheme}://{parsed.netloc}{parsed.path}"
        self._stub = None
        self._channel = None

    @property
    def target(self) -> str:
        """The model as addressed: `name`, `name@version` or `name:label`."""
        return self.model_name + (f"@{self.version}" if self.version is not None else
                                  f":{self.label}" if self.label else "")

    def predict(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (n, C) float32 and labels (n,) int64 for `texts`, in batches of `batch_size`."""
        texts = list(texts)
        probabilities, labels = [], []
        for start in range(0, len(texts), self.batch_size):
            batch = texts[start:start + self.batch_size]
            p, y = self._with_retries(lambda: self._predict_batch(batch))
            if len(p) != len(batch) or len(y) != len(batch):
                raise ServingClientError(f"The server answered {len(p)} rows for {len(batch)} texts from "
                                         f"{self.target} at {self.url}: is this a tfsenti export?")
            probabilities.append(np.asarray(p, np.float32))
            labels.append(np.asarray(y, np.int64))
        if not probabilities:
            return np.zeros((0, len(self.class_names or ())), np.float32), np.zeros(0, np.int64)
        return np.concatenate(probabilities), np.concatenate(labels)

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = self._stub = None

    def __enter__(self) -> ServingClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ---- retries -------------------------------------------------------------------------------------------
    def _with_retries(self, call):
        for attempt in range(self.retries + 1):
            try:
                return call()
            except _Retryable as failure:
                if attempt == self.retries:
                    raise failure.error from None
                time.sleep(self.backoff * 2 ** attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _predict_batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self._predict_grpc(texts) if self.protocol == "grpc" else self._predict_rest(texts)

    # ---- REST ----------------------------------------------------------------------------------------------
    def _predict_rest(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        url = rest_url(self._base, self.model_name, version=self.version, label=self.label)
        body = json.dumps({"signature_name": SIGNATURE, "instances": [{"text": t} for t in texts]}).encode()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            raise self._http_error(error, url) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise _Retryable(self._unreachable(reason)) from None
        return parse_rest_answer(answer)

    def _http_error(self, error: urllib.error.HTTPError, url: str) -> Exception:
        text = error.read().decode("utf-8", errors="replace").strip()
        try:
            message = json.loads(text).get("error", text)
        except (ValueError, AttributeError):
            message = text
        if error.code == 503:
            return _Retryable(ServingClientError(
                f"The model server at {self.url} answered 503 (unavailable: loading or overloaded) for "
                f"{self.target} {self.retries + 1} times: {message}. Wait until the model is loaded "
                "(GET /v1/models/NAME shows its state) or raise --timeout."))
        if error.code == 404:
            return ServingClientError(f"The model server at {self.url} does not serve {self.target} (POST {url} "
                                      f"-> 404): {message}. {_CONFIG_HINT}")
        return ServingClientError(f"The model server at {self.url} refused the request for {self.target} "
                                  f"(HTTP {error.code}): {message}. The request was "
                                  '{"signature_name": "serving_default", "instances": [{"text": ...}]}; a tfsenti '
                                  "export takes raw UTF-8 text in `text`.")

    def _unreachable(self, reason) -> ServingClientError:
        return ServingClientError(
            f"Cannot reach a model server at {self.url} ({reason}) after {self.retries + 1} tries. Is the server "
            f"running and listening on {self._address}? REST is on port 8501 and gRPC on 8500 by default; start "
            "one with the docker command that `python cli.py serve-config` prints.")

    # ---- gRPC ----------------------------------------------------------------------------------------------
    def _predict_grpc(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        import grpc
        import tensorflow as tf
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        from tfsenti.serving.warmup import predict_request

        if self._stub is None:
            self._channel = grpc.insecure_channel(self._address)
            self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        request = predict_request(texts, model_name=self.model_name)
        if self.version is not None:
            request.model_spec.version.value = int(self.version)
        elif self.label:
            request.model_spec.version_label = self.label
        try:
            response = self._stub.Predict(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise self._grpc_error(error) from None
        missing = {"probabilities", "label"} - set(response.outputs)
        if missing:
            raise ServingClientError(f"{self.target} at {self.url} answered without outputs {sorted(missing)} "
                                     f"(it has {sorted(response.outputs)}): is this a tfsenti export?")
        return tf.make_ndarray(response.outputs["probabilities"]), tf.make_ndarray(response.outputs["label"])

    def _grpc_error(self, error) -> Exception:
        import grpc

        code, details = error.code(), error.details()
        if code == grpc.StatusCode.UNAVAILABLE:
            if "connect" in (details or "").lower():
                return _Retryable(self._unreachable(details))
            return _Retryable(ServingClientError(
                f"The model server at {self.url} answered UNAVAILABLE for {self.target} {self.retries + 1} times: "
                f"{details}. Wait until the model is loaded or raise --timeout."))
        if code == grpc.StatusCode.NOT_FOUND:
            return ServingClientError(f"The model server at {self.url} does not serve {self.target}: {details}. "
                                      f"{_CONFIG_HINT}")
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return ServingClientError(f"No answer from {self.url} for {self.target} within {self.timeout:g} s. "
                                      "Raise --timeout or send fewer texts per request (batch size).")
        return ServingClientError(f"The model server at {self.url} refused the request for {self.target} "
                                  f"({code.name}): {details}.")


def parse_rest_answer(answer: dict) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and labels from a REST predict answer, row format or columnar.

    Example:
        >>> rows = {"predictions": [{"probabilities": [0.2, 0.8], "label": 1}]}
        >>> columns = {"outputs": {"probabilities": [[0.2, 0.8]], "label": [1]}}
        >>> [p.tolist() for p in parse_rest_answer(rows)] == [p.tolist() for p in parse_rest_answer(columns)]
        True
    """
    if "predictions" in answer:
        rows = answer["predictions"]
        if rows and not isinstance(rows[0], dict):
            raise ServingClientError(f"The answer's rows are not objects with `probabilities` and `label` "
                                     f"(first row: {str(rows[0])[:200]}): is this a tfsenti export?")
        probabilities = np.array([row["probabilities"] for row in rows], np.float32)
        labels = np.array([row["label"] for row in rows], np.int64)
    elif isinstance(answer.get("outputs"), dict):
        probabilities = np.array(answer["outputs"]["probabilities"], np.float32)
        labels = np.array(answer["outputs"]["label"], np.int64)
    else:
        raise ServingClientError(f"Unexpected answer from the model server: expected `predictions` (row format) or "
                                 f"`outputs` (columnar); received keys {sorted(answer)[:10]}.")
    return (probabilities.reshape(len(labels), -1) if len(labels) else probabilities.reshape(0, 0)), labels


class ServerPredictor:
    """A `tfsenti.prediction.Predictor` backed by a model server (what `predict --server URL` streams through).

    `model` is the served model's name, or a local export folder: its folder name is then the default model name
    and its metadata gives the class names (else they are unknown: answers show class indexes).

    Example:
        >>> predictor = ServerPredictor("http://localhost:8501", "imdb-nbbon", version=2)
        >>> predictor.client.target, predictor.class_names
        ('imdb-nbbon@2', ())
    """

    def __init__(self, url: str, model: str, *, model_name: str | None = None, **client_options):
        from pathlib import Path

        from tfsenti.export import read_metadata, resolve_version

        path, class_names = Path(model), None
        if path.is_dir():
            folder = resolve_version(path)
            path = folder.parent if folder != path or path.name.isdigit() else path
            class_names = read_metadata(folder).get("class_names")
        self.client = ServingClient(url, model_name or path.name, class_names=class_names, **client_options)

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.client.class_names or ()

    def predict(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.client.predict(texts)
