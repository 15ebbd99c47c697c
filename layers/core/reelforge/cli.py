"""`reelforge` command line: serve the API on the embedded AWS, mint tokens, run the clips job."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import secrets
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, NoReturn

import httpx

LOCAL_USER_FILE = Path.home() / ".cache" / "reelforge" / "local-user.json"
DEFAULT_SCOPES = "projects:read,projects:write,works:read,works:write,ai:analyze,ai:generate,jobs:read"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reelforge", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    from reelforge.local.datadir import default_data_dir

    serve = sub.add_parser("serve", help="start the embedded AWS and the API on 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data-dir", type=Path, default=default_data_dir(),
                       help="where users, projects, jobs and files are kept "
                            "(default: $REELFORGE_DATA_DIR, else %(default)s)")
    serve.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE",
                       help="a template.yaml parameter, as `sam deploy --parameter-overrides` takes "
                            "it (e.g. JobRetentionSeconds=3600, MaxConcurrentJobs=2)")

    backup = sub.add_parser("backup", help="copy a data directory into a tar, while it is served or not")
    backup.add_argument("archive", type=Path)
    backup.add_argument("--data-dir", type=Path, default=default_data_dir())
    restore = sub.add_parser("restore", help="unpack a backup into a data directory (the server stopped)")
    restore.add_argument("archive", type=Path)
    restore.add_argument("--data-dir", type=Path, default=default_data_dir())
    restore.add_argument("--replace", action="store_true",
                         help="move the directory's current data aside (DIR.before-restore-TIME) first")

    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="print a new API token for the local user")
    create.add_argument("--scopes", default=DEFAULT_SCOPES, help="comma-separated scopes")
    create.add_argument("--name", default="cli")
    create.add_argument("--url", default="http://127.0.0.1:8000", help="a running `reelforge serve`")

    from reelforge.clips.schemas import ProcessOptions

    proc = sub.add_parser("process", help="run the clips pipeline on a file or URL",
                          description="The clips job of POST /api/process, on the embedded AWS; "
                                      "the options are the API's.")
    proc.add_argument("source", help="a video file path or an http(s) URL")
    proc.add_argument("--out", required=True, type=Path, help="directory for clips and manifest")
    proc.add_argument("--gemini-key", default=os.environ.get("GEMINI_API_KEY"),
                      help="use Gemini for moment selection (default: the local provider)")
    add_model_options(proc, ProcessOptions, aliases={"clip_count": ["--clips"]})

    step = sub.add_parser("step", help="run one pipeline step (the GPU container's entry point)")
    step.add_argument("name", help="SURFACE/STEP, e.g. clips/transcribe")
    step.add_argument("--job-id", required=True)
    step.add_argument("--video-key", required=True)
    step.add_argument("--options", default="{}")

    args = parser.parse_args(argv)
    from reelforge.local.datadir import DataDirError

    try:
        return _run(parser, args)
    except DataDirError as exc:
        print(f"reelforge: {exc}", file=sys.stderr)
        return 2


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "serve":
        return _serve(args.port, args.data_dir, _parameters(args.parameter))
    if args.command == "backup":
        from reelforge.local.datadir import backup

        done = backup(args.data_dir, args.archive)
        print(f"backed up {args.data_dir} to {args.archive}: {done['records']} records, "
              f"{done['objects']} objects, {done['bytes'] / 1e6:.1f} MB")
        return 0
    if args.command == "restore":
        from reelforge.local.datadir import restore

        moved = restore(args.archive, args.data_dir, replace=args.replace)
        print(f"restored {args.archive} into {args.data_dir}" + (f" (the old data is in {moved})" if moved else ""))
        return 0
    if args.command == "token":
        return _token_create(args.url, args.name, args.scopes)
    if args.command == "process":
        from reelforge.clips.demo import run_process
        from reelforge.clips.schemas import ProcessOptions

        try:
            options = options_from_args(args, ProcessOptions)
        except ValueError as exc:
            parser.error(str(exc))
        return run_process(args.source, args.out, options=options, gemini_key=args.gemini_key)
    if args.command == "step":
        step = _step_function(args.name)
        out = step({"job_id": args.job_id, "video_key": args.video_key,
                    "options": json.loads(args.options)})
        print(json.dumps(out))
        return 0
    return 2


def add_model_options(parser: argparse.ArgumentParser, model: Any,
                      aliases: dict[str, list[str]] | None = None) -> None:
    """One flag per field of a pydantic model (`--min-duration`...), with its type, choices,
    default and description: the CLI takes exactly what the API takes."""
    group = parser.add_argument_group("options (the API's fields)")
    for name, info in model.model_fields.items():
        flags = [f"--{name.replace('_', '-')}", *(aliases or {}).get(name, [])]
        kind, choices = _flag_type(info.annotation)
        text = f"{info.description or name} (default: {info.default})"
        if kind is bool:
            group.add_argument(*flags, dest=name, action=argparse.BooleanOptionalAction,
                               default=None, help=text)
        else:
            group.add_argument(*flags, dest=name, type=kind, choices=choices, default=None,
                               help=text, metavar=None if choices else name.upper())


def options_from_args(args: argparse.Namespace, model: Any) -> Any:
    """The model from the flags given (the others keep the model's defaults); ValueError with
    the model's own message when a value is out of range."""
    from pydantic import ValidationError

    given = {n: getattr(args, n) for n in model.model_fields if getattr(args, n, None) is not None}
    try:
        return model(**given)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ()))
        raise ValueError(f"--{where.replace('_', '-')}: {err['msg']}" if where else err["msg"]) from None


