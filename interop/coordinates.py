"""Bus coordinates of a source turned into the `x[km]`, `y[km]` columns of `buses`.

Why a guess has to be made: pandapower and OpenDSS store bare numbers without saying
whether they are longitude/latitude or drawing units. A set of points that fits in a
small patch of the globe (within 2 degrees each way, not all whole numbers) is read as
longitude/latitude and projected to km (equirectangular around its centre, accurate to
well under 1 % over a feeder); anything else is kept as it is and called km. The choice
is written into the model's comments either way.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088


def place(points: dict[int, tuple[float, float]]) -> tuple[dict[int, tuple[float, float]], str]:
    """Coordinates in km per bus, and a sentence saying how they were obtained."""
    if not points:
        return {}, ""
    xs = [p[0] for p in points.values()]
    ys = [p[1] for p in points.values()]
    geographic = (all(-180 <= x <= 180 for x in xs) and all(-85 <= y <= 85 for y in ys)
                  and max(xs) - min(xs) <= 2 and max(ys) - min(ys) <= 2
                  and not all(float(v).is_integer() for v in xs + ys))
    if not geographic:
        return ({i: (x, y) for i, (x, y) in points.items()},
                "bus coordinates have no unit in the source: written as km unchanged "
                "(a drawing, not distances)")
    lon0, lat0 = min(xs), min(ys)
    scale = math.radians(1.0) * EARTH_RADIUS_KM
    shrink = math.cos(math.radians((min(ys) + max(ys)) / 2))
    return ({i: ((x - lon0) * scale * shrink, (y - lat0) * scale)
             for i, (x, y) in points.items()},
            f"bus coordinates read as longitude/latitude and projected to km "
            f"(equirectangular, origin {lon0:.6f} E, {lat0:.6f} N)")
