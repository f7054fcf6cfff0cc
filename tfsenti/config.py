"""Run configuration: frozen dataclasses, YAML files and `key=value` overrides.

A config has four sections, two levels at most:

    recipe: nbbon                  # which model family (see `tfsenti.recipes.available()`)
    data:   {name: imdb, validation_fraction: 0.1, ...}     # DataConfig
    train:  {seed: 1234, epochs: 1, batch_size: 32, ...}     # TrainConfig, shared by every recipe
    params: {word_ngrams: [1, 3], ...}                       # the recipe's own Params dataclass

Unknown keys and wrong types are errors that name the key and list what is allowed.

Example:
    >>> from tfsenti.config import build_config
    >>> config = build_config("nbbon", "imdb", overrides=["params.C=0.5", "train.seed=7"])
    >>> config.params.C, config.train.seed
    (0.5, 7)
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any, Literal

import yaml

from tfsenti.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Which dataset, where its files are, and how it is split and sampled.

    `name` is a known dataset (imdb, nsmc, amazon) or a user's own file or folder (CSV, TSV, JSON Lines, one
    sub-folder per class); for those, `test` / `validation` name files of the same kind (else the splits are carved
    from `name`, seeded and stratified: `test_fraction`, then `validation_fraction` of the rest), and
    `text_columns` / `label_column` / `delimiter` say how to read them.

    Example:
        >>> DataConfig(name="reviews.csv", text_columns=("title", "body"), label_column="stars").test_fraction
        0.2
        >>> DataConfig(validation_fraction=1.5)
        Traceback (most recent call last):
        ...
        ValueError: validation_fraction must be between 0 and 1 (exclusive), received 1.5
    """

    name: str = "imdb"
    data_dir: str | None = None
    validation_fraction: float = 0.1
    limit_train: int | None = None
    limit_test: int | None = None
    strict: bool = False
    test: str | None = None
    validation: str | None = None
    test_fraction: float = 0.2
    text_columns: tuple[str, ...] = ()
    label_column: str | None = None
    delimiter: str | None = None

    def __post_init__(self):
        for key in ("validation_fraction", "test_fraction"):
            value = getattr(self, key)
            if not 0.0 < value < 1.0:
                raise ValueError(f"{key} must be between 0 and 1 (exclusive), received {value}")
        for key in ("limit_train", "limit_test"):
            value = getattr(self, key)
            if value is not None and value < 1:
                raise ValueError(f"{key} must be a positive number of examples or null, received {value}")
        if not self.name:
            raise ValueError("name must be a dataset name (imdb, nsmc, amazon) or a file or folder of your own")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Settings every recipe shares.

    Example:
        >>> TrainConfig(epochs=0)
        Traceback (most recent call last):
        ...
        ValueError: epochs must be a positive integer, received 0
    """

    seed: int = 1234
    epochs: int = 1
    batch_size: int = 32  # the global batch: summed over every replica of every worker (tfsenti.training.distribute)
    pretrained: str | None = None
    strategy: Literal["default", "mirrored", "multi_worker"] = "default"  # tf.distribute strategy (Keras recipes)

    def __post_init__(self):
        for key in ("epochs", "batch_size"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be a positive integer, received {getattr(self, key)}")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything one `train` run needs; `params` is the recipe's own Params dataclass."""

    recipe: str
    data: DataConfig
    train: TrainConfig
    params: Any
    name: str | None = None
    config_file: str | None = dataclasses.field(default=None, compare=False)  # the YAML read, for messages only

    def __post_init__(self):
        if self.name is not None:
            check_export_name(self.name)

    @property
    def data_label(self) -> str:
        """The dataset as a short name for folders: `imdb`, or `reviews` for `data/reviews.csv.gz`."""
        return data_label(self.data.name)

    @property
    def export_name(self) -> str:
        return self.name or f"{self.data_label}-{self.recipe}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "recipe": self.recipe,
            "name": self.name,
            "data": dataclasses.asdict(self.data),
            "train": dataclasses.asdict(self.train),
            "params": dataclasses.asdict(self.params),
        }

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)


_TOP_LEVEL = ("recipe", "name", "data", "train", "params")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_DATA_SUFFIXES = (".gz", ".csv", ".tsv", ".tab", ".txt", ".jsonl", ".ndjson", ".json")


def check_export_name(name: str) -> str:
    """Return `name` if it is a plain folder name (letters, digits, `.`, `_`, `-`), else raise ConfigError.

    Export names become `saved_models/<name>/`; a path (`../x`, `/tmp/x`, `a/b`) would write outside it.

    Example:
        >>> check_export_name("reviews-nbbon")
        'reviews-nbbon'
        >>> check_export_name("../x")
        Traceback (most recent call last):
        ...
        tfsenti.errors.ConfigError: Export name '../x' is not a plain folder name: use letters, digits, '.', '_' and '-' only, starting with a letter or digit (e.g. --name reviews-nbbon); to export elsewhere, pass --models-dir FOLDER.
    """
    if not isinstance(name, str) or not _PLAIN_NAME.fullmatch(name):
        raise ConfigError(f"Export name {name!r} is not a plain folder name: use letters, digits, '.', '_' and '-' "
                          "only, starting with a letter or digit (e.g. --name reviews-nbbon); to export elsewhere, "
                          "pass --models-dir FOLDER.")
    return name


