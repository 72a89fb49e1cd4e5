"""Load telescope types and array layouts from the YAML files in configs/, with strict checks.

Every problem raises ``ConfigError`` naming the file, the key path, the value and what was expected.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..errors import ConfigError
from ..paths import CONFIG_DIR
from .camera import HEX, SQUARE, build_camera_geometry
from .subarray import Site, SubarrayDescription
from .telescope import (
    CameraDescription,
    CameraReadout,
    OpticsDescription,
    TelescopeDescription,
    TriggerSettings,
)

TELESCOPES_FILE = CONFIG_DIR / "telescopes.yaml"
LAYOUT_DIR = CONFIG_DIR / "layouts"
SIZE_CLASSES = ("LST", "MST", "SST")


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a missing file or a syntax error is a one-line ConfigError."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(str(path), "<file>", str(path), "an existing YAML file")
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except UnicodeDecodeError as err:
        raise ConfigError(str(path), f"byte {err.start}", repr(err.object[err.start:err.start + 1]),
                          "UTF-8 text") from None
    except OSError as err:
        raise ConfigError(str(path), "<file>", str(path), f"a readable YAML file ({err.strerror})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "<file>"
        raise ConfigError(str(path), where, getattr(err, "problem", str(err)), "valid YAML") from None


class _Section:
    """A mapping read from a config file that knows its key path, for precise errors."""

    def __init__(self, data: Any, source: str, path: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(source, path or "<root>", data, "a mapping")
        self.data, self.source, self.path = data, source, path

    def _key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def section(self, key: str) -> _Section:
        return _Section(self.data.get(key), self.source, self._key(key))

    def number(self, key: str, sign: str = "positive", default: float | None = None) -> float:
        """A finite number; sign is 'positive', 'non-negative' or 'any'."""
        value = self.data.get(key, default)
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)
        if ok and sign != "any":
            ok = value > 0 if sign == "positive" else value >= 0
        if not ok:
            raise ConfigError(self.source, self._key(key), value, "a number" if sign == "any" else f"a {sign} number")
        return float(value)

    def integer(self, key: str, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(self.source, self._key(key), value, "a positive integer")
        return value

    def choice(self, key: str, options) -> str:
        value = self.data.get(key)
        if value not in options:
            raise ConfigError(self.source, self._key(key), value, f"one of {', '.join(map(str, options))}")
        return value

    def numbers(self, key: str, length: int) -> tuple[float, ...]:
        value = self.data.get(key)
        ok = isinstance(value, list) and len(value) == length
        ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in value)
        if not ok:
            raise ConfigError(self.source, self._key(key), value, f"a list of {length} positive numbers")
        return tuple(float(v) for v in value)


def _camera(name: str, sec: _Section) -> CameraDescription:
    geo = sec.section("geometry")
    pix_type = geo.choice("pix_type", (HEX, SQUARE))
    module_size = geo.data.get("module_size")
    geometry = build_camera_geometry(
        name,
        pix_type,
        geo.integer("n_pixels"),
        geo.number("pitch"),
        pix_rotation_deg=geo.number("pix_rotation_deg", sign="any", default=0.0),
        module_size=geo.integer("module_size") if module_size is not None else None,
    )
    ro = sec.section("readout")
    n_channels = ro.integer("n_channels")
    readout = CameraReadout(
        name=name,
        sampling_rate_ghz=ro.number("sampling_rate_ghz"),
        n_samples=ro.integer("n_samples"),
        n_channels=n_channels,
        adc_bits=ro.integer("adc_bits"),
        pedestal_adc=ro.number("pedestal_adc"),
        gain_adc_per_pe=ro.numbers("gain_adc_per_pe", n_channels),
        electronic_noise_pe=ro.number("electronic_noise_pe", sign="non-negative"),
        pulse_fwhm_ns=ro.number("pulse_fwhm_ns"),
        excess_noise_factor=ro.number("excess_noise_factor"),
        flat_field_residual=ro.number("flat_field_residual", sign="non-negative", default=0.0),
        time_jitter_ns=ro.number("time_jitter_ns", sign="non-negative", default=0.0),
    )
    trig = sec.section("trigger")
    return CameraDescription(
        name=name,
        geometry=geometry,
        readout=readout,
        nsb_rate_ghz=sec.number("nsb_rate_ghz", sign="non-negative"),
        photon_detection_efficiency=sec.number("photon_detection_efficiency"),
        trigger=TriggerSettings(trig.number("threshold_pe"), trig.number("window_ns")),
    )


@lru_cache(maxsize=8)
def load_telescope_types(path: str | Path = TELESCOPES_FILE) -> dict[str, TelescopeDescription]:
    """Telescope types by name (``LST_LST_LSTCam``, ...) from a telescopes YAML file."""
    source = str(path)
    root = _Section(read_yaml(Path(path)), source, "")
    cams_sec, optics_sec = root.section("cameras"), root.section("optics")
    cameras = {name: _camera(name, cams_sec.section(name)) for name in cams_sec.data}
    optics = {}
    for name in optics_sec.data:
        o = optics_sec.section(name)
        optics[name] = OpticsDescription(
            name=name,
            mirror_area=o.number("mirror_area"),
            equivalent_focal_length=o.number("equivalent_focal_length"),
            effective_focal_length=o.number("effective_focal_length"),
            psf_sigma_deg=o.number("psf_sigma_deg"),
            psf_offaxis_deg_per_deg=o.number("psf_offaxis_deg_per_deg", sign="non-negative", default=0.0),
        )
    types_sec = root.section("telescope_types")
    types = {}
    for type_name in types_sec.data:
        t = types_sec.section(type_name)
        types[type_name] = TelescopeDescription(
            type_name=type_name,
            tel_type=t.choice("tel_type", SIZE_CLASSES),
            optics=optics[t.choice("optics", tuple(optics))],
            camera=cameras[t.choice("camera", tuple(cameras))],
        )
    return types


def layout_path(name_or_path: str | Path) -> Path:
    """A layout given by name (``north_alpha``) or by path to a YAML file."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        return p
    return LAYOUT_DIR / f"{name_or_path}.yaml"


