"""Read GADF IRF FITS files (CTAO's Prod5 files and ctasim's own, ``ctasim.io.gadf``) into Quantities.

``read_irfs(path)`` returns an ``IrfSet`` holding each IRF HDU it finds (by its HDUCLAS4), as frozen
dataclasses with bin edges and values in fixed units:

- EFFECTIVE AREA, AEFF_2D: ``EffectiveArea2D``, m^2 per (true energy, FoV offset);
- ENERGY DISPERSION, EDISP_2D: ``EnergyDispersion2D``, MATRIX per (true energy, migration, FoV offset),
  as stored (ctasim writes dP/dmu; the Prod5 files store probabilities per migration bin);
- PSF, PSF_TABLE: ``PsfTable``, dP/dOmega (1/sr) per (true energy, FoV offset, source offset);
  PSF_3GAUSS (Prod5): ``Psf3Gauss``, the three Gaussians' SCALE (1/sr), SIGMA_i (deg), AMPL_2, AMPL_3;
- BACKGROUND, BKG_2D: ``Background2D``, 1/(s MeV sr) per (reco energy, FoV offset); BKG_3D (Prod5):
  ``Background3D`` per (reco energy, DETX, DETY);
- RAD_MAX, RAD_MAX_2D (point-like IRFs): ``RadMax2D``, deg per (reco energy, FoV offset).

Arrays are in numpy order energy first (GADF's FITS order reversed), read-only. Energies in TeV,
angles in deg. A missing or malformed HDU or column raises a one-line ``DataFileError`` naming the
file and the HDU.
"""

from __future__ import annotations

import gzip
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.io import fits

from ..errors import DataFileError
from ..irf.background import BACKGROUND_UNIT

#: what each IRF attribute of an IrfSet is read from: HDUCLAS4 values
HDU_CLASSES = {
    "effective_area": ("AEFF_2D",),
    "energy_dispersion": ("EDISP_2D",),
    "psf": ("PSF_TABLE", "PSF_3GAUSS"),
    "background": ("BKG_2D", "BKG_3D"),
    "rad_max": ("RAD_MAX_2D",),
}


@dataclass(frozen=True, eq=False)
class EffectiveArea2D:
    """A_eff (m^2), shape (n_true_energy, n_fov_offset)."""

    true_energy_bins: u.Quantity
    fov_offset_bins: u.Quantity
    values: u.Quantity


@dataclass(frozen=True, eq=False)
class EnergyDispersion2D:
    """Migration matrix (mu = E_reco / E_true), shape (n_true_energy, n_migration, n_fov_offset)."""

    true_energy_bins: u.Quantity
    migration_bins: np.ndarray
    fov_offset_bins: u.Quantity
    matrix: np.ndarray


@dataclass(frozen=True, eq=False)
class PsfTable:
    """dP/dOmega (1/sr) of the source offset, shape (n_true_energy, n_fov_offset, n_source_offset)."""

    true_energy_bins: u.Quantity
    fov_offset_bins: u.Quantity
    source_offset_bins: u.Quantity
    values: u.Quantity


@dataclass(frozen=True, eq=False)
class Psf3Gauss:
    """SCALE * (exp(-r^2 / 2 s1^2) + A2 exp(-r^2 / 2 s2^2) + A3 exp(-r^2 / 2 s3^2)) per (true energy,
    FoV offset): ``scale`` (1/sr), ``sigmas`` (deg) and ``amplitudes`` (1, A2, A3) of shape
    (3, n_true_energy, n_fov_offset)."""

    true_energy_bins: u.Quantity
    fov_offset_bins: u.Quantity
    scale: u.Quantity
    sigmas: u.Quantity
    amplitudes: np.ndarray


@dataclass(frozen=True, eq=False)
class Background2D:
    """Background rate (1/(s MeV sr)), shape (n_reco_energy, n_fov_offset)."""

    reco_energy_bins: u.Quantity
    fov_offset_bins: u.Quantity
    values: u.Quantity


@dataclass(frozen=True, eq=False)
class Background3D:
    """Background rate (1/(s MeV sr)) in FoV coordinates, shape (n_reco_energy, n_detx, n_dety)."""

    reco_energy_bins: u.Quantity
    fov_lon_bins: u.Quantity
    fov_lat_bins: u.Quantity
    values: u.Quantity


@dataclass(frozen=True, eq=False)
class RadMax2D:
    """Theta cut (deg) of point-like IRFs, shape (n_reco_energy, n_fov_offset)."""

    reco_energy_bins: u.Quantity
    fov_offset_bins: u.Quantity
    values: u.Quantity


