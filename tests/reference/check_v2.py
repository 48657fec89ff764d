#!/usr/bin/env python3
"""Hand checks of refmodel.py's model v2 (MODEL.md v2) against closed forms.

Each check builds a small scenario whose outcome can be worked out by hand from MODEL.md,
runs refmodel.py's own trial function on it and compares. Exits non-zero on the first
failure. The same cases are run through the engine by tests/it/model_v2.rs.

    python3 tests/reference/check_v2.py
"""

import math
import os
import random
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import refmodel  # noqa: E402


def close(got, want, rel=1e-12, what=""):
    if abs(got - want) > rel * max(1.0, abs(want)):
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def trial(doc, seed=1):
    sc = refmodel.Scenario(doc)
    return sc, refmodel.run_trial(sc, random.Random(seed))


def savings(doc, seed=1):
    """S[i][t] of one trial."""
    return trial(doc, seed)[1][0]


def base(**service):
    return {"name": "check", "horizon_years": 5, "discount_rate": 0.0, "min_members": 1,
            "service": {"efficiency": 0.2, "fixed_cost": 100000, **service},
            "partners": [{"name": "A", "baseline_cost": 1e6}, {"name": "B", "baseline_cost": 1e6}]}


def check_sanity_closed_form():
    """MODEL.md's sanity check with a fixed delay, over Green Book bands."""
    for delay, d in ((0, 0), (3, 3), ({"discrete": [[2.6, 1]]}, 3), (1.49, 1)):
        doc = {"name": "certain", "horizon_years": 40, "discount_rate": "green_book",
               "service": {"fixed_cost": 300000, "efficiency": 0.15, "ramp": [0.25, 0.6, 1.0],
                           "transition_cost": 2000000, "transition_profile": [0.5, 0.3, 0.2],
                           "optimism_bias": 0.2, "delay_years": delay, "delay_cost": 250000},
               "partners": [{"name": "A", "baseline_cost": 4000000},
                            {"name": "B", "baseline_cost": 2500000},
                            {"name": "C", "baseline_cost": 1500000}]}
        sc, (S, _, counts, cy) = trial(doc)
        df, want = 1.0, 0.0
        for t in range(40):
            if t > 0:
                df /= 1 + (0.035 if t <= 30 else 0.03)
            prof = [0.5, 0.3, 0.2][t] if t < 3 else 0.0
            if t < d:
                want += df * (-250000 - 2.4e6 * prof)
            else:
                want += df * (0.15 * [0.25, 0.6, 1.0][min(t - d, 2)] * 8e6 - 300000 - 2.4e6 * prof)
        got = math.fsum(sc.df[t] * sum(S[i][t] for i in range(3)) for t in range(40))
        close(got, want, 1e-9, f"sanity NPV, delay {delay}")
        assert counts[4] == d and cy is None


def check_notice_in_delay_year():
    """C leaves at the end of year lock-1; before go-live it owes its exit fee only."""
    def doc(lock):
        return {"name": "notice", "horizon_years": 5, "discount_rate": 0.0, "min_members": 1,
                "service": {"efficiency": 0.2, "fixed_cost": 100000, "delay_years": 2,
                            "delay_cost": 60000},
                "partners": [{"name": "A", "baseline_cost": 1e6}, {"name": "B", "baseline_cost": 1e6},
                             {"name": "C", "baseline_cost": 2e6, "withdrawal_hazard": 1,
                              "lock_in_years": lock, "exit_fee": 40000,
                              "reestablish_cost": 150000}]}
    # notice at the end of year 0 (a delay year)
    S = savings(doc(0))
    assert S[2] == [-30000, -40000, 0, 0, 0], S[2]
    assert S[0] == [-15000, -10000, 150000, 150000, 150000], S[0]
    # notice at the end of year 1, the last delay year: still no re-establishment
    S = savings(doc(2))
    assert S[2] == [-30000, -30000, -40000, 0, 0], S[2]
    close(S[0][2], 1e6 - 0.5 * (100000 + 2e6 * 0.8 - 40000))
    # notice at the end of year 2, the first live year: re-establishment is owed
    S = savings(doc(3))
    close(S[2][2], 2e6 - 0.5 * (100000 + 4e6 * 0.8))
    assert S[2][3] == -190000, S[2]


