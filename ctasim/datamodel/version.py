"""The data-model version every ctasim file carries (``ctasim_data_model``) and its history.

A reader accepts files of its own major version; a minor version adds columns or tables that
older readers may ignore.
"""

DATA_MODEL_VERSION = "2.0"

#: What changed with each version (newest first); user-visible, also in the README.
CHANGES: dict[str, str] = {
    "2.0": (
        "per-column units as ctapipe's table writer stores them ({column}_UNIT attributes) and as "
        "astropy's HDF5 reader expects them (<table>.__table_column_meta__), so ctapipe's "
        "read_table and astropy's QTable.read return Quantities; instrument tables in ctapipe's "
        "layout (camera and optics indices, TAB_VER metadata) so SubarrayDescription.from_hdf and "
        "TableLoader open every file; DL2 also under /dl2/event/subarray/{geometry,energy,"
        "classification}/<algorithm>; pedestal monitoring rows come from interleaved pedestal "
        "events and are never NaN"
    ),
    "1.0": "first release: instrument, simulation truth, DL0 archive, DL1 parameters, DL2 events",
}
