"""Every HDF5 group path and file attribute name of the ctasim data model, in one place.

The layout follows ctapipe's ``io/hdf5dataformat.py`` and ``../shared/DATA_MODEL.md``: data level
first, then ``event``/``service``/``monitoring``, then ``subarray`` or ``telescope``; per-telescope
tables are named ``tel_001``, ``tel_002``, ... Change a path here and nowhere else.
"""

from __future__ import annotations

# -- file attributes -------------------------------------------------------------------------
ATTR_DATA_MODEL = "ctasim_data_model"  # "MAJOR.MINOR" (ctasim.datamodel.version)
ATTR_CTASIM_VERSION = "ctasim_version"
ATTR_PROVENANCE_PREFIX = "provenance."  # provenance keys are stored as provenance.<key>
ATTR_COMPLETE = "ctasim_complete"  # True once an archive was closed cleanly
ATTR_FILE_CHECKSUM = "ctasim_checksum"  # SHA-256 over all block checksums (archive)
ATTR_UNITS = "units"  # per table: JSON column -> unit

# -- instrument (in every file) --------------------------------------------------------------
INSTRUMENT = "/configuration/instrument"
SUBARRAY_LAYOUT = f"{INSTRUMENT}/subarray/layout"
TELESCOPE_OPTICS = f"{INSTRUMENT}/telescope/optics"
CAMERA_GROUP = f"{INSTRUMENT}/telescope/camera"

# -- simulation truth ------------------------------------------------------------------------
SIMULATION_SHOWER = "/simulation/event/subarray/shower"
SIMULATION_IMPACT = "/simulation/event/telescope/impact"  # + /tel_NNN
SIMULATION_SHOWER_DISTRIBUTION = "/simulation/service/shower_distribution"

# -- raw and reduced -------------------------------------------------------------------------
R1_TELESCOPE = "/r1/event/telescope"  # + /tel_NNN
DL0_TELESCOPE = "/dl0/event/telescope"  # + /tel_NNN (archive blocks)
DL0_SUBARRAY_TRIGGER = "/dl0/event/subarray/trigger"  # stereo trigger, archive
DL0_TELESCOPE_TRIGGER = "/dl0/event/telescope/trigger"  # every camera trigger + fate
DL0_MONITORING = "/dl0/monitoring"
DL0_MONITORING_POINTING = f"{DL0_MONITORING}/subarray/pointing"
DL0_MONITORING_WEATHER = f"{DL0_MONITORING}/subarray/weather"
DL0_MONITORING_TRIGGER_RATES = f"{DL0_MONITORING}/telescope/trigger_rates"  # + /tel_NNN
DL0_MONITORING_PEDESTAL = f"{DL0_MONITORING}/telescope/pedestal"  # + /tel_NNN

# -- DL1 / DL2 -------------------------------------------------------------------------------
DL1_SUBARRAY_TRIGGER = "/dl1/event/subarray/trigger"
DL1_IMAGES = "/dl1/event/telescope/images"  # + /tel_NNN
DL1_PARAMETERS = "/dl1/event/telescope/parameters"  # + /tel_NNN
DL2_SUBARRAY_EVENTS = "/dl2/event/subarray/events"
DL2_TELESCOPE = "/dl2/event/telescope"  # + /tel_NNN


def tel_table_name(tel_id: int) -> str:
    """Per-telescope table name: 1 -> ``tel_001``."""
    return f"tel_{int(tel_id):03d}"


def tel_table_path(group: str, tel_id: int) -> str:
    """Full path of a telescope's table inside a per-telescope group."""
    return f"{group}/{tel_table_name(tel_id)}"


def camera_geometry_path(camera_name: str) -> str:
    """``/configuration/instrument/telescope/camera/geometry_{camera_name}``."""
    return f"{CAMERA_GROUP}/geometry_{camera_name}"


def camera_neighbors_paths(camera_name: str) -> tuple[str, str]:
    """Paths of the CSR neighbour arrays (indptr, indices) of a camera geometry."""
    base = camera_geometry_path(camera_name)
    return f"{base}_neighbors_indptr", f"{base}_neighbors_indices"


def camera_readout_path(camera_name: str) -> str:
    """``/configuration/instrument/telescope/camera/readout_{camera_name}``."""
    return f"{CAMERA_GROUP}/readout_{camera_name}"
