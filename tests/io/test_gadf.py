"""DL3 in GADF FITS (ctasim.io.gadf) and observations drawn from the weighted toy simulation
(ctasim.irf.observation): headers, columns and units of every HDU, index files, counts, no NaN."""

import operator
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import AltAz, EarthLocation, SkyCoord
from astropy.io import fits
from astropy.table import QTable, Table, vstack
from astropy.time import Time
from astropy.utils import iers

from ctasim.errors import CtasimError
from ctasim.instrument.config import load_subarray
from ctasim.instrument.frames import telescope_to_altaz
from ctasim.io import gadf
from ctasim.irf import observation
from ctasim.irf.background import background_2d
from ctasim.irf.binning import energy_bins
from ctasim.irf.cuts import evaluate_cut, gammaness_cut
from ctasim.irf.effective_area import effective_area
from ctasim.irf.energy_dispersion import energy_dispersion
from ctasim.irf.psf import psf_table
from ctasim.irf.toy import weighted_toy_events
from ctasim.reco.metrics import angular_separation_deg
from ctasim.spectra import CRAB_MAGIC, IRFDOC_ELECTRON, IRFDOC_PROTON, LogParabola, PowerLaw, PowerLawWithBump

POINTING = (70.0, 0.0)
SOURCE_OFFSET = 0.5  # deg, along +fov_lon (a wobble)
POPULATIONS = {
    "gamma": (dict(particle="gamma", n_showers=30_000, seed=11, source_offset_deg=SOURCE_OFFSET),
              LogParabola(**CRAB_MAGIC)),
    "proton": (dict(particle="proton", n_showers=60_000, seed=12, energy_min_tev=0.1, energy_max_tev=200.0,
                    max_scatter_m=1000.0, viewcone_deg=5.0), PowerLaw(**IRFDOC_PROTON)),
    "electron": (dict(particle="electron", n_showers=30_000, seed=13, energy_max_tev=30.0, spectral_index=-2.5,
                      viewcone_deg=5.0), PowerLawWithBump(**IRFDOC_ELECTRON)),
}
RECO_BINS = energy_bins(0.03 * u.TeV, 100 * u.TeV, 5)
GAMMA_OFFSETS = [0.0, 1.0] * u.deg
BKG_OFFSETS = [0.0, 1.0, 2.0, 3.0, 5.0] * u.deg
MIGRATION = np.geomspace(0.2, 5.0, 31)
RAD = np.linspace(0.0, 1.0, 21) * u.deg
SEED = 2026
MANDATORY_EVENTS_KEYS = (
    "HDUCLASS", "HDUDOC", "HDUVERS", "HDUCLAS1", "HDUCLAS2", "OBS_ID", "TSTART", "TSTOP", "ONTIME", "LIVETIME",
    "DEADC", "OBS_MODE", "RA_PNT", "DEC_PNT", "ALT_PNT", "AZ_PNT", "EQUINOX", "RADECSYS", "ORIGIN", "TELESCOP",
    "INSTRUME", "CREATOR", "MJDREFI", "MJDREFF", "TIMEUNIT", "TIMESYS", "TIMEREF", "OBSERVER", "GEOLON", "GEOLAT",
    "ALTITUDE", "DATE-OBS", "DATE-END", "OBJECT", "RA_OBJ", "DEC_OBJ",
)
TIME_KEYS = ("MJDREFI", "MJDREFF", "TIMEUNIT", "TIMESYS", "TIMEREF")


@pytest.fixture(scope="module")
def toy():
    """name -> (weighted IRF event table, SimulationInfo); weights in expected events per second."""
    out = {}
    for name, (kwargs, spectrum) in POPULATIONS.items():
        out[name] = weighted_toy_events(spectrum, observation.PER_SECOND, **kwargs, pointing=POINTING)
    return out


@pytest.fixture(scope="module")
def cuts(toy):
    return gammaness_cut(toy["gamma"][0], RECO_BINS, 0.5)


@pytest.fixture(scope="module")
def populations(toy):
    return [table for table, _ in toy.values()]


