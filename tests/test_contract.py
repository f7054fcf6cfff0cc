"""Every recipe passes the same contract; a new recipe joins by adding a line to CASES."""

import pytest

from contract import run_contract

CASES = {
    "nbbon": [],
}


@pytest.mark.parametrize("recipe_name", sorted(CASES))
def test_recipe_contract(recipe_name, tmp_path):
    run_contract(recipe_name, tmp_path, overrides=CASES[recipe_name])
