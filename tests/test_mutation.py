"""The mutation-testing tools: the score tests/mutation.py reports, and the mutmut internal the plugin patches."""

import importlib
import inspect
import re
import sys
import warnings

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "tests"))
mutation = importlib.import_module("mutation")


def test_score_counts_timeouts_as_killed_and_leaves_equivalent_mutants_out():
    statuses = {
        "tfae.a.x_f__mutmut_1": "killed", "tfae.a.x_f__mutmut_2": "timeout", "tfae.a.x_f__mutmut_3": "survived",
        "tfae.a.x_f__mutmut_4": "survived", "tfae.b.x_g__mutmut_1": "no tests", "tfae.b.x_g__mutmut_2": "killed",
    }
    table, scores = mutation.score_table(statuses, {"tfae.a.x_f__mutmut_4": "same result"})
    assert scores == {"tfae.a": 2 / 3, "tfae.b": 1 / 2}
    assert "| `tfae.a` | 4 | 1 | 1 | 1 | 0 | 1 | 66.7% |" in table.splitlines()
    assert "| `tfae.b` | 2 | 1 | 0 | 0 | 1 | 0 | 50.0% |" in table.splitlines()


def test_every_listed_equivalent_mutant_has_a_reason_and_names_a_core_module():
    for name, reason in mutation.equivalents().items():
        assert name.startswith("tfae.") and "__mutmut_" in name and reason, name
        assert any(name.startswith(files[0].rsplit("/", 1)[0].replace("/", ".")) for files, _ in
                   mutation.GROUPS.values()), name


def test_every_group_targets_test_files_that_exist():
    for files, tests in mutation.GROUPS.values():
        assert all((REPO / test).is_file() for test in tests)
        assert all(list(REPO.glob(pattern)) for pattern in files)


def test_every_folder_of_the_repository_a_group_test_reads_is_copied_into_the_scratch_copies():
    # A folder the tests read but the copy lacks fails mutmut's first, unmutated run of the whole group.
    folders = {path.name for path in REPO.iterdir() if path.is_dir() and not path.name.startswith(".")} \
        - {"tfae", "tests", "docs", "build", "site"}
    for _, tests in mutation.GROUPS.values():
        for test in tests:
            text = (REPO / test).read_text(encoding="utf-8")
            for folder in folders:
                if re.search(rf'REPO / "{folder}"|^from {folder}[ .]|^import {folder}\b', text, flags=re.M):
                    assert folder in mutation.COPIED, (test, folder)


def test_the_mutmut_internal_the_plugin_patches_is_still_there():
    trampoline = pytest.importorskip("mutmut.mutation.trampoline", reason="mutmut is the mutation extra")
    import tests.mutation_plugin  # noqa: F401  (patches on import)

    class Example:
        def __init__(self, a, *, b=2):
            self.a, self.b = a, b

    original = Example.__init__
    Example.__init__ = trampoline.wrap_in_trampoline({"_mutmut_orig": original})(original)
    assert inspect.getfullargspec(Example.__init__).args == ["self", "a"]  # what Keras' Operation.__new__ reads
    assert Example(1).a == 1


def test_a_warning_of_tfae_points_past_mutmuts_trampolines_at_the_callers_line(monkeypatch):
    trampoline = pytest.importorskip("mutmut.mutation.trampoline", reason="mutmut is the mutation extra")
    import tests.mutation_plugin as plugin
    from tfae import _errors

    namespace = {"warnings": warnings, "users_frame": _errors.users_frame}
    source = "def warns():\n    warnings.warn('here', UserWarning, stacklevel=users_frame())\n"
    exec(compile(source, _errors.__file__, "exec"), namespace)  # a function of tfae's, as mutmut trampolines it
    warns = trampoline.wrap_in_trampoline({"_mutmut_orig": namespace["warns"]})(namespace["warns"])
    monkeypatch.setattr(_errors, "FRAMEWORKS", _errors.FRAMEWORKS)  # restored after the test
    monkeypatch.setenv("MUTANT_UNDER_TEST", "")
    with pytest.warns(UserWarning) as record:
        warns()
    assert record[0].filename == trampoline.__file__  # what the plugin mends
    plugin.pytest_configure(None)
    with pytest.warns(UserWarning) as record:
        warns()
    assert record[0].filename == __file__


