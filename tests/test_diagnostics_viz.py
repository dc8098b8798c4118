"""dlcore.viz.monitoring: the lines drawn are the numbers given (capped, zeros left out)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from dlcore.viz import monitoring as M


def test_loss_curves_are_capped_and_blow_ups_drawn_at_the_cap():
    ax = M.plot_loss_curves({"lr 0.1": [2.3, 1.0, 0.5], "lr 10": [2.3, 1e9, np.inf, np.nan]},
                            cap=1e6, reference=np.log(10))
    lines = ax.get_lines()
    np.testing.assert_array_equal(lines[0].get_ydata(), [2.3, 1.0, 0.5])
    np.testing.assert_array_equal(lines[1].get_xdata(), [1, 2, 3, 4])
    np.testing.assert_array_equal(lines[1].get_ydata(), [2.3, 1e6, 1e6, 1e6])
    assert lines[2].get_ydata()[0] == pytest.approx(np.log(10))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["lr 0.1", "lr 10"]
    assert ax.get_yscale() == "log" and "step" in ax.get_xlabel()
    plt.close(ax.figure)


def test_update_ratios_one_line_per_layer_zeros_left_out():
    r = np.array([[1e-3, 2e-2], [0.0, 3e-2], [2e-3, np.inf]])
    ax = M.plot_update_ratios(r, names=["fc1", "fc2"])
    lines = ax.get_lines()
    np.testing.assert_array_equal(lines[0].get_ydata(), [1e-3, np.nan, 2e-3])
    np.testing.assert_array_equal(lines[1].get_ydata(), [2e-2, 3e-2, np.nan])
    assert lines[2].get_ydata()[0] == 1e-3                       # the rule-of-thumb line
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["fc1", "fc2"]
    plt.close(ax.figure)


def test_bad_input():
    with pytest.raises(ValueError, match="non-empty dict"):
        M.plot_loss_curves([1.0, 2.0])
    with pytest.raises(ValueError, match="1-D"):
        M.plot_loss_curves({"a": [[1.0, 2.0]]})
    with pytest.raises(ValueError, match="cap must be > 0"):
        M.plot_loss_curves({"a": [1.0]}, cap=0)
    with pytest.raises(ValueError, match=r"\(steps, layers\)"):
        M.plot_update_ratios([1e-3, 1e-2])
    with pytest.raises(ValueError, match="1 names for 2 layers"):
        M.plot_update_ratios(np.ones((3, 2)), names=["a"])
