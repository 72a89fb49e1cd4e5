"""A cluster address where no Ray answers is one line at once, not minutes of retries."""

import socket

import pytest

from actors.backend import check_reachable
from ctasim.errors import CtasimError


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_nothing_listening_is_refused_in_one_line():
    port = _closed_port()
    with pytest.raises(CtasimError, match=f"--address 127.0.0.1:{port}: no Ray cluster answers") as err:
        check_reachable(f"127.0.0.1:{port}", timeout_s=2.0)
    assert "\n" not in str(err.value)
    with pytest.raises(CtasimError):
        check_reachable(f"ray://127.0.0.1:{port}", timeout_s=2.0)


def test_a_listening_port_and_auto_pass():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        check_reachable(f"127.0.0.1:{s.getsockname()[1]}", timeout_s=2.0)
    check_reachable("auto")


def test_run_refuses_before_creating_the_run_directory(tmp_path, capsys):
    from ctasim.cli import main

    out = tmp_path / "run"
    assert main(["run", "quickstart", "-o", str(out), "--address", f"127.0.0.1:{_closed_port()}", "-q"]) == 2
    assert capsys.readouterr().err.count("\n") == 1 and not out.exists()
