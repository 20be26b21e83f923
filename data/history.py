"""Typical disaster scenarios from a history of events, by k-means (seed 000).

Each recorded event becomes a feature vector: for every line, the fraction of the
horizon it is out, then the day's load and DG levels. k-means (scipy's kmeans2,
k-means++ start, seeded, so deterministic) groups the events; each cluster is
represented by its medoid -- the real event nearest the centroid -- so a typical
scenario is an outage pattern that actually happened rather than an average of
fractional outages, and its probability is the cluster's share of events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster.vq import kmeans2

from gridc.dsl import ir


@dataclass(frozen=True)
class TypicalScenario:
    name: str
    probability: float
    event: ir.HistoryEvent  # the medoid event
    members: tuple[str, ...]


def event_features(events: tuple[ir.HistoryEvent, ...], line_ids: list[str],
                   horizon_h: float) -> np.ndarray:
    """events x (lines + 2) matrix: out-fraction per line, load level, DG level."""
    col = {lid: i for i, lid in enumerate(line_ids)}
    feats = np.zeros((len(events), len(line_ids) + 2))
    for e, ev in enumerate(events):
        for o in ev.outages:
            end = min(o.end_h, horizon_h)
            feats[e, col[o.line]] += max(0.0, end - o.start_h) / horizon_h
        feats[e, -2] = ev.load_level
        feats[e, -1] = ev.dg_level
    return np.clip(feats, 0.0, None)


def cluster_history(source: ir.HistorySource, line_ids: list[str],
                    horizon_h: float) -> list[TypicalScenario]:
    events = source.events
    feats = event_features(events, line_ids, horizon_h)
    k = min(source.k, len(events))
    if k == len(events):
        labels = np.arange(len(events))
        centroids = feats
    else:
        centroids, labels = kmeans2(feats, k, seed=np.random.default_rng(source.seed),
                                    minit="++", iter=50)
    out: list[TypicalScenario] = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        if members.size == 0:  # an empty cluster: kmeans2 may leave one; skip it
            continue
        dist = np.linalg.norm(feats[members] - centroids[c], axis=1)
        medoid = events[int(members[np.argmin(dist)])]
        out.append(TypicalScenario(name=f"{source.path.rsplit('/', 1)[-1].split('.')[0]}_{c + 1}",
                                   probability=members.size / len(events), event=medoid,
                                   members=tuple(events[i].name for i in members)))
    # deterministic order: most probable first, then by medoid name
    out.sort(key=lambda s: (-s.probability, s.event.name))
    return [TypicalScenario(name=f"typical{i + 1}", probability=s.probability, event=s.event,
                            members=s.members) for i, s in enumerate(out)]
