"""Grid against random search on a toy objective with one important and one unimportant
hyperparameter (Bergstra & Bengio, 2012, Figure 1), for chapter 12's widget and its static
twin; and the timeline of trials run in parallel processes.

The toy score on the unit square is f(x, y) = (g(x) + importance * h(y)) / (1 + importance):
g is a narrow bump (the important parameter: only a small range of x is good), h a broad
one (the unimportant parameter). `search_points` places n trials as a grid or at random;
`best_found` is the best score among them; `expected_best` averages it over many searches
with the peaks of g and h placed at random, so no grid is lucky by construction.
"""
import math

import numpy as np

from .._random import get_rng
from ._mpl import pyplot, widgets

__all__ = [
    "best_found",
    "expected_best",
    "grid_vs_random_widget",
    "plot_grid_vs_random",
    "plot_grid_vs_random_grid",
    "plot_trial_timeline",
    "search_points",
    "toy_score",
]

PEAK_X, PEAK_Y = 0.63, 0.3     # where g and h peak in the widget's view
WIDTH_X, WIDTH_Y = 0.06, 0.3   # g is narrow, h is broad


def toy_score(x, y, importance, peak_x=PEAK_X, peak_y=PEAK_Y):
    """f(x, y) = (g(x) + importance h(y)) / (1 + importance), in [0, 1], best 1 at the peaks.

    g(x) = exp(-(x - peak_x)^2 / (2 * 0.06^2)), h(y) = exp(-(y - peak_y)^2 / (2 * 0.3^2)).
    x, y: arrays of the same shape (or broadcastable); importance >= 0.
    """
    if importance < 0:
        raise ValueError(f"toy_score: importance must be >= 0, got {importance}")
    g = np.exp(-0.5 * ((np.asarray(x) - peak_x) / WIDTH_X) ** 2)
    h = np.exp(-0.5 * ((np.asarray(y) - peak_y) / WIDTH_Y) ** 2)
    return (g + importance * h) / (1.0 + importance)


def search_points(method, n_trials, rng=None):
    """(n, 2) points in the unit square: "grid" puts k x k points at the centres of a k x k
    grid of cells, k = floor(sqrt(n_trials)) (so n = k^2 <= n_trials); "random" draws
    n_trials points uniformly."""
    if not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ValueError(f"search_points: n_trials must be a positive int, got {n_trials!r}")
    if method == "grid":
        k = math.isqrt(int(n_trials))
        ticks = (np.arange(k) + 0.5) / k
        gx, gy = np.meshgrid(ticks, ticks, indexing="ij")
        return np.column_stack([gx.ravel(), gy.ravel()])
    if method == "random":
        return get_rng(rng).random((int(n_trials), 2))
    raise ValueError(f"search_points: method must be 'grid' or 'random', got {method!r}")


def best_found(points, importance, peak_x=PEAK_X, peak_y=PEAK_Y):
    """The best toy score among the (n, 2) points."""
    return float(np.max(toy_score(points[:, 0], points[:, 1], importance, peak_x, peak_y)))


def expected_best(method, n_trials, importance, repeats=2000, rng=0):
    """Mean and sample sd (ddof=1) of the best score found by `repeats` searches of
    n_trials each, the peaks of g and of h drawn uniformly from [0.1, 0.9] for every search
    (and the random points drawn anew): a grid whose rows happened to pass through a fixed
    peak of h would be lucky by construction. Returns (mean, sd)."""
    rng = get_rng(rng)
    peaks_x = rng.uniform(0.1, 0.9, size=repeats)
    peaks_y = rng.uniform(0.1, 0.9, size=repeats)
    best = np.array([best_found(search_points(method, n_trials, rng), importance, px, py)
                     for px, py in zip(peaks_x, peaks_y)])
    return float(best.mean()), float(best.std(ddof=1))


