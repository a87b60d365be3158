"""The layout of the house: how modules import each other, supported Streamlit only, the README's layout."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import ROOT

# Streamlit's public modules (its API reference documents these and nothing below them).
PUBLIC_STREAMLIT_MODULES = {
    "streamlit",
    "streamlit.testing.v1",
    "streamlit.components.v1",
    "streamlit.column_config",
}
# The wire protocol a browser speaks to /_stcore/stream (protobuf messages, built and read, never patched):
# tests/stclient.py drives a real `portal serve` with it, as the rush and page benchmarks and the two-server
# test need. Only test and benchmark code may use it (checked below).
WIRE_PROTOCOL_MODULES = {
    "streamlit.proto.BackMsg_pb2",
    "streamlit.proto.ForwardMsg_pb2",
    "streamlit.proto.WidgetStates_pb2",
}


def _module_name(path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (ROOT / rel).with_suffix(".py").is_file() or (ROOT / rel / "__init__.py").is_file()


def import_graph(folders=("portal",)) -> dict[str, set[str]]:
    """Module -> the modules of this repository it imports, anywhere in the file (a lazy import
    inside a function ties modules as much as one at the top).

    ``from pkg import name`` names the submodule ``pkg.name`` when there is one, else ``pkg``.
    """
    graph: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = _module_name(path)
            package = module if path.name == "__init__.py" else module.rpartition(".")[0]
            targets: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    targets.update(a.name for a in node.names)
                elif isinstance(node, ast.ImportFrom):
                    if node.level:
                        base = package.split(".")[: len(package.split(".")) - node.level + 1]
                        source = ".".join(base + ([node.module] if node.module else []))
                    else:
                        source = node.module or ""
                    for alias in node.names:
                        sub = f"{source}.{alias.name}"
                        targets.add(sub if _is_module(sub) else source)
            graph[module] = {t for t in targets if _is_module(t) and t != module}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_no_import_circle_among_the_portal_modules():
    """A lower layer never calls up into a feature: no module reaches itself through its imports."""
    assert _circles(import_graph()) == []


def _schema_edits(path) -> list[str]:
    """SQL in code (not in a docstring) that switches ``PRAGMA writable_schema`` on."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    return [
        f"{node.lineno}: {node.value.strip()[:60]}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and "writable_schema" in node.value.lower()
    ]


def test_no_module_edits_the_schema_table():
    """A table that ``ALTER TABLE`` cannot change is rebuilt through sqlite-utils' transform
    (portal/migrations.py), never edited in ``sqlite_master`` under ``PRAGMA writable_schema``, where a
    slip corrupts the file and no foreign key, trigger or constraint is checked."""
    offenders = {
        str(path.relative_to(ROOT)): found
        for folder in ("portal", "pages")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (found := _schema_edits(path))
    }
    assert not offenders, offenders


