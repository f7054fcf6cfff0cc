"""One decision about the network: every place that downloads agrees for every value of TFSENTI_OFFLINE."""

from __future__ import annotations

import importlib
import socket
import pytest

from tfsenti import network
from tfsenti.errors import ConfigError, TfsentiError

OFFLINE = ["1", "true", "yes", "on", "TRUE", " On "]
ONLINE = ["0", "false", "no", "off", "False", " OFF "]


class FakePreset:
    """Stands in for a keras_hub class: records that a download was attempted."""

    calls: list[str] = []

    @classmethod
    def from_preset(cls, location, **kwargs):
        cls.calls.append(location)
        return "loaded"


def attempts_dataset(tmp_path, monkeypatch) -> bool:
    locate_module = importlib.import_module("tfsenti.data.locate")  # the package re-exports `locate` the function

    calls = []
    monkeypatch.setattr(locate_module, "_download_into_cache", lambda spec, progress: calls.append(spec.name))
    try:
        locate_module.locate("nsmc", data_dir=tmp_path / "nowhere", progress=False)
    except TfsentiError as error:
        assert calls or "no download" in str(error)
    return bool(calls)


def attempts_hub_module(tmp_path, monkeypatch) -> bool:
    from tfsenti.hub import handles

    calls = []
    monkeypatch.setattr(handles, "download_module", lambda handle: calls.append(handle) or tmp_path)
    try:
        handles.resolve_module("nnlm-en-dim128")
    except handles.ModuleNotAvailableError as error:
        assert "python cli.py hub build" in str(error)
    return bool(calls)


def attempts_bert_preset(tmp_path, monkeypatch) -> bool:
    from tfsenti.bert.checkpoint import from_preset
    from tfsenti.bert.presets import resolve_pretrained

    monkeypatch.setenv("HOME", str(tmp_path))  # empty keras_hub / huggingface caches
    FakePreset.calls = []
    try:
        from_preset(FakePreset, resolve_pretrained("bert_base_en_uncased"))
    except TfsentiError as error:
        assert "--pretrained minilm" in str(error)
    return bool(FakePreset.calls)


def attempts_transformers_model(tmp_path, monkeypatch) -> bool:
    import huggingface_hub

    from tfsenti.ktrain_support.pretrained import resolve_transformers_folder

    calls = []

    def snapshot_download(repo_id, **kwargs):
        calls.append(repo_id)
        folder = tmp_path / "snapshot"
        folder.mkdir(exist_ok=True)
        (folder / "config.json").write_text("{}")
        (folder / "tf_model.h5").write_bytes(b"")
        return str(folder)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    try:
        resolve_transformers_folder("bert-base-uncased")
    except TfsentiError as error:
        assert "--pretrained minilm" in str(error)
    return bool(calls)


CALLERS = [attempts_dataset, attempts_hub_module, attempts_bert_preset, attempts_transformers_model]


def outcomes(tmp_path, monkeypatch, value: str | None, probe_answer: bool) -> tuple[list[bool], list[str]]:
    probed: list[str] = []
    monkeypatch.setattr(network, "can_connect", lambda host, *args, **kwargs: probed.append(host) or probe_answer)
    if value is None:
        monkeypatch.delenv("TFSENTI_OFFLINE", raising=False)
    else:
        monkeypatch.setenv("TFSENTI_OFFLINE", value)
    return [caller(tmp_path / caller.__name__, monkeypatch) for caller in CALLERS], probed


@pytest.mark.parametrize("value", OFFLINE)
@pytest.mark.parametrize("probe_answer", [True, False])
def test_offline_values_stop_every_download_without_probing(tmp_path, monkeypatch, value, probe_answer):
    attempted, probed = outcomes(tmp_path, monkeypatch, value, probe_answer)
    assert attempted == [False] * len(CALLERS) and probed == []


@pytest.mark.parametrize("value", ONLINE)
@pytest.mark.parametrize("probe_answer", [True, False])
def test_online_values_let_every_download_try_without_probing(tmp_path, monkeypatch, value, probe_answer):
    attempted, probed = outcomes(tmp_path, monkeypatch, value, probe_answer)
    assert attempted == [True] * len(CALLERS) and probed == []


@pytest.mark.parametrize("value", [None, "", "  "])
@pytest.mark.parametrize("probe_answer", [True, False])
def test_unset_means_the_probe_decides_for_everyone(tmp_path, monkeypatch, value, probe_answer):
    attempted, probed = outcomes(tmp_path, monkeypatch, value, probe_answer)
    assert attempted == [probe_answer] * len(CALLERS)
    assert {"tfhub.dev", "www.kaggle.com", "huggingface.co"} < set(probed)  # each asked about its own host


def test_an_unknown_value_is_refused_with_the_allowed_ones(monkeypatch):
    monkeypatch.setenv("TFSENTI_OFFLINE", "maybe")
    with pytest.raises(ConfigError, match=r"TFSENTI_OFFLINE='maybe'.*1, true, yes, on.*0, false, no, off"):
        network.offline_reason("example.org")


def test_the_probe_is_cached_per_host_and_never_hangs(monkeypatch):
    calls = []

    def create_connection(address, timeout):
        calls.append((address, timeout))
        raise socket.timeout("timed out")

    monkeypatch.setattr(network.socket, "create_connection", create_connection)
    network.can_connect.cache_clear()
    try:
        assert network.can_connect("hub.example") is False
        assert network.can_connect("hub.example") is False
        assert network.can_connect("other.example") is False
    finally:
        network.can_connect.cache_clear()
    assert calls == [(("hub.example", 443), network.PROBE_TIMEOUT_S), (("other.example", 443),
                                                                        network.PROBE_TIMEOUT_S)]
    assert network.PROBE_TIMEOUT_S <= 3


def test_offline_errors_name_what_to_provide(monkeypatch, tmp_path):
    monkeypatch.setenv("TFSENTI_OFFLINE", "1")
    from tfsenti.bert.checkpoint import from_preset
    from tfsenti.bert.presets import resolve_pretrained
    from tfsenti.ktrain_support.pretrained import resolve_transformers_folder

    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(TfsentiError, match=r"Cannot fetch .*TFSENTI_OFFLINE=1 is set.*Provide .*config.json"):
        from_preset(FakePreset, resolve_pretrained("bert_base_en_uncased"))
    with pytest.raises(TfsentiError, match=r"Cannot fetch .*TFSENTI_OFFLINE=1 is set.*Provide .*vocab.txt"):
        resolve_transformers_folder("bert-base-uncased")