def data_label(data: str) -> str:
    """A dataset name as used in folder names: known names as they are, a file or folder by its bare name.

    Example:
        >>> data_label("imdb"), data_label("../data/reviews.csv.gz"), data_label("my reviews/")
        ('imdb', 'reviews', 'my-reviews')
    """
    name = Path(str(data).rstrip("/\\")).name or "data"
    while name.lower().endswith(_DATA_SUFFIXES):
        name = name[: name.rfind(".")]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "data"
    return name


CONFIGS_DIR = Path(__file__).resolve().parent / "configs"  # shipped with the package; `configs/` links here


def default_config_path(recipe: str, data: str, root: str | Path = CONFIGS_DIR) -> Path:
    """`configs/<data>/<recipe>.yaml`, the experiment file read when no config file is given.

    Example:
        >>> default_config_path("nbbon", "nsmc").relative_to(CONFIGS_DIR).as_posix()
        'nsmc/nbbon.yaml'
    """
    return Path(root) / data / f"{recipe}.yaml"


def resolve_config_file(recipe: str, data: str | None, config_file: str | Path | None = None) -> Path | None:
    """The config file a run reads: `config_file` when given, else `configs/<data>/<recipe>.yaml` when it exists.

    The CLI and the Python API both resolve through here, so the same flags give the same config.

    Example:
        >>> resolve_config_file("nbbon", "nsmc").name, resolve_config_file("nbbon", "reviews.csv")
        ('nbbon.yaml', None)
    """
    if config_file is not None:
        return Path(config_file)
    if not data or not recipe:
        return None
    path = default_config_path(recipe, data)
    return path if path.is_file() else None


def build_config(
    recipe: str | None = None,
    data: str | None = None,
    *,
    config_file: str | Path | None = None,
    overrides: typing.Iterable[str] = (),
    values: dict[str, Any] | None = None,
    default_file: bool = True,
) -> RunConfig:
    """Resolve a RunConfig: recipe defaults < YAML file < `values` (CLI flags) < `overrides` (`--set k=v`).

    The YAML file is `config_file`, or else (with `default_file`) `configs/<data>/<recipe>.yaml` where it exists,
    or, for a user's own data file, `configs/text-<language>/<recipe>.yaml` for the language its texts are written
    in (see `tfsenti.text.script`), exactly as the CLI resolves it. `overrides` are strings `section.key=value`
    (YAML-parsed value); a bare `key=value` is accepted when the key exists in exactly one section.
    """
    overrides = list(overrides)
    raw: dict[str, Any] = {}
    if config_file is None and default_file:
        config_file = resolve_config_file(recipe, data)
    if config_file is not None:
        raw = _read_yaml(Path(config_file))
    recipe = recipe or raw.get("recipe")
    if not recipe:
        raise ConfigError("No recipe given. Pass `--model NAME` or put `recipe: NAME` in the config file.")
    if raw.get("recipe") not in (None, recipe):
        raise ConfigError(f"Config file {config_file} is for recipe {raw['recipe']!r}, but --model is {recipe!r}.")
    raw["recipe"] = recipe
    if data:
        raw.setdefault("data", {})
        raw["data"] = dict(raw["data"] or {}, name=data)

    from tfsenti.recipes import get_recipe_class  # local: the registry imports config

    params_cls = get_recipe_class(recipe).Params
    sections = {"data": DataConfig, "train": TrainConfig, "params": params_cls}
    for dotted, value in (values or {}).items():
        _assign(raw, sections, dotted, value, source="command-line flag")
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, received {item!r}. Example: --set params.C=0.5")
        key, text = item.split("=", 1)
        _assign(raw, sections, key.strip(), yaml.safe_load(text), source=f"--set {item}")

    unknown = set(raw) - set(_TOP_LEVEL)
    if unknown:
        raise ConfigError(f"Unknown top-level config key(s) {sorted(unknown)}; allowed: {list(_TOP_LEVEL)}.")
    built = {name: _build_dataclass(cls, raw.get(name) or {}, name) for name, cls in sections.items()}
    refusal = get_recipe_class(recipe).strategy_refusal
    if built["train"].strategy != "default" and refusal:
        raise ConfigError(f"train.strategy={built['train'].strategy!r} is not available for the {recipe} recipe: "
                          f"{refusal}. Use --strategy default (the strategies distribute bert, uda and tfhub).")
    if config_file is None and default_file:
        text_defaults = language_config_file(recipe, built["data"])
        if text_defaults is not None:
            return build_config(recipe, data, config_file=text_defaults, overrides=overrides, values=values,
                                default_file=False)
    return RunConfig(recipe=recipe, name=raw.get("name"), config_file=_shown_path(config_file), **built)


