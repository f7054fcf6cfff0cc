"""Data layer: locate, download, verify and read sentiment datasets into `TextDataset`s or `tf.data` pipelines.

Importing this package does no work and does not import TensorFlow.

Example:
    >>> from tfsenti.data import load_dataset
    >>> data = load_dataset("imdb", data_dir="../shared/datasets", splits=["test"])  # doctest: +SKIP
    >>> len(data["test"])  # doctest: +SKIP
    25000
"""

from tfsenti.data.amazon import read_fasttext, read_mcauley_json, read_unlabeled_reviews, read_zhang_csv, render_review
from tfsenti.data.archive import UnsafeArchiveError, check_member, safe_extract
from tfsenti.data.dataset import UNLABELED, BadRows, TextDataset
from tfsenti.data.download import ChecksumError, download_file, sha256_of
from tfsenti.data.imdb import read_imdb, read_imdb_folder
from tfsenti.data.loading import (
    FORMATS,
    DatasetInfo,
    DatasetSplits,
    find_unlabeled_files,
    list_datasets,
    load_dataset,
)
from tfsenti.data.locate import cache_dir, get_spec, locate
from tfsenti.data.nsmc import read_nsmc
from tfsenti.data.records import Record, read_lines
from tfsenti.data.registry import REGISTRY, DatasetSpec, Download, SourceFile
from tfsenti.data.streaming import stream_tf_dataset, to_tf_dataset
from tfsenti.data.user_files import (
    ResolvedColumns,
    UserDataOptions,
    UserRecord,
    UserSplits,
    carve_split,
    detect_format,
    is_user_data,
    load_user_data,
    read_user_file,
)

__all__ = [
    "BadRows",
    "ChecksumError",
    "DatasetInfo",
    "DatasetSpec",
    "DatasetSplits",
    "Download",
    "FORMATS",
    "REGISTRY",
    "Record",
    "SourceFile",
    "TextDataset",
    "UNLABELED",
    "UnsafeArchiveError",
    "cache_dir",
    "check_member",
    "download_file",
    "find_unlabeled_files",
    "get_spec",
    "list_datasets",
    "load_dataset",
    "locate",
    "read_fasttext",
    "read_imdb",
    "read_imdb_folder",
    "read_lines",
    "read_mcauley_json",
    "read_nsmc",
    "read_unlabeled_reviews",
    "read_zhang_csv",
    "render_review",
    "safe_extract",
    "sha256_of",
    "stream_tf_dataset",
    "to_tf_dataset",
    "ResolvedColumns",
    "UserDataOptions",
    "UserRecord",
    "UserSplits",
    "carve_split",
    "detect_format",
    "is_user_data",
    "load_user_data",
    "read_user_file",
]
