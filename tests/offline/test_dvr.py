"""The data-volume reduction study (ctasim.offline.dvr) on a small full-R1 run in this process:
variants derived from the archive, reconstructed with the run's models."""

from __future__ import annotations

import subprocess
import sys

import h5py
import pytest
from chain_helpers import small_scenario

from actors.orchestrator import run_scenario
from ctasim.dl0.reduction import ReductionConfig
from ctasim.errors import DataFileError
from ctasim.io.archive import DL0ArchiveReader
from ctasim.offline.dvr import DVR_DIR, derive_archive, run_study
from ctasim.scenario import validate_scenario

VARIANTS = [ReductionConfig.for_variant("raw"), ReductionConfig.for_variant("pixel_selection"),
            ReductionConfig.for_variant("integrated", codec="zstd")]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    run = tmp_path_factory.mktemp("dvr") / "run"
    cfg = small_scenario(run, blocks_per_stream=3, backend="local") | {
        "reduction": {"variant": "raw"}, "offline": {"dl1": True, "dl2": True}}
    run_scenario(validate_scenario(cfg))
    return run, run_study(run, VARIANTS)


def _parameters(path):
    with h5py.File(path, "r") as h5:
        group = h5["dl1/event/telescope/parameters"]
        return {name: group[name][()] for name in group}


def test_the_raw_variant_reproduces_the_archive_and_its_dl1(study):
    run, _ = study
    for archive in sorted((run / "dl0").glob("*.dl0.h5")):
        derived = run / DVR_DIR / "raw" / "dl0" / archive.name
        with DL0ArchiveReader(archive) as a, DL0ArchiveReader(derived) as b:
            assert a.stored_checksum == b.stored_checksum
        dl1 = archive.name.replace(".dl0.h5", ".dl1.h5")
        ours, theirs = _parameters(run / "dl1" / dl1), _parameters(run / DVR_DIR / "raw" / "dl1" / dl1)
        assert ours.keys() == theirs.keys() and ours
        for name in ours:
            assert ours[name].tobytes() == theirs[name].tobytes()  # NaN-safe: bit for bit


def test_bytes_fall_with_each_step_and_the_reference_ratios_are_one(study):
    _, section = study
    v = section["variants"]
    assert section["reference"] == "raw"
    assert v["raw"]["bytes_per_array_event"] > v["pixel_selection"]["bytes_per_array_event"] \
        > v["integrated"]["bytes_per_array_event"]
    for entry in v.values():
        assert entry["reduction_factor_from_r1"] == pytest.approx(
            entry["r1_bytes_per_array_event"] / entry["bytes_per_array_event"])
        assert set(entry["bytes_per_telescope_event"]) == {"LST", "MST"}
    ratios = [r for curve in v["raw"]["performance_ratio_to_reference"].values() for r in curve if r is not None]
    assert ratios and all(r == 1.0 for r in ratios)
    assert v["raw"]["reprocessable"] == []
    assert any("re-extracted" in s for s in v["integrated"]["reprocessable"])
    assert v["integrated"]["performance"]["energy_resolution"] is not None


def test_a_reduced_archive_cannot_feed_the_study(study, tmp_path):
    run, _ = study
    reduced = run / DVR_DIR / "integrated" / "dl0"
    archive = sorted(reduced.glob("*.dl0.h5"))[0]
    with pytest.raises(DataFileError, match="not full R1") as excinfo:
        derive_archive(archive, tmp_path / "x.dl0.h5", VARIANTS[1])
    assert "\n" not in str(excinfo.value)
    assert not (tmp_path / "x.dl0.h5").exists()


def test_a_run_without_models_is_refused(tmp_path):
    with pytest.raises(DataFileError, match="no trained models"):
        run_study(tmp_path, VARIANTS)


def test_the_shipped_variants_validate_and_bad_ones_fail_in_one_line(tmp_path):
    from ctasim.instrument.config import read_yaml
    from ctasim.paths import CONFIG_DIR
    from ctasim.scenario import dvr_variants

    shipped = dvr_variants(read_yaml(CONFIG_DIR / "dvr_variants.yaml"))
    assert shipped[0].variant == "raw" and len({v.variant for v in shipped}) == len(shipped)
    bad = {"- {name: raw}\n- {name: raw}\n": "[1].name", "- {name: a, codec: nope}\n": "[0].codec",
           "- {name: a, base: b}\n": "[0].base", "[]\n": "<root>", "- {name: a, variant: b}\n": "[0].variant"}
    for i, (text, key) in enumerate(bad.items()):
        path = tmp_path / f"bad{i}.yaml"
        path.write_text(text)
        done = subprocess.run([sys.executable, "-m", "ctasim.cli", "dvr", str(tmp_path), str(path)],
                              capture_output=True, text=True)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert key in done.stderr


def test_the_report_draws_the_study_and_the_extrapolation_follows_the_bytes(study):
    from ctasim.report.run_report import dvr_section, to_markdown

    _, section = study
    text = to_markdown(dvr_section({"dvr": section}))
    assert "Data-volume reduction study" in text and all(f"| {name} |" in text for name in section["variants"])
    raw = section["variants"]["raw"]
    assert raw["gb_per_s"] == pytest.approx(raw["bytes_per_array_event"] * 1e4 / 1e9)
    assert raw["link_days_per_night"] == pytest.approx(raw["gb_per_s"] * 8 * 8 * 3600 / 86400)
