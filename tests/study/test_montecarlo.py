"""Monte Carlo: reproducible per seed whatever the workers, resumable, criticality exact."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from warmgrid.errors import InputError
from warmgrid.study.montecarlo import RunStopped, criticality, distributions, run_montecarlo
from warmgrid.study.store import METRIC_COLUMNS, Store

N, SEED = 20, 7
_COMPARE = ["sample", "damage", *METRIC_COLUMNS, "metrics"]


def _rows(store, run) -> pd.DataFrame:
    return Store(store).samples(run)[_COMPARE]


@pytest.fixture(scope="module")
def reference(scenario, tmp_path_factory):
    """One uninterrupted synchronous run: (store path, run id)."""
    p = tmp_path_factory.mktemp("mc") / "ref.duckdb"
    res = run_montecarlo(scenario, N, seed=SEED, scheduler="synchronous", store=p, batch=6)
    assert (res.samples_done, res.new_samples, res.complete) == (N, N, True)
    return p, res.run


def test_samples_are_the_simulator_replaying_the_sampled_damage(scenario, reference):
    """Each stored row is base damage + the hazard's draw on stream i, replayed once."""
    from warmgrid.hazard import RandomK
    from warmgrid.rng import sample_generator
    from warmgrid.study.run import prepare

    df = Store(reference[0]).samples(reference[1])
    sim = prepare(scenario).simulator
    hz = RandomK(k=3, weights_by_kind={"gen": 4.0, "substation": 4.0, "branch": 1.0})
    pop = sim.population.sum()
    for i in (0, 7, 19):
        row = df.loc[df["sample"] == i].iloc[0]
        drawn = hz.sample(sim, sample_generator(SEED, i))
        assert row["damage"] == list(dict.fromkeys(["gen:chp-south-1", *drawn]))
        tl = sim.run(row["damage"])
        assert json.loads(row["metrics"]) == tl.metrics()
        assert row["people_without_heat_peak"] == round(float(tl.people_without_heat.max()))
    for c in ("people_without_power_peak", "people_without_heat_peak"):
        assert (df[c] >= 0).all()
        assert (df[c] <= pop + 1e-6).all()
    assert df["damage"].map(len).between(3, 4).all()  # base + 3 distinct (base may be redrawn)
    assert df[list(METRIC_COLUMNS[:3])].std().max() > 0  # the damage actually varies the outcome


def test_same_seed_same_rows_whatever_the_batch(scenario, reference, tmp_path):
    res = run_montecarlo(
        scenario, N, seed=SEED, scheduler="synchronous", store=tmp_path / "b.duckdb", batch=20
    )
    pd.testing.assert_frame_equal(_rows(*reference), _rows(tmp_path / "b.duckdb", res.run))
    other = run_montecarlo(
        scenario, 5, seed=SEED + 1, scheduler="synchronous", store=tmp_path / "b.duckdb"
    )
    assert (
        _rows(tmp_path / "b.duckdb", other.run)["damage"].tolist()
        != (_rows(*reference)["damage"].tolist()[:5])
    )


def test_two_dask_workers_give_the_same_rows(scenario, reference, tmp_path):
    """A real LocalCluster of 2 processes, out-of-order completion, same table."""
    res = run_montecarlo(
        scenario, N, seed=SEED, scheduler="local", workers=2, store=tmp_path / "d.duckdb", batch=3
    )
    assert res.complete
    pd.testing.assert_frame_equal(_rows(*reference), _rows(tmp_path / "d.duckdb", res.run))