@dataclass(frozen=True, eq=False)
class IrfSet:
    """The IRFs of one file (None for a type it lacks); ``point_like`` from HDUCLAS3."""

    path: Path
    point_like: bool
    effective_area: EffectiveArea2D | None = None
    energy_dispersion: EnergyDispersion2D | None = None
    psf: PsfTable | Psf3Gauss | None = None
    background: Background2D | Background3D | None = None
    rad_max: RadMax2D | None = None

    def require(self, name: str):
        """The IRF attribute ``name``; DataFileError naming the file when it has no such HDU."""
        value = getattr(self, name)
        if value is None:
            raise DataFileError(f"{self.path}: no {' or '.join(HDU_CLASSES[name])} HDU")
        return value


def read_irfs(path: str | Path) -> IrfSet:
    """Every IRF HDU of the GADF file ``path`` (see the module docstring)."""
    path = Path(path)
    try:
        with fits.open(path) as hdul:
            found, classes = {}, set()
            for hdu in hdul[1:]:
                header = hdu.header
                if header.get("HDUCLAS1") != "RESPONSE":
                    continue
                clas4 = str(header.get("HDUCLAS4", "")).strip()
                name = next((k for k, v in HDU_CLASSES.items() if clas4 in v), None)
                if name is None:
                    continue
                if name in found:
                    raise DataFileError(f"{path} [{hdu.name}]: a second {name.replace('_', ' ')} HDU")
                found[name] = READERS[clas4](_Hdu(path, hdu))
                if name != "rad_max":
                    classes.add(str(header.get("HDUCLAS3", "")).strip())
    except (OSError, ValueError) as err:
        raise DataFileError(f"{path}: unreadable FITS file ({err})") from None
    if not found:
        raise DataFileError(f"{path}: no GADF IRF HDU (HDUCLAS1 RESPONSE)")
    if len(classes) > 1:
        raise DataFileError(f"{path}: mixes point-like and full-enclosure HDUs ({sorted(classes)})")
    return IrfSet(path=path, point_like=classes == {"POINT-LIKE"} or "rad_max" in found, **found)


# ------------------------------------------------------------------------------------- internals


class _Hdu:
    """Columns of a one-row GADF table HDU, checked and converted; errors name file and HDU."""

    def __init__(self, path: Path, hdu: fits.BinTableHDU) -> None:
        self.hdu, self.where = hdu, f"{path} [{hdu.name}]"
        if not isinstance(hdu, fits.BinTableHDU) or hdu.data is None or len(hdu.data) < 1:
            raise DataFileError(f"{self.where}: expected a binary table with one row")

    def column(self, name: str, unit: u.UnitBase) -> u.Quantity:
        """Column ``name`` of the first row, numpy axes in GADF order (energy first), in ``unit``."""
        columns = self.hdu.columns
        if name not in columns.names:
            raise DataFileError(f"{self.where}: no column {name}")
        text = (columns[name].unit or "").strip()
        try:
            stored = u.Unit(text) if text else u.one
            values = u.Quantity(np.asarray(self.hdu.data[name][0], np.float64).T, stored).to(unit)
        except (ValueError, u.UnitsError) as err:
            raise DataFileError(f"{self.where}: column {name} in {text or 'no unit'!r}, expected {unit} "
                                f"({err})") from None
        if not np.all(np.isfinite(values.value)):
            raise DataFileError(f"{self.where}: column {name} has non-finite values")
        values.flags.writeable = False
        return values

    def edges(self, prefix: str, unit: u.UnitBase) -> u.Quantity:
        """Bin edges from {prefix}_LO / {prefix}_HI (contiguous, increasing)."""
        lo, hi = self.column(f"{prefix}_LO", unit), self.column(f"{prefix}_HI", unit)
        if lo.ndim != 1 or lo.shape != hi.shape or not np.allclose(lo[1:], hi[:-1], rtol=1e-6, atol=0):
            raise DataFileError(f"{self.where}: {prefix}_LO / {prefix}_HI are not contiguous bins")
        edges = np.append(lo.value, hi.value[-1]) * unit
        if np.any(np.diff(edges.value) <= 0):
            raise DataFileError(f"{self.where}: {prefix} bins are not increasing")
        edges.flags.writeable = False
        return edges

    def data(self, name: str, unit: u.UnitBase, *axes: u.Quantity | np.ndarray) -> u.Quantity:
        """Column ``name``, checked to have one entry per bin of each axis."""
        values = self.column(name, unit)
        shape = tuple(len(a) - 1 for a in axes)
        if values.shape != shape:
            raise DataFileError(f"{self.where}: {name} has shape {values.shape}, the bins {shape}")
        return values


def _aeff_2d(h: _Hdu) -> EffectiveArea2D:
    energy, offset = h.edges("ENERG", u.TeV), h.edges("THETA", u.deg)
    return EffectiveArea2D(energy, offset, h.data("EFFAREA", u.m**2, energy, offset))


