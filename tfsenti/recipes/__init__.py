"""Registry of recipes: a name maps to the module that defines it, imported only when that recipe is used.

Adding a recipe = adding a module that defines a `Recipe` subclass and one line in `_MODULES`.

Example:
    >>> from tfsenti.recipes import available, get_recipe_class
    >>> "nbbon" in available()
    True
    >>> get_recipe_class("nbbon").name
    'nbbon'
"""

from __future__ import annotations

import importlib

from tfsenti.errors import ConfigError
from tfsenti.recipes.base import Recipe

_MODULES = {
    "nbbon": ("tfsenti.recipes.nbbon", "NBBONRecipe"),
    "tfhub": ("tfsenti.recipes.tfhub", "TFHubRecipe"),
    "bert": ("tfsenti.recipes.bert", "BertRecipe"),
    "ktrain": ("tfsenti.recipes.ktrain_recipe", "KtrainRecipe"),
    "uda": ("tfsenti.recipes.uda", "UDARecipe"),
    "dvcosine": ("tfsenti.recipes.dvcosine", "DVCosineRecipe"),
}


def available() -> list[str]:
    return sorted(_MODULES)


def get_recipe_class(name: str) -> type[Recipe]:
    if name not in _MODULES:
        raise ConfigError(f"Unknown recipe {name!r}. Available recipes: {', '.join(available())}.")
    module_name, class_name = _MODULES[name]
    return getattr(importlib.import_module(module_name), class_name)


__all__ = ["Recipe", "available", "get_recipe_class"]