def collapse_doc(delay):
    return {"name": "collapse", "horizon_years": 5, "discount_rate": 0.05, "min_members": 2,
            "service": {"efficiency": 0.2, "fixed_cost": 100000, "delay_years": delay,
                        "delay_cost": 80000, "transition_cost": 500000,
                        "transition_profile": [0.6, 0.4]},
            "partners": [{"name": "A", "baseline_cost": 1e6, "reestablish_cost": 300000,
                          "exit_fee": 99},
                         {"name": "B", "baseline_cost": 3e6, "withdrawal_hazard": 1,
                          "lock_in_years": 2, "reestablish_cost": 500000, "exit_fee": 77}]}


def check_collapse_in_delay_year():
    """B's notice at the end of year 1 < d collapses the pair: no re-establishment, no fees."""
    S = savings(collapse_doc(3))
    assert S[0] == [-95000, -70000, 0, 0, 0], S[0]     # 0.25 x (80000 + 300000 / 200000)
    assert S[1] == [-285000, -210000, 0, 0, 0], S[1]


def check_collapse_after_go_live():
    """With d = 1 the same notice ends a live service: both pay re-establishment in year 2."""
    S = savings(collapse_doc(1))
    pool1 = 100000 + 4e6 * 0.8 + 200000
    assert S[0][:3] == [-95000, 1e6 - 0.25 * pool1, -300000], S[0]
    assert S[1][:3] == [-285000, 3e6 - 0.75 * pool1, -500000], S[1]


def check_contagion_cascade():
    """Hazard 0, c = 1, one certain leaver: next year every unlocked member leaves."""
    doc = {"name": "cascade", "horizon_years": 6, "discount_rate": 0.0, "min_members": 1,
           "contagion": 1,
           "service": {"efficiency": 0.1},
           "partners": [{"name": "L", "baseline_cost": 1e6, "withdrawal_hazard": 1},
                        {"name": "X", "baseline_cost": 1e6},
                        {"name": "Y", "baseline_cost": 1e6},
                        {"name": "Z", "baseline_cost": 1e6, "lock_in_years": 4}]}
    for seed in range(20):
        _, (S, withdrew, counts, cy) = trial(doc, seed)
        assert withdrew == [True, True, True, False] and counts[0] == 3 and cy is None
        assert S[1][2:] == [0, 0, 0, 0] and S[3][5] == 1e6 - 1e6 * 0.9


def check_contagion_rate():
    """H = 3: withdrawals are 1 + Binomial(4, c)."""
    doc = {"name": "rate", "horizon_years": 3, "min_members": 1, "contagion": 0.2,
           "service": {"efficiency": 0.1},
           "partners": [{"name": "L", "baseline_cost": 1e6, "withdrawal_hazard": 1}]
           + [{"name": f"M{k}", "baseline_cost": 1e6} for k in range(4)]}
    n = 20000
    r = refmodel.simulate(refmodel.Scenario(doc), n, 7)
    se = math.sqrt(4 * 0.2 * 0.8 / n)
    assert abs(r["events"]["withdrawals"] - 1.8) < 4 * se, r["events"]


def check_rounding():
    for delay, d in ((1.49, 1), ({"fixed": 1.49}, 1), ({"fixed": 1.5}, 2),
                     ({"uniform": [0.49, 0.49]}, 0), ({"discrete": [[2.5, 1]]}, 3),
                     ({"fixed": 9.7}, 5), (5, 5)):
        sc, (S, _, counts, _) = trial(base(delay_years=delay))
        assert counts[4] == d, (delay, counts[4])
        assert S[0] == [0.0] * d + [150000.0] * (5 - d), (delay, S[0])
    for joins, year in (({"uniform": [1.49, 1.49]}, 1), ({"uniform": [1.5, 1.5]}, 2),
                        ({"discrete": [[0.49, 1]]}, 1), ({"discrete": [[0, 1]]}, 1),
                        ({"uniform": [2.5, 2.5]}, 3), ({"fixed": 2}, 2), (2, 2)):
        doc = base()
        doc["partners"].append({"name": "J", "baseline_cost": 1e6, "joins_year": joins})
        S = savings(doc)
        assert [t for t in range(5) if S[2][t] != 0][0] == year, (joins, S[2])
    for bad in ({"fixed": 1.5}, 1.5, -1):
        doc = base()
        doc["partners"].append({"name": "J", "baseline_cost": 1e6, "joins_year": bad})
        try:
            refmodel.Scenario(doc)
        except refmodel.ScenarioError as e:
            assert "/partners/2/joins_year" in str(e), e
        else:
            raise AssertionError(f"joins_year {bad} accepted")
    # a single-valued discrete makes a late joiner: one founder is below min_members 2
    doc = base()
    doc["min_members"] = 2
    doc["partners"][1]["joins_year"] = {"discrete": [[0, 1]]}
    try:
        refmodel.Scenario(doc)
    except refmodel.ScenarioError:
        pass
    else:
        raise AssertionError("a distribution-valued joins_year counted as a founder")


