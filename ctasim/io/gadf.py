"""DL3 in the open gamma-ray astronomy data formats (GADF 0.3, FITS): EVENTS, GTI, POINTING, the IRF
HDUs, and the HDU and observation index files that make a directory a data store (gammapy's
``DataStore.from_dir``).

Times are seconds since the run epoch (``RunInfo.epoch``, written as MJDREFI/MJDREFF in TT).
Sky coordinates: ctasim points the array at a fixed alt/az; DL3 takes that horizontal frame at the
run epoch, i.e. the array tracks the sky position it pointed at then. Pointing and event RA/Dec come
from one AltAz -> ICRS transform at the epoch (astropy, site from ``Site``), so a source keeps its
RA/Dec in every observation and the simulated field-of-view geometry (what the IRFs describe) is
kept. The ALT/AZ columns and ALT_PNT/AZ_PNT are the tracked horizontal coordinates at each TIME
(one ICRS -> AltAz transform per table, ERFA astrometry interpolated on a 300 s grid).
Every file is written under a temporary name and renamed (``ctasim.io.atomic``), with FITS
checksums, gzip-compressed when its name ends in ``.gz``. Non-finite values are refused with a
``CtasimError``, never written.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import AltAz, EarthLocation, SkyCoord
from astropy.coordinates.erfa_astrom import ErfaAstromInterpolator, erfa_astrom
from astropy.io import fits
from astropy.table import QTable
from astropy.time import Time
from astropy.utils import iers

from .. import __version__
from ..errors import CtasimError
from ..instrument.subarray import Site, SubarrayDescription
from ..irf.background import BACKGROUND_UNIT
from ..irf.binning import check_edges
from .atomic import published_together

HDUCLASS = "GADF"
HDUDOC = "https://github.com/open-gamma-ray-astro/gamma-astro-data-formats"
HDUVERS = "0.3"
TELESCOP = "CTAO"
ORIGIN = "ctasim"
OBSERVER = "ctasim simulation"
CREATOR = f"ctasim {__version__}"
#: time zero of a run: a winter night at the northern site, inside astropy's bundled IERS tables
#: (so no download is attempted)
RUN_EPOCH = Time("2026-01-15T00:00:00", scale="utc")
#: grid of the interpolated ERFA astrometry for per-event times (astropy's ErfaAstromInterpolator;
#: its error at 300 s is far below 1 mas)
ASTROMETRY_STEP = 300 * u.s
#: rows of the POINTING table: one every POINTING_STEP seconds from TSTART, and one at TSTOP
POINTING_STEP = 60.0
#: file names in a data store (GADF's suggested index names)
HDU_INDEX_FILE = "hdu-index.fits.gz"
OBS_INDEX_FILE = "obs-index.fits.gz"
#: HDUCLAS2 of a RESPONSE HDU -> HDU_TYPE of the HDU index (GADF data_storage/hdu_index)
RESPONSE_TYPES = {"EFF_AREA": "aeff", "EDISP": "edisp", "PSF": "psf", "RPSF": "psf", "BKG": "bkg", "RAD_MAX": "rad_max"}
EVENT_COLUMNS = ("event_id", "time", "reco_alt", "reco_az", "reco_energy")


@dataclass(frozen=True)
class RunInfo:
    """What the observations of one run share: the site, the array, the run epoch (time zero)
    and, optionally, the observed object with its simulated position (deg, horizontal frame at the
    epoch) for OBJECT / RA_OBJ / DEC_OBJ."""

    site: Site
    instrument: str
    tel_ids: tuple[int, ...] = ()
    epoch: Time = RUN_EPOCH
    object_name: str = ""
    object_altaz: tuple[float, float] | None = None

    @classmethod
    def from_subarray(cls, subarray: SubarrayDescription, **kwargs) -> RunInfo:
        """The RunInfo of observations with ``subarray`` (its site, name and telescope ids)."""
        return cls(site=subarray.site, instrument=subarray.name,
                   tel_ids=tuple(int(t) for t in subarray.tel_ids), **kwargs)

    @property
    def location(self) -> EarthLocation:
        return EarthLocation(lon=self.site.lon_deg * u.deg, lat=self.site.lat_deg * u.deg,
                             height=self.site.altitude_m * u.m)


@dataclass(frozen=True, eq=False)
class DL3Observation:
    """One observation: a single good time interval [t_start, t_stop] (s since the run epoch), its
    livetime (s), the simulated pointing (deg) and its events, a QTable with ``event_id``, ``time``
    (s since the run epoch), ``reco_alt``, ``reco_az`` (deg), ``reco_energy`` (TeV) and optionally
    ``gammaness``, ``multiplicity`` and ``true_shower_primary_id``. No events is a valid, flagged
    (``is_empty``) observation."""

    obs_id: int
    t_start: float
    t_stop: float
    livetime: float
    pointing_alt: float
    pointing_az: float
    events: QTable = field(repr=False)

    def __post_init__(self) -> None:
        what = f"observation {self.obs_id}"
        values = (self.t_start, self.t_stop, self.livetime, self.pointing_alt, self.pointing_az)
        if not np.all(np.isfinite(values)):
            raise CtasimError(f"{what}: non-finite times or pointing {values}")
        if not self.t_stop > self.t_start:
            raise CtasimError(f"{what}: t_stop {self.t_stop} s is not after t_start {self.t_start} s")
        if not 0 < self.livetime <= self.ontime * (1 + 1e-9):
            raise CtasimError(f"{what}: livetime {self.livetime} s: expected 0 < livetime <= ontime {self.ontime} s")
        missing = [c for c in EVENT_COLUMNS if c not in self.events.colnames]
        if missing:
            raise CtasimError(f"{what}: events lack column(s) {', '.join(missing)}")
        time = _plain(self.events["time"], u.s)
        if time.size and (time.min() < self.t_start or time.max() > self.t_stop):
            raise CtasimError(f"{what}: event times outside [{self.t_start}, {self.t_stop}] s")
        if np.any(np.diff(time) <= 0):
            raise CtasimError(f"{what}: event times are not strictly increasing")

    @property
    def ontime(self) -> float:
        """Good time (s): the length of the single GTI."""
        return self.t_stop - self.t_start

    @property
    def deadc(self) -> float:
        """Dead-time correction LIVETIME / ONTIME (at most 1: rounding of t_stop - t_start aside)."""
        return min(self.livetime / self.ontime, 1.0)

    @property
    def is_empty(self) -> bool:
        return len(self.events) == 0


def icrs_of(alt_deg: np.ndarray, az_deg: np.ndarray, run: RunInfo) -> SkyCoord:
    """ICRS directions of simulated horizontal coordinates (deg): the AltAz frame of the site at the
    run epoch, one vectorised transform."""
    frame = AltAz(obstime=run.epoch, location=run.location)
    with iers.conf.set_temp("auto_download", False):
        return SkyCoord(alt=np.atleast_1d(alt_deg) * u.deg, az=np.atleast_1d(az_deg) * u.deg, frame=frame).icrs


def altaz_at_epoch(ra_deg: float, dec_deg: float, site: Site) -> tuple[float, float]:
    """(alt, az) in deg of the ICRS direction (``ra_deg``, ``dec_deg``) seen from ``site`` at the run epoch."""
    run = RunInfo(site=site, instrument="", tel_ids=())
    alt, az = tracked_altaz(SkyCoord(ra=ra_deg * u.deg, dec=dec_deg * u.deg), np.zeros(1), run)
    return float(alt[0]), float(az[0])


def tracked_altaz(coords: SkyCoord, times_s: np.ndarray, run: RunInfo) -> tuple[np.ndarray, np.ndarray]:
    """(alt, az) in deg of ICRS ``coords`` at ``times_s`` (s since the run epoch): where the tracking
    array sees them; one vectorised transform with interpolated astrometry."""
    times = run.epoch + np.asarray(times_s, np.float64) * u.s
    with iers.conf.set_temp("auto_download", False), erfa_astrom.set(ErfaAstromInterpolator(ASTROMETRY_STEP)):
        altaz = coords.transform_to(AltAz(obstime=times, location=run.location))
    return altaz.alt.to_value(u.deg), altaz.az.to_value(u.deg)


# ---------------------------------------------------------------------------------------- events


def events_hdu(obs: DL3Observation, run: RunInfo) -> fits.BinTableHDU:
    """The EVENTS HDU: EVENT_ID, TIME, RA, DEC, ENERGY, ALT, AZ and, when the events carry them,
    GAMMANESS, MULTIP and MC_ID (the true primary, CORSIKA code; ctools' simulated event lists
    carry the same column), with the GADF mandatory header."""
    events = obs.events
    n = len(events)
    time = _plain(events["time"], u.s)
    if n:
        sky = icrs_of(_plain(events["reco_alt"], u.deg), _plain(events["reco_az"], u.deg), run)
        alt, az = tracked_altaz(sky, time, run)
        ra, dec = sky.ra.to_value(u.deg), sky.dec.to_value(u.deg)
    else:
        ra = dec = alt = az = np.zeros(0)
    columns = [
        _column("EVENT_ID", np.asarray(events["event_id"], np.int64), "K"),
        _column("TIME", time, "D", u.s),
        _column("RA", ra, "E", u.deg),
        _column("DEC", dec, "E", u.deg),
        _column("ENERGY", _plain(events["reco_energy"], u.TeV), "E", u.TeV),
        _column("ALT", alt, "E", u.deg),
        _column("AZ", az, "E", u.deg),
    ]
    for name, gadf_name, fmt in (("gammaness", "GAMMANESS", "E"), ("multiplicity", "MULTIP", "I"),
                                 ("true_shower_primary_id", "MC_ID", "I")):
        if name in events.colnames:
            columns.append(_column(gadf_name, np.asarray(events[name]), fmt))
    hdu = _table_hdu("EVENTS", columns)
    ra_pnt, dec_pnt, alt_mid, az_mid = _pointing(obs, run)
    cards = [
        *_hduclass_cards("EVENTS", "ACCEPTED"),
        ("OBS_ID", int(obs.obs_id), "observation id"),
        ("OBS_MODE", "POINTING", "tracking a fixed RA/Dec"),
        ("DATE-OBS", _date(run, obs.t_start), "start (TT)"),
        ("DATE-END", _date(run, obs.t_stop), "end (TT)"),
        ("TSTART", float(obs.t_start), "[s] start since the reference time"),
        ("TSTOP", float(obs.t_stop), "[s] end since the reference time"),
        ("TELAPSE", float(obs.ontime), "[s] TSTOP - TSTART"),
        ("ONTIME", float(obs.ontime), "[s] good time"),
        ("LIVETIME", float(obs.livetime), "[s] good time corrected for dead time"),
        ("DEADC", float(obs.deadc), "LIVETIME / ONTIME"),
        ("RA_PNT", ra_pnt, "[deg] pointing right ascension"),
        ("DEC_PNT", dec_pnt, "[deg] pointing declination"),
        ("ALT_PNT", alt_mid, f"[deg] pointing altitude at TSTART + {0.5 * obs.ontime:g} s"),
        ("AZ_PNT", az_mid, f"[deg] pointing azimuth at TSTART + {0.5 * obs.ontime:g} s"),
        ("EQUINOX", 2000.0, "equinox of the celestial coordinates"),
        ("RADECSYS", "ICRS", "celestial reference frame"),
        *_time_cards(run),
        *_location_cards(run.site),
        *_origin_cards(run),
        ("OBSERVER", OBSERVER),
        ("N_TELS", len(run.tel_ids), "telescopes in the subarray"),
        ("TELLIST", ",".join(str(t) for t in run.tel_ids), "telescope ids"),
    ]
    if run.object_name:
        cards.append(("OBJECT", run.object_name, "observed object"))
    if run.object_altaz is not None:
        target = icrs_of(*run.object_altaz, run)
        cards += [("RA_OBJ", float(target.ra.deg[0]), "[deg] object right ascension"),
                  ("DEC_OBJ", float(target.dec.deg[0]), "[deg] object declination")]
    return _with_cards(hdu, cards)


def gti_hdu(obs: DL3Observation, run: RunInfo) -> fits.BinTableHDU:
    """The GTI HDU: one good time interval START, STOP (s since the reference time)."""
    hdu = _table_hdu("GTI", [_column("START", [obs.t_start], "D", u.s), _column("STOP", [obs.t_stop], "D", u.s)])
    return _with_cards(hdu, [*_hduclass_cards("GTI"), ("OBS_ID", int(obs.obs_id)), *_time_cards(run),
                             *_origin_cards(run)])


def pointing_hdu(obs: DL3Observation, run: RunInfo) -> fits.BinTableHDU:
    """The POINTING HDU: TIME, RA_PNT, DEC_PNT (fixed: the array tracks), ALT_PNT, AZ_PNT every
    POINTING_STEP seconds and at TSTOP."""
    times = np.append(np.arange(obs.t_start, obs.t_stop, POINTING_STEP), obs.t_stop)
    sky = icrs_of(obs.pointing_alt, obs.pointing_az, run)
    alt, az = tracked_altaz(sky[np.zeros(times.size, np.int64)], times, run)
    columns = [_column("TIME", times, "D", u.s),
               _column("RA_PNT", np.full(times.size, sky.ra.deg[0]), "D", u.deg),
               _column("DEC_PNT", np.full(times.size, sky.dec.deg[0]), "D", u.deg),
               _column("ALT_PNT", alt, "D", u.deg), _column("AZ_PNT", az, "D", u.deg)]
    cards = [*_hduclass_cards("POINTING"), ("OBS_ID", int(obs.obs_id)), *_time_cards(run),
             *_location_cards(run.site), *_origin_cards(run)]
    return _with_cards(_table_hdu("POINTING", columns), cards)


def write_events_file(path: str | Path, obs: DL3Observation, run: RunInfo) -> Path:
    """One observation's EVENTS, GTI and POINTING HDUs in one FITS file."""
    return write_fits(path, [events_hdu(obs, run), gti_hdu(obs, run), pointing_hdu(obs, run)], run)


