/**
 * The small Python 3 program (standard library only) that generated Ansible playbooks and Slurm
 * scripts put on each node. It runs one model container from the plan (argv, never a shell), with a
 * wall clock that really kills the container, writes the model's log as output arrives, and reads
 * the results with the run phase's rules: the same `performance:` pattern as
 * run/results/performanceLine.ts, the multiple-results CSV rules of run/results/multipleResults.ts,
 * the same FAILURE reasons. `collect` writes the node's perf.csv with the exact 25-column header.
 *
 *   madengine_host.py run --plan P --index I --workspace W --machine M --image REF
 *                         [--mad-root DIR] [--image-error MSG] [--secret-env-stdin]
 *   madengine_host.py collect --plan P --workspace W --machine M --out perf.csv
 *   madengine_host.py describe --plan P --machine M --image-of I=REF...
 */
import { PERF_CSV_COLUMNS } from "../../../shared/schemas/perf.js";
import { PERFORMANCE_PATTERN } from "../run/results/performanceLine.js";
import { dockerRunArgs } from "./dockerRunArgs.js";
import { MAD_ROOT_PLACEHOLDER, type ModelPlan } from "./modelPlans.js";

/** File name of the helper on the node. */
export const HOST_HELPER_NAME = "madengine_host.py";
/** File name of the plan (JSON) on the node. */
export const HOST_PLAN_NAME = "madengine_plan.json";

