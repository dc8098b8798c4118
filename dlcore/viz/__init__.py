"""Plots and live widgets for the book's chapters.

The only part of dlcore that imports matplotlib (inside the plotting functions) and
ipywidgets (inside the widget functions); nothing in the core library imports this
package. Every widget has a static twin that draws its default view as an ordinary
figure, so the built HTML book shows something where the live widget cannot run.
"""
from .activations import (
    ACTIVATION_CURVES,
    activation_curve,
    plot_activation_functions,
    plot_activation_histograms,
    plot_gradient_norms,
)
from .batchnorm import (
    BN_BATCH_SIZES,
    BN_LEARNING_RATES,
    bn_run,
    bn_widget,
    plot_bn_grid,
    plot_bn_runs,
    sigmoid_mlp,
)
from .depth import (
    DEPTH_ACTIVATIONS,
    INIT_SCHEMES,
    build_mlp,
    depth_experiment,
    depth_widget,
    init_weight,
    init_widget,
    plot_depth_grid,
    plot_depth_view,
    plot_init_grid,
    plot_init_std,
)
from .gradcheck import (
    KINK_ACTIVATIONS,
    STEP_FUNCTIONS,
    kink_errors,
    kink_widget,
    plot_kink_errors,
    plot_kink_grid,
    plot_step_size_grid,
    plot_step_size_sweep,
    step_size_sweep,
    step_size_widget,
)
from .losses import (
    REGRESSION_LOSSES,
    loss_curves,
    loss_widget,
    plot_loss_curves,
    plot_loss_grid,
)
from .optim_paths import (
    OptimPathsPanel,
    optim_paths_widget,
    optimizer_path,
    optimizer_paths,
    plot_optim_paths,
    plot_optim_paths_grid,
)
from .training import plot_training_curves

__all__ = [
    "ACTIVATION_CURVES",
    "BN_BATCH_SIZES",
    "BN_LEARNING_RATES",
    "DEPTH_ACTIVATIONS",
    "INIT_SCHEMES",
    "KINK_ACTIVATIONS",
    "REGRESSION_LOSSES",
    "STEP_FUNCTIONS",
    "OptimPathsPanel",
    "activation_curve",
    "bn_run",
    "bn_widget",
    "build_mlp",
    "depth_experiment",
    "depth_widget",
    "init_weight",
    "init_widget",
    "kink_errors",
    "kink_widget",
    "loss_curves",
    "loss_widget",
    "optim_paths_widget",
    "optimizer_path",
    "optimizer_paths",
    "plot_activation_functions",
    "plot_activation_histograms",
    "plot_bn_grid",
    "plot_bn_runs",
    "plot_depth_grid",
    "plot_depth_view",
    "plot_gradient_norms",
    "plot_init_grid",
    "plot_init_std",
    "plot_kink_errors",
    "plot_kink_grid",
    "plot_loss_curves",
    "plot_loss_grid",
    "plot_optim_paths",
    "plot_optim_paths_grid",
    "plot_step_size_grid",
    "plot_step_size_sweep",
    "plot_training_curves",
    "sigmoid_mlp",
    "step_size_sweep",
    "step_size_widget",
]
