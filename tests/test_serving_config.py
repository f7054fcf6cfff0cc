"""`serve-config` writes files the model server parses: read back here with TF Serving's protos."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from google.protobuf import text_format

from tfsenti.cli import main
from tfsenti.errors import ConfigError
from tfsenti.serving import config_files
from tfsenti.serving.config_protos import BatchingParameters, MonitoringConfig


def _model(root, name, versions):
    for version in versions:  # only the layout matters here: serve-config never loads the model
        folder = root / name / str(version)
        folder.mkdir(parents=True)
        (folder / "saved_model.pb").write_bytes(b"")
    return root / name


def _read(file, message):
    return text_format.Parse(file.read_text(encoding="utf-8"), message)


def test_serve_config_files_parse_back(tmp_path):
    from tensorflow_serving.config import model_server_config_pb2

    a, b = _model(tmp_path, "imdb-bert", [1, 2]), _model(tmp_path, "nsmc-bert", [1, 2, 3])
    out = tmp_path / "serving"
    result = CliRunner().invoke(main, ["serve-config", str(a), str(b / "3"), "--out", str(out),
                                       "--version-policy", "specific", "--versions", "1,2",
                                       "--label", "stable=1", "--label", "canary=2", "--base-path", "/srv/models",
                                       "--cores", "6"])
    assert result.exit_code == 0, result.output

    config = _read(out / "models.config", model_server_config_pb2.ModelServerConfig())
    entries = {entry.name: entry for entry in config.model_config_list.config}
    assert sorted(entries) == ["imdb-bert", "nsmc-bert"]
    for name, entry in entries.items():
        assert entry.base_path == f"/srv/models/{name}" and entry.model_platform == "tensorflow"
        assert list(entry.model_version_policy.specific.versions) == [1, 2]
        assert dict(entry.version_labels) == {"stable": 1, "canary": 2}

    monitoring = _read(out / "monitoring.config", MonitoringConfig())
    assert monitoring.prometheus_config.enable
    assert monitoring.prometheus_config.path == "/monitoring/prometheus/metrics"

    batching = _read(out / "batching_parameters.txt", BatchingParameters())
    assert batching.num_batch_threads.value == 6
    assert batching.max_batch_size.value == config_files.MAX_BATCH_SIZE
    assert batching.batch_timeout_micros.value == 0
    assert batching.max_enqueued_batches.value == config_files.MAX_ENQUEUED_BATCHES
    assert "batch_timeout_micros {\n  value: 0\n}" in (out / "batching_parameters.txt").read_text()  # stated

    assert "tensorflow/serving:2.20.0" in result.output
    assert f"{a.resolve()}:/srv/models/imdb-bert:ro" in result.output
    assert "--model_config_file=/config/models.config" in result.output
    assert "--batching_parameters_file=/config/batching_parameters.txt" in result.output


@pytest.mark.parametrize("policy, field", [("latest", "latest"), ("all", "all")])
def test_default_base_path_and_policies(tmp_path, policy, field):
    from tensorflow_serving.config import model_server_config_pb2

    model = _model(tmp_path, "m", [1, 4])
    written = config_files.write_serving_config([model], tmp_path / "out", version_policy=policy)
    entry = _read(written.files[0], model_server_config_pb2.ModelServerConfig()).model_config_list.config[0]
    assert entry.base_path == "/models/m"
    assert entry.model_version_policy.WhichOneof("policy_choice") == field


def test_errors_say_how_to_fix(tmp_path):
    model = _model(tmp_path, "m", [1, 2])
    with pytest.raises(ConfigError, match="would not load.*--version-policy specific"):
        config_files.write_serving_config([model], tmp_path / "out", labels={"canary": 1})  # latest loads 2 only
    with pytest.raises(ConfigError, match="needs the versions"):
        config_files.write_serving_config([model], tmp_path / "out", version_policy="specific")
    with pytest.raises(ConfigError, match=r"\[3\] do not exist"):
        config_files.write_serving_config([model], tmp_path / "out", version_policy="specific", versions=(1, 3))
    with pytest.raises(ConfigError, match="NAME=VERSION"):
        config_files.parse_labels(["canary"])
    result = CliRunner().invoke(main, ["serve-config", str(model), "--out", str(tmp_path / "o"),
                                       "--versions", "1"])
    assert result.exit_code != 0 and "needs --version-policy specific" in result.output
