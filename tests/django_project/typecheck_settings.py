"""Settings for mypy's Django plugin (``[tool.django-stubs]`` in pyproject.toml): the apps
whose models are type-checked, the test project's and the example site's. Never used to run
anything."""

from __future__ import annotations

import sys
from pathlib import Path

from .settings import *  # noqa: F403

# the example site runs with its own directory on sys.path (examples/django_app/manage.py)
sys.path.append(str(Path(__file__).resolve().parents[2] / "examples" / "django_app"))

INSTALLED_APPS = ["tests.django_project.djapp", "notes"]