# ------------------------------------------------------------------------------------------ IRFs


def aeff_2d_hdu(effective_area: u.Quantity, true_energy_bins: u.Quantity, fov_offset_bins: u.Quantity,
                point_like: bool = False) -> fits.BinTableHDU:
    """EFFECTIVE AREA (AEFF_2D) of ``effective_area`` (m^2, shape (n_true_energy, n_fov_offset))."""
    axes = [_energy_axis(true_energy_bins, "true energy bins"), _offset_axis(fov_offset_bins)]
    data = _irf_data("EFFAREA", effective_area, u.m**2, axes)
    return _irf_hdu("EFFECTIVE AREA", "EFF_AREA", "AEFF_2D", point_like, axes, data)


def edisp_2d_hdu(matrix: np.ndarray, true_energy_bins: u.Quantity, migration_bins: np.ndarray,
                 fov_offset_bins: u.Quantity, point_like: bool = False) -> fits.BinTableHDU:
    """ENERGY DISPERSION (EDISP_2D) of ``matrix`` (dP/dmu, shape (n_true_energy, n_migration, n_fov_offset))."""
    migra = check_edges(migration_bins, u.one, "migration bins")
    axes = [_energy_axis(true_energy_bins, "true energy bins"), ("MIGRA", migra), _offset_axis(fov_offset_bins)]
    data = _irf_data("MATRIX", matrix, u.one, axes)
    return _irf_hdu("ENERGY DISPERSION", "EDISP", "EDISP_2D", point_like, axes, data)


