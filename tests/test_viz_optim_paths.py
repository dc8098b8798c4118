"""dlcore.viz.optim_paths: paths against closed forms and theory, speed of the live panel."""
import time

import numpy as np
import pytest

from dlcore import viz
from dlcore.data import ravine_hessian
from dlcore.viz import optim_paths as op

RAVINE_H = ravine_hessian(**op._RAVINE)
W_STAR = np.array([1.0, 1.0])


def test_surfaces_gradients_match_central_differences():
    for surf in op.SURFACES.values():
        w = surf.start + np.array([0.3, -0.2])
        h = 1e-6
        num = np.array([(surf.loss(w + h * e) - surf.loss(w - h * e)) / (2 * h)
                        for e in np.eye(2)])
        np.testing.assert_allclose(surf.grad(w), num, rtol=1e-6, atol=1e-9)
        for m in surf.minima:
            np.testing.assert_allclose(surf.grad(m), 0.0, atol=1e-12)


def test_gd_on_the_ravine_follows_the_closed_form():
    # w_t - w* = (I - lr H)^t (w_0 - w*) exactly for gradient descent on a quadratic.
    lr, steps = 0.7, 30
    path = op.optimizer_path("ravine", "gd", steps=steps, lr=lr)
    d0 = op.SURFACES["ravine"].start - W_STAR
    A = np.eye(2) - lr * RAVINE_H
    expected = np.array([np.linalg.matrix_power(A, t) @ d0 for t in range(steps + 1)]) + W_STAR
    np.testing.assert_allclose(path, expected, rtol=1e-10, atol=1e-12)


def test_gd_diverges_above_two_over_lambda_max_and_converges_below():
    lam_max = np.linalg.eigvalsh(RAVINE_H).max()
    assert lam_max == pytest.approx(1.0)
    stable = op.optimizer_path("ravine", "gd", steps=500, lr=0.95 * 2 / lam_max)
    assert op.steps_to_reach(stable, W_STAR, tol=1e-2) is not None
    # Just above 2/lambda_max the steep component is multiplied by |1 - lr| = 1.05 per step.
    lr = 1.05 * 2 / lam_max
    path = op.optimizer_path("ravine", "gd", steps=500, lr=lr)
    _, vecs = np.linalg.eigh(RAVINE_H)
    steep = vecs[:, -1]
    c0 = (op.SURFACES["ravine"].start - W_STAR) @ steep
    c100 = (path[100] - W_STAR) @ steep
    assert c100 == pytest.approx(c0 * (1 - lr) ** 100, rel=1e-8)
    assert np.isnan(path[-1]).all()                      # left the box |w| < 1e6
    assert op._status(op.SURFACES["ravine"], path).startswith("diverged at step ")
    assert op.steps_to_reach(path, W_STAR) is None


def test_momentum_reaches_the_ravine_minimum_in_fewer_steps_than_gd_at_the_same_lr():
    lr = 0.5
    gd = op.optimizer_path("ravine", "gd", steps=2000, lr=lr)
    mom = op.optimizer_path("ravine", "momentum", steps=2000, lr=lr, momentum=0.9)
    n_gd, n_mom = op.steps_to_reach(gd, W_STAR), op.steps_to_reach(mom, W_STAR)
    # GD's slow direction shrinks by 1 - lr/50 = 0.99 per step: about 600 steps to 1e-2
    assert 550 < n_gd < 650
    assert n_mom is not None and n_mom < n_gd / 3


