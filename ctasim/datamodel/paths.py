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
ATTR_COMPLETE = "ctasim_complete"  # 1 once an archive was closed cleanly
ATTR_FILE_CHECKSUM = "ctasim_checksum"  # SHA-256 over all block checksums (archive)
ATTR_TABLES_DIGEST = "ctasim_tables_sha256"  # SHA-256 over the TABLE_CHECKSUMS rows (every HDF5 file)
# per table column at position {pos} (ctapipe's HDF5 table convention): UNIT, TRANSFORM, MAXLEN
ATTR_COLUMN = "CTAFIELD_{pos}_{key}"
ATTR_ASTROPY_META = "__table_column_meta__"  # per table: astropy's YAML column header (units)

# -- checksums of every other dataset (ctasim.io.checksums), in every HDF5 file ------------------
TABLE_CHECKSUMS = "/ctasim/table_checksums"

# -- instrument (in every file; ctapipe's layout, cameras numbered by the layout's camera_index) --
INSTRUMENT = "/configuration/instrument"
SUBARRAY_LAYOUT = f"{INSTRUMENT}/subarray/layout"
TELESCOPE_OPTICS = f"{INSTRUMENT}/telescope/optics"
CAMERA_GROUP = f"{INSTRUMENT}/telescope/camera"

# -- simulation truth ------------------------------------------------------------------------
SIMULATION_SHOWER = "/simulation/event/subarray/all_showers"  # every simulated shower, triggered or not
# ctapipe's shower table: the shower of every array-triggered event, row by row as the DL1 trigger
SIMULATION_TRIGGERED_SHOWER = "/simulation/event/subarray/shower"
SIMULATION_IMPACT = "/simulation/event/telescope/impact"  # + /tel_NNN
SIMULATION_SHOWER_DISTRIBUTION = "/simulation/service/shower_distribution"
SIMULATION_PIXEL_FAULTS = "/simulation/service/pixel_faults"  # + /tel_NNN, when pixel faults were injected

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
DL0_MONITORING_PIXEL_PEDESTAL = f"{DL0_MONITORING}/telescope/pixel_pedestal"  # + /tel_NNN

# -- DL1 / DL2 -------------------------------------------------------------------------------
DL1_SUBARRAY_TRIGGER = "/dl1/event/subarray/trigger"
DL1_TELESCOPE_TRIGGER = "/dl1/event/telescope/trigger"  # one row per telescope event (ctapipe's index)
DL1_IMAGES = "/dl1/event/telescope/images"  # + /tel_NNN
DL1_PARAMETERS = "/dl1/event/telescope/parameters"  # + /tel_NNN
DL1_MONITORING_PIXEL_STATUS = "/dl1/monitoring/telescope/pixel_status"  # + /tel_NNN
# flat, pyirf-ready tables, outside /dl2/event where ctapipe expects <kind>/<algorithm> groups only
DL2_SUBARRAY_EVENTS = "/dl2/events"
DL2_TELESCOPE = "/dl2/telescope_events"  # + /tel_NNN
# ctapipe's groups, + /<algorithm> (ctasim.datamodel.dl2): the same predictions, ctapipe's columns
DL2_SUBARRAY_GEOMETRY = "/dl2/event/subarray/geometry"
DL2_SUBARRAY_ENERGY = "/dl2/event/subarray/energy"
DL2_SUBARRAY_CLASSIFICATION = "/dl2/event/subarray/classification"


def tel_table_name(tel_id: int) -> str:
    """Per-telescope table name: 1 -> ``tel_001``."""
    return f"tel_{int(tel_id):03d}"


def tel_table_path(group: str, tel_id: int) -> str:
    """Full path of a telescope's table inside a per-telescope group."""
    return f"{group}/{tel_table_name(tel_id)}"


def camera_geometry_path(camera_index: int) -> str:
    """``/configuration/instrument/telescope/camera/geometry_{camera_index}``."""
    return f"{CAMERA_GROUP}/geometry_{int(camera_index)}"


def camera_neighbors_paths(camera_index: int) -> tuple[str, str]:
    """Paths of the CSR neighbour arrays (indptr, indices) of a camera geometry."""
    base = camera_geometry_path(camera_index)
    return f"{base}_neighbors_indptr", f"{base}_neighbors_indices"


def camera_readout_path(camera_index: int) -> str:
    """``/configuration/instrument/telescope/camera/readout_{camera_index}``."""
    return f"{CAMERA_GROUP}/readout_{int(camera_index)}"
