"""One module per component family, one `define_*` entry point each: it adds the
family's blocks and returns its injections at buses, its priced items and its daily
cost terms (see `gridc.compiler.core.assemble`)."""
