"""The driver dialects of this world, one module per driver family; what they share across
worlds (parsing, error classification, TLS) is in ``aws_wrapper.drivers``, which also holds the
table of drivers that chooses among them."""
