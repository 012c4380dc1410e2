from __future__ import annotations

from django.apps import AppConfig


class DjappConfig(AppConfig):
    name = "tests.django_project.djapp"
    label = "djapp"
    default_auto_field = "django.db.models.BigAutoField"
