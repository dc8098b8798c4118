"""dlcore.data synthetic sets: spirals, moons and the ravine (with its closed-form loss)."""
import numpy as np
import pytest

import dlcore
from dlcore.data import moons, ravine, ravine_grad, ravine_hessian, ravine_loss, spirals
from dlcore.errors import ShapeError
from dlcore.gradcheck import relative_error


def _wrap(angle):
    """Angles to (-π, π]."""
    return np.angle(np.exp(1j * angle))


# --- spirals ----------------------------------------------------------------------------------

def test_spirals_shapes_dtypes_and_exact_class_balance():
    X, y = spirals(n_per_class=50, classes=3, rng=0)
    assert X.shape == (150, 2) and X.dtype == np.float32
    assert y.shape == (150,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [50, 50, 50]
    assert len(set(y[:50].tolist())) > 1  # rows are shuffled, not sorted by class
    X64, _ = spirals(n_per_class=5, rng=0, dtype=np.float64)
    assert X64.dtype == np.float64


def test_spirals_without_noise_lie_on_arms_rotated_by_2pi_over_classes():
    classes, turns = 4, 1.5
    X, y = spirals(n_per_class=300, classes=classes, noise=0.0, rng=1, turns=turns,
                   dtype=np.float64)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.min() >= 0 and r.max() < 1
    # arm k: θ = 2π·turns·r + 2πk/classes
    offsets = _wrap(np.arctan2(X[:, 1], X[:, 0]) - 2 * np.pi * turns * r)
    np.testing.assert_allclose(_wrap(offsets - 2 * np.pi * y / classes), 0, atol=1e-9)
    # so the arm (= the class) is recovered from radius and angle alone
    k = np.round(np.mod(offsets, 2 * np.pi) / (2 * np.pi / classes)).astype(int) % classes
    np.testing.assert_array_equal(k, y)


def test_spirals_noise_moves_points_along_their_circle_with_the_given_std():
    X, y = spirals(n_per_class=20000, classes=2, noise=0.2, rng=2, dtype=np.float64)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r.max() < 1  # the radius is untouched by noise
    resid = _wrap(np.arctan2(X[:, 1], X[:, 0]) - 2 * np.pi * r - np.pi * y)
    assert abs(resid.std() - 0.2) < 0.2 * 0.02
    assert abs(resid.mean()) < 0.005


def test_spirals_are_seeded():
    a = spirals(rng=3)
    b = spirals(rng=np.random.default_rng(3))
    c = spirals(rng=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    dlcore.seed(11)
    d = spirals()
    dlcore.seed(11)
    e = spirals()
    np.testing.assert_array_equal(d[0], e[0])


def test_spirals_bad_arguments():
    with pytest.raises(ValueError, match="spirals: classes must be an integer >= 2, got 1"):
        spirals(classes=1)
    with pytest.raises(ValueError, match="spirals: n_per_class must be a positive integer"):
        spirals(n_per_class=0)
    with pytest.raises(ValueError, match=r"spirals: noise must be in \[0.0, inf\]"):
        spirals(noise=-0.1)
    with pytest.raises(TypeError, match="spirals: dtype must be a float dtype"):
        spirals(dtype=np.int32)


# --- moons ------------------------------------------------------------------------------------

def test_moons_without_noise_lie_on_two_unit_half_circles():
    X, y = moons(n=201, noise=0.0, rng=0, dtype=np.float64)
    assert X.shape == (201, 2) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [100, 101]  # n // 2 in class 0, as make_moons
    top, bottom = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*top.T), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(bottom[:, 0] - 1, bottom[:, 1] - 0.5), 1.0, atol=1e-12)
    assert top[:, 1].min() >= -1e-12 and bottom[:, 1].max() <= 0.5 + 1e-12
    # the ends of each half circle are included (evenly spaced angles in [0, π])
    assert np.isclose(top[:, 0].min(), -1) and np.isclose(top[:, 0].max(), 1)


def test_moons_match_scikit_learn_make_moons_up_to_row_order():
    from sklearn.datasets import make_moons

    X, y = moons(n=51, noise=0.0, rng=0, dtype=np.float64)
    Xs, ys = make_moons(n_samples=51, noise=None, random_state=0)
    ours = np.column_stack([X, y])
    theirs = np.column_stack([Xs, ys])
    ours = ours[np.lexsort(ours.T[::-1])]
    theirs = theirs[np.lexsort(theirs.T[::-1])]
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_moons_noise_is_gaussian_on_each_coordinate():
    clean, y0 = moons(n=20000, noise=0.0, rng=5, dtype=np.float64)
    noisy, y1 = moons(n=20000, noise=0.3, rng=5, dtype=np.float64)
    np.testing.assert_array_equal(y0, y1)  # same seed: same order, then the noise
    d = noisy - clean
    assert np.all(np.abs(d.std(axis=0) - 0.3) < 0.3 * 0.02)
    assert np.all(np.abs(d.mean(axis=0)) < 0.01)
    a, b = moons(rng=6), moons(rng=6)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[0].dtype == np.float32


def test_moons_bad_arguments():
    with pytest.raises(ValueError, match="moons: n .* must be an integer >= 2, got 1"):
        moons(n=1)
    with pytest.raises(ValueError, match="moons: noise must be in"):
        moons(noise=-1)


# --- ravine -----------------------------------------------------------------------------------

