"""One code path, every backend: models, losses, optimisers, `fit` and the convolutions run
on each array backend that is present and agree with a numpy float64 reference.

Backends: numpy always; CuPy when it imports and a GPU answers (skipped otherwise, the
skip saying why). Each case runs in float32 on the backend and in float64 on numpy from
the same seeds, and the two must agree to 1e-5 relative to the reference's scale (float32
keeps about 7 digits; a wrong formula, a silent cast, or an op that quietly runs on the
wrong device shows up as a larger error or a wrong dtype/device). The float64 reference
is what numpy computes; the same comparison against CuPy is the GPU proof.
"""
import numpy as np
import pytest

from dlcore import backend, losses, nn, optim
from dlcore.backend import device_of, to_device, to_numpy
from dlcore.train import fit

TOL = 1e-5


def _cupy_param():
    if backend.gpu_available():
        return pytest.param("gpu", id="cupy")
    reason = f"CuPy backend not tested: {backend._cupy_problem}"
    return pytest.param("gpu", id="cupy", marks=pytest.mark.skip(reason=reason))


BACKENDS = [pytest.param("cpu", id="numpy"), _cupy_param()]


def put(x, device):
    """float arrays to float32 on the device; integer arrays (labels) just moved."""
    x = np.asarray(x)
    return to_device(x.astype(np.float32) if x.dtype.kind == "f" else x, device)


def agree(got, ref, device, what):
    """got: float32 on `device`; ref: numpy float64. Max |got - ref| / max |ref| <= TOL."""
    assert device_of(got) == device, f"{what}: on {device_of(got)}, expected {device}"
    assert got.dtype == np.float32, f"{what}: dtype {got.dtype}, expected float32"
    got, ref = to_numpy(got).astype(np.float64), np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape, f"{what}: shape {got.shape} vs {ref.shape}"
    scale = max(float(np.max(np.abs(ref))), 1e-12)
    err = float(np.max(np.abs(got - ref))) / scale
    assert err <= TOL, f"{what}: relative error {err:.2e} > {TOL:g}"
    return err


def test_agree_catches_a_wrong_number_a_cast_and_a_float64_result():
    ref = np.linspace(-1, 1, 7)
    agree(ref.astype(np.float32), ref, "cpu", "exact")
    with pytest.raises(AssertionError, match="relative error"):
        agree((ref * (1 + 1e-4)).astype(np.float32), ref, "cpu", "off by 1e-4")
    with pytest.raises(AssertionError, match="dtype float64"):
        agree(ref, ref, "cpu", "not float32")


# -- a model with BatchNorm and Dropout ---------------------------------------------------------

def _mlp(dtype, device):
    model = nn.Sequential(
        # no bias before BatchNorm: BN cancels it, so its gradient is rounding noise
        nn.Linear(12, 16, bias=False, rng=0), nn.BatchNorm1d(16), nn.ReLU(),
        nn.Dropout(0.3, rng=5), nn.Linear(16, 5, rng=1), input_grad=True,
    )
    return model.to(device=device, dtype=dtype)


@pytest.mark.parametrize("device", BACKENDS)
def test_mlp_with_batchnorm_and_dropout_forward_backward(device):
    data = np.random.default_rng(0)
    X, y = data.standard_normal((32, 12)), data.integers(0, 5, 32)
    runs = {}
    for key, dtype, dev in (("ref", np.float64, "cpu"), ("got", np.float32, device)):
        model = _mlp(dtype, dev)
        loss = losses.CrossEntropyLoss()
        xs = to_device(X.astype(dtype), dev)
        out = model(xs)
        value = loss(out, to_device(y, dev))
        dx = model.backward(loss.backward())
        model.eval()
        out_eval = model(xs)
        runs[key] = (model, out, value, dx, out_eval)
    (m_ref, out_ref, v_ref, dx_ref, ev_ref), (m, out, v, dx, ev) = runs["ref"], runs["got"]
    agree(out, out_ref, device, "train-mode output")
    assert abs(v - v_ref) <= TOL * abs(v_ref)
    agree(dx, dx_ref, device, "input gradient")
    for (name, p), (_, q) in zip(m.named_parameters(), m_ref.named_parameters()):
        agree(p.grad, q.grad, device, f"grad of {name}")
    for (name, b), (_, c) in zip(m.named_buffers(), m_ref.named_buffers()):
        if hasattr(b, "dtype") and b.dtype.kind == "f":
            agree(b, c, device, name)
    agree(ev, ev_ref, device, "eval-mode output")


