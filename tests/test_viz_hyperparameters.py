"""dlcore.viz.hyperparameters: the toy score's closed form, where grid and random search put
their trials, Bergstra & Bengio's effect on the toy (random wins when y is unimportant), and
the figures."""
import numpy as np
import pytest

from dlcore.search import run_trials
from dlcore.viz import hyperparameters as hv


def test_toy_score_is_the_closed_form():
    assert hv.toy_score(hv.PEAK_X, hv.PEAK_Y, 0.7) == pytest.approx(1.0)
    x, y = 0.5, 0.9
    g = np.exp(-0.5 * ((x - hv.PEAK_X) / 0.06) ** 2)
    h = np.exp(-0.5 * ((y - 0.3) / 0.3) ** 2)
    assert hv.toy_score(x, y, 2.0) == pytest.approx((g + 2 * h) / 3, rel=1e-12)
    assert hv.toy_score(x, 0.0, 0.0) == hv.toy_score(x, 1.0, 0.0)      # y inert at importance 0
    with pytest.raises(ValueError, match="importance must be >= 0"):
        hv.toy_score(0.5, 0.5, -1.0)


def test_grid_uses_k_distinct_x_values_and_random_uses_n():
    grid = hv.search_points("grid", 10)                   # floor(sqrt(10)) = 3 per axis
    assert grid.shape == (9, 2)
    np.testing.assert_allclose(np.unique(grid[:, 0]), [1 / 6, 0.5, 5 / 6])
    rand = hv.search_points("random", 10, rng=0)
    assert rand.shape == (10, 2) and len(np.unique(rand[:, 0])) == 10
    assert np.all((rand >= 0) & (rand < 1))
    with pytest.raises(ValueError, match="'grid' or 'random'"):
        hv.search_points("sobol", 9)


def test_random_search_beats_the_grid_when_y_does_not_matter():
    grid_mean, _ = hv.expected_best("grid", 25, 0.0, repeats=400, rng=1)
    rand_mean, _ = hv.expected_best("random", 25, 0.0, repeats=400, rng=1)
    assert rand_mean > grid_mean + 0.15
    # with both parameters equally important the two are close
    g1, _ = hv.expected_best("grid", 25, 1.0, repeats=400, rng=1)
    r1, _ = hv.expected_best("random", 25, 1.0, repeats=400, rng=1)
    assert abs(r1 - g1) < 0.06


def test_expected_best_places_both_peaks_at_random():
    # When y is all that matters, a 5 x 5 grid (rows at y = 0.1, 0.3, ..., 0.9) has a row
    # through h's default peak y = 0.3 and scores 1 there; drawn anew per search, the
    # peak falls between the rows on average, so the grid's expected best is below 1.
    assert hv.best_found(hv.search_points("grid", 25), 1e6) > 0.9999
    drawn, sd = hv.expected_best("grid", 25, 1e6, repeats=200, rng=3)
    assert drawn < 0.99 and sd > 0
    assert hv.toy_score(0.2, 0.8, 1.0, peak_x=0.2, peak_y=0.8) == pytest.approx(1.0)


def test_best_found_on_a_grid_through_the_peak_is_one():
    points = np.array([[hv.PEAK_X, hv.PEAK_Y], [0.1, 0.1]])
    assert hv.best_found(points, 0.3) == pytest.approx(1.0)


def test_plot_grid_vs_random_titles_carry_the_best_scores():
    fig = hv.plot_grid_vs_random(n_trials=9, importance=0.0, seed=0)
    ax_sq, ax_x = fig.axes[:2]
    grid = hv.search_points("grid", 9)
    rand = hv.search_points("random", 9, rng=0)
    expected = (f"best score: grid {hv.best_found(grid, 0.0):.2f}, "
                f"random {hv.best_found(rand, 0.0):.2f}")
    assert ax_sq.get_title() == expected
    assert len(ax_sq.lines[0].get_xdata()) == 9 and len(ax_sq.lines[1].get_xdata()) == 9
    assert ax_x.get_xlabel() == "important parameter x"


def test_static_twin_has_one_column_per_view():
    fig = hv.plot_grid_vs_random_grid(n_trials=(9, 25), importances=(0.0, 1.0))
    assert len(fig.axes) == 8
    assert fig.axes[0].get_title().startswith("9 trials, importance 0")
    assert fig.axes[3].get_title().startswith("25 trials, importance 1")


def test_widget_builds_with_its_controls():
    import ipywidgets

    box = hv.grid_vs_random_widget(n_trials=16, importance=0.5)
    sliders = box.children[0].children
    assert isinstance(box, ipywidgets.VBox)
    assert [s.value for s in sliders] == [16, 0.5, 0]


def constant_trial(config, seed):
    return {"score": float(config["x"])}


def test_trial_timeline_draws_one_bar_per_trial_in_one_lane_per_worker():
    table = run_trials(constant_trial, [{"x": i} for i in range(5)])
    fig = hv.plot_trial_timeline(table, label="serial")
    ax = fig.axes[0]
    assert len(ax.patches) == 5
    assert [t.get_text() for t in ax.get_yticklabels()] == ["worker 1"]
    starts = [p.get_x() for p in ax.patches]
    assert starts == sorted(starts) and ax.get_title() == "serial"


def test_timelines_on_shared_axes_show_the_longer_run_whole():
    import matplotlib.pyplot as plt

    from dlcore.search import Trials

    def table(ends):
        rows = [{"trial": i, "worker": 1, "started": e - 1.0, "seconds": 1.0}
                for i, e in enumerate(ends)]
        return Trials(rows, wall_seconds=ends[-1])

    fig, axes = plt.subplots(2, 1, sharex=True)
    hv.plot_trial_timeline(table([1.0, 2.0, 3.0, 4.0]), ax=axes[0])    # serial: 4 s
    hv.plot_trial_timeline(table([1.0, 2.5]), ax=axes[1])              # parallel: 2.5 s
    assert axes[0].get_xlim()[1] >= 4.0 and axes[1].get_xlim()[1] >= 4.0
    plt.close(fig)
