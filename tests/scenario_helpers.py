"""A scenario the validation must refuse: written to a file, loaded, its one-line error returned."""

from __future__ import annotations

import pytest
import yaml

from ctasim.errors import ConfigError
from ctasim.scenario import load_scenario


def refusal(tmp_path, data: dict) -> str:
    """The ConfigError message of loading ``data`` as ``tmp_path/s.yaml``; asserts it is one line naming the file."""
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert "\n" not in msg and str(path) in msg
    return msg