def _shown_path(path: str | Path | None) -> str | None:
    """A config file as messages show it: `configs/...` for the files shipped with tfsenti, else as given."""
    if path is None:
        return None
    try:
        return "configs/" + Path(path).resolve().relative_to(CONFIGS_DIR).as_posix()
    except ValueError:
        return str(path)


def language_config_file(recipe: str, data: DataConfig) -> Path | None:
    """For a user's own data: `configs/text-<language>/<recipe>.yaml`, chosen from a sample of its training texts
    (Hangul-heavy text is Korean: character n-grams, multilingual weights), or None for a known dataset or where no
    such file exists. The choice is logged.

    Example:
        >>> language_config_file("nbbon", DataConfig(name="imdb")) is None
        True
    """
    import logging

    from tfsenti.data.user_files import UserDataOptions, is_user_data, sample_texts
    from tfsenti.text.script import describe_script, text_language

    if not is_user_data(data.name):
        return None
    options = UserDataOptions(text_columns=data.text_columns, label_column=data.label_column,
                              delimiter=data.delimiter)
    texts = sample_texts(data.name, options)
    language = text_language(texts)
    path = default_config_path(recipe, f"text-{language}")
    found = path if path.is_file() else None
    logging.getLogger("tfsenti").info(
        "%s: %s; defaults for %s text: %s", data.name, describe_script(texts), language,
        f"configs/text-{language}/{recipe}.yaml" if found else f"the {recipe} recipe's own")
    return found


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"Config file {path} does not exist.")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"Config file {path} is not valid YAML: {error}") from error
    if not isinstance(loaded, dict):
        raise ConfigError(f"Config file {path} must hold a mapping at the top level, found {type(loaded).__name__}.")
    return loaded


def _assign(raw: dict, sections: dict[str, type], dotted: str, value: Any, *, source: str) -> None:
    if dotted in ("name", "recipe"):
        raw[dotted] = value
        return
    if "." in dotted:
        section, key = dotted.split(".", 1)
        if section not in sections:
            raise ConfigError(f"Unknown config section {section!r} in {source}; sections: {list(sections)}.")
    else:
        key = dotted
        owners = [name for name, cls in sections.items() if key in _field_names(cls)]
        if len(owners) != 1:
            where = f"it exists in {owners}" if owners else "no section has it"
            allowed = {name: sorted(_field_names(cls)) for name, cls in sections.items()}
            raise ConfigError(f"Cannot place key {key!r} from {source}: {where}. Use section.key; keys: {allowed}.")
        section = owners[0]
    raw.setdefault(section, {})
    raw[section] = dict(raw[section] or {}, **{key: value})


def _field_names(cls: type) -> set[str]:
    return {field.name for field in dataclasses.fields(cls)}


def _build_dataclass(cls: type, values: dict[str, Any], section: str):
    if not isinstance(values, dict):
        raise ConfigError(f"Config section {section!r} must be a mapping, found {type(values).__name__}.")
    names = _field_names(cls)
    unknown = set(values) - names
    if unknown:
        raise ConfigError(f"Unknown key(s) {sorted(unknown)} in section {section!r}; allowed: {sorted(names)}.")
    hints = typing.get_type_hints(cls)
    checked = {key: _check_type(f"{section}.{key}", value, hints[key]) for key, value in values.items()}
    try:
        return cls(**checked)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"Invalid section {section!r}: {error}") from error


_YAML11_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _check_type(key: str, value: Any, hint: Any) -> Any:
    """Return `value` converted to `hint` where that is lossless (int -> float, list -> tuple), else raise."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for option in typing.get_args(hint):
            try:
                return _check_type(key, value, option)
            except ConfigError as error:
                errors.append(error)
        raise errors[-1] if len(errors) == 1 else ConfigError(
            f"Config key {key!r} expects {_describe(hint)}, received {value!r} ({type(value).__name__})."
        )
    if hint is type(None):
        if value is None:
            return None
    elif hint is typing.Any:
        return value
    elif origin is typing.Literal:
        if value in typing.get_args(hint):
            return value
        raise ConfigError(f"Config key {key!r} must be one of {list(typing.get_args(hint))}, received {value!r}.")
    elif origin in (tuple, list):
        if isinstance(value, (list, tuple)):
            args = typing.get_args(hint)
            if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
                return tuple(_check_type(key, item, args[0]) for item in value)
            if origin is tuple and args:
                if len(args) != len(value):
                    raise ConfigError(f"Config key {key!r} expects {len(args)} values, received {list(value)!r}.")
                return tuple(_check_type(key, item, arg) for item, arg in zip(value, args))
            return origin(value)
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str) and _YAML11_FLOAT.fullmatch(value.strip()):
            return float(value)  # YAML 1.1 reads `5e-5` (no dot) as text; it is what the user meant
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(hint, type) and isinstance(value, hint):
        return value
    raise ConfigError(f"Config key {key!r} expects {_describe(hint)}, received {value!r} ({type(value).__name__}).")


def _describe(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
