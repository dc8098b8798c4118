"""dlcore.viz.frames: finding widget calls, binding their arguments, drawing and caching frames."""
import inspect

import pytest

from dlcore.viz import frames
from dlcore.viz.frames import Control, FrameSpec


def test_find_widget_calls_reads_literal_arguments():
    source = "import x\nviz.loss_widget(delta=2.0)\nbn_widget(8, lr=0.3)\nprint(1)\n"
    calls = frames.find_widget_calls(source, {"loss_widget", "bn_widget"})
    assert [(c.widget, c.arguments, c.lineno) for c in calls] == [
        ("loss_widget", {"args": [], "kwargs": {"delta": 2.0}}, 2),
        ("bn_widget", {"args": [8], "kwargs": {"lr": 0.3}}, 3),
    ]
    assert frames.find_widget_calls("%matplotlib inline", {"loss_widget"}) == []


def test_find_widget_calls_refuses_a_computed_argument():
    with pytest.raises(ValueError, match=r"loss_widget\(\.\.\.\) at line 1: .*literal"):
        frames.find_widget_calls("viz.loss_widget(delta=d)", {"loss_widget"})


def test_every_registered_widget_matches_its_live_function():
    specs = frames.registry()
    for name in ("kink_widget", "step_size_widget", "depth_widget", "init_widget",
                 "optim_paths_widget", "schedule_widget", "cliff_widget", "bn_widget",
                 "reg_widget", "loss_widget"):
        assert name in specs, f"{name} has no kernel-free frames"
    for name, spec in specs.items():
        params = inspect.signature(spec.widget_function()).parameters
        for control in spec.controls:
            assert control.name in params or control.default is not None, (
                f"{name}: control {control.name!r} is neither an argument of the widget nor "
                f"given a default")
            assert len(control.values) >= 2, f"{name}: control {control.name!r} cannot move"
            if control.kind == "range":
                assert list(control.values) == sorted(control.values), (
                    f"{name}: the slider {control.name!r} is not in increasing order")


def _tiny_loss_spec(calls):
    def factory(rmax=4.0):
        calls.append(rmax)
        from dlcore.viz import plot_loss_curves

        return lambda delta: plot_loss_curves(delta, rmax)

    return FrameSpec("loss_widget", (Control("delta", (0.5, 2.0), "δ"),), factory, "Losses.",
                     "dlcore.viz.losses")


def test_frames_are_drawn_once_then_read_from_the_cache(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setitem(frames._REGISTRY, "loss_widget", _tiny_loss_spec(calls))
    monkeypatch.setattr(frames, "registry", lambda: dict(frames._REGISTRY))
    arguments = {"args": [], "kwargs": {"delta": 1.0, "rmax": 3.0}}

    first = frames.compute_frames("loss_widget", arguments, tmp_path)
    # the call's delta = 1.0 joins the grid, in order, and is the initial frame
    assert first.controls == [{"name": "delta", "label": "δ", "kind": "range",
                               "values": ["0.5", "1", "2"], "initial": 1}]
    assert first.files == ["000.png", "001.png", "002.png"] and not first.cached
    assert calls == [3.0], "the call's other argument (rmax) reaches the renderer factory"
    images = [(first.directory / f).read_bytes() for f in first.files]
    assert all(img.startswith(b"\x89PNG") for img in images)
    assert len(set(images)) == 3, "different control values must give different frames"

    again = frames.compute_frames("loss_widget", arguments, tmp_path)
    assert again.cached and again.key == first.key and calls == [3.0], "the cache was not used"

    other = frames.compute_frames("loss_widget", {"args": [], "kwargs": {"rmax": 5.0}}, tmp_path)
    assert other.key != first.key, "a different call must get different frames"


def test_a_grid_over_the_page_budget_is_refused(tmp_path, monkeypatch):
    monkeypatch.setitem(frames._REGISTRY, "loss_widget", _tiny_loss_spec([]))
    monkeypatch.setattr(frames, "registry", lambda: dict(frames._REGISTRY))
    monkeypatch.setattr(frames, "MAX_BYTES_PER_PAGE", 1000)
    with pytest.raises(ValueError, match=r"loss_widget: 3 frames take .* over"):
        frames.compute_frames("loss_widget", {"args": [], "kwargs": {}}, tmp_path)


def test_a_call_setting_what_the_frames_cannot_show_is_refused(tmp_path, monkeypatch):
    spec = FrameSpec("loss_widget", (Control("delta", (0.5, 2.0)),),
                     lambda: (lambda delta: None), "", "dlcore.viz.losses")
    monkeypatch.setitem(frames._REGISTRY, "loss_widget", spec)
    monkeypatch.setattr(frames, "registry", lambda: dict(frames._REGISTRY))
    with pytest.raises(ValueError, match=r"rmax=9.0, which its kernel-free frames cannot show"):
        frames.plan_frames("loss_widget", {"args": [], "kwargs": {"rmax": 9.0}}, tmp_path)
