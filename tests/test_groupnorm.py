"""Group norm: gradients against central differences in float64 with a random upstream
gradient, forward and backward against PyTorch 2.13.0 (numbers pasted below; torch is not
imported), the special cases G = 1 (layer norm over (C, H, W)) and G = C (instance norm),
independence of the batch, and the errors at the door of nn.GroupNorm."""
import numpy as np
import pytest

from dlcore import functional as F
from dlcore import nn
from dlcore.errors import DTypeError, ShapeError
from dlcore.gradcheck import check_module, numerical_gradient_array, relative_error

TOL = 1e-7
H = 1e-5


def gn_by_hand(x, gamma, beta, G, eps=1e-5):
    """The definition written out: groups of C/G channels, biased variance, eps inside."""
    N, C = x.shape[:2]
    xg = x.reshape(N, G, -1)
    mean = xg.mean(axis=2, keepdims=True)
    var = ((xg - mean) ** 2).mean(axis=2, keepdims=True)
    xhat = ((xg - mean) / np.sqrt(var + eps)).reshape(x.shape)
    bshape = (1, C) + (1,) * (x.ndim - 2)
    return gamma.reshape(bshape) * xhat + beta.reshape(bshape)


@pytest.mark.parametrize("shape, G", [((5, 6), 2), ((5, 6), 1), ((3, 6, 3, 2), 3),
                                      ((3, 6, 3, 2), 1), ((3, 6, 3, 2), 6), ((2, 4, 5), 2),
                                      ((1, 6, 2, 2), 2)],
                         ids=["features-G2", "features-G1", "images-G3", "images-G1",
                              "images-G6", "sequence", "one-sample"])
def test_group_norm_matches_its_definition_and_numerical_gradient(shape, G, rng):
    C = shape[1]
    x = 2.0 * rng.standard_normal(shape) + rng.uniform(-2, 2, size=(1, C) + (1,) * (len(shape) - 2))
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    dout = rng.standard_normal(shape)
    out, cache = F.group_norm_forward(x, gamma, beta, G, eps=1e-5)
    np.testing.assert_allclose(out, gn_by_hand(x, gamma, beta, G), rtol=1e-12, atol=1e-12)
    dx, dgamma, dbeta = F.group_norm_backward(dout, cache)

    def f(_):  # reads whichever array is being nudged in place
        return F.group_norm_forward(x, gamma, beta, G, eps=1e-5)[0]

    for name, analytic, wrt in (("dx", dx, x), ("dgamma", dgamma, gamma), ("dbeta", dbeta, beta)):
        assert analytic.shape == wrt.shape
        err = relative_error(analytic, numerical_gradient_array(f, wrt, dout, h=H))
        assert err < TOL, (name, err)


def deterministic_x(shape):
    """A fixed, seed-free input (the same one fed to PyTorch); channels differ in offset and
    spread, so a per-channel or per-sample normalisation gives other numbers."""
    n = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    per = 0.5 * np.arange(shape[1]).reshape((1, -1) + (1,) * (len(shape) - 2))
    return ((n * 7) % 11) / 4 - 1 + per * (1 + (n % 3))


def deterministic_dout(shape):
    n = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    return ((n * 5) % 7) / 3 - 1


GAMMA, BETA = np.array([0.5, 1.5, -2.0, 0.8]), np.array([0.1, -0.2, 0.3, -0.4])

