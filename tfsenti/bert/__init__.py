"""BERT building blocks for the `bert` recipe: presets and aliases, checkpoint loading (keras_hub presets, Hugging
Face folders, KoBERT), WordPiece and SentencePiece preprocessing that runs inside the exported graph, and a memory
estimate that runs before training.

Modules: `presets` (names -> sources), `checkpoint` (backbones), `sentencepiece_tokenizer` (KoBERT's tokenizer),
`preprocessor` (text -> token ids, segment ids, padding mask), `memory` (will it fit?). Nothing heavy is imported
here.
"""
