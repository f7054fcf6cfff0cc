"""Config resolution: defaults < file < flags < --set; unknown keys and wrong types are named errors."""

import pytest

from tfsenti.config import build_config
from tfsenti.errors import ConfigError


def test_defaults_and_overrides(tmp_path):
    file = tmp_path / "c.yaml"
    file.write_text("recipe: nbbon\ndata: {validation_fraction: 0.2}\ntrain: {seed: 3}\n")
    config = build_config("nbbon", "nsmc", config_file=file, values={"train.seed": 5},
                          overrides=["data.limit_train=100", "train.seed=9"])
    assert config.data.name == "nsmc"
    assert config.data.validation_fraction == 0.2
    assert config.data.limit_train == 100
    assert config.train.seed == 9  # --set beats flags beats file
    assert config.export_name == "nsmc-nbbon"


def test_bare_key_resolves_to_its_only_section():
    assert build_config("nbbon", "imdb", default_file=False, overrides=["limit_test=7"]).data.limit_test == 7


@pytest.mark.parametrize("override, fragment", [
    ("data.nope=1", "Unknown key(s) ['nope'] in section 'data'"),
    ("bogus.seed=1", "Unknown config section 'bogus'"),
    ("train.seed=abc", "'train.seed' expects int"),
    ("data.validation_fraction=[1]", "'data.validation_fraction' expects float"),
    ("no_such_key=1", "no section has it"),
    ("train.seed", "expects key=value"),
])
def test_bad_overrides_name_the_key(override, fragment):
    with pytest.raises(ConfigError) as error:
        build_config("nbbon", "imdb", default_file=False, overrides=[override])
    assert fragment in str(error.value)


def test_unknown_recipe_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="Available recipes: .*nbbon"):
        build_config("nope", "imdb", default_file=False)


def test_yaml_round_trip(tmp_path):
    config = build_config("nbbon", "imdb", default_file=False, overrides=["train.seed=11"])
    file = tmp_path / "resolved.yaml"
    file.write_text(config.to_yaml())
    assert build_config(config_file=file) == config


def test_file_for_another_recipe_is_refused(tmp_path):
    file = tmp_path / "c.yaml"
    file.write_text("recipe: bert\n")
    with pytest.raises(ConfigError, match="is for recipe 'bert'"):
        build_config("nbbon", "imdb", config_file=file)


def test_exponent_without_dot_is_a_float():
    """YAML 1.1 reads `5e-5` as a string; a float key takes it as the number the user typed, other text stays an
    error."""
    config = build_config("tfhub", "imdb", default_file=False, overrides=["params.learning_rate=5e-5"])
    assert config.params.learning_rate == pytest.approx(5e-5)
    with pytest.raises(ConfigError, match="expects float"):
        build_config("tfhub", "imdb", default_file=False, overrides=["params.learning_rate=fast"])