def test_the_schema_edit_check_sees_one(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""No PRAGMA writable_schema here."""\ndb.execute("PRAGMA writable_schema = ON")\n')
    assert [f.split(":")[0] for f in _schema_edits(module)] == ["2"]


def with_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph with what Python runs too: importing ``pkg.module`` from outside ``pkg`` runs
    ``pkg/__init__.py`` first, and with it every name the package hands on. A circle through a
    package's ``__init__`` fails at import time as surely as a direct one."""
    out = {module: set(targets) for module, targets in graph.items()}
    for module, targets in graph.items():
        for target in targets:
            parts = target.split(".")
            for n in range(1, len(parts)):
                package = ".".join(parts[:n])
                if not module.startswith(package + ".") and package in graph:
                    out[module].add(package)
    return out


def test_no_import_circle_through_a_package():
    """A lower layer never reaches a feature's package whose ``__init__`` brings the caller back."""
    assert _circles(with_packages(import_graph())) == []


def test_the_package_circle_check_sees_one():
    graph = {"a": {"b.low"}, "b": {"b.low", "b.high"}, "b.low": set(), "b.high": {"a"}}
    assert _circles(graph) == []
    assert _circles(with_packages(graph)) == [["a", "b", "b.high"]]


# The layer that sends the features' messages: the dispatcher (``portal notify run``) and the scans of
# what is due, which read the features (tomorrow's bookings, open cases, quotas). Each feature writes its
# own messages to the outbox below it (portal/notify/outbox.py); only the command line runs the sending.
SENDING = {"portal.notify.dispatch", "portal.notify.scan"}
ABOVE_SENDING = {"portal.cli", "portal.__main__"}  # and the command line's modules (portal/cli/)


def _above_sending(module: str) -> bool:
    return module in ABOVE_SENDING or module.startswith("portal.cli.")


def test_no_feature_imports_the_layer_that_sends_its_messages():
    graph = with_packages(import_graph())
    reaching = {module for module in graph if _reach(graph, module) & SENDING} - SENDING
    assert all(_above_sending(m) for m in reaching), sorted(m for m in reaching if not _above_sending(m))
    assert not _reach(graph, "portal.notify.outbox") & {
        m for m in graph if "portal.notify.outbox" in graph[m]
    }


def _unexplained_imports_in_functions(path) -> list[str]:
    """Imports inside a function without a comment saying why: on the import's line, or on the
    line above it (or above the imports it is grouped with)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for function in ast.walk(ast.parse("\n".join(lines))):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            above = node.lineno - 2
            while above >= 0 and lines[above].strip().startswith(("import ", "from ")):
                above -= 1
            said = "#" in lines[node.end_lineno - 1] or (above >= 0 and lines[above].strip().startswith("#"))
            if not said:
                found.append(f"{node.lineno}: {lines[node.lineno - 1].strip()}")
    return sorted(set(found))


def test_every_import_inside_a_function_says_why():
    """An import belongs at the top of its module. One inside a function is there for a reason it
    states: a circle it breaks, or a heavy library a command or module must not load for nothing."""
    offenders = {
        str(path.relative_to(ROOT)): found
        for folder in ("portal", "pages")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (found := _unexplained_imports_in_functions(path))
    }
    assert not offenders, offenders


def test_the_import_reason_check_sees_one_without(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "def a():\n    import json  # here: only for a\n\n"
        "def b():\n    # here: both, only for b\n    import csv\n    import io\n\n"
        "def c():\n    import re\n",
        encoding="utf-8",
    )
    assert _unexplained_imports_in_functions(module) == ["10: import re"]


def test_the_circle_check_sees_a_circle():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_whoever_changes_the_calendar_has_every_calendar_hook_registered():
    """Hooks register when their module is imported (portal.hooks): every module that changes the
    calendar must import, directly or not, every module that registers one."""
    graph = import_graph(("portal", "pages"))
    owners, changers = set(), set()
    for module in graph:
        source = (ROOT / Path(*module.split("."))).with_suffix(".py")
        if not source.exists():
            source = ROOT / Path(*module.split(".")) / "__init__.py"
        body = source.read_text(encoding="utf-8")
        if "on_calendar_change" in body and module != "portal.hooks":
            owners.add(module)
        if module != "portal.workdays" and any(
            f"workdays.{name}(" in body for name in ("load_year", "set_override", "remove_override")
        ):
            changers.add(module)
    assert owners and changers
    for module in changers:
        assert owners <= _reach(graph, module), (module, owners - _reach(graph, module))


def test_the_command_line_has_every_calendar_hook_registered_when_it_starts():
    """``portal calendar load`` changes the calendar: the modules that listen must be imported when the
    command line starts, not only reachable through an import inside some other command's function."""
    owners = sorted(
        _module_name(path)
        for path in (ROOT / "portal").rglob("*.py")
        if "@hooks.on_calendar_change" in path.read_text(encoding="utf-8")
    )
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "import portal.cli, portal.hooks; print(sorted({h.__module__ for h in portal.hooks._calendar_hooks}))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert owners and found == str(owners)


def test_the_demo_is_imported_only_by_the_cli_and_the_tests():
    """Benchmarks (bench/) and tests build the demo too; the product's modules and pages never do."""
    graph = import_graph(("portal", "pages"))
    allowed = {"portal.cli", "portal.cli.instance"}  # portal demo
    offenders = {
        module: sorted(t for t in targets if t == "portal.demo" or t.startswith("portal.demo."))
        for module, targets in graph.items()
        if not (module == "portal.demo" or module.startswith("portal.demo.")) and module not in allowed
    }
    assert not {m: t for m, t in offenders.items() if t}


def _tracked_python_files() -> list:
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in names if (ROOT / name).is_file()]


