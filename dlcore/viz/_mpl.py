"""Lazy matplotlib and ipywidgets imports with an error that says what to install."""


def pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "dlcore.viz needs matplotlib: pip install 'dlcore[book]' or matplotlib"
        ) from exc
    return plt


def widgets():
    try:
        import ipywidgets
    except ImportError as exc:
        raise ImportError(
            "dlcore.viz widgets need ipywidgets: pip install 'dlcore[book]' or ipywidgets"
        ) from exc
    return ipywidgets
