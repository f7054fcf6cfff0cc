"""The TF Serving client against test doubles: a local http.server answering in TF Serving's documented REST shapes,
and an in-process gRPC server implementing PredictionService by running a real SavedModel."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from concurrent import futures

import numpy as np
import pytest

from tfsenti import export
from tfsenti.serving.client import ServingClient, ServingClientError

TEXTS = ["hi", "a long text", "", "정말 재미있는 영화"]


def _length_model(text):
    import tensorflow as tf

    positive = tf.sigmoid(tf.cast(tf.strings.length(text, unit="UTF8_CHAR"), tf.float32) - 5.0)
    return tf.stack([1.0 - positive, positive], axis=1)


def _expected(texts):
    positive = 1 / (1 + np.exp(-(np.array([len(t) for t in texts], np.float32) - 5.0)))
    probabilities = np.stack([1 - positive, positive], axis=1)
    return probabilities, probabilities.argmax(1)


# ---- REST test double ------------------------------------------------------------------------------------------
class RestServingDouble:
    """A stand-in for TF Serving's REST API (not the model server): answers scripted per request, records them."""

    def __init__(self, layout="rows", script=()):
        self.layout, self.script, self.requests = layout, list(script), []
        double = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                double.requests.append((self.path, body))
                status, answer = double.script.pop(0) if double.script else (200, None)
                if answer is None:
                    answer = double.answer([row["text"] for row in body["instances"]])
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, texts):
        probabilities, labels = _expected(texts)
        if self.layout == "rows":  # TF Serving's row format: one object per instance
            return {"predictions": [{"probabilities": p.tolist(), "label": int(y)}
                                    for p, y in zip(probabilities, labels)]}
        return {"outputs": {"probabilities": probabilities.tolist(), "label": labels.tolist()}}  # columnar

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def rest_double(request):
    double = RestServingDouble(**getattr(request, "param", {}))
    yield double
    double.close()


@pytest.mark.parametrize("rest_double", [{"layout": "rows"}, {"layout": "columns"}], indirect=True)
def test_rest_predict_in_batches(rest_double):
    client = ServingClient(rest_double.url, "imdb-nbbon", batch_size=3, class_names=["neg", "pos"])
    probabilities, labels = client.predict(TEXTS)
    expected, expected_labels = _expected(TEXTS)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-6)
    assert labels.tolist() == expected_labels.tolist() and labels.dtype == np.int64
    assert [path for path, _ in rest_double.requests] == ["/v1/models/imdb-nbbon:predict"] * 2
    assert rest_double.requests[0][1] == {"signature_name": "serving_default",
                                          "instances": [{"text": t} for t in TEXTS[:3]]}
    assert client.class_names == ("neg", "pos")
    assert ServingClient(rest_double.url, "m").class_names is None


def test_rest_versions_and_labels(rest_double):
    ServingClient(rest_double.url, "m", version=2).predict(["x"])
    ServingClient(rest_double.url, "m", label="canary").predict(["x"])
    assert [path for path, _ in rest_double.requests] == ["/v1/models/m/versions/2:predict",
                                                          "/v1/models/m/labels/canary:predict"]


@pytest.mark.parametrize("rest_double", [{"script": [(503, {"error": "Model is loading"})] * 2}], indirect=True)
def test_rest_retries_503_with_backoff(rest_double):
    probabilities, _ = ServingClient(rest_double.url, "m", retries=2, backoff=0.01).predict(["hi"])
    assert len(rest_double.requests) == 3 and probabilities.shape == (1, 2)


@pytest.mark.parametrize("rest_double", [{"script": [(503, {"error": "Model is loading"})] * 2}], indirect=True)
def test_rest_gives_up_after_the_retries(rest_double):
    with pytest.raises(ServingClientError, match="503.*Model is loading"):
        ServingClient(rest_double.url, "m", retries=1, backoff=0.01).predict(["hi"])
    assert len(rest_double.requests) == 2


@pytest.mark.parametrize("rest_double", [{"script": [
    (404, {"error": "Servable not found for request: Latest(nope)"})]}], indirect=True)
def test_rest_unknown_model(rest_double):
    with pytest.raises(ServingClientError, match=r"does not serve nope.*Servable not found.*models\.config"):
        ServingClient(rest_double.url, "nope", backoff=0.01).predict(["hi"])
    assert len(rest_double.requests) == 1  # not retried


@pytest.mark.parametrize("rest_double", [{"script": [(400, {"error": "JSON Value: {} Is not a string"})]}],
                         indirect=True)
