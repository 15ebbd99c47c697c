"""Read template.yaml (CloudFormation short tags included) and resolve its intrinsics.

Enough of CloudFormation for our own template: Ref, Fn::GetAtt, Fn::Sub, Fn::Split,
Fn::Join, Fn::If / Fn::Equals, and `{{resolve:secretsmanager:...}}` references.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(name: str) -> Callable[[yaml.Loader, yaml.Node], dict[str, Any]]:
    def construct(loader: yaml.Loader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _short, _long in {
    "Ref": "Ref", "GetAtt": "Fn::GetAtt", "Sub": "Fn::Sub", "Split": "Fn::Split",
    "Join": "Fn::Join", "If": "Fn::If", "Equals": "Fn::Equals", "Not": "Fn::Not",
    "Select": "Fn::Select", "GetAZs": "Fn::GetAZs", "And": "Fn::And", "Or": "Fn::Or",
}.items():
    _CfnLoader.add_constructor(f"!{_short}", _tag(_long))


def load_template(path: Path) -> dict[str, Any]:
    with open(path) as fh:
        return yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


_NO_VALUE = object()


def function_handler(props: dict[str, Any]) -> tuple[str, str]:
    """(code directory relative to the repository, handler "module.function") of a function.

    Zip functions name them in CodeUri and Handler; image functions (PackageType Image, built
    from the repository root) in ImageConfig.Command as "functions/steps/x/app.handler", which
    the Lambda runtime imports as the module functions.steps.x.app.
    """
    if props.get("PackageType") == "Image":
        return ".", props["ImageConfig"]["Command"][0]
    return props["CodeUri"], props["Handler"]


@dataclass
class Resolver:
    """Resolves intrinsic functions against locally assigned names and ARNs."""

    template: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    arns: dict[str, str] = field(default_factory=dict)  # logical id -> Arn attribute
    secrets: dict[str, str] = field(default_factory=dict)  # secret logical id -> value

    def __post_init__(self) -> None:
        for name, spec in self.template.get("Parameters", {}).items():
            self.parameters.setdefault(name, str(spec.get("Default", "")))

    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, "AWS::Partition": "aws",
            "AWS::StackName": "reelforge-local", "AWS::URLSuffix": "amazonaws.com",
        }

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            out = [self.resolve(v) for v in value]
            return [v for v in out if v is not _NO_VALUE]
        if isinstance(value, str):
            return self._dynamic_refs(value)
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                if attr != "Arn":
                    raise ValueError(f"GetAtt {logical}.{attr} is not supported locally")
                return self.arns[logical]
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Split":
                sep, text = arg
                return self.resolve(text).split(sep)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(i) for i in self.resolve(items))
            if key == "Fn::Equals":
                a, b = (self.resolve(x) for x in arg)
                return str(a) == str(b)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Fn::If":
                cond, yes, no = arg
                return self.resolve(yes if self.condition(cond) else no)
        out = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in self.pseudo():
            return self.pseudo()[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise KeyError(f"unresolvable Ref {name}")

    def _sub(self, arg: Any) -> str:
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def repl(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in extra:
                return str(extra[name])
            if "." in name:
                logical, attr = name.split(".", 1)
                if attr == "Arn":
                    return self.arns[logical]
            return str(self._ref(name))

        return self._dynamic_refs(re.sub(r"\$\{([A-Za-z0-9:._]+)\}", repl, text))

    def _dynamic_refs(self, text: str) -> str:
        def repl(m: re.Match[str]) -> str:
            secret_ref = m.group(1)
            for logical, arn in self.refs.items():
                if arn == secret_ref and logical in self.secrets:
                    return self.secrets[logical]
            raise KeyError(f"unknown secret {secret_ref}")

        return re.sub(r"\{\{resolve:secretsmanager:([^:}]+(?::[^:}]+){6})(?::[^}]*)?\}\}",
                      repl, text) if "{{resolve:" in text else text


def substitute_definition(definition: str, substitutions: dict[str, Any]) -> str:
    """Apply DefinitionSubstitutions to an ASL file; fail on a missing one."""

    def repl(m: re.Match[str]) -> str:
        if m.group(1) not in substitutions:
            raise KeyError(f"no DefinitionSubstitution for ${{{m.group(1)}}}")
        return str(substitutions[m.group(1)])

    return re.sub(r"\$\{([A-Za-z0-9_]+)\}", repl, definition)
