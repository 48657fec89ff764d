"""A first analysis in Python, top to bottom: run a shipped scenario, plot its NPV
distribution, sweep two inputs into a heat map, and compare two cost-sharing
rules partner by partner.

    pip install ./python matplotlib
    python examples/analysis.py [OUTPUT_FOLDER]

Run it from the repository's root; the charts are written to OUTPUT_FOLDER (default
analysis-output/). In Jupyter, paste the cells one by one: a run then shows its headline
figures and fan chart by itself.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files, not windows; remove this line in a notebook
import matplotlib.pyplot as plt

import consortium_sim as cs

out = Path(sys.argv[1] if len(sys.argv) > 1 else "analysis-output")
out.mkdir(parents=True, exist_ok=True)

# 1. Load a shipped scenario and run it (20,000 trials keep the example quick).
scenario = cs.Scenario.load("scenarios/four_districts_back_office.json")
run = cs.run(scenario, trials=20_000, seed=1)
print(run.summary())
trials = run.trials  # one row per trial: npv, each partner's NPV, events
print(trials[["npv", "withdrawals", "collapse_year"]].describe())

# 2. The NPV distribution, with the share of futures that lose money.
fig, ax = plt.subplots(figsize=(8, 4))
ax.hist(trials["npv"] / 1e6, bins=80, color="#0072b2")
ax.axvline(0, color="#b3470a")
loss = (trials["npv"] < 0).mean()
ax.set(title=f"Consortium NPV over {len(trials):,} futures: P(loss) {loss:.1%}",
       xlabel="NPV (£m)", ylabel="trials")
fig.tight_layout()
fig.savefig(out / "npv_distribution.png", dpi=120)

# 3. A 2-D sweep: the efficiency the service reaches against the optimism bias added
#    to its transition cost.
sweep = cs.sweep(scenario, {"/service/efficiency": "0.08:0.2:5",
                            "/service/optimism_bias": [0, 0.2, 0.4, 0.6]},
                 trials=5_000, seed=1)
grid = sweep.table.pivot(index="/service/optimism_bias", columns="/service/efficiency",
                         values="prob_loss")
fig, ax = plt.subplots(figsize=(7, 4))
image = ax.imshow(grid.to_numpy(), origin="lower", cmap="RdYlGn_r", aspect="auto")
ax.set_xticks(range(len(grid.columns)), [f"{x:.0%}" for x in grid.columns])
ax.set_yticks(range(len(grid.index)), [f"{y:.0%}" for y in grid.index])
for (i, j), p in zip(((i, j) for i in range(grid.shape[0]) for j in range(grid.shape[1])),
                     grid.to_numpy().ravel()):
    ax.text(j, i, f"{p:.0%}", ha="center", va="center", fontsize=9)
ax.set(xlabel="efficiency", ylabel="optimism bias on transition cost",
       title="P(loss) by efficiency and optimism bias")
fig.colorbar(image, label="P(loss)")
fig.tight_layout()
fig.savefig(out / "sweep_heat_map.png", dpi=120)

# 4. Two cost-sharing rules, trial by trial under common random numbers.
rules = cs.compare(scenario, variants={"equal shares": {"/service/cost_sharing": "equal"}},
                   trials=20_000, seed=1)
by_partner = rules.partners.pivot(index="partner_name", columns="name", values="partner_mean_npv")
print("\nMean NPV by partner under each cost-sharing rule:")
print(by_partner.round(0).to_string())
ax = by_partner.plot.barh(figsize=(8, 4), title="Mean NPV by partner and cost-sharing rule")
ax.set_xlabel("mean NPV (£)")
ax.figure.tight_layout()
ax.figure.savefig(out / "cost_sharing.png", dpi=120)
print(f"\nwrote {out}/npv_distribution.png, sweep_heat_map.png, cost_sharing.png")
