#!/usr/bin/env python3
"""Line coverage per target from the last `swift test --enable-code-coverage` run.

Prints one line per target (Sources/<Target>) and fails when a gated target is under its floor.
Usage: scripts/coverage-report.py [--build-path .build] [--floor 85] [--gate PresenceCore,PresenceHTTP,PresenceAuth]
                                  [--also PROFDATA ...]
--also adds the counters of an earlier run (each `swift test --enable-code-coverage` starts
its own afresh; `make test` runs the heavy suites first and keeps theirs).
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict


def llvm_tool(name: str) -> str:
    swift = shutil.which("swift")
    candidates = [os.path.join(os.path.dirname(os.path.realpath(swift)), name)] if swift else []
    candidates.append(shutil.which(name) or "")
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    sys.exit(f"coverage: {name} not found next to swift or on PATH")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-path", default=".build")
    parser.add_argument("--floor", type=float, default=85.0)
    parser.add_argument("--gate", default="PresenceCore,PresenceHTTP,PresenceAuth")
    parser.add_argument("--also", action="append", default=[], help="counters (.profdata) of an earlier run to add")
    args = parser.parse_args()

    debug = os.path.join(args.build_path, "debug")
    profdata = os.path.join(debug, "codecov", "default.profdata")
    binaries = glob.glob(os.path.join(debug, "*PackageTests.xctest"))
    if not os.path.exists(profdata) or not binaries:
        sys.exit(f"coverage: no {profdata} or test binary: run `swift test --enable-code-coverage` first")
    root = os.path.realpath(".")
    earlier = [path for path in args.also if os.path.exists(path)]
    if len(earlier) != len(args.also):
        sys.exit(f"coverage: missing earlier counters: {sorted(set(args.also) - set(earlier))}")
    if earlier:
        merged = os.path.join(debug, "codecov", "merged.profdata")
        subprocess.run([llvm_tool("llvm-profdata"), "merge", "-sparse", profdata, *earlier, "-o", merged], check=True)
        profdata = merged
    exported = subprocess.run(
        [llvm_tool("llvm-cov"), "export", "-summary-only", "-instr-profile", profdata, binaries[0]],
        check=True, capture_output=True, text=True).stdout
    lines = defaultdict(lambda: [0, 0])  # target -> [covered, count]
    for data in json.loads(exported)["data"]:
        for entry in data["files"]:
            path = os.path.relpath(os.path.realpath(entry["filename"]), root)
            parts = path.split(os.sep)
            if len(parts) < 3 or parts[0] != "Sources":
                continue
            summary = entry["summary"]["lines"]
            lines[parts[1]][0] += summary["covered"]
            lines[parts[1]][1] += summary["count"]

    gated = [name for name in args.gate.split(",") if name]
    failed = []
    print(f"{'target':<22} {'lines':>7} {'covered':>8} {'cover':>7}")
    for target in sorted(lines):
        covered, count = lines[target]
        percent = 100.0 * covered / count if count else 100.0
        mark = ""
        if target in gated:
            mark = f"  (floor {args.floor:.0f} %)"
            if percent < args.floor:
                failed.append(f"{target} {percent:.1f} %")
        print(f"{target:<22} {count:>7} {covered:>8} {percent:>6.1f} %{mark}")
    missing = [name for name in gated if name not in lines]
    if missing:
        print(f"coverage: no coverage data for {', '.join(missing)}", file=sys.stderr)
        return 1
    if failed:
        print(f"coverage: under the floor: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