@pytest.mark.parametrize("condition,angle", [(1.0, 0.0), (10.0, 0.3), (50.0, 0.0),
                                             (1000.0, np.pi / 4)])
def test_ravine_hessian_has_the_requested_condition_number_and_axes(condition, angle):
    X, y = ravine(n=200, condition=condition, rng=0, angle=angle)
    assert X.shape == (200, 2) and y.shape == (200, 1)
    assert X.dtype == np.float32 and y.dtype == np.float32
    X = X.astype(np.float64)
    H = X.T @ X / len(X)  # Hessian of ½·mean((X @ w - y)²)
    lam, vec = np.linalg.eigh(H)
    np.testing.assert_allclose(lam, [1 / condition, 1.0], rtol=1e-4)
    np.testing.assert_allclose(lam[1] / lam[0], condition, rtol=1e-3)
    # the flat axis of the valley points along (cos angle, sin angle)
    if condition > 1:
        assert abs(vec[:, 0] @ [np.cos(angle), np.sin(angle)]) > 1 - 1e-6
    np.testing.assert_allclose(H, ravine_hessian(condition, angle), atol=1e-6)
    np.testing.assert_allclose(X.mean(axis=0), 0, atol=1e-6)


def test_ravine_with_a_bias_keeps_the_condition_number():
    X, _ = ravine(n=100, condition=30.0, rng=1, dtype=np.float64)
    A = np.column_stack([X, np.ones(len(X))])  # [w, b]
    lam = np.linalg.eigvalsh(A.T @ A / len(A))
    np.testing.assert_allclose(lam.max() / lam.min(), 30.0, rtol=1e-9)


def test_ravine_without_noise_is_minimised_by_w_true_and_matches_ravine_loss(rng):
    X, y = ravine(n=50, condition=20.0, rng=2, angle=0.5, w_true=(2.0, -1.0), dtype=np.float64)
    w_hat = np.linalg.lstsq(X, y[:, 0], rcond=None)[0]
    np.testing.assert_allclose(w_hat, [2.0, -1.0], atol=1e-12)
    for w in rng.normal(size=(5, 2)) * 3:
        data_loss = 0.5 * np.mean((X @ w - y[:, 0]) ** 2)
        closed = ravine_loss(w, 20.0, angle=0.5, w_true=(2.0, -1.0))
        np.testing.assert_allclose(closed, data_loss, rtol=1e-10)
    assert ravine_loss([2.0, -1.0], 20.0, 0.5, (2.0, -1.0)) == 0.0


def test_ravine_noise_has_the_given_std():
    X, y = ravine(n=20000, condition=5.0, noise=0.5, rng=3, dtype=np.float64)
    resid = y[:, 0] - X @ np.array([1.0, 1.0])
    assert abs(resid.std() - 0.5) < 0.5 * 0.02


def test_ravine_grad_matches_numerical_gradient_and_grids_work(rng):
    w = rng.normal(size=(4, 2))
    g = ravine_grad(w, condition=40.0, angle=0.2)
    h = 1e-6
    num = np.empty_like(w)
    for i in range(2):
        e = np.zeros(2)
        e[i] = h
        num[:, i] = (ravine_loss(w + e, 40.0, 0.2) - ravine_loss(w - e, 40.0, 0.2)) / (2 * h)
    assert relative_error(g, num) < 1e-7
    grid = np.stack(np.meshgrid(np.linspace(-1, 3, 7), np.linspace(-1, 3, 5)), axis=-1)
    assert ravine_loss(grid).shape == (5, 7)
    assert ravine_loss(np.zeros(2)).shape == ()


def test_gradient_descent_on_the_ravine_follows_the_closed_form():
    # lr = 1 = 1/λ_max kills the steep direction in one step; the flat one shrinks by
    # (1 - 1/condition) per step: the ravine's slow crawl
    condition, w = 50.0, np.array([-2.0, 3.0])
    w_true = np.array([1.0, 1.0])
    for _ in range(10):
        w = w - 1.0 * ravine_grad(w, condition)
    np.testing.assert_allclose(w - w_true, [-3.0 * (1 - 1 / condition) ** 10, 0.0], atol=1e-12)
    lam = np.linalg.eigvalsh(ravine_hessian(condition))
    np.testing.assert_allclose(lam, [1 / condition, 1.0])


def test_ravine_is_seeded_and_checks_its_arguments():
    np.testing.assert_array_equal(ravine(rng=7)[0], ravine(rng=7)[0])
    assert not np.array_equal(ravine(rng=7)[0], ravine(rng=8)[0])
    with pytest.raises(ValueError, match=r"ravine: condition must be in \[1.0, inf\]"):
        ravine(condition=0.5)
    with pytest.raises(ValueError, match="ravine: n must be an integer >= 3, got 2"):
        ravine(n=2)
    with pytest.raises(ValueError, match="ravine: noise must be in"):
        ravine(noise=-0.1)
    with pytest.raises(ValueError, match="ravine: w_true must be two finite numbers"):
        ravine(w_true=(1.0, 2.0, 3.0))
    with pytest.raises(ShapeError, match=r"ravine_loss: w must have shape \(..., 2\), got \(3,\)"):
        ravine_loss(np.zeros(3))
    with pytest.raises(ValueError, match="ravine_grad: condition must be in"):
        ravine_grad(np.zeros(2), condition=0.0)