def _private_streamlit_uses(path) -> list[str]:
    """Imports of Streamlit's internal modules, and ``_private`` attributes reached from a Streamlit name.

    A Streamlit name is one bound by an import of ``streamlit`` (``st``, ``AppTest``, …); an
    attribute chain starting from it may not contain a name with one leading underscore.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    streamlit_names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "streamlit":
                    if alias.name not in PUBLIC_STREAMLIT_MODULES:
                        found.append(f"{node.lineno}: import {alias.name}")
                    streamlit_names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "streamlit":
            if node.module not in PUBLIC_STREAMLIT_MODULES:
                found.append(f"{node.lineno}: from {node.module} import …")
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
                streamlit_names.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain, base = [node.attr], node.value
        while isinstance(base, ast.Attribute):
            chain.append(base.attr)
            base = base.value
        private = any(a.startswith("_") and not a.startswith("__") for a in chain)
        if private and isinstance(base, ast.Name) and base.id in streamlit_names:
            found.append(f"{node.lineno}: {base.id}.{'.'.join(reversed(chain))}")
    return found


def test_no_file_touches_a_private_streamlit_attribute():
    offenders = {}
    for path in _tracked_python_files():
        uses = _private_streamlit_uses(path)
        if path.relative_to(ROOT).parts[0] in ("tests", "bench"):
            uses = [u for u in uses if not any(f"from {m} import …" in u for m in WIRE_PROTOCOL_MODULES)]
        if uses:
            offenders[str(path.relative_to(ROOT))] = sorted(set(uses))
    assert not offenders, offenders


def test_the_private_streamlit_check_sees_a_patch(tmp_path):
    patch = tmp_path / "patch.py"
    patch.write_text(
        "import streamlit as st\n"
        "from streamlit.runtime.pages_manager import PagesManager\n"
        "PagesManager.uses_pages_directory = False\n"
        "st._main._rerun()\n",
        encoding="utf-8",
    )
    uses = _private_streamlit_uses(patch)
    assert any("streamlit.runtime" in u for u in uses)
    assert any("st._main" in u for u in uses)


def test_no_pages_folder_beside_the_entry_script():
    """Streamlit routes a pages/ folder beside the entry script by itself (every file a page)."""
    from portal import config

    assert config.ENTRY_SCRIPT.is_file()
    assert not (config.ENTRY_SCRIPT.parent / "pages").exists()


def _declared() -> dict[str, str]:
    """Distribution name (normalized) -> its requirement, from pyproject's dependencies."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {}
    for requirement in project["dependencies"]:
        name = re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]
        declared[re.sub(r"[-_.]+", "-", name).lower()] = requirement
    return declared