@pytest.fixture(scope="module")
def run(subarray):
    return gadf.RunInfo.from_subarray(subarray, object_name="toy source", object_altaz=source_altaz())


@pytest.fixture(scope="module")
def irf_hdus(toy, cuts):
    """Full-enclosure IRF HDUs of the toy after the gammaness cut (the gamma source at 0.5 deg)."""
    gammas, info = toy["gamma"]
    gammas = gammas[evaluate_cut(gammas["gammaness"], gammas["reco_energy"], cuts, operator.ge)]
    background = vstack([t[evaluate_cut(t["gammaness"], t["reco_energy"], cuts, operator.ge)]
                         for t in (toy["proton"][0], toy["electron"][0])])
    return [
        gadf.aeff_2d_hdu(effective_area(gammas, info, RECO_BINS, GAMMA_OFFSETS), RECO_BINS, GAMMA_OFFSETS),
        gadf.edisp_2d_hdu(energy_dispersion(gammas, RECO_BINS, MIGRATION, GAMMA_OFFSETS), RECO_BINS, MIGRATION,
                          GAMMA_OFFSETS),
        gadf.psf_table_hdu(psf_table(gammas, RECO_BINS, GAMMA_OFFSETS, RAD), RECO_BINS, GAMMA_OFFSETS, RAD),
        gadf.bkg_2d_hdu(background_2d(background, RECO_BINS, BKG_OFFSETS, observation.PER_SECOND), RECO_BINS,
                        BKG_OFFSETS),
    ]


@pytest.fixture(scope="module")
def store(tmp_path_factory, populations, cuts, run, irf_hdus):
    """A data store in dl3/ with two observations (60 s and 120 s), its IRF file in ../irf."""
    root = tmp_path_factory.mktemp("run")
    irf_file = gadf.write_irf_file(root / "irf" / "irf.fits.gz", irf_hdus, run)
    observations = observation.draw_observations(populations, cuts, [60, 120] * u.s, SEED)
    paths = gadf.write_data_store(root / "dl3", observations, run, irf_file)
    return root, observations, paths


def source_altaz():
    """Simulated (alt, az) of the toy's gamma source: SOURCE_OFFSET along +fov_lon of the pointing."""
    alt, az = telescope_to_altaz(SOURCE_OFFSET, 0.0, *POINTING)
    return float(alt), float(az)


def hdu(path, name):
    with fits.open(path) as hdul:
        return hdul[name].copy()


# ------------------------------------------------------------------------------------- events


def test_events_header_has_every_mandatory_keyword(store, run):
    root, observations, _ = store
    obs = observations[1]
    header = hdu(root / "dl3" / gadf.events_file_name(obs.obs_id), "EVENTS").header
    missing = [key for key in MANDATORY_EVENTS_KEYS if key not in header]
    assert not missing
    assert (header["HDUCLASS"], header["HDUCLAS1"], header["HDUVERS"]) == ("GADF", "EVENTS", "0.3")
    assert header["OBS_ID"] == obs.obs_id == 2
    assert header["TSTART"] == pytest.approx(60.0) and header["TSTOP"] == pytest.approx(180.0)
    assert header["ONTIME"] == pytest.approx(120.0) and header["LIVETIME"] == pytest.approx(120.0)
    assert header["DEADC"] == pytest.approx(1.0)
    assert (header["GEOLON"], header["GEOLAT"], header["ALTITUDE"]) == pytest.approx(
        (run.site.lon_deg, run.site.lat_deg, run.site.altitude_m))
    assert header["INSTRUME"] == "north_alpha" and header["N_TELS"] == 13
    reference = Time(header["MJDREFI"], header["MJDREFF"], format="mjd", scale=header["TIMESYS"].lower())
    assert abs((reference - gadf.RUN_EPOCH).to_value(u.s)) < 1e-6
    assert abs((Time(header["DATE-OBS"], scale="tt") - (reference + 60 * u.s)).to_value(u.s)) < 1e-3


