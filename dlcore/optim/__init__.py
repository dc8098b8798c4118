"""Optimizers in PyTorch's vocabulary: `Optimizer` (param groups, state, state_dict) and
the update rules built on it. Numbers agree with `torch.optim` for the same inputs and
hyperparameters, defaults included.

    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    opt.zero_grad(); model.backward(loss.backward()); opt.step()
"""
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop"]