def _edisp_2d(h: _Hdu) -> EnergyDispersion2D:
    energy, migra, offset = h.edges("ENERG", u.TeV), h.edges("MIGRA", u.one), h.edges("THETA", u.deg)
    return EnergyDispersion2D(energy, migra.value, offset, h.data("MATRIX", u.one, energy, migra, offset).value)


def _psf_table(h: _Hdu) -> PsfTable:
    energy, offset, rad = h.edges("ENERG", u.TeV), h.edges("THETA", u.deg), h.edges("RAD", u.deg)
    return PsfTable(energy, offset, rad, h.data("RPSF", u.sr**-1, energy, offset, rad))


def _psf_3gauss(h: _Hdu) -> Psf3Gauss:
    energy, offset = h.edges("ENERG", u.TeV), h.edges("THETA", u.deg)
    sigmas = u.Quantity([h.data(f"SIGMA_{i}", u.deg, energy, offset) for i in (1, 2, 3)])
    amplitudes = np.array([np.ones(sigmas.shape[1:]), *(h.data(f"AMPL_{i}", u.one, energy, offset).value
                                                        for i in (2, 3))])
    sigmas.flags.writeable = amplitudes.flags.writeable = False
    return Psf3Gauss(energy, offset, h.data("SCALE", u.sr**-1, energy, offset), sigmas, amplitudes)


def _bkg_2d(h: _Hdu) -> Background2D:
    energy, offset = h.edges("ENERG", u.TeV), h.edges("THETA", u.deg)
    return Background2D(energy, offset, h.data("BKG", BACKGROUND_UNIT, energy, offset))


def _bkg_3d(h: _Hdu) -> Background3D:
    energy, lon, lat = h.edges("ENERG", u.TeV), h.edges("DETX", u.deg), h.edges("DETY", u.deg)
    return Background3D(energy, lon, lat, h.data("BKG", BACKGROUND_UNIT, energy, lon, lat))


def _rad_max_2d(h: _Hdu) -> RadMax2D:
    energy, offset = h.edges("ENERG", u.TeV), h.edges("THETA", u.deg)
    return RadMax2D(energy, offset, h.data("RAD_MAX", u.deg, energy, offset))


READERS = {"AEFF_2D": _aeff_2d, "EDISP_2D": _edisp_2d, "PSF_TABLE": _psf_table, "PSF_3GAUSS": _psf_3gauss,
           "BKG_2D": _bkg_2d, "BKG_3D": _bkg_3d, "RAD_MAX_2D": _rad_max_2d}


FITS_BLOCK_BYTES = 2880  # a FITS file is a whole number of such blocks


def _fits_bytes(path: Path) -> int:
    """Bytes of the FITS file (decompressed for ``.gz``: astropy silently drops the HDUs of a gzip
    stream that ends early, so the whole stream is read); DataFileError if it ends early."""
    if path.suffix != ".gz":
        return path.stat().st_size
    size = 0
    try:
        with gzip.open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
    except EOFError:
        raise DataFileError(f"{path}: truncated (the gzip stream ends early)", kind="truncated") from None
    except (OSError, zlib.error) as err:
        raise DataFileError(f"{path}: not a valid gzip file ({err})", kind="corrupted") from None
    return size


def check_fits_file(path: str | Path) -> int:
    """Read every HDU of a FITS file (IRF, DL3, index) and verify its CHECKSUM / DATASUM keywords when
    it has them; returns the HDUs read. A one-line DataFileError (kind truncated or corrupted) when
    the file ends early, is not FITS, or a checksum differs."""
    path = Path(path)
    size = _fits_bytes(path)
    if size % FITS_BLOCK_BYTES:
        raise DataFileError(f"{path}: truncated ({size} bytes, not whole {FITS_BLOCK_BYTES}-byte FITS blocks)",
                            kind="truncated")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with fits.open(path, checksum=True) as hdul:
                for hdu in hdul:
                    _ = hdu.data
                n_hdus = len(hdul)
    except EOFError as err:
        raise DataFileError(f"{path}: truncated ({err})", kind="truncated") from None
    except (OSError, ValueError) as err:
        kind = "truncated" if "truncated" in str(err).lower() else "corrupted"
        raise DataFileError(f"{path}: unreadable FITS file ({str(err).splitlines()[0]})", kind=kind) from None
    for warning in caught:
        text = str(warning.message)
        if "truncated" in text.lower():
            raise DataFileError(f"{path}: truncated ({text})", kind="truncated")
        if "checksum" in text.lower() or "datasum" in text.lower():
            raise DataFileError(f"{path}: checksum mismatch ({text})", kind="corrupted")
    return n_hdus
