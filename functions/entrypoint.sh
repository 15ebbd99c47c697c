#!/bin/sh
# The image's entry point. Lambda passes the handler from ImageConfig.Command
# ("functions/api/app.handler") and it runs under the Lambda runtime interface client; the
# GPU Batch task (statemachines/process.asl.json) passes a command line starting with
# "reelforge" ("reelforge step clips/transcribe --job-id ..."), which runs the step directly.
set -e
if [ "$1" = "reelforge" ]; then
  shift
  # CUDA libraries installed from pip (CUDA_LIBS=true builds) live inside site-packages.
  cuda_libs=$(python3.11 -c "import os, nvidia.cublas.lib as b, nvidia.cudnn.lib as d; print(os.path.dirname(b.__file__) + ':' + os.path.dirname(d.__file__))" 2>/dev/null || true)
  [ -n "$cuda_libs" ] && export LD_LIBRARY_PATH="$cuda_libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  exec python3.11 -m reelforge.cli "$@"
fi
exec python3.11 -m awslambdaric "$@"
