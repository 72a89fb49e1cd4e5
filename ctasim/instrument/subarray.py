"""Array layouts: site, telescope ids and ground positions, and the telescope types they use."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .telescope import TelescopeDescription


@dataclass(frozen=True)
class Site:
    """Observatory site: geodetic position (deg, m a.s.l.) and the observation level (m a.s.l.)."""

    name: str
    lon_deg: float
    lat_deg: float
    altitude_m: float
    obs_level_m: float


@dataclass(frozen=True, eq=False)
class SubarrayDescription:
    """Telescopes of an array: ids (1-based), ground positions (m), and their type descriptions."""

    name: str
    site: Site
    tel_ids: np.ndarray  # int16 [n_tel]
    tel_names: tuple[str, ...]
    tel_type_names: tuple[str, ...]
    positions: np.ndarray  # float64 [n_tel, 3], ground frame (m)
    telescope_types: dict[str, TelescopeDescription]
    _index: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {int(t): i for i, t in enumerate(self.tel_ids)})

    @property
    def n_tels(self) -> int:
        return int(self.tel_ids.size)

    def tel_index(self, tel_id: int) -> int:
        """Row of tel_id in the layout arrays."""
        return self._index[int(tel_id)]

    def tel_indices(self, tel_ids: np.ndarray) -> np.ndarray:
        """Rows (int64) of many tel_ids in the layout arrays; ValueError naming unknown ids."""
        tel_ids = np.asarray(tel_ids, np.int64)
        lookup = np.full(int(max(self.tel_ids.max(), tel_ids.max(initial=0))) + 1, -1, np.int64)
        lookup[self.tel_ids] = np.arange(self.n_tels)
        rows = lookup[np.clip(tel_ids, 0, None)]
        bad = (tel_ids < 0) | (rows < 0)
        if bad.any():
            raise ValueError(f"tel_id not in subarray {self.name!r}: {np.unique(tel_ids[bad]).tolist()}")
        return rows

    def tel(self, tel_id: int) -> TelescopeDescription:
        return self.telescope_types[self.tel_type_names[self.tel_index(tel_id)]]

    def position(self, tel_id: int) -> np.ndarray:
        return self.positions[self.tel_index(tel_id)]

    def tel_ids_of_type(self, type_name: str) -> np.ndarray:
        return self.tel_ids[np.array([t == type_name for t in self.tel_type_names], bool)]

    def size_classes(self) -> np.ndarray:
        """Size class (LST/MST/SST) of every telescope, in layout order."""
        return np.array([self.telescope_types[t].tel_type for t in self.tel_type_names])

    def select(self, tel_ids) -> SubarrayDescription:
        """A subarray holding only the given telescope ids (in layout order)."""
        keep = np.isin(self.tel_ids, np.asarray(tel_ids))
        return SubarrayDescription(
            name=f"{self.name}-subset",
            site=self.site,
            tel_ids=self.tel_ids[keep],
            tel_names=tuple(np.array(self.tel_names)[keep]),
            tel_type_names=tuple(np.array(self.tel_type_names)[keep]),
            positions=self.positions[keep],
            telescope_types={t: self.telescope_types[t] for t in set(np.array(self.tel_type_names)[keep])},
        )

    def layout_table(self) -> np.ndarray:
        """Structured array for ``/configuration/instrument/subarray/layout``."""
        dtype = [
            ("tel_id", "i2"), ("name", "S16"), ("type", "S8"), ("camera_name", "S16"),
            ("optics_name", "S16"), ("pos_x", "f8"), ("pos_y", "f8"), ("pos_z", "f8"),
        ]
        rows = []
        for i, tel_id in enumerate(self.tel_ids):
            tel = self.telescope_types[self.tel_type_names[i]]
            x, y, z = self.positions[i]
            rows.append((tel_id, self.tel_names[i], tel.tel_type, tel.camera_name, tel.optics.name, x, y, z))
        return np.array(rows, dtype=dtype)
