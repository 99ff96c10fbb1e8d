"""The child side of a measured run: ``python -m benchmarks._worker module:function kwargs
result.json progress.txt``. It calls the function and writes what it returns as JSON, and
its own peak RSS (``VmHWM``, read just before it exits) to ``result.json.vmhwm``."""

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
    # The process's own high-water mark: its address space is new since exec, so nothing the
    # parent reached before starting it counts (ru_maxrss from wait4 would carry that).
    Path(result_path + ".vmhwm").write_text(str(own_peak_rss_kb()))
    return 0


def own_peak_rss_kb() -> int:
    """This process's peak RSS in KiB (``VmHWM`` of ``/proc/self/status``), 0 when unknown."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