def check_never_live():
    """d >= H: the delay cost every year, the transition as profiled, nothing else."""
    doc = base(delay_years=7, delay_cost=50000, ramp=[0.5, 1.0], transition_cost=300000,
               transition_profile=[0.5, 0.5])
    doc["discount_rate"] = 0.035
    sc, (S, _, counts, _) = trial(doc)
    assert counts[4] == 5
    want = [-0.5 * (50000 + 150000)] * 2 + [-0.5 * 50000] * 3
    assert S[0] == want and S[1] == want, S


def check_delay_disappointment():
    """In a delay year R_i = -w_i delay_cost, so h = k w_i delay_cost / B_i = 0.1."""
    doc = {"name": "disappointed", "horizon_years": 2, "min_members": 1,
           "service": {"efficiency": 0.2, "delay_years": 1, "delay_cost": 100000},
           "partners": [{"name": "A", "baseline_cost": 1e6, "disappointment_sensitivity": 2},
                        {"name": "B", "baseline_cost": 1e6, "disappointment_sensitivity": 2}]}
    n = 20000
    r = refmodel.simulate(refmodel.Scenario(doc), n, 3)
    se = math.sqrt(0.1 * 0.9 / n)
    for p in r["partners"]:
        assert abs(p["prob_withdraws"]["estimate"] - 0.1) < 4 * se, p


def check_join_year_distribution():
    """joins_year uniform(0.2, 3.8), join probability 0.6: P(year y) = 0.6 P(round = y)."""
    doc = base()
    doc["horizon_years"] = 8
    doc["partners"].append({"name": "J", "baseline_cost": 1e6, "join_probability": 0.6,
                            "joins_year": {"uniform": [0.2, 3.8]}})
    sc = refmodel.Scenario(doc)
    rng = random.Random(11)
    n = 20000
    counts = [0] * 8
    for _ in range(n):
        S = refmodel.run_trial(sc, rng)[0]
        first = [t for t in range(8) if S[2][t] != 0]
        if first:
            counts[first[0]] += 1
    for y, p in ((0, 0), (1, 1.3 / 3.6), (2, 1 / 3.6), (3, 1 / 3.6), (4, 0.3 / 3.6)):
        q = 0.6 * p
        se = math.sqrt(q * (1 - q) / n)
        assert abs(counts[y] / n - q) <= 4 * se, (y, counts[y] / n, q)


def check_v1_unchanged_by_explicit_zeros():
    with open(os.path.join(os.path.dirname(__file__), "../../scenarios/four_districts_back_office.json")) as f:
        import json
        doc = json.load(f)
    a = refmodel.simulate(refmodel.Scenario(doc), 500, 9)
    doc["service"].update(delay_years=0, delay_cost=0)
    doc["contagion"] = {"fixed": 0}
    b = refmodel.simulate(refmodel.Scenario(doc), 500, 9)
    assert a == b


def check_copula():
    """Correlated inputs: the inverse CDFs are right and the rank correlation is met."""
    for q in (0.001, 0.1, 0.5, 0.9, 0.999):
        close(refmodel.beta_cdf(refmodel.beta_ppf(q, 2.0, 4.0), 2.0, 4.0), q, 1e-12, "beta")
    tri = refmodel.Dist({"triangular": [0, 1, 4]}, "/x", "free")
    close(tri.quantile(0.25), 1.0, 1e-12, "triangular mode quantile")
    doc = base(delay_years={"uniform": [0, 3]})
    doc["service"]["efficiency"] = {"uniform": [0, 0.3]}
    doc["correlations"] = [{"a": "/service/delay_years", "b": "/service/efficiency",
                            "rank_correlation": -0.6}]
    sc = refmodel.Scenario(doc)
    rng, n = random.Random(2), 20000
    pairs = [sc.copula.sample(rng) for _ in range(n)]
    # for uniform margins the rank correlation is the plain correlation
    rho = statistics.correlation([p[id(sc.delay)] for p in pairs], [p[id(sc.g)] for p in pairs])
    assert abs(rho + 0.6) < 4 * 0.64 / math.sqrt(n), rho


def main():
    checks = [v for k, v in sorted(globals().items()) if k.startswith("check_")]
    for c in checks:
        c()
        print(f"ok {c.__name__}")
    print(f"{len(checks)} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
