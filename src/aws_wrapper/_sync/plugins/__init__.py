# WARNING: generated file, DO NOT EDIT. Source: src/aws_wrapper/_async/plugins/__init__.py
# Change the async source (or the maps in tools/unasync_build.py), then `make generate`.
"""The built-in plugin classes of this world, one module per plugin family.

Their codes, weights, documentation and properties are declared once for both worlds, in
:mod:`aws_wrapper.plugins`, which names each class here by import path: a module of this
package is imported only when a connection uses one of its plugins.
"""
