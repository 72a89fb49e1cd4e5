"""A small run directory with real DL0 archives for the offline tests.

The archives are written with the real ``DL0ArchiveWriter`` in the archiver's layout (one per
particle stream, truth tables, stereo trigger, shower distribution, provenance with the scenario's
pointing). Their images are drawn from ``ctasim.reco.toy.toy_events``: each telescope row's Hillas
ellipse (centroid, axis, length, width, intensity) is rendered as a Gaussian on the camera with
noise, so the stereo geometry is consistent and energy / particle type are learnable.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ctasim.datamodel import paths
from ctasim.datamodel.dl0 import EncodedBlock
from ctasim.datamodel.simulation import SHOWER_UNITS
from ctasim.image.pixels import telescope_pixels
from ctasim.instrument.config import load_subarray
from ctasim.io.archive import DL0ArchiveWriter
from ctasim.io.provenance import make_provenance
from ctasim.reco.toy import toy_events

POINTING = (70.0, 0.0)
BLOCK_EVENTS = 64
SCENARIO = {"name": "synthetic", "array": {"layout": "north_alpha", "pointing": {"alt_deg": 70.0, "az_deg": 0.0}}}
DISTRIBUTION_DTYPE = np.dtype(
    [("obs_id", "i4"), ("particle", "S16"), ("n_showers", "i8"), ("energy_min", "f8"), ("energy_max", "f8"),
     ("spectral_index", "f8"), ("max_scatter_radius", "f8"), ("viewcone_min", "f8"), ("viewcone_max", "f8"),
     ("source_offset", "f8")]
)


def render(rows: np.ndarray, tel, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian Hillas ellipses of DL1 rows on a camera + 1 p.e. noise -> (charge, peak_time ns)."""
    geom, f = tel.camera.geometry, tel.optics.effective_focal_length
    px = telescope_pixels(geom, f)
    pix_sr_deg2 = geom.pix_area / f**2 * np.rad2deg(1.0) ** 2
    psi = np.deg2rad(rows["hillas_psi"])[:, None]
    dx = px.fov_lon[None, :] - rows["hillas_fov_lon"][:, None]
    dy = px.fov_lat[None, :] - rows["hillas_fov_lat"][:, None]
    along = dx * np.cos(psi) + dy * np.sin(psi)
    across = -dx * np.sin(psi) + dy * np.cos(psi)
    length, width = rows["hillas_length"][:, None], rows["hillas_width"][:, None]
    density = np.exp(-0.5 * ((along / length) ** 2 + (across / width) ** 2)) / (2 * np.pi * length * width)
    charge = rows["hillas_intensity"][:, None] * density * pix_sr_deg2[None, :]
    charge += rng.normal(0.0, 1.0, charge.shape)
    peak_time = 20.0 + 5.0 * along + rng.normal(0.0, 0.5, charge.shape)
    return charge.astype(np.float32), peak_time.astype(np.float32)


def write_archive(run_dir: Path, subarray, stream: str, obs_id: int, n: int, hadron: bool, seed: int) -> Path:
    """One DL0 archive of ``n`` toy showers of one stream, in the archiver's layout."""
    table, truth = toy_events(
        subarray, n, seed=seed, pointing_alt=POINTING[0], pointing_az=POINTING[1],
        hadron_fraction=1.0 if hadron else 0.0, obs_id=obs_id, tels_per_event=(2, 6),
        energy_range_tev=(0.05, 50.0), max_offset_deg=1.0,
    )
    rng = np.random.default_rng(seed)
    prov = make_provenance("synthetic", SCENARIO, seed, extra={"stream": stream, "obs_id": obs_id})
    path = run_dir / "dl0" / f"synthetic_{stream}_obs{obs_id:06d}.dl0.h5"
    with DL0ArchiveWriter(path, subarray, prov) as w:
        for tel_id in subarray.tel_ids:
            rows = table[table["tel_id"] == tel_id]
            for b, start in enumerate(range(0, rows.size, BLOCK_EVENTS)):
                part = rows[start : start + BLOCK_EVENTS]
                charge, peak_time = render(part, subarray.tel(tel_id), rng)
                columns = {
                    "event_id": part["event_id"].astype(np.int64),
                    "trigger_time": truth["time"][part["event_id"] - 1],
                    "charge": charge,
                    "peak_time": peak_time,
                }
                w.append(EncodedBlock.encode(stream, obs_id, int(tel_id), b, "zstd", columns))
        trigger = np.zeros(n, [("obs_id", "i4"), ("event_id", "i8"), ("time", "f8"),
                               ("tels_with_trigger", "?", (subarray.n_tels,))])
        trigger["obs_id"], trigger["event_id"], trigger["time"] = obs_id, truth["event_id"], truth["time"]
        trigger["tels_with_trigger"][table["event_id"] - 1, np.searchsorted(subarray.tel_ids, table["tel_id"])] = True
        w.append_table(paths.DL0_SUBARRAY_TRIGGER, trigger, {"time": "s"})
        # ten simulated showers per block that triggered nothing, for the efficiencies
        missed = truth[:10].copy()
        missed["event_id"] += 10 * n
        w.append_table(paths.SIMULATION_SHOWER, np.concatenate([truth, missed]), SHOWER_UNITS)
        dist = np.array([(obs_id, "proton" if hadron else "gamma", n + 10, 0.05, 50.0, -1.0, 300.0, 0.0,
                          0.0, 0.0)], DISTRIBUTION_DTYPE)
        w.append_table(paths.SIMULATION_SHOWER_DISTRIBUTION, dist, {"energy_min": "TeV", "energy_max": "TeV"})
    return path


@pytest.fixture(scope="session")
def subarray():
    return load_subarray("north_alpha")


@pytest.fixture(scope="session")
def dl0_run(tmp_path_factory, subarray) -> Path:
    """A run directory with dl0/ holding a gamma and a proton archive (read-only: copy it)."""
    run_dir = tmp_path_factory.mktemp("run")
    write_archive(run_dir, subarray, "gamma", 1, 400, hadron=False, seed=1)
    write_archive(run_dir, subarray, "proton", 2, 400, hadron=True, seed=2)
    return run_dir


@pytest.fixture
def run_dir(tmp_path, dl0_run) -> Path:
    """A private copy of ``dl0_run``."""
    shutil.copytree(dl0_run / "dl0", tmp_path / "dl0")
    return tmp_path