def test_events_columns_units_and_values(store):
    root, observations, _ = store
    obs = observations[0]
    table = Table.read(root / "dl3" / gadf.events_file_name(obs.obs_id), hdu="EVENTS")
    units = {"EVENT_ID": None, "TIME": u.s, "RA": u.deg, "DEC": u.deg, "ENERGY": u.TeV, "ALT": u.deg, "AZ": u.deg,
             "GAMMANESS": None, "MULTIP": None, "MC_ID": None}
    assert table.colnames == list(units)
    assert {name: table[name].unit for name in units} == units
    assert (table["EVENT_ID"].dtype.str[1:], table["TIME"].dtype.str[1:]) == ("i8", "f8")
    assert len(table) == len(obs.events) > 100
    np.testing.assert_array_equal(table["EVENT_ID"], np.arange(1, len(table) + 1))
    np.testing.assert_array_equal(table["TIME"], obs.events["time"].to_value(u.s))
    np.testing.assert_allclose(table["ENERGY"], obs.events["reco_energy"].to_value(u.TeV), rtol=1e-7)
    np.testing.assert_array_equal(table["MC_ID"], obs.events["true_shower_primary_id"])
    assert np.all(np.diff(table["TIME"]) > 0)
    assert np.all((table["TIME"] >= obs.t_start) & (table["TIME"] <= obs.t_stop))


def test_sky_coordinates_keep_the_simulated_geometry(store, run):
    """RA/Dec from the AltAz frame at the run epoch: offsets to the pointing are the simulated ones,
    the gamma source sits at RA_OBJ/DEC_OBJ, and ALT/AZ are the tracked coordinates at each TIME."""
    root, observations, _ = store
    obs = observations[1]
    path = root / "dl3" / gadf.events_file_name(obs.obs_id)
    header, table = hdu(path, "EVENTS").header, Table.read(path, hdu="EVENTS")
    location = EarthLocation(lon=run.site.lon_deg * u.deg, lat=run.site.lat_deg * u.deg,
                             height=run.site.altitude_m * u.m)
    with iers.conf.set_temp("auto_download", False):
        expected = SkyCoord(alt=POINTING[0] * u.deg, az=POINTING[1] * u.deg,
                            frame=AltAz(obstime=gadf.RUN_EPOCH, location=location)).icrs
        pointing = SkyCoord(header["RA_PNT"] * u.deg, header["DEC_PNT"] * u.deg)
        assert pointing.separation(expected).to_value(u.arcsec) < 1e-3
        events = SkyCoord(table["RA"].quantity, table["DEC"].quantity)
        simulated = angular_separation_deg(obs.events["reco_alt"].to_value(u.deg),
                                           obs.events["reco_az"].to_value(u.deg), *POINTING)
        # equal up to the differential aberration across the field of view (< 2 arcsec)
        np.testing.assert_allclose(events.separation(pointing).deg, simulated, atol=6e-4)
        target = SkyCoord(header["RA_OBJ"] * u.deg, header["DEC_OBJ"] * u.deg)
        assert target.separation(pointing).deg == pytest.approx(SOURCE_OFFSET, abs=1e-4)
        gammas = table["MC_ID"] == 0
        assert np.median(events[gammas].separation(target).deg) < 0.3
        assert np.median(events[~gammas].separation(target).deg) > 1.0
        some = np.linspace(0, len(table) - 1, 40).astype(int)
        times = Time(header["MJDREFI"], header["MJDREFF"], format="mjd", scale="tt") + table["TIME"].quantity[some]
        exact = events[some].transform_to(AltAz(obstime=times, location=location))
    written = SkyCoord(table["AZ"].quantity[some], table["ALT"].quantity[some])
    assert SkyCoord(exact.az, exact.alt).separation(written).max().to_value(u.arcsec) < 1.0
    # the array tracks: late in the run the events are no longer at their simulated alt/az
    simulated_altaz = SkyCoord(obs.events["reco_az"][some], obs.events["reco_alt"][some])
    assert simulated_altaz.separation(written)[-1].deg > 0.05


