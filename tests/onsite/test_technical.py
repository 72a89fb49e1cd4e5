"""Technical data records: pointing and the toy weather station, deterministic per block."""

import numpy as np

from ctasim.datamodel.monitoring import POINTING_DTYPE, WEATHER_DTYPE
from ctasim.onsite.technical import pointing_record, weather_record


def test_pointing_record():
    row = pointing_record(12.5, 70.0, 180.0)
    assert row.dtype == POINTING_DTYPE and row.shape == (1,)
    assert row[0].tolist() == (12.5, 70.0, 180.0)


def test_weather_is_deterministic_per_block_and_plausible():
    a, again = weather_record(1.0, 7, "gamma", 3), weather_record(1.0, 7, "gamma", 3)
    assert a.dtype == WEATHER_DTYPE and a.tobytes() == again.tobytes()
    others = [weather_record(1.0, 7, "gamma", 4), weather_record(1.0, 7, "proton", 3),
              weather_record(1.0, 8, "gamma", 3)]
    assert all(o.tobytes() != a.tobytes() for o in others)
    rows = np.concatenate([weather_record(float(i), 7, "gamma", i) for i in range(200)])
    assert abs(rows["temperature"].mean() - 10.0) < 0.2 and abs(rows["relative_humidity"].mean() - 30.0) < 0.6
    assert np.all(rows["wind_speed"] >= 0) and all(np.isfinite(rows[n]).all() for n in rows.dtype.names)