def test_resume_after_an_interruption_equals_an_uninterrupted_run(
    scenario, scenario_file, reference, tmp_path, capsys
):
    from warmgrid.cli import main

    p = tmp_path / "i.duckdb"
    seen = []

    def stop(done, total):
        seen.append(done)
        if done >= 12:
            raise KeyboardInterrupt

    with pytest.raises(RunStopped) as stopped:
        run_montecarlo(
            scenario, N, seed=SEED, scheduler="synchronous", store=p, batch=6, progress=stop
        )
    (run,) = Store(p).runs()
    assert (run["samples_done"], run["complete"]) == (12, False)
    e = stopped.value
    assert (e.run, e.done, e.total, e.signalled, e.exit_code) == (run["run"], 12, N, True, 130)
    capsys.readouterr()
    args = ["montecarlo", str(scenario_file), "--samples", str(N), "--store", str(p)]
    args += ["--resume", run["run"], "--scheduler", "synchronous", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["run"], out["new_samples"], out["samples_done"], out["complete"]) == (
        run["run"],
        N - 12,
        N,
        True,
    )
    pd.testing.assert_frame_equal(_rows(*reference), _rows(p, run["run"]))
    assert Store(p).query("SELECT count(*), count(DISTINCT sample) FROM samples")[0] == (N, N)
    # growing the run keeps every stored sample and adds the next streams
    res = run_montecarlo(scenario, N + 3, scheduler="synchronous", store=p, resume=run["run"])
    assert (res.new_samples, res.samples_done, res.seed) == (3, N + 3, SEED)
    pd.testing.assert_frame_equal(_rows(*reference), _rows(p, run["run"]).iloc[:N])


def test_distributions_match_numpy(reference):
    df = Store(reference[0]).samples(reference[1])
    d = distributions(reference[0], reference[1])
    for m, stats in d.items():
        x = df[m].to_numpy(float)
        assert stats["samples"] == N
        assert stats["mean"] == pytest.approx(x.mean(), rel=1e-12)
        for q in (50, 90, 99):
            assert stats[f"p{q}"] == pytest.approx(np.quantile(x, q / 100), rel=1e-12, abs=1e-9)


def test_criticality_recovers_additive_effects(tmp_path):
    """metric = 100 + sum of per-element effects: OLS gives them back; means by hand."""
    st = Store(tmp_path / "c.duckdb")
    st.create_run(
        run="c",
        scenario="s",
        scenario_toml="",
        scenario_hash="h",
        hazard="",
        samples_requested=60,
        seed=0,
    )
    effect = {"line:a": 50.0, "line:b": 5.0, "gen:c": 200.0, "bus:d": -3.0, "line:e": 0.0}
    rng = np.random.default_rng(0)
    rows = []
    for i in range(60):
        d = ["base:x"] + [e for e in effect if rng.random() < 0.4]
        y = 100.0 + sum(effect[e] for e in d if e in effect)
        rows.append({"sample": i, "damage": d, "person_hours_below_12c": y})
    st.write_samples("c", rows)
    crit = criticality(st, "c").set_index("element")
    assert "base:x" not in crit.index  # in every sample: no comparison
    for e, b in effect.items():
        assert crit.loc[e, "effect"] == pytest.approx(b, abs=1e-8)
        ys = np.array([r["person_hours_below_12c"] for r in rows])
        has = np.array([e in r["damage"] for r in rows])
        assert crit.loc[e, "mean_with"] == pytest.approx(ys[has].mean())
        assert crit.loc[e, "mean_without"] == pytest.approx(ys[~has].mean())
        assert crit.loc[e, "samples_with"] == has.sum()
    assert criticality(st, "c", top=3)["element"].tolist() == ["gen:c", "line:a", "line:b"]
    few = criticality(st, "c", min_samples=int(crit["samples_with"].max()))
    assert few["samples_with"].min() == crit["samples_with"].max()
    by_diff = criticality(st, "c", by="difference")
    assert by_diff["difference"].is_monotonic_decreasing
    with pytest.raises(InputError, match=r"closest: .*person_hours_below_12c"):
        criticality(st, "c", metric="person_hours_below_13c")


def test_resume_checks_scenario_seed_and_samples(scenario, reference, tmp_path):
    from warmgrid.model.scenario import parse_scenario

    p, run = reference
    other = parse_scenario(
        {**scenario.model_dump(exclude={"source"}), "horizon": {"hours": 6}},
        source=scenario.source,
    )
    with pytest.raises(InputError, match="different scenario"):
        run_montecarlo(other, N, scheduler="synchronous", store=p, resume=run)
    with pytest.raises(InputError, match=f"has seed {SEED}"):
        run_montecarlo(scenario, N, seed=SEED + 1, scheduler="synchronous", store=p, resume=run)
    with pytest.raises(InputError, match="cannot shrink"):
        run_montecarlo(scenario, N - 1, scheduler="synchronous", store=p, resume=run)


