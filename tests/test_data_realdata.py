"""Counts on the real data in ../shared/datasets (skipped where that folder is absent)."""

from __future__ import annotations

from collections import Counter

import pytest

from tfsenti.data import (
    BadRows,
    find_unlabeled_files,
    list_datasets,
    load_dataset,
    read_imdb,
    read_mcauley_json,
    read_unlabeled_reviews,
)

pytestmark = pytest.mark.realdata


def test_nsmc_train_drops_exactly_the_five_empty_documents(shared_datasets):
    data = load_dataset("nsmc", data_dir=shared_datasets, splits=["train"], progress=False)
    train = data["train"]
    assert len(train) == 150_000 - 5
    assert data.bad_rows.by_reason == Counter({"empty text": 5})
    assert train.ids[0] == "9976970" and train.texts[0] == "아 더빙.. 진짜 짜증나네요 목소리"
    assert len(set(train.ids)) == len(train)


def test_amazon_polarity_subset_counts(shared_datasets):
    data = load_dataset("amazon", data_dir=shared_datasets, progress=False)
    assert data.source.name == "amazon_polarity"
    assert data["train"].label_counts() == {"negative": 5022, "positive": 4972}
    assert len(data["test"]) == 7_443 and data.bad_rows.total == 0
    assert data["test"].texts[0].startswith("Great CD: My lovely Pat")


@pytest.mark.slow
def test_imdb_test_split_is_balanced(shared_datasets):
    data = load_dataset("imdb", data_dir=shared_datasets, splits=["test"], progress=False)
    assert data["test"].label_counts() == {"negative": 12_500, "positive": 12_500}
    assert data["test"].ids[0] == "test/neg/0_2" and len(set(data["test"].ids)) == 25_000
    assert data.bad_rows.total == 0


def test_imdb_streams_from_the_tarball(shared_datasets):
    archive = shared_datasets / "imdb" / "aclImdb_v1.tar.gz"
    first = [record for _, record in zip(range(500), (r for _, r in read_imdb(archive, ("train", "unsup"))))]
    assert len(first) == 500 and {r.label for r in first} <= {-1, 0, 1}


def test_mcauley_partial_json_array_reads_every_complete_record(shared_datasets):
    path = shared_datasets / "amazon_reviews" / "mcauley2014_5core_partial" / "Cell_Phones_and_Accessories_5.json"
    bad, counts = BadRows(), Counter()
    records = list(read_mcauley_json(path, bad_rows=bad, counts=counts))
    assert len(records) + counts["neutral"] + bad.by_reason["empty text"] == 4_776
    assert counts["neutral"] == 503 and bad.rows[-1][2] == "invalid JSON"


def test_amazon_extra_unlabeled_reviews(shared_datasets):
    files = find_unlabeled_files("amazon", shared_datasets)
    assert {f.name for f in files} >= {"Gift_Cards_5.json.gz", "Cell_Phones_and_Accessories_5.json"}
    bad = BadRows()
    assert sum(1 for _ in read_unlabeled_reviews(files, bad_rows=bad)) > 20_000
    assert bad.by_reason["invalid JSON"] == 1


def test_list_datasets_finds_all_three(shared_datasets):
    assert all(info.present for info in list_datasets(shared_datasets))