def test_gti_and_pointing_hdus(store):
    root, observations, _ = store
    obs = observations[1]
    path = root / "dl3" / gadf.events_file_name(obs.obs_id)
    gti, pointing = hdu(path, "GTI"), hdu(path, "POINTING")
    events = hdu(path, "EVENTS").header
    for header, clas1 in ((gti.header, "GTI"), (pointing.header, "POINTING")):
        assert (header["HDUCLASS"], header["HDUCLAS1"]) == ("GADF", clas1)
        assert all(header[key] == events[key] for key in TIME_KEYS)
    assert gti.columns.names == ["START", "STOP"] and gti.columns["START"].unit == "s"
    assert (gti.data["START"][0], gti.data["STOP"][0]) == pytest.approx((obs.t_start, obs.t_stop))
    assert pointing.columns.names == ["TIME", "RA_PNT", "DEC_PNT", "ALT_PNT", "AZ_PNT"]
    assert pointing.data["TIME"][0] == obs.t_start and pointing.data["TIME"][-1] == obs.t_stop
    np.testing.assert_allclose(pointing.data["RA_PNT"], events["RA_PNT"])
    assert np.all(np.diff(pointing.data["AZ_PNT"]) != 0)  # tracking moves the array in azimuth


def test_files_are_atomic_checksummed_and_reproducible(store, tmp_path, run):
    root, observations, paths = store
    assert not list(root.rglob("*.tmp"))
    again = gadf.write_events_file(tmp_path / "again.fits.gz", observations[0], run)
    assert fits.FITSDiff(str(again), str(paths[0]), ignore_keywords=["CHECKSUM", "DATASUM"]).identical
    with fits.open(again, checksum=True) as hdul:
        assert all(h.verify_checksum() == 1 for h in hdul)


# --------------------------------------------------------------------------------------- IRFs


def test_irf_hdus_headers_columns_and_units():
    energy, offset = [0.1, 1.0, 10.0] * u.TeV, [0.0, 1.0] * u.deg
    aeff = np.array([[1.0e4], [2.0e5]]) * u.m**2
    hdus = {
        "aeff": gadf.aeff_2d_hdu(aeff, energy, offset, point_like=True),
        "edisp": gadf.edisp_2d_hdu(np.ones((2, 3, 1)), energy, [0.5, 0.8, 1.25, 2.0], offset),
        "psf": gadf.psf_table_hdu(np.ones((2, 1, 4)) / u.sr, energy, offset, [0.0, 0.1, 0.2, 0.3, 0.4] * u.deg),
        "bkg": gadf.bkg_2d_hdu(np.full((2, 1), 1e-9) / (u.s * u.TeV * u.sr), energy, offset),
        "rad_max": gadf.rad_max_2d_hdu([[0.1], [0.05]] * u.deg, energy, offset),
    }
    expected = {  # extname, HDUCLAS2, HDUCLAS3, HDUCLAS4, data column, its unit, its TDIM
        "aeff": ("EFFECTIVE AREA", "EFF_AREA", "POINT-LIKE", "AEFF_2D", "EFFAREA", u.m**2, "(2,1)"),
        "edisp": ("ENERGY DISPERSION", "EDISP", "FULL-ENCLOSURE", "EDISP_2D", "MATRIX", None, "(2,3,1)"),
        "psf": ("PSF", "PSF", "FULL-ENCLOSURE", "PSF_TABLE", "RPSF", 1 / u.sr, "(2,1,4)"),
        "bkg": ("BACKGROUND", "BKG", "FULL-ENCLOSURE", "BKG_2D", "BKG", 1 / (u.s * u.MeV * u.sr), "(2,1)"),
        "rad_max": ("RAD_MAX", "RAD_MAX", "POINT-LIKE", "RAD_MAX_2D", "RAD_MAX", u.deg, "(2,1)"),
    }
    for kind, h in hdus.items():
        extname, clas2, clas3, clas4, column, unit, tdim = expected[kind]
        header = h.header
        assert (h.name, header["HDUCLASS"], header["HDUCLAS1"]) == (extname, "GADF", "RESPONSE")
        assert (header["HDUCLAS2"], header["HDUCLAS3"], header["HDUCLAS4"]) == (clas2, clas3, clas4)
        assert header["HDUDOC"] == gadf.HDUDOC and header["HDUVERS"] == "0.3"
        table = Table.read(fits.HDUList([fits.PrimaryHDU(), h]), hdu=1)
        assert table[column].unit == unit
        assert header[f"TDIM{h.columns.names.index(column) + 1}"] == tdim
        assert table["ENERG_LO"].unit == u.TeV and table["THETA_HI"].unit == u.deg
        assert table["THETA_LO"].shape == (1, 1)  # a one-bin axis is still an array
    table = Table.read(fits.HDUList([fits.PrimaryHDU(), hdus["bkg"]]), hdu=1)
    np.testing.assert_allclose(table["BKG"].quantity[0].T.to_value("1 / (s MeV sr)"), 1e-15, rtol=1e-6)
    np.testing.assert_allclose(Table.read(fits.HDUList([fits.PrimaryHDU(), hdus["aeff"]]), hdu=1)["EFFAREA"][0].T,
                               aeff.value)