const PYTHON = String.raw`#!/usr/bin/env python3
"""madengine host helper, written by madengine-cli generate (Python 3 standard library only).

run:      runs one model container of the plan (argv, no shell) with a wall clock that kills the
          container, writes the model log as output arrives, reads the results and writes
          <workspace>/results/<container>.result.json
collect:  writes the node's perf.csv (the 25 perf.csv columns) from those results
describe: prints the docker run command lines of the plan (audit mode)
"""
import argparse
import csv
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time

PERFORMANCE = re.compile(__PERFORMANCE__)
ANSI_CSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
NUMBER = re.compile(r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
COLUMNS = __COLUMNS__
MARKER = "::madengine::"
MODEL_START = MARKER + " model-start"
MODEL_END = MARKER + " model-end"
FINISHED = MARKER + " finished"
GIT_COMMIT = MARKER + " git-commit"
MAD_ROOT_PLACEHOLDER = __PLACEHOLDER__
RESULT_COLUMNS = ("model", "performance", "metric")


class Failure(Exception):
    pass


def load_plan(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def container_name(model, machine):
    # the node's name keeps containers apart on a shared daemon; the tool suffix keeps them apart
    # from a madengine-cli dispatch to nodes of the same names
    name = "%s.%s.%s" % (model["container"], re.sub(r"[^A-Za-z0-9_.-]", "_", machine), model.get("container_suffix", "host"))
    return re.sub(r"^[^A-Za-z0-9]+", "", name)


def result_path(workspace, model):
    return os.path.join(workspace, "results", model["container"] + ".result.json")


def remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.remove(path)
        except OSError:
            pass


def extract_performance(line):
    if "\x1b" in line:
        line = ANSI_CSI.sub("", line)
    match = PERFORMANCE.search(line)
    return (match.group(1), match.group(2)) if match else None


def is_number(value):
    return NUMBER.match(value.strip()) is not None


def parse_multiple_results(text, name):
    """The multiple-results CSV: columns model, performance, metric; one perf.csv row per data row."""
    if text.startswith("\ufeff"):
        text = text[1:]
    def read(strict):
        reader = csv.reader(io.StringIO(text, newline=""), strict=strict)
        found = []
        start = 1
        for cells in reader:
            if cells:
                found.append((start, cells))
            start = reader.line_num + 1
        return found

    try:
        records = read(True)
    except csv.Error as error:
        if "unexpected end of data" in str(error):
            raise Failure("%s: unterminated quoted field (a '\"' opens a field that is never closed before the end of the text)" % name)
        # like the run phase: text after a closing quote belongs to the field
        records = read(False)
    if not records:
        raise Failure("%s: the multiple-results CSV is empty" % name)
    header_line, header_cells = records[0]
    header = [cell.strip() for cell in header_cells]
    missing = [column for column in RESULT_COLUMNS if column not in header]
    if missing:
        listed = ", ".join("'%s'" % column for column in missing)
        raise Failure("%s: missing required column%s %s (header: %s)" % (name, "s" if len(missing) > 1 else "", listed, ",".join(header)))
    problems = []
    seen = set()
    for column in header:
        if column in seen:
            problems.append("%s line %d: duplicate column '%s' (the first one is used)" % (name, header_line, column))
        seen.add(column)
    index = {column: header.index(column) for column in RESULT_COLUMNS}
    rows = []
    for line, raw in records[1:]:
        cells = [cell.strip() for cell in raw]
        row_problems = []
        if len(cells) != len(header):
            row_problems.append("%d cell%s, the header has %d" % (len(cells), "" if len(cells) == 1 else "s", len(header)))
        empty = [column for position, column in enumerate(header) if position < len(cells) and cells[position] == ""]
        if len(empty) == 1:
            row_problems.append("empty cell in column '%s'" % empty[0])
        elif len(empty) > 1:
            row_problems.append("empty cells in columns %s" % ", ".join("'%s'" % column for column in empty))
        for text_problem in row_problems:
            problems.append("%s line %d: %s" % (name, line, text_problem))

        def cell(column):
            position = index[column]
            return cells[position] if position < len(cells) else ""

        rows.append({
            "model": cell("model"),
            "performance": "" if row_problems else cell("performance"),
            "metric": cell("metric"),
        })
    return rows, problems


def make_row(model, name, performance, metric, status, machine, duration, git_commit):
    row = dict(model["row"])
    row.update({
        "model": name,
        "performance": performance,
        "metric": metric,
        "status": status,
        "machine_name": machine,
        "test_duration": "%.3f" % duration,
        "git_commit": git_commit or "",
    })
    return row


def write_result(workspace, model, status, reason, rows, performance="", metric="", duration=0.0):
    os.makedirs(os.path.join(workspace, "results"), exist_ok=True)
    data = {
        "model": model["name"],
        "image": model["image"],
        "status": status,
        "reason": reason,
        "performance": performance,
        "metric": metric,
        "test_duration": round(duration, 3),
        "log_file": model["log_name"],
        "rows": rows,
    }
    target = result_path(workspace, model)
    temp = target + ".tmp"
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1)
    os.replace(temp, target)
    print(json.dumps({key: data[key] for key in ("model", "status", "reason", "performance", "metric", "test_duration")}))


def docker_argv(model, machine, image, mad_root):
    argv = ["docker", "run", "--name", container_name(model, machine)]
    for device in model.get("optional_devices", []):
        if os.path.exists(device):
            argv += ["--device", "%s:%s:rwm" % (device, device)]
    for option in model["docker_options"]:
        if option.startswith(MAD_ROOT_PLACEHOLDER + ":"):
            option = mad_root + option[len(MAD_ROOT_PLACEHOLDER):]
        argv.append(option)
    return argv + [image] + model["command"]


def command_run(args):
    plan = load_plan(args.plan)
    model = plan["models"][args.index]
    workspace = os.path.abspath(args.workspace)
    mad_root = os.path.abspath(args.mad_root or os.path.join(workspace, "mad"))
    results = os.path.join(workspace, "results")
    os.makedirs(results, exist_ok=True)
    remove(result_path(workspace, model))
    log_path = os.path.join(results, model["log_name"])
    name = model["name"]

    def fail_early(reason, status="FAILURE"):
        with open(log_path, "w", encoding="utf-8") as log:
            log.write("%s model %s: %s: %s\n" % (MARKER, name, status.lower(), reason))
        rows = [make_row(model, name, "", "", status, args.machine, 0.0, "")]
        if status == "SKIPPED" and not model.get("skip_row"):
            rows = []
        write_result(workspace, model, status, reason, rows)
        return 0

    if model.get("skip"):
        return fail_early(model["skip"], "SKIPPED")
    if args.image_error:
        return fail_early(args.image_error)
    if model.get("error"):
        return fail_early(model["error"])
    for device in model.get("required_devices", []):
        if not os.path.exists(device):
            return fail_early("model %s needs %s, but %s is missing on this host (check that the GPU driver is loaded: ls /dev/kfd /dev/dri)" % (name, model.get("gpus_text", "GPUs"), device))
    for directory in model.get("required_paths", []):
        if not os.path.isdir(directory):
            return fail_early("data path %s does not exist on this host" % directory)
    if not os.path.exists(os.path.join(mad_root, model["scripts"])):
        return fail_early("model %s: its scripts path %s does not exist in the MAD root %s" % (name, model["scripts"], mad_root))

    secrets = {}
    if args.secret_env_stdin:
        given = json.loads(sys.stdin.read() or "{}")
        secrets = {key: str(value) for key, value in given.items() if key in model.get("secret_env", []) and value not in (None, "")}
    environment = dict(os.environ)
    environment.update(secrets)
    hidden = sorted((value.encode() for value in secrets.values() if len(value) >= 3), key=len, reverse=True)

    results_file = model.get("multiple_results")
    candidates = []
    if results_file:
        candidates = [os.path.join(mad_root, model["model_dir"], results_file), os.path.join(mad_root, results_file)]
        for stale in candidates:
            remove(stale)
    container = container_name(model, args.machine)
    subprocess.run(["docker", "rm", "-f", container], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    argv = docker_argv(model, args.machine, args.image, mad_root)
    timeout = model.get("timeout_sec")
    state = {"timed_out": False, "start": None, "end": None, "model_exit": None, "finished": None, "git": "", "perf": None, "last": ""}
    lock = threading.Lock()
    started = time.monotonic()
    with open(log_path, "wb") as log:
        def write(data):
            with lock:
                for secret in hidden:
                    data = data.replace(secret, b"***")
                log.write(data)
                log.flush()

        write(("%s model %s, image %s, container %s\n" % (MARKER, name, args.image, container)).encode())
        try:
            process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment)
        except OSError as error:
            write(("%s cannot start docker: %s\n" % (MARKER, error)).encode())
            rows = [make_row(model, name, "", "", "FAILURE", args.machine, 0.0, "")]
            write_result(workspace, model, "FAILURE", "cannot start docker: %s" % error, rows)
            return 0

        def on_timeout():
            state["timed_out"] = True
            write(("\n%s timeout after %s s: killing the container\n" % (MARKER, timeout)).encode())
            subprocess.run(["docker", "kill", "--signal", "KILL", container], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
            if process.poll() is None:
                process.kill()

        timer = threading.Timer(timeout, on_timeout) if timeout else None
        if timer:
            timer.daemon = True
            timer.start()
        for raw in process.stdout:
            write(raw)
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.strip():
                state["last"] = line.strip()
            if MARKER in line:
                if line.startswith(MODEL_START):
                    state["start"] = time.monotonic()
                elif line.startswith(GIT_COMMIT):
                    state["git"] = line[len(GIT_COMMIT):].strip()
                elif line.startswith(MODEL_END):
                    state["end"] = time.monotonic()
                    try:
                        state["model_exit"] = int(line[len(MODEL_END):].strip())
                    except ValueError:
                        pass
                elif line.startswith(FINISHED):
                    try:
                        state["finished"] = int(line[len(FINISHED):].strip())
                    except ValueError:
                        pass
            if "performance:" in line:
                found = extract_performance(line)
                if found:
                    state["perf"] = found
        exit_code = process.wait()
        if timer:
            timer.cancel()
    ended = time.monotonic()
    subprocess.run(["docker", "rm", "-f", container], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if state["start"] is not None:
        duration = (state["end"] if state["end"] is not None else ended) - state["start"]
    else:
        duration = ended - started
    model_exit = state["model_exit"] if state["model_exit"] is not None else state["finished"]
    if model_exit is None:
        model_exit = exit_code

    status, reason = "SUCCESS", None
    if state["timed_out"]:
        status, reason = "FAILURE", "timeout after %s s" % timeout
    elif state["start"] is None and state["finished"] is None and exit_code in (125, 126, 127):
        status, reason = "FAILURE", "docker run failed (exit %d): %s" % (exit_code, state["last"])
    elif model_exit != 0:
        status, reason = "FAILURE", "exit code %d" % model_exit

    performance, metric, rows = "", "", []
    if results_file:
        found_file = next((candidate for candidate in candidates if os.path.exists(candidate)), None)
        if status == "SUCCESS" and not found_file:
            status, reason = "FAILURE", "multiple results file %s was not written" % results_file
        if found_file and status == "SUCCESS":
            try:
                with open(found_file, encoding="utf-8", errors="replace", newline="") as handle:
                    parsed, problems = parse_multiple_results(handle.read(), results_file)
                rows = [make_row(model, "%s_%s" % (name, entry["model"]), entry["performance"], entry["metric"],
                                 "SUCCESS" if is_number(entry["performance"]) else "FAILURE", args.machine, duration, state["git"])
                        for entry in parsed]
                if not rows:
                    status, reason = "FAILURE", "%s has no result rows" % results_file
                elif problems:
                    status, reason = "FAILURE", "; ".join(problems)
                performance = results_file
            except Failure as error:
                status, reason = "FAILURE", str(error)
    elif status == "SUCCESS":
        if state["perf"] is None:
            status, reason = "FAILURE", "no performance line (expected 'performance: <value> <metric>')"
        else:
            performance, metric = state["perf"]
    elif state["perf"] is not None:
        performance, metric = state["perf"]
    if not rows:
        rows = [make_row(model, name, performance, metric, status, args.machine, duration, state["git"])]
    remove(os.path.join(mad_root, model["model_dir"]))
    write_result(workspace, model, status, reason, rows, performance, metric, duration)
    return 0


def format_cell(value):
    value = "" if value is None else str(value)
    return '"%s"' % value.replace('"', '""') if re.search(r'[",\r\n]', value) else value


def command_collect(args):
    plan = load_plan(args.plan)
    workspace = os.path.abspath(args.workspace)
    lines = [",".join(COLUMNS)]
    summary = {"machine": args.machine, "successful": [], "failed": [], "skipped": [], "rows": 0}
    for model in plan["models"]:
        try:
            with open(result_path(workspace, model), encoding="utf-8") as handle:
                result = json.load(handle)
        except (OSError, ValueError):
            reason = "no result: the run step did not finish for this model"
            result = {"status": "FAILURE", "reason": reason,
                      "rows": [make_row(model, model["name"], "", "", "FAILURE", args.machine, 0.0, "")]}
        for row in result["rows"]:
            row["machine_name"] = args.machine
            lines.append(",".join(format_cell(row.get(column, "")) for column in COLUMNS))
            summary["rows"] += 1
        entry = {"model": model["name"], "status": result["status"]}
        if result.get("reason"):
            entry["reason"] = result["reason"]
        key = {"SUCCESS": "successful", "SKIPPED": "skipped"}.get(result["status"], "failed")
        summary[key].append(entry)
    temp = args.out + ".tmp"
    with open(temp, "w", encoding="utf-8", newline="") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(temp, args.out)
    print(json.dumps(summary))
    return 0


def command_describe(args):
    plan = load_plan(args.plan)
    images = dict(item.split("=", 1) for item in args.image_of)
    for index, model in enumerate(plan["models"]):
        image = images.get(str(index), model["reference"])
        if model.get("skip"):
            print("%s: skipped (%s)" % (model["name"], model["skip"]))
            continue
        argv = docker_argv(model, args.machine, image, "<workspace>/mad")
        argv[-2] = "<in-container script, %d lines>" % model["command"][2].count("\n")
        print("%s (timeout %s s):\n  %s" % (model["name"], model.get("timeout_sec") or "none", shlex.join(argv)))
    return 0


def main(argv):
    parser = argparse.ArgumentParser(prog="madengine_host.py")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("--plan", required=True)
    run.add_argument("--index", type=int, required=True)
    run.add_argument("--workspace", required=True)
    run.add_argument("--machine", required=True)
    run.add_argument("--image", required=True)
    run.add_argument("--mad-root")
    run.add_argument("--image-error")
    run.add_argument("--secret-env-stdin", action="store_true")
    collect = sub.add_parser("collect")
    collect.add_argument("--plan", required=True)
    collect.add_argument("--workspace", required=True)
    collect.add_argument("--machine", required=True)
    collect.add_argument("--out", required=True)
    describe = sub.add_parser("describe")
    describe.add_argument("--plan", required=True)
    describe.add_argument("--machine", required=True)
    describe.add_argument("--image-of", action="append", default=[])
    args = parser.parse_args(argv)
    return {"run": command_run, "collect": command_collect, "describe": command_describe}[args.command](args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
`;

