"""summary.json and provenance.json for the toy run of conftest.py, as a run writes them: the accounting
the DL0 files hold, so ``ctasim verify`` (and every command that verifies first) accepts the run."""

from __future__ import annotations

import json
from pathlib import Path

from ctasim.accounting import Accounting, AccountingError
from ctasim.io.verify import verify_file


def write_run_json(run_dir: Path, scenario: dict, sections: dict | None = None) -> None:
    """Write ``run_dir``'s summary.json (scenario, accounting of its DL0 files, ``sections``) and
    provenance.json (scenario, the DL0 files as outputs)."""
    archives = sorted((run_dir / "dl0").glob("*.dl0.h5"))
    accounting = Accounting.merged(verify_file(p).accounting for p in archives)
    try:
        accounting.check()
        closed = True
    except AccountingError:
        closed = False
    summary = {"scenario": scenario, "accounting": accounting.to_dict() | {"closed": closed}, **(sections or {})}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    outputs = [f"dl0/{p.name}" for p in archives]
    (run_dir / "provenance.json").write_text(json.dumps({"scenario": scenario, "outputs": outputs}))
