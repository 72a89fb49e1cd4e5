"""Effective area: exact answers on tiny synthetic inputs, point-like and diffuse, bad input."""

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable

from ctasim.errors import CtasimError
from ctasim.irf.effective_area import effective_area
from ctasim.irf.weights import SimulationInfo


def simulation(n_showers=2000, viewcone=0.0, offset=0.0):
    # E^-1 over two decades: half of the showers in each decade; scatter disk of 1e4 m^2
    return SimulationInfo(n_showers, 1 * u.TeV, 100 * u.TeV, -1.0, np.sqrt(1e4 / np.pi) * u.m, 0 * u.deg,
                          viewcone * u.deg, offset * u.deg)


def selected(energies, offsets):
    return QTable({"true_energy": np.asarray(energies, float) * u.TeV,
                   "true_source_fov_offset": np.asarray(offsets, float) * u.deg})


def test_effective_area_is_exactly_100_and_10_m2():
    events = selected([2.0] * 10 + [20.0], [0.0] * 11)
    area = effective_area(events, simulation(), [1, 10, 100] * u.TeV, [0, 1] * u.deg)
    assert area.unit == u.m**2
    assert area[:, 0].to_value(u.m**2) == pytest.approx([100.0, 10.0], rel=1e-12)


def test_point_source_fills_only_the_offset_bin_of_its_source():
    events = selected([2.0] * 10 + [20.0], [0.5] * 11)
    area = effective_area(events, simulation(offset=0.5), [1, 10, 100] * u.TeV, [0, 0.4, 1.0] * u.deg)
    assert area.to_value(u.m**2) == pytest.approx(np.array([[0.0, 100.0], [0.0, 10.0]]), rel=1e-12)


def test_diffuse_area_divides_by_the_showers_simulated_in_each_offset_ring():
    # 5 deg cone: the ring 0-1 deg holds (1 - cos 1) / (1 - cos 5) of the showers
    sim = simulation(n_showers=200_000, viewcone=5.0)
    share = (1 - np.cos(np.deg2rad(1.0))) / (1 - np.cos(np.deg2rad(5.0)))
    events = selected([2.0] * 50, [0.5] * 50)
    area = effective_area(events, sim, [1, 10, 100] * u.TeV, [0, 1, 5] * u.deg)
    assert area[0, 0].to_value(u.m**2) == pytest.approx(50 / (100_000 * share) * 1e4, rel=1e-12)
    assert area[0, 1].value == 0.0 and area[1].sum().value == 0.0


def test_bad_input_raises_one_line_errors():
    events = selected([2.0], [0.0])
    with pytest.raises(CtasimError, match=r"0.1-0.5 TeV.*outside the simulated range"):
        effective_area(events, simulation(), [0.1, 0.5, 10] * u.TeV, [0, 1] * u.deg)
    with pytest.raises(CtasimError, match="where nothing was simulated"):
        effective_area(selected([2.0], [0.45]), simulation(offset=0.5), [1, 10] * u.TeV, [0, 0.5, 1] * u.deg)
    with pytest.raises(CtasimError, match="empty selection"):
        effective_area(events[:0], simulation(), [1, 10] * u.TeV, [0, 1] * u.deg)
    with pytest.raises(CtasimError, match="lacks column"):
        effective_area(QTable({"true_energy": [2.0] * u.TeV}), simulation(), [1, 10] * u.TeV, [0, 1] * u.deg)
    with pytest.raises(CtasimError, match="true energy bins"):
        effective_area(events, simulation(), [10, 1] * u.TeV, [0, 1] * u.deg)
    with pytest.raises(CtasimError, match="FoV offset bins"):
        effective_area(events, simulation(), [1, 10] * u.TeV, [0, 1] * u.TeV)
