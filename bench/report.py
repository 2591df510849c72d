"""From raw figures to medians, ratios and the issue's targets, and the
tables printed at the end of a run.

Ratios are taken within one repetition (our figure ÷ the reference's in the
same repetition), then the median over repetitions is reported, so a machine
that drifts between repetitions moves both sides of each ratio alike.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

__all__ = ["summarize", "render"]

REFERENCE = "reference"
CONDUCTOR_WORKLOADS = ("info/instances", "create_post", "get_post")


def _median(values: Iterable[float | None]) -> float | None:
    found = [v for v in values if v is not None]
    return statistics.median(found) if found else None


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# -- throughput --------------------------------------------------------------------------------


def _throughput(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_key: dict[tuple[str, int, int], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_key[(row["workload"], row["conns"], row["inflight"])].append(row)
    ref = {(r["conns"], r["inflight"], r["rep"]): r for r in rows if r["workload"] == REFERENCE}
    out = []
    for (workload, conns, inflight), group in by_key.items():

        def ratios(field: str, conns: int = conns, inflight: int = inflight, group: list = group) -> float | None:
            return _median(
                _ratio(r[field], ref[(conns, inflight, r["rep"])][field])
                for r in group
                if (conns, inflight, r["rep"]) in ref
            )

        out.append(
            {
                "workload": workload,
                "conns": conns,
                "inflight": inflight,
                "reps": len(group),
                "cps": _r(_median(r["cps"] for r in group), 1),
                "cps_min": min(r["cps"] for r in group),
                "cps_max": max(r["cps"] for r in group),
                "p50_ms": _r(_median(r["p50_ms"] for r in group), 4),
                "p99_ms": _r(_median(r["p99_ms"] for r in group), 4),
                "p99_over_p50": _r(_median(r["p99_ms"] / r["p50_ms"] for r in group if r["p50_ms"] > 0)),
                "server_us_per_call": _r(_median(r["server_us_per_call"] for r in group), 2),
                "client_cpu_pct": _r(_median(r["client_cpu_pct"] for r in group), 1),
                "other_cpu_pct_max": max(r["other_cpu_pct"] for r in group),
                "bad": sum(r["bad"] for r in group),
                "cps_ratio": _r(ratios("cps")),
                "p50_ratio": _r(ratios("p50_ms")),
                "p99_ratio": _r(ratios("p99_ms")),
                "us_per_call_ratio": _r(ratios("server_us_per_call")),
            }
        )
    return out


def _pick(table: list[dict[str, Any]], workload: str, conns: int, inflight: int) -> dict[str, Any] | None:
    for row in table:
        if (row["workload"], row["conns"], row["inflight"]) == (workload, conns, inflight):
            return row
    return None


# -- targets -----------------------------------------------------------------------------------


def _target(name: str, target: str, values: dict[str, Any], met: bool | None, note: str = "") -> dict[str, Any]:
    return {"measure": name, "target": target, "values": values, "met": met, "note": note}


def _all_at_least(values: dict[str, float | None], bound: float) -> bool | None:
    found = [v for v in values.values() if v is not None]
    return None if not found else all(v >= bound for v in found)


def _all_at_most(values: dict[str, float | None], bound: float) -> bool | None:
    found = [v for v in values.values() if v is not None]
    return None if not found else all(v <= bound for v in found)


def _targets(summary: dict[str, Any], raw: dict[str, Any]) -> list[dict[str, Any]]:
    table = summary.get("throughput", [])
    targets = []

    def cps_ratios(workload: str) -> dict[str, float | None]:
        return {
            f"{c}x{n}": (_pick(table, workload, c, n) or {}).get("cps_ratio")
            for c, n in ((1, 32), (8, 8))
            if _pick(table, workload, c, n)
        }

    if table:
        v = cps_ratios("info/instances")
        targets.append(_target("info/instances calls/s ÷ reference, 1×32 and 8×8", "≥ 1.0×", v, _all_at_least(v, 1.0)))
        v = cps_ratios("create_post")
        targets.append(
            _target(
                "create_post calls/s ÷ reference (durable: fsync'd group commit)", "≥ 0.10×", v, _all_at_least(v, 0.10)
            )
        )
        v = cps_ratios("get_post")
        targets.append(_target("get_post calls/s ÷ reference", "≥ 0.4×", v, _all_at_least(v, 0.4)))
    inproc = summary.get("inprocess_vs_interface")
    if inproc:
        v = {k: row["ratio"] for k, row in inproc.items() if k in ("1x32", "8x8")}
        targets.append(
            _target(
                "create_post through the interface ÷ the same commit in process (same calls in flight)",
                "≥ 0.70",
                v,
                _all_at_least(v, 0.70),
            )
        )
    if table:
        v = {w: (_pick(table, w, 8, 8) or {}).get("p99_over_p50") for w in CONDUCTOR_WORKLOADS if _pick(table, w, 8, 8)}
        targets.append(_target("p99 ÷ p50 latency at 8×8", "≤ 3", v, _all_at_most(v, 3.0)))
    chain = summary.get("chain_length")
    if chain:
        v = {"cost (1/calls/s) at 8×8": chain.get("cost_ratio_8x8"), "p50 at 1×1": chain.get("p50_ratio_1x1")}
        targets.append(
            _target(
                f"commit cost at chain length {chain['long']:,} ÷ at {chain['short']:,}",
                "≤ 1.1×",
                v,
                _all_at_most(v, 1.1),
            )
        )
    hammers = summary.get("hammer")
    if hammers:
        big = max(hammers["sizes"])
        v = {
            "all Ok": hammers["all_ok"],
            "chain linear": hammers["linear"],
            "every post stored once": hammers["complete"],
            f"wall ms (median, {big:,})": hammers["wall_ms"].get(str(big)),
        }
        met = hammers["all_ok"] and hammers["linear"] and hammers["complete"]
        note = "" if big >= 10_000 else f"this run hammered at most {big:,}"
        targets.append(
            _target(
                f"zome-hammer {big:,} concurrent",
                "all Ok, chain linear, no error",
                v,
                met if big >= 10_000 else None,
                note,
            )
        )
    start = summary.get("startup")
    if start:
        v = {"first reply": start.get("first_reply_ratio"), "accepts": start.get("accept_ratio")}
        targets.append(
            _target(
                "hc run ready ÷ bare Python WebSocket server start",
                "≤ 3×",
                v,
                _all_at_most({"r": start.get("first_reply_ratio")}, 3.0),
            )
        )
        v = {
            "ratio": start.get("idle_rss_ratio"),
            "hc run MB": start.get("hc_idle_rss_mb"),
            "bare MB": start.get("bare_idle_rss_mb"),
        }
        targets.append(
            _target(
                "idle conductor RSS ÷ bare Python WebSocket server",
                "≤ 1.5×",
                v,
                _all_at_most({"r": start.get("idle_rss_ratio")}, 1.5),
            )
        )
    mem = summary.get("memory")
    if mem:
        v = {"MB per extra instance": mem.get("mb_per_instance")}
        targets.append(
            _target(
                "RSS per extra instance (SQLite-backed)",
                "≤ 1 MB",
                v,
                _all_at_most({"r": mem.get("mb_per_instance")}, 1.0),
            )
        )
    many = summary.get("instances")
    if many:
        v = {f"{k} ({m['count']} vs 1)": m["ratio"] for k, m in many.items()}
        targets.append(
            _target(
                "many instances committing at once: total calls/s ÷ one instance alone",
                "≥ 1.0×",
                v,
                _all_at_least(v, 1.0),
            )
        )
    rows = summary.get("growth")
    if rows:
        v = {f"{r['store']}: {r['row']}": r["ratio"] for r in rows}
        targets.append(
            _target("cost per call after N ÷ first 100 (every growth row)", "≤ 1.2×", v, _all_at_most(v, 1.2))
        )
    return targets


# -- summary -----------------------------------------------------------------------------------


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    if raw.get("throughput"):
        summary["throughput"] = _throughput(raw["throughput"])
    if raw.get("inprocess"):
        by_k: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in raw["inprocess"]:
            by_k[row["inflight"]].append(row)
        summary["inprocess"] = [
            {
                "inflight": k,
                "cps": _r(_median(r["cps"] for r in g), 1),
                "p50_ms": _r(_median(r["p50_ms"] for r in g), 4),
                "p99_ms": _r(_median(r["p99_ms"] for r in g), 4),
                "cpu_us_per_call": _r(_median(r["cpu_us_per_call"] for r in g), 2),
                "other_cpu_pct_max": max(r.get("other_cpu_pct", 0) for r in g),
            }
            for k, g in sorted(by_k.items())
        ]
        if raw.get("throughput"):
            inter = {
                (r["conns"], r["inflight"], r["rep"]): r for r in raw["throughput"] if r["workload"] == "create_post"
            }
            mine = {(r["inflight"], r["rep"]): r for r in raw["inprocess"]}
            cmp = {}
            for c, n in sorted({(c, n) for c, n, _ in inter}):
                pairs = [
                    (inter[(c, n, rep)], mine[(c * n, rep)])
                    for (cc, nn, rep) in inter
                    if (cc, nn) == (c, n) and (c * n, rep) in mine
                ]
                if pairs:
                    cmp[f"{c}x{n}"] = {
                        "in_flight": c * n,
                        "ratio": _r(_median(a["cps"] / b["cps"] for a, b in pairs)),
                        "interface_cps": _r(_median(a["cps"] for a, _ in pairs), 1),
                        "inprocess_cps": _r(_median(b["cps"] for _, b in pairs), 1),
                    }
            summary["inprocess_vs_interface"] = cmp
    if raw.get("chain"):
        rows = raw["chain"]["rows"]
        lengths = sorted({r["chain_length"] for r in rows})
        short, long_ = lengths[0], lengths[-1]

        def at(length: int, c: int, n: int, field: str) -> dict[int, float]:
            return {
                r["rep"]: r[field] for r in rows if (r["chain_length"], r["conns"], r["inflight"]) == (length, c, n)
            }

        s8, l8 = at(short, 8, 8, "cps"), at(long_, 8, 8, "cps")
        s1, l1 = at(short, 1, 1, "p50_ms"), at(long_, 1, 1, "p50_ms")
        su, lu = at(short, 8, 8, "server_us_per_call"), at(long_, 8, 8, "server_us_per_call")
        built = raw["chain"]["built"]
        summary["chain_length"] = {
            "short": short,
            "long": long_,
            "cps_8x8": {"short": _median(s8.values()), "long": _median(l8.values())},
            "p50_ms_1x1": {"short": _median(s1.values()), "long": _median(l1.values())},
            "cost_ratio_8x8": _r(_median(s8[k] / l8[k] for k in s8 if k in l8)),
            "p50_ratio_1x1": _r(_median(l1[k] / s1[k] for k in s1 if k in l1)),
            "us_per_call_ratio_8x8": _r(_median(lu[k] / su[k] for k in su if k in lu)),
            "ready_s": {
                "short": _median(r["ready_s"] for r in rows if r["chain_length"] == short),
                "long": _median(r["ready_s"] for r in rows if r["chain_length"] == long_),
            },
            "inprocess_build_us_per_commit": {
                k: (v["first_window_us_per_commit"], v["last_window_us_per_commit"]) for k, v in built.items()
            },
        }
    if raw.get("hammer"):
        runs = raw["hammer"]
        sizes = sorted({b["n"] for r in runs for b in r["bursts"]})
        summary["hammer"] = {
            "sizes": sizes,
            "reps": len(runs),
            "all_ok": all(b["ok"] == b["n"] and not b["timed_out"] for r in runs for b in r["bursts"]),
            "linear": all(r["chain"]["linear"] for r in runs),
            "complete": all(r["posts_stored"] == r["posts_expected"] for r in runs),
            "wall_ms": {
                str(n): _r(_median(1e3 * b["secs"] for r in runs for b in r["bursts"] if b["n"] == n), 1) for n in sizes
            },
            "cps": {str(n): _r(_median(b["cps"] for r in runs for b in r["bursts"] if b["n"] == n), 1) for n in sizes},
        }
    if raw.get("startup"):
        rows = raw["startup"]
        reps = sorted({r["rep"] for r in rows})
        get = {(r["server"], r["rep"]): r for r in rows}

        def ratio(kind: str, field: str) -> float | None:
            return _r(
                _median(
                    get[(kind, k)][field] / get[("bare", k)][field]
                    for k in reps
                    if (kind, k) in get and ("bare", k) in get
                )
            )

        med = {
            kind: {
                f: _r(_median(r[f] for r in rows if r["server"] == kind), 4)
                for f in ("accept_s", "first_reply_s", "idle_rss_mb")
            }
            for kind in sorted({r["server"] for r in rows})
        }
        summary["startup"] = {
            "medians": med,
            "accept_ratio": ratio("hc run", "accept_s"),
            "first_reply_ratio": ratio("hc run", "first_reply_s"),
            "persist_first_reply_ratio": ratio("hc run --persist", "first_reply_s"),
            "idle_rss_ratio": ratio("hc run", "idle_rss_mb"),
            "hc_idle_rss_mb": med.get("hc run", {}).get("idle_rss_mb"),
            "bare_idle_rss_mb": med.get("bare", {}).get("idle_rss_mb"),
        }
    if raw.get("memory"):
        rows = raw["memory"]
        counts = sorted({r["instances"] for r in rows})
        lo, hi = counts[0], counts[-1]
        per = [
            (b["rss_mb"] - a["rss_mb"]) / (hi - lo)
            for a in rows
            for b in rows
            if a["rep"] == b["rep"] and a["instances"] == lo and b["instances"] == hi
        ]
        summary["memory"] = {
            "instances": [lo, hi],
            "mb_per_instance": _r(_median(per)),
            "rss_mb": {str(c): _r(_median(r["rss_mb"] for r in rows if r["instances"] == c), 2) for c in counts},
        }
    if raw.get("instances"):
        rows = raw["instances"]
        summary["instances"] = {
            kind: {
                "count": rows[0]["count"],
                "ratio": _r(_median(r["many"]["cps"] / r["one"]["cps"] for r in rows if r["kind"] == kind)),
                "one_cps": _r(_median(r["one"]["cps"] for r in rows if r["kind"] == kind), 1),
                "many_cps": _r(_median(r["many"]["cps"] for r in rows if r["kind"] == kind), 1),
            }
            for kind in sorted({r["kind"] for r in rows})
        }
    if raw.get("growth"):
        summary["growth"] = raw["growth"]
    if raw.get("encryption"):
        summary["encryption"] = summarize_encryption(raw["encryption"])
    summary["targets"] = _targets(summary, raw)
    return summary


# -- rendering ---------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def render(summary: dict[str, Any]) -> str:
    lines: list[str] = []
    table = summary.get("throughput")
    if table:
        lines += [
            "",
            "Throughput (medians; ratios ÷ the reference in the same repetition)",
            "",
            "| workload | load | calls/s | ×ref | p50 ms | ×ref | p99 ms | ×ref | p99/p50 | server µs/call | ×ref "
            "| client CPU % | other CPU % (max) | bad |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        order = {
            w: i
            for i, w in enumerate(
                [REFERENCE, "bare aiohttp", "info/instances", "create_post (memory store)", "create_post", "get_post"]
            )
        }
        for row in sorted(table, key=lambda r: (order.get(r["workload"], 99), r["conns"], r["inflight"])):
            lines.append(
                f"| {row['workload']} | {row['conns']}×{row['inflight']} | {row['cps']:,.0f} | {_fmt(row['cps_ratio'])} "
                f"| {row['p50_ms']:.3f} | {_fmt(row['p50_ratio'])} | {row['p99_ms']:.3f} | {_fmt(row['p99_ratio'])} "
                f"| {_fmt(row['p99_over_p50'])} | {row['server_us_per_call']:.1f} | {_fmt(row['us_per_call_ratio'])} "
                f"| {row['client_cpu_pct']:.0f} | {row['other_cpu_pct_max']:.0f} | {row['bad']} |"
            )
    if summary.get("inprocess"):
        lines += [
            "",
            "create_post in process (Instance.call loop, SQLite synchronous=FULL, group commit)",
            "",
            "| calls in flight | calls/s | p50 ms | p99 ms | CPU µs/call | other CPU % (max) |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for row in summary["inprocess"]:
            lines.append(
                f"| {row['inflight']} | {row['cps']:,.0f} | {row['p50_ms']:.3f} | {row['p99_ms']:.3f} "
                f"| {row['cpu_us_per_call']:.1f} | {row['other_cpu_pct_max']:.0f} |"
            )
    chain = summary.get("chain_length")
    if chain:
        lines += [
            "",
            f"Chain length {chain['short']:,} vs {chain['long']:,}: create_post 8×8 "
            f"{_fmt(chain['cps_8x8']['short'], 0)} vs {_fmt(chain['cps_8x8']['long'], 0)} calls/s, "
            f"1×1 p50 {_fmt(chain['p50_ms_1x1']['short'], 3)} vs {_fmt(chain['p50_ms_1x1']['long'], 3)} ms; "
            f"hc run ready in {_fmt(chain['ready_s']['short'])} vs {_fmt(chain['ready_s']['long'])} s "
            f"(loads and verifies the chain)",
        ]
    if summary.get("hammer"):
        h = summary["hammer"]
        lines += [
            "",
            "Zome-hammer: "
            + ", ".join(f"{int(n):,} at once in {_fmt(ms, 0)} ms" for n, ms in h["wall_ms"].items())
            + f"; all Ok: {_fmt(h['all_ok'])}, chain linear: {_fmt(h['linear'])}, "
            f"every post stored once: {_fmt(h['complete'])}",
        ]
    if summary.get("startup"):
        s = summary["startup"]["medians"]
        lines += [
            "",
            "Start-up (spawn → first reply) and idle RSS: "
            + "; ".join(f"{k} {_fmt(v['first_reply_s'], 3)} s, {_fmt(v['idle_rss_mb'], 1)} MB" for k, v in s.items()),
        ]
    if summary.get("memory"):
        m = summary["memory"]
        lines += [
            "",
            "holochain -c RSS: "
            + ", ".join(f"{k} instance(s) {v} MB" for k, v in m["rss_mb"].items())
            + f" → {_fmt(m['mb_per_instance'])} MB per extra instance",
        ]
    if summary.get("growth"):
        from .growth import render as render_growth

        lines += ["", "Cost per call as data grows (CPU µs: event loop + writer; fresh and grown data alternated)", ""]
        lines += ["    " + line for line in render_growth(summary["growth"]).splitlines()]
    if summary.get("instances"):
        lines += [
            "",
            "Instances committing at once: "
            + "; ".join(
                f"{kind}: {m['count']} at once {_fmt(m['many_cps'], 0)} calls/s vs one alone {_fmt(m['one_cps'], 0)}"
                f" (×{_fmt(m['ratio'])})"
                for kind, m in summary["instances"].items()
            ),
        ]
    if summary.get("encryption"):
        lines += render_encryption(summary["encryption"])
    if summary.get("targets"):
        lines += ["", "Targets (issues 6 and 16)", "", "| measure | target | measured | met |", "|---|---|---|---|"]
        for t in summary["targets"]:
            values = ", ".join(
                f"{k}: {_fmt(v, 3) if isinstance(v, float) else _fmt(v)}" for k, v in t["values"].items()
            )
            met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
            note = f" ({t['note']})" if t["note"] else ""
            lines.append(f"| {t['measure']} | {t['target']} | {values} | {met}{note} |")
    return "\n".join(lines) + "\n"


# -- the encryption section ---------------------------------------------------------------


def summarize_encryption(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per workload and load: medians, and encrypted ÷ plain within each repetition."""
    by = {(r["workload"], r["conns"], r["inflight"], r["store"], r["rep"]): r for r in rows}
    out = []
    for workload, conns, inflight in sorted({(r["workload"], r["conns"], r["inflight"]) for r in rows}):
        pairs = [
            (by[(workload, conns, inflight, "encrypted", rep)], by[(workload, conns, inflight, "plain", rep)])
            for rep in sorted({r["rep"] for r in rows})
            if (workload, conns, inflight, "encrypted", rep) in by and (workload, conns, inflight, "plain", rep) in by
        ]
        if not pairs:
            continue
        out.append(
            {
                "workload": workload,
                "conns": conns,
                "inflight": inflight,
                "plain_cps": round(statistics.median(p["cps"] for _, p in pairs), 1),
                "encrypted_cps": round(statistics.median(e["cps"] for e, _ in pairs), 1),
                "cps_ratio": round(statistics.median(e["cps"] / p["cps"] for e, p in pairs if p["cps"]), 3),
                "p50_ratio": round(statistics.median(e["p50_ms"] / p["p50_ms"] for e, p in pairs if p["p50_ms"]), 3),
                "us_per_call_ratio": round(
                    statistics.median(
                        e["server_us_per_call"] / p["server_us_per_call"] for e, p in pairs if p["server_us_per_call"]
                    ),
                    3,
                ),
                "first_reply_ratio": round(
                    statistics.median(e["first_reply_s"] / p["first_reply_s"] for e, p in pairs), 3
                ),
            }
        )
    return out


def render_encryption(table: list[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "Encrypted (SQLCipher) store ÷ plain store (medians; ratios within each repetition)",
        "",
        "| workload | load | plain calls/s | encrypted calls/s | ×plain calls/s | ×plain p50 | ×plain server µs/call "
        "| ×plain first reply |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in table:
        lines.append(
            f"| {row['workload']} | {row['conns']}×{row['inflight']} | {row['plain_cps']:,.0f} "
            f"| {row['encrypted_cps']:,.0f} | {row['cps_ratio']:.2f} | {row['p50_ratio']:.2f} "
            f"| {row['us_per_call_ratio']:.2f} | {row['first_reply_ratio']:.2f} |"
        )
    return lines
