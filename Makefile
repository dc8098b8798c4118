# Two commands do all set-up on a fresh machine: `make book` and `make test`.
# Both create .venv (with dlcore installed editable plus the book and dev extras) when it
# is missing or when pyproject.toml changed, and are quick when it is up to date.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# One BLAS thread per process: notebook tests run side by side on 2 cores, and two
# multi-threaded BLAS pools fighting over them slow runs down 10-50x.
export OMP_NUM_THREADS ?= 1
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export PYDEVD_DISABLE_FILE_VALIDATION = 1

.PHONY: help venv book test nbval lab exercises notebooks bench lint clean mpi

help:
	@echo "make book       build the HTML book into _build/html (creates .venv if needed)"
	@echo "make test       run every test: library, gradient checks, notebooks, grading, book"
	@echo "make nbval      check notebooks against their stored outputs (NB=path ...)"
	@echo "make lab        open JupyterLab on this repository"
	@echo "make exercises  regenerate exercises/ from solutions/"
	@echo "make notebooks  re-execute chapters/ and solutions/ and store their outputs"
	@echo "make mpi        run the data-parallel MPI demo on 2 processes (mpiexec -n 2)"
	@echo "make bench      run the benchmarks in benchmarks/"

# Versions come from constraints.txt (a pip freeze of a working .venv): the book looks and
# behaves the same on every machine; upgrading is an edit of that file, checked by make test.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[book,dev,parallel]"
	@touch $(STAMP)

venv: $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo
	@echo "The book is built: open $(CURDIR)/_build/html/index.html in a browser."

# nbval's options live here, not in pyproject's addopts, so that the library tests run
# with numpy and pytest alone.
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg --nbval-cell-timeout 120
test: $(STAMP)
	@sh .ci/system-packages
	$(BIN)/python -m pytest $(NBVAL)

# One notebook (or several) against its stored outputs: make nbval NB=chapters/05_schedules.ipynb
NB ?= chapters solutions
nbval: $(STAMP)
	$(BIN)/python -m pytest $(NBVAL) $(NB)

# Notebooks are trusted first (their saved widget views and outputs render); as root (a
# container) JupyterLab refuses to start without --allow-root.
lab: $(STAMP)
	$(BIN)/jupyter trust chapters/*.ipynb exercises/*.ipynb
	$(BIN)/jupyter lab $$(test "$$(id -u)" = 0 && echo --allow-root)

exercises: $(STAMP)
	$(BIN)/python -m dlcore.grading.build.generate

notebooks: $(STAMP)
	$(BIN)/python -m dlcore.grading.build.execute chapters solutions

# Chapter 13's MPI job from a shell; on a cluster: mpiexec -n K -hosts a,b ... unchanged.
mpi: $(STAMP)
	$(BIN)/mpiexec -n 2 $(BIN)/python -m dlcore.parallel.demo

# Every script in benchmarks/ (each prints its own table); PyTorch, when a scratch venv has
# it, is found by the scripts themselves (benchmarks/README.md).
BENCH ?= $(sort $(filter-out benchmarks/_%,$(wildcard benchmarks/*.py)))
bench: $(STAMP)
	@for s in $(BENCH); do echo "== $$s"; $(BIN)/python $$s || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check dlcore tests benchmarks

clean:
	rm -rf _build .jupyter_cache .pytest_cache
