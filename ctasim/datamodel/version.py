"""The data-model version every ctasim file carries (``ctasim_data_model``) and its history.

A reader accepts files of its own major version; a minor version adds columns or tables that
older readers may ignore.
"""

DATA_MODEL_VERSION = "2.4"

#: What changed with each version (newest first); user-visible, also in the README.
CHANGES: dict[str, str] = {
    "2.4": (
        "DL0 layout 1.1: blocks may store lossily coded charges and peak times (block attribute "
        "value_coding: charges in steps of a fraction of their Poisson noise, peak times in fixed steps, "
        "int16/int32 codes that EncodedBlock.decode turns back into float32) and, with "
        "keep_unselected_charges false, charges and peak times of the selected pixels only; new codecs "
        "(zstd levels, lz4hc, blosc2 byte/bit shuffle, delta-<codec>); blocks of layout 1.0 read as before"
    ),
    "2.3": (
        "pixel data quality: the DL0 archive gets /dl0/monitoring/telescope/pixel_pedestal/tel_NNN (per "
        "block, each pixel's pedestal std in adu) and, when pixel faults were injected, their truth in "
        "/simulation/service/pixel_faults/tel_NNN (copied to DL1); DL1 files get "
        "/dl1/monitoring/telescope/pixel_status/tel_NNN (pooled std, status bits, unusable mask, NSB gradient); "
        "every DL0, DL1 and DL2 file carries /ctasim/table_checksums (path, sha256: the SHA-256 of each "
        "dataset's values and attributes, all but the DL0 block payloads, which their block checksums "
        "cover) and the file attribute ctasim_tables_sha256 (over those rows: the file's content "
        "digest, independent of provenance attributes such as the creation time); DL1 provenance "
        "inputs record their DL0 file's digest (sha256), DL2 inputs their DL1 files' digests and "
        "provenance models.sha256 the text SHA-256 of each model used, so that ctasim verify names a "
        "file made from an upstream file that changed since as stale (files of 2.0-2.2 are read "
        "and verified without these checks)"
    ),
    "2.2": (
        "instrument: the optics table gets psf_offaxis_deg_per_deg (the PSF's growth off axis) and "
        "each camera's readout attributes flat_field_residual and time_jitter_ns (files of 2.0-2.1 "
        "read with 0 for them); /configuration/instrument carries ctasim_sha256, the digest of every "
        "instrument table and attribute, checked on reading"
    ),
    "2.1": (
        "DL2: the event direction reco_alt/reco_az from the disp of each image (with the plane "
        "intersection from 4 images); the intersection alone in hillas_alt/hillas_az; disp_tel per "
        "telescope; ctapipe's geometry/DispReconstructor group"
    ),
    "2.0": (
        "per-column units as ctapipe's table writer stores them (CTAFIELD_<i>_UNIT attributes) and "
        "as astropy's HDF5 reader reads them (a __table_column_meta__ YAML attribute on each table), "
        "replacing the JSON 'units' attribute, so ctapipe's read_table and astropy's QTable.read "
        "return Quantities; instrument tables in ctapipe's layout (camera and optics indices, "
        "cameras as geometry_<i>/readout_<i>, TAB_VER metadata, reference location) so "
        "SubarrayDescription.from_hdf and TableLoader open every file; all simulated showers moved to "
        "/simulation/event/subarray/all_showers, and DL1/DL2 files hold ctapipe's "
        "/simulation/event/subarray/shower (triggered events, trigger order) and "
        "/dl1/event/telescope/trigger; DL2 flat tables moved to /dl2/events and "
        "/dl2/telescope_events/tel_NNN, the same predictions also under "
        "/dl2/event/subarray/{geometry,energy,classification}/<algorithm>; pedestal monitoring rows "
        "come from interleaved pedestal events and are never NaN"
    ),
    "1.0": "first release: instrument, simulation truth, DL0 archive, DL1 parameters, DL2 events",
}
