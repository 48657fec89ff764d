#!/usr/bin/env python3
"""Independent reference implementation of the consortium Monte Carlo model.

Contract: MODEL.md (v2), shared with the project.  Pure Python 3 standard library.
Used only to cross-check the Rust engine *in distribution* (own random numbers,
no attempt at stream-level reproducibility).

Usage:
    python3 refmodel.py SCENARIO.json --trials N --seed S [--set /json/pointer=JSONVALUE ...]
                        [--diagnostics]

Every interpretation of a point MODEL.md leaves open is listed in AMBIGUITIES.md
next to this file; comments below cite it as "[A<n>]" (v1) and "[V<n>]" (v2).
"""

import argparse
import json
import math
import random
import sys
from statistics import NormalDist

Z95 = 1.959964  # MODEL.md "Fine print": Wilson intervals with z = 1.959964


class ScenarioError(ValueError):
    """A validation error naming the offending field (JSON path)."""


# ---------------------------------------------------------------------------
# Distributions  (MODEL.md "Inputs": (D) inputs, and "Fine print": clamping)
# ---------------------------------------------------------------------------

DIST_KEYS = ("fixed", "uniform", "triangular", "pert", "normal", "lognormal", "discrete")


def _finite(x, path):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise ScenarioError(f"{path}: expected a number, got {x!r}")
    if not math.isfinite(x):
        raise ScenarioError(f"{path}: not finite ({x!r})")
    return float(x)


