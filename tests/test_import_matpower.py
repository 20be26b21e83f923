"""`gridc import` of MATPOWER case files (gridc.interop.matpower).

The case files are written here from pandapower networks (pandapower's `to_mpc`, then a
small `.m` writer below), imported, checked and solved; the base-case voltages must
agree with pandapower's AC power flow of the original network within 1e-3 pu under
`distflow`. The CIGRE case exercises transformers (two voltage levels, SHIFT) and the
buses pandapower adds at the ends of lines behind open switches.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gridc
from gridc.cli.main import main
from gridc.interop import ImportFailure, import_network

pp = pytest.importorskip("pandapower")
pn = pytest.importorskip("pandapower.networks")
pytest.importorskip("matpowercaseframes")


def write_m(net: Any, path: Path) -> Path:
    """A MATPOWER case file of a pandapower net (bus, gen, branch: the standard columns)."""
    from pandapower.converter.matpower.to_mpc import to_mpc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mpc = to_mpc(net, init="flat")["mpc"]
    rows = [f"function mpc = {path.stem}", "mpc.version = '2';",
            f"mpc.baseMVA = {float(mpc['baseMVA']):.17g};"]
    for key, ncol in (("bus", 13), ("gen", 10), ("branch", 13)):
        rows.append(f"mpc.{key} = [")
        rows += ["\t" + "\t".join(f"{v:.17g}" for v in row) + ";"
                 for row in np.asarray(mpc[key])[:, :ncol]]
        rows.append("];")
    path.write_text("\n".join(rows) + "\n")
    return path


def voltages(grid: Path) -> dict[str, float]:
    result = gridc.compile(gridc.load(grid), study="base").solve(ac_check=False)
    assert result.ok, result.status
    v = result.dataset["bus_v"]
    v = v.isel({d: 0 for d in v.dims if d != "bus"})
    return {str(b): float(x) for b, x in zip(v["bus"].values, v.values)}


def reference(net: Any) -> list[float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pp.runpp(net, tolerance_mva=1e-10)
    return [float(v) for v in net.res_bus.vm_pu]


def test_case33bw_from_matpower_matches_pandapower(tmp_path: Path) -> None:
    case = write_m(pn.case33bw(), tmp_path / "case33.m")
    grid = import_network(case, tmp_path / "out")[0]
    model = gridc.load(grid)
    assert not model.warnings
    assert len(model.networks[0].buses) == 33
    ours = voltages(grid)
    ref = reference(pn.case33bw())  # MATPOWER bus k is pandapower bus k - 1
    worst = max(abs(ours[str(k + 1)] - v) for k, v in enumerate(ref))
    assert worst <= 1e-3
    # pandapower's 99999 kA placeholder became a 2.2e9 kVA RATE_A: read as no limit
    assert "read as 'no limit'" in grid.read_text()


def test_cigre_from_matpower_has_transformers_and_matches(tmp_path: Path) -> None:
    case = write_m(pn.create_cigre_network_mv(with_der=False), tmp_path / "cigre.m")
    grid = import_network(case, tmp_path / "out")[0]
    model = gridc.load(grid)
    net = model.networks[0]
    assert sorted({b.vn_kv for b in net.buses}) == [20.0, 110.0]
    assert [ln.kind for ln in net.lines].count("transformer") == 2
    # pandapower's open switches S1-S3 became three extra buses at the open line ends:
    # fed through their line, so no bus is left unfed
    assert len(net.buses) == 15 + 3 and not model.warnings
    ours = voltages(grid)
    ref = reference(pn.create_cigre_network_mv(with_der=False))
    worst = max(abs(ours[str(k + 1)] - v) for k, v in enumerate(ref))
    assert worst <= 1e-3
    assert "SHIFT" in grid.read_text()  # the 30 degree shift is said to be left out


def test_not_a_case_file_is_a_clear_error(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.m"
    bad.write_text("function mpc = bad\nmpc.baseMVA = 10;\n")
    with pytest.raises(ImportFailure, match="not a MATPOWER case file"):
        import_network(bad, tmp_path / "out")
    assert main(["import", str(bad), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "not a MATPOWER case file" in err and "Traceback" not in err
