"""Layers and models in PyTorch's vocabulary, built on dlcore.functional."""
from .activations import ELU, LeakyReLU, ReLU, Sigmoid, Tanh
from .dropout import Dropout
from .layers import Flatten, Linear, Maxout
from .module import Module, Parameter, Sequential
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm

__all__ = [
    "ELU",
    "BatchNorm1d",
    "BatchNorm2d",
    "Dropout",
    "Flatten",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "Maxout",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
]
