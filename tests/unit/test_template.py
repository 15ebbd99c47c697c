"""template.yaml and the state machines: linted, fully substituted, handlers present."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reelforge.local.template import Resolver, load_template, substitute_definition

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TEMPLATE = load_template(ROOT / "template.yaml")
MACHINES = {k: v for k, v in TEMPLATE["Resources"].items() if v["Type"] == "AWS::Serverless::StateMachine"}


def _offline_env(tmp_path: Path) -> dict[str, str]:
    # SAM CLI checks PyPI for updates unless it believes it checked recently.
    (tmp_path / "metadata.json").write_text(json.dumps({"lastVersionCheck": time.time()}))
    return {**os.environ, "__SAM_CLI_APP_DIR": str(tmp_path), "SAM_CLI_TELEMETRY": "0",
            "AWS_DEFAULT_REGION": "us-east-1"}


def test_sam_validate_lint(tmp_path: Path) -> None:
    proc = subprocess.run([BIN / "sam", "validate", "--lint", "-t", ROOT / "template.yaml"],
                          capture_output=True, text=True, env=_offline_env(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "is a valid SAM Template" in proc.stdout + proc.stderr


def test_cfn_lint(tmp_path: Path) -> None:
    proc = subprocess.run([BIN / "cfn-lint", ROOT / "template.yaml"], capture_output=True, text=True,
                          env=_offline_env(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("logical", sorted(MACHINES))
def test_every_placeholder_has_a_substitution(logical: str) -> None:
    props = MACHINES[logical]["Properties"]
    text = (ROOT / props["DefinitionUri"]).read_text()
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", text))
    subs = set(props["DefinitionSubstitutions"])
    assert placeholders - subs == set(), "placeholders without a substitution"
    assert subs - placeholders == set(), "substitutions nothing uses"


@pytest.mark.parametrize("logical", sorted(MACHINES))
def test_statelint_after_substitution(logical: str, tmp_path: Path) -> None:
    props = MACHINES[logical]["Properties"]
    resolver = Resolver(TEMPLATE)
    for name, _spec in TEMPLATE["Resources"].items():
        resolver.refs[name] = f"{name}-physical"
        resolver.arns[name] = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    resolver.parameters.update({"GpuJobQueueArn": "arn:aws:batch:us-east-1:123456789012:job-queue/gpu",
                                "GpuJobDefinitionArn": "arn:aws:batch:us-east-1:123456789012:job-definition/t:1"})
    subs = resolver.resolve(props["DefinitionSubstitutions"])
    out = tmp_path / "machine.json"
    out.write_text(substitute_definition((ROOT / props["DefinitionUri"]).read_text(), subs))
    json.loads(out.read_text())
    proc = subprocess.run([BIN / "statelint", out], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_task_failure_is_caught_and_marks_the_job_failed() -> None:
    for props in (m["Properties"] for m in MACHINES.values()):
        states = json.loads((ROOT / props["DefinitionUri"]).read_text())["States"]
        for name, state in states.items():
            if state["Type"] in ("Task", "Parallel", "Map") and not name.startswith("Mark"):
                targets = {c["Next"] for c in state.get("Catch", []) if "States.ALL" in c["ErrorEquals"]}
                assert len(targets) == 1, f"{name} must Catch States.ALL"
                marker = states[targets.pop()]
                assert marker["Type"] == "Task" and marker["Next"] == "Failed", name