@pytest.mark.parametrize("bad, message", [
    (dict(effective_area=np.full((2, 1), np.nan) * u.m**2), "non-finite"),
    (dict(effective_area=np.ones((1, 2)) * u.m**2), "shape"),
    (dict(effective_area=np.ones((2, 1)) * u.s), "expected values in m2"),
    (dict(true_energy_bins=[1.0, 0.1, 10.0] * u.TeV), "increasing"),
])
def test_irf_hdus_refuse_bad_arrays(bad, message):
    kwargs = dict(effective_area=np.ones((2, 1)) * u.m**2, true_energy_bins=[0.1, 1.0, 10.0] * u.TeV,
                  fov_offset_bins=[0.0, 1.0] * u.deg) | bad
    with pytest.raises(CtasimError, match=message):
        gadf.aeff_2d_hdu(**kwargs)


def test_irf_file_rules(tmp_path, run):
    energy, offset = [0.1, 1.0] * u.TeV, [0.0, 1.0] * u.deg
    aeff = gadf.aeff_2d_hdu([[1.0]] * u.m**2, energy, offset)
    aeff_pl = gadf.aeff_2d_hdu([[1.0]] * u.m**2, energy, offset, point_like=True)
    psf = gadf.psf_table_hdu([[[1.0]]] / u.sr, energy, offset, [0.0, 0.1] * u.deg)
    rad_max = gadf.rad_max_2d_hdu([[0.1]] * u.deg, energy, offset)
    for hdus, message in (([aeff_pl], "need a RAD_MAX"), ([aeff_pl, rad_max, psf], "mixes"),
                          ([aeff, rad_max], "mixes|belongs to point-like"), ([aeff, aeff], "more than one"),
                          ([], "one or more")):
        with pytest.raises(CtasimError, match=message):
            gadf.write_irf_file(tmp_path / "irf.fits.gz", hdus, run)
    assert not list(tmp_path.iterdir())
    path = gadf.write_irf_file(tmp_path / "irf.fits.gz", [aeff_pl, rad_max], run)
    with fits.open(path) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "EFFECTIVE AREA", "RAD_MAX"]
        assert all(h.header["INSTRUME"] == "north_alpha" and h.header["CREATOR"] == gadf.CREATOR for h in hdul)


def test_layout_follows_the_prod5_irf_files(reference_data, irf_hdus):
    """Same extension names, column names, classes and axis order as the official Prod5 files."""
    paths = sorted((reference_data / "irf").glob("Prod5-*.fits.gz"))
    assert paths
    ours = {h.name: h for h in irf_hdus}
    for path in paths:
        with fits.open(path) as hdul:
            for name in ("EFFECTIVE AREA", "ENERGY DISPERSION"):
                theirs, mine = hdul[name], ours[name]
                assert theirs.columns.names == mine.columns.names
                assert [theirs.header[f"HDUCLAS{i}"] for i in range(1, 5)] == \
                       [mine.header[f"HDUCLAS{i}"] for i in range(1, 5)]
                for h in (theirs, mine):
                    table = Table.read(fits.HDUList([fits.PrimaryHDU(), h.copy()]), hdu=1)
                    data = table[h.columns.names[-1]][0].T  # numpy order reversed: energy first
                    assert data.shape[0] == table["ENERG_LO"].shape[1] and data.shape[-1] == table["THETA_LO"].shape[1]
            assert u.Unit(hdul["BACKGROUND"].columns["BKG"].unit) == u.Unit(ours["BACKGROUND"].columns["BKG"].unit)