def psf_table_hdu(psf: u.Quantity, true_energy_bins: u.Quantity, fov_offset_bins: u.Quantity,
                  source_offset_bins: u.Quantity) -> fits.BinTableHDU:
    """PSF (PSF_TABLE, full-enclosure) of ``psf`` (dP/dOmega in sr^-1, shape (n_true_energy,
    n_fov_offset, n_source_offset))."""
    axes = [_energy_axis(true_energy_bins, "true energy bins"), _offset_axis(fov_offset_bins),
            ("RAD", check_edges(source_offset_bins, u.deg, "source offset bins"))]
    data = _irf_data("RPSF", psf, u.sr**-1, axes)
    return _irf_hdu("PSF", "PSF", "PSF_TABLE", False, axes, data)


def bkg_2d_hdu(background: u.Quantity, reco_energy_bins: u.Quantity, fov_offset_bins: u.Quantity,
               point_like: bool = False) -> fits.BinTableHDU:
    """BACKGROUND (BKG_2D) of ``background`` (s^-1 MeV^-1 sr^-1, shape (n_reco_energy, n_fov_offset))."""
    axes = [_energy_axis(reco_energy_bins, "reconstructed energy bins"), _offset_axis(fov_offset_bins)]
    data = _irf_data("BKG", background, BACKGROUND_UNIT, axes)
    return _irf_hdu("BACKGROUND", "BKG", "BKG_2D", point_like, axes, data)


