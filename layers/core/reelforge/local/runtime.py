"""EmbeddedAWS: moto's server on loopback, deployed from template.yaml, running our handlers.

- S3, DynamoDB, Step Functions, Lambda run in moto's `ThreadedMotoServer`, with its
  state-machine interpreter switched on.
- moto would run Lambda code in Docker; we route each invocation to the real handler
  named by the function's CodeUri + Handler (zip) or ImageConfig.Command (image), in this
  process.
- S3 -> Lambda notifications run on a worker thread, asynchronous as on AWS.
- Schedules (EventBridge `rate(...)`) fire from a timer thread.
- S3 GETs stream the object instead of copying it whole for every range (s3_streaming);
  DynamoDB requests run one at a time (moto restores whole tables on a failed transaction).
- One process holds every "Lambda": the heap is trimmed after each invocation and the
  whisper model is released after transcription (WHISPER_KEEP_LOADED=false).
- With a data directory, every acknowledged write is on disk and the next start brings it
  all back (durable.py, datadir.py); executions a stop or crash interrupted are marked
  failed by their machine's own MarkFailed step, and undelivered S3 notifications are sent
  again. Without a data directory, a temporary one (removed on stop); `in_memory=True`
  keeps nothing (only the benchmarks' baseline does).
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import io
import json
import logging
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import httpx

from reelforge.local import s3_streaming
from reelforge.local.datadir import DataDir
from reelforge.local.durable import Durable, event_object
from reelforge.local.faults import Faults
from reelforge.local.template import (
    ACCOUNT_ID,
    REGION,
    Resolver,
    function_handler,
    load_template,
    substitute_definition,
)

_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/reelforge-local"
_LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "WHISPER_KEEP_LOADED": "false",
}
# Where one machine differs from the cloud on purpose, over the template's values: the API
# serves video bytes itself (with Range) instead of redirecting to S3, which on loopback is
# moto, whose Range handling is not RFC 9110's. No WebSocket API endpoint: local sockets are
# the API app's own, and publish hands events to them in-process (realtime.LocalHub).
_EMBEDDED_OVER_TEMPLATE = {"VIDEO_DELIVERY": "proxy", "WEBSOCKET_ENDPOINT": ""}


def project_root() -> Path:
    """The directory holding template.yaml (the repo checkout)."""
    env = os.environ.get("REELFORGE_ROOT")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "template.yaml").exists():
            return parent
    raise FileNotFoundError("template.yaml not found; set REELFORGE_ROOT")


@dataclass
class LocalFunction:
    logical_id: str
    name: str
    code_dir: Path
    handler: str  # "module.function"
    timeout: int
    _module: ModuleType | None = None

    @property
    def handler_path(self) -> Path:
        module_name = self.handler.rsplit(".", 1)[0]
        return self.code_dir / f"{module_name.replace('.', '/')}.py"

    def load(self) -> Callable[[dict[str, Any], Any], Any]:
        func_name = self.handler.rsplit(".", 1)[1]
        if self._module is None:
            path = self.handler_path
            spec = importlib.util.spec_from_file_location(f"reelforge_fn_{self.logical_id}", path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            self._module = module
        return getattr(self._module, func_name)


class LambdaContext:
    """The attributes of the Lambda context object that handlers and powertools read."""

    def __init__(self, fn: LocalFunction) -> None:
        self.function_name = fn.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{fn.name}"
        self.memory_limit_in_mb = 1024
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{fn.name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + fn.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class EmbeddedAWS:
    """Start with `start()` (or as a context manager); `stop()` shuts it down."""

    def __init__(self, root: Path | None = None, *, port: int = 0, stage: str = "local",
                 parameters: dict[str, str] | None = None, schedules: bool = True,
                 data_dir: Path | None = None, in_memory: bool = False) -> None:
        """`data_dir`: where the data is kept (None: a temporary directory, removed on stop);
        `in_memory`: keep nothing (the benchmarks' baseline for what durability costs)."""
        self.root = root or project_root()
        self._temporary = data_dir is None and not in_memory
        self.data_dir = Path(tempfile.mkdtemp(prefix="reelforge-data-")) if self._temporary else data_dir
        self.data: DataDir | None = None
        self.durable: Durable | None = None
        self.restored_records = 0  # how many records the start replayed (0: a new directory)
        self.definitions: dict[str, dict[str, Any]] = {}  # state machine ARN -> its ASL
        self._resources: dict[str, Any] = {}
        self._dynamo_lock = threading.Lock()
        self.port = port
        self.stage = stage
        self.parameter_overrides = parameters or {}
        self.run_schedules = schedules
        self.functions: dict[str, LocalFunction] = {}
        self.state_machines: dict[str, str] = {}  # logical id -> ARN
        self.env: dict[str, str] = {}
        self._server: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._patches: list[tuple[Any, str, Any]] = []
        self._async_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="s3-trigger")
        self._stop = threading.Event()
        self._timers: list[threading.Thread] = []
        self.faults = Faults()  # REELFORGE_FAULTS, for the reliability tests (local/faults.py)

    # --- lifecycle ----------------------------------------------------------------------

    def __enter__(self) -> EmbeddedAWS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EmbeddedAWS:
        from moto.server import ThreadedMotoServer

        if self.data_dir is not None:  # first: a directory in use or damaged stops us here
            self.data = DataDir.open(self.data_dir)
            self.durable = Durable(self.data, self._dynamo_lock)
        _limit_malloc_arenas()
        self._set_env(_LOCAL_ENV)
        # moto logs every request, and every failed execution with its internals.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        # moto's state-machine interpreter calls Lambda at localhost:$MOTO_PORT.
        self._set_env({"MOTO_PORT": str(self.port), "AWS_ENDPOINT_URL": self.endpoint})
        # moto's state is per process: a second start in one process begins from nothing too.
        httpx.post(f"{self.endpoint}/moto-api/reset", timeout=30).raise_for_status()
        httpx.post(f"{self.endpoint}/moto-api/config",
                   json={"stepfunctions": {"execute_state_machine": True}}, timeout=10).raise_for_status()
        self._install_patches()
        self._deploy()
        if self.durable is not None:
            self.restored_records = self.durable.restore(self.endpoint)
            self.durable.compact()
            self.durable.recording = True
            if self.restored_records:
                self._recover()
        if self.run_schedules:
            self._start_schedules()
        return self

    def stop(self) -> None:
        """Stop serving; with a data directory, compact it so the next start reads one file."""
        self._stop.set()
        if self.durable is not None:
            if not self._temporary:
                self.durable.compact()
            self.durable.close()
            self.durable = None
        if self.data is not None:
            self.data.close()
            self.data = None
        if self._temporary and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        for obj, attr, original in reversed(self._patches):
            setattr(obj, attr, original)
        self._patches.clear()
        self._async_pool.shutdown(wait=False, cancel_futures=True)
        if self._server is not None:
            self._server.stop()
            self._server = None
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()
        from reelforge.settings import get_settings

        get_settings.cache_clear()

    def _set_env(self, values: dict[str, str]) -> None:
        for key, value in values.items():
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    # --- invoking handlers --------------------------------------------------------------

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Run a function's handler in-process, as Lambda would; raises what it raises."""
        fn = self.functions[logical_id]
        return fn.load()(event, LambdaContext(fn))

    def _invoke_for_moto(self, function_name: str, event: Any) -> tuple[str, bool, str]:
        fn = next((f for f in self.functions.values() if f.name == function_name), None)
        if fn is None:
            return json.dumps({"errorMessage": f"unknown function {function_name}",
                               "errorType": "ResourceNotFoundException"}), True, ""
        fault = self.faults.take(fn.logical_id)
        if fault == "permanent":
            return self._injected(fn, fault)
        try:
            result = fn.load()(event if event is not None else {}, LambdaContext(fn))
            return (json.dumps(result), False, "") if fault is None else self._injected(fn, fault)
        except Exception as exc:  # noqa: BLE001 - reported to the caller as Lambda does
            # The Lambda runtime reports the exception class as errorType; Step Functions
            # Retry/Catch match on it.
            payload = {"errorMessage": str(exc), "errorType": type(exc).__name__,
                       "stackTrace": traceback.format_exception(exc)[-3:]}
            return json.dumps(payload), True, ""
        finally:
            _release_freed_memory()

    @staticmethod
    def _injected(fn: LocalFunction, fault: str) -> tuple[str, bool, str]:
        print(f"[embedded-aws] injected fault: {fn.logical_id} {fault}", file=sys.stderr)
        payload = {"errorMessage": f"injected fault ({fault}) in {fn.logical_id}",
                   "errorType": Faults.error_type(fault)}
        return json.dumps(payload), True, ""

    def _install_patches(self) -> None:
        from moto.awslambda import models as lambda_models
        from moto.dynamodb.responses import DynamoHandler
        from moto.s3 import notifications
        from moto.s3.models import FakeKey
        from moto.s3.responses import S3Response
        from moto.server import DomainDispatcherApplication

        runtime = self

        def _invoke_lambda(fn_self: Any, event: Any = None) -> tuple[str, bool, str]:
            return runtime._invoke_for_moto(fn_self.function_name, event)

        def _invoke_awslambda(account_id: str, event_body: Any, fn_arn: str, region: str) -> None:
            name = fn_arn.rsplit(":", 1)[-1]
            if runtime.durable is None:
                runtime._notify(name, event_body)
            else:
                runtime.durable.after_write(lambda: runtime._notify(name, event_body))

        self._patch(lambda_models.LambdaFunction, "_invoke_lambda", _invoke_lambda)
        self._patch(notifications, "_invoke_awslambda", _invoke_awslambda)
        self._patch(FakeKey, "value", s3_streaming.streaming_value(FakeKey.value))
        key_response = s3_streaming.streaming_key_response(S3Response.key_response)
        self._patch(DomainDispatcherApplication, "__call__", s3_streaming.marks_http(DomainDispatcherApplication.__call__))
        if self.durable is None:
            self._patch(DynamoHandler, "call_action", _one_at_a_time(DynamoHandler.call_action, self._dynamo_lock))
            self._patch(S3Response, "key_response", key_response)
            return
        from moto.stepfunctions.parser.backend.execution import (
            BaseExecutionWorkerCommunication,
            Execution,
        )

        durable = self.durable
        self._patch(DynamoHandler, "call_action", durable.dynamo_call(DynamoHandler.call_action))
        self._patch(S3Response, "key_response", durable.s3_key_call(key_response))
        self._patch(S3Response, "bucket_response", durable.s3_bucket_call(S3Response.bucket_response))
        start, terminated = Execution.start, BaseExecutionWorkerCommunication.terminated

        def start_execution(execution: Any) -> None:
            durable.execution_started(execution)
            start(execution)

        def execution_terminated(comm: Any) -> None:
            terminated(comm)
            durable.execution_ended(comm.execution.exec_arn)

        self._patch(Execution, "start", start_execution)
        self._patch(BaseExecutionWorkerCommunication, "terminated", execution_terminated)

    def _notify(self, function_name: str, event: Any, nid: str | None = None) -> None:
        """An S3 notification, delivered on a worker thread as on AWS (and, with a data
        directory, recorded until it is done, so a restart delivers it again)."""
        if self.durable is not None and nid is None:
            nid = self.durable.notification_sent(function_name, event)
        self._async_pool.submit(self._run_async, function_name, event, nid)

    def _run_async(self, function_name: str, event: Any, nid: str | None) -> None:
        result, errored, _ = self._invoke_for_moto(function_name, event)
        if errored:
            print(f"[embedded-aws] async invocation of {function_name} failed: {result}",
                  file=sys.stderr)
        if self.durable is not None and nid is not None:
            self.durable.notification_done(nid)

    # --- after a restart ----------------------------------------------------------------

    def _recover(self) -> None:
        """Finish what the last stop interrupted: each execution that was running fails through
        its machine's MarkFailed step (so each surface undoes its own half-done state), S3
        notifications not yet handled are delivered again, and the scheduled cleanup runs once
        (it frees the slots those jobs held and fails any job left without an execution)."""
        assert self.durable is not None
        for arn, record in list(self.durable.running.items()):
            try:
                self._fail_interrupted(record)
            except Exception as exc:  # noqa: BLE001 - one bad record must not stop the start
                print(f"[embedded-aws] could not mark {arn} failed: {exc}", file=sys.stderr)
            self.durable.execution_ended(arn)
        for nid, record in list(self.durable.pending.items()):
            target = event_object(record["event"])
            if target is not None and self.durable.object_exists(*target):
                self._notify(record["function"], record["event"], nid)
            else:  # the upload itself was never acknowledged
                self.durable.notification_done(nid)
        self._async_pool.submit(lambda: None).result()  # notifications first, in order
        for logical, _ in self._schedules():
            try:
                self.invoke(logical, _scheduled_event())
            except Exception as exc:  # noqa: BLE001 - a failed cleanup must not stop the start
                print(f"[embedded-aws] {logical} after the restart failed: {exc}", file=sys.stderr)

    def _fail_interrupted(self, record: dict[str, Any]) -> None:
        definition = self.definitions.get(record["machine"])
        state = definition and definition["States"].get("MarkFailed")
        if not state or state.get("Type") != "Task":
            print(f"[embedded-aws] {record['arn']} was interrupted and its machine has no "
                  "MarkFailed task to run", file=sys.stderr)
            return
        data = json.loads(record.get("input") or "{}")
        data = _run_leading_passes(definition, data)
        data["error"] = _INTERRUPTED
        payload = _apply_parameters(state["Parameters"], data) if "Parameters" in state else data
        result, errored, _ = self._invoke_for_moto(state["Resource"].rsplit(":", 1)[-1], payload)
        if errored:
            print(f"[embedded-aws] marking {record['arn']} failed after the restart failed: {result}",
                  file=sys.stderr)

    def _patch(self, obj: Any, attr: str, value: Any) -> None:
        self._patches.append((obj, attr, getattr(obj, attr)))
        setattr(obj, attr, value)

    # --- deploying template.yaml ---------------------------------------------------------

    def _deploy(self) -> None:
        template = load_template(self.root / "template.yaml")
        resolver = Resolver(template, parameters={"Stage": self.stage, **self.parameter_overrides})
        resources = template["Resources"]
        by_type: dict[str, list[str]] = {}
        for logical, spec in resources.items():
            by_type.setdefault(spec["Type"], []).append(logical)

        self._assign_names(resources, resolver)
        self.env = {**self._function_env(template, resolver), **_EMBEDDED_OVER_TEMPLATE}
        self._set_env(self.env)
        from reelforge.settings import get_settings

        get_settings.cache_clear()

        dynamodb, s3 = boto3.client("dynamodb"), boto3.client("s3")
        boto3.client("iam").create_role(RoleName="reelforge-local", AssumeRolePolicyDocument="{}")
        for logical in by_type.get("AWS::DynamoDB::Table", []):
            dynamodb.create_table(**self._table_args(resolver.resolve(resources[logical]["Properties"]),
                                                      resolver.refs[logical]))
        for logical in by_type.get("AWS::S3::Bucket", []):
            self._create_bucket(s3, resolver.refs[logical], resolver.resolve(resources[logical]["Properties"]))
        for logical in by_type.get("AWS::Serverless::Function", []):
            self._create_function(logical, resources[logical], template, resolver)
        self._wire_s3_events(s3, resources, resolver)
        for logical in by_type.get("AWS::Serverless::StateMachine", []):
            self._create_state_machine(logical, resources[logical], resolver)
        self._resources = resources

    def _assign_names(self, resources: dict[str, Any], resolver: Resolver) -> None:
        prefix = f"reelforge-{self.stage}"
        for logical, spec in resources.items():
            props = spec.get("Properties", {}) or {}
            kind = spec["Type"]
            if kind == "AWS::S3::Bucket":
                name = resolver.resolve(props["BucketName"]) if "BucketName" in props else f"{prefix}-{logical}".lower()
                resolver.refs[logical] = name
                resolver.arns[logical] = f"arn:aws:s3:::{name}"
            elif kind == "AWS::DynamoDB::Table":
                name = f"{prefix}-{logical}"
                resolver.refs[logical] = name
                resolver.arns[logical] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
            elif kind == "AWS::Serverless::Function":
                name = f"{prefix}-{logical}"
                resolver.refs[logical] = name
                resolver.arns[logical] = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"
            elif kind == "AWS::Serverless::StateMachine":
                name = resolver.resolve(props["Name"]) if "Name" in props else f"{prefix}-{logical}"
                arn = f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{name}"
                resolver.refs[logical] = arn
                resolver.arns[logical] = arn
            elif kind == "AWS::SecretsManager::Secret":
                arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:{prefix}-{logical}-local"
                resolver.refs[logical] = arn
                # Kept in the data directory: tokens signed before a restart still verify.
                resolver.secrets[logical] = (self.data.secret(logical) if self.data is not None
                                             else secrets.token_urlsafe(48))
            elif kind == "AWS::Serverless::LayerVersion":
                resolver.refs[logical] = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:layer:{prefix}-{logical}:1"
            elif kind == "AWS::ApiGatewayV2::Api":
                # Not deployed locally (the API app serves the WebSocket itself); an id so that
                # the template's references to it resolve.
                resolver.refs[logical] = f"local{logical.lower()}"

    def _function_env(self, template: dict[str, Any], resolver: Resolver) -> dict[str, str]:
        """All functions share this process, so their environments are merged."""
        env = dict(template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
        for spec in template["Resources"].values():
            if spec["Type"] == "AWS::Serverless::Function":
                env.update(spec["Properties"].get("Environment", {}).get("Variables", {}))
        return {k: str(v) for k, v in resolver.resolve(env).items()}

    @staticmethod
    def _table_args(props: dict[str, Any], name: str) -> dict[str, Any]:
        args = {k: props[k] for k in ("AttributeDefinitions", "KeySchema", "BillingMode") if k in props}
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        return {"TableName": name, **args}

    @staticmethod
    def _create_bucket(s3: Any, name: str, props: dict[str, Any]) -> None:
        s3.create_bucket(Bucket=name)
        cors = props.get("CorsConfiguration")
        if cors:
            # CloudFormation spells two CORS fields differently from the S3 API.
            renames = {"ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds", "Id": "ID"}
            rules = [{renames.get(k, k): v for k, v in r.items()} for r in cors["CorsRules"]]
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
        lifecycle = props.get("LifecycleConfiguration")
        if lifecycle:
            rules = []
            for rule in lifecycle["Rules"]:
                out: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"],
                                       "Filter": {"Prefix": rule.get("Prefix", "")}}
                if "ExpirationInDays" in rule:
                    out["Expiration"] = {"Days": rule["ExpirationInDays"]}
                if "AbortIncompleteMultipartUpload" in rule:
                    out["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
                rules.append(out)
            s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})

    def _create_function(self, logical: str, spec: dict[str, Any], template: dict[str, Any],
                         resolver: Resolver) -> None:
        props = spec["Properties"]
        glob = template.get("Globals", {}).get("Function", {})
        code_uri, handler = function_handler(props)
        fn = LocalFunction(
            logical_id=logical,
            name=resolver.refs[logical],
            code_dir=self.root / code_uri,
            handler=handler,
            timeout=int(props.get("Timeout", glob.get("Timeout", 3))),
        )
        if not fn.handler_path.exists():
            raise FileNotFoundError(f"{logical}: handler file {fn.handler_path} is missing")
        self.functions[logical] = fn
        # Registered in moto as a zip function whatever its package type: moto only needs a
        # name to invoke, and the invocation runs the handler in-process (_invoke_for_moto).
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("app.py", "# runs in-process, see reelforge.local.runtime\n")
        boto3.client("lambda").create_function(
            FunctionName=fn.name, Runtime="python3.11", Role=_ROLE_ARN, Handler=fn.handler,
            Code={"ZipFile": buf.getvalue()}, Timeout=fn.timeout,
        )

    @staticmethod
    def _wire_s3_events(s3: Any, resources: dict[str, Any], resolver: Resolver) -> None:
        per_bucket: dict[str, list[dict[str, Any]]] = {}
        for logical, spec in resources.items():
            if spec["Type"] != "AWS::Serverless::Function":
                continue
            for event_id, event in (spec["Properties"].get("Events") or {}).items():
                if event["Type"] != "S3":
                    continue
                props = event["Properties"]
                bucket = resolver.resolve(props["Bucket"])
                events = props["Events"] if isinstance(props["Events"], list) else [props["Events"]]
                cfg: dict[str, Any] = {"Id": f"{logical}-{event_id}", "Events": events,
                                       "LambdaFunctionArn": resolver.arns[logical]}
                rules = props.get("Filter", {}).get("S3Key", {}).get("Rules")
                if rules:
                    cfg["Filter"] = {"Key": {"FilterRules": rules}}
                per_bucket.setdefault(bucket, []).append(cfg)
        for bucket, configs in per_bucket.items():
            s3.put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": configs})

    def _create_state_machine(self, logical: str, spec: dict[str, Any], resolver: Resolver) -> None:
        props = spec["Properties"]
        definition = (self.root / props["DefinitionUri"]).read_text()
        subs = resolver.resolve(props.get("DefinitionSubstitutions", {}))
        arn = resolver.refs[logical]
        definition = substitute_definition(definition, subs)
        boto3.client("stepfunctions").create_state_machine(
            name=arn.rsplit(":", 1)[-1], definition=definition, roleArn=_ROLE_ARN,
        )
        self.state_machines[logical] = arn
        self.definitions[arn] = json.loads(definition)

    def _schedules(self) -> list[tuple[str, float]]:
        """(function logical id, interval in seconds) of each Schedule event in the template."""
        return [(logical, _rate_seconds(event["Properties"]["Schedule"]))
                for logical, spec in self._resources.items() if spec["Type"] == "AWS::Serverless::Function"
                for event in (spec["Properties"].get("Events") or {}).values() if event["Type"] == "Schedule"]

    def _start_schedules(self) -> None:
        for logical, interval in self._schedules():
            t = threading.Thread(target=self._timer, args=(logical, interval), daemon=True,
                                 name=f"schedule-{logical}")
            t.start()
            self._timers.append(t)

    def _timer(self, logical: str, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.invoke(logical, _scheduled_event())
            except Exception as exc:  # noqa: BLE001 - a failed run must not stop the timer
                print(f"[embedded-aws] scheduled {logical} failed: {exc}", file=sys.stderr)


def _one_at_a_time(call_action: Callable[[Any], Any], lock: threading.Lock) -> Callable[[Any], Any]:
    """Serialise moto's DynamoDB requests (why: Durable.dynamo_call, which does the same and
    records the writes)."""

    @functools.wraps(call_action)
    def serialised(handler: Any) -> Any:
        with lock:
            return call_action(handler)

    return serialised


def _scheduled_event() -> dict[str, Any]:
    return {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {},
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


# The Catch result an interrupted execution's MarkFailed step gets (errors.Interrupted).
_INTERRUPTED = {"Error": "Interrupted", "Cause": json.dumps(
    {"errorType": "Interrupted", "errorMessage": "interrupted by a restart of reelforge"})}


def _run_leading_passes(definition: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Apply the machine's first Pass states (its defaults) as the execution did."""
    name = definition["StartAt"]
    while (state := definition["States"].get(name)) and state["Type"] == "Pass":
        result = _apply_parameters(state["Parameters"], data) if "Parameters" in state else state.get("Result", data)
        path = state.get("ResultPath", "$")
        if path == "$":
            data = result
        elif path is not None:
            data = {**data, path.removeprefix("$."): result}  # one level: what our machines use
        name = state.get("Next", "")
    return data


def _apply_parameters(template: Any, data: dict[str, Any]) -> Any:
    """ASL Parameters: "key.$": "$.path" takes a value from the input (None where absent)."""
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$") and isinstance(value, str) and value.startswith("$"):
                out[key[:-2]] = _json_path(data, value)
            else:
                out[key] = _apply_parameters(value, data)
        return out
    return template


def _json_path(data: Any, path: str) -> Any:
    for part in [p for p in path.removeprefix("$").split(".") if p]:
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _release_freed_memory() -> None:
    """Give the heap that a finished step freed back to the OS (glibc keeps it otherwise).

    Every step runs in this one process locally, so whisper's buffers freed after
    transcription would otherwise still count when the clips render. Lambda gets this for
    free: each function is its own process.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _limit_malloc_arenas(arenas: int = 4) -> None:
    """Steps run on many threads here; glibc gives threads their own heaps (up to 8 per core),
    and what one step frees in its heap cannot serve the next step's thread. Measured on the
    clips benchmark: 4 arenas peak at 0.92 GiB, uncapped at 1.03 GiB; 2 cost CPU.

    Blocks of 1 MiB and more (frames, audio windows, model buffers) are mapped on their own
    and go back to the system when freed, instead of glibc raising its mmap threshold after
    the first frees and keeping them in the heap: 0.99 GiB instead of 1.04-1.08 GiB peak in
    one benchmark run, all targets met (the transcribe stage took more CPU, the render less)."""
    if _LIBC is not None:
        _LIBC.mallopt(_M_ARENA_MAX, arenas)
        _LIBC.mallopt(_M_MMAP_THRESHOLD, 1 << 20)


_M_ARENA_MAX = -8  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3


def _load_libc() -> Any:
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:  # not glibc (macOS, musl): nothing to trim
        return None


_LIBC = _load_libc()


def _rate_seconds(expr: str) -> float:
    m = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", expr.strip())
    if not m:
        raise ValueError(f"unsupported schedule {expr!r} (use rate(N unit))")
    unit = {"minute": 60, "hour": 3600, "day": 86400}[m.group(2).rstrip("s")]
    return int(m.group(1)) * unit


def load_api_app(root: Path) -> Any:
    """The ASGI app exactly as the API Lambda builds it (functions/api/app.py)."""
    path = root / "functions" / "api" / "app.py"
    spec = importlib.util.spec_from_file_location("reelforge_fn_ApiFunction", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.app
