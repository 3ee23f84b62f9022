"""The suite's own isolation: a dlt log handler made under a test's captured stderr does not outlive the test."""

from __future__ import annotations

import io
import logging
import sys

from tests.conftest import rebind_dlt_handlers


def test_a_dlt_handler_bound_to_a_closed_capture_is_rebound_to_the_current_stderr():
    captured = io.TextIOWrapper(io.BytesIO())  # like a capture file: flushing it once closed raises
    handler = logging.StreamHandler(captured)  # as dlt makes it: logging.StreamHandler() under capsys
    dlt_logger = logging.getLogger("dlt")
    dlt_logger.addHandler(handler)
    try:
        captured.close()  # the test that captured stderr has ended
        rebind_dlt_handlers()
        assert handler.stream is sys.stderr
        dlt_logger.handle(dlt_logger.makeRecord("dlt", logging.INFO, __file__, 1, "still writable", (), None))
    finally:
        dlt_logger.removeHandler(handler)
