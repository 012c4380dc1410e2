# WARNING: generated file, DO NOT EDIT. Source: tests/_async/__init__.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