def rad_max_2d_hdu(rad_max: u.Quantity, reco_energy_bins: u.Quantity, fov_offset_bins: u.Quantity) -> fits.BinTableHDU:
    """RAD_MAX (RAD_MAX_2D) of a point-like IRF: the theta cut (deg, shape (n_reco_energy, n_fov_offset))."""
    axes = [_energy_axis(reco_energy_bins, "reconstructed energy bins"), _offset_axis(fov_offset_bins)]
    data = _irf_data("RAD_MAX", rad_max, u.deg, axes)
    return _irf_hdu("RAD_MAX", "RAD_MAX", "RAD_MAX_2D", True, axes, data)


def write_irf_file(path: str | Path, hdus: Sequence[fits.BinTableHDU], run: RunInfo) -> Path:
    """A FITS file of IRF HDUs (one per HDU type), all point-like (HDUCLAS3 POINT-LIKE, with a RAD_MAX
    HDU; a PSF, always full-enclosure, cannot join them) or all full-enclosure (no RAD_MAX);
    CtasimError otherwise."""
    kinds = [_index_type(hdu.header) for hdu in hdus]
    if not hdus or any(kind is None or kind[0] in ("events", "gti", "pointing") for kind in kinds):
        raise CtasimError("IRF file: expected one or more IRF (RESPONSE) HDUs")
    types = [kind[0] for kind in kinds]
    if len(set(types)) != len(types):
        raise CtasimError(f"IRF file: more than one HDU of a type in {types}")
    classes = {hdu.header["HDUCLAS3"] for hdu in hdus if hdu.header["HDUCLAS2"] != "RAD_MAX"}
    if len(classes) > 1:
        raise CtasimError(f"IRF file: mixes point-like and full-enclosure HDUs ({sorted(classes)})")
    point_like = classes == {"POINT-LIKE"} or classes == set()
    if point_like and "rad_max" not in types:
        raise CtasimError("IRF file: point-like IRFs need a RAD_MAX HDU")
    if not point_like and "rad_max" in types:
        raise CtasimError("IRF file: a RAD_MAX HDU belongs to point-like IRFs, the others are full-enclosure")
    return write_fits(path, [_with_cards(hdu.copy(), _origin_cards(run)) for hdu in hdus], run)


