"""dlcore.viz.landscape: the two figures draw the numbers they are given, split as documented."""
import numpy as np

from dlcore.viz.landscape import plot_hessian_spectrum, plot_loss_along_lines


def test_hessian_spectrum_splits_negative_zero_and_positive():
    ev = np.array([0.5, -0.2, 1e-9, -1e-9, 0.0, 0.03, -0.7])
    fig = plot_hessian_spectrum({"a": ev, "b": -ev}, zero_tol=1e-6)
    ax_a, ax_b = fig.axes
    sizes = {c.get_label(): len(c.get_offsets()) for c in ax_a.collections}
    assert sizes == {"λ < 0": 2, "λ ≈ 0": 3, "λ > 0": 2}
    # sorted by rank; the near-zero ones drawn at exactly 0
    points = np.concatenate([c.get_offsets() for c in ax_a.collections])
    points = points[np.argsort(points[:, 0])]
    np.testing.assert_array_equal(points[:, 0], np.arange(1, 8))
    np.testing.assert_allclose(points[:, 1], [-0.7, -0.2, 0, 0, 0, 0.03, 0.5])
    assert {c.get_label(): len(c.get_offsets()) for c in ax_b.collections}["λ < 0"] == 2
    assert ax_a.get_yscale() == "symlog" and ax_a.get_title() == "a"


def test_loss_along_lines_one_axes_per_panel_with_the_given_curves():
    alpha = np.linspace(0, 1, 5)
    fig = plot_loss_along_lines([
        {"alpha": alpha, "curves": {"train": alpha**2, "val": 1 - alpha}, "title": "t1",
         "xlabel": "x1"},
        {"alpha": alpha, "curves": {"train": np.ones(5)}, "title": "t2", "xlabel": "x2"},
    ])
    left, right = fig.axes
    data = {line.get_label(): line.get_ydata() for line in left.lines if line.get_label()[0] != "_"}
    assert set(data) == {"train", "val"}
    np.testing.assert_allclose(data["val"], 1 - alpha)
    assert left.get_xlabel() == "x1" and right.get_title() == "t2"
    assert left.get_ylabel() == "cross-entropy loss"