def test_every_third_party_import_of_the_product_is_declared():
    """What portal/ and pages/ import must be in pyproject's dependencies, not arrive by luck
    as another package's dependency (pandas and altair come with streamlit today)."""
    distributions = importlib.metadata.packages_distributions()
    declared = _declared()
    missing = set()
    for folder in ("portal", "pages"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    names = [node.module or ""]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in sys.stdlib_module_names or top in ("portal", "pages"):
                        continue
                    dists = {re.sub(r"[-_.]+", "-", d).lower() for d in distributions.get(top, [top])}
                    if not dists & declared.keys():
                        missing.add(f"{top} ({path.relative_to(ROOT)})")
    assert not missing, sorted(missing)


def test_libraries_whose_internals_we_use_are_pinned_to_the_tested_minor_version():
    """record_form's fast renderer calls docxtpl's render steps one by one and python-docx's
    serialize_part_xml; frontend_zh rewrites Streamlit's built frontend files; sheets.py streams
    rows through openpyxl's write-only worksheet internals; sso.py reads CAS attributes with
    cassyy.core.parse_cas_xml: a new minor version may change any of them."""
    declared = _declared()
    for name in ("docxtpl", "python-docx", "streamlit", "openpyxl", "cassyy"):
        installed = importlib.metadata.version(name)
        minor = ".".join(installed.split(".")[:2])
        major, minor_no = minor.split(".")
        assert f"<{major}.{int(minor_no) + 1}" in declared[name].replace(" ", ""), declared[name]
        assert f">={minor}" in declared[name].replace(" ", ""), declared[name]


def test_libraries_with_wide_apis_stop_before_their_next_major_version():
    """The pages and the importers use much of pandas, altair and lxml; a major version changes
    behaviour silently (pandas 3's copy-on-write and string dtype) rather than failing an import."""
    declared = _declared()
    for name in ("pandas", "altair", "lxml", "sqlite-utils", "pydantic"):
        major = int(importlib.metadata.version(name).split(".")[0])
        assert f"<{major + 1}" in declared[name].replace(" ", "").split(","), declared[name]


def _layout() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## 项目结构")[1].split("\n## ")[0]


_PATH_LIKE = re.compile(r"^[\w.][\w./-]*$")
_SUFFIXES = (".py", ".toml", ".docx", ".md", ".json")


def layout_paths() -> list[Path]:
    """Each path the layout names. A path is read from the root when its first folder stands
    there, else from the folder of its bullet: ``- `portal/` `` for its sub-bullets, and a
    sub-bullet headed ``- `demo/` `` for its own line (``portal/demo/``)."""
    found = []
    top = sub = ROOT
    for line in _layout().splitlines():
        head = re.match(r"^(\s*)- `([^`]+/)`", line)
        bullet = re.match(r"^(\s*)- ", line)
        if bullet and not bullet.group(1):
            top = sub = ROOT / head.group(2) if head else ROOT
        elif bullet:
            sub = top / head.group(2) if head else top
        for n, token in enumerate(re.findall(r"`([^`]+)`", line)):
            if not (_PATH_LIKE.match(token) and ("/" in token or token.endswith(_SUFFIXES))):
                continue
            if (ROOT / token.split("/")[0]).exists() and "/" in token:
                found.append(ROOT / token)
            elif head and n == 0:  # the bullet's own folder
                found.append((ROOT if not bullet.group(1) else top) / token)
            else:
                found.append(sub / token)
    return found


# A module holds one job; past this it mixes jobs along seams it already has (issue 22 item 10). The
# migrations (append-only history) and the demo generator (data, not code paths) are exempt.
MODULE_LINES_MAX = 600
LONG_MODULES_ALLOWED = {"portal/migrations.py"}


def long_modules(root: Path) -> dict[str, int]:
    """The modules of ``root``/portal over ``MODULE_LINES_MAX`` lines, outside the exempt ones."""
    found = {}
    for path in sorted((root / "portal").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if name in LONG_MODULES_ALLOWED or name.startswith("portal/demo/"):
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MODULE_LINES_MAX:
            found[name] = lines
    return found


def test_no_module_in_portal_is_over_600_lines():
    assert long_modules(ROOT) == {}


def test_the_module_length_check_sees_a_long_module(tmp_path):
    (tmp_path / "portal" / "demo").mkdir(parents=True)
    (tmp_path / "portal" / "long.py").write_text("x = 1\n" * 601, encoding="utf-8")
    (tmp_path / "portal" / "short.py").write_text("x = 1\n" * 600, encoding="utf-8")
    (tmp_path / "portal" / "migrations.py").write_text("x = 1\n" * 900, encoding="utf-8")
    (tmp_path / "portal" / "demo" / "big.py").write_text("x = 1\n" * 900, encoding="utf-8")
    assert long_modules(tmp_path) == {"portal/long.py": 601}


def test_every_path_the_readme_layout_names_exists():
    paths = layout_paths()
    assert len(paths) > 40
    assert [str(p.relative_to(ROOT)) for p in paths if not p.exists()] == []


def test_every_test_sits_in_a_tier_folder():
    """A test's tier is the folder it sits in (tests/conftest.py marks it): a test file anywhere else
    would carry no tier and run in none of the README's tiers."""
    from tests.conftest import TIERS

    tests = ROOT / "tests"
    stray = sorted(
        str(path.relative_to(ROOT))
        for path in tests.rglob("test_*.py")
        if path.relative_to(tests).parts[0] not in TIERS
    )
    assert stray == []
    assert all((tests / tier).is_dir() for tier in TIERS)


def test_the_readme_layout_names_every_module_and_folder():
    named = set()
    for path in layout_paths():
        named |= {path.resolve(), *path.resolve().parents}
    modules = [
        p for p in (ROOT / "portal").rglob("*.py") if p.name != "__init__.py" or p.parent != ROOT / "portal"
    ]
    folders = {
        ROOT / name.split("/")[0]
        for name in subprocess.run(
            ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
        if "/" in name
    }
    unnamed = sorted(str(p.relative_to(ROOT)) for p in [*modules, *folders] if p.resolve() not in named)
    assert unnamed == []


CHOICE_WIDGETS = {"selectbox", "radio", "multiselect", "segmented_control", "pills", "select_slider"}
CHANGING = {"status", "state", "status_label", "state_label"}  # what a label may not hold
COUNTING = {"len", "sum"}


def _changing_choice_labels(path) -> list[str]:
    """Choice widgets whose option labels hold something that changes: a state, or a count.

    Streamlit sends a choice back as the label the user saw. A label changed by the first tap of a
    double tap (待接待 → 已签到, 余 8 → 已预约) is not in the list when the second arrives, and the
    choice falls back to another option, which the second tap then acts on. What changes is shown
    beside the choice (a caption, the panel below it), never in its label.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    defined: dict[str, ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            defined[node.targets[0].id] = node.value
        elif isinstance(node, ast.FunctionDef):
            defined[node.name] = node

    def changing(node: ast.AST, seen: set[str]) -> list[str]:
        hits = []
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and sub.attr in CHANGING:
                hits.append(sub.attr)
            elif isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id in COUNTING:
                hits.append(f"{sub.func.id}()")
            elif (
                isinstance(sub, ast.Name)
                and sub.id not in seen
                and isinstance(defined.get(sub.id), (ast.Dict, ast.DictComp, ast.FunctionDef, ast.Lambda))
            ):
                hits += changing(defined[sub.id], seen | {sub.id})
        return hits

    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in CHOICE_WIDGETS:
            continue
        for kw in node.keywords:
            if kw.arg == "format_func" and (hits := changing(kw.value, set())):
                found.append(f"{node.lineno}: {node.func.attr} labels hold {', '.join(sorted(set(hits)))}")
    return found


def test_no_choice_label_holds_a_state_or_a_count():
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in sorted((ROOT / "pages").glob("*.py"))
        if (found := _changing_choice_labels(path))
    }
    assert not offenders, offenders


def test_the_choice_label_check_sees_a_state_in_a_label(tmp_path):
    page = tmp_path / "page.py"
    page.write_text(
        "import streamlit as st\n"
        "labels = {b.id: f'{b.name}（{b.status_label}）' for b in items}\n"
        "st.selectbox('来访人', list(labels), format_func=labels.get, key='visitor')\n"
        "def day_label(d):\n"
        "    return f'{d} 余 {sum(1 for s in grid if s.free)} 个'\n"
        "st.radio('接待日', days, format_func=day_label)\n",
        encoding="utf-8",
    )
    found = _changing_choice_labels(page)
    assert len(found) == 2 and "status_label" in found[0] and "sum()" in found[1]


def _multiselects_without_a_select_all_decision(path) -> list[str]:
    """``st.multiselect`` calls that leave ``select_all`` to Streamlit's default (offered up to 1,000
    options): every list says whether selecting all of it makes sense (a filter) or not (the
    targets an official record names, roles, API scopes)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{node.lineno}: multiselect without select_all"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "multiselect"
        and not any(kw.arg == "select_all" for kw in node.keywords)
    ]


def test_every_multiselect_decides_whether_to_offer_select_all():
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in sorted((ROOT / "pages").glob("*.py"))
        if (found := _multiselects_without_a_select_all_decision(path))
    }
    assert not offenders, offenders


