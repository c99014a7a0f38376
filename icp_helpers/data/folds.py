"""Cross-validation machinery shared by the step-3 backtest and lead scoring."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

__all__ = ["capped_training_rows"]


def capped_training_rows(train: np.ndarray, y, *, max_train: int | None, random_state=None) -> np.ndarray:
    """A fold's training rows, or a stratified sample of ``max_train`` of them when there are more.

    Parameters
    ----------
    train : ndarray of int
        The fold's training rows.
    y : array
        The labels of every row (the sample keeps their proportions).
    max_train : int or None
        Rows at most; all when None.
    random_state : int, optional
        Seed of the sample.
    """
    if max_train is None or len(train) <= max_train:
        return train
    return train_test_split(train, train_size=max_train, stratify=y[train], random_state=random_state)[0]

