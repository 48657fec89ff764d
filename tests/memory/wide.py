#!/usr/bin/env python3
"""Writes a scenario with N partners (argv[1]) to stdout: each partner's baseline cost,
exit fee and re-establishment cost uncertain, as in the shipped scenarios."""
import json, sys

n = int(sys.argv[1])
partners = [
    {
        "name": f"Partner {i:05d}",
        "baseline_cost": {"pert": [900000 + i, 1000000 + i, 1200000 + i]},
        "withdrawal_hazard": 0.01,
        "lock_in_years": 2,
        "exit_fee": 50000,
        "reestablish_cost": {"uniform": [200000, 300000]},
        "rejoin_probability": 0.1,
    }
    for i in range(n)
]
json.dump(
    {
        "name": f"{n} partners",
        "horizon_years": 10,
        "trials": 1000,
        "seed": 1,
        "min_members": 2,
        "service": {
            "fixed_cost": {"triangular": [n * 1000, n * 1500, n * 2000]},
            "efficiency": {"pert": [0.08, 0.15, 0.22]},
            "transition_cost": {"triangular": [n * 10000, n * 15000, n * 20000]},
        },
        "partners": partners,
    },
    sys.stdout,
    indent=1,
)
