"""Opening ctasim HDF5 files for reading: a one-line ``DataFileError`` with its kind (missing,
truncated, corrupted, mismatch) instead of h5py's ``OSError``, for any file a reader or ``ctasim
verify`` opens, and the data-model version check."""

from __future__ import annotations

from pathlib import Path

import h5py

from ..datamodel.paths import ATTR_DATA_MODEL
from ..datamodel.version import DATA_MODEL_VERSION
from ..errors import DataFileError
from .atomic import TMP_SUFFIX


def open_hdf5(path: str | Path) -> h5py.File:
    """``path`` opened read-only; DataFileError (``kind`` missing, truncated or corrupted) when it is
    absent, a leftover ``.tmp`` of an interrupted writer, empty, shorter than HDF5 recorded, or not HDF5."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such file", kind="missing")
    if path.name.endswith(TMP_SUFFIX):
        raise DataFileError(f"{path}: truncated: incomplete (temporary file of an interrupted writer)",
                            kind="truncated")
    size = path.stat().st_size
    if size == 0:
        raise DataFileError(f"{path}: truncated to 0 bytes", kind="truncated")
    if not h5py.is_hdf5(path):
        raise DataFileError(f"{path}: not an HDF5 file ({size} bytes)", kind="corrupted")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        text = str(err)
        if "truncated file" in text:
            raise DataFileError(f"{path}: truncated ({size} bytes of the {_stored_eof(text)} it had)",
                                kind="truncated") from None
        raise DataFileError(f"{path}: cannot be opened as HDF5 ({text})", kind="corrupted") from None


def _stored_eof(message: str) -> str:
    """The ``stored_eof = N`` of HDF5's truncation message (``?`` when it says none)."""
    _, _, rest = message.partition("stored_eof = ")
    digits = "".join(c for c in rest[:20] if c.isdigit())
    return digits or "?"


def data_model_of(h5: h5py.File) -> str:
    """The file's ``ctasim_data_model``; DataFileError when it is absent, unreadable or of another
    major version than this ctasim reads (``ctasim.datamodel.version``)."""
    version = h5.attrs.get(ATTR_DATA_MODEL)
    if version is None:
        raise DataFileError(f"{h5.filename}: no {ATTR_DATA_MODEL} attribute, not a ctasim file", kind="corrupted")
    text = version.decode() if isinstance(version, bytes) else str(version)
    major = text.split(".")[0]
    if not major.isdigit():
        raise DataFileError(f"{h5.filename}: unreadable data-model version {text!r}", kind="corrupted")
    ours = DATA_MODEL_VERSION.split(".")[0]
    if major != ours:
        raise DataFileError(f"{h5.filename}: data model {text} is incompatible with this ctasim (reads {ours}.x)",
                            kind="mismatch")
    return text
