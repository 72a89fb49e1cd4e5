"""The model file format: line 1 ``# ctasim-model `` + a one-line JSON header, then the model text.

The header carries ``text_sha256``, the SHA-256 of the text (and ``text_bytes``, its length, so that
a cut text reads as truncated), checked by ``read_model_file`` before
anything parses the text: LightGBM aborts the whole process (exit 134) on some truncated texts
instead of raising. Files written before the checksum are accepted when the text reaches
LightGBM's last sections. Reading imports no LightGBM, so ``ctasim verify`` checks models cheaply.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..errors import DataFileError

MODEL_MAGIC = "# ctasim-model "
MODEL_SUFFIX = ".model"


def write_model_file(path: str | Path, header: dict, text: str) -> Path:
    """Write ``header`` (``text_sha256`` and ``text_bytes`` set here) and ``text`` to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header["text_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    header["text_bytes"] = len(text.encode())
    path.write_text(MODEL_MAGIC + json.dumps(header, sort_keys=True) + "\n" + text)
    return path


def read_model_file(path: str | Path) -> tuple[dict, str]:
    """(header, model text) of a model file; a one-line DataFileError (kind missing, truncated or
    corrupted) when it is absent, not a model file, or its text does not match ``text_sha256``."""
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{path}: no such model file", kind="missing")
    try:
        first, newline, text = path.read_text().partition("\n")
    except (OSError, UnicodeDecodeError) as err:
        raise DataFileError(f"{path}: cannot read model file ({err})", kind="corrupted") from None
    if not first.startswith(MODEL_MAGIC):
        kind = "truncated" if len(first) < len(MODEL_MAGIC) and MODEL_MAGIC.startswith(first) else "corrupted"
        raise DataFileError(f"{path}: not a ctasim model file", kind=kind)
    try:
        header = json.loads(first[len(MODEL_MAGIC) :])
    except json.JSONDecodeError as err:
        kind = "truncated" if not newline else "corrupted"
        raise DataFileError(f"{path}: damaged model header ({err.msg})", kind=kind) from None
    digest = header.get("text_sha256") if isinstance(header, dict) else None
    if not isinstance(header, dict):
        raise DataFileError(f"{path}: damaged model header (not a JSON object)", kind="corrupted")
    intact = (hashlib.sha256(text.encode()).hexdigest() == digest if digest
              else "end of trees" in text and "end of parameters" in text)
    if not intact:
        short = len(text.encode()) < header.get("text_bytes", 0)
        raise DataFileError(f"{path}: LightGBM model text truncated or damaged (checksum mismatch"
                            + (f"; {len(text.encode())} of its {header['text_bytes']} bytes)" if short else ")"),
                            kind="truncated" if short else "corrupted")
    return header, text