/** The helper's source, with the pattern and columns taken from the TypeScript contract. */
export function hostHelperSource(): string {
  return PYTHON.replace("__PERFORMANCE__", JSON.stringify(PERFORMANCE_PATTERN.source))
    .replace("__COLUMNS__", JSON.stringify(PERF_CSV_COLUMNS))
    .replace("__PLACEHOLDER__", JSON.stringify(MAD_ROOT_PLACEHOLDER));
}

/** One model as the helper reads it from the plan. */
export interface HostPlanModel {
  name: string;
  image: string;
  reference: string;
  reference_path: string;
  image_id: string | null;
  container: string;
  /** Appended to container names with the machine name (`ansible`, `slurm`). */
  container_suffix: string;
  log_name: string;
  model_dir: string;
  scripts: string;
  multiple_results: string | null;
  timeout_sec: number | null;
  docker_options: string[];
  command: string[];
  optional_devices: string[];
  required_devices: string[];
  required_paths: string[];
  gpus_text: string;
  secret_env: string[];
  skip: string | null;
  skip_row: boolean;
  error: string | null;
  row: Record<string, string>;
}

function gpusText(count: number): string {
  return `${count} GPU${count === 1 ? "" : "s"}`;
}

/** The plan entries the helper reads, one per model plan, in order. */
export function hostPlanModels(plans: readonly ModelPlan[], containerSuffix: string): HostPlanModel[] {
  return plans.map((plan) => {
    const args = dockerRunArgs(plan.spec);
    return {
      name: plan.model.name,
      image: plan.image,
      reference: plan.reference,
      reference_path: plan.referencePath,
      image_id: plan.info.image_id ?? null,
      container: plan.containerName,
      container_suffix: containerSuffix,
      log_name: plan.logName,
      model_dir: plan.modelDir,
      scripts: plan.model.scripts,
      multiple_results: plan.model.multiple_results ?? null,
      timeout_sec: plan.timeoutSec ?? null,
      // secrets by name only: docker takes the value from its own environment (filled at run time)
      docker_options: [...args.options, ...plan.secretEnvNames.flatMap((name) => ["--env", name])],
      command: args.command,
      optional_devices: plan.optionalDevices,
      required_devices: plan.requiredDevices,
      required_paths: plan.requiredPaths,
      gpus_text: gpusText(plan.gpuCount),
      secret_env: plan.secretEnvNames,
      skip: plan.skip ?? null,
      skip_row: plan.skipRow,
      error: plan.error ?? null,
      row: plan.row,
    };
  });
}