def _digest(p) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_bad_input_leaves_the_store_untouched(scenario_file, reference, tmp_path, capsys):
    from warmgrid.cli import main

    p = tmp_path / "u.duckdb"
    p.write_bytes(reference[0].read_bytes())
    before = (_digest(p), p.stat().st_mtime_ns)
    bad_hazard = tmp_path / "bad.toml"
    bad_hazard.write_text(scenario_file.read_text().replace("k = 3", "k = 500"), encoding="utf-8")
    base = ["--store", str(p), "--scheduler", "synchronous", "--json"]
    cases = [
        (["montecarlo", str(scenario_file), "--samples", "0", *base], "--samples"),
        (["montecarlo", str(scenario_file), "--samples", "5", "--resume", "nope", *base], "nope"),
        (["montecarlo", str(bad_hazard), "--samples", "5", *base], "k = 500"),
        (["montecarlo", str(scenario_file), "--samples", "5", "--seed", "-4", *base], "seed"),
        (
            ["montecarlo", str(scenario_file), "--samples", "5", *base, "--scheduler", "fast"],
            "scheduler",
        ),
    ]
    for args, needle in cases:
        capsys.readouterr()
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert needle in err, err
        assert err.count("\n") == 1, err
    assert (_digest(p), p.stat().st_mtime_ns) == before
    fresh = tmp_path / "fresh" / "r.duckdb"
    assert main(["montecarlo", str(bad_hazard), "--samples", "5", "--store", str(fresh)]) == 2
    assert not fresh.exists()
    assert main(["montecarlo", str(scenario_file), "--samples", "5", "--store", str(tmp_path)]) == 2


def test_thermal_band_draws_each_sample_between_fast_and_slow(scenario_file, tmp_path):
    """``[hazard] thermal = "band"``: each sample is the simulator at its own draw u
    (stream 1 of the sample, independent of the damage), replayed with C = C_fast^(1−u) ·
    C_slow^u; u = 0 and u = 1 are the fast and slow calibrations; the samples' damage is
    the fixed run's, and the draws spread the cold person-hours of one damage."""
    from warmgrid.model.scenario import load_scenario
    from warmgrid.rng import sample_generator
    from warmgrid.study.montecarlo import thermal_draw
    from warmgrid.study.run import prepare

    text = scenario_file.read_text(encoding="utf-8").replace(
        'model = "random_k"', 'model = "random_k"\nthermal = "band"'
    )
    p = tmp_path / "band.toml"
    p.write_text(text + "[thresholds]\nindoor_c = [18.0, 16.0]\n", encoding="utf-8")
    band = load_scenario(p)
    store = tmp_path / "band.duckdb"
    res = run_montecarlo(band, N, seed=SEED, scheduler="synchronous", store=store, batch=6)
    df = Store(store).samples(res.run)
    sim = prepare(band).simulator
    fixed = prepare(load_scenario(scenario_file))
    for i in (0, 5, 13):
        row = df.loc[df["sample"] == i].iloc[0]
        m = json.loads(row["metrics"])
        u = thermal_draw(SEED, i)
        assert m["thermal_draw"] == u
        assert u == float(sample_generator(SEED, i, stream=1).random())
        del m["thermal_draw"]
        assert m == sim.with_thermal_draw(u).run(row["damage"]).metrics()
    # the end points are the calibrations
    damage = list(df["damage"].iloc[0])
    for u, cal in ((0.0, "fast"), (1.0, "slow")):
        q = tmp_path / f"{cal}.toml"
        q.write_text(p.read_text(encoding="utf-8") + f'[thermal]\ncalibration = "{cal}"\n')
        want = prepare(load_scenario(q)).simulator.run(damage)
        got = sim.with_thermal_draw(u).run(damage)
        np.testing.assert_allclose(got.temp_c, want.temp_c, rtol=0, atol=1e-9)
        assert got.metrics() == pytest.approx(want.metrics(), rel=1e-9, abs=1e-9)
    # u moves the cold, never the damage
    assert fixed.simulator.run(damage).people_without_power.max() == pytest.approx(
        sim.with_thermal_draw(0.3).run(damage).people_without_power.max()
    )
    hours = [
        sim.with_thermal_draw(u).run(damage).metrics()["person_hours_below_16c"]
        for u in (0, 0.5, 1)
    ]
    assert hours[0] >= hours[1] >= hours[2]
    assert hours[0] > hours[2]
