"""Typical disaster scenarios from a history of events, by k-means (seed 000).

Each recorded event becomes a feature vector: for every line, the fraction of the
horizon it is out, then the day's load and DG levels. k-means (scipy's kmeans2,
k-means++ start, seeded, so deterministic) groups the events; each cluster is
represented by its medoid -- the real event nearest the centroid -- so a typical
scenario is an outage pattern that actually happened rather than an average of
fractional outages, and its probability is the cluster's share of events.

Restarts: k-means finds a local optimum that depends on its start. With
`kmeans(k = 4, seed = 7, restarts = 50)` it runs 50 times from one random generator
seeded 7 (the first run is exactly the single run of `restarts = 1`, the default) and
keeps the run with the least inertia (the sum of squared distances of the events to
their cluster's centroid; the first such run on a tie). On the resilience history the
single run of seed 7 has inertia 31.18, the best of 50 restarts 28.63
(`Clustering.inertia`, reported by `gridc check` and in a solve's summary).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
from scipy.cluster.vq import kmeans2

from gridc.dsl import ir


@dataclass(frozen=True)
class TypicalScenario:
    name: str
    probability: float
    event: ir.HistoryEvent  # the medoid event
    members: tuple[str, ...]


@dataclass(frozen=True)
class Clustering:
    """The typical scenarios of a history and how well they fit it."""

    typical: list[TypicalScenario]
    inertia: float  # Σ over events of the squared distance to its centroid (features)
    restarts: int  # k-means runs made
    best_run: int  # which run was kept (0-based)
    first_inertia: float  # the inertia of the first run (= restarts 1)


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


def _inertia(feats: np.ndarray, centroids: np.ndarray, labels: np.ndarray) -> float:
    return float(((feats - centroids[labels]) ** 2).sum())


def cluster(source: ir.HistorySource, line_ids: list[str], horizon_h: float) -> Clustering:
    """The k typical scenarios of `source` (best of its restarts) and their inertia.
    Remembered for the last few histories: the compiler clusters a history and the
    solve summary reports the same clustering (50 restarts of the resilience history
    took 0.9 s here)."""
    c = _cluster(source, tuple(line_ids), horizon_h)
    return replace(c, typical=list(c.typical))  # the caller's own list


@lru_cache(maxsize=8)
def _cluster(source: ir.HistorySource, line_ids: tuple[str, ...],
             horizon_h: float) -> Clustering:
    events = source.events
    feats = event_features(events, list(line_ids), horizon_h)
    k = min(source.k, len(events))
    runs = max(1, source.restarts)
    if k == len(events):
        labels = np.arange(len(events))
        centroids = feats
        inertias = [0.0]
        best = 0
    else:
        rng = np.random.default_rng(source.seed)
        found = [kmeans2(feats, k, seed=rng, minit="++", iter=50) for _ in range(runs)]
        inertias = [_inertia(feats, c, lab) for c, lab in found]
        best = int(np.argmin(inertias))  # the first run on a tie
        centroids, labels = found[best]
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
    # `cluster none`: every event is its own scenario, named after the event
    typical = [TypicalScenario(name=s.event.name if source.method == "none" else
                               f"typical{i + 1}", probability=s.probability,
                               event=s.event, members=s.members) for i, s in enumerate(out)]
    return Clustering(typical, inertias[best], runs if k < len(events) else 1, best,
                      inertias[0])


def cluster_history(source: ir.HistorySource, line_ids: list[str],
                    horizon_h: float) -> list[TypicalScenario]:
    """The typical scenarios of `source` (see `cluster`)."""
    return cluster(source, line_ids, horizon_h).typical


def cluster_model(model: ir.Model, source: ir.HistorySource) -> Clustering:
    """`cluster` over the lines and horizon of `model` (as the compiler clusters it)."""
    horizon = model.horizon.steps * model.horizon.step_h if model.horizon else 1.0
    return cluster(source, [ln.id for ln in model.network().lines], horizon)


def clustering_facts(sset: ir.ScenarioSet, c: Clustering) -> dict[str, Any]:
    """`summary["clustering"]` (JSON-ready): how the scenarios of `sset` came from its
    history. `cluster none` has no k-means facts: no inertia, no typical days, because
    nothing was grouped (every event is a scenario of its own)."""
    source = sset.history
    assert source is not None
    facts: dict[str, Any] = {"scenario_set": sset.name, "history": source.path,
                             "method": source.method, "events": len(source.events),
                             "scenarios": len(c.typical)}
    if source.method == "none":
        return facts
    return {**facts, "k": source.k, "seed": source.seed, "restarts": c.restarts,
            "best_run": c.best_run, "inertia": c.inertia, "first_inertia": c.first_inertia,
            "typical_days": [{"name": t.name, "medoid": t.event.name,
                              "probability": t.probability, "members": len(t.members)}
                             for t in c.typical]}


def clustering_words(facts: dict[str, Any]) -> str:
    """The facts of `clustering_facts` in plain words, as `gridc check` and the summary
    of `gridc solve` print them."""
    if facts["method"] == "none":
        return (f"{facts['scenarios']} scenarios, every event of the history "
                "(no clustering)")
    runs = (f"best of {facts['restarts']} k-means runs, the first "
            f"{facts['first_inertia']:.4g}" if facts["restarts"] > 1 else "one k-means run")
    return (f"{facts['scenarios']} typical days of {facts['events']} events, inertia "
            f"{facts['inertia']:.4g} ({runs})")
