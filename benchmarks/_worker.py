"""The child side of a measured run: ``python -m benchmarks._worker module:function kwargs
result.json progress.txt``. It calls the function and writes what it returns as JSON."""

import importlib
import json
import os
import sys
from pathlib import Path


def main() -> int:
    target, kwargs, result_path, progress_path = sys.argv[1:5]
    os.environ["BENCH_PROGRESS_FILE"] = progress_path
    module_name, function_name = target.split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    result = function(**json.loads(kwargs))
    Path(result_path).write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
