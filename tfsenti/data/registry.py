"""The known datasets, as data: one `DatasetSpec` per name in `REGISTRY` (add a dataset by adding an entry).

Example:
    >>> spec = REGISTRY["nsmc"]
    >>> spec.splits, spec.languages
    (('train', 'test'), ('ko',))
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class SourceFile:
    """One way a split can be stored: a path relative to the dataset folder, and the format that reads it.

    Formats: `imdb`, `nsmc`, `zhang_csv`, `fasttext` (see `tfsenti.data.loading.FORMATS`).

    Example:
        >>> SourceFile("ratings_train.txt.gz", "nsmc").path
        'ratings_train.txt.gz'
    """

    path: str
    format: str


@dataclasses.dataclass(frozen=True)
class Download:
    """A file fetched from its official URL into the cache; `sha256=None` means no pinned checksum exists.

    Example:
        >>> Download("https://example.org/a.tgz", None, "a.tgz", extract=True).extract
        True
    """

    url: str
    sha256: str | None
    filename: str
    extract: bool = False


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """Everything tfsenti knows about a dataset: where its splits may live, how to read and fetch them.

    `files` maps each split to its storage alternatives, tried in order. `folder_names` are the sub-folder names
    accepted under a parent data folder (`TFSENTI_DATA_DIR=/data` finds `/data/imdb/...`). `unlabeled_globs` find
    extra unlabeled review files inside the data folder, or inside `unlabeled_folders` beside it.

    Example:
        >>> REGISTRY["imdb"].files["unsup"][1].path
        'aclImdb_v1.tar.gz'
    """

    name: str
    description: str
    languages: tuple[str, ...]
    files: dict[str, tuple[SourceFile, ...]]
    downloads: tuple[Download, ...] = ()
    class_names: tuple[str, ...] = ("negative", "positive")
    folder_names: tuple[str, ...] = ()
    unlabeled_globs: tuple[str, ...] = ()
    unlabeled_folders: tuple[str, ...] = ()
    citation: str = ""

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(self.files)

    def expected_files(self, split: str) -> str:
        """Human-readable alternatives for one split, e.g. `"ratings_train.txt or ratings_train.txt.gz"`."""
        return " or ".join(source.path + ("/" if "." not in source.path else "") for source in self.files[split])


_IMDB_SOURCES = (SourceFile("aclImdb", "imdb"), SourceFile("aclImdb_v1.tar.gz", "imdb"))  # folder first: faster


def _nsmc(split: str) -> tuple[SourceFile, ...]:
    return (SourceFile(f"ratings_{split}.txt", "nsmc"), SourceFile(f"ratings_{split}.txt.gz", "nsmc"))


def _amazon(split: str) -> tuple[SourceFile, ...]:
    return (
        SourceFile(f"{split}.csv", "zhang_csv"),
        SourceFile(f"{split}.csv.gz", "zhang_csv"),
        SourceFile(f"{split}.ft.txt", "fasttext"),
        SourceFile(f"{split}.ft.txt.gz", "fasttext"),
        SourceFile(f"amazon_review_polarity_csv/{split}.csv", "zhang_csv"),
    )


REGISTRY: dict[str, DatasetSpec] = {
    "imdb": DatasetSpec(
        name="imdb",
        description="IMDB Large Movie Review Dataset (Maas et al. 2011): 25k train, 25k test, 50k unlabeled",
        languages=("en",),
        files={"train": _IMDB_SOURCES, "test": _IMDB_SOURCES, "unsup": _IMDB_SOURCES},
        downloads=(Download(
            "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
            "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
            "aclImdb_v1.tar.gz",
        ),),
        folder_names=("imdb", "aclImdb_v1"),
        citation="Maas et al., Learning Word Vectors for Sentiment Analysis, ACL 2011",
    ),
    "nsmc": DatasetSpec(
        name="nsmc",
        description="Naver Sentiment Movie Corpus v1.0 (Korean): 150k train, 50k test",
        languages=("ko",),
        files={"train": _nsmc("train"), "test": _nsmc("test")},
        downloads=(
            Download("https://raw.githubusercontent.com/e9t/nsmc/master/ratings_train.txt",
                     "e03b7d14e9e41be8d464a28057cd25d7396c53e67aa7fd5f7e552c59b0ee2940", "ratings_train.txt"),
            Download("https://raw.githubusercontent.com/e9t/nsmc/master/ratings_test.txt",
                     "8ac9f64052f11dbf6ae0acb5e038f03d90a76f0eda7820cfb3a92d02edfcebda", "ratings_test.txt"),
        ),
        folder_names=("nsmc",),
        citation="Lucy Park, Naver Sentiment Movie Corpus v1.0, 2016",
    ),
    "amazon": DatasetSpec(
        name="amazon",
        description="Amazon Review Polarity (Zhang et al. 2015), Zhang CSV or fastText format",
        languages=("en",),
        files={"train": _amazon("train"), "test": _amazon("test")},
        # No sha256 of this archive is published by its authors or pinned by tfds/torchtext (torchtext pins only
        # an MD5 of a Google Drive copy), so the download is refused unless TFSENTI_ALLOW_UNVERIFIED=1.
        downloads=(Download("https://s3.amazonaws.com/fast-ai-nlp/amazon_review_polarity_csv.tgz", None,
                            "amazon_review_polarity_csv.tgz", extract=True),),
        folder_names=("amazon", "amazon_polarity", "amazon_review_polarity_csv"),
        unlabeled_globs=("**/*.json", "**/*.json.gz"),
        unlabeled_folders=("amazon_reviews",),
        citation="Zhang, Zhao & LeCun, Character-level Convolutional Networks for Text Classification, NIPS 2015",
    ),
}
