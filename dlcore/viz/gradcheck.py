"""Step size vs gradient-check error, and what a kink does to a check.

Data functions (`step_size_sweep`, `kink_errors`) return numbers and need only numpy;
`plot_*` draw them with matplotlib; `*_widget` wrap a plot in ipywidgets controls.
Each widget's default view is also drawn by a static `plot_*` twin for the HTML book.
"""
import numpy as np

from .. import functional as F
from ..gradcheck import numerical_gradient, numerical_gradient_array, relative_error
from ._mpl import pyplot, widgets

__all__ = [
    "KINK_ACTIVATIONS",
    "NEURON_GRAPH",
    "STEP_FUNCTIONS",
    "kink_errors",
    "kink_widget",
    "neuron_graph",
    "plot_kink_errors",
    "plot_kink_grid",
    "plot_neuron_graph",
    "plot_step_size_grid",
    "plot_step_size_sweep",
    "step_size_sweep",
    "step_size_widget",
]


def _tanh_derivs(x):
    t = np.tanh(x)
    return 1 - t * t, -2 * t * (1 - t * t), (6 * t * t - 2) * (1 - t * t)


# name -> (f, f', f'', f''') as numpy functions; f keeps its input's dtype.
STEP_FUNCTIONS = {
    "sin": (np.sin, np.cos, lambda x: -np.sin(x), lambda x: -np.cos(x)),
    "exp": (np.exp, np.exp, np.exp, np.exp),
    "tanh": (np.tanh, lambda x: _tanh_derivs(x)[0], lambda x: _tanh_derivs(x)[1],
             lambda x: _tanh_derivs(x)[2]),
}

DEFAULT_STEPS = np.logspace(-14, 0, 57)  # 4 points per decade


def _function(name):
    if name not in STEP_FUNCTIONS:
        raise ValueError(f"unknown function {name!r}; choose one of {sorted(STEP_FUNCTIONS)}")
    return STEP_FUNCTIONS[name]


def _float_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a float type such as 'float64' or 'float32', got {dtype}")
    return dtype


def step_size_sweep(name="sin", x=1.0, steps=None, dtype="float64"):
    """Error of the forward and central difference quotients of f at x, for each step h.

    name: a key of STEP_FUNCTIONS; x: the point; steps: 1-D array of h (default 1e-14..1);
    dtype: the precision f is evaluated in. The derivative is taken at x rounded to dtype.
    Returns a dict of 1-D arrays of len(steps): 'h', 'central', 'forward' (absolute errors
    |numerical - exact|), and the floats 'dfdx' (exact f'(x)), 'eps' (dtype's machine
    epsilon), and 'f', 'd2', 'd3' (|f|, |f''|, |f'''| at x, for the theory lines).
    """
    f, d1, d2, d3 = _function(name)
    dtype = _float_dtype(dtype)
    steps = DEFAULT_STEPS if steps is None else np.asarray(steps, dtype=np.float64)
    if steps.ndim != 1 or not np.all(steps > 0):
        raise ValueError("steps must be a 1-D array of positive step sizes h")
    xa = np.array([x], dtype=dtype)
    x0 = float(xa[0])  # the point the difference quotients really straddle
    exact = float(d1(np.float64(x0)))
    out = {"h": steps, "dfdx": exact, "eps": float(np.finfo(dtype).eps),
           "f": abs(float(f(np.float64(x0)))), "d2": abs(float(d2(np.float64(x0)))),
           "d3": abs(float(d3(np.float64(x0))))}
    for method in ("central", "forward"):
        errs = np.empty(len(steps))
        for i, h in enumerate(steps):
            g = numerical_gradient(lambda v: f(v)[0], xa, h=float(h), method=method)
            errs[i] = abs(float(g[0]) - exact)
        out[method] = errs
    return out


def _positive(a):
    """Zeros become NaN so that log axes skip them instead of warning."""
    a = np.asarray(a, dtype=np.float64)
    return np.where(a > 0, a, np.nan)


