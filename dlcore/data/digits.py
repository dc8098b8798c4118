"""Real data that ships with a package: scikit-learn's 8x8 digits (1,797 images, no download)."""
import numpy as np

from .. import _checks
from .._random import get_rng

__all__ = ["Split", "load_digits"]


class Split:
    """One part of a data set: X (N, ...) float array, y (N,) int64 labels."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.y)

    def __iter__(self):  # lets `X, y = split` unpack
        return iter((self.X, self.y))

    def __repr__(self):
        return f"Split(X={tuple(self.X.shape)} {self.X.dtype}, y={tuple(self.y.shape)})"


STANDARDIZE_MODES = ("pixel", "global", "none")


def load_digits(val_fraction=0.15, test_fraction=0.15, images=False, dtype=np.float32, rng=0,
                standardize="pixel"):
    """scikit-learn's handwritten digits as standardised train/val/test splits.

    1,797 grey 8x8 images of the digits 0-9 (pixel values 0-16). Each split's X is (N, 64),
    or (N, 1, 8, 8) with images=True. The statistics come from the training split only, so
    nothing leaks from validation or test data:

    - ``standardize="pixel"`` (default): each pixel has its own mean and std. Best for an
      MLP, but a pixel's value then means something only at its own position, so shifting
      an image makes it meaningless;
    - ``"global"``: one mean and one std over all pixels, so an image stays an image (blank
      background maps to one constant) and shifts or flips remain valid augmentations;
    - ``"none"``: the raw values 0-16.

    The split is stratified by class and seeded by `rng`. Returns (train, val, test) Splits.
    """
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as exc:  # scikit-learn comes with the 'book' extra
        raise ImportError(
            "load_digits needs scikit-learn: pip install 'dlcore[book]' or scikit-learn"
        ) from exc
    val_fraction = _checks.number(val_fraction, "val_fraction", "load_digits", 0.0, 1.0)
    test_fraction = _checks.number(test_fraction, "test_fraction", "load_digits", 0.0, 1.0)
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"load_digits: val_fraction + test_fraction must be < 1, got "
            f"{val_fraction} + {test_fraction}"
        )
    if standardize not in STANDARDIZE_MODES:
        raise ValueError(
            f"load_digits: standardize must be one of {STANDARDIZE_MODES}, got {standardize!r}"
        )
    digits = _sk_load_digits()
    X, y = digits.data.astype(np.float64), digits.target.astype(np.int64)
    gen = get_rng(rng)
    parts = {"train": [], "val": [], "test": []}
    for c in np.unique(y):  # stratified: each class split in the same proportions
        idx = gen.permutation(np.flatnonzero(y == c))
        n_test = round(test_fraction * len(idx))
        n_val = round(val_fraction * len(idx))
        parts["test"].append(idx[:n_test])
        parts["val"].append(idx[n_test:n_test + n_val])
        parts["train"].append(idx[n_test + n_val:])
    order = {k: gen.permutation(np.concatenate(v)) for k, v in parts.items()}
    X_train = X[order["train"]]
    if standardize == "pixel":
        mean = X_train.mean(axis=0)
        std = X_train.std(axis=0) + 1e-8  # some border pixels are always 0
    elif standardize == "global":
        mean, std = X_train.mean(), X_train.std()
    else:
        mean, std = 0.0, 1.0
    splits = []
    for k in ("train", "val", "test"):
        Xk = ((X[order[k]] - mean) / std).astype(dtype)
        if images:
            Xk = Xk.reshape(-1, 1, 8, 8)
        splits.append(Split(Xk, y[order[k]]))
    return tuple(splits)
