"""Embeddings of a frozen module, computed once per text: in memory, and on disk when given a folder.

The disk cache is a folder per module (keyed by a fingerprint of the module's files) holding `chunk-NNNNN.npz`
files (`keys`: SHA-1 of each text, `vectors`). Chunks are written while embedding, so an interrupted run keeps what
it had computed and the next run resumes from there.

Example:
    >>> import numpy as np, tempfile
    >>> cache = EmbeddingCache(tempfile.mkdtemp(), module_key="toy")
    >>> embed = lambda texts: np.array([[len(t), 1.0] for t in texts], np.float32)
    >>> embed_texts(["ab", "abc", "ab"], embed, cache=cache, progress=False).tolist()
    [[2.0, 1.0], [3.0, 1.0], [2.0, 1.0]]
    >>> len(EmbeddingCache(cache.folder.parent, module_key="toy"))      # reloaded from disk
    2
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np


class EmbeddingCache:
    """Text -> vector store for one module; persisted under `root/<module_key>/` when `root` is given."""

    def __init__(self, root: str | Path | None = None, *, module_key: str = "module"):
        self.folder = Path(root) / module_key if root is not None else None
        self._vectors: dict[bytes, np.ndarray] = {}
        self._chunks = 0
        if self.folder is not None and self.folder.is_dir():
            for chunk in sorted(self.folder.glob("chunk-*.npz")):
                with np.load(chunk) as data:
                    self._vectors.update(zip(data["keys"].tolist(), data["vectors"]))
                self._chunks += 1

    def __len__(self) -> int:
        return len(self._vectors)

    def get(self, text: str) -> np.ndarray | None:
        return self._vectors.get(_key(text))

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Remember `vectors[i]` for `texts[i]`; on disk, as one new chunk file."""
        keys = [_key(t) for t in texts]
        self._vectors.update(zip(keys, np.asarray(vectors, np.float32)))
        if self.folder is None or not keys:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self._chunks += 1
        target = self.folder / f"chunk-{self._chunks:05d}.npz"
        while target.exists():
            self._chunks += 1
            target = self.folder / f"chunk-{self._chunks:05d}.npz"
        partial = target.with_name(target.stem + ".partial.npz")
        np.savez(partial, keys=np.array(keys, dtype="S20"), vectors=np.asarray(vectors, np.float32))
        partial.replace(target)


def module_fingerprint(module_dir: str | Path) -> str:
    """A short hash of a SavedModel folder's graph and variable files (changes when the module changes)."""
    module_dir = Path(module_dir)
    digest = hashlib.sha1()
    for file in sorted([module_dir / "saved_model.pb", *sorted((module_dir / "variables").glob("*"))]):
        if file.is_file():
            digest.update(file.name.encode())
            with open(file, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 22), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def embed_texts(
    texts: Sequence[str],
    embed: Callable[[list[str]], np.ndarray],
    *,
    cache: EmbeddingCache | None = None,
    batch_size: int = 64,
    flush_every: int = 20,
    progress: bool = True,
    description: str = "embed",
) -> np.ndarray:
    """Embeddings of `texts` (n, dim): cached ones looked up, the rest computed in length-sorted batches.

    Sorting by length keeps padding (and so the cost of attention models) low; results come back in input order.
    With a cache, new vectors are stored every `flush_every` batches.
    """
    from tqdm import tqdm

    cache = cache if cache is not None else EmbeddingCache()
    unique = list(dict.fromkeys(texts))
    missing = [t for t in unique if cache.get(t) is None]
    missing.sort(key=len)
    pending_texts, pending_vectors = [], []
    with tqdm(total=len(missing), desc=description, unit="text", disable=not progress or not missing) as bar:
        for start in range(0, len(missing), batch_size):
            batch = missing[start:start + batch_size]
            pending_texts.extend(batch)
            pending_vectors.append(np.asarray(embed(batch), np.float32))
            bar.update(len(batch))
            if len(pending_vectors) >= flush_every:
                cache.add(pending_texts, np.concatenate(pending_vectors))
                pending_texts, pending_vectors = [], []
        if pending_vectors:
            cache.add(pending_texts, np.concatenate(pending_vectors))
    if not texts:
        return np.zeros((0, 0), np.float32)
    return np.stack([cache.get(t) for t in texts])


def _key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8", errors="surrogatepass")).digest()