def available_layouts() -> list[str]:
    return sorted(p.stem for p in LAYOUT_DIR.glob("*.yaml"))


def load_subarray(
    layout: str | Path, telescopes_file: str | Path = TELESCOPES_FILE
) -> SubarrayDescription:
    """Read an array layout (name in configs/layouts/ or a path) into a SubarrayDescription."""
    path = layout_path(layout)
    if not path.is_file():
        raise ConfigError(
            str(path), "<file>", str(layout), f"a layout file or one of: {', '.join(available_layouts())}"
        )
    source = str(path)
    types = load_telescope_types(str(telescopes_file))
    root = _Section(read_yaml(path), source, "")
    s = root.section("site")
    site = Site(
        name=str(s.data.get("name", "")),
        lon_deg=s.number("lon_deg", sign="any"),
        lat_deg=s.number("lat_deg", sign="any"),
        altitude_m=s.number("altitude_m"),
        obs_level_m=s.number("obs_level_m"),
    )
    tels = root.data.get("telescopes")
    if not isinstance(tels, list) or not tels:
        raise ConfigError(source, "telescopes", tels, "a non-empty list of telescopes")
    ids, names, type_names, positions = [], [], [], []
    for i, entry in enumerate(tels):
        t = _Section(entry, source, f"telescopes[{i}]")
        tel_id = t.integer("tel_id")
        if tel_id in ids:
            raise ConfigError(source, f"telescopes[{i}].tel_id", tel_id, "a unique telescope id")
        ids.append(tel_id)
        names.append(str(t.data.get("name", f"T{tel_id}")))
        type_names.append(t.choice("type", tuple(types)))
        pos = t.data.get("pos")
        if not (isinstance(pos, list) and len(pos) == 3 and all(isinstance(v, (int, float)) for v in pos)):
            raise ConfigError(source, f"telescopes[{i}].pos", pos, "[x, y, z] in metres")
        positions.append(pos)
    return SubarrayDescription(
        name=str(root.data.get("name", path.stem)),
        site=site,
        tel_ids=np.array(ids, np.int16),
        tel_names=tuple(names),
        tel_type_names=tuple(type_names),
        positions=np.array(positions, np.float64),
        telescope_types={name: types[name] for name in dict.fromkeys(type_names)},
    )
