"""Pictures of solved models and a one-file HTML report (`gridc plot`, `gridc report`).

The room between runtime and cli: it reads what `gridc solve --out` wrote
(`gridc.viz.result`), computes what to draw (`series`), draws it with matplotlib
(`network_map`, `dispatch`, `mess_routes`, `costs`, `stations`, chosen per result in
`figures`) and assembles the report (`report`). It may import dsl, data, compiler and
runtime; only cli imports it. matplotlib is an optional extra (`pip install
'gridc[plot]'`) imported inside the drawing functions only (`gridc.viz.style`), so that
importing this package costs nothing.
"""
