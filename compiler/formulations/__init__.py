"""How the network and the objective are written: LinDistFlow, DistFlow with its
cone, the operating-cost terms and the pricing of investments; the formulation is
chosen in `flow.choose_formulation` and nowhere else."""
