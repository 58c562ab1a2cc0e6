"""``infra/bench signaling | call-setup | booking | search | all`` (see bench/README.md)."""

from __future__ import annotations

import argparse
import asyncio
import logging

import booking_storm
import call_setup
import search
import signaling_relay


def main() -> int:
    parser = argparse.ArgumentParser(prog="infra/bench", description=__doc__)
    commands = parser.add_subparsers(dest="which", required=True)
    signaling = commands.add_parser("signaling", help="relay latency across two instances")
    signaling.add_argument("--rooms", type=int, default=100)
    signaling.add_argument("--rate", type=float, default=1000.0, help="messages per second")
    signaling.add_argument("--seconds", type=float, default=15.0)
    setup = commands.add_parser("call-setup", help="aiortc call setup across two instances")
    setup.add_argument("--calls", type=int, default=20)
    commands.add_parser("booking", help="booking storm over 10,000 doctors, 1,000,000 slots")
    commands.add_parser("search", help="storefront search over the same market")
    commands.add_parser("all", help="every benchmark, with its defaults")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    ok = True
    if args.which in ("signaling", "all"):
        result = asyncio.run(
            signaling_relay.run(
                getattr(args, "rooms", 100),
                getattr(args, "rate", 1000.0),
                getattr(args, "seconds", 15.0),
            )
        )
        ok = ok and result["ok"]
    if args.which in ("call-setup", "all"):
        result = asyncio.run(call_setup.run(getattr(args, "calls", 20)))
        ok = ok and result["failures"] == 0
    if args.which in ("booking", "all"):
        ok = asyncio.run(booking_storm.run())["ok"] is True and ok
    if args.which in ("search", "all"):
        asyncio.run(search.run())
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