def test_a_sampled_run_is_judged_per_group():
    statuses = {"tfae.layers.dense.x_f__mutmut_7": "killed", "tfae.layers.tied.x_g__mutmut_7": "survived",
                "tfae.datasets._idx.x_h__mutmut_17": "killed"}
    _, scores = mutation.score_table(statuses, {}, key=mutation.package_of)
    assert scores == {"tfae.layers": 0.5, "tfae.datasets": 1.0}


def fake_group(root, monkeypatch, statuses, equivalent=None, *, fresh=False):
    """A group's scratch copy at `root` whose mutants last had `statuses` (none when `fresh`: no results yet);
    returns the list of mutmut runs made. The record of results is an empty file beside it."""
    monkeypatch.setattr(mutation, "RESULTS", root / "recorded.txt")
    if fresh:
        monkeypatch.setattr(mutation, "scratch_copy", lambda group: root)
        monkeypatch.setattr(mutation, "equivalents", lambda: equivalent or {})
        runs = []
        monkeypatch.setattr(mutation, "_mutmut_run", lambda _, group, names: runs.append(names))
        return runs
    (root / "mutants").mkdir()
    (root / "mutants" / "mutmut-stats.json").write_text("{}")
    modules = {mutation.module_of(name) for name in statuses}
    for module in modules:  # mutmut's results file of each module, made of the code as it is
        meta = mutation._mutated_files(root, module)[1]
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.write_text("{}")
    mutation.note_made(root, modules)
    runs = []
    monkeypatch.setattr(mutation, "scratch_copy", lambda group: root)
    monkeypatch.setattr(mutation, "results", lambda _: {  # as `mutmut results` lists them: those of a results file
        name: status for name, status in statuses.items()
        if mutation._mutated_files(root, mutation.module_of(name))[1].is_file()})
    monkeypatch.setattr(mutation, "equivalents", lambda: equivalent or {})
    monkeypatch.setattr(mutation, "_mutmut_run", lambda _, group, names: runs.append(names))
    return runs


@pytest.mark.parametrize(("sample", "expected_run"), [
    (None, ["tfae.graph.m.x_g__mutmut_17", "tfae.graph.m.x_g__mutmut_18"]), ("7", ["tfae.graph.m.x_g__mutmut_17"])])
def test_resume_keeps_the_results_and_runs_only_the_untried_mutants(tmp_path, monkeypatch, sample, expected_run):
    runs = fake_group(tmp_path, monkeypatch, {
        "tfae.graph.m.x_f__mutmut_7": "killed", "tfae.graph.m.x_f__mutmut_8": "survived",
        "tfae.graph.m.x_g__mutmut_17": "not checked", "tfae.graph.m.x_g__mutmut_18": "not checked"})
    tried = mutation.run_group("graph", sample=sample, resume=True)
    assert runs == [expected_run]
    assert (tmp_path / "mutants" / "mutmut-stats.json").is_file()  # the map of which tests reach what is kept
    expected = {"tfae.graph.m.x_f__mutmut_7": "killed", "tfae.graph.m.x_f__mutmut_8": "survived"}
    assert tried == (expected if sample is None else {"tfae.graph.m.x_f__mutmut_7": "killed"})


def test_a_module_narrows_a_resumed_run_to_its_untried_mutants_and_its_results(tmp_path, monkeypatch):
    runs = fake_group(tmp_path, monkeypatch, {
        "tfae.graph.m.x_f__mutmut_1": "killed", "tfae.graph.m.x_f__mutmut_2": "not checked",
        "tfae.graph.n.x_f__mutmut_1": "survived", "tfae.graph.n.x_f__mutmut_2": "not checked",
        "tfae.graph.mm.x_f__mutmut_3": "not checked"})
    tried = mutation.run_group("graph", sample=None, module="tfae.graph.m", resume=True)
    assert runs == [["tfae.graph.m.x_f__mutmut_2"]]
    assert tried == {"tfae.graph.m.x_f__mutmut_1": "killed"}


