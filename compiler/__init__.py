"""Lower a validated model (for one study) to a linopy optimisation model.

    compiled = compile_model(model, study="operation")
    compiled.model        # linopy.Model, ready to solve (see gridc.runtime)
    compiled.costs        # {"grid": expr, "installation": expr, ...} named cost terms, CNY
    compiled.index        # coordinates, incidence, label -> .grid span

One compile path (`compiler.core.assemble`) for every model; one module per component
family, each with one entry point (`define_*`); the power-flow formulation is chosen in
`compiler.formulations.flow`, the cost mechanism in `compiler.formulations.pricing`. The compiler
never
imports the runtime and never solves.

Names of the main blocks (variables / constraints) and their units:

=================== ========================== ===========================
block               dims                       unit
=================== ========================== ===========================
line_p, line_q      scenario, time, line       kW, kvar (from → to)
bus_w               scenario, time, bus        p.u.² (squared voltage)
line_l              scenario, time, line       p.u. current² (distflow)
gen_p, gen_q        scenario, time, gen        kW, kvar
storage_charge/…    scenario, time, storage    kW; storage_energy kWh
bus_shed_p          scenario, time, bus        kW
load_shed_p         scenario, time, load       kW
nodal_p, nodal_q    scenario, time, bus        kW, kvar balance rows
voltage_drop        scenario, time, line       p.u.² rows (lines in service)
reinforced          line                       0/1 (reinforcement)
line_built          line                       0/1 (topology)
dg_units            dg                         units (DG sizing)
storage_*_size      storage                    kW, kWh (storage investment)
=================== ========================== ===========================

Options: `elastic=True` builds the diagnosis variant (see `compiler.core.builder`).
"""

from __future__ import annotations

from gridc.compiler.core.assemble import KNOWN_OPTIONS, compile_model
from gridc.compiler.core.compiled import CompiledModel

__all__ = ["KNOWN_OPTIONS", "CompiledModel", "compile_model"]
