"""The `CustomModel` API of madengine.tools.discover_models, as dynamic MAD zoo files use it.

Fields and defaults follow the original dataclass. `update_model()` is a hook that subclasses
override; `to_dict()` serialises the model for discovery.
"""

import dataclasses
import typing


@dataclasses.dataclass
class CustomModel:
    name: str
    dockerfile: str = ""
    dockercontext: str = ""
    scripts: str = ""
    url: str = ""
    cred: str = ""
    owner: str = ""
    data: str = ""
    n_gpus: str = "-1"
    timeout: int = 7200
    training_precision: str = ""
    tags: typing.List[str] = dataclasses.field(default_factory=list)
    args: str = ""
    multiple_results: str = ""
    skip_gpu_arch: str = ""

    def update_model(self) -> None:
        """Hook called once before the model is used; subclasses may compute fields here."""

    def to_dict(self) -> typing.Dict[str, typing.Any]:
        return dataclasses.asdict(self)
