"""ctasim.io.gadf_read: ctasim's own IRF files read back as written; the official Prod5 files read, and
(with gammapy) read alike by gammapy."""

import gzip
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits

from ctasim.errors import DataFileError
from ctasim.io import gadf
from ctasim.io.gadf_read import Background3D, Psf3Gauss, PsfTable, read_irfs
from ctasim.paths import PROD5_IRF_FILES

ENERGY = np.geomspace(0.02, 200.0, 11) * u.TeV
MIGRATION = np.geomspace(0.2, 5.0, 31)
OFFSETS = [0.0, 1.0] * u.deg
BKG_OFFSETS = [0.0, 1.0, 2.0, 4.0] * u.deg
RAD = np.linspace(0.0, 1.0, 21) * u.deg


@pytest.fixture(scope="module")
def arrays():
    rng = np.random.default_rng(3)
    n_e = ENERGY.size - 1
    return {
        "aeff": rng.uniform(1e3, 1e6, (n_e, 1)) * u.m**2,
        "edisp": rng.uniform(0.0, 2.0, (n_e, MIGRATION.size - 1, 1)),
        "psf": rng.uniform(0.0, 50.0, (n_e, 1, RAD.size - 1)) / u.sr,
        "bkg": rng.uniform(1e-8, 1e-2, (n_e, BKG_OFFSETS.size - 1)) * u.Unit("1 / (s MeV sr)"),
        "rad_max": rng.uniform(0.05, 0.3, (n_e, 1)) * u.deg,
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory, arrays, subarray):
    """(point-like file, full-enclosure file) written by ctasim.io.gadf."""
    run = gadf.RunInfo.from_subarray(subarray)
    root = tmp_path_factory.mktemp("irf")
    point = gadf.write_irf_file(root / "irf_pass1.fits.gz", [
        gadf.aeff_2d_hdu(arrays["aeff"], ENERGY, OFFSETS, point_like=True),
        gadf.edisp_2d_hdu(arrays["edisp"], ENERGY, MIGRATION, OFFSETS, point_like=True),
        gadf.bkg_2d_hdu(arrays["bkg"], ENERGY, BKG_OFFSETS, point_like=True),
        gadf.rad_max_2d_hdu(arrays["rad_max"], ENERGY, OFFSETS),
    ], run)
    full = gadf.write_irf_file(root / "irf_full_enclosure_pass1.fits.gz", [
        gadf.aeff_2d_hdu(arrays["aeff"], ENERGY, OFFSETS),
        gadf.edisp_2d_hdu(arrays["edisp"], ENERGY, MIGRATION, OFFSETS),
        gadf.psf_table_hdu(arrays["psf"], ENERGY, OFFSETS, RAD),
        gadf.bkg_2d_hdu(arrays["bkg"], ENERGY, BKG_OFFSETS),
    ], run)
    return point, full


def _same(read, written, unit=None):
    """Equal to what was written, up to the float32 of the file."""
    read_values = read.to_value(unit) if unit is not None else np.asarray(read)
    written_values = written.to_value(unit) if unit is not None else np.asarray(written)
    np.testing.assert_array_equal(read_values, np.float32(written_values).astype(np.float64))


def test_point_like_file_reads_back_as_written(written, arrays):
    irfs = read_irfs(written[0])
    assert irfs.point_like and irfs.psf is None
    _same(irfs.effective_area.values, arrays["aeff"], u.m**2)
    _same(irfs.effective_area.true_energy_bins, ENERGY, u.TeV)
    _same(irfs.effective_area.fov_offset_bins, OFFSETS, u.deg)
    _same(irfs.energy_dispersion.matrix, arrays["edisp"])
    _same(irfs.energy_dispersion.migration_bins, MIGRATION)
    _same(irfs.background.values, arrays["bkg"], u.Unit("1 / (s MeV sr)"))
    _same(irfs.background.fov_offset_bins, BKG_OFFSETS, u.deg)
    _same(irfs.rad_max.values, arrays["rad_max"], u.deg)
    _same(irfs.rad_max.reco_energy_bins, ENERGY, u.TeV)


def test_full_enclosure_file_reads_back_as_written(written, arrays):
    irfs = read_irfs(written[1])
    assert not irfs.point_like and irfs.rad_max is None
    assert isinstance(irfs.psf, PsfTable)
    _same(irfs.psf.values, arrays["psf"], u.sr**-1)
    _same(irfs.psf.source_offset_bins, RAD, u.deg)
    _same(irfs.effective_area.values, arrays["aeff"], u.m**2)
    assert not irfs.effective_area.values.flags.writeable  # shared (cached) arrays are read-only


