"""The dependency direction the design fixes (docs/library.md): the core imports with numpy alone and never
pulls in plotting, widgets, progress bars, scikit-learn, dlcore.viz or dlcore.grading."""
import subprocess
import sys

HEAVY = ["matplotlib", "ipywidgets", "tqdm", "sklearn", "scipy", "dlcore.viz", "dlcore.grading"]


def test_importing_dlcore_loads_only_the_core():
    code = (
        "import sys, dlcore\n"
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import dlcore also imported: {out.stdout.strip()}"


def test_public_modules_are_reachable_from_the_package():
    import dlcore

    for name in ["backend", "functional", "nn", "losses", "init", "optim", "schedules", "clip",
                 "regularization", "gradcheck", "data", "train", "diagnostics"]:
        assert hasattr(dlcore, name), name