def _flag_type(annotation: Any) -> tuple[Any, list[str] | None]:
    """argparse's type and choices for a field annotation (Optional, Literal, int, float...)."""
    import types
    import typing

    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Annotated:
        return _flag_type(args[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return _flag_type(args[0])
    if typing.get_origin(annotation) is typing.Literal:
        return str, [str(a) for a in args]
    return (annotation if annotation in (int, float, bool) else str), None


def _step_function(name: str) -> Any:
    """`surface/step` -> reelforge.<surface>.steps.<step>_step, the code its Lambda runs."""
    surface, _, step = name.partition("/")
    if not (surface.isidentifier() and step.isidentifier()):
        raise SystemExit(f"reelforge step: expected SURFACE/STEP (e.g. clips/transcribe), got {name!r}")
    try:
        return getattr(importlib.import_module(f"reelforge.{surface}.steps"), f"{step}_step")
    except (ImportError, AttributeError):
        raise SystemExit(f"reelforge step: no step {name!r}") from None


def _parameters(pairs: list[str]) -> dict[str, str]:
    from reelforge.local.runtime import project_root
    from reelforge.local.template import load_template

    known = load_template(project_root() / "template.yaml").get("Parameters", {})
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in known:
            raise SystemExit(f"reelforge serve: --parameter takes NAME=VALUE with a template parameter "
                             f"NAME ({', '.join(sorted(known))}); got {pair!r}")
        out[name] = value
    return out


def start_local_stack(port: int = 0, data_dir: Path | None = None,
                      parameters: dict[str, str] | None = None, *, in_memory: bool = False) -> tuple[Any, Any, str]:
    """Embedded AWS + the API app under uvicorn on 127.0.0.1; returns (aws, server, url).
    Without `data_dir` the data lives in a temporary directory, removed on stop; `in_memory`
    keeps none (bench/durability.py's baseline)."""
    import uvicorn

    from reelforge.local import EmbeddedAWS

    # On AWS each clip (or slide) renders in its own Lambda (Map concurrency 6, 4); here they
    # share this machine's cores, and x264 and Piper already use them all, so more at once
    # only costs memory (and slows each other down: 4 narrations at once took 2x as long).
    renders = max(1, (os.cpu_count() or 2) // 2)
    aws = EmbeddedAWS(parameters={"RenderConcurrency": str(renders), "GenerateConcurrency": str(os.cpu_count() or 2),
                                  **(parameters or {})}, data_dir=data_dir, in_memory=in_memory).start()
    from reelforge.local.runtime import load_api_app

    app = load_api_app(aws.root)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="uvicorn")
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    if not server.started:
        raise RuntimeError("the API server did not start")
    bound = server.servers[0].sockets[0].getsockname()[1]
    return aws, server, f"http://127.0.0.1:{bound}"


def ensure_local_user(base_url: str) -> dict[str, Any]:
    """Register (or log in) the local development user; returns the session."""
    creds = _local_credentials()
    with httpx.Client(base_url=base_url, timeout=30) as client:
        resp = client.post("/api/auth/register", json=creds)
        if resp.status_code == 409:
            resp = client.post("/api/auth/login", json={"email": creds["email"],
                                                        "password": creds["password"]})
        resp.raise_for_status()
        return resp.json()


def _local_credentials() -> dict[str, str]:
    # This machine's account: kept by `reelforge serve`'s data directory, registered afresh
    # in a temporary one (the clips job, the tests).
    if LOCAL_USER_FILE.exists():
        return json.loads(LOCAL_USER_FILE.read_text())
    LOCAL_USER_FILE.parent.mkdir(parents=True, exist_ok=True)
    creds = {"email": "local@reelforge.dev", "password": secrets.token_urlsafe(18), "name": "Local user"}
    LOCAL_USER_FILE.write_text(json.dumps(creds))
    LOCAL_USER_FILE.chmod(0o600)
    return creds


def _serve(port: int, data_dir: Path, parameters: dict[str, str]) -> NoReturn:
    from rich.console import Console

    console = Console()
    console.print(f"[bold]reelforge[/] starting the embedded AWS (moto) and the API on {data_dir} ...")
    aws, server, url = start_local_stack(port, data_dir, parameters)
    ensure_local_user(url)
    console.print(f"API:       {url}")
    console.print(f"Docs:      {url}/api/docs")
    kept = f"{aws.restored_records} records restored" if aws.restored_records else "a new directory"
    console.print(f"Data:      {aws.data_dir} ({kept}; every answered write is kept)")
    console.print(f"AWS:       {aws.endpoint} (moto)")
    console.print("Token:     reelforge token create --scopes projects:read,projects:write,jobs:read"
                  f" --url {url}")
    console.print("Ctrl-C stops everything.")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    console.print("stopping ...")
    server.should_exit = True
    time.sleep(0.3)
    aws.stop()
    # Leave at once: a step still running (a transcription in CTranslate2's threads) would
    # have the interpreter's exit tear its native threads down under it, which aborts the
    # process. What it did is kept; the next start finishes it off (local/durable.py).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _token_create(url: str, name: str, scopes: str) -> int:
    try:
        session = ensure_local_user(url)
    except httpx.HTTPError as exc:
        print(f"cannot reach reelforge at {url}: {exc}. Is `reelforge serve` running?", file=sys.stderr)
        return 1
    resp = httpx.post(f"{url}/api/tokens", timeout=30,
                      headers={"Authorization": f"Bearer {session['accessToken']}"},
                      json={"name": name, "scopes": [s.strip() for s in scopes.split(",") if s.strip()]})
    if resp.status_code != 201:
        print(f"error: {resp.json().get('detail')}", file=sys.stderr)
        return 1
    print(resp.json()["token"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
