"""Data that ships with a package or is generated: nothing is downloaded at run time.

- `load_digits`, `Split` (digits.py): scikit-learn's 8x8 digits as standardised
  train/val/test splits.
- `spirals`, `moons`, `ravine` (synthetic.py): small 2-D sets made with numpy, and the
  ravine's closed-form `ravine_loss`, `ravine_grad`, `ravine_hessian`.
- `random_flip`, `random_shift`, `gaussian_noise`, `augment` (augment.py): image
  augmentation for (N, H, W) or (N, C, H, W) batches.
- `minibatches` (batching.py): one shuffled pass over (X, y) in batches.
"""
from .augment import augment, gaussian_noise, random_flip, random_shift
from .batching import minibatches
from .digits import Split, load_digits
from .synthetic import moons, ravine, ravine_grad, ravine_hessian, ravine_loss, spirals

__all__ = [
    "Split",
    "augment",
    "gaussian_noise",
    "load_digits",
    "minibatches",
    "moons",
    "random_flip",
    "random_shift",
    "ravine",
    "ravine_grad",
    "ravine_hessian",
    "ravine_loss",
    "spirals",
]
