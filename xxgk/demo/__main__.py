"""Serve the demo sites on loopback until interrupted, printing their `[[sites]]` config.

    python -m xxgk.demo                      # the four fixture sites
    python -m xxgk.demo --many 1000          # the benchmark's 1,000 small sites
    python -m xxgk.demo --port 8123 --config sites.toml

The config goes to stdout (or to --config), as TOML `[[sites]]` tables (the crawler needs
`[crawler] allow_private_addresses = true` besides: the sites are on loopback), and a line
"serving N sites on port P" to stderr once the server listens – so a benchmark can run the
server in its own process.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from . import DemoServer, default_sites, many_sites, sites_config


def _toml_value(value) -> str:
    if isinstance(value, list):
        return f"[{', '.join(json.dumps(v, ensure_ascii=False) for v in value)}]"
    return json.dumps(value, ensure_ascii=False)


def to_toml(entries: list[dict]) -> str:
    """`[[sites]]` tables for entries of strings and lists of strings, a dict value (the
    hints) as the site's sub-table."""
    lines = ["# Sites on loopback: crawl them with [crawler] allow_private_addresses = true", ""]
    for entry in entries:
        lines.append("[[sites]]")
        tables = {k: v for k, v in entry.items() if isinstance(v, dict)}
        for key, value in entry.items():
            if key not in tables:
                lines.append(f"{key} = {_toml_value(value)}")
        for key, table in tables.items():
            lines.append(f"[sites.{key}]")
            lines.extend(f"{k} = {_toml_value(v)}" for k, v in table.items())
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xxgk.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--many", type=int, default=0, help="serve N small benchmark sites instead")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --many sites")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--slow-delay", type=float, default=2.0, help="seconds the slow page waits")
    parser.add_argument("--config", type=Path, help="write the [[sites]] config here instead of stdout")
    args = parser.parse_args(argv)

    sites = many_sites(args.many, seed=args.seed) if args.many else default_sites()
    srv = DemoServer(sites, port=args.port, slow_delay=args.slow_delay, warm=not args.many).start()
    toml = to_toml(sites_config(srv))
    if args.config:
        args.config.write_text(toml, encoding="utf-8")
    else:
        sys.stdout.write(toml)
        sys.stdout.flush()
    if args.many:
        srv.prerender()  # a benchmark must time the crawler, not this server rendering pages on demand
    print(f"serving {len(sites)} sites on port {srv.port} (127.0.0.2 …); Ctrl-C to stop", file=sys.stderr, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
