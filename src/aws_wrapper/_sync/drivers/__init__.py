# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/drivers/__init__.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""The driver dialects of this world, one module per driver family; what they share across
worlds (parsing, error classification, TLS) is in ``aws_wrapper.drivers``, which also holds the
table of drivers that chooses among them."""
