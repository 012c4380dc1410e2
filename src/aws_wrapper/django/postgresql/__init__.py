"""``ENGINE: "aws_wrapper.django.postgresql"``: Django's PostgreSQL backend (psycopg 3) on
aws_wrapper connections. See docs/django.md."""
