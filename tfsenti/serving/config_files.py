"""`python cli.py serve-config`: the model server's config files for chosen exports, and the docker command.

Writes `models.config` (ModelServerConfig: one entry per model, base_path as the server sees it, version policy,
version labels), `monitoring.config` (Prometheus metrics at /monitoring/prometheus/metrics) and
`batching_parameters.txt` (server-side batching with TF Serving's CPU starting values).

Example:
    >>> config = model_server_config([ServedModel("imdb-nbbon", "/models/imdb-nbbon", (1, 2))],
    ...                              version_policy="specific", versions=(1, 2), labels={"stable": 1, "canary": 2})
    >>> entry = config.model_config_list.config[0]
    >>> entry.base_path, list(entry.model_version_policy.specific.versions), sorted(entry.version_labels.items())
    ('/models/imdb-nbbon', [1, 2], [('canary', 2), ('stable', 1)])
    >>> batching_parameters(cores=4).num_batch_threads.value
    4
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from tfsenti.errors import ConfigError

VERSION_POLICIES = ("latest", "all", "specific")
PROMETHEUS_PATH = "/monitoring/prometheus/metrics"
SERVER_IMAGE = "tensorflow/serving:2.20.0"  # the release of TensorFlow 2.20, which writes the exports
REST_PORT, GRPC_PORT = 8501, 8500
CONFIG_MOUNT = "/config"  # where the docker command mounts the folder holding these files
FILES = ("models.config", "monitoring.config", "batching_parameters.txt")

# TF Serving's batching guide, CPU only: one batch thread per core, no waiting for a batch to fill (raise it to
# 1000-10000 us if throughput matters more than latency), a batch size large enough to never be the limit for
# short texts, and a bounded queue so an overloaded server answers UNAVAILABLE (clients retry) instead of queueing
# without limit.
MAX_BATCH_SIZE = 128
BATCH_TIMEOUT_MICROS = 0
MAX_ENQUEUED_BATCHES = 100

_HEADERS = {
    "models.config": "# ModelServerConfig for --model_config_file (written by `python cli.py serve-config`).\n",
    "monitoring.config": f"# MonitoringConfig for --monitoring_config_file: Prometheus metrics at "
                         f"http://HOST:{REST_PORT}{PROMETHEUS_PATH}\n",
    "batching_parameters.txt": "# BatchingParameters for --enable_batching --batching_parameters_file, TF Serving's "
                               "CPU starting point:\n# one batch thread per core, no batch timeout (try 1000-10000 "
                               "for throughput), a bounded queue.\n",
}


@dataclasses.dataclass(frozen=True)
class ServedModel:
    """One model as the server sees it: name, base path inside the server, versions present locally."""

    name: str
    base_path: str
    versions: tuple[int, ...]
    local_path: Path | None = None


@dataclasses.dataclass(frozen=True)
class ServingConfig:
    """What `write_serving_config` wrote, and the command that starts a server on it."""

    files: tuple[Path, ...]
    models: tuple[ServedModel, ...]
    docker_command: str


def served_models(paths: Sequence[str | Path], *, base_path: str = "/models") -> list[ServedModel]:
    """Model folders (saved_models/<name>, holding integer version folders) -> ServedModel entries, named after
    the folder, with base_path `<base_path>/<name>`. A version folder stands for its model folder."""
    from tfsenti.export import resolve_version

    models = []
    for raw in paths:
        path = Path(raw)
        if (path / "saved_model.pb").is_file() and path.name.isdigit():
            path = path.parent
        resolve_version(path)  # raises a clear error when there is no version
        versions = tuple(sorted(int(p.name) for p in path.iterdir() if p.is_dir() and p.name.isdigit()))
        models.append(ServedModel(path.resolve().name, f"{base_path.rstrip('/')}/{path.resolve().name}", versions,
                                  path.resolve()))
    names = [m.name for m in models]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"Two models would be served under the same name {duplicates}: model names are the "
                          "folder names. Rename one folder (e.g. saved_models/imdb-bert-v2).")
    return models


def model_server_config(models: Sequence[ServedModel], *, version_policy: str = "latest",
                        versions: Sequence[int] = (), labels: Mapping[str, int] | None = None):
    """The ModelServerConfig message (models.config) for `models`."""
    from tensorflow_serving.config import model_server_config_pb2

    labels = dict(labels or {})
    if version_policy not in VERSION_POLICIES:
        raise ConfigError(f"Unknown version policy {version_policy!r}; allowed: {', '.join(VERSION_POLICIES)}.")
    if version_policy == "specific" and not versions:
        raise ConfigError("--version-policy specific needs the versions to serve: add --versions 1,2.")
    if versions and version_policy != "specific":
        raise ConfigError(f"--versions {','.join(map(str, versions))} needs --version-policy specific "
                          f"(received {version_policy!r}).")
    config = model_server_config_pb2.ModelServerConfig()
    for model in models:
        loaded = {"latest": set(model.versions[-1:]), "all": set(model.versions), "specific": set(versions)}
        missing = sorted(set(versions) - set(model.versions))
        if missing:
            raise ConfigError(f"Model {model.name} has versions {list(model.versions)}; requested versions "
                              f"{missing} do not exist. Publish them first or drop them from --versions.")
        for label, version in labels.items():
            if version not in loaded[version_policy]:
                raise ConfigError(
                    f"Label {label}={version} points at a version the server would not load for {model.name} "
                    f"(policy {version_policy}: {sorted(loaded[version_policy])}). The model server only assigns "
                    "labels to loaded versions: use --version-policy specific --versions with that version.")
        entry = config.model_config_list.config.add()
        entry.name, entry.base_path, entry.model_platform = model.name, model.base_path, "tensorflow"
        if version_policy == "latest":
            entry.model_version_policy.latest.num_versions = 1
        elif version_policy == "all":
            entry.model_version_policy.all.SetInParent()
        else:
            entry.model_version_policy.specific.versions.extend(sorted(versions))
        for label, version in labels.items():
            entry.version_labels[label] = version
    return config


def monitoring_config():
    """MonitoringConfig: Prometheus metrics served at PROMETHEUS_PATH on the REST port."""
    from tfsenti.serving.config_protos import MonitoringConfig

    config = MonitoringConfig()
    config.prometheus_config.enable = True
    config.prometheus_config.path = PROMETHEUS_PATH
    return config


def batching_parameters(*, cores: int | None = None):
    """BatchingParameters with the CPU starting values above; `num_batch_threads` = `cores` (default: this
    machine's count, so pass the server's)."""
    from tfsenti.serving.config_protos import BatchingParameters

    cores = cores or os.cpu_count() or 1
    parameters = BatchingParameters()
    parameters.max_batch_size.value = MAX_BATCH_SIZE
    parameters.batch_timeout_micros.value = BATCH_TIMEOUT_MICROS
    parameters.num_batch_threads.value = cores
    parameters.max_enqueued_batches.value = MAX_ENQUEUED_BATCHES
    return parameters


def docker_command(models: Sequence[ServedModel], config_dir: str | Path) -> str:
    """`docker run` of the TF Serving image with each model folder and the config folder mounted."""
    parts = ["docker", "run", "--rm", "-p", f"{GRPC_PORT}:{GRPC_PORT}", "-p", f"{REST_PORT}:{REST_PORT}"]
    for model in models:
        source = model.local_path or Path("saved_models") / model.name
        parts += ["-v", f"{source}:{model.base_path}:ro"]
    parts += ["-v", f"{Path(config_dir).resolve()}:{CONFIG_MOUNT}:ro", SERVER_IMAGE,
              f"--model_config_file={CONFIG_MOUNT}/models.config", "--model_config_file_poll_wait_seconds=60",
              f"--monitoring_config_file={CONFIG_MOUNT}/monitoring.config", "--enable_batching",
              f"--batching_parameters_file={CONFIG_MOUNT}/batching_parameters.txt"]
    return " ".join(shlex.quote(part) for part in parts)


def write_serving_config(paths: Sequence[str | Path], out_dir: str | Path, *, version_policy: str = "latest",
                         versions: Sequence[int] = (), labels: Mapping[str, int] | None = None,
                         base_path: str = "/models", cores: int | None = None) -> ServingConfig:
    """Write models.config, monitoring.config and batching_parameters.txt into `out_dir`."""
    from google.protobuf import text_format

    models = served_models(paths, base_path=base_path)
    contents = {
        "models.config": model_server_config(models, version_policy=version_policy, versions=versions,
                                             labels=labels),
        "monitoring.config": monitoring_config(),
        "batching_parameters.txt": batching_parameters(cores=cores),
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FILES:
        text = text_format.MessageToString(contents[name])
        if name == "batching_parameters.txt":  # proto3 omits zeros; say `value: 0` so the file states it
            text = re.sub(r"^(\w+) \{\n\}", r"\1 {\n  value: 0\n}", text, flags=re.MULTILINE)
        file = out / name
        file.write_text(_HEADERS[name] + text, encoding="utf-8")
        written.append(file)
    return ServingConfig(tuple(written), tuple(models), docker_command(models, out))


def parse_labels(values: Sequence[str]) -> dict[str, int]:
    """`["stable=1", "canary=2"]` -> {"stable": 1, "canary": 2}.

    Example:
        >>> parse_labels(["stable=1", "canary=2"])
        {'stable': 1, 'canary': 2}
    """
    labels = {}
    for value in values:
        label, _, version = value.partition("=")
        if not label or not version.strip().isdigit():
            raise ConfigError(f"Expected --label NAME=VERSION such as stable=1; received {value!r}.")
        labels[label.strip()] = int(version)
    return labels


def parse_versions(value: str | None) -> tuple[int, ...]:
    """`"1,2"` -> (1, 2); None or '' -> ()."""
    if not value:
        return ()
    try:
        return tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"Expected --versions as comma-separated integers such as 1,2; received {value!r}.") \
            from None