def test_every_download_is_its_owners():
    """A download button's data goes through ``common.owned``: the server serves its bytes to the
    user the page built them for and nobody else (portal/downloads.py)."""
    offenders = []
    for path in sorted((ROOT / "pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "download_button"):
                continue
            data = next((k.value for k in node.keywords if k.arg == "data"), None)
            data = data if data is not None else (node.args[1] if len(node.args) > 1 else None)
            owned = isinstance(data, ast.Call) and "owned" in (
                getattr(data.func, "attr", ""),
                getattr(data.func, "id", ""),
            )
            if not owned:
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders


def test_every_page_with_an_uploader_is_known_to_the_upload_gate():
    """The server takes uploads only from users who may open a page in ``uploads.UPLOAD_PAGES``
    (portal/uploads.py): a page with an ``st.file_uploader`` missing there would have its
    uploads refused, and one listed without an uploader would let its users upload for nothing."""
    from portal import uploads

    with_uploader = {
        f"pages/{path.name}"
        for path in sorted((ROOT / "pages").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "file_uploader"
    }
    assert with_uploader == set(uploads.UPLOAD_PAGES)


# The address (URL path) of every page: users bookmark them and messages link to them, so a page
# renamed to say what it holds keeps its address (navigation.PageSpec.address).
ADDRESSES = {
    "account", "activities", "activity_log", "admin_audit", "admin_calendar", "admin_import",
    "admin_notify", "admin_rules", "admin_users", "answers", "assessment", "assignments", "cases",
    "checkin", "dashboard", "home", "ledger", "my_bookings", "my_cases", "org_people",
    "reception_book", "reception_day", "reception_roster", "search", "standing",
}  # fmt: skip


def test_the_pages_are_named_for_what_they_hold():
    """记录联系活动 is a form, 联系活动记录 the list of what was recorded: the files said the opposite."""
    from portal import navigation

    titles = {page.path: page.title for page in navigation.PAGES}
    assert titles["pages/activity_form.py"] == "记录联系活动"
    assert titles["pages/activities.py"] == "联系活动记录"
    assert not (ROOT / "pages/activity_log.py").exists()
    assert all((ROOT / path).is_file() for path in titles)


def test_every_page_keeps_the_address_users_bookmarked():
    from portal import links, navigation

    assert {page.url_path for page in navigation.PAGES} == ADDRESSES
    assert navigation.spec("pages/activity_form.py").url_path == "activity_log"
    for page in navigation.PAGES:
        assert links.Link(page.path, {"id": "1"}).path == f"/{page.url_path}?id=1"
        assert navigation.return_path(f"/{page.url_path}?id=1") == f"/{page.url_path}?id=1"


def _messages_read_to_tell_errors_apart(source: str) -> list[int]:
    """Lines where code looks inside an exception's message (``exc.message.startswith(…)``,
    ``"…" in exc.message``, ``exc.message == …``) instead of catching a type."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            inner = node.func.value
            if node.func.attr in ("startswith", "endswith", "find", "index", "count") and (
                isinstance(inner, ast.Attribute)
                and inner.attr == "message"
                or isinstance(inner, ast.Call)
                and getattr(inner.func, "id", "") == "str"
            ):
                found.append(node.lineno)
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(isinstance(s, ast.Attribute) and s.attr == "message" for s in sides):
                found.append(node.lineno)
    return found


def test_no_page_reads_an_error_message_to_tell_errors_apart():
    """A page that treats one refusal differently (a seat taken meanwhile: choose another slot) catches
    its type (``errors.SeatTaken``); the message is for the user and may be reworded."""
    offenders = {
        path.name: lines
        for path in sorted((ROOT / "pages").glob("*.py"))
        if (lines := _messages_read_to_tell_errors_apart(path.read_text(encoding="utf-8")))
    }
    assert not offenders, offenders


def test_the_message_check_sees_one():
    source = (
        "try:\n    book()\nexcept Conflict as exc:\n"
        "    if exc.message.startswith(SEAT_TAKEN):\n        pass\n"
        "    if '约满' in exc.message:\n        pass\n    st.error(exc.message)\n"
    )
    assert _messages_read_to_tell_errors_apart(source) == [4, 6]


def test_no_page_calls_a_streamlit_function_named_by_data():
    """``getattr(st, kind)(text)`` on what session state holds calls whatever attribute the value
    names: pages say a notice through a fixed table of kinds (``pages/state.py``)."""
    offenders = []
    for path in sorted((ROOT / "pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", "") == "getattr"
                and getattr(node.args[0], "id", "") == "st"
                and not isinstance(node.args[1], ast.Constant)
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders


def _session_keys(folder: Path) -> dict[str, dict[str, set[str]]]:
    """Per page module of ``folder``: the session-state keys it reads or writes by name (``used``) and
    the keys of its widgets (``widgets``). A key built with an f-string counts by its fixed text
    (``_confirm_{}``); a module constant (``CASE_KEY``, ``case_desk.NEXT_KEY``) by its value."""
    trees = {path.stem: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.py"))}
    constants = {
        name: {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name) and isinstance(node.value.value, str)
        }
        for name, tree in trees.items()
    }

    def key(module: str, node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        if isinstance(node, ast.Name):
            return constants[module].get(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return constants.get(node.value.id, {}).get(node.attr)
        return None

    def is_state(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "session_state"

    found: dict[str, dict[str, set[str]]] = {}
    for module, tree in trees.items():
        keys: dict[str, set[str]] = {"used": set(), "widgets": set()}
        for node in ast.walk(tree):
            named, kind = None, "used"
            if isinstance(node, ast.Subscript) and is_state(node.value):
                named = key(module, node.slice)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and is_state(node.func.value)
                and node.func.attr in ("get", "pop", "setdefault")
                and node.args
            ):
                named = key(module, node.args[0])
            elif isinstance(node, ast.Compare) and any(is_state(c) for c in node.comparators):
                named = key(module, node.left)
            elif isinstance(node, ast.keyword) and node.arg == "key":
                named, kind = key(module, node.value), "widgets"
            if named is not None:
                keys[kind].add(named)
        found[module] = keys
    return found


def _keys_shared_outside_the_accessor(folder: Path) -> dict[str, list[str]]:
    """Keys a page reads or writes by name (not its own widget's) that another page also uses."""
    found = {m: k for m, k in _session_keys(folder).items() if m != "state"}
    shared: dict[str, list[str]] = {}
    for module, keys in found.items():
        for name in sorted(keys["used"] - keys["widgets"]):
            others = [m for m, k in found.items() if m != module and name in k["used"] | k["widgets"]]
            if others:
                shared.setdefault(name, sorted({module, *others}))
    return shared


def test_a_session_key_shared_by_pages_goes_through_the_accessor():
    """What one page keeps for another (a notice said on the next page, the case a link opens, the
    session itself, kept by pages/common.py for every page) is named once, typed, in pages/state.py;
    a widget's key read on its own page only may stay there."""
    assert _keys_shared_outside_the_accessor(ROOT / "pages") == {}


def test_the_shared_key_check_sees_one(tmp_path):
    (tmp_path / "a.py").write_text(
        'import streamlit as st\nNEXT = "next"\nst.session_state["said"] = "保存了"\n'
        'st.session_state[NEXT] = 3\nst.radio("日", [1], key="day")\nst.session_state.pop("day", None)\n',
        encoding="utf-8",
    )
    (tmp_path / "b.py").write_text(
        "import streamlit as st\nimport a\nif said := st.session_state.pop('said', None):\n    st.success(said)\n"
        "st.session_state.pop(a.NEXT, None)\nst.selectbox('日', [1], key='day')\n",
        encoding="utf-8",
    )
    assert _keys_shared_outside_the_accessor(tmp_path) == {"next": ["a", "b"], "said": ["a", "b"]}


def test_a_page_keeps_state_by_name_only_for_its_own_widgets():
    """What a page keeps for its next run (a notice said once, a filter, a dialog left open, a file
    made) is declared in pages/state.py with its type, like what it keeps for other pages; only the
    keys of its own widgets are written on the page itself."""
    kept = {
        module: sorted(keys["used"] - keys["widgets"])
        for module, keys in _session_keys(ROOT / "pages").items()
        if module != "state" and keys["used"] - keys["widgets"]
    }
    assert kept == {}


def test_a_part_of_a_page_that_reruns_alone_checks_the_session_itself():
    """A fragment's own rerun runs without the entry script that checks the session on a whole run:
    a page's fragments are ``common.page_fragment``s (the session, the user and the roles checked
    again), never a bare ``st.fragment``. Besides page_fragment's own, the one exception only redraws
    a build's progress bar."""
    allowed = {("common.py", "run"), ("common.py", "build_progress")}
    bare = []
    for path in sorted((ROOT / "pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and (path.name, node.name) not in allowed:
                for decorator in node.decorator_list:
                    called = decorator.func if isinstance(decorator, ast.Call) else decorator
                    if ast.unparse(called) == "st.fragment":
                        bare.append(f"{path.name}: {node.name}")
    assert not bare, bare
