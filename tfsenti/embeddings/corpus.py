"""The texts of one dv-cosine fit, each with a role and a unique document key, in one table.

Keys are the documents' ids, prefixed for unlabeled text (`unlabeled:`) and for the test text of the transductive
protocol (`test-text:`), so that features and vectors always join by document, never by position.

Example:
    >>> from tfsenti.data.dataset import TextDataset
    >>> corpus = EmbeddingCorpus.build(TextDataset(["a", "b"], [0, 1], ["t1", "t2"]), None, None,
    ...                                TextDataset(["c"], [-1], ["x"]))
    >>> corpus.keys, corpus.rows("test_text")
    (['t1', 't2', 'test-text:x'], [2])
"""

from __future__ import annotations

import dataclasses

from tfsenti.embeddings.alignment import AlignmentError

TEST_TEXT_PREFIX = "test-text:"  # document keys of the test text in the embedding corpus (transductive)


@dataclasses.dataclass
class EmbeddingCorpus:
    """All texts of one fit, each with a role and a unique key (role-prefixed for unlabeled and test text)."""

    texts: list[str]
    keys: list[str]
    roles: list[str]

    @classmethod
    def build(cls, train, validation, unlabeled, test_text) -> EmbeddingCorpus:
        texts, keys, roles = [], [], []
        parts = [("train", train, ""), ("validation", validation, ""), ("unlabeled", unlabeled, "unlabeled:"),
                 ("test_text", test_text, TEST_TEXT_PREFIX)]
        for role, dataset, prefix in parts:
            if dataset is None:
                continue
            texts += list(dataset.texts)
            keys += [prefix + str(i) for i in dataset.ids]
            roles += [role] * len(dataset)
        if len(set(keys)) != len(keys):
            raise AlignmentError("Document ids repeat across train and validation (or within a split); every "
                                 "document needs its own id so that features and vectors join correctly.")
        return cls(texts, keys, roles)

    def rows(self, *roles: str) -> list[int]:
        wanted = set(roles)
        return [i for i, role in enumerate(self.roles) if role in wanted]
