"""Dynamic model discovery for the example zoo (MAD `get_models_json.py` convention).

madengine imports this file in-process and calls ``list_models()``; every returned
``CustomModel`` is named ``dynamic/<name>``. At selection time the engine calls
``update_model()`` and then rewrites ``dockerfile`` and ``scripts`` to
``normpath("scripts/dynamic/" + value)`` on the object itself, so the values here
are relative to this directory: "../../docker/dummy" becomes "docker/dummy" and
"run_gen.sh" becomes "scripts/dynamic/run_gen.sh".
"""
from madengine.tools.discover_models import CustomModel

DOCKERFILE = "../../docker/dummy"
SCRIPTS = "run_gen.sh"
SIZES = ("small", "large")


class GeneratedModel(CustomModel):
    """A CustomModel whose ``update_model()`` hook marks it as generated."""

    def update_model(self):
        # Proves that the hook runs: the selected model carries an extra tag.
        # New lists (never in-place appends) so that the dataclass default is never mutated,
        # and idempotent so that selecting the model twice does not duplicate the tag.
        if "generated" not in self.tags:
            self.tags = list(self.tags) + ["generated"]
        # Reset the paths: the engine prefixes them with scripts/dynamic/ on this very
        # object after the hook, so without this a second selection in the same
        # invocation would prefix them twice (spec 2.3 EDGE).
        self.dockerfile = DOCKERFILE
        self.scripts = SCRIPTS


def list_models():
    models = []
    for size in SIZES:
        models.append(
            GeneratedModel(
                name="gen_" + size,
                dockerfile=DOCKERFILE,
                scripts=SCRIPTS,
                owner="madengine-zoo@example.com",
                n_gpus="1",
                training_precision="fp32",
                tags=["dynamic", "dummies"],
                args="--size " + size,
            )
        )
    return models