# torch 2.13.0+cpu, float64: nn.GroupNorm(G, 4, eps) with weight GAMMA, bias BETA on
# deterministic_x(shape); gradients of sum(out * deterministic_dout(shape)); all values raveled.
TORCH = {
    ((2, 4, 2, 2), 2, 1e-5): {
        "out": [-0.9078134360719493, 0.06524781254924314, -0.4907871866628668,
                0.4822740619583256, 0.9468221858749768, 0.11276968705681178,
                1.3638484352840594, 0.5297959364658943, 0.9315201102267501,
                1.3201478703662888, 1.3201478703662888, 1.3201478703662888,
                -0.6526080440907003, -0.34170583597906934, 1.6791585167465322,
                -0.8080591481465158, -0.42534914402033774, 0.34884959453594944,
                -0.0935496846390718, -0.5359489638140931, 2.205546080514178,
                -0.4488495945359495, -1.1124485132984814, 1.873746621132912,
                2.7120863710145118, -0.6045323891304419, -0.6045323891304419,
                3.013597167391326, 0.3236259113043537, 0.5648345484058049,
                -1.3648345484058049, 0.20302159275362808],
        "dx": [-0.2820492675823418, 0.44724545564274537, 0.18937275643186982,
               -0.3787475185046331, 1.660047478606437, 0.6043861303141491,
               -0.5922968433079692, -1.647958191600257, -0.8680802270400049,
               0.13628389389806359, 1.1726245876035002, -1.4182271466600913,
               0.3755286054065191, 0.02494547345908102, 0.026104641952693936,
               0.5508201713802383, -0.12762227277920357, -0.12582072517828094,
               0.4419488922747906, -0.022546475013854178, -0.06133400843833313,
               -1.28525759579897, 0.8419575428234877, 0.33867464211036385,
               0.5326704623709896, -0.9522721193462527, -0.1482433290080819,
               0.08291703137206924, -0.08542910055239422, 0.8140777614454465,
               -0.2713583279671812, 0.0276376216854049],
        "dgamma": [0.3167270683963171, -0.7741987385562872, 1.478785229187055,
                   -3.6715616155220694],
        "dbeta": [-0.3333333333333335, -0.6666666666666669, 1.333333333333333,
                  -1.3333333333333333],
    },
    # eps = 0.1 against variances near 1: eps outside the square root would be far off
    ((3, 4), 2, 0.1): {
        "out": [-0.38727931445760455, 1.2618379433728137, 1.0352146220938079,
                -0.10591415116247704, -0.21008683647302107, 0.7302605094190633,
                1.9903085094570327, 0.27612340378281347, -0.3813453685706278,
                1.2440361057118832, 2.142885350501854, 0.3371541402007415],
        "dx": [-0.026704046917613994, 0.02670404691761402, 0.6782520477694229,
               -0.6782520477694229, 0.0, -2.220446049250313e-16, 0.3541598781719495,
               -0.3541598781719504, 0.010443632032721556, -0.010443632032721528,
               0.04945268865078267, -0.04945268865078267],
        "dgamma": [-0.2874088687916701, 0.8564303102588202, 0.8960132017434568,
                   -0.168783120175525],
        "dbeta": [0.6666666666666667, 1.0, -1.0, -0.6666666666666667],
    },
}


