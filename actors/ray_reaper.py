"""Watchdog of an embedded Ray: when the driver process disappears, its Ray processes go too.

A SIGKILLed driver cannot shut its Ray down; GCS and raylet follow it, but the dashboard and
runtime-env agents (about 200 MB) and idle workers stay. ``start_reaper`` launches this file as a
small separate process (``python ray_reaper.py DRIVER_PID``) that records, every
``POLL_S`` seconds, the driver's descendant processes that belong to Ray; once the driver is gone it
SIGKILLs those still alive (the same pid and start time) and exits. ``stop`` ends it when the driver
shuts Ray down itself. Only a Ray the driver started is watched, never a cluster's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

POLL_S = 0.5
RAY_NAMES = ("raylet", "gcs_server")


def is_ray_process(proc: psutil.Process) -> bool:
    """A Ray component or worker: by its name, its title (``ray::...``) or its command line."""
    try:
        cmdline = " ".join(proc.cmdline())
        return proc.name() in RAY_NAMES or cmdline.startswith("ray::") or "/ray/" in cmdline
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False


def ray_descendants(pid: int) -> dict[int, float]:
    """pid -> start time of the Ray processes below ``pid``."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return {}
    out = {}
    for child in children:
        try:
            if child.pid != os.getpid() and is_ray_process(child):
                out[child.pid] = child.create_time()
        except psutil.NoSuchProcess:
            continue
    return out


def kill_survivors(known: dict[int, float]) -> list[int]:
    """SIGKILL every recorded process still running (same start time); returns their pids."""
    killed = []
    for pid, started in known.items():
        try:
            proc = psutil.Process(pid)
            if proc.create_time() == started:
                proc.send_signal(signal.SIGKILL)
                killed.append(pid)
        except psutil.NoSuchProcess:
            continue
    return killed


def watch(driver_pid: int) -> None:
    """Record the driver's Ray processes until it is gone, then kill those left."""
    driver = psutil.Process(driver_pid)
    known: dict[int, float] = {}
    while _alive(driver):
        known.update(ray_descendants(driver_pid))
        time.sleep(POLL_S)
    kill_survivors(known)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def start_reaper() -> subprocess.Popen:
    """Launch the watchdog of this (driver) process in its own session."""
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(os.getpid())],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def stop(reaper: subprocess.Popen) -> None:
    """End the watchdog (the driver shut Ray down itself)."""
    reaper.kill()
    reaper.wait()


if __name__ == "__main__":
    try:
        watch(int(sys.argv[1]))
    except psutil.NoSuchProcess:
        pass