class Dist:
    """One distribution-valued (D) input, validated, with its mean known [A21, A22].

    kind is the field's range class:
      'prob'     -> clamp to [0, 1]
      'nonneg'   -> clamp to >= 0 (costs, fees, hazards)
      'baseline' -> clamp to >= 1e-9 * mean (baseline costs must be > 0)
      'free'     -> no clamp (e.g. `efficiency`)
    """

    def __init__(self, spec, path, kind):
        self.path = path
        self.kind = kind
        if isinstance(spec, bool):
            raise ScenarioError(f"{path}: expected a number or a distribution object")
        if isinstance(spec, (int, float)):
            self.form, self.args = "fixed", (_finite(spec, path),)
        elif isinstance(spec, dict):
            if len(spec) != 1 or next(iter(spec)) not in DIST_KEYS:
                raise ScenarioError(
                    f"{path}: a distribution object has exactly one key among {DIST_KEYS}")
            form, a = next(iter(spec.items()))
            self.form = form
            self.args = self._parse(form, a, f"{path}/{form}")
        else:
            raise ScenarioError(f"{path}: expected a number or a distribution object")
        self.mean = self._mean()
        self._check_range()

    # -- parsing / validation ------------------------------------------------
    def _parse(self, form, a, p):
        if form == "fixed":
            return (_finite(a, p),)
        if form in ("uniform", "normal"):
            if not isinstance(a, list) or len(a) != 2:
                raise ScenarioError(f"{p}: expected [a, b]")
            x, y = _finite(a[0], p + "/0"), _finite(a[1], p + "/1")
            if form == "uniform" and x > y:
                raise ScenarioError(f"{p}: lo > hi")
            if form == "normal" and y < 0:
                raise ScenarioError(f"{p}: sd < 0")
            return (x, y)
        if form in ("triangular", "pert"):
            if not isinstance(a, list) or len(a) != 3:
                raise ScenarioError(f"{p}: expected [min, mode, max]")
            lo, mo, hi = (_finite(a[k], f"{p}/{k}") for k in range(3))
            if not (lo <= mo <= hi):
                raise ScenarioError(f"{p}: need min <= mode <= max")
            return (lo, mo, hi)
        if form == "lognormal":
            if not isinstance(a, dict) or set(a) != {"mean", "sd"}:
                raise ScenarioError(f"{p}: expected {{\"mean\": m, \"sd\": s}}")
            m, s = _finite(a["mean"], p + "/mean"), _finite(a["sd"], p + "/sd")
            if s < 0:
                raise ScenarioError(f"{p}/sd: sd < 0")
            if m <= 0:
                raise ScenarioError(f"{p}/mean: a lognormal needs mean > 0")
            return (m, s)
        if form == "discrete":
            if not isinstance(a, list) or not a:
                raise ScenarioError(f"{p}: expected [[value, weight], ...]")
            vals, wts = [], []
            for k, pair in enumerate(a):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise ScenarioError(f"{p}/{k}: expected [value, weight]")
                vals.append(_finite(pair[0], f"{p}/{k}/0"))
                w = _finite(pair[1], f"{p}/{k}/1")
                if w < 0:
                    raise ScenarioError(f"{p}/{k}/1: negative weight")
                wts.append(w)
            if not sum(wts) > 0:
                raise ScenarioError(f"{p}: weights do not sum to a positive number")
            cum, c = [], 0.0
            for w in wts:
                c += w
                cum.append(c)
            return (vals, wts, cum)
        raise AssertionError(form)

    def _mean(self):
        f, a = self.form, self.args
        if f == "fixed":
            return a[0]
        if f == "uniform":
            return (a[0] + a[1]) / 2
        if f == "triangular":
            return (a[0] + a[1] + a[2]) / 3
        if f == "pert":
            return (a[0] + 4 * a[1] + a[2]) / 6
        if f in ("normal", "lognormal"):
            return a[0]
        if f == "discrete":
            vals, wts, _ = a
            return sum(v * w for v, w in zip(vals, wts)) / sum(wts)
        raise AssertionError(f)

    def _check_range(self):
        # "validation rejects a distribution whose mean lies outside the range"
        m = self.mean
        if self.kind == "prob" and not (0 <= m <= 1):
            raise ScenarioError(f"{self.path}: mean {m} outside [0, 1]")
        if self.kind == "nonneg" and m < 0:
            raise ScenarioError(f"{self.path}: mean {m} is negative")
        if self.kind == "baseline" and not m > 0:
            raise ScenarioError(f"{self.path}: baseline cost must have mean > 0")

    # -- sampling --------------------------------------------------------------
    def raw(self, rng):
        f, a = self.form, self.args
        if f == "fixed":
            return a[0]
        if f == "uniform":
            return a[0] + (a[1] - a[0]) * rng.random()
        if f == "triangular":
            lo, mo, hi = a
            if hi == lo:
                return lo
            return rng.triangular(lo, hi, mo)  # note stdlib order: low, high, mode
        if f == "pert":
            lo, mo, hi = a
            if hi == lo:
                return lo
            # Beta-PERT, lambda = 4
            alpha = 1 + 4 * (mo - lo) / (hi - lo)
            beta = 1 + 4 * (hi - mo) / (hi - lo)
            return lo + (hi - lo) * rng.betavariate(alpha, beta)
        if f == "normal":
            return rng.gauss(a[0], a[1]) if a[1] > 0 else a[0]
        if f == "lognormal":
            m, s = a
            if s == 0:
                return m
            # mean/sd of the variable itself -> parameters of its log
            s2 = math.log(1 + (s / m) ** 2)
            mu = math.log(m) - s2 / 2
            return math.exp(rng.gauss(mu, math.sqrt(s2)))
        if f == "discrete":
            vals, _, cum = a
            u = rng.random() * cum[-1]
            for v, c in zip(vals, cum):
                if u < c:
                    return v
            return vals[-1]
        raise AssertionError(f)

    def quantile(self, u):
        """The inverse CDF at u in (0, 1), for the copula of correlated inputs [V14]."""
        f, a = self.form, self.args
        if f == "fixed":
            return a[0]
        if f == "uniform":
            return a[0] + (a[1] - a[0]) * u
        if f == "triangular":
            lo, mo, hi = a
            if hi == lo:
                return lo
            if u < (mo - lo) / (hi - lo):
                return lo + math.sqrt(u * (hi - lo) * (mo - lo))
            return hi - math.sqrt((1 - u) * (hi - lo) * (hi - mo))
        if f == "pert":
            lo, mo, hi = a
            if hi == lo:
                return lo
            alpha = 1 + 4 * (mo - lo) / (hi - lo)
            beta = 1 + 4 * (hi - mo) / (hi - lo)
            return lo + (hi - lo) * beta_ppf(u, alpha, beta)
        if f == "normal":
            return NormalDist(a[0], a[1]).inv_cdf(u) if a[1] > 0 else a[0]
        if f == "lognormal":
            m, sd = a
            if sd == 0:
                return m
            s2 = math.log(1 + (sd / m) ** 2)
            return math.exp(math.log(m) - s2 / 2 + math.sqrt(s2) * NormalDist().inv_cdf(u))
        if f == "discrete":
            vals, _, cum = a
            for v, c in zip(vals, cum):
                if u * cum[-1] < c:
                    return v
            return vals[-1]
        raise AssertionError(f)

    def sample(self, rng):
        return self.clamp(self.raw(rng))

    def clamp(self, x):
        # "Fine print": a sampled value outside its field's range is clamped into it
        if self.kind == "prob":
            return min(1.0, max(0.0, x))
        if self.kind == "nonneg":
            return max(0.0, x)
        if self.kind == "baseline":
            return max(x, 1e-9 * self.mean)
        return x