@pytest.mark.parametrize("key", list(TORCH), ids=["images", "features-eps0.1"])
def test_forward_and_backward_match_pytorch(key):
    shape, G, eps = key
    layer = nn.GroupNorm(G, 4, eps=eps, dtype=np.float64)
    layer.gamma.data[:] = GAMMA
    layer.beta.data[:] = BETA
    out = layer(deterministic_x(shape))
    dx = layer.backward(deterministic_dout(shape))
    ref = TORCH[key]
    np.testing.assert_allclose(out.ravel(), ref["out"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx.ravel(), ref["dx"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(layer.gamma.grad, ref["dgamma"], rtol=1e-12)
    np.testing.assert_allclose(layer.beta.grad, ref["dbeta"], rtol=1e-12)


def test_one_group_is_layer_norm_over_chw(rng):
    """G = 1 normalises each sample over (C, H, W), as LayerNorm((C, H, W)) does; GroupNorm's
    affine is per channel, so LayerNorm's gamma is gamma[c] repeated over H, W."""
    N, C, Hh, W = 3, 4, 3, 2
    x = 3.0 * rng.standard_normal((N, C, Hh, W)) + 1.0
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    dout = rng.standard_normal(x.shape)
    gn = nn.GroupNorm(1, C, dtype=np.float64)
    ln = nn.LayerNorm((C, Hh, W), dtype=np.float64)
    gn.gamma.data[:], gn.beta.data[:] = gamma, beta
    ln.gamma.data[:] = np.broadcast_to(gamma[:, None, None], (C, Hh, W))
    ln.beta.data[:] = np.broadcast_to(beta[:, None, None], (C, Hh, W))
    np.testing.assert_allclose(gn(x), ln(x), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(gn.backward(dout), ln.backward(dout), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(gn.gamma.grad, ln.gamma.grad.sum(axis=(1, 2)), rtol=1e-12)
    np.testing.assert_allclose(gn.beta.grad, ln.beta.grad.sum(axis=(1, 2)), rtol=1e-12)


def test_one_channel_per_group_is_instance_norm(rng):
    x = 2.0 * rng.standard_normal((2, 3, 4, 4)) - 1.0
    gn = nn.GroupNorm(3, 3, affine=False, dtype=np.float64)
    mean = x.mean(axis=(2, 3), keepdims=True)
    var = x.var(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(gn(x), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-13, atol=1e-13)


def test_a_sample_is_normalised_alone_and_eval_changes_nothing(rng):
    """Unlike batch norm, a sample's output does not depend on the rest of the batch."""
    layer = nn.GroupNorm(2, 4, dtype=np.float64)
    layer.gamma.data[:], layer.beta.data[:] = GAMMA, BETA
    x = rng.standard_normal((5, 4, 3, 3))
    alone = layer(x[:1])
    np.testing.assert_allclose(layer(x)[:1], alone, rtol=1e-14, atol=1e-15)
    layer.eval()
    np.testing.assert_allclose(layer(x[:1]), alone, rtol=1e-14, atol=1e-15)
    assert nn.GroupNorm(2, 4).state_dict().keys() == {"gamma", "beta"}  # no running buffers


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("shape, G", [((6, 8), 2), ((2, 4, 3, 3), 2)], ids=["features", "images"])
def test_module_passes_check_module(affine, shape, G, rng):
    C = shape[1]
    layer = nn.GroupNorm(G, C, affine=affine)
    if affine:
        layer.gamma.data = rng.standard_normal(C).astype(np.float32)
        layer.beta.data = rng.standard_normal(C).astype(np.float32)
    errors = check_module(layer, 2 * rng.standard_normal(shape) + 1, rng=rng)
    assert set(errors) == ({"input", "gamma", "beta"} if affine else {"input"})
    assert max(errors.values()) < TOL, errors


def test_gradients_accumulate_and_affine_false_has_no_parameters(rng):
    layer = nn.GroupNorm(2, 4, dtype=np.float64)
    x, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    layer(x)
    layer.backward(dout)
    once = layer.gamma.grad.copy()
    layer(x)
    layer.backward(dout)
    np.testing.assert_allclose(layer.gamma.grad, 2 * once, rtol=1e-14)
    assert list(nn.GroupNorm(2, 4, affine=False).parameters()) == []


@pytest.mark.parametrize("make, pattern", [
    (lambda: nn.GroupNorm(3, 8), r"num_channels \(8\) must be divisible by num_groups \(3\)"),
    (lambda: nn.GroupNorm(0, 8), "num_groups"),
    (lambda: nn.GroupNorm(2, 0), "num_channels"),
    (lambda: nn.GroupNorm(2, 4, eps=0.0), "eps"),
])
def test_bad_hyperparameters_are_refused(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()


def test_bad_inputs_are_refused_at_the_door():
    layer = nn.GroupNorm(2, 4)
    with pytest.raises(ShapeError, match=r"GroupNorm\(2, 4.*\) expects input of shape "
                                         r"\(N, C, \*\), e.g. \(N, C\) or \(N, C, H, W\), "
                                         r"with C = num_channels = 4, got \(2, 3, 5, 5\)"):
        layer(np.zeros((2, 3, 5, 5), np.float32))
    with pytest.raises(ShapeError, match=r"got \(4,\)"):
        layer(np.zeros(4, np.float32))
    with pytest.raises(DTypeError, match="input has dtype float64 but gamma has dtype float32"):
        layer(np.zeros((2, 4), np.float64))
    with pytest.raises(DTypeError, match="floating-point"):
        layer(np.zeros((2, 4), np.int64))
    with pytest.raises(TypeError, match="must be a numpy"):
        layer([[0.0] * 4])
    with pytest.raises(RuntimeError, match="before forward"):
        nn.GroupNorm(2, 4).backward(np.zeros((2, 4), np.float32))
