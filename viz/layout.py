"""Where to draw buses that have no coordinates: a single-line-diagram tree.

Why not a force-directed layout: a distribution feeder is read along its feeders. The
tree is a breadth-first spanning tree from the slack bus over the normally closed lines
(ties, switches and lines to build are added after, so they become the chords); x is the
number of lines from the slack, and every bus continues the row of its parent through the
child with the largest subtree, the other children opening new rows below — the trunk
stays straight and each lateral gets its own row, as in the usual drawings of the
IEEE 33-bus feeder. Buses not reached from the slack get rows of their own at the end.

Loops here run over buses once (a layout, not model building).
"""

from __future__ import annotations

from collections import deque

from gridc.viz.result import Network

ORDER = {"line": 0, "switch": 1, "new": 2, "tie": 3}


def tree_layout(net: Network) -> dict[str, tuple[float, float]]:
    """(x, y) per bus: depth to the right, rows downwards (y = −row)."""
    tiers: list[dict[str, list[str]]] = [{b: [] for b in net.buses} for _ in range(4)]
    for ln in net.lines:
        tier = ORDER.get(ln.kind, 3)
        if ln.from_bus in tiers[0] and ln.to_bus in tiers[0]:
            tiers[tier][ln.from_bus].append(ln.to_bus)
            tiers[tier][ln.to_bus].append(ln.from_bus)
    parent: dict[str, str | None] = {}
    depth: dict[str, int] = {}
    order: list[str] = []
    placed: set[str] = set()
    roots = ([net.slack] if net.slack in tiers[0] else []) + list(net.buses)
    for root in roots:
        if root in parent:
            continue
        parent[root], depth[root] = None, 0
        reached = [root]
        for level in range(len(tiers)):  # closed lines first; ties only where needed
            queue = deque(reached)
            while queue:
                bus = queue.popleft()
                if bus not in placed:
                    placed.add(bus)
                    order.append(bus)
                for nxt in tiers[level][bus]:
                    if nxt not in parent:
                        parent[nxt], depth[nxt] = bus, depth[bus] + 1
                        queue.append(nxt)
                        reached.append(nxt)
    children: dict[str, list[str]] = {b: [] for b in order}
    for bus in order:
        up = parent[bus]
        if up is not None:
            children[up].append(bus)
    rank = {b: k for k, b in enumerate(order)}
    size = {b: 1 for b in order}
    rows = {b: 1 for b in order}
    for bus in reversed(order):  # leaves first
        kids = sorted(children[bus], key=lambda c: (-size[c], rank[c]))
        children[bus] = kids
        size[bus] = 1 + sum(size[c] for c in kids)
        if kids:
            rows[bus] = rows[kids[0]] + sum(rows[c] for c in kids[1:])
    row: dict[str, int] = {}
    next_free = 0
    for bus in order:  # parents first
        if parent[bus] is None:
            row[bus] = next_free
            next_free += rows[bus]
        offset = rows[children[bus][0]] if children[bus] else 0
        for k, child in enumerate(children[bus]):
            if k == 0:
                row[child] = row[bus]
            else:
                row[child] = row[bus] + offset
                offset += rows[child]
    return {b: (float(depth[b]), -float(row[b])) for b in order}


def positions(net: Network) -> tuple[dict[str, tuple[float, float]], bool]:
    """The model's coordinates when every bus has them, else the tree layout; the flag
    says whether the coordinates are the model's."""
    if net.has_coordinates:
        return dict(net.xy), True
    return tree_layout(net), False
