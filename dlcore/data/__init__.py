"""Data that ships with a package or is generated: nothing is downloaded at run time.

- `load_digits`, `Split`: scikit-learn's 8x8 digits as standardised train/val/test splits.
- `minibatches`: one shuffled pass over (X, y) in batches.
"""
from .batching import minibatches
from .digits import Split, load_digits

__all__ = ["Split", "load_digits", "minibatches"]
