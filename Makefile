# The README's commands. Each installs what it needs first (scripts/setup.sh).
VENV := .venv
BIN := $(VENV)/bin
SAMPLE := examples/sample.mp4
OUT := out/sample

.PHONY: setup demo test test-fast lint fuzz serve bench bench-generate bench-studio bench-timeline sample

setup:
	@./scripts/setup.sh

# The main job: the clips pipeline on the bundled sample, on the embedded AWS.
demo: setup
	$(BIN)/reelforge process $(SAMPLE) --out $(OUT)

test: setup
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not e2e and not slow"

lint: setup
	$(BIN)/ruff check .
	AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0 $(BIN)/sam validate --lint
	$(BIN)/cfn-lint template.yaml

# schemathesis, long: every phase (coverage included), 50 examples per operation.
# The suite runs a bounded one (tests/integration/test_api_fuzz.py).
fuzz: setup
	$(BIN)/python tests/fuzz.py --examples 50

serve: setup
	$(BIN)/reelforge serve --port 8000

bench: setup
	$(BIN)/python bench/clips.py

bench-generate: setup
	$(BIN)/python bench/generate.py

bench-studio: setup
	$(BIN)/python bench/studio.py

bench-timeline: setup
	$(BIN)/python bench/timeline.py

sample: setup
	$(BIN)/python examples/make_sample.py
