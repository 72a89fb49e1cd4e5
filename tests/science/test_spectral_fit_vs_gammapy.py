"""ctasim's forward-folding fit against gammapy 2.1 on the same counts, exposure and energy dispersion.

A SpectrumDatasetOnOff is built from the arrays ctasim fits (on/off counts, acceptance ratio alpha,
exposure A_eff x livetime per true-energy bin, the energy-dispersion kernel) and fitted with gammapy's
Fit (MINUIT) and power law (index positive for a falling spectrum: gammapy index = -ctasim index).
"""

import astropy.units as u
import numpy as np
import pytest
from science_helpers import draw_on_off

from ctasim.science.spectral_fit import fit_spectrum
from ctasim.spectra import PowerLaw

pytestmark = pytest.mark.reference
pytest.importorskip("gammapy")

from gammapy.datasets import SpectrumDatasetOnOff  # noqa: E402
from gammapy.irf import EDispKernel, EDispKernelMap  # noqa: E402
from gammapy.maps import MapAxis, RegionGeom, RegionNDMap  # noqa: E402
from gammapy.modeling import Fit  # noqa: E402
from gammapy.modeling.models import PowerLawSpectralModel, SkyModel  # noqa: E402

FLUX_UNIT = u.Unit("1 / (TeV cm2 s)")
REGION = "icrs;circle(83.63, 22.01, 0.1)"


def gammapy_dataset(data) -> SpectrumDatasetOnOff:
    response = data.response
    reco = MapAxis.from_edges(response.reco_energy_bins, name="energy", interp="log")
    true = MapAxis.from_edges(response.true_energy_bins, name="energy_true", interp="log")
    geom, geom_true = RegionGeom.create(REGION, axes=[reco]), RegionGeom.create(REGION, axes=[true])

    def on_reco(values):
        return RegionNDMap.from_geom(geom, data=np.asarray(values, float).reshape(-1, 1, 1))

    exposure = response.exposure
    kernel = EDispKernel(axes=[true, reco], data=response.edisp_kernel)
    return SpectrumDatasetOnOff(
        counts=on_reco(data.n_on), counts_off=on_reco(data.n_off), acceptance=on_reco(np.ones_like(data.alpha)),
        acceptance_off=on_reco(1.0 / data.alpha), edisp=EDispKernelMap.from_edisp_kernel(kernel, geom=geom),
        exposure=RegionNDMap.from_geom(geom_true, data=exposure.value.reshape(-1, 1, 1), unit=exposure.unit),
        name="toy")


def set_power_law(dataset, normalization, index):
    model = dataset.models["source"].spectral_model
    model.amplitude.value, model.index.value = normalization, -index
    return model


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_best_fit_errors_and_statistic_agree_with_gammapy(response, seed):
    data = draw_on_off(np.random.default_rng(seed), response)
    ours = fit_spectrum(data, PowerLaw(1e-12, -2.0))
    dataset = gammapy_dataset(data)
    dataset.models = SkyModel(spectral_model=PowerLawSpectralModel(index=2.0, amplitude=1e-12 * FLUX_UNIT,
                                                                   reference=1 * u.TeV), name="source")
    theirs = Fit().run([dataset])
    assert ours.success and theirs.success
    model = dataset.models["source"].spectral_model
    index, amplitude = model.index, model.amplitude
    assert amplitude.unit == FLUX_UNIT
    # best fit within 0.01 sigma, errors within 1%, the covariance the same (sign: opposite index conventions)
    assert abs(-ours.parameters["index"] - index.value) < 0.01 * index.error
    assert abs(ours.parameters["normalization"] - amplitude.value) < 0.01 * amplitude.error
    assert ours.errors["index"] == pytest.approx(index.error, rel=0.01)
    assert ours.errors["normalization"] == pytest.approx(amplitude.error, rel=0.01)
    ours_correlation = ours.covariance[0, 1] / (ours.errors["normalization"] * ours.errors["index"])
    theirs_correlation = dataset.models.covariance.get_subcovariance([amplitude, index]).data[0, 1] / (
        amplitude.error * index.error)
    assert ours_correlation == pytest.approx(-theirs_correlation, abs=0.01)
    # at our best fit and with no source the two likelihoods are the same numbers (same WStat definition;
    # gammapy keeps some maps in float32)
    set_power_law(dataset, ours.parameters["normalization"], ours.parameters["index"])
    np.testing.assert_allclose(dataset.npred_signal().data.ravel(), ours.bins["predicted_excess"], rtol=1e-6)
    assert dataset.stat_sum() == pytest.approx(ours.stat, rel=1e-6, abs=1e-6)
    set_power_law(dataset, 0.0, ours.parameters["index"])
    assert dataset.stat_sum() == pytest.approx(ours.stat_null, rel=1e-6)
