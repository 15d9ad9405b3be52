"""The layers hold by name too: import-linter sees imports, not the ties made through a
string. A module may reverse() only routes of its own layer or one below it, and call only
the SQL functions that the migrations of its own layer or one below it create."""

import ast
import re
from pathlib import Path

from django.conf import settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
# Highest first, as pyproject.toml's import-linter contract lists them.
LAYERS = ["config", "api", "webhooks", "claims", "sources"]

ROUTE = re.compile(r"""\bpath\(\s*["'][^"']*["'].*?\bname=["']([\w-]+)["']""", re.S)
REVERSED = re.compile(r"""\breverse\(\s*["']([\w-]+)["']""")  # admin:… names excluded
FUNCTION_MADE = re.compile(r"CREATE (?:OR REPLACE )?FUNCTION (claimtrail_\w+)", re.I)
FUNCTION_CALLED = re.compile(r"\b(claimtrail_\w+)\(")


def code(layer: str, root: Path = ROOT) -> list[Path]:
    return [p for p in (root / layer).rglob("*.py") if "migrations" not in p.parts]


def owners(pattern: re.Pattern[str], files_of: dict[str, list[Path]]) -> dict[str, str]:
    """{name: the lowest layer whose files define it}."""
    found: dict[str, str] = {}
    for layer in LAYERS:  # the lower layers later: they win
        for path in files_of[layer]:
            for name in pattern.findall(path.read_text(encoding="utf-8")):
                found[name] = layer
    return found


def ties(used: re.Pattern[str], owner_of: dict[str, str], root: Path = ROOT) -> list[str]:
    """Each use, in a layer's code, of a name owned by a layer above it."""
    wrong = []
    for rank, layer in enumerate(LAYERS):
        for path in code(layer, root):
            for name in used.findall(path.read_text(encoding="utf-8")):
                owner = owner_of.get(name)
                if owner is not None and LAYERS.index(owner) < rank:
                    wrong.append(f"{path.relative_to(root)} uses {name} of {owner}/")
    return wrong


def test_no_layer_reverses_a_route_of_a_layer_above_it() -> None:
    routes = owners(ROUTE, {layer: list((ROOT / layer).glob("urls.py")) for layer in LAYERS})

    assert {"claim-page", "datapackage", "claim-list"} <= set(routes)  # the check sees them
    assert ties(REVERSED, routes) == []


def test_no_layer_calls_a_sql_function_of_a_layer_above_it() -> None:
    made = owners(
        FUNCTION_MADE, {layer: list((ROOT / layer).glob("migrations/*.py")) for layer in LAYERS}
    )

    assert made.get("claimtrail_csv_safe") == "sources"
    assert ties(FUNCTION_CALLED, made) == []


def test_the_check_sees_a_tie_upward(tmp_path: Path) -> None:
    routes = {"datapackage": "api"}
    for layer in LAYERS:
        (tmp_path / layer).mkdir()
    (tmp_path / "sources" / "sneaky.py").write_text('reverse("datapackage")\n', encoding="utf-8")

    assert ties(REVERSED, routes, tmp_path) == ["sources/sneaky.py uses datapackage of api/"]


def test_the_exports_link_to_the_data_package_by_setting(db: None) -> None:
    assert reverse("datapackage") == settings.DATA_PACKAGE_PATH


def app_imports(path: Path) -> list[str]:
    """The modules of our own packages that a file imports."""
    ours = ("config", "api", "claims", "sources", "bench")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    names += [
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
    ]
    return [name for name in names if name.split(".")[0] in ours]


def test_the_export_engine_imports_no_app_code() -> None:
    """It takes what it needs (the data package's URL) as parameters."""
    engine = ROOT / "sources" / "export_engine.py"

    assert app_imports(engine) == []
    assert app_imports(ROOT / "sources" / "exports.py")  # the check sees imports


def test_each_admin_is_registered_once_where_its_model_lives() -> None:
    """No app replaces another's admin (admin.site.unregister): the one in the model's own
    app is the one that runs."""
    from django.contrib import admin

    for model, model_admin in admin.site._registry.items():
        app = model._meta.app_label
        if app in LAYERS:
            assert type(model_admin).__module__ == f"{app}.admin", model
    for layer in LAYERS:
        for path in code(layer):
            assert "site.unregister(" not in path.read_text(encoding="utf-8"), path