def plot_grid_vs_random(n_trials=9, importance=0.1, seed=0, ax=None):
    """One view: the toy score as a filled contour, the grid's points (black squares) and
    the random points (orange dots) over it, and underneath, g(x) with the x-values each
    search tried marked on it. ax: None or a pair (square, strip) of Axes. Returns the Figure."""
    plt = pyplot()
    if ax is None:
        fig, (ax_sq, ax_x) = plt.subplots(2, 1, figsize=(4.4, 5.6), sharex=True,
                                          gridspec_kw={"height_ratios": [3, 1.1]})
    else:
        ax_sq, ax_x = ax
        fig = ax_sq.figure
    t = np.linspace(0, 1, 201)
    X, Y = np.meshgrid(t, t, indexing="xy")
    ax_sq.contourf(X, Y, toy_score(X, Y, importance), levels=12, cmap="Greys", alpha=0.55)
    grid = search_points("grid", n_trials)
    rand = search_points("random", n_trials, rng=seed)
    best_g, best_r = best_found(grid, importance), best_found(rand, importance)
    ax_sq.plot(grid[:, 0], grid[:, 1], "s", color="k", ms=5, label=f"grid ({len(grid)})")
    ax_sq.plot(rand[:, 0], rand[:, 1], "o", color="C1", ms=5, label=f"random ({len(rand)})")
    ax_sq.set_xlim(0, 1)
    ax_sq.set_ylim(0, 1)
    ax_sq.set_ylabel("unimportant parameter y")
    ax_sq.set_title(f"best score: grid {best_g:.2f}, random {best_r:.2f}", fontsize=10)
    ax_sq.legend(fontsize=8, loc="upper left", framealpha=0.9)
    g = toy_score(t, PEAK_Y, 0.0)
    ax_x.plot(t, g, color="0.3", lw=1.5)
    ax_x.plot(grid[:, 0], toy_score(grid[:, 0], PEAK_Y, 0.0), "s", color="k", ms=5)
    ax_x.plot(rand[:, 0], toy_score(rand[:, 0], PEAK_Y, 0.0), "o", color="C1", ms=5,
              alpha=0.8)
    ax_x.set_ylim(-0.08, 1.1)
    ax_x.set_xlabel("important parameter x")
    ax_x.set_ylabel("g(x)")
    ax_x.grid(True, alpha=0.3)
    if ax is None:
        fig.tight_layout()
    return fig


def plot_grid_vs_random_grid(n_trials=(9, 25), importances=(0.0, 1.0), seed=0):
    """Static twin of `grid_vs_random_widget`: one column per (n_trials, importance), each
    a `plot_grid_vs_random` view. Returns the Figure (2 rows x columns)."""
    plt = pyplot()
    views = [(n, imp) for imp in importances for n in n_trials]
    if not views:
        raise ValueError("plot_grid_vs_random_grid: give at least one n_trials and importance")
    fig, axes = plt.subplots(2, len(views), figsize=(3.3 * len(views), 5.2), squeeze=False,
                             gridspec_kw={"height_ratios": [3, 1.1]}, sharex=True)
    for j, (n, imp) in enumerate(views):
        plot_grid_vs_random(n, imp, seed, ax=(axes[0, j], axes[1, j]))
        title = axes[0, j].get_title().replace("best score: ", "best: ")
        axes[0, j].set_title(f"{n} trials, importance {imp:g}\n{title}", fontsize=9)
        if j:
            axes[0, j].set_ylabel("")
            axes[1, j].set_ylabel("")
            axes[0, j].get_legend().remove()
    fig.tight_layout()
    return fig


def grid_vs_random_widget(n_trials=9, importance=0.1, seed=0):
    """Live `plot_grid_vs_random` with sliders for the number of trials, the importance of
    the second parameter and the seed of the random search."""
    plt = pyplot()
    w = widgets()
    ns = w.IntSlider(value=n_trials, min=4, max=64, step=1, description="trials")
    imps = w.FloatSlider(value=importance, min=0.0, max=2.0, step=0.05,
                         description="importance y")
    seeds = w.IntSlider(value=seed, min=0, max=20, description="seed")

    def draw(n_trials, importance, seed):
        plot_grid_vs_random(n_trials, importance, seed)
        plt.show()

    out = w.interactive_output(draw, {"n_trials": ns, "importance": imps, "seed": seeds})
    return w.VBox([w.HBox([ns, imps, seeds]), out])


def plot_trial_timeline(table, ax=None, label=None):
    """Gantt chart of a `run_trials` table: one row per worker process, one bar per trial
    from its start to its end (seconds since the run began), the run's wall time dashed.
    Returns the Figure."""
    plt = pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 2.2))
    else:
        fig = ax.figure
    workers = list(dict.fromkeys(int(w) for w in table.column("worker")))
    for row in table:
        lane = workers.index(int(row["worker"]))
        ax.barh(lane, row["seconds"], left=row["started"], height=0.6, color=f"C{lane}",
                edgecolor="white")
    if table.wall_seconds is not None:
        ax.axvline(table.wall_seconds, color="0.3", ls="--", lw=1)
    ax.set_yticks(range(len(workers)))
    ax.set_yticklabels([f"worker {i + 1}" for i in range(len(workers))])
    ax.set_xlabel("seconds since the run started")
    end = max(table.wall_seconds or 0, float(np.max(table.column("started")
                                                    + table.column("seconds"))))
    # Axes that share x (serial above parallel) must show the longer run whole: never cut
    # a timeline already drawn on a sibling.
    drawn = [a.get_xlim()[1] for a in ax.get_shared_x_axes().get_siblings(ax)
             if a is not ax and a.has_data()]
    ax.set_xlim(0, max([end * 1.02] + drawn))
    if label:
        ax.set_title(label, fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    return fig