# ------------------------------------------------------------------------------------ data store


def write_data_store(directory: str | Path, observations: Sequence[DL3Observation], run: RunInfo,
                     irf_file: str | Path) -> list[Path]:
    """Write each observation's events file (``obs_<obs_id>.fits.gz``) into ``directory`` and the
    HDU and observation index files that tie them to ``irf_file`` (an existing ``write_irf_file``
    output, anywhere): a gammapy data store. Returns the paths written."""
    if not observations:
        raise CtasimError("DL3 data store: no observations to write")
    ids = [int(obs.obs_id) for obs in observations]
    if len(set(ids)) != len(ids):
        raise CtasimError(f"DL3 data store: duplicate obs_id in {ids}")
    irf_file = Path(irf_file)
    if not irf_file.is_file():
        raise CtasimError(f"DL3 data store: IRF file {irf_file} not found")
    directory = Path(directory)
    files = {obs.obs_id: write_events_file(directory / events_file_name(obs.obs_id), obs, run)
             for obs in observations}
    return [*files.values(), *write_index_files(directory, {i: [f, irf_file] for i, f in files.items()})]


def events_file_name(obs_id: int) -> str:
    return f"obs_{int(obs_id):06d}.fits.gz"


def write_index_files(directory: str | Path, files: Mapping[int, Sequence[str | Path]]) -> list[Path]:
    """``hdu-index.fits.gz`` and ``obs-index.fits.gz`` in ``directory`` for ``files`` (obs_id -> the
    FITS files of that observation, read back here: every HDU with a GADF class is listed, paths
    relative to ``directory``). Each observation needs one EVENTS and one GTI HDU and at most one
    HDU of each type; all must share the reference time and the site."""
    directory = Path(directory)
    hdu_rows, obs_rows, shared = [], [], None
    for obs_id, paths in sorted(files.items()):
        rows = [row for path in paths for row in _hdu_rows(int(obs_id), Path(path), directory)]
        types = [row[1] for row in rows]
        if types.count("events") != 1 or types.count("gti") != 1 or len(set(types)) != len(types):
            raise CtasimError(f"DL3 index: observation {obs_id} needs one EVENTS and one GTI HDU and at most one "
                              f"HDU of each type, found {types}")
        header = rows[types.index("events")][-1]
        if int(header["OBS_ID"]) != int(obs_id):
            raise CtasimError(f"DL3 index: the EVENTS HDU of observation {obs_id} has OBS_ID {header['OBS_ID']}")
        common = {key: header[key] for key in (*TIME_KEYS, *LOCATION_KEYS)}
        if shared is not None and common != shared:
            raise CtasimError(f"DL3 index: observation {obs_id} has another reference time or site than the others")
        shared = common
        hdu_rows += [row[:-1] for row in rows]
        obs_rows.append(header)
    if shared is None:
        raise CtasimError("DL3 index: no observations")
    hdu_index = _hdu_index_hdu(hdu_rows)
    obs_index = _with_cards(_obs_index_hdu(obs_rows), list(shared.items()))
    paths = [directory / HDU_INDEX_FILE, directory / OBS_INDEX_FILE]
    with published_together(paths) as tmps:
        for tmp, hdu in zip(tmps, (hdu_index, obs_index)):
            _write_hdulist(tmp, fits.HDUList([fits.PrimaryHDU(), hdu]), gzipped=True)
    return paths