# -- every loss --------------------------------------------------------------------------------

def _loss_cases():
    data = np.random.default_rng(1)
    scores = 3 * data.standard_normal((8, 5))
    labels = data.integers(0, 5, 8)
    reg_pred, reg_target = data.standard_normal((8, 3)), data.standard_normal((8, 3))
    probs = data.dirichlet(np.ones(5), 8)
    log_probs = np.log(data.dirichlet(np.ones(5), 8))
    counts = data.poisson(2.0, (8, 3)).astype(float)
    return {
        "MSELoss": (losses.MSELoss(), reg_pred, reg_target),
        "L1Loss": (losses.L1Loss(), reg_pred, reg_target),
        "HuberLoss": (losses.HuberLoss(delta=0.5), 2 * reg_pred, reg_target),
        "CrossEntropyLoss": (losses.CrossEntropyLoss(label_smoothing=0.1), scores, labels),
        "BCEWithLogitsLoss": (losses.BCEWithLogitsLoss(), reg_pred * 4, data.random((8, 3))),
        "MultiMarginLoss": (losses.MultiMarginLoss(), scores, labels),
        "KLDivLoss": (losses.KLDivLoss(), log_probs, probs),
        "LogCoshLoss": (losses.LogCoshLoss(), reg_pred, reg_target),
        "PoissonNLLLoss": (losses.PoissonNLLLoss(), reg_pred, counts),
        "CosineProximityLoss": (losses.CosineProximityLoss(), reg_pred, reg_target),
        "MAPELoss": (losses.MAPELoss(), reg_pred, reg_target + np.sign(reg_target)),
        "MSLELoss": (losses.MSLELoss(), np.abs(reg_pred), counts),
        "CategoricalHingeLoss": (losses.CategoricalHingeLoss(), scores, labels),
        "CrossEntropyLoss (probabilities)": (losses.CrossEntropyLoss(), scores, probs),
    }


def test_every_loss_in_the_library_is_covered():
    names = {n for n in losses.__all__ if n != "Loss"}
    assert names == {case.split(" ")[0] for case in _loss_cases()}


@pytest.mark.parametrize("device", BACKENDS)
@pytest.mark.parametrize("name", sorted(_loss_cases()))
def test_every_loss_value_and_gradient(name, device):
    loss, pred, target = _loss_cases()[name]
    ref_value = loss(pred.astype(np.float64), target)
    ref_grad = loss.backward()
    value = loss(put(pred, device), put(target, device))
    grad = loss.backward()
    assert abs(value - ref_value) <= TOL * max(abs(ref_value), 1e-12), (value, ref_value)
    agree(grad, ref_grad, device, f"{name} gradient")


# -- every optimiser -----------------------------------------------------------------------------

OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1),
    "SGD momentum nesterov wd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True,
                                                    weight_decay=1e-2),
    "Adagrad": lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
    "RMSprop centered momentum": lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.5,
                                                          centered=True),
    "Adadelta": lambda ps: optim.Adadelta(ps, lr=1.0, weight_decay=1e-3),
    "Adam amsgrad": lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.01),
}


def test_every_optimiser_in_the_library_is_covered():
    names = {n for n in optim.__all__ if n != "Optimizer"}
    assert names == {key.split()[0] for key in OPTIMIZERS}