def test_resume_runs_no_listed_equivalent_and_reports_the_untried_ones_as_equivalent(tmp_path, monkeypatch):
    equivalent = {"tfae.graph.m.x_f__mutmut_2": "same result", "tfae.graph.m.x_f__mutmut_3": "same result"}
    runs = fake_group(tmp_path, monkeypatch, {
        "tfae.graph.m.x_f__mutmut_1": "killed", "tfae.graph.m.x_f__mutmut_2": "not checked",
        "tfae.graph.m.x_f__mutmut_3": "survived", "tfae.graph.m.x_f__mutmut_4": "not checked",
        "tfae.graph.m.x_f__mutmut_5": "not checked"}, equivalent=equivalent)
    tried = mutation.run_group("graph", sample=None, module="tfae.graph.m", resume=True)
    assert runs == [["tfae.graph.m.x_f__mutmut_4", "tfae.graph.m.x_f__mutmut_5"]]
    table, scores = mutation.score_table(tried, equivalent)
    assert scores == {"tfae.graph.m": 1.0}  # killed 1 of 1; the untried equivalent is counted as one
    assert "| `tfae.graph.m` | 3 | 1 | 0 | 0 | 0 | 2 | 100.0% |" in table


def test_resume_with_nothing_left_to_try_runs_no_mutmut(tmp_path, monkeypatch):
    runs = fake_group(tmp_path, monkeypatch, {"tfae.graph.m.x_f__mutmut_1": "killed",
                                              "tfae.graph.m.x_f__mutmut_2": "not checked"},
                      equivalent={"tfae.graph.m.x_f__mutmut_2": "same result"})
    mutation.run_group("graph", sample=None, resume=True)
    assert runs == []


def write_module(root, source):
    """`source` as the module tfae.graph.m under `root`."""
    (root / "tfae" / "graph").mkdir(parents=True, exist_ok=True)
    (root / "tfae" / "graph" / "m.py").write_text(source)


def test_recorded_results_hold_for_the_code_they_ran_on_and_keep_other_modules(tmp_path):
    record = tmp_path / "recorded.txt"
    write_module(tmp_path, "def f(a):\n    return a + 1\n")
    (tmp_path / "tfae" / "graph" / "n.py").write_text("def g(b):\n    return b\n")
    mutation.record_results({"tfae.graph.m.x_f__mutmut_1": "killed", "tfae.graph.m.x_f__mutmut_2": "survived",
                             "tfae.graph.m.x_f__mutmut_3": "no tests", "tfae.graph.m.x_f__mutmut_4": "not checked",
                             "tfae.graph.m.x_f__mutmut_5": "check was interrupted by user",
                             "tfae.graph.n.x_g__mutmut_1": "timeout"}, tmp_path, record)
    expected = {"tfae.graph.m.x_f__mutmut_1": "killed", "tfae.graph.m.x_f__mutmut_2": "survived",
                "tfae.graph.m.x_f__mutmut_3": "no tests", "tfae.graph.n.x_g__mutmut_1": "timeout"}
    assert mutation.recorded_results(record, tmp_path) == expected  # untried and interrupted ones are not kept

    write_module(tmp_path, "def f(a):\n    return a + 2\n")  # m edited: mutmut may number its mutants anew
    assert mutation.recorded_results(record, tmp_path) == {"tfae.graph.n.x_g__mutmut_1": "timeout"}
    mutation.record_results({"tfae.graph.m.x_f__mutmut_2": "killed"}, tmp_path, record)
    assert mutation.recorded_results(record, tmp_path) == {"tfae.graph.m.x_f__mutmut_2": "killed",
                                                           "tfae.graph.n.x_g__mutmut_1": "timeout"}
    assert len(record.read_text().splitlines()) == 2 + 2  # the header, and m's results on its old code dropped


