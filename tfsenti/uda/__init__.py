"""Unsupervised Data Augmentation (Xie et al. 2019) for the `uda` recipe: TSA schedules, the masked losses, text
augmentation with an on-disk cache, the labeled/unlabeled data pools and the Keras 3 train step.

Modules (import the one you need; nothing heavy is imported here):
    tsa         Training Signal Annealing thresholds (linear, log, exp)
    losses      supervised cross-entropy with TSA, KL consistency loss with sharpening and a confidence mask
    augment     TF-IDF and uniform word replacement, back-translation files, cached augmented copies
    data        the seeded balanced labeled subset, the unlabeled pool on disk, tf.data streams
    train_step  `UDATrainer`: the custom train step on [labeled | unlabeled original | unlabeled augmented]
"""
