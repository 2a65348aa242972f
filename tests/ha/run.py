#!/usr/bin/env python3
"""Runs the tests of this directory (tests/ha/test_*.py) against the HA
stack (`scripts/stack up --ha`), with the integration tests' runner and
helpers (tests/integration/run.py, lib.py)."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
sys.path.insert(0, HERE)

import importlib.util  # noqa: E402

spec = importlib.util.spec_from_file_location(
    "integration_run", os.path.join(os.path.dirname(HERE), "integration", "run.py"))
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)
runner.HERE = HERE
sys.exit(runner.main(sys.argv))
