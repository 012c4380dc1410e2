# WARNING: this file is generated from src/aws_wrapper/_async/__init__.py by tools/unasync_build.py.
# DO NOT EDIT: change the async source (or the tool's table) and run `make generate`.