def test_resume_in_a_fresh_copy_runs_only_the_mutants_without_a_recorded_result(tmp_path, monkeypatch):
    write_module(tmp_path, "def f(a):\n    return a + 1\n")
    runs = fake_group(tmp_path, monkeypatch, {}, {"tfae.graph.m.x_f__mutmut_3": "same result"}, fresh=True)
    mutation.record_results({"tfae.graph.m.x_f__mutmut_1": "killed", "tfae.graph.m.x_f__mutmut_2": "survived"},
                            tmp_path)
    made = {f"tfae.graph.m.x_f__mutmut_{i}" for i in range(1, 7)}
    monkeypatch.setattr(mutation, "mutant_changes", lambda modules, root=tmp_path: {
        name: "" for name in sorted(made) if mutation.module_of(name) in modules})
    monkeypatch.setattr(mutation, "results", lambda _: {})  # mutmut made nothing (the fake run above)
    tried = mutation.run_group("graph", sample=None, module="tfae.graph.m", resume=True)
    assert runs == [["tfae.graph.m.x_f__mutmut_4", "tfae.graph.m.x_f__mutmut_5", "tfae.graph.m.x_f__mutmut_6"]]
    assert tried == {"tfae.graph.m.x_f__mutmut_1": "killed", "tfae.graph.m.x_f__mutmut_2": "survived"}


def test_resume_after_an_edit_runs_the_edited_modules_mutants_anew_and_reports_none_of_its_old_results(
        tmp_path, monkeypatch):
    write_module(tmp_path, "def f(a):\n    return a + 1\n")
    (tmp_path / "tfae" / "graph" / "n.py").write_text("def g(b):\n    return b\n")
    runs = fake_group(tmp_path, monkeypatch, {"tfae.graph.m.x_f__mutmut_1": "killed",
                                              "tfae.graph.m.x_f__mutmut_2": "survived",
                                              "tfae.graph.n.x_g__mutmut_1": "killed",
                                              "tfae.graph.n.x_g__mutmut_2": "not checked"})
    write_module(tmp_path, "def f(a):\n    return a + 2\n")  # m edited since mutmut's run: its results are stale
    monkeypatch.setattr(mutation, "mutant_changes",
                        lambda modules, root: {f"{module}.x_f__mutmut_{i}": "" for module in modules for i in (1, 2)})
    tried = mutation.run_group("graph", sample=None, resume=True)
    assert runs == [["tfae.graph.n.x_g__mutmut_2", "tfae.graph.m.x_f__mutmut_1", "tfae.graph.m.x_f__mutmut_2"]]
    assert tried == {"tfae.graph.n.x_g__mutmut_1": "killed"}  # the fake run left mutmut's old results of m


def test_a_mutmut_run_notes_the_modules_it_made_mutants_of_and_a_stopped_one_none(tmp_path, monkeypatch):
    write_module(tmp_path, "def f(a):\n    return a + 1\n")
    (tmp_path / "tfae" / "graph" / "n.py").write_text("def g(b):\n    return b\n")
    monkeypatch.setattr(mutation, "results", lambda _: {})
    monkeypatch.setattr(mutation, "RESULTS", tmp_path / "recorded.txt")

    def mutmut(made):  # a mutmut run that made the mutants of `made` (and then stopped, or ran)
        def call(*args, **kwargs):
            for module in made:
                for path in mutation._mutated_files(tmp_path, module)[:2]:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text("made")
            return 0
        return call

    monkeypatch.setattr(mutation.subprocess, "call", mutmut(["tfae.graph.m"]))  # stopped while making n's
    (tmp_path / "mutants").mkdir()
    mutation._mutmut_run(tmp_path, "graph", [])
    assert mutation.forget_edited(tmp_path, {"tfae.graph.m", "tfae.graph.n"}) == {"tfae.graph.n"}
    assert (tmp_path / "mutants" / "tfae" / "graph" / "m.py.meta").is_file()

    write_module(tmp_path, "def f(a):\n    return a + 2\n")  # m edited: its mutants and results are forgotten
    assert mutation.forget_edited(tmp_path, {"tfae.graph.m", "tfae.graph.n"}) == {"tfae.graph.m", "tfae.graph.n"}
    assert not any(path.exists() for path in mutation._mutated_files(tmp_path, "tfae.graph.m"))
    monkeypatch.setattr(mutation.subprocess, "call", mutmut(["tfae.graph.m", "tfae.graph.n"]))
    mutation._mutmut_run(tmp_path, "graph", [])
    assert mutation.forget_edited(tmp_path, {"tfae.graph.m", "tfae.graph.n"}) == set()


