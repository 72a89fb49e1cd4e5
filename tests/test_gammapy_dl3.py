"""gammapy opens ctasim's DL3 (ctasim.io.gadf): DataStore.from_dir, then the events, GTI, pointing and
every IRF of each observation load with no warning (warnings raised as errors, no warning logged),
and the loaded values are the ones written. Inputs: the toy DL2 of ctasim.irf.toy (seconds)."""

import logging
import operator
import warnings

import astropy.units as u
import numpy as np
import pytest

from ctasim.instrument.config import load_subarray
from ctasim.instrument.frames import telescope_to_altaz
from ctasim.io import gadf
from ctasim.irf import observation
from ctasim.irf.background import background_2d
from ctasim.irf.binning import energy_bins
from ctasim.irf.cuts import evaluate_cut, gammaness_cut, rad_max, theta_cut
from ctasim.irf.effective_area import effective_area
from ctasim.irf.energy_dispersion import energy_dispersion
from ctasim.irf.psf import psf_table
from ctasim.irf.toy import weighted_toy_events
from ctasim.spectra import CRAB_MAGIC, IRFDOC_PROTON, LogParabola, PowerLaw

gammapy_data = pytest.importorskip("gammapy.data")
pytestmark = pytest.mark.reference

ENERGY = energy_bins(0.03 * u.TeV, 100 * u.TeV, 5)
GAMMA_OFFSETS = [0.0, 1.0] * u.deg
BKG_OFFSETS = [0.0, 1.0, 2.0, 3.0, 5.0] * u.deg
MIGRATION = np.geomspace(0.2, 5.0, 31)
RAD = np.linspace(0.0, 1.0, 21) * u.deg
LIVETIMES = [40, 80] * u.s


@pytest.fixture(scope="module")
def simulation():
    """(gammas, protons) weighted per second, the gammas' SimulationInfo, and the gammaness cuts."""
    tables = []
    for kwargs, spectrum in (
        (dict(particle="gamma", n_showers=30_000, seed=21, source_offset_deg=0.5), LogParabola(**CRAB_MAGIC)),
        (dict(particle="proton", n_showers=60_000, seed=22, energy_min_tev=0.1, energy_max_tev=200.0,
              max_scatter_m=1000.0, viewcone_deg=5.0), PowerLaw(**IRFDOC_PROTON)),
    ):
        tables.append(weighted_toy_events(spectrum, observation.PER_SECOND, **kwargs))
    (gammas, info), (protons, _) = tables
    cuts = gammaness_cut(gammas, ENERGY, 0.6)
    passed = [t[evaluate_cut(t["gammaness"], t["reco_energy"], cuts, operator.ge)] for t in (gammas, protons)]
    return passed, info, cuts, [gammas, protons]


def irfs(simulation, point_like):
    """name -> (IRF array, HDU) of the full-enclosure or the point-like (theta-cut) set."""
    (gammas, protons), info, _, _ = simulation
    if point_like:
        theta = theta_cut(gammas, ENERGY)
        gammas = gammas[evaluate_cut(gammas["theta"], gammas["reco_energy"], theta, operator.le)]
    aeff = effective_area(gammas, info, ENERGY, GAMMA_OFFSETS)
    edisp = energy_dispersion(gammas, ENERGY, MIGRATION, GAMMA_OFFSETS)
    bkg = background_2d(protons, ENERGY, BKG_OFFSETS, observation.PER_SECOND)
    out = {
        "aeff": (aeff, gadf.aeff_2d_hdu(aeff, ENERGY, GAMMA_OFFSETS, point_like)),
        "edisp": (edisp, gadf.edisp_2d_hdu(edisp, ENERGY, MIGRATION, GAMMA_OFFSETS, point_like)),
        "bkg": (bkg, gadf.bkg_2d_hdu(bkg, ENERGY, BKG_OFFSETS, point_like)),
    }
    if point_like:
        radius = rad_max(theta, GAMMA_OFFSETS)
        out["rad_max"] = (radius, gadf.rad_max_2d_hdu(radius, ENERGY, GAMMA_OFFSETS))
    else:
        psf = psf_table(gammas, ENERGY, GAMMA_OFFSETS, RAD)
        out["psf"] = (psf, gadf.psf_table_hdu(psf, ENERGY, GAMMA_OFFSETS, RAD))
    return out


