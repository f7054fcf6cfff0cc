"""The bert recipe end to end on tiny checkpoints: a KoBERT-format (SentencePiece) folder through the recipe
contract, tokenization inside the reloaded export, the memory guard, and config errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from bert_fixtures import write_kobert_folder
from tfsenti.config import build_config
from tfsenti.errors import ConfigError

TINY = ["train.epochs=1", "train.batch_size=8", "params.learning_rate=0.003", "params.sequence_length=24",
        "params.patience=null", "params.verbose=0", "params.pooling=mean"]

_RELOADED = r"""
import json, sys
import tensorflow as tf
import tensorflow_text  # noqa: F401
assert "tfsenti" not in sys.modules
model = tf.saved_model.load(sys.argv[1])
texts = tf.constant(json.loads(sys.argv[2]))
tokens = model.packer.tokenize(texts)["token_ids"].numpy().tolist()
probabilities = model.signatures["serving_default"](text=texts)["probabilities"].numpy().tolist()
print(json.dumps({"token_ids": tokens, "probabilities": probabilities}))
"""


@pytest.mark.slow
def test_kobert_format_folder_trains_exports_and_tokenizes_in_the_graph(tmp_path):
    """A KoBERT-style folder (spiece.model + vocab.txt + safetensors) loads, trains, and its export tokenizes with
    SentencePiece inside the graph: same token ids and same probabilities in a process without tfsenti."""
    from toy_data import toy_dataset

    from tfsenti import export
    from tfsenti.recipes.bert import BertRecipe

    folder = write_kobert_folder(tmp_path / "kobert")
    config = build_config("bert", "nsmc", default_file=False, overrides=[f"train.pretrained={folder}", *TINY])
    recipe = BertRecipe(config, num_classes=2)
    recipe.fit(toy_dataset(24, seed=1), toy_dataset(8, seed=2, prefix="val"), log_dir=tmp_path / "run")
    assert recipe.source_.tokenizer == "sentencepiece"
    model_dir = export.publish(recipe.export, "toy-kobert", root=tmp_path / "saved_models")

    texts = ["정말 재미있다 최고", "지루하고 별로였다", "", "great movie, 영화 감동", "x" * 3000]
    done = subprocess.run([sys.executable, "-c", _RELOADED, str(model_dir), json.dumps(texts)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    reloaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert reloaded["token_ids"] == recipe.packer_(texts)["token_ids"].numpy().tolist()
    assert reloaded["token_ids"][0][0] == 2 and 1 in reloaded["token_ids"][2]  # KoBERT's [CLS]=2, [PAD]=1
    np.testing.assert_allclose(reloaded["probabilities"], recipe.predict_proba(texts), atol=1e-5)


def test_memory_guard_refuses_with_numbers_and_a_setting_that_fits(tmp_path):
    from toy_data import toy_dataset

    from tfsenti.bert.memory import MemoryBudgetError
    from tfsenti.recipes.bert import BertRecipe

    config = build_config("bert", "imdb", default_file=False, overrides=["train.pretrained=scratch", "train.batch_size=32",
                                                     "params.sequence_length=512", "params.scratch_hidden_dim=256",
                                                     "params.scratch_num_layers=4", "params.memory_budget_gib=2.5"])
    with pytest.raises(MemoryBudgetError, match=r"GiB.*accumulation over \d+ steps") as raised:
        BertRecipe(config, num_classes=2).fit(toy_dataset(16, seed=0), log_dir=tmp_path)
    assert "micro-batch 32 x length 512" in str(raised.value)
    assert not (tmp_path / "checkpoints").exists()  # refused before training started


def test_memory_estimate_grows_with_batch_and_length_and_suggests_accumulation():
    from tfsenti.bert.memory import GIB, MemoryBudgetError, check_fits, estimate_training_memory

    base = dict(num_parameters=110_000_000, num_layers=12, hidden_dim=768, num_heads=12)
    small = estimate_training_memory(micro_batch=8, sequence_length=128, **base)
    assert estimate_training_memory(micro_batch=16, sequence_length=128, **base).activation_bytes == \
        2 * small.activation_bytes
    assert estimate_training_memory(micro_batch=8, sequence_length=256, **base).activation_bytes > \
        2 * small.activation_bytes  # attention grows with the square of the length
    assert 16 * 110e6 <= small.parameter_bytes < 20 * 110e6
    big = estimate_training_memory(micro_batch=32, sequence_length=512, **base)
    with pytest.raises(MemoryBudgetError, match=r"micro-batch of (\d+) with gradient accumulation over (\d+)") as e:
        check_fits(big, available_bytes=8 * GIB, batch_size=32)
    micro = int(__import__("re").search(r"micro-batch of (\d+)", str(e.value)).group(1))
    fits = estimate_training_memory(micro_batch=micro, sequence_length=512, accumulation_steps=32 // micro, **base)
    check_fits(fits, available_bytes=8 * GIB, batch_size=32)  # the suggestion really fits


def test_config_errors_name_the_problem(tmp_path):
    from toy_data import toy_dataset

    from tfsenti.recipes.bert import BertRecipe

    with pytest.raises(ConfigError, match="precision"):
        build_config("bert", "imdb", default_file=False, overrides=["params.precision=float8"])
    config = build_config("bert", "imdb", default_file=False, overrides=["train.pretrained=scratch", "train.batch_size=10",
                                                     "params.accumulation_steps=4"])
    with pytest.raises(ConfigError, match="multiple of params.accumulation_steps"):
        BertRecipe(config, num_classes=2).fit(toy_dataset(8, seed=0), log_dir=tmp_path)


def test_predict_before_fit_is_a_clear_error():
    from tfsenti.errors import NotFittedError
    from tfsenti.recipes.bert import BertRecipe

    with pytest.raises(NotFittedError, match="fit"):
        BertRecipe(build_config("bert", "imdb", default_file=False), num_classes=2).predict_proba(["x"])


def test_scratch_vocabulary_covers_training_words():
    from tfsenti.recipes.bert import _learn_vocabulary

    import keras_hub

    texts = ["good film", "bad film", "영화 최고"] * 5
    vocabulary = _learn_vocabulary(texts, 200)
    assert vocabulary[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert "film" in vocabulary
    ids = keras_hub.models.BertTokenizer(vocabulary=vocabulary, lowercase=True)(texts)
    rows = ids.to_list() if hasattr(ids, "to_list") else ids
    assert 1 not in np.concatenate([np.asarray(row) for row in rows])  # no [UNK] for training words


@pytest.mark.slow
def test_mixed_bfloat16_predicts_and_exports_through_the_fused_graph(tmp_path):
    """mixed_bfloat16 -> `auto` picks the fused graph: its export stores bfloat16 weights, reloads to the same
    probabilities as in-process prediction, and stays within bfloat16 rounding of the Keras model itself."""
    import tensorflow as tf
    from bert_fixtures import write_wordpiece_folder
    from toy_data import toy_dataset

    from tfsenti import export
    from tfsenti.recipes.bert import BertRecipe

    folder = write_wordpiece_folder(tmp_path / "tiny", hidden_dim=16)
    config = build_config("bert", "imdb", default_file=False, overrides=[f"train.pretrained={folder}", *TINY,
                                                     "params.precision=mixed_bfloat16"])
    recipe = BertRecipe(config, num_classes=2)
    recipe.fit(toy_dataset(24, seed=1), toy_dataset(8, seed=2, prefix="val"), log_dir=tmp_path / "run")
    assert recipe.inference_graph_name() == "fused"
    model_dir = export.publish(recipe.export, "toy-bf16", root=tmp_path / "saved_models")
    dtypes = tf.train.load_checkpoint(str(model_dir / "variables" / "variables")).get_variable_to_dtype_map()
    assert tf.bfloat16 in set(dtypes.values())

    texts = ["a great movie, loved it", "boring awful film", "", "x " * 400]
    done = subprocess.run([sys.executable, "-c", _RELOADED, str(model_dir), json.dumps(texts)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    fused = recipe.predict_proba(texts)
    np.testing.assert_allclose(json.loads(done.stdout.strip().splitlines()[-1])["probabilities"], fused, atol=1e-5)
    keras_graph = recipe._probabilities(recipe._encode(texts), graph="keras")
    np.testing.assert_allclose(fused, keras_graph, atol=3e-2)


def test_uda_advice_counts_the_unlabeled_rows_of_every_labeled_example():
    """UDA puts 1 + 2 x unsup_ratio sequences through the model per labeled example; the suggested micro-batch
    accounts for them, and that suggestion passes the same guard."""
    import re

    from tfsenti.bert.memory import MemoryBudgetError, guard_training_memory

    shape = dict(recipe="uda", num_parameters=22_700_000, num_layers=6, hidden_dim=384, num_heads=12,
                 sequence_length=128, batch_size=32, rows_per_example=7, budget_gib=4)
    with pytest.raises(MemoryBudgetError, match=r"^uda: .*micro-batch 224 x length 128") as raised:
        guard_training_memory(**shape)
    micro = int(re.search(r"micro-batch of (\d+) with gradient accumulation", str(raised.value)).group(1))
    assert guard_training_memory(**shape, accumulation_steps=32 // micro).micro_batch == 7 * micro
    with pytest.raises(MemoryBudgetError):  # the next larger divisor of 32 does not fit
        guard_training_memory(**shape, accumulation_steps=32 // (2 * micro))