def test_a_groups_modules_are_named_as_mutmut_names_them():
    assert mutation.group_modules("engine") == {"tfae._engine", "tfae._engine.boundary", "tfae._engine.inference",
                                                "tfae._engine.tensorflow", "tfae._engine.training"}
    assert "tfae.layers.dense" in mutation.group_modules("layers")
    assert mutation.source_path("tfae._engine") == mutation.REPO / "tfae" / "_engine" / "__init__.py"


def test_a_stopped_mutmut_run_still_records_what_it_tried(tmp_path, monkeypatch):
    write_module(tmp_path, "def f(a):\n    return a + 1\n")
    (tmp_path / "mutants").mkdir()
    monkeypatch.setattr(mutation, "RESULTS", tmp_path / "recorded.txt")
    monkeypatch.setattr(mutation.subprocess, "call", lambda *args, **kwargs: -15)  # killed by a signal
    monkeypatch.setattr(mutation, "results", lambda _: {"tfae.graph.m.x_f__mutmut_1": "killed",
                                                        "tfae.graph.m.x_f__mutmut_2": "not checked"})
    with pytest.raises(SystemExit, match="mutmut failed on group 'graph'"):
        mutation._mutmut_run(tmp_path, "graph", [])
    assert mutation.recorded_results(root=tmp_path) == {"tfae.graph.m.x_f__mutmut_1": "killed"}


@pytest.mark.parametrize(("sample", "module", "pattern"), [
    ("7", None, "tfae.graph.*__mutmut_*7"), (None, "tfae.graph.m", "tfae.graph.m.*__mutmut_*"),
    ("3", "tfae.graph.m", "tfae.graph.m.*__mutmut_*3")])
def test_a_fresh_narrowed_run_names_its_mutants_by_pattern(tmp_path, monkeypatch, sample, module, pattern):
    runs = fake_group(tmp_path, monkeypatch, {})
    mutation.run_group("graph", sample=sample, module=module)
    assert runs == [[pattern]]
    assert not (tmp_path / "mutants").exists()  # a fresh run starts from no results


@pytest.mark.parametrize("module", ["tfae.graph.no_such_module", "tfae.graph", "tfae.layers.dense"])
def test_a_module_outside_the_chosen_group_is_refused_with_its_value(capsys, module):
    with pytest.raises(SystemExit):
        mutation.main(["--group", "graph", "--module", module])
    assert f"Received: --module={module}" in capsys.readouterr().err


def test_again_and_resume_together_are_refused(capsys):
    with pytest.raises(SystemExit):
        mutation.main(["--group", "graph", "--again", "--resume"])
    assert "--again and --resume are exclusive" in capsys.readouterr().err


def test_again_reruns_the_survivors_but_not_the_listed_equivalents_and_learns_the_test_map_afresh(tmp_path, monkeypatch):
    runs = fake_group(tmp_path, monkeypatch, {
        "tfae.graph.m.x_f__mutmut_1": "killed", "tfae.graph.m.x_f__mutmut_2": "survived",
        "tfae.graph.m.x_f__mutmut_3": "survived", "tfae.graph.m.x_f__mutmut_4": "no tests"},
        equivalent={"tfae.graph.m.x_f__mutmut_3": "same result"})
    mutation.run_group("graph", sample=None, again=True)
    assert runs == [["tfae.graph.m.x_f__mutmut_2", "tfae.graph.m.x_f__mutmut_4"]]
    assert not (tmp_path / "mutants" / "mutmut-stats.json").exists()


