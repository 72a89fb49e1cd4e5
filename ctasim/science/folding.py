"""Forward folding: a spectral model through the IRFs to predicted counts per reconstructed-energy bin.

mu_j = sum_i F_i * A_eff,i * T * P_ij, with F_i the model's integral flux over true-energy bin i
(1 / (cm^2 s)), A_eff,i the effective area of the bin, T the livetime and P_ij the energy-dispersion
kernel: the probability that a gamma of true-energy bin i is reconstructed in energy bin j. The
same convention as gammapy's spectrum datasets (exposure at the bin, model integrated over the bin).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property

import astropy.units as u
import numpy as np

from ..errors import CtasimError
from ..irf.binning import check_edges, geometric_center
from ..irf.weights import positive_livetime
from ..spectra import Spectrum


@dataclass(frozen=True, eq=False)
class SpectralResponse:
    """IRFs of one observation of a point source, at its FoV offset.

    ``true_energy_bins`` / ``reco_energy_bins``: edges (TeV); ``effective_area``: per true-energy
    bin (m^2, after the cuts of the analysis); ``edisp_kernel``: P_ij, shape (n_true, n_reco), each
    row summing to at most 1; ``livetime``: s. Validated and converted on construction."""

    true_energy_bins: u.Quantity
    reco_energy_bins: u.Quantity
    effective_area: u.Quantity
    edisp_kernel: np.ndarray
    livetime: u.Quantity

    def __post_init__(self) -> None:
        true = check_edges(self.true_energy_bins, u.TeV, "true energy bins")
        reco = check_edges(self.reco_energy_bins, u.TeV, "reconstructed energy bins")
        try:
            area = u.Quantity(self.effective_area).to(u.m**2)
        except (u.UnitsError, TypeError, ValueError):
            unit = getattr(self.effective_area, "unit", "no unit")
            raise CtasimError(f"effective area in {unit}: expected an area (m2)") from None
        kernel = np.asarray(self.edisp_kernel, np.float64)
        n_true, n_reco = true.size - 1, reco.size - 1
        if area.shape != (n_true,):
            raise CtasimError(f"effective area: {area.shape} values for {n_true} true energy bins")
        if kernel.shape != (n_true, n_reco):
            raise CtasimError(f"energy dispersion kernel: shape {kernel.shape}, expected (n_true, n_reco) = "
                              f"({n_true}, {n_reco})")
        if not (np.all(np.isfinite(area.value)) and np.all(area.value >= 0)):
            raise CtasimError("effective area: expected finite values >= 0 m2")
        if not (np.all(np.isfinite(kernel)) and np.all(kernel >= 0)) or np.any(kernel.sum(axis=1) > 1 + 1e-6):
            raise CtasimError("energy dispersion kernel: expected probabilities >= 0 with rows summing to at most 1")
        for name, value in (("true_energy_bins", true), ("reco_energy_bins", reco), ("effective_area", area),
                            ("edisp_kernel", kernel), ("livetime", positive_livetime(self.livetime))):
            object.__setattr__(self, name, value)

    @cached_property
    def exposure(self) -> u.Quantity:
        """A_eff x livetime per true-energy bin (cm^2 s)."""
        return (self.effective_area * self.livetime).to(u.cm**2 * u.s)

    @cached_property
    def _plain(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(low, high true-energy edges in TeV, exposure in cm^2 s): the values the fit loop folds with."""
        edges = self.true_energy_bins.to_value(u.TeV)
        return edges[:-1], edges[1:], self.exposure.to_value(u.cm**2 * u.s)

    @property
    def reco_energy_center(self) -> u.Quantity:
        """Geometric centres of the reconstructed-energy bins (TeV)."""
        return geometric_center(self.reco_energy_bins)

    def with_livetime(self, livetime: u.Quantity) -> SpectralResponse:
        """The same IRFs for another livetime."""
        return dataclasses.replace(self, livetime=livetime)

    def true_counts(self, spectrum: Spectrum) -> np.ndarray:
        """Expected gammas per true-energy bin: integral flux x exposure."""
        if spectrum.diffuse:
            raise CtasimError("forward folding: expected a point-source spectrum (per cm2 s TeV), got a diffuse one")
        low, high, exposure = self._plain
        return np.asarray(spectrum.integral(low, high), np.float64) * exposure

    def predicted_counts(self, spectrum: Spectrum) -> np.ndarray:
        """Expected gammas per reconstructed-energy bin (the forward-folded model)."""
        return self.true_counts(spectrum) @ self.edisp_kernel


def edisp_kernel(migration_density: np.ndarray, true_energy_bins: u.Quantity, migration_bins: np.ndarray,
                 reco_energy_bins: u.Quantity) -> np.ndarray:
    """P_ij from dP/dmu (mu = E_reco / E_true) of one FoV offset, shape (n_true, n_migration), as
    ``ctasim.irf.energy_dispersion.energy_dispersion(...)[:, :, k]``.

    The density is taken as constant within each migration bin and evaluated at the geometric
    centre of each true-energy bin: P_ij is its integral between the edges of reco bin j divided by
    that energy. Probability migrating outside the reco bins is lost (as it is from the data)."""
    true = check_edges(true_energy_bins, u.TeV, "true energy bins").to_value(u.TeV)
    migra = check_edges(migration_bins, u.one, "migration bins").to_value(u.one)
    reco = check_edges(reco_energy_bins, u.TeV, "reconstructed energy bins").to_value(u.TeV)
    density = np.asarray(migration_density, np.float64)
    if density.shape != (true.size - 1, migra.size - 1):
        raise CtasimError(f"migration matrix: shape {density.shape}, expected (n_true, n_migration) = "
                          f"({true.size - 1}, {migra.size - 1}); select one FoV offset")
    cumulative = np.concatenate([np.zeros((density.shape[0], 1)), np.cumsum(density * np.diff(migra), axis=1)], axis=1)
    mu = reco[None, :] / np.sqrt(true[:-1] * true[1:])[:, None]
    at_edges = np.array([np.interp(m, migra, c) for m, c in zip(mu, cumulative)])
    return np.diff(at_edges, axis=1)