def _betacf(x, a, b):
    """Continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                   -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1 + aa * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return h


def beta_cdf(x, a, b):
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    lead = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                    + a * math.log(x) + b * math.log(1 - x))
    if x < (a + 1) / (a + b + 2):
        return lead * _betacf(x, a, b) / a
    return 1 - lead * _betacf(1 - x, b, a) / b


def beta_ppf(u, a, b):
    """Inverse of beta_cdf by bisection (to about 1e-15)."""
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if beta_cdf(mid, a, b) < u:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


# ---------------------------------------------------------------------------
# Correlated inputs: a Gaussian copula (an engine extension, docs/scenario-format.md)
# ---------------------------------------------------------------------------

class Copula:
    """Rank correlations between (D) inputs [V14]: each target Spearman rho becomes the
    normal-scale correlation 2 sin(pi rho / 6); one standard normal per input, mixed by
    the Cholesky factor, is turned into a uniform and read through the input's own
    inverse CDF, then clamped. Inputs not listed are sampled as usual."""

    def __init__(self, spec, inputs):
        path = "/correlations"
        if not isinstance(spec, list):
            raise ScenarioError(f"{path}: expected a list")
        self.dists, index, pairs = [], {}, {}
        for k, e in enumerate(spec):
            if not isinstance(e, dict) or set(e) != {"a", "b", "rank_correlation"}:
                raise ScenarioError(f"{path}/{k}: expected {{\"a\", \"b\", \"rank_correlation\"}}")
            ends = []
            for key in ("a", "b"):
                ptr = e[key]
                if not isinstance(ptr, str) or ptr not in inputs:
                    raise ScenarioError(f"{path}/{k}/{key}: {ptr!r} is not a (D) input")
                dist = inputs[ptr]
                if not isinstance(dist, Dist) or dist.form == "fixed":
                    raise ScenarioError(f"{path}/{k}/{key}: {ptr} is not a distribution")
                if id(dist) not in index:
                    index[id(dist)] = len(self.dists)
                    self.dists.append(dist)
                ends.append(index[id(dist)])
            rho = _num(e["rank_correlation"], f"{path}/{k}/rank_correlation", lo=-1, hi=1)
            a, b = sorted(ends)
            if a == b or (a, b) in pairs:
                raise ScenarioError(f"{path}/{k}: a pair must name two inputs, once")
            pairs[(a, b)] = 2 * math.sin(math.pi * rho / 6)
        n = len(self.dists)
        m = [[1.0 if i == j else pairs.get((min(i, j), max(i, j)), 0.0) for j in range(n)]
             for i in range(n)]
        self.L = [[0.0] * n for _ in range(n)]
        for i in range(n):
            for j in range(i + 1):
                acc = m[i][j] - sum(self.L[i][k] * self.L[j][k] for k in range(j))
                if i == j:
                    if acc <= 1e-12:
                        raise ScenarioError(f"{path}: the correlations cannot hold together "
                                            "(the reference does not repair them)")
                    self.L[i][i] = math.sqrt(acc)
                else:
                    self.L[i][j] = acc / self.L[j][j]

    def sample(self, rng):
        """{id(dist): value} for every correlated input of one trial."""
        z = [rng.gauss(0.0, 1.0) for _ in self.dists]
        out = {}
        for i, dist in enumerate(self.dists):
            y = sum(self.L[i][k] * z[k] for k in range(i + 1))
            u = min(max(0.5 * math.erfc(-y / math.sqrt(2)), 1e-300), 1 - 1e-16)
            out[id(dist)] = dist.clamp(dist.quantile(u))
        return out


# ---------------------------------------------------------------------------
# Scenario parsing, defaults, validation, --set overrides
# ---------------------------------------------------------------------------

def json_pointer_set(doc, pointer, value):
    """RFC 6901 pointer assignment (creates missing object members; '-' appends)."""
    if pointer == "":
        return value
    if not pointer.startswith("/"):
        raise ScenarioError(f"--set: pointer {pointer!r} must start with '/'")
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]
    cur = doc
    for k, part in enumerate(parts):
        last = k == len(parts) - 1
        if isinstance(cur, list):
            if part == "-":
                idx = len(cur)
            else:
                try:
                    idx = int(part)
                except ValueError:
                    raise ScenarioError(f"--set {pointer}: {part!r} is not an array index")
            if last:
                if idx == len(cur):
                    cur.append(value)
                elif 0 <= idx < len(cur):
                    cur[idx] = value
                else:
                    raise ScenarioError(f"--set {pointer}: index {idx} out of range")
            else:
                if not 0 <= idx < len(cur):
                    raise ScenarioError(f"--set {pointer}: index {idx} out of range")
                cur = cur[idx]
        elif isinstance(cur, dict):
            if last:
                cur[part] = value
            else:
                if part not in cur:
                    cur[part] = {}
                cur = cur[part]
        else:
            raise ScenarioError(f"--set {pointer}: cannot descend into a non-container")
    return doc


def _num(x, path, default=None, lo=None, hi=None, integer=False):
    if x is None:
        if default is None:
            raise ScenarioError(f"{path}: required")
        return default
    v = _finite(x, path)
    if integer and v != int(v):
        raise ScenarioError(f"{path}: expected an integer")
    if lo is not None and v < lo:
        raise ScenarioError(f"{path}: {v} < {lo}")
    if hi is not None and v > hi:
        raise ScenarioError(f"{path}: {v} > {hi}")
    return int(v) if integer else v


def _numlist(x, path, default):
    if x is None:
        return list(default)
    if not isinstance(x, list) or not x:
        raise ScenarioError(f"{path}: expected a non-empty list of numbers")
    return [_finite(v, f"{path}/{k}") for k, v in enumerate(x)]


def _dist(x, path, kind, default=0.0):
    if x is None:
        x = default
    return Dist(x, path, kind)


def _joins_year(x, path):
    """A plain whole number >= 0 (or {"fixed": y}, the same), or a distribution: the
    partner is then a late joiner in every trial (MODEL.md v2, `joins_year`) [V6]."""
    if isinstance(x, dict) and set(x) == {"fixed"}:
        x = x["fixed"]
        path = f"{path}/fixed"
    if x is None or not isinstance(x, dict):
        return _num(x, path, default=0, lo=0, integer=True)
    return Dist(x, path, "nonneg")


def late_join_year(x):
    """A sampled join year x becomes max(1, floor(x + 0.5)) [V6]."""
    return max(1, math.floor(x + 0.5))


def delay_of(x, H):
    """A sampled delay x becomes d = floor(x + 0.5), clamped into [0, H] [V1]."""
    return min(H, max(0, math.floor(x + 0.5)))


def discount_rates(spec, H):
    """Per-year rates r_t, t = 0..H-1 (MODEL.md "Inputs": discount_rate; [A20])."""
    path = "/discount_rate"
    if spec is None:
        spec = 0.035
    if isinstance(spec, str):
        if spec == "green_book":
            bands = (0.035, 0.030, 0.025)
        elif spec == "green_book_health":
            bands = (0.015, 0.0129, 0.0107)
        else:
            raise ScenarioError(f"{path}: unknown named rate {spec!r}")
        # 0-30, 31-75, 76-125 (H <= 100 so the last band is never exceeded)
        return [bands[0] if t <= 30 else bands[1] if t <= 75 else bands[2] for t in range(H)]
    if isinstance(spec, list):
        if not spec:
            raise ScenarioError(f"{path}: empty list")
        steps = []
        for k, e in enumerate(spec):
            if not isinstance(e, dict) or set(e) != {"from_year", "rate"}:
                raise ScenarioError(f"{path}/{k}: expected {{\"from_year\", \"rate\"}}")
            y = _num(e["from_year"], f"{path}/{k}/from_year", lo=0, integer=True)
            r = _num(e["rate"], f"{path}/{k}/rate")
            if not r > -0.99:
                raise ScenarioError(f"{path}/{k}/rate: must be > -0.99")
            if steps and y <= steps[-1][0]:
                raise ScenarioError(f"{path}/{k}/from_year: must increase")
            steps.append((y, r))
        if steps[0][0] != 0:
            raise ScenarioError(f"{path}/0/from_year: the list must start at year 0")
        out = []
        for t in range(H):
            r = steps[0][1]
            for y, rr in steps:
                if y <= t:
                    r = rr
            out.append(r)
        return out
    r = _num(spec, path)
    if not r > -0.99:
        raise ScenarioError(f"{path}: must be > -0.99")
    return [r] * H


def discount_factors(rates):
    # DF_0 = 1, DF_t = DF_{t-1} / (1 + r_t)   (r_0 is never used)
    df = [1.0]
    for t in range(1, len(rates)):
        df.append(df[-1] / (1 + rates[t]))
    return df


def rep(lst, t):
    """Calendar-year indexing that repeats the last value (ramp, hazard_profile)."""
    return lst[t] if t < len(lst) else lst[-1]


class Scenario:
    def __init__(self, doc):
        if not isinstance(doc, dict):
            raise ScenarioError("/: a scenario is a JSON object")
        doc = {k: v for k, v in doc.items() if k != "$schema"}  # ignored
        self.name = doc.get("name", "")
        self.H = _num(doc.get("horizon_years"), "/horizon_years", lo=1, hi=100, integer=True)
        H = self.H
        self.rates = discount_rates(doc.get("discount_rate"), H)
        self.df = discount_factors(self.rates)
        # defaults [A24]
        self.trials = _num(doc.get("trials"), "/trials", default=100000, lo=1, integer=True)
        self.seed = _num(doc.get("seed"), "/seed", default=1, lo=0, integer=True)
        self.min_members = _num(doc.get("min_members"), "/min_members", default=2, lo=1,
                                integer=True)

        sv = doc.get("service")
        if not isinstance(sv, dict):
            raise ScenarioError("/service: required object")
        self.F = _dist(sv.get("fixed_cost"), "/service/fixed_cost", "nonneg")
        if "efficiency" not in sv:
            raise ScenarioError("/service/efficiency: required")
        self.g = _dist(sv["efficiency"], "/service/efficiency", "free")
        self.ramp = _numlist(sv.get("ramp"), "/service/ramp", [1.0])
        self.noise_sd = _num(sv.get("efficiency_noise_sd"), "/service/efficiency_noise_sd",
                             default=0.0, lo=0)
        self.e = _num(sv.get("scale_elasticity"), "/service/scale_elasticity", default=0.0)
        self.T = _dist(sv.get("transition_cost"), "/service/transition_cost", "nonneg")
        prof = _numlist(sv.get("transition_profile"), "/service/transition_profile", [1.0])
        if abs(sum(prof) - 1) > 1e-9:
            raise ScenarioError("/service/transition_profile: must sum to 1 within 1e-9")
        # transition_profile does NOT repeat; shares beyond the list are 0
        self.tprofile = [prof[t] if t < len(prof) else 0.0 for t in range(H)]
        self.optimism = _num(sv.get("optimism_bias"), "/service/optimism_bias", default=0.0)
        # v2: go-live delay (sampled x -> d = floor(x + 0.5) in [0, H]) and its yearly cost
        # [V1, V2]; the mean must be >= 0, a negative draw is clamped to 0 (so d = 0)
        self.delay = _dist(sv.get("delay_years"), "/service/delay_years", "nonneg")
        self.delay_cost = _dist(sv.get("delay_cost"), "/service/delay_cost", "nonneg")

        # partners
        ps = doc.get("partners")
        if not isinstance(ps, list) or not ps:
            raise ScenarioError("/partners: required non-empty list")
        self.partners = []
        names = set()
        for k, p in enumerate(ps):
            pp = f"/partners/{k}"
            if not isinstance(p, dict) or not isinstance(p.get("name"), str):
                raise ScenarioError(f"{pp}/name: required string")
            if p["name"] in names:
                raise ScenarioError(f"{pp}/name: duplicate partner name {p['name']!r}")
            names.add(p["name"])
            if "baseline_cost" not in p:
                raise ScenarioError(f"{pp}/baseline_cost: required")
            self.partners.append(dict(
                name=p["name"],
                B=_dist(p["baseline_cost"], f"{pp}/baseline_cost", "baseline"),
                joins_year=_joins_year(p.get("joins_year"), f"{pp}/joins_year"),
                join_p=_dist(p.get("join_probability"), f"{pp}/join_probability", "prob", 1.0),
                onboarding=_dist(p.get("onboarding_cost"), f"{pp}/onboarding_cost", "nonneg"),
                h=_dist(p.get("withdrawal_hazard"), f"{pp}/withdrawal_hazard", "nonneg"),
                hprofile=_numlist(p.get("hazard_profile"), f"{pp}/hazard_profile", [1.0]),
                k=_num(p.get("disappointment_sensitivity"),
                       f"{pp}/disappointment_sensitivity", default=0.0, lo=0),
                lock_in=_num(p.get("lock_in_years"), f"{pp}/lock_in_years", default=0, lo=0,
                             integer=True),
                exit_fee=_dist(p.get("exit_fee"), f"{pp}/exit_fee", "nonneg"),
                reest=_dist(p.get("reestablish_cost"), f"{pp}/reestablish_cost", "nonneg"),
                rejoin_p=_dist(p.get("rejoin_probability"), f"{pp}/rejoin_probability", "prob"),
                rejoin_fee=_dist(p.get("rejoin_fee"), f"{pp}/rejoin_fee", "nonneg"),
            ))
        n_founders = sum(1 for p in self.partners if p["joins_year"] == 0)  # [V6]
        if n_founders < self.min_members:
            raise ScenarioError(f"/min_members: {n_founders} founder(s) < min_members "
                                f"{self.min_members}")

        cs = sv.get("cost_sharing", "proportional")
        if cs in ("proportional", "equal"):
            self.sharing, self.weights = cs, None
        elif isinstance(cs, dict) and set(cs) == {"fixed"} and isinstance(cs["fixed"], dict):
            wmap = cs["fixed"]
            if set(wmap) != names:
                raise ScenarioError("/service/cost_sharing/fixed: must name every partner "
                                    "and only partners")
            self.sharing = "fixed"
            self.weights = []
            for p in self.partners:
                w = _num(wmap[p["name"]], f"/service/cost_sharing/fixed/{p['name']}")
                if not w > 0:
                    raise ScenarioError(f"/service/cost_sharing/fixed/{p['name']}: must be > 0")
                self.weights.append(w)
        else:
            raise ScenarioError("/service/cost_sharing: \"proportional\", \"equal\" or "
                                "{\"fixed\": {...}}")

        # v2: contagion c, per notice of the previous year, >= 0 with no upper bound [V8]
        self.contagion = _dist(doc.get("contagion"), "/contagion", "nonneg")

        d = doc.get("disputes") or {}
        if not isinstance(d, dict):
            raise ScenarioError("/disputes: expected an object")
        # a missing disputes field is 0 [A18]
        self.p_d = _dist(d.get("annual_probability"), "/disputes/annual_probability", "prob")
        self.rho = _dist(d.get("resolution_probability"), "/disputes/resolution_probability",
                         "prob")
        self.K = _dist(d.get("annual_cost"), "/disputes/annual_cost", "nonneg")
        self.delta = _dist(d.get("efficiency_loss"), "/disputes/efficiency_loss", "prob")
        self.u = _dist(d.get("hazard_uplift"), "/disputes/hazard_uplift", "nonneg")

        # correlated inputs (an engine extension) [V14]
        if doc.get("repair_correlations"):
            raise ScenarioError("/repair_correlations: not supported by the reference")
        self.copula = Copula(doc["correlations"], self._inputs()) if doc.get("correlations") \
            else None

    def _inputs(self):
        """Every (D) input by its JSON pointer, partners by index and by name."""
        out = {"/service/fixed_cost": self.F, "/service/efficiency": self.g,
               "/service/transition_cost": self.T, "/service/delay_years": self.delay,
               "/service/delay_cost": self.delay_cost, "/contagion": self.contagion,
               "/disputes/annual_cost": self.K}
        fields = {"baseline_cost": "B", "joins_year": "joins_year", "join_probability": "join_p",
                  "onboarding_cost": "onboarding", "withdrawal_hazard": "h",
                  "exit_fee": "exit_fee", "reestablish_cost": "reest",
                  "rejoin_probability": "rejoin_p", "rejoin_fee": "rejoin_fee"}
        for i, p in enumerate(self.partners):
            name = p["name"].replace("~", "~0").replace("/", "~1")
            for field, key in fields.items():
                out[f"/partners/{i}/{field}"] = out[f"/partners/{name}/{field}"] = p[key]
        return out


# ---------------------------------------------------------------------------
# One trial  (MODEL.md "One trial", steps 1-8)
# ---------------------------------------------------------------------------

PENDING, MEMBER, OUT, NEVER = 0, 1, 2, 3


def run_trial(sc, rng, diag=None):
    """Returns (S, withdrew_flags, counts, collapsed) where S[i][t] are the savings."""
    H, P = sc.H, len(sc.partners)
    # --- Sample every (D) input once per trial; correlated ones through the copula ---
    correlated = sc.copula.sample(rng) if sc.copula else {}

    def draw(dist):
        return correlated[id(dist)] if id(dist) in correlated else dist.sample(rng)

    F = draw(sc.F)
    g = draw(sc.g)
    T_paid = draw(sc.T) * (1 + sc.optimism)          # T' = T (1 + optimism_bias)
    p_d, rho, K = draw(sc.p_d), draw(sc.rho), draw(sc.K)
    delta, u = draw(sc.delta), draw(sc.u)
    # v2 trial-level inputs: the go-live delay d, the delay cost, contagion c
    d = delay_of(draw(sc.delay), H)
    delay_cost = draw(sc.delay_cost)
    c = draw(sc.contagion)
    B, jp, onb, hz, xfee, reest, rjp, rjfee = ([0.0] * P for _ in range(8))
    for i, p in enumerate(sc.partners):
        B[i] = draw(p["B"])
        jp[i] = draw(p["join_p"])
        onb[i] = draw(p["onboarding"])
        hz[i] = draw(p["h"])
        xfee[i] = draw(p["exit_fee"])
        reest[i] = draw(p["reest"])
        rjp[i] = draw(p["rejoin_p"])
        rjfee[i] = draw(p["rejoin_fee"])
    # a distribution-valued joins_year is sampled once per trial; such a partner is a late
    # joiner whatever it draws [V6]
    joins_year = [late_join_year(draw(p["joins_year"])) if isinstance(p["joins_year"], Dist)
                  else p["joins_year"] for p in sc.partners]
    k_dis = [p["k"] for p in sc.partners]
    lock = [p["lock_in"] for p in sc.partners]
    hprof = [p["hprofile"] for p in sc.partners]
    weights = sc.weights

    # All partners start pending.  B_F = sum of B_i over founders (joins_year == 0).
    status = [PENDING] * P
    B_F = sum(B[i] for i in range(P) if joins_year[i] == 0)
    out_from = [None] * P          # first year out of the current spell (withdrawers only)
    # payments booked by step 8 for the next year: (exit fee into pool, re-establishment)
    next_exit = [0.0] * P
    next_reest = [0.0] * P
    S = [[0.0] * H for _ in range(P)]
    withdrew = [False] * P
    n_withdrawals = n_rejoins = n_disputes = n_dispute_years = 0
    active = False
    collapsed = False
    collapse_year = None
    notices_prev = 0               # N_(t-1): notices given at the end of the previous year

    for t in range(H):
        live = t >= d              # years t < d are delay years [V2]
        # payments booked for this year by last year's step 8
        cur_exit, cur_reest = next_exit, next_reest
        next_exit, next_reest = [0.0] * P, [0.0] * P

        # --- Step 1: collapsed? Savings 0 except one-off payments booked by step 8 ---
        if collapsed:
            for i in range(P):
                # after a collapse only re-establishment costs are ever booked (no exit fees)
                S[i][t] = 0.0 - cur_exit[i] - cur_reest[i]
            continue

        one_off = [0.0] * P          # onboarding cost or rejoin fee paid by i this year

        # --- Step 2: joins ---
        for i in range(P):
            if status[i] == PENDING and joins_year[i] == t:
                # [A2] founders join with probability 1 at t = 0; join_probability is for
                # late joiners only; one that does not join never joins
                if t == 0 or rng.random() < jp[i]:
                    status[i] = MEMBER
                    one_off[i] += onb[i]        # onboarding, not into the pool [A3, A4]
                else:
                    status[i] = NEVER
        # (pending partners with joins_year >= H simply stay pending: never join)

        # --- Step 3: rejoins (t >= 1; out because it withdrew and out all of t-1) [A1, A5] ---
        rejoin_fees_in = 0.0
        if t >= 1:
            for i in range(P):
                if status[i] == OUT and out_from[i] <= t - 1:
                    if rng.random() < rjp[i]:
                        status[i] = MEMBER
                        out_from[i] = None
                        one_off[i] += rjfee[i]
                        rejoin_fees_in += rjfee[i]
                        n_rejoins += 1

        # --- Step 4: disputes (two-state Markov chain) [A18] ---
        if active:
            if rng.random() < rho:
                active = False          # ended this year: no new one may start this year
        else:
            if rng.random() < p_d:
                active = True
                n_disputes += 1
        act = 1.0 if active else 0.0
        if active:
            n_dispute_years += 1

        # --- Step 5: efficiency, live years only; the ramp counts from go-live [A16, A17, V3] ---
        members = [i for i in range(P) if status[i] == MEMBER]
        sumB = sum(B[i] for i in members)
        if live:
            scale = (sumB / B_F) ** sc.e if sc.e != 0 else 1.0
            gt = g * rep(sc.ramp, t - d) * scale * (1 - delta * act)
            if sc.noise_sd > 0:
                gt += rng.gauss(0.0, sc.noise_sd)
            gt = min(0.95, max(-1.0, gt))

        # --- Step 6: pool and shares (over M_t) ---
        exit_fees_in = sum(cur_exit)    # exit fees of this year's first-year-out leavers [A6]
        if live:
            running = F + sumB * (1 - gt) + K * act
        else:
            # a delay year: no F, no pooled baseline; each member runs its own service [V2]
            running = delay_cost + K * act
        pool = running + T_paid * sc.tprofile[t] - exit_fees_in - rejoin_fees_in
        w = [0.0] * P
        if sc.sharing == "proportional":
            for i in members:
                w[i] = B[i] / sumB
        elif sc.sharing == "equal":
            for i in members:
                w[i] = 1.0 / len(members)
        else:
            sw = sum(weights[i] for i in members)
            for i in members:
                w[i] = weights[i] / sw

        # --- Step 7: savings ---
        for i in range(P):
            if status[i] == MEMBER:
                # a delay-year member keeps its own B_i: it saves nothing of it [V2]
                S[i][t] = (B[i] if live else 0.0) - w[i] * pool - one_off[i]
            elif status[i] == OUT and out_from[i] == t:
                # first year out: exit fee and re-establishment cost booked by step 8
                S[i][t] = 0.0 - cur_exit[i] - cur_reest[i]
            else:
                S[i][t] = 0.0

        if diag is not None:
            for i in members:
                diag[i][t] += 1

        # --- Step 8: withdrawals (decided end of t, t < H-1, effective t+1 >= L_i) ---
        # [A8] lock-in: no draw at all; [A9] profile by decision year t; [A10] none at H-1
        notices = 0
        if t < H - 1:
            leavers = []
            for i in members:
                if t + 1 < lock[i]:
                    continue
                # running saving, one-offs left out [A14]; in a delay year -w_i (delay_cost
                # + K active_t) [V4]
                R = (B[i] if live else 0.0) - w[i] * running
                h = (hz[i] * rep(hprof[i], t) + u * act + k_dis[i] * max(0.0, -R / B[i])
                     + c * notices_prev)                              # contagion [V8, V9]
                h = min(1.0, max(0.0, h))
                if h > 0 and rng.random() < h:
                    leavers.append(i)
            notices = len(leavers)
            if leavers:
                n_withdrawals += len(leavers)
                for i in leavers:
                    withdrew[i] = True
                    status[i] = OUT
                    out_from[i] = t + 1
                if len(members) - len(leavers) < sc.min_members:   # [A11]
                    # collapse from t+1: no exit fees; every year-t member pays re-est [A12, A13]
                    collapsed = True
                    collapse_year = t + 1
                    # re-establishment only for leaving a live service [V5]
                    for i in members:
                        next_reest[i] = reest[i] if live else 0.0
                else:
                    for i in leavers:
                        next_exit[i] = xfee[i]
                        next_reest[i] = reest[i] if live else 0.0
        notices_prev = notices
        # payments that would fall in year H are simply never booked into S

    return S, withdrew, (n_withdrawals, n_rejoins, n_disputes, n_dispute_years, d), \
        collapse_year


# ---------------------------------------------------------------------------
# Statistics  (MODEL.md "Fine print": Statistics) [A26, A27]
# ---------------------------------------------------------------------------

def percentile_sorted(xs, q):
    """numpy's default 'linear' method on a sorted list; q in [0, 1]."""
    n = len(xs)
    if n == 1:
        return xs[0]
    pos = q * (n - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    return xs[lo] + (xs[hi] - xs[lo]) * frac


def wilson(k, n, z=Z95):
    if n == 0:
        return [0.0, 1.0]
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return [max(0.0, centre - half), min(1.0, centre + half)]


def prob(k, n):
    return {"estimate": k / n, "ci95": wilson(k, n)}


def summarize(xs, qs=(5, 10, 25, 50, 75, 90, 95), with_moments=True):
    n = len(xs)
    s = sorted(xs)
    mean = math.fsum(xs) / n
    out = {"mean": mean}
    if with_moments:
        var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1) if n > 1 else 0.0
        sd = math.sqrt(var)
        out["sd"] = sd
        out["se"] = sd / math.sqrt(n)
    for q in qs:
        out[f"p{q:02d}"] = percentile_sorted(s, q / 100)
    if with_moments:
        m = (n + 19) // 20      # ceil(0.05 n) in integer arithmetic
        out["cvar05"] = math.fsum(s[:m]) / m
    return out


