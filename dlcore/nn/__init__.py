"""Layers and models in PyTorch's vocabulary, built on dlcore.functional."""
from .activations import ELU, LeakyReLU, ReLU, Sigmoid, Tanh
from .conv import Conv2d, DepthwiseConv2d, DepthwiseSeparableConv2d
from .dropout import Dropout, GaussianDropout
from .layers import Flatten, Linear, Maxout
from .module import Module, Parameter, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .pooling import AvgPool2d, GlobalAvgPool2d, MaxPool2d
from .residual import Residual
from .summary import CostTable, count_flops, count_params

__all__ = [
    "ELU",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CostTable",
    "DepthwiseConv2d",
    "DepthwiseSeparableConv2d",
    "Dropout",
    "Flatten",
    "GaussianDropout",
    "GlobalAvgPool2d",
    "GroupNorm",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "MaxPool2d",
    "Maxout",
    "Module",
    "Parameter",
    "ReLU",
    "Residual",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "count_flops",
    "count_params",
]
