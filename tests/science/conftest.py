"""Fixtures of the science tests: the toy point-source response, built once per session."""

import pytest
from science_helpers import toy_response


@pytest.fixture(scope="session")
def response():
    return toy_response()
