"""Django loads ``ENGINE + ".base"``: this is ``aws_wrapper.django.mysql.base`` under the path
of aws-advanced-python-wrapper's backend (see the package's docstring)."""

from aws_wrapper.django.mysql.base import *  # noqa: F403
from aws_wrapper.django.mysql.base import DatabaseWrapper as DatabaseWrapper