def test_rest_4xx_body_is_shown(rest_double):
    with pytest.raises(ServingClientError, match=r"HTTP 400\): JSON Value: \{\} Is not a string"):
        ServingClient(rest_double.url, "m").predict(["hi"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("scheme", ["http", "grpc"])
def test_refused_connection_says_what_to_check(scheme):
    port = _free_port()
    client = ServingClient(f"{scheme}://127.0.0.1:{port}", "m", retries=1, backoff=0.01, timeout=5)
    with pytest.raises(ServingClientError, match=rf"Is the server running and listening on 127.0.0.1:{port}"):
        client.predict(["hi"])


def test_bad_arguments():
    with pytest.raises(ServingClientError, match="http://HOST:8501"):
        ServingClient("localhost:8501", "m")
    with pytest.raises(ServingClientError, match="not both"):
        ServingClient("http://h:8501", "m", version=1, label="stable")


# ---- gRPC test double ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def grpc_double(tmp_path_factory):
    """A stand-in for the model server (not TF Serving): PredictionService over real gRPC, answering by running a
    real SavedModel; the first request of a model named `flaky` answers UNAVAILABLE."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    folder = export.save_serving_model(tmp_path_factory.mktemp("grpc") / "m", probabilities_fn=_length_model)
    serve = tf.saved_model.load(str(folder)).signatures["serving_default"]
    seen = []

    class PredictionServiceDouble(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):  # noqa: N802 (the service's naming)
            spec = request.model_spec
            seen.append((spec.name, spec.version.value if spec.HasField("version") else None, spec.version_label))
            if spec.name not in ("m", "flaky"):
                context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: Latest({spec.name})")
            if spec.name == "flaky" and sum(1 for s in seen if s[0] == "flaky") == 1:
                context.abort(grpc.StatusCode.UNAVAILABLE, "Model is loading")
            out = serve(text=tf.constant(tf.make_ndarray(request.inputs["text"])))
            response = predict_pb2.PredictResponse()
            for key, value in out.items():
                response.outputs[key].CopyFrom(tf.make_tensor_proto(value.numpy()))
            return response

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(PredictionServiceDouble(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"grpc://127.0.0.1:{port}", seen
    server.stop(None)


def test_grpc_predict_matches_the_saved_model(grpc_double):
    url, seen = grpc_double
    with ServingClient(url, "m", batch_size=3, version=1) as client:
        probabilities, labels = client.predict(TEXTS)
    expected, expected_labels = _expected(TEXTS)
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)
    assert labels.tolist() == expected_labels.tolist()
    assert seen[-2:] == [("m", 1, ""), ("m", 1, "")]  # two batches, version 1 addressed
    ServingClient(url, "m", label="canary").predict(["x"])
    assert seen[-1] == ("m", None, "canary")


def test_grpc_retries_unavailable_and_names_unknown_models(grpc_double):
    url, seen = grpc_double
    probabilities, _ = ServingClient(url, "flaky", backoff=0.01).predict(["hello there"])
    assert probabilities.shape == (1, 2) and [s[0] for s in seen].count("flaky") == 2
    with pytest.raises(ServingClientError, match=r"does not serve nope.*Servable not found.*models\.config"):
        ServingClient(url, "nope").predict(["x"])


# ---- predict --server ------------------------------------------------------------------------------------------
def test_cli_predict_through_a_server(rest_double, tmp_path):
    from click.testing import CliRunner

    from tfsenti.cli import main

    result = CliRunner().invoke(main, ["predict", "imdb-nbbon", "--server", rest_double.url, "--label", "stable",
                                       "--json", "hi", "a long text"])
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.output.splitlines()]
    assert [a["label"] for a in answers] == ["0", "1"]  # no local export: class indexes
    assert rest_double.requests[-1][0] == "/v1/models/imdb-nbbon/labels/stable:predict"

    write = lambda folder: export.save_serving_model(folder, probabilities_fn=_length_model)  # noqa: E731
    local = export.publish(write, "imdb-m", root=tmp_path, metadata={"class_names": ["negative", "positive"]})
    result = CliRunner().invoke(main, ["predict", str(local.parent), "--server", rest_double.url, "--version", "1",
                                       "a long text"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("positive")
    assert rest_double.requests[-1][0] == "/v1/models/imdb-m/versions/1:predict"

    result = CliRunner().invoke(main, ["predict", "imdb-nbbon", "--label", "stable", "hi"])
    assert result.exit_code != 0 and "add --server URL" in result.output