# -------------------------------------------------------------------------------- data store


def test_index_files_list_every_hdu(store):
    root, observations, paths = store
    directory = root / "dl3"
    assert {p.name for p in paths} >= {gadf.HDU_INDEX_FILE, gadf.OBS_INDEX_FILE}
    index = Table.read(directory / gadf.HDU_INDEX_FILE, hdu="HDU_INDEX")
    header = hdu(directory / gadf.HDU_INDEX_FILE, "HDU_INDEX").header
    assert (header["HDUCLASS"], header["HDUCLAS1"], header["HDUCLAS2"]) == ("GADF", "INDEX", "HDU")
    listed = {(int(r["OBS_ID"]), (directory / r["FILE_DIR"] / r["FILE_NAME"]).resolve(), r["HDU_NAME"])
              for r in index}
    files = {obs.obs_id: [directory / gadf.events_file_name(obs.obs_id), root / "irf" / "irf.fits.gz"]
             for obs in observations}
    on_disk = set()
    for obs_id, obs_files in files.items():
        for path in obs_files:
            with fits.open(path) as hdul:
                on_disk |= {(obs_id, path.resolve(), h.name) for h in hdul if h.header.get("HDUCLASS") == "GADF"}
    assert listed == on_disk and len(on_disk) == 2 * 7
    assert set(index["FILE_DIR"]) == {".", "../irf"}
    types = {(r["HDU_TYPE"], r["HDU_CLASS"]) for r in index}
    assert types == {("events", "events"), ("gti", "gti"), ("pointing", "pointing"), ("aeff", "aeff_2d"),
                     ("edisp", "edisp_2d"), ("psf", "psf_table"), ("bkg", "bkg_2d")}


def test_obs_index_describes_each_observation(store):
    root, observations, _ = store
    path = root / "dl3" / gadf.OBS_INDEX_FILE
    table, header = Table.read(path, hdu="OBS_INDEX"), hdu(path, "OBS_INDEX").header
    assert (header["HDUCLAS1"], header["HDUCLAS2"]) == ("INDEX", "OBS")
    assert all(key in header for key in (*TIME_KEYS, "GEOLON", "GEOLAT", "ALTITUDE"))
    assert list(table["OBS_ID"]) == [obs.obs_id for obs in observations]
    assert table["RA_PNT"].unit == u.deg and table["TSTART"].unit == u.s
    np.testing.assert_allclose(table["LIVETIME"], [obs.livetime for obs in observations])
    assert list(table["EVENT_COUNT"]) == [len(obs.events) for obs in observations]
    np.testing.assert_allclose(table["ZEN_PNT"], 90.0 - table["ALT_PNT"])


def test_index_refuses_inconsistent_observations(store, tmp_path, run):
    root, observations, _ = store
    irf_file = root / "irf" / "irf.fits.gz"
    with pytest.raises(CtasimError, match="duplicate obs_id"):
        gadf.write_data_store(tmp_path, [observations[0], observations[0]], run, irf_file)
    with pytest.raises(CtasimError, match="at most one"):
        gadf.write_index_files(tmp_path, {1: [root / "dl3" / gadf.events_file_name(1), irf_file, irf_file]})
    with pytest.raises(CtasimError, match="has OBS_ID 1"):
        gadf.write_index_files(tmp_path, {5: [root / "dl3" / gadf.events_file_name(1), irf_file]})
    with pytest.raises(CtasimError, match="not found"):
        gadf.write_data_store(tmp_path, observations, run, tmp_path / "missing.fits.gz")