def payback_p50(paybacks, n, H):
    """Smallest y with P(payback <= y) >= 0.5; never-paying counts as later than any year."""
    counts = [0] * H
    for y in paybacks:
        if y is not None:
            counts[y] += 1
    c = 0
    for y in range(H):
        c += counts[y]
        if c >= 0.5 * n:     # P(payback <= y) >= 0.5
            return y
    return None


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def simulate(sc, trials, seed, diagnostics=False):
    rng = random.Random(seed)
    H, P = sc.H, len(sc.partners)
    df = sc.df
    npv_c = []
    npv_p = [[] for _ in range(P)]
    by_year = [[] for _ in range(H)]
    paybacks = []
    withdrew_count = [0] * P
    collapses = 0
    ev = [0, 0, 0, 0, 0]
    ev_sq = [0, 0, 0, 0, 0]
    diag = [[0] * H for _ in range(P)] if diagnostics else None
    collapse_by = [0] * H if diagnostics else None
    for _ in range(trials):
        S, withdrew, counts, cy = run_trial(sc, rng, diag)
        # NPV_i = sum_t DF_t S_i,t ; consortium NPV = sum_i NPV_i
        cum = 0.0
        payback = None
        for t in range(H):
            cum += df[t] * sum(S[i][t] for i in range(P))
            by_year[t].append(cum)
            if payback is None and cum >= 0:
                payback = t
        paybacks.append(payback)
        tot = 0.0
        for i in range(P):
            v = math.fsum(df[t] * S[i][t] for t in range(H))
            npv_p[i].append(v)
            tot += v
            if withdrew[i]:
                withdrew_count[i] += 1
        npv_c.append(tot)
        if cy is not None:
            collapses += 1      # a collapse always takes effect at cy <= H-1
            if diagnostics:
                collapse_by[cy] += 1
        for j in range(5):
            ev[j] += counts[j]
            ev_sq[j] += counts[j] ** 2

    n = trials
    report = {
        "schema": 1,
        "implementation": "refmodel.py (independent Python reference)",
        "scenario": sc.name,
        "seed": seed,
        "trials": n,
        "horizon_years": H,
        "consortium": {
            "npv": summarize(npv_c),
            "prob_npv_negative": prob(sum(1 for x in npv_c if x < 0), n),
            "prob_collapse": prob(collapses, n),
            "payback_year": {
                "prob_within_horizon": sum(1 for y in paybacks if y is not None) / n,
                "p50": payback_p50(paybacks, n, H),
            },
            "by_year": [dict(year=t, **summarize(by_year[t], qs=(5, 25, 50, 75, 95),
                                                 with_moments=False))
                        for t in range(H)],
        },
        "partners": [
            {
                "name": sc.partners[i]["name"],
                "npv": summarize(npv_p[i]),
                "prob_worse_off": prob(sum(1 for x in npv_p[i] if x < 0), n),
                "prob_withdraws": prob(withdrew_count[i], n),
            }
            for i in range(P)
        ],
        "events": {
            "withdrawals": ev[0] / n,
            "rejoins": ev[1] / n,
            "disputes": ev[2] / n,
            "dispute_years": ev[3] / n,
            "delay_years": ev[4] / n,       # the mean go-live delay d [V13]
        },
        # not in the contract: per-trial sd of each event count, for comparisons
        "events_sd": {
            key: math.sqrt(max(0.0, (ev_sq[j] - ev[j] ** 2 / n) / (n - 1))) if n > 1 else 0.0
            for j, key in enumerate(("withdrawals", "rejoins", "disputes", "dispute_years",
                                     "delay_years"))
        },
    }
    if diagnostics:
        # fraction of trials in which partner i is a member in year t (after steps 2-3)
        report["diagnostics"] = {
            "member_fraction": {sc.partners[i]["name"]: [c / n for c in diag[i]]
                                for i in range(P)},
            "collapse_effective_by_year": [sum(collapse_by[:t + 1]) / n for t in range(H)],
        }
    return report


def load_scenario(path, sets):
    with open(path) as f:
        doc = json.load(f)
    for s in sets or []:
        if "=" not in s:
            raise ScenarioError(f"--set {s!r}: expected /json/pointer=JSONVALUE")
        ptr, val = s.split("=", 1)
        try:
            v = json.loads(val)
        except json.JSONDecodeError:
            v = val             # bare strings are accepted unquoted
        doc = json_pointer_set(doc, ptr, v)
    return doc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario")
    ap.add_argument("--trials", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--set", action="append", default=[], metavar="/ptr=JSON")
    ap.add_argument("--diagnostics", action="store_true",
                    help="add per-year membership fractions and cumulative collapse")
    a = ap.parse_args(argv)
    try:
        sc = Scenario(load_scenario(a.scenario, a.set))
    except ScenarioError as e:
        print(f"invalid scenario: {e}", file=sys.stderr)
        return 2
    trials = a.trials if a.trials is not None else sc.trials
    seed = a.seed if a.seed is not None else sc.seed
    if trials < 1:
        print("--trials must be >= 1", file=sys.stderr)
        return 2
    rep_ = simulate(sc, trials, seed, a.diagnostics)
    json.dump(rep_, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
