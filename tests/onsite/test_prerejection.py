"""The on-site fast DL2 (ctasim.onsite.fast_reco) and hadron pre-rejection (ctasim.onsite.prerejection)
on the DL0 blocks of the tiny library run, with a stand-in gammaness model whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from ctasim.errors import CtasimError
from ctasim.io.archive import DL0ArchiveReader
from ctasim.onsite.fast_reco import fast_dl2
from ctasim.onsite.prerejection import hadron_prerejection
from ctasim.reco.models import ParticleClassifier
from ctasim.reco.stereo import StereoQualityCuts

POINTING = (70.0, 0.0)


class EvenIdsAreGammas(ParticleClassifier):
    """Gammaness 1 for even event ids, 0 for odd ones (per event and per row)."""

    def predict(self, features):
        per_row = (features.event_id % 2 == 0).astype(float)
        per_event = np.zeros(features.n_events)
        per_event[features.event_index] = per_row
        return per_event, per_row


@pytest.fixture(scope="module")
def block(library_run):
    """The DL0 blocks (one per telescope) of the first block of the run's first archive."""
    _, files, _ = library_run
    with DL0ArchiveReader(sorted(files)[0]) as reader:
        blocks = [b for tel in reader.tel_ids for b in reader.iter_blocks(tel)]
    first = min(b.block_index for b in blocks)
    return [b for b in blocks if b.block_index == first]


def test_fast_dl2_reconstructs_the_block_events(block, north):
    dl2 = fast_dl2(block, north, POINTING, StereoQualityCuts())
    ids = np.unique(np.concatenate([b.decode()["event_id"] for b in block]))
    assert np.array_equal(dl2.event_id, ids) and dl2.is_valid.any()
    assert np.isnan(dl2.gammaness).all()  # no model
    assert np.isfinite(dl2.reco_alt[dl2.is_valid]).all() and np.isfinite(dl2.time).all()


def test_prerejection_drops_only_judged_hadron_like_events(block, north):
    decision = hadron_prerejection(block, north, POINTING, EvenIdsAreGammas(), gammaness_cut=0.5)
    dl2 = fast_dl2(block, north, POINTING, StereoQualityCuts())
    expected = dl2.event_id[dl2.is_valid & (dl2.event_id % 2 == 1)]
    assert decision.n_dropped > 0 and np.array_equal(decision.dropped_event_id, expected)
    assert decision.n_events == dl2.n_events and decision.n_judged == int(dl2.is_valid.sum())
    unjudged_odd = dl2.event_id[~dl2.is_valid & (dl2.event_id % 2 == 1)]
    obs = int(block[0].obs_id)
    assert decision.keep(obs, unjudged_odd).all()          # nothing says they are hadrons
    assert not decision.keep(obs, expected).any()
    assert decision.keep(obs + 1, expected).all()          # another observation's ids are not touched
    everything = hadron_prerejection(block, north, POINTING, EvenIdsAreGammas(), gammaness_cut=0.0)
    assert everything.n_dropped == 0


def test_a_cut_outside_the_unit_interval_is_refused(block, north):
    with pytest.raises(CtasimError, match=r"gammaness_cut 1\.5"):
        hadron_prerejection(block, north, POINTING, EvenIdsAreGammas(), gammaness_cut=1.5)