def plot_step_size_sweep(name="sin", x=1.0, dtype="float64", ax=None, theory=True, legend=True):
    """Log-log plot of |numerical - exact| against h for central and forward differences.

    With theory=True, dashed lines show the truncation errors h^2/6 |f'''| (central, slope 2)
    and h/2 |f''| (forward, slope 1), and a dotted line the round-off error eps |f| / h.
    Draws on `ax` (a new figure if None) and returns the Axes.
    """
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.6))
    s = step_size_sweep(name, x, dtype=dtype)
    h = s["h"]
    ax.loglog(h, _positive(s["central"]), "o-", ms=3, color="C0", label="central")
    ax.loglog(h, _positive(s["forward"]), "s-", ms=3, color="C1", label="forward")
    if theory:
        ax.loglog(h, _positive(h**2 / 6 * s["d3"]), "--", color="C0", lw=1,
                  label=r"$h^2|f'''|/6$")
        ax.loglog(h, _positive(h / 2 * s["d2"]), "--", color="C1", lw=1, label=r"$h|f''|/2$")
        ax.loglog(h, _positive(s["eps"] * max(s["f"], 1e-30) / h), ":", color="k", lw=1,
                  label=r"$\varepsilon|f|/h$")
    ax.set_ylim(1e-17, 1e2)
    ax.set_xlabel("step size $h$")
    ax.set_ylabel("|numerical − exact|")
    ax.set_title(f"{name}'({x:g}), {np.dtype(dtype).name}", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    if legend:
        ax.legend(fontsize=7, loc="lower right")
    return ax


def plot_step_size_grid(functions=("sin", "exp", "tanh"), dtypes=("float64", "float32"), x=1.0):
    """Small multiples of `plot_step_size_sweep`: one row per dtype, one column per function.

    The static twin of `step_size_widget`. Returns the Figure.
    """
    plt = pyplot()
    fig, axes = plt.subplots(len(dtypes), len(functions), sharex=True, sharey=True,
                             figsize=(3.3 * len(functions), 2.8 * len(dtypes)), squeeze=False)
    for r, dtype in enumerate(dtypes):
        for c, name in enumerate(functions):
            ax = axes[r, c]
            plot_step_size_sweep(name, x, dtype, ax=ax, legend=False)
            if r < len(dtypes) - 1:
                ax.set_xlabel("")
            if c > 0:
                ax.set_ylabel("")
    # one legend for all panels, above them, so that it hides no data
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(labels), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.3 / fig.get_figheight()))
    return fig


def step_size_widget(name="sin", x=1.0, dtype="float64"):
    """Live version of `plot_step_size_sweep`: choose the function, the point x, the dtype.

    Returns an ipywidgets VBox (display it, or leave it as a cell's last expression).
    """
    plt = pyplot()
    w = widgets()
    fn = w.Dropdown(options=sorted(STEP_FUNCTIONS), value=name, description="f")
    xs = w.FloatSlider(value=x, min=-3.0, max=3.0, step=0.05, description="x")
    dt = w.Dropdown(options=["float64", "float32"], value=dtype, description="dtype")
    th = w.Checkbox(value=True, description="theory lines")

    def draw(name, x, dtype, theory):
        _, ax = plt.subplots(figsize=(6, 4))
        plot_step_size_sweep(name, x, dtype, ax=ax, theory=theory)
        plt.show()

    out = w.interactive_output(draw, {"name": fn, "x": xs, "dtype": dt, "theory": th})
    return w.VBox([w.HBox([fn, dt, th]), xs, out])


# name -> (forward, backward) from dlcore.functional
KINK_ACTIVATIONS = {
    "relu": (F.relu_forward, F.relu_backward),
    "leaky_relu": (F.leaky_relu_forward, F.leaky_relu_backward),
    "elu": (F.elu_forward, F.elu_backward),
    "tanh": (F.tanh_forward, F.tanh_backward),
}


def kink_errors(activation="relu", h=1e-6, distances=None, rng=0):
    """Relative error of a float64 gradient check of an activation at inputs near 0.

    The inputs are +distances (positive side of the kink at 0). Each input is checked on
    its own with a random upstream gradient: analytic dx from dlcore.functional vs central
    differences with step h. Returns (distances, errors), both 1-D arrays.
    """
    if activation not in KINK_ACTIVATIONS:
        raise ValueError(
            f"unknown activation {activation!r}; choose one of {sorted(KINK_ACTIVATIONS)}")
    if not h > 0:
        raise ValueError(f"h must be positive, got {h!r}")
    fwd, bwd = KINK_ACTIVATIONS[activation]
    d = np.logspace(-10, -1, 73) if distances is None else np.asarray(distances, np.float64)
    x = d.copy()
    dout = np.random.default_rng(rng).standard_normal(x.shape)
    _, cache = fwd(x)
    analytic = bwd(dout, cache)
    numeric = numerical_gradient_array(lambda v: fwd(v)[0], x, dout, h=h)
    errors = np.array([relative_error(analytic[i], numeric[i]) for i in range(x.size)])
    return d, errors