def write_fits(path: str | Path, hdus: Sequence[fits.BinTableHDU], run: RunInfo) -> Path:
    """``hdus`` behind a primary HDU with the origin cards, written atomically (gzip if ``.gz``)."""
    path = Path(path)
    primary = _with_cards(fits.PrimaryHDU(), _origin_cards(run))
    with published_together([path]) as (tmp,):
        _write_hdulist(tmp, fits.HDUList([primary, *hdus]), gzipped=path.suffix == ".gz")
    return path


# ------------------------------------------------------------------------------------- internals

TIME_KEYS = ("MJDREFI", "MJDREFF", "TIMEUNIT", "TIMESYS", "TIMEREF")
LOCATION_KEYS = ("GEOLON", "GEOLAT", "ALTITUDE")
#: obs-index columns copied from the EVENTS header: (name, FITS format, unit)
OBS_INDEX_COLUMNS = (
    ("OBS_ID", "K", None), ("OBS_MODE", "A16", None), ("DATE-OBS", "A32", None), ("DATE-END", "A32", None),
    ("TSTART", "D", u.s), ("TSTOP", "D", u.s), ("ONTIME", "D", u.s), ("LIVETIME", "D", u.s),
    ("DEADC", "D", None), ("RA_PNT", "D", u.deg), ("DEC_PNT", "D", u.deg), ("ALT_PNT", "D", u.deg),
    ("AZ_PNT", "D", u.deg), ("N_TELS", "J", None), ("TELLIST", "A256", None),
)


def _pointing(obs: DL3Observation, run: RunInfo) -> tuple[float, float, float, float]:
    """(RA, Dec) of the pointing and its tracked (alt, az) at the mid time, deg."""
    sky = icrs_of(obs.pointing_alt, obs.pointing_az, run)
    alt, az = tracked_altaz(sky, [0.5 * (obs.t_start + obs.t_stop)], run)
    return float(sky.ra.deg[0]), float(sky.dec.deg[0]), float(alt[0]), float(az[0])


def _hduclass_cards(clas1: str, clas2: str | None = None, clas3: str | None = None, clas4: str | None = None):
    cards = [("HDUCLASS", HDUCLASS, "data format"), ("HDUDOC", HDUDOC), ("HDUVERS", HDUVERS, "format version"),
             ("HDUCLAS1", clas1)]
    cards += [(f"HDUCLAS{i}", value) for i, value in ((2, clas2), (3, clas3), (4, clas4)) if value is not None]
    return cards


def _time_cards(run: RunInfo) -> list[tuple]:
    """MJDREFI/MJDREFF (the run epoch in TT), TIMEUNIT, TIMESYS, TIMEREF."""
    tt = run.epoch.tt
    day = np.floor(tt.jd1 - 2400000.5)
    fraction = (tt.jd1 - 2400000.5 - day) + tt.jd2
    day, fraction = day + np.floor(fraction), fraction - np.floor(fraction)
    return [("MJDREFI", int(day), "[d] reference time, integer part (MJD)"),
            ("MJDREFF", float(fraction), "[d] reference time, fraction (MJD)"),
            ("TIMEUNIT", "s", "unit of times"), ("TIMESYS", "TT", "time scale"),
            ("TIMEREF", "TOPOCENTER", "times at the observatory")]