def test_missing_hdus_and_columns_give_one_line_errors(written, tmp_path):
    irfs = read_irfs(written[0])
    with pytest.raises(DataFileError, match=r"irf_pass1\.fits\.gz: no PSF_TABLE or PSF_3GAUSS HDU"):
        irfs.require("psf")
    with fits.open(written[1]) as hdul:
        psf = hdul["PSF"]
        kept = fits.BinTableHDU.from_columns([c for c in psf.columns if c.name != "RPSF"], header=psf.header)
        broken = tmp_path / "broken.fits"
        fits.HDUList([fits.PrimaryHDU(), kept]).writeto(broken)
    with pytest.raises(DataFileError, match=r"broken\.fits \[PSF\]: no column RPSF") as err:
        read_irfs(broken)
    assert "\n" not in str(err.value)
    (tmp_path / "truncated.fits.gz").write_bytes(gzip.compress(b"SIMPLE  =  T" * 10)[:30])
    with pytest.raises(DataFileError, match=r"truncated\.fits\.gz"):
        read_irfs(tmp_path / "truncated.fits.gz")
    with pytest.raises(DataFileError, match=r"nowhere\.fits"):
        read_irfs(tmp_path / "nowhere.fits")


@pytest.fixture(scope="module", params=sorted(PROD5_IRF_FILES))
def prod5(request, reference_data):
    path = reference_data / "irf" / PROD5_IRF_FILES[request.param]
    if not path.is_file():
        pytest.skip(f"{path.name} not available")
    return path


@pytest.mark.reference
def test_prod5_files_are_read(prod5):
    irfs = read_irfs(prod5)
    assert not irfs.point_like and irfs.rad_max is None
    assert isinstance(irfs.psf, Psf3Gauss) and isinstance(irfs.background, Background3D)
    aeff = irfs.effective_area
    assert aeff.values.shape == (aeff.true_energy_bins.size - 1, aeff.fov_offset_bins.size - 1)
    assert irfs.energy_dispersion.matrix.shape == (300, 300, 6)
    assert irfs.background.values.shape == (21, 60, 60) and irfs.background.values.unit == u.Unit("1 / (s MeV sr)")
    np.testing.assert_array_equal(irfs.psf.amplitudes[0], 1.0)


@pytest.mark.reference
def test_prod5_files_read_as_gammapy_reads_them(prod5):
    gammapy_irf = pytest.importorskip("gammapy.irf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = gammapy_irf.load_irf_dict_from_file(prod5)
    ours = read_irfs(prod5)

    def close(a, b, unit=None):
        np.testing.assert_allclose(a.to_value(unit) if unit else a, b.to_value(unit) if unit else b, rtol=1e-6)

    close(ours.effective_area.values, theirs["aeff"].quantity, u.m**2)
    close(ours.effective_area.true_energy_bins, theirs["aeff"].axes["energy_true"].edges, u.TeV)
    close(ours.effective_area.fov_offset_bins, theirs["aeff"].axes["offset"].edges, u.deg)
    close(ours.energy_dispersion.matrix, theirs["edisp"].quantity.to_value(u.one))
    close(ours.energy_dispersion.migration_bins, theirs["edisp"].axes["migra"].edges.to_value(u.one))
    parameters = theirs["psf"].quantity
    for i in (1, 2, 3):  # gammapy sets a zero width (an empty cell) to 1 deg
        defined = ours.psf.sigmas[i - 1] > 0
        close(ours.psf.sigmas[i - 1][defined], parameters[f"sigma_{i}"][defined], u.deg)
    close(ours.psf.amplitudes[1], parameters["ampl_2"].to_value(u.one))
    close(ours.psf.amplitudes[2], parameters["ampl_3"].to_value(u.one))
    close(ours.psf.scale, parameters["scale"], u.sr**-1)
    close(ours.background.values, theirs["bkg"].quantity, u.Unit("1 / (s MeV sr)"))
    close(ours.background.fov_lon_bins, theirs["bkg"].axes["fov_lon"].edges, u.deg)
    close(ours.background.reco_energy_bins, theirs["bkg"].axes["energy"].edges, u.TeV)
