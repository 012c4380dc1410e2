"""The requirements class of the suite run (``[sqla_testing] requirement_cls`` in test.cfg).

SQLAlchemy's suite asks its requirements class what the backend supports; the base class,
``SuiteRequirements``, opens little, so third-party dialects write their own. Ours are
SQLAlchemy's own dialects with another ``connect``, so we use SQLAlchemy's own requirements,
``test/requirements.py:DefaultRequirements`` from the sdist of the installed SQLAlchemy version
(not in the wheel): tools/sqla_suite.py downloads it and names it in ``SQLA_SUITE_REQUIREMENTS``.
With ``SQLA_SUITE_REQUIREMENTS=suite`` (no download), the base ``SuiteRequirements``.
"""

from __future__ import annotations

import importlib.util
import os
from typing import TYPE_CHECKING

from sqlalchemy.testing.requirements import SuiteRequirements


def _default_requirements() -> type[SuiteRequirements]:
    path = os.environ.get("SQLA_SUITE_REQUIREMENTS", "")
    if path in ("", "suite"):
        return SuiteRequirements
    spec = importlib.util.spec_from_file_location("sqla_default_requirements", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load SQLAlchemy's requirements from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cls: type[SuiteRequirements] = module.DefaultRequirements
    return cls


if TYPE_CHECKING:
    _Base = SuiteRequirements
else:
    _Base = _default_requirements()


class Requirements(_Base):
    """SQLAlchemy's requirements as they are (the driver-named exclusions apply to our
    dialects as to the drivers they subclass: see conftest.py)."""
