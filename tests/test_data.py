"""dlcore.data: the digits splits and minibatches."""
import numpy as np
import pytest

from dlcore.data import load_digits, minibatches
from dlcore.errors import ShapeError


def test_digits_splits_sizes_stratification_and_standardisation():
    train, val, test = load_digits()
    assert len(train) + len(val) + len(test) == 1797
    assert train.X.shape == (len(train), 64) and train.X.dtype == np.float32
    assert train.y.dtype == np.int64
    # stratified: each class is 15% +- one image of the test split
    counts = np.bincount(test.y, minlength=10)
    assert counts.min() >= 26 and counts.max() <= 28
    # standardised with the training statistics: per-pixel mean 0 on train only
    assert np.abs(train.X.mean(axis=0)).max() < 1e-5
    assert np.abs(val.X.mean(axis=0)).max() > 1e-3


def test_digits_split_is_seeded_and_images_have_nchw_shape():
    a, _, _ = load_digits(rng=0)
    b, _, _ = load_digits(rng=0)
    c, _, _ = load_digits(rng=1)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.y, c.y)
    imgs, _, _ = load_digits(images=True)
    assert imgs.X.shape[1:] == (1, 8, 8)
    X, y = imgs  # a Split unpacks
    assert X is imgs.X and y is imgs.y


def test_digits_global_standardisation_keeps_images_images():
    raw, _, _ = load_digits(standardize="none")
    glob, _, _ = load_digits(standardize="global")
    # raw pixel values are the 0-16 grey levels of scikit-learn's digits
    assert raw.X.min() == 0.0 and raw.X.max() == 16.0
    np.testing.assert_array_equal(raw.y, glob.y)  # same split, only the scaling differs
    # one mean and one std over all training pixels: an affine map of the raw values,
    # so every blank pixel (0) maps to the same constant -mean/std
    mean, std = raw.X.astype(np.float64).mean(), raw.X.astype(np.float64).std()
    np.testing.assert_allclose(glob.X, (raw.X - mean) / std, rtol=1e-5, atol=1e-5)
    assert abs(glob.X.mean()) < 1e-5 and abs(glob.X.std() - 1) < 1e-5
    blank = glob.X[raw.X == 0]
    assert np.ptp(blank) < 1e-6 and blank[0] < 0
    # per-pixel standardisation instead gives blank pixels many different values
    pix, _, _ = load_digits(standardize="pixel")
    assert np.ptp(pix.X[raw.X == 0]) > 1.0


def test_digits_bad_standardize_mode():
    with pytest.raises(ValueError, match="standardize must be one of"):
        load_digits(standardize="per-image")


def test_digits_bad_fractions():
    with pytest.raises(ValueError, match="val_fraction \\+ test_fraction must be < 1"):
        load_digits(val_fraction=0.5, test_fraction=0.5)


def test_minibatches_cover_every_row_once(rng):
    X = np.arange(10.0).reshape(10, 1)
    y = np.arange(10)
    batches = list(minibatches(X, y, batch_size=4, rng=0))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    seen = np.concatenate([b[1] for b in batches])
    assert sorted(seen.tolist()) == list(range(10)) and seen.tolist() != list(range(10))
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], yb)
    ordered = np.concatenate([b[1] for b in minibatches(X, y, 3, shuffle=False)])
    assert ordered.tolist() == list(range(10))


def test_minibatches_refuse_mismatched_rows():
    with pytest.raises(ShapeError, match="X has 3 rows but y has 2"):
        next(minibatches(np.zeros((3, 1)), np.zeros(2), 2))
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        next(minibatches(np.zeros((3, 1)), None, 0))


def test_minibatches_drop_last_leaves_out_the_short_batch():
    X = np.arange(10.0).reshape(10, 1)
    sizes = [len(xb) for xb, _ in minibatches(X, None, 4, rng=0, drop_last=True)]
    assert sizes == [4, 4]
    assert [len(xb) for xb, _ in minibatches(X, None, 5, drop_last=True)] == [5, 5]
