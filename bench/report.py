"""The table `make bench` prints, from the results JSON."""

from typing import Any


def _row(cells: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"


def _render(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [_row(header, widths), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join([*lines, *(_row(r, widths) for r in rows)])


def table(results: dict[str, Any]) -> str:
    rows: list[list[str]] = []
    if token := results.get("token"):
        for key, label in (
            ("ours_free_practice", "token endpoint, free practice (ours)"),
            ("ours_assignment", "token endpoint, assignment (ours, DB lookup)"),
            ("node_peer_free_practice", "token endpoint (Node peer)"),
        ):
            r = token[key]
            rows.append(
                [
                    label,
                    f"{r['requests_per_s']:,.0f} req/s",
                    f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms",
                ]
            )
        rows.append(
            [
                "token endpoint, ours / peer",
                f"{token['ratio_rps_free_practice']:.2f}x req/s",
                f"p99 {token['ratio_p99_free_practice']:.2f}x",
            ]
        )
    for name, r in results.get("servers", {}).items():
        rows.append(
            [
                f"ASGI server: {name}",
                f"{r['requests_per_s']:,.0f} req/s",
                f"p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms",
            ]
        )
    if mint := results.get("mint"):
        rows.append(
            [
                "minting (ours)",
                f"{mint['ours_tokens_per_s']:,.0f} tokens/s",
                f"{mint['ours_us_per_token']:.1f} us/token",
            ]
        )
        rows.append(
            [
                "minting (livekit-api to_jwt)",
                f"{mint['livekit_api_tokens_per_s']:,.0f} tokens/s",
                f"{mint['livekit_api_us_per_token']:.1f} us/token",
            ]
        )
    if calls := results.get("calls"):
        for key, label in (
            ("join_to_session_id_ms", "join -> session.id"),
            ("click_to_session_id_ms", "token request -> session.id"),
            ("hangup_to_transcript_ms", "hang-up -> transcript stored"),
            ("hangup_to_evaluation_ms", "hang-up -> evaluation 200"),
        ):
            r = calls[key]
            rows.append([label, f"p50 {r['p50']:.0f} ms", f"p95 {r['p95']:.0f} ms (n={r['n']})"])
    for key, where in (
        ("concurrency", "all on 2 cores"),
        ("dedicated", "worker alone on 1 core"),
    ):
        if conc := results.get(key):
            for step in conc["steps"]:
                rows.append(
                    [
                        f"{step['calls']} simultaneous calls, {where}",
                        "ok" if step["ok"] else "FAILED",
                        f"worker {step['cpu_per_call_pct']:.1f}% of a core and "
                        f"{step['memory_per_call_mb']:.0f} MB per call, "
                        f"session.id p95 {step['session_id_p95_ms']:.0f} ms, "
                        f"reply p50 {step['said_to_reply_p50_ms']:.0f} / "
                        f"p95 {step['said_to_reply_p95_ms']:.0f} ms, "
                        f"machine {step['machine_busy_pct']:.0f}% busy",
                    ]
                )
            rows.append([f"largest N with every call ok, {where}", str(conc["largest_ok"]), ""])
    if cost := results.get("cost"):
        for phase in ("listening", "speaking"):
            r = cost[phase]
            native = ", ".join(f"{k} {v:.1f}" for k, v in list(r["native_threads_pct"].items())[:3])
            rows.append(
                [
                    f"a running call, caller {phase} ({cost['calls']} calls)",
                    f"{r['per_call_pct']:.1f}% of a core",
                    f"Python {r['python_pct']:.1f}%, native {r['native_pct']:.1f}% ({native})",
                ]
            )
    if bulk := results.get("bulk"):
        rows.append(
            [
                f"transcript insert, {bulk['turns']} turns",
                f"{bulk['first_ms_median']:.1f} ms",
                f"re-send {bulk['resend_ms_median']:.1f} ms (median of {bulk['rounds']})",
            ]
        )
    machine = results["machine"]
    return f"{machine['cpu']}, {machine['cores']} cores, Python {machine['python']}\n\n" + _render(
        ["measure", "result", "detail"], rows
    )