def _location_cards(site: Site) -> list[tuple]:
    return [("GEOLON", float(site.lon_deg), "[deg] observatory longitude"),
            ("GEOLAT", float(site.lat_deg), "[deg] observatory latitude"),
            ("ALTITUDE", float(site.altitude_m), "[m] observatory altitude above sea level")]


def _origin_cards(run: RunInfo) -> list[tuple]:
    return [("TELESCOP", TELESCOP), ("INSTRUME", run.instrument, "subarray"), ("ORIGIN", ORIGIN),
            ("CREATOR", CREATOR, "software that wrote the file")]


def _date(run: RunInfo, seconds: float) -> str:
    return (run.epoch + seconds * u.s).tt.isot


def _plain(values, unit: u.UnitBase) -> np.ndarray:
    """Column values in ``unit`` (Quantities converted; plain numbers taken to be in it)."""
    if getattr(values, "unit", None) is not None:
        return u.Quantity(values).to_value(unit)
    return np.asarray(values, np.float64)


def _column(name: str, values, fmt: str, unit: u.UnitBase | None = None) -> fits.Column:
    """A one-value-per-row column; floating values must be finite."""
    array = np.asarray(values)
    if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
        raise CtasimError(f"GADF column {name}: {np.count_nonzero(~np.isfinite(array))} non-finite value(s)")
    return fits.Column(name=name, format=fmt, unit=None if unit is None else unit.to_string("fits"), array=array)


def _energy_axis(edges: u.Quantity, what: str) -> tuple[str, u.Quantity]:
    return "ENERG", check_edges(edges, u.TeV, what)


def _offset_axis(edges: u.Quantity) -> tuple[str, u.Quantity]:
    return "THETA", check_edges(edges, u.deg, "FoV offset bins")


def _irf_data(name: str, values: u.Quantity | np.ndarray, unit: u.UnitBase, axes) -> tuple[str, np.ndarray, u.UnitBase]:
    """(column name, values in ``unit``, unit) after checking shape (one entry per bin of each axis) and finiteness."""
    try:
        array = u.Quantity(values).to_value(unit)
    except u.UnitsError as err:
        raise CtasimError(f"GADF {name}: expected values in {unit.to_string() or 'no unit'} ({err})") from None
    shape = tuple(edges.size - 1 for _, edges in axes)
    if array.shape != shape:
        raise CtasimError(f"GADF {name}: shape {array.shape} does not match the bins {shape}")
    if not np.all(np.isfinite(array)):
        raise CtasimError(f"GADF {name}: {np.count_nonzero(~np.isfinite(array))} non-finite value(s)")
    return name, array, unit


def _array_column(name: str, array: np.ndarray, unit: u.UnitBase | None) -> fits.Column:
    """A single-row array column in GADF's multidimensional-array convention: numpy axes reversed,
    TDIM in FITS order (so a 1-element axis stays an array when read back)."""
    stored = np.asarray(array, np.float32).T
    dim = "(" + ",".join(str(n) for n in stored.shape[::-1]) + ")"
    unit_string = None if unit is None or unit == u.one else unit.to_string("fits")
    return fits.Column(name=name, format=f"{stored.size}E", unit=unit_string, dim=dim, array=stored[np.newaxis])


def _irf_hdu(extname: str, clas2: str, clas4: str, point_like: bool, axes, data) -> fits.BinTableHDU:
    columns = []
    for prefix, edges in axes:
        unit = edges.unit
        columns += [_array_column(f"{prefix}_LO", edges.value[:-1], unit),
                    _array_column(f"{prefix}_HI", edges.value[1:], unit)]
    name, array, unit = data
    columns.append(_array_column(name, array, unit))
    clas3 = "POINT-LIKE" if point_like else "FULL-ENCLOSURE"
    return _with_cards(_table_hdu(extname, columns), _hduclass_cards("RESPONSE", clas2, clas3, clas4))


