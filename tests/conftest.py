"""Fixtures for every level live in the shared package, so services' own tests can use them too."""

pytest_plugins = ["smm_shared.testing.plugin"]
