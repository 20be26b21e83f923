"""`gridc import` of OpenDSS circuits (gridc.interop.opendss): a positive-sequence import.

A small balanced circuit (two voltage levels, a delta-wye transformer with no-load
losses, cable charging, a switch, a capacitor bank) is imported, checked and solved;
OpenDSS's own solution of the same file is the reference: its phase voltages (equal in a
balanced circuit) and the imported DistFlow voltages agree within 1e-3 pu. An
unbalanced variant is imported with its loads summed, and the model says so.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import gridc
from gridc.cli.main import main
from gridc.interop import ImportFailure, import_network

dss = pytest.importorskip("opendssdirect")

FEEDER = """\
clear
new circuit.feeder basekv=12.47 pu=1.02 phases=3 bus1=sourcebus MVAsc3=2000000 MVAsc1=2000000
new linecode.mid nphases=3 r1=0.3 x1=0.4 r0=0.6 x0=1.2 c1=10 c0=4 units=km normamps=400
new line.l1 bus1=sourcebus bus2=b1 linecode=mid length=2 units=km
new line.l2 bus1=b1 bus2=b2 linecode=mid length=1500 units=m
new line.l3 bus1=b2 bus2=b3 linecode=mid length=1 units=km
new line.sw1 bus1=b3 bus2=b4 switch=yes
new transformer.t1 phases=3 windings=2 buses=(b2, lv1) conns=(delta, wye) kvs=(12.47, 4.16)
~ kvas=(2000, 2000) xhl=6 %r=0.5 %noloadloss=0.1 %imag=0.5
new line.l4 bus1=lv1 bus2=lv2 linecode=mid length=0.5 units=km
new load.a bus1=b3 phases=3 kw=600 kvar=200 kv=12.47 model=1
{b4_loads}
new load.c bus1=lv2 phases=3 kw=800 kvar=300 kv=4.16 model=1
new capacitor.c1 bus1=b3 phases=3 kvar=300 kv=12.47
set voltagebases=[12.47, 4.16]
calcvoltagebases
solve
"""
BALANCED = "new load.b bus1=b4 phases=3 kw=220 kvar=70 kv=12.47 model=1"
UNBALANCED = ("new load.b1 bus1=b4.1 phases=1 kw=100 kvar=30 kv=7.2 model=1\n"
              "new load.b2 bus1=b4.2 phases=1 kw=120 kvar=40 kv=7.2 model=1")


def opendss_voltages(path: Path) -> dict[str, float]:
    cwd = os.getcwd()
    try:
        dss.Text.Command(f'redirect "{path}"')
    finally:
        os.chdir(cwd)
    out = {}
    for name in dss.Circuit.AllBusNames():
        dss.Circuit.SetActiveBus(name)
        out[name] = float(np.mean(dss.Bus.puVmagAngle()[::2]))
    return out


def test_balanced_circuit_matches_opendss(tmp_path: Path) -> None:
    path = tmp_path / "feeder.dss"
    path.write_text(FEEDER.format(b4_loads=BALANCED))
    grid = import_network(path, tmp_path / "out")[0]
    model = gridc.load(grid)
    assert not model.warnings
    net = model.networks[0]
    kinds = [ln.kind for ln in net.lines]
    assert (kinds.count("line"), kinds.count("transformer"), kinds.count("switch")) == (4, 1, 1)
    assert sorted({b.vn_kv for b in net.buses}) == [4.16, 12.47]
    assert [s.q_kvar for s in net.shunts] == [300.0]
    assert sum(b.p_kw for b in net.buses) == pytest.approx(1620.0)
    result = gridc.compile(model, study="base").solve(ac_check=False)
    assert result.ok
    v = result.dataset["bus_v"]
    v = v.isel({d: 0 for d in v.dims if d != "bus"})
    ours = {str(b): float(x) for b, x in zip(v["bus"].values, v.values)}
    ref = opendss_voltages(path)
    worst = max(abs(ours[b] - ref[b]) for b in ref)
    assert worst <= 1e-3, worst  # measured 3.1e-4 pu (lv2)
    assert ours["sourcebus"] == pytest.approx(1.02)


def test_unbalanced_loads_are_summed_and_said_so(tmp_path: Path) -> None:
    path = tmp_path / "feeder.dss"
    path.write_text(FEEDER.format(b4_loads=UNBALANCED))
    grid = import_network(path, tmp_path / "out")[0]
    buses = {b.id: b for b in gridc.load(grid).networks[0].buses}
    assert (buses["b4"].p_kw, buses["b4"].q_kvar) == (220.0, 70.0)
    assert "single- and two-phase loads are averaged over the three phases" in grid.read_text()


def test_reimport_is_byte_identical(tmp_path: Path) -> None:
    path = tmp_path / "feeder.dss"
    path.write_text(FEEDER.format(b4_loads=BALANCED))
    first = import_network(path, tmp_path / "a")
    second = import_network(path, tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_bad_circuit_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.dss"
    path.write_text("clear\nnew line.l1 bus1=a bus2=b\n")
    with pytest.raises(ImportFailure):
        import_network(path, tmp_path / "out")
    assert main(["import", str(path), "-o", str(tmp_path / "out")]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_single_phase_units_become_one_bank(tmp_path: Path) -> None:
    """Three single-phase regulators between the same buses (as in the IEEE 13-node
    feeder) are one three-phase bank: ratings added, taps averaged."""
    units = "\n".join(
        f"new transformer.reg{k} phases=1 xhl=0.01 kvas=[1666 1666] "
        f"buses=[b2.{k} rg.{k}] kvs=[7.2 7.2] taps=[1 {tap}]"
        for k, tap in ((1, 1.05), (2, 1.0), (3, 1.025)))
    path = tmp_path / "regs.dss"
    path.write_text(FEEDER.format(b4_loads=BALANCED).replace(
        "set voltagebases", units + "\nnew line.l5 bus1=rg bus2=b5 linecode=mid length=1 "
        "units=km\nnew load.d bus1=b5 phases=3 kw=100 kvar=20 kv=12.47\nset voltagebases"))
    grid = import_network(path, tmp_path / "out")[0]
    net = gridc.load(grid).networks[0]
    banks = [ln for ln in net.lines if ln.kind == "transformer" and ln.to_bus == "rg"]
    assert len(banks) == 1 and banks[0].rating_kva == pytest.approx(3 * 1666)
    assert banks[0].transformer is not None
    assert banks[0].transformer.ratio == pytest.approx(
        (1 / 1.05 + 1 / 1.0 + 1 / 1.025) / 3, rel=1e-9)
    assert "merged into one three-phase bank" in grid.read_text()


def test_bus_named_like_a_keyword_gets_an_identifier(tmp_path: Path) -> None:
    path = tmp_path / "kw.dss"
    path.write_text(FEEDER.format(b4_loads=BALANCED).replace("b1", "at"))
    grid = import_network(path, tmp_path / "out")[0]
    buses = {b.id for b in gridc.load(grid).networks[0].buses}
    assert "b_at" in buses and "at" not in buses
    assert "# b_at: OpenDSS bus 'at'" in (tmp_path / "out" / "kw_buses.csv").read_text()
