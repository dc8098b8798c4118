"""Layers and models in PyTorch's vocabulary, built on dlcore.functional."""
from .activations import ELU, LeakyReLU, ReLU, Sigmoid, Tanh
from .layers import Flatten, Linear, Maxout
from .module import Module, Parameter, Sequential

__all__ = [
    "ELU",
    "Flatten",
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
