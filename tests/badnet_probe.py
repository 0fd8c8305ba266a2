"""Run by test_badnet inside a network namespace of its own (devstack.netns): UDP and TCP echo
servers on 127.0.0.1, probed through the bad wire (`python -m devstack.badnet`) and directly.
Prints one JSON object: what each probe saw, and the wire's counts."""

import json
import socket
import subprocess
import sys
import threading
import time

PINGS = 200
TCP_BYTES = 100_000

CLIENT = f"""
import json, socket, time
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.settimeout(0.02)
sent, rtts = {{}}, []
for i in range({PINGS}):
    sent[i] = time.monotonic()
    udp.sendto(str(i).encode(), ("127.0.0.1", 9999))
    try:
        data, _ = udp.recvfrom(64)
        rtts.append(time.monotonic() - sent[int(data)])
    except TimeoutError:
        pass
udp.settimeout(0.5)
try:
    while True:
        data, _ = udp.recvfrom(64)
        rtts.append(time.monotonic() - sent[int(data)])
except TimeoutError:
    pass
tcp = socket.create_connection(("127.0.0.1", 9998), timeout=30)
payload = bytes(range(256)) * ({TCP_BYTES} // 256)
tcp.sendall(payload)
echoed = b""
while len(echoed) < len(payload):
    echoed += tcp.recv(65536)
print(json.dumps({{"event": "probe", "echoed": len(rtts), "rtts": rtts,
                  "tcpIntact": echoed == payload}}), flush=True)
"""


def serve() -> None:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 9999))
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 9998))
    tcp.listen()

    def echo_tcp() -> None:
        conn, _ = tcp.accept()
        while data := conn.recv(65536):
            conn.sendall(data)

    def echo_udp() -> None:
        while True:
            data, peer = udp.recvfrom(64)
            udp.sendto(data, peer)

    threading.Thread(target=echo_tcp, daemon=True).start()
    threading.Thread(target=echo_udp, daemon=True).start()


def direct_rtt() -> float:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    started = time.monotonic()
    probe.sendto(b"0", ("127.0.0.1", 9999))
    probe.recvfrom(64)
    return time.monotonic() - started


def main() -> None:
    serve()
    wired = subprocess.run(
        [
            sys.executable,
            "-m",
            "devstack.badnet",
            *sys.argv[1:],
            "--",
            sys.executable,
            "-c",
            CLIENT,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    events = [json.loads(line) for line in wired.stdout.splitlines() if line.startswith("{")]
    result = {e["event"]: e for e in events}
    result["exitCode"] = wired.returncode
    result["stderr"] = wired.stderr[-2000:]
    result["directRtt"] = direct_rtt()
    print(json.dumps(result))


main()
