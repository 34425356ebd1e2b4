#!/usr/bin/env python3
"""Side-by-side benchmark of the Wasm engines on Phantom's own CPU benchmarks.

Runs each program (Programs/bench/*.c, compiled once to Programs/wasm/bench/*.wasm)
under every runner available, several times, and prints the median wall time of each
and its ratio to the WasmKit 0.4.2 reference, as Markdown for docs/BENCHMARKS.md.

Runners: native (the same C, -O2), WasmKit 0.4.2 as a library (this package's
`wasmkit-reference`), wasmtime (JIT, from PyPI) where installed, and `phantom run`
(snapshots once per second) once the engine exists.

Usage: Benchmarks/run.py [--runs N] [--only PROGRAM] [--runner NAME]    (see Benchmarks/run.sh)
       PHANTOM_BASELINE=/path/to/phantom adds another build as a runner (A/B).
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Work per program: 3x the "interpreter scale" documented in each source file.
PROGRAMS = {"coremark_like": 6000, "sieve": 12, "matmul": 12, "sha256": 12, "nbody": 60000}


def native_binary(name, scratch):
    compiler = shutil.which("clang-14") or shutil.which("cc")
    out = os.path.join(scratch, name)
    subprocess.run([compiler, "-O2", os.path.join(ROOT, "Programs/bench", name + ".c"), "-o", out, "-lm"], check=True)
    return out


def runners(scratch):
    result = {}
    result["native"] = lambda name, arg: [native_binary.cache[name], str(arg)]
    reference = os.path.join(ROOT, "Benchmarks/.build/release/wasmkit-reference")
    if os.path.exists(reference):
        result["WasmKit 0.4.2"] = lambda name, arg: [reference, wasm(name), str(arg)]
    try:
        import wasmtime  # noqa: F401
        result["wasmtime (JIT)"] = lambda name, arg: [sys.executable, os.path.join(ROOT, "Benchmarks/wasmtime_run.py"), wasm(name), str(arg)]
    except ImportError:
        pass
    phantom = os.path.join(ROOT, ".build/release/phantom")
    if os.path.exists(phantom) and "USAGE: phantom run" in subprocess.run([phantom, "run", "--help"], capture_output=True, text=True).stdout:
        def phantom_command(name, arg):
            image = os.path.join(scratch, name + ".img")
            return [phantom, "run", "--fresh", "--image", image, "--snapshot-every", "1s", wasm(name), str(arg)]
        result["phantom run"] = phantom_command
    # An A/B comparison: PHANTOM_BASELINE=/path/to/another/phantom adds it as a runner.
    baseline = os.environ.get("PHANTOM_BASELINE")
    if baseline:
        def baseline_command(name, arg):
            image = os.path.join(scratch, name + ".baseline.img")
            return [baseline, "run", "--fresh", "--image", image, "--snapshot-every", "1s", wasm(name), str(arg)]
        result["phantom baseline"] = baseline_command
    return result


def wasm(name):
    return os.path.join(ROOT, "Programs/wasm/bench", name + ".wasm")


def run_once(command):
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({completed.returncode}): {completed.stderr.strip()}")
    return elapsed, completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""


def measure(commands, runs):
    """Median wall time of each command. The runners take turns (one run of each,
    then the next round), so that a slow phase of this noisy machine falls on all
    of them rather than on whichever happened to run then."""
    times = {name: [] for name in commands}
    outputs = {}
    for _ in range(runs):
        for name, command in commands.items():
            elapsed, outputs[name] = run_once(command)
            times[name].append(elapsed)
    return {name: statistics.median(values) for name, values in times.items()}, outputs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", action="append", help="a program to run (repeatable; default: all)")
    parser.add_argument("--runner", action="append",
                        help="a runner to include, by a part of its name (repeatable; default: all installed)")
    options = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="phantom-bench-")
    native_binary.cache = {name: native_binary(name, scratch) for name in PROGRAMS}
    available = runners(scratch)
    if options.runner:
        available = {name: make for name, make in available.items()
                     if name == "WasmKit 0.4.2" or any(part.lower() in name.lower() for part in options.runner)}
    names = list(available)
    print(f"runs per cell: {options.runs} (median); work per program: {PROGRAMS}", file=sys.stderr)
    print("| program | " + " | ".join(f"{n} (s)" for n in names) + " | " + " | ".join(f"{n} / WasmKit" for n in names if n != "WasmKit 0.4.2") + " |")
    print("|---" * (1 + 2 * len(names) - 1) + "|")
    for name, arg in PROGRAMS.items():
        if options.only and name not in options.only:
            continue
        medians, outputs = measure({runner: available[runner](name, arg) for runner in names}, options.runs)
        checksums = set(outputs.values())
        if len(checksums) != 1:
            print(f"warning: {name}: runners disagree on the output: {outputs}", file=sys.stderr)
        base = medians.get("WasmKit 0.4.2")
        ratios = [f"{medians[n] / base:.2f}" if base else "n/a" for n in names if n != "WasmKit 0.4.2"]
        print(f"| {name} {arg} | " + " | ".join(f"{medians[n]:.3f}" for n in names) + " | " + " | ".join(ratios) + " |")
        sys.stdout.flush()
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
