"""A static check of a submission's source: does a graded function use dlcore's own
implementation of the operation it is meant to implement?

The sandbox hides the exercises' references, but not the library the learner studies, so
`linear_forward` can still be answered with `dlcore.functional.linear_forward`. That cannot
be prevented at run time in general; it can be seen in the source. For each graded
function this reads the notebook's code cells (without running them) and follows:

- the function's last top-level binding: a `def`, an assignment, or an import that binds
  the name itself (`from dlcore.functional import linear_forward`);
- inside it (and inside the notebook's own top-level functions it calls by name, to any
  depth), every name and attribute chain, resolved through the notebook's imports and
  top-level aliases (`import dlcore.functional as F`, `ref = F.linear_forward`,
  `from dlcore import functional`).

It flags a chain that resolves to a dlcore object (outside dlcore.grading) that is the
op's implementation: an object whose name is the graded function's name, or one the
exercise's reference itself calls. It also flags the exercise registry
(`dlcore.grading.get_exercise`, `EXERCISES`) and anything else of dlcore.grading but
`check` and the registry's classes (the references in `dlcore.grading.exercises`).
It does not follow dynamic access (`getattr` with a computed name, `importlib`, `exec`/`eval`, `globals()`), objects that
reach the same math another way (`nn.Linear(...).forward`), or code copied from dlcore's
source; instructors.md says so.
"""
from __future__ import annotations

import ast
import importlib
import re
import types

__all__ = ["find_reference_uses", "implementation_of"]

REGISTRY_NAMES = {"get_exercise", "EXERCISES", "list_exercises"}
LEARNER_NAMES = {"check", "CheckResult", "Case", "Exercise", "UnknownExerciseError", "register"}
MAGIC_LINE = re.compile(r"^\s*[%!].*$", re.MULTILINE)


def _resolve_object(dotted):
    """The object a dotted dlcore path names, importing dlcore modules as needed; None."""
    parts = dotted.split(".")
    obj = None
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except Exception:  # noqa: BLE001, S112  (not a module: try a shorter prefix)
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
            if obj is None:
                return None
        return obj
    return None


def _module_of(obj):
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    return getattr(obj, "__module__", "") or ""


def implementation_of(exercise):
    """The dlcore objects (outside dlcore.grading) that its reference calls directly."""
    ref = exercise.reference
    found = set()
    codes = [getattr(ref, "__code__", None)]
    glb = getattr(ref, "__globals__", {})
    while codes:
        code = codes.pop()
        if code is None:
            continue
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        for name in code.co_names:
            obj = glb.get(name)
            candidates = [obj]
            if isinstance(obj, types.ModuleType):
                candidates += [getattr(obj, n, None) for n in code.co_names]
            for c in candidates:
                if c is None or isinstance(c, types.ModuleType):
                    continue
                module = _module_of(c)
                if module.startswith("dlcore.") and not module.startswith("dlcore.grading"):
                    found.add(id(c))
    return found


def _parse(cells):
    trees = []
    for code in cells:
        try:
            trees.append(ast.parse(MAGIC_LINE.sub("", code)))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # a cell Python cannot parse cannot define anything either
    return trees


def _dotted(node, aliases):
    """'dlcore.functional.linear_forward' for a Name/Attribute chain, via aliases; None."""
    attrs = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(attrs)])


def _imports(node, aliases):
    if isinstance(node, ast.Import):
        for a in node.names:
            if a.name == "dlcore" or a.name.startswith("dlcore."):
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    aliases["dlcore"] = "dlcore"
    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
            node.module == "dlcore" or node.module.startswith("dlcore.")):
        for a in node.names:
            if a.name == "*":
                module = _resolve_object(node.module)
                for name in getattr(module, "__all__", []):
                    aliases[name] = f"{node.module}.{name}"
            else:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"


def _bindings(trees):
    """Aliases of dlcore paths (imports, top-level `x = <dlcore path>`) and the last
    top-level binding of each name: ('def', node), ('expr', node) or ('alias', path).
    Top-level statements are read in order; imports inside functions count everywhere
    (scopes are not tracked: a local alias is taken as a global one)."""
    aliases, last = {}, {}
    for tree in trees:
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                _imports(node, aliases)
                for a in node.names:
                    name = (a.asname or a.name).split(".")[0]
                    if name in aliases:
                        last[name] = ("alias", aliases[name])
                continue
            for sub in ast.walk(node):  # imports inside functions, classes, try, if
                _imports(sub, aliases)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                last[node.name] = ("def", node)
                aliases.pop(node.name, None)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                path = _dotted(node.value, aliases)
                for t in targets:
                    if isinstance(t, ast.Name):
                        last[t.id] = ("expr", node.value)
                        if path:
                            aliases[t.id] = path
                        else:
                            aliases.pop(t.id, None)
    return aliases, last


def find_reference_uses(cells, exercises):
    """{exercise id: [sentence, ...]} for graded functions whose source uses dlcore's own
    implementation of their op or the exercise registry. `cells`: code cell sources."""
    aliases, last = _bindings(_parse(cells))
    flags = {}
    for exercise in exercises:
        sentences = _Finder(exercise, aliases, last).run()
        if sentences:
            flags[exercise.id] = sentences
    return flags


class _Finder:
    """Follows one graded function through the notebook's source."""

    def __init__(self, exercise, aliases, last):
        self.exercise, self.aliases, self.last = exercise, aliases, last
        self.targets = implementation_of(exercise)
        self.seen_paths, self.sentences = set(), []

    def run(self):
        kind, target = self.last.get(self.exercise.function, (None, None))
        if kind == "alias":
            self.judge(target)
        elif kind in ("def", "expr"):
            self.visit(target, {self.exercise.function})
        return list(dict.fromkeys(self.sentences))

    def judge(self, path):
        if path in self.seen_paths:
            return
        self.seen_paths.add(path)
        parts = path.split(".")
        if parts[:2] == ["dlcore", "grading"]:
            if parts[-1] in REGISTRY_NAMES:
                self.sentences.append(f"reaches the exercise registry ({path})")
            elif len(parts) > 2 and parts[-1] not in LEARNER_NAMES:
                self.sentences.append(f"reaches the grader's own code ({path})")
            return
        obj = _resolve_object(path)
        if obj is None or isinstance(obj, types.ModuleType):
            return
        module = _module_of(obj)
        if not module.startswith("dlcore.") or module.startswith("dlcore.grading"):
            return
        name = getattr(obj, "__name__", parts[-1])
        function = self.exercise.function
        if function in (name, parts[-1]) or id(obj) in self.targets:
            self.sentences.append(f"uses dlcore's own {name} ({path})")

    def visit(self, node, functions_seen):
        todo = [node]  # a stack, not recursion: a chain of 3000 functions is no crash
        while todo:
            for sub in ast.walk(todo.pop()):
                if isinstance(sub, (ast.Name, ast.Attribute)):
                    path = _dotted(sub, self.aliases)
                    if path:
                        self.judge(path)
                if isinstance(sub, ast.Name) and sub.id not in functions_seen:
                    kind, target = self.last.get(sub.id, (None, None))
                    if kind == "def":
                        functions_seen.add(sub.id)
                        todo.append(target)