def test_heavy_ball_at_the_closed_form_shrinks_the_error_by_the_predicted_rate():
    # Polyak: lr = (2/(sqrt(L)+sqrt(l)))^2, mu = ((sqrt k - 1)/(sqrt k + 1))^2 gives rate
    # (sqrt k - 1)/(sqrt k + 1) per step (times t at the double roots); GD's best is (k-1)/(k+1).
    for kappa in (10.0, 100.0):
        surf = op.ravine_surface(kappa)
        np.testing.assert_allclose(np.linalg.eigvalsh(ravine_hessian(kappa, np.pi / 6)),
                                   [1 / kappa, 1.0])
        r = (np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)
        path = op.optimizer_path(surf, "momentum", steps=200,
                                 lr=(2 / (1 + 1 / np.sqrt(kappa))) ** 2, momentum=r**2)
        err = np.linalg.norm(path - W_STAR, axis=1)
        # at the double roots the error behaves like (a + b t) r^t, so err(2t)/err(t) -> 2 r^t
        t = 20 if kappa == 10.0 else 60
        assert err[2 * t] / err[t] == pytest.approx(2 * r**t, rel=0.1)
        gd = op.optimizer_path(surf, "gd", steps=200, lr=2 / (1 + 1 / kappa))
        gd_err = np.linalg.norm(gd - W_STAR, axis=1)
        # both eigen-directions shrink by exactly (k-1)/(k+1) in size at GD's best step
        assert gd_err[101] / gd_err[100] == pytest.approx((kappa - 1) / (kappa + 1), rel=1e-9)
    with pytest.raises(ValueError, match="condition"):
        op.ravine_surface(0.5)


def test_adam_first_step_moves_each_coordinate_by_lr():
    path = op.optimizer_path("ravine", "adam", steps=1, lr_adaptive=0.1)
    g = op.SURFACES["ravine"].grad(op.SURFACES["ravine"].start)
    np.testing.assert_allclose(path[1] - path[0], -0.1 * np.sign(g), rtol=1e-6)


def test_compute_part_is_fast_enough_for_a_live_slider():
    # 4 optimisers x 200 steps: best of 3 under 50 ms (measured ~10 ms on a laptop core)
    best = np.inf
    for _ in range(3):
        t = time.perf_counter()
        op.optimizer_paths("ravine", ("gd", "momentum", "rmsprop", "adam"), steps=200)
        best = min(best, time.perf_counter() - t)
    assert best < 0.05, f"4 optimisers x 200 steps took {1000 * best:.0f} ms"


def test_panel_moves_the_lines_and_times_the_redraw():
    panel = viz.OptimPathsPanel("ravine", optimizers=("gd", "momentum"), steps=50)
    png = panel.update(lr=0.3, momentum=0.8)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    expected = op.optimizer_paths("ravine", ("gd", "momentum"), steps=50, lr=0.3, momentum=0.8)
    for name, line in panel.lines.items():
        np.testing.assert_array_equal(line.get_xdata(), expected[name][:, 0])
        np.testing.assert_array_equal(line.get_ydata(), expected[name][:, 1])
    t = panel.last_timing
    assert 0 < t["compute"] < t["total"] and len(panel.timings) == 1
    panel.update(surface="saddle", steps=20)
    assert panel.surface.name == "saddle" and len(panel.lines["gd"].get_xdata()) == 21
    with pytest.raises(TypeError, match="unknown settings"):
        panel.update(learning_rate=0.1)


def test_static_twin_has_one_panel_per_surface_and_setting():
    fig = viz.plot_optim_paths_grid(steps=20)
    assert len(fig.axes) == len(op.SURFACES) * len(op.GRID_SETTINGS)
    ax = fig.axes[0]
    assert len(ax.get_legend().get_texts()) == len(op.DEFAULT_OPTIMIZERS)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown surface 'bowl'"):
        op.optimizer_paths("bowl")
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        op.optimizer_paths("ravine", ("gd", "lbfgs"))
    with pytest.raises(ValueError, match="steps"):
        op.optimizer_paths("ravine", steps=0)
    with pytest.raises(ValueError, match="momentum"):
        op.optimizer_paths("ravine", momentum=1.0)
    with pytest.raises(ValueError, match="lr"):
        op.optimizer_paths("ravine", lr=-0.1)


