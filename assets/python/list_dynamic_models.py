"""Runs one MAD `get_models_json.py` and prints its models as JSON on stdout.

Called by madengine-cli (TypeScript) in a subprocess. Anything the zoo file prints goes to stderr,
so stdout carries only our JSON document.
"""

import importlib.util
import json
import sys


def main() -> int:
    source = sys.argv[1]
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
    json.dump(out, sys.stdout, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
