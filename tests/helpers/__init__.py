"""Test helpers, one module per area (fakes, file writers, HTTP calls, record builders, skip markers).

conftest.py files hold only fixtures and pytest hooks; everything a test imports comes from here,
from ``tests/fixtures`` (generated inputs and independent oracles shared across areas) or from a
module beside the tests that use it.
"""
