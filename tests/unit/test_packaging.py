"""How the functions ship: zip functions on the core layer, media functions as one image.

No Docker here, so the image is not built in the tests; what can be checked without it is:
every handler loads the way the Lambda runtime loads it, a zip function imports nothing its
layer does not install (nothing from the media stack, which does not fit in a zip), and the
layer's and the image's dependencies are the pinned ones of requirements.lock.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from reelforge.local.template import function_handler, load_template

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "core"
FUNCTIONS = {k: v for k, v in load_template(ROOT / "template.yaml")["Resources"].items()
             if v["Type"] == "AWS::Serverless::Function"}
IMAGE = {k for k, v in FUNCTIONS.items() if v["Properties"].get("PackageType") == "Image"}
ZIP = set(FUNCTIONS) - IMAGE
# The media stack: hundreds of MB installed, so only the image may import it.
MEDIA_MODULES = {"av", "cv2", "ctranslate2", "faster_whisper", "imageio_ffmpeg", "numpy",
                 "onnxruntime", "scenedetect", "yt_dlp"}


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement line ("pydantic[email]>=2" -> pydantic)."""
    return re.split(r"[\[<>=!~;\s]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name_part, _, version = line.partition("==")
            pins[_name(name_part)] = version.strip()
    return pins


def _imports(path: Path, package: str) -> set[str]:
    """Every module a file imports, at the top or inside functions (lazy imports count)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _third_party_closure(handler_file: Path) -> set[str]:
    """Top-level third-party modules reachable from a handler through reelforge's modules."""
    seen: set[str] = set()
    third_party: set[str] = set()
    todo = [(handler_file, "")]
    while todo:
        path, package = todo.pop()
        for module in _imports(path, package):
            top = module.split(".")[0]
            if top == "reelforge":
                if module in seen:
                    continue
                seen.add(module)
                as_dir = PACKAGE / module.replace(".", "/")
                if (as_dir / "__init__.py").exists():
                    todo.append((as_dir / "__init__.py", module))
                elif as_dir.with_suffix(".py").exists():
                    todo.append((as_dir.with_suffix(".py"), module.rsplit(".", 1)[0]))
            elif top and top not in sys.stdlib_module_names and top != "__future__":
                third_party.add(top)
    return third_party


def _handler_file(logical: str) -> tuple[Path, str]:
    code_uri, handler = function_handler(FUNCTIONS[logical]["Properties"])
    module, func = handler.rsplit(".", 1)
    return ROOT / code_uri / f"{module.replace('.', '/')}.py", func


def test_the_template_has_both_kinds() -> None:
    assert "ApiFunction" in IMAGE and "ClipsTranscribeFunction" in IMAGE
    assert sorted(ZIP) == ["CleanupFunction"]


@pytest.mark.parametrize("logical", sorted(FUNCTIONS))
def test_handler_file_exists_and_defines_the_handler(logical: str) -> None:
    path, func = _handler_file(logical)
    assert path.exists(), path
    assert re.search(rf"^(def {func}\(|{func} = )", path.read_text(), re.M), f"{func} not in {path}"


def test_image_handlers_import_as_the_lambda_runtime_imports_them() -> None:
    """awslambdaric turns "functions/steps/x/app.handler" into import functions.steps.x.app,
    with the task root (the image's copy of the repository layout) on sys.path."""
    modules = []
    for logical in sorted(IMAGE):
        props = FUNCTIONS[logical]["Properties"]
        module, func = props["ImageConfig"]["Command"][0].rsplit(".", 1)
        modules.append((module.replace("/", "."), func))
    script = ("import importlib\n"
              f"for module, func in {modules!r}:\n"
              "    assert callable(getattr(importlib.import_module(module), func)), module\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AWS_DEFAULT_REGION": "us-east-1",
           "TABLE_NAME": "t", "BUCKET_NAME": "b", "JWT_SECRET": "x" * 40,
           "POWERTOOLS_TRACE_DISABLED": "true"}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize("logical", sorted(ZIP))
def test_zip_functions_import_only_what_the_layer_installs(logical: str) -> None:
    imported = _third_party_closure(_handler_file(logical)[0])
    assert imported, "the closure walk found nothing: it is broken"
    assert not imported & MEDIA_MODULES, f"{logical} needs the media stack: make it an image"
    layer = _pins(PACKAGE / "requirements.txt")
    distributions = packages_distributions()
    missing = {m for m in imported
               if not {_name(d) for d in distributions.get(m, [m])} & set(layer)
               and m not in ("botocore",)}  # botocore comes with boto3
    assert not missing, f"{logical} imports {missing}, which layers/core/requirements.txt lacks"


def test_the_closure_walk_sees_lazy_imports() -> None:
    """The walk must follow imports inside functions, or the zip check above proves nothing."""
    assert {"faster_whisper", "ctranslate2"} <= _third_party_closure(
        ROOT / "functions" / "steps" / "clips" / "transcribe" / "app.py")


def test_layer_pins_match_the_lock() -> None:
    lock = _pins(ROOT / "requirements.lock")
    for name, version in _pins(PACKAGE / "requirements.txt").items():
        assert version, f"{name} is not pinned in layers/core/requirements.txt"
        assert lock.get(name) == version, f"{name}: layer {version}, lock {lock.get(name)}"


def test_every_runtime_dependency_is_locked() -> None:
    """The image installs pyproject's dependencies with the lock as constraints: all pinned."""
    lock = _pins(ROOT / "requirements.lock")
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert not [d for d in deps if _name(d) not in lock]


def test_image_functions_share_the_dockerfile() -> None:
    dockerfile = ROOT / "functions" / "Dockerfile"
    text = dockerfile.read_text()
    for logical in IMAGE:
        meta = FUNCTIONS[logical]["Metadata"]
        assert (ROOT / meta["DockerContext"] / meta["Dockerfile"]) == dockerfile
    assert "COPY layers/core/reelforge/ reelforge/" in text and "COPY functions/ functions/" in text
    assert "-c /tmp/build/requirements.lock" in text


def test_the_image_entry_point_runs_reelforge_commands_for_batch(tmp_path: Path) -> None:
    """The GPU Batch task's command ("reelforge step clips/transcribe ...") reaches the CLI; the
    python3.11 the script calls is this interpreter here, the system one in the image."""
    wrapper = tmp_path / "python3.11"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    wrapper.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["/bin/sh", ROOT / "functions" / "entrypoint.sh", "reelforge", "step",
                           "--help"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "--job-id" in proc.stdout and "--video-key" in proc.stdout
