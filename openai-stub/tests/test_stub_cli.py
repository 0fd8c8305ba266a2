"""`python -m openai_stub` as a process: ready line, script file, SIGTERM."""

import asyncio
import json
import re
import signal
import sys
from pathlib import Path

import aiohttp


async def stub_process(script: Path, *options: str) -> asyncio.subprocess.Process:
    """`python -m openai_stub` on a free port with `script`, its output piped."""
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "openai_stub", "--port", "0", "--script", str(script), *options),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"replies": ["from the file"]}))
    proc = await stub_process(script, "--reply-ms", "700", "--log-level", "WARNING")
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), timeout=15)).decode()
        match = re.fullmatch(r"openai-stub listening on (http://127\.0\.0\.1:\d+)/v1\n", line)
        assert match, line
        async with (
            aiohttp.ClientSession() as http,
            http.get(match.group(1) + "/_stub/state") as response,
        ):
            state = await response.json()
        assert state["script"]["replies"] == ["from the file"]
        assert state["script"]["reply_ms"] == 700
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), timeout=10) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_cli_refuses_a_bad_script(tmp_path: Path) -> None:
    script = tmp_path / "script.json"
    script.write_text('{"replies": []}')
    proc = await stub_process(script)
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=15)
    assert proc.returncode == 2
    assert b"replies" in stderr
