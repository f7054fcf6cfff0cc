"""Finding, downloading and safely extracting datasets: lookup order, offline errors, checksums, tar safety."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import tarfile
import urllib.error
from pathlib import Path

import pytest

from tfsenti.data import (
    REGISTRY,
    DatasetSpec,
    Download,
    SourceFile,
    UnsafeArchiveError,
    cache_dir,
    list_datasets,
    load_dataset,
    locate,
    safe_extract,
)
from tfsenti.data import download as download_module
from tfsenti.errors import DataError, DatasetNotFoundError

NSMC_ROWS = b"id\tdocument\tlabel\n1\tgood\t1\n2\tbad\t0\n3\t\t1\n"


@pytest.fixture()
def cache(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("TFSENTI_CACHE_DIR", str(root))
    return root


def put_nsmc(folder: Path, text: bytes = NSMC_ROWS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        (folder / f"ratings_{split}.txt").write_bytes(text)
    return folder


# --- lookup order -----------------------------------------------------------------------------------------------

def test_data_dir_beats_env_beats_cache(tmp_path, cache, monkeypatch):
    explicit, env, cached = tmp_path / "explicit", tmp_path / "env", cache / "datasets" / "nsmc"
    for folder in (explicit, env, cached):
        put_nsmc(folder)
    monkeypatch.setenv("TFSENTI_DATA_DIR", str(env))
    assert locate("nsmc", explicit) == explicit
    assert locate("nsmc") == env
    monkeypatch.delenv("TFSENTI_DATA_DIR")
    assert locate("nsmc") == cached == cache_dir("nsmc")


def test_env_may_point_to_a_parent_folder(tmp_path, cache, monkeypatch):
    put_nsmc(tmp_path / "datasets" / "nsmc")
    monkeypatch.setenv("TFSENTI_DATA_DIR", str(tmp_path / "datasets"))
    assert locate("nsmc") == tmp_path / "datasets" / "nsmc"
    assert locate("nsmc", tmp_path / "datasets") == tmp_path / "datasets" / "nsmc"


def test_env_without_the_files_falls_back_to_cache(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("TFSENTI_DATA_DIR", str(tmp_path / "empty"))
    put_nsmc(cache / "datasets" / "nsmc")
    assert locate("nsmc") == cache / "datasets" / "nsmc"


def test_load_dataset_from_data_dir(tmp_path, cache):
    folder = put_nsmc(tmp_path / "nsmc")
    data = load_dataset("nsmc", data_dir=tmp_path, progress=False)
    assert data.source == folder and data.name == "nsmc"
    assert len(data["train"]) == 2 and data["test"].labels.tolist() == [1, 0]
    assert data["train"].ids == ["1", "2"] and data["train"].class_names == ("negative", "positive")
    assert data.bad_rows.total == 2  # one empty text in each split
    with pytest.raises(KeyError, match="was not loaded"):
        data["unsup"]
    with pytest.raises(DataError, match=r"ratings_train\.txt:4: empty text"):
        load_dataset("nsmc", data_dir=tmp_path, strict=True, progress=False)


def test_load_imdb_tarball_stable_order(tmp_path, cache):
    from test_data_readers import IMDB_FILES, make_tar

    make_tar(tmp_path / "aclImdb_v1.tar.gz", dict(reversed(list(IMDB_FILES.items()))))
    data = load_dataset("imdb", data_dir=tmp_path, splits=("train", "unsup"), progress=False)
    assert data["train"].ids == ["train/neg/0_1", "train/neg/10_2", "train/pos/0_9", "train/pos/1_7"]
    assert data["unsup"].labels.tolist() == [-1]
    assert data.bad_rows.total == 1


def test_list_datasets_reports_presence_and_files(tmp_path, cache):
    put_nsmc(tmp_path / "nsmc")
    infos = {info.name: info for info in list_datasets(tmp_path)}
    assert set(infos) == {"imdb", "nsmc", "amazon"}
    assert infos["nsmc"].present and infos["nsmc"].location == tmp_path / "nsmc"
    assert not infos["imdb"].present and "aclImdb_v1.tar.gz" in infos["imdb"].files["train"]
    assert cache_dir("imdb") in infos["imdb"].searched


def test_unknown_dataset_lists_known_names():
    with pytest.raises(DatasetNotFoundError, match=r"Unknown dataset 'sst2'.*\['amazon', 'imdb', 'nsmc'\]"):
        locate("sst2")


# --- offline and download ---------------------------------------------------------------------------------------

def test_offline_error_names_files_folders_and_fix(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("TFSENTI_OFFLINE", "1")
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("nsmc", data_dir=tmp_path / "nowhere", progress=False)
    message = str(info.value)
    assert "ratings_train.txt or ratings_train.txt.gz" in message and "ratings_test.txt" in message
    assert str(tmp_path / "nowhere") in message and str(cache / "datasets" / "nsmc") in message
    assert "TFSENTI_OFFLINE=1" in message and "--data-dir" in message and "TFSENTI_DATA_DIR" in message


def tiny_spec(url: str, sha256: str | None, *, extract: bool = False, path: str = "ratings_train.txt") -> DatasetSpec:
    return DatasetSpec(
        name="tiny", description="test dataset", languages=("en",),
        files={"train": (SourceFile(path, "nsmc"),)},
        downloads=(Download(url, sha256, url.rsplit("/", 1)[1], extract=extract),),
    )


def test_download_from_file_url_with_checksum(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("TFSENTI_OFFLINE", "0")  # online: try the download (no probe)
    remote = tmp_path / "remote" / "ratings_train.txt"
    remote.parent.mkdir()
    remote.write_bytes(NSMC_ROWS)
    spec = tiny_spec(remote.as_uri(), hashlib.sha256(NSMC_ROWS).hexdigest())
    monkeypatch.setitem(REGISTRY, "tiny", spec)
    data = load_dataset("tiny", splits=["train"], progress=False)
    assert data.source == cache / "datasets" / "tiny" and len(data["train"]) == 2
    assert not [p for p in data.source.iterdir() if p.name.endswith(".part")]


def test_download_checksum_mismatch_is_rejected_and_deleted(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("TFSENTI_OFFLINE", "0")  # online: try the download (no probe)
    remote = tmp_path / "ratings_train.txt"
    remote.write_bytes(NSMC_ROWS)
    monkeypatch.setitem(REGISTRY, "tiny", tiny_spec(remote.as_uri(), "0" * 64))
    with pytest.raises(DatasetNotFoundError, match="sha256 mismatch"):
        locate("tiny", progress=False)
    assert not any((cache / "datasets" / "tiny").iterdir())


def test_network_failure_is_a_clear_not_found_error(cache, monkeypatch):
    monkeypatch.setenv("TFSENTI_OFFLINE", "0")  # online: try the download (no probe)

    def no_network(url, timeout):
        assert timeout <= 10
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(download_module.urllib.request, "urlopen", no_network)
    with pytest.raises(DatasetNotFoundError, match="(?s)ratings_train.txt.*download failed: Name or service"):
        locate("nsmc", progress=False)


def test_unverified_download_refused_unless_allowed(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("TFSENTI_OFFLINE", "0")  # online: try the download (no probe)
    folder = tmp_path / "pkg"
    put_nsmc(folder / "amazon_like")
    archive = tmp_path / "tiny.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder / "amazon_like", arcname="amazon_like")
    spec = tiny_spec(archive.as_uri(), None, extract=True, path="amazon_like/ratings_train.txt")
    monkeypatch.setitem(REGISTRY, "tiny", spec)
    with pytest.raises(DatasetNotFoundError, match="TFSENTI_ALLOW_UNVERIFIED=1"):
        locate("tiny", progress=False)
    monkeypatch.setenv("TFSENTI_ALLOW_UNVERIFIED", "1")
    found = locate("tiny", progress=False)
    assert (found / "amazon_like" / "ratings_train.txt").read_bytes() == NSMC_ROWS
    assert (found / ".tiny.tgz.extracted").exists()


def test_read_only_data_dir_is_never_written(tmp_path, cache):
    folder = put_nsmc(tmp_path / "ro" / "nsmc")
    for path in [*folder.iterdir(), folder, folder.parent]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        before = sorted(p.name for p in folder.iterdir())
        assert len(load_dataset("nsmc", data_dir=folder.parent, progress=False)["train"]) == 2
        assert sorted(p.name for p in folder.iterdir()) == before
    finally:
        for path in [folder.parent, folder, *folder.iterdir()]:
            path.chmod(0o755)


# --- safe extraction --------------------------------------------------------------------------------------------

def malicious_tar(path: Path, member: tarfile.TarInfo, data: bytes = b"x") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        ok = tarfile.TarInfo("aclImdb/train/pos/0_9.txt")
        ok.size = 4
        tar.addfile(ok, io.BytesIO(b"good"))
        if member.isfile():
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
        else:
            tar.addfile(member)
    return path


def link(name: str, target: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def device(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    return info


@pytest.mark.parametrize("member, why", [
    (tarfile.TarInfo("../evil.txt"), "'..'"),
    (tarfile.TarInfo("aclImdb/../../evil.txt"), "'..'"),
    (tarfile.TarInfo("/tmp/evil.txt"), "absolute path"),
    (link("aclImdb/escape", "../../etc/passwd", tarfile.SYMTYPE), "outside the destination"),
    (link("aclImdb/abs", "/etc/passwd", tarfile.SYMTYPE), "absolute path"),
    (link("aclImdb/hard", "../outside", tarfile.LNKTYPE), "outside the destination"),
    (device("aclImdb/dev"), "special file"),
], ids=["dotdot", "nested-dotdot", "absolute", "symlink-escape", "symlink-absolute", "hardlink-escape", "device"])
def test_malicious_tarball_rejected_naming_the_member(tmp_path, member, why):
    archive = malicious_tar(tmp_path / "bad.tar.gz", member)
    destination = tmp_path / "out"
    with pytest.raises(UnsafeArchiveError, match=f"Unsafe member '{member.name}'.*{why}"):
        safe_extract(archive, destination)
    assert not destination.exists() or not any(destination.rglob("*.txt"))
    assert not (tmp_path / "evil.txt").exists()
    with pytest.raises(UnsafeArchiveError, match="Unsafe member"):  # the streaming IMDB reader checks too
        load_dataset("imdb", data_dir=_as_imdb(tmp_path, archive), splits=["train"], progress=False)


def _as_imdb(tmp_path: Path, archive: Path) -> Path:
    folder = tmp_path / "imdb_data"
    folder.mkdir(exist_ok=True)
    os.replace(archive, folder / "aclImdb_v1.tar.gz")
    return folder


def test_safe_extract_accepts_internal_symlink(tmp_path):
    archive = malicious_tar(tmp_path / "ok.tar.gz", link("aclImdb/train/link.txt", "pos/0_9.txt", tarfile.SYMTYPE))
    out = safe_extract(archive, tmp_path / "out")
    assert (out / "aclImdb/train/pos/0_9.txt").read_bytes() == b"good"
    assert not [p for p in out.iterdir() if p.name.startswith(".extract-")]


def test_spec_is_plain_data():
    spec = REGISTRY["amazon"]
    assert dataclasses.is_dataclass(spec) and spec.downloads[0].sha256 is None
    assert REGISTRY["imdb"].downloads[0].sha256.startswith("c40f74a1")


def test_interrupted_extraction_is_redone_from_the_cached_archive(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("TFSENTI_OFFLINE", "0")  # online: try the download (no probe)
    monkeypatch.setenv("TFSENTI_ALLOW_UNVERIFIED", "1")
    put_nsmc(tmp_path / "pkg" / "inner")
    spec = tiny_spec("https://example.invalid/tiny.tgz", None, extract=True, path="inner/ratings_train.txt")
    monkeypatch.setitem(REGISTRY, "tiny", spec)
    folder = cache / "datasets" / "tiny"
    folder.mkdir(parents=True)
    with tarfile.open(folder / "tiny.tgz", "w:gz") as tar:  # downloaded earlier; extraction never finished
        tar.add(tmp_path / "pkg" / "inner", arcname="inner")
    (folder / ".extract-leftover").mkdir()

    def no_network(url, timeout):
        raise AssertionError("the cached archive must be reused, not downloaded again")

    monkeypatch.setattr(download_module.urllib.request, "urlopen", no_network)
    assert locate("tiny", progress=False) == folder
    assert (folder / "inner" / "ratings_train.txt").exists() and (folder / ".tiny.tgz.extracted").exists()