def test_no_fits_file_holds_nan(store):
    root, _, _ = store
    checked = 0
    for path in sorted(root.rglob("*.fits.gz")):
        with fits.open(path) as hdul:
            for h in hdul[1:]:
                for name in h.columns.names:
                    values = np.asarray(h.data[name])
                    if values.dtype.kind == "f":
                        assert np.all(np.isfinite(values)), f"{path.name}[{h.name}].{name}"
                        checked += 1
        for key, value in fits.getheader(path, 1).items():
            assert not (isinstance(value, float) and not np.isfinite(value)), key
    assert checked > 20


def test_non_finite_events_are_refused_and_nothing_is_written(store, tmp_path, run):
    _, observations, _ = store
    obs = observations[0]
    events = obs.events.copy()
    events["reco_energy"][3] = np.nan * u.TeV
    bad = gadf.DL3Observation(obs.obs_id, obs.t_start, obs.t_stop, obs.livetime, obs.pointing_alt,
                              obs.pointing_az, events)
    with pytest.raises(CtasimError, match="ENERGY: 1 non-finite"):
        gadf.write_events_file(tmp_path / "bad.fits.gz", bad, run)
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------------- observations


def test_counts_follow_the_livetime(populations, cuts):
    """Each observation's counts, per species, are Poisson with mean rate x livetime."""
    selected = observation.select_events(populations, cuts)
    rate = observation.expected_counts(selected, 1 * u.s)
    assert set(rate) == {0, 1, 101} and all(r > 0.1 for r in rate.values())
    for k, livetime in enumerate([5, 20, 80, 320] * u.s):
        obs = observation.draw_observation(selected, 100 + k, livetime, SEED)
        primary = np.asarray(obs.events["true_shower_primary_id"])
        for pid, r in rate.items():
            mu = r * livetime.to_value(u.s)
            assert abs(np.count_nonzero(primary == pid) - mu) < 5 * np.sqrt(mu) + 1, (pid, livetime)
    n = [len(observation.draw_observation(selected, 200 + k, 2 * u.s, SEED).events) for k in range(40)]
    mu = sum(rate.values()) * 2
    assert abs(np.mean(n) - mu) < 5 * np.sqrt(mu / len(n))
    assert 0.4 < np.var(n, ddof=1) / mu < 1.9  # Poisson dispersion (chi2 with 39 dof, beyond 99.9%)


def test_written_counts_follow_the_livetime(store, populations, cuts):
    root, observations, _ = store
    rate = sum(observation.expected_counts(observation.select_events(populations, cuts), 1 * u.s).values())
    for obs in observations:
        n = fits.getheader(root / "dl3" / gadf.events_file_name(obs.obs_id), "EVENTS")["NAXIS2"]
        mu = rate * obs.livetime
        assert abs(n - mu) < 5 * np.sqrt(mu)


def test_draws_are_reproducible_and_times_uniform(populations, cuts):
    selected = observation.select_events(populations, cuts)
    a = observation.draw_observation(selected, 7, 30 * u.s, SEED, t_start=100 * u.s)
    b = observation.draw_observation(selected, 7, 30 * u.s, SEED, t_start=100 * u.s)
    c = observation.draw_observation(selected, 8, 30 * u.s, SEED, t_start=100 * u.s)
    assert np.array_equal(a.events["time"], b.events["time"])
    assert np.array_equal(a.events["sim_event_id"], b.events["sim_event_id"])
    assert len(a.events) != len(c.events) or not np.array_equal(a.events["time"], c.events["time"])
    time = a.events["time"].to_value(u.s)
    assert a.t_start == 100.0 and a.t_stop == 130.0 and time.min() >= 100.0 and time.max() <= 130.0
    first_half = np.count_nonzero(time < 115.0)
    assert abs(first_half - time.size / 2) < 5 * np.sqrt(time.size / 4)


