"""The layout rules of DESIGN.md ("Layout"), checked on the source tree.

- a module outside the surfaces (top-level modules, api/, ai/, media/, local/, projects/)
  imports no surface, except the two WIRING modules that compose them;
- a surface never imports another surface, its `__init__.py` stays empty and it has the
  same file names as every other surface;
- media/ never imports boto3 or anything that talks to AWS;
- every step folder's handler resolves to its surface's steps.py, and the template runs it.

Imports are read from the AST, lazy ones inside functions included. The checks are plain
functions over a package directory, so the last tests run them on a small tree that breaks
each rule and assert that each break is reported.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from reelforge.local.template import function_handler, load_template

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "core" / "reelforge"
STEPS = ROOT / "functions" / "steps"

SURFACES = ("clips", "editor", "narrate", "studio", "works")
SHARED_PACKAGES = ("api", "ai", "media", "local", "projects", "assets", "synth")
SURFACE_FILES = ("__init__.py", "router.py", "schemas.py", "service.py", "steps.py")
# The modules whose job is to compose the surfaces (DESIGN: "WIRING").
WIRING = ("api/app.py", "api/routes_export.py", "cli.py")
# What talks to AWS: the toolkit in media/ must run without it.
AWS_MODULES = ("boto3", "botocore", "reelforge.aws", "reelforge.store", "reelforge.blobs",
               "reelforge.jobs", "reelforge.workflow")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from reelforge import clips` imports the package reelforge.clips
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _surface_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "reelforge" and parts[1] in SURFACES else None


def layout_violations(package: Path) -> list[str]:
    out: list[str] = []
    for sub in sorted(p for p in package.iterdir() if p.is_dir() and p.name != "__pycache__"):
        if sub.name not in SURFACES + SHARED_PACKAGES:
            out.append(f"{sub.name}/: not a known surface or shared package (add it to test_layout)")
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        own = rel.split("/")[0] if "/" in rel else None
        imports = imported_modules(path)
        used = {s for s in map(_surface_of, imports) if s}
        if own in SURFACES:
            for other in sorted(used - {own}):
                out.append(f"{rel}: surface {own} imports surface {other}")
        elif used and rel not in WIRING:
            out.append(f"{rel}: shared code imports surface(s) {', '.join(sorted(used))}")
        if own == "media":
            for mod in sorted(imports):
                if any(mod == bad or mod.startswith(bad + ".") for bad in AWS_MODULES):
                    out.append(f"{rel}: media/ imports {mod}")
    for surface in SURFACES:
        folder = package / surface
        if not folder.is_dir():
            continue
        missing = [f for f in SURFACE_FILES if not (folder / f).is_file()]
        if missing:
            out.append(f"{surface}/: missing {', '.join(missing)}")
        init = folder / "__init__.py"
        if init.is_file() and init.read_text().strip():
            out.append(f"{surface}/__init__.py: not empty (step Lambdas must not import FastAPI)")
    return out


def step_folder_violations(steps_root: Path, package: Path) -> list[str]:
    """functions/steps/<surface>/<step>/app.py is `lambda_step(<step>_step)` of that surface."""
    out: list[str] = []
    for app in sorted(steps_root.glob("*/*/app.py")):
        surface, step = app.parent.parent.name, app.parent.name
        if surface not in SURFACES:
            out.append(f"steps/{surface}/: not a surface")
            continue
        imports = imported_modules(app)
        if f"reelforge.{surface}.steps.{step}_step" not in imports:
            out.append(f"steps/{surface}/{step}/app.py: does not run reelforge.{surface}.steps.{step}_step")
        steps_py = package / surface / "steps.py"
        defined = {n.name for n in ast.parse(steps_py.read_text()).body
                   if isinstance(n, ast.FunctionDef)} if steps_py.is_file() else set()
        if f"{step}_step" not in defined:
            out.append(f"steps/{surface}/{step}: {surface}/steps.py has no {step}_step")
    stray = [p for p in steps_root.glob("*/app.py")]
    out += [f"{p.relative_to(steps_root.parent)}: a step outside steps/<surface>/" for p in stray]
    return out


def test_the_tree_keeps_the_layout_rules() -> None:
    assert layout_violations(PACKAGE) == []


def test_every_step_folder_runs_its_surfaces_step() -> None:
    assert step_folder_violations(STEPS, PACKAGE) == []


@pytest.mark.parametrize("app", sorted(STEPS.glob("*/*/app.py")), ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_every_step_handler_imports_and_is_deployed(app: Path) -> None:
    module = importlib.import_module(app.relative_to(ROOT).with_suffix("").as_posix().replace("/", "."))
    assert callable(module.handler)
    template = load_template(ROOT / "template.yaml")
    handlers = {function_handler(r["Properties"])[1]: name
                for name, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    command = f"{app.relative_to(ROOT).with_suffix('').as_posix()}.handler"
    assert command in handlers, f"no function in template.yaml runs {command}"
    surface, step = app.parent.parent.name, app.parent.name
    expected = f"{surface.capitalize()}{''.join(w.capitalize() for w in step.split('_'))}Function"
    assert handlers[command] == expected, "template logical ids are <Surface><Step>Function"


# --- the checks catch what they are meant to catch ---------------------------------------------


def _write(root: Path, rel: str, text: str = "") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_checks_report_each_kind_of_break(tmp_path: Path) -> None:
    pkg = tmp_path / "reelforge"
    for surface in ("clips", "editor"):
        for name in SURFACE_FILES:
            _write(pkg, f"{surface}/{name}")
    _write(pkg, "editor/service.py", "def f():\n    from reelforge.clips.service import KIND\n")
    _write(pkg, "jobs.py", "from reelforge import editor\n")
    _write(pkg, "cli.py", "from reelforge.clips import demo\n")  # WIRING: allowed
    _write(pkg, "media/render.py", "import boto3\nfrom reelforge.blobs import Blobs\n")
    _write(pkg, "clips/__init__.py", "from reelforge.clips.router import router\n")
    (pkg / "clips" / "steps.py").unlink()
    _write(pkg, "misc/thing.py")
    found = layout_violations(pkg)
    assert "editor/service.py: surface editor imports surface clips" in found
    assert "jobs.py: shared code imports surface(s) editor" in found
    assert not any(v.startswith("cli.py") for v in found)
    assert "media/render.py: media/ imports boto3" in found
    assert "media/render.py: media/ imports reelforge.blobs" in found
    assert any(v.startswith("clips/__init__.py: not empty") for v in found)
    assert "clips/: missing steps.py" in found
    assert any(v.startswith("misc/") for v in found)

    steps = tmp_path / "steps"
    _write(pkg, "clips/steps.py", "def probe_step(event):\n    return event\n")
    _write(steps, "clips/probe/app.py", "from reelforge.clips.steps import probe_step\n")
    _write(steps, "clips/render/app.py", "from reelforge.clips.steps import probe_step\n")
    _write(steps, "publish/app.py", "")
    found = step_folder_violations(steps, pkg)
    assert found == ["steps/clips/render/app.py: does not run reelforge.clips.steps.render_step",
                     "steps/clips/render: clips/steps.py has no render_step",
                     "steps/publish/app.py: a step outside steps/<surface>/"]
