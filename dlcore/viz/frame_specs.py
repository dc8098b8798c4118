"""Kernel-free frames of the widgets of chapters 1-9 and 12 (the mechanism is in `frames`).

Each registration names the live widget function, the grid of each control (the values a
reader can step through in the HTML book: enough to show the idea, few enough to stay under
3 MB a page), and a factory that returns `render(**controls)` drawing one frame with the same
plotting code as the live widget. Arguments of the notebook's widget call that are not
controls (depth, epochs, steps, ...) reach the factory as keywords.
"""
from ._mpl import pyplot
from .batchnorm import BN_BATCH_SIZES, BN_LEARNING_RATES, plot_bn_runs
from .cliff import CLIP_MODES, CliffPanel
from .depth import DEPTH_ACTIVATIONS, INIT_SCHEMES, plot_depth_view, plot_init_std
from .frames import Control, register_frames
from .gradcheck import KINK_ACTIVATIONS, STEP_FUNCTIONS, plot_kink_errors, plot_step_size_sweep
from .hyperparameters import plot_grid_vs_random
from .losses import plot_loss_curves
from .optim_paths import DEFAULT_OPTIMIZERS, SURFACES, OptimPathsPanel
from .regularization import plot_reg_run
from .schedules import SCHEDULE_KINDS, make_schedule, plot_schedule_run

__all__ = []


# -- chapter 1: gradient checking --------------------------------------------------------------
@register_frames("kink_widget", alt="Relative error of a gradient check near the kink of an "
                 "activation, against the distance of the input from 0, for one step size h.",
                 controls=[Control("activation", tuple(KINK_ACTIVATIONS), kind="select"),
                           Control("h", (1e-9, 1e-7, 1e-5, 1e-3, 1e-1), "step h",
                                   fmt="{:.0e}")])
def _kink_frames():
    plt = pyplot()

    def render(activation, h):
        fig, ax = plt.subplots(figsize=(6, 3.8))
        plot_kink_errors(activation, steps=(h,), ax=ax)
        fig.tight_layout()
        return fig

    return render


@register_frames("step_size_widget", alt="Error of forward and central differences against "
                 "the step h, with the truncation and rounding-error lines of theory.",
                 controls=[Control("name", tuple(sorted(STEP_FUNCTIONS)), "f", kind="select"),
                           Control("dtype", ("float64", "float32"), kind="select"),
                           Control("x", (-2.0, -1.0, 0.0, 0.5, 1.0, 2.0))])
def _step_size_frames():
    plt = pyplot()

    def render(name, dtype, x):
        fig, ax = plt.subplots(figsize=(6, 4))
        plot_step_size_sweep(name, x, dtype, ax=ax, theory=True)
        fig.tight_layout()
        return fig

    return render


# -- chapters 2 and 3: depth, activations, initialisation --------------------------------------
@register_frames("depth_widget", alt="Histograms of the activations of several hidden layers "
                 "and the gradient norm of each layer, for one depth, activation and weight "
                 "scale.",
                 controls=[Control("activation", tuple(DEPTH_ACTIVATIONS), kind="select"),
                           Control("depth", (3, 10, 20, 30)),
                           Control("weight_scale", (0.5, 1.0, 2.0), "weight scale")])
def _depth_frames(width=64):
    def render(activation, depth, weight_scale):
        return plot_depth_view(depth, activation, weight_scale, width)

    return render


@register_frames("init_widget", alt="Standard deviation of each hidden layer's activations "
                 "against depth, one line per initialisation scheme, the chosen one in bold.",
                 controls=[Control("scheme", tuple(INIT_SCHEMES), "init", kind="select"),
                           Control("activation", ("relu", "tanh", "sigmoid"), kind="select"),
                           Control("depth", (5, 20, 50)),
                           Control("weight_scale", (0.5, 1.0, 2.0), "weight scale")])
def _init_frames(width=64):
    plt = pyplot()

    def render(scheme, activation, depth, weight_scale):
        fig, ax = plt.subplots(figsize=(6.5, 4))
        plot_init_std(tuple(INIT_SCHEMES), depth, activation, width, weight_scale,
                      highlight=scheme, ax=ax)
        fig.tight_layout()
        return fig

    return render


# -- chapter 4: optimiser paths ----------------------------------------------------------------
@register_frames("optim_paths_widget", alt="Paths of gradient descent, momentum, Nesterov, "
                 "RMSprop and Adam on a two-dimensional loss surface.",
                 controls=[Control("surface", tuple(SURFACES), kind="select"),
                           Control("lr_scale", (0.25, 0.5, 1.0, 2.0, 4.0),
                                   "learning rates × default", default=1.0),
                           Control("momentum", (0.5, 0.8, 0.9, 0.99), "momentum μ",
                                   default=0.9)])
