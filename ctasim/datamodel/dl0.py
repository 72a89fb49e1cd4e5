"""A reduced (DL0) block of one telescope: named columns, each compressed with one codec.

This is what the on-site reducer produces and the archiver writes: column name -> compressed
bytes, plus each column's dtype and shape so it can be decoded, and a SHA-256 checksum over the
payload so a damaged archive is detected on read. Columns that the reducer stored with a lossy
fixed-step coding (``charge_coding``, named in ``attrs``) are decoded back to float32.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from . import charge_coding, codecs


@dataclass
class EncodedBlock:
    """Compressed DL0 columns of one telescope and one block.

    Typical columns: event_id, trigger_time, charge (float32 p.e. [n, n_pix]),
    peak_time (float32 ns [n, n_pix]), pixel_mask (bool [n, n_pix]), waveform (uint16, the kept
    pixels' samples [n_kept, n_channels, n_samples] in event-major, pixel-minor order).
    """

    stream: str
    obs_id: int
    tel_id: int
    block_index: int
    n_events: int
    codec: str
    payload: dict[str, bytes]
    dtypes: dict[str, str]
    shapes: dict[str, tuple[int, ...]]
    attrs: dict = field(default_factory=dict)

    @classmethod
    def encode(cls, stream: str, obs_id: int, tel_id: int, block_index: int, codec: str,
               columns: dict[str, np.ndarray], attrs: dict | None = None) -> EncodedBlock:
        """Compress every column with ``codec`` (event_id is required to count events)."""
        return cls(
            stream=stream, obs_id=int(obs_id), tel_id=int(tel_id), block_index=int(block_index),
            n_events=len(columns["event_id"]), codec=codecs.check_codec(codec),
            payload={k: codecs.encode(codec, v) for k, v in columns.items()},
            dtypes={k: np.asarray(v).dtype.str for k, v in columns.items()},
            shapes={k: tuple(np.shape(v)) for k, v in columns.items()},
            attrs=dict(attrs or {}),
        )

    def decode(self) -> dict[str, np.ndarray]:
        """All columns as arrays (coded charges and peak times as float32 p.e. and ns)."""
        columns = {k: codecs.decode(self.codec, b, self.dtypes[k], self.shapes[k]) for k, b in self.payload.items()}
        return charge_coding.decode_columns(columns, self.attrs)

    @property
    def nbytes(self) -> int:
        """Compressed size of the payload (bytes)."""
        return sum(len(b) for b in self.payload.values())

    def uncompressed_nbytes(self) -> int:
        """Size of the columns as stored, before compression (bytes; coded columns as their integers)."""
        return sum(int(np.prod(s)) * np.dtype(self.dtypes[k]).itemsize for k, s in self.shapes.items())

    def checksum(self) -> str:
        """SHA-256 (hex) over column names and payload bytes, in column order."""
        h = hashlib.sha256()
        for k in sorted(self.payload):
            h.update(k.encode())
            h.update(self.payload[k])
        return h.hexdigest()