def plot_kink_errors(activation="relu", steps=(1e-7, 1e-5, 1e-3), ax=None, legend=True):
    """Relative error of the check against the input's distance from the kink, one line per h.

    A dotted vertical line marks distance = h for each h: to its left, x - h and x + h lie on
    different sides of the kink. Draws on `ax` (new figure if None); returns the Axes.
    """
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.6))
    for i, h in enumerate(steps):
        d, err = kink_errors(activation, h)
        ax.loglog(d, _positive(err), "o", ms=2.5, color=f"C{i}", label=f"h = {h:.0e}")
        ax.axvline(h, color=f"C{i}", ls=":", lw=1)
    ax.set_ylim(1e-13, 2)
    ax.set_xlabel("input x (kink at 0)")
    ax.set_ylabel("relative error of check")
    ax.set_title(activation + (" (smooth)" if activation == "tanh" else ""), fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    if legend:
        ax.legend(fontsize=7, loc="lower left", markerscale=2)
    return ax


def plot_kink_grid(activations=("relu", "leaky_relu", "elu", "tanh"), steps=(1e-7, 1e-5, 1e-3)):
    """Static twin of `kink_widget`: `plot_kink_errors` for each activation. Returns the Figure."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(activations), sharey=True, squeeze=False,
                             figsize=(3.3 * len(activations), 3.0))
    for c, name in enumerate(activations):
        plot_kink_errors(name, steps, ax=axes[0, c], legend=(c == 0))
        if c > 0:
            axes[0, c].set_ylabel("")
    fig.tight_layout()
    return fig


def kink_widget(activation="relu", h=1e-5):
    """Live version of `plot_kink_errors` for one step size h chosen on a log slider."""
    plt = pyplot()
    w = widgets()
    act = w.Dropdown(options=list(KINK_ACTIVATIONS), value=activation, description="activation")
    hs = w.FloatLogSlider(value=h, base=10, min=-9, max=-1, step=0.25, description="h",
                          readout_format=".0e")

    def draw(activation, h):
        _, ax = plt.subplots(figsize=(6, 4))
        plot_kink_errors(activation, steps=(h,), ax=ax)
        plt.show()

    out = w.interactive_output(draw, {"activation": act, "h": hs})
    return w.VBox([w.HBox([act, hs]), out])


# The computational graph of one sigmoid neuron with a squared error, L = (σ(w·x + b) − t)²:
# node -> (operation, inputs), in the order a forward pass evaluates them.
NEURON_GRAPH = {
    "w": ("input", ()), "x": ("input", ()), "b": ("input", ()), "t": ("input", ()),
    "u": ("×", ("w", "x")), "z": ("+", ("u", "b")), "a": ("σ", ("z",)),
    "d": ("−", ("a", "t")), "L": ("²", ("d",)),
}


def neuron_graph(w=-0.8, x=1.5, b=0.3, t=1.0):
    """Forward values and backward gradients of L = (σ(w·x + b) − t)², node by node.

    Returns {node: (value, dL/dnode)} for the nodes of NEURON_GRAPH (floats). Each node's
    gradient is the sum over the nodes that read it of (their gradient × the local derivative).
    """
    v = {"w": float(w), "x": float(x), "b": float(b), "t": float(t)}
    v["u"] = v["w"] * v["x"]
    v["z"] = v["u"] + v["b"]
    v["a"] = 1.0 / (1.0 + np.exp(-v["z"]))
    v["d"] = v["a"] - v["t"]
    v["L"] = v["d"] ** 2
    g = dict.fromkeys(v, 0.0)
    g["L"] = 1.0
    g["d"] += 2 * v["d"] * g["L"]                 # square
    g["a"] += g["d"]                              # subtract: +1 to a ...
    g["t"] -= g["d"]                              # ... and −1 to t
    g["z"] += v["a"] * (1 - v["a"]) * g["a"]      # sigmoid
    g["u"] += g["z"]                              # add distributes
    g["b"] += g["z"]
    g["w"] += v["x"] * g["u"]                     # multiply swaps
    g["x"] += v["w"] * g["u"]
    return {k: (float(v[k]), float(g[k])) for k in NEURON_GRAPH}


_NEURON_LAYOUT = {"w": (0, 2), "x": (0, 1), "b": (1, 0), "t": (3, 0),
                  "u": (1, 1.5), "z": (2, 1), "a": (3, 1), "d": (4, 1), "L": (5, 1)}


def plot_neuron_graph(w=-0.8, x=1.5, b=0.3, t=1.0):
    """Draw the graph of L = (σ(w·x + b) − t)²: a box per node with its operation, its forward
    value (above, green) and dL/dnode (below, red); arrows point along the forward pass.
    Returns the Figure."""
    plt = pyplot()
    vals = neuron_graph(w, x, b, t)
    fig, ax = plt.subplots(figsize=(9, 3.6))
    for node, (op, inputs) in NEURON_GRAPH.items():
        px, py = _NEURON_LAYOUT[node]
        for src in inputs:
            sx, sy = _NEURON_LAYOUT[src]
            ax.annotate("", xy=(px - 0.22, py), xytext=(sx + 0.22, sy),
                        arrowprops={"arrowstyle": "->", "color": "0.5", "lw": 1})
        label = node if op == "input" else f"{op}\n{node}"
        ax.text(px, py, label, ha="center", va="center", fontsize=11,
                bbox={"boxstyle": "round,pad=0.35", "fc": "white", "ec": "0.3"})
        value, grad = vals[node]
        ax.text(px, py + 0.32, f"{value:.3f}", ha="center", color="C2", fontsize=9)
        ax.text(px, py - 0.4, f"{grad:.3f}", ha="center", color="C3", fontsize=9)
    ax.set_xlim(-0.6, 5.6)
    ax.set_ylim(-0.7, 2.6)
    ax.axis("off")
    ax.set_title("L = (σ(w·x + b) − t)²: forward values (green, above), "
                 "gradients dL/d· (red, below)", fontsize=10)
    fig.tight_layout()
    return fig
