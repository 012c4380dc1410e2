"""The Django backend paths of aws-advanced-python-wrapper (``ENGINE:
"aws_advanced_python_wrapper.django.backends.mysql_connector"``), for configurations migrated by
renaming the package: ``aws_wrapper.django.backends.mysql_connector`` is
``aws_wrapper.django.mysql``. See docs/django.md and docs/migration.md."""
