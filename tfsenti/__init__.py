"""tfsenti: sentiment analysis for English and Korean on the TensorFlow stack.

The one import-time side effect of the package, documented in README.md: `TF_USE_LEGACY_KERAS=1` is set (unless the
user set it) before TensorFlow can be imported, so that TensorFlow's own Keras alias means tf_keras (Keras 2), which
ktrain and tensorflow_hub need. tfsenti code never uses that alias: it imports `keras` (Keras 3) or `tf_keras` by name.

The Python API (`tfsenti.train`, `tfsenti.evaluate`, `tfsenti.load`) is the CLI's pipeline; see tfsenti/api.py.

Example:
    >>> import tfsenti
    >>> tfsenti.__version__
    '0.1.0'
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

__version__ = "0.1.0"

from tfsenti.api import Model, evaluate, load, train  # noqa: E402  (after the one documented environment setting)

__all__ = ["Model", "__version__", "evaluate", "load", "train"]
