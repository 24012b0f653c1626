#!/usr/bin/env python3
"""Turns the bench's JSON lines into the README's Performance tables, so no figure there is typed by hand.

    python3 bench/report.py bench/results/<file>.jsonl                   # print the markdown
    python3 bench/report.py bench/results/<file>.jsonl --update README.md  # replace the marked section
"""
import json
import sys

BEGIN, END = "<!-- PERFORMANCE-TABLE -->", "<!-- /PERFORMANCE-TABLE -->"


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip().startswith("{")]


def find(rows, backend, workload, concurrency=None):
    for r in rows:
        if r["backend"] == backend and r["workload"] == workload and (concurrency is None or r["concurrency"] == concurrency):
            return r
    return None


def num(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def targets(rows):
    out = ["| workload | target | measured | met |", "|---|---|---|---|"]

    def row(label, target, value, text, ok):
        out.append(f"| {label} | {target} | {text if value is not None else 'not measured in this run'} | "
                   f"{'–' if value is None else 'yes' if ok(value) else 'no'} |")

    # Issue 17 (write path, round two): ratios to the pgbench ceiling measured in the same run.
    r = find(rows, "postgres", "linear")
    row("linear-4, postgres, C=64: checkpoints/s ÷ pgbench one-row upsert TPS", "≥ 0.5", r and r.get("checkpoints_fraction_of_ceiling"),
        r and f"{num(r.get('checkpoints_fraction_of_ceiling'), 2)} ({num(r.get('checkpoints_per_s'))} ckpt/s ÷ {num(r.get('ceiling_tps'))} tps)",
        lambda v: v >= 0.5)
    row("linear-4, postgres: PostgreSQL transactions per task (`pg_xacts_per_run` ÷ S)", "≤ 0.75",
        r and r.get("pg_xacts_per_run") and r["pg_xacts_per_run"] / r["steps"],
        r and r.get("pg_xacts_per_run") and f"{num(r['pg_xacts_per_run'] / r['steps'], 2)} ({num(r['pg_xacts_per_run'], 2)} per run)", lambda v: v <= 0.75)
    r = find(rows, "postgres", "latency")
    row("linear-4, postgres, C=1: per-step p50", "≤ 0.8 ms", r and r.get("step_p50_ms"), r and f"{num(r.get('step_p50_ms'), 2)} ms", lambda v: v <= 0.8)
    r = find(rows, "postgres", "signal", 1000)
    row("signal, postgres, 1,000 signals at once: p50 signal → completion", "≤ 100 ms", r and r.get("signal_p50_ms"),
        r and f"{num(r.get('signal_p50_ms'), 1)} ms", lambda v: v <= 100)
    r = find(rows, "memory", "linear")
    row("linear-4, memory, C=64", "≥ 40,000 tasks/s", r and r["tasks_per_s"], r and f"{num(r['tasks_per_s'])} tasks/s", lambda v: v >= 40000)
    r = find(rows, "memory", "fanout")
    row("fanout-10, memory, C=32", "≥ 6,000 runs/s", r and r["wf_per_s"], r and f"{num(r['wf_per_s'])} runs/s", lambda v: v >= 6000)
    r = find(rows, "postgres", "longchain")
    if r:
        out.append(f"| longchain, postgres, {num(r['steps'])} steps | for reference | {num(r.get('wal_bytes_per_checkpoint'))} B of WAL per "
                   f"checkpoint on average; final state {num(r.get('state_bytes_avg'))} B | – |")

    r = find(rows, "postgres", "linear")
    row("linear-4, postgres (C=64)", "≥ 5,000 tasks/s", r and r["tasks_per_s"], r and f"{num(r['tasks_per_s'])} tasks/s", lambda v: v >= 5000)
    r = find(rows, "postgres", "latency")
    row("linear-4, postgres, per-step p50 at C=1", "≤ 1 ms", r and r.get("step_p50_ms"), r and f"{num(r.get('step_p50_ms'), 2)} ms", lambda v: v <= 1)
    r = find(rows, "postgres", "fanout")
    row("fanout-10, postgres (C=32)", "≥ 500 runs/s", r and r["wf_per_s"], r and f"{num(r['wf_per_s'])} runs/s", lambda v: v >= 500)
    r = find(rows, "memory", "linear")
    row("linear-4, memory (C=64)", "≥ 30,000 tasks/s", r and r["tasks_per_s"], r and f"{num(r['tasks_per_s'])} tasks/s", lambda v: v >= 30000)
    r = find(rows, "postgres", "signal", 1)
    row("signal, postgres, one signal at a time", "signal → completion p50 ≤ 5 ms", r and r.get("signal_p50_ms"),
        r and f"{num(r.get('signal_p50_ms'), 2)} ms (p99 {num(r.get('signal_p99_ms'), 2)} ms)", lambda v: v <= 5)
    r = find(rows, "postgres", "signal", 1000) or find(rows, "postgres", "signal")
    if r and r["concurrency"] != 1:
        out.append(f"| signal, postgres, all {r['workflows']:,} signals at once (the shared workload) | for reference | "
                   f"p50 {num(r.get('signal_p50_ms'), 1)} ms, p99 {num(r.get('signal_p99_ms'), 1)} ms: the last signal waits behind "
                   f"{num(r['workflows'] * 2)} checkpoints, {num(r['wf_per_s'])} runs/s | – |")
    for backend in ("postgres", "memory"):
        r = find(rows, backend, "sleeping")
        if r is None:
            continue
        row(f"sleeping {num(r and r['workflows'])} × {r and r.get('delay_s')} s, {backend}", "wake lateness p99 ≤ 1 s",
            r and r.get("wake_p99_ms"),
            r and (f"p99 {num(r.get('wake_p99_ms'))} ms; RSS {num(r.get('rss_mb'))} MB with {num(r.get('parked_peak'))} runs parked "
                   f"(≈{num(r.get('kb_per_parked_run'), 1)} KB each)"), lambda v: v <= 1000)
    r = find(rows, "postgres", "bigstate")
    if r:
        row("bytes per checkpoint, 50 steps × 10 KB outputs, postgres", "proportional to the new output",
        r and r.get("wal_bytes_per_checkpoint"),
        r and (f"{num(r.get('wal_bytes_per_checkpoint') / 1024, 1)} KB of WAL per checkpoint on average over 50 steps "
               f"(state row + archived output, base64 in JSON)"), lambda v: v < 4 * 10240)
    r = find(rows, "postgres", "recovery")
    if r:
        row("recovery, postgres, kill -9 of a silo", "progress ≤ 5 s after the silo is declared dead; 0 runs lost",
        r and r.get("kill_to_progress_max_s"),
        r and (f"kill → progress max {num(r.get('kill_to_progress_max_s'), 2)} s (detection included); "
               f"{r['workflows'] - r.get('runs_lost', 0)}/{r['workflows']} runs done"), lambda v: v <= 5)
    return out


def all_rows(rows):
    out = ["| backend | workload | W | S | K | C | runs/s | tasks/s | p50 ms | p99 ms | ckpt/s | notes |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        key = {"signal": "p50/p99: signal → completion", "sleeping": "p50/p99: wake lateness",
               "recovery": "p50/p99: kill → first progress (median/max)"}.get(r["workload"], "p50/p99: run latency")
        if r.get("checkpoints_fraction_of_ceiling") is not None:
            key += f"; checkpoints = {r['checkpoints_fraction_of_ceiling']:.2f} × pgbench ({num(r.get('ceiling_tps'))} tps)"
        if r.get("pg_xacts_per_run") is not None:
            key += f"; {num(r['pg_xacts_per_run'], 2)} PostgreSQL transactions per run"
        if "load " in r.get("notes", ""):
            key += f"; load {r['notes'].split('load ')[-1].split(' ')[0]}"
        out.append(f"| {r['backend']} | {r['workload']} | {r['workflows']} | {r['steps']} | {r['branches']} | {r['concurrency']} | "
                   f"{num(r['wf_per_s'], 1)} | {num(r['tasks_per_s'], 1)} | {num(r['p50_ms'], 2)} | {num(r['p99_ms'], 2)} | "
                   f"{num(r.get('checkpoints_per_s'))} | {key} |")
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    path = sys.argv[1]
    rows = load(path)
    pg = next((r for r in rows if r["backend"] == "postgres" and "pg_xacts_per_run" in r), None)
    machine = f"{rows[0]['notes'].split('; ')[-1].split(', load')[0]}, everything on one machine"
    database = "; ".join(n for n in pg["notes"].split("; ") if not n.startswith(("1 silo", "tiered", "2 cores"))) if pg else "–"
    lines = [BEGIN, "",
             f"Figures from `{path}`, generated with `python3 bench/report.py {path} --update README.md`. "
             f"Machine: {machine} (client, silo and PostgreSQL share the cores). PostgreSQL: {database}. "
             "One co-hosted silo; the bench host runs with tiered compilation off (see bench/README.md).", "",
             "**Targets**", ""] + targets(rows) + ["", "**Every run**", ""] + all_rows(rows) + ["", END]
    text = "\n".join(lines)
    if len(sys.argv) >= 4 and sys.argv[2] == "--update":
        readme = sys.argv[3]
        with open(readme, encoding="utf-8") as f:
            content = f.read()
        start = content.index(BEGIN)
        end = content.index(END) + len(END) if END in content else start + len(BEGIN)
        with open(readme, "w", encoding="utf-8") as f:
            f.write(content[:start] + text + content[end:])
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
