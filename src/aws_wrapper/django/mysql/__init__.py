"""``ENGINE: "aws_wrapper.django.mysql"``: mysql-connector-python's Django backend on
aws_wrapper connections. See docs/django.md."""
