"""dlcore.viz schedule helpers: the schedules they build, the runs behind the plots, figures."""
import math

import numpy as np
import pytest

from dlcore import schedules as S
from dlcore import viz
from dlcore.viz import schedules as vs


def test_make_schedule_builds_each_kind_with_its_parameters():
    lr = {kind: S.values(vs.make_schedule(kind, lr0=0.2, epochs=10, step_size=4, gamma=0.5,
                                          k=2.0, lr_min=0.02, warmup=2), 11)
          for kind in vs.SCHEDULE_KINDS}
    np.testing.assert_allclose(lr["constant"], 0.2)
    assert lr["step"][3] == pytest.approx(0.2) and lr["step"][4] == pytest.approx(0.1)
    assert lr["exponential"][3] == pytest.approx(0.2 * 0.5**3)
    assert lr["inverse_time"][2] == pytest.approx(0.2 / 5)
    assert lr["linear"][5] == pytest.approx(0.11) and lr["linear"][10] == pytest.approx(0.02)
    assert lr["inverse_sigmoid"][0] == pytest.approx(0.2 * 2 / 3)
    assert lr["cosine"][5] == pytest.approx(0.11) and lr["cosine"][10] == pytest.approx(0.02)
    # cyclic: lr_min is the base, lr0 the peak at t = step_size
    assert lr["cyclic"][0] == pytest.approx(0.02) and lr["cyclic"][4] == pytest.approx(0.2)
    assert lr["cyclic"][8] == pytest.approx(0.02)
    # warm-up: 0.1, 0.2, then a cosine over the 8 remaining epochs, from 0.2
    np.testing.assert_allclose(lr["warmup_cosine"][:3], [0.1, 0.2, 0.2])
    assert lr["warmup_cosine"][6] == pytest.approx(0.02 + 0.18 * (1 + math.cos(math.pi / 2)) / 2)


def test_make_schedule_rejects_unknown_kinds_and_long_warmups():
    with pytest.raises(ValueError, match="unknown kind 'triangle'"):
        vs.make_schedule("triangle")
    with pytest.raises(ValueError, match="warmup \\(20\\) must be shorter"):
        vs.make_schedule("warmup_cosine", epochs=20, warmup=20)


def test_schedule_training_records_the_schedule_and_learns():
    schedule = vs.make_schedule("step", lr0=0.1, epochs=6, step_size=3, gamma=0.1)
    run = vs.schedule_training(schedule, epochs=6)
    np.testing.assert_allclose(run["lr"], S.values(schedule, 6))   # fit applied lr_at(epoch)
    assert run["diverged"] is None and run["epochs"] == list(range(6))
    assert run["train_loss"][-1] < 0.5 * run["train_loss"][0]
    assert run["val_acc"][-1] > 0.9
    # cached by settings: the same object, no second run
    assert vs.schedule_training(vs.make_schedule("step", lr0=0.1, epochs=6, step_size=3,
                                                 gamma=0.1), epochs=6) is run
    assert vs.schedule_training(schedule, epochs=6, seed=1) is not run


def test_a_divergent_rate_is_reported_with_its_epoch():
    run = vs.schedule_training(S.Constant(3.0), epochs=8)
    assert run["diverged"] is not None
    epoch, step = run["diverged"]
    assert 0 <= epoch < 8 and step >= 0
    assert len(run["train_loss"]) == epoch and all(np.isfinite(run["train_loss"]))


def test_plot_schedules_draws_one_line_per_schedule():
    ax = vs.plot_schedules({"a": S.Constant(0.1), "b": S.CosineAnnealing(0.1, 9)}, 10)
    lines = ax.get_lines()
    assert len(lines) == 2
    np.testing.assert_allclose(lines[1].get_ydata(), S.values(S.CosineAnnealing(0.1, 9), 10))
    with pytest.raises(ValueError, match="no schedules"):
        vs.plot_schedules({}, 10)


def test_plot_schedule_run_and_grid_axes():
    fig = viz.plot_schedule_run(S.Constant(0.05), epochs=4)
    assert len(fig.axes) == 3
    np.testing.assert_allclose(fig.axes[0].get_lines()[0].get_ydata(), 0.05)
    settings = (("constant", {}), ("cosine", {}))
    fig = viz.plot_schedule_grid(settings, lr0=0.05, epochs=4)
    assert len(fig.axes) == 6
    cos = S.values(S.CosineAnnealing(0.05, 4), 4)
    np.testing.assert_allclose(fig.axes[3].get_lines()[0].get_ydata(), cos)
    with pytest.raises(ValueError, match="settings is empty"):
        viz.plot_schedule_grid(())


