"""transforms/ stays pure: no orchestration, UI, database connections or file I/O (STYLE.md principle 2)."""

import ast
from pathlib import Path

TRANSFORMS = Path(__file__).resolve().parents[2] / "transforms"
FORBIDDEN_IMPORTS = {"prefect", "streamlit", "duckdb", "great_expectations", "pathlib", "os", "shutil", "io"}


def test_transforms_import_no_io_orchestration_or_ui():
    offenders = []
    for path in TRANSFORMS.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in FORBIDDEN_IMPORTS]
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "open":
                offenders.append(f"{path.name}: open()")
    assert offenders == []


def test_sql_models_are_select_only():
    for path in (TRANSFORMS / "sql").rglob("*.sql"):
        body = "\n".join(line for line in path.read_text().splitlines() if not line.strip().startswith("--"))
        assert body.lstrip().upper().startswith(("SELECT", "WITH")), path
        for verb in ("INSERT ", "UPDATE ", "DELETE ", "CREATE ", "DROP ", "ATTACH ", "INSTALL "):
            assert verb not in body.upper(), (path, verb)


def test_the_attempts_record_needs_only_the_standard_library():
    """securebase/attempts.py is read by the refresh and by the dashboard: it stays small and self-contained."""
    import sys

    tree = ast.parse((TRANSFORMS.parent / "securebase" / "attempts.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported and {name.split(".")[0] for name in imported} <= set(sys.stdlib_module_names) | {"__future__"}


def test_the_dashboard_and_the_refresh_share_only_securebase_and_transforms():
    """The dashboard imports nothing of pipelines/ (settings, the warehouse's layout and the attempts record are in
    securebase/), and securebase/ imports neither of them."""
    root = TRANSFORMS.parent
    offenders = []
    for folder, forbidden in (("dashboard", {"pipelines"}), ("securebase", {"pipelines", "dashboard"})):
        for path in (root / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                names += [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
                offenders += [f"{folder}/{path.name}: {n}" for n in names if n.split(".")[0] in forbidden]
    assert offenders == []