def test_the_engine_groups_run_a_subset_of_conformance_cases_that_all_exist():
    from tests import conformance

    for group in ("engine", "engine-jax"):
        names = mutation.ENVIRONMENTS[group]["TFAE_CONFORMANCE_CASES"]
        selected = conformance.selected_cases(names)
        assert [case.name for case in selected] == [c.name for c in conformance.CASES if c.name in names.split(",")]
        assert len(selected) == len(mutation.ENGINE_CONFORMANCE)
    assert conformance.selected_cases(None) is conformance.CASES
    with pytest.raises(ValueError) as error:
        conformance.selected_cases("defaults,no_such_case")
    assert str(error.value) == "Expected names of conformance cases. Received unknown: no_such_case"


def _listed(tmp_path, code, entries):
    """A tree under tmp_path with module tfae/m.py holding `code`, and an equivalents list of `entries`."""
    (tmp_path / "tfae").mkdir(exist_ok=True)
    (tmp_path / "tfae" / "m.py").write_text(code, encoding="utf-8")
    listing = tmp_path / "equivalent.txt"
    listing.write_text("# a comment stays\n" + "".join(f"{entry}\n" for entry in entries), encoding="utf-8")
    return listing


def test_an_edit_that_renumbers_a_listed_mutant_is_caught_and_the_update_follows_its_change(tmp_path):
    pytest.importorskip("mutmut", reason="mutmut is in the test extra")
    code = "def f(a):\n    return a + 1\n"
    _listed(tmp_path, code, [])
    name = next(n for n, change in mutation.mutant_changes({"tfae.m"}, tmp_path).items()
                if change == "-return a + 1\n+return a - 1")
    listing = _listed(tmp_path, code, [f"{name} a reason"])
    assert mutation.check_equivalents(path=listing, root=tmp_path) == [f"{name}: no fingerprint "
                                                                        "(--update-equivalents adds it)"]
    assert mutation.check_equivalents(update=True, path=listing, root=tmp_path) == []
    recorded = mutation.fingerprint("-return a + 1\n+return a - 1")
    assert listing.read_text(encoding="utf-8") == f"# a comment stays\n{name} [{recorded}] a reason\n"

    # An edit above the line: the same change now has another number.
    (tmp_path / "tfae" / "m.py").write_text("def f(a):\n    b = a * 2\n    return a + 1\n", encoding="utf-8")
    renamed = next(n for n, change in mutation.mutant_changes({"tfae.m"}, tmp_path).items()
                   if change == "-return a + 1\n+return a - 1")
    assert renamed != name
    assert mutation.check_equivalents(path=listing, root=tmp_path) == [
        f"{name}: its change [{recorded}] is now made by {renamed}"]
    assert mutation.check_equivalents(update=True, path=listing, root=tmp_path) == []
    assert listing.read_text(encoding="utf-8") == f"# a comment stays\n{renamed} [{recorded}] a reason\n"

    # The changed line gone: reported, not guessed.
    (tmp_path / "tfae" / "m.py").write_text("def f(a):\n    return a * 3\n", encoding="utf-8")
    assert mutation.check_equivalents(update=True, path=listing, root=tmp_path) == [
        f"{renamed}: its change [{recorded}] is now made by no mutant"]


def test_a_changed_default_argument_is_a_change_of_its_own_and_the_functions_name_is_not(tmp_path):
    pytest.importorskip("mutmut", reason="mutmut is in the test extra")
    _listed(tmp_path, "def f(a, b=False):\n    return a\n", [])
    changes = mutation.mutant_changes({"tfae.m"}, tmp_path)
    assert "-def (a, b=False):\n+def (a, b=True):" in changes.values()  # not an empty change, fingerprinted alike
    assert all("__mutmut" not in change for change in changes.values())


@pytest.mark.slow
def test_every_listed_equivalent_still_names_the_mutant_it_was_judged_on():
    pytest.importorskip("mutmut", reason="mutmut is in the test extra")
    assert mutation.check_equivalents() == []
