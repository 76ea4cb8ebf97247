"""Mutation testing of tfae's core modules with mutmut, one module group at a time.

    python tests/mutation.py --group datasets            # every mutant of tfae/datasets
    python tests/mutation.py --group layers --sample 7   # the mutants numbered ...7 (about one in ten)
    python tests/mutation.py --group datasets --group layers --sample 7 --min-score 0.9   # as CI does

Each group mutates its modules against its own targeted tests (GROUPS below): mutmut first records
which of those tests call each function, then runs, for each mutant, only the tests that reach it.
A group runs in its own scratch copy of the repository (build/mutation/GROUP), so groups never share
mutmut's caches and the working tree stays clean. Mutants listed in tests/mutation_equivalent.txt
(name and a one-line reason) count as equivalent: left out of the score. The score is
killed / (mutants - equivalent), timeouts counted as killed; docs/testing.md keeps the latest table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Collection
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EQUIVALENT = REPO / "tests" / "mutation_equivalent.txt"
# Every mutant's last result, with a fingerprint of its module's source: a long run stopped in one checkout
# goes on (`--resume`) in another, for as long as the module's code is the same.
RESULTS = REPO / "tests" / "mutation_results.txt"

ENGINE_TESTS = ["tests/test_engine.py", "tests/test_engine_boundary.py", "tests/test_family_engine.py",
                "tests/test_conformance.py", "tests/test_bad_input.py"]
# Module group: (files to mutate, the tests that target them).
GROUPS: dict[str, tuple[list[str], list[str]]] = {
    "datasets": (["tfae/datasets/*"], ["tests/test_datasets.py", "tests/test_datasets_errors.py",
                                       "tests/test_fuzz_files.py"]),
    "layers": (["tfae/layers/*"], ["tests/test_layers.py", "tests/test_family_layers.py", "tests/test_split.py"]),
    "engine": ([f"tfae/_engine/{name}.py" for name in ("__init__", "boundary", "inference", "tensorflow", "training")],
               ENGINE_TESTS),
    "engine-jax": (["tfae/_engine/jax.py"], ENGINE_TESTS),  # the JAX trainer, under KERAS_BACKEND=jax
    "graph": (["tfae/graph/*"], ["tests/test_graph.py"]),
    "models": (["tfae/models/*"], ["tests/test_models.py", "tests/test_family.py", "tests/test_saving.py",
                                   "tests/test_presets.py", "tests/test_bad_input.py", "tests/test_callbacks.py",
                                   "tests/test_engine_boundary.py"]),
}
# pytest arguments of a group beyond the defaults. The engine's conformance cases (marked slow for the
# README's suite) are the tests that pin `fit`; their JAX pass runs in a subprocess mutmut cannot follow.
PYTEST_ARGS: dict[str, list[str]] = {
    group: ["-m", "", "--deselect", "tests/test_conformance.py::test_conformance_engine_and_argument_checks_hold_on_the_other_backends"]
    for group in ("engine", "engine-jax")
}
# The conformance cases the engine groups run against each mutant: every path the engine takes (arrays,
# datasets, Keras' own loop), each way a callback can watch or stop it, validation, weights, mixed precision.
# All of them (about 90 cases of a few seconds) made a surviving mutant cost minutes; the README's slow
# suite runs them all.
ENGINE_CONFORMANCE = (
    "defaults", "steps_recorded", "shuffle_false_partial_last_batch", "targets", "sample_weight_targets",
    "validation_weighted",
    "validation_split_weighted", "sample_weight", "initial_epoch", "steps_per_epoch", "backup_and_restore",
    "stop_training_mid_epoch", "train_on_batch_from_callback", "stop_training_at_epoch_begin",
    "batch_hook_installed_in_set_model", "fit_inside_a_callback", "steps_per_execution_recorded", "no_jit",
    "mixed_float16", "evaluate_weighted", "dataset", "dataset_unknown_length_recorded", "dataset_sample_weight",
    "dataset_stop_training_at_epoch_begin", "dataset_train_on_batch_from_callback", "dataset_fit_inside_a_callback",
    "stopped_at_epoch_begin_then_going_on", "layer_frozen_mid_fit", "dataset_growing",
)
# Environment of a group beyond ENV: the backend its modules run on, the conformance cases it runs.
ENVIRONMENTS: dict[str, dict[str, str]] = {
    "engine": {"TFAE_CONFORMANCE_CASES": ",".join(ENGINE_CONFORMANCE)},
    "engine-jax": {"KERAS_BACKEND": "jax", "TFAE_CONFORMANCE_CASES": ",".join(ENGINE_CONFORMANCE)},
}
# Each group's package, `tfae.layers` for `tfae/layers/*`: the prefix of its mutants' names.
PACKAGES = {group: files[0].rsplit("/", 1)[0].replace("/", ".") for group, (files, _) in GROUPS.items()}
DETECTED = {"killed", "timeout", "segfault"}
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ""}


# Folders beside the package that the tests read: the benchmarks' reference models, the example scripts.
COPIED = ("benchmarks", "examples")


SITECUSTOMIZE = "import tests.mutation_plugin  # noqa: F401  (written by tests/mutation.py)\n"


def scratch_copy(group: str) -> Path:
    """A copy of the package, its tests (with the benchmarks' reference models and the example scripts they
    import or run) and pyproject.toml,
    with a mutmut section that selects the group.

    The section lives only there: mutmut run by hand at the top of the repository would lack the plugin
    that lets Keras build mutated layers.
    """
    files, tests = GROUPS[group]
    root = REPO / "build" / "mutation" / group
    for name in ("tfae", "tests", *COPIED):
        shutil.rmtree(root / name, ignore_errors=True)
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "results"))
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    settings = {"source_paths": ["tfae"], "also_copy": [*COPIED, "sitecustomize.py"], "only_mutate": files,
                "pytest_add_cli_args_test_selection": tests,
                "pytest_add_cli_args": ["-p", "tests.mutation_plugin", *PYTEST_ARGS.get(group, [])],
                "process_isolation": "forkserver"}
    section = "[tool.mutmut]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())
    (root / "pyproject.toml").write_text(text.rstrip("\n") + "\n\n" + section, encoding="utf-8")
    # Python imports `sitecustomize` at start-up: the tests' child processes (PYTHONPATH is the copy) load
    # the plugin too, or Keras could not build a mutated layer there.
    (root / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    return root


def results(root: Path) -> dict[str, str]:
    """{mutant name: status} of mutmut's last runs in a group's scratch copy."""
    listing = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=root,
                             env=ENV, capture_output=True, text=True, check=True).stdout
    return dict(re.findall(r"^\s+(\S+): (.+)$", listing, flags=re.M))


def run_group(group: str, *, sample: str | None, module: str | None = None, again: bool = False,
              resume: bool = False) -> dict[str, str]:
    """Runs mutmut over one group; returns {mutant name: status} for every mutant tried, in this run or before.

    `sample` (a digit) and `module` (a dotted name of the group's package) narrow the run to the mutants whose
    number ends in that digit, or that mutate that module. With `again`, only the mutants that were neither
    killed last time nor listed as equivalent run, against the current tests (which tests reach which
    function is learnt afresh), and then every mutant left unchecked: mutmut resets the results of each
    function whose code changed since. With `resume`, a stopped run goes on: the results and the map of which
    tests reach which function are kept, and only the mutants not tried yet run, so a long run (a whole
    module) can be made in parts; the results recorded in RESULTS for the code as it is count as tried, so
    it goes on in a fresh checkout too. Neither runs a listed equivalent: it would survive every test that
    reaches it, the costliest outcome; a resumed run reports the untried ones among its results, as
    equivalent. Every run's results are recorded in RESULTS, a stopped one's too.
    """
    root = scratch_copy(group)

    def selected(name: str) -> bool:
        return (sample is None or name.endswith(sample)) and (module is None or module_of(name) == module)

    narrowed = sample is not None or module is not None
    names = [f"{module or PACKAGES[group]}.*__mutmut_*{sample or ''}"] if narrowed else []
    again = again and (root / "mutants").is_dir()
    # A listed equivalent survives by definition: running it would only run every test that reaches it.
    listed = equivalents()
    # mutmut's mutants and results of a module edited since its last run here are of the old code: forget them,
    # so that mutmut makes the module's mutants anew (all untried) however it is run next.
    modules = group_modules(group, root)
    unmade = forget_edited(root, modules) & ({module} if module else modules)  # of the modules this run is for
    if resume:
        recorded = {name: status for name, status in recorded_results(root=root).items() if selected(name)}
        candidates = [name for name, status in results(root).items() if status == "not checked"] \
            if (root / "mutants").is_dir() else []
        # A fresh copy, or an edited module: mutmut has no results of its code yet, so list the mutants it will make.
        candidates += mutant_changes(unmade, root)
        untried = [name for name in candidates if selected(name) and name not in listed and name not in recorded]
        if untried:
            _mutmut_run(root, group, untried)
        return {**recorded, **tried(root, selected, listed)} if (root / "mutants").is_dir() else recorded
    if again:
        names = [name for name, status in results(root).items()
                 if status not in DETECTED and name not in listed and selected(name)]
        names += [name for name in mutant_changes(unmade, root) if selected(name)]
        # mutmut would learn which functions only its new tests reach; an edited test may reach more.
        (root / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    else:
        shutil.rmtree(root / "mutants", ignore_errors=True)
    if names or not again:
        _mutmut_run(root, group, names)
    if again:
        unchecked = [name for name, status in results(root).items() if status == "not checked" and selected(name)]
        if unchecked:
            _mutmut_run(root, group, unchecked)
    return tried(root, selected)


def group_modules(group: str, root: Path = REPO) -> set[str]:
    """The dotted names of the modules a group mutates, as they are under `root`."""
    return {".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            for pattern in GROUPS[group][0] for path in root.glob(pattern) if path.suffix == ".py"}


# Results worth keeping: a mutant stopped in flight ("check was interrupted by user") is untried.
RECORDED = DETECTED | {"survived", "no tests"}


def recorded_results(path: Path | None = None, root: Path = REPO) -> dict[str, str]:
    """{mutant name: status} recorded at `path` (RESULTS) for the code under `root` as it is: an entry whose
    module's source has changed since its run is left out, since mutmut may number that module's mutants anew."""
    path = path or RESULTS
    current: dict[str, str | None] = {}
    valid = {}
    for name, recorded, status in _recorded_entries(path):
        module = module_of(name)
        if module not in current:
            current[module] = source_fingerprint(module, root)
        if recorded == current[module]:
            valid[name] = status
    return valid


def record_results(statuses: dict[str, str], root: Path, path: Path | None = None) -> None:
    """Writes the `statuses` of a run made on the code under `root` (a group's scratch copy) into the record
    at `path` (RESULTS); entries of the same modules made on other code are replaced, those of other modules
    kept."""
    path = path or RESULTS
    runs = {name: status for name, status in statuses.items() if status in RECORDED}
    sources = {module: source_fingerprint(module, root) for module in {module_of(name) for name in runs}}
    entries = {name: (recorded, status) for name, recorded, status in _recorded_entries(path)
               if sources.get(module_of(name), recorded) == recorded}
    entries.update((name, (sources[module_of(name)], status)) for name, status in runs.items())
    header = ("# The last result of each mutant tried (tests/mutation.py writes it): name, a fingerprint of its\n"
              "# module's source when it ran, status. --resume skips the mutants recorded for the code as it is.\n")
    path.write_text(header + "".join(f"{name} [{recorded}] {status}\n"
                                     for name, (recorded, status) in sorted(entries.items())), encoding="utf-8")


def _recorded_entries(path: Path) -> list[tuple[str, str | None, str]]:
    """(name, source fingerprint, status) of each entry of the record at `path` (none if it does not exist)."""
    return _entries(path.read_text(encoding="utf-8")) if path.is_file() else []


def source_fingerprint(module: str, root: Path = REPO) -> str | None:
    """A fingerprint of a module's source under `root` (None when it has no file there)."""
    path = source_path(module, root)
    return fingerprint(path.read_text(encoding="utf-8")) if path.is_file() else None


def tried(root: Path, selected: Callable[[str], bool], listed: Collection[str] = ()) -> dict[str, str]:
    """{mutant name: status} of the `selected` mutants of a group that have a result or are `listed` equivalents."""
    return {name: status for name, status in results(root).items()
            if (status != "not checked" or name in listed) and selected(name)}


# In a scratch copy's `mutants` folder: {module: fingerprint of the source its mutants were made of}.
MADE_OF = "made_of.json"


def _made_of(root: Path) -> dict[str, str | None]:
    path = root / "mutants" / MADE_OF
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _mutated_files(root: Path, module: str) -> list[Path]:
    """A module's files in mutmut's `mutants` folder: its mutated copy and mutmut's results of it."""
    mutated = root / "mutants" / source_path(module, root).relative_to(root)
    return [mutated, *(mutated.with_name(mutated.name + suffix) for suffix in (".meta", ".spans"))]


def forget_edited(root: Path, modules: set[str]) -> set[str]:
    """Deletes mutmut's mutants and results of each of `modules` whose mutants in the scratch copy at `root`
    were not made of its code as it is there now; returns those modules (all of them in a copy where mutmut
    has made nothing yet). mutmut remakes a module's mutants
    only when the source is newer than them (a restored file keeps its old time), and forgets results only
    of the functions whose code changed (not after an edit of a constant), so it cannot be left to judge."""
    if not (root / "mutants").is_dir():
        return set(modules)
    made = _made_of(root)
    edited = {module for module in modules if made.get(module, "") != source_fingerprint(module, root)}
    for module in edited:
        for path in _mutated_files(root, module):
            path.unlink(missing_ok=True)
    return edited


def note_made(root: Path, modules: set[str]) -> None:
    """Notes, after a mutmut run, which source the mutants of each of `modules` were made of: mutmut makes a
    module's mutants (and its results file) before any test runs, so a module with results was made of the
    code as it is (`forget_edited` deleted the others before the run); a run stopped before has none."""
    made = {module: source_fingerprint(module, root) for module in sorted(modules)
            if _mutated_files(root, module)[1].is_file()}
    (root / "mutants" / MADE_OF).write_text(json.dumps(made, indent=1, sort_keys=True), encoding="utf-8")


def _mutmut_run(root: Path, group: str, names: list[str]) -> None:
    """`mutmut run NAMES` (every mutant when empty) in a group's scratch copy; its output goes to mutmut.log."""
    log = root / "mutmut.log"
    with open(log, "w", encoding="utf-8") as out:
        code = subprocess.call([sys.executable, "-m", "mutmut", "run", *names], cwd=root,
                               env={**ENV, **ENVIRONMENTS.get(group, {})}, stdout=out, stderr=subprocess.STDOUT)
    if (root / "mutants").is_dir():  # what was tried before a stop (`pkill -f "mutmut run"`) is kept too
        note_made(root, group_modules(group, root))
        record_results(results(root), root)
    if code != 0:
        lines = [line for line in log.read_text(encoding="utf-8").replace("\r", "\n").splitlines() if line.strip()]
        raise SystemExit("\n".join(lines[-40:]) + f"\nmutmut failed on group {group!r} (exit {code}); see {log}")


def equivalents() -> dict[str, str]:
    """The mutants judged equivalent to the original code, with the reason given for each."""
    return {name: reason for name, _, reason in _entries(EQUIVALENT.read_text(encoding="utf-8"))}


# An equivalent's entry: `name [fingerprint] reason`. The fingerprint is a hash of the change the mutant makes,
# so an edit that renumbers a function's mutants cannot silently make the name point at another mutant.
_ENTRY = re.compile(r"^(\S+) (?:\[([0-9a-f]{8})\] )?(.*)$")


def _entries(text: str) -> list[tuple[str, str | None, str]]:
    """(name, fingerprint or None, reason) of each entry of an equivalents list."""
    return [_ENTRY.match(line).groups() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def fingerprint(change: str) -> str:
    return hashlib.sha1(change.encode("utf-8")).hexdigest()[:8]


# Run where mutmut finds a configuration: it reads its do-not-mutate patterns before mutating a file.
_MUTATE = """
import ast, difflib, json, re, sys
from mutmut.mutation.file_mutation import mutate_file_contents

changes = {}
for module, path in json.loads(sys.argv[1]).items():
    code = mutate_file_contents(path, open(path, encoding="utf-8").read()).code
    source = code.splitlines()  # a function's lines (slicing, not ast.get_source_segment: quadratic), its
    functions = {node.name: [source[node.lineno - 1].replace(node.name, "", 1), *source[node.lineno:node.end_lineno]]
                 for node in ast.walk(ast.parse(code)) if isinstance(node, ast.FunctionDef)}  # name left out
    for name, body in functions.items():
        original = functions.get(re.sub(r"__mutmut_\\d+$", "__mutmut_orig", name))
        if "__mutmut_" not in name or name.endswith("__mutmut_orig") or original is None:
            continue
        lines = difflib.unified_diff(original, body, lineterm="", n=0)
        changes[f"{module}.{name}"] = "\\n".join(line[0] + line[1:].strip() for line in lines
                                                if line[:1] in "+-" and line[:3] not in ("+++", "---"))
print(json.dumps(changes))
"""


def source_path(module: str, root: Path = REPO) -> Path:
    """The file of a dotted module name under `root` (`tfae/_engine/inference.py` for `tfae._engine.inference`,
    `tfae/_engine/__init__.py` for `tfae._engine`: mutmut names a package's mutants after the package)."""
    path = root / module.replace(".", "/")
    return path / "__init__.py" if path.is_dir() else path.with_name(path.name + ".py")


def mutant_changes(modules: set[str], root: Path = REPO) -> dict[str, str]:
    """{mutant name: the lines it changes, whitespace-insensitive} of every mutant mutmut makes of `modules`
    (dotted names, read under `root`); the `def` line without the function's name, which each mutant changes."""
    if not modules:
        return {}
    paths = {module: str(source_path(module, root)) for module in sorted(modules)}
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "pyproject.toml").write_text('[tool.mutmut]\nsource_paths = ["tfae"]\n', encoding="utf-8")
        listing = subprocess.run([sys.executable, "-c", _MUTATE, json.dumps(paths)], cwd=folder, env=ENV,
                                 capture_output=True, text=True, check=True).stdout
    return json.loads(listing)


def check_equivalents(*, update: bool = False, path: Path = EQUIVALENT, root: Path = REPO) -> list[str]:
    """The problems of the equivalents list at `path` against the code under `root`, one line each.

    An entry's name must still make the change its fingerprint records. With `update`, an entry without a
    fingerprint gets its mutant's, and an entry an edit renumbered gets the name of the one mutant of its
    function that now makes its change; the list is rewritten, and only what is left is a problem.
    """
    text = path.read_text(encoding="utf-8")
    changes = mutant_changes({module_of(name) for name, _, _ in _entries(text)}, root)
    by_change: dict[tuple[str, str], list[str]] = {}
    for name, change in changes.items():
        by_change.setdefault((_function_of(name), fingerprint(change)), []).append(name)
    problems, lines = [], []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            lines.append(line)
            continue
        name, recorded, reason = _ENTRY.match(line).groups()
        if recorded is None:
            if name not in changes:
                problems.append(f"{name}: no such mutant")
            elif not update:
                problems.append(f"{name}: no fingerprint (--update-equivalents adds it)")
            else:
                recorded = fingerprint(changes[name])
        elif name not in changes or fingerprint(changes[name]) != recorded:
            now = by_change.get((_function_of(name), recorded), [])
            if update and len(now) == 1:
                print(f"{name} -> {now[0]}")
                name = now[0]
            else:
                problems.append(f"{name}: its change [{recorded}] is now made by " + (", ".join(now) or "no mutant"))
        lines.append(f"{name} [{recorded}] {reason}" if recorded else line)
    if update:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return problems


def _function_of(mutant: str) -> str:
    return re.sub(r"__mutmut_\d+$", "", mutant)


def module_of(mutant: str) -> str:
    return mutant.rsplit(".", 1)[0]


def package_of(mutant: str) -> str:
    """The module group's package (`tfae.layers` for `tfae.layers.dense.x_f__mutmut_1`)."""
    return next(package for package in PACKAGES.values() if mutant.startswith(package + "."))


def score_table(statuses: dict[str, str], equivalent: dict[str, str], *,
                key: Callable[[str], str] = module_of) -> tuple[str, dict[str, float]]:
    """A markdown table of the statuses per module (or per `key`), and each one's score."""
    by_module: dict[str, Counter] = {}
    for name, status in statuses.items():
        counts = by_module.setdefault(key(name), Counter())
        counts["equivalent" if name in equivalent and status not in DETECTED else status] += 1
    rows = ["| module | mutants | killed | timeout | survived | no tests | equivalent | score |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    scores = {}
    for module, counts in sorted(by_module.items()):
        total = sum(counts.values())
        detected = sum(counts[s] for s in DETECTED)
        scores[module] = detected / max(total - counts["equivalent"], 1)
        rows.append(f"| `{module}` | {total} | {counts['killed']} | {counts['timeout']} | {counts['survived']} "
                    f"| {counts['no tests']} | {counts['equivalent']} | {scores[module]:.1%} |")
    return "\n".join(rows), scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--group", choices=[*GROUPS, "all"], action="append",
                        help="a module group (repeat for several); all of them by default")
    parser.add_argument("--sample", metavar="DIGIT", choices=list("0123456789"),
                        help="only the mutants whose number ends in DIGIT (about one in ten)")
    parser.add_argument("--module", metavar="MODULE",
                        help="only the mutants of one module of the group, e.g. tfae._engine.inference")
    parser.add_argument("--min-score", type=float, default=None,
                        help="exit 1 when a module (a group, with --sample) scores below this fraction")
    parser.add_argument("--again", action="store_true",
                        help="rerun only the mutants the last run of each group did not kill")
    parser.add_argument("--resume", action="store_true",
                        help="go on with a stopped run: only the mutants it has not tried yet")
    parser.add_argument("--check-equivalents", action="store_true",
                        help="check that each listed equivalent still names the mutant it was judged on, and stop")
    parser.add_argument("--update-equivalents", action="store_true",
                        help="fingerprint new entries of the equivalents list, rename renumbered ones, and stop")
    parser.add_argument("--record", action="store_true",
                        help=f"record the results of each group's last run in {RESULTS.name} (for a run whose "
                             "tests/mutation.py was stopped too), and stop")
    args = parser.parse_args(argv)
    if args.again and args.resume:
        parser.error("--again and --resume are exclusive: --again reruns the survivors, --resume the untried")
    if args.check_equivalents or args.update_equivalents:
        problems = check_equivalents(update=args.update_equivalents)
        print("\n".join(problems) or f"every entry of {EQUIVALENT.name} names the mutant it was judged on")
        return 1 if problems else 0

    equivalent = equivalents()
    statuses: dict[str, str] = {}
    groups = list(GROUPS) if not args.group or "all" in args.group else list(dict.fromkeys(args.group))
    if args.record:
        for group in groups:
            root = REPO / "build" / "mutation" / group
            if (root / "mutants").is_dir():
                record_results(results(root), root)
        return 0
    if args.module is not None:
        owners = [group for group in groups if args.module.startswith(PACKAGES[group] + ".")]
        if len(owners) != 1 or not source_path(args.module).is_file():
            parser.error(f"--module must name one module of the package of one chosen group "
                         f"({', '.join(PACKAGES[group] for group in groups)}). Received: --module={args.module}")
        groups = owners
    for group in groups:
        statuses.update(run_group(group, sample=args.sample, module=args.module, again=args.again,
                                  resume=args.resume))
    table, scores = score_table(statuses, equivalent)
    print(table)
    if args.sample is not None:  # a tenth of a small module is too few mutants to judge it: judge the groups
        table, scores = score_table(statuses, equivalent, key=package_of)
        print("\n" + table)
    missed = sorted(n for n, s in statuses.items() if s not in DETECTED and n not in equivalent)
    if missed:
        print("\nNot killed:\n" + "\n".join(f"  {name}: {statuses[name]}" for name in missed))
    if args.min_score is not None:
        low = {m: s for m, s in scores.items() if s < args.min_score}
        if low:
            print(f"\nBelow {args.min_score:.0%}: " + ", ".join(f"{m} ({s:.1%})" for m, s in low.items()))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