def test_consecutive_observations_and_dead_time(populations, cuts):
    observations = observation.draw_observations(populations, cuts, [10, 20, 30] * u.s, SEED, first_obs_id=4,
                                                 t_start=5 * u.s, deadc=0.8)
    assert [o.obs_id for o in observations] == [4, 5, 6]
    assert observations[0].t_start == 5.0
    assert [o.t_start for o in observations[1:]] == [o.t_stop for o in observations[:-1]]
    assert [o.ontime for o in observations] == pytest.approx([12.5, 25.0, 37.5])
    assert [o.deadc for o in observations] == pytest.approx([0.8] * 3)


def test_empty_observation_is_flagged_and_written(populations, cuts, run, tmp_path, store):
    root, _, _ = store
    obs = observation.draw_observation(observation.select_events(populations, cuts), 1, 1e-6 * u.s, SEED)
    assert obs.is_empty
    gadf.write_data_store(tmp_path, [obs], run, root / "irf" / "irf.fits.gz")
    assert fits.getheader(tmp_path / gadf.events_file_name(1), "EVENTS")["NAXIS2"] == 0
    assert list(Table.read(tmp_path / gadf.OBS_INDEX_FILE)["EVENT_COUNT"]) == [0]


@pytest.mark.parametrize("change, message", [
    (dict(livetimes=0 * u.s), "expected a time above zero"),
    (dict(livetimes=-1 * u.h), "expected a time above zero"),
    (dict(livetimes=[10, 0] * u.s), "expected a time above zero"),
    (dict(livetimes=5.0), "expected a time"),
    (dict(deadc=0.0), "deadc"),
    (dict(drop="weight"), "lacks column\\(s\\) weight"),
    (dict(weight=np.nan), "not finite"),
    (dict(keep_nothing=True), "empty selection"),
    (dict(populations=[]), "no populations"),
])
def test_bad_input_gives_one_line_errors(populations, cuts, change, message):
    pops = [p.copy(copy_data=False) for p in populations]
    kwargs = dict(livetimes=10 * u.s, deadc=1.0)
    kwargs.update({k: v for k, v in change.items() if k in kwargs})
    if "drop" in change:
        pops[1].remove_column(change["drop"])
    if "weight" in change:
        pops[0]["weight"] = np.full(len(pops[0]), change["weight"])
    if "populations" in change:
        pops = change["populations"]
    table = cuts.copy()
    if change.get("keep_nothing"):
        table["cut"] = np.inf
    with pytest.raises(CtasimError, match=message) as err:
        observation.draw_observations(pops, table, seed=SEED, **kwargs)
    assert "\n" not in str(err.value)


def test_populations_with_different_pointings_are_refused(toy, cuts):
    gammas = toy["gamma"][0].copy()
    gammas["pointing_alt"] = gammas["pointing_alt"] + 1 * u.deg
    with pytest.raises(CtasimError, match="differ in pointing_alt"):
        observation.select_events([gammas, toy["proton"][0]], cuts)


def test_observation_refuses_inconsistent_times():
    events = QTable({"event_id": [1, 2], "time": [1.0, 0.5] * u.s, "reco_alt": [70.0, 70.0] * u.deg,
                     "reco_az": [0.0, 0.0] * u.deg, "reco_energy": [1.0, 1.0] * u.TeV})
    with pytest.raises(CtasimError, match="not strictly increasing"):
        gadf.DL3Observation(1, 0.0, 2.0, 2.0, 70.0, 0.0, events)
    with pytest.raises(CtasimError, match="outside"):
        gadf.DL3Observation(1, 0.8, 2.0, 1.2, 70.0, 0.0, events[::-1])
    with pytest.raises(CtasimError, match="livetime"):
        gadf.DL3Observation(1, 0.0, 2.0, 3.0, 70.0, 0.0, events[::-1])


def test_run_info_from_the_subarray_site():
    subarray = load_subarray("south_alpha")
    run = gadf.RunInfo.from_subarray(subarray)
    assert run.instrument == subarray.name and run.site == subarray.site
    assert run.location.lat.deg == pytest.approx(subarray.site.lat_deg)
    assert Path(gadf.events_file_name(12)).name == "obs_000012.fits.gz"
