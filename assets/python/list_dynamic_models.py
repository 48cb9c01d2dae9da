"""Runs one MAD `get_models_json.py` and prints its models as JSON on stdout.

Called by madengine-cli (TypeScript) in a subprocess. Anything the zoo file prints goes to stderr,
so stdout carries only our JSON document.

With `--with-deps` (used by the discovery cache) stdout carries {"models": [...], "deps": {...}}:
what the zoo file read while it ran, recorded with an audit hook (sys.addaudithook), so that
madengine-cli can tell later, without starting Python, whether the same run would still give the
same models:
  * files: every file opened for reading (the zoo file, the modules it imports, data files);
  * dirs: every directory listed (os.listdir / os.scandir / glob, and the import system's searches);
  * env: every environment variable read through os.environ / os.getenv, with its value (None: unset);
  * uncacheable: why the result must not be reused (it ran a process, opened a socket, wrote a file,
    read /proc, /sys or /dev, loaded a C library, or enumerated the whole environment).
"""

import importlib.util
import json
import os
import sys

# events after which the output may depend on something we cannot check without running the file
_UNCACHEABLE_EVENTS = {
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "os.startfile",
    "pty.spawn",
    "socket.connect",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostname",
    "urllib.Request",
    "ctypes.dlopen",
    "sqlite3.connect",
    "os.chdir",
}
_VOLATILE_PREFIXES = ("/proc/", "/sys/", "/dev/")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC


class _Deps:
    def __init__(self) -> None:
        self.files: set = set()
        self.dirs: set = set()
        self.env: dict = {}
        self.uncacheable: list = []

    def hook(self, event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            if path is None or isinstance(path, int):
                return
            path = os.path.abspath(os.fsdecode(path))
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writing:
                self.uncacheable.append(f"writes {path}")
            elif path.startswith(_VOLATILE_PREFIXES):
                self.uncacheable.append(f"reads {path}")
            else:
                self.files.add(path)
        elif event in ("os.listdir", "os.scandir"):
            path = args[0] if args else None
            if isinstance(path, int):
                self.uncacheable.append(f"{event} of a file descriptor")
                return
            path = os.path.abspath(os.fsdecode(path if path is not None else "."))
            if path.startswith(_VOLATILE_PREFIXES):
                self.uncacheable.append(f"lists {path}")
            else:
                self.dirs.add(path)
        elif event in _UNCACHEABLE_EVENTS:
            self.uncacheable.append(event)

    def track_environ(self) -> None:
        deps = self
        base = type(os.environ)

        class _TrackedEnviron(base):  # type: ignore[misc, valid-type]
            def __getitem__(self, key):
                try:
                    value = base.__getitem__(self, key)
                except KeyError:
                    deps.env.setdefault(str(key), None)
                    raise
                deps.env.setdefault(str(key), value)
                return value

            def __iter__(self):
                deps.uncacheable.append("enumerates the environment")
                return base.__iter__(self)

        os.environ.__class__ = _TrackedEnviron

    def as_json(self) -> dict:
        return {
            "files": sorted(self.files),
            "dirs": sorted(self.dirs),
            "env": self.env,
            "uncacheable": self.uncacheable[:5],
            "executable": sys.executable,
            "version": sys.version,
        }


def main() -> int:
    args = sys.argv[1:]
    with_deps = bool(args) and args[0] == "--with-deps"
    if with_deps:
        args = args[1:]
    source = args[0]
    deps = _Deps()
    if with_deps:
        deps.track_environ()
        sys.addaudithook(deps.hook)
    real_stdout = sys.stdout
    sys.stdout = sys.stderr
    spec = importlib.util.spec_from_file_location("mad_dynamic_models", source)
    if spec is None or spec.loader is None:
        print(f"cannot load {source} as a Python module", file=sys.stderr)
        return 2
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not hasattr(module, "list_models"):
        print(f"{source} defines no list_models() function", file=sys.stderr)
        return 3
    models = module.list_models()
    if not isinstance(models, (list, tuple)):
        print(f"list_models() returned {type(models).__name__}, expected a list of CustomModel", file=sys.stderr)
        return 3
    out = []
    for index, model in enumerate(models):
        if hasattr(model, "update_model"):
            model.update_model()
        if hasattr(model, "to_dict"):
            entry = model.to_dict()
        elif isinstance(model, dict):
            entry = model
        else:
            print(f"list_models()[{index}] is {type(model).__name__}, expected a CustomModel", file=sys.stderr)
            return 3
        out.append(entry)
    sys.stdout = real_stdout
    text = json.dumps(out, default=str)
    if with_deps:
        text = '{"models": ' + text + ', "deps": ' + json.dumps(deps.as_json()) + "}"
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
