"""dlcore.data augmentation: flips, shifts with zero fill, Gaussian noise, and their composition."""
import numpy as np
import pytest

import dlcore
from dlcore.data import augment, gaussian_noise, random_flip, random_shift
from dlcore.errors import DTypeError, ShapeError


def _reference_shift(img, dy, dx):
    """One (..., H, W) image moved by (dy, dx) pixels with zero fill, by slicing."""
    h, w = img.shape[-2:]
    out = np.zeros_like(img)
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        img[..., max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


@pytest.mark.parametrize("shape", [(6, 5, 4), (6, 3, 5, 4)])
def test_flip_p1_flips_every_image_and_p0_none(rng, shape):
    x = rng.normal(size=shape).astype(np.float32)
    np.testing.assert_array_equal(random_flip(x, p=1.0, rng=0), x[..., ::-1])
    out = random_flip(x, p=0.0, rng=0)
    np.testing.assert_array_equal(out, x)
    assert out is not x and out.dtype == np.float32


def test_flip_chooses_each_image_with_probability_p_and_all_channels_together():
    n = 20000
    x = np.zeros((n, 3, 1, 2))
    x[..., 1] = 1.0  # left 0, right 1: flipped images read 1, 0
    out = random_flip(x, p=0.3, rng=1)
    flipped = out[:, :, 0, 0] == 1.0  # (N, C)
    assert np.all(flipped == flipped[:, :1])  # one decision per image
    assert abs(flipped[:, 0].mean() - 0.3) < 0.015
    np.testing.assert_array_equal(out[:, :, 0, 1], 1.0 - out[:, :, 0, 0])


def test_shift_moves_pixels_by_at_most_max_shift_with_zero_fill_and_no_wrap(rng):
    n, h, w, m = 400, 6, 7, 2
    x = (1.0 + np.arange(h * w, dtype=np.float64)).reshape(1, h, w).repeat(n, 0)
    out = random_shift(x, max_shift=m, rng=3)
    assert out.shape == x.shape and out.dtype == x.dtype
    seen = set()
    for img, src in zip(out, x):
        r, c = np.argwhere(img > 0)[0]
        r0, c0 = divmod(int(img[r, c]) - 1, w)  # where that value came from
        dy, dx = int(r - r0), int(c - c0)
        assert abs(dy) <= m and abs(dx) <= m
        np.testing.assert_array_equal(img, _reference_shift(src, dy, dx))
        seen.add((dy, dx))
    assert len(seen) == (2 * m + 1) ** 2  # every shift occurs


def test_shift_a_single_bright_pixel_lands_where_expected_in_every_channel():
    n, m = 300, 2
    x = np.zeros((n, 2, 5, 5), np.float32)
    x[:, :, 0, 0] = 1.0  # top-left corner: negative shifts push it off the image
    out = random_shift(x, max_shift=m, rng=4)
    kept = out.sum(axis=(2, 3))  # (N, C): 1 if the pixel stayed, 0 if it left
    assert np.all(kept == kept[:, :1])  # both channels move together
    assert set(np.unique(kept).tolist()) == {0.0, 1.0}
    rows, cols = np.nonzero(out[:, 0].sum(axis=0))
    assert rows.max() <= m and cols.max() <= m  # nothing wraps to the far side
    # P(dy >= 0 and dx >= 0) = (3/5)²
    assert abs(kept[:, 0].mean() - 0.36) < 0.1


def test_shift_zero_is_a_copy_and_bad_max_shift_is_refused(rng):
    x = rng.normal(size=(3, 8, 8)).astype(np.float32)
    out = random_shift(x, max_shift=0, rng=0)
    np.testing.assert_array_equal(out, x)
    assert not np.shares_memory(out, x)
    with pytest.raises(ValueError, match=r"max_shift must be in \[0, 7\] for images of size 8x8, got 8"):
        random_shift(x, max_shift=8)
    with pytest.raises(ValueError, match=r"max_shift must be in \[0, 7\].*got -1"):
        random_shift(x, max_shift=-1)
    with pytest.raises(TypeError, match="max_shift must be an integer number of pixels"):
        random_shift(x, max_shift=1.5)


def test_gaussian_noise_has_the_given_std_and_keeps_dtype():
    x = np.full((500, 1, 16, 16), 2.0, np.float32)
    out = gaussian_noise(x, std=0.5, rng=5)
    assert out.dtype == np.float32 and out.shape == x.shape
    d = (out - x).astype(np.float64)
    assert abs(d.std() - 0.5) < 0.5 * 0.01
    assert abs(d.mean()) < 0.005
    np.testing.assert_array_equal(gaussian_noise(x, std=0.0, rng=5), x)
    with pytest.raises(ValueError, match=r"gaussian_noise: std must be in \[0.0, inf\]"):
        gaussian_noise(x, std=-0.1)


@pytest.mark.parametrize("fn", [
    lambda x, r: random_flip(x, 0.5, rng=r),
    lambda x, r: random_shift(x, 2, rng=r),
    lambda x, r: gaussian_noise(x, 0.3, rng=r),
    lambda x, r: augment(x, rng=r),
])
@pytest.mark.parametrize("shape", [(8, 6, 6), (8, 2, 6, 6)])
def test_input_is_never_modified_and_a_seed_gives_the_same_output(rng, fn, shape):
    x = rng.normal(size=shape)
    before = x.copy()
    a = fn(x, 9)
    np.testing.assert_array_equal(x, before)
    assert a.shape == x.shape and a.dtype == x.dtype and not np.shares_memory(a, x)
    np.testing.assert_array_equal(fn(x, 9), a)
    np.testing.assert_array_equal(fn(x, np.random.default_rng(9)), a)
    assert not np.array_equal(fn(x, 10), a)
    dlcore.seed(3)
    b = fn(x, None)
    dlcore.seed(3)
    np.testing.assert_array_equal(fn(x, None), b)


def test_augment_is_flip_then_shift_then_noise_from_one_generator(rng):
    x = rng.normal(size=(10, 1, 8, 8)).astype(np.float32)
    g = np.random.default_rng(7)
    expected = gaussian_noise(random_shift(random_flip(x, 0.4, g), 2, g), 0.05, g)
    np.testing.assert_array_equal(augment(x, flip=0.4, shift=2, noise=0.05, rng=7), expected)
    # steps set to 0 are skipped
    g = np.random.default_rng(7)
    np.testing.assert_array_equal(augment(x, flip=0, shift=1, noise=0, rng=7),
                                  random_shift(x, 1, g))
    none = augment(x, flip=0, shift=0, noise=0)
    np.testing.assert_array_equal(none, x)
    assert none is not x


def test_augmentation_refuses_non_images():
    with pytest.raises(ShapeError, match=r"random_flip: x must be a batch of images, "
                                         r"\(N, H, W\) or \(N, C, H, W\), got shape \(4, 64\)"):
        random_flip(np.zeros((4, 64)))
    with pytest.raises(DTypeError, match="random_shift: x must be a floating-point array"):
        random_shift(np.zeros((2, 8, 8), dtype=np.int64))
    with pytest.raises(TypeError, match="gaussian_noise: x must be a numpy"):
        gaussian_noise([[[0.0]]])
    with pytest.raises(ValueError, match=r"random_flip: p must be in \[0.0, 1.0\], got 1.5"):
        random_flip(np.zeros((2, 3, 3)), p=1.5)
    with pytest.raises(ShapeError, match="augment: x must be a batch of images"):
        augment(np.zeros((1, 1, 1, 3, 3)))
