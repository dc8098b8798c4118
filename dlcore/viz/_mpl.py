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


def blit_png(canvas, background, artists):
    """Redraw only `artists` over a cached `background` and return the canvas as PNG bytes.

    The live panels (optimiser paths, the cliff) draw their contours once and then move a
    few lines per slider change: this keeps a redraw well under 0.2 s.
    """
    import io

    import numpy as np
    from PIL import Image

    canvas.restore_region(background)
    for artist in artists:
        artist.axes.draw_artist(artist)
    buf = io.BytesIO()
    rgba = np.asarray(canvas.buffer_rgba())
    Image.fromarray(rgba).convert("RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue()