def test_widget_shows_only_the_sliders_its_kind_reads():
    import ipywidgets  # noqa: F401  (installed with the book extra; never skipped)
    box = viz.schedule_widget(kind="step", epochs=4)
    sliders = {c.description: c for row in box.children[:3] for c in row.children}
    shown = {d for d, c in sliders.items() if c.layout.display != "none"}
    assert shown == {"schedule", "lr0 (peak)", "step_size", "gamma"}
    sliders["schedule"].value = "cyclic"
    shown = {d for d, c in sliders.items() if c.layout.display != "none"}
    assert shown == {"schedule", "lr0 (peak)", "step_size", "lr_min / base_lr"}


def test_describe_schedule_rounds_long_floats_only():
    assert vs.describe_schedule(S.CosineAnnealing(0.14125375446227542, 20)) == \
        "CosineAnnealing(lr0=0.141, T_max=20, lr_min=0.0)"
    nested = S.Warmup(S.StepDecay(0.31622776601683794, 5, 0.5), 3)
    assert vs.describe_schedule(nested) == \
        "Warmup(schedule=StepDecay(lr0=0.316, step_size=5, gamma=0.5), warmup_steps=3)"


def _png_size(png):
    import struct

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])   # IHDR: width, height


def test_panel_renders_at_the_pixel_size_the_widget_shows():
    import ipywidgets  # noqa: F401

    box = viz.schedule_widget(kind="constant", lr0=0.05, epochs=4)
    panel, image, timing = box.panel, box.children[-2], box.children[-1]
    assert _png_size(image.value) == (panel.width_px, panel.height_px)
    assert image.layout.width == f"{panel.width_px}px"      # shown 1:1, never stretched
    before = image.value
    box.children[0].children[1].value = 0.14125375446227542   # the lr0 slider
    assert image.value != before and _png_size(image.value) == (panel.width_px, panel.height_px)
    assert panel._title.get_text() == "Constant(lr0=0.141)"
    assert timing.value.startswith("redrawn in ") and panel.last_timing["total"] > 0
    np.testing.assert_allclose(panel._lr.get_ydata(), 0.14125375446227542)


def test_log_axes_are_labelled_with_plain_numbers():
    panel = vs.SchedulePanel(epochs=4)
    panel.update(S.Constant(1.5))   # its training loss spans more than a decade
    panel.canvas.draw()
    labels = [t.get_text() for t in panel.axes[1].get_yticklabels()
              + panel.axes[1].get_yticklabels(minor=True) if t.get_text()]
    # '0.1', '2': numbers float() reads, not mathtext such as '$\\mathdefault{10^{-1}}$'
    assert labels and all(float(lab) > 0 for lab in labels)


def test_plain_numbers_on_log_axes_even_far_from_1():
    assert [vs._plain_number(x) for x in (0.02, 2, 1000, 1e5, 1e30, 2.5e-5)] == \
        ["0.02", "2", "1000", "1e5", "1e30", "2.5e-5"]


def test_a_loss_that_rounds_to_zero_neither_warns_nor_breaks_the_axis(recwarn):
    # a run fitted to every image can print a float32 loss of exactly 0.0 (e.g. cosine from 2)
    schedule = S.Constant(0.123)
    vs._RUNS[(repr(schedule), 4, 0, 64, 32)] = {
        "epochs": [0, 1, 2, 3], "lr": [0.123] * 4, "train_loss": [0.5, 0.1, 0.0, 0.0],
        "val_acc": [0.9, 0.95, 0.96, 0.96], "diverged": None}
    panel = vs.SchedulePanel(epochs=4)
    panel.update(schedule)
    assert not [w for w in recwarn if "non-positive ylim" in str(w.message)]
    assert panel.axes[1].get_ylim() == pytest.approx((0.1 / 1.5, 0.5 * 1.5))
    assert vs._loss_limits([0.0, float("inf")]) is None


def test_accuracy_axis_shows_a_run_that_ends_low():
    assert vs._accuracy_floor([0.6, 0.9, 0.97]) == 80          # good runs: 80-100
    assert vs._accuracy_floor([0.05, 0.2, 0.49]) == 0          # all of a poor run shows
    assert vs._accuracy_floor([0.45, 0.7, 0.83]) == 40
    schedule = S.Constant(0.0456)
    vs._RUNS[(repr(schedule), 3, 0, 64, 32)] = {
        "epochs": [0, 1, 2], "lr": [0.0456] * 3, "train_loss": [2.2, 2.1, 2.0],
        "val_acc": [0.1, 0.3, 0.5], "diverged": None}
    panel = vs.SchedulePanel(epochs=3)
    panel.update(schedule)
    assert panel.axes[2].get_ylim()[0] <= 10


def test_sliders_redraw_on_release_not_while_dragged():
    import ipywidgets  # noqa: F401

    box = viz.schedule_widget(kind="constant", lr0=0.05, epochs=4)
    sliders = [c for row in box.children[:3] for c in row.children if hasattr(c, "readout")]
    assert len(sliders) == 6 and not any(s.continuous_update for s in sliders)