def _optim_paths_frames(surface="ravine", optimizers=DEFAULT_OPTIMIZERS, steps=100):
    panel = OptimPathsPanel(surface, optimizers, steps)

    def render(surface, lr_scale, momentum):
        s = SURFACES[surface]
        return panel.update(surface=surface, lr=s.lr * lr_scale,
                            lr_adaptive=s.lr_adaptive * lr_scale, momentum=momentum)

    return render


# -- chapter 5: schedules ----------------------------------------------------------------------
@register_frames("schedule_widget", alt="A learning-rate schedule (left), the training loss "
                 "(middle) and the validation accuracy (right) of the run it gives.",
                 controls=[Control("kind", tuple(SCHEDULE_KINDS), "schedule", kind="select"),
                           Control("lr0", (0.01, 0.03, 0.1, 0.3, 1.0), "lr0 (peak)")])
def _schedule_frames(epochs=20, step_size=5, gamma=0.5, k=1.0, lr_min=0.0, warmup=3, seed=0):
    def render(kind, lr0):
        schedule = make_schedule(kind, lr0=lr0, epochs=epochs, step_size=step_size,
                                 gamma=gamma, k=k, lr_min=lr_min, warmup=warmup)
        return plot_schedule_run(schedule, epochs, seed)

    return render


# -- chapter 6: clipping -----------------------------------------------------------------------
@register_frames("cliff_widget", alt="Gradient-descent paths on a loss surface with a cliff, "
                 "without clipping (faint) and with the chosen clipping.",
                 controls=[Control("mode", CLIP_MODES, "clip", kind="select"),
                           Control("threshold", (0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0))])
def _cliff_frames():
    panel = CliffPanel()

    def render(mode, threshold):
        return panel.update(mode=mode, threshold=threshold)

    return render


# -- chapter 7: batch normalisation ------------------------------------------------------------
@register_frames("bn_widget", alt="Validation accuracy per epoch of a deep sigmoid network "
                 "with and without batch normalisation, for one batch size and learning rate.",
                 controls=[Control("batch_size", BN_BATCH_SIZES, "batch size"),
                           Control("lr", BN_LEARNING_RATES, "learning rate")])
def _bn_frames(depth=6, width=32, epochs=6, n_train=512):
    plt = pyplot()

    def render(batch_size, lr):
        fig, ax = plt.subplots(figsize=(6, 3.8))
        plot_bn_runs(batch_size, lr, depth, width, epochs, n_train, ax=ax)
        fig.tight_layout()
        return fig

    return render


# -- chapter 8: regularisation -----------------------------------------------------------------
@register_frames("reg_widget", alt="Training and validation loss and accuracy per epoch for "
                 "one dropout rate, L2 strength and training-set size.",
                 controls=[Control("p", (0.0, 0.2, 0.5), "dropout p"),
                           Control("weight_decay", (0.0, 1e-3, 1e-2, 1e-1), "L2 strength"),
                           Control("n_train", (50, 200, 800), "training examples")])
def _reg_frames(hidden=128, epochs=30, lr=0.05):
    def render(p, weight_decay, n_train):
        axes = plot_reg_run(p, weight_decay, n_train, hidden, epochs, lr)
        fig = axes[0].figure
        fig.tight_layout()
        return fig

    return render


# -- chapter 9: losses -------------------------------------------------------------------------
@register_frames("loss_widget", alt="MSE, MAE, Huber and log-cosh losses of one residual "
                 "(left) and their derivatives (right).",
                 controls=[Control("delta", (0.25, 0.5, 1.0, 1.5, 2.0, 3.0), "δ (Huber)"),
                           Control("rmax", (2.0, 4.0, 8.0), "|r| up to")])
def _loss_frames():
    def render(delta, rmax):
        return plot_loss_curves(delta, rmax)

    return render


# -- chapter 12: hyperparameters ---------------------------------------------------------------
@register_frames("grid_vs_random_widget", alt="A toy score over two hyperparameters with the "
                 "points a grid search and a random search try, and below, the values of the "
                 "important hyperparameter each search tried.",
                 controls=[Control("n_trials", (4, 9, 16, 36), "trials"),
                           Control("importance", (0.0, 0.1, 0.5, 1.0, 2.0), "importance y"),
                           Control("seed", (0, 1))])
def _grid_vs_random_frames():
    def render(n_trials, importance, seed):
        fig = plot_grid_vs_random(n_trials, importance, seed)
        fig.tight_layout()
        return fig

    return render