def _table_hdu(extname: str, columns: Iterable[fits.Column]) -> fits.BinTableHDU:
    return fits.BinTableHDU.from_columns(list(columns), name=extname)


def _with_cards(hdu, cards: Iterable[tuple]):
    for card in cards:
        hdu.header[card[0]] = card[1:] if len(card) > 2 else card[1]
    return hdu


def _index_type(header: fits.Header) -> tuple[str, str] | None:
    """(HDU_TYPE, HDU_CLASS) of a GADF HDU for the HDU index, None for other HDUs."""
    if header.get("HDUCLASS") != HDUCLASS:
        return None
    clas1 = header.get("HDUCLAS1", "")
    if clas1 in ("EVENTS", "GTI", "POINTING"):
        return clas1.lower(), clas1.lower()
    if clas1 == "RESPONSE" and header.get("HDUCLAS2") in RESPONSE_TYPES:
        return RESPONSE_TYPES[header["HDUCLAS2"]], str(header.get("HDUCLAS4", "")).lower()
    return None


def _hdu_rows(obs_id: int, path: Path, directory: Path) -> list[tuple]:
    """HDU index rows (OBS_ID, HDU_TYPE, HDU_CLASS, FILE_DIR, FILE_NAME, HDU_NAME, SIZE, header) of a file."""
    if not path.is_file():
        raise CtasimError(f"DL3 index: {path} not found")
    file_dir = os.path.relpath(path.resolve().parent, directory.resolve())
    rows = []
    with fits.open(path) as hdul:
        for hdu in hdul:
            kind = _index_type(hdu.header)
            if kind is not None:
                rows.append((obs_id, *kind, file_dir, path.name, hdu.name, path.stat().st_size, hdu.header.copy()))
    return rows


def _hdu_index_hdu(rows: list[tuple]) -> fits.BinTableHDU:
    names = ("OBS_ID", "HDU_TYPE", "HDU_CLASS", "FILE_DIR", "FILE_NAME", "HDU_NAME", "SIZE")
    values = list(zip(*rows))
    columns = []
    for name, column in zip(names, values):
        if name in ("OBS_ID", "SIZE"):
            columns.append(_column(name, np.asarray(column, np.int64), "K"))
        else:
            width = max(1, max(len(v) for v in column))
            columns.append(_column(name, np.asarray(column, f"U{width}"), f"A{width}"))
    return _with_cards(_table_hdu("HDU_INDEX", columns), _hduclass_cards("INDEX", "HDU"))


def _obs_index_hdu(headers: list[fits.Header]) -> fits.BinTableHDU:
    columns = []
    for name, fmt, unit in OBS_INDEX_COLUMNS:
        dtype = np.int64 if fmt in ("K", "J") else np.float64 if fmt == "D" else f"U{fmt[1:]}"
        columns.append(_column(name, np.asarray([header[name] for header in headers], dtype), fmt, unit))
    start, stop, alt, n_events = (np.array([header[key] for header in headers])
                                  for key in ("TSTART", "TSTOP", "ALT_PNT", "NAXIS2"))
    columns += [_column("TMID", 0.5 * (start + stop), "D", u.s), _column("ZEN_PNT", 90.0 - alt, "D", u.deg),
                _column("EVENT_COUNT", n_events.astype(np.int64), "K")]
    for key in ("OBJECT", "RA_OBJ", "DEC_OBJ"):
        if all(key in header for header in headers):
            values = [header[key] for header in headers]
            fmt = "A64" if key == "OBJECT" else "D"
            columns.append(_column(key, np.asarray(values, "U64" if key == "OBJECT" else np.float64), fmt,
                                   None if key == "OBJECT" else u.deg))
    cards = [*_hduclass_cards("INDEX", "OBS"),
             *[(key, headers[0][key]) for key in ("TELESCOP", "INSTRUME", "ORIGIN", "CREATOR")]]
    return _with_cards(_table_hdu("OBS_INDEX", columns), cards)


def _write_hdulist(path: Path, hdul: fits.HDUList, gzipped: bool) -> None:
    """Write with FITS checksums (CHECKSUM, DATASUM); gzip without a file name or time stamp."""
    with open(path, "wb") as raw:
        if gzipped:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as stream:
                hdul.writeto(stream, checksum=True)
        else:
            hdul.writeto(raw, checksum=True)
