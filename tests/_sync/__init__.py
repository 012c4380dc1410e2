# WARNING: this file is generated from tests/_async/__init__.py by tools/unasync_build.py.
# DO NOT EDIT: change the async source (or the tool's table) and run `make generate`.
