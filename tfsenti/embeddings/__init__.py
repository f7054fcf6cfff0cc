"""Document embeddings trained with cosine similarity (dv-cosine, Thongtan & Phienthrakul 2019).

Modules: `cosine_objective` (the loss and its exact gradients), `trainer` (fast NumPy training of n-gram and
document vectors, resumable), `pair_sgd` (the paper's per-pair SGD, the trainer's `optimizer: sgd`; its loops are
compiled by Numba in `_pair_sgd_kernel`), `inference` (vectors of new documents with the n-gram vectors frozen, as
TensorFlow ops shared by in-process prediction and the exported graph), `alignment` (joining per-document tables
by id).
"""