@pytest.mark.parametrize("device", BACKENDS)
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimiser_five_steps(name, device):
    data = np.random.default_rng(2)
    theta0 = [data.standard_normal((4, 3)), data.standard_normal(3)]
    grads = [[data.standard_normal(t.shape) for t in theta0] for _ in range(5)]
    results = {}
    for key, dtype, dev in (("ref", np.float64, "cpu"), ("got", np.float32, device)):
        params = [nn.Parameter(to_device(t.astype(dtype), dev)) for t in theta0]
        opt = OPTIMIZERS[name](params)
        for step in grads:
            for p, g in zip(params, step):
                p.grad[...] = to_device(g.astype(dtype), dev)
            opt.step()
        results[key] = params
    for i, (p, q) in enumerate(zip(results["got"], results["ref"])):
        agree(p.data, q.data, device, f"{name} parameter {i}")
        moved = float(np.max(np.abs(to_numpy(q.data) - theta0[i])))
        assert moved > 1e-3, f"{name} parameter {i} hardly moved; the check would be empty"


# -- one fit epoch -------------------------------------------------------------------------------

@pytest.mark.parametrize("device", BACKENDS)
def test_one_fit_epoch(device):
    data = np.random.default_rng(3)
    X, y = data.standard_normal((96, 12)), data.integers(0, 5, 96)
    out = {}
    for key, dtype, dev in (("ref", np.float64, "cpu"), ("got", np.float32, device)):
        model = _mlp(dtype, dev)
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        hist = fit(model, losses.CrossEntropyLoss(), opt,
                   train=(to_device(X.astype(dtype), dev), to_device(y, dev)),
                   epochs=1, batch_size=16, progress=False, rng=7, drop_last=True)
        out[key] = (model, hist)
    (m, h), (m_ref, h_ref) = out["got"], out["ref"]
    assert abs(h.train_loss[0] - h_ref.train_loss[0]) <= TOL * h_ref.train_loss[0]
    # accuracies: at most one of the 96 examples may sit so near a tie that rounding flips it
    assert abs(h.train_acc[0] - h_ref.train_acc[0]) <= 1 / 96 + 1e-12
    for (name, p), (_, q) in zip(m.named_parameters(), m_ref.named_parameters()):
        agree(p.data, q.data, device, f"{name} after one epoch")


# -- convolutions and pooling ------------------------------------------------------------------

def _conv_net(dtype, device):
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
        nn.DepthwiseConv2d(4, 3, stride=2, padding=1, depth_multiplier=2), nn.ReLU(),
        nn.MaxPool2d(2), nn.Conv2d(8, 6, 1), nn.AvgPool2d(2, stride=1),
        nn.GlobalAvgPool2d(), nn.Linear(6, 3, rng=4), input_grad=True,
    )
    seeds = np.random.default_rng(11)
    for p in model.parameters():      # the same weights in both precisions
        p.data = seeds.standard_normal(p.data.shape) * 0.5
    return model.to(device=device, dtype=dtype)


@pytest.mark.parametrize("device", BACKENDS)
def test_convolutions_and_pooling_forward_backward(device):
    data = np.random.default_rng(4)
    X, y = data.standard_normal((4, 3, 12, 12)), data.integers(0, 3, 4)
    runs = {}
    for key, dtype, dev in (("ref", np.float64, "cpu"), ("got", np.float32, device)):
        model = _conv_net(dtype, dev)
        loss = losses.CrossEntropyLoss()
        out = model(to_device(X.astype(dtype), dev))
        loss(out, to_device(y, dev))
        dx = model.backward(loss.backward())
        runs[key] = (model, out, dx)
    (m, out, dx), (m_ref, out_ref, dx_ref) = runs["got"], runs["ref"]
    agree(out, out_ref, device, "conv net output")
    agree(dx, dx_ref, device, "conv net input gradient")
    for (name, p), (_, q) in zip(m.named_parameters(), m_ref.named_parameters()):
        agree(p.grad, q.grad, device, f"grad of {name}")
