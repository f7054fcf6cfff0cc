"""Per-document tables keyed by document id, and the join that lines them up.

The published 97.42% of NB-BON + dv-cosine came from joining two per-document tables by POSITION when the two
files listed the documents in different orders: each document's n-gram features met another document's vector
(Zhang & Arefyev 2022). Here every table carries the ids of its rows, and `join_by_id` orders every table by the
ids asked for; a missing, duplicated or unknown id is an `AlignmentError`, never a silent shift.

Example:
    >>> import numpy as np
    >>> features = DocumentTable(["a", "b", "c"], np.array([[1.0], [2.0], [3.0]]))
    >>> vectors = DocumentTable(["c", "a", "b"], np.array([[30.0], [10.0], [20.0]]))   # another order
    >>> left, right = join_by_id(["a", "b", "c"], features, vectors)
    >>> np.hstack([left, right]).tolist()
    [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from tfsenti.errors import TfsentiError


class AlignmentError(TfsentiError, ValueError):
    """Two per-document tables cannot be joined: ids are missing, duplicated, or the lengths differ."""


@dataclasses.dataclass(frozen=True, eq=False)
class DocumentTable:
    """Rows (a NumPy array or SciPy sparse matrix) and the id of the document each row belongs to."""

    ids: Sequence[str]
    rows: object

    def __post_init__(self):
        ids = [str(i) for i in self.ids]
        object.__setattr__(self, "ids", ids)
        if len(ids) != self.rows.shape[0]:
            raise AlignmentError(f"A document table needs one id per row: received {len(ids)} ids for "
                                 f"{self.rows.shape[0]} rows.")
        position = {}
        for index, name in enumerate(ids):
            if position.setdefault(name, index) != index:
                raise AlignmentError(f"Document id {name!r} appears twice (rows {position[name]} and {index}); "
                                     "ids must be unique to join tables safely.")
        object.__setattr__(self, "_position", position)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, ids: Sequence[str]):
        """The rows of `ids`, in that order; raises AlignmentError naming the ids this table lacks."""
        position = self._position
        missing = [i for i in ids if str(i) not in position]
        if missing:
            raise AlignmentError(f"{len(missing)} requested document id(s) are not in this table, e.g. "
                                 f"{missing[:3]}; the table holds {len(self)} documents (e.g. {self.ids[:3]}). "
                                 "Build both tables from the same documents.")
        order = np.fromiter((position[str(i)] for i in ids), dtype=np.int64, count=len(ids))
        return self.rows[order] if not sp.issparse(self.rows) else self.rows.tocsr()[order]


def join_by_id(ids: Sequence[str], *tables: DocumentTable) -> list:
    """Each table's rows for `ids`, all in the order of `ids` (so row k of every result is document ids[k])."""
    ids = [str(i) for i in ids]
    if len(set(ids)) != len(ids):
        raise AlignmentError(f"The ids to join on contain duplicates ({len(ids) - len(set(ids))} repeats).")
    return [table.take(ids) for table in tables]
