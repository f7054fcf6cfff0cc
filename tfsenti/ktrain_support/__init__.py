"""Support for the `ktrain` recipe: pretrained-folder resolution (offline-capable), the in-graph copy of Hugging
Face's BERT tokenizer used by exports, ktrain's learning-rate finder with saved plots, and `scratch` checkpoints.

Nothing here imports ktrain, transformers or TensorFlow at import time.
"""
