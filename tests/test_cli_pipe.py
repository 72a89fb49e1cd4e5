"""The command line behind a pipe whose reader leaves early (``ctasim layouts | head -1``)."""

import subprocess
import sys


def test_a_closed_pipe_ends_quietly():
    code = ("import sys, os; r, w = os.pipe(); os.close(r); os.dup2(w, 1); "
            "from ctasim.cli import main; sys.exit(main(['layouts']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and done.stderr == ""
