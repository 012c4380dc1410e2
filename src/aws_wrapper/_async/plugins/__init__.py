"""The built-in plugin classes of this world, one module per plugin family.

Their codes, weights, documentation and properties are declared once for both worlds, in
:mod:`aws_wrapper.plugins`, which names each class here by import path: a module of this
package is imported only when a connection uses one of its plugins.
"""