@pytest.fixture(scope="module", params=[False, True], ids=["full-enclosure", "point-like"])
def store(request, tmp_path_factory, simulation):
    """(directory, observations, IRF arrays, point_like) of a written data store."""
    point_like = request.param
    _, _, cuts, populations = simulation
    source = tuple(float(a) for a in telescope_to_altaz(0.5, 0.0, 70.0, 0.0))  # the toy's default pointing
    run = gadf.RunInfo.from_subarray(load_subarray("north_alpha"), object_name="toy source", object_altaz=source)
    root = tmp_path_factory.mktemp("dl3")
    arrays = irfs(simulation, point_like)
    irf_file = gadf.write_irf_file(root / "irf.fits.gz", [h for _, h in arrays.values()], run)
    observations = observation.draw_observations(populations, cuts, LIVETIMES, seed=5)
    gadf.write_data_store(root, observations, run, irf_file)
    return root, observations, {name: a for name, (a, _) in arrays.items()}, point_like


def as_written(values):
    """Values as stored (float32)."""
    return np.asarray(u.Quantity(values).value, np.float32)


def test_gammapy_loads_every_hdu_without_warnings(store, caplog):
    root, observations, arrays, point_like = store
    required = "point-like" if point_like else "full-enclosure"
    irf_names = ["aeff", "edisp", "bkg", "rad_max" if point_like else "psf"]
    with caplog.at_level(logging.WARNING), warnings.catch_warnings():
        warnings.simplefilter("error")
        data_store = gammapy_data.DataStore.from_dir(root)
        assert list(data_store.obs_ids) == [obs.obs_id for obs in observations]
        loaded = {}
        for obs in observations:
            gp = data_store.obs(obs.obs_id, required_irf=required)
            loaded[obs.obs_id] = (gp, gp.events, gp.gti, gp.pointing, gp.meta, gp.target_radec,
                                  {name: getattr(gp, name) for name in irf_names})
        checks = [*data_store.check(checks=["obs_table", "hdu_table", "consistency"]),
                  *(record for gp, events, *_ in loaded.values()
                    for record in gammapy_data.event_list.EventListChecker(events).run(
                        checks=["meta", "times", "coordinates_altaz"]))]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not [c for c in checks if c["level"] in ("warning", "error")]

    for obs in observations:
        gp, events, gti, pointing, meta, target, irf = loaded[obs.obs_id]
        assert len(events.table) == len(obs.events) > 100
        np.testing.assert_allclose(events.energy.to_value(u.TeV), as_written(obs.events["reco_energy"]))
        np.testing.assert_allclose((events.time - gadf.RUN_EPOCH).to_value(u.s), obs.events["time"].to_value(u.s),
                                   atol=1e-6)
        assert gti.time_sum.to_value(u.s) == pytest.approx(obs.ontime)
        assert gp.observation_live_time_duration.to_value(u.s) == pytest.approx(obs.livetime)
        assert pointing.fixed_icrs.separation(target).deg == pytest.approx(0.5, abs=1e-3)
        assert meta.location.lat.deg == pytest.approx(28.7621661)
        for name, values in arrays.items():
            assert irf[name].is_pointlike == (point_like or name == "rad_max")
            np.testing.assert_array_equal(irf[name].quantity.to_value(u.Quantity(values).unit), as_written(values))
        np.testing.assert_allclose(irf["aeff"].axes["energy_true"].edges.to_value(u.TeV), ENERGY.value, rtol=1e-6)
        np.testing.assert_allclose(irf["bkg"].axes["offset"].edges.to_value(u.deg), BKG_OFFSETS.value)