def test_overlapping_updates_from_two_threads_leave_one_consistent_figure(monkeypatch):
    # ipywidgets may deliver slider messages on another thread. Force the overlap that once
    # garbled the panel: thread A is computing paths on the ravine when thread B switches to
    # the saddle. Without the panel's lock B clears the axes and caches a new background
    # while A is inside its update, and A then draws ravine paths on the saddle's lines.
    import threading

    panel = viz.OptimPathsPanel("ravine", optimizers=("gd", "momentum"), steps=30)
    fresh = viz.OptimPathsPanel("ravine", optimizers=("gd", "momentum"), steps=30)
    n_collections, n_lines = len(fresh.ax.collections), len(fresh.ax.lines)
    a_computing, b_done = threading.Event(), threading.Event()
    real = op.optimizer_paths

    def slow_paths(*args, **kwargs):
        if threading.current_thread().name == "A":
            a_computing.set()
            b_done.wait(timeout=1.0)        # with the lock B cannot finish: A times out
        return real(*args, **kwargs)

    monkeypatch.setattr(op, "optimizer_paths", slow_paths)
    a = threading.Thread(target=panel.update, kwargs={"lr": 0.3}, name="A")

    def switch():
        a_computing.wait(timeout=5.0)
        panel.update(surface="saddle", lr=0.05)
        b_done.set()

    b = threading.Thread(target=switch, name="B")
    a.start()
    b.start()
    a.join(10)
    b.join(10)
    monkeypatch.setattr(op, "optimizer_paths", real)

    # whatever the order, the lines show the paths of the surface the panel is on
    s = panel.settings
    expected = op.optimizer_paths(panel.surface, panel.names, s["steps"], s["lr"],
                                  s["lr_adaptive"], s["momentum"], s["beta1"], s["beta2"])
    for name, line in panel.lines.items():
        np.testing.assert_array_equal(line.get_xdata(), expected[name][:, 0])
    # one surface's contours and one set of lines, and the same picture as a fresh panel
    assert len(panel.ax.collections) == n_collections
    assert len(panel.ax.lines) == n_lines
    fresh.update(surface=panel.surface.name, **s)
    assert panel.update() == fresh.update()


def test_switching_the_surface_in_the_widget_redraws_one_surface():
    # The dropdown's switch also resets both learning-rate sliders (each firing a redraw of
    # its own inside the first): the final image must be exactly a fresh panel's.
    panel = viz.OptimPathsPanel("ravine", optimizers=("gd", "adam"), steps=40)
    box = panel.widget()
    surface_menu = box.children[0].children[0]
    image = box.children[3]
    n_collections, n_lines = len(panel.ax.collections), len(panel.ax.lines)
    surface_menu.value = "saddle"
    surface_menu.value = "rosenbrock"
    assert panel.surface.name == "rosenbrock"
    assert len(panel.ax.collections) == n_collections and len(panel.ax.lines) == n_lines
    fresh = viz.OptimPathsPanel("rosenbrock", optimizers=("gd", "adam"), steps=40)
    rosen = op.SURFACES["rosenbrock"]
    assert image.value == fresh.update(lr=rosen.lr, lr_adaptive=rosen.lr_adaptive)


def test_a_surface_switch_in_the_widget_is_one_redraw():
    # Resetting the two learning-rate sliders fires their observers inside the switch; those
    # nested redraws must not each recompute and redraw (three updates per switch tripled
    # the wait), while a later slider move still redraws once.
    panel = viz.OptimPathsPanel("ravine", optimizers=("gd", "adam"), steps=40)
    box = panel.widget()
    surface_menu, lr_slider = box.children[0].children[0], box.children[1].children[0]
    before = len(panel.timings)
    surface_menu.value = "saddle"
    assert len(panel.timings) == before + 1
    assert lr_slider.value == pytest.approx(op.SURFACES["saddle"].lr)
    lr_slider.value = 0.2
    assert len(panel.timings) == before + 2 and panel.settings["lr"] == pytest.approx(0.2)
