"""Tiny BERT checkpoints built on the spot, in the formats real ones come in: a WordPiece Hugging Face folder
(config.json + model.safetensors + vocab.txt) and a KoBERT-style SentencePiece folder (+ spiece.model, with a
vocab.txt whose ids differ from the SentencePiece model's own)."""

from __future__ import annotations

import io
from pathlib import Path

from toy_data import FILLER, NEGATIVE, POSITIVE

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
KOBERT_SPECIAL = ["[UNK]", "[PAD]", "[CLS]", "[SEP]", "[MASK]"]  # KoBERT's order


def wordpiece_vocabulary() -> list[str]:
    words = sorted({w for w in POSITIVE + NEGATIVE + FILLER if " " not in w})
    return SPECIAL + words + ["<", ">", "/", "br", ".", "!", ",", "##s", "##ed", "##ing"]


def tiny_backbone(vocabulary_size: int, *, seed: int = 0, hidden_dim: int = 8, num_layers: int = 2):
    import keras
    import keras_hub

    keras.utils.set_random_seed(seed)
    return keras_hub.models.BertBackbone(vocabulary_size=vocabulary_size, num_layers=num_layers, num_heads=2,
                                         hidden_dim=hidden_dim, intermediate_dim=2 * hidden_dim,
                                         max_sequence_length=64)


def write_wordpiece_folder(folder: Path, *, hidden_dim: int = 8) -> Path:
    from tfsenti.bert.checkpoint import write_hf_checkpoint

    vocabulary = wordpiece_vocabulary()
    return write_hf_checkpoint(tiny_backbone(len(vocabulary), hidden_dim=hidden_dim), folder,
                               vocabulary=vocabulary, lowercase=True)


SP_CORPUS = [
    "정말 재미있다 최고 감동 영화 배우 그냥 지루하다 최악 별로",
    "the movie was great and wonderful, loved the acting",
    "boring awful film, hated this plot, terrible and dull",
    "영화 정말 최고였다 배우 연기 감동", "지루하고 별로였다 최악의 영화",
]


def sentencepiece_model(vocab_size: int = 120) -> bytes:
    import sentencepiece as spm

    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(SP_CORPUS * 40), model_writer=proto,
                                   vocab_size=vocab_size, model_type="unigram", hard_vocab_limit=False,
                                   character_coverage=1.0, minloglevel=3)
    return proto.getvalue()


def kobert_vocabulary(proto: bytes) -> list[str]:
    """KoBERT-style vocab.txt: special tokens first, then the pieces in an order unlike the model's ids."""
    from tfsenti.bert.sentencepiece_tokenizer import piece_list

    pieces = [p for p in piece_list(proto) if p not in ("<unk>", "<s>", "</s>")]
    return KOBERT_SPECIAL + sorted(pieces)


def write_kobert_folder(folder: Path, *, hidden_dim: int = 8) -> Path:
    from tfsenti.bert.checkpoint import write_hf_checkpoint

    proto = sentencepiece_model()
    vocabulary = kobert_vocabulary(proto)
    return write_hf_checkpoint(tiny_backbone(len(vocabulary), hidden_dim=hidden_dim), folder,
                               vocabulary=vocabulary, lowercase=False, sentencepiece_model=proto)
