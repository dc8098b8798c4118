"""count_params and count_flops: closed forms (MobileNet's), totals, and no side effects."""
import numpy as np
import pytest

import dlcore
from dlcore import nn
from dlcore.errors import ShapeError


def test_standard_conv_is_dk2_m_n_df2():
    D_K, M, N, D_F = 3, 8, 16, 10
    table = dlcore.count_flops(nn.Conv2d(M, N, D_K, padding=1), (M, D_F, D_F))
    assert table.total_macs == D_K * D_K * M * N * D_F * D_F == 115_200
    # stride 2: floor((9 + 2 - 3) / 2) + 1 = 5 rows, floor((7 + 2 - 3) / 2) + 1 = 4 columns
    assert dlcore.count_flops(nn.Conv2d(4, 6, 3, stride=2, padding=1),
                              (4, 9, 7)).total_macs == 9 * 4 * 6 * 5 * 4


def test_separable_is_depthwise_plus_pointwise():
    D_K, M, N, D_F = 3, 8, 16, 10
    table = dlcore.count_flops(nn.DepthwiseSeparableConv2d(M, N, D_K, padding=1), (M, D_F, D_F))
    assert table["depthwise"].macs == D_K * D_K * M * D_F * D_F
    assert table["pointwise"].macs == M * N * D_F * D_F
    assert table.total_macs == D_K * D_K * M * D_F * D_F + M * N * D_F * D_F
    standard = dlcore.count_flops(nn.Conv2d(M, N, D_K, padding=1), (M, D_F, D_F)).total_macs
    assert table.total_macs / standard == pytest.approx(1 / N + 1 / D_K**2)  # MobileNet eq. 5
    m = dlcore.count_flops(nn.DepthwiseConv2d(M, D_K, padding=1, depth_multiplier=3),
                           (M, D_F, D_F))
    assert m.total_macs == D_K * D_K * M * 3 * D_F * D_F


def test_mobilenet_table_3_layer():
    # MobileNet (Howard et al., 2017), Table 3: a 3x3 layer on a 14x14x512 map with 512
    # filters: 462 million mult-adds and 2.36 million parameters as a standard conv,
    # 52.3 million and 0.27 million depthwise separable (no biases).
    std = nn.Conv2d(512, 512, 3, padding=1, bias=False)
    sep = nn.DepthwiseSeparableConv2d(512, 512, 3, padding=1, bias=False)
    t_std, t_sep = dlcore.count_flops(std, (512, 14, 14)), dlcore.count_flops(sep, (512, 14, 14))
    assert t_std.total_macs == 462_422_016 and t_std.total_params == 2_359_296
    assert t_sep.total_macs == 52_283_392 and t_sep.total_params == 266_752
    assert "462,422,016" in str(t_std)


def test_a_small_cnn_row_by_row():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
        nn.MaxPool2d(2), nn.Residual(nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU())),
        nn.AvgPool2d(2), nn.GlobalAvgPool2d(), nn.Dropout(0.5), nn.Linear(4, 10))
    table = dlcore.count_flops(model, (1, 8, 8))
    names = [r.name for r in table]
    assert names == ["0", "1", "2", "3", "4.block.0", "4.block.1", "4", "5", "6", "7", "8"]
    assert table["0"].macs == 9 * 1 * 4 * 64 and table["0"].output_shape == (4, 8, 8)
    assert table["1"].other == 2 * 4 * 64          # BatchNorm: a scale and a shift
    assert table["3"].other == 3 * 4 * 16          # 2x2 max pool: 3 comparisons per output
    assert table["4.block.0"].macs == 9 * 4 * 4 * 16
    assert table["4"].other == 4 * 16              # the residual add
    assert table["5"].other == 4 * 4 * 4           # 2x2 average: 4 operations per output
    assert table["6"].output_shape == (4,) and table["6"].other == 4 * 4
    assert table["7"].other == 0                   # dropout is the identity at inference
    assert table["8"].macs == 40 and table["8"].params == 50
    assert table.total_macs == sum(r.macs for r in table) == 9 * 4 * 64 + 9 * 16 * 16 + 40
    assert table.total_params == dlcore.count_params(model) == sum(r.params for r in table)
    text = str(table)
    assert text.splitlines()[-1].split()[:2] == ["total", f"{table.total_params:,}"]


def test_counting_leaves_the_model_as_it_was():
    model = nn.Sequential(nn.Conv2d(2, 3, 3, rng=0), nn.BatchNorm2d(3), nn.Flatten(),
                          nn.Linear(12, 2, rng=1))
    x = np.random.default_rng(0).standard_normal((4, 2, 4, 4)).astype(np.float32)
    out = model(x)
    running = model[1].running_mean.copy()
    dlcore.count_flops(model, (2, 4, 4))
    assert model.training and model[1].training
    np.testing.assert_array_equal(model[1].running_mean, running)
    assert model.forward is not None and "forward" not in model[0].__dict__
    model.backward(np.ones_like(out))  # the caches of the forward above are still there
    assert np.abs(model[0].W.grad).sum() > 0


def test_count_params_and_frozen_parameters():
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    assert dlcore.count_params(model) == 784 * 256 + 256 + 256 * 10 + 10
    table = dlcore.count_flops(model, (784,))
    assert table.total_macs == 784 * 256 + 256 * 10
    model[0].freeze()
    assert dlcore.count_params(model, trainable_only=True) == 256 * 10 + 10


def test_input_shape_with_a_batch_axis_is_explained():
    with pytest.raises(ShapeError, match="without the batch axis"):
        dlcore.count_flops(nn.Conv2d(3, 4, 3), (1, 3, 8, 8))
    with pytest.raises(TypeError, match="count_flops: model must be a dlcore Module"):
        dlcore.count_flops(lambda x: x, (3,))
